/*
 * role.h -- roles: a named permission set plus a data scope.
 *
 * Owns: the roles table.  Every account has the built-in roles admin,
 * supervisor and agent (see rbac.c for their permissions); admins add custom
 * roles.  Built-in roles cannot be renamed or deleted, and admin's
 * permissions cannot be reduced (an account must always have a way back in).
 */
#ifndef KEFU_CORE_ROLE_H
#define KEFU_CORE_ROLE_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"
#include "rbac.h"

struct role_input {
	const char *name;          /* NULL: unchanged (update) */
	const json_t *permissions; /* array of names; NULL: unchanged */
	const char *data_scope;    /* own/team/all; NULL: unchanged */
};

int role_create_builtins(const struct scope *s, struct err *e);
int role_create(const struct scope *s, const struct role_input *in,
		int64_t *id, struct err *e);
int role_update(const struct scope *s, int64_t id, const struct role_input *in,
		struct err *e);
/* Refused (409) while users still have the role. */
int role_delete(const struct scope *s, int64_t id, struct err *e);
json_t *role_get(const struct scope *s, int64_t id, struct err *e);
int role_list(const struct scope *s, json_t *items, struct err *e);
/* The permission set of a role; -1 (404) when it does not exist. */
int role_perms(const struct scope *s, int64_t id, uint64_t *perms,
	       struct err *e);
/* 1 found, 0 not, -1 error. */
int role_find(const struct scope *s, const char *name, int64_t *id,
	      struct err *e);

#endif
