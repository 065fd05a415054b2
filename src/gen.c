/* gen.c -- see gen.h. */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/account.h"
#include "core/audit.h"
#include "core/ticket.h"
#include "core/ticket_search.h"
#include "demo_data.h"
#include "gen_batch.h"
#include "gen_plan.h"
#include "text/tokenize.h"
#include "util/buf.h"
#include "util/clock.h"

/* Per transaction: big enough that commits cost little (a page of a
 * growing index is written to the WAL once per transaction that touches
 * it: 5000 tickets write 20% faster than 1000), small enough that a
 * server on the same SQLite file gets the write lock within a second. */
#define CUSTOMER_CHUNK 5000
#define TICKET_CHUNK 5000

/* ---- the account's people and channels ---- */

struct team {
	int64_t id;
	char *name;
	int64_t *members;
	int n;
};

struct people {
	struct team *teams;
	int nteams;
	int64_t *agents; /* active agents and supervisors */
	int nagents;
	int64_t web, email, api; /* the first active channel of each type; 0: none */
};

static void people_free(struct people *p)
{
	for (int i = 0; i < p->nteams; i++) {
		free(p->teams[i].name);
		free(p->teams[i].members);
	}
	free(p->teams);
	free(p->agents);
}

static void push_id(int64_t **v, int *n, int64_t id)
{
	*v = xrealloc(*v, sizeof **v * (size_t)(*n + 1));
	(*v)[(*n)++] = id;
}

static int load_teams(const struct scope *s, struct people *p, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT id, name FROM teams WHERE account_id = $1 ORDER BY id",
		  DB_NOARGS, &res, e) < 0)
		return -1;
	while (db_res_next(res)) {
		p->teams = xrealloc(p->teams, sizeof *p->teams * (size_t)(p->nteams + 1));
		p->teams[p->nteams++] = (struct team){db_res_int(res, 0),
						      xstrdup(db_res_text(res, 1)), NULL, 0};
	}
	int rc = db_res_error(res, e);
	db_res_free(res);
	if (rc < 0 || db_sq(s, "SELECT tm.team_id, tm.user_id FROM team_members tm JOIN users u "
			       "ON u.id = tm.user_id WHERE tm.account_id = $1 AND u.active = 1 "
			       "ORDER BY tm.team_id, tm.user_id", DB_NOARGS, &res, e) < 0)
		return -1;
	while (db_res_next(res)) {
		for (int i = 0; i < p->nteams; i++)
			if (p->teams[i].id == db_res_int(res, 0))
				push_id(&p->teams[i].members, &p->teams[i].n, db_res_int(res, 1));
	}
	rc = db_res_error(res, e);
	db_res_free(res);
	return rc;
}

static int load_people(const struct scope *s, struct people *p, struct err *e)
{
	memset(p, 0, sizeof *p);
	if (load_teams(s, p, e) < 0)
		return -1;
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id WHERE "
		     "u.account_id = $1 AND u.active = 1 AND r.name IN ('agent', 'supervisor') "
		     "ORDER BY u.id", DB_NOARGS, &res, e) < 0)
		return -1;
	while (db_res_next(res))
		push_id(&p->agents, &p->nagents, db_res_int(res, 0));
	int rc = db_res_error(res, e);
	db_res_free(res);
	if (rc < 0 || db_sq(s, "SELECT type, MIN(id) FROM channels WHERE account_id = $1 AND "
			       "active = 1 GROUP BY type", DB_NOARGS, &res, e) < 0)
		return -1;
	while (db_res_next(res)) {
		const char *type = db_res_text(res, 0);
		int64_t *slot = !strcmp(type, "web") ? &p->web : !strcmp(type, "email") ? &p->email
				: !strcmp(type, "api") ? &p->api : NULL;
		if (slot)
			*slot = db_res_int(res, 1);
	}
	rc = db_res_error(res, e);
	db_res_free(res);
	return rc;
}

/* The team that handles the topic (by name), else any. */
static const struct team *ticket_team(const struct people *p, const struct gen_ticket *t)
{
	for (int i = 0; i < p->nteams; i++)
		if (!strcmp(p->teams[i].name, t->topic->team))
			return &p->teams[i];
	return p->nteams ? &p->teams[t->pick % (uint32_t)p->nteams] : NULL;
}

