/* mail_out.c -- see mail_out.h. */
#include "mail_out.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../text/mime_build.h"
#include "../text/sanitize.h"
#include "../util/clock.h"
#include "blob.h"
#include "mail_in.h"

/* ---- preparing (the reply's transaction) ---- */

struct draft {
	char *subject, *to, *to_name;
	int64_t number;
	json_t *refs; /* Message-IDs of the thread, oldest first */
	char *in_reply_to;
};

static void draft_free(struct draft *d)
{
	free(d->subject);
	free(d->to);
	free(d->to_name);
	free(d->in_reply_to);
	json_decref(d->refs);
}

/* Subject, number and the customer's address (primary, else their first
 * e-mail identity; to when given). */
static int ticket_facts(const struct scope *s, int64_t ticket, const char *to_given,
			struct draft *d, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT t.subject, t.number, c.name, COALESCE(c.email, (SELECT "
		     "i.handle FROM customer_identities i WHERE i.account_id = t.account_id "
		     "AND i.customer_id = t.customer_id AND i.kind = 'email' ORDER BY i.id "
		     "LIMIT 1)) FROM tickets t LEFT JOIN customers c ON c.account_id = "
		     "t.account_id AND c.id = t.customer_id WHERE t.account_id = $1 AND t.id = $2",
		  DB_ARGS(DB_INT(ticket)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found) {
		d->subject = mail_subject_clean(db_res_text(res, 0));
		d->number = db_res_int(res, 1);
		const char *name = db_res_text(res, 2), *to = db_res_text(res, 3);
		d->to_name = xstrdup(name ? name : "");
		to = to_given ? to_given : to;
		d->to = to && to[0] ? xstrdup(to) : NULL;
	}
	db_res_free(res);
	if (!found) {
		ERR_NOT_FOUND(e, "ticket not found");
		return -1;
	}
	if (!d->to) {
		ERR_CONFLICT(e, "the customer has no e-mail address to reply to");
		return -1;
	}
	return 0;
}

/* The thread's Message-IDs (mail of this ticket, both ways, oldest first;
 * hashes of id-less mail are not ids) and the customer's latest. */
static int thread_ids(const struct scope *s, int64_t ticket, int64_t self, struct draft *d,
		      struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT m.external_id, m.direction FROM messages m JOIN channels ch ON "
		     "ch.account_id = m.account_id AND ch.id = m.channel_id WHERE m.account_id = $1 "
		     "AND m.ticket_id = $2 AND m.id <> $3 AND ch.type = 'email' AND "
		     "m.external_id IS NOT NULL ORDER BY m.id",
		  DB_ARGS(DB_INT(ticket), DB_INT(self)), &res, e) < 0)
		return -1;
	d->refs = json_array();
	int last_in = -1;
	while (res && db_res_next(res)) {
		const char *id = db_res_text(res, 0);
		if (!id || !id[0] || strncmp(id, "sha256:", 7) == 0 || strpbrk(id, "<> \r\n"))
			continue;
		if (strcmp(db_res_text(res, 1), "in") == 0)
			last_in = (int)json_array_size(d->refs);
		json_array_append_new(d->refs, json_string(id));
	}
	db_res_free(res);
	size_t n = json_array_size(d->refs);
	if (n)
		d->in_reply_to = xstrdup(json_string_value(
			json_array_get(d->refs, last_in >= 0 ? (size_t)last_in : n - 1)));
	/* Keep the root and the latest ones. */
	while (json_array_size(d->refs) > MAIL_OUT_MAX_REFS)
		json_array_remove(d->refs, 1);
	return 0;
}

/* "Re: <subject> [#N]" (the token once). */
static char *reply_subject(const struct draft *d)
{
	char tok[32];
	snprintf(tok, sizeof tok, "[#%lld]", (long long)d->number);
	struct buf b = BUF_INIT;
	buf_printf(&b, "Re: %s", d->subject);
	if (!strstr(d->subject, tok))
		buf_printf(&b, " %s", tok);
	return buf_steal(&b);
}

/* The message's text and HTML (made from the text when it has none), each
 * with the mailbox's signature. */
