/*
 * hub.c -- the hub's loop-thread side (see hub.h): subscribers, fan-out,
 * replay, commands in, presence from connections.
 *
 * Per account: `head`, the last event id this node has fanned out, and a
 * ring of the latest RING events.  A subscriber has `last`, the last id it
 * has been given (or skipped as not for it); events reach it strictly in id
 * order.  A client that connects with ?after=N behind head is caught up
 * from the ring when the ring reaches back far enough, else from the
 * database by the pump; meanwhile new events are only recorded (the ring)
 * and sent once the replay is in.  A catch-up is paced: it stops when
 * CATCH_UP_HIGH bytes wait for the socket and goes on when they have gone
 * (ws_app.drained), so a client far behind is not mistaken for one too
 * slow to read.
 *
 * Fan-out reaches only whom an event is for: staff events the account's
 * staff list, a customer's events the chain of that customer's widget
 * connections (csubs, hashed by account and customer).  A live subscriber
 * (open, not catching up) is therefore not visited for events not for it,
 * and its `last` may lag: a live subscriber has had everything up to the
 * account's head, whatever its `last` says (sync_live).  With 10,000
 * visitors connected an event costs a few visits, not 10,000.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/log.h"
#include "hub_internal.h"

#define RING 512
#define RING_BYTES (16 * 1024 * 1024) /* frames kept per account, at most */
#define CATCH_UP_HIGH (256 * 1024) /* replayed bytes queued before pausing */
#define BUCKETS 1024
#define CMDS_PER_SECOND 20
#define TYPING_EVERY_MS 2000

struct hev { /* an event in the ring, shared by every subscriber */
	int refs;
	int64_t seq;
	struct event_target t;
	char *frame;
	size_t len;
};

struct hub_acct {
	int64_t id, head;
	struct hev *ring[RING];
	int rstart, rn;
	size_t ring_bytes;
	struct hub_sub *staff; /* agents' connections; customers' are in csubs */
	int nsubs;             /* both */
	int ready; /* the pump reads its events and has said from where */
	struct hub_acct *next;
};

struct hub_view { /* how many of the agent's connections here view a ticket */
	int64_t ticket;
	int n;
};

struct hub_user { /* an agent's connections on this node */
	int64_t account, user;
	int conns, idle_conns, reported_conns, reported_idle;
	struct hub_view *views;
	int nviews;
	struct hub_user *next;
};

static struct hub_acct *accts[BUCKETS];
static struct hub_user *users[BUCKETS];
static struct hub_sub *csubs[BUCKETS]; /* customers' connections, by account and customer */
static int64_t idle_ms = 600000;

/* the pump's deliveries, waiting for the loop */
static pthread_mutex_t dl_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hub_dl *dl_head, *dl_tail;
static int dl_scheduled;

static void hev_release(struct hev *h)
{
	if (h && --h->refs == 0) {
		free(h->frame);
		free(h);
	}
}

static unsigned bucket(int64_t a, int64_t b)
{
	uint64_t h = (uint64_t)a * 0x9E3779B97F4A7C15ull ^ (uint64_t)b * 0xC2B2AE3D27D4EB4Full;
	return (unsigned)(h >> 40) % BUCKETS;
}

static struct hub_acct *acct(int64_t id)
{
	unsigned b = bucket(id, 0);
	for (struct hub_acct *a = accts[b]; a; a = a->next)
		if (a->id == id)
			return a;
	struct hub_acct *a = xcalloc(1, sizeof *a);
	a->id = id;
	a->next = accts[b];
	accts[b] = a;
	return a;
}

void hub_set_head(int64_t account, int64_t seq)
{
	acct(account)->head = seq;
}

/* ---- subscribers ---- */

static struct hub_sub *sub_new(int64_t account, int64_t after)
{
	struct hub_sub *s = xcalloc(1, sizeof *s);
	s->refs = 1;
	s->account_id = account;
	s->after = after;
	s->active_ms = clock_mono_us() / 1000;
	return s;
}

