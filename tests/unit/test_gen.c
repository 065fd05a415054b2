/*
 * test_gen.c -- `kefu gen` without the command line: its plans keep the
 * promises gen_plan.h makes (order, times, who spoke last), and the
 * search rows it writes are exactly what ticket_search_index computes
 * from the stored ticket.  tests/api/gen.test.js covers the command on
 * both engines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/account.h"
#include "core/ticket_search.h"
#include "gen.h"
#include "gen_plan.h"
#include "tempdb.h"
#include "text/tokenize.h"
#include "util/buf.h"
#include "util/token.h"

#define NOW 1790000000000LL /* a fixed end of the year */
#define DAY 86400000LL

static struct gen_ticket_ctx *context(int64_t tickets, int64_t customers, int messages)
{
	struct gen_ticket_ctx *c = calloc(1, sizeof *c);
	uint8_t *en = calloc((size_t)customers, 1);
	for (int64_t i = 0; i < customers; i++)
		en[i] = i % 4 == 0;
	*c = (struct gen_ticket_ctx){.now = NOW, .ntickets = tickets, .ncustomers = customers,
				     .customer_en = en, .messages = messages};
	gen_plan_start(c);
	return c;
}

static void context_free(struct gen_ticket_ctx *c)
{
	free((void *)c->customer_en);
	free(c);
}

/* Who spoke last in public: open tickets wait for the agent, pending and
 * solved ones for the customer. */
static enum gen_author last_public(const struct gen_ticket *t)
{
	for (int i = t->nmsg - 1; i >= 0; i--)
		if (t->msg[i].who != GEN_NOTE)
			return t->msg[i].who;
	return GEN_NOTE;
}

static void check_ticket(const struct gen_ticket *t, int64_t prev_created)
{
	assert_true(t->created >= prev_created);
	assert_true(t->created > NOW - 366 * DAY && t->updated <= NOW);
	assert_true(t->nmsg >= 1 && t->nmsg <= GEN_MSG_SLOTS);
	assert_int_equal(t->msg[0].who, GEN_CUSTOMER);
	assert_ptr_equal(t->msg[0].text, t->first);
	for (int i = 1; i < t->nmsg; i++)
		assert_true(t->msg[i].at >= t->msg[i - 1].at);
	const char *s = t->status;
	if (!strcmp(s, "new")) {
		assert_int_equal(t->nmsg, 1);
		assert_false(t->assigned);
		assert_int_equal(t->opened, 0);
	} else if (!strcmp(s, "open")) {
		assert_int_equal(last_public(t), GEN_CUSTOMER);
	} else {
		assert_int_equal(last_public(t), GEN_AGENT);
		assert_true(t->first_response > 0);
	}
	if (!strcmp(s, "resolved"))
		assert_true(t->resolved >= t->last_message);
	if (!strcmp(s, "closed"))
		assert_true(t->closed >= t->last_message && (!t->resolved || t->closed >= t->resolved));
	if (t->rating)
		assert_true(t->rating >= 1 && t->rating <= 5 && !strcmp(t->origin, "web"));
}

static void plans_keep_their_promises(void **state)
{
	(void)state;
	struct gen_ticket_ctx *c = context(20000, 2000, 5);
	struct gen_ticket *t = malloc(sizeof *t);
	struct gen_rng r;
	gen_rng_seed(&r, 1);
	int64_t prev = 0, messages = 0, solved = 0;
	for (int64_t i = 0; i < c->ntickets; i++) {
		gen_plan_ticket(&r, c, i, t);
		check_ticket(t, prev);
		prev = t->created;
		messages += t->nmsg;
		solved += !strcmp(t->status, "resolved") || !strcmp(t->status, "closed");
	}
	/* about --messages a ticket (notes on top), most of a year solved */
	assert_true(messages > 4 * c->ntickets && messages < 6 * c->ntickets);
	assert_true(solved > c->ntickets * 9 / 10);
	free(t);
	context_free(c);
}

static void same_seed_same_plans(void **state)
{
	(void)state;
	struct gen_ticket_ctx *c = context(500, 50, 3);
	struct gen_ticket *a = malloc(sizeof *a), *b = malloc(sizeof *b);
	struct gen_rng ra, rb, rc;
	gen_rng_seed(&ra, 42);
	gen_rng_seed(&rb, 42);
	gen_rng_seed(&rc, 43);
	int differ = 0;
	for (int64_t i = 0; i < c->ntickets; i++) {
		gen_plan_ticket(&ra, c, i, a);
		gen_plan_ticket(&rb, c, i, b);
		assert_string_equal(a->first, b->first);
		assert_int_equal(a->created, b->created);
		assert_int_equal(a->nmsg, b->nmsg);
		gen_plan_ticket(&rc, c, i, b);
		differ += strcmp(a->first, b->first) != 0;
	}
	assert_true(differ > 400);
	free(a);
	free(b);
	context_free(c);
}

static void search_rows_match_the_index(void **state)
{
	struct db *db = *state;
	struct err e = {0};
	struct audit_actor actor = {"system", 0, "test", "", ""};
	int64_t account;
	assert_int_equal(account_create(db, &actor, "Gen", "gen", &account, &e), 0);
	struct gen_opts o = {.customers = 30, .tickets = 300, .messages = 4, .seed = 5, .now = NOW};
	struct gen_stats st;
	assert_int_equal(gen_run(db, account, &o, &st, &e), 0);
	assert_int_equal(st.tickets, 300);
	struct scope s = {db, account};
	struct db_res *res = NULL;
	assert_int_equal(db_sq(&s, "SELECT rowid, terms FROM ticket_fts WHERE account_id = $1 "
				  "ORDER BY rowid", DB_NOARGS, &res, &e), 0);
	int64_t ids[300];
	char *written[300];
	int n = 0;
	while (n < 300 && db_res_next(res)) {
		ids[n] = db_res_int(res, 0);
		written[n++] = strdup(db_res_text(res, 1));
	}
	db_res_free(res);
	assert_int_equal(n, 300);
	for (int i = 0; i < n; i++) {
		/* what the product writes when a ticket changes */
		assert_int_equal(ticket_search_index(&s, ids[i], &e), 0);
		int64_t same;
		assert_int_equal(db_sq_int(&s, "SELECT COUNT(*) FROM ticket_fts WHERE account_id = $1 "
					      "AND rowid = $2 AND terms = $3",
					   DB_ARGS(DB_INT(ids[i]), DB_TEXT(written[i])), &same, &e), 1);
		assert_int_equal(same, 1);
		free(written[i]);
	}
}

static int setup(void **state)
{
	*state = tempdb_open("gen");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	tempdb_close(*state);
	return 0;
}

int main(void)
{
	struct err e = {0};
	if (token_init() < 0 || text_init(&e) < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plans_keep_their_promises),
		cmocka_unit_test(same_seed_same_plans),
		cmocka_unit_test_setup_teardown(search_rows_match_the_index, setup, teardown),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	text_shutdown();
	return rc;
}
