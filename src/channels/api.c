/*
 * api.c -- the generic API channel (C6): any system posts customer
 * messages to /api/v1/channels/{id}/inbound with the channel's token, and
 * receives agents' public replies as signed POSTs to the channel's
 * callback_url (through the outbox).
 *
 * config: {"callback_url": "https://..." (optional), "team_id": N (optional,
 * the team new tickets go to)}
 */
#include "channels.h"

#include <string.h>
#include <strings.h>

static int check_config(json_t *config, struct err *e)
{
	const char *key;
	json_t *v;
	json_object_foreach(config, key, v) {
		if (strcmp(key, "callback_url") && strcmp(key, "team_id")) {
			ERR_INVALID(e, "unknown config key \"%.40s\" for an api channel", key);
			return -1;
		}
	}
	json_t *url = json_object_get(config, "callback_url");
	if (url && !json_is_null(url)) {
		const char *u = json_string_value(url);
		if (!u || strlen(u) > 2000 || (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8))) {
			ERR_INVALID(e, "callback_url must be an http:// or https:// URL");
			return -1;
		}
	}
	json_t *team = json_object_get(config, "team_id");
	if (team && !json_is_null(team) && (!json_is_integer(team) || json_integer_value(team) <= 0)) {
		ERR_INVALID(e, "team_id must be a team id");
		return -1;
	}
	return 0;
}

static int reply_target(const json_t *config, char *url, size_t n)
{
	const char *u = json_string_value(json_object_get(config, "callback_url"));
	if (!u || !u[0])
		return 0;
	snprintf(url, n, "%s", u);
	return 1;
}

const struct channel_driver channel_api_driver = {
	.type = "api",
	.check_config = check_config,
	.reply_target = reply_target,
	.has_inbound_token = 1,
};
