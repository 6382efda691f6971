/*
 * kill_test.c - a crash between sending and marking sent never loses an
 * action and its resend is harmless: queue actions in a real database,
 * start `sopgate serve` delivering them to a slow fake vendor that dedups
 * on the Idempotency-Key, SIGKILL the server while deliveries are in
 * flight, restart it, and check that every action is sent and took effect
 * exactly once at the vendor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "outbox/fake_test.h"
#include "store/store.h"

#define N_ACTIONS 40

static char dir[256], db[400], url[420], policy[400], logpath[400];

static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static pid_t start_serve(void)
{
	const char *bin = getenv("SOPGATE");
	if (!bin)
		bin = "build/sopgate";
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_WRONLY);
		dup2(nul, 1);
		dup2(fd, 2);
		execl(bin, bin, "serve", "--policy", policy, "--db", db, "--listen", "127.0.0.1:0",
		      "--console", "none", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static long count(const char *state)
{
	struct sg_store *s = NULL;
	struct sg_error err = SG_ERROR_INIT;
	long n = -1;
	if (sg_store_open(&s, url, "kill-test-reader", &err) == 0)
		sg_store_outbox_count(s, state, &n, &err);
	sg_store_close(s);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void test_kill_mid_delivery(void **state)
{
	(void)state;
	struct fake f;
	struct sg_error err = SG_ERROR_INIT;
	const char *base = getenv("SG_TEST_TMP");
	snprintf(dir, sizeof(dir), "%s/outbox-kill-XXXXXX", base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/db", dir);
	snprintf(url, sizeof(url), "sqlite:%s", db);
	snprintf(policy, sizeof(policy), "%s/acme/policy.yaml", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);

	/* the vendor: answers 200 after 150 ms, one effect per key */
	assert_int_equal(fake_start(&f, 200, "{\"ok\":true}"), 0);
	f.dflt.delay_ms = 150;

	sh("cp -r examples/acme '%s/acme'", dir);
	FILE *fp = fopen(policy, "a");
	assert_non_null(fp);
	fprintf(fp, "\nconnectors:\n  vendor: {type: webhook, base_url: 'http://127.0.0.1:%u/v1/events',"
		" secret_env: SG_KILL_SECRET, timeout: 2s}\n"
		"outbox: {concurrency: 4, poll: 1s, max_attempts: 20, backoff: 1s, lease: 8s}\n",
		f.port); /* a short lease: the killed server's claims come back within the wait
			  * below (the default, 2 minutes, is as long as the wait itself) */
	fclose(fp);
	setenv("SG_KILL_SECRET", "kill-test-secret", 1);

	/* queue the actions, as decisions would */
	struct sg_store *s = NULL;
	assert_int_equal(sg_store_open(&s, url, "kill-test", &err), 0);
	for (int i = 0; i < N_ACTIONS; i++) {
		char tid[32], payload[128];
		snprintf(tid, sizeof(tid), "KILL-%d", i);
		snprintf(payload, sizeof(payload), "{\"kind\":\"notify\",\"connector\":\"vendor\",\"n\":%d}", i);
		struct sg_outbox_action a = {"notify", NULL, payload, NULL};
		struct sg_ticket_write w;
		memset(&w, 0, sizeof(w));
		w.ticket_id = tid;
		w.event_id = "e1";
		w.event_json = "{}";
		w.decision_json = "{\"gate\":\"agent_review\"}";
		w.gate = "agent_review";
		w.risk_tier = "low";
		w.intent = "other";
		w.queue = "triage";
		w.policy_version = "v";
		w.actions = &a;
		w.nactions = 1;
		if (sg_store_ticket_write(s, &w, &err) < 0)
			fail_msg("write: %s", err.msg);
	}
	sg_store_close(s);

	/* deliver, and kill the server with deliveries in flight */
	pid_t pid = start_serve();
	for (int i = 0; i < 600 && fake_nreqs(&f) < 10; i++)
		sleep_ms(50);
	assert_true(fake_nreqs(&f) >= 10);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	long sent_at_kill = count("sent");
	size_t reqs_at_kill = fake_nreqs(&f);
	if (sent_at_kill >= N_ACTIONS)
		fail_msg("the server finished before the kill: nothing was in flight");
	/* requests the vendor received (and applied) that were not recorded
	 * as sent: these are the resends to come */
	long unrecorded = (long)reqs_at_kill - sent_at_kill;

	/* restart: the leases of the killed server expire and its actions
	 * are delivered again; everything ends sent */
	pid = start_serve();
	for (int i = 0; i < 1200 && count("sent") < N_ACTIONS; i++)
		sleep_ms(100);
	kill(pid, SIGTERM);
	int wst;
	waitpid(pid, &wst, 0);
	assert_int_equal(count("sent"), N_ACTIONS);
	assert_int_equal(count("pending"), 0);
	assert_int_equal(count("dead"), 0);

	/* exactly once in effect: every key reached the vendor, none twice in
	 * effect (the dedup absorbed the resends) */
	int max_hits = 0;
	assert_int_equal(fake_effects(&f, &max_hits), N_ACTIONS);
	size_t total = fake_nreqs(&f);
	print_message("kill test: %d actions, %zu requests received before the kill, %ld "
		      "recorded sent; %zu requests in all (%zu resends), at most %d deliveries "
		      "of one key, %d effects\n", N_ACTIONS, reqs_at_kill, sent_at_kill, total,
		      total - N_ACTIONS, max_hits, N_ACTIONS);
	assert_true(unrecorded >= 0);
	assert_true(total >= (size_t)N_ACTIONS);
	fake_stop(&f);
	sh("rm -rf '%s'", dir);
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill_mid_delivery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
