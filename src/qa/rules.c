/*
 * rules.c - scoring a sampled ticket and the rules that follow from the
 * scores: pause auto-send for a category under the accuracy floor (until
 * a human lifts it), suggest expanding one above the ceiling for enough
 * consecutive weeks, open an incident when a hallucination reached a
 * customer. Every change is written with its audit record in one
 * transaction.
 */
#include "qa/qa.h"

#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/id.h"
#include "core/json.h"
#include "decide/engine.h"
#include "core/banned.h"

#define HOUR_MS (3600LL * 1000)

const char *const sg_qa_dimension_names[SG_QA_DIMENSIONS] = {
	"factual_accuracy", "brand_tone", "completeness", "compliance", "customer_outcome"};
const char *const sg_qa_defect_names[SG_QA_MAX_DEFECTS] = {
	"hallucination", "tone_mismatch", "policy_misapplication", "incomplete_resolution"};

/* Appends an audit record with body b (stolen); inside the caller's
 * transaction. */
static int audit(struct sg_store *s, const char *actor, const char *action,
		 const char *ticket, json_t *b, struct sg_error *err)
{
	char *text = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(b);
	if (!text)
		return sg_error_set(err, SG_ENOMEM, "audit: out of memory");
	struct sg_audit_record r;
	memset(&r, 0, sizeof(r));
	snprintf(r.actor, sizeof(r.actor), "%s", actor ? actor : "qa");
	snprintf(r.action, sizeof(r.action), "%s", action);
	snprintf(r.ticket_id, sizeof(r.ticket_id), "%s", ticket ? ticket : "");
	r.body = text;
	int rc = sg_store_audit_append(s, &r, err);
	sg_free(text);
	return rc;
}

static double pct(int bp)
{
	return (double)bp / 100.0;
}

int sg_qa_score_from_json(struct sg_qa_score_input *in, const json_t *o, struct sg_error *err)
{
	int rc;
	memset(in, 0, sizeof(*in));
	in->reached_customer = -1;
	if (!json_is_object(o))
		return sg_error_set(err, SG_EJSON, "score: expected a JSON object");
	for (int i = 0; i < SG_QA_DIMENSIONS; i++) {
		double v = 0;
		if ((rc = sg_json_num(o, sg_qa_dimension_names[i], sg_qa_dimension_names[i], 1, &v,
				      err)) < 0)
			return rc;
		if (v != (int)v || v < 1 || v > 5)
			return sg_error_set(err, SG_EINVALID, "field '%s': expected a whole number "
					    "1..5, got %g", sg_qa_dimension_names[i], v);
		in->dims[i] = (int)v;
	}
	json_t *d = NULL;
	if ((rc = sg_json_arr(o, "defects", "defects", 0, &d, err)) < 0)
		return rc;
	size_t i;
	json_t *t;
	json_array_foreach(d, i, t) {
		const char *tag = json_string_value(t);
		int known = -1;
		for (int k = 0; tag && k < SG_QA_MAX_DEFECTS; k++)
			if (!strcmp(tag, sg_qa_defect_names[k]))
				known = k;
		if (known < 0)
			return sg_error_set(err, SG_EINVALID, "field 'defects[%zu]': expected one of "
					    "hallucination, tone_mismatch, policy_misapplication, "
					    "incomplete_resolution", i);
		int dup = 0;
		for (size_t k = 0; k < in->ndefects; k++)
			dup |= in->defects[k] == sg_qa_defect_names[known];
		if (!dup)
			in->defects[in->ndefects++] = sg_qa_defect_names[known];
	}
	int reached = 0;
	if ((rc = sg_json_bool(o, "reached_customer", "reached_customer", 0, &reached, err)) < 0)
		return rc;
	if (rc == 0)
		in->reached_customer = reached;
	if ((rc = sg_json_str(o, "note", "note", 0, &in->note, err)) < 0)
		return rc;
	if (in->note && strlen(in->note) > 2000)
		return sg_error_set(err, SG_ELIMIT, "field 'note': over 2000 bytes");
	return 0;
}

