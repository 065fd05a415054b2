/*
 * mime.c -- a raw message into struct mime_msg (see mime.h): GMime parses
 * the structure, this file decides what is body and what is attachment,
 * reads the headers the e-mail channel needs (threading, loop and noise
 * flags, DSN fields) and trims quoted history for display.  Charset
 * decisions are charset.c's; HTML is left alone.
 */
#include "text/mime.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "text/charset.h"
#include "util/buf.h"

/* Deeper nesting than this is an attack, not mail: the parts below are
 * ignored rather than risking the stack. */
#define MIME_MAX_DEPTH 64

static pthread_once_t mime_once = PTHREAD_ONCE_INIT;
static GMimeParserOptions *mime_opts; /* read-only after mime_init */

/* GMime is initialised once per process and never shut down: its global
 * tables stay reachable, so they are not leaks. */
static void mime_init(void)
{
	/* Raw 8-bit header text (common in Chinese mail: unencoded GBK
	 * names and filenames) is tried in this order; GB18030 before
	 * Windows-1252 because Windows-1252 accepts any byte. */
	static const char *fallback[] = {"utf-8", "gb18030", "windows-1252",
					 NULL};
	g_mime_init();
	mime_opts = g_mime_parser_options_new();
	g_mime_parser_options_set_fallback_charsets(mime_opts, fallback);
}

void mime_ready(void)
{
	pthread_once(&mime_once, mime_init);
}

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

/* A copy that is valid UTF-8 whatever GMime handed over: names and
 * parameters of broken mail may hold any byte. */
static char *utf8_dup(const char *s)
{
	if (!s)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && *p < 0x80)
		p++;
	if (!*p)
		return xstrdup(s); /* ASCII: the common case */
	char *d = charset_decode(s, strlen(s), "utf-8", NULL, NULL);
	return d ? d : xstrdup("");
}

static char *strip_angle(const char *id)
{
	if (!id)
		return NULL;
	while (*id == '<' || isspace((unsigned char)*id))
		id++;
	size_t n = strlen(id);
	while (n && (id[n - 1] == '>' || isspace((unsigned char)id[n - 1])))
		n--;
	if (!n)
		return NULL;
	char *raw = xstrndup(id, n), *v = utf8_dup(raw);
	free(raw);
	return v;
}

static char *lower_dup(const char *s)
{
	char *d = utf8_dup(s ? s : "");
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static const char *raw_header(GMimeObject *o, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(o);
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
	return h ? g_mime_header_get_raw_value(h) : NULL;
}

/* A header's value, unfolded and trimmed, lower-cased; "" when absent. */
static char *header_lc(GMimeObject *o, const char *name)
{
	const char *raw = raw_header(o, name);
	char *s = charset_decode_header(raw, raw ? strlen(raw) : 0);
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

/* Decoded bytes of a leaf part (base64, quoted-printable, uuencode
 * undone).  The GByteArray is the caller's. */
static GByteArray *part_bytes(GMimePart *part)
{
	GByteArray *ba = g_byte_array_new();
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	if (dw) {
		GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(ba);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
		g_mime_data_wrapper_write_to_stream(dw, mem);
		g_object_unref(mem);
	}
	return ba;
}

/* CRLF and lone CR become LF: bodies are stored with one line end. */
static void lf_only(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == '\r') {
			*w++ = '\n';
			if (r[1] == '\n')
				r++;
		} else
			*w++ = *r;
	}
	*w = 0;
}

/* ------------------------------------------------------------------ */
/* addresses                                                           */

/* GMime decodes encoded-words in names with iconv under the declared
 * charset; give it our superset names first so "=?gb2312?" names with
 * GBK characters decode instead of turning into "?". */
