/*
 * store_test.c - the storage layer on a real SQLite file in a temporary
 * folder, or, when SOPGATE_TEST_STORE names a PostgreSQL server
 * (postgres://.../postgres, started by tests/pg-setup.sh), on a fresh
 * database of that server per test: migrations, idempotent events, atomic writes, group commit from
 * several threads, outbox leases, user tokens, human actions, tracing and
 * out-of-memory paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/json.h"
#include "store/store.h"

static char dir[256];
static const char *pg_base; /* SOPGATE_TEST_STORE, or NULL for SQLite */

static int is_pg(const char *path)
{
	return !strncmp(path, "postgres", 8);
}

static PGconn *pg_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);
	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect %s: %s", url, PQerrorMessage(c));
	return c;
}

static void pg_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* A fresh database: a file under a temporary folder, or a new database
 * on the test's PostgreSQL server (out is then its URL). */
static void tmp_db(char *out, size_t n, const char *name)
{
	if (pg_base) {
		char db[64], sql[160];
		size_t k = (size_t)snprintf(db, sizeof(db), "sgt_");
		for (const char *p = name; *p && *p != '.' && k + 1 < sizeof(db); p++)
			db[k++] = *p;
		db[k] = 0;
		PGconn *c = pg_connect(pg_base);
		snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db);
		pg_exec(c, sql);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
		pg_exec(c, sql);
		PQfinish(c);
		const char *slash = strrchr(pg_base, '/');
		snprintf(out, n, "%.*s/%s", (int)(slash - pg_base), pg_base, db);
		return;
	}
	if (!dir[0]) {
		const char *base = getenv("SG_TEST_TMP");
		snprintf(dir, sizeof(dir), "%s/store-test-XXXXXX", base ? base : "/tmp");
		assert_non_null(mkdtemp(dir));
	}
	snprintf(out, n, "%s/%s", dir, name);
	char side[600];
	unlink(out);
	snprintf(side, sizeof(side), "%s-wal", out);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", out);
	unlink(side);
}

static void url_of(char *url, size_t n, const char *path)
{
	snprintf(url, n, "%s%s", is_pg(path) ? "" : "sqlite:", path);
}

static const char *backend_name(void)
{
	return pg_base ? "postgres" : "sqlite";
}

static struct sg_store *open_db(const char *path, const char *writer)
{
	char url[600];
	url_of(url, sizeof(url), path);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	int rc = sg_store_open(&s, url, writer, &err);
	if (rc < 0)
		fail_msg("open: %s", err.msg);
	return s;
}

