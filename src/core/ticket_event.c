/* ticket_event.c -- see ticket_event.h. */
#include "ticket_event.h"

#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "message.h"

int ticket_event_add(const struct scope *s, int64_t ticket_id,
		     const struct audit_actor *actor, const char *kind,
		     const json_t *data, struct err *e)
{
	char *dj = data ? json_dumps(data, JSON_COMPACT) : NULL;
	int64_t rc = db_sexec(s,
		"INSERT INTO ticket_events (account_id, ticket_id, kind, actor_type, "
		"actor_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
		DB_ARGS(DB_INT(ticket_id), DB_TEXT(kind), DB_TEXT(actor->type),
			actor->id ? DB_INT(actor->id) : DB_NULLV,
			DB_TEXT(dj ? dj : "{}"), DB_INT(clock_now_ms())), e);
	free(dj);
	return rc < 0 ? -1 : 0;
}

static json_t *event_json(struct db_res *res)
{
	char ts[32];
	clock_iso8601(db_res_int(res, 5), ts, sizeof ts);
	json_t *o = json_pack("{ss sI ss s{ss so} so ss}", "type", "event",
		"id", (json_int_t)db_res_int(res, 0), "kind", db_res_text(res, 1),
		"actor", "type", db_res_text(res, 2),
		"id", db_res_isnull(res, 3) ? json_null() : json_integer(db_res_int(res, 3)),
		"data", json_loads(db_res_text(res, 4), 0, NULL), "created_at", ts);
	const char *name = db_res_text(res, 6);
	json_object_set_new(json_object_get(o, "actor"), "name",
			    name ? json_string(name) : json_null());
	return o;
}

/* On a tie in time, an event that starts a ticket comes before the first
 * message; any other event follows the message that caused it. */
static int event_first(const json_t *ev)
{
	const char *k = json_string_value(json_object_get(ev, "kind"));
	return k && (!strcmp(k, "created") || !strcmp(k, "split_from"));
}

/* Both lists are ordered by time; merge them. */
static void merge_sorted(json_t *msgs, json_t *events, json_t *out)
{
	size_t i = 0, j = 0, nm = json_array_size(msgs), ne = json_array_size(events);
	while (i < nm || j < ne) {
		json_t *m = i < nm ? json_array_get(msgs, i) : NULL;
		json_t *ev = j < ne ? json_array_get(events, j) : NULL;
		int cmp = m && ev ? strcmp(json_string_value(json_object_get(m, "created_at")),
					   json_string_value(json_object_get(ev, "created_at"))) : 0;
		int take_m = m && (!ev || cmp < 0 || (cmp == 0 && !event_first(ev)));
		json_array_append(out, take_m ? m : ev);
		take_m ? i++ : j++;
	}
}

int ticket_timeline(const struct scope *s, int64_t ticket_id, int with_internal,
		    json_t *items, struct err *e)
{
	json_t *msgs = json_array(), *events = json_array();
	int rc = message_list(s, ticket_id, with_internal, msgs, e);
	struct db_res *res = NULL;
	if (rc == 0)
		rc = db_sq(s, "SELECT ev.id, ev.kind, ev.actor_type, ev.actor_id, ev.data, "
			      "ev.created_at, u.name FROM ticket_events ev LEFT JOIN users u "
			      "ON ev.actor_type IN ('user', 'token') AND u.id = ev.actor_id "
			      "WHERE ev.account_id = $1 AND ev.ticket_id = $2 ORDER BY ev.id",
			   DB_ARGS(DB_INT(ticket_id)), &res, e);
	while (rc == 0 && res && db_res_next(res)) {
		json_t *ev = event_json(res);
		json_array_append_new(events, ev);
	}
	if (rc == 0)
		rc = db_res_error(res, e);
	db_res_free(res);
	if (rc == 0)
		merge_sorted(msgs, events, items);
	json_decref(msgs);
	json_decref(events);
	return rc;
}
