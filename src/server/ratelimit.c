/*
 * ratelimit.c - token buckets in a fixed table keyed by a 64-bit hash of the
 * key (the full key is compared too). When a probe window is full the least
 * recently used bucket there is reused: a reused bucket starts full, which
 * only ever errs towards letting a request through.
 */
#include "server/ratelimit.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/limits.h"
#include "core/banned.h"

#define KEY_MAX 72  /* "tok:" + 64 hex, or an IPv6 address */
#define PROBE 16

_Static_assert((SG_MAX_RATE_KEYS & (SG_MAX_RATE_KEYS - 1)) == 0,
	       "SG_MAX_RATE_KEYS must be a power of two");

struct sg_ratelimit_bucket {
	uint64_t hash;   /* 0: empty */
	uint64_t used;   /* rl->tick at last use */
	uint64_t last_ns;
	double tokens;
	char key[KEY_MAX];
};

int sg_ratelimit_init(struct sg_ratelimit *rl, double rate, double burst)
{
	memset(rl, 0, sizeof(*rl));
	if (!(rate > 0) || !(burst >= 1))
		return -SG_EINVALID;
	rl->rate = rate;
	rl->burst = burst;
	rl->slots = sg_calloc(SG_MAX_RATE_KEYS, sizeof(*rl->slots));
	if (!rl->slots)
		return -SG_ENOMEM;
	pthread_mutex_init(&rl->lock, NULL);
	return 0;
}

void sg_ratelimit_release(struct sg_ratelimit *rl)
{
	if (!rl->slots)
		return;
	sg_free(rl->slots);
	rl->slots = NULL;
	pthread_mutex_destroy(&rl->lock);
}

int sg_ratelimit_take(struct sg_ratelimit *rl, const char *key,
		      uint64_t now_ns, unsigned *retry_after_s)
{
	size_t klen = strnlen(key, KEY_MAX - 1);
	uint64_t h = sg_fnv1a64(key, klen, 0x5167617465ull) | 1;
	int allowed;
	pthread_mutex_lock(&rl->lock);
	size_t mask = SG_MAX_RATE_KEYS - 1, i = h & mask;
	struct sg_ratelimit_bucket *b = NULL, *empty = NULL, *lru = NULL;
	for (int p = 0; p < PROBE; p++, i = (i + 1) & mask) {
		struct sg_ratelimit_bucket *s = &rl->slots[i];
		if (s->hash == 0) {
			if (!empty)
				empty = s;
		} else if (s->hash == h && strncmp(s->key, key, klen) == 0 &&
			   s->key[klen] == '\0') {
			b = s;
			break;
		} else if (!lru || s->used < lru->used) {
			lru = s;
		}
	}
	if (!b) {
		b = empty ? empty : lru;
		b->hash = h;
		memcpy(b->key, key, klen);
		b->key[klen] = '\0';
		b->tokens = rl->burst;
		b->last_ns = now_ns;
	}
	b->used = ++rl->tick;
	if (now_ns > b->last_ns) {
		b->tokens += (double)(now_ns - b->last_ns) / 1e9 * rl->rate;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last_ns = now_ns;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		allowed = 1;
	} else {
		double wait = (1.0 - b->tokens) / rl->rate;
		double up = ceil(wait);
		*retry_after_s = up < 1 ? 1 : up > 86400 ? 86400 : (unsigned)up;
		allowed = 0;
	}
	pthread_mutex_unlock(&rl->lock);
	return allowed;
}
