/*
 * widget.c -- /widget/v1/...: what the chat widget (web/widget) or a
 * mobile app calls on behalf of a customer (docs/widget-protocol.md).
 *
 * These routes are public: a customer has no staff login.  The visitor's
 * session token travels as "Authorization: Bearer <token>" (or ?token= for
 * the WebSocket and for <img src> of an attachment), never as a cookie, so
 * every answer may be shared cross-origin (CORS "*") and there is nothing
 * for a cross-site request to forge.  Each handler runs its own
 * transactions (core/chat, core/ingest); ingest audits the messages.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/chat.h"
#include "../core/events.h"
#include "../core/ingest.h"
#include "../core/ticket.h"
#include "../text/sanitize.h"
#include "../util/clock.h"
#include "../util/token.h"
#include "hub.h"
#include "input.h"
#include "upload.h"

#define WIDGET_FLAGS (ROUTE_PUBLIC | ROUTE_NO_CSRF | ROUTE_NO_AUDIT | ROUTE_OWN_TX)
#define TEXT_MAX 8000

static void cors(struct req *r)
{
	reply_header(r, "Access-Control-Allow-Origin", "*");
	reply_header(r, "Vary", "Origin");
}

static void fail(struct req *r, const struct err *e)
{
	api_fail(r, e);
	cors(r);
}

static void preflight(struct req *r)
{
	reply_empty(r, 204);
	cors(r);
	reply_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
	reply_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
	reply_header(r, "Access-Control-Max-Age", "86400");
}

/* The visitor from the Bearer token (or ?token=); replies 401 and returns
 * -1 when there is none. */
static int visitor(struct req *r, struct chat_visitor *v)
{
	const char *authz = req_header(r, "authorization");
	char *q = NULL;
	const char *tok = authz && strncasecmp(authz, "Bearer ", 7) == 0 ? authz + 7
			  : (q = req_query(r, "token"));
	struct err e = {0};
	int ok = chat_session_auth(api_worker(r)->db, tok, v, &e);
	free(q);
	if (ok < 0)
		fail(r, &e);
	if (ok == 0) {
		reply_error(r, 401, "unauthenticated", "start a chat session first "
			    "(POST /widget/v1/sessions) and send its token");
		cors(r);
	}
	return ok == 1 ? 0 : -1;
}

static void reply_widget(struct req *r, int status, json_t *j)
{
	reply_json(r, status, j);
	cors(r);
}

static void config_get(struct req *r)
{
	char *key = req_query(r, "key"), *lang = req_query(r, "lang");
	struct err e = {0};
	json_t *c = chat_config(api_worker(r)->db, key, lang, &e);
	if (c) {
		/* so the widget can refuse a too large file before sending it */
		json_object_set_new(c, "max_upload", json_integer(api_worker(r)->app->cfg->max_upload_bytes));
		reply_widget(r, 200, c);
	}
	else
		fail(r, &e);
	free(key);
	free(lang);
}

static int read_identity(const json_t *o, struct chat_identity *id, struct err *e)
{
	static const char *const keys[] = {"id", "name", "email", "timestamp", "signature", NULL};
	if (!json_is_object(o)) {
		ERR_INVALID(e, "identity must be an object");
		return -1;
	}
	return in_keys(o, keys, e) < 0 || in_str(o, "id", 1, &id->id, e) < 0 ||
	       in_str(o, "name", 0, &id->name, e) < 0 || in_str(o, "email", 0, &id->email, e) < 0 ||
	       in_int(o, "timestamp", 1, &id->timestamp, e) < 0 ||
	       in_str(o, "signature", 1, &id->signature, e) < 0 ? -1 : 0;
}

