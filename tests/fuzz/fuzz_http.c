/*
 * fuzz_http.c -- libFuzzer target for the HTTP request path without
 * sockets: bytes -> parse.c framing (fed in pieces whose size the first
 * input byte chooses, so split points are fuzzed too) -> for each complete
 * request, the worker's dispatch against a small route table (matching,
 * 404/405, hooks, req_* helpers, req_json with the depth limit and
 * jansson, the response head).  Checks the framing's promises and must not
 * leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

static void h_json(struct req *r)
{
	json_t *j = req_json(r);
	if (j)
		reply_json(r, 200, j);
}

static void h_params(struct req *r)
{
	char cookie[64];
	char *q = req_query(r, "q");
	json_t *j = json_pack("{s:s?,s:s?,s:s?,s:b}", "a", req_param(r, 0), "b",
			      req_param(r, 1), "q", q, "https", req_is_https(r));
	free(q);
	if (req_cookie(r, "sid", cookie, sizeof cookie) == 0)
		json_object_set_new(j, "sid", json_stringn(cookie, strlen(cookie)));
	reply_json(r, 200, j);
}

static void h_empty(struct req *r)
{
	reply_empty(r, 204);
}

static const struct route routes[] = {
	{HTTP_POST, "/api/v1/tickets", h_json, NULL, 0},
	{HTTP_PUT, "/api/v1/tickets/{id}", h_json, NULL, 0},
	{HTTP_GET, "/api/v1/tickets/{id}/messages/{mid}", h_params, NULL, 0},
	{HTTP_GET, "/api/v1/users/{id}", h_params, NULL, 0},
	{HTTP_DELETE, "/api/v1/users/{id}", h_empty, NULL, 0},
	{HTTP_GET, "/", h_params, NULL, 0},
};

static const struct http_app app = {0};
static atomic_int draining;
static const struct dispatch_conf dc = {
	routes, sizeof routes / sizeof routes[0], &app, NULL, 1, &draining,
};

static const struct parse_limits limits = {
	.max_header_bytes = 4096,
	.max_body_bytes = 64 * 1024,
	.max_headers = 32,
};

static void check_request(const struct req *r)
{
	if (r->path[0] != '/' || r->body_len > limits.max_body_bytes ||
	    r->nheaders > limits.max_headers || r->body[r->body_len] != '\0')
		abort();
	for (int i = 0; i < r->nheaders; i++)
		for (const char *p = r->headers[i].name; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
}

static void serve_one(struct hreq *h)
{
	check_request(&h->r);
	strcpy(h->peer_ip, "192.0.2.1");
	strcpy(h->r.id, "fuzz");
	h->keep_alive = 1;
	http_dispatch(&dc, h, NULL);
	if (!h->head.len || h->r.status < 100)
		abort();
	hreq_reset(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = data[0] ? data[0] : size;
	const char *in = (const char *)data + 1;
	size_t len = size - 1, off = 0;
	struct http_parse ps;
	struct hreq h;
	parse_init(&ps, &limits);
	hreq_init(&h);
	req_set_active(16, 1);
	while (off < len) {
		size_t n = len - off < step ? len - off : step, used;
		enum parse_status st = parse_feed(&ps, &h.r, in + off, n, &used);
		if (used > n)
			abort();
		off += used;
		if (st == PARSE_ERROR) {
			if (ps.err_status < 400 || ps.err_status > 505 || !ps.err_code)
				abort();
			break;
		}
		if (st == PARSE_DONE) {
			int up = ps.upgrade;
			serve_one(&h);
			if (up)
				break;
		} else if (used < n) {
			abort(); /* MORE means everything was taken */
		}
	}
	hreq_free(&h);
	parse_free(&ps);
	return 0;
}
