/* demo_data.c -- see demo_data.h. */
#include "demo_data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/customer.h"
#include "core/message.h"
#include "core/ticket.h"
#include "core/ticket_search.h"
#include "demo_vocab.h"
#include "util/clock.h"

/* xorshift: the same demo every time, no dependence on libc's rand(). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}
#define PICK(arr) (arr[rnd(sizeof arr / sizeof *arr)])
#define PICK_V(voc) ((voc).v[rnd((uint32_t)(voc).n)])

static const char *const origins[] = {"email", "email", "chat", "chat", "chat", "phone",
	"wechat", "wechat", "weibo", "api", "sms"};
static const char *const priorities[] = {"low", "normal", "normal", "normal", "high", "urgent"};
static const char *const statuses[] = {"new", "open", "open", "pending", "resolved",
	"resolved", "closed", "closed", "closed"};

static int make_customers(const struct scope *s, int n, int64_t *ids, struct err *e)
{
	for (int i = 0; i < n; i++) {
		char name[64], email[96], phone[24];
		int english = rnd(4) == 0;
		if (english)
			snprintf(name, sizeof name, "%s %s", PICK_V(vocab_first_en), PICK_V(vocab_last_en));
		else
			snprintf(name, sizeof name, "%s%s", PICK_V(vocab_surnames), PICK_V(vocab_given));
		snprintf(email, sizeof email, "customer%04d@%s", i,
			 english ? "example.com" : "example.cn");
		snprintf(phone, sizeof phone, "+86138%08u", 10000000u + (unsigned)i * 7919u % 89999999u);
		json_t *tags = json_array();
		if (rnd(10) == 0)
			json_array_append_new(tags, json_string("老客户"));
		struct customer_input in = {.name = name, .email = email,
					    .phone = rnd(3) ? phone : NULL,
					    .level = rnd(10) == 0 ? "vip" : "normal", .tags = tags};
		int rc = customer_create(s, &in, &ids[i], e);
		json_decref(tags);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* People to assign: the account's agents and supervisors. */
static int load_ids(const struct scope *s, const char *sql, int64_t *ids, int max,
		    struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, sql, DB_NOARGS, &res, e) < 0)
		return -1;
	int n = 0;
	while (res && db_res_next(res) && n < max)
		ids[n++] = db_res_int(res, 0);
	db_res_free(res);
	return n;
}

struct people {
	int64_t users[32], teams[16];
	int nusers, nteams;
};

static int add_conversation(const struct scope *s, const struct demo_topic *tp, int64_t id,
			    int64_t customer, int64_t agent, int replied, struct err *e)
{
	struct message_new m = {.ticket_id = id, .author_kind = "customer",
				.customer_id = customer, .text = tp->first};
	int64_t mid;
	if (message_add(s, &m, &mid, e) < 0)
		return -1;
	if (replied && agent) {
		struct message_new r = {.ticket_id = id, .author_kind = "agent",
					.author_user_id = agent, .text = tp->reply};
		if (message_add(s, &r, &mid, e) < 0)
			return -1;
	}
	return ticket_search_index(s, id, e);
}

/* Dates spread over 90 days so charts and SLA views look lived-in. */
static int backdate(const struct scope *s, int64_t id, const char *category, int replied,
		    struct err *e)
{
	int64_t created = clock_now_ms() - (int64_t)rnd(90 * 24) * 3600000 - rnd(3600000);
	int64_t answer = created + 60000 + (int64_t)rnd(8 * 3600) * 1000;
	int64_t done = answer + (int64_t)rnd(48 * 3600) * 1000;
	int solved = !strcmp(category, "resolved") || !strcmp(category, "closed");
	if (db_sexec(s,
		"UPDATE tickets SET created_at = $3, updated_at = $4, last_message_at = $4, "
		"last_customer_message_at = $3, first_response_at = $5, resolved_at = $6, "
		"closed_at = $7 WHERE account_id = $1 AND id = $2",
		DB_ARGS(DB_INT(id), DB_INT(created), DB_INT(solved ? done : answer),
			replied ? DB_INT(answer) : DB_NULLV, solved ? DB_INT(done) : DB_NULLV,
			!strcmp(category, "closed") ? DB_INT(done) : DB_NULLV), e) < 0)
		return -1;
	return db_sexec(s, "UPDATE messages SET created_at = $3 + (id % 7) * 60000 "
			   "WHERE account_id = $1 AND ticket_id = $2",
			DB_ARGS(DB_INT(id), DB_INT(created)), e) < 0 ? -1 : 0;
}

static int make_ticket(const struct scope *s, const struct people *p, int64_t customer,
		       struct err *e)
{
	const struct demo_topic *tp = &demo_topics[rnd((uint32_t)demo_ntopics)];
	const char *status = PICK(statuses);
	int64_t agent = p->nusers && rnd(5) ? p->users[rnd((uint32_t)p->nusers)] : 0;
	if (!strcmp(status, "new"))
		agent = 0;
	json_t *tags = json_pack("[s]", tp->tag);
	struct audit_actor who = {"system", 0, "demo", "", ""};
	struct ticket_actor a = {who, NULL};
	struct ticket_new t = {
		.subject = tp->subject, .customer_id = customer, .status = status,
		.priority = PICK(priorities), .category = tp->category, .tags = tags,
		.team_id = p->nteams ? p->teams[rnd((uint32_t)p->nteams)] : 0,
		.assignee_id = agent, .origin = PICK(origins),
	};
	int64_t id;
	int replied = strcmp(status, "new") != 0;
	int rc = ticket_create(s, &a, &t, &id, e) < 0 ||
		 add_conversation(s, tp, id, customer, agent, replied, e) < 0 ||
		 backdate(s, id, status, replied, e) < 0 ? -1 : 0;
	json_decref(tags);
	return rc;
}

int demo_data_fill(const struct scope *s, const struct demo_size *size,
		   struct err *e)
{
	int64_t existing = 0;
	if (db_sq_int(s, "SELECT COUNT(*) FROM tickets WHERE account_id = $1", DB_NOARGS,
		      &existing, e) < 0)
		return -1;
	if (existing > 0)
		return 0;
	struct people p;
	p.nusers = load_ids(s, "SELECT u.id FROM users u JOIN roles r ON r.id = u.role_id "
			       "WHERE u.account_id = $1 AND r.name IN ('agent', 'supervisor') "
			       "ORDER BY u.id", p.users, 32, e);
	p.nteams = load_ids(s, "SELECT id FROM teams WHERE account_id = $1 ORDER BY id",
			    p.teams, 16, e);
	if (p.nusers < 0 || p.nteams < 0)
		return -1;
	int64_t *customers = xcalloc((size_t)size->customers, sizeof *customers);
	int rc = make_customers(s, size->customers, customers, e);
	for (int i = 0; rc == 0 && i < size->tickets; i++)
		rc = make_ticket(s, &p, customers[rnd((uint32_t)size->customers)], e);
	free(customers);
	return rc < 0 ? -1 : size->tickets;
}
