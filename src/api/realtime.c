/*
 * realtime.c -- the staff side of real time: GET /api/v1/ws (the console's
 * WebSocket), presence, who is viewing a ticket, and the REST forms of
 * typing and read marks (for clients that do not keep a WebSocket, e.g.
 * integrations and tests).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/events.h"
#include "../core/presence.h"
#include "../core/ticket.h"
#include "hub.h"
#include "input.h"
#include "ticket_common.h"

#define MAX_TEAMS 64

/* ?after=N: the last event id the client has; -1 when absent.  Replies
 * 400 and returns -2 when malformed. */
static int64_t after_param(struct req *r)
{
	char *v = req_query(r, "after");
	if (!v)
		return -1;
	char *end;
	long long n = strtoll(v, &end, 10);
	int bad = !*v || *end || n < 0;
	free(v);
	if (bad) {
		reply_error(r, 400, "invalid", "after must be an event id (0 or more)");
		return -2;
	}
	return n;
}

static int user_teams(struct req *r, int64_t *teams, int *n, struct err *e)
{
	struct db_res *res;
	*n = 0;
	if (db_sq(api_scope(r), "SELECT team_id FROM team_members WHERE account_id = $1 "
				"AND user_id = $2 ORDER BY team_id LIMIT 64",
		  DB_ARGS(DB_INT(api_ctx(r)->who.user_id)), &res, e) < 0)
		return -1;
	while (*n < MAX_TEAMS && db_res_next(res))
		teams[(*n)++] = db_res_int(res, 0);
	db_res_free(res);
	return 0;
}

/* A browser says where the page that opens a WebSocket came from; a
 * cookie-authenticated console must be our own page, or any site the
 * agent visits could read their events (cross-site WebSocket hijacking).
 * Clients without an Origin (apps, tests, API tokens) are not browsers. */
static int same_origin(struct req *r)
{
	const char *origin = req_header(r, "origin");
	const char *host = req_header(r, "host");
	const char *fwd = req_header(r, "x-forwarded-host");
	if (!origin || !api_ctx(r)->who.session_id)
		return 1;
	const char *p = strstr(origin, "://");
	if (!p)
		return 0;
	p += 3;
	return (host && strcasecmp(p, host) == 0) || (fwd && strcasecmp(p, fwd) == 0);
}

static void ws_staff(struct req *r)
{
	int64_t after = after_param(r), teams[MAX_TEAMS];
	int n;
	struct err e = {0};
	if (after < -1)
		return;
	if (!same_origin(r)) {
		reply_error(r, 403, "forbidden", "a WebSocket from another site's page is refused");
		return;
	}
	if (user_teams(r, teams, &n, &e) < 0 ||
	    (after < 0 && events_head(api_scope(r)->db, api_scope(r)->account_id, &after, &e) < 0)) {
		api_fail(r, &e);
		return;
	}
	struct hub_sub *s = hub_sub_staff(&api_ctx(r)->who, teams, n, after);
	if (reply_websocket(r, &hub_ws_app, s) < 0)
		hub_sub_free(s);
}

static void presence_get(struct req *r)
{
	struct err e = {0};
	json_t *items = presence_list(api_scope(r), &e);
	if (!items)
		api_fail(r, &e);
	else
		api_reply_list(r, items, 0);
}

static void presence_put(struct req *r)
{
	static const char *const keys[] = {"status", NULL};
	json_t *body = req_json(r);
	const char *status;
	struct err e = {0};
	if (!body)
		return;
	if (in_keys(body, keys, &e) < 0 || in_str(body, "status", 1, &status, &e) < 0)
		api_fail(r, &e);
	else if (api_begin(r) == 0) {
		if (presence_choose(api_scope(r), api_ctx(r)->who.user_id, status, &e) < 0)
			api_fail(r, &e);
		else
			reply_json(r, 200, json_pack("{ss}", "chosen", status));
	}
	json_decref(body);
}

static void viewers_get(struct req *r)
{
	int64_t id;
	if (api_ticket_id(r, &id) < 0)
		return;
	struct err e = {0};
	json_t *items = viewer_list(api_scope(r), id, &e);
	if (!items)
		api_fail(r, &e);
	else
		api_reply_list(r, items, 0);
}

/* A JSON request about a ticket the caller may see, in the request's
 * transaction; answered 204. */
typedef int (*ticket_action)(struct req *r, int64_t id, const json_t *b, struct err *e);

static void run_action(struct req *r, ticket_action act)
{
	int64_t id;
	struct err e = {0};
	if (api_ticket_id(r, &id) < 0)
		return;
	json_t *b = req_json(r);
	if (!b)
		return;
	if (api_begin(r) == 0) {
		if (act(r, id, b, &e) < 0)
			api_fail(r, &e);
		else
			reply_empty(r, 204);
	}
	json_decref(b);
}

static int act_typing(struct req *r, int64_t id, const json_t *b, struct err *e)
{
	static const char *const keys[] = {"typing", "internal", NULL};
	int typing, internal;
	return in_keys(b, keys, e) < 0 || in_bool(b, "typing", &typing, e) < 0 ||
	       in_bool(b, "internal", &internal, e) < 0 ||
	       ticket_typing(api_scope(r), &api_ctx(r)->who, id, typing != 0, internal == 1, e) < 0
		? -1 : 0;
}

static int act_read(struct req *r, int64_t id, const json_t *b, struct err *e)
{
	static const char *const keys[] = {"message_id", NULL};
	int64_t message = 0;
	return in_keys(b, keys, e) < 0 || in_int(b, "message_id", 1, &message, e) < 0 ||
	       ticket_mark_read(api_scope(r), &api_ctx(r)->who, id, message, e) < 0 ? -1 : 0;
}

static void typing_post(struct req *r) { run_action(r, act_typing); }
static void read_post(struct req *r) { run_action(r, act_read); }

/* Presence, typing and read marks change nothing an auditor asks about;
 * they are events, not records (ROUTE_NO_AUDIT). */
const struct route api_realtime_routes[] = {
	{HTTP_GET, "/api/v1/ws", ws_staff, "tickets.read", 0},
	{HTTP_GET, "/api/v1/presence", presence_get, "", 0},
	{HTTP_PUT, "/api/v1/presence", presence_put, "", ROUTE_NO_AUDIT},
	{HTTP_GET, "/api/v1/tickets/{id}/viewers", viewers_get, "tickets.read", 0},
	{HTTP_POST, "/api/v1/tickets/{id}/typing", typing_post, "tickets.read", ROUTE_NO_AUDIT},
	{HTTP_POST, "/api/v1/tickets/{id}/read", read_post, "tickets.read", ROUTE_NO_AUDIT},
};
const size_t api_realtime_nroutes = sizeof api_realtime_routes / sizeof api_realtime_routes[0];
