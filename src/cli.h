/*
 * cli.h -- the commands behind `kefu COMMAND`.
 *
 * Owns: option parsing per command, opening the store for a command, and
 * the commands themselves (serve.c runs the server, gen.c fills an account
 * with generated data; the others are short administrative actions in
 * cli.c and demo.c).
 */
#ifndef KEFU_CLI_H
#define KEFU_CLI_H

#include <stddef.h>

#include "config.h"
#include "core/audit.h"
#include "store/db.h"

/* Dispatch a command; returns the process exit code. */
int cli_run(const char *cmd, int argc, char **argv);

/* Shared by the commands: create the data directory, open and migrate the
 * database.  Returns NULL (message printed) on failure. */
struct db *cli_open_db(const struct config *cfg);
/* What commands that touch tickets need first: channel drivers registered,
 * search dictionaries loaded.  0 or -1 (message printed). */
int cli_domain_init(void);
/* The audit actor for command-line changes. */
extern const struct audit_actor cli_actor;

int cli_serve(const struct config *cfg);
/* size: customers and tickets to generate (an account that has tickets
 * already keeps them). */
struct demo_size;
int cli_demo(const struct config *cfg, const struct demo_size *size);
/* What cli_demo does, without printing: the demo account (slug DEMO_SLUG)
 * with its teams, logins and website chat channel (whose public key goes
 * to key), and size's customers and tickets unless it has tickets. */
#define DEMO_SLUG "demo"
int demo_setup(struct db *db, const struct demo_size *size, int64_t *account_id,
	       char *key, size_t keylen, struct err *e);

#endif
