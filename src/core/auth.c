/*
 * auth.c -- see auth.h.
 *
 * Password checks run outside any transaction: argon2id takes tens of
 * milliseconds and 64 MiB by design, and holding SQLite's write lock that
 * long would stall every other writer.
 */
#include "rowjson.h"
#include "auth.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "../util/clock.h"
#include "../util/log.h"
#include "../util/token.h"
#include "audit.h"
#include "user.h"

#define SESSION_TOUCH_MS 60000

int auth_password_hash(const char *password, char out[AUTH_HASH_LEN],
		       struct err *e)
{
	size_t n = password ? strlen(password) : 0;
	if (n < AUTH_PASSWORD_MIN || n > AUTH_PASSWORD_MAX) {
		err_set(e, 400, "weak_password", "password must be %d-%d characters",
			AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
		return -1;
	}
	if (crypto_pwhash_str(out, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		ERR_INTERNAL(e, "password hashing failed (out of memory)");
		return -1;
	}
	return 0;
}

int auth_password_verify(const char *hash, const char *password)
{
	if (!hash || !password)
		return 0;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* A hash to verify against when the e-mail is unknown, so that a wrong
 * address costs the same time as a wrong password. */
static char dummy_hash[AUTH_HASH_LEN];
static void make_dummy(void)
{
	char pw[32];
	token_random(pw, sizeof pw, 16);
	auth_password_hash(pw, dummy_hash, NULL);
}

static const char *PRINCIPAL_COLS =
	"u.id, u.account_id, u.email, u.name, r.id, r.name, r.permissions, "
	"r.data_scope";

/* Fills who from the 8 principal columns starting at col. */
static void fill_principal(struct db_res *res, int col, struct principal *who)
{
	who->user_id = db_res_int(res, col);
	who->account_id = db_res_int(res, col + 1);
	snprintf(who->email, sizeof who->email, "%s", db_res_text(res, col + 2));
	snprintf(who->name, sizeof who->name, "%s", db_res_text(res, col + 3));
	who->role_id = db_res_int(res, col + 4);
	snprintf(who->role, sizeof who->role, "%s", db_res_text(res, col + 5));
	json_t *perms = json_loads(db_res_text(res, col + 6), 0, NULL);
	struct err ignore;
	/* A permission removed from Kefu in a later version fails the parse;
	 * grant nothing rather than guess. */
	if (!perms || rbac_perms_from_json(perms, &who->perms, &ignore) < 0)
		who->perms = 0;
	json_decref(perms);
	if (rbac_scope_parse(db_res_text(res, col + 7), &who->scope) < 0)
		who->scope = SCOPE_OWN;
}

struct candidate {
	int64_t id, account_id, locked_until;
	char hash[AUTH_HASH_LEN];
	int active;
};

/* The user an e-mail (and optional account slug) names.  1 found, 0 none,
 * -1 error (422 when ambiguous). */
static int find_candidate(struct db *db, const char *email, const char *account,
			  struct candidate *c, struct err *e)
{
	struct db_res *res = NULL;
	if (db_query(db,
		     "SELECT u.id, u.account_id, u.password_hash, u.active, "
		     "u.locked_until FROM users u JOIN accounts a ON a.id = u.account_id "
		     "WHERE u.email = $1 AND a.slug = COALESCE($2, a.slug) LIMIT 2",
		     DB_ARGS(DB_TEXT(email), DB_TEXT(account)), &res, e) < 0)
		return -1;
	int n = 0;
	while (res && db_res_next(res)) {
		if (++n > 1)
			break;
		c->id = db_res_int(res, 0);
		c->account_id = db_res_int(res, 1);
		const char *h = db_res_text(res, 2);
		snprintf(c->hash, sizeof c->hash, "%s", h ? h : "");
		c->active = (int)db_res_int(res, 3);
		c->locked_until = db_res_int(res, 4);
	}
	db_res_free(res);
	if (n > 1) {
		err_set(e, 422, "account_required",
			"this e-mail belongs to several accounts; give \"account\"");
		return -1;
	}
	return n;
}

static int record_failure(struct db *db, const struct auth_policy *pol,
			  const struct candidate *c, const struct auth_login_in *in,
			  int64_t *locked_until, struct err *e)
{
	struct scope s = {db, c->account_id};
	int64_t now = clock_now_ms();
	struct db_res *res = NULL;
	/* An expired lockout starts a fresh count; SET expressions all see the
	 * old row, so the lock decision uses the same count it stores. */
	if (db_sq(&s,
		  "UPDATE users SET "
		  "failed_logins = CASE WHEN locked_until > 0 AND locked_until <= $3 "
		  "  THEN 1 ELSE failed_logins + 1 END, "
		  "locked_until = CASE WHEN (CASE WHEN locked_until > 0 AND "
		  "  locked_until <= $3 THEN 1 ELSE failed_logins + 1 END) >= $4 "
		  "  THEN $3 + $5 WHEN locked_until <= $3 THEN 0 ELSE locked_until END "
		  "WHERE account_id = $1 AND id = $2 RETURNING locked_until",
		  DB_ARGS(DB_INT(c->id), DB_INT(now), DB_INT(pol->max_failures),
			  DB_INT(pol->lockout_ms)), &res, e) < 0)
		return -1;
	*locked_until = res && db_res_next(res) ? db_res_int(res, 0) : 0;
	db_res_free(res);
	struct audit_actor actor = {"user", c->id, in->email, in->ip, in->request_id};
	json_t *d = json_pack("{sb}", "locked", *locked_until > now);
	int rc = audit_record(&s, &actor, "auth.login_failed", "user", c->id, d, e);
	json_decref(d);
	return rc;
}

static int open_session(struct db *db, const struct auth_policy *pol,
			const struct candidate *c, const struct auth_login_in *in,
			struct auth_login_out *out, struct err *e)
{
	struct scope s = {db, c->account_id};
	int64_t now = clock_now_ms(), sid;
	char hash[TOKEN_HEX_LEN], csrf[AUTH_TOKEN_LEN];
	token_random(out->session, sizeof out->session, 32);
	token_random(csrf, sizeof csrf, 24);
	token_sha256_hex(out->session, strlen(out->session), hash);
	out->expires_at = now + pol->session_ttl_ms;
	if (db_sexec(&s,
		     "UPDATE users SET failed_logins = 0, locked_until = 0, "
		     "last_login_at = $3 WHERE account_id = $1 AND id = $2",
		     DB_ARGS(DB_INT(c->id), DB_INT(now)), e) < 0)
		return -1;
	if (db_sq_int(&s,
		      "INSERT INTO sessions (account_id, user_id, token_hash, "
		      "csrf_token, ip, user_agent, created_at, last_seen_at, "
		      "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) "
		      "RETURNING id",
		      DB_ARGS(DB_INT(c->id), DB_TEXT(hash), DB_TEXT(csrf),
			      DB_TEXT(in->ip ? in->ip : ""),
			      DB_TEXT(in->user_agent ? in->user_agent : ""),
			      DB_INT(now), DB_INT(out->expires_at)), &sid, e) < 0)
		return -1;
	struct audit_actor actor = {"user", c->id, in->email, in->ip, in->request_id};
	if (audit_record(&s, &actor, "auth.login", "session", sid, NULL, e) < 0)
		return -1;
	out->who.session_id = sid;
	snprintf(out->who.csrf, sizeof out->who.csrf, "%s", csrf);
	return 0;
}

/* Ends the transaction begun by the caller: commit when the work in it
 * (rc_fn) succeeded, roll back otherwise. */
static int finish_tx(struct db *db, int rc_fn, struct err *e)
{
	if (rc_fn < 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, e);
}

static int load_principal_by_id(struct db *db, int64_t user_id,
				struct principal *who, struct err *e)
{
	struct db_res *res = NULL;
	char sql[512];
	snprintf(sql, sizeof sql,
		 "SELECT %s FROM users u JOIN roles r ON r.id = u.role_id "
		 "WHERE u.id = $1", PRINCIPAL_COLS);
	if (db_query(db, sql, DB_ARGS(DB_INT(user_id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found)
		fill_principal(res, 0, who);
	db_res_free(res);
	return found ? 0 : -1;
}

int auth_login(struct db *db, const struct auth_policy *pol,
	       const struct auth_login_in *in, struct auth_login_out *out,
	       struct err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, make_dummy);
	memset(out, 0, sizeof *out);
	char email[256];
	snprintf(email, sizeof email, "%s", in->email ? in->email : "");
	struct candidate c = {0};
	int found = user_email_normalize(email) == 0
		? find_candidate(db, email, in->account, &c, e) : 0;
	if (found < 0)
		return -1;
	int64_t now = clock_now_ms();
	if (found && c.locked_until > now) {
		out->retry_after_s = (c.locked_until - now + 999) / 1000;
		err_set(e, 429, "locked", "too many failed logins; try again in %lld seconds",
			(long long)out->retry_after_s);
		return -1;
	}
	int ok = auth_password_verify(found && c.hash[0] ? c.hash : dummy_hash,
				      in->password) && found && c.hash[0] && c.active;
	if (!ok) {
		int64_t locked_until = 0;
		if (found && (db_begin(db, e) < 0 ||
			      finish_tx(db, record_failure(db, pol, &c, in, &locked_until, e), e) < 0))
			return -1;
		if (locked_until > now) {
			out->retry_after_s = (locked_until - now + 999) / 1000;
			err_set(e, 429, "locked", "too many failed logins; try again in %lld seconds",
				(long long)out->retry_after_s);
		} else {
			err_set(e, 401, "invalid_credentials", "e-mail or password is wrong");
		}
		return -1;
	}
	if (db_begin(db, e) < 0 ||
	    finish_tx(db, open_session(db, pol, &c, in, out, e), e) < 0)
		return -1;
	char csrf[AUTH_TOKEN_LEN];
	int64_t sid = out->who.session_id;
	snprintf(csrf, sizeof csrf, "%s", out->who.csrf);
	if (load_principal_by_id(db, c.id, &out->who, e) < 0)
		return -1;
	out->who.session_id = sid;
	snprintf(out->who.csrf, sizeof out->who.csrf, "%s", csrf);
	return 0;
}

int auth_session(struct db *db, const struct auth_policy *pol,
		 const char *cookie, struct principal *who, struct err *e)
{
	char hash[TOKEN_HEX_LEN], sql[600];
	token_sha256_hex(cookie, strlen(cookie), hash);
	snprintf(sql, sizeof sql,
		 "SELECT s.id, s.csrf_token, s.expires_at, s.last_seen_at, %s "
		 "FROM sessions s JOIN users u ON u.id = s.user_id "
		 "JOIN roles r ON r.id = u.role_id "
		 "WHERE s.token_hash = $1 AND u.active = 1", PRINCIPAL_COLS);
	struct db_res *res = NULL;
	if (db_query(db, sql, DB_ARGS(DB_TEXT(hash)), &res, e) < 0)
		return -1;
	int64_t now = clock_now_ms(), last_seen = 0;
	int ok = res && db_res_next(res) && db_res_int(res, 2) > now;
	if (ok) {
		memset(who, 0, sizeof *who);
		who->session_id = db_res_int(res, 0);
		snprintf(who->csrf, sizeof who->csrf, "%s", db_res_text(res, 1));
		last_seen = db_res_int(res, 3);
		fill_principal(res, 4, who);
	}
	db_res_free(res);
	if (ok && now - last_seen > SESSION_TOUCH_MS)
		db_exec(db, "UPDATE sessions SET last_seen_at = $2, expires_at = $3 "
			    "WHERE id = $1",
			DB_ARGS(DB_INT(who->session_id), DB_INT(now),
				DB_INT(now + pol->session_ttl_ms)), NULL);
	return ok;
}

int auth_bearer(struct db *db, const char *token, struct principal *who,
		struct err *e)
{
	char hash[TOKEN_HEX_LEN], sql[600];
	token_sha256_hex(token, strlen(token), hash);
	snprintf(sql, sizeof sql,
		 "SELECT t.id, t.expires_at, t.last_used_at, %s "
		 "FROM api_tokens t JOIN users u ON u.id = t.user_id "
		 "JOIN roles r ON r.id = u.role_id WHERE t.token_hash = $1 "
		 "AND t.revoked_at IS NULL AND u.active = 1", PRINCIPAL_COLS);
	struct db_res *res = NULL;
	if (db_query(db, sql, DB_ARGS(DB_TEXT(hash)), &res, e) < 0)
		return -1;
	int64_t now = clock_now_ms(), last_used = 0;
	int ok = res && db_res_next(res) &&
		 (db_res_isnull(res, 1) || db_res_int(res, 1) > now);
	if (ok) {
		memset(who, 0, sizeof *who);
		who->token_id = db_res_int(res, 0);
		last_used = db_res_isnull(res, 2) ? 0 : db_res_int(res, 2);
		fill_principal(res, 3, who);
	}
	db_res_free(res);
	if (ok && now - last_used > SESSION_TOUCH_MS)
		db_exec(db, "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1",
			DB_ARGS(DB_INT(who->token_id), DB_INT(now)), NULL);
	return ok;
}

int auth_logout(const struct scope *s, int64_t session_id, struct err *e)
{
	return db_sexec(s, "DELETE FROM sessions WHERE account_id = $1 AND id = $2",
			DB_ARGS(DB_INT(session_id)), e) < 0 ? -1 : 0;
}

int auth_revoke_user(const struct scope *s, int64_t user_id,
		     int64_t keep_session, int tokens, struct err *e)
{
	if (db_sexec(s, "DELETE FROM sessions WHERE account_id = $1 AND user_id = $2 "
			"AND id <> $3",
		     DB_ARGS(DB_INT(user_id), DB_INT(keep_session)), e) < 0)
		return -1;
	if (tokens && db_sexec(s, "UPDATE api_tokens SET revoked_at = $3 WHERE "
				  "account_id = $1 AND user_id = $2 AND revoked_at IS NULL",
			       DB_ARGS(DB_INT(user_id), DB_INT(clock_now_ms())), e) < 0)
		return -1;
	return 0;
}

int auth_password_change(const struct scope *s, const struct principal *who,
			 const char *old_pw, const char *new_pw, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT password_hash FROM users WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(who->user_id)), &res, e) < 0)
		return -1;
	char hash[AUTH_HASH_LEN] = "";
	if (res && db_res_next(res) && !db_res_isnull(res, 0))
		snprintf(hash, sizeof hash, "%s", db_res_text(res, 0));
	db_res_free(res);
	if (!auth_password_verify(hash, old_pw)) {
		err_set(e, 403, "invalid_credentials", "the current password is wrong");
		return -1;
	}
	char fresh[AUTH_HASH_LEN];
	if (auth_password_hash(new_pw, fresh, e) < 0)
		return -1;
	if (db_sexec(s, "UPDATE users SET password_hash = $3, updated_at = $4 "
			"WHERE account_id = $1 AND id = $2",
		     DB_ARGS(DB_INT(who->user_id), DB_TEXT(fresh),
			     DB_INT(clock_now_ms())), e) < 0)
		return -1;
	return auth_revoke_user(s, who->user_id, who->session_id, 0, e);
}

int auth_token_create(const struct scope *s, int64_t user_id, const char *name,
		      int64_t expires_at, char token[AUTH_TOKEN_LEN], int64_t *id,
		      struct err *e)
{
	if (!name || !name[0] || strlen(name) > 100) {
		ERR_INVALID(e, "token name must be 1-100 characters");
		return -1;
	}
	char rnd[48], hash[TOKEN_HEX_LEN], prefix[16]; /* 32 bytes: 43 base64 chars */
	token_random(rnd, sizeof rnd, 32);
	snprintf(token, AUTH_TOKEN_LEN, "kefu_%s", rnd);
	token_sha256_hex(token, strlen(token), hash);
	snprintf(prefix, sizeof prefix, "%.12s", token);
	return db_sq_int(s,
		"INSERT INTO api_tokens (account_id, user_id, name, token_hash, "
		"prefix, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
		"RETURNING id",
		DB_ARGS(DB_INT(user_id), DB_TEXT(name), DB_TEXT(hash),
			DB_TEXT(prefix), DB_INT(clock_now_ms()),
			expires_at ? DB_INT(expires_at) : DB_NULLV), id, e) < 0 ? -1 : 0;
}

int auth_token_list(const struct scope *s, int64_t user_id, json_t *items,
		    struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT id, name, prefix, created_at, last_used_at, expires_at "
		     "FROM api_tokens WHERE account_id = $1 AND user_id = $2 AND "
		     "revoked_at IS NULL ORDER BY id",
		  DB_ARGS(DB_INT(user_id)), &res, e) < 0)
		return -1;
	while (res && db_res_next(res)) {
		json_t *o = json_pack("{sI ss ss}", "id", (json_int_t)db_res_int(res, 0),
				      "name", db_res_text(res, 1), "prefix",
				      db_res_text(res, 2));
		json_object_set_new(o, "created_at", rj_time(res, 3));
		json_object_set_new(o, "last_used_at", rj_time(res, 4));
		json_object_set_new(o, "expires_at", rj_time(res, 5));
		json_array_append_new(items, o);
	}
	db_res_free(res);
	return 0;
}

int auth_token_revoke(const struct scope *s, int64_t user_id, int64_t id,
		      struct err *e)
{
	int64_t n = db_sexec(s, "UPDATE api_tokens SET revoked_at = $4 WHERE "
				"account_id = $1 AND user_id = $2 AND id = $3 AND "
				"revoked_at IS NULL",
			     DB_ARGS(DB_INT(user_id), DB_INT(id), DB_INT(clock_now_ms())), e);
	if (n == 0)
		ERR_NOT_FOUND(e, "token not found");
	return n > 0 ? 0 : -1;
}
