/*
 * pg.c -- the PostgreSQL engine behind db.h, on libpq.
 *
 * Owns: connecting (application_name "kefu", UTF-8 client encoding),
 * noticing a dead connection before using it and reconnecting once,
 * running one statement with PQexecParams, holding its fully fetched rows,
 * and classifying PostgreSQL errors (by SQLSTATE) into struct db_fail.
 *
 * Does not own: transactions, error codes or the scoping rule (db.c).
 *
 * Parameters are sent as text.  Ints are typed int8 so PostgreSQL can
 * resolve "$1 + 1", "$1 IS NULL" or "LIMIT $2" without casts (SQLite would
 * choke on "::"); text and NULL are sent untyped so PostgreSQL takes the
 * type from the context ("WHERE id = $2" with text "5" works, as on SQLite).
 */
#include "engine.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/log.h"

#define PG_INT8_OID 20 /* catalog/pg_type.h, not in libpq's headers */
#define PG_NUM_LEN 24  /* room for any int64 in decimal */

struct pg_db {
	struct db base;
	PGconn *conn;
	/* Parameter arrays, kept between calls so a query allocates
	 * nothing for its parameters. */
	const char **values;
	Oid *types;
	char *nums;
	int cap;
};

struct pg_res {
	struct db_res base;
	PGresult *r;
	int row; /* -1 before the first db_res_next */
	int nrows;
};

static struct pg_db *pg(struct db *db)
{
	return (struct pg_db *)db;
}

/* libpq's error messages end with a newline (sometimes several lines);
 * the log wants the first line. */
static int first_line(const char *s)
{
	return (int)strcspn(s ? s : "", "\n");
}

/* ---- errors ---- */

static enum db_fail_kind pg_kind(PGconn *conn, const char *state)
{
	if (PQstatus(conn) != CONNECTION_OK)
		return DB_F_CONN;
	if (!state)
		return DB_F_OTHER;
	if (strcmp(state, "23505") == 0)
		return DB_F_UNIQUE;
	if (strcmp(state, "23503") == 0)
		return DB_F_FOREIGN;
	if (strcmp(state, "23514") == 0)
		return DB_F_CHECK;
	if (strcmp(state, "23502") == 0)
		return DB_F_NOTNULL;
	if (strncmp(state, "23", 2) == 0)
		return DB_F_CONSTRAINT;
	/* protocol violation (parameter count), undefined or untypable
	 * parameter: the caller's SQL or arguments are wrong */
	if (!strcmp(state, "08P01") || !strcmp(state, "42P02") ||
	    !strcmp(state, "42P08") || !strcmp(state, "42P18"))
		return DB_F_MISUSE;
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0)
		return DB_F_CONN;
	return DB_F_OTHER;
}

/* "Key (account_id, email)=(7, a@b) already exists." -> "(account_id,
 * email)": the columns, without the values. */
static int key_columns(const char *detail, const char **start)
{
	if (!detail || strncmp(detail, "Key (", 5) != 0)
		return 0;
	const char *end = strstr(detail, ")=(");
	if (!end)
		return 0;
	*start = detail + 4;
	return (int)(end + 1 - *start);
}

static void pg_what(const PGresult *r, enum db_fail_kind kind, char *out,
		    size_t n)
{
	const char *table = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
	const char *cons = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	const char *col = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
	const char *cols = NULL;
	int len = key_columns(PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL),
			      &cols);
	if (kind == DB_F_UNIQUE && table && len > 0)
		snprintf(out, n, "%s%.*s", table, len, cols);
	else if (kind == DB_F_NOTNULL && table && col)
		snprintf(out, n, "%s(%s)", table, col);
	else
		snprintf(out, n, "%s", cons ? cons : "");
}

static int pg_fail(struct pg_db *d, const PGresult *r, struct db_fail *f)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
			    : NULL;
	if (!msg)
		msg = PQerrorMessage(d->conn);
	enum db_fail_kind kind = pg_kind(d->conn, state);
	char what[sizeof f->what] = "";
	if (r && kind != DB_F_OTHER && kind != DB_F_CONN)
		pg_what(r, kind, what, sizeof what);
	db_fail_set(f, kind, what, "postgres %s: %.*s", state ? state : "-",
		    first_line(msg), msg);
	return -1;
}

/* ---- connection health ---- */

static void pg_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("postgres: %.*s", first_line(msg), msg);
}

/* An idle connection has nothing to read.  If it has, the server has
 * probably said goodbye (restart, pg_terminate_backend) and closed the
 * socket; reading it now lets libpq notice, so the query is sent on a
 * fresh connection instead of failing.  One poll(2), no round trip. */
