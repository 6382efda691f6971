/*
 * batcher_test.c - the group committer, on SQLite and on PostgreSQL (see
 * store_test_util.h): writes from several threads, a wide fan-in, and a
 * process killed mid-burst that keeps every write it acknowledged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "store/store.h"
#include "store/store_test_util.h"

#define THREADS 4
#define PER_THREAD 30

struct worker {
	struct sg_store_batcher *b;
	int id;
	int rc[PER_THREAD + 1];
	char decision_id[PER_THREAD + 1][SG_ID_LEN];
	char ticket[PER_THREAD + 1][32], event[PER_THREAD + 1][32];
	int existed_dup;
	char msg[PER_THREAD + 1][64];
};

static int is_bad(int thread, int i)
{
	return thread == 1 && i % 5 == 0;
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		char dec[256];
		struct sg_ticket_write w;
		struct sg_error err = SG_ERROR_INIT;
		snprintf(wk->ticket[i], 32, "T-%d-%d", wk->id, i);
		snprintf(wk->event[i], 32, "e-%d", i);
		fill(&w, wk->ticket[i], wk->event[i], dec, sizeof(dec));
		if (is_bad(wk->id, i))
			w.actions = bad_action;
		wk->rc[i] = sg_store_batcher_write(wk->b, &w, &err);
		memcpy(wk->decision_id[i], w.decision_id, SG_ID_LEN);
		snprintf(wk->msg[i], 64, "%.60s", err.msg);
		sg_free(w.stored_decision);
	}
	/* a retry of this thread's first event: the same decision comes back */
	char dec[256];
	struct sg_ticket_write w;
	struct sg_error err = SG_ERROR_INIT;
	fill(&w, wk->ticket[PER_THREAD - 1], wk->event[PER_THREAD - 1], dec, sizeof(dec));
	wk->rc[PER_THREAD] = sg_store_batcher_write(wk->b, &w, &err);
	wk->existed_dup = w.existed && !strcmp(w.decision_id, wk->decision_id[PER_THREAD - 1]);
	sg_free(w.stored_decision);
	return NULL;
}

static void test_group_commit(void **state)
{
	(void)state;
	char path[512];
	tmp_db(path, sizeof(path), "group.db");
	struct sg_store *s = open_db(path, "committer");
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store_batcher *b = NULL;
	assert_int_equal(sg_store_batcher_start(&b, s, 64, &err), 0);
	sg_store_batcher_anchor_every(b, 10);
	static struct worker wk[THREADS];
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++) {
		memset(&wk[t], 0, sizeof(wk[t]));
		wk[t].b = b;
		wk[t].id = t;
		assert_int_equal(pthread_create(&th[t], NULL, worker_main, &wk[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	unsigned long commits = sg_store_batcher_commits(b);
	struct sg_store_batch_stats st;
	sg_store_batcher_stats(b, &st);
	sg_store_batcher_stop(b);
	assert_true(commits >= 1);
	/* every write answered once (good, failed and duplicate alike) */
	assert_int_equal(st.writes, THREADS * (PER_THREAD + 1));
	assert_true(st.commits >= commits);
	assert_true(st.max_batch >= 1 && st.max_batch <= 64);
	long good = 0;
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < PER_THREAD; i++) {
			if (is_bad(t, i)) {
				assert_int_equal(wk[t].rc[i], -SG_ESTORE);
				assert_non_null(strstr(wk[t].msg[i], "outbox"));
				continue;
			}
			assert_int_equal(wk[t].rc[i], 0);
			good++;
			/* each caller got its own decision, stored under its event */
			char sql[256];
			snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM ticket_events WHERE "
				 "ticket_id = '%s' AND event_id = '%s' AND decision_id = '%s'",
				 wk[t].ticket[i], wk[t].event[i], wk[t].decision_id[i]);
			assert_int_equal(count(path, sql), 1);
		}
		assert_int_equal(wk[t].rc[PER_THREAD], 0);
		assert_true(wk[t].existed_dup);
	}
	assert_int_equal(count(path, "SELECT COUNT(*) FROM decisions"), good);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM ticket_events"), good);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM outbox"), 2 * good);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE chain = 'committer'"), good);
	assert_int_equal(count(path, "SELECT COUNT(DISTINCT id) FROM decisions"), good);
	/* anchors were written along the way (at least one per 10 + batch) */
	assert_true(count(path, "SELECT COUNT(*) FROM audit WHERE chain = 'anchor'") >=
		    good / (10 + 64));
	assert_true(count(path, "SELECT COUNT(*) FROM audit WHERE chain = 'anchor'") >= 1);
	assert_true(verify_ok(s));
	sg_store_close(s);
}

/* Many callers at once: batches large enough for the wake-up tree to be
 * several levels deep. Every caller must be woken with its own result
 * (a caller left asleep hangs the test), and every write is stored. */
#define FAN_THREADS 48
#define FAN_WRITES 8

struct fan {
	struct sg_store_batcher *b;
	int id, rc[FAN_WRITES];
	char decision_id[FAN_WRITES][SG_ID_LEN];
};

