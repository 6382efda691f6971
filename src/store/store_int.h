/*
 * store_int.h - the storage ops table, shared by the backends (sqlite.c,
 * later pg.c), the tracing wrapper (trace.c) and the public wrappers
 * (store.c). Not for other modules: they include store/store.h.
 *
 * A backend "subclasses" struct sg_store by placing it first in its own
 * struct. `version` is SG_STORE_OPS_VERSION at build time; sg_store_open
 * refuses a backend built against another version, so a stale backend
 * fails loudly instead of calling through a wrong slot. `caps` names real
 * differences between engines.
 */
#ifndef SG_STORE_STORE_INT_H
#define SG_STORE_STORE_INT_H

#include <jansson.h>

#include "audit/audit.h"
#include "store/store.h"

#define SG_STORE_OPS_VERSION 2

/* caps */
#define SG_STORE_SKIP_LOCKED 0x1u  /* claims may use FOR UPDATE SKIP LOCKED */
#define SG_STORE_MULTI_WRITER 0x2u /* several processes write concurrently */
#define SG_STORE_SAVEPOINT 0x4u    /* nested savepoints inside a transaction */

struct sg_store_ops {
	const char *name;
	unsigned version, caps;

	/* target is the URL without the scheme ("FILE" for sqlite:FILE) */
	int (*open)(struct sg_store **out, const char *target, const char *writer,
		    struct sg_error *err);
	void (*close)(struct sg_store *s);
	int (*schema_version)(struct sg_store *s, int *out, struct sg_error *err);

	int (*begin)(struct sg_store *s, struct sg_error *err);
	int (*commit)(struct sg_store *s, struct sg_error *err);
	int (*rollback)(struct sg_store *s, struct sg_error *err);
	/* op: 0 SAVEPOINT, 1 RELEASE, 2 ROLLBACK TO (+ RELEASE) */
	int (*savepoint)(struct sg_store *s, int op, struct sg_error *err);

	/* inside an open transaction */
	int (*ticket_write)(struct sg_store *s, struct sg_ticket_write *w,
			    struct sg_error *err);
	int (*human_action)(struct sg_store *s, struct sg_human_action *a,
			    struct sg_error *err);
	int (*audit_append)(struct sg_store *s, struct sg_audit_record *r,
			    struct sg_error *err);
	int (*audit_anchor)(struct sg_store *s, struct sg_error *err);
	int (*user_insert)(struct sg_store *s, const char *name, const char *role,
			   const char *prefix, const char *hash, int64_t now_ms,
			   struct sg_error *err);

	/* own statements, no transaction needed */
	int (*ticket_decision)(struct sg_store *s, const char *ticket_id,
			       char **out, struct sg_error *err);
	int (*audit_scan)(struct sg_store *s, const char *chain, int64_t since_ms,
			  int (*fn)(const struct sg_audit_record *r, void *ctx),
			  void *ctx, struct sg_error *err);
	int (*audit_get)(struct sg_store *s, const char *chain, int64_t seq,
			 struct sg_audit_record *out, struct sg_error *err);
	int (*outbox_claim)(struct sg_store *s, const char *owner, int64_t now_ms,
			    int64_t lease_ms, unsigned max,
			    struct sg_outbox_item **out, size_t *n,
			    struct sg_error *err);
	int (*outbox_finish)(struct sg_store *s, const char *id, const char *owner,
			     const char *state, int64_t retry_at_ms,
			     int max_attempts, const char *why,
			     struct sg_error *err);
	int (*outbox_count)(struct sg_store *s, const char *state, long *out,
			    struct sg_error *err);
	int (*outbox_list)(struct sg_store *s, const char *state, const char *id,
			   unsigned long limit,
			   int (*fn)(const struct sg_outbox_row *r, void *ctx), void *ctx,
			   struct sg_error *err);
	/* inside an open transaction; *n rows moved */
	int (*outbox_retry)(struct sg_store *s, const char *id, int64_t now_ms, long *n,
			    struct sg_error *err);
	/* inside an open transaction; 1 when absent or already sent */
	int (*outbox_drop)(struct sg_store *s, const char *id, struct sg_error *err);
	int (*user_list)(struct sg_store *s,
			 int (*fn)(const struct sg_store_user *u, void *ctx), void *ctx,
			 struct sg_error *err);
	int (*session_put)(struct sg_store *s, const char *sid_hash, const char *user,
			   const char *csrf, int64_t now_ms, int64_t expires_ms,
			   struct sg_error *err);
	/* 1 when absent */
	int (*session_get)(struct sg_store *s, const char *sid_hash,
			   struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
			   int64_t *expires_ms, struct sg_error *err);
	int (*session_del)(struct sg_store *s, const char *sid_hash,
			   struct sg_error *err);
	int (*escalation_open)(struct sg_store *s, const char *id,
			       const char *ticket_id, int level, const char *owner,
			       const char *channel, const char *reason,
			       int64_t now_ms, int64_t due_ms, struct sg_error *err);
	int (*escalation_claim)(struct sg_store *s, const char *worker,
				int64_t now_ms, int64_t lease_ms, unsigned max,
				struct sg_store_escalation *out, size_t *n,
				struct sg_error *err);
	/* 1 when not open or leased to another worker */
	int (*escalation_close)(struct sg_store *s, const char *id,
				const char *worker, const char *state,
				int64_t now_ms, struct sg_error *err);
	/* read views (store.h); fn's non-zero return stops the scan */
	int (*view)(struct sg_store *s, enum sg_store_view v, const char *key,
		    sg_store_row_fn fn, void *ctx, struct sg_error *err);
	int (*queue_scan)(struct sg_store *s, const struct sg_store_queue_filter *f,
			  sg_store_row_fn fn, void *ctx, struct sg_error *err);
	/* finds by token prefix; 1 when absent */
	int (*user_by_prefix)(struct sg_store *s, const char *prefix,
			      struct sg_store_user *out, char hash[SG_SHA256_HEX],
			      struct sg_error *err);

