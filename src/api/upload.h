/*
 * upload.h -- files sent to the API (multipart/form-data) and files sent
 * back, shared by the staff attachments API and the chat widget.
 *
 * Owns: judging one uploaded file part (clean name, type sniffed from the
 * bytes, programs refused), writing the blobs, and answering a download
 * (ETag / 304, inline only for safe types, a sandbox for the rest).  Rows
 * and permissions are the callers'.
 */
#ifndef KEFU_API_UPLOAD_H
#define KEFU_API_UPLOAD_H

#include "../core/blob.h"
#include "../http/multipart.h"
#include "api.h"

#define API_UPLOAD_MAX_FILES 20

struct upload {
	const struct multipart_part *part;
	struct blob_attachment a;
};

/* Replies (400 no filename, 415 refused type) and returns -1 when the part
 * is not acceptable; else fills u. */
int api_upload_read(struct req *r, const struct multipart_part *p, struct upload *u,
		    int64_t uploader);
/* Store the n parts' bytes (content-addressed); -1 with e filled. */
int api_upload_blobs(struct req *r, struct upload *up, int n, struct err *e);
/* Answer with the attachment's bytes. */
void api_send_attachment(struct req *r, const struct blob_attachment *a);

#endif
