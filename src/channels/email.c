/*
 * email.c -- the e-mail channel (issue 5): one mailbox of an account.
 * Mail comes in through `kefu mail-in` (an MTA pipe; core/mail_in) or the
 * IMAP poller (core/mail_poll); replies go out through the outbox to SMTP
 * (core/mail_out composes them, core/mail_send sends them).
 *
 * config: {"address": "support@shop.example" (required; stored
 *          lower-case), "name": "Shop support" (from-name),
 *          "signature": "...", "team_id": N,
 *          "imap": {"host", "port", "tls": "tls"|"starttls"|"none",
 *                   "verify": true|false (certificate check, default true),
 *                   "user", "password", "folder", "poll_seconds"},
 *          "smtp": {"host", "port", "tls", "verify", "user", "password"}}
 *
 * Passwords are never stored or shown in clear: a password sent in is
 * sealed (core/secret) into "password_sealed" and "password" becomes
 * "set".  Sending the config back with "password": "set" and the
 * "password_sealed" it came with keeps the stored password; leaving the
 * password out (or null) removes it.
 */
#include "channels.h"

#include <ctype.h>
#include <string.h>

#include "../core/mail_out.h"
#include "../core/mail_server.h"
#include "../core/secret.h"

#define EMAIL_ADDR_MAX 254

static int only_keys(const json_t *o, const char *const *keys, const char *what,
		     struct err *e)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)o, key, v) {
		int known = 0;
		for (int i = 0; keys[i] && !known; i++)
			known = !strcmp(key, keys[i]);
		if (!known) {
			ERR_INVALID(e, "unknown config key \"%.40s\" for %s", key, what);
			return -1;
		}
	}
	return 0;
}

/* An optional string of at most max bytes (0: may be empty). */
static int opt_string(const json_t *o, const char *key, size_t max, int nonempty,
		      const char *what, struct err *e)
{
	const json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    (nonempty && json_string_length(v) == 0)) {
		ERR_INVALID(e, "%s%s must be a string of %s%zu characters", what, key,
			    nonempty ? "1-" : "at most ", max);
		return -1;
	}
	return 0;
}

/* Lower-cases the address in place; one '@', something on each side, no
 * blanks or controls. */
static int address_ok(json_t *config, struct err *e)
{
	const char *a = json_string_value(json_object_get(config, "address"));
	size_t n = a ? strlen(a) : 0;
	const char *at = a ? strchr(a, '@') : NULL;
	int ok = a && n > 2 && n <= EMAIL_ADDR_MAX && at && at != a && at[1] &&
		 !strchr(at + 1, '@');
	char low[EMAIL_ADDR_MAX + 1];
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)a[i];
		ok = c > ' ' && c != 0x7f && c != '<' && c != '>' && c != ',';
		low[i] = (char)tolower(c);
	}
	if (!ok) {
		ERR_INVALID(e, "address must be the mailbox's e-mail address (user@domain)");
		return -1;
	}
	low[n] = '\0';
	json_object_set_new(config, "address", json_string(low));
	return 0;
}

/* "password" in, "password": "set" + "password_sealed" out (see top). */
static int seal_password(json_t *server, const char *what, struct err *e)
{
	json_t *pw = json_object_get(server, "password");
	const char *sealed = json_string_value(json_object_get(server, "password_sealed"));
	if (!pw || json_is_null(pw)) {
		json_object_del(server, "password");
		json_object_del(server, "password_sealed");
		return 0;
	}
	const char *p = json_string_value(pw);
	if (!p || !p[0] || strlen(p) > 1000) {
		ERR_INVALID(e, "%spassword must be a string of 1-1000 characters", what);
		return -1;
	}
	struct buf b = BUF_INIT;
	int rc;
	if (strcmp(p, "set") == 0) {
		/* The stored one, sent back as GET showed it: it must open. */
		rc = sealed ? secret_open(sealed, &b, e) : -1;
		if (rc < 0 && (!sealed || e->status == 400))
			ERR_INVALID(e, "%spassword \"set\" needs the password_sealed it was "
				       "shown with; else send the password itself", what);
	} else {
		rc = secret_seal(p, &b, e);
		if (rc == 0) {
			json_object_set_new(server, "password_sealed", json_string(b.data));
			json_object_set_new(server, "password", json_string("set"));
		}
	}
	if (b.data)
		memset(b.data, 0, b.len);
	buf_free(&b);
	return rc;
}