/* Who answers: one of the team's members, else any agent; 0: nobody. */
static int64_t ticket_agent(const struct people *p, const struct team *tm,
			    const struct gen_ticket *t)
{
	if (tm && tm->n)
		return tm->members[t->pick % (uint32_t)tm->n];
	return p->nagents ? p->agents[t->pick % (uint32_t)p->nagents] : 0;
}

static int64_t ticket_channel(const struct people *p, const char *origin)
{
	return !strcmp(origin, "web") ? p->web : !strcmp(origin, "email") ? p->email
	       : !strcmp(origin, "api") ? p->api : 0;
}

/* ---- ids ---- */

/* n new ids for table (a constant).  Rows are written with their ids so
 * that the rows referring to them can be batched too; the ids come from
 * where the engine would take them, so a server writing at the same time
 * never collides with them.  The only engine-specific SQL here. */
static int take_ids(struct db *db, const char *table, int n, int64_t *ids, struct err *e)
{
	char sql[256];
	if (db_engine(db) == DB_SQLITE) {
		/* Inside our write transaction nobody else inserts; an explicit
		 * id moves AUTOINCREMENT's high-water mark past it. */
		snprintf(sql, sizeof sql, "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence "
			 "WHERE name = '%s'), 0), COALESCE((SELECT MAX(id) FROM %s), 0))",
			 table, table);
		int64_t base;
		if (db_query_int(db, sql, DB_NOARGS, &base, e) != 1)
			return -1;
		for (int i = 0; i < n; i++)
			ids[i] = base + 1 + i;
		return 0;
	}
	snprintf(sql, sizeof sql, "SELECT nextval(pg_get_serial_sequence('%s', 'id')) "
		 "FROM generate_series(1, $1)", table);
	struct db_res *res = NULL;
	if (db_query(db, sql, DB_ARGS(DB_INT(n)), &res, e) < 0)
		return -1;
	int got = 0;
	while (got < n && db_res_next(res))
		ids[got++] = db_res_int(res, 0);
	db_res_free(res);
	if (got < n)
		ERR_INTERNAL(e, "gen: the %s sequence gave %d ids of %d", table, got, n);
	return got < n ? -1 : 0;
}

/* ---- writing ---- */

struct writer {
	const struct scope *s;
	const struct gen_opts *o;
	struct people people;
	struct gen_rng rng;
	int64_t now;
	/* this run's customers; their handles are numbered from ordinal0 */
	int64_t ncust, ordinal0;
	int64_t *cust_id;
	uint8_t *cust_en, *cust_vip;
	struct gen_batch *customers, *identities, *ctags;
	struct gen_batch *tickets, *ttags, *events, *messages, *fts;
	struct buf json, terms;
	struct gen_ticket_ctx *ctx;
	struct gen_ticket *plan; /* TICKET_CHUNK of them */
};

static void writer_init(struct writer *w, const struct scope *s, const struct gen_opts *o)
{
	memset(w, 0, sizeof *w);
	w->s = s;
	w->o = o;
	w->now = o->now ? o->now : clock_now_ms();
	gen_rng_seed(&w->rng, o->seed);
	w->customers = gen_batch_new(s, "INSERT INTO customers (account_id, id, name, email, "
		"phone, level, tags, attributes, created_at, updated_at) VALUES ", 9, "");
	/* DO NOTHING: a handle some earlier customer of the account claimed
	 * stays theirs (generated handles are made unique, but the account
	 * may hold anything). */
	w->identities = gen_batch_new(s, "INSERT INTO customer_identities (account_id, "
		"customer_id, kind, handle, created_at) VALUES ", 4, " ON CONFLICT DO NOTHING");
	w->ctags = gen_batch_new(s, "INSERT INTO customer_tags (account_id, customer_id, tag) "
		"VALUES ", 2, "");
	w->tickets = gen_batch_new(s, "INSERT INTO tickets (account_id, id, number, subject, "
		"status, status_category, priority, category, team_id, assignee_id, customer_id, "
		"channel_id, origin, tags, created_at, updated_at, first_response_at, "
		"resolved_at, closed_at, last_customer_message_at, last_message_at, csat_score, "
		"csat_comment, csat_at) VALUES ", 23, "");
	w->ttags = gen_batch_new(s, "INSERT INTO ticket_tags (account_id, ticket_id, tag) "
		"VALUES ", 2, "");
	w->events = gen_batch_new(s, "INSERT INTO ticket_events (account_id, ticket_id, kind, "
		"actor_type, actor_id, data, created_at) VALUES ", 6, "");
	w->messages = gen_batch_new(s, "INSERT INTO messages (account_id, ticket_id, "
		"author_kind, author_user_id, customer_id, direction, internal, channel_id, "
		"text, delivery_status, created_at) VALUES ", 10, "");
	w->fts = gen_batch_new(s, ticket_search_insert_head(s->db), 2, "");
	w->plan = xcalloc(TICKET_CHUNK, sizeof *w->plan);
	w->ncust = o->customers;
	w->cust_id = xcalloc((size_t)w->ncust + 1, sizeof *w->cust_id);
	w->cust_en = xcalloc((size_t)w->ncust + 1, 1);
	w->cust_vip = xcalloc((size_t)w->ncust + 1, 1);
	w->ctx = xcalloc(1, sizeof *w->ctx);
	*w->ctx = (struct gen_ticket_ctx){.now = w->now, .ntickets = o->tickets,
		.ncustomers = w->ncust, .customer_en = w->cust_en, .messages = o->messages};
	gen_plan_start(w->ctx);
}

