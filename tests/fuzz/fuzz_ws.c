/*
 * fuzz_ws.c -- libFuzzer target for the WebSocket engine (src/http/ws.c)
 * without sockets.  The first input byte is the mode: its low three bits
 * choose the piece size (1 << n bytes) the rest is fed to ws_feed in, bit 3
 * alternates that size with single bytes, bit 4 makes the server send a
 * message after every piece, bit 5 makes every third write refuse
 * (WS_WRITE_FULL, back-pressure), bit 6 closes from the server side halfway
 * and bit 7 echoes every message back (calls from inside on_text).  Limits
 * are small so 1009 and 1013 are reached.
 *
 * Checks: every message handed on is valid UTF-8 and within max_message;
 * on_closed comes at most once, with a plausible code, and nothing is
 * written after it.  Must not crash, leak or hang.
 */
#include <stdint.h>
#include <stdlib.h>

#include "http/ws.h"

#define MAX_MESSAGE 1024
#define MAX_QUEUED 4096

struct fz {
	struct ws *w;
	uint8_t mode;
	unsigned writes;
	int refuse; /* bit 5 in force (lifted at the end to drain) */
	int closed;
};

static int fz_write(void *ud, const void *data, size_t len)
{
	struct fz *f = ud;
	(void)data;
	if (f->closed || len == 0)
		abort();
	if (f->refuse && ++f->writes % 3 == 0)
		return WS_WRITE_FULL;
	return WS_WRITE_OK;
}

static void fz_text(void *ud, const char *msg, size_t len)
{
	struct fz *f = ud;
	if (f->closed || len > MAX_MESSAGE || !ws_utf8_valid(msg, len))
		abort();
	if (f->mode & 0x80) {
		ws_send_text(f->w, msg, len);
		ws_flush(f->w);
	}
}

static void fz_closed(void *ud, int code)
{
	struct fz *f = ud;
	if (f->closed++ || code < 1000 || code > 4999)
		abort();
}

static const struct ws_handler handler = {fz_text, fz_write, fz_closed};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ws_limits lim = {MAX_MESSAGE, MAX_QUEUED};
	struct fz f = {0};
	size_t off = 1, step, piece = 0;
	if (size < 1)
		return 0;
	f.mode = data[0];
	f.refuse = (f.mode & 0x20) != 0;
	step = (size_t)1 << (f.mode & 0x07);
	f.w = ws_new(&lim, &handler, &f);
	while (off < size) {
		size_t n = (f.mode & 0x08) && piece++ % 2 ? 1 : step;
		if (n > size - off)
			n = size - off;
		int r = ws_feed(f.w, data + off, n);
		off += n;
		if (f.mode & 0x10)
			ws_send_text(f.w, "状态 ok", 9);
		if ((f.mode & 0x40) && off * 2 >= size)
			ws_close(f.w, 1001, "going away");
		if (ws_flush(f.w) < 0 || r < 0)
			break;
	}
	ws_send_ping(f.w);
	f.refuse = 0;
	ws_flush(f.w);
	ws_feed(f.w, NULL, 0);
	if (f.closed != 1 || ws_flush(f.w) != -1)
		abort();
	ws_free(f.w);
	return 0;
}
