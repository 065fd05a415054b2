/*
 * multipart.c -- see multipart.h.
 *
 * The body grammar (RFC 2046 5.1.1, which RFC 7578 uses):
 *   body     = [preamble CRLF] dash-boundary padding CRLF part
 *              *(CRLF dash-boundary padding CRLF part)
 *              CRLF dash-boundary "--" padding [CRLF epilogue]
 *   part     = *(header-line CRLF) CRLF data
 * with dash-boundary = "--" boundary and padding = *(SP / HTAB).  A part's
 * data runs to the first CRLF dash-boundary.  What follows a dash-boundary
 * must be "--" or padding CRLF: anything else means the boundary occurred
 * inside the content, which RFC 2046 forbids, so it is an error rather
 * than a guess at where the part ends.  Preamble and epilogue are ignored.
 *
 * Part headers: CRLF lines only (no bare LF, no obs-fold), token names,
 * values of visible ASCII, SP, HTAB and UTF-8 bytes.  Content-Disposition
 * (RFC 7578 4.2 with RFC 6266's parameter syntax) must be "form-data" with
 * a name; the file name comes from filename* (RFC 5987 ext-value, UTF-8 or
 * ISO-8859-1 -- RFC 7578 says senders must not use it, some do) or from
 * filename, a quoted string that browsers fill with raw UTF-8 and in which
 * they do not escape backslashes (Windows paths), so a backslash escapes
 * only '"' and '\'.  Names and file names must be valid UTF-8 without
 * control characters.  Content-Transfer-Encoding, deprecated by RFC 7578
 * 4.7, is accepted only as an identity (7bit, 8bit, binary).
 *
 * Why not GMime (the design's MIME library, for mail): it parses streams
 * into copied parts and applies mail's RFC 2047/2231 rules; a form body is
 * complete in memory, its parts are wanted in place, and its parameters
 * follow the browser conventions above.  A small strict scanner is less
 * code than adapting it, and is fuzzed (tests/fuzz/fuzz_multipart.c).
 */
#include "multipart.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/utf8.h>

#include "../util/buf.h"
#include "../util/hex.h"