static int read_open(const json_t *b, struct chat_open *o, struct chat_identity *id,
		     struct err *e)
{
	static const char *const keys[] = {"key", "token", "identity", "fields", "lang", "page", NULL};
	const json_t *page = json_object_get(b, "page"), *fields = json_object_get(b, "fields");
	memset(o, 0, sizeof *o);
	if (in_keys(b, keys, e) < 0 || in_str(b, "key", 1, &o->key, e) < 0 ||
	    in_str(b, "token", 0, &o->token, e) < 0 || in_str(b, "lang", 0, &o->lang, e) < 0)
		return -1;
	if ((fields && !json_is_object(fields)) || (page && !json_is_object(page))) {
		ERR_INVALID(e, "fields and page must be objects");
		return -1;
	}
	o->fields = fields;
	o->page_url = json_string_value(json_object_get(page, "url"));
	if (json_object_get(b, "identity") && !json_is_null(json_object_get(b, "identity"))) {
		if (read_identity(json_object_get(b, "identity"), id, e) < 0)
			return -1;
		o->identity = id;
	}
	return 0;
}

static void sessions_post(struct req *r)
{
	if (api_rate_check(r, api_worker(r)->app->widget_session_limit, r->remote_ip,
			   "chat sessions from this address") < 0) {
		cors(r);
		return;
	}
	json_t *b = req_json(r);
	if (!b) {
		cors(r);
		return;
	}
	struct chat_open o;
	struct chat_identity id = {0};
	char token[CHAT_TOKEN_LEN];
	json_t *v = NULL;
	struct err e = {0};
	if (read_open(b, &o, &id, &e) < 0 ||
	    chat_session_open(api_worker(r)->db, &o, token, &v, &e) < 0)
		fail(r, &e);
	else
		reply_widget(r, 200, json_pack("{ss so}", "token", token, "visitor", v));
	json_decref(b);
}

static void conversation_get(struct req *r)
{
	struct chat_visitor v;
	struct err e = {0};
	if (visitor(r, &v) < 0)
		return;
	json_t *c = chat_conversation(api_worker(r)->db, &v, &e);
	if (c)
		reply_widget(r, 200, c);
	else
		fail(r, &e);
}

/* ---- sending ---- */

struct outgoing {
	const char *text, *client_id;
	char *owned[2]; /* multipart copies of text and client_id */
	struct upload up[API_UPLOAD_MAX_FILES];
	int nup;
};

/* A form field's value as a string (the part's bytes are not one). */
static int field(struct req *r, const struct multipart_part *p, char **own, const char **out)
{
	if (memchr(p->data, 0, p->len)) {
		reply_error(r, 400, "invalid", "%s must be text", p->name);
		return -1;
	}
	free(*own);
	*own = strndup(p->data, p->len);
	*out = *own;
	return 0;
}

/* A multipart body: text, client_id and files. */
static int read_multipart(struct req *r, const struct multipart *m, struct outgoing *o)
{
	for (int i = 0; i < m->nparts; i++) {
		const struct multipart_part *p = &m->parts[i];
		if (!strcmp(p->name, "text") && !p->filename) {
			if (field(r, p, &o->owned[0], &o->text) < 0)
				return -1;
		} else if (!strcmp(p->name, "client_id") && !p->filename) {
			if (field(r, p, &o->owned[1], &o->client_id) < 0)
				return -1;
		} else if (!strcmp(p->name, "file")) {
			if (o->nup == API_UPLOAD_MAX_FILES) {
				reply_error(r, 400, "invalid", "at most %d files per message",
					    API_UPLOAD_MAX_FILES);
				return -1;
			}
			if (api_upload_read(r, p, &o->up[o->nup++], 0) < 0)
				return -1;
		} else {
			reply_error(r, 400, "invalid", "unknown part \"%.40s\"", p->name);
			return -1;
		}
	}
	return 0;
}

static int read_json_msg(const json_t *b, struct outgoing *o, struct err *e)
{
	static const char *const keys[] = {"text", "client_id", NULL};
	return in_keys(b, keys, e) < 0 || in_str(b, "text", 0, &o->text, e) < 0 ||
	       in_str(b, "client_id", 0, &o->client_id, e) < 0 ? -1 : 0;
}

