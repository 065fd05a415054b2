/*
 * parse.c -- HTTP/1.x request framing, without sockets.
 *
 * Owns: turning a byte stream into complete requests (method, decoded path,
 * raw query, lower-cased headers, de-chunked body) or one precise error
 * (status, code, message).  Used by server.c, the corpus test and the
 * fuzzer; it knows nothing of connections or threads, and of routes only
 * which ones are uploads (ROUTE_UPLOAD: a larger body limit).
 *
 * http-parser does the parsing.  Debian builds libhttp_parser with
 * HTTP_PARSER_STRICT=0, which accepts bare LF and CR, obs-fold, spaces in
 * header names, non-ASCII targets, sloppy chunk-size lines and HTTP/0.9.
 * Kefu is strict, so this file adds, without a second parser:
 *   - a scanner over exactly the bytes http-parser consumed: CRLF line ends
 *     only, no obs-fold, "METHOD SP target SP version" with single spaces,
 *     and strict chunk-size lines (hex, token extensions, CRLF after data);
 *   - checks in the callbacks: token header names, visible-ASCII targets,
 *     HTTP/1.0 and 1.1 only, no CONNECT, Transfer-Encoding exactly
 *     "chunked" and never together with Content-Length, the limits.
 *
 * One request at a time: on_message_complete pauses the parser, so a feed
 * stops right after a complete request and leaves the pipelined rest to the
 * caller, which feeds it after it has answered (responses stay in order and
 * reading is naturally back-pressured).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/hex.h"
#include "internal.h"

/* Memory kept between requests on one connection, beyond which it is
 * released so idle keep-alive connections stay small. */
#define PARSE_KEEP_BYTES (64 * 1024)

static char empty_body[1];

enum scan_state {
	SC_START,      /* before the request line (empty lines allowed) */
	SC_START_CR,   /* CR of an empty line, LF must follow */
	SC_LINE,       /* request line or header line */
	SC_LINE_CR,    /* CR ending a line, LF must follow */
	SC_BODY,       /* Content-Length body: http-parser counts it exactly */
	SC_CSIZE,      /* chunk size, hex digits */
	SC_CEXT_NAME0, /* after ';' */
	SC_CEXT_NAME,
	SC_CEXT_VAL0,  /* after '=' */
	SC_CEXT_TOKEN,
	SC_CEXT_QUOTED,
	SC_CEXT_QESC,
	SC_CEXT_AFTERQ,
	SC_CSIZE_LF,
	SC_CDATA,
	SC_CDATA_CR,
	SC_CDATA_LF,
	SC_TRAILER,
	SC_TRAILER_CR,
	SC_DONE,
};

static int fail(struct http_parse *ps, int status, const char *code,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct http_parse *ps, int status, const char *code,
		const char *fmt, ...)
{
	if (ps->failed)
		return -1;
	ps->failed = 1;
	ps->err_status = status;
	ps->err_code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err_msg, sizeof ps->err_msg, fmt, ap);
	va_end(ap);
	return -1;
}

