/*
 * tokenize.c -- document terms, and the machinery queries share with them.
 *
 * Owns: text_init / text_shutdown (ICU normalizer, OpenCC converter, and
 * through query.c the friso dictionary), the per-thread state, the
 * normalization step, the scanner and word-run helpers of internal.h, and
 * text_tokens.  Query building lives in query.c.  See tokenize.h for the
 * pipeline and the reasons behind the CJK terms.
 */
#include "text/tokenize.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libstemmer.h>
#include <opencc.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include "text/internal.h"

/* Documents are processed in pieces of about this many bytes, so scratch
 * memory stays bounded however large a mail body is.  Pieces end at a
 * separator when one is near, so words are not cut. */
#define CHUNK (64 * 1024)
#define CHUNK_LOOKBACK 1024 /* characters searched back for a separator */

/* A letter part longer than this is no English word: not stemmed. */
#define STEM_MAX 128

/* Han characters live below this (BMP, SIP); the Traditional-character
 * bitmap covers them. */
#define TRAD_LIMIT 0x30000

static struct {
	pthread_mutex_t mu; /* init, shutdown, and the state registry */
	atomic_int ready;
	const UNormalizer2 *nfkc_cf; /* owned by ICU: never closed */
	opencc_t cc;
	/* bit per code point < TRAD_LIMIT: t2s changes it; NULL until built
	 * (then every document is converted, as if it were Traditional) */
	_Atomic(uint8_t *) trad;
	pthread_t trad_thread;
	int trad_running;       /* trad_thread to join */
	atomic_int trad_stop;   /* shutting down: stop building */
	pthread_key_t key; /* calling thread's struct text_state */
	struct text_state *states;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ------------------------------------------------------------------ */
/* init / shutdown / per-thread state                                  */

int text_init(struct err *e)
{
	return text_init_opts(NULL, e);
}

static void state_free(struct text_state *st)
{
	sb_stemmer_delete(st->stem);
	free(st->u16);
	free(st->nrm);
	buf_free(&st->clean);
	buf_free(&st->term);
	free(st);
}

static void state_unlink(struct text_state *st)
{
	if (st->prev)
		st->prev->next = st->next;
	else
		g.states = st->next;
	if (st->next)
		st->next->prev = st->prev;
}

/* pthread key destructor: a worker thread that exits frees its state. */
static void state_destroy(void *p)
{
	struct text_state *st = p;
	pthread_mutex_lock(&g.mu);
	state_unlink(st);
	pthread_mutex_unlock(&g.mu);
	state_free(st);
}

/* OpenCC is most of the cost of tokenizing Chinese (its phrase matching
 * runs over every character: about 8 MB/s of mixed text against 28 MB/s
 * without it), yet Simplified text, the bulk of what a mainland desk
 * stores, is left unchanged by it.  So every Han character is converted
 * once, alone, and those t2s changes are marked; a document is converted
 * only when it holds one of them.  Traditional text of any length
 * practically always does (們 個 這 說 會 來 ...).  Characters that t2s
 * changes only inside a phrase (瞭 in 瞭解 -> 了解) are marked too:
 * phrase_only below lists them, found by converting the s2t form of every
 * word of friso's 169,000-word lexicon both ways (gated and not) with
 * OpenCC 1.1.6; only 5 characters made a difference.  Queries are always
 * converted.
 *
 * The table takes about 100 ms to build, most of a process's start-up, so
 * a thread builds it after text_init has returned; until it is there every
 * document is converted (the same terms, only slower).  It is built in
 * slices of TRAD_SLICE characters so that text_shutdown (a short kefu
 * command) need not wait for the rest.  If a slice's result cannot be
 * lined up with its input, the table is never published and every
 * document is converted. */
#define TRAD_SLICE 8192

/* Mark the characters of the slice (one per line in in) that t2s changes;
 * -1 when the output does not line up. */
static int trad_slice(const struct buf *in, uint8_t *bits)
{
	char *out = opencc_convert_utf8(g.cc, in->data, in->len);
	if (!out || out == (char *)-1)
		return -1;
	const char *a = in->data, *b = out;
	int rc = 0;
	while (*a) {
		const char *ae = strchr(a, '\n'), *be = strchr(b, '\n');
		if (!be) {
			rc = -1;
			break;
		}
		if (ae - a != be - b || memcmp(a, b, (size_t)(ae - a)) != 0) {
			int32_t i = 0;
			UChar32 c;
			U8_NEXT_UNSAFE((const uint8_t *)a, i, c);
			bits[c >> 3] |= (uint8_t)(1u << (c & 7));
		}
		a = ae + 1;
		b = be + 1;
	}
	if (rc == 0 && *b) /* output longer than input */
		rc = -1;
	opencc_convert_utf8_free(out);
	return rc;
}

static uint8_t *trad_build(void)
{
	static const UChar32 ranges[][2] = {
		{0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xF900, 0xFAFF},
		{0x20000, 0x2FA1F},
	};
	uint8_t *bits = xcalloc(TRAD_LIMIT / 8, 1);
	struct buf in = BUF_INIT;
	int n = 0, rc = 0;
	for (size_t r = 0; rc == 0 && r < sizeof ranges / sizeof ranges[0]; r++) {
		for (UChar32 c = ranges[r][0]; rc == 0 && c <= ranges[r][1]; c++) {
			UErrorCode ue = U_ZERO_ERROR;
			if (uscript_getScript(c, &ue) != USCRIPT_HAN)
				continue;
			char u8[4];
			int32_t len = 0;
			U8_APPEND_UNSAFE(u8, len, c);
			buf_append(&in, u8, (size_t)len);
			buf_putc(&in, '\n'); /* no dictionary phrase spans a newline */
			if (++n % TRAD_SLICE == 0) {
				rc = atomic_load(&g.trad_stop) ? -1 : trad_slice(&in, bits);
				buf_reset(&in);
			}
		}
	}
	if (rc == 0 && in.len)
		rc = trad_slice(&in, bits);
	buf_free(&in);
	/* 沈 牴 瞭 藉 覆: also Simplified characters, so only phrases change
	 * them (沈没 -> 沉没, 瞭解 -> 了解, 藉口 -> 借口, 答覆 -> 答复). */
	static const UChar32 phrase_only[] = {0x6C88, 0x7274, 0x77AD, 0x85C9,
					      0x8986};
	for (size_t i = 0; i < sizeof phrase_only / sizeof *phrase_only; i++)
		bits[phrase_only[i] >> 3] |= (uint8_t)(1u << (phrase_only[i] & 7));
	if (rc < 0) {
		free(bits);
		return NULL;
	}
	return bits;
}

static void *trad_run(void *arg)
{
	(void)arg;
	atomic_store_explicit(&g.trad, trad_build(), memory_order_release);
	return NULL;
}

/* Does the character (CJK) ask for conversion? */
static int trad_char(UChar32 c)
{
	const uint8_t *t = atomic_load_explicit(&g.trad, memory_order_acquire);
	return !t || (c < TRAD_LIMIT && (t[c >> 3] >> (c & 7)) & 1);
}

int text_trad_built(void)
{
	return atomic_load_explicit(&g.trad, memory_order_acquire) != NULL;
}

static void trad_stop(void)
{
	if (g.trad_running) {
		atomic_store(&g.trad_stop, 1);
		pthread_join(g.trad_thread, NULL);
		g.trad_running = 0;
	}
	free(atomic_exchange(&g.trad, NULL));
}

int text_init_opts(const struct text_opts *o, struct err *e)
{
	const char *dict = o && o->friso_dict_dir ? o->friso_dict_dir
						  : TEXT_FRISO_DICT_DIR;
	const char *t2s = o && o->opencc_config ? o->opencc_config : TEXT_OPENCC_T2S;
	int rc = -1;

	pthread_mutex_lock(&g.mu);
	if (atomic_load(&g.ready)) {
		pthread_mutex_unlock(&g.mu);
		return 0;
	}
	UErrorCode ue = U_ZERO_ERROR;
	g.nfkc_cf = unorm2_getNFKCCasefoldInstance(&ue);
	if (U_FAILURE(ue)) {
		ERR_INTERNAL(e, "ICU NFKC_Casefold data unavailable: %s (libicu72)",
			     u_errorName(ue));
		goto out;
	}
	/* OpenCC reports a missing file through opencc_error(); checking first
	 * gives a message that names the package. */
	if (access(t2s, R_OK) != 0) {
		ERR_INTERNAL(e, "OpenCC config %s not readable (install "
				"libopencc-data)", t2s);
		goto out;
	}
	g.cc = opencc_open(t2s);
	if (g.cc == (opencc_t)-1 || g.cc == NULL) {
		g.cc = NULL;
		ERR_INTERNAL(e, "OpenCC cannot load %s: %s", t2s, opencc_error());
		goto out;
	}
	if (text_friso_load(dict, e) != 0) {
		opencc_close(g.cc);
		g.cc = NULL;
		goto out;
	}
	if (pthread_key_create(&g.key, state_destroy) != 0) {
		text_friso_free();
		opencc_close(g.cc);
		g.cc = NULL;
		ERR_INTERNAL(e, "pthread_key_create failed");
		goto out;
	}
	atomic_store(&g.trad_stop, 0);
	g.trad_running = pthread_create(&g.trad_thread, NULL, trad_run, NULL) == 0;
	if (!g.trad_running)
		trad_run(NULL);
	atomic_store(&g.ready, 1);
	rc = 0;
out:
	pthread_mutex_unlock(&g.mu);
	return rc;
}

void text_shutdown(void)
{
	pthread_mutex_lock(&g.mu);
	if (atomic_load(&g.ready)) {
		atomic_store(&g.ready, 0);
		/* Deleting the key first means no destructor can run on a state
		 * freed below; a later text_init creates a fresh key, whose value
		 * POSIX guarantees is NULL in every thread. */
		pthread_key_delete(g.key);
		while (g.states) {
			struct text_state *st = g.states;
			state_unlink(st);
			state_free(st);
		}
		trad_stop(); /* before the converter it uses goes */
		text_friso_free();
		opencc_close(g.cc);
		g.cc = NULL;
		g.nfkc_cf = NULL;
	}
	pthread_mutex_unlock(&g.mu);
}

struct text_state *text_state(void)
{
	if (!atomic_load(&g.ready)) {
		fputs("kefu: text_* called before a successful text_init()\n",
		      stderr);
		abort();
	}
	struct text_state *st = pthread_getspecific(g.key);
	if (st)
		return st;
	st = xcalloc(1, sizeof *st);
	st->stem = sb_stemmer_new("english", "UTF_8");
	if (!st->stem) { /* only on out of memory */
		fputs("kefu: out of memory (libstemmer)\n", stderr);
		abort();
	}
	pthread_mutex_lock(&g.mu);
	st->next = g.states;
	if (g.states)
		g.states->prev = st;
	g.states = st;
	pthread_mutex_unlock(&g.mu);
	pthread_setspecific(g.key, st);
	return st;
}

/* ------------------------------------------------------------------ */
/* character classes                                                   */

static const unsigned char ascii_cls[128] = {
	['0'] = TEXT_DIGIT, ['1'] = TEXT_DIGIT, ['2'] = TEXT_DIGIT,
	['3'] = TEXT_DIGIT, ['4'] = TEXT_DIGIT, ['5'] = TEXT_DIGIT,
	['6'] = TEXT_DIGIT, ['7'] = TEXT_DIGIT, ['8'] = TEXT_DIGIT,
	['9'] = TEXT_DIGIT, ['\''] = TEXT_APOS,
#define L(c) [c] = TEXT_LETTER, [c - 32] = TEXT_LETTER
	L('a'), L('b'), L('c'), L('d'), L('e'), L('f'), L('g'), L('h'),
	L('i'), L('j'), L('k'), L('l'), L('m'), L('n'), L('o'), L('p'),
	L('q'), L('r'), L('s'), L('t'), L('u'), L('v'), L('w'), L('x'),
	L('y'), L('z'),
#undef L
};

static int is_cjk(UChar32 c)
{
	if (c == 0x30FC) /* ー, Katakana prolonged sound mark (script Common) */
		return 1;
	UErrorCode ue = U_ZERO_ERROR;
	UScriptCode sc = uscript_getScript(c, &ue);
	return sc == USCRIPT_HAN || sc == USCRIPT_HIRAGANA ||
	       sc == USCRIPT_KATAKANA || sc == USCRIPT_KATAKANA_OR_HIRAGANA ||
	       u_hasBinaryProperty(c, UCHAR_IDEOGRAPHIC);
}

enum text_cls text_classify(UChar32 c)
{
	if (c >= 0 && c < 0x80)
		return (enum text_cls)ascii_cls[c];
	if (c >= 0x4E00 && c <= 0x9FFF) /* the common CJK block, fast */
		return TEXT_CJK;
	if (c == 0x2019) /* right single quotation mark, used as apostrophe */
		return TEXT_APOS;
	if (c < 0)
		return TEXT_SEP;
	switch (u_charType(c)) {
	case U_UPPERCASE_LETTER:
	case U_LOWERCASE_LETTER:
	case U_TITLECASE_LETTER:
	case U_MODIFIER_LETTER:
	case U_OTHER_LETTER:
		return is_cjk(c) ? TEXT_CJK : TEXT_LETTER;
	case U_LETTER_NUMBER: /* 〇 is Han; Roman numerals NFKC to letters */
		return is_cjk(c) ? TEXT_CJK : TEXT_DIGIT;
	case U_DECIMAL_DIGIT_NUMBER:
	case U_OTHER_NUMBER:
		return TEXT_DIGIT;
	case U_NON_SPACING_MARK:
	case U_COMBINING_SPACING_MARK:
	case U_ENCLOSING_MARK:
		return TEXT_MARK;
	default:
		return TEXT_SEP;
	}
}

/* ------------------------------------------------------------------ */
/* normalization                                                       */

/* The normalized text being written, and what it has seen so far. */
struct cleaner {
	struct buf *b;
	enum text_cls last; /* class of the last character written */
	int cjk;            /* a CJK character was written */
	int trad;           /* a character t2s changes was written */
};

/* Append code point c (of class k) to the clean text, applying the
 * context rules: separators collapse to one space, marks survive only
 * after a letter or digit (after a separator or a CJK character they are
 * noise), U+2019 becomes '. */
static void clean_put(struct cleaner *cl, UChar32 c, enum text_cls k)
{
	switch (k) {
	case TEXT_SEP:
		if (cl->last != TEXT_SEP)
			buf_putc(cl->b, ' ');
		cl->last = TEXT_SEP;
		return;
	case TEXT_MARK:
		if (cl->last != TEXT_LETTER && cl->last != TEXT_DIGIT &&
		    cl->last != TEXT_MARK)
			return;
		break;
	case TEXT_APOS:
		buf_putc(cl->b, '\'');
		cl->last = k;
		return;
	case TEXT_CJK:
		cl->cjk = 1;
		if (trad_char(c))
			cl->trad = 1;
		break;
	default:
		break;
	}
	char u8[4];
	int32_t i = 0;
	UBool bad = 0;
	U8_APPEND(u8, i, 4, c, bad);
	if (bad)
		return;
	buf_append(cl->b, u8, (size_t)i);
	cl->last = k;
}

static int all_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

static void grow16(UChar **p, int32_t *cap, int32_t need)
{
	if (*cap >= need)
		return;
	*p = xrealloc(*p, (size_t)need * sizeof(UChar));
	*cap = need;
}

void text_normalize(struct text_state *st, const char *s, size_t n,
		    int always_t2s, struct text_norm *out)
{
	struct cleaner cl = {.b = &st->clean, .last = TEXT_SEP};
	buf_reset(&st->clean);
	buf_reserve(&st->clean, n + 1);
	out->owned = NULL;

	if (all_ascii(s, n)) {
		/* NFKC_Casefold of ASCII is plain lower-casing; skip ICU.  The
		 * output is no longer than the input, for which room was
		 * reserved above: write in place (the hot loop for English). */
		char *w = st->clean.data;
		int sep = 1;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (ascii_cls[c] == TEXT_SEP) {
				if (!sep)
					*w++ = ' ';
				sep = 1;
				continue;
			}
			*w++ = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			sep = 0;
		}
		st->clean.len = (size_t)(w - st->clean.data);
		st->clean.data[st->clean.len] = '\0';
	} else {
		/* n <= CHUNK or TEXT_QUERY_MAX_BYTES, far below INT32_MAX. */
		UErrorCode ue = U_ZERO_ERROR;
		int32_t n16 = 0;
		grow16(&st->u16, &st->u16_cap, (int32_t)n + 1);
		u_strFromUTF8WithSub(st->u16, st->u16_cap, &n16, s, (int32_t)n,
				     0xFFFD, NULL, &ue);
		if (U_FAILURE(ue))
			n16 = 0;
		grow16(&st->nrm, &st->nrm_cap, n16 + n16 / 2 + 16);
		ue = U_ZERO_ERROR;
		int32_t nn = unorm2_normalize(g.nfkc_cf, st->u16, n16, st->nrm,
					      st->nrm_cap, &ue);
		if (ue == U_BUFFER_OVERFLOW_ERROR) {
			grow16(&st->nrm, &st->nrm_cap, nn + 1);
			ue = U_ZERO_ERROR;
			nn = unorm2_normalize(g.nfkc_cf, st->u16, n16, st->nrm,
					      st->nrm_cap, &ue);
		}
		if (U_FAILURE(ue))
			nn = 0;
		for (int32_t i = 0; i < nn;) {
			UChar32 c;
			U16_NEXT(st->nrm, i, nn, c);
			clean_put(&cl, c, text_classify(c));
		}
	}
	out->p = st->clean.data;
	out->n = st->clean.len;

