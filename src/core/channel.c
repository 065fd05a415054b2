/* channel.c -- see channel.h. */
#include "channel.h"

#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "../util/token.h"

#define MAX_DRIVERS 16
static const struct channel_driver *drivers[MAX_DRIVERS];
static int ndrivers;

/* Registration happens at start-up, before any thread reads the table. */
int channel_register(const struct channel_driver *d)
{
	if (channel_driver(d->type))
		return 0;
	if (ndrivers == MAX_DRIVERS)
		return -1;
	drivers[ndrivers++] = d;
	return 0;
}

const struct channel_driver *channel_driver(const char *type)
{
	for (int i = 0; type && i < ndrivers; i++)
		if (strcmp(drivers[i]->type, type) == 0)
			return drivers[i];
	return NULL;
}

static int make_token(char token[CHANNEL_TOKEN_LEN], char hash[TOKEN_HEX_LEN],
		      char prefix[16])
{
	char rnd[48];
	token_random(rnd, sizeof rnd, 32);
	snprintf(token, CHANNEL_TOKEN_LEN, "kfch_%s", rnd);
	token_sha256_hex(token, strlen(token), hash);
	snprintf(prefix, 16, "%.12s", token);
	return 0;
}

/* Copy of config checked by the type's driver; NULL with e on failure. */
static json_t *checked_config(const struct channel_driver *d, const json_t *config,
			      struct err *e)
{
	if (config && !json_is_object(config)) {
		ERR_INVALID(e, "config must be an object");
		return NULL;
	}
	json_t *c = config ? json_deep_copy(config) : json_object();
	if (d->check_config && d->check_config(c, e) < 0) {
		json_decref(c);
		return NULL;
	}
	return c;
}

int channel_create(const struct scope *s, const char *type, const char *name,
		   const json_t *config, int64_t *id, char token[CHANNEL_TOKEN_LEN],
		   struct err *e)
{
	const struct channel_driver *d = channel_driver(type);
	if (!d) {
		ERR_INVALID(e, "unknown channel type \"%.20s\"", type ? type : "");
		return -1;
	}
	if (!name || !name[0] || strlen(name) > 100) {
		ERR_INVALID(e, "name must be 1-100 characters");
		return -1;
	}
	json_t *c = checked_config(d, config, e);
	if (!c)
		return -1;
	char hash[TOKEN_HEX_LEN] = "", prefix[16] = "", secret[48];
	token[0] = '\0';
	if (d->has_inbound_token)
		make_token(token, hash, prefix);
	token_random(secret, sizeof secret, 32);
	/* Public, so it may sit in every page's HTML; random, so keys of
	 * other accounts cannot be guessed from one's own. */
	char pk[40] = "";
	if (d->has_public_key) {
		memcpy(pk, "pk_", 3);
		token_random(pk + 3, sizeof pk - 3, 18);
	}
	char *cj = json_dumps(c, JSON_COMPACT);
	int64_t now = clock_now_ms();
	int rc = db_sq_int(s, "INSERT INTO channels (account_id, type, name, config, "
			      "token_hash, token_prefix, secret, public_key, created_at, updated_at) "
			      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
			   DB_ARGS(DB_TEXT(type), DB_TEXT(name), DB_TEXT(cj),
				   DB_TEXT(hash[0] ? hash : NULL), DB_TEXT(prefix[0] ? prefix : NULL),
				   DB_TEXT(secret), DB_TEXT(pk[0] ? pk : NULL), DB_INT(now)), id, e);
	free(cj);
	json_decref(c);
	return rc == 1 ? 0 : -1;
}

static int channel_type(const struct scope *s, int64_t id, char *type, size_t n,
			struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT type FROM channels WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found)
		snprintf(type, n, "%s", db_res_text(res, 0));
	db_res_free(res);
	if (!found)
		ERR_NOT_FOUND(e, "channel not found");
	return found ? 0 : -1;
}

