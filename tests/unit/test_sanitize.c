/*
 * test_sanitize.c -- src/text/sanitize: sanitize_html, html_to_text,
 * text_to_html.
 *
 * The cases are data, one per file, like curl's tests:
 * $KEFU_SOURCE_DIR/tests/fixtures/sanitize/NAME.html is the input (bytes
 * as they are: broken UTF-8, NULs and all), NAME.expected the exact
 * output, NAME.opts (optional) the options and the expected report, one
 * "key = value" a line, '#' comments:
 *
 *   mode = sanitize | text | text_to_html   (default sanitize)
 *   allow_remote_images = 1
 *   max_depth = N, max_input = N, max_data_uri = N
 *   cid ID = URL              (resolve_cid maps ID to URL; others: none)
 *   report.FIELD = N          (FIELD of struct sanitize_report)
 *
 * Trailing newlines are ignored on both sides of the comparison (so that
 * both files may end with one).  Every case is its own cmocka test, named
 * after the file.  Every sanitize output is also run through check_html()
 * below, the invariants the console relies on, and sanitized a second time:
 * the result must not change (see test_fixture for the exceptions).
 *
 * Beyond the fixtures: deep nesting (10000 levels of several elements),
 * clipping, NULL/empty input, random markup soup, and the HTML of the
 * real-world messages under ../shared/corpora/email (skipped when absent).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "text/sanitize.h"

/* ------------------------------------------------------------------ */
/* the output invariants                                               */

static const char *const allowed_tags[] = {
	"p",       "div",   "span",   "blockquote", "pre",    "code",
	"center",  "address", "h1",   "h2",         "h3",     "h4",
	"h5",      "h6",    "ul",     "ol",         "li",     "dl",
	"dt",      "dd",    "article", "section",   "header", "footer",
	"main",    "nav",   "aside",  "figure",     "figcaption", "b",
	"strong",  "i",     "em",     "u",          "s",      "strike",
	"del",     "ins",   "sub",    "sup",        "small",  "big",
	"tt",      "font",  "abbr",   "cite",       "q",      "dfn",
	"kbd",     "samp",  "var",    "mark",       "ruby",   "rt",
	"rp",      "table", "caption", "colgroup",  "thead",  "tbody",
	"tfoot",   "tr",    "td",     "th",         "a",      NULL};
static const char *const void_tags[] = {"br", "hr", "wbr", "col", "img",
					NULL};
static const char *const allowed_attrs[] = {
	"title",  "dir",      "lang",        "style",       "href",
	"target", "rel",      "src",         "data-remote-src", "alt",
	"width",  "height",   "align",       "valign",      "bgcolor",
	"border", "cellpadding", "cellspacing", "colspan",  "rowspan",
	"span",   "color",    "face",        "size",        "start",
	"type",   "value",    "referrerpolicy", NULL};

static int in_set(const char *s, size_t n, const char *const *set)
{
	for (; *set; set++)
		if (strlen(*set) == n && memcmp(*set, s, n) == 0)
			return 1;
	return 0;
}

