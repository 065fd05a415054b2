/* workflow.c -- see workflow.h. */
#include "workflow.h"

#include <string.h>

static const char *const builtin[] = {"new", "open", "pending", "resolved", "closed"};

/* Default rules as pairs of categories. */
static const char *const default_rules[][2] = {
	{"new", "open"}, {"new", "pending"}, {"new", "resolved"}, {"new", "closed"},
	{"open", "pending"}, {"open", "resolved"}, {"open", "closed"},
	{"pending", "open"}, {"pending", "resolved"}, {"pending", "closed"},
	{"resolved", "open"}, {"resolved", "closed"},
	{"closed", "open"},
};

static int is_builtin(const char *name)
{
	for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++)
		if (strcmp(builtin[i], name) == 0)
			return 1;
	return 0;
}

int workflow_category(const struct scope *s, const char *status, char *category,
		      size_t n, struct err *e)
{
	if (status && is_builtin(status)) {
		snprintf(category, n, "%s", status);
		return 0;
	}
	struct db_res *res = NULL;
	if (!status || db_sq(s, "SELECT category FROM ticket_statuses WHERE "
				"account_id = $1 AND name = $2",
			     DB_ARGS(DB_TEXT(status)), &res, e) < 0) {
		if (!status)
			ERR_INVALID(e, "status is required");
		return -1;
	}
	int found = res && db_res_next(res);
	if (found)
		snprintf(category, n, "%s", db_res_text(res, 0));
	db_res_free(res);
	if (!found)
		ERR_INVALID(e, "unknown status \"%.40s\"", status);
	return found ? 0 : -1;
}

static int default_allows(const char *from_cat, const char *to_cat)
{
	for (size_t i = 0; i < sizeof default_rules / sizeof *default_rules; i++)
		if (!strcmp(default_rules[i][0], from_cat) && !strcmp(default_rules[i][1], to_cat))
			return 1;
	return 0;
}

int workflow_check(const struct scope *s, const char *from, const char *to,
		   struct err *e)
{
	char fc[16], tc[16];
	if (strcmp(from, to) == 0)
		return 0;
	if (workflow_category(s, from, fc, sizeof fc, e) < 0 ||
	    workflow_category(s, to, tc, sizeof tc, e) < 0)
		return -1;
	int64_t rules = 0, allowed = 0;
	if (db_sq_int(s, "SELECT COUNT(*) FROM ticket_transitions WHERE account_id = $1",
		      DB_NOARGS, &rules, e) < 0)
		return -1;
	if (rules > 0) {
		if (db_sq_int(s, "SELECT COUNT(*) FROM ticket_transitions WHERE account_id = $1 "
				 "AND from_status = $2 AND to_status = $3",
			      DB_ARGS(DB_TEXT(from), DB_TEXT(to)), &allowed, e) < 0)
			return -1;
	} else {
		/* Two statuses of one category may always swap (e.g. two kinds
		 * of pending). */
		allowed = strcmp(fc, tc) == 0 || default_allows(fc, tc);
	}
	if (!allowed)
		err_set(e, 422, "invalid_transition", "a ticket cannot go from %s to %s",
			from, to);
	return allowed ? 0 : -1;
}

int workflow_statuses(const struct scope *s, json_t *items, struct err *e)
{
	for (size_t i = 0; i < sizeof builtin / sizeof *builtin; i++)
		json_array_append_new(items, json_pack("{ss ss sb}", "name", builtin[i],
						       "category", builtin[i], "builtin", 1));
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT name, category FROM ticket_statuses WHERE account_id = $1 "
		     "ORDER BY position, id", DB_NOARGS, &res, e) < 0)
		return -1;
	while (res && db_res_next(res))
		json_array_append_new(items, json_pack("{ss ss sb}", "name", db_res_text(res, 0),
			"category", db_res_text(res, 1), "builtin", 0));
	db_res_free(res);
	return 0;
}

int workflow_status_add(const struct scope *s, const char *name,
			const char *category, struct err *e)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > WORKFLOW_NAME_MAX || is_builtin(name)) {
		ERR_INVALID(e, "status name must be 1-%d characters and not a built-in one",
			    WORKFLOW_NAME_MAX);
		return -1;
	}
	if (!category || !is_builtin(category)) {
		ERR_INVALID(e, "category must be new, open, pending, resolved or closed");
		return -1;
	}
	int64_t pos = 0;
	if (db_sq_int(s, "SELECT COUNT(*) FROM ticket_statuses WHERE account_id = $1",
		      DB_NOARGS, &pos, e) < 0)
		return -1;
	if (db_sexec(s, "INSERT INTO ticket_statuses (account_id, name, category, position) "
			"VALUES ($1, $2, $3, $4)",
		     DB_ARGS(DB_TEXT(name), DB_TEXT(category), DB_INT(pos)), e) < 0) {
		if (e->status == 409)
			err_set(e, 409, "conflict", "status \"%s\" exists", name);
		return -1;
	}
	return 0;
}

int workflow_transitions_set(const struct scope *s, const json_t *rules,
			     struct err *e)
{
	if (!json_is_array(rules)) {
		ERR_INVALID(e, "transitions must be an array of {from, to}");
		return -1;
	}
	if (db_sexec(s, "DELETE FROM ticket_transitions WHERE account_id = $1",
		     DB_NOARGS, e) < 0)
		return -1;
	size_t i;
	const json_t *r;
	char cat[16];
	json_array_foreach(rules, i, r) {
		const char *from = json_string_value(json_object_get(r, "from"));
		const char *to = json_string_value(json_object_get(r, "to"));
		if (!from || !to) {
			ERR_INVALID(e, "transition %zu needs from and to", i);
			return -1;
		}
		if (workflow_category(s, from, cat, sizeof cat, e) < 0 ||
		    workflow_category(s, to, cat, sizeof cat, e) < 0)
			return -1;
		if (db_sexec(s, "INSERT INTO ticket_transitions (account_id, from_status, "
				"to_status) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
			     DB_ARGS(DB_TEXT(from), DB_TEXT(to)), e) < 0)
			return -1;
	}
	return 0;
}

int workflow_transitions(const struct scope *s, json_t *items, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT from_status, to_status FROM ticket_transitions WHERE "
		     "account_id = $1 ORDER BY from_status, to_status", DB_NOARGS, &res, e) < 0)
		return -1;
	while (res && db_res_next(res))
		json_array_append_new(items, json_pack("{ss ss}", "from", db_res_text(res, 0),
						       "to", db_res_text(res, 1)));
	db_res_free(res);
	return 0;
}
