/* mail_in.c -- see mail_in.h. */
#include "mail_in.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../text/mime.h"
#include "../text/sanitize.h"
#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/token.h"
#include "blob.h"
#include "customer.h"
#include "message.h"

#define MAIL_MAX_REFS 30 /* References ids looked up (the newest) */
/* The identity of mail whose sender cannot be told. */
#define MAIL_UNKNOWN_SENDER "unknown-sender@sender.invalid"

/* What one message needs on its way in. */
struct mail {
	int64_t channel_id;
	struct mime_msg m;
	char external_id[300];
	char sender[256];       /* normalised e-mail */
	char root[300];         /* the conversation's root id */
	const char *thread_key; /* root, or an existing ticket's key */
	char *key_owned;
	int64_t other_ticket;   /* it answers a ticket of another channel */
	json_t *att_ids;
	struct { const char *cid; int64_t id; } *cids;
	int ncids;
};

int mail_channel_find(struct db *db, int64_t channel_id, int64_t *account_id,
		      struct err *e)
{
	return db_query_int(db, "SELECT account_id FROM channels WHERE id = $1 AND "
				"type = 'email' AND active = 1",
			    DB_ARGS(DB_INT(channel_id)), account_id, e);
}

/* ---- subject ---- */

static size_t marker_len(const char *s)
{
	static const char *const words[] = {"re", "fwd", "fw", "aw", "wg", "sv", "vs", "antw",
		"回复", "回覆", "答复", "转发", "轉寄", "转寄", "轉發", NULL};
	for (int i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);
		if (strncasecmp(s, words[i], n) != 0)
			continue;
		const char *p = s + n;
		if (*p == '[' || *p == '(') { /* Re[2]: */
			char close = *p == '[' ? ']' : ')';
			p++;
			while (isdigit((unsigned char)*p))
				p++;
			if (*p++ != close)
				continue;
		}
		while (*p == ' ')
			p++;
		if (*p == ':')
			return (size_t)(p + 1 - s);
		if (!strncmp(p, "\xEF\xBC\x9A", 3)) /* full-width colon */
			return (size_t)(p + 3 - s);
	}
	return 0;
}

char *mail_subject_clean(const char *subject)
{
	const char *s = subject ? subject : "";
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		size_t n = marker_len(s);
		if (!n)
			break;
		s += n;
	}
	return xstrdup(s);
}

/* ---- ids and thread ---- */

static void hash_id(const void *data, size_t len, char *out, size_t n)
{
	char hex[TOKEN_HEX_LEN];
	token_sha256_hex(data, len, hex);
	snprintf(out, n, "sha256:%s", hex);
}

/* An id fit for a column (<= 255 bytes), else its hash. */
static void usable_id(const char *id, char *out, size_t n)
{
	if (strlen(id) <= 255)
		snprintf(out, n, "%s", id);
	else
		hash_id(id, strlen(id), out, n);
}

static int set_key(const struct scope *s, int64_t ticket, const char *key, struct err *e)
{
	return db_sexec(s, "UPDATE tickets SET thread_key = $3 WHERE account_id = $1 AND "
			   "id = $2 AND thread_key IS NULL",
			DB_ARGS(DB_INT(ticket), DB_TEXT(key)), e) < 0 ? -1 : 0;
}

/* The thread of ticket (a row: id, thread_key, channel_id): on this
 * channel its key, given one (the root) when it has none; on another
 * channel the ticket itself.  1 used, -1 error. */
static int adopt(const struct scope *s, struct mail *ml, struct db_res *res, struct err *e)
{
	if (db_res_isnull(res, 2) || db_res_int(res, 2) != ml->channel_id) {
		/* e.g. a chat reply e-mailed to the visitor, answered by mail:
		 * the answer joins that ticket. */
		ml->other_ticket = db_res_int(res, 0);
		return 1;
	}
	if (db_res_isnull(res, 1)) {
		if (set_key(s, db_res_int(res, 0), ml->root, e) < 0)
			return -1;
		ml->thread_key = ml->root;
		return 1;
	}
	ml->key_owned = xstrdup(db_res_text(res, 1));
	ml->thread_key = ml->key_owned;
	return 1;
}

