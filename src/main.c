/*
 * main.c -- the kefu command line.
 *
 *   kefu serve | migrate | demo | gen | account create | user create |
 *        audit verify | mail-in | version | help
 *
 * Each command takes its own options plus every setting (see
 * `kefu serve --help`).  Commands that change data record themselves in the
 * audit log as the actor "cli".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config.h"
#include "util/log.h"
#include "util/token.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kefu COMMAND [options]\n\n"
		"commands:\n"
		"  serve                     run the server (API, web apps, background work)\n"
		"  migrate                   bring the database schema up to date\n"
		"  demo [--customers N] [--tickets N]\n"
		"                            create or reset the demo account (300 customers and\n"
		"                            3000 tickets by default); prints its logins\n"
		"  gen [--account SLUG] [--customers N] [--tickets N] [--messages N] [--seed N]\n"
		"      [--now MS]            add a year of realistic customers, tickets and\n"
		"                            conversations to an account, fast (default: demo,\n"
		"                            created if missing; 10000 customers, 100000\n"
		"                            tickets, 5 messages a ticket on average, seed 42;\n"
		"                            the year ends now, or at MS ms since 1970).  The\n"
		"                            same seed and --now give the same data\n"
		"  account create --name NAME --slug SLUG\n"
		"                            create an account (tenant)\n"
		"  user create --account SLUG --email EMAIL --name NAME --role ROLE\n"
		"              [--password PASSWORD]\n"
		"                            create a staff user (password also from\n"
		"                            KEFU_PASSWORD; generated and printed if absent)\n"
		"  audit verify              check the audit log's hash chains\n"
		"  mail-in --channel ID [--json] < message.eml\n"
		"                            deliver one raw e-mail (an MTA pipe) to e-mail\n"
		"                            channel ID; prints the id of the ticket it landed\n"
		"                            on (a number; --json: the whole result).  Exit\n"
		"                            0 delivered (a duplicate too), 65 not mail or no\n"
		"                            such active channel, 74 read error, 75 try again\n"
		"                            later (database unreachable or busy)\n"
		"  version                   print the version\n\n"
		"Every command accepts the settings listed by `kefu serve --help`,\n"
		"e.g. --data DIR and --database URL.\n");
}

static int wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("kefu %s\n", KEFU_VERSION);
		return 0;
	}
	if (wants_help(argc - 2, argv + 2)) {
		usage(stdout);
		putchar('\n');
		config_help(stdout);
		return 0;
	}
	if (token_init() < 0) {
		fprintf(stderr, "kefu: libsodium failed to start\n");
		return 1;
	}
	return cli_run(cmd, argc - 2, argv + 2);
}