static int check_msg(const struct outgoing *o, struct err *e)
{
	size_t tl = o->text ? strlen(o->text) : 0;
	if (tl > TEXT_MAX) {
		ERR_INVALID(e, "text must be at most %d bytes", TEXT_MAX);
		return -1;
	}
	if (tl == 0 && o->nup == 0) {
		ERR_INVALID(e, "send text or a file");
		return -1;
	}
	if (o->client_id && (!o->client_id[0] || strlen(o->client_id) > 64)) {
		ERR_INVALID(e, "client_id must be 1-64 characters");
		return -1;
	}
	return 0;
}

/* The files' rows, in their own transaction before the message's. */
static int store_files(struct req *r, const struct chat_visitor *v, struct outgoing *o,
		       json_t *ids, struct err *e)
{
	if (o->nup == 0)
		return 0;
	if (api_upload_blobs(r, o->up, o->nup, e) < 0)
		return -1;
	struct scope s = {api_worker(r)->db, v->account_id};
	if (db_begin(s.db, e) < 0)
		return -1;
	for (int i = 0; i < o->nup; i++) {
		if (blob_attachment_add(&s, &o->up[i].a, &o->up[i].a.id, e) < 0) {
			db_rollback(s.db);
			return -1;
		}
		json_array_append_new(ids, json_integer(o->up[i].a.id));
	}
	return db_commit(s.db, e);
}

static int send_msg(struct req *r, const struct chat_visitor *v, struct outgoing *o,
		    struct err *e)
{
	json_t *ids = json_array();
	char ext[96], thread[48], rnd[24];
	if (!o->client_id) {
		token_random(rnd, sizeof rnd, 12);
		o->client_id = rnd;
	}
	snprintf(ext, sizeof ext, "s%lld:%s", (long long)v->session_id, o->client_id);
	snprintf(thread, sizeof thread, "c%lld", (long long)v->customer_id);
	struct buf html = BUF_INIT;
	if (o->text)
		text_to_html(o->text, strlen(o->text), &html);
	struct inbound_msg m = {
		.channel_id = v->channel_id, .channel_type = "web", .external_id = ext,
		.thread_key = thread, .ids = {{v->kind, v->handle}}, .nids = 1,
		.text = o->text ? o->text : "", .html = html.data, .team_id = v->team_id,
		.attachments = ids,
	};
	struct ingest_result res;
	/* A retry of a message already stored: ingest answers with the
	 * original; its files must not be stored a second time. */
	struct scope sc = {api_worker(r)->db, v->account_id};
	int seen = ingest_seen(&sc, v->channel_id, ext, &res, e);
	int rc = seen < 0 ? -1 : 0;
	if (seen == 0)
		rc = store_files(r, v, o, ids, e);
	if (rc == 0)
		rc = ingest_message(api_worker(r)->db, v->account_id, &m, &res, e);
	if (rc == 0) {
		json_t *c = chat_sent(api_worker(r)->db, v, res.ticket_id, res.message_id, e);
		json_t *mine = c ? json_object_get(c, "message") : NULL;
		if (json_is_object(mine)) /* lets the widget match its own message to the echo */
			json_object_set_new(mine, "client_id", json_string(o->client_id));
		if (c)
			reply_widget(r, res.duplicate ? 200 : 201, c);
		rc = c ? 0 : -1;
	}
	buf_free(&html);
	json_decref(ids);
	return rc;
}

