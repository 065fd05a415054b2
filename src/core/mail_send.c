/* mail_send.c -- see mail_send.h. */
#include "mail_send.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "mail_out.h"
#include "mail_server.h"

struct mail_send {
	struct mail_out_envelope env;
	struct buf mime;
	size_t sent;
	struct curl_slist *rcpt;
	struct mail_answer answer;
};

static size_t read_mime(char *to, size_t size, size_t n, void *arg)
{
	struct mail_send *m = arg;
	size_t left = m->mime.len - m->sent, room = size * n;
	size_t take = left < room ? left : room;
	memcpy(to, m->mime.data + m->sent, take);
	m->sent += take;
	return take;
}

const char *mail_send_answer(const struct mail_send *m)
{
	return m ? m->answer.text : "";
}

int mail_send_permanent(CURLcode res, long smtp_code)
{
	if (res == CURLE_LOGIN_DENIED)
		return 0; /* a password an admin will fix: keep trying */
	return smtp_code >= 500 && smtp_code <= 599;
}

void mail_send_free(struct mail_send *m)
{
	if (!m)
		return;
	mail_out_envelope_free(&m->env);
	buf_free(&m->mime);
	curl_slist_free_all(m->rcpt);
	free(m);
}

struct mail_send *mail_send_setup(CURL *c, const char *channel_config,
				  const char *payload, const char *blob_root,
				  struct err *e)
{
	struct mail_send *m = xcalloc(1, sizeof *m);
	json_t *cfg = json_loads(channel_config ? channel_config : "", 0, NULL);
	if (mail_out_render(payload, blob_root, &m->env, &m->mime, e) < 0)
		goto fail;
	/* The path of an SMTP URL is the name said in EHLO: the mailbox's
	 * own domain. */
	const char *at = strrchr(m->env.from, '@');
	struct buf path = BUF_INIT;
	buf_printf(&path, "/%s", at && at[1] && !strpbrk(at + 1, "/?#%") ? at + 1 : "localhost");
	int rc = mail_server_setup(c, cfg, MAIL_SMTP, path.data, e);
	buf_free(&path);
	if (rc < 0)
		goto fail;
	struct buf from = BUF_INIT;
	buf_printf(&from, "<%s>", m->env.from);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.data);
	buf_free(&from);
	for (int i = 0; i < m->env.nrcpt; i++) {
		struct buf to = BUF_INIT;
		buf_printf(&to, "<%s>", m->env.rcpt[i]);
		m->rcpt = curl_slist_append(m->rcpt, to.data);
		buf_free(&to);
	}
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, m->rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->mime.len);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_mime);
	curl_easy_setopt(c, CURLOPT_READDATA, m);
	m->answer.proto = MAIL_SMTP;
	mail_server_watch(c, &m->answer);
	json_decref(cfg);
	return m;
fail:
	json_decref(cfg);
	mail_send_free(m);
	return NULL;
}
