/*
 * audit.c -- see audit.h.
 *
 * Writers serialise on the account's row in audit_heads: the first statement
 * of audit_record bumps its sequence number, which takes the row lock on
 * PostgreSQL and is already inside SQLite's single-writer lock, so two
 * concurrent writes can never link to the same previous entry.
 */
#include "audit.h"

#include <inttypes.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/token.h"

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

struct entry {
	int64_t account_id, seq, actor_id, target_id, created_at;
	const char *actor_type, *actor_label, *action, *target_type, *detail, *ip,
		*request_id, *prev_hash;
};

static void field(struct buf *b, const char *s)
{
	buf_printf(b, "%zu:%s\n", strlen(s ? s : ""), s ? s : "");
}

static void field_int(struct buf *b, int64_t v)
{
	char tmp[24];
	snprintf(tmp, sizeof tmp, "%" PRId64, v);
	field(b, tmp);
}

/* Length-prefixed fields: no choice of separators can make two different
 * entries serialise to the same bytes. */
static void entry_hash(const struct entry *en, char out[TOKEN_HEX_LEN])
{
	struct buf b = BUF_INIT;
	field_int(&b, en->account_id);
	field_int(&b, en->seq);
	field(&b, en->actor_type);
	field_int(&b, en->actor_id);
	field(&b, en->actor_label);
	field(&b, en->action);
	field(&b, en->target_type);
	field_int(&b, en->target_id);
	field(&b, en->detail);
	field(&b, en->ip);
	field(&b, en->request_id);
	field_int(&b, en->created_at);
	field(&b, en->prev_hash);
	token_sha256_hex(b.data, b.len, out);
	buf_free(&b);
}

int audit_chain_init(const struct scope *s, struct err *e)
{
	return db_sexec(s,
			"INSERT INTO audit_heads (account_id, seq, hash) "
			"VALUES ($1, 0, $2)",
			DB_ARGS(DB_TEXT(GENESIS)), e) < 0 ? -1 : 0;
}

int audit_record(const struct scope *s, const struct audit_actor *actor,
		 const char *action, const char *target_type, int64_t target_id,
		 const json_t *detail, struct err *e)
{
	if (!db_in_tx(s->db)) {
		ERR_INTERNAL(e, "audit entry outside a transaction");
		return -1;
	}
	struct db_res *res = NULL;
	if (db_sq(s,
		  "UPDATE audit_heads SET seq = seq + 1 WHERE account_id = $1 "
		  "RETURNING seq, hash",
		  DB_NOARGS, &res, e) < 0)
		return -1;
	if (!res || !db_res_next(res)) {
		db_res_free(res);
		ERR_INTERNAL(e, "account %" PRId64 " has no audit chain", s->account_id);
		return -1;
	}
	char prev[TOKEN_HEX_LEN], hash[TOKEN_HEX_LEN];
	int64_t seq = db_res_int(res, 0);
	snprintf(prev, sizeof prev, "%s", db_res_text(res, 1));
	db_res_free(res);

	char *dj = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS)
			  : xstrdup("{}");
	struct entry en = {
		.account_id = s->account_id, .seq = seq, .actor_id = actor->id,
		.target_id = target_id, .created_at = clock_now_ms(),
		.actor_type = actor->type, .actor_label = actor->label,
		.action = action, .target_type = target_type, .detail = dj,
		.ip = actor->ip ? actor->ip : "",
		.request_id = actor->request_id ? actor->request_id : "",
		.prev_hash = prev,
	};
	entry_hash(&en, hash);
	int rc = db_sexec(s,
		"INSERT INTO audit_log (account_id, seq, actor_type, actor_id, "
		"actor_label, action, target_type, target_id, detail, ip, "
		"request_id, created_at, prev_hash, hash) VALUES ($1, $2, $3, $4, "
		"$5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
		DB_ARGS(DB_INT(seq), DB_TEXT(en.actor_type), DB_INT(en.actor_id),
			DB_TEXT(en.actor_label), DB_TEXT(action), DB_TEXT(target_type),
			DB_INT(target_id), DB_TEXT(dj), DB_TEXT(en.ip),
			DB_TEXT(en.request_id), DB_INT(en.created_at), DB_TEXT(prev),
			DB_TEXT(hash)),
		e) < 0 ? -1 : 0;
	free(dj);
	if (rc == 0 && db_sexec(s, "UPDATE audit_heads SET hash = $2 WHERE account_id = $1",
				DB_ARGS(DB_TEXT(hash)), e) < 0)
		rc = -1;
	return rc;
}

