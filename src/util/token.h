/*
 * token.h -- random secrets and their digests (thin wrappers on libsodium).
 *
 * Owns: how Kefu makes session ids, CSRF tokens and API tokens (random,
 * URL-safe base64) and how it stores them (hex SHA-256: a stolen database
 * does not yield usable tokens, and a lookup by digest is an index probe,
 * unlike a salted password hash).
 */
#ifndef KEFU_UTIL_TOKEN_H
#define KEFU_UTIL_TOKEN_H

#include <stddef.h>

#define TOKEN_HEX_LEN 65 /* 64 hex digits of SHA-256 + NUL */

/* Call once at start (sodium_init); -1 if libsodium cannot start. */
int token_init(void);
/* nbytes random bytes as unpadded base64url into out (must hold
 * 4*nbytes/3+2 bytes). */
void token_random(char *out, size_t outlen, size_t nbytes);
/* Hex SHA-256 of len bytes. */
void token_sha256_hex(const void *data, size_t len, char out[TOKEN_HEX_LEN]);
/* Constant-time equality of two NUL-terminated strings. */
int token_equal(const char *a, const char *b);

#endif
