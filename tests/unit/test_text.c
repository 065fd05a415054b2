/*
 * test_text.c -- src/text/tokenize: document terms, query terms, and the
 * FTS5 / tsquery builders, against real search engines.
 *
 * The cases are data: $KEFU_SOURCE_DIR/tests/fixtures/text/cases.txt, one
 * per line (the file's header gives the format), each reported by name
 * (file:line kind input).  match / nomatch / search cases are decided by a
 * real SQLite FTS5 table in memory (tokenize='ascii', as the header of
 * tokenize.h prescribes), and again by PostgreSQL through
 * to_tsvector('simple') / to_tsquery('simple') when the server named by
 * $KEFU_TEST_PG_ENV is up (skipped otherwise, like test_store), so the two
 * engines are shown to agree.
 *
 * Beyond the fixture: builder output is checked structurally and run by
 * both engines for hostile and random queries (no syntax error, nothing
 * but quoted terms); random bytes never produce anything but clean terms;
 * several threads tokenize at once and agree with one thread; missing
 * dictionaries give a clear error; long input is processed in pieces
 * without losing terms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unicode/utf8.h>

#include "text/internal.h"
#include "text/tokenize.h"

/* ------------------------------------------------------------------ */
/* fixture                                                             */

struct tcase {
	int line;
	char kind[12];
	char *f[2]; /* unescaped fields (NUL-terminated; may hold NULs) */
	size_t n[2];
	int nf;
};

static struct tcase *cases;
static size_t ncases;

static char *unescape(const char *s, size_t n, size_t *outn)
{
	char *o = malloc(n + 1);
	size_t k = 0;
	assert_non_null(o);
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 == n) {
			o[k++] = s[i];
			continue;
		}
		char c = s[++i];
		if (c == 't')
			o[k++] = '\t';
		else if (c == 'n')
			o[k++] = '\n';
		else if (c == '\\')
			o[k++] = '\\';
		else if (c == 'x' && i + 2 < n && fixture_hexval(s[i + 1]) >= 0 &&
			 fixture_hexval(s[i + 2]) >= 0) {
			o[k++] = (char)(fixture_hexval(s[i + 1]) * 16 + fixture_hexval(s[i + 2]));
			i += 2;
		} else {
			o[k++] = '\\';
			o[k++] = c;
		}
	}
	o[k] = '\0';
	*outn = k;
	return o;
}

static void load_cases(void)
{
	const char *src = getenv("KEFU_SOURCE_DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/fixtures/text/cases.txt",
		 src ? src : ".");
	FILE *f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (set KEFU_SOURCE_DIR; ctest does)", path);
	char line[4096];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		cases = realloc(cases, (ncases + 1) * sizeof *cases);
		assert_non_null(cases);
		struct tcase *c = &cases[ncases++];
		memset(c, 0, sizeof *c);
		c->line = lineno;
		char *t1 = strchr(line, '\t');
		if (t1)
			*t1++ = '\0';
		size_t kl = strlen(line);
		if (kl >= sizeof c->kind)
			fail_msg("cases.txt:%d: unknown kind %s", lineno, line);
		memcpy(c->kind, line, kl + 1);
		while (t1 && c->nf < 2) {
			char *t2 = c->nf == 0 ? strchr(t1, '\t') : NULL;
			size_t len = t2 ? (size_t)(t2 - t1) : strlen(t1);
			c->f[c->nf] = unescape(t1, len, &c->n[c->nf]);
			c->nf++;
			t1 = t2 ? t2 + 1 : NULL;
		}
		for (int i = c->nf; i < 2; i++)
			c->f[i] = unescape("", 0, &c->n[i]);
	}
	fclose(f);
	if (ncases == 0)
		fail_msg("no cases in %s", path);
}

static void free_cases(void)
{
	for (size_t i = 0; i < ncases; i++) {
		free(cases[i].f[0]);
		free(cases[i].f[1]);
	}
	free(cases);
	cases = NULL;
	ncases = 0;
}

