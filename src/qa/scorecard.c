/*
 * scorecard.c - the weekly scorecard: deflection, QA accuracy by category,
 * approval rate by risk tier, escalation reasons, guardrail blocks by type,
 * agent overrides with edit distance, time to first reply and handle time
 * by AI mode, first-contact resolution, CSAT and SLA breaches, each with
 * its change against the week before, plus a trend over several weeks.
 * Every figure comes from the store's grouped queries; the definitions are
 * in docs/qa.md.
 */
#include "qa/qa.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/id.h"
#include "core/banned.h"

#define EDIT_CAP 1000 /* characters compared per side of an edit */

size_t sg_qa_edit_distance(const char *a, size_t na, const char *b, size_t nb, size_t max)
{
	if (na > max || nb > max)
		return na > nb ? na : nb;
	if (!na || !nb)
		return na + nb;
	size_t *row = sg_malloc((nb + 1) * sizeof(*row));
	if (!row)
		return na > nb ? na : nb;
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[nb];
	sg_free(row);
	return d;
}

static json_t *rate(long num, long den)
{
	return den > 0 ? json_real((double)num / (double)den) : json_null();
}

static json_t *num_or_null(double v, int have)
{
	return have ? json_real(v) : json_null();
}

/* ---- grouped counts into JSON arrays ------------------------------------ */

struct rows {
	json_t *arr;
	const char *k1, *k2; /* field names; k2 NULL: ignore the second key */
};

static int row_add(const char *k1, const char *k2, long n, void *ctx)
{
	struct rows *r = ctx;
	json_t *o = json_object();
	json_object_set_new(o, r->k1, json_string(k1));
	if (r->k2)
		json_object_set_new(o, r->k2, json_string(k2));
	json_object_set_new(o, "count", json_integer(n));
	json_array_append_new(r->arr, o);
	return 0;
}

static int stat_rows(struct sg_store *s, enum sg_store_qa_stat which, int64_t from, int64_t to,
		     const char *period, const char *k1, const char *k2, json_t **out,
		     struct sg_error *err)
{
	struct rows r = {json_array(), k1, k2};
	int rc = sg_store_qa_stat(s, which, from, to, period, row_add, &r, err);
	if (rc < 0) {
		json_decref(r.arr);
		return rc;
	}
	*out = r.arr;
	return 0;
}

/* Finds or adds the object of arr whose field key equals val. */
static json_t *keyed(json_t *arr, const char *key, const char *val)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		const char *v = json_string_value(json_object_get(o, key));
		if (v && !strcmp(v, val))
			return o;
	}
	o = json_object();
	json_object_set_new(o, key, json_string(val));
	json_array_append_new(arr, o);
	return o;
}

static long geti(const json_t *o, const char *k)
{
	return (long)json_integer_value(json_object_get(o, k));
}

static void addi(json_t *o, const char *k, long n)
{
	json_object_set_new(o, k, json_integer(geti(o, k) + n));
}

/* ---- tickets: deflection, FCR, CSAT, reply times ------------------------ */

struct times {
	char mode[32];
	double *first, *handle;
	size_t nfirst, nhandle, cap_first, cap_handle;
	long tickets;
};

struct tick_ctx {
	long tickets, auto_resolved, replied, first_contact, csat_n, csat_sum, csat_good;
	struct times modes[8];
	size_t nmodes;
	int oom;
};

