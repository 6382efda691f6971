/*
 * sqlite_qa.c - the SQLite backend's QA and rollout tables: onboarding
 * reviewers and peer reviews, shadow policy results, counters, and the QA
 * loop (facts, CSAT, samples, scores, pauses, incidents, statistics).
 */
#include "store/sqlite_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

/* ---- onboarding reviewers -------------------------------------------- */

/* Runs a statement with text/int arguments ("t" text, "i" int, "l" int64)
 * that returns no rows; sets *changes when not NULL. */
static int run_args(struct sqlite_store *q, int which, int *changes, struct sg_error *err,
		    const char *types, ...)
{
	sqlite3_stmt *st = sqlite_stmt(q, which, err);
	if (!st)
		return -SG_ESTORE;
	va_list ap;
	va_start(ap, types);
	for (int i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite_bind_text(st, i + 1, va_arg(ap, const char *));
		else if (types[i] == 'i')
			sqlite3_bind_int(st, i + 1, va_arg(ap, int));
		else
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
	}
	va_end(ap);
	int rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, sqlite_statement_sql[which]);
	if (changes)
		*changes = sqlite3_changes(q->db);
	return 0;
}

int sqlite_onboarding_set(struct sg_store *s, const char *name, int on,
			  struct sg_error *err)
{
	int changes = 0;
	int rc = run_args(sqlite_of(s), ST_ONB_SET, &changes, err, "iit", on, on, name);
	return rc < 0 ? rc : changes ? 0 : 1;
}

int sqlite_onboarding_bump(struct sg_store *s, const char *name, struct sg_error *err)
{
	return run_args(sqlite_of(s), ST_ONB_BUMP, NULL, err, "t", name);
}

int sqlite_onboarding_get(struct sg_store *s, const char *name,
			  struct sg_store_onboarding *out, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_ONB_GET, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->onboarding = sqlite3_column_int(st, 0);
		out->tickets = (long)sqlite3_column_int64(st, 1);
	}
	sqlite_done(st);
	if (rc == SQLITE_DONE)
		return 1;
	return rc == SQLITE_ROW ? 0 : sqlite_fail(q, err, "reading the onboarding state");
}

int sqlite_peer_review_add(struct sg_store *s, const char *decision_id,
			   const char *ticket_id, const char *user, const char *reason,
			   int64_t now_ms, struct sg_error *err)
{
	return run_args(sqlite_of(s), ST_PEER_ADD, NULL, err, "ttttl", decision_id, ticket_id, user,
			reason, now_ms);
}

int sqlite_peer_review_get(struct sg_store *s, const char *decision_id,
			   struct sg_store_peer_review *out, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_PEER_GET, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, decision_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->user, sizeof(out->user), "%s", sqlite_col_text(st, 0));
		snprintf(out->reason, sizeof(out->reason), "%s", sqlite_col_text(st, 1));
		out->created_ms = sqlite3_column_int64(st, 2);
	}
	sqlite_done(st);
	if (rc == SQLITE_DONE)
		return 1;
	return rc == SQLITE_ROW ? 0 : sqlite_fail(q, err, "reading the peer review");
}

/* ---- shadow policy and counters ------------------------------------- */

int sqlite_shadow_insert(struct sg_store *s, const char *id,
			 const struct sg_store_shadow_diff *d, int64_t now_ms,
			 struct sg_error *err)
{
	return run_args(sqlite_of(s), ST_SHADOW_INSERT, NULL, err, "ttttttttl", id, d->ticket_id,
			d->event_id, d->live_version, d->shadow_version, d->field,
			d->live_value, d->shadow_value, now_ms);
}

int sqlite_counter_add(struct sg_store *s, const char *name, long delta,
		       struct sg_error *err)
{
	return run_args(sqlite_of(s), ST_COUNTER_ADD, NULL, err, "tl", name, (int64_t)delta);
}

/* The upsert's WHERE skips the update at the limit: no row changes. SQLite
 * runs one writer at a time, so the check and the add are one step. */
int sqlite_counter_take(struct sg_store *s, const char *name, long limit,
			struct sg_error *err)
{
	int changes = 0;
	int rc = run_args(sqlite_of(s), ST_COUNTER_TAKE, &changes, err, "tl", name, (int64_t)limit);
	return rc < 0 ? rc : changes ? 0 : 1;
}

int sqlite_counter_get(struct sg_store *s, const char *name, long *out,
		       struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	*out = 0;
	sqlite3_stmt *st = sqlite_stmt(q, ST_COUNTER_GET, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	sqlite_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "reading a counter");
}

