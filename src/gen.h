/*
 * gen.h -- `kefu gen`: large, realistic volumes of customers, tickets and
 * conversations in an account, in minutes rather than hours, for
 * benchmarks, tests and demos.
 *
 * Owns: writing gen_plan's customers and tickets straight into the tables
 * the product reads, many rows per statement (gen_batch) and thousands per
 * transaction, instead of through ticket_create/message_add (one statement
 * per row, several reads per ticket, events and webhooks for each).
 *
 * What a generated ticket has, as if it had come in and been worked on:
 * its row with a number from the account's counter, status, priority,
 * category, team, assignee, channel and all its timestamps (first
 * response, solved, closed, last messages); its tags (tickets.tags and
 * ticket_tags); the timeline (ticket_events: created, assignee, each
 * status change, the rating); its messages, customer and agent in turn,
 * sometimes an internal note; a rating on some solved chats; and its
 * search index row (ticket_fts, the terms ticket_search_index would
 * compute).  Customers get their profile, identities (email, phone,
 * wechat) and tags.
 *
 * What it skips, on purpose: the real-time event log (`events`: consoles
 * replay it after a reconnect, and a year of history is not news; it is
 * pruned after days anyway), webhook and outbox deliveries (nothing was
 * really sent), inbound_seen (no channel delivered these messages), read
 * marks, attachments, links, merges and custom field values, and one
 * audit entry per row -- the run itself is audited once
 * ("account.generate").
 *
 * A run commits as it goes: stopped half way, what it wrote stays, whole
 * tickets only.  The same seed and `now` on the same starting state write
 * the same data (ids aside on PostgreSQL, whose sequences other writers
 * share).
 */
#ifndef KEFU_GEN_H
#define KEFU_GEN_H

#include <stdint.h>

#include "config.h"
#include "store/db.h"

struct gen_opts {
	int64_t customers; /* >= 1 when tickets > 0 */
	int64_t tickets;
	int messages; /* per ticket on average, 1..GEN_MESSAGES_MAX */
	uint64_t seed;
	int64_t now; /* the year ends here (ms since 1970); 0: the clock */
	int progress; /* print a line every tenth of the way */
};

struct gen_stats {
	int64_t customers, identities, tickets, messages, events, rows;
};

/* Into the account; text_init() must have run.  Tunes db for bulk
 * writing (larger cache and WAL on SQLite, no synchronous commit on
 * PostgreSQL) for as long as it lives: give it a connection of its own. */
int gen_run(struct db *db, int64_t account_id, const struct gen_opts *o,
	    struct gen_stats *st, struct err *e);

/* The command: account by slug (the demo account is set up first when it
 * does not exist).  Returns the exit code. */
int cli_gen(const struct config *cfg, const char *account, const struct gen_opts *o);

#endif
