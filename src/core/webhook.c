/*
 * webhook.c -- see webhook.h.
 *
 * URLs are parsed with libcurl's URL API -- the same parser that will send
 * to them -- rather than by hand.
 */
#include "webhook.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/token.h"
#include "outbox.h"

#define URL_MAX 2000
#define EVENTS_MAX 32
#define SECRET_PREFIX "whsec_"

#define NAME(n) n,
static const char *const events[] = {WEBHOOK_EVENTS(NAME)};
#undef NAME
#define NEVENTS (sizeof events / sizeof events[0])

int webhook_event_known(const char *name)
{
	for (size_t i = 0; name && i < NEVENTS; i++)
		if (strcmp(events[i], name) == 0)
			return 1;
	return 0;
}

json_t *webhook_events_json(void)
{
	json_t *a = json_array();
	for (size_t i = 0; i < NEVENTS; i++)
		json_array_append_new(a, json_string(events[i]));
	return a;
}

static int check_url(const char *url, struct err *e)
{
	if (!url[0] || strlen(url) > URL_MAX) {
		ERR_INVALID(e, "url must be 1-%d bytes", URL_MAX);
		return -1;
	}
	/* What is stored is exactly what is sent: no spaces, controls or
	 * raw non-ASCII (percent-encode paths, use punycode hosts). */
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f) {
			ERR_INVALID(e, "url must not contain spaces, control characters "
				       "or non-ASCII bytes");
			return -1;
		}
	}
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
		 curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
		 curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
		 (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0) &&
		 host[0];
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(h);
	if (!ok) {
		ERR_INVALID(e, "url must be an http:// or https:// URL with a host");
		return -1;
	}
	return 0;
}

/* events -> compact JSON text (malloc'd) of the distinct names, in order;
 * ["*"] when "*" is among them. */
static char *events_text(const json_t *in, struct err *e)
{
	if (!json_is_array(in) || json_array_size(in) == 0 ||
	    json_array_size(in) > EVENTS_MAX) {
		ERR_INVALID(e, "events must be an array of 1-%d event names or \"*\"",
			    EVENTS_MAX);
		return NULL;
	}
	json_t *out = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(in, i, v) {
		const char *name = json_string_value(v);
		if (!name || (strcmp(name, "*") != 0 && !webhook_event_known(name))) {
			json_t *known = webhook_events_json();
			char *list = json_dumps(known, JSON_COMPACT);
			ERR_INVALID(e, "events[%zu] is not an event name; known: %s or \"*\"",
				    i, list);
			free(list);
			json_decref(known);
			json_decref(out);
			return NULL;
		}
		if (strcmp(name, "*") == 0) {
			json_array_clear(out);
			json_array_append_new(out, json_string("*"));
			break;
		}
		int dup = 0;
		for (size_t j = 0; j < json_array_size(out); j++)
			dup |= strcmp(json_string_value(json_array_get(out, j)), name) == 0;
		if (!dup)
			json_array_append_new(out, json_string(name));
	}
	char *text = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	return text;
}

static void new_secret(char out[64])
{
	char rnd[48];
	token_random(rnd, sizeof rnd, 32);
	snprintf(out, 64, SECRET_PREFIX "%s", rnd);
}

int webhook_create(const struct scope *s, const char *url, const json_t *ev,
		   int active, int64_t *id, struct err *e)
{
	if (!url) {
		ERR_INVALID(e, "url is required");
		return -1;
	}
	if (!ev) {
		ERR_INVALID(e, "events is required");
		return -1;
	}
	if (check_url(url, e) < 0)
		return -1;
	char *text = events_text(ev, e);
	if (!text)
		return -1;
	char secret[64];
	new_secret(secret);
	int rc = db_sq_int(s,
		"INSERT INTO webhooks (account_id, url, events, secret, active, "
		"created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) "
		"RETURNING id",
		DB_ARGS(DB_TEXT(url), DB_TEXT(text), DB_TEXT(secret),
			DB_INT(active != 0), DB_INT(clock_now_ms())), id, e);
	free(text);
	return rc < 0 ? -1 : 0;
}

int webhook_update(const struct scope *s, int64_t id, const char *url,
		   const json_t *ev, int active, int rotate_secret,
		   struct err *e)
{
	if (url && check_url(url, e) < 0)
		return -1;
	char *text = NULL;
	if (ev && !(text = events_text(ev, e)))
		return -1;
	char secret[64];
	if (rotate_secret)
		new_secret(secret);
	int64_t n = db_sexec(s,
		"UPDATE webhooks SET url = COALESCE($3, url), "
		"events = COALESCE($4, events), "
		"active = CASE WHEN $5 < 0 THEN active ELSE $5 END, "
		"secret = COALESCE($6, secret), updated_at = $7 "
		"WHERE account_id = $1 AND id = $2",
		DB_ARGS(DB_INT(id), DB_TEXT(url), DB_TEXT(text),
			DB_INT(active < 0 ? -1 : active != 0),
			DB_TEXT(rotate_secret ? secret : NULL), DB_INT(clock_now_ms())),
		e);
	free(text);
	if (n == 0)
		ERR_NOT_FOUND(e, "webhook not found");
	return n > 0 ? 0 : -1;
}

