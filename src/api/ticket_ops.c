/*
 * ticket_ops.c -- /api/v1/tickets/{id}/...: transfer, escalate, merge and
 * unmerge, split, links; bulk updates.
 */
#include "../core/ticket_search.h"
#include "input.h"
#include "ticket_common.h"

/* Runs op on a visible ticket inside the request's transaction, audits it
 * as `action` with the body as detail, replies with the ticket. */
typedef int (*ticket_op)(struct req *r, int64_t id, const json_t *body,
			 const struct ticket_actor *a, int64_t *reply_id, struct err *e);

static void run_op(struct req *r, const char *action, int status, ticket_op op)
{
	int64_t id, reply_id;
	if (api_ticket_id(r, &id) < 0)
		return;
	json_t *body = req_json(r);
	if (!body)
		return;
	struct err e = {0};
	struct ticket_actor a = api_ticket_actor(r);
	reply_id = id;
	if (api_begin(r) == 0) {
		if (op(r, id, body, &a, &reply_id, &e) < 0) {
			if (e.status)
				api_fail(r, &e);
		} else if (api_audit(r, action, "ticket", id, body) == 0) {
			api_reply_ticket(r, status, reply_id);
		}
	}
	json_decref(body);
}

/* An optional id field: -1 when absent. */
static int opt_id(const json_t *body, const char *key, int64_t *out, struct err *e)
{
	*out = -1;
	return in_int(body, key, 0, out, e);
}

static int op_transfer(struct req *r, int64_t id, const json_t *body,
		       const struct ticket_actor *a, int64_t *reply_id, struct err *e)
{
	static const char *const keys[] = {"assignee_id", "team_id", "note", NULL};
	int64_t assignee, team;
	const char *note;
	(void)reply_id;
	if (in_keys(body, keys, e) < 0 || opt_id(body, "assignee_id", &assignee, e) < 0 ||
	    opt_id(body, "team_id", &team, e) < 0 || in_str(body, "note", 0, &note, e) < 0)
		return -1;
	if (api_may_assign(r, assignee) < 0)
		return -1;
	return ticket_transfer(api_scope(r), a, id, assignee, team, note, e);
}

static int op_escalate(struct req *r, int64_t id, const json_t *body,
		       const struct ticket_actor *a, int64_t *reply_id, struct err *e)
{
	static const char *const keys[] = {"team_id", "note", NULL};
	int64_t team;
	const char *note;
	(void)reply_id;
	if (in_keys(body, keys, e) < 0 || opt_id(body, "team_id", &team, e) < 0 ||
	    in_str(body, "note", 0, &note, e) < 0)
		return -1;
	return ticket_escalate(api_scope(r), a, id, team, note, e);
}

static int op_merge(struct req *r, int64_t id, const json_t *body,
		    const struct ticket_actor *a, int64_t *reply_id, struct err *e)
{
	static const char *const keys[] = {"into", NULL};
	int64_t into;
	if (in_keys(body, keys, e) < 0 || in_int(body, "into", 1, &into, e) < 0)
		return -1;
	if (ticket_visible(api_scope(r), &api_ctx(r)->who, into, e) < 0)
		return -1;
	*reply_id = into;
	return ticket_merge(api_scope(r), a, id, into, e);
}

static int op_unmerge(struct req *r, int64_t id, const json_t *body,
		      const struct ticket_actor *a, int64_t *reply_id, struct err *e)
{
	(void)body;
	(void)reply_id;
	return ticket_unmerge(api_scope(r), a, id, e);
}

static int op_split(struct req *r, int64_t id, const json_t *body,
		    const struct ticket_actor *a, int64_t *reply_id, struct err *e)
{
	static const char *const keys[] = {"message_id", "subject", NULL};
	int64_t mid;
	const char *subject;
	if (in_keys(body, keys, e) < 0 || in_int(body, "message_id", 1, &mid, e) < 0 ||
	    in_str(body, "subject", 0, &subject, e) < 0)
		return -1;
	return ticket_split(api_scope(r), a, id, mid, subject, reply_id, e);
}

static int op_link(struct req *r, int64_t id, const json_t *body,
		   const struct ticket_actor *a, int64_t *reply_id, struct err *e)
{
	static const char *const keys[] = {"ticket_id", "kind", NULL};
	int64_t other;
	const char *kind;
	(void)reply_id;
	if (in_keys(body, keys, e) < 0 || in_int(body, "ticket_id", 1, &other, e) < 0 ||
	    in_str(body, "kind", 0, &kind, e) < 0)
		return -1;
	if (ticket_visible(api_scope(r), &api_ctx(r)->who, other, e) < 0)
		return -1;
	return ticket_link(api_scope(r), a, id, other, kind ? kind : "related", e);
}

