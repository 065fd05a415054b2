/*
 * roles.c -- /api/v1/roles and /api/v1/permissions.
 *
 * As with users, a caller cannot define a role holding permissions the
 * caller lacks.
 */
#include "../core/role.h"
#include "api.h"
#include "input.h"

static void reply_role(struct req *r, int status, int64_t id)
{
	struct err e = {0};
	json_t *o = role_get(api_scope(r), id, &e);
	if (!o)
		api_fail(r, &e);
	else
		reply_json(r, status, o);
}

static int within_caller(struct req *r, const json_t *perms, struct err *e)
{
	uint64_t set;
	if (!perms)
		return 0;
	if (rbac_perms_from_json(perms, &set, e) < 0)
		return -1;
	if (set & ~api_ctx(r)->who.perms) {
		err_set(e, 403, "forbidden", "a role cannot hold permissions you do not have");
		return -1;
	}
	return 0;
}

static void role_write(struct req *r, int64_t id)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"name", "permissions", "data_scope", NULL};
	struct role_input in;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "name", id == 0, &in.name, &e) < 0 ||
	    in_array(body, "permissions", id == 0, &in.permissions, &e) < 0 ||
	    in_str(body, "data_scope", 0, &in.data_scope, &e) < 0 ||
	    within_caller(r, in.permissions, &e) < 0)
		goto fail;
	if (api_begin(r) < 0)
		goto out;
	if ((id ? role_update(api_scope(r), id, &in, &e)
		: role_create(api_scope(r), &in, &id, &e)) < 0)
		goto fail;
	if (api_audit(r, r->method == HTTP_POST ? "role.create" : "role.update", "role",
		      id, body) == 0)
		reply_role(r, r->method == HTTP_POST ? 201 : 200, id);
	goto out;
fail:
	api_fail(r, &e);
out:
	json_decref(body);
}

static void roles_create(struct req *r)
{
	role_write(r, 0);
}

static void roles_update(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		role_write(r, id);
}

static void roles_get(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		reply_role(r, 200, id);
}

static void roles_list(struct req *r)
{
	json_t *items = json_array();
	struct err e = {0};
	if (role_list(api_scope(r), items, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, 0);
}

static void roles_delete(struct req *r)
{
	int64_t id;
	struct err e = {0};
	if (api_id(r, 0, &id) < 0 || api_begin(r) < 0)
		return;
	if (role_delete(api_scope(r), id, &e) < 0)
		api_fail(r, &e);
	else if (api_audit(r, "role.delete", "role", id, NULL) == 0)
		reply_empty(r, 204);
}

static void permissions_list(struct req *r)
{
	json_t *items = json_array();
	for (int p = 0; p < PERM__COUNT; p++)
		json_array_append_new(items, json_pack("{ss ss}", "name",
			rbac_perm_name((enum perm)p), "description",
			rbac_perm_description((enum perm)p)));
	api_reply_list(r, items, 0);
}

const struct route api_role_routes[] = {
	{HTTP_GET, "/api/v1/roles", roles_list, "roles.read", 0},
	{HTTP_POST, "/api/v1/roles", roles_create, "roles.write", 0},
	{HTTP_GET, "/api/v1/roles/{id}", roles_get, "roles.read", 0},
	{HTTP_PATCH, "/api/v1/roles/{id}", roles_update, "roles.write", 0},
	{HTTP_DELETE, "/api/v1/roles/{id}", roles_delete, "roles.write", 0},
	{HTTP_GET, "/api/v1/permissions", permissions_list, "", 0},
};
const size_t api_role_nroutes = sizeof api_role_routes / sizeof api_role_routes[0];
