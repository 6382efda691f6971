/*
 * postgres.c - the PostgreSQL storage backend (libpq): one connection per
 * struct, statements prepared once per connection, a statement timeout on
 * every connection, the schema migrated on open under an advisory lock so
 * several processes may start at once. Claims of outbox actions and due
 * escalations use FOR UPDATE SKIP LOCKED with expiring leases; an audit
 * append locks only its own chain (a transaction-scoped advisory lock).
 * Serialization failures and deadlocks come back as -SG_ETIMEOUT with
 * "retry" in the message; store.c runs the whole transaction again.
 *
 * This file holds the connection, transactions, migrations and the ops
 * table; the operations live in postgres_ticket.c, postgres_view.c and
 * postgres_qa.c.
 */
#include "store/postgres_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"


const char *const pg_statement_sql[] = {
#define X_SQL(name, sql) sql,
	STATEMENTS(X_SQL)
#undef X_SQL
};

_Static_assert(ST_QUEUE - ST_V_LATEST == SG_STORE_VIEW__COUNT,
	       "one V_ statement per store view, in enum order");

void pg_param_text(struct params *p, const char *s)
{
	p->v[p->n++] = s;
}

void pg_param_int(struct params *p, int64_t x)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)x);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

struct pg_store *pg_of(struct sg_store *s)
{
	return (struct pg_store *)s;
}

int64_t pg_col_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *pg_col_text(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col); /* "" for NULL */
}

/* Maps a failed result (or a broken connection) to an error. Deadlocks
 * and serialization failures are -SG_ETIMEOUT and say "retry"; a unique
 * violation is -SG_ECONFLICT. Clears res. */
int pg_fail(struct pg_store *q, PGresult *res, struct sg_error *err, const char *what)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : "";
	if (!msg || !msg[0])
		msg = PQerrorMessage(q->conn);
	char m[300];
	snprintf(m, sizeof(m), "%s", msg ? msg : "");
	size_t n = strlen(m);
	while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
		m[--n] = 0;
	int code = SG_ESTORE;
	const char *hint = "";
	if (state && (!strcmp(state, "40001") || !strcmp(state, "40P01"))) {
		code = SG_ETIMEOUT;
		hint = " (retry)";
	} else if (state && !strcmp(state, "57014")) {
		code = SG_ETIMEOUT; /* statement_timeout */
	} else if (state && !strcmp(state, "23505")) {
		code = SG_ECONFLICT;
	}
	PQclear(res);
	return sg_error_set(err, code, "postgres: %s: %s%s", what, m, hint);
}

/* A connection lost outside a transaction is reopened once; prepared
 * statements are gone with it. */
int pg_ensure_conn(struct pg_store *q, struct sg_error *err)
{
	if (PQstatus(q->conn) == CONNECTION_OK)
		return 0;
	if (q->in_tx)
		return sg_error_set(err, SG_ESTORE, "postgres: connection lost in a transaction");
	PQreset(q->conn);
	memset(q->prepared, 0, sizeof(q->prepared));
	if (PQstatus(q->conn) != CONNECTION_OK)
		return sg_error_set(err, SG_ESTORE, "postgres: reconnecting: %s",
				    PQerrorMessage(q->conn));
	return 0;
}

