/*
 * server.c -- http_serve(): the libuv loop and its connections.
 *
 * Owns: the listener, each connection's life (read, frame, hand to the
 * pool, write the answer, keep-alive or close), pipelining order,
 * back-pressure, timeouts (request, idle, write, lingering close),
 * max_connections, request ids, graceful drain on SIGTERM/SIGINT and the
 * access-log / metrics calls.  The loop thread does only this; handlers
 * run in pool.c's workers (router.c decides what they do).
 *
 * One request per connection is in flight at a time.  A complete request
 * goes to a worker; bytes that follow it (pipelining) wait in `pending`
 * and are framed only after the answer is written, so answers leave in
 * request order and a client that sends faster than it reads is slowed
 * down (reading pauses when too much is pending).  Connections keep their
 * buffers between requests, so a keep-alive request allocates nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <uv.h>

#include "../util/clock.h"
#include "../util/log.h"
#include "internal.h"

#define READ_BUF_BYTES (64 * 1024)   /* one per loop, shared by all reads */
#define PENDING_MAX (256 * 1024)     /* pipelined bytes held before reading pauses */
#define PENDING_KEEP (16 * 1024)     /* pending memory kept when empty */
#define LINGER_MS 2000               /* read-and-discard after a final answer */
#define QUEUE_PER_WORKER 1024        /* waiting requests per worker before 503 */
#define LISTEN_BACKLOG 1024

struct server;

struct conn {
	uv_tcp_t tcp;
	struct server *srv;
	struct conn *prev, *next;
	struct http_parse ps;
	struct hreq h;
	struct ws_conn *ws; /* after a WebSocket upgrade (wsconn.c) */
	struct buf pending; /* received, not yet framed */
	size_t poff;
	uv_write_t wr;
	uv_shutdown_t sd;
	uint64_t deadline; /* uv_now() ms; 0: none */
	unsigned busy : 1,        /* h is with a worker */
		writing : 1,      /* an answer is being written */
		reading : 1,
		closed : 1,       /* uv_close called */
		gone : 1,         /* its close callback ran */
		close_after : 1,  /* close once the answer is written */
		eof : 1,          /* the client will send nothing more */
		started : 1,      /* bytes of the next request arrived */
		linger : 1,       /* shut down, discarding input until EOF */
		discard : 1,      /* ignore input (after an error answer) */
		in_pump : 1;      /* framing in progress: do not re-enter */
};

struct server {
	uv_loop_t loop;
	uv_tcp_t listener;
	uv_async_t done_async, stop_async, call_async;
	uv_signal_t sigterm, sigint;
	uv_timer_t sweep, drain, logflush;
	uv_check_t flush; /* hands the requests framed this iteration to the pool */
	struct hreq *staged, *staged_tail;
	int nstaged, queue_limit;
	int loop_ready, handles_ready, listening, finishing;
	struct http_config cfg; /* the caller's, defaults filled in */
	struct dispatch_conf dc;
	struct parse_limits lim;
	struct pool *pool;
	struct accesslog alog;
	struct conn conns; /* list head */
	int nconns;
	atomic_int draining;
	char *web_root; /* realpath of cfg.web_root */
	char *rbuf;
	char id_prefix[9];
	uint32_t next_id;
	pthread_mutex_t call_mu; /* http_loop_call's queue */
	struct loop_call *calls, *calls_tail;
};

struct loop_call {
	void (*fn)(void *arg);
	void *arg;
	struct loop_call *next;
};

/* For http_stop(): the running server, guarded because tests call it from
 * another thread. */
static pthread_mutex_t running_mu = PTHREAD_MUTEX_INITIALIZER;
static struct server *running;

static void conn_close(struct conn *c);
static void pump(struct conn *c);
static void send_response(struct conn *c);

/* ---- small helpers ---- */

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void set_deadline(struct conn *c, uint64_t ms)
{
	c->deadline = ms ? uv_now(&c->srv->loop) + ms : 0;
}