static int has_defect(const struct sg_qa_score_input *in, const char *tag)
{
	for (size_t i = 0; i < in->ndefects; i++)
		if (!strcmp(in->defects[i], tag))
			return 1;
	return 0;
}

int sg_qa_score(struct sg_store *s, const struct sg_qa_config *cfg,
		const struct sg_qa_score_input *in, struct sg_qa_outcome *out,
		struct sg_error *err)
{
	struct sg_store_qa_sample x;
	memset(out, 0, sizeof(*out));
	int64_t now = in->now_ms ? in->now_ms : sg_now_ms();
	int rc = sg_store_qa_sample_get(s, in->sample_id, &x, err);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return sg_error_set(err, SG_ENOTFOUND, "sample '%.64s' not found", in->sample_id);
	int accurate = in->ndefects == 0;
	for (int i = 0; i < SG_QA_DIMENSIONS; i++)
		if (in->dims[i] < cfg->pass_score)
			accurate = 0;
	int reached = in->reached_customer >= 0 ? in->reached_customer : x.reached_customer;
	struct sg_store_qa_score sc = {
		.sample_id = x.id, .period = x.period, .ticket_id = x.ticket_id,
		.category = x.category, .reviewer = in->reviewer, .defects = in->defects,
		.ndefects = in->ndefects, .accurate = accurate, .reached_customer = reached,
		.note = in->note, .created_ms = now};
	memcpy(sc.dims, in->dims, sizeof(sc.dims));
	if ((rc = sg_store_begin(s, err)) < 0)
		return rc;
	if ((rc = sg_store_qa_score_put(s, &sc, err)) < 0)
		goto fail;
	json_t *dims = json_object(), *tags = json_array();
	for (int i = 0; i < SG_QA_DIMENSIONS; i++)
		json_object_set_new(dims, sg_qa_dimension_names[i], json_integer(in->dims[i]));
	for (size_t i = 0; i < in->ndefects; i++)
		json_array_append_new(tags, json_string(in->defects[i]));
	json_t *b = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:b, s:b}", "sample_id", x.id,
			      "period", x.period, "category", x.category, "scores", dims,
			      "defects", tags, "accurate", accurate, "reached_customer", reached,
			      "rescored", x.scored);
	if ((rc = audit(s, in->reviewer, "qa.score", x.ticket_id, b, err)) < 0)
		goto fail;
	if (reached && has_defect(in, "hallucination")) {
		struct sg_store_qa_incident inc;
		memset(&inc, 0, sizeof(inc));
		if (sg_id_new(inc.id) < 0) {
			rc = sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
			goto fail;
		}
		snprintf(inc.ticket_id, sizeof(inc.ticket_id), "%s", x.ticket_id);
		snprintf(inc.sample_id, sizeof(inc.sample_id), "%s", x.id);
		snprintf(inc.category, sizeof(inc.category), "%s", x.category);
		inc.opened_ms = now;
		inc.due_ms = now + (int64_t)cfg->incident_hours * HOUR_MS;
		if ((rc = sg_store_qa_incident_open(s, &inc, err)) < 0)
			goto fail;
		if (rc == 0) {
			char due[25];
			sg_time_iso(inc.due_ms, due);
			b = json_pack("{s:s, s:s, s:s, s:s, s:i}", "incident_id", inc.id,
				      "sample_id", x.id, "category", x.category, "report_due", due,
				      "deadline_hours", cfg->incident_hours);
			if ((rc = audit(s, in->reviewer, "qa.incident", x.ticket_id, b, err)) < 0)
				goto fail;
			snprintf(out->incident_id, sizeof(out->incident_id), "%s", inc.id);
		}
	}
	if ((rc = sg_store_commit(s, err)) < 0)
		goto fail;
	out->accurate = accurate;
	int64_t from = 0;
	char period[SG_QA_PERIOD_LEN];
	if ((rc = sg_qa_week_parse(period, &from, x.period, err)) < 0)
		return rc;
	return sg_qa_rules_apply(s, cfg, x.period, from, "qa", now, out, err);
