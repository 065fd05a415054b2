/*
 * db.c -- the engine-independent half of the storage API (see db.h).
 *
 * Owns: URL dispatch to an engine, the mapping of engine failures to Kefu
 * errors (and what gets logged), transaction nesting with savepoints, the
 * "a failed transaction only accepts a rollback" rule, the account-scoping
 * rule of db_sq/db_sexec, and the helpers built on db_query.
 *
 * Does not own: binding, stepping, or reading an engine's errors; those are
 * in sqlite.c and pg.c behind struct db_ops (engine.h).
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/log.h"

/* Statements that are logged are cut to this many bytes: enough to find the
 * call site, short enough not to flood the log with a 1 MB INSERT. */
#define SQL_LOG_MAX 300

void db_fail_set(struct db_fail *f, enum db_fail_kind kind, const char *what,
		 const char *fmt, ...)
{
	f->kind = kind;
	snprintf(f->what, sizeof f->what, "%s", what ? what : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof f->detail, fmt, ap);
	va_end(ap);
}

int db_param_number(const char *name)
{
	if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
		return 0;
	long n = 0;
	for (const char *p = name + 1; *p; p++) {
		if (*p < '0' || *p > '9' || n > 3276)
			return 0;
		n = n * 10 + (*p - '0');
	}
	return n <= 32767 ? (int)n : 0;
}

/* ---- errors ---- */

static int fail_status(enum db_fail_kind k, const char **code)
{
	switch (k) {
	case DB_F_UNIQUE:
	case DB_F_FOREIGN:
	case DB_F_CHECK:
	case DB_F_CONSTRAINT:
		*code = "conflict";
		return 409;
	case DB_F_NOTNULL:
		*code = "invalid";
		return 400;
	default:
		*code = "internal";
		return 500;
	}
}

static void fail_message(const struct db_fail *f, char *out, size_t n)
{
	const char *w = f->what;
	switch (f->kind) {
	case DB_F_UNIQUE:
		snprintf(out, n, "already exists: %s must be unique",
			 *w ? w : "a value");
		break;
	case DB_F_FOREIGN:
		snprintf(out, n, "refers to a row that does not exist, or is "
			 "still referenced%s%s", *w ? ": " : "", w);
		break;
	case DB_F_CHECK:
		snprintf(out, n, "value not allowed by check constraint%s%s",
			 *w ? ": " : "", w);
		break;
	case DB_F_NOTNULL:
		snprintf(out, n, "missing required value%s%s", *w ? ": " : "", w);
		break;
	case DB_F_CONSTRAINT:
		snprintf(out, n, "constraint failed%s%s", *w ? ": " : "", w);
		break;
	default:
		/* The engine's text may hold schema details or values; it goes
		 * to the log only. */
		snprintf(out, n, "database error");
	}
}

/* Turns an engine failure into e, logs it, and poisons an open
 * transaction (PostgreSQL does so itself; SQLite is made to match so that
 * code tested on one engine behaves the same on the other). */
static int db_fail_report(struct db *db, const struct db_fail *f,
			  const char *sql, struct err *e)
{
	const char *code;
	int status = fail_status(f->kind, &code);
	char msg[sizeof e->msg];
	fail_message(f, msg, sizeof msg);
	err_set(e, status, code, "%s", msg);
	if (status == 500)
		log_error("db: %s [sql: %.*s]", f->detail, SQL_LOG_MAX, sql);
	else
		log_debug("db: %s [sql: %.*s]", f->detail, SQL_LOG_MAX, sql);
	if (db->depth > 0)
		db->failed = 1;
	return -1;
}

void db_res_fail(struct db_res *r, const struct db_fail *f)
{
	r->failed = 1;
	r->fail_kind = f->kind;
	log_error("db: reading a row failed: %s", f->detail);
	if (r->db->depth > 0)
		r->db->failed = 1;
}

/* A caller's mistake: 500 for the client, the reason in the log. */
static int refuse(struct err *e, const char *why, const char *sql)
{
	ERR_INTERNAL(e, "database error");
	if (sql)
		log_error("db: %s [sql: %.*s]", why, SQL_LOG_MAX, sql);
	else
		log_error("db: %s", why);
	return -1;
}

/* ---- URLs ---- */

/* Finds the password in "scheme://user:PASSWORD@host" or in a
 * "password=..." query parameter; *len 0 when there is none. */
static const char *url_password(const char *url, size_t *len)
{
	*len = 0;
	const char *p = strstr(url, "://");
	if (p) {
		p += 3;
		size_t auth = strcspn(p, "/?#");
		const char *at = memrchr(p, '@', auth);
		const char *colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
		if (colon && at > colon + 1) {
			*len = (size_t)(at - colon - 1);
			return colon + 1;
		}
	}
	const char *q = strstr(url, "password=");
	if (q) {
		q += strlen("password=");
		*len = strcspn(q, "&# ");
		return *len ? q : NULL;
	}
	return NULL;
}

