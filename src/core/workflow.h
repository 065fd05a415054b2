/*
 * workflow.h -- ticket statuses and the transitions allowed between them.
 *
 * Owns: ticket_statuses and ticket_transitions.  Every account has the five
 * built-in statuses new -> open -> pending -> resolved -> closed; an admin
 * may add statuses of its own (each mapped to one of the five categories,
 * which drive timestamps, SLA and reports) and may restrict transitions.
 * With no transition rows, the default workflow applies:
 *   new      -> open, pending, resolved, closed
 *   open     -> pending, resolved, closed
 *   pending  -> open, resolved, closed
 *   resolved -> open, closed
 *   closed   -> open
 * A status of a custom name follows its category's row.
 */
#ifndef KEFU_CORE_WORKFLOW_H
#define KEFU_CORE_WORKFLOW_H

#include <jansson.h>

#include "../store/db.h"

#define WORKFLOW_NAME_MAX 40

/* The category of a status (built-in or the account's own); -1 (400) when
 * the account has no such status. */
int workflow_category(const struct scope *s, const char *status, char *category,
		      size_t n, struct err *e);
/* 0 when from -> to is allowed, -1 (422 invalid_transition) otherwise. */
int workflow_check(const struct scope *s, const char *from, const char *to,
		   struct err *e);
/* Every status of the account: [{name, category, builtin}] */
int workflow_statuses(const struct scope *s, json_t *items, struct err *e);
int workflow_status_add(const struct scope *s, const char *name,
			const char *category, struct err *e);
/* Replace the account's transition rules ([{from, to}]; empty = default). */
int workflow_transitions_set(const struct scope *s, const json_t *rules,
			     struct err *e);
int workflow_transitions(const struct scope *s, json_t *items, struct err *e);

#endif