static void *fan_main(void *arg)
{
	struct fan *f = arg;
	for (int i = 0; i < FAN_WRITES; i++) {
		char ticket[32], dec[256];
		struct sg_ticket_write w;
		struct sg_error err = SG_ERROR_INIT;
		snprintf(ticket, sizeof(ticket), "F-%d-%d", f->id, i);
		fill(&w, ticket, "e-1", dec, sizeof(dec));
		f->rc[i] = sg_store_batcher_write(f->b, &w, &err);
		memcpy(f->decision_id[i], w.decision_id, SG_ID_LEN);
		sg_free(w.stored_decision);
	}
	return NULL;
}

static void test_group_commit_fan_in(void **state)
{
	(void)state;
	char path[512];
	tmp_db(path, sizeof(path), "fan.db");
	struct sg_store *s = open_db(path, "fan");
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store_batcher *b = NULL;
	assert_int_equal(sg_store_batcher_start(&b, s, 256, &err), 0);
	static struct fan f[FAN_THREADS];
	pthread_t th[FAN_THREADS];
	for (int t = 0; t < FAN_THREADS; t++) {
		memset(&f[t], 0, sizeof(f[t]));
		f[t].b = b;
		f[t].id = t;
		assert_int_equal(pthread_create(&th[t], NULL, fan_main, &f[t]), 0);
	}
	for (int t = 0; t < FAN_THREADS; t++)
		pthread_join(th[t], NULL);
	struct sg_store_batch_stats st;
	sg_store_batcher_stats(b, &st);
	sg_store_batcher_stop(b);
	assert_int_equal(st.writes, FAN_THREADS * FAN_WRITES);
	assert_true(st.commits >= 1 && st.commits <= st.writes);
	for (int t = 0; t < FAN_THREADS; t++)
		for (int i = 0; i < FAN_WRITES; i++) {
			assert_int_equal(f[t].rc[i], 0);
			char sql[256];
			snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM ticket_events WHERE "
				 "ticket_id = 'F-%d-%d' AND decision_id = '%s'", t, i,
				 f[t].decision_id[i]);
			assert_int_equal(count(path, sql), 1);
		}
	assert_int_equal(count(path, "SELECT COUNT(*) FROM decisions"),
			 FAN_THREADS * FAN_WRITES);
	assert_true(verify_ok(s));
	sg_store_close(s);
}

/* A process killed with SIGKILL in the middle of a burst: every write it
 * acknowledged is in the database and the audit chain verifies. (A killed
 * process leaves the OS page cache intact, so this checks atomicity and
 * acknowledgement order, not fsync; synchronous=FULL covers power loss.) */
struct crash_job {
	struct sg_store_batcher *b;
	int id, fd;
};

static void *crash_worker(void *arg)
{
	struct crash_job *j = arg;
	for (int i = 0; i < 100000; i++) {
		char ticket[32], dec[256], line[48];
		struct sg_ticket_write w;
		struct sg_error err = SG_ERROR_INIT;
		snprintf(ticket, sizeof(ticket), "K-%d-%d", j->id, i);
		fill(&w, ticket, "e-1", dec, sizeof(dec));
		if (sg_store_batcher_write(j->b, &w, &err) == 0) {
			int n = snprintf(line, sizeof(line), "%s\n", ticket);
			if (write(j->fd, line, (size_t)n) != n)
				_exit(3);
		}
	}
	return NULL;
}

static void test_sigkill_burst(void **state)
{
	(void)state;
	char path[512];
	tmp_db(path, sizeof(path), "crash.db");
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		struct sg_store *s = open_db(path, "crash");
		struct sg_error err = SG_ERROR_INIT;
		struct sg_store_batcher *b = NULL;
		if (sg_store_batcher_start(&b, s, 64, &err) < 0)
			_exit(2);
		pthread_t th[4];
		struct crash_job jobs[4];
		for (int t = 0; t < 4; t++) {
			jobs[t] = (struct crash_job){b, t, fds[1]};
			pthread_create(&th[t], NULL, crash_worker, &jobs[t]);
		}
		for (int t = 0; t < 4; t++)
			pthread_join(th[t], NULL);
		_exit(0);
	}
	close(fds[1]);
	static char acked[1 << 20];
	size_t len = 0;
	int lines = 0, killed = 0;
	for (;;) {
		ssize_t n = read(fds[0], acked + len, sizeof(acked) - 1 - len);
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			lines += acked[len + (size_t)i] == '\n';
		len += (size_t)n;
		if (!killed && lines >= 200) {
			kill(pid, SIGKILL);
			killed = 1;
		}
		if (len >= sizeof(acked) - 64)
			break;
	}
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	assert_true(killed);
	assert_true(WIFSIGNALED(status));
	acked[len] = 0;
	/* every complete acknowledged line must be stored */
	int checked = 0;
	for (char *p = acked, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = 0;
		char sql[400];
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM ticket_events e JOIN decisions d"
			 " ON d.id = e.decision_id JOIN audit a ON a.ticket_id = e.ticket_id"
			 " WHERE e.ticket_id = '%.64s'", p);
		if (count(path, sql) != 1)
			fail_msg("acknowledged ticket %s is not stored exactly once", p);
		checked++;
	}
	assert_true(checked >= 200);
	struct sg_store *s = open_db(path, NULL);
	assert_true(verify_ok(s));
	sg_store_close(s);
}

int main(void)
{
	if (store_test_init())
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_group_commit_fan_in),
		cmocka_unit_test(test_sigkill_burst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