/* Copies s to out with every occurrence of the URL's password replaced by
 * "***", so no message or log line built from it can leak the password. */
static void redact(const char *s, const char *url, char *out, size_t n)
{
	size_t plen;
	const char *pw = url_password(url, &plen);
	struct buf b = BUF_INIT;
	while (*s) {
		if (plen && strncmp(s, pw, plen) == 0) {
			buf_puts(&b, "***");
			s += plen;
		} else {
			buf_putc(&b, *s++);
		}
	}
	snprintf(out, n, "%s", b.data ? b.data : "");
	buf_free(&b);
}

static int has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int db_open(const char *url, struct db **out, struct err *e)
{
	*out = NULL;
	const struct db_ops *ops = NULL;
	const char *target = url;
	if (url && has_prefix(url, "sqlite://")) {
		ops = &db_sqlite_ops;
		target = url + strlen("sqlite://");
		if (!*target) {
			ERR_INVALID(e, "SQLite URL has no file path");
			return -1;
		}
	} else if (url && (has_prefix(url, "postgres://") ||
			   has_prefix(url, "postgresql://"))) {
		ops = &db_pg_ops;
	} else {
		ERR_INVALID(e, "unsupported database URL");
		return -1;
	}
	struct err oe = {0};
	if (ops->open(target, out, &oe) < 0) {
		char safe[sizeof oe.msg];
		redact(oe.msg, url, safe, sizeof safe);
		err_set(e, oe.status ? oe.status : 500, "internal", "%s", safe);
		log_error("db: %s", safe);
		return -1;
	}
	(*out)->ops = ops;
	return 0;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	if (db->depth > 0) {
		log_warn("db: closing with a transaction open; rolling back");
		while (db->depth > 0)
			db_rollback(db);
	}
	if (db->live > 0)
		log_error("db: closing with %d results not freed", db->live);
	db->ops->close(db);
}

enum db_engine db_engine(const struct db *db)
{
	return db->ops->engine;
}

/* ---- statements ---- */

static int db_run(struct db *db, const char *sql, const struct db_val *params,
		  int nparams, struct db_res **res, int64_t *changes,
		  struct err *e)
{
	if (!sql || nparams < 0 || (nparams > 0 && !params))
		return refuse(e, "bad arguments to db_query", sql);
	if (db->failed)
		return refuse(e, "statement in a transaction that already failed; "
			      "roll it back first", sql);
	struct db_fail f;
	if (db->ops->query(db, sql, params, nparams, res, changes, &f) < 0)
		return db_fail_report(db, &f, sql, e);
	if (res)
		db->live++;
	return 0;
}

int db_query(struct db *db, const char *sql, const struct db_val *params,
	     int nparams, struct db_res **res, struct err *e)
{
	int64_t changes;
	if (res)
		*res = NULL;
	return db_run(db, sql, params, nparams, res, &changes, e);
}

int64_t db_exec(struct db *db, const char *sql, const struct db_val *params,
		int nparams, struct err *e)
{
	int64_t changes = 0;
	if (db_run(db, sql, params, nparams, NULL, &changes, e) < 0)
		return -1;
	return changes;
}

int db_exec_script(struct db *db, const char *sql, struct err *e)
{
	if (!sql)
		return refuse(e, "bad arguments to db_exec_script", sql);
	if (db->failed)
		return refuse(e, "script in a transaction that already failed",
			      sql);
	struct db_fail f;
	if (db->ops->exec_script(db, sql, &f) < 0)
		return db_fail_report(db, &f, sql, e);
	return 0;
}

/* First column of the first row, then frees r: 1 found, 0 none, -1. */
static int res_first_int(struct db_res *r, int64_t *out, struct err *e)
{
	int found = db_res_next(r);
	if (found)
		*out = db_res_int(r, 0);
	int rc = db_res_error(r, e) < 0 ? -1 : found;
	db_res_free(r);
	return rc;
}

int db_query_int(struct db *db, const char *sql, const struct db_val *params,
		 int nparams, int64_t *out, struct err *e)
{
	struct db_res *r;
	if (db_query(db, sql, params, nparams, &r, e) < 0)
		return -1;
	return res_first_int(r, out, e);
}

int db_ping(struct db *db)
{
	int64_t one = 0;
	struct err e;
	return db_query_int(db, "SELECT 1", DB_NOARGS, &one, &e) == 1 && one == 1
		       ? 0
		       : -1;
}

/* ---- results ---- */

int db_res_next(struct db_res *res)
{
	if (!res || res->failed)
		return 0;
	return res->db->ops->res_next(res);
}

int db_res_ncols(const struct db_res *res)
{
	return res->db->ops->res_ncols(res);
}

