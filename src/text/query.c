/*
 * query.c -- search box input to the terms a search requires.
 *
 * Owns: friso (dictionary loading, Chinese word segmentation of queries),
 * the stopword rules, and text_query_terms / text_query_fts5 /
 * text_query_tsquery.  Normalization, word runs and stemming are shared
 * with documents (tokenize.c), so a query term is always spelt the way the
 * same word is indexed.  tokenize.h explains why queries, not documents,
 * are segmented into words.
 */
#include "text/tokenize.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <friso.h>
#include <friso_ctype.h>
#include <unicode/utf8.h>

#include "text/internal.h"
#include "util/log.h"

/* ------------------------------------------------------------------ */
/* friso                                                               */

/* friso's segmenter writes into shared dictionary entries while it works
 * (next_mmseg_token stores each word's offset in the entry), so calls are
 * serialized.  Only queries are segmented, and they are short: the mutex
 * costs nothing measurable, where a dictionary per thread would cost tens
 * of megabytes and a second of loading each. */
static struct {
	pthread_mutex_t mu;
	friso_t friso;
	friso_config_t cfg;
	friso_task_t task;
	char dir[512]; /* checked by text_init, loaded on the first query */
	int tried;     /* the load was attempted (it is not retried) */
} fz = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* The configuration is built here rather than read from /etc/friso/
 * friso.ini: that file is a conffile an admin may edit (its lex_dir,
 * synonyms and stopword switches would silently change our terms), and
 * friso.pc points at /usr/share/friso/friso.ini, which Debian does not
 * ship.  We need the dictionary directory only. */
int text_friso_load(const char *dir, struct err *e)
{
	char path[512];
	static const char *const need[] = {"friso.lex.ini", "lex-main.lex"};
	size_t dl = strlen(dir);

	if (dl == 0 || dl + 32 > sizeof path) {
		ERR_INTERNAL(e, "friso dictionary directory name too long or empty");
		return -1;
	}
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		snprintf(path, sizeof path, "%s%s%s", dir,
			 dir[dl - 1] == '/' ? "" : "/", need[i]);
		if (access(path, R_OK) != 0) {
			ERR_INTERNAL(e, "friso dictionary missing: %s not readable "
					"(install friso-dict)", path);
			return -1;
		}
	}
	/* friso concatenates the directory and the file names itself. */
	pthread_mutex_lock(&fz.mu);
	snprintf(fz.dir, sizeof fz.dir, "%s%s", dir, dir[dl - 1] == '/' ? "" : "/");
	fz.tried = 0;
	pthread_mutex_unlock(&fz.mu);
	return 0;
}

/* Loading the dictionary takes ~100 ms and ~10 MB, and only queries need
 * it, so it happens on the first query (under fz.mu) rather than at every
 * start of kefu.  A dictionary that turns out empty is logged once; queries
 * then fall back to single characters (still correct, less precise). */
static void text_friso_unload(void);

static void friso_ensure(void)
{
	if (fz.friso || fz.tried)
		return;
	fz.tried = 1;
	fz.friso = friso_new();
	fz.friso->charset = FRISO_UTF8;
	fz.cfg = friso_new_config();
	fz.cfg->add_syn = 0;   /* synonyms would add words not in the text */
	fz.cfg->clr_stw = 0;   /* stopwords are decided here, see q_cjk */
	fz.cfg->keep_urec = 0;
	fz.cfg->spx_out = 0;
	fz.cfg->en_sseg = 0;   /* only CJK text reaches friso */
	friso_set_mode(fz.cfg, __FRISO_COMPLEX_MODE__);
	fz.friso->dic = friso_dic_new();
	friso_dic_load_from_ifile(fz.friso, fz.cfg, fz.dir, fz.cfg->max_len * 3);
	if (friso_spec_dic_size(fz.friso->dic, __LEX_CJK_WORDS__) == 0) {
		log_error("friso dictionary in %s has no words (reinstall friso-dict); "
			  "searching by single characters", fz.dir);
		text_friso_unload();
		return;
	}
	fz.task = friso_new_task();
}

static void text_friso_unload(void)
{
	if (fz.task)
		friso_free_task(fz.task);
	if (fz.friso)
		friso_free(fz.friso); /* and its dictionary */
	if (fz.cfg)
		friso_free_config(fz.cfg);
	fz.task = NULL;
	fz.friso = NULL;
	fz.cfg = NULL;
}

void text_friso_free(void)
{
	pthread_mutex_lock(&fz.mu);
	text_friso_unload();
	fz.tried = 0;
	fz.dir[0] = '\0';
	pthread_mutex_unlock(&fz.mu);
}

/* ------------------------------------------------------------------ */
/* collected terms                                                     */

/* Candidates kept per query, before stopwords are dropped. */
#define MAX_CAND 128

struct qterm {
	size_t off, len; /* in qterms.text */
	int stop;
};

