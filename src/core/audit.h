/*
 * audit.h -- the tamper-evident audit log.
 *
 * Owns: recording an entry for every write (who, which account, what, on
 * which target, when, from where) in the same transaction as the write, the
 * per-account hash chain that links each entry to the previous one, and the
 * verification that finds the first broken link.
 *
 * Chain: hash = SHA-256 over the length-prefixed fields of the entry and the
 * previous entry's hash (64 zeros for the first).  Editing, deleting or
 * reordering any row breaks every later link, and `kefu audit verify` names
 * the first one.
 */
#ifndef KEFU_CORE_AUDIT_H
#define KEFU_CORE_AUDIT_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "../store/db.h"

struct audit_actor {
	const char *type; /* "user", "token", "system" */
	int64_t id;       /* user id (0 for system) */
	const char *label; /* e-mail or "cli" */
	const char *ip;
	const char *request_id;
};

/* Append one entry.  Must run inside the write's transaction (refused
 * otherwise) so an undone write leaves no entry and a kept one always has
 * its entry.  detail may be NULL; it is borrowed. */
int audit_record(const struct scope *s, const struct audit_actor *actor,
		 const char *action, const char *target_type, int64_t target_id,
		 const json_t *detail, struct err *e);

/* Start an account's chain (called when the account is created). */
int audit_chain_init(const struct scope *s, struct err *e);

/* Check every account's chain.  Prints a line per account and, for a broken
 * chain, the first broken entry.  Returns 0 intact, 1 broken, -1 error. */
int audit_verify(struct db *db, FILE *out, struct err *e);

/* Entries newest first, before cursor id `before` (0 = newest), at most
 * limit; appended to items; *next set to the cursor for the next page or 0. */
int audit_list(const struct scope *s, int64_t before, int limit,
	       const char *action_prefix, json_t *items, int64_t *next,
	       struct err *e);

#endif
