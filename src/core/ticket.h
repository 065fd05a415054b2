/*
 * ticket.h -- tickets: the unit of work of a support team.
 *
 * Owns: the tickets, ticket_tags, ticket_links and saved_views tables and
 * every change to a ticket's fields (subject, status through the workflow,
 * priority, category, team, assignee, tags, custom fields), its per-account
 * number, visibility by the caller's data scope, lists (views, filters,
 * search, cursor pages), and the operations between tickets (merge and its
 * undo, split, links, bulk update).  Each change is written to the timeline
 * (ticket_event.h) and announced to webhooks in the same transaction.
 * Messages belong to message.h; threading of inbound mail/chat to ingest.h.
 */
#ifndef KEFU_CORE_TICKET_H
#define KEFU_CORE_TICKET_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"
#include "audit.h"
#include "rbac.h"

/* Who does something to a ticket: for the timeline, events and scope. */
struct ticket_actor {
	struct audit_actor who;           /* type user/token/customer/system */
	const struct principal *p;        /* NULL for channels and the system */
};

struct ticket_new {
	const char *subject;
	int64_t customer_id;
	const char *status;   /* NULL: new */
	const char *priority; /* NULL: normal */
	const char *category;
	int64_t team_id, assignee_id, channel_id;
	const char *origin;     /* channel type; "api" when created by staff */
	const char *thread_key; /* the channel's conversation id */
	const json_t *tags, *fields;
	int staff_form;         /* 1: required custom fields must be given */
};

/* A change of fields; NULL / 0 / -1 leave a field as it is. */
struct ticket_change {
	const char *subject, *status, *priority, *category;
	int64_t team_id;     /* -1 unchanged, 0 clear */
	int64_t assignee_id; /* -1 unchanged, 0 clear */
	const json_t *tags;      /* replace */
	const json_t *add_tags, *remove_tags;
	const json_t *fields;    /* merged; null values clear */
	int force_status;        /* 1: skip the account's transition rules */
};

#define TICKET_CHANGE_NONE {NULL, NULL, NULL, NULL, -1, -1, NULL, NULL, NULL, NULL, 0}

int ticket_priority_valid(const char *p);
/* The checks of a change that need no ticket (values, lengths, tags);
 * 400 when one fails. */
int ticket_change_valid(const struct ticket_change *c, struct err *e);

int ticket_create(const struct scope *s, const struct ticket_actor *a,
		  const struct ticket_new *in, int64_t *id, struct err *e);
/* Takes n consecutive ticket numbers of the account (its counter advances
 * by n, in the caller's transaction); the first into *first.  For writers
 * of many tickets at once (kefu gen); ticket_create takes one. */
int ticket_numbers_take(const struct scope *s, int64_t n, int64_t *first,
			struct err *e);
/* Applies the change, records one timeline event per changed field, and
 * emits ticket.updated.  *changed tells whether anything changed. */
int ticket_update(const struct scope *s, const struct ticket_actor *a,
		  int64_t id, const struct ticket_change *c, int *changed,
		  struct err *e);
/* The ticket, or NULL with 404 when it does not exist in the account or
 * is outside the principal's data scope (p NULL: no restriction). */
json_t *ticket_get(const struct scope *s, const struct principal *p, int64_t id,
		   struct err *e);
/* Append " AND (<tickets p may see>)" for a query over tickets aliased t
 * (nothing for scope all or p NULL). */
struct sqlb;
void ticket_scope_sql(struct sqlb *b, const struct principal *p);
/* 0 when p may see the ticket, -1 (404) otherwise. */
int ticket_visible(const struct scope *s, const struct principal *p, int64_t id,
		   struct err *e);

/* Marks the ticket touched by a message: timestamps, status reopen on a
 * customer reply, first response on the first public agent reply. */
int ticket_on_message(const struct scope *s, const struct ticket_actor *a,
		      int64_t id, const char *author_kind, int internal,
		      struct err *e);