static int utf8_len(const unsigned char *s, size_t n)
{
	if (s[0] < 0x80)
		return 1;
	int k = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
	if (k == 0 || s[0] > 0xF4 || (size_t)k > n)
		return 0;
	for (int i = 1; i < k; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
		return 0;
	return k;
}

/* An entity at s: only the four we write. */
static size_t entity(const char *s, size_t n)
{
	static const char *const ents[] = {"&amp;", "&lt;", "&gt;", "&quot;",
					   NULL};
	for (const char *const *e = ents; *e; e++)
		if (n >= strlen(*e) && memcmp(s, *e, strlen(*e)) == 0)
			return strlen(*e);
	return 0;
}

static int lower_prefix(const char *s, size_t n, const char *p)
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

/*
 * Checks that s is what the sanitizer promises: valid UTF-8 without
 * controls, text with no raw < > and only our four entities, tags of the
 * allowlist only, attributes of the allowlist only (no on*, no id/class),
 * double-quoted values, link and image URLs of the allowed schemes, every
 * element closed in order.  Returns NULL or what is wrong; *depth gets the
 * deepest nesting seen.
 */
static const char *check_html(const char *s, size_t n, unsigned *depth)
{
	static char why[256];
	struct {
		const char *p;
		size_t n;
	} stack[512];
	size_t top = 0, i = 0;
	unsigned deepest = 0;
#define BAD(...)                                                          \
	do {                                                              \
		snprintf(why, sizeof why, __VA_ARGS__);                   \
		snprintf(why + strlen(why), sizeof why - strlen(why),     \
			 " at byte %zu", i);                              \
		return why;                                               \
	} while (0)
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '&') {
			size_t k = entity(s + i, n - i);
			if (!k)
				BAD("bare &");
			i += k;
			continue;
		}
		if (c == '>' || c == '"')
			BAD("raw %c in text", c);
		if (c < 0x20 && c != '\t' && c != '\n')
			BAD("control 0x%02x", c);
		if (c != '<') {
			int k = utf8_len((const unsigned char *)s + i, n - i);
			if (!k)
				BAD("invalid UTF-8");
			i += (size_t)k;
			continue;
		}
		int end = i + 1 < n && s[i + 1] == '/';
		size_t a = i + 1 + (size_t)end, b = a;
		while (b < n && ((s[b] >= 'a' && s[b] <= 'z') ||
				 (s[b] >= '0' && s[b] <= '9')))
			b++;
		int is_void = in_set(s + a, b - a, void_tags);
		if (!is_void && !in_set(s + a, b - a, allowed_tags))
			BAD("tag <%.*s> not allowed", (int)(b - a), s + a);
		if (end) {
			if (is_void || top == 0 || stack[top - 1].n != b - a ||
			    memcmp(stack[top - 1].p, s + a, b - a) != 0)
				BAD("unbalanced </%.*s>", (int)(b - a), s + a);
			if (b >= n || s[b] != '>')
				BAD("junk in end tag");
			top--;
			i = b + 1;
			continue;
		}
		const char *tag = s + a;
		size_t tagn = b - a;
		/* attributes: ( name="value")* */
		while (b < n && s[b] == ' ') {
			size_t an = ++b;
			while (b < n && ((s[b] >= 'a' && s[b] <= 'z') || s[b] == '-'))
				b++;
			if (!in_set(s + an, b - an, allowed_attrs))
				BAD("attribute %.*s not allowed", (int)(b - an),
				    s + an);
			if (b + 1 >= n || s[b] != '=' || s[b + 1] != '"')
				BAD("unquoted attribute");
			size_t vs = b + 2, ve = vs;
			while (ve < n && s[ve] != '"') {
				if (s[ve] == '<' || s[ve] == '>')
					BAD("raw < or > in attribute");
				if (s[ve] == '&' && !entity(s + ve, n - ve))
					BAD("bare & in attribute");
				if ((unsigned char)s[ve] < 0x20 && s[ve] != '\t' &&
				    s[ve] != '\n')
					BAD("control in attribute");
				ve++;
			}
			if (ve >= n)
				BAD("unterminated attribute");
			const char *an_s = s + an;
			size_t an_n = vs - 2 - an;
			if (in_set(an_s, an_n, (const char *const[]){"href", NULL}) &&
			    !lower_prefix(s + vs, ve - vs, "http:") &&
			    !lower_prefix(s + vs, ve - vs, "https:") &&
			    !lower_prefix(s + vs, ve - vs, "mailto:") &&
			    !lower_prefix(s + vs, ve - vs, "tel:"))
				BAD("href scheme");
			if (in_set(an_s, an_n,
				   (const char *const[]){"data-remote-src", NULL}) &&
			    !lower_prefix(s + vs, ve - vs, "http:") &&
			    !lower_prefix(s + vs, ve - vs, "https:"))
				BAD("data-remote-src scheme");
			if (in_set(an_s, an_n, (const char *const[]){"src", NULL}) &&
			    (lower_prefix(s + vs, ve - vs, "javascript:") ||
			     lower_prefix(s + vs, ve - vs, "vbscript:") ||
			     (lower_prefix(s + vs, ve - vs, "data:") &&
			      !lower_prefix(s + vs, ve - vs, "data:image/"))))
				BAD("src scheme");
			b = ve + 1;
		}
		if (b >= n || s[b] != '>')
			BAD("junk in tag");
		i = b + 1;
		if (is_void)
			continue;
		if (top == sizeof stack / sizeof *stack)
			BAD("deeper than the checker");
		stack[top].p = tag;
		stack[top++].n = tagn;
		if (top > deepest)
			deepest = (unsigned)top;
	}
	if (top)
		BAD("<%.*s> not closed", (int)stack[top - 1].n, stack[top - 1].p);
