/*
 * user.h -- staff users (agents, supervisors, admins) of an account.
 *
 * Owns: the users table: creating, reading, listing, changing and
 * deactivating staff, their role and the e-mail they log in with.  Password
 * hashing and sessions belong to auth.h.  Users are never deleted (the audit
 * log and ticket history name them); they are deactivated, which ends their
 * sessions and API tokens.
 */
#ifndef KEFU_CORE_USER_H
#define KEFU_CORE_USER_H

#include <jansson.h>
#include <stdint.h>

#include "../store/db.h"

struct user_input {
	const char *email;    /* NULL: unchanged (update) */
	const char *name;     /* NULL: unchanged */
	const char *password; /* NULL: unchanged / no password yet */
	int64_t role_id;      /* 0: unchanged */
	int active;           /* -1: unchanged, 0/1 */
	int unlock;           /* 1: clear a login lockout */
};

/* Lower-cases and checks an address in place; 0 ok, -1 invalid. */
int user_email_normalize(char *email);

int user_create(const struct scope *s, const struct user_input *in,
		int64_t *id, struct err *e);
int user_update(const struct scope *s, int64_t id, const struct user_input *in,
		struct err *e);
json_t *user_get(const struct scope *s, int64_t id, struct err *e);

/* The console settings of a user, kept per user (migration 0006):
 * "locale" ("zh-CN", "zh-TW", "en" or null) and "preferences" (a JSON
 * object of at most USER_PREFS_MAX bytes, stored as sent).  NULL arguments
 * leave a setting unchanged; locale "" clears it. */
#define USER_PREFS_MAX 16384
int user_settings_set(const struct scope *s, int64_t id, const char *locale,
		      const json_t *preferences, struct err *e);
/* Adds "locale" and "preferences" to the user object u. */
int user_settings_add(const struct scope *s, int64_t id, json_t *u, struct err *e);
/* Page of users ordered by id, after cursor `after`; *next = last id or 0. */
int user_list(const struct scope *s, int64_t after, int limit, json_t *items,
	      int64_t *next, struct err *e);

#endif