struct ticket_filter {
	const char *view; /* mine, unassigned, my_teams, all (default) */
	const char *status, *priority, *channel, *tag, *customer_level, *q;
	int64_t team_id, assignee_id, customer_id;
	int64_t created_from, created_to, updated_from, updated_to; /* ms, 0 none */
	const char *sort;   /* updated_desc (default), updated_asc, created_desc, created_asc */
	const char *cursor; /* "next" of the previous page */
	int limit;
	int open_only;      /* new/open/pending only (counts) */
};

/* One page; *next receives a malloc'd cursor or NULL. */
int ticket_list(const struct scope *s, const struct principal *p,
		const struct ticket_filter *f, json_t *items, char **next,
		struct err *e);
/* Open tickets per view: {"mine":N,"unassigned":N,"my_teams":N,"all":N} */
json_t *ticket_counts(const struct scope *s, const struct principal *p,
		      struct err *e);
/* The home dashboard's figures, in p's scope: {"mine_new", "mine_open",
 * "mine_pending", "unassigned", "urgent" (open ones), "open",
 * "created_today", "created_today_by_channel": {"email": N, ...}}; "today"
 * is since `since` (ms; the caller's local midnight). */
json_t *ticket_overview(const struct scope *s, const struct principal *p, int64_t since,
			struct err *e);

/* Between saved changes (ticket_live.c): events for the consoles and, on a
 * chat ticket, the customer's widget.  Run inside the caller's transaction.
 * Typing on an internal note is not shown to the customer. */
int ticket_typing(const struct scope *s, const struct principal *p, int64_t id,
		  int typing, int internal, struct err *e);
/* The agents have read the ticket up to message_id (a read mark for the
 * customer); nothing happens when it was read that far already. */
int ticket_mark_read(const struct scope *s, const struct principal *p, int64_t id,
		     int64_t message_id, struct err *e);
/* The customer's satisfaction rating (1-5, optional comment), once, on a
 * resolved or closed ticket (409 otherwise). */
int ticket_rate(const struct scope *s, const struct ticket_actor *a, int64_t id,
		int score, const char *comment, struct err *e);

/* Operations between tickets (ticket_ops.c). */
int ticket_merge(const struct scope *s, const struct ticket_actor *a,
		 int64_t source, int64_t target, struct err *e);
int ticket_unmerge(const struct scope *s, const struct ticket_actor *a,
		   int64_t source, struct err *e);
int ticket_split(const struct scope *s, const struct ticket_actor *a,
		 int64_t id, int64_t message_id, const char *subject,
		 int64_t *new_id, struct err *e);
/* kind: related, parent (other is this one's parent) or child. */
int ticket_link(const struct scope *s, const struct ticket_actor *a,
		int64_t id, int64_t other, const char *kind, struct err *e);
int ticket_unlink(const struct scope *s, const struct ticket_actor *a,
		  int64_t id, int64_t other, struct err *e);
/* The ticket's links: [{ticket: {id, number, subject, status}, kind}] */
int ticket_links_list(const struct scope *s, int64_t id, json_t *items,
		      struct err *e);
/* Transfer to another agent and/or team with a note (an internal message). */
int ticket_transfer(const struct scope *s, const struct ticket_actor *a,
		    int64_t id, int64_t assignee_id, int64_t team_id,
		    const char *note, struct err *e);
/* Escalate: priority one step up, to team_id (a supervisor group), note. */
int ticket_escalate(const struct scope *s, const struct ticket_actor *a,
		    int64_t id, int64_t team_id, const char *note, struct err *e);

/* Saved views (filters) of a user, and the account's shared ones. */
int ticket_view_save(const struct scope *s, int64_t user_id, int shared,
		     const char *name, const json_t *filters, int64_t *id,
		     struct err *e);
int ticket_view_list(const struct scope *s, int64_t user_id, json_t *items,
		     struct err *e);
int ticket_view_delete(const struct scope *s, int64_t user_id, int64_t id,
		       int may_shared, struct err *e);

#endif
