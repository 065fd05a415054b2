/*
 * ticket.c -- creating, reading and changing one ticket (see ticket.h);
 * lists are in ticket_list.c, operations between tickets in ticket_ops.c.
 */
#include "rowjson.h"
#include "ticket.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../store/sqlb.h"
#include "../util/clock.h"
#include "chat.h"
#include "events.h"
#include "field.h"
#include "tags.h"
#include "ticket_event.h"
#include "ticket_internal.h"
#include "webhook.h"
#include "workflow.h"

static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};

int ticket_priority_valid(const char *p)
{
	for (const char *const *q = priorities; *q; q++)
		if (p && strcmp(*q, p) == 0)
			return 1;
	return 0;
}

const char *ticket_priority_raise(const char *p)
{
	for (int i = 0; priorities[i + 1]; i++)
		if (strcmp(priorities[i], p) == 0)
			return priorities[i + 1];
	return "urgent";
}

void ticket_scope_sql(struct sqlb *b, const struct principal *p)
{
	if (!p || p->scope == SCOPE_ALL)
		return;
	sqlb_bind(b, " AND (t.assignee_id = ?", DB_INT(p->user_id));
	if (p->scope == SCOPE_TEAM)
		sqlb_bind(b, " OR t.team_id IN (SELECT tm2.team_id FROM team_members tm2 "
			     "WHERE tm2.user_id = ?)", DB_INT(p->user_id));
	sqlb_add(b, ")");
}

static json_t *ref(struct db_res *res, int id_col, int name_col)
{
	if (db_res_isnull(res, id_col))
		return json_null();
	return json_pack("{sI ss}", "id", (json_int_t)db_res_int(res, id_col), "name",
			 db_res_text(res, name_col) ? db_res_text(res, name_col) : "");
}

json_t *ticket_row_json(struct db_res *res)
{
	const char *category = db_res_text(res, 6), *preview = db_res_text(res, 30);
	json_t *o = json_pack("{sI sI ss ss ss ss so so so}",
		"id", (json_int_t)db_res_int(res, 0), "number", (json_int_t)db_res_int(res, 1),
		"subject", db_res_text(res, 2), "status", db_res_text(res, 3),
		"status_category", db_res_text(res, 4), "priority", db_res_text(res, 5),
		"category", category ? json_string(category) : json_null(),
		"team", ref(res, 7, 8), "assignee", ref(res, 9, 10));
	json_object_set_new(o, "customer", json_pack("{sI ss so ss}",
		"id", (json_int_t)db_res_int(res, 11), "name", db_res_text(res, 12),
		"email", db_res_text(res, 13) ? json_string(db_res_text(res, 13)) : json_null(),
		"level", db_res_text(res, 14)));
	json_object_set_new(o, "channel", db_res_isnull(res, 15) ? json_null()
		: json_pack("{sI ss ss}", "id", (json_int_t)db_res_int(res, 15),
			    "type", db_res_text(res, 16), "name", db_res_text(res, 17)));
	json_object_set_new(o, "origin", json_string(db_res_text(res, 18)));
	json_object_set_new(o, "tags", json_loads(db_res_text(res, 19), 0, NULL));
	json_object_set_new(o, "fields", json_loads(db_res_text(res, 20), 0, NULL));
	json_object_set_new(o, "merged_into", rj_int(res, 21));
	json_object_set_new(o, "parent_id", rj_int(res, 22));
	static const char *const times[] = {"created_at", "updated_at", "first_response_at",
		"resolved_at", "closed_at", "last_customer_message_at", "last_message_at"};
	for (int i = 0; i < 7; i++)
		json_object_set_new(o, times[i], rj_time(res, 23 + i));
	json_object_set_new(o, "preview", preview ? json_string(preview) : json_null());
	json_object_set_new(o, "rating", db_res_isnull(res, 31) ? json_null()
		: json_pack("{sI so so}", "score", (json_int_t)db_res_int(res, 31),
			    "comment", rj_text(res, 32), "rated_at", rj_time(res, 33)));
	return o;
}

int ticket_visible(const struct scope *s, const struct principal *p, int64_t id,
		   struct err *e)
{
	struct sqlb b;
	sqlb_init(&b, 2);
	sqlb_bind(&b, "SELECT 1 FROM tickets t WHERE t.account_id = $1 AND t.id = ?",
		  DB_INT(id));
	ticket_scope_sql(&b, p);
	int64_t one;
	int found = db_sq_int(s, b.sql.data, b.v, b.n, &one, e);
	sqlb_free(&b);
	if (found == 0)
		ERR_NOT_FOUND(e, "ticket not found");
	return found == 1 ? 0 : -1;
}

