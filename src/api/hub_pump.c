/*
 * hub_pump.c -- the hub's database side (see hub.h): one thread with its
 * own connections.
 *
 * It learns that an account has new events three ways: this process's
 * commits (the events commit hook calls pump_wake), PostgreSQL
 * notifications from other nodes (LISTEN kefu_events, on a connection of
 * its own), and a scan of every account's last event id each SCAN_MS,
 * which also catches other processes on SQLite (a CLI command) and
 * notifications lost while a connection was down.  For each such account
 * it reads the events after its cursor, in id order, and delivers them to
 * the loop.  It also runs the subscribers' commands, replays, presence
 * reports, the presence heartbeat and the pruning of old events.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/presence.h"
#include "../core/ticket.h"
#include "../util/clock.h"
#include "../util/log.h"
#include "../util/token.h"
#include "hub_internal.h"

#define SCAN_MS 1000
#define HEARTBEAT_MS 15000
#define PRUNE_MS (3600 * 1000)
#define PAGE 500
#define REPLAY_MAX 10000 /* further behind than this: resync */
#define MAX_DIRTY 64
#define CURSORS 1024

struct cursor {
	int64_t account, seq;
	int watched; /* subscribers on this node: read its events */
	struct cursor *next;
};

static struct {
	pthread_t th;
	int started;
	atomic_int stop;
	int wake[2];
	pthread_mutex_t mu;
	struct hub_job *jobs, *jobs_tail;
	int64_t dirty[MAX_DIRTY];
	int ndirty, dirty_all;
	char node[24];
	struct db *db, *ldb;
	const char *url;
	int64_t retention_ms;
	struct cursor *cur[CURSORS];
	uint64_t next_scan, next_beat, next_prune, next_listen;
} P = {.wake = {-1, -1}, .mu = PTHREAD_MUTEX_INITIALIZER};

const char *pump_node(void)
{
	return P.node;
}

/* ---- cursors: the last event id delivered, per account ---- */

static struct cursor *cursor(int64_t account)
{
	unsigned b = (unsigned)((uint64_t)account * 0x9E3779B97F4A7C15ull >> 40) % CURSORS;
	for (struct cursor *c = P.cur[b]; c; c = c->next)
		if (c->account == account)
			return c;
	struct cursor *c = xcalloc(1, sizeof *c);
	c->account = account;
	c->next = P.cur[b];
	P.cur[b] = c;
	return c;
}

/* ---- from other threads ---- */

static void poke(void)
{
	char b = 1;
	if (P.wake[1] >= 0 && write(P.wake[1], &b, 1) < 0 && errno != EAGAIN)
		log_warn("hub: wake-up failed: %s", strerror(errno));
}

static void mark_dirty(int64_t account)
{
	for (int i = 0; i < P.ndirty; i++)
		if (P.dirty[i] == account)
			return;
	if (P.ndirty < MAX_DIRTY)
		P.dirty[P.ndirty++] = account;
	else
		P.dirty_all = 1;
}

void pump_wake(const int64_t *accounts, int n)
{
	pthread_mutex_lock(&P.mu);
	for (int i = 0; i < n; i++)
		mark_dirty(accounts[i]);
	pthread_mutex_unlock(&P.mu);
	poke();
}

void pump_job(struct hub_job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&P.mu);
	if (P.jobs_tail)
		P.jobs_tail->next = j;
	else
		P.jobs = j;
	P.jobs_tail = j;
	pthread_mutex_unlock(&P.mu);
	poke();
}

/* ---- events out ---- */

static void deliver_rows(enum hub_dl_kind kind, int64_t account, struct event_row *rows,
			 int n, struct hub_sub *sub, int64_t upto, int resync)
{
	struct hub_dl *d = xcalloc(1, sizeof *d);
	*d = (struct hub_dl){.kind = kind, .account = account, .rows = rows, .n = n,
			     .sub = sub, .upto = upto, .resync = resync};
	hub_deliver(d);
}

