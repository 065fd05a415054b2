/* message.c -- see message.h. */
#include "rowjson.h"
#include "message.h"

#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "chat.h"
#include "events.h"
#include "webhook.h"

static int check(const struct scope *s, const struct message_new *in, struct err *e)
{
	static const char *const kinds[] = {"customer", "agent", "bot", "system", NULL};
	const char *const *k = kinds;
	while (*k && strcmp(*k, in->author_kind) != 0)
		k++;
	if (!*k) {
		ERR_INVALID(e, "author_kind must be customer, agent, bot or system");
		return -1;
	}
	size_t tl = in->text ? strlen(in->text) : 0, hl = in->html ? strlen(in->html) : 0;
	if (tl == 0 && hl == 0 && !json_array_size(in->attachments)) {
		ERR_INVALID(e, "a message needs text or attachments");
		return -1;
	}
	if (tl > MESSAGE_TEXT_MAX || hl > 4 * MESSAGE_TEXT_MAX) {
		ERR_INVALID(e, "message text is longer than %d bytes", MESSAGE_TEXT_MAX);
		return -1;
	}
	if (in->internal && strcmp(in->author_kind, "customer") == 0) {
		ERR_INVALID(e, "customers cannot write internal notes");
		return -1;
	}
	size_t i;
	const json_t *v;
	json_array_foreach(in->mentions, i, v) {
		int64_t one;
		int found = json_is_integer(v)
			? db_sq_int(s, "SELECT 1 FROM users WHERE account_id = $1 AND id = $2",
				    DB_ARGS(DB_INT(json_integer_value(v))), &one, e) : 0;
		if (found <= 0) {
			if (found == 0)
				ERR_INVALID(e, "mentions must name users of this account");
			return -1;
		}
	}
	return 0;
}

/* Claims uploaded attachments for the message: only this account's, only
 * ones not on a message yet, and only the author's own uploads (a staff
 * upload belongs to its uploader until it is sent; files a channel stored
 * have no uploader and go with that channel's customer messages). */
static int attach(const struct scope *s, int64_t message_id, int64_t uploader,
		  const json_t *ids, struct err *e)
{
	size_t i;
	const json_t *v;
	json_array_foreach(ids, i, v) {
		int64_t n = json_is_integer(v)
			? db_sexec(s, "UPDATE attachments SET message_id = $2 WHERE "
				      "account_id = $1 AND id = $3 AND message_id IS NULL AND "
				      "COALESCE(uploaded_by, 0) = $4",
				   DB_ARGS(DB_INT(message_id), DB_INT(json_integer_value(v)),
					   DB_INT(uploader)), e)
			: 0;
		if (n < 0)
			return -1;
		if (n == 0) {
			ERR_INVALID(e, "attachment %lld does not exist or is already used",
				    (long long)json_integer_value(v));
			return -1;
		}
	}
	return 0;
}

int message_add(const struct scope *s, const struct message_new *in,
		int64_t *id, struct err *e)
{
	if (check(s, in, e) < 0)
		return -1;
	const char *direction = in->internal ? "internal"
				: strcmp(in->author_kind, "customer") == 0 ? "in" : "out";
	char *mentions = in->mentions ? json_dumps(in->mentions, JSON_COMPACT) : NULL;
	int rc = db_sq_int(s,
		"INSERT INTO messages (account_id, ticket_id, author_kind, author_user_id, "
		"customer_id, direction, internal, channel_id, external_id, text, html, "
		"mentions, delivery_status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
		"$8, $9, $10, $11, $12, $13, $14) RETURNING id",
		DB_ARGS(DB_INT(in->ticket_id), DB_TEXT(in->author_kind),
			in->author_user_id ? DB_INT(in->author_user_id) : DB_NULLV,
			in->customer_id ? DB_INT(in->customer_id) : DB_NULLV,
			DB_TEXT(direction), DB_INT(in->internal != 0),
			in->channel_id ? DB_INT(in->channel_id) : DB_NULLV,
			DB_TEXT(in->external_id), DB_TEXT(in->text ? in->text : ""),
			DB_TEXT(in->html), DB_TEXT(mentions ? mentions : "[]"),
			DB_TEXT(in->delivery_status), DB_INT(clock_now_ms())), id, e);
	free(mentions);
	if (rc < 0)
		return -1;
	return in->attachments ? attach(s, *id, in->author_user_id, in->attachments, e) : 0;
}

#define MESSAGE_COLS                                                          \
	"SELECT m.id, m.ticket_id, m.author_kind, m.author_user_id, u.name, "     \
	"m.customer_id, c.name, m.direction, m.internal, m.channel_id, m.text, "  \
	"m.html, m.mentions, m.delivery_status, m.delivery_error, m.created_at, " \
	"m.external_id, m.flags "                                                 \
	"FROM messages m LEFT JOIN users u ON u.id = m.author_user_id "           \
	"LEFT JOIN customers c ON c.id = m.customer_id "

