/*
 * schema.c - the numbered schema migrations, in SQL that both SQLite and
 * PostgreSQL run unchanged: TEXT, BIGINT and INTEGER types only, times as
 * BIGINT milliseconds since the epoch, no AUTOINCREMENT, no SQLite type
 * affinity tricks, UNIQUE constraints declared in the table. A migration is
 * never edited once released; a change is a new entry at the end.
 */
#include "store/store_int.h"

#include "core/banned.h"

const struct sg_migration sg_store_migrations[] = {
	{1, "initial schema",
	 /* the ticket and its latest state */
	 "CREATE TABLE tickets ("
	 " id TEXT PRIMARY KEY,"
	 " state TEXT NOT NULL,"
	 " latest_decision_id TEXT,"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL);"
	 /* every event received; the UNIQUE pair makes retries idempotent */
	 "CREATE TABLE ticket_events ("
	 " ticket_id TEXT NOT NULL,"
	 " event_id TEXT NOT NULL,"
	 " received_at BIGINT NOT NULL,"
	 " body TEXT NOT NULL,"
	 " decision_id TEXT NOT NULL,"
	 " UNIQUE (ticket_id, event_id));"
	 "CREATE TABLE decisions ("
	 " id TEXT PRIMARY KEY,"
	 " ticket_id TEXT NOT NULL,"
	 " event_id TEXT NOT NULL,"
	 " gate TEXT NOT NULL,"
	 " risk_tier TEXT NOT NULL,"
	 " intent TEXT NOT NULL,"
	 " queue TEXT NOT NULL,"
	 " policy_version TEXT NOT NULL,"
	 " created_at BIGINT NOT NULL,"
	 " body TEXT NOT NULL);"
	 "CREATE INDEX decisions_ticket ON decisions (ticket_id, created_at);"
	 "CREATE INDEX decisions_queue ON decisions (queue, gate, created_at);"
	 "CREATE INDEX decisions_tier ON decisions (risk_tier, created_at);"
	 "CREATE INDEX decisions_intent ON decisions (intent, created_at);"
	 "CREATE INDEX decisions_policy ON decisions (policy_version);"
	 /* draft versions; an edit stores the new text and its diff */
	 "CREATE TABLE drafts ("
	 " ticket_id TEXT NOT NULL,"
	 " version INTEGER NOT NULL,"
	 " decision_id TEXT,"
	 " author TEXT NOT NULL,"
	 " text TEXT NOT NULL,"
	 " diff TEXT,"
	 " created_at BIGINT NOT NULL,"
	 " PRIMARY KEY (ticket_id, version));"
	 "CREATE TABLE approvals ("
	 " id TEXT PRIMARY KEY,"
	 " ticket_id TEXT NOT NULL,"
	 " decision_id TEXT,"
	 " user_name TEXT NOT NULL,"
	 " role TEXT NOT NULL,"
	 " action TEXT NOT NULL,"
	 " step INTEGER NOT NULL,"
	 " note TEXT,"
	 " created_at BIGINT NOT NULL,"
	 " CHECK (step IN (1, 2)),"
	 " CHECK (action IN ('approve', 'edit', 'reject')));"
	 "CREATE INDEX approvals_ticket ON approvals (ticket_id, created_at);"
	 "CREATE TABLE escalations ("
	 " id TEXT PRIMARY KEY,"
	 " ticket_id TEXT NOT NULL,"
	 " level INTEGER NOT NULL,"
	 " owner TEXT NOT NULL,"
	 " channel TEXT,"
	 " reason TEXT,"
	 " due_at BIGINT NOT NULL,"
	 " state TEXT NOT NULL,"
	 " lease_owner TEXT,"
	 " lease_expires BIGINT,"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL,"
	 " CHECK (state IN ('open', 'breached', 'resolved')));"
	 "CREATE INDEX escalations_due ON escalations (state, due_at);"
	 /* transactional outbox: written with the decision, delivered later */
	 "CREATE TABLE outbox ("
	 " id TEXT PRIMARY KEY,"
	 " ticket_id TEXT NOT NULL,"
	 " kind TEXT NOT NULL,"
	 " target TEXT,"
	 " payload TEXT NOT NULL,"
	 " idem_key TEXT NOT NULL UNIQUE,"
	 " state TEXT NOT NULL,"
	 " attempts INTEGER NOT NULL,"
	 " next_attempt_at BIGINT NOT NULL,"
	 " lease_owner TEXT,"
	 " lease_expires BIGINT,"
	 " last_error TEXT,"
	 " created_at BIGINT NOT NULL,"
	 " updated_at BIGINT NOT NULL,"
	 " CHECK (state IN ('pending', 'sent', 'dead')));"
	 "CREATE INDEX outbox_due ON outbox (state, next_attempt_at);"
	 /* users: only the SHA-256 of the token is kept, never the token */
	 "CREATE TABLE users ("
	 " name TEXT PRIMARY KEY,"
	 " role TEXT NOT NULL,"
	 " token_prefix TEXT NOT NULL UNIQUE,"
	 " token_hash TEXT NOT NULL,"
	 " onboarding_left INTEGER NOT NULL DEFAULT 0,"
	 " disabled INTEGER NOT NULL DEFAULT 0,"
	 " created_at BIGINT NOT NULL,"
	 " CHECK (role IN ('agent', 'lead', 'specialist', 'admin')));"
	 /* console sessions: the cookie value's hash, like tokens */
	 "CREATE TABLE sessions ("
	 " id_hash TEXT PRIMARY KEY,"
	 " user_name TEXT NOT NULL,"
	 " csrf TEXT NOT NULL,"
	 " created_at BIGINT NOT NULL,"
	 " expires_at BIGINT NOT NULL);"
	 /* hash-chained audit records, one chain per writer (audit/audit.h) */
	 "CREATE TABLE audit ("
	 " id TEXT PRIMARY KEY,"
	 " chain TEXT NOT NULL,"
	 " seq BIGINT NOT NULL,"
	 " prev_hash TEXT NOT NULL,"
	 " hash TEXT NOT NULL,"
	 " created_at BIGINT NOT NULL,"
	 " actor TEXT NOT NULL,"
	 " action TEXT NOT NULL,"
	 " ticket_id TEXT NOT NULL,"
	 " body TEXT NOT NULL,"
	 " UNIQUE (chain, seq));"
	 "CREATE INDEX audit_ticket ON audit (ticket_id);"
	 "CREATE INDEX audit_time ON audit (created_at);"
	 /* shadow policy: where the candidate policy would have decided
	  * differently from the live one */
	 "CREATE TABLE shadow_diffs ("
	 " id TEXT PRIMARY KEY,"
	 " ticket_id TEXT NOT NULL,"
	 " event_id TEXT NOT NULL,"
	 " live_version TEXT NOT NULL,"
	 " shadow_version TEXT NOT NULL,"
	 " field TEXT NOT NULL,"
	 " live_value TEXT,"
	 " shadow_value TEXT,"
	 " created_at BIGINT NOT NULL);"
	 "CREATE INDEX shadow_diffs_time ON shadow_diffs (created_at);"
	 "CREATE TABLE counters ("
	 " name TEXT PRIMARY KEY,"
	 " value BIGINT NOT NULL);"},
	{2, "onboarding reviewers and peer reviews",
	 /* a reviewer in onboarding: the flag and the sends they made while
	  * onboarding (the policy says how many need a peer); onboarding_left
	  * of version 1 is not used */
	 "ALTER TABLE users ADD COLUMN onboarding INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE users ADD COLUMN onboarding_tickets INTEGER NOT NULL DEFAULT 0;"
	 /* a decision whose first approval came from an onboarding reviewer
	  * and needs a peer's second approval, and why */
	 "CREATE TABLE peer_reviews ("
	 " decision_id TEXT PRIMARY KEY,"
	 " ticket_id TEXT NOT NULL,"
	 " user_name TEXT NOT NULL,"
	 " reason TEXT NOT NULL,"
	 " created_at BIGINT NOT NULL);"
	 "CREATE INDEX shadow_diffs_version ON shadow_diffs (shadow_version, created_at);"},
	/* One approval per decision and step, even when two workers take the
	 * same ticket at once: the second insert fails as a conflict instead
	 * of recording a second approval. (Edits may follow one another.) */
	{3, "one approval per decision and step",
	 "CREATE UNIQUE INDEX approvals_once ON approvals (decision_id, step)"
	 " WHERE action = 'approve';"},
};

const int sg_store_nmigrations =
	(int)(sizeof(sg_store_migrations) / sizeof(sg_store_migrations[0]));