static int bad(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fills e with 400 bad_multipart; returns -1. */
static int bad(struct err *e, const char *fmt, ...)
{
	char msg[sizeof e->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_set(e, 400, "bad_multipart", "%s", msg);
	return -1;
}

/* ---- characters ---- */

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bchars (space only inside) */
static int is_bchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("'()+_,-./:=? ", c) != NULL;
}

/* RFC 5987 attr-char */
static int is_attr_char(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return 1;
	return c && strchr("!#$&+-.^_`|~", c) != NULL;
}

static const char *ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Valid UTF-8 without C0/C1 control characters or DEL. */
static int clean_utf8(const char *s, size_t n)
{
	for (int32_t i = 0; i < (int32_t)n;) {
		UChar32 c;
		U8_NEXT((const uint8_t *)s, i, (int32_t)n, c);
		if (c < 0x20 || (c >= 0x7f && c < 0xa0))
			return 0; /* also c < 0: ill-formed */
	}
	return 1;
}

/* ---- header parameters: *( OWS ";" OWS [ name "=" value ] ) OWS ---- */

typedef int (*param_fn)(void *arg, const char *name, size_t nlen,
			const char *val, size_t vlen, int quoted, struct err *e);

/* A quoted string at s (on the '"') appended to out unquoted; returns the
 * byte after the closing quote, or NULL when it is unterminated or holds a
 * control character. */
static const char *read_quoted(const char *s, struct buf *out)
{
	for (s++;; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"')
			return s + 1;
		if (c == '\\' && (s[1] == '"' || s[1] == '\\')) {
			buf_putc(out, *++s);
			continue;
		}
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return NULL; /* includes the NUL at the end */
		buf_putc(out, (char)c);
	}
}

static int scan_params(const char *s, const char *header, param_fn fn, void *arg,
		       struct err *e)
{
	struct buf v = BUF_INIT;
	int rc = 0;
	for (;;) {
		s = ows(s);
		if (!*s)
			break;
		if (*s != ';') {
			rc = bad(e, "%s: expected ';' between parameters", header);
			break;
		}
		s = ows(s + 1);
		if (!*s || *s == ';')
			continue; /* an empty parameter */
		const char *name = s;
		while (is_tchar((unsigned char)*s))
			s++;
		size_t nlen = (size_t)(s - name);
		if (!nlen || *s != '=') {
			rc = bad(e, "%s: malformed parameter (want name=value)", header);
			break;
		}
		s++;
		buf_reset(&v);
		buf_append(&v, "", 0); /* data is never NULL, even for "" */
		int quoted = *s == '"';
		if (quoted) {
			s = read_quoted(s, &v);
		} else {
			const char *t = s;
			while (is_tchar((unsigned char)*s))
				s++;
			buf_append(&v, t, (size_t)(s - t));
			if (s == t)
				s = NULL;
		}
		if (!s) {
			rc = bad(e, "%s: bad value for parameter %.*s", header, (int)nlen, name);
			break;
		}
		if (fn(arg, name, nlen, v.data, v.len, quoted, e) < 0) {
			rc = -1;
			break;
		}
	}
	buf_free(&v);
	return rc;
}

static int name_is(const char *name, size_t nlen, const char *want)
{
	return strlen(want) == nlen && strncasecmp(name, want, nlen) == 0;
}

/* ---- the boundary ---- */

struct boundary_ctx {
	char *out;
	size_t n;
	int found;
};

static int boundary_param(void *arg, const char *name, size_t nlen, const char *val,
			  size_t vlen, int quoted, struct err *e)
{
	struct boundary_ctx *c = arg;
	(void)quoted;
	if (!name_is(name, nlen, "boundary"))
		return 0;
	if (c->found++)
		return bad(e, "Content-Type: more than one boundary parameter");
	if (vlen == 0 || vlen > MULTIPART_BOUNDARY_MAX || val[vlen - 1] == ' ')
		return bad(e, "Content-Type: the boundary must be 1 to %d characters, "
			      "not ending in a space", MULTIPART_BOUNDARY_MAX);
	for (size_t i = 0; i < vlen; i++)
		if (!is_bchar((unsigned char)val[i]))
			return bad(e, "Content-Type: invalid character in the boundary");
	if (vlen >= c->n)
		return bad(e, "Content-Type: boundary too long");
	memcpy(c->out, val, vlen + 1);
	return 0;
}

int multipart_boundary(const char *ct, char *out, size_t n, struct err *e)
{
	static const char want[] = "multipart/form-data";
	const size_t wl = sizeof want - 1;
	const char *s = ct ? ows(ct) : NULL;
	if (!s || strncasecmp(s, want, wl) != 0 || !strchr("; \t", s[wl])) {
		err_set(e, 415, "unsupported_media_type",
			"expected Content-Type: multipart/form-data");
		return -1;
	}
	struct boundary_ctx c = {out, n, 0};
	if (scan_params(s + wl, "Content-Type", boundary_param, &c, e) < 0)
		return -1;
	if (!c.found) {
		return bad(e, "Content-Type: multipart/form-data without a boundary parameter");
	}
	return 0;
}

/* ---- Content-Disposition ---- */

struct disp {
	struct buf name, filename, ext;
	int has_name, has_filename, has_ext;
	int part; /* 1-based, for messages */
};

static int disp_param(void *arg, const char *name, size_t nlen, const char *val,
		      size_t vlen, int quoted, struct err *e)
{
	struct disp *d = arg;
	struct buf *dst;
	int *seen;
	if (name_is(name, nlen, "name")) {
		dst = &d->name;
		seen = &d->has_name;
	} else if (name_is(name, nlen, "filename")) {
		dst = &d->filename;
		seen = &d->has_filename;
	} else if (name_is(name, nlen, "filename*")) {
		if (quoted)
			return bad(e, "part %d: filename* must not be quoted", d->part);
		dst = &d->ext;
		seen = &d->has_ext;
	} else {
		return 0; /* other parameters carry nothing for a form */
	}
	if ((*seen)++)
		return bad(e, "part %d: Content-Disposition repeats the %.*s parameter",
			   d->part, (int)nlen, name);
	buf_append(dst, val, vlen); /* allocates even when vlen is 0 */
	return 0;
}

/* RFC 5987 ext-value: charset "'" [language] "'" value-chars, into UTF-8.
 * Returns 1 decoded, 0 for a charset other than UTF-8 and ISO-8859-1 (the
 * two every recipient must support), -1 malformed. */
static int ext_value(const char *v, struct buf *out)
{
	const char *q1 = strchr(v, '\'');
	const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
	if (!q2 || q1 == v)
		return -1;
	for (const char *l = q1 + 1; l < q2; l++)
		if (!((*l >= 'a' && *l <= 'z') || (*l >= 'A' && *l <= 'Z') ||
		      (*l >= '0' && *l <= '9') || *l == '-'))
			return -1;
	size_t cl = (size_t)(q1 - v);
	int utf8 = cl == 5 && strncasecmp(v, "UTF-8", 5) == 0;
	int latin1 = cl == 10 && strncasecmp(v, "ISO-8859-1", 10) == 0;
	for (const char *p = v; p < q1; p++)
		if (!is_tchar((unsigned char)*p) || *p == '\'')
			return -1;
	for (const char *p = q2 + 1; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '%') {
			int a = hex_value((unsigned char)p[1]);
			int b = a >= 0 ? hex_value((unsigned char)p[2]) : -1;
			if (b < 0)
				return -1;
			c = (unsigned char)(a * 16 + b);
			p += 2;
		} else if (!is_attr_char(c)) {
			return -1;
		}
		if (latin1 && c >= 0x80) {
			buf_putc(out, (char)(0xc0 | (c >> 6)));
			buf_putc(out, (char)(0x80 | (c & 0x3f)));
		} else {
			buf_putc(out, (char)c);
		}
	}
	buf_append(out, "", 0); /* data is never NULL */
	return utf8 || latin1;
}