/* Walks one account's entries in sequence order, recomputing each hash. */
static int verify_account(struct db *db, int64_t account_id, FILE *out,
			  struct err *e)
{
	struct scope s = {db, account_id};
	struct db_res *res = NULL;
	if (db_sq(&s,
		  "SELECT seq, actor_type, actor_id, actor_label, action, "
		  "target_type, target_id, detail, ip, request_id, created_at, "
		  "prev_hash, hash, id FROM audit_log WHERE account_id = $1 "
		  "ORDER BY seq",
		  DB_NOARGS, &res, e) < 0)
		return -1;
	char prev[TOKEN_HEX_LEN] = GENESIS, hash[TOKEN_HEX_LEN];
	int64_t expect_seq = 1, n = 0;
	int broken = 0;
	while (res && db_res_next(res)) {
		struct entry en = {
			.account_id = account_id, .seq = db_res_int(res, 0),
			.actor_type = db_res_text(res, 1), .actor_id = db_res_int(res, 2),
			.actor_label = db_res_text(res, 3), .action = db_res_text(res, 4),
			.target_type = db_res_text(res, 5), .target_id = db_res_int(res, 6),
			.detail = db_res_text(res, 7), .ip = db_res_text(res, 8),
			.request_id = db_res_text(res, 9), .created_at = db_res_int(res, 10),
			.prev_hash = prev,
		};
		const char *stored_prev = db_res_text(res, 11);
		const char *stored = db_res_text(res, 12);
		const char *why = NULL;
		if (en.seq != expect_seq)
			why = "entry missing before this one (sequence gap)";
		else if (!stored_prev || strcmp(stored_prev, prev) != 0)
			why = "does not link to the previous entry";
		else {
			entry_hash(&en, hash);
			if (!stored || strcmp(stored, hash) != 0)
				why = "contents changed after it was written";
		}
		if (why) {
			fprintf(out, "account %" PRId64 ": BROKEN at entry id %" PRId64
				     " (seq %" PRId64 ", action %s): %s\n",
				account_id, db_res_int(res, 13), en.seq,
				en.action ? en.action : "?", why);
			broken = 1;
			break;
		}
		snprintf(prev, sizeof prev, "%s", stored);
		expect_seq++;
		n++;
	}
	db_res_free(res);
	if (broken)
		return 1;
	/* A deleted tail is caught by the head: it remembers the last seq. */
	int64_t head = 0;
	if (db_query_int(db, "SELECT seq FROM audit_heads WHERE account_id = $1",
			 DB_ARGS(DB_INT(account_id)), &head, e) < 0)
		return -1;
	if (head != n) {
		fprintf(out, "account %" PRId64 ": BROKEN: chain head says %" PRId64
			     " entries, %" PRId64 " found (entries removed at the end)\n",
			account_id, head, n);
		return 1;
	}
	fprintf(out, "account %" PRId64 ": ok, %" PRId64 " entries\n", account_id, n);
	return 0;
}

int audit_verify(struct db *db, FILE *out, struct err *e)
{
	int64_t id = 0;
	int worst = 0;
	for (;;) {
		int found = db_query_int(db,
			"SELECT id FROM accounts WHERE id > $1 ORDER BY id LIMIT 1",
			DB_ARGS(DB_INT(id)), &id, e);
		if (found < 0)
			return -1;
		if (found == 0)
			return worst;
		int rc = verify_account(db, id, out, e);
		if (rc < 0)
			return -1;
		if (rc > worst)
			worst = rc;
	}
}

int audit_list(const struct scope *s, int64_t before, int limit,
	       const char *action_prefix, json_t *items, int64_t *next,
	       struct err *e)
{
	struct db_res *res = NULL;
	/* A prefix match: the prefix's own % and _ are escaped as literals. */
	char like[160];
	size_t j = 0;
	for (const char *p = action_prefix ? action_prefix : ""; *p && j < sizeof like - 3; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			like[j++] = '\\';
		like[j++] = *p;
	}
	like[j++] = '%';
	like[j] = '\0';
	if (db_sq(s,
		  "SELECT id, seq, actor_type, actor_id, actor_label, action, "
		  "target_type, target_id, detail, ip, request_id, created_at, hash "
		  "FROM audit_log WHERE account_id = $1 AND ($2 = 0 OR id < $2) "
		  "AND action LIKE $3 ESCAPE '\\' ORDER BY id DESC LIMIT $4",
		  DB_ARGS(DB_INT(before), DB_TEXT(like), DB_INT(limit + 1)), &res, e) < 0)
		return -1;
	int count = 0;
	int64_t last = 0;
	*next = 0;
	while (res && db_res_next(res)) {
		if (count == limit) {
			*next = last;
			break;
		}
		char ts[32];
		clock_iso8601(db_res_int(res, 11), ts, sizeof ts);
		json_t *detail = json_loads(db_res_text(res, 8), 0, NULL);
		json_t *o = json_pack(
			"{sI sI s{ss sI ss} ss ss sI so* ss ss ss ss}",
			"id", (json_int_t)db_res_int(res, 0),
			"seq", (json_int_t)db_res_int(res, 1),
			"actor", "type", db_res_text(res, 2),
			"id", (json_int_t)db_res_int(res, 3), "label", db_res_text(res, 4),
			"action", db_res_text(res, 5), "target_type", db_res_text(res, 6),
			"target_id", (json_int_t)db_res_int(res, 7),
			"detail", detail, "ip", db_res_text(res, 9),
			"request_id", db_res_text(res, 10), "created_at", ts,
			"hash", db_res_text(res, 12));
		json_array_append_new(items, o);
		last = db_res_int(res, 0);
		count++;
	}
	db_res_free(res);
	return 0;
}