#undef BAD
	if (depth)
		*depth = deepest;
	return NULL;
}

/* s contains needle, ignoring ASCII case. */
static int icontains(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (lower_prefix(s + i, n - i, needle))
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* files                                                               */

static const char *fixture_dir(void)
{
	static char dir[1024];
	const char *src = getenv("KEFU_SOURCE_DIR");
	snprintf(dir, sizeof dir, "%s/tests/fixtures/sanitize",
		 src ? src : ".");
	return dir;
}

/* ------------------------------------------------------------------ */
/* fixture cases                                                       */

struct cid_map {
	char id[128];
	char url[256];
};

struct tcase {
	char name[128];
	char mode[16];
	struct sanitize_opts o;
	struct cid_map cids[8];
	int ncids;
	struct {
		const char *field;
		unsigned want;
	} expect[8];
	int nexpect;
};

static int map_cid(void *ctx, const char *id, size_t n, struct buf *url)
{
	struct tcase *c = ctx;
	assert_int_equal(strlen(id), n);
	for (int i = 0; i < c->ncids; i++)
		if (strcmp(c->cids[i].id, id) == 0) {
			buf_puts(url, c->cids[i].url);
			return 0;
		}
	return -1;
}

static const char *const report_fields[] = {
	"removed_elements", "removed_attrs", "removed_css", "remote_images",
	"remote_images_blocked", "cid_images", "flattened", "clipped", NULL};

static unsigned report_get(const struct sanitize_report *r, const char *f)
{
	if (!strcmp(f, "removed_elements"))
		return r->removed_elements;
	if (!strcmp(f, "removed_attrs"))
		return r->removed_attrs;
	if (!strcmp(f, "removed_css"))
		return r->removed_css;
	if (!strcmp(f, "remote_images"))
		return r->remote_images;
	if (!strcmp(f, "remote_images_blocked"))
		return r->remote_images_blocked;
	if (!strcmp(f, "cid_images"))
		return r->cid_images;
	if (!strcmp(f, "flattened"))
		return r->flattened;
	return (unsigned)r->clipped;
}

static void trim_line(char **s)
{
	while (**s == ' ' || **s == '\t')
		(*s)++;
	char *e = *s + strlen(*s);
	while (e > *s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			  e[-1] == '\r'))
		*--e = '\0';
}

static void load_opts(struct tcase *c, const char *path)
{
	snprintf(c->mode, sizeof c->mode, "sanitize");
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[1024];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *k = line;
		trim_line(&k);
		if (*k == '#' || *k == '\0')
			continue;
		char *v = strchr(k, '=');
		if (!v)
			fail_msg("%s:%d: no '='", path, lineno);
		*v++ = '\0';
		trim_line(&k);
		trim_line(&v);
		if (!strcmp(k, "mode"))
			snprintf(c->mode, sizeof c->mode, "%s", v);
		else if (!strcmp(k, "allow_remote_images"))
			c->o.allow_remote_images = atoi(v);
		else if (!strcmp(k, "max_depth"))
			c->o.max_depth = (unsigned)atoi(v);
		else if (!strcmp(k, "max_input"))
			c->o.max_input = (size_t)atol(v);
		else if (!strcmp(k, "max_data_uri"))
			c->o.max_data_uri = (size_t)atol(v);
		else if (!strncmp(k, "cid ", 4) && c->ncids < 8) {
			char *id = k + 4;
			trim_line(&id);
			snprintf(c->cids[c->ncids].id, sizeof c->cids[0].id, "%s", id);
			snprintf(c->cids[c->ncids].url, sizeof c->cids[0].url, "%s",
				 v);
			c->ncids++;
		} else if (!strncmp(k, "report.", 7) && c->nexpect < 8) {
			const char *const *fld = report_fields;
			while (*fld && strcmp(*fld, k + 7))
				fld++;
			if (!*fld)
				fail_msg("%s:%d: no report field %s", path, lineno,
					 k + 7);
			c->expect[c->nexpect].field = *fld;
			c->expect[c->nexpect].want = (unsigned)atol(v);
			c->nexpect++;
		} else {
			fail_msg("%s:%d: unknown option %s", path, lineno, k);
		}
	}
	fclose(f);
}

