/*
 * db.h -- one storage API over SQLite and PostgreSQL.
 *
 * Owns: connections, statements, results, transactions and the account
 * scoping rule.  SQL is written once with $1..$N placeholders and runs on
 * both engines (SQLite accepts "$1" as a parameter name); only DDL in the
 * migrations and full-text search differ per engine.
 *
 * A connection is used by one thread at a time (each worker owns one).
 *
 * Account scoping: domain code queries account-owned tables only through
 * db_sq()/db_sexec(), which take a `struct scope` and bind its account id as
 * $1 themselves; a statement that does not filter on `account_id` with $1 is
 * refused.  A handler therefore cannot forget the tenant filter: an id from
 * account A looked up in account B simply finds no row.
 *
 * Errors: a unique, foreign-key or CHECK violation is reported as 409
 * "conflict" with a message naming the table and columns or the constraint
 * (never the values); a NOT NULL violation as 400 "invalid" (a required
 * value was missing); anything else as 500 "internal" (the SQL error text is
 * logged, not sent).
 *
 * Parameters: $1..$N, each used any number of times and in any order; the
 * number passed must equal the highest $N used.  Ints are 64-bit (bound as
 * BIGINT on PostgreSQL), text is UTF-8.  Parameters need only live for the
 * duration of the call.  Write SQL both engines accept: no "::" casts (use
 * CAST(x AS BIGINT)), no double-quoted string literals (SQLite is opened
 * with them disabled, as PostgreSQL reads them as identifiers).  Text and
 * NULL reach PostgreSQL untyped and take their type from where they are
 * first used ("WHERE id = $2" makes $2 a BIGINT, "5" becomes 5); where the
 * first use says nothing ("$2 IS NULL OR x = $2" with text or NULL) write
 * CAST($2 AS TEXT) IS NULL, or CAST($2 AS BIGINT).
 */
#ifndef KEFU_STORE_DB_H
#define KEFU_STORE_DB_H

#include <stdint.h>

#include "../util/err.h"

struct db;
struct db_res;

enum db_engine { DB_SQLITE, DB_PG };

enum db_type { DB_T_NULL, DB_T_INT, DB_T_TEXT };

struct db_val {
	enum db_type type;
	int64_t i;
	const char *s;
};

#define DB_INT(v) ((struct db_val){.type = DB_T_INT, .i = (int64_t)(v)})
/* NULL pointer becomes SQL NULL.  A function, not a conditional in the
 * macro, so passing an array does not warn "address always true". */
static inline struct db_val db_val_text(const char *s)
{
	return (struct db_val){.type = s ? DB_T_TEXT : DB_T_NULL, .s = s};
}
#define DB_TEXT(v) db_val_text(v)
#define DB_NULLV ((struct db_val){.type = DB_T_NULL})

/* Parameter list for the calls below: DB_ARGS(DB_INT(1), DB_TEXT("x")). */
#define DB_ARGS(...)                                  \
	((const struct db_val[]){__VA_ARGS__}),       \
		(int)(sizeof((const struct db_val[]){__VA_ARGS__}) / \
		      sizeof(struct db_val))
#define DB_NOARGS NULL, 0

/* "sqlite:///abs/path.db", "sqlite://relative.db", "postgres://..." or
 * "postgresql://...".  SQLite connections get WAL, foreign keys and a busy
 * timeout. */
int db_open(const char *url, struct db **out, struct err *e);
void db_close(struct db *db);
enum db_engine db_engine(const struct db *db);
/* Cheap round trip ("SELECT 1"); 0 when the database answers. */
int db_ping(struct db *db);

/* Run one statement.  When res is non-NULL, *res receives its rows (none
 * for a statement without a result) and the caller frees it with
 * db_res_free; rows are read with db_res_next.  The first row is fetched
 * here, so constraint errors of INSERT ... RETURNING are reported by this
 * call.  Several results may be open at once on one connection, and other
 * statements may run while a result is open.  Returns 0 or -1 with e filled
 * (*res is then NULL). */
int db_query(struct db *db, const char *sql, const struct db_val *params,
	     int nparams, struct db_res **res, struct err *e);
/* Run one statement, discard rows; returns rows changed (>= 0) or -1. */
int64_t db_exec(struct db *db, const char *sql, const struct db_val *params,
		int nparams, struct err *e);
/* Several ';'-separated statements without parameters (migrations).  No
 * BEGIN/COMMIT inside: use db_begin/db_commit around it. */
int db_exec_script(struct db *db, const char *sql, struct err *e);
/* First column of the first row as an integer; returns 1 found, 0 no row,
 * -1 error.  SQL NULL reads as 0 (and returns 1): use COALESCE where the
 * difference matters. */
int db_query_int(struct db *db, const char *sql, const struct db_val *params,
		 int nparams, int64_t *out, struct err *e);

/* 1 when a row is available, 0 at the end (or when reading failed, see
 * db_res_error).  A NULL res has no rows. */