struct qterms {
	struct text_emit em;
	struct buf text;
	struct qterm t[MAX_CAND];
	size_t n;
};

static void q_add(struct qterms *q, const char *p, size_t n, int stop)
{
	if (n == 0)
		return;
	for (size_t i = 0; i < q->n; i++) {
		if (q->t[i].len == n && memcmp(q->text.data + q->t[i].off, p, n) == 0) {
			q->t[i].stop &= stop;
			return;
		}
	}
	if (q->n == MAX_CAND)
		return;
	q->t[q->n] = (struct qterm){q->text.len, n, stop};
	q->n++;
	buf_append(&q->text, p, n);
}

/* Small on purpose: words that carry no meaning in a support search.  Only
 * queries drop them, and only when something else is left, so "the who"
 * still finds The Who. */
static const char *const en_stop[] = {
	"a", "about", "am", "an", "and", "any", "are", "as", "at", "be",
	"but", "by", "can", "could", "did", "do", "does", "for", "from", "had",
	"has", "have", "how", "i", "if", "in", "into", "is", "it", "its",
	"me", "my", "of", "on", "or", "our", "please", "so", "that", "the",
	"their", "them", "then", "there", "these", "they", "this", "to", "was",
	"we", "were", "what", "when", "where", "which", "who", "why", "will",
	"with", "would", "you", "your",
};

static int is_en_stop(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof en_stop / sizeof en_stop[0]; i++)
		if (strlen(en_stop[i]) == n && memcmp(en_stop[i], p, n) == 0)
			return 1;
	return 0;
}

/* Same parts rule as documents: a run with few parts is searched by its
 * parts (they are indexed both for "iphone15" and "iphone 15"), a longer
 * one by the whole run. */
static void q_word(struct text_emit *em, const char *p, size_t n)
{
	struct qterms *q = (struct qterms *)em;
	struct buf *t = &em->st->term;
	size_t nparts = text_part_count(p, n);
	size_t pos = 0;
	struct text_part part;

	if (nparts > TEXT_MAX_PARTS) {
		text_term_whole(p, n, t);
		q_add(q, t->data, t->len, 0);
		return;
	}
	while (text_part_next(p, n, &pos, &part)) {
		int stop = nparts == 1 && !part.digits && is_en_stop(part.p, part.n);
		text_term_part(em->st, &part, t);
		q_add(q, t->data, t->len, stop);
	}
}

/* ------------------------------------------------------------------ */
/* CJK queries                                                         */

struct qword {
	size_t off, len; /* bytes, in the CJK run */
	int chars, stop;
};

static size_t cp_len(const char *p, size_t n, size_t i)
{
	int32_t j = (int32_t)i;
	UChar32 c;
	U8_NEXT((const uint8_t *)p, j, (int32_t)n, c);
	(void)c;
	return (size_t)j - i;
}

static int count_chars(const char *p, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i += cp_len(p, n, i))
		k++;
	return k;
}

/* A segment of the query must appear contiguously: one character is
 * searched as itself, a longer segment as all its character pairs. */
static void q_segment(struct qterms *q, const char *p, size_t n, int stop)
{
	size_t a = cp_len(p, n, 0);
	if (a >= n) {
		q_add(q, p, n, stop);
		return;
	}
	for (size_t i = 0; i + a < n;) {
		size_t b = cp_len(p, n, i + a);
		q_add(q, p + i, a + b, stop);
		i += a;
		a = b;
	}
}

/* Words of a run of characters friso knows (utf8_cjk_string), appended to
 * w.  Should friso ever return something that is not the next piece of the
 * text, the rest is taken one character at a time. */
static size_t friso_words(const char *p, size_t n, struct qword *w, size_t nw)
{
	char *s = xstrndup(p, n);
	size_t pos = 0;

	pthread_mutex_lock(&fz.mu);
	friso_ensure();
	friso_token_t tok;
	if (fz.friso)
		friso_set_text(fz.task, s);
	while (fz.friso && pos < n &&
	       (tok = fz.cfg->next_token(fz.friso, fz.cfg, fz.task))) {
		size_t l = strlen(tok->word);
		if (l == 0 || l > n - pos || memcmp(s + pos, tok->word, l) != 0)
			break;
		w[nw].off = pos;
		w[nw].len = l;
		w[nw].chars = count_chars(s + pos, l);
		w[nw].stop = friso_dic_match(fz.friso->dic, __LEX_STOPWORDS__,
					     tok->word);
		nw++;
		pos += l;
	}
	/* Drop the task's pointer to s: the next query sets its own text. */
	static char empty[1];
	if (fz.friso)
		friso_set_text(fz.task, empty);
	pthread_mutex_unlock(&fz.mu);

	while (pos < n) {
		size_t l = cp_len(s, n, pos);
		w[nw++] = (struct qword){pos, l, 1, 0};
		pos += l;
	}
	free(s);
	return nw;
}