int channel_update(const struct scope *s, int64_t id, const char *name,
		   const json_t *config, int active, struct err *e)
{
	char type[24];
	if (channel_type(s, id, type, sizeof type, e) < 0)
		return -1;
	if (name && (!name[0] || strlen(name) > 100)) {
		ERR_INVALID(e, "name must be 1-100 characters");
		return -1;
	}
	char *cj = NULL;
	if (config) {
		const struct channel_driver *d = channel_driver(type);
		json_t *c = d ? checked_config(d, config, e) : NULL;
		if (!c) {
			if (!d)
				ERR_INTERNAL(e, "channel type %s has no driver", type);
			return -1;
		}
		cj = json_dumps(c, JSON_COMPACT);
		json_decref(c);
	}
	int64_t n = db_sexec(s, "UPDATE channels SET name = COALESCE($3, name), "
				"config = COALESCE($4, config), active = CASE WHEN $5 < 0 THEN "
				"active ELSE $5 END, updated_at = $6 WHERE account_id = $1 AND id = $2",
			     DB_ARGS(DB_INT(id), DB_TEXT(name), DB_TEXT(cj), DB_INT(active),
				     DB_INT(clock_now_ms())), e);
	free(cj);
	return n > 0 ? 0 : -1;
}

int channel_rotate_token(const struct scope *s, int64_t id,
			 char token[CHANNEL_TOKEN_LEN], struct err *e)
{
	char type[24], hash[TOKEN_HEX_LEN], prefix[16];
	if (channel_type(s, id, type, sizeof type, e) < 0)
		return -1;
	const struct channel_driver *d = channel_driver(type);
	if (!d || !d->has_inbound_token) {
		ERR_UNPROCESSABLE(e, "%s channels have no inbound token", type);
		return -1;
	}
	make_token(token, hash, prefix);
	return db_sexec(s, "UPDATE channels SET token_hash = $3, token_prefix = $4, "
			   "updated_at = $5 WHERE account_id = $1 AND id = $2",
			DB_ARGS(DB_INT(id), DB_TEXT(hash), DB_TEXT(prefix),
				DB_INT(clock_now_ms())), e) > 0 ? 0 : -1;
}

#define CHANNEL_COLS                                                    \
	"SELECT id, type, name, config, token_prefix, secret, active, "    \
	"created_at, public_key FROM channels "

static json_t *row_json(struct db_res *res, int with_secret)
{
	char ts[32];
	clock_iso8601(db_res_int(res, 7), ts, sizeof ts);
	const char *prefix = db_res_text(res, 4);
	json_t *o = json_pack("{sI ss ss so so sb ss}", "id", (json_int_t)db_res_int(res, 0),
		"type", db_res_text(res, 1), "name", db_res_text(res, 2),
		"config", json_loads(db_res_text(res, 3), 0, NULL),
		"token_prefix", prefix ? json_string(prefix) : json_null(),
		"active", (int)db_res_int(res, 6), "created_at", ts);
	if (with_secret)
		json_object_set_new(o, "secret", json_string(db_res_text(res, 5)));
	if (!db_res_isnull(res, 8))
		json_object_set_new(json_object_get(o, "config"), "public_key",
				    json_string(db_res_text(res, 8)));
	char url[64];
	snprintf(url, sizeof url, "/api/v1/channels/%lld/inbound", (long long)db_res_int(res, 0));
	if (prefix)
		json_object_set_new(o, "inbound_url", json_string(url));
	return o;
}

json_t *channel_get(const struct scope *s, int64_t id, int with_secret,
		    struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, CHANNEL_COLS "WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return NULL;
	json_t *o = res && db_res_next(res) ? row_json(res, with_secret) : NULL;
	db_res_free(res);
	if (!o)
		ERR_NOT_FOUND(e, "channel not found");
	return o;
}

int channel_list(const struct scope *s, json_t *items, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, CHANNEL_COLS "WHERE account_id = $1 ORDER BY id", DB_NOARGS, &res, e) < 0)
		return -1;
	while (res && db_res_next(res))
		json_array_append_new(items, row_json(res, 0));
	db_res_free(res);
	return 0;
}

int channel_authenticate(struct db *db, int64_t id, const char *token,
			 int64_t *account_id, char *type, size_t n,
			 json_t **config, struct err *e)
{
	char hash[TOKEN_HEX_LEN];
	token_sha256_hex(token, strlen(token), hash);
	struct db_res *res = NULL;
	if (db_query(db, "SELECT account_id, type, config FROM channels WHERE id = $1 AND "
			 "token_hash = $2 AND active = 1",
		     DB_ARGS(DB_INT(id), DB_TEXT(hash)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res);
	if (found) {
		*account_id = db_res_int(res, 0);
		snprintf(type, n, "%s", db_res_text(res, 1));
		*config = json_loads(db_res_text(res, 2), 0, NULL);
	}
	db_res_free(res);
	return found;
}
