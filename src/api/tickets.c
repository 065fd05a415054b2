/*
 * tickets.c -- /api/v1/tickets: create, read, list (views, filters, search),
 * change; the helpers in ticket_common.h.
 */
#define _XOPEN_SOURCE 700
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/customer.h"
#include "../core/message.h"
#include "../core/ticket_search.h"
#include "../util/clock.h"
#include "input.h"
#include "ticket_common.h"

struct ticket_actor api_ticket_actor(struct req *r)
{
	struct ticket_actor a = {api_actor(r), &api_ctx(r)->who};
	return a;
}

int api_ticket_id(struct req *r, int64_t *id)
{
	struct err e = {0};
	if (api_id(r, 0, id) < 0)
		return -1;
	if (ticket_visible(api_scope(r), &api_ctx(r)->who, *id, &e) < 0) {
		api_fail(r, &e);
		return -1;
	}
	return 0;
}

void api_reply_ticket(struct req *r, int status, int64_t id)
{
	struct err e = {0};
	json_t *t = ticket_get(api_scope(r), &api_ctx(r)->who, id, &e);
	json_t *links = json_array();
	if (t && ticket_links_list(api_scope(r), id, links, &e) == 0) {
		json_object_set_new(t, "links", links);
		reply_json(r, status, t);
		return;
	}
	json_decref(links);
	json_decref(t);
	api_fail(r, &e);
}

int api_may_assign(struct req *r, int64_t assignee_id)
{
	const struct principal *p = &api_ctx(r)->who;
	if (assignee_id <= 0 || assignee_id == p->user_id || rbac_can(p, PERM_TICKETS_ASSIGN))
		return 0;
	reply_error(r, 403, "forbidden", "assigning to someone else needs 'tickets.assign'");
	return -1;
}

/* "2026-11-01" or "2026-11-01T08:00:00Z" or milliseconds -> ms. */
static int parse_time(const char *s, int64_t *out)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end == '\0' && end != s) {
		*out = v;
		return 0;
	}
	struct tm tm = {0};
	const char *rest = strptime(s, "%Y-%m-%d", &tm);
	if (rest && *rest == 'T')
		rest = strptime(rest + 1, "%H:%M:%S", &tm);
	if (!rest || (*rest && strcmp(rest, "Z") != 0))
		return -1;
	*out = (int64_t)timegm(&tm) * 1000;
	return 0;
}

static const char *const filter_keys[] = {"view", "status", "priority", "channel", "tag",
	"customer_level", "q", "team_id", "assignee_id", "customer_id", "created_from",
	"created_to", "updated_from", "updated_to", "sort", "cursor", "limit", NULL};

/* Fills f from the query string; the strings are kept in owned[] for the
 * caller to free. */
static int read_filter(struct req *r, struct ticket_filter *f, char **owned)
{
	const char **strs[] = {&f->view, &f->status, &f->priority, &f->channel, &f->tag,
			       &f->customer_level, &f->q};
	int64_t *ints[] = {&f->team_id, &f->assignee_id, &f->customer_id, &f->created_from,
			   &f->created_to, &f->updated_from, &f->updated_to};
	memset(f, 0, sizeof *f);
	f->limit = 50;
	for (int i = 0; filter_keys[i]; i++) {
		char *v = owned[i] = req_query(r, filter_keys[i]);
		if (!v)
			continue;
		int bad = 0;
		if (i < 7)
			*strs[i] = v;
		else if (i < 10)
			bad = (*ints[i - 7] = strtoll(v, NULL, 10)) <= 0;
		else if (i < 14)
			bad = parse_time(v, ints[i - 7]) < 0;
		else if (i == 14)
			f->sort = v;
		else if (i == 15)
			f->cursor = v;
		else
			bad = (f->limit = atoi(v)) < 1 || f->limit > 200;
		if (bad) {
			reply_error(r, 400, "invalid", "bad value for %s", filter_keys[i]);
			return -1;
		}
	}
	return 0;
}

static void tickets_list(struct req *r)
{
	char *owned[sizeof filter_keys / sizeof *filter_keys] = {0};
	struct ticket_filter f;
	if (read_filter(r, &f, owned) == 0) {
		json_t *items = json_array();
		char *next = NULL;
		struct err e = {0};
		if (ticket_list(api_scope(r), &api_ctx(r)->who, &f, items, &next, &e) < 0) {
			json_decref(items);
			api_fail(r, &e);
		} else {
			json_t *o = json_pack("{so so}", "items", items, "next",
					      next ? json_string(next) : json_null());
			reply_json(r, 200, o);
		}
		free(next);
	}
	for (size_t i = 0; i < sizeof owned / sizeof *owned; i++)
		free(owned[i]);
}

static void tickets_counts(struct req *r)
{
	struct err e = {0};
	json_t *c = ticket_counts(api_scope(r), &api_ctx(r)->who, &e);
	if (!c)
		api_fail(r, &e);
	else
		reply_json(r, 200, c);
}

