/*
 * internal.h -- pieces shared by tokenize.c and query.c; not an API.
 *
 * Owns: the per-thread state, the normalization step (ICU + OpenCC), the
 * character classes, the scanner that cuts normalized text into word runs
 * and CJK runs, and the helpers that turn a word run into terms.  Documents
 * (tokenize.c) and queries (query.c) share all of it, which is what keeps
 * the two sides agreeing on every term.
 */
#ifndef KEFU_TEXT_INTERNAL_H
#define KEFU_TEXT_INTERNAL_H

#include <stddef.h>

#include <unicode/utypes.h>

#include "util/buf.h"
#include "util/err.h"

/* Is the table of characters t2s changes built yet (tokenize.c)?  Until
 * it is, every document is converted.  For tests. */
int text_trad_built(void);

/* One per thread that tokenizes (see text_state()). */
struct text_state {
	struct sb_stemmer *stem; /* libstemmer objects are not thread-safe */
	UChar *u16;              /* input chunk as UTF-16 */
	int32_t u16_cap;
	UChar *nrm; /* NFKC_Casefold of u16 */
	int32_t nrm_cap;
	struct buf clean; /* kept characters as UTF-8, separators as ' ' */
	struct buf term;  /* scratch for one term */
	struct text_state *prev, *next; /* registry, for text_shutdown */
};

/* The calling thread's state, created on first use.  Aborts with a message
 * when text_init() has not succeeded. */
struct text_state *text_state(void);

/* Character classes after normalization. */
enum text_cls {
	TEXT_SEP,    /* punctuation, symbols, emoji, spaces, controls */
	TEXT_LETTER, /* letters of scripts written with spaces */
	TEXT_DIGIT,  /* numbers */
	TEXT_MARK,   /* combining marks: part of the word before them */
	TEXT_APOS,   /* ' or U+2019: inside a word (don't, customer's) */
	TEXT_CJK,    /* Han, Hiragana, Katakana: written without spaces */
};
enum text_cls text_classify(UChar32 c);

/* Normalized text of one piece of input.  p is valid UTF-8 with no NUL,
 * containing only characters of the classes above, runs of separators
 * collapsed to one ' '.  owned is non-NULL when OpenCC allocated p.
 * With always_t2s 0, OpenCC only runs when the piece contains a character
 * that t2s changes on its own (see trad_build in tokenize.c); queries pass
 * 1 so that phrase-level conversions (乾燥 -> 干燥) always apply to them. */
struct text_norm {
	const char *p;
	size_t n;
	char *owned;
};
void text_normalize(struct text_state *st, const char *s, size_t n,
		    int always_t2s, struct text_norm *out);
void text_norm_done(struct text_norm *nm);

/* The scanner calls word() for each run of letters/digits (with inner
 * marks and apostrophes) and cjk() for each run of CJK characters. */
struct text_emit {
	void (*word)(struct text_emit *em, const char *p, size_t n);
	void (*cjk)(struct text_emit *em, const char *p, size_t n);
	struct text_state *st;
};
void text_scan(const char *s, size_t n, struct text_emit *em);

/* Parts of a word run: maximal letter or digit stretches (iphone15 ->
 * iphone, 15).  text_part_next returns 0 when there are no more; *pos
 * starts at 0. */
struct text_part {
	const char *p;
	size_t n;
	int digits;
};
int text_part_next(const char *p, size_t n, size_t *pos, struct text_part *out);
size_t text_part_count(const char *p, size_t n);
/* Parts of a run this long or shorter are indexed and queried separately. */
#define TEXT_MAX_PARTS 4

/* The term for one part (letters stemmed, apostrophes removed, cut to
 * TEXT_TERM_MAX), or for a whole run (not stemmed), into out (reset). */
void text_term_part(struct text_state *st, const struct text_part *part,
		    struct buf *out);
void text_term_whole(const char *p, size_t n, struct buf *out);

/* Number of bytes of UTF-8 text p[0..n) to keep so that at most max bytes
 * remain and no character is cut. */
size_t text_u8_cut(const char *p, size_t n, size_t max);

/* query.c: friso, loaded by text_init, used for query segmentation. */
int text_friso_load(const char *dir, struct err *e);
void text_friso_free(void);

#endif
