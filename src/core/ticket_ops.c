/*
 * ticket_ops.c -- operations between tickets and moves between people:
 * merge and its undo, split, links, transfer, escalation (see ticket.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "message.h"
#include "ticket_event.h"
#include "ticket_internal.h"
#include "ticket_search.h"

/* number, status, merged_into of a ticket; -1 (404) when absent. */
static int peek(const struct scope *s, int64_t id, int64_t *number, char *status,
		size_t n, int64_t *merged_into, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT number, status, merged_into FROM tickets WHERE account_id = $1 "
		     "AND id = $2", DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found) {
		*number = db_res_int(res, 0);
		snprintf(status, n, "%s", db_res_text(res, 1));
		*merged_into = db_res_isnull(res, 2) ? 0 : db_res_int(res, 2);
	}
	db_res_free(res);
	if (!found)
		ERR_NOT_FOUND(e, "ticket %" PRId64 " not found", id);
	return found ? 0 : -1;
}

static json_t *message_ids(const struct scope *s, int64_t ticket, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT id FROM messages WHERE account_id = $1 AND ticket_id = $2 "
		     "ORDER BY id", DB_ARGS(DB_INT(ticket)), &res, e) < 0)
		return NULL;
	json_t *a = json_array();
	while (res && db_res_next(res))
		json_array_append_new(a, json_integer(db_res_int(res, 0)));
	db_res_free(res);
	return a;
}

static int move_all(const struct scope *s, const json_t *ids, int64_t to, struct err *e)
{
	size_t i;
	const json_t *v;
	json_array_foreach(ids, i, v)
		if (message_move(s, json_integer_value(v), to, e) < 0)
			return -1;
	return 0;
}

static int add_link(const struct scope *s, int64_t a, int64_t b, const char *kind,
		    struct err *e)
{
	return db_sexec(s, "INSERT INTO ticket_links (account_id, ticket_id, other_id, kind, "
			   "created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
			DB_ARGS(DB_INT(a), DB_INT(b), DB_TEXT(kind), DB_INT(clock_now_ms())),
			e) < 0 ? -1 : 0;
}

/* Timeline events on both tickets, fresh search terms and webhook events. */
static int finish_pair(const struct scope *s, const struct ticket_actor *a,
		       int64_t one, const char *kind1, json_t *d1,
		       int64_t two, const char *kind2, json_t *d2, struct err *e)
{
	int rc = ticket_event_add(s, one, &a->who, kind1, d1, e) < 0 ||
		 ticket_event_add(s, two, &a->who, kind2, d2, e) < 0 ||
		 ticket_search_index(s, one, e) < 0 || ticket_search_index(s, two, e) < 0 ||
		 ticket_emit(s, one, "ticket.updated", NULL, e) < 0 ||
		 ticket_emit(s, two, "ticket.updated", NULL, e) < 0 ? -1 : 0;
	json_decref(d1);
	json_decref(d2);
	return rc;
}

int ticket_merge(const struct scope *s, const struct ticket_actor *a,
		 int64_t source, int64_t target, struct err *e)
{
	int64_t sn, tn, sm, tm;
	char sstatus[48], tstatus[48];
	if (source == target) {
		ERR_UNPROCESSABLE(e, "a ticket cannot be merged into itself");
		return -1;
	}
	if (peek(s, source, &sn, sstatus, sizeof sstatus, &sm, e) < 0 ||
	    peek(s, target, &tn, tstatus, sizeof tstatus, &tm, e) < 0)
		return -1;
	if (sm || tm) {
		ERR_UNPROCESSABLE(e, "a merged ticket cannot take part in another merge");
		return -1;
	}
	json_t *moved = message_ids(s, source, e);
	if (!moved)
		return -1;
	int64_t now = clock_now_ms();
	int rc = move_all(s, moved, target, e) < 0 ||
		 db_sexec(s, "UPDATE tickets SET merged_into = $3, status = 'closed', "
			     "status_category = 'closed', closed_at = $4, updated_at = $4 "
			     "WHERE account_id = $1 AND id = $2",
			  DB_ARGS(DB_INT(source), DB_INT(target), DB_INT(now)), e) < 0 ||
		 db_sexec(s, "UPDATE tickets SET updated_at = $3 WHERE account_id = $1 AND id = $2",
			  DB_ARGS(DB_INT(target), DB_INT(now)), e) < 0 ||
		 add_link(s, source, target, "merged", e) < 0 ? -1 : 0;
	if (rc < 0) {
		json_decref(moved);
		return -1;
	}
	/* The source's event keeps what moved, so the merge can be undone. */
	return finish_pair(s, a, source, "merged",
			   json_pack("{sI sI so ss}", "into", (json_int_t)target, "into_number",
				     (json_int_t)tn, "messages", moved, "previous_status", sstatus),
			   target, "merged_from",
			   json_pack("{sI sI}", "ticket", (json_int_t)source, "number", (json_int_t)sn),
			   e);
}