static size_t strip_newlines(const char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return n;
}

static void test_fixture(void **state)
{
	struct tcase *c = *state;
	char path[1200];
	const char *dir = fixture_dir();
	size_t in_n, want_n;
	snprintf(path, sizeof path, "%s/%s.html", dir, c->name);
	char *in = fixture_slurp(path, &in_n);
	assert_non_null(in);
	snprintf(path, sizeof path, "%s/%s.expected", dir, c->name);
	char *want = fixture_slurp(path, &want_n);
	if (!want)
		fail_msg("%s missing", path);
	snprintf(path, sizeof path, "%s/%s.opts", dir, c->name);
	load_opts(c, path);
	if (c->ncids) {
		c->o.resolve_cid = map_cid;
		c->o.cid_ctx = c;
	}

	struct buf out = BUF_INIT;
	struct sanitize_report rep;
	memset(&rep, 0xA5, sizeof rep); /* must be overwritten */
	if (!strcmp(c->mode, "sanitize"))
		sanitize_html(in, in_n, &c->o, &out, &rep);
	else if (!strcmp(c->mode, "text"))
		html_to_text(in, in_n, &out);
	else if (!strcmp(c->mode, "text_to_html"))
		text_to_html(in, in_n, &out);
	else
		fail_msg("%s: unknown mode %s", c->name, c->mode);
	const char *got = out.data ? out.data : "";
	size_t got_n = strip_newlines(got, out.len);
	want_n = strip_newlines(want, want_n);
	if (got_n != want_n || memcmp(got, want, got_n) != 0) {
		size_t d = 0;
		while (d < got_n && d < want_n && got[d] == want[d])
			d++;
		fail_msg("%s: output differs at byte %zu\n--- expected\n%.*s\n"
			 "--- got\n%.*s\n---",
			 c->name, d, (int)want_n, want, (int)got_n, got);
	}
	if (!strcmp(c->mode, "sanitize") || !strcmp(c->mode, "text_to_html")) {
		const char *why = check_html(got, out.len, NULL);
		if (why)
			fail_msg("%s: %s", c->name, why);
	}
	if (!strcmp(c->mode, "sanitize")) {
		for (int i = 0; i < c->nexpect; i++) {
			unsigned v = report_get(&rep, c->expect[i].field);
			if (v != c->expect[i].want)
				fail_msg("%s: report.%s = %u, want %u", c->name,
					 c->expect[i].field, v, c->expect[i].want);
		}
		/* A second pass changes nothing but leading whitespace
		 * (the parser drops it before <body>).  Not checked when
		 * remote images were moved (data-remote-src is not an
		 * input attribute), cid: rewritten (our URLs are relative)
		 * or the tree flattened (lossy: text left in a <tr> moves
		 * out of the table when parsed again). */
		struct sanitize_opts o2 = c->o;
		o2.allow_remote_images = 1;
		o2.resolve_cid = NULL;
		o2.max_input = out.len + 1;
		struct buf again = BUF_INIT;
		if ((c->o.allow_remote_images || rep.remote_images_blocked == 0) &&
		    rep.flattened == 0 && rep.cid_images == 0) {
			sanitize_html(got, out.len, &o2, &again, NULL);
			const char *a1 = got, *a2 = again.data;
			while (*a1 == ' ' || *a1 == '\n' || *a1 == '\t')
				a1++;
			while (*a2 == ' ' || *a2 == '\n' || *a2 == '\t')
				a2++;
			if (strcmp(a1, a2) != 0)
				fail_msg("%s: not idempotent\n--- first\n%s\n"
					 "--- second\n%s\n---",
					 c->name, got,
					 again.data ? again.data : "");
		}
		buf_free(&again);
	}
	buf_free(&out);
	free(in);
	free(want);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct tcase *)a)->name,
		      ((const struct tcase *)b)->name);
}

