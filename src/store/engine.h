/*
 * engine.h -- the contract between db.c and one database engine (private to
 * src/store/).
 *
 * Owns: struct db_ops (one table of function pointers per engine, in the
 * manner of SQLite's VFS), the common head of a connection and of a result,
 * and struct db_fail, the engine-neutral description of a failed statement.
 *
 * Division of work: an engine only talks to its library -- it binds, runs,
 * steps and classifies errors.  Everything that must behave the same on both
 * engines (transaction nesting, the account-scoping rule, error codes,
 * logging, db_exec/db_query_int) lives once in db.c.
 */
#ifndef KEFU_STORE_ENGINE_H
#define KEFU_STORE_ENGINE_H

#include <stdint.h>

#include "db.h"

/* What went wrong, as far as db.c needs to know to pick an HTTP status. */
enum db_fail_kind {
	DB_F_OTHER,      /* anything else: 500 */
	DB_F_UNIQUE,     /* unique / primary key: 409 */
	DB_F_FOREIGN,    /* foreign key: 409 */
	DB_F_CHECK,      /* CHECK constraint: 409 */
	DB_F_NOTNULL,    /* NOT NULL: 400 (a required value was missing) */
	DB_F_CONSTRAINT, /* another constraint kind: 409 */
	DB_F_MISUSE,     /* wrong parameters or SQL for this API: 500 */
	DB_F_CONN,       /* connection lost or unusable: 500 */
};

struct db_fail {
	enum db_fail_kind kind;
	/* Safe to show a client: table, columns or constraint name -- never
	 * values, which may be personal data. */
	char what[160];
	/* The engine's full message, for the log only. */
	char detail[512];
};

void db_fail_set(struct db_fail *f, enum db_fail_kind kind, const char *what,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Head of every connection; an engine embeds it first in its own struct. */
struct db {
	const struct db_ops *ops;
	int depth;  /* transaction nesting: 0 none, 1 BEGIN, >1 savepoints */
	int failed; /* innermost level hit an error: only rollback allowed */
	int live;   /* results not yet freed (checked at close) */
	/* accounts marked by db_tx_mark in the open transaction */
	int64_t marked[DB_TX_MARKS];
	int nmarked;
};

/* Head of every result. */
struct db_res {
	struct db *db;
	int failed; /* reading stopped on an error (see db_res_error) */
	enum db_fail_kind fail_kind;
};

struct db_ops {
	enum db_engine engine;
	const char *begin_sql; /* outermost BEGIN for this engine */
	/* target: the URL without its scheme for SQLite, the whole URL for
	 * PostgreSQL.  On failure e is filled (the message may name the
	 * target, which the caller has already stripped of passwords). */
	int (*open)(const char *url, struct db **out, struct err *e);
	void (*close)(struct db *db);
	/* One statement.  res NULL: run to completion and store the number of
	 * rows changed in *changes.  res non-NULL: *res receives a result
	 * whose first row (if any) has already been fetched, so that errors
	 * surface here. */
	int (*query)(struct db *db, const char *sql, const struct db_val *p,
		     int n, struct db_res **res, int64_t *changes,
		     struct db_fail *f);
	int (*exec_script)(struct db *db, const char *sql, struct db_fail *f);
	/* 1 while the engine itself has a transaction open. */
	int (*tx_open)(struct db *db);
	/* Optional: called before the outermost BEGIN and after the
	 * transaction ends (commit or rollback).  SQLite queues this process's
	 * writers here rather than in its busy handler, whose sleeps of up to
	 * 100 ms would otherwise decide the tail latency of every write. */
	void (*writer_enter)(struct db *db);
	void (*writer_leave)(struct db *db);
	/* Optional: LISTEN/NOTIFY (see db_listen). */
	int (*listen)(struct db *db, const char *channel, struct db_fail *f);
	int (*notify_fd)(struct db *db);
	int (*notifications)(struct db *db, void (*fn)(void *arg, const char *payload),
			     void *arg);

	int (*res_next)(struct db_res *r);
	int (*res_ncols)(const struct db_res *r);
	const char *(*res_name)(const struct db_res *r, int col);
	int (*res_isnull)(const struct db_res *r, int col);
	int64_t (*res_int)(const struct db_res *r, int col);
	const char *(*res_text)(const struct db_res *r, int col);
	void (*res_free)(struct db_res *r);
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

/* For engines: a row could not be read after db_query returned (SQLite
 * reads lazily).  Records f on the result, logs it and, inside a
 * transaction, marks the transaction failed. */
void db_res_fail(struct db_res *r, const struct db_fail *f);

/* Parses "$N" (N in 1..32767) exactly; returns N or 0. */
int db_param_number(const char *name);

#endif
