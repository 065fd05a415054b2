/*
 * ws.c -- see ws.h.
 *
 * wslay (event API, server context) does the framing: it unmasks, refuses
 * unmasked client frames, reserved bits and opcodes, joins fragments while
 * letting control frames through between them, answers pings, echoes a
 * close, checks the message size before buffering a frame (so a 64-bit
 * length never becomes a huge allocation) and checks UTF-8.  Around it this
 * file adds:
 *   - a frame-header scanner over the client's bytes (struct ws_scan): for
 *     a few header faults (a control frame over 125 bytes or fragmented, a
 *     length not in its shortest form or with the top bit set) wslay queues
 *     a close frame with no code at all; we see them first and fail with
 *     1002 as RFC 6455 7.4.1 expects.  A one-byte close payload (no room for
 *     a code, 5.5.1) is refused there too; wslay would take it as "no code";
 *   - binary messages refused (1003) as soon as such a frame starts;
 *   - our own strict UTF-8 check of every text message before it is handed
 *     on, so the guarantee does not rest on how wslay was built;
 *   - the bounded send queue (1013), a clean close that waits for the
 *     messages queued before it (wslay would send a close frame ahead of
 *     them), and one on_closed for every way a connection ends;
 *   - Sec-WebSocket-Accept, with a small SHA-1 (no linked library offers
 *     one; SHA-1 is what RFC 6455 4.2.2 prescribes, it protects nothing).
 */
#include "ws.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wslay/wslay.h>

#include "../util/buf.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_REASON_MAX 123 /* 125-byte control payload minus the code */

/* Frame boundaries in the client's byte stream, tracked beside wslay. */
struct ws_scan {
	uint8_t hdr[10]; /* the two fixed bytes and the extended length */
	uint8_t got;     /* header bytes seen of the current frame */
	uint64_t skip;   /* mask key and payload bytes still to pass over */
};

struct ws {
	wslay_event_context_ptr ctx;
	struct ws_limits lim;
	struct ws_handler h;
	void *ud;
	const uint8_t *in; /* the rest of the ws_feed bytes wslay has not read */
	size_t in_len;
	struct ws_scan scan;
	bool started; /* this side began the close (ws_close or a failure) */
	bool closed;  /* on_closed has been called */
	/* ws_close's frame, waiting until the queue before it is written */
	int close_code;
	size_t close_len;
	char close_reason[WS_REASON_MAX];
};

/* ---- Sec-WebSocket-Accept ---- */

