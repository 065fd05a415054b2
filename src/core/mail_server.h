/*
 * mail_server.h -- how Kefu reaches a mailbox's servers: the "imap" and
 * "smtp" sections of an e-mail channel's config as libcurl options.
 *
 * Owns: the defaults (tls "starttls" unless the port is 465/993, which
 * speak TLS from the first byte; ports 993/143 for IMAP, 465/587/25 for
 * SMTP by TLS mode), certificate checking (on unless "verify": false --
 * for a server with a private certificate), the login (the password
 * opened from its sealed form only here, wiped after libcurl copied it),
 * and the time limits of a connection.  Shared by the IMAP poller and the
 * SMTP sender so both read the settings the same way.
 */
#ifndef KEFU_CORE_MAIL_SERVER_H
#define KEFU_CORE_MAIL_SERVER_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>

#include "../util/err.h"

enum mail_proto { MAIL_IMAP, MAIL_SMTP };

/* Longest wait for a TCP + TLS connection. */
#define MAIL_CONNECT_TIMEOUT_MS 15000
/* A transfer that moves nothing for this long is given up. */
#define MAIL_STALL_SECONDS 60

/* The server's base URL ("imaps://mail.example.com:993") into url: 1, or
 * 0 when the channel config has no such section (or no host). */
int mail_server_url(const json_t *channel_config, enum mail_proto p, char *url,
		    size_t n);

/* Points c at base URL + path (path begins with '/', URL-encoded by the
 * caller) with the section's TLS mode, verification, login and time
 * limits.  0, or -1 with e (409 no such section, 500 the password cannot
 * be opened). */
int mail_server_setup(CURL *c, const json_t *channel_config, enum mail_proto p,
		      const char *path, struct err *e);

/* The server's last refusal, as it worded it: an SMTP 4xx/5xx reply, an
 * IMAP NO/BAD (without its tag), printable ASCII, "" when none. */
#define MAIL_ANSWER_MAX 300
struct mail_answer {
	enum mail_proto proto;
	char text[MAIL_ANSWER_MAX + 1];
};
/* Watch c's conversation for refusals into a (libcurl's debug callback;
 * a must outlive c's transfers).  Clear a->text before each command. */
void mail_server_watch(CURL *c, struct mail_answer *a);

#endif