int ticket_unmerge(const struct scope *s, const struct ticket_actor *a,
		   int64_t source, struct err *e)
{
	int64_t sn, target;
	char status[48];
	if (peek(s, source, &sn, status, sizeof status, &target, e) < 0)
		return -1;
	if (!target) {
		ERR_UNPROCESSABLE(e, "this ticket is not merged");
		return -1;
	}
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT data FROM ticket_events WHERE account_id = $1 AND ticket_id = $2 "
		     "AND kind = 'merged' ORDER BY id DESC LIMIT 1",
		  DB_ARGS(DB_INT(source)), &res, e) < 0)
		return -1;
	json_t *d = res && db_res_next(res) ? json_loads(db_res_text(res, 0), 0, NULL) : NULL;
	db_res_free(res);
	if (!d) {
		ERR_INTERNAL(e, "merge record of ticket %" PRId64 " missing", source);
		return -1;
	}
	const char *prev = json_string_value(json_object_get(d, "previous_status"));
	char cat[16] = "open";
	int rc = move_all(s, json_object_get(d, "messages"), source, e);
	/* The previous status is restored as it was, even if the account's
	 * rules changed since: undo means undo. */
	if (rc == 0 && prev)
		rc = db_sq(s, "SELECT category FROM ticket_statuses WHERE account_id = $1 AND "
			      "name = $2", DB_ARGS(DB_TEXT(prev)), &res, e);
	if (rc == 0 && prev) {
		snprintf(cat, sizeof cat, "%s", res && db_res_next(res) ? db_res_text(res, 0) : prev);
		db_res_free(res);
	}
	if (rc == 0)
		rc = db_sexec(s, "UPDATE tickets SET merged_into = NULL, status = $3, "
				 "status_category = $4, closed_at = NULL, updated_at = $5 WHERE "
				 "account_id = $1 AND id = $2",
			      DB_ARGS(DB_INT(source), DB_TEXT(prev ? prev : "open"), DB_TEXT(cat),
				      DB_INT(clock_now_ms())), e) < 0 ||
		     db_sexec(s, "DELETE FROM ticket_links WHERE account_id = $1 AND ticket_id = $2 "
				 "AND kind = 'merged'", DB_ARGS(DB_INT(source)), e) < 0 ? -1 : 0;
	json_decref(d);
	if (rc < 0)
		return -1;
	return finish_pair(s, a, source, "unmerged",
			   json_pack("{sI}", "from", (json_int_t)target), target, "unmerged",
			   json_pack("{sI sI}", "ticket", (json_int_t)source, "number", (json_int_t)sn),
			   e);
}