const char *db_res_name(const struct db_res *res, int col)
{
	return res->db->ops->res_name(res, col);
}

int db_res_isnull(const struct db_res *res, int col)
{
	return res->db->ops->res_isnull(res, col);
}

int64_t db_res_int(const struct db_res *res, int col)
{
	return res->db->ops->res_int(res, col);
}

const char *db_res_text(const struct db_res *res, int col)
{
	return res->db->ops->res_text(res, col);
}

int db_res_error(const struct db_res *res, struct err *e)
{
	if (!res || !res->failed)
		return 0;
	struct db_fail f = {.kind = res->fail_kind};
	const char *code;
	int status = fail_status(f.kind, &code);
	char msg[sizeof e->msg];
	fail_message(&f, msg, sizeof msg);
	err_set(e, status, code, "%s", msg);
	return -1;
}

void db_res_free(struct db_res *res)
{
	if (!res)
		return;
	res->db->live--;
	res->db->ops->res_free(res);
}

/* ---- transactions ---- */

/* Transaction control bypasses the "failed" rule: it is how one gets out. */
static int tx_run(struct db *db, const char *sql, struct db_fail *f)
{
	int64_t changes;
	return db->ops->query(db, sql, NULL, 0, NULL, &changes, f);
}

static void savepoint_sql(char *out, size_t n, const char *verb, int level)
{
	snprintf(out, n, "%s kefu_sp%d", verb, level);
}

int db_begin(struct db *db, struct err *e)
{
	if (db->failed)
		return refuse(e, "db_begin in a transaction that already failed",
			      NULL);
	char sql[64];
	if (db->depth == 0)
		snprintf(sql, sizeof sql, "%s", db->ops->begin_sql);
	else
		savepoint_sql(sql, sizeof sql, "SAVEPOINT", db->depth + 1);
	if (db->depth == 0 && db->ops->writer_enter)
		db->ops->writer_enter(db);
	struct db_fail f;
	if (tx_run(db, sql, &f) < 0) {
		if (db->depth == 0 && db->ops->writer_leave)
			db->ops->writer_leave(db);
		return db_fail_report(db, &f, sql, e);
	}
	db->depth++;
	return 0;
}

/* Undo the innermost level whatever state it is in.  Errors are only
 * logged: the connection may be gone, and the engine may already have
 * rolled back on its own (SQLite does after some I/O errors). */
static void tx_undo_level(struct db *db)
{
	struct db_fail f;
	char sql[64];
	int broken = 0;
	if (db->depth == 1) {
		if (db->ops->tx_open(db) && tx_run(db, "ROLLBACK", &f) < 0)
			log_warn("db: ROLLBACK failed: %s", f.detail);
	} else if (db->depth > 1) {
		savepoint_sql(sql, sizeof sql, "ROLLBACK TO SAVEPOINT", db->depth);
		broken = tx_run(db, sql, &f) < 0;
		savepoint_sql(sql, sizeof sql, "RELEASE SAVEPOINT", db->depth);
		broken = broken || tx_run(db, sql, &f) < 0;
		if (broken)
			log_warn("db: rollback to savepoint failed: %s", f.detail);
	}
	db->depth--;
	if (db->depth == 0) {
		db->nmarked = 0;
		if (db->ops->writer_leave)
			db->ops->writer_leave(db);
	}
	/* A savepoint that could not be undone leaves the outer levels in an
	 * unknown state: they may only be rolled back too. */
	db->failed = db->depth > 0 && (broken || !db->ops->tx_open(db));
}

static db_precommit_fn commit_pre;
static db_postcommit_fn commit_post;

void db_set_commit_hook(db_precommit_fn pre, db_postcommit_fn post)
{
	commit_pre = pre;
	commit_post = post;
}

void db_tx_mark(struct db *db, int64_t account_id)
{
	for (int i = 0; i < db->nmarked; i++)
		if (db->marked[i] == account_id)
			return;
	/* More accounts in one transaction than slots is not something Kefu
	 * does (one request works in one account); refuse loudly rather than
	 * drop an account's rows. */
	if (db->nmarked == DB_TX_MARKS) {
		log_error("db: more than %d accounts marked in one transaction", DB_TX_MARKS);
		db->failed = 1;
		return;
	}
	db->marked[db->nmarked++] = account_id;
}

/* The outermost level's hook; 0 or -1 (then the caller rolls back). */
static int run_precommit(struct db *db, struct err *e)
{
	if (!db->nmarked || !commit_pre)
		return 0;
	return commit_pre(db, db->marked, db->nmarked, e);
}