static void tickets_transfer(struct req *r) { run_op(r, "ticket.transfer", 200, op_transfer); }
static void tickets_escalate(struct req *r) { run_op(r, "ticket.escalate", 200, op_escalate); }
static void tickets_merge(struct req *r) { run_op(r, "ticket.merge", 200, op_merge); }
static void tickets_unmerge(struct req *r) { run_op(r, "ticket.unmerge", 200, op_unmerge); }
static void tickets_split(struct req *r) { run_op(r, "ticket.split", 201, op_split); }
static void tickets_link(struct req *r) { run_op(r, "ticket.link", 200, op_link); }

static void tickets_unlink(struct req *r)
{
	int64_t id, other;
	struct err e = {0};
	struct ticket_actor a = api_ticket_actor(r);
	if (api_ticket_id(r, &id) < 0 || api_id(r, 1, &other) < 0 || api_begin(r) < 0)
		return;
	if (ticket_unlink(api_scope(r), &a, id, other, &e) < 0)
		api_fail(r, &e);
	else if (api_audit(r, "ticket.unlink", "ticket", id, NULL) == 0)
		api_reply_ticket(r, 200, id);
}

/* One ticket of a bulk update, in a savepoint of its own so one refusal
 * does not undo the others. */
static json_t *bulk_one(struct req *r, int64_t id, const struct ticket_change *c)
{
	struct err e = {0};
	struct ticket_actor a = api_ticket_actor(r);
	struct db *db = api_worker(r)->db;
	int changed = 0;
	int rc = ticket_visible(api_scope(r), &api_ctx(r)->who, id, &e) < 0 ||
		 db_begin(db, &e) < 0 ? -1 : 0;
	if (rc == 0) {
		rc = ticket_update(api_scope(r), &a, id, c, &changed, &e);
		if (rc == 0)
			rc = db_commit(db, &e);
		else
			db_rollback(db);
	}
	if (rc < 0)
		return json_pack("{sI sb s{ss ss}}", "id", (json_int_t)id, "ok", 0, "error",
				 "code", e.code, "message", e.msg);
	return json_pack("{sI sb sb}", "id", (json_int_t)id, "ok", 1, "changed", changed);
}

static void tickets_bulk(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"ids", "changes", NULL};
	const json_t *ids, *changes = json_object_get(body, "changes");
	struct ticket_change c;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_array(body, "ids", 1, &ids, &e) < 0 ||
	    !json_is_object(changes) || json_array_size(ids) > 500 ||
	    api_read_change(changes, &c, &e) < 0 || ticket_change_valid(&c, &e) < 0) {
		if (!e.status)
			ERR_INVALID(&e, "send {\"ids\": [up to 500 ids], \"changes\": {...}}");
		api_fail(r, &e);
	} else if (api_may_assign(r, c.assignee_id) == 0 && api_begin(r) == 0) {
		json_t *results = json_array();
		size_t i;
		const json_t *v;
		json_array_foreach(ids, i, v)
			json_array_append_new(results, bulk_one(r, json_integer_value(v), &c));
		if (api_audit(r, "ticket.bulk_update", "ticket", 0, body) == 0)
			reply_json(r, 200, json_pack("{so}", "results", results));
		else
			json_decref(results);
	}
	json_decref(body);
}

const struct route api_ticket_op_routes[] = {
	{HTTP_POST, "/api/v1/tickets/bulk", tickets_bulk, "tickets.write", 0},
	{HTTP_POST, "/api/v1/tickets/{id}/transfer", tickets_transfer, "tickets.write", 0},
	{HTTP_POST, "/api/v1/tickets/{id}/escalate", tickets_escalate, "tickets.write", 0},
	{HTTP_POST, "/api/v1/tickets/{id}/merge", tickets_merge, "tickets.delete", 0},
	{HTTP_POST, "/api/v1/tickets/{id}/unmerge", tickets_unmerge, "tickets.delete", 0},
	{HTTP_POST, "/api/v1/tickets/{id}/split", tickets_split, "tickets.write", 0},
	{HTTP_POST, "/api/v1/tickets/{id}/links", tickets_link, "tickets.write", 0},
	{HTTP_DELETE, "/api/v1/tickets/{id}/links/{other_id}", tickets_unlink, "tickets.write", 0},
};
const size_t api_ticket_op_nroutes = sizeof api_ticket_op_routes / sizeof api_ticket_op_routes[0];