	/* Traditional -> Simplified only where there is something to convert
	 * (see trad_build).  The converter is shared: OpenCC's conversion is
	 * const and documented thread-safe. */
	if (cl.cjk && (cl.trad || always_t2s) && g.cc) {
		char *conv = opencc_convert_utf8(g.cc, st->clean.data, st->clean.len);
		if (conv && conv != (char *)-1) {
			out->owned = conv;
			out->p = conv;
			out->n = strlen(conv);
		}
	}
}

void text_norm_done(struct text_norm *nm)
{
	if (nm->owned)
		opencc_convert_utf8_free(nm->owned);
	nm->owned = NULL;
}

/* ------------------------------------------------------------------ */
/* scanner and word runs                                               */

/* Decode the code point at s[*i] (valid UTF-8 by construction). */
static UChar32 next_cp(const char *s, size_t n, size_t *i)
{
	int32_t j = (int32_t)*i;
	UChar32 c;
	U8_NEXT((const uint8_t *)s, j, (int32_t)n, c);
	*i = (size_t)j;
	return c;
}

void text_scan(const char *s, size_t n, struct text_emit *em)
{
	size_t i = 0;
	while (i < n) {
		size_t start = i;
		enum text_cls k = text_classify(next_cp(s, n, &i));
		if (k == TEXT_CJK) {
			size_t end = i;
			while (end < n) {
				size_t j = end;
				if (text_classify(next_cp(s, n, &j)) != TEXT_CJK)
					break;
				end = j;
			}
			em->cjk(em, s + start, end - start);
			i = end;
		} else if (k == TEXT_LETTER || k == TEXT_DIGIT) {
			/* A word run: letters, digits, marks, and apostrophes that
			 * sit between two letters. */
			size_t end = i;
			enum text_cls last = k;
			while (end < n) {
				size_t j = end;
				enum text_cls c = text_classify(next_cp(s, n, &j));
				if (c == TEXT_APOS) {
					size_t j2 = j;
					if (last != TEXT_LETTER || j2 >= n ||
					    text_classify(next_cp(s, n, &j2)) !=
						    TEXT_LETTER)
						break;
				} else if (c == TEXT_MARK) {
					c = last; /* a mark extends what it follows */
				} else if (c != TEXT_LETTER && c != TEXT_DIGIT) {
					break;
				}
				last = c;
				end = j;
			}
			em->word(em, s + start, end - start);
			i = end;
		}
		/* separators, stray marks and apostrophes: skipped */
	}
}