/* GET /api/v1/tickets/overview?since=<ms or ISO time>: the home
 * dashboard's figures; "today" starts at since (default: 24 h ago). */
static void tickets_overview(struct req *r)
{
	struct err e = {0};
	char *since_q = req_query(r, "since");
	int64_t since = clock_now_ms() - 24 * 3600 * 1000LL;
	if (since_q && parse_time(since_q, &since) < 0) {
		free(since_q);
		reply_error(r, 400, "invalid", "since must be milliseconds or an ISO 8601 time");
		return;
	}
	free(since_q);
	json_t *o = ticket_overview(api_scope(r), &api_ctx(r)->who, since, &e);
	if (!o)
		api_fail(r, &e);
	else
		reply_json(r, 200, o);
}

static void tickets_get(struct req *r)
{
	int64_t id;
	/* ticket_get applies the data scope itself: no separate visibility
	 * query on the busiest read. */
	if (api_id(r, 0, &id) == 0)
		api_reply_ticket(r, 200, id);
}

/* "customer": an id, or {name, email, phone, external_id} found by its
 * e-mail/phone identity or created. */
static int resolve_customer(struct req *r, const json_t *v, int64_t *id, struct err *e)
{
	if (json_is_integer(v)) {
		*id = json_integer_value(v);
		return 0;
	}
	static const char *const keys[] = {"name", "email", "phone", "external_id", NULL};
	struct customer_input in = {0};
	if (!json_is_object(v) || in_keys(v, keys, e) < 0 ||
	    in_str(v, "name", 0, &in.name, e) < 0 || in_str(v, "email", 0, &in.email, e) < 0 ||
	    in_str(v, "phone", 0, &in.phone, e) < 0 ||
	    in_str(v, "external_id", 0, &in.external_id, e) < 0) {
		if (!e->status)
			ERR_INVALID(e, "customer must be an id or an object {name, email, phone}");
		return -1;
	}
	if (!in.email && !in.phone && !in.name) {
		ERR_INVALID(e, "customer needs a name, email or phone");
		return -1;
	}
	const char *kinds[] = {"email", "phone"}, *handles[] = {in.email, in.phone};
	for (int i = 0; i < 2; i++) {
		char norm[256];
		if (!handles[i])
			continue;
		if (customer_identity_normalize(kinds[i], handles[i], norm, sizeof norm, e) < 0)
			return -1;
		int found = customer_find_identity(api_scope(r), kinds[i], norm, id, e);
		if (found != 0)
			return found < 0 ? -1 : 0;
	}
	if (customer_create(api_scope(r), &in, id, e) < 0)
		return -1;
	json_t *d = json_pack("{ss}", "via", "ticket.create");
	int rc = api_audit(r, "customer.create", "customer", *id, d);
	json_decref(d);
	return rc;
}

struct create_in {
	struct ticket_new t;
	const json_t *customer, *message;
	const char *text, *from;
	int internal;
};

static int read_create(const json_t *body, struct create_in *c, struct err *e)
{
	static const char *const keys[] = {"subject", "customer", "message", "priority",
		"status", "category", "team_id", "assignee_id", "tags", "fields", NULL};
	static const char *const mkeys[] = {"text", "from", "internal", NULL};
	memset(c, 0, sizeof *c);
	c->customer = json_object_get(body, "customer");
	c->message = json_object_get(body, "message");
	if (in_keys(body, keys, e) < 0 || in_str(body, "subject", 1, &c->t.subject, e) < 0 ||
	    in_str(body, "priority", 0, &c->t.priority, e) < 0 ||
	    in_str(body, "status", 0, &c->t.status, e) < 0 ||
	    in_str(body, "category", 0, &c->t.category, e) < 0 ||
	    in_int(body, "team_id", 0, &c->t.team_id, e) < 0 ||
	    in_int(body, "assignee_id", 0, &c->t.assignee_id, e) < 0 ||
	    in_array(body, "tags", 0, &c->t.tags, e) < 0)
		return -1;
	c->t.fields = json_object_get(body, "fields");
	if (!c->customer) {
		ERR_INVALID(e, "field \"customer\" is required");
		return -1;
	}
	if (json_is_string(c->message)) {
		c->text = json_string_value(c->message);
	} else if (c->message) {
		int internal;
		if (!json_is_object(c->message) || in_keys(c->message, mkeys, e) < 0 ||
		    in_str(c->message, "text", 1, &c->text, e) < 0 ||
		    in_str(c->message, "from", 0, &c->from, e) < 0 ||
		    in_bool(c->message, "internal", &internal, e) < 0) {
			if (!e->status)
				ERR_INVALID(e, "message must be a string or {text, from, internal}");
			return -1;
		}
		c->internal = internal == 1;
	}
	if (c->from && strcmp(c->from, "customer") && strcmp(c->from, "agent")) {
		ERR_INVALID(e, "message.from must be customer or agent");
		return -1;
	}
	c->t.origin = "api";
	c->t.staff_form = 1;
	return 0;
}

