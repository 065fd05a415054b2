/*
 * sanitize.c -- the allowlist and the serialiser behind sanitize_html()
 * (see sanitize.h for the policy in words).
 *
 * Contains: the element table, the attribute table with a type per
 * attribute, URL and CSS checks, and the walker callbacks that write the
 * kept tree.  Does not contain: parsing (gumbo, via html_internal.c) or
 * the plain-text conversions (html_text.c).
 *
 * Everything here is written to fail closed: an element missing from the
 * table is unwrapped, an attribute missing from the table is dropped, a
 * value that does not match its type is dropped, a CSS declaration that
 * is not understood is dropped.
 */
#include "sanitize.h"

#include <string.h>

#include "html_internal.h"

/* ------------------------------------------------------------------ */
/* elements                                                            */

enum {
	E_UNWRAP = 0, /* (the default) children kept, tag not written */
	E_ALLOW = 1,  /* written with its allowed attributes */
	E_VOID = 2,   /* allowed, never has children or an end tag */
	E_DROP = 3,   /* removed with everything inside */
	E_KIND = 3,
	E_QUIET = 4, /* not counted as removed (html, head, body) */
};

static const unsigned char elem_rule[GUMBO_TAG_LAST + 1] = {
	[GUMBO_TAG_HTML] = E_UNWRAP | E_QUIET,
	[GUMBO_TAG_BODY] = E_UNWRAP | E_QUIET,
	[GUMBO_TAG_HEAD] = E_DROP | E_QUIET,

	/* text structure */
	[GUMBO_TAG_P] = E_ALLOW, [GUMBO_TAG_DIV] = E_ALLOW,
	[GUMBO_TAG_SPAN] = E_ALLOW, [GUMBO_TAG_BLOCKQUOTE] = E_ALLOW,
	[GUMBO_TAG_PRE] = E_ALLOW, [GUMBO_TAG_CODE] = E_ALLOW,
	[GUMBO_TAG_CENTER] = E_ALLOW, [GUMBO_TAG_ADDRESS] = E_ALLOW,
	[GUMBO_TAG_H1] = E_ALLOW, [GUMBO_TAG_H2] = E_ALLOW,
	[GUMBO_TAG_H3] = E_ALLOW, [GUMBO_TAG_H4] = E_ALLOW,
	[GUMBO_TAG_H5] = E_ALLOW, [GUMBO_TAG_H6] = E_ALLOW,
	[GUMBO_TAG_UL] = E_ALLOW, [GUMBO_TAG_OL] = E_ALLOW,
	[GUMBO_TAG_LI] = E_ALLOW, [GUMBO_TAG_DL] = E_ALLOW,
	[GUMBO_TAG_DT] = E_ALLOW, [GUMBO_TAG_DD] = E_ALLOW,
	[GUMBO_TAG_ARTICLE] = E_ALLOW, [GUMBO_TAG_SECTION] = E_ALLOW,
	[GUMBO_TAG_HEADER] = E_ALLOW, [GUMBO_TAG_FOOTER] = E_ALLOW,
	[GUMBO_TAG_MAIN] = E_ALLOW, [GUMBO_TAG_NAV] = E_ALLOW,
	[GUMBO_TAG_ASIDE] = E_ALLOW, [GUMBO_TAG_FIGURE] = E_ALLOW,
	[GUMBO_TAG_FIGCAPTION] = E_ALLOW,
	[GUMBO_TAG_BR] = E_VOID, [GUMBO_TAG_HR] = E_VOID,
	[GUMBO_TAG_WBR] = E_VOID,

	/* text formatting */
	[GUMBO_TAG_B] = E_ALLOW, [GUMBO_TAG_STRONG] = E_ALLOW,
	[GUMBO_TAG_I] = E_ALLOW, [GUMBO_TAG_EM] = E_ALLOW,
	[GUMBO_TAG_U] = E_ALLOW, [GUMBO_TAG_S] = E_ALLOW,
	[GUMBO_TAG_STRIKE] = E_ALLOW, [GUMBO_TAG_DEL] = E_ALLOW,
	[GUMBO_TAG_INS] = E_ALLOW, [GUMBO_TAG_SUB] = E_ALLOW,
	[GUMBO_TAG_SUP] = E_ALLOW, [GUMBO_TAG_SMALL] = E_ALLOW,
	[GUMBO_TAG_BIG] = E_ALLOW, [GUMBO_TAG_TT] = E_ALLOW,
	[GUMBO_TAG_FONT] = E_ALLOW, [GUMBO_TAG_ABBR] = E_ALLOW,
	[GUMBO_TAG_CITE] = E_ALLOW, [GUMBO_TAG_Q] = E_ALLOW,
	[GUMBO_TAG_DFN] = E_ALLOW, [GUMBO_TAG_KBD] = E_ALLOW,
	[GUMBO_TAG_SAMP] = E_ALLOW, [GUMBO_TAG_VAR] = E_ALLOW,
	[GUMBO_TAG_MARK] = E_ALLOW, [GUMBO_TAG_RUBY] = E_ALLOW,
	[GUMBO_TAG_RT] = E_ALLOW, [GUMBO_TAG_RP] = E_ALLOW,

	/* tables */
	[GUMBO_TAG_TABLE] = E_ALLOW, [GUMBO_TAG_CAPTION] = E_ALLOW,
	[GUMBO_TAG_COLGROUP] = E_ALLOW, [GUMBO_TAG_COL] = E_VOID,
	[GUMBO_TAG_THEAD] = E_ALLOW, [GUMBO_TAG_TBODY] = E_ALLOW,
	[GUMBO_TAG_TFOOT] = E_ALLOW, [GUMBO_TAG_TR] = E_ALLOW,
	[GUMBO_TAG_TD] = E_ALLOW, [GUMBO_TAG_TH] = E_ALLOW,

	/* links and images: their URLs are checked below */
	[GUMBO_TAG_A] = E_ALLOW, [GUMBO_TAG_IMG] = E_VOID,

	/* Dropped with their content: code, styles, metadata, embedded
	 * documents and plugins, media, foreign markup (svg/math have their
	 * own parsing rules: the classic mutation-XSS vectors live there),
	 * form controls whose text is not message text. */
	[GUMBO_TAG_TITLE] = E_DROP, [GUMBO_TAG_BASE] = E_DROP,
	[GUMBO_TAG_LINK] = E_DROP, [GUMBO_TAG_META] = E_DROP,
	[GUMBO_TAG_STYLE] = E_DROP, [GUMBO_TAG_SCRIPT] = E_DROP,
	[GUMBO_TAG_NOSCRIPT] = E_DROP, [GUMBO_TAG_TEMPLATE] = E_DROP,
	[GUMBO_TAG_IFRAME] = E_DROP, [GUMBO_TAG_FRAME] = E_DROP,
	[GUMBO_TAG_FRAMESET] = E_DROP, [GUMBO_TAG_NOFRAMES] = E_DROP,
	[GUMBO_TAG_EMBED] = E_DROP, [GUMBO_TAG_OBJECT] = E_DROP,
	[GUMBO_TAG_PARAM] = E_DROP, [GUMBO_TAG_APPLET] = E_DROP,
	[GUMBO_TAG_NOEMBED] = E_DROP, [GUMBO_TAG_VIDEO] = E_DROP,
	[GUMBO_TAG_AUDIO] = E_DROP, [GUMBO_TAG_SOURCE] = E_DROP,
	[GUMBO_TAG_TRACK] = E_DROP, [GUMBO_TAG_CANVAS] = E_DROP,
	[GUMBO_TAG_MAP] = E_DROP, [GUMBO_TAG_AREA] = E_DROP,
	[GUMBO_TAG_IMAGE] = E_DROP, [GUMBO_TAG_BGSOUND] = E_DROP,
	[GUMBO_TAG_SVG] = E_DROP, [GUMBO_TAG_MATH] = E_DROP,
	[GUMBO_TAG_INPUT] = E_DROP, [GUMBO_TAG_SELECT] = E_DROP,
	[GUMBO_TAG_DATALIST] = E_DROP, [GUMBO_TAG_OPTGROUP] = E_DROP,
	[GUMBO_TAG_OPTION] = E_DROP, [GUMBO_TAG_TEXTAREA] = E_DROP,
	[GUMBO_TAG_KEYGEN] = E_DROP, [GUMBO_TAG_ISINDEX] = E_DROP,
	[GUMBO_TAG_MENUITEM] = E_DROP, [GUMBO_TAG_BASEFONT] = E_DROP,
	[GUMBO_TAG_NEXTID] = E_DROP,
	/* Everything else (form, button, label, fieldset, details, marquee,
	 * xmp, nobr, unknown and namespaced tags such as <o:p>, ...) is
	 * unwrapped: the tag goes, the text stays. */
};

