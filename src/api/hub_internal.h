/*
 * hub_internal.h -- what hub.c (loop thread) and hub_pump.c (pump thread)
 * pass each other.  Not for the rest of Kefu.
 *
 * A job goes from the loop to the pump (run a command, replay events for a
 * subscriber, report presence); a delivery comes back (new events of an
 * account, a replay, an answer for a subscriber, a timer tick).  A job or
 * delivery that names a subscriber holds a reference to it, taken and
 * dropped on the loop thread only.
 */
#ifndef KEFU_API_HUB_INTERNAL_H
#define KEFU_API_HUB_INTERNAL_H

#include "../core/events.h"
#include "hub.h"

struct hub_acct;

struct hub_sub {
	struct ws_conn *c;       /* NULL until open */
	struct hub_acct *a;
	struct hub_sub *prev, *next; /* the account's subscribers */
	int refs, dead, idle, customer;
	int waiting;             /* a replay from the database is on its way */
	int backlog;             /* catching up, paused until the socket drains */
	int unready;             /* opened before the pump said where the account is */
	int64_t account_id, after, last;
	struct principal p;      /* staff */
	struct chat_visitor cv;  /* customer */
	int64_t *teams;
	struct event_viewer v;
	uint64_t active_ms, typing_ms, bucket_ms;
	int64_t typing_ticket, viewing;
	int bucket;              /* commands left in this second */
};

/* JOB_WATCH: the account has subscribers here now (conns 1) or none any
 * more (conns 0); only watched accounts' events are read. */
enum hub_job_kind { JOB_CMD, JOB_REPLAY, JOB_PRESENCE, JOB_UNVIEW, JOB_WATCH };

struct hub_job {
	enum hub_job_kind kind;
	struct hub_sub *sub;     /* JOB_CMD, JOB_REPLAY */
	struct hub_cmd cmd;
	int64_t account, user, after, upto, ticket;
	int conns, idle;
	struct principal p;      /* JOB_UNVIEW: the sub may be gone */
	struct hub_job *next;
};

/* DL_HEAD: an account watched again goes on from event `upto` (what came
 * while nobody here listened was not read). */
enum hub_dl_kind { DL_EVENTS, DL_REPLAY, DL_REPLY, DL_TICK, DL_HEAD };

struct hub_dl {
	enum hub_dl_kind kind;
	int64_t account, upto;
	struct event_row *rows;
	int n, resync;
	struct hub_sub *sub;     /* DL_REPLAY, DL_REPLY */
	char *text;              /* DL_REPLY: a frame to send, or NULL */
	struct hub_dl *next;
};

/* hub.c */
void hub_deliver(struct hub_dl *d);            /* any thread */
void hub_set_head(int64_t account, int64_t seq); /* before the server runs */

/* hub_pump.c */
int pump_start(const struct config *cfg, struct err *e);
void pump_stop(void);
void pump_job(struct hub_job *j);              /* loop thread */
void pump_wake(const int64_t *accounts, int n); /* commit hook, any thread */
const char *pump_node(void);

#endif
