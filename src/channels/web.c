/*
 * web.c -- the website/app chat channel (C1, C2): the widget on the
 * company's pages, or a mobile app speaking the same protocol
 * (docs/widget-protocol.md).  Customers write through /widget/v1/...;
 * agents' replies reach them through the real-time hub, not the outbox --
 * but a reply the visitor has not read after email_after_seconds is
 * e-mailed through the mailbox email_channel_id (core/chat_mail).
 *
 * config: {"team_id": N, "greeting": "..." or {"zh-CN": "...", "en": ...},
 *          "color": "#1677ff", "prechat": [{"name", "label", "type",
 *          "required", "options"}], "email_channel_id": N,
 *          "email_after_seconds": 0-86400 (default 120)}.  "public_key" is set by Kefu when the
 * channel is created and shown in config; sent back, it is ignored.
 */
#include "channels.h"

#include <ctype.h>
#include <string.h>

#include "../core/chat_mail.h"

/* A string of 1..max bytes, or an object of such strings by language. */
static int text_or_langs(const json_t *v, size_t max)
{
	if (json_is_string(v))
		return json_string_length(v) <= max ? 0 : -1;
	if (!json_is_object(v) || json_object_size(v) > 10)
		return -1;
	const char *k;
	json_t *x;
	json_object_foreach((json_t *)v, k, x)
		if (strlen(k) > 16 || !json_is_string(x) || json_string_length(x) > max)
			return -1;
	return 0;
}

static int color_ok(const char *c)
{
	if (!c || c[0] != '#' || strlen(c) != 7)
		return 0;
	for (int i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)c[i]))
			return 0;
	return 1;
}

static int field_ok(const json_t *f)
{
	static const char *const types[] = {"text", "email", "tel", "textarea", "select", NULL};
	const char *name = json_string_value(json_object_get(f, "name"));
	const char *type = json_string_value(json_object_get(f, "type"));
	const json_t *opts = json_object_get(f, "options");
	if (!json_is_object(f) || !name || !name[0] || strlen(name) > 40 ||
	    text_or_langs(json_object_get(f, "label"), 200) < 0)
		return 0;
	int known = 0;
	for (int i = 0; type && types[i]; i++)
		known |= !strcmp(type, types[i]);
	if (!known)
		return 0;
	if (opts && (!json_is_array(opts) || json_array_size(opts) > 50))
		return 0;
	const json_t *req = json_object_get(f, "required");
	return !req || json_is_boolean(req);
}

static int check_prechat(const json_t *pre, struct err *e)
{
	size_t i;
	const json_t *f;
	if (!json_is_array(pre) || json_array_size(pre) > 10) {
		ERR_INVALID(e, "prechat must be an array of at most 10 fields");
		return -1;
	}
	json_array_foreach(pre, i, f) {
		if (!field_ok(f)) {
			ERR_INVALID(e, "prechat[%zu] needs name (1-40), label, type "
				       "(text, email, tel, textarea, select), optional "
				       "required (boolean) and options (array)", i);
			return -1;
		}
	}
	return 0;
}

static int check_config(json_t *config, struct err *e)
{
	json_object_del(config, "public_key");
	const char *key;
	json_t *v;
	json_object_foreach(config, key, v) {
		if (strcmp(key, "team_id") && strcmp(key, "greeting") && strcmp(key, "color") &&
		    strcmp(key, "prechat") && strcmp(key, "email_channel_id") &&
		    strcmp(key, "email_after_seconds")) {
			ERR_INVALID(e, "unknown config key \"%.40s\" for a web channel", key);
			return -1;
		}
	}
	json_t *team = json_object_get(config, "team_id");
	if (team && !json_is_null(team) && (!json_is_integer(team) || json_integer_value(team) <= 0)) {
		ERR_INVALID(e, "team_id must be a team id");
		return -1;
	}
	json_t *g = json_object_get(config, "greeting");
	if (g && text_or_langs(g, 500) < 0) {
		ERR_INVALID(e, "greeting must be a string or an object of strings by language");
		return -1;
	}
	json_t *c = json_object_get(config, "color");
	if (c && !color_ok(json_string_value(c))) {
		ERR_INVALID(e, "color must be #rrggbb");
		return -1;
	}
	json_t *box = json_object_get(config, "email_channel_id");
	if (box && !json_is_null(box) && (!json_is_integer(box) || json_integer_value(box) <= 0)) {
		ERR_INVALID(e, "email_channel_id must be the id of an e-mail channel");
		return -1;
	}
	json_t *after = json_object_get(config, "email_after_seconds");
	if (after && !json_is_null(after) &&
	    (!json_is_integer(after) || json_integer_value(after) < 0 ||
	     json_integer_value(after) > 86400)) {
		ERR_INVALID(e, "email_after_seconds must be 0-86400");
		return -1;
	}
	json_t *pre = json_object_get(config, "prechat");
	return pre ? check_prechat(pre, e) : 0;
}

const struct channel_driver channel_web_driver = {
	.type = "web",
	.check_config = check_config,
	.reply_followup = chat_mail_queue,
	.has_public_key = 1,
};