static int parse_disposition(const char *v, struct multipart_part *pt, int part,
			     struct err *e)
{
	static const char want[] = "form-data";
	const size_t wl = sizeof want - 1;
	if (strncasecmp(v, want, wl) != 0 || !strchr("; \t", v[wl]))
		return bad(e, "part %d: Content-Disposition must be form-data", part);
	struct disp d = {BUF_INIT, BUF_INIT, BUF_INIT, 0, 0, 0, part};
	int rc = scan_params(v + wl, "Content-Disposition", disp_param, &d, e);
	struct buf ext = BUF_INIT;
	int ext_ok = 0;
	if (rc == 0 && !d.has_name)
		rc = bad(e, "part %d: Content-Disposition has no name", part);
	else if (rc == 0 && (d.name.len == 0 || !clean_utf8(d.name.data, d.name.len)))
		rc = bad(e, "part %d: the name must be non-empty UTF-8 text", part);
	if (rc == 0 && d.has_ext) {
		ext_ok = ext_value(d.ext.data, &ext);
		if (ext_ok < 0)
			rc = bad(e, "part %d: malformed filename* (want UTF-8''percent-encoded)",
				 part);
		else if (ext_ok == 0 && !d.has_filename)
			rc = bad(e, "part %d: filename* in an unsupported charset", part);
	}
	/* RFC 6266 4.3: filename* wins when the recipient understands it */
	const struct buf *fn = ext_ok > 0 ? &ext : d.has_filename ? &d.filename : NULL;
	if (rc == 0 && fn && fn->len && !clean_utf8(fn->data, fn->len))
		rc = bad(e, "part %d: the filename must be UTF-8 text without control "
			    "characters", part);
	if (rc == 0) {
		pt->name = xstrndup(d.name.data, d.name.len);
		if (fn)
			pt->filename = xstrndup(fn->data ? fn->data : "", fn->len);
	}
	buf_free(&ext);
	buf_free(&d.name);
	buf_free(&d.filename);
	buf_free(&d.ext);
	return rc;
}