json_t *ticket_get(const struct scope *s, const struct principal *p, int64_t id,
		   struct err *e)
{
	struct sqlb b;
	sqlb_init(&b, 2);
	sqlb_add(&b, TICKET_SELECT);
	sqlb_bind(&b, " WHERE t.account_id = $1 AND t.id = ?", DB_INT(id));
	ticket_scope_sql(&b, p);
	struct db_res *res = NULL;
	json_t *o = NULL;
	if (db_sq(s, b.sql.data, b.v, b.n, &res, e) == 0) {
		if (res && db_res_next(res))
			o = ticket_row_json(res);
		else
			ERR_NOT_FOUND(e, "ticket not found");
	}
	db_res_free(res);
	sqlb_free(&b);
	return o;
}

int ticket_numbers_take(const struct scope *s, int64_t n, int64_t *first,
			struct err *e)
{
	int64_t last;
	if (db_sq_int(s, "INSERT INTO account_counters (account_id, name, value) "
			 "VALUES ($1, 'ticket', $2) ON CONFLICT (account_id, name) DO UPDATE "
			 "SET value = account_counters.value + $2 RETURNING value",
		      DB_ARGS(DB_INT(n)), &last, e) != 1)
		return -1;
	*first = last - n + 1;
	return 0;
}

static int next_number(const struct scope *s, int64_t *number, struct err *e)
{
	return ticket_numbers_take(s, 1, number, e);
}

/* Team and assignee must belong to the account; the assignee must be
 * active. */
int ticket_check_people(const struct scope *s, int64_t team_id, int64_t assignee_id,
			struct err *e)
{
	int64_t one;
	if (team_id > 0 && db_sq_int(s, "SELECT 1 FROM teams WHERE account_id = $1 AND id = $2",
				     DB_ARGS(DB_INT(team_id)), &one, e) != 1) {
		if (!e->status || e->status == 404)
			ERR_INVALID(e, "team %" PRId64 " does not exist", team_id);
		return -1;
	}
	if (assignee_id > 0 && db_sq_int(s, "SELECT 1 FROM users WHERE account_id = $1 "
					    "AND id = $2 AND active = 1",
					 DB_ARGS(DB_INT(assignee_id)), &one, e) != 1) {
		if (!e->status || e->status == 404)
			ERR_INVALID(e, "assignee %" PRId64 " is not an active user", assignee_id);
		return -1;
	}
	return 0;
}

int ticket_tags_store(const struct scope *s, int64_t id, const json_t *tags,
		      struct err *e)
{
	char *tj = json_dumps(tags, JSON_COMPACT);
	int rc = db_sexec(s, "UPDATE tickets SET tags = $3 WHERE account_id = $1 AND id = $2",
			  DB_ARGS(DB_INT(id), DB_TEXT(tj)), e) < 0 ||
		 db_sexec(s, "DELETE FROM ticket_tags WHERE account_id = $1 AND ticket_id = $2",
			  DB_ARGS(DB_INT(id)), e) < 0 ? -1 : 0;
	free(tj);
	size_t i;
	const json_t *t;
	json_array_foreach(tags, i, t) {
		if (rc == 0 && db_sexec(s, "INSERT INTO ticket_tags (account_id, ticket_id, tag) "
					   "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
					DB_ARGS(DB_INT(id), DB_TEXT(json_string_value(t))), e) < 0)
			rc = -1;
	}
	return rc;
}

/* The staff event about a ticket: its team and assignee decide who hears
 * it; the previous ones too, so a ticket moved away leaves their lists. */
static int staff_event(const struct scope *s, const char *event, const json_t *data,
		       const json_t *t, int64_t prev_team, int64_t prev_assignee,
		       struct err *e)
{
	struct event_target tg = {
		.audience = EV_STAFF,
		.ticket_id = json_integer_value(json_object_get(t, "id")),
		.team_id = json_integer_value(json_object_get(json_object_get(t, "team"), "id")),
		.assignee_id = json_integer_value(json_object_get(json_object_get(t, "assignee"), "id")),
		.prev_team_id = prev_team,
		.prev_assignee_id = prev_assignee,
	};
	return events_add(s, event, &tg, data, e);
}

