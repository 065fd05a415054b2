/* reply.c -- see reply.h. */
#include "reply.h"

#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "outbox.h"
#include "ticket_search.h"
#include "webhook.h"

struct route_out {
	int64_t channel_id, number, customer_id;
	const struct channel_driver *driver;
	json_t *config;
	char url[2048];
	char *thread_key;
	int sends; /* the channel delivers replies */
};

/* Where a public reply on this ticket goes, if anywhere. */
static int reply_route(const struct scope *s, int64_t ticket, struct route_out *o,
		       struct err *e)
{
	struct db_res *res = NULL;
	memset(o, 0, sizeof *o);
	if (db_sq(s, "SELECT t.channel_id, ch.type, ch.config, t.thread_key, t.number, "
		     "t.customer_id FROM tickets t LEFT JOIN channels ch ON ch.id = t.channel_id "
		     "WHERE t.account_id = $1 AND t.id = $2", DB_ARGS(DB_INT(ticket)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found && !db_res_isnull(res, 0)) {
		const struct channel_driver *d = channel_driver(db_res_text(res, 1));
		json_t *cfg = json_loads(db_res_text(res, 2), 0, NULL);
		o->channel_id = db_res_int(res, 0);
		o->sends = d && d->reply_target && cfg && d->reply_target(cfg, o->url, sizeof o->url);
		o->driver = d;
		o->config = cfg;
	}
	if (found) {
		const char *tk = db_res_text(res, 3);
		o->thread_key = tk ? xstrdup(tk) : NULL;
		o->number = db_res_int(res, 4);
		o->customer_id = db_res_int(res, 5);
	}
	db_res_free(res);
	if (!found)
		ERR_NOT_FOUND(e, "ticket not found");
	return found ? 0 : -1;
}

/* The channel's own rendering of the reply (an e-mail). */
static int queue_composed(const struct scope *s, const struct route_out *o,
			  int64_t ticket, int64_t mid, struct err *e)
{
	char *payload = NULL;
	int64_t oid;
	int rc = o->driver->reply_compose(s, o->config, o->channel_id, ticket, mid, &payload, e);
	if (rc == 0)
		rc = outbox_enqueue(s, OUTBOX_CHANNEL_REPLY, mid, o->url, payload, &oid, e);
	free(payload);
	return rc;
}

/* The document the channel's endpoint receives for a reply. */
static int queue_delivery(const struct scope *s, const struct route_out *o,
			  int64_t ticket, int64_t mid, const json_t *msg, struct err *e)
{
	json_t *ids = json_array();
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT kind, handle FROM customer_identities WHERE account_id = $1 AND "
		     "customer_id = $2 ORDER BY id", DB_ARGS(DB_INT(o->customer_id)), &res, e) < 0) {
		json_decref(ids);
		return -1;
	}
	while (res && db_res_next(res))
		json_array_append_new(ids, json_pack("{ss ss}", "kind", db_res_text(res, 0),
						     "handle", db_res_text(res, 1)));
	db_res_free(res);
	json_t *doc = json_pack("{ss s{sI sI so} sO s{sI so}}", "event", "message.created",
		"ticket", "id", (json_int_t)ticket, "number", (json_int_t)o->number,
		"conversation_id", o->thread_key ? json_string(o->thread_key) : json_null(),
		"message", msg, "customer", "id", (json_int_t)o->customer_id, "identities", ids);
	char *body = json_dumps(doc, JSON_COMPACT);
	int64_t oid;
	int rc = outbox_enqueue(s, OUTBOX_CHANNEL_REPLY, mid, o->url, body, &oid, e);
	free(body);
	json_decref(doc);
	return rc;
}

int reply_post(const struct scope *s, const struct ticket_actor *a,
	       struct message_new *m, int64_t *message_id, struct err *e)
{
	struct route_out o;
	if (reply_route(s, m->ticket_id, &o, e) < 0)
		return -1;
	int outbound = !m->internal && o.sends;
	m->author_kind = "agent";
	m->author_user_id = a->who.id;
	m->channel_id = m->internal ? 0 : o.channel_id;
	m->delivery_status = outbound ? "pending" : NULL;
	int composed = outbound && o.driver->reply_compose;
	json_t *msg = NULL;
	int rc = message_add(s, m, message_id, e);
	if (rc == 0 && composed)
		rc = queue_composed(s, &o, m->ticket_id, *message_id, e);
	if (rc == 0 && !(msg = message_get(s, *message_id, e)))
		rc = -1;
	if (rc == 0 && outbound && !composed)
		rc = queue_delivery(s, &o, m->ticket_id, *message_id, msg, e);
	if (rc == 0 && !m->internal && o.driver && o.driver->reply_followup)
		rc = o.driver->reply_followup(s, o.config, m->ticket_id, *message_id, e);
	if (rc == 0)
		rc = ticket_on_message(s, a, m->ticket_id, "agent", m->internal, e) < 0 ||
		     ticket_search_index(s, m->ticket_id, e) < 0 ? -1 : 0;
	if (rc == 0)
		rc = message_announce(s, msg, o.number, e);
	json_decref(msg);
	json_decref(o.config);
	free(o.thread_key);
	return rc;
}
