/*
 * test_ws.c -- the WebSocket protocol engine (src/http/ws.c) as a client
 * sees it: client frames built by hand, masked as browsers send them, fed
 * in one piece and again byte by byte; the server's frames parsed back
 * out of what the write callback received.
 *
 * The failing cases are data: one table row per case, the client's bytes
 * in hex (mask key 00000000 so the payload reads as written; "XX*N" is N
 * bytes XX) and the close code the server must answer with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/ws.h"
#include "util/buf.h"
#include "util/hex.h"

/* ---- a fake server around one struct ws ---- */

struct conn {
	struct ws *w;
	struct buf out;   /* every byte written */
	int write_result; /* what write returns (WS_WRITE_OK by default) */
	struct buf texts; /* messages received, each followed by a '|' */
	int ntexts;
	int nclosed, code;
	/* what on_text does besides recording */
	int echo;     /* ws_send_text the message back, then ws_flush */
	int close_on; /* ws_close(1000) on this message number (1-based) */
};

static void on_text(void *ud, const char *msg, size_t len)
{
	struct conn *c = ud;
	buf_append(&c->texts, msg, len);
	buf_putc(&c->texts, '|');
	c->ntexts++;
	if (c->echo) {
		assert_int_equal(ws_send_text(c->w, msg, len), 0);
		ws_flush(c->w);
	}
	if (c->close_on == c->ntexts)
		ws_close(c->w, 1000, "done");
}

static int on_write(void *ud, const void *data, size_t len)
{
	struct conn *c = ud;
	assert_int_equal(c->nclosed, 0); /* nothing written after on_closed */
	if (c->write_result == WS_WRITE_OK)
		buf_append(&c->out, data, len);
	return c->write_result;
}

static void on_closed(void *ud, int code)
{
	struct conn *c = ud;
	c->nclosed++;
	c->code = code;
}

static const struct ws_handler handler = {on_text, on_write, on_closed};

static void conn_open(struct conn *c, size_t max_message, size_t max_queued)
{
	struct ws_limits lim = {max_message, max_queued};
	memset(c, 0, sizeof *c);
	c->w = ws_new(&lim, &handler, c);
}

static void conn_free(struct conn *c)
{
	ws_free(c->w);
	buf_free(&c->out);
	buf_free(&c->texts);
}

/* ---- client frames ---- */

static const uint8_t mask_key[4] = {0x37, 0xfa, 0x21, 0x3d}; /* RFC 6455 5.7 */

/* One masked client frame: b0 is FIN, RSV and opcode. */
static void frame(struct buf *b, uint8_t b0, const void *payload, size_t n)
{
	const uint8_t *p = payload;
	buf_putc(b, (char)b0);
	if (n < 126) {
		buf_putc(b, (char)(0x80 | n));
	} else if (n < 65536) {
		buf_putc(b, (char)(0x80 | 126));
		buf_putc(b, (char)(n >> 8));
		buf_putc(b, (char)n);
	} else {
		buf_putc(b, (char)(0x80 | 127));
		for (int i = 7; i >= 0; i--)
			buf_putc(b, (char)((uint64_t)n >> (8 * i)));
	}
	buf_append(b, mask_key, 4);
	for (size_t i = 0; i < n; i++)
		buf_putc(b, (char)(p[i] ^ mask_key[i % 4]));
}

static void frame_str(struct buf *b, uint8_t b0, const char *s)
{
	frame(b, b0, s, strlen(s));
}

/* Hex with spaces; "XX*N" repeats the byte XX N times. */
static void hex_bytes(struct buf *b, const char *hex)
{
	const char *p = hex;
	while (*p) {
		if (*p == ' ') {
			p++;
			continue;
		}
		int hi = hex_value(p[0]), lo = p[1] ? hex_value(p[1]) : -1;
		assert_true(hi >= 0 && lo >= 0);
		p += 2;
		long n = 1;
		if (*p == '*')
			n = strtol(p + 1, (char **)&p, 10);
		for (long i = 0; i < n; i++)
			buf_putc(b, (char)(hi << 4 | lo));
	}
}