struct hub_sub *hub_sub_staff(const struct principal *p, const int64_t *teams,
			      int nteams, int64_t after)
{
	struct hub_sub *s = sub_new(p->account_id, after);
	s->p = *p;
	if (nteams > 0) {
		s->teams = xmalloc((size_t)nteams * sizeof *teams);
		memcpy(s->teams, teams, (size_t)nteams * sizeof *teams);
	}
	s->v = (struct event_viewer){.user_id = p->user_id, .scope = p->scope,
				     .teams = s->teams, .nteams = nteams};
	return s;
}

struct hub_sub *hub_sub_customer(const struct chat_visitor *v, int64_t after)
{
	struct hub_sub *s = sub_new(v->account_id, after);
	s->customer = 1;
	s->cv = *v;
	s->v = (struct event_viewer){.customer = 1, .customer_id = v->customer_id};
	return s;
}

void hub_sub_free(struct hub_sub *s)
{
	free(s->teams);
	free(s);
}

static void sub_release(struct hub_sub *s)
{
	if (--s->refs == 0)
		hub_sub_free(s);
}

static struct hub_sub *sub_ref(struct hub_sub *s)
{
	s->refs++;
	return s;
}

static void send_frame(struct hub_sub *s, const char *f, size_t n)
{
	if (!s->dead && s->c && ws_conn_send(s->c, f, n) == -2)
		log_warn("hub: user %lld/customer %lld too slow to read; closed",
			 (long long)s->p.user_id, (long long)s->cv.customer_id);
}

/* Give the subscriber an event it has not had; skip what is not for it. */
static void give(struct hub_sub *s, int64_t seq, const struct event_target *t,
		 const char *frame, size_t len)
{
	if (seq <= s->last)
		return;
	s->last = seq;
	if (events_visible(&s->v, t))
		send_frame(s, frame, len);
}

/* Open and not catching up. */
static int live(const struct hub_sub *s)
{
	return !s->dead && !s->waiting && !s->backlog && !s->unready;
}

/* A live event: only for a subscriber that is not catching up (the event
 * is in the ring; the catch-up will come to it). */
static void offer(struct hub_sub *s, int64_t seq, const struct event_target *t,
		  const char *frame, size_t len)
{
	if (live(s))
		give(s, seq, t, frame, len);
}

/* A live subscriber has had everything up to the head (fan-out skips it
 * for events not for it without moving its `last`): say so before the
 * head moves or a catch-up starts from `last`. */
static void sync_live(struct hub_sub *s)
{
	if (live(s) && s->last < s->a->head)
		s->last = s->a->head;
}

/* The list s belongs in. */
static struct hub_sub **sub_list(struct hub_sub *s)
{
	return s->customer ? &csubs[bucket(s->account_id, s->cv.customer_id)] : &s->a->staff;
}

static void sub_link(struct hub_sub *s)
{
	struct hub_sub **head = sub_list(s);
	s->prev = NULL;
	s->next = *head;
	if (s->next)
		s->next->prev = s;
	*head = s;
}

