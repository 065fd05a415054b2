/*
 * ticket_admin.c -- configuring tickets without code: custom fields,
 * statuses and transitions (account.manage), and saved views (each user's
 * own; shared ones need tickets.assign, i.e. a supervisor).
 */
#include "../core/field.h"
#include "../core/workflow.h"
#include "input.h"
#include "ticket_common.h"

typedef int (*list_fn)(const struct scope *s, json_t *items, struct err *e);

static void reply_list_of(struct req *r, list_fn fn)
{
	json_t *items = json_array();
	struct err e = {0};
	if (fn(api_scope(r), items, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, 0);
}

static void fields_list(struct req *r) { reply_list_of(r, field_list); }
static void statuses_list(struct req *r) { reply_list_of(r, workflow_statuses); }
static void transitions_list(struct req *r) { reply_list_of(r, workflow_transitions); }

static void fields_create(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"key", "label", "type", "options", "required",
					   "pattern", NULL};
	struct field_input in = {0};
	int64_t id;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "key", 1, &in.key, &e) < 0 ||
	    in_str(body, "label", 1, &in.label, &e) < 0 || in_str(body, "type", 1, &in.type, &e) < 0 ||
	    in_array(body, "options", 0, &in.options, &e) < 0 ||
	    in_bool(body, "required", &in.required, &e) < 0 ||
	    in_str(body, "pattern", 0, &in.pattern, &e) < 0) {
		api_fail(r, &e);
	} else if (api_begin(r) == 0) {
		if (field_create(api_scope(r), &in, &id, &e) < 0)
			api_fail(r, &e);
		else if (api_audit(r, "ticket_field.create", "ticket_field", id, body) == 0)
			fields_list(r);
	}
	json_decref(body);
}

static void fields_delete(struct req *r)
{
	int64_t id;
	struct err e = {0};
	if (api_id(r, 0, &id) < 0 || api_begin(r) < 0)
		return;
	if (field_delete(api_scope(r), id, &e) < 0)
		api_fail(r, &e);
	else if (api_audit(r, "ticket_field.delete", "ticket_field", id, NULL) == 0)
		reply_empty(r, 204);
}

static void statuses_create(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"name", "category", NULL};
	const char *name, *category;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "name", 1, &name, &e) < 0 ||
	    in_str(body, "category", 1, &category, &e) < 0) {
		api_fail(r, &e);
	} else if (api_begin(r) == 0) {
		if (workflow_status_add(api_scope(r), name, category, &e) < 0)
			api_fail(r, &e);
		else if (api_audit(r, "ticket_status.create", "ticket_status", 0, body) == 0)
			statuses_list(r);
	}
	json_decref(body);
}

static void transitions_put(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"transitions", NULL};
	const json_t *rules;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_array(body, "transitions", 1, &rules, &e) < 0) {
		api_fail(r, &e);
	} else if (api_begin(r) == 0) {
		if (workflow_transitions_set(api_scope(r), rules, &e) < 0)
			api_fail(r, &e);
		else if (api_audit(r, "ticket_transitions.set", "account",
				   api_scope(r)->account_id, body) == 0)
			transitions_list(r);
	}
	json_decref(body);
}

static void views_list(struct req *r)
{
	json_t *items = json_array();
	struct err e = {0};
	if (ticket_view_list(api_scope(r), api_ctx(r)->who.user_id, items, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, 0);
}

static void views_create(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"name", "filters", "shared", NULL};
	const char *name;
	int shared;
	int64_t id;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "name", 1, &name, &e) < 0 ||
	    in_bool(body, "shared", &shared, &e) < 0) {
		api_fail(r, &e);
	} else if (shared == 1 && !rbac_can(&api_ctx(r)->who, PERM_TICKETS_ASSIGN)) {
		reply_error(r, 403, "forbidden", "shared views need 'tickets.assign'");
	} else if (api_begin(r) == 0) {
		if (ticket_view_save(api_scope(r), api_ctx(r)->who.user_id, shared == 1, name,
				     json_object_get(body, "filters"), &id, &e) < 0)
			api_fail(r, &e);
		else if (api_audit(r, "view.create", "view", id, body) == 0)
			views_list(r);
	}
	json_decref(body);
}

static void views_delete(struct req *r)
{
	int64_t id;
	struct err e = {0};
	if (api_id(r, 0, &id) < 0 || api_begin(r) < 0)
		return;
	if (ticket_view_delete(api_scope(r), api_ctx(r)->who.user_id, id,
			       rbac_can(&api_ctx(r)->who, PERM_TICKETS_ASSIGN), &e) < 0)
		api_fail(r, &e);
	else if (api_audit(r, "view.delete", "view", id, NULL) == 0)
		reply_empty(r, 204);
}

const struct route api_ticket_admin_routes[] = {
	{HTTP_GET, "/api/v1/ticket-fields", fields_list, "tickets.read", 0},
	{HTTP_POST, "/api/v1/ticket-fields", fields_create, "account.manage", 0},
	{HTTP_DELETE, "/api/v1/ticket-fields/{id}", fields_delete, "account.manage", 0},
	{HTTP_GET, "/api/v1/ticket-statuses", statuses_list, "tickets.read", 0},
	{HTTP_POST, "/api/v1/ticket-statuses", statuses_create, "account.manage", 0},
	{HTTP_GET, "/api/v1/ticket-transitions", transitions_list, "tickets.read", 0},
	{HTTP_PUT, "/api/v1/ticket-transitions", transitions_put, "account.manage", 0},
	{HTTP_GET, "/api/v1/views", views_list, "tickets.read", 0},
	{HTTP_POST, "/api/v1/views", views_create, "tickets.read", 0},
	{HTTP_DELETE, "/api/v1/views/{id}", views_delete, "tickets.read", 0},
};
const size_t api_ticket_admin_nroutes =
	sizeof api_ticket_admin_routes / sizeof api_ticket_admin_routes[0];
