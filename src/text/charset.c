/*
 * charset.c -- legacy charsets to UTF-8 under the e-mail channel's policy
 * (see charset.h): the name table, the ICU conversion that counts invalid
 * sequences instead of hiding them, the fallback chain, and RFC 2047
 * header decoding.  Nothing here knows about MIME parts.
 */
#include "text/charset.h"

#include <ctype.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uchardet/uchardet.h>
#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>
#include <unicode/ustring.h>

#include "util/buf.h"

/* ------------------------------------------------------------------ */
/* names                                                               */

/* Declared names that must not be taken at their word.  The supersets
 * are what senders' software really writes: Outlook and Foxmail label GBK
 * text "gb2312", Hong Kong mail labelled "big5" uses HKSCS characters,
 * Korean mail labelled "ks_c_5601-1987" or "euc-kr" is Windows-949
 * (UHC).  ISO-8859-1 is read as Windows-1252 as browsers do: mail
 * labelled Latin-1 uses the 0x80-0x9F quotes and dashes of Windows. */
static const struct {
	const char *name, *use;
} aliases[] = {
	{"gb2312", "gb18030"},       {"gbk", "gb18030"},
	{"x-gbk", "gb18030"},        {"cp936", "gb18030"},
	{"ms936", "gb18030"},        {"windows-936", "gb18030"},
	{"euc-cn", "gb18030"},       {"x-euc-cn", "gb18030"},
	{"csgb2312", "gb18030"},     {"gb_2312-80", "gb18030"},
	{"chinese", "gb18030"},      {"gb18030", "gb18030"},
	{"big5", "big5-hkscs"},      {"x-big5", "big5-hkscs"},
	{"cn-big5", "big5-hkscs"},   {"csbig5", "big5-hkscs"},
	{"big5hkscs", "big5-hkscs"}, {"big5-hkscs", "big5-hkscs"},
	{"ks_c_5601-1987", "windows-949"}, {"ks_c_5601", "windows-949"},
	{"ksc5601", "windows-949"},  {"euc-kr", "windows-949"},
	{"cp949", "windows-949"},    {"uhc", "windows-949"},
	{"windows-949", "windows-949"}, {"x-windows-949", "windows-949"},
	{"shift_jis", "shift_jis"},  {"shift-jis", "shift_jis"},
	{"sjis", "shift_jis"},       {"x-sjis", "shift_jis"},
	{"ms_kanji", "shift_jis"},   {"csshiftjis", "shift_jis"},
	{"cp932", "windows-31j"},    {"windows-31j", "windows-31j"},
	{"euc-jp", "euc-jp"},        {"x-euc-jp", "euc-jp"},
	{"iso-2022-jp", "iso-2022-jp"},
	{"utf-8", "utf-8"},          {"utf8", "utf-8"},
	{"us-ascii", "us-ascii"},    {"ascii", "us-ascii"},
	{"ansi_x3.4-1968", "us-ascii"},
	{"iso-8859-1", "windows-1252"}, {"iso8859-1", "windows-1252"},
	{"iso_8859-1", "windows-1252"}, {"latin1", "windows-1252"},
	{"l1", "windows-1252"},      {"cp1252", "windows-1252"},
	{"windows-1252", "windows-1252"},
	{"koi8-r", "koi8-r"},        {"koi8-u", "koi8-u"},
};

/* Labels that say "we do not know": treated as no declaration at all. */
static const char *const unknown_labels[] = {
	"unknown-8bit", "x-unknown", "unknown", "8bit", "default",
	"x-user-defined", "charset", NULL};

/* True when ICU has a converter by that name. */
static int icu_has(const char *name)
{
	UErrorCode st = U_ZERO_ERROR;
	UConverter *c = ucnv_open(name, &st);
	if (U_FAILURE(st))
		return 0;
	ucnv_close(c);
	return 1;
}

const char *charset_canonical(const char *declared)
{
	char name[64];
	size_t n = 0;
	if (!declared)
		return NULL;
	/* Trim quotes and blanks senders leave around the name. */
	while (*declared == ' ' || *declared == '"' || *declared == '\'')
		declared++;
	for (; declared[n] && n < sizeof name - 1; n++)
		name[n] = declared[n];
	while (n && strchr(" \"'\t;", name[n - 1]))
		n--;
	name[n] = 0;
	if (!n)
		return NULL;
	for (const char *const *u = unknown_labels; *u; u++)
		if (!strcasecmp(name, *u))
			return NULL;
	for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
		if (!strcasecmp(name, aliases[i].name))
			return aliases[i].use;
	/* Anything else ICU knows, under the name ICU's tables give it
	 * (static data, so the pointer stays valid). */
	UErrorCode st = U_ZERO_ERROR;
	UConverter *c = ucnv_open(name, &st);
	if (U_FAILURE(st))
		return NULL;
	/* The converter's name may live in the converter (algorithmic
	 * ones with options), so copy it before closing; what we return
	 * comes from ICU's static alias table. */
	char internal[64];
	snprintf(internal, sizeof internal, "%s", ucnv_getName(c, &st));
	ucnv_close(c);
	if (U_FAILURE(st))
		return NULL;
	st = U_ZERO_ERROR;
	const char *std = ucnv_getStandardName(internal, "MIME", &st);
	if (!std || U_FAILURE(st)) {
		st = U_ZERO_ERROR;
		std = ucnv_getStandardName(internal, "IANA", &st);
	}
	if (!std || U_FAILURE(st)) {
		st = U_ZERO_ERROR;
		std = ucnv_getAlias(internal, 0, &st); /* ICU's own name */
	}
	return std && !U_FAILURE(st) && icu_has(std) ? std : NULL;
}

