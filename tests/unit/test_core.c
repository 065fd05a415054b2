/*
 * test_core.c -- the domain without HTTP, on a real SQLite database:
 * accounts start with their roles and audit chain, users and passwords,
 * login lockout, the audit hash chain and its verification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/account.h"
#include "core/audit.h"
#include "core/auth.h"
#include "core/role.h"
#include "core/user.h"
#include "tempdb.h"
#include "util/token.h"

static const struct audit_actor actor = {"system", 0, "test", "", ""};

static int setup(void **state)
{
	*state = tempdb_open("core");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	tempdb_close(*state);
	return 0;
}

static int64_t make_account(struct db *db, const char *slug)
{
	int64_t id = 0;
	struct err e = {0};
	assert_int_equal(account_create(db, &actor, "Test", slug, &id, &e), 0);
	return id;
}

static void account_has_roles_and_chain(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t id = make_account(db, "acme");
	struct scope s = {db, id};
	int64_t rid;
	assert_int_equal(role_find(&s, "admin", &rid, &e), 1);
	assert_int_equal(role_find(&s, "agent", &rid, &e), 1);
	assert_int_equal(role_find(&s, "nobody", &rid, &e), 0);
	int64_t dup;
	assert_int_equal(account_create(db, &actor, "Again", "acme", &dup, &e), -1);
	assert_int_equal(e.status, 409);
	assert_int_equal(account_create(db, &actor, "Bad", "-bad-", &dup, &e), -1);
	assert_int_equal(e.status, 400);
	FILE *out = fopen("/dev/null", "w");
	assert_int_equal(audit_verify(db, out, &e), 0);
	fclose(out);
}

static void email_rules(void **state)
{
	(void)state;
	char ok[] = "Li.Na@Example.CN", bad1[] = "no-at-sign", bad2[] = "a@b",
	     bad3[] = "a b@c.d", bad4[] = "a@@b.c";
	assert_int_equal(user_email_normalize(ok), 0);
	assert_string_equal(ok, "li.na@example.cn");
	assert_int_equal(user_email_normalize(bad1), -1);
	assert_int_equal(user_email_normalize(bad2), -1);
	assert_int_equal(user_email_normalize(bad3), -1);
	assert_int_equal(user_email_normalize(bad4), -1);
}

static void passwords(void **state)
{
	(void)state;
	char hash[AUTH_HASH_LEN];
	struct err e = {0};
	assert_int_equal(auth_password_hash("short", hash, &e), -1);
	assert_string_equal(e.code, "weak_password");
	assert_int_equal(auth_password_hash("correct horse", hash, &e), 0);
	assert_true(strncmp(hash, "$argon2id$", 10) == 0);
	assert_true(auth_password_verify(hash, "correct horse"));
	assert_false(auth_password_verify(hash, "correct horsE"));
	assert_false(auth_password_verify(NULL, "x"));
}

static void login_lockout(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t acct = make_account(db, "lock");
	struct scope s = {db, acct};
	int64_t rid, uid;
	role_find(&s, "agent", &rid, &e);
	struct user_input in = {.email = "a@lock.example", .name = "A",
				.password = "right-password", .role_id = rid, .active = 1};
	assert_int_equal(user_create(&s, &in, &uid, &e), 0);
	struct auth_policy pol = {.session_ttl_ms = 60000, .max_failures = 2,
				  .lockout_ms = 60000};
	struct auth_login_in li = {.email = "A@lock.example", .password = "wrong-1"};
	struct auth_login_out lo;
	assert_int_equal(auth_login(db, &pol, &li, &lo, &e), -1);
	assert_int_equal(e.status, 401);
	li.password = "wrong-2";
	assert_int_equal(auth_login(db, &pol, &li, &lo, &e), -1);
	assert_int_equal(e.status, 429);
	assert_true(lo.retry_after_s > 0);
	li.password = "right-password";
	assert_int_equal(auth_login(db, &pol, &li, &lo, &e), -1);
	assert_int_equal(e.status, 429);

	struct user_input unlock = {.active = -1, .unlock = 1};
	assert_int_equal(db_begin(db, &e), 0);
	assert_int_equal(user_update(&s, uid, &unlock, &e), 0);
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(auth_login(db, &pol, &li, &lo, &e), 0);
	assert_int_equal(lo.who.user_id, uid);
	assert_int_equal(lo.who.account_id, acct);
	assert_true(strlen(lo.session) >= 40);

	struct principal who;
	assert_int_equal(auth_session(db, &pol, lo.session, &who, &e), 1);
	assert_int_equal(who.user_id, uid);
	assert_true(rbac_can(&who, PERM_TICKETS_READ));
	assert_false(rbac_can(&who, PERM_USERS_WRITE));
	assert_int_equal(auth_session(db, &pol, "not-a-session", &who, &e), 0);
}

static void audit_chain_detects_edits(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	int64_t acct = make_account(db, "chain");
	struct scope s = {db, acct};
	json_t *d = json_pack("{ss}", "k", "v");
	assert_int_equal(audit_record(&s, &actor, "x.outside", "x", 1, d, &e), -1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(db_begin(db, &e), 0);
		assert_int_equal(audit_record(&s, &actor, "x.write", "x", i, d, &e), 0);
		assert_int_equal(db_commit(db, &e), 0);
	}
	json_decref(d);
	FILE *out = fopen("/dev/null", "w");
	assert_int_equal(audit_verify(db, out, &e), 0);
	assert_true(db_exec(db, "UPDATE audit_log SET target_id = 99 WHERE action = 'x.write' "
				"AND target_id = 1", NULL, 0, &e) == 1);
	assert_int_equal(audit_verify(db, out, &e), 1);
	fclose(out);
}

int main(void)
{
	if (token_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(account_has_roles_and_chain, setup, teardown),
		cmocka_unit_test(email_rules),
		cmocka_unit_test(passwords),
		cmocka_unit_test_setup_teardown(login_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_chain_detects_edits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
