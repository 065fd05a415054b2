/*
 * team.h -- teams: departments, groups and skill groups of staff.
 *
 * Owns: the teams and team_members tables.  A user may be in several teams;
 * a role with data scope "team" sees what belongs to the user's teams.
 */
#ifndef KEFU_CORE_TEAM_H
#define KEFU_CORE_TEAM_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

int team_create(const struct scope *s, const char *name,
		const char *description, int64_t *id, struct err *e);
/* NULL fields stay unchanged. */
int team_update(const struct scope *s, int64_t id, const char *name,
		const char *description, struct err *e);
int team_delete(const struct scope *s, int64_t id, struct err *e);
/* {id, name, description, members: [{id, name, email}]} */
json_t *team_get(const struct scope *s, int64_t id, struct err *e);
int team_list(const struct scope *s, json_t *items, struct err *e);
int team_member_add(const struct scope *s, int64_t team_id, int64_t user_id,
		    struct err *e);
int team_member_remove(const struct scope *s, int64_t team_id,
		       int64_t user_id, struct err *e);

#endif