static unsigned elem_rule_of(const GumboNode *n)
{
	if (n->type == GUMBO_NODE_TEMPLATE)
		return E_DROP;
	const GumboElement *e = &n->v.element;
	if (e->tag_namespace != GUMBO_NAMESPACE_HTML || e->tag > GUMBO_TAG_LAST)
		return E_DROP;
	return elem_rule[e->tag];
}

/* Used by html_to_text(): what the sanitizer drops is not message text. */
int html_hides_content(const GumboNode *n)
{
	return (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE) &&
	       (elem_rule_of(n) & E_KIND) == E_DROP;
}

/* ------------------------------------------------------------------ */
/* attributes                                                          */

enum atype {
	A_TEXT,     /* any text */
	A_DIR,      /* ltr rtl auto */
	A_LANG,     /* BCP 47-ish: letters digits hyphens */
	A_STYLE,    /* filtered CSS */
	A_HREF,     /* link URL */
	A_INT,      /* non-negative integer */
	A_LENGTH,   /* integer, optional fraction, % or px */
	A_COLOR,    /* #hex or colour name */
	A_ALIGN,    /* left right center justify top middle bottom baseline */
	A_VALIGN,   /* top middle bottom baseline */
	A_FONTSIZE, /* [+-]1..7 */
	A_OLTYPE,   /* 1 a A i I */
	A_IMGSRC,   /* handled by put_img() */
};