static void start_reading(struct conn *c);

static void new_request_id(struct server *s, char *id)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t n = s->next_id++;
	memcpy(id, s->id_prefix, 8);
	for (int i = 15; i >= 8; i--, n >>= 4)
		id[i] = hex[n & 15];
	id[16] = '\0';
}

static void peer_name(uv_tcp_t *t, char *out, size_t n)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	snprintf(out, n, "-");
	if (uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len))
		return;
	if (ss.ss_family == AF_INET)
		uv_ip4_name((struct sockaddr_in *)&ss, out, n);
	else if (ss.ss_family == AF_INET6)
		uv_ip6_name((struct sockaddr_in6 *)&ss, out, n);
	if (strncmp(out, "::ffff:", 7) == 0 && strchr(out, '.')) /* v4-mapped */
		memmove(out, out + 7, strlen(out + 7) + 1);
}

static const char *route_label(const struct server *s, int slot)
{
	if (slot >= 0)
		return s->cfg.routes[slot].pattern;
	return slot == SLOT_STATIC ? "static" : NULL;
}

/* ---- connection list and lifetime ---- */

static void list_add(struct server *s, struct conn *c)
{
	c->next = s->conns.next;
	c->prev = &s->conns;
	s->conns.next->prev = c;
	s->conns.next = c;
}

static void list_del(struct conn *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
}

static void finish(struct server *s);

static void maybe_finish(struct server *s)
{
	if (atomic_load(&s->draining) && s->nconns == 0 && !s->finishing)
		finish(s);
}

static void conn_free(struct conn *c)
{
	struct server *s = c->srv;
	list_del(c);
	if (c->ws)
		wsconn_free(c->ws);
	else
		wsconn_drop_upgrade(&c->h.r);
	parse_free(&c->ps);
	hreq_free(&c->h);
	buf_free(&c->pending);
	free(c);
	s->nconns--;
	metrics_conn(-1);
	maybe_finish(s);
}

static void on_close(uv_handle_t *hd)
{
	struct conn *c = hd->data;
	c->gone = 1;
	if (!c->busy) /* else the worker's answer frees it */
		conn_free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	c->reading = 0;
	uv_close((uv_handle_t *)&c->tcp, on_close);
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *b)
{
	struct conn *c = hd->data;
	(void)suggested;
	/* Reads are handled synchronously, so one buffer serves every
	 * connection; what must outlive the callback is copied. */
	*b = uv_buf_init(c->srv->rbuf, READ_BUF_BYTES);
}

static void stop_reading(struct conn *c)
{
	if (c->reading && !c->closed)
		uv_read_stop((uv_stream_t *)&c->tcp);
	c->reading = 0;
}

/* Keep bytes that cannot be framed yet. */
static void hold(struct conn *c, const char *p, size_t n)
{
	if (c->poff && c->poff * 2 >= c->pending.len) {
		memmove(c->pending.data, c->pending.data + c->poff, c->pending.len - c->poff);
		c->pending.len -= c->poff;
		c->poff = 0;
	}
	buf_append(&c->pending, p, n);
	if (c->pending.len - c->poff > PENDING_MAX)
		stop_reading(c);
}

static void send_continue(struct conn *c);
static void send_error(struct conn *c, int status, const char *code, const char *msg);

/* Requests framed during one loop iteration reach the pool together (see
 * on_flush): one lock and at most one wake-up per idle worker, instead of
 * one of each per request. */
