/*
 * ticket_search.h -- full-text search of tickets (subject and messages) in
 * Chinese and English, the same hits on SQLite (FTS5) and PostgreSQL
 * (tsvector): both index the terms of src/text/tokenize.
 *
 * Owns: the ticket_fts table (the only SQL in Kefu that differs per engine
 * outside the migrations) and keeping it in step with the ticket.
 */
#ifndef KEFU_CORE_TICKET_SEARCH_H
#define KEFU_CORE_TICKET_SEARCH_H

#include "../store/db.h"
#include "../store/sqlb.h"

/* Re-index a ticket from its subject and messages (in the caller's
 * transaction). */
int ticket_search_index(const struct scope *s, int64_t ticket_id, struct err *e);
/* For writers of many new tickets at once (kefu gen), which compute the
 * terms themselves, exactly as ticket_search_index would (text_tokens of
 * the subject, then of each message in order): the head of a multi-row
 * INSERT of index rows, up to "VALUES ", whose rows are (account_id,
 * ticket id, terms). */
const char *ticket_search_insert_head(const struct db *db);
/* Append "AND t.id IN (<tickets matching q>)" to a ticket query (no
 * results at all when q holds nothing searchable). */
int ticket_search_sql(const struct scope *s, struct sqlb *b, const char *q,
		      struct err *e);

#endif
