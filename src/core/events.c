/*
 * events.c -- the event log (see events.h).
 *
 * On PostgreSQL an event row is inserted with seq NULL inside the caller's
 * transaction, and the commit hook numbers the transaction's rows just
 * before COMMIT: the counter row is locked only from there to the end, by
 * everyone in the same order, so writers are serialised briefly and never
 * deadlock on it.  Rows of a savepoint that was rolled back are simply gone
 * by then, so nothing has to be tracked in memory; uncommitted rows of
 * other transactions are invisible, so "seq IS NULL" finds exactly this
 * transaction's rows.  SQLite has one writer at a time, so there the id is
 * taken when the event is added (see events_add).
 */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "../util/log.h"
#include "rbac.h"

static void (*wake_fn)(const int64_t *accounts, int n);

static struct db_val id_or_null(int64_t v)
{
	return v ? DB_INT(v) : (struct db_val){.type = DB_T_NULL};
}

int events_add(const struct scope *s, const char *type,
	       const struct event_target *t, const json_t *data, struct err *e)
{
	if (!db_in_tx(s->db)) {
		ERR_INTERNAL(e, "events_add outside a transaction");
		log_error("events: %s added outside a transaction", type);
		return -1;
	}
	char *dj = json_dumps(data, JSON_COMPACT);
	if (!dj) {
		ERR_INTERNAL(e, "event data could not be encoded");
		return -1;
	}
	/* SQLite has one writer: this transaction holds the write lock until
	 * it ends, so the id can be taken now (a savepoint rolled back takes
	 * its counter step back with it) -- two statements, and nothing left
	 * for the commit.  PostgreSQL takes ids at commit (see precommit). */
	int64_t seq = 0;
	if (db_engine(s->db) == DB_SQLITE &&
	    db_sq_int(s, "INSERT INTO event_counters (account_id, last_seq) VALUES ($1, 1) "
			 "ON CONFLICT (account_id) DO UPDATE SET last_seq = event_counters.last_seq + 1 "
			 "RETURNING last_seq", DB_NOARGS, &seq, e) != 1) {
		free(dj);
		return -1;
	}
	int64_t rc = db_sexec(s,
		"INSERT INTO events (account_id, type, audience, ticket_id, team_id, "
		"assignee_id, prev_team_id, prev_assignee_id, customer_id, data, created_at, seq) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
		DB_ARGS(DB_TEXT(type), DB_INT(t->audience), id_or_null(t->ticket_id),
			id_or_null(t->team_id), id_or_null(t->assignee_id),
			id_or_null(t->prev_team_id), id_or_null(t->prev_assignee_id),
			id_or_null(t->customer_id), DB_TEXT(dj), DB_INT(clock_now_ms()),
			id_or_null(seq)), e);
	free(dj);
	if (rc < 0)
		return -1;
	db_tx_mark(s->db, s->account_id);
	return 0;
}

