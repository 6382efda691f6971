/*
 * metrics_test.c - the metrics registry: registration rules, counters,
 * gauges and histograms, label escaping, the series cap, concurrent
 * updates, and the rendered text parsed back line by line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/limits.h"
#include "server/metrics.h"
#include "server/metrics_parse.h"

static void test_register_rules(void **state)
{
	(void)state;
	struct sg_metrics *reg;
	struct sg_metric *m, *m2;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_metrics_new(&reg), 0);
	const char *gt[] = {"gate", "tier", NULL};
	assert_int_equal(sg_metrics_counter(&m, reg, "sopgate_decisions_total",
					    "Decisions.", gt, NULL), 0);
	/* same shape: the same family */
	assert_int_equal(sg_metrics_counter(&m2, reg, "sopgate_decisions_total",
					    "Decisions.", gt, NULL), 0);
	assert_ptr_equal(m, m2);
	/* another shape under the same name */
	assert_int_equal(sg_metrics_gauge(&m2, reg, "sopgate_decisions_total",
					  "x", gt, &err), -SG_EINVALID);
	assert_null(m2);
	assert_non_null(strstr(err.msg, "already registered"));
	err = (struct sg_error)SG_ERROR_INIT;
	assert_int_equal(sg_metrics_counter(&m2, reg, "sopgate_decisions",
					    "x", NULL, &err), -SG_EINVALID);
	assert_string_equal(err.msg, "metric 'sopgate_decisions': a counter "
			    "name must end in '_total'");
	assert_int_equal(sg_metrics_gauge(&m2, reg, "9bad", "x", NULL, NULL),
			 -SG_EINVALID);
	assert_int_equal(sg_metrics_gauge(&m2, reg, "bad-name", "x", NULL, NULL),
			 -SG_EINVALID);
	const char *reserved[] = {"__name", NULL};
	assert_int_equal(sg_metrics_gauge(&m2, reg, "g", "x", reserved, NULL),
			 -SG_EINVALID);
	const char *dup[] = {"a", "a", NULL};
	assert_int_equal(sg_metrics_gauge(&m2, reg, "g", "x", dup, NULL),
			 -SG_EINVALID);
	const char *five[] = {"a", "b", "c", "d", "e", NULL};
	assert_int_equal(sg_metrics_gauge(&m2, reg, "g", "x", five, NULL),
			 -SG_EINVALID);
	const char *le[] = {"le", NULL};
	double b[] = {1, 2};
	assert_int_equal(sg_metrics_histogram(&m2, reg, "h", "x", le, b, 2, NULL),
			 -SG_EINVALID);
	double bad[] = {1, 1};
	assert_int_equal(sg_metrics_histogram(&m2, reg, "h", "x", NULL, bad, 2,
					      NULL), -SG_EINVALID);
	assert_int_equal(sg_metrics_histogram(&m2, reg, "h", "x", NULL, b, 0,
					      NULL), -SG_EINVALID);
	sg_metrics_free(reg);
}

