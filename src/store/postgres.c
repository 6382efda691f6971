/*
 * postgres.c - the PostgreSQL storage backend (libpq): one connection per
 * struct, statements prepared once per connection, a statement timeout on
 * every connection, the schema migrated on open under an advisory lock so
 * several processes may start at once. Claims of outbox actions and due
 * escalations use FOR UPDATE SKIP LOCKED with expiring leases; an audit
 * append locks only its own chain (a transaction-scoped advisory lock).
 * Serialization failures and deadlocks come back as -SG_ETIMEOUT with
 * "retry" in the message; store.c runs the whole transaction again.
 */
#include "store/store_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

#define AUDIT_COLS "id, chain, seq, prev_hash, hash, created_at, actor, action, ticket_id, body"
#define PG_MAX_PARAMS 16
/* any constant: the key of the migration lock */
#define PG_MIGRATE_LOCK 7358250411LL

/* The same statements as sqlite.c with PostgreSQL placeholders ($n) and
 * the few dialect differences marked. */
#define STATEMENTS(X) \
	X(SCHEMA_VERSION, "SELECT COALESCE(MAX(version), 0) FROM schema_version") \
	X(SCHEMA_INSERT, "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)") \
	X(EVENT_INSERT, "INSERT INTO ticket_events (ticket_id, event_id, received_at, body, decision_id)" \
	  " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ticket_id, event_id) DO NOTHING") \
	X(EVENT_DECISION, "SELECT d.id, d.body FROM ticket_events e JOIN decisions d ON d.id = e.decision_id" \
	  " WHERE e.ticket_id = $1 AND e.event_id = $2") \
	X(DECISION_INSERT, "INSERT INTO decisions (id, ticket_id, event_id, gate, risk_tier, intent, queue," \
	  " policy_version, created_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)") \
	X(TICKET_UPSERT, "INSERT INTO tickets (id, state, latest_decision_id, created_at, updated_at)" \
	  " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET state = excluded.state," \
	  " latest_decision_id = excluded.latest_decision_id, updated_at = excluded.updated_at") \
	X(TICKET_DECISION, "SELECT d.body FROM tickets t JOIN decisions d ON d.id = t.latest_decision_id" \
	  " WHERE t.id = $1") \
	X(OUTBOX_INSERT, "INSERT INTO outbox (id, ticket_id, kind, target, payload, idem_key, state, attempts," \
	  " next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8, $9)") \
	/* PostgreSQL: rows another worker is claiming are skipped, not waited on */ \
	X(OUTBOX_CLAIM, "UPDATE outbox SET lease_owner = $1, lease_expires = $2, attempts = attempts + 1," \
	  " updated_at = $3 WHERE id IN (SELECT id FROM outbox WHERE state = 'pending'" \
	  " AND next_attempt_at <= $4 AND (lease_expires IS NULL OR lease_expires <= $5)" \
	  " ORDER BY next_attempt_at, id LIMIT $6 FOR UPDATE SKIP LOCKED)" \
	  " RETURNING id, ticket_id, kind, target, payload, idem_key, attempts") \
	X(OUTBOX_FINISH, "UPDATE outbox SET state = CASE WHEN $1::text = 'sent' THEN 'sent'" \
	  " WHEN attempts >= $2 THEN 'dead' ELSE 'pending' END, next_attempt_at = $3, last_error = $4," \
	  " lease_owner = NULL, lease_expires = NULL, updated_at = $5" \
	  " WHERE id = $6 AND lease_owner = $7 AND state = 'pending'") \
	X(OUTBOX_COUNT, "SELECT COUNT(*) FROM outbox WHERE state = $1") \
	X(OUTBOX_LIST, "SELECT id, ticket_id, kind, target, idem_key, state, last_error, attempts," \
	  " next_attempt_at, created_at, updated_at FROM outbox WHERE ($1::text IS NULL OR state = $1::text)" \
	  " AND ($2::text IS NULL OR id = $2::text) ORDER BY created_at, id LIMIT $3::bigint") \
	X(OUTBOX_RETRY, "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1," \
	  " lease_owner = NULL, lease_expires = NULL, updated_at = $1" \
	  " WHERE state = 'dead' AND ($2::text IS NULL OR id = $2::text)") \
	X(OUTBOX_DROP, "DELETE FROM outbox WHERE id = $1 AND state <> 'sent'") \
	/* PostgreSQL: appends to one chain take its lock; other chains go on */ \
	X(AUDIT_LOCK, "SELECT pg_advisory_xact_lock(hashtext($1))") \
	X(AUDIT_HEAD, "SELECT seq, hash FROM audit WHERE chain = $1 ORDER BY seq DESC LIMIT 1") \
	X(AUDIT_INSERT, "INSERT INTO audit (" AUDIT_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)") \
	X(AUDIT_HEADS, "SELECT a.chain, a.seq, a.hash FROM audit a WHERE a.chain <> 'anchor'" \
	  " AND a.seq = (SELECT MAX(b.seq) FROM audit b WHERE b.chain = a.chain) ORDER BY a.chain") \
	X(AUDIT_SCAN, "SELECT " AUDIT_COLS " FROM audit WHERE created_at >= $1 ORDER BY chain, seq") \
	X(AUDIT_SCAN_CHAIN, "SELECT " AUDIT_COLS " FROM audit WHERE chain = $1 AND created_at >= $2" \
	  " ORDER BY seq") \
	X(AUDIT_GET, "SELECT " AUDIT_COLS " FROM audit WHERE chain = $1 AND seq = $2") \
	X(DRAFT_NEXT, "SELECT COALESCE(MAX(version), 0) + 1 FROM drafts WHERE ticket_id = $1") \
	X(DRAFT_INSERT, "INSERT INTO drafts (ticket_id, version, decision_id, author, text, diff, created_at)" \
	  " VALUES ($1, $2, $3, $4, $5, $6, $7)") \
	X(APPROVAL_INSERT, "INSERT INTO approvals (id, ticket_id, decision_id, user_name, role, action, step," \
	  " note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)") \
	X(USER_INSERT, "INSERT INTO users (name, role, token_prefix, token_hash, created_at)" \
	  " VALUES ($1, $2, $3, $4, $5)") \
	X(USER_EXISTS, "SELECT 1 FROM users WHERE name = $1") \
	X(USER_LIST, "SELECT name, role, created_at FROM users ORDER BY name") \
	X(SESSION_PUT, "INSERT INTO sessions (id_hash, user_name, csrf, created_at, expires_at)" \
	  " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id_hash) DO UPDATE SET csrf = excluded.csrf," \
	  " expires_at = excluded.expires_at") \
	X(SESSION_GET, "SELECT u.name, u.role, u.created_at, s.csrf, s.expires_at FROM sessions s" \
	  " JOIN users u ON u.name = s.user_name WHERE s.id_hash = $1 AND u.disabled = 0") \
	X(SESSION_DEL, "DELETE FROM sessions WHERE id_hash = $1") \
	X(ESC_OPEN, "INSERT INTO escalations (id, ticket_id, level, owner, channel, reason, due_at," \
	  " state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9)") \
	X(ESC_CLAIM, "UPDATE escalations SET lease_owner = $1, lease_expires = $2, updated_at = $3" \
	  " WHERE id IN (SELECT id FROM escalations WHERE state = 'open' AND due_at <= $4" \
	  " AND (lease_expires IS NULL OR lease_expires <= $5) ORDER BY due_at, id LIMIT $6" \
	  " FOR UPDATE SKIP LOCKED) RETURNING id, ticket_id, level, owner, channel, due_at") \
	X(ESC_CLOSE, "UPDATE escalations SET state = $1, lease_owner = NULL, lease_expires = NULL," \
	  " updated_at = $2 WHERE id = $3 AND state = 'open' AND ($4::text IS NULL OR lease_owner = $4)") \
	X(USER_PREFIX, "SELECT name, role, created_at, token_hash FROM users WHERE token_prefix = $1" \
	  " AND disabled = 0") \
	X(ONB_SET, "UPDATE users SET onboarding = $1::integer, onboarding_tickets = CASE WHEN" \
	  " $2::integer = 1 THEN 0 ELSE onboarding_tickets END WHERE name = $3") \
	X(ONB_BUMP, "UPDATE users SET onboarding_tickets = onboarding_tickets + 1 WHERE name = $1") \
	X(ONB_GET, "SELECT onboarding, onboarding_tickets FROM users WHERE name = $1") \
	X(PEER_ADD, "INSERT INTO peer_reviews (decision_id, ticket_id, user_name, reason, created_at)" \
	  " VALUES ($1, $2, $3, $4, $5)") \
	X(PEER_GET, "SELECT user_name, reason, created_at FROM peer_reviews WHERE decision_id = $1") \
	X(SHADOW_INSERT, "INSERT INTO shadow_diffs (id, ticket_id, event_id, live_version, shadow_version," \
	  " field, live_value, shadow_value, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)") \
	X(SHADOW_FIELDS, "SELECT field, COUNT(*) FROM shadow_diffs WHERE shadow_version = $1" \
	  " GROUP BY field ORDER BY field") \
	X(SHADOW_SCAN, "SELECT ticket_id, event_id, live_version, shadow_version, field, live_value," \
	  " shadow_value, created_at FROM shadow_diffs WHERE shadow_version = $1" \
	  " ORDER BY created_at DESC, ticket_id, event_id, field LIMIT $2") \
	X(COUNTER_ADD, "INSERT INTO counters (name, value) VALUES ($1, $2)" \
	  " ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value") \
	X(COUNTER_GET, "SELECT value FROM counters WHERE name = $1") \
	/* read views, in the order of enum sg_store_view */ \
	X(V_LATEST, "SELECT d.id, d.gate, d.body FROM tickets t JOIN decisions d" \
	  " ON d.id = t.latest_decision_id WHERE t.id = $1") \
	X(V_DECISION_APPROVALS, "SELECT user_name, action, step FROM approvals WHERE decision_id = $1" \
	  " ORDER BY created_at") \
	X(V_LATEST_DRAFT, "SELECT text FROM drafts WHERE ticket_id = $1 ORDER BY version DESC LIMIT 1") \
	X(V_EVENTS, "SELECT event_id, received_at, decision_id, body FROM ticket_events" \
	  " WHERE ticket_id = $1 ORDER BY received_at") \
	X(V_DECISIONS, "SELECT id, event_id, created_at, body FROM decisions WHERE ticket_id = $1" \
	  " ORDER BY created_at") \
	X(V_DRAFTS, "SELECT version, author, text, diff, created_at FROM drafts WHERE ticket_id = $1" \
	  " ORDER BY version") \
	X(V_APPROVALS, "SELECT user_name, role, action, step, note, created_at, decision_id" \
	  " FROM approvals WHERE ticket_id = $1 ORDER BY created_at") \
	X(V_ESCALATIONS, "SELECT id, level, owner, channel, reason, due_at, state, created_at" \
	  " FROM escalations WHERE ticket_id = $1 ORDER BY created_at") \
	X(V_AUDIT, "SELECT id, chain, seq, created_at, actor, action, body, prev_hash, hash" \
	  " FROM audit WHERE ticket_id = $1 ORDER BY created_at, chain, seq") \
	/* PostgreSQL: the JSON body is read with jsonb operators */ \
	X(QUEUE, "SELECT d.ticket_id, d.id, d.gate, d.risk_tier, d.queue, d.intent, d.created_at," \
	  " d.body::jsonb -> 'escalation' ->> 'sla_minutes'," \
	  " (d.body::jsonb -> 'guardrail_types')::text," \
	  " (SELECT count(*) FROM approvals a WHERE a.decision_id = d.id" \
	  "  AND a.action = 'reject')," \
	  " (SELECT count(*) FROM approvals a WHERE a.decision_id = d.id" \
	  "  AND a.action <> 'reject' AND a.step = 1)," \
	  " (SELECT count(*) FROM approvals a WHERE a.decision_id = d.id" \
	  "  AND a.action <> 'reject' AND a.step = 2)," \
	  " d.body::jsonb ->> 'confidence_band'" \
	  " FROM tickets t JOIN decisions d ON d.id = t.latest_decision_id" \
	  " WHERE d.body::jsonb -> 'approval_required' = 'true'::jsonb" \
	  " AND ($1::text IS NULL OR d.queue = $1) AND ($2::text IS NULL OR d.gate = $2)" \
	  " AND ($3::text IS NULL OR d.risk_tier = $3)" \
	  " ORDER BY d.created_at, d.ticket_id") \
	PG_QA_STATEMENTS(X)

