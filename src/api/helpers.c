/* helpers.c -- the small shared pieces of every handler (see api.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "../util/clock.h"
#include "../util/log.h"
#include "api.h"

static int parse_id(const char *s, int64_t *out)
{
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno || v <= 0)
		return -1;
	*out = v;
	return 0;
}

int api_id(struct req *r, int i, int64_t *id)
{
	if (parse_id(req_param(r, i), id) == 0)
		return 0;
	reply_error(r, 404, "not_found", "no such resource");
	return -1;
}

int api_page(struct req *r, int64_t *after, int *limit)
{
	/* "cursor" is the documented name; "after" is kept as an alias. */
	char *a = req_query(r, "cursor"), *l = req_query(r, "limit");
	if (!a)
		a = req_query(r, "after");
	int rc = 0;
	int64_t lim = 50;
	*after = 0;
	if (a && *a && parse_id(a, after) < 0)
		rc = -1;
	if (l && (parse_id(l, &lim) < 0 || lim > 200))
		rc = -1;
	free(a);
	free(l);
	if (rc < 0) {
		reply_error(r, 400, "invalid",
			    "cursor must come from a previous page and limit be 1 to 200");
		return -1;
	}
	*limit = (int)lim;
	return 0;
}

void api_reply_list(struct req *r, json_t *items, int64_t next)
{
	json_t *o = json_object();
	json_object_set_new(o, "items", items);
	if (next) {
		char tmp[24];
		snprintf(tmp, sizeof tmp, "%" PRId64, next);
		json_object_set_new(o, "next", json_string(tmp));
	} else {
		json_object_set_new(o, "next", json_null());
	}
	reply_json(r, 200, o);
}

void api_fail(struct req *r, const struct err *e)
{
	if (e->status >= 400) {
		reply_err(r, e);
		return;
	}
	log_error("%s %s: failure without a status: %s", http_method_str(r->method),
		  r->path, e->msg);
	reply_error(r, 500, "internal", "internal error");
}

int api_begin(struct req *r)
{
	struct err e = {0};
	if (db_begin(api_worker(r)->db, &e) < 0) {
		api_fail(r, &e);
		return -1;
	}
	return 0;
}

struct audit_actor api_actor(struct req *r)
{
	struct actx *c = api_ctx(r);
	return (struct audit_actor){
		.type = c->who.token_id ? "token" : "user",
		.id = c->who.user_id,
		.label = c->who.email,
		.ip = r->remote_ip,
		.request_id = r->id,
	};
}

int api_audit(struct req *r, const char *action, const char *target_type,
	      int64_t target_id, const json_t *detail)
{
	struct err e = {0};
	struct audit_actor actor = api_actor(r);
	if (audit_record(api_scope(r), &actor, action, target_type, target_id,
			 detail, &e) < 0) {
		api_fail(r, &e);
		return -1;
	}
	api_ctx(r)->audited++;
	return 0;
}

int api_rate_check(struct req *r, struct ratelimit *rl, const char *key, const char *what)
{
	int wait = rl ? ratelimit_take(rl, key, clock_now_ms()) : 0;
	if (wait <= 0)
		return 0;
	char s[16];
	snprintf(s, sizeof s, "%d", wait);
	reply_header(r, "Retry-After", s);
	reply_error(r, 429, "rate_limited", "too many %s; wait %d s", what, wait);
	return -1;
}
