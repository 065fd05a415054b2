/*
 * outbox.c -- see outbox.h.
 *
 * The claim is one statement on both engines:
 *
 *   UPDATE outbox SET locked_until = now + lease, claims = claims + 1, ...
 *   WHERE id IN (SELECT id ... due ... LIMIT n) AND <due conditions again>
 *   RETURNING ...
 *
 * The due conditions are repeated outside the subquery on purpose.  On
 * PostgreSQL two nodes may pick the same ids in their subqueries; the second
 * UPDATE then waits for the first one's row locks and, once they are
 * released, re-evaluates its WHERE on the new row versions (READ COMMITTED's
 * re-check), where locked_until is now in the future -- so it skips those
 * rows instead of claiming them twice.  No FOR UPDATE SKIP LOCKED is needed,
 * which SQLite lacks; SQLite runs the whole statement under its single
 * writer lock anyway.
 *
 * `attempts` counts claims in the current round (a manual retry starts a
 * new round), so an attempt cut short by a crash still counts towards the
 * limit; `claims` never goes back and fences outcomes (see outbox.h).
 */
#include "outbox.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/log.h"

#define OUTBOX_KIND_MAX 32 /* sizeof outbox_item.kind */

static _Thread_local int queued_work;

int outbox_take_wakeup(void)
{
	int v = queued_work;
	queued_work = 0;
	return v;
}

int outbox_enqueue(const struct scope *s, const char *kind, int64_t ref_id,
		   const char *url, const char *payload_json, int64_t *id,
		   struct err *e)
{
	return outbox_enqueue_at(s, kind, ref_id, url, payload_json, clock_now_ms(), id, e);
}

int outbox_enqueue_at(const struct scope *s, const char *kind, int64_t ref_id,
		      const char *url, const char *payload_json, int64_t due_ms,
		      int64_t *id, struct err *e)
{
	if (!db_in_tx(s->db)) {
		ERR_INTERNAL(e, "outbox item outside a transaction");
		return -1;
	}
	if (!kind || !kind[0] || strlen(kind) >= OUTBOX_KIND_MAX || !url ||
	    !url[0] || !payload_json) {
		ERR_INTERNAL(e, "outbox item without kind, url or payload");
		return -1;
	}
	/* The payload is sent byte for byte; a document that is not JSON would
	 * only be noticed by the receiver, so refuse it here. */
	json_t *check = json_loads(payload_json, JSON_DECODE_ANY, NULL);
	if (!check) {
		ERR_INTERNAL(e, "outbox payload is not JSON");
		return -1;
	}
	json_decref(check);
	if (db_sq_int(s,
		      "INSERT INTO outbox (account_id, kind, ref_id, url, payload, "
		      "next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
		      "RETURNING id",
		      DB_ARGS(DB_TEXT(kind), DB_INT(ref_id), DB_TEXT(url),
			      DB_TEXT(payload_json), DB_INT(due_ms), DB_INT(clock_now_ms())),
		      id, e) < 0)
		return -1;
	queued_work = 1;
	return 0;
}

int outbox_payload_set(const struct scope *s, int64_t id,
		       const char *payload_json, struct err *e)
{
	int64_t n = db_sexec(s,
		"UPDATE outbox SET payload = $3 WHERE account_id = $1 AND id = $2 "
		"AND status = 'pending'",
		DB_ARGS(DB_INT(id), DB_TEXT(payload_json)), e);
	if (n == 0)
		ERR_NOT_FOUND(e, "outbox item not found");
	return n > 0 ? 0 : -1;
}

/* ---- the delivery log ---- */

#define ITEM_COLS                                                            \
	"SELECT id, kind, ref_id, url, status, next_attempt_at, last_status, " \
	"last_error, created_at, delivered_at, payload FROM outbox "

static json_t *iso_or_null(const struct db_res *res, int col)
{
	if (db_res_isnull(res, col))
		return json_null();
	char ts[32];
	clock_iso8601(db_res_int(res, col), ts, sizeof ts);
	return json_string(ts);
}