/* The QA loop's statements, as in sqlite.c: range counts bind $1 = from,
 * $2 = to (ms); the period's counts bind $1 = the period. */
#define PG_QA_STATEMENTS(X) \
	X(QA_PENDING, "SELECT d.id, d.ticket_id, d.intent, d.risk_tier, d.gate, d.body, d.created_at," \
	  " t.created_at FROM decisions d JOIN tickets t ON t.id = d.ticket_id WHERE d.created_at >= $1" \
	  " AND NOT EXISTS (SELECT 1 FROM qa_facts f WHERE f.decision_id = d.id)" \
	  " ORDER BY d.created_at, d.id LIMIT $2") \
	X(QA_FACT_PUT, "INSERT INTO qa_facts (decision_id, ticket_id, ticket_created_at, created_at, intent," \
	  " risk_tier, gate, ai_mode, ai_draft_sent, escalated, escalation_reason, guardrail_action)" \
	  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (decision_id) DO NOTHING") \
	X(QA_GUARD_PUT, "INSERT INTO qa_fact_guardrails (decision_id, created_at, type, action)" \
	  " VALUES ($1, $2, $3, $4) ON CONFLICT (decision_id, type) DO NOTHING") \
	X(QA_CSAT_PUT, "INSERT INTO qa_csat (ticket_id, score, received_at) VALUES ($1, $2, $3)" \
	  " ON CONFLICT (ticket_id) DO UPDATE SET score = excluded.score, received_at = excluded.received_at") \
	X(QA_CANDIDATES, "SELECT ticket_id, decision_id, intent, 'ai', created_at FROM qa_facts" \
	  " WHERE created_at >= $1 AND created_at < $2 AND ai_draft_sent = 1" \
	  " UNION ALL SELECT a.ticket_id, a.decision_id, COALESCE(f.intent, (SELECT d.intent" \
	  " FROM decisions d WHERE d.id = a.decision_id)), 'human', a.created_at" \
	  " FROM approvals a LEFT JOIN qa_facts f ON f.decision_id = a.decision_id" \
	  " WHERE a.created_at >= $1 AND a.created_at < $2 AND a.step = 1" \
	  " AND a.action IN ('approve', 'edit') ORDER BY 5, 1") \
	X(QA_SAMPLE_PUT, "INSERT INTO qa_samples (id, period, ticket_id, decision_id, category, kind," \
	  " reached_customer, seed, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)" \
	  " ON CONFLICT (period, ticket_id) DO NOTHING") \
	X(QA_SAMPLE_LIST, "SELECT s.id, s.period, s.ticket_id, s.decision_id, s.category, s.kind," \
	  " s.reached_customer, s.seed, s.created_at, c.accurate, c.reviewer FROM qa_samples s" \
	  " LEFT JOIN qa_scores c ON c.sample_id = s.id" \
	  " WHERE (CAST($1 AS TEXT) IS NULL OR s.period = $1) AND (CAST($2 AS TEXT) IS NULL OR s.id = $2)" \
	  " ORDER BY s.period, s.category, s.ticket_id") \
	X(QA_SCORE_PUT, "INSERT INTO qa_scores (sample_id, period, ticket_id, category, reviewer," \
	  " factual_accuracy, brand_tone, completeness, compliance, customer_outcome, defects, accurate," \
	  " reached_customer, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)" \
	  " ON CONFLICT (sample_id) DO UPDATE SET reviewer = excluded.reviewer," \
	  " factual_accuracy = excluded.factual_accuracy, brand_tone = excluded.brand_tone," \
	  " completeness = excluded.completeness, compliance = excluded.compliance," \
	  " customer_outcome = excluded.customer_outcome, defects = excluded.defects," \
	  " accurate = excluded.accurate, reached_customer = excluded.reached_customer," \
	  " note = excluded.note, created_at = excluded.created_at") \
	X(QA_DEFECTS_DEL, "DELETE FROM qa_score_defects WHERE sample_id = $1") \
	X(QA_DEFECT_PUT, "INSERT INTO qa_score_defects (sample_id, period, tag) VALUES ($1, $2, $3)" \
	  " ON CONFLICT (sample_id, tag) DO NOTHING") \
	X(QA_ACCURACY, "SELECT category, COUNT(*), SUM(accurate) FROM qa_scores WHERE period = $1" \
	  " GROUP BY category ORDER BY category") \
	X(QA_PAUSE_OPEN, "INSERT INTO qa_pauses (id, category, period, accuracy_bp, scored, opened_at)" \
	  " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (category, period) DO NOTHING") \
	X(QA_PAUSE_LIFT, "UPDATE qa_pauses SET lifted_at = $1, lifted_by = $2 WHERE category = $3" \
	  " AND lifted_at IS NULL") \
	X(QA_PAUSE_LIST, "SELECT id, category, period, accuracy_bp, scored, opened_at, lifted_at, lifted_by" \
	  " FROM qa_pauses WHERE ($1::int = 0 OR lifted_at IS NULL) ORDER BY opened_at DESC, category") \
	X(QA_SUGGEST, "INSERT INTO qa_suggestions (category, period, accuracy_bp, previous_bp, created_at)" \
	  " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (category, period) DO NOTHING") \
	X(QA_INC_OPEN, "INSERT INTO qa_incidents (id, ticket_id, sample_id, category, opened_at, due_at, state)" \
	  " VALUES ($1, $2, $3, $4, $5, $6, 'open') ON CONFLICT (sample_id) DO NOTHING") \
	X(QA_INC_CLOSE, "UPDATE qa_incidents SET state = 'closed', closed_at = $1, closed_by = $2" \
	  " WHERE id = $3 AND state = 'open'") \
	X(QA_INC_LIST, "SELECT id, ticket_id, sample_id, category, state, opened_at, due_at, closed_at," \
	  " closed_by FROM qa_incidents WHERE ($1::int = 0 OR state = 'open') ORDER BY opened_at DESC, id") \
	/* the tier from the small facts row; the decision only when it has none */ \
	X(QA_ST_APPROVALS, "SELECT COALESCE(f.risk_tier, (SELECT d.risk_tier FROM decisions d" \
	  " WHERE d.id = a.decision_id)) AS tier, a.action, COUNT(*) FROM approvals a" \
	  " LEFT JOIN qa_facts f ON f.decision_id = a.decision_id" \
	  " WHERE a.created_at >= $1 AND a.created_at < $2" \
	  " AND a.step = 1 GROUP BY 1, a.action ORDER BY 1, 2") \
	X(QA_ST_ESCALATIONS, "SELECT COALESCE(escalation_reason, ''), 'decision', COUNT(*) FROM qa_facts" \
	  " WHERE created_at >= $1 AND created_at < $2 AND escalated = 1" \
	  " GROUP BY COALESCE(escalation_reason, '')" \
	  " UNION ALL SELECT COALESCE(reason, ''), CASE WHEN level > 1 THEN 'sla' ELSE 'review' END," \
	  " COUNT(*) FROM escalations WHERE created_at >= $1 AND created_at < $2" \
	  " GROUP BY COALESCE(reason, ''), CASE WHEN level > 1 THEN 'sla' ELSE 'review' END" \
	  " ORDER BY 1, 2") \
	X(QA_ST_GUARDRAILS, "SELECT type, action, COUNT(*) FROM qa_fact_guardrails" \
	  " WHERE created_at >= $1 AND created_at < $2 GROUP BY type, action ORDER BY 1, 2") \
	X(QA_ST_DEFECTS, "SELECT tag, '', COUNT(*) FROM qa_score_defects WHERE period = $1" \
	  " GROUP BY tag ORDER BY 1") \
	X(QA_ST_BREACHES, "SELECT CAST(level AS TEXT), '', COUNT(*) FROM escalations" \
	  " WHERE state = 'breached' AND updated_at >= $1 AND updated_at < $2 GROUP BY level ORDER BY 1") \
	X(QA_ST_SUGGESTIONS, "SELECT category, '', accuracy_bp FROM qa_suggestions WHERE period = $1" \
	  " ORDER BY 1") \
	X(QA_ST_INCIDENTS, "SELECT state, '', COUNT(*) FROM qa_incidents" \
	  " WHERE opened_at >= $1 AND opened_at < $2 GROUP BY state ORDER BY 1") \
	X(QA_TICKETS, "SELECT f.ticket_id, MIN(f.ticket_created_at), COUNT(*), SUM(f.ai_draft_sent)," \
	  " MAX(f.escalated), MIN(CASE WHEN f.ai_draft_sent = 1 THEN f.created_at END)," \
	  " MAX(CASE WHEN f.ai_draft_sent = 1 THEN f.created_at END)," \
	  " (SELECT MIN(a.created_at) FROM approvals a WHERE a.ticket_id = f.ticket_id" \
	  "  AND a.action <> 'reject')," \
	  " (SELECT MAX(a.created_at) FROM approvals a WHERE a.ticket_id = f.ticket_id" \
	  "  AND a.action <> 'reject')," \
	  " (SELECT g.ai_mode FROM qa_facts g WHERE g.ticket_id = f.ticket_id" \
	  "  ORDER BY g.created_at, g.decision_id LIMIT 1)," \
	  " (SELECT c.score FROM qa_csat c WHERE c.ticket_id = f.ticket_id)" \
	  " FROM qa_facts f WHERE f.ticket_created_at >= $1 AND f.ticket_created_at < $2" \
	  " GROUP BY f.ticket_id ORDER BY f.ticket_id") \
	X(QA_EDIT_DIFFS, "SELECT diff FROM drafts WHERE created_at >= $1 AND created_at < $2" \
	  " AND diff IS NOT NULL ORDER BY created_at, ticket_id")

enum {
#define X_ENUM(name, sql) ST_##name,
	STATEMENTS(X_ENUM)
#undef X_ENUM
	ST__COUNT
};

static const char *const statement_sql[] = {
#define X_SQL(name, sql) sql,
	STATEMENTS(X_SQL)
#undef X_SQL
};

_Static_assert(ST_QUEUE - ST_V_LATEST == SG_STORE_VIEW__COUNT,
	       "one V_ statement per store view, in enum order");

struct pg_store {
	struct sg_store base;
	PGconn *conn;
	char writer[64];
	int in_tx;
	unsigned cursors;
	unsigned char prepared[ST__COUNT];
};

/* Parameters of one statement, all sent as text. */
struct params {
	int n;
	const char *v[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][24];
};

static void p_text(struct params *p, const char *s)
{
	p->v[p->n++] = s;
}

static void p_int(struct params *p, int64_t x)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)x);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