int ticket_emit_moved(const struct scope *s, int64_t id, const char *event,
		      const json_t *extra, int64_t prev_team, int64_t prev_assignee,
		      struct err *e)
{
	json_t *t = ticket_get(s, NULL, id, e);
	if (!t)
		return -1;
	json_t *data = json_pack("{sO}", "ticket", t);
	if (extra)
		json_object_update(data, (json_t *)extra);
	int wanted = webhook_wanted(s, event, e);
	int rc = wanted < 0 ? -1 : 0;
	if (wanted > 0)
		rc = webhook_emit(s, event, data, e);
	if (rc == 0)
		rc = staff_event(s, event, data, t, prev_team, prev_assignee, e);
	if (rc == 0 && chat_ticket(t))
		rc = chat_ticket_event(s, t, e);
	json_decref(data);
	json_decref(t);
	return rc;
}

int ticket_emit(const struct scope *s, int64_t id, const char *event,
		const json_t *extra, struct err *e)
{
	return ticket_emit_moved(s, id, event, extra, 0, 0, e);
}

static int validate_new(const struct scope *s, const struct ticket_new *in,
			char *category, size_t n, struct err *e)
{
	size_t sl = in->subject ? strlen(in->subject) : 0;
	if (sl == 0 || sl > 500) {
		ERR_INVALID(e, "subject must be 1-500 characters");
		return -1;
	}
	if (in->priority && !ticket_priority_valid(in->priority)) {
		ERR_INVALID(e, "priority must be low, normal, high or urgent");
		return -1;
	}
	if (in->category && strlen(in->category) > 100) {
		ERR_INVALID(e, "category must be at most 100 characters");
		return -1;
	}
	if (workflow_category(s, in->status ? in->status : "new", category, n, e) < 0)
		return -1;
	if (in->tags && tags_check(in->tags, e) < 0)
		return -1;
	int64_t one;
	if (db_sq_int(s, "SELECT 1 FROM customers WHERE account_id = $1 AND id = $2 "
			 "AND merged_into IS NULL", DB_ARGS(DB_INT(in->customer_id)), &one, e) != 1) {
		if (!e->status)
			ERR_INVALID(e, "customer %" PRId64 " does not exist", in->customer_id);
		return -1;
	}
	return ticket_check_people(s, in->team_id, in->assignee_id, e);
}

static int insert_ticket(const struct scope *s, const struct ticket_new *in,
			 const char *category, const char *fields, int64_t *id,
			 struct err *e)
{
	int64_t number, now = clock_now_ms();
	if (next_number(s, &number, e) < 0)
		return -1;
	return db_sq_int(s,
		"INSERT INTO tickets (account_id, number, subject, status, status_category, "
		"priority, category, team_id, assignee_id, customer_id, channel_id, origin, "
		"thread_key, fields, created_at, updated_at, resolved_at, closed_at) VALUES "
		"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15, $16, "
		"$17) RETURNING id",
		DB_ARGS(DB_INT(number), DB_TEXT(in->subject),
			DB_TEXT(in->status ? in->status : "new"), DB_TEXT(category),
			DB_TEXT(in->priority ? in->priority : "normal"), DB_TEXT(in->category),
			in->team_id > 0 ? DB_INT(in->team_id) : DB_NULLV,
			in->assignee_id > 0 ? DB_INT(in->assignee_id) : DB_NULLV,
			DB_INT(in->customer_id),
			in->channel_id > 0 ? DB_INT(in->channel_id) : DB_NULLV,
			DB_TEXT(in->origin ? in->origin : "api"), DB_TEXT(in->thread_key),
			DB_TEXT(fields), DB_INT(now),
			!strcmp(category, "resolved") ? DB_INT(now) : DB_NULLV,
			!strcmp(category, "closed") ? DB_INT(now) : DB_NULLV), id, e) == 1 ? 0 : -1;
}

int ticket_create(const struct scope *s, const struct ticket_actor *a,
		  const struct ticket_new *in, int64_t *id, struct err *e)
{
	char category[16];
	if (validate_new(s, in, category, sizeof category, e) < 0)
		return -1;
	json_t *fields = json_object();
	char *fj = NULL;
	int rc = field_apply(s, fields, in->fields, in->staff_form, e);
	if (rc == 0) {
		fj = json_dumps(fields, JSON_COMPACT);
		rc = insert_ticket(s, in, category, fj, id, e);
	}
	if (rc == 0 && in->tags)
		rc = ticket_tags_store(s, *id, in->tags, e);
	if (rc == 0) {
		json_t *d = json_pack("{ss}", "origin", in->origin ? in->origin : "api");
		rc = ticket_event_add(s, *id, &a->who, "created", d, e);
		json_decref(d);
	}
	free(fj);
	json_decref(fields);
	return rc == 0 ? ticket_emit(s, *id, "ticket.created", NULL, e) : -1;
}
