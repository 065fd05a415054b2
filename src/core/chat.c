/*
 * chat.c -- widget sessions, configuration and identity (see chat.h).
 * The conversation view and the customer's events are in chat_view.c.
 */
#include "chat.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"
#include "../util/token.h"
#include "customer.h"

/* ---- the channel behind a public key ---- */

struct chat_channel {
	int64_t account_id, id;
	char secret[64];
	json_t *config;
	char name[128];
};

/* 1 found, 0 unknown or inactive, -1 error. */
static int channel_by_key(struct db *db, const char *key, struct chat_channel *c,
			  struct err *e)
{
	struct db_res *res;
	memset(c, 0, sizeof *c);
	if (!key || !key[0] || strlen(key) > 64)
		return 0;
	if (db_query(db, "SELECT account_id, id, secret, config, name FROM channels "
			 "WHERE public_key = $1 AND type = 'web' AND active = 1",
		     DB_ARGS(DB_TEXT(key)), &res, e) < 0)
		return -1;
	int found = db_res_next(res);
	if (found) {
		c->account_id = db_res_int(res, 0);
		c->id = db_res_int(res, 1);
		snprintf(c->secret, sizeof c->secret, "%s", db_res_text(res, 2));
		c->config = json_loads(db_res_text(res, 3), 0, NULL);
		snprintf(c->name, sizeof c->name, "%s", db_res_text(res, 4));
	}
	db_res_free(res);
	return found;
}

/* Is an agent who could answer online (of the channel's team, if any)? */
static int agents_online(struct db *db, int64_t account, int64_t team, struct err *e)
{
	int64_t n = 0;
	if (db_query_int(db, "SELECT COUNT(*) FROM presence p WHERE p.account_id = $1 "
			     "AND p.status = 'online' AND ($2 = 0 OR p.user_id IN "
			     "(SELECT tm.user_id FROM team_members tm WHERE tm.team_id = $2))",
			 DB_ARGS(DB_INT(account), DB_INT(team)), &n, e) < 0)
		return -1;
	return n > 0;
}

/* A setting that is a string, or an object of strings by language. */
static const char *localized(const json_t *v, const char *lang)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (!json_is_object(v))
		return "";
	const char *s = lang ? json_string_value(json_object_get(v, lang)) : NULL;
	if (!s)
		s = json_string_value(json_object_get(v, "en"));
	if (!s) {
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)v, k, x)
			if (json_is_string(x))
				return json_string_value(x);
	}
	return s ? s : "";
}

/* The pre-chat fields with their labels in the visitor's language. */
static json_t *prechat_json(const json_t *pre, const char *lang)
{
	json_t *out = json_array();
	size_t i;
	const json_t *f;
	json_array_foreach(pre, i, f) {
		json_t *c = json_deep_copy(f);
		json_object_set_new(c, "label", json_string(localized(json_object_get(f, "label"), lang)));
		json_array_append_new(out, c);
	}
	return out;
}

json_t *chat_config(struct db *db, const char *key, const char *lang, struct err *e)
{
	struct chat_channel c;
	int found = channel_by_key(db, key, &c, e);
	if (found <= 0) {
		if (found == 0)
			ERR_NOT_FOUND(e, "no chat channel has this key");
		return NULL;
	}
	json_t *team = json_object_get(c.config, "team_id");
	int online = agents_online(db, c.account_id, json_integer_value(team), e);
	json_t *out = NULL;
	if (online >= 0) {
		json_t *pre = json_object_get(c.config, "prechat");
		const char *color = json_string_value(json_object_get(c.config, "color"));
		out = json_pack("{s{sI ss} ss ss sb so}", "channel", "id", (json_int_t)c.id,
				"name", c.name, "greeting",
				localized(json_object_get(c.config, "greeting"), lang),
				"color", color ? color : "#1677ff", "online", online,
				"prechat", prechat_json(pre, lang));
	}
	json_decref(c.config);
	return out;
}

/* ---- identity ---- */

int chat_identity_check(const char *secret, const struct chat_identity *id,
			int64_t now_s, struct err *e)
{
	if (!id->id || !id->id[0] || strlen(id->id) > 128 || strchr(id->id, '\n') ||
	    (id->name && strchr(id->name, '\n')) || (id->email && strchr(id->email, '\n'))) {
		ERR_INVALID(e, "identity: id must be 1-128 characters; id, name and email "
			       "may not hold line breaks");
		return -1;
	}
	int64_t age = now_s - id->timestamp;
	if (age > CHAT_IDENTITY_MAX_AGE || age < -CHAT_IDENTITY_MAX_AGE) {
		err_set(e, 401, "unauthenticated", "identity timestamp is too old or in the future");
		return -1;
	}
	char ts[24];
	snprintf(ts, sizeof ts, "%lld", (long long)id->timestamp);
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	const char *parts[] = {id->id, id->name ? id->name : "", id->email ? id->email : "", ts};
	for (int i = 0; i < 4; i++) {
		if (i)
			crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)parts[i], strlen(parts[i]));
	}
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_final(&st, mac);
	char hex[2 * sizeof mac + 1];
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	if (!id->signature || !token_equal(hex, id->signature)) {
		err_set(e, 401, "unauthenticated", "identity signature does not match");
		return -1;
	}
	return 0;
}

