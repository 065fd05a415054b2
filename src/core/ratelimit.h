/*
 * ratelimit.h -- in-memory token buckets keyed by a string (an IP address).
 *
 * Owns: per-process limits on attempts such as logins.  Buckets live in a
 * fixed table (no growth under an attack with many keys); two keys that
 * collide share a bucket, which can only make the limit stricter.  Thread
 * safe.  Per node: with several nodes the per-user lockout in the database
 * (auth.c) is the limit that holds cluster-wide.
 */
#ifndef KEFU_CORE_RATELIMIT_H
#define KEFU_CORE_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

/* `per_minute` attempts per minute, bursts up to the same number. */
struct ratelimit *ratelimit_new(int per_minute);
void ratelimit_free(struct ratelimit *rl);
/* 0 when allowed (one token taken); otherwise seconds until the next
 * token. */
int ratelimit_take(struct ratelimit *rl, const char *key, int64_t now_ms);

#endif