const char *charset_detect(const void *in, size_t len)
{
	uchardet_t ud = uchardet_new();
	if (!ud)
		return NULL;
	const char *res = NULL;
	if (uchardet_handle_data(ud, in, len) == 0) {
		uchardet_data_end(ud);
		const char *g = uchardet_get_charset(ud);
		if (g && *g && strcasecmp(g, "ASCII") != 0)
			res = charset_canonical(g);
	}
	uchardet_delete(ud);
	return res;
}

/* ------------------------------------------------------------------ */
/* conversion                                                          */

/* ICU's own substitution writes U+001A for some converters; ours always
 * writes U+FFFD and counts, so the caller can judge the decoding. */
static void count_invalid(const void *ctx, UConverterToUnicodeArgs *args,
			  const char *units, int32_t n,
			  UConverterCallbackReason why, UErrorCode *st)
{
	static const UChar fffd = 0xFFFD;
	(void)units;
	(void)n;
	if (why > UCNV_IRREGULAR)
		return; /* reset, close, clone: nothing to write */
	(*(size_t *)ctx)++;
	*st = U_ZERO_ERROR;
	ucnv_cbToUWriteUChars(args, &fffd, 1, 0, st);
}

/* UTF-16 to UTF-8 without NULs; NULL when memory runs out. */
static char *utf16_to_utf8(const UChar *u, int32_t nu, size_t *out_len)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t need = 0;
	u_strToUTF8WithSub(NULL, 0, &need, u, nu, 0xFFFD, NULL, &st);
	char *s = malloc((size_t)need + 1);
	if (!s)
		return NULL;
	st = U_ZERO_ERROR;
	u_strToUTF8WithSub(s, need + 1, &need, u, nu, 0xFFFD, NULL, &st);
	size_t k = 0;
	for (int32_t i = 0; i < need; i++)
		if (s[i])
			s[k++] = s[i];
	s[k] = 0;
	if (out_len)
		*out_len = k;
	return s;
}

/* Convert with converter `name`; *invalid counts the sequences replaced.
 * NULL when the converter cannot be opened or memory runs out. */
static char *convert(const char *name, const char *in, size_t len,
		     size_t *out_len, size_t *invalid)
{
	UErrorCode st = U_ZERO_ERROR;
	UConverter *c = ucnv_open(name, &st);
	if (U_FAILURE(st))
		return NULL;
	*invalid = 0;
	ucnv_setToUCallBack(c, count_invalid, invalid, NULL, NULL, &st);
	/* One UTF-16 unit per input byte is enough for almost every
	 * charset (a GB18030 four-byte sequence gives two); grow if not. */
	size_t cap = len + 16;
	UChar *u = NULL;
	char *res = NULL;
	for (;;) {
		if (cap > (size_t)INT32_MAX / 2)
			goto out;
		UChar *nu = realloc(u, cap * sizeof *u);
		if (!nu)
			goto out;
		u = nu;
		ucnv_resetToUnicode(c);
		*invalid = 0;
		st = U_ZERO_ERROR;
		UChar *t = u;
		const char *s = in;
		ucnv_toUnicode(c, &t, u + cap, &s, in + len, NULL, 1, &st);
		if (st == U_BUFFER_OVERFLOW_ERROR) {
			cap *= 2;
			continue;
		}
		if (U_FAILURE(st))
			goto out;
		res = utf16_to_utf8(u, (int32_t)(t - u), out_len);
		break;
	}
out:
	free(u);
	ucnv_close(c);
	return res;
}

/* A conversion kept only when it found no invalid byte. */
static char *convert_strict(const char *name, const char *in, size_t len,
			    size_t *out_len)
{
	size_t bad = 0, n = 0;
	char *s = name ? convert(name, in, len, &n, &bad) : NULL;
	if (s && bad) {
		free(s);
		s = NULL;
	}
	if (s && out_len) /* untouched on failure: the caller may hold one */
		*out_len = n;
	return s;
}

