/*
 * gen_batch.h -- many rows into one table in few statements, for `kefu gen`.
 *
 * Owns: collecting rows and writing them as multi-row INSERTs
 * ("VALUES ($1, $2, ...), ($1, $9, ...)"), up to a few hundred rows per
 * statement, every row in one account ($1).  Why: a round trip per row is
 * what makes bulk loading slow on PostgreSQL, and on SQLite it still costs
 * a statement's overhead per row; batching divides both by the batch size.
 * The same SQL runs on both engines.
 *
 * Rows are written in the order they were added, when a statement's worth
 * has been collected and at gen_batch_flush: a table whose rows refer to
 * another's (messages -> tickets) must be fed only after the rows it refers
 * to were flushed.
 */
#ifndef KEFU_GEN_BATCH_H
#define KEFU_GEN_BATCH_H

#include <stdint.h>

#include "store/db.h"

struct gen_batch;

/* head: "INSERT INTO t (account_id, a, b, ...) VALUES " with account_id
 * first; ncols: the columns after it; tail: appended after the rows (e.g.
 * " ON CONFLICT DO NOTHING"), may be "".  Strings are borrowed. */
struct gen_batch *gen_batch_new(const struct scope *s, const char *head, int ncols,
				const char *tail);
void gen_batch_free(struct gen_batch *b);

/* The values of the current row, in column order. */
void gen_batch_int(struct gen_batch *b, int64_t v);
/* 0 becomes NULL (an absent id or time). */
void gen_batch_id(struct gen_batch *b, int64_t v);
/* Copied; NULL becomes NULL. */
void gen_batch_text(struct gen_batch *b, const char *s);
/* Ends the current row, writing a full statement's worth.  0 or -1 (also
 * when the row has the wrong number of values: a bug in the caller). */
int gen_batch_row(struct gen_batch *b, struct err *e);
/* Writes what is collected; 0 or -1. */
int gen_batch_flush(struct gen_batch *b, struct err *e);
/* Rows written so far. */
int64_t gen_batch_written(const struct gen_batch *b);

#endif
