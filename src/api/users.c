/*
 * users.c -- /api/v1/users: staff management.
 *
 * Nobody can hand out more than they hold: giving a user a role requires
 * the caller to have every permission of that role, so users.write alone
 * does not lead to admin.
 */
#include <string.h>

#include "../core/role.h"
#include "../core/user.h"
#include "api.h"
#include "input.h"

/* "role": id or name -> id, checked against the caller's own permissions.
 * *role_id stays 0 when the field is absent. */
static int read_role(struct req *r, const json_t *body, int64_t *role_id,
		     struct err *e)
{
	const json_t *v = json_object_get(body, "role");
	if (!v)
		return 0;
	const struct scope *s = api_scope(r);
	if (json_is_string(v)) {
		int found = role_find(s, json_string_value(v), role_id, e);
		if (found <= 0) {
			if (found == 0)
				ERR_INVALID(e, "no role named \"%.60s\"", json_string_value(v));
			return -1;
		}
	} else if (json_is_integer(v)) {
		*role_id = json_integer_value(v);
	} else {
		ERR_INVALID(e, "field \"role\" must be a role id or name");
		return -1;
	}
	uint64_t perms;
	if (role_perms(s, *role_id, &perms, e) < 0) {
		if (e->status == 404)
			ERR_INVALID(e, "role %lld does not exist", (long long)*role_id);
		return -1;
	}
	if (perms & ~api_ctx(r)->who.perms) {
		err_set(e, 403, "forbidden", "you cannot grant a role with permissions you do not have");
		return -1;
	}
	return 0;
}

static int read_user(struct req *r, const json_t *body, struct user_input *in,
		     struct err *e)
{
	static const char *const keys[] = {"email", "name", "role", "password",
					   "active", "unlock", NULL};
	int unlock;
	memset(in, 0, sizeof *in);
	if (in_keys(body, keys, e) < 0 || in_str(body, "email", 0, &in->email, e) < 0 ||
	    in_str(body, "name", 0, &in->name, e) < 0 ||
	    in_str(body, "password", 0, &in->password, e) < 0 ||
	    in_bool(body, "active", &in->active, e) < 0 ||
	    in_bool(body, "unlock", &unlock, e) < 0 ||
	    read_role(r, body, &in->role_id, e) < 0)
		return -1;
	in->unlock = unlock == 1;
	return 0;
}

static void reply_user(struct req *r, int status, int64_t id)
{
	struct err e = {0};
	json_t *u = user_get(api_scope(r), id, &e);
	if (!u)
		api_fail(r, &e);
	else
		reply_json(r, status, u);
}

/* The audit detail of a user change: the fields given, password hidden. */
static json_t *audit_detail(const json_t *body)
{
	json_t *d = json_deep_copy(body);
	if (json_object_get(d, "password"))
		json_object_set_new(d, "password", json_string("(changed)"));
	return d;
}

/* Creating (id 0) and changing a user share everything but the core call
 * and the self-protection rule. */
static int self_change_ok(struct req *r, int64_t id, const struct user_input *in,
			  struct err *e)
{
	const struct principal *who = &api_ctx(r)->who;
	if (id == who->user_id && (in->active == 0 || (in->role_id && in->role_id != who->role_id))) {
		err_set(e, 422, "unprocessable",
			"you cannot deactivate yourself or change your own role");
		return -1;
	}
	return 0;
}

static void user_write(struct req *r, int64_t id)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	struct user_input in;
	struct err e = {0};
	int create = id == 0;
	if (read_user(r, body, &in, &e) < 0 || self_change_ok(r, id, &in, &e) < 0) {
		api_fail(r, &e);
	} else if (api_begin(r) == 0) {
		if (create && in.active < 0)
			in.active = 1;
		if ((create ? user_create(api_scope(r), &in, &id, &e)
			    : user_update(api_scope(r), id, &in, &e)) < 0) {
			api_fail(r, &e);
		} else {
			json_t *d = audit_detail(body);
			if (api_audit(r, create ? "user.create" : "user.update", "user", id, d) == 0)
				reply_user(r, create ? 201 : 200, id);
			json_decref(d);
		}
	}
	json_decref(body);
}

static void users_create(struct req *r)
{
	user_write(r, 0);
}

static void users_update(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		user_write(r, id);
}

static void users_get(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		reply_user(r, 200, id);
}

static void users_list(struct req *r)
{
	int64_t after, next;
	int limit;
	if (api_page(r, &after, &limit) < 0)
		return;
	json_t *items = json_array();
	struct err e = {0};
	if (user_list(api_scope(r), after, limit, items, &next, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, next);
}

const struct route api_user_routes[] = {
	{HTTP_GET, "/api/v1/users", users_list, "users.read", 0},
	{HTTP_POST, "/api/v1/users", users_create, "users.write", 0},
	{HTTP_GET, "/api/v1/users/{id}", users_get, "users.read", 0},
	{HTTP_PATCH, "/api/v1/users/{id}", users_update, "users.write", 0},
};
const size_t api_user_nroutes = sizeof api_user_routes / sizeof api_user_routes[0];
