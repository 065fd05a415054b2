/* user.c -- see user.h. */
#include "rowjson.h"
#include "user.h"

#include <ctype.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/clock.h"
#include "auth.h"

int user_email_normalize(char *email)
{
	size_t n = strlen(email);
	char *at = strchr(email, '@');
	if (n < 3 || n > 254 || !at || at == email || strchr(at + 1, '@') ||
	    !strchr(at + 1, '.') || at[1] == '.' || email[n - 1] == '.')
		return -1;
	for (char *p = email; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == 0x7f || c == '"' || c == ',' || c == '<' || c == '>')
			return -1;
		*p = (char)tolower(c);
	}
	return 0;
}

/* Validates the fields present in `in`; copies the normalised e-mail. */
static int check_input(const struct user_input *in, char *email, size_t n,
		       struct err *e)
{
	if (in->email) {
		snprintf(email, n, "%s", in->email);
		if (strlen(in->email) >= n || user_email_normalize(email) < 0) {
			ERR_INVALID(e, "email is not a valid address");
			return -1;
		}
	}
	if (in->name && (!in->name[0] || strlen(in->name) > 200)) {
		ERR_INVALID(e, "name must be 1-200 characters");
		return -1;
	}
	return 0;
}

static int role_exists(const struct scope *s, int64_t role_id, struct err *e)
{
	int64_t one;
	int found = db_sq_int(s, "SELECT 1 FROM roles WHERE account_id = $1 AND id = $2",
			      DB_ARGS(DB_INT(role_id)), &one, e);
	if (found == 0)
		ERR_INVALID(e, "role %lld does not exist", (long long)role_id);
	return found;
}

int user_create(const struct scope *s, const struct user_input *in,
		int64_t *id, struct err *e)
{
	char email[256], hash[AUTH_HASH_LEN] = "";
	if (!in->email || !in->name || !in->role_id) {
		ERR_INVALID(e, "email, name and role are required");
		return -1;
	}
	if (check_input(in, email, sizeof email, e) < 0 ||
	    role_exists(s, in->role_id, e) <= 0)
		return -1;
	if (in->password && auth_password_hash(in->password, hash, e) < 0)
		return -1;
	int64_t now = clock_now_ms();
	int rc = db_sq_int(s,
		"INSERT INTO users (account_id, email, name, role_id, password_hash, "
		"active, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
		"$7) RETURNING id",
		DB_ARGS(DB_TEXT(email), DB_TEXT(in->name), DB_INT(in->role_id),
			DB_TEXT(hash[0] ? hash : NULL), DB_INT(in->active != 0),
			DB_INT(now)), id, e);
	if (rc < 0 && e->status == 409)
		err_set(e, 409, "conflict", "a user with e-mail %s exists", email);
	return rc < 0 ? -1 : 0;
}

int user_update(const struct scope *s, int64_t id, const struct user_input *in,
		struct err *e)
{
	char email[256], hash[AUTH_HASH_LEN] = "";
	if (check_input(in, email, sizeof email, e) < 0)
		return -1;
	if (in->role_id && role_exists(s, in->role_id, e) <= 0)
		return -1;
	if (in->password && auth_password_hash(in->password, hash, e) < 0)
		return -1;
	int64_t n = db_sexec(s,
		"UPDATE users SET email = COALESCE($3, email), name = COALESCE($4, name), "
		"role_id = CASE WHEN $5 = 0 THEN role_id ELSE $5 END, "
		"password_hash = COALESCE($6, password_hash), "
		"active = CASE WHEN $7 < 0 THEN active ELSE $7 END, "
		"failed_logins = CASE WHEN $8 = 1 THEN 0 ELSE failed_logins END, "
		"locked_until = CASE WHEN $8 = 1 THEN 0 ELSE locked_until END, "
		"updated_at = $9 WHERE account_id = $1 AND id = $2",
		DB_ARGS(DB_INT(id), DB_TEXT(in->email ? email : NULL),
			DB_TEXT(in->name), DB_INT(in->role_id),
			DB_TEXT(hash[0] ? hash : NULL), DB_INT(in->active),
			DB_INT(in->unlock), DB_INT(clock_now_ms())), e);
	if (n < 0) {
		if (e->status == 409)
			err_set(e, 409, "conflict", "a user with e-mail %s exists", email);
		return -1;
	}
	if (n == 0) {
		ERR_NOT_FOUND(e, "user not found");
		return -1;
	}
	/* A deactivated user, or one whose password an admin reset, must not
	 * keep working through an old session or token. */
	if (in->active == 0 || in->password)
		return auth_revoke_user(s, id, 0, in->active == 0, e);
	return 0;
}

#define USER_COLS                                                              \
	"SELECT u.id, u.email, u.name, u.role_id, r.name, u.active, "          \
	"u.locked_until, u.last_login_at, u.created_at, "                      \
	"u.password_hash IS NOT NULL FROM users u JOIN roles r ON r.id = u.role_id "