static void q_cjk(struct text_emit *em, const char *p, size_t n)
{
	struct qterms *q = (struct qterms *)em;
	/* At most one word per character, and a character is >= 3 bytes. */
	struct qword *w = xmalloc((n / 3 + 1) * sizeof *w);
	size_t nw = 0;

	/* friso only knows the characters its utf8_cjk_string() accepts (not
	 * kana, not the rarer Han extensions): those stand alone. */
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n) {
			int32_t k = (int32_t)j;
			UChar32 c;
			U8_NEXT((const uint8_t *)p, k, (int32_t)n, c);
			if (!utf8_cjk_string((uint_t)c))
				break;
			j = (size_t)k;
		}
		if (j > i) {
			size_t first = nw;
			nw = friso_words(p + i, j - i, w, nw);
			for (size_t k = first; k < nw; k++)
				w[k].off += i;
			i = j;
		} else {
			size_t l = cp_len(p, n, i);
			w[nw++] = (struct qword){i, l, 1, 0};
			i += l;
		}
	}

	/* Stopwords go; neighbouring single characters form one segment
	 * (friso's way of saying "not in my dictionary"). */
	int any = 0;
	size_t seg = 0, segend = 0; /* open single-character segment */
	int open = 0;
	for (size_t k = 0; k < nw; k++) {
		if (w[k].stop) {
			if (open)
				q_segment(q, p + seg, segend - seg, 0);
			open = 0;
			continue;
		}
		any = 1;
		if (w[k].chars == 1) {
			if (!open || segend != w[k].off) {
				if (open)
					q_segment(q, p + seg, segend - seg, 0);
				seg = w[k].off;
				open = 1;
			}
			segend = w[k].off + w[k].len;
			continue;
		}
		if (open)
			q_segment(q, p + seg, segend - seg, 0);
		open = 0;
		q_segment(q, p + w[k].off, w[k].len, 0);
	}
	if (open)
		q_segment(q, p + seg, segend - seg, 0);
	/* Only stopwords (我的, 的): search the run itself, flagged as
	 * stopword terms so other words of the query take precedence. */
	if (!any)
		q_segment(q, p, n, 1);
	free(w);
}

/* ------------------------------------------------------------------ */
/* builders                                                            */

enum style { STYLE_TERMS, STYLE_FTS5, STYLE_TSQUERY };

static void put_quoted(struct buf *out, const char *p, size_t n, char quote,
		       int backslash)
{
	buf_putc(out, quote);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == quote || (backslash && p[i] == '\\'))
			buf_putc(out, p[i]); /* "" in FTS5, '' and \\ in tsquery */
		buf_putc(out, p[i]);
	}
	buf_putc(out, quote);
}

static int query_build(const char *qs, struct buf *out, enum style style)
{
	struct text_state *st = text_state();
	size_t len = strlen(qs);
	len = text_u8_cut(qs, len, TEXT_QUERY_MAX_BYTES);

	struct qterms *q = xmalloc(sizeof *q);
	q->em = (struct text_emit){.word = q_word, .cjk = q_cjk, .st = st};
	q->text = (struct buf)BUF_INIT;
	q->n = 0;

	struct text_norm nm;
	text_normalize(st, qs, len, 1, &nm);
	text_scan(nm.p, nm.n, &q->em);
	text_norm_done(&nm);

	int want_stop = 1; /* keep stopword terms only if nothing else */
	for (size_t i = 0; i < q->n; i++)
		if (!q->t[i].stop)
			want_stop = 0;
	int emitted = 0;
	for (size_t i = 0; i < q->n && emitted < TEXT_QUERY_MAX_TERMS; i++) {
		if (q->t[i].stop && !want_stop)
			continue;
		const char *p = q->text.data + q->t[i].off;
		size_t n = q->t[i].len;
		switch (style) {
		case STYLE_TERMS:
			if (emitted)
				buf_putc(out, ' ');
			buf_append(out, p, n);
			break;
		case STYLE_FTS5:
			if (emitted)
				buf_puts(out, " AND ");
			put_quoted(out, p, n, '"', 0);
			break;
		case STYLE_TSQUERY:
			if (emitted)
				buf_puts(out, " & ");
			put_quoted(out, p, n, '\'', 1);
			break;
		}
		emitted++;
	}
	buf_free(&q->text);
	free(q);
	return emitted;
}

int text_query_terms(const char *q, struct buf *out)
{
	return query_build(q, out, STYLE_TERMS);
}

int text_query_fts5(const char *q, struct buf *out)
{
	return query_build(q, out, STYLE_FTS5) > 0 ? 0 : -1;
}

int text_query_tsquery(const char *q, struct buf *out)
{
	return query_build(q, out, STYLE_TSQUERY) > 0 ? 0 : -1;
}
