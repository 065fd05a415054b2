/*
 * internal.h -- what the files of src/http/ share; not for the rest of Kefu.
 *
 * Owns: the request framing interface (parse.c), the request-in-flight
 * wrapper (struct hreq), the worker pool (pool.c), dispatch (router.c),
 * response-head building and the process-wide active limits (req.c), static
 * files (static.c), metrics updates (metrics.c) and the access log
 * (accesslog.c).  server.c ties them to libuv.
 */
#ifndef KEFU_HTTP_INTERNAL_H
#define KEFU_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "http.h"

/* ---- parse.c: socket-free request framing ---- */

#define HTTP_MAX_HEADERS 100

enum parse_status {
	PARSE_MORE,  /* every byte consumed, the request is not complete yet */
	PARSE_DONE,  /* one request complete; bytes after it are not consumed */
	PARSE_ERROR, /* malformed or over a limit: reply err_status, close */
};

struct parse_limits {
	size_t max_header_bytes; /* request line + header lines (431) */
	size_t max_body_bytes;   /* decoded body (413) */
	int max_headers;         /* header count (431) */
	/* Requests whose method and path match a ROUTE_UPLOAD route of
	 * routes[0..nroutes) get max_upload_bytes as their body limit instead,
	 * decided when the headers are complete (before any body byte). */
	size_t max_upload_bytes;
	const struct route *routes;
	size_t nroutes;
};

/* One per connection.  Between PARSE_DONE and the next parse_feed the
 * request's strings live here; the next message reuses the memory. */
struct http_parse {
	http_parser p;
	struct parse_limits lim;
	struct buf arena;       /* url, header names/values, path, query */
	struct buf body;
	size_t *hoff;           /* arena offsets: name, value per header */
	int nh, hcap;
	struct http_header *hdrs; /* built at PARSE_DONE */
	int hdrs_cap;
	size_t header_bytes;
	size_t body_limit;      /* of this message: max_body_bytes or max_upload_bytes */
	int last_cb;            /* 0 none, 1 header field, 2 header value */
	size_t path_off, query_off;
	/* strictness scanner over the consumed bytes (see parse.c) */
	int sc_state;
	size_t sc_line_len;
	int sc_line_no, sc_spaces, sc_ver_len;
	unsigned char sc_prev;
	uint64_t sc_chunk_left;
	/* per-message flags */
	unsigned started : 1, headers_done : 1, complete : 1, chunked : 1,
		upgrade : 1, keep_alive : 1, expect_continue : 1, failed : 1,
		closed : 1; /* the last request ended the connection */
	/* error, valid after PARSE_ERROR */
	int err_status;
	const char *err_code;
	char err_msg[160];
};

void parse_init(struct http_parse *ps, const struct parse_limits *lim);
void parse_free(struct http_parse *ps);
/* Feed bytes.  *used tells how many were consumed.  On PARSE_DONE, r's
 * method, path, query, headers, nheaders, body and body_len point into ps
 * until the next call.  After an error or an upgrade request, do not feed
 * again. */
enum parse_status parse_feed(struct http_parse *ps, struct req *r,
			     const char *data, size_t len, size_t *used);
/* A message has begun and is not complete (EOF now would cut it). */
int parse_in_progress(const struct http_parse *ps);

/* ---- the request in flight ---- */

enum { SLOT_STATIC = -2, SLOT_NONE = -1 };

struct hreq {
	struct req r;
	struct hreq *next;     /* pool queues */
	void *conn;            /* server.c's connection, opaque elsewhere */
	struct buf scratch;    /* path copy the route params point into */
	struct buf head;       /* response head, built by the worker */
	size_t conn_line;      /* offset of the "Connection:" line in head */
	int route_slot;        /* route index, SLOT_STATIC or SLOT_NONE */
	int keep_alive;        /* loop's decision before dispatch */
	int is_static;         /* static file response: no X-Frame-Options */
	int head_only;         /* HEAD: send the head, not the body */
	long head_clen;        /* >= 0: Content-Length for a bodiless HEAD */
	char peer_ip[48];
};

void hreq_init(struct hreq *h);
void hreq_free(struct hreq *h);
/* Forget the response of the previous request (memory kept). */
void hreq_reset(struct hreq *h);

