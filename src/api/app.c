/*
 * app.c -- the application hooks around every handler (see api.h).
 *
 * before: authenticate (session cookie or Bearer token), check CSRF for
 * unsafe methods on cookie sessions, ask core/rbac whether the route's
 * permission is held.  after: end the request's transaction -- commit a
 * successful, audited write; roll back everything else.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/log.h"
#include "../util/token.h"
#include "api.h"

#define SESSION_COOKIE "kefu_session"

/* Opens the worker's connection if it has none.  A worker that could not
 * connect at start (database down) keeps answering -- 503 for what needs the
 * database -- and tries again on each request until it succeeds. */
static int worker_connect(struct worker *w)
{
	if (w->db)
		return 0;
	struct err e = {0};
	if (db_open(w->app->cfg->database, &w->db, &e) < 0) {
		log_error("worker %d: database: %s", w->index, e.msg);
		w->db = NULL;
		return -1;
	}
	return 0;
}

static void *worker_init(void *arg, int index)
{
	struct worker *w = xcalloc(1, sizeof *w);
	w->app = arg;
	w->index = index;
	worker_connect(w);
	return w;
}

static void worker_free(void *wctx)
{
	struct worker *w = wctx;
	if (!w)
		return;
	db_close(w->db);
	free(w);
}

static int unsafe_method(enum http_method m)
{
	return m != HTTP_GET && m != HTTP_HEAD && m != HTTP_OPTIONS;
}

/* 1 authenticated, 0 no credentials or bad ones, -1 error. */
static int authenticate(struct req *r, struct worker *w, struct actx *c,
			struct err *e)
{
	const char *authz = req_header(r, "authorization");
	if (authz && strncasecmp(authz, "Bearer ", 7) == 0)
		return auth_bearer(w->db, authz + 7, &c->who, e);
	char cookie[128];
	if (req_cookie(r, SESSION_COOKIE, cookie, sizeof cookie) == 0)
		return auth_session(w->db, &w->app->policy, cookie, &c->who, e);
	return 0;
}

static int before(struct req *r)
{
	struct worker *w = r->wctx;
	struct actx *c = &w->ctx;
	memset(c, 0, sizeof *c);
	r->app = c;
	if (!r->route || (r->route->flags & ROUTE_NO_DB))
		return 0;
	if (worker_connect(w) < 0) {
		reply_error(r, 503, "unavailable", "the database is not reachable");
		if (strncmp(r->path, "/widget/", 8) == 0) /* readable by the chat widget */
			reply_header(r, "Access-Control-Allow-Origin", "*");
		return -1;
	}
	if (r->route->flags & ROUTE_PUBLIC)
		return 0;
	struct err e = {0};
	int rc = authenticate(r, w, c, &e);
	if (rc < 0) {
		api_fail(r, &e);
		return -1;
	}
	if (rc == 0) {
		reply_error(r, 401, "unauthenticated", "log in or send a valid API token");
		return -1;
	}
	c->authenticated = 1;
	c->s = (struct scope){w->db, c->who.account_id};
	if (c->who.session_id && unsafe_method(r->method) &&
	    !(r->route->flags & ROUTE_NO_CSRF)) {
		const char *t = req_header(r, "x-csrf-token");
		if (!t || !token_equal(t, c->who.csrf)) {
			reply_error(r, 403, "csrf_failed",
				    "missing or wrong X-CSRF-Token header");
			return -1;
		}
	}
	if (!rbac_allows(&c->who, r->route->perm)) {
		reply_error(r, 403, "forbidden", "your role lacks the permission '%s'",
			    r->route->perm);
		return -1;
	}
	return 0;
}

static void replace_with_error(struct req *r, const char *why)
{
	buf_reset(&r->resp_body);
	buf_reset(&r->resp_headers);
	reply_error(r, 500, "internal", "%s", why);
}

static void after(struct req *r)
{
	struct worker *w = r->wctx;
	int ok = r->status > 0 && r->status < 400;
	unsigned flags = r->route ? r->route->flags : 0;
	/* Every successful write through the API must leave an audit entry;
	 * one that did not is a bug, caught here for every route at once. */
	if (ok && r->route && unsafe_method(r->method) && !w->ctx.audited &&
	    !(flags & (ROUTE_NO_AUDIT | ROUTE_OWN_TX))) {
		log_error("%s %s changed data without an audit entry",
			  http_method_str(r->method), r->route->pattern);
		ok = 0;
		replace_with_error(r, "write was not audited");
	}
	if (!w->db || !db_in_tx(w->db))
		return;
	if (!ok) {
		db_rollback(w->db);
		return;
	}
	struct err e = {0};
	if (db_commit(w->db, &e) < 0) {
		log_error("commit failed: %s", e.msg);
		replace_with_error(r, "the change could not be saved");
	}
}

struct http_app api_http_app(struct app *app)
{
	return (struct http_app){
		.worker_init = worker_init,
		.worker_free = worker_free,
		.before = before,
		.after = after,
		.arg = app,
	};
}
