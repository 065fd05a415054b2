/*
 * message.h -- messages on a ticket: what customers write in and what staff
 * and bots answer, plus internal notes.
 *
 * Owns: the messages table and the linking of uploaded attachments to a
 * message.  A message has an author kind (customer, agent, bot, system), a
 * direction (in from the customer, out to the customer, internal note), the
 * channel it travelled on with that channel's id for it (deduplication), text
 * and sanitized HTML, @mentions (user ids) and attachments.  What a message
 * does to its ticket (timestamps, reopen) is ticket_on_message's job; sending
 * an outbound reply is the outbox's.
 */
#ifndef KEFU_CORE_MESSAGE_H
#define KEFU_CORE_MESSAGE_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

#define MESSAGE_TEXT_MAX (256 * 1024)

struct message_new {
	int64_t ticket_id;
	const char *author_kind; /* customer, agent, bot, system */
	int64_t author_user_id;  /* agent/bot user, 0 otherwise */
	int64_t customer_id;     /* for customer messages */
	int internal;            /* 1: note for staff only */
	int64_t channel_id;      /* 0: none */
	const char *external_id; /* the channel's id, for dedupe; NULL */
	const char *text;
	const char *html;           /* already sanitized, or NULL */
	const json_t *mentions;     /* array of user ids, or NULL */
	const json_t *attachments;  /* array of attachment ids, or NULL */
	const char *delivery_status; /* "pending" when the outbox will send it */
};

int message_add(const struct scope *s, const struct message_new *in,
		int64_t *id, struct err *e);
json_t *message_get(const struct scope *s, int64_t id, struct err *e);
/* Messages of a ticket, oldest first, with attachments. */
int message_list(const struct scope *s, int64_t ticket_id, int with_internal,
		 json_t *items, struct err *e);
/* Moves messages between tickets (merge, split). */
/* Announce a stored message (msg: message_get's object): the webhook
 * event message.created, the staff real-time event, and for a public
 * message on a chat ticket the customer's widget event. */
int message_announce(const struct scope *s, const json_t *msg,
		     int64_t ticket_number, struct err *e);
int message_move(const struct scope *s, int64_t message_id, int64_t to_ticket,
		 struct err *e);

#endif
