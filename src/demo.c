/*
 * demo.c -- `kefu demo`: a demo account to explore Kefu with.
 *
 * Idempotent: run again, it resets the demo users' passwords (and unlocks
 * them) so the logins it prints always work.  Prints one line per login:
 * "login: EMAIL PASSWORD ROLE".
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/account.h"
#include "core/channel.h"
#include "core/role.h"
#include "core/team.h"
#include "core/user.h"
#include "demo_data.h"

struct demo_user {
	const char *email, *name, *password, *role;
	const char *teams[3];
};

static const char *const demo_teams[][2] = {
	{"售前", "Pre-sales: product questions, quotes, orders"},
	{"售后", "After-sales: delivery, returns, refunds, warranty"},
	{"技术支持", "Technical support: installation, faults, integrations"},
};

static const struct demo_user demo_users[] = {
	{"admin@demo.kefu.local", "系统管理员 Admin", "kefu-admin-2026", "admin", {NULL}},
	{"supervisor@demo.kefu.local", "张主管 Zhang Wei", "kefu-super-2026", "supervisor",
	 {"售前", "售后", "技术支持"}},
	{"agent@demo.kefu.local", "李娜 Li Na", "kefu-agent-2026", "agent", {"售后", NULL}},
	{"wang.fang@demo.kefu.local", "王芳 Wang Fang", "kefu-agent-2026", "agent",
	 {"售前", NULL}},
	{"emily.chen@demo.kefu.local", "Emily Chen", "kefu-agent-2026", "agent",
	 {"技术支持", "售后", NULL}},
};

static int ensure_account(struct db *db, int64_t *id, struct err *e)
{
	int found = account_find(db, DEMO_SLUG, id, e);
	if (found != 0)
		return found < 0 ? -1 : 0;
	return account_create(db, &cli_actor, "演示公司 Demo Co.", DEMO_SLUG, id, e);
}

static int ensure_team(const struct scope *s, const char *name, const char *desc,
		       struct err *e)
{
	int64_t id;
	int found = db_sq_int(s, "SELECT id FROM teams WHERE account_id = $1 AND name = $2",
			      DB_ARGS(DB_TEXT(name)), &id, e);
	if (found != 0)
		return found < 0 ? -1 : 0;
	if (team_create(s, name, desc, &id, e) < 0)
		return -1;
	json_t *d = json_pack("{ss}", "name", name);
	int rc = audit_record(s, &cli_actor, "team.create", "team", id, d, e);
	json_decref(d);
	return rc;
}

/* Creates the user, or resets its password and lockout. */
static int ensure_user(const struct scope *s, const struct demo_user *u,
		       struct err *e)
{
	int64_t id, role_id, team_id;
	if (role_find(s, u->role, &role_id, e) <= 0)
		return -1;
	struct user_input in = {.email = u->email, .name = u->name,
				.password = u->password, .role_id = role_id,
				.active = 1, .unlock = 1};
	int found = db_sq_int(s, "SELECT id FROM users WHERE account_id = $1 AND email = $2",
			      DB_ARGS(DB_TEXT(u->email)), &id, e);
	if (found < 0)
		return -1;
	int rc = found ? user_update(s, id, &in, e) : user_create(s, &in, &id, e);
	if (rc < 0)
		return -1;
	json_t *d = json_pack("{ss}", "email", u->email);
	rc = audit_record(s, &cli_actor, found ? "user.update" : "user.create", "user",
			  id, d, e);
	json_decref(d);
	for (int i = 0; rc == 0 && i < 3 && u->teams[i]; i++) {
		if (db_sq_int(s, "SELECT id FROM teams WHERE account_id = $1 AND name = $2",
			      DB_ARGS(DB_TEXT(u->teams[i])), &team_id, e) <= 0 ||
		    team_member_add(s, team_id, id, e) < 0)
			rc = -1;
	}
	return rc;
}