/* ---- server frames ---- */

struct sframe {
	uint8_t b0;
	const uint8_t *p;
	size_t len;
};

/* The next server frame in c->out from *off; 0 when there is none.  Server
 * frames must be unmasked, in the shortest length form, and complete. */
static int next_frame(const struct conn *c, size_t *off, struct sframe *f)
{
	const uint8_t *o = (const uint8_t *)c->out.data;
	size_t at = *off, n;
	if (at >= c->out.len)
		return 0;
	assert_true(c->out.len - at >= 2);
	f->b0 = o[at];
	assert_int_equal(o[at + 1] & 0x80, 0);
	n = o[at + 1] & 0x7f;
	at += 2;
	if (n == 126) {
		n = (size_t)o[at] << 8 | o[at + 1];
		assert_true(n >= 126);
		at += 2;
	} else if (n == 127) {
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | o[at + i];
		assert_true(n >= 65536);
		at += 8;
	}
	assert_true(c->out.len - at >= n);
	f->p = o + at;
	f->len = n;
	*off = at + n;
	return 1;
}

/* The close code of a server close frame (0 when it has none). */
static int close_code(const struct sframe *f)
{
	assert_int_equal(f->b0, 0x88);
	return f->len >= 2 ? f->p[0] << 8 | f->p[1] : 0;
}

/* The last frame the server wrote. */
static struct sframe last_frame(const struct conn *c)
{
	struct sframe f = {0}, g;
	size_t off = 0;
	int n = 0;
	while (next_frame(c, &off, &g))
		f = g, n++;
	assert_true(n > 0);
	return f;
}

/* Feed b (in one piece, or byte by byte) then flush; the last ws_feed
 * result. */
static int feed(struct conn *c, const struct buf *b, int bytewise)
{
	int r = 0;
	if (!bytewise) {
		r = ws_feed(c->w, b->data, b->len);
	} else {
		for (size_t i = 0; i < b->len && r == 0; i++)
			r = ws_feed(c->w, b->data + i, 1);
	}
	ws_flush(c->w);
	return r;
}

/* ---- Sec-WebSocket-Accept ---- */