static void pump_account(int64_t account)
{
	struct cursor *c = cursor(account);
	while (c->watched) {
		struct event_row *rows;
		int n;
		struct err e = {0};
		if (events_read(P.db, account, c->seq, PAGE, &rows, &n, &e) < 0) {
			log_warn("hub: reading events of account %lld: %s", (long long)account, e.msg);
			return;
		}
		if (n == 0) {
			free(rows);
			return;
		}
		c->seq = rows[n - 1].seq;
		deliver_rows(DL_EVENTS, account, rows, n, NULL, 0, 0);
		if (n < PAGE)
			return;
	}
}

/* Subscribers came (or all went): from now on read the account's events
 * (or stop).  What came while it was not read is skipped: the loop is told
 * where the account stands (always, it waits for this), and catches up
 * from the database whoever needs what came meanwhile. */
static void run_watch(struct hub_job *j)
{
	struct cursor *c = cursor(j->account);
	c->watched = j->conns;
	if (!c->watched)
		return;
	int64_t head = 0;
	struct err e = {0};
	if (events_head(P.db, j->account, &head, &e) < 0) {
		log_warn("hub: account %lld: %s", (long long)j->account, e.msg);
		return;
	}
	if (head > c->seq)
		c->seq = head;
	struct hub_dl *d = xcalloc(1, sizeof *d);
	*d = (struct hub_dl){.kind = DL_HEAD, .account = j->account, .upto = c->seq};
	hub_deliver(d);
}

static void on_head(void *arg, int64_t account, int64_t seq)
{
	(void)arg;
	struct cursor *c = cursor(account);
	if (!c->watched || c->seq >= seq)
		return;
	pthread_mutex_lock(&P.mu);
	mark_dirty(account);
	pthread_mutex_unlock(&P.mu);
}

static void on_notify(void *arg, const char *payload)
{
	(void)arg;
	char *end;
	long long a = strtoll(payload, &end, 10);
	if (a <= 0 || *end)
		return;
	pthread_mutex_lock(&P.mu);
	mark_dirty(a);
	pthread_mutex_unlock(&P.mu);
}

/* ---- jobs ---- */