#define BAD(ps, ...) fail((ps), 400, "bad_request", __VA_ARGS__)

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_qdtext(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* ---- the strictness scanner ---- */

static void scan_reset(struct http_parse *ps)
{
	ps->sc_state = SC_START;
	ps->sc_line_len = 0;
	ps->sc_line_no = 0;
	ps->sc_spaces = 0;
	ps->sc_ver_len = 0;
	ps->sc_chunk_left = 0;
	ps->sc_prev = 0;
}

/* A byte of the version: "HTTP/1.0" or "HTTP/1.1", judged as soon as a
 * byte differs so "HTTP/5.6" fails before its line ends. */
static int scan_version(struct http_parse *ps, unsigned char c)
{
	static const char want[] = "HTTP/1.";
	int i = ps->sc_ver_len++;
	if (i < 7 && c == (unsigned char)want[i])
		return 0;
	if (i == 7 && (c == '0' || c == '1'))
		return 0;
	if ((i == 5 || i == 7) && c >= '0' && c <= '9')
		return fail(ps, 505, "http_version_not_supported",
			    "only HTTP/1.0 and HTTP/1.1 are supported");
	return BAD(ps, "malformed HTTP version");
}

/* A byte of the request line: visible ASCII and single inner spaces. */
static int scan_reqline(struct http_parse *ps, unsigned char c, unsigned char prev)
{
	if (c == ' ') {
		if (ps->sc_line_len == 0 || prev == ' ' || ++ps->sc_spaces > 2)
			return BAD(ps, "malformed request line");
		return 0;
	}
	if (c < 0x21 || c > 0x7e)
		return BAD(ps, "invalid character in request line");
	if (ps->sc_spaces == 2)
		return scan_version(ps, c);
	return 0;
}

static int scan_line_end(struct http_parse *ps)
{
	if (ps->sc_line_no == 0 && ps->sc_spaces == 1)
		return fail(ps, 505, "http_version_not_supported",
			    "HTTP/0.9 is not supported"); /* "GET /": as http-parser says */
	if (ps->sc_line_no == 0 && (ps->sc_spaces != 2 || ps->sc_ver_len != 8))
		return BAD(ps, "malformed request line");
	if (ps->sc_line_no > 0 && ps->sc_line_len == 0) {
		ps->sc_state = ps->chunked ? SC_CSIZE : SC_BODY;
		ps->sc_chunk_left = 0;
		return 0;
	}
	ps->sc_line_no++;
	ps->sc_line_len = 0;
	ps->sc_state = SC_LINE;
	return 0;
}

static int scan_head(struct http_parse *ps, unsigned char c, unsigned char prev)
{
	switch (ps->sc_state) {
	case SC_START:
		if (c == '\r')
			ps->sc_state = SC_START_CR;
		else if (c == '\n')
			return BAD(ps, "bare LF");
		else {
			ps->sc_state = SC_LINE;
			return scan_head(ps, c, 0);
		}
		return 0;
	case SC_START_CR:
		if (c != '\n')
			return BAD(ps, "CR without LF");
		ps->sc_state = SC_START;
		return 0;
	case SC_LINE:
		if (c == '\r') {
			ps->sc_state = SC_LINE_CR;
			return 0;
		}
		if (c == '\n')
			return BAD(ps, "bare LF");
		if (ps->sc_line_no == 0) {
			if (scan_reqline(ps, c, prev))
				return -1;
		} else if (ps->sc_line_len == 0 && (c == ' ' || c == '\t')) {
			return BAD(ps, "obsolete line folding");
		}
		ps->sc_line_len++;
		return 0;
	default: /* SC_LINE_CR */
		if (c != '\n')
			return BAD(ps, "CR without LF");
		return scan_line_end(ps);
	}
}

static int scan_chunk_ext(struct http_parse *ps, unsigned char c)
{
	switch (ps->sc_state) {
	case SC_CEXT_NAME0:
		if (!is_tchar(c))
			return BAD(ps, "invalid chunk extension");
		ps->sc_state = SC_CEXT_NAME;
		return 0;
	case SC_CEXT_NAME:
	case SC_CEXT_TOKEN:
		if (is_tchar(c))
			return 0;
		if (c == '=' && ps->sc_state == SC_CEXT_NAME)
			ps->sc_state = SC_CEXT_VAL0;
		else if (c == ';')
			ps->sc_state = SC_CEXT_NAME0;
		else if (c == '\r')
			ps->sc_state = SC_CSIZE_LF;
		else
			return BAD(ps, "invalid chunk extension");
		return 0;
	case SC_CEXT_VAL0:
		if (c == '"')
			ps->sc_state = SC_CEXT_QUOTED;
		else if (is_tchar(c))
			ps->sc_state = SC_CEXT_TOKEN;
		else
			return BAD(ps, "invalid chunk extension value");
		return 0;
	case SC_CEXT_QUOTED:
		if (c == '"')
			ps->sc_state = SC_CEXT_AFTERQ;
		else if (c == '\\')
			ps->sc_state = SC_CEXT_QESC;
		else if (!is_qdtext(c))
			return BAD(ps, "invalid chunk extension quoted value");
		return 0;
	case SC_CEXT_QESC:
		if (!is_qdtext(c))
			return BAD(ps, "invalid chunk extension quoted value");
		ps->sc_state = SC_CEXT_QUOTED;
		return 0;
	default: /* SC_CEXT_AFTERQ */
		if (c == ';')
			ps->sc_state = SC_CEXT_NAME0;
		else if (c == '\r')
			ps->sc_state = SC_CSIZE_LF;
		else
			return BAD(ps, "invalid chunk extension");
		return 0;
	}
}

static int scan_chunk_size(struct http_parse *ps, unsigned char c)
{
	int v = hex_value((unsigned char)c);
	if (v >= 0) {
		if (ps->sc_chunk_left >> 56)
			return fail(ps, 413, "payload_too_large", "chunk too large");
		ps->sc_chunk_left = ps->sc_chunk_left * 16 + (unsigned)v;
		ps->sc_line_len++;
		return 0;
	}
	if (ps->sc_line_len == 0)
		return BAD(ps, "invalid character in chunk size");
	if (c == ';')
		ps->sc_state = SC_CEXT_NAME0;
	else if (c == '\r')
		ps->sc_state = SC_CSIZE_LF;
	else
		return BAD(ps, "invalid character in chunk size");
	return 0;
}

static int scan_chunk_framing(struct http_parse *ps, unsigned char c)
{
	switch (ps->sc_state) {
	case SC_CSIZE_LF:
		if (c != '\n')
			return BAD(ps, "expected LF after chunk size");
		ps->sc_line_len = 0;
		ps->sc_state = ps->sc_chunk_left ? SC_CDATA : SC_TRAILER;
		return 0;
	case SC_CDATA_CR:
		if (c != '\r')
			return BAD(ps, "expected CRLF after chunk data");
		ps->sc_state = SC_CDATA_LF;
		return 0;
	case SC_CDATA_LF:
		if (c != '\n')
			return BAD(ps, "expected CRLF after chunk data");
		ps->sc_state = SC_CSIZE;
		ps->sc_line_len = 0;
		ps->sc_chunk_left = 0;
		return 0;
	case SC_TRAILER:
		if (c == '\r')
			ps->sc_state = SC_TRAILER_CR;
		else if (c == '\n')
			return BAD(ps, "bare LF");
		else if (ps->sc_line_len++ == 0 && (c == ' ' || c == '\t'))
			return BAD(ps, "obsolete line folding");
		return 0;
	default: /* SC_TRAILER_CR */
		if (c != '\n')
			return BAD(ps, "CR without LF");
		ps->sc_state = ps->sc_line_len ? SC_TRAILER : SC_DONE;
		ps->sc_line_len = 0;
		return 0;
	}
}

/* Check the bytes http-parser has just consumed (see the file comment). */
static int scan(struct http_parse *ps, const unsigned char *s, size_t n)
{
	unsigned char prev = ps->sc_prev;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		int rc;
		switch (ps->sc_state) {
		case SC_BODY:
		case SC_DONE:
			return 0;
		case SC_START:
		case SC_START_CR:
		case SC_LINE:
		case SC_LINE_CR:
			rc = scan_head(ps, c, prev);
			break;
		case SC_CSIZE:
			rc = scan_chunk_size(ps, c);
			break;
		case SC_CDATA: {
			uint64_t take = n - i;
			if (take > ps->sc_chunk_left)
				take = ps->sc_chunk_left;
			ps->sc_chunk_left -= take;
			i += take - 1;
			if (!ps->sc_chunk_left)
				ps->sc_state = SC_CDATA_CR;
			rc = 0;
			break;
		}
		case SC_CEXT_NAME0:
		case SC_CEXT_NAME:
		case SC_CEXT_VAL0:
		case SC_CEXT_TOKEN:
		case SC_CEXT_QUOTED:
		case SC_CEXT_QESC:
		case SC_CEXT_AFTERQ:
			rc = scan_chunk_ext(ps, c);
			break;
		default:
			rc = scan_chunk_framing(ps, c);
			break;
		}
		if (rc)
			return -1;
		prev = c;
	}
	ps->sc_prev = prev;
	return 0;
}