	/* onboarding reviewers. In a transaction: onboarding_set (1 when no
	 * such user; on = 1 restarts the ticket count), onboarding_bump,
	 * peer_review_add. Own statements: onboarding_get (1 when absent),
	 * peer_review_get (1 when absent). */
	int (*onboarding_set)(struct sg_store *s, const char *name, int on,
			      struct sg_error *err);
	int (*onboarding_bump)(struct sg_store *s, const char *name,
			       struct sg_error *err);
	int (*onboarding_get)(struct sg_store *s, const char *name,
			      struct sg_store_onboarding *out, struct sg_error *err);
	int (*peer_review_add)(struct sg_store *s, const char *decision_id,
			       const char *ticket_id, const char *user,
			       const char *reason, int64_t now_ms, struct sg_error *err);
	int (*peer_review_get)(struct sg_store *s, const char *decision_id,
			       struct sg_store_peer_review *out, struct sg_error *err);

	/* shadow policy and counters. In a transaction: shadow_insert,
	 * counter_add (creates the counter at delta). Own statements:
	 * counter_get (0 when absent), shadow_fields (GROUP BY field),
	 * shadow_scan. */
	int (*shadow_insert)(struct sg_store *s, const char *id,
			     const struct sg_store_shadow_diff *d, int64_t now_ms,
			     struct sg_error *err);
	int (*counter_add)(struct sg_store *s, const char *name, long delta,
			   struct sg_error *err);
	int (*counter_get)(struct sg_store *s, const char *name, long *out,
			   struct sg_error *err);
	/* Own statement: adds 1 to the counter (created at 1) unless it has
	 * reached limit (>= 1), in one atomic statement; 0 when added, 1 at
	 * the limit. */
	int (*counter_take)(struct sg_store *s, const char *name, long limit,
			    struct sg_error *err);
	int (*shadow_fields)(struct sg_store *s, const char *shadow_version,
			     int (*fn)(const char *field, long n, void *ctx), void *ctx,
			     struct sg_error *err);
	int (*shadow_scan)(struct sg_store *s, const char *shadow_version, unsigned limit,
			   int (*fn)(const struct sg_store_shadow_diff *d, void *ctx),
			   void *ctx, struct sg_error *err);

