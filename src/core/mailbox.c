/* mailbox.c -- see mailbox.h. */
#include "mailbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/buf.h"
#include "../util/clock.h"
#include "rowjson.h"

/* "host/pid" of this process: who holds a lease. */
static void me(char *out, size_t n)
{
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	snprintf(out, n, "%s/%ld", host, (long)getpid());
}

/* A lease held by a process of this host that no longer exists. */
static int holder_dead(const char *by)
{
	char mine[300];
	me(mine, sizeof mine);
	const char *slash = by ? strrchr(by, '/') : NULL;
	const char *my_slash = strrchr(mine, '/');
	if (!slash || (size_t)(slash - by) != (size_t)(my_slash - mine) ||
	    strncmp(by, mine, (size_t)(slash - by)) != 0)
		return 0;
	char *end;
	long pid = strtol(slash + 1, &end, 10);
	return pid > 0 && *end == '\0' && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int64_t poll_ms(const json_t *config)
{
	json_int_t s = json_integer_value(json_object_get(json_object_get(config, "imap"),
							  "poll_seconds"));
	return (s > 0 ? s : MAILBOX_DEFAULT_POLL_S) * 1000;
}

static int has_imap(const json_t *config)
{
	return json_is_string(json_object_get(json_object_get(config, "imap"), "host"));
}

/* Take the lease of one mailbox; 1 taken (b filled), 0 not. */
static int take(struct db *db, int64_t now, int64_t channel, int64_t account,
		const char *stale, struct mailbox *b, struct err *e)
{
	char mine[300];
	me(mine, sizeof mine);
	if (db_exec(db, "INSERT INTO mailbox_state (channel_id, account_id) VALUES ($1, $2) "
			"ON CONFLICT (channel_id) DO NOTHING",
		    DB_ARGS(DB_INT(channel), DB_INT(account)), e) < 0)
		return -1;
	struct db_res *res = NULL;
	/* next_poll_at moves past the lease: a "poll now" (0) that arrives
	 * while this poll runs is then still seen by mailbox_done. */
	if (db_query(db, "UPDATE mailbox_state SET locked_until = $2 + $3, locked_by = $4, "
			 "next_poll_at = $2 + $3 WHERE channel_id = $1 AND ((next_poll_at <= $2 AND "
			 "locked_until <= $2) OR locked_by = $5) RETURNING uidvalidity, last_uid, failures",
		     DB_ARGS(DB_INT(channel), DB_INT(now), DB_INT(MAILBOX_LEASE_MS), DB_TEXT(mine),
			     DB_TEXT(stale)), &res, e) < 0)
		return -1;
	int got = res && db_res_next(res);
	if (got) {
		b->channel_id = channel;
		b->account_id = account;
		b->uidvalidity = (uint64_t)db_res_int(res, 0);
		b->last_uid = (uint64_t)db_res_int(res, 1);
		b->failures = db_res_int(res, 2);
	}
	db_res_free(res);
	return got;
}

int mailbox_due(struct db *db, int64_t now, int max, struct mailbox **boxes, int *n,
		struct err *e)
{
	*boxes = NULL;
	*n = 0;
	struct db_res *res = NULL;
	if (db_query(db, "SELECT c.id, c.account_id, c.config, COALESCE(s.next_poll_at, 0), "
			 "COALESCE(s.locked_until, 0), s.locked_by FROM channels c LEFT JOIN "
			 "mailbox_state s ON s.channel_id = c.id WHERE c.type = 'email' AND "
			 "c.active = 1 ORDER BY c.id", DB_NOARGS, &res, e) < 0)
		return -1;
	/* Candidates first: the lease statements must not run while this
	 * result is open (one connection). */
	int cap = 0, nc = 0;
	struct mailbox *c = NULL;
	char **stale = NULL;
	while (res && db_res_next(res)) {
		json_t *cfg = json_loads(db_res_text(res, 2), 0, NULL);
		int64_t due = db_res_int(res, 3), locked = db_res_int(res, 4);
		const char *by = db_res_text(res, 5);
		int dead = locked > now && holder_dead(by);
		/* A dead holder's poll was cut short: due now, whatever its
		 * schedule said. */
		if (!has_imap(cfg) || ((due > now || locked > now) && !dead)) {
			json_decref(cfg);
			continue;
		}
		if (nc == cap) {
			cap = cap ? cap * 2 : 8;
			c = xrealloc(c, (size_t)cap * sizeof *c);
			stale = xrealloc(stale, (size_t)cap * sizeof *stale);
		}
		c[nc] = (struct mailbox){.channel_id = db_res_int(res, 0),
			.account_id = db_res_int(res, 1), .config = cfg};
		stale[nc++] = dead ? xstrdup(by) : NULL;
	}
	int rc = db_res_error(res, e);
	db_res_free(res);
	for (int i = 0; i < nc; i++) {
		struct mailbox b = {0};
		int got = rc < 0 || *n >= max ? 0
			  : take(db, now, c[i].channel_id, c[i].account_id, stale[i], &b, e);
		if (got < 0)
			rc = -1;
		if (got > 0) {
			b.config = c[i].config;
			c[i].config = NULL;
			(*boxes) = xrealloc(*boxes, (size_t)(*n + 1) * sizeof **boxes);
			(*boxes)[(*n)++] = b;
		}
		json_decref(c[i].config);
		free(stale[i]);
	}
	free(c);
	free(stale);
	if (rc < 0) {
		mailbox_free_all(*boxes, *n);
		*boxes = NULL;
		*n = 0;
	}
	return rc < 0 ? -1 : 0;
}

void mailbox_free_all(struct mailbox *boxes, int n)
{
	for (int i = 0; i < n; i++)
		json_decref(boxes[i].config);
	free(boxes);
}

int mailbox_progress(struct db *db, const struct mailbox *b, uint64_t uidvalidity,
		     uint64_t last_uid, struct err *e)
{
	char mine[300];
	me(mine, sizeof mine);
	return db_exec(db, "UPDATE mailbox_state SET uidvalidity = $2, last_uid = $3, "
			   "locked_until = $4 WHERE channel_id = $1 AND locked_by = $5",
		       DB_ARGS(DB_INT(b->channel_id), DB_INT((int64_t)uidvalidity),
			       DB_INT((int64_t)last_uid), DB_INT(clock_now_ms() + MAILBOX_LEASE_MS),
			       DB_TEXT(mine)), e) < 0 ? -1 : 0;
}

int mailbox_done(struct db *db, const struct mailbox *b, const char *error, int more,
		 struct err *e)
{
	char mine[300];
	me(mine, sizeof mine);
	int64_t now = clock_now_ms(), delay = more && !error ? 0 : poll_ms(b->config);
	if (error) {
		for (int64_t i = 0; i < b->failures && i < 20 && delay < MAILBOX_BACKOFF_MAX_MS; i++)
			delay *= 2;
		if (delay > MAILBOX_BACKOFF_MAX_MS)
			delay = MAILBOX_BACKOFF_MAX_MS;
	}
	return db_exec(db, "UPDATE mailbox_state SET last_poll_at = $2, "
			   "last_ok_at = CASE WHEN CAST($3 AS TEXT) IS NULL THEN $2 ELSE last_ok_at END, "
			   "last_error = $3, failures = CASE WHEN CAST($3 AS TEXT) IS NULL THEN 0 ELSE "
			   "failures + 1 END, next_poll_at = CASE WHEN next_poll_at = 0 THEN 0 "
			   "ELSE $4 END, locked_until = 0, locked_by = NULL WHERE channel_id = $1 "
			   "AND locked_by = $5",
		       DB_ARGS(DB_INT(b->channel_id), DB_INT(now), DB_TEXT(error),
			       DB_INT(now + delay), DB_TEXT(mine)), e) < 0 ? -1 : 0;
}

/* ---- the API's side ---- */

static json_t *iso_or_null(const struct db_res *res, int col)
{
	if (db_res_isnull(res, col))
		return json_null();
	char ts[32];
	clock_iso8601(db_res_int(res, col), ts, sizeof ts);
	return json_string(ts);
}

json_t *mailbox_status(const struct scope *s, int64_t channel_id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT last_poll_at, last_ok_at, last_error, failures, next_poll_at, "
		     "uidvalidity, last_uid FROM mailbox_state WHERE account_id = $1 AND "
		     "channel_id = $2", DB_ARGS(DB_INT(channel_id)), &res, e) < 0)
		return NULL;
	json_t *o;
	if (res && db_res_next(res)) {
		int64_t next = db_res_int(res, 4);
		const char *state = db_res_isnull(res, 0) ? "never" : db_res_isnull(res, 2) ? "ok" : "error";
		o = json_pack("{ss so so so sI so sI sI}", "state", state,
			"last_poll_at", iso_or_null(res, 0), "last_ok_at", iso_or_null(res, 1),
			"error", rj_text(res, 2), "failures", (json_int_t)db_res_int(res, 3),
			"next_poll_at", next > 0 ? iso_or_null(res, 4) : json_null(),
			"uidvalidity", (json_int_t)db_res_int(res, 5),
			"last_uid", (json_int_t)db_res_int(res, 6));
	} else {
		o = json_pack("{ss sn sn sn sI sn sI sI}", "state", "never", "last_poll_at",
			      "last_ok_at", "error", "failures", (json_int_t)0, "next_poll_at",
			      "uidvalidity", (json_int_t)0, "last_uid", (json_int_t)0);
	}
	db_res_free(res);
	return o;
}

int mailbox_poll_now(const struct scope *s, int64_t channel_id, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT type, config FROM channels WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(channel_id)), &res, e) < 0)
		return -1;
	int found = res && db_res_next(res), imap = 0;
	if (found && strcmp(db_res_text(res, 0), "email") == 0) {
		json_t *cfg = json_loads(db_res_text(res, 1), 0, NULL);
		imap = has_imap(cfg);
		json_decref(cfg);
	}
	db_res_free(res);
	if (!found) {
		ERR_NOT_FOUND(e, "channel not found");
		return -1;
	}
	if (!imap) {
		ERR_CONFLICT(e, "only an e-mail channel with an IMAP server can be polled");
		return -1;
	}
	if (db_sexec(s, "INSERT INTO mailbox_state (channel_id, account_id) VALUES ($2, $1) "
			"ON CONFLICT (channel_id) DO NOTHING", DB_ARGS(DB_INT(channel_id)), e) < 0)
		return -1;
	return db_sexec(s, "UPDATE mailbox_state SET next_poll_at = 0 WHERE account_id = $1 "
			   "AND channel_id = $2", DB_ARGS(DB_INT(channel_id)), e) < 0 ? -1 : 0;
}
