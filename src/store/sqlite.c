/*
 * sqlite.c -- the SQLite engine behind db.h.
 *
 * Owns: opening a database file with Kefu's settings (WAL, foreign keys,
 * synchronous=NORMAL, busy timeout, no double-quoted string literals,
 * checkpoints in the background: sqlite_ckpt.h), the
 * per-connection prepared-statement cache, binding $N parameters, stepping
 * rows lazily, and classifying SQLite errors into struct db_fail.
 *
 * Does not own: transactions, error codes or the scoping rule (db.c).
 *
 * The statement cache is the reason this engine is fast: preparing a
 * statement costs more than running an indexed lookup.  It is a small hash
 * table keyed by SQL text with an LRU list for eviction.  A cached statement
 * is lent to one result at a time; if the same SQL is run while its
 * statement is still lent out (a nested loop), a private statement is
 * prepared for the inner one and finalized when its result is freed.
 */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/buf.h"
#include "../util/log.h"
#include "sqlite_ckpt.h"

#define SQ_BUCKETS 256 /* power of two */
#define SQ_MAX_CACHED 128
#define SQ_BUSY_MS 5000

struct sq_stmt {
	char *sql;
	uint32_t hash;
	sqlite3_stmt *st;
	int nbind;     /* distinct parameters in the statement */
	int maxp;      /* highest $N */
	short *pmap;   /* SQLite parameter index -> N, [1..nbind] */
	int cached;    /* in the table (else private to one result) */
	int lent;      /* held by a live result */
	struct sq_stmt *hnext;
	struct sq_stmt *newer, *older; /* LRU list */
};

struct sq_db {
	struct db base;
	sqlite3 *h;
	int writer; /* holds the process's writer lock (see sq_writer_enter) */
	struct sq_ckpt *ckpt; /* checkpoints in the background (sqlite_ckpt.h) */
	struct sq_stmt *bucket[SQ_BUCKETS];
	struct sq_stmt *newest, *oldest;
	int ncached;
};

struct sq_res {
	struct db_res base;
	struct sq_stmt *s;
	int rc;      /* result of the last sqlite3_step */
	int pending; /* the row from db_query's step is not yet handed out */
};

static struct sq_db *sq(struct db *db)
{
	return (struct sq_db *)db;
}

/* ---- errors ---- */

/* "UNIQUE constraint failed: users.account_id, users.email" ->
 * "users(account_id, email)". */
static void sq_columns(const char *list, char *out, size_t n)
{
	struct buf b = BUF_INIT;
	const char *dot = strchr(list, '.');
	if (!dot) {
		snprintf(out, n, "%s", list);
		return;
	}
	buf_append(&b, list, (size_t)(dot - list));
	buf_putc(&b, '(');
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",");
		const char *d = memchr(p, '.', len);
		const char *col = d ? d + 1 : p;
		if (p != list)
			buf_puts(&b, ", ");
		buf_append(&b, col, len - (size_t)(col - p));
		p += len;
		while (*p == ',' || *p == ' ')
			p++;
	}
	buf_putc(&b, ')');
	snprintf(out, n, "%s", b.data);
	buf_free(&b);
}

static enum db_fail_kind sq_kind(int ext)
{
	if ((ext & 0xff) == SQLITE_MISUSE || (ext & 0xff) == SQLITE_RANGE)
		return DB_F_MISUSE;
	if ((ext & 0xff) != SQLITE_CONSTRAINT)
		return DB_F_OTHER;
	switch (ext) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return DB_F_UNIQUE;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return DB_F_FOREIGN;
	case SQLITE_CONSTRAINT_CHECK:
		return DB_F_CHECK;
	case SQLITE_CONSTRAINT_NOTNULL:
		return DB_F_NOTNULL;
	default:
		return DB_F_CONSTRAINT;
	}
}

static int sq_fail(struct sq_db *d, struct db_fail *f)
{
	int ext = sqlite3_extended_errcode(d->h);
	const char *msg = sqlite3_errmsg(d->h);
	enum db_fail_kind kind = sq_kind(ext);
	char what[sizeof f->what] = "";
	/* The message names table.column for UNIQUE and NOT NULL and the
	 * constraint (or its expression) for CHECK; never the values. */
	const char *tag = strstr(msg, "constraint failed: ");
	const char *list = tag ? tag + strlen("constraint failed: ") : "";
	if (kind == DB_F_UNIQUE || kind == DB_F_NOTNULL)
		sq_columns(list, what, sizeof what);
	else if (kind != DB_F_OTHER && kind != DB_F_MISUSE)
		snprintf(what, sizeof what, "%s", list);
	db_fail_set(f, kind, what, "sqlite %d: %s", ext, msg);
	return -1;
}