static json_t *item_json(const struct db_res *res)
{
	const char *status = db_res_text(res, 4);
	json_t *payload = json_loads(db_res_text(res, 10), JSON_DECODE_ANY, NULL);
	json_t *event = json_is_object(payload) ? json_object_get(payload, "event") : NULL;
	json_t *o = json_pack("{sI ss sI ss sO ss}",
		"id", (json_int_t)db_res_int(res, 0), "kind", db_res_text(res, 1),
		"ref_id", (json_int_t)db_res_int(res, 2), "url", db_res_text(res, 3),
		"event", json_is_string(event) ? event : json_null(), "status", status);
	json_object_set_new(o, "next_attempt_at",
			    strcmp(status, "pending") == 0 ? iso_or_null(res, 5) : json_null());
	json_object_set_new(o, "last_status", db_res_isnull(res, 6) ? json_null()
			    : json_integer(db_res_int(res, 6)));
	const char *le = db_res_text(res, 7);
	json_object_set_new(o, "last_error", le ? json_string(le) : json_null());
	json_object_set_new(o, "created_at", iso_or_null(res, 8));
	json_object_set_new(o, "delivered_at", iso_or_null(res, 9));
	json_object_set_new(o, "payload", payload ? payload : json_null());
	json_object_set_new(o, "attempts", json_array());
	return o;
}

/* Appends the attempts of the items in `items` (ids from lo to hi) to each
 * item's "attempts", newest first. */
static int add_attempts(const struct scope *s, const char *kind, int64_t ref_id,
			int64_t lo, int64_t hi, json_t *items, size_t from,
			struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s,
		  "SELECT a.outbox_id, a.attempt, a.http_status, a.error, "
		  "a.duration_ms, a.created_at FROM outbox_attempts a JOIN outbox o "
		  "ON o.id = a.outbox_id WHERE a.account_id = $1 AND o.kind = $2 "
		  "AND o.ref_id = $3 AND a.outbox_id >= $4 AND a.outbox_id <= $5 "
		  "ORDER BY a.outbox_id DESC, a.id DESC",
		  DB_ARGS(DB_TEXT(kind), DB_INT(ref_id), DB_INT(lo), DB_INT(hi)),
		  &res, e) < 0)
		return -1;
	size_t i = from, n = json_array_size(items);
	while (res && db_res_next(res)) {
		int64_t oid = db_res_int(res, 0);
		/* Both lists are in descending id order: walk them together. */
		while (i < n && json_integer_value(json_object_get(
				json_array_get(items, i), "id")) > oid)
			i++;
		if (i == n)
			break;
		json_t *item = json_array_get(items, i);
		if (json_integer_value(json_object_get(item, "id")) != oid)
			continue;
		const char *err = db_res_text(res, 3);
		json_t *a = json_pack("{sI so? so? sI so}",
			"attempt", (json_int_t)db_res_int(res, 1),
			"http_status", db_res_isnull(res, 2) ? NULL
				: json_integer(db_res_int(res, 2)),
			"error", err ? json_string(err) : NULL,
			"duration_ms", (json_int_t)db_res_int(res, 4),
			"created_at", iso_or_null(res, 5));
		json_array_append_new(json_object_get(item, "attempts"), a);
	}
	int rc = db_res_error(res, e);
	db_res_free(res);
	return rc;
}

json_t *outbox_get(const struct scope *s, const char *kind, int64_t ref_id,
		   int64_t id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, ITEM_COLS "WHERE account_id = $1 AND kind = $2 AND ref_id = $3 "
		  "AND id = $4",
		  DB_ARGS(DB_TEXT(kind), DB_INT(ref_id), DB_INT(id)), &res, e) < 0)
		return NULL;
	json_t *items = json_array();
	if (res && db_res_next(res))
		json_array_append_new(items, item_json(res));
	db_res_free(res);
	json_t *o = NULL;
	if (json_array_size(items) == 0)
		ERR_NOT_FOUND(e, "delivery not found");
	else if (add_attempts(s, kind, ref_id, id, id, items, 0, e) == 0)
		o = json_incref(json_array_get(items, 0));
	json_decref(items);
	return o;
}

