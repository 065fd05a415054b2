/* test_rbac.c -- permission names, sets, built-in roles, the decision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/rbac.h"

static void names_round_trip(void **state)
{
	(void)state;
	for (int p = 0; p < PERM__COUNT; p++) {
		const char *n = rbac_perm_name((enum perm)p);
		assert_true(strlen(n) > 0);
		assert_int_equal(rbac_perm_parse(n), p);
		assert_true(strlen(rbac_perm_description((enum perm)p)) > 0);
	}
	assert_int_equal(rbac_perm_parse("users.fly"), -1);
}

static void json_sets(void **state)
{
	(void)state;
	struct err e = {0};
	uint64_t set = 0;
	json_t *a = json_pack("[ss]", "users.read", "audit.read");
	assert_int_equal(rbac_perms_from_json(a, &set, &e), 0);
	json_t *back = rbac_perms_to_json(set);
	assert_int_equal(json_array_size(back), 2);
	json_decref(back);
	json_decref(a);
	a = json_pack("[si]", "users.read", 5);
	assert_int_equal(rbac_perms_from_json(a, &set, &e), -1);
	assert_int_equal(e.status, 400);
	json_decref(a);
	a = json_pack("{}");
	assert_int_equal(rbac_perms_from_json(a, &set, &e), -1);
	json_decref(a);
}

static void decision(void **state)
{
	(void)state;
	struct principal p = {.user_id = 1};
	json_t *a = json_pack("[s]", "teams.read");
	struct err e;
	rbac_perms_from_json(a, &p.perms, &e);
	json_decref(a);
	assert_true(rbac_allows(&p, "teams.read"));
	assert_true(rbac_allows(&p, ""));
	assert_false(rbac_allows(&p, "teams.write"));
	assert_false(rbac_allows(&p, "teams.reed")); /* typo fails closed */
	assert_false(rbac_allows(NULL, ""));
	struct principal anon = {0};
	assert_false(rbac_allows(&anon, ""));
}

static void builtins_nest(void **state)
{
	(void)state;
	int n;
	const struct rbac_builtin *b = rbac_builtins(&n);
	assert_int_equal(n, 3);
	assert_string_equal(b[0].name, "admin");
	assert_true(b[0].perms == rbac_perms_all());
	/* agent within supervisor within admin */
	assert_true((b[2].perms & ~b[1].perms) == 0);
	assert_true((b[1].perms & ~b[0].perms) == 0);
	assert_true(b[1].perms != b[0].perms);
	enum data_scope s;
	assert_int_equal(rbac_scope_parse("team", &s), 0);
	assert_int_equal(s, SCOPE_TEAM);
	assert_int_equal(rbac_scope_parse("everything", &s), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_round_trip),
		cmocka_unit_test(json_sets),
		cmocka_unit_test(decision),
		cmocka_unit_test(builtins_nest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