static json_t *row_json(struct db_res *res)
{
	char ts[32];
	clock_iso8601(db_res_int(res, 15), ts, sizeof ts);
	json_t *author = json_pack("{ss so so}", "kind", db_res_text(res, 2),
		"id", db_res_isnull(res, 3) ? rj_int(res, 5) : rj_int(res, 3),
		"name", db_res_isnull(res, 3) ? rj_text(res, 6) : rj_text(res, 4));
	json_t *o = json_pack("{ss sI sI so ss sb so ss so so so so ss so}",
		"type", "message", "id", (json_int_t)db_res_int(res, 0),
		"ticket_id", (json_int_t)db_res_int(res, 1), "author", author,
		"direction", db_res_text(res, 7), "internal", (int)db_res_int(res, 8),
		"channel_id", rj_int(res, 9), "text", db_res_text(res, 10),
		"html", rj_text(res, 11),
		"mentions", json_loads(db_res_text(res, 12), 0, NULL),
		"delivery_status", rj_text(res, 13), "delivery_error", rj_text(res, 14),
		"created_at", ts, "attachments", json_array());
	/* The channel's own id (an e-mail's Message-ID) and what the channel
	 * noticed about it (auto_reply, bulk, dsn). */
	json_t *flags = json_loads(db_res_text(res, 17), 0, NULL);
	json_object_set_new(o, "external_id", rj_text(res, 16));
	json_object_set_new(o, "flags", json_is_array(flags) ? flags : json_array());
	if (flags && !json_is_array(flags))
		json_decref(flags);
	return o;
}

/* Adds each message's attachments to the objects in msgs. */
static int add_attachments(const struct scope *s, json_t *msgs, int64_t ticket_id,
			   int64_t message_id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT a.id, a.message_id, a.filename, a.content_type, a.size "
		     "FROM attachments a JOIN messages m ON m.id = a.message_id "
		     "WHERE a.account_id = $1 AND (m.ticket_id = $2 OR m.id = $3) ORDER BY a.id",
		  DB_ARGS(DB_INT(ticket_id), DB_INT(message_id)), &res, e) < 0)
		return -1;
	while (res && db_res_next(res)) {
		size_t i;
		json_t *m;
		json_array_foreach(msgs, i, m) {
			if (json_integer_value(json_object_get(m, "id")) != db_res_int(res, 1))
				continue;
			char url[64];
			snprintf(url, sizeof url, "/api/v1/attachments/%lld",
				 (long long)db_res_int(res, 0));
			json_array_append_new(json_object_get(m, "attachments"),
				json_pack("{sI ss ss sI ss}", "id", (json_int_t)db_res_int(res, 0),
					  "filename", db_res_text(res, 2), "content_type",
					  db_res_text(res, 3), "size", (json_int_t)db_res_int(res, 4),
					  "url", url));
		}
	}
	int rc = db_res_error(res, e);
	db_res_free(res);
	return rc;
}

json_t *message_get(const struct scope *s, int64_t id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, MESSAGE_COLS "WHERE m.account_id = $1 AND m.id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return NULL;
	json_t *list = json_array();
	if (res && db_res_next(res))
		json_array_append_new(list, row_json(res));
	db_res_free(res);
	json_t *m = NULL;
	if (json_array_size(list) == 0)
		ERR_NOT_FOUND(e, "message not found");
	else if (add_attachments(s, list, 0, id, e) == 0)
		m = json_incref(json_array_get(list, 0));
	json_decref(list);
	return m;
}

int message_list(const struct scope *s, int64_t ticket_id, int with_internal,
		 json_t *items, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, MESSAGE_COLS "WHERE m.account_id = $1 AND m.ticket_id = $2 "
		     "AND ($3 = 1 OR m.internal = 0) ORDER BY m.id",
		  DB_ARGS(DB_INT(ticket_id), DB_INT(with_internal != 0)), &res, e) < 0)
		return -1;
	json_t *list = json_array();
	while (res && db_res_next(res))
		json_array_append_new(list, row_json(res));
	int rc = db_res_error(res, e);
	db_res_free(res);
	if (rc == 0 && json_array_size(list))
		rc = add_attachments(s, list, ticket_id, 0, e);
	json_array_extend(items, list);
	json_decref(list);
	return rc;
}

int message_move(const struct scope *s, int64_t message_id, int64_t to_ticket,
		 struct err *e)
{
	int64_t n = db_sexec(s, "UPDATE messages SET ticket_id = $3 WHERE account_id = $1 "
				"AND id = $2", DB_ARGS(DB_INT(message_id), DB_INT(to_ticket)), e);
	if (n == 0)
		ERR_NOT_FOUND(e, "message not found");
	return n > 0 ? 0 : -1;
}

int message_announce(const struct scope *s, const json_t *msg,
		     int64_t ticket_number, struct err *e)
{
	int64_t ticket_id = json_integer_value(json_object_get(msg, "ticket_id"));
	json_t *data = json_pack("{sO sI sI}", "message", msg, "ticket_id",
				 (json_int_t)ticket_id, "ticket_number", (json_int_t)ticket_number);
	int wanted = webhook_wanted(s, "message.created", e);
	int rc = wanted < 0 ? -1 : 0;
	if (wanted > 0)
		rc = webhook_emit(s, "message.created", data, e);
	struct event_target t = {.audience = EV_STAFF};
	int chat = 0;
	if (rc == 0)
		rc = events_ticket_target(s, ticket_id, &t, &chat, e);
	int64_t customer = t.customer_id;
	t.customer_id = 0;
	if (rc == 0)
		rc = events_add(s, "message.created", &t, data, e);
	if (rc == 0 && chat && !json_is_true(json_object_get(msg, "internal")))
		rc = chat_message_event(s, ticket_id, customer, msg, e);
	json_decref(data);
	return rc;
}
