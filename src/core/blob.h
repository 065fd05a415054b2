/*
 * blob.h -- attachments: content-addressed files on disk and the rows that
 * point at them.
 *
 * Owns: the blob store, <data>/blobs/ab/cd/<sha256 hex> (written to a
 * temporary file, fsynced and renamed into place, so a blob is whole or
 * absent; the same content is stored once however often it is uploaded);
 * type sniffing with libmagic and the policy on sniffed types (refused,
 * shown inline, or only ever downloaded); file names cleaned for storage;
 * the attachments table's uploads and reads, and who may read an
 * attachment.  Linking an upload to a message is message.h's job
 * (message_add claims unattached uploads).
 *
 * A blob is written before its row is committed, so a failed request can
 * leave a file that no row names (harmless, collectable); never a row
 * without its file.  Nothing here trusts a client's declared type.
 */
#ifndef KEFU_CORE_BLOB_H
#define KEFU_CORE_BLOB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/db.h"
#include "../util/buf.h"
#include "rbac.h"

#define BLOB_HEX_LEN 64       /* SHA-256 in lower-case hex */
#define BLOB_TYPE_MAX 128     /* a sniffed media type, NUL included */
#define BLOB_FILENAME_MAX 255 /* bytes of a cleaned file name */

/* ---- the files ---- */

/* Stores data under root (the blobs directory, created as needed) and
 * puts its SHA-256 into hex.  Content already stored is not written again.
 * Returns 0, or -1 with e filled (500). */
int blob_put(const char *root, const void *data, size_t len,
	     char hex[BLOB_HEX_LEN + 1], struct err *e);
/* Appends the blob named hex to out; it must hold exactly size bytes.
 * Returns 0, or -1 with e filled (500: missing, short, unreadable). */
int blob_read(const char *root, const char *hex, int64_t size, struct buf *out,
	      struct err *e);
/* The path of a blob (for tests and tools) into out; -1 when hex is not a
 * SHA-256 hex string or the path does not fit. */
int blob_path(const char *root, const char *hex, char *out, size_t n);

/* ---- types ---- */

enum blob_disposition {
	BLOB_REFUSE,     /* executables and scripts: not stored (415) */
	BLOB_INLINE,     /* raster images and PDF: may be shown in the page */
	BLOB_ATTACHMENT, /* everything else, HTML and SVG included: download only */
};

/* The media type of data as libmagic sees it ("image/png"), into out
 * (BLOB_TYPE_MAX bytes); "application/octet-stream" when it cannot tell.
 * Thread-safe (one libmagic handle behind a mutex, loaded on first use).
 * Returns 0, or -1 with e filled (500) when libmagic cannot load. */
int blob_sniff(const void *data, size_t len, char *out, struct err *e);
/* What may be done with content of a sniffed type. */
enum blob_disposition blob_policy(const char *type);

/* A client's file name made safe to store and send back: its last path
 * segment, controls and broken UTF-8 replaced by '_', at most
 * BLOB_FILENAME_MAX bytes (the extension kept), "file" when nothing is
 * left.  Appends to out. */
void blob_clean_filename(const char *in, struct buf *out);

/* ---- attachment rows ---- */

struct blob_attachment {
	int64_t id;
	int64_t message_id;  /* 0 while unattached */
	int64_t ticket_id;   /* of the message; 0 while unattached */
	int64_t uploaded_by; /* user id, 0 when unknown */
	int64_t size;
	char sha256[BLOB_HEX_LEN + 1];
	char content_type[BLOB_TYPE_MAX];
	char filename[BLOB_FILENAME_MAX + 1];
};

/* A new unattached attachment from a (id, message_id and ticket_id are
 * ignored); its id into *id.  Returns 0 or -1. */
int blob_attachment_add(const struct scope *s, const struct blob_attachment *a,
			int64_t *id, struct err *e);
/* The attachment id of the account; 404 when there is none. */
int blob_attachment_get(const struct scope *s, int64_t id, struct blob_attachment *out,
			struct err *e);
/* 0 when p may read a: an unattached upload only its uploader, an attached
 * one whoever may see the message's ticket.  -1 with 404 otherwise (its
 * existence is not revealed). */
int blob_attachment_readable(const struct scope *s, const struct principal *p,
			     const struct blob_attachment *a, struct err *e);
/* {id, filename, content_type, size, sha256, url} */
json_t *blob_attachment_json(const struct blob_attachment *a);

#endif
