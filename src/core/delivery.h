/*
 * delivery.h -- the delivery worker: sends what the outbox holds.
 *
 * Owns: the background thread that claims due outbox items, POSTs them with
 * libcurl, signs them, and records each attempt's outcome with retries,
 * exponential backoff with jitter and a final failure.  A reply on an
 * e-mail channel is not POSTed: it goes to the mailbox's SMTP server
 * (core/mail_send), the SMTP answer code standing in for the HTTP status;
 * a 5xx answer fails it at once (retrying cannot change it).  It does not decide
 * what is sent (core/webhook, the channel drivers) nor own the queue
 * (core/outbox).
 *
 * One thread per process, with its own database connection, drives up to
 * DELIVERY_MAX_INFLIGHT transfers at once through libcurl's multi interface,
 * so one slow receiver does not hold up the others.  Several nodes may run
 * it against one database: items are leased (see outbox.h).
 *
 * Every request: POST <url>, body = the item's payload, headers
 *   Content-Type: application/json
 *   User-Agent: Kefu/<version>
 *   X-Kefu-Event: <payload's "event", or the item's kind>
 *   X-Kefu-Delivery: <outbox id>   (the same on every retry: dedupe on it)
 *   X-Kefu-Timestamp: <unix seconds when this attempt was sent>
 *   X-Kefu-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
 * keyed with the webhook's secret (kind "webhook") or the secret of the
 * channel the message belongs to (kind "channel_reply"; no signature header
 * when that channel has no secret).  A 2xx answer delivers the item;
 * anything else (other status, timeout, connection error) is retried after
 * backoff(n) = min(cap, base * 2^(n-1)), of which a random half is taken
 * off (jitter), until max_attempts, then the item is failed.  Redirects are
 * not followed; only http and https are spoken.
 *
 * Waking up: the worker sleeps until the earliest pending item is due, at
 * most poll_ms (1 s by default) -- that interval is what finds work queued
 * by other nodes and leases left behind by a killed process.  delivery_kick
 * wakes it at once; the server calls it after a request that queued work has
 * committed (see outbox_take_wakeup), so a reply usually leaves within
 * milliseconds.
 *
 * Stopping: delivery_stop stops claiming, lets the transfers in flight
 * finish (each is bounded by the timeout) and records them, then joins.  A
 * killed process leaves its items leased; they are claimed again when the
 * lease expires -- which is why the lease must outlast the timeout.
 */
#ifndef KEFU_CORE_DELIVERY_H
#define KEFU_CORE_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

#define DELIVERY_MAX_INFLIGHT 16

struct delivery_config {
	const char *database;     /* URL for the worker's own connection */
	const char *blob_root;    /* <data>/blobs: attachments of reply mail */
	int64_t timeout_ms;       /* whole request, connect included */
	int64_t lease_ms;         /* must be longer than timeout_ms */
	int64_t backoff_ms;       /* base delay before the first retry */
	int64_t backoff_max_ms;   /* cap; 0: 6 hours */
	int max_attempts;         /* then the item is failed */
	int64_t poll_ms;          /* longest sleep; 0: 1000 */
};

/* Start the worker thread (once per process).  The configuration is
 * copied.  Returns 0, or -1 with e filled when a setting is out of range or
 * the thread cannot start.  The database need not be reachable yet: the
 * worker keeps trying. */
int delivery_start(const struct delivery_config *cfg, struct err *e);
/* Stop and join the worker (see above); a no-op when it is not running. */
void delivery_stop(void);
/* Wake the worker now (any thread; a no-op when it is not running). */
void delivery_kick(void);

/* ---- pure pieces, exposed for tests ---- */

/* Delay before attempt n+1 after attempt n (n >= 1) failed, jitter
 * included: in [d/2, d] for d = min(cap, base * 2^(n-1)). */
int64_t delivery_backoff(const struct delivery_config *cfg, int64_t attempt);
/* "sha256=<64 hex>" over "<ts>.<body>" keyed with secret, into out. */
void delivery_sign(const char *secret, int64_t ts, const char *body,
		   size_t len, char out[72]);

#endif
