/*
 * postgres_qa.c - the PostgreSQL backend's QA and rollout tables:
 * onboarding reviewers and peer reviews, shadow policy results, counters,
 * and the QA loop (facts, CSAT, samples, scores, pauses, incidents,
 * statistics).
 */
#include "store/postgres_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

/* ---- onboarding reviewers, shadow policy, counters ------------------- */

int pg_onboarding_set(struct sg_store *s, const char *name, int on,
		      struct sg_error *err)
{
	struct params p = {0};
	long changed = 0;
	pg_param_int(&p, on);
	pg_param_int(&p, on);
	pg_param_text(&p, name);
	int rc = pg_run(pg_of(s), ST_ONB_SET, &p, &changed, err);
	return rc < 0 ? rc : changed ? 0 : 1;
}

int pg_onboarding_bump(struct sg_store *s, const char *name, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, name);
	return pg_run(pg_of(s), ST_ONB_BUMP, &p, NULL, err);
}

int pg_onboarding_get(struct sg_store *s, const char *name,
		      struct sg_store_onboarding *out, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, name);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_ONB_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	out->onboarding = (int)pg_col_int(res, 0, 0);
	out->tickets = (long)pg_col_int(res, 0, 1);
	PQclear(res);
	return 0;
}

int pg_peer_review_add(struct sg_store *s, const char *decision_id,
		       const char *ticket_id, const char *user, const char *reason,
		       int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, decision_id);
	pg_param_text(&p, ticket_id);
	pg_param_text(&p, user);
	pg_param_text(&p, reason);
	pg_param_int(&p, now_ms);
	return pg_run(pg_of(s), ST_PEER_ADD, &p, NULL, err);
}

int pg_peer_review_get(struct sg_store *s, const char *decision_id,
		       struct sg_store_peer_review *out, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, decision_id);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_PEER_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 1;
	}
	snprintf(out->user, sizeof(out->user), "%s", pg_col_text(res, 0, 0));
	snprintf(out->reason, sizeof(out->reason), "%s", pg_col_text(res, 0, 1));
	out->created_ms = pg_col_int(res, 0, 2);
	PQclear(res);
	return 0;
}

int pg_shadow_insert(struct sg_store *s, const char *id,
		     const struct sg_store_shadow_diff *d, int64_t now_ms,
		     struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, id);
	pg_param_text(&p, d->ticket_id);
	pg_param_text(&p, d->event_id);
	pg_param_text(&p, d->live_version);
	pg_param_text(&p, d->shadow_version);
	pg_param_text(&p, d->field);
	pg_param_text(&p, d->live_value);
	pg_param_text(&p, d->shadow_value);
	pg_param_int(&p, now_ms);
	return pg_run(pg_of(s), ST_SHADOW_INSERT, &p, NULL, err);
}

int pg_counter_add(struct sg_store *s, const char *name, long delta,
		   struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, name);
	pg_param_int(&p, delta);
	return pg_run(pg_of(s), ST_COUNTER_ADD, &p, NULL, err);
}

/* ON CONFLICT DO UPDATE locks the row and checks the WHERE against its
 * latest value, so concurrent takers never pass the limit; a skipped
 * update reports 0 rows. */
int pg_counter_take(struct sg_store *s, const char *name, long limit,
		    struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, name);
	pg_param_int(&p, limit);
	long changed = 0;
	int rc = pg_run(pg_of(s), ST_COUNTER_TAKE, &p, &changed, err);
	return rc < 0 ? rc : changed ? 0 : 1;
}

int pg_counter_get(struct sg_store *s, const char *name, long *out,
		   struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, name);
	PGresult *res;
	*out = 0;
	int rc = pg_exec_st(pg_of(s), ST_COUNTER_GET, &p, &res, err);
	if (rc < 0)
		return rc;
	if (PQntuples(res) > 0)
		*out = (long)pg_col_int(res, 0, 0);
	PQclear(res);
	return 0;
}

int pg_shadow_fields(struct sg_store *s, const char *shadow_version,
		     int (*fn)(const char *field, long n, void *ctx), void *ctx,
		     struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, shadow_version);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_SHADOW_FIELDS, &p, &res, err);
	if (rc < 0)
		return rc;
	int frc = 0;
	for (int i = 0; i < PQntuples(res) && !frc; i++)
		frc = fn(pg_col_text(res, i, 0), (long)pg_col_int(res, i, 1), ctx);
	PQclear(res);
	return frc < 0 ? frc : 0;
}

