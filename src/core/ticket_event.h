/*
 * ticket_event.h -- the ticket timeline: who did what to a ticket, when.
 *
 * Owns: the ticket_events table and the merged view of a ticket's messages
 * and events in order (what the console shows).  Event kinds: created,
 * status, priority, category, subject, team, assignee, tags, fields,
 * transfer, escalate, merged, merged_from, unmerged, split, split_from,
 * link, unlink, reopened, customer_merged.
 */
#ifndef KEFU_CORE_TICKET_EVENT_H
#define KEFU_CORE_TICKET_EVENT_H

#include <jansson.h>

#include "../store/db.h"
#include "audit.h"

/* data is borrowed (may be NULL). */
int ticket_event_add(const struct scope *s, int64_t ticket_id,
		     const struct audit_actor *actor, const char *kind,
		     const json_t *data, struct err *e);
/* Messages (internal notes only when with_internal) and events, oldest
 * first: [{"type":"message",...} | {"type":"event",...}]. */
int ticket_timeline(const struct scope *s, int64_t ticket_id, int with_internal,
		    json_t *items, struct err *e);

#endif