static struct pg_store *P(struct sg_store *s)
{
	return (struct pg_store *)s;
}

static int64_t col_int(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static const char *col_text(const PGresult *r, int row, int col)
{
	return PQgetvalue(r, row, col); /* "" for NULL */
}

/* Maps a failed result (or a broken connection) to an error. Deadlocks
 * and serialization failures are -SG_ETIMEOUT and say "retry"; a unique
 * violation is -SG_ECONFLICT. Clears res. */
static int fail(struct pg_store *q, PGresult *res, struct sg_error *err, const char *what)
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
static int ensure_conn(struct pg_store *q, struct sg_error *err)
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
static int exec_st(struct pg_store *q, int which, const struct params *p, PGresult **out,
		   struct sg_error *err)
{
	*out = NULL;
	int rc = ensure_conn(q, err);
	if (rc < 0)
		return rc;
	char name[16];
	snprintf(name, sizeof(name), "sg%d", which);
	if (!q->prepared[which]) {
		PGresult *r = PQprepare(q->conn, name, statement_sql[which], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return fail(q, r, err, "prepare");
		PQclear(r);
		q->prepared[which] = 1;
	}
	PGresult *r = PQexecPrepared(q->conn, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(q, r, err, statement_sql[which]);
	*out = r;
	return 0;
}

/* Runs a statement and drops its result; *changed gets the row count. */
static int run(struct pg_store *q, int which, const struct params *p, long *changed,
	       struct sg_error *err)
{
	PGresult *r;
	int rc = exec_st(q, which, p, &r, err);
	if (rc < 0)
		return rc;
	if (changed)
		*changed = strtol(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

static int exec_sql(struct pg_store *q, const char *sql, struct sg_error *err)
{
	PGresult *r = PQexec(q->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return fail(q, r, err, sql);
	PQclear(r);
	return 0;
}

static int g_begin(struct sg_store *s, struct sg_error *err)
{
	struct pg_store *q = P(s);
	int rc = ensure_conn(q, err);
	if (rc < 0 || (rc = exec_sql(q, "BEGIN", err)) < 0)
		return rc;
	q->in_tx = 1;
	return 0;
}

static int g_commit(struct sg_store *s, struct sg_error *err)
{
	struct pg_store *q = P(s);
	int rc = exec_sql(q, "COMMIT", err);
	q->in_tx = 0;
	return rc;
}

static int g_rollback(struct sg_store *s, struct sg_error *err)
{
	struct pg_store *q = P(s);
	q->in_tx = 0;
	if (PQstatus(q->conn) != CONNECTION_OK ||
	    PQtransactionStatus(q->conn) == PQTRANS_IDLE)
		return 0;
	return exec_sql(q, "ROLLBACK", err);
}

static int g_savepoint(struct sg_store *s, int op, struct sg_error *err)
{
	struct pg_store *q = P(s);
	if (op == 0)
		return exec_sql(q, "SAVEPOINT sg_item", err);
	if (op == 1)
		return exec_sql(q, "RELEASE SAVEPOINT sg_item", err);
	int rc = exec_sql(q, "ROLLBACK TO SAVEPOINT sg_item", err);
	return rc < 0 ? rc : exec_sql(q, "RELEASE SAVEPOINT sg_item", err);
}

static int g_schema_version(struct sg_store *s, int *out, struct sg_error *err)
{
	PGresult *r;
	int rc = exec_st(P(s), ST_SCHEMA_VERSION, NULL, &r, err);
	if (rc < 0)
		return rc;
	*out = (int)col_int(r, 0, 0);
	PQclear(r);
	return 0;
}

/* Migrates under a session advisory lock, so processes starting together
 * apply each migration once. */
static int migrate(struct pg_store *q, struct sg_error *err)
{
	char lock[96];
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_lock(%lld)", PG_MIGRATE_LOCK);
	int rc = exec_sql(q, lock, err);
	if (rc < 0)
		return rc;
	if ((rc = exec_sql(q, "CREATE TABLE IF NOT EXISTS schema_version ("
			   " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
			   " applied_at BIGINT NOT NULL)", err)) < 0 ||
	    (rc = g_begin(&q->base, err)) < 0)
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
		p_int(&p, m->version);
		p_text(&p, m->name);
		p_int(&p, sg_now_ms());
		if ((rc = exec_sql(q, m->sql, err)) < 0 ||
		    (rc = run(q, ST_SCHEMA_INSERT, &p, NULL, err)) < 0)
			goto cleanup;
	}
	rc = g_commit(&q->base, err);
cleanup:
	if (rc < 0)
		g_rollback(&q->base, NULL);
unlock:
	snprintf(lock, sizeof(lock), "SELECT pg_advisory_unlock(%lld)", PG_MIGRATE_LOCK);
	exec_sql(q, lock, NULL);
	return rc;
}

static void g_close(struct sg_store *s)
{
	struct pg_store *q = P(s);
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
	if ((rc = exec_sql(q, set, err)) < 0 || (rc = migrate(q, err)) < 0)
		goto cleanup;
	*out = &q->base;
	return 0;
cleanup:
	g_close(&q->base);
	return rc;
}

/* ---- audit ---------------------------------------------------------- */

static int g_audit_append(struct sg_store *s, struct sg_audit_record *r,
			  struct sg_error *err)
{
	struct pg_store *q = P(s);
	PGresult *res;
	int rc;
	if (!r->chain[0])
		snprintf(r->chain, sizeof(r->chain), "%s", q->writer);
	struct params p = {0};
	p_text(&p, r->chain);
	if ((rc = run(q, ST_AUDIT_LOCK, &p, NULL, err)) < 0 ||
	    (rc = exec_st(q, ST_AUDIT_HEAD, &p, &res, err)) < 0)
		return rc;
	if (PQntuples(res) > 0) {
		r->seq = col_int(res, 0, 0) + 1;
		snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", col_text(res, 0, 1));
	} else {
		r->seq = 1;
		snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", SG_AUDIT_GENESIS);
	}
	PQclear(res);
	if (!r->id[0] && sg_id_new(r->id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "audit: no randomness for an id");
	if (!r->created_ms)
		r->created_ms = sg_now_ms();
	if (sg_audit_hash(r, r->hash) < 0)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	struct params ins = {0};
	p_text(&ins, r->id);
	p_text(&ins, r->chain);
	p_int(&ins, r->seq);
	p_text(&ins, r->prev_hash);
	p_text(&ins, r->hash);
	p_int(&ins, r->created_ms);
	p_text(&ins, r->actor);
	p_text(&ins, r->action);
	p_text(&ins, r->ticket_id);
	p_text(&ins, r->body);
	return run(q, ST_AUDIT_INSERT, &ins, NULL, err);
}

static int g_audit_anchor(struct sg_store *s, struct sg_error *err)
{
	struct pg_store *q = P(s);
	struct sg_buf body = SG_BUF_INIT;
	PGresult *res;
	int rc = exec_st(q, ST_AUDIT_HEADS, NULL, &res, err);
	if (rc < 0)
		return rc;
	sg_buf_adds(&body, "{\"heads\":[");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *chain = col_text(res, i, 0);
		sg_buf_adds(&body, i == 0 ? "{\"chain\":" : ",{\"chain\":");
		sg_buf_add_json_str(&body, chain, strlen(chain));
		sg_buf_addf(&body, ",\"hash\":\"%s\",\"seq\":%lld}", col_text(res, i, 2),
			    (long long)col_int(res, i, 1));
	}
	PQclear(res);
	sg_buf_adds(&body, "]}");
	if (body.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "audit anchor: out of memory");
		goto cleanup;
	}
	struct sg_audit_record r = {0};
	snprintf(r.chain, sizeof(r.chain), "%s", SG_AUDIT_ANCHOR_CHAIN);
	snprintf(r.actor, sizeof(r.actor), "%s", q->writer);
	snprintf(r.action, sizeof(r.action), "anchor");
	r.body = body.data;
	rc = g_audit_append(s, &r, err);
cleanup:
	sg_buf_release(&body);
	return rc;
}

static void read_record(const PGresult *res, int i, struct sg_audit_record *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", col_text(res, i, 0));
	snprintf(r->chain, sizeof(r->chain), "%s", col_text(res, i, 1));
	r->seq = col_int(res, i, 2);
	snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", col_text(res, i, 3));
	snprintf(r->hash, sizeof(r->hash), "%s", col_text(res, i, 4));
	r->created_ms = col_int(res, i, 5);
	snprintf(r->actor, sizeof(r->actor), "%s", col_text(res, i, 6));
	snprintf(r->action, sizeof(r->action), "%s", col_text(res, i, 7));
	snprintf(r->ticket_id, sizeof(r->ticket_id), "%s", col_text(res, i, 8));
	r->body = (char *)col_text(res, i, 9);
}

/* Reads through a cursor, PG_SCAN_BATCH rows at a time, so memory stays
 * flat and fn may run other statements on this connection (the verifier
 * looks anchored heads up while it scans). */
#define PG_SCAN_BATCH 500
static int g_audit_scan(struct sg_store *s, const char *chain, int64_t since_ms,
			int (*fn)(const struct sg_audit_record *r, void *ctx),
			void *ctx, struct sg_error *err)
{
	struct pg_store *q = P(s);
	int rc = ensure_conn(q, err), own_tx = !q->in_tx, frc = 0;
	if (rc < 0)
		return rc;
	if (own_tx && (rc = g_begin(s, err)) < 0)
		return rc;
	char name[32], sql[700];
	snprintf(name, sizeof(name), "sg_scan%u", ++q->cursors);
	snprintf(sql, sizeof(sql), "DECLARE %s NO SCROLL CURSOR FOR %s", name,
		 statement_sql[chain ? ST_AUDIT_SCAN_CHAIN : ST_AUDIT_SCAN]);
	struct params p = {0};
	if (chain)
		p_text(&p, chain);
	p_int(&p, since_ms);
	PGresult *res = PQexecParams(q->conn, sql, p.n, NULL, p.v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = fail(q, res, err, "reading audit records");
		goto cleanup;
	}
	PQclear(res);
	snprintf(sql, sizeof(sql), "FETCH %d FROM %s", PG_SCAN_BATCH, name);
	for (;;) {
		res = PQexec(q->conn, sql);
		if (PQresultStatus(res) != PGRES_TUPLES_OK) {
			rc = fail(q, res, err, "reading audit records");
			goto cleanup;
		}
		int n = PQntuples(res);
		for (int i = 0; i < n && !frc; i++) {
			struct sg_audit_record r;
			read_record(res, i, &r);
			frc = fn(&r, ctx);
		}
		PQclear(res);
		if (frc || n < PG_SCAN_BATCH)
			break;
	}
	snprintf(sql, sizeof(sql), "CLOSE %s", name);
	rc = exec_sql(q, sql, err);
cleanup:
	if (own_tx) {
		if (rc < 0)
			g_rollback(s, NULL);
		else
			rc = g_commit(s, err);
	}
	if (rc < 0)
		return rc;
	return frc < 0 ? frc : 0;
}

static int g_audit_get(struct sg_store *s, const char *chain, int64_t seq,
		       struct sg_audit_record *out, struct sg_error *err)
{
	PGresult *res;
	struct params p = {0};
	p_text(&p, chain);
	p_int(&p, seq);
	int rc = exec_st(P(s), ST_AUDIT_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	read_record(res, 0, out);
	out->body = sg_strdup(out->body);
	out->body_owned = 1;
	PQclear(res);
	if (!out->body)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	return 0;
}

/* ---- tickets -------------------------------------------------------- */

static int load_existing(struct pg_store *q, struct sg_ticket_write *w,
			 struct sg_error *err)
{
	PGresult *res;
	struct params p = {0};
	p_text(&p, w->ticket_id);
	p_text(&p, w->event_id);
	int rc = exec_st(q, ST_EVENT_DECISION, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return sg_error_set(err, SG_ESTORE, "postgres: the stored event of ticket '%s' "
				    "has no decision", w->ticket_id);
	}
	snprintf(w->decision_id, sizeof(w->decision_id), "%s", col_text(res, 0, 0));
	w->stored_decision = sg_strdup(col_text(res, 0, 1));
	PQclear(res);
	w->existed = 1;
	if (!w->stored_decision)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	return 0;
}

static int g_ticket_write(struct sg_store *s, struct sg_ticket_write *w,
			  struct sg_error *err)
{
	struct pg_store *q = P(s);
	int64_t now = w->now_ms ? w->now_ms : sg_now_ms();
	int rc;
	long changed = 0;
	if (sg_id_new(w->decision_id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
	struct params p = {0};
	p_text(&p, w->ticket_id);
	p_text(&p, w->event_id);
	p_int(&p, now);
	p_text(&p, w->event_json);
	p_text(&p, w->decision_id);
	if ((rc = run(q, ST_EVENT_INSERT, &p, &changed, err)) < 0)
		return rc;
	if (changed == 0)
		return load_existing(q, w, err);

	struct params d = {0};
	const char *cols[] = {w->decision_id, w->ticket_id, w->event_id, w->gate,
			      w->risk_tier, w->intent, w->queue, w->policy_version};
	for (int i = 0; i < 8; i++)
		p_text(&d, cols[i]);
	p_int(&d, now);
	p_text(&d, w->decision_json);
	if ((rc = run(q, ST_DECISION_INSERT, &d, NULL, err)) < 0)
		return rc;

	struct params t = {0};
	p_text(&t, w->ticket_id);
	p_text(&t, w->state ? w->state : "open");
	p_text(&t, w->decision_id);
	p_int(&t, now);
	p_int(&t, now);
	if ((rc = run(q, ST_TICKET_UPSERT, &t, NULL, err)) < 0)
		return rc;

	for (size_t i = 0; i < w->nactions; i++) {
		const struct sg_outbox_action *a = &w->actions[i];
		char id[SG_ID_LEN], key[SG_ID_LEN + 24];
		if (sg_id_new(id) < 0)
			return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
		snprintf(key, sizeof(key), "%s:%zu", w->decision_id, i);
		struct params o = {0};
		p_text(&o, id);
		p_text(&o, w->ticket_id);
		p_text(&o, a->kind);
		p_text(&o, a->target);
		p_text(&o, a->payload);
		p_text(&o, a->idem_key ? a->idem_key : key);
		p_int(&o, now);
		p_int(&o, now);
		p_int(&o, now);
		if ((rc = run(q, ST_OUTBOX_INSERT, &o, NULL, err)) < 0)
			return rc;
	}
	return 0;
}

static int g_ticket_decision(struct sg_store *s, const char *ticket_id, char **out,
			     struct sg_error *err)
{
	*out = NULL;
	PGresult *res;
	struct params p = {0};
	p_text(&p, ticket_id);
	int rc = exec_st(P(s), ST_TICKET_DECISION, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return sg_error_set(err, SG_ENOTFOUND, "ticket '%s' not found", ticket_id);
	}
	*out = sg_strdup(col_text(res, 0, 0));
	PQclear(res);
	return *out ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

static int g_human_action(struct sg_store *s, struct sg_human_action *a,
			  struct sg_error *err)
{
	struct pg_store *q = P(s);
	int64_t now = a->now_ms ? a->now_ms : sg_now_ms();
	int rc;
	char id[SG_ID_LEN];
	a->draft_version = 0;
	if (a->draft_text) {
		PGresult *res;
		struct params p = {0};
		p_text(&p, a->ticket_id);
		if ((rc = exec_st(q, ST_DRAFT_NEXT, &p, &res, err)) < 0)
			return rc;
		a->draft_version = (int)col_int(res, 0, 0);
		PQclear(res);
		struct params d = {0};
		p_text(&d, a->ticket_id);
		p_int(&d, a->draft_version);
		p_text(&d, a->decision_id);
		p_text(&d, a->user);
		p_text(&d, a->draft_text);
		p_text(&d, a->draft_diff);
		p_int(&d, now);
		if ((rc = run(q, ST_DRAFT_INSERT, &d, NULL, err)) < 0)
			return rc;
	}
	if (sg_id_new(id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
	struct params p = {0};
	p_text(&p, id);
	p_text(&p, a->ticket_id);
	p_text(&p, a->decision_id);
	p_text(&p, a->user);
	p_text(&p, a->role);
	p_text(&p, a->action);
	p_int(&p, a->step);
	p_text(&p, a->note);
	p_int(&p, now);
	return run(q, ST_APPROVAL_INSERT, &p, NULL, err);
}

/* ---- outbox --------------------------------------------------------- */

static int g_outbox_claim(struct sg_store *s, const char *owner, int64_t now_ms,
			  int64_t lease_ms, unsigned max,
			  struct sg_outbox_item **out, size_t *n,
			  struct sg_error *err)
{
	*out = NULL;
	*n = 0;
	struct params p = {0};
	p_text(&p, owner);
	p_int(&p, now_ms + lease_ms);
	p_int(&p, now_ms);
	p_int(&p, now_ms);
	p_int(&p, now_ms);
	p_int(&p, max);
	PGresult *res;
	int rc = exec_st(P(s), ST_OUTBOX_CLAIM, &p, &res, err);
	if (rc < 0)
		return rc;
	int rows = PQntuples(res);
	struct sg_outbox_item *items = sg_calloc(rows ? (size_t)rows : 1, sizeof(*items));
	if (!items) {
		PQclear(res);
		return sg_error_set(err, SG_ENOMEM, "outbox claim: out of memory");
	}
	int oom = 0;
	for (int i = 0; i < rows; i++) {
		struct sg_outbox_item *it = &items[i];
		snprintf(it->id, sizeof(it->id), "%s", col_text(res, i, 0));
		it->ticket_id = sg_strdup(col_text(res, i, 1));
		it->kind = sg_strdup(col_text(res, i, 2));
		it->target = sg_strdup(col_text(res, i, 3));
		it->payload = sg_strdup(col_text(res, i, 4));
		it->idem_key = sg_strdup(col_text(res, i, 5));
		it->attempts = (int)col_int(res, i, 6);
		if (!it->ticket_id || !it->kind || !it->target || !it->payload || !it->idem_key)
			oom = 1;
	}
	PQclear(res);
	if (oom) {
		/* the leases expire and the actions are claimed again */
		sg_store_outbox_items_free(items, (size_t)rows);
		return sg_error_set(err, SG_ENOMEM, "outbox claim: out of memory");
	}
	*out = items;
	*n = (size_t)rows;
	return 0;
}

static int g_outbox_finish(struct sg_store *s, const char *id, const char *owner,
			   const char *state, int64_t retry_at_ms, int max_attempts,
			   const char *why, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, state);
	p_int(&p, max_attempts);
	p_int(&p, retry_at_ms);
	p_text(&p, why);
	p_int(&p, sg_now_ms());
	p_text(&p, id);
	p_text(&p, owner);
	long changed = 0;
	int rc = run(P(s), ST_OUTBOX_FINISH, &p, &changed, err);
	if (rc < 0)
		return rc;
	if (changed == 0)
		return sg_error_set(err, SG_ECONFLICT,
				    "outbox action '%s' is not leased to '%s' (lease "
				    "expired and taken, or already finished)", id, owner);
	return 0;
}

static int g_outbox_count(struct sg_store *s, const char *state, long *out,
			  struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, state);
	PGresult *res;
	int rc = exec_st(P(s), ST_OUTBOX_COUNT, &p, &res, err);
	if (rc < 0)
		return rc;
	*out = (long)col_int(res, 0, 0);
	PQclear(res);
	return 0;
}

static const char *col_null(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int g_outbox_list(struct sg_store *s, const char *state, const char *id,
			 unsigned long limit,
			 int (*fn)(const struct sg_outbox_row *r, void *ctx), void *ctx,
			 struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, state);
	p_text(&p, id);
	if (limit)
		p_int(&p, (int64_t)limit);
	else
		p_text(&p, NULL); /* LIMIT NULL: no limit */
	PGresult *res;
	int rc = exec_st(P(s), ST_OUTBOX_LIST, &p, &res, err);
	if (rc < 0)
		return rc;
	int rows = PQntuples(res);
	for (int i = 0; i < rows; i++) {
		struct sg_outbox_row r;
		memset(&r, 0, sizeof(r));
		snprintf(r.id, sizeof(r.id), "%s", col_text(res, i, 0));
		r.ticket_id = col_null(res, i, 1);
		r.kind = col_null(res, i, 2);
		r.target = col_null(res, i, 3);
		r.idem_key = col_null(res, i, 4);
		r.state = col_null(res, i, 5);
		r.last_error = col_null(res, i, 6);
		r.attempts = (int)col_int(res, i, 7);
		r.next_attempt_ms = col_int(res, i, 8);
		r.created_ms = col_int(res, i, 9);
		r.updated_ms = col_int(res, i, 10);
		if (fn(&r, ctx))
			break;
	}
	PQclear(res);
	return 0;
}

static int g_outbox_retry(struct sg_store *s, const char *id, int64_t now_ms, long *n,
			  struct sg_error *err)
{
	struct params p = {0};
	p_int(&p, now_ms);
	p_text(&p, id);
	return run(P(s), ST_OUTBOX_RETRY, &p, n, err);
}

static int g_outbox_drop(struct sg_store *s, const char *id, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, id);
	long changed = 0;
	int rc = run(P(s), ST_OUTBOX_DROP, &p, &changed, err);
	if (rc < 0)
		return rc;
	return changed ? 0 : 1;
}

/* ---- users ---------------------------------------------------------- */

static int g_user_insert(struct sg_store *s, const char *name, const char *role,
			 const char *prefix, const char *hash, int64_t now_ms,
			 struct sg_error *err)
{
	struct pg_store *q = P(s);
	struct params p = {0};
	p_text(&p, name);
	PGresult *res;
	int rc = exec_st(q, ST_USER_EXISTS, &p, &res, err);
	if (rc < 0)
		return rc;
	int exists = PQntuples(res) > 0;
	PQclear(res);
	if (exists)
		return sg_error_set(err, SG_ECONFLICT, "user '%s' already exists", name);
	p_text(&p, role);
	p_text(&p, prefix);
	p_text(&p, hash);
	p_int(&p, now_ms);
	return run(q, ST_USER_INSERT, &p, NULL, err);
}

static void read_user(const PGresult *res, int i, struct sg_store_user *u)
{
	snprintf(u->name, sizeof(u->name), "%s", col_text(res, i, 0));
	snprintf(u->role, sizeof(u->role), "%s", col_text(res, i, 1));
	u->created_ms = col_int(res, i, 2);
}

static int g_user_list(struct sg_store *s, int (*fn)(const struct sg_store_user *u, void *ctx),
		       void *ctx, struct sg_error *err)
{
	PGresult *res;
	int rc = exec_st(P(s), ST_USER_LIST, NULL, &res, err);
	if (rc < 0)
		return rc;
	int frc = 0;
	for (int i = 0; i < PQntuples(res) && !frc; i++) {
		struct sg_store_user u;
		read_user(res, i, &u);
		frc = fn(&u, ctx);
	}
	PQclear(res);
	return frc < 0 ? frc : 0;
}

static int g_user_by_prefix(struct sg_store *s, const char *prefix, struct sg_store_user *out,
			    char hash[SG_SHA256_HEX], struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, prefix);
	PGresult *res;
	int rc = exec_st(P(s), ST_USER_PREFIX, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	read_user(res, 0, out);
	snprintf(hash, SG_SHA256_HEX, "%s", col_text(res, 0, 3));
	PQclear(res);
	return 0;
}

/* ---- sessions ------------------------------------------------------- */

static int g_session_put(struct sg_store *s, const char *sid_hash, const char *user,
			 const char *csrf, int64_t now_ms, int64_t expires_ms,
			 struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, sid_hash);
	p_text(&p, user);
	p_text(&p, csrf);
	p_int(&p, now_ms);
	p_int(&p, expires_ms);
	return run(P(s), ST_SESSION_PUT, &p, NULL, err);
}

static int g_session_get(struct sg_store *s, const char *sid_hash,
			 struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
			 int64_t *expires_ms, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, sid_hash);
	PGresult *res;
	int rc = exec_st(P(s), ST_SESSION_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	read_user(res, 0, out);
	snprintf(csrf, SG_STORE_CSRF_LEN, "%s", col_text(res, 0, 3));
	*expires_ms = col_int(res, 0, 4);
	PQclear(res);
	return 0;
}

static int g_session_del(struct sg_store *s, const char *sid_hash, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, sid_hash);
	return run(P(s), ST_SESSION_DEL, &p, NULL, err);
}

/* ---- escalations ---------------------------------------------------- */

static int g_escalation_open(struct sg_store *s, const char *id, const char *ticket_id,
			     int level, const char *owner, const char *channel,
			     const char *reason, int64_t now_ms, int64_t due_ms,
			     struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, id);
	p_text(&p, ticket_id);
	p_int(&p, level);
	p_text(&p, owner);
	p_text(&p, channel);
	p_text(&p, reason);
	p_int(&p, due_ms);
	p_int(&p, now_ms);
	p_int(&p, now_ms);
	return run(P(s), ST_ESC_OPEN, &p, NULL, err);
}

static int g_escalation_claim(struct sg_store *s, const char *worker, int64_t now_ms,
			      int64_t lease_ms, unsigned max, struct sg_store_escalation *out,
			      size_t *n, struct sg_error *err)
{
	*n = 0;
	struct params p = {0};
	p_text(&p, worker);
	p_int(&p, now_ms + lease_ms);
	p_int(&p, now_ms);
	p_int(&p, now_ms);
	p_int(&p, now_ms);
	p_int(&p, max);
	PGresult *res;
	int rc = exec_st(P(s), ST_ESC_CLAIM, &p, &res, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && *n < max; i++) {
		struct sg_store_escalation *e = &out[(*n)++];
		snprintf(e->id, sizeof(e->id), "%s", col_text(res, i, 0));
		snprintf(e->ticket_id, sizeof(e->ticket_id), "%s", col_text(res, i, 1));
		e->level = (int)col_int(res, i, 2);
		snprintf(e->owner, sizeof(e->owner), "%s", col_text(res, i, 3));
		snprintf(e->channel, sizeof(e->channel), "%s", col_text(res, i, 4));
		e->due_ms = col_int(res, i, 5);
	}
	PQclear(res);
	return 0;
}

static int g_escalation_close(struct sg_store *s, const char *id, const char *worker,
			      const char *state, int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, state);
	p_int(&p, now_ms);
	p_text(&p, id);
	p_text(&p, worker);
	long changed = 0;
	int rc = run(P(s), ST_ESC_CLOSE, &p, &changed, err);
	if (rc < 0)
		return rc;
	return changed ? 0 : 1;
}

/* ---- read views ----------------------------------------------------- */

static int rows(PGresult *res, sg_store_row_fn fn, void *ctx)
{
	int frc = 0;
	for (int i = 0; i < PQntuples(res) && !frc; i++) {
		struct sg_store_row r;
		r.ncol = PQnfields(res);
		if (r.ncol > SG_STORE_ROW_MAX)
			r.ncol = SG_STORE_ROW_MAX;
		for (int c = 0; c < r.ncol; c++) {
			int null = PQgetisnull(res, i, c);
			r.text[c] = null ? NULL : PQgetvalue(res, i, c);
			r.num[c] = null ? 0 : strtoll(r.text[c], NULL, 10);
		}
		frc = fn(&r, ctx);
	}
	PQclear(res);
	return frc < 0 ? frc : 0;
}

static int g_view(struct sg_store *s, enum sg_store_view v, const char *key,
		  sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, key);
	PGresult *res;
	int rc = exec_st(P(s), ST_V_LATEST + (int)v, &p, &res, err);
	return rc < 0 ? rc : rows(res, fn, ctx);
}

static int g_queue_scan(struct sg_store *s, const struct sg_store_queue_filter *f,
			sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, f->queue);
	p_text(&p, f->gate);
	p_text(&p, f->tier);
	PGresult *res;
	int rc = exec_st(P(s), ST_QUEUE, &p, &res, err);
	return rc < 0 ? rc : rows(res, fn, ctx);
}

/* ---- onboarding reviewers, shadow policy, counters ------------------- */

static int g_onboarding_set(struct sg_store *s, const char *name, int on,
			    struct sg_error *err)
{
	struct params p = {0};
	long changed = 0;
	p_int(&p, on);
	p_int(&p, on);
	p_text(&p, name);
	int rc = run(P(s), ST_ONB_SET, &p, &changed, err);
	return rc < 0 ? rc : changed ? 0 : 1;
}

static int g_onboarding_bump(struct sg_store *s, const char *name, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, name);
	return run(P(s), ST_ONB_BUMP, &p, NULL, err);
}

