/*
 * blob.c -- see blob.h.
 *
 * Files: <root>/ab/cd/<hex> where ab and cd are the first two bytes of the
 * hash in hex, so no directory holds more than 256 subdirectories and the
 * files spread evenly over 65,536 leaves.  A
 * write goes to a temporary file in the final directory (same filesystem,
 * so rename is atomic), is fsynced, renamed over the final name and the
 * directories are fsynced, so after blob_put returns the blob survives a
 * crash and a reader never sees a partial file.  Two concurrent uploads of
 * the same content both write and rename identical bytes: harmless.
 *
 * Sniffing: libmagic (the file(1) database).  Its handle is not
 * thread-safe and loading the database costs milliseconds and megabytes,
 * so there is one handle for the process behind a mutex; uploads are rare
 * next to reads, and sniffing reads at most SNIFF_BYTES.  Decompression
 * is off: an archive is typed by its container, never unpacked.
 */
#include "blob.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <magic.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unicode/utf8.h>
#include <unistd.h>

#include "../util/clock.h"
#include "../util/log.h"
#include "ticket.h"

#define SNIFF_BYTES (1024 * 1024)

/* ---- paths ---- */

static int is_hex64(const char *hex)
{
	if (!hex || strlen(hex) != BLOB_HEX_LEN)
		return 0;
	for (int i = 0; i < BLOB_HEX_LEN; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return 0;
	return 1;
}

int blob_path(const char *root, const char *hex, char *out, size_t n)
{
	if (!is_hex64(hex))
		return -1;
	int w = snprintf(out, n, "%s/%.2s/%.2s/%s", root, hex, hex + 2, hex);
	return w < 0 || (size_t)w >= n ? -1 : 0;
}

static int mkdir_one(const char *path)
{
	return mkdir(path, 0750) == 0 || errno == EEXIST ? 0 : -1;
}

/* root, root/ab, root/ab/cd (root's own parents must exist: the data
 * directory is made at start). */
static int make_dirs(const char *root, const char *hex, char *dir, size_t n)
{
	snprintf(dir, n, "%s", root);
	if (mkdir_one(dir) < 0)
		return -1;
	snprintf(dir, n, "%s/%.2s", root, hex);
	if (mkdir_one(dir) < 0)
		return -1;
	snprintf(dir, n, "%s/%.2s/%.2s", root, hex, hex + 2);
	return mkdir_one(dir);
}

static void fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fsync(fd) < 0)
		log_warn("blob: fsync %s: %s", path, strerror(errno));
	close(fd);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int io_fail(struct err *e, const char *what, const char *path)
{
	log_error("blob: %s %s: %s", what, path, strerror(errno));
	ERR_INTERNAL(e, "the attachment could not be stored");
	return -1;
}

int blob_put(const char *root, const void *data, size_t len,
	     char hex[BLOB_HEX_LEN + 1], struct err *e)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(hex, BLOB_HEX_LEN + 1, h, sizeof h);
	char path[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX];
	if (blob_path(root, hex, path, sizeof path) < 0 ||
	    (size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
		ERR_INTERNAL(e, "the data directory path is too long");
		return -1;
	}
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size == len)
		return 0; /* stored before: whole, since only a rename puts it there */
	if (make_dirs(root, hex, dir, sizeof dir) < 0)
		return io_fail(e, "mkdir", dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return io_fail(e, "create", tmp);
	int ok = fchmod(fd, 0640) == 0 && write_all(fd, data, len) == 0 && fsync(fd) == 0;
	if (close(fd) < 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		io_fail(e, "write", tmp);
		unlink(tmp);
		return -1;
	}
	/* the new name, and the directories that may be new, made durable */
	fsync_dir(dir);
	snprintf(dir, sizeof dir, "%s/%.2s", root, hex);
	fsync_dir(dir);
	fsync_dir(root);
	return 0;
}

int blob_read(const char *root, const char *hex, int64_t size, struct buf *out,
	      struct err *e)
{
	char path[PATH_MAX];
	if (blob_path(root, hex, path, sizeof path) < 0 || size < 0) {
		ERR_INTERNAL(e, "bad blob name");
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size != size) {
		log_error("blob: %s: %s", path, fd < 0 ? strerror(errno) : "size differs from the row");
		if (fd >= 0)
			close(fd);
		ERR_INTERNAL(e, "the attachment's content is missing");
		return -1;
	}
	buf_reserve(out, (size_t)size);
	size_t got = 0;
	while (got < (size_t)size) {
		ssize_t r = read(fd, out->data + out->len + got, (size_t)size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)size) {
		log_error("blob: %s: short read", path);
		ERR_INTERNAL(e, "the attachment's content could not be read");
		return -1;
	}
	out->len += got;
	out->data[out->len] = '\0';
	return 0;
}

