/*
 * store_outbox_test.c - work that workers lease from the store, on SQLite
 * and on PostgreSQL (see store_test_util.h): outbox leases, retries and
 * dead letters, escalation leases, and several processes racing to claim
 * the same rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/alloc.h"
#include "store/store.h"
#include "store/store_test_util.h"

struct outbox_seen {
	int n;
	char id[64], state[16], last_error[64];
	int attempts;
};

static int outbox_row(const struct sg_outbox_row *r, void *ctx)
{
	struct outbox_seen *o = ctx;
	o->n++;
	snprintf(o->id, sizeof(o->id), "%s", r->id);
	snprintf(o->state, sizeof(o->state), "%s", r->state ? r->state : "");
	snprintf(o->last_error, sizeof(o->last_error), "%s", r->last_error ? r->last_error : "");
	o->attempts = r->attempts;
	return 0;
}

static void test_outbox_lease(void **state)
{
	(void)state;
	char path[512], dec[256];
	tmp_db(path, sizeof(path), "outbox.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w;
	fill(&w, "T-3", "e-1", dec, sizeof(dec));
	w.now_ms = 1000;
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	struct sg_outbox_item *it = NULL, *it2 = NULL;
	size_t n = 0, n2 = 0;
	assert_int_equal(sg_store_outbox_claim(s, "A", 1000, 100, 10, &it, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(it[0].attempts, 1);
	assert_string_equal(it[0].ticket_id, "T-3");
	assert_non_null(strstr(it[0].idem_key, w.decision_id));
	/* leased: nobody else gets them before expiry */
	assert_int_equal(sg_store_outbox_claim(s, "B", 1050, 100, 10, &it2, &n2, &err), 0);
	assert_int_equal(n2, 0);
	sg_store_outbox_items_free(it2, n2);
	/* A dies; after expiry B reclaims both */
	assert_int_equal(sg_store_outbox_claim(s, "B", 1200, 100, 10, &it2, &n2, &err), 0);
	assert_int_equal(n2, 2);
	assert_int_equal(it2[0].attempts, 2);
	/* A comes back late: its lease is gone */
	assert_int_equal(sg_store_outbox_done(s, it[0].id, "A", &err), -SG_ECONFLICT);
	sg_error_clear(&err);
	assert_int_equal(sg_store_outbox_done(s, it2[0].id, "B", &err), 0);
	assert_int_equal(sg_store_outbox_done(s, it2[0].id, "B", &err), -SG_ECONFLICT);
	sg_error_clear(&err);
	/* a failure puts it back for later, then dead after max attempts */
	assert_int_equal(sg_store_outbox_fail(s, it2[1].id, "B", 5000, 3, "HTTP 503", &err), 0);
	sg_store_outbox_items_free(it2, n2);
	assert_int_equal(sg_store_outbox_claim(s, "C", 2000, 100, 10, &it2, &n2, &err), 0);
	assert_int_equal(n2, 0);
	sg_store_outbox_items_free(it2, n2);
	assert_int_equal(sg_store_outbox_claim(s, "C", 5000, 100, 10, &it2, &n2, &err), 0);
	assert_int_equal(n2, 1);
	assert_int_equal(it2[0].attempts, 3);
	assert_int_equal(sg_store_outbox_fail(s, it2[0].id, "C", 9000, 3, "HTTP 503", &err), 0);
	sg_store_outbox_items_free(it2, n2);
	sg_store_outbox_items_free(it, n);
	long c = -1;
	assert_int_equal(sg_store_outbox_count(s, "sent", &c, &err), 0);
	assert_int_equal(c, 1);
	assert_int_equal(sg_store_outbox_count(s, "dead", &c, &err), 0);
	assert_int_equal(c, 1);
	assert_int_equal(sg_store_outbox_count(s, "pending", &c, &err), 0);
	assert_int_equal(c, 0);
	assert_int_equal(sg_store_outbox_claim(s, "C", 0, 100, 0, &it2, &n2, &err), -SG_EINVALID);
	sg_error_clear(&err);

	/* operators: list, retry a dead letter, drop it; a sent one stays */
	struct outbox_seen seen = {0, "", "", "", 0};
	assert_int_equal(sg_store_outbox_list(s, "dead", NULL, 0, outbox_row, &seen, &err), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.last_error, "HTTP 503");
	assert_int_equal(seen.attempts, 3);
	seen.n = 0;
	assert_int_equal(sg_store_outbox_list(s, NULL, NULL, 1, outbox_row, &seen, &err), 0);
	assert_int_equal(seen.n, 1); /* the limit */
	seen.n = 0;
	assert_int_equal(sg_store_outbox_list(s, "bogus", NULL, 0, outbox_row, &seen, &err),
			 -SG_EINVALID);
	sg_error_clear(&err);
	char dead_id[64], sent_id[64];
	assert_int_equal(sg_store_outbox_list(s, "dead", NULL, 0, outbox_row, &seen, &err), 0);
	snprintf(dead_id, sizeof(dead_id), "%s", seen.id);
	assert_int_equal(sg_store_outbox_list(s, "sent", NULL, 0, outbox_row, &seen, &err), 0);
	snprintf(sent_id, sizeof(sent_id), "%s", seen.id);
	long moved = 0;
	assert_int_equal(sg_store_outbox_retry(s, dead_id, "ops", &moved, &err), 0);
	assert_int_equal(moved, 1);
	seen.n = 0;
	assert_int_equal(sg_store_outbox_list(s, NULL, dead_id, 0, outbox_row, &seen, &err), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.state, "pending");
	assert_int_equal(seen.attempts, 0);
	assert_int_equal(sg_store_outbox_retry(s, dead_id, "ops", &moved, &err), -SG_ENOTFOUND);
	sg_error_clear(&err);
	assert_int_equal(sg_store_outbox_drop(s, sent_id, "ops", &err), -SG_ENOTFOUND);
	sg_error_clear(&err);
	assert_int_equal(sg_store_outbox_drop(s, dead_id, "ops", &err), 0);
	assert_int_equal(sg_store_outbox_count(s, "pending", &c, &err), 0);
	assert_int_equal(c, 0);
	assert_int_equal(sg_store_outbox_count(s, "sent", &c, &err), 0);
	assert_int_equal(c, 1);
	assert_true(verify_ok(s));
	sg_store_close(s);
}

