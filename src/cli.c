/* cli.c -- command dispatch and the small administrative commands (cli.h). */
#include "cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channels/channels.h"
#include "core/account.h"
#include "core/events.h"
#include "core/mail_in.h"
#include "core/role.h"
#include "core/secret.h"
#include "core/user.h"
#include "demo_data.h"
#include "gen.h"
#include "gen_plan.h"
#include "util/buf.h"
#include "util/log.h"
#include "text/tokenize.h"
#include "util/token.h"

const struct audit_actor cli_actor = {"system", 0, "cli", "", ""};

/* Remove "--name value" or "--name=value" from argv; returns the value
 * (pointing into argv) or NULL. */
static const char *take_opt(int *argc, char **argv, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < *argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, name, n) != 0)
			continue;
		int width;
		const char *value;
		if (a[2 + n] == '=') {
			value = a + 3 + n, width = 1;
		} else if (a[2 + n] == '\0' && i + 1 < *argc) {
			value = argv[i + 1], width = 2;
		} else {
			continue;
		}
		memmove(&argv[i], &argv[i + width], (size_t)(*argc - i - width) * sizeof *argv);
		*argc -= width;
		return value;
	}
	return NULL;
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0750) < 0 && errno != EEXIST ? -1 : 0;
}

int cli_domain_init(void)
{
	struct err e = {0};
	channels_register_all();
	events_install(NULL); /* number events at commit; the hub replaces it */
	if (text_init(&e) < 0) {
		fprintf(stderr, "kefu: search: %s\n", e.msg);
		return -1;
	}
	return 0;
}

struct db *cli_open_db(const struct config *cfg)
{
	if (mkdir_p(cfg->data) < 0) {
		fprintf(stderr, "kefu: cannot create data directory %s: %s\n", cfg->data,
			strerror(errno));
		return NULL;
	}
	secret_init(cfg->data); /* sealed channel passwords: <data>/secret.key */
	struct db *db = NULL;
	struct err e = {0};
	int applied;
	if (db_open(cfg->database, &db, &e) < 0 || (applied = db_migrate(db, &e)) < 0) {
		fprintf(stderr, "kefu: database: %s\n", e.msg);
		db_close(db);
		return NULL;
	}
	if (applied > 0)
		log_info("database: applied %d migration(s), schema version %d", applied,
			 db_migrations_latest());
	return db;
}

static int cmd_migrate(const struct config *cfg)
{
	struct db *db = cli_open_db(cfg);
	if (!db)
		return 1;
	printf("schema version %d\n", db_migrations_latest());
	db_close(db);
	return 0;
}

static int cmd_audit_verify(const struct config *cfg)
{
	struct db *db = cli_open_db(cfg);
	if (!db)
		return 1;
	struct err e = {0};
	int rc = audit_verify(db, stdout, &e);
	if (rc < 0)
		fprintf(stderr, "kefu: audit verify: %s\n", e.msg);
	else
		printf("audit log: %s\n", rc == 0 ? "intact" : "TAMPERED");
	db_close(db);
	return rc == 0 ? 0 : 1;
}

static int cmd_account_create(const struct config *cfg, const char *name,
			      const char *slug)
{
	if (!name || !slug) {
		fprintf(stderr, "usage: kefu account create --name NAME --slug SLUG\n");
		return 2;
	}
	struct db *db = cli_open_db(cfg);
	if (!db)
		return 1;
	int64_t id;
	struct err e = {0};
	int rc = account_create(db, &cli_actor, name, slug, &id, &e);
	if (rc < 0)
		fprintf(stderr, "kefu: %s\n", e.msg);
	else
		printf("account %lld created: %s\n", (long long)id, slug);
	db_close(db);
	return rc < 0 ? 1 : 0;
}

struct user_opts {
	const char *account, *email, *name, *role, *password;
};