/* A stored message with this id: mail of the account's e-mail channels,
 * or a reply of ours (agents' messages carry an id only when they were
 * e-mailed, from any channel's ticket).  Other channels' ids are theirs,
 * not Message-IDs. */
static int by_message(const struct scope *s, struct mail *ml, const char *id, struct err *e)
{
	char key[300];
	usable_id(id, key, sizeof key);
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT t.id, t.thread_key, t.channel_id FROM messages m JOIN tickets t "
		     "ON t.id = m.ticket_id WHERE m.account_id = $1 AND m.external_id = $2 AND "
		     "(m.author_kind = 'agent' OR m.channel_id IN (SELECT id FROM channels WHERE "
		     "account_id = $1 AND type = 'email')) ORDER BY m.id DESC LIMIT 1",
		  DB_ARGS(DB_TEXT(key)), &res, e) < 0)
		return -1;
	int rc = res && db_res_next(res) ? adopt(s, ml, res, e) : 0;
	db_res_free(res);
	return rc;
}

/* "[#123]" tokens in the subject, each looked up until one fits. */
static int by_token(const struct scope *s, struct mail *ml, struct err *e)
{
	for (const char *p = ml->m.subject; p && (p = strstr(p, "[#")) != NULL; p += 2) {
		char *end;
		long long n = strtoll(p + 2, &end, 10);
		if (end == p + 2 || *end != ']' || n <= 0 || end - p > 20)
			continue;
		struct db_res *res = NULL;
		if (db_sq(s, "SELECT id, thread_key, channel_id FROM tickets WHERE "
			     "account_id = $1 AND number = $2",
			  DB_ARGS(DB_INT(n)), &res, e) < 0)
			return -1;
		int rc = res && db_res_next(res) ? adopt(s, ml, res, e) : 0;
		db_res_free(res);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Over the flood limit: the sender's open ticket on this channel. */
static int by_flood(const struct scope *s, struct mail *ml, struct err *e)
{
	int64_t n = 0;
	if (db_sq_int(s, "SELECT COUNT(*) FROM messages m JOIN customer_identities ci ON "
			 "ci.account_id = m.account_id AND ci.customer_id = m.customer_id "
			 "WHERE m.account_id = $1 AND m.channel_id = $2 AND m.direction = 'in' "
			 "AND m.created_at >= $3 AND ci.kind = 'email' AND ci.handle = $4",
		      DB_ARGS(DB_INT(ml->channel_id), DB_INT(clock_now_ms() - MAIL_FLOOD_WINDOW_MS),
			      DB_TEXT(ml->sender)), &n, e) < 0)
		return -1;
	if (n < MAIL_FLOOD_MAX)
		return 0;
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT t.id, t.thread_key, t.channel_id FROM tickets t JOIN "
		     "customer_identities ci ON ci.account_id = t.account_id AND "
		     "ci.customer_id = t.customer_id WHERE t.account_id = $1 AND "
		     "t.channel_id = $2 AND ci.kind = 'email' AND ci.handle = $3 AND "
		     "t.merged_into IS NULL AND t.status_category <> 'closed' "
		     "ORDER BY t.id DESC LIMIT 1",
		  DB_ARGS(DB_INT(ml->channel_id), DB_TEXT(ml->sender)), &res, e) < 0)
		return -1;
	int rc = res && db_res_next(res) ? adopt(s, ml, res, e) : 0;
	db_res_free(res);
	return rc;
}

static int thread_exists(const struct scope *s, const struct mail *ml, struct err *e)
{
	int64_t one;
	return db_sq_int(s, "SELECT 1 FROM tickets WHERE account_id = $1 AND channel_id = $2 "
			    "AND thread_key = $3 LIMIT 1",
			 DB_ARGS(DB_INT(ml->channel_id), DB_TEXT(ml->thread_key)), &one, e);
}