int text_part_next(const char *p, size_t n, size_t *pos, struct text_part *out)
{
	size_t i = *pos;
	if (i >= n)
		return 0;
	size_t start = i;
	int digits = text_classify(next_cp(p, n, &i)) == TEXT_DIGIT;
	while (i < n) {
		size_t j = i;
		enum text_cls c = text_classify(next_cp(p, n, &j));
		if (c == TEXT_DIGIT ? !digits : (c == TEXT_LETTER && digits))
			break; /* marks and apostrophes stay with their part */
		i = j;
	}
	out->p = p + start;
	out->n = i - start;
	out->digits = digits;
	*pos = i;
	return 1;
}

size_t text_part_count(const char *p, size_t n)
{
	size_t pos = 0, count = 0;
	struct text_part part;
	while (text_part_next(p, n, &pos, &part))
		count++;
	return count;
}

size_t text_u8_cut(const char *p, size_t n, size_t max)
{
	if (n <= max)
		return n;
	size_t k = max;
	while (k > 0 && ((unsigned char)p[k] & 0xC0) == 0x80)
		k--;
	return k;
}

/* Remove apostrophes (don't -> dont: the stemmer has used them already)
 * and cut the term to TEXT_TERM_MAX bytes. */
static void term_finish(struct buf *b)
{
	size_t w = 0;
	for (size_t r = 0; r < b->len; r++)
		if (b->data[r] != '\'')
			b->data[w++] = b->data[r];
	b->len = text_u8_cut(b->data, w, TEXT_TERM_MAX);
	b->data[b->len] = '\0';
}