/* The first message: the customer's words (default) or the agent's. */
static int first_message(struct req *r, const struct create_in *c, int64_t id,
			 struct err *e)
{
	if (!c->text)
		return 0;
	int agent = c->from && !strcmp(c->from, "agent");
	struct message_new m = {.ticket_id = id, .text = c->text, .internal = c->internal,
				.author_kind = agent ? "agent" : "customer"};
	if (agent)
		m.author_user_id = api_ctx(r)->who.user_id;
	else
		m.customer_id = c->t.customer_id;
	int64_t mid;
	struct ticket_actor a = api_ticket_actor(r);
	return message_add(api_scope(r), &m, &mid, e) < 0 ||
	       ticket_on_message(api_scope(r), &a, id, m.author_kind, m.internal, e) < 0 ? -1 : 0;
}

static void tickets_create(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	struct create_in c;
	struct err e = {0};
	int64_t id;
	struct ticket_actor a = api_ticket_actor(r);
	if (read_create(body, &c, &e) < 0)
		goto fail;
	/* A ticket an agent opens without naming an owner is theirs: otherwise
	 * a team-scoped agent could create a ticket it cannot see. */
	if (!c.t.assignee_id && api_ctx(r)->who.scope != SCOPE_ALL)
		c.t.assignee_id = api_ctx(r)->who.user_id;
	if (api_may_assign(r, c.t.assignee_id) < 0 || api_begin(r) < 0)
		goto out;
	if (resolve_customer(r, c.customer, &c.t.customer_id, &e) < 0 ||
	    ticket_create(api_scope(r), &a, &c.t, &id, &e) < 0 ||
	    first_message(r, &c, id, &e) < 0 ||
	    ticket_search_index(api_scope(r), id, &e) < 0)
		goto fail;
	if (api_audit(r, "ticket.create", "ticket", id, NULL) == 0)
		api_reply_ticket(r, 201, id);
	goto out;
fail:
	if (e.status)
		api_fail(r, &e);
out:
	json_decref(body);
}

/* team_id / assignee_id: absent -1 (unchanged), null 0 (clear), id. */
static int read_ref(const json_t *body, const char *key, int64_t *out, struct err *e)
{
	const json_t *v = json_object_get(body, key);
	*out = -1;
	if (!v)
		return 0;
	if (json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		ERR_INVALID(e, "field \"%s\" must be an id or null", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int api_read_change(const json_t *body, struct ticket_change *c, struct err *e)
{
	static const char *const keys[] = {"subject", "status", "priority", "category",
		"team_id", "assignee_id", "tags", "add_tags", "remove_tags", "fields", NULL};
	*c = (struct ticket_change)TICKET_CHANGE_NONE;
	if (in_keys(body, keys, e) < 0 || in_str(body, "subject", 0, &c->subject, e) < 0 ||
	    in_str(body, "status", 0, &c->status, e) < 0 ||
	    in_str(body, "priority", 0, &c->priority, e) < 0 ||
	    in_str(body, "category", 0, &c->category, e) < 0 ||
	    read_ref(body, "team_id", &c->team_id, e) < 0 ||
	    read_ref(body, "assignee_id", &c->assignee_id, e) < 0 ||
	    in_array(body, "tags", 0, &c->tags, e) < 0 ||
	    in_array(body, "add_tags", 0, &c->add_tags, e) < 0 ||
	    in_array(body, "remove_tags", 0, &c->remove_tags, e) < 0)
		return -1;
	c->fields = json_object_get(body, "fields");
	return 0;
}

static void tickets_update(struct req *r)
{
	int64_t id;
	if (api_ticket_id(r, &id) < 0)
		return;
	json_t *body = req_json(r);
	if (!body)
		return;
	struct ticket_change c;
	struct err e = {0};
	struct ticket_actor a = api_ticket_actor(r);
	int changed;
	if (api_read_change(body, &c, &e) < 0)
		api_fail(r, &e);
	else if (api_may_assign(r, c.assignee_id) == 0 && api_begin(r) == 0) {
		if (ticket_update(api_scope(r), &a, id, &c, &changed, &e) < 0)
			api_fail(r, &e);
		else if (api_audit(r, "ticket.update", "ticket", id, body) == 0)
			api_reply_ticket(r, 200, id);
	}
	json_decref(body);
}

const struct route api_ticket_routes[] = {
	{HTTP_GET, "/api/v1/tickets", tickets_list, "tickets.read", 0},
	{HTTP_POST, "/api/v1/tickets", tickets_create, "tickets.write", 0},
	{HTTP_GET, "/api/v1/tickets/counts", tickets_counts, "tickets.read", 0},
	{HTTP_GET, "/api/v1/tickets/overview", tickets_overview, "tickets.read", 0},
	{HTTP_GET, "/api/v1/tickets/{id}", tickets_get, "tickets.read", 0},
	{HTTP_PATCH, "/api/v1/tickets/{id}", tickets_update, "tickets.write", 0},
};
const size_t api_ticket_nroutes = sizeof api_ticket_routes / sizeof api_ticket_routes[0];
