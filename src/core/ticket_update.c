/*
 * ticket_update.c -- changing a ticket's fields, and what a new message does
 * to its ticket (see ticket.h).
 *
 * An update reads the current row, works out what really changes, writes
 * one UPDATE, one timeline event per changed field and one ticket.updated
 * webhook event listing the changes.
 */
#include <stdlib.h>
#include <string.h>

#include "rowjson.h"
#include "../util/clock.h"
#include "field.h"
#include "tags.h"
#include "message.h"
#include "ticket_event.h"
#include "ticket_internal.h"
#include "workflow.h"

struct current {
	char status[48], category[16], priority[16];
	char *subject, *cat;
	int64_t team, assignee;
	json_t *tags, *fields;
	int merged;
};

static void current_free(struct current *c)
{
	free(c->subject);
	free(c->cat);
	json_decref(c->tags);
	json_decref(c->fields);
}

static int load_current(const struct scope *s, int64_t id, struct current *c,
			struct err *e)
{
	struct db_res *res = NULL;
	memset(c, 0, sizeof *c);
	if (db_sq(s, "SELECT status, status_category, priority, subject, category, "
		     "team_id, assignee_id, tags, fields, merged_into FROM tickets "
		     "WHERE account_id = $1 AND id = $2", DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found) {
		snprintf(c->status, sizeof c->status, "%s", db_res_text(res, 0));
		snprintf(c->category, sizeof c->category, "%s", db_res_text(res, 1));
		snprintf(c->priority, sizeof c->priority, "%s", db_res_text(res, 2));
		c->subject = xstrdup(db_res_text(res, 3));
		c->cat = db_res_text(res, 4) ? xstrdup(db_res_text(res, 4)) : NULL;
		c->team = db_res_isnull(res, 5) ? 0 : db_res_int(res, 5);
		c->assignee = db_res_isnull(res, 6) ? 0 : db_res_int(res, 6);
		c->tags = json_loads(db_res_text(res, 7), 0, NULL);
		c->fields = json_loads(db_res_text(res, 8), 0, NULL);
		c->merged = !db_res_isnull(res, 9);
	}
	db_res_free(res);
	if (!found)
		ERR_NOT_FOUND(e, "ticket not found");
	return found ? 0 : -1;
}

/* One changed field: timeline event + entry in the webhook's change list. */
static int record(const struct scope *s, const struct ticket_actor *a, int64_t id,
		  const char *kind, json_t *from, json_t *to, json_t *changes,
		  struct err *e)
{
	json_t *d = json_pack("{so so}", "from", from ? from : json_null(),
			      "to", to ? to : json_null());
	int rc = ticket_event_add(s, id, &a->who, kind, d, e);
	json_object_set_new(d, "field", json_string(kind));
	json_array_append_new(changes, d);
	return rc;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static json_t *id_or_null(int64_t v)
{
	return v ? json_integer(v) : json_null();
}

/* The new tag set: replacement, or current plus additions minus removals. */
static json_t *new_tags(const struct current *cur, const struct ticket_change *c)
{
	if (c->tags)
		return json_deep_copy(c->tags);
	json_t *t = json_array();
	size_t i, j;
	json_t *v, *r;
	json_array_foreach(cur->tags, i, v) {
		int removed = 0;
		json_array_foreach(c->remove_tags, j, r)
			removed |= json_equal(v, r);
		if (!removed)
			json_array_append(t, v);
	}
	json_array_foreach(c->add_tags, i, v) {
		int present = 0;
		json_array_foreach(t, j, r)
			present |= json_equal(v, r);
		if (!present)
			json_array_append(t, v);
	}
	return t;
}

int ticket_change_valid(const struct ticket_change *c, struct err *e)
{
	if (c->subject && (!c->subject[0] || strlen(c->subject) > 500)) {
		ERR_INVALID(e, "subject must be 1-500 characters");
		return -1;
	}
	if (c->priority && !ticket_priority_valid(c->priority)) {
		ERR_INVALID(e, "priority must be low, normal, high or urgent");
		return -1;
	}
	if (c->category && strlen(c->category) > 100) {
		ERR_INVALID(e, "category must be at most 100 characters");
		return -1;
	}
	const json_t *lists[] = {c->tags, c->add_tags, c->remove_tags};
	for (int i = 0; i < 3; i++)
		if (lists[i] && tags_check(lists[i], e) < 0)
			return -1;
	if (c->fields && !json_is_object(c->fields)) {
		ERR_INVALID(e, "fields must be an object");
		return -1;
	}
	return 0;
}

static int check_change(const struct scope *s, const struct current *cur,
			const struct ticket_change *c, struct err *e)
{
	if (cur->merged) {
		ERR_UNPROCESSABLE(e, "this ticket was merged into another; change that one");
		return -1;
	}
	if (ticket_change_valid(c, e) < 0)
		return -1;
	if (c->status && !c->force_status && workflow_check(s, cur->status, c->status, e) < 0)
		return -1;
	return ticket_check_people(s, c->team_id, c->assignee_id, e);
}

/* Status, priority, subject, category: simple columns. */
static int apply_scalars(const struct scope *s, const struct ticket_actor *a,
			 int64_t id, const struct current *cur,
			 const struct ticket_change *c, json_t *changes, struct err *e)
{
	int64_t now = clock_now_ms();
	if (c->status && strcmp(c->status, cur->status) != 0) {
		char cat[16];
		if (workflow_category(s, c->status, cat, sizeof cat, e) < 0 ||
		    db_sexec(s, "UPDATE tickets SET status = $3, status_category = $4, "
				"resolved_at = CASE WHEN $4 = 'resolved' THEN $5 WHEN $4 IN "
				"('new', 'open', 'pending') THEN NULL ELSE resolved_at END, "
				"closed_at = CASE WHEN $4 = 'closed' THEN $5 ELSE NULL END "
				"WHERE account_id = $1 AND id = $2",
			     DB_ARGS(DB_INT(id), DB_TEXT(c->status), DB_TEXT(cat), DB_INT(now)), e) < 0 ||
		    record(s, a, id, "status", json_string(cur->status), json_string(c->status),
			   changes, e) < 0)
			return -1;
	}
	if (c->priority && strcmp(c->priority, cur->priority) != 0 &&
	    (db_sexec(s, "UPDATE tickets SET priority = $3 WHERE account_id = $1 AND id = $2",
		      DB_ARGS(DB_INT(id), DB_TEXT(c->priority)), e) < 0 ||
	     record(s, a, id, "priority", json_string(cur->priority),
		    json_string(c->priority), changes, e) < 0))
		return -1;
	if (c->subject && strcmp(c->subject, cur->subject) != 0 &&
	    (db_sexec(s, "UPDATE tickets SET subject = $3 WHERE account_id = $1 AND id = $2",
		      DB_ARGS(DB_INT(id), DB_TEXT(c->subject)), e) < 0 ||
	     record(s, a, id, "subject", json_string(cur->subject), json_string(c->subject),
		    changes, e) < 0))
		return -1;
	const char *newcat = c->category && c->category[0] ? c->category : NULL;
	if (c->category && !same_str(newcat, cur->cat) &&
	    (db_sexec(s, "UPDATE tickets SET category = $3 WHERE account_id = $1 AND id = $2",
		      DB_ARGS(DB_INT(id), DB_TEXT(newcat)), e) < 0 ||
	     record(s, a, id, "category", rj_str(cur->cat), rj_str(newcat),
		    changes, e) < 0))
		return -1;
	return 0;
}

/* Team, assignee, tags, custom fields. */
static int apply_rest(const struct scope *s, const struct ticket_actor *a,
		      int64_t id, const struct current *cur,
		      const struct ticket_change *c, json_t *changes, struct err *e)
{
	if (c->team_id >= 0 && c->team_id != cur->team &&
	    (db_sexec(s, "UPDATE tickets SET team_id = $3 WHERE account_id = $1 AND id = $2",
		      DB_ARGS(DB_INT(id), c->team_id ? DB_INT(c->team_id) : DB_NULLV), e) < 0 ||
	     record(s, a, id, "team", id_or_null(cur->team), id_or_null(c->team_id),
		    changes, e) < 0))
		return -1;
	if (c->assignee_id >= 0 && c->assignee_id != cur->assignee &&
	    (db_sexec(s, "UPDATE tickets SET assignee_id = $3 WHERE account_id = $1 AND id = $2",
		      DB_ARGS(DB_INT(id), c->assignee_id ? DB_INT(c->assignee_id) : DB_NULLV), e) < 0 ||
	     record(s, a, id, "assignee", id_or_null(cur->assignee),
		    id_or_null(c->assignee_id), changes, e) < 0))
		return -1;
	int rc = 0;
	if (c->tags || c->add_tags || c->remove_tags) {
		json_t *tags = new_tags(cur, c);
		if (!json_equal(tags, cur->tags))
			rc = ticket_tags_store(s, id, tags, e) < 0 ||
			     record(s, a, id, "tags", json_incref(cur->tags), json_incref(tags),
				    changes, e) < 0 ? -1 : 0;
		json_decref(tags);
	}
	if (rc == 0 && c->fields) {
		json_t *f = json_deep_copy(cur->fields);
		rc = field_apply(s, f, c->fields, 0, e);
		if (rc == 0 && !json_equal(f, cur->fields)) {
			char *fj = json_dumps(f, JSON_COMPACT);
			rc = db_sexec(s, "UPDATE tickets SET fields = $3 WHERE account_id = $1 "
					 "AND id = $2", DB_ARGS(DB_INT(id), DB_TEXT(fj)), e) < 0 ||
			     record(s, a, id, "fields", json_incref(cur->fields), json_incref(f),
				    changes, e) < 0 ? -1 : 0;
			free(fj);
		}
		json_decref(f);
	}
	return rc;
}

int ticket_update(const struct scope *s, const struct ticket_actor *a,
		  int64_t id, const struct ticket_change *c, int *changed,
		  struct err *e)
{
	struct current cur;
	*changed = 0;
	if (load_current(s, id, &cur, e) < 0)
		return -1;
	json_t *changes = json_array();
	int rc = check_change(s, &cur, c, e);
	if (rc == 0)
		rc = apply_scalars(s, a, id, &cur, c, changes, e);
	if (rc == 0)
		rc = apply_rest(s, a, id, &cur, c, changes, e);
	if (rc == 0 && json_array_size(changes) > 0) {
		*changed = 1;
		rc = db_sexec(s, "UPDATE tickets SET updated_at = $3 WHERE account_id = $1 "
				 "AND id = $2", DB_ARGS(DB_INT(id), DB_INT(clock_now_ms())), e) < 0
			? -1 : 0;
		json_t *extra = json_pack("{sO}", "changes", changes);
		if (rc == 0)
			rc = ticket_emit_moved(s, id, "ticket.updated", extra,
				c->team_id >= 0 && c->team_id != cur.team ? cur.team : 0,
				c->assignee_id >= 0 && c->assignee_id != cur.assignee ? cur.assignee : 0,
				e);
		json_decref(extra);
	}
	json_decref(changes);
	current_free(&cur);
	return rc;
}

int ticket_on_message(const struct scope *s, const struct ticket_actor *a,
		      int64_t id, const char *author_kind, int internal,
		      struct err *e)
{
	struct current cur;
	if (load_current(s, id, &cur, e) < 0)
		return -1;
	int64_t now = clock_now_ms();
	int customer = strcmp(author_kind, "customer") == 0;
	int rc = 0;
	/* A customer answering a ticket that waited on them or was solved
	 * reopens it (a closed one too: ingest only lets a message onto a
	 * closed ticket when the account reopens them); staff answering a new
	 * ticket has opened it. */
	const char *to = NULL;
	if (customer && (!strcmp(cur.category, "pending") || !strcmp(cur.category, "resolved") ||
			 !strcmp(cur.category, "closed")))
		to = "open";
	else if (!customer && !internal && !strcmp(cur.category, "new"))
		to = "open";
	if (to) {
		struct ticket_change c = TICKET_CHANGE_NONE;
		c.status = to;
		/* The account's rules govern what staff do; a customer's reply
		 * reopens whatever they say, or it would go unseen. */
		c.force_status = customer;
		int changed;
		rc = ticket_update(s, a, id, &c, &changed, e);
	}
	if (rc == 0)
		rc = db_sexec(s,
			"UPDATE tickets SET updated_at = $3, "
			"last_message_at = CASE WHEN $4 = 1 THEN last_message_at ELSE $3 END, "
			"last_customer_message_at = CASE WHEN $5 = 1 THEN $3 ELSE "
			"  last_customer_message_at END, "
			"first_response_at = CASE WHEN $5 = 0 AND $4 = 0 AND first_response_at "
			"  IS NULL THEN $3 ELSE first_response_at END "
			"WHERE account_id = $1 AND id = $2",
			DB_ARGS(DB_INT(id), DB_INT(now), DB_INT(internal != 0), DB_INT(customer)),
			e) < 0 ? -1 : 0;
	current_free(&cur);
	return rc;
}

int ticket_note(const struct scope *s, const struct ticket_actor *a, int64_t id,
		const char *text, struct err *e)
{
	if (!text || !text[0])
		return 0;
	struct message_new m = {.ticket_id = id, .author_kind = "agent",
				.author_user_id = a->who.id, .internal = 1, .text = text};
	int64_t mid;
	return message_add(s, &m, &mid, e);
}
