/*
 * secret.h -- settings that must not be stored in clear (mailbox passwords
 * for IMAP and SMTP), sealed with a per-installation key.
 *
 * Owns: the key file <data>/secret.key (32 random bytes, mode 0600,
 * created on first use; two processes creating it at once agree on one),
 * and sealing/opening with libsodium's crypto_secretbox (XSalsa20-Poly1305,
 * a random nonce per seal).  A sealed value is text: "v1:" followed by the
 * URL-safe base64 of nonce || ciphertext.  Losing the key file makes the
 * sealed values unreadable (the passwords must be entered again); copying
 * a database without its data directory carries no password in clear.
 *
 * The data directory is given once at start-up (secret_init, from
 * cli_open_db); the key is read lazily, under a mutex, and kept in memory.
 */
#ifndef KEFU_CORE_SECRET_H
#define KEFU_CORE_SECRET_H

#include "../util/buf.h"
#include "../util/err.h"

/* Where the key lives: data_dir/secret.key.  Call before any other thread
 * uses this module; calling it again with another directory forgets the
 * loaded key. */
void secret_init(const char *data_dir);

/* Appends the sealed form of plain to out.  0, or -1 with e (500: no data
 * directory given, key file unreadable or not creatable). */
int secret_seal(const char *plain, struct buf *out, struct err *e);

/* Appends the clear text of sealed to out (NUL-terminated).  0, or -1 with
 * e: 400 when sealed is not a value sealed with this installation's key,
 * 500 when the key cannot be read. */
int secret_open(const char *sealed, struct buf *out, struct err *e);

#endif
