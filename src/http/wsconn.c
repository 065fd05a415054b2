/*
 * wsconn.c -- a TCP connection after the WebSocket upgrade: between
 * server.c's socket and ws.c's framing, and the application's ws_app.
 *
 * Owns: accepting the handshake (reply_websocket), the output path (frames
 * from ws.c collect in `out`; one uv_write at a time sends them, and while
 * it runs ws.c is told the socket is full, which is what lets ws.c see a
 * client that does not read), liveness (a ping after PING_AFTER_MS of
 * silence, closed after DEAD_AFTER_MS), deadlines on closing, and the
 * 1001 close when the server drains.  Loop thread only, except
 * reply_websocket (worker thread).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/buf.h"
#include "internal.h"
#include "ws.h"

#define PING_AFTER_MS 25000     /* silence before the server pings */
#define DEAD_AFTER_MS 70000     /* silence before the client counts as gone */
#define CLOSE_WAIT_MS 5000      /* for the peer's answer to our close frame */
#define STUCK_WRITE_MS 30000    /* one write that long: the client is not reading */
#define OUT_CHUNK (64 * 1024)   /* bytes collected before ws.c is told "full" */
#define IDLE_KEEP 4096          /* output buffer kept between writes */
#define MAX_MESSAGE (64 * 1024) /* from a client */
#define MAX_QUEUED (1024 * 1024)

struct ws_conn {
	uv_stream_t *st;
	struct ws *w;
	const struct ws_app *app;
	void *sub;
	void (*close_conn)(void *conn);
	void *conn;
	struct buf out, inflight;
	uv_write_t wr;
	uint64_t last_rx, ping_at, close_by, write_at;
	int code;
	unsigned writing : 1, ended : 1, closing : 1;
};

/* ---- the handshake (worker thread) ---- */

/* Does a comma-separated header value hold token (any case)? */
static int has_token(const char *v, const char *token)
{
	size_t n = strlen(token);
	while (v && *v) {
		v += strspn(v, " \t,");
		size_t len = strcspn(v, ",");
		size_t end = len;
		while (end && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end == n && strncasecmp(v, token, n) == 0)
			return 1;
		v += len;
	}
	return 0;
}

int reply_websocket(struct req *r, const struct ws_app *app, void *sub)
{
	const char *ver = req_header(r, "sec-websocket-version");
	char accept[WS_ACCEPT_LEN];
	if (r->method != HTTP_GET || !has_token(req_header(r, "upgrade"), "websocket") ||
	    !has_token(req_header(r, "connection"), "upgrade")) {
		reply_error(r, 426, "upgrade_required", "connect with a WebSocket (Upgrade: websocket)");
		reply_header(r, "Upgrade", "websocket");
		return -1;
	}
	if (!ver || strcmp(ver, "13") != 0) {
		reply_error(r, 426, "upgrade_required", "WebSocket version 13 is required");
		reply_header(r, "Sec-WebSocket-Version", "13");
		return -1;
	}
	const char *key = req_header(r, "sec-websocket-key");
	if (!key || ws_accept_key(key, accept) < 0) {
		reply_error(r, 400, "invalid", "missing or malformed Sec-WebSocket-Key");
		return -1;
	}
	reply_empty(r, 101);
	reply_header(r, "Sec-WebSocket-Accept", accept);
	r->ws_app = app;
	r->ws_sub = sub;
	return 0;
}

void wsconn_drop_upgrade(struct req *r)
{
	if (r->ws_app && r->ws_sub)
		r->ws_app->closed(NULL, r->ws_sub, 1006);
	r->ws_app = NULL;
	r->ws_sub = NULL;
}

/* ---- output ---- */

static void kick(struct ws_conn *c);

static void finish_if_done(struct ws_conn *c)
{
	if (c->ended && !c->writing && !c->out.len && !c->closing) {
		c->closing = 1;
		c->close_conn(c->conn);
	}
}

static void flush(struct ws_conn *c)
{
	if (!c->ended)
		ws_flush(c->w);
	kick(c);
	finish_if_done(c);
}

size_t ws_conn_queued(const struct ws_conn *c)
{
	return ws_queued(c->w) + c->out.len + (c->writing ? c->inflight.len : 0);
}

static void on_written(uv_write_t *wr, int status)
{
	struct ws_conn *c = wr->data;
	c->writing = 0;
	/* Thousands of idle connections should not each keep the largest
	 * batch they ever sent. */
	if (c->inflight.cap > IDLE_KEEP)
		buf_free(&c->inflight);
	buf_reset(&c->inflight);
	if (c->closing)
		return;
	if (status < 0) {
		c->ended = 1;
		c->code = 1006;
		buf_reset(&c->out);
		finish_if_done(c);
		return;
	}
	flush(c);
	if (!c->ended && !c->closing && c->app->drained && ws_conn_queued(c) < WS_LOW_WATER)
		c->app->drained(c, c->sub);
}