static void dispatch(struct conn *c)
{
	struct server *s = c->srv;
	struct hreq *h = &c->h;
	c->started = 0;
	c->deadline = 0; /* a handler takes what it takes */
	h->keep_alive = c->ps.keep_alive && !c->ps.upgrade && !atomic_load(&s->draining);
	h->r.start_us = clock_mono_us();
	new_request_id(s, h->r.id);
	if (s->nstaged + pool_depth(s->pool) < s->queue_limit) {
		h->next = NULL;
		if (s->staged_tail)
			s->staged_tail->next = h;
		else
			s->staged = h;
		s->staged_tail = h;
		s->nstaged++;
		c->busy = 1;
		return;
	}
	memcpy(h->r.remote_ip, h->peer_ip, sizeof h->r.remote_ip);
	h->route_slot = SLOT_NONE;
	reply_error(&h->r, 503, "unavailable", "the server is overloaded, retry later");
	reply_header(&h->r, "Retry-After", "1");
	resp_build_head(h, h->keep_alive);
	send_response(c);
}

static void on_flush(uv_check_t *chk)
{
	struct server *s = chk->data;
	if (!s->staged)
		return;
	pool_submit(s->pool, s->staged, s->nstaged);
	s->staged = s->staged_tail = NULL;
	s->nstaged = 0;
}

/* Frame what arrived; returns the bytes consumed. */
static size_t conn_feed(struct conn *c, const char *p, size_t n)
{
	struct server *s = c->srv;
	size_t used = 0;
	if (!c->started) {
		c->started = 1;
		set_deadline(c, s->cfg.request_timeout_ms);
	}
	switch (parse_feed(&c->ps, &c->h.r, p, n, &used)) {
	case PARSE_MORE:
		if (c->ps.expect_continue) {
			c->ps.expect_continue = 0;
			send_continue(c);
		}
		break;
	case PARSE_DONE:
		dispatch(c);
		break;
	case PARSE_ERROR:
		send_error(c, c->ps.err_status, c->ps.err_code, c->ps.err_msg);
		used = n;
		break;
	}
	return used;
}

/* Frame held bytes while the connection is free, then read on. */
static void pump(struct conn *c)
{
	c->in_pump = 1;
	while (!c->busy && !c->writing && !c->closed && !c->discard &&
	       c->pending.len > c->poff) {
		size_t used = conn_feed(c, c->pending.data + c->poff, c->pending.len - c->poff);
		if (!used && !c->busy && !c->writing)
			break;
		c->poff += used;
	}
	c->in_pump = 0;
	if (c->poff >= c->pending.len) {
		if (c->pending.cap > PENDING_KEEP)
			buf_free(&c->pending);
		buf_reset(&c->pending);
		c->poff = 0;
	}
	if (c->busy || c->writing || c->closed || c->discard)
		return;
	if (c->eof)
		conn_close(c);
	else
		start_reading(c);
}

static void conn_eof(struct conn *c, ssize_t err)
{
	c->eof = 1;
	stop_reading(c);
	/* a half-closed client still gets the answer it is waiting for */
	if (err == UV_EOF && (c->busy || c->writing) && !c->linger)
		return;
	conn_close(c);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct conn *c = st->data;
	if (c->ws) {
		wsconn_read(c->ws, b->base, nread > 0 ? (size_t)nread : 0);
		return;
	}
	if (nread < 0) {
		conn_eof(c, nread);
		return;
	}
	size_t n = (size_t)nread;
	if (n == 0 || c->discard || c->closed)
		return;
	if (c->busy || c->writing || c->pending.len > c->poff) {
		hold(c, b->base, n);
		if (!c->busy && !c->writing)
			pump(c);
		return;
	}
	/* the common case: frame straight from the shared read buffer */
	c->in_pump = 1;
	size_t used = conn_feed(c, b->base, n);
	c->in_pump = 0;
	if (used < n && !c->closed && !c->discard) {
		hold(c, b->base + used, n - used);
		if (!c->busy && !c->writing) /* answered at once (503) */
			pump(c);
	}
}

static void start_reading(struct conn *c)
{
	if (c->reading || c->closed || c->eof)
		return;
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
		c->reading = 1;
	else
		conn_close(c);
}

/* ---- writing ---- */

static void on_continue_written(uv_write_t *w, int status)
{
	(void)status;
	free(w);
}

