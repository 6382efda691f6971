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
 */
#include "store/store_int.h"

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

#define AUDIT_COLS "id, chain, seq, prev_hash, hash, created_at, actor, action, ticket_id, body"

/* Every statement the backend runs, prepared on first use. The SQL is
 * portable except where noted; placeholders are `?`, which the PostgreSQL
 * backend will number ($1, $2...). */
#define STATEMENTS(X) \
	X(BEGIN, "BEGIN IMMEDIATE") /* SQLite: take the write lock now */ \
	X(COMMIT, "COMMIT") \
	X(ROLLBACK, "ROLLBACK") \
	X(SAVEPOINT, "SAVEPOINT sg_item") \
	X(RELEASE, "RELEASE SAVEPOINT sg_item") \
	X(ROLLBACK_TO, "ROLLBACK TO SAVEPOINT sg_item") \
	X(SCHEMA_VERSION, "SELECT COALESCE(MAX(version), 0) FROM schema_version") \
	X(SCHEMA_INSERT, "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)") \
	X(EVENT_INSERT, "INSERT INTO ticket_events (ticket_id, event_id, received_at, body, decision_id)" \
	  " VALUES (?, ?, ?, ?, ?) ON CONFLICT (ticket_id, event_id) DO NOTHING") \
	X(EVENT_DECISION, "SELECT d.id, d.body FROM ticket_events e JOIN decisions d ON d.id = e.decision_id" \
	  " WHERE e.ticket_id = ? AND e.event_id = ?") \
	X(DECISION_INSERT, "INSERT INTO decisions (id, ticket_id, event_id, gate, risk_tier, intent, queue," \
	  " policy_version, created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") \
	X(TICKET_UPSERT, "INSERT INTO tickets (id, state, latest_decision_id, created_at, updated_at)" \
	  " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state," \
	  " latest_decision_id = excluded.latest_decision_id, updated_at = excluded.updated_at") \
	X(TICKET_DECISION, "SELECT d.body FROM tickets t JOIN decisions d ON d.id = t.latest_decision_id" \
	  " WHERE t.id = ?") \
	X(OUTBOX_INSERT, "INSERT INTO outbox (id, ticket_id, kind, target, payload, idem_key, state, attempts," \
	  " next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)") \
	/* PostgreSQL adds FOR UPDATE SKIP LOCKED to the inner SELECT; SQLite \
	 * has one writer at a time, so the UPDATE alone is atomic. */ \
	X(OUTBOX_CLAIM, "UPDATE outbox SET lease_owner = ?, lease_expires = ?, attempts = attempts + 1," \
	  " updated_at = ? WHERE id IN (SELECT id FROM outbox WHERE state = 'pending'" \
	  " AND next_attempt_at <= ? AND (lease_expires IS NULL OR lease_expires <= ?)" \
	  " ORDER BY next_attempt_at, id LIMIT ?)" \
	  " RETURNING id, ticket_id, kind, target, payload, idem_key, attempts") \
	X(OUTBOX_FINISH, "UPDATE outbox SET state = CASE WHEN ? = 'sent' THEN 'sent'" \
	  " WHEN attempts >= ? THEN 'dead' ELSE 'pending' END, next_attempt_at = ?, last_error = ?," \
	  " lease_owner = NULL, lease_expires = NULL, updated_at = ?" \
	  " WHERE id = ? AND lease_owner = ? AND state = 'pending'") \
	X(OUTBOX_COUNT, "SELECT COUNT(*) FROM outbox WHERE state = ?") \
	X(OUTBOX_LIST, "SELECT id, ticket_id, kind, target, idem_key, state, last_error, attempts," \
	  " next_attempt_at, created_at, updated_at FROM outbox WHERE (? IS NULL OR state = ?)" \
	  " AND (? IS NULL OR id = ?) ORDER BY created_at, id LIMIT ?") \
	X(OUTBOX_RETRY, "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?," \
	  " lease_owner = NULL, lease_expires = NULL, updated_at = ?" \
	  " WHERE state = 'dead' AND (? IS NULL OR id = ?)") \
	X(OUTBOX_DROP, "DELETE FROM outbox WHERE id = ? AND state <> 'sent'") \
	X(AUDIT_HEAD, "SELECT seq, hash FROM audit WHERE chain = ? ORDER BY seq DESC LIMIT 1") \
	X(AUDIT_INSERT, "INSERT INTO audit (" AUDIT_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)") \
	/* The chains are found by stepping through the (chain, seq) index \
	 * from one name to the next, so an anchor costs a few index seeks \
	 * per chain; a plain correlated query scanned every audit record. */ \
	X(AUDIT_HEADS, "WITH RECURSIVE chains (name) AS (SELECT MIN(chain) FROM audit" \
	  " UNION ALL SELECT (SELECT MIN(chain) FROM audit WHERE chain > chains.name)" \
	  " FROM chains WHERE chains.name IS NOT NULL)" \
	  " SELECT a.chain, a.seq, a.hash FROM chains JOIN audit a ON a.chain = chains.name" \
	  " AND a.seq = (SELECT MAX(b.seq) FROM audit b WHERE b.chain = chains.name)" \
	  " WHERE chains.name <> 'anchor' ORDER BY a.chain") \
	X(AUDIT_SCAN, "SELECT " AUDIT_COLS " FROM audit WHERE created_at >= ? ORDER BY chain, seq") \
	X(AUDIT_SCAN_CHAIN, "SELECT " AUDIT_COLS " FROM audit WHERE chain = ? AND created_at >= ? ORDER BY seq") \
	X(AUDIT_GET, "SELECT " AUDIT_COLS " FROM audit WHERE chain = ? AND seq = ?") \
	X(DRAFT_NEXT, "SELECT COALESCE(MAX(version), 0) + 1 FROM drafts WHERE ticket_id = ?") \
	X(DRAFT_INSERT, "INSERT INTO drafts (ticket_id, version, decision_id, author, text, diff, created_at)" \
	  " VALUES (?, ?, ?, ?, ?, ?, ?)") \
	X(APPROVAL_INSERT, "INSERT INTO approvals (id, ticket_id, decision_id, user_name, role, action, step," \
	  " note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)") \
	X(USER_INSERT, "INSERT INTO users (name, role, token_prefix, token_hash, created_at) VALUES (?, ?, ?, ?, ?)") \
	X(USER_EXISTS, "SELECT 1 FROM users WHERE name = ?") \
	X(USER_LIST, "SELECT name, role, created_at FROM users ORDER BY name") \
	X(SESSION_PUT, "INSERT INTO sessions (id_hash, user_name, csrf, created_at, expires_at)" \
	  " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id_hash) DO UPDATE SET csrf = excluded.csrf," \
	  " expires_at = excluded.expires_at") \
	X(SESSION_GET, "SELECT u.name, u.role, u.created_at, s.csrf, s.expires_at FROM sessions s" \
	  " JOIN users u ON u.name = s.user_name WHERE s.id_hash = ? AND u.disabled = 0") \
	X(SESSION_DEL, "DELETE FROM sessions WHERE id_hash = ?") \
	X(ESC_OPEN, "INSERT INTO escalations (id, ticket_id, level, owner, channel, reason, due_at," \
	  " state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)") \
	/* PostgreSQL: FOR UPDATE SKIP LOCKED in the inner SELECT, as for the outbox */ \
	X(ESC_CLAIM, "UPDATE escalations SET lease_owner = ?, lease_expires = ?, updated_at = ?" \
	  " WHERE id IN (SELECT id FROM escalations WHERE state = 'open' AND due_at <= ?" \
	  " AND (lease_expires IS NULL OR lease_expires <= ?) ORDER BY due_at, id LIMIT ?)" \
	  " RETURNING id, ticket_id, level, owner, channel, due_at") \
	X(ESC_CLOSE, "UPDATE escalations SET state = ?, lease_owner = NULL, lease_expires = NULL," \
	  " updated_at = ? WHERE id = ? AND state = 'open' AND (? IS NULL OR lease_owner = ?)") \
	X(USER_PREFIX, "SELECT name, role, created_at, token_hash FROM users WHERE token_prefix = ? AND disabled = 0") \
	X(ONB_SET, "UPDATE users SET onboarding = ?, onboarding_tickets = CASE WHEN ? = 1 THEN 0" \
	  " ELSE onboarding_tickets END WHERE name = ?") \
	X(ONB_BUMP, "UPDATE users SET onboarding_tickets = onboarding_tickets + 1 WHERE name = ?") \
	X(ONB_GET, "SELECT onboarding, onboarding_tickets FROM users WHERE name = ?") \
	X(PEER_ADD, "INSERT INTO peer_reviews (decision_id, ticket_id, user_name, reason, created_at)" \
	  " VALUES (?, ?, ?, ?, ?)") \
	X(PEER_GET, "SELECT user_name, reason, created_at FROM peer_reviews WHERE decision_id = ?") \
	X(SHADOW_INSERT, "INSERT INTO shadow_diffs (id, ticket_id, event_id, live_version, shadow_version," \
	  " field, live_value, shadow_value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)") \
	X(SHADOW_FIELDS, "SELECT field, COUNT(*) FROM shadow_diffs WHERE shadow_version = ?" \
	  " GROUP BY field ORDER BY field") \
	X(SHADOW_SCAN, "SELECT ticket_id, event_id, live_version, shadow_version, field, live_value," \
	  " shadow_value, created_at FROM shadow_diffs WHERE shadow_version = ?" \
	  " ORDER BY created_at DESC, ticket_id, event_id, field LIMIT ?") \
	X(COUNTER_ADD, "INSERT INTO counters (name, value) VALUES (?, ?)" \
	  " ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value") \
	X(COUNTER_GET, "SELECT value FROM counters WHERE name = ?") \
	/* read views, in the order of enum sg_store_view */ \
	X(V_LATEST, "SELECT d.id, d.gate, d.body FROM tickets t JOIN decisions d" \
	  " ON d.id = t.latest_decision_id WHERE t.id = ?") \
	X(V_DECISION_APPROVALS, "SELECT user_name, action, step FROM approvals WHERE decision_id = ?" \
	  " ORDER BY created_at") \
	X(V_LATEST_DRAFT, "SELECT text FROM drafts WHERE ticket_id = ? ORDER BY version DESC LIMIT 1") \
	X(V_EVENTS, "SELECT event_id, received_at, decision_id, body FROM ticket_events" \
	  " WHERE ticket_id = ? ORDER BY received_at") \
	X(V_DECISIONS, "SELECT id, event_id, created_at, body FROM decisions WHERE ticket_id = ?" \
	  " ORDER BY created_at") \
	X(V_DRAFTS, "SELECT version, author, text, diff, created_at FROM drafts WHERE ticket_id = ?" \
	  " ORDER BY version") \
	X(V_APPROVALS, "SELECT user_name, role, action, step, note, created_at, decision_id" \
	  " FROM approvals WHERE ticket_id = ? ORDER BY created_at") \
	X(V_ESCALATIONS, "SELECT id, level, owner, channel, reason, due_at, state, created_at" \
	  " FROM escalations WHERE ticket_id = ? ORDER BY created_at") \
	X(V_AUDIT, "SELECT id, chain, seq, created_at, actor, action, body, prev_hash, hash" \
	  " FROM audit WHERE ticket_id = ? ORDER BY created_at, chain, seq") \
	/* SQLite: json_extract; PostgreSQL reads the same paths with ->/->> */ \
	X(QUEUE, "SELECT d.ticket_id, d.id, d.gate, d.risk_tier, d.queue, d.intent, d.created_at," \
	  " json_extract(d.body, '$.escalation.sla_minutes')," \
	  " json_extract(d.body, '$.guardrail_types')," \
	  " (SELECT count(*) FROM approvals a WHERE a.decision_id = d.id" \
	  "  AND a.action = 'reject')," \
	  " (SELECT count(*) FROM approvals a WHERE a.decision_id = d.id" \
	  "  AND a.action <> 'reject' AND a.step = 1)," \
	  " (SELECT count(*) FROM approvals a WHERE a.decision_id = d.id" \
	  "  AND a.action <> 'reject' AND a.step = 2)," \
	  " json_extract(d.body, '$.confidence_band')" \
	  " FROM tickets t JOIN decisions d ON d.id = t.latest_decision_id" \
	  " WHERE json_extract(d.body, '$.approval_required') = 1" \
	  " AND (?1 IS NULL OR d.queue = ?1) AND (?2 IS NULL OR d.gate = ?2)" \
	  " AND (?3 IS NULL OR d.risk_tier = ?3)" \
	  " ORDER BY d.created_at, d.ticket_id") \
	QA_STATEMENTS(X)