struct arule {
	GumboTag tag; /* GUMBO_TAG_LAST: on every allowed element */
	const char *name;
	enum atype type;
};

#define CELL(t)                                                              \
	{t, "align", A_ALIGN}, {t, "valign", A_VALIGN},                      \
		{t, "bgcolor", A_COLOR}, {t, "width", A_LENGTH},             \
		{t, "height", A_LENGTH}

static const struct arule attr_rules[] = {
	{GUMBO_TAG_LAST, "title", A_TEXT},
	{GUMBO_TAG_LAST, "dir", A_DIR},
	{GUMBO_TAG_LAST, "lang", A_LANG},
	{GUMBO_TAG_LAST, "style", A_STYLE},

	{GUMBO_TAG_A, "href", A_HREF},

	{GUMBO_TAG_IMG, "src", A_IMGSRC},
	{GUMBO_TAG_IMG, "alt", A_TEXT},
	{GUMBO_TAG_IMG, "width", A_LENGTH},
	{GUMBO_TAG_IMG, "height", A_LENGTH},

	CELL(GUMBO_TAG_TABLE),
	{GUMBO_TAG_TABLE, "border", A_INT},
	{GUMBO_TAG_TABLE, "cellpadding", A_INT},
	{GUMBO_TAG_TABLE, "cellspacing", A_INT},
	CELL(GUMBO_TAG_THEAD),
	CELL(GUMBO_TAG_TBODY),
	CELL(GUMBO_TAG_TFOOT),
	CELL(GUMBO_TAG_TR),
	CELL(GUMBO_TAG_TD),
	{GUMBO_TAG_TD, "colspan", A_INT},
	{GUMBO_TAG_TD, "rowspan", A_INT},
	CELL(GUMBO_TAG_TH),
	{GUMBO_TAG_TH, "colspan", A_INT},
	{GUMBO_TAG_TH, "rowspan", A_INT},
	{GUMBO_TAG_COL, "span", A_INT},
	{GUMBO_TAG_COL, "width", A_LENGTH},
	{GUMBO_TAG_COL, "align", A_ALIGN},
	{GUMBO_TAG_COL, "valign", A_VALIGN},
	{GUMBO_TAG_COLGROUP, "span", A_INT},
	{GUMBO_TAG_COLGROUP, "width", A_LENGTH},
	{GUMBO_TAG_COLGROUP, "align", A_ALIGN},
	{GUMBO_TAG_COLGROUP, "valign", A_VALIGN},

	{GUMBO_TAG_FONT, "color", A_COLOR},
	{GUMBO_TAG_FONT, "face", A_TEXT},
	{GUMBO_TAG_FONT, "size", A_FONTSIZE},

	{GUMBO_TAG_P, "align", A_ALIGN},
	{GUMBO_TAG_DIV, "align", A_ALIGN},
	{GUMBO_TAG_H1, "align", A_ALIGN},
	{GUMBO_TAG_H2, "align", A_ALIGN},
	{GUMBO_TAG_H3, "align", A_ALIGN},
	{GUMBO_TAG_H4, "align", A_ALIGN},
	{GUMBO_TAG_H5, "align", A_ALIGN},
	{GUMBO_TAG_H6, "align", A_ALIGN},
	{GUMBO_TAG_HR, "width", A_LENGTH},
	{GUMBO_TAG_OL, "start", A_INT},
	{GUMBO_TAG_OL, "type", A_OLTYPE},
	{GUMBO_TAG_LI, "value", A_INT},
};

