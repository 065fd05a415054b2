/*
 * test_multipart.c -- src/http/multipart against the cases in
 * tests/fixtures/multipart/NAME.txt, one case per file (see the README
 * there for the format), plus the promises every accepted body keeps:
 * parts point into the body, names are non-empty and file names are clean
 * UTF-8.  Each case is reported by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

#include "http/multipart.h"
#include "util/buf.h"

/* Escapes into bytes; crlf: a newline is CRLF and a backslash ending a line
 * joins it to the next. */
static void decode_raw(const char *s, size_t n, struct buf *out, int crlf)
{
	const char *end = s + n;
	buf_append(out, "", 0);
	while (s < end) {
		char c;
		size_t k;
		if (crlf && *s == '\n') {
			buf_append(out, "\r\n", 2);
			s++;
		} else if (crlf && *s == '\\' && s + 1 < end && s[1] == '\n') {
			s += 2;
		} else if (*s == '\\' && (k = fixture_unescape1(s, end, "rnt0\\", &c))) {
			buf_putc(out, c);
			s += k;
		} else {
			buf_putc(out, *s++);
		}
	}
}

/* The promises of an accepted body, whatever the case expects. */
static int invariants(const struct buf *body, const struct multipart *m, char *why,
		      size_t n)
{
	if (m->nparts < 1) {
		snprintf(why, n, "accepted without parts");
		return 0;
	}
	for (int i = 0; i < m->nparts; i++) {
		const struct multipart_part *p = &m->parts[i];
		if (p->data < body->data || p->data + p->len > body->data + body->len) {
			snprintf(why, n, "part %d points outside the body", i + 1);
			return 0;
		}
		if (!p->name || !p->name[0]) {
			snprintf(why, n, "part %d has no name", i + 1);
			return 0;
		}
	}
	return 1;
}

static int expect_str(const char *what, int part, const char *got, const char *want_raw,
		      char *why, size_t n)
{
	struct buf w = BUF_INIT;
	decode_raw(want_raw, strlen(want_raw), &w, 0);
	int ok = got && strcmp(got, w.data) == 0;
	if (!ok)
		snprintf(why, n, "part %d: %s is \"%s\", want \"%s\"", part, what,
			 got ? got : "(none)", w.data);
	buf_free(&w);
	return ok;
}

/* Is the expectation line l, whose colon is at colon, about key? */
static int key_is(const char *l, const char *colon, const char *key)
{
	return (size_t)(colon - l) == strlen(key) && strncmp(l, key, strlen(key)) == 0;
}

/* Check the result against the expectation lines; 1 when all hold. */
static int judge(const char *spec, const struct buf *body, int rc, const struct err *e,
		 const struct multipart *m, char *why, size_t n)
{
	char *copy = xstrdup(spec), *save = NULL;
	int cur = -1, ok = 1;
	for (char *l = strtok_r(copy, "\n", &save); l && ok; l = strtok_r(NULL, "\n", &save)) {
		char a[32], b[64];
		int num;
		if (l[0] == '#' || strncmp(l, "limit ", 6) == 0 ||
		    strncmp(l, "content-type: ", 14) == 0)
			continue;
		if (sscanf(l, "result: ok %d", &num) == 1) {
			ok = rc == 0 && m->nparts == num;
			if (!ok)
				snprintf(why, n, "got %s: %d parts, %d %s: %s", rc ? "error" : "ok",
					 m->nparts, e->status, e->code, e->msg);
			else
				ok = invariants(body, m, why, n);
		} else if (sscanf(l, "result: error %31s %63s", a, b) == 2) {
			ok = rc < 0 && e->status == atoi(a) && strcmp(e->code, b) == 0 &&
			     m->nparts == 0 && !m->parts;
			if (!ok)
				snprintf(why, n, "got %s %d %s (%s)", rc ? "error" : "ok",
					 e->status, e->code, e->msg);
		} else if (strncmp(l, "message: ", 9) == 0) {
			ok = rc < 0 && strstr(e->msg, l + 9) != NULL;
			if (!ok)
				snprintf(why, n, "message \"%s\" lacks \"%s\"", e->msg, l + 9);
		} else if (sscanf(l, "part %d", &num) == 1 && !strchr(l, ':')) {
			cur = num - 1;
			ok = rc == 0 && cur >= 0 && cur < m->nparts;
			if (!ok)
				snprintf(why, n, "no part %d", num);
		} else if (cur < 0) {
			ok = 0;
			snprintf(why, n, "\"%s\" before a \"part N\" line", l);
		} else {
			const struct multipart_part *p = &m->parts[cur];
			char *colon = strchr(l, ':');
			const char *v = colon && colon[1] ? colon + 2 : "";
			if (strcmp(l, "no-filename") == 0) {
				ok = p->filename == NULL;
				if (!ok)
					snprintf(why, n, "part %d has filename \"%s\"", cur + 1,
						 p->filename);
			} else if (strcmp(l, "no-type") == 0) {
				ok = p->content_type == NULL;
				if (!ok)
					snprintf(why, n, "part %d has type \"%s\"", cur + 1,
						 p->content_type);
			} else if (!colon) {
				ok = 0;
				snprintf(why, n, "bad expectation \"%s\"", l);
			} else if (key_is(l, colon, "name")) {
				ok = expect_str("name", cur + 1, p->name, v, why, n);
			} else if (key_is(l, colon, "filename")) {
				ok = expect_str("filename", cur + 1, p->filename, v, why, n);
			} else if (key_is(l, colon, "type")) {
				ok = expect_str("type", cur + 1, p->content_type, v, why, n);
			} else if (key_is(l, colon, "len")) {
				ok = p->len == (size_t)atol(v);
				if (!ok)
					snprintf(why, n, "part %d has %zu bytes, want %s", cur + 1,
						 p->len, v);
			} else if (key_is(l, colon, "data")) {
				struct buf w = BUF_INIT;
				decode_raw(v, strlen(v), &w, 0);
				ok = w.len == p->len && memcmp(w.data, p->data, p->len) == 0;
				if (!ok)
					snprintf(why, n, "part %d: data is \"%.*s\", want \"%s\"",
						 cur + 1, (int)p->len, p->data, v);
				buf_free(&w);
			} else {
				ok = 0;
				snprintf(why, n, "bad expectation \"%s\"", l);
			}
		}
	}
	free(copy);
	return ok;
}

