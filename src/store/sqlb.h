/*
 * sqlb.h -- building a statement whose conditions depend on the request
 * (list filters), with its parameters numbered as it grows.
 *
 * Owns: only the bookkeeping of "$N" numbers and their values; the SQL text
 * is the caller's.  Values are never spliced into the text, so a filter
 * built from user input cannot inject SQL.
 */
#ifndef KEFU_STORE_SQLB_H
#define KEFU_STORE_SQLB_H

#include "../util/buf.h"
#include "db.h"

#define SQLB_MAX 48

struct sqlb {
	struct buf sql;
	struct db_val v[SQLB_MAX];
	char *owned[SQLB_MAX]; /* copies made by sqlb_bind_dup */
	int n;     /* values so far */
	int first; /* number of the first value: 2 under db_sq (1 is the account) */
};

void sqlb_init(struct sqlb *b, int first);
void sqlb_free(struct sqlb *b);
void sqlb_add(struct sqlb *b, const char *sql);
/* Append frag with every '?' replaced by the number of one new parameter
 * bound to v.  Returns that number (or -1 when SQLB_MAX is reached; the
 * statement is then marked broken and db calls with it fail). */
int sqlb_bind(struct sqlb *b, const char *frag, struct db_val v);
/* As sqlb_bind with a text value copied into the builder (freed by
 * sqlb_free), for values whose storage does not outlive the call. */
int sqlb_bind_dup(struct sqlb *b, const char *frag, const char *text);
/* The "$N" of the next parameter sqlb_bind would create. */
int sqlb_next(const struct sqlb *b);

#endif