static void send_continue(struct conn *c)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
	uv_write_t *w = xmalloc(sizeof *w);
	uv_buf_t b = uv_buf_init((char *)msg, sizeof msg - 1);
	if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_continue_written))
		free(w);
}

static void on_shutdown(uv_shutdown_t *sd, int status)
{
	struct conn *c = sd->data;
	if (c->closed)
		return;
	if (status < 0 || c->eof)
		conn_close(c);
}

/* Close after a final answer without losing it: a close() with unread
 * input would send RST and could destroy the answer in flight (a client
 * still uploading after a 413).  So: FIN, then read and discard until the
 * client closes or LINGER_MS pass. */
static void conn_linger(struct conn *c)
{
	c->linger = 1;
	c->discard = 1;
	set_deadline(c, LINGER_MS);
	c->sd.data = c;
	if (uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown)) {
		conn_close(c);
		return;
	}
	start_reading(c);
}

static void ws_close_conn(void *conn)
{
	conn_close(conn);
}

/* The 101 answer is out: from now on the bytes are WebSocket frames. */
static void become_ws(struct conn *c)
{
	struct req *r = &c->h.r;
	const struct ws_app *app = r->ws_app;
	void *sub = r->ws_sub;
	r->ws_app = NULL;
	r->ws_sub = NULL;
	hreq_reset(&c->h);
	c->deadline = 0;
	c->close_after = 0;
	c->ws = wsconn_new((uv_stream_t *)&c->tcp, app, sub, ws_close_conn, c);
	if (c->pending.len > c->poff) /* frames sent right behind the request */
		wsconn_read(c->ws, c->pending.data + c->poff, c->pending.len - c->poff);
	buf_free(&c->pending);
	c->poff = 0;
	if (c->closed)
		return;
	if (atomic_load(&c->srv->draining))
		wsconn_shutdown(c->ws);
	start_reading(c);
}

/* The answer is out: close, or wait for the next request. */
static void write_done(struct conn *c)
{
	if (c->h.r.status == 101 && c->h.r.ws_app) {
		become_ws(c);
		return;
	}
	hreq_reset(&c->h);
	if (c->close_after) {
		conn_linger(c);
		return;
	}
	set_deadline(c, c->srv->cfg.idle_timeout_ms);
	c->started = 0;
	if (!c->in_pump) /* else the framing loop that got here goes on */
		pump(c);
}

static void on_write(uv_write_t *w, int status)
{
	struct conn *c = w->data;
	c->writing = 0;
	if (c->closed)
		return;
	if (status < 0)
		conn_close(c);
	else
		write_done(c);
}

static void log_response(struct conn *c, size_t body)
{
	struct server *s = c->srv;
	struct hreq *h = &c->h;
	uint64_t dur = clock_mono_us() - h->r.start_us;
	metrics_request(h->route_slot, h->r.path ? (int)h->r.method : -1, h->r.status, dur);
	accesslog_write(&s->alog, &h->r, route_label(s, h->route_slot), body, dur);
}

static void send_response(struct conn *c)
{
	struct server *s = c->srv;
	struct hreq *h = &c->h;
	int upgrade = h->r.status == 101 && h->r.ws_app;
	int keep = upgrade || (h->keep_alive && !h->r.close && !c->eof && !c->close_after &&
			       !atomic_load(&s->draining));
	/* the worker built the head; the loop may since have decided to close */
	if (!keep && h->head.data[h->conn_line + 12] == 'k')
		resp_force_close(h);
	c->close_after = !keep;
	uv_buf_t b[2];
	unsigned nb = 0;
	size_t body = resp_body_len(h);
	b[nb++] = uv_buf_init(h->head.data, (unsigned)h->head.len);
	if (body)
		b[nb++] = uv_buf_init(h->r.resp_body.data, (unsigned)body);
	log_response(c, body);
	set_deadline(c, max_u64(s->cfg.request_timeout_ms, s->cfg.idle_timeout_ms));
	/* Most answers fit the socket buffer: written now, there is no write
	 * request, no deferred callback and no epoll re-arm (libuv re-arms the
	 * watcher after every uv_write, one epoll_ctl per answer). */
	int n = uv_try_write((uv_stream_t *)&c->tcp, b, nb);
	if (n == (int)(h->head.len + body)) {
		write_done(c);
		return;
	}
	if (n < 0 && n != UV_EAGAIN) {
		conn_close(c);
		return;
	}
	size_t skip = n > 0 ? (size_t)n : 0;
	unsigned i = 0;
	while (skip >= b[i].len) {
		skip -= b[i].len;
		i++;
	}
	b[i].base += skip;
	b[i].len -= skip;
	c->writing = 1;
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, b + i, nb - i, on_write)) {
		c->writing = 0;
		conn_close(c);
	}
}

