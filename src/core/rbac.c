/*
 * rbac.c -- see rbac.h.
 *
 * Permissions are bits so a check is one AND; a role's set is stored as a
 * JSON array of names so that adding a permission later never renumbers
 * what is in the database.
 */
#include "rbac.h"

#include <string.h>

#include "../util/log.h"

#define BIT(p) (UINT64_C(1) << (p))

static const struct {
	const char *name;
	const char *description;
} perms[PERM__COUNT] = {
	[PERM_ACCOUNT_MANAGE] = {"account.manage", "Change account settings"},
	[PERM_USERS_READ] = {"users.read", "See staff users"},
	[PERM_USERS_WRITE] = {"users.write", "Create, change and deactivate staff users"},
	[PERM_TEAMS_READ] = {"teams.read", "See teams and their members"},
	[PERM_TEAMS_WRITE] = {"teams.write", "Create, change and delete teams and membership"},
	[PERM_ROLES_READ] = {"roles.read", "See roles"},
	[PERM_ROLES_WRITE] = {"roles.write", "Create, change and delete roles"},
	[PERM_AUDIT_READ] = {"audit.read", "Read the audit log"},
	[PERM_PII_READ] = {"pii.read", "See personal data (phone, ID numbers) unmasked"},
	[PERM_TICKETS_READ] = {"tickets.read", "See tickets within the role's data scope"},
	[PERM_TICKETS_WRITE] = {"tickets.write", "Create tickets, reply, change fields"},
	[PERM_TICKETS_ASSIGN] = {"tickets.assign", "Assign and transfer tickets to others"},
	[PERM_TICKETS_DELETE] = {"tickets.delete", "Delete and merge tickets"},
	[PERM_CUSTOMERS_READ] = {"customers.read", "See customer profiles"},
	[PERM_CUSTOMERS_WRITE] = {"customers.write", "Create, change and merge customers"},
	[PERM_CHANNELS_MANAGE] = {"channels.manage", "Configure channels, webhooks and integrations"},
	[PERM_KB_READ] = {"kb.read", "Read knowledge-base articles, drafts included"},
	[PERM_KB_WRITE] = {"kb.write", "Write and edit knowledge-base articles"},
	[PERM_KB_PUBLISH] = {"kb.publish", "Review, publish and archive articles"},
	[PERM_REPORTS_READ] = {"reports.read", "See reports and dashboards"},
};

const char *rbac_perm_name(enum perm p)
{
	return p < PERM__COUNT ? perms[p].name : "";
}

const char *rbac_perm_description(enum perm p)
{
	return p < PERM__COUNT ? perms[p].description : "";
}

int rbac_perm_parse(const char *name)
{
	for (int i = 0; i < PERM__COUNT; i++)
		if (strcmp(perms[i].name, name) == 0)
			return i;
	return -1;
}

uint64_t rbac_perms_all(void)
{
	return BIT(PERM__COUNT) - 1;
}

int rbac_can(const struct principal *p, enum perm perm)
{
	return p && perm < PERM__COUNT && (p->perms & BIT(perm)) != 0;
}

int rbac_allows(const struct principal *p, const char *perm)
{
	if (!p || !p->user_id)
		return 0;
	if (!perm || perm[0] == '\0')
		return 1;
	int i = rbac_perm_parse(perm);
	if (i < 0) {
		log_error("rbac: route asks for unknown permission '%s'", perm);
		return 0;
	}
	return rbac_can(p, (enum perm)i);
}

int rbac_perms_from_json(const json_t *arr, uint64_t *out, struct err *e)
{
	if (!json_is_array(arr)) {
		ERR_INVALID(e, "permissions must be an array of names");
		return -1;
	}
	uint64_t set = 0;
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v) {
		int p = json_is_string(v) ? rbac_perm_parse(json_string_value(v)) : -1;
		if (p < 0) {
			ERR_INVALID(e, "unknown permission at index %zu", i);
			return -1;
		}
		set |= BIT(p);
	}
	*out = set;
	return 0;
}

json_t *rbac_perms_to_json(uint64_t set)
{
	json_t *a = json_array();
	for (int i = 0; i < PERM__COUNT; i++)
		if (set & BIT(i))
			json_array_append_new(a, json_string(perms[i].name));
	return a;
}

static const char *scope_names[] = {"own", "team", "all"};

const char *rbac_scope_name(enum data_scope s)
{
	return (unsigned)s <= SCOPE_ALL ? scope_names[s] : "own";
}

int rbac_scope_parse(const char *s, enum data_scope *out)
{
	for (int i = 0; i <= SCOPE_ALL; i++) {
		if (s && strcmp(s, scope_names[i]) == 0) {
			*out = (enum data_scope)i;
			return 0;
		}
	}
	return -1;
}

/* Supervisors run the floor: everything an agent does plus people, reports,
 * audit and unmasked data, but not account configuration.  Agents work the
 * tickets and customers of their teams. */
#define AGENT_PERMS                                                         \
	(BIT(PERM_USERS_READ) | BIT(PERM_TEAMS_READ) | BIT(PERM_TICKETS_READ) | \
	 BIT(PERM_TICKETS_WRITE) | BIT(PERM_CUSTOMERS_READ) |                  \
	 BIT(PERM_CUSTOMERS_WRITE) | BIT(PERM_KB_READ) | BIT(PERM_KB_WRITE))
#define SUPERVISOR_PERMS                                                    \
	(AGENT_PERMS | BIT(PERM_TEAMS_WRITE) | BIT(PERM_ROLES_READ) |          \
	 BIT(PERM_AUDIT_READ) | BIT(PERM_PII_READ) | BIT(PERM_TICKETS_ASSIGN) | \
	 BIT(PERM_TICKETS_DELETE) | BIT(PERM_KB_PUBLISH) | BIT(PERM_REPORTS_READ))

static const struct rbac_builtin builtins[] = {
	{"admin", BIT(PERM__COUNT) - 1, SCOPE_ALL},
	{"supervisor", SUPERVISOR_PERMS, SCOPE_ALL},
	{"agent", AGENT_PERMS, SCOPE_TEAM},
};

const struct rbac_builtin *rbac_builtins(int *n)
{
	*n = (int)(sizeof builtins / sizeof builtins[0]);
	return builtins;
}
