/*
 * tempdb.h -- a throwaway, migrated SQLite database for unit tests of the
 * domain (one per test, removed with its WAL files afterwards).
 */
#ifndef KEFU_TEST_TEMPDB_H
#define KEFU_TEST_TEMPDB_H

#include "store/db.h"

/* /tmp/kefu-<name>-<pid>.db, empty and migrated; NULL (reason on stderr)
 * when it cannot be made. */
struct db *tempdb_open(const char *name);
/* Close it and delete its files. */
void tempdb_close(struct db *db);

#endif
