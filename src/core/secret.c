/* secret.c -- see secret.h. */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECRET_PREFIX "v1:"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char key_path[4096];
static unsigned char key[crypto_secretbox_KEYBYTES];
static int key_loaded;

void secret_init(const char *data_dir)
{
	pthread_mutex_lock(&mu);
	snprintf(key_path, sizeof key_path, "%s/secret.key", data_dir ? data_dir : "");
	if (!data_dir || !data_dir[0])
		key_path[0] = '\0';
	sodium_memzero(key, sizeof key);
	key_loaded = 0;
	pthread_mutex_unlock(&mu);
}

static int read_key(const char *path, unsigned char *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	ssize_t n = read(fd, out, crypto_secretbox_KEYBYTES);
	close(fd);
	return n == crypto_secretbox_KEYBYTES ? 1 : -1;
}

/* A new key written whole to a temporary file, then linked into place:
 * link() fails with EEXIST when another process won the race, and then
 * that process's key is the one. */
static int create_key(const char *path)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	unsigned char k[crypto_secretbox_KEYBYTES];
	crypto_secretbox_keygen(k);
	int ok = write(fd, k, sizeof k) == (ssize_t)sizeof k && fsync(fd) == 0;
	sodium_memzero(k, sizeof k);
	ok = close(fd) == 0 && ok;
	if (ok && link(tmp, path) < 0 && errno != EEXIST)
		ok = 0;
	unlink(tmp);
	return ok ? 0 : -1;
}

/* Under mu. */
static int load_key(struct err *e)
{
	if (key_loaded)
		return 0;
	if (!key_path[0]) {
		ERR_INTERNAL(e, "secrets: no data directory configured");
		return -1;
	}
	int rc = read_key(key_path, key);
	if (rc == 0 && create_key(key_path) == 0)
		rc = read_key(key_path, key);
	if (rc <= 0) {
		ERR_INTERNAL(e, "secrets: cannot read or create %s: %s", key_path,
			     rc < 0 && errno ? strerror(errno) : "wrong size");
		return -1;
	}
	key_loaded = 1;
	return 0;
}

int secret_seal(const char *plain, struct buf *out, struct err *e)
{
	size_t n = strlen(plain);
	size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
	unsigned char *box = xmalloc(blen);
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	pthread_mutex_lock(&mu);
	int rc = load_key(e);
	if (rc == 0)
		crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES,
				      (const unsigned char *)plain, n, box, key);
	pthread_mutex_unlock(&mu);
	if (rc == 0) {
		size_t b64 = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		buf_puts(out, SECRET_PREFIX);
		buf_reserve(out, b64);
		sodium_bin2base64(out->data + out->len, b64, box, blen,
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		out->len += b64 - 1;
	}
	free(box);
	return rc;
}

int secret_open(const char *sealed, struct buf *out, struct err *e)
{
	size_t plen = strlen(SECRET_PREFIX);
	if (!sealed || strncmp(sealed, SECRET_PREFIX, plen) != 0) {
		ERR_INVALID(e, "not a sealed secret");
		return -1;
	}
	const char *b64 = sealed + plen;
	size_t cap = strlen(b64), blen = 0;
	unsigned char *box = xmalloc(cap + 1);
	if (sodium_base642bin(box, cap + 1, b64, cap, NULL, &blen, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) < 0 ||
	    blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
		free(box);
		ERR_INVALID(e, "not a sealed secret");
		return -1;
	}
	size_t n = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	buf_reserve(out, n + 1);
	pthread_mutex_lock(&mu);
	int rc = load_key(e);
	if (rc == 0 && crypto_secretbox_open_easy((unsigned char *)out->data + out->len,
						  box + crypto_secretbox_NONCEBYTES,
						  blen - crypto_secretbox_NONCEBYTES, box, key) < 0) {
		ERR_INVALID(e, "sealed secret does not open with this installation's key");
		rc = -1;
	}
	pthread_mutex_unlock(&mu);
	free(box);
	if (rc == 0) {
		out->len += n;
		out->data[out->len] = '\0';
	}
	return rc;
}
