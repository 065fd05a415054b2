/* ratelimit.c -- see ratelimit.h. */
#include "ratelimit.h"

#include <pthread.h>
#include <stdlib.h>

#include "../util/buf.h"

#define SLOTS 4096

struct bucket {
	double tokens;
	int64_t updated_ms;
};

struct ratelimit {
	pthread_mutex_t lock;
	double rate_per_ms, burst;
	struct bucket slot[SLOTS];
};

struct ratelimit *ratelimit_new(int per_minute)
{
	struct ratelimit *rl = xcalloc(1, sizeof *rl);
	pthread_mutex_init(&rl->lock, NULL);
	rl->burst = per_minute > 0 ? per_minute : 1;
	rl->rate_per_ms = rl->burst / 60000.0;
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms)
{
	pthread_mutex_lock(&rl->lock);
	struct bucket *b = &rl->slot[fnv1a(key) % SLOTS];
	if (b->updated_ms == 0)
		b->tokens = rl->burst;
	else
		b->tokens += (double)(now_ms - b->updated_ms) * rl->rate_per_ms;
	if (b->tokens > rl->burst)
		b->tokens = rl->burst;
	b->updated_ms = now_ms;
	int wait = 0;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else
		wait = (int)((1.0 - b->tokens) / rl->rate_per_ms / 1000.0) + 1;
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
