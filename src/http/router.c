/*
 * router.c -- what a worker does with one complete request.
 *
 * Owns: route matching (http_route_match, the route table scan, 404 and
 * 405 with Allow), the order of the application's hooks (before, handler,
 * after), the static-file fallback, the request id and client address a
 * handler sees, and the final response head.  It does not own sockets
 * (server.c) nor the reply helpers (req.c).
 */
#include <arpa/inet.h>
#include <string.h>

#include "internal.h"

int http_route_match(const char *pattern, char *scratch, const char **params,
		     int *nparams)
{
	size_t start[REQ_MAX_PARAMS], len[REQ_MAX_PARAMS];
	int n = 0;
	const char *p = pattern;
	size_t i = 0;
	*nparams = 0;
	for (;;) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t seg = strcspn(scratch + i, "/");
			if (!close || seg == 0 || n == REQ_MAX_PARAMS)
				return 0;
			start[n] = i;
			len[n++] = seg;
			i += seg;
			p = close + 1;
		} else if (*p == '\0') {
			/* one trailing slash is forgiven ("/users/" is "/users") */
			if (scratch[i] != '\0' && !(scratch[i] == '/' && scratch[i + 1] == '\0' && i > 0))
				return 0;
			break;
		} else if (*p++ != scratch[i++]) {
			return 0;
		}
	}
	/* Only a match writes into scratch, so one copy serves every route. */
	for (int k = 0; k < n; k++) {
		scratch[start[k] + len[k]] = '\0';
		params[k] = scratch + start[k];
	}
	*nparams = n;
	return 1;
}

static void copy_path(struct hreq *h)
{
	buf_reset(&h->scratch);
	buf_puts(&h->scratch, h->r.path);
}

static int find_route(const struct dispatch_conf *dc, struct hreq *h,
		      enum http_method m)
{
	struct req *r = &h->r;
	for (size_t i = 0; i < dc->nroutes; i++) {
		const struct route *rt = &dc->routes[i];
		if (rt->method != m ||
		    !http_route_match(rt->pattern, h->scratch.data, r->params, &r->nparams))
			continue;
		r->route = rt;
		h->route_slot = (int)i;
		return 1;
	}
	return 0;
}

/* The routes whose pattern matches the path, as an Allow header value. */
static void allowed_methods(const struct dispatch_conf *dc, struct hreq *h,
			    struct buf *allow)
{
	int seen[64] = {0};
	const char *params[REQ_MAX_PARAMS];
	int np;
	for (size_t i = 0; i < dc->nroutes; i++) {
		const struct route *rt = &dc->routes[i];
		unsigned m = (unsigned)rt->method;
		if (m >= 64 || seen[m])
			continue;
		copy_path(h);
		if (!http_route_match(rt->pattern, h->scratch.data, params, &np))
			continue;
		seen[m] = 1;
		if (m == HTTP_GET)
			seen[HTTP_HEAD] = 1;
	}
	for (unsigned m = 0; m < 64; m++) {
		if (!seen[m])
			continue;
		if (allow->len)
			buf_puts(allow, ", ");
		buf_puts(allow, http_method_str((enum http_method)m));
	}
}

static int under_api(const char *path)
{
	return strncmp(path, "/api", 4) == 0 && (path[4] == '/' || path[4] == '\0');
}

static void no_route(const struct dispatch_conf *dc, struct hreq *h)
{
	struct req *r = &h->r;
	if ((r->method == HTTP_GET || r->method == HTTP_HEAD) && dc->web_root &&
	    !under_api(r->path) && static_serve(h, dc->web_root)) {
		h->route_slot = SLOT_STATIC;
		return;
	}
	struct buf allow = BUF_INIT;
	allowed_methods(dc, h, &allow);
	if (allow.len) {
		reply_error(r, 405, "method_not_allowed", "%s is not allowed here",
			    http_method_str(r->method));
		reply_header(r, "Allow", allow.data);
	} else {
		reply_error(r, 404, "not_found", "no such resource");
	}
	buf_free(&allow);
}

static void run_route(const struct dispatch_conf *dc, struct req *r)
{
	const struct http_app *app = dc->app;
	if (!app->before || app->before(r) == 0)
		r->route->fn(r);
	if (app->after)
		app->after(r);
}

/* An incoming X-Request-Id is kept when it is short and plain, so a proxy's
 * id follows the request through the logs. */
static void adopt_request_id(struct req *r)
{
	const char *v = req_header(r, "x-request-id");
	if (!v)
		return;
	size_t n = strspn(v, "0123456789abcdefghijklmnopqrstuvwxyz"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ-");
	if (n == 0 || v[n] != '\0' || n >= sizeof r->id)
		return;
	memcpy(r->id, v, n + 1);
}

/* The client: the peer, or behind a trusted proxy the first (client-most)
 * X-Forwarded-For entry when it is an address. */
static void set_remote_ip(const struct dispatch_conf *dc, struct hreq *h)
{
	struct req *r = &h->r;
	memcpy(r->remote_ip, h->peer_ip, sizeof r->remote_ip);
	const char *xff = dc->trust_proxy ? req_header(r, "x-forwarded-for") : NULL;
	if (!xff)
		return;
	xff += strspn(xff, " \t");
	size_t n = strcspn(xff, ", \t");
	char ip[sizeof r->remote_ip];
	unsigned char bin[16];
	if (n == 0 || n >= sizeof ip)
		return;
	memcpy(ip, xff, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, bin) == 1 || inet_pton(AF_INET6, ip, bin) == 1)
		memcpy(r->remote_ip, ip, n + 1);
}

void http_dispatch(const struct dispatch_conf *dc, struct hreq *h, void *wctx)
{
	struct req *r = &h->r;
	r->wctx = wctx;
	r->route = NULL;
	r->nparams = 0;
	h->route_slot = SLOT_NONE;
	h->head_only = r->method == HTTP_HEAD;
	adopt_request_id(r);
	set_remote_ip(dc, h);
	copy_path(h);
	if (find_route(dc, h, r->method) ||
	    (r->method == HTTP_HEAD && find_route(dc, h, HTTP_GET)))
		run_route(dc, r);
	else
		no_route(dc, h);
	if (r->status == 0)
		reply_error(r, 500, "internal", "the handler did not reply");
	int keep = h->keep_alive && !r->close &&
		   !atomic_load_explicit(dc->draining, memory_order_relaxed);
	resp_build_head(h, keep);
}
