/*
 * req.c -- the request and reply helpers handlers use, and response heads.
 *
 * Owns: req_* (headers, params, query, cookies, JSON bodies with the depth
 * limit), reply_* (status, content type, body, extra headers), the
 * response head every reply gets (Date, lengths, request id, security
 * headers, Connection) and the limits of the running server that these
 * helpers need (JSON depth, proxy trust).  The reply helpers touch only
 * the public fields of struct req, so they also work on a bare struct req
 * built by a test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../util/hex.h"
#include "internal.h"

#define REQ_KEEP_BYTES (64 * 1024) /* reply memory kept between requests */

/* Set by http_serve before any worker starts; read by workers.  Atomics
 * because a test may run servers one after another. */
static atomic_int active_json_depth = 32;
static atomic_int active_trust_proxy = 0;

void req_set_active(int max_json_depth, int trust_proxy)
{
	atomic_store(&active_json_depth, max_json_depth);
	atomic_store(&active_trust_proxy, trust_proxy);
}

static int trust_proxy(void)
{
	return atomic_load_explicit(&active_trust_proxy, memory_order_relaxed);
}

/* ---- request side ---- */

const char *req_header(const struct req *r, const char *lname)
{
	for (int i = 0; i < r->nheaders; i++)
		if (strcmp(r->headers[i].name, lname) == 0)
			return r->headers[i].value;
	return NULL;
}

const char *req_param(const struct req *r, int i)
{
	return i >= 0 && i < r->nparams ? r->params[i] : NULL;
}

/* Form-style decoding of s[0..n): '+' is a space; a broken escape stays
 * as written. */
static void form_decode(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		int a, b;
		if (s[i] == '+')
			buf_putc(out, ' ');
		else if (s[i] == '%' && i + 2 < n &&
			 (a = hex_value((unsigned char)s[i + 1])) >= 0 && (b = hex_value((unsigned char)s[i + 2])) >= 0) {
			buf_putc(out, (char)(a * 16 + b));
			i += 2;
		} else
			buf_putc(out, s[i]);
	}
}

char *req_query(const struct req *r, const char *name)
{
	const char *q = r->query ? r->query : "";
	struct buf key = BUF_INIT;
	char *found = NULL;
	while (*q && !found) {
		size_t n = strcspn(q, "&");
		size_t kn = strcspn(q, "=&");
		buf_reset(&key);
		form_decode(q, kn, &key);
		if (key.len == strlen(name) && memcmp(key.data ? key.data : "", name, key.len) == 0) {
			struct buf val = BUF_INIT;
			if (kn < n)
				form_decode(q + kn + 1, n - kn - 1, &val);
			found = buf_steal(&val);
		}
		q += n + (q[n] == '&');
	}
	buf_free(&key);
	return found;
}

int req_cookie(const struct req *r, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (int i = 0; i < r->nheaders; i++) {
		if (strcmp(r->headers[i].name, "cookie") != 0)
			continue;
		for (const char *c = r->headers[i].value; *c;) {
			c += strspn(c, "; \t");
			size_t len = strcspn(c, ";");
			if (len > nl && strncmp(c, name, nl) == 0 && c[nl] == '=') {
				const char *v = c + nl + 1;
				size_t vl = len - nl - 1;
				if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
					v++;
					vl -= 2;
				}
				if (vl >= n) /* never hand out a truncated secret */
					return -1;
				memcpy(out, v, vl);
				out[vl] = '\0';
				return 0;
			}
			c += len;
		}
	}
	return -1;
}

int req_is_https(const struct req *r)
{
	if (!trust_proxy())
		return 0;
	const char *p = req_header(r, "x-forwarded-proto");
	if (!p)
		return 0;
	p += strspn(p, " \t");
	return strncasecmp(p, "https", 5) == 0 && strchr(", \t", p[5]) != NULL;
}

int http_json_depth(const char *s, size_t n)
{
	int depth = 0, max = 0, in_str = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				max = depth;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return max;
}

static int is_json_type(const char *ct)
{
	static const char want[] = "application/json";
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, want, sizeof want - 1) != 0)
		return 0;
	char next = ct[sizeof want - 1];
	return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