static json_t *row_json(struct db_res *res)
{
	json_t *o = json_pack("{sI ss ss s{sI ss} sb sb sb}",
		"id", (json_int_t)db_res_int(res, 0), "email", db_res_text(res, 1),
		"name", db_res_text(res, 2),
		"role", "id", (json_int_t)db_res_int(res, 3), "name", db_res_text(res, 4),
		"active", (int)db_res_int(res, 5),
		"locked", db_res_int(res, 6) > clock_now_ms(),
		"has_password", (int)db_res_int(res, 9));
	json_object_set_new(o, "locked_until", rj_time(res, 6));
	json_object_set_new(o, "last_login_at", rj_time(res, 7));
	json_object_set_new(o, "created_at", rj_time(res, 8));
	json_object_set_new(o, "teams", json_array());
	return o;
}

/* Adds each user's teams ({id, name}) to the objects in `users`. */
static int add_teams(const struct scope *s, json_t *users, int64_t lo,
		     int64_t hi, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s,
		  "SELECT m.user_id, t.id, t.name FROM team_members m JOIN teams t "
		  "ON t.id = m.team_id WHERE m.account_id = $1 AND m.user_id >= $2 "
		  "AND m.user_id <= $3 ORDER BY t.name",
		  DB_ARGS(DB_INT(lo), DB_INT(hi)), &res, e) < 0)
		return -1;
	while (res && db_res_next(res)) {
		json_int_t uid = db_res_int(res, 0);
		size_t i;
		json_t *u;
		json_array_foreach(users, i, u) {
			if (json_integer_value(json_object_get(u, "id")) != uid)
				continue;
			json_array_append_new(json_object_get(u, "teams"),
				json_pack("{sI ss}", "id", (json_int_t)db_res_int(res, 1),
					  "name", db_res_text(res, 2)));
		}
	}
	db_res_free(res);
	return 0;
}

json_t *user_get(const struct scope *s, int64_t id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, USER_COLS "WHERE u.account_id = $1 AND u.id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return NULL;
	json_t *arr = json_array();
	if (res && db_res_next(res))
		json_array_append_new(arr, row_json(res));
	db_res_free(res);
	json_t *o = NULL;
	if (json_array_size(arr) == 0)
		ERR_NOT_FOUND(e, "user not found");
	else if (add_teams(s, arr, id, id, e) == 0)
		o = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return o;
}

int user_list(const struct scope *s, int64_t after, int limit, json_t *items,
	      int64_t *next, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, USER_COLS "WHERE u.account_id = $1 AND u.id > $2 "
		  "ORDER BY u.id LIMIT $3",
		  DB_ARGS(DB_INT(after), DB_INT(limit + 1)), &res, e) < 0)
		return -1;
	json_t *page = json_array();
	int64_t first = 0, last = 0;
	*next = 0;
	while (res && db_res_next(res)) {
		if ((int)json_array_size(page) == limit) {
			*next = last;
			break;
		}
		last = db_res_int(res, 0);
		if (!first)
			first = last;
		json_array_append_new(page, row_json(res));
	}
	db_res_free(res);
	int rc = first ? add_teams(s, page, first, last, e) : 0;
	json_array_extend(items, page);
	json_decref(page);
	return rc;
}

int user_settings_set(const struct scope *s, int64_t id, const char *locale,
		      const json_t *preferences, struct err *e)
{
	if (locale && locale[0] && strcmp(locale, "zh-CN") && strcmp(locale, "zh-TW") &&
	    strcmp(locale, "en")) {
		ERR_INVALID(e, "locale must be zh-CN, zh-TW, en or null");
		return -1;
	}
	char *prefs = NULL;
	if (preferences) {
		prefs = json_is_object(preferences) ? json_dumps(preferences, JSON_COMPACT) : NULL;
		if (!prefs || strlen(prefs) > USER_PREFS_MAX) {
			free(prefs);
			ERR_INVALID(e, "preferences must be an object of at most %d bytes",
				    USER_PREFS_MAX);
			return -1;
		}
	}
	int64_t n = db_sexec(s, "UPDATE users SET locale = CASE WHEN CAST($3 AS TEXT) IS NULL "
				"THEN locale WHEN $3 = '' THEN NULL ELSE $3 END, preferences = "
				"COALESCE(CAST($4 AS TEXT), preferences), updated_at = $5 WHERE "
				"account_id = $1 AND id = $2",
			     DB_ARGS(DB_INT(id), DB_TEXT(locale), DB_TEXT(prefs),
				     DB_INT(clock_now_ms())), e);
	free(prefs);
	return n < 0 ? -1 : 0;
}

int user_settings_add(const struct scope *s, int64_t id, json_t *u, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT locale, preferences FROM users WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	if (res && db_res_next(res)) {
		const char *l = db_res_text(res, 0);
		json_t *p = json_loads(db_res_text(res, 1), 0, NULL);
		json_object_set_new(u, "locale", l ? json_string(l) : json_null());
		json_object_set_new(u, "preferences", json_is_object(p) ? json_incref(p) : json_object());
		json_decref(p);
	}
	db_res_free(res);
	return 0;
}