static void test_escalations(void **state)
{
	(void)state;
	char path[512], id[SG_ID_LEN], id2[SG_ID_LEN];
	tmp_db(path, sizeof(path), "esc.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_escalation_open(s, "T-9", 1, "support_lead", "#refunds",
						  "refund over $500", 1000, id, &err), 0);
	assert_int_equal(sg_store_escalation_open(s, "T-9", 1, "security", "pagerduty",
						  "breach", 9000, id2, &err), 0);
	struct sg_store_escalation *e = NULL;
	size_t n = 0;
	assert_int_equal(sg_store_escalation_claim_due(s, "w1", 999, 100, 8, &e, &n, &err), 0);
	assert_int_equal(n, 0);
	sg_free(e);
	assert_int_equal(sg_store_escalation_claim_due(s, "w1", 1000, 100, 8, &e, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].id, id);
	assert_string_equal(e[0].owner, "support_lead");
	assert_int_equal(e[0].due_ms, 1000);
	sg_free(e);
	/* leased to w1: w2 gets nothing until the lease expires */
	assert_int_equal(sg_store_escalation_claim_due(s, "w2", 1050, 100, 8, &e, &n, &err), 0);
	assert_int_equal(n, 0);
	sg_free(e);
	assert_int_equal(sg_store_escalation_close(s, id, "w2", "breached", &err), -SG_ECONFLICT);
	sg_error_clear(&err);
	assert_int_equal(sg_store_escalation_close(s, id, "w1", "breached", &err), 0);
	/* breached once: never claimed again */
	assert_int_equal(sg_store_escalation_claim_due(s, "w2", 5000, 100, 8, &e, &n, &err), 0);
	assert_int_equal(n, 0);
	sg_free(e);
	assert_int_equal(sg_store_escalation_close(s, id2, NULL, "resolved", &err), 0);
	assert_int_equal(sg_store_escalation_close(s, id2, NULL, "open", &err), -SG_EINVALID);
	sg_store_close(s);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM escalations WHERE state = 'breached'"), 1);
}