static int push(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		double *p = sg_realloc(*v, c * sizeof(*p));
		if (!p)
			return -1;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int ticket_add(const struct sg_store_qa_ticket *t, void *arg)
{
	struct tick_ctx *c = arg;
	c->tickets++;
	if (t->events > 0 && t->auto_sent == t->events && !t->escalated)
		c->auto_resolved++;
	if (t->first_reply_ms) {
		c->replied++;
		if (t->events == 1 && !t->escalated)
			c->first_contact++;
	}
	if (t->csat) {
		c->csat_n++;
		c->csat_sum += t->csat;
		c->csat_good += t->csat >= 4;
	}
	const char *mode = t->ai_mode && *t->ai_mode ? t->ai_mode : "none";
	struct times *m = NULL;
	for (size_t i = 0; i < c->nmodes; i++)
		if (!strcmp(c->modes[i].mode, mode))
			m = &c->modes[i];
	if (!m) {
		if (c->nmodes == sizeof(c->modes) / sizeof(c->modes[0]))
			return 0;
		m = &c->modes[c->nmodes++];
		snprintf(m->mode, sizeof(m->mode), "%s", mode);
	}
	m->tickets++;
	if (t->first_reply_ms) {
		double first = (double)(t->first_reply_ms - t->created_ms) / 60000.0;
		double handle = (double)(t->last_reply_ms - t->created_ms) / 60000.0;
		if (push(&m->first, &m->nfirst, &m->cap_first, first < 0 ? 0 : first) < 0 ||
		    push(&m->handle, &m->nhandle, &m->cap_handle, handle < 0 ? 0 : handle) < 0) {
			c->oom = 1;
			return -SG_ENOMEM;
		}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double mean(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

static int cmp_mode(const void *a, const void *b)
{
	return strcmp(((const struct times *)a)->mode, ((const struct times *)b)->mode);
}

/* ---- edits ---------------------------------------------------------------- */

struct edit_ctx {
	long edits;
	double distance;
};

static int edit_add(const char *diff, void *arg)
{
	struct edit_ctx *c = arg;
	struct sg_buf del = SG_BUF_INIT, ins = SG_BUF_INIT;
	for (const char *p = diff; *p;) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (p[0] == '-' && n >= 1) {
			if (del.len)
				sg_buf_addc(&del, '\n');
			sg_buf_add(&del, p + 1, n - 1);
		} else if (p[0] == '+' && n >= 1) {
			if (ins.len)
				sg_buf_addc(&ins, '\n');
			sg_buf_add(&ins, p + 1, n - 1);
		}
		p += n + (e ? 1 : 0);
	}
	c->edits++;
	c->distance += (double)sg_qa_edit_distance(del.data ? del.data : "", del.len,
						   ins.data ? ins.data : "", ins.len, EDIT_CAP);
	sg_buf_release(&del);
	sg_buf_release(&ins);
	return 0;
}

/* ---- one week ------------------------------------------------------------- */

struct acc_ctx {
	json_t *arr;
	long scored, accurate;
};

static int acc_row(const char *category, long scored, long accurate, void *arg)
{
	struct acc_ctx *c = arg;
	json_array_append_new(c->arr, json_pack("{s:s, s:I, s:I, s:o}", "category", category,
						"scored", (json_int_t)scored, "accurate",
						(json_int_t)accurate, "rate", rate(accurate, scored)));
	c->scored += scored;
	c->accurate += accurate;
	return 0;
}

static int week_json(json_t **out, struct sg_store *s, const char *period, int64_t from,
		     struct sg_error *err)
{
	int64_t to = from + SG_QA_WEEK_MS;
	json_t *w = json_object(), *raw = NULL;
	struct tick_ctx tc;
	memset(&tc, 0, sizeof(tc));
	char iso[25];
	int rc;
	*out = NULL;
	json_object_set_new(w, "period", json_string(period));
	sg_time_iso(from, iso);
	json_object_set_new(w, "from", json_string(iso));
	sg_time_iso(to, iso);
	json_object_set_new(w, "to", json_string(iso));

	/* tickets */
	rc = sg_store_qa_tickets(s, from, to, ticket_add, &tc, err);
	if (tc.oom)
		rc = sg_error_set(err, SG_ENOMEM, "scorecard: out of memory");
	if (rc < 0)
		goto cleanup;
	json_object_set_new(w, "tickets", json_integer(tc.tickets));
	json_object_set_new(w, "deflection",
			    json_pack("{s:I, s:I, s:o}", "tickets", (json_int_t)tc.tickets,
				      "auto_resolved", (json_int_t)tc.auto_resolved, "rate",
				      rate(tc.auto_resolved, tc.tickets)));
	json_object_set_new(w, "fcr",
			    json_pack("{s:I, s:I, s:o}", "replied", (json_int_t)tc.replied,
				      "first_contact", (json_int_t)tc.first_contact, "rate",
				      rate(tc.first_contact, tc.replied)));
	json_object_set_new(w, "csat",
			    json_pack("{s:I, s:o, s:I, s:o}", "responses", (json_int_t)tc.csat_n,
				      "mean",
				      num_or_null(tc.csat_n ? (double)tc.csat_sum / tc.csat_n : 0,
						  tc.csat_n > 0),
				      "satisfied", (json_int_t)tc.csat_good, "rate",
				      rate(tc.csat_good, tc.csat_n)));
	qsort(tc.modes, tc.nmodes, sizeof(tc.modes[0]), cmp_mode);
	json_t *rt = json_array();
	for (size_t i = 0; i < tc.nmodes; i++) {
		struct times *m = &tc.modes[i];
		int have = m->nfirst > 0;
		double fm = have ? mean(m->first, m->nfirst) : 0;
		double hm = have ? mean(m->handle, m->nhandle) : 0;
		double fmed = have ? median(m->first, m->nfirst) : 0;
		double hmed = have ? median(m->handle, m->nhandle) : 0;
		json_array_append_new(
			rt, json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:o}", "ai_mode", m->mode,
				      "tickets", (json_int_t)m->tickets, "replied",
				      (json_int_t)m->nfirst, "first_reply_median_min",
				      num_or_null(fmed, have), "first_reply_mean_min",
				      num_or_null(fm, have), "handle_median_min",
				      num_or_null(hmed, have), "handle_mean_min",
				      num_or_null(hm, have)));
	}
	json_object_set_new(w, "reply_times", rt);

	/* QA accuracy */
	struct acc_ctx ac = {json_array(), 0, 0};
	if ((rc = sg_store_qa_accuracy(s, period, acc_row, &ac, err)) < 0) {
		json_decref(ac.arr);
		goto cleanup;
	}
	json_object_set_new(w, "qa_accuracy",
			    json_pack("{s:I, s:I, s:o, s:o}", "scored", (json_int_t)ac.scored,
				      "accurate", (json_int_t)ac.accurate, "rate",
				      rate(ac.accurate, ac.scored), "by_category", ac.arr));

	/* approvals by tier and override frequency */
	if ((rc = stat_rows(s, SG_QA_STAT_APPROVALS, from, to, period, "tier", "action", &raw,
			    err)) < 0)
		goto cleanup;
	json_t *tiers = json_array();
	static const char *const tier_order[] = {"low", "medium", "high"};
	for (size_t i = 0; i < 3; i++)
		keyed(tiers, "tier", tier_order[i]);
	long reviewed = 0, edits = 0, rejects = 0;
	size_t i;
	json_t *o;
	json_array_foreach(raw, i, o) {
		const char *tier = json_string_value(json_object_get(o, "tier"));
		const char *act = json_string_value(json_object_get(o, "action"));
		long n = geti(o, "count");
		json_t *t = keyed(tiers, "tier", tier ? tier : "");
		addi(t, !strcmp(act, "approve") ? "approved" : !strcmp(act, "edit") ? "edited"
										   : "rejected",
		     n);
		reviewed += n;
		edits += !strcmp(act, "edit") ? n : 0;
		rejects += !strcmp(act, "reject") ? n : 0;
	}
	json_decref(raw);
	raw = NULL;
	long app_all = 0, rev_all = 0;
	json_array_foreach(tiers, i, o) {
		long a = geti(o, "approved"), e = geti(o, "edited"), r = geti(o, "rejected");
		json_object_set_new(o, "approved", json_integer(a));
		json_object_set_new(o, "edited", json_integer(e));
		json_object_set_new(o, "rejected", json_integer(r));
		json_object_set_new(o, "reviewed", json_integer(a + e + r));
		json_object_set_new(o, "rate", rate(a + e, a + e + r));
		app_all += a + e;
		rev_all += a + e + r;
	}
	json_object_set_new(w, "approval_by_tier", tiers);
	json_object_set_new(w, "approval_rate", rate(app_all, rev_all));
	struct edit_ctx ec = {0, 0};
	if ((rc = sg_store_qa_edit_diffs(s, from, to, edit_add, &ec, err)) < 0)
		goto cleanup;
	json_object_set_new(
		w, "overrides",
		json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "reviewed", (json_int_t)reviewed, "edits",
			  (json_int_t)edits, "rejections", (json_int_t)rejects, "edit_rate",
			  rate(edits, reviewed), "reject_rate", rate(rejects, reviewed),
			  "edit_distance_mean",
			  num_or_null(ec.edits ? ec.distance / (double)ec.edits : 0, ec.edits > 0)));

	/* escalations, guardrails, breaches, defects, incidents, suggestions */
	if ((rc = stat_rows(s, SG_QA_STAT_ESCALATIONS, from, to, period, "reason", "source", &raw,
			    err)) < 0)
		goto cleanup;
	json_object_set_new(w, "escalation_reasons", raw);
	long esc = 0;
	json_array_foreach(raw, i, o)
		esc += geti(o, "count");
	json_object_set_new(w, "escalations", json_integer(esc));
	if ((rc = stat_rows(s, SG_QA_STAT_GUARDRAILS, from, to, period, "type", "action", &raw,
			    err)) < 0)
		goto cleanup;
	json_t *guards = json_array();
	long blocked = 0;
	json_array_foreach(raw, i, o) {
		json_t *g = keyed(guards, "type", json_string_value(json_object_get(o, "type")));
		long n = geti(o, "count");
		addi(g, "hits", n);
		if (!strcmp(json_string_value(json_object_get(o, "action")), "blocked")) {
			addi(g, "blocked", n);
			blocked += n;
		}
	}
	json_array_foreach(guards, i, o)
		json_object_set_new(o, "blocked", json_integer(geti(o, "blocked")));
	json_decref(raw);
	raw = NULL;
	json_object_set_new(w, "guardrails", guards);
	json_object_set_new(w, "guardrail_blocks", json_integer(blocked));
	if ((rc = stat_rows(s, SG_QA_STAT_BREACHES, from, to, period, "level", NULL, &raw,
			    err)) < 0)
		goto cleanup;
	long br = 0;
	json_array_foreach(raw, i, o)
		br += geti(o, "count");
	json_object_set_new(w, "sla_breaches",
			    json_pack("{s:I, s:o}", "total", (json_int_t)br, "by_level", raw));
	if ((rc = stat_rows(s, SG_QA_STAT_DEFECTS, from, to, period, "tag", NULL, &raw, err)) < 0)
		goto cleanup;
	json_object_set_new(w, "defects", raw);
	if ((rc = stat_rows(s, SG_QA_STAT_INCIDENTS, from, to, period, "state", NULL, &raw,
			    err)) < 0)
		goto cleanup;
	long inc_open = 0, inc_all = 0;
	json_array_foreach(raw, i, o) {
		inc_all += geti(o, "count");
		if (!strcmp(json_string_value(json_object_get(o, "state")), "open"))
			inc_open += geti(o, "count");
	}
	json_decref(raw);
	json_object_set_new(w, "incidents", json_pack("{s:I, s:I}", "opened", (json_int_t)inc_all,
						      "still_open", (json_int_t)inc_open));
	if ((rc = stat_rows(s, SG_QA_STAT_SUGGESTIONS, from, to, period, "category", NULL, &raw,
			    err)) < 0)
		goto cleanup;
	json_t *sugg = json_array();
	json_array_foreach(raw, i, o)
		json_array_append_new(sugg, json_pack("{s:O, s:f}", "category",
						      json_object_get(o, "category"), "accuracy",
						      (double)geti(o, "count") / 10000.0));
	json_decref(raw);
	raw = NULL;
	json_object_set_new(w, "expansion_suggested", sugg);
	*out = w;
	w = NULL;
	rc = 0;
cleanup:
	for (size_t k = 0; k < tc.nmodes; k++) {
		sg_free(tc.modes[k].first);
		sg_free(tc.modes[k].handle);
	}
	json_decref(raw);
	json_decref(w);
	return rc;
}

