/* tempdb.c -- see tempdb.h.  One database at a time per process. */
#include "tempdb.h"

#include <stdio.h>
#include <unistd.h>

static char path[160];

struct db *tempdb_open(const char *name)
{
	snprintf(path, sizeof path, "/tmp/kefu-%s-%d.db", name, (int)getpid());
	unlink(path);
	char url[200];
	snprintf(url, sizeof url, "sqlite://%s", path);
	struct db *db = NULL;
	struct err e = {0};
	if (db_open(url, &db, &e) < 0 || db_migrate(db, &e) < 0) {
		fprintf(stderr, "tempdb: %s\n", e.msg);
		db_close(db);
		return NULL;
	}
	return db;
}

void tempdb_close(struct db *db)
{
	db_close(db);
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		char p[200];
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		unlink(p);
	}
}
