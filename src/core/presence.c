/*
 * presence.c -- see presence.h.
 */
#include "presence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/clock.h"
#include "events.h"
#include "ticket.h"

/* Work out the user's status from every fresh node row and their choice;
 * store it and announce a change (or, when `force`, announce anyway: the
 * choice itself changed). */
static int recompute(const struct scope *s, int64_t user, int force, struct err *e)
{
	int64_t fresh = clock_now_ms() - PRESENCE_STALE_MS;
	struct db_res *res;
	if (db_sq(s, "SELECT u.name, COALESCE(p.chosen, 'online'), COALESCE(p.status, 'offline'), "
		     "(SELECT COUNT(*) FROM presence_nodes n WHERE n.account_id = $1 AND "
		     " n.user_id = $2 AND n.connections > 0 AND n.heartbeat_at > $3), "
		     "(SELECT COUNT(*) FROM presence_nodes n WHERE n.account_id = $1 AND "
		     " n.user_id = $2 AND n.connections > 0 AND n.idle = 0 AND n.heartbeat_at > $3) "
		     "FROM users u LEFT JOIN presence p ON p.account_id = u.account_id AND "
		     "p.user_id = u.id WHERE u.account_id = $1 AND u.id = $2",
		  DB_ARGS(DB_INT(user), DB_INT(fresh)), &res, e) < 0)
		return -1;
	if (!db_res_next(res)) {
		db_res_free(res);
		return 0; /* the user is gone */
	}
	char name[256], chosen[16], old[16];
	snprintf(name, sizeof name, "%s", db_res_text(res, 0));
	snprintf(chosen, sizeof chosen, "%s", db_res_text(res, 1));
	snprintf(old, sizeof old, "%s", db_res_text(res, 2));
	int64_t connected = db_res_int(res, 3), active = db_res_int(res, 4);
	db_res_free(res);
	const char *now = !connected || !strcmp(chosen, "offline") ? "offline"
			  : !strcmp(chosen, "away") || !active ? "away" : "online";
	if (db_sexec(s, "INSERT INTO presence (account_id, user_id, chosen, status, updated_at) "
			"VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, user_id) DO UPDATE "
			"SET status = $4, updated_at = $5",
		     DB_ARGS(DB_INT(user), DB_TEXT(chosen), DB_TEXT(now), DB_INT(clock_now_ms())),
		     e) < 0)
		return -1;
	if (!strcmp(old, now) && !force)
		return 0;
	struct event_target t = {.audience = EV_STAFF};
	json_t *d = json_pack("{sI ss ss ss}", "user_id", (json_int_t)user, "name", name,
			      "status", now, "chosen", chosen);
	int rc = events_add(s, "presence", &t, d, e);
	json_decref(d);
	return rc;
}

/* The agent's last connection on this node is gone: whatever they were
 * viewing here, they left (announced like a "viewing": false). */
static int leave_all(const struct scope *s, const char *node, int64_t user, struct err *e)
{
	struct db_res *res;
	if (db_sq(s, "SELECT v.ticket_id, u.name FROM ticket_viewers v JOIN users u ON "
		     "u.id = v.user_id WHERE v.account_id = $1 AND v.node = $2 AND v.user_id = $3",
		  DB_ARGS(DB_TEXT(node), DB_INT(user)), &res, e) < 0)
		return -1;
	int64_t tickets[64];
	int n = 0;
	struct principal p = {.account_id = s->account_id, .user_id = user};
	while (n < 64 && db_res_next(res)) {
		tickets[n++] = db_res_int(res, 0);
		snprintf(p.name, sizeof p.name, "%s", db_res_text(res, 1));
	}
	db_res_free(res);
	for (int i = 0; i < n; i++)
		if (viewer_set(s, node, &p, tickets[i], 0, e) < 0)
			return -1;
	return 0;
}

int presence_node_set(struct db *db, const char *node, int64_t account, int64_t user,
		      int conns, int idle, struct err *e)
{
	struct scope s = {db, account};
	if (db_begin(db, e) < 0)
		return -1;
	int64_t rc = conns > 0
		? db_sexec(&s, "INSERT INTO presence_nodes (node, account_id, user_id, connections, "
			       "idle, heartbeat_at) VALUES ($2, $1, $3, $4, $5, $6) ON CONFLICT "
			       "(node, account_id, user_id) DO UPDATE SET connections = $4, idle = $5, "
			       "heartbeat_at = $6",
			   DB_ARGS(DB_TEXT(node), DB_INT(user), DB_INT(conns), DB_INT(idle != 0),
				   DB_INT(clock_now_ms())), e)
		: db_sexec(&s, "DELETE FROM presence_nodes WHERE account_id = $1 AND node = $2 "
			       "AND user_id = $3", DB_ARGS(DB_TEXT(node), DB_INT(user)), e);
	if (rc >= 0 && conns == 0)
		rc = leave_all(&s, node, user, e);
	if (rc < 0 || recompute(&s, user, 0, e) < 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, e);
}

