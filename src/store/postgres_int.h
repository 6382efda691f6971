/*
 * postgres_int.h - shared by the PostgreSQL backend's files only: the
 * statements, the connection struct, statement parameters, the helpers
 * that run statements, and each part's store operations for the ops table
 * in postgres.c.
 */
#ifndef SG_STORE_POSTGRES_INT_H
#define SG_STORE_POSTGRES_INT_H

#include "store/store_int.h"

#include <libpq-fe.h>

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
	X(COUNTER_TAKE, "INSERT INTO counters (name, value) VALUES ($1, 1)" \
	  " ON CONFLICT (name) DO UPDATE SET value = counters.value + 1" \
	  " WHERE counters.value < $2") \
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

extern const char *const pg_statement_sql[];

/* postgres.c */
void pg_param_text(struct params *p, const char *s);
void pg_param_int(struct params *p, int64_t x);
struct pg_store *pg_of(struct sg_store *s);
int64_t pg_col_int(const PGresult *r, int row, int col);
const char *pg_col_text(const PGresult *r, int row, int col);
int pg_fail(struct pg_store *q, PGresult *res, struct sg_error *err, const char *what);
int pg_ensure_conn(struct pg_store *q, struct sg_error *err);
int pg_exec_st(struct pg_store *q, int which, const struct params *p, PGresult **out,
	       struct sg_error *err);
int pg_run(struct pg_store *q, int which, const struct params *p, long *changed,
	   struct sg_error *err);
int pg_exec_sql(struct pg_store *q, const char *sql, struct sg_error *err);
int pg_begin(struct sg_store *s, struct sg_error *err);
int pg_commit(struct sg_store *s, struct sg_error *err);
int pg_rollback(struct sg_store *s, struct sg_error *err);

/* postgres_ticket.c */
int pg_audit_append(struct sg_store *s, struct sg_audit_record *r,
		    struct sg_error *err);
int pg_audit_anchor(struct sg_store *s, struct sg_error *err);
int pg_audit_scan(struct sg_store *s, const char *chain, int64_t since_ms,
		  int (*fn)(const struct sg_audit_record *r, void *ctx),
		  void *ctx, struct sg_error *err);
int pg_audit_get(struct sg_store *s, const char *chain, int64_t seq,
		 struct sg_audit_record *out, struct sg_error *err);
int pg_ticket_write(struct sg_store *s, struct sg_ticket_write *w,
		    struct sg_error *err);
int pg_ticket_decision(struct sg_store *s, const char *ticket_id, char **out,
		       struct sg_error *err);
int pg_human_action(struct sg_store *s, struct sg_human_action *a,
		    struct sg_error *err);
int pg_outbox_claim(struct sg_store *s, const char *owner, int64_t now_ms,
		    int64_t lease_ms, unsigned max,
		    struct sg_outbox_item **out, size_t *n,
		    struct sg_error *err);
int pg_outbox_finish(struct sg_store *s, const char *id, const char *owner,
		     const char *state, int64_t retry_at_ms, int max_attempts,
		     const char *why, struct sg_error *err);
int pg_outbox_count(struct sg_store *s, const char *state, long *out,
		    struct sg_error *err);
int pg_outbox_list(struct sg_store *s, const char *state, const char *id,
		   unsigned long limit,
		   int (*fn)(const struct sg_outbox_row *r, void *ctx), void *ctx,
		   struct sg_error *err);
int pg_outbox_retry(struct sg_store *s, const char *id, int64_t now_ms, long *n,
		    struct sg_error *err);
int pg_outbox_drop(struct sg_store *s, const char *id, struct sg_error *err);
int pg_escalation_open(struct sg_store *s, const char *id, const char *ticket_id,
		       int level, const char *owner, const char *channel,
		       const char *reason, int64_t now_ms, int64_t due_ms,
		       struct sg_error *err);
int pg_escalation_claim(struct sg_store *s, const char *worker, int64_t now_ms,
			int64_t lease_ms, unsigned max, struct sg_store_escalation *out,
			size_t *n, struct sg_error *err);
int pg_escalation_close(struct sg_store *s, const char *id, const char *worker,
			const char *state, int64_t now_ms, struct sg_error *err);

/* postgres_view.c */
int pg_user_insert(struct sg_store *s, const char *name, const char *role,
		   const char *prefix, const char *hash, int64_t now_ms,
		   struct sg_error *err);
int pg_user_list(struct sg_store *s, int (*fn)(const struct sg_store_user *u, void *ctx),
		 void *ctx, struct sg_error *err);
int pg_user_by_prefix(struct sg_store *s, const char *prefix, struct sg_store_user *out,
		      char hash[SG_SHA256_HEX], struct sg_error *err);
int pg_session_put(struct sg_store *s, const char *sid_hash, const char *user,
		   const char *csrf, int64_t now_ms, int64_t expires_ms,
		   struct sg_error *err);
