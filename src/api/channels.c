/*
 * channels.c -- /api/v1/channels: configuring channels (channels.manage),
 * and the API channel's inbound endpoint, authenticated by the channel's own
 * token instead of a staff login.
 */
#include <string.h>
#include <strings.h>

#include "../core/channel.h"
#include "../core/ingest.h"
#include "../core/mail_poll.h"
#include "../core/mailbox.h"
#include "inbound.h"
#include "input.h"
#include "api.h"

static void reply_channel(struct req *r, int status, int64_t id, const char *token)
{
	struct err e = {0};
	json_t *c = channel_get(api_scope(r), id, 1, &e);
	if (!c) {
		api_fail(r, &e);
		return;
	}
	if (token && token[0])
		json_object_set_new(c, "token", json_string(token));
	const json_t *imap = json_object_get(json_object_get(c, "config"), "imap");
	json_t *box = NULL;
	if (json_is_object(imap) && !(box = mailbox_status(api_scope(r), id, &e))) {
		json_decref(c);
		api_fail(r, &e);
		return;
	}
	if (box)
		json_object_set_new(c, "mailbox", box);
	reply_json(r, status, c);
}

static void channels_list(struct req *r)
{
	json_t *items = json_array();
	struct err e = {0};
	if (channel_list(api_scope(r), items, &e) < 0) {
		json_decref(items);
		api_fail(r, &e);
		return;
	}
	api_reply_list(r, items, 0);
}

static void channels_get(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) == 0)
		reply_channel(r, 200, id, NULL);
}

static void channels_create(struct req *r)
{
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"type", "name", "config", NULL};
	const char *type, *name;
	const json_t *config = json_object_get(body, "config");
	char token[CHANNEL_TOKEN_LEN];
	int64_t id;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "type", 1, &type, &e) < 0 ||
	    in_str(body, "name", 1, &name, &e) < 0) {
		api_fail(r, &e);
	} else if (api_begin(r) == 0) {
		if (channel_create(api_scope(r), type, name, config, &id, token, &e) < 0)
			api_fail(r, &e);
		else if (api_audit(r, "channel.create", "channel", id, body) == 0)
			reply_channel(r, 201, id, token);
	}
	json_decref(body);
}

static void channels_update(struct req *r)
{
	int64_t id;
	if (api_id(r, 0, &id) < 0)
		return;
	json_t *body = req_json(r);
	if (!body)
		return;
	static const char *const keys[] = {"name", "config", "active", NULL};
	const char *name;
	int active;
	struct err e = {0};
	if (in_keys(body, keys, &e) < 0 || in_str(body, "name", 0, &name, &e) < 0 ||
	    in_bool(body, "active", &active, &e) < 0) {
		api_fail(r, &e);
	} else if (api_begin(r) == 0) {
		if (channel_update(api_scope(r), id, name, json_object_get(body, "config"),
				   active, &e) < 0)
			api_fail(r, &e);
		else if (api_audit(r, "channel.update", "channel", id, body) == 0)
			reply_channel(r, 200, id, NULL);
	}
	json_decref(body);
}

static void channels_token(struct req *r)
{
	int64_t id;
	char token[CHANNEL_TOKEN_LEN];
	struct err e = {0};
	if (api_id(r, 0, &id) < 0 || api_begin(r) < 0)
		return;
	if (channel_rotate_token(api_scope(r), id, token, &e) < 0)
		api_fail(r, &e);
	else if (api_audit(r, "channel.token_rotate", "channel", id, NULL) == 0)
		reply_channel(r, 200, id, token);
}

/* "Check mail now" for a mailbox: the poller takes it at its next look
 * (at once on this node). */
static void channels_poll(struct req *r)
{
	int64_t id;
	struct err e = {0};
	if (api_id(r, 0, &id) < 0 || api_begin(r) < 0)
		return;
	if (mailbox_poll_now(api_scope(r), id, &e) < 0) {
		api_fail(r, &e);
		return;
	}
	if (api_audit(r, "channel.poll", "channel", id, NULL) < 0)
		return;
	mail_poll_kick();
	reply_json(r, 202, json_pack("{sb}", "queued", 1));
}