/* ---- http-parser callbacks ---- */

static int check_header_bytes(struct http_parse *ps, size_t add)
{
	ps->header_bytes += add;
	if (ps->header_bytes > ps->lim.max_header_bytes)
		return fail(ps, 431, "header_too_large",
			    "request line and headers exceed %zu bytes",
			    ps->lim.max_header_bytes);
	return 0;
}

static int on_message_begin(http_parser *p)
{
	struct http_parse *ps = p->data;
	ps->started = 1;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http_parse *ps = p->data;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)at[i];
		if (c < 0x21 || c > 0x7e)
			return BAD(ps, "invalid character in request target");
	}
	if (check_header_bytes(ps, len))
		return -1;
	buf_append(&ps->arena, at, len);
	return 0;
}

/* Trailers (fields after a chunked body) are counted against the limit
 * and dropped: a field the client sends after the body must not pass for
 * a header (RFC 9110 6.5.1 lets a recipient merge only known-safe ones). */
static int trailer(struct http_parse *ps, size_t len)
{
	return check_header_bytes(ps, len + 2);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_parse *ps = p->data;
	if (ps->headers_done)
		return trailer(ps, len);
	if (ps->last_cb != 1) {
		buf_putc(&ps->arena, '\0'); /* ends the url or the last value */
		if (ps->nh >= ps->lim.max_headers)
			return fail(ps, 431, "header_too_large",
				    "more than %d header fields", ps->lim.max_headers);
		if (ps->nh == ps->hcap) {
			ps->hcap = ps->hcap ? ps->hcap * 2 : 16;
			ps->hoff = xrealloc(ps->hoff, sizeof *ps->hoff * 2 * (size_t)ps->hcap);
		}
		ps->hoff[2 * ps->nh] = ps->arena.len;
		ps->hoff[2 * ps->nh + 1] = 0;
		ps->nh++;
		ps->last_cb = 1;
		if (check_header_bytes(ps, 4)) /* ": " and CRLF */
			return -1;
	}
	if (check_header_bytes(ps, len))
		return -1;
	buf_reserve(&ps->arena, len);
	char *dst = ps->arena.data + ps->arena.len;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)at[i];
		if (!is_tchar(c))
			return BAD(ps, "invalid character in header name");
		dst[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	ps->arena.len += len;
	ps->arena.data[ps->arena.len] = '\0';
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_parse *ps = p->data;
	if (ps->headers_done)
		return trailer(ps, len);
	if (ps->last_cb != 2) {
		if (ps->last_cb != 1)
			return BAD(ps, "header value without a name");
		buf_putc(&ps->arena, '\0');
		ps->hoff[2 * ps->nh - 1] = ps->arena.len;
		ps->last_cb = 2;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)at[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return BAD(ps, "invalid character in header value");
	}
	if (check_header_bytes(ps, len))
		return -1;
	buf_append(&ps->arena, at, len);
	return 0;
}