static void test_accept_key(void **state)
{
	char out[WS_ACCEPT_LEN];
	(void)state;
	/* RFC 6455 1.3 */
	assert_int_equal(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(ws_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", out), 0);
	assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
	static const char *bad[] = {
		"", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ===",
		"dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZ!==",
		"dGhlIHNhbXBsZSBub25jZQAA",     /* 18 bytes, no padding */
		"dGhlIHNhbXBsZSBub25j ZQ=",     /* space */
		"dGhlIHNhbXBsZSBub25jZQ==\r\n", /* not trimmed by us */
		"dGhlIHNhbXBsZSBub25jZS==",     /* non-zero padding bits */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ws_accept_key(bad[i], out), -1);
	assert_int_equal(ws_accept_key(NULL, out), -1);
}

/* ---- UTF-8 ---- */

static void test_utf8(void **state)
{
	static const struct {
		const char *hex;
		int valid;
	} cases[] = {
		{"", 1},
		{"41 7f", 1},
		{"c2 80", 1},             /* U+0080 */
		{"df bf", 1},             /* U+07FF */
		{"e0 a0 80", 1},          /* U+0800 */
		{"ed 9f bf", 1},          /* U+D7FF */
		{"ee 80 80", 1},          /* U+E000 */
		{"ef bf bf", 1},          /* U+FFFF */
		{"f0 90 80 80", 1},       /* U+10000 */
		{"f4 8f bf bf", 1},       /* U+10FFFF */
		{"e4 bd a0 e5 a5 bd", 1}, /* 你好 */
		{"80", 0},                /* lone continuation */
		{"c0 af", 0},             /* overlong '/' */
		{"c1 bf", 0},             /* overlong */
		{"e0 80 af", 0},          /* overlong */
		{"e0 9f bf", 0},          /* overlong U+07FF */
		{"f0 80 80 af", 0},       /* overlong */
		{"f0 8f bf bf", 0},       /* overlong U+FFFF */
		{"ed a0 80", 0},          /* U+D800 */
		{"ed bf bf", 0},          /* U+DFFF */
		{"f4 90 80 80", 0},       /* U+110000 */
		{"f5 80 80 80", 0},
		{"ff", 0},
		{"c2", 0},                /* truncated */
		{"e2 82", 0},
		{"f0 9f 98", 0},
		{"c2 41", 0},             /* continuation missing */
		{"e2 28 a1", 0},
		{"f0 9f 28 80", 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		hex_bytes(&b, cases[i].hex);
		if (ws_utf8_valid(b.data, b.len) != cases[i].valid)
			fail_msg("\"%s\": want %s", cases[i].hex,
				 cases[i].valid ? "valid" : "invalid");
		buf_free(&b);
	}
}

/* ---- messages from the client ---- */

static void test_text(void **state)
{
	(void)state;
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct conn c;
		struct buf in = BUF_INIT;
		conn_open(&c, 0, 0);
		frame_str(&in, 0x81, "hello");
		frame_str(&in, 0x81, "");
		frame_str(&in, 0x81, "你好 👋");
		assert_int_equal(feed(&c, &in, bytewise), 0);
		assert_string_equal(c.texts.data, "hello||你好 👋|");
		assert_int_equal(c.out.len, 0); /* nothing to answer */
		assert_int_equal(c.nclosed, 0);
		buf_free(&in);
		conn_free(&c);
	}
}

/* 7-bit, 16-bit and 64-bit lengths, at their edges. */
static void test_text_lengths(void **state)
{
	static const size_t lens[] = {125, 126, 65535, 65536, 200000};
	(void)state;
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		struct conn c;
		struct buf in = BUF_INIT;
		char *msg = malloc(lens[i]);
		memset(msg, 'a' + (int)i, lens[i]);
		conn_open(&c, 200000, 0);
		frame(&in, 0x81, msg, lens[i]);
		assert_int_equal(feed(&c, &in, 0), 0);
		assert_int_equal(c.ntexts, 1);
		assert_int_equal(c.texts.len, lens[i] + 1);
		assert_memory_equal(c.texts.data, msg, lens[i]);
		free(msg);
		buf_free(&in);
		conn_free(&c);
	}
}

/* Fragments joined; a ping and a pong between them answered or ignored
 * without disturbing the message; a character split across fragments. */
static void test_fragments(void **state)
{
	(void)state;
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct conn c;
		struct buf in = BUF_INIT;
		struct sframe f;
		size_t off = 0;
		conn_open(&c, 0, 0);
		frame_str(&in, 0x01, "frag \xe4\xbd");
		frame_str(&in, 0x89, "are you there");
		frame_str(&in, 0x00, "\xa0 mid ");
		frame_str(&in, 0x8a, "unsolicited pong");
		frame_str(&in, 0x80, "end");
		frame_str(&in, 0x81, "next");
		assert_int_equal(feed(&c, &in, bytewise), 0);
		assert_string_equal(c.texts.data, "frag 你 mid end|next|");
		assert_true(next_frame(&c, &off, &f));
		assert_int_equal(f.b0, 0x8a);
		assert_int_equal(f.len, 13);
		assert_memory_equal(f.p, "are you there", 13);
		assert_false(next_frame(&c, &off, &f));
		assert_int_equal(c.nclosed, 0);
		buf_free(&in);
		conn_free(&c);
	}
}