static void sub_unlink(struct hub_sub *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*sub_list(s) = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

/* fn on each open subscriber of account a. */
static void each_sub(struct hub_acct *a, void (*fn)(struct hub_sub *))
{
	for (struct hub_sub *s = a->staff, *n; s; s = n) {
		n = s->next;
		fn(s);
	}
	for (int b = 0; b < BUCKETS; b++)
		for (struct hub_sub *s = csubs[b], *n; s; s = n) {
			n = s->next;
			if (s->a == a)
				fn(s);
		}
}

static int full(const struct hub_sub *s)
{
	return s->c && ws_conn_queued(s->c) >= CATCH_UP_HIGH;
}

/* The ring reaches back to after+1 (or nothing was missed). */
static int ring_covers(const struct hub_acct *a, int64_t after)
{
	if (after >= a->head)
		return 1;
	return a->rn > 0 && a->ring[a->rstart]->seq <= after + 1;
}

static void replay_request(struct hub_sub *s)
{
	struct hub_job *j = xcalloc(1, sizeof *j);
	j->kind = JOB_REPLAY;
	j->sub = sub_ref(s);
	j->account = s->account_id;
	j->after = s->last;
	j->upto = s->a->head;
	s->waiting = 1;
	pump_job(j);
}

/* Bring s from s->last to the account's head: from the ring, or ask the
 * pump for what the ring no longer has; pause while the socket is full. */
static void catch_up(struct hub_sub *s)
{
	struct hub_acct *a = s->a;
	if (s->dead || s->waiting || s->unready)
		return;
	s->backlog = 0;
	if (!ring_covers(a, s->last)) {
		replay_request(s);
		return;
	}
	for (int i = 0; i < a->rn; i++) {
		struct hev *h = a->ring[(a->rstart + i) % RING];
		if (h->seq <= s->last)
			continue;
		if (full(s)) {
			s->backlog = 1;
			return;
		}
		give(s, h->seq, &h->t, h->frame, h->len);
	}
	if (s->last < a->head)
		s->last = a->head;
}

/* ---- presence from connections ---- */

static struct hub_user *user_of(const struct hub_sub *s)
{
	unsigned b = bucket(s->account_id, s->p.user_id);
	for (struct hub_user *u = users[b]; u; u = u->next)
		if (u->account == s->account_id && u->user == s->p.user_id)
			return u;
	struct hub_user *u = xcalloc(1, sizeof *u);
	u->account = s->account_id;
	u->user = s->p.user_id;
	u->next = users[b];
	users[b] = u;
	return u;
}

/* Tell the pump when what other nodes should know has changed: whether
 * the agent is connected here, and whether every connection is idle. */
static void presence_report(struct hub_user *u)
{
	int connected = u->conns > 0;
	int idle = connected && u->idle_conns == u->conns;
	if (connected == (u->reported_conns > 0) && idle == u->reported_idle)
		return;
	u->reported_conns = u->conns;
	u->reported_idle = idle;
	struct hub_job *j = xcalloc(1, sizeof *j);
	j->kind = JOB_PRESENCE;
	j->account = u->account;
	j->user = u->user;
	j->conns = u->conns;
	j->idle = idle;
	pump_job(j);
}

static void set_idle(struct hub_sub *s, int idle)
{
	if (s->customer || s->idle == idle)
		return;
	s->idle = idle;
	struct hub_user *u = user_of(s);
	u->idle_conns += idle ? 1 : -1;
	presence_report(u);
}

/* ---- who views which ticket ---- */

static struct hub_view *view_of(struct hub_user *u, int64_t ticket)
{
	for (int i = 0; i < u->nviews; i++)
		if (u->views[i].ticket == ticket)
			return &u->views[i];
	u->views = xrealloc(u->views, (size_t)(u->nviews + 1) * sizeof *u->views);
	u->views[u->nviews] = (struct hub_view){ticket, 0};
	return &u->views[u->nviews++];
}

/* The first of the agent's connections here to open the ticket announces
 * it (after the pump checked they may see it); the last to leave, too. */
static void view_take(struct hub_sub *s, int64_t ticket)
{
	if (view_of(user_of(s), ticket)->n++ > 0)
		return;
	struct hub_job *j = xcalloc(1, sizeof *j);
	j->kind = JOB_CMD;
	j->sub = sub_ref(s);
	j->cmd = (struct hub_cmd){.type = CMD_VIEWING, .ticket_id = ticket, .flag = 1};
	pump_job(j);
}

static void view_release(struct hub_sub *s, int64_t ticket)
{
	struct hub_user *u = user_of(s);
	struct hub_view *v = view_of(u, ticket);
	if (--v->n > 0)
		return;
	*v = u->views[--u->nviews]; /* v is in the array: swap the last in */
	struct hub_job *j = xcalloc(1, sizeof *j);
	j->kind = JOB_UNVIEW;
	j->p = s->p;
	j->account = s->account_id;
	j->ticket = ticket;
	pump_job(j);
}

/* A console tab shows one ticket at a time: opening another leaves the
 * one before. */
static void viewing(struct hub_sub *s, int64_t ticket, int on)
{
	if (on && s->viewing == ticket)
		return;
	if (s->viewing && (on || s->viewing == ticket)) {
		view_release(s, s->viewing);
		s->viewing = 0;
	}
	if (on) {
		s->viewing = ticket;
		view_take(s, ticket);
	}
}

/* ---- which accounts the pump reads ---- */

/* Events of an account nobody here listens to are not read at all: a busy
 * account with no console open costs the pump nothing. */
static void watch(struct hub_acct *a, int on)
{
	if (!on)
		a->ready = 0;
	struct hub_job *j = xcalloc(1, sizeof *j);
	j->kind = JOB_WATCH;
	j->account = a->id;
	j->conns = on;
	pump_job(j);
}

static void ring_clear(struct hub_acct *a)
{
	for (int i = 0; i < a->rn; i++)
		hev_release(a->ring[(a->rstart + i) % RING]);
	a->rn = a->rstart = 0;
	a->ring_bytes = 0;
}

static void start_sub(struct hub_sub *s)
{
	if (s->dead)
		return;
	if (s->unready) {
		s->unready = 0;
		s->last = s->after;
	}
	if (s->last < s->a->head)
		catch_up(s);
}

/* The pump reads the account from `upto` on.  Events it skipped while
 * nobody listened here are not in the ring: clear it, and whoever is
 * behind catches up from the database (live subscribers from the old
 * head).  Subscribers that opened before this start now, from where they
 * asked. */
static void head_moved(int64_t account, int64_t upto)
{
	struct hub_acct *a = acct(account);
	a->ready = 1;
	each_sub(a, sync_live);
	if (upto > a->head) {
		ring_clear(a);
		a->head = upto;
	}
	each_sub(a, start_sub);
}

/* ---- ws_app ---- */

static void on_open(struct ws_conn *c, void *arg)
{
	struct hub_sub *s = arg;
	s->c = c;
	s->a = acct(s->account_id);
	sub_link(s);
	if (s->a->nsubs++ == 0)
		watch(s->a, 1);
	if (!s->customer) {
		struct hub_user *u = user_of(s);
		u->conns++;
		presence_report(u);
	}
	if (!s->a->ready) { /* head_moved starts it */
		s->unready = 1;
		return;
	}
	s->last = s->after;
	catch_up(s);
}

static void reply(struct hub_sub *s, const char *type, const char *code, const char *msg)
{
	json_t *o = code ? json_pack("{ss s{ss ss}}", "type", type, "data", "code", code,
				     "message", msg)
			 : json_pack("{ss}", "type", type);
	char *t = json_dumps(o, JSON_COMPACT);
	send_frame(s, t, strlen(t));
	free(t);
	json_decref(o);
}

/* At most CMDS_PER_SECOND messages a second, malformed ones included. */
static int over_rate(struct hub_sub *s, uint64_t now)
{
	if (now - s->bucket_ms >= 1000) {
		s->bucket_ms = now;
		s->bucket = CMDS_PER_SECOND;
	}
	return s->bucket-- <= 0;
}

/* A "typing" for the same ticket at most every TYPING_EVERY_MS: keyboards
 * repeat, the database need not.  A "not typing" lets the next one through. */
static int repeated_typing(struct hub_sub *s, const struct hub_cmd *c, uint64_t now)
{
	if (c->type != CMD_TYPING)
		return 0;
	if (!c->flag) {
		s->typing_ticket = 0;
		s->typing_ms = 0;
		return 0;
	}
	if (s->typing_ticket == c->ticket_id && now - s->typing_ms < TYPING_EVERY_MS)
		return 1;
	s->typing_ticket = c->ticket_id;
	s->typing_ms = now;
	return 0;
}

static void viewing(struct hub_sub *s, int64_t ticket, int on);

static void on_text(struct ws_conn *c, void *arg, const char *msg, size_t len)
{
	struct hub_sub *s = arg;
	(void)c;
	struct hub_cmd cmd;
	char err[160];
	uint64_t now = clock_mono_us() / 1000;
	if (over_rate(s, now)) {
		reply(s, "error", "rate_limited", "too many messages; slow down");
		return;
	}
	if (hub_cmd_parse(msg, len, s->customer, &cmd, err, sizeof err) < 0) {
		reply(s, "error", "invalid", err);
		return;
	}
	if (cmd.type == CMD_PING) { /* a keep-alive, not a sign of someone there */
		reply(s, "pong", NULL, NULL);
		return;
	}
	s->active_ms = now;
	set_idle(s, 0);
	if (cmd.type == CMD_ACTIVITY || repeated_typing(s, &cmd, now))
		return;
	if (cmd.type == CMD_VIEWING) {
		viewing(s, cmd.ticket_id, cmd.flag);
		return;
	}
	struct hub_job *j = xcalloc(1, sizeof *j);
	j->kind = JOB_CMD;
	j->sub = sub_ref(s);
	j->cmd = cmd;
	pump_job(j);
}

static void on_closed(struct ws_conn *c, void *arg, int code)
{
	struct hub_sub *s = arg;
	(void)code;
	if (!c) { /* the upgrade never completed */
		sub_release(s);
		return;
	}
	s->dead = 1;
	s->c = NULL;
	sub_unlink(s);
	if (--s->a->nsubs == 0)
		watch(s->a, 0);
	if (!s->customer) {
		if (s->viewing)
			view_release(s, s->viewing);
		struct hub_user *u = user_of(s);
		u->conns--;
		u->idle_conns -= s->idle;
		presence_report(u);
	}
	sub_release(s);
}

static void on_drained(struct ws_conn *c, void *arg)
{
	struct hub_sub *s = arg;
	(void)c;
	if (s->backlog)
		catch_up(s);
}

const struct ws_app hub_ws_app = {on_open, on_text, on_closed, on_drained};

/* ---- deliveries from the pump ---- */


/* An event to whom it is for: staff events to the staff's connections
 * (each still filtered by events_visible: teams, assignee), a customer's
 * to that customer's widgets. */
static void offer_all(struct hub_acct *a, const struct hev *h)
{
	if (h->t.audience == EV_STAFF) {
		for (struct hub_sub *s = a->staff; s; s = s->next)
			offer(s, h->seq, &h->t, h->frame, h->len);
		return;
	}
	if (h->t.audience != EV_CUSTOMER)
		return;
	for (struct hub_sub *s = csubs[bucket(a->id, h->t.customer_id)]; s; s = s->next)
		if (s->a == a && s->cv.customer_id == h->t.customer_id)
			offer(s, h->seq, &h->t, h->frame, h->len);
}

/* New events of an account: into the ring, out to its subscribers. */
static void fan_out(struct hub_dl *d)
{
	struct hub_acct *a = acct(d->account);
	for (int i = 0; i < d->n; i++) {
		struct event_row *r = &d->rows[i];
		if (r->seq <= a->head)
			continue; /* already had it (a replayed page overlapping) */
		struct hev *h = xmalloc(sizeof *h);
		*h = (struct hev){1, r->seq, r->t, r->frame, r->len};
		r->frame = NULL;
		while (a->rn == RING || (a->rn && a->ring_bytes + h->len > RING_BYTES)) {
			a->ring_bytes -= a->ring[a->rstart]->len;
			hev_release(a->ring[a->rstart]);
			a->rstart = (a->rstart + 1) % RING;
			a->rn--;
		}
		a->ring[(a->rstart + a->rn++) % RING] = h;
		a->ring_bytes += h->len;
		a->head = r->seq;
		offer_all(a, h);
	}
}

/* The database's part of a catch-up.  Rows that do not fit now are read
 * again on the next round (what is sent decides s->last). */
static void replayed(struct hub_dl *d)
{
	struct hub_sub *s = d->sub;
	if (s->dead)
		return;
	s->waiting = 0;
	if (d->resync) {
		char f[96];
		int n = snprintf(f, sizeof f, "{\"id\":%lld,\"type\":\"resync\",\"data\":{}}",
				 (long long)d->upto);
		s->last = d->upto;
		send_frame(s, f, (size_t)n);
		catch_up(s);
		return;
	}
	for (int i = 0; i < d->n; i++) {
		if (full(s)) {
			s->backlog = 1;
			return;
		}
		give(s, d->rows[i].seq, &d->rows[i].t, d->rows[i].frame, d->rows[i].len);
	}
	if (s->last < d->upto)
		s->last = d->upto;
	catch_up(s);
}

/* Every few seconds: agents whose consoles went quiet become idle. */
static void tick(void)
{
	uint64_t now = clock_mono_us() / 1000;
	for (int b = 0; b < BUCKETS; b++)
		for (struct hub_acct *a = accts[b]; a; a = a->next)
			for (struct hub_sub *s = a->staff; s; s = s->next)
				if (!s->idle && (int64_t)(now - s->active_ms) >= idle_ms)
					set_idle(s, 1);
}

static void handle(struct hub_dl *d)
{
	switch (d->kind) {
	case DL_EVENTS:
		fan_out(d);
		break;
	case DL_REPLAY:
		replayed(d);
		break;
	case DL_REPLY:
		if (d->text && !d->sub->dead)
			send_frame(d->sub, d->text, strlen(d->text));
		break;
	case DL_TICK:
		tick();
		break;
	case DL_HEAD:
		head_moved(d->account, d->upto);
		break;
	}
}

static void dl_free(struct hub_dl *d)
{
	if (d->sub)
		sub_release(d->sub);
	events_rows_free(d->rows, d->n);
	free(d->text);
	free(d);
}

static void on_loop(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&dl_mu);
	struct hub_dl *d = dl_head;
	dl_head = dl_tail = NULL;
	dl_scheduled = 0;
	pthread_mutex_unlock(&dl_mu);
	while (d) {
		struct hub_dl *n = d->next;
		handle(d);
		dl_free(d);
		d = n;
	}
}