/* ---- changes against the previous week ---------------------------------- */

static const char *const match_keys[] = {"category", "tier", "reason", "type", "ai_mode",
					 "level", "tag", NULL};

/* The identity of an array item: its key fields joined. */
static void item_key(const json_t *o, char *out, size_t n)
{
	out[0] = 0;
	for (size_t i = 0; match_keys[i]; i++) {
		const char *v = json_string_value(json_object_get(o, match_keys[i]));
		if (v) {
			size_t l = strlen(out);
			snprintf(out + l, n - l, "%s|", v);
		}
	}
	const char *src = json_string_value(json_object_get(o, "source"));
	if (src) {
		size_t l = strlen(out);
		snprintf(out + l, n - l, "%s", src);
	}
}

static void add_changes(json_t *cur, const json_t *prev);

static void array_changes(json_t *cur, const json_t *prev)
{
	size_t i, j;
	json_t *o, *p;
	char ka[512], kb[512];
	json_array_foreach(cur, i, o) {
		if (!json_is_object(o))
			continue;
		item_key(o, ka, sizeof(ka));
		const json_t *match = NULL;
		json_array_foreach(prev, j, p) {
			item_key(p, kb, sizeof(kb));
			if (!strcmp(ka, kb))
				match = p;
		}
		add_changes(o, match);
	}
}