static long count(const char *path, const char *sql)
{
	if (is_pg(path)) {
		PGconn *c = pg_connect(path);
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
			fail_msg("%s: %s", sql, PQerrorMessage(c));
		long n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
		return n;
	}
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void exec_sql(const char *path, const char *sql)
{
	if (is_pg(path)) {
		PGconn *c = pg_connect(path);
		pg_exec(c, sql);
		PQfinish(c);
		return;
	}
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static const struct sg_outbox_action two_actions[] = {
	{"crm.patch", "hubspot", "{\"gate\":\"agent_review\"}", NULL},
	{"slack", "#refunds", "{\"text\":\"[EMAIL_1] asked for a refund\"}", NULL},
};
static const struct sg_outbox_action bad_action[] = {
	{"crm.patch", "hubspot", "{}", NULL},
	{NULL, "x", "{}", NULL}, /* kind is NOT NULL: fails after the rest */
};

static void fill(struct sg_ticket_write *w, const char *ticket, const char *event,
		 char *decision, size_t n)
{
	memset(w, 0, sizeof(*w));
	snprintf(decision, n, "{\"helpdesk_ticket_id\":\"%s\",\"event\":\"%s\","
		 "\"gate\":\"agent_review\"}", ticket, event);
	w->ticket_id = ticket;
	w->event_id = event;
	w->event_json = "{\"id\":\"x\",\"body\":\"masked [EMAIL_1]\"}";
	w->decision_json = decision;
	w->gate = "agent_review";
	w->risk_tier = "medium";
	w->intent = "refund_request";
	w->queue = "billing";
	w->policy_version = "sha256:abc";
	w->actions = two_actions;
	w->nactions = 2;
}

struct feeder {
	struct sg_audit_verifier *v;
	struct sg_error *err;
};

static int feed(const struct sg_audit_record *r, void *ctx)
{
	struct feeder *f = ctx;
	return sg_audit_verify_feed(f->v, r, f->err);
}

static int lookup(const char *chain, int64_t seq, char hash[SG_SHA256_HEX], void *ctx,
		  struct sg_error *err)
{
	struct sg_audit_record r;
	int rc = sg_store_audit_get(ctx, chain, seq, &r, err);
	if (rc == 0) {
		snprintf(hash, SG_SHA256_HEX, "%s", r.hash);
		sg_audit_record_release(&r);
	}
	return rc;
}

/* Walks every chain and checks every anchor citation. */
static int verify_ok(struct sg_store *s)
{
	struct sg_audit_verifier v;
	struct sg_error err = SG_ERROR_INIT;
	sg_audit_verify_init(&v, NULL, NULL);
	struct feeder f = {&v, &err};
	assert_int_equal(sg_store_audit_scan(s, NULL, 0, feed, &f, &err), 0);
	assert_int_equal(sg_audit_verify_finish(&v, lookup, s, &err), 0);
	unsigned long problems = v.problems;
	sg_audit_verify_release(&v);
	return problems == 0;
}

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

static void test_idempotent_event(void **state)
{
	(void)state;
	char path[512], dec[256], dec2[256];
	tmp_db(path, sizeof(path), "idem.db");
	struct sg_store *s = open_db(path, "w1");
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w, w2;
	fill(&w, "T-1", "e-1", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	assert_int_equal(w.existed, 0);
	assert_null(w.stored_decision);
	fill(&w2, "T-1", "e-1", dec2, sizeof(dec2));
	w2.decision_json = "{\"different\":true}";
	assert_int_equal(sg_store_ticket_write(s, &w2, &err), 0);
	assert_int_equal(w2.existed, 1);
	assert_string_equal(w2.stored_decision, dec);
	assert_string_equal(w2.decision_id, w.decision_id);
	sg_free(w2.stored_decision);
	/* another event of the same ticket is a new decision */
	fill(&w2, "T-1", "e-2", dec2, sizeof(dec2));
	assert_int_equal(sg_store_ticket_write(s, &w2, &err), 0);
	assert_int_equal(w2.existed, 0);
	char *latest = NULL;
	assert_int_equal(sg_store_ticket_decision(s, "T-1", &latest, &err), 0);
	assert_string_equal(latest, dec2);
	sg_free(latest);
	assert_int_equal(sg_store_ticket_decision(s, "T-404", &latest, &err), -SG_ENOTFOUND);
	assert_true(verify_ok(s));
	sg_store_close(s);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM decisions"), 2);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM outbox"), 4);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action = 'decision'"), 2);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM tickets"), 1);
}

