/*
 * mime_build.h -- an outgoing e-mail message (RFC 5322 + MIME) from its
 * parts: the writing side of text/mime.
 *
 * Owns: the shape of what Kefu sends.  Headers From, Reply-To, To,
 * Subject, Date, Message-ID, In-Reply-To, References and MIME-Version, non-
 * ASCII words encoded per RFC 2047 (GMime); the body a multipart/
 * alternative of text/plain and text/html in UTF-8, each with the
 * transfer encoding that keeps it 7-bit clean (quoted-printable or
 * base64, whichever is smaller); with attachments, that alternative is the
 * first part of a multipart/mixed and each file follows in base64 with its
 * name encoded per RFC 2231.  Lines end in CRLF, as SMTP wants.  Nothing
 * here knows of tickets or of how the message travels.
 */
#ifndef KEFU_TEXT_MIME_BUILD_H
#define KEFU_TEXT_MIME_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

struct mime_out_att {
	const char *filename;     /* UTF-8 */
	const char *content_type; /* "image/png"; NULL: application/octet-stream */
	const void *data;
	size_t len;
};

struct mime_out {
	const char *from_name, *from_addr; /* name may be NULL or "" */
	const char *to_name, *to_addr;
	const char *reply_to;              /* an address, or NULL */
	const char *subject;               /* UTF-8 */
	const char *message_id;            /* without <> */
	const char *in_reply_to;           /* without <>, or NULL */
	const char *const *references;     /* oldest first, without <> */
	int nrefs;
	int64_t date_ms;
	const char *text;                  /* UTF-8, LF line ends */
	const char *html;                  /* a whole document or a fragment */
	const struct mime_out_att *atts;
	int natts;
};

/* Appends the message to out.  Returns 0, or -1 with e (400) when an
 * address or id is missing or carries line breaks. */
int mime_build(const struct mime_out *m, struct buf *out, struct err *e);

#endif