static void kick(struct ws_conn *c)
{
	if (c->writing || !c->out.len || c->closing)
		return;
	struct buf t = c->inflight;
	c->inflight = c->out;
	c->out = t;
	buf_reset(&c->out);
	uv_buf_t b = uv_buf_init(c->inflight.data, (unsigned)c->inflight.len);
	c->wr.data = c;
	c->write_at = uv_now(c->st->loop);
	if (uv_write(&c->wr, c->st, &b, 1, on_written) == 0) {
		c->writing = 1;
		return;
	}
	c->ended = 1;
	c->code = 1006;
	buf_reset(&c->out);
}

/* ---- ws.c's callbacks ---- */

static int cb_write(void *ud, const void *data, size_t len)
{
	struct ws_conn *c = ud;
	if (c->closing)
		return WS_WRITE_FAILED;
	/* Full only while bytes are on their way out, so a later flush
	 * comes (ws.h's rule); kick() starts that write after ws_flush. */
	if (c->out.len && c->out.len + len > OUT_CHUNK)
		return WS_WRITE_FULL;
	buf_append(&c->out, data, len);
	return WS_WRITE_OK;
}

static void cb_text(void *ud, const char *msg, size_t len)
{
	struct ws_conn *c = ud;
	if (c->app->text)
		c->app->text(c, c->sub, msg, len);
}

static void cb_closed(void *ud, int code)
{
	struct ws_conn *c = ud;
	c->ended = 1;
	c->code = code;
}

static const struct ws_handler handler = {cb_text, cb_write, cb_closed};

/* ---- life ---- */

struct ws_conn *wsconn_new(uv_stream_t *st, const struct ws_app *app, void *sub,
			   void (*close_conn)(void *conn), void *conn)
{
	struct ws_conn *c = xcalloc(1, sizeof *c);
	struct ws_limits lim = {MAX_MESSAGE, MAX_QUEUED};
	c->st = st;
	c->app = app;
	c->sub = sub;
	c->close_conn = close_conn;
	c->conn = conn;
	c->w = ws_new(&lim, &handler, c);
	c->last_rx = uv_now(st->loop);
	if (app->open)
		app->open(c, sub);
	flush(c);
	return c;
}

void wsconn_read(struct ws_conn *c, const char *data, size_t n)
{
	if (c->closing)
		return;
	c->last_rx = uv_now(c->st->loop);
	if (!c->ended)
		ws_feed(c->w, data, n);
	if (n == 0 && !c->ended) {
		c->ended = 1;
		c->code = 1006;
	}
	flush(c);
}

static void hard_close(struct ws_conn *c, int code)
{
	if (!c->ended)
		c->code = code;
	c->ended = 1;
	if (!c->closing) {
		c->closing = 1;
		c->close_conn(c->conn);
	}
}

void wsconn_tick(struct ws_conn *c, uint64_t now)
{
	if (c->closing)
		return;
	if ((c->close_by && now >= c->close_by) || now - c->last_rx >= DEAD_AFTER_MS ||
	    (c->writing && now - c->write_at >= STUCK_WRITE_MS)) {
		hard_close(c, 1006);
		return;
	}
	if (!c->ended && now - c->last_rx >= PING_AFTER_MS && c->ping_at <= c->last_rx) {
		c->ping_at = now;
		ws_send_ping(c->w);
		flush(c);
	}
}

int ws_conn_send(struct ws_conn *c, const char *text, size_t len)
{
	if (c->ended || c->closing)
		return -1;
	int rc = ws_send_text(c->w, text, len);
	if (rc == -2 && !c->close_by)
		c->close_by = uv_now(c->st->loop) + CLOSE_WAIT_MS;
	flush(c);
	return rc;
}

void ws_conn_close(struct ws_conn *c, int code, const char *reason)
{
	if (c->ended || c->closing)
		return;
	ws_close(c->w, code, reason);
	if (!c->close_by)
		c->close_by = uv_now(c->st->loop) + CLOSE_WAIT_MS;
	flush(c);
}

void wsconn_shutdown(struct ws_conn *c)
{
	ws_conn_close(c, 1001, "server shutting down");
}

void wsconn_free(struct ws_conn *c)
{
	if (!c)
		return;
	if (c->app->closed)
		c->app->closed(c, c->sub, c->code ? c->code : 1006);
	ws_free(c->w);
	buf_free(&c->out);
	buf_free(&c->inflight);
	free(c);
}