int db_commit(struct db *db, struct err *e)
{
	if (db->depth == 0)
		return refuse(e, "db_commit without a transaction", NULL);
	if (db->failed) {
		tx_undo_level(db);
		ERR_INTERNAL(e, "transaction rolled back after an earlier error");
		log_error("db: db_commit of a failed transaction; rolled back");
		return -1;
	}
	char sql[64];
	if (db->depth == 1) {
		if (run_precommit(db, e) < 0) {
			tx_undo_level(db);
			return -1;
		}
		snprintf(sql, sizeof sql, "COMMIT");
	} else {
		savepoint_sql(sql, sizeof sql, "RELEASE SAVEPOINT", db->depth);
	}
	struct db_fail f;
	if (tx_run(db, sql, &f) < 0) {
		db_fail_report(db, &f, sql, e);
		tx_undo_level(db);
		return -1;
	}
	db->depth--;
	if (db->depth > 0)
		return 0;
	if (db->ops->writer_leave)
		db->ops->writer_leave(db);
	if (db->nmarked && commit_post)
		commit_post(db->marked, db->nmarked);
	db->nmarked = 0;
	return 0;
}

void db_rollback(struct db *db)
{
	if (db->depth == 0) {
		log_warn("db: db_rollback without a transaction");
		return;
	}
	tx_undo_level(db);
}

int db_in_tx(const struct db *db)
{
	return db->depth > 0;
}

/* ---- account scoping ---- */

/* "$1" as a whole parameter: "$10" or "$123" do not count. */
static int uses_param1(const char *sql)
{
	for (const char *p = strstr(sql, "$1"); p; p = strstr(p + 2, "$1")) {
		if (p[2] < '0' || p[2] > '9')
			return 1;
	}
	return 0;
}

static int scope_check(const struct scope *s, const char *sql, struct err *e)
{
	if (!s || !s->db || !sql)
		return refuse(e, "scoped query without a scope", sql);
	if (s->account_id <= 0)
		return refuse(e, "scoped query without an account", sql);
	if (!strstr(sql, "account_id") || !uses_param1(sql))
		return refuse(e, "scoped query must filter on account_id = $1",
			      sql);
	return 0;
}

/* Prepends the account id to params.  Small lists (nearly all) live on the
 * caller's stack; *heap is set when a longer one had to be allocated. */
static const struct db_val *scope_params(const struct scope *s,
					 const struct db_val *params, int n,
					 struct db_val *stack, int nstack,
					 struct db_val **heap)
{
	struct db_val *v = stack;
	*heap = NULL;
	if (n + 1 > nstack)
		v = *heap = xmalloc(sizeof *v * (size_t)(n + 1));
	v[0] = DB_INT(s->account_id);
	if (n > 0)
		memcpy(v + 1, params, sizeof *v * (size_t)n);
	return v;
}

int db_sq(const struct scope *s, const char *sql, const struct db_val *params,
	  int nparams, struct db_res **res, struct err *e)
{
	if (res)
		*res = NULL;
	if (scope_check(s, sql, e) < 0)
		return -1;
	if (nparams < 0 || (nparams > 0 && !params))
		return refuse(e, "bad arguments to db_sq", sql);
	struct db_val stack[16], *heap;
	const struct db_val *v = scope_params(s, params, nparams, stack, 16, &heap);
	int rc = db_query(s->db, sql, v, nparams + 1, res, e);
	free(heap);
	return rc;
}

int64_t db_sexec(const struct scope *s, const char *sql,
		 const struct db_val *params, int nparams, struct err *e)
{
	if (scope_check(s, sql, e) < 0)
		return -1;
	if (nparams < 0 || (nparams > 0 && !params))
		return refuse(e, "bad arguments to db_sexec", sql);
	struct db_val stack[16], *heap;
	const struct db_val *v = scope_params(s, params, nparams, stack, 16, &heap);
	int64_t rc = db_exec(s->db, sql, v, nparams + 1, e);
	free(heap);
	return rc;
}

int db_sq_int(const struct scope *s, const char *sql,
	      const struct db_val *params, int nparams, int64_t *out,
	      struct err *e)
{
	struct db_res *r;
	if (db_sq(s, sql, params, nparams, &r, e) < 0)
		return -1;
	return res_first_int(r, out, e);
}

/* ---- notifications ---- */

int db_listen(struct db *db, const char *channel, struct err *e)
{
	if (!db->ops->listen) {
		err_set(e, 501, "unsupported", "this database engine has no notifications");
		return -1;
	}
	struct db_fail f;
	if (db->ops->listen(db, channel, &f) < 0)
		return db_fail_report(db, &f, "LISTEN", e);
	return 0;
}

int db_notify_fd(struct db *db)
{
	return db->ops->notify_fd ? db->ops->notify_fd(db) : -1;
}

int db_notifications(struct db *db, void (*fn)(void *arg, const char *payload),
		     void *arg)
{
	return db->ops->notifications ? db->ops->notifications(db, fn, arg) : 0;
}
