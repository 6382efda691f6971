/*
 * ratelimit.h - token-bucket rate limiting per key (a token hash or a client
 * address). Thread-safe; the clock is a parameter so tests control time.
 */
#ifndef SG_SERVER_RATELIMIT_H
#define SG_SERVER_RATELIMIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct sg_ratelimit_bucket;

struct sg_ratelimit {
	double rate;  /* tokens added per second */
	double burst; /* bucket size */
	pthread_mutex_t lock;
	struct sg_ratelimit_bucket *slots; /* SG_MAX_RATE_KEYS, open addressing */
	uint64_t tick; /* use counter, for least-recently-used reuse */
};

/* rate > 0 requests per second, burst >= 1. 0 or -SG_ENOMEM/-SG_EINVALID. */
int sg_ratelimit_init(struct sg_ratelimit *rl, double rate, double burst);
void sg_ratelimit_release(struct sg_ratelimit *rl);

/* Takes one token for `key` at monotonic time now_ns: 1 when allowed, 0 when
 * limited, with *retry_after_s (>= 1) set to the seconds until a token is
 * available. */
int sg_ratelimit_take(struct sg_ratelimit *rl, const char *key,
		      uint64_t now_ns, unsigned *retry_after_s);

#endif
