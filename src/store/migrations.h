/*
 * migrations.h -- the schema migrations compiled into the binary.
 *
 * Owns: the table generated at build time from
 * src/store/migrations/{sqlite,pg}/NNNN_name.sql (cmake/embed_migrations.cmake).
 * Applied by db_migrate() in migrate.c.
 */
#ifndef KEFU_STORE_MIGRATIONS_H
#define KEFU_STORE_MIGRATIONS_H

struct migration {
	int version;
	const char *name;
	const char *sqlite_sql;
	const char *pg_sql;
};

extern const struct migration migrations[];
extern const int migrations_count;

#endif
