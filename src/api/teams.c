/* teams.c -- /api/v1/teams: teams and their members. */
#include "../core/team.h"
#include "api.h"
#include "input.h"

static void reply_team(struct req *r, int status, int64_t id)
{
	struct err e = {0};
	json_t *t = team_get(api_scope(r), id, &e);
	if (!t)
		api_fail(r, &e);
	else
		reply_json(r, status, t);
}

/* Parses {name, description}, then runs the create (id == 0) or update. */
static void team_write(struct req *r, int64_t id)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"name", "description", NULL};
	const char *name, *desc;
	struct err e = {0};
	int rc = -1;
	if (in_keys(body, keys, &e) < 0 || in_str(body, "name", id == 0, &name, &e) < 0 ||
	    in_str(body, "description", 0, &desc, &e) < 0)
		goto fail;
	if (api_begin(r) < 0)
		goto out;
	rc = id ? team_update(api_scope(r), id, name, desc, &e)
		: team_create(api_scope(r), name, desc, &id, &e);
	if (rc < 0)
		goto fail;
	if (api_audit(r, r->method == HTTP_POST ? "team.create" : "team.update",
		      "team", id, body) == 0)
		reply_team(r, r->method == HTTP_POST ? 201 : 200, id);
	goto out;
fail:
	api_fail(r, &e);
out:
	json_decref(body);
}

static void teams_create(struct req *r)
{
	team_write(r, 0);
}

static void teams_update(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		team_write(r, id);
}

static void teams_get(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		reply_team(r, 200, id);
}

static void teams_list(struct req *r)
{
	json_t *items = json_array();
	struct err e = {0};
	if (team_list(api_scope(r), items, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, 0);
}

static void teams_delete(struct req *r)
{
	int64_t id;
	struct err e = {0};
	if (api_id(r, 0, &id) < 0 || api_begin(r) < 0)
		return;
	if (team_delete(api_scope(r), id, &e) < 0)
		api_fail(r, &e);
	else if (api_audit(r, "team.delete", "team", id, NULL) == 0)
		reply_empty(r, 204);
}

/* PUT adds the member, DELETE removes it; both answer with the team. */
static void teams_member(struct req *r)
{
	int64_t team, user;
	struct err e = {0};
	if (api_id(r, 0, &team) < 0 || api_id(r, 1, &user) < 0 || api_begin(r) < 0)
		return;
	int add = r->method == HTTP_PUT;
	int rc = add ? team_member_add(api_scope(r), team, user, &e)
		     : team_member_remove(api_scope(r), team, user, &e);
	if (rc < 0) {
		api_fail(r, &e);
		return;
	}
	json_t *d = json_pack("{sI}", "user_id", (json_int_t)user);
	rc = api_audit(r, add ? "team.member_add" : "team.member_remove", "team", team, d);
	json_decref(d);
	if (rc == 0)
		reply_team(r, 200, team);
}

const struct route api_team_routes[] = {
	{HTTP_GET, "/api/v1/teams", teams_list, "teams.read", 0},
	{HTTP_POST, "/api/v1/teams", teams_create, "teams.write", 0},
	{HTTP_GET, "/api/v1/teams/{id}", teams_get, "teams.read", 0},
	{HTTP_PATCH, "/api/v1/teams/{id}", teams_update, "teams.write", 0},
	{HTTP_DELETE, "/api/v1/teams/{id}", teams_delete, "teams.write", 0},
	{HTTP_PUT, "/api/v1/teams/{id}/members/{user_id}", teams_member, "teams.write", 0},
	{HTTP_DELETE, "/api/v1/teams/{id}/members/{user_id}", teams_member, "teams.write", 0},
};
const size_t api_team_nroutes = sizeof api_team_routes / sizeof api_team_routes[0];