static char *rewrite_word_charsets(const char *raw)
{
	struct buf b = BUF_INIT;
	const char *p = raw;
	while (*p) {
		const char *q = strstr(p, "=?");
		if (!q)
			break;
		buf_append(&b, p, (size_t)(q - p) + 2);
		p = q + 2;
		size_t n = strcspn(p, "?* \t\r\n");
		char cs[64];
		if (p[n] != '?' && p[n] != '*')
			continue;
		snprintf(cs, sizeof cs, "%.*s", (int)(n < 63 ? n : 63), p);
		const char *use = charset_canonical(cs);
		if (use && !strcmp(use, "windows-949"))
			use = "cp949"; /* iconv's name for it */
		if (use && (!strcmp(use, "gb18030") || !strcmp(use, "cp949") ||
			    !strcmp(use, "big5-hkscs"))) {
			buf_puts(&b, use);
			p += n;
		}
	}
	buf_puts(&b, p);
	return b.data ? buf_steal(&b) : xstrdup("");
}

static void addr_fill(struct mime_addr *a, InternetAddressMailbox *mb)
{
	const char *name = internet_address_get_name(INTERNET_ADDRESS(mb));
	const char *addr = internet_address_mailbox_get_addr(mb);
	a->name = utf8_dup(name ? name : "");
	a->addr = utf8_dup(addr ? addr : "");
	char *at = strrchr(a->addr, '@');
	for (char *p = at; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* Every mailbox of the list, groups flattened, appended to *v. */
static void addr_collect(InternetAddressList *l, struct mime_addr **v, int *n,
			 int depth)
{
	int len = l ? internet_address_list_length(l) : 0;
	for (int i = 0; i < len && depth < 8; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			addr_collect(internet_address_group_get_members(
					     INTERNET_ADDRESS_GROUP(ia)),
				     v, n, depth + 1);
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		*v = xrealloc(*v, (size_t)(*n + 1) * sizeof **v);
		addr_fill(&(*v)[*n], INTERNET_ADDRESS_MAILBOX(ia));
		(*n)++;
	}
}

static void addr_header(GMimeObject *o, const char *name,
			struct mime_addr **v, int *n)
{
	const char *raw = raw_header(o, name);
	if (!raw)
		return;
	char *fixed = rewrite_word_charsets(raw);
	InternetAddressList *l = internet_address_list_parse(mime_opts, fixed);
	free(fixed);
	if (l) {
		addr_collect(l, v, n, 0);
		g_object_unref(l);
	}
}

/* The first mailbox of a header into *a (which stays zeroed if none). */
static void addr_first(GMimeObject *o, const char *name, struct mime_addr *a)
{
	struct mime_addr *v = NULL;
	int n = 0;
	addr_header(o, name, &v, &n);
	if (n)
		*a = v[0];
	for (int i = 1; i < n; i++) {
		free(v[i].name);
		free(v[i].addr);
	}
	free(v);
}

/* ------------------------------------------------------------------ */
/* threading headers                                                   */

static void refs_parse(GMimeObject *o, const char *name, char ***ids, int *n)
{
	const char *raw = raw_header(o, name);
	GMimeReferences *r = raw ? g_mime_references_parse(mime_opts, raw) : NULL;
	int len = r ? g_mime_references_length(r) : 0;
	for (int i = 0; i < len; i++) {
		char *id = strip_angle(g_mime_references_get_message_id(r, i));
		if (!id)
			continue;
		*ids = xrealloc(*ids, (size_t)(*n + 1) * sizeof **ids);
		(*ids)[(*n)++] = id;
	}
	if (r)
		g_mime_references_free(r);
}

static void read_threading(GMimeMessage *msg, struct mime_msg *m)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	m->message_id = strip_angle(g_mime_message_get_message_id(msg));
	char **irt = NULL;
	int nirt = 0;
	refs_parse(o, "In-Reply-To", &irt, &nirt);
	if (nirt)
		m->in_reply_to = irt[0];
	for (int i = 1; i < nirt; i++)
		free(irt[i]);
	free(irt);
	refs_parse(o, "References", &m->references, &m->nrefs);
	GDateTime *d = g_mime_message_get_date(msg);
	if (d)
		m->date_ms = (int64_t)g_date_time_to_unix(d) * 1000;
}

/* ------------------------------------------------------------------ */
/* loop and noise                                                      */

static int starts_ci(const char *s, const char *p)
{
	return strncasecmp(s, p, strlen(p)) == 0;
}

/* Subjects that out-of-office and autoresponders use, in the languages
 * our customers write in. */
static int vacation_subject(const char *s)
{
	static const char *const prefixes[] = {
		"auto:", "automatic reply", "autoreply", "auto-reply",
		"auto reply", "auto response", "out of office", "vacation:",
		"abwesenheitsnotiz", "réponse automatique", NULL};
	static const char *const anywhere[] = {"自动回复", "自動回覆",
					       "自动答复", "自動回复", NULL};
	for (const char *const *p = prefixes; *p; p++)
		if (starts_ci(s, *p))
			return 1;
	for (const char *const *p = anywhere; *p; p++)
		if (strstr(s, *p))
			return 1;
	return 0;
}

static void read_noise(GMimeMessage *msg, struct mime_msg *m)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	char *as = header_lc(o, "Auto-Submitted");
	char *prec = header_lc(o, "Precedence");
	m->auto_reply = (*as && !starts_ci(as, "no")) ||
			raw_header(o, "X-Autoreply") ||
			raw_header(o, "X-Autorespond") ||
			!strcmp(prec, "auto_reply") ||
			vacation_subject(m->subject);
	m->bulk = !strcmp(prec, "bulk") || !strcmp(prec, "junk") ||
		  !strcmp(prec, "list") || raw_header(o, "List-Id") ||
		  raw_header(o, "List-Unsubscribe");
	free(as);
	free(prec);
}

