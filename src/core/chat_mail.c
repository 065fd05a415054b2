/* chat_mail.c -- see chat_mail.h. */
#include "chat_mail.h"

#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "mail_out.h"
#include "mail_server.h"
#include "outbox.h"

/* The mailbox's config when it is an active e-mail channel with SMTP. */
static json_t *mailbox(const struct scope *s, int64_t id, struct err *e, int *failed)
{
	struct db_res *res = NULL;
	*failed = db_sq(s, "SELECT config FROM channels WHERE account_id = $1 AND id = $2 AND "
			   "type = 'email' AND active = 1", DB_ARGS(DB_INT(id)), &res, e) < 0;
	json_t *cfg = !*failed && res && db_res_next(res) ? json_loads(db_res_text(res, 0), 0, NULL)
							 : NULL;
	db_res_free(res);
	return cfg;
}

/* A plausible single address: something@something, no blanks or
 * brackets (it goes into RCPT TO and a To: header). */
static int address_ok(const char *a)
{
	const char *at = a ? strchr(a, '@') : NULL;
	if (!at || at == a || !at[1] || strchr(at + 1, '@') || strlen(a) > 254)
		return 0;
	for (const char *p = a; *p; p++)
		if ((unsigned char)*p <= ' ' || strchr("<>,;\"()[]\\", *p) || *p == 0x7f)
			return 0;
	return 1;
}

/* The visitor's address: the customer's e-mail, else the form's. */
static char *visitor_address(const struct scope *s, int64_t ticket, struct err *e, int *failed)
{
	struct db_res *res = NULL;
	*failed = db_sq(s, "SELECT c.email, c.attributes FROM tickets t JOIN customers c ON "
			   "c.account_id = t.account_id AND c.id = t.customer_id WHERE "
			   "t.account_id = $1 AND t.id = $2", DB_ARGS(DB_INT(ticket)), &res, e) < 0;
	char *addr = NULL;
	if (!*failed && res && db_res_next(res)) {
		const char *email = db_res_text(res, 0);
		json_t *attrs = json_loads(db_res_text(res, 1) ? db_res_text(res, 1) : "{}", 0, NULL);
		const char *form = json_string_value(json_object_get(attrs, "email"));
		const char *pick = address_ok(email) ? email : address_ok(form) ? form : NULL;
		addr = pick ? xstrdup(pick) : NULL;
		json_decref(attrs);
	}
	db_res_free(res);
	return addr;
}

int chat_mail_queue(const struct scope *s, const json_t *web_config, int64_t ticket_id,
		    int64_t message_id, struct err *e)
{
	json_int_t box = json_integer_value(json_object_get(web_config, "email_channel_id"));
	if (box <= 0)
		return 0;
	int failed;
	json_t *cfg = mailbox(s, box, e, &failed);
	char url[600];
	if (failed || !cfg || !mail_server_url(cfg, MAIL_SMTP, url, sizeof url)) {
		json_decref(cfg);
		return failed ? -1 : 0; /* no mailbox to send with: chat only */
	}
	char *to = visitor_address(s, ticket_id, e, &failed);
	char *payload = NULL;
	int rc = failed ? -1 : 0;
	if (to) {
		json_t *d = json_object_get(web_config, "email_after_seconds");
		int64_t delay = json_is_integer(d) ? json_integer_value(d) : CHAT_MAIL_DEFAULT_DELAY_S;
		int64_t oid;
		rc = mail_out_compose(s, cfg, box, ticket_id, message_id, to, &payload, e);
		if (rc == 0)
			rc = outbox_enqueue_at(s, OUTBOX_CHAT_EMAIL, message_id, url, payload,
					       clock_now_ms() + delay * 1000, &oid, e);
	}
	free(payload);
	free(to);
	json_decref(cfg);
	return rc;
}
