/*
 * channel.h -- channels: the ways customers reach an account (the API
 * channel now; e-mail, chat, WeChat, Weibo, Telegram, SMS later), and the
 * driver interface every channel type implements.
 *
 * Owns: the channels table (type, name, type-specific config, the inbound
 * token's hash, the secret that signs what Kefu sends to the channel) and
 * the registry of drivers.  Like an nginx module, a driver declares in one
 * table what its type needs; main/serve register the drivers at start-up
 * and core never includes a channel file.
 */
#ifndef KEFU_CORE_CHANNEL_H
#define KEFU_CORE_CHANNEL_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

struct channel_driver {
	const char *type;
	/* Validate (and normalise in place) a channel's config object. */
	int (*check_config)(json_t *config, struct err *e);
	/* Does an agent's public reply on this channel go out through the
	 * outbox?  Fills url (the endpoint) from the config; 0 no, 1 yes. */
	int (*reply_target)(const json_t *config, char *url, size_t n);
	/* What the outbox sends for a public reply, built in the reply's
	 * transaction (it may update the message, e.g. its external id);
	 * *payload is malloc'd.  NULL: core/reply's JSON document. */
	int (*reply_compose)(const struct scope *s, const json_t *config,
			     int64_t channel_id, int64_t ticket_id,
			     int64_t message_id, char **payload, struct err *e);
	/* Anything else a public reply on this channel sets off, in the
	 * reply's transaction (the chat channel: its e-mail copy).  NULL:
	 * nothing. */
	int (*reply_followup)(const struct scope *s, const json_t *config,
			      int64_t ticket_id, int64_t message_id, struct err *e);
	int has_inbound_token; /* accepts messages at /channels/{id}/inbound */
	int has_public_key;    /* found by a public key (the chat widget's) */
};

int channel_register(const struct channel_driver *d);
const struct channel_driver *channel_driver(const char *type);

#define CHANNEL_TOKEN_LEN 64

/* Creates the channel; token (if the type takes one) and secret are
 * returned once in the given buffers. */
int channel_create(const struct scope *s, const char *type, const char *name,
		   const json_t *config, int64_t *id, char token[CHANNEL_TOKEN_LEN],
		   struct err *e);
int channel_update(const struct scope *s, int64_t id, const char *name,
		   const json_t *config, int active, struct err *e);
int channel_rotate_token(const struct scope *s, int64_t id,
			 char token[CHANNEL_TOKEN_LEN], struct err *e);
/* with_secret: include the signing secret (for channels.manage). */
json_t *channel_get(const struct scope *s, int64_t id, int with_secret,
		    struct err *e);
int channel_list(const struct scope *s, json_t *items, struct err *e);

/* Inbound authentication: the channel `id` whose token is `token`.  Fills
 * account id, type and config (caller json_decrefs).  1 ok, 0 no such
 * active channel/token, -1 error. */
int channel_authenticate(struct db *db, int64_t id, const char *token,
			 int64_t *account_id, char *type, size_t n,
			 json_t **config, struct err *e);

#endif