/* Decides ml->thread_key (see mail_in.h); *flooded when the flood limit
 * decided it. */
static int find_thread(const struct scope *s, struct mail *ml, int *flooded, struct err *e)
{
	const struct mime_msg *m = &ml->m;
	const char *root = m->nrefs ? m->references[0] : m->in_reply_to ? m->in_reply_to
							: m->message_id;
	if (root && root[0])
		usable_id(root, ml->root, sizeof ml->root);
	else
		snprintf(ml->root, sizeof ml->root, "%s", ml->external_id);
	ml->thread_key = ml->root;
	/* The stored messages it answers, the most direct first. */
	const char *ask[MAIL_MAX_REFS + 2];
	int n = 0;
	if (m->in_reply_to)
		ask[n++] = m->in_reply_to;
	for (int i = m->nrefs - 1; i >= 0 && i >= m->nrefs - MAIL_MAX_REFS; i--)
		ask[n++] = m->references[i];
	if (m->is_dsn && m->dsn_original_id)
		ask[n++] = m->dsn_original_id;
	for (int i = 0; i < n; i++) {
		int rc = ask[i][0] ? by_message(s, ml, ask[i], e) : 0;
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	int rc = by_token(s, ml, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = thread_exists(s, ml, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	rc = by_flood(s, ml, e);
	*flooded = rc > 0;
	return rc < 0 ? -1 : 0;
}

/* ---- files ---- */

static int store_one(const struct scope *s, const char *blob_root, const void *data,
		     size_t len, const char *filename, const char *type,
		     int64_t *id, struct err *e)
{
	struct blob_attachment a = {.size = (int64_t)len};
	struct buf fn = BUF_INIT;
	blob_clean_filename(filename, &fn);
	snprintf(a.filename, sizeof a.filename, "%s", fn.data);
	buf_free(&fn);
	if (type)
		snprintf(a.content_type, sizeof a.content_type, "%s", type);
	else if (blob_sniff(data, len, a.content_type, e) < 0)
		return -1;
	if (!type && blob_policy(a.content_type) == BLOB_REFUSE)
		return 1;
	if (blob_put(blob_root, data, len, a.sha256, e) < 0 ||
	    blob_attachment_add(s, &a, id, e) < 0)
		return -1;
	return 0;
}

/* Every attachment (programs excepted: they stay in message.eml) and the
 * raw message, as unattached rows whose ids go to ingest. */
static int store_files(const struct scope *s, struct mail *ml, const char *blob_root,
		       const void *raw, size_t len, struct mail_in_result *r, struct err *e)
{
	ml->cids = xcalloc((size_t)ml->m.natts + 1, sizeof *ml->cids);
	if (db_begin(s->db, e) < 0)
		return -1;
	for (int i = 0; i < ml->m.natts; i++) {
		const struct mime_att *a = &ml->m.atts[i];
		const char *name = a->filename[0] ? a->filename
				   : !strcmp(a->content_type, "message/rfc822") ? "forwarded.eml"
				   : "attachment";
		int64_t id;
		int rc = store_one(s, blob_root, a->data, a->len, name, NULL, &id, e);
		if (rc < 0)
			goto fail;
		if (rc > 0) {
			r->refused++;
			continue;
		}
		json_array_append_new(ml->att_ids, json_integer(id));
		r->attachments++;
		if (a->content_id && a->content_id[0]) {
			ml->cids[ml->ncids].cid = a->content_id;
			ml->cids[ml->ncids++].id = id;
		}
	}
	int64_t id;
	if (store_one(s, blob_root, raw, len, "message.eml", "message/rfc822", &id, e) < 0)
		goto fail;
	json_array_append_new(ml->att_ids, json_integer(id));
	r->attachments++;
	return db_commit(s->db, e);
fail:
	db_rollback(s->db);
	return -1;
}

/* ---- body ---- */

static int resolve_cid(void *ctx, const char *cid, size_t n, struct buf *url)
{
	const struct mail *ml = ctx;
	for (int i = 0; i < ml->ncids; i++) {
		if (strlen(ml->cids[i].cid) == n && !strncasecmp(ml->cids[i].cid, cid, n)) {
			buf_printf(url, "/api/v1/attachments/%lld", (long long)ml->cids[i].id);
			return 0;
		}
	}
	return -1;
}

/* Cut at most max bytes, at a UTF-8 character boundary. */
static void clip(char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	s[max] = '\0';
}

static int only_blank(const char *s)
{
	while (s && *s && isspace((unsigned char)*s))
		s++;
	return !s || !*s;
}

/* text: the visible reply (or the HTML's text); html: sanitized. */
static void make_body(struct mail *ml, char **text, char **html)
{
	*text = *html = NULL;
	if (ml->m.html) {
		struct sanitize_opts o = {.resolve_cid = resolve_cid, .cid_ctx = ml};
		struct buf b = BUF_INIT;
		sanitize_html(ml->m.html, strlen(ml->m.html), &o, &b, NULL);
		if (b.len > 0 && b.len <= 4 * (size_t)MESSAGE_TEXT_MAX)
			*html = buf_steal(&b);
		buf_free(&b);
	}
	if (!only_blank(ml->m.text)) {
		*text = mime_visible_text(ml->m.text);
	} else if (ml->m.html) {
		struct buf b = BUF_INIT;
		html_to_text(ml->m.html, strlen(ml->m.html), &b);
		*text = b.data ? buf_steal(&b) : xstrdup("");
	}
	if (*text)
		clip(*text, MESSAGE_TEXT_MAX);
}

/* ---- flags and bounces ---- */

static int apply_flags(const struct scope *s, const struct mail *ml,
		       struct mail_in_result *r, struct err *e)
{
	const struct mime_msg *m = &ml->m;
	if (!m->auto_reply && !m->bulk && !m->is_dsn)
		return 0;
	char flags[64];
	snprintf(flags, sizeof flags, "[%s%s%s%s%s]", m->auto_reply ? "\"auto_reply\"" : "",
		 m->auto_reply && (m->bulk || m->is_dsn) ? "," : "", m->bulk ? "\"bulk\"" : "",
		 m->bulk && m->is_dsn ? "," : "", m->is_dsn ? "\"dsn\"" : "");
	if (db_begin(s->db, e) < 0)
		return -1;
	if (db_sexec(s, "UPDATE messages SET flags = $3 WHERE account_id = $1 AND id = $2",
		     DB_ARGS(DB_INT(r->in.message_id), DB_TEXT(flags)), e) < 0)
		goto fail;
	if (m->is_dsn && m->dsn_original_id && m->dsn_original_id[0]) {
		char key[300], why[96];
		usable_id(m->dsn_original_id, key, sizeof key);
		snprintf(why, sizeof why, "bounced: %s", m->dsn_status ? m->dsn_status : "unknown");
		int found = db_sq_int(s, "SELECT id FROM messages WHERE account_id = $1 AND "
					 "external_id = $2 AND id <> $3 AND channel_id IN (SELECT id "
					 "FROM channels WHERE account_id = $1 AND type = 'email') "
					 "ORDER BY id LIMIT 1",
				      DB_ARGS(DB_TEXT(key), DB_INT(r->in.message_id)), &r->bounced_id, e);
		if (found < 0)
			goto fail;
		if (found && db_sexec(s, "UPDATE messages SET delivery_status = 'failed', "
					 "delivery_error = $3 WHERE account_id = $1 AND id = $2",
				      DB_ARGS(DB_INT(r->bounced_id), DB_TEXT(why)), e) < 0)
			goto fail;
	}
	return db_commit(s->db, e);
fail:
	db_rollback(s->db);
	return -1;
}

/* ---- the whole ---- */

static int channel_team(const struct scope *s, int64_t channel_id, int64_t *team,
			struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT config FROM channels WHERE account_id = $1 AND id = $2 AND "
		     "type = 'email' AND active = 1",
		  DB_ARGS(DB_INT(channel_id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found) {
		json_t *c = json_loads(db_res_text(res, 0), 0, NULL);
		*team = json_integer_value(json_object_get(c, "team_id"));
		json_decref(c);
	}
	db_res_free(res);
	if (!found)
		ERR_NOT_FOUND(e, "no active e-mail channel %lld", (long long)channel_id);
	return found ? 0 : -1;
}

/* The sender's address; a message without a usable one is still kept
 * (under MAIL_UNKNOWN_SENDER) when it looks like mail at all: some header
 * Kefu knows.  Else it is not mail (400). */
static int sender(struct mail *ml, struct err *e)
{
	const struct mime_msg *m = &ml->m;
	const char *addrs[] = {m->from.addr, m->reply_to.addr};
	for (int i = 0; i < 2; i++) {
		struct err ignore = {0};
		if (addrs[i] && customer_identity_normalize("email", addrs[i], ml->sender,
							    sizeof ml->sender, &ignore) == 0)
			return 0;
	}
	if ((m->message_id && m->message_id[0]) || (m->subject && m->subject[0]) ||
	    m->date_ms || m->nto || m->ncc || m->from.name) {
		snprintf(ml->sender, sizeof ml->sender, "%s", MAIL_UNKNOWN_SENDER);
		return 0;
	}
	ERR_INVALID(e, "not an e-mail message: no sender, no Message-ID, no Subject");
	return -1;
}

static int ingest(const struct scope *s, struct mail *ml, const char *blob_root,
		  const void *raw, size_t len, struct mail_in_result *r, struct err *e)
{
	int64_t team = 0;
	int found;
	if (channel_team(s, ml->channel_id, &team, e) < 0 ||
	    (found = ingest_seen(s, ml->channel_id, ml->external_id, &r->in, e)) < 0)
		return -1;
	if (found)
		return apply_flags(s, ml, r, e);
	if (sender(ml, e) < 0 || find_thread(s, ml, &r->flooded, e) < 0 ||
	    store_files(s, ml, blob_root, raw, len, r, e) < 0)
		return -1;
	char *text, *html, *subject = mail_subject_clean(ml->m.subject);
	make_body(ml, &text, &html);
	struct inbound_msg in = {
		.channel_id = ml->channel_id, .channel_type = "email",
		.external_id = ml->external_id, .thread_key = ml->thread_key,
		.ticket_id = ml->other_ticket,
		.ids = {{"email", ml->sender}}, .nids = 1,
		.name = ml->m.from.addr && ml->m.from.name && ml->m.from.name[0]
			? ml->m.from.name : NULL,
		.subject = subject, .text = text ? text : "", .html = html,
		.team_id = team, .attachments = ml->att_ids,
	};
	int rc = ingest_message(s->db, s->account_id, &in, &r->in, e);
	free(text);
	free(html);
	free(subject);
	return rc < 0 ? -1 : apply_flags(s, ml, r, e);
}

int mail_ingest(struct db *db, int64_t account_id, int64_t channel_id,
		const char *blob_root, const void *raw, size_t len,
		struct mail_in_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct mail ml = {.channel_id = channel_id};
	if (mime_parse(raw, len, &ml.m, e) < 0)
		return -1;
	if (ml.m.message_id && ml.m.message_id[0] && strlen(ml.m.message_id) <= 255)
		snprintf(ml.external_id, sizeof ml.external_id, "%s", ml.m.message_id);
	else
		hash_id(raw, len, ml.external_id, sizeof ml.external_id);
	r->auto_reply = ml.m.auto_reply;
	r->bulk = ml.m.bulk;
	r->dsn = ml.m.is_dsn;
	ml.att_ids = json_array();
	struct scope s = {db, account_id};
	int rc = ingest(&s, &ml, blob_root, raw, len, r, e);
	json_decref(ml.att_ids);
	free(ml.cids);
	free(ml.key_owned);
	mime_msg_free(&ml.m);
	return rc;
}
