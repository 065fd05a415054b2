/* sqlb.c -- see sqlb.h. */
#include "sqlb.h"

#include <stdlib.h>
#include <string.h>

void sqlb_init(struct sqlb *b, int first)
{
	memset(b, 0, sizeof *b);
	b->first = first;
}

void sqlb_free(struct sqlb *b)
{
	buf_free(&b->sql);
	for (int i = 0; i < b->n; i++)
		free(b->owned[i]);
}

void sqlb_add(struct sqlb *b, const char *sql)
{
	buf_puts(&b->sql, sql);
}

int sqlb_next(const struct sqlb *b)
{
	return b->first + b->n;
}

int sqlb_bind(struct sqlb *b, const char *frag, struct db_val v)
{
	if (b->n >= SQLB_MAX) {
		/* Unbalanced on purpose: the database rejects the statement. */
		buf_puts(&b->sql, " $999999 ");
		return -1;
	}
	int num = sqlb_next(b);
	b->v[b->n++] = v;
	for (const char *p = frag; *p; p++) {
		if (*p == '?')
			buf_printf(&b->sql, "$%d", num);
		else
			buf_putc(&b->sql, *p);
	}
	return num;
}

int sqlb_bind_dup(struct sqlb *b, const char *frag, const char *text)
{
	char *copy = xstrdup(text);
	int num = sqlb_bind(b, frag, DB_TEXT(copy));
	if (num < 0)
		free(copy);
	else
		b->owned[b->n - 1] = copy;
	return num;
}
