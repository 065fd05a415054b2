/*
 * metrics.c -- the HTTP server's Prometheus metrics.
 *
 * Owns: request counters by route, method and status, the request
 * duration histogram by route, and the connection / pool gauges, plus
 * their text exposition.  The route table is fixed at start, so counters
 * live in one table indexed by route slot (routes, then "static", then
 * "none"), method class and status class: no lock, no allocation per
 * request.  Only the loop thread counts requests (a plain load and store of
 * relaxed atomics, no locked instruction); any thread may render.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define NMETHODS 8
#define NBUCKETS 14 /* the last one is +Inf */

typedef _Atomic uint64_t counter;

static const int statuses[] = {
	100, 101, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308,
	400, 401, 402, 403, 404, 405, 406, 408, 409, 410, 411, 412, 413,
	414, 415, 416, 417, 421, 422, 423, 425, 426, 428, 429, 431, 451,
	500, 501, 502, 503, 504, 505,
};
#define NSTATUS (sizeof statuses / sizeof statuses[0] + 1) /* + "other" */

static const char *const method_names[NMETHODS] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
};

static const uint64_t bucket_us[NBUCKETS - 1] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000,
};
static const char *const bucket_le[NBUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
	"0.25", "0.5", "1", "2.5", "5", "+Inf",
};

struct slot_hist {
	counter bucket[NBUCKETS];
	counter sum_us;
	counter count;
};

struct metrics {
	const struct route *routes;
	size_t nroutes;
	int workers;
	counter *requests; /* [slot][method][status] */
	struct slot_hist *hist; /* [slot] */
};

static _Atomic(struct metrics *) current;
static atomic_int conns_open;
static atomic_int queue_depth;
static unsigned char status_index[600];

static size_t nslots(const struct metrics *m)
{
	return m->nroutes + 2;
}

static size_t slot_of(const struct metrics *m, int slot)
{
	if (slot >= 0)
		return (size_t)slot;
	return m->nroutes + (slot == SLOT_STATIC ? 0 : 1);
}

static int method_class(int m)
{
	switch (m) {
	case HTTP_GET: return 0;
	case HTTP_HEAD: return 1;
	case HTTP_POST: return 2;
	case HTTP_PUT: return 3;
	case HTTP_PATCH: return 4;
	case HTTP_DELETE: return 5;
	case HTTP_OPTIONS: return 6;
	default: return 7;
	}
}

void metrics_start(const struct route *routes, size_t nroutes, int workers)
{
	struct metrics *m = xcalloc(1, sizeof *m);
	m->routes = routes;
	m->nroutes = nroutes;
	m->workers = workers;
	m->requests = xcalloc(nslots(m) * NMETHODS * NSTATUS, sizeof *m->requests);
	m->hist = xcalloc(nslots(m), sizeof *m->hist);
	memset(status_index, NSTATUS - 1, sizeof status_index);
	for (size_t i = 0; i < NSTATUS - 1; i++)
		status_index[statuses[i]] = (unsigned char)i;
	atomic_store(&conns_open, 0);
	atomic_store(&queue_depth, 0);
	atomic_store(&current, m);
}

void metrics_stop(void)
{
	struct metrics *m = atomic_exchange(&current, NULL);
	if (!m)
		return;
	free(m->requests);
	free(m->hist);
	free(m);
}

/* Single writer (the loop thread): no read-modify-write needed. */
static void bump(counter *c, uint64_t by)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
			      memory_order_relaxed);
}

void metrics_request(int slot, int method, int status, uint64_t dur_us)
{
	struct metrics *m = atomic_load_explicit(&current, memory_order_acquire);
	if (!m)
		return;
	size_t s = slot_of(m, slot);
	size_t st = status >= 0 && status < 600 ? status_index[status] : NSTATUS - 1;
	bump(&m->requests[(s * NMETHODS + (size_t)method_class(method)) * NSTATUS + st], 1);
	struct slot_hist *h = &m->hist[s];
	int b = 0;
	while (b < NBUCKETS - 1 && dur_us > bucket_us[b])
		b++;
	bump(&h->bucket[b], 1); /* rendered cumulatively */
	bump(&h->sum_us, dur_us);
	bump(&h->count, 1);
}

