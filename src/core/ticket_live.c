/*
 * ticket_live.c -- what happens on a ticket between two saved changes:
 * someone typing, someone having read up to a message, and the customer's
 * satisfaction rating at the end (T7).  Each is an event for the consoles
 * (and the customer's widget where it concerns them); the rating and the
 * read marks are also stored on the ticket.
 */
#include <string.h>

#include "../util/clock.h"
#include "chat.h"
#include "events.h"
#include "ticket_event.h"
#include "ticket_internal.h"

/* Staff event plus, on a chat ticket, the customer's event, in the
 * caller's transaction. */
static int both_events(const struct scope *s, int64_t ticket, const char *type,
		       const json_t *staff, const json_t *customer, struct err *e)
{
	struct event_target t = {.audience = EV_STAFF};
	int chat = 0;
	if (events_ticket_target(s, ticket, &t, &chat, e) < 0)
		return -1;
	int64_t cust = t.customer_id;
	t.customer_id = 0;
	if (events_add(s, type, &t, staff, e) < 0)
		return -1;
	if (!customer || !chat)
		return 0;
	struct event_target c = {.audience = EV_CUSTOMER, .ticket_id = ticket,
				 .customer_id = cust};
	return events_add(s, type, &c, customer, e);
}

int ticket_typing(const struct scope *s, const struct principal *p, int64_t id,
		  int typing, int internal, struct err *e)
{
	json_t *staff = json_pack("{sI ss sI ss sb sb}", "ticket_id", (json_int_t)id,
				  "who", "agent", "user_id", (json_int_t)p->user_id,
				  "name", p->name, "typing", typing, "internal", internal);
	/* A note being written is nothing the customer should see. */
	json_t *cust = internal ? NULL
		: json_pack("{sI ss ss sb}", "ticket_id", (json_int_t)id, "who", "agent",
			    "name", p->name, "typing", typing);
	int rc = both_events(s, id, "typing", staff, cust, e);
	json_decref(staff);
	json_decref(cust);
	return rc;
}

int ticket_mark_read(const struct scope *s, const struct principal *p, int64_t id,
		     int64_t message_id, struct err *e)
{
	int64_t one;
	int found = db_sq_int(s, "SELECT 1 FROM messages WHERE account_id = $1 AND id = $2 "
				 "AND ticket_id = $3", DB_ARGS(DB_INT(message_id), DB_INT(id)), &one, e);
	if (found <= 0) {
		if (found == 0)
			ERR_NOT_FOUND(e, "no such message on the ticket");
		return -1;
	}
	/* The mark the customer sees: the last public message up to there (a
	 * note's id is nothing they should learn). */
	if (db_sq_int(s, "SELECT COALESCE(MAX(id), 0) FROM messages WHERE account_id = $1 AND "
			 "ticket_id = $2 AND id <= $3 AND internal = 0",
		      DB_ARGS(DB_INT(id), DB_INT(message_id)), &message_id, e) < 0)
		return -1;
	if (message_id == 0)
		return 0;
	int64_t n = db_sexec(s, "UPDATE tickets SET agent_read_id = $3 WHERE account_id = $1 "
				"AND id = $2 AND COALESCE(agent_read_id, 0) < $3",
			     DB_ARGS(DB_INT(id), DB_INT(message_id)), e);
	if (n <= 0)
		return (int)n; /* already read that far: nothing to announce */
	json_t *staff = json_pack("{sI sI ss sI}", "ticket_id", (json_int_t)id, "message_id",
				  (json_int_t)message_id, "who", "agent", "user_id",
				  (json_int_t)p->user_id);
	json_t *cust = json_pack("{sI sI ss}", "ticket_id", (json_int_t)id, "message_id",
				 (json_int_t)message_id, "who", "agent");
	int rc = both_events(s, id, "read", staff, cust, e);
	json_decref(staff);
	json_decref(cust);
	return rc;
}

int ticket_rate(const struct scope *s, const struct ticket_actor *a, int64_t id,
		int score, const char *comment, struct err *e)
{
	if (score < 1 || score > 5) {
		ERR_INVALID(e, "score must be 1 to 5");
		return -1;
	}
	if (comment && strlen(comment) > 2000) {
		ERR_INVALID(e, "comment must be at most 2000 bytes");
		return -1;
	}
	int64_t n = db_sexec(s, "UPDATE tickets SET csat_score = $3, csat_comment = $4, "
				"csat_at = $5 WHERE account_id = $1 AND id = $2 AND csat_score IS NULL "
				"AND status_category IN ('resolved', 'closed')",
			     DB_ARGS(DB_INT(id), DB_INT(score), DB_TEXT(comment && comment[0] ? comment : NULL),
				     DB_INT(clock_now_ms())), e);
	if (n == 0)
		ERR_CONFLICT(e, "the conversation is not resolved, or was already rated");
	if (n <= 0)
		return -1;
	json_t *d = json_pack("{si ss?}", "score", score, "comment", comment);
	int rc = ticket_event_add(s, id, &a->who, "rated", d, e);
	json_decref(d);
	if (rc == 0) {
		json_t *extra = json_pack("{s{si ss?}}", "rating", "score", score, "comment", comment);
		rc = ticket_emit(s, id, "ticket.updated", extra, e);
		json_decref(extra);
	}
	return rc;
}
