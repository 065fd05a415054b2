/*
 * wsload.c -- a WebSocket load client for Kefu's real-time hub: one
 * thread, epoll, non-blocking sockets, libc only.
 *
 * It opens N WebSockets to one server (staff: a Cookie or Authorization
 * header on every upgrade; customers: one widget token per connection,
 * read from a file), does the HTTP/1.1 upgrade itself (random
 * Sec-WebSocket-Key, checks the 101 and Sec-WebSocket-Accept), masks what
 * it sends, answers pings and reassembles the server's text messages far
 * enough to read each one's top-level "id" and "type".  A connection is
 * "ready" once open or, with --ready-send/--ready-type, once it has had the
 * answer to a probe (the hub answers {"type":"ping"} with "pong", which
 * proves the subscriber is registered).
 *
 * Then it runs timed rounds: it takes a start time and triggers an event --
 * by an HTTP POST it sends itself (--post, --body) or when told "go" on
 * stdin (--stdin) -- and records, per connection, when the first message
 * of --event type containing --match arrives.  Each round reports how many
 * connections got it and min/p50/p90/p99/max of (receipt - start); the
 * max is the time until the last one.  With --server-pid it also samples
 * the server's VmRSS, VmHWM and CPU time before connecting, once all are
 * ready, after the rounds, after --hold and after closing.  The same
 * figures go to --json FILE.
 *
 * For `make bench` it can also (bench/README.md):
 *   --stamp PREFIX  time every message.created carrying PREFIX<µs since the
 *                   epoch> (put there by the sender, e.g. a wrk script) as
 *                   a delivery latency, whatever its rate;
 *   --stdin         take commands: "go" (a round), "drop [BASE]" (close
 *                   every WebSocket abruptly, as a lost network does),
 *                   "reconnect" (open them all again with ?after= the last
 *                   event id each had, or BASE if higher), "quit";
 *   --count-match S count, per connection, the events carrying S since the
 *                   last drop (a reconnect storm must lose none), and check
 *                   that ids only ever increase on every connection.
 *
 * It does not speak TLS, follow redirects, reconnect a WebSocket the
 * server closed, negotiate extensions, or parse JSON beyond the top level
 * of a message.  Receipt times are taken when read() returns, so they
 * include this client's own queueing: on a busy machine run it pinned
 * apart from the server.
 *
 * Build: cc -O2 -Wall -Wextra -Werror -std=c17 -D_GNU_SOURCE -o wsload wsload.c
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ATTEMPTS 3              /* connect/upgrade tries per connection */
#define HANDSHAKE_US (15 * 1000000) /* connect + 101 within this, or retry */
#define MAX_HEAD 16384              /* an HTTP answer's head */
#define MAX_MESSAGE (8 << 20)       /* one server message, reassembled */
#define MAX_RUNS 1000
#define READ_CHUNK 65536
#define MAX_STAMPS 4                /* --stamp prefixes */
#define MAX_SAMPLES (32 << 20)      /* latencies kept per prefix */

/* ---- small helpers ---- */

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("wsload: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		die("out of memory");
	return d;
}

/* A byte buffer: data is p[off, len). */
struct buf {
	char *p;
	size_t off, len, cap;
};

static size_t buf_avail(const struct buf *b)
{
	return b->len - b->off;
}

static char *buf_data(const struct buf *b)
{
	return b->p + b->off;
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
	if (!n)
		return;
	if (b->off && b->len + n > b->cap) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_addf(struct buf *b, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp)
		die("header line too long");
	buf_add(b, tmp, (size_t)n);
}

static void buf_drop(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){0};
}

/* s with every "{run}" replaced by tag (the caller frees). */
static char *subst(const char *s, const char *tag)
{
	struct buf b = {0};
	const char *p;
	while ((p = strstr(s, "{run}"))) {
		buf_add(&b, s, (size_t)(p - s));
		buf_add(&b, tag, strlen(tag));
		s = p + 5;
	}
	buf_add(&b, s, strlen(s) + 1);
	return b.p;
}

/* ---- SHA-1 and base64, for Sec-WebSocket-Accept ---- */