static int run_fixtures(void)
{
	const char *dir = fixture_dir();
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "cannot open %s (set KEFU_SOURCE_DIR; ctest "
				"does)\n",
			dir);
		return 1;
	}
	struct tcase *cases = NULL;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".html") != 0 ||
		    len - 5 >= sizeof cases->name)
			continue;
		cases = realloc(cases, (n + 1) * sizeof *cases);
		if (!cases)
			abort();
		memset(&cases[n], 0, sizeof *cases);
		memcpy(cases[n].name, e->d_name, len - 5);
		n++;
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "no cases in %s\n", dir);
		free(cases);
		return 1;
	}
	qsort(cases, n, sizeof *cases, by_name);
	struct CMUnitTest *tests = calloc(n, sizeof *tests);
	if (!tests)
		abort();
	for (size_t i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = test_fixture;
		tests[i].initial_state = &cases[i];
	}
	int failed = _cmocka_run_group_tests("sanitize fixtures", tests, n,
					     NULL, NULL);
	free(tests);
	free(cases);
	return failed;
}

/* ------------------------------------------------------------------ */
/* beyond the fixtures                                                 */

static void sanitize_checked(const char *in, size_t n,
			     const struct sanitize_opts *o, struct buf *out,
			     struct sanitize_report *rep, unsigned *depth)
{
	buf_reset(out);
	sanitize_html(in, n, o, out, rep);
	const char *why = check_html(out->data ? out->data : "", out->len,
				     depth);
	if (why)
		fail_msg("%s\n--- output\n%.300s", why,
			 out->data ? out->data : "");
}

/* 10000 levels of each element (no end tags): no crash, well-formed
 * output no deeper than max_depth, the text at the bottom kept. */
static void test_deep_nesting(void **state)
{
	(void)state;
	static const char *const tags[] = {
		"div", "b", "span", "font", "blockquote", "table", "ul><li",
		"a", "td", "custom", "svg", "p", "em><div", "tr", "dl><dd",
		"table><tr><td", "select", "object", "i x=1", "q", NULL};
	for (const char *const *t = tags; *t; t++) {
		struct buf in = BUF_INIT, out = BUF_INIT;
		for (int i = 0; i < 10000; i++)
			buf_printf(&in, "<%s>", *t);
		buf_puts(&in, "bottom");
		for (int i = 0; i < 100; i++) /* and some closing */
			buf_printf(&in, "</%s>", *t);
		struct sanitize_opts o = {.max_input = in.len};
		struct sanitize_report rep;
		unsigned depth = 0;
		sanitize_checked(in.data, in.len, &o, &out, &rep, &depth);
		if (depth > SANITIZE_MAX_DEPTH)
			fail_msg("<%s>: depth %u", *t, depth);
		if (strcmp(*t, "svg") && strcmp(*t, "select") &&
		    strcmp(*t, "object") && !strstr(out.data, "bottom"))
			fail_msg("<%s>: text lost", *t);
		/* and with a small limit */
		o.max_depth = 3;
		sanitize_checked(in.data, in.len, &o, &out, &rep, &depth);
		assert_true(depth <= 3);
		buf_reset(&out);
		html_to_text(in.data, in.len, &out);
		buf_free(&in);
		buf_free(&out);
	}
}

