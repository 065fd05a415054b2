/*
 * charset.h -- bytes in some legacy charset turned into UTF-8, the way
 * real mail needs it.
 *
 * Owns: the charset policy of the e-mail channel (issue 5): which
 * converter a declared charset name really means (GB2312 is read as its
 * superset GB18030 because real mail labelled GB2312 holds GBK characters;
 * Big5 as Big5-HKSCS; ks_c_5601-1987 as Windows-949), what happens when
 * the declared charset is missing, unknown or does not fit the bytes
 * (uchardet's guess, then Windows-1252, then Latin-1), and the RFC 2047
 * decoding of header text ("=?gb2312?B?...?=" and raw 8-bit bytes) under
 * the same policy.  It knows nothing of MIME structure (see mime.h).
 *
 * Conversion is ICU's (ucnv); undecodable bytes become U+FFFD, one per
 * invalid sequence, never '?', so a message is never turned into "????".
 * Every result is valid UTF-8 without NUL bytes.
 */
#ifndef KEFU_TEXT_CHARSET_H
#define KEFU_TEXT_CHARSET_H

#include <stddef.h>

struct charset_result {
	const char *charset; /* what the bytes were decoded as: a static,
			      * lower-case name ("gb18030", "utf-8", ...) */
	int guessed;         /* 1: not the declared charset (detected) */
	size_t invalid;      /* invalid sequences replaced by U+FFFD */
};

/* Decode `len` bytes declared as `declared` (a MIME charset name, or NULL
 * / "" when none was declared) into a new NUL-terminated UTF-8 string
 * (NUL bytes of the input are dropped); *out_len (when not NULL) gets its
 * length, *res (when not NULL) what was decided.  Never fails (NULL only
 * when memory runs out).  Caller frees. */
char *charset_decode(const void *in, size_t len, const char *declared,
		     size_t *out_len, struct charset_result *res);

/* The converter name we use for a declared charset name (GB2312 ->
 * "gb18030", ...), a static string, or NULL when ICU has no converter
 * for it. */
const char *charset_canonical(const char *declared);

/* uchardet's guess for the bytes, as charset_canonical() names it, or
 * NULL when it has none (pure ASCII, too little text). */
const char *charset_detect(const void *in, size_t len);

/* Header text as found in a message (`raw`, folded, with RFC 2047
 * encoded-words and perhaps raw 8-bit bytes in an undeclared charset)
 * as one line of UTF-8: unfolded, encoded-words decoded (adjacent ones
 * joined, so a character split across two words survives), raw bytes
 * decoded by charset_decode() with no declared charset, control
 * characters turned into spaces, leading and trailing blanks trimmed.
 * Caller frees; NULL only when memory runs out. */
char *charset_decode_header(const char *raw, size_t len);

#endif
