/*
 * html_internal.h -- pieces shared by sanitize.c and html_text.c; not an
 * API.
 *
 * Owns: running gumbo with an allocator of our own, walking its tree
 * without recursion, and writing text as clean UTF-8.
 *
 * Why our own allocator: gumbo 0.10's gumbo_destroy_output() frees the
 * tree recursively, one C frame per level, so a message of a million
 * nested <div>s would overflow the stack while being freed, however
 * carefully we walk it.  Every block gumbo allocates is kept on a list
 * instead, and html_doc_free() releases the list in a loop; the tree is
 * never handed back to gumbo.
 */
#ifndef KEFU_TEXT_HTML_INTERNAL_H
#define KEFU_TEXT_HTML_INTERNAL_H

#include <stddef.h>

#include <gumbo.h>

#include "util/buf.h"

struct html_doc {
	GumboOutput *out;
	void *blocks; /* every live allocation of gumbo's (see html_internal.c) */
};

/* Parses html[0..len) as a whole document (html may be NULL when len is
 * 0; it must outlive the doc).  Cannot fail; free with html_doc_free(). */
void html_doc_parse(struct html_doc *d, const char *html, size_t len);
void html_doc_free(struct html_doc *d);

/* len cut back to at most max bytes without splitting a UTF-8 sequence. */
size_t html_clip(const char *s, size_t len, size_t max);

/*
 * Depth-first walk from root, with an explicit stack on the heap.
 * enter() is called for every node reached and returns what to do next:
 *   HTML_SKIP      do not visit its children;
 *   HTML_DESCEND   visit its children, no leave() call;
 *   HTML_CLOSE     visit its children, then call leave().
 */
enum { HTML_SKIP, HTML_DESCEND, HTML_CLOSE };

struct html_walker {
	int (*enter)(struct html_walker *w, GumboNode *n);
	void (*leave)(struct html_walker *w, GumboNode *n);
};
void html_walk(GumboNode *root, struct html_walker *w);

/* The element's content is never shown (script, style, head, svg, ...):
 * the sanitizer's drop list (sanitize.c), reused by html_to_text(). */
int html_hides_content(const GumboNode *n);

/* The children of an element, template or document node (NULL: none). */
const GumboVector *html_children(const GumboNode *n);

/*
 * Appends s[0..n) as UTF-8 text: invalid sequences become U+FFFD, NUL and
 * C0 controls other than tab and LF are dropped (CR becomes LF).  With
 * escape set, & < > " are written as entities.
 */
void html_put_text(struct buf *b, const char *s, size_t n, int escape);

/* The code point at s[*i] (advancing *i), U+FFFD for an invalid sequence.
 * Strict: no overlongs, surrogates or values past U+10FFFF. */
unsigned html_utf8_next(const char *s, size_t n, size_t *i);

#endif