static void add_changes(json_t *cur, const json_t *prev)
{
	const char *k;
	json_t *v;
	void *tmp;
	json_t *changes = json_object();
	json_object_foreach_safe(cur, tmp, k, v) {
		const json_t *pv = prev ? json_object_get(prev, k) : NULL;
		if (json_is_number(v) || json_is_null(v)) {
			/* a figure: its change, null when either week has none */
			json_object_set_new(changes, k,
					    json_is_number(v) && json_is_number(pv)
						    ? json_real(json_number_value(v) -
								json_number_value(pv))
						    : json_null());
		} else if (json_is_object(v) && strcmp(k, "change")) {
			add_changes(v, json_is_object(pv) ? pv : NULL);
		} else if (json_is_array(v)) {
			array_changes(v, json_is_array(pv) ? pv : NULL);
		}
	}
	if (json_object_size(changes))
		json_object_set_new(cur, "change", changes);
	else
		json_decref(changes);
}

/* ---- the scorecard -------------------------------------------------------- */

static int pause_row(const struct sg_store_qa_pause *p, void *ctx)
{
	char iso[25];
	sg_time_iso(p->opened_ms, iso);
	json_array_append_new(ctx, json_pack("{s:s, s:s, s:f, s:i, s:s}", "category", p->category,
					     "period", p->period, "accuracy",
					     (double)p->accuracy_bp / 10000.0, "scored", p->scored,
					     "since", iso));
	return 0;
}