int pg_shadow_scan(struct sg_store *s, const char *shadow_version, unsigned limit,
		   int (*fn)(const struct sg_store_shadow_diff *d, void *ctx),
		   void *ctx, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, shadow_version);
	pg_param_int(&p, limit);
	PGresult *res;
	int rc = pg_exec_st(pg_of(s), ST_SHADOW_SCAN, &p, &res, err);
	if (rc < 0)
		return rc;
	int frc = 0;
	for (int i = 0; i < PQntuples(res) && !frc; i++) {
		struct sg_store_shadow_diff d = {
			pg_col_text(res, i, 0), pg_col_text(res, i, 1), pg_col_text(res, i, 2),
			pg_col_text(res, i, 3), pg_col_text(res, i, 4), pg_col_text(res, i, 5),
			pg_col_text(res, i, 6), pg_col_int(res, i, 7)};
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
	int rc = pg_exec_st(q, which, p, &res, err), frc = 0;
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
	int rc = pg_run(q, which, p, &changed, err);
	return rc < 0 ? rc : changed ? 0 : 1;
}

struct pg_cb {
	void (*fn)(void);
	void *ctx;
};

#define CB(type) ((type)c->fn)
#define PCOPY(dst, res, i, col) snprintf((dst), sizeof(dst), "%s", pg_col_text((res), (i), (col)))

static int pending_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_pending x = {
		pg_col_text(res, i, 0), pg_col_text(res, i, 1), pg_col_text(res, i, 2), pg_col_text(res, i, 3),
		pg_col_text(res, i, 4), pg_col_text(res, i, 5), pg_col_int(res, i, 6), pg_col_int(res, i, 7)};
	return CB(int (*)(const struct sg_store_qa_pending *, void *))(&x, c->ctx);
}

int pg_qa_pending(struct sg_store *s, int64_t since_ms, unsigned max,
		  int (*fn)(const struct sg_store_qa_pending *p, void *ctx), void *ctx,
		  struct sg_error *err)
{
	struct params p = {0};
	pg_param_int(&p, since_ms);
	pg_param_int(&p, max);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(pg_of(s), ST_QA_PENDING, &p, pending_row, &c, err);
}

int pg_qa_fact_put(struct sg_store *s, const struct sg_store_qa_fact *f,
		   struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, f->decision_id);
	pg_param_text(&p, f->ticket_id);
	pg_param_int(&p, f->ticket_created_ms);
	pg_param_int(&p, f->created_ms);
	pg_param_text(&p, f->intent);
	pg_param_text(&p, f->risk_tier);
	pg_param_text(&p, f->gate);
	pg_param_text(&p, f->ai_mode);
	pg_param_int(&p, f->ai_draft_sent);
	pg_param_int(&p, f->escalated);
	pg_param_text(&p, f->escalation_reason);
	pg_param_text(&p, f->guardrail_action);
	int rc = qa_write(pg_of(s), ST_QA_FACT_PUT, &p, err);
	if (rc)
		return rc < 0 ? rc : 0;
	for (size_t i = 0; i < f->ntypes; i++) {
		struct params g = {0};
		pg_param_text(&g, f->decision_id);
		pg_param_int(&g, f->created_ms);
		pg_param_text(&g, f->guardrail_types[i]);
		pg_param_text(&g, f->guardrail_action);
		if ((rc = qa_write(pg_of(s), ST_QA_GUARD_PUT, &g, err)) < 0)
			return rc;
	}
	return 0;
}

int pg_qa_csat_put(struct sg_store *s, const char *ticket_id, int score, int64_t now_ms,
		   struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, ticket_id);
	pg_param_int(&p, score);
	pg_param_int(&p, now_ms);
	int rc = qa_write(pg_of(s), ST_QA_CSAT_PUT, &p, err);
	return rc < 0 ? rc : 0;
}

static int candidate_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_candidate x = {pg_col_text(res, i, 0), pg_col_text(res, i, 1),
					  pg_col_text(res, i, 2), pg_col_text(res, i, 3),
					  pg_col_int(res, i, 4)};
	return CB(int (*)(const struct sg_store_qa_candidate *, void *))(&x, c->ctx);
}

int pg_qa_candidates(struct sg_store *s, int64_t from_ms, int64_t to_ms,
		     int (*fn)(const struct sg_store_qa_candidate *c, void *ctx), void *ctx,
		     struct sg_error *err)
{
	struct params p = {0};
	pg_param_int(&p, from_ms);
	pg_param_int(&p, to_ms);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(pg_of(s), ST_QA_CANDIDATES, &p, candidate_row, &c, err);
}