/* ---- types ---- */

static pthread_mutex_t magic_mu = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_handle; /* loaded on first use, kept for the process */

static int magic_ready(struct err *e)
{
	if (magic_handle)
		return 0;
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
	if (!m || magic_load(m, NULL) < 0) {
		log_error("blob: libmagic: %s", m ? magic_error(m) : "cannot start");
		if (m)
			magic_close(m);
		ERR_INTERNAL(e, "file type detection is unavailable");
		return -1;
	}
	size_t max = SNIFF_BYTES;
	magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &max);
	magic_handle = m;
	return 0;
}

int blob_sniff(const void *data, size_t len, char *out, struct err *e)
{
	pthread_mutex_lock(&magic_mu);
	int rc = magic_ready(e);
	if (rc == 0) {
		const char *t = magic_buffer(magic_handle, data, len < SNIFF_BYTES ? len : SNIFF_BYTES);
		size_t n = t ? strcspn(t, ";") : 0;
		/* A DOS .COM program has no header, so libmagic guesses it from
		 * the first instruction and calls 1-2% of random bytes (encrypted
		 * or compressed data without a header) x-dosexec.  Only an "MZ"
		 * header makes a program that runs on current Windows. */
		if (t && strncmp(t, "application/x-dosexec", 21) == 0 &&
		    (len < 2 || memcmp(data, "MZ", 2) != 0))
			t = NULL;
		if (!t || n == 0 || n >= BLOB_TYPE_MAX || !strchr(t, '/'))
			t = "application/octet-stream", n = strlen(t);
		memcpy(out, t, n);
		out[n] = '\0';
	}
	pthread_mutex_unlock(&magic_mu);
	return rc;
}

/* What runs when opened: programs, libraries, installers and scripts,
 * as libmagic names them. */
static const char *const refused[] = {
	"application/x-executable", "application/x-pie-executable",
	"application/x-sharedlib", "application/x-object", "application/x-coredump",
	"application/x-elf", "application/x-mach-binary", "application/x-dosexec",
	"application/x-msdownload", "application/vnd.microsoft.portable-executable",
	"application/x-msi", "application/x-ms-installer", "application/x-ms-shortcut",
	"application/x-java-applet", "application/java-archive",
	"application/x-bytecode.python", "application/javascript", "text/javascript",
	"application/x-sh", "application/x-shellscript", "text/x-shellscript",
	"text/x-sh", "text/x-perl", "text/x-python", "text/x-ruby", "text/x-php",
	"text/x-lua", "text/x-tcl", "text/x-awk", "text/x-msdos-batch",
	"application/x-bat", "application/hta", "text/x-script", NULL,
};

/* What a browser may show inside the page without running anything. */
static const char *const inline_types[] = {
	"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif",
	"image/tiff", "image/x-ms-bmp", "image/vnd.microsoft.icon", "application/pdf", NULL,
};

static int listed(const char *const *list, const char *t)
{
	for (; *list; list++)
		if (strcmp(*list, t) == 0)
			return 1;
	return 0;
}

enum blob_disposition blob_policy(const char *type)
{
	char t[BLOB_TYPE_MAX];
	size_t n = strcspn(type, "; \t");
	if (n >= sizeof t)
		return BLOB_ATTACHMENT;
	for (size_t i = 0; i < n; i++)
		t[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] + 32 : type[i]);
	t[n] = '\0';
	if (listed(refused, t) || strncmp(t, "text/x-script.", 14) == 0)
		return BLOB_REFUSE;
	return listed(inline_types, t) ? BLOB_INLINE : BLOB_ATTACHMENT;
}

/* ---- file names ---- */