static void test_atomic_failure(void **state)
{
	(void)state;
	char path[512], dec[256];
	tmp_db(path, sizeof(path), "atomic.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w;
	fill(&w, "T-2", "e-1", dec, sizeof(dec));
	w.actions = bad_action;
	assert_int_equal(sg_store_ticket_write(s, &w, &err), -SG_ESTORE);
	assert_non_null(strstr(err.msg, "outbox"));
	/* invalid decision JSON is refused before anything is written */
	sg_error_clear(&err);
	fill(&w, "T-2", "e-2", dec, sizeof(dec));
	w.decision_json = "not json";
	assert_int_equal(sg_store_ticket_write(s, &w, &err), -SG_EJSON);
	sg_error_clear(&err);
	fill(&w, "", "e-2", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "ticket_id"));
	sg_store_close(s);
	const char *tables[] = {"ticket_events", "decisions", "tickets", "outbox", "audit"};
	for (size_t i = 0; i < 5; i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", tables[i]);
		assert_int_equal(count(path, sql), 0);
	}
	/* the same event can then be written for real */
	s = open_db(path, NULL);
	fill(&w, "T-2", "e-1", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	assert_int_equal(w.existed, 0);
	sg_store_close(s);
}

/* ---- group commit ---- */

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

static const void *find(const char *hay, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

static void test_user_tokens(void **state)
{
	(void)state;
	char path[512], token[SG_TOKEN_LEN], token2[SG_TOKEN_LEN];
	tmp_db(path, sizeof(path), "users.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_user_add(s, "admin", "ann", "agent", token, &err), 0);
	assert_int_equal(strlen(token), SG_TOKEN_LEN - 1);
	assert_int_equal(sg_store_user_add(s, "admin", "lee", "lead", token2, &err), 0);
	assert_string_not_equal(token, token2);
	struct sg_store_user u;
	assert_int_equal(sg_store_token_verify(s, token, &u, &err), 0);
	assert_string_equal(u.name, "ann");
	assert_string_equal(u.role, "agent");
	assert_int_equal(sg_store_token_verify(s, token2, &u, &err), 0);
	assert_string_equal(u.name, "lee");
	/* one changed digit, a wrong prefix, junk: all refused */
	char bad[SG_TOKEN_LEN];
	memcpy(bad, token, sizeof(bad));
	bad[SG_TOKEN_LEN - 2] = bad[SG_TOKEN_LEN - 2] == 'a' ? 'b' : 'a';
	assert_int_equal(sg_store_token_verify(s, bad, &u, &err), -SG_EUNAUTHORIZED);
	assert_string_equal(u.name, "");
	sg_error_clear(&err);
	assert_int_equal(sg_store_token_verify(s, "sgt_xyz", &u, &err), -SG_EUNAUTHORIZED);
	sg_error_clear(&err);
	assert_int_equal(sg_store_token_verify(s, NULL, &u, &err), -SG_EUNAUTHORIZED);
	sg_error_clear(&err);
	assert_int_equal(sg_store_user_add(s, "admin", "ann", "agent", bad, &err), -SG_ECONFLICT);
	sg_error_clear(&err);
	assert_int_equal(sg_store_user_add(s, "admin", "zed", "boss", bad, &err), -SG_EINVALID);
	sg_error_clear(&err);
	assert_int_equal(sg_store_user_add(s, "admin", "a b", "agent", bad, &err), -SG_EINVALID);
	assert_true(verify_ok(s));
	sg_store_close(s);
	/* the token itself is nowhere in the database files */
	const char *suffix[] = {"", "-wal"};
	for (int i = 0; i < 2; i++) {
		char p[600];
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		FILE *fp = fopen(p, "rb");
		if (!fp)
			continue;
		static char data[4 << 20];
		size_t len = fread(data, 1, sizeof(data), fp);
		fclose(fp);
		assert_null(find(data, len, token + 4, 64));
		assert_null(find(data, len, token2 + 4, 64));
	}
	assert_int_equal(count(path, "SELECT COUNT(*) FROM users"), 2);
}

static void test_human_action(void **state)
{
	(void)state;
	char path[512], dec[256];
	tmp_db(path, sizeof(path), "human.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w;
	fill(&w, "T-4", "e-1", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	struct sg_human_action a = {"T-4", w.decision_id, "ann", "agent", "edit", 1,
				    NULL, "Hello [NAME_1], refunded.", "-Hi\n+Hello", 0, 0, NULL, 0, 0};
	assert_int_equal(sg_store_human_action(s, &a, &err), 0);
	assert_int_equal(a.draft_version, 1);
	assert_int_equal(sg_store_human_action(s, &a, &err), 0);
	assert_int_equal(a.draft_version, 2);
	struct sg_human_action ap = {"T-4", w.decision_id, "lee", "lead", "approve", 2,
				     "ok", NULL, NULL, 0, 0, NULL, 0, 0};
	assert_int_equal(sg_store_human_action(s, &ap, &err), 0);
	/* a second approval of the same step (two workers racing) conflicts */
	struct sg_human_action ap2 = ap;
	ap2.user = "max";
	assert_int_equal(sg_store_human_action(s, &ap2, &err), -SG_ECONFLICT);
	sg_error_clear(&err);
	ap.step = 3;
	assert_int_equal(sg_store_human_action(s, &ap, &err), -SG_EINVALID);
	sg_error_clear(&err);
	ap.step = 1;
	ap.action = "delete";
	assert_int_equal(sg_store_human_action(s, &ap, &err), -SG_EINVALID);
	assert_true(verify_ok(s));
	sg_store_close(s);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM approvals"), 3);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM drafts"), 2);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action IN ('edit', 'approve')"
			       " AND ticket_id = 'T-4'"), 3);
}

struct collect {
	int n;
	char first[8][64]; /* column 0 of each row */
	int64_t num[8];    /* column num_col of each row */
	int num_col, null_col, nulls;
};

static int collect_row(const struct sg_store_row *r, void *ctx)
{
	struct collect *c = ctx;
	if (c->n < 8) {
		snprintf(c->first[c->n], sizeof(c->first[0]), "%s", r->text[0] ? r->text[0] : "(null)");
		c->num[c->n] = r->num[c->num_col];
	}
	if (c->null_col >= 0 && !r->text[c->null_col])
		c->nulls++;
	c->n++;
	return 0;
}

static void test_views(void **state)
{
	(void)state;
	char path[512], dec[256], id[SG_ID_LEN];
	tmp_db(path, sizeof(path), "views.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_ticket_write w;
	fill(&w, "T-7", "e-1", dec, sizeof(dec));
	snprintf(dec, sizeof(dec), "{\"approval_required\":true,\"escalation\":"
		 "{\"sla_minutes\":30},\"guardrail_types\":[\"pii\"],\"confidence_band\":\"low\"}");
	w.now_ms = 1000;
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	char d1[SG_ID_LEN];
	memcpy(d1, w.decision_id, sizeof(d1));
	struct sg_ticket_write w2;
	char dec2[256];
	fill(&w2, "T-8", "e-1", dec2, sizeof(dec2)); /* approval not required */
	w2.now_ms = 2000;
	assert_int_equal(sg_store_ticket_write(s, &w2, &err), 0);
	struct sg_human_action a = {"T-7", d1, "ann", "agent", "edit", 1, "fixed", "New text",
				    "-a\n+b", 3000, 0, NULL, 0, 0};
	assert_int_equal(sg_store_human_action(s, &a, &err), 0);
	struct sg_human_action rj = {"T-7", d1, "bob", "lead", "reject", 1, NULL, NULL, NULL,
				     4000, 0, NULL, 0, 0};
	assert_int_equal(sg_store_human_action(s, &rj, &err), 0);
	assert_int_equal(sg_store_escalation_open(s, "T-7", 1, "lead", NULL, "why", 9000, id,
						  &err), 0);

	struct collect c = {0};
	c.null_col = -1;
	c.num_col = 0;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_LATEST, "T-7", collect_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.first[0], d1);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 2;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_DECISION_APPROVALS, d1, collect_row, &c,
				       &err), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.first[0], "ann");
	assert_string_equal(c.first[1], "bob");
	assert_int_equal(c.num[0], 1);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_LATEST_DRAFT, "T-7", collect_row, &c,
				       &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.first[0], "New text");
	memset(&c, 0, sizeof(c));
	c.null_col = 1; /* an escalation without channel */
	c.num_col = 1;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_ESCALATIONS, "T-7", collect_row, &c, &err),
			 0);
	assert_int_equal(c.n, 1);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 2;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_AUDIT, "T-7", collect_row, &c, &err), 0);
	assert_int_equal(c.n, 3); /* decision, edit, reject */
	memset(&c, 0, sizeof(c));
	c.null_col = 4; /* note of the reject */
	c.num_col = 3;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_APPROVALS, "T-7", collect_row, &c, &err),
			 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.nulls, 1);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 2;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_EVENTS, "T-7", collect_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.first[0], "e-1");
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 0;
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_DRAFTS, "T-7", collect_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.num[0], 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(sg_store_view(s, SG_STORE_VIEW_DECISIONS, "nope", collect_row, &c, &err),
			 0);
	assert_int_equal(c.n, 0);

	/* the queue lists only T-7, with its counts and JSON fields */
	struct sg_store_queue_filter f = {NULL, NULL, NULL};
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 7;
	assert_int_equal(sg_store_queue_scan(s, &f, collect_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.first[0], "T-7");
	assert_int_equal(c.num[0], 30);
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	c.num_col = 9;
	assert_int_equal(sg_store_queue_scan(s, &f, collect_row, &c, &err), 0);
	assert_int_equal(c.num[0], 1); /* one rejection */
	f.queue = "billing";
	f.tier = "high";
	memset(&c, 0, sizeof(c));
	c.null_col = -1;
	assert_int_equal(sg_store_queue_scan(s, &f, collect_row, &c, &err), 0);
	assert_int_equal(c.n, 0);
	sg_store_close(s);
}

