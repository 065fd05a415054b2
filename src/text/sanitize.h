/*
 * sanitize.h -- customer HTML made safe to show inside the agent console,
 * and the two plain-text conversions that go with it.
 *
 * Owns: the allowlist of HTML elements, attributes, CSS properties and URL
 * schemes that an e-mail or chat message may keep when it is rendered in
 * the console, and the serialiser that writes only those.  It knows
 * nothing of tickets, messages or attachments: the caller hands in bytes
 * (already decoded to UTF-8 by the MIME layer) and, for inline images, a
 * callback that maps a cid: reference to a URL of its own.
 *
 * How: the input is parsed by gumbo (an HTML5-conformant parser, so the
 * tree is the one a browser would build, including for broken markup),
 * then the tree is walked without recursion and every node is either
 * written (allowed element, with its allowed attributes), unwrapped
 * (unknown or unwanted element whose text is still worth reading: <form>,
 * <custom>, <o:p>, <body>), or dropped with everything inside it (<script>,
 * <style>, <template>, <title>, <head>, <svg>, <math>, <iframe>, <object>,
 * <noscript>, <select>, ...).  Nothing of the input is copied through
 * unparsed: tag and attribute names come from our tables, text and
 * attribute values are re-escaped, so the output is well-formed HTML
 * (every element closed, values double-quoted, & < > " escaped, valid
 * UTF-8, no comments, no doctype, no C0 controls but tab and newline).
 *
 * The policy, in short (the tables in sanitize.c are the reference):
 *   - elements: text structure and formatting (p div span br hr pre code
 *     blockquote b strong i em u s strike del ins sub sup small big tt
 *     h1-h6 ul ol li dl dt dd table caption colgroup col thead tbody tfoot
 *     tr td th a img font center abbr cite q ...);
 *   - attributes: title dir lang style everywhere; href on a; src alt
 *     width height on img; table layout attributes on table parts; color
 *     face size on font; every value checked against its type (number,
 *     length, colour, keyword).  on*, id, class, name, srcset, background
 *     and everything not listed are dropped;
 *   - style: only a set of text, colour, box and border properties survive,
 *     each value made of plain tokens (no url(), expression(), escapes,
 *     comments, @, :, quotes outside font-family, negative margins);
 *   - a[href]: http, https, mailto, tel only (scheme matched after the
 *     browser's own clean-up: entities decoded by the parser, tab/CR/LF
 *     removed, leading/trailing controls and spaces stripped); relative
 *     and protocol-relative links are dropped too, they would point into
 *     the console.  Kept links get target="_blank" rel="noopener
 *     noreferrer nofollow";
 *   - img[src]: remote http(s) images are blocked unless
 *     allow_remote_images: the URL moves to data-remote-src and the
 *     console offers "load images" (remote images are read receipts);
 *     either way they get referrerpolicy="no-referrer";
 *     cid: goes through opts->resolve_cid; data:image/(png|gif|jpeg|webp)
 *     ;base64 up to max_data_uri bytes; an image left without a source is
 *     removed;
 *   - nesting deeper than max_depth open elements is flattened (the text
 *     is kept, the tags are not), so the browser that renders it does not
 *     hit its own limits; input longer than max_input is clipped first
 *     (like Gmail's "message clipped"; see SANITIZE_MAX_INPUT).
 *
 * Thread safety: no shared state; call from any thread.
 */
#ifndef KEFU_TEXT_SANITIZE_H
#define KEFU_TEXT_SANITIZE_H

#include <stddef.h>

#include "util/buf.h"

#define SANITIZE_MAX_DEPTH 200
/*
 * Why 128 KiB (Gmail clips at 102 KB): gumbo 0.10's tree builder is
 * quadratic in the worst case (deep stacks of open elements scanned per
 * tag, the "Noah's Ark" comparison of every pair of open formatting
 * elements attribute by attribute), about 1.5 s for 128 KiB of crafted
 * markup here and 100 s for 1 MiB.  Real messages are rarely longer, and
 * what is clipped is the bottom of the message, the oldest quoted
 * history.  A "show the whole message" action may pass a larger
 * max_input, paying for it only on an agent's request.
 */
#define SANITIZE_MAX_INPUT ((size_t)128 << 10)
#define SANITIZE_MAX_DATA_URI ((size_t)512 << 10) /* 512 KiB */

/*
 * Maps the content ID of a cid: image (percent-decoded, without "cid:"
 * and without angle brackets, e.g. "logo@example.com") to the URL the
 * console can load it from (e.g. "/api/attachments/42/content").  Append
 * the URL to `url` and return 0, or return -1 to drop the image (no such
 * attachment).  The URL is written as given (escaped, not checked): it is
 * ours.  cid is NUL-terminated; n is its length.
 */
typedef int (*sanitize_cid_fn)(void *ctx, const char *cid, size_t n,
			       struct buf *url);

/* All-zero means the defaults; a NULL opts pointer too. */
struct sanitize_opts {
	int allow_remote_images; /* 0: http(s) img src -> data-remote-src */
	sanitize_cid_fn resolve_cid; /* NULL: every cid: image is dropped */
	void *cid_ctx;
	unsigned max_depth;  /* 0: SANITIZE_MAX_DEPTH open elements */
	size_t max_input;    /* 0: SANITIZE_MAX_INPUT bytes are parsed, the
				rest is dropped (report.clipped) */
	size_t max_data_uri; /* 0: SANITIZE_MAX_DATA_URI bytes per data: URI */
};

/* What was taken out, for the console's banners and for logs. */
struct sanitize_report {
	unsigned removed_elements; /* dropped or unwrapped (not html/head/body) */
	unsigned removed_attrs;    /* dropped attributes, incl. rejected values */
	unsigned removed_css;      /* dropped declarations in kept styles */
	unsigned remote_images;    /* img with an http(s) src */
	unsigned remote_images_blocked; /* of those, moved to data-remote-src */
	unsigned cid_images;       /* img whose cid: resolved */
	unsigned flattened;        /* elements unwrapped for max_depth */
	int clipped;               /* input was longer than max_input */
};

/*
 * Appends the safe rendering of html[0..len) to out (out is not reset; the
 * caller owns it and frees it with buf_free; out->data is a C string
 * afterwards, also when nothing was appended; the same holds for the two
 * functions below).  html need not be
 * NUL-terminated and may contain anything: NULs, broken UTF-8, broken
 * markup.  opts may be NULL (defaults); rep may be NULL, otherwise it is
 * zeroed and filled.  Cannot fail (out of memory aborts, like buf): even
 * hostile input yields some well-formed output, possibly empty.
 */
void sanitize_html(const char *html, size_t len,
		   const struct sanitize_opts *opts, struct buf *out,
		   struct sanitize_report *rep);

/*
 * Appends the readable text of html[0..len) to out, for search indexing
 * and previews: entities decoded, script/style/head content dropped, block
 * elements on lines of their own (paragraphs and headings separated by an
 * empty line), br a newline, li a "- " line (indented by nesting), table
 * cells separated by a space and rows by a newline, other whitespace
 * (NBSP included) collapsed to one space, no leading or trailing
 * whitespace.  Valid UTF-8.  Input beyond SANITIZE_MAX_INPUT is ignored.
 */
void html_to_text(const char *html, size_t len, struct buf *out);

/*
 * Appends text[0..len) as HTML: & < > " ' escaped, each line break (LF,
 * CRLF or CR) as "<br>\n", invalid UTF-8 as U+FFFD, NUL and other C0
 * controls but tab dropped.  Links are not made clickable.
 */
void text_to_html(const char *text, size_t len, struct buf *out);

#endif
