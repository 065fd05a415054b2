/*
 * demo_vocab.h -- the words demo and generated data are made of: Chinese
 * and English names, the topics customers write about (subject, first
 * message, the agent's answer, category and tag) and the small talk around
 * them (products, follow-ups, closing lines, internal notes, cities).
 *
 * Owns: only the tables.  How they are picked -- seeds, proportions, how
 * many of each -- belongs to whoever picks: demo_data.c (`kefu demo`) and
 * gen_plan.c (`kefu gen`).
 */
#ifndef KEFU_DEMO_VOCAB_H
#define KEFU_DEMO_VOCAB_H

#include <stddef.h>

/* A list of words and its length. */
struct vocab {
	const char *const *v;
	size_t n;
};

extern const struct vocab vocab_surnames;   /* 王 李 ... */
extern const struct vocab vocab_given;      /* 伟 芳 ... */
extern const struct vocab vocab_first_en;   /* James Mary ... */
extern const struct vocab vocab_last_en;    /* Smith Johnson ... */
extern const struct vocab vocab_products;   /* 蓝牙耳机, iPhone 15 Pro ... */
extern const struct vocab vocab_cities;     /* 上海 北京 ... */
/* Said after the first exchange, in Chinese (_zh) or English (_en): a
 * customer still waiting, a customer satisfied, an agent working on it. */
extern const struct vocab vocab_customer_chase_zh, vocab_customer_chase_en;
extern const struct vocab vocab_customer_thanks_zh, vocab_customer_thanks_en;
extern const struct vocab vocab_agent_more_zh, vocab_agent_more_en;
/* An agent's last words on a solved ticket. */
extern const struct vocab vocab_agent_close_zh, vocab_agent_close_en;
/* Internal notes between staff (mixed languages, as in real teams). */
extern const struct vocab vocab_notes;
/* What a customer writes with a chat rating (good ones, then bad ones). */
extern const struct vocab vocab_praise, vocab_complaints;

struct demo_topic {
	const char *subject, *first, *reply;
	const char *category;
	const char *team; /* the demo team that handles it (售前, 售后, 技术支持) */
	const char *tag;
	int en;    /* written in English */
	int order; /* about an order: the customer quotes its number */
};

extern const struct demo_topic demo_topics[];
extern const size_t demo_ntopics;

#endif