/* ---- statement cache ---- */

/* FNV-1a: the key is short text and this runs on every query. */
static uint32_t sq_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void lru_unlink(struct sq_db *d, struct sq_stmt *s)
{
	if (s->newer)
		s->newer->older = s->older;
	else
		d->newest = s->older;
	if (s->older)
		s->older->newer = s->newer;
	else
		d->oldest = s->newer;
	s->newer = s->older = NULL;
}

static void lru_push(struct sq_db *d, struct sq_stmt *s)
{
	s->older = d->newest;
	s->newer = NULL;
	if (d->newest)
		d->newest->newer = s;
	d->newest = s;
	if (!d->oldest)
		d->oldest = s;
}

static void stmt_free(struct sq_stmt *s)
{
	sqlite3_finalize(s->st);
	free(s->pmap);
	free(s->sql);
	free(s);
}

static void cache_remove(struct sq_db *d, struct sq_stmt *s)
{
	struct sq_stmt **pp = &d->bucket[s->hash & (SQ_BUCKETS - 1)];
	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	lru_unlink(d, s);
	d->ncached--;
	stmt_free(s);
}

static void cache_add(struct sq_db *d, struct sq_stmt *s)
{
	for (struct sq_stmt *v = d->oldest; v && d->ncached >= SQ_MAX_CACHED;) {
		struct sq_stmt *next = v->newer;
		if (!v->lent)
			cache_remove(d, v);
		v = next;
	}
	if (d->ncached >= SQ_MAX_CACHED)
		return; /* everything is lent out: leave s private */
	struct sq_stmt **b = &d->bucket[s->hash & (SQ_BUCKETS - 1)];
	s->hnext = *b;
	*b = s;
	s->cached = 1;
	lru_push(d, s);
	d->ncached++;
}

static struct sq_stmt *cache_find(struct sq_db *d, const char *sql,
				  uint32_t hash)
{
	struct sq_stmt *s = d->bucket[hash & (SQ_BUCKETS - 1)];
	for (; s; s = s->hnext) {
		if (s->hash == hash && strcmp(s->sql, sql) == 0)
			return s;
	}
	return NULL;
}

/* Anything but blanks and semicolons after the first statement is a second
 * statement, which db_query would silently skip: refuse it instead (as
 * PostgreSQL does). */
static int only_blanks(const char *p)
{
	return p[strspn(p, " \t\r\n;")] == '\0';
}

/* Maps each SQLite parameter slot to its $N, refusing other spellings
 * (?, :name, "$1::bigint" which SQLite reads as one Tcl-style name). */
static int stmt_map_params(struct sq_stmt *s, struct db_fail *f)
{
	s->nbind = sqlite3_bind_parameter_count(s->st);
	s->pmap = xcalloc((size_t)s->nbind + 1, sizeof *s->pmap);
	for (int i = 1; i <= s->nbind; i++) {
		const char *name = sqlite3_bind_parameter_name(s->st, i);
		int n = db_param_number(name);
		if (!n) {
			db_fail_set(f, DB_F_MISUSE, NULL, "parameter %s: write "
				    "$1..$N (and no :: casts)", name ? name : "?");
			return -1;
		}
		s->pmap[i] = (short)n;
		if (n > s->maxp)
			s->maxp = n;
	}
	return 0;
}

static struct sq_stmt *stmt_prepare(struct sq_db *d, const char *sql,
				    uint32_t hash, struct db_fail *f)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
			       &tail) != SQLITE_OK) {
		sq_fail(d, f);
		return NULL;
	}
	if (!st || !only_blanks(tail)) {
		sqlite3_finalize(st);
		db_fail_set(f, DB_F_MISUSE, NULL, "%s", st ? "more than one "
			    "statement" : "empty statement");
		return NULL;
	}
	struct sq_stmt *s = xcalloc(1, sizeof *s);
	s->sql = xstrdup(sql);
	s->hash = hash;
	s->st = st;
	if (stmt_map_params(s, f) < 0) {
		stmt_free(s);
		return NULL;
	}
	return s;
}

/* A statement ready to bind: the cached one when it is free, else a fresh
 * one (cached when the SQL was not in the cache yet). */
static struct sq_stmt *stmt_get(struct sq_db *d, const char *sql,
				struct db_fail *f)
{
	uint32_t hash = sq_hash(sql);
	struct sq_stmt *s = cache_find(d, sql, hash);
	if (s && !s->lent) {
		lru_unlink(d, s);
		lru_push(d, s);
		return s;
	}
	int known = s != NULL;
	s = stmt_prepare(d, sql, hash, f);
	if (s && !known)
		cache_add(d, s);
	return s;
}