/* The QA loop's statements (qa/qa.h). The scorecard's grouped counts bind
 * ?1 = from, ?2 = to (ms) and ?3 = the period name. */
#define QA_STATEMENTS(X) \
	X(QA_PENDING, "SELECT d.id, d.ticket_id, d.intent, d.risk_tier, d.gate, d.body, d.created_at," \
	  " t.created_at FROM decisions d JOIN tickets t ON t.id = d.ticket_id WHERE d.created_at >= ?" \
	  " AND NOT EXISTS (SELECT 1 FROM qa_facts f WHERE f.decision_id = d.id)" \
	  " ORDER BY d.created_at, d.id LIMIT ?") \
	X(QA_FACT_PUT, "INSERT INTO qa_facts (decision_id, ticket_id, ticket_created_at, created_at, intent," \
	  " risk_tier, gate, ai_mode, ai_draft_sent, escalated, escalation_reason, guardrail_action)" \
	  " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (decision_id) DO NOTHING") \
	X(QA_GUARD_PUT, "INSERT INTO qa_fact_guardrails (decision_id, created_at, type, action)" \
	  " VALUES (?, ?, ?, ?) ON CONFLICT (decision_id, type) DO NOTHING") \
	X(QA_CSAT_PUT, "INSERT INTO qa_csat (ticket_id, score, received_at) VALUES (?, ?, ?)" \
	  " ON CONFLICT (ticket_id) DO UPDATE SET score = excluded.score, received_at = excluded.received_at") \
	X(QA_CANDIDATES, "SELECT ticket_id, decision_id, intent, 'ai', created_at FROM qa_facts" \
	  " WHERE created_at >= ?1 AND created_at < ?2 AND ai_draft_sent = 1" \
	  " UNION ALL SELECT a.ticket_id, a.decision_id, COALESCE(f.intent, (SELECT d.intent" \
	  " FROM decisions d WHERE d.id = a.decision_id)), 'human', a.created_at" \
	  " FROM approvals a LEFT JOIN qa_facts f ON f.decision_id = a.decision_id" \
	  " WHERE a.created_at >= ?1 AND a.created_at < ?2 AND a.step = 1" \
	  " AND a.action IN ('approve', 'edit') ORDER BY 5, 1") \
	X(QA_SAMPLE_PUT, "INSERT INTO qa_samples (id, period, ticket_id, decision_id, category, kind," \
	  " reached_customer, seed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" \
	  " ON CONFLICT (period, ticket_id) DO NOTHING") \
	X(QA_SAMPLE_LIST, "SELECT s.id, s.period, s.ticket_id, s.decision_id, s.category, s.kind," \
	  " s.reached_customer, s.seed, s.created_at, c.accurate, c.reviewer FROM qa_samples s" \
	  " LEFT JOIN qa_scores c ON c.sample_id = s.id" \
	  " WHERE (CAST(?1 AS TEXT) IS NULL OR s.period = ?1) AND (CAST(?2 AS TEXT) IS NULL OR s.id = ?2)" \
	  " ORDER BY s.period, s.category, s.ticket_id") \
	X(QA_SCORE_PUT, "INSERT INTO qa_scores (sample_id, period, ticket_id, category, reviewer," \
	  " factual_accuracy, brand_tone, completeness, compliance, customer_outcome, defects, accurate," \
	  " reached_customer, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" \
	  " ON CONFLICT (sample_id) DO UPDATE SET reviewer = excluded.reviewer," \
	  " factual_accuracy = excluded.factual_accuracy, brand_tone = excluded.brand_tone," \
	  " completeness = excluded.completeness, compliance = excluded.compliance," \
	  " customer_outcome = excluded.customer_outcome, defects = excluded.defects," \
	  " accurate = excluded.accurate, reached_customer = excluded.reached_customer," \
	  " note = excluded.note, created_at = excluded.created_at") \
	X(QA_DEFECTS_DEL, "DELETE FROM qa_score_defects WHERE sample_id = ?") \
	X(QA_DEFECT_PUT, "INSERT INTO qa_score_defects (sample_id, period, tag) VALUES (?, ?, ?)" \
	  " ON CONFLICT (sample_id, tag) DO NOTHING") \
	X(QA_ACCURACY, "SELECT category, COUNT(*), SUM(accurate) FROM qa_scores WHERE period = ?" \
	  " GROUP BY category ORDER BY category") \
	X(QA_PAUSE_OPEN, "INSERT INTO qa_pauses (id, category, period, accuracy_bp, scored, opened_at)" \
	  " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (category, period) DO NOTHING") \
	X(QA_PAUSE_LIFT, "UPDATE qa_pauses SET lifted_at = ?, lifted_by = ? WHERE category = ?" \
	  " AND lifted_at IS NULL") \
	X(QA_PAUSE_LIST, "SELECT id, category, period, accuracy_bp, scored, opened_at, lifted_at, lifted_by" \
	  " FROM qa_pauses WHERE (? = 0 OR lifted_at IS NULL) ORDER BY opened_at DESC, category") \
	X(QA_SUGGEST, "INSERT INTO qa_suggestions (category, period, accuracy_bp, previous_bp, created_at)" \
	  " VALUES (?, ?, ?, ?, ?) ON CONFLICT (category, period) DO NOTHING") \
	X(QA_INC_OPEN, "INSERT INTO qa_incidents (id, ticket_id, sample_id, category, opened_at, due_at, state)" \
	  " VALUES (?, ?, ?, ?, ?, ?, 'open') ON CONFLICT (sample_id) DO NOTHING") \
	X(QA_INC_CLOSE, "UPDATE qa_incidents SET state = 'closed', closed_at = ?, closed_by = ?" \
	  " WHERE id = ? AND state = 'open'") \
	X(QA_INC_LIST, "SELECT id, ticket_id, sample_id, category, state, opened_at, due_at, closed_at," \
	  " closed_by FROM qa_incidents WHERE (? = 0 OR state = 'open') ORDER BY opened_at DESC, id") \
	/* the tier from the small facts row; the decision only when it has none */ \
	X(QA_ST_APPROVALS, "SELECT COALESCE(f.risk_tier, (SELECT d.risk_tier FROM decisions d" \
	  " WHERE d.id = a.decision_id)) AS tier, a.action, COUNT(*) FROM approvals a" \
	  " LEFT JOIN qa_facts f ON f.decision_id = a.decision_id" \
	  " WHERE a.created_at >= ?1 AND a.created_at < ?2" \
	  " AND a.step = 1 GROUP BY 1, a.action ORDER BY 1, 2") \
	X(QA_ST_ESCALATIONS, "SELECT COALESCE(escalation_reason, ''), 'decision', COUNT(*) FROM qa_facts" \
	  " WHERE created_at >= ?1 AND created_at < ?2 AND escalated = 1" \
	  " GROUP BY COALESCE(escalation_reason, '')" \
	  " UNION ALL SELECT COALESCE(reason, ''), CASE WHEN level > 1 THEN 'sla' ELSE 'review' END," \
	  " COUNT(*) FROM escalations WHERE created_at >= ?1 AND created_at < ?2" \
	  " GROUP BY COALESCE(reason, ''), CASE WHEN level > 1 THEN 'sla' ELSE 'review' END" \
	  " ORDER BY 1, 2") \
	X(QA_ST_GUARDRAILS, "SELECT type, action, COUNT(*) FROM qa_fact_guardrails" \
	  " WHERE created_at >= ?1 AND created_at < ?2 GROUP BY type, action ORDER BY 1, 2") \
	X(QA_ST_DEFECTS, "SELECT tag, '', COUNT(*) FROM qa_score_defects WHERE period = ?3" \
	  " GROUP BY tag ORDER BY 1") \
	X(QA_ST_BREACHES, "SELECT CAST(level AS TEXT), '', COUNT(*) FROM escalations" \
	  " WHERE state = 'breached' AND updated_at >= ?1 AND updated_at < ?2 GROUP BY level ORDER BY 1") \
	X(QA_ST_SUGGESTIONS, "SELECT category, '', accuracy_bp FROM qa_suggestions WHERE period = ?3" \
	  " ORDER BY 1") \
	X(QA_ST_INCIDENTS, "SELECT state, '', COUNT(*) FROM qa_incidents" \
	  " WHERE opened_at >= ?1 AND opened_at < ?2 GROUP BY state ORDER BY 1") \
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
	  " FROM qa_facts f WHERE f.ticket_created_at >= ?1 AND f.ticket_created_at < ?2" \
	  " GROUP BY f.ticket_id ORDER BY f.ticket_id") \
	X(QA_EDIT_DIFFS, "SELECT diff FROM drafts WHERE created_at >= ?1 AND created_at < ?2" \
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

struct ckpt {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, pending, stop;
	char *path;
	unsigned long runs;
};

struct sqlite_store {
	struct sg_store base;
	sqlite3 *db;
	char writer[64];
	sqlite3_stmt *st[ST__COUNT];
	struct ckpt ck;
	/* The head of the chain this connection last appended to, valid
	 * only inside the transaction that appended it (we hold the write
	 * lock, so no one else appends): a batch of writes reads it once. */
	int head_valid;
	char head_chain[sizeof(((struct sg_audit_record *)0)->chain)];
	int64_t head_seq;
	char head_hash[SG_SHA256_HEX];
};

static struct sqlite_store *S(struct sg_store *s)
{
	return (struct sqlite_store *)s;
}

static int fail(struct sqlite_store *q, struct sg_error *err, const char *what)
{
	int code = sqlite3_extended_errcode(q->db);
	int sg = (code & 0xff) == SQLITE_BUSY ? SG_ETIMEOUT
		 : code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY
		 ? SG_ECONFLICT : SG_ESTORE;
	return sg_error_set(err, sg, "sqlite: %s: %s", what, sqlite3_errmsg(q->db));
}

/* Returns the cached statement, reset and unbound, or NULL with err set. */
static sqlite3_stmt *stmt(struct sqlite_store *q, int which, struct sg_error *err)
{
	sqlite3_stmt *st = q->st[which];
	if (!st) {
		if (sqlite3_prepare_v3(q->db, statement_sql[which], -1,
				       SQLITE_PREPARE_PERSISTENT, &q->st[which], NULL) != SQLITE_OK) {
			fail(q, err, "prepare");
			return NULL;
		}
		return q->st[which];
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void done(sqlite3_stmt *st)
{
	if (st)
		sqlite3_reset(st);
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

/* Runs a statement that returns no rows. */
static int run(struct sqlite_store *q, int which, struct sg_error *err)
{
	sqlite3_stmt *st = stmt(q, which, err);
	if (!st)
		return -SG_ESTORE;
	int rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, statement_sql[which]);
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
	S(s)->head_valid = 0;
	return run(S(s), ST_BEGIN, err);
}

static int q_commit(struct sg_store *s, struct sg_error *err)
{
	S(s)->head_valid = 0;
	return run(S(s), ST_COMMIT, err);
}

static int q_rollback(struct sg_store *s, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	q->head_valid = 0;
	if (sqlite3_get_autocommit(q->db))
		return 0; /* SQLite already rolled back (e.g. after a full disk) */
	return run(q, ST_ROLLBACK, err);
}

static int q_savepoint(struct sg_store *s, int op, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
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
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_SCHEMA_VERSION, err);
	if (!st)
		return -SG_ESTORE;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		done(st);
		return fail(q, err, "reading schema_version");
	}
	*out = sqlite3_column_int(st, 0);
	done(st);
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
		sqlite3_stmt *st = stmt(q, ST_SCHEMA_INSERT, err);
		if (!st) {
			rc = -SG_ESTORE;
			goto cleanup;
		}
		sqlite3_bind_int(st, 1, m->version);
		bind_text(st, 2, m->name);
		sqlite3_bind_int64(st, 3, sg_now_ms());
		int s = sqlite3_step(st);
		done(st);
		if (s != SQLITE_DONE) {
			rc = fail(q, err, "recording the migration");
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
	struct sqlite_store *q = S(s);
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

/* ---- audit ---------------------------------------------------------- */

static int q_audit_append(struct sg_store *s, struct sg_audit_record *r,
			  struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	int rc;
	if (!r->chain[0])
		snprintf(r->chain, sizeof(r->chain), "%s", q->writer);
	int in_tx = !sqlite3_get_autocommit(q->db);
	sqlite3_stmt *st;
	if (in_tx && q->head_valid && !strcmp(q->head_chain, r->chain)) {
		r->seq = q->head_seq + 1;
		snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", q->head_hash);
	} else {
		if (!(st = stmt(q, ST_AUDIT_HEAD, err)))
			return -SG_ESTORE;
		bind_text(st, 1, r->chain);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			r->seq = sqlite3_column_int64(st, 0) + 1;
			snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", col_text(st, 1));
		} else if (rc == SQLITE_DONE) {
			r->seq = 1;
			snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", SG_AUDIT_GENESIS);
		} else {
			done(st);
			return fail(q, err, "reading the audit chain head");
		}
		done(st);
	}
	if (!r->id[0] && sg_id_new(r->id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "audit: no randomness for an id");
	if (!r->created_ms)
		r->created_ms = sg_now_ms();
	if (sg_audit_hash(r, r->hash) < 0)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	if (!(st = stmt(q, ST_AUDIT_INSERT, err)))
		return -SG_ESTORE;
	bind_text(st, 1, r->id);
	bind_text(st, 2, r->chain);
	sqlite3_bind_int64(st, 3, r->seq);
	bind_text(st, 4, r->prev_hash);
	bind_text(st, 5, r->hash);
	sqlite3_bind_int64(st, 6, r->created_ms);
	bind_text(st, 7, r->actor);
	bind_text(st, 8, r->action);
	bind_text(st, 9, r->ticket_id);
	bind_text(st, 10, r->body);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, "appending an audit record");
	if (in_tx) {
		snprintf(q->head_chain, sizeof(q->head_chain), "%s", r->chain);
		q->head_seq = r->seq;
		snprintf(q->head_hash, sizeof(q->head_hash), "%s", r->hash);
		q->head_valid = 1;
	}
	return 0;
}

static int q_audit_anchor(struct sg_store *s, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	struct sg_buf body = SG_BUF_INIT;
	int rc = 0, first = 1;
	sqlite3_stmt *st = stmt(q, ST_AUDIT_HEADS, err);
	if (!st)
		return -SG_ESTORE;
	sg_buf_adds(&body, "{\"heads\":[");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *chain = col_text(st, 0);
		sg_buf_adds(&body, first ? "{\"chain\":" : ",{\"chain\":");
		first = 0;
		sg_buf_add_json_str(&body, chain, strlen(chain));
		sg_buf_addf(&body, ",\"hash\":\"%s\",\"seq\":%lld}", col_text(st, 2),
			    (long long)sqlite3_column_int64(st, 1));
	}
	done(st);
	if (rc != SQLITE_DONE) {
		rc = fail(q, err, "reading the chain heads");
		goto cleanup;
	}
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
	rc = q_audit_append(s, &r, err);
cleanup:
	sg_buf_release(&body);
	return rc;
}

static void read_record(sqlite3_stmt *st, struct sg_audit_record *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", col_text(st, 0));
	snprintf(r->chain, sizeof(r->chain), "%s", col_text(st, 1));
	r->seq = sqlite3_column_int64(st, 2);
	snprintf(r->prev_hash, sizeof(r->prev_hash), "%s", col_text(st, 3));
	snprintf(r->hash, sizeof(r->hash), "%s", col_text(st, 4));
	r->created_ms = sqlite3_column_int64(st, 5);
	snprintf(r->actor, sizeof(r->actor), "%s", col_text(st, 6));
	snprintf(r->action, sizeof(r->action), "%s", col_text(st, 7));
	snprintf(r->ticket_id, sizeof(r->ticket_id), "%s", col_text(st, 8));
	r->body = (char *)col_text(st, 9);
}

static int q_audit_scan(struct sg_store *s, const char *chain, int64_t since_ms,
			int (*fn)(const struct sg_audit_record *r, void *ctx),
			void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, chain ? ST_AUDIT_SCAN_CHAIN : ST_AUDIT_SCAN, err);
	if (!st)
		return -SG_ESTORE;
	int i = 1, rc;
	if (chain)
		bind_text(st, i++, chain);
	sqlite3_bind_int64(st, i, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_audit_record r;
		read_record(st, &r);
		int frc = fn(&r, ctx);
		if (frc) {
			done(st);
			return frc < 0 ? frc : 0;
		}
	}
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "reading audit records");
}

