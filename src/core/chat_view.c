/*
 * chat_view.c -- the customer's side of a chat conversation (see chat.h):
 * what the widget shows (public messages, read marks, queue position,
 * rating) and the events that keep it live.  Internal notes, tags, custom
 * fields and everything else staff-only never reach these objects.
 */
#include "chat.h"

#include <stdio.h>
#include <string.h>

#include "events.h"
#include "message.h"
#include "ticket.h"

/* ---- shapes ---- */

json_t *chat_message_json(const json_t *msg, int64_t read_upto)
{
	const json_t *author = json_object_get(msg, "author");
	json_int_t id = json_integer_value(json_object_get(msg, "id"));
	json_t *atts = json_array();
	size_t i;
	const json_t *a;
	json_array_foreach(json_object_get(msg, "attachments"), i, a) {
		char url[64];
		json_int_t aid = json_integer_value(json_object_get(a, "id"));
		snprintf(url, sizeof url, "/widget/v1/attachments/%lld", (long long)aid);
		json_array_append_new(atts, json_pack("{sI sO sO sO ss}", "id", aid,
			"name", json_object_get(a, "filename"), "size", json_object_get(a, "size"),
			"content_type", json_object_get(a, "content_type"), "url", url));
	}
	return json_pack("{sI s{sO sO} sO sO so sO sb}", "id", id,
		"author", "kind", json_object_get(author, "kind"), "name",
		json_object_get(author, "name"), "text", json_object_get(msg, "text"),
		"html", json_object_get(msg, "html"), "attachments", atts,
		"created_at", json_object_get(msg, "created_at"), "read", id <= read_upto);
}

int chat_ticket(const json_t *t)
{
	const char *origin = json_string_value(json_object_get(t, "origin"));
	return origin && strcmp(origin, "web") == 0;
}

/* Waiting tickets of chat origin ahead of this one, counting itself, up to
 * CHAT_QUEUE_CAP (chat.h): the count reads at most that many entries of the
 * index tickets_chat_queue (migration 0007, whose condition is this one
 * word for word), however long the queue.  On PostgreSQL each entry may
 * also cost a row visit (a busy table's pages are rarely all-visible). */
static int queue_position(const struct scope *s, int64_t ticket, int64_t *pos, struct err *e)
{
	return db_sq_int(s, "SELECT COUNT(*) FROM (SELECT id FROM tickets WHERE account_id = $1 "
			    "AND origin = 'web' AND assignee_id IS NULL AND merged_into IS NULL AND "
			    "status_category IN ('new', 'open') AND id <= $2 ORDER BY id DESC "
			    "LIMIT " CHAT_QUEUE_CAP_SQL ") q",
			 DB_ARGS(DB_INT(ticket)), pos, e) < 0 ? -1 : 0;
}

static int finished(const char *category)
{
	return category && (!strcmp(category, "resolved") || !strcmp(category, "closed"));
}

/* The conversation object from ticket_get's object. */
static json_t *conversation_json(const struct scope *s, const json_t *t, struct err *e)
{
	int64_t id = json_integer_value(json_object_get(t, "id"));
	const json_t *assignee = json_object_get(t, "assignee");
	const char *cat = json_string_value(json_object_get(t, "status_category"));
	const json_t *rating = json_object_get(t, "rating");
	json_t *queue = json_null();
	if (json_is_null(assignee) && (!strcmp(cat, "new") || !strcmp(cat, "open"))) {
		int64_t pos;
		if (queue_position(s, id, &pos, e) < 0)
			return NULL;
		queue = json_integer(pos);
	}
	json_t *agent = json_is_object(assignee)
		? json_pack("{sO}", "name", json_object_get(assignee, "name")) : json_null();
	json_t *rate = json_is_object(rating)
		? json_pack("{sO sO}", "score", json_object_get(rating, "score"), "comment",
			    json_object_get(rating, "comment")) : json_null();
	return json_pack("{sI sO sO ss so so so sb}", "ticket_id", (json_int_t)id,
		"number", json_object_get(t, "number"), "status", json_object_get(t, "status"),
		"status_category", cat, "agent", agent, "queue_position", queue,
		"rating", rate, "can_rate", finished(cat) && json_is_null(rate));
}

/* ---- events for the widget ---- */

