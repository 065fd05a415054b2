/* mime_build.c -- see mime_build.h. */
#include "mime_build.h"

#include <gmime/gmime.h>
#include <string.h>

#include "charset.h"
#include "mime.h"

/* Header values we build from stored data must not smuggle in headers. */
static int one_line(const char *s)
{
	return !s || !strpbrk(s, "\r\n");
}

static int check(const struct mime_out *m, struct err *e)
{
	int ok = m->from_addr && m->from_addr[0] && m->to_addr && m->to_addr[0] &&
		 m->message_id && m->message_id[0] && one_line(m->from_addr) &&
		 one_line(m->to_addr) && one_line(m->reply_to) &&
		 one_line(m->message_id) && one_line(m->in_reply_to);
	for (int i = 0; ok && i < m->nrefs; i++)
		ok = one_line(m->references[i]) && !strpbrk(m->references[i], "<> ");
	if (!ok)
		ERR_INVALID(e, "a mail needs From, To and Message-ID; addresses and ids "
			       "on one line");
	return ok ? 0 : -1;
}

/* A text part ("plain" or "html") in UTF-8, 7-bit safe. */
static GMimeObject *text_part(const char *subtype, const char *text)
{
	GMimeTextPart *p = g_mime_text_part_new_with_subtype(subtype);
	g_mime_text_part_set_charset(p, "utf-8");
	g_mime_text_part_set_text(p, text ? text : "");
	GMimePart *part = GMIME_PART(p);
	g_mime_part_set_content_encoding(
		part, g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT));
	return GMIME_OBJECT(p);
}

static GMimeObject *file_part(const struct mime_out_att *a)
{
	const char *type = a->content_type && strchr(a->content_type, '/')
				   ? a->content_type : "application/octet-stream";
	GMimeContentType *ct = g_mime_content_type_parse(NULL, type);
	GMimePart *p = g_mime_part_new_with_type(g_mime_content_type_get_media_type(ct),
						 g_mime_content_type_get_media_subtype(ct));
	g_object_unref(ct);
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(a->data ? a->data : "", a->len);
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
	g_object_unref(st);
	g_mime_part_set_content(p, w);
	g_object_unref(w);
	g_mime_object_set_disposition(GMIME_OBJECT(p), "attachment");
	g_mime_part_set_filename(p, a->filename && a->filename[0] ? a->filename : "file");
	g_mime_part_set_content_encoding(p, GMIME_CONTENT_ENCODING_BASE64);
	return GMIME_OBJECT(p);
}

static GMimeObject *body(const struct mime_out *m)
{
	GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
	GMimeObject *t = text_part("plain", m->text);
	GMimeObject *h = text_part("html", m->html);
	g_mime_multipart_add(alt, t);
	g_mime_multipart_add(alt, h);
	g_object_unref(t);
	g_object_unref(h);
	if (m->natts == 0)
		return GMIME_OBJECT(alt);
	GMimeMultipart *mixed = g_mime_multipart_new_with_subtype("mixed");
	g_mime_multipart_add(mixed, GMIME_OBJECT(alt));
	g_object_unref(alt);
	for (int i = 0; i < m->natts; i++) {
		GMimeObject *f = file_part(&m->atts[i]);
		g_mime_multipart_add(mixed, f);
		g_object_unref(f);
	}
	return GMIME_OBJECT(mixed);
}

static void headers(GMimeMessage *msg, const struct mime_out *m)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, m->from_name ? m->from_name : "",
				   m->from_addr);
	if (m->reply_to && m->reply_to[0])
		g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO, "", m->reply_to);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, m->to_name ? m->to_name : "",
				   m->to_addr);
	g_mime_message_set_subject(msg, m->subject ? m->subject : "", "utf-8");
	GDateTime *d = g_date_time_new_from_unix_utc(m->date_ms / 1000);
	g_mime_message_set_date(msg, d);
	g_date_time_unref(d);
	g_mime_message_set_message_id(msg, m->message_id);
	if (m->in_reply_to && m->in_reply_to[0]) {
		char *v = g_strdup_printf("<%s>", m->in_reply_to);
		g_mime_object_set_header(o, "In-Reply-To", v, NULL);
		g_free(v);
	}
	if (m->nrefs > 0) {
		GString *refs = g_string_new(NULL);
		for (int i = 0; i < m->nrefs; i++)
			g_string_append_printf(refs, "%s<%s>", i ? " " : "", m->references[i]);
		g_mime_object_set_header(o, "References", refs->str, NULL);
		g_string_free(refs, TRUE);
	}
}

static int build(const struct mime_out *m, struct buf *out)
{
	GMimeMessage *msg = g_mime_message_new(TRUE);
	headers(msg, m);
	GMimeObject *b = body(m);
	g_mime_message_set_mime_part(msg, b);
	g_object_unref(b);
	GMimeFormatOptions *fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	GMimeStream *st = g_mime_stream_mem_new();
	g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, st);
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(st));
	buf_append(out, ba->data, ba->len);
	g_object_unref(st);
	g_mime_format_options_free(fo);
	g_object_unref(msg);
	return 0;
}

/* Valid UTF-8 without NULs (GMime would pass broken bytes through as
 * 8-bit header text), for a header also without line breaks (a name or
 * subject with one is still sent, on one line): a copy, kept in keep[*n]
 * to be freed. */
static const char *clean(const char *s, int header, char **keep, int *n)
{
	if (!s)
		return NULL;
	char *c = charset_decode(s, strlen(s), "utf-8", NULL, NULL);
	for (char *p = c; header && *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	keep[*n] = c;
	return keep[(*n)++];
}

int mime_build(const struct mime_out *m_in, struct buf *out, struct err *e)
{
	if (check(m_in, e) < 0)
		return -1;
	mime_ready();
	struct mime_out m = *m_in;
	char *keep[5];
	int nkeep = 0;
	m.from_name = clean(m.from_name, 1, keep, &nkeep);
	m.to_name = clean(m.to_name, 1, keep, &nkeep);
	m.subject = clean(m.subject, 1, keep, &nkeep);
	m.text = clean(m.text, 0, keep, &nkeep);
	m.html = clean(m.html, 0, keep, &nkeep);
	struct mime_out_att *atts = xcalloc((size_t)m.natts + 1, sizeof *atts);
	char **names = xcalloc((size_t)m.natts + 1, sizeof *names);
	for (int i = 0; i < m.natts; i++) {
		int one = 0;
		atts[i] = m.atts[i];
		atts[i].filename = clean(atts[i].filename, 1, &names[i], &one);
	}
	m.atts = atts;
	int rc = build(&m, out);
	for (int i = 0; i < m.natts; i++)
		free(names[i]);
	free(names);
	free(atts);
	for (int i = 0; i < nkeep; i++)
		free(keep[i]);
	return rc;
}