int outbox_list(const struct scope *s, const char *kind, int64_t ref_id,
		int64_t before, int limit, json_t *items, int64_t *next,
		struct err *e)
{
	struct db_res *res = NULL;
	*next = 0;
	if (db_sq(s, ITEM_COLS "WHERE account_id = $1 AND kind = $2 AND ref_id = $3 "
		  "AND ($4 = 0 OR id < $4) ORDER BY id DESC LIMIT $5",
		  DB_ARGS(DB_TEXT(kind), DB_INT(ref_id), DB_INT(before),
			  DB_INT(limit + 1)), &res, e) < 0)
		return -1;
	size_t from = json_array_size(items);
	int count = 0;
	int64_t hi = 0, lo = 0;
	while (res && db_res_next(res)) {
		if (count == limit) {
			*next = lo;
			break;
		}
		lo = db_res_int(res, 0);
		if (!hi)
			hi = lo;
		json_array_append_new(items, item_json(res));
		count++;
	}
	int rc = db_res_error(res, e);
	db_res_free(res);
	if (rc < 0)
		return -1;
	return count ? add_attempts(s, kind, ref_id, lo, hi, items, from, e) : 0;
}

int outbox_retry(const struct scope *s, const char *kind, int64_t ref_id,
		 int64_t id, struct err *e)
{
	int64_t n = db_sexec(s,
		"UPDATE outbox SET status = 'pending', attempts = 0, "
		"next_attempt_at = $5, locked_until = 0 WHERE account_id = $1 "
		"AND kind = $2 AND ref_id = $3 AND id = $4 AND status = 'failed'",
		DB_ARGS(DB_TEXT(kind), DB_INT(ref_id), DB_INT(id),
			DB_INT(clock_now_ms())), e);
	if (n < 0)
		return -1;
	if (n == 0) {
		int64_t found = 0;
		int rc = db_sq_int(s,
			"SELECT COUNT(*) FROM outbox WHERE account_id = $1 AND "
			"kind = $2 AND ref_id = $3 AND id = $4",
			DB_ARGS(DB_TEXT(kind), DB_INT(ref_id), DB_INT(id)), &found, e);
		if (rc < 0)
			return -1;
		if (found)
			ERR_CONFLICT(e, "only a failed delivery can be retried");
		else
			ERR_NOT_FOUND(e, "delivery not found");
		return -1;
	}
	if (strcmp(kind, OUTBOX_CHANNEL_REPLY) == 0 &&
	    db_sexec(s,
		     "UPDATE messages SET delivery_status = 'pending', "
		     "delivery_error = NULL WHERE account_id = $1 AND id = $2",
		     DB_ARGS(DB_INT(ref_id)), e) < 0)
		return -1;
	queued_work = 1;
	return 0;
}

int outbox_forget(const struct scope *s, const char *kind, int64_t ref_id,
		  struct err *e)
{
	if (db_sexec(s,
		     "DELETE FROM outbox_attempts WHERE account_id = $1 AND outbox_id "
		     "IN (SELECT id FROM outbox WHERE account_id = $1 AND kind = $2 "
		     "AND ref_id = $3)",
		     DB_ARGS(DB_TEXT(kind), DB_INT(ref_id)), e) < 0)
		return -1;
	return db_sexec(s,
			"DELETE FROM outbox WHERE account_id = $1 AND kind = $2 AND "
			"ref_id = $3",
			DB_ARGS(DB_TEXT(kind), DB_INT(ref_id)), e) < 0 ? -1 : 0;
}

/* ---- the worker's side ---- */

void outbox_item_free(struct outbox_item *it)
{
	if (!it)
		return;
	free(it->url);
	free(it->payload);
	free(it->secret);
	free(it->channel_type);
	free(it->channel_config);
	memset(it, 0, sizeof *it);
}

/* The X-Kefu-Event value: the payload's "event" when it is a plain name,
 * else the kind -- a header value must not carry arbitrary bytes. */
static void item_event(struct outbox_item *it)
{
	snprintf(it->event, sizeof it->event, "%s", it->kind);
	json_t *p = json_loads(it->payload, JSON_DECODE_ANY, NULL);
	const char *ev = json_string_value(json_object_get(p, "event"));
	if (ev && ev[0] && strlen(ev) < sizeof it->event &&
	    strspn(ev, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		       "0123456789._-") == strlen(ev))
		snprintf(it->event, sizeof it->event, "%s", ev);
	json_decref(p);
}

/* A chat e-mail: the mailbox named in the payload sends it, unless the
 * visitor has read the message in the chat by now. */