/* Back to the cache (or gone, when private).  Reset ends the statement's
 * read snapshot; clearing bindings frees copies of large text. */
static void stmt_release(struct sq_stmt *s)
{
	if (!s->cached) {
		stmt_free(s);
		return;
	}
	sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	s->lent = 0;
}

static int stmt_bind(struct sq_db *d, struct sq_stmt *s,
		     const struct db_val *p, int n, struct db_fail *f)
{
	if (n != s->maxp) {
		db_fail_set(f, DB_F_MISUSE, NULL, "statement uses $1..$%d but "
			    "%d parameters were given", s->maxp, n);
		return -1;
	}
	for (int i = 1; i <= s->nbind; i++) {
		const struct db_val *v = &p[s->pmap[i] - 1];
		int rc;
		if (v->type == DB_T_INT)
			rc = sqlite3_bind_int64(s->st, i, v->i);
		else if (v->type == DB_T_TEXT && v->s)
			/* Copied: the caller's string may die before the
			 * last row is stepped. */
			rc = sqlite3_bind_text(s->st, i, v->s, -1,
					       SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_null(s->st, i);
		if (rc != SQLITE_OK)
			return sq_fail(d, f);
	}
	return 0;
}

/* ---- statements ---- */

static int sq_run_all(struct sq_db *d, struct sq_stmt *s, int64_t *changes,
		      struct db_fail *f)
{
	sqlite3_int64 before = sqlite3_total_changes64(d->h);
	int rc;
	while ((rc = sqlite3_step(s->st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		return sq_fail(d, f);
	/* sqlite3_changes64 keeps the count of the last INSERT, UPDATE or
	 * DELETE; a SELECT or DDL statement changed nothing. */
	*changes = sqlite3_total_changes64(d->h) != before
			   ? sqlite3_changes64(d->h)
			   : 0;
	return 0;
}

static int sq_query(struct db *db, const char *sql, const struct db_val *p,
		    int n, struct db_res **res, int64_t *changes,
		    struct db_fail *f)
{
	struct sq_db *d = sq(db);
	struct sq_stmt *s = stmt_get(d, sql, f);
	if (!s)
		return -1;
	s->lent = 1;
	if (stmt_bind(d, s, p, n, f) < 0) {
		stmt_release(s);
		return -1;
	}
	if (!res) {
		int rc = sq_run_all(d, s, changes, f);
		stmt_release(s);
		return rc;
	}
	int rc = sqlite3_step(s->st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sq_fail(d, f);
		stmt_release(s);
		return -1;
	}
	struct sq_res *r = xcalloc(1, sizeof *r);
	r->base.db = db;
	r->s = s;
	r->rc = rc;
	r->pending = 1;
	*res = &r->base;
	return 0;
}

static int sq_exec_script(struct db *db, const char *sql, struct db_fail *f)
{
	struct sq_db *d = sq(db);
	if (sqlite3_exec(d->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(d, f);
	return 0;
}

static int sq_tx_open(struct db *db)
{
	return !sqlite3_get_autocommit(sq(db)->h);
}

/* ---- results ---- */

static struct sq_res *sr(const struct db_res *r)
{
	return (struct sq_res *)r;
}

static int sq_res_next(struct db_res *res)
{
	struct sq_res *r = sr(res);
	if (r->pending) {
		r->pending = 0;
		return r->rc == SQLITE_ROW;
	}
	if (r->rc != SQLITE_ROW)
		return 0;
	r->rc = sqlite3_step(r->s->st);
	if (r->rc == SQLITE_ROW)
		return 1;
	if (r->rc != SQLITE_DONE) {
		struct db_fail f;
		sq_fail(sq(res->db), &f);
		db_res_fail(res, &f);
	}
	return 0;
}

static int sq_res_ncols(const struct db_res *r)
{
	return sqlite3_column_count(sr(r)->s->st);
}

static const char *sq_res_name(const struct db_res *r, int col)
{
	return sqlite3_column_name(sr(r)->s->st, col);
}

static int sq_res_isnull(const struct db_res *r, int col)
{
	return sqlite3_column_type(sr(r)->s->st, col) == SQLITE_NULL;
}

static int64_t sq_res_int(const struct db_res *r, int col)
{
	return sqlite3_column_int64(sr(r)->s->st, col);
}

static const char *sq_res_text(const struct db_res *r, int col)
{
	return (const char *)sqlite3_column_text(sr(r)->s->st, col);
}

static void sq_res_free(struct db_res *res)
{
	stmt_release(sr(res)->s);
	free(res);
}

/* ---- connections ---- */

/* WAL lets readers run beside the one writer; a file system without
 * shared memory silently keeps the old journal, which works but is slow
 * under concurrency, so say so. */
static void sq_check_wal(struct sq_db *d)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(d->h, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		if (mode && strcmp(mode, "wal") != 0 && strcmp(mode, "memory"))
			log_warn("sqlite: journal_mode is %s, not wal", mode);
	}
	sqlite3_finalize(st);
}

/* SQLite's busy timeout sleeps 1, 2, 5, 10 ... 100 ms between tries.  What
 * still meets it here (writers of this process queue on writer_lock) is
 * short: readers held a moment by a checkpoint, a kefu command writing.
 * Look again every 0.1 ms at first, then every 1 ms, for SQ_BUSY_MS in
 * all: under a stream of chat messages this took the throughput of
 * POST /widget/v1/messages from ~950 to ~1,300/s. */
static int sq_busy(void *arg, int tries)
{
	(void)arg;
	if (tries >= 10 + SQ_BUSY_MS)
		return 0;
	struct timespec t = {0, tries < 10 ? 100 * 1000 : 1000 * 1000};
	nanosleep(&t, NULL);
	return 1;
}

static int sq_configure(struct sq_db *d)
{
	sqlite3_extended_result_codes(d->h, 1);
	sqlite3_busy_handler(d->h, sq_busy, NULL);
	sqlite3_db_config(d->h, SQLITE_DBCONFIG_DQS_DML, 0, (int *)NULL);
	sqlite3_db_config(d->h, SQLITE_DBCONFIG_DQS_DDL, 0, (int *)NULL);
	sq_check_wal(d);
	return sqlite3_exec(d->h, "PRAGMA foreign_keys=ON; "
			    "PRAGMA synchronous=NORMAL; "
			    /* a burst may grow the log; once restarted it shrinks back */
			    "PRAGMA journal_size_limit=67108864", NULL, NULL, NULL);
}

static int sq_open(const char *path, struct db **out, struct err *e)
{
	struct sq_db *d = xcalloc(1, sizeof *d);
	/* NOMUTEX: a connection is used by one thread at a time (db.h), so
	 * SQLite's per-connection mutex would be pure overhead. */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		    SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &d->h, flags, NULL);
	if (rc == SQLITE_OK)
		rc = sq_configure(d);
	if (rc != SQLITE_OK) {
		ERR_INTERNAL(e, "cannot open SQLite database %s: %s", path,
			     d->h ? sqlite3_errmsg(d->h) : sqlite3_errstr(rc));
		sqlite3_close_v2(d->h);
		free(d);
		return -1;
	}
	d->ckpt = sq_ckpt_attach(d->h, path);
	*out = &d->base;
	return 0;
}

/* SQLite lets one writer in at a time; the others spin in its busy
 * handler, sleeping 1..100 ms between tries, so under load a write waits
 * for the handler's next wake-up rather than for the writer before it.
 * Writers of this process queue on a mutex instead and go in as soon as the
 * previous one commits.  Other processes (kefu CLI commands) still meet
 * the busy handler.  The wait is bounded by the busy timeout; after it the
 * BEGIN proceeds and reports "database is locked" as before. */
static pthread_mutex_t writer_lock = PTHREAD_MUTEX_INITIALIZER;

static void sq_writer_enter(struct db *db)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SQ_BUSY_MS / 1000;
	sq(db)->writer = pthread_mutex_timedlock(&writer_lock, &until) == 0;
}

void sq_writers_pause(void)
{
	pthread_mutex_lock(&writer_lock);
}

void sq_writers_resume(void)
{
	pthread_mutex_unlock(&writer_lock);
}

static void sq_writer_leave(struct db *db)
{
	struct sq_db *d = sq(db);
	if (d->writer) {
		d->writer = 0;
		pthread_mutex_unlock(&writer_lock);
	}
}

static void sq_close(struct db *db)
{
	struct sq_db *d = sq(db);
	while (d->oldest)
		cache_remove(d, d->oldest);
	/* close_v2 defers the close until any leaked private statement is
	 * finalized instead of failing. */
	sqlite3_close_v2(d->h);
	sq_ckpt_detach(d->ckpt);
	free(d);
}

const struct db_ops db_sqlite_ops = {
	.engine = DB_SQLITE,
	.begin_sql = "BEGIN IMMEDIATE",
	.open = sq_open,
	.close = sq_close,
	.query = sq_query,
	.exec_script = sq_exec_script,
	.tx_open = sq_tx_open,
	.writer_enter = sq_writer_enter,
	.writer_leave = sq_writer_leave,
	.res_next = sq_res_next,
	.res_ncols = sq_res_ncols,
	.res_name = sq_res_name,
	.res_isnull = sq_res_isnull,
	.res_int = sq_res_int,
	.res_text = sq_res_text,
	.res_free = sq_res_free,
};
