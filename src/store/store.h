/*
 * store.h - durable state of sopgate behind one interface: tickets, events,
 * decisions, drafts, approvals, escalations, the outbox, users and the
 * hash-chained audit trail. Backends (SQLite now, PostgreSQL later) sit
 * behind an ops table (store_int.h); callers use only these wrappers.
 *
 * Contract: every function returns 0 or a negative SG_E... and sets err.
 * Strings handed in are copied or bound, never kept. Strings handed out are
 * heap (sg_malloc) and freed by the caller as documented. Nothing written
 * here may contain raw card numbers, SSNs or health details: callers pass
 * masked text only.
 */
#ifndef SG_STORE_STORE_H
#define SG_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/id.h"

struct sg_store;

/* Opens "sqlite:FILE" (created if missing, migrated to the latest schema)
 * or "postgres://..." (not built yet: a clear error). A database written by
 * a newer sopgate is refused. `writer` names this connection's audit chain
 * (one chain per writer process or thread; NULL means "main"). When the
 * environment variable SOPGATE_STORE_TRACE is set, the store is wrapped in
 * the tracing backend (store/trace.c). *out is NULL on failure. */
int sg_store_open(struct sg_store **out, const char *url, const char *writer,
		  struct sg_error *err);
/* Same, but a SQLite file must already exist (for readers such as
 * `audit verify`, so a typo is an error instead of a new empty database). */
int sg_store_open_existing(struct sg_store **out, const char *url,
			   const char *writer, struct sg_error *err);
void sg_store_close(struct sg_store *s); /* NULL is fine */
const char *sg_store_backend(const struct sg_store *s); /* "sqlite" */
int sg_store_schema_version(struct sg_store *s, int *out, struct sg_error *err);

/* Explicit transactions, for callers that group several operations. The
 * sg_store_ticket_write / human_action / user_add calls open their own. */
int sg_store_begin(struct sg_store *s, struct sg_error *err);
int sg_store_commit(struct sg_store *s, struct sg_error *err);
int sg_store_rollback(struct sg_store *s, struct sg_error *err);

/* A fixed pool of n connections (1..SG_STORE_POOL_MAX) to one database,
 * shared by the threads of a process: _get hands out a free one (waiting
 * while all are taken), _put returns it. Connection i writes as
 * "<writer>-i". On SQLite the file must exist (sg_store_open_existing). */
#define SG_STORE_POOL_MAX 32
struct sg_store_pool;
int sg_store_pool_open(struct sg_store_pool **out, const char *url, const char *writer,
		       unsigned n, struct sg_error *err);
struct sg_store *sg_store_pool_get(struct sg_store_pool *p);
void sg_store_pool_put(struct sg_store_pool *p, struct sg_store *s);
void sg_store_pool_close(struct sg_store_pool *p); /* all returned; NULL is fine */

/* ---- ticket events ---------------------------------------------------- */

struct sg_outbox_action {
	const char *kind;     /* "crm.patch", "helpdesk.reply", "slack", ... */
	const char *target;   /* connector-specific destination, may be NULL */
	const char *payload;  /* JSON text */
	const char *idem_key; /* NULL: "<decision id>:<index>" */
};

/* One ticket event and everything it produces, written in ONE transaction:
 * the event (unique on ticket_id + event_id), the decision with its indexed
 * columns, the ticket's latest state, the outbox actions and one audit
 * record citing the decision. */
struct sg_ticket_write {
	const char *ticket_id, *event_id;
	const char *event_json;    /* the masked event, JSON text */
	const char *decision_json; /* the decision object, JSON text */
	const char *gate, *risk_tier, *intent, *queue, *policy_version;
	const char *state;         /* ticket state after this event, "open" if NULL */
	const struct sg_outbox_action *actions;
	size_t nactions;
	int64_t now_ms;            /* 0: the current time */
	/* OUT */
	int existed;               /* 1: the event was already stored */
	char decision_id[SG_ID_LEN];
	char *stored_decision;     /* on existed: the stored decision JSON;
	                              the caller frees it with sg_free */
};