/* Onboarding: the flag set at creation, sends counted, a peer review
 * recorded with the first approval and its reason audited; graduation. */
static void test_onboarding(void **state)
{
	(void)state;
	char path[512], dec[256], token[SG_TOKEN_LEN];
	tmp_db(path, sizeof(path), "onboarding.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store_onboarding o;
	assert_int_equal(sg_store_user_add_opts(s, "cli", "nia", "agent",
						SG_STORE_USER_ONBOARDING, token, &err), 0);
	assert_int_equal(sg_store_user_add(s, "cli", "lee", "lead", token, &err), 0);
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.onboarding, 1);
	assert_int_equal(o.tickets, 0);
	assert_int_equal(sg_store_user_onboarding(s, "lee", &o, &err), 0);
	assert_int_equal(o.onboarding, 0);
	assert_int_equal(sg_store_user_onboarding(s, "nobody", &o, &err), -SG_ENOTFOUND);
	sg_error_clear(&err);

	struct sg_ticket_write w;
	fill(&w, "T-9", "e-1", dec, sizeof(dec));
	assert_int_equal(sg_store_ticket_write(s, &w, &err), 0);
	struct sg_store_peer_review pr;
	assert_int_equal(sg_store_peer_review(s, w.decision_id, &pr, &err), 1);
	struct sg_human_action a = {"T-9", w.decision_id, "nia", "agent", "approve", 1,
				    NULL, NULL, NULL, 0, 1, "ticket 1 of the first 20", 1, 0};
	assert_int_equal(sg_store_human_action(s, &a, &err), 0);
	assert_int_equal(sg_store_peer_review(s, w.decision_id, &pr, &err), 0);
	assert_string_equal(pr.user, "nia");
	assert_string_equal(pr.reason, "ticket 1 of the first 20");
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.tickets, 1);
	/* a reject is not a send: not counted; a peer review only follows an approval */
	struct sg_human_action r = {"T-9", w.decision_id, "nia", "agent", "reject", 1,
				    NULL, NULL, NULL, 0, 1, "x", 1, 0};
	assert_int_equal(sg_store_human_action(s, &r, &err), -SG_EINVALID);
	sg_error_clear(&err);
	r.needs_peer = 0;
	assert_int_equal(sg_store_human_action(s, &r, &err), 0);
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.tickets, 1);

	assert_int_equal(sg_store_user_onboarding_set(s, "lee", "nia", 0, &err), 0);
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.onboarding, 0);
	assert_int_equal(o.tickets, 1);
	assert_int_equal(sg_store_user_onboarding_set(s, "lee", "nia", 1, &err), 0);
	assert_int_equal(sg_store_user_onboarding(s, "nia", &o, &err), 0);
	assert_int_equal(o.onboarding, 1);
	assert_int_equal(o.tickets, 0);
	assert_int_equal(sg_store_user_onboarding_set(s, "lee", "ghost", 0, &err), -SG_ENOTFOUND);
	sg_error_clear(&err);
	assert_true(verify_ok(s));
	sg_store_close(s);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action = 'user.onboarding'"), 2);
	/* bodies are compact JSON with sorted keys (portable LIKE, no JSON functions) */
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action = 'approve' AND"
			       " body LIKE '%\"onboarding\":\"ticket 1 of the first 20\"%'"
			       " AND body LIKE '%\"peer_review_required\":true%'"), 1);
	assert_int_equal(count(path, "SELECT COUNT(*) FROM audit WHERE action = 'user.add' AND"
			       " body LIKE '%\"onboarding\":true%'"), 1);
}