/* ---- sessions ---- */

int chat_session_auth(struct db *db, const char *token, struct chat_visitor *v,
		      struct err *e)
{
	memset(v, 0, sizeof *v);
	if (!token || strlen(token) < 16 || strlen(token) >= CHAT_TOKEN_LEN)
		return 0;
	char hash[TOKEN_HEX_LEN];
	token_sha256_hex(token, strlen(token), hash);
	struct db_res *res;
	/* A customer merged into another since: the session follows. */
	if (db_query(db, "SELECT ws.id, ws.account_id, ws.channel_id, "
			 "COALESCE(c.merged_into, ws.customer_id), ws.identified, "
			 "ws.identity_kind, ws.identity_handle, ch.secret, ch.config "
			 "FROM widget_sessions ws JOIN channels ch ON ch.id = ws.channel_id "
			 "JOIN customers c ON c.id = ws.customer_id "
			 "WHERE ws.token_hash = $1 AND ch.active = 1",
		     DB_ARGS(DB_TEXT(hash)), &res, e) < 0)
		return -1;
	int found = db_res_next(res);
	if (found) {
		v->session_id = db_res_int(res, 0);
		v->account_id = db_res_int(res, 1);
		v->channel_id = db_res_int(res, 2);
		v->customer_id = db_res_int(res, 3);
		v->identified = (int)db_res_int(res, 4);
		snprintf(v->kind, sizeof v->kind, "%s", db_res_text(res, 5));
		snprintf(v->handle, sizeof v->handle, "%s", db_res_text(res, 6));
		snprintf(v->secret, sizeof v->secret, "%s", db_res_text(res, 7));
		json_t *cfg = json_loads(db_res_text(res, 8), 0, NULL);
		v->team_id = json_integer_value(json_object_get(cfg, "team_id"));
		json_decref(cfg);
	}
	db_res_free(res);
	return found;
}

static const char *field_str(const json_t *fields, const char *k)
{
	const char *s = json_string_value(json_object_get(fields, k));
	return s && s[0] && strlen(s) <= 200 ? s : NULL;
}

/* The customer a signed identity names: by the company's id, else by its
 * e-mail (the company vouches for it), else a new profile. */
static int identified_customer(const struct scope *s, const struct chat_identity *id,
			       int64_t *customer, struct err *e)
{
	int found = customer_find_identity(s, "app_user", id->id, customer, e);
	if (found == 0 && id->email && id->email[0])
		found = customer_find_identity(s, "email", id->email, customer, e);
	if (found < 0)
		return -1;
	if (found == 0) {
		struct customer_input in = {.name = id->name && id->name[0] ? id->name : id->id,
					    .email = id->email && id->email[0] ? id->email : NULL};
		if (customer_create(s, &in, customer, e) < 0)
			return -1;
	}
	int64_t owner;
	found = customer_find_identity(s, "app_user", id->id, &owner, e);
	if (found == 0)
		return customer_identity_add(s, *customer, "app_user", id->id, e);
	return found < 0 ? -1 : 0;
}

/* An anonymous visitor: a new profile named from the pre-chat form.  An
 * e-mail typed into the form is kept as an attribute, not an identity: an
 * unsigned visitor must not be able to claim someone else's history. */
static int visitor_customer(const struct scope *s, const struct chat_open *in,
			    char *handle, size_t n, int64_t *customer, struct err *e)
{
	char rnd[32], name[64];
	token_random(rnd, sizeof rnd, 12);
	snprintf(handle, n, "v%s", rnd);
	const char *nm = field_str(in->fields, "name");
	if (!nm) {
		int zh = in->lang && strncmp(in->lang, "zh", 2) == 0;
		snprintf(name, sizeof name, "%s %u", zh ? "访客" : "Visitor",
			 (unsigned)(randombytes_uniform(9000) + 1000));
		nm = name;
	}
	json_t *attrs = json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)in->fields, k, v)
		if (json_is_string(v) && strcmp(k, "name") && strlen(k) <= 40)
			json_object_set(attrs, k, v);
	struct customer_input ci = {.name = nm, .attributes = attrs};
	int rc = customer_create(s, &ci, customer, e) < 0 ||
		 customer_identity_add(s, *customer, "web", handle, e) < 0 ? -1 : 0;
	json_decref(attrs);
	return rc;
}