static void limits(const char *spec, struct multipart_limits *lim)
{
	memset(lim, 0, sizeof *lim);
	for (const char *l = spec; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0)) {
		char what[32];
		unsigned long v;
		if (sscanf(l, "limit %31s %lu", what, &v) != 2)
			continue;
		if (strcmp(what, "parts") == 0)
			lim->max_parts = (int)v;
		else if (strcmp(what, "header_bytes") == 0)
			lim->max_header_bytes = v;
	}
}

/* Returns 1 when the case passes. */
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
		rl--; /* the file's last newline is not input */
	struct buf body = BUF_INIT;
	decode_raw(raw, rl, &body, 1);
	/* the body in its own allocation, so ASan sees any overread */
	char *exact = xmalloc(body.len ? body.len : 1);
	memcpy(exact, body.data, body.len);
	struct buf view = {exact, body.len, body.len};

	struct multipart_limits lim;
	limits(text, &lim);
	const char *ct = strstr(text, "content-type: ");
	char ctv[512] = "multipart/form-data; boundary=b";
	if (ct) {
		struct buf w = BUF_INIT;
		ct += 14;
		decode_raw(ct, strcspn(ct, "\n"), &w, 0);
		snprintf(ctv, sizeof ctv, "%s", w.data);
		buf_free(&w);
	}
	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	struct err e = {0};
	struct multipart m = {0};
	int rc = multipart_boundary(ctv, boundary, sizeof boundary, &e);
	if (rc == 0)
		rc = multipart_parse(exact, body.len, boundary, &lim, &m, &e);
	char why[1024] = "";
	int ok = judge(text, &view, rc, &e, &m, why, sizeof why);
	const char *title = text[0] == '#' ? text + strspn(text, "# ") : "";
	printf("  %-4s %-36s %.*s%s%s\n", ok ? "ok" : "FAIL", name,
	       (int)strcspn(title, "\n"), title, ok ? "" : " -- ", ok ? "" : why);
	multipart_free(&m);
	free(exact);
	buf_free(&body);
	free(text);
	return ok;
}

static void test_fixtures(void **state)
{
	(void)state;
	int failed = 0;
	int nn = fixture_run_dir("tests/fixtures/multipart", ".txt", fx_case, &failed);
	if (nn < 0)
		fail_msg("cannot open tests/fixtures/multipart");
	printf("fixtures: %d cases, %d passed, %d failed\n", nn, nn - failed, failed);
	assert_true(nn >= 40);
	assert_int_equal(failed, 0);
}

/* A large body with many parts and a boundary-like run in the data. */
static void test_large_body(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	const int parts = 50;
	for (int i = 0; i < parts; i++) {
		buf_printf(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
			       "filename=\"f%d.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n", i);
		for (int k = 0; k < 20000; k++)
			buf_append(&b, k % 997 ? "a" : "\r\n--XyA", k % 997 ? 1 : 7);
		buf_puts(&b, "\r\n");
	}
	buf_puts(&b, "--XyZ--\r\n");
	struct multipart m;
	struct err e = {0};
	struct multipart_limits lim = {parts, 0};
	assert_int_equal(multipart_parse(b.data, b.len, "XyZ", &lim, &m, &e), 0);
	assert_int_equal(m.nparts, parts);
	assert_string_equal(m.parts[49].filename, "f49.bin");
	assert_int_equal(m.parts[0].len, 20000 - 21 + 21 * 7);
	multipart_free(&m);
	lim.max_parts = parts - 1;
	assert_int_equal(multipart_parse(b.data, b.len, "XyZ", &lim, &m, &e), -1);
	assert_string_equal(e.code, "bad_multipart");
	assert_null(m.parts);
	/* every truncation of a valid body is an error, never a part that
	 * reaches past the end */
	for (size_t cut = 0; cut < 400; cut += 7) {
		struct err e2 = {0};
		assert_int_equal(multipart_parse(b.data, cut, "XyZ", NULL, &m, &e2), -1);
		assert_int_equal(e2.status, 400);
	}
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_large_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
