/*
 * migrate.c -- bringing a database's schema up to this binary's version.
 *
 * Owns: the schema_migrations table and the order and atomicity of applying
 * the migrations embedded from src/store/migrations/ (migrations.h).
 *
 * Each migration runs in its own transaction together with the row that
 * records it, so a failed migration leaves the schema as it was and can be
 * fixed and re-run.  Several nodes may start at once: on PostgreSQL an
 * advisory lock makes them take turns; on SQLite BEGIN IMMEDIATE does, and
 * every node re-checks inside its transaction whether another one already
 * applied the migration.
 */
#include <stdio.h>

#include "../util/clock.h"
#include "../util/log.h"
#include "db.h"
#include "migrations.h"

/* pg_advisory_lock key: "kefu" in ASCII, unlikely to meet another app's. */
#define MIGRATE_LOCK_KEY "1801807477"

static int64_t current_version(struct db *db, struct err *e)
{
	int64_t v = 0;
	if (db_query_int(db, "SELECT COALESCE(MAX(version), 0) FROM "
			 "schema_migrations", DB_NOARGS, &v, e) < 0)
		return -1;
	return v;
}

static int record(struct db *db, const struct migration *m, struct err *e)
{
	return db_exec(db, "INSERT INTO schema_migrations (version, name, "
		       "applied_at) VALUES ($1, $2, $3)",
		       DB_ARGS(DB_INT(m->version), DB_TEXT(m->name),
			       DB_INT(clock_now_ms())), e) < 0 ? -1 : 0;
}

/* 1 applied, 0 another node had, -1 error (rolled back). */
static int apply_one(struct db *db, const struct migration *m, struct err *e)
{
	const char *sql = db_engine(db) == DB_PG ? m->pg_sql : m->sqlite_sql;
	int64_t v;
	if (db_begin(db, e) < 0)
		return -1;
	int seen = db_query_int(db, "SELECT version FROM schema_migrations "
				"WHERE version = $1", DB_ARGS(DB_INT(m->version)),
				&v, e);
	if (seen == 0 && (db_exec_script(db, sql, e) < 0 || record(db, m, e) < 0))
		seen = -1;
	if (seen < 0) {
		db_rollback(db);
		log_error("db: migration %04d_%s failed: %s", m->version,
			  m->name, e->msg);
		ERR_INTERNAL(e, "migration %04d_%s failed", m->version, m->name);
		return -1;
	}
	if (db_commit(db, e) < 0)
		return -1;
	if (seen == 0)
		log_info("db: applied migration %04d_%s", m->version, m->name);
	return seen == 0;
}

static int migrate_locked(struct db *db, struct err *e)
{
	if (db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
		    "applied_at BIGINT NOT NULL)", DB_NOARGS, e) < 0)
		return -1;
	int64_t cur = current_version(db, e);
	if (cur < 0)
		return -1;
	if (cur > db_migrations_latest()) {
		/* An older binary after a rollback of a deploy: it may work
		 * if the newer migrations were additive.  Apply nothing. */
		log_warn("db: schema version %lld is newer than this kefu "
			 "knows (%d)", (long long)cur, db_migrations_latest());
		return 0;
	}
	int applied = 0;
	for (int i = 0; i < migrations_count; i++) {
		if (migrations[i].version <= cur)
			continue;
		int rc = apply_one(db, &migrations[i], e);
		if (rc < 0)
			return -1;
		applied += rc;
	}
	return applied;
}

int db_migrate(struct db *db, struct err *e)
{
	if (db_in_tx(db)) {
		ERR_INTERNAL(e, "db_migrate inside a transaction");
		return -1;
	}
	int pg = db_engine(db) == DB_PG;
	if (pg && db_exec(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
			  DB_NOARGS, e) < 0)
		return -1;
	int rc = migrate_locked(db, e);
	if (pg) {
		struct err ue;
		db_exec(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")",
			DB_NOARGS, &ue);
	}
	return rc;
}

int db_migrations_latest(void)
{
	return migrations_count > 0 ? migrations[migrations_count - 1].version
				    : 0;
}