static int item_chat_email(struct db *db, struct outbox_item *it, struct err *e)
{
	struct scope s = {db, it->account_id};
	json_t *p = json_loads(it->payload, 0, NULL);
	int64_t mailbox = json_integer_value(json_object_get(p, "mailbox_id"));
	json_decref(p);
	int64_t read = 0;
	if (db_sq_int(&s, "SELECT COALESCE(t.customer_read_id, 0) FROM messages m JOIN tickets t "
			  "ON t.account_id = m.account_id AND t.id = m.ticket_id WHERE "
			  "m.account_id = $1 AND m.id = $2", DB_ARGS(DB_INT(it->ref_id)), &read, e) < 0)
		return -1;
	it->already_read = read >= it->ref_id;
	struct db_res *res = NULL;
	if (db_sq(&s, "SELECT type, config FROM channels WHERE account_id = $1 AND id = $2 "
		      "AND active = 1", DB_ARGS(DB_INT(mailbox)), &res, e) < 0)
		return -1;
	if (res && db_res_next(res)) {
		it->channel_type = xstrdup(db_res_text(res, 0));
		it->channel_config = xstrdup(db_res_text(res, 1));
	} else {
		it->gone = 1;
	}
	db_res_free(res);
	return 0;
}

/* The signing key: the webhook's secret, or the secret of the channel the
 * replied-to message belongs to (and that channel's type and config). */
static int item_secret(struct db *db, struct outbox_item *it, struct err *e)
{
	if (strcmp(it->kind, OUTBOX_CHAT_EMAIL) == 0)
		return item_chat_email(db, it, e);
	struct scope s = {db, it->account_id};
	struct db_res *res = NULL;
	int webhook = strcmp(it->kind, OUTBOX_WEBHOOK) == 0;
	int rc;
	if (webhook)
		rc = db_sq(&s, "SELECT secret FROM webhooks WHERE account_id = $1 AND id = $2",
			   DB_ARGS(DB_INT(it->ref_id)), &res, e);
	else if (strcmp(it->kind, OUTBOX_CHANNEL_REPLY) == 0)
		rc = db_sq(&s,
			   "SELECT c.secret, c.type, c.config FROM messages m JOIN channels c ON "
			   "c.account_id = m.account_id AND c.id = m.channel_id "
			   "WHERE m.account_id = $1 AND m.id = $2",
			   DB_ARGS(DB_INT(it->ref_id)), &res, e);
	else
		return 0;
	if (rc < 0)
		return -1;
	if (res && db_res_next(res)) {
		const char *sec = db_res_text(res, 0);
		it->secret = sec && sec[0] ? xstrdup(sec) : NULL;
		if (!webhook) {
			it->channel_type = xstrdup(db_res_text(res, 1));
			it->channel_config = xstrdup(db_res_text(res, 2));
		}
	} else if (webhook) {
		it->gone = 1;
	}
	db_res_free(res);
	return 0;
}

int outbox_claim(struct db *db, int64_t now, int64_t lease_ms, int max,
		 struct outbox_item **items, int *n, struct err *e)
{
	*items = NULL;
	*n = 0;
	struct db_res *res = NULL;
	if (db_query(db,
		     "UPDATE outbox SET locked_until = $1, attempts = attempts + 1, "
		     "claims = claims + 1 WHERE id IN (SELECT id FROM outbox WHERE "
		     "status = 'pending' AND next_attempt_at <= $2 AND locked_until <= $2 "
		     "ORDER BY next_attempt_at, id LIMIT $3) AND status = 'pending' "
		     "AND next_attempt_at <= $2 AND locked_until <= $2 RETURNING id, "
		     "account_id, kind, ref_id, url, payload, attempts, claims",
		     DB_ARGS(DB_INT(now + lease_ms), DB_INT(now), DB_INT(max)), &res,
		     e) < 0)
		return -1;
	struct outbox_item *v = xcalloc((size_t)(max > 0 ? max : 1), sizeof *v);
	int count = 0;
	while (res && count < max && db_res_next(res)) {
		struct outbox_item *it = &v[count++];
		it->id = db_res_int(res, 0);
		it->account_id = db_res_int(res, 1);
		snprintf(it->kind, sizeof it->kind, "%s", db_res_text(res, 2));
		it->ref_id = db_res_int(res, 3);
		it->url = xstrdup(db_res_text(res, 4));
		it->payload = xstrdup(db_res_text(res, 5));
		it->attempt = db_res_int(res, 6);
		it->claim = db_res_int(res, 7);
	}
	/* Claimed rows read so far stay claimed even if reading failed: their
	 * leases expire and they are claimed again. */
	int rc = db_res_error(res, e);
	db_res_free(res);
	for (int i = 0; rc == 0 && i < count; i++) {
		item_event(&v[i]);
		rc = item_secret(db, &v[i], e);
	}
	if (rc < 0) {
		for (int i = 0; i < count; i++)
			outbox_item_free(&v[i]);
		free(v);
		return -1;
	}
	*items = v;
	*n = count;
	return 0;
}

