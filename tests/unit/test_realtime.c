/*
 * test_realtime.c -- the pieces of real time that need no server: event ids
 * taken at commit (contiguous, nothing from a rolled-back savepoint), who
 * may see an event, the commands a WebSocket client may send, and the
 * in-app identity signature of the chat widget.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/hub.h"
#include "core/account.h"
#include "core/chat.h"
#include "core/events.h"
#include "tempdb.h"

static int woken;

static void wake(const int64_t *accounts, int n)
{
	(void)accounts;
	woken += n;
}

static int setup(void **state)
{
	*state = tempdb_open("rt");
	events_install(wake);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	tempdb_close(*state);
	events_install(NULL);
	return 0;
}

static void add(const struct scope *s, const char *type)
{
	struct err e = {0};
	struct event_target t = {.audience = EV_STAFF};
	json_t *d = json_pack("{ss}", "what", type);
	assert_int_equal(events_add(s, type, &t, d, &e), 0);
	json_decref(d);
}

static void ids_follow_commits(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	static const struct audit_actor actor = {"system", 0, "test", "", ""};
	int64_t acct = 0;
	assert_int_equal(account_create(db, &actor, "RT", "rt", &acct, &e), 0);
	struct scope s = {db, acct};
	json_t *none = json_object();
	assert_int_equal(events_add(&s, "x", &(struct event_target){.audience = EV_STAFF},
				    none, &e), -1); /* outside a transaction */
	json_decref(none);
	woken = 0;
	assert_int_equal(db_begin(db, &e), 0);
	add(&s, "one");
	assert_int_equal(db_begin(db, &e), 0); /* a savepoint that is undone */
	add(&s, "undone");
	db_rollback(db);
	add(&s, "two");
	assert_int_equal(db_commit(db, &e), 0);
	assert_int_equal(woken, 1);
	assert_int_equal(db_begin(db, &e), 0);
	add(&s, "rolled back");
	db_rollback(db);
	assert_int_equal(db_begin(db, &e), 0);
	add(&s, "three");
	assert_int_equal(db_commit(db, &e), 0);

	struct event_row *rows;
	int n;
	assert_int_equal(events_read(db, acct, 0, 10, &rows, &n, &e), 0);
	assert_int_equal(n, 3);
	const char *want[] = {"one", "two", "three"};
	for (int i = 0; i < n; i++) {
		assert_int_equal(rows[i].seq, i + 1);
		char frag[32];
		snprintf(frag, sizeof frag, "{\"what\":\"%s\"}", want[i]);
		assert_non_null(strstr(rows[i].frame, frag));
	}
	events_rows_free(rows, n);
	assert_int_equal(events_read(db, acct, 2, 10, &rows, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].seq, 3);
	events_rows_free(rows, n);
	int64_t oldest;
	assert_int_equal(events_oldest(db, acct, &oldest, &e), 0);
	assert_int_equal(oldest, 1);
}

static void who_sees_what(void **state)
{
	(void)state;
	int64_t teams[] = {7, 9};
	struct event_viewer all = {.user_id = 1, .scope = SCOPE_ALL};
	struct event_viewer team = {.user_id = 2, .scope = SCOPE_TEAM, .teams = teams, .nteams = 2};
	struct event_viewer own = {.user_id = 3, .scope = SCOPE_OWN};
	struct event_viewer cust = {.customer = 1, .customer_id = 50};
	struct event_target presence = {.audience = EV_STAFF};
	struct event_target other_team = {.audience = EV_STAFF, .ticket_id = 1, .team_id = 8};
	struct event_target moved_away = {.audience = EV_STAFF, .ticket_id = 1, .team_id = 8,
					  .prev_team_id = 9};
	struct event_target mine = {.audience = EV_STAFF, .ticket_id = 1, .team_id = 8,
				    .assignee_id = 3};
	struct event_target to_cust = {.audience = EV_CUSTOMER, .ticket_id = 1, .customer_id = 50};
	struct event_target to_other = {.audience = EV_CUSTOMER, .ticket_id = 2, .customer_id = 51};
	assert_true(events_visible(&all, &other_team));
	assert_true(events_visible(&team, &presence));
	assert_false(events_visible(&team, &other_team));
	assert_true(events_visible(&team, &moved_away));
	assert_false(events_visible(&own, &other_team));
	assert_true(events_visible(&own, &mine));
	assert_false(events_visible(&all, &to_cust));
	assert_true(events_visible(&cust, &to_cust));
	assert_false(events_visible(&cust, &to_other));
	assert_false(events_visible(&cust, &presence));
}

