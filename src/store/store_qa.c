/*
 * store_qa.c - the QA loop's store calls (samples, scores, pauses,
 * incidents, CSAT, scorecard reads): argument checks, then the backend's
 * ops, in their own transaction where they write.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "store/store_int.h"
#include "core/banned.h"

/* ---- QA loop ------------------------------------------------------------ */

static int check_period(const char *period, struct sg_error *err)
{
	if (!period || !period[0] || strlen(period) >= SG_QA_PERIOD_LEN)
		return sg_error_set(err, SG_EINVALID, "period '%s': expected a week like 2026-W49",
				    period ? period : "");
	return 0;
}

int sg_store_qa_pending(struct sg_store *s, int64_t since_ms, unsigned max,
			int (*fn)(const struct sg_store_qa_pending *p, void *ctx),
			void *ctx, struct sg_error *err)
{
	if (max == 0)
		return sg_error_set(err, SG_EINVALID, "qa pending: max must be positive");
	return s->ops->qa_pending(s, since_ms, max, fn, ctx, err);
}

int sg_store_qa_fact_put(struct sg_store *s, const struct sg_store_qa_fact *f,
			 struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_check_name("decision id", f->decision_id, err)) < 0 ||
	    (rc = sg_store_check_name("ticket_id", f->ticket_id, err)) < 0)
		return rc;
	return s->ops->qa_fact_put(s, f, err);
}

int sg_store_qa_csat_put(struct sg_store *s, const char *ticket_id, int score,
			 int64_t now_ms, struct sg_error *err)
{
	int rc = sg_store_check_name("ticket_id", ticket_id, err);
	if (rc < 0)
		return rc;
	if (score < 1 || score > 5)
		return sg_error_set(err, SG_EINVALID, "field 'score': %d is not 1..5", score);
	return s->ops->qa_csat_put(s, ticket_id, score, now_ms ? now_ms : sg_now_ms(), err);
}

int sg_store_qa_candidates(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const struct sg_store_qa_candidate *c, void *ctx),
			   void *ctx, struct sg_error *err)
{
	return s->ops->qa_candidates(s, from_ms, to_ms, fn, ctx, err);
}

int sg_store_qa_sample_put(struct sg_store *s, const struct sg_store_qa_sample *x,
			   struct sg_error *err)
{
	int rc;
	if ((rc = check_period(x->period, err)) < 0 ||
	    (rc = sg_store_check_name("ticket_id", x->ticket_id, err)) < 0 ||
	    (rc = sg_store_check_name("category", x->category, err)) < 0)
		return rc;
	if (strcmp(x->kind, "ai") && strcmp(x->kind, "human"))
		return sg_error_set(err, SG_EINVALID, "sample kind '%s': expected ai or human",
				    x->kind);
	return s->ops->qa_sample_put(s, x, err);
}

int sg_store_qa_sample_list(struct sg_store *s, const char *period,
			    int (*fn)(const struct sg_store_qa_sample *x, void *ctx),
			    void *ctx, struct sg_error *err)
{
	return s->ops->qa_sample_list(s, period, NULL, fn, ctx, err);
}

static int sample_copy(const struct sg_store_qa_sample *x, void *ctx)
{
	*(struct sg_store_qa_sample *)ctx = *x;
	return 1;
}

int sg_store_qa_sample_get(struct sg_store *s, const char *id,
			   struct sg_store_qa_sample *out, struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc = sg_store_check_name("sample id", id, err);
	if (rc < 0)
		return rc;
	if ((rc = s->ops->qa_sample_list(s, NULL, id, sample_copy, out, err)) < 0)
		return rc;
	return out->id[0] ? 0 : 1;
}