int outbox_complete(struct db *db, const struct outbox_item *it,
		    const struct outbox_result *r, struct err *e)
{
	struct scope s = {db, it->account_id};
	struct db_val status = r->http_status ? DB_INT(r->http_status) : DB_NULLV;
	if (db_begin(db, e) < 0)
		return -1;
	int64_t n;
	switch (r->outcome) {
	case OUTBOX_DELIVERED:
		n = db_sexec(&s,
			"UPDATE outbox SET status = 'delivered', delivered_at = $4, "
			"locked_until = 0, last_status = $5, last_error = NULL "
			"WHERE account_id = $1 AND id = $2 AND claims = $3",
			DB_ARGS(DB_INT(it->id), DB_INT(it->claim), DB_INT(r->now), status), e);
		break;
	case OUTBOX_RETRY:
		n = db_sexec(&s,
			"UPDATE outbox SET next_attempt_at = $4, locked_until = 0, "
			"last_status = $5, last_error = $6 "
			"WHERE account_id = $1 AND id = $2 AND claims = $3",
			DB_ARGS(DB_INT(it->id), DB_INT(it->claim),
				DB_INT(r->next_attempt_at), status, DB_TEXT(r->error)), e);
		break;
	default:
		n = db_sexec(&s,
			"UPDATE outbox SET status = 'failed', locked_until = 0, "
			"last_status = $4, last_error = $5 "
			"WHERE account_id = $1 AND id = $2 AND claims = $3",
			DB_ARGS(DB_INT(it->id), DB_INT(it->claim), status,
				DB_TEXT(r->error)), e);
		break;
	}
	if (n <= 0) {
		db_rollback(db);
		return n < 0 ? -1 : 0;
	}
	if (db_sexec(&s,
		     "INSERT INTO outbox_attempts (outbox_id, account_id, attempt, "
		     "http_status, error, duration_ms, created_at) VALUES ($2, $1, $3, "
		     "$4, $5, $6, $7)",
		     DB_ARGS(DB_INT(it->id), DB_INT(it->attempt), status,
			     DB_TEXT(r->error), DB_INT(r->duration_ms), DB_INT(r->now)),
		     e) < 0)
		goto fail;
	if (strcmp(it->kind, OUTBOX_CHANNEL_REPLY) == 0) {
		/* While retrying, the message stays 'pending' but shows why. */
		const char *ds = r->outcome == OUTBOX_DELIVERED ? "sent"
				 : r->outcome == OUTBOX_FAILED  ? "failed" : NULL;
		if (db_sexec(&s,
			     "UPDATE messages SET delivery_status = COALESCE(CAST($3 AS TEXT), "
			     "delivery_status), delivery_error = $4 WHERE account_id = $1 "
			     "AND id = $2",
			     DB_ARGS(DB_INT(it->ref_id), DB_TEXT(ds), DB_TEXT(r->error)),
			     e) < 0)
			goto fail;
	}
	return db_commit(db, e) < 0 ? -1 : 1;
fail:
	db_rollback(db);
	return -1;
}

int outbox_next_due(struct db *db, int64_t now, int64_t *due, struct err *e)
{
	*due = 0;
	return db_query_int(db,
		"SELECT next_attempt_at FROM outbox WHERE status = 'pending' AND "
		"locked_until <= $1 ORDER BY next_attempt_at LIMIT 1",
		DB_ARGS(DB_INT(now)), due, e) < 0 ? -1 : 0;
}
