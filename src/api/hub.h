/*
 * hub.h -- the real-time hub: agents' consoles and customers' chat widgets
 * connected by WebSocket, fed from the event log (core/events.h).
 *
 * Owns: the subscribers (who is connected, what each may see, the last
 * event id each has), fan-out of new events in id order, replay of what a
 * reconnecting client missed (from memory when recent, else from the
 * database, else a "resync" telling it to reload), the commands clients
 * send (typing, viewing, read, presence), presence from connections and
 * idleness, and, on PostgreSQL, hearing other nodes' events via
 * LISTEN/NOTIFY.
 *
 * Threads: subscribers live on the HTTP loop thread (hub.c); a pump thread
 * with its own database connections (hub_pump.c) reads events, runs the
 * commands and sends results back with http_loop_call.  Neither blocks the
 * other.
 *
 * Wire format (server -> client), one JSON text frame per event:
 *     {"id": N, "type": "message.created", "data": {...}}
 * plus, without an id, {"type": "error"|"pong", "data": {...}} answers to
 * commands.  See docs/realtime.md.
 */
#ifndef KEFU_API_HUB_H
#define KEFU_API_HUB_H

#include <stdint.h>

#include "../config.h"
#include "../core/chat.h"
#include "../core/rbac.h"
#include "../http/http.h"

struct hub_sub;

/* Before http_serve: reads where every account's events stand, starts the
 * pump thread.  After http_serve: hub_stop (marks this node's agents
 * offline, frees everything). */
int hub_start(const struct config *cfg, struct err *e);
void hub_stop(void);

/* Worker thread, for reply_websocket(r, &hub_ws_app, sub).  after: the
 * last event id the client has; for a client that asked for live events
 * only, the account's head when it connected (events_head), so nothing
 * that happens from then on is missed however late the hub gets to it.
 * teams are copied. */
struct hub_sub *hub_sub_staff(const struct principal *p, const int64_t *teams,
			      int nteams, int64_t after);
struct hub_sub *hub_sub_customer(const struct chat_visitor *v, int64_t after);
/* Free a sub that reply_websocket did not take. */
void hub_sub_free(struct hub_sub *s);
extern const struct ws_app hub_ws_app;

/* ---- commands from clients (hub_cmd.c) ---- */

enum hub_cmd_type { CMD_PING, CMD_ACTIVITY, CMD_TYPING, CMD_VIEWING, CMD_READ, CMD_PRESENCE };

struct hub_cmd {
	enum hub_cmd_type type;
	int64_t ticket_id, message_id;
	int flag;         /* typing / viewing */
	int internal;     /* typing an internal note */
	char status[16];  /* presence */
};

/* Parse one client message.  customer: the widget's smaller set (no
 * ticket ids: its conversation is implied).  0, or -1 with a reason in err. */
int hub_cmd_parse(const char *msg, size_t len, int customer, struct hub_cmd *out,
		  char *err, size_t n);

#endif
