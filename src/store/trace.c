/*
 * trace.c - a storage backend that wraps another and logs every call with
 * its key arguments, result and duration, one line each. Turned on by the
 * environment variable SOPGATE_STORE_TRACE ("1" or "stderr" for standard
 * error, otherwise a file appended to). Logs carry ids and results, never
 * ticket text or tokens.
 */
#include "store/store_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

struct trace_store {
	struct sg_store base;
	struct sg_store *in;
	FILE *fp;
	int own_fp;
};

static struct trace_store *T(struct sg_store *s)
{
	return (struct trace_store *)s;
}

static uint64_t t0(void)
{
	return sg_mono_ns();
}

static int logrc(struct sg_store *s, uint64_t start, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int logrc(struct sg_store *s, uint64_t start, int rc, const char *fmt, ...)
{
	struct trace_store *t = T(s);
	va_list ap;
	fprintf(t->fp, "store %s: ", t->in->ops->name);
	va_start(ap, fmt);
	vfprintf(t->fp, fmt, ap);
	va_end(ap);
	fprintf(t->fp, " = %d%s%s (%.3f ms)\n", rc, rc < 0 ? " " : "",
		rc < 0 ? sg_error_name(rc) : "", (double)(sg_mono_ns() - start) / 1e6);
	fflush(t->fp);
	return rc;
}

#define IN(s) (T(s)->in)
#define CALL(s, op, ...) IN(s)->ops->op(IN(s), __VA_ARGS__)

static void tr_close(struct sg_store *s)
{
	struct trace_store *t = T(s);
	/* logged first: the wrapped store is gone after its close */
	logrc(s, t0(), 0, "close()");
	t->in->ops->close(t->in);
	if (t->own_fp)
		fclose(t->fp);
	sg_free(t);
}

static int tr_schema_version(struct sg_store *s, int *out, struct sg_error *err)
{
	uint64_t st = t0();
	int rc = CALL(s, schema_version, out, err);
	return logrc(s, st, rc, "schema_version() -> %d", rc < 0 ? -1 : *out);
}

static int tr_begin(struct sg_store *s, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, IN(s)->ops->begin(IN(s), err), "begin()");
}

static int tr_commit(struct sg_store *s, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, IN(s)->ops->commit(IN(s), err), "commit()");
}

static int tr_rollback(struct sg_store *s, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, IN(s)->ops->rollback(IN(s), err), "rollback()");
}

static int tr_savepoint(struct sg_store *s, int op, struct sg_error *err)
{
	uint64_t st = t0();
	static const char *const names[] = {"savepoint", "release", "rollback_to"};
	return logrc(s, st, CALL(s, savepoint, op, err), "%s()", names[op % 3]);
}

static int tr_ticket_write(struct sg_store *s, struct sg_ticket_write *w,
			   struct sg_error *err)
{
	uint64_t st = t0();
	int rc = CALL(s, ticket_write, w, err);
	return logrc(s, st, rc, "ticket_write(ticket=%s, event=%s, actions=%zu) -> %s%s",
		     w->ticket_id, w->event_id, w->nactions, w->decision_id,
		     w->existed ? " (existed)" : "");
}

static int tr_human_action(struct sg_store *s, struct sg_human_action *a,
			   struct sg_error *err)
{
	uint64_t st = t0();
	int rc = CALL(s, human_action, a, err);
	return logrc(s, st, rc, "human_action(ticket=%s, user=%s, action=%s, step=%d)",
		     a->ticket_id, a->user, a->action, a->step);
}

static int tr_audit_append(struct sg_store *s, struct sg_audit_record *r,
			   struct sg_error *err)
{
	uint64_t st = t0();
	int rc = CALL(s, audit_append, r, err);
	return logrc(s, st, rc, "audit_append(action=%s) -> chain %s seq %" PRId64,
		     r->action, r->chain, r->seq);
}

static int tr_audit_anchor(struct sg_store *s, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, IN(s)->ops->audit_anchor(IN(s), err), "audit_anchor()");
}

static int tr_user_insert(struct sg_store *s, const char *name, const char *role,
			  const char *prefix, const char *hash, int64_t now_ms,
			  struct sg_error *err)
{
	uint64_t st = t0();
	int rc = CALL(s, user_insert, name, role, prefix, hash, now_ms, err);
	return logrc(s, st, rc, "user_insert(name=%s, role=%s)", name, role);
}