/* The fields a split copies from the original. */
static int split_source(const struct scope *s, int64_t id, struct ticket_new *n,
			char **subject, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT number, subject, customer_id, priority, team_id, channel_id, "
		     "origin FROM tickets WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "#%lld %s", (long long)db_res_int(res, 0), db_res_text(res, 1));
		*subject = buf_steal(&b);
		n->customer_id = db_res_int(res, 2);
		n->priority = xstrdup(db_res_text(res, 3));
		n->team_id = db_res_isnull(res, 4) ? 0 : db_res_int(res, 4);
		n->channel_id = db_res_isnull(res, 5) ? 0 : db_res_int(res, 5);
		n->origin = xstrdup(db_res_text(res, 6));
	}
	db_res_free(res);
	if (!found)
		ERR_NOT_FOUND(e, "ticket not found");
	return found ? 0 : -1;
}

int ticket_split(const struct scope *s, const struct ticket_actor *a,
		 int64_t id, int64_t message_id, const char *subject,
		 int64_t *new_id, struct err *e)
{
	int64_t on_ticket = 0;
	if (db_sq_int(s, "SELECT ticket_id FROM messages WHERE account_id = $1 AND id = $2",
		      DB_ARGS(DB_INT(message_id)), &on_ticket, e) < 0)
		return -1;
	if (on_ticket != id) {
		ERR_INVALID(e, "message %" PRId64 " is not on this ticket", message_id);
		return -1;
	}
	struct ticket_new n = {0};
	char *derived = NULL;
	if (split_source(s, id, &n, &derived, e) < 0)
		return -1;
	n.subject = subject && subject[0] ? subject : derived;
	int rc = ticket_create(s, a, &n, new_id, e) < 0 ||
		 message_move(s, message_id, *new_id, e) < 0 ||
		 add_link(s, id, *new_id, "related", e) < 0 ||
		 add_link(s, *new_id, id, "related", e) < 0 ? -1 : 0;
	free(derived);
	free((char *)n.priority);
	free((char *)n.origin);
	if (rc < 0)
		return -1;
	return finish_pair(s, a, id, "split",
			   json_pack("{sI sI}", "message", (json_int_t)message_id, "ticket",
				     (json_int_t)*new_id),
			   *new_id, "split_from",
			   json_pack("{sI sI}", "message", (json_int_t)message_id, "ticket",
				     (json_int_t)id), e);
}

static const char *inverse(const char *kind)
{
	return !strcmp(kind, "parent") ? "child" : !strcmp(kind, "child") ? "parent" : "related";
}

int ticket_link(const struct scope *s, const struct ticket_actor *a,
		int64_t id, int64_t other, const char *kind, struct err *e)
{
	int64_t n1, n2, m;
	char st[48];
	if (!kind || (strcmp(kind, "related") && strcmp(kind, "parent") && strcmp(kind, "child"))) {
		ERR_INVALID(e, "kind must be related, parent or child");
		return -1;
	}
	if (id == other) {
		ERR_UNPROCESSABLE(e, "a ticket cannot be linked to itself");
		return -1;
	}
	if (peek(s, id, &n1, st, sizeof st, &m, e) < 0 || peek(s, other, &n2, st, sizeof st, &m, e) < 0)
		return -1;
	/* "parent": other is the parent of id. */
	int64_t child = !strcmp(kind, "parent") ? id : other, parent = child == id ? other : id;
	int rc = add_link(s, id, other, kind, e) < 0 ||
		 add_link(s, other, id, inverse(kind), e) < 0 ? -1 : 0;
	if (rc == 0 && strcmp(kind, "related") != 0)
		rc = db_sexec(s, "UPDATE tickets SET parent_id = $3 WHERE account_id = $1 AND id = $2",
			      DB_ARGS(DB_INT(child), DB_INT(parent)), e) < 0 ? -1 : 0;
	if (rc < 0)
		return -1;
	return finish_pair(s, a, id, "link",
			   json_pack("{sI sI ss}", "ticket", (json_int_t)other, "number",
				     (json_int_t)n2, "kind", kind),
			   other, "link",
			   json_pack("{sI sI ss}", "ticket", (json_int_t)id, "number",
				     (json_int_t)n1, "kind", inverse(kind)), e);
}

