/*
 * mime.h -- one raw e-mail message (RFC 5322 + MIME) turned into what the
 * e-mail channel stores: decoded headers, the text and HTML bodies in
 * UTF-8, the attachments as bytes, and the loop/noise flags.
 *
 * Owns: the reading of MIME structure (GMime 3 does the parsing: headers,
 * RFC 2231 parameters, transfer encodings, multiparts, message/rfc822),
 * which part is body and which is attachment, the DSN (bounce) reading,
 * and the trimming of quoted history for display.  Charset decisions are
 * charset.h's; HTML is returned as sent (sanitize.h makes it safe);
 * nothing here knows of tickets or storage.
 *
 * Body rules: every text/plain part not marked "attachment" (outside a
 * nested message/rfc822) is body text, joined in order with a blank line;
 * text/html likewise into html.  Everything else is an attachment, in
 * document order: images, TNEF (winmail.dat, kept as it is, never
 * parsed), forwarded messages (message/rfc822, the whole message as
 * bytes; filename "" unless the part names one), the parts of a delivery
 * report.  A named text part after the body is an attachment too.  Text
 * bodies have LF line ends and no NULs; every string is valid UTF-8.
 *
 * Thread-safe: GMime is initialised once (pthread_once) on first use.
 */
#ifndef KEFU_TEXT_MIME_H
#define KEFU_TEXT_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct mime_addr {
	char *name; /* UTF-8, decoded; "" when none; NULL when no address */
	char *addr; /* "user@example.com", domain lower-cased; NULL: none */
};

struct mime_att {
	char *filename;     /* UTF-8, decoded (RFC 2231/2047), never NULL */
	char *content_type; /* "image/png" as declared, lower-case */
	char *content_id;   /* without <>, or NULL */
	int is_inline;      /* disposition inline, or cid:-referenced in html */
	unsigned char *data; /* decoded bytes (transfer encoding undone) */
	size_t len;
};

struct mime_msg {
	char *message_id;  /* without <>, NULL when absent */
	char *in_reply_to; /* first id of In-Reply-To, without <>, or NULL */
	char **references; /* oldest first, without <> */
	int nrefs;
	char *subject;     /* UTF-8, decoded, unfolded; "" when absent */
	struct mime_addr from, reply_to; /* first mailbox of each */
	struct mime_addr *to, *cc;       /* groups flattened */
	int nto, ncc;
	int64_t date_ms;   /* Date: in ms since the epoch; 0 absent/unparsable */
	char *text;        /* text/plain body (UTF-8), or NULL */
	char *html;        /* text/html body (UTF-8, NOT sanitized), or NULL */
	struct mime_att *atts; /* attachments and inline parts, in order */
	int natts;
	const char *charset; /* what the first body part was decoded as
			      * ("gb18030", "utf-8", ...; static) or NULL */
	int charset_guessed; /* 1: not the declared charset (detected) */
	/* loop and noise detection (issue 5 item 5) */
	int auto_reply; /* Auto-Submitted other than "no", X-Autoreply,
			 * X-Autorespond, Precedence: auto_reply, vacation-like
			 * subjects ("Auto:", "Out of Office", "自动回复", ...) */
	int bulk;       /* Precedence bulk/junk/list, List-Id, List-Unsubscribe */
	int is_dsn;     /* multipart/report; report-type=delivery-status */
	char *dsn_original_id; /* Message-ID of the bounced message, or NULL */
	char *dsn_status;      /* first Status: of the report ("5.1.1"), or NULL */
};

/* Initialise GMime (once per process; any thread).  mime_parse calls it;
 * other code that builds messages with GMime (text/mime_build) too. */
void mime_ready(void);

/* Parse `len` bytes of raw message (LF or CRLF, NULs allowed) into *out
 * (zeroed first).  Returns 0, or -1 with e set (400 "invalid") only when
 * nothing at all can be made of it (empty input); broken mail is parsed
 * as far as it goes.  Free *out with mime_msg_free() after a 0 return;
 * after -1 there is nothing to free. */
int mime_parse(const void *raw, size_t len, struct mime_msg *out,
	       struct err *e);
/* Free what mime_parse() filled in and zero *m; NULL or zeroed is fine. */
void mime_msg_free(struct mime_msg *m);

/* The reply without the quoted history and signature, for display, as a
 * new string (caller frees): cuts at the first "On ... wrote:",
 * "在 ... 写道：", "-----Original Message-----", "----- 原始邮件 -----",
 * an Outlook "From: ... / Sent: ..." block or the "-- " signature line,
 * then drops trailing lines quoted with ">" and trailing blank lines.
 * When that would leave nothing, the text is returned whole (a message
 * that is all quote is better shown than hidden).  NULL gives NULL. */
char *mime_visible_text(const char *text);

#endif
