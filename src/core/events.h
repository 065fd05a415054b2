/*
 * events.h -- the account's event log: what the real-time hub sends to
 * agents' consoles and customers' chat widgets, and replays to a client
 * that reconnects.
 *
 * Owns: the events and event_counters tables.  Domain code adds an event
 * inside the transaction of the change it describes (events_add); the
 * event gets its per-account id (seq) only at commit, under the account's
 * counter row, so ids follow commit order: a reader that sees id N+1 has
 * already been able to see N.  That is what lets a reconnecting client ask
 * for "everything after N" and get exactly what it missed, on one node or
 * on several over one PostgreSQL (where the commit also NOTIFYs channel
 * "kefu_events" with the account id).
 *
 * Who may receive an event is decided from its target (audience, ticket,
 * team, assignee, customer) by the hub, with the same rule as the REST
 * API's data scope (ticket_scope_sql): see events_visible.
 */
#ifndef KEFU_CORE_EVENTS_H
#define KEFU_CORE_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

enum event_audience { EV_STAFF = 1, EV_CUSTOMER = 2 };

struct event_target {
	int audience;               /* EV_STAFF or EV_CUSTOMER */
	int64_t ticket_id;          /* 0: not about a ticket (presence) */
	int64_t team_id, assignee_id;
	int64_t prev_team_id, prev_assignee_id; /* before a transfer */
	int64_t customer_id;        /* customer events: whose widget hears it */
};

/* Record an event; data is borrowed.  Runs inside the caller's transaction
 * (refused otherwise): the event exists if and only if the change does. */
int events_add(const struct scope *s, const char *type,
	       const struct event_target *t, const json_t *data, struct err *e);

/* The ticket's team, assignee and customer into t (audience untouched);
 * *chat (may be NULL) tells whether it is a chat conversation (origin web),
 * whose customer has a widget to tell. */
int events_ticket_target(const struct scope *s, int64_t ticket_id,
			 struct event_target *t, int *chat, struct err *e);

/* Install the commit hook (db_set_commit_hook); wake(accounts, n) runs
 * after each commit that added events (NULL: nobody to wake). */
void events_install(void (*wake)(const int64_t *accounts, int n));

/* ---- reading, for the hub ---- */

struct event_row {
	int64_t account_id, seq;
	char type[40];
	struct event_target t;
	char *frame; /* {"id":seq,"type":...,"data":...}, malloc'd */
	size_t len;
};

/* The account's events with seq > after, oldest first, at most limit;
 * *rows is a malloc'd array (free each frame, then the array). */
int events_read(struct db *db, int64_t account_id, int64_t after, int limit,
		struct event_row **rows, int *n, struct err *e);
void events_rows_free(struct event_row *rows, int n);
/* Every account's last seq: fn(arg, account_id, last_seq). */
int events_heads(struct db *db, void (*fn)(void *arg, int64_t account, int64_t seq),
		 void *arg, struct err *e);
/* The account's last event id now (0: none yet). */
int events_head(struct db *db, int64_t account_id, int64_t *seq, struct err *e);
/* The oldest seq still stored for the account (0: none). */
int events_oldest(struct db *db, int64_t account_id, int64_t *seq, struct err *e);
/* Delete events older than before_ms; the number deleted or -1. */
int64_t events_prune(struct db *db, int64_t before_ms, struct err *e);

/* ---- who may receive an event ---- */

struct event_viewer {
	int customer;          /* 1: a customer's widget */
	int64_t customer_id;   /* customer viewers */
	int64_t user_id;       /* staff viewers */
	int scope;             /* enum data_scope (rbac.h) */
	const int64_t *teams;  /* the user's teams */
	int nteams;
};

int events_visible(const struct event_viewer *v, const struct event_target *t);

#endif