int chat_ticket_event(const struct scope *s, const json_t *t, struct err *e)
{
	json_t *conv = conversation_json(s, t, e);
	if (!conv)
		return -1;
	struct event_target tg = {
		.audience = EV_CUSTOMER,
		.ticket_id = json_integer_value(json_object_get(t, "id")),
		.customer_id = json_integer_value(json_object_get(json_object_get(t, "customer"), "id")),
	};
	int rc = events_add(s, "conversation.updated", &tg, conv, e);
	json_decref(conv);
	return rc;
}

int chat_message_event(const struct scope *s, int64_t ticket_id, int64_t customer_id,
		       const json_t *msg, struct err *e)
{
	json_t *d = json_pack("{sI so}", "ticket_id", (json_int_t)ticket_id, "message",
			      chat_message_json(msg, 0));
	struct event_target tg = {.audience = EV_CUSTOMER, .ticket_id = ticket_id,
				  .customer_id = customer_id};
	int rc = events_add(s, "message.created", &tg, d, e);
	json_decref(d);
	return rc;
}

/* ---- the conversation view ---- */

int chat_current_ticket(struct db *db, const struct chat_visitor *v, int64_t *ticket,
			struct err *e)
{
	struct scope s = {db, v->account_id};
	*ticket = 0;
	return db_sq_int(&s, "SELECT id FROM tickets WHERE account_id = $1 AND customer_id = $2 "
			     "AND channel_id = $3 AND merged_into IS NULL ORDER BY id DESC LIMIT 1",
			 DB_ARGS(DB_INT(v->customer_id), DB_INT(v->channel_id)), ticket, e) < 0
		? -1 : 0;
}

