/*
 * sla_test.c - the SLA scheduler: ordering, update, cancel, pop_due at a
 * given time, bad ids, and a long random sequence checked against a plain
 * array model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "server/sla.h"

static void test_basic(void **state)
{
	(void)state;
	struct sg_sla s;
	struct sg_sla_timer t;
	int64_t due = 0;
	sg_sla_init(&s);
	assert_int_equal(sg_sla_next_due(&s, &due), 0);
	assert_int_equal(sg_sla_pop_due(&s, 1000, &t), 0);
	assert_int_equal(sg_sla_cancel(&s, "nope"), 0);

	assert_int_equal(sg_sla_set(&s, "esc-b", 300, NULL), 0);
	assert_int_equal(sg_sla_set(&s, "esc-a", 100, NULL), 0);
	assert_int_equal(sg_sla_set(&s, "esc-c", 200, NULL), 0);
	assert_int_equal(sg_sla_next_due(&s, &due), 1);
	assert_int_equal(due, 100);
	/* moving esc-a later makes esc-c the next one */
	assert_int_equal(sg_sla_set(&s, "esc-a", 400, NULL), 0);
	assert_int_equal(sg_sla_count(&s), 3);
	assert_int_equal(sg_sla_next_due(&s, &due), 1);
	assert_int_equal(due, 200);
	/* nothing due before 200 */
	assert_int_equal(sg_sla_pop_due(&s, 199, &t), 0);
	assert_int_equal(sg_sla_pop_due(&s, 350, &t), 1);
	assert_string_equal(t.id, "esc-c");
	assert_int_equal(t.due_ms, 200);
	assert_int_equal(sg_sla_pop_due(&s, 350, &t), 1);
	assert_string_equal(t.id, "esc-b");
	assert_int_equal(sg_sla_pop_due(&s, 350, &t), 0);
	assert_int_equal(sg_sla_cancel(&s, "esc-a"), 1);
	assert_int_equal(sg_sla_cancel(&s, "esc-a"), 0);
	assert_int_equal(sg_sla_count(&s), 0);

	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_sla_set(&s, "", 1, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "sla timer id"));
	char longid[SG_SLA_ID_MAX + 1];
	memset(longid, 'x', SG_SLA_ID_MAX);
	longid[SG_SLA_ID_MAX] = '\0';
	assert_int_equal(sg_sla_set(&s, longid, 1, NULL), -SG_EINVALID);
	assert_int_equal(sg_sla_cancel(&s, longid), 0);
	sg_sla_release(&s);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define NID 700
static void test_random_against_model(void **state)
{
	(void)state;
	static int64_t model[NID]; /* due time, -1 when absent */
	for (int i = 0; i < NID; i++)
		model[i] = -1;
	struct sg_sla s;
	sg_sla_init(&s);
	char id[32];
	int64_t now = 0;
	for (int step = 0; step < 60000; step++) {
		unsigned op = (unsigned)(next() % 10);
		int k = (int)(next() % NID);
		snprintf(id, sizeof(id), "esc-%d", k);
		if (op < 5) {
			int64_t due = now + (int64_t)(next() % 1000);
			assert_int_equal(sg_sla_set(&s, id, due, NULL), 0);
			model[k] = due;
		} else if (op < 7) {
			assert_int_equal(sg_sla_cancel(&s, id), model[k] >= 0);
			model[k] = -1;
		} else {
			now += (int64_t)(next() % 50);
			struct sg_sla_timer t;
			while (sg_sla_pop_due(&s, now, &t)) {
				int j;
				assert_int_equal(sscanf(t.id, "esc-%d", &j), 1);
				assert_int_equal(model[j], t.due_ms);
				/* it is the earliest pending timer */
				for (int m = 0; m < NID; m++)
					if (model[m] >= 0)
						assert_true(model[m] >= t.due_ms);
				assert_true(t.due_ms <= now);
				model[j] = -1;
			}
			for (int m = 0; m < NID; m++)
				assert_true(model[m] < 0 || model[m] > now);
		}
		size_t live = 0;
		int64_t min = INT64_MAX;
		for (int m = 0; m < NID; m++)
			if (model[m] >= 0) {
				live++;
				if (model[m] < min)
					min = model[m];
			}
		assert_int_equal(sg_sla_count(&s), live);
		int64_t due;
		assert_int_equal(sg_sla_next_due(&s, &due), live > 0);
		if (live)
			assert_int_equal(due, min);
	}
	sg_sla_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