/* Writes w in its own transaction. On a duplicate event id nothing is
 * written, w->existed is 1 and w->stored_decision holds the first decision.
 * On failure nothing at all is written. */
int sg_store_ticket_write(struct sg_store *s, struct sg_ticket_write *w,
			  struct sg_error *err);

/* Group commit: a committer thread owns the store and writes the queued
 * ticket events of many callers in one transaction (each in its own
 * savepoint, so one failing write does not undo the others), then wakes
 * each caller with its own result. */
struct sg_store_batcher;
int sg_store_batcher_start(struct sg_store_batcher **out, struct sg_store *s,
			   unsigned max_batch, struct sg_error *err);
/* Blocks until w is durable (or failed); thread-safe. */
int sg_store_batcher_write(struct sg_store_batcher *b, struct sg_ticket_write *w,
			   struct sg_error *err);
/* Drains the queue, stops the thread and frees b (the store stays open). */
void sg_store_batcher_stop(struct sg_store_batcher *b);
/* Makes the committer append an audit anchor (sg_store_audit_anchor) in
 * the same transaction once every n successful writes; 0 turns it off.
 * The default is SG_AUDIT_ANCHOR_EVERY. Call before the first write. */
void sg_store_batcher_anchor_every(struct sg_store_batcher *b, unsigned long n);
/* Transactions committed so far (to report the mean batch size). */
unsigned long sg_store_batcher_commits(const struct sg_store_batcher *b);
/* Counters since start: transactions committed, writes answered (good or
 * failed) and the largest batch; writes / commits is the mean batch. */
struct sg_store_batch_stats {
	unsigned long commits, writes, max_batch;
};
void sg_store_batcher_stats(const struct sg_store_batcher *b, struct sg_store_batch_stats *out);

/* Reads the latest decision of a ticket; *out is heap JSON text. */
int sg_store_ticket_decision(struct sg_store *s, const char *ticket_id,
			     char **out, struct sg_error *err);

/* ---- human actions ---------------------------------------------------- */

struct sg_human_action {
	const char *ticket_id, *decision_id;
	const char *user, *role;   /* who, in which role */
	const char *action;        /* "approve", "edit", "reject" */
	int step;                  /* 1 or 2 (second approval of two_step) */
	const char *note;          /* may be NULL */
	const char *draft_text;    /* edit: the new text (masked) */
	const char *draft_diff;    /* edit: unified diff against the previous */
	int64_t now_ms;            /* 0: the current time */
	/* Onboarding reviewers (docs/server.md): `onboarding` 1 when the user
	 * is onboarding; an approve/edit at step 1 then adds one to their
	 * onboarding ticket count. `onboarding_reason` (may be NULL) says in
	 * the audit record why a peer must, or need not, approve; with
	 * `needs_peer` the decision waits for a peer's second approval. */
	int onboarding;
	const char *onboarding_reason;
	int needs_peer;
	/* OUT */
	int draft_version;         /* edit: the version written */
};
/* Records an approval row (and a new draft version on edit) and its audit
 * record in one transaction. */
int sg_store_human_action(struct sg_store *s, struct sg_human_action *a,
			  struct sg_error *err);

/* ---- outbox ----------------------------------------------------------- */

struct sg_outbox_item {
	char id[SG_ID_LEN];
	char *ticket_id, *kind, *target, *payload, *idem_key;
	int attempts;              /* including this claim */
};
/* Claims up to max pending actions whose next attempt is due and whose lease
 * is free or expired, leasing them to owner until now_ms + lease_ms. *out is
 * an array the caller frees with sg_store_outbox_items_free. */
int sg_store_outbox_claim(struct sg_store *s, const char *owner, int64_t now_ms,
			  int64_t lease_ms, unsigned max,
			  struct sg_outbox_item **out, size_t *n,
			  struct sg_error *err);