int ticket_unlink(const struct scope *s, const struct ticket_actor *a,
		  int64_t id, int64_t other, struct err *e)
{
	int64_t n = db_sexec(s, "DELETE FROM ticket_links WHERE account_id = $1 AND kind <> "
				"'merged' AND ((ticket_id = $2 AND other_id = $3) OR "
				"(ticket_id = $3 AND other_id = $2))",
			     DB_ARGS(DB_INT(id), DB_INT(other)), e);
	if (n == 0)
		ERR_NOT_FOUND(e, "no such link");
	if (n <= 0)
		return -1;
	if (db_sexec(s, "UPDATE tickets SET parent_id = NULL WHERE account_id = $1 AND "
			"((id = $2 AND parent_id = $3) OR (id = $3 AND parent_id = $2))",
		     DB_ARGS(DB_INT(id), DB_INT(other)), e) < 0)
		return -1;
	return finish_pair(s, a, id, "unlink", json_pack("{sI}", "ticket", (json_int_t)other),
			   other, "unlink", json_pack("{sI}", "ticket", (json_int_t)id), e);
}

int ticket_transfer(const struct scope *s, const struct ticket_actor *a,
		    int64_t id, int64_t assignee_id, int64_t team_id,
		    const char *note, struct err *e)
{
	if (assignee_id < 0 && team_id < 0) {
		ERR_INVALID(e, "transfer needs an assignee_id or a team_id");
		return -1;
	}
	struct ticket_change c = TICKET_CHANGE_NONE;
	c.assignee_id = assignee_id;
	c.team_id = team_id;
	int changed;
	json_t *d = json_pack("{so so ss}", "assignee_id",
			      assignee_id >= 0 ? json_integer(assignee_id) : json_null(),
			      "team_id", team_id >= 0 ? json_integer(team_id) : json_null(),
			      "note", note ? note : "");
	int rc = ticket_update(s, a, id, &c, &changed, e) < 0 ||
		 ticket_note(s, a, id, note, e) < 0 ||
		 ticket_event_add(s, id, &a->who, "transfer", d, e) < 0 ? -1 : 0;
	json_decref(d);
	return rc;
}

int ticket_escalate(const struct scope *s, const struct ticket_actor *a,
		    int64_t id, int64_t team_id, const char *note, struct err *e)
{
	char prio[16] = "normal";
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT priority FROM tickets WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found)
		snprintf(prio, sizeof prio, "%s", db_res_text(res, 0));
	db_res_free(res);
	if (!found) {
		ERR_NOT_FOUND(e, "ticket not found");
		return -1;
	}
	struct ticket_change c = TICKET_CHANGE_NONE;
	c.priority = ticket_priority_raise(prio);
	c.team_id = team_id > 0 ? team_id : -1;
	int changed;
	json_t *d = json_pack("{ss ss so ss}", "from_priority", prio, "to_priority", c.priority,
			      "team_id", team_id > 0 ? json_integer(team_id) : json_null(),
			      "note", note ? note : "");
	int rc = ticket_update(s, a, id, &c, &changed, e) < 0 ||
		 ticket_note(s, a, id, note, e) < 0 ||
		 ticket_event_add(s, id, &a->who, "escalate", d, e) < 0 ? -1 : 0;
	json_decref(d);
	return rc;
}

int ticket_links_list(const struct scope *s, int64_t id, json_t *items,
		      struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT l.kind, t.id, t.number, t.subject, t.status FROM ticket_links l "
		     "JOIN tickets t ON t.id = l.other_id WHERE l.account_id = $1 AND "
		     "l.ticket_id = $2 ORDER BY l.created_at", DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	while (res && db_res_next(res))
		json_array_append_new(items, json_pack("{ss s{sI sI ss ss}}", "kind",
			db_res_text(res, 0), "ticket", "id", (json_int_t)db_res_int(res, 1),
			"number", (json_int_t)db_res_int(res, 2), "subject", db_res_text(res, 3),
			"status", db_res_text(res, 4)));
	int rc = db_res_error(res, e);
	db_res_free(res);
	return rc;
}