static const char *hname(const struct http_parse *ps, int i)
{
	return ps->arena.data + ps->hoff[2 * i];
}

static char *hvalue(const struct http_parse *ps, int i)
{
	return ps->arena.data + ps->hoff[2 * i + 1];
}

/* NUL-terminate the last string and drop trailing whitespace of values. */
static void finish_headers(struct http_parse *ps)
{
	buf_putc(&ps->arena, '\0');
	for (int i = 0; i < ps->nh; i++) {
		if (!ps->hoff[2 * i + 1]) { /* name seen, value never called */
			ps->hoff[2 * i + 1] = ps->arena.len;
			buf_putc(&ps->arena, '\0');
		}
	}
	for (int i = 0; i < ps->nh; i++) {
		char *v = hvalue(ps, i);
		size_t n = strlen(v);
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			v[--n] = '\0';
	}
}

/* Transfer-Encoding and Content-Length: only "chunked", never both. */
static int check_framing(struct http_parse *ps)
{
	int te = 0, cl = 0, te_ok = 1;
	for (int i = 0; i < ps->nh; i++) {
		const char *n = hname(ps, i);
		if (strcmp(n, "transfer-encoding") == 0) {
			te++;
			te_ok = te_ok && strcasecmp(hvalue(ps, i), "chunked") == 0;
		} else if (strcmp(n, "content-length") == 0) {
			cl++;
		}
	}
	if (te && cl)
		return BAD(ps, "both Content-Length and Transfer-Encoding");
	if (te && ps->p.http_minor == 0)
		return BAD(ps, "Transfer-Encoding in an HTTP/1.0 request");
	if (te && (te > 1 || !te_ok))
		return fail(ps, 501, "not_implemented",
			    "only the chunked transfer coding is supported");
	if (cl > 1)
		return BAD(ps, "duplicate Content-Length");
	return 0;
}

