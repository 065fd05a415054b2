/*
 * html_internal.c -- gumbo with a list allocator, the non-recursive tree
 * walk, and clean UTF-8 text output (see html_internal.h).  No policy
 * here: what is kept lives in sanitize.c, how text reads in html_text.c.
 */
#include "html_internal.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* gumbo's memory                                                      */

/* Header in front of every block gumbo gets: a circular doubly linked
 * list through a sentinel, so a free is O(1) and the whole tree can be
 * released in one loop. */
union blk {
	struct {
		union blk *prev, *next;
	} l;
	max_align_t align;
};

static void *blk_alloc(void *ud, size_t n)
{
	union blk *head = ud;
	union blk *b = xmalloc(sizeof *b + n);
	b->l.next = head->l.next;
	b->l.prev = head;
	head->l.next->l.prev = b;
	head->l.next = b;
	return b + 1;
}

static void blk_free(void *ud, void *p)
{
	(void)ud;
	if (!p)
		return;
	union blk *b = (union blk *)p - 1;
	b->l.prev->l.next = b->l.next;
	b->l.next->l.prev = b->l.prev;
	free(b);
}

void html_doc_parse(struct html_doc *d, const char *html, size_t len)
{
	union blk *head = xmalloc(sizeof *head);
	head->l.next = head->l.prev = head;
	d->blocks = head;

	GumboOptions o = kGumboDefaultOptions;
	o.allocator = blk_alloc;
	o.deallocator = blk_free;
	o.userdata = head;
	o.max_errors = 0; /* we never read them; don't build the list */
	if (!html || len == 0) {
		html = "";
		len = 0;
	}
	d->out = gumbo_parse_with_options(&o, html, len);
}

void html_doc_free(struct html_doc *d)
{
	union blk *head = d->blocks;
	if (!head)
		return;
	for (union blk *b = head->l.next; b != head;) {
		union blk *next = b->l.next;
		free(b);
		b = next;
	}
	free(head);
	d->blocks = NULL;
	d->out = NULL;
}

size_t html_clip(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	/* Back off at most 3 continuation bytes to a sequence start. */
	for (int k = 0; k < 3 && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80;
	     k++)
		n--;
	return n;
}

/* ------------------------------------------------------------------ */
/* walking                                                             */

const GumboVector *html_children(const GumboNode *n)
{
	switch (n->type) {
	case GUMBO_NODE_DOCUMENT:
		return &n->v.document.children;
	case GUMBO_NODE_ELEMENT:
	case GUMBO_NODE_TEMPLATE:
		return &n->v.element.children;
	default:
		return NULL;
	}
}

struct frame {
	GumboNode *n;
	unsigned next; /* index of the next child to visit */
	int close;     /* call leave() when done */
};

void html_walk(GumboNode *root, struct html_walker *w)
{
	if (!root)
		return;
	int how = w->enter(w, root);
	if (how == HTML_SKIP)
		return;
	size_t cap = 64, top = 0;
	struct frame *st = xmalloc(cap * sizeof *st);
	st[top++] = (struct frame){root, 0, how == HTML_CLOSE};
	while (top) {
		struct frame *f = &st[top - 1];
		const GumboVector *kids = html_children(f->n);
		if (kids && f->next < kids->length) {
			GumboNode *c = kids->data[f->next++];
			how = w->enter(w, c);
			if (how == HTML_SKIP)
				continue;
			if (top == cap) {
				cap *= 2;
				st = xrealloc(st, cap * sizeof *st);
			}
			st[top++] = (struct frame){c, 0, how == HTML_CLOSE};
			continue;
		}
		if (f->close)
			w->leave(w, f->n);
		top--;
	}
	free(st);
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */

unsigned html_utf8_next(const char *str, size_t n, size_t *i)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t p = *i;
	unsigned c = s[p];
	if (c < 0x80) {
		*i = p + 1;
		return c;
	}
	unsigned need, min2 = 0x80, max2 = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			min2 = 0xA0; /* overlong */
		else if (c == 0xED)
			max2 = 0x9F; /* surrogates */
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			min2 = 0x90; /* overlong */
		else if (c == 0xF4)
			max2 = 0x8F; /* > U+10FFFF */
		c &= 0x07;
	} else {
		*i = p + 1;
		return 0xFFFD;
	}
	p++;
	for (unsigned k = 0; k < need; k++, p++) {
		unsigned lo = k == 0 ? min2 : 0x80, hi = k == 0 ? max2 : 0xBF;
		if (p >= n || s[p] < lo || s[p] > hi) {
			*i = p; /* the maximal valid prefix is one U+FFFD */
			return 0xFFFD;
		}
		c = (c << 6) | (s[p] & 0x3F);
	}
	*i = p;
	return c;
}

void html_put_text(struct buf *b, const char *s, size_t n, int escape)
{
	size_t i = 0, run = 0; /* s[run..i) is clean and not yet written */
	buf_reserve(b, n);
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7F && c != '&' && c != '<' && c != '>' &&
		    c != '"') {
			i++;
			continue;
		}
		size_t at = i;
		unsigned cp = html_utf8_next(s, n, &i);
		const char *rep = NULL;
		int keep = 0;
		if (cp == '&' || cp == '<' || cp == '>' || cp == '"') {
			if (escape)
				rep = cp == '&'   ? "&amp;"
				      : cp == '<' ? "&lt;"
				      : cp == '>' ? "&gt;"
						  : "&quot;";
			else
				keep = 1;
		} else if (cp == '\t' || cp == '\n') {
			keep = 1;
		} else if (cp == '\r') {
			rep = "\n";
		} else if (cp == '\f') {
			rep = " ";
		} else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
			rep = ""; /* controls */
		} else if (cp == 0xFFFD) {
			rep = "\xEF\xBF\xBD"; /* maybe from an invalid sequence */
		} else {
			keep = 1;
		}
		if (keep)
			continue;
		buf_append(b, s + run, at - run);
		buf_puts(b, rep);
		run = i;
	}
	buf_append(b, s + run, n - run);
}