static uint32_t rol32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		uint32_t t = rol32(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol32(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

/* FIPS 180-4 SHA-1 of a short message (len < 2^29). */
static void sha1(const uint8_t *msg, size_t len, uint8_t out[20])
{
	uint32_t h[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
	uint8_t tail[128] = {0};
	size_t full = len / 64 * 64, rest = len - full;
	for (size_t off = 0; off < full; off += 64)
		sha1_block(h, msg + off);
	memcpy(tail, msg + full, rest);
	tail[rest] = 0x80;
	size_t tlen = rest + 9 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	for (size_t off = 0; off < tlen; off += 64)
		sha1_block(h, tail + off);
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
}

int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN])
{
	uint8_t nonce[16], digest[20];
	char cat[24 + sizeof WS_GUID];
	size_t n;
	const char *end;
	if (!key || strlen(key) != 24 ||
	    sodium_base642bin(nonce, sizeof nonce, key, 24, NULL, &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != sizeof nonce || end != key + 24)
		return -1;
	memcpy(cat, key, 24);
	memcpy(cat + 24, WS_GUID, sizeof WS_GUID);
	sha1((const uint8_t *)cat, 24 + sizeof WS_GUID - 1, digest);
	sodium_bin2base64(out, WS_ACCEPT_LEN, digest, sizeof digest,
			  sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

/* ---- UTF-8 ---- */

int ws_utf8_valid(const void *s, size_t len)
{
	const uint8_t *p = s;
	size_t i = 0;
	while (i < len) {
		uint8_t c = p[i], lo = 0x80, hi = 0xbf;
		size_t k;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return 0; /* continuation byte, overlong lead, past U+10FFFF */
		/* the second byte's range rules out overlongs (E0, F0),
		 * surrogates (ED) and code points past U+10FFFF (F4) */
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (len - i <= k || p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (size_t j = 2; j <= k; j++)
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

/* ---- the frame-header scanner ---- */

static size_t scan_need(const uint8_t *hdr)
{
	uint8_t l = hdr[1] & 0x7f;
	return 2 + (l == 126 ? 2 : l == 127 ? 8 : 0);
}

/* RFC 6455 5.5: control frames are final and carry at most 125 bytes;
 * 5.5.1: a close payload is empty or starts with a 2-byte code. */
static bool scan_fixed_ok(const uint8_t *hdr)
{
	unsigned fin = hdr[0] >> 7, op = hdr[0] & 0x0f, l = hdr[1] & 0x7f;
	if ((op & 0x08) && (!fin || l > 125))
		return false;
	return !(op == WSLAY_CONNECTION_CLOSE && l == 1);
}

/* RFC 6455 5.2: the shortest length form, and no top bit in 64 bits. */
static bool scan_length(const uint8_t *hdr, uint64_t *len)
{
	uint8_t l = hdr[1] & 0x7f;
	uint64_t n = 0;
	if (l < 126) {
		*len = l;
		return true;
	}
	for (size_t i = 2; i < scan_need(hdr); i++)
		n = n << 8 | hdr[i];
	*len = n;
	return l == 126 ? n >= 126 : n >= 65536 && !(n >> 63);
}

/* One header byte; false when it completes a header wslay would refuse
 * without a close code. */
static bool scan_byte(struct ws_scan *s, uint8_t b)
{
	uint64_t len;
	s->hdr[s->got++] = b;
	if (s->got == 2 && !scan_fixed_ok(s->hdr))
		return false;
	if (s->got < 2 || s->got < scan_need(s->hdr))
		return true;
	if (!scan_length(s->hdr, &len))
		return false;
	s->skip = len + ((s->hdr[1] & 0x80) ? 4 : 0);
	s->got = 0;
	return true;
}

/* How many of p[0..n) wslay may see: n, or fewer when a bad header ends
 * inside them (then *bad), so that wslay never completes that header. */
static size_t scan_feed(struct ws_scan *s, const uint8_t *p, size_t n, bool *bad)
{
	size_t i = 0;
	*bad = false;
	while (i < n) {
		if (s->skip) {
			size_t k = s->skip < n - i ? (size_t)s->skip : n - i;
			i += k;
			s->skip -= k;
		} else if (!scan_byte(s, p[i++])) {
			*bad = true;
			return i - 1;
		}
	}
	return n;
}

/* ---- ending ---- */

/* The code on_closed reports once both close frames, or ours alone when
 * failing, have gone (see ws.h). */
static int ws_code(struct ws *w)
{
	if (w->started || !wslay_event_get_close_received(w->ctx))
		return wslay_event_get_status_code_sent(w->ctx);
	return wslay_event_get_status_code_received(w->ctx);
}

static void ws_finish(struct ws *w, int code)
{
	if (w->closed)
		return;
	w->closed = true;
	wslay_event_shutdown_read(w->ctx);
	wslay_event_shutdown_write(w->ctx);
	w->h.on_closed(w->ud, code);
}

/* Closing: no more messages in either direction. */
static bool ws_closing(struct ws *w)
{
	return w->closed || w->started || !wslay_event_get_read_enabled(w->ctx);
}

/* Fail the connection (RFC 6455 7.1.7): the close frame goes out ahead
 * of anything queued, nothing more is read, and on_closed follows as soon
 * as the frame is written, without waiting for the peer's answer. */
static void ws_fail(struct ws *w, int code, const char *reason)
{
	w->started = true;
	w->close_code = 0;
	/* NO_MORE_MSG: a close is already on its way; NOMEM: ws_flush then
	 * finds nothing to write and ends the connection with 1006 */
	wslay_event_queue_close(w->ctx, (uint16_t)code, (const uint8_t *)reason,
				reason ? strlen(reason) : 0);
	wslay_event_shutdown_read(w->ctx);
}

/* ---- wslay callbacks ---- */

static ssize_t ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
			  int flags, void *ud)
{
	struct ws *w = ud;
	(void)flags;
	if (w->in_len == 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (len > w->in_len)
		len = w->in_len;
	memcpy(buf, w->in, len);
	w->in += len;
	w->in_len -= len;
	return (ssize_t)len;
}

static ssize_t ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data,
			  size_t len, int flags, void *ud)
{
	struct ws *w = ud;
	int r = w->h.write(w->ud, data, len);
	(void)flags;
	if (r == WS_WRITE_OK)
		return (ssize_t)len;
	wslay_event_set_error(ctx, r == WS_WRITE_FULL ? WSLAY_ERR_WOULDBLOCK
						       : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

/* Refuse binary at its first frame rather than after buffering it all. */
static void ws_frame_start_cb(wslay_event_context_ptr ctx,
			      const struct wslay_event_on_frame_recv_start_arg *arg,
			      void *ud)
{
	(void)ctx;
	if (arg->opcode == WSLAY_BINARY_FRAME && !ws_closing(ud))
		ws_fail(ud, WSLAY_CODE_UNSUPPORTED_DATA, "text messages only");
}

static void ws_msg_cb(wslay_event_context_ptr ctx,
		      const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
	struct ws *w = ud;
	(void)ctx;
	/* pings, pongs and closes are wslay's; a binary message has already
	 * failed the connection */
	if (arg->opcode != WSLAY_TEXT_FRAME || ws_closing(w))
		return;
	if (!ws_utf8_valid(arg->msg, arg->msg_length)) {
		ws_fail(w, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "invalid UTF-8");
		return;
	}
	w->h.on_text(w->ud, (const char *)arg->msg, arg->msg_length);
}

/* ---- the connection ---- */

struct ws *ws_new(const struct ws_limits *lim, const struct ws_handler *h,
		  void *ud)
{
	static const struct wslay_event_callbacks cb = {
		.recv_callback = ws_recv_cb,
		.send_callback = ws_send_cb,
		.on_frame_recv_start_callback = ws_frame_start_cb,
		.on_msg_recv_callback = ws_msg_cb,
	};
	struct ws *w = xcalloc(1, sizeof *w);
	w->lim.max_message = lim && lim->max_message ? lim->max_message
						     : WS_DEFAULT_MAX_MESSAGE;
	w->lim.max_queued = lim && lim->max_queued ? lim->max_queued
						   : WS_DEFAULT_MAX_QUEUED;
	w->h = *h;
	w->ud = ud;
	if (wslay_event_context_server_init(&w->ctx, &cb, w) != 0)
		abort(); /* only WSLAY_ERR_NOMEM: fatal, as in xmalloc */
	wslay_event_config_set_max_recv_msg_length(w->ctx, w->lim.max_message);
	return w;
}

void ws_free(struct ws *w)
{
	if (!w)
		return;
	wslay_event_context_free(w->ctx);
	free(w);
}

int ws_feed(struct ws *w, const void *data, size_t len)
{
	bool bad;
	if (w->closed)
		return -1;
	if (len == 0) {
		ws_finish(w, wslay_event_get_close_received(w->ctx) ? ws_code(w)
								    : WSLAY_CODE_ABNORMAL_CLOSURE);
		return -1;
	}
	if (!wslay_event_get_read_enabled(w->ctx))
		return -1; /* closing: whatever follows the end is ignored */
	w->in = data;
	w->in_len = scan_feed(&w->scan, data, len, &bad);
	wslay_event_set_error(w->ctx, 0);
	/* a failure here (out of memory; a header fault the scanner missed)
	 * has queued a close frame and stopped reading, like any other */
	if (wslay_event_recv(w->ctx) != 0)
		wslay_event_shutdown_read(w->ctx);
	else if (bad && wslay_event_get_read_enabled(w->ctx))
		ws_fail(w, WSLAY_CODE_PROTOCOL_ERROR, NULL);
	w->in = NULL;
	w->in_len = 0;
	return w->closed || !wslay_event_get_read_enabled(w->ctx) ? -1 : 0;
}

int ws_send_text(struct ws *w, const char *data, size_t len)
{
	struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)data, len};
	size_t q;
	if (ws_closing(w))
		return -1;
	/* Too slow is judged by what already waits, not by the size of what
	 * comes: one large event (a long message) must reach a client that
	 * reads, so the bound is max_queued plus one message. */
	q = wslay_event_get_queued_msg_length(w->ctx);
	if (q >= w->lim.max_queued) {
		ws_fail(w, 1013, "client too slow");
		return -2;
	}
	return wslay_event_queue_msg(w->ctx, &m) == 0 ? 0 : -1;
}

int ws_send_ping(struct ws *w)
{
	struct wslay_event_msg m = {WSLAY_PING, NULL, 0};
	if (ws_closing(w))
		return -1;
	return wslay_event_queue_msg(w->ctx, &m) == 0 ? 0 : -1;
}

/* RFC 6455 7.4.1 and the IANA registry: codes an endpoint may send. */
static bool code_sendable(int code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

/* len cut back to at most max without splitting a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

void ws_close(struct ws *w, int code, const char *reason)
{
	if (ws_closing(w))
		return;
	w->started = true;
	w->close_code = code_sendable(code) ? code : WSLAY_CODE_NORMAL_CLOSURE;
	w->close_len = reason ? utf8_cut(reason, strlen(reason), WS_REASON_MAX) : 0;
	if (w->close_len)
		memcpy(w->close_reason, reason, w->close_len);
}

/* wslay_event_send, ending the connection (1006) if the write failed. */
static int ws_send_queued(struct ws *w)
{
	wslay_event_set_error(w->ctx, 0);
	if (wslay_event_send(w->ctx) == 0)
		return 0;
	ws_finish(w, WSLAY_CODE_ABNORMAL_CLOSURE);
	return -1;
}

int ws_flush(struct ws *w)
{
	if (w->closed || ws_send_queued(w) != 0)
		return -1;
	/* ws_close's frame once everything queued before it is out */
	if (w->close_code && wslay_event_get_queued_msg_count(w->ctx) == 0) {
		wslay_event_queue_close(w->ctx, (uint16_t)w->close_code,
					(const uint8_t *)w->close_reason, w->close_len);
		w->close_code = 0;
		if (ws_send_queued(w) != 0)
			return -1;
	}
	/* over: nothing more to read (a close came, or we are failing) and
	 * nothing more to write (our close frame is out, or none could be
	 * queued) */
	if (!wslay_event_get_read_enabled(w->ctx) && !wslay_event_want_write(w->ctx)) {
		ws_finish(w, ws_code(w));
		return -1;
	}
	return 0;
}

size_t ws_queued(const struct ws *w)
{
	return wslay_event_get_queued_msg_length(w->ctx);
}