/* Clipping: at max_input, never inside a UTF-8 sequence, reported. */
static void test_clip(void **state)
{
	(void)state;
	struct buf in = BUF_INIT, out = BUF_INIT;
	buf_puts(&in, "<p>");
	for (int i = 0; i < 100; i++)
		buf_puts(&in, "退款");
	buf_puts(&in, "</p>");
	for (size_t max = 3; max < 40; max++) {
		struct sanitize_opts o = {.max_input = max};
		struct sanitize_report rep;
		sanitize_checked(in.data, in.len, &o, &out, &rep, NULL);
		assert_int_equal(rep.clipped, 1);
		/* whole characters only: 3 bytes each after "<p>" */
		const char *p = strstr(out.data, "<p>");
		assert_non_null(p);
		size_t text = strlen(p + 3) - strlen("</p>");
		assert_int_equal(text, (max - 3) / 3 * 3);
	}
	struct sanitize_report rep;
	sanitize_checked(in.data, in.len, NULL, &out, &rep, NULL);
	assert_int_equal(rep.clipped, 0);
	/* the default limit */
	buf_reset(&in);
	while (in.len <= 2 * SANITIZE_MAX_INPUT)
		buf_puts(&in, "<p>0123456789</p>\n");
	sanitize_checked(in.data, in.len, NULL, &out, &rep, NULL);
	assert_int_equal(rep.clipped, 1);
	assert_true(out.len < in.len);
	buf_free(&in);
	buf_free(&out);
}

/* NULL and empty input, NULL opts and report, appending to out. */
static void test_edges(void **state)
{
	(void)state;
	struct buf out = BUF_INIT;
	sanitize_html(NULL, 0, NULL, &out, NULL);
	assert_int_equal(out.len, 0);
	html_to_text(NULL, 0, &out);
	text_to_html(NULL, 0, &out);
	assert_int_equal(out.len, 0);
	buf_puts(&out, "keep:");
	sanitize_html("<b>x</b>", 8, NULL, &out, NULL);
	assert_string_equal(out.data, "keep:<b>x</b>");
	buf_reset(&out);
	buf_puts(&out, "keep:");
	html_to_text("<p>a</p><p>b</p>", 16, &out);
	assert_string_equal(out.data, "keep:a\n\nb");
	buf_reset(&out);
	buf_puts(&out, "keep:");
	text_to_html("a\nb", 3, &out);
	assert_string_equal(out.data, "keep:a<br>\nb");
	/* input need not be NUL-terminated */
	buf_reset(&out);
	sanitize_html("<i>xy</i>garbage", 9, NULL, &out, NULL);
	assert_string_equal(out.data, "<i>xy</i>");
	buf_free(&out);
}

/* Random soup of markup pieces and bytes: invariants hold, no crash. */
static void test_soup(void **state)
{
	(void)state;
	static const char *const bits[] = {
		"<p>", "</p>", "<div style=\"color:red;background:url(x)\">",
		"</div>", "<table>", "<tr>", "<td>", "</td>", "</table>",
		"<a href=\"javascript:alert(1)\">", "<a href=\"http://x/\">",
		"</a>", "<img src=\"http://x/i.png\" onerror=\"x()\">",
		"<script>", "</script>", "<style>", "</style>", "<svg>",
		"</svg>", "<math>", "<mtext>", "<![CDATA[", "]]>", "<!--",
		"-->", "<b>", "</b>", "<i>", "<font color=red>", "<select>",
		"<textarea>", "<noscript>", "<template>", "<xmp>", "<title>",
		"<iframe>", "<plaintext>", "&amp;", "&lt;", "&#0;", "&#x110000;",
		"&#106;avascript:", "\"", "'", "<", ">", "=", " ", "\n",
		"\xff", "\xe4\xbd", "\0", "中文", "<pre>", "<br>", "<hr>",
		"<li>", "<ul>", "<form>", "<input>", "<button>", "<o:p>",
		"<base href=x>", "<meta http-equiv=refresh content=0>", "x",
		"onload=", "style=", "href=", "src=", "<col>", "<caption>"};
	size_t nbits = sizeof bits / sizeof *bits;
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	struct buf in = BUF_INIT, out = BUF_INIT;
	for (int round = 0; round < 3000; round++) {
		buf_reset(&in);
		int pieces = 1 + (int)(seed % 60);
		for (int k = 0; k < pieces; k++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			const char *b = bits[seed % nbits];
			/* "\0" is one NUL byte */
			buf_append(&in, b, b[0] ? strlen(b) : 1);
		}
		struct sanitize_report rep;
		sanitize_checked(in.data, in.len, NULL, &out, &rep, NULL);
		if (icontains(out.data ? out.data : "", out.len, "<script"))
			fail_msg("script in output");
		buf_reset(&out);
		html_to_text(in.data, in.len, &out);
		const char *why = NULL;
		for (size_t i = 0; i < out.len && !why;) {
			int k = utf8_len((unsigned char *)out.data + i,
					 out.len - i);
			if (!k || out.data[i] == '\0')
				why = "html_to_text: invalid UTF-8 or NUL";
			i += k ? (size_t)k : 1;
		}
		if (why)
			fail_msg("%s", why);
	}
	buf_free(&in);
	buf_free(&out);
}