static int tr_ticket_decision(struct sg_store *s, const char *ticket_id, char **out,
			      struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, ticket_decision, ticket_id, out, err),
		     "ticket_decision(ticket=%s)", ticket_id);
}

static int tr_audit_scan(struct sg_store *s, const char *chain, int64_t since_ms,
			 int (*fn)(const struct sg_audit_record *r, void *ctx),
			 void *ctx, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, audit_scan, chain, since_ms, fn, ctx, err),
		     "audit_scan(chain=%s, since=%" PRId64 ")", chain ? chain : "*", since_ms);
}

static int tr_audit_get(struct sg_store *s, const char *chain, int64_t seq,
			struct sg_audit_record *out, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, audit_get, chain, seq, out, err),
		     "audit_get(chain=%s, seq=%" PRId64 ")", chain, seq);
}

static int tr_outbox_claim(struct sg_store *s, const char *owner, int64_t now_ms,
			   int64_t lease_ms, unsigned max, struct sg_outbox_item **out,
			   size_t *n, struct sg_error *err)
{
	uint64_t st = t0();
	int rc = CALL(s, outbox_claim, owner, now_ms, lease_ms, max, out, n, err);
	return logrc(s, st, rc, "outbox_claim(owner=%s, lease=%" PRId64 "ms, max=%u) -> %zu",
		     owner, lease_ms, max, *n);
}

static int tr_outbox_finish(struct sg_store *s, const char *id, const char *owner,
			    const char *state, int64_t retry_at_ms, int max_attempts,
			    const char *why, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, outbox_finish, id, owner, state, retry_at_ms,
				 max_attempts, why, err),
		     "outbox_finish(id=%s, owner=%s, %s)", id, owner, state);
}

static int tr_outbox_count(struct sg_store *s, const char *state, long *out,
			   struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, outbox_count, state, out, err), "outbox_count(%s)", state);
}

static int tr_outbox_list(struct sg_store *s, const char *state, const char *id,
			  unsigned long limit,
			  int (*fn)(const struct sg_outbox_row *r, void *ctx), void *ctx,
			  struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, outbox_list, state, id, limit, fn, ctx, err),
		     "outbox_list(state=%s, id=%s, limit=%lu)", state ? state : "*",
		     id ? id : "*", limit);
}

static int tr_outbox_retry(struct sg_store *s, const char *id, int64_t now_ms, long *n,
			   struct sg_error *err)
{
	uint64_t st = t0();
	int rc = CALL(s, outbox_retry, id, now_ms, n, err);
	return logrc(s, st, rc, "outbox_retry(id=%s) -> %ld", id ? id : "*", rc < 0 ? 0 : *n);
}

static int tr_outbox_drop(struct sg_store *s, const char *id, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, outbox_drop, id, err), "outbox_drop(id=%s)", id);
}

static int tr_user_list(struct sg_store *s, int (*fn)(const struct sg_store_user *u, void *ctx),
			void *ctx, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, user_list, fn, ctx, err), "user_list()");
}

static int tr_user_by_prefix(struct sg_store *s, const char *prefix, struct sg_store_user *out,
			     char hash[SG_SHA256_HEX], struct sg_error *err)
{
	uint64_t st = t0();
	/* the prefix is a lookup key, not the secret; still, log only its size */
	return logrc(s, st, CALL(s, user_by_prefix, prefix, out, hash, err),
		     "user_by_prefix(%zu chars)", strlen(prefix));
}

static int tr_session_put(struct sg_store *s, const char *sid_hash, const char *user,
			  const char *csrf, int64_t now_ms, int64_t expires_ms,
			  struct sg_error *err)
{
	uint64_t st = t0();
	/* session ids and CSRF tokens are secrets: not logged */
	return logrc(s, st, CALL(s, session_put, sid_hash, user, csrf, now_ms, expires_ms, err),
		     "session_put(user=%s)", user);
}

static int tr_session_get(struct sg_store *s, const char *sid_hash,
			  struct sg_store_user *out, char csrf[SG_STORE_CSRF_LEN],
			  int64_t *expires_ms, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, session_get, sid_hash, out, csrf, expires_ms, err),
		     "session_get()");
}

static int tr_session_del(struct sg_store *s, const char *sid_hash, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, session_del, sid_hash, err), "session_del()");
}

