/*
 * ws.h -- one WebSocket connection's protocol (RFC 6455, server side) over
 * wslay, without sockets.
 *
 * Owns: the Sec-WebSocket-Accept computation, and for one upgraded
 * connection the framing both ways: unmasking and reassembling the client's
 * messages (fragments, interleaved control frames, strict UTF-8), answering
 * pings, the close handshake, failing the connection with the right close
 * code (1002 protocol, 1003 binary, 1007 bad UTF-8, 1009 too big, 1013 too
 * slow), and the bounded queue of outgoing text messages.
 *
 * It does not own the socket, the HTTP upgrade request, timers or what a
 * message means: the server feeds received bytes in (ws_feed), takes bytes
 * out through the write callback (ws_flush) and puts deadlines on idle
 * connections and unanswered closes itself.  Loop thread only; nothing here
 * locks.
 *
 * Calling pattern for the server:
 *   - after the 101 response: ws_new;
 *   - bytes read: ws_feed, then ws_flush (pongs and close answers are only
 *     queued by ws_feed); EOF or read error: ws_feed(w, NULL, 0);
 *   - after any ws_send_text / ws_send_ping / ws_close (one ws_flush per
 *     batch is enough), and whenever the socket has drained: ws_flush;
 *   - on_closed: stop reading, finish sending what write has already taken
 *     (the close frame is among it), then close the socket; ws_free later
 *     (e.g. from uv_close's callback), never from inside a callback of this
 *     module.
 * Callbacks run only inside ws_feed (on_text; on_closed at EOF) and
 * ws_flush (write, on_closed); ws_send_text, ws_send_ping and ws_close only
 * queue.  From inside on_text the handler may call ws_send_text,
 * ws_send_ping, ws_close and ws_flush, but not ws_free.
 */
#ifndef KEFU_HTTP_WS_H
#define KEFU_HTTP_WS_H

#include <stddef.h>

#define WS_ACCEPT_LEN 29 /* 28 base64 characters + NUL */

#define WS_DEFAULT_MAX_MESSAGE (64 * 1024)
#define WS_DEFAULT_MAX_QUEUED (1024 * 1024)

/* What h->write returns. */
#define WS_WRITE_OK 0      /* every byte taken */
#define WS_WRITE_FULL 1    /* none taken: call ws_flush again once drained */
#define WS_WRITE_FAILED -1 /* the transport is gone */

struct ws;

struct ws_limits {
	/* Largest message accepted from the client (bytes, after
	 * reassembly); over it: close 1009.  0: WS_DEFAULT_MAX_MESSAGE. */
	size_t max_message;
	/* Payload bytes waiting to be handed to write at which the peer counts
	 * as too slow (see ws_send_text).  0: WS_DEFAULT_MAX_QUEUED. */
	size_t max_queued;
};

struct ws_handler {
	/* A complete text message from the client: valid UTF-8, fragments
	 * joined.  msg is only valid during the call.  Not called any more
	 * once this side has begun to close. */
	void (*on_text)(void *ud, const char *msg, size_t len);
	/* Bytes to write to the socket, in order (a frame may come in several
	 * calls: header, then payload).  Return WS_WRITE_OK when all len
	 * bytes were taken, WS_WRITE_FULL when none were (they are offered
	 * again by the next ws_flush: back-pressure), WS_WRITE_FAILED when
	 * the transport failed.  Only return WS_WRITE_FULL while earlier
	 * bytes are still on their way out, so that a later ws_flush comes;
	 * a server that always returns WS_WRITE_OK gets no back-pressure
	 * from this module (ws_queued stays 0 after each ws_flush). */
	int (*write)(void *ud, const void *data, size_t len);
	/* The connection is over: close it now.  Called at most once, from
	 * ws_feed or ws_flush.  code: the close code this side sent when it
	 * began the close (ws_close, a protocol failure, 1013), else the one
	 * the peer sent (1005 if its close frame had none); 1006 when the
	 * transport failed or the peer went away without a close frame. */
	void (*on_closed)(void *ud, int code);
};

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: out gets 28
 * characters + NUL.  Returns -1 when key is not the base64 form (24
 * characters) of a 16-byte nonce. */
int ws_accept_key(const char *key, char out[WS_ACCEPT_LEN]);

/* Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF).  1 if s[0..len) is valid, else 0.  The check ws_feed applies
 * to text messages; exported for tests and for callers of ws_send_text. */
int ws_utf8_valid(const void *s, size_t len);

/* A connection right after the 101 response.  lim may be NULL (defaults);
 * h is copied; ud is passed to every callback.  Free with ws_free.  Aborts
 * on out-of-memory, like the rest of Kefu. */
struct ws *ws_new(const struct ws_limits *lim, const struct ws_handler *h,
		  void *ud);
/* Frees w and everything queued.  Never from inside a callback of w.
 * NULL is fine.  Does not call on_closed. */
void ws_free(struct ws *w);

/* Bytes read from the socket (they are not kept after the call).  len 0
 * means the peer closed its side (EOF) or the read failed: on_closed is
 * called now if it has not been.  Returns 0, or -1 when the connection is
 * ending: stop reading, call ws_flush (it writes the closing frame, if any,
 * and calls on_closed when done).  Writes nothing itself (on_text may call
 * ws_flush). */
int ws_feed(struct ws *w, const void *data, size_t len);

/* Queue a text message; data must be valid UTF-8 (the caller guarantees
 * it) and is copied.  Returns 0; -1 when closing or closed (the message is
 * dropped); -2 when max_queued bytes or more already wait (a message of any
 * size is taken while less waits): the message is
 * dropped and the module starts failing the connection with 1013 ("client
 * too slow"): the close frame goes before anything still queued, further
 * sends return -1, on_closed follows from ws_flush once it is written. */
int ws_send_text(struct ws *w, const char *data, size_t len);

/* Queue a ping with no payload (the server's liveness probe; any bytes
 * the client sends, pong included, prove it alive).  0, or -1 when closing
 * or closed. */
int ws_send_ping(struct ws *w);

/* Begin a clean close: the close frame (code, reason cut to 123 bytes at a
 * UTF-8 boundary) is written after the messages already queued; on_closed
 * comes when the peer answers with its own close frame (the server puts a
 * deadline on that).  A code that may not be sent (not 1000-1003,
 * 1007-1014 or 3000-4999) becomes 1000.  Nothing happens when already
 * closing or closed.  reason may be NULL. */
void ws_close(struct ws *w, int code, const char *reason);

/* Write what is queued through h->write, until everything is out or write
 * says WS_WRITE_FULL.  Calls on_closed when the connection is over (or
 * when write fails, with 1006).  Returns 0, or -1 when the connection is
 * over (on_closed has been called, now or before). */
int ws_flush(struct ws *w);

/* Payload bytes queued and not yet completely handed to write (control
 * frames included), for back-pressure metrics. */
size_t ws_queued(const struct ws *w);

#endif