static int g_onboarding_get(struct sg_store *s, const char *name,
			    struct sg_store_onboarding *out, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, name);
	PGresult *res;
	int rc = exec_st(P(s), ST_ONB_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	out->onboarding = (int)col_int(res, 0, 0);
	out->tickets = (long)col_int(res, 0, 1);
	PQclear(res);
	return 0;
}

static int g_peer_review_add(struct sg_store *s, const char *decision_id,
			     const char *ticket_id, const char *user, const char *reason,
			     int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, decision_id);
	p_text(&p, ticket_id);
	p_text(&p, user);
	p_text(&p, reason);
	p_int(&p, now_ms);
	return run(P(s), ST_PEER_ADD, &p, NULL, err);
}

static int g_peer_review_get(struct sg_store *s, const char *decision_id,
			     struct sg_store_peer_review *out, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, decision_id);
	PGresult *res;
	int rc = exec_st(P(s), ST_PEER_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	snprintf(out->user, sizeof(out->user), "%s", col_text(res, 0, 0));
	snprintf(out->reason, sizeof(out->reason), "%s", col_text(res, 0, 1));
	out->created_ms = col_int(res, 0, 2);
	PQclear(res);
	return 0;
}

static int g_shadow_insert(struct sg_store *s, const char *id,
			   const struct sg_store_shadow_diff *d, int64_t now_ms,
			   struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, id);
	p_text(&p, d->ticket_id);
	p_text(&p, d->event_id);
	p_text(&p, d->live_version);
	p_text(&p, d->shadow_version);
	p_text(&p, d->field);
	p_text(&p, d->live_value);
	p_text(&p, d->shadow_value);
	p_int(&p, now_ms);
	return run(P(s), ST_SHADOW_INSERT, &p, NULL, err);
}