static void writer_free(struct writer *w)
{
	struct gen_batch *all[] = {w->customers, w->identities, w->ctags, w->tickets,
				   w->ttags, w->events, w->messages, w->fts};
	for (size_t i = 0; i < sizeof all / sizeof *all; i++)
		gen_batch_free(all[i]);
	people_free(&w->people);
	free(w->cust_id);
	free(w->cust_en);
	free(w->cust_vip);
	free(w->plan);
	free(w->ctx);
	buf_free(&w->json);
	buf_free(&w->terms);
}

/* '["a","b"]' from up to three tags (NULL: absent). */
static const char *tags_json(struct buf *b, const char *t1, const char *t2, const char *t3)
{
	const char *tags[] = {t1, t2, t3};
	int n = 0;
	buf_reset(b);
	buf_putc(b, '[');
	for (int i = 0; i < 3; i++) {
		if (!tags[i])
			continue;
		if (n++)
			buf_putc(b, ',');
		buf_json_str(b, tags[i]);
	}
	buf_putc(b, ']');
	return b->data;
}

static int identity(struct writer *w, int64_t id, const char *kind, const char *handle,
		    int64_t at, struct err *e)
{
	if (!handle[0])
		return 0;
	gen_batch_int(w->identities, id);
	gen_batch_text(w->identities, kind);
	gen_batch_text(w->identities, handle);
	gen_batch_int(w->identities, at);
	return gen_batch_row(w->identities, e);
}

static int customer_row(struct writer *w, int64_t id, const struct gen_customer *c,
			struct err *e)
{
	struct gen_batch *b = w->customers;
	gen_batch_int(b, id);
	gen_batch_text(b, c->name);
	gen_batch_text(b, c->email[0] ? c->email : NULL);
	gen_batch_text(b, c->phone[0] ? c->phone : NULL);
	gen_batch_text(b, c->vip ? "vip" : "normal");
	gen_batch_text(b, tags_json(&w->json, c->regular ? "老客户" : NULL, NULL, NULL));
	buf_reset(&w->json);
	buf_puts(&w->json, "{");
	if (c->city) {
		buf_puts(&w->json, "\"city\":");
		buf_json_str(&w->json, c->city);
	}
	buf_puts(&w->json, "}");
	gen_batch_text(b, w->json.data);
	gen_batch_int(b, c->created_at);
	gen_batch_int(b, c->created_at);
	return gen_batch_row(b, e);
}

/* Customers [from, to) of the run; their handles are unique through
 * ordinal base + i. */