static void reply_sub(struct hub_sub *s, const struct err *e)
{
	struct hub_dl *d = xcalloc(1, sizeof *d);
	d->kind = DL_REPLY;
	d->sub = s;
	if (e && e->status) {
		json_t *o = json_pack("{ss s{ss ss}}", "type", "error", "data", "code",
				      e->code[0] ? e->code : "internal", "message", e->msg);
		d->text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	hub_deliver(d);
}

/* A staff command in one transaction, on a ticket the agent may see. */
static int staff_cmd(const struct hub_sub *s, const struct hub_cmd *c, struct err *e)
{
	struct scope sc = {P.db, s->account_id};
	if (c->type != CMD_PRESENCE && ticket_visible(&sc, &s->p, c->ticket_id, e) < 0)
		return -1;
	if (db_begin(P.db, e) < 0)
		return -1;
	int rc = c->type == CMD_TYPING ? ticket_typing(&sc, &s->p, c->ticket_id, c->flag, c->internal, e)
		: c->type == CMD_VIEWING ? viewer_set(&sc, P.node, &s->p, c->ticket_id, c->flag, e)
		: c->type == CMD_READ ? ticket_mark_read(&sc, &s->p, c->ticket_id, c->message_id, e)
		: presence_choose(&sc, s->p.user_id, c->status, e);
	if (rc < 0) {
		db_rollback(P.db);
		return -1;
	}
	return db_commit(P.db, e);
}

static void run_cmd(struct hub_job *j)
{
	struct err e = {0};
	const struct hub_cmd *c = &j->cmd;
	if (!j->sub->customer)
		staff_cmd(j->sub, c, &e);
	else if (c->type == CMD_TYPING)
		chat_typing(P.db, &j->sub->cv, c->flag, &e);
	else
		chat_read(P.db, &j->sub->cv, c->message_id, &e);
	reply_sub(j->sub, &e);
}

/* What the subscriber missed, (after, upto]: all of it, or a resync when
 * it is too much or partly pruned. */
static void run_replay(struct hub_job *j)
{
	struct err e = {0};
	int64_t oldest;
	struct event_row *rows = NULL;
	int n = 0;
	int resync = j->upto - j->after > REPLAY_MAX;
	if (!resync && events_oldest(P.db, j->account, &oldest, &e) == 0)
		resync = oldest == 0 || oldest > j->after + 1;
	if (!resync && events_read(P.db, j->account, j->after, (int)(j->upto - j->after),
				   &rows, &n, &e) < 0)
		resync = 1;
	if (e.status)
		log_warn("hub: replay for account %lld: %s", (long long)j->account, e.msg);
	deliver_rows(DL_REPLAY, j->account, rows, n, j->sub, j->upto, resync);
}

static void run_job(struct hub_job *j)
{
	struct err e = {0};
	struct scope sc = {P.db, j->account};
	switch (j->kind) {
	case JOB_CMD:
		run_cmd(j);
		return;
	case JOB_REPLAY:
		run_replay(j);
		return;
	case JOB_PRESENCE:
		if (presence_node_set(P.db, P.node, j->account, j->user, j->conns, j->idle, &e) < 0)
			log_warn("hub: presence of user %lld: %s", (long long)j->user, e.msg);
		return;
	case JOB_WATCH:
		run_watch(j);
		return;
	case JOB_UNVIEW:
		if (db_begin(P.db, &e) == 0) {
			if (viewer_set(&sc, P.node, &j->p, j->ticket, 0, &e) < 0)
				db_rollback(P.db);
			else
				db_commit(P.db, &e);
		}
		return;
	}
}

/* ---- the thread ---- */

static void listen_connect(uint64_t now)
{
	if (P.ldb || db_engine(P.db) != DB_PG || now < P.next_listen)
		return;
	struct err e = {0};
	if (db_open(P.url, &P.ldb, &e) == 0 && db_listen(P.ldb, "kefu_events", &e) == 0) {
		P.dirty_all = 1; /* whatever was sent while not listening */
		return;
	}
	log_warn("hub: cannot listen for other nodes' events: %s", e.msg);
	db_close(P.ldb);
	P.ldb = NULL;
	P.next_listen = now + 5000;
}

static void wait_for_work(uint64_t now)
{
	struct pollfd fds[2] = {{.fd = P.wake[0], .events = POLLIN},
				{.fd = P.ldb ? db_notify_fd(P.ldb) : -1, .events = POLLIN}};
	int timeout = P.next_scan > now ? (int)(P.next_scan - now) : 0;
	if (poll(fds, 2, timeout) < 0 && errno != EINTR)
		log_warn("hub: poll: %s", strerror(errno));
	char b[64];
	while (read(P.wake[0], b, sizeof b) > 0)
		;
	if (P.ldb && db_notifications(P.ldb, on_notify, NULL) < 0) {
		log_warn("hub: lost the notification connection; reconnecting");
		db_close(P.ldb);
		P.ldb = NULL;
	}
}

static void periodic(uint64_t now)
{
	struct err e = {0};
	if (now >= P.next_scan) {
		P.next_scan = now + SCAN_MS;
		P.dirty_all = 1;
	}
	if (now >= P.next_beat) {
		P.next_beat = now + HEARTBEAT_MS;
		if (presence_heartbeat(P.db, P.node, 0, &e) < 0)
			log_warn("hub: presence heartbeat: %s", e.msg);
		struct hub_dl *d = xcalloc(1, sizeof *d);
		d->kind = DL_TICK;
		hub_deliver(d);
	}
	if (now >= P.next_prune) {
		P.next_prune = now + PRUNE_MS;
		if (events_prune(P.db, clock_now_ms() - P.retention_ms, &e) < 0)
			log_warn("hub: pruning events: %s", e.msg);
	}
}

static void pump_dirty(void)
{
	pthread_mutex_lock(&P.mu);
	int64_t dirty[MAX_DIRTY];
	int n = P.ndirty, all = P.dirty_all;
	memcpy(dirty, P.dirty, sizeof dirty);
	P.ndirty = P.dirty_all = 0;
	pthread_mutex_unlock(&P.mu);
	struct err e = {0};
	if (all && events_heads(P.db, on_head, NULL, &e) < 0)
		log_warn("hub: scanning events: %s", e.msg);
	pthread_mutex_lock(&P.mu); /* on_head marked them */
	for (int i = 0; i < P.ndirty && n < MAX_DIRTY; i++)
		dirty[n++] = P.dirty[i];
	P.ndirty = 0;
	pthread_mutex_unlock(&P.mu);
	for (int i = 0; i < n; i++)
		pump_account(dirty[i]);
}

static void run_jobs(void)
{
	pthread_mutex_lock(&P.mu);
	struct hub_job *j = P.jobs;
	P.jobs = P.jobs_tail = NULL;
	pthread_mutex_unlock(&P.mu);
	while (j) {
		struct hub_job *n = j->next;
		run_job(j);
		free(j);
		j = n;
	}
}

static void *thread_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&P.stop)) {
		uint64_t now = clock_mono_us() / 1000;
		listen_connect(now);
		wait_for_work(now);
		now = clock_mono_us() / 1000;
		run_jobs();
		periodic(now);
		pump_dirty();
	}
	run_jobs(); /* the last connections' goodbyes */
	return NULL;
}