static int create_user(struct db *db, const struct user_opts *o,
		       const char *password, int64_t *id, struct err *e)
{
	int64_t account_id, role_id;
	int found = account_find(db, o->account, &account_id, e);
	if (found <= 0) {
		if (found == 0)
			ERR_NOT_FOUND(e, "no account with slug '%s'", o->account);
		return -1;
	}
	struct scope s = {db, account_id};
	found = role_find(&s, o->role, &role_id, e);
	if (found <= 0) {
		if (found == 0)
			ERR_NOT_FOUND(e, "no role named '%s' in that account", o->role);
		return -1;
	}
	struct user_input in = {.email = o->email, .name = o->name,
				.password = password, .role_id = role_id, .active = 1};
	if (db_begin(db, e) < 0)
		return -1;
	json_t *d = json_pack("{ss ss}", "email", o->email, "role", o->role);
	int rc = user_create(&s, &in, id, e) < 0 ||
			 audit_record(&s, &cli_actor, "user.create", "user", *id, d, e) < 0
		 ? -1 : 0;
	json_decref(d);
	if (rc < 0) {
		db_rollback(db);
		return -1;
	}
	return db_commit(db, e);
}

static int cmd_user_create(const struct config *cfg, const struct user_opts *o)
{
	if (!o->account || !o->email || !o->name || !o->role) {
		fprintf(stderr, "usage: kefu user create --account SLUG --email EMAIL "
				"--name NAME --role ROLE [--password PASSWORD]\n");
		return 2;
	}
	char generated[32] = "";
	const char *password = o->password ? o->password : getenv("KEFU_PASSWORD");
	if (!password) {
		token_random(generated, sizeof generated, 12);
		password = generated;
	}
	struct db *db = cli_open_db(cfg);
	if (!db)
		return 1;
	int64_t id;
	struct err e = {0};
	int rc = create_user(db, o, password, &id, &e);
	if (rc < 0)
		fprintf(stderr, "kefu: %s\n", e.msg);
	else if (generated[0])
		printf("user %lld created: %s password %s\n", (long long)id, o->email, generated);
	else
		printf("user %lld created: %s\n", (long long)id, o->email);
	db_close(db);
	return rc < 0 ? 1 : 0;
}

/* ---- mail-in: one message from an MTA (exit codes of sysexits.h) ---- */

#define EX_OK_ 0
#define EX_USAGE_ 64
#define EX_DATAERR_ 65
#define EX_IOERR_ 74
#define EX_TEMPFAIL_ 75
#define MAIL_IN_MAX ((size_t)100 << 20)