/* The English stemmer is only run on Latin-script words (code points
 * below U+0250); other scripts pass unchanged. */
static int stemmable(const char *p, size_t n)
{
	if (n > STEM_MAX)
		return 0;
	for (size_t i = 0; i < n;) {
		if ((unsigned char)p[i] < 0x80) {
			i++;
			continue;
		}
		if (next_cp(p, n, &i) >= 0x250)
			return 0;
	}
	return 1;
}

void text_term_part(struct text_state *st, const struct text_part *part,
		    struct buf *out)
{
	buf_reset(out);
	if (!part->digits && stemmable(part->p, part->n)) {
		const sb_symbol *r = sb_stemmer_stem(st->stem,
						     (const sb_symbol *)part->p,
						     (int)part->n);
		if (r) {
			buf_append(out, r, (size_t)sb_stemmer_length(st->stem));
			term_finish(out);
			return;
		}
	}
	buf_append(out, part->p, part->n);
	term_finish(out);
}

void text_term_whole(const char *p, size_t n, struct buf *out)
{
	buf_reset(out);
	buf_append(out, p, n);
	term_finish(out);
}

/* ------------------------------------------------------------------ */
/* documents                                                           */

struct doc_emit {
	struct text_emit em;
	struct buf *out;
};

static void doc_put(struct buf *out, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (out->len && out->data[out->len - 1] != ' ')
		buf_putc(out, ' ');
	buf_append(out, p, n);
}

