/*
 * http.h -- the HTTP server as seen by the rest of Kefu.
 *
 * Owns: the request/response structure handed to handlers, the route table
 * format, the reply helpers, and http_serve() which runs the libuv loop.
 *
 * Threading: the loop thread only does socket I/O and HTTP framing.  Every
 * handler runs on a worker-pool thread, synchronously, with a per-worker
 * context (the application's database connection) in r->wctx.  A handler
 * fills the response with the reply_* helpers and returns; the server writes
 * it from the loop thread.  Handlers never see sockets.
 *
 * The HTTP layer knows nothing of accounts or permissions: a route carries a
 * `perm` string that the application's `before` hook interprets.
 */
#ifndef KEFU_HTTP_H
#define KEFU_HTTP_H

#include <http_parser.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../util/buf.h"
#include "../util/err.h"

#define REQ_MAX_PARAMS 8

struct http_header {
	char *name; /* lower-cased */
	char *value;
};

struct route;

struct req {
	/* ---- request, read-only for handlers ---- */
	enum http_method method;
	char *path;  /* percent-decoded path, no query string */
	char *query; /* raw query string without '?', "" if none */
	struct http_header *headers;
	int nheaders;
	char *body; /* NUL-terminated copy of the body (may contain NULs) */
	size_t body_len;
	const char *params[REQ_MAX_PARAMS]; /* path parameters, route order */
	int nparams;
	char remote_ip[48];
	char id[20];                /* request id, also sent as X-Request-Id */
	const struct route *route;  /* NULL when no route matched */
	uint64_t start_us;          /* monotonic time the request was complete */

	/* ---- per-request context ---- */
	void *wctx; /* the worker's context (from http_app.worker_init) */
	void *app;  /* free for the application's before/after hooks */

	/* ---- response, filled by reply_* ---- */
	int status; /* 0 until a reply_* call */
	const char *content_type;
	struct buf resp_headers; /* extra "Name: value\r\n" lines */
	struct buf resp_body;
	int close; /* set to close the connection after this response */
	/* set by reply_websocket: the connection becomes a WebSocket */
	const struct ws_app *ws_app;
	void *ws_sub;
};

typedef void (*http_handler)(struct req *r);

/* Route flags, for the application's before hook. */
enum {
	ROUTE_PUBLIC = 1 << 0,   /* no authentication */
	ROUTE_NO_CSRF = 1 << 1,  /* unsafe method allowed without CSRF token */
	ROUTE_NO_AUDIT = 1 << 2, /* write that records no audit entry */
	ROUTE_OWN_TX = 1 << 3,   /* handler commits its own transactions */
	ROUTE_NO_DB = 1 << 4,    /* answers without the database */
	ROUTE_UPLOAD = 1 << 5,   /* body limit is max_upload_bytes, not max_body_bytes */
};

struct route {
	enum http_method method;
	const char *pattern; /* "/api/v1/users/{id}": {name} matches one segment */
	http_handler fn;
	const char *perm; /* permission the caller needs (see core/rbac.h) */
	unsigned flags;
};

struct http_app {
	/* Called once on each worker thread; returns that worker's context. */
	void *(*worker_init)(void *arg, int worker_index);
	void (*worker_free)(void *wctx);
	/* Before the handler: return 0 to run it, -1 when it already replied. */
	int (*before)(struct req *r);
	/* After the handler (always, also when before refused). */
	void (*after)(struct req *r);
	void *arg;
};

struct http_config {
	const char *host; /* "127.0.0.1", "0.0.0.0", "::" */
	int port;         /* 0 = pick a free port (printed at start) */
	int workers;
	int max_connections;
	size_t max_header_bytes;
	size_t max_body_bytes;
	size_t max_upload_bytes; /* body limit of ROUTE_UPLOAD routes; 0: max_body_bytes */
	int max_json_depth;
	unsigned request_timeout_ms; /* first byte to complete request */
	unsigned idle_timeout_ms;    /* keep-alive idle */
	unsigned drain_timeout_ms;   /* graceful shutdown limit */
	const char *web_root;        /* static files, NULL for none */
	FILE *access_log;            /* JSON lines; NULL for none */
	int trust_proxy;             /* believe X-Forwarded-For / -Proto */
	const struct route *routes;
	size_t nroutes;
	struct http_app app;
};