static int q_audit_get(struct sg_store *s, const char *chain, int64_t seq,
		       struct sg_audit_record *out, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_AUDIT_GET, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, chain);
	sqlite3_bind_int64(st, 2, seq);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done(st);
		return 1;
	}
	if (rc != SQLITE_ROW) {
		done(st);
		return fail(q, err, "reading an audit record");
	}
	read_record(st, out);
	out->body = sg_strdup(out->body);
	out->body_owned = 1;
	done(st);
	if (!out->body)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	return 0;
}

/* ---- tickets -------------------------------------------------------- */

/* The stored decision of an event already written, into w. */
static int load_existing(struct sqlite_store *q, struct sg_ticket_write *w,
			 struct sg_error *err)
{
	sqlite3_stmt *st = stmt(q, ST_EVENT_DECISION, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, w->ticket_id);
	bind_text(st, 2, w->event_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		done(st);
		return fail(q, err, "reading the stored decision");
	}
	snprintf(w->decision_id, sizeof(w->decision_id), "%s", col_text(st, 0));
	w->stored_decision = sg_strdup(col_text(st, 1));
	done(st);
	w->existed = 1;
	if (!w->stored_decision)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	return 0;
}

static int q_ticket_write(struct sg_store *s, struct sg_ticket_write *w,
			  struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	int64_t now = w->now_ms ? w->now_ms : sg_now_ms();
	int rc;
	sqlite3_stmt *st;

	if (sg_id_new(w->decision_id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
	if (!(st = stmt(q, ST_EVENT_INSERT, err)))
		return -SG_ESTORE;
	bind_text(st, 1, w->ticket_id);
	bind_text(st, 2, w->event_id);
	sqlite3_bind_int64(st, 3, now);
	bind_text(st, 4, w->event_json);
	bind_text(st, 5, w->decision_id);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, "storing the ticket event");
	if (sqlite3_changes(q->db) == 0)
		return load_existing(q, w, err);

	if (!(st = stmt(q, ST_DECISION_INSERT, err)))
		return -SG_ESTORE;
	const char *cols[] = {w->decision_id, w->ticket_id, w->event_id, w->gate,
			      w->risk_tier, w->intent, w->queue, w->policy_version};
	for (int i = 0; i < 8; i++)
		bind_text(st, i + 1, cols[i]);
	sqlite3_bind_int64(st, 9, now);
	bind_text(st, 10, w->decision_json);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, "storing the decision");

	if (!(st = stmt(q, ST_TICKET_UPSERT, err)))
		return -SG_ESTORE;
	bind_text(st, 1, w->ticket_id);
	bind_text(st, 2, w->state ? w->state : "open");
	bind_text(st, 3, w->decision_id);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, "updating the ticket");

	for (size_t i = 0; i < w->nactions; i++) {
		const struct sg_outbox_action *a = &w->actions[i];
		char id[SG_ID_LEN], key[SG_ID_LEN + 24];
		if (sg_id_new(id) < 0)
			return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
		snprintf(key, sizeof(key), "%s:%zu", w->decision_id, i);
		if (!(st = stmt(q, ST_OUTBOX_INSERT, err)))
			return -SG_ESTORE;
		bind_text(st, 1, id);
		bind_text(st, 2, w->ticket_id);
		bind_text(st, 3, a->kind);
		bind_text(st, 4, a->target);
		bind_text(st, 5, a->payload);
		bind_text(st, 6, a->idem_key ? a->idem_key : key);
		sqlite3_bind_int64(st, 7, now);
		sqlite3_bind_int64(st, 8, now);
		sqlite3_bind_int64(st, 9, now);
		rc = sqlite3_step(st);
		done(st);
		if (rc != SQLITE_DONE)
			return fail(q, err, "queueing an outbox action");
	}
	return 0;
}