static int is_multibyte(const char *name)
{
	UErrorCode st = U_ZERO_ERROR;
	UConverter *c = ucnv_open(name, &st);
	if (U_FAILURE(st))
		return 0;
	int mb = ucnv_getMaxCharSize(c) > 1;
	ucnv_close(c);
	return mb;
}

static int has_8bit(const char *in, size_t len, int *esc)
{
	int hi = 0;
	*esc = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];
		hi |= ch >= 0x80;
		*esc |= ch == 0x1B;
	}
	return hi;
}

static char *set_result(char *s, struct charset_result *res, const char *cs,
			int guessed, size_t invalid)
{
	if (res) {
		res->charset = cs;
		res->guessed = guessed;
		res->invalid = invalid;
	}
	return s;
}

/* Nothing (usable) declared: UTF-8 if it is valid UTF-8, else uchardet's
 * guess if it fits, else GB18030 if it fits (we serve Chinese customers
 * first, and uchardet is weak on short texts), else Windows-1252, else
 * Latin-1, which fits anything. */
static char *decode_undeclared(const char *in, size_t len, size_t *out_len,
			       struct charset_result *res)
{
	int esc;
	char *s;
	if (!has_8bit(in, len, &esc) && !esc) {
		s = convert_strict("us-ascii", in, len, out_len);
		return set_result(s, res, "us-ascii", 0, 0);
	}
	const char *guess = charset_detect(in, len);
	if (esc && guess && (s = convert_strict(guess, in, len, out_len)))
		return set_result(s, res, guess, 1, 0); /* ISO-2022-* */
	static const char *const chain[] = {"utf-8", NULL, "gb18030",
					    "windows-1252"};
	for (size_t i = 0; i < sizeof chain / sizeof *chain; i++) {
		const char *cs = chain[i] ? chain[i] : guess;
		if ((s = convert_strict(cs, in, len, out_len)))
			return set_result(s, res, cs, 1, 0);
	}
	size_t bad = 0;
	s = convert("iso-8859-1", in, len, out_len, &bad);
	return set_result(s, res, "iso-8859-1", 1, bad);
}

/* A Latin label on bytes that are valid UTF-8 (and not plain ASCII) is
 * the commonest mislabelling there is; a Latin-1 text that happens to be
 * valid UTF-8 is vanishingly rare. */
static int latin_label(const char *cs)
{
	return !strncmp(cs, "windows-125", 11) || !strncasecmp(cs, "iso-8859-", 9);
}

char *charset_decode(const void *vin, size_t len, const char *declared,
		     size_t *out_len, struct charset_result *res)
{
	const char *in = vin ? vin : "";
	const char *cs = charset_canonical(declared);
	if (!cs)
		return decode_undeclared(in, len, out_len, res);
	size_t bad = 0;
	char *s = convert(cs, in, len, out_len, &bad);
	if (!s)
		return decode_undeclared(in, len, out_len, res);
	int esc;
	char *alt;
	if (!bad) {
		if (latin_label(cs) && has_8bit(in, len, &esc) &&
		    (alt = convert_strict("utf-8", in, len, out_len))) {
			free(s);
			return set_result(alt, res, "utf-8", 1, 0);
		}
		return set_result(s, res, cs, 0, 0);
	}
	/* The declared charset does not fit.  Try what the bytes look
	 * like; but a guessed single-byte charset always "fits", so it
	 * does not overrule a declared multi-byte one (a GBK text with a
	 * few broken bytes is still best read as GBK). */
	size_t alt_len = 0;
	if (strcmp(cs, "utf-8") != 0 &&
	    (alt = convert_strict("utf-8", in, len, &alt_len)))
		goto use_alt;
	const char *guess = charset_detect(in, len);
	if (guess && strcmp(guess, cs) != 0 &&
	    (is_multibyte(guess) || !is_multibyte(cs)) &&
	    (alt = convert_strict(guess, in, len, &alt_len))) {
		free(s);
		if (out_len)
			*out_len = alt_len;
		return set_result(alt, res, guess, 1, 0);
	}
	return set_result(s, res, cs, 0, bad);
use_alt:
	free(s);
	if (out_len)
		*out_len = alt_len;
	return set_result(alt, res, "utf-8", 1, 0);
}

/* ------------------------------------------------------------------ */
/* header text (RFC 2047)                                              */

/* Bytes waiting to be decoded, all in one charset: the text of adjacent
 * encoded-words of that charset (NULL charset: raw header bytes). */
struct run {
	struct buf bytes;
	char cs[64];
	int encoded;
};

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Lenient: bytes that are not base64 are skipped, padding is optional. */
static void b_decode(const char *s, size_t n, struct buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)s[i]);
		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((acc >> bits) & 0xFF));
		}
	}
}