/* Three processes, each with its own connection, race to claim 60 outbox
 * actions and 30 due escalations: each is delivered and fired once. */
static void claim_child(const char *path, int i, int fd)
{
	char writer[16];
	snprintf(writer, sizeof(writer), "c%d", i);
	struct sg_store *s = open_db(path, writer);
	struct sg_error err = SG_ERROR_INIT;
	int idle = 0;
	while (idle < 3) {
		struct sg_outbox_item *items = NULL;
		size_t n = 0;
		if (sg_store_outbox_claim(s, writer, 1000, 60000, 4, &items, &n, &err) < 0)
			_exit(10);
		for (size_t k = 0; k < n; k++) {
			if (sg_store_outbox_done(s, items[k].id, writer, &err) < 0)
				_exit(11);
			dprintf(fd, "o %s\n", items[k].id);
		}
		sg_store_outbox_items_free(items, n);
		struct sg_store_escalation *due = NULL;
		size_t m = 0;
		if (sg_store_escalation_claim_due(s, writer, 1000, 60000, 4, &due, &m, &err) < 0)
			_exit(12);
		for (size_t k = 0; k < m; k++) {
			if (sg_store_escalation_close(s, due[k].id, writer, "breached", &err) < 0)
				_exit(13);
			dprintf(fd, "e %s\n", due[k].id);
		}
		sg_free(due);
		idle = n == 0 && m == 0 ? idle + 1 : 0;
	}
	sg_store_close(s);
	_exit(0);
}

static void test_claims_racing(void **state)
{
	(void)state;
	char path[512], dec[256], ticket[32], id[SG_ID_LEN];
	tmp_db(path, sizeof(path), "race.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	for (int i = 0; i < 30; i++) {
		struct sg_ticket_write w;
		snprintf(ticket, sizeof(ticket), "R-%d", i);
		fill(&w, ticket, "e-1", dec, sizeof(dec));
		w.now_ms = 500;
		assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
		assert_int_equal(sg_store_escalation_open(s, ticket, 1, "lead", NULL, "race", 900, id,
							  &err), 0);
	}
	sg_store_close(s);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pids[3];
	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(fds[0]);
			claim_child(path, i, fds[1]);
		}
	}
	close(fds[1]);
	static char buf[16384];
	size_t len = 0;
	ssize_t r;
	while ((r = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fds[0]);
	buf[len] = 0;
	for (int i = 0; i < 3; i++) {
		int status = 0;
		waitpid(pids[i], &status, 0);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	int outbox = 0, esc = 0;
	for (char *p = buf, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = 0;
		/* the same id twice would mean two workers got the same row */
		for (char *q = nl + 1; (q = strstr(q, p + 2)); q++)
			fail_msg("%s claimed twice", p);
		if (p[0] == 'o')
			outbox++;
		else
			esc++;
	}
	assert_int_equal(outbox, 60);
	assert_int_equal(esc, 30);
	s = open_db(path, NULL);
	long c = 0;
	assert_int_equal(sg_store_outbox_count(s, "sent", &c, &err), 0);
	assert_int_equal(c, 60);
	sg_store_close(s);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM escalations WHERE state = 'breached'"), 30);
}

int main(void)
{
	if (store_test_init())
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outbox_lease),
		cmocka_unit_test(test_escalations),
		cmocka_unit_test(test_claims_racing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