/* ---- parts ---- */

struct scan {
	const char *body;
	size_t len;
	char *delim; /* CRLF "--" boundary; delim + 2 is the dash-boundary */
	size_t dlen;
	struct multipart_limits lim;
	struct multipart *m;
	int cap;
	struct err *e;
};

/* One header line (without its CRLF) of part number `part`. */
static int header_line(struct scan *sc, const char *s, size_t n,
		       struct multipart_part *pt, int *have_cd, int part)
{
	struct err *e = sc->e;
	if (s[0] == ' ' || s[0] == '\t')
		return bad(e, "part %d: obsolete line folding in the headers", part);
	size_t nl = 0;
	while (nl < n && is_tchar((unsigned char)s[nl]))
		nl++;
	if (nl == 0 || nl == n || s[nl] != ':')
		return bad(e, "part %d: malformed header line", part);
	size_t vs = nl + 1, ve = n;
	while (vs < ve && (s[vs] == ' ' || s[vs] == '\t'))
		vs++;
	while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
		ve--;
	for (size_t i = vs; i < ve; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return bad(e, "part %d: control character in a header value", part);
	}
	char *v = xstrndup(s + vs, ve - vs);
	int rc = 0;
	if (name_is(s, nl, "content-disposition")) {
		if ((*have_cd)++)
			rc = bad(e, "part %d: more than one Content-Disposition", part);
		else
			rc = parse_disposition(v, pt, part, e);
	} else if (name_is(s, nl, "content-type")) {
		if (pt->content_type)
			rc = bad(e, "part %d: more than one Content-Type", part);
		else if (!*v)
			rc = bad(e, "part %d: empty Content-Type", part);
		else
			pt->content_type = v, v = NULL;
	} else if (name_is(s, nl, "content-transfer-encoding")) {
		if (strcasecmp(v, "binary") != 0 && strcasecmp(v, "8bit") != 0 &&
		    strcasecmp(v, "7bit") != 0)
			rc = bad(e, "part %d: only the binary, 8bit and 7bit "
				    "Content-Transfer-Encoding are supported", part);
	}
	free(v);
	return rc;
}

/* The header section of a part starting at *pos; leaves *pos at its data. */
static int part_headers(struct scan *sc, size_t *pos, struct multipart_part *pt, int part)
{
	const char *b = sc->body;
	size_t p = *pos;
	size_t end = sc->len - p > sc->lim.max_header_bytes ? p + sc->lim.max_header_bytes
							     : sc->len;
	int have_cd = 0;
	for (;;) {
		const char *lf = memchr(b + p, '\n', end - p);
		if (!lf) {
			if (end < sc->len)
				return bad(sc->e, "part %d: headers exceed %zu bytes", part,
					   sc->lim.max_header_bytes);
			return bad(sc->e, "part %d: the body ends inside the headers", part);
		}
		size_t at = (size_t)(lf - b);
		if (at == p || b[at - 1] != '\r')
			return bad(sc->e, "part %d: bare LF in the headers", part);
		size_t n = at - 1 - p;
		if (n == 0) {
			*pos = at + 1;
			break;
		}
		if (header_line(sc, b + p, n, pt, &have_cd, part) < 0)
			return -1;
		p = at + 1;
	}
	if (!have_cd)
		return bad(sc->e, "part %d has no Content-Disposition", part);
	return 0;
}

static size_t padding(const struct scan *sc, size_t pos)
{
	while (pos < sc->len && (sc->body[pos] == ' ' || sc->body[pos] == '\t'))
		pos++;
	return pos;
}

static int crlf_at(const struct scan *sc, size_t pos)
{
	return pos + 2 <= sc->len && sc->body[pos] == '\r' && sc->body[pos + 1] == '\n';
}