fail:
	sg_store_rollback(s, NULL);
	return rc;
}

/* ---- rules --------------------------------------------------------------- */

#define RULE_MAX_CATS 256

struct acc {
	char category[SG_QA_NAME_MAX];
	long scored, accurate;
};

struct acc_list {
	struct acc a[RULE_MAX_CATS];
	size_t n;
};

static int acc_add(const char *category, long scored, long accurate, void *ctx)
{
	struct acc_list *l = ctx;
	if (l->n == RULE_MAX_CATS)
		return 1;
	snprintf(l->a[l->n].category, sizeof(l->a[l->n].category), "%s", category);
	l->a[l->n].scored = scored;
	l->a[l->n].accurate = accurate;
	l->n++;
	return 0;
}

static const struct acc *acc_find(const struct acc_list *l, const char *category)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->a[i].category, category))
			return &l->a[i];
	return NULL;
}

static int bp_of(const struct acc *a)
{
	return a->scored ? (int)((a->accurate * 10000 + a->scored / 2) / a->scored) : 0;
}

static int paused_now(const struct sg_store_qa_pause *p, void *ctx)
{
	const char *category = ((const char **)ctx)[0];
	if (!strcmp(p->category, category))
		((const char **)ctx)[1] = "yes";
	return 0;
}