/* "Status: 5.1.1 (...)" in a message/delivery-status body. */
static void dsn_read_status(struct mime_msg *m, const char *s, size_t n)
{
	for (size_t i = 0; i < n && !m->dsn_status;) {
		size_t e = i;
		while (e < n && s[e] != '\n')
			e++;
		if (e - i > 7 && !strncasecmp(s + i, "status:", 7)) {
			size_t a = i + 7, b;
			while (a < e && isspace((unsigned char)s[a]))
				a++;
			for (b = a; b < e && (isdigit((unsigned char)s[b]) ||
					      s[b] == '.');)
				b++;
			if (b > a)
				m->dsn_status = xstrndup(s + a, b - a);
		}
		i = e + 1;
	}
}

/* The Message-ID of a text/rfc822-headers part (the bounced headers). */
static void dsn_read_headers(struct mime_msg *m, const char *s, size_t n)
{
	for (size_t i = 0; i < n && !m->dsn_original_id;) {
		size_t e = i;
		while (e < n && s[e] != '\n')
			e++;
		if (e - i > 11 && !strncasecmp(s + i, "message-id:", 11)) {
			char *v = xstrndup(s + i + 11, e - i - 11);
			m->dsn_original_id = strip_angle(v);
			free(v);
		}
		if (e == i || (e == i + 1 && s[i] == '\r'))
			break; /* end of the header block */
		i = e + 1;
	}
}

/* ------------------------------------------------------------------ */
/* body and attachments                                                */

struct walk {
	struct mime_msg *m;
	struct buf text, html;
	int have_text, have_html;
};

static void body_append(struct walk *w, struct buf *b, int *have,
			GMimeObject *o, GByteArray *ba)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	const char *cs = ct ? g_mime_content_type_get_parameter(ct, "charset")
			    : NULL;
	struct charset_result r;
	char *s = charset_decode(ba->data, ba->len, cs, NULL, &r);
	lf_only(s);
	if (*have)
		buf_puts(b, "\n\n");
	buf_puts(b, s);
	*have = 1;
	free(s);
	if (!w->m->charset) {
		w->m->charset = r.charset;
		w->m->charset_guessed = r.guessed;
	}
}