/* All of stdin into b: 0, -1 read error, 1 longer than MAIL_IN_MAX. */
static int read_all(int fd, struct buf *b)
{
	for (;;) {
		buf_reserve(b, 65536);
		ssize_t n = read(fd, b->data + b->len, b->cap - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		b->len += (size_t)n;
		if (b->len > MAIL_IN_MAX)
			return 1;
	}
	if (b->data)
		b->data[b->len] = '\0';
	return 0;
}

static void mail_in_json(const struct mail_in_result *r)
{
	json_t *o = json_pack("{sI sI sI sI sb sb sb sb sb sb si}",
		"ticket_id", (json_int_t)r->in.ticket_id,
		"ticket_number", (json_int_t)r->in.ticket_number,
		"message_id", (json_int_t)r->in.message_id,
		"customer_id", (json_int_t)r->in.customer_id,
		"duplicate", r->in.duplicate, "new_ticket", r->in.new_ticket,
		"auto_reply", r->auto_reply, "bulk", r->bulk, "dsn", r->dsn,
		"flooded", r->flooded, "attachments", r->attachments);
	if (r->bounced_id)
		json_object_set_new(o, "bounced_message_id", json_integer(r->bounced_id));
	char *s = json_dumps(o, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(o);
}

static int cmd_mail_in(const struct config *cfg, const char *channel, int as_json)
{
	char *end = NULL;
	long long channel_id = channel ? strtoll(channel, &end, 10) : 0;
	if (!channel || *end || channel_id <= 0) {
		fprintf(stderr, "usage: kefu mail-in --channel ID [--json] < message.eml\n");
		return EX_USAGE_;
	}
	struct buf raw = BUF_INIT;
	int rd = read_all(0, &raw);
	if (rd != 0) {
		fprintf(stderr, "kefu: mail-in: %s\n",
			rd < 0 ? strerror(errno) : "message larger than 100 MiB");
		buf_free(&raw);
		return rd < 0 ? EX_IOERR_ : EX_DATAERR_;
	}
	if (cli_domain_init() < 0) {
		buf_free(&raw);
		return EX_TEMPFAIL_;
	}
	struct db *db = cli_open_db(cfg);
	if (!db) {
		buf_free(&raw);
		return EX_TEMPFAIL_;
	}
	struct err e = {0};
	struct mail_in_result r;
	int64_t account_id = 0;
	int found = mail_channel_find(db, channel_id, &account_id, &e);
	int rc = EX_OK_;
	if (found <= 0) {
		if (found == 0)
			fprintf(stderr, "kefu: mail-in: no active e-mail channel %lld\n", channel_id);
		else
			fprintf(stderr, "kefu: mail-in: database: %s\n", e.msg);
		rc = found == 0 ? EX_DATAERR_ : EX_TEMPFAIL_;
	} else {
		struct buf root = BUF_INIT;
		buf_printf(&root, "%s/blobs", cfg->data);
		if (mail_ingest(db, account_id, channel_id, root.data, raw.data ? raw.data : "",
				raw.len, &r, &e) < 0) {
			fprintf(stderr, "kefu: mail-in: %s\n", e.msg);
			/* Refused for what the message is: bounce it.  Anything
			 * else (storage, busy, a bug): let the MTA try again. */
			rc = e.status == 400 || e.status == 404 || e.status == 413 ||
					     e.status == 415 || e.status == 422
				     ? EX_DATAERR_ : EX_TEMPFAIL_;
		} else if (as_json) {
			mail_in_json(&r);
		} else {
			printf("%lld\n", (long long)r.in.ticket_id);
		}
		buf_free(&root);
	}
	db_close(db);
	buf_free(&raw);
	text_shutdown();
	return rc;
}

/* Loads the settings from what remains of argv after the command's own
 * options; anything left over is a usage error. */
static int load(struct config *cfg, int argc, char **argv)
{
	char *rest[64];
	int nrest = 0;
	struct err e = {0};
	if (argc > 64 || config_load(cfg, argc, argv, rest, &nrest, &e) < 0) {
		fprintf(stderr, "kefu: %s\n", argc > 64 ? "too many arguments" : e.msg);
		config_free(cfg);
		return -1;
	}
	if (nrest > 0) {
		fprintf(stderr, "kefu: unexpected argument '%s' (see kefu help)\n", rest[0]);
		config_free(cfg);
		return -1;
	}
	enum log_level lvl;
	if (log_level_parse(cfg->log_level, &lvl) < 0) {
		fprintf(stderr, "kefu: log-level must be debug, info, warn or error\n");
		config_free(cfg);
		return -1;
	}
	log_set_level(lvl);
	return 0;
}

/* A whole number in [lo, hi] from an option's value (absent: dflt); -1 with
 * a message when it is not one. */
static int opt_num(const char *name, const char *v, long long lo, long long hi,
		   long long dflt, long long *out)
{
	char *end = NULL;
	*out = v ? strtoll(v, &end, 10) : dflt;
	if (v && (!*v || *end || *out < lo || *out > hi)) {
		fprintf(stderr, "kefu: --%s must be a whole number from %lld to %lld\n", name,
			lo, hi);
		return -1;
	}
	return 0;
}

/* kefu gen's options into o; 0, or -1 with a message. */
static int gen_options(int *argc, char **argv, const char **account, struct gen_opts *o)
{
	long long c, t, m, seed, now;
	*account = take_opt(argc, argv, "account");
	if (!*account)
		*account = "demo";
	if (opt_num("customers", take_opt(argc, argv, "customers"), 0, 100000000, 10000, &c) < 0 ||
	    opt_num("tickets", take_opt(argc, argv, "tickets"), 0, 1000000000, 100000, &t) < 0 ||
	    opt_num("messages", take_opt(argc, argv, "messages"), 1, GEN_MESSAGES_MAX, 5, &m) < 0 ||
	    opt_num("seed", take_opt(argc, argv, "seed"), 0, INT64_MAX, 42, &seed) < 0 ||
	    opt_num("now", take_opt(argc, argv, "now"), 0, INT64_MAX, 0, &now) < 0)
		return -1;
	if (t > 0 && c < 1) {
		fprintf(stderr, "kefu: gen needs --customers >= 1 when it makes tickets\n");
		return -1;
	}
	*o = (struct gen_opts){.customers = c, .tickets = t, .messages = (int)m,
			       .seed = (uint64_t)seed, .now = now, .progress = 1};
	return 0;
}

static int run_loaded(const char *cmd, const char *sub, int argc, char **argv)
{
	struct gen_opts gen;
	const char *gen_account = NULL;
	struct user_opts uo = {0};
	const char *acct_name = NULL, *slug = NULL;
	struct demo_size demo = {.customers = 300, .tickets = 3000};
	const char *mail_channel = NULL;
	int mail_json = 0;
	if (strcmp(cmd, "mail-in") == 0) {
		mail_channel = take_opt(&argc, argv, "channel");
		for (int i = 0; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0) {
				mail_json = 1;
				memmove(&argv[i], &argv[i + 1], (size_t)(argc - i - 1) * sizeof *argv);
				argc--;
				break;
			}
		}
	} else if (strcmp(cmd, "account") == 0) {
		acct_name = take_opt(&argc, argv, "name");
		slug = take_opt(&argc, argv, "slug");
	} else if (strcmp(cmd, "demo") == 0) {
		const char *t = take_opt(&argc, argv, "tickets");
		const char *c = take_opt(&argc, argv, "customers");
		if (t)
			demo.tickets = atoi(t);
		if (c)
			demo.customers = atoi(c);
		if (demo.tickets < 0 || demo.customers < 0 || (demo.tickets > 0 && demo.customers < 1)) {
			fprintf(stderr, "kefu: demo needs --customers >= 1 when it makes tickets\n");
			return 2;
		}
	} else if (strcmp(cmd, "gen") == 0) {
		if (gen_options(&argc, argv, &gen_account, &gen) < 0)
			return 2;
	} else if (strcmp(cmd, "user") == 0) {
		uo.account = take_opt(&argc, argv, "account");
		uo.email = take_opt(&argc, argv, "email");
		uo.name = take_opt(&argc, argv, "name");
		uo.role = take_opt(&argc, argv, "role");
		uo.password = take_opt(&argc, argv, "password");
	}
	struct config cfg;
	if (load(&cfg, argc, argv) < 0)
		return strcmp(cmd, "mail-in") == 0 ? EX_USAGE_ : 2;
	int rc = 2;
	if (strcmp(cmd, "serve") == 0)
		rc = cli_serve(&cfg);
	else if (strcmp(cmd, "migrate") == 0)
		rc = cmd_migrate(&cfg);
	else if (strcmp(cmd, "demo") == 0)
		rc = cli_demo(&cfg, &demo);
	else if (strcmp(cmd, "gen") == 0)
		rc = cli_gen(&cfg, gen_account, &gen);
	else if (strcmp(cmd, "mail-in") == 0)
		rc = cmd_mail_in(&cfg, mail_channel, mail_json);
	else if (strcmp(cmd, "audit") == 0 && sub && strcmp(sub, "verify") == 0)
		rc = cmd_audit_verify(&cfg);
	else if (strcmp(cmd, "account") == 0 && sub && strcmp(sub, "create") == 0)
		rc = cmd_account_create(&cfg, acct_name, slug);
	else if (strcmp(cmd, "user") == 0 && sub && strcmp(sub, "create") == 0)
		rc = cmd_user_create(&cfg, &uo);
	else
		fprintf(stderr, "kefu: unknown command '%s%s%s' (see kefu help)\n", cmd,
			sub ? " " : "", sub ? sub : "");
	config_free(&cfg);
	return rc;
}

int cli_run(const char *cmd, int argc, char **argv)
{
	static const char *with_sub[] = {"account", "user", "audit"};
	const char *sub = NULL;
	for (size_t i = 0; i < sizeof with_sub / sizeof *with_sub; i++) {
		if (strcmp(cmd, with_sub[i]) == 0 && argc > 0 && argv[0][0] != '-') {
			sub = argv[0];
			argc--, argv++;
		}
	}
	return run_loaded(cmd, sub, argc, argv);
}