static int incident_row(const struct sg_store_qa_incident *x, void *ctx)
{
	char opened[25], due[25];
	sg_time_iso(x->opened_ms, opened);
	sg_time_iso(x->due_ms, due);
	json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", x->id,
					     "ticket_id", x->ticket_id, "category", x->category,
					     "state", x->state, "opened_at", opened, "report_due",
					     due));
	return 0;
}

/* The trend point of one week: the headline rates only. */
static json_t *trend_point(const json_t *w)
{
	json_t *t = json_object();
	json_object_set(t, "period", json_object_get(w, "period"));
	json_object_set(t, "tickets", json_object_get(w, "tickets"));
	json_object_set(t, "deflection", json_object_get(json_object_get(w, "deflection"), "rate"));
	json_object_set(t, "qa_accuracy", json_object_get(json_object_get(w, "qa_accuracy"), "rate"));
	json_object_set(t, "approval_rate", json_object_get(w, "approval_rate"));
	json_object_set(t, "fcr", json_object_get(json_object_get(w, "fcr"), "rate"));
	json_object_set(t, "csat_mean", json_object_get(json_object_get(w, "csat"), "mean"));
	json_object_set(t, "guardrail_blocks", json_object_get(w, "guardrail_blocks"));
	json_object_set(t, "sla_breaches",
			json_object_get(json_object_get(w, "sla_breaches"), "total"));
	json_t *tiers = json_object(), *cats = json_object();
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(w, "approval_by_tier"), i, o)
		json_object_set(tiers, json_string_value(json_object_get(o, "tier")),
				json_object_get(o, "rate"));
	json_array_foreach(json_object_get(json_object_get(w, "qa_accuracy"), "by_category"), i, o)
		json_object_set(cats, json_string_value(json_object_get(o, "category")),
				json_object_get(o, "rate"));
	json_object_set_new(t, "approval_by_tier", tiers);
	json_object_set_new(t, "accuracy_by_category", cats);
	return t;
}