int pg_qa_sample_put(struct sg_store *s, const struct sg_store_qa_sample *x,
		     struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, x->id);
	pg_param_text(&p, x->period);
	pg_param_text(&p, x->ticket_id);
	pg_param_text(&p, x->decision_id);
	pg_param_text(&p, x->category);
	pg_param_text(&p, x->kind);
	pg_param_int(&p, x->reached_customer);
	pg_param_int(&p, x->seed);
	pg_param_int(&p, x->created_ms);
	return qa_write(pg_of(s), ST_QA_SAMPLE_PUT, &p, err);
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
	x.reached_customer = (int)pg_col_int(res, i, 6);
	x.seed = pg_col_int(res, i, 7);
	x.created_ms = pg_col_int(res, i, 8);
	x.scored = !PQgetisnull(res, i, 9);
	x.accurate = (int)pg_col_int(res, i, 9);
	PCOPY(x.reviewer, res, i, 10);
	return CB(int (*)(const struct sg_store_qa_sample *, void *))(&x, c->ctx);
}

int pg_qa_sample_list(struct sg_store *s, const char *period, const char *id,
		      int (*fn)(const struct sg_store_qa_sample *x, void *ctx), void *ctx,
		      struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, period);
	pg_param_text(&p, id);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(pg_of(s), ST_QA_SAMPLE_LIST, &p, sample_row, &c, err);
}

int pg_qa_score_put(struct sg_store *s, const struct sg_store_qa_score *x,
		    struct sg_error *err)
{
	char tags[SG_QA_NAME_MAX * 4] = "";
	for (size_t i = 0; i < x->ndefects; i++) {
		size_t l = strlen(tags);
		snprintf(tags + l, sizeof(tags) - l, "%s%s", i ? "," : "", x->defects[i]);
	}
	struct params p = {0};
	pg_param_text(&p, x->sample_id);
	pg_param_text(&p, x->period);
	pg_param_text(&p, x->ticket_id);
	pg_param_text(&p, x->category);
	pg_param_text(&p, x->reviewer);
	for (int i = 0; i < SG_QA_DIMENSIONS; i++)
		pg_param_int(&p, x->dims[i]);
	pg_param_text(&p, tags);
	pg_param_int(&p, x->accurate);
	pg_param_int(&p, x->reached_customer);
	pg_param_text(&p, x->note);
	pg_param_int(&p, x->created_ms);
	int rc = qa_write(pg_of(s), ST_QA_SCORE_PUT, &p, err);
	if (rc < 0)
		return rc;
	struct params d = {0};
	pg_param_text(&d, x->sample_id);
	if ((rc = qa_write(pg_of(s), ST_QA_DEFECTS_DEL, &d, err)) < 0)
		return rc;
	for (size_t i = 0; i < x->ndefects; i++) {
		struct params t = {0};
		pg_param_text(&t, x->sample_id);
		pg_param_text(&t, x->period);
		pg_param_text(&t, x->defects[i]);
		if ((rc = qa_write(pg_of(s), ST_QA_DEFECT_PUT, &t, err)) < 0)
			return rc;
	}
	return 0;
}

static int accuracy_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	return CB(int (*)(const char *, long, long, void *))(
		pg_col_text(res, i, 0), (long)pg_col_int(res, i, 1), (long)pg_col_int(res, i, 2), c->ctx);
}

int pg_qa_accuracy(struct sg_store *s, const char *period,
		   int (*fn)(const char *category, long scored, long accurate, void *ctx),
		   void *ctx, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, period);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(pg_of(s), ST_QA_ACCURACY, &p, accuracy_row, &c, err);
}

int pg_qa_pause_open(struct sg_store *s, const struct sg_store_qa_pause *x,
		     struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, x->id);
	pg_param_text(&p, x->category);
	pg_param_text(&p, x->period);
	pg_param_int(&p, x->accuracy_bp);
	pg_param_int(&p, x->scored);
	pg_param_int(&p, x->opened_ms);
	return qa_write(pg_of(s), ST_QA_PAUSE_OPEN, &p, err);
}

int pg_qa_pause_lift(struct sg_store *s, const char *category, const char *user,
		     int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	pg_param_int(&p, now_ms);
	pg_param_text(&p, user);
	pg_param_text(&p, category);
	return qa_write(pg_of(s), ST_QA_PAUSE_LIFT, &p, err);
}

static int pause_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_pause x;
	memset(&x, 0, sizeof(x));
	PCOPY(x.id, res, i, 0);
	PCOPY(x.category, res, i, 1);
	PCOPY(x.period, res, i, 2);
	x.accuracy_bp = (int)pg_col_int(res, i, 3);
	x.scored = (int)pg_col_int(res, i, 4);
	x.opened_ms = pg_col_int(res, i, 5);
	x.lifted_ms = pg_col_int(res, i, 6);
	PCOPY(x.lifted_by, res, i, 7);
	return CB(int (*)(const struct sg_store_qa_pause *, void *))(&x, c->ctx);
}