void hub_deliver(struct hub_dl *d)
{
	d->next = NULL;
	pthread_mutex_lock(&dl_mu);
	if (dl_tail)
		dl_tail->next = d;
	else
		dl_head = d;
	dl_tail = d;
	int call = !dl_scheduled;
	dl_scheduled = 1;
	pthread_mutex_unlock(&dl_mu);
	/* No server yet (or any more): the deliveries wait for the next call,
	 * or for hub_stop. */
	if (call && http_loop_call(on_loop, NULL) < 0) {
		pthread_mutex_lock(&dl_mu);
		dl_scheduled = 0;
		pthread_mutex_unlock(&dl_mu);
	}
}

/* ---- start and stop ---- */

int hub_start(const struct config *cfg, struct err *e)
{
	idle_ms = cfg->presence_idle_s * 1000;
	return pump_start(cfg, e);
}

static void free_state(void)
{
	for (int b = 0; b < BUCKETS; b++) {
		while (accts[b]) {
			struct hub_acct *a = accts[b];
			accts[b] = a->next;
			ring_clear(a);
			free(a);
		}
		while (users[b]) {
			struct hub_user *u = users[b];
			users[b] = u->next;
			free(u->views);
			free(u);
		}
	}
}

void hub_stop(void)
{
	pump_stop();
	/* The loop is over: what is left is only freed. */
	struct hub_dl *d = dl_head;
	dl_head = dl_tail = NULL;
	while (d) {
		struct hub_dl *n = d->next;
		dl_free(d);
		d = n;
	}
	free_state();
}
