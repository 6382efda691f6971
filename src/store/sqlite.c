/*
 * sqlite.c - the SQLite storage backend: one connection per struct, WAL
 * journal, durable commits, statements prepared once and cached, the
 * schema migrated on open. Used by one thread at a time (the group
 * committer serializes writers of a shared store).
 *
 * Durability: synchronous=FULL, so COMMIT returns only after the WAL is
 * fsynced and a ticket is acknowledged only once it survives power loss.
 * NORMAL in WAL mode would skip that fsync and could lose the last
 * acknowledged tickets; the cost of FULL (one fsync per transaction) is
 * what group commit amortizes.
 *
 * This file holds the connection, transactions, migrations, checkpoints
 * and the ops table; the operations live in sqlite_ticket.c, sqlite_view.c
 * and sqlite_qa.c.
 */
#include "store/sqlite_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"


const char *const sqlite_statement_sql[] = {
#define X_SQL(name, sql) sql,
	STATEMENTS(X_SQL)
#undef X_SQL
};

/* Checkpoints (copying WAL pages back into the database file) run on a
 * thread of their own with its own connection, so a COMMIT waits for its
 * WAL fsync only, not for SQLite's automatic checkpoint of 1000 pages
 * and the database fsync that comes with it. The WAL is restarted only
 * when a checkpoint has caught up; under sustained writes the background
 * thread rarely does at the right moment, so past CKPT_FORCE_PAGES the
 * writer checkpoints inline, which is short since the background thread
 * has already copied most pages. */
#define CKPT_PAGES 1000        /* wake the checkpointer (SQLite's default) */
#define CKPT_FORCE_PAGES 8000  /* the writer checkpoints itself */
#define CKPT_PER_S 20          /* background runs a second, at most */

struct sqlite_store *sqlite_of(struct sg_store *s)
{
	return (struct sqlite_store *)s;
}

int sqlite_fail(struct sqlite_store *q, struct sg_error *err, const char *what)
{
	int code = sqlite3_extended_errcode(q->db);
	int sg = (code & 0xff) == SQLITE_BUSY ? SG_ETIMEOUT
		 : code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY
		 ? SG_ECONFLICT : SG_ESTORE;
	return sg_error_set(err, sg, "sqlite: %s: %s", what, sqlite3_errmsg(q->db));
}

/* Returns the cached statement, reset and unbound, or NULL with err set. */
sqlite3_stmt *sqlite_stmt(struct sqlite_store *q, int which, struct sg_error *err)
{
	sqlite3_stmt *st = q->st[which];
	if (!st) {
		if (sqlite3_prepare_v3(q->db, sqlite_statement_sql[which], -1,
				       SQLITE_PREPARE_PERSISTENT, &q->st[which], NULL) != SQLITE_OK) {
			sqlite_fail(q, err, "prepare");
			return NULL;
		}
		return q->st[which];
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

void sqlite_done(sqlite3_stmt *st)
{
	if (st)
		sqlite3_reset(st);
}

int sqlite_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

const char *sqlite_col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

/* Runs a statement that returns no rows. */
static int run(struct sqlite_store *q, int which, struct sg_error *err)
{
	sqlite3_stmt *st = sqlite_stmt(q, which, err);
	if (!st)
		return -SG_ESTORE;
	int rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, sqlite_statement_sql[which]);
	return 0;
}

static int exec(struct sqlite_store *q, const char *sql, struct sg_error *err)
{
	char *msg = NULL;
	if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = sg_error_set(err, SG_ESTORE, "sqlite: %s", msg ? msg : sqlite3_errmsg(q->db));
		sqlite3_free(msg);
		return rc;
	}
	return 0;
}

static int q_begin(struct sg_store *s, struct sg_error *err)
{
	sqlite_of(s)->head_valid = 0;
	return run(sqlite_of(s), ST_BEGIN, err);
}

static int q_commit(struct sg_store *s, struct sg_error *err)
{
	sqlite_of(s)->head_valid = 0;
	return run(sqlite_of(s), ST_COMMIT, err);
}

static int q_rollback(struct sg_store *s, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	q->head_valid = 0;
	if (sqlite3_get_autocommit(q->db))
		return 0; /* SQLite already rolled back (e.g. after a full disk) */
	return run(q, ST_ROLLBACK, err);
}

static int q_savepoint(struct sg_store *s, int op, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	if (op == 0)
		return run(q, ST_SAVEPOINT, err);
	if (op == 1)
		return run(q, ST_RELEASE, err);
	q->head_valid = 0;
	int rc = run(q, ST_ROLLBACK_TO, err);
	return rc < 0 ? rc : run(q, ST_RELEASE, err);
}

static int q_schema_version(struct sg_store *s, int *out, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_SCHEMA_VERSION, err);
	if (!st)
		return -SG_ESTORE;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite_done(st);
		return sqlite_fail(q, err, "reading schema_version");
	}
	*out = sqlite3_column_int(st, 0);
	sqlite_done(st);
	return 0;
}

