/*
 * auth.h -- authentication of staff: passwords, login, sessions, API tokens.
 *
 * Owns: argon2id password hashing (libsodium), login with lockout after
 * repeated failures, session creation/lookup/expiry (the cookie value is a
 * random token; only its SHA-256 is stored), API tokens for
 * `Authorization: Bearer` (also stored as SHA-256, shown once), logout and
 * password change.  What an authenticated caller may do is rbac.h's job.
 */
#ifndef KEFU_CORE_AUTH_H
#define KEFU_CORE_AUTH_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"
#include "rbac.h"

#define AUTH_HASH_LEN 128 /* >= crypto_pwhash_STRBYTES */
#define AUTH_TOKEN_LEN 64 /* cookie, CSRF and API token strings */
#define AUTH_PASSWORD_MIN 8
#define AUTH_PASSWORD_MAX 256

/* Policy check + argon2id hash into out.  0 or -1 (400 weak_password). */
int auth_password_hash(const char *password, char out[AUTH_HASH_LEN],
		       struct err *e);
int auth_password_verify(const char *hash, const char *password);

struct auth_policy {
	int64_t session_ttl_ms;
	int64_t max_failures;
	int64_t lockout_ms;
};

struct auth_login_in {
	const char *email;
	const char *password;
	const char *account; /* slug; NULL when the e-mail is unambiguous */
	const char *ip;
	const char *user_agent;
	const char *request_id;
};

struct auth_login_out {
	char session[AUTH_TOKEN_LEN]; /* cookie value */
	int64_t expires_at;
	int64_t retry_after_s; /* set with a lockout error */
	struct principal who;
};

/* Checks the password and opens a session, recording the outcome (failure
 * counter, lockout, audit entry) in its own transaction.  Errors: 401
 * invalid_credentials, 429 locked (retry_after_s set), 422
 * account_required when the e-mail exists in several accounts. */
int auth_login(struct db *db, const struct auth_policy *pol,
	       const struct auth_login_in *in, struct auth_login_out *out,
	       struct err *e);

/* Session cookie -> principal.  1 valid, 0 unknown/expired, -1 error.
 * Extends the session's expiry (at most once a minute). */
int auth_session(struct db *db, const struct auth_policy *pol,
		 const char *cookie, struct principal *who, struct err *e);
/* Bearer token -> principal.  1 valid, 0 unknown/revoked/expired, -1 error. */
int auth_bearer(struct db *db, const char *token, struct principal *who,
		struct err *e);

int auth_logout(const struct scope *s, int64_t session_id, struct err *e);
/* Verify the old password, set the new one, end the user's other sessions. */
int auth_password_change(const struct scope *s, const struct principal *who,
			 const char *old_pw, const char *new_pw, struct err *e);
/* End a user's sessions except keep_session (0: all); with tokens=1 also
 * revoke the user's API tokens. */
int auth_revoke_user(const struct scope *s, int64_t user_id,
		     int64_t keep_session, int tokens, struct err *e);

/* API tokens of the calling user. */
int auth_token_create(const struct scope *s, int64_t user_id, const char *name,
		      int64_t expires_at, char token[AUTH_TOKEN_LEN], int64_t *id,
		      struct err *e);
int auth_token_list(const struct scope *s, int64_t user_id, json_t *items,
		    struct err *e);
int auth_token_revoke(const struct scope *s, int64_t user_id, int64_t id,
		      struct err *e);

#endif