int sg_store_qa_score_put(struct sg_store *s, const struct sg_store_qa_score *x,
			  struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_check_name("sample id", x->sample_id, err)) < 0 ||
	    (rc = sg_store_check_name("reviewer", x->reviewer, err)) < 0 ||
	    (rc = check_period(x->period, err)) < 0)
		return rc;
	for (int i = 0; i < SG_QA_DIMENSIONS; i++)
		if (x->dims[i] < 1 || x->dims[i] > 5)
			return sg_error_set(err, SG_EINVALID, "score dimension %d: %d is not 1..5",
					    i + 1, x->dims[i]);
	return s->ops->qa_score_put(s, x, err);
}

int sg_store_qa_accuracy(struct sg_store *s, const char *period,
			 int (*fn)(const char *category, long scored, long accurate,
				   void *ctx),
			 void *ctx, struct sg_error *err)
{
	int rc = check_period(period, err);
	return rc < 0 ? rc : s->ops->qa_accuracy(s, period, fn, ctx, err);
}

int sg_store_qa_pause_open(struct sg_store *s, const struct sg_store_qa_pause *p,
			   struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_check_name("category", p->category, err)) < 0 ||
	    (rc = check_period(p->period, err)) < 0)
		return rc;
	return s->ops->qa_pause_open(s, p, err);
}

int sg_store_qa_pause_lift(struct sg_store *s, const char *category, const char *user,
			   int64_t now_ms, struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_check_name("category", category, err)) < 0 ||
	    (rc = sg_store_check_name("user", user, err)) < 0)
		return rc;
	return s->ops->qa_pause_lift(s, category, user, now_ms ? now_ms : sg_now_ms(), err);
}

int sg_store_qa_pause_list(struct sg_store *s, int active_only,
			   int (*fn)(const struct sg_store_qa_pause *p, void *ctx),
			   void *ctx, struct sg_error *err)
{
	return s->ops->qa_pause_list(s, active_only, fn, ctx, err);
}

int sg_store_qa_suggest(struct sg_store *s, const char *category, const char *period,
			int accuracy_bp, int previous_bp, int64_t now_ms,
			struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_check_name("category", category, err)) < 0 ||
	    (rc = check_period(period, err)) < 0)
		return rc;
	return s->ops->qa_suggest(s, category, period, accuracy_bp, previous_bp,
				  now_ms ? now_ms : sg_now_ms(), err);
}

int sg_store_qa_incident_open(struct sg_store *s, const struct sg_store_qa_incident *x,
			      struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_check_name("ticket_id", x->ticket_id, err)) < 0 ||
	    (rc = sg_store_check_name("sample id", x->sample_id, err)) < 0)
		return rc;
	return s->ops->qa_incident_open(s, x, err);
}

int sg_store_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			       int64_t now_ms, struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_check_name("incident id", id, err)) < 0 ||
	    (rc = sg_store_check_name("user", user, err)) < 0)
		return rc;
	return s->ops->qa_incident_close(s, id, user, now_ms ? now_ms : sg_now_ms(), err);
}

int sg_store_qa_incident_list(struct sg_store *s, int open_only,
			      int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
			      void *ctx, struct sg_error *err)
{
	return s->ops->qa_incident_list(s, open_only, fn, ctx, err);
}

int sg_store_qa_stat(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
		     int64_t to_ms, const char *period,
		     int (*fn)(const char *k1, const char *k2, long n, void *ctx),
		     void *ctx, struct sg_error *err)
{
	if ((unsigned)which >= SG_QA_STAT__COUNT)
		return sg_error_set(err, SG_EINVALID, "unknown scorecard count %d", (int)which);
	return s->ops->qa_stat(s, which, from_ms, to_ms, period ? period : "", fn, ctx, err);
}

int sg_store_qa_tickets(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			int (*fn)(const struct sg_store_qa_ticket *t, void *ctx),
			void *ctx, struct sg_error *err)
{
	return s->ops->qa_tickets(s, from_ms, to_ms, fn, ctx, err);
}

int sg_store_qa_edit_diffs(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			   int (*fn)(const char *diff, void *ctx), void *ctx,
			   struct sg_error *err)
{
	return s->ops->qa_edit_diffs(s, from_ms, to_ms, fn, ctx, err);
}