static void test_ping(void **state)
{
	struct conn c;
	struct buf in = BUF_INIT;
	struct sframe f;
	size_t off = 0;
	uint8_t big[125];
	(void)state;
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)i;
	conn_open(&c, 0, 0);
	frame(&in, 0x89, NULL, 0);
	frame(&in, 0x89, big, sizeof big);
	assert_int_equal(feed(&c, &in, 0), 0);
	assert_true(next_frame(&c, &off, &f));
	assert_int_equal(f.b0, 0x8a);
	assert_int_equal(f.len, 0);
	assert_true(next_frame(&c, &off, &f));
	assert_int_equal(f.b0, 0x8a);
	assert_int_equal(f.len, sizeof big);
	assert_memory_equal(f.p, big, sizeof big);
	assert_false(next_frame(&c, &off, &f));
	assert_int_equal(c.ntexts, 0);
	buf_free(&in);
	conn_free(&c);
}

/* ---- failures: the client's bytes and the close code they earn ---- */

static const struct fail_case {
	const char *name;
	const char *hex;
	int code;
	const char *texts; /* delivered before the failure */
	int whole;         /* only in one piece (see the case) */
} fail_cases[] = {
	{"unmasked text", "81 05 68 65 6c 6c 6f", 1002, ""},
	{"unmasked after a good message",
	 "81 82 00000000 6f 6b 81 02 6e 6f", 1002, "ok|"},
	{"unmasked ping", "89 00", 1002, ""},
	{"RSV1", "c1 80 00000000", 1002, ""},
	{"RSV2", "a1 80 00000000", 1002, ""},
	{"RSV3", "91 80 00000000", 1002, ""},
	{"RSV1 on a ping", "c9 80 00000000", 1002, ""},
	{"opcode 3", "83 80 00000000", 1002, ""},
	{"opcode 7", "87 80 00000000", 1002, ""},
	{"opcode B", "8b 80 00000000", 1002, ""},
	{"opcode F", "8f 80 00000000", 1002, ""},
	{"continuation first", "80 81 00000000 61", 1002, ""},
	{"text inside a fragmented text", "01 81 00000000 61 81 81 00000000 62",
	 1002, ""},
	{"ping of 126 bytes", "89 fe 00 7e 00000000 00*126", 1002, ""},
	{"ping with a 64-bit length", "89 ff 00000000 00010000 00000000", 1002, ""},
	{"fragmented ping", "09 80 00000000", 1002, ""},
	{"fragmented close", "08 80 00000000", 1002, ""},
	{"close with one byte", "88 81 00000000 03", 1002, ""},
	{"close code 999", "88 82 00000000 03 e7", 1002, ""},
	{"close code 1005", "88 82 00000000 03 ed", 1002, ""},
	{"close code 1006", "88 82 00000000 03 ee", 1002, ""},
	{"close code 5000", "88 82 00000000 13 88", 1002, ""},
	{"16-bit length under 126", "81 fe 00 05 00000000 68 65 6c 6c 6f", 1002, ""},
	{"64-bit length under 65536",
	 "81 ff 00000000 00000005 00000000 68 65 6c 6c 6f", 1002, ""},
	{"64-bit length with the top bit", "81 ff 80000000 00000000 00000000 61",
	 1002, ""},
	{"top bit after a good message",
	 "81 82 00000000 6f 6b 81 ff ffffffff ffffffff", 1002, "ok|"},
	{"binary", "82 83 00000000 01 02 03", 1003, ""},
	{"empty binary", "82 80 00000000", 1003, ""},
	{"fragmented binary", "02 81 00000000 01", 1003, ""},
	{"binary after a good message", "81 82 00000000 6f 6b 82 80 00000000",
	 1003, "ok|"},
	{"overlong", "81 82 00000000 c0 af", 1007, ""},
	{"surrogate", "81 83 00000000 ed a0 80", 1007, ""},
	{"past U+10FFFF", "81 84 00000000 f4 90 80 80", 1007, ""},
	{"truncated at the end", "81 82 00000000 e2 82", 1007, ""},
	{"invalid across fragments", "01 81 00000000 e2 80 81 00000000 41", 1007,
	 ""},
	/* wslay checks a close reason per chunk of payload and skips the
	 * first two bytes of each chunk as if they were the code: split
	 * reasons go unchecked (or, split inside a character, are refused
	 * when valid).  Harmless: the connection is closing either way. */
	{"invalid close reason", "88 83 00000000 03 e8 ff", 1007, "", 1},
	{"one byte over (max 64)", "81 c1 00000000 41*65", 1009, ""},
	{"fragments over (max 64)",
	 "01 a0 00000000 41*32 80 a1 00000000 41*33", 1009, ""},
	{"16-bit length over", "81 fe 10 00 00000000 41", 1009, ""},
	{"huge 64-bit length", "81 ff 40000000 00000000 00000000 41", 1009, ""},
	{"largest 64-bit length", "81 ff 7fffffff ffffffff 00000000 41", 1009, ""},
	{"huge length on a continuation",
	 "01 81 00000000 61 80 ff 7fffffff ffffffff 00000000 41", 1009, ""},
};

