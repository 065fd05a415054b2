/*
 * html_text.c -- html_to_text() and text_to_html() (see sanitize.h).
 *
 * Contains: the plain-text reading of an HTML tree (block structure as
 * line breaks, list items as "- " lines, whitespace collapsed) for search
 * and previews, and the escaping of plain text for display.  Does not
 * contain any allowlist: what html_to_text() skips is the sanitizer's drop
 * list (html_hides_content), and its output is text, never markup.
 */
#include "sanitize.h"

#include <string.h>

#include "html_internal.h"

struct txt {
	struct html_walker w; /* first: the callbacks get &txt.w */
	struct buf *out;
	size_t start; /* out->len when we began: separators only after it */
	int nl;       /* newlines owed before the next text (0..2) */
	int sp;       /* a space owed before the next text */
	int pre;      /* inside <pre>/<listing>/<xmp>/<plaintext> */
	int lists;    /* open ul/ol */
	int bullet;   /* an li's "- " owed, at this list depth (0: none) */
};

static void owe_nl(struct txt *t, int n)
{
	if (t->nl < n)
		t->nl = n;
}

static void put_run(struct txt *t, const char *s, size_t n)
{
	if (t->out->len > t->start) {
		if (t->nl)
			buf_append(t->out, "\n\n", (size_t)t->nl);
		else if (t->sp)
			buf_putc(t->out, ' ');
	}
	t->nl = t->sp = 0;
	if (t->bullet) {
		for (int i = 1; i < t->bullet; i++)
			buf_puts(t->out, "  ");
		buf_puts(t->out, "- ");
		t->bullet = 0;
	}
	html_put_text(t->out, s, n, 0);
}

/* ASCII whitespace or U+00A0 (&nbsp;, everywhere in mail) at s[i]:
 * returns its length, 0 if s[i] is not a space. */
static size_t space_at(const char *s, size_t n, size_t i)
{
	unsigned char c = (unsigned char)s[i];
	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')
		return 1;
	if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0)
		return 2;
	return 0;
}

static void put_text(struct txt *t, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (t->pre) {
			const char *lf = memchr(s + i, '\n', n - i);
			size_t e = lf ? (size_t)(lf - s) : n;
			if (e > i)
				put_run(t, s + i, e - i);
			if (lf)
				t->nl = t->nl < 2 ? t->nl + 1 : 2;
			i = e + (lf != NULL);
			continue;
		}
		size_t k = space_at(s, n, i);
		if (k) {
			t->sp = 1;
			i += k;
			continue;
		}
		size_t e = i;
		while (e < n && !space_at(s, n, e))
			e++;
		put_run(t, s + i, e - i);
		i = e;
	}
}

/* Line breaks an element stands for: 2 paragraph, 1 block, 0 inline. */
static int block_breaks(GumboTag tag)
{
	switch (tag) {
	case GUMBO_TAG_P:
	case GUMBO_TAG_H1:
	case GUMBO_TAG_H2:
	case GUMBO_TAG_H3:
	case GUMBO_TAG_H4:
	case GUMBO_TAG_H5:
	case GUMBO_TAG_H6:
		return 2;
	case GUMBO_TAG_DIV:
	case GUMBO_TAG_BLOCKQUOTE:
	case GUMBO_TAG_CENTER:
	case GUMBO_TAG_ADDRESS:
	case GUMBO_TAG_ARTICLE:
	case GUMBO_TAG_SECTION:
	case GUMBO_TAG_HEADER:
	case GUMBO_TAG_FOOTER:
	case GUMBO_TAG_MAIN:
	case GUMBO_TAG_NAV:
	case GUMBO_TAG_ASIDE:
	case GUMBO_TAG_FIGURE:
	case GUMBO_TAG_FIGCAPTION:
	case GUMBO_TAG_DL:
	case GUMBO_TAG_DT:
	case GUMBO_TAG_DD:
	case GUMBO_TAG_TABLE:
	case GUMBO_TAG_CAPTION:
	case GUMBO_TAG_TR:
	case GUMBO_TAG_FORM:
	case GUMBO_TAG_FIELDSET:
	case GUMBO_TAG_LEGEND:
	case GUMBO_TAG_DETAILS:
	case GUMBO_TAG_SUMMARY:
	case GUMBO_TAG_MENU:
	case GUMBO_TAG_DIR:
	case GUMBO_TAG_HGROUP:
		return 1;
	default:
		return 0;
	}
}