static int g_counter_add(struct sg_store *s, const char *name, long delta,
			 struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, name);
	p_int(&p, delta);
	return run(P(s), ST_COUNTER_ADD, &p, NULL, err);
}

static int g_counter_get(struct sg_store *s, const char *name, long *out,
			 struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, name);
	PGresult *res;
	*out = 0;
	int rc = exec_st(P(s), ST_COUNTER_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) > 0)
		*out = (long)col_int(res, 0, 0);
	PQclear(res);
	return 0;
}

static int g_shadow_fields(struct sg_store *s, const char *shadow_version,
			   int (*fn)(const char *field, long n, void *ctx), void *ctx,
			   struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, shadow_version);
	PGresult *res;
	int rc = exec_st(P(s), ST_SHADOW_FIELDS, &p, &res, err);
	if (rc < 0)
		return rc;
	int frc = 0;
	for (int i = 0; i < PQntuples(res) && !frc; i++)
		frc = fn(col_text(res, i, 0), (long)col_int(res, i, 1), ctx);
	PQclear(res);
	return frc < 0 ? frc : 0;
}

static int g_shadow_scan(struct sg_store *s, const char *shadow_version, unsigned limit,
			 int (*fn)(const struct sg_store_shadow_diff *d, void *ctx),
			 void *ctx, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, shadow_version);
	p_int(&p, limit);
	PGresult *res;
	int rc = exec_st(P(s), ST_SHADOW_SCAN, &p, &res, err);
	if (rc < 0)
		return rc;
	int frc = 0;
	for (int i = 0; i < PQntuples(res) && !frc; i++) {
		struct sg_store_shadow_diff d = {
			col_text(res, i, 0), col_text(res, i, 1), col_text(res, i, 2),
			col_text(res, i, 3), col_text(res, i, 4), col_text(res, i, 5),
			col_text(res, i, 6), col_int(res, i, 7)};
		frc = fn(&d, ctx);
	}
	PQclear(res);
	return frc < 0 ? frc : 0;
}

