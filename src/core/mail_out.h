/*
 * mail_out.h -- an agent's public reply as an e-mail (issue 5): the e-mail
 * channel's side of the outbox.
 *
 * Owns: what a reply mail says and where it goes, decided in the reply's
 * own transaction (mail_out_prepare): the recipient (the customer's
 * e-mail address), the subject ("Re: <ticket subject> [#<number>]", the
 * token threads the customer's answer even when their client drops the
 * headers), a new Message-ID stored as the message's external id (so the
 * answer's In-Reply-To finds the ticket), In-Reply-To (the customer's
 * latest mail) and References (the thread's first id and its latest ones),
 * the text and HTML with the mailbox's signature, and the attachments'
 * blob names.  That document is the outbox payload; the bytes are made
 * when it is sent (mail_out_render: the blobs are read then, so the
 * transaction does no file I/O), identical on every retry.
 */
#ifndef KEFU_CORE_MAIL_OUT_H
#define KEFU_CORE_MAIL_OUT_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"
#include "../util/buf.h"

/* At most this many ids in References: the root and the latest ones. */
#define MAIL_OUT_MAX_REFS 10

/* Compose the reply message_id (already stored on ticket_id, sent from
 * channel_id whose config is config) in the caller's transaction: sets the
 * message's external id to its new Message-ID and returns the outbox
 * payload (JSON text, caller frees) in *payload.  409 when the customer
 * has no e-mail address. */
int mail_out_prepare(const struct scope *s, const json_t *config, int64_t channel_id,
		     int64_t ticket_id, int64_t message_id, char **payload,
		     struct err *e);
/* The same, sent by mailbox mailbox_id (config: its config) to the
 * address to (NULL: the customer's).  The payload names the mailbox
 * ("mailbox_id"). */
int mail_out_compose(const struct scope *s, const json_t *config, int64_t mailbox_id,
		     int64_t ticket_id, int64_t message_id, const char *to,
		     char **payload, struct err *e);

/* The envelope and bytes of a prepared payload: sender and recipients
 * (caller frees with mail_out_envelope_free) and the message, CRLF lines,
 * appended to mime.  Attachments are read from blob_root.  -1 with e: 400
 * the payload is not one of ours, 500 a blob cannot be read. */
struct mail_out_envelope {
	char *from;
	char **rcpt;
	int nrcpt;
};
int mail_out_render(const char *payload, const char *blob_root,
		    struct mail_out_envelope *env, struct buf *mime, struct err *e);
void mail_out_envelope_free(struct mail_out_envelope *env);

#endif
