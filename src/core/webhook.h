/*
 * webhook.h -- outgoing webhooks: an account's subscriptions to events.
 *
 * Owns: the webhooks table (url, subscribed events, signing secret, active
 * flag), the one list of event names Kefu emits, and turning an event into
 * one outbox item per subscribed webhook (webhook_emit).  Sending, signing
 * and retrying are core/delivery's; the queue is core/outbox's.
 *
 * What a receiver gets (body = the outbox payload, sent byte for byte):
 *   {"event": "ticket.created", "delivery_id": 42, "account_id": 1,
 *    "created_at": "2026-01-31T08:15:00.123Z", "data": {...}}
 * with the headers described in delivery.h; X-Kefu-Signature is the
 * HMAC-SHA256 of "<timestamp>.<body>" keyed with the webhook's secret.
 */
#ifndef KEFU_CORE_WEBHOOK_H
#define KEFU_CORE_WEBHOOK_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

/* Every event Kefu emits; a webhook subscribes to some of them or to "*".
 * Emitting a name not listed here is refused, so this list stays complete. */
#define WEBHOOK_EVENTS(X)   \
	X("ticket.created")  \
	X("ticket.updated")  \
	X("message.created") \
	X("customer.created") \
	X("customer.updated")

/* 1 when name is one of WEBHOOK_EVENTS. */
int webhook_event_known(const char *name);
/* The names as a JSON array (for documentation and the API). */
json_t *webhook_events_json(void);

/* url: http:// or https:// with a host, at most 2000 bytes.  events: a
 * non-empty JSON array of event names or "*" (duplicates removed).  A new
 * webhook gets a random secret. */
int webhook_create(const struct scope *s, const char *url, const json_t *events,
		   int active, int64_t *id, struct err *e);
/* NULL url/events and active < 0 stay unchanged; rotate_secret replaces the
 * secret with a new random one. */
int webhook_update(const struct scope *s, int64_t id, const char *url,
		   const json_t *events, int active, int rotate_secret,
		   struct err *e);
/* Deletes the webhook and its deliveries (pending ones are not sent). */
int webhook_delete(const struct scope *s, int64_t id, struct err *e);
/* {id, url, events, secret, active, created_at, updated_at}.  The secret is
 * included: every route that reads webhooks requires channels.manage. */
json_t *webhook_get(const struct scope *s, int64_t id, struct err *e);
int webhook_list(const struct scope *s, json_t *items, struct err *e);

/* 1 when some active webhook of the account subscribes to event, 0 when
 * none does (callers skip building the event's data), -1 on error. */
int webhook_wanted(const struct scope *s, const char *event, struct err *e);

/* Queue `event` for every active webhook of the account subscribed to it
 * (or to "*"): one outbox item each, kind "webhook", ref_id = the webhook's
 * id, body as above with data (borrowed) as "data".  Must run inside the
 * caller's transaction (refused otherwise), so the event is delivered if and
 * only if the change that caused it is committed. */
int webhook_emit(const struct scope *s, const char *event, const json_t *data,
		 struct err *e);

#endif