/* Run the server until SIGTERM/SIGINT has drained it.  Prints
 * "kefu: listening on http://HOST:PORT" on stdout once bound.  Returns 0 on a
 * clean stop, -1 with e filled when it could not start. */
int http_serve(const struct http_config *cfg, struct err *e);

/* ---- request helpers (worker thread) ---- */

/* Header value by lower-case name, or NULL. */
const char *req_header(const struct req *r, const char *lname);
/* Path parameter i (0-based), or NULL. */
const char *req_param(const struct req *r, int i);
/* Query parameter by name, percent-decoded into a malloc'd string the caller
 * frees; NULL when absent. */
char *req_query(const struct req *r, const char *name);
/* Cookie value by name into out (n bytes); returns 0 found, -1 not. */
int req_cookie(const struct req *r, const char *name, char *out, size_t n);
/* True when the client connected through TLS (X-Forwarded-Proto: https
 * behind a trusted proxy). */
int req_is_https(const struct req *r);
/* Parse the body as a JSON object.  On a missing/wrong Content-Type (415),
 * bad JSON (400) or excessive nesting (400) it replies the error and returns
 * NULL.  The caller owns the result (json_decref). */
json_t *req_json(struct req *r);

/* ---- reply helpers ---- */

void reply_header(struct req *r, const char *name, const char *value);
/* Steals j. */
void reply_json(struct req *r, int status, json_t *j);
void reply_raw(struct req *r, int status, const char *content_type,
	       const void *data, size_t len);
void reply_empty(struct req *r, int status);
/* {"error":{"code":code,"message":...}} */
void reply_error(struct req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void reply_err(struct req *r, const struct err *e);

/* ---- WebSocket (RFC 6455) ----
 * A handler accepts an upgrade with reply_websocket; once the 101 answer is
 * written the connection belongs to the application's ws_app callbacks,
 * which run on the loop thread (never block there: hand database work to
 * a thread of your own and come back with http_loop_call).  The server
 * pings idle connections, closes those that stop answering, applies the
 * message size and send-queue limits (a client too slow to read is closed
 * with 1013 and is expected to reconnect and catch up) and closes every
 * WebSocket with 1001 when it drains. */
struct ws_conn;
struct ws_app {
	void (*open)(struct ws_conn *c, void *sub);
	/* A complete text message (valid UTF-8). */
	void (*text)(struct ws_conn *c, void *sub, const char *msg, size_t len);
	/* The connection is gone -- or never opened (c NULL): the last call
	 * for sub, which the application frees. */
	void (*closed)(struct ws_conn *c, void *sub, int code);
	/* Optional: a write finished and less than WS_LOW_WATER bytes wait
	 * (an application pacing a long replay sends the next part here). */
	void (*drained)(struct ws_conn *c, void *sub);
};
#define WS_LOW_WATER (64 * 1024)
/* Worker thread: checks the handshake (GET, Upgrade: websocket, version
 * 13, a key); replies 101 and hands sub to app, or replies 400/426 and
 * returns -1 (sub not taken). */
int reply_websocket(struct req *r, const struct ws_app *app, void *sub);
/* Loop thread.  0 queued; -1 closing (dropped); -2 the client is too slow:
 * dropped, and the connection is being closed with 1013. */
int ws_conn_send(struct ws_conn *c, const char *text, size_t len);
void ws_conn_close(struct ws_conn *c, int code, const char *reason);
/* Bytes accepted by ws_conn_send and not yet handed to the kernel. */
size_t ws_conn_queued(const struct ws_conn *c);
/* Any thread: run fn(arg) on the running server's loop thread, soon and in
 * call order.  -1 when no server runs (fn is not called). */
int http_loop_call(void (*fn)(void *arg), void *arg);

/* ---- metrics (any thread) ---- */

/* Render the Prometheus text exposition into out. */
void http_metrics_render(struct buf *out);

/* ---- pure helpers, exposed for tests and the fuzzer ---- */

/* Match path against pattern; fills params (pointers into `scratch`, a copy
 * of path the caller provides and keeps alive). Returns 1 on a match. */
int http_route_match(const char *pattern, char *scratch, const char **params,
		     int *nparams);
/* Maximum nesting depth of a JSON text (strings skipped), for the limit. */
int http_json_depth(const char *s, size_t n);

#endif