static const struct arule *attr_rule(GumboTag tag, const char *name)
{
	for (size_t i = 0; i < sizeof attr_rules / sizeof *attr_rules; i++) {
		const struct arule *r = &attr_rules[i];
		if ((r->tag == tag || r->tag == GUMBO_TAG_LAST) &&
		    strcmp(r->name, name) == 0)
			return r;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* small ASCII helpers (no locale)                                     */

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}
static int is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}
static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* s[0..n) equals the lower-case word w, ignoring ASCII case. */
static int eq_word(const char *s, size_t n, const char *w)
{
	size_t i = 0;
	for (; i < n && w[i]; i++)
		if (lower((unsigned char)s[i]) != w[i])
			return 0;
	return i == n && w[i] == '\0';
}

/* s[0..n) starts with the lower-case prefix p, ignoring ASCII case. */
static int has_prefix(const char *s, size_t n, const char *p)
{
	size_t k = strlen(p);
	return n >= k && eq_word(s, k, p);
}

/* s[0..n) contains the lower-case needle, ignoring ASCII case. */
static int contains(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (eq_word(s + i, k, needle))
			return 1;
	return 0;
}

static int in_list(const char *s, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (eq_word(s, n, *list))
			return 1;
	return 0;
}

/* Trims ASCII whitespace from both ends of *s / *n. */
static void trim(const char **s, size_t *n)
{
	while (*n && is_space((unsigned char)(*s)[0]))
		(*s)++, (*n)--;
	while (*n && is_space((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* ------------------------------------------------------------------ */
/* typed attribute values                                              */

static const char *const align_words[] = {"left",   "right",  "center",
					  "justify", "top",   "middle",
					  "bottom", "baseline", NULL};
static const char *const valign_words[] = {"top", "middle", "bottom",
					   "baseline", NULL};
static const char *const dir_words[] = {"ltr", "rtl", "auto", NULL};

/* Digits: at least one, at most max; returns how many. */
static size_t digits(const char *s, size_t n, size_t max)
{
	size_t i = 0;
	while (i < n && is_digit((unsigned char)s[i]))
		i++;
	return i <= max ? i : 0;
}

/* Checks v against t; on success writes the normalized value to o. */
static int value_ok(enum atype t, const char *v, size_t n, struct buf *o)
{
	if (t != A_TEXT)
		trim(&v, &n);
	size_t i;
	switch (t) {
	case A_TEXT:
		buf_append(o, v, n);
		return 1;
	case A_DIR:
	case A_ALIGN:
	case A_VALIGN:
		if (!in_list(v, n, t == A_DIR	  ? dir_words
				   : t == A_ALIGN ? align_words
						  : valign_words))
			return 0;
		for (i = 0; i < n; i++)
			buf_putc(o, (char)lower((unsigned char)v[i]));
		return 1;
	case A_LANG:
		if (n == 0 || n > 35)
			return 0;
		for (i = 0; i < n; i++)
			if (!is_alnum((unsigned char)v[i]) && v[i] != '-')
				return 0;
		break;
	case A_INT:
		if (n == 0 || digits(v, n, 6) != n)
			return 0;
		break;
	case A_LENGTH:
		i = digits(v, n, 6);
		if (i == 0)
			return 0;
		if (i < n && v[i] == '.') {
			size_t f = digits(v + i + 1, n - i - 1, 6);
			if (f == 0)
				return 0;
			i += 1 + f;
		}
		if (!(i == n || (i + 1 == n && v[i] == '%') ||
		      (i + 2 == n && eq_word(v + i, 2, "px"))))
			return 0;
		break;
	case A_COLOR:
		i = n && v[0] == '#';
		if (n - i == 0 || n - i > 20)
			return 0;
		for (; i < n; i++)
			if (!is_alnum((unsigned char)v[i]))
				return 0;
		break;
	case A_FONTSIZE:
		i = n && (v[0] == '+' || v[0] == '-');
		if (n != i + 1 || v[i] < '1' || v[i] > '7')
			return 0;
		break;
	case A_OLTYPE:
		if (n != 1 || !strchr("1aAiI", v[0]))
			return 0;
		break;
	default:
		return 0; /* A_STYLE, A_HREF, A_IMGSRC: handled by callers */
	}
	buf_append(o, v, n);
	return 1;
}

/* ------------------------------------------------------------------ */
/* URLs                                                                */

enum ukind { U_BAD, U_WEB, U_MAILTO, U_TEL, U_CID, U_DATA };

/*
 * The URL a browser would see in v, written to o: tab, CR and LF removed
 * anywhere (the URL parser does that: "java\nscript:" is javascript:),
 * C0 controls and spaces stripped from both ends.  Entities were already
 * decoded by the parser.  Returns the scheme's kind; U_BAD for a scheme
 * not listed and for relative URLs.
 */
static enum ukind url_clean(const char *v, struct buf *o)
{
	buf_reset(o);
	const char *end = v + strlen(v);
	while (v < end && (unsigned char)*v <= 0x20)
		v++;
	while (end > v && (unsigned char)end[-1] <= 0x20)
		end--;
	for (const char *p = v; p < end; p++)
		if (*p != '\t' && *p != '\n' && *p != '\r')
			buf_putc(o, *p);
	if (o->len == 0 || !is_alpha((unsigned char)o->data[0]))
		return U_BAD;
	size_t i = 1;
	while (i < o->len && (is_alnum((unsigned char)o->data[i]) ||
			      o->data[i] == '+' || o->data[i] == '-' ||
			      o->data[i] == '.'))
		i++;
	if (i >= o->len || o->data[i] != ':')
		return U_BAD; /* relative: would point into the console */
	const char *s = o->data;
	if (eq_word(s, i, "http") || eq_word(s, i, "https"))
		return U_WEB;
	if (eq_word(s, i, "mailto"))
		return U_MAILTO;
	if (eq_word(s, i, "tel"))
		return U_TEL;
	if (eq_word(s, i, "cid"))
		return U_CID;
	if (eq_word(s, i, "data"))
		return U_DATA;
	return U_BAD;
}

static int hexval(int c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* data:image/(png|gif|jpeg|webp);base64,<base64>: raster images only (an
 * SVG image is a document), nothing but the base64 alphabet after. */
static int data_image_ok(const char *u, size_t n, size_t max)
{
	static const char *const types[] = {"png", "gif", "jpeg", "jpg",
					    "webp", NULL};
	if (n > max || !has_prefix(u, n, "data:image/"))
		return 0;
	size_t i = strlen("data:image/"), t = i;
	while (i < n && u[i] != ';' && u[i] != ',')
		i++;
	if (!in_list(u + t, i - t, types) ||
	    !has_prefix(u + i, n - i, ";base64,"))
		return 0;
	i += strlen(";base64,");
	if (i == n)
		return 0;
	for (; i < n; i++) {
		int c = (unsigned char)u[i];
		if (!is_alnum(c) && c != '+' && c != '/' && c != '=')
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* CSS                                                                 */

enum ckind { C_PLAIN, C_FONTS, C_NONNEG, C_SIZE };

static const struct {
	const char *name;
	enum ckind kind;
} css_props[] = {
	{"color", C_PLAIN},
	{"background-color", C_PLAIN},
	{"background", C_PLAIN}, /* colours only: url() never passes */
	{"font-weight", C_PLAIN},
	{"font-style", C_PLAIN},
	{"font-variant", C_PLAIN},
	{"font-size", C_PLAIN},
	{"font-family", C_FONTS},
	{"text-decoration", C_PLAIN},
	{"text-align", C_PLAIN},
	{"text-transform", C_PLAIN},
	{"line-height", C_PLAIN},
	{"letter-spacing", C_PLAIN},
	{"vertical-align", C_PLAIN},
	{"white-space", C_PLAIN},
	{"word-break", C_PLAIN},
	{"word-wrap", C_PLAIN},
	{"overflow-wrap", C_PLAIN},
	{"list-style-type", C_PLAIN},
	/* box: no negative margins, they pull content over the console */
	{"margin", C_NONNEG},
	{"margin-top", C_NONNEG},
	{"margin-right", C_NONNEG},
	{"margin-bottom", C_NONNEG},
	{"margin-left", C_NONNEG},
	{"padding", C_NONNEG},
	{"padding-top", C_NONNEG},
	{"padding-right", C_NONNEG},
	{"padding-bottom", C_NONNEG},
	{"padding-left", C_NONNEG},
	{"border", C_PLAIN},
	{"border-top", C_PLAIN},
	{"border-right", C_PLAIN},
	{"border-bottom", C_PLAIN},
	{"border-left", C_PLAIN},
	{"border-width", C_PLAIN},
	{"border-style", C_PLAIN},
	{"border-color", C_PLAIN},
	{"border-top-width", C_PLAIN},
	{"border-top-style", C_PLAIN},
	{"border-top-color", C_PLAIN},
	{"border-right-width", C_PLAIN},
	{"border-right-style", C_PLAIN},
	{"border-right-color", C_PLAIN},
	{"border-bottom-width", C_PLAIN},
	{"border-bottom-style", C_PLAIN},
	{"border-bottom-color", C_PLAIN},
	{"border-left-width", C_PLAIN},
	{"border-left-style", C_PLAIN},
	{"border-left-color", C_PLAIN},
	{"border-collapse", C_PLAIN},
	{"border-spacing", C_NONNEG},
	{"border-radius", C_NONNEG},
	/* sizes: one length, nothing else */
	{"width", C_SIZE},
	{"height", C_SIZE},
	{"min-width", C_SIZE},
	{"max-width", C_SIZE},
	{"min-height", C_SIZE},
	{"max-height", C_SIZE},
};

static int css_prop(const char *s, size_t n, enum ckind *kind)
{
	for (size_t i = 0; i < sizeof css_props / sizeof *css_props; i++)
		if (eq_word(s, n, css_props[i].name)) {
			*kind = css_props[i].kind;
			return 1;
		}
	return 0;
}

/* auto, or a number with one of the usual units (or none). */
static int css_size_ok(const char *v, size_t n)
{
	static const char *const units[] = {"",   "px", "em", "rem", "%", "pt",
					    "ex", "ch", "cm", "mm",  "in", NULL};
	if (eq_word(v, n, "auto"))
		return 1;
	size_t i = digits(v, n, 6);
	if (i < n && v[i] == '.') {
		size_t f = digits(v + i + 1, n - i - 1, 6);
		if (f == 0)
			return 0;
		i += 1 + f;
	}
	return i > 0 && in_list(v + i, n - i, units);
}

/*
 * One declaration's value, whitespace collapsed, into o.  Allowed: words,
 * numbers, #hex, % . , + -, the colour functions rgb/rgba/hsl/hsla (not
 * nested), and for font-family quoted names and non-ASCII letters (微软雅黑).
 * So no url(), expression(), var(), attr(), no ':' (javascript:), '@'
 * (@import), '\' (escapes), comment openers, ';', '{', '<'.
 */
static int css_value_ok(const char *v, size_t n, enum ckind kind,
			struct buf *o)
{
	static const char *const funcs[] = {"rgb", "rgba", "hsl", "hsla",
					    NULL};
	static const char *const banned[] = {
		"url", "expression", "script", "import", "behavior", "binding",
		NULL};
	buf_reset(o);
	if (n == 0 || n > 256)
		return 0;
	buf_reserve(o, n); /* o->data is not NULL below */
	for (const char *const *b = banned; *b; b++)
		if (contains(v, n, *b))
			return 0;
	int paren = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)v[i];
		if (is_space(c)) {
			if (o->len && o->data[o->len - 1] != ' ')
				buf_putc(o, ' ');
		} else if (is_alnum(c) || (c && strchr("#%.,+-", c))) {
			buf_putc(o, (char)c);
		} else if (c == '(' && !paren) {
			size_t w = o->len;
			while (w && is_alpha((unsigned char)o->data[w - 1]))
				w--;
			if (!in_list(o->data + w, o->len - w, funcs))
				return 0;
			paren = 1;
			buf_putc(o, '(');
		} else if (c == ')' && paren) {
			paren = 0;
			buf_putc(o, ')');
		} else if (c == '/' && paren) {
			buf_putc(o, '/'); /* rgb(0 0 0 / 50%) */
		} else if ((c == '"' || c == '\'') && kind == C_FONTS) {
			size_t j = i + 1;
			while (j < n && v[j] != c) {
				int d = (unsigned char)v[j];
				if (!is_alnum(d) && d != ' ' && d != '-' &&
				    d != '_' && d < 0x80)
					return 0;
				j++;
			}
			if (j == n)
				return 0;
			buf_append(o, v + i, j + 1 - i);
			i = j;
		} else if (c >= 0x80 && kind == C_FONTS) {
			buf_putc(o, (char)c);
		} else {
			return 0;
		}
	}
	while (o->len && o->data[o->len - 1] == ' ')
		o->data[--o->len] = '\0';
	if (paren || o->len == 0)
		return 0;
	if (kind == C_NONNEG && memchr(o->data, '-', o->len))
		return 0;
	if (kind == C_SIZE && !css_size_ok(o->data, o->len))
		return 0;
	return 1;
}

/*
 * The declarations of style value v that pass, as "name: value; ..." in
 * o (empty when none does).  *dropped counts the others.  A backslash or a
 * comment anywhere rejects the whole attribute: both can hide a ';' or a
 * keyword from a splitter, so no split of such a value is trusted.
 */
static void css_filter(const char *v, struct buf *o, struct buf *tmp,
		       unsigned *dropped)
{
	buf_reset(o);
	size_t n = strlen(v);
	if (memchr(v, '\\', n) || strstr(v, "/*") || strstr(v, "*/") ||
	    memchr(v, '<', n) || memchr(v, '{', n) || memchr(v, '}', n)) {
		(*dropped)++;
		return;
	}
	const char *p = v, *end = v + n;
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *d = p;
		size_t dn = (size_t)((semi ? semi : end) - p);
		p = semi ? semi + 1 : end;
		trim(&d, &dn);
		if (dn == 0)
			continue;
		const char *colon = memchr(d, ':', dn);
		if (!colon) {
			(*dropped)++;
			continue;
		}
		const char *name = d, *val = colon + 1;
		size_t nn = (size_t)(colon - d), vn = dn - nn - 1;
		trim(&name, &nn);
		trim(&val, &vn);
		/* !important is dropped: mail must not out-rank the console. */
		if (vn >= 10 && eq_word(val + vn - 10, 10, "!important")) {
			vn -= 10;
			trim(&val, &vn);
		}
		enum ckind kind;
		if (!css_prop(name, nn, &kind) ||
		    !css_value_ok(val, vn, kind, tmp)) {
			(*dropped)++;
			continue;
		}
		if (o->len)
			buf_puts(o, "; ");
		for (size_t i = 0; i < nn; i++)
			buf_putc(o, (char)lower((unsigned char)name[i]));
		buf_puts(o, ": ");
		buf_append(o, tmp->data, tmp->len);
	}
}

/* ------------------------------------------------------------------ */
/* writing                                                             */

struct san {
	struct html_walker w; /* first: the callbacks get &san.w */
	struct buf *out;
	struct sanitize_report rep;
	int allow_remote;
	sanitize_cid_fn resolve_cid;
	void *cid_ctx;
	unsigned depth, max_depth;
	size_t max_data_uri;
	struct buf val, tmp, url; /* scratch */
};

static void put_attr(struct buf *out, const char *name, const char *v,
		     size_t n)
{
	buf_putc(out, ' ');
	buf_puts(out, name);
	buf_puts(out, "=\"");
	html_put_text(out, v, n, 1);
	buf_putc(out, '"');
}

/* The allowed attributes of e, in source order (img src excepted). */
static void put_attrs(struct san *s, const GumboElement *e)
{
	int link = 0;
	for (unsigned i = 0; i < e->attributes.length; i++) {
		const GumboAttribute *a = e->attributes.data[i];
		const struct arule *r =
			a->attr_namespace == GUMBO_ATTR_NAMESPACE_NONE
				? attr_rule(e->tag, a->name)
				: NULL;
		if (r && r->type == A_IMGSRC)
			continue;
		int ok = 0;
		buf_reset(&s->val);
		if (!r) {
			ok = 0;
		} else if (r->type == A_HREF) {
			enum ukind k = url_clean(a->value, &s->url);
			ok = k == U_WEB || k == U_MAILTO || k == U_TEL;
			if (ok)
				buf_append(&s->val, s->url.data, s->url.len);
			link = ok;
		} else if (r->type == A_STYLE) {
			unsigned before = s->rep.removed_css;
			css_filter(a->value, &s->val, &s->tmp,
				   &s->rep.removed_css);
			ok = s->val.len > 0;
			if (!ok) /* the attribute counts, not its parts */
				s->rep.removed_css = before;
		} else {
			ok = value_ok(r->type, a->value, strlen(a->value),
				      &s->val);
		}
		if (!ok) {
			s->rep.removed_attrs++;
			continue;
		}
		put_attr(s->out, r->name, s->val.data ? s->val.data : "",
			 s->val.len); /* our spelling of the name */
	}
	if (link) /* a new, unprivileged browsing context, no referrer */
		buf_puts(s->out, " target=\"_blank\" "
				 "rel=\"noopener noreferrer nofollow\"");
}

/* Decides an img's source; returns 0 (img dropped) when there is none. */
static int put_img(struct san *s, const GumboElement *e)
{
	const GumboAttribute *src = gumbo_get_attribute(&e->attributes, "src");
	const char *as = "src";
	enum ukind k = src ? url_clean(src->value, &s->url) : U_BAD;
	switch (k) {
	case U_WEB:
		s->rep.remote_images++;
		if (!s->allow_remote) {
			s->rep.remote_images_blocked++;
			as = "data-remote-src";
		}
		break;
	case U_DATA:
		if (!data_image_ok(s->url.data, s->url.len, s->max_data_uri))
			k = U_BAD;
		break;
	case U_CID: {
		/* cid:<addr-spec>, %hh-encoded (RFC 2392) */
		buf_reset(&s->tmp);
		const char *c = s->url.data + 4, *end = s->url.data + s->url.len;
		for (; c < end; c++) {
			int h1, h2;
			if (*c == '%' && end - c >= 3 &&
			    (h1 = hexval((unsigned char)c[1])) >= 0 &&
			    (h2 = hexval((unsigned char)c[2])) >= 0) {
				buf_putc(&s->tmp, (char)(h1 * 16 + h2));
				c += 2;
			} else {
				buf_putc(&s->tmp, *c);
			}
		}
		const char *id = s->tmp.data;
		size_t n = s->tmp.len;
		if (n >= 2 && id[0] == '<' && id[n - 1] == '>') {
			s->tmp.data[--s->tmp.len] = '\0';
			id++;
			n -= 2;
		}
		int clean = n > 0;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)id[i] < 0x20 || id[i] == 0x7F)
				clean = 0;
		buf_reset(&s->url);
		if (!clean || !s->resolve_cid ||
		    s->resolve_cid(s->cid_ctx, id, n, &s->url) != 0 ||
		    s->url.len == 0)
			k = U_BAD;
		else
			s->rep.cid_images++;
		break;
	}
	default:
		k = U_BAD;
	}
	if (k == U_BAD) {
		s->rep.removed_elements++;
		return 0;
	}
	buf_puts(s->out, "<img");
	put_attr(s->out, as, s->url.data, s->url.len);
	/* Loaded now or after "load images": never tell the sender where
	 * from (the console's URL would name the account and ticket). */
	if (k == U_WEB)
		buf_puts(s->out, " referrerpolicy=\"no-referrer\"");
	put_attrs(s, e);
	buf_putc(s->out, '>');
	return 1;
}

static int san_enter(struct html_walker *w, GumboNode *n)
{
	struct san *s = (struct san *)w;
	switch (n->type) {
	case GUMBO_NODE_DOCUMENT:
		return HTML_DESCEND;
	case GUMBO_NODE_TEXT:
	case GUMBO_NODE_WHITESPACE:
	case GUMBO_NODE_CDATA:
		html_put_text(s->out, n->v.text.text, strlen(n->v.text.text),
			      1);
		return HTML_SKIP;
	case GUMBO_NODE_ELEMENT:
	case GUMBO_NODE_TEMPLATE:
		break;
	default: /* comments */
		return HTML_SKIP;
	}
	unsigned rule = elem_rule_of(n);
	const GumboElement *e = &n->v.element;
	switch (rule & E_KIND) {
	case E_DROP:
		if (!(rule & E_QUIET))
			s->rep.removed_elements++;
		return HTML_SKIP;
	case E_UNWRAP:
		if (!(rule & E_QUIET))
			s->rep.removed_elements++;
		return HTML_DESCEND;
	case E_VOID:
		if (e->tag == GUMBO_TAG_IMG)
			put_img(s, e);
		else {
			buf_printf(s->out, "<%s", gumbo_normalized_tagname(e->tag));
			put_attrs(s, e);
			buf_putc(s->out, '>');
		}
		return HTML_SKIP;
	}
	if (s->depth >= s->max_depth) {
		s->rep.flattened++;
		return HTML_DESCEND;
	}
	buf_printf(s->out, "<%s", gumbo_normalized_tagname(e->tag));
	put_attrs(s, e);
	buf_putc(s->out, '>');
	/* The parser ate one newline after <pre>; give it one to eat. */
	if (e->tag == GUMBO_TAG_PRE && e->children.length) {
		const GumboNode *c = e->children.data[0];
		if ((c->type == GUMBO_NODE_TEXT ||
		     c->type == GUMBO_NODE_WHITESPACE) &&
		    c->v.text.text[0] == '\n')
			buf_putc(s->out, '\n');
	}
	s->depth++;
	return HTML_CLOSE;
}

static void san_leave(struct html_walker *w, GumboNode *n)
{
	struct san *s = (struct san *)w;
	buf_printf(s->out, "</%s>", gumbo_normalized_tagname(n->v.element.tag));
	s->depth--;
}

void sanitize_html(const char *html, size_t len,
		   const struct sanitize_opts *opts, struct buf *out,
		   struct sanitize_report *rep)
{
	static const struct sanitize_opts defaults;
	if (!opts)
		opts = &defaults;
	struct san s = {
		.w = {san_enter, san_leave},
		.out = out,
		.allow_remote = opts->allow_remote_images,
		.resolve_cid = opts->resolve_cid,
		.cid_ctx = opts->cid_ctx,
		.max_depth = opts->max_depth ? opts->max_depth
					     : SANITIZE_MAX_DEPTH,
		.max_data_uri = opts->max_data_uri ? opts->max_data_uri
						   : SANITIZE_MAX_DATA_URI,
		.val = BUF_INIT,
		.tmp = BUF_INIT,
		.url = BUF_INIT,
	};
	size_t max = opts->max_input ? opts->max_input : SANITIZE_MAX_INPUT;
	size_t n = html_clip(html, len, max);
	s.rep.clipped = n < len;

	struct html_doc doc;
	html_doc_parse(&doc, html, n);
	buf_reserve(out, n);
	html_walk(doc.out->document, &s.w);
	html_doc_free(&doc);
	buf_append(out, "", 0); /* NUL-terminated even when nothing was kept */

	buf_free(&s.val);
	buf_free(&s.tmp);
	buf_free(&s.url);
	if (rep)
		*rep = s.rep;
}