static void test_render_and_parse(void **state)
{
	(void)state;
	struct sg_metrics *reg;
	struct sg_metric *c, *g, *h, *u;
	assert_int_equal(sg_metrics_new(&reg), 0);
	const char *gl[] = {"gate", NULL};
	assert_int_equal(sg_metrics_counter(&c, reg, "sopgate_tickets_processed_total",
					    "Ticket events processed,\nby gate \\ outcome.",
					    gl, NULL), 0);
	assert_int_equal(sg_metrics_gauge(&g, reg, "sopgate_queue_depth",
					  "Open items in the review queue.", NULL,
					  NULL), 0);
	const char *bl[] = {"backend", NULL};
	double bounds[] = {0.5, 1, 2.5};
	assert_int_equal(sg_metrics_histogram(&h, reg, "sopgate_model_seconds",
					      "Model call latency.", bl, bounds, 3,
					      NULL), 0);
	assert_int_equal(sg_metrics_counter(&u, reg, "sopgate_unused_total",
					    "Never incremented.", NULL, NULL), 0);

	const char *a[] = {"auto_send"}, *r[] = {"agent_review"};
	const char *weird[] = {"a\"b\\c\nd"};
	for (int i = 0; i < 1027; i++)
		sg_metric_inc(c, a);
	sg_metric_add(c, r, 311);
	sg_metric_add(c, r, -5); /* counters never go down */
	sg_metric_inc(c, weird);
	sg_metric_set(g, NULL, 3);
	sg_metric_add(g, NULL, -1);
	sg_metric_inc(g, NULL);
	const char *an[] = {"anthropic"};
	double obs[] = {0.1, 0.5, 0.7, 1.0, 2.0, 9.0, 0.2};
	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		sg_metric_observe(h, an, obs[i]);
	sg_metric_observe(h, an, NAN); /* dropped */
	sg_metric_inc(h, an);          /* wrong type: ignored */

	struct sg_buf out = SG_BUF_INIT;
	sg_metrics_render(reg, &out);
	assert_false(out.oom);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_prom *p = NULL;
	int rc = sg_prom_parse(&p, out.data, out.len, &err);
	if (rc)
		fail_msg("%s\n%s", err.msg, out.data);

	assert_string_equal(sg_prom_type(p, "sopgate_tickets_processed_total"),
			    "counter");
	assert_string_equal(sg_prom_help(p, "sopgate_tickets_processed_total"),
			    "Ticket events processed,\nby gate \\ outcome.");
	assert_true(sg_prom_value(p, "sopgate_tickets_processed_total",
				  "gate=auto_send") == 1027);
	assert_true(sg_prom_value(p, "sopgate_tickets_processed_total",
				  "gate=agent_review") == 311);
	assert_true(sg_prom_value(p, "sopgate_tickets_processed_total",
				  "gate=a\"b\\c\nd") == 1);
	assert_string_equal(sg_prom_type(p, "sopgate_queue_depth"), "gauge");
	assert_true(sg_prom_value(p, "sopgate_queue_depth", "") == 3);
	assert_true(sg_prom_value(p, "sopgate_unused_total", "") == 0);
	assert_string_equal(sg_prom_type(p, "sopgate_model_seconds"), "histogram");
	assert_true(sg_prom_value(p, "sopgate_model_seconds_bucket",
				  "backend=anthropic,le=0.5") == 3);
	assert_true(sg_prom_value(p, "sopgate_model_seconds_bucket",
				  "backend=anthropic,le=1") == 5);
	assert_true(sg_prom_value(p, "sopgate_model_seconds_bucket",
				  "backend=anthropic,le=2.5") == 6);
	assert_true(sg_prom_value(p, "sopgate_model_seconds_bucket",
				  "backend=anthropic,le=+Inf") == 7);
	assert_true(sg_prom_value(p, "sopgate_model_seconds_count",
				  "backend=anthropic") == 7);
	assert_true(fabs(sg_prom_value(p, "sopgate_model_seconds_sum",
				       "backend=anthropic") - 13.5) < 1e-9);
	/* the raw text: escaping and the final newline */
	assert_non_null(strstr(out.data, "gate=\"a\\\"b\\\\c\\nd\"} 1\n"));
	assert_non_null(strstr(out.data, "# HELP sopgate_tickets_processed_total "
			       "Ticket events processed,\\nby gate \\\\ outcome.\n"));
	assert_int_equal(out.data[out.len - 1], '\n');
	sg_prom_free(p);
	sg_buf_release(&out);
	sg_metrics_free(reg);
}

static void test_series_cap(void **state)
{
	(void)state;
	struct sg_metrics *reg;
	struct sg_metric *c;
	assert_int_equal(sg_metrics_new(&reg), 0);
	const char *l[] = {"route", NULL};
	assert_int_equal(sg_metrics_counter(&c, reg, "x_total", "x", l, NULL), 0);
	char v[32];
	const char *vals[] = {v};
	for (int i = 0; i < SG_MAX_METRIC_SERIES + 10; i++) {
		snprintf(v, sizeof(v), "r%d", i);
		sg_metric_inc(c, vals);
	}
	struct sg_buf out = SG_BUF_INIT;
	sg_metrics_render(reg, &out);
	struct sg_prom *p = NULL;
	assert_int_equal(sg_prom_parse(&p, out.data, out.len, NULL), 0);
	assert_true(sg_prom_value(p, "x_total", "route=overflow") == 10);
	assert_int_equal(sg_prom_count(p), SG_MAX_METRIC_SERIES + 1);
	sg_prom_free(p);
	sg_buf_release(&out);
	sg_metrics_free(reg);
}