int webhook_delete(const struct scope *s, int64_t id, struct err *e)
{
	int64_t n = db_sexec(s, "DELETE FROM webhooks WHERE account_id = $1 AND id = $2",
			     DB_ARGS(DB_INT(id)), e);
	if (n == 0)
		ERR_NOT_FOUND(e, "webhook not found");
	if (n <= 0)
		return -1;
	return outbox_forget(s, OUTBOX_WEBHOOK, id, e);
}

#define WEBHOOK_COLS \
	"SELECT id, url, events, secret, active, created_at, updated_at FROM webhooks "

static json_t *row_json(const struct db_res *res)
{
	char created[32], updated[32];
	clock_iso8601(db_res_int(res, 5), created, sizeof created);
	clock_iso8601(db_res_int(res, 6), updated, sizeof updated);
	json_t *ev = json_loads(db_res_text(res, 2), 0, NULL);
	return json_pack("{sI ss so ss sb ss ss}", "id", (json_int_t)db_res_int(res, 0),
			 "url", db_res_text(res, 1), "events", ev ? ev : json_array(),
			 "secret", db_res_text(res, 3), "active", (int)db_res_int(res, 4),
			 "created_at", created, "updated_at", updated);
}

json_t *webhook_get(const struct scope *s, int64_t id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, WEBHOOK_COLS "WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return NULL;
	json_t *o = res && db_res_next(res) ? row_json(res) : NULL;
	db_res_free(res);
	if (!o)
		ERR_NOT_FOUND(e, "webhook not found");
	return o;
}

int webhook_list(const struct scope *s, json_t *items, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, WEBHOOK_COLS "WHERE account_id = $1 ORDER BY id", DB_NOARGS,
		  &res, e) < 0)
		return -1;
	while (res && db_res_next(res))
		json_array_append_new(items, row_json(res));
	int rc = db_res_error(res, e);
	db_res_free(res);
	return rc;
}

/* 1 when the stored events text subscribes to event. */
static int subscribed(const char *events_json, const char *event)
{
	json_t *a = json_loads(events_json, 0, NULL);
	size_t i;
	json_t *v;
	int yes = 0;
	json_array_foreach(a, i, v) {
		const char *name = json_string_value(v);
		if (name && (strcmp(name, "*") == 0 || strcmp(name, event) == 0))
			yes = 1;
	}
	json_decref(a);
	return yes;
}

int webhook_wanted(const struct scope *s, const char *event, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT events FROM webhooks WHERE account_id = $1 AND active = 1",
		  DB_NOARGS, &res, e) < 0)
		return -1;
	int wanted = 0;
	while (!wanted && res && db_res_next(res))
		wanted = subscribed(db_res_text(res, 0), event);
	int rc = db_res_error(res, e);
	db_res_free(res);
	return rc < 0 ? -1 : wanted;
}

int webhook_emit(const struct scope *s, const char *event, const json_t *data,
		 struct err *e)
{
	if (!db_in_tx(s->db)) {
		ERR_INTERNAL(e, "webhook event outside a transaction");
		return -1;
	}
	if (!webhook_event_known(event)) {
		ERR_INTERNAL(e, "unknown webhook event '%s' (add it to WEBHOOK_EVENTS)",
			     event ? event : "(null)");
		return -1;
	}
	/* Collect the targets first: no result stays open while inserting. */
	struct db_res *res = NULL;
	if (db_sq(s,
		  "SELECT id, url, events FROM webhooks WHERE account_id = $1 AND "
		  "active = 1 ORDER BY id",
		  DB_NOARGS, &res, e) < 0)
		return -1;
	json_t *targets = json_array();
	while (res && db_res_next(res))
		if (subscribed(db_res_text(res, 2), event))
			json_array_append_new(targets,
				json_pack("{sI ss}", "id", (json_int_t)db_res_int(res, 0),
					  "url", db_res_text(res, 1)));
	int rc = db_res_error(res, e);
	db_res_free(res);

	char ts[32];
	clock_iso8601(clock_now_ms(), ts, sizeof ts);
	size_t i;
	json_t *t;
	json_array_foreach(targets, i, t) {
		if (rc < 0)
			break;
		int64_t wid = json_integer_value(json_object_get(t, "id"));
		int64_t oid = 0;
		rc = outbox_enqueue(s, OUTBOX_WEBHOOK, wid,
				    json_string_value(json_object_get(t, "url")), "{}",
				    &oid, e);
		if (rc < 0)
			break;
		json_t *body = json_pack("{ss sI sI ss sO}", "event", event,
			"delivery_id", (json_int_t)oid,
			"account_id", (json_int_t)s->account_id, "created_at", ts,
			"data", data ? (json_t *)data : json_null());
		char *text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		rc = text ? outbox_payload_set(s, oid, text, e) : -1;
		if (!text)
			ERR_INTERNAL(e, "webhook payload could not be encoded");
		free(text);
	}
	json_decref(targets);
	return rc < 0 ? -1 : 0;
}