void sg_store_outbox_items_free(struct sg_outbox_item *items, size_t n);
/* Marks a claimed action sent. -SG_ECONFLICT when owner no longer holds the
 * lease (it expired and another worker claimed it). */
int sg_store_outbox_done(struct sg_store *s, const char *id, const char *owner,
			 struct sg_error *err);
/* A failed attempt: back to pending at retry_at_ms, or "dead" once attempts
 * reach max_attempts. Same lease rule as _done. */
int sg_store_outbox_fail(struct sg_store *s, const char *id, const char *owner,
			 int64_t retry_at_ms, int max_attempts, const char *why,
			 struct sg_error *err);
/* Counts actions in a state ("pending", "sent", "dead"). */
int sg_store_outbox_count(struct sg_store *s, const char *state, long *out,
			  struct sg_error *err);

/* One outbox row as operators see it (`sopgate outbox list`). */
struct sg_outbox_row {
	char id[SG_ID_LEN];
	const char *ticket_id, *kind, *target, *idem_key, *state, *last_error; /* may be NULL */
	int attempts;
	int64_t next_attempt_ms, created_ms, updated_ms;
};
/* Calls fn for each action in state (NULL: every state; "pending", "sent",
 * "dead"), or the one action id when id is non-NULL, oldest first, at most
 * limit rows (0: no limit). Rows are only valid during the call; a
 * non-zero return from fn stops. */
int sg_store_outbox_list(struct sg_store *s, const char *state, const char *id,
			 unsigned long limit,
			 int (*fn)(const struct sg_outbox_row *r, void *ctx), void *ctx,
			 struct sg_error *err);
/* Puts dead actions back to pending, due now, with their attempts reset:
 * the one id, or every dead action when id is NULL. *n is the number
 * moved; -SG_ENOTFOUND when id names no dead action. Audited as
 * "outbox.retry" by actor, in one transaction. */
int sg_store_outbox_retry(struct sg_store *s, const char *id, const char *actor,
			  long *n, struct sg_error *err);
/* Deletes a pending or dead action (never a sent one) so it is never
 * delivered. -SG_ENOTFOUND when absent or already sent. Audited as
 * "outbox.drop" by actor, with its kind, target and idempotency key. */
int sg_store_outbox_drop(struct sg_store *s, const char *id, const char *actor,
			 struct sg_error *err);
/* Appends an audit record about an outbox action (delivery outcomes:
 * "outbox.sent", "outbox.dead") inside the caller's open transaction;
 * body is a JSON object, written with sorted keys. */
int sg_store_outbox_audit(struct sg_store *s, const char *actor, const char *action,
			  const char *ticket_id, const char *body_json, struct sg_error *err);

/* ---- users ------------------------------------------------------------ */

#define SG_TOKEN_PREFIX "sgt_"
#define SG_TOKEN_LEN (4 + 64 + 1) /* "sgt_" + 64 hex + NUL */

/* Creates a user and a fresh random token, written to token (shown once,
 * never stored: the store keeps its SHA-256). Role is one of agent, lead,
 * specialist, admin. -SG_ECONFLICT when the name exists. Audited, with
 * actor as the one who added the user. */
int sg_store_user_add(struct sg_store *s, const char *actor, const char *name,
		      const char *role, char token[SG_TOKEN_LEN],
		      struct sg_error *err);
struct sg_store_user {
	char name[128];
	char role[32];
	int64_t created_ms;
};
/* Calls fn for each user by name; a non-zero return from fn stops. */
int sg_store_user_list(struct sg_store *s,
		       int (*fn)(const struct sg_store_user *u, void *ctx), void *ctx,
		       struct sg_error *err);
/* Finds the user holding token, comparing hashes in constant time.
 * -SG_EUNAUTHORIZED for a malformed, unknown or wrong token. */
int sg_store_token_verify(struct sg_store *s, const char *token,
			  struct sg_store_user *out, struct sg_error *err);
