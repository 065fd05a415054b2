/*
 * customers.c -- /api/v1/customers: customer profiles, their identities,
 * their history, and merging two profiles of one person (and undoing it).
 *
 * Personal data is masked by core/customer for callers without pii.read;
 * this file only passes api_unmask(r) along.  Audit entries record which
 * fields changed, never a phone number or an attribute value, so the log
 * shows no personal data to a role that may read it without pii.read.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/customer.h"
#include "../core/webhook.h"
#include "api.h"
#include "input.h"

static void reply_customer(struct req *r, int status, int64_t id)
{
	struct err e = {0};
	json_t *c = customer_get(api_scope(r), id, api_unmask(r), &e);
	if (!c)
		api_fail(r, &e);
	else
		reply_json(r, status, c);
}

static int read_customer(const json_t *body, struct customer_input *in,
			 struct err *e)
{
	static const char *const keys[] = {"name", "email", "phone", "level", "tags",
					   "attributes", "external_id", NULL};
	memset(in, 0, sizeof *in);
	if (in_keys(body, keys, e) < 0 || in_str(body, "name", 0, &in->name, e) < 0 ||
	    in_str(body, "email", 0, &in->email, e) < 0 ||
	    in_str(body, "phone", 0, &in->phone, e) < 0 ||
	    in_str(body, "level", 0, &in->level, e) < 0 ||
	    in_str(body, "external_id", 0, &in->external_id, e) < 0 ||
	    in_array(body, "tags", 0, &in->tags, e) < 0)
		return -1;
	in->attributes = json_object_get(body, "attributes");
	if (in->attributes && !json_is_object(in->attributes)) {
		ERR_INVALID(e, "field \"attributes\" must be an object");
		return -1;
	}
	return 0;
}

/* The audit detail of a create or update: the fields given, with the phone
 * and the attribute values left out (attributes by key only). */
static json_t *audit_detail(const json_t *body)
{
	json_t *d = json_deep_copy(body);
	if (json_object_get(d, "phone"))
		json_object_set_new(d, "phone", json_string("(changed)"));
	const json_t *attrs = json_object_get(body, "attributes");
	if (attrs) {
		json_t *names = json_array();
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)attrs, k, v)
			json_array_append_new(names, json_string(k));
		json_object_set_new(d, "attributes", names);
	}
	return d;
}

/* Webhook subscribers get the whole profile (they are the account's own
 * systems, configured by an admin). */
static int emit(struct req *r, const char *event, int64_t id, struct err *e)
{
	int wanted = webhook_wanted(api_scope(r), event, e);
	if (wanted <= 0)
		return wanted;
	json_t *c = customer_get(api_scope(r), id, 1, e);
	if (!c)
		return -1;
	json_t *d = json_pack("{so}", "customer", c);
	int rc = webhook_emit(api_scope(r), event, d, e);
	json_decref(d);
	return rc;
}

/* Parses the body, then runs the create (id == 0) or the update. */
static void customer_write(struct req *r, int64_t id)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	struct customer_input in;
	struct err e = {0};
	int create = id == 0;
	if (read_customer(body, &in, &e) < 0)
		goto fail;
	if (api_begin(r) < 0)
		goto out;
	if ((create ? customer_create(api_scope(r), &in, &id, &e)
		    : customer_update(api_scope(r), id, &in, &e)) < 0 ||
	    emit(r, create ? "customer.created" : "customer.updated", id, &e) < 0)
		goto fail;
	json_t *d = audit_detail(body);
	int rc = api_audit(r, create ? "customer.create" : "customer.update", "customer",
			   id, d);
	json_decref(d);
	if (rc == 0)
		reply_customer(r, create ? 201 : 200, id);
	goto out;
fail:
	api_fail(r, &e);
out:
	json_decref(body);
}

static void customers_create(struct req *r)
{
	customer_write(r, 0);
}

static void customers_update(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		customer_write(r, id);
}

static void customers_get(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		reply_customer(r, 200, id);
}

/* ?q= ?tag= ?level= and the page; newest first. */
static void customers_list(struct req *r)
{
	struct customer_filter f = {0};
	if (api_page(r, &f.before, &f.limit) < 0)
		return;
	char *q = req_query(r, "q"), *tag = req_query(r, "tag"),
	     *level = req_query(r, "level");
	f.q = q;
	f.tag = tag && tag[0] ? tag : NULL;
	f.level = level && level[0] ? level : NULL;
	json_t *items = json_array();
	int64_t next = 0;
	struct err e = {0};
	if (customer_list(api_scope(r), &f, api_unmask(r), items, &next, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
	} else {
		api_reply_list(r, items, next);
	}
	free(q);
	free(tag);
	free(level);
}

static void customers_history(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) < 0)
		return;
	struct err e = {0};
	json_t *h = customer_history(api_scope(r), &api_ctx(r)->who, id, &e);
	if (!h)
		api_fail(r, &e);
	else
		reply_json(r, 200, h);
}