void metrics_conn(int delta)
{
	atomic_fetch_add_explicit(&conns_open, delta, memory_order_relaxed);
}

void metrics_queue(int delta)
{
	atomic_fetch_add_explicit(&queue_depth, delta, memory_order_relaxed);
}

static void put_label(struct buf *out, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(out, '\\');
		if (*v == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *v);
	}
}

static const char *slot_name(const struct metrics *m, size_t s)
{
	if (s < m->nroutes)
		return m->routes[s].pattern;
	return s == m->nroutes ? "static" : "none";
}

static void render_requests(const struct metrics *m, struct buf *out)
{
	buf_puts(out, "# HELP kefu_http_requests_total HTTP requests answered.\n"
		      "# TYPE kefu_http_requests_total counter\n");
	for (size_t s = 0; s < nslots(m); s++)
		for (size_t k = 0; k < NMETHODS; k++)
			for (size_t st = 0; st < NSTATUS; st++) {
				uint64_t v = atomic_load_explicit(
					&m->requests[(s * NMETHODS + k) * NSTATUS + st],
					memory_order_relaxed);
				if (!v)
					continue;
				buf_puts(out, "kefu_http_requests_total{route=\"");
				put_label(out, slot_name(m, s));
				buf_printf(out, "\",method=\"%s\",status=\"", method_names[k]);
				if (st < NSTATUS - 1)
					buf_printf(out, "%d", statuses[st]);
				else
					buf_puts(out, "other");
				buf_printf(out, "\"} %llu\n", (unsigned long long)v);
			}
}

static void render_hist(const struct metrics *m, struct buf *out)
{
	static const char *name = "kefu_http_request_duration_seconds";
	buf_printf(out, "# HELP %s Time from a complete request to its response.\n"
			"# TYPE %s histogram\n", name, name);
	for (size_t s = 0; s < nslots(m); s++) {
		const struct slot_hist *h = &m->hist[s];
		uint64_t count = atomic_load_explicit(&h->count, memory_order_relaxed);
		if (!count)
			continue;
		uint64_t cum = 0;
		for (int b = 0; b < NBUCKETS; b++) {
			cum += atomic_load_explicit(&h->bucket[b], memory_order_relaxed);
			buf_printf(out, "%s_bucket{route=\"", name);
			put_label(out, slot_name(m, s));
			buf_printf(out, "\",le=\"%s\"} %llu\n", bucket_le[b], (unsigned long long)cum);
		}
		uint64_t sum = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
		buf_printf(out, "%s_sum{route=\"", name);
		put_label(out, slot_name(m, s));
		buf_printf(out, "\"} %llu.%06llu\n", (unsigned long long)(sum / 1000000),
			   (unsigned long long)(sum % 1000000));
		buf_printf(out, "%s_count{route=\"", name);
		put_label(out, slot_name(m, s));
		/* the +Inf bucket, so the two always agree */
		buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
	}
}

void http_metrics_render(struct buf *out)
{
	struct metrics *m = atomic_load_explicit(&current, memory_order_acquire);
	if (m) {
		render_requests(m, out);
		render_hist(m, out);
	}
	buf_printf(out,
		   "# HELP kefu_http_connections_open Client connections open.\n"
		   "# TYPE kefu_http_connections_open gauge\n"
		   "kefu_http_connections_open %d\n"
		   "# HELP kefu_http_pool_queue_depth Requests waiting for a worker.\n"
		   "# TYPE kefu_http_pool_queue_depth gauge\n"
		   "kefu_http_pool_queue_depth %d\n"
		   "# HELP kefu_http_pool_workers Worker threads.\n"
		   "# TYPE kefu_http_pool_workers gauge\n"
		   "kefu_http_pool_workers %d\n",
		   atomic_load(&conns_open), atomic_load(&queue_depth), m ? m->workers : 0);
}