static int q_ticket_decision(struct sg_store *s, const char *ticket_id, char **out,
			     struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	*out = NULL;
	sqlite3_stmt *st = stmt(q, ST_TICKET_DECISION, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, ticket_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sg_strdup(col_text(st, 0));
	done(st);
	if (rc == SQLITE_DONE)
		return sg_error_set(err, SG_ENOTFOUND, "ticket '%s' not found", ticket_id);
	if (rc != SQLITE_ROW)
		return fail(q, err, "reading the ticket");
	return *out ? 0 : sg_error_set(err, SG_ENOMEM, "out of memory");
}

static int q_human_action(struct sg_store *s, struct sg_human_action *a,
			  struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	int64_t now = a->now_ms ? a->now_ms : sg_now_ms();
	int rc;
	sqlite3_stmt *st;
	char id[SG_ID_LEN];

	a->draft_version = 0;
	if (a->draft_text) {
		if (!(st = stmt(q, ST_DRAFT_NEXT, err)))
			return -SG_ESTORE;
		bind_text(st, 1, a->ticket_id);
		if (sqlite3_step(st) != SQLITE_ROW) {
			done(st);
			return fail(q, err, "reading draft versions");
		}
		a->draft_version = sqlite3_column_int(st, 0);
		done(st);
		if (!(st = stmt(q, ST_DRAFT_INSERT, err)))
			return -SG_ESTORE;
		bind_text(st, 1, a->ticket_id);
		sqlite3_bind_int(st, 2, a->draft_version);
		bind_text(st, 3, a->decision_id);
		bind_text(st, 4, a->user);
		bind_text(st, 5, a->draft_text);
		bind_text(st, 6, a->draft_diff);
		sqlite3_bind_int64(st, 7, now);
		rc = sqlite3_step(st);
		done(st);
		if (rc != SQLITE_DONE)
			return fail(q, err, "storing the draft version");
	}
	if (sg_id_new(id) < 0)
		return sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
	if (!(st = stmt(q, ST_APPROVAL_INSERT, err)))
		return -SG_ESTORE;
	bind_text(st, 1, id);
	bind_text(st, 2, a->ticket_id);
	bind_text(st, 3, a->decision_id);
	bind_text(st, 4, a->user);
	bind_text(st, 5, a->role);
	bind_text(st, 6, a->action);
	sqlite3_bind_int(st, 7, a->step);
	bind_text(st, 8, a->note);
	sqlite3_bind_int64(st, 9, now);
	rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, "storing the approval");
	return 0;
}

