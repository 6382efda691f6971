/*
 * store_test.c - opening the store on a real SQLite file in a temporary
 * folder, or, when SOPGATE_TEST_STORE names a PostgreSQL server
 * (postgres://.../postgres, started by tests/pg-setup.sh), on a fresh
 * database of that server per test: migrations, bad URLs, the connection
 * pool, tracing and out-of-memory paths. The other store_*_test.c and
 * batcher_test.c run on both backends the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "store/store.h"
#include "store/store_test_util.h"

static void test_migrate_reopen(void **state)
{
	(void)state;
	char path[512];
	tmp_db(path, sizeof(path), "migrate.db");
	struct sg_store *s = open_db(path, NULL);
	int v = 0;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_schema_version(s, &v, &err), 0);
	assert_true(v >= 1);
	assert_string_equal(sg_store_backend(s), backend_name());
	sg_store_close(s);
	s = open_db(path, NULL); /* re-open: nothing to migrate, same version */
	int v2 = 0;
	assert_int_equal(sg_store_schema_version(s, &v2, &err), 0);
	assert_int_equal(v, v2);
	sg_store_close(s);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM schema_version"), v);
	assert_int_equal(count(path, pg_base ? "SELECT COUNT(*) FROM information_schema.tables"
			       " WHERE table_name = 'outbox'"
			       : "SELECT COUNT(*) FROM sqlite_master WHERE name = 'outbox'"), 1);
	/* a database from a newer sopgate is refused */
	exec_sql(path, "INSERT INTO schema_version VALUES (999, 'future', 0)");
	char url[600];
	url_of(url, sizeof(url), path);
	s = NULL;
	assert_int_equal(sg_store_open(&s, url, NULL, &err), -SG_ESTORE);
	assert_null(s);
	assert_non_null(strstr(err.msg, "schema version 999, newer"));
}

static void test_bad_urls(void **state)
{
	(void)state;
	struct sg_store *s = NULL;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_open(&s, "postgres://127.0.0.1:1/x?connect_timeout=2", NULL, &err),
			 -SG_ESTORE);
	assert_non_null(strstr(err.msg, "unable to connect"));
	sg_error_clear(&err);
	assert_int_equal(sg_store_open(&s, "mysql://x", NULL, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "unknown scheme"));
	sg_error_clear(&err);
	assert_int_equal(sg_store_open(&s, "sqlite:", NULL, &err), -SG_EINVALID);
	sg_error_clear(&err);
	assert_int_equal(sg_store_open(&s, "sqlite:/x.db", "anchor", &err), -SG_EINVALID);
	sg_error_clear(&err);
	assert_int_equal(sg_store_open_existing(&s, "sqlite:/nonexistent/dir/x.db", NULL, &err),
			 -SG_ENOTFOUND);
	assert_null(s);
}

struct pool_waiter {
	struct sg_store_pool *p;
	struct sg_store *got;
};

static void *pool_wait(void *arg)
{
	struct pool_waiter *pw = arg;
	pw->got = sg_store_pool_get(pw->p);
	return NULL;
}

static void test_pool(void **state)
{
	(void)state;
	char path[512], url[600];
	tmp_db(path, sizeof(path), "pool.db");
	sg_store_close(open_db(path, NULL)); /* create and migrate */
	url_of(url, sizeof(url), path);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store_pool *p = NULL;
	assert_int_equal(sg_store_pool_open(&p, url, "reader", 0, &err), -SG_EINVALID);
	sg_error_clear(&err);
	assert_int_equal(sg_store_pool_open(&p, url, "reader", 3, &err), 0);
	struct sg_store *a = sg_store_pool_get(p), *b = sg_store_pool_get(p),
			*c = sg_store_pool_get(p);
	assert_true(a != b && b != c && a != c);
	int v = 0;
	assert_int_equal(sg_store_schema_version(c, &v, &err), 0);
	assert_true(v >= 2);
	/* a fourth reader waits until one is returned, then gets that one */
	struct pool_waiter pw = {p, NULL};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, pool_wait, &pw), 0);
	sg_store_pool_put(p, b);
	pthread_join(t, NULL);
	assert_ptr_equal(pw.got, b);
	sg_store_pool_put(p, a);
	sg_store_pool_put(p, b);
	sg_store_pool_put(p, c);
	sg_store_pool_close(p);
}

static void test_trace(void **state)
{
	(void)state;
	char path[512], log[600], dec[256];
	tmp_db(path, sizeof(path), "trace.db");
	snprintf(log, sizeof(log), "%s/trace-%d.log", getenv("SG_TEST_TMP") ? getenv("SG_TEST_TMP")
		 : "/tmp", (int)getpid());
	unlink(log);
	setenv("SOPGATE_STORE_TRACE", log, 1);
	struct sg_store *s = open_db(path, NULL);
	unsetenv("SOPGATE_STORE_TRACE");
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w;
	fill(&w, "T-5", "e-1", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	sg_store_close(s);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(sg_read_file(log, &text, &len, &err), 0);
	char begin[64];
	snprintf(begin, sizeof(begin), "store %s: begin() = 0", backend_name());
	assert_non_null(strstr(text, begin));
	assert_non_null(strstr(text, "ticket_write(ticket=T-5, event=e-1, actions=2)"));
	assert_non_null(strstr(text, "audit_append(action=decision) -> chain main seq 1 = 0"));
	assert_non_null(strstr(text, "commit() = 0"));
	assert_null(strstr(text, "EMAIL_1")); /* no ticket text in the trace */
	sg_free(text);
}

/* Every allocation of open + write + close fails in turn: no crash, no
 * leak (ASan checks), and a clean error each time. */
static void test_alloc_failures(void **state)
{
	(void)state;
	char path[512], dec[256], ev[32];
	tmp_db(path, sizeof(path), "oom.db");
	for (unsigned long n = 1; n < 10000; n++) {
		struct sg_store *s = NULL;
		struct sg_error err = SG_ERROR_INIT;
		char url[600];
		url_of(url, sizeof(url), path);
		snprintf(ev, sizeof(ev), "e-%lu", n);
		sg_alloc_fail_at(n);
		int rc = sg_store_open(&s, url, NULL, &err);
		if (rc == 0) {
			struct sg_ticket_write w;
			fill(&w, "T-6", ev, dec, sizeof(dec));
			rc = sg_store_ticket_write(s, &w, &err);
			sg_free(w.stored_decision);
			sg_store_close(s);
		}
		unsigned long made = sg_alloc_fail_at(0);
		if (rc < 0)
			{ if (rc != -SG_ENOMEM) fprintf(stderr, "n=%lu %s\n", n, err.msg); assert_int_equal(rc, -SG_ENOMEM); }
		if (rc == 0 && made < n)
			break; /* every allocation point has been failed once */
	}
	struct sg_store *s = open_db(path, NULL);
	assert_true(verify_ok(s));
	sg_store_close(s);
}

int main(void)
{
	if (store_test_init())
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_reopen),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