int presence_choose(const struct scope *s, int64_t user, const char *status,
		    struct err *e)
{
	if (!status || (strcmp(status, "online") && strcmp(status, "away") &&
			strcmp(status, "offline"))) {
		ERR_INVALID(e, "status must be online, away or offline");
		return -1;
	}
	int64_t same = 0;
	if (db_sq_int(s, "SELECT COUNT(*) FROM presence WHERE account_id = $1 AND user_id = $2 "
			 "AND chosen = $3", DB_ARGS(DB_INT(user), DB_TEXT(status)), &same, e) < 0 ||
	    db_sexec(s, "INSERT INTO presence (account_id, user_id, chosen, status, updated_at) "
			"VALUES ($1, $2, $3, 'offline', $4) ON CONFLICT (account_id, user_id) DO "
			"UPDATE SET chosen = $3, updated_at = $4",
		     DB_ARGS(DB_INT(user), DB_TEXT(status), DB_INT(clock_now_ms())), e) < 0)
		return -1;
	return recompute(s, user, !same, e);
}

json_t *presence_list(const struct scope *s, struct err *e)
{
	struct db_res *res;
	if (db_sq(s, "SELECT u.id, u.name, COALESCE(p.status, 'offline'), "
		     "COALESCE(p.chosen, 'online') FROM users u LEFT JOIN presence p ON "
		     "p.account_id = u.account_id AND p.user_id = u.id "
		     "WHERE u.account_id = $1 AND u.active = 1 ORDER BY u.name, u.id",
		  DB_NOARGS, &res, e) < 0)
		return NULL;
	json_t *items = json_array();
	while (db_res_next(res))
		json_array_append_new(items, json_pack("{sI ss ss ss}",
			"user_id", (json_int_t)db_res_int(res, 0), "name", db_res_text(res, 1),
			"status", db_res_text(res, 2), "chosen", db_res_text(res, 3)));
	if (db_res_error(res, e) < 0) {
		json_decref(items);
		items = NULL;
	}
	db_res_free(res);
	return items;
}

/* Users whose rows (this node's, or any stale one) are about to go. */
static int affected(struct db *db, const char *node, int gone, int64_t fresh,
		    int64_t (*au)[2], int max, int *n, struct err *e)
{
	struct db_res *res;
	*n = 0;
	if (db_query(db, "SELECT DISTINCT account_id, user_id FROM presence_nodes "
			 "WHERE heartbeat_at <= $1 OR ($2 = 1 AND node = $3)",
		     DB_ARGS(DB_INT(fresh), DB_INT(gone), DB_TEXT(node)), &res, e) < 0)
		return -1;
	while (*n < max && db_res_next(res)) {
		au[*n][0] = db_res_int(res, 0);
		au[*n][1] = db_res_int(res, 1);
		(*n)++;
	}
	db_res_free(res);
	return 0;
}

static int drop_rows(struct db *db, const char *node, int gone, int64_t fresh,
		     struct err *e)
{
	const char *sql[] = {
		"DELETE FROM presence_nodes WHERE heartbeat_at <= $1 OR ($2 = 1 AND node = $3)",
		"DELETE FROM ticket_viewers WHERE heartbeat_at <= $1 OR ($2 = 1 AND node = $3)",
	};
	for (int i = 0; i < 2; i++)
		if (db_exec(db, sql[i], DB_ARGS(DB_INT(fresh), DB_INT(gone), DB_TEXT(node)), e) < 0)
			return -1;
	return 0;
}

/* Viewers on nodes that stopped (or on this one, going away) leave the
 * tickets, announced like any "viewing": false. */
