/*
 * test_http_parse.c -- parse.c against llhttp's request corpus, plus
 * framing cases of Kefu's own (limits, decoding, split feeds).
 *
 * The corpus lives in $KEFU_SOURCE_DIR/../shared/corpora/http/test/request:
 * Markdown files where each ```http block is one raw input and the ```log
 * block after it is llhttp's event log.  How an http block becomes bytes
 * (concluded from the files and checked below against every span offset
 * of every log, see check_spans):
 *   - the block's lines are joined with CRLF; the newline just before the
 *     closing fence is not part of the input (so a block ending in two
 *     empty lines ends in CRLF CRLF);
 *   - a backslash ending a line joins it to the next one: no CRLF there;
 *   - after that, the escapes \r \n \t \f and \0 stand for one byte each
 *     (so "\r\n" written at a line end adds a second CRLF, and "\n" alone is
 *     a bare LF); \xHH stands for the character U+00HH encoded in UTF-8
 *     (llhttp's runner turns a JS string into a Buffer: \xff is C3 BF);
 *     every other backslash is literal.
 * In the logs, span values are quoted with control bytes escaped the same
 * way, and a one-byte CR or LF span is written as cr / lf.
 *
 * Expected outcome per case: a log with "error code=N" means reject,
 * except 22/23 (llhttp pausing on CONNECT/Upgrade/PRI, a hand-over, not an
 * error: the messages up to the upgrade must be accepted); a case whose
 * meta type is request-lenient-* must be rejected because Kefu is strict;
 * request-finish cases with finish=2 end inside a message (reject at EOF).
 * For accepted messages the method, the raw target and the body must match
 * the log's spans.  Every input is fed in one piece and again byte by byte.
 *
 * Kefu's own framing cases (decoding, limits, smuggling vectors, keep-alive)
 * are data too: tests/fixtures/http/parse/NAME.txt, one case per file, see
 * test_fixtures below for the format.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#include "http/internal.h"

/* Cases where Kefu's verdict legitimately differs from llhttp's, by
 * "file: name".  Each must really differ: a listed case that agrees fails
 * the run, so the list cannot rot. */
static const struct known {
	const char *id;
	const char *why;
} known_diffs[] = {
	{"content-length.md: Content-Length reset when no body is received",
	 "the harness's skipBody flag (on_headers_complete returning 1) is for "
	 "responses to HEAD; a server never skips a request body, so Kefu "
	 "waits for the 123 body bytes instead of completing the PUT"},
	{"method.md: CONNECT request",
	 "Kefu is not a proxy: CONNECT is refused (405) instead of handed over "
	 "as a tunnel"},
	{"method.md: CONNECT request with CAPS",
	 "Kefu is not a proxy: CONNECT is refused (405)"},
	{"method.md: CONNECT with body", "Kefu is not a proxy: CONNECT is refused (405)"},
	{"uri.md: Underscore in hostname", "a CONNECT request: refused (405)"},
	{"method.md: PRI request HTTP2",
	 "HTTP/2 prior knowledge: http-parser 2.9 does not know PRI (400) and Kefu "
	 "speaks HTTP/1.x only; llhttp pauses so its caller can switch protocols"},
	{"method.md: SOURCE request with ICE",
	 "ICE/1.0 (Icecast) is not HTTP: http-parser 2.9 takes it for SOURCE, "
	 "Kefu requires HTTP/1.0 or 1.1 (400)"},
	{"method.md: OPTIONS request with RTSP",
	 "RTSP/1.0 is not HTTP: http-parser 2.9 (and Kefu) only accept HTTP/"},
	{"method.md: ANNOUNCE request with RTSP",
	 "ANNOUNCE is an RTSP method http-parser 2.9 does not know (400)"},
	{"method.md: M-SEARCH request",
	 "asterisk-form target (\"*\"): Kefu serves paths only (400)"},
	{"content-length.md: Tabs in `Content-Length` (surrounding)",
	 "http-parser 2.9 allows only spaces, not tabs, after a Content-Length "
	 "value (OWS allows both); rejecting is the safe side of the difference"},
	{"method.md: QUERY request",
	 "QUERY is a 2024 draft method that http-parser 2.9 does not know"},
	{"sample.md: No HTTP version",
	 "an HTTP/0.9 request line (no version): Kefu requires HTTP/1.0 or 1.1"},
	{"transfer-encoding.md: POST with `chunked` as last transfer-encoding",
	 "Kefu implements only the chunked coding; \"deflate, chunked\" gets 501 "
	 "instead of a body the handler could not decode"},
	{"transfer-encoding.md: POST with `chunked` as last transfer-encoding (multiple headers)",
	 "as above: only a single Transfer-Encoding: chunked is accepted (501)"},
};

