/* webhooks.c -- /api/v1/webhooks: outgoing webhooks and their delivery log. */
#include <errno.h>
#include <stdlib.h>

#include "../core/outbox.h"
#include "../core/webhook.h"
#include "api.h"
#include "input.h"

static void reply_webhook(struct req *r, int status, int64_t id)
{
	struct err e = {0};
	json_t *w = webhook_get(api_scope(r), id, &e);
	if (!w)
		api_fail(r, &e);
	else
		reply_json(r, status, w);
}

/* Parses {url, events, active, rotate_secret}, then runs the create (id ==
 * 0) or update.  The body is the audit detail: it never holds the secret,
 * which is generated, not sent in. */
static void webhook_write(struct req *r, int64_t id)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"url", "events", "active", "rotate_secret", NULL};
	const char *url;
	const json_t *events;
	int active, rotate;
	struct err e = {0};
	int rc = -1;
	if (in_keys(body, keys, &e) < 0 || in_str(body, "url", id == 0, &url, &e) < 0 ||
	    in_array(body, "events", id == 0, &events, &e) < 0 ||
	    in_bool(body, "active", &active, &e) < 0 ||
	    in_bool(body, "rotate_secret", &rotate, &e) < 0)
		goto fail;
	if (id == 0 && rotate >= 0) {
		ERR_INVALID(&e, "rotate_secret applies to an existing webhook");
		goto fail;
	}
	if (api_begin(r) < 0)
		goto out;
	rc = id ? webhook_update(api_scope(r), id, url, events, active, rotate == 1, &e)
		: webhook_create(api_scope(r), url, events, active != 0, &id, &e);
	if (rc < 0)
		goto fail;
	if (api_audit(r, r->method == HTTP_POST ? "webhook.create" : "webhook.update",
		      "webhook", id, body) == 0)
		reply_webhook(r, r->method == HTTP_POST ? 201 : 200, id);
	goto out;
fail:
	api_fail(r, &e);
out:
	json_decref(body);
}

static void webhooks_create(struct req *r)
{
	webhook_write(r, 0);
}

static void webhooks_update(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		webhook_write(r, id);
}

static void webhooks_get(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		reply_webhook(r, 200, id);
}

static void webhooks_list(struct req *r)
{
	json_t *items = json_array();
	struct err e = {0};
	if (webhook_list(api_scope(r), items, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, 0);
}

static void webhooks_delete(struct req *r)
{
	int64_t id;
	struct err e = {0};
	if (api_id(r, 0, &id) < 0 || api_begin(r) < 0)
		return;
	if (webhook_delete(api_scope(r), id, &e) < 0)
		api_fail(r, &e);
	else if (api_audit(r, "webhook.delete", "webhook", id, NULL) == 0)
		reply_empty(r, 204);
}

/* 0 with the webhook's id when it exists in the caller's account, else
 * replies 404 and returns -1. */
static int webhook_path(struct req *r, int64_t *id)
{
	if (api_id(r, 0, id) < 0)
		return -1;
	struct err e = {0};
	json_t *w = webhook_get(api_scope(r), *id, &e);
	if (!w) {
		api_fail(r, &e);
		return -1;
	}
	json_decref(w);
	return 0;
}

/* ?cursor=ID&limit=N, newest first: the cursor (the previous page's
 * "next") is the id to go below; "before" is an alias, as in the audit log. */
static int before_page(struct req *r, int64_t *before, int *limit)
{
	char *b = req_query(r, "cursor"), *l = req_query(r, "limit");
	if (!b)
		b = req_query(r, "before");
	int64_t lim = 50;
	int bad = 0;
	char *end;
	*before = 0;
	if (b && *b) {
		errno = 0;
		*before = strtoll(b, &end, 10);
		bad |= *end || errno || *before < 0;
	}
	if (l) {
		errno = 0;
		lim = strtoll(l, &end, 10);
		bad |= *end || errno || lim < 1 || lim > 200;
	}
	free(b);
	free(l);
	if (bad) {
		reply_error(r, 400, "invalid",
			    "cursor must come from a previous page and limit be 1 to 200");
		return -1;
	}
	*limit = (int)lim;
	return 0;
}

static void webhooks_deliveries(struct req *r)
{
	int64_t id, before, next = 0;
	int limit;
	if (webhook_path(r, &id) < 0 || before_page(r, &before, &limit) < 0)
		return;
	json_t *items = json_array();
	struct err e = {0};
	if (outbox_list(api_scope(r), OUTBOX_WEBHOOK, id, before, limit, items,
			&next, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, next);
}

static void webhooks_retry(struct req *r)
{
	int64_t id, did;
	struct err e = {0};
	if (webhook_path(r, &id) < 0 || api_id(r, 1, &did) < 0 || api_begin(r) < 0)
		return;
	if (outbox_retry(api_scope(r), OUTBOX_WEBHOOK, id, did, &e) < 0) {
		api_fail(r, &e);
		return;
	}
	json_t *d = json_pack("{sI}", "delivery_id", (json_int_t)did);
	int rc = api_audit(r, "webhook.delivery_retry", "webhook", id, d);
	json_decref(d);
	if (rc < 0)
		return;
	json_t *o = outbox_get(api_scope(r), OUTBOX_WEBHOOK, id, did, &e);
	if (!o)
		api_fail(r, &e);
	else
		reply_json(r, 202, o);
}

const struct route api_webhook_routes[] = {
	{HTTP_GET, "/api/v1/webhooks", webhooks_list, "channels.manage", 0},
	{HTTP_POST, "/api/v1/webhooks", webhooks_create, "channels.manage", 0},
	{HTTP_GET, "/api/v1/webhooks/{id}", webhooks_get, "channels.manage", 0},
	{HTTP_PATCH, "/api/v1/webhooks/{id}", webhooks_update, "channels.manage", 0},
	{HTTP_DELETE, "/api/v1/webhooks/{id}", webhooks_delete, "channels.manage", 0},
	{HTTP_GET, "/api/v1/webhooks/{id}/deliveries", webhooks_deliveries,
	 "channels.manage", 0},
	{HTTP_POST, "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
	 webhooks_retry, "channels.manage", 0},
};
const size_t api_webhook_nroutes = sizeof api_webhook_routes / sizeof api_webhook_routes[0];
