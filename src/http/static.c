/*
 * static.c -- the web apps' files from cfg->web_root.
 *
 * Owns: safe resolution of a request path inside the web root (no dot
 * segments, no hidden files, no symlink leading outside: realpath and a
 * prefix check), content types, ETag / If-None-Match, Cache-Control for
 * hashed assets, precompressed FILE.gz, directory index and the single-page
 * app fallback.  Runs on a worker thread; files are read whole (Kefu's
 * bundles are small; the cap keeps a mistake from eating memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define STATIC_MAX_BYTES (64L * 1024 * 1024)

static const struct {
	const char *ext, *type;
} types[] = {
	{"html", "text/html; charset=utf-8"},
	{"js", "text/javascript; charset=utf-8"},
	{"mjs", "text/javascript; charset=utf-8"},
	{"css", "text/css; charset=utf-8"},
	{"json", "application/json"},
	{"map", "application/json"},
	{"svg", "image/svg+xml"},
	{"png", "image/png"},
	{"jpg", "image/jpeg"},
	{"jpeg", "image/jpeg"},
	{"gif", "image/gif"},
	{"webp", "image/webp"},
	{"ico", "image/x-icon"},
	{"woff", "font/woff"},
	{"woff2", "font/woff2"},
	{"ttf", "font/ttf"},
	{"txt", "text/plain; charset=utf-8"},
	{"wasm", "application/wasm"},
};

static const char *content_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');
	if (dot)
		for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* No "." or ".." segment and no hidden file (".git", ".env"). */
static int path_is_plain(const char *path)
{
	for (const char *p = path; (p = strchr(p, '/')); p++)
		if (p[1] == '.')
			return 0;
	return path[0] == '/';
}

static int inside(const char *root, const char *real)
{
	size_t n = strlen(root);
	return strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0');
}

/* realpath of cand, inside root, a regular file (a directory's index.html
 * is taken instead).  Fills out and st; 1 when found. */
static int resolve(const char *root, const char *cand, char *out, struct stat *st)
{
	if (!realpath(cand, out) || !inside(root, out) || stat(out, st))
		return 0;
	if (S_ISDIR(st->st_mode)) {
		char idx[PATH_MAX];
		if (snprintf(idx, sizeof idx, "%s/index.html", out) >= (int)sizeof idx)
			return 0;
		return resolve(root, idx, out, st) && !S_ISDIR(st->st_mode);
	}
	return S_ISREG(st->st_mode);
}

/* Does a comma-separated header list name token t with a non-zero q? */
static int list_accepts(const char *v, const char *t)
{
	size_t tl = strlen(t);
	while (v && *v) {
		v += strspn(v, " \t,");
		size_t n = strcspn(v, ",");
		size_t name = strcspn(v, ";, \t");
		if (name == tl && strncasecmp(v, t, tl) == 0) {
			const char *q = strstr(v, "q=");
			if (!q || q > v + n || strtod(q + 2, NULL) > 0)
				return 1;
		}
		v += n;
	}
	return 0;
}

static int etag_matches(const char *inm, const char *etag)
{
	size_t el = strlen(etag);
	while (inm && *inm) {
		inm += strspn(inm, " \t,");
		if (strncmp(inm, "W/", 2) == 0)
			inm += 2;
		size_t n = strcspn(inm, ", \t");
		if ((n == 1 && inm[0] == '*') || (n == el && strncmp(inm, etag, el) == 0))
			return 1;
		inm += n;
	}
	return 0;
}

static int read_file(const char *path, size_t size, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	buf_reset(out);
	buf_reserve(out, size);
	while (out->len < size) {
		ssize_t n = read(fd, out->data + out->len, size - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out->len += (size_t)n;
	}
	out->data[out->len] = '\0';
	close(fd);
	return out->len == size ? 0 : -1;
}

/* FILE.gz beside the file, inside the root, when the client takes gzip. */
static int find_gzip(const char *root, const char *real, char *gz, struct stat *gst)
{
	char cand[PATH_MAX];
	if (snprintf(cand, sizeof cand, "%s.gz", real) >= (int)sizeof cand)
		return 0;
	return resolve(root, cand, gz, gst);
}

static void serve_file(struct hreq *h, const char *root, const char *real,
		       const struct stat *st)
{
	struct req *r = &h->r;
	char gz[PATH_MAX], etag[64];
	struct stat gst;
	int has_gz = find_gzip(root, real, gz, &gst);
	int use_gz = has_gz && list_accepts(req_header(r, "accept-encoding"), "gzip");
	const struct stat *fst = use_gz ? &gst : st;
	snprintf(etag, sizeof etag, "\"%llx-%llx%s\"", (unsigned long long)fst->st_size,
		 (unsigned long long)fst->st_mtim.tv_sec * 1000000000ull +
			 (unsigned long long)fst->st_mtim.tv_nsec,
		 use_gz ? "-gz" : "");
	h->is_static = 1;
	if (etag_matches(req_header(r, "if-none-match"), etag))
		reply_empty(r, 304);
	else if (fst->st_size > STATIC_MAX_BYTES)
		reply_error(r, 500, "internal", "file too large to serve");
	else if (h->head_only) {
		reply_empty(r, 200);
		h->head_clen = (long)fst->st_size;
	} else if (read_file(use_gz ? gz : real, (size_t)fst->st_size, &r->resp_body))
		reply_error(r, 500, "internal", "could not read the file");
	else
		r->status = 200;
	if (r->status != 200 && r->status != 304)
		return;
	r->content_type = content_type(real);
	reply_header(r, "ETag", etag);
	reply_header(r, "Cache-Control", strncmp(r->path, "/assets/", 8) == 0
						 ? "public, max-age=31536000, immutable"
						 : "no-cache");
	if (use_gz)
		reply_header(r, "Content-Encoding", "gzip");
	if (has_gz)
		reply_header(r, "Vary", "Accept-Encoding");
}

int static_serve(struct hreq *h, const char *root)
{
	const char *path = h->r.path;
	char cand[PATH_MAX], real[PATH_MAX];
	struct stat st;
	if (!path_is_plain(path) ||
	    snprintf(cand, sizeof cand, "%s%s", root, path) >= (int)sizeof cand)
		return 0;
	if (!resolve(root, cand, real, &st)) {
		/* a client-side route ("/tickets/42") gets the app's index.html */
		const char *last = strrchr(path, '/');
		if (strchr(last, '.'))
			return 0;
		snprintf(cand, sizeof cand, "%s/index.html", root);
		if (!resolve(root, cand, real, &st))
			return 0;
	}
	serve_file(h, root, real, &st);
	return 1;
}