static void messages_post(struct req *r)
{
	struct chat_visitor v;
	struct outgoing o = {0};
	struct err e = {0};
	char key[32];
	if (visitor(r, &v) < 0)
		return;
	snprintf(key, sizeof key, "s%lld", (long long)v.session_id);
	if (api_rate_check(r, api_worker(r)->app->widget_message_limit, key, "messages") < 0) {
		cors(r);
		return;
	}
	const char *ct = req_header(r, "content-type");
	int rc = 0;
	if (ct && strncasecmp(ct, "multipart/", 10) == 0) {
		char boundary[MULTIPART_BOUNDARY_MAX + 1];
		struct multipart m;
		if (multipart_boundary(ct, boundary, sizeof boundary, &e) < 0 ||
		    multipart_parse(r->body, r->body_len, boundary, NULL, &m, &e) < 0) {
			fail(r, &e);
			return;
		}
		if (read_multipart(r, &m, &o) < 0)
			cors(r);
		else if (check_msg(&o, &e) < 0 || send_msg(r, &v, &o, &e) < 0)
			fail(r, &e);
		multipart_free(&m);
		free(o.owned[0]);
		free(o.owned[1]);
		return;
	}
	json_t *b = req_json(r);
	if (!b) {
		cors(r);
		return;
	}
	rc = read_json_msg(b, &o, &e);
	if (rc == 0)
		rc = check_msg(&o, &e);
	if (rc == 0)
		rc = send_msg(r, &v, &o, &e);
	if (rc < 0)
		fail(r, &e);
	json_decref(b);
}

/* ---- read marks, typing, rating ---- */

/* A JSON request of the visitor: parse, act; the answer is *out (200) or
 * nothing (204). */
typedef int (*visitor_action)(struct req *r, const struct chat_visitor *v, const json_t *b,
			      json_t **out, struct err *e);

static void run_action(struct req *r, visitor_action act)
{
	struct chat_visitor v;
	struct err e = {0};
	json_t *out = NULL;
	if (visitor(r, &v) < 0)
		return;
	json_t *b = req_json(r);
	if (!b) {
		cors(r);
		return;
	}
	if (act(r, &v, b, &out, &e) < 0) {
		fail(r, &e);
	} else if (out) {
		reply_widget(r, 200, out);
	} else {
		reply_empty(r, 204);
		cors(r);
	}
	json_decref(b);
}

static int act_read(struct req *r, const struct chat_visitor *v, const json_t *b,
		    json_t **out, struct err *e)
{
	static const char *const keys[] = {"message_id", NULL};
	int64_t id = 0;
	(void)out;
	return in_keys(b, keys, e) < 0 || in_int(b, "message_id", 1, &id, e) < 0 ||
	       chat_read(api_worker(r)->db, v, id, e) < 0 ? -1 : 0;
}

static int act_typing(struct req *r, const struct chat_visitor *v, const json_t *b,
		      json_t **out, struct err *e)
{
	static const char *const keys[] = {"typing", NULL};
	int typing;
	char key[32];
	(void)out;
	/* each one is a write: as limited as messages, in buckets of its own */
	snprintf(key, sizeof key, "t%lld", (long long)v->session_id);
	int wait = ratelimit_take(api_worker(r)->app->widget_message_limit, key, clock_now_ms());
	if (wait > 0) {
		char sec[16];
		snprintf(sec, sizeof sec, "%d", wait);
		reply_header(r, "Retry-After", sec);
		err_set(e, 429, "rate_limited", "too many typing notices; wait %d s", wait);
		return -1;
	}
	return in_keys(b, keys, e) < 0 || in_bool(b, "typing", &typing, e) < 0 ||
	       chat_typing(api_worker(r)->db, v, typing != 0, e) < 0 ? -1 : 0;
}

static int rate(struct req *r, const struct chat_visitor *v, int64_t score,
		const char *comment, struct err *e)
{
	int64_t ticket;
	struct db *db = api_worker(r)->db;
	if (score < 1 || score > 5) {
		ERR_INVALID(e, "score must be 1 to 5");
		return -1;
	}
	if (chat_current_ticket(db, v, &ticket, e) < 0)
		return -1;
	if (!ticket) {
		ERR_CONFLICT(e, "there is no conversation to rate yet");
		return -1;
	}
	struct scope s = {db, v->account_id};
	struct ticket_actor a = {{"customer", v->customer_id, "", "", ""}, NULL};
	if (db_begin(db, e) < 0)
		return -1;
	if (ticket_rate(&s, &a, ticket, (int)score, comment, e) < 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, e);
}

