/* ticket_search.c -- see ticket_search.h. */
#include "ticket_search.h"

#include <string.h>

#include "../text/tokenize.h"

/* The terms of the subject and every message, in order. */
static int collect_terms(const struct scope *s, int64_t id, struct buf *terms,
			 struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT subject FROM tickets WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	if (res && db_res_next(res)) {
		const char *subj = db_res_text(res, 0);
		text_tokens(subj, strlen(subj), terms);
	}
	db_res_free(res);
	if (db_sq(s, "SELECT text FROM messages WHERE account_id = $1 AND ticket_id = $2 "
		     "ORDER BY id", DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	while (res && db_res_next(res)) {
		const char *t = db_res_text(res, 0);
		text_tokens(t, strlen(t), terms);
	}
	int rc = db_res_error(res, e);
	db_res_free(res);
	return rc;
}

int ticket_search_index(const struct scope *s, int64_t ticket_id, struct err *e)
{
	struct buf terms = BUF_INIT;
	int rc = collect_terms(s, ticket_id, &terms, e);
	const char *t = terms.data ? terms.data : "";
	int pg = db_engine(s->db) == DB_PG;
	if (rc == 0 && pg)
		rc = db_sexec(s, "INSERT INTO ticket_fts (account_id, ticket_id, terms) VALUES "
				 "($1, $2, $3) ON CONFLICT (ticket_id) DO UPDATE SET terms = $3",
			      DB_ARGS(DB_INT(ticket_id), DB_TEXT(t)), e) < 0 ? -1 : 0;
	else if (rc == 0)
		/* FTS5 has no upsert: replace the row. */
		rc = db_sexec(s, "DELETE FROM ticket_fts WHERE account_id = $1 AND rowid = $2",
			      DB_ARGS(DB_INT(ticket_id)), e) < 0 ||
		     db_sexec(s, "INSERT INTO ticket_fts (rowid, account_id, terms) VALUES "
				 "($2, $1, $3)", DB_ARGS(DB_INT(ticket_id), DB_TEXT(t)), e) < 0
			? -1 : 0;
	buf_free(&terms);
	return rc;
}

const char *ticket_search_insert_head(const struct db *db)
{
	return db_engine(db) == DB_PG
		? "INSERT INTO ticket_fts (account_id, ticket_id, terms) VALUES "
		: "INSERT INTO ticket_fts (account_id, rowid, terms) VALUES ";
}

int ticket_search_sql(const struct scope *s, struct sqlb *b, const char *q,
		      struct err *e)
{
	(void)e;
	struct buf query = BUF_INIT;
	int pg = db_engine(s->db) == DB_PG;
	if ((pg ? text_query_tsquery(q, &query) : text_query_fts5(q, &query)) < 0) {
		sqlb_add(b, " AND 1 = 0");
		buf_free(&query);
		return 0;
	}
	if (pg)
		sqlb_bind_dup(b, " AND t.id IN (SELECT f.ticket_id FROM ticket_fts f WHERE "
				 "f.account_id = $1 AND f.tsv @@ to_tsquery('simple', CAST(? AS TEXT)))",
			      query.data);
	else
		sqlb_bind_dup(b, " AND t.id IN (SELECT rowid FROM ticket_fts WHERE "
				 "account_id = $1 AND ticket_fts MATCH ?)", query.data);
	buf_free(&query);
	return 0;
}