int sg_store_role_valid(const char *role); /* 1 for the four roles */

/* Flags for sg_store_user_add_opts. */
#define SG_STORE_USER_ONBOARDING 0x1u /* the user starts in onboarding */
/* sg_store_user_add with flags; the flags are set in the same transaction
 * and in the `user.add` audit record. */
int sg_store_user_add_opts(struct sg_store *s, const char *actor, const char *name,
			   const char *role, unsigned flags, char token[SG_TOKEN_LEN],
			   struct sg_error *err);

/* ---- onboarding reviewers ------------------------------------------------ */

struct sg_store_onboarding {
	int onboarding;      /* 1 while the user is onboarding */
	long tickets;        /* sends (approve/edit at step 1) while onboarding */
};
/* Reads a user's onboarding state; -SG_ENOTFOUND for an unknown user. */
int sg_store_user_onboarding(struct sg_store *s, const char *name,
			     struct sg_store_onboarding *out, struct sg_error *err);
/* Starts (on = 1, the ticket count restarts at 0) or ends (on = 0,
 * "graduates") a user's onboarding, with a `user.onboarding` audit record
 * by actor. -SG_ENOTFOUND for an unknown user. */
int sg_store_user_onboarding_set(struct sg_store *s, const char *actor,
				 const char *name, int on, struct sg_error *err);

/* The peer review a decision waits for: who gave the first approval and
 * why a peer must give the second. */
struct sg_store_peer_review {
	char user[128];
	char reason[256];
	int64_t created_ms;
};
/* 0 and *out filled when the decision needs a peer's approval, 1 when it
 * does not, or a negative SG_E... */
int sg_store_peer_review(struct sg_store *s, const char *decision_id,
			 struct sg_store_peer_review *out, struct sg_error *err);

/* ---- console sessions --------------------------------------------------- */

/* Sessions are keyed by the hex SHA-256 of the cookie value; the cookie is
 * never stored. _put creates or refreshes one; _get returns the session's
 * user (role read from users, so a role change applies at once) or
 * -SG_EUNAUTHORIZED when absent, expired at now_ms, or the user disabled. */
#define SG_STORE_CSRF_LEN 65
int sg_store_session_put(struct sg_store *s, const char *sid_hash, const char *user,
			 const char *csrf, int64_t expires_ms, struct sg_error *err);
int sg_store_session_get(struct sg_store *s, const char *sid_hash, int64_t now_ms,
			 struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
			 int64_t *expires_ms, struct sg_error *err);
int sg_store_session_del(struct sg_store *s, const char *sid_hash,
			 struct sg_error *err);

/* ---- escalations (SLA timers) ------------------------------------------ */

struct sg_store_escalation {
	char id[SG_ID_LEN];
	char ticket_id[128];
	int level;                 /* 1 first owner, 2 next level, ... */
	char owner[128], channel[128];
	int64_t due_ms;
};
/* Opens an escalation with its SLA due time; id_out receives its id. */
int sg_store_escalation_open(struct sg_store *s, const char *ticket_id, int level,
			     const char *owner, const char *channel,
			     const char *reason, int64_t due_ms,
			     char id_out[SG_ID_LEN], struct sg_error *err);
/* Claims up to max open escalations due at now_ms, leasing them to worker
 * for lease_ms (as the outbox does), so exactly one worker handles each
 * breach; *out is an array freed with sg_free. */
int sg_store_escalation_claim_due(struct sg_store *s, const char *worker,
				  int64_t now_ms, int64_t lease_ms, unsigned max,
				  struct sg_store_escalation **out, size_t *n,
				  struct sg_error *err);
/* Moves a claimed (or any, with worker NULL) escalation to "breached" or
 * "resolved". -SG_ECONFLICT when the lease is held by another worker or the
 * escalation is no longer open. */
int sg_store_escalation_close(struct sg_store *s, const char *id, const char *worker,
			      const char *state, struct sg_error *err);