static int act_rate(struct req *r, const struct chat_visitor *v, const json_t *b,
		    json_t **out, struct err *e)
{
	static const char *const keys[] = {"score", "comment", NULL};
	int64_t score = 0;
	const char *comment;
	if (in_keys(b, keys, e) < 0 || in_int(b, "score", 1, &score, e) < 0 ||
	    in_str(b, "comment", 0, &comment, e) < 0 || rate(r, v, score, comment, e) < 0)
		return -1;
	*out = json_pack("{s{sI ss?}}", "rating", "score", (json_int_t)score, "comment", comment);
	return 0;
}

static void read_post(struct req *r) { run_action(r, act_read); }
static void typing_post(struct req *r) { run_action(r, act_typing); }
static void rating_post(struct req *r) { run_action(r, act_rate); }

/* ---- attachments and the WebSocket ---- */

static void attachment_get(struct req *r)
{
	struct chat_visitor v;
	int64_t id;
	struct err e = {0};
	if (visitor(r, &v) < 0 || api_id(r, 0, &id) < 0)
		return;
	struct scope s = {api_worker(r)->db, v.account_id};
	struct blob_attachment a;
	int ok = chat_attachment_allowed(s.db, &v, id, &e);
	if (ok == 0)
		ERR_NOT_FOUND(&e, "attachment not found");
	if (ok <= 0 || blob_attachment_get(&s, id, &a, &e) < 0)
		fail(r, &e);
	else {
		api_send_attachment(r, &a);
		cors(r);
	}
}

static void ws_customer(struct req *r)
{
	struct chat_visitor v;
	if (visitor(r, &v) < 0)
		return;
	char *q = req_query(r, "after");
	char *end = NULL;
	long long after = q ? strtoll(q, &end, 10) : -1;
	int bad = q && (!*q || *end || after < 0);
	free(q);
	struct err e = {0};
	if (bad) {
		reply_error(r, 400, "invalid", "after must be an event id (0 or more)");
		cors(r);
		return;
	}
	int64_t from = after;
	if (after < 0 && events_head(api_worker(r)->db, v.account_id, &from, &e) < 0) {
		fail(r, &e);
		return;
	}
	struct hub_sub *s = hub_sub_customer(&v, from);
	if (reply_websocket(r, &hub_ws_app, s) < 0)
		hub_sub_free(s);
}

const struct route api_widget_routes[] = {
	{HTTP_GET, "/widget/v1/config", config_get, NULL, WIDGET_FLAGS},
	{HTTP_POST, "/widget/v1/sessions", sessions_post, NULL, WIDGET_FLAGS},
	{HTTP_GET, "/widget/v1/conversation", conversation_get, NULL, WIDGET_FLAGS},
	{HTTP_POST, "/widget/v1/messages", messages_post, NULL, WIDGET_FLAGS | ROUTE_UPLOAD},
	{HTTP_POST, "/widget/v1/read", read_post, NULL, WIDGET_FLAGS},
	{HTTP_POST, "/widget/v1/typing", typing_post, NULL, WIDGET_FLAGS},
	{HTTP_POST, "/widget/v1/rating", rating_post, NULL, WIDGET_FLAGS},
	{HTTP_GET, "/widget/v1/attachments/{id}", attachment_get, NULL, WIDGET_FLAGS},
	{HTTP_GET, "/widget/v1/ws", ws_customer, NULL, WIDGET_FLAGS},
	{HTTP_OPTIONS, "/widget/v1/{path}", preflight, NULL, WIDGET_FLAGS | ROUTE_NO_DB},
	{HTTP_OPTIONS, "/widget/v1/attachments/{id}", preflight, NULL, WIDGET_FLAGS | ROUTE_NO_DB},
};
const size_t api_widget_nroutes = sizeof api_widget_routes / sizeof api_widget_routes[0];