static int read_marks(const struct scope *s, int64_t ticket, int64_t *customer_read,
		      int64_t *agent_read, struct err *e)
{
	struct db_res *res;
	if (db_sq(s, "SELECT COALESCE(customer_read_id, 0), COALESCE(agent_read_id, 0) "
		     "FROM tickets WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(ticket)), &res, e) < 0)
		return -1;
	*customer_read = *agent_read = 0;
	if (db_res_next(res)) {
		*customer_read = db_res_int(res, 0);
		*agent_read = db_res_int(res, 1);
	}
	db_res_free(res);
	return 0;
}

/* The last 200 public messages, oldest first.  A customer's message is
 * "read" once an agent has read it, an agent's once the customer has. */
static json_t *messages_json(const struct scope *s, int64_t ticket, struct err *e)
{
	int64_t cread, aread;
	json_t *all = json_array();
	if (read_marks(s, ticket, &cread, &aread, e) < 0 ||
	    message_list(s, ticket, 0, all, e) < 0) {
		json_decref(all);
		return NULL;
	}
	json_t *out = json_array();
	size_t n = json_array_size(all), i = n > 200 ? n - 200 : 0;
	for (; i < n; i++) {
		const json_t *m = json_array_get(all, i);
		const char *kind = json_string_value(json_object_get(json_object_get(m, "author"), "kind"));
		int mine = kind && !strcmp(kind, "customer");
		json_array_append_new(out, chat_message_json(m, mine ? aread : cread));
	}
	json_decref(all);
	return out;
}

json_t *chat_conversation(struct db *db, const struct chat_visitor *v, struct err *e)
{
	struct scope s = {db, v->account_id};
	int64_t last = 0, ticket;
	/* The event id first: whatever happens after the reads below reaches
	 * the widget as an event after it (duplicates are dropped by id). */
	if (db_sq_int(&s, "SELECT COALESCE(MAX(last_seq), 0) FROM event_counters "
			  "WHERE account_id = $1", DB_NOARGS, &last, e) < 0 ||
	    chat_current_ticket(db, v, &ticket, e) < 0)
		return NULL;
	json_t *conv = json_null(), *msgs = json_array();
	if (ticket) {
		json_t *t = ticket_get(&s, NULL, ticket, e);
		json_decref(msgs);
		msgs = NULL;
		if (t) {
			json_decref(conv);
			conv = conversation_json(&s, t, e);
			msgs = conv ? messages_json(&s, ticket, e) : NULL;
			json_decref(t);
		}
		if (!conv || !msgs) {
			json_decref(conv);
			json_decref(msgs);
			return NULL;
		}
	}
	return json_pack("{so so sI}", "conversation", conv, "messages", msgs,
			 "last_event_id", (json_int_t)last);
}

json_t *chat_sent(struct db *db, const struct chat_visitor *v, int64_t ticket,
		  int64_t message_id, struct err *e)
{
	struct scope s = {db, v->account_id};
	int64_t cread, aread;
	json_t *t = ticket_get(&s, NULL, ticket, e);
	json_t *conv = t ? conversation_json(&s, t, e) : NULL;
	json_t *m = conv ? message_get(&s, message_id, e) : NULL;
	json_t *out = NULL;
	if (m && read_marks(&s, ticket, &cread, &aread, e) == 0) {
		/* a customer's message is "read" once an agent has read it */
		out = json_pack("{so sO}", "message", chat_message_json(m, aread),
				"conversation", conv);
	}
	json_decref(m);
	json_decref(conv);
	json_decref(t);
	return out;
}

/* One staff event about the visitor's ticket in its own transaction,
 * after an optional update of that ticket ($2 = ticket, $3 = arg) -- and
 * only when that update changed something. */
static int staff_event_tx(const struct scope *s, int64_t ticket, const char *type,
			  json_t *data, const char *update, int64_t arg, struct err *e)
{
	struct event_target t = {.audience = EV_STAFF};
	int rc = db_begin(s->db, e);
	if (rc < 0)
		return -1;
	int64_t changed = update ? db_sexec(s, update, DB_ARGS(DB_INT(ticket), DB_INT(arg)), e) : 1;
	if (changed == 0) /* the mark was there already: nothing to tell */
		return db_commit(s->db, e);
	rc = changed < 0 ? -1 : events_ticket_target(s, ticket, &t, NULL, e);
	t.customer_id = 0;
	if (rc == 0)
		rc = events_add(s, type, &t, data, e);
	if (rc == 0)
		return db_commit(s->db, e);
	db_rollback(s->db);
	return -1;
}

int chat_read(struct db *db, const struct chat_visitor *v, int64_t message_id,
	      struct err *e)
{
	struct scope s = {db, v->account_id};
	int64_t ticket;
	if (chat_current_ticket(db, v, &ticket, e) < 0)
		return -1;
	int64_t one;
	int ok = ticket ? db_sq_int(&s, "SELECT 1 FROM messages WHERE account_id = $1 AND "
					"id = $2 AND ticket_id = $3 AND internal = 0",
				    DB_ARGS(DB_INT(message_id), DB_INT(ticket)), &one, e) : 0;
	if (ok <= 0) {
		if (ok == 0)
			ERR_NOT_FOUND(e, "no such message in the conversation");
		return -1;
	}
	json_t *d = json_pack("{sI sI ss}", "ticket_id", (json_int_t)ticket,
			      "message_id", (json_int_t)message_id, "who", "customer");
	int rc = staff_event_tx(&s, ticket, "read", d,
				"UPDATE tickets SET customer_read_id = $3 WHERE account_id = $1 "
				"AND id = $2 AND COALESCE(customer_read_id, 0) < $3", message_id, e);
	json_decref(d);
	return rc;
}

int chat_typing(struct db *db, const struct chat_visitor *v, int typing, struct err *e)
{
	struct scope s = {db, v->account_id};
	int64_t ticket;
	if (chat_current_ticket(db, v, &ticket, e) < 0)
		return -1;
	if (!ticket)
		return 0; /* nobody to tell before the first message */
	json_t *d = json_pack("{sI ss sI sb}", "ticket_id", (json_int_t)ticket, "who",
			      "customer", "customer_id", (json_int_t)v->customer_id,
			      "typing", typing);
	int rc = staff_event_tx(&s, ticket, "typing", d, NULL, 0, e);
	json_decref(d);
	return rc;
}

int chat_attachment_allowed(struct db *db, const struct chat_visitor *v,
			    int64_t attachment_id, struct err *e)
{
	struct scope s = {db, v->account_id};
	int64_t one;
	return db_sq_int(&s, "SELECT 1 FROM attachments a JOIN messages m ON m.id = a.message_id "
			     "JOIN tickets t ON t.id = m.ticket_id WHERE a.account_id = $1 AND "
			     "a.id = $2 AND m.internal = 0 AND t.customer_id = $3",
			 DB_ARGS(DB_INT(attachment_id), DB_INT(v->customer_id)), &one, e);
}