/* ---- shadow policy -------------------------------------------------------- */

/* One field where the shadow policy decided differently from the live one
 * for a ticket event (field: gate, risk_tier, escalation, guardrail_types,
 * rules). Values are short masked-free summaries (names, never text). */
struct sg_store_shadow_diff {
	const char *ticket_id, *event_id;
	const char *live_version, *shadow_version;
	const char *field, *live_value, *shadow_value;
	int64_t created_ms;        /* 0: the current time */
};
/* Records, in one transaction, that `evaluated` more ticket events were
 * decided under shadow_version, `differing` of them differently, and the
 * n differing fields of those. */
int sg_store_shadow_record(struct sg_store *s, const char *shadow_version,
			   long evaluated, long differing,
			   const struct sg_store_shadow_diff *d, size_t n,
			   struct sg_error *err);
struct sg_store_shadow_counts {
	long evaluated, differing;
};
/* Totals for shadow_version and, through fn (may be NULL), the number of
 * differing ticket events per field. */
int sg_store_shadow_summary(struct sg_store *s, const char *shadow_version,
			    struct sg_store_shadow_counts *out,
			    int (*fn)(const char *field, long n, void *ctx), void *ctx,
			    struct sg_error *err);
/* The diffs of shadow_version, newest event first, at most `limit` rows;
 * rows are valid only during the call. */
int sg_store_shadow_scan(struct sg_store *s, const char *shadow_version, unsigned limit,
			 int (*fn)(const struct sg_store_shadow_diff *d, void *ctx),
			 void *ctx, struct sg_error *err);

/* ---- shared counters -------------------------------------------------- */

/* Adds 1 to the counter `name` (created at 1) unless it has reached
 * `limit`, as one atomic statement, so processes sharing the database
 * never count past the limit together: 0 when added, 1 when the counter is
 * at the limit (or limit < 1), or a negative SG_E... Its own statement: not
 * inside sg_store_begin. */
int sg_store_counter_take(struct sg_store *s, const char *name, long limit,
			  struct sg_error *err);
/* The counter's value, 0 when it does not exist. */
int sg_store_counter_get(struct sg_store *s, const char *name, long *out,
			 struct sg_error *err);
/* The decision engine's AI sessions of one UTC day ("YYYY-MM-DD"): the
 * counter "budget.sessions:<day>", taken as sg_store_counter_take does. */
#define SG_STORE_BUDGET_SESSIONS "budget.sessions:"
int sg_store_budget_session_take(struct sg_store *s, const char *day, long limit,
				 struct sg_error *err);

/* ---- read views (review queue, ticket page, audit of a ticket) -------- */

/* One row handed to a view callback: column i is text[i] (NULL for SQL
 * NULL) and, for integer columns, num[i]. Valid only during the call. */
#define SG_STORE_ROW_MAX 16
struct sg_store_row {
	int ncol;
	const char *text[SG_STORE_ROW_MAX];
	int64_t num[SG_STORE_ROW_MAX];
};
typedef int (*sg_store_row_fn)(const struct sg_store_row *r, void *ctx);

/* What a view lists and its columns (times are ms since the epoch). */
enum sg_store_view {
	/* key ticket: its latest decision: id, gate, body (JSON); one row */
	SG_STORE_VIEW_LATEST,
	/* key decision id: user_name, action, step; by created_at */
	SG_STORE_VIEW_DECISION_APPROVALS,
	/* key ticket: text of the newest draft version; one row or none */
	SG_STORE_VIEW_LATEST_DRAFT,
	/* key ticket: event_id, received_at, decision_id, body; by received_at */
	SG_STORE_VIEW_EVENTS,
	/* key ticket: id, event_id, created_at, body; by created_at */
	SG_STORE_VIEW_DECISIONS,
	/* key ticket: version, author, text, diff, created_at; by version */
	SG_STORE_VIEW_DRAFTS,
	/* key ticket: user_name, role, action, step, note, created_at,
	 * decision_id; by created_at */
	SG_STORE_VIEW_APPROVALS,
	/* key ticket: id, level, owner, channel, reason, due_at, state,
	 * created_at; by created_at */
	SG_STORE_VIEW_ESCALATIONS,
	/* key ticket: id, chain, seq, created_at, actor, action, body,
	 * prev_hash, hash; by created_at, chain, seq */
	SG_STORE_VIEW_AUDIT,
	SG_STORE_VIEW__COUNT
};
/* Calls fn for each row of view v for key; a non-zero return from fn stops
 * (a negative one is returned). */