static int customer_chunk(struct writer *w, int64_t from, int64_t to, int64_t base,
			  struct err *e)
{
	int n = (int)(to - from);
	struct gen_customer *c = xcalloc((size_t)n, sizeof *c);
	int rc = take_ids(w->s->db, "customers", n, w->cust_id + from, e);
	for (int i = 0; rc == 0 && i < n; i++) {
		gen_plan_customer(&w->rng, w->now, base + from + i, from + i, w->ncust, &c[i]);
		w->cust_en[from + i] = (uint8_t)c[i].en;
		w->cust_vip[from + i] = (uint8_t)c[i].vip;
		rc = customer_row(w, w->cust_id[from + i], &c[i], e);
	}
	if (rc == 0)
		rc = gen_batch_flush(w->customers, e);
	for (int i = 0; rc == 0 && i < n; i++) {
		int64_t id = w->cust_id[from + i], at = c[i].created_at;
		rc = identity(w, id, "email", c[i].email, at, e) < 0 ||
		     identity(w, id, "phone", c[i].phone, at, e) < 0 ||
		     identity(w, id, "wechat", c[i].wechat, at, e) < 0 ? -1 : 0;
		if (rc == 0 && c[i].regular) {
			gen_batch_int(w->ctags, id);
			gen_batch_text(w->ctags, "老客户");
			rc = gen_batch_row(w->ctags, e);
		}
	}
	free(c);
	return rc == 0 && gen_batch_flush(w->identities, e) == 0 &&
	       gen_batch_flush(w->ctags, e) == 0 ? 0 : -1;
}

/* ---- tickets ---- */

/* What gen.c decides on top of the plan: the ids. */
struct placed {
	int64_t id, number, team, assignee, agent, customer, channel;
};

static int ticket_row(struct writer *w, const struct gen_ticket *t, const struct placed *p,
		      struct err *e)
{
	struct gen_batch *b = w->tickets;
	gen_batch_int(b, p->id);
	gen_batch_int(b, p->number);
	gen_batch_text(b, t->subject);
	gen_batch_text(b, t->status); /* the built-in statuses are their own category */
	gen_batch_text(b, t->status);
	gen_batch_text(b, t->priority);
	gen_batch_text(b, t->topic->category);
	gen_batch_id(b, p->team);
	gen_batch_id(b, p->assignee);
	gen_batch_int(b, p->customer);
	gen_batch_id(b, p->channel);
	gen_batch_text(b, t->origin);
	gen_batch_text(b, tags_json(&w->json, t->topic->tag,
				    !strcmp(t->priority, "urgent") ? "加急" : NULL,
				    w->cust_vip[t->customer] ? "VIP" : NULL));
	int64_t times[] = {t->created, t->updated, t->first_response, t->resolved,
			   t->closed, t->last_customer, t->last_message};
	for (size_t i = 0; i < sizeof times / sizeof *times; i++)
		gen_batch_id(b, times[i]);
	gen_batch_id(b, t->rating);
	gen_batch_text(b, t->rating_comment);
	gen_batch_id(b, t->rated_at);
	return gen_batch_row(b, e);
}

static int ticket_tag(struct writer *w, int64_t id, const char *tag, struct err *e)
{
	if (!tag)
		return 0;
	gen_batch_int(w->ttags, id);
	gen_batch_text(w->ttags, tag);
	return gen_batch_row(w->ttags, e);
}

/* actor: a user's id (0: the system), or the customer's for "rated". */
static int event(struct writer *w, int64_t ticket, const char *kind, int64_t actor,
		 const char *data, int64_t at, struct err *e)
{
	struct gen_batch *b = w->events;
	gen_batch_int(b, ticket);
	gen_batch_text(b, kind);
	gen_batch_text(b, !strcmp(kind, "rated") ? "customer" : actor ? "user" : "system");
	gen_batch_id(b, actor);
	gen_batch_text(b, data);
	gen_batch_int(b, at);
	return gen_batch_row(b, e);
}

static int status_event(struct writer *w, const struct placed *p, const char *from,
			const char *to, int64_t at, struct err *e)
{
	char data[64];
	snprintf(data, sizeof data, "{\"from\":\"%s\",\"to\":\"%s\"}", from, to);
	return event(w, p->id, "status", p->agent, data, at, e);
}

static int rated_event(struct writer *w, const struct gen_ticket *t, const struct placed *p,
		       struct err *e)
{
	buf_reset(&w->json);
	buf_printf(&w->json, "{\"score\":%d", t->rating);
	if (t->rating_comment) {
		buf_puts(&w->json, ",\"comment\":");
		buf_json_str(&w->json, t->rating_comment);
	}
	buf_putc(&w->json, '}');
	return event(w, p->id, "rated", p->customer, w->json.data, t->rated_at, e);
}