/* The sender of an inbound API message: customer {id, name, email, phone}. */
static int read_sender(const json_t *cust, struct inbound_msg *m, struct err *e)
{
	static const char *const keys[] = {"id", "name", "email", "phone", NULL};
	const char *id, *email, *phone;
	if (!json_is_object(cust) || in_keys(cust, keys, e) < 0 ||
	    in_str(cust, "id", 0, &id, e) < 0 || in_str(cust, "name", 0, &m->name, e) < 0 ||
	    in_str(cust, "email", 0, &email, e) < 0 || in_str(cust, "phone", 0, &phone, e) < 0) {
		if (!e->status)
			ERR_INVALID(e, "customer must be an object {id, name, email, phone}");
		return -1;
	}
	const char *kinds[] = {"api", "email", "phone"}, *handles[] = {id, email, phone};
	for (int i = 0; i < 3; i++)
		if (handles[i] && handles[i][0])
			m->ids[m->nids++] = (struct ingest_identity){kinds[i], handles[i]};
	return 0;
}

int api_inbound_parse(const json_t *body, struct inbound_msg *m, struct err *e)
{
	static const char *const keys[] = {"external_id", "conversation_id", "customer",
					   "subject", "text", "attachments", NULL};
	if (in_keys(body, keys, e) < 0 || in_str(body, "external_id", 1, &m->external_id, e) < 0 ||
	    in_str(body, "conversation_id", 0, &m->thread_key, e) < 0 ||
	    in_str(body, "subject", 0, &m->subject, e) < 0 ||
	    in_str(body, "text", 1, &m->text, e) < 0 ||
	    in_array(body, "attachments", 0, &m->attachments, e) < 0)
		return -1;
	if (!json_object_get(body, "customer")) {
		ERR_INVALID(e, "field \"customer\" is required");
		return -1;
	}
	return read_sender(json_object_get(body, "customer"), m, e);
}

static void channels_inbound(struct req *r)
{
	int64_t id, account;
	if (api_id(r, 0, &id) < 0)
		return;
	const char *authz = req_header(r, "authorization");
	char type[24];
	json_t *config = NULL;
	struct err e = {0};
	int ok = authz && strncasecmp(authz, "Bearer ", 7) == 0
		? channel_authenticate(api_worker(r)->db, id, authz + 7, &account, type,
				       sizeof type, &config, &e) : 0;
	if (ok <= 0) {
		if (ok < 0)
			api_fail(r, &e);
		else
			reply_error(r, 401, "unauthenticated", "send the channel's token as Bearer");
		return;
	}
	json_t *body = req_json(r);
	struct inbound_msg m = {.channel_id = id, .channel_type = type};
	struct ingest_result res;
	json_t *team = json_object_get(config, "team_id");
	m.team_id = json_is_integer(team) ? json_integer_value(team) : 0;
	if (body && (api_inbound_parse(body, &m, &e) < 0 ||
		     ingest_message(api_worker(r)->db, account, &m, &res, &e) < 0))
		api_fail(r, &e);
	else if (body)
		reply_json(r, res.duplicate ? 200 : 201,
			   json_pack("{sI sI sI sI sb sb}", "ticket_id", (json_int_t)res.ticket_id,
				     "ticket_number", (json_int_t)res.ticket_number,
				     "message_id", (json_int_t)res.message_id,
				     "customer_id", (json_int_t)res.customer_id,
				     "duplicate", res.duplicate, "new_ticket", res.new_ticket));
	json_decref(body);
	json_decref(config);
}

const struct route api_channel_routes[] = {
	{HTTP_GET, "/api/v1/channels", channels_list, "channels.manage", 0},
	{HTTP_POST, "/api/v1/channels", channels_create, "channels.manage", 0},
	{HTTP_GET, "/api/v1/channels/{id}", channels_get, "channels.manage", 0},
	{HTTP_PATCH, "/api/v1/channels/{id}", channels_update, "channels.manage", 0},
	{HTTP_POST, "/api/v1/channels/{id}/token", channels_token, "channels.manage", 0},
	{HTTP_POST, "/api/v1/channels/{id}/poll", channels_poll, "channels.manage", 0},
	/* Authenticated by the channel token; ingest audits and commits. */
	{HTTP_POST, "/api/v1/channels/{id}/inbound", channels_inbound, NULL,
	 ROUTE_PUBLIC | ROUTE_OWN_TX | ROUTE_NO_CSRF},
};
const size_t api_channel_nroutes = sizeof api_channel_routes / sizeof api_channel_routes[0];