/* An answer the loop makes itself (bad framing, timeout): then close. */
static void send_error(struct conn *c, int status, const char *code, const char *msg)
{
	struct hreq *h = &c->h;
	struct req *r = &h->r;
	hreq_reset(h);
	r->path = r->query = NULL; /* nothing of the request is trusted */
	r->headers = NULL;
	r->nheaders = 0;
	r->start_us = clock_mono_us();
	new_request_id(c->srv, r->id);
	memcpy(r->remote_ip, h->peer_ip, sizeof r->remote_ip);
	h->keep_alive = 0;
	reply_error(r, status, code, "%s", msg);
	/* Readable from any page: the chat widget on a company's site must
	 * see "too large" rather than a network error.  Nothing here depends
	 * on who asked, and no credentials are allowed with "*". */
	reply_header(r, "Access-Control-Allow-Origin", "*");
	resp_build_head(h, 0);
	c->discard = 1;
	c->started = 0;
	send_response(c);
}

/* ---- the pool's answers ---- */

static void run_job(void *arg, struct hreq *h, void *wctx)
{
	struct server *s = arg;
	http_dispatch(&s->dc, h, wctx);
}

static void notify_done(void *arg)
{
	struct server *s = arg;
	uv_async_send(&s->done_async);
}

static void on_done(uv_async_t *a)
{
	struct server *s = a->data;
	struct hreq *h = pool_take_done(s->pool);
	while (h) {
		struct hreq *next = h->next;
		struct conn *c = h->conn;
		c->busy = 0;
		if (!c->closed)
			send_response(c);
		else if (c->gone)
			conn_free(c);
		h = next;
	}
}

/* ---- accepting ---- */

static void on_refused_close(uv_handle_t *hd)
{
	free(hd);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct server *s = l->data;
	if (status < 0) { /* e.g. out of descriptors: say so once a second */
		static uint64_t last;
		if (uv_now(&s->loop) - last >= 1000 || !last) {
			last = uv_now(&s->loop);
			log_warn("http: accept: %s", uv_strerror(status));
		}
		return;
	}
	if (s->nconns >= s->cfg.max_connections || atomic_load(&s->draining)) {
		uv_tcp_t *t = xmalloc(sizeof *t);
		uv_tcp_init(&s->loop, t);
		uv_accept(l, (uv_stream_t *)t);
		uv_close((uv_handle_t *)t, on_refused_close);
		return;
	}
	struct conn *c = xcalloc(1, sizeof *c);
	c->srv = s;
	uv_tcp_init(&s->loop, &c->tcp);
	c->tcp.data = c;
	parse_init(&c->ps, &s->lim);
	hreq_init(&c->h);
	c->h.conn = c;
	list_add(s, c);
	s->nconns++;
	metrics_conn(1);
	if (uv_accept(l, (uv_stream_t *)&c->tcp)) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	peer_name(&c->tcp, c->h.peer_ip, sizeof c->h.peer_ip);
	set_deadline(c, s->cfg.idle_timeout_ms);
	start_reading(c);
}

/* ---- timers, signals, drain ---- */