static struct mime_att *att_new(struct mime_msg *m, GMimeObject *o,
				const char *filename)
{
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(o);
	const char *disp = cd ? g_mime_content_disposition_get_disposition(cd)
			      : NULL;
	m->atts = xrealloc(m->atts, (size_t)(m->natts + 1) * sizeof *m->atts);
	struct mime_att *a = &m->atts[m->natts++];
	memset(a, 0, sizeof *a);
	a->filename = utf8_dup(filename ? filename : "");
	char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	a->content_type = lower_dup(mt ? mt : "application/octet-stream");
	g_free(mt);
	a->content_id = strip_angle(g_mime_object_get_content_id(o));
	a->is_inline = disp && !strcasecmp(disp, "inline");
	return a;
}

static void att_take(struct mime_att *a, GByteArray *ba)
{
	a->len = ba->len;
	a->data = xmalloc(ba->len + 1);
	if (ba->len)
		memcpy(a->data, ba->data, ba->len);
	a->data[ba->len] = 0;
}

static void leaf(struct walk *w, GMimePart *part)
{
	GMimeObject *o = GMIME_OBJECT(part);
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(o);
	int attached = cd && g_mime_content_disposition_is_attachment(cd);
	/* A named text part after the body is a file the sender attached
	 * (notes.txt), even when marked inline; the first one is the body
	 * (some clients name the body part). */
	if (g_mime_part_get_filename(part) &&
	    (w->have_text || w->have_html))
		attached = 1;
	GByteArray *ba = part_bytes(part);
	if (!attached && g_mime_content_type_is_type(ct, "text", "plain"))
		body_append(w, &w->text, &w->have_text, o, ba);
	else if (!attached && g_mime_content_type_is_type(ct, "text", "html"))
		body_append(w, &w->html, &w->have_html, o, ba);
	else {
		if (w->m->is_dsn &&
		    g_mime_content_type_is_type(ct, "message", "delivery-status"))
			dsn_read_status(w->m, (char *)ba->data, ba->len);
		if (w->m->is_dsn &&
		    g_mime_content_type_is_type(ct, "text", "rfc822-headers"))
			dsn_read_headers(w->m, (char *)ba->data, ba->len);
		/* Everything else, TNEF included, is kept as sent. */
		att_take(att_new(w->m, o, g_mime_part_get_filename(part)), ba);
	}
	g_byte_array_unref(ba);
}

/* A forwarded or bounced message: kept whole as an .eml attachment. */
static void message_part(struct walk *w, GMimeMessagePart *mp)
{
	GMimeObject *o = GMIME_OBJECT(mp);
	GMimeMessage *inner = g_mime_message_part_get_message(mp);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(o);
	const char *fn = cd ? g_mime_content_disposition_get_parameter(cd, "filename")
			    : NULL;
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	if (!fn && ct)
		fn = g_mime_content_type_get_parameter(ct, "name");
	struct mime_att *a = att_new(w->m, o, fn);
	GByteArray *ba = g_byte_array_new();
	if (inner) {
		GMimeStream *mem = g_mime_stream_mem_new_with_byte_array(ba);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
		g_mime_object_write_to_stream(GMIME_OBJECT(inner), NULL, mem);
		g_object_unref(mem);
		if (w->m->is_dsn && !w->m->dsn_original_id)
			w->m->dsn_original_id = strip_angle(
				g_mime_message_get_message_id(inner));
	}
	att_take(a, ba);
	g_byte_array_unref(ba);
}

static void walk(struct walk *w, GMimeObject *o, int depth)
{
	if (!o || depth > MIME_MAX_DEPTH)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		const char *rt = ct ? g_mime_content_type_get_parameter(
					      ct, "report-type")
				    : NULL;
		if (depth == 0 && g_mime_content_type_is_type(ct, "multipart", "report") &&
		    rt && !strcasecmp(rt, "delivery-status"))
			w->m->is_dsn = 1;
		GMimeMultipart *mp = GMIME_MULTIPART(o);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++)
			walk(w, g_mime_multipart_get_part(mp, i), depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(o)) {
		message_part(w, GMIME_MESSAGE_PART(o));
	} else if (GMIME_IS_PART(o)) {
		leaf(w, GMIME_PART(o));
	}
}

/* An attachment the HTML shows through "cid:" is inline whatever its
 * disposition says. */