static void run_fail_case(const struct fail_case *fc, int bytewise)
{
	struct conn c;
	struct buf in = BUF_INIT;
	struct sframe f;
	conn_open(&c, 64, 0);
	hex_bytes(&in, fc->hex);
	/* more after the fault is never read */
	frame_str(&in, 0x81, "ignored");
	if (feed(&c, &in, bytewise) != -1)
		fail_msg("%s: ws_feed did not end the connection", fc->name);
	f = last_frame(&c);
	if (close_code(&f) != fc->code || c.nclosed != 1 || c.code != fc->code)
		fail_msg("%s%s: sent close %d, on_closed %d times with %d; want %d",
			 fc->name, bytewise ? " (byte by byte)" : "", close_code(&f),
			 c.nclosed, c.code, fc->code);
	assert_string_equal(c.texts.data ? c.texts.data : "", fc->texts);
	/* the connection is over: nothing more happens */
	assert_int_equal(ws_feed(c.w, in.data, in.len), -1);
	assert_int_equal(ws_flush(c.w), -1);
	assert_int_equal(ws_send_text(c.w, "x", 1), -1);
	assert_int_equal(c.nclosed, 1);
	buf_free(&in);
	conn_free(&c);
}

static void test_failures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof fail_cases / sizeof fail_cases[0]; i++) {
		run_fail_case(&fail_cases[i], 0);
		if (!fail_cases[i].whole)
			run_fail_case(&fail_cases[i], 1);
	}
}

/* ---- the close handshake ---- */

static void test_client_close(void **state)
{
	struct conn c;
	struct buf in = BUF_INIT;
	struct sframe f;
	size_t off = 0;
	(void)state;
	conn_open(&c, 0, 0);
	frame_str(&in, 0x81, "last words");
	frame(&in, 0x88, "\x03\xe8" "bye", 5);
	frame_str(&in, 0x81, "after the close");
	assert_int_equal(ws_feed(c.w, in.data, in.len), -1);
	assert_int_equal(c.nclosed, 0); /* the answer is not written yet */
	assert_int_equal(ws_feed(c.w, in.data, in.len), -1); /* ignored */
	assert_int_equal(ws_send_text(c.w, "too late", 8), -1);
	assert_int_equal(ws_flush(c.w), -1);
	assert_true(next_frame(&c, &off, &f));
	assert_int_equal(close_code(&f), 1000);
	assert_false(next_frame(&c, &off, &f));
	assert_int_equal(c.nclosed, 1);
	assert_int_equal(c.code, 1000);
	assert_string_equal(c.texts.data, "last words|");
	assert_int_equal(ws_feed(c.w, NULL, 0), -1); /* EOF now: no second call */
	assert_int_equal(c.nclosed, 1);
	buf_free(&in);
	conn_free(&c);
}

