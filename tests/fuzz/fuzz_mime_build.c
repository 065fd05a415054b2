/*
 * fuzz_mime_build.c -- libFuzzer target for the writing side of e-mail
 * (src/text/mime_build.c) read back by the parsing side (src/text/mime.c).
 * The input is split at NUL bytes into subject, text, HTML, the From name
 * and an attachment's file name (what agents and customers control).
 *
 * Checks: the message is 7-bit with CRLF lines; it parses back with the
 * same Message-ID, the same To address and one attachment; no header the
 * input tried to add (a "Bcc:" line) appears in the head.  Must not crash,
 * leak or hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/mime.h"
#include "text/mime_build.h"
#include "util/buf.h"

/* The next NUL-terminated field of the input (a copy), "" at the end. */
static char *field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, 0, (size_t)(end - *p));
	size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + (nul ? 1 : 0);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *f[5];
	for (int i = 0; i < 5; i++)
		f[i] = field(&p, end);
	struct mime_out_att att = {.filename = f[4], .content_type = "application/pdf",
				   .data = data, .len = size};
	struct mime_out m = {.from_name = f[3], .from_addr = "support@shop.example",
		.to_addr = "c@example.cn", .subject = f[0], .message_id = "kefu.1.1.x@shop.example",
		.date_ms = 1795380000000LL, .text = f[1], .html = f[2], .atts = &att, .natts = 1};
	struct buf raw = BUF_INIT;
	struct err e = {0};
	if (mime_build(&m, &raw, &e) < 0)
		abort();
	for (size_t i = 0; i < raw.len; i++)
		if ((unsigned char)raw.data[i] >= 0x80 ||
		    (raw.data[i] == '\n' && (i == 0 || raw.data[i - 1] != '\r')))
			abort();
	char *head_end = strstr(raw.data, "\r\n\r\n");
	if (!head_end)
		abort();
	*head_end = '\0';
	if (strstr(raw.data, "\r\nBcc:") || strstr(raw.data, "\r\nbcc:"))
		abort();
	*head_end = '\r';
	struct mime_msg back;
	if (mime_parse(raw.data, raw.len, &back, &e) < 0)
		abort();
	if (!back.message_id || strcmp(back.message_id, m.message_id) || back.nto != 1 ||
	    strcmp(back.to[0].addr, m.to_addr) || back.natts != 1 || back.atts[0].len != size)
		abort();
	mime_msg_free(&back);
	buf_free(&raw);
	for (int i = 0; i < 5; i++)
		free(f[i]);
	return 0;
}
