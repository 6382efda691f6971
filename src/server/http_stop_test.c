/*
 * http_stop_test.c - stopping the server (fixtures in http_test_util.h):
 * a graceful stop lets a request in flight finish, then nobody listens;
 * SIGTERM reaches sg_server_signals_wait.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>

#include "server/http_test_util.h"
#include "server/server.h"

struct slow_arg {
	unsigned port;
	long status;
	char body[64];
};

static void *slow_client(void *p)
{
	struct slow_arg *a = p;
	struct res r;
	req_port(&r, a->port, "GET", "/v1/slow", NULL, 0, NULL);
	a->status = r.status;
	snprintf(a->body, sizeof(a->body), "%s", r.body.data);
	res_free(&r);
	return NULL;
}

static void test_graceful_stop(void **state)
{
	(void)state;
	struct sg_server *s2;
	unsigned p2;
	start(&s2, &p2, 0, 0);
	sem_init(&slow_entered, 0, 0);
	struct slow_arg a = {p2, 0, ""};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, slow_client, &a), 0);
	sem_wait(&slow_entered); /* the request is inside its handler */
	sg_server_stop(s2, 5000);
	pthread_join(t, NULL);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{\"slow\":\"done\"}");
	/* nobody listens any more */
	CURL *c = curl_easy_init();
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", p2);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	assert_int_equal(curl_easy_perform(c), CURLE_COULDNT_CONNECT);
	curl_easy_cleanup(c);
	sem_destroy(&slow_entered);
}

struct sig_arg {
	unsigned port;
	pthread_t main;
	long status;
};

static void *request_then_signal(void *p)
{
	struct sig_arg *a = p;
	struct res r;
	req_port(&r, a->port, "GET", "/healthz", NULL, 0, NULL);
	a->status = r.status;
	res_free(&r);
	pthread_kill(a->main, SIGTERM);
	return NULL;
}

/* Last: it leaves SIGINT/SIGTERM/SIGHUP blocked in this process. */
static void test_signal_shutdown(void **state)
{
	(void)state;
	sigset_t set;
	assert_int_equal(sg_server_signals_block(&set), 0);
	struct sg_server *s2;
	unsigned p2;
	start(&s2, &p2, 0, 0);
	struct sig_arg a = {p2, pthread_self(), 0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, request_then_signal, &a), 0);
	int sig = sg_server_signals_wait(&set);
	assert_int_equal(sig, SIGTERM);
	sg_server_stop(s2, 1000);
	pthread_join(t, NULL);
	assert_int_equal(a.status, 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_graceful_stop),
		cmocka_unit_test(test_signal_shutdown),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