static void test_client_close_without_code(void **state)
{
	struct conn c;
	struct buf in = BUF_INIT;
	struct sframe f;
	(void)state;
	conn_open(&c, 0, 0);
	frame(&in, 0x88, NULL, 0);
	assert_int_equal(feed(&c, &in, 1), -1);
	f = last_frame(&c);
	assert_int_equal(f.b0, 0x88);
	assert_int_equal(f.len, 0);
	assert_int_equal(c.nclosed, 1);
	assert_int_equal(c.code, 1005);
	buf_free(&in);
	conn_free(&c);
}

/* ws_close: the messages queued before go first, then the close frame;
 * on_closed waits for the client's answer. */
static void test_server_close(void **state)
{
	struct conn c;
	struct buf in = BUF_INIT;
	struct sframe f;
	size_t off = 0;
	(void)state;
	conn_open(&c, 0, 0);
	assert_int_equal(ws_send_text(c.w, "one", 3), 0);
	assert_int_equal(ws_send_text(c.w, "two", 3), 0);
	ws_close(c.w, 1001, "going away");
	assert_int_equal(ws_send_text(c.w, "three", 5), -1);
	assert_int_equal(ws_send_ping(c.w), -1);
	ws_close(c.w, 1000, NULL); /* already closing: no effect */
	assert_int_equal(ws_flush(c.w), 0);
	assert_true(next_frame(&c, &off, &f));
	assert_int_equal(f.b0, 0x81);
	assert_memory_equal(f.p, "one", 3);
	assert_true(next_frame(&c, &off, &f));
	assert_memory_equal(f.p, "two", 3);
	assert_true(next_frame(&c, &off, &f));
	assert_int_equal(close_code(&f), 1001);
	assert_int_equal(f.len, 12);
	assert_memory_equal(f.p + 2, "going away", 10);
	assert_false(next_frame(&c, &off, &f));
	assert_int_equal(c.nclosed, 0);
	/* the client still talks, then answers; its messages are dropped */
	frame_str(&in, 0x81, "not delivered");
	frame(&in, 0x89, "p", 1);
	assert_int_equal(feed(&c, &in, 0), 0);
	assert_int_equal(c.ntexts, 0);
	assert_int_equal(c.nclosed, 0);
	buf_reset(&in);
	frame(&in, 0x88, "\x03\xe9", 2);
	assert_int_equal(feed(&c, &in, 0), -1);
	assert_int_equal(c.nclosed, 1);
	assert_int_equal(c.code, 1001);
	assert_false(next_frame(&c, &off, &f)); /* no second close frame */
	buf_free(&in);
	conn_free(&c);
}

/* A code that may not be sent becomes 1000; a long reason is cut at a
 * character boundary to fit the 125-byte control payload. */
static void test_server_close_args(void **state)
{
	static const int codes[] = {0, 999, 1004, 1005, 1006, 1015, 2000, 5000};
	char reason[301];
	struct conn c;
	struct sframe f;
	(void)state;
	for (int i = 0; i < 150; i++)
		memcpy(reason + 2 * i, "é", 2);
	reason[300] = '\0';
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		conn_open(&c, 0, 0);
		ws_close(c.w, codes[i], reason);
		assert_int_equal(ws_flush(c.w), 0);
		f = last_frame(&c);
		assert_int_equal(close_code(&f), 1000);
		assert_int_equal(f.len, 2 + 122); /* 61 characters; 123 would split one */
		assert_true(ws_utf8_valid(f.p + 2, f.len - 2));
		conn_free(&c);
	}
	conn_open(&c, 0, 0);
	ws_close(c.w, 4000, NULL);
	assert_int_equal(ws_flush(c.w), 0);
	f = last_frame(&c);
	assert_int_equal(close_code(&f), 4000);
	assert_int_equal(f.len, 2);
	/* the peer vanishes without answering */
	assert_int_equal(ws_feed(c.w, NULL, 0), -1);
	assert_int_equal(c.nclosed, 1);
	assert_int_equal(c.code, 1006);
	conn_free(&c);
}

