/*
 * fuzz_sanitize.c -- libFuzzer target for src/text/sanitize: arbitrary
 * bytes (NULs, broken UTF-8, broken markup) through sanitize_html,
 * html_to_text and text_to_html.
 *
 * The first byte picks options (bit 0: remote images allowed, bit 1: a
 * cid: resolver that echoes the content ID into the URL, bits 2-4: a
 * small max_depth); the rest is the input.  Checked on every run:
 *   sanitize_html / text_to_html: valid UTF-8 without controls; text
 *     without raw < > " and with only &amp; &lt; &gt; &quot;; tags of the
 *     allowlist only, properly nested and all closed, no deeper than
 *     max_depth; attributes of the allowlist only (so no on*, id, class),
 *     double-quoted; href http(s)/mailto/tel, data-remote-src http(s),
 *     src never javascript:, vbscript: or non-image data:; no "<script";
 *   html_to_text: valid UTF-8, no NUL or control but tab and LF, no
 *     leading or trailing whitespace.
 * Must not leak (LeakSanitizer is on in the fuzz build).
 *
 * Run: fuzz_sanitize -max_total_time=60 [scratch-dir] tests/fixtures/sanitize
 * (the fixture inputs make good seeds; libFuzzer writes new inputs into
 * the first directory given, so pass a scratch directory first).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/sanitize.h"

static void die(const char *what, const char *s, size_t n, size_t at)
{
	fprintf(stderr, "fuzz_sanitize: %s at byte %zu of output:\n%.*s\n",
		what, at, (int)(n > 2000 ? 2000 : n), s);
	abort();
}

static int in_set(const char *s, size_t n, const char *const *set)
{
	for (; *set; set++)
		if (strlen(*set) == n && memcmp(*set, s, n) == 0)
			return 1;
	return 0;
}

static int iprefix(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);
	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c += 32;
		if (c != p[i])
			return 0;
	}
	return 1;
}

/* Length of the valid UTF-8 sequence at s, 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	size_t k = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
	if (k == 0 || s[0] > 0xF4 || k > n)
		return 0;
	for (size_t i = 1; i < k; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
		return 0;
	return k;
}

static size_t entity(const char *s, size_t n)
{
	static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;",
					   NULL};
	for (const char *const *e = ents; *e; e++)
		if (n >= strlen(*e) && memcmp(s, *e, strlen(*e)) == 0)
			return strlen(*e);
	return 0;
}

static const char *const tags[] = {
	"p", "div", "span", "blockquote", "pre", "code", "center", "address",
	"h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd",
	"article", "section", "header", "footer", "main", "nav", "aside",
	"figure", "figcaption", "b", "strong", "i", "em", "u", "s", "strike",
	"del", "ins", "sub", "sup", "small", "big", "tt", "font", "abbr",
	"cite", "q", "dfn", "kbd", "samp", "var", "mark", "ruby", "rt", "rp",
	"table", "caption", "colgroup", "thead", "tbody", "tfoot", "tr", "td",
	"th", "a", NULL};
static const char *const voids[] = {"br", "hr", "wbr", "col", "img", NULL};
static const char *const attrs[] = {
	"title", "dir", "lang", "style", "href", "target", "rel", "src",
	"data-remote-src", "alt", "width", "height", "align", "valign",
	"bgcolor", "border", "cellpadding", "cellspacing", "colspan",
	"rowspan", "span", "color", "face", "size", "start", "type", "value",
	"referrerpolicy", NULL};

static void check_html(const char *s, size_t n, unsigned max_depth)
{
	struct {
		const char *p;
		size_t n;
	} stack[256];
	size_t top = 0, i = 0;
	for (size_t k = 0; k + 7 <= n; k++)
		if (iprefix(s + k, n - k, "<script"))
			die("<script", s, n, k);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '&') {
			size_t k = entity(s + i, n - i);
			if (!k)
				die("bare &", s, n, i);
			i += k;
			continue;
		}
		if (c == '>' || c == '"' || (c < 0x20 && c != '\t' && c != '\n'))
			die("raw > \" or control in text", s, n, i);
		if (c != '<') {
			size_t k = utf8_len((const unsigned char *)s + i, n - i);
			if (!k)
				die("invalid UTF-8", s, n, i);
			i += k;
			continue;
		}
		int end = i + 1 < n && s[i + 1] == '/';
		size_t a = i + 1 + (size_t)end, b = a;
		while (b < n && ((s[b] >= 'a' && s[b] <= 'z') ||
				 (s[b] >= '0' && s[b] <= '9')))
			b++;
		int isvoid = in_set(s + a, b - a, voids);
		if (!isvoid && !in_set(s + a, b - a, tags))
			die("tag not allowed", s, n, i);
		if (end) {
			if (isvoid || top == 0 || stack[top - 1].n != b - a ||
			    memcmp(stack[top - 1].p, s + a, b - a) != 0 ||
			    b >= n || s[b] != '>')
				die("unbalanced end tag", s, n, i);
			top--;
			i = b + 1;
			continue;
		}
		size_t name = a, namen = b - a;
		while (b < n && s[b] == ' ') {
			size_t an = ++b;
			while (b < n && ((s[b] >= 'a' && s[b] <= 'z') || s[b] == '-'))
				b++;
			size_t ann = b - an;
			if (!in_set(s + an, ann, attrs))
				die("attribute not allowed", s, n, an);
			if (b + 1 >= n || s[b] != '=' || s[b + 1] != '"')
				die("unquoted attribute", s, n, b);
			size_t vs = b + 2, ve = vs;
			while (ve < n && s[ve] != '"') {
				if (s[ve] == '<' || s[ve] == '>')
					die("< or > in attribute", s, n, ve);
				if (s[ve] == '&' && !entity(s + ve, n - ve))
					die("bare & in attribute", s, n, ve);
				if ((unsigned char)s[ve] < 0x20 && s[ve] != '\t' &&
				    s[ve] != '\n')
					die("control in attribute", s, n, ve);
				ve++;
			}
			if (ve >= n)
				die("unterminated attribute", s, n, vs);
			const char *v = s + vs;
			size_t vn = ve - vs;
			if (ann == 4 && !memcmp(s + an, "href", 4) &&
			    !iprefix(v, vn, "http:") && !iprefix(v, vn, "https:") &&
			    !iprefix(v, vn, "mailto:") && !iprefix(v, vn, "tel:"))
				die("href scheme", s, n, vs);
			if (ann == 15 && !iprefix(v, vn, "http:") &&
			    !iprefix(v, vn, "https:"))
				die("data-remote-src scheme", s, n, vs);
			if (ann == 3 && !memcmp(s + an, "src", 3) &&
			    (iprefix(v, vn, "javascript:") ||
			     iprefix(v, vn, "vbscript:") ||
			     (iprefix(v, vn, "data:") &&
			      !iprefix(v, vn, "data:image/"))))
				die("src scheme", s, n, vs);
			b = ve + 1;
		}
		if (b >= n || s[b] != '>')
			die("junk in tag", s, n, b);
		i = b + 1;
		if (isvoid)
			continue;
		if (top >= max_depth || top == sizeof stack / sizeof *stack)
			die("too deep", s, n, i);
		stack[top].p = s + name;
		stack[top++].n = namen;
	}
	if (top)
		die("element not closed", s, n, n);
}

static void check_text(const char *s, size_t n)
{
	if (n && (strchr(" \t\n", s[0]) || strchr(" \t\n", s[n - 1])))
		die("text: leading or trailing whitespace", s, n, 0);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t' && c != '\n')
			die("text: control", s, n, i);
		size_t k = utf8_len((const unsigned char *)s + i, n - i);
		if (!k)
			die("text: invalid UTF-8", s, n, i);
		i += k;
	}
}

static int echo_cid(void *ctx, const char *cid, size_t n, struct buf *url)
{
	(void)ctx;
	if (n % 5 == 0)
		return -1; /* some are missing */
	buf_puts(url, "/att/");
	buf_append(url, cid, n);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned flags = data[0];
	const char *in = (const char *)data + 1;
	size_t n = size - 1;

	struct sanitize_opts o = {0};
	o.allow_remote_images = flags & 1;
	if (flags & 2)
		o.resolve_cid = echo_cid;
	o.max_depth = (flags >> 2) & 7; /* 0: the default */
	unsigned depth = o.max_depth ? o.max_depth : SANITIZE_MAX_DEPTH;

	struct buf out = BUF_INIT;
	struct sanitize_report rep;
	sanitize_html(in, n, &o, &out, &rep);
	if (!out.data || strlen(out.data) != out.len)
		die("output not a C string of its length", "", 0, 0);
	check_html(out.data, out.len, depth);
	if (!o.allow_remote_images && rep.remote_images != rep.remote_images_blocked)
		die("remote image not blocked", out.data, out.len, 0);

	buf_reset(&out);
	html_to_text(in, n, &out);
	check_text(out.data, out.len);

	buf_reset(&out);
	text_to_html(in, n, &out);
	check_html(out.data, out.len, 1);
	buf_free(&out);
	return 0;
}