/* The timeline as ticket_create, ticket_update and ticket_rate would have
 * written it: created, assigned, each status change, the rating -- in the
 * order they happened, which the timeline reads them in (by id). */
static int timeline(struct writer *w, const struct gen_ticket *t, const struct placed *p,
		    struct err *e)
{
	char data[96];
	snprintf(data, sizeof data, "{\"origin\":\"%s\"}", t->origin);
	if (event(w, p->id, "created", 0, data, t->created, e) < 0)
		return -1;
	snprintf(data, sizeof data, "{\"from\":null,\"to\":%lld}", (long long)p->assignee);
	if (p->assignee && event(w, p->id, "assignee", 0, data, t->opened, e) < 0)
		return -1;
	if (t->opened && status_event(w, p, "new", "open", t->opened, e) < 0)
		return -1;
	if (!strcmp(t->status, "pending") &&
	    status_event(w, p, "open", "pending", t->last_message, e) < 0)
		return -1;
	if (t->resolved && status_event(w, p, "open", "resolved", t->resolved, e) < 0)
		return -1;
	/* rated once resolved, maybe before a later automatic close */
	int rated_first = t->rating && t->closed && t->rated_at < t->closed;
	if (rated_first && rated_event(w, t, p, e) < 0)
		return -1;
	if (t->closed && status_event(w, p, t->resolved ? "resolved" : "open", "closed",
				      t->closed, e) < 0)
		return -1;
	return t->rating && !rated_first ? rated_event(w, t, p, e) : 0;
}

/* Messages as message_add writes them (an agent reply through a channel
 * that sends counts as sent); the search terms as ticket_search_index
 * computes them: the subject's, then each message's in order. */
static int conversation(struct writer *w, const struct gen_ticket *t, const struct placed *p,
			struct err *e)
{
	const char *sent = p->channel && strcmp(t->origin, "web") != 0 ? "sent" : NULL;
	buf_reset(&w->terms);
	text_tokens(t->subject, strlen(t->subject), &w->terms);
	for (int i = 0; i < t->nmsg; i++) {
		const struct gen_msg *m = &t->msg[i];
		int customer = m->who == GEN_CUSTOMER, note = m->who == GEN_NOTE;
		struct gen_batch *b = w->messages;
		gen_batch_int(b, p->id);
		gen_batch_text(b, customer ? "customer" : "agent");
		gen_batch_id(b, customer ? 0 : p->agent);
		gen_batch_id(b, customer ? p->customer : 0);
		gen_batch_text(b, note ? "internal" : customer ? "in" : "out");
		gen_batch_int(b, note);
		gen_batch_id(b, note ? 0 : p->channel);
		gen_batch_text(b, m->text);
		gen_batch_text(b, customer || note ? NULL : sent);
		gen_batch_int(b, m->at);
		if (gen_batch_row(b, e) < 0)
			return -1;
		text_tokens(m->text, strlen(m->text), &w->terms);
	}
	gen_batch_int(w->fts, p->id);
	gen_batch_text(w->fts, w->terms.data ? w->terms.data : "");
	return gen_batch_row(w->fts, e);
}

static void place(const struct writer *w, const struct gen_ticket *t, struct placed *p)
{
	const struct team *tm = ticket_team(&w->people, t);
	p->team = tm ? tm->id : 0;
	p->agent = ticket_agent(&w->people, tm, t);
	p->assignee = t->assigned ? p->agent : 0;
	p->customer = w->cust_id[t->customer];
	p->channel = ticket_channel(&w->people, t->origin);
}

static int ticket_details(struct writer *w, const struct gen_ticket *t, const struct placed *p,
			  struct err *e)
{
	if (ticket_tag(w, p->id, t->topic->tag, e) < 0 ||
	    ticket_tag(w, p->id, !strcmp(t->priority, "urgent") ? "加急" : NULL, e) < 0 ||
	    ticket_tag(w, p->id, w->cust_vip[t->customer] ? "VIP" : NULL, e) < 0)
		return -1;
	return timeline(w, t, p, e) < 0 ? -1 : conversation(w, t, p, e);
}