/* The website chat channel the demo page's widget talks to; its public
 * key into key. */
static int ensure_web_channel(const struct scope *s, char *key, size_t n, struct err *e)
{
	static const char *const cfg =
		"{\"color\":\"#1677ff\",\"greeting\":{\"zh-CN\":\"您好！请问有什么可以帮您？\","
		"\"zh-TW\":\"您好！請問有什麼可以幫您？\",\"en\":\"Hi! How can we help you today?\"},"
		"\"prechat\":[{\"name\":\"name\",\"type\":\"text\",\"required\":false,"
		"\"label\":{\"zh-CN\":\"您的称呼\",\"zh-TW\":\"您的稱呼\",\"en\":\"Your name\"}},"
		"{\"name\":\"email\",\"type\":\"email\",\"required\":false,"
		"\"label\":{\"zh-CN\":\"邮箱（离线时回复到这里）\",\"zh-TW\":\"電郵（離線時回覆到這裡）\","
		"\"en\":\"Email (for replies while we are away)\"}}]}";
	int64_t id;
	int found = db_sq_int(s, "SELECT id FROM channels WHERE account_id = $1 AND type = 'web' "
				 "ORDER BY id LIMIT 1", DB_NOARGS, &id, e);
	if (found < 0)
		return -1;
	if (!found) {
		json_t *c = json_loads(cfg, 0, NULL);
		char token[CHANNEL_TOKEN_LEN];
		int rc = channel_create(s, "web", "网站在线咨询", c, &id, token, e);
		json_decref(c);
		if (rc < 0)
			return -1;
	}
	struct db_res *res;
	if (db_sq(s, "SELECT public_key FROM channels WHERE account_id = $1 AND id = $2",
		  DB_ARGS(DB_INT(id)), &res, e) < 0)
		return -1;
	if (db_res_next(res))
		snprintf(key, n, "%s", db_res_text(res, 0));
	db_res_free(res);
	return 0;
}

static int fill(struct db *db, int64_t account_id, const struct demo_size *size,
		char *key, size_t keylen, struct err *e)
{
	struct scope s = {db, account_id};
	for (size_t i = 0; i < sizeof demo_teams / sizeof *demo_teams; i++)
		if (ensure_team(&s, demo_teams[i][0], demo_teams[i][1], e) < 0)
			return -1;
	for (size_t i = 0; i < sizeof demo_users / sizeof *demo_users; i++)
		if (ensure_user(&s, &demo_users[i], e) < 0)
			return -1;
	if (ensure_web_channel(&s, key, keylen, e) < 0)
		return -1;
	return demo_data_fill(&s, size, e) < 0 ? -1 : 0;
}

int demo_setup(struct db *db, const struct demo_size *size, int64_t *account_id,
	       char *key, size_t keylen, struct err *e)
{
	int rc = ensure_account(db, account_id, e);
	if (rc == 0 && (rc = db_begin(db, e)) == 0) {
		rc = fill(db, *account_id, size, key, keylen, e);
		if (rc < 0)
			db_rollback(db);
		else
			rc = db_commit(db, e);
	}
	return rc;
}

int cli_demo(const struct config *cfg, const struct demo_size *size)
{
	if (cli_domain_init() < 0)
		return 1;
	struct db *db = cli_open_db(cfg);
	if (!db)
		return 1;
	int64_t account_id;
	struct err e = {0};
	char key[64] = "";
	int rc = demo_setup(db, size, &account_id, key, sizeof key, &e);
	db_close(db);
	if (rc < 0) {
		fprintf(stderr, "kefu: demo: %s\n", e.msg);
		return 1;
	}
	printf("demo account: %s\n", DEMO_SLUG);
	for (size_t i = 0; i < sizeof demo_users / sizeof *demo_users; i++)
		printf("login: %s %s %s\n", demo_users[i].email, demo_users[i].password,
		       demo_users[i].role);
	printf("chat widget key: %s\n", key);
	return 0;
}