static int tr_escalation_open(struct sg_store *s, const char *id, const char *ticket_id,
			      int level, const char *owner, const char *channel,
			      const char *reason, int64_t now_ms, int64_t due_ms,
			      struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, escalation_open, id, ticket_id, level, owner, channel,
				 reason, now_ms, due_ms, err),
		     "escalation_open(ticket=%s, level=%d, owner=%s, due=%" PRId64 ")",
		     ticket_id, level, owner, due_ms);
}

static int tr_escalation_claim(struct sg_store *s, const char *worker, int64_t now_ms,
			       int64_t lease_ms, unsigned max, struct sg_store_escalation *out,
			       size_t *n, struct sg_error *err)
{
	uint64_t st = t0();
	int rc = CALL(s, escalation_claim, worker, now_ms, lease_ms, max, out, n, err);
	return logrc(s, st, rc, "escalation_claim(worker=%s, max=%u) -> %zu", worker, max, *n);
}

static int tr_escalation_close(struct sg_store *s, const char *id, const char *worker,
			       const char *state, int64_t now_ms, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, escalation_close, id, worker, state, now_ms, err),
		     "escalation_close(id=%s, %s)", id, state);
}

static int tr_view(struct sg_store *s, enum sg_store_view v, const char *key,
		   sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, view, v, key, fn, ctx, err), "view(%d, key=%s)",
		     (int)v, key);
}

static int tr_queue_scan(struct sg_store *s, const struct sg_store_queue_filter *f,
			 sg_store_row_fn fn, void *ctx, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, queue_scan, f, fn, ctx, err),
		     "queue_scan(queue=%s, gate=%s, tier=%s)", f->queue ? f->queue : "*",
		     f->gate ? f->gate : "*", f->tier ? f->tier : "*");
}

static int tr_onboarding_set(struct sg_store *s, const char *name, int on,
			     struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, onboarding_set, name, on, err),
		     "onboarding_set(user=%s, %d)", name, on);
}

static int tr_onboarding_bump(struct sg_store *s, const char *name, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, onboarding_bump, name, err), "onboarding_bump(user=%s)",
		     name);
}

static int tr_onboarding_get(struct sg_store *s, const char *name,
			     struct sg_store_onboarding *out, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, onboarding_get, name, out, err), "onboarding_get(user=%s)",
		     name);
}

static int tr_peer_review_add(struct sg_store *s, const char *decision_id,
			      const char *ticket_id, const char *user, const char *reason,
			      int64_t now_ms, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, peer_review_add, decision_id, ticket_id, user, reason,
				 now_ms, err),
		     "peer_review_add(decision=%s, ticket=%s, user=%s)", decision_id,
		     ticket_id, user);
}

static int tr_peer_review_get(struct sg_store *s, const char *decision_id,
			      struct sg_store_peer_review *out, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, peer_review_get, decision_id, out, err),
		     "peer_review_get(decision=%s)", decision_id);
}

static int tr_shadow_insert(struct sg_store *s, const char *id,
			    const struct sg_store_shadow_diff *d, int64_t now_ms,
			    struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, shadow_insert, id, d, now_ms, err),
		     "shadow_insert(ticket=%s, event=%s, field=%s)", d->ticket_id,
		     d->event_id, d->field);
}

static int tr_counter_add(struct sg_store *s, const char *name, long delta,
			  struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, counter_add, name, delta, err), "counter_add(%s, %ld)",
		     name, delta);
}

static int tr_counter_get(struct sg_store *s, const char *name, long *out,
			  struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, counter_get, name, out, err), "counter_get(%s)", name);
}

static int tr_shadow_fields(struct sg_store *s, const char *shadow_version,
			    int (*fn)(const char *field, long n, void *ctx), void *ctx,
			    struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, shadow_fields, shadow_version, fn, ctx, err),
		     "shadow_fields(%.12s)", shadow_version);
}

static int tr_shadow_scan(struct sg_store *s, const char *shadow_version, unsigned limit,
			  int (*fn)(const struct sg_store_shadow_diff *d, void *ctx),
			  void *ctx, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, shadow_scan, shadow_version, limit, fn, ctx, err),
		     "shadow_scan(%.12s, limit=%u)", shadow_version, limit);
}

/* ---- QA loop: logged by name and key, never with ticket text ----------- */

static int tr_qa_pending(struct sg_store *s, int64_t since_ms, unsigned max,
			 int (*fn)(const struct sg_store_qa_pending *p, void *ctx), void *ctx,
			 struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_pending, since_ms, max, fn, ctx, err),
		     "qa_pending(since=%" PRId64 ", max=%u)", since_ms, max);
}