/* n tickets: rows first (the rest refers to them), then the rest. */
static int ticket_chunk(struct writer *w, int64_t from, int n, struct err *e)
{
	struct placed *p = xcalloc((size_t)n, sizeof *p);
	int64_t *ids = xcalloc((size_t)n, sizeof *ids), first;
	int rc = take_ids(w->s->db, "tickets", n, ids, e) < 0 ||
		 ticket_numbers_take(w->s, n, &first, e) < 0 ? -1 : 0;
	for (int i = 0; rc == 0 && i < n; i++) {
		gen_plan_ticket(&w->rng, w->ctx, from + i, &w->plan[i]);
		p[i].id = ids[i];
		p[i].number = first + i;
		place(w, &w->plan[i], &p[i]);
		rc = ticket_row(w, &w->plan[i], &p[i], e);
	}
	if (rc == 0)
		rc = gen_batch_flush(w->tickets, e);
	for (int i = 0; rc == 0 && i < n; i++)
		rc = ticket_details(w, &w->plan[i], &p[i], e);
	struct gen_batch *rest[] = {w->ttags, w->events, w->messages, w->fts};
	for (size_t i = 0; rc == 0 && i < sizeof rest / sizeof *rest; i++)
		rc = gen_batch_flush(rest[i], e);
	free(ids);
	free(p);
	return rc;
}

/* ---- the run ---- */

/* Settings for this connection only, that make bulk writing faster
 * without risking the data.  SQLite: keep more of the growing indexes in
 * memory (256 MiB instead of 2), and copy the WAL into the database every
 * 80 MB rather than every 4 (a page changed by many transactions is then
 * copied, and synced, once); synchronous stays as it is.  PostgreSQL: do
 * not wait for the WAL to reach disk at each commit (a crash loses at
 * most the last commits, never consistency, and a rerun makes them
 * again). */
static int tune(struct db *db, struct err *e)
{
	const char *sql = db_engine(db) == DB_SQLITE ? "PRAGMA cache_size = -262144"
						     : "SET synchronous_commit = off";
	if (db_exec(db, sql, DB_NOARGS, e) < 0)
		return -1;
	return db_engine(db) == DB_SQLITE &&
	       db_exec(db, "PRAGMA wal_autocheckpoint = 20000", DB_NOARGS, e) < 0 ? -1 : 0;
}

typedef int (*chunk_fn)(struct writer *w, int64_t from, int64_t to, struct err *e);

static void progress(const char *what, int64_t done, int64_t total, uint64_t started)
{
	double s = (double)(clock_mono_us() - started) / 1e6;
	printf("gen: %lld/%lld %s (%.0f/s)\n", (long long)done, (long long)total, what,
	       s > 0 ? (double)done / s : 0.0);
	fflush(stdout);
}

/* [0, total) in transactions of chunk; a line per tenth when asked. */
static int in_chunks(struct writer *w, const char *what, int64_t total, int chunk,
		     chunk_fn fn, struct err *e)
{
	uint64_t started = clock_mono_us();
	int64_t tenth = total / 10 > 0 ? total / 10 : 1, shown = 0;
	for (int64_t from = 0; from < total; from += chunk) {
		int64_t to = from + chunk < total ? from + chunk : total;
		if (db_begin(w->s->db, e) < 0)
			return -1;
		if (fn(w, from, to, e) < 0) {
			db_rollback(w->s->db);
			return -1;
		}
		if (db_commit(w->s->db, e) < 0)
			return -1;
		if (w->o->progress && to / tenth > shown && to < total) {
			shown = to / tenth;
			progress(what, to, total, started);
		}
	}
	return 0;
}

static int customers_fn(struct writer *w, int64_t from, int64_t to, struct err *e)
{
	return customer_chunk(w, from, to, w->ordinal0, e);
}

static int tickets_fn(struct writer *w, int64_t from, int64_t to, struct err *e)
{
	return ticket_chunk(w, from, (int)(to - from), e);
}

static int audit_run(const struct writer *w, const struct gen_stats *st, struct err *e)
{
	json_t *d = json_pack("{sI sI sI si sI}", "customers", (json_int_t)st->customers,
			      "tickets", (json_int_t)st->tickets, "messages",
			      (json_int_t)st->messages, "messages_per_ticket", w->o->messages,
			      "seed", (json_int_t)w->o->seed);
	int rc = db_begin(w->s->db, e);
	if (rc == 0 && audit_record(w->s, &cli_actor, "account.generate", "account",
				    w->s->account_id, d, e) < 0) {
		db_rollback(w->s->db);
		rc = -1;
	} else if (rc == 0) {
		rc = db_commit(w->s->db, e);
	}
	json_decref(d);
	return rc;
}