struct shadow_seen {
	int rows, fields;
	char first_field[32];
};

static int shadow_row(const struct sg_store_shadow_diff *d, void *ctx)
{
	struct shadow_seen *s = ctx;
	if (!s->rows++)
		snprintf(s->first_field, sizeof(s->first_field), "%s", d->field);
	assert_string_equal(d->live_version, "live-v");
	return 0;
}

static int shadow_field(const char *field, long n, void *ctx)
{
	struct shadow_seen *s = ctx;
	s->fields++;
	if (!strcmp(field, "gate"))
		assert_int_equal(n, 2);
	return 0;
}

static void test_shadow(void **state)
{
	(void)state;
	char path[512];
	tmp_db(path, sizeof(path), "shadow.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store_shadow_diff d[3] = {
		{"T-1", "e1", "live-v", "shadow-v", "gate", "agent_review", "two_step", 1000},
		{"T-1", "e1", "live-v", "shadow-v", "rules", "", "test-two-step", 1000},
		{"T-2", "e1", "live-v", "shadow-v", "gate", "auto_send", "agent_review", 2000},
	};
	assert_int_equal(sg_store_shadow_record(s, "shadow-v", 5, 2, d, 3, &err), 0);
	assert_int_equal(sg_store_shadow_record(s, "shadow-v", 3, 0, NULL, 0, &err), 0);
	assert_int_equal(sg_store_shadow_record(s, "other-v", 1, 1, d, 1, &err), -SG_EINVALID);
	sg_error_clear(&err);
	struct sg_store_shadow_counts c;
	struct shadow_seen seen = {0};
	assert_int_equal(sg_store_shadow_summary(s, "shadow-v", &c, shadow_field, &seen, &err), 0);
	assert_int_equal(c.evaluated, 8);
	assert_int_equal(c.differing, 2);
	assert_int_equal(seen.fields, 2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(sg_store_shadow_scan(s, "shadow-v", 10, shadow_row, &seen, &err), 0);
	assert_int_equal(seen.rows, 3);
	assert_string_equal(seen.first_field, "gate"); /* T-2, the newest */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(sg_store_shadow_scan(s, "shadow-v", 1, shadow_row, &seen, &err), 0);
	assert_int_equal(seen.rows, 1);
	assert_int_equal(sg_store_shadow_scan(s, "shadow-v", 0, shadow_row, &seen, &err),
			 -SG_EINVALID);
	sg_error_clear(&err);
	assert_int_equal(sg_store_shadow_summary(s, "never-v", &c, NULL, NULL, &err), 0);
	assert_int_equal(c.evaluated, 0);
	sg_store_close(s);
}

static void test_sessions(void **state)
{
	(void)state;
	char path[512], token[SG_TOKEN_LEN], csrf[SG_STORE_CSRF_LEN];
	tmp_db(path, sizeof(path), "sessions.db");
	struct sg_store *s = open_db(path, NULL);
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_user_add(s, "admin", "ann", "lead", token, &err), 0);
	char sid[SG_SHA256_HEX];
	sg_sha256_hex("cookie-value", 12, sid);
	assert_int_equal(sg_store_session_put(s, sid, "ann", "csrf123", 5000, &err), 0);
	struct sg_store_user u;
	int64_t exp = 0;
	assert_int_equal(sg_store_session_get(s, sid, 1000, &u, csrf, &exp, &err), 0);
	assert_string_equal(u.name, "ann");
	assert_string_equal(u.role, "lead");
	assert_string_equal(csrf, "csrf123");
	assert_int_equal(exp, 5000);
	/* expired, unknown, malformed */
	assert_int_equal(sg_store_session_get(s, sid, 5000, &u, csrf, &exp, &err),
			 -SG_EUNAUTHORIZED);
	assert_string_equal(u.name, "");
	sg_error_clear(&err);
	char other[SG_SHA256_HEX];
	sg_sha256_hex("other", 5, other);
	assert_int_equal(sg_store_session_get(s, other, 0, &u, csrf, &exp, &err), -SG_EUNAUTHORIZED);
	sg_error_clear(&err);
	assert_int_equal(sg_store_session_get(s, "nothex", 0, &u, csrf, &exp, &err), -SG_EUNAUTHORIZED);
	sg_error_clear(&err);
	assert_int_equal(sg_store_session_del(s, sid, &err), 0);
	assert_int_equal(sg_store_session_get(s, sid, 1000, &u, csrf, &exp, &err), -SG_EUNAUTHORIZED);
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
	pg_base = getenv("SOPGATE_TEST_STORE");
	if (pg_base && !*pg_base)
		pg_base = NULL;
	if (pg_base && !is_pg(pg_base)) {
		fprintf(stderr, "SOPGATE_TEST_STORE: expected postgres://.../postgres\n");
		return 2;
	}
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_reopen),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_idempotent_event),
		cmocka_unit_test(test_atomic_failure),
		cmocka_unit_test(test_group_commit),
		cmocka_unit_test(test_group_commit_fan_in),
		cmocka_unit_test(test_sigkill_burst),
		cmocka_unit_test(test_outbox_lease),
		cmocka_unit_test(test_user_tokens),
		cmocka_unit_test(test_human_action),
		cmocka_unit_test(test_onboarding),
		cmocka_unit_test(test_shadow),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_views),
		cmocka_unit_test(test_escalations),
		cmocka_unit_test(test_claims_racing),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_alloc_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