#define MAX_MSGS 8

struct msg {
	struct buf method, url, body;
};

struct expect {
	struct msg m[MAX_MSGS];
	int nmsg;       /* complete messages */
	int err_code;   /* -1: none */
	int finish;     /* -1: not a finish case */
};

struct tcase {
	char file[64];
	char name[192];
	char type[64];
	struct buf in;
	struct buf log;
};

struct result {
	struct msg m[MAX_MSGS];
	int nmsg;
	int rejected;
	int incomplete; /* EOF inside a message */
	int upgraded;
	char why[200];
};

struct totals {
	int cases, pass, known, fail, spans, span_bad;
};

static void msg_free(struct msg *m)
{
	buf_free(&m->method);
	buf_free(&m->url);
	buf_free(&m->body);
}

/* ---- reading the corpus ---- */

/* Append one decoded escape; \xHH above 0x7f becomes two UTF-8 bytes. */
static size_t unescape_to(const char *s, const char *end, struct buf *out)
{
	char c;
	size_t k = fixture_unescape1(s, end, "rntf0", &c);
	if (!k)
		return 0;
	unsigned char u = (unsigned char)c;
	if (s[1] == 'x' && u >= 0x80) {
		buf_putc(out, (char)(0xc0 | (u >> 6)));
		buf_putc(out, (char)(0x80 | (u & 0x3f)));
	} else {
		buf_putc(out, c);
	}
	return k;
}


static void decode_input(const char *s, size_t n, struct buf *out)
{
	const char *end = s + n;
	while (s < end) {
		size_t k;
		if (*s == '\n') {
			buf_append(out, "\r\n", 2);
			s++;
		} else if (*s == '\\' && s + 1 < end && s[1] == '\n') {
			s += 2; /* continuation: no line end */
		} else if (*s == '\\' && (k = unescape_to(s, end, out))) {
			s += k;
		} else {
			buf_putc(out, *s++);
		}
	}
}

static void decode_span(const char *v, struct buf *out)
{
	if (strcmp(v, "cr") == 0) {
		buf_putc(out, '\r');
		return;
	}
	if (strcmp(v, "lf") == 0) {
		buf_putc(out, '\n');
		return;
	}
	size_t n = strlen(v);
	if (n < 2 || v[0] != '"' || v[n - 1] != '"')
		return;
	const char *s = v + 1, *end = v + n - 1;
	while (s < end) {
		char c;
		size_t k;
		if (*s == '\\' && s[1] != 'x' && (k = fixture_unescape1(s, end, "rntf0", &c))) {
			buf_putc(out, c);
			s += k;
		} else {
			buf_putc(out, *s++);
		}
	}
}

static void meta_type(const char *line, char *out, size_t n)
{
	const char *t = strstr(line, "\"type\"");
	out[0] = '\0';
	if (!t || !(t = strchr(t + 6, '"')))
		return;
	t++;
	size_t len = strcspn(t, "\"");
	snprintf(out, n, "%.*s", (int)len, t);
}

typedef void (*case_fn)(struct tcase *tc, struct totals *tot);