int pg_qa_pause_list(struct sg_store *s, int active_only,
		     int (*fn)(const struct sg_store_qa_pause *p, void *ctx), void *ctx,
		     struct sg_error *err)
{
	struct params p = {0};
	pg_param_int(&p, active_only ? 1 : 0);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(pg_of(s), ST_QA_PAUSE_LIST, &p, pause_row, &c, err);
}

int pg_qa_suggest(struct sg_store *s, const char *category, const char *period,
		  int accuracy_bp, int previous_bp, int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, category);
	pg_param_text(&p, period);
	pg_param_int(&p, accuracy_bp);
	pg_param_int(&p, previous_bp);
	pg_param_int(&p, now_ms);
	return qa_write(pg_of(s), ST_QA_SUGGEST, &p, err);
}

int pg_qa_incident_open(struct sg_store *s, const struct sg_store_qa_incident *x,
			struct sg_error *err)
{
	struct params p = {0};
	pg_param_text(&p, x->id);
	pg_param_text(&p, x->ticket_id);
	pg_param_text(&p, x->sample_id);
	pg_param_text(&p, x->category);
	pg_param_int(&p, x->opened_ms);
	pg_param_int(&p, x->due_ms);
	return qa_write(pg_of(s), ST_QA_INC_OPEN, &p, err);
}

int pg_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			 int64_t now_ms, struct sg_error *err)
{
	struct params p = {0};
	pg_param_int(&p, now_ms);
	pg_param_text(&p, user);
	pg_param_text(&p, id);
	return qa_write(pg_of(s), ST_QA_INC_CLOSE, &p, err);
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
	x.opened_ms = pg_col_int(res, i, 5);
	x.due_ms = pg_col_int(res, i, 6);
	x.closed_ms = pg_col_int(res, i, 7);
	PCOPY(x.closed_by, res, i, 8);
	return CB(int (*)(const struct sg_store_qa_incident *, void *))(&x, c->ctx);
}

int pg_qa_incident_list(struct sg_store *s, int open_only,
			int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
			void *ctx, struct sg_error *err)
{
	struct params p = {0};
	pg_param_int(&p, open_only ? 1 : 0);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(pg_of(s), ST_QA_INC_LIST, &p, incident_row, &c, err);
}

static int stat_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	return CB(int (*)(const char *, const char *, long, void *))(
		pg_col_text(res, i, 0), pg_col_text(res, i, 1), (long)pg_col_int(res, i, 2), c->ctx);
}

int pg_qa_stat(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
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
		pg_param_text(&p, period);
	} else {
		pg_param_int(&p, from_ms);
		pg_param_int(&p, to_ms);
	}
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(pg_of(s), which_st[which], &p, stat_row, &c, err);
}

static int ticket_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	struct sg_store_qa_ticket t;
	memset(&t, 0, sizeof(t));
	t.ticket_id = pg_col_text(res, i, 0);
	t.created_ms = pg_col_int(res, i, 1);
	t.events = (int)pg_col_int(res, i, 2);
	t.auto_sent = (int)pg_col_int(res, i, 3);
	t.escalated = (int)pg_col_int(res, i, 4);
	int64_t first_auto = pg_col_int(res, i, 5), last_auto = pg_col_int(res, i, 6);
	int64_t first_h = pg_col_int(res, i, 7), last_h = pg_col_int(res, i, 8);
	t.first_reply_ms = first_auto && (!first_h || first_auto < first_h) ? first_auto : first_h;
	t.last_reply_ms = last_auto > last_h ? last_auto : last_h;
	t.ai_mode = pg_col_text(res, i, 9);
	t.csat = (int)pg_col_int(res, i, 10);
	return CB(int (*)(const struct sg_store_qa_ticket *, void *))(&t, c->ctx);
}

int pg_qa_tickets(struct sg_store *s, int64_t from_ms, int64_t to_ms,
		  int (*fn)(const struct sg_store_qa_ticket *t, void *ctx), void *ctx,
		  struct sg_error *err)
{
	struct params p = {0};
	pg_param_int(&p, from_ms);
	pg_param_int(&p, to_ms);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(pg_of(s), ST_QA_TICKETS, &p, ticket_row, &c, err);
}

static int diff_row(const PGresult *res, int i, void *arg)
{
	struct pg_cb *c = arg;
	return CB(int (*)(const char *, void *))(pg_col_text(res, i, 0), c->ctx);
}

int pg_qa_edit_diffs(struct sg_store *s, int64_t from_ms, int64_t to_ms,
		     int (*fn)(const char *diff, void *ctx), void *ctx,
		     struct sg_error *err)
{
	struct params p = {0};
	pg_param_int(&p, from_ms);
	pg_param_int(&p, to_ms);
	struct pg_cb c = {(void (*)(void))fn, ctx};
	return qa_rows(pg_of(s), ST_QA_EDIT_DIFFS, &p, diff_row, &c, err);
}

#undef CB
#undef PCOPY