int pg_session_get(struct sg_store *s, const char *sid_hash,
		   struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
		   int64_t *expires_ms, struct sg_error *err);
int pg_session_del(struct sg_store *s, const char *sid_hash, struct sg_error *err);
int pg_view(struct sg_store *s, enum sg_store_view v, const char *key,
	    sg_store_row_fn fn, void *ctx, struct sg_error *err);
int pg_queue_scan(struct sg_store *s, const struct sg_store_queue_filter *f,
		  sg_store_row_fn fn, void *ctx, struct sg_error *err);

/* postgres_qa.c */
int pg_onboarding_set(struct sg_store *s, const char *name, int on,
		      struct sg_error *err);
int pg_onboarding_bump(struct sg_store *s, const char *name, struct sg_error *err);
int pg_onboarding_get(struct sg_store *s, const char *name,
		      struct sg_store_onboarding *out, struct sg_error *err);
int pg_peer_review_add(struct sg_store *s, const char *decision_id,
		       const char *ticket_id, const char *user, const char *reason,
		       int64_t now_ms, struct sg_error *err);
int pg_peer_review_get(struct sg_store *s, const char *decision_id,
		       struct sg_store_peer_review *out, struct sg_error *err);
int pg_shadow_insert(struct sg_store *s, const char *id,
		     const struct sg_store_shadow_diff *d, int64_t now_ms,
		     struct sg_error *err);
int pg_counter_add(struct sg_store *s, const char *name, long delta,
		   struct sg_error *err);
int pg_counter_take(struct sg_store *s, const char *name, long limit,
		    struct sg_error *err);
int pg_counter_get(struct sg_store *s, const char *name, long *out,
		   struct sg_error *err);
int pg_shadow_fields(struct sg_store *s, const char *shadow_version,
		     int (*fn)(const char *field, long n, void *ctx), void *ctx,
		     struct sg_error *err);
int pg_shadow_scan(struct sg_store *s, const char *shadow_version, unsigned limit,
		   int (*fn)(const struct sg_store_shadow_diff *d, void *ctx),
		   void *ctx, struct sg_error *err);
int pg_qa_pending(struct sg_store *s, int64_t since_ms, unsigned max,
		  int (*fn)(const struct sg_store_qa_pending *p, void *ctx), void *ctx,
		  struct sg_error *err);
int pg_qa_fact_put(struct sg_store *s, const struct sg_store_qa_fact *f,
		   struct sg_error *err);
int pg_qa_csat_put(struct sg_store *s, const char *ticket_id, int score, int64_t now_ms,
		   struct sg_error *err);
int pg_qa_candidates(struct sg_store *s, int64_t from_ms, int64_t to_ms,
		     int (*fn)(const struct sg_store_qa_candidate *c, void *ctx), void *ctx,
		     struct sg_error *err);
int pg_qa_sample_put(struct sg_store *s, const struct sg_store_qa_sample *x,
		     struct sg_error *err);
int pg_qa_sample_list(struct sg_store *s, const char *period, const char *id,
		      int (*fn)(const struct sg_store_qa_sample *x, void *ctx), void *ctx,
		      struct sg_error *err);
int pg_qa_score_put(struct sg_store *s, const struct sg_store_qa_score *x,
		    struct sg_error *err);
int pg_qa_accuracy(struct sg_store *s, const char *period,
		   int (*fn)(const char *category, long scored, long accurate, void *ctx),
		   void *ctx, struct sg_error *err);
int pg_qa_pause_open(struct sg_store *s, const struct sg_store_qa_pause *x,
		     struct sg_error *err);
int pg_qa_pause_lift(struct sg_store *s, const char *category, const char *user,
		     int64_t now_ms, struct sg_error *err);
int pg_qa_pause_list(struct sg_store *s, int active_only,
		     int (*fn)(const struct sg_store_qa_pause *p, void *ctx), void *ctx,
		     struct sg_error *err);
int pg_qa_suggest(struct sg_store *s, const char *category, const char *period,
		  int accuracy_bp, int previous_bp, int64_t now_ms, struct sg_error *err);
int pg_qa_incident_open(struct sg_store *s, const struct sg_store_qa_incident *x,
			struct sg_error *err);
int pg_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			 int64_t now_ms, struct sg_error *err);
int pg_qa_incident_list(struct sg_store *s, int open_only,
			int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
			void *ctx, struct sg_error *err);
int pg_qa_stat(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
	       int64_t to_ms, const char *period,
	       int (*fn)(const char *k1, const char *k2, long n, void *ctx), void *ctx,
	       struct sg_error *err);
int pg_qa_tickets(struct sg_store *s, int64_t from_ms, int64_t to_ms,
		  int (*fn)(const struct sg_store_qa_ticket *t, void *ctx), void *ctx,
		  struct sg_error *err);
int pg_qa_edit_diffs(struct sg_store *s, int64_t from_ms, int64_t to_ms,
		     int (*fn)(const char *diff, void *ctx), void *ctx,
		     struct sg_error *err);

#endif
