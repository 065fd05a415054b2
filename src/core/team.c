/* team.c -- see team.h. */
#include "team.h"

#include <string.h>

#include "../util/clock.h"

static int check(const char *name, const char *description, struct err *e)
{
	if (name && (!name[0] || strlen(name) > 100)) {
		ERR_INVALID(e, "team name must be 1-100 characters");
		return -1;
	}
	if (description && strlen(description) > 2000) {
		ERR_INVALID(e, "description must be at most 2000 characters");
		return -1;
	}
	return 0;
}

static void name_conflict(struct err *e, const char *name)
{
	if (e->status == 409)
		err_set(e, 409, "conflict", "a team named '%s' exists", name);
}

int team_create(const struct scope *s, const char *name,
		const char *description, int64_t *id, struct err *e)
{
	if (!name) {
		ERR_INVALID(e, "name is required");
		return -1;
	}
	if (check(name, description, e) < 0)
		return -1;
	int rc = db_sq_int(s,
		"INSERT INTO teams (account_id, name, description, created_at, "
		"updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
		DB_ARGS(DB_TEXT(name), DB_TEXT(description ? description : ""),
			DB_INT(clock_now_ms())), id, e);
	if (rc < 0)
		name_conflict(e, name);
	return rc < 0 ? -1 : 0;
}

int team_update(const struct scope *s, int64_t id, const char *name,
		const char *description, struct err *e)
{
	if (check(name, description, e) < 0)
		return -1;
	int64_t n = db_sexec(s,
		"UPDATE teams SET name = COALESCE($3, name), "
		"description = COALESCE($4, description), updated_at = $5 "
		"WHERE account_id = $1 AND id = $2",
		DB_ARGS(DB_INT(id), DB_TEXT(name), DB_TEXT(description),
			DB_INT(clock_now_ms())), e);
	if (n < 0)
		name_conflict(e, name ? name : "");
	else if (n == 0)
		ERR_NOT_FOUND(e, "team not found");
	return n > 0 ? 0 : -1;
}

int team_delete(const struct scope *s, int64_t id, struct err *e)
{
	int64_t n = db_sexec(s, "DELETE FROM teams WHERE account_id = $1 AND id = $2",
			     DB_ARGS(DB_INT(id)), e);
	if (n == 0)
		ERR_NOT_FOUND(e, "team not found");
	return n > 0 ? 0 : -1;
}

static int add_members(const struct scope *s, json_t *team, int64_t id,
		       struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s,
		  "SELECT u.id, u.name, u.email FROM team_members m JOIN users u "
		  "ON u.id = m.user_id WHERE m.account_id = $1 AND m.team_id = $2 "
		  "ORDER BY u.name",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	json_t *members = json_array();
	while (res && db_res_next(res))
		json_array_append_new(members,
			json_pack("{sI ss ss}", "id", (json_int_t)db_res_int(res, 0),
				  "name", db_res_text(res, 1), "email", db_res_text(res, 2)));
	db_res_free(res);
	json_object_set_new(team, "members", members);
	return 0;
}

#define TEAM_COLS                                                            \
	"SELECT t.id, t.name, t.description, (SELECT COUNT(*) FROM team_members " \
	"m WHERE m.team_id = t.id) FROM teams t "

static json_t *row_json(struct db_res *res)
{
	return json_pack("{sI ss ss sI}", "id", (json_int_t)db_res_int(res, 0),
			 "name", db_res_text(res, 1), "description",
			 db_res_text(res, 2), "member_count",
			 (json_int_t)db_res_int(res, 3));
}

json_t *team_get(const struct scope *s, int64_t id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, TEAM_COLS "WHERE t.account_id = $1 AND t.id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return NULL;
	json_t *o = res && db_res_next(res) ? row_json(res) : NULL;
	db_res_free(res);
	if (!o) {
		ERR_NOT_FOUND(e, "team not found");
		return NULL;
	}
	if (add_members(s, o, id, e) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int team_list(const struct scope *s, json_t *items, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, TEAM_COLS "WHERE t.account_id = $1 ORDER BY t.name",
		  DB_NOARGS, &res, e) < 0)
		return -1;
	while (res && db_res_next(res))
		json_array_append_new(items, row_json(res));
	db_res_free(res);
	return 0;
}

/* Both ids must belong to the account: the foreign keys alone would accept
 * another account's user. */
static int check_pair(const struct scope *s, int64_t team_id, int64_t user_id,
		      struct err *e)
{
	int64_t n = 0;
	if (db_sq_int(s,
		      "SELECT (SELECT COUNT(*) FROM teams WHERE account_id = $1 AND id = $2) "
		      "+ 2 * (SELECT COUNT(*) FROM users WHERE account_id = $1 AND id = $3)",
		      DB_ARGS(DB_INT(team_id), DB_INT(user_id)), &n, e) < 0)
		return -1;
	if (!(n & 1)) {
		ERR_NOT_FOUND(e, "team not found");
		return -1;
	}
	if (!(n & 2)) {
		ERR_NOT_FOUND(e, "user not found");
		return -1;
	}
	return 0;
}

int team_member_add(const struct scope *s, int64_t team_id, int64_t user_id,
		    struct err *e)
{
	if (check_pair(s, team_id, user_id, e) < 0)
		return -1;
	return db_sexec(s,
		"INSERT INTO team_members (account_id, team_id, user_id) VALUES "
		"($1, $2, $3) ON CONFLICT DO NOTHING",
		DB_ARGS(DB_INT(team_id), DB_INT(user_id)), e) < 0 ? -1 : 0;
}

int team_member_remove(const struct scope *s, int64_t team_id,
		       int64_t user_id, struct err *e)
{
	if (check_pair(s, team_id, user_id, e) < 0)
		return -1;
	return db_sexec(s,
		"DELETE FROM team_members WHERE account_id = $1 AND team_id = $2 "
		"AND user_id = $3",
		DB_ARGS(DB_INT(team_id), DB_INT(user_id)), e) < 0 ? -1 : 0;
}