/* Walk one .md file, calling fn for every http+log pair. */
static void walk_file(const char *dir, const char *file, case_fn fn, struct totals *tot)
{
	char path[2048];
	if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
		fail_msg("path too long");
	char *text = fixture_slurp(path, NULL);
	assert_non_null(text);
	char heading[160] = "", type[64] = "";
	char seen[64][160];
	int nseen = 0;
	struct buf raw = BUF_INIT;
	int have_http = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			snprintf(heading, sizeof heading, "%s", line + strspn(line, "# "));
		} else if (strncmp(line, "<!-- meta=", 10) == 0) {
			meta_type(line, type, sizeof type);
		} else if (strncmp(line, "```http", 7) == 0 || strncmp(line, "```log", 6) == 0) {
			int is_log = line[3] == 'l';
			struct buf body = BUF_INIT;
			/* strtok_r skips empty lines, so split by hand here */
			char *p = save;
			for (;;) {
				char *nl = strchr(p, '\n');
				size_t len = nl ? (size_t)(nl - p) : strlen(p);
				if (len >= 3 && strncmp(p, "```", 3) == 0) {
					save = nl ? nl + 1 : p + len;
					break;
				}
				if (body.data)
					buf_putc(&body, '\n');
				buf_append(&body, p, len);
				if (!nl) {
					save = p + len;
					break;
				}
				p = nl + 1;
			}
			if (!is_log) {
				buf_free(&raw);
				raw = body;
				have_http = 1;
				continue;
			}
			if (!have_http) {
				buf_free(&body);
				continue;
			}
			struct tcase tc;
			memset(&tc, 0, sizeof tc);
			snprintf(tc.file, sizeof tc.file, "%s", file);
			int dup = 1;
			for (int i = 0; i < nseen; i++)
				dup += strcmp(seen[i], heading) == 0;
			if (nseen < 64)
				snprintf(seen[nseen++], sizeof seen[0], "%s", heading);
			if (dup > 1)
				snprintf(tc.name, sizeof tc.name, "%s #%d", heading, dup);
			else
				snprintf(tc.name, sizeof tc.name, "%s", heading);
			snprintf(tc.type, sizeof tc.type, "%s", type);
			decode_input(raw.data ? raw.data : "", raw.len, &tc.in);
			tc.log = body;
			fn(&tc, tot);
			buf_free(&tc.in);
			buf_free(&tc.log);
			have_http = 0;
			type[0] = '\0';
		}
	}
	buf_free(&raw);
	free(text);
}

/* ---- expected results from a log ---- */

static struct msg *cur_msg(struct expect *e, int open)
{
	return open && e->nmsg < MAX_MSGS ? &e->m[e->nmsg] : NULL;
}

/* Every span must be exactly the input bytes at its offset: this is what
 * confirms the input convention described at the top. */
static void check_span(const struct tcase *tc, long off, long len,
		       const struct buf *val, struct totals *tot)
{
	tot->spans++;
	if (off < 0 || len < 0 || (size_t)(off + len) > tc->in.len ||
	    (size_t)len != val->len || memcmp(tc->in.data + off, val->data ? val->data : "", (size_t)len)) {
		tot->span_bad++;
		printf("    span mismatch in %s: %s at off=%ld len=%ld\n", tc->file,
		       tc->name, off, len);
	}
}

