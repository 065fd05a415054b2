/*
 * test_store.c -- the storage layer (src/store) on both engines.
 *
 * Every case runs twice: on SQLite (a file under /tmp, removed afterwards)
 * and on PostgreSQL in a database of its own (kefu_store_test_<pid>, created
 * through the server named by the file $KEFU_TEST_PG_ENV and dropped
 * afterwards).  Each case starts from a freshly migrated, empty schema (or
 * an empty database for the migration case).  Without a configured
 * PostgreSQL the PG half says so and is skipped -- or fails when
 * KEFU_REQUIRE_PG=1 (CI), so a missing server cannot pass unnoticed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/db.h"
#include "store/migrations.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- engines and fixtures ---- */

struct engine_env {
	enum db_engine engine;
	char url[600];   /* the test database */
	char admin[600]; /* PostgreSQL: the server's own database */
	char path[300];  /* SQLite: the file */
};

static struct engine_env sqlite_env = {.engine = DB_SQLITE};
static struct engine_env pg_env = {.engine = DB_PG};
static const struct engine_env *cur; /* the group being run */

static const char *const tables[] = {
	"accounts", "roles", "users", "teams", "team_members", "sessions",
	"api_tokens", "audit_heads", "audit_log", "schema_migrations",
};

static void sqlite_remove_files(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
	char p[400];
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		unlink(p);
	}
}

static struct db *open_or_die(const char *url)
{
	struct db *db = NULL;
	struct err e = {0};
	if (db_open(url, &db, &e) < 0)
		fail_msg("db_open(%s): %s", url, e.msg);
	return db;
}

static void exec_or_die(struct db *db, const char *sql)
{
	struct err e = {0};
	if (db_exec_script(db, sql, &e) < 0)
		fail_msg("%s: %s", sql, e.msg);
}

/* An empty database: a new SQLite file, or an emptied public schema. */
static struct db *open_empty(void)
{
	if (cur->engine == DB_SQLITE)
		sqlite_remove_files(cur->path);
	struct db *db = open_or_die(cur->url);
	if (cur->engine == DB_PG)
		exec_or_die(db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	return db;
}

static int setup_empty(void **state)
{
	*state = open_empty();
	return 0;
}

static int setup_migrated(void **state)
{
	struct db *db = open_empty();
	struct err e = {0};
	if (db_migrate(db, &e) < 0)
		fail_msg("db_migrate: %s", e.msg);
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	struct db *db = *state;
	assert_int_equal(db_in_tx(db), 0);
	db_close(db);
	return 0;
}

static int group_sqlite_setup(void **state)
{
	(void)state;
	snprintf(sqlite_env.path, sizeof sqlite_env.path,
		 "/tmp/kefu_store_test_%d.db", (int)getpid());
	snprintf(sqlite_env.url, sizeof sqlite_env.url, "sqlite://%s",
		 sqlite_env.path);
	cur = &sqlite_env;
	return 0;
}

static int group_sqlite_teardown(void **state)
{
	(void)state;
	sqlite_remove_files(sqlite_env.path);
	return 0;
}

/* The admin URL with its database name replaced. */
static void pg_url_with_db(const char *admin, const char *name, char *out,
			   size_t n)
{
	const char *host = strstr(admin, "://");
	const char *slash = host ? strchr(host + 3, '/') : NULL;
	size_t head = slash ? (size_t)(slash - admin) : strcspn(admin, "?");
	const char *query = strchr(admin + head, '?');
	snprintf(out, n, "%.*s/%s%s", (int)head, admin, name,
		 query ? query : "");
}

/* KEFU_TEST_PG_URL from the file named by KEFU_TEST_PG_ENV; 0 when found. */
static int pg_configured(char *url, size_t n)
{
	const char *envfile = getenv("KEFU_TEST_PG_ENV");
	FILE *f = envfile ? fopen(envfile, "r") : NULL;
	if (!f)
		return -1;
	char line[700];
	int rc = -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "KEFU_TEST_PG_URL=", 17) == 0) {
			line[strcspn(line, "\r\n")] = '\0';
			snprintf(url, n, "%s", line + 17);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

static void pg_admin_exec(const char *sql)
{
	struct db *db = open_or_die(pg_env.admin);
	exec_or_die(db, sql);
	db_close(db);
}

static char pg_dbname[64];

static int group_pg_setup(void **state)
{
	(void)state;
	char sql[200];
	snprintf(pg_dbname, sizeof pg_dbname, "kefu_store_test_%d",
		 (int)getpid());
	pg_url_with_db(pg_env.admin, pg_dbname, pg_env.url, sizeof pg_env.url);
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", pg_dbname);
	pg_admin_exec(sql);
	snprintf(sql, sizeof sql, "CREATE DATABASE %s", pg_dbname);
	pg_admin_exec(sql);
	cur = &pg_env;
	return 0;
}

static int group_pg_teardown(void **state)
{
	(void)state;
	char sql[200];
	snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)",
		 pg_dbname);
	pg_admin_exec(sql);
	return 0;
}

/* ---- helpers ---- */

static int64_t now(void)
{
	return clock_now_ms();
}

static int64_t add_account(struct db *db, const char *slug, const char *name)
{
	int64_t id = 0;
	struct err e = {0};
	int rc = db_query_int(db, "INSERT INTO accounts (slug, name, created_at, "
			      "updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
			      DB_ARGS(DB_TEXT(slug), DB_TEXT(name), DB_INT(now())),
			      &id, &e);
	if (rc != 1)
		fail_msg("add_account(%s): %s", slug, e.msg);
	return id;
}

static int64_t add_role(struct db *db, int64_t account, const char *name)
{
	struct scope s = {db, account};
	struct db_res *r;
	struct err e = {0};
	if (db_sq(&s, "INSERT INTO roles (account_id, name, permissions, "
		  "data_scope, created_at, updated_at) VALUES ($1, $2, '[]', "
		  "'all', $3, $3) RETURNING id",
		  DB_ARGS(DB_TEXT(name), DB_INT(now())), &r, &e) < 0)
		fail_msg("add_role(%s): %s", name, e.msg);
	assert_int_equal(db_res_next(r), 1);
	int64_t id = db_res_int(r, 0);
	db_res_free(r);
	return id;
}

static int64_t add_user(struct db *db, int64_t account, int64_t role,
			const char *email)
{
	int64_t id = 0;
	struct err e = {0};
	if (db_query_int(db, "INSERT INTO users (account_id, email, name, "
			 "role_id, created_at, updated_at) VALUES ($1, $2, $2, "
			 "$3, $4, $4) RETURNING id",
			 DB_ARGS(DB_INT(account), DB_TEXT(email), DB_INT(role),
				 DB_INT(now())), &id, &e) != 1)
		fail_msg("add_user(%s): %s", email, e.msg);
	return id;
}

static int64_t count_rows(struct db *db, const char *table)
{
	char sql[200];
	int64_t n = -1;
	struct err e = {0};
	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	if (db_query_int(db, sql, DB_NOARGS, &n, &e) != 1)
		fail_msg("%s: %s", sql, e.msg);
	return n;
}

