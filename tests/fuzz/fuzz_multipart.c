/*
 * fuzz_multipart.c -- libFuzzer target for src/http/multipart: the input's
 * first line is a Content-Type value (multipart_boundary), the rest the
 * body (multipart_parse, with small limits so they are reached).  Checks
 * the parser's promises on every accepted body: at least one part, each
 * inside the body and free of the delimiter, names non-empty clean UTF-8,
 * file names clean UTF-8; on refusal a 400/415 error and nothing held.
 * The body sits in an allocation of its exact size, so ASan sees any
 * overread.  Must not leak.
 *
 * Seeds: tests/fixtures/multipart/fuzz-seeds.  Run:
 *   fuzz_multipart -max_total_time=60 /tmp/scratch tests/fixtures/multipart/fuzz-seeds
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/utf8.h>

#include "http/multipart.h"
#include "util/buf.h"

static void die(const char *what)
{
	fprintf(stderr, "fuzz_multipart: %s\n", what);
	abort();
}

static int clean_utf8(const char *s)
{
	size_t n = strlen(s);
	for (int32_t i = 0; i < (int32_t)n;) {
		UChar32 c;
		U8_NEXT((const uint8_t *)s, i, (int32_t)n, c);
		if (c < 0x20 || (c >= 0x7f && c < 0xa0))
			return 0;
	}
	return 1;
}

static void check_boundary(const char *b)
{
	size_t n = strlen(b);
	if (n < 1 || n > MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ')
		die("boundary length");
	for (size_t i = 0; i < n; i++)
		if (!((b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'z') ||
		      (b[i] >= 'A' && b[i] <= 'Z') || strchr("'()+_,-./:=? ", b[i])))
			die("boundary character");
}

static void check_parts(const char *body, size_t len, const char *boundary,
			const struct multipart *m, int max_parts)
{
	char delim[MULTIPART_BOUNDARY_MAX + 8];
	size_t dl = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
	if (m->nparts < 1 || m->nparts > max_parts)
		die("part count");
	const char *prev_end = body;
	for (int i = 0; i < m->nparts; i++) {
		const struct multipart_part *p = &m->parts[i];
		if (p->data < prev_end || p->data + p->len > body + len)
			die("part outside the body or out of order");
		if (memmem(p->data, p->len, delim, dl))
			die("delimiter inside a part");
		if (!p->name || !p->name[0] || !clean_utf8(p->name))
			die("bad name");
		if (p->filename && !clean_utf8(p->filename))
			die("bad filename");
		prev_end = p->data + p->len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	if (!nl)
		return 0;
	char *ct = xstrndup(in, (size_t)(nl - in));
	size_t len = size - (size_t)(nl - in) - 1;
	char *body = xmalloc(len ? len : 1);
	memcpy(body, nl + 1, len);

	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	struct err e = {0};
	struct multipart m;
	memset(&m, 0xa5, sizeof m); /* must be set whatever happens */
	const struct multipart_limits lim = {8, 512};
	if (multipart_boundary(ct, boundary, sizeof boundary, &e) < 0) {
		if (e.status != 400 && e.status != 415)
			die("boundary error status");
	} else {
		check_boundary(boundary);
		if (multipart_parse(body, len, boundary, &lim, &m, &e) == 0) {
			check_parts(body, len, boundary, &m, lim.max_parts);
		} else {
			if (e.status != 400 || strcmp(e.code, "bad_multipart") != 0 || !e.msg[0])
				die("parse error without 400 bad_multipart");
			if (m.parts || m.nparts)
				die("refused body left parts");
		}
		multipart_free(&m);
	}
	free(body);
	free(ct);
	return 0;
}