int sg_qa_scorecard(json_t **out, struct sg_store *s, const struct sg_qa_config *cfg,
		    const char *period, int64_t from_ms, int weeks, struct sg_error *err)
{
	json_t *card = NULL, *trend = NULL, *cur = NULL, *prev = NULL;
	long done = 0;
	int rc;
	*out = NULL;
	if (weeks < 2)
		weeks = 2;
	if (weeks > SG_QA_MAX_TREND)
		return sg_error_set(err, SG_EINVALID, "weeks: at most %d", SG_QA_MAX_TREND);
	int64_t first = from_ms - (int64_t)(weeks - 1) * SG_QA_WEEK_MS;
	if ((rc = sg_qa_facts_sync(s, first, &done, err)) < 0)
		return rc;
	trend = json_array();
	for (int k = weeks - 1; k >= 0; k--) {
		char name[SG_QA_PERIOD_LEN];
		int64_t f;
		json_t *w = NULL;
		sg_qa_week_of(name, &f, from_ms - (int64_t)k * SG_QA_WEEK_MS);
		if ((rc = week_json(&w, s, name, f, err)) < 0)
			goto cleanup;
		json_array_append_new(trend, trend_point(w));
		if (k == 1)
			prev = w;
		else if (k == 0)
			cur = w;
		else
			json_decref(w);
	}
	add_changes(cur, prev);
	card = json_object();
	json_object_set_new(card, "period", json_string(period));
	json_object_set(card, "from", json_object_get(cur, "from"));
	json_object_set(card, "to", json_object_get(cur, "to"));
	json_object_set(card, "previous_period", json_object_get(prev, "period"));
	json_object_set_new(card, "thresholds",
			    json_pack("{s:f, s:f, s:i, s:i}", "pause_below", cfg->pause_below,
				      "expand_above", cfg->expand_above, "expand_after_weeks",
				      cfg->expand_after, "min_scored", cfg->min_scored));
	json_object_set_new(card, "week", cur);
	cur = NULL;
	json_object_set_new(card, "previous", prev);
	prev = NULL;
	json_t *pauses = json_array(), *incidents = json_array();
	if ((rc = sg_store_qa_pause_list(s, 1, pause_row, pauses, err)) < 0 ||
	    (rc = sg_store_qa_incident_list(s, 1, incident_row, incidents, err)) < 0) {
		json_decref(pauses);
		json_decref(incidents);
		goto cleanup;
	}
	json_object_set_new(card, "paused", pauses);
	json_object_set_new(card, "open_incidents", incidents);
	json_object_set_new(card, "trend", trend);
	trend = NULL;
	*out = card;
	card = NULL;
	rc = 0;
cleanup:
	json_decref(card);
	json_decref(trend);
	json_decref(cur);
	json_decref(prev);
	return rc;
}
