/*
 * store_counter_test.c - shared counters (the daily session budget), on
 * SQLite and on PostgreSQL (see store_test_util.h): several connections
 * taking at once stop at exactly the limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "store/store.h"
#include "store/store_test_util.h"

/* Several connections (as several serve processes) taking from one
 * counter at once: exactly `limit` takes succeed, never more. */
#define TAKERS 4
#define TAKES 30
#define TAKE_LIMIT 50
struct taker {
	const char *path;
	int granted, full, failed;
};

static void *taker_main(void *arg)
{
	struct taker *t = arg;
	char url[600];
	url_of(url, sizeof(url), t->path);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	if (sg_store_open(&s, url, NULL, &err) < 0) {
		t->failed = TAKES;
		return NULL;
	}
	for (int i = 0; i < TAKES; i++) {
		int rc = sg_store_counter_take(s, "budget.sessions:2026-12-07", TAKE_LIMIT, &err);
		if (rc == 0)
			t->granted++;
		else if (rc == 1)
			t->full++;
		else
			t->failed++;
		sg_error_clear(&err);
	}
	sg_store_close(s);
	return NULL;
}

static void test_counter_take(void **state)
{
	(void)state;
	char path[512];
	tmp_db(path, sizeof(path), "counter.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	long v = -1;
	assert_int_equal(sg_store_counter_get(s, "budget.sessions:2026-12-07", &v, &err), 0);
	assert_int_equal(v, 0);
	struct taker tk[TAKERS];
	pthread_t th[TAKERS];
	memset(tk, 0, sizeof(tk));
	for (int i = 0; i < TAKERS; i++) {
		tk[i].path = path;
		assert_int_equal(pthread_create(&th[i], NULL, taker_main, &tk[i]), 0);
	}
	int granted = 0, full = 0;
	for (int i = 0; i < TAKERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(tk[i].failed, 0);
		granted += tk[i].granted;
		full += tk[i].full;
	}
	assert_int_equal(granted, TAKE_LIMIT);
	assert_int_equal(full, TAKERS * TAKES - TAKE_LIMIT);
	assert_int_equal(sg_store_counter_get(s, "budget.sessions:2026-12-07", &v, &err), 0);
	assert_int_equal(v, TAKE_LIMIT);
	/* still full for a later caller; another name (the next day) is fresh */
	assert_int_equal(sg_store_counter_take(s, "budget.sessions:2026-12-07", TAKE_LIMIT, &err), 1);
	assert_int_equal(sg_store_counter_take(s, "budget.sessions:2026-12-08", TAKE_LIMIT, &err), 0);
	assert_int_equal(sg_store_counter_get(s, "budget.sessions:2026-12-08", &v, &err), 0);
	assert_int_equal(v, 1);
	/* a raised limit lets the count go on; a limit below 1 never takes */
	assert_int_equal(sg_store_counter_take(s, "budget.sessions:2026-12-07", TAKE_LIMIT + 1, &err), 0);
	assert_int_equal(sg_store_counter_take(s, "budget.sessions:2026-12-09", 0, &err), 1);
	assert_int_equal(sg_store_counter_get(s, "budget.sessions:2026-12-09", &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sg_store_counter_take(s, "", 5, &err), -SG_EINVALID);
	sg_error_clear(&err);
	sg_store_close(s);
}

int main(void)
{
	if (store_test_init())
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_take),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
