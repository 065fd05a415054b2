/*
 * imap_reply.h -- the few IMAP server answers the mailbox poller reads
 * (RFC 3501/9051): STATUS (UIDVALIDITY, UIDNEXT) and UID SEARCH.
 *
 * Owns: reading untagged response lines as libcurl hands them over (the
 * whole answer of a custom command, CRLF or LF lines), tolerant of
 * servers' spacing and order, strict about numbers (a UID is 1..2^32-1;
 * anything else on a line is ignored, never guessed at).  Fetching the
 * message itself is libcurl's (it handles the literal).
 */
#ifndef KEFU_TEXT_IMAP_REPLY_H
#define KEFU_TEXT_IMAP_REPLY_H

#include <stddef.h>
#include <stdint.h>

/* From "* STATUS <mailbox> (UIDVALIDITY n UIDNEXT m ...)": 1 when both were
 * found, else 0 (missing ones are 0). */
int imap_parse_status(const char *text, size_t len, uint64_t *uidvalidity,
		      uint64_t *uidnext);

/* The UIDs of "* SEARCH ..." lines greater than after, ascending, without
 * repeats, at most max of the smallest; *uids is malloc'd (free it; NULL
 * when *n is 0).  Returns the count kept. */
int imap_parse_search(const char *text, size_t len, uint64_t after, int max,
		      uint64_t **uids);

#endif
