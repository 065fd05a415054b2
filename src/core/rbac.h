/*
 * rbac.h -- who may do what: permissions, roles' data scopes, principals.
 *
 * Owns: the list of permissions (one name each, used in routes, roles and
 * the API), the built-in roles, and the single decision function every
 * route goes through.  Nothing else in Kefu compares permission names.
 */
#ifndef KEFU_CORE_RBAC_H
#define KEFU_CORE_RBAC_H

#include <jansson.h>
#include <stdint.h>

#include "../util/err.h"

enum perm {
	PERM_ACCOUNT_MANAGE, /* account settings */
	PERM_USERS_READ,
	PERM_USERS_WRITE,
	PERM_TEAMS_READ,
	PERM_TEAMS_WRITE,
	PERM_ROLES_READ,
	PERM_ROLES_WRITE,
	PERM_AUDIT_READ,
	PERM_PII_READ, /* see phone numbers and ID numbers unmasked */
	PERM_TICKETS_READ,
	PERM_TICKETS_WRITE,
	PERM_TICKETS_ASSIGN,
	PERM_TICKETS_DELETE,
	PERM_CUSTOMERS_READ,
	PERM_CUSTOMERS_WRITE,
	PERM_CHANNELS_MANAGE,
	PERM_KB_READ,
	PERM_KB_WRITE,
	PERM_KB_PUBLISH,
	PERM_REPORTS_READ,
	PERM__COUNT
};

enum data_scope { SCOPE_OWN, SCOPE_TEAM, SCOPE_ALL };

/* The authenticated caller of a request. */
struct principal {
	int64_t account_id;
	int64_t user_id;
	int64_t role_id;
	int64_t session_id; /* 0 when authenticated by API token */
	int64_t token_id;   /* 0 when authenticated by session */
	uint64_t perms;     /* bit per enum perm */
	enum data_scope scope;
	char email[256];
	char name[256];
	char role[64];
	char csrf[64]; /* session's CSRF token; "" for API tokens */
};

/* Name of a permission ("users.write"), and back: -1 when unknown. */
const char *rbac_perm_name(enum perm p);
const char *rbac_perm_description(enum perm p);
int rbac_perm_parse(const char *name);

/* The decision.  `perm` is a route's permission string: "" means any
 * authenticated user.  Unknown names are denied (and logged): a typo in a
 * route must fail closed. */
int rbac_allows(const struct principal *p, const char *perm);
int rbac_can(const struct principal *p, enum perm perm);

/* Permission sets <-> JSON arrays of names.  Parsing rejects unknown names
 * and non-strings with a 400 error. */
int rbac_perms_from_json(const json_t *arr, uint64_t *out, struct err *e);
json_t *rbac_perms_to_json(uint64_t perms);
uint64_t rbac_perms_all(void);

const char *rbac_scope_name(enum data_scope s);
int rbac_scope_parse(const char *s, enum data_scope *out);

/* The built-in roles every account starts with. */
struct rbac_builtin {
	const char *name;
	uint64_t perms;
	enum data_scope scope;
};
const struct rbac_builtin *rbac_builtins(int *n);

#endif