static int txt_enter(struct html_walker *w, GumboNode *n)
{
	struct txt *t = (struct txt *)w;
	switch (n->type) {
	case GUMBO_NODE_DOCUMENT:
		return HTML_DESCEND;
	case GUMBO_NODE_TEXT:
	case GUMBO_NODE_WHITESPACE:
	case GUMBO_NODE_CDATA:
		put_text(t, n->v.text.text, strlen(n->v.text.text));
		return HTML_SKIP;
	case GUMBO_NODE_ELEMENT:
		break;
	default: /* comments, templates */
		return HTML_SKIP;
	}
	if (html_hides_content(n))
		return HTML_SKIP;
	GumboTag tag = n->v.element.tag;
	switch (tag) {
	case GUMBO_TAG_BR:
		t->nl = t->nl < 2 ? t->nl + 1 : 2;
		return HTML_SKIP;
	case GUMBO_TAG_HR:
		owe_nl(t, 1);
		return HTML_SKIP;
	case GUMBO_TAG_IMG:
		return HTML_SKIP;
	case GUMBO_TAG_UL:
	case GUMBO_TAG_OL:
		owe_nl(t, 1);
		t->lists++;
		return HTML_CLOSE;
	case GUMBO_TAG_LI:
		owe_nl(t, 1);
		t->bullet = t->lists ? t->lists : 1;
		return HTML_CLOSE;
	case GUMBO_TAG_PRE:
	case GUMBO_TAG_LISTING:
	case GUMBO_TAG_XMP:
	case GUMBO_TAG_PLAINTEXT:
		owe_nl(t, 1);
		t->pre++;
		return HTML_CLOSE;
	case GUMBO_TAG_TD:
	case GUMBO_TAG_TH:
		t->sp = 1;
		return HTML_CLOSE;
	default:
		break;
	}
	int k = block_breaks(tag);
	if (k == 0)
		return HTML_DESCEND;
	owe_nl(t, k);
	return HTML_CLOSE;
}

static void txt_leave(struct html_walker *w, GumboNode *n)
{
	struct txt *t = (struct txt *)w;
	GumboTag tag = n->v.element.tag;
	switch (tag) {
	case GUMBO_TAG_UL:
	case GUMBO_TAG_OL:
		t->lists--;
		owe_nl(t, 1);
		break;
	case GUMBO_TAG_LI:
		t->bullet = 0; /* an empty item leaves no "- " line */
		owe_nl(t, 1);
		break;
	case GUMBO_TAG_PRE:
	case GUMBO_TAG_LISTING:
	case GUMBO_TAG_XMP:
	case GUMBO_TAG_PLAINTEXT:
		t->pre--;
		owe_nl(t, 1);
		break;
	case GUMBO_TAG_TD:
	case GUMBO_TAG_TH:
		t->sp = 1;
		break;
	default:
		owe_nl(t, block_breaks(tag));
	}
}

void html_to_text(const char *html, size_t len, struct buf *out)
{
	struct txt t = {
		.w = {txt_enter, txt_leave},
		.out = out,
		.start = out->len,
	};
	struct html_doc doc;
	html_doc_parse(&doc, html, html_clip(html, len, SANITIZE_MAX_INPUT));
	buf_reserve(out, len < 4096 ? len : 4096);
	html_walk(doc.out->document, &t.w);
	html_doc_free(&doc);
	/* Separators are only ever written before text, but text inside
	 * <pre> may itself start or end with blanks. */
	size_t a = t.start, z = out->len;
	while (a < z && (out->data[a] == ' ' || out->data[a] == '\t' ||
			 out->data[a] == '\n'))
		a++;
	while (z > a && (out->data[z - 1] == ' ' || out->data[z - 1] == '\t' ||
			 out->data[z - 1] == '\n'))
		z--;
	if (a > t.start)
		memmove(out->data + t.start, out->data + a, z - a);
	out->len = t.start + (z - a);
	buf_append(out, "", 0); /* NUL-terminated even when empty */
}

void text_to_html(const char *text, size_t len, struct buf *out)
{
	size_t i = 0, run = 0; /* text[run..i) is written as is */
	buf_reserve(out, len + len / 8);
	while (i < len) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 0x20 && c < 0x7F && c != '&' && c != '<' && c != '>' &&
		    c != '"') {
			i++;
			continue;
		}
		size_t at = i;
		unsigned cp = html_utf8_next(text, len, &i);
		const char *rep;
		if (cp == '\r' || cp == '\n') {
			if (cp == '\r' && i < len && text[i] == '\n')
				i++;
			rep = "<br>\n";
		} else if (cp == '&') {
			rep = "&amp;";
		} else if (cp == '<') {
			rep = "&lt;";
		} else if (cp == '>') {
			rep = "&gt;";
		} else if (cp == '"') {
			rep = "&quot;";
		} else if (cp == '\t' || (cp >= 0xA0 && cp != 0xFFFD)) {
			continue; /* kept as is */
		} else if (cp == 0xFFFD) {
			rep = "\xEF\xBF\xBD";
		} else {
			rep = ""; /* C0, DEL, C1 controls */
		}
		buf_append(out, text + run, at - run);
		buf_puts(out, rep);
		run = i;
	}
	if (len)
		buf_append(out, text + run, len - run);
	buf_append(out, "", 0); /* NUL-terminated even when empty */
}