static int tr_qa_fact_put(struct sg_store *s, const struct sg_store_qa_fact *f,
			  struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_fact_put, f, err), "qa_fact_put(decision=%s)",
		     f->decision_id);
}

static int tr_qa_csat_put(struct sg_store *s, const char *ticket_id, int score, int64_t now_ms,
			  struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_csat_put, ticket_id, score, now_ms, err),
		     "qa_csat_put(ticket=%s, score=%d)", ticket_id, score);
}

static int tr_qa_candidates(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			    int (*fn)(const struct sg_store_qa_candidate *c, void *ctx),
			    void *ctx, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_candidates, from_ms, to_ms, fn, ctx, err),
		     "qa_candidates(%" PRId64 "..%" PRId64 ")", from_ms, to_ms);
}

static int tr_qa_sample_put(struct sg_store *s, const struct sg_store_qa_sample *x,
			    struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_sample_put, x, err), "qa_sample_put(%s, ticket=%s)",
		     x->period, x->ticket_id);
}

static int tr_qa_sample_list(struct sg_store *s, const char *period, const char *id,
			     int (*fn)(const struct sg_store_qa_sample *x, void *ctx),
			     void *ctx, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_sample_list, period, id, fn, ctx, err),
		     "qa_sample_list(period=%s, id=%s)", period ? period : "*", id ? id : "*");
}

static int tr_qa_score_put(struct sg_store *s, const struct sg_store_qa_score *x,
			   struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_score_put, x, err), "qa_score_put(sample=%s)",
		     x->sample_id);
}

static int tr_qa_accuracy(struct sg_store *s, const char *period,
			  int (*fn)(const char *category, long scored, long accurate, void *ctx),
			  void *ctx, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_accuracy, period, fn, ctx, err), "qa_accuracy(%s)",
		     period);
}

static int tr_qa_pause_open(struct sg_store *s, const struct sg_store_qa_pause *p,
			    struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_pause_open, p, err), "qa_pause_open(%s, %s)",
		     p->category, p->period);
}

static int tr_qa_pause_lift(struct sg_store *s, const char *category, const char *user,
			    int64_t now_ms, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_pause_lift, category, user, now_ms, err),
		     "qa_pause_lift(%s, by=%s)", category, user);
}

static int tr_qa_pause_list(struct sg_store *s, int active_only,
			    int (*fn)(const struct sg_store_qa_pause *p, void *ctx), void *ctx,
			    struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_pause_list, active_only, fn, ctx, err),
		     "qa_pause_list(active=%d)", active_only);
}

static int tr_qa_suggest(struct sg_store *s, const char *category, const char *period,
			 int accuracy_bp, int previous_bp, int64_t now_ms, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_suggest, category, period, accuracy_bp, previous_bp,
				 now_ms, err),
		     "qa_suggest(%s, %s)", category, period);
}

static int tr_qa_incident_open(struct sg_store *s, const struct sg_store_qa_incident *x,
			       struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_incident_open, x, err), "qa_incident_open(ticket=%s)",
		     x->ticket_id);
}

static int tr_qa_incident_close(struct sg_store *s, const char *id, const char *user,
				int64_t now_ms, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_incident_close, id, user, now_ms, err),
		     "qa_incident_close(%s, by=%s)", id, user);
}

static int tr_qa_incident_list(struct sg_store *s, int open_only,
			       int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
			       void *ctx, struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_incident_list, open_only, fn, ctx, err),
		     "qa_incident_list(open=%d)", open_only);
}

static int tr_qa_stat(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
		      int64_t to_ms, const char *period,
		      int (*fn)(const char *k1, const char *k2, long n, void *ctx), void *ctx,
		      struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_stat, which, from_ms, to_ms, period, fn, ctx, err),
		     "qa_stat(%d, %s)", (int)which, period);
}

static int tr_qa_tickets(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			 int (*fn)(const struct sg_store_qa_ticket *t, void *ctx), void *ctx,
			 struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_tickets, from_ms, to_ms, fn, ctx, err),
		     "qa_tickets(%" PRId64 "..%" PRId64 ")", from_ms, to_ms);
}

