/*
 * ticket_internal.h -- what the ticket_*.c files share; not for the rest of
 * Kefu (which uses ticket.h).
 */
#ifndef KEFU_CORE_TICKET_INTERNAL_H
#define KEFU_CORE_TICKET_INTERNAL_H

#include <jansson.h>

#include "../store/sqlb.h"
#include "ticket.h"

/* The columns ticket_row_json reads, in its order; ends after FROM/JOINs so
 * the caller appends "WHERE t.account_id = $1 ...". */
#define TICKET_SELECT                                                          \
	"SELECT t.id, t.number, t.subject, t.status, t.status_category, "         \
	"t.priority, t.category, t.team_id, tm.name, t.assignee_id, u.name, "     \
	"t.customer_id, c.name, c.email, c.level, t.channel_id, ch.type, ch.name, " \
	"t.origin, t.tags, t.fields, t.merged_into, t.parent_id, t.created_at, "  \
	"t.updated_at, t.first_response_at, t.resolved_at, t.closed_at, "         \
	"t.last_customer_message_at, t.last_message_at, "                         \
	"(SELECT substr(m.text, 1, 160) FROM messages m WHERE m.ticket_id = t.id " \
	" AND m.internal = 0 ORDER BY m.id DESC LIMIT 1), "                        \
	"t.csat_score, t.csat_comment, t.csat_at "                                \
	"FROM tickets t LEFT JOIN teams tm ON tm.id = t.team_id "                 \
	"LEFT JOIN users u ON u.id = t.assignee_id "                              \
	"JOIN customers c ON c.id = t.customer_id "                               \
	"LEFT JOIN channels ch ON ch.id = t.channel_id "

json_t *ticket_row_json(struct db_res *res);
const char *ticket_priority_raise(const char *p);
int ticket_check_people(const struct scope *s, int64_t team_id,
			int64_t assignee_id, struct err *e);
int ticket_tags_store(const struct scope *s, int64_t id, const json_t *tags,
		      struct err *e);
/* Announce a change: the webhook event and the staff real-time event with
 * {"ticket": <ticket>} plus extra's keys, and the customer's chat event
 * for a chat ticket.  _moved also names the team and assignee the ticket
 * had before (0: unchanged), who hear this last event too. */
int ticket_emit(const struct scope *s, int64_t id, const char *event,
		const json_t *extra, struct err *e);
int ticket_emit_moved(const struct scope *s, int64_t id, const char *event,
		      const json_t *extra, int64_t prev_team, int64_t prev_assignee,
		      struct err *e);
/* An internal note on the ticket by the actor (transfer, escalate). */
int ticket_note(const struct scope *s, const struct ticket_actor *a, int64_t id,
		const char *text, struct err *e);

#endif