int db_res_next(struct db_res *res);
int db_res_ncols(const struct db_res *res);
const char *db_res_name(const struct db_res *res, int col);
int db_res_isnull(const struct db_res *res, int col);
/* SQL NULL reads as 0; on PostgreSQL booleans read as 1/0, as on SQLite. */
int64_t db_res_int(const struct db_res *res, int col);
/* Valid until the next db_res_next/db_res_free; NULL for SQL NULL. */
const char *db_res_text(const struct db_res *res, int col);
/* After db_res_next returned 0: -1 with e filled when it stopped on an error
 * rather than at the end, else 0.  Only SQLite, which reads rows lazily, can
 * fail after db_query succeeded (e.g. an overflow in a later row); code that
 * must not act on a partial list checks this.  Inside a transaction such a
 * failure also fails the transaction. */
int db_res_error(const struct db_res *res, struct err *e);
/* Frees the result (NULL is fine).  Every result must be freed before
 * db_close. */
void db_res_free(struct db_res *res);

/* Transactions.  db_begin takes the write lock at once on SQLite
 * (BEGIN IMMEDIATE) so two writers never deadlock on lock upgrade.
 *
 * Nesting: a db_begin inside a transaction opens a savepoint; its
 * db_commit releases it (the work becomes part of the outer transaction)
 * and its db_rollback undoes only the work since that db_begin.  So a
 * function may always wrap its work in db_begin/db_commit, whether or not
 * its caller already did.
 *
 * A statement that fails inside a transaction fails the innermost level,
 * on both engines (PostgreSQL does so itself; SQLite is made to match):
 * further statements are refused until that level is rolled back.  To try
 * something that may fail (an INSERT that may conflict) and go on, wrap it
 * in a nested db_begin and db_rollback on failure -- or use
 * INSERT ... ON CONFLICT DO NOTHING, which both engines accept.
 *
 * db_commit ends its level whatever happens: when it fails (or the level
 * had already failed) the level is rolled back and -1 returned; do not call
 * db_rollback after it.  db_rollback never fails.  db_close rolls back
 * whatever is still open. */
int db_begin(struct db *db, struct err *e);
int db_commit(struct db *db, struct err *e);
void db_rollback(struct db *db);
int db_in_tx(const struct db *db);

/* Commit hook.  Some rows can only be finished at the very end of the
 * outermost transaction: event ids are taken in commit order (core/events).
 * A module that wrote such rows for an account calls db_tx_mark; the
 * outermost db_commit then calls pre(db, accounts, n) just before COMMIT
 * (a failure there rolls everything back) and post(accounts, n) after a
 * successful COMMIT, e.g. to wake whoever waits for the rows.  One hook pair
 * per process, set once at start-up before any connection is used. */
#define DB_TX_MARKS 8
typedef int (*db_precommit_fn)(struct db *db, const int64_t *accounts, int n,
			       struct err *e);
typedef void (*db_postcommit_fn)(const int64_t *accounts, int n);
void db_set_commit_hook(db_precommit_fn pre, db_postcommit_fn post);
/* Inside a transaction: account's rows need the hook at commit. */
void db_tx_mark(struct db *db, int64_t account_id);

/* ---- notifications between processes (PostgreSQL LISTEN/NOTIFY) ----
 * Give a connection to listening alone: it should run no other statements.
 * On an engine without notifications db_listen fails with 501 and
 * db_notify_fd returns -1. */
int db_listen(struct db *db, const char *channel, struct err *e);
/* The socket to poll(2) for POLLIN, or -1. */
int db_notify_fd(struct db *db);
/* Hand every notification that arrived to fn; returns how many, or -1 when
 * the connection is lost (open a new one and listen again; notifications
 * sent meanwhile are gone, so re-read whatever they stand for). */
int db_notifications(struct db *db, void (*fn)(void *arg, const char *payload),
		     void *arg);

/* ---- account scoping ---- */

struct scope {
	struct db *db;
	int64_t account_id;
};

/* As db_query/db_exec with $1 bound to s->account_id and params as $2.. */
int db_sq(const struct scope *s, const char *sql, const struct db_val *params,
	  int nparams, struct db_res **res, struct err *e);
int64_t db_sexec(const struct scope *s, const char *sql,
		 const struct db_val *params, int nparams, struct err *e);
/* As db_query_int, scoped: 1 found, 0 no row, -1 error. */
int db_sq_int(const struct scope *s, const char *sql,
	      const struct db_val *params, int nparams, int64_t *out,
	      struct err *e);

/* ---- migrations (migrate.c) ---- */

/* Apply every migration newer than the database's version, each in its own
 * transaction.  On PostgreSQL an advisory lock serialises concurrent nodes.
 * Returns the number applied or -1. */
int db_migrate(struct db *db, struct err *e);
/* Highest migration compiled into this binary. */
int db_migrations_latest(void);

#endif
