/*
 * mail_in.h -- one raw e-mail message into a ticket: the e-mail channel's
 * side of the ingest path (issue 5), shared by `kefu mail-in` (an MTA
 * pipe) and, later, the IMAP poller.
 *
 * Owns: what an e-mail means to Kefu.  Its id (the Message-ID, or
 * "sha256:<hex of the raw bytes>" without one, so a re-delivery is stored
 * once); its thread (a stored message it answers -- In-Reply-To,
 * References, or the message a bounce is about -- then a "[#number]"
 * ticket token in the subject, else the conversation's root id: first
 * References id, else In-Reply-To, else its own Message-ID); its sender
 * (identity email:<From>); its body (the reply without quoted history;
 * sanitized HTML with cid: images pointing at their stored attachments);
 * its attachments, and the whole raw message kept as "message.eml"
 * (message/rfc822) so nothing is ever lost; its noise flags (auto_reply,
 * bulk, dsn in messages.flags) and what a bounce does (the bounced
 * message's delivery_status becomes "failed").  A sender with more than
 * MAIL_FLOOD_MAX messages in MAIL_FLOOD_WINDOW_MS on one channel gets no
 * new tickets: their mail goes onto their open ticket.
 *
 * Parsing is text/mime's; storing is core/ingest's (one transaction).
 * Files are written and their rows added before that transaction, so a
 * failure can leave unattached attachment rows (harmless), never a
 * message without its files.
 */
#ifndef KEFU_CORE_MAIL_IN_H
#define KEFU_CORE_MAIL_IN_H

#include <stddef.h>
#include <stdint.h>

#include "../store/db.h"
#include "ingest.h"

#define MAIL_FLOOD_MAX 20
#define MAIL_FLOOD_WINDOW_MS (10 * 60 * 1000)

struct mail_in_result {
	struct ingest_result in; /* ticket, message, customer; duplicate */
	int auto_reply, bulk, dsn; /* the message's flags */
	int flooded;         /* put on the sender's open ticket (flood limit) */
	int64_t bounced_id;  /* the message a DSN marked failed, or 0 */
	int attachments;     /* attachment rows stored, message.eml included */
	int refused;         /* parts not stored (programs; kept in message.eml) */
};

/* The account of active e-mail channel channel_id: 1 found, 0 no such
 * active e-mail channel, -1 error (database). */
int mail_channel_find(struct db *db, int64_t channel_id, int64_t *account_id,
		      struct err *e);

/* Ingest len bytes of raw message arriving at channel_id of account_id;
 * blob_root is the blobs directory (<data>/blobs).  Runs its own
 * transactions on db (which must not be in one).  Returns 0 with *r
 * filled (r->in.duplicate: seen before, the original ids; flags and a
 * bounce are applied again, idempotently), or -1 with e: 400 not mail
 * (nothing parsable, no sender address), 404 no such active e-mail
 * channel, other statuses for storage failures (worth a retry). */
int mail_ingest(struct db *db, int64_t account_id, int64_t channel_id,
		const char *blob_root, const void *raw, size_t len,
		struct mail_in_result *r, struct err *e);

/* The subject without leading reply/forward markers ("Re:", "Fwd:",
 * "AW:", "回复:", "转发：", "Re[2]:" ..., repeated), as a new string. */
char *mail_subject_clean(const char *subject);

#endif
