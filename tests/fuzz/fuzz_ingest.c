/*
 * fuzz_ingest.c -- libFuzzer target for the ingest path: arbitrary bytes as
 * an API-channel inbound document -> JSON parse -> api_inbound_parse ->
 * ingest_message into a real SQLite database (customer matching,
 * threading, dedupe, ticket creation, search indexing).  Invariants: no
 * crash, no leak, and a document accepted twice is stored once.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/inbound.h"
#include "channels/channels.h"
#include "core/account.h"
#include "core/channel.h"
#include "text/tokenize.h"
#include "util/token.h"

static struct db *db;
static int64_t account_id, channel_id;
static char path[96];

/* The database is scratch: remove it (and its WAL) when the run ends. */
static void cleanup(void)
{
	char p[128];
	db_close(db);
	db = NULL;
	const char *suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		unlink(p);
	}
}

static void die(const char *what, const struct err *e)
{
	fprintf(stderr, "fuzz_ingest: %s: %s\n", what, e->msg);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct err e = {0};
	char url[128];
	snprintf(path, sizeof path, "/tmp/kefu-fuzz-ingest-%d.db", (int)getpid());
	unlink(path);
	snprintf(url, sizeof url, "sqlite://%s", path);
	if (token_init() < 0 || text_init(&e) < 0)
		die("init", &e);
	channels_register_all();
	if (db_open(url, &db, &e) < 0 || db_migrate(db, &e) < 0)
		die("database", &e);
	struct audit_actor actor = {"system", 0, "fuzz", "", ""};
	char token[CHANNEL_TOKEN_LEN];
	if (account_create(db, &actor, "Fuzz", "fuzz", &account_id, &e) < 0 ||
	    db_begin(db, &e) < 0)
		die("account", &e);
	struct scope s = {db, account_id};
	if (channel_create(&s, "api", "fuzz", NULL, &channel_id, token, &e) < 0 ||
	    db_commit(db, &e) < 0)
		die("channel", &e);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return 0;
	}
	struct inbound_msg m = {.channel_id = channel_id, .channel_type = "api"};
	struct ingest_result r1, r2;
	struct err e = {0};
	if (api_inbound_parse(doc, &m, &e) == 0 &&
	    ingest_message(db, account_id, &m, &r1, &e) == 0) {
		/* The same delivery again must be recognised, not stored. */
		if (ingest_message(db, account_id, &m, &r2, &e) < 0 || !r2.duplicate ||
		    r2.message_id != r1.message_id)
			die("duplicate stored twice", &e);
	} else if (e.status >= 500) {
		die("server error on input", &e);
	}
	json_decref(doc);
	return 0;
}