static int64_t query_int(struct db *db, const char *sql)
{
	int64_t v = -1;
	struct err e = {0};
	if (db_query_int(db, sql, DB_NOARGS, &v, &e) != 1)
		fail_msg("%s: %s", sql, e.msg);
	return v;
}

static void assert_err(const struct err *e, int status, const char *code)
{
	if (e->status != status || strcmp(e->code, code) != 0)
		fail_msg("expected %d %s, got %d %s: %s", status, code,
			 e->status, e->code, e->msg);
}

/* ---- migrations ---- */

static void t_migrate_from_empty(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	assert_true(migrations_count >= 1);
	assert_int_equal(db_migrations_latest(),
			 migrations[migrations_count - 1].version);
	assert_int_equal(db_migrate(db, &e), migrations_count);
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
		int64_t want = strcmp(tables[i], "schema_migrations") == 0
				       ? migrations_count
				       : 0;
		assert_int_equal(count_rows(db, tables[i]), want);
	}
	struct db_res *r;
	assert_int_equal(db_query(db, "SELECT version, name, applied_at FROM "
				  "schema_migrations ORDER BY version",
				  DB_NOARGS, &r, &e), 0);
	for (int i = 0; i < migrations_count; i++) {
		assert_int_equal(db_res_next(r), 1);
		assert_int_equal(db_res_int(r, 0), migrations[i].version);
		assert_string_equal(db_res_text(r, 1), migrations[i].name);
		assert_true(db_res_int(r, 2) > 1700000000000);
	}
	assert_int_equal(db_res_next(r), 0);
	db_res_free(r);
	/* Again: nothing to do. */
	assert_int_equal(db_migrate(db, &e), 0);
	/* Not inside a transaction. */
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(db_migrate(db, &e), -1);
	db_rollback(db);
}

static void t_migrate_newer_schema(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	assert_int_equal(db_exec(db, "INSERT INTO schema_migrations (version, "
				 "name, applied_at) VALUES ($1, 'future', 0)",
				 DB_ARGS(DB_INT(db_migrations_latest() + 1)), &e),
			 1);
	assert_int_equal(db_migrate(db, &e), 0);
}

/* ---- parameters and values ---- */

static void t_params_types(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct db_res *r;
	assert_int_equal(db_query(db, "SELECT $1 AS i, $2 AS t, $3 AS n, $4 AS "
				  "max, $5 AS min, $6 AS empty",
				  DB_ARGS(DB_INT(42), DB_TEXT("hi"), DB_NULLV,
					  DB_INT(INT64_MAX), DB_INT(INT64_MIN),
					  DB_TEXT("")), &r, &e), 0);
	assert_int_equal(db_res_ncols(r), 6);
	assert_string_equal(db_res_name(r, 0), "i");
	assert_string_equal(db_res_name(r, 5), "empty");
	assert_int_equal(db_res_next(r), 1);
	assert_int_equal(db_res_int(r, 0), 42);
	assert_string_equal(db_res_text(r, 0), "42");
	assert_false(db_res_isnull(r, 0));
	assert_string_equal(db_res_text(r, 1), "hi");
	assert_true(db_res_isnull(r, 2));
	assert_null(db_res_text(r, 2));
	assert_int_equal(db_res_int(r, 2), 0);
	assert_true(db_res_int(r, 3) == INT64_MAX);
	assert_true(db_res_int(r, 4) == INT64_MIN);
	assert_false(db_res_isnull(r, 5));
	assert_string_equal(db_res_text(r, 5), "");
	assert_int_equal(db_res_next(r), 0);
	db_res_free(r);

	const char *no = NULL;
	assert_int_equal(db_query(db, "SELECT $1", DB_ARGS(DB_TEXT(no)), &r, &e),
			 0);
	assert_int_equal(db_res_next(r), 1);
	assert_true(db_res_isnull(r, 0));
	db_res_free(r);
}