static void identities_add(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) < 0)
		return;
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"kind", "handle", NULL};
	const char *kind, *handle;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "kind", 1, &kind, &e) < 0 ||
	    in_str(body, "handle", 1, &handle, &e) < 0)
		goto fail;
	if (api_begin(r) < 0)
		goto out;
	if (customer_identity_add(api_scope(r), id, kind, handle, &e) < 0)
		goto fail;
	/* A phone number is recorded as added, not by its value. */
	json_t *d = strcmp(kind, "phone") == 0 ? json_pack("{ss}", "kind", kind)
					       : json_pack("{ss ss}", "kind", kind, "handle", handle);
	int rc = api_audit(r, "customer.identity_add", "customer", id, d);
	json_decref(d);
	if (rc == 0)
		reply_customer(r, 201, id);
	goto out;
fail:
	api_fail(r, &e);
out:
	json_decref(body);
}

static void identities_remove(struct req *r)
{
	int64_t id, identity;
	struct err e = {0};
	if (api_id(r, 0, &id) < 0 || api_id(r, 1, &identity) < 0 || api_begin(r) < 0)
		return;
	if (customer_identity_remove(api_scope(r), id, identity, &e) < 0) {
		api_fail(r, &e);
		return;
	}
	json_t *d = json_pack("{sI}", "identity_id", (json_int_t)identity);
	int rc = api_audit(r, "customer.identity_remove", "customer", id, d);
	json_decref(d);
	if (rc == 0)
		reply_customer(r, 200, id);
}

/* {"into": target}: the path's customer is merged into the target. */
static void customers_merge(struct req *r)
{
	int64_t id, into = 0, merge_id;
	if (api_id(r, 0, &id) < 0)
		return;
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"into", NULL};
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_int(body, "into", 1, &into, &e) < 0)
		goto fail;
	if (into <= 0) {
		ERR_INVALID(&e, "field \"into\" must be a customer id");
		goto fail;
	}
	if (api_begin(r) < 0)
		goto out;
	if (customer_merge(api_scope(r), id, into, api_ctx(r)->who.user_id, &merge_id, &e) < 0)
		goto fail;
	json_t *d = json_pack("{sI sI}", "into", (json_int_t)into, "merge_id",
			      (json_int_t)merge_id);
	int rc = api_audit(r, "customer.merge", "customer", id, d);
	json_decref(d);
	if (rc < 0)
		goto out;
	json_t *target = customer_get(api_scope(r), into, api_unmask(r), &e);
	if (!target)
		goto fail;
	reply_json(r, 200, json_pack("{sI so}", "merge_id", (json_int_t)merge_id,
				     "customer", target));
	goto out;
fail:
	api_fail(r, &e);
out:
	json_decref(body);
}

static void merges_undo(struct req *r)
{
	int64_t merge_id, source;
	struct err e = {0};
	if (api_id(r, 0, &merge_id) < 0 || api_begin(r) < 0)
		return;
	if (customer_merge_undo(api_scope(r), merge_id, &source, &e) < 0) {
		api_fail(r, &e);
		return;
	}
	json_t *d = json_pack("{sI}", "customer_id", (json_int_t)source);
	int rc = api_audit(r, "customer.merge_undo", "customer_merge", merge_id, d);
	json_decref(d);
	if (rc == 0)
		reply_customer(r, 200, source);
}

const struct route api_customer_routes[] = {
	{HTTP_GET, "/api/v1/customers", customers_list, "customers.read", 0},
	{HTTP_POST, "/api/v1/customers", customers_create, "customers.write", 0},
	{HTTP_GET, "/api/v1/customers/{id}", customers_get, "customers.read", 0},
	{HTTP_PATCH, "/api/v1/customers/{id}", customers_update, "customers.write", 0},
	{HTTP_GET, "/api/v1/customers/{id}/history", customers_history, "customers.read", 0},
	{HTTP_POST, "/api/v1/customers/{id}/identities", identities_add, "customers.write", 0},
	{HTTP_DELETE, "/api/v1/customers/{id}/identities/{identity_id}", identities_remove,
	 "customers.write", 0},
	{HTTP_POST, "/api/v1/customers/{id}/merge", customers_merge, "customers.write", 0},
	/* Undoing a merge re-splits a person's history: admins only. */
	{HTTP_POST, "/api/v1/customer-merges/{id}/undo", merges_undo, "account.manage", 0},
};
const size_t api_customer_nroutes = sizeof api_customer_routes / sizeof api_customer_routes[0];
