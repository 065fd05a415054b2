/*
 * attachments.c -- /api/v1/attachments: uploading files (multipart/form-data,
 * one or several parts named "file") and downloading them.
 *
 * An upload is sniffed (never the client's word for its type), refused when
 * it is a program or a script, stored as a content-addressed blob and
 * recorded as an unattached attachment of the uploader; a reply
 * ({"attachments": [ids]} on POST /tickets/{id}/messages) attaches it.  A
 * download needs what reading the ticket of its message needs (or, while
 * unattached, being its uploader), and is sent so a browser never runs it:
 * a sniffed type, nosniff, inline only for raster images and PDF, a
 * sandboxing CSP for the rest.  The body size limit of uploads is the
 * HTTP layer's (ROUTE_UPLOAD, --max-upload).
 */
#include <stdlib.h>
#include <string.h>

#include "../core/blob.h"
#include "../http/multipart.h"
#include "api.h"
#include "upload.h"

#define DOWNLOAD_CACHE "private, max-age=3600"

static void blob_root(struct req *r, struct buf *out)
{
	buf_printf(out, "%s/blobs", api_worker(r)->app->cfg->data);
}

int api_upload_read(struct req *r, const struct multipart_part *p, struct upload *u,
		    int64_t uploader)
{
	memset(u, 0, sizeof *u);
	u->part = p;
	if (!p->filename) {
		reply_error(r, 400, "invalid", "the file part needs a filename");
		return -1;
	}
	struct buf fn = BUF_INIT;
	blob_clean_filename(p->filename, &fn);
	snprintf(u->a.filename, sizeof u->a.filename, "%s", fn.data);
	buf_free(&fn);
	struct err e = {0};
	if (blob_sniff(p->data, p->len, u->a.content_type, &e) < 0) {
		api_fail(r, &e);
		return -1;
	}
	if (blob_policy(u->a.content_type) == BLOB_REFUSE) {
		reply_error(r, 415, "unsupported_media_type",
			    "\"%s\" is %s: programs and scripts are not accepted",
			    u->a.filename, u->a.content_type);
		return -1;
	}
	u->a.size = (int64_t)p->len;
	u->a.uploaded_by = uploader;
	return 0;
}

/* The file parts of the body into up (n of them), each sniffed and
 * judged; replies and returns -1 when the request must be refused. */
static int read_files(struct req *r, const struct multipart *m, struct upload *up,
		      int *n)
{
	*n = 0;
	for (int i = 0; i < m->nparts; i++) {
		const struct multipart_part *p = &m->parts[i];
		if (strcmp(p->name, "file") != 0) {
			reply_error(r, 400, "invalid", "only parts named \"file\" are accepted");
			return -1;
		}
		if (p->filename && !p->filename[0] && p->len == 0)
			continue; /* a file input left empty by a browser */
		if (*n == API_UPLOAD_MAX_FILES) {
			reply_error(r, 400, "invalid", "at most %d files per upload",
				    API_UPLOAD_MAX_FILES);
			return -1;
		}
		if (api_upload_read(r, p, &up[(*n)++], api_ctx(r)->who.user_id) < 0)
			return -1;
	}
	if (*n == 0) {
		reply_error(r, 400, "invalid", "no file: send it in a part named \"file\"");
		return -1;
	}
	return 0;
}

int api_upload_blobs(struct req *r, struct upload *up, int n, struct err *e)
{
	struct buf root = BUF_INIT;
	blob_root(r, &root);
	int rc = 0;
	for (int i = 0; rc == 0 && i < n; i++)
		rc = blob_put(root.data, up[i].part->data, up[i].part->len, up[i].a.sha256, e);
	buf_free(&root);
	return rc;
}

/* Blobs first, then the rows: a failure leaves at worst an unnamed blob. */
static void store(struct req *r, struct upload *up, int n)
{
	struct err e = {0};
	if (api_upload_blobs(r, up, n, &e) < 0) {
		api_fail(r, &e);
		return;
	}
	if (api_begin(r) < 0)
		return;
	json_t *items = json_array();
	for (int i = 0; i < n; i++) {
		struct blob_attachment *a = &up[i].a;
		if (blob_attachment_add(api_scope(r), a, &a->id, &e) < 0) {
			api_fail(r, &e);
			json_decref(items);
			return;
		}
		json_t *d = json_pack("{ss ss sI ss}", "filename", a->filename, "content_type",
				      a->content_type, "size", (json_int_t)a->size, "sha256",
				      a->sha256);
		int rc = api_audit(r, "attachment.upload", "attachment", a->id, d);
		json_decref(d);
		if (rc < 0) {
			json_decref(items);
			return;
		}
		json_array_append_new(items, blob_attachment_json(a));
	}
	reply_json(r, 201, json_pack("{so}", "items", items));
}

