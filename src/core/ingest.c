/* ingest.c -- see ingest.h. */
#include "ingest.h"

#include <inttypes.h>
#include <string.h>

#include "../util/clock.h"
#include "account.h"
#include "audit.h"
#include "customer.h"
#include "message.h"
#include "ticket.h"
#include "ticket_event.h"
#include "ticket_search.h"

static int check(const struct inbound_msg *m, struct err *e)
{
	size_t n = m->external_id ? strlen(m->external_id) : 0;
	if (n == 0 || n > 255) {
		ERR_INVALID(e, "external_id (the channel's message id) must be 1-255 characters");
		return -1;
	}
	if (m->nids == 0) {
		ERR_INVALID(e, "the sender needs at least one identity (id, email or phone)");
		return -1;
	}
	if (m->thread_key && strlen(m->thread_key) > 255) {
		ERR_INVALID(e, "conversation id must be at most 255 characters");
		return -1;
	}
	return 0;
}

int ingest_seen(const struct scope *s, int64_t channel_id, const char *external_id,
		struct ingest_result *r, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT i.ticket_id, i.message_id, i.customer_id, t.number FROM "
		     "inbound_seen i JOIN tickets t ON t.id = i.ticket_id WHERE "
		     "i.account_id = $1 AND i.channel_id = $2 AND i.external_id = $3",
		  DB_ARGS(DB_INT(channel_id), DB_TEXT(external_id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found) {
		r->ticket_id = db_res_int(res, 0);
		r->message_id = db_res_int(res, 1);
		r->customer_id = db_res_int(res, 2);
		r->ticket_number = db_res_int(res, 3);
		r->duplicate = 1;
	}
	db_res_free(res);
	return found;
}

/* Normalised identities; invalid ones (a malformed e-mail from a channel)
 * make the whole message invalid: better a clear 400 than a profile keyed
 * by garbage. */
static int norm_ids(const struct inbound_msg *m, char out[][256], struct err *e)
{
	for (int i = 0; i < m->nids; i++)
		if (customer_identity_normalize(m->ids[i].kind, m->ids[i].handle, out[i], 256, e) < 0)
			return -1;
	return 0;
}

static int find_customer(const struct scope *s, const struct inbound_msg *m,
			 char ids[][256], struct ingest_result *r, struct err *e)
{
	for (int i = 0; i < m->nids; i++) {
		int found = customer_find_identity(s, m->ids[i].kind, ids[i], &r->customer_id, e);
		if (found != 0)
			return found < 0 ? -1 : 0;
	}
	struct customer_input in = {.name = m->name ? m->name : ""};
	for (int i = 0; i < m->nids; i++) {
		if (!strcmp(m->ids[i].kind, "email") && !in.email)
			in.email = ids[i];
		if (!strcmp(m->ids[i].kind, "phone") && !in.phone)
			in.phone = ids[i];
	}
	if (!in.name[0])
		in.name = in.email ? in.email : ids[0];
	r->new_customer = 1;
	return customer_create(s, &in, &r->customer_id, e);
}

/* Identities the sender showed that the profile lacks are added, unless
 * someone else already owns them (that takes a human decision: merge). */
static int learn_identities(const struct scope *s, const struct inbound_msg *m,
			    char ids[][256], int64_t customer, struct err *e)
{
	for (int i = 0; i < m->nids; i++) {
		int64_t owner;
		int found = customer_find_identity(s, m->ids[i].kind, ids[i], &owner, e);
		if (found < 0)
			return -1;
		if (!found && customer_identity_add(s, customer, m->ids[i].kind, ids[i], e) < 0)
			return -1;
	}
	return db_sexec(s, "UPDATE customers SET last_seen_at = $3 WHERE account_id = $1 AND id = $2",
			DB_ARGS(DB_INT(customer), DB_INT(clock_now_ms())), e) < 0 ? -1 : 0;
}

/* The open ticket of the conversation, or the ticket the channel named
 * (following merges), or 0. */
static int find_thread(const struct scope *s, const struct inbound_msg *m,
		       int64_t *ticket, int64_t *closed, struct err *e)
{
	*ticket = *closed = 0;
	if (!m->thread_key && !m->ticket_id)
		return 0;
	struct db_res *res = NULL;
	int rc = m->ticket_id
		? db_sq(s, "SELECT COALESCE(t.merged_into, t.id), t2.status_category FROM "
			   "tickets t JOIN tickets t2 ON t2.id = COALESCE(t.merged_into, t.id) "
			   "WHERE t.account_id = $1 AND t.id = $2", DB_ARGS(DB_INT(m->ticket_id)),
			&res, e)
		: db_sq(s, "SELECT COALESCE(t.merged_into, t.id), t2.status_category FROM "
			   "tickets t JOIN tickets t2 ON t2.id = COALESCE(t.merged_into, t.id) "
			   "WHERE t.account_id = $1 AND t.channel_id = $2 AND t.thread_key = $3 "
			   "ORDER BY t.id DESC LIMIT 1",
			DB_ARGS(DB_INT(m->channel_id), DB_TEXT(m->thread_key)), &res, e);
	if (rc < 0)
		return -1;
	if (res && db_res_next(res)) {
		int64_t id = db_res_int(res, 0);
		/* A closed conversation is over: a new message starts a new
		 * ticket, linked to the old one -- unless the account wants
		 * closed tickets reopened (ticket_on_message reopens it). */
		if (strcmp(db_res_text(res, 1), "closed") == 0)
			*closed = id;
		else
			*ticket = id;
	}
	db_res_free(res);
	if (*closed) {
		int reopen = account_reopens_closed(s, e);
		if (reopen < 0)
			return -1;
		if (reopen) {
			*ticket = *closed;
			*closed = 0;
		}
	}
	return 0;
}

/* A subject from the first line of the text, at most ~80 characters cut at
 * a UTF-8 boundary. */
static void derive_subject(const char *text, char *out, size_t n)
{
	size_t len = strcspn(text ? text : "", "\r\n");
	if (len > 80)
		len = 80;
	while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;
	snprintf(out, n, "%.*s", (int)len, len ? text : "(no subject)");
	if (!out[0])
		snprintf(out, n, "(no subject)");
}

static int open_ticket(const struct scope *s, const struct ticket_actor *a,
		       const struct inbound_msg *m, int64_t closed,
		       struct ingest_result *r, struct err *e)
{
	char subject[128];
	if (!m->subject || !m->subject[0])
		derive_subject(m->text, subject, sizeof subject);
	struct ticket_new t = {
		.subject = m->subject && m->subject[0] ? m->subject : subject,
		.customer_id = r->customer_id, .channel_id = m->channel_id,
		.origin = m->channel_type, .thread_key = m->thread_key, .team_id = m->team_id,
	};
	r->new_ticket = 1;
	if (ticket_create(s, a, &t, &r->ticket_id, e) < 0)
		return -1;
	if (closed && ticket_link(s, a, r->ticket_id, closed, "related", e) < 0)
		return -1;
	return 0;
}

static int store_message(const struct scope *s, const struct ticket_actor *a,
			 const struct inbound_msg *m, struct ingest_result *r,
			 struct err *e)
{
	struct message_new msg = {
		.ticket_id = r->ticket_id, .author_kind = "customer",
		.customer_id = r->customer_id, .channel_id = m->channel_id,
		.external_id = m->external_id, .text = m->text, .html = m->html,
		.attachments = m->attachments,
	};
	if (message_add(s, &msg, &r->message_id, e) < 0 ||
	    ticket_on_message(s, a, r->ticket_id, "customer", 0, e) < 0 ||
	    ticket_search_index(s, r->ticket_id, e) < 0)
		return -1;
	if (db_sq_int(s, "SELECT number FROM tickets WHERE account_id = $1 AND id = $2",
		      DB_ARGS(DB_INT(r->ticket_id)), &r->ticket_number, e) != 1)
		return -1;
	return db_sexec(s, "INSERT INTO inbound_seen (account_id, channel_id, external_id, "
			   "ticket_id, message_id, customer_id, created_at) VALUES ($1, $2, $3, "
			   "$4, $5, $6, $7)",
			DB_ARGS(DB_INT(m->channel_id), DB_TEXT(m->external_id),
				DB_INT(r->ticket_id), DB_INT(r->message_id),
				DB_INT(r->customer_id), DB_INT(clock_now_ms())), e) < 0 ? -1 : 0;
}

static int announce(const struct scope *s, const struct ticket_actor *a,
		    const struct inbound_msg *m, const struct ingest_result *r,
		    struct err *e)
{
	json_t *msg = message_get(s, r->message_id, e);
	int rc = msg ? message_announce(s, msg, r->ticket_number, e) : -1;
	json_decref(msg);
	if (rc >= 0) {
		json_t *d = json_pack("{sI ss ss}", "ticket_id", (json_int_t)r->ticket_id,
				      "channel", m->channel_type, "external_id", m->external_id);
		rc = audit_record(s, &a->who, "message.inbound", "message", r->message_id, d, e);
		json_decref(d);
	}
	return rc;
}

static int ingest_tx(const struct scope *s, const struct inbound_msg *m,
		     struct ingest_result *r, struct err *e)
{
	char ids[INGEST_MAX_IDENTITIES][256];
	char label[64];
	snprintf(label, sizeof label, "channel %" PRId64, m->channel_id);
	struct ticket_actor a = {{"channel", m->channel_id, label, "", ""}, NULL};
	int64_t closed;
	int found = ingest_seen(s, m->channel_id, m->external_id, r, e);
	if (found != 0)
		return found < 0 ? -1 : 0;
	if (norm_ids(m, ids, e) < 0 || find_customer(s, m, ids, r, e) < 0 ||
	    learn_identities(s, m, ids, r->customer_id, e) < 0 ||
	    find_thread(s, m, &r->ticket_id, &closed, e) < 0)
		return -1;
	if (!r->ticket_id && open_ticket(s, &a, m, closed, r, e) < 0)
		return -1;
	a.who.type = "customer";
	a.who.id = r->customer_id;
	if (store_message(s, &a, m, r, e) < 0)
		return -1;
	return announce(s, &a, m, r, e);
}

int ingest_message(struct db *db, int64_t account_id, const struct inbound_msg *m,
		   struct ingest_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	if (check(m, e) < 0)
		return -1;
	struct scope s = {db, account_id};
	for (int attempt = 0; attempt < 2; attempt++) {
		if (db_begin(db, e) < 0)
			return -1;
		int rc = ingest_tx(&s, m, r, e);
		if (rc == 0 && r->duplicate) {
			db_rollback(db); /* nothing was written */
			return 0;
		}
		if (rc == 0)
			return db_commit(db, e);
		db_rollback(db);
		/* Two deliveries of one message racing on PostgreSQL: the
		 * loser hits the inbound_seen key; the retry finds the
		 * winner's result. */
		if (e->status != 409 || attempt == 1)
			return -1;
		memset(r, 0, sizeof *r);
		err_clear(e);
	}
	return -1;
}
