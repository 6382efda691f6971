/*
 * ratelimit_test.c - token buckets: burst, refill over (injected) time,
 * Retry-After rounding, independent keys, and reuse of slots past the
 * table size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "core/error.h"
#include "core/limits.h"
#include "server/ratelimit.h"

#define S 1000000000ull

static void test_bucket(void **state)
{
	(void)state;
	struct sg_ratelimit rl;
	unsigned ra = 0;
	assert_int_equal(sg_ratelimit_init(&rl, 0.5, 3), 0); /* 1 per 2 s */
	uint64_t t = 100 * S;
	for (int i = 0; i < 3; i++)
		assert_int_equal(sg_ratelimit_take(&rl, "tok:a", t, &ra), 1);
	assert_int_equal(sg_ratelimit_take(&rl, "tok:a", t, &ra), 0);
	assert_int_equal(ra, 2);
	/* another key has its own bucket */
	assert_int_equal(sg_ratelimit_take(&rl, "ip:127.0.0.1", t, &ra), 1);
	/* 1.5 s later: 0.75 token, still limited, retry in 1 s (rounded up) */
	assert_int_equal(sg_ratelimit_take(&rl, "tok:a", t + 3 * S / 2, &ra), 0);
	assert_int_equal(ra, 1);
	/* 2 s after the start: one token */
	assert_int_equal(sg_ratelimit_take(&rl, "tok:a", t + 2 * S, &ra), 1);
	assert_int_equal(sg_ratelimit_take(&rl, "tok:a", t + 2 * S, &ra), 0);
	/* a long pause refills only up to the burst */
	t += 1000 * S;
	for (int i = 0; i < 3; i++)
		assert_int_equal(sg_ratelimit_take(&rl, "tok:a", t, &ra), 1);
	assert_int_equal(sg_ratelimit_take(&rl, "tok:a", t, &ra), 0);
	/* a clock going backwards never adds tokens */
	assert_int_equal(sg_ratelimit_take(&rl, "tok:a", t - 50 * S, &ra), 0);
	sg_ratelimit_release(&rl);

	assert_int_equal(sg_ratelimit_init(&rl, 0, 3), -SG_EINVALID);
	assert_int_equal(sg_ratelimit_init(&rl, 1, 0.5), -SG_EINVALID);
}

static void test_many_keys(void **state)
{
	(void)state;
	struct sg_ratelimit rl;
	unsigned ra;
	char key[32];
	assert_int_equal(sg_ratelimit_init(&rl, 1, 1), 0);
	/* more keys than slots: each new key still gets its first request */
	for (unsigned i = 0; i < 3 * SG_MAX_RATE_KEYS; i++) {
		snprintf(key, sizeof(key), "ip:10.%u.%u.%u", i >> 16,
			 (i >> 8) & 255, i & 255);
		assert_int_equal(sg_ratelimit_take(&rl, key, S, &ra), 1);
	}
	/* a hot key stays limited while cold keys churn */
	assert_int_equal(sg_ratelimit_take(&rl, "tok:hot", S, &ra), 1);
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "ip:11.0.%u.%u", i >> 8, i & 255);
		sg_ratelimit_take(&rl, key, S, &ra);
		assert_int_equal(sg_ratelimit_take(&rl, "tok:hot", S, &ra), 0);
	}
	sg_ratelimit_release(&rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_many_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