static void pg_probe(struct pg_db *d)
{
	struct pollfd p = {.fd = PQsocket(d->conn), .events = POLLIN};
	if (p.fd < 0)
		return;
	for (int i = 0; i < 4 && poll(&p, 1, 0) > 0; i++) {
		if (!PQconsumeInput(d->conn))
			return;
		PGnotify *n;
		while ((n = PQnotifies(d->conn)))
			PQfreemem(n);
	}
}

/* Makes the connection usable, reconnecting once if it was lost -- but
 * never inside a transaction, whose work died with the old connection. */
static int pg_ready(struct pg_db *d, struct db_fail *f)
{
	if (d->base.depth == 0 && PQstatus(d->conn) == CONNECTION_OK)
		pg_probe(d);
	if (PQstatus(d->conn) == CONNECTION_OK)
		return 0;
	if (d->base.depth > 0) {
		db_fail_set(f, DB_F_CONN, NULL, "postgres: connection lost "
			    "inside a transaction");
		return -1;
	}
	log_warn("postgres: connection lost; reconnecting");
	PQreset(d->conn);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		const char *m = PQerrorMessage(d->conn);
		db_fail_set(f, DB_F_CONN, NULL, "postgres: reconnect failed: %.*s",
			    first_line(m), m);
		return -1;
	}
	log_info("postgres: reconnected");
	return 0;
}

/* ---- statements ---- */

static void pg_params(struct pg_db *d, const struct db_val *p, int n)
{
	if (n > d->cap) {
		int cap = n < 16 ? 16 : n;
		d->values = xrealloc(d->values, sizeof *d->values * (size_t)cap);
		d->types = xrealloc(d->types, sizeof *d->types * (size_t)cap);
		d->nums = xrealloc(d->nums, PG_NUM_LEN * (size_t)cap);
		d->cap = cap;
	}
	for (int i = 0; i < n; i++) {
		char *num = d->nums + (size_t)i * PG_NUM_LEN;
		d->types[i] = 0;
		d->values[i] = NULL;
		if (p[i].type == DB_T_INT) {
			snprintf(num, PG_NUM_LEN, "%" PRId64, p[i].i);
			d->values[i] = num;
			d->types[i] = PG_INT8_OID;
		} else if (p[i].type == DB_T_TEXT) {
			d->values[i] = p[i].s;
		}
	}
}

/* Rows changed, as SQLite counts them: only INSERT, UPDATE, DELETE (and
 * MERGE); a SELECT's row count is not a change. */
static int64_t pg_changes(PGresult *r)
{
	static const char *const dml[] = {"INSERT", "UPDATE", "DELETE", "MERGE"};
	const char *tag = PQcmdStatus(r);
	for (size_t i = 0; i < sizeof dml / sizeof *dml; i++) {
		if (strncmp(tag, dml[i], strlen(dml[i])) == 0)
			return strtoll(PQcmdTuples(r), NULL, 10);
	}
	return 0;
}

