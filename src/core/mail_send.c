/* mail_send.c -- see mail_send.h. */
#include "mail_send.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "mail_out.h"
#include "mail_server.h"

#define ANSWER_MAX 300

struct mail_send {
	struct mail_out_envelope env;
	struct buf mime;
	size_t sent;
	struct curl_slist *rcpt;
	char answer[ANSWER_MAX + 1];
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

/* Server answers reach libcurl's debug callback as HEADER_IN; the last
 * error answer (4xx/5xx) is what the delivery log should show. */
static int keep_answer(CURL *c, curl_infotype type, char *data, size_t len, void *arg)
{
	(void)c;
	struct mail_send *m = arg;
	if (type != CURLINFO_HEADER_IN || len < 3 || (data[0] != '4' && data[0] != '5'))
		return 0;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len > ANSWER_MAX)
		len = ANSWER_MAX;
	size_t k = 0;
	for (size_t i = 0; i < len; i++) /* printable ASCII only: it goes into JSON */
		m->answer[k++] = (unsigned char)data[i] >= 0x20 && (unsigned char)data[i] < 0x7f
					 ? data[i] : '?';
	m->answer[k] = '\0';
	return 0;
}

const char *mail_send_answer(const struct mail_send *m)
{
	return m ? m->answer : "";
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
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, keep_answer);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, m);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	json_decref(cfg);
	return m;
fail:
	json_decref(cfg);
	mail_send_free(m);
	return NULL;
}
