/* gen_batch.c -- see gen_batch.h. */
#include "gen_batch.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* Parameters per statement stay well below both engines' limits (SQLite
 * 32766, PostgreSQL 65535, db.c's $N 32767); more rows per statement stop
 * paying off long before that. */
#define BATCH_PARAMS 12000
#define BATCH_SIZES 10 /* statements of 1, 2, 4 ... 512 rows */

/* Why only powers of two: preparing a statement with thousands of
 * parameters costs SQLite time quadratic in their number, so each
 * statement must be prepared once and then come from the connection's
 * cache.  A remainder of 200 rows goes out as 128 + 64 + 8, by statements
 * already prepared, instead of as a new 200-row statement per flush. */

struct gen_batch {
	const struct scope *s;
	const char *head, *tail;
	int ncols, max_rows;
	int rows, in_row; /* complete rows held; values of the current one */
	/* Text values hold an offset into text in .i until the statement is
	 * written: text grows (and moves) as rows are added. */
	struct db_val *v;
	struct buf text;
	char *sql[BATCH_SIZES]; /* the statement for 2^i rows, built once */
	int64_t written;
};

struct gen_batch *gen_batch_new(const struct scope *s, const char *head, int ncols,
				const char *tail)
{
	struct gen_batch *b = xcalloc(1, sizeof *b);
	b->s = s;
	b->head = head;
	b->tail = tail;
	b->ncols = ncols;
	b->max_rows = 1 << (BATCH_SIZES - 1);
	while (b->max_rows > 1 && b->max_rows * ncols > BATCH_PARAMS)
		b->max_rows /= 2;
	b->v = xcalloc((size_t)b->max_rows * (size_t)ncols, sizeof *b->v);
	return b;
}

void gen_batch_free(struct gen_batch *b)
{
	if (!b)
		return;
	free(b->v);
	for (int i = 0; i < BATCH_SIZES; i++)
		free(b->sql[i]);
	buf_free(&b->text);
	free(b);
}

static struct db_val *next_val(struct gen_batch *b)
{
	/* A row with too many values is caught by gen_batch_row; meanwhile
	 * the extra values overwrite the row's last slot. */
	int col = b->in_row < b->ncols ? b->in_row : b->ncols - 1;
	b->in_row++;
	return &b->v[(size_t)b->rows * (size_t)b->ncols + (size_t)col];
}

void gen_batch_int(struct gen_batch *b, int64_t v)
{
	*next_val(b) = DB_INT(v);
}

void gen_batch_id(struct gen_batch *b, int64_t v)
{
	*next_val(b) = v ? DB_INT(v) : DB_NULLV;
}

void gen_batch_text(struct gen_batch *b, const char *s)
{
	struct db_val *v = next_val(b);
	if (!s) {
		*v = DB_NULLV;
		return;
	}
	*v = (struct db_val){.type = DB_T_TEXT, .i = (int64_t)b->text.len};
	buf_append(&b->text, s, strlen(s) + 1);
}

/* "head ($1, $2, $3), ($1, $4, $5) tail" for n rows. */
static char *statement(const struct gen_batch *b, int n)
{
	struct buf sql = BUF_INIT;
	buf_puts(&sql, b->head);
	int p = 2;
	for (int r = 0; r < n; r++) {
		buf_puts(&sql, r ? ", ($1" : "($1");
		for (int c = 0; c < b->ncols; c++)
			buf_printf(&sql, ", $%d", p++);
		buf_putc(&sql, ')');
	}
	buf_puts(&sql, b->tail);
	return buf_steal(&sql);
}

/* Rows [from, from + 2^size) of those held. */
static int write_rows(struct gen_batch *b, int from, int size, struct err *e)
{
	if (!b->sql[size])
		b->sql[size] = statement(b, 1 << size);
	const struct db_val *v = b->v + (size_t)from * (size_t)b->ncols;
	if (db_sexec(b->s, b->sql[size], v, (1 << size) * b->ncols, e) < 0)
		return -1;
	b->written += 1 << size;
	return 0;
}

int gen_batch_flush(struct gen_batch *b, struct err *e)
{
	size_t n = (size_t)b->rows * (size_t)b->ncols;
	for (size_t i = 0; i < n; i++)
		if (b->v[i].type == DB_T_TEXT)
			b->v[i].s = b->text.data + b->v[i].i;
	for (int done = 0; done < b->rows;) {
		int size = BATCH_SIZES - 1;
		while ((1 << size) > b->rows - done)
			size--;
		if (write_rows(b, done, size, e) < 0)
			return -1;
		done += 1 << size;
	}
	b->rows = 0;
	buf_reset(&b->text);
	return 0;
}

int gen_batch_row(struct gen_batch *b, struct err *e)
{
	if (b->in_row != b->ncols) {
		ERR_INTERNAL(e, "gen: %d values for %d columns in: %.60s", b->in_row,
			     b->ncols, b->head);
		return -1;
	}
	b->in_row = 0;
	b->rows++;
	return b->rows == b->max_rows ? gen_batch_flush(b, e) : 0;
}

int64_t gen_batch_written(const struct gen_batch *b)
{
	return b->written;
}