static int tr_qa_edit_diffs(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			    int (*fn)(const char *diff, void *ctx), void *ctx,
			    struct sg_error *err)
{
	uint64_t st = t0();
	return logrc(s, st, CALL(s, qa_edit_diffs, from_ms, to_ms, fn, ctx, err),
		     "qa_edit_diffs(%" PRId64 "..%" PRId64 ")", from_ms, to_ms);
}

static const struct sg_store_ops trace_ops = {
	.name = "trace",
	.version = SG_STORE_OPS_VERSION,
	.caps = 0, /* copied from the wrapped backend at open */
	.close = tr_close,
	.schema_version = tr_schema_version,
	.begin = tr_begin,
	.commit = tr_commit,
	.rollback = tr_rollback,
	.savepoint = tr_savepoint,
	.ticket_write = tr_ticket_write,
	.human_action = tr_human_action,
	.audit_append = tr_audit_append,
	.audit_anchor = tr_audit_anchor,
	.user_insert = tr_user_insert,
	.ticket_decision = tr_ticket_decision,
	.audit_scan = tr_audit_scan,
	.audit_get = tr_audit_get,
	.outbox_claim = tr_outbox_claim,
	.outbox_finish = tr_outbox_finish,
	.outbox_count = tr_outbox_count,
	.outbox_list = tr_outbox_list,
	.outbox_retry = tr_outbox_retry,
	.outbox_drop = tr_outbox_drop,
	.user_list = tr_user_list,
	.user_by_prefix = tr_user_by_prefix,
	.session_put = tr_session_put,
	.session_get = tr_session_get,
	.session_del = tr_session_del,
	.escalation_open = tr_escalation_open,
	.escalation_claim = tr_escalation_claim,
	.escalation_close = tr_escalation_close,
	.view = tr_view,
	.queue_scan = tr_queue_scan,
	.onboarding_set = tr_onboarding_set,
	.onboarding_bump = tr_onboarding_bump,
	.onboarding_get = tr_onboarding_get,
	.peer_review_add = tr_peer_review_add,
	.peer_review_get = tr_peer_review_get,
	.shadow_insert = tr_shadow_insert,
	.counter_add = tr_counter_add,
	.counter_get = tr_counter_get,
	.shadow_fields = tr_shadow_fields,
	.shadow_scan = tr_shadow_scan,
	.qa_pending = tr_qa_pending,
	.qa_fact_put = tr_qa_fact_put,
	.qa_csat_put = tr_qa_csat_put,
	.qa_candidates = tr_qa_candidates,
	.qa_sample_put = tr_qa_sample_put,
	.qa_sample_list = tr_qa_sample_list,
	.qa_score_put = tr_qa_score_put,
	.qa_accuracy = tr_qa_accuracy,
	.qa_pause_open = tr_qa_pause_open,
	.qa_pause_lift = tr_qa_pause_lift,
	.qa_pause_list = tr_qa_pause_list,
	.qa_suggest = tr_qa_suggest,
	.qa_incident_open = tr_qa_incident_open,
	.qa_incident_close = tr_qa_incident_close,
	.qa_incident_list = tr_qa_incident_list,
	.qa_stat = tr_qa_stat,
	.qa_tickets = tr_qa_tickets,
	.qa_edit_diffs = tr_qa_edit_diffs,
};

/* One ops table per wrapped backend, so caps match the inner one. */
struct trace_with_ops {
	struct trace_store t;
	struct sg_store_ops ops;
};

int sg_store_trace_wrap(struct sg_store **out, struct sg_store *inner,
			const char *dest, struct sg_error *err)
{
	*out = NULL;
	struct trace_with_ops *tw = sg_calloc(1, sizeof(*tw));
	if (!tw) {
		inner->ops->close(inner);
		return sg_error_set(err, SG_ENOMEM, "store trace: out of memory");
	}
	tw->ops = trace_ops;
	tw->ops.caps = inner->ops->caps;
	tw->t.base.ops = &tw->ops;
	tw->t.in = inner;
	if (!strcmp(dest, "1") || !strcmp(dest, "stderr")) {
		tw->t.fp = stderr;
	} else {
		tw->t.fp = fopen(dest, "a");
		if (!tw->t.fp) {
			inner->ops->close(inner);
			sg_free(tw);
			return sg_error_set(err, SG_EIO, "store trace: unable to open '%s'", dest);
		}
		tw->t.own_fp = 1;
	}
	fprintf(tw->t.fp, "store %s: open (traced)\n", inner->ops->name);
	*out = &tw->t.base;
	return 0;
}