/*
 * The HTML of real messages: every file under ../shared/corpora/email
 * containing "<html" (any case), fed from there to its end, headers of
 * later parts, base64 and all.  Crude, but real markup.  No crash, the
 * invariants hold, and no "<script", on* attribute or "javascript:" is
 * left anywhere in the output.
 */
static int corpus_files, corpus_failed;
static size_t corpus_bytes, corpus_out;
static unsigned corpus_elems, corpus_attrs, corpus_remote;

static void corpus_walk(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char path[4096];
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			corpus_walk(path);
			continue;
		}
		size_t n;
		char *raw = fixture_slurp(path, &n);
		if (!raw)
			continue;
		const char *h = NULL;
		for (size_t i = 0; i + 5 <= n; i++)
			if (lower_prefix(raw + i, n - i, "<html")) {
				h = raw + i;
				break;
			}
		if (h) {
			size_t hn = n - (size_t)(h - raw);
			struct buf out = BUF_INIT;
			struct sanitize_report rep;
			struct sanitize_opts o = {.max_input = hn};
			sanitize_html(h, hn, &o, &out, &rep);
			const char *s = out.data ? out.data : "";
			const char *why = check_html(s, out.len, NULL);
			if (!why && icontains(s, out.len, "<script"))
				why = "<script in output";
			if (!why && icontains(s, out.len, "javascript:"))
				why = "javascript: in output";
			if (why) {
				print_error("corpus %s: %s\n", path, why);
				corpus_failed++;
			}
			corpus_files++;
			corpus_bytes += hn;
			corpus_out += out.len;
			corpus_elems += rep.removed_elements;
			corpus_attrs += rep.removed_attrs;
			corpus_remote += rep.remote_images_blocked;
			buf_reset(&out);
			html_to_text(h, hn, &out);
			buf_free(&out);
		}
		free(raw);
	}
	closedir(d);
}

static void test_corpus(void **state)
{
	(void)state;
	const char *src = getenv("KEFU_SOURCE_DIR");
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/../shared/corpora/email",
		 src ? src : ".");
	struct stat st;
	if (stat(dir, &st) != 0) {
		print_message("corpus %s not found: skipped\n", dir);
		skip();
	}
	corpus_walk(dir);
	print_message("corpus: %d files with <html, %zu bytes in, %zu out, "
		      "%u elements and %u attributes removed, %u remote "
		      "images blocked, %d failed\n",
		      corpus_files, corpus_bytes, corpus_out, corpus_elems,
		      corpus_attrs, corpus_remote, corpus_failed);
	assert_true(corpus_files > 0);
	assert_int_equal(corpus_failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_clip),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_soup),
		cmocka_unit_test(test_corpus),
	};
	int failed = run_fixtures();
	failed += cmocka_run_group_tests_name("sanitize", tests, NULL, NULL);
	return failed ? 1 : 0;
}