/* iphone15: the run itself, and its parts when there are few (a long
 * alternation like a hex id would only add noise terms). */
static void doc_word(struct text_emit *em, const char *p, size_t n)
{
	struct doc_emit *d = (struct doc_emit *)em;
	struct buf *t = &em->st->term;
	size_t nparts = text_part_count(p, n);
	size_t pos = 0;
	struct text_part part;

	if (nparts > 1) {
		text_term_whole(p, n, t);
		doc_put(d->out, t->data, t->len);
		if (nparts > TEXT_MAX_PARTS)
			return;
	}
	while (text_part_next(p, n, &pos, &part)) {
		text_term_part(em->st, &part, t);
		doc_put(d->out, t->data, t->len);
	}
}

/* Every character and every pair of neighbours (see tokenize.h). */
static void doc_cjk(struct text_emit *em, const char *p, size_t n)
{
	struct doc_emit *d = (struct doc_emit *)em;
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		next_cp(p, n, &j);
		doc_put(d->out, p + i, j - i);
		if (j < n) {
			size_t k = j;
			next_cp(p, n, &k);
			doc_put(d->out, p + i, k - i);
		}
		i = j;
	}
}

/* Where to end a piece of at most max bytes: just after a separator found
 * within CHUNK_LOOKBACK characters of the limit, else at a character
 * boundary. */
static size_t chunk_end(const char *s, size_t max)
{
	size_t end = max;
	for (int k = 0; k < 3 && end > 0 && ((unsigned char)s[end] & 0xC0) == 0x80;
	     k++)
		end--;
	if (end == 0)
		return max;
	int32_t i = (int32_t)end;
	for (int steps = 0; steps < CHUNK_LOOKBACK && i > 0; steps++) {
		int32_t after = i;
		UChar32 c;
		U8_PREV((const uint8_t *)s, 0, i, c);
		if (c < 0 || text_classify(c) == TEXT_SEP)
			return (size_t)after;
	}
	return end;
}

void text_tokens(const char *s, size_t len, struct buf *out)
{
	struct text_state *st = text_state();
	struct doc_emit d = {
		.em = {.word = doc_word, .cjk = doc_cjk, .st = st},
		.out = out,
	};
	while (len > 0) {
		size_t n = len <= CHUNK ? len : chunk_end(s, CHUNK);
		struct text_norm nm;
		text_normalize(st, s, n, 0, &nm);
		text_scan(nm.p, nm.n, &d.em);
		text_norm_done(&nm);
		s += n;
		len -= n;
	}
}
