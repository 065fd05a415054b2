/* account.c -- see account.h. */
#include "account.h"

#include <string.h>

#include "../util/clock.h"
#include "../util/buf.h"
#include "rbac.h"
#include "role.h"

int account_slug_valid(const char *slug)
{
	size_t n = slug ? strlen(slug) : 0;
	if (n < 2 || n > 63 || slug[0] == '-' || slug[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = slug[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

static int create_in_tx(struct db *db, const struct audit_actor *actor,
			const char *name, const char *slug, int64_t *id,
			struct err *e)
{
	int64_t now = clock_now_ms();
	if (db_query_int(db,
			 "INSERT INTO accounts (slug, name, created_at, updated_at) "
			 "VALUES ($1, $2, $3, $3) RETURNING id",
			 DB_ARGS(DB_TEXT(slug), DB_TEXT(name), DB_INT(now)), id, e) < 0) {
		if (e->status == 409)
			err_set(e, 409, "conflict", "an account with slug '%s' exists", slug);
		return -1;
	}
	struct scope s = {db, *id};
	if (audit_chain_init(&s, e) < 0 || role_create_builtins(&s, e) < 0)
		return -1;
	json_t *d = json_pack("{ss ss}", "name", name, "slug", slug);
	int rc = audit_record(&s, actor, "account.create", "account", *id, d, e);
	json_decref(d);
	return rc;
}

int account_create(struct db *db, const struct audit_actor *actor,
		   const char *name, const char *slug, int64_t *id,
		   struct err *e)
{
	if (!account_slug_valid(slug)) {
		ERR_INVALID(e, "slug must be 2-63 characters of a-z, 0-9 and '-'");
		return -1;
	}
	if (!name || !name[0] || strlen(name) > 200) {
		ERR_INVALID(e, "name must be 1-200 characters");
		return -1;
	}
	if (db_begin(db, e) < 0)
		return -1;
	if (create_in_tx(db, actor, name, slug, id, e) < 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, e);
}

int account_find(struct db *db, const char *slug, int64_t *id, struct err *e)
{
	return db_query_int(db, "SELECT id FROM accounts WHERE slug = $1",
			    DB_ARGS(DB_TEXT(slug)), id, e);
}

json_t *account_get(const struct scope *s, struct err *e)
{
	struct db_res *res = NULL;
	/* The accounts table is the tenant itself: keyed by id, not account_id. */
	if (db_query(s->db, "SELECT id, slug, name, created_at, reply_to_closed FROM accounts "
			    "WHERE id = $1",
		     DB_ARGS(DB_INT(s->account_id)), &res, e) < 0)
		return NULL;
	json_t *o = NULL;
	if (res && db_res_next(res)) {
		char ts[32];
		clock_iso8601(db_res_int(res, 3), ts, sizeof ts);
		o = json_pack("{sI ss ss ss ss}", "id", (json_int_t)db_res_int(res, 0),
			      "slug", db_res_text(res, 1), "name", db_res_text(res, 2),
			      "created_at", ts, "reply_to_closed", db_res_text(res, 4));
	} else {
		ERR_NOT_FOUND(e, "account not found");
	}
	db_res_free(res);
	return o;
}

int account_update(const struct scope *s, const char *name,
		   const char *reply_to_closed, struct err *e)
{
	if (name && (!name[0] || strlen(name) > 200)) {
		ERR_INVALID(e, "name must be 1-200 characters");
		return -1;
	}
	if (reply_to_closed && strcmp(reply_to_closed, "new") && strcmp(reply_to_closed, "reopen")) {
		ERR_INVALID(e, "reply_to_closed must be \"new\" or \"reopen\"");
		return -1;
	}
	return db_exec(s->db, "UPDATE accounts SET name = COALESCE(CAST($2 AS TEXT), name), "
			      "reply_to_closed = COALESCE(CAST($4 AS TEXT), reply_to_closed), "
			      "updated_at = $3 WHERE id = $1",
		       DB_ARGS(DB_INT(s->account_id), DB_TEXT(name), DB_INT(clock_now_ms()),
			       DB_TEXT(reply_to_closed)), e) < 0 ? -1 : 0;
}

int account_reopens_closed(const struct scope *s, struct err *e)
{
	struct db_res *res = NULL;
	if (db_query(s->db, "SELECT reply_to_closed FROM accounts WHERE id = $1",
		     DB_ARGS(DB_INT(s->account_id)), &res, e) < 0)
		return -1;
	int reopen = res && db_res_next(res) && strcmp(db_res_text(res, 0), "reopen") == 0;
	db_res_free(res);
	return reopen;
}