static int bodies(const struct scope *s, int64_t mid, const char *sig, json_t *doc,
		  struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT text, html FROM messages WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(mid)), &res, e) < 0)
		return -1;
	struct buf text = BUF_INIT, html = BUF_INIT;
	/* A whole document: some clients render a bare fragment in a
	 * legacy charset. */
	buf_puts(&html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n");
	if (res && db_res_next(res)) {
		const char *t = db_res_text(res, 0), *h = db_res_text(res, 1);
		buf_puts(&text, t ? t : "");
		if (h && h[0])
			buf_puts(&html, h);
		else
			text_to_html(text.data ? text.data : "", text.len, &html);
	}
	db_res_free(res);
	if (sig && sig[0]) {
		buf_printf(&text, "\n\n-- \n%s", sig);
		buf_puts(&html, "<br>\n<div class=\"kefu-signature\">-- <br>\n");
		text_to_html(sig, strlen(sig), &html);
		buf_puts(&html, "</div>");
	}
	buf_puts(&html, "\n</body></html>\n");
	json_object_set_new(doc, "text", json_string(text.data ? text.data : ""));
	json_object_set_new(doc, "html", json_string(html.data ? html.data : ""));
	buf_free(&text);
	buf_free(&html);
	return 0;
}

static int attachments(const struct scope *s, int64_t mid, json_t *doc, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT sha256, size, content_type, filename FROM attachments WHERE "
		     "account_id = $1 AND message_id = $2 ORDER BY id",
		  DB_ARGS(DB_INT(mid)), &res, e) < 0)
		return -1;
	json_t *a = json_array();
	while (res && db_res_next(res))
		json_array_append_new(a, json_pack("{ss sI ss ss}", "sha256", db_res_text(res, 0),
			"size", (json_int_t)db_res_int(res, 1), "content_type", db_res_text(res, 2),
			"filename", db_res_text(res, 3)));
	db_res_free(res);
	json_object_set_new(doc, "attachments", a);
	return 0;
}

/* <kefu.N.MID.RANDOM@domain of the mailbox>: unique, and it says which
 * ticket it belongs to for a human reading headers. */
static char *new_message_id(const char *from, int64_t number, int64_t mid)
{
	unsigned char r[8];
	char hex[17];
	randombytes_buf(r, sizeof r);
	sodium_bin2hex(hex, sizeof hex, r, sizeof r);
	const char *at = strrchr(from, '@');
	struct buf b = BUF_INIT;
	buf_printf(&b, "kefu.%lld.%lld.%s@%s", (long long)number, (long long)mid, hex,
		   at && at[1] ? at + 1 : "kefu.invalid");
	return buf_steal(&b);
}

int mail_out_prepare(const struct scope *s, const json_t *config, int64_t channel_id,
		     int64_t ticket_id, int64_t message_id, char **payload,
		     struct err *e)
{
	return mail_out_compose(s, config, channel_id, ticket_id, message_id, NULL, payload, e);
}

int mail_out_compose(const struct scope *s, const json_t *config, int64_t mailbox_id,
		     int64_t ticket_id, int64_t message_id, const char *to,
		     char **payload, struct err *e)
{
	const char *from = json_string_value(json_object_get(config, "address"));
	const char *name = json_string_value(json_object_get(config, "name"));
	const char *sig = json_string_value(json_object_get(config, "signature"));
	struct draft d = {0};
	int rc = -1;
	json_t *doc = NULL;
	char *id = NULL;
	if (!from) {
		ERR_CONFLICT(e, "the mailbox has no address");
		return -1;
	}
	if (ticket_facts(s, ticket_id, to, &d, e) < 0 || thread_ids(s, ticket_id, message_id, &d, e) < 0)
		goto out;
	id = new_message_id(from, d.number, message_id);
	doc = json_pack("{ss s{ss ss} s{ss ss} ss ss sO sI}", "event", "message.created",
		"from", "name", name ? name : "", "address", from,
		"to", "name", d.to_name, "address", d.to, "reply_to", from, "message_id", id,
		"references", d.refs, "date", (json_int_t)clock_now_ms());
	char *subj = reply_subject(&d);
	json_object_set_new(doc, "subject", json_string(subj));
	free(subj);
	json_object_set_new(doc, "in_reply_to", d.in_reply_to ? json_string(d.in_reply_to) : json_null());
	json_object_set_new(doc, "mailbox_id", json_integer(mailbox_id));
	if (bodies(s, message_id, sig, doc, e) < 0 || attachments(s, message_id, doc, e) < 0)
		goto out;
	if (db_sexec(s, "UPDATE messages SET external_id = $3 WHERE account_id = $1 AND id = $2",
		     DB_ARGS(DB_INT(message_id), DB_TEXT(id)), e) < 0)
		goto out;
	*payload = json_dumps(doc, JSON_COMPACT);
	rc = 0;
out:
	json_decref(doc);
	free(id);
	draft_free(&d);
	return rc;
}

