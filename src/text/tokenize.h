/*
 * tokenize.h -- search terms from Chinese, English and mixed text.
 *
 * Owns: turning text into the normalized terms that full-text search
 * indexes (tickets, messages, knowledge-base articles), and turning a user's
 * search box input into a safe query for SQLite FTS5 or PostgreSQL tsquery
 * over those terms.  It knows nothing of tickets or tables: callers store
 * the term string and run the query.
 *
 * Pipeline, for documents and queries alike:
 *   1. UTF-8 in, invalid sequences replaced by U+FFFD (then dropped);
 *   2. ICU NFKC + case folding (ＡＢＣ１２３ -> abc123, ﬁ -> fi, ß -> ss);
 *   3. OpenCC Traditional -> Simplified (退貨 -> 退货, 電話 -> 电话);
 *   4. punctuation, symbols and emoji become separators;
 *   5. runs of letters/digits become words: letter parts are stemmed with
 *      the Snowball English stemmer (refunds -> refund, running -> run),
 *      digit parts are kept; a run mixing letters and digits (iPhone15,
 *      ORD12345) also yields its parts, so "iphone 15" and "iphone15"
 *      find each other and an order number's digits find the order;
 *   6. runs of Chinese/Japanese characters: see "CJK terms" below.
 *
 * CJK terms (recall versus precision).  A document's CJK run is indexed as
 * every single character plus every overlapping pair of characters
 * (我要退款 -> 我 我要 要 要退 退 退款 款).  A query's CJK run is segmented
 * into words by friso (我要退款 -> 我 要 退款); stopwords (我 的 了 ...) are
 * dropped; each remaining word becomes the AND of its character pairs
 * (a one-character word: the character itself), and neighbouring
 * one-character words that are not stopwords are joined first (friso splits
 * unknown names and brand words into single characters: 鸿 蒙 -> 鸿蒙).
 * So a query word matches wherever its characters appear contiguously,
 * however friso would have segmented the document (退款 finds 我要退款了
 * and 申请退款), while the words of a query may appear in any order
 * (退款申请 finds 申请退款).  Indexing friso's words instead would lose
 * exactly the cases where friso segments the document differently from the
 * query; pairs cost about two index terms per character, which customer
 * messages can afford, and make the index independent of the dictionary
 * version (upgrading friso-dict needs no re-index).  The price is a rare
 * false hit when all pairs of a 3+ character word occur apart in one
 * document; ranking (bm25 / ts_rank) pushes those down.
 *
 * Storage.  The term string is space-separated and contains only lower-case
 * letters, digits and CJK characters, so it must be indexed by a tokenizer
 * that only splits on spaces:
 *   SQLite:      CREATE VIRTUAL TABLE ... USING fts5(terms, tokenize='ascii')
 *                'ascii' splits on ASCII non-alphanumerics and folds ASCII
 *                case, a no-op on our terms, and treats every non-ASCII
 *                character as part of a term.  'unicode61' must NOT be used:
 *                it re-applies Unicode rules of its own (diacritic removal,
 *                splitting at combining marks) that PostgreSQL does not,
 *                so the two engines would disagree.
 *   PostgreSQL:  to_tsvector('simple', terms) / to_tsquery('simple', $1)
 *                ('simple' = no stemming, no stopwords: ours are done).
 * Both engines then hold exactly the terms emitted here and return the same
 * hits for the same query.
 *
 * Thread safety: after text_init() every function may be called from any
 * number of threads at once.  ICU's normalizer and the OpenCC converter are
 * shared read-only; each thread lazily gets its own stemmer and scratch
 * buffers; friso (query side only) runs under a mutex, because its
 * segmenter writes into shared dictionary entries.
 */
#ifndef KEFU_TEXT_TOKENIZE_H
#define KEFU_TEXT_TOKENIZE_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

/* Where Debian installs the data (friso-dict, libopencc-data). */
#define TEXT_FRISO_DICT_DIR "/usr/share/friso/dict/UTF-8/"
#define TEXT_OPENCC_T2S "/usr/share/opencc/t2s.json"

/* A term longer than this many bytes is cut (at a character boundary), the
 * same way in documents and queries, so long ids still match each other. */
#define TEXT_TERM_MAX 64
/* Query input beyond this many bytes is ignored, and at most this many
 * terms are AND-ed: a search box, not a document. */
#define TEXT_QUERY_MAX_BYTES 4096
#define TEXT_QUERY_MAX_TERMS 32

struct text_opts {
	const char *friso_dict_dir; /* NULL: TEXT_FRISO_DICT_DIR; holds friso.lex.ini */
	const char *opencc_config;  /* NULL: TEXT_OPENCC_T2S */
};

/* Load the dictionaries once for the whole process: ICU and OpenCC now
 * (about 0.1 s); friso's dictionary is only checked here and loaded by the
 * first query (0.1-0.2 s, ~25 MB), since documents never need it.
 * Returns 0, or -1 with e filled when a dictionary is missing or
 * unreadable (the message names the path and the Debian package).  Calling
 * it again while initialised is a no-op returning 0.  Call it before
 * starting the threads that tokenize. */
int text_init(struct err *e);
int text_init_opts(const struct text_opts *o, struct err *e);

/* Free everything text_init loaded and every thread's state.  Call it only
 * when no other thread is inside a text_ function any more; text_init may
 * be called again afterwards. */
void text_shutdown(void);

/* Append the terms of s (len bytes of UTF-8; invalid bytes are tolerated)
 * to out, separated by single spaces; a space is put first when out is not
 * empty and does not end in one, so subject and body can be appended one
 * after the other.  Appends nothing when s has no searchable content.
 * Aborts if text_init() has not succeeded (a programming error). */
void text_tokens(const char *s, size_t len, struct buf *out);

/* The terms a search for q (NUL-terminated UTF-8) requires, space-
 * separated and de-duplicated, appended to out.  Stopwords (English "the",
 * "to"...; Chinese 的, 了, 我...) are left out unless the query has nothing
 * else.  Returns the number of terms, 0 when q has nothing searchable (out
 * untouched then). */
int text_query_terms(const char *q, struct buf *out);

/* Append an FTS5 MATCH expression requiring every term of q:
 *     "refund" AND "退款"
 * Every term is a double-quoted string (embedded quotes doubled), so no
 * FTS5 syntax from user input (quotes, AND/OR/NOT/NEAR, column filters,
 * '*', '^', parentheses) can survive.  Use it as a bound parameter:
 * ... WHERE tbl MATCH ?.  Returns 0, or -1 (out untouched) when q has no
 * searchable term: the caller answers "no results" without querying. */
int text_query_fts5(const char *q, struct buf *out);

/* Same for PostgreSQL: appends  'refund' & '退款'  (quotes and backslashes
 * escaped) for use as  to_tsvector('simple', terms) @@ to_tsquery('simple',
 * $1).  Returns 0, or -1 (out untouched) when there is no searchable term. */
int text_query_tsquery(const char *q, struct buf *out);

#endif