static uint32_t rol(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5A827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ED9EBA1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
		else
			f = b ^ c ^ d, k = 0xCA62C1D6;
		uint32_t t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

static void sha1(const void *data, size_t len, unsigned char out[20])
{
	uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
	const unsigned char *p = data;
	unsigned char last[128] = {0};
	size_t full = len / 64 * 64, rest = len - full;
	for (size_t i = 0; i < full; i += 64)
		sha1_block(h, p + i);
	memcpy(last, p + full, rest);
	last[rest] = 0x80;
	size_t n = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		last[n - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t i = 0; i < n; i += 64)
		sha1_block(h, last + i);
	for (int i = 0; i < 20; i++)
		out[i] = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
}

static void base64(const unsigned char *in, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*out++ = t[v >> 18], *out++ = t[v >> 12 & 63], *out++ = t[v >> 6 & 63], *out++ = t[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
		*out++ = t[v >> 18], *out++ = t[v >> 12 & 63];
		*out++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*out++ = '=';
	}
	*out = 0;
}

/* ---- the top level of a JSON object: "id" and "type" ---- */

struct top {
	const char *type;
	size_t type_len;
	int64_t id;
	int has_id;
};

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at an opening quote: just past the closing one, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static const char *skip_value(const char *p, const char *end)
{
	if (p < end && *p == '"')
		return skip_string(p, end);
	if (p < end && (*p == '{' || *p == '[')) {
		int depth = 0;
		while (p < end) {
			if (*p == '"') {
				if (!(p = skip_string(p, end)))
					return NULL;
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if ((*p == '}' || *p == ']') && --depth == 0)
				return p + 1;
			p++;
		}
		return NULL;
	}
	while (p < end && !strchr(",}] \t\r\n", *p))
		p++;
	return p;
}

/* 0, or -1 when msg is not a JSON object (what was found is kept). */
static int json_top(const char *msg, size_t len, struct top *t)
{
	const char *p = msg, *end = msg + len;
	*t = (struct top){0};
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	for (;;) {
		p = skip_ws(p, end);
		if (p < end && *p == '}')
			return 0;
		if (p >= end || *p != '"')
			return -1;
		const char *k = p + 1, *ke = skip_string(p, end);
		if (!ke)
			return -1;
		size_t klen = (size_t)(ke - 1 - k);
		p = skip_ws(ke, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = skip_ws(p, end);
		const char *v = p;
		if (!(p = skip_value(p, end)))
			return -1;
		if (klen == 4 && !memcmp(k, "type", 4) && *v == '"') {
			t->type = v + 1;
			t->type_len = (size_t)(p - v - 2);
		} else if (klen == 2 && !memcmp(k, "id", 2) && (*v == '-' || (*v >= '0' && *v <= '9'))) {
			t->id = strtoll(v, NULL, 10);
			t->has_id = 1;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p++;
		else if (p < end && *p == '}')
			return 0;
		else
			return -1;
	}
}

/* ---- state ---- */

enum cstate { C_WAIT, C_CONNECTING, C_UPGRADING, C_OPEN, C_CLOSING, C_DONE, C_FAILED };

struct conn {
	int fd;
	enum cstate st;
	int attempts, close_code, http_status;
	unsigned ready : 1, close_sent : 1, want_out : 1, queued : 1, bye : 1, gone : 1;
	unsigned char msg_op; /* opcode of the message being reassembled; 0 none */
	char accept[32];      /* the Sec-WebSocket-Accept we expect */
	uint64_t deadline;    /* handshake, or the peer's answer to our close */
	uint64_t retry_at;
	int64_t last_id; /* highest event id received (reconnects ask ?after= it) */
	int counted;     /* --count-match events since the last drop */
	struct buf in, out, msg;
};

/* The POST that triggers an event. */
struct trigger {
	int fd, status, connected, done;
	uint64_t t0, done_at;
	struct buf in, out;
};

struct run {
	int received, expected, post_status, timed_out;
	int first_conn; /* the connection that had it first (0-based; -1 none) */
	int64_t event_id;
	double post_ms, min_ms, p50_ms, p90_ms, p99_ms, max_ms;
};

struct opts {
	const char *target, *path, *cookie, *tokens_file, *probe_send, *probe_type;
	const char *event_type, *match, *post_path, *post_body, *json_path;
	const char **headers, **post_headers;
	int nheaders, npost_headers, nconns, concurrency, runs, use_stdin, expect, verbose, server_pid;
	double connect_timeout, run_timeout, go_timeout, grace, gap, settle, hold, close_timeout;
	const char *stamps[MAX_STAMPS], *stamp_event, *count_match;
	int nstamps;
	int64_t after; /* ?after= on the first connect (0: none) */
};

/* Latencies of the messages carrying one --stamp prefix. */
struct stamp {
	int64_t *us;
	size_t n, cap, dropped; /* dropped: past MAX_SAMPLES or a bad stamp */
};

/* One drop-and-reconnect ("drop", then "reconnect" on stdin). */
struct storm {
	int dropped, reconnected, failed;
	int64_t base;
	double reconnect_s, catchup_s; /* catch-up: the last counted message after "reconnect" */
	uint64_t t0;                   /* when "reconnect" came */
};

/* What --server-pid tells at each phase. */
enum phase { PH_BEFORE, PH_OPEN, PH_RUNS, PH_HOLD, PH_CLOSED, NPHASES };
static const char *const phase_names[NPHASES] = {"before", "open", "runs", "hold", "closed"};

struct sample {
	long rss_kb, hwm_kb;
	double cpu_s; /* user + system, all threads */
};

struct wsload {
	struct opts o;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int ep, n;
	struct conn *c;
	char **tokens;
	int ntokens;
	int *queue, qhead, qlen; /* connections waiting to be started */
	int inflight;            /* connecting or upgrading */
	int opened, ready, failed, dropped, retries;
	int status_counts[600];  /* HTTP answers other than 101 */
	int close_codes[5000];   /* close codes the server sent first */
	uint64_t msgs, msg_bytes, pings;
	uint64_t start_us, ready_us, last_scan;
	int ready_at_open; /* ready connections once the connecting was over */
	/* the round in progress */
	int run_active, received;
	int64_t run_event_id;
	uint64_t t0;
	int64_t *recv_us; /* per connection: receipt - t0, -1 none yet */
	char *match;
	struct trigger trig;
	struct run runs[MAX_RUNS];
	int nruns;
	/* stdin */
	struct buf line;
	int stdin_eof, stdin_polled;
	struct sample server[NPHASES]; /* the server at each phase */
	int closed_ok;
	double close_s;
	uint64_t rng;
	struct stamp stamps[MAX_STAMPS];
	uint64_t last_count_us; /* when a --count-match message last arrived */
	uint64_t order_errors; /* an event id not above the last one on its connection */
	uint64_t resyncs;      /* "resync" frames: the server could not replay */
	struct storm storms[16];
	int nstorms;
};

#define TRIGGER_SLOT(w) ((uint32_t)(w)->n)
#define STDIN_SLOT(w) ((uint32_t)(w)->n + 1)

static uint32_t rnd32(struct wsload *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return (uint32_t)(w->rng >> 16);
}

static void ep_set(struct wsload *w, int fd, uint32_t slot, uint32_t events, int add)
{
	struct epoll_event ev = {.events = events, .data.u32 = slot};
	if (epoll_ctl(w->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

/* VmRSS, VmHWM and CPU time of pid; zeros when unknown. */
static void server_sample(const struct wsload *w, struct sample *out)
{
	char path[64], line[1024];
	*out = (struct sample){0};
	if (w->o.server_pid <= 0)
		return;
	snprintf(path, sizeof path, "/proc/%d/status", w->o.server_pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "VmRSS:", 6))
			out->rss_kb = strtol(line + 6, NULL, 10);
		else if (!strncmp(line, "VmHWM:", 6))
			out->hwm_kb = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	snprintf(path, sizeof path, "/proc/%d/stat", w->o.server_pid);
	if (!(f = fopen(path, "r")))
		return;
	unsigned long ut, st;
	char *p = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
	/* after "pid (comm)": state is field 3, utime 14, stime 15 */
	if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
		out->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	fclose(f);
}

/* ---- connections ---- */

static void conn_flush(struct wsload *w, struct conn *c, uint32_t slot);
static void conn_lost(struct wsload *w, struct conn *c, int idx, const char *why);

static void queue_push(struct wsload *w, int idx)
{
	w->queue[(w->qhead + w->qlen++) % w->n] = idx;
	w->c[idx].queued = 1;
}

static void conn_reset(struct wsload *w, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	if (c->st == C_CONNECTING || c->st == C_UPGRADING)
		w->inflight--;
	c->fd = -1;
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->msg);
	c->msg_op = 0;
	c->want_out = 0;
}

static void conn_fail(struct wsload *w, struct conn *c, int idx, const char *why)
{
	if (w->failed < 5 || w->o.verbose)
		fprintf(stderr, "wsload: connection %d failed: %s\n", idx, why);
	conn_reset(w, c);
	c->st = C_FAILED;
	w->failed++;
}

/* A connection that did not get as far as a WebSocket: again later, a few times. */
static void conn_retry(struct wsload *w, struct conn *c, int idx, const char *why)
{
	if (++c->attempts >= MAX_ATTEMPTS) {
		conn_fail(w, c, idx, why);
		return;
	}
	if (w->o.verbose)
		fprintf(stderr, "wsload: connection %d: %s; trying again\n", idx, why);
	conn_reset(w, c);
	c->st = C_WAIT;
	c->retry_at = now_us() + 250000u * (unsigned)c->attempts;
	w->retries++;
	queue_push(w, idx);
}

static void conn_request(struct wsload *w, struct conn *c, int idx)
{
	unsigned char key[16], digest[20];
	char key64[32], cat[96];
	if (getrandom(key, sizeof key, 0) != (ssize_t)sizeof key)
		die("getrandom: %s", strerror(errno));
	base64(key, sizeof key, key64);
	snprintf(cat, sizeof cat, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key64);
	sha1(cat, strlen(cat), digest);
	base64(digest, sizeof digest, c->accept);

	const struct opts *o = &w->o;
	char sep = strchr(o->path, '?') ? '&' : '?';
	buf_addf(&c->out, "GET %s", o->path);
	if (w->tokens) {
		buf_addf(&c->out, "%ctoken=%s", sep, w->tokens[idx]);
		sep = '&';
	}
	int64_t after = c->last_id > o->after ? c->last_id : o->after;
	if (after > 0)
		buf_addf(&c->out, "%cafter=%lld", sep, (long long)after);
	buf_addf(&c->out, " HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", o->target, key64);
	if (o->cookie)
		buf_addf(&c->out, "Cookie: %s\r\n", o->cookie);
	for (int i = 0; i < o->nheaders; i++)
		buf_addf(&c->out, "%s\r\n", o->headers[i]);
	buf_add(&c->out, "\r\n", 2);
}

static void conn_start(struct wsload *w, int idx)
{
	struct conn *c = &w->c[idx];
	c->fd = socket(w->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(w, c, idx, strerror(errno));
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->st = C_CONNECTING;
	w->inflight++;
	c->deadline = now_us() + HANDSHAKE_US;
	c->http_status = 0;
	if (connect(c->fd, (struct sockaddr *)&w->addr, w->addrlen) < 0 && errno != EINPROGRESS) {
		conn_retry(w, c, idx, strerror(errno));
		return;
	}
	conn_request(w, c, idx);
	c->want_out = 1;
	ep_set(w, c->fd, (uint32_t)idx, EPOLLIN | EPOLLOUT, 1);
}

/* One frame, masked as a client must. */
static void conn_send(struct wsload *w, struct conn *c, int idx, int op, const void *data, size_t len)
{
	unsigned char h[14];
	size_t hl = 2;
	h[0] = (unsigned char)(0x80 | op);
	if (len < 126) {
		h[1] = (unsigned char)(0x80 | len);
	} else if (len < 65536) {
		h[1] = 0x80 | 126;
		h[2] = (unsigned char)(len >> 8), h[3] = (unsigned char)len;
		hl = 4;
	} else {
		h[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	uint32_t m = rnd32(w);
	memcpy(h + hl, &m, 4);
	buf_add(&c->out, h, hl + 4);
	const unsigned char *mk = h + hl, *d = data;
	unsigned char tmp[256];
	for (size_t i = 0; i < len;) {
		size_t k = 0;
		for (; k < sizeof tmp && i < len; k++, i++)
			tmp[k] = d[i] ^ mk[i & 3];
		buf_add(&c->out, tmp, k);
	}
	conn_flush(w, c, (uint32_t)idx);
}

static void conn_flush(struct wsload *w, struct conn *c, uint32_t slot)
{
	while (buf_avail(&c->out)) {
		ssize_t n = send(c->fd, buf_data(&c->out), buf_avail(&c->out), MSG_NOSIGNAL);
		if (n > 0) {
			buf_drop(&c->out, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (!c->want_out) {
				c->want_out = 1;
				ep_set(w, c->fd, slot, EPOLLIN | EPOLLOUT, 0);
			}
			return;
		}
		conn_lost(w, c, (int)slot, n < 0 ? strerror(errno) : "send returned 0");
		return;
	}
	if (c->want_out) {
		c->want_out = 0;
		ep_set(w, c->fd, slot, EPOLLIN, 0);
	}
}

static void set_ready(struct wsload *w, struct conn *c)
{
	if (!c->ready) {
		c->ready = 1;
		w->ready++;
	}
}

/* The connection ended: before the 101 it is tried again; after, it is
 * over (this client does not reconnect). */
static void conn_lost(struct wsload *w, struct conn *c, int idx, const char *why)
{
	if (c->st == C_CONNECTING || c->st == C_UPGRADING) {
		conn_retry(w, c, idx, why);
		return;
	}
	if (c->st == C_OPEN) {
		w->dropped++;
		if (w->dropped <= 5 || w->o.verbose)
			fprintf(stderr, "wsload: connection %d dropped: %s\n", idx, why);
	}
	if (c->ready) {
		c->ready = 0;
		w->ready--;
	}
	conn_reset(w, c);
	c->st = C_DONE;
}

static int type_is(const struct top *t, const char *want)
{
	return want && t->type && t->type_len == strlen(want) && !memcmp(t->type, want, t->type_len);
}

static uint64_t now_real_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* PREFIX<digits> in msg: the sender's clock (µs since the epoch) -> latency. */
static void stamp_message(struct wsload *w, const char *msg, size_t len)
{
	uint64_t now = 0;
	for (int k = 0; k < w->o.nstamps; k++) {
		const char *pre = w->o.stamps[k];
		size_t pl = strlen(pre);
		const char *p = memmem(msg, len, pre, pl);
		if (!p)
			continue;
		struct stamp *st = &w->stamps[k];
		const char *d = p + pl, *end = msg + len;
		uint64_t v = 0;
		while (d < end && *d >= '0' && *d <= '9')
			v = v * 10 + (uint64_t)(*d++ - '0');
		if (!now)
			now = now_real_us();
		if (d == p + pl || v > now + 1000000 || st->n >= MAX_SAMPLES) {
			st->dropped++;
			continue;
		}
		if (st->n == st->cap) {
			st->cap = st->cap ? st->cap * 2 : 65536;
			st->us = xrealloc(st->us, st->cap * sizeof *st->us);
		}
		st->us[st->n++] = v > now ? 0 : (int64_t)(now - v);
	}
}

static void on_message(struct wsload *w, struct conn *c, int idx, const char *msg, size_t len,
		       uint64_t now)
{
	struct top t;
	w->msgs++;
	w->msg_bytes += len;
	json_top(msg, len, &t);
	if (w->o.verbose > 1)
		fprintf(stderr, "wsload: #%d <- %.*s\n", idx, (int)(len > 300 ? 300 : len), msg);
	if (t.has_id) { /* events come in strictly increasing id order, never twice */
		if (t.id <= c->last_id)
			w->order_errors++;
		else
			c->last_id = t.id;
	}
	if (type_is(&t, "resync"))
		w->resyncs++;
	if (type_is(&t, w->o.stamp_event)) {
		if (w->o.nstamps)
			stamp_message(w, msg, len);
		if (w->o.count_match && memmem(msg, len, w->o.count_match, strlen(w->o.count_match))) {
			c->counted++;
			w->last_count_us = now;
		}
	}
	if (!c->ready && type_is(&t, w->o.probe_type))
		set_ready(w, c);
	if (w->run_active && w->recv_us[idx] < 0 && type_is(&t, w->o.event_type) &&
	    (!*w->match || memmem(msg, len, w->match, strlen(w->match)))) {
		w->recv_us[idx] = (int64_t)(now - w->t0);
		w->received++;
		if (t.has_id && !w->run_event_id)
			w->run_event_id = t.id;
	}
}

/* The 101, or why not.  1: open; 0: more to read; -1: handled (retry/fail). */
static int conn_upgraded(struct wsload *w, struct conn *c, int idx)
{
	char *p = buf_data(&c->in);
	size_t n = buf_avail(&c->in);
	char *end = memmem(p, n, "\r\n\r\n", 4);
	if (!end) {
		if (n > MAX_HEAD)
			conn_fail(w, c, idx, "answer head too large");
		return n > MAX_HEAD ? -1 : 0;
	}
	*end = 0;
	int status = 0;
	if (sscanf(p, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	c->http_status = status;
	if (status != 101) {
		char why[200];
		char *body = end + 4;
		size_t blen = n - (size_t)(body - p);
		snprintf(why, sizeof why, "HTTP %d %.*s", status, (int)(blen > 120 ? 120 : blen), body);
		w->status_counts[status > 0 && status < 600 ? status : 0]++;
		if (status == 503 || status == 429)
			conn_retry(w, c, idx, why);
		else
			conn_fail(w, c, idx, why);
		return -1;
	}
	int accepted = 0;
	for (char *l = strstr(p, "\r\n"); l; l = strstr(l, "\r\n")) {
		l += 2;
		if (!strncasecmp(l, "sec-websocket-accept:", 21)) {
			char *v = l + 21;
			v += strspn(v, " \t");
			accepted = !strncmp(v, c->accept, strlen(c->accept));
		}
	}
	if (!accepted) {
		conn_fail(w, c, idx, "101 without the right Sec-WebSocket-Accept");
		return -1;
	}
	buf_drop(&c->in, (size_t)(end + 4 - p));
	w->inflight--;
	c->st = C_OPEN;
	w->opened++;
	if (w->o.probe_send)
		conn_send(w, c, idx, 1, w->o.probe_send, strlen(w->o.probe_send));
	if (!w->o.probe_type)
		set_ready(w, c);
	return 1;
}

/* Every complete frame in c->in. */
static void conn_frames(struct wsload *w, struct conn *c, int idx, uint64_t now)
{
	while (c->fd >= 0 && buf_avail(&c->in) >= 2) {
		const unsigned char *p = (const unsigned char *)buf_data(&c->in);
		size_t avail = buf_avail(&c->in), hl = 2;
		int fin = p[0] & 0x80, op = p[0] & 0x0f;
		uint64_t len = p[1] & 0x7f;
		if (p[1] & 0x80 || p[0] & 0x70) {
			conn_lost(w, c, idx, "masked frame or reserved bits from the server");
			return;
		}
		if (len == 126) {
			if (avail < 4)
				return;
			len = (uint64_t)p[2] << 8 | p[3];
			hl = 4;
		} else if (len == 127) {
			if (avail < 10)
				return;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | p[2 + i];
			hl = 10;
		}
		if (len > MAX_MESSAGE) {
			conn_lost(w, c, idx, "frame too large");
			return;
		}
		if (avail < hl + len)
			return;
		const char *pl = (const char *)p + hl;
		size_t n = (size_t)len;
		if (op == 9) {
			w->pings++;
			conn_send(w, c, idx, 10, pl, n);
		} else if (op == 8) {
			int code = n >= 2 ? ((unsigned char)pl[0] << 8 | (unsigned char)pl[1]) : 1005;
			c->close_code = code;
			if (!c->close_sent) { /* the server closed first: answer, count */
				w->close_codes[code < 5000 ? code : 0]++;
				c->close_sent = 1;
				conn_send(w, c, idx, 8, pl, n >= 2 ? 2 : 0);
				if (c->st == C_OPEN)
					conn_lost(w, c, idx, "closed by the server");
				return;
			}
			c->st = C_CLOSING; /* the answer to ours: wait for the server's FIN */
		} else if (op == 1 || op == 2) {
			if (c->msg_op) {
				conn_lost(w, c, idx, "new message inside a fragmented one");
				return;
			}
			if (fin && op == 1)
				on_message(w, c, idx, pl, n, now);
			else if (!fin) {
				c->msg_op = (unsigned char)op;
				buf_add(&c->msg, pl, n);
			}
		} else if (op == 0) {
			if (!c->msg_op || buf_avail(&c->msg) + n > MAX_MESSAGE) {
				conn_lost(w, c, idx, "bad continuation frame");
				return;
			}
			buf_add(&c->msg, pl, n);
			if (fin) {
				if (c->msg_op == 1)
					on_message(w, c, idx, buf_data(&c->msg), buf_avail(&c->msg), now);
				buf_free(&c->msg);
				c->msg_op = 0;
			}
		}
		if (c->fd >= 0)
			buf_drop(&c->in, hl + n);
	}
}

static void conn_event(struct wsload *w, int idx, uint32_t ev)
{
	struct conn *c = &w->c[idx];
	if (c->fd < 0)
		return;
	if (c->st == C_CONNECTING) {
		int err = 0;
		socklen_t el = sizeof err;
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			conn_retry(w, c, idx, strerror(err));
			return;
		}
		c->st = C_UPGRADING;
	}
	if (ev & EPOLLOUT)
		conn_flush(w, c, (uint32_t)idx);
	if (c->fd < 0 || !(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	char chunk[READ_CHUNK];
	ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
	uint64_t now = now_us();
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_lost(w, c, idx, n < 0 ? strerror(errno) : "end of stream");
		return;
	}
	buf_add(&c->in, chunk, (size_t)n);
	if (c->st == C_UPGRADING && conn_upgraded(w, c, idx) <= 0)
		return;
	conn_frames(w, c, idx, now);
}

/* ---- the trigger (POST) ---- */

static void trigger_reset(struct wsload *w)
{
	struct trigger *t = &w->trig;
	if (t->fd >= 0) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, t->fd, NULL);
		close(t->fd);
	}
	buf_free(&t->in);
	buf_free(&t->out);
	*t = (struct trigger){.fd = -1};
}

static void trigger_connect(struct wsload *w)
{
	struct trigger *t = &w->trig;
	trigger_reset(w);
	t->fd = socket(w->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(t->fd, (struct sockaddr *)&w->addr, w->addrlen) < 0 && errno != EINPROGRESS)
		die("connect (trigger): %s", strerror(errno));
	ep_set(w, t->fd, TRIGGER_SLOT(w), EPOLLOUT, 1);
}

static void trigger_send(struct wsload *w, const char *body)
{
	struct trigger *t = &w->trig;
	const struct opts *o = &w->o;
	buf_addf(&t->out, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n", o->post_path, o->target, strlen(body));
	if (o->cookie)
		buf_addf(&t->out, "Cookie: %s\r\n", o->cookie);
	for (int i = 0; i < o->nheaders; i++)
		buf_addf(&t->out, "%s\r\n", o->headers[i]);
	for (int i = 0; i < o->npost_headers; i++)
		buf_addf(&t->out, "%s\r\n", o->post_headers[i]);
	buf_add(&t->out, "\r\n", 2);
	buf_add(&t->out, body, strlen(body));
	ep_set(w, t->fd, TRIGGER_SLOT(w), EPOLLIN | EPOLLOUT, 0);
}

/* The answer is complete (Content-Length) or the server closed. */
static void trigger_check(struct wsload *w, int eof)
{
	struct trigger *t = &w->trig;
	char head[MAX_HEAD + 1];
	size_t n = buf_avail(&t->in);
	memcpy(head, n ? buf_data(&t->in) : "", n > MAX_HEAD ? MAX_HEAD : n);
	head[n > MAX_HEAD ? MAX_HEAD : n] = 0;
	char *end = strstr(head, "\r\n\r\n");
	if (!end && !eof)
		return;
	if (end) {
		size_t want = 0;
		for (char *l = head; l && l < end; l = strstr(l, "\r\n"), l = l ? l + 2 : NULL)
			if (!strncasecmp(l, "content-length:", 15))
				want = strtoul(l + 15, NULL, 10);
		if (!eof && n < (size_t)(end + 4 - head) + want)
			return;
	}
	if (sscanf(head, "HTTP/1.%*d %d", &t->status) != 1)
		t->status = 0;
	t->done = 1;
	t->done_at = now_us();
	if (t->status < 200 || t->status > 299)
		fprintf(stderr, "wsload: trigger POST %s: HTTP %d: %.400s\n", w->o.post_path,
			t->status, head);
	epoll_ctl(w->ep, EPOLL_CTL_DEL, t->fd, NULL);
	close(t->fd);
	t->fd = -1;
}

static void trigger_event(struct wsload *w, uint32_t ev)
{
	struct trigger *t = &w->trig;
	if (t->fd < 0)
		return;
	if (!t->connected && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err)
			die("connect (trigger): %s", strerror(err));
		t->connected = 1;
		if (!buf_avail(&t->out)) { /* connected; nothing to say yet */
			ep_set(w, t->fd, TRIGGER_SLOT(w), EPOLLIN, 0);
			return;
		}
	}
	if ((ev & EPOLLOUT) && buf_avail(&t->out)) {
		ssize_t n = send(t->fd, buf_data(&t->out), buf_avail(&t->out), MSG_NOSIGNAL);
		if (n > 0)
			buf_drop(&t->out, (size_t)n);
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			die("send (trigger): %s", strerror(errno));
		if (!buf_avail(&t->out))
			ep_set(w, t->fd, TRIGGER_SLOT(w), EPOLLIN, 0);
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		char chunk[16384];
		ssize_t n = recv(t->fd, chunk, sizeof chunk, 0);
		if (n > 0)
			buf_add(&t->in, chunk, (size_t)n);
		if (n > 0 || n == 0 || (errno != EAGAIN && errno != EINTR))
			trigger_check(w, n <= 0);
	}
}

/* ---- stdin ---- */

static void stdin_event(struct wsload *w)
{
	char chunk[1024];
	ssize_t n = read(0, chunk, sizeof chunk);
	if (n > 0)
		buf_add(&w->line, chunk, (size_t)n);
	else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		w->stdin_eof = 1;
		if (w->stdin_polled) {
			epoll_ctl(w->ep, EPOLL_CTL_DEL, 0, NULL);
			w->stdin_polled = 0;
		}
	}
}

/* The next line from stdin (the caller frees), NULL when none is there yet. */
static char *stdin_line(struct wsload *w)
{
	char *p = buf_data(&w->line), *nl;
	size_t n = buf_avail(&w->line);
	if (!n || !(nl = memchr(p, '\n', n))) {
		if (!w->stdin_eof || !n)
			return NULL;
		nl = p + n; /* the last line, without its newline */
	}
	size_t len = (size_t)(nl - p);
	char *s = xrealloc(NULL, len + 1);
	memcpy(s, p, len);
	s[len] = 0;
	buf_drop(&w->line, len + (nl < p + n));
	if (len && s[len - 1] == '\r')
		s[len - 1] = 0;
	return s;
}

/* ---- the loop ---- */

/* Start what may start, wait up to ms for I/O, handle it, and give up on
 * handshakes or closes past their deadline. */
static void step(struct wsload *w, int ms)
{
	uint64_t now = now_us();
	while (w->qlen && w->inflight < w->o.concurrency) {
		int idx = w->queue[w->qhead];
		if (w->c[idx].retry_at > now)
			break;
		w->qhead = (w->qhead + 1) % w->n;
		w->qlen--;
		w->c[idx].queued = 0;
		conn_start(w, idx);
	}
	if (w->qlen && w->inflight < w->o.concurrency && ms > 50)
		ms = 50; /* a retry comes due soon */
	struct epoll_event evs[512];
	int k = epoll_wait(w->ep, evs, 512, ms);
	if (k < 0 && errno != EINTR)
		die("epoll_wait: %s", strerror(errno));
	for (int i = 0; i < k; i++) {
		uint32_t s = evs[i].data.u32;
		if (s == TRIGGER_SLOT(w))
			trigger_event(w, evs[i].events);
		else if (s == STDIN_SLOT(w))
			stdin_event(w);
		else
			conn_event(w, (int)s, evs[i].events);
	}
	now = now_us();
	if (now - w->last_scan < 250000)
		return;
	w->last_scan = now;
	for (int i = 0; i < w->n; i++) {
		struct conn *c = &w->c[i];
		if ((c->st == C_CONNECTING || c->st == C_UPGRADING) && now > c->deadline)
			conn_retry(w, c, i, "no 101 in time");
		else if (c->st == C_CLOSING && now > c->deadline) {
			conn_reset(w, c);
			c->st = C_DONE;
		}
	}
}

/* Run the loop for s seconds. */
static void idle_for(struct wsload *w, double s)
{
	uint64_t until = now_us() + (uint64_t)(s * 1e6);
	for (uint64_t now; (now = now_us()) < until;)
		step(w, (int)((until - now) / 1000) + 1);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct_ms(const int64_t *v, int n, double p)
{
	if (n <= 0)
		return 0;
	int k = (int)(p * n + 0.999999) - 1;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return v[k] / 1000.0;
}

static void run_stats(struct wsload *w, struct run *r)
{
	int64_t *v = xrealloc(NULL, (size_t)w->n * sizeof *v);
	int m = 0;
	r->first_conn = -1;
	for (int i = 0; i < w->n; i++) {
		if (w->recv_us[i] < 0)
			continue;
		if (r->first_conn < 0 || w->recv_us[i] < w->recv_us[r->first_conn])
			r->first_conn = i;
		v[m++] = w->recv_us[i];
	}
	qsort(v, (size_t)m, sizeof *v, cmp_i64);
	r->received = m;
	if (m) {
		r->min_ms = v[0] / 1000.0;
		r->p50_ms = pct_ms(v, m, 0.50);
		r->p90_ms = pct_ms(v, m, 0.90);
		r->p99_ms = pct_ms(v, m, 0.99);
		r->max_ms = v[m - 1] / 1000.0;
	}
	free(v);
}

/* One round. */
static void run_one(struct wsload *w, int k)
{
	const struct opts *o = &w->o;
	char tag[64];
	snprintf(tag, sizeof tag, "wsload-%d-%d-%d", (int)getpid(), k + 1, (int)(rnd32(w) % 100000));
	free(w->match);
	w->match = subst(o->match ? o->match : (o->post_body && strstr(o->post_body, "{run}") ? "{run}" : ""), tag);
	for (int i = 0; i < w->n; i++)
		w->recv_us[i] = -1;
	struct run *r = &w->runs[w->nruns++];
	*r = (struct run){.expected = o->expect ? o->expect : w->ready};
	w->received = 0;
	w->run_event_id = 0;
	char *body = NULL;
	if (o->post_path) {
		body = subst(o->post_body ? o->post_body : "{}", tag);
		trigger_connect(w);
		uint64_t until = now_us() + 5000000;
		while (!w->trig.connected && now_us() < until)
			step(w, 10);
		if (!w->trig.connected)
			die("the trigger connection did not connect in 5 s");
	}
	w->t0 = now_us();
	w->run_active = 1;
	if (body)
		trigger_send(w, body);
	free(body);
	uint64_t until = w->t0 + (uint64_t)(o->run_timeout * 1e6);
	while (now_us() < until && (w->received < r->expected || (o->post_path && !w->trig.done)))
		step(w, 5);
	r->timed_out = w->received < r->expected;
	if (o->grace > 0)
		idle_for(w, o->grace);
	w->run_active = 0;
	r->event_id = w->run_event_id;
	if (o->post_path) {
		r->post_status = w->trig.status;
		r->post_ms = w->trig.done ? (double)(w->trig.done_at - w->t0) / 1000.0 : -1;
		trigger_reset(w);
	}
	run_stats(w, r);
	printf("run %d: %d/%d received", k + 1, r->received, r->expected);
	if (o->post_path)
		printf(", POST %d in %.1f ms", r->post_status, r->post_ms);
	if (r->received)
		printf("; latency ms min %.2f p50 %.2f p90 %.2f p99 %.2f max %.2f",
		       r->min_ms, r->p50_ms, r->p90_ms, r->p99_ms, r->max_ms);
	printf("%s\n", r->timed_out ? " (timed out)" : "");
}

/* ---- reconnect storm ---- */

/* Every open WebSocket closed at once without a close frame, as when a
 * network or a load balancer goes away.  Each remembers the last event id
 * it had, raised to base: the account's position once everything sent
 * before the drop was delivered (what a widget learns from GET
 * /widget/v1/conversation), so a connection that had no event of its own
 * does not ask for a replay from long ago. */
static void drop_all(struct wsload *w, int64_t base)
{
	if (w->nstorms == (int)(sizeof w->storms / sizeof *w->storms))
		die("too many drops");
	struct storm *s = &w->storms[w->nstorms++];
	*s = (struct storm){.base = base};
	for (int i = 0; i < w->n; i++) {
		struct conn *c = &w->c[i];
		c->counted = 0;
		if (c->last_id < base)
			c->last_id = base;
		if (c->st != C_OPEN)
			continue;
		if (c->ready) {
			c->ready = 0;
			w->ready--;
		}
		conn_reset(w, c);
		c->st = C_DONE;
		c->gone = 1;
		s->dropped++;
	}
	printf("dropped %d\n", s->dropped);
}

/* All dropped connections again, with ?after=; until ready or the timeout. */
static void reconnect_all(struct wsload *w)
{
	if (!w->nstorms) {
		fprintf(stderr, "wsload: reconnect without a drop\n");
		return;
	}
	struct storm *s = &w->storms[w->nstorms - 1];
	uint64_t t0 = now_us(), until = t0 + (uint64_t)(w->o.connect_timeout * 1e6);
	int want = 0, failed0 = w->failed, dropped0 = w->dropped;
	s->t0 = t0;
	for (int i = 0; i < w->n; i++) {
		struct conn *c = &w->c[i];
		if (!c->gone)
			continue;
		*c = (struct conn){.fd = -1, .st = C_WAIT, .last_id = c->last_id};
		queue_push(w, i);
		want++;
	}
	while (w->ready + (w->failed - failed0) + (w->dropped - dropped0) < want && now_us() < until)
		step(w, 50);
	s->reconnected = w->ready;
	s->failed = want - w->ready;
	s->reconnect_s = (double)(now_us() - t0) / 1e6;
	printf("reconnected %d/%d in %.2f s\n", s->reconnected, want, s->reconnect_s);
}

/* "settle QUIET [MAX]": serve until no --count-match message has come for
 * QUIET seconds (at most MAX, default 60), so a replay still streaming in
 * is not taken for a loss; prints what was counted and when the last came. */
static void settle(struct wsload *w, const char *args)
{
	double quiet = 2, max = 60;
	sscanf(args, "%lf %lf", &quiet, &max);
	uint64_t t0 = now_us(), until = t0 + (uint64_t)(max * 1e6);
	for (;;) {
		uint64_t now = now_us(), last = w->last_count_us > t0 ? w->last_count_us : t0;
		if (now - last >= (uint64_t)(quiet * 1e6) || now > until)
			break;
		step(w, 20);
	}
	long total = 0;
	for (int i = 0; i < w->n; i++)
		total += w->c[i].counted;
	struct storm *s = w->nstorms ? &w->storms[w->nstorms - 1] : NULL;
	if (s && w->last_count_us > s->t0)
		s->catchup_s = (double)(w->last_count_us - s->t0) / 1e6;
	printf("settled: counted %ld, the last %.2f s after the reconnect\n", total, s ? s->catchup_s : 0.0);
}

/* The next line on stdin, serving the connections meanwhile; NULL at the
 * end of input or after --go-timeout. */
static char *next_command(struct wsload *w)
{
	uint64_t until = now_us() + (uint64_t)(w->o.go_timeout * 1e6);
	char *l;
	while (!(l = stdin_line(w))) {
		if (w->stdin_eof || now_us() > until) {
			if (!w->stdin_eof)
				fprintf(stderr, "wsload: no command on stdin in %.0f s\n", w->o.go_timeout);
			return NULL;
		}
		if (!w->stdin_polled) /* not pollable (a file): it is all there */
			stdin_event(w);
		else
			step(w, 100);
	}
	return l;
}

/* --stdin: "go", "drop [BASE]", "reconnect", "settle QUIET [MAX]", "quit". */
static void command_loop(struct wsload *w, int *timed_out)
{
	char *l;
	while ((l = next_command(w))) {
		if (!strncmp(l, "go", 2)) {
			if (w->nruns < w->o.runs && w->o.event_type && w->ready) {
				run_one(w, w->nruns);
				*timed_out |= w->runs[w->nruns - 1].timed_out;
			} else {
				printf("go ignored: no round left\n");
			}
		} else if (!strncmp(l, "drop", 4)) {
			drop_all(w, strtoll(l + 4, NULL, 10));
		} else if (!strcmp(l, "reconnect")) {
			reconnect_all(w);
		} else if (!strncmp(l, "settle", 6)) {
			settle(w, l + 6);
		} else if (!strcmp(l, "quit")) {
			free(l);
			break;
		} else if (*l) {
			fprintf(stderr, "wsload: unknown command \"%s\"\n", l);
		}
		free(l);
	}
}

static void close_all(struct wsload *w)
{
	uint64_t t = now_us(), until = t + (uint64_t)(w->o.close_timeout * 1e6);
	for (int i = 0; i < w->n; i++) {
		struct conn *c = &w->c[i];
		if (c->st == C_OPEN) {
			static const unsigned char bye[2] = {1000 >> 8, 1000 & 255};
			c->close_sent = 1;
			c->bye = 1;
			c->st = C_CLOSING;
			c->deadline = until;
			conn_send(w, c, i, 8, bye, 2);
		} else if (c->st != C_CLOSING) {
			conn_reset(w, c);
		}
	}
	for (;;) {
		int left = 0;
		for (int i = 0; i < w->n; i++)
			left += w->c[i].st == C_CLOSING && w->c[i].fd >= 0;
		if (!left || now_us() > until)
			break;
		step(w, 20);
	}
	w->closed_ok = 0;
	for (int i = 0; i < w->n; i++) {
		struct conn *c = &w->c[i];
		if (c->bye && c->close_code) /* our close was answered */
			w->closed_ok++;
		conn_reset(w, c);
		c->st = C_DONE;
	}
	w->close_s = (double)(now_us() - t) / 1e6;
}

/* ---- report ---- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static double per_conn(const struct wsload *w)
{
	const struct sample *b = &w->server[PH_BEFORE], *o = &w->server[PH_OPEN];
	return w->ready_at_open && b->rss_kb && o->rss_kb
		       ? (double)(o->rss_kb - b->rss_kb) * 1024.0 / w->ready_at_open : 0;
}

static int cmp_i64(const void *a, const void *b);
static double pct_ms(const int64_t *v, int n, double p);

/* Sorted, ready for percentiles; one line each on stdout. */
static void stamps_report(struct wsload *w)
{
	for (int k = 0; k < w->o.nstamps; k++) {
		struct stamp *st = &w->stamps[k];
		int n = (int)st->n;
		qsort(st->us, st->n, sizeof *st->us, cmp_i64);
		printf("stamp %s: %d deliveries", w->o.stamps[k], n);
		if (n)
			printf("; latency ms p50 %.2f p90 %.2f p99 %.2f p99.9 %.2f max %.2f",
			       pct_ms(st->us, n, 0.50), pct_ms(st->us, n, 0.90), pct_ms(st->us, n, 0.99),
			       pct_ms(st->us, n, 0.999), st->us[n - 1] / 1000.0);
		printf("\n");
	}
	if (w->o.count_match) {
		long total = 0;
		for (int i = 0; i < w->n; i++)
			total += w->c[i].counted;
		printf("counted \"%s\": %ld since the last drop\n", w->o.count_match, total);
	}
	if (w->order_errors || w->resyncs)
		printf("order errors %llu, resyncs %llu\n", (unsigned long long)w->order_errors,
		       (unsigned long long)w->resyncs);
}

static void write_json(const struct wsload *w, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		die("%s: %s", path, strerror(errno));
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	fprintf(f, "{\"target\":");
	json_str(f, w->o.target);
	fprintf(f, ",\"path\":");
	json_str(f, w->o.path);
	fprintf(f, ",\"conns\":%d,\"opened\":%d,\"ready\":%d,\"failed\":%d,\"dropped\":%d,"
		"\"retries\":%d,\"connect_s\":%.3f,",
		w->n, w->opened, w->ready_at_open, w->failed, w->dropped, w->retries,
		w->ready_us ? (double)(w->ready_us - w->start_us) / 1e6 : -1.0);
	fprintf(f, "\"http_errors\":{");
	for (int s = 0, first = 1; s < 600; s++)
		if (w->status_counts[s])
			fprintf(f, "%s\"%d\":%d", first ? "" : ",", s, w->status_counts[s]), first = 0;
	fprintf(f, "},\"server_close_codes\":{");
	for (int s = 0, first = 1; s < 5000; s++)
		if (w->close_codes[s])
			fprintf(f, "%s\"%d\":%d", first ? "" : ",", s, w->close_codes[s]), first = 0;
	fprintf(f, "},\"server\":{");
	for (int i = 0; i < NPHASES; i++)
		fprintf(f, "%s\"%s\":{\"rss_kb\":%ld,\"hwm_kb\":%ld,\"cpu_s\":%.2f}", i ? "," : "",
			phase_names[i], w->server[i].rss_kb, w->server[i].hwm_kb, w->server[i].cpu_s);
	fprintf(f, "},\"rss_bytes_per_conn\":%.0f,", per_conn(w));
	fprintf(f, "\"runs\":[");
	for (int i = 0; i < w->nruns; i++) {
		const struct run *r = &w->runs[i];
		fprintf(f, "%s{\"run\":%d,\"received\":%d,\"expected\":%d,\"timed_out\":%s,"
			"\"first_conn\":%d,\"event_id\":%lld,\"post_status\":%d,\"post_ms\":%.3f,\"min_ms\":%.3f,"
			"\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}",
			i ? "," : "", i + 1, r->received, r->expected, r->timed_out ? "true" : "false",
			r->first_conn, (long long)r->event_id, r->post_status, r->post_ms, r->min_ms, r->p50_ms,
			r->p90_ms, r->p99_ms, r->max_ms);
	}
	fprintf(f, "],\"stamps\":[");
	for (int k = 0; k < w->o.nstamps; k++) {
		const struct stamp *st = &w->stamps[k];
		int n = (int)st->n;
		fprintf(f, "%s{\"prefix\":", k ? "," : "");
		json_str(f, w->o.stamps[k]);
		fprintf(f, ",\"count\":%d,\"bad\":%zu,\"min_ms\":%.3f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
			"\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}",
			n, st->dropped, n ? st->us[0] / 1000.0 : 0, pct_ms(st->us, n, 0.50),
			pct_ms(st->us, n, 0.90), pct_ms(st->us, n, 0.99), pct_ms(st->us, n, 0.999),
			n ? st->us[n - 1] / 1000.0 : 0);
	}
	fprintf(f, "],\"order_errors\":%llu,\"resyncs\":%llu,\"storms\":[",
		(unsigned long long)w->order_errors, (unsigned long long)w->resyncs);
	for (int i = 0; i < w->nstorms; i++) {
		const struct storm *st = &w->storms[i];
		fprintf(f, "%s{\"base\":%lld,\"dropped\":%d,\"reconnected\":%d,\"failed\":%d,"
			"\"reconnect_s\":%.3f,\"catchup_s\":%.3f}", i ? "," : "", (long long)st->base,
			st->dropped, st->reconnected, st->failed, st->reconnect_s, st->catchup_s);
	}
	fprintf(f, "]");
	if (w->o.count_match) {
		/* per connection: what a harness compares with what it sent */
		fprintf(f, ",\"counted\":[");
		for (int i = 0; i < w->n; i++)
			fprintf(f, "%s%d", i ? "," : "", w->c[i].counted);
		fprintf(f, "]");
	}
	fprintf(f, ",\"closed\":%d,\"close_s\":%.3f,\"messages\":%llu,\"message_bytes\":%llu,"
		"\"pings\":%llu,\"client_cpu_s\":%.3f}\n",
		w->closed_ok, w->close_s, (unsigned long long)w->msgs,
		(unsigned long long)w->msg_bytes, (unsigned long long)w->pings,
		(double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
			ru.ru_stime.tv_usec / 1e6);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

/* ---- set-up ---- */

static void usage(FILE *f)
{
	fputs("usage: wsload [options]\n"
	      "  -t, --target HOST:PORT   server (default 127.0.0.1:8080)\n"
	      "  -n, --conns N            WebSockets to open (default 1, or one per token)\n"
	      "  -p, --path PATH          upgrade path (default /api/v1/ws)\n"
	      "  -b, --cookie VALUE       Cookie header on every upgrade and on the POST\n"
	      "  -H, --header 'K: V'      another header on every upgrade and on the POST\n"
	      "  -T, --tokens FILE        widget tokens, one a line: connection i adds ?token=LINE_i\n"
	      "  -C, --concurrency N      handshakes in flight at once (default 200)\n"
	      "      --ready-send TEXT    a message each connection sends once open\n"
	      "      --ready-type TYPE    a message of this type marks the connection ready\n"
	      "      --connect-timeout S  all connections ready within S seconds (default 120)\n"
	      "      --settle S           pause once all are ready, and after closing (default 1)\n"
	      "  -e, --event TYPE         the message type to time (e.g. ticket.created)\n"
	      "  -m, --match STR          ... containing STR; {run} is the round's unique tag\n"
	      "      --post PATH          trigger each round by POSTing --body to PATH\n"
	      "      --body JSON          the POST's body; {run} is the round's unique tag\n"
	      "      --post-header 'K: V' a header on the POST only (e.g. X-CSRF-Token)\n"
	      "      --stdin              take commands on stdin, one a line, until \"quit\" or the\n"
	      "                           end of input: \"go\" (a round, at most --runs), \"drop [BASE]\"\n"
	      "                           (close every WebSocket without a close frame), \"reconnect\"\n"
	      "                           (open them again with ?after= the last event id each\n"
	      "                           had, at least BASE), \"settle QUIET [MAX]\" (wait until no\n"
	      "                           --count-match message came for QUIET s, at most MAX);\n"
	      "                           each answers a line on stdout\n"
	      "      --after N            ?after=N on the first connect (default: none)\n"
	      "      --stamp PREFIX       time each --stamp-event message holding PREFIX<µs since\n"
	      "                           the epoch> as a delivery latency (up to 4 prefixes)\n"
	      "      --stamp-event TYPE   the message type --stamp and --count-match look at\n"
	      "                           (default message.created)\n"
	      "      --count-match STR    count per connection the messages holding STR since\n"
	      "                           the last drop (in the JSON as \"counted\")\n"
	      "  -r, --runs N             rounds (default 1; 0 none)\n"
	      "      --expect N           a round is complete when N connections got the event\n"
	      "                           (default: every ready connection)\n"
	      "      --run-timeout S      give up on a round after S seconds (default 30)\n"
	      "      --go-timeout S       wait at most S seconds for the next command (default 600)\n"
	      "      --grace S            keep listening S seconds after a round completes (default 0)\n"
	      "      --gap S              pause between rounds (default 0.5)\n"
	      "      --hold S             stay connected S seconds after the rounds (default 0)\n"
	      "      --close-timeout S    for the close handshakes (default 10)\n"
	      "      --server-pid PID     sample the server's RSS and CPU time at each phase\n"
	      "  -j, --json FILE          write the results as JSON\n"
	      "  -v, --verbose            more on stderr (twice: every message)\n"
	      "Prints \"ready N\" once every connection is ready, one line per round, and exits\n"
	      "1 when a connection failed or a round timed out, 2 on a usage or system error.\n",
	      f);
}

static void parse_target(struct wsload *w)
{
	char host[256];
	const char *t = w->o.target, *colon = strrchr(t, ':');
	if (!colon || colon == t || (size_t)(colon - t) >= sizeof host)
		die("--target must be HOST:PORT");
	memcpy(host, t, (size_t)(colon - t));
	host[colon - t] = 0;
	char *h = host;
	if (*h == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = 0;
		h++;
	}
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int rc = getaddrinfo(h, colon + 1, &hints, &ai);
	if (rc)
		die("%s: %s", t, gai_strerror(rc));
	memcpy(&w->addr, ai->ai_addr, ai->ai_addrlen);
	w->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static void read_tokens(struct wsload *w)
{
	FILE *f = fopen(w->o.tokens_file, "r");
	if (!f)
		die("%s: %s", w->o.tokens_file, strerror(errno));
	char line[1024];
	int cap = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = 0;
		if (!*line)
			continue;
		if (w->ntokens == cap) {
			cap = cap ? cap * 2 : 1024;
			w->tokens = xrealloc(w->tokens, (size_t)cap * sizeof *w->tokens);
		}
		w->tokens[w->ntokens++] = xstrdup(line);
	}
	fclose(f);
	if (!w->ntokens)
		die("%s: no tokens", w->o.tokens_file);
}

static void raise_nofile(int need)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= (rlim_t)need)
		return;
	if (rl.rlim_max < (rlim_t)need)
		rl.rlim_max = (rlim_t)need; /* works as root */
	rl.rlim_cur = (rlim_t)need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		fprintf(stderr, "wsload: open files limited to %llu; %d wanted\n",
			(unsigned long long)rl.rlim_cur, need);
	}
}

static double num(const char *s, const char *what)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || v < 0)
		die("%s must be a number (0 or more)", what);
	return v;
}

static void parse_opts(struct wsload *w, int argc, char **argv)
{
	enum { O_RSEND = 256, O_RTYPE, O_CTIMEOUT, O_SETTLE, O_POST, O_BODY, O_STDIN, O_EXPECT,
	       O_RTIMEOUT, O_GTIMEOUT, O_GRACE, O_GAP, O_HOLD, O_CLTIMEOUT, O_RSS, O_PHDR,
	       O_STAMP, O_STAMP_EVENT, O_COUNT, O_AFTER };
	static const struct option lo[] = {
		{"target", 1, 0, 't'}, {"conns", 1, 0, 'n'}, {"path", 1, 0, 'p'},
		{"cookie", 1, 0, 'b'}, {"header", 1, 0, 'H'}, {"tokens", 1, 0, 'T'},
		{"concurrency", 1, 0, 'C'}, {"ready-send", 1, 0, O_RSEND}, {"ready-type", 1, 0, O_RTYPE},
		{"connect-timeout", 1, 0, O_CTIMEOUT}, {"settle", 1, 0, O_SETTLE},
		{"event", 1, 0, 'e'}, {"match", 1, 0, 'm'}, {"post", 1, 0, O_POST},
		{"body", 1, 0, O_BODY}, {"post-header", 1, 0, O_PHDR}, {"stdin", 0, 0, O_STDIN}, {"runs", 1, 0, 'r'},
		{"expect", 1, 0, O_EXPECT}, {"run-timeout", 1, 0, O_RTIMEOUT},
		{"go-timeout", 1, 0, O_GTIMEOUT}, {"grace", 1, 0, O_GRACE}, {"gap", 1, 0, O_GAP},
		{"hold", 1, 0, O_HOLD}, {"close-timeout", 1, 0, O_CLTIMEOUT}, {"server-pid", 1, 0, O_RSS},
		{"rss-pid", 1, 0, O_RSS}, {"stamp", 1, 0, O_STAMP},
		{"stamp-event", 1, 0, O_STAMP_EVENT}, {"count-match", 1, 0, O_COUNT}, {"after", 1, 0, O_AFTER},
		{"json", 1, 0, 'j'}, {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
	struct opts *o = &w->o;
	*o = (struct opts){.target = "127.0.0.1:8080", .path = "/api/v1/ws", .concurrency = 200,
			   .runs = 1, .connect_timeout = 120, .run_timeout = 30, .go_timeout = 600,
			   .gap = 0.5, .settle = 1, .close_timeout = 10, .stamp_event = "message.created"};
	o->headers = xrealloc(NULL, (size_t)argc * sizeof *o->headers);
	o->post_headers = xrealloc(NULL, (size_t)argc * sizeof *o->post_headers);
	int ch;
	while ((ch = getopt_long(argc, argv, "t:n:p:b:H:T:C:e:m:r:j:vh", lo, NULL)) != -1) {
		switch (ch) {
		case 't': o->target = optarg; break;
		case 'n': o->nconns = (int)num(optarg, "--conns"); break;
		case 'p': o->path = optarg; break;
		case 'b': o->cookie = optarg; break;
		case 'H': o->headers[o->nheaders++] = optarg; break;
		case 'T': o->tokens_file = optarg; break;
		case 'C': o->concurrency = (int)num(optarg, "--concurrency"); break;
		case O_RSEND: o->probe_send = optarg; break;
		case O_RTYPE: o->probe_type = optarg; break;
		case O_CTIMEOUT: o->connect_timeout = num(optarg, "--connect-timeout"); break;
		case O_SETTLE: o->settle = num(optarg, "--settle"); break;
		case 'e': o->event_type = optarg; break;
		case 'm': o->match = optarg; break;
		case O_POST: o->post_path = optarg; break;
		case O_BODY: o->post_body = optarg; break;
		case O_PHDR: o->post_headers[o->npost_headers++] = optarg; break;
		case O_STDIN: o->use_stdin = 1; break;
		case 'r': o->runs = (int)num(optarg, "--runs"); break;
		case O_EXPECT: o->expect = (int)num(optarg, "--expect"); break;
		case O_RTIMEOUT: o->run_timeout = num(optarg, "--run-timeout"); break;
		case O_GTIMEOUT: o->go_timeout = num(optarg, "--go-timeout"); break;
		case O_GRACE: o->grace = num(optarg, "--grace"); break;
		case O_GAP: o->gap = num(optarg, "--gap"); break;
		case O_HOLD: o->hold = num(optarg, "--hold"); break;
		case O_CLTIMEOUT: o->close_timeout = num(optarg, "--close-timeout"); break;
		case O_RSS: o->server_pid = (int)num(optarg, "--server-pid"); break;
		case O_STAMP:
			if (o->nstamps == MAX_STAMPS)
				die("at most %d --stamp", MAX_STAMPS);
			o->stamps[o->nstamps++] = optarg;
			break;
		case O_STAMP_EVENT: o->stamp_event = optarg; break;
		case O_COUNT: o->count_match = optarg; break;
		case O_AFTER: o->after = (int64_t)num(optarg, "--after"); break;
		case 'j': o->json_path = optarg; break;
		case 'v': o->verbose++; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument %s (see --help)", argv[optind]);
	if (o->runs > MAX_RUNS)
		die("at most %d runs", MAX_RUNS);
	if (o->runs && !o->event_type && !o->use_stdin)
		die("rounds need --event TYPE (or --runs 0)");
	if (o->runs && !o->post_path && !o->use_stdin)
		die("rounds need a trigger: --post PATH or --stdin (or --runs 0)");
	if (o->post_path && o->use_stdin)
		die("--post and --stdin: choose one");
	if (o->concurrency < 1)
		o->concurrency = 1;
}

int main(int argc, char **argv)
{
	static struct wsload W;
	struct wsload *w = &W;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	parse_opts(w, argc, argv);
	if (w->o.tokens_file)
		read_tokens(w);
	w->n = w->o.nconns ? w->o.nconns : (w->ntokens ? w->ntokens : 1);
	if (w->tokens && w->n > w->ntokens)
		die("%d connections but only %d tokens", w->n, w->ntokens);
	parse_target(w);
	raise_nofile(w->n + 64);
	if (getrandom(&w->rng, sizeof w->rng, 0) != (ssize_t)sizeof w->rng || !w->rng)
		w->rng = 0x9E3779B97F4A7C15ull ^ now_us();
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
	w->c = xrealloc(NULL, (size_t)w->n * sizeof *w->c);
	w->queue = xrealloc(NULL, (size_t)w->n * sizeof *w->queue);
	w->recv_us = xrealloc(NULL, (size_t)w->n * sizeof *w->recv_us);
	w->trig.fd = -1;
	for (int i = 0; i < w->n; i++) {
		w->c[i] = (struct conn){.fd = -1};
		queue_push(w, i);
	}
	if (w->o.use_stdin) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = STDIN_SLOT(w)};
		w->stdin_polled = epoll_ctl(w->ep, EPOLL_CTL_ADD, 0, &ev) == 0;
	}

	server_sample(w, &w->server[PH_BEFORE]);
	w->start_us = now_us();
	uint64_t until = w->start_us + (uint64_t)(w->o.connect_timeout * 1e6);
	while (w->ready + w->failed + w->dropped < w->n && now_us() < until)
		step(w, 50);
	w->ready_us = now_us();
	w->ready_at_open = w->ready;
	int all = w->ready == w->n;
	printf("%s %d/%d in %.2f s (%d failed, %d dropped, %d retries)\n",
	       all ? "ready" : "partly-ready", w->ready, w->n,
	       (double)(w->ready_us - w->start_us) / 1e6, w->failed, w->dropped, w->retries);
	idle_for(w, w->o.settle);
	server_sample(w, &w->server[PH_OPEN]);
	if (w->o.server_pid)
		printf("server RSS %ld kB before, %ld kB with %d open: %.0f bytes per connection\n",
		       w->server[PH_BEFORE].rss_kb, w->server[PH_OPEN].rss_kb, w->ready, per_conn(w));

	int timed_out = 0;
	if (w->o.use_stdin)
		command_loop(w, &timed_out);
	for (int k = 0; !w->o.use_stdin && k < w->o.runs && w->ready; k++) {
		run_one(w, k);
		timed_out |= w->runs[w->nruns - 1].timed_out;
		if (k + 1 < w->o.runs && w->o.gap > 0)
			idle_for(w, w->o.gap);
	}
	server_sample(w, &w->server[PH_RUNS]);
	if (w->o.hold > 0)
		idle_for(w, w->o.hold);
	server_sample(w, &w->server[PH_HOLD]);
	int still = w->ready;
	close_all(w);
	idle_for(w, w->o.settle);
	server_sample(w, &w->server[PH_CLOSED]);
	printf("closed %d/%d in %.2f s", w->closed_ok, still, w->close_s);
	if (w->o.server_pid)
		printf("; server RSS %ld kB after the rounds, %ld kB after closing (peak %ld kB)",
		       w->server[PH_HOLD].rss_kb, w->server[PH_CLOSED].rss_kb,
		       w->server[PH_CLOSED].hwm_kb);
	printf("\n");
	stamps_report(w);
	if (w->o.json_path)
		write_json(w, w->o.json_path);
	int storm_failed = 0;
	for (int i = 0; i < w->nstorms; i++)
		storm_failed += w->storms[i].failed;
	return all && !timed_out && !w->dropped && !storm_failed ? 0 : 1;
}
