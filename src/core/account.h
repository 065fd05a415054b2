/*
 * account.h -- accounts (tenants).
 *
 * Owns: creating an account with everything it needs to work (built-in
 * roles, the audit chain), finding it by slug, reading and changing its
 * settings.  Every other table hangs off an account.
 */
#ifndef KEFU_CORE_ACCOUNT_H
#define KEFU_CORE_ACCOUNT_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"
#include "audit.h"

/* Slug: 2-63 of [a-z0-9-], not starting or ending with '-'. */
int account_slug_valid(const char *slug);

/* Create in its own transaction; audited as actor. */
int account_create(struct db *db, const struct audit_actor *actor,
		   const char *name, const char *slug, int64_t *id,
		   struct err *e);
/* 1 found, 0 not found, -1 error. */
int account_find(struct db *db, const char *slug, int64_t *id, struct err *e);
json_t *account_get(const struct scope *s, struct err *e);
/* Patch fields (NULL: unchanged): name; reply_to_closed "new" (a
 * customer's message on a closed ticket opens a new ticket linked to it)
 * or "reopen".  Caller holds the transaction and audits. */
int account_update(const struct scope *s, const char *name,
		   const char *reply_to_closed, struct err *e);
/* 1 when the account's customers reopen closed tickets by writing to
 * them, 0 when they get a new linked ticket, -1 on error. */
int account_reopens_closed(const struct scope *s, struct err *e);

#endif
