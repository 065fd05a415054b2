/* role.c -- see role.h. */
#include "role.h"

#include <string.h>

#include "../util/buf.h"
#include "../util/clock.h"

static int name_valid(const char *n, struct err *e)
{
	if (!n || !n[0] || strlen(n) > 60) {
		ERR_INVALID(e, "role name must be 1-60 characters");
		return 0;
	}
	return 1;
}

static int insert(const struct scope *s, const char *name, uint64_t perms,
		  enum data_scope scope, int builtin, int64_t *id, struct err *e)
{
	json_t *a = rbac_perms_to_json(perms);
	char *pj = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	int rc = db_sq_int(s,
		"INSERT INTO roles (account_id, name, builtin, permissions, "
		"data_scope, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, "
		"$6, $6) RETURNING id",
		DB_ARGS(DB_TEXT(name), DB_INT(builtin), DB_TEXT(pj),
			DB_TEXT(rbac_scope_name(scope)), DB_INT(clock_now_ms())), id, e);
	free(pj);
	rc = rc < 0 ? -1 : 0;
	if (rc < 0 && e->status == 409)
		err_set(e, 409, "conflict", "a role named '%s' exists", name);
	return rc;
}

int role_create_builtins(const struct scope *s, struct err *e)
{
	int n;
	const struct rbac_builtin *b = rbac_builtins(&n);
	for (int i = 0; i < n; i++) {
		int64_t id;
		if (insert(s, b[i].name, b[i].perms, b[i].scope, 1, &id, e) < 0)
			return -1;
	}
	return 0;
}

int role_create(const struct scope *s, const struct role_input *in,
		int64_t *id, struct err *e)
{
	uint64_t perms = 0;
	enum data_scope scope = SCOPE_OWN;
	if (!name_valid(in->name, e))
		return -1;
	if (!in->permissions) {
		ERR_INVALID(e, "permissions is required");
		return -1;
	}
	if (rbac_perms_from_json(in->permissions, &perms, e) < 0)
		return -1;
	if (in->data_scope && rbac_scope_parse(in->data_scope, &scope) < 0) {
		ERR_INVALID(e, "data_scope must be own, team or all");
		return -1;
	}
	return insert(s, in->name, perms, scope, 0, id, e);
}

/* Reads (builtin, name) of a role; 1 found, 0 not, -1 error. */
static int role_kind(const struct scope *s, int64_t id, int *builtin,
		     char *name, size_t n, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT builtin, name FROM roles WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found) {
		*builtin = (int)db_res_int(res, 0);
		snprintf(name, n, "%s", db_res_text(res, 1));
	}
	db_res_free(res);
	if (!found)
		ERR_NOT_FOUND(e, "role not found");
	return found;
}

int role_update(const struct scope *s, int64_t id, const struct role_input *in,
		struct err *e)
{
	int builtin;
	char name[64];
	if (role_kind(s, id, &builtin, name, sizeof name, e) <= 0)
		return -1;
	if (builtin && in->name && strcmp(in->name, name) != 0) {
		ERR_UNPROCESSABLE(e, "built-in roles cannot be renamed");
		return -1;
	}
	if (builtin && strcmp(name, "admin") == 0 && (in->permissions || in->data_scope)) {
		ERR_UNPROCESSABLE(e, "the admin role always has every permission");
		return -1;
	}
	if (in->name && !name_valid(in->name, e))
		return -1;
	char *pj = NULL;
	if (in->permissions) {
		uint64_t perms;
		if (rbac_perms_from_json(in->permissions, &perms, e) < 0)
			return -1;
		json_t *a = rbac_perms_to_json(perms);
		pj = json_dumps(a, JSON_COMPACT);
		json_decref(a);
	}
	enum data_scope scope;
	if (in->data_scope && rbac_scope_parse(in->data_scope, &scope) < 0) {
		free(pj);
		ERR_INVALID(e, "data_scope must be own, team or all");
		return -1;
	}
	int64_t rc = db_sexec(s,
		"UPDATE roles SET name = COALESCE($3, name), "
		"permissions = COALESCE($4, permissions), "
		"data_scope = COALESCE($5, data_scope), updated_at = $6 "
		"WHERE account_id = $1 AND id = $2",
		DB_ARGS(DB_INT(id), DB_TEXT(in->name), DB_TEXT(pj),
			DB_TEXT(in->data_scope), DB_INT(clock_now_ms())), e);
	free(pj);
	if (rc < 0 && e->status == 409)
		err_set(e, 409, "conflict", "a role with that name exists");
	return rc < 0 ? -1 : 0;
}

int role_delete(const struct scope *s, int64_t id, struct err *e)
{
	int builtin;
	char name[64];
	if (role_kind(s, id, &builtin, name, sizeof name, e) <= 0)
		return -1;
	if (builtin) {
		ERR_UNPROCESSABLE(e, "built-in roles cannot be deleted");
		return -1;
	}
	int64_t users = 0;
	if (db_sq_int(s, "SELECT COUNT(*) FROM users WHERE account_id = $1 AND role_id = $2",
		      DB_ARGS(DB_INT(id)), &users, e) < 0)
		return -1;
	if (users > 0) {
		ERR_CONFLICT(e, "%lld users still have this role", (long long)users);
		return -1;
	}
	return db_sexec(s, "DELETE FROM roles WHERE account_id = $1 AND id = $2",
			DB_ARGS(DB_INT(id)), e) < 0 ? -1 : 0;
}

static json_t *row_json(struct db_res *res)
{
	json_t *perms = json_loads(db_res_text(res, 3), 0, NULL);
	return json_pack("{sI ss sb so* ss}", "id", (json_int_t)db_res_int(res, 0),
			 "name", db_res_text(res, 1), "builtin",
			 (int)db_res_int(res, 2), "permissions", perms,
			 "data_scope", db_res_text(res, 4));
}

#define ROLE_COLS "SELECT id, name, builtin, permissions, data_scope FROM roles "

json_t *role_get(const struct scope *s, int64_t id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, ROLE_COLS "WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return NULL;
	json_t *o = NULL;
	if (res && db_res_next(res))
		o = row_json(res);
	else
		ERR_NOT_FOUND(e, "role not found");
	db_res_free(res);
	return o;
}

int role_list(const struct scope *s, json_t *items, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, ROLE_COLS "WHERE account_id = $1 ORDER BY id", DB_NOARGS, &res, e) < 0)
		return -1;
	while (res && db_res_next(res))
		json_array_append_new(items, row_json(res));
	db_res_free(res);
	return 0;
}

int role_find(const struct scope *s, const char *name, int64_t *id,
	      struct err *e)
{
	return db_sq_int(s, "SELECT id FROM roles WHERE account_id = $1 AND name = $2",
			 DB_ARGS(DB_TEXT(name)), id, e);
}

int role_perms(const struct scope *s, int64_t id, uint64_t *perms,
	       struct err *e)
{
	json_t *role = role_get(s, id, e);
	if (!role)
		return -1;
	int rc = rbac_perms_from_json(json_object_get(role, "permissions"), perms, e);
	json_decref(role);
	return rc;
}
