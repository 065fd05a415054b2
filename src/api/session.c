/*
 * session.c -- /api/v1/auth/... and /api/v1/me...: logging in and out, the
 * caller's own profile, password and API tokens.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/account.h"
#include "../core/user.h"
#include "../util/clock.h"
#include "api.h"
#include "input.h"

#define COOKIE "kefu_session"

static int secure_cookie(struct req *r)
{
	const char *mode = api_worker(r)->app->cfg->secure_cookies;
	if (strcmp(mode, "always") == 0)
		return 1;
	if (strcmp(mode, "never") == 0)
		return 0;
	return req_is_https(r);
}

static void set_cookie(struct req *r, const char *value, int64_t max_age_s)
{
	char line[256];
	snprintf(line, sizeof line, COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; "
		 "SameSite=Lax%s", value, (long long)max_age_s,
		 secure_cookie(r) ? "; Secure" : "");
	reply_header(r, "Set-Cookie", line);
	reply_header(r, "Cache-Control", "no-store");
}

/* The caller as shown by /me and the login reply. */
static json_t *me_json(struct req *r, const struct principal *who,
		       struct err *e)
{
	struct scope s = {api_worker(r)->db, who->account_id};
	json_t *u = user_get(&s, who->user_id, e);
	if (!u)
		return NULL;
	if (user_settings_add(&s, who->user_id, u, e) < 0) {
		json_decref(u);
		return NULL;
	}
	json_t *acct = account_get(&s, e);
	if (!acct) {
		json_decref(u);
		return NULL;
	}
	json_object_set_new(u, "account", acct);
	json_object_set_new(u, "permissions", rbac_perms_to_json(who->perms));
	json_object_set_new(u, "data_scope", json_string(rbac_scope_name(who->scope)));
	json_object_set_new(u, "csrf_token",
			    who->csrf[0] ? json_string(who->csrf) : json_null());
	return u;
}

static void api_login(struct req *r)
{
	struct worker *w = api_worker(r);
	if (api_rate_check(r, w->app->login_limit, r->remote_ip, "login attempts") < 0)
		return;
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"email", "password", "account", NULL};
	struct auth_login_in in = {.ip = r->remote_ip, .request_id = r->id,
				   .user_agent = req_header(r, "user-agent")};
	struct auth_login_out out;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "email", 1, &in.email, &e) < 0 ||
	    in_str(body, "password", 1, &in.password, &e) < 0 ||
	    in_str(body, "account", 0, &in.account, &e) < 0 ||
	    auth_login(w->db, &w->app->policy, &in, &out, &e) < 0) {
		if (e.status == 429 && out.retry_after_s > 0) {
			char s[24];
			snprintf(s, sizeof s, "%lld", (long long)out.retry_after_s);
			reply_header(r, "Retry-After", s);
		}
		json_decref(body);
		api_fail(r, &e);
		return;
	}
	json_decref(body);
	json_t *me = me_json(r, &out.who, &e);
	if (!me) {
		api_fail(r, &e);
		return;
	}
	set_cookie(r, out.session, w->app->policy.session_ttl_ms / 1000);
	reply_json(r, 200, json_pack("{so ss}", "user", me, "csrf_token", out.who.csrf));
}

static void api_logout(struct req *r)
{
	struct actx *c = api_ctx(r);
	struct err e = {0};
	if (c->who.session_id) {
		if (api_begin(r) < 0)
			return;
		if (auth_logout(&c->s, c->who.session_id, &e) < 0) {
			api_fail(r, &e);
			return;
		}
	}
	if (api_audit(r, "auth.logout", "session", c->who.session_id, NULL) < 0)
		return;
	set_cookie(r, "", 0);
	reply_empty(r, 204);
}

static void api_me(struct req *r)
{
	struct err e = {0};
	json_t *me = me_json(r, &api_ctx(r)->who, &e);
	if (!me) {
		api_fail(r, &e);
		return;
	}
	reply_json(r, 200, me);
}

