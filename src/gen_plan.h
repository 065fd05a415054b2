/*
 * gen_plan.h -- what `kefu gen` writes, decided without the database: a
 * seeded random stream and, drawn from it, customer profiles and tickets
 * with their conversation, timestamps and status.
 *
 * Owns: the proportions that make generated data look like a year of a
 * real help desk -- tickets in the order they came, more of them lately
 * and in office hours, fewer at weekends; old tickets solved, recent ones still open; channels,
 * priorities and languages in plausible shares; a few customers writing
 * often; conversations that alternate customer and agent and end on the
 * side the status says is waiting (open: the customer wrote last; pending
 * or solved: the agent did); now and then an internal note; ratings of
 * solved chats, mostly good -- and the texts (from demo_vocab).  Knows nothing of SQL or ids: gen.c maps a plan
 * onto the account's teams and agents and writes it.
 *
 * Deterministic: the same seed and the same calls give the same plans.
 * Times are milliseconds before `now`, so two runs differ only by when
 * they ran.
 */
#ifndef KEFU_GEN_PLAN_H
#define KEFU_GEN_PLAN_H

#include <stdint.h>

#include "demo_vocab.h"

/* splitmix64: fast, good enough for test data, the same on every libc. */
struct gen_rng {
	uint64_t s;
};
void gen_rng_seed(struct gen_rng *r, uint64_t seed);
uint64_t gen_rng_next(struct gen_rng *r);
/* Uniform in [0, n), n >= 1. */
uint32_t gen_rnd(struct gen_rng *r, uint32_t n);

/* Tickets fall in the GEN_DAYS before now. */
#define GEN_DAYS 365

struct gen_customer {
	char name[64];
	char email[96]; /* "" when the customer has none */
	char phone[24]; /* "" when none; already normalised (+ and digits) */
	char wechat[40]; /* openid-like handle, "" when none */
	const char *city; /* NULL when unknown */
	int en;      /* writes in English */
	int vip;     /* level "vip" */
	int regular; /* tagged 老客户 */
	int64_t created_at;
};

/* Customer i of this run's n.  ordinal is unique among every customer the
 * account's runs generated: e-mail and phone are made from it, so they are
 * unique too.  Early customers existed before the year; the rest join
 * through it in order (gen_plan_ticket relies on that). */
void gen_plan_customer(struct gen_rng *r, int64_t now, int64_t ordinal, int64_t i,
		       int64_t n, struct gen_customer *c);

enum gen_author { GEN_CUSTOMER, GEN_AGENT, GEN_NOTE };

struct gen_msg {
	enum gen_author who;
	const char *text; /* a vocabulary string, or the ticket's first[] */
	int64_t at;
};

/* Room for any --messages up to GEN_MESSAGES_MAX (2N-1 turns and a note). */
#define GEN_MESSAGES_MAX 30
#define GEN_MSG_SLOTS (2 * GEN_MESSAGES_MAX + 1)

struct gen_ticket {
	int64_t customer; /* index into the run's customers */
	const struct demo_topic *topic;
	const char *status, *priority, *origin, *product;
	int assigned;  /* has an assignee (never while new) */
	uint32_t pick; /* which of the team's agents (gen.c takes it modulo) */
	char subject[200];
	char first[640]; /* the customer's first message */
	int nmsg;
	struct gen_msg msg[GEN_MSG_SLOTS];
	/* 0: did not happen */
	int64_t created, opened, first_response, resolved, closed;
	int64_t last_customer, last_message, updated;
	/* The customer's rating of a solved chat (score 0: not rated). */
	int rating;
	const char *rating_comment; /* NULL: none */
	int64_t rated_at;
};

#define GEN_HOURS (GEN_DAYS * 24)

struct gen_ticket_ctx {
	int64_t now;
	int64_t ntickets, ncustomers;
	const uint8_t *customer_en; /* per customer: writes in English */
	int messages;               /* on average per ticket, 1..GEN_MESSAGES_MAX */
	double busy[GEN_HOURS + 1]; /* traffic up to each hour (gen_plan_start) */
};

/* Fills c->busy from c->now; before the first gen_plan_ticket. */
void gen_plan_start(struct gen_ticket_ctx *c);
/* Ticket i of c->ntickets: opened later than ticket i - 1. */
void gen_plan_ticket(struct gen_rng *r, const struct gen_ticket_ctx *c, int64_t i,
		     struct gen_ticket *t);

#endif