static void q_decode(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;
		if (s[i] == '_')
			buf_putc(out, ' ');
		else if (s[i] == '=' && i + 2 < n &&
			 (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
			 (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			buf_putc(out, (char)(hi * 16 + lo));
			i += 2;
		} else
			buf_putc(out, s[i]);
	}
}

/* An encoded-word "=?charset[*lang]?B|Q?text?=" at s: its length, its
 * charset into cs and its decoded bytes appended to *bytes; 0 when s does
 * not start one (then nothing is appended). */
static size_t encoded_word(const char *s, size_t n, char cs[64],
			   struct buf *bytes)
{
	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	size_t i = 2, c0 = 2;
	while (i < n && s[i] != '?' && !isspace((unsigned char)s[i]))
		i++;
	if (i >= n || s[i] != '?' || i == c0 || i - c0 >= 64)
		return 0;
	size_t clen = i - c0;
	if (i + 2 >= n)
		return 0;
	char enc = (char)toupper((unsigned char)s[i + 1]);
	if ((enc != 'B' && enc != 'Q') || s[i + 2] != '?')
		return 0;
	size_t t0 = i + 3, t = t0;
	while (t + 1 < n && !(s[t] == '?' && s[t + 1] == '=') &&
	       !isspace((unsigned char)s[t]))
		t++;
	if (t + 1 >= n || s[t] != '?' || s[t + 1] != '=')
		return 0;
	memcpy(cs, s + c0, clen);
	cs[clen] = 0;
	char *star = strchr(cs, '*'); /* RFC 2231 language suffix */
	if (star)
		*star = 0;
	if (enc == 'B')
		b_decode(s + t0, t - t0, bytes);
	else
		q_decode(s + t0, t - t0, bytes);
	return t + 2;
}

static void run_flush(struct run *r, struct buf *out)
{
	if (r->bytes.len) {
		size_t n = 0;
		char *s = charset_decode(r->bytes.data, r->bytes.len,
					 r->encoded ? r->cs : NULL, &n, NULL);
		buf_append(out, s, n);
		free(s);
	}
	buf_reset(&r->bytes);
	r->encoded = 0;
	r->cs[0] = 0;
}

/* Append encoded-word bytes, joining them to the run when the charset is
 * the same: a multi-byte character is often split across two words. */
static void run_add_word(struct run *r, const char *cs, struct buf *w,
			 struct buf *out)
{
	if (!r->encoded || strcasecmp(r->cs, cs) != 0) {
		run_flush(r, out);
		r->encoded = 1;
		snprintf(r->cs, sizeof r->cs, "%s", cs);
	}
	buf_append(&r->bytes, w->data, w->len);
}

/* Controls become spaces; blanks at both ends go. */
static char *header_tidy(struct buf *out)
{
	size_t a = 0, k = 0;
	for (size_t i = 0; i < out->len; i++) {
		unsigned char ch = (unsigned char)out->data[i];
		if (ch < 0x20 || ch == 0x7F)
			out->data[i] = ' ';
	}
	while (a < out->len && out->data[a] == ' ')
		a++;
	for (size_t i = a; i < out->len; i++)
		out->data[k++] = out->data[i];
	while (k && out->data[k - 1] == ' ')
		k--;
	if (!out->data)
		return xstrdup("");
	out->data[k] = 0;
	out->len = k;
	return buf_steal(out);
}

char *charset_decode_header(const char *raw, size_t len)
{
	struct buf out = BUF_INIT, w = BUF_INIT, ws = BUF_INIT;
	struct run r = {BUF_INIT, "", 0};
	int after_word = 0; /* the last token was an encoded-word */
	char cs[64];
	for (size_t i = 0; raw && i < len;) {
		char ch = raw[i];
		if (ch == '\r' || ch == '\n') { /* unfold */
			i++;
			continue;
		}
		buf_reset(&w);
		size_t k = encoded_word(raw + i, len - i, cs, &w);
		if (k) {
			/* Blanks between two encoded-words are not text. */
			buf_reset(&ws);
			run_add_word(&r, cs, &w, &out);
			after_word = 1;
			i += k;
			continue;
		}
		if (after_word && (ch == ' ' || ch == '\t')) {
			buf_putc(&ws, ch);
			i++;
			continue;
		}
		if (r.encoded)
			run_flush(&r, &out);
		buf_append(&r.bytes, ws.data, ws.len);
		buf_reset(&ws);
		after_word = 0;
		buf_putc(&r.bytes, ch);
		i++;
	}
	if (r.encoded)
		run_flush(&r, &out);
	buf_append(&r.bytes, ws.data, ws.len);
	run_flush(&r, &out);
	buf_free(&r.bytes);
	buf_free(&w);
	buf_free(&ws);
	return header_tidy(&out);
}