static struct multipart_part *new_part(struct scan *sc)
{
	struct multipart *m = sc->m;
	if (m->nparts == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 4;
		m->parts = xrealloc(m->parts, sizeof *m->parts * (size_t)sc->cap);
	}
	struct multipart_part *pt = &m->parts[m->nparts++];
	memset(pt, 0, sizeof *pt);
	return pt;
}

/* pos is just past a dash-boundary: the close delimiter ends the body,
 * anything else must be padding CRLF and a part.  1 done, 0 more, -1. */
static int after_boundary(struct scan *sc, size_t *pos)
{
	size_t p = *pos;
	if (p + 2 <= sc->len && sc->body[p] == '-' && sc->body[p + 1] == '-') {
		if (sc->m->nparts == 0)
			return bad(sc->e, "the body has no parts");
		p = padding(sc, p + 2);
		if (p != sc->len && !crlf_at(sc, p))
			return bad(sc->e, "unexpected bytes after the closing boundary");
		return 1; /* the epilogue, if any, is ignored */
	}
	p = padding(sc, p);
	if (p == sc->len)
		return bad(sc->e, "the body ends without the closing boundary");
	if (!crlf_at(sc, p))
		return bad(sc->e, "a boundary line holds more than the boundary "
				  "(the boundary occurs inside the content?)");
	*pos = p + 2;
	return 0;
}

static int scan_body(struct scan *sc)
{
	const char *b = sc->body;
	size_t pos;
	/* the first dash-boundary opens the body or follows the preamble */
	if (sc->len >= sc->dlen - 2 && memcmp(b, sc->delim + 2, sc->dlen - 2) == 0) {
		pos = sc->dlen - 2;
	} else {
		const char *f = memmem(b, sc->len, sc->delim, sc->dlen);
		if (!f)
			return bad(sc->e, "the body does not contain the boundary");
		pos = (size_t)(f - b) + sc->dlen;
	}
	for (;;) {
		int rc = after_boundary(sc, &pos);
		if (rc)
			return rc < 0 ? -1 : 0;
		if (sc->m->nparts >= sc->lim.max_parts)
			return bad(sc->e, "more than %d parts", sc->lim.max_parts);
		struct multipart_part *pt = new_part(sc);
		int part = sc->m->nparts;
		if (part_headers(sc, &pos, pt, part) < 0)
			return -1;
		const char *f = memmem(b + pos, sc->len - pos, sc->delim, sc->dlen);
		if (!f)
			return bad(sc->e, "part %d is not closed by a boundary "
					  "(the body is cut short?)", part);
		pt->data = b + pos;
		pt->len = (size_t)(f - pt->data);
		pos = (size_t)(f - b) + sc->dlen;
	}
}

int multipart_parse(const char *body, size_t len, const char *boundary,
		    const struct multipart_limits *lim, struct multipart *m,
		    struct err *e)
{
	memset(m, 0, sizeof *m);
	size_t bl = boundary ? strlen(boundary) : 0;
	if (bl == 0 || bl > MULTIPART_BOUNDARY_MAX) {
		return bad(e, "invalid boundary");
	}
	struct scan sc = {.body = body ? body : "", .len = body ? len : 0, .m = m, .e = e};
	if (lim)
		sc.lim = *lim;
	if (sc.lim.max_parts <= 0)
		sc.lim.max_parts = MULTIPART_MAX_PARTS;
	if (!sc.lim.max_header_bytes)
		sc.lim.max_header_bytes = MULTIPART_MAX_HEADER_BYTES;
	sc.dlen = bl + 4;
	sc.delim = xmalloc(sc.dlen + 1);
	memcpy(sc.delim, "\r\n--", 4);
	memcpy(sc.delim + 4, boundary, bl + 1);
	int rc = scan_body(&sc);
	free(sc.delim);
	if (rc < 0)
		multipart_free(m);
	return rc;
}

void multipart_free(struct multipart *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->nparts; i++) {
		free(m->parts[i].name);
		free(m->parts[i].filename);
		free(m->parts[i].content_type);
	}
	free(m->parts);
	m->parts = NULL;
	m->nparts = 0;
}