int sg_store_view(struct sg_store *s, enum sg_store_view v, const char *key,
		  sg_store_row_fn fn, void *ctx, struct sg_error *err);

/* The review queue: the latest decision of every ticket whose decision
 * has approval_required true, optionally filtered (NULL: any), ordered by
 * created_at then ticket id. Columns: ticket_id, decision_id, gate,
 * risk_tier, queue, intent, created_at, escalation.sla_minutes (NULL when
 * absent), guardrail_types (JSON text), rejections, step-1 approvals,
 * step-2 approvals, confidence_band. */
struct sg_store_queue_filter {
	const char *queue, *gate, *tier;
};
int sg_store_queue_scan(struct sg_store *s, const struct sg_store_queue_filter *f,
			sg_store_row_fn fn, void *ctx, struct sg_error *err);

/* ---- audit ------------------------------------------------------------ */

struct sg_audit_record; /* audit/audit.h */

/* Appends a record to this connection's chain inside the open transaction
 * (the caller fills actor, action, ticket_id, body; the store fills id,
 * chain, seq, prev_hash, created_ms, hash). */
int sg_store_audit_append(struct sg_store *s, struct sg_audit_record *r,
			  struct sg_error *err);
/* Writes an anchor record into the global chain "anchor" citing the head
 * (seq, hash) of every other chain; its own transaction. */
int sg_store_audit_anchor(struct sg_store *s, struct sg_error *err);
/* Calls fn for each record ordered by chain then seq (chain NULL: all;
 * since_ms: records created at or after). Records are only valid during
 * the call. */
int sg_store_audit_scan(struct sg_store *s, const char *chain, int64_t since_ms,
			int (*fn)(const struct sg_audit_record *r, void *ctx),
			void *ctx, struct sg_error *err);
/* Loads one record; 1 when absent, 0 when found (out->body is heap, free
 * with sg_audit_record_release). */
int sg_store_audit_get(struct sg_store *s, const char *chain, int64_t seq,
		       struct sg_audit_record *out, struct sg_error *err);
/* Feeds every record of every chain to v (initialized by the caller), then
 * checks the anchors' citations against the store. Problems go to v's
 * report function and are counted in v->problems; the return value is
 * negative only when the store could not be read. */
struct sg_audit_verifier;
int sg_store_audit_verify(struct sg_store *s, struct sg_audit_verifier *v,
			  struct sg_error *err);

/* ---- QA loop (qa/qa.h) ------------------------------------------------- */

/* Periods are ISO weeks named "2026-W49"; times are ms since the epoch and
 * ranges are [from_ms, to_ms). Accuracies are basis points (9200 = 92 %).
 * Writes marked "in a transaction" need sg_store_begin/commit around them
 * (the qa module writes each change and its audit record together). */
#define SG_QA_PERIOD_LEN 16
#define SG_QA_NAME_MAX 128

/* A stored decision whose facts are not extracted yet (all strings live
 * only during the callback). */
struct sg_store_qa_pending {
	const char *decision_id, *ticket_id, *intent, *risk_tier, *gate;
	const char *body;          /* the decision JSON */
	int64_t created_ms, ticket_created_ms;
};
/* Calls fn for up to max decisions created at or after since_ms that have
 * no facts yet, oldest first; a non-zero return from fn stops. */