static void on_sweep(uv_timer_t *t)
{
	struct server *s = t->data;
	uint64_t now = uv_now(&s->loop);
	for (struct conn *c = s->conns.next, *n; c != &s->conns; c = n) {
		n = c->next;
		if (c->ws && !c->closed)
			wsconn_tick(c->ws, now);
		if (c->ws || c->closed || c->busy || !c->deadline || now < c->deadline)
			continue;
		if (c->writing || c->linger || c->discard || !parse_in_progress(&c->ps))
			conn_close(c); /* idle, stuck or done lingering: silently */
		else
			send_error(c, 408, "request_timeout", "the request took too long to arrive");
	}
}

static void on_logflush(uv_timer_t *t)
{
	struct server *s = t->data;
	accesslog_flush(&s->alog);
}

static void close_all(struct server *s)
{
	for (struct conn *c = s->conns.next, *n; c != &s->conns; c = n) {
		n = c->next;
		conn_close(c);
	}
}

static void on_drain_timeout(uv_timer_t *t)
{
	struct server *s = t->data;
	log_warn("http: drain timeout, closing %d connection(s)", s->nconns);
	close_all(s);
}

static void begin_drain(struct server *s)
{
	if (atomic_exchange(&s->draining, 1)) {
		on_drain_timeout(&s->drain); /* asked twice: stop waiting */
		return;
	}
	log_info("http: draining %d connection(s)", s->nconns);
	if (s->listening) {
		uv_close((uv_handle_t *)&s->listener, NULL);
		s->listening = 0;
	}
	for (struct conn *c = s->conns.next, *n; c != &s->conns; c = n) {
		n = c->next;
		/* in flight: the answer says close (send_response checks
		 * draining); a head already being written is followed by a close */
		if (c->ws)
			wsconn_shutdown(c->ws);
		else if (c->writing)
			c->close_after = 1;
		else if (!c->busy && !c->linger && !parse_in_progress(&c->ps))
			conn_close(c);
	}
	uv_timer_start(&s->drain, on_drain_timeout, s->cfg.drain_timeout_ms, 0);
	maybe_finish(s);
}

static void on_signal(uv_signal_t *sig, int signum)
{
	(void)signum;
	begin_drain(sig->data);
}

static void on_stop(uv_async_t *a)
{
	begin_drain(a->data);
}

/* ---- http_loop_call ---- */

static void run_calls(struct server *s)
{
	pthread_mutex_lock(&s->call_mu);
	struct loop_call *q = s->calls;
	s->calls = s->calls_tail = NULL;
	pthread_mutex_unlock(&s->call_mu);
	while (q) {
		struct loop_call *n = q->next;
		q->fn(q->arg);
		free(q);
		q = n;
	}
}

static void on_call(uv_async_t *a)
{
	run_calls(a->data);
}

int http_loop_call(void (*fn)(void *arg), void *arg)
{
	struct loop_call *c = xmalloc(sizeof *c);
	*c = (struct loop_call){fn, arg, NULL};
	pthread_mutex_lock(&running_mu);
	struct server *s = running;
	if (s) {
		pthread_mutex_lock(&s->call_mu);
		if (s->calls_tail)
			s->calls_tail->next = c;
		else
			s->calls = c;
		s->calls_tail = c;
		pthread_mutex_unlock(&s->call_mu);
		uv_async_send(&s->call_async);
	}
	pthread_mutex_unlock(&running_mu);
	if (!s)
		free(c);
	return s ? 0 : -1;
}

static void close_handles(struct server *s)
{
	uv_handle_t *hs[] = {
		(uv_handle_t *)&s->done_async, (uv_handle_t *)&s->stop_async,
		(uv_handle_t *)&s->call_async, (uv_handle_t *)&s->sigterm,    (uv_handle_t *)&s->sigint,
		(uv_handle_t *)&s->sweep,      (uv_handle_t *)&s->drain,
		(uv_handle_t *)&s->logflush,   (uv_handle_t *)&s->flush,
	};
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		if (!uv_is_closing(hs[i]))
			uv_close(hs[i], NULL);
	if (s->listening)
		uv_close((uv_handle_t *)&s->listener, NULL);
	s->listening = 0;
}