static int migrate(struct sqlite_store *q, const char *path, struct sg_error *err)
{
	int rc = exec(q, "CREATE TABLE IF NOT EXISTS schema_version ("
			 " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
			 " applied_at BIGINT NOT NULL)", err);
	if (rc < 0)
		return rc;
	if ((rc = q_begin(&q->base, err)) < 0)
		return rc;
	int have = 0;
	if ((rc = q_schema_version(&q->base, &have, err)) < 0)
		goto cleanup;
	if (have > SG_SCHEMA_LATEST) {
		rc = sg_error_set(err, SG_ESTORE,
				  "database '%s' has schema version %d, newer than this "
				  "sopgate knows (%d): upgrade sopgate", path, have,
				  SG_SCHEMA_LATEST);
		goto cleanup;
	}
	for (int i = 0; i < sg_store_nmigrations; i++) {
		const struct sg_migration *m = &sg_store_migrations[i];
		if (m->version <= have)
			continue;
		if ((rc = exec(q, m->sql, err)) < 0)
			goto cleanup;
		sqlite3_stmt *st = sqlite_stmt(q, ST_SCHEMA_INSERT, err);
		if (!st) {
			rc = -SG_ESTORE;
			goto cleanup;
		}
		sqlite3_bind_int(st, 1, m->version);
		sqlite_bind_text(st, 2, m->name);
		sqlite3_bind_int64(st, 3, sg_now_ms());
		int s = sqlite3_step(st);
		sqlite_done(st);
		if (s != SQLITE_DONE) {
			rc = sqlite_fail(q, err, "recording the migration");
			goto cleanup;
		}
	}
	rc = q_commit(&q->base, err);
cleanup:
	if (rc < 0)
		q_rollback(&q->base, NULL);
	return rc;
}

/* ---- checkpoints ---------------------------------------------------- */

static void *ckpt_main(void *arg)
{
	struct ckpt *ck = arg;
	sqlite3 *db = NULL;
	prctl(PR_SET_NAME, "sg-checkpoint");
	if (sqlite3_open_v2(ck->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		db = NULL; /* the writer's forced checkpoints still bound the WAL */
	} else {
		sqlite3_busy_timeout(db, SG_STORE_BUSY_MS);
		sqlite3_wal_autocheckpoint(db, 0);
		/* a new connection learns that the file is in WAL mode only
		 * when it first reads it; until then a checkpoint is a no-op */
		sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
	}
	pthread_mutex_lock(&ck->mu);
	for (;;) {
		while (!ck->pending && !ck->stop)
			pthread_cond_wait(&ck->cv, &ck->mu);
		if (ck->stop)
			break;
		ck->pending = 0;
		pthread_mutex_unlock(&ck->mu);
		/* PASSIVE: never waits for the writer or readers; whatever it
		 * cannot copy now is copied by the next run. */
		if (db)
			sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		/* at most CKPT_PER_S runs a second: each ends with an fsync of
		 * the database file, which shares the disk with the commits,
		 * and a longer interval copies a hot page once, not every time */
		struct timespec ts = {0, 1000000000L / CKPT_PER_S};
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&ck->mu);
		ck->runs++;
	}
	pthread_mutex_unlock(&ck->mu);
	sqlite3_close(db);
	return NULL;
}

/* Called by SQLite after each commit on the writer's connection, with the
 * pages now in the WAL. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sqlite_store *q = arg;
	struct ckpt *ck = &q->ck;
	if (pages >= CKPT_FORCE_PAGES) {
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		return SQLITE_OK;
	}
	if (pages < CKPT_PAGES)
		return SQLITE_OK;
	pthread_mutex_lock(&ck->mu);
	if (!ck->started && !ck->stop) {
		if (pthread_create(&ck->thread, NULL, ckpt_main, ck) == 0)
			ck->started = 1;
		else
			ck->stop = 1; /* no thread: the forced checkpoints remain */
	}
	ck->pending = 1;
	pthread_cond_signal(&ck->cv);
	pthread_mutex_unlock(&ck->mu);
	return SQLITE_OK;
}

static void ckpt_stop(struct ckpt *ck)
{
	if (!ck->path)
		return;
	pthread_mutex_lock(&ck->mu);
	ck->stop = 1;
	pthread_cond_signal(&ck->cv);
	int started = ck->started;
	pthread_mutex_unlock(&ck->mu);
	if (started)
		pthread_join(ck->thread, NULL);
	pthread_cond_destroy(&ck->cv);
	pthread_mutex_destroy(&ck->mu);
	sg_free(ck->path);
	ck->path = NULL;
}

static void q_close(struct sg_store *s)
{
	struct sqlite_store *q = sqlite_of(s);
	if (!q)
		return;
	ckpt_stop(&q->ck);
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
	sg_free(q);
}