/* A field for a report: bytes that are not printable UTF-8 as \xHH. */
static void show(struct buf *b, const char *s, size_t n)
{
	for (int32_t i = 0; i < (int32_t)n;) {
		int32_t start = i;
		UChar32 c;
		U8_NEXT((const uint8_t *)s, i, (int32_t)n, c);
		if (c < 0x20 || c == 0x7f)
			for (int32_t k = start; k < i; k++)
				buf_printf(b, "\\x%02x", (unsigned char)s[k]);
		else
			buf_append(b, s + start, (size_t)(i - start));
	}
}

static void case_name(struct buf *b, const struct tcase *c)
{
	buf_printf(b, "cases.txt:%d %s ", c->line, c->kind);
	show(b, c->f[0], c->n[0]);
	if (c->nf > 1) {
		buf_puts(b, " | ");
		show(b, c->f[1], c->n[1]);
	}
}

/* ------------------------------------------------------------------ */
/* engines                                                             */

struct doc {
	int id;
	char *terms;
};

/* Ids of docs found for raw query q, into out as "1,6" or "-"; -1 on an
 * engine error (the message in out). */
typedef int (*search_fn)(void *ctx, const char *q, const struct doc *docs,
			 size_t ndocs, struct buf *out);

static void ids_done(struct buf *out)
{
	if (out->len == 0)
		buf_putc(out, '-');
}

static int fts5_search(void *ctx, const char *q, const struct doc *docs,
		       size_t ndocs, struct buf *out)
{
	sqlite3 *db = ctx;
	sqlite3_stmt *st;
	struct buf expr = BUF_INIT;
	int rc = 0;

	assert_int_equal(sqlite3_exec(db, "DELETE FROM t", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(rowid, terms) "
						"VALUES (?, ?)", -1, &st, NULL),
			 SQLITE_OK);
	for (size_t i = 0; i < ndocs; i++) {
		sqlite3_bind_int(st, 1, docs[i].id);
		sqlite3_bind_text(st, 2, docs[i].terms, -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);

	if (text_query_fts5(q, &expr) == 0) {
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t "
							"MATCH ? ORDER BY rowid",
						    -1, &st, NULL),
				 SQLITE_OK);
		sqlite3_bind_text(st, 1, expr.data, -1, SQLITE_STATIC);
		int r;
		while ((r = sqlite3_step(st)) == SQLITE_ROW)
			buf_printf(out, "%s%d", out->len ? "," : "",
				   sqlite3_column_int(st, 0));
		if (r != SQLITE_DONE) {
			buf_reset(out);
			buf_printf(out, "FTS5 error on %s: %s", expr.data,
				   sqlite3_errmsg(db));
			rc = -1;
		}
		sqlite3_finalize(st);
	}
	buf_free(&expr);
	if (rc == 0)
		ids_done(out);
	return rc;
}

static int pg_search(void *ctx, const char *q, const struct doc *docs,
		     size_t ndocs, struct buf *out)
{
	PGconn *pg = ctx;
	struct buf expr = BUF_INIT;
	char id[16];
	int rc = 0;

	PQclear(PQexec(pg, "DELETE FROM t"));
	for (size_t i = 0; i < ndocs; i++) {
		snprintf(id, sizeof id, "%d", docs[i].id);
		const char *v[2] = {id, docs[i].terms};
		PGresult *r = PQexecParams(pg, "INSERT INTO t VALUES ($1::int, "
					       "to_tsvector('simple', $2))",
					   2, NULL, v, NULL, NULL, 0);
		assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
		PQclear(r);
	}
	if (text_query_tsquery(q, &expr) == 0) {
		const char *v[1] = {expr.data};
		PGresult *r = PQexecParams(pg, "SELECT id FROM t WHERE tsv @@ "
					       "to_tsquery('simple', $1) ORDER BY id",
					   1, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			for (int i = 0; i < PQntuples(r); i++)
				buf_printf(out, "%s%s", out->len ? "," : "",
					   PQgetvalue(r, i, 0));
		} else {
			buf_printf(out, "tsquery error on %s: %s", expr.data,
				   PQerrorMessage(pg));
			rc = -1;
		}
		PQclear(r);
	}
	buf_free(&expr);
	if (rc == 0)
		ids_done(out);
	return rc;
}

static sqlite3 *fts5_open(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING "
					  "fts5(terms, tokenize='ascii')",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	return db;
}