int events_ticket_target(const struct scope *s, int64_t ticket_id,
			 struct event_target *t, int *chat, struct err *e)
{
	struct db_res *res;
	if (db_sq(s, "SELECT team_id, assignee_id, customer_id, origin = 'web' FROM tickets "
		     "WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(ticket_id)), &res, e) < 0)
		return -1;
	if (!db_res_next(res)) {
		db_res_free(res);
		ERR_NOT_FOUND(e, "ticket not found");
		return -1;
	}
	t->ticket_id = ticket_id;
	t->team_id = db_res_int(res, 0);
	t->assignee_id = db_res_int(res, 1);
	t->customer_id = db_res_int(res, 2);
	if (chat)
		*chat = db_res_int(res, 3) != 0;
	db_res_free(res);
	return 0;
}

/* ---- numbering at commit ---- */

static int number_account(struct db *db, int64_t account, struct err *e)
{
	struct db_res *res;
	if (db_query(db, "SELECT gid FROM events WHERE account_id = $1 AND seq IS NULL "
			 "ORDER BY gid", DB_ARGS(DB_INT(account)), &res, e) < 0)
		return -1;
	int64_t gids[64], n = 0, last = 0;
	int more = 0;
	while (db_res_next(res)) {
		if (n == 64) {
			more = 1;
			break;
		}
		gids[n++] = db_res_int(res, 0);
	}
	db_res_free(res);
	if (n == 0)
		return 0;
	if (db_query_int(db, "INSERT INTO event_counters (account_id, last_seq) VALUES ($1, $2) "
			     "ON CONFLICT (account_id) DO UPDATE "
			     "SET last_seq = event_counters.last_seq + $2 RETURNING last_seq",
			 DB_ARGS(DB_INT(account), DB_INT(n)), &last, e) != 1)
		return -1;
	for (int64_t i = 0; i < n; i++)
		if (db_exec(db, "UPDATE events SET seq = $2 WHERE gid = $1",
			    DB_ARGS(DB_INT(gids[i]), DB_INT(last - n + 1 + i)), e) < 0)
			return -1;
	if (more) /* a transaction with more than 64 events: next batch */
		return number_account(db, account, e);
	if (db_engine(db) == DB_PG) {
		char a[24];
		snprintf(a, sizeof a, "%lld", (long long)account);
		if (db_exec(db, "SELECT pg_notify('kefu_events', $1)", DB_ARGS(DB_TEXT(a)), e) < 0)
			return -1;
	}
	return 0;
}

static int precommit(struct db *db, const int64_t *accounts, int n, struct err *e)
{
	if (db_engine(db) == DB_SQLITE)
		return 0; /* numbered as they were added */
	for (int i = 0; i < n; i++)
		if (number_account(db, accounts[i], e) < 0)
			return -1;
	return 0;
}

static void postcommit(const int64_t *accounts, int n)
{
	if (wake_fn)
		wake_fn(accounts, n);
}

void events_install(void (*wake)(const int64_t *accounts, int n))
{
	wake_fn = wake;
	db_set_commit_hook(precommit, postcommit);
}

/* ---- reading ---- */

static char *frame_of(int64_t seq, const char *type, const char *data, size_t *len)
{
	size_t n = strlen(data) + strlen(type) + 64;
	char *f = malloc(n);
	if (!f)
		return NULL;
	int w = snprintf(f, n, "{\"id\":%lld,\"type\":\"%s\",\"data\":%s}",
			 (long long)seq, type, data);
	*len = (size_t)w;
	return f;
}

static int row_read(struct db_res *res, int64_t account, struct event_row *r)
{
	memset(r, 0, sizeof *r);
	r->account_id = account;
	r->seq = db_res_int(res, 0);
	snprintf(r->type, sizeof r->type, "%s", db_res_text(res, 1));
	r->t.audience = (int)db_res_int(res, 2);
	r->t.ticket_id = db_res_int(res, 3);
	r->t.team_id = db_res_int(res, 4);
	r->t.assignee_id = db_res_int(res, 5);
	r->t.prev_team_id = db_res_int(res, 6);
	r->t.prev_assignee_id = db_res_int(res, 7);
	r->t.customer_id = db_res_int(res, 8);
	r->frame = frame_of(r->seq, r->type, db_res_text(res, 9), &r->len);
	return r->frame ? 0 : -1;
}

int events_read(struct db *db, int64_t account_id, int64_t after, int limit,
		struct event_row **rows, int *n, struct err *e)
{
	*rows = NULL;
	*n = 0;
	struct db_res *res;
	if (db_query(db, "SELECT seq, type, audience, ticket_id, team_id, assignee_id, "
			 "prev_team_id, prev_assignee_id, customer_id, data FROM events "
			 "WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
		     DB_ARGS(DB_INT(account_id), DB_INT(after), DB_INT(limit)), &res, e) < 0)
		return -1;
	struct event_row *v = calloc((size_t)(limit > 0 ? limit : 1), sizeof *v);
	int k = 0, rc = v ? 0 : -1;
	while (rc == 0 && k < limit && db_res_next(res)) {
		if (row_read(res, account_id, &v[k]) < 0)
			rc = -1;
		else
			k++;
	}
	if (rc == 0 && db_res_error(res, e) < 0)
		rc = -1;
	db_res_free(res);
	if (rc < 0) {
		events_rows_free(v, k);
		if (!e->status)
			ERR_INTERNAL(e, "out of memory reading events");
		return -1;
	}
	*rows = v;
	*n = k;
	return 0;
}

void events_rows_free(struct event_row *rows, int n)
{
	for (int i = 0; i < n; i++)
		free(rows[i].frame);
	free(rows);
}

int events_heads(struct db *db, void (*fn)(void *arg, int64_t account, int64_t seq),
		 void *arg, struct err *e)
{
	struct db_res *res;
	if (db_query(db, "SELECT account_id, last_seq FROM event_counters", NULL, 0, &res, e) < 0)
		return -1;
	while (db_res_next(res))
		fn(arg, db_res_int(res, 0), db_res_int(res, 1));
	int rc = db_res_error(res, e);
	db_res_free(res);
	return rc;
}

int events_head(struct db *db, int64_t account_id, int64_t *seq, struct err *e)
{
	*seq = 0;
	return db_query_int(db, "SELECT COALESCE(MAX(last_seq), 0) FROM event_counters "
				"WHERE account_id = $1", DB_ARGS(DB_INT(account_id)), seq, e) < 0 ? -1 : 0;
}

int events_oldest(struct db *db, int64_t account_id, int64_t *seq, struct err *e)
{
	*seq = 0;
	return db_query_int(db, "SELECT COALESCE(MIN(seq), 0) FROM events "
				"WHERE account_id = $1 AND seq IS NOT NULL",
			    DB_ARGS(DB_INT(account_id)), seq, e) < 0 ? -1 : 0;
}

int64_t events_prune(struct db *db, int64_t before_ms, struct err *e)
{
	return db_exec(db, "DELETE FROM events WHERE created_at < $1 AND seq IS NOT NULL",
		       DB_ARGS(DB_INT(before_ms)), e);
}

/* ---- visibility: the rule of ticket_scope_sql, on an event ---- */

static int in_teams(const struct event_viewer *v, int64_t team)
{
	for (int i = 0; team && i < v->nteams; i++)
		if (v->teams[i] == team)
			return 1;
	return 0;
}

int events_visible(const struct event_viewer *v, const struct event_target *t)
{
	if (v->customer)
		return t->audience == EV_CUSTOMER && t->customer_id == v->customer_id;
	if (t->audience != EV_STAFF)
		return 0;
	if (!t->ticket_id || v->scope == SCOPE_ALL)
		return 1;
	if (t->assignee_id == v->user_id || t->prev_assignee_id == v->user_id)
		return 1;
	return v->scope == SCOPE_TEAM &&
	       (in_teams(v, t->team_id) || in_teams(v, t->prev_team_id));
}