int sqlite_shadow_fields(struct sg_store *s, const char *shadow_version,
			 int (*fn)(const char *field, long n, void *ctx), void *ctx,
			 struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_SHADOW_FIELDS, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, shadow_version);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int frc = fn(sqlite_col_text(st, 0), (long)sqlite3_column_int64(st, 1), ctx);
		if (frc) {
			sqlite_done(st);
			return frc < 0 ? frc : 0;
		}
	}
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "counting shadow diffs");
}

int sqlite_shadow_scan(struct sg_store *s, const char *shadow_version, unsigned limit,
		       int (*fn)(const struct sg_store_shadow_diff *d, void *ctx),
		       void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_SHADOW_SCAN, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, shadow_version);
	sqlite3_bind_int(st, 2, (int)limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct sg_store_shadow_diff d = {
			sqlite_col_text(st, 0), sqlite_col_text(st, 1), sqlite_col_text(st, 2), sqlite_col_text(st, 3),
			sqlite_col_text(st, 4), sqlite_col_text(st, 5), sqlite_col_text(st, 6),
			sqlite3_column_int64(st, 7)};
		int frc = fn(&d, ctx);
		if (frc) {
			sqlite_done(st);
			return frc < 0 ? frc : 0;
		}
	}
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, "reading shadow diffs");
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
			sqlite_done(st);
			return frc < 0 ? frc : 0;
		}
	}
	sqlite_done(st);
	return rc == SQLITE_DONE ? 0 : sqlite_fail(q, err, what);
}

/* Runs a bound write statement; 1 when it changed no row. */
static int write_row(struct sqlite_store *q, sqlite3_stmt *st, const char *what,
		     struct sg_error *err)
{
	int rc = sqlite3_step(st);
	sqlite_done(st);
	if (rc != SQLITE_DONE)
		return sqlite_fail(q, err, what);
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
		sqlite_col_text(st, 0), sqlite_col_text(st, 1), sqlite_col_text(st, 2), sqlite_col_text(st, 3),
		sqlite_col_text(st, 4), sqlite_col_text(st, 5), sqlite3_column_int64(st, 6),
		sqlite3_column_int64(st, 7)};
	return ((int (*)(const struct sg_store_qa_pending *, void *))c->fn)(&p, c->ctx);
}

int sqlite_qa_pending(struct sg_store *s, int64_t since_ms, unsigned max,
		      int (*fn)(const struct sg_store_qa_pending *p, void *ctx), void *ctx,
		      struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_PENDING, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int(st, 2, (int)max);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, pending_row, &c, "reading decisions for QA facts", err);
}

int sqlite_qa_fact_put(struct sg_store *s, const struct sg_store_qa_fact *f,
		       struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_FACT_PUT, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, f->decision_id);
	sqlite_bind_text(st, 2, f->ticket_id);
	sqlite3_bind_int64(st, 3, f->ticket_created_ms);
	sqlite3_bind_int64(st, 4, f->created_ms);
	sqlite_bind_text(st, 5, f->intent);
	sqlite_bind_text(st, 6, f->risk_tier);
	sqlite_bind_text(st, 7, f->gate);
	sqlite_bind_text(st, 8, f->ai_mode);
	sqlite3_bind_int(st, 9, f->ai_draft_sent);
	sqlite3_bind_int(st, 10, f->escalated);
	sqlite_bind_text(st, 11, f->escalation_reason);
	sqlite_bind_text(st, 12, f->guardrail_action);
	int rc = write_row(q, st, "storing QA facts", err);
	if (rc)
		return rc < 0 ? rc : 0; /* stored before: keep its rows */
	for (size_t i = 0; i < f->ntypes; i++) {
		if (!(st = sqlite_stmt(q, ST_QA_GUARD_PUT, err)))
			return -SG_ESTORE;
		sqlite_bind_text(st, 1, f->decision_id);
		sqlite3_bind_int64(st, 2, f->created_ms);
		sqlite_bind_text(st, 3, f->guardrail_types[i]);
		sqlite_bind_text(st, 4, f->guardrail_action);
		if ((rc = write_row(q, st, "storing guardrail facts", err)) < 0)
			return rc;
	}
	return 0;
}

int sqlite_qa_csat_put(struct sg_store *s, const char *ticket_id, int score, int64_t now_ms,
		       struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_CSAT_PUT, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, ticket_id);
	sqlite3_bind_int(st, 2, score);
	sqlite3_bind_int64(st, 3, now_ms);
	int rc = write_row(q, st, "storing the CSAT score", err);
	return rc < 0 ? rc : 0;
}