/* ---- outbox --------------------------------------------------------- */

static int q_outbox_claim(struct sg_store *s, const char *owner, int64_t now_ms,
			  int64_t lease_ms, unsigned max,
			  struct sg_outbox_item **out, size_t *n,
			  struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	*out = NULL;
	*n = 0;
	struct sg_outbox_item *items = sg_calloc(max ? max : 1, sizeof(*items));
	if (!items)
		return sg_error_set(err, SG_ENOMEM, "outbox claim: out of memory");
	sqlite3_stmt *st = stmt(q, ST_OUTBOX_CLAIM, err);
	if (!st) {
		sg_free(items);
		return -SG_ESTORE;
	}
	bind_text(st, 1, owner);
	sqlite3_bind_int64(st, 2, now_ms + lease_ms);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_int(st, 6, (int)max);
	int rc, oom = 0;
	size_t k = 0;
	/* All rows must be stepped through for the UPDATE to complete. */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k >= max)
			continue;
		struct sg_outbox_item *it = &items[k++];
		snprintf(it->id, sizeof(it->id), "%s", col_text(st, 0));
		it->ticket_id = sg_strdup(col_text(st, 1));
		it->kind = sg_strdup(col_text(st, 2));
		it->target = sg_strdup(col_text(st, 3));
		it->payload = sg_strdup(col_text(st, 4));
		it->idem_key = sg_strdup(col_text(st, 5));
		it->attempts = sqlite3_column_int(st, 6);
		if (!it->ticket_id || !it->kind || !it->target || !it->payload || !it->idem_key)
			oom = 1;
	}
	done(st);
	if (rc != SQLITE_DONE) {
		sg_store_outbox_items_free(items, k);
		return fail(q, err, "claiming outbox actions");
	}
	if (oom) {
		/* The leases are taken; they expire and the actions are
		 * claimed again, so nothing is lost. */
		sg_store_outbox_items_free(items, k);
		return sg_error_set(err, SG_ENOMEM, "outbox claim: out of memory");
	}
	*out = items;
	*n = k;
	return 0;
}

static int q_outbox_finish(struct sg_store *s, const char *id, const char *owner,
			   const char *state, int64_t retry_at_ms, int max_attempts,
			   const char *why, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_OUTBOX_FINISH, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, state);
	sqlite3_bind_int(st, 2, max_attempts);
	sqlite3_bind_int64(st, 3, retry_at_ms);
	bind_text(st, 4, why);
	sqlite3_bind_int64(st, 5, sg_now_ms());
	bind_text(st, 6, id);
	bind_text(st, 7, owner);
	int rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, "updating an outbox action");
	if (sqlite3_changes(q->db) == 0)
		return sg_error_set(err, SG_ECONFLICT,
				    "outbox action '%s' is not leased to '%s' (lease "
				    "expired and taken, or already finished)", id, owner);
	return 0;
}

static int q_outbox_count(struct sg_store *s, const char *state, long *out,
			  struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_OUTBOX_COUNT, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, state);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	done(st);
	return rc == SQLITE_ROW ? 0 : fail(q, err, "counting outbox actions");
}

static int q_outbox_list(struct sg_store *s, const char *state, const char *id,
			 unsigned long limit,
			 int (*fn)(const struct sg_outbox_row *r, void *ctx), void *ctx,
			 struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_OUTBOX_LIST, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, state);
	bind_text(st, 2, state);
	bind_text(st, 3, id);
	bind_text(st, 4, id);
	/* SQLite: a negative LIMIT is none (PostgreSQL: bind NULL) */
	sqlite3_bind_int64(st, 5, limit ? (sqlite3_int64)limit : -1);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_outbox_row r;
		memset(&r, 0, sizeof(r));
		snprintf(r.id, sizeof(r.id), "%s", col_text(st, 0));
		r.ticket_id = (const char *)sqlite3_column_text(st, 1);
		r.kind = (const char *)sqlite3_column_text(st, 2);
		r.target = (const char *)sqlite3_column_text(st, 3);
		r.idem_key = (const char *)sqlite3_column_text(st, 4);
		r.state = (const char *)sqlite3_column_text(st, 5);
		r.last_error = (const char *)sqlite3_column_text(st, 6);
		r.attempts = sqlite3_column_int(st, 7);
		r.next_attempt_ms = sqlite3_column_int64(st, 8);
		r.created_ms = sqlite3_column_int64(st, 9);
		r.updated_ms = sqlite3_column_int64(st, 10);
		stop = fn(&r, ctx);
	}
	done(st);
	if (!stop && rc != SQLITE_DONE)
		return fail(q, err, "listing outbox actions");
	return 0;
}

static int q_outbox_retry(struct sg_store *s, const char *id, int64_t now_ms, long *n,
			  struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_OUTBOX_RETRY, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, now_ms);
	bind_text(st, 3, id);
	bind_text(st, 4, id);
	int rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, "retrying outbox actions");
	*n = (long)sqlite3_changes(q->db);
	return 0;
}

static int q_outbox_drop(struct sg_store *s, const char *id, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_OUTBOX_DROP, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, id);
	int rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, "dropping an outbox action");
	return sqlite3_changes(q->db) ? 0 : 1;
}

/* ---- users ---------------------------------------------------------- */

static int q_user_insert(struct sg_store *s, const char *name, const char *role,
			 const char *prefix, const char *hash, int64_t now_ms,
			 struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_USER_EXISTS, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	done(st);
	if (rc == SQLITE_ROW)
		return sg_error_set(err, SG_ECONFLICT, "user '%s' already exists", name);
	if (rc != SQLITE_DONE)
		return fail(q, err, "looking the user up");
	if (!(st = stmt(q, ST_USER_INSERT, err)))
		return -SG_ESTORE;
	bind_text(st, 1, name);
	bind_text(st, 2, role);
	bind_text(st, 3, prefix);
	bind_text(st, 4, hash);
	sqlite3_bind_int64(st, 5, now_ms);
	rc = sqlite3_step(st);
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "storing the user");
}

static void read_user(sqlite3_stmt *st, struct sg_store_user *u)
{
	snprintf(u->name, sizeof(u->name), "%s", col_text(st, 0));
	snprintf(u->role, sizeof(u->role), "%s", col_text(st, 1));
	u->created_ms = sqlite3_column_int64(st, 2);
}

static int q_user_list(struct sg_store *s, int (*fn)(const struct sg_store_user *u, void *ctx),
		       void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_USER_LIST, err);
	if (!st)
		return -SG_ESTORE;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_store_user u;
		read_user(st, &u);
		int frc = fn(&u, ctx);
		if (frc) {
			done(st);
			return frc < 0 ? frc : 0;
		}
	}
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "listing users");
}

static int q_user_by_prefix(struct sg_store *s, const char *prefix, struct sg_store_user *out,
			    char hash[SG_SHA256_HEX], struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_USER_PREFIX, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, prefix);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_user(st, out);
		snprintf(hash, SG_SHA256_HEX, "%s", col_text(st, 3));
	}
	done(st);
	if (rc == SQLITE_DONE)
		return 1;
	return rc == SQLITE_ROW ? 0 : fail(q, err, "looking the token up");
}

/* ---- sessions ------------------------------------------------------- */

static int q_session_put(struct sg_store *s, const char *sid_hash, const char *user,
			 const char *csrf, int64_t now_ms, int64_t expires_ms,
			 struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_SESSION_PUT, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, sid_hash);
	bind_text(st, 2, user);
	bind_text(st, 3, csrf);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, expires_ms);
	int rc = sqlite3_step(st);
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "storing the session");
}