/* ---- rendering (the delivery worker) ---- */

void mail_out_envelope_free(struct mail_out_envelope *env)
{
	free(env->from);
	for (int i = 0; i < env->nrcpt; i++)
		free(env->rcpt[i]);
	free(env->rcpt);
	memset(env, 0, sizeof *env);
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Reads the attachments named in the payload; their bytes are kept in
 * bufs (one per file) for as long as atts points into them. */
static int load_files(const json_t *list, const char *blob_root, struct mime_out_att *atts,
		      struct buf *bufs, struct err *e)
{
	size_t i;
	json_t *a;
	json_array_foreach(list, i, a) {
		const char *hex = str(a, "sha256");
		json_int_t size = json_integer_value(json_object_get(a, "size"));
		if (!hex || blob_read(blob_root, hex, size, &bufs[i], e) < 0) {
			if (!hex)
				ERR_INVALID(e, "attachment without a blob");
			return -1;
		}
		atts[i] = (struct mime_out_att){.filename = str(a, "filename"),
			.content_type = str(a, "content_type"), .data = bufs[i].data,
			.len = bufs[i].len};
	}
	return 0;
}

int mail_out_render(const char *payload, const char *blob_root,
		    struct mail_out_envelope *env, struct buf *mime, struct err *e)
{
	memset(env, 0, sizeof *env);
	json_t *doc = json_loads(payload, 0, NULL);
	json_t *from = json_object_get(doc, "from"), *to = json_object_get(doc, "to");
	json_t *refs = json_object_get(doc, "references"), *files = json_object_get(doc, "attachments");
	if (!str(from, "address") || !str(to, "address") || !str(doc, "message_id") ||
	    !json_is_array(refs) || !json_is_array(files)) {
		json_decref(doc);
		ERR_INVALID(e, "not a mail reply document");
		return -1;
	}
	size_t nref = json_array_size(refs), nfile = json_array_size(files);
	const char **ref = xcalloc(nref + 1, sizeof *ref);
	for (size_t i = 0; i < nref; i++)
		ref[i] = json_string_value(json_array_get(refs, i));
	struct mime_out_att *atts = xcalloc(nfile + 1, sizeof *atts);
	struct buf *bufs = xcalloc(nfile + 1, sizeof *bufs);
	struct mime_out m = {
		.from_name = str(from, "name"), .from_addr = str(from, "address"),
		.to_name = str(to, "name"), .to_addr = str(to, "address"),
		.reply_to = str(doc, "reply_to"), .subject = str(doc, "subject"),
		.message_id = str(doc, "message_id"), .in_reply_to = str(doc, "in_reply_to"),
		.references = ref, .nrefs = (int)nref,
		.date_ms = json_integer_value(json_object_get(doc, "date")),
		.text = str(doc, "text"), .html = str(doc, "html"), .atts = atts, .natts = (int)nfile,
	};
	int rc = load_files(files, blob_root, atts, bufs, e);
	if (rc == 0)
		rc = mime_build(&m, mime, e);
	if (rc == 0) {
		env->from = xstrdup(m.from_addr);
		env->rcpt = xcalloc(1, sizeof *env->rcpt);
		env->rcpt[0] = xstrdup(m.to_addr);
		env->nrcpt = 1;
	}
	for (size_t i = 0; i < nfile; i++)
		buf_free(&bufs[i]);
	free(bufs);
	free(atts);
	free(ref);
	json_decref(doc);
	return rc;
}