/* The close handshake crossing: both sides close at once. */
static void test_close_crossing(void **state)
{
	struct conn c;
	struct buf in = BUF_INIT;
	(void)state;
	conn_open(&c, 0, 0);
	ws_close(c.w, 1001, NULL);
	assert_int_equal(ws_flush(c.w), 0);
	frame(&in, 0x88, "\x03\xe8", 2);
	assert_int_equal(feed(&c, &in, 0), -1);
	assert_int_equal(c.nclosed, 1);
	assert_int_equal(c.code, 1001);
	buf_free(&in);
	conn_free(&c);
}

/* ---- sending ---- */

static void test_send(void **state)
{
	static const size_t lens[] = {0, 5, 125, 126, 200, 65535, 65536, 70000};
	struct conn c;
	struct sframe f;
	size_t off = 0;
	(void)state;
	conn_open(&c, 0, 0);
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		char *msg = malloc(lens[i] + 1);
		memset(msg, 'x', lens[i]);
		assert_int_equal(ws_send_text(c.w, msg, lens[i]), 0);
		free(msg);
	}
	assert_int_equal(ws_send_ping(c.w), 0);
	assert_true(ws_queued(c.w) > 0);
	assert_int_equal(ws_flush(c.w), 0);
	assert_int_equal(ws_queued(c.w), 0);
	/* the ping jumps ahead of the text frames (RFC 6455 5.4 allows it) */
	assert_true(next_frame(&c, &off, &f));
	assert_int_equal(f.b0, 0x89);
	assert_int_equal(f.len, 0);
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		assert_true(next_frame(&c, &off, &f));
		assert_int_equal(f.b0, 0x81);
		assert_int_equal(f.len, lens[i]);
	}
	assert_false(next_frame(&c, &off, &f));
	conn_free(&c);
}

/* WS_WRITE_FULL keeps bytes queued; past max_queued the client counts as
 * too slow: -2, then a 1013 close, and nothing more is queued. */
static void test_back_pressure(void **state)
{
	struct conn c;
	struct sframe f;
	size_t off = 0;
	char msg[60];
	(void)state;
	memset(msg, 'm', sizeof msg);
	conn_open(&c, 0, 100);
	c.write_result = WS_WRITE_FULL;
	assert_int_equal(ws_send_text(c.w, msg, sizeof msg), 0);
	assert_int_equal(ws_flush(c.w), 0);
	assert_int_equal(ws_queued(c.w), 60);
	assert_int_equal(ws_send_text(c.w, msg, 40), 0);
	assert_int_equal(ws_queued(c.w), 100);
	assert_int_equal(ws_send_text(c.w, msg, 1), -2);
	assert_int_equal(ws_send_text(c.w, msg, 1), -1);
	assert_int_equal(ws_send_ping(c.w), -1);
	assert_int_equal(ws_flush(c.w), 0);
	assert_int_equal(c.nclosed, 0);
	c.write_result = WS_WRITE_OK; /* the socket drains */
	assert_int_equal(ws_flush(c.w), -1);
	/* the frame already begun is finished; the close overtakes the rest */
	assert_true(next_frame(&c, &off, &f));
	assert_int_equal(f.b0, 0x81);
	assert_int_equal(f.len, 60);
	assert_true(next_frame(&c, &off, &f));
	assert_int_equal(close_code(&f), 1013);
	assert_false(next_frame(&c, &off, &f));
	assert_int_equal(c.nclosed, 1);
	assert_int_equal(c.code, 1013);
	conn_free(&c);
	/* one message larger than the limit goes out when nothing waits */
	conn_open(&c, 0, 10);
	assert_int_equal(ws_send_text(c.w, msg, 50), 0);
	assert_int_equal(ws_flush(c.w), 0);
	off = 0;
	assert_true(next_frame(&c, &off, &f));
	assert_int_equal(f.len, 50);
	assert_int_equal(c.nclosed, 0);
	conn_free(&c);
}