static int q_session_get(struct sg_store *s, const char *sid_hash,
			 struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
			 int64_t *expires_ms, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_SESSION_GET, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, sid_hash);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_user(st, out);
		snprintf(csrf, SG_STORE_CSRF_LEN, "%s", col_text(st, 3));
		*expires_ms = sqlite3_column_int64(st, 4);
	}
	done(st);
	if (rc == SQLITE_DONE)
		return 1;
	return rc == SQLITE_ROW ? 0 : fail(q, err, "reading the session");
}

static int q_session_del(struct sg_store *s, const char *sid_hash, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_SESSION_DEL, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, sid_hash);
	int rc = sqlite3_step(st);
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "deleting the session");
}

/* ---- escalations ---------------------------------------------------- */

static int q_escalation_open(struct sg_store *s, const char *id, const char *ticket_id,
			     int level, const char *owner, const char *channel,
			     const char *reason, int64_t now_ms, int64_t due_ms,
			     struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_ESC_OPEN, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, id);
	bind_text(st, 2, ticket_id);
	sqlite3_bind_int(st, 3, level);
	bind_text(st, 4, owner);
	bind_text(st, 5, channel);
	bind_text(st, 6, reason);
	sqlite3_bind_int64(st, 7, due_ms);
	sqlite3_bind_int64(st, 8, now_ms);
	sqlite3_bind_int64(st, 9, now_ms);
	int rc = sqlite3_step(st);
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "storing the escalation");
}

static int q_escalation_claim(struct sg_store *s, const char *worker, int64_t now_ms,
			      int64_t lease_ms, unsigned max, struct sg_store_escalation *out,
			      size_t *n, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	*n = 0;
	sqlite3_stmt *st = stmt(q, ST_ESC_CLAIM, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, worker);
	sqlite3_bind_int64(st, 2, now_ms + lease_ms);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, now_ms);
	sqlite3_bind_int(st, 6, (int)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n >= max)
			continue;
		struct sg_store_escalation *e = &out[(*n)++];
		snprintf(e->id, sizeof(e->id), "%s", col_text(st, 0));
		snprintf(e->ticket_id, sizeof(e->ticket_id), "%s", col_text(st, 1));
		e->level = sqlite3_column_int(st, 2);
		snprintf(e->owner, sizeof(e->owner), "%s", col_text(st, 3));
		snprintf(e->channel, sizeof(e->channel), "%s", col_text(st, 4));
		e->due_ms = sqlite3_column_int64(st, 5);
	}
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "claiming due escalations");
}

static int q_escalation_close(struct sg_store *s, const char *id, const char *worker,
			      const char *state, int64_t now_ms, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_ESC_CLOSE, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, state);
	sqlite3_bind_int64(st, 2, now_ms);
	bind_text(st, 3, id);
	bind_text(st, 4, worker);
	bind_text(st, 5, worker);
	int rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, "closing the escalation");
	return sqlite3_changes(q->db) ? 0 : 1;
}

/* ---- read views ----------------------------------------------------- */

/* Steps st, handing each row to fn; the statement is reset after. */
static int rows(struct sqlite_store *q, sqlite3_stmt *st, sg_store_row_fn fn, void *ctx,
		const char *what, struct sg_error *err)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_store_row r;
		r.ncol = sqlite3_column_count(st);
		if (r.ncol > SG_STORE_ROW_MAX)
			r.ncol = SG_STORE_ROW_MAX;
		for (int i = 0; i < r.ncol; i++) {
			/* the integer first: reading it converts nothing */
			r.num[i] = sqlite3_column_int64(st, i);
			r.text[i] = (const char *)sqlite3_column_text(st, i);
		}
		int frc = fn(&r, ctx);
		if (frc) {
			done(st);
			return frc < 0 ? frc : 0;
		}
	}
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, what);
}

_Static_assert(ST_QUEUE - ST_V_LATEST == SG_STORE_VIEW__COUNT,
	       "one V_ statement per store view, in enum order");

static int q_view(struct sg_store *s, enum sg_store_view v, const char *key,
		  sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_V_LATEST + (int)v, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, key);
	return rows(q, st, fn, ctx, "reading the ticket view", err);
}

static int q_queue_scan(struct sg_store *s, const struct sg_store_queue_filter *f,
			sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QUEUE, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, f->queue);
	bind_text(st, 2, f->gate);
	bind_text(st, 3, f->tier);
	return rows(q, st, fn, ctx, "reading the queue", err);
}

/* ---- onboarding reviewers -------------------------------------------- */

/* Runs a statement with text/int arguments ("t" text, "i" int, "l" int64)
 * that returns no rows; sets *changes when not NULL. */
static int run_args(struct sqlite_store *q, int which, int *changes, struct sg_error *err,
		    const char *types, ...)
{
	sqlite3_stmt *st = stmt(q, which, err);
	if (!st)
		return -SG_ESTORE;
	va_list ap;
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't')
			bind_text(st, i + 1, va_arg(ap, const char *));
		else if (types[i] == 'i')
			sqlite3_bind_int(st, i + 1, va_arg(ap, int));
		else
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	int rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, statement_sql[which]);
	if (changes)
		*changes = sqlite3_changes(q->db);
	return 0;
}

static int q_onboarding_set(struct sg_store *s, const char *name, int on,
			    struct sg_error *err)
{
	int changes = 0;
	int rc = run_args(S(s), ST_ONB_SET, &changes, err, "iit", on, on, name);
	return rc < 0 ? rc : changes ? 0 : 1;
}

static int q_onboarding_bump(struct sg_store *s, const char *name, struct sg_error *err)
{
	return run_args(S(s), ST_ONB_BUMP, NULL, err, "t", name);
}

static int q_onboarding_get(struct sg_store *s, const char *name,
			    struct sg_store_onboarding *out, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_ONB_GET, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->onboarding = sqlite3_column_int(st, 0);
		out->tickets = (long)sqlite3_column_int64(st, 1);
	}
	done(st);
	if (rc == SQLITE_DONE)
		return 1;
	return rc == SQLITE_ROW ? 0 : fail(q, err, "reading the onboarding state");
}

static int q_peer_review_add(struct sg_store *s, const char *decision_id,
			     const char *ticket_id, const char *user, const char *reason,
			     int64_t now_ms, struct sg_error *err)
{
	return run_args(S(s), ST_PEER_ADD, NULL, err, "ttttl", decision_id, ticket_id, user,
			reason, now_ms);
}

static int q_peer_review_get(struct sg_store *s, const char *decision_id,
			     struct sg_store_peer_review *out, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_PEER_GET, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, decision_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->user, sizeof(out->user), "%s", col_text(st, 0));
		snprintf(out->reason, sizeof(out->reason), "%s", col_text(st, 1));
		out->created_ms = sqlite3_column_int64(st, 2);
	}
	done(st);
	if (rc == SQLITE_DONE)
		return 1;
	return rc == SQLITE_ROW ? 0 : fail(q, err, "reading the peer review");
}

/* ---- shadow policy and counters ------------------------------------- */

static int q_shadow_insert(struct sg_store *s, const char *id,
			   const struct sg_store_shadow_diff *d, int64_t now_ms,
			   struct sg_error *err)
{
	return run_args(S(s), ST_SHADOW_INSERT, NULL, err, "ttttttttl", id, d->ticket_id,
			d->event_id, d->live_version, d->shadow_version, d->field,
			d->live_value, d->shadow_value, now_ms);
}

static int q_counter_add(struct sg_store *s, const char *name, long delta,
			 struct sg_error *err)
{
	return run_args(S(s), ST_COUNTER_ADD, NULL, err, "tl", name, (int64_t)delta);
}

static int q_counter_get(struct sg_store *s, const char *name, long *out,
			 struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	*out = 0;
	sqlite3_stmt *st = stmt(q, ST_COUNTER_GET, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(q, err, "reading a counter");
}

static int q_shadow_fields(struct sg_store *s, const char *shadow_version,
			   int (*fn)(const char *field, long n, void *ctx), void *ctx,
			   struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_SHADOW_FIELDS, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, shadow_version);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int frc = fn(col_text(st, 0), (long)sqlite3_column_int64(st, 1), ctx);
		if (frc) {
			done(st);
			return frc < 0 ? frc : 0;
		}
	}
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "counting shadow diffs");
}

static int q_shadow_scan(struct sg_store *s, const char *shadow_version, unsigned limit,
			 int (*fn)(const struct sg_store_shadow_diff *d, void *ctx),
			 void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_SHADOW_SCAN, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, shadow_version);
	sqlite3_bind_int(st, 2, (int)limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_store_shadow_diff d = {
			col_text(st, 0), col_text(st, 1), col_text(st, 2), col_text(st, 3),
			col_text(st, 4), col_text(st, 5), col_text(st, 6),
			sqlite3_column_int64(st, 7)};
		int frc = fn(&d, ctx);
		if (frc) {
			done(st);
			return frc < 0 ? frc : 0;
		}
	}
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, "reading shadow diffs");
}