/* ---- QA loop ---------------------------------------------------------- */

/* Runs a QA query and hands each row to row(res, i, ctx) until it returns
 * non-zero; a negative return is passed on. */
static int qa_rows(struct pg_store *q, int which, const struct params *p,
		   int (*row)(const PGresult *res, int i, void *ctx), void *ctx,
		   struct sg_error *err)
{
	PGresult *res;
	int rc = exec_st(q, which, p, &res, err), frc = 0;
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && !frc; i++)
		frc = row(res, i, ctx);
	PQclear(res);
	return frc < 0 ? frc : 0;
}

/* A write; 1 when it changed no row. */
static int qa_write(struct pg_store *q, int which, const struct params *p, struct sg_error *err)
{
	long changed = 0;
	int rc = run(q, which, p, &changed, err);
	return rc < 0 ? rc : changed ? 0 : 1;
}

struct pg_cb {
	void (*fn)(void);
	void *ctx;
};

#define CB(type) ((type)c->fn)
#define PCOPY(dst, res, i, col) snprintf((dst), sizeof(dst), "%s", col_text((res), (i), (col)))

static int pending_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_pending x = {
		col_text(res, i, 0), col_text(res, i, 1), col_text(res, i, 2), col_text(res, i, 3),
		col_text(res, i, 4), col_text(res, i, 5), col_int(res, i, 6), col_int(res, i, 7)};
	return CB(int (*)(const struct sg_store_qa_pending *, void *))(&x, c->ctx);
}