/* ---- req.c: active limits, response heads ---- */

/* What the helpers need from the running server's configuration. */
void req_set_active(int max_json_depth, int trust_proxy);
/* Build h->head from r->status, content type, body and headers; keep_alive
 * chooses the Connection line. */
void resp_build_head(struct hreq *h, int keep_alive);
/* Rewrite an already built head to say "Connection: close". */
void resp_force_close(struct hreq *h);
/* Bytes of the body actually sent (0 for HEAD, 204, 304). */
size_t resp_body_len(const struct hreq *h);

/* ---- router.c: what a worker does with one request ---- */

struct dispatch_conf {
	const struct route *routes;
	size_t nroutes;
	const struct http_app *app;
	const char *web_root; /* realpath of cfg->web_root, or NULL */
	int trust_proxy;
	atomic_int *draining; /* set by the loop on SIGTERM */
};

void http_dispatch(const struct dispatch_conf *dc, struct hreq *h, void *wctx);

/* ---- static.c ---- */

/* Serve r->path from root (GET/HEAD).  Returns 1 when it replied (file, 304
 * or error), 0 when there is no such file. */
int static_serve(struct hreq *h, const char *root);

/* ---- pool.c: worker threads ---- */

struct pool;
typedef void (*pool_run_fn)(void *arg, struct hreq *h, void *wctx);
typedef void (*pool_notify_fn)(void *arg); /* a result is ready (any thread) */

/* Start n workers; each calls app->worker_init once.  Returns NULL with e
 * filled when a thread could not start. */
struct pool *pool_new(int n, const struct http_app *app, pool_run_fn run,
		      pool_notify_fn notify, void *arg, struct err *e);
/* Queue a list of n requests (linked by next) for the workers (loop
 * thread).  Bounding the queue is the caller's business (pool_depth). */
void pool_submit(struct pool *p, struct hreq *list, int n);
/* Requests waiting for a worker (approximate, any thread). */
int pool_depth(struct pool *p);
/* Take every finished request, oldest first (loop thread). */
struct hreq *pool_take_done(struct pool *p);
/* Finish the queued work, call worker_free on each worker, join. */
void pool_stop(struct pool *p);
void pool_free(struct pool *p);

/* ---- metrics.c ---- */

void metrics_start(const struct route *routes, size_t nroutes, int workers);
void metrics_stop(void);
/* Loop thread only.  method -1: unknown (a request that did not parse). */
void metrics_request(int slot, int method, int status, uint64_t dur_us);
void metrics_conn(int delta);
void metrics_queue(int delta);

/* ---- accesslog.c ---- */

struct accesslog {
	FILE *f;
	struct buf b;
	int64_t sec;      /* second of the cached timestamp prefix */
	char prefix[24];  /* "2026-11-22T14:00:00." */
};

void accesslog_init(struct accesslog *al, FILE *f);
void accesslog_write(struct accesslog *al, const struct req *r,
		     const char *route, size_t bytes, uint64_t dur_us);
void accesslog_flush(struct accesslog *al);
void accesslog_free(struct accesslog *al);

/* ---- wsconn.c: a connection after a WebSocket upgrade ---- */

#include <uv.h>

/* Takes over st (server.c's TCP handle) once the 101 answer is out; calls
 * app->open.  close_conn(conn) asks server.c to close the socket. */
struct ws_conn *wsconn_new(uv_stream_t *st, const struct ws_app *app, void *sub,
			   void (*close_conn)(void *conn), void *conn);
/* Bytes read; n 0: EOF or read error. */
void wsconn_read(struct ws_conn *c, const char *data, size_t n);
/* Timer: ping the idle, close the silent and the too slow to close. */
void wsconn_tick(struct ws_conn *c, uint64_t now_ms);
/* Drain: close with 1001. */
void wsconn_shutdown(struct ws_conn *c);
/* The socket is closed (every write callback has run): app->closed, free. */
void wsconn_free(struct ws_conn *c);
/* A request that asked for an upgrade did not get one after all (the
 * connection went away first): give the sub back to the application. */
void wsconn_drop_upgrade(struct req *r);

/* ---- server.c ---- */

/* Ask the running server to drain and stop, as SIGTERM does (any thread;
 * for tests).  No effect when no server runs. */
void http_stop(void);

#endif