static void read_log(const struct tcase *tc, struct expect *e, struct totals *tot)
{
	memset(e, 0, sizeof *e);
	e->err_code = -1;
	e->finish = -1;
	int open = 0;
	const char *p = tc->log.data ? tc->log.data : "";
	while (*p) {
		size_t len = strcspn(p, "\n");
		char line[4096];
		snprintf(line, sizeof line, "%.*s", (int)len, p);
		p += len + (p[len] == '\n');
		long off = -1, slen = -1;
		char kind[32];
		const char *eq;
		if (strstr(line, "message begin")) {
			open = 1;
			if (e->nmsg < MAX_MSGS)
				memset(&e->m[e->nmsg], 0, sizeof e->m[0]);
		} else if (strstr(line, "message complete")) {
			if (open && e->nmsg < MAX_MSGS)
				e->nmsg++;
			open = 0;
		} else if ((eq = strstr(line, "error code="))) {
			e->err_code = atoi(eq + 11);
		} else if ((eq = strstr(line, "finish="))) {
			e->finish = atoi(eq + 7);
		} else if (sscanf(line, "off=%ld len=%ld span[%31[^]]]", &off, &slen, kind) == 3 &&
			   (eq = strstr(line, "]="))) {
			struct buf v = BUF_INIT;
			decode_span(eq + 2, &v);
			check_span(tc, off, slen, &v, tot);
			struct msg *m = cur_msg(e, open);
			if (m && strcmp(kind, "method") == 0)
				buf_append(&m->method, v.data ? v.data : "", v.len);
			else if (m && strcmp(kind, "url") == 0)
				buf_append(&m->url, v.data ? v.data : "", v.len);
			else if (m && strcmp(kind, "body") == 0)
				buf_append(&m->body, v.data ? v.data : "", v.len);
			buf_free(&v);
		}
	}
	if (open && e->nmsg < MAX_MSGS) /* an unfinished message's spans */
		msg_free(&e->m[e->nmsg]);
}

/* ---- running Kefu's framing ---- */

static const struct parse_limits corpus_limits = {
	.max_header_bytes = 64 * 1024,
	.max_body_bytes = 1024 * 1024,
	.max_headers = HTTP_MAX_HEADERS,
};

static void record(struct result *res, struct http_parse *ps, const struct req *r)
{
	if (res->nmsg >= MAX_MSGS)
		return;
	struct msg *m = &res->m[res->nmsg++];
	memset(m, 0, sizeof *m);
	buf_puts(&m->method, http_method_str(r->method));
	buf_puts(&m->url, ps->arena.data); /* the raw target is first in the arena */
	buf_append(&m->body, r->body, r->body_len);
}

/* Feed in pieces of at most `step` bytes, the way a socket might. */
static void run_kefu(const struct buf *in, size_t step, struct result *res)
{
	struct http_parse ps;
	struct req r;
	memset(res, 0, sizeof *res);
	memset(&r, 0, sizeof r);
	parse_init(&ps, &corpus_limits);
	struct buf pending = BUF_INIT;
	size_t off = 0;
	for (;;) {
		if (pending.len == 0 && off < in->len) {
			size_t n = in->len - off < step ? in->len - off : step;
			buf_append(&pending, in->data + off, n);
			off += n;
		}
		if (pending.len == 0)
			break;
		size_t used;
		enum parse_status st = parse_feed(&ps, &r, pending.data, pending.len, &used);
		memmove(pending.data, pending.data + used, pending.len - used);
		pending.len -= used;
		if (st == PARSE_ERROR) {
			res->rejected = 1;
			snprintf(res->why, sizeof res->why, "%d %s: %s", ps.err_status,
				 ps.err_code, ps.err_msg);
			break;
		}
		if (st == PARSE_DONE) {
			record(res, &ps, &r);
			if (ps.upgrade) {
				res->upgraded = 1;
				break;
			}
		}
	}
	if (!res->rejected && !res->upgraded && parse_in_progress(&ps))
		res->incomplete = 1;
	buf_free(&pending);
	parse_free(&ps);
}

static void result_free(struct result *res)
{
	for (int i = 0; i < res->nmsg; i++)
		msg_free(&res->m[i]);
}

