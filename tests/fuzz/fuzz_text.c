/*
 * fuzz_text.c -- libFuzzer target for src/text/tokenize: arbitrary bytes
 * as a document (text_tokens, NULs and broken UTF-8 included) and as a
 * search box query (the three query builders).  Checks the promises the
 * search code relies on: terms are clean (valid UTF-8, single spaces, no
 * ASCII punctuation), the FTS5 expression is nothing but quoted terms
 * joined by AND and is accepted by a real FTS5 table, the tsquery is
 * nothing but quoted terms joined by &.  Must not leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <unicode/utf8.h>

#include "text/internal.h"
#include "text/tokenize.h"

static sqlite3 *db;
static sqlite3_stmt *match;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_text: %s: %s\n", what, detail);
	abort();
}

static void check_terms(const char *s, size_t n)
{
	size_t len = 0;
	for (int32_t i = 0; i < (int32_t)n;) {
		UChar32 c;
		U8_NEXT((const uint8_t *)s, i, (int32_t)n, c);
		if (c < 0)
			die("invalid UTF-8 in terms", s);
		if (c == ' ') {
			if (len == 0)
				die("empty term", s);
			len = 0;
			continue;
		}
		len += (size_t)U8_LENGTH(c);
		if (len > TEXT_TERM_MAX)
			die("term too long", s);
		if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			die("ASCII non-alphanumeric in terms", s);
		if (c >= 0x80 && (text_classify(c) == TEXT_SEP ||
				  text_classify(c) == TEXT_APOS))
			die("separator in terms", s);
	}
	if (n && len == 0)
		die("trailing space", s);
}

/* q"..."q joined by sep; inside, q (and backslash when bs) only doubled. */
static void check_quoted(const char *s, char q, int bs, const char *sep)
{
	const char *start = s;
	for (;;) {
		if (*s++ != q)
			die("term not quoted", start);
		for (;;) {
			if (*s == '\0')
				die("unterminated quote", start);
			if ((*s == q || (bs && *s == '\\')) && s[1] == *s) {
				s += 2;
				continue;
			}
			if (bs && *s == '\\')
				die("lone backslash", start);
			if (*s++ == q)
				break;
		}
		if (*s == '\0')
			return;
		if (strncmp(s, sep, strlen(sep)) != 0)
			die("unexpected text between terms", start);
		s += strlen(sep);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct err e = {0};
	if (text_init(&e) != 0)
		die("text_init", e.msg);
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(terms, "
			     "tokenize='ascii'); INSERT INTO t VALUES ('a 1 退款')",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t MATCH ?", -1,
			       &match, NULL) != SQLITE_OK)
		die("sqlite", sqlite3_errmsg(db));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf doc = BUF_INIT, terms = BUF_INIT, f = BUF_INIT, t = BUF_INIT;

	text_tokens((const char *)data, size, &doc);
	check_terms(doc.data, doc.len);

	char *q = malloc(size + 1);
	if (!q)
		abort();
	memcpy(q, data, size);
	q[size] = '\0';
	int n = text_query_terms(q, &terms);
	int rf = text_query_fts5(q, &f);
	int rt = text_query_tsquery(q, &t);
	free(q);

	if (n < 0 || n > TEXT_QUERY_MAX_TERMS || (n > 0) != (rf == 0) || rf != rt)
		die("query builders disagree", terms.data ? terms.data : "");
	check_terms(terms.data, terms.len);
	if (rf == 0) {
		check_quoted(f.data, '"', 0, " AND ");
		check_quoted(t.data, '\'', 1, " & ");
		sqlite3_bind_text(match, 1, f.data, -1, SQLITE_STATIC);
		if (sqlite3_step(match) != SQLITE_ROW)
			die("FTS5 rejects", f.data);
		sqlite3_reset(match);
		sqlite3_clear_bindings(match);
	} else if (f.len || t.len) {
		die("output without a query", f.data ? f.data : t.data);
	}
	buf_free(&doc);
	buf_free(&terms);
	buf_free(&f);
	buf_free(&t);
	return 0;
}