/* Percent-decode src into the arena; no NUL, no broken escapes. */
static int decode_path(struct http_parse *ps, size_t off, size_t n)
{
	buf_reserve(&ps->arena, n + 1);
	const char *s = ps->arena.data + off;
	char *d = ps->arena.data + ps->arena.len;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[j++] = s[i];
			continue;
		}
		int a = i + 1 < n ? hex_value((unsigned char)s[i + 1]) : -1;
		int b = i + 2 < n ? hex_value((unsigned char)s[i + 2]) : -1;
		if (a < 0 || b < 0)
			return BAD(ps, "invalid percent-encoding in path");
		if (a == 0 && b == 0)
			return BAD(ps, "NUL in path");
		d[j++] = (char)(a * 16 + b);
		i += 2;
	}
	d[j] = '\0';
	ps->path_off = ps->arena.len;
	ps->arena.len += j + 1;
	return 0;
}

static int has_prefix_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* Split the request target into the decoded path and the raw query.
 * origin-form ("/p?q") is the norm; absolute-form ("http://h/p?q") must be
 * accepted by servers (RFC 9112 3.2.2); anything else ("*", authority) is
 * not something Kefu serves. */
static int split_target(struct http_parse *ps)
{
	const char *url = ps->arena.data; /* the url is at offset 0 */
	size_t ulen = strlen(url);
	size_t poff, plen, qoff = 0, qlen = 0;
	if (url[0] == '/') {
		poff = 0;
		plen = strcspn(url, "?#");
		if (url[plen] == '?') {
			qoff = plen + 1;
			qlen = strcspn(url + qoff, "#");
		}
	} else if (has_prefix_ci(url, "http://") || has_prefix_ci(url, "https://")) {
		struct http_parser_url u;
		http_parser_url_init(&u);
		if (http_parser_parse_url(url, ulen, 0, &u))
			return BAD(ps, "invalid request target");
		poff = u.field_data[UF_PATH].off;
		plen = u.field_data[UF_PATH].len;
		if (u.field_set & (1 << UF_QUERY)) {
			qoff = u.field_data[UF_QUERY].off;
			qlen = u.field_data[UF_QUERY].len;
		}
	} else {
		return BAD(ps, "request target must be a path");
	}
	if (plen == 0) { /* "http://host?q": the path is "/" */
		ps->path_off = ps->arena.len;
		buf_append(&ps->arena, "/", 2);
	} else if (decode_path(ps, poff, plen)) {
		return -1;
	}
	ps->query_off = ps->arena.len;
	buf_reserve(&ps->arena, qlen + 1);
	buf_append(&ps->arena, ps->arena.data + qoff, qlen);
	buf_putc(&ps->arena, '\0');
	return 0;
}

static void note_expect(struct http_parse *ps)
{
	int body = ps->chunked || ((ps->p.flags & F_CONTENTLENGTH) && ps->p.content_length);
	for (int i = 0; i < ps->nh; i++) {
		if (strcmp(hname(ps, i), "expect") == 0 &&
		    strcasecmp(hvalue(ps, i), "100-continue") == 0 && body &&
		    ps->p.http_minor == 1)
			ps->expect_continue = 1;
	}
}

/* Does the request go to an upload route (its own body limit)?  Decided
 * from the method and the decoded path as soon as they are known, so an
 * oversized upload is refused before its body is buffered. */