int sg_store_qa_pending(struct sg_store *s, int64_t since_ms, unsigned max,
			int (*fn)(const struct sg_store_qa_pending *p, void *ctx),
			void *ctx, struct sg_error *err);

/* What the scorecard keeps of one decision. */
struct sg_store_qa_fact {
	const char *decision_id, *ticket_id, *intent, *risk_tier, *gate;
	const char *ai_mode, *guardrail_action;
	const char *escalation_reason;      /* NULL when not escalated */
	const char *const *guardrail_types; /* hit types, each once */
	size_t ntypes;
	int ai_draft_sent, escalated;
	int64_t created_ms, ticket_created_ms;
};
/* Stores facts (a decision already stored is skipped); in a transaction. */
int sg_store_qa_fact_put(struct sg_store *s, const struct sg_store_qa_fact *f,
			 struct sg_error *err);

/* Records the customer's satisfaction score (1..5) for a ticket, as the
 * helpdesk sends it; a later score replaces an earlier one. */
int sg_store_qa_csat_put(struct sg_store *s, const char *ticket_id, int score,
			 int64_t now_ms, struct sg_error *err);

/* The sampling population of [from_ms, to_ms): AI-handled tickets (a reply
 * auto-sent, kind "ai") and human-reviewed ones (a draft approved or edited
 * at step 1, kind "human"), oldest first. */
struct sg_store_qa_candidate {
	const char *ticket_id, *decision_id, *category, *kind;
	int64_t at_ms;
};
int sg_store_qa_candidates(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const struct sg_store_qa_candidate *c, void *ctx),
			   void *ctx, struct sg_error *err);

struct sg_store_qa_sample {
	char id[SG_ID_LEN];
	char period[SG_QA_PERIOD_LEN];
	char ticket_id[SG_QA_NAME_MAX], decision_id[SG_ID_LEN];
	char category[SG_QA_NAME_MAX];
	char kind[8];              /* "ai" or "human" */
	int reached_customer;
	int64_t seed, created_ms;
	/* read only: the score, when there is one */
	int scored, accurate;
	char reviewer[SG_QA_NAME_MAX];
};
/* In a transaction; 1 when the period already holds this ticket. */
int sg_store_qa_sample_put(struct sg_store *s, const struct sg_store_qa_sample *x,
			   struct sg_error *err);
/* The samples of a period (NULL: every period), by category then ticket. */
int sg_store_qa_sample_list(struct sg_store *s, const char *period,
			    int (*fn)(const struct sg_store_qa_sample *x, void *ctx),
			    void *ctx, struct sg_error *err);
/* 0 found, 1 absent. */
int sg_store_qa_sample_get(struct sg_store *s, const char *id,
			   struct sg_store_qa_sample *out, struct sg_error *err);

#define SG_QA_DIMENSIONS 5
struct sg_store_qa_score {
	const char *sample_id, *period, *ticket_id, *category, *reviewer;
	int dims[SG_QA_DIMENSIONS]; /* factual_accuracy, brand_tone,
				      completeness, compliance,
				      customer_outcome: 1..5 each */
	const char *const *defects;
	size_t ndefects;
	int accurate, reached_customer;
	const char *note;          /* may be NULL */
	int64_t created_ms;
};
/* Stores or replaces the score of a sample; in a transaction. */
int sg_store_qa_score_put(struct sg_store *s, const struct sg_store_qa_score *x,
			  struct sg_error *err);
/* Scored and accurate samples of a period, by category. */
int sg_store_qa_accuracy(struct sg_store *s, const char *period,
			 int (*fn)(const char *category, long scored, long accurate,
				   void *ctx),
			 void *ctx, struct sg_error *err);

