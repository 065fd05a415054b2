/*
 * ingest.h -- the one path by which every channel's inbound message enters
 * Kefu (C7).
 *
 * Owns: turning a normalised inbound message into stored state in ONE
 * transaction: deduplicate by (channel, external id) -> find or create the
 * customer by any of the sender's identities -> thread onto the
 * conversation's open ticket or open a new one -> store the message ->
 * timeline, search index, webhooks, audit.  The channel acknowledges the
 * sender only after ingest_message returned 0, so nothing is lost; a retried
 * delivery of the same external id returns the original result and stores
 * nothing, so nothing is duplicated.
 */
#ifndef KEFU_CORE_INGEST_H
#define KEFU_CORE_INGEST_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

#define INGEST_MAX_IDENTITIES 4

struct ingest_identity {
	const char *kind;   /* api, email, phone, wechat, ... */
	const char *handle;
};

struct inbound_msg {
	int64_t channel_id;
	const char *channel_type;
	const char *external_id; /* required: the channel's id of this message */
	const char *thread_key;  /* the channel's conversation id, or NULL */
	int64_t ticket_id;       /* a ticket (of any channel) the channel found
				  * this message answers, or 0: then the
				  * thread_key decides */
	struct ingest_identity ids[INGEST_MAX_IDENTITIES]; /* most specific first */
	int nids;
	const char *name;        /* sender's display name, for a new profile */
	const char *subject;     /* NULL: derived from the text */
	const char *text;
	const char *html;        /* sanitized, or NULL */
	int64_t team_id;         /* team for a new ticket (channel default), 0 */
	const json_t *attachments; /* uploaded attachment ids, or NULL */
};

struct ingest_result {
	int64_t ticket_id, ticket_number, message_id, customer_id;
	int duplicate;     /* 1: seen before; the ids are the original ones */
	int new_ticket;
	int new_customer;
};

/* Was (channel, external id) stored before?  1 and r filled with the
 * original result (duplicate set), 0 no, -1 error. */
int ingest_seen(const struct scope *s, int64_t channel_id, const char *external_id,
		struct ingest_result *r, struct err *e);

/* Runs its own transaction on db (which must not be in one). */
int ingest_message(struct db *db, int64_t account_id, const struct inbound_msg *m,
		   struct ingest_result *r, struct err *e);

#endif
