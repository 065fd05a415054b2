/*
 * chat.h -- the website/app chat channel (C1, C2) as the customer sees it.
 *
 * Owns: the widget_sessions table (a visitor's token, the customer it
 * stands for, how ingest finds that customer), the widget's public
 * configuration, the in-app identity check (the company's backend signs the
 * customer's id, name and e-mail with the channel secret), the customer's
 * view of a conversation (public messages only, read marks, queue
 * position, rating), and the events a customer's widget receives.  Chat
 * messages enter through core/ingest like every other channel's.
 *
 * Identity signature: lower-case hex HMAC-SHA256, keyed with the channel's
 * secret, of "<id>\n<name>\n<email>\n<timestamp>" (timestamp: Unix seconds,
 * within CHAT_IDENTITY_MAX_AGE of now; name and email may be empty).
 */
#ifndef KEFU_CORE_CHAT_H
#define KEFU_CORE_CHAT_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

#define CHAT_TOKEN_LEN 48
#define CHAT_IDENTITY_MAX_AGE (24 * 3600)

/* An authenticated widget session. */
/* A visitor is told its place in the queue up to this; CHAT_QUEUE_CAP
 * means that many or more (the widget says "100 or later"). */
#define CHAT_QUEUE_CAP 100
#define CHAT_QUEUE_CAP_SQL "100"

struct chat_visitor {
	int64_t account_id, channel_id, customer_id, session_id;
	int identified;
	int64_t team_id;           /* the channel's team for new tickets, 0 */
	char kind[24];             /* ingest identity */
	char handle[160];
	char secret[64];           /* the channel's */
};

struct chat_identity {
	const char *id, *name, *email, *signature;
	int64_t timestamp;
};

struct chat_open {
	const char *key;           /* the channel's public key */
	const char *token;         /* a previous session's token, or NULL */
	const struct chat_identity *identity; /* or NULL: anonymous visitor */
	const json_t *fields;      /* pre-chat form values, or NULL */
	const char *lang, *page_url;
};

/* The widget's public settings for a channel key ({channel, greeting,
 * color, online, prechat}); 404 for an unknown or inactive key. */
json_t *chat_config(struct db *db, const char *key, const char *lang, struct err *e);

/* Resume (valid token of this channel) or start a session.  token receives
 * the session's token; *visitor {customer_id, name, email, identified}.
 * 401 for a bad identity signature.  Runs its own transaction. */
int chat_session_open(struct db *db, const struct chat_open *in,
		      char token[CHAT_TOKEN_LEN], json_t **visitor, struct err *e);
/* 1 and v filled for a live session's token, 0 unknown, -1 error. */
int chat_session_auth(struct db *db, const char *token, struct chat_visitor *v,
		      struct err *e);
/* Exposed for tests: 0 when the signature is right and fresh, -1 (401). */
int chat_identity_check(const char *secret, const struct chat_identity *id,
			int64_t now_s, struct err *e);

/* {"conversation": {...} | null, "messages": [...], "last_event_id": N} */
json_t *chat_conversation(struct db *db, const struct chat_visitor *v, struct err *e);
/* The answer to the visitor's own message: {"message": {...},
 * "conversation": {...}} -- the stored message and its conversation,
 * without the rest of the history (a visitor's message costs the same on
 * the first and the hundredth). */
json_t *chat_sent(struct db *db, const struct chat_visitor *v, int64_t ticket,
		  int64_t message_id, struct err *e);
/* The customer's latest conversation (ticket id), 0 when none. */
int chat_current_ticket(struct db *db, const struct chat_visitor *v, int64_t *ticket,
			struct err *e);
/* The customer has read up to message_id of the current conversation. */
int chat_read(struct db *db, const struct chat_visitor *v, int64_t message_id,
	      struct err *e);
/* The customer is (not) typing: an event for the agents. */
int chat_typing(struct db *db, const struct chat_visitor *v, int typing, struct err *e);
/* May this visitor fetch the attachment?  1 yes, 0 no, -1 error. */
int chat_attachment_allowed(struct db *db, const struct chat_visitor *v,
			    int64_t attachment_id, struct err *e);

/* The widget's shape of a message (public fields only). */
json_t *chat_message_json(const json_t *msg, int64_t read_upto);

/* ---- events for the customer's widget (called by tickets and messages) ---- */

/* 1 when t (ticket_get's object) is a chat conversation. */
int chat_ticket(const json_t *t);
/* conversation.updated for the ticket's customer. */
int chat_ticket_event(const struct scope *s, const json_t *t, struct err *e);
/* message.created for the customer of a chat ticket (the caller knows it
 * is one: events_ticket_target). */
int chat_message_event(const struct scope *s, int64_t ticket_id, int64_t customer_id,
		       const json_t *msg, struct err *e);

#endif