static int is_upload(struct http_parse *ps)
{
	char *scratch = NULL;
	int hit = 0;
	for (size_t i = 0; i < ps->lim.nroutes && !hit; i++) {
		const struct route *rt = &ps->lim.routes[i];
		if (!(rt->flags & ROUTE_UPLOAD) || (unsigned)rt->method != ps->p.method)
			continue;
		const char *params[REQ_MAX_PARAMS];
		int np;
		/* http_route_match writes into its scratch on a match */
		free(scratch);
		scratch = xstrdup(ps->arena.data + ps->path_off);
		hit = http_route_match(rt->pattern, scratch, params, &np);
	}
	free(scratch);
	return hit;
}

static int payload_too_large(struct http_parse *ps)
{
	return fail(ps, 413, "payload_too_large", "body exceeds %zu bytes",
		    ps->body_limit);
}

static int on_headers_complete(http_parser *p)
{
	struct http_parse *ps = p->data;
	if (ps->last_cb == 0)
		buf_putc(&ps->arena, '\0'); /* the url ends here */
	finish_headers(ps);
	ps->headers_done = 1;
	if (p->http_major != 1 || p->http_minor > 1)
		return fail(ps, 505, "http_version_not_supported",
			    "HTTP/%u.%u is not supported", p->http_major, p->http_minor);
	if (p->method == HTTP_CONNECT)
		return fail(ps, 405, "method_not_allowed", "CONNECT is not supported");
	if (check_framing(ps))
		return -1;
	ps->chunked = (p->flags & F_CHUNKED) != 0;
	if (split_target(ps))
		return -1;
	if (is_upload(ps))
		ps->body_limit = ps->lim.max_upload_bytes;
	if ((p->flags & F_CONTENTLENGTH) && p->content_length > ps->body_limit)
		return payload_too_large(ps);
	note_expect(ps);
	return 0;
}

static int on_chunk_header(http_parser *p)
{
	struct http_parse *ps = p->data;
	if (p->content_length > ps->body_limit - ps->body.len)
		return payload_too_large(ps);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_parse *ps = p->data;
	if (len > ps->body_limit - ps->body.len)
		return payload_too_large(ps);
	buf_append(&ps->body, at, len);
	return 0;
}

/* Does the Connection header list token t?  (Comma-separated, OWS around
 * each element; http-parser misses "close" followed by a tab.) */
static int connection_has(const struct http_parse *ps, const char *t)
{
	size_t tl = strlen(t);
	for (int i = 0; i < ps->nh; i++) {
		if (strcmp(hname(ps, i), "connection") != 0)
			continue;
		for (const char *v = hvalue(ps, i); *v;) {
			v += strspn(v, " \t,");
			size_t n = strcspn(v, ",");
			size_t k = n;
			while (k && (v[k - 1] == ' ' || v[k - 1] == '\t'))
				k--;
			if (k == tl && strncasecmp(v, t, tl) == 0)
				return 1;
			v += n;
		}
	}
	return 0;
}

static int wants_keep_alive(const struct http_parse *ps)
{
	if (connection_has(ps, "close"))
		return 0;
	return ps->p.http_minor >= 1 || connection_has(ps, "keep-alive");
}

static int on_message_complete(http_parser *p)
{
	struct http_parse *ps = p->data;
	ps->complete = 1;
	ps->keep_alive = wants_keep_alive(ps);
	ps->upgrade = p->upgrade;
	http_parser_pause(p, 1); /* one request per feed, see above */
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
	.on_chunk_header = on_chunk_header,
};

/* ---- the framing interface ---- */

void parse_init(struct http_parse *ps, const struct parse_limits *lim)
{
	memset(ps, 0, sizeof *ps);
	ps->lim = *lim;
	if (ps->lim.max_headers <= 0)
		ps->lim.max_headers = HTTP_MAX_HEADERS;
	if (!ps->lim.max_upload_bytes)
		ps->lim.max_upload_bytes = ps->lim.max_body_bytes;
	ps->body_limit = ps->lim.max_body_bytes;
	http_parser_init(&ps->p, HTTP_REQUEST);
	ps->p.data = ps;
	scan_reset(ps);
}