static int stale_viewers_leave(struct db *db, const char *node, int gone, int64_t fresh,
			       struct err *e)
{
	struct db_res *res;
	if (db_query(db, "SELECT v.account_id, v.ticket_id, v.user_id, v.node, u.name "
			 "FROM ticket_viewers v JOIN users u ON u.id = v.user_id "
			 "WHERE v.heartbeat_at <= $1 OR ($2 = 1 AND v.node = $3) LIMIT 256",
		     DB_ARGS(DB_INT(fresh), DB_INT(gone), DB_TEXT(node)), &res, e) < 0)
		return -1;
	struct gone_view {
		int64_t account, ticket;
		struct principal p;
		char node[24];
	} *v = xcalloc(256, sizeof *v);
	int n = 0;
	for (; n < 256 && db_res_next(res); n++) {
		v[n].account = db_res_int(res, 0);
		v[n].ticket = db_res_int(res, 1);
		v[n].p.account_id = v[n].account;
		v[n].p.user_id = db_res_int(res, 2);
		snprintf(v[n].node, sizeof v[n].node, "%s", db_res_text(res, 3));
		snprintf(v[n].p.name, sizeof v[n].p.name, "%s", db_res_text(res, 4));
	}
	db_res_free(res);
	int rc = 0;
	for (int i = 0; rc == 0 && i < n; i++) {
		struct scope s = {db, v[i].account};
		rc = viewer_set(&s, v[i].node, &v[i].p, v[i].ticket, 0, e);
	}
	free(v);
	return rc;
}

int presence_heartbeat(struct db *db, const char *node, int gone, struct err *e)
{
	int64_t now = clock_now_ms(), fresh = now - PRESENCE_STALE_MS;
	int64_t au[256][2];
	int n;
	if (db_begin(db, e) < 0)
		return -1;
	int rc = db_exec(db, "UPDATE presence_nodes SET heartbeat_at = $2 WHERE node = $1",
			 DB_ARGS(DB_TEXT(node), DB_INT(now)), e) < 0 ||
		 db_exec(db, "UPDATE ticket_viewers SET heartbeat_at = $2 WHERE node = $1",
			 DB_ARGS(DB_TEXT(node), DB_INT(now)), e) < 0 ||
		 affected(db, node, gone, fresh, au, 256, &n, e) < 0 ||
		 stale_viewers_leave(db, node, gone, fresh, e) < 0 ||
		 drop_rows(db, node, gone, fresh, e) < 0 ? -1 : 0;
	for (int i = 0; rc == 0 && i < n; i++) {
		struct scope s = {db, au[i][0]};
		rc = recompute(&s, au[i][1], 0, e);
	}
	if (rc < 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, e);
}

int viewer_set(const struct scope *s, const char *node, const struct principal *p,
	       int64_t ticket, int viewing, struct err *e)
{
	int64_t now = clock_now_ms();
	int64_t n = viewing
		? db_sexec(s, "INSERT INTO ticket_viewers (account_id, ticket_id, user_id, node, "
			      "since, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT "
			      "(account_id, ticket_id, user_id, node) DO NOTHING",
			   DB_ARGS(DB_INT(ticket), DB_INT(p->user_id), DB_TEXT(node), DB_INT(now)), e)
		: db_sexec(s, "DELETE FROM ticket_viewers WHERE account_id = $1 AND ticket_id = $2 "
			      "AND user_id = $3 AND node = $4",
			   DB_ARGS(DB_INT(ticket), DB_INT(p->user_id), DB_TEXT(node)), e);
	if (n <= 0)
		return (int)n; /* no change: nothing to announce */
	struct event_target t = {.audience = EV_STAFF};
	if (events_ticket_target(s, ticket, &t, NULL, e) < 0)
		return -1;
	t.customer_id = 0;
	json_t *d = json_pack("{sI sI ss sb}", "ticket_id", (json_int_t)ticket, "user_id",
			      (json_int_t)p->user_id, "name", p->name, "viewing", viewing);
	int rc = events_add(s, "viewing", &t, d, e);
	json_decref(d);
	return rc;
}

json_t *viewer_list(const struct scope *s, int64_t ticket, struct err *e)
{
	struct db_res *res;
	if (db_sq(s, "SELECT v.user_id, u.name, MIN(v.since) FROM ticket_viewers v "
		     "JOIN users u ON u.id = v.user_id WHERE v.account_id = $1 AND "
		     "v.ticket_id = $2 AND v.heartbeat_at > $3 GROUP BY v.user_id, u.name "
		     "ORDER BY MIN(v.since)",
		  DB_ARGS(DB_INT(ticket), DB_INT(clock_now_ms() - PRESENCE_STALE_MS)), &res, e) < 0)
		return NULL;
	json_t *items = json_array();
	while (db_res_next(res)) {
		char ts[32];
		clock_iso8601(db_res_int(res, 2), ts, sizeof ts);
		json_array_append_new(items, json_pack("{sI ss ss}", "user_id",
			(json_int_t)db_res_int(res, 0), "name", db_res_text(res, 1), "since", ts));
	}
	db_res_free(res);
	return items;
}