static int candidate_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	struct sg_store_qa_candidate x = {sqlite_col_text(st, 0), sqlite_col_text(st, 1), sqlite_col_text(st, 2),
					  sqlite_col_text(st, 3), sqlite3_column_int64(st, 4)};
	return ((int (*)(const struct sg_store_qa_candidate *, void *))c->fn)(&x, c->ctx);
}

int sqlite_qa_candidates(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			 int (*fn)(const struct sg_store_qa_candidate *c, void *ctx),
			 void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_CANDIDATES, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, candidate_row, &c, "reading the QA population", err);
}

int sqlite_qa_sample_put(struct sg_store *s, const struct sg_store_qa_sample *x,
			 struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_SAMPLE_PUT, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, x->id);
	sqlite_bind_text(st, 2, x->period);
	sqlite_bind_text(st, 3, x->ticket_id);
	sqlite_bind_text(st, 4, x->decision_id);
	sqlite_bind_text(st, 5, x->category);
	sqlite_bind_text(st, 6, x->kind);
	sqlite3_bind_int(st, 7, x->reached_customer);
	sqlite3_bind_int64(st, 8, x->seed);
	sqlite3_bind_int64(st, 9, x->created_ms);
	return write_row(q, st, "storing a QA sample", err);
}

#define COPY(dst, st, i) snprintf((dst), sizeof(dst), "%s", sqlite_col_text((st), (i)))

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

int sqlite_qa_sample_list(struct sg_store *s, const char *period, const char *id,
			  int (*fn)(const struct sg_store_qa_sample *x, void *ctx), void *ctx,
			  struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_SAMPLE_LIST, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, period);
	sqlite_bind_text(st, 2, id);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, sample_row, &c, "listing QA samples", err);
}

int sqlite_qa_score_put(struct sg_store *s, const struct sg_store_qa_score *x,
			struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
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
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_SCORE_PUT, err);
	if (!st) {
		sg_buf_release(&tags);
		return -SG_ESTORE;
	}
	sqlite_bind_text(st, 1, x->sample_id);
	sqlite_bind_text(st, 2, x->period);
	sqlite_bind_text(st, 3, x->ticket_id);
	sqlite_bind_text(st, 4, x->category);
	sqlite_bind_text(st, 5, x->reviewer);
	for (int i = 0; i < SG_QA_DIMENSIONS; i++)
		sqlite3_bind_int(st, 6 + i, x->dims[i]);
	sqlite_bind_text(st, 11, tags.data ? tags.data : "");
	sqlite3_bind_int(st, 12, x->accurate);
	sqlite3_bind_int(st, 13, x->reached_customer);
	sqlite_bind_text(st, 14, x->note);
	sqlite3_bind_int64(st, 15, x->created_ms);
	int rc = write_row(q, st, "storing the QA score", err);
	sg_buf_release(&tags);
	if (rc < 0)
		return rc;
	if (!(st = sqlite_stmt(q, ST_QA_DEFECTS_DEL, err)))
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, x->sample_id);
	if ((rc = write_row(q, st, "replacing defect tags", err)) < 0)
		return rc;
	for (size_t i = 0; i < x->ndefects; i++) {
		if (!(st = sqlite_stmt(q, ST_QA_DEFECT_PUT, err)))
			return -SG_ESTORE;
		sqlite_bind_text(st, 1, x->sample_id);
		sqlite_bind_text(st, 2, x->period);
		sqlite_bind_text(st, 3, x->defects[i]);
		if ((rc = write_row(q, st, "storing a defect tag", err)) < 0)
			return rc;
	}
	return 0;
}

static int accuracy_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	return ((int (*)(const char *, long, long, void *))c->fn)(
		sqlite_col_text(st, 0), (long)sqlite3_column_int64(st, 1),
		(long)sqlite3_column_int64(st, 2), c->ctx);
}

int sqlite_qa_accuracy(struct sg_store *s, const char *period,
		       int (*fn)(const char *category, long scored, long accurate, void *ctx),
		       void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_ACCURACY, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, period);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, accuracy_row, &c, "reading QA accuracy", err);
}

int sqlite_qa_pause_open(struct sg_store *s, const struct sg_store_qa_pause *p,
			 struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_PAUSE_OPEN, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, p->id);
	sqlite_bind_text(st, 2, p->category);
	sqlite_bind_text(st, 3, p->period);
	sqlite3_bind_int(st, 4, p->accuracy_bp);
	sqlite3_bind_int(st, 5, p->scored);
	sqlite3_bind_int64(st, 6, p->opened_ms);
	return write_row(q, st, "pausing auto-send", err);
}