json_t *req_json(struct req *r)
{
	const char *ct = req_header(r, "content-type");
	if (!ct || !is_json_type(ct)) {
		reply_error(r, 415, "unsupported_media_type",
			    "expected Content-Type: application/json");
		return NULL;
	}
	int limit = atomic_load_explicit(&active_json_depth, memory_order_relaxed);
	if (http_json_depth(r->body, r->body_len) > limit) {
		reply_error(r, 400, "json_too_deep", "JSON nested deeper than %d levels", limit);
		return NULL;
	}
	json_error_t je;
	/* Duplicate keys are rejected: two readers could disagree on them. */
	json_t *j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		reply_error(r, 400, "bad_json", "line %d column %d: %s", je.line,
			    je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(r, 400, "invalid", "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* ---- reply side ---- */

/* Header names and values must not smuggle line breaks into the head. */
static int header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

void reply_header(struct req *r, const char *name, const char *value)
{
	if (!header_safe(name) || !header_safe(value) || !*name)
		return;
	buf_puts(&r->resp_headers, name);
	buf_append(&r->resp_headers, ": ", 2);
	buf_puts(&r->resp_headers, value);
	buf_append(&r->resp_headers, "\r\n", 2);
}

static int dump_cb(const char *p, size_t n, void *arg)
{
	buf_append(arg, p, n);
	return 0;
}

void reply_json(struct req *r, int status, json_t *j)
{
	if (!j) {
		reply_error(r, 500, "internal", "no JSON to send");
		return;
	}
	buf_reset(&r->resp_body);
	int rc = json_dump_callback(j, dump_cb, &r->resp_body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (rc) {
		reply_error(r, 500, "internal", "could not encode JSON");
		return;
	}
	r->status = status;
	r->content_type = "application/json";
}

void reply_raw(struct req *r, int status, const char *content_type,
	       const void *data, size_t len)
{
	buf_reset(&r->resp_body);
	buf_append(&r->resp_body, data, len);
	r->status = status;
	r->content_type = content_type;
}

void reply_empty(struct req *r, int status)
{
	buf_reset(&r->resp_body);
	r->status = status;
	r->content_type = NULL;
}

static void reply_verror(struct req *r, int status, const char *code,
			 const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	buf_reset(&r->resp_body);
	buf_puts(&r->resp_body, "{\"error\":{\"code\":");
	buf_json_str(&r->resp_body, code);
	buf_puts(&r->resp_body, ",\"message\":");
	buf_json_str(&r->resp_body, msg);
	buf_puts(&r->resp_body, "}}");
	r->status = status;
	r->content_type = "application/json";
}

void reply_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_verror(r, status, code, fmt, ap);
	va_end(ap);
}

void reply_err(struct req *r, const struct err *e)
{
	reply_error(r, e->status ? e->status : 500, e->code[0] ? e->code : "internal",
		    "%s", e->msg);
}

/* ---- the request in flight and its response head ---- */

void hreq_init(struct hreq *h)
{
	memset(h, 0, sizeof *h);
	h->head_clen = -1;
}

void hreq_free(struct hreq *h)
{
	buf_free(&h->r.resp_headers);
	buf_free(&h->r.resp_body);
	buf_free(&h->scratch);
	buf_free(&h->head);
}

static void buf_trim(struct buf *b)
{
	if (b->cap > REQ_KEEP_BYTES)
		buf_free(b);
	buf_reset(b);
}

void hreq_reset(struct hreq *h)
{
	struct req *r = &h->r;
	buf_trim(&r->resp_headers);
	buf_trim(&r->resp_body);
	buf_trim(&h->head);
	buf_trim(&h->scratch);
	r->status = 0;
	r->content_type = NULL;
	r->close = 0;
	r->route = NULL;
	r->nparams = 0;
	r->app = NULL;
	h->head_clen = -1;
	h->is_static = 0;
	h->head_only = 0;
	h->route_slot = SLOT_NONE;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT", formatted once a second per thread
 * (by hand: strftime's names follow the locale). */
static const char *http_date(void)
{
	static _Thread_local time_t last;
	static _Thread_local char cached[40];
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t now = time(NULL);
	if (now != last) {
		struct tm tm;
		gmtime_r(&now, &tm);
		snprintf(cached, sizeof cached, "%s, %02d %s %04d %02d:%02d:%02d GMT",
			 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
			 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		last = now;
	}
	return cached;
}

static void put_uint(struct buf *b, unsigned long long v)
{
	char tmp[24];
	int i = sizeof tmp;
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(b, tmp + i, sizeof tmp - (size_t)i);
}

static void put_line(struct buf *b, const char *name, const char *value)
{
	buf_puts(b, name);
	buf_puts(b, value);
	buf_append(b, "\r\n", 2);
}

static int status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

size_t resp_body_len(const struct hreq *h)
{
	if (h->head_only || !status_has_body(h->r.status))
		return 0;
	return h->r.resp_body.len;
}

void resp_build_head(struct hreq *h, int keep_alive)
{
	const struct req *r = &h->r;
	struct buf *b = &h->head;
	buf_reset(b);
	buf_reserve(b, 320 + r->resp_headers.len);
	buf_puts(b, "HTTP/1.1 ");
	put_uint(b, (unsigned)r->status);
	buf_putc(b, ' ');
	buf_puts(b, http_status_str((enum http_status)r->status));
	buf_append(b, "\r\n", 2);
	put_line(b, "Date: ", http_date());
	if (r->content_type && status_has_body(r->status))
		put_line(b, "Content-Type: ", r->content_type);
	if (status_has_body(r->status)) {
		buf_puts(b, "Content-Length: ");
		put_uint(b, h->head_only && h->head_clen >= 0 ? (unsigned long long)h->head_clen
							       : r->resp_body.len);
		buf_append(b, "\r\n", 2);
	}
	put_line(b, "X-Request-Id: ", r->id);
	buf_puts(b, "X-Content-Type-Options: nosniff\r\nReferrer-Policy: same-origin\r\n");
	if (!h->is_static) /* the web apps decide their own framing policy */
		buf_puts(b, "X-Frame-Options: DENY\r\n");
	buf_append(b, r->resp_headers.data ? r->resp_headers.data : "", r->resp_headers.len);
	h->conn_line = b->len;
	if (r->status == 101)
		buf_puts(b, "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
	else
		buf_puts(b, keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
}

void resp_force_close(struct hreq *h)
{
	h->head.len = h->conn_line;
	buf_puts(&h->head, "Connection: close\r\n\r\n");
}
