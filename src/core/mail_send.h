/*
 * mail_send.h -- one reply mail handed to the mailbox's SMTP server: the
 * delivery worker's transfer for an outbox item of an e-mail channel.
 *
 * Owns: turning the prepared payload (core/mail_out) into an SMTP
 * transaction on a libcurl easy handle -- MAIL FROM the mailbox address,
 * RCPT TO the customer, the rendered message as DATA (libcurl dot-stuffs
 * it) -- with the server settings of core/mail_server, and keeping the
 * server's last answer line so a refusal reads as the server wrote it.
 * Whether an outcome is final is mail_send_permanent's rule: a 5xx answer
 * (bad recipient, relay refused, message refused) will not change on a
 * retry; anything else (4xx, no answer, a dropped connection) may.
 */
#ifndef KEFU_CORE_MAIL_SEND_H
#define KEFU_CORE_MAIL_SEND_H

#include <curl/curl.h>

#include "../util/err.h"

struct mail_send;

/* Sets c up to send payload (a mail_out document) with the SMTP settings
 * of channel_config (JSON text); attachments are read from blob_root now.
 * Returns the transfer's state, freed with mail_send_free once the
 * transfer is over, or NULL with e (400 a payload that is not a mail,
 * 409 no SMTP server, 500 unreadable blob or password). */
struct mail_send *mail_send_setup(CURL *c, const char *channel_config,
				  const char *payload, const char *blob_root,
				  struct err *e);
void mail_send_free(struct mail_send *m);

/* The server's last answer line, e.g. "550 5.1.1 <x@y>: Recipient address
 * rejected", without CRLF; "" when it said nothing. */
const char *mail_send_answer(const struct mail_send *m);

/* 1 when the outcome (CURLcode res, last SMTP code) will not change if
 * tried again. */
int mail_send_permanent(CURLcode res, long smtp_code);

#endif