/* Runs a prepared statement; *out holds the result (tuples or command). */
int pg_exec_st(struct pg_store *q, int which, const struct params *p, PGresult **out,
	       struct sg_error *err)
{
	*out = NULL;
	int rc = pg_ensure_conn(q, err);
	if (rc < 0)
		return rc;
	char name[16];
	snprintf(name, sizeof(name), "sg%d", which);
	if (!q->prepared[which]) {
		PGresult *r = PQprepare(q->conn, name, pg_statement_sql[which], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return pg_fail(q, r, err, "prepare");
		PQclear(r);
		q->prepared[which] = 1;
	}
	PGresult *r = PQexecPrepared(q->conn, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return pg_fail(q, r, err, pg_statement_sql[which]);
	*out = r;
	return 0;
}

/* Runs a statement and drops its result; *changed gets the row count. */
int pg_run(struct pg_store *q, int which, const struct params *p, long *changed,
	   struct sg_error *err)
{
	PGresult *r;
	int rc = pg_exec_st(q, which, p, &r, err);
	if (rc < 0)
		return rc;
	if (changed)
		*changed = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

int pg_exec_sql(struct pg_store *q, const char *sql, struct sg_error *err)
{
	PGresult *r = PQexec(q->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return pg_fail(q, r, err, sql);
	PQclear(r);
	return 0;
}

int pg_begin(struct sg_store *s, struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	int rc = pg_ensure_conn(q, err);
	if (rc < 0 || (rc = pg_exec_sql(q, "BEGIN", err)) < 0)
		return rc;
	q->in_tx = 1;
	return 0;
}

int pg_commit(struct sg_store *s, struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	int rc = pg_exec_sql(q, "COMMIT", err);
	q->in_tx = 0;
	return rc;
}

int pg_rollback(struct sg_store *s, struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	q->in_tx = 0;
	if (PQstatus(q->conn) != CONNECTION_OK ||
	    PQtransactionStatus(q->conn) == PQTRANS_IDLE)
		return 0;
	return pg_exec_sql(q, "ROLLBACK", err);
}

static int g_savepoint(struct sg_store *s, int op, struct sg_error *err)
{
	struct pg_store *q = pg_of(s);
	if (op == 0)
		return pg_exec_sql(q, "SAVEPOINT sg_item", err);
	if (op == 1)
		return pg_exec_sql(q, "RELEASE SAVEPOINT sg_item", err);
	int rc = pg_exec_sql(q, "ROLLBACK TO SAVEPOINT sg_item", err);
	return rc < 0 ? rc : pg_exec_sql(q, "RELEASE SAVEPOINT sg_item", err);
}

static int g_schema_version(struct sg_store *s, int *out, struct sg_error *err)
{
	PGresult *r;
	int rc = pg_exec_st(pg_of(s), ST_SCHEMA_VERSION, NULL, &r, err);
	if (rc < 0)
		return rc;
	*out = (int)pg_col_int(r, 0, 0);
	PQclear(r);
	return 0;
}

/* Migrates under a session advisory lock, so processes starting together
 * apply each migration once. */
static int migrate(struct pg_store *q, struct sg_error *err)
{
	char lock[96];
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%lld)", PG_MIGRATE_LOCK);
	int rc = pg_exec_sql(q, lock, err);
	if (rc < 0)
		return rc;
	if ((rc = pg_exec_sql(q, "CREATE TABLE IF NOT EXISTS schema_version ("
			   " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
			   " applied_at BIGINT NOT NULL)", err)) < 0 ||
	    (rc = pg_begin(&q->base, err)) < 0)
		goto unlock;
	int have = 0;
	if ((rc = g_schema_version(&q->base, &have, err)) < 0)
		goto cleanup;
	if (have > SG_SCHEMA_LATEST) {
		rc = sg_error_set(err, SG_ESTORE,
				  "database has schema version %d, newer than this sopgate "
				  "knows (%d): upgrade sopgate", have, SG_SCHEMA_LATEST);
		goto cleanup;
	}
	for (int i = 0; i < sg_store_nmigrations; i++) {
		const struct sg_migration *m = &sg_store_migrations[i];
		if (m->version <= have)
			continue;
		struct params p = {0};
		pg_param_int(&p, m->version);
		pg_param_text(&p, m->name);
		pg_param_int(&p, sg_now_ms());
		if ((rc = pg_exec_sql(q, m->sql, err)) < 0 ||
		    (rc = pg_run(q, ST_SCHEMA_INSERT, &p, NULL, err)) < 0)
			goto cleanup;
	}
	rc = pg_commit(&q->base, err);
cleanup:
	if (rc < 0)
		pg_rollback(&q->base, NULL);
unlock:
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_unlock(%lld)", PG_MIGRATE_LOCK);
	pg_exec_sql(q, lock, NULL);
	return rc;
}

static void g_close(struct sg_store *s)
{
	struct pg_store *q = pg_of(s);
	if (!q)
		return;
	PQfinish(q->conn);
	sg_free(q);
}

/* Hides the password of a URL in messages. */
static void url_shown(char *out, size_t n, const char *url)
{
	const char *at = strchr(url, '@'), *scheme = strstr(url, "://");
	const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
	if (at && colon && colon < at)
		snprintf(out, n, "%.*s:***%s", (int)(colon - url), url, at);
	else
		snprintf(out, n, "%s", url);
}

static int g_open(struct sg_store **out, const char *url, const char *writer,
		  struct sg_error *err)
{
	*out = NULL;
	int rc;
	char shown[256];
	url_shown(shown, sizeof(shown), url);
	struct pg_store *q = sg_calloc(1, sizeof(*q));
	if (!q)
		return sg_error_set(err, SG_ENOMEM, "opening '%s': out of memory", shown);
	q->base.ops = &sg_store_postgres_ops;
	snprintf(q->writer, sizeof(q->writer), "%s", writer);
	q->conn = PQconnectdb(url);
	if (!q->conn || PQstatus(q->conn) != CONNECTION_OK) {
		char m[300];
		snprintf(m, sizeof(m), "%s", q->conn ? PQerrorMessage(q->conn) : "out of memory");
		size_t n = strlen(m);
		while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
			m[--n] = 0;
		rc = sg_error_set(err, SG_ESTORE, "unable to connect to '%s': %s", shown, m);
		goto cleanup;
	}
	/* Every statement gives up after this long instead of hanging a
	 * worker; SOPGATE_PG_STATEMENT_TIMEOUT_MS overrides it. */
	long timeout = SG_STORE_BUSY_MS * 3;
	const char *t = getenv("SOPGATE_PG_STATEMENT_TIMEOUT_MS");
	if (t && *t)
		timeout = strtol(t, NULL, 10);
	char set[128];
	snprintf(set, sizeof(set), "SET statement_timeout = %ld; SET client_min_messages = warning",
		 timeout > 0 ? timeout : 0);
	if ((rc = pg_exec_sql(q, set, err)) < 0 || (rc = migrate(q, err)) < 0)
		goto cleanup;
	*out = &q->base;
	return 0;
cleanup:
	g_close(&q->base);
	return rc;
}

const struct sg_store_ops sg_store_postgres_ops = {
	.name = "postgres",
	.version = SG_STORE_OPS_VERSION,
	.caps = SG_STORE_SAVEPOINT | SG_STORE_SKIP_LOCKED | SG_STORE_MULTI_WRITER,
	.open = g_open,
	.close = g_close,
	.schema_version = g_schema_version,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.savepoint = g_savepoint,
	.ticket_write = pg_ticket_write,
	.human_action = pg_human_action,
	.audit_append = pg_audit_append,
	.audit_anchor = pg_audit_anchor,
	.user_insert = pg_user_insert,
	.ticket_decision = pg_ticket_decision,
	.audit_scan = pg_audit_scan,
	.audit_get = pg_audit_get,
	.outbox_claim = pg_outbox_claim,
	.outbox_finish = pg_outbox_finish,
	.outbox_count = pg_outbox_count,
	.outbox_list = pg_outbox_list,
	.outbox_retry = pg_outbox_retry,
	.outbox_drop = pg_outbox_drop,
	.user_list = pg_user_list,
	.user_by_prefix = pg_user_by_prefix,
	.session_put = pg_session_put,
	.session_get = pg_session_get,
	.session_del = pg_session_del,
	.escalation_open = pg_escalation_open,
	.escalation_claim = pg_escalation_claim,
	.escalation_close = pg_escalation_close,
	.view = pg_view,
	.queue_scan = pg_queue_scan,
	.onboarding_set = pg_onboarding_set,
	.onboarding_bump = pg_onboarding_bump,
	.onboarding_get = pg_onboarding_get,
	.peer_review_add = pg_peer_review_add,
	.peer_review_get = pg_peer_review_get,
	.shadow_insert = pg_shadow_insert,
	.counter_add = pg_counter_add,
	.counter_get = pg_counter_get,
	.counter_take = pg_counter_take,
	.shadow_fields = pg_shadow_fields,
	.shadow_scan = pg_shadow_scan,
	.qa_pending = pg_qa_pending,
	.qa_fact_put = pg_qa_fact_put,
	.qa_csat_put = pg_qa_csat_put,
	.qa_candidates = pg_qa_candidates,
	.qa_sample_put = pg_qa_sample_put,
	.qa_sample_list = pg_qa_sample_list,
	.qa_score_put = pg_qa_score_put,
	.qa_accuracy = pg_qa_accuracy,
	.qa_pause_open = pg_qa_pause_open,
	.qa_pause_lift = pg_qa_pause_lift,
	.qa_pause_list = pg_qa_pause_list,
	.qa_suggest = pg_qa_suggest,
	.qa_incident_open = pg_qa_incident_open,
	.qa_incident_close = pg_qa_incident_close,
	.qa_incident_list = pg_qa_incident_list,
	.qa_stat = pg_qa_stat,
	.qa_tickets = pg_qa_tickets,
	.qa_edit_diffs = pg_qa_edit_diffs,
};