static void t_params_order_and_reuse(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct db_res *r;
	assert_int_equal(db_query(db, "SELECT $2 AS second, $1 AS first",
				  DB_ARGS(DB_INT(1), DB_TEXT("two")), &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_string_equal(db_res_text(r, 0), "two");
	assert_int_equal(db_res_int(r, 1), 1);
	db_res_free(r);

	int64_t v = 0;
	assert_int_equal(db_query_int(db, "SELECT $1 + $1 + 1",
				      DB_ARGS(DB_INT(5000000000)), &v, &e), 1);
	assert_true(v == 10000000001);
	assert_int_equal(db_query_int(db, "SELECT CASE WHEN $1 IS NULL THEN 1 "
				      "ELSE 0 END", DB_ARGS(DB_INT(3)), &v, &e), 1);
	assert_int_equal(v, 0);
	/* Too few parameters is an error on both engines. */
	assert_int_equal(db_query_int(db, "SELECT $1 + $2", DB_ARGS(DB_INT(1)),
				      &v, &e), -1);
	assert_err(&e, 500, "internal");
}

static void t_params_columns(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t id = add_account(db, "acme", "Acme");
	add_account(db, "beta", "Beta");
	struct db_res *r;
	/* An int, or text holding digits, against a BIGINT column. */
	struct db_val ids[] = {DB_INT(id), DB_TEXT("1")};
	char idtext[24];
	snprintf(idtext, sizeof idtext, "%lld", (long long)id);
	ids[1] = DB_TEXT(idtext);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(db_query(db, "SELECT slug FROM accounts WHERE "
					  "id = $1", &ids[i], 1, &r, &e), 0);
		assert_int_equal(db_res_next(r), 1);
		assert_string_equal(db_res_text(r, 0), "acme");
		db_res_free(r);
	}
	assert_int_equal(db_query(db, "SELECT slug FROM accounts ORDER BY id "
				  "LIMIT $1 OFFSET $2",
				  DB_ARGS(DB_INT(1), DB_INT(1)), &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_string_equal(db_res_text(r, 0), "beta");
	assert_int_equal(db_res_next(r), 0);
	db_res_free(r);
	/* Optional filter: NULL means "any".  PostgreSQL types an untyped
	 * parameter at its first use, which "$1 IS NULL" cannot do: CAST,
	 * which both engines accept, names the type. */
	int64_t n = 0;
	const char *sql = "SELECT count(*) FROM accounts WHERE (CAST($1 AS "
			  "BIGINT) IS NULL OR id = $1)";
	assert_int_equal(db_query_int(db, sql, DB_ARGS(DB_NULLV), &n, &e), 1);
	assert_int_equal(n, 2);
	assert_int_equal(db_query_int(db, sql, DB_ARGS(DB_INT(id)), &n, &e), 1);
	assert_int_equal(n, 1);
	sql = "SELECT count(*) FROM accounts WHERE (CAST($1 AS TEXT) IS NULL OR "
	      "slug = $1)";
	assert_int_equal(db_query_int(db, sql, DB_ARGS(DB_NULLV), &n, &e), 1);
	assert_int_equal(n, 2);
	assert_int_equal(db_query_int(db, sql, DB_ARGS(DB_TEXT("beta")), &n, &e),
			 1);
	assert_int_equal(n, 1);
	/* Ints are typed, so they need no CAST. */
	assert_int_equal(db_query_int(db, "SELECT count(*) FROM accounts WHERE "
				      "($1 IS NULL OR id = $1)",
				      DB_ARGS(DB_INT(id)), &n, &e), 1);
	assert_int_equal(n, 1);
}

static void t_params_sqlite_spelling(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t v;
	assert_int_equal(db_engine(db), DB_SQLITE);
	/* SQLite would read "$1::bigint" as one parameter name and "?" as
	 * positional: refused, so such SQL never reaches PostgreSQL. */
	assert_int_equal(db_query_int(db, "SELECT $1::bigint",
				      DB_ARGS(DB_INT(1)), &v, &e), -1);
	assert_int_equal(db_query_int(db, "SELECT ?", DB_ARGS(DB_INT(1)), &v,
				      &e), -1);
	assert_int_equal(db_query_int(db, "SELECT :x", DB_ARGS(DB_INT(1)), &v,
				      &e), -1);
	/* More parameters than the statement uses: a caller's bug. */
	assert_int_equal(db_query_int(db, "SELECT $1",
				      DB_ARGS(DB_INT(1), DB_INT(2)), &v, &e), -1);
	assert_err(&e, 500, "internal");
}

/* ---- statements ---- */

static void t_returning_id(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t a = add_account(db, "a", "A");
	int64_t b = add_account(db, "b", "B");
	assert_true(a > 0);
	assert_true(b > a);
	struct db_res *r;
	assert_int_equal(db_query(db, "INSERT INTO accounts (slug, name, "
				  "created_at, updated_at) VALUES ($1, $1, 0, 0) "
				  "RETURNING id, slug", DB_ARGS(DB_TEXT("c")), &r,
				  &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_true(db_res_int(r, 0) > b);
	assert_string_equal(db_res_name(r, 1), "slug");
	assert_string_equal(db_res_text(r, 1), "c");
	assert_int_equal(db_res_next(r), 0);
	db_res_free(r);
	/* A statement without rows still gives an (empty) result. */
	assert_int_equal(db_query(db, "UPDATE accounts SET name = 'x' WHERE "
				  "id = $1", DB_ARGS(DB_INT(a)), &r, &e), 0);
	assert_int_equal(db_res_next(r), 0);
	db_res_free(r);
	assert_int_equal(count_rows(db, "accounts"), 3);
}

static void t_exec_changes(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	add_account(db, "a", "A");
	add_account(db, "b", "B");
	add_account(db, "c", "C");
	assert_int_equal(db_exec(db, "UPDATE accounts SET updated_at = $1",
				 DB_ARGS(DB_INT(1)), &e), 3);
	assert_int_equal(db_exec(db, "UPDATE accounts SET updated_at = 2 WHERE "
				 "slug = $1", DB_ARGS(DB_TEXT("zz")), &e), 0);
	assert_int_equal(db_exec(db, "SELECT * FROM accounts", DB_NOARGS, &e), 0);
	assert_int_equal(db_exec(db, "DELETE FROM accounts WHERE slug = $1",
				 DB_ARGS(DB_TEXT("a")), &e), 1);
	/* Not the previous DELETE's count. */
	assert_int_equal(db_exec(db, "CREATE TABLE scratch (x BIGINT)",
				 DB_NOARGS, &e), 0);
	assert_int_equal(db_exec(db, "INSERT INTO scratch (x) SELECT id FROM "
				 "accounts", DB_NOARGS, &e), 2);
	assert_int_equal(db_exec(db, "INSERT INTO scratch (x) VALUES (1) "
				 "RETURNING x", DB_NOARGS, &e), 1);
}

static void t_multiple_statements_refused(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	assert_int_equal(db_exec(db, "UPDATE accounts SET name = 'a'; "
				 "DELETE FROM accounts", DB_NOARGS, &e), -1);
	assert_err(&e, 500, "internal");
	assert_int_equal(db_exec(db, "SELECT nonsense FROM nowhere", DB_NOARGS,
				 &e), -1);
	assert_err(&e, 500, "internal");
	assert_null(strstr(e.msg, "nowhere")); /* SQL errors are not shown */
	/* Scripts may hold several statements. */
	assert_int_equal(db_exec_script(db, "CREATE TABLE s1 (x BIGINT); "
					"INSERT INTO s1 VALUES (1); "
					"INSERT INTO s1 VALUES (2);", &e), 0);
	assert_int_equal(count_rows(db, "s1"), 2);
	assert_int_equal(db_exec_script(db, "INSERT INTO s1 VALUES (3); "
					"INSERT INTO nowhere VALUES (1)", &e), -1);
}

static void t_query_int(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t v = 77;
	assert_int_equal(db_query_int(db, "SELECT id FROM accounts WHERE slug "
				      "= $1", DB_ARGS(DB_TEXT("none")), &v, &e), 0);
	assert_int_equal(v, 77); /* untouched */
	int64_t id = add_account(db, "one", "One");
	assert_int_equal(db_query_int(db, "SELECT id FROM accounts WHERE slug "
				      "= $1", DB_ARGS(DB_TEXT("one")), &v, &e), 1);
	assert_true(v == id);
	assert_int_equal(db_query_int(db, "SELECT NULL", DB_NOARGS, &v, &e), 1);
	assert_int_equal(v, 0);
	assert_int_equal(db_query_int(db, "SELECT max(id) FROM accounts WHERE "
				      "id < 0", DB_NOARGS, &v, &e), 1);
	assert_int_equal(v, 0);
	/* EXISTS is a boolean on PostgreSQL, an int on SQLite: both read 1. */
	assert_int_equal(db_query_int(db, "SELECT EXISTS (SELECT 1 FROM "
				      "accounts)", DB_NOARGS, &v, &e), 1);
	assert_int_equal(v, 1);
	assert_int_equal(db_query_int(db, "SELECT EXISTS (SELECT 1 FROM "
				      "accounts WHERE id < 0)", DB_NOARGS, &v,
				      &e), 1);
	assert_int_equal(v, 0);
	assert_int_equal(db_query_int(db, "SELECT id FROM nowhere", DB_NOARGS,
				      &v, &e), -1);
	assert_err(&e, 500, "internal");
	assert_int_equal(db_ping(db), 0);
}

/* A later row fails after db_query succeeded: SQLite (lazy) reports it
 * through db_res_error, PostgreSQL (fetches everything) from db_query. */
static void t_row_error(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct db_res *r;
	const char *sql = "WITH t(v) AS (VALUES (1), (-9223372036854775807 - 1)) "
			  "SELECT abs(v) FROM t";
	for (int in_tx = 0; in_tx < 2; in_tx++) {
		if (in_tx)
			assert_int_equal(db_begin(db, &e), 0);
		int rc = db_query(db, sql, DB_NOARGS, &r, &e);
		if (cur->engine == DB_PG) {
			assert_int_equal(rc, -1);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(db_res_next(r), 1);
			assert_int_equal(db_res_int(r, 0), 1);
			assert_int_equal(db_res_next(r), 0);
			assert_int_equal(db_res_next(r), 0);
			assert_int_equal(db_res_error(r, &e), -1);
			db_res_free(r);
		}
		assert_err(&e, 500, "internal");
		if (in_tx) /* the transaction failed with it */
			assert_int_equal(db_commit(db, &e), -1);
	}
	assert_int_equal(db_in_tx(db), 0);
	assert_int_equal(db_query(db, "SELECT 1", DB_NOARGS, &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_int_equal(db_res_next(r), 0);
	assert_int_equal(db_res_error(r, &e), 0);
	db_res_free(r);
}

/* ---- errors and constraints ---- */

static void t_unique_conflict(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t a = add_account(db, "acme", "Acme");
	assert_int_equal(db_exec(db, "INSERT INTO accounts (slug, name, "
				 "created_at, updated_at) VALUES ($1, $2, 0, 0)",
				 DB_ARGS(DB_TEXT("acme"), DB_TEXT("Other")), &e),
			 -1);
	assert_err(&e, 409, "conflict");
	assert_non_null(strstr(e.msg, "accounts(slug)"));
	assert_null(strstr(e.msg, "acme")); /* no values in messages */
	assert_int_equal(count_rows(db, "accounts"), 1);
	struct db_res *r;
	assert_int_equal(db_query(db, "SELECT name FROM accounts WHERE id = $1",
				  DB_ARGS(DB_INT(a)), &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_string_equal(db_res_text(r, 0), "Acme");
	db_res_free(r);
	/* With RETURNING the error comes from db_query itself. */
	assert_int_equal(db_query(db, "INSERT INTO accounts (slug, name, "
				  "created_at, updated_at) VALUES ('acme', 'x', 0, "
				  "0) RETURNING id", DB_NOARGS, &r, &e), -1);
	assert_null(r);
	assert_err(&e, 409, "conflict");
	/* Composite keys are named by their columns on both engines. */
	add_role(db, a, "agent");
	assert_int_equal(db_exec(db, "INSERT INTO roles (account_id, name, "
				 "permissions, data_scope, created_at, updated_at) "
				 "VALUES ($1, 'agent', '[]', 'own', 0, 0)",
				 DB_ARGS(DB_INT(a)), &e), -1);
	assert_err(&e, 409, "conflict");
	assert_non_null(strstr(e.msg, "roles(account_id, name)"));
}

static void t_constraints_0001(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t a = add_account(db, "a", "A");
	const char *role_sql = "INSERT INTO roles (account_id, name, permissions,"
			       " data_scope, created_at, updated_at) VALUES ($1, "
			       "$2, '[]', $3, 0, 0)";
	assert_int_equal(db_exec(db, role_sql, DB_ARGS(DB_INT(a), DB_TEXT("r1"),
				 DB_TEXT("everyone")), &e), -1);
	assert_err(&e, 409, "conflict");
	assert_non_null(strstr(e.msg, "data_scope"));
	for (int i = 0; i < 3; i++) {
		static const char *const ok[] = {"own", "team", "all"};
		char name[8];
		snprintf(name, sizeof name, "r%d", i);
		assert_int_equal(db_exec(db, role_sql, DB_ARGS(DB_INT(a),
					 DB_TEXT(name), DB_TEXT(ok[i])), &e), 1);
	}
	/* NOT NULL: a missing required value is bad input. */
	assert_int_equal(db_exec(db, role_sql, DB_ARGS(DB_INT(a), DB_NULLV,
				 DB_TEXT("own")), &e), -1);
	assert_err(&e, 400, "invalid");
	assert_non_null(strstr(e.msg, "roles(name)"));
	/* Foreign keys are enforced (on SQLite only when switched on). */
	assert_int_equal(db_exec(db, role_sql, DB_ARGS(DB_INT(a + 1000),
				 DB_TEXT("x"), DB_TEXT("own")), &e), -1);
	assert_err(&e, 409, "conflict");
	int64_t role = add_role(db, a, "agent");
	int64_t user = add_user(db, a, role, "u@example.com");
	assert_int_equal(db_exec(db, "DELETE FROM roles WHERE id = $1",
				 DB_ARGS(DB_INT(role)), &e), -1);
	assert_err(&e, 409, "conflict");
	/* Unique per account, not globally. */
	int64_t b = add_account(db, "b", "B");
	add_user(db, b, add_role(db, b, "agent"), "u@example.com");
	assert_int_equal(db_exec(db, "INSERT INTO users (account_id, email, name,"
				 " role_id, created_at, updated_at) VALUES ($1, "
				 "'u@example.com', 'n', $2, 0, 0)",
				 DB_ARGS(DB_INT(a), DB_INT(role)), &e), -1);
	assert_err(&e, 409, "conflict");
	/* Deleting an account takes its rows with it. */
	int64_t team = 0;
	assert_int_equal(db_query_int(db, "INSERT INTO teams (account_id, name, "
				      "created_at, updated_at) VALUES ($1, 't', 0,"
				      " 0) RETURNING id", DB_ARGS(DB_INT(a)),
				      &team, &e), 1);
	assert_int_equal(db_exec(db, "INSERT INTO team_members (account_id, "
				 "team_id, user_id) VALUES ($1, $2, $3)",
				 DB_ARGS(DB_INT(a), DB_INT(team), DB_INT(user)),
				 &e), 1);
	assert_int_equal(db_exec(db, "DELETE FROM accounts WHERE id = $1",
				 DB_ARGS(DB_INT(a)), &e), 1);
	assert_int_equal(count_rows(db, "teams"), 0);
	assert_int_equal(count_rows(db, "team_members"), 0);
	assert_int_equal(count_rows(db, "users"), 1);
	assert_int_equal(count_rows(db, "roles"), 1);
}

/* A row may only refer to rows of its own account: the schema refuses
 * the rest, whatever the code above it checks. */
static void t_tenant_references(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t a = add_account(db, "a", "A"), b = add_account(db, "b", "B");
	int64_t role_a = add_role(db, a, "agent"), role_b = add_role(db, b, "agent");
	assert_int_equal(db_exec(db, "INSERT INTO users (account_id, email, name,"
				 " role_id, created_at, updated_at) VALUES ($1, "
				 "'x@example.com', 'x', $2, 0, 0)",
				 DB_ARGS(DB_INT(a), DB_INT(role_b)), &e), -1);
	assert_err(&e, 409, "conflict");
	int64_t user_a = add_user(db, a, role_a, "ua@example.com");
	int64_t user_b = add_user(db, b, role_b, "ub@example.com");
	int64_t team_a = 0;
	assert_int_equal(db_query_int(db, "INSERT INTO teams (account_id, name, "
				      "created_at, updated_at) VALUES ($1, 't', 0,"
				      " 0) RETURNING id", DB_ARGS(DB_INT(a)),
				      &team_a, &e), 1);
	const char *member = "INSERT INTO team_members (account_id, team_id, "
			     "user_id) VALUES ($1, $2, $3)";
	assert_int_equal(db_exec(db, member, DB_ARGS(DB_INT(a), DB_INT(team_a),
				 DB_INT(user_b)), &e), -1);
	assert_err(&e, 409, "conflict");
	assert_int_equal(db_exec(db, member, DB_ARGS(DB_INT(b), DB_INT(team_a),
				 DB_INT(user_b)), &e), -1);
	assert_err(&e, 409, "conflict");
	assert_int_equal(db_exec(db, member, DB_ARGS(DB_INT(a), DB_INT(team_a),
				 DB_INT(user_a)), &e), 1);
	const char *session = "INSERT INTO sessions (account_id, user_id, "
			      "token_hash, csrf_token, created_at, last_seen_at, "
			      "expires_at) VALUES ($1, $2, $3, 'c', 0, 0, 0)";
	assert_int_equal(db_exec(db, session, DB_ARGS(DB_INT(a), DB_INT(user_b),
				 DB_TEXT("h1")), &e), -1);
	assert_err(&e, 409, "conflict");
	assert_int_equal(db_exec(db, session, DB_ARGS(DB_INT(a), DB_INT(user_a),
				 DB_TEXT("h1")), &e), 1);
	const char *token = "INSERT INTO api_tokens (account_id, user_id, name, "
			    "token_hash, prefix, created_at) VALUES ($1, $2, 'n', "
			    "$3, 'p', 0)";
	assert_int_equal(db_exec(db, token, DB_ARGS(DB_INT(b), DB_INT(user_a),
				 DB_TEXT("t1")), &e), -1);
	assert_err(&e, 409, "conflict");
	assert_int_equal(db_exec(db, token, DB_ARGS(DB_INT(a), DB_INT(user_a),
				 DB_TEXT("t1")), &e), 1);
	/* A user's sessions, tokens and memberships go with the user. */
	assert_int_equal(db_exec(db, "DELETE FROM users WHERE id = $1",
				 DB_ARGS(DB_INT(user_a)), &e), 1);
	assert_int_equal(count_rows(db, "sessions"), 0);
	assert_int_equal(count_rows(db, "api_tokens"), 0);
	assert_int_equal(count_rows(db, "team_members"), 0);
}

/* A deleted row's id is never handed to a new row (SQLite would reuse the
 * highest without AUTOINCREMENT). */
static void t_ids_not_reused(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	add_account(db, "a", "A");
	int64_t b = add_account(db, "b", "B");
	assert_int_equal(db_exec(db, "DELETE FROM accounts WHERE id = $1",
				 DB_ARGS(DB_INT(b)), &e), 1);
	assert_true(add_account(db, "c", "C") > b);
}

/* ---- transactions ---- */

static int64_t slug_count(struct db *db, const char *slug)
{
	int64_t n = -1;
	struct err e = {0};
	assert_int_equal(db_query_int(db, "SELECT count(*) FROM accounts WHERE "
				      "slug = $1", DB_ARGS(DB_TEXT(slug)), &n, &e),
			 1);
	return n;
}

static int try_account(struct db *db, const char *slug, struct err *e)
{
	return (int)db_exec(db, "INSERT INTO accounts (slug, name, created_at,"
			    " updated_at) VALUES ($1, $1, 0, 0)",
			    DB_ARGS(DB_TEXT(slug)), e);
}

static void t_tx_commit_rollback(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(db_in_tx(db), 1);
	add_account(db, "gone", "Gone");
	assert_int_equal(slug_count(db, "gone"), 1);
	db_rollback(db);
	assert_int_equal(db_in_tx(db), 0);
	assert_int_equal(slug_count(db, "gone"), 0);

	assert_int_equal(db_begin(db, &e), 0);
	add_account(db, "kept", "Kept");
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(slug_count(db, "kept"), 1);

	/* Misuse is reported, never fatal. */
	assert_int_equal(db_commit(db, &e), -1);
	assert_err(&e, 500, "internal");
	db_rollback(db);
	assert_int_equal(db_in_tx(db), 0);
}

static void t_tx_nested(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	assert_int_equal(db_begin(db, &e), 0);
	add_account(db, "a", "A");
	assert_int_equal(db_begin(db, &e), 0);
	add_account(db, "b", "B");
	db_rollback(db); /* only b */
	assert_int_equal(db_in_tx(db), 1);
	assert_int_equal(db_begin(db, &e), 0);
	add_account(db, "c", "C");
	assert_int_equal(db_commit(db, &e), 0); /* into the outer one */
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(slug_count(db, "a"), 1);
	assert_int_equal(slug_count(db, "b"), 0);
	assert_int_equal(slug_count(db, "c"), 1);

	/* An inner commit is undone by the outer rollback. */
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(db_begin(db, &e), 0);
	add_account(db, "d", "D");
	assert_int_equal(db_commit(db, &e), 0);
	db_rollback(db);
	assert_int_equal(slug_count(db, "d"), 0);
	assert_int_equal(db_in_tx(db), 0);
}

static void t_tx_failed_statement(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	add_account(db, "dup", "Dup");
	/* A failed statement fails the transaction on both engines... */
	assert_int_equal(db_begin(db, &e), 0);
	add_account(db, "x", "X");
	assert_int_equal(try_account(db, "dup", &e), -1);
	assert_err(&e, 409, "conflict");
	assert_int_equal(try_account(db, "y", &e), -1);
	assert_err(&e, 500, "internal");
	assert_int_equal(db_begin(db, &e), -1);
	assert_int_equal(db_commit(db, &e), -1); /* rolls back */
	assert_int_equal(db_in_tx(db), 0);
	assert_int_equal(slug_count(db, "x"), 0);
	assert_int_equal(count_rows(db, "accounts"), 1);

	/* ...and a savepoint lets the rest go on. */
	assert_int_equal(db_begin(db, &e), 0);
	add_account(db, "x", "X");
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(try_account(db, "dup", &e), -1);
	assert_err(&e, 409, "conflict");
	db_rollback(db);
	add_account(db, "y", "Y");
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(slug_count(db, "x"), 1);
	assert_int_equal(slug_count(db, "y"), 1);

	/* ON CONFLICT DO NOTHING is the portable "insert if new". */
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(db_exec(db, "INSERT INTO accounts (slug, name, "
				 "created_at, updated_at) VALUES ('dup', 'd', 0, "
				 "0) ON CONFLICT DO NOTHING", DB_NOARGS, &e), 0);
	add_account(db, "z", "Z");
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(slug_count(db, "z"), 1);
}

static void t_tx_close_rolls_back(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct db *other = open_or_die(cur->url);
	assert_int_equal(db_begin(other, &e), 0);
	add_account(other, "unfinished", "U");
	db_close(other);
	assert_int_equal(slug_count(db, "unfinished"), 0);
	add_account(db, "after", "A"); /* the write lock was released */
}

/* ---- account scoping ---- */

static void t_scope(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct scope sa = {db, add_account(db, "a", "A")};
	struct scope sb = {db, add_account(db, "b", "B")};
	int64_t role = add_role(db, sa.account_id, "agent");
	add_role(db, sb.account_id, "agent");
	struct db_res *r;
	const char *by_id = "SELECT name FROM roles WHERE account_id = $1 AND "
			    "id = $2";
	assert_int_equal(db_sq(&sa, by_id, DB_ARGS(DB_INT(role)), &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_string_equal(db_res_text(r, 0), "agent");
	db_res_free(r);
	/* A's id through B's scope: nothing there. */
	assert_int_equal(db_sq(&sb, by_id, DB_ARGS(DB_INT(role)), &r, &e), 0);
	assert_int_equal(db_res_next(r), 0);
	db_res_free(r);
	const char *rename = "UPDATE roles SET name = $3 WHERE account_id = $1 "
			     "AND id = $2";
	assert_int_equal(db_sexec(&sb, rename, DB_ARGS(DB_INT(role),
				  DB_TEXT("hijacked")), &e), 0);
	assert_int_equal(db_sexec(&sa, rename, DB_ARGS(DB_INT(role),
				  DB_TEXT("lead")), &e), 1);
	int64_t id = 0;
	assert_int_equal(db_sq_int(&sa, "SELECT id FROM roles WHERE account_id = "
				   "$1 AND name = $2", DB_ARGS(DB_TEXT("lead")),
				   &id, &e), 1);
	assert_true(id == role);
	assert_int_equal(db_sq_int(&sb, "SELECT id FROM roles WHERE account_id = "
				   "$1 AND id = $2", DB_ARGS(DB_INT(role)), &id,
				   &e), 0);
	assert_int_equal(db_sq_int(&sb, "SELECT id FROM roles WHERE id = $2",
				   DB_ARGS(DB_INT(role)), &id, &e), -1);
	/* No arguments beyond the account. */
	assert_int_equal(db_sq(&sa, "SELECT count(*) FROM roles WHERE "
			       "account_id = $1", DB_NOARGS, &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_int_equal(db_res_int(r, 0), 1);
	db_res_free(r);
}

static void t_scope_refused(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct scope s = {db, add_account(db, "a", "A")};
	int64_t role = add_role(db, s.account_id, "agent");
	static const char *const bad[] = {
		"SELECT name FROM roles WHERE id = $2",         /* neither */
		"SELECT name FROM roles WHERE id = $1",         /* no account_id */
		"SELECT account_id FROM roles WHERE id = $2",   /* no $1 */
		"SELECT name FROM roles WHERE account_id = $10", /* $10 is not $1 */
	};
	struct db_res *r = (struct db_res *)&e; /* must be reset to NULL */
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err_clear(&e);
		assert_int_equal(db_sq(&s, bad[i], DB_ARGS(DB_INT(role)), &r, &e),
				 -1);
		assert_null(r);
		assert_err(&e, 500, "internal");
		assert_int_equal(db_sexec(&s, bad[i], DB_ARGS(DB_INT(role)), &e),
				 -1);
		assert_err(&e, 500, "internal");
	}
	struct scope none = {db, 0};
	assert_int_equal(db_sexec(&none, "DELETE FROM roles WHERE account_id = "
				  "$1", DB_NOARGS, &e), -1);
	assert_int_equal(count_rows(db, "roles"), 1);
}

static void t_scope_many_params(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct scope s = {db, add_account(db, "a", "A")};
	add_role(db, s.account_id, "r");
	/* 20 parameters after the account: past the stack array in db_sq. */
	struct buf sql = BUF_INIT;
	struct db_val p[20];
	buf_puts(&sql, "SELECT count(*) FROM roles WHERE account_id = $1 AND "
		 "id NOT IN (");
	for (int i = 0; i < 20; i++) {
		buf_printf(&sql, "%s$%d", i ? ", " : "", i + 2);
		p[i] = DB_INT(-i);
	}
	buf_puts(&sql, ")");
	struct db_res *r;
	assert_int_equal(db_sq(&s, sql.data, p, 20, &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_int_equal(db_res_int(r, 0), 1);
	db_res_free(r);
	buf_free(&sql);
}

/* ---- statement cache ---- */

static void t_cache_nested(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	for (int i = 0; i < 3; i++) {
		char slug[16];
		snprintf(slug, sizeof slug, "s%d", i);
		add_account(db, slug, slug);
	}
	const char *all = "SELECT id, slug FROM accounts ORDER BY id";
	struct db_res *outer, *inner;
	int rows = 0;
	assert_int_equal(db_query(db, all, DB_NOARGS, &outer, &e), 0);
	while (db_res_next(outer)) {
		/* The same SQL while its statement is in use. */
		assert_int_equal(db_query(db, all, DB_NOARGS, &inner, &e), 0);
		int n = 0;
		while (db_res_next(inner))
			n++;
		assert_int_equal(n, 3);
		db_res_free(inner);
		/* Writing while reading. */
		assert_int_equal(db_exec(db, "UPDATE accounts SET updated_at = $1 "
					 "WHERE id = $2", DB_ARGS(DB_INT(rows),
					 DB_INT(db_res_int(outer, 0))), &e), 1);
		char slug[16];
		snprintf(slug, sizeof slug, "s%d", rows);
		assert_string_equal(db_res_text(outer, 1), slug);
		rows++;
	}
	db_res_free(outer);
	assert_int_equal(rows, 3);
	/* Reused with new parameters. */
	for (int i = 0; i < 3; i++) {
		char slug[16];
		int64_t v = -1;
		snprintf(slug, sizeof slug, "s%d", i);
		assert_int_equal(db_query_int(db, "SELECT updated_at FROM accounts "
					      "WHERE slug = $1",
					      DB_ARGS(DB_TEXT(slug)), &v, &e), 1);
		assert_int_equal(v, i);
	}
}

static void t_cache_many_and_lifetimes(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	/* More distinct statements than the cache holds. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 300; i++) {
			char sql[64];
			int64_t v = -1;
			snprintf(sql, sizeof sql, "SELECT %d + $1", i);
			assert_int_equal(db_query_int(db, sql, DB_ARGS(DB_INT(round)),
						      &v, &e), 1);
			assert_int_equal(v, i + round);
		}
	}
	/* Several results open at once, read in turns. */
	add_account(db, "a", "A");
	add_account(db, "b", "B");
	struct db_res *r1, *r2, *r3;
	assert_int_equal(db_query(db, "SELECT slug FROM accounts ORDER BY slug",
				  DB_NOARGS, &r1, &e), 0);
	assert_int_equal(db_query(db, "SELECT slug FROM accounts ORDER BY slug "
				  "DESC", DB_NOARGS, &r2, &e), 0);
	/* A text parameter may die right after db_query. */
	char arg[8] = "a";
	assert_int_equal(db_query(db, "SELECT slug FROM accounts WHERE slug >= "
				  "$1 ORDER BY slug", DB_ARGS(DB_TEXT(arg)), &r3,
				  &e), 0);
	memcpy(arg, "zzz", 4);
	assert_int_equal(db_res_next(r1), 1);
	assert_int_equal(db_res_next(r2), 1);
	assert_int_equal(db_res_next(r3), 1);
	assert_string_equal(db_res_text(r1, 0), "a");
	assert_string_equal(db_res_text(r2, 0), "b");
	assert_string_equal(db_res_text(r3, 0), "a");
	assert_int_equal(db_res_next(r3), 1);
	assert_string_equal(db_res_text(r3, 0), "b");
	db_res_free(r1);
	db_res_free(r2);
	db_res_free(r3);
	db_res_free(NULL);
	assert_int_equal(db_res_next(NULL), 0);
}

/* ---- text ---- */

static int64_t codepoints(const char *s)
{
	int64_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void t_text_utf8(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	const char *zh = "客服系统：你好，世界！繁體中文 — ñ 🙂";
	int64_t a = add_account(db, "zh", zh);
	struct db_res *r;
	assert_int_equal(db_query(db, "SELECT name, length(name) FROM accounts "
				  "WHERE id = $1", DB_ARGS(DB_INT(a)), &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_string_equal(db_res_text(r, 0), zh);
	assert_int_equal(db_res_int(r, 1), codepoints(zh));
	db_res_free(r);
	int64_t n = 0;
	assert_int_equal(db_query_int(db, "SELECT count(*) FROM accounts WHERE "
				      "name LIKE $1", DB_ARGS(DB_TEXT("%你好%")),
				      &n, &e), 1);
	assert_int_equal(n, 1);

	/* 2 MB of mixed text through a parameter and back. */
	struct buf big = BUF_INIT;
	while (big.len < 2 * 1024 * 1024)
		buf_printf(&big, "%zu 工单 ticket 回复; ", big.len);
	int64_t team = 0;
	assert_int_equal(db_query_int(db, "INSERT INTO teams (account_id, name, "
				      "description, created_at, updated_at) "
				      "VALUES ($1, $2, $3, 0, 0) RETURNING id",
				      DB_ARGS(DB_INT(a), DB_TEXT("大团队"),
					      DB_TEXT(big.data)), &team, &e), 1);
	assert_int_equal(db_query(db, "SELECT description, length(description) "
				  "FROM teams WHERE id = $1",
				  DB_ARGS(DB_INT(team)), &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_int_equal(strlen(db_res_text(r, 0)), big.len);
	assert_true(strcmp(db_res_text(r, 0), big.data) == 0);
	assert_int_equal(db_res_int(r, 1), codepoints(big.data));
	db_res_free(r);
	buf_free(&big);
}

/* ---- opening ---- */

/* Runs db_open with stderr captured, so the log can be checked too. */
static int open_captured(const char *url, struct err *e, char *log, size_t n)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/kefu_store_log_%d", (int)getpid());
	fflush(stderr);
	int saved = dup(2);
	FILE *f = fopen(path, "w+");
	dup2(fileno(f), 2);
	struct db *db = NULL;
	int rc = db_open(url, &db, e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t got = fread(log, 1, n - 1, f);
	log[got] = '\0';
	fclose(f);
	unlink(path);
	db_close(db);
	return rc;
}

static void t_open_urls(void **state)
{
	(void)state;
	struct err e = {0};
	struct db *db = NULL;
	static const char *const bad[] = {"mysql://localhost/kefu", "", "sqlite:",
					  "sqlite://", "/tmp/x.db"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		assert_int_equal(db_open(bad[i], &db, &e), -1);
		assert_null(db);
		assert_err(&e, 400, "invalid");
	}
	assert_int_equal(db_open(NULL, &db, &e), -1);
	assert_string_equal(db_open("ftp://x", &db, &e) ? e.msg : "",
			    "unsupported database URL");
	char log[4096];
	assert_int_equal(open_captured("sqlite:///nonexistent-dir/kefu/x.db", &e,
				       log, sizeof log), -1);
	assert_err(&e, 500, "internal");
	/* A password never reaches a message or the log. */
	static const char *const secret[] = {
		"postgres://kefu:s3cretpw@127.0.0.1:1/kefu",
		"postgresql://kefu@127.0.0.1:1/kefu?password=s3cretpw",
		"postgres://kefu:s3cretpw@127.0.0.1:1/kefu?sslmode=bogus",
		"postgres://kefu:s3cretpw@[bad/kefu",
	};
	for (size_t i = 0; i < sizeof secret / sizeof *secret; i++) {
		assert_int_equal(open_captured(secret[i], &e, log, sizeof log), -1);
		assert_err(&e, 500, "internal");
		assert_null(strstr(e.msg, "s3cretpw"));
		assert_null(strstr(log, "s3cretpw"));
	}
	/* Both PostgreSQL schemes. */
	if (cur->engine == DB_PG && strncmp(cur->url, "postgres://", 11) == 0) {
		char alt[700];
		snprintf(alt, sizeof alt, "postgresql://%s", cur->url + 11);
		db = open_or_die(alt);
		assert_int_equal(db_engine(db), DB_PG);
		assert_int_equal(db_ping(db), 0);
		db_close(db);
	}
}

static void t_sqlite_settings(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct db_res *r;
	assert_int_equal(db_engine(db), DB_SQLITE);
	assert_int_equal(db_query(db, "PRAGMA journal_mode", DB_NOARGS, &r, &e),
			 0);
	assert_int_equal(db_res_next(r), 1);
	assert_string_equal(db_res_text(r, 0), "wal");
	db_res_free(r);
	assert_int_equal(query_int(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query_int(db, "PRAGMA synchronous"), 1); /* NORMAL */
	/* its own busy handler (sqlite.c sq_busy), which PRAGMA cannot see */
	assert_int_equal(query_int(db, "PRAGMA busy_timeout"), 0);
	assert_int_equal(query_int(db, "PRAGMA journal_size_limit"), 64 * 1024 * 1024);
	/* "x" is an identifier, as on PostgreSQL, never a string. */
	int64_t v;
	assert_int_equal(db_query_int(db, "SELECT count(*) FROM accounts WHERE "
				      "slug = \"acme\"", DB_NOARGS, &v, &e), -1);
	struct stat st;
	assert_int_equal(stat(cur->path, &st), 0);
}

/* ---- PostgreSQL connection handling ---- */

static void pg_kill(struct db *victim)
{
	int64_t pid = query_int(victim, "SELECT pg_backend_pid()");
	struct db *admin = open_or_die(pg_env.admin);
	int64_t ok = 0, alive = 1;
	struct err e = {0};
	assert_int_equal(db_query_int(admin, "SELECT pg_terminate_backend("
				      "CAST($1 AS INTEGER))",
				      DB_ARGS(DB_INT(pid)), &ok, &e), 1);
	assert_int_equal(ok, 1);
	for (int i = 0; i < 500 && alive; i++) {
		assert_int_equal(db_query_int(admin, "SELECT count(*) FROM "
					      "pg_stat_activity WHERE pid = $1",
					      DB_ARGS(DB_INT(pid)), &alive, &e), 1);
		usleep(10000);
	}
	assert_int_equal(alive, 0);
	db_close(admin);
}

static void t_pg_connection(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct db_res *r;
	assert_int_equal(db_engine(db), DB_PG);
	assert_int_equal(db_query(db, "SELECT current_setting('application_name'),"
				  " current_setting('client_encoding')",
				  DB_NOARGS, &r, &e), 0);
	assert_int_equal(db_res_next(r), 1);
	assert_string_equal(db_res_text(r, 0), "kefu");
	assert_string_equal(db_res_text(r, 1), "UTF8");
	db_res_free(r);
	/* The server drops us between requests (restart, failover): the next
	 * statement runs on a new connection. */
	int64_t before = query_int(db, "SELECT pg_backend_pid()");
	pg_kill(db);
	add_account(db, "after-kill", "A");
	assert_true(query_int(db, "SELECT pg_backend_pid()") != before);
	/* Inside a transaction the work is lost: report it, then recover. */
	assert_int_equal(db_begin(db, &e), 0);
	add_account(db, "in-tx", "T");
	pg_kill(db);
	assert_int_equal(try_account(db, "in-tx-2", &e), -1);
	assert_err(&e, 500, "internal");
	assert_int_equal(try_account(db, "in-tx-3", &e), -1);
	assert_int_equal(db_commit(db, &e), -1);
	assert_int_equal(db_in_tx(db), 0);
	assert_int_equal(slug_count(db, "in-tx"), 0);
	assert_int_equal(slug_count(db, "after-kill"), 1);
}

/* ---- concurrency ---- */

struct writer {
	const char *url;
	int id;
	int errors;
};

static void *writer_run(void *arg)
{
	struct writer *w = arg;
	struct db *db = NULL;
	struct err e = {0};
	if (db_open(w->url, &db, &e) < 0) {
		w->errors = 1;
		return NULL;
	}
	for (int i = 0; i < 100; i++) {
		char slug[32];
		snprintf(slug, sizeof slug, "w%d-%d", w->id, i);
		if (db_begin(db, &e) < 0 || try_account(db, slug, &e) != 1 ||
		    db_exec(db, "UPDATE accounts SET updated_at = updated_at + 1 "
			    "WHERE slug = $1", DB_ARGS(DB_TEXT(slug)), &e) != 1 ||
		    db_commit(db, &e) < 0) {
			w->errors++;
			if (db_in_tx(db))
				db_rollback(db);
		}
	}
	db_close(db);
	return NULL;
}

/* Writers on their own connections wait for each other instead of
 * failing (BEGIN IMMEDIATE and the busy timeout on SQLite). */
static void t_concurrent_writers(void **state)
{
	struct db *db = *state;
	pthread_t th[3];
	struct writer w[3];
	for (int i = 0; i < 3; i++) {
		w[i] = (struct writer){cur->url, i, 0};
		assert_int_equal(pthread_create(&th[i], NULL, writer_run, &w[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	assert_int_equal(count_rows(db, "accounts"), 300);
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The log is copied back into the database by the background thread
 * (store/sqlite_ckpt.c), not by the commits, and restarted: after 48 MiB
 * written in 1,200 transactions the database file holds them while the
 * connection is still open, and the log has not grown past its limit. */
static void t_sqlite_checkpoints(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	char wal[400];
	snprintf(wal, sizeof wal, "%s-wal", cur->path);
	exec_or_die(db, "CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB)");
	off_t before = file_size(cur->path);
	for (int t = 0; t < 1200; t++) {
		assert_int_equal(db_begin(db, &e), 0);
		for (int i = 0; i < 10; i++)
			assert_true(db_exec(db, "INSERT INTO big (b) VALUES (randomblob(4000))",
					    DB_NOARGS, &e) == 1);
		assert_int_equal(db_commit(db, &e), 0);
	}
	/* the thread runs beside this one: give it up to 10 s */
	for (int i = 0; i < 100 && file_size(cur->path) < before + 40 * 1024 * 1024; i++)
		usleep(100 * 1000);
	assert_true(file_size(cur->path) >= before + 40 * 1024 * 1024);
	assert_true(file_size(wal) <= 64 * 1024 * 1024 + 8 * 1024 * 1024);
}

/* ---- main ---- */

#define T_EMPTY(f) cmocka_unit_test_setup_teardown(f, setup_empty, teardown)
#define T(f) cmocka_unit_test_setup_teardown(f, setup_migrated, teardown)

/* Every case, on both engines; then each engine's own. */
#define COMMON_TESTS                              \
	T_EMPTY(t_migrate_from_empty),            \
	T(t_migrate_newer_schema),                \
	T(t_params_types),                        \
	T(t_params_order_and_reuse),              \
	T(t_params_columns),                      \
	T(t_returning_id),                        \
	T(t_exec_changes),                        \
	T(t_multiple_statements_refused),         \
	T(t_query_int),                           \
	T(t_row_error),                           \
	T(t_unique_conflict),                     \
	T(t_constraints_0001),                    \
	T(t_tenant_references),                   \
	T(t_ids_not_reused),                      \
	T(t_tx_commit_rollback),                  \
	T(t_tx_nested),                           \
	T(t_tx_failed_statement),                 \
	T(t_tx_close_rolls_back),                 \
	T(t_scope),                               \
	T(t_scope_refused),                       \
	T(t_scope_many_params),                   \
	T(t_cache_nested),                        \
	T(t_cache_many_and_lifetimes),            \
	T(t_text_utf8),                           \
	T(t_open_urls),                           \
	T(t_concurrent_writers)

static const struct CMUnitTest sqlite_tests[] = {
	COMMON_TESTS,
	T(t_params_sqlite_spelling),
	T(t_sqlite_settings),
	T(t_sqlite_checkpoints),
};

static const struct CMUnitTest pg_tests[] = {
	COMMON_TESTS,
	T(t_pg_connection),
};

static void t_pg_not_configured(void **state)
{
	(void)state;
	const char *env = getenv("KEFU_TEST_PG_ENV");
	fprintf(stderr, "\n*** PostgreSQL NOT CONFIGURED: %s%s%s -- the "
		"PostgreSQL half of test_store did not run.\n*** Start one with "
		"scripts/pg-test.sh start DIR and set KEFU_TEST_PG_ENV=DIR/env "
		"(ctest does this).\n\n",
		env ? "no KEFU_TEST_PG_URL=... line in " : "KEFU_TEST_PG_ENV is "
		"not set", env ? env : "", env ? " (KEFU_TEST_PG_ENV)" : "");
	const char *req = getenv("KEFU_REQUIRE_PG");
	if (req && strcmp(req, "1") == 0)
		fail_msg("KEFU_REQUIRE_PG=1 but PostgreSQL is not configured");
	skip();
}

int main(void)
{
	log_set_level(LOG_WARN);
	int failed = cmocka_run_group_tests_name("store on SQLite", sqlite_tests,
						 group_sqlite_setup,
						 group_sqlite_teardown);
	if (pg_configured(pg_env.admin, sizeof pg_env.admin) == 0) {
		failed += cmocka_run_group_tests_name("store on PostgreSQL", pg_tests,
						      group_pg_setup,
						      group_pg_teardown);
	} else {
		const struct CMUnitTest missing[] = {
			cmocka_unit_test(t_pg_not_configured),
		};
		failed += cmocka_run_group_tests_name("store on PostgreSQL",
						      missing, NULL, NULL);
	}
	return failed ? 1 : 0;
}