/* KEFU_TEST_PG_URL from the file named by KEFU_TEST_PG_ENV, connected and
 * with a temporary table t; NULL when PostgreSQL is not configured. */
static PGconn *pg_open(void)
{
	const char *envfile = getenv("KEFU_TEST_PG_ENV");
	FILE *f = envfile ? fopen(envfile, "r") : NULL;
	char line[700], url[700] = "";
	if (!f)
		return NULL;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "KEFU_TEST_PG_URL=", 17) == 0) {
			line[strcspn(line, "\r\n")] = '\0';
			snprintf(url, sizeof url, "%s", line + 17);
		}
	fclose(f);
	if (!url[0])
		return NULL;
	PGconn *pg = PQconnectdb(url);
	if (PQstatus(pg) != CONNECTION_OK)
		fail_msg("PostgreSQL at %s: %s", url, PQerrorMessage(pg));
	PGresult *r = PQexec(pg, "SET client_min_messages = warning; "
				 "CREATE TEMP TABLE t (id int, tsv tsvector)");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	return pg;
}

static void pg_not_configured(void)
{
	fprintf(stderr, "\n*** PostgreSQL NOT CONFIGURED (KEFU_TEST_PG_ENV): the "
			"PostgreSQL half of test_text did not run.\n\n");
	const char *req = getenv("KEFU_REQUIRE_PG");
	if (req && strcmp(req, "1") == 0)
		fail_msg("KEFU_REQUIRE_PG=1 but PostgreSQL is not configured");
	skip();
}

/* ------------------------------------------------------------------ */
/* checks shared by the fixture and the property tests                 */

/* Terms as text_tokens/text_query_terms make them: single spaces between
 * non-empty terms, ASCII only [a-z0-9], every other character a letter,
 * digit, mark or CJK character, valid UTF-8, no term longer than
 * TEXT_TERM_MAX. */
static const char *terms_problem(const char *s, size_t n)
{
	size_t termlen = 0;
	for (int32_t i = 0; i < (int32_t)n;) {
		UChar32 c;
		U8_NEXT((const uint8_t *)s, i, (int32_t)n, c);
		if (c < 0)
			return "invalid UTF-8";
		if (c == ' ') {
			if (termlen == 0)
				return "empty term";
			termlen = 0;
			continue;
		}
		termlen += (size_t)U8_LENGTH(c);
		if (termlen > TEXT_TERM_MAX)
			return "term too long";
		if (c < 0x80 ? !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			     : text_classify(c) == TEXT_SEP ||
				       text_classify(c) == TEXT_APOS)
			return "character that is not a term character";
	}
	if (n && termlen == 0)
		return "trailing space";
	return NULL;
}

/* "t1" AND "t2": quoted strings with quotes only doubled inside. */
static const char *fts5_problem(const char *s)
{
	const char *sep = " AND ";
	for (;;) {
		if (*s++ != '"')
			return "term not quoted";
		for (;;) {
			if (*s == '\0')
				return "unterminated quote";
			if (*s == '"' && s[1] == '"') {
				s += 2;
				continue;
			}
			if (*s++ == '"')
				break;
		}
		if (*s == '\0')
			return NULL;
		if (strncmp(s, sep, strlen(sep)) != 0)
			return "something between terms other than AND";
		s += strlen(sep);
	}
}

/* 't1' & 't2': quotes and backslashes only doubled inside. */
static const char *tsquery_problem(const char *s)
{
	const char *sep = " & ";
	for (;;) {
		if (*s++ != '\'')
			return "term not quoted";
		for (;;) {
			if (*s == '\0')
				return "unterminated quote";
			if ((*s == '\'' || *s == '\\') && s[1] == *s) {
				s += 2;
				continue;
			}
			if (*s == '\\')
				return "lone backslash";
			if (*s++ == '\'')
				break;
		}
		if (*s == '\0')
			return NULL;
		if (strncmp(s, sep, strlen(sep)) != 0)
			return "something between terms other than &";
		s += strlen(sep);
	}
}