static int g_qa_pending(struct sg_store *s, int64_t since_ms, unsigned max,
			int (*fn)(const struct sg_store_qa_pending *p, void *ctx), void *ctx,
			struct sg_error *err)
{
	struct params p = {0};
	p_int(&p, since_ms);
	p_int(&p, max);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(P(s), ST_QA_PENDING, &p, pending_row, &c, err);
}

static int g_qa_fact_put(struct sg_store *s, const struct sg_store_qa_fact *f,
			 struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, f->decision_id);
	p_text(&p, f->ticket_id);
	p_int(&p, f->ticket_created_ms);
	p_int(&p, f->created_ms);
	p_text(&p, f->intent);
	p_text(&p, f->risk_tier);
	p_text(&p, f->gate);
	p_text(&p, f->ai_mode);
	p_int(&p, f->ai_draft_sent);
	p_int(&p, f->escalated);
	p_text(&p, f->escalation_reason);
	p_text(&p, f->guardrail_action);
	int rc = qa_write(P(s), ST_QA_FACT_PUT, &p, err);
	if (rc)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < f->ntypes; i++) {
		struct params g = {0};
		p_text(&g, f->decision_id);
		p_int(&g, f->created_ms);
		p_text(&g, f->guardrail_types[i]);
		p_text(&g, f->guardrail_action);
		if ((rc = qa_write(P(s), ST_QA_GUARD_PUT, &g, err)) < 0)
			return rc;
	}
	return 0;
}

static int g_qa_csat_put(struct sg_store *s, const char *ticket_id, int score, int64_t now_ms,
			 struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, ticket_id);
	p_int(&p, score);
	p_int(&p, now_ms);
	int rc = qa_write(P(s), ST_QA_CSAT_PUT, &p, err);
	return rc < 0 ? rc : 0;
}

static int candidate_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_candidate x = {col_text(res, i, 0), col_text(res, i, 1),
					  col_text(res, i, 2), col_text(res, i, 3),
					  col_int(res, i, 4)};
	return CB(int (*)(const struct sg_store_qa_candidate *, void *))(&x, c->ctx);
}

static int g_qa_candidates(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const struct sg_store_qa_candidate *c, void *ctx), void *ctx,
			   struct sg_error *err)
{
	struct params p = {0};
	p_int(&p, from_ms);
	p_int(&p, to_ms);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(P(s), ST_QA_CANDIDATES, &p, candidate_row, &c, err);
}

static int g_qa_sample_put(struct sg_store *s, const struct sg_store_qa_sample *x,
			   struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, x->id);
	p_text(&p, x->period);
	p_text(&p, x->ticket_id);
	p_text(&p, x->decision_id);
	p_text(&p, x->category);
	p_text(&p, x->kind);
	p_int(&p, x->reached_customer);
	p_int(&p, x->seed);
	p_int(&p, x->created_ms);
	return qa_write(P(s), ST_QA_SAMPLE_PUT, &p, err);
}

static int sample_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_sample x;
	memset(&x, 0, sizeof(x));
	PCOPY(x.id, res, i, 0);
	PCOPY(x.period, res, i, 1);
	PCOPY(x.ticket_id, res, i, 2);
	PCOPY(x.decision_id, res, i, 3);
	PCOPY(x.category, res, i, 4);
	PCOPY(x.kind, res, i, 5);
	x.reached_customer = (int)col_int(res, i, 6);
	x.seed = col_int(res, i, 7);
	x.created_ms = col_int(res, i, 8);
	x.scored = !PQgetisnull(res, i, 9);
	x.accurate = (int)col_int(res, i, 9);
	PCOPY(x.reviewer, res, i, 10);
	return CB(int (*)(const struct sg_store_qa_sample *, void *))(&x, c->ctx);
}

static int g_qa_sample_list(struct sg_store *s, const char *period, const char *id,
			    int (*fn)(const struct sg_store_qa_sample *x, void *ctx), void *ctx,
			    struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, period);
	p_text(&p, id);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(P(s), ST_QA_SAMPLE_LIST, &p, sample_row, &c, err);
}

static int g_qa_score_put(struct sg_store *s, const struct sg_store_qa_score *x,
			  struct sg_error *err)
{
	char tags[SG_QA_NAME_MAX * 4] = "";
	for (size_t i = 0; i < x->ndefects; i++) {
		size_t l = strlen(tags);
		snprintf(tags + l, sizeof(tags) - l, "%s%s", i ? "," : "", x->defects[i]);
	}
	struct params p = {0};
	p_text(&p, x->sample_id);
	p_text(&p, x->period);
	p_text(&p, x->ticket_id);
	p_text(&p, x->category);
	p_text(&p, x->reviewer);
	for (int i = 0; i < SG_QA_DIMENSIONS; i++)
		p_int(&p, x->dims[i]);
	p_text(&p, tags);
	p_int(&p, x->accurate);
	p_int(&p, x->reached_customer);
	p_text(&p, x->note);
	p_int(&p, x->created_ms);
	int rc = qa_write(P(s), ST_QA_SCORE_PUT, &p, err);
	if (rc < 0)
		return rc;
	struct params d = {0};
	p_text(&d, x->sample_id);
	if ((rc = qa_write(P(s), ST_QA_DEFECTS_DEL, &d, err)) < 0)
		return rc;
	for (size_t i = 0; i < x->ndefects; i++) {
		struct params t = {0};
		p_text(&t, x->sample_id);
		p_text(&t, x->period);
		p_text(&t, x->defects[i]);
		if ((rc = qa_write(P(s), ST_QA_DEFECT_PUT, &t, err)) < 0)
			return rc;
	}
	return 0;
}

static int accuracy_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	return CB(int (*)(const char *, long, long, void *))(
		col_text(res, i, 0), (long)col_int(res, i, 1), (long)col_int(res, i, 2), c->ctx);
}

static int g_qa_accuracy(struct sg_store *s, const char *period,
			 int (*fn)(const char *category, long scored, long accurate, void *ctx),
			 void *ctx, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, period);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(P(s), ST_QA_ACCURACY, &p, accuracy_row, &c, err);
}

static int g_qa_pause_open(struct sg_store *s, const struct sg_store_qa_pause *x,
			   struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, x->id);
	p_text(&p, x->category);
	p_text(&p, x->period);
	p_int(&p, x->accuracy_bp);
	p_int(&p, x->scored);
	p_int(&p, x->opened_ms);
	return qa_write(P(s), ST_QA_PAUSE_OPEN, &p, err);
}

