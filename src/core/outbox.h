/*
 * outbox.h -- outbound work, written in the same transaction as its cause.
 *
 * Owns: the outbox and outbox_attempts tables: queueing an item (a channel
 * reply, a webhook event) inside the caller's transaction, the lease by
 * which a delivery worker claims due items (safe with several nodes on one
 * database), recording the outcome of each attempt, the delivery log the
 * API shows, and re-queueing a failed item.  It does not send anything:
 * core/delivery does the HTTP and decides when to retry.
 *
 * An item's life: pending -> (claimed: locked_until in the future) ->
 * delivered, or back to pending with a later next_attempt_at, or failed.
 * Each claim bumps `claims`, and the outcome is only written while `claims`
 * still has the value the claim returned: a worker whose lease ran out (it
 * hung, or its node was killed) cannot overwrite the result of the worker
 * that took the item over.  An item whose worker died is claimed again once
 * its lease has expired, so nothing is lost; a delivered item is never
 * claimed again.
 */
#ifndef KEFU_CORE_OUTBOX_H
#define KEFU_CORE_OUTBOX_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

/* Kinds of item; ref_id is a messages.id or a webhooks.id. */
#define OUTBOX_CHANNEL_REPLY "channel_reply"
#define OUTBOX_WEBHOOK "webhook"
/* A chat reply e-mailed to a visitor who has not read it in the chat
 * (core/chat_mail); ref_id is the message, the payload core/mail_out's
 * document naming the mailbox that sends it. */
#define OUTBOX_CHAT_EMAIL "chat_email"

/* Queue one item: POST payload_json (a JSON document, sent as is) to url.
 * Must run inside the caller's transaction (refused otherwise), so the
 * reply or event and its delivery are committed -- or undone -- together.
 * The item is due at once.  *id receives the item's id, which receivers see
 * as X-Kefu-Delivery.  Marks the calling thread as having queued work (see
 * outbox_take_wakeup). */
int outbox_enqueue(const struct scope *s, const char *kind, int64_t ref_id,
		   const char *url, const char *payload_json, int64_t *id,
		   struct err *e);
/* As outbox_enqueue, due at due_ms instead of at once. */
int outbox_enqueue_at(const struct scope *s, const char *kind, int64_t ref_id,
		      const char *url, const char *payload_json, int64_t due_ms,
		      int64_t *id, struct err *e);
/* Replace the payload of a pending item queued in this transaction (the
 * webhook envelope carries its own delivery id, known only after the
 * insert). */
int outbox_payload_set(const struct scope *s, int64_t id,
		       const char *payload_json, struct err *e);

/* 1 when this thread queued or re-queued work since the last call (then
 * cleared), else 0.  The server calls it after a request's transaction has
 * ended, to wake the delivery worker (delivery_kick) only when needed. */
int outbox_take_wakeup(void);

/* ---- the delivery log (API) ---- */

/* One item as JSON: {id, kind, ref_id, event, url, status, next_attempt_at,
 * last_status, last_error, created_at, delivered_at, payload, attempts:
 * [{attempt, http_status, error, duration_ms, created_at}] newest first}.
 * Only an item of this kind and ref_id is found (404 otherwise). */
json_t *outbox_get(const struct scope *s, const char *kind, int64_t ref_id,
		   int64_t id, struct err *e);
/* Items of kind/ref_id newest first, with id below `before` (0: newest), at
 * most limit; appended to items; *next = cursor for the next page or 0. */
int outbox_list(const struct scope *s, const char *kind, int64_t ref_id,
		int64_t before, int limit, json_t *items, int64_t *next,
		struct err *e);
/* Put a failed item back in the queue for a new round of attempts, due
 * now.  404 when there is no such item, 409 when it is not failed. */
int outbox_retry(const struct scope *s, const char *kind, int64_t ref_id,
		 int64_t id, struct err *e);
/* Remove every item of kind/ref_id (a webhook being deleted). */
int outbox_forget(const struct scope *s, const char *kind, int64_t ref_id,
		  struct err *e);

/* ---- the worker's side (core/delivery; not account-scoped) ---- */

/* A claimed item.  Strings are owned by the item (outbox_item_free). */
struct outbox_item {
	int64_t id, account_id, ref_id;
	int64_t attempt; /* this attempt's number, from 1 */
	int64_t claim;   /* fencing token: the claims value of this lease */
	char kind[32];
	char event[64]; /* payload's "event", or the kind; header-safe */
	char *url;
	char *payload;
	char *secret; /* signing key; NULL: send unsigned */
	/* channel_reply: the message's channel as it is now (type, config
	 * JSON), so a reply mail goes out with the current SMTP settings. */
	char *channel_type, *channel_config;
	/* chat_email: the visitor read the message in the chat meanwhile:
	 * nothing is sent, the item is done. */
	int already_read;
	int gone;     /* the webhook (chat_email: the mailbox) no longer exists */
};

/* Lease up to max due items (pending, next_attempt_at <= now, lease
 * expired) until now + lease_ms, in one UPDATE ... RETURNING.  Two nodes
 * claiming at once never get the same item: each row's lease condition is
 * re-checked under its row lock (PostgreSQL) or the single writer lock
 * (SQLite).  *items is a malloc'd array of *n items (free each with
 * outbox_item_free, then the array).  Returns 0 or -1. */
int outbox_claim(struct db *db, int64_t now, int64_t lease_ms, int max,
		 struct outbox_item **items, int *n, struct err *e);
void outbox_item_free(struct outbox_item *it);

enum outbox_outcome { OUTBOX_DELIVERED, OUTBOX_RETRY, OUTBOX_FAILED };

struct outbox_result {
	enum outbox_outcome outcome;
	int64_t next_attempt_at; /* for OUTBOX_RETRY */
	int http_status;         /* 0: no HTTP response */
	const char *error;       /* NULL on success */
	int64_t duration_ms;
	int64_t now;
};

/* Record one attempt and the item's new state in one transaction; for a
 * channel reply also the message's delivery_status ('sent', 'failed') and
 * delivery_error.  Returns 1 recorded, 0 when the lease had been lost (the
 * item was taken over or deleted: nothing written), -1 on error. */
int outbox_complete(struct db *db, const struct outbox_item *it,
		    const struct outbox_result *r, struct err *e);

/* The earliest next_attempt_at of a pending, unleased item; 0 when none.
 * Returns 0 or -1. */
int outbox_next_due(struct db *db, int64_t now, int64_t *due, struct err *e);

#endif
