/*
 * http_metrics_test.c - what the server tells operators, over real HTTP on
 * loopback (fixtures in http_test_util.h): /metrics parsed back (request
 * counts, durations, another module's family, in-flight) and the access
 * log (no bodies, queries or tokens).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "server/http_test_util.h"
#include "server/metrics.h"
#include "server/metrics_parse.h"
#include "server/server.h"

static void test_metrics(void **state)
{
	(void)state;
	struct res r;
	char v[128];
	/* a family registered by "another module" */
	struct sg_metric *dec;
	const char *labels[] = {"gate", "tier", NULL};
	assert_int_equal(sg_metrics_counter(&dec, sg_server_metrics(srv),
					    "sopgate_decisions_total",
					    "Decisions by gate and tier.", labels,
					    NULL), 0);
	const char *lv[] = {"auto_send", "standard"};
	sg_metric_inc(dec, lv);
	sg_metric_inc(dec, lv);
	for (int i = 0; i < 3; i++) {
		req(&r, "GET", "/healthz", NULL, NULL);
		res_free(&r);
	}
	req(&r, "GET", "/v1/missing-route", NULL, NULL);
	res_free(&r);
	req(&r, "GET", "/app.css", NULL, NULL);
	res_free(&r);

	req(&r, "GET", "/metrics", NULL, NULL);
	assert_int_equal(r.status, 200);
	assert_string_equal(header(&r, "Content-Type", v, sizeof(v)),
			    "text/plain; version=0.0.4; charset=utf-8");
	struct sg_prom *p = NULL;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_prom_parse(&p, r.body.data, r.body.len, &err))
		fail_msg("%s\n%s", err.msg, r.body.data);
	assert_string_equal(sg_prom_type(p, "sopgate_http_requests_total"), "counter");
	assert_true(sg_prom_value(p, "sopgate_http_requests_total",
				  "route=/healthz,method=GET,status=200") >= 3);
	assert_true(sg_prom_value(p, "sopgate_http_requests_total",
				  "route=unmatched,method=GET,status=404") >= 1);
	/* files are counted under one label, never by path */
	assert_true(sg_prom_value(p, "sopgate_http_requests_total",
				  "route=static,method=GET,status=200") >= 1);
	assert_null(strstr(r.body.data, "app.css"));
	assert_string_equal(sg_prom_type(p, "sopgate_http_request_duration_seconds"),
			    "histogram");
	double cnt = sg_prom_value(p, "sopgate_http_request_duration_seconds_count",
				   "route=/healthz");
	assert_true(cnt >= 3);
	assert_true(sg_prom_value(p, "sopgate_http_request_duration_seconds_bucket",
				  "route=/healthz,le=+Inf") == cnt);
	assert_true(sg_prom_value(p, "sopgate_decisions_total",
				  "gate=auto_send,tier=standard") == 2);
	/* this very request is in flight while rendering */
	assert_true(sg_prom_value(p, "sopgate_http_requests_in_flight", "") >= 1);
	sg_prom_free(p);
	res_free(&r);
}

static void test_access_log(void **state)
{
	(void)state;
	struct res r;
	const char *h[] = {"X-Request-Id: log-check-1",
			   "Authorization: Bearer " AGENT,
			   "Content-Type: application/json", NULL};
	req(&r, "POST", "/v1/tickets?email=someone%40example.com",
	    "{\"body\":\"card 4111111111111111\"}", h);
	assert_int_equal(r.status, 201);
	res_free(&r);
	/* the line is written when the request completes */
	struct timespec ts = {0, 20 * 1000 * 1000};
	const char *line = NULL;
	for (int i = 0; i < 250 && !line; i++) {
		pthread_mutex_lock(&log_lock);
		line = strstr(logbuf.data, "req=log-check-1 ");
		pthread_mutex_unlock(&log_lock);
		if (!line)
			nanosleep(&ts, NULL);
	}
	assert_non_null(line);
	pthread_mutex_lock(&log_lock);
	assert_non_null(strstr(line, "req=log-check-1 POST /v1/tickets 201 "));
	assert_null(strstr(logbuf.data, "4111111111111111"));
	assert_null(strstr(logbuf.data, "example.com"));
	assert_null(strstr(logbuf.data, AGENT));
	pthread_mutex_unlock(&log_lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_access_log),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
