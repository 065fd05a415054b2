/* mail_server.c -- see mail_server.h. */
#include "mail_server.h"

#include <string.h>

#include "../util/buf.h"
#include "secret.h"

static const json_t *section(const json_t *cfg, enum mail_proto p)
{
	const json_t *s = json_object_get(cfg, p == MAIL_IMAP ? "imap" : "smtp");
	return json_is_object(s) && json_is_string(json_object_get(s, "host")) ? s : NULL;
}

/* "tls", "starttls" or "none". */
static const char *tls_mode(const json_t *s)
{
	const char *t = json_string_value(json_object_get(s, "tls"));
	json_int_t port = json_integer_value(json_object_get(s, "port"));
	if (t)
		return t;
	return port == 465 || port == 993 ? "tls" : "starttls";
}

static long port_of(const json_t *s, enum mail_proto p)
{
	json_int_t port = json_integer_value(json_object_get(s, "port"));
	if (port > 0)
		return (long)port;
	const char *t = tls_mode(s);
	if (p == MAIL_IMAP)
		return strcmp(t, "tls") == 0 ? 993 : 143;
	return strcmp(t, "tls") == 0 ? 465 : strcmp(t, "starttls") == 0 ? 587 : 25;
}

int mail_server_url(const json_t *channel_config, enum mail_proto p, char *url,
		    size_t n)
{
	const json_t *s = section(channel_config, p);
	if (!s)
		return 0;
	const char *host = json_string_value(json_object_get(s, "host"));
	int tls = strcmp(tls_mode(s), "tls") == 0;
	const char *scheme = p == MAIL_IMAP ? (tls ? "imaps" : "imap") : (tls ? "smtps" : "smtp");
	/* An IPv6 literal needs brackets in a URL. */
	int v6 = strchr(host, ':') != NULL;
	int len = snprintf(url, n, "%s://%s%s%s:%ld", scheme, v6 ? "[" : "", host,
			   v6 ? "]" : "", port_of(s, p));
	return len > 0 && (size_t)len < n;
}

/* The login, if the section has one. */
static int login(CURL *c, const json_t *s, struct err *e)
{
	const char *user = json_string_value(json_object_get(s, "user"));
	const char *sealed = json_string_value(json_object_get(s, "password_sealed"));
	if (!user || !user[0])
		return 0;
	curl_easy_setopt(c, CURLOPT_USERNAME, user);
	if (!sealed)
		return 0;
	struct buf pw = BUF_INIT;
	int rc = secret_open(sealed, &pw, e);
	if (rc == 0)
		curl_easy_setopt(c, CURLOPT_PASSWORD, pw.data ? pw.data : "");
	if (pw.data)
		memset(pw.data, 0, pw.len); /* libcurl keeps its own copy */
	buf_free(&pw);
	return rc;
}

int mail_server_setup(CURL *c, const json_t *channel_config, enum mail_proto p,
		      const char *path, struct err *e)
{
	const json_t *s = section(channel_config, p);
	char base[600];
	if (!s || !mail_server_url(channel_config, p, base, sizeof base)) {
		ERR_CONFLICT(e, "the mailbox has no %s server", p == MAIL_IMAP ? "IMAP" : "SMTP");
		return -1;
	}
	struct buf url = BUF_INIT;
	buf_printf(&url, "%s%s", base, path ? path : "");
	curl_easy_setopt(c, CURLOPT_URL, url.data);
	buf_free(&url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, p == MAIL_IMAP ? "imap,imaps" : "smtp,smtps");
	const char *t = tls_mode(s);
	if (strcmp(t, "starttls") == 0)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	json_t *verify = json_object_get(s, "verify");
	if (json_is_false(verify)) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)MAIL_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)MAIL_STALL_SECONDS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	return login(c, s, e);
}

/* An IMAP line "<tag> NO ..." or "<tag> BAD ...": where "NO"/"BAD" starts. */
static const char *imap_refusal(const char *d, size_t len)
{
	const char *sp = memchr(d, ' ', len);
	if (!sp || (size_t)(sp + 1 - d) >= len)
		return NULL;
	size_t rest = len - (size_t)(sp + 1 - d);
	if ((rest >= 3 && memcmp(sp + 1, "NO ", 3) == 0) || (rest >= 4 && memcmp(sp + 1, "BAD ", 4) == 0))
		return sp + 1;
	return NULL;
}

static int watch(CURL *c, curl_infotype type, char *data, size_t len, void *arg)
{
	(void)c;
	struct mail_answer *a = arg;
	if (type != CURLINFO_HEADER_IN || len < 3)
		return 0;
	const char *from = data;
	if (a->proto == MAIL_IMAP)
		from = imap_refusal(data, len);
	else if (data[0] != '4' && data[0] != '5')
		from = NULL;
	if (!from)
		return 0;
	len -= (size_t)(from - data);
	while (len > 0 && (from[len - 1] == '\n' || from[len - 1] == '\r'))
		len--;
	if (len > MAIL_ANSWER_MAX)
		len = MAIL_ANSWER_MAX;
	for (size_t i = 0; i < len; i++) /* it goes into JSON and logs */
		a->text[i] = (unsigned char)from[i] >= 0x20 && (unsigned char)from[i] < 0x7f ? from[i] : '?';
	a->text[len] = '\0';
	return 0;
}

void mail_server_watch(CURL *c, struct mail_answer *a)
{
	a->text[0] = '\0';
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, watch);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, a);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
}
