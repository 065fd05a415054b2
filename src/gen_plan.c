/* gen_plan.c -- see gen_plan.h. */
#include "gen_plan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL
#define CN_OFFSET (8 * HOUR_MS) /* the customers live in UTC+8 */

void gen_rng_seed(struct gen_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t gen_rng_next(struct gen_rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint32_t gen_rnd(struct gen_rng *r, uint32_t n)
{
	return (uint32_t)(gen_rng_next(r) % n);
}

/* Uniform in [0, 1). */
static double unit(struct gen_rng *r)
{
	return (double)(gen_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [lo, hi) milliseconds. */
static int64_t span(struct gen_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(unit(r) * (double)(hi - lo));
}

static const char *pick(struct gen_rng *r, const struct vocab *v)
{
	return v->v[gen_rnd(r, (uint32_t)v->n)];
}

/* One of names[] by weights[] (which sum to 1000). */
static const char *weighted(struct gen_rng *r, const char *const *names,
			    const int *weights)
{
	int x = (int)gen_rnd(r, 1000);
	int i = 0;
	while (x >= weights[i]) {
		x -= weights[i];
		i++;
	}
	return names[i];
}

/* ---- customers ---- */

static const char *const domains[] = {"example.com", "example.cn", "example.net",
				      "example.org", "mail.example.cn"};

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* The first 2/5 of a run's customers existed before the year; customer i
 * after them joined at the i-th share of it: customers, like tickets, are
 * in the order they came.  ticket_customer() counts on this order. */
static int64_t customers_before_year(int64_t n)
{
	return n * 2 / 5 > 0 ? n * 2 / 5 : 1;
}

static int64_t customer_time(struct gen_rng *r, int64_t now, int64_t i, int64_t n)
{
	int64_t start = now - GEN_DAYS * DAY_MS, pre = customers_before_year(n);
	/* The ones before: over the two years before it. */
	if (i < pre)
		return start - 2 * GEN_DAYS * DAY_MS +
		       (int64_t)(((double)i + unit(r)) * (double)(2 * GEN_DAYS * DAY_MS) / (double)pre);
	double slot = (double)(GEN_DAYS * DAY_MS) / (double)(n - pre);
	return start + (int64_t)(((double)(i - pre) + unit(r)) * slot);
}

static void customer_contacts(struct gen_rng *r, int64_t ordinal, struct gen_customer *c,
			      const char *first, const char *last)
{
	static const char *const mobile[] = {"139", "150", "186", "177"};
	int has_phone = gen_rnd(r, 10) < 6, has_email = !has_phone || gen_rnd(r, 10) < 7;
	if (has_email && c->en)
		snprintf(c->email, sizeof c->email, "%s.%s%lld@%s", first, last,
			 (long long)ordinal, domains[gen_rnd(r, 5)]);
	else if (has_email)
		snprintf(c->email, sizeof c->email, "kh%06lld@%s", (long long)ordinal,
			 domains[gen_rnd(r, 5)]);
	lower_ascii(c->email);
	/* ordinal decides the number, so no two generated customers share
	 * one; demo data uses +86138... */
	if (has_phone)
		snprintf(c->phone, sizeof c->phone, "+86%s%08lld", mobile[ordinal % 4],
			 (long long)(ordinal / 4 % 100000000));
	if (!c->en && gen_rnd(r, 10) < 3)
		snprintf(c->wechat, sizeof c->wechat, "oGen%08llx%06x", (long long)ordinal,
			 gen_rnd(r, 1 << 24));
}

void gen_plan_customer(struct gen_rng *r, int64_t now, int64_t ordinal, int64_t i,
		       int64_t n, struct gen_customer *c)
{
	memset(c, 0, sizeof *c);
	c->en = gen_rnd(r, 4) == 0;
	const char *first = c->en ? pick(r, &vocab_first_en) : pick(r, &vocab_surnames);
	const char *last = c->en ? pick(r, &vocab_last_en) : pick(r, &vocab_given);
	snprintf(c->name, sizeof c->name, c->en ? "%s %s" : "%s%s", first, last);
	customer_contacts(r, ordinal, c, first, last);
	c->city = gen_rnd(r, 10) < 7 ? pick(r, &vocab_cities) : NULL;
	c->vip = gen_rnd(r, 20) == 0;
	c->regular = gen_rnd(r, 10) == 0;
	c->created_at = customer_time(r, now, i, n);
}

/* ---- when a ticket was opened ---- */

/* Tickets per hour of the day (UTC+8), in relative weights. */
static const int hour_weight[24] = {2, 1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13,
				    11, 12, 13, 13, 12, 10, 9, 9, 8, 6, 4, 3};

static int weekend(int64_t t)
{
	int64_t days = (t + CN_OFFSET) / DAY_MS;
	int wd = (int)((days + 4) % 7); /* 1970-01-01 was a Thursday; 0: Sunday */
	return wd == 0 || wd == 6;
}

/* How busy hour j of the year is: by the hour of the day, half as busy at
 * weekends, and growing through the year (a business that grows: three
 * times as busy now as a year ago). */
static double hour_busy(int64_t now, int j)
{
	int64_t t = now - (int64_t)(GEN_HOURS - j) * HOUR_MS;
	int hour = (int)((t + CN_OFFSET) / HOUR_MS % 24);
	double growth = 0.5 + (double)j / GEN_HOURS;
	return hour_weight[hour] * growth * (weekend(t) ? 0.5 : 1.0);
}

void gen_plan_start(struct gen_ticket_ctx *c)
{
	c->busy[0] = 0;
	for (int j = 0; j < GEN_HOURS; j++)
		c->busy[j + 1] = c->busy[j] + hour_busy(c->now, j);
}

/* Ticket i of n at the (i + u)/n-th point of the year's traffic: times
 * follow the busy curve, and rise with i, as ids and numbers do in a real
 * desk. */
static int64_t ticket_time(struct gen_rng *r, const struct gen_ticket_ctx *c, int64_t i)
{
	double q = ((double)i + unit(r)) / (double)c->ntickets * c->busy[GEN_HOURS];
	int lo = 0, hi = GEN_HOURS; /* busy[lo] <= q < busy[hi] */
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;
		if (c->busy[mid] <= q)
			lo = mid;
		else
			hi = mid;
	}
	double within = (q - c->busy[lo]) / (c->busy[lo + 1] - c->busy[lo]);
	int64_t t = c->now - (int64_t)(GEN_HOURS - lo) * HOUR_MS + (int64_t)(within * HOUR_MS);
	return t < c->now - MIN_MS ? t : c->now - MIN_MS;
}

/* The status a ticket of this age has: old ones are solved, a few
 * forgotten; today's are still being worked on. */
static const char *pick_status(struct gen_rng *r, int64_t age)
{
	static const char *const names[] = {"new", "open", "pending", "resolved", "closed"};
	static const int today[] = {300, 350, 150, 150, 50};
	static const int week[] = {40, 200, 140, 370, 250};
	static const int month[] = {0, 30, 50, 220, 700};
	static const int older[] = {0, 5, 10, 35, 950};
	const int *w = age < DAY_MS ? today : age < 7 * DAY_MS ? week
		       : age < 30 * DAY_MS ? month : older;
	return weighted(r, names, w);
}

static const char *pick_priority(struct gen_rng *r)
{
	static const char *const names[] = {"low", "normal", "high", "urgent"};
	static const int w[] = {150, 600, 200, 50};
	return weighted(r, names, w);
}

/* web is the chat widget on the company's site and app. */
static const char *pick_origin(struct gen_rng *r)
{
	static const char *const names[] = {"email", "web", "wechat", "phone", "api",
					    "weibo", "sms"};
	static const int w[] = {240, 220, 180, 100, 100, 80, 80};
	return weighted(r, names, w);
}

/* A customer who had joined by time t; the oldest write most (half the
 * picks favour them, mildly: no one customer should own the desk). */
static int64_t ticket_customer(struct gen_rng *r, const struct gen_ticket_ctx *c, int64_t t)
{
	int64_t n = c->ncustomers, pre = customers_before_year(n);
	int64_t start = c->now - GEN_DAYS * DAY_MS;
	double joined = t > start ? (double)(t - start) / (double)(GEN_DAYS * DAY_MS) : 0.0;
	int64_t k = pre + (int64_t)(joined * (double)(n - pre));
	if (k > n)
		k = n;
	double u = unit(r);
	return (int64_t)((gen_rnd(r, 2) ? u : u * sqrt(u)) * (double)k);
}

/* Mostly in the customer's language. */
static const struct demo_topic *pick_topic(struct gen_rng *r, int en)
{
	int want_en = en ? gen_rnd(r, 100) < 85 : gen_rnd(r, 100) < 5;
	const struct demo_topic *t = NULL;
	for (int tries = 0; tries < 16; tries++) {
		t = &demo_topics[gen_rnd(r, (uint32_t)demo_ntopics)];
		if (t->en == want_en)
			break;
	}
	return t;
}

/* ---- the conversation ---- */

static void compose_texts(struct gen_rng *r, struct gen_ticket *t)
{
	const struct demo_topic *tp = t->topic;
	t->product = pick(r, &vocab_products);
	if (tp->order && gen_rnd(r, 5) < 2)
		snprintf(t->subject, sizeof t->subject, "%s - %s", tp->subject, t->product);
	else
		snprintf(t->subject, sizeof t->subject, "%s", tp->subject);
	/* An order number nobody else has: searching for it finds this
	 * ticket alone, as in a real desk. */
	unsigned long long order = 200000000000ull + gen_rng_next(r) % 700000000000ull;
	if (!tp->order)
		snprintf(t->first, sizeof t->first, "%s", tp->first);
	else if (tp->en)
		snprintf(t->first, sizeof t->first, "%s Order number %llu, item: %s.",
			 tp->first, order, t->product);
	else
		snprintf(t->first, sizeof t->first, "%s订单号：%llu，商品：%s。", tp->first,
			 order, t->product);
}

/* Public turns: about c->messages on average, and an odd number (the
 * customer spoke last) exactly when the ticket waits for the agent. */
static int public_turns(struct gen_rng *r, const struct gen_ticket_ctx *c, const char *status)
{
	if (!strcmp(status, "new") || c->messages <= 1)
		return 1;
	int p = 1 + (int)gen_rnd(r, (uint32_t)(2 * c->messages - 1));
	int want_odd = !strcmp(status, "open");
	if ((p % 2 == 1) != want_odd)
		p += p == 1 || gen_rnd(r, 2) ? 1 : -1;
	return p;
}

/* How long the next speaker takes: first answers by priority, later ones
 * within office hours, customers at their leisure. */
static int64_t gap(struct gen_rng *r, const struct gen_ticket *t, enum gen_author who,
		   int first_answer)
{
	if (who == GEN_CUSTOMER)
		return span(r, 10 * MIN_MS, 2 * DAY_MS);
	if (who == GEN_NOTE)
		return span(r, MIN_MS, 30 * MIN_MS);
	if (!first_answer)
		return span(r, 5 * MIN_MS, 8 * HOUR_MS);
	const char *p = t->priority;
	int64_t most = !strcmp(p, "urgent") ? 30 * MIN_MS : !strcmp(p, "high") ? 2 * HOUR_MS
		       : !strcmp(p, "normal") ? 8 * HOUR_MS : DAY_MS;
	return span(r, MIN_MS, most);
}

/* The topic's answer first; a solved ticket's last word closes it. */
static const char *agent_text(struct gen_rng *r, const struct gen_ticket *t, int turn, int p)
{
	int en = t->topic->en;
	if (turn == 1)
		return t->topic->reply;
	if (turn == p - 1 && (!strcmp(t->status, "resolved") || !strcmp(t->status, "closed")))
		return pick(r, en ? &vocab_agent_close_en : &vocab_agent_close_zh);
	return pick(r, en ? &vocab_agent_more_en : &vocab_agent_more_zh);
}

/* Customers chase until the answer that solves it, then thank. */
static const char *customer_text(struct gen_rng *r, const struct gen_ticket *t, int turn,
				 int p)
{
	int en = t->topic->en;
	int solved = !strcmp(t->status, "resolved") || !strcmp(t->status, "closed");
	if (solved && turn == p - 2)
		return pick(r, en ? &vocab_customer_thanks_en : &vocab_customer_thanks_zh);
	return pick(r, en ? &vocab_customer_chase_en : &vocab_customer_chase_zh);
}

static void add_msg(struct gen_ticket *t, enum gen_author who, const char *text, int64_t at)
{
	t->msg[t->nmsg++] = (struct gen_msg){who, text, at};
}

/* The messages, with times as offsets from the ticket's creation. */
static void converse(struct gen_rng *r, const struct gen_ticket_ctx *c, struct gen_ticket *t)
{
	int p = public_turns(r, c, t->status);
	int note_turn = p >= 2 && gen_rnd(r, 8) == 0 ? 1 + 2 * (int)gen_rnd(r, (uint32_t)(p / 2)) : -1;
	int64_t at = 0;
	t->nmsg = 0;
	add_msg(t, GEN_CUSTOMER, t->first, 0);
	for (int turn = 1; turn < p; turn++) {
		enum gen_author who = turn % 2 ? GEN_AGENT : GEN_CUSTOMER;
		if (turn == note_turn) {
			at += gap(r, t, GEN_NOTE, 0);
			add_msg(t, GEN_NOTE, pick(r, &vocab_notes), at);
		}
		at += gap(r, t, who, turn == 1);
		const char *text = who == GEN_AGENT ? agent_text(r, t, turn, p)
						    : customer_text(r, t, turn, p);
		add_msg(t, who, text, at);
	}
}

/* ---- timestamps ---- */

/* Status times as offsets after the last message. */
static void settle(struct gen_rng *r, struct gen_ticket *t, int64_t last)
{
	const char *s = t->status;
	int64_t answered = t->nmsg > 1 ? t->msg[1].at : 0;
	if (strcmp(s, "new") != 0)
		t->opened = t->nmsg > 1 ? answered : span(r, MIN_MS, HOUR_MS);
	int solved = !strcmp(s, "resolved") || (!strcmp(s, "closed") && gen_rnd(r, 5) != 0);
	if (solved)
		t->resolved = last + span(r, MIN_MS, 2 * HOUR_MS);
	if (!strcmp(s, "closed"))
		t->closed = (t->resolved ? t->resolved : last) + span(r, HOUR_MS, 3 * DAY_MS);
}

/* 0 means "did not happen" and stays so; anything else stays above 0. */
static int64_t squeeze(int64_t offset, double f)
{
	int64_t v = (int64_t)((double)offset * f);
	return offset == 0 ? 0 : v > 0 ? v : 1;
}

/* A ticket opened minutes ago cannot have a week of conversation: squeeze
 * the offsets into the time since it was opened. */
static void fit_before_now(struct gen_ticket *t, int64_t room)
{
	int64_t end = t->closed ? t->closed : t->resolved ? t->resolved : t->msg[t->nmsg - 1].at;
	if (end < t->opened)
		end = t->opened;
	if (end <= room || end == 0)
		return;
	double f = (double)(room > 0 ? room : 0) / (double)end;
	for (int i = 0; i < t->nmsg; i++)
		t->msg[i].at = (int64_t)((double)t->msg[i].at * f);
	t->opened = squeeze(t->opened, f);
	t->resolved = squeeze(t->resolved, f);
	t->closed = squeeze(t->closed, f);
}

/* Offsets to times, and the ticket's summary times from its messages. */
static void stamp(struct gen_ticket *t)
{
	int64_t c = t->created;
	t->updated = c;
	for (int i = 0; i < t->nmsg; i++) {
		struct gen_msg *m = &t->msg[i];
		m->at += c;
		if (m->who == GEN_CUSTOMER)
			t->last_customer = m->at;
		if (m->who != GEN_NOTE)
			t->last_message = m->at;
		if (m->who == GEN_AGENT && !t->first_response)
			t->first_response = m->at;
		if (m->at > t->updated)
			t->updated = m->at;
	}
	int64_t *times[] = {&t->opened, &t->resolved, &t->closed};
	for (int i = 0; i < 3; i++) {
		if (*times[i] == 0)
			continue;
		*times[i] += c;
		if (*times[i] > t->updated)
			t->updated = *times[i];
	}
}

/* Two in five solved chats are rated, most of them well; the rating
 * comes minutes after the solution (never after now). */
static void rate(struct gen_rng *r, struct gen_ticket *t, int64_t now)
{
	static const char *const scores[] = {"1", "2", "3", "4", "5"};
	static const int w[] = {50, 50, 100, 300, 500};
	int64_t solved = t->resolved ? t->resolved : t->closed;
	if (strcmp(t->origin, "web") != 0 || !solved || gen_rnd(r, 5) >= 2)
		return;
	t->rating = weighted(r, scores, w)[0] - '0';
	if (gen_rnd(r, 3) == 0)
		t->rating_comment = pick(r, t->rating >= 4 ? &vocab_praise : &vocab_complaints);
	t->rated_at = solved + span(r, MIN_MS, 30 * MIN_MS);
	if (t->rated_at > now)
		t->rated_at = now;
	if (t->rated_at > t->updated)
		t->updated = t->rated_at;
}

void gen_plan_ticket(struct gen_rng *r, const struct gen_ticket_ctx *c, int64_t i,
		     struct gen_ticket *t)
{
	memset(t, 0, sizeof *t);
	t->created = ticket_time(r, c, i);
	t->customer = ticket_customer(r, c, t->created);
	t->topic = pick_topic(r, c->customer_en[t->customer]);
	t->status = pick_status(r, c->now - t->created);
	t->priority = pick_priority(r);
	t->origin = pick_origin(r);
	t->assigned = strcmp(t->status, "new") != 0 && gen_rnd(r, 100) < 92;
	t->pick = gen_rnd(r, 1u << 30);
	compose_texts(r, t);
	converse(r, c, t);
	settle(r, t, t->msg[t->nmsg - 1].at);
	fit_before_now(t, c->now - t->created - 1000);
	stamp(t);
	rate(r, t, c->now);
}