struct worker {
	struct sg_metric *c, *h;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	char v[8];
	const char *vals[] = {v};
	for (int i = 0; i < 50000; i++) {
		snprintf(v, sizeof(v), "s%d", i % 7);
		sg_metric_inc(w->c, vals);
		sg_metric_observe(w->h, vals, (double)(i % 3));
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct sg_metrics *reg;
	struct worker w;
	assert_int_equal(sg_metrics_new(&reg), 0);
	const char *l[] = {"shard", NULL};
	double b[] = {0.5, 1.5};
	assert_int_equal(sg_metrics_counter(&w.c, reg, "t_total", "t", l, NULL), 0);
	assert_int_equal(sg_metrics_histogram(&w.h, reg, "t_seconds", "t", l, b, 2,
					      NULL), 0);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &w), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	struct sg_buf out = SG_BUF_INIT;
	sg_metrics_render(reg, &out);
	struct sg_prom *p = NULL;
	assert_int_equal(sg_prom_parse(&p, out.data, out.len, NULL), 0);
	double total = 0, count = 0, sum = 0;
	char key[32];
	for (int s = 0; s < 7; s++) {
		snprintf(key, sizeof(key), "shard=s%d", s);
		total += sg_prom_value(p, "t_total", key);
		count += sg_prom_value(p, "t_seconds_count", key);
		sum += sg_prom_value(p, "t_seconds_sum", key);
	}
	assert_true(total == 200000);
	assert_true(count == 200000);
	/* i % 3 over 0..49999 sums to 49999 per thread */
	assert_true(sum == 4.0 * 49999);
	sg_prom_free(p);
	sg_buf_release(&out);
	sg_metrics_free(reg);
}

static void test_parser_rejects(void **state)
{
	(void)state;
	static const struct {
		const char *text, *why;
	} bad[] = {
		{"a 1", "newline"},
		{"a 1\n# TYPE a gauge\n", "after its samples"},
		{"# TYPE a gauge\n# TYPE a gauge\na 1\n", "second TYPE"},
		{"a 1\nb 1\na 2\n", "not grouped"},
		{"a{x=\"\\q\"} 1\n", "invalid escape"},
		{"a{x=\"v} 1\n", "unterminated"},
		{"a{x=v} 1\n", "expected '=\""},
		{"a one\n", "invalid value"},
		{"# TYPE a wat\n", "unknown type"},
		{"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\n"
		 "h_sum 1\nh_count 4\n", "differs from _count"},
		{"# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 3\n"
		 "h_sum 1\nh_count 3\n", "cumulative"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sg_error err = SG_ERROR_INIT;
		struct sg_prom *p = NULL;
		assert_int_equal(sg_prom_parse(&p, bad[i].text, strlen(bad[i].text),
					       &err), -SG_EINVALID);
		assert_null(p);
		if (!strstr(err.msg, bad[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].why);
	}
	const char *ok = "# HELP a A thing.\n# TYPE a gauge\na{x=\"1\",} 2 1700000000000\n";
	struct sg_prom *p = NULL;
	assert_int_equal(sg_prom_parse(&p, ok, strlen(ok), NULL), 0);
	assert_true(sg_prom_value(p, "a", "x=1") == 2);
	sg_prom_free(p);
}

/* Many families, one sample each: the family table grows while the
 * previous sample's family is still the current one (a use after free that
 * the fuzzer found before the current family was kept by index). */
static void test_parser_many_families(void **state)
{
	(void)state;
	struct sg_buf b = SG_BUF_INIT;
	for (int i = 0; i < 100; i++)
		sg_buf_addf(&b, "metric_%d{k=\"v\"} %d\n", i, i);
	sg_buf_adds(&b, "metric_3 1\n"); /* back to an earlier family */
	struct sg_error err = SG_ERROR_INIT;
	struct sg_prom *p = NULL;
	assert_int_equal(sg_prom_parse(&p, b.data, b.len - strlen("metric_3 1\n"), NULL), 0);
	assert_true(sg_prom_value(p, "metric_99", "k=v") == 99);
	assert_int_equal(sg_prom_count(p), 100);
	sg_prom_free(p);
	assert_int_equal(sg_prom_parse(&p, b.data, b.len, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "not grouped"));
	sg_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules),
		cmocka_unit_test(test_render_and_parse),
		cmocka_unit_test(test_series_cap),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_parser_rejects),
		cmocka_unit_test(test_parser_many_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
