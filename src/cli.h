/*
 * cli.h -- the commands behind `kefu COMMAND`.
 *
 * Owns: option parsing per command, opening the store for a command, and
 * the commands themselves (serve.c runs the server; the others are short
 * administrative actions in cli.c and demo.c).
 */
#ifndef KEFU_CLI_H
#define KEFU_CLI_H

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

#endif
