/*
 * reply.h -- staff writing on a ticket: a public reply that goes back to the
 * customer through the ticket's channel, or an internal note.
 *
 * Owns: the sequence every reply follows, in the caller's transaction:
 * store the message -> if the ticket's channel sends replies out, queue the
 * delivery in the outbox (same transaction: nothing outbound is lost) ->
 * ticket timestamps/status -> search index -> webhooks.
 */
#ifndef KEFU_CORE_REPLY_H
#define KEFU_CORE_REPLY_H

#include "message.h"
#include "ticket.h"

/* m->ticket_id, text/html, internal, mentions, attachments are the
 * caller's; author fields are filled from the actor. */
int reply_post(const struct scope *s, const struct ticket_actor *a,
	       struct message_new *m, int64_t *message_id, struct err *e);

#endif