/* Every connection is gone: stop the workers and let the loop end. */
static void finish(struct server *s)
{
	s->finishing = 1;
	pthread_mutex_lock(&running_mu);
	running = NULL;
	pthread_mutex_unlock(&running_mu);
	run_calls(s); /* what was asked before: their fn frees their arg */
	if (s->pool)
		pool_stop(s->pool);
	close_handles(s);
}

/* ---- start and stop ---- */

static void fill_defaults(struct http_config *c)
{
	if (!c->host)
		c->host = "127.0.0.1";
	if (c->workers <= 0)
		c->workers = 4;
	if (c->max_connections <= 0)
		c->max_connections = 10000;
	if (!c->max_header_bytes)
		c->max_header_bytes = 16 * 1024;
	if (!c->max_body_bytes)
		c->max_body_bytes = 1024 * 1024;
	if (!c->max_upload_bytes)
		c->max_upload_bytes = c->max_body_bytes;
	if (c->max_json_depth <= 0)
		c->max_json_depth = 32;
	if (!c->request_timeout_ms)
		c->request_timeout_ms = 30000;
	if (!c->idle_timeout_ms)
		c->idle_timeout_ms = 60000;
	if (!c->drain_timeout_ms)
		c->drain_timeout_ms = 10000;
}

static void init_handles(struct server *s)
{
	uv_tcp_init(&s->loop, &s->listener);
	uv_async_init(&s->loop, &s->done_async, on_done);
	uv_async_init(&s->loop, &s->stop_async, on_stop);
	uv_async_init(&s->loop, &s->call_async, on_call);
	pthread_mutex_init(&s->call_mu, NULL);
	uv_signal_init(&s->loop, &s->sigterm);
	uv_signal_init(&s->loop, &s->sigint);
	uv_timer_init(&s->loop, &s->sweep);
	uv_timer_init(&s->loop, &s->drain);
	uv_timer_init(&s->loop, &s->logflush);
	uv_check_init(&s->loop, &s->flush);
	s->flush.data = s;
	s->listener.data = s->done_async.data = s->stop_async.data = s->call_async.data = s;
	s->sigterm.data = s->sigint.data = s;
	s->sweep.data = s->drain.data = s->logflush.data = s;
	s->listening = 1; /* the handle exists; close_handles closes it */
	s->handles_ready = 1;
}

static int start_listening(struct server *s, struct err *e)
{
	const struct http_config *c = &s->cfg;
	struct sockaddr_storage ss;
	int rc = strchr(c->host, ':')
			 ? uv_ip6_addr(c->host, c->port, (struct sockaddr_in6 *)&ss)
			 : uv_ip4_addr(c->host, c->port, (struct sockaddr_in *)&ss);
	if (rc == 0)
		rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection);
	if (rc) {
		err_set(e, 500, "listen", "cannot listen on %s:%d: %s", c->host, c->port,
			uv_strerror(rc));
		return -1;
	}
	return 0;
}

static void print_listening(struct server *s)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	int port = s->cfg.port;
	if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						      : ((struct sockaddr_in *)&ss)->sin_port);
	int v6 = strchr(s->cfg.host, ':') != NULL;
	printf("kefu: listening on http://%s%s%s:%d\n", v6 ? "[" : "", s->cfg.host,
	       v6 ? "]" : "", port);
	fflush(stdout);
}

static void make_id_prefix(struct server *s)
{
	uint32_t r = 0;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = (uint32_t)clock_mono_us() ^ (uint32_t)getpid();
	snprintf(s->id_prefix, sizeof s->id_prefix, "%08x", (unsigned)r);
}