static int g_qa_pause_lift(struct sg_store *s, const char *category, const char *user,
			   int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	p_int(&p, now_ms);
	p_text(&p, user);
	p_text(&p, category);
	return qa_write(P(s), ST_QA_PAUSE_LIFT, &p, err);
}

static int pause_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_pause x;
	memset(&x, 0, sizeof(x));
	PCOPY(x.id, res, i, 0);
	PCOPY(x.category, res, i, 1);
	PCOPY(x.period, res, i, 2);
	x.accuracy_bp = (int)col_int(res, i, 3);
	x.scored = (int)col_int(res, i, 4);
	x.opened_ms = col_int(res, i, 5);
	x.lifted_ms = col_int(res, i, 6);
	PCOPY(x.lifted_by, res, i, 7);
	return CB(int (*)(const struct sg_store_qa_pause *, void *))(&x, c->ctx);
}

static int g_qa_pause_list(struct sg_store *s, int active_only,
			   int (*fn)(const struct sg_store_qa_pause *p, void *ctx), void *ctx,
			   struct sg_error *err)
{
	struct params p = {0};
	p_int(&p, active_only ? 1 : 0);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(P(s), ST_QA_PAUSE_LIST, &p, pause_row, &c, err);
}

static int g_qa_suggest(struct sg_store *s, const char *category, const char *period,
			int accuracy_bp, int previous_bp, int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, category);
	p_text(&p, period);
	p_int(&p, accuracy_bp);
	p_int(&p, previous_bp);
	p_int(&p, now_ms);
	return qa_write(P(s), ST_QA_SUGGEST, &p, err);
}

static int g_qa_incident_open(struct sg_store *s, const struct sg_store_qa_incident *x,
			      struct sg_error *err)
{
	struct params p = {0};
	p_text(&p, x->id);
	p_text(&p, x->ticket_id);
	p_text(&p, x->sample_id);
	p_text(&p, x->category);
	p_int(&p, x->opened_ms);
	p_int(&p, x->due_ms);
	return qa_write(P(s), ST_QA_INC_OPEN, &p, err);
}

static int g_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			       int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	p_int(&p, now_ms);
	p_text(&p, user);
	p_text(&p, id);
	return qa_write(P(s), ST_QA_INC_CLOSE, &p, err);
}

static int incident_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_incident x;
	memset(&x, 0, sizeof(x));
	PCOPY(x.id, res, i, 0);
	PCOPY(x.ticket_id, res, i, 1);
	PCOPY(x.sample_id, res, i, 2);
	PCOPY(x.category, res, i, 3);
	PCOPY(x.state, res, i, 4);
	x.opened_ms = col_int(res, i, 5);
	x.due_ms = col_int(res, i, 6);
	x.closed_ms = col_int(res, i, 7);
	PCOPY(x.closed_by, res, i, 8);
	return CB(int (*)(const struct sg_store_qa_incident *, void *))(&x, c->ctx);
}

static int g_qa_incident_list(struct sg_store *s, int open_only,
			      int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
			      void *ctx, struct sg_error *err)
{
	struct params p = {0};
	p_int(&p, open_only ? 1 : 0);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(P(s), ST_QA_INC_LIST, &p, incident_row, &c, err);
}

static int stat_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	return CB(int (*)(const char *, const char *, long, void *))(
		col_text(res, i, 0), col_text(res, i, 1), (long)col_int(res, i, 2), c->ctx);
}

static int g_qa_stat(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
		     int64_t to_ms, const char *period,
		     int (*fn)(const char *k1, const char *k2, long n, void *ctx), void *ctx,
		     struct sg_error *err)
{
	static const int which_st[SG_QA_STAT__COUNT] = {
		[SG_QA_STAT_APPROVALS] = ST_QA_ST_APPROVALS,
		[SG_QA_STAT_ESCALATIONS] = ST_QA_ST_ESCALATIONS,
		[SG_QA_STAT_GUARDRAILS] = ST_QA_ST_GUARDRAILS,
		[SG_QA_STAT_DEFECTS] = ST_QA_ST_DEFECTS,
		[SG_QA_STAT_BREACHES] = ST_QA_ST_BREACHES,
		[SG_QA_STAT_SUGGESTIONS] = ST_QA_ST_SUGGESTIONS,
		[SG_QA_STAT_INCIDENTS] = ST_QA_ST_INCIDENTS,
	};
	struct params p = {0};
	/* the period's counts take the period, the others the time range */
	if (which == SG_QA_STAT_DEFECTS || which == SG_QA_STAT_SUGGESTIONS) {
		p_text(&p, period);
	} else {
		p_int(&p, from_ms);
		p_int(&p, to_ms);
	}
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(P(s), which_st[which], &p, stat_row, &c, err);
}

static int ticket_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_ticket t;
	memset(&t, 0, sizeof(t));
	t.ticket_id = col_text(res, i, 0);
	t.created_ms = col_int(res, i, 1);
	t.events = (int)col_int(res, i, 2);
	t.auto_sent = (int)col_int(res, i, 3);
	t.escalated = (int)col_int(res, i, 4);
	int64_t first_auto = col_int(res, i, 5), last_auto = col_int(res, i, 6);
	int64_t first_h = col_int(res, i, 7), last_h = col_int(res, i, 8);
	t.first_reply_ms = first_auto && (!first_h || first_auto < first_h) ? first_auto : first_h;
	t.last_reply_ms = last_auto > last_h ? last_auto : last_h;
	t.ai_mode = col_text(res, i, 9);
	t.csat = (int)col_int(res, i, 10);
	return CB(int (*)(const struct sg_store_qa_ticket *, void *))(&t, c->ctx);
}

static int g_qa_tickets(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			int (*fn)(const struct sg_store_qa_ticket *t, void *ctx), void *ctx,
			struct sg_error *err)
{
	struct params p = {0};
	p_int(&p, from_ms);
	p_int(&p, to_ms);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(P(s), ST_QA_TICKETS, &p, ticket_row, &c, err);
}

static int diff_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	return CB(int (*)(const char *, void *))(col_text(res, i, 0), c->ctx);
}

static int g_qa_edit_diffs(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const char *diff, void *ctx), void *ctx,
			   struct sg_error *err)
{
	struct params p = {0};
	p_int(&p, from_ms);
	p_int(&p, to_ms);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(P(s), ST_QA_EDIT_DIFFS, &p, diff_row, &c, err);
}

#undef CB
#undef PCOPY

const struct sg_store_ops sg_store_postgres_ops = {
	.name = "postgres",
	.version = SG_STORE_OPS_VERSION,
	.caps = SG_STORE_SAVEPOINT | SG_STORE_SKIP_LOCKED | SG_STORE_MULTI_WRITER,
	.open = g_open,
	.close = g_close,
	.schema_version = g_schema_version,
	.begin = g_begin,
	.commit = g_commit,
	.rollback = g_rollback,
	.savepoint = g_savepoint,
	.ticket_write = g_ticket_write,
	.human_action = g_human_action,
	.audit_append = g_audit_append,
	.audit_anchor = g_audit_anchor,
	.user_insert = g_user_insert,
	.ticket_decision = g_ticket_decision,
	.audit_scan = g_audit_scan,
	.audit_get = g_audit_get,
	.outbox_claim = g_outbox_claim,
	.outbox_finish = g_outbox_finish,
	.outbox_count = g_outbox_count,
	.outbox_list = g_outbox_list,
	.outbox_retry = g_outbox_retry,
	.outbox_drop = g_outbox_drop,
	.user_list = g_user_list,
	.user_by_prefix = g_user_by_prefix,
	.session_put = g_session_put,
	.session_get = g_session_get,
	.session_del = g_session_del,
	.escalation_open = g_escalation_open,
	.escalation_claim = g_escalation_claim,
	.escalation_close = g_escalation_close,
	.view = g_view,
	.queue_scan = g_queue_scan,
	.onboarding_set = g_onboarding_set,
	.onboarding_bump = g_onboarding_bump,
	.onboarding_get = g_onboarding_get,
	.peer_review_add = g_peer_review_add,
	.peer_review_get = g_peer_review_get,
	.shadow_insert = g_shadow_insert,
	.counter_add = g_counter_add,
	.counter_get = g_counter_get,
	.shadow_fields = g_shadow_fields,
	.shadow_scan = g_shadow_scan,
	.qa_pending = g_qa_pending,
	.qa_fact_put = g_qa_fact_put,
	.qa_csat_put = g_qa_csat_put,
	.qa_candidates = g_qa_candidates,
	.qa_sample_put = g_qa_sample_put,
	.qa_sample_list = g_qa_sample_list,
	.qa_score_put = g_qa_score_put,
	.qa_accuracy = g_qa_accuracy,
	.qa_pause_open = g_qa_pause_open,
	.qa_pause_lift = g_qa_pause_lift,
	.qa_pause_list = g_qa_pause_list,
	.qa_suggest = g_qa_suggest,
	.qa_incident_open = g_qa_incident_open,
	.qa_incident_close = g_qa_incident_close,
	.qa_incident_list = g_qa_incident_list,
	.qa_stat = g_qa_stat,
	.qa_tickets = g_qa_tickets,
	.qa_edit_diffs = g_qa_edit_diffs,
};