static int has_term(const char *terms, const char *t, size_t tn)
{
	const char *p = terms;
	while (p && *p) {
		size_t l = strcspn(p, " ");
		if (l == tn && memcmp(p, t, tn) == 0)
			return 1;
		p += l;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the fixture runner                                                  */

/* One case; 0 when it holds, else why not in why. */
static int run_case(const struct tcase *c, search_fn search, void *ctx,
		    int engine_only, struct doc **corpus, size_t *ncorpus,
		    struct buf *why)
{
	struct buf got = BUF_INIT;
	int bad = 0;
	const char *k = c->kind;

	if (strcmp(k, "doc") == 0) {
		struct buf t = BUF_INIT;
		text_tokens(c->f[1], c->n[1], &t);
		*corpus = realloc(*corpus, (*ncorpus + 1) * sizeof **corpus);
		assert_non_null(*corpus);
		(*corpus)[*ncorpus].id = atoi(c->f[0]);
		(*corpus)[*ncorpus].terms = t.data ? buf_steal(&t) : strdup("");
		(*ncorpus)++;
		return 0;
	}
	if (strcmp(k, "match") == 0 || strcmp(k, "nomatch") == 0 ||
	    strcmp(k, "search") == 0) {
		struct doc one = {1, NULL};
		const struct doc *docs = *corpus;
		size_t nd = *ncorpus;
		const char *want = c->f[1];
		struct buf t = BUF_INIT;
		if (strcmp(k, "search") != 0) {
			text_tokens(c->f[1], c->n[1], &t);
			one.terms = t.data ? t.data : "";
			docs = &one;
			nd = 1;
			want = strcmp(k, "match") == 0 ? "1" : "-";
		}
		if (search(ctx, c->f[0], docs, nd, &got) != 0) {
			buf_printf(why, "%s", got.data);
			bad = 1;
		} else if (strcmp(got.data, want) != 0) {
			buf_printf(why, "found %s, expected %s; document terms: %s",
				   got.data, want, one.terms ? one.terms : "(corpus)");
			bad = 1;
		}
		buf_free(&t);
		buf_free(&got);
		return bad;
	}
	if (engine_only)
		return 0;

	if (strcmp(k, "has") == 0 || strcmp(k, "lacks") == 0 ||
	    strcmp(k, "terms") == 0) {
		text_tokens(c->f[0], c->n[0], &got);
		const char *g = got.data ? got.data : "";
		const char *p = c->f[1];
		if (strcmp(k, "terms") == 0) {
			bad = strcmp(g, p) != 0;
		} else {
			while (*p && !bad) {
				size_t l = strcspn(p, " ");
				bad = has_term(g, p, l) != (k[0] == 'h');
				p += l;
				while (*p == ' ')
					p++;
			}
		}
		if (bad)
			buf_printf(why, "document terms: \"%s\"", g);
	} else if (strcmp(k, "none") == 0) {
		struct buf q = BUF_INIT;
		text_tokens(c->f[0], c->n[0], &got);
		int rq = text_query_fts5(c->f[0], &q);
		if (got.len || rq != -1 || q.len) {
			buf_printf(why, "document terms \"%s\", query %d \"%s\"",
				   got.data ? got.data : "", rq, q.data ? q.data : "");
			bad = 1;
		}
		buf_free(&q);
	} else if (strcmp(k, "query") == 0 || strcmp(k, "fts5") == 0 ||
		   strcmp(k, "tsquery") == 0) {
		int r = k[0] == 'q'   ? text_query_terms(c->f[0], &got)
			: k[0] == 'f' ? text_query_fts5(c->f[0], &got)
				      : text_query_tsquery(c->f[0], &got);
		const char *g = got.data ? got.data : "";
		if (strcmp(g, c->f[1]) != 0) {
			buf_printf(why, "got \"%s\" (return %d)", g, r);
			bad = 1;
		}
	} else {
		buf_printf(why, "unknown kind");
		bad = 1;
	}
	if (!bad && got.len) {
		/* Whatever a case produced must be well-formed too. */
		const char *p = k[0] == 'f'   ? fts5_problem(got.data)
				: k[0] == 't' && k[1] == 's' ? tsquery_problem(got.data)
							     : terms_problem(got.data, got.len);
		if (p) {
			buf_printf(why, "malformed output \"%s\": %s", got.data, p);
			bad = 1;
		}
	}
	buf_free(&got);
	return bad;
}

static void run_fixture(const char *engine, search_fn search, void *ctx,
			int engine_only)
{
	struct doc *corpus = NULL;
	size_t ncorpus = 0;
	int ran = 0, failed = 0;

	for (size_t i = 0; i < ncases; i++) {
		const struct tcase *c = &cases[i];
		if (engine_only && strcmp(c->kind, "match") && strcmp(c->kind, "nomatch") &&
		    strcmp(c->kind, "search") && strcmp(c->kind, "doc"))
			continue;
		struct buf name = BUF_INIT, why = BUF_INIT;
		case_name(&name, c);
		int bad = run_case(c, search, ctx, engine_only, &corpus, &ncorpus, &why);
		if (strcmp(c->kind, "doc") != 0) {
			ran++;
			failed += bad;
			if (bad)
				print_message("[ FAIL ] %s %s\n         %s\n", engine,
					      name.data, why.data);
			else
				print_message("[  ok  ] %s %s\n", engine, name.data);
		}
		buf_free(&name);
		buf_free(&why);
	}
	for (size_t i = 0; i < ncorpus; i++)
		free(corpus[i].terms);
	free(corpus);
	print_message("%s: %d fixture cases, %d failing\n", engine, ran, failed);
	if (failed)
		fail_msg("%d of %d %s fixture cases fail", failed, ran, engine);
}

static void t_fixture_sqlite(void **state)
{
	(void)state;
	sqlite3 *db = fts5_open();
	run_fixture("sqlite", fts5_search, db, 0);
	sqlite3_close(db);
}

static void t_fixture_pg(void **state)
{
	(void)state;
	PGconn *pg = pg_open();
	if (!pg) {
		pg_not_configured();
		return;
	}
	run_fixture("postgres", pg_search, pg, 1);
	PQfinish(pg);
}

/* ------------------------------------------------------------------ */
/* hostile and random queries                                          */

static const char *const hostile[] = {
	"\"", "\"\"", "'", "''", "\\", "\\'", "'\\", "a\"b", "a'b", "\"a",
	"a\" OR \"b", "a' | 'b", "x\" NOT \"y", "NEAR(a b, 3)", "a NEAR b",
	"col:term", "-col:term", "{a b}:c", "^a", "a*", "a + b", "a:*",
	"!a", "a & !b", "(a | b) <-> c", "a <2> b", "'a':*A", "a\\'b", "'\\''",
	"*", ")", "(", "AND", "OR NOT", "退款\"", "\"退款\" OR \"x\"",
	"退'款", "refund'); DROP TABLE t; --", "%s%n", "\x01\x02", "\t\n",
	"a\xff\"b", "\xef\xbc\x82\xef\xbc\x87", /* full-width quote, apostrophe */
};

/* Run q through both builders: well-formed, accepted by FTS5 (and by
 * PostgreSQL when pg != NULL). */
static void check_query(sqlite3 *db, PGconn *pg, const char *q)
{
	struct buf f = BUF_INIT, t = BUF_INIT, terms = BUF_INIT;
	int rf = text_query_fts5(q, &f);
	int rt = text_query_tsquery(q, &t);
	int nt = text_query_terms(q, &terms);

	assert_int_equal(rf, rt);
	assert_int_equal(rf == 0, nt > 0);
	assert_true(nt <= TEXT_QUERY_MAX_TERMS);
	if (rf != 0) {
		assert_int_equal(f.len, 0);
		assert_int_equal(t.len, 0);
		goto out;
	}
	const char *p = fts5_problem(f.data);
	if (p)
		fail_msg("fts5 for [%s]: %s: %s", q, f.data, p);
	p = tsquery_problem(t.data);
	if (p)
		fail_msg("tsquery for [%s]: %s: %s", q, t.data, p);
	p = terms_problem(terms.data, terms.len);
	if (p)
		fail_msg("terms for [%s]: %s: %s", q, terms.data, p);

	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE t "
						"MATCH ?", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, f.data, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		fail_msg("FTS5 rejects %s (from [%s]): %s", f.data, q,
			 sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (pg) {
		const char *v[1] = {t.data};
		PGresult *r = PQexecParams(pg, "SELECT count(*) FROM t WHERE tsv @@ "
					       "to_tsquery('simple', $1)",
					   1, NULL, v, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("PostgreSQL rejects %s (from [%s]): %s", t.data, q,
				 PQerrorMessage(pg));
		PQclear(r);
	}
out:
	buf_free(&f);
	buf_free(&t);
	buf_free(&terms);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* Random text from pieces that matter: syntax, CJK, emoji, marks, broken
 * UTF-8, digits, mixed case. */
static size_t random_text(char *out, size_t cap, int allow_nul)
{
	static const char *const pieces[] = {
		"\"", "'", "\\", "*", "^", ":", "(", ")", "-", "+", "&", "|", "!",
		"<->", " AND ", " OR ", " NOT ", "NEAR", " ", "  ", "\t", "\n",
		"退", "款", "退款", "申請", "我", "的", "了", "訂單", "ｶﾀ", "ー",
		"𠀀", "〇", "한", "é", "e\xcc\x81", "\xcc\x81", "ß", "ﬁ", "Ⅻ",
		"①", "😀", "👨\u200d👩", "\xef\xb8\x8f", "\xe2\x80\x99", "a", "Z",
		"refunds", "Running", "iPhone", "15", "ORD", "12345", "x1y2z3w4v5",
		"\xff", "\xc0", "\xe6\xac", "\xf0\x9f", "\xed\xa0\x80", "\x7f",
	};
	size_t n = 0;
	int count = (int)(rnd() % 24);
	for (int i = 0; i < count; i++) {
		const char *p = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
		size_t l = strlen(p);
		if (allow_nul && rnd() % 16 == 0) {
			p = "\0";
			l = 1;
		}
		if (n + l + 1 > cap)
			break;
		memcpy(out + n, p, l);
		n += l;
	}
	out[n] = '\0';
	return n;
}

static void t_hostile_queries(void **state)
{
	(void)state;
	sqlite3 *db = fts5_open();
	PGconn *pg = pg_open();
	struct buf t = BUF_INIT;
	/* Something to match, so the engines evaluate the expression. */
	text_tokens("a b x y refund order term col 退款 near", 40, &t);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "INSERT INTO t(terms) VALUES (?)", -1, &st, NULL);
	sqlite3_bind_text(st, 1, t.data, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	if (pg) {
		const char *v[1] = {t.data};
		PQclear(PQexecParams(pg, "INSERT INTO t VALUES (1, "
					 "to_tsvector('simple', $1))",
				     1, NULL, v, NULL, NULL, 0));
	}
	buf_free(&t);

	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++)
		check_query(db, pg, hostile[i]);
	char q[512];
	for (int i = 0; i < 3000; i++) {
		random_text(q, sizeof q, 0);
		check_query(db, pg, q);
	}
	print_message("hostile queries: %zu fixed + 3000 random, engines: "
		      "sqlite%s\n", sizeof hostile / sizeof hostile[0],
		      pg ? " + postgres" : "");
	if (pg)
		PQfinish(pg);
	sqlite3_close(db);
}

/* Random bytes, NULs included, make clean terms or none. */
static void t_random_documents(void **state)
{
	(void)state;
	char s[600];
	struct buf out = BUF_INIT;
	for (int i = 0; i < 5000; i++) {
		size_t n;
		if (i % 2) {
			n = random_text(s, sizeof s, 1);
		} else {
			n = rnd() % 64;
			for (size_t k = 0; k < n; k++)
				s[k] = (char)rnd();
		}
		buf_reset(&out);
		text_tokens(s, n, &out);
		const char *p = terms_problem(out.data ? out.data : "", out.len);
		if (p)
			fail_msg("document %d: %s in \"%s\"", i, p, out.data);
	}
	buf_free(&out);
}

/* ------------------------------------------------------------------ */
/* lengths and pieces                                                  */

static void t_long_input(void **state)
{
	(void)state;
	struct buf doc = BUF_INIT, out = BUF_INIT, one = BUF_INIT;

	/* A term longer than TEXT_TERM_MAX is cut the same way on both
	 * sides, so a pasted long id still finds itself. */
	char word[201];
	memset(word, 'q', 200);
	word[200] = '\0';
	text_tokens(word, 200, &out);
	assert_int_equal(out.len, TEXT_TERM_MAX);
	assert_int_equal(text_query_terms(word, &one), 1);
	assert_string_equal(one.data, out.data);
	buf_reset(&out);
	buf_reset(&one);

	/* Cutting never splits a character. */
	struct buf cjkword = BUF_INIT;
	for (int i = 0; i < 40; i++)
		buf_puts(&cjkword, "é");
	text_tokens(cjkword.data, cjkword.len, &out);
	assert_null(terms_problem(out.data, out.len));
	assert_true(out.len <= TEXT_TERM_MAX && out.len >= TEXT_TERM_MAX - 1);
	buf_free(&cjkword);
	buf_reset(&out);

	/* A document of many pieces (> 64 KiB each is one piece): the terms
	 * are those of its sentences, none lost or merged at piece ends. */
	const char *unit = "我要退款，订单号ORD12345。Refunds pending! ";
	text_tokens(unit, strlen(unit), &one);
	size_t reps = 20000; /* ~1 MB */
	for (size_t i = 0; i < reps; i++)
		buf_puts(&doc, unit);
	text_tokens(doc.data, doc.len, &out);
	assert_int_equal(out.len, reps * (one.len + 1) - 1);

	/* One unbroken CJK run much longer than a piece. */
	buf_reset(&doc);
	buf_reset(&out);
	for (size_t i = 0; i < 100000; i++)
		buf_puts(&doc, i % 2 ? "款" : "退");
	text_tokens(doc.data, doc.len, &out);
	assert_null(terms_problem(out.data, out.len));
	assert_true(has_term(out.data, "退款", strlen("退款")));

	/* A query longer than TEXT_QUERY_MAX_BYTES is cut, not refused. */
	buf_reset(&doc);
	buf_reset(&out);
	for (int i = 0; i < 2000; i++)
		buf_printf(&doc, "w%d ", i);
	assert_int_equal(text_query_terms(doc.data, &out), TEXT_QUERY_MAX_TERMS);

	buf_free(&doc);
	buf_free(&out);
	buf_free(&one);
}

static void t_append(void **state)
{
	(void)state;
	struct buf out = BUF_INIT;
	text_tokens("Refund", 6, &out);
	text_tokens("!!!", 3, &out); /* nothing: no stray space */
	text_tokens("退款", strlen("退款"), &out);
	assert_string_equal(out.data, "refund 退 退款 款");
	buf_free(&out);
}

/* ------------------------------------------------------------------ */
/* threads                                                             */

static const char *const corpus_mt[] = {
	"我要退款，订单号 ORD12345", "申請退貨：iPhone 15 無法開機",
	"Refunds are processed within 5 days", "电话打不通，请回电",
	"The customer's iPhone15 won't turn on", "张伟华的订单鸿蒙系统",
	"ＡＢＣ１２３ ｶﾀｶﾅ 한국어 café", "退款申请已提交 😀 running",
};
#define NCORPUS (sizeof corpus_mt / sizeof corpus_mt[0])
static char *ref_doc[NCORPUS], *ref_query[NCORPUS];

static void *mt_worker(void *arg)
{
	int bad = 0;
	(void)arg;
	for (int round = 0; round < 200 && !bad; round++) {
		for (size_t i = 0; i < NCORPUS; i++) {
			struct buf d = BUF_INIT, q = BUF_INIT;
			text_tokens(corpus_mt[i], strlen(corpus_mt[i]), &d);
			text_query_terms(corpus_mt[i], &q);
			bad |= strcmp(d.data, ref_doc[i]) != 0;
			bad |= strcmp(q.data, ref_query[i]) != 0;
			buf_free(&d);
			buf_free(&q);
		}
	}
	return bad ? (void *)1 : NULL;
}

static void t_threads(void **state)
{
	(void)state;
	for (size_t i = 0; i < NCORPUS; i++) {
		struct buf d = BUF_INIT, q = BUF_INIT;
		text_tokens(corpus_mt[i], strlen(corpus_mt[i]), &d);
		text_query_terms(corpus_mt[i], &q);
		ref_doc[i] = buf_steal(&d);
		ref_query[i] = buf_steal(&q);
	}
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, mt_worker, NULL), 0);
	int bad = 0;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		bad |= r != NULL;
	}
	for (size_t i = 0; i < NCORPUS; i++) {
		free(ref_doc[i]);
		free(ref_query[i]);
	}
	assert_false(bad);
}

/* ------------------------------------------------------------------ */
/* initialisation                                                      */

static void t_init_errors(void **state)
{
	(void)state;
	struct err e = {0};

	assert_int_equal(text_init(&e), 0); /* already initialised: no-op */
	text_shutdown();
	text_shutdown(); /* twice is harmless */

	struct text_opts bad_dict = {.friso_dict_dir = "/nonexistent/friso/"};
	assert_int_equal(text_init_opts(&bad_dict, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/friso/friso.lex.ini"));
	assert_non_null(strstr(e.msg, "friso-dict"));

	struct text_opts bad_cc = {.opencc_config = "/nonexistent/t2s.json"};
	err_clear(&e);
	assert_int_equal(text_init_opts(&bad_cc, &e), -1);
	assert_non_null(strstr(e.msg, "/nonexistent/t2s.json"));
	assert_non_null(strstr(e.msg, "libopencc-data"));

	/* The directory may be given without its trailing slash. */
	struct text_opts noslash = {.friso_dict_dir = "/usr/share/friso/dict/UTF-8"};
	err_clear(&e);
	assert_int_equal(text_init_opts(&noslash, &e), 0);
	struct buf q = BUF_INIT;
	assert_int_equal(text_query_terms("我要退款", &q), 2);
	assert_string_equal(q.data, "要 退款");
	buf_free(&q);
	text_shutdown();

	assert_int_equal(text_init(&e), 0);
}

/* Right after text_init every document is converted; once the table of
 * characters t2s changes is built (in the background), only documents
 * holding one.  Both must give the same terms: Simplified, Traditional,
 * the five characters only phrases change, mixed text and English. */
static void t_trad_table_same_terms(void **state)
{
	(void)state;
	static const char *const samples[] = {
		"我要退款，订单号 20261122", "我要退貨，訂單在這裡", "瞭解一下答覆",
		"沈没的船 牴触 藉口", "Refunds for 們 and 个", "台灣的颱風很大",
		"乾燥 干净 幹部", "後来 后来 發現 发现",
	};
	enum { N = sizeof samples / sizeof *samples };
	struct err e = {0};
	struct buf before[N], after = BUF_INIT;
	text_shutdown();
	assert_int_equal(text_init(&e), 0);
	int early = !text_trad_built();
	for (int i = 0; i < N; i++) {
		before[i] = (struct buf)BUF_INIT;
		text_tokens(samples[i], strlen(samples[i]), &before[i]);
	}
	for (int i = 0; i < 1000 && !text_trad_built(); i++)
		usleep(10 * 1000);
	assert_true(text_trad_built());
	for (int i = 0; i < N; i++) {
		buf_reset(&after);
		text_tokens(samples[i], strlen(samples[i]), &after);
		assert_string_equal(after.data, before[i].data);
		buf_free(&before[i]);
	}
	buf_free(&after);
	/* Not an assertion (a fast machine may finish first): said so the
	 * log shows which path the first half took. */
	fprintf(stderr, "t_trad_table_same_terms: first half %s the table\n",
		early ? "before" : "after");
}

/* ------------------------------------------------------------------ */

static int group_setup(void **state)
{
	(void)state;
	struct err e = {0};
	if (text_init(&e) != 0) {
		fprintf(stderr, "text_init: %s\n", e.msg);
		return -1;
	}
	load_cases();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free_cases();
	text_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_fixture_sqlite),
		cmocka_unit_test(t_fixture_pg),
		cmocka_unit_test(t_hostile_queries),
		cmocka_unit_test(t_random_documents),
		cmocka_unit_test(t_long_input),
		cmocka_unit_test(t_append),
		cmocka_unit_test(t_threads),
		cmocka_unit_test(t_init_errors),
		cmocka_unit_test(t_trad_table_same_terms),
	};
	return cmocka_run_group_tests_name("text", tests, group_setup,
					   group_teardown);
}