void parse_free(struct http_parse *ps)
{
	buf_free(&ps->arena);
	buf_free(&ps->body);
	free(ps->hoff);
	free(ps->hdrs);
	ps->hoff = NULL;
	ps->hdrs = NULL;
	ps->nh = ps->hcap = ps->hdrs_cap = 0;
}

/* Forget the previous message; keep modest buffers for the next one. */
static void reset_message(struct http_parse *ps)
{
	if (ps->arena.cap > PARSE_KEEP_BYTES)
		buf_free(&ps->arena);
	if (ps->body.cap > PARSE_KEEP_BYTES)
		buf_free(&ps->body);
	buf_reset(&ps->arena);
	buf_reset(&ps->body);
	ps->nh = 0;
	ps->header_bytes = 0;
	ps->body_limit = ps->lim.max_body_bytes;
	ps->last_cb = 0;
	ps->path_off = ps->query_off = 0;
	ps->started = ps->headers_done = ps->complete = ps->chunked = 0;
	ps->upgrade = ps->keep_alive = ps->expect_continue = 0;
	scan_reset(ps);
}

static void fill_req(struct http_parse *ps, struct req *r)
{
	if (ps->nh > ps->hdrs_cap) {
		ps->hdrs_cap = ps->hcap;
		ps->hdrs = xrealloc(ps->hdrs, sizeof *ps->hdrs * (size_t)ps->hdrs_cap);
	}
	for (int i = 0; i < ps->nh; i++) {
		ps->hdrs[i].name = ps->arena.data + ps->hoff[2 * i];
		ps->hdrs[i].value = hvalue(ps, i);
	}
	r->method = (enum http_method)ps->p.method;
	r->path = ps->arena.data + ps->path_off;
	r->query = ps->arena.data + ps->query_off;
	r->headers = ps->hdrs;
	r->nheaders = ps->nh;
	r->body = ps->body.data ? ps->body.data : empty_body;
	r->body_len = ps->body.len;
}

static void parser_error(struct http_parse *ps, enum http_errno en)
{
	switch (en) {
	case HPE_HEADER_OVERFLOW:
		fail(ps, 431, "header_too_large", "request headers too large");
		break;
	case HPE_CLOSED_CONNECTION:
		BAD(ps, "data after a Connection: close request");
		break;
	default:
		BAD(ps, "malformed request: %s", http_errno_description(en));
	}
}

/* After a request that ends the connection only empty lines may follow. */
static enum parse_status after_close(struct http_parse *ps, const char *data,
				     size_t len, size_t *used)
{
	size_t n = 0;
	while (n < len && (data[n] == '\r' || data[n] == '\n'))
		n++;
	*used = n;
	if (n == len)
		return PARSE_MORE;
	BAD(ps, "data after a Connection: close request");
	return PARSE_ERROR;
}

enum parse_status parse_feed(struct http_parse *ps, struct req *r,
			     const char *data, size_t len, size_t *used)
{
	*used = 0;
	if (ps->failed)
		return PARSE_ERROR;
	if (ps->complete) {
		if (ps->upgrade) {
			BAD(ps, "data after an upgrade request");
			return PARSE_ERROR;
		}
		ps->closed = !ps->keep_alive;
		reset_message(ps);
	}
	if (ps->closed) /* the non-strict build forgets Connection: close */
		return after_close(ps, data, len, used);
	if (len == 0)
		return PARSE_MORE;
	size_t n = http_parser_execute(&ps->p, &settings, data, len);
	enum http_errno en = HTTP_PARSER_ERRNO(&ps->p);
	if (ps->failed)
		return PARSE_ERROR;
	if (en != HPE_OK && !(en == HPE_PAUSED && ps->complete)) {
		parser_error(ps, en);
		return PARSE_ERROR;
	}
	if (scan(ps, (const unsigned char *)data, n))
		return PARSE_ERROR;
	*used = n;
	if (!ps->complete)
		return PARSE_MORE;
	if (en == HPE_PAUSED)
		http_parser_pause(&ps->p, 0);
	fill_req(ps, r);
	return PARSE_DONE;
}

int parse_in_progress(const struct http_parse *ps)
{
	if (ps->complete || ps->failed)
		return 0;
	return ps->started || ps->sc_state != SC_START;
}
