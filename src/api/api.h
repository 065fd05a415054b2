/*
 * api.h -- what every REST handler in src/api/ shares.
 *
 * Owns: the application side of the HTTP server (per-worker database
 * connection, authentication and permission check before each handler,
 * commit/rollback after it), the request context handlers read, and the
 * small helpers that keep handlers short: ids from the path, pagination,
 * list replies, beginning a write and auditing it.
 *
 * A write handler reads the same way everywhere:
 *     parse and validate -> api_begin(r) -> core_...() -> api_audit(r, ...)
 *     -> reply.  The after-hook commits when the reply is a success and the
 *     write was audited, and rolls back otherwise, so a handler never
 *     commits or forgets to roll back.
 */
#ifndef KEFU_API_H
#define KEFU_API_H

#include <jansson.h>
#include <stdint.h>

#include "../config.h"
#include "../core/audit.h"
#include "../core/auth.h"
#include "../core/rbac.h"
#include "../core/ratelimit.h"
#include "../http/http.h"
#include "../store/db.h"

/* Process-wide application state (read-only once serving). */
struct app {
	const struct config *cfg;
	struct auth_policy policy;
	struct ratelimit *login_limit;
	struct ratelimit *widget_session_limit; /* new chat sessions per IP */
	struct ratelimit *widget_message_limit; /* messages per chat session */
};

/* 0 when rl allows key now; else replies 429 with Retry-After (what: "login
 * attempts", ...) and returns -1. */
int api_rate_check(struct req *r, struct ratelimit *rl, const char *key, const char *what);

/* Per-request context, in r->app. */
struct actx {
	struct principal who;
	struct scope s;     /* {db, who.account_id} once authenticated */
	int authenticated;
	int audited;        /* api_audit calls so far */
};

/* Per-worker context, in r->wctx. */
struct worker {
	struct app *app;
	int index;
	struct db *db; /* NULL while the database is unreachable */
	struct actx ctx;
};

/* The route table and the hooks, for http_serve. */
const struct route *api_routes(size_t *n);
struct http_app api_http_app(struct app *app);

static inline struct actx *api_ctx(struct req *r) { return (struct actx *)r->app; }
static inline struct worker *api_worker(struct req *r) { return (struct worker *)r->wctx; }
static inline const struct scope *api_scope(struct req *r) { return &api_ctx(r)->s; }

/* Path parameter i as a positive id; replies 404 and returns -1 if it is
 * not one. */
int api_id(struct req *r, int i, int64_t *id);
/* ?cursor=C&limit=N (default 50, at most 200; "after" is an alias of
 * cursor); the cursor is the "next" of the previous page.  Replies 400 on
 * bad values. */
int api_page(struct req *r, int64_t *after, int *limit);
/* {"items": items, "next": "ID" | null}; steals items. */
void api_reply_list(struct req *r, json_t *items, int64_t next);
/* May the caller see personal data (phones, ID numbers) unmasked? */
static inline int api_unmask(struct req *r) { return rbac_can(&api_ctx(r)->who, PERM_PII_READ); }
/* Reply e, or a 500 when e carries no status. */
void api_fail(struct req *r, const struct err *e);

/* Begin the request's write transaction; replies 500 and returns -1 on
 * failure. */
int api_begin(struct req *r);
/* Record the write in the audit log (in the same transaction).  detail is
 * borrowed.  Replies 500 and returns -1 on failure. */
int api_audit(struct req *r, const char *action, const char *target_type,
	      int64_t target_id, const json_t *detail);
/* The caller as an audit actor. */
struct audit_actor api_actor(struct req *r);

#endif
