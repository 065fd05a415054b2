/* audit.c -- GET /api/v1/audit: the account's audit log, newest first. */
#include <errno.h>
#include <stdlib.h>

#include "../core/audit.h"
#include "api.h"

static void audit_get(struct req *r)
{
	char *before_s = req_query(r, "before"), *limit_s = req_query(r, "limit");
	char *action = req_query(r, "action");
	int64_t before = 0, limit = 50, next = 0;
	int bad = 0;
	char *end;
	if (before_s) {
		errno = 0;
		before = strtoll(before_s, &end, 10);
		bad |= *end || errno || before < 0;
	}
	if (limit_s) {
		errno = 0;
		limit = strtoll(limit_s, &end, 10);
		bad |= *end || errno || limit < 1 || limit > 200;
	}
	free(before_s);
	free(limit_s);
	if (bad) {
		free(action);
		reply_error(r, 400, "invalid", "before must be an id and limit 1-200");
		return;
	}
	json_t *items = json_array();
	struct err e = {0};
	int rc = audit_list(api_scope(r), before, (int)limit, action, items, &next, &e);
	free(action);
	if (rc < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, next);
}

const struct route api_audit_routes[] = {
	{HTTP_GET, "/api/v1/audit", audit_get, "audit.read", 0},
};
const size_t api_audit_nroutes = sizeof api_audit_routes / sizeof api_audit_routes[0];