/* ---- the transport ---- */

static void test_write_failure(void **state)
{
	struct conn c;
	(void)state;
	conn_open(&c, 0, 0);
	assert_int_equal(ws_send_text(c.w, "x", 1), 0);
	c.write_result = WS_WRITE_FAILED;
	assert_int_equal(ws_flush(c.w), -1);
	assert_int_equal(c.nclosed, 1);
	assert_int_equal(c.code, 1006);
	assert_int_equal(ws_send_text(c.w, "x", 1), -1);
	assert_int_equal(ws_flush(c.w), -1);
	assert_int_equal(ws_feed(c.w, "\x81", 1), -1);
	ws_close(c.w, 1000, NULL);
	assert_int_equal(c.nclosed, 1);
	conn_free(&c);
}

static void test_eof(void **state)
{
	struct conn c;
	struct buf in = BUF_INIT;
	(void)state;
	conn_open(&c, 0, 0);
	frame_str(&in, 0x81, "half a message");
	assert_int_equal(ws_feed(c.w, in.data, in.len - 3), 0);
	assert_int_equal(ws_feed(c.w, NULL, 0), -1);
	assert_int_equal(c.nclosed, 1);
	assert_int_equal(c.code, 1006);
	assert_int_equal(c.ntexts, 0);
	assert_int_equal(ws_flush(c.w), -1);
	assert_int_equal(c.nclosed, 1);
	assert_int_equal(c.out.len, 0);
	buf_free(&in);
	conn_free(&c);
	/* a connection freed while open: nothing leaks */
	conn_open(&c, 0, 0);
	assert_int_equal(ws_send_text(c.w, "queued", 6), 0);
	hex_bytes(&in, "01 85 00000000 68 65 6c 6c 6f");
	assert_int_equal(ws_feed(c.w, in.data, in.len), 0);
	buf_free(&in);
	conn_free(&c);
	ws_free(NULL);
}

/* ---- calls from inside on_text ---- */

static void test_reentrant(void **state)
{
	struct conn c;
	struct buf in = BUF_INIT;
	struct sframe f;
	size_t off = 0;
	(void)state;
	conn_open(&c, 0, 0);
	c.echo = 1;
	frame_str(&in, 0x81, "one");
	frame_str(&in, 0x81, "two");
	assert_int_equal(ws_feed(c.w, in.data, in.len), 0);
	/* written from inside ws_feed, through on_text's ws_flush */
	assert_true(next_frame(&c, &off, &f));
	assert_memory_equal(f.p, "one", 3);
	assert_true(next_frame(&c, &off, &f));
	assert_memory_equal(f.p, "two", 3);
	conn_free(&c);
	buf_reset(&in);
	/* ws_close from on_text: the rest of the feed is not delivered */
	conn_open(&c, 0, 0);
	c.close_on = 1;
	frame_str(&in, 0x81, "one");
	frame_str(&in, 0x81, "two");
	assert_int_equal(feed(&c, &in, 0), 0);
	assert_string_equal(c.texts.data, "one|");
	f = last_frame(&c);
	assert_int_equal(close_code(&f), 1000);
	buf_free(&in);
	conn_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_key),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_lengths),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_client_close),
		cmocka_unit_test(test_client_close_without_code),
		cmocka_unit_test(test_server_close),
		cmocka_unit_test(test_server_close_args),
		cmocka_unit_test(test_close_crossing),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_back_pressure),
		cmocka_unit_test(test_write_failure),
		cmocka_unit_test(test_eof),
		cmocka_unit_test(test_reentrant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