static void api_me_update(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"name", "locale", "preferences", NULL};
	struct user_input in = {.active = -1};
	struct err e = {0};
	struct actx *c = api_ctx(r);
	json_t *loc = json_object_get(body, "locale"), *prefs = json_object_get(body, "preferences");
	const char *locale = json_is_null(loc) ? "" : json_string_value(loc);
	if (loc && !json_is_null(loc) && !json_is_string(loc)) {
		ERR_INVALID(&e, "locale must be a string or null");
		api_fail(r, &e);
		json_decref(body);
		return;
	}
	if (in_keys(body, keys, &e) < 0 || in_str(body, "name", 0, &in.name, &e) < 0 ||
	    api_begin(r) < 0 || user_update(&c->s, c->who.user_id, &in, &e) < 0 ||
	    ((loc || prefs) && user_settings_set(&c->s, c->who.user_id, locale, prefs, &e) < 0)) {
		json_decref(body);
		if (e.status)
			api_fail(r, &e);
		return;
	}
	int rc = api_audit(r, "user.update_self", "user", c->who.user_id, body);
	json_decref(body);
	if (rc == 0)
		api_me(r);
}

static void api_password(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"current_password", "new_password", NULL};
	const char *old_pw, *new_pw;
	struct err e = {0};
	struct actx *c = api_ctx(r);
	if (in_keys(body, keys, &e) < 0 ||
	    in_str(body, "current_password", 1, &old_pw, &e) < 0 ||
	    in_str(body, "new_password", 1, &new_pw, &e) < 0 ||
	    api_begin(r) < 0 || auth_password_change(&c->s, &c->who, old_pw, new_pw, &e) < 0) {
		json_decref(body);
		if (e.status)
			api_fail(r, &e);
		return;
	}
	json_decref(body);
	if (api_audit(r, "auth.password_change", "user", c->who.user_id, NULL) == 0)
		reply_empty(r, 204);
}

static void api_tokens_list(struct req *r)
{
	json_t *items = json_array();
	struct err e = {0};
	if (auth_token_list(api_scope(r), api_ctx(r)->who.user_id, items, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, 0);
}

static void api_tokens_create(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"name", "expires_in_days", NULL};
	const char *name;
	int64_t days = 0, id;
	char token[AUTH_TOKEN_LEN];
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "name", 1, &name, &e) < 0 ||
	    in_int(body, "expires_in_days", 0, &days, &e) < 0)
		goto fail;
	if (days < 0 || days > 3650) {
		ERR_INVALID(&e, "expires_in_days must be 0 (never) to 3650");
		goto fail;
	}
	int64_t expires = days ? clock_now_ms() + days * 86400000 : 0;
	if (api_begin(r) < 0)
		goto out;
	if (auth_token_create(api_scope(r), api_ctx(r)->who.user_id, name, expires,
			      token, &id, &e) < 0)
		goto fail;
	json_t *d = json_pack("{ss}", "name", name);
	int rc = api_audit(r, "token.create", "api_token", id, d);
	json_decref(d);
	if (rc == 0) {
		json_t *o = json_pack("{sI ss ss ss%}", "id", (json_int_t)id, "name", name,
				      "token", token, "prefix", token, (size_t)12);
		json_object_set_new(o, "expires_at", json_null());
		if (expires) {
			char ts[32];
			clock_iso8601(expires, ts, sizeof ts);
			json_object_set_new(o, "expires_at", json_string(ts));
		}
		reply_json(r, 201, o);
	}
	goto out;
fail:
	api_fail(r, &e);
out:
	json_decref(body);
}

static void api_tokens_revoke(struct req *r)
{
	int64_t id;
	struct err e = {0};
	if (api_id(r, 0, &id) < 0 || api_begin(r) < 0)
		return;
	if (auth_token_revoke(api_scope(r), api_ctx(r)->who.user_id, id, &e) < 0) {
		api_fail(r, &e);
		return;
	}
	if (api_audit(r, "token.revoke", "api_token", id, NULL) == 0)
		reply_empty(r, 204);
}

const struct route api_session_routes[] = {
	{HTTP_POST, "/api/v1/auth/login", api_login, NULL,
	 ROUTE_PUBLIC | ROUTE_OWN_TX | ROUTE_NO_CSRF},
	{HTTP_POST, "/api/v1/auth/logout", api_logout, "", 0},
	{HTTP_GET, "/api/v1/me", api_me, "", 0},
	{HTTP_PATCH, "/api/v1/me", api_me_update, "", 0},
	{HTTP_POST, "/api/v1/me/password", api_password, "", 0},
	{HTTP_GET, "/api/v1/me/tokens", api_tokens_list, "", 0},
	{HTTP_POST, "/api/v1/me/tokens", api_tokens_create, "", 0},
	{HTTP_DELETE, "/api/v1/me/tokens/{id}", api_tokens_revoke, "", 0},
};
const size_t api_session_nroutes = sizeof api_session_routes / sizeof api_session_routes[0];