/* ---- QA loop ---------------------------------------------------------- */

/* Steps st to the end; for each row calls row(st, ctx) until it returns
 * non-zero. A negative return from row is passed on. */
static int each_row(struct sqlite_store *q, sqlite3_stmt *st,
		    int (*row)(sqlite3_stmt *st, void *ctx), void *ctx,
		    const char *what, struct sg_error *err)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int frc = row(st, ctx);
		if (frc) {
			done(st);
			return frc < 0 ? frc : 0;
		}
	}
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(q, err, what);
}

/* Runs a bound write statement; 1 when it changed no row. */
static int write_row(struct sqlite_store *q, sqlite3_stmt *st, const char *what,
		     struct sg_error *err)
{
	int rc = sqlite3_step(st);
	done(st);
	if (rc != SQLITE_DONE)
		return fail(q, err, what);
	return sqlite3_changes(q->db) ? 0 : 1;
}

struct cb {
	void (*fn)(void);
	void *ctx;
};

static int pending_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	struct sg_store_qa_pending p = {
		col_text(st, 0), col_text(st, 1), col_text(st, 2), col_text(st, 3),
		col_text(st, 4), col_text(st, 5), sqlite3_column_int64(st, 6),
		sqlite3_column_int64(st, 7)};
	return ((int (*)(const struct sg_store_qa_pending *, void *))c->fn)(&p, c->ctx);
}

static int q_qa_pending(struct sg_store *s, int64_t since_ms, unsigned max,
			int (*fn)(const struct sg_store_qa_pending *p, void *ctx), void *ctx,
			struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_PENDING, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int(st, 2, (int)max);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, pending_row, &c, "reading decisions for QA facts", err);
}

static int q_qa_fact_put(struct sg_store *s, const struct sg_store_qa_fact *f,
			 struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_FACT_PUT, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, f->decision_id);
	bind_text(st, 2, f->ticket_id);
	sqlite3_bind_int64(st, 3, f->ticket_created_ms);
	sqlite3_bind_int64(st, 4, f->created_ms);
	bind_text(st, 5, f->intent);
	bind_text(st, 6, f->risk_tier);
	bind_text(st, 7, f->gate);
	bind_text(st, 8, f->ai_mode);
	sqlite3_bind_int(st, 9, f->ai_draft_sent);
	sqlite3_bind_int(st, 10, f->escalated);
	bind_text(st, 11, f->escalation_reason);
	bind_text(st, 12, f->guardrail_action);
	int rc = write_row(q, st, "storing QA facts", err);
	if (rc)
		return rc < 0 ? rc : 0; /* stored before: keep its rows */
	for (size_t i = 0; i < f->ntypes; i++) {
		if (!(st = stmt(q, ST_QA_GUARD_PUT, err)))
			return -SG_ESTORE;
		bind_text(st, 1, f->decision_id);
		sqlite3_bind_int64(st, 2, f->created_ms);
		bind_text(st, 3, f->guardrail_types[i]);
		bind_text(st, 4, f->guardrail_action);
		if ((rc = write_row(q, st, "storing guardrail facts", err)) < 0)
			return rc;
	}
	return 0;
}

static int q_qa_csat_put(struct sg_store *s, const char *ticket_id, int score, int64_t now_ms,
			 struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_CSAT_PUT, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, ticket_id);
	sqlite3_bind_int(st, 2, score);
	sqlite3_bind_int64(st, 3, now_ms);
	int rc = write_row(q, st, "storing the CSAT score", err);
	return rc < 0 ? rc : 0;
}

static int candidate_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	struct sg_store_qa_candidate x = {col_text(st, 0), col_text(st, 1), col_text(st, 2),
					  col_text(st, 3), sqlite3_column_int64(st, 4)};
	return ((int (*)(const struct sg_store_qa_candidate *, void *))c->fn)(&x, c->ctx);
}

static int q_qa_candidates(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const struct sg_store_qa_candidate *c, void *ctx),
			   void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_CANDIDATES, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, candidate_row, &c, "reading the QA population", err);
}

static int q_qa_sample_put(struct sg_store *s, const struct sg_store_qa_sample *x,
			   struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_SAMPLE_PUT, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, x->id);
	bind_text(st, 2, x->period);
	bind_text(st, 3, x->ticket_id);
	bind_text(st, 4, x->decision_id);
	bind_text(st, 5, x->category);
	bind_text(st, 6, x->kind);
	sqlite3_bind_int(st, 7, x->reached_customer);
	sqlite3_bind_int64(st, 8, x->seed);
	sqlite3_bind_int64(st, 9, x->created_ms);
	return write_row(q, st, "storing a QA sample", err);
}

#define COPY(dst, st, i) snprintf((dst), sizeof(dst), "%s", col_text((st), (i)))

static int sample_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	struct sg_store_qa_sample x;
	memset(&x, 0, sizeof(x));
	COPY(x.id, st, 0);
	COPY(x.period, st, 1);
	COPY(x.ticket_id, st, 2);
	COPY(x.decision_id, st, 3);
	COPY(x.category, st, 4);
	COPY(x.kind, st, 5);
	x.reached_customer = sqlite3_column_int(st, 6);
	x.seed = sqlite3_column_int64(st, 7);
	x.created_ms = sqlite3_column_int64(st, 8);
	x.scored = sqlite3_column_type(st, 9) != SQLITE_NULL;
	x.accurate = sqlite3_column_int(st, 9);
	COPY(x.reviewer, st, 10);
	return ((int (*)(const struct sg_store_qa_sample *, void *))c->fn)(&x, c->ctx);
}

static int q_qa_sample_list(struct sg_store *s, const char *period, const char *id,
			    int (*fn)(const struct sg_store_qa_sample *x, void *ctx), void *ctx,
			    struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_SAMPLE_LIST, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, period);
	bind_text(st, 2, id);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, sample_row, &c, "listing QA samples", err);
}

static int q_qa_score_put(struct sg_store *s, const struct sg_store_qa_score *x,
			  struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	struct sg_buf tags = SG_BUF_INIT;
	for (size_t i = 0; i < x->ndefects; i++) {
		if (i)
			sg_buf_addc(&tags, ',');
		sg_buf_adds(&tags, x->defects[i]);
	}
	if (tags.oom) {
		sg_buf_release(&tags);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	sqlite3_stmt *st = stmt(q, ST_QA_SCORE_PUT, err);
	if (!st) {
		sg_buf_release(&tags);
		return -SG_ESTORE;
	}
	bind_text(st, 1, x->sample_id);
	bind_text(st, 2, x->period);
	bind_text(st, 3, x->ticket_id);
	bind_text(st, 4, x->category);
	bind_text(st, 5, x->reviewer);
	for (int i = 0; i < SG_QA_DIMENSIONS; i++)
		sqlite3_bind_int(st, 6 + i, x->dims[i]);
	bind_text(st, 11, tags.data ? tags.data : "");
	sqlite3_bind_int(st, 12, x->accurate);
	sqlite3_bind_int(st, 13, x->reached_customer);
	bind_text(st, 14, x->note);
	sqlite3_bind_int64(st, 15, x->created_ms);
	int rc = write_row(q, st, "storing the QA score", err);
	sg_buf_release(&tags);
	if (rc < 0)
		return rc;
	if (!(st = stmt(q, ST_QA_DEFECTS_DEL, err)))
		return -SG_ESTORE;
	bind_text(st, 1, x->sample_id);
	if ((rc = write_row(q, st, "replacing defect tags", err)) < 0)
		return rc;
	for (size_t i = 0; i < x->ndefects; i++) {
		if (!(st = stmt(q, ST_QA_DEFECT_PUT, err)))
			return -SG_ESTORE;
		bind_text(st, 1, x->sample_id);
		bind_text(st, 2, x->period);
		bind_text(st, 3, x->defects[i]);
		if ((rc = write_row(q, st, "storing a defect tag", err)) < 0)
			return rc;
	}
	return 0;
}

static int accuracy_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	return ((int (*)(const char *, long, long, void *))c->fn)(
		col_text(st, 0), (long)sqlite3_column_int64(st, 1),
		(long)sqlite3_column_int64(st, 2), c->ctx);
}

static int q_qa_accuracy(struct sg_store *s, const char *period,
			 int (*fn)(const char *category, long scored, long accurate, void *ctx),
			 void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_ACCURACY, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, period);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, accuracy_row, &c, "reading QA accuracy", err);
}