int sqlite_qa_pause_lift(struct sg_store *s, const char *category, const char *user,
			 int64_t now_ms, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_PAUSE_LIFT, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite_bind_text(st, 2, user);
	sqlite_bind_text(st, 3, category);
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

int sqlite_qa_pause_list(struct sg_store *s, int active_only,
			 int (*fn)(const struct sg_store_qa_pause *p, void *ctx), void *ctx,
			 struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_PAUSE_LIST, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int(st, 1, active_only ? 1 : 0);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, pause_row, &c, "listing pauses", err);
}

int sqlite_qa_suggest(struct sg_store *s, const char *category, const char *period,
		      int accuracy_bp, int previous_bp, int64_t now_ms, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_SUGGEST, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, category);
	sqlite_bind_text(st, 2, period);
	sqlite3_bind_int(st, 3, accuracy_bp);
	sqlite3_bind_int(st, 4, previous_bp);
	sqlite3_bind_int64(st, 5, now_ms);
	return write_row(q, st, "storing the expansion suggestion", err);
}

int sqlite_qa_incident_open(struct sg_store *s, const struct sg_store_qa_incident *x,
			    struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_INC_OPEN, err);
	if (!st)
		return -SG_ESTORE;
	sqlite_bind_text(st, 1, x->id);
	sqlite_bind_text(st, 2, x->ticket_id);
	sqlite_bind_text(st, 3, x->sample_id);
	sqlite_bind_text(st, 4, x->category);
	sqlite3_bind_int64(st, 5, x->opened_ms);
	sqlite3_bind_int64(st, 6, x->due_ms);
	return write_row(q, st, "opening the incident", err);
}

int sqlite_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			     int64_t now_ms, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_INC_CLOSE, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite_bind_text(st, 2, user);
	sqlite_bind_text(st, 3, id);
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

int sqlite_qa_incident_list(struct sg_store *s, int open_only,
			    int (*fn)(const struct sg_store_qa_incident *x, void *ctx),
			    void *ctx, struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_INC_LIST, err);
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
		sqlite_col_text(st, 0), sqlite_col_text(st, 1), (long)sqlite3_column_int64(st, 2), c->ctx);
}

int sqlite_qa_stat(struct sg_store *s, enum sg_store_qa_stat which, int64_t from_ms,
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
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, which_st[which], err);
	if (!st)
		return -SG_ESTORE;
	/* each statement uses some of ?1..?3; binding an unused one is a no-op */
	int np = sqlite3_bind_parameter_count(st);
	if (np >= 1)
		sqlite3_bind_int64(st, 1, from_ms);
	if (np >= 2)
		sqlite3_bind_int64(st, 2, to_ms);
	if (np >= 3)
		sqlite_bind_text(st, 3, period);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, stat_row, &c, "reading scorecard counts", err);
}

static int ticket_row(sqlite3_stmt *st, void *arg)
{
	struct cb *c = arg;
	struct sg_store_qa_ticket t;
	memset(&t, 0, sizeof(t));
	t.ticket_id = sqlite_col_text(st, 0);
	t.created_ms = sqlite3_column_int64(st, 1);
	t.events = sqlite3_column_int(st, 2);
	t.auto_sent = sqlite3_column_int(st, 3);
	t.escalated = sqlite3_column_int(st, 4);
	int64_t first_auto = sqlite3_column_int64(st, 5), last_auto = sqlite3_column_int64(st, 6);
	int64_t first_h = sqlite3_column_int64(st, 7), last_h = sqlite3_column_int64(st, 8);
	t.first_reply_ms = first_auto && (!first_h || first_auto < first_h) ? first_auto : first_h;
	t.last_reply_ms = last_auto > last_h ? last_auto : last_h;
	t.ai_mode = sqlite_col_text(st, 9);
	t.csat = sqlite3_column_int(st, 10);
	return ((int (*)(const struct sg_store_qa_ticket *, void *))c->fn)(&t, c->ctx);
}

int sqlite_qa_tickets(struct sg_store *s, int64_t from_ms, int64_t to_ms,
		      int (*fn)(const struct sg_store_qa_ticket *t, void *ctx), void *ctx,
		      struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_TICKETS, err);
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
	return ((int (*)(const char *, void *))c->fn)(sqlite_col_text(st, 0), c->ctx);
}

int sqlite_qa_edit_diffs(struct sg_store *s, int64_t from_ms, int64_t to_ms,
			 int (*fn)(const char *diff, void *ctx), void *ctx,
			 struct sg_error *err)
{
	struct sqlite_store *q = sqlite_of(s);
	sqlite3_stmt *st = sqlite_stmt(q, ST_QA_EDIT_DIFFS, err);
	if (!st)
		return -SG_ESTORE;
	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	struct cb c = {(void (*)(void))fn, ctx};
	return each_row(q, st, diff_row, &c, "reading draft edits", err);
}