	/* QA loop: the same contracts as the sg_store_qa_* wrappers, which
	 * check arguments first */
	int (*qa_pending)(struct sg_store *s, int64_t since_ms, unsigned max,
			  int (*fn)(const struct sg_store_qa_pending *p, void *ctx),
			  void *ctx, struct sg_error *err);
	int (*qa_fact_put)(struct sg_store *s, const struct sg_store_qa_fact *f,
			   struct sg_error *err);
	int (*qa_csat_put)(struct sg_store *s, const char *ticket_id, int score,
			   int64_t now_ms, struct sg_error *err);
	int (*qa_candidates)(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			     int (*fn)(const struct sg_store_qa_candidate *c, void *ctx),
			     void *ctx, struct sg_error *err);
	int (*qa_sample_put)(struct sg_store *s, const struct sg_store_qa_sample *x,
			     struct sg_error *err);
	int (*qa_sample_list)(struct sg_store *s, const char *period, const char *id,
			      int (*fn)(const struct sg_store_qa_sample *x, void *ctx),
			      void *ctx, struct sg_error *err);
	int (*qa_score_put)(struct sg_store *s, const struct sg_store_qa_score *x,
			    struct sg_error *err);
	int (*qa_accuracy)(struct sg_store *s, const char *period,
			   int (*fn)(const char *category, long scored, long accurate,
				     void *ctx),
			   void *ctx, struct sg_error *err);
	int (*qa_pause_open)(struct sg_store *s, const struct sg_store_qa_pause *p,
			     struct sg_error *err);
	int (*qa_pause_lift)(struct sg_store *s, const char *category, const char *user,
			     int64_t now_ms, struct sg_error *err);
	int (*qa_pause_list)(struct sg_store *s, int active_only,
			     int (*fn)(const struct sg_store_qa_pause *p, void *ctx),
			     void *ctx, struct sg_error *err);
	int (*qa_suggest)(struct sg_store *s, const char *category, const char *period,
			  int accuracy_bp, int previous_bp, int64_t now_ms,
			  struct sg_error *err);
	int (*qa_incident_open)(struct sg_store *s, const struct sg_store_qa_incident *x,
				struct sg_error *err);
	int (*qa_incident_close)(struct sg_store *s, const char *id, const char *user,
				 int64_t now_ms, struct sg_error *err);
	int (*qa_incident_list)(struct sg_store *s, int open_only,
				int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
				void *ctx, struct sg_error *err);
	int (*qa_stat)(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
		       int64_t to_ms, const char *period,
		       int (*fn)(const char *k1, const char *k2, long n, void *ctx),
		       void *ctx, struct sg_error *err);
	int (*qa_tickets)(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			  int (*fn)(const struct sg_store_qa_ticket *t, void *ctx),
			  void *ctx, struct sg_error *err);
	int (*qa_edit_diffs)(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			     int (*fn)(const char *diff, void *ctx), void *ctx,
			     struct sg_error *err);
};

struct sg_store {
	const struct sg_store_ops *ops;
};

/* With several writers (PostgreSQL), a transaction that lost a deadlock,
 * a serialization check or a unique-key race comes back as -SG_ECONFLICT
 * and is run again from the start, up to this many times. */
#define SG_STORE_TX_TRIES 5
/* A name or id handed in: present, not too long, no control characters;
 * the error names `what` (store.c). */
int sg_store_check_name(const char *what, const char *s, struct sg_error *err);
/* Runs fn(s, arg) inside BEGIN ... COMMIT, rolling back on failure and
 * rerunning conflicts on several-writer backends (store.c). */
int sg_store_in_tx(struct sg_store *s, int (*fn)(struct sg_store *, void *, struct sg_error *),
		   void *arg, struct sg_error *err);
/* Sets key to the string v, or null when v is NULL (store.c). */
int sg_store_json_str(json_t *o, const char *key, const char *v);
/* Appends an audit record with a JSON body (the caller keeps it) to this
 * connection's chain, in the open transaction (store.c). */
int sg_store_append_audit(struct sg_store *s, const char *actor, const char *action,
			  const char *ticket_id, json_t *body, struct sg_error *err);
/* 1 when rc is such a conflict on a backend with several writers (store.c). */
int sg_store_retryable(const struct sg_store *s, int rc);
/* A ticket write's rows and audit record, in the caller's transaction
 * (store.c; the group committer runs it inside its savepoints). */
int sg_store_write_in_tx(struct sg_store *s, struct sg_ticket_write *w,
			 struct sg_error *err);

extern const struct sg_store_ops sg_store_sqlite_ops;
extern const struct sg_store_ops sg_store_postgres_ops;

/* Wraps inner in the tracing backend writing to fp; on failure closes
 * inner and returns the error. */
int sg_store_trace_wrap(struct sg_store **out, struct sg_store *inner,
			const char *dest, struct sg_error *err);

/* Schema migrations (schema.c), in portable SQL. */
struct sg_migration {
	int version;
	const char *name;
	const char *sql; /* several statements, run in one transaction */
};
extern const struct sg_migration sg_store_migrations[];
extern const int sg_store_nmigrations;
#define SG_SCHEMA_LATEST (sg_store_nmigrations)

#endif