static int q_qa_pause_open(struct sg_store *s, const struct sg_store_qa_pause *p,
			   struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_PAUSE_OPEN, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, p->id);
	bind_text(st, 2, p->category);
	bind_text(st, 3, p->period);
	sqlite3_bind_int(st, 4, p->accuracy_bp);
	sqlite3_bind_int(st, 5, p->scored);
	sqlite3_bind_int64(st, 6, p->opened_ms);
	return write_row(q, st, "pausing auto-send", err);
}

static int q_qa_pause_lift(struct sg_store *s, const char *category, const char *user,
			   int64_t now_ms, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_PAUSE_LIFT, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, now_ms);
	bind_text(st, 2, user);
	bind_text(st, 3, category);
	return write_row(q, st, "lifting the pause", err);
}

static int pause_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	struct sg_store_qa_pause p;
	memset(&p, 0, sizeof(p));
	COPY(p.id, st, 0);
	COPY(p.category, st, 1);
	COPY(p.period, st, 2);
	p.accuracy_bp = sqlite3_column_int(st, 3);
	p.scored = sqlite3_column_int(st, 4);
	p.opened_ms = sqlite3_column_int64(st, 5);
	p.lifted_ms = sqlite3_column_int64(st, 6);
	COPY(p.lifted_by, st, 7);
	return ((int (*)(const struct sg_store_qa_pause *, void *))c->fn)(&p, c->ctx);
}

static int q_qa_pause_list(struct sg_store *s, int active_only,
			   int (*fn)(const struct sg_store_qa_pause *p, void *ctx), void *ctx,
			   struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_PAUSE_LIST, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int(st, 1, active_only ? 1 : 0);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, pause_row, &c, "listing pauses", err);
}

static int q_qa_suggest(struct sg_store *s, const char *category, const char *period,
			int accuracy_bp, int previous_bp, int64_t now_ms, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_SUGGEST, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, category);
	bind_text(st, 2, period);
	sqlite3_bind_int(st, 3, accuracy_bp);
	sqlite3_bind_int(st, 4, previous_bp);
	sqlite3_bind_int64(st, 5, now_ms);
	return write_row(q, st, "storing the expansion suggestion", err);
}

static int q_qa_incident_open(struct sg_store *s, const struct sg_store_qa_incident *x,
			      struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_INC_OPEN, err);
	if (!st)
		return -SG_ESTORE;
	bind_text(st, 1, x->id);
	bind_text(st, 2, x->ticket_id);
	bind_text(st, 3, x->sample_id);
	bind_text(st, 4, x->category);
	sqlite3_bind_int64(st, 5, x->opened_ms);
	sqlite3_bind_int64(st, 6, x->due_ms);
	return write_row(q, st, "opening the incident", err);
}

static int q_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			       int64_t now_ms, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_INC_CLOSE, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, now_ms);
	bind_text(st, 2, user);
	bind_text(st, 3, id);
	return write_row(q, st, "closing the incident", err);
}

static int incident_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	struct sg_store_qa_incident x;
	memset(&x, 0, sizeof(x));
	COPY(x.id, st, 0);
	COPY(x.ticket_id, st, 1);
	COPY(x.sample_id, st, 2);
	COPY(x.category, st, 3);
	COPY(x.state, st, 4);
	x.opened_ms = sqlite3_column_int64(st, 5);
	x.due_ms = sqlite3_column_int64(st, 6);
	x.closed_ms = sqlite3_column_int64(st, 7);
	COPY(x.closed_by, st, 8);
	return ((int (*)(const struct sg_store_qa_incident *, void *))c->fn)(&x, c->ctx);
}

static int q_qa_incident_list(struct sg_store *s, int open_only,
			      int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
			      void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_INC_LIST, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int(st, 1, open_only ? 1 : 0);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, incident_row, &c, "listing incidents", err);
}

static int stat_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	return ((int (*)(const char *, const char *, long, void *))c->fn)(
		col_text(st, 0), col_text(st, 1), (long)sqlite3_column_int64(st, 2), c->ctx);
}

static int q_qa_stat(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
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
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, which_st[which], err);
	if (!st)
		return -SG_ESTORE;
	/* each statement uses some of ?1..?3; binding an unused one is a no-op */
	int np = sqlite3_bind_parameter_count(st);
	if (np >= 1)
		sqlite3_bind_int64(st, 1, from_ms);
	if (np >= 2)
		sqlite3_bind_int64(st, 2, to_ms);
	if (np >= 3)
		bind_text(st, 3, period);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, stat_row, &c, "reading scorecard counts", err);
}

static int ticket_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	struct sg_store_qa_ticket t;
	memset(&t, 0, sizeof(t));
	t.ticket_id = col_text(st, 0);
	t.created_ms = sqlite3_column_int64(st, 1);
	t.events = sqlite3_column_int(st, 2);
	t.auto_sent = sqlite3_column_int(st, 3);
	t.escalated = sqlite3_column_int(st, 4);
	int64_t first_auto = sqlite3_column_int64(st, 5), last_auto = sqlite3_column_int64(st, 6);
	int64_t first_h = sqlite3_column_int64(st, 7), last_h = sqlite3_column_int64(st, 8);
	t.first_reply_ms = first_auto && (!first_h || first_auto < first_h) ? first_auto : first_h;
	t.last_reply_ms = last_auto > last_h ? last_auto : last_h;
	t.ai_mode = col_text(st, 9);
	t.csat = sqlite3_column_int(st, 10);
	return ((int (*)(const struct sg_store_qa_ticket *, void *))c->fn)(&t, c->ctx);
}

static int q_qa_tickets(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			int (*fn)(const struct sg_store_qa_ticket *t, void *ctx), void *ctx,
			struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_TICKETS, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, ticket_row, &c, "reading tickets for the scorecard", err);
}

static int diff_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	return ((int (*)(const char *, void *))c->fn)(col_text(st, 0), c->ctx);
}

static int q_qa_edit_diffs(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const char *diff, void *ctx), void *ctx,
			   struct sg_error *err)
{
	struct sqlite_store *q = S(s);
	sqlite3_stmt *st = stmt(q, ST_QA_EDIT_DIFFS, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, diff_row, &c, "reading draft edits", err);
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
	.ticket_write = q_ticket_write,
	.human_action = q_human_action,
	.audit_append = q_audit_append,
	.audit_anchor = q_audit_anchor,
	.user_insert = q_user_insert,
	.ticket_decision = q_ticket_decision,
	.audit_scan = q_audit_scan,
	.audit_get = q_audit_get,
	.outbox_claim = q_outbox_claim,
	.outbox_finish = q_outbox_finish,
	.outbox_count = q_outbox_count,
	.outbox_list = q_outbox_list,
	.outbox_retry = q_outbox_retry,
	.outbox_drop = q_outbox_drop,
	.user_list = q_user_list,
	.user_by_prefix = q_user_by_prefix,
	.session_put = q_session_put,
	.session_get = q_session_get,
	.session_del = q_session_del,
	.escalation_open = q_escalation_open,
	.escalation_claim = q_escalation_claim,
	.escalation_close = q_escalation_close,
	.view = q_view,
	.queue_scan = q_queue_scan,
	.onboarding_set = q_onboarding_set,
	.onboarding_bump = q_onboarding_bump,
	.onboarding_get = q_onboarding_get,
	.peer_review_add = q_peer_review_add,
	.peer_review_get = q_peer_review_get,
	.shadow_insert = q_shadow_insert,
	.counter_add = q_counter_add,
	.counter_get = q_counter_get,
	.shadow_fields = q_shadow_fields,
	.shadow_scan = q_shadow_scan,
	.qa_pending = q_qa_pending,
	.qa_fact_put = q_qa_fact_put,
	.qa_csat_put = q_qa_csat_put,
	.qa_candidates = q_qa_candidates,
	.qa_sample_put = q_qa_sample_put,
	.qa_sample_list = q_qa_sample_list,
	.qa_score_put = q_qa_score_put,
	.qa_accuracy = q_qa_accuracy,
	.qa_pause_open = q_qa_pause_open,
	.qa_pause_lift = q_qa_pause_lift,
	.qa_pause_list = q_qa_pause_list,
	.qa_suggest = q_qa_suggest,
	.qa_incident_open = q_qa_incident_open,
	.qa_incident_close = q_qa_incident_close,
	.qa_incident_list = q_qa_incident_list,
	.qa_stat = q_qa_stat,
	.qa_tickets = q_qa_tickets,
	.qa_edit_diffs = q_qa_edit_diffs,
};