static int pg_ok(PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	return r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

static int pg_query(struct db *db, const char *sql, const struct db_val *p,
		    int n, struct db_res **res, int64_t *changes,
		    struct db_fail *f)
{
	struct pg_db *d = pg(db);
	if (pg_ready(d, f) < 0)
		return -1;
	pg_params(d, p, n);
	PGresult *r = PQexecParams(d->conn, sql, n, d->types, d->values, NULL,
				   NULL, 0);
	if (!pg_ok(r)) {
		pg_fail(d, r, f);
		PQclear(r);
		return -1;
	}
	if (!res) {
		*changes = pg_changes(r);
		PQclear(r);
		return 0;
	}
	struct pg_res *pr = xcalloc(1, sizeof *pr);
	pr->base.db = db;
	pr->r = r;
	pr->row = -1;
	pr->nrows = PQntuples(r);
	*res = &pr->base;
	return 0;
}

static int pg_exec_script(struct db *db, const char *sql, struct db_fail *f)
{
	struct pg_db *d = pg(db);
	if (pg_ready(d, f) < 0)
		return -1;
	PGresult *r = PQexec(d->conn, sql);
	int ok = pg_ok(r) || PQresultStatus(r) == PGRES_EMPTY_QUERY;
	if (!ok)
		pg_fail(d, r, f);
	PQclear(r);
	return ok ? 0 : -1;
}

static int pg_tx_open(struct db *db)
{
	PGTransactionStatusType st = PQtransactionStatus(pg(db)->conn);
	return st == PQTRANS_INTRANS || st == PQTRANS_INERROR ||
	       st == PQTRANS_ACTIVE;
}

/* ---- results ---- */

static const struct pg_res *pr(const struct db_res *r)
{
	return (const struct pg_res *)r;
}

static int pg_res_next(struct db_res *res)
{
	struct pg_res *r = (struct pg_res *)res;
	if (r->row < r->nrows)
		r->row++;
	return r->row < r->nrows;
}

static int pg_res_ncols(const struct db_res *r)
{
	return PQnfields(pr(r)->r);
}

static const char *pg_res_name(const struct db_res *r, int col)
{
	return PQfname(pr(r)->r, col);
}

static int on_row(const struct pg_res *r)
{
	return r->row >= 0 && r->row < r->nrows;
}

static int pg_res_isnull(const struct db_res *res, int col)
{
	const struct pg_res *r = pr(res);
	return !on_row(r) || PQgetisnull(r->r, r->row, col);
}

static const char *pg_res_text(const struct db_res *res, int col)
{
	const struct pg_res *r = pr(res);
	if (pg_res_isnull(res, col))
		return NULL;
	return PQgetvalue(r->r, r->row, col);
}

/* Everything arrives as text.  Booleans ("t"/"f", e.g. from EXISTS) read
 * as 1/0 as they do on SQLite; numerics ("2.50") are truncated, as
 * sqlite3_column_int64 does. */
static int64_t pg_res_int(const struct db_res *res, int col)
{
	const char *s = pg_res_text(res, col);
	if (!s)
		return 0;
	if (s[0] == 't' && !s[1])
		return 1;
	return strtoll(s, NULL, 10);
}

static void pg_res_free(struct db_res *res)
{
	PQclear(pr(res)->r);
	free(res);
}

/* ---- connections ---- */

static int pg_open(const char *url, struct db **out, struct err *e)
{
	/* Keywords before "dbname" are defaults the URL may override; the
	 * ones after it are imposed (Kefu's strings are UTF-8). */
	static const char *const keys[] = {"connect_timeout",
		"fallback_application_name", "dbname", "client_encoding", NULL};
	const char *vals[] = {"10", "kefu", url, "UTF8", NULL};
	PGconn *conn = PQconnectdbParams(keys, vals, 1);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		const char *m = conn ? PQerrorMessage(conn) : "out of memory";
		ERR_INTERNAL(e, "cannot connect to PostgreSQL: %.*s",
			     first_line(m), m);
		PQfinish(conn);
		return -1;
	}
	PQsetNoticeProcessor(conn, pg_notice, NULL);
	struct pg_db *d = xcalloc(1, sizeof *d);
	d->conn = conn;
	*out = &d->base;
	return 0;
}

static void pg_close(struct db *db)
{
	struct pg_db *d = pg(db);
	PQfinish(d->conn);
	free(d->values);
	free(d->types);
	free(d->nums);
	free(d);
}

/* ---- LISTEN/NOTIFY ---- */

static int pg_listen(struct db *db, const char *channel, struct db_fail *f)
{
	struct pg_db *d = pg(db);
	char *id = PQescapeIdentifier(d->conn, channel, strlen(channel));
	if (!id) {
		db_fail_set(f, DB_F_OTHER, NULL, "postgres: bad channel name");
		return -1;
	}
	char sql[160];
	snprintf(sql, sizeof sql, "LISTEN %s", id);
	PQfreemem(id);
	int64_t changes;
	return pg_query(db, sql, NULL, 0, NULL, &changes, f);
}

static int pg_notify_fd(struct db *db)
{
	return PQsocket(pg(db)->conn);
}

static int pg_notifications(struct db *db, void (*fn)(void *arg, const char *payload),
			    void *arg)
{
	struct pg_db *d = pg(db);
	if (!PQconsumeInput(d->conn) || PQstatus(d->conn) != CONNECTION_OK)
		return -1;
	int n = 0;
	PGnotify *nt;
	while ((nt = PQnotifies(d->conn))) {
		fn(arg, nt->extra);
		PQfreemem(nt);
		n++;
	}
	return n;
}

const struct db_ops db_pg_ops = {
	.engine = DB_PG,
	.begin_sql = "BEGIN",
	.open = pg_open,
	.close = pg_close,
	.query = pg_query,
	.exec_script = pg_exec_script,
	.tx_open = pg_tx_open,
	.res_next = pg_res_next,
	.res_ncols = pg_res_ncols,
	.res_name = pg_res_name,
	.res_isnull = pg_res_isnull,
	.res_int = pg_res_int,
	.res_text = pg_res_text,
	.res_free = pg_res_free,
	.listen = pg_listen,
	.notify_fd = pg_notify_fd,
	.notifications = pg_notifications,
};