static int buf_eq(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Compare Kefu's result with what is expected; fills why, returns 1 ok. */
static int judge(const struct tcase *tc, const struct expect *e,
		 const struct result *res, char *why, size_t n)
{
	int lenient = strncmp(tc->type, "request-lenient", 15) == 0;
	int upgrade = e->err_code == 22 || e->err_code == 23;
	int must_reject = lenient || (e->err_code >= 0 && !upgrade);
	/* a finish case: llhttp_finish() must say whether EOF cuts a message */
	if (e->finish >= 0 && res->incomplete != (e->finish != 0)) {
		snprintf(why, n, "EOF %s a message, llhttp says finish=%d",
			 res->incomplete ? "cuts" : "does not cut", e->finish);
		return 0;
	}
	if (must_reject && !res->rejected) {
		snprintf(why, n, "accepted, expected a rejection%s", lenient ? " (lenient-only)" : "");
		return 0;
	}
	if (!must_reject && res->rejected) {
		snprintf(why, n, "rejected (%s), expected acceptance", res->why);
		return 0;
	}
	int want = must_reject ? (res->nmsg < e->nmsg ? res->nmsg : e->nmsg) : e->nmsg;
	if (!must_reject && res->nmsg != e->nmsg) {
		snprintf(why, n, "%d messages, expected %d", res->nmsg, e->nmsg);
		return 0;
	}
	if (must_reject && res->nmsg > e->nmsg && !lenient) {
		snprintf(why, n, "%d messages before the rejection, llhttp had %d",
			 res->nmsg, e->nmsg);
		return 0;
	}
	for (int i = 0; i < want; i++) {
		if (!buf_eq(&res->m[i].method, &e->m[i].method) ||
		    !buf_eq(&res->m[i].url, &e->m[i].url) ||
		    !buf_eq(&res->m[i].body, &e->m[i].body)) {
			snprintf(why, n, "message %d differs: %s %s (%zu body bytes)", i + 1,
				 res->m[i].method.data, res->m[i].url.data, res->m[i].body.len);
			return 0;
		}
	}
	if (upgrade && !res->upgraded && !res->rejected) {
		snprintf(why, n, "no upgrade seen");
		return 0;
	}
	return 1;
}

static const struct known *find_known(const struct tcase *tc)
{
	char id[300];
	snprintf(id, sizeof id, "%s: %s", tc->file, tc->name);
	for (size_t i = 0; i < sizeof known_diffs / sizeof known_diffs[0]; i++)
		if (strcmp(known_diffs[i].id, id) == 0)
			return &known_diffs[i];
	return NULL;
}

static void run_case(struct tcase *tc, struct totals *tot)
{
	struct expect e;
	struct result whole, bytewise;
	char why[300] = "", why2[300] = "";
	read_log(tc, &e, tot);
	run_kefu(&tc->in, (size_t)-1, &whole);
	run_kefu(&tc->in, 1, &bytewise);
	int ok = judge(tc, &e, &whole, why, sizeof why);
	int ok2 = judge(tc, &e, &bytewise, why2, sizeof why2);
	const struct known *k = find_known(tc);
	tot->cases++;
	if (ok && ok2 && !k) {
		tot->pass++;
		printf("  ok    %s: %s%s%s\n", tc->file, tc->name,
		       whole.rejected ? " -- rejected: " : "", whole.rejected ? whole.why : "");
	} else if (!ok && !ok2 && k) {
		tot->known++;
		printf("  known %s: %s -- %s\n        (Kefu: %s)\n", tc->file, tc->name, k->why, why);
	} else {
		tot->fail++;
		printf("  FAIL  %s: %s -- %s%s | bytewise: %s\n", tc->file, tc->name,
		       k ? "listed as a known difference but " : "",
		       ok ? "agrees" : why, ok2 ? "agrees" : why2);
	}
	for (int i = 0; i < e.nmsg; i++)
		msg_free(&e.m[i]);
	result_free(&whole);
	result_free(&bytewise);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_corpus(void **state)
{
	(void)state;
	const char *src = getenv("KEFU_SOURCE_DIR");
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/../shared/corpora/http/test/request",
		 src ? src : "/work/main");
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open corpus dir %s", dir);
	char *names[64];
	int nn = 0;
	struct dirent *de;
	while ((de = readdir(d)) && nn < 64) {
		size_t l = strlen(de->d_name);
		if (l > 3 && strcmp(de->d_name + l - 3, ".md") == 0)
			names[nn++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, (size_t)nn, sizeof names[0], cmp_names);
	struct totals tot = {0};
	for (int i = 0; i < nn; i++) {
		walk_file(dir, names[i], run_case, &tot);
		free(names[i]);
	}
	printf("corpus: %d files, %d cases: %d agree, %d known differences, %d FAIL; "
	       "%d spans checked against the input, %d mismatched\n",
	       nn, tot.cases, tot.pass, tot.known, tot.fail, tot.spans, tot.span_bad);
	assert_true(nn >= 10);
	assert_true(tot.cases > 150);
	assert_int_equal(tot.fail, 0);
	assert_int_equal(tot.span_bad, 0);
}

/* ---- Kefu's own cases: tests/fixtures/http/parse/NAME.txt ----
 *
 * A file is expectations, a line "---", then the input (same conventions
 * as the corpus, except that \xHH is one raw byte).  Expectations:
 *   # comment                      limit header_bytes|body_bytes|headers N
 *   result: done N | more | error STATUS CODE
 *   requests: N                    complete requests (with an error)
 *   request N                      later lines check request N (from 1)
 *   method: / path: / query: / body: VALUE     keep-alive: / upgrade: 0|1
 *   header NAME: VALUE             continue: 0|1 (Expect: 100-continue seen)
 *   no-header NAME
 */

#define FX_MAX 8

struct fx_req {
	struct buf method, path, query, body, headers;
	int keep_alive, upgrade;
};

struct fx_run {
	struct fx_req req[FX_MAX];
	int n, error, status, more, cont;
	char code[64];
};

static void decode_raw(const char *s, size_t n, struct buf *out, int crlf)
{
	const char *end = s + n;
	while (s < end) {
		char c;
		size_t k;
		if (crlf && *s == '\n') {
			buf_append(out, "\r\n", 2);
			s++;
		} else if (crlf && *s == '\\' && s + 1 < end && s[1] == '\n') {
			s += 2;
		} else if (*s == '\\' && (k = fixture_unescape1(s, end, "rntf0", &c))) {
			buf_putc(out, c);
			s += k;
		} else {
			buf_putc(out, *s++);
		}
	}
}

static void fx_record(struct fx_run *run, struct http_parse *ps, const struct req *r)
{
	if (run->n >= FX_MAX)
		return;
	struct fx_req *q = &run->req[run->n++];
	memset(q, 0, sizeof *q);
	buf_puts(&q->method, http_method_str(r->method));
	buf_puts(&q->path, r->path);
	buf_puts(&q->query, r->query);
	buf_append(&q->body, r->body, r->body_len);
	for (int i = 0; i < r->nheaders; i++)
		buf_printf(&q->headers, "%s: %s\n", r->headers[i].name, r->headers[i].value);
	q->keep_alive = ps->keep_alive;
	q->upgrade = ps->upgrade;
}

static void fx_feed(const struct buf *in, size_t step, const struct parse_limits *lim,
		    struct fx_run *run)
{
	struct http_parse ps;
	struct req r;
	memset(run, 0, sizeof *run);
	memset(&r, 0, sizeof r);
	parse_init(&ps, lim);
	struct buf pending = BUF_INIT;
	size_t off = 0;
	for (;;) {
		if (pending.len == 0 && off < in->len) {
			size_t n = in->len - off < step ? in->len - off : step;
			buf_append(&pending, in->data + off, n);
			off += n;
		}
		if (pending.len == 0)
			break;
		size_t used;
		enum parse_status st = parse_feed(&ps, &r, pending.data, pending.len, &used);
		run->cont |= ps.expect_continue;
		memmove(pending.data, pending.data + used, pending.len - used);
		pending.len -= used;
		if (st == PARSE_ERROR) {
			run->error = 1;
			run->status = ps.err_status;
			snprintf(run->code, sizeof run->code, "%s", ps.err_code);
			break;
		}
		if (st == PARSE_DONE) {
			fx_record(run, &ps, &r);
			if (ps.upgrade)
				break;
		}
	}
	run->more = !run->error && parse_in_progress(&ps);
	buf_free(&pending);
	parse_free(&ps);
}

static void fx_free(struct fx_run *run)
{
	for (int i = 0; i < run->n; i++) {
		buf_free(&run->req[i].method);
		buf_free(&run->req[i].path);
		buf_free(&run->req[i].query);
		buf_free(&run->req[i].body);
		buf_free(&run->req[i].headers);
	}
}

static int fx_field(const struct fx_req *q, const char *key, const char *want,
		    char *why, size_t n)
{
	const struct buf *got = NULL;
	if (strcmp(key, "method") == 0)
		got = &q->method;
	else if (strcmp(key, "path") == 0)
		got = &q->path;
	else if (strcmp(key, "query") == 0)
		got = &q->query;
	else if (strcmp(key, "body") == 0)
		got = &q->body;
	if (got) {
		struct buf w = BUF_INIT;
		decode_raw(want, strlen(want), &w, 0);
		int ok = buf_eq(got, &w);
		if (!ok)
			snprintf(why, n, "%s is \"%s\", want \"%s\"", key,
				 got->data ? got->data : "", w.data ? w.data : "");
		buf_free(&w);
		return ok;
	}
	int flag = strcmp(key, "keep-alive") == 0 ? q->keep_alive
		   : strcmp(key, "upgrade") == 0  ? q->upgrade
						  : -1;
	if (flag < 0 || flag != atoi(want)) {
		snprintf(why, n, "%s is %d, want %s", key, flag, want);
		return 0;
	}
	return 1;
}

static int fx_header(const struct fx_req *q, const char *spec, char *why, size_t n)
{
	char line[512];
	const char *colon = strchr(spec, ':');
	if (!colon)
		return 0;
	const char *v = colon[1] == ' ' ? colon + 2 : colon + 1;
	snprintf(line, sizeof line, "%.*s: %s\n", (int)(colon - spec), spec, v);
	const char *h = q->headers.data ? q->headers.data : "";
	int ok = (strncmp(h, line, strlen(line)) == 0) ||
		 (strstr(h, line) && strstr(h, line)[-1] == '\n');
	if (!ok)
		snprintf(why, n, "no header line \"%.*s\"", (int)strlen(line) - 1, line);
	return ok;
}

/* Check one run against the expectation lines; returns 1 when all hold. */
static int fx_judge(const char *spec, const struct fx_run *run, char *why, size_t n)
{
	char *copy = xstrdup(spec), *save = NULL;
	int cur = 0, ok = 1;
	for (char *l = strtok_r(copy, "\n", &save); l && ok; l = strtok_r(NULL, "\n", &save)) {
		char a[32], b[64];
		int num;
		if (l[0] == '#' || strncmp(l, "limit ", 6) == 0)
			continue;
		if (sscanf(l, "result: done %d", &num) == 1) {
			ok = !run->error && !run->more && run->n == num;
			if (!ok)
				snprintf(why, n, "got %d requests%s%s%s", run->n,
					 run->error ? ", error " : "", run->error ? run->code : "",
					 run->more ? ", incomplete" : "");
		} else if (strcmp(l, "result: more") == 0) {
			ok = !run->error && run->more;
			if (!ok)
				snprintf(why, n, "not incomplete (error=%d %s)", run->error, run->code);
		} else if (sscanf(l, "result: error %31s %63s", a, b) == 2) {
			ok = run->error && run->status == atoi(a) && strcmp(run->code, b) == 0;
			if (!ok)
				snprintf(why, n, "got %s %d %s", run->error ? "error" : "no error",
					 run->status, run->code);
		} else if (sscanf(l, "requests: %d", &num) == 1) {
			ok = run->n == num;
			if (!ok)
				snprintf(why, n, "%d requests, want %d", run->n, num);
		} else if (sscanf(l, "request %d", &num) == 1) {
			cur = num - 1;
		} else if (sscanf(l, "continue: %d", &num) == 1) {
			ok = run->cont == num;
			if (!ok)
				snprintf(why, n, "continue is %d", run->cont);
		} else if (cur >= run->n) {
			ok = 0;
			snprintf(why, n, "no request %d to check \"%s\"", cur + 1, l);
		} else if (strncmp(l, "header ", 7) == 0) {
			ok = fx_header(&run->req[cur], l + 7, why, n);
		} else if (strncmp(l, "no-header ", 10) == 0) {
			char line[128];
			snprintf(line, sizeof line, "%s: ", l + 10);
			const char *h = run->req[cur].headers.data;
			ok = !h || !strstr(h, line);
			if (!ok)
				snprintf(why, n, "unexpected header %s", l + 10);
		} else {
			char *colon = strchr(l, ':');
			if (!colon) {
				snprintf(why, n, "bad expectation \"%s\"", l);
				ok = 0;
				break;
			}
			*colon = '\0';
			ok = fx_field(&run->req[cur], l, colon[1] ? colon + 2 : "", why, n);
		}
	}
	free(copy);
	return ok;
}

static void fx_limits(const char *spec, struct parse_limits *lim)
{
	*lim = corpus_limits;
	const char *p = spec;
	while ((p = strstr(p, "limit "))) {
		char what[32];
		unsigned long v;
		if (sscanf(p, "limit %31s %lu", what, &v) == 2) {
			if (strcmp(what, "header_bytes") == 0)
				lim->max_header_bytes = v;
			else if (strcmp(what, "body_bytes") == 0)
				lim->max_body_bytes = v;
			else if (strcmp(what, "headers") == 0)
				lim->max_headers = (int)v;
		}
		p += 6;
	}
}

/* Returns 1 when the case passes, fed whole, in 7-byte and 1-byte pieces. */
static int fx_case(const char *dir, const char *name)
{
	char path[2048];
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		fail_msg("path too long");
	char *text = fixture_slurp(path, NULL);
	assert_non_null(text);
	char *sep = strstr(text, "\n---\n");
	if (!sep)
		fail_msg("%s: no --- line", name);
	*sep = '\0';
	const char *raw = sep + 5;
	size_t rl = strlen(raw);
	if (rl && raw[rl - 1] == '\n')
		rl--; /* as in the corpus: the file's last newline is not input */
	struct buf in = BUF_INIT;
	decode_raw(raw, rl, &in, 1);
	struct parse_limits lim;
	fx_limits(text, &lim);
	static const size_t steps[] = {(size_t)-1, 7, 1};
	int ok = 1;
	char why[512] = "";
	for (size_t i = 0; i < 3 && ok; i++) {
		struct fx_run run;
		fx_feed(&in, steps[i], &lim, &run);
		ok = fx_judge(text, &run, why, sizeof why);
		if (!ok && i)
			snprintf(why + strlen(why), sizeof why - strlen(why),
				 " (fed in %zu-byte pieces)", steps[i]);
		fx_free(&run);
	}
	const char *title = text[0] == '#' ? text + strspn(text, "# ") : "";
	printf("  %-4s %-34s %.*s%s%s\n", ok ? "ok" : "FAIL", name,
	       (int)strcspn(title, "\n"), title, ok ? "" : " -- ", ok ? "" : why);
	buf_free(&in);
	free(text);
	return ok;
}

static void test_fixtures(void **state)
{
	(void)state;
	int failed = 0;
	int nn = fixture_run_dir("tests/fixtures/http/parse", ".txt", fx_case, &failed);
	if (nn < 0)
		fail_msg("cannot open tests/fixtures/http/parse");
	printf("fixtures: %d cases, %d passed, %d failed\n", nn, nn - failed, failed);
	assert_true(nn >= 40);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_fixtures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
