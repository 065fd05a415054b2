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
 * Errors: a unique or foreign-key violation is reported as 409 "conflict",
 * anything else as 500 "internal" (the SQL error text is logged, not sent).
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
/* NULL pointer becomes SQL NULL. */
#define DB_TEXT(v) \
	((struct db_val){.type = (v) ? DB_T_TEXT : DB_T_NULL, .s = (v)})
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

/* Run one statement.  When res is non-NULL and the statement returns rows,
 * *res receives them (caller frees with db_res_free); rows are read with
 * db_res_next.  Returns 0 or -1 with e filled. */
int db_query(struct db *db, const char *sql, const struct db_val *params,
	     int nparams, struct db_res **res, struct err *e);
/* Run one statement, discard rows; returns rows changed (>= 0) or -1. */
int64_t db_exec(struct db *db, const char *sql, const struct db_val *params,
		int nparams, struct err *e);
/* Several ';'-separated statements without parameters (migrations). */
int db_exec_script(struct db *db, const char *sql, struct err *e);
/* First column of the first row as an integer; returns 1 found, 0 no row,
 * -1 error. */
int db_query_int(struct db *db, const char *sql, const struct db_val *params,
		 int nparams, int64_t *out, struct err *e);

/* 1 when a row is available, 0 at the end. */
int db_res_next(struct db_res *res);
int db_res_ncols(const struct db_res *res);
const char *db_res_name(const struct db_res *res, int col);
int db_res_isnull(const struct db_res *res, int col);
int64_t db_res_int(const struct db_res *res, int col);
/* Valid until the next db_res_next/db_res_free; NULL for SQL NULL. */
const char *db_res_text(const struct db_res *res, int col);
void db_res_free(struct db_res *res);

/* Transactions.  db_begin takes the write lock at once on SQLite
 * (BEGIN IMMEDIATE) so two writers never deadlock on lock upgrade. */
int db_begin(struct db *db, struct err *e);
int db_commit(struct db *db, struct err *e);
void db_rollback(struct db *db);
int db_in_tx(const struct db *db);

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

/* ---- migrations (migrate.c) ---- */

/* Apply every migration newer than the database's version, each in its own
 * transaction.  On PostgreSQL an advisory lock serialises concurrent nodes.
 * Returns the number applied or -1. */
int db_migrate(struct db *db, struct err *e);
/* Highest migration compiled into this binary. */
int db_migrations_latest(void);

#endif
