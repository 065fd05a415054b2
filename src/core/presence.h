/*
 * presence.h -- agents' presence (online / away / offline) and who is
 * viewing a ticket (collision), across every node of a cluster.
 *
 * Owns: the presence, presence_nodes and ticket_viewers tables.  What an
 * agent chose is in presence.chosen; whether they are connected, and idle,
 * is what each node reports for its own WebSocket connections in
 * presence_nodes (refreshed by a heartbeat; rows of a node that stopped
 * beating for PRESENCE_STALE_MS are dropped by any other node).  The status
 * shown is:
 *     not connected anywhere          -> offline
 *     chose offline                   -> offline
 *     chose away, or idle everywhere  -> away
 *     otherwise                       -> online
 * and every change of it is a "presence" event for the account's staff.
 */
#ifndef KEFU_CORE_PRESENCE_H
#define KEFU_CORE_PRESENCE_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"
#include "rbac.h"

#define PRESENCE_STALE_MS 90000

/* This node holds conns connections of the user, idle when every one of
 * them has been idle.  Own transaction. */
int presence_node_set(struct db *db, const char *node, int64_t account, int64_t user,
		      int conns, int idle, struct err *e);
/* The agent's own choice: online, away or offline (400 otherwise); inside
 * the caller's transaction. */
int presence_choose(const struct scope *s, int64_t user, const char *status,
		    struct err *e);
/* [{user_id, name, status, chosen}] of the account's active users. */
json_t *presence_list(const struct scope *s, struct err *e);
/* Keep this node's rows fresh; drop those of nodes that stopped (and of
 * this node when gone is 1: shutting down).  Own transactions. */
int presence_heartbeat(struct db *db, const char *node, int gone, struct err *e);

/* The agent opened (viewing 1) or left a ticket on this node; inside the
 * caller's transaction; an event tells the other agents. */
int viewer_set(const struct scope *s, const char *node, const struct principal *p,
	       int64_t ticket, int viewing, struct err *e);
/* [{user_id, name, since}] viewing the ticket now. */
json_t *viewer_list(const struct scope *s, int64_t ticket, struct err *e);

#endif
