/*
 * chat_mail.h -- chat replies that reach a visitor who has left: an
 * agent's public reply on a chat ticket is also e-mailed when the visitor
 * has not read it in the chat after a while (the widget promises "leave a
 * message and we will answer by e-mail").
 *
 * Owns: the decision to queue that mail and with what.  It is queued in
 * the reply's transaction when the chat channel names a mailbox
 * ("email_channel_id", an active e-mail channel with an SMTP server) and
 * the visitor gave an address (the customer's e-mail, or the "email" the
 * pre-chat or leave-a-message form asked for); it falls due
 * "email_after_seconds" (CHAT_MAIL_DEFAULT_DELAY_S) later.  The delivery
 * worker then sends it through that mailbox -- unless the visitor has read
 * the message in the chat by then (tickets.customer_read_id), in which
 * case nothing is sent.  The mail is the same reply mail as on an e-mail
 * ticket (core/mail_out), so the visitor's answer by mail finds the ticket
 * by its Message-ID or [#number].
 */
#ifndef KEFU_CORE_CHAT_MAIL_H
#define KEFU_CORE_CHAT_MAIL_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

#define CHAT_MAIL_DEFAULT_DELAY_S 120

/* Queue the e-mail copy of reply message_id on chat ticket ticket_id of a
 * channel with config web_config, when there is a mailbox and an address
 * (else nothing).  In the caller's transaction.  0 or -1. */
int chat_mail_queue(const struct scope *s, const json_t *web_config, int64_t ticket_id,
		    int64_t message_id, struct err *e);

#endif