void blob_clean_filename(const char *in, struct buf *out)
{
	const char *s = in ? in : "";
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == '\\')
			s = p + 1;
	struct buf b = BUF_INIT;
	int32_t n = (int32_t)strnlen(s, 4096);
	for (int32_t i = 0; i < n;) {
		int32_t start = i;
		UChar32 c;
		U8_NEXT((const uint8_t *)s, i, n, c);
		if (c < 0x20 || (c >= 0x7f && c < 0xa0))
			buf_putc(&b, '_');
		else
			buf_append(&b, s + start, (size_t)(i - start));
	}
	const char *t = b.data ? b.data : "";
	size_t tl = b.len;
	while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '.'))
		tl--; /* "a.txt." and "a.txt " are names Windows cannot keep */
	while (tl && *t == ' ')
		t++, tl--;
	if (tl == 0 || (tl == 1 && t[0] == '.') || (tl == 2 && t[0] == '.' && t[1] == '.')) {
		buf_puts(out, "file");
	} else if (tl <= BLOB_FILENAME_MAX) {
		buf_append(out, t, tl);
	} else {
		/* keep a short extension, cut the stem on a character boundary */
		const char *dot = memrchr(t, '.', tl);
		size_t ext = dot && (size_t)(t + tl - dot) <= 16 ? (size_t)(t + tl - dot) : 0;
		size_t stem = BLOB_FILENAME_MAX - ext;
		while (stem && ((unsigned char)t[stem] & 0xc0) == 0x80)
			stem--;
		buf_append(out, t, stem);
		buf_append(out, t + tl - ext, ext);
	}
	buf_free(&b);
}

/* ---- attachment rows ---- */

int blob_attachment_add(const struct scope *s, const struct blob_attachment *a,
			int64_t *id, struct err *e)
{
	int rc = db_sq_int(s,
		"INSERT INTO attachments (account_id, message_id, sha256, size, content_type, "
		"filename, uploaded_by, created_at) VALUES ($1, NULL, $2, $3, $4, $5, $6, $7) "
		"RETURNING id",
		DB_ARGS(DB_TEXT(a->sha256), DB_INT(a->size), DB_TEXT(a->content_type),
			DB_TEXT(a->filename), a->uploaded_by ? DB_INT(a->uploaded_by) : DB_NULLV,
			DB_INT(clock_now_ms())), id, e);
	return rc == 1 ? 0 : -1;
}

int blob_attachment_get(const struct scope *s, int64_t id, struct blob_attachment *out,
			struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT a.id, a.message_id, m.ticket_id, a.uploaded_by, a.size, "
		     "a.sha256, a.content_type, a.filename FROM attachments a "
		     "LEFT JOIN messages m ON m.account_id = a.account_id AND m.id = a.message_id "
		     "WHERE a.account_id = $1 AND a.id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	int rc = -1;
	memset(out, 0, sizeof *out);
	if (res && db_res_next(res)) {
		out->id = db_res_int(res, 0);
		out->message_id = db_res_int(res, 1);
		out->ticket_id = db_res_int(res, 2);
		out->uploaded_by = db_res_int(res, 3);
		out->size = db_res_int(res, 4);
		snprintf(out->sha256, sizeof out->sha256, "%s", db_res_text(res, 5));
		snprintf(out->content_type, sizeof out->content_type, "%s", db_res_text(res, 6));
		snprintf(out->filename, sizeof out->filename, "%s", db_res_text(res, 7));
		rc = 0;
	} else if (db_res_error(res, e) == 0) {
		ERR_NOT_FOUND(e, "attachment not found");
	}
	db_res_free(res);
	return rc;
}

int blob_attachment_readable(const struct scope *s, const struct principal *p,
			     const struct blob_attachment *a, struct err *e)
{
	if (!a->message_id) {
		if (a->uploaded_by && a->uploaded_by == p->user_id)
			return 0;
		ERR_NOT_FOUND(e, "attachment not found");
		return -1;
	}
	if (ticket_visible(s, p, a->ticket_id, e) == 0)
		return 0;
	if (e->status == 404)
		ERR_NOT_FOUND(e, "attachment not found");
	return -1;
}

json_t *blob_attachment_json(const struct blob_attachment *a)
{
	char url[64];
	snprintf(url, sizeof url, "/api/v1/attachments/%lld", (long long)a->id);
	return json_pack("{sI ss ss sI ss ss}", "id", (json_int_t)a->id, "filename",
			 a->filename, "content_type", a->content_type, "size",
			 (json_int_t)a->size, "sha256", a->sha256, "url", url);
}