static void mark_cid_inline(struct mime_msg *m)
{
	for (int i = 0; m->html && i < m->natts; i++) {
		struct mime_att *a = &m->atts[i];
		if (!a->content_id || a->is_inline)
			continue;
		struct buf ref = BUF_INIT;
		buf_printf(&ref, "cid:%s", a->content_id);
		a->is_inline = strcasestr(m->html, ref.data) != NULL;
		buf_free(&ref);
	}
}

static void read_body(GMimeMessage *msg, struct mime_msg *m)
{
	struct walk w = {m, BUF_INIT, BUF_INIT, 0, 0};
	walk(&w, g_mime_message_get_mime_part(msg), 0);
	m->text = w.have_text ? (w.text.data ? buf_steal(&w.text) : xstrdup(""))
			      : NULL;
	m->html = w.have_html ? (w.html.data ? buf_steal(&w.html) : xstrdup(""))
			      : NULL;
	buf_free(&w.text);
	buf_free(&w.html);
	mark_cid_inline(m);
}

/* ------------------------------------------------------------------ */
/* entry points                                                        */

/* GMime's message for the bytes, after an empty header block when
 * `bodyonly`; NULL when it finds none. */
static GMimeMessage *construct(const void *raw, size_t len, int bodyonly)
{
	GMimeStream *st = g_mime_stream_mem_new();
	if (bodyonly)
		g_mime_stream_write(st, "\n", 1);
	g_mime_stream_write(st, raw, len);
	g_mime_stream_reset(st);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	GMimeMessage *msg = g_mime_parser_construct_message(p, mime_opts);
	g_object_unref(p);
	g_object_unref(st);
	return msg;
}

int mime_parse(const void *raw, size_t len, struct mime_msg *out,
	       struct err *e)
{
	memset(out, 0, sizeof *out);
	if (!raw || !len) {
		ERR_INVALID(e, "empty message");
		return -1;
	}
	mime_ready();
	GMimeMessage *msg = construct(raw, len, 0);
	if (!msg) /* no header block GMime accepts: read it all as body */
		msg = construct(raw, len, 1);
	if (!msg) {
		ERR_INVALID(e, "not a mail message");
		return -1;
	}
	GMimeObject *o = GMIME_OBJECT(msg);
	const char *subj = raw_header(o, "Subject");
	out->subject = charset_decode_header(subj, subj ? strlen(subj) : 0);
	addr_first(o, "From", &out->from);
	addr_first(o, "Reply-To", &out->reply_to);
	addr_header(o, "To", &out->to, &out->nto);
	addr_header(o, "Cc", &out->cc, &out->ncc);
	read_threading(msg, out);
	read_noise(msg, out);
	read_body(msg, out);
	g_object_unref(msg);
	return 0;
}

static void addr_free(struct mime_addr *a)
{
	free(a->name);
	free(a->addr);
}