static void commands(void **state)
{
	(void)state;
	struct hub_cmd c;
	char err[160];
	static const struct {
		const char *msg;
		int customer, ok, type;
	} cases[] = {
		{"{\"type\":\"ping\"}", 0, 1, CMD_PING},
		{"{\"type\":\"typing\",\"ticket_id\":5,\"typing\":false}", 0, 1, CMD_TYPING},
		{"{\"type\":\"typing\",\"typing\":true}", 1, 1, CMD_TYPING},
		{"{\"type\":\"typing\",\"typing\":true}", 0, 0, 0},   /* staff: ticket_id */
		{"{\"type\":\"viewing\",\"ticket_id\":5}", 0, 1, CMD_VIEWING},
		{"{\"type\":\"viewing\",\"ticket_id\":5}", 1, 0, 0},  /* not for customers */
		{"{\"type\":\"read\",\"ticket_id\":5,\"message_id\":9}", 0, 1, CMD_READ},
		{"{\"type\":\"read\",\"message_id\":0}", 1, 0, 0},
		{"{\"type\":\"presence\",\"status\":\"away\"}", 0, 1, CMD_PRESENCE},
		{"{\"type\":\"presence\",\"status\":\"asleep\"}", 0, 0, 0},
		{"{\"type\":\"typing\",\"ticket_id\":\"5\"}", 0, 0, 0},
		{"{\"type\":\"typing\",\"ticket_id\":5,\"typing\":1}", 0, 0, 0},
		{"{\"type\":\"ping\",\"type\":\"ping\"}", 0, 0, 0},  /* duplicate keys */
		{"[1,2]", 0, 0, 0},
		{"{\"type\":7}", 0, 0, 0},
		{"{\"type\":\"fly\"}", 0, 0, 0},
		{"not json", 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		int rc = hub_cmd_parse(cases[i].msg, strlen(cases[i].msg), cases[i].customer, &c,
				       err, sizeof err);
		if (cases[i].ok) {
			assert_int_equal(rc, 0);
			assert_int_equal(c.type, cases[i].type);
		} else {
			assert_int_equal(rc, -1);
			assert_true(err[0] != '\0');
		}
	}
	const char *read = "{\"type\":\"read\",\"ticket_id\":5,\"message_id\":9}";
	assert_int_equal(hub_cmd_parse(read, strlen(read), 0, &c, err, sizeof err), 0);
	assert_int_equal(c.ticket_id, 5);
	assert_int_equal(c.message_id, 9);
}

static void identity_signature(void **state)
{
	(void)state;
	struct err e = {0};
	/* computed independently: HMAC-SHA256("s3cret-key",
	 * "u-42\n张三\nzhang@example.cn\n1800000000") with Node's crypto */
	struct chat_identity id = {"u-42", "张三", "zhang@example.cn",
		"b5b1cd6482660955e6bf646d2073fa4db65510c9a234208b90e2f539d1379760", 1800000000};
	assert_int_equal(chat_identity_check("s3cret-key", &id, 1800000000, &e), 0);
	assert_int_equal(chat_identity_check("s3cret-key", &id, 1800000000 + 3600, &e), 0);
	assert_int_equal(chat_identity_check("s3cret-key", &id, 1800000000 + 2 * 86400, &e), -1);
	assert_int_equal(e.status, 401);
	assert_int_equal(chat_identity_check("other-key", &id, 1800000000, &e), -1);
	id.email = "li@example.cn";
	assert_int_equal(chat_identity_check("s3cret-key", &id, 1800000000, &e), -1);
	id.email = "zhang@example.cn";
	id.name = "张\n三";
	assert_int_equal(chat_identity_check("s3cret-key", &id, 1800000000, &e), -1);
	assert_int_equal(e.status, 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ids_follow_commits, setup, teardown),
		cmocka_unit_test(who_sees_what),
		cmocka_unit_test(commands),
		cmocka_unit_test(identity_signature),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