static int session_insert(const struct scope *s, const struct chat_channel *c,
			  int64_t customer, const char *kind, const char *handle,
			  int identified, const struct chat_open *in,
			  char token[CHAT_TOKEN_LEN], struct err *e)
{
	char hash[TOKEN_HEX_LEN];
	token_random(token, CHAT_TOKEN_LEN, 32);
	token_sha256_hex(token, strlen(token), hash);
	int64_t now = clock_now_ms();
	const char *page = in->page_url && strlen(in->page_url) <= 2000 ? in->page_url : NULL;
	const char *lang = in->lang && strlen(in->lang) <= 16 ? in->lang : NULL;
	return db_sexec(s, "INSERT INTO widget_sessions (account_id, channel_id, customer_id, "
			   "token_hash, identity_kind, identity_handle, identified, lang, page_url, "
			   "created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
			   "$10, $10)",
			DB_ARGS(DB_INT(c->id), DB_INT(customer), DB_TEXT(hash), DB_TEXT(kind),
				DB_TEXT(handle), DB_INT(identified), DB_TEXT(lang), DB_TEXT(page),
				DB_INT(now)), e) < 0 ? -1 : 0;
}

static json_t *visitor_json(const struct scope *s, int64_t customer, int identified,
			    struct err *e)
{
	json_t *c = customer_get(s, customer, 0, e);
	if (!c)
		return NULL;
	json_t *v = json_pack("{sI sO sO sb}", "customer_id", (json_int_t)customer,
			      "name", json_object_get(c, "name"), "email",
			      json_object_get(c, "email"), "identified", identified);
	json_decref(c);
	return v;
}

/* A resumed session: the same visitor, unless a signed identity now names
 * someone else (a different user logged in on that browser). */
static int resume(struct db *db, const struct chat_open *in, const struct chat_channel *c,
		  struct chat_visitor *v, struct err *e)
{
	int ok = chat_session_auth(db, in->token, v, e);
	if (ok <= 0)
		return ok;
	if (v->channel_id != c->id)
		return 0;
	if (in->identity && !(v->identified && strcmp(v->handle, in->identity->id) == 0))
		return 0;
	struct scope s = {db, v->account_id};
	return db_sexec(&s, "UPDATE widget_sessions SET last_seen_at = $3 WHERE "
			    "account_id = $1 AND id = $2",
			DB_ARGS(DB_INT(v->session_id), DB_INT(clock_now_ms())), e) < 0 ? -1 : 1;
}

static int session_open_tx(struct db *db, const struct chat_open *in,
			   const struct chat_channel *c, char token[CHAT_TOKEN_LEN],
			   json_t **visitor, struct err *e)
{
	struct scope s = {db, c->account_id};
	struct chat_visitor v;
	int resumed = in->token ? resume(db, in, c, &v, e) : 0;
	if (resumed < 0)
		return -1;
	if (resumed) {
		snprintf(token, CHAT_TOKEN_LEN, "%s", in->token);
		*visitor = visitor_json(&s, v.customer_id, v.identified, e);
		return *visitor ? 0 : -1;
	}
	int64_t customer;
	char handle[160];
	int identified = in->identity != NULL;
	if (identified) {
		snprintf(handle, sizeof handle, "%s", in->identity->id);
		if (identified_customer(&s, in->identity, &customer, e) < 0)
			return -1;
	} else if (visitor_customer(&s, in, handle, sizeof handle, &customer, e) < 0) {
		return -1;
	}
	if (session_insert(&s, c, customer, identified ? "app_user" : "web", handle,
			   identified, in, token, e) < 0)
		return -1;
	*visitor = visitor_json(&s, customer, identified, e);
	return *visitor ? 0 : -1;
}

int chat_session_open(struct db *db, const struct chat_open *in,
		      char token[CHAT_TOKEN_LEN], json_t **visitor, struct err *e)
{
	struct chat_channel c;
	*visitor = NULL;
	int found = channel_by_key(db, in->key, &c, e);
	if (found <= 0) {
		if (found == 0)
			ERR_NOT_FOUND(e, "no chat channel has this key");
		return -1;
	}
	int rc = in->identity ? chat_identity_check(c.secret, in->identity,
						    clock_now_ms() / 1000, e) : 0;
	if (rc == 0)
		rc = db_begin(db, e);
	if (rc == 0) {
		rc = session_open_tx(db, in, &c, token, visitor, e);
		if (rc == 0)
			rc = db_commit(db, e);
		else
			db_rollback(db);
	}
	if (rc < 0) {
		json_decref(*visitor);
		*visitor = NULL;
	}
	json_decref(c.config);
	return rc;
}
