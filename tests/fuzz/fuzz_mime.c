/*
 * fuzz_mime.c -- libFuzzer target for src/text/mime and src/text/charset:
 * arbitrary bytes (NULs, broken MIME, broken charsets) through mime_parse,
 * mime_visible_text, charset_decode and charset_decode_header.
 *
 * Checked on every run: the subject, names, text and HTML are valid UTF-8
 * C strings; every attachment has a filename and content type; counts
 * match the arrays; nothing leaks (LeakSanitizer is on in the fuzz build).
 * The first byte also picks a declared charset for charset_decode.
 *
 * Run: fuzz_mime -max_total_time=60 [scratch-dir] tests/fuzz/corpus/fuzz_mime
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/charset.h"
#include "text/mime.h"

static void check_utf8(const char *what, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (p && *p) {
		size_t k = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3
			: *p >= 0xC2 ? 2 : 0;
		if (!k || *p > 0xF4)
			goto bad;
		for (size_t i = 1; i < k; i++)
			if ((p[i] & 0xC0) != 0x80)
				goto bad;
		p += k;
	}
	return;
bad:
	fprintf(stderr, "fuzz_mime: %s is not valid UTF-8\n", what);
	abort();
}

static void check_msg(const struct mime_msg *m)
{
	check_utf8("subject", m->subject);
	check_utf8("text", m->text);
	check_utf8("html", m->html);
	check_utf8("from", m->from.name);
	for (int i = 0; i < m->nto; i++)
		check_utf8("to", m->to[i].name);
	for (int i = 0; i < m->natts; i++) {
		if (!m->atts[i].filename || !m->atts[i].content_type ||
		    (m->atts[i].len && !m->atts[i].data))
			abort();
		check_utf8("filename", m->atts[i].filename);
	}
	if (!m->subject || (m->nrefs && !m->references))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const charsets[] = {
		NULL, "utf-8", "gb2312", "big5", "iso-2022-jp", "shift_jis",
		"ks_c_5601-1987", "windows-1252", "utf-7", "x-unknown"};
	struct mime_msg m;
	struct err e = {0};
	if (mime_parse(data, size, &m, &e) == 0) {
		check_msg(&m);
		char *v = mime_visible_text(m.text);
		check_utf8("visible", v);
		free(v);
		mime_msg_free(&m);
	}
	if (size) {
		const char *cs = charsets[data[0] % 10];
		struct charset_result r;
		char *s = charset_decode(data + 1, size - 1, cs, NULL, &r);
		check_utf8("charset_decode", s);
		free(s);
		s = charset_decode_header((const char *)data, size);
		check_utf8("header", s);
		free(s);
	}
	return 0;
}