void mime_msg_free(struct mime_msg *m)
{
	if (!m)
		return;
	free(m->message_id);
	free(m->in_reply_to);
	for (int i = 0; i < m->nrefs; i++)
		free(m->references[i]);
	free(m->references);
	free(m->subject);
	addr_free(&m->from);
	addr_free(&m->reply_to);
	for (int i = 0; i < m->nto; i++)
		addr_free(&m->to[i]);
	for (int i = 0; i < m->ncc; i++)
		addr_free(&m->cc[i]);
	free(m->to);
	free(m->cc);
	free(m->text);
	free(m->html);
	for (int i = 0; i < m->natts; i++) {
		free(m->atts[i].filename);
		free(m->atts[i].content_type);
		free(m->atts[i].content_id);
		free(m->atts[i].data);
	}
	free(m->atts);
	free(m->dsn_original_id);
	free(m->dsn_status);
	memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------------ */
/* quoted history                                                      */

struct line {
	const char *s; /* first non-blank byte */
	size_t n;      /* length without leading/trailing blanks */
	size_t start;  /* offset of the line in the text */
};

static int ends_with(const struct line *l, const char *suf)
{
	size_t k = strlen(suf);
	return l->n >= k && !memcmp(l->s + l->n - k, suf, k);
}

static int begins(const struct line *l, const char *pre)
{
	size_t k = strlen(pre);
	return l->n >= k && !strncasecmp(l->s, pre, k);
}

static int contains(const struct line *l, const char *what)
{
	size_t k = strlen(what);
	for (size_t i = 0; i + k <= l->n; i++)
		if (!strncasecmp(l->s + i, what, k))
			return 1;
	return 0;
}

/* "-----Original Message-----", "------------------ 原始邮件 ----...". */
static int separator_line(const struct line *l)
{
	return (begins(l, "-----") || begins(l, "———")) &&
	       (contains(l, "original message") || contains(l, "原始邮件") ||
		contains(l, "原始郵件"));
}

static int wrote_end(const struct line *l)
{
	return ends_with(l, "wrote:") || ends_with(l, "写道：") ||
	       ends_with(l, "写道:") || ends_with(l, "寫道：") ||
	       ends_with(l, "寫道:");
}

/* "On <date>, <who> wrote:" (perhaps wrapped onto the next line) and
 * "在 <date>，<who> 写道：". */
static int wrote_line(const struct line *l, const struct line *next)
{
	if (!begins(l, "On ") && !begins(l, "在"))
		return 0;
	return wrote_end(l) || (next && next->n && wrote_end(next));
}

/* Outlook's header block: "From: ..." then within a few lines "Sent:"
 * ("发件人: ... 发送时间: ..."). */
static int from_block(const struct line *v, size_t i, size_t n)
{
	static const char *const from[] = {"From:", "发件人:", "发件人：",
					   "寄件者:", "寄件者：", NULL};
	static const char *const sent[] = {"Sent:", "Date:", "发送时间:",
					   "发送时间：", "日期:", "日期：",
					   "寄件日期:", "寄件日期：", NULL};
	int is_from = 0;
	for (const char *const *p = from; *p; p++)
		is_from |= begins(&v[i], *p);
	if (!is_from)
		return 0;
	for (size_t k = i + 1; k < n && k <= i + 4; k++)
		for (const char *const *p = sent; *p; p++)
			if (begins(&v[k], *p))
				return 1;
	return 0;
}

static struct line *split_lines(const char *text, size_t *count)
{
	size_t n = 0, cap = 16;
	struct line *v = xmalloc(cap * sizeof *v);
	for (const char *p = text;;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (n == cap)
			v = xrealloc(v, (cap *= 2) * sizeof *v);
		struct line *l = &v[n++];
		l->start = (size_t)(p - text);
		l->s = p;
		l->n = len;
		while (l->n && (*l->s == ' ' || *l->s == '\t' || *l->s == '\r')) {
			l->s++;
			l->n--;
		}
		while (l->n && strchr(" \t\r", l->s[l->n - 1]))
			l->n--;
		if (!e)
			break;
		p = e + 1;
	}
	*count = n;
	return v;
}

char *mime_visible_text(const char *text)
{
	if (!text)
		return NULL;
	size_t n, cut;
	struct line *v = split_lines(text, &n);
	for (cut = 0; cut < n; cut++) {
		const char *raw = text + v[cut].start;
		if (!strncmp(raw, "-- \n", 4) || !strcmp(raw, "-- ") ||
		    separator_line(&v[cut]) || from_block(v, cut, n) ||
		    wrote_line(&v[cut], cut + 1 < n ? &v[cut + 1] : NULL))
			break;
	}
	/* Then trailing quoted lines and blank lines. */
	while (cut > 0 && (v[cut - 1].n == 0 || v[cut - 1].s[0] == '>'))
		cut--;
	size_t end = cut ? v[cut - 1].start + (size_t)(v[cut - 1].s - (text + v[cut - 1].start)) + v[cut - 1].n : 0;
	free(v);
	if (end == 0)
		return xstrdup(text); /* all quote: better shown than hidden */
	return xstrndup(text, end);
}