static void count(const struct writer *w, struct gen_stats *st)
{
	st->customers = gen_batch_written(w->customers);
	st->identities = gen_batch_written(w->identities);
	st->tickets = gen_batch_written(w->tickets);
	st->messages = gen_batch_written(w->messages);
	st->events = gen_batch_written(w->events);
	st->rows = st->customers + st->identities + gen_batch_written(w->ctags) +
		   st->tickets + gen_batch_written(w->ttags) + st->events + st->messages +
		   gen_batch_written(w->fts);
}

int gen_run(struct db *db, int64_t account_id, const struct gen_opts *o,
	    struct gen_stats *st, struct err *e)
{
	memset(st, 0, sizeof *st);
	if (o->tickets > 0 && o->customers < 1) {
		ERR_INVALID(e, "tickets need at least one customer");
		return -1;
	}
	struct scope s = {db, account_id};
	struct writer w;
	writer_init(&w, &s, o);
	/* Handles are numbered after the account's customers so far, so a
	 * second run does not reuse the first one's. */
	int rc = tune(db, e) < 0 || load_people(&s, &w.people, e) < 0 ||
		 db_sq_int(&s, "SELECT COUNT(*) FROM customers WHERE account_id = $1",
			   DB_NOARGS, &w.ordinal0, e) < 0 ||
		 in_chunks(&w, "customers", o->customers, CUSTOMER_CHUNK, customers_fn, e) < 0 ||
		 in_chunks(&w, "tickets", o->tickets, TICKET_CHUNK, tickets_fn, e) < 0 ? -1 : 0;
	count(&w, st);
	if (rc == 0)
		rc = audit_run(&w, st, e);
	/* PostgreSQL plans by its statistics, which a million new rows make
	 * stale until autovacuum comes by; a benchmark run right after should
	 * see the plans a live system would. */
	if (rc == 0 && db_engine(db) == DB_PG)
		rc = db_exec(db, "ANALYZE customers, customer_identities, tickets, ticket_tags, "
			     "ticket_events, messages, ticket_fts", DB_NOARGS, e) < 0 ? -1 : 0;
	writer_free(&w);
	return rc;
}

/* ---- the command ---- */

static int find_account(struct db *db, const char *slug, int64_t *id, struct err *e)
{
	int found = account_find(db, slug, id, e);
	if (found != 0)
		return found < 0 ? -1 : 0;
	if (strcmp(slug, DEMO_SLUG) != 0) {
		ERR_NOT_FOUND(e, "no account with slug '%s' (kefu account create, or use "
			      "--account demo)", slug);
		return -1;
	}
	/* The demo account's teams and logins, without its sample tickets. */
	struct demo_size none = {0, 0};
	char key[64];
	if (demo_setup(db, &none, id, key, sizeof key, e) < 0)
		return -1;
	printf("gen: created the demo account (kefu demo prints its logins)\n");
	return 0;
}

int cli_gen(const struct config *cfg, const char *account, const struct gen_opts *o)
{
	if (cli_domain_init() < 0)
		return 1;
	struct db *db = cli_open_db(cfg);
	if (!db)
		return 1;
	struct err e = {0};
	struct gen_stats st;
	int64_t account_id;
	uint64_t started = clock_mono_us();
	int rc = find_account(db, account, &account_id, &e);
	if (rc == 0)
		rc = gen_run(db, account_id, o, &st, &e);
	db_close(db);
	text_shutdown();
	if (rc < 0) {
		fprintf(stderr, "kefu: gen: %s\n", e.msg);
		return 1;
	}
	double s = (double)(clock_mono_us() - started) / 1e6;
	printf("gen: %lld rows in all (%.0f rows/s)\n", (long long)st.rows,
	       s > 0 ? (double)st.rows / s : 0.0);
	printf("gen: %lld customers, %lld tickets, %lld messages in %.1f s (%.0f tickets/s)\n",
	       (long long)st.customers, (long long)st.tickets, (long long)st.messages, s,
	       s > 0 ? (double)st.tickets / s : 0.0);
	return 0;
}
