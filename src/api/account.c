/* account.c -- /api/v1/account: the caller's account. */
#include "../core/account.h"
#include "api.h"
#include "input.h"

static void account_show(struct req *r)
{
	struct err e = {0};
	json_t *o = account_get(api_scope(r), &e);
	if (!o)
		api_fail(r, &e);
	else
		reply_json(r, 200, o);
}

static void account_patch(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"name", "reply_to_closed", NULL};
	const char *name = NULL, *closed = NULL;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "name", 0, &name, &e) < 0 ||
	    in_str(body, "reply_to_closed", 0, &closed, &e) < 0 || api_begin(r) < 0 ||
	    account_update(api_scope(r), name, closed, &e) < 0) {
		if (e.status)
			api_fail(r, &e);
	} else if (api_audit(r, "account.update", "account",
			     api_scope(r)->account_id, body) == 0) {
		account_show(r);
	}
	json_decref(body);
}

const struct route api_account_routes[] = {
	{HTTP_GET, "/api/v1/account", account_show, "", 0},
	{HTTP_PATCH, "/api/v1/account", account_patch, "account.manage", 0},
};
const size_t api_account_nroutes = sizeof api_account_routes / sizeof api_account_routes[0];