static void attachments_upload(struct req *r)
{
	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	struct multipart m;
	struct err e = {0};
	if (multipart_boundary(req_header(r, "content-type"), boundary, sizeof boundary, &e) < 0 ||
	    multipart_parse(r->body, r->body_len, boundary, NULL, &m, &e) < 0) {
		api_fail(r, &e);
		return;
	}
	struct upload *up = xcalloc((size_t)m.nparts + 1, sizeof *up);
	int n;
	if (read_files(r, &m, up, &n) == 0)
		store(r, up, n);
	free(up);
	multipart_free(&m);
}

/* ---- download ---- */

/* Does an If-None-Match value list the entity tag "tag" (weak comparison,
 * RFC 9110 13.1.2)? */
static int etag_listed(const char *inm, const char *tag)
{
	size_t tl = strlen(tag);
	for (const char *p = inm; *p;) {
		p += strspn(p, " \t,");
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"')
			return 0; /* malformed: no match, send the content */
		const char *end = strchr(p + 1, '"');
		if (!end)
			return 0;
		if ((size_t)(end - p - 1) == tl && strncmp(p + 1, tag, tl) == 0)
			return 1;
		p = end + 1;
	}
	return 0;
}

/* Content-Disposition with an ASCII fallback name and the exact UTF-8 name
 * (RFC 6266 4.3, RFC 5987). */
static void disposition(struct buf *out, int inline_ok, const char *name)
{
	buf_puts(out, inline_ok ? "inline; filename=\"" : "attachment; filename=\"");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p >= 0x80) {
			if ((*p & 0xc0) != 0x80) /* one '_' per non-ASCII character */
				buf_putc(out, '_');
		} else if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\' || *p == '%') {
			buf_putc(out, '_');
		} else {
			buf_putc(out, (char)*p);
		}
	}
	buf_puts(out, "\"; filename*=UTF-8''");
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || strchr("!#$&+-.^_`|~", *p)) {
			buf_putc(out, (char)*p);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[*p >> 4]);
			buf_putc(out, hex[*p & 15]);
		}
	}
}

void api_send_attachment(struct req *r, const struct blob_attachment *a_)
{
	const struct blob_attachment a = *a_;
	struct err e = {0};
	char etag[BLOB_HEX_LEN + 3];
	snprintf(etag, sizeof etag, "\"%s\"", a.sha256);
	const char *inm = req_header(r, "if-none-match");
	if (inm && etag_listed(inm, a.sha256)) {
		reply_empty(r, 304);
		reply_header(r, "ETag", etag);
		reply_header(r, "Cache-Control", DOWNLOAD_CACHE);
		return;
	}
	struct buf root = BUF_INIT;
	blob_root(r, &root);
	buf_reset(&r->resp_body); /* read straight into the response body */
	int rc = blob_read(root.data, a.sha256, a.size, &r->resp_body, &e);
	buf_free(&root);
	if (rc < 0) {
		api_fail(r, &e);
		return;
	}
	int inline_ok = blob_policy(a.content_type) == BLOB_INLINE;
	struct buf cd = BUF_INIT;
	disposition(&cd, inline_ok, a.filename);
	r->status = 200;
	r->content_type = NULL; /* the row's type, copied into a header line */
	reply_header(r, "Content-Type", a.content_type);
	reply_header(r, "Content-Disposition", cd.data);
	reply_header(r, "ETag", etag);
	reply_header(r, "Cache-Control", DOWNLOAD_CACHE);
	if (!inline_ok) /* should a browser render it anyway, nothing runs */
		reply_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
	buf_free(&cd);
}

static void attachments_download(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) < 0)
		return;
	struct blob_attachment a;
	struct err e = {0};
	if (blob_attachment_get(api_scope(r), id, &a, &e) < 0 ||
	    blob_attachment_readable(api_scope(r), &api_ctx(r)->who, &a, &e) < 0)
		api_fail(r, &e);
	else
		api_send_attachment(r, &a);
}

const struct route api_attachment_routes[] = {
	{HTTP_POST, "/api/v1/attachments", attachments_upload, "tickets.write", ROUTE_UPLOAD},
	{HTTP_GET, "/api/v1/attachments/{id}", attachments_download, "tickets.read", 0},
};
const size_t api_attachment_nroutes =
	sizeof api_attachment_routes / sizeof api_attachment_routes[0];