static int check_server(json_t *config, const char *name, int imap, struct err *e)
{
	static const char *const imap_keys[] = {"host", "port", "tls", "verify", "user",
		"password", "password_sealed", "folder", "poll_seconds", NULL};
	static const char *const smtp_keys[] = {"host", "port", "tls", "verify", "user",
		"password", "password_sealed", NULL};
	json_t *s = json_object_get(config, name);
	if (!s || json_is_null(s)) {
		json_object_del(config, name);
		return 0;
	}
	char what[16];
	snprintf(what, sizeof what, "%s.", name);
	if (!json_is_object(s)) {
		ERR_INVALID(e, "%s must be an object", name);
		return -1;
	}
	if (only_keys(s, imap ? imap_keys : smtp_keys, name, e) < 0 ||
	    opt_string(s, "host", 255, 1, what, e) < 0 || opt_string(s, "user", 255, 0, what, e) < 0 ||
	    opt_string(s, "folder", 255, 1, what, e) < 0 ||
	    opt_string(s, "password_sealed", 4000, 1, what, e) < 0)
		return -1;
	if (!json_is_string(json_object_get(s, "host"))) {
		ERR_INVALID(e, "%shost is required", what);
		return -1;
	}
	json_t *port = json_object_get(s, "port");
	if (port && !json_is_null(port) &&
	    (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535)) {
		ERR_INVALID(e, "%sport must be 1-65535", what);
		return -1;
	}
	const char *tls = json_string_value(json_object_get(s, "tls"));
	if (json_object_get(s, "tls") && (!tls || (strcmp(tls, "tls") && strcmp(tls, "starttls") &&
						   strcmp(tls, "none")))) {
		ERR_INVALID(e, "%stls must be \"tls\", \"starttls\" or \"none\"", what);
		return -1;
	}
	json_t *verify = json_object_get(s, "verify");
	if (verify && !json_is_null(verify) && !json_is_boolean(verify)) {
		ERR_INVALID(e, "%sverify must be true or false", what);
		return -1;
	}
	json_t *poll = json_object_get(s, "poll_seconds");
	if (poll && !json_is_null(poll) &&
	    (!json_is_integer(poll) || json_integer_value(poll) < 10 || json_integer_value(poll) > 86400)) {
		ERR_INVALID(e, "%spoll_seconds must be 10-86400", what);
		return -1;
	}
	return seal_password(s, what, e);
}

static int check_config(json_t *config, struct err *e)
{
	static const char *const keys[] = {"address", "name", "signature", "team_id", "imap",
		"smtp", NULL};
	if (only_keys(config, keys, "an email channel", e) < 0 || address_ok(config, e) < 0 ||
	    opt_string(config, "name", 200, 0, "", e) < 0 ||
	    opt_string(config, "signature", 10000, 0, "", e) < 0)
		return -1;
	json_t *team = json_object_get(config, "team_id");
	if (team && !json_is_null(team) && (!json_is_integer(team) || json_integer_value(team) <= 0)) {
		ERR_INVALID(e, "team_id must be a team id");
		return -1;
	}
	return check_server(config, "imap", 1, e) < 0 || check_server(config, "smtp", 0, e) < 0
	       ? -1 : 0;
}

/* Replies go out when the mailbox has an SMTP server. */
static int reply_target(const json_t *config, char *url, size_t n)
{
	return mail_server_url(config, MAIL_SMTP, url, n);
}

const struct channel_driver channel_email_driver = {
	.type = "email",
	.check_config = check_config,
	.reply_target = reply_target,
	.reply_compose = mail_out_prepare,
};