/* ---- start and stop ---- */

static void on_start_head(void *arg, int64_t account, int64_t seq)
{
	(void)arg;
	cursor(account)->seq = seq;
	hub_set_head(account, seq);
}

int pump_start(const struct config *cfg, struct err *e)
{
	P.url = cfg->database;
	P.retention_ms = cfg->event_retention_days * 86400000LL;
	memcpy(P.node, "n", 2);
	token_random(P.node + 1, sizeof P.node - 1, 9);
	if (db_open(cfg->database, &P.db, e) < 0)
		return -1;
	if (events_heads(P.db, on_start_head, NULL, e) < 0 || pipe2(P.wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		if (!e->status)
			ERR_INTERNAL(e, "hub: pipe: %s", strerror(errno));
		db_close(P.db);
		P.db = NULL;
		return -1;
	}
	uint64_t now = clock_mono_us() / 1000;
	P.next_scan = now + SCAN_MS;
	P.next_beat = now; /* drop rows of nodes that died before we started */
	P.next_prune = now + 60000;
	events_install(pump_wake);
	atomic_store(&P.stop, 0);
	if (pthread_create(&P.th, NULL, thread_main, NULL) != 0) {
		ERR_INTERNAL(e, "hub: cannot start its thread");
		events_install(NULL);
		return -1;
	}
	P.started = 1;
	return 0;
}

void pump_stop(void)
{
	if (!P.started)
		return;
	atomic_store(&P.stop, 1);
	poke();
	pthread_join(P.th, NULL);
	P.started = 0;
	events_install(NULL);
	struct err e = {0};
	if (presence_heartbeat(P.db, P.node, 1, &e) < 0)
		log_warn("hub: clearing this node's presence: %s", e.msg);
	db_close(P.ldb);
	db_close(P.db);
	P.ldb = P.db = NULL;
	close(P.wake[0]);
	close(P.wake[1]);
	P.wake[0] = P.wake[1] = -1;
	for (int b = 0; b < CURSORS; b++)
		while (P.cur[b]) {
			struct cursor *c = P.cur[b];
			P.cur[b] = c->next;
			free(c);
		}
}
