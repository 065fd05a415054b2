/*
 * sqlite_ckpt.h -- WAL checkpoints off the request path (SQLite engine).
 *
 * Owns: one background thread per open database file that copies the
 * write-ahead log back into the database, and the WAL hook of every
 * connection of that file that tells it when.
 *
 * Why: by default SQLite checkpoints inside the COMMIT that takes the log
 * past 1000 pages, on the committing connection.  In Kefu that connection
 * still holds the process's writer lock (sqlite.c), and a checkpoint writes
 * and fsyncs megabytes: every other write waits behind it.  Under a steady
 * stream of chat messages (POST /widget/v1/messages, 8 connections) the
 * p99 was 116 ms that way and 52 ms this way.  Here the commit only signals, and the
 * thread copies the log back on a connection of its own, in PASSIVE passes
 * beside the writers, holding them out only for the last few pages (a log
 * is restarted from its beginning only once copied back whole).
 */
#ifndef KEFU_STORE_SQLITE_CKPT_H
#define KEFU_STORE_SQLITE_CKPT_H

#include <sqlite3.h>

struct sq_ckpt;

/* Checkpoint the database of h (opened from path) in the background: the
 * first connection of a path starts its thread, later ones share it.
 * NULL (SQLite's own checkpoints stay) for in-memory databases or when
 * the thread cannot start. */
struct sq_ckpt *sq_ckpt_attach(sqlite3 *h, const char *path);
/* From sqlite.c: hold the process's writers out (and let them in again)
 * for the last pass of a checkpoint. */
void sq_writers_pause(void);
void sq_writers_resume(void);

/* After the connection is closed; the last one of a path stops the thread
 * (whose connection, the last, then checkpoints the rest on close). */
void sq_ckpt_detach(struct sq_ckpt *c);

#endif