static int q_open(struct sg_store **out, const char *path, const char *writer,
		  struct sg_error *err)
{
	*out = NULL;
	int rc;
	struct sqlite_store *q = sg_calloc(1, sizeof(*q));
	if (!q)
		return sg_error_set(err, SG_ENOMEM, "opening '%s': out of memory", path);
	q->base.ops = &sg_store_sqlite_ops;
	snprintf(q->writer, sizeof(q->writer), "%s", writer);
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = sg_error_set(err, SG_ESTORE, "unable to open database '%s': %s", path,
				  q->db ? sqlite3_errmsg(q->db) : "out of memory");
		goto cleanup;
	}
	sqlite3_extended_result_codes(q->db, 1);
	/* Waiting writers retry for up to this long instead of failing. */
	sqlite3_busy_timeout(q->db, SG_STORE_BUSY_MS);
	/* temp_store=MEMORY keeps the statement journal of each group-commit
	 * savepoint in memory: past 64 KiB SQLite would otherwise spill it to
	 * a temporary file, opened and closed for every write of a batch. */
	if ((rc = exec(q, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
		       " PRAGMA temp_store=MEMORY;", err)) < 0)
		goto cleanup;
	if ((rc = migrate(q, path, err)) < 0)
		goto cleanup;
	if (!(q->ck.path = sg_strdup(path))) {
		rc = sg_error_set(err, SG_ENOMEM, "opening '%s': out of memory", path);
		goto cleanup;
	}
	pthread_mutex_init(&q->ck.mu, NULL);
	pthread_cond_init(&q->ck.cv, NULL);
	sqlite3_wal_hook(q->db, wal_hook, q); /* replaces the automatic checkpoint */
	*out = &q->base;
	return 0;
cleanup:
	q_close(&q->base);
	return rc;
}

const struct sg_store_ops sg_store_sqlite_ops = {
	.name = "sqlite",
	.version = SG_STORE_OPS_VERSION,
	.caps = SG_STORE_SAVEPOINT,
	.open = q_open,
	.close = q_close,
	.schema_version = q_schema_version,
	.begin = q_begin,
	.commit = q_commit,
	.rollback = q_rollback,
	.savepoint = q_savepoint,
	.ticket_write = sqlite_ticket_write,
	.human_action = sqlite_human_action,
	.audit_append = sqlite_audit_append,
	.audit_anchor = sqlite_audit_anchor,
	.user_insert = sqlite_user_insert,
	.ticket_decision = sqlite_ticket_decision,
	.audit_scan = sqlite_audit_scan,
	.audit_get = sqlite_audit_get,
	.outbox_claim = sqlite_outbox_claim,
	.outbox_finish = sqlite_outbox_finish,
	.outbox_count = sqlite_outbox_count,
	.outbox_list = sqlite_outbox_list,
	.outbox_retry = sqlite_outbox_retry,
	.outbox_drop = sqlite_outbox_drop,
	.user_list = sqlite_user_list,
	.user_by_prefix = sqlite_user_by_prefix,
	.session_put = sqlite_session_put,
	.session_get = sqlite_session_get,
	.session_del = sqlite_session_del,
	.escalation_open = sqlite_escalation_open,
	.escalation_claim = sqlite_escalation_claim,
	.escalation_close = sqlite_escalation_close,
	.view = sqlite_view,
	.queue_scan = sqlite_queue_scan,
	.onboarding_set = sqlite_onboarding_set,
	.onboarding_bump = sqlite_onboarding_bump,
	.onboarding_get = sqlite_onboarding_get,
	.peer_review_add = sqlite_peer_review_add,
	.peer_review_get = sqlite_peer_review_get,
	.shadow_insert = sqlite_shadow_insert,
	.counter_add = sqlite_counter_add,
	.counter_get = sqlite_counter_get,
	.counter_take = sqlite_counter_take,
	.shadow_fields = sqlite_shadow_fields,
	.shadow_scan = sqlite_shadow_scan,
	.qa_pending = sqlite_qa_pending,
	.qa_fact_put = sqlite_qa_fact_put,
	.qa_csat_put = sqlite_qa_csat_put,
	.qa_candidates = sqlite_qa_candidates,
	.qa_sample_put = sqlite_qa_sample_put,
	.qa_sample_list = sqlite_qa_sample_list,
	.qa_score_put = sqlite_qa_score_put,
	.qa_accuracy = sqlite_qa_accuracy,
	.qa_pause_open = sqlite_qa_pause_open,
	.qa_pause_lift = sqlite_qa_pause_lift,
	.qa_pause_list = sqlite_qa_pause_list,
	.qa_suggest = sqlite_qa_suggest,
	.qa_incident_open = sqlite_qa_incident_open,
	.qa_incident_close = sqlite_qa_incident_close,
	.qa_incident_list = sqlite_qa_incident_list,
	.qa_stat = sqlite_qa_stat,
	.qa_tickets = sqlite_qa_tickets,
	.qa_edit_diffs = sqlite_qa_edit_diffs,
};