static void start_timers(struct server *s)
{
	uint64_t t = s->cfg.request_timeout_ms < s->cfg.idle_timeout_ms
			     ? s->cfg.request_timeout_ms
			     : s->cfg.idle_timeout_ms;
	t /= 4;
	if (t < 10)
		t = 10;
	if (t > 1000)
		t = 1000;
	uv_timer_start(&s->sweep, on_sweep, t, t);
	if (s->cfg.access_log)
		uv_timer_start(&s->logflush, on_logflush, 1000, 1000);
	uv_signal_start(&s->sigterm, on_signal, SIGTERM);
	uv_signal_start(&s->sigint, on_signal, SIGINT);
}

static int setup(struct server *s, struct err *e)
{
	const struct http_config *c = &s->cfg;
	signal(SIGPIPE, SIG_IGN); /* a vanished client is an error value, not a death */
	/* An unbuilt front end must not stop the API from serving. */
	if (c->web_root && !(s->web_root = realpath(c->web_root, NULL)))
		log_warn("http: web_root %s: %s; not serving static files", c->web_root,
			 strerror(errno));
	if (c->max_header_bytes > 80 * 1024) /* http-parser's own (global) limit */
		http_parser_set_max_header_size((uint32_t)c->max_header_bytes + 1024);
	s->lim = (struct parse_limits){c->max_header_bytes, c->max_body_bytes, HTTP_MAX_HEADERS,
				       c->max_upload_bytes, c->routes, c->nroutes};
	s->conns.next = s->conns.prev = &s->conns;
	s->rbuf = xmalloc(READ_BUF_BYTES);
	make_id_prefix(s);
	if (uv_loop_init(&s->loop)) {
		ERR_INTERNAL(e, "cannot create the event loop");
		return -1;
	}
	s->loop_ready = 1;
	init_handles(s);
	if (start_listening(s, e))
		return -1;
	req_set_active(c->max_json_depth, c->trust_proxy);
	metrics_start(c->routes, c->nroutes, c->workers);
	accesslog_init(&s->alog, c->access_log);
	s->dc = (struct dispatch_conf){c->routes, c->nroutes, &s->cfg.app, s->web_root,
				       c->trust_proxy, &s->draining};
	s->queue_limit = c->workers * QUEUE_PER_WORKER;
	s->pool = pool_new(c->workers, &s->cfg.app, run_job, notify_done, s, e);
	if (!s->pool)
		return -1;
	uv_check_start(&s->flush, on_flush);
	start_timers(s);
	pthread_mutex_lock(&running_mu);
	running = s;
	pthread_mutex_unlock(&running_mu);
	return 0;
}

static void teardown(struct server *s)
{
	if (s->handles_ready && !s->finishing) { /* a failed start */
		pthread_mutex_lock(&running_mu);
		running = NULL;
		pthread_mutex_unlock(&running_mu);
		if (s->pool)
			pool_stop(s->pool);
		close_handles(s);
	}
	if (s->loop_ready) {
		uv_run(&s->loop, UV_RUN_DEFAULT); /* let the closes complete */
		if (uv_loop_close(&s->loop))
			log_warn("http: event loop closed with handles open");
	}
	pool_free(s->pool);
	accesslog_free(&s->alog);
	metrics_stop();
	if (s->handles_ready)
		pthread_mutex_destroy(&s->call_mu);
	free(s->web_root);
	free(s->rbuf);
	free(s);
}

int http_serve(const struct http_config *cfg, struct err *e)
{
	struct server *s = xcalloc(1, sizeof *s);
	s->cfg = *cfg;
	fill_defaults(&s->cfg);
	if (setup(s, e)) {
		teardown(s);
		return -1;
	}
	print_listening(s);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	teardown(s);
	return 0;
}

void http_stop(void)
{
	pthread_mutex_lock(&running_mu);
	if (running)
		uv_async_send(&running->stop_async);
	pthread_mutex_unlock(&running_mu);
}