struct sg_store_qa_pause {
	char id[SG_ID_LEN];
	char category[SG_QA_NAME_MAX], period[SG_QA_PERIOD_LEN];
	int accuracy_bp, scored;
	int64_t opened_ms, lifted_ms; /* lifted_ms 0: still paused */
	char lifted_by[SG_QA_NAME_MAX];
};
/* In a transaction; 1 when the category was already paused for that
 * period (open or lifted: a lifted pause is not reopened by the same
 * period's figures). */
int sg_store_qa_pause_open(struct sg_store *s, const struct sg_store_qa_pause *p,
			   struct sg_error *err);
/* Lifts the category's open pauses; in a transaction; 1 when none is open. */
int sg_store_qa_pause_lift(struct sg_store *s, const char *category, const char *user,
			   int64_t now_ms, struct sg_error *err);
/* Pauses, newest first (active_only: those not lifted). */
int sg_store_qa_pause_list(struct sg_store *s, int active_only,
			   int (*fn)(const struct sg_store_qa_pause *p, void *ctx),
			   void *ctx, struct sg_error *err);
/* An expansion suggestion; in a transaction; 1 when it exists already. */
int sg_store_qa_suggest(struct sg_store *s, const char *category, const char *period,
			int accuracy_bp, int previous_bp, int64_t now_ms,
			struct sg_error *err);

struct sg_store_qa_incident {
	char id[SG_ID_LEN];
	char ticket_id[SG_QA_NAME_MAX], sample_id[SG_ID_LEN];
	char category[SG_QA_NAME_MAX], state[8];
	int64_t opened_ms, due_ms, closed_ms;
	char closed_by[SG_QA_NAME_MAX];
};
/* In a transaction; 1 when the sample already opened one. */
int sg_store_qa_incident_open(struct sg_store *s, const struct sg_store_qa_incident *x,
			      struct sg_error *err);
/* In a transaction; 1 when no open incident has that id. */
int sg_store_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			       int64_t now_ms, struct sg_error *err);
int sg_store_qa_incident_list(struct sg_store *s, int open_only,
			      int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
			      void *ctx, struct sg_error *err);

/* Grouped counts for the scorecard, each row (key1, key2, n):
 *   APPROVALS    risk tier, action       step-1 approvals in the range
 *   ESCALATIONS  reason, "decision"|"sla"|"review"  escalations opened
 *   GUARDRAILS   type, action            guardrail hits in the range
 *   DEFECTS      tag, ""                 defect tags of the period
 *   BREACHES     level, ""               escalations breached in the range
 *   SUGGESTIONS  category, ""            expansion suggestions of the period
 *   INCIDENTS    state, ""               incidents opened in the range */
enum sg_store_qa_stat {
	SG_QA_STAT_APPROVALS,
	SG_QA_STAT_ESCALATIONS,
	SG_QA_STAT_GUARDRAILS,
	SG_QA_STAT_DEFECTS,
	SG_QA_STAT_BREACHES,
	SG_QA_STAT_SUGGESTIONS,
	SG_QA_STAT_INCIDENTS,
	SG_QA_STAT__COUNT
};
int sg_store_qa_stat(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
		     int64_t to_ms, const char *period,
		     int (*fn)(const char *k1, const char *k2, long n, void *ctx),
		     void *ctx, struct sg_error *err);

/* One row per ticket first seen in [from_ms, to_ms), over all its stored
 * decisions and reviews. */
struct sg_store_qa_ticket {
	const char *ticket_id;
	const char *ai_mode;       /* of its first decision */
	int64_t created_ms;
	int64_t first_reply_ms;    /* first auto-sent reply or human approval; 0: none */
	int64_t last_reply_ms;
	int events, auto_sent, escalated;
	int csat;                  /* 1..5, 0: none */
};
int sg_store_qa_tickets(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			int (*fn)(const struct sg_store_qa_ticket *t, void *ctx),
			void *ctx, struct sg_error *err);
/* The diffs of draft edits made in [from_ms, to_ms). */
int sg_store_qa_edit_diffs(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const char *diff, void *ctx), void *ctx,
			   struct sg_error *err);

#endif