int sg_qa_rules_apply(struct sg_store *s, const struct sg_qa_config *cfg, const char *period,
		      int64_t from_ms, const char *actor, int64_t now_ms,
		      struct sg_qa_outcome *out, struct sg_error *err)
{
	struct acc_list *weeks = sg_calloc((size_t)cfg->expand_after, sizeof(*weeks));
	int rc = 0;
	if (!weeks)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (!now_ms)
		now_ms = sg_now_ms();
	/* weeks[0] is this one, weeks[k] k weeks before */
	char names[SG_QA_MAX_TREND][SG_QA_PERIOD_LEN];
	for (int k = 0; k < cfg->expand_after; k++) {
		int64_t f;
		sg_qa_week_of(names[k], &f, from_ms - (int64_t)k * SG_QA_WEEK_MS);
		if ((rc = sg_store_qa_accuracy(s, names[k], acc_add, &weeks[k], err)) < 0)
			goto cleanup;
	}
	if (strcmp(period, names[0])) {
		rc = sg_error_set(err, SG_EINVALID, "week '%s' does not start at the given time",
				  period);
		goto cleanup;
	}
	for (size_t i = 0; i < weeks[0].n; i++) {
		const struct acc *a = &weeks[0].a[i];
		if (a->scored < cfg->min_scored)
			continue;
		int bp = bp_of(a);
		double acc = (double)a->accurate / (double)a->scored;
		if (acc < cfg->pause_below) {
			struct sg_store_qa_pause p;
			memset(&p, 0, sizeof(p));
			if (sg_id_new(p.id) < 0) {
				rc = sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
				goto cleanup;
			}
			snprintf(p.category, sizeof(p.category), "%s", a->category);
			snprintf(p.period, sizeof(p.period), "%s", names[0]);
			p.accuracy_bp = bp;
			p.scored = (int)a->scored;
			p.opened_ms = now_ms;
			if ((rc = sg_store_begin(s, err)) < 0)
				goto cleanup;
			rc = sg_store_qa_pause_open(s, &p, err);
			if (rc == 0) {
				json_t *b = json_pack("{s:s, s:s, s:f, s:i, s:i, s:f, s:s}", "category",
						      a->category, "period", names[0], "accuracy_pct",
						      pct(bp), "scored", (int)a->scored, "accurate",
						      (int)a->accurate, "threshold_pct",
						      cfg->pause_below * 100, "effect",
						      "auto-send paused: review required");
				rc = audit(s, actor, "qa.pause", NULL, b, err);
				if (rc == 0 && out && out->npaused < 8)
					snprintf(out->paused[out->npaused++], SG_QA_NAME_MAX, "%s",
						 a->category);
			}
			if (rc < 0 || (rc = sg_store_commit(s, err)) < 0) {
				sg_store_rollback(s, NULL);
				goto cleanup;
			}
			continue;
		}
		if (acc <= cfg->expand_above)
			continue;
		int all = 1;
		int prev_bp = bp;
		for (int k = 1; k < cfg->expand_after && all; k++) {
			const struct acc *pa = acc_find(&weeks[k], a->category);
			if (!pa || pa->scored < cfg->min_scored ||
			    (double)pa->accurate / (double)pa->scored <= cfg->expand_above)
				all = 0;
			else if (k == 1)
				prev_bp = bp_of(pa);
		}
		if (!all)
			continue;
		const char *probe[2] = {a->category, NULL};
		if ((rc = sg_store_qa_pause_list(s, 1, paused_now, probe, err)) < 0)
			goto cleanup;
		if (probe[1])
			continue; /* paused now: lift it first */
		if ((rc = sg_store_begin(s, err)) < 0)
			goto cleanup;
		rc = sg_store_qa_suggest(s, a->category, names[0], bp, prev_bp, now_ms, err);
		if (rc == 0) {
			json_t *b = json_pack("{s:s, s:s, s:f, s:f, s:i, s:f}", "category", a->category,
					      "period", names[0], "accuracy_pct", pct(bp),
					      "previous_pct", pct(prev_bp), "weeks",
					      cfg->expand_after, "threshold_pct",
					      cfg->expand_above * 100);
			rc = audit(s, actor, "qa.expand_suggested", NULL, b, err);
			if (rc == 0 && out && out->nsuggested < 8)
				snprintf(out->suggested[out->nsuggested++], SG_QA_NAME_MAX, "%s",
					 a->category);
		}
		if (rc < 0 || (rc = sg_store_commit(s, err)) < 0) {
			sg_store_rollback(s, NULL);
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	sg_free(weeks);
	return rc;
}

int sg_qa_lift(struct sg_store *s, const char *category, const char *user,
	       struct sg_error *err)
{
	int rc = sg_store_begin(s, err);
	if (rc < 0)
		return rc;
	rc = sg_store_qa_pause_lift(s, category, user, 0, err);
	if (rc == 0)
		rc = audit(s, user, "qa.pause_lifted", NULL,
			   json_pack("{s:s, s:s}", "category", category, "effect",
				     "auto-send allowed again by the policy's rules"),
			   err);
	if (rc < 0) {
		sg_store_rollback(s, NULL);
		return rc;
	}
	int crc = sg_store_commit(s, err);
	return crc < 0 ? crc : rc;
}

int sg_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			 struct sg_error *err)
{
	int rc = sg_store_begin(s, err);
	if (rc < 0)
		return rc;
	rc = sg_store_qa_incident_close(s, id, user, 0, err);
	if (rc == 0)
		rc = audit(s, user, "qa.incident_closed", NULL,
			   json_pack("{s:s}", "incident_id", id), err);
	if (rc < 0) {
		sg_store_rollback(s, NULL);
		return rc;
	}
	int crc = sg_store_commit(s, err);
	return crc < 0 ? crc : rc;
}

struct names {
	char *v[RULE_MAX_CATS];
	size_t n;
};

static int name_add(const struct sg_store_qa_pause *p, void *ctx)
{
	struct names *l = ctx;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], p->category))
			return 0;
	if (l->n == RULE_MAX_CATS)
		return 1;
	if (!(l->v[l->n] = sg_strdup(p->category)))
		return -SG_ENOMEM;
	l->n++;
	return 0;
}

int sg_qa_pauses_to_engine(struct sg_store *s, struct sg_engine *e, struct sg_error *err)
{
	struct names l;
	memset(&l, 0, sizeof(l));
	int rc = sg_store_qa_pause_list(s, 1, name_add, &l, err);
	if (rc == -SG_ENOMEM)
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sg_engine_qa_pause(e, (const char *const *)l.v, l.n, err);
	for (size_t i = 0; i < l.n; i++)
		sg_free(l.v[i]);
	return rc;
}
