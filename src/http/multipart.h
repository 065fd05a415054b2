/*
 * multipart.h -- multipart/form-data request bodies (RFC 7578), without
 * sockets.
 *
 * Owns: reading the boundary out of a Content-Type value, and splitting a
 * complete body into its parts: the form field name, the file name, the
 * Content-Type the client declared, and the part's bytes as a pointer into
 * the body (nothing is copied).  Strict: malformed input is an error
 * (400 "bad_multipart") whose message says what is wrong, never a guess.
 *
 * It does not decide what a field means, trust a declared type, or clean
 * a file name for storage (it returns the name as sent, decoded; RFC 7578
 * 4.2 leaves the rest to the receiver).  Used by the attachments API, the
 * unit tests and fuzz_multipart.
 */
#ifndef KEFU_HTTP_MULTIPART_H
#define KEFU_HTTP_MULTIPART_H

#include <stddef.h>

#include "../util/err.h"

#define MULTIPART_BOUNDARY_MAX 70      /* RFC 2046 5.1.1 */
#define MULTIPART_MAX_PARTS 100        /* default limit */
#define MULTIPART_MAX_HEADER_BYTES 8192 /* default limit, per part */

struct multipart_part {
	char *name;         /* form field name (UTF-8, never empty) */
	char *filename;     /* NULL when the part is not a file; else the
			     * decoded UTF-8 name as sent (may be ""), from
			     * filename* (RFC 5987) when given, else filename */
	char *content_type; /* as declared, NULL when absent (RFC 7578 4.4:
			     * text/plain); never to be trusted */
	const char *data;   /* the part's bytes, inside the parsed body */
	size_t len;
};

struct multipart_limits {
	int max_parts;           /* 0: MULTIPART_MAX_PARTS */
	size_t max_header_bytes; /* one part's header section; 0: the default */
};

struct multipart {
	struct multipart_part *parts;
	int nparts;
};

/* The boundary of a Content-Type value into out (at least
 * MULTIPART_BOUNDARY_MAX + 1 bytes).  Returns 0, or -1 with e filled: 415
 * "unsupported_media_type" when the type is not multipart/form-data (or
 * ct is NULL), 400 "bad_multipart" when the boundary is missing, duplicated
 * or not a valid boundary. */
int multipart_boundary(const char *ct, char *out, size_t n, struct err *e);

/* Parse a complete body.  On success m holds at least one part whose data
 * point into body (which must outlive m); free it with multipart_free.
 * Returns 0, or -1 with e filled (400 "bad_multipart") and m empty.  lim
 * may be NULL for the defaults. */
int multipart_parse(const char *body, size_t len, const char *boundary,
		    const struct multipart_limits *lim, struct multipart *m,
		    struct err *e);

/* Frees what multipart_parse allocated; m becomes empty.  NULL-safe. */
void multipart_free(struct multipart *m);

#endif
