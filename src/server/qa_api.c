/*
 * qa_api.c - the QA loop's routes: GET /v1/scorecard and /v1/qa/scorecard
 * (JSON), /v1/qa/charts/{name} (SVG), /v1/qa/report (HTML), samples,
 * POST /v1/qa/sample, /v1/qa/samples/{id}/score, /v1/qa/apply, pauses and
 * their lifting, incidents and their closing, and POST /v1/qa/csat. Reads
 * are open to agents; sampling, scoring and lifting need a lead.
 */
#include "server/qa_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/id.h"
#include "core/json.h"
#include "store/store.h"
#include "core/banned.h"

struct sg_qa_api {
	struct sg_qa_api_options o;
	pthread_mutex_t mu;        /* the store connection */
	struct sg_store *s;
	int64_t next_auto_ms;      /* next check for a week to sample */
};

#define QA_AUTO_EVERY_MS (3600LL * 1000)

static void config(struct sg_qa_api *q, struct sg_qa_config *c)
{
	if (q->o.config)
		q->o.config(q->o.ctx, c);
	else
		sg_qa_config_default(c);
}

/* ?week= (a week or a date; default this week) and ?weeks= (2..52, 8). */
static int week_query(const struct sg_http_req *req, char week[SG_QA_PERIOD_LEN],
		      int64_t *from, int *weeks, struct sg_error *err)
{
	const char *w = NULL, *n = NULL;
	int rc;
	if ((rc = sg_http_query(&w, req, "week", err)) < 0 ||
	    (rc = sg_http_query(&n, req, "weeks", err)) < 0)
		return rc;
	if (w && *w) {
		if ((rc = sg_qa_week_parse(week, from, w, err)) < 0)
			return rc;
	} else {
		sg_qa_week_of(week, from, sg_now_ms());
	}
	if (weeks) {
		*weeks = 8;
		if (n && *n) {
			char *end;
			long v = strtol(n, &end, 10);
			if (*end || v < 2 || v > SG_QA_MAX_TREND)
				return sg_error_set(err, SG_EINVALID, "query 'weeks': expected 2..%d, "
						    "got '%.20s'", SG_QA_MAX_TREND, n);
			*weeks = (int)v;
		}
	}
	return 0;
}

static int card(struct sg_qa_api *q, const struct sg_http_req *req, json_t **out,
		struct sg_error *err)
{
	char week[SG_QA_PERIOD_LEN];
	int64_t from;
	int weeks, rc;
	struct sg_qa_config c;
	if ((rc = week_query(req, week, &from, &weeks, err)) < 0)
		return rc;
	config(q, &c);
	pthread_mutex_lock(&q->mu);
	rc = sg_qa_scorecard(out, q->s, &c, week, from, weeks, err);
	pthread_mutex_unlock(&q->mu);
	return rc;
}

static int h_scorecard(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		       struct sg_error *err)
{
	json_t *j = NULL;
	int rc = card(ctx, req, &j, err);
	if (rc < 0)
		return rc;
	rc = sg_http_resp_json(resp, 200, j);
	json_decref(j);
	return rc;
}

static int h_chart(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		   struct sg_error *err)
{
	const char *name = sg_http_param(req, "name");
	int known = 0;
	for (size_t i = 0; sg_qa_chart_names[i]; i++)
		known |= !strcmp(name, sg_qa_chart_names[i]);
	if (!known)
		return sg_error_set(err, SG_ENOTFOUND, "chart '%.40s': expected trend, accuracy, "
				    "tiers, categories, guardrails or reply", name);
	json_t *j = NULL;
	int rc = card(ctx, req, &j, err);
	if (rc < 0)
		return rc;
	rc = sg_qa_chart_svg(&resp->body, j, name, err);
	json_decref(j);
	if (rc == 0)
		snprintf(resp->content_type, sizeof(resp->content_type), "image/svg+xml");
	return rc;
}

static int h_report(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		    struct sg_error *err)
{
	json_t *j = NULL;
	int rc = card(ctx, req, &j, err);
	if (rc < 0)
		return rc;
	sg_qa_scorecard_html(&resp->body, j);
	json_decref(j);
	if (resp->body.oom)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	snprintf(resp->content_type, sizeof(resp->content_type), "text/html; charset=utf-8");
	return 0;
}

static int sample_json(const struct sg_store_qa_sample *x, void *ctx)
{
	char at[25];
	sg_time_iso(x->created_ms, at);
	json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:s?, s:s}",
					     "id", x->id, "period", x->period, "ticket_id",
					     x->ticket_id, "decision_id", x->decision_id,
					     "category", x->category, "kind", x->kind, "scored",
					     x->scored, "accurate",
					     x->scored ? json_boolean(x->accurate) : json_null(),
					     "reviewer", x->scored ? x->reviewer : NULL,
					     "sampled_at", at));
	return 0;
}

static int h_samples(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		     struct sg_error *err)
{
	struct sg_qa_api *q = ctx;
	char week[SG_QA_PERIOD_LEN];
	int64_t from;
	int rc = week_query(req, week, &from, NULL, err);
	if (rc < 0)
		return rc;
	json_t *items = json_array();
	pthread_mutex_lock(&q->mu);
	rc = sg_store_qa_sample_list(q->s, week, sample_json, items, err);
	pthread_mutex_unlock(&q->mu);
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	json_t *o = json_pack("{s:s, s:I, s:o}", "period", week, "count",
			      (json_int_t)json_array_size(items), "items", items);
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

/* {"week": "2026-W49"} (default: the last complete week). */
static int body_week(const struct sg_http_req *req, json_t **body, char week[SG_QA_PERIOD_LEN],
		     int64_t *from, struct sg_error *err)
{
	const char *w = NULL;
	int rc;
	*body = NULL;
	if (req->body_len) {
		if ((rc = sg_http_json_body(body, req, err)) < 0)
			return rc;
		if ((rc = sg_json_str(*body, "week", "week", 0, &w, err)) < 0)
			return rc;
	}
	if (w)
		return sg_qa_week_parse(week, from, w, err);
	sg_qa_week_of(week, from, sg_now_ms() - SG_QA_WEEK_MS);
	return 0;
}

static int h_sample(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		    struct sg_error *err)
{
	struct sg_qa_api *q = ctx;
	char week[SG_QA_PERIOD_LEN];
	int64_t from;
	json_t *body = NULL;
	struct sg_qa_config c;
	struct sg_qa_sample_result r;
	int rc = body_week(req, &body, week, &from, err);
	json_decref(body);
	if (rc < 0)
		return rc;
	config(q, &c);
	pthread_mutex_lock(&q->mu);
	rc = sg_qa_sample(q->s, &c, week, from, 0, req->user->name, &r, err);
	pthread_mutex_unlock(&q->mu);
	if (rc < 0)
		return rc;
	json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "period", week, "existed",
			      r.existed, "ai_population", (json_int_t)r.ai_population,
			      "human_population", (json_int_t)r.human_population, "ai_sampled",
			      (json_int_t)r.ai_sampled, "human_sampled",
			      (json_int_t)r.human_sampled, "categories", (json_int_t)r.categories);
	rc = sg_http_resp_json(resp, r.existed ? 200 : 201, o);
	json_decref(o);
	return rc;
}

static json_t *outcome_json(const struct sg_qa_outcome *oc)
{
	json_t *p = json_array(), *s = json_array();
	for (size_t i = 0; i < oc->npaused; i++)
		json_array_append_new(p, json_string(oc->paused[i]));
	for (size_t i = 0; i < oc->nsuggested; i++)
		json_array_append_new(s, json_string(oc->suggested[i]));
	return json_pack("{s:b, s:o, s:o, s:s?}", "accurate", oc->accurate, "paused", p,
			 "suggested", s, "incident_id",
			 oc->incident_id[0] ? oc->incident_id : NULL);
}

static int h_score(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		   struct sg_error *err)
{
	struct sg_qa_api *q = ctx;
	json_t *body = NULL;
	struct sg_qa_score_input in;
	struct sg_qa_outcome oc;
	struct sg_qa_config c;
	int rc = sg_http_json_body(&body, req, err);
	if (rc < 0)
		return rc;
	if ((rc = sg_qa_score_from_json(&in, body, err)) < 0)
		goto cleanup;
	in.sample_id = sg_http_param(req, "id");
	in.reviewer = req->user->name;
	config(q, &c);
	pthread_mutex_lock(&q->mu);
	rc = sg_qa_score(q->s, &c, &in, &oc, err);
	pthread_mutex_unlock(&q->mu);
	if (rc < 0)
		goto cleanup;
	if (oc.npaused && q->o.pauses_changed)
		q->o.pauses_changed(q->o.ctx);
	json_t *o = outcome_json(&oc);
	json_object_set_new(o, "sample_id", json_string(in.sample_id));
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
cleanup:
	json_decref(body);
	return rc;
}

static int h_apply(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		   struct sg_error *err)
{
	struct sg_qa_api *q = ctx;
	char week[SG_QA_PERIOD_LEN];
	int64_t from;
	json_t *body = NULL;
	struct sg_qa_outcome oc;
	struct sg_qa_config c;
	memset(&oc, 0, sizeof(oc));
	int rc = body_week(req, &body, week, &from, err);
	json_decref(body);
	if (rc < 0)
		return rc;
	config(q, &c);
	pthread_mutex_lock(&q->mu);
	rc = sg_qa_rules_apply(q->s, &c, week, from, req->user->name, 0, &oc, err);
	pthread_mutex_unlock(&q->mu);
	if (rc < 0)
		return rc;
	if (oc.npaused && q->o.pauses_changed)
		q->o.pauses_changed(q->o.ctx);
	json_t *o = outcome_json(&oc);
	json_object_del(o, "accurate");
	json_object_set_new(o, "period", json_string(week));
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

static int pause_json(const struct sg_store_qa_pause *p, void *ctx)
{
	char since[25], lifted[25];
	sg_time_iso(p->opened_ms, since);
	sg_time_iso(p->lifted_ms, lifted);
	json_array_append_new(ctx, json_pack("{s:s, s:s, s:f, s:i, s:s, s:s?, s:s?}", "category",
					     p->category, "period", p->period, "accuracy",
					     p->accuracy_bp / 10000.0, "scored", p->scored,
					     "since", since, "lifted_at",
					     p->lifted_ms ? lifted : NULL, "lifted_by",
					     p->lifted_ms ? p->lifted_by : NULL));
	return 0;
}

static int all_query(const struct sg_http_req *req, int *all, struct sg_error *err)
{
	const char *a = NULL;
	int rc = sg_http_query(&a, req, "all", err);
	*all = a && (!strcmp(a, "1") || !strcmp(a, "true"));
	return rc < 0 ? rc : 0;
}

/* 200 with {"items": items} when the listing (rc) succeeded; items is
 * consumed either way. */
static int items_reply(struct sg_http_resp *resp, json_t *items, int rc)
{
	if (rc < 0) {
		json_decref(items);
		return rc;
	}
	json_t *o = json_pack("{s:o}", "items", items);
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

static int h_pauses(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		    struct sg_error *err)
{
	struct sg_qa_api *q = ctx;
	int all, rc = all_query(req, &all, err);
	if (rc < 0)
		return rc;
	json_t *items = json_array();
	pthread_mutex_lock(&q->mu);
	rc = sg_store_qa_pause_list(q->s, !all, pause_json, items, err);
	pthread_mutex_unlock(&q->mu);
	return items_reply(resp, items, rc);
}

static int h_lift(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		  struct sg_error *err)
{
	struct sg_qa_api *q = ctx;
	const char *cat = sg_http_param(req, "category");
	pthread_mutex_lock(&q->mu);
	int rc = sg_qa_lift(q->s, cat, req->user->name, err);
	pthread_mutex_unlock(&q->mu);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return sg_error_set(err, SG_ENOTFOUND, "auto-send of '%.64s' is not paused", cat);
	if (q->o.pauses_changed)
		q->o.pauses_changed(q->o.ctx);
	json_t *o = json_pack("{s:s, s:s, s:s}", "category", cat, "status", "lifted", "by",
			      req->user->name);
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

static int incident_json(const struct sg_store_qa_incident *x, void *ctx)
{
	char opened[25], due[25];
	sg_time_iso(x->opened_ms, opened);
	sg_time_iso(x->due_ms, due);
	json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?}", "id",
					     x->id, "ticket_id", x->ticket_id, "sample_id",
					     x->sample_id, "category", x->category, "state",
					     x->state, "opened_at", opened, "report_due", due,
					     "closed_by", x->closed_ms ? x->closed_by : NULL));
	return 0;
}

static int h_incidents(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		       struct sg_error *err)
{
	struct sg_qa_api *q = ctx;
	int all, rc = all_query(req, &all, err);
	if (rc < 0)
		return rc;
	json_t *items = json_array();
	pthread_mutex_lock(&q->mu);
	rc = sg_store_qa_incident_list(q->s, !all, incident_json, items, err);
	pthread_mutex_unlock(&q->mu);
	return items_reply(resp, items, rc);
}

static int h_close(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		   struct sg_error *err)
{
	struct sg_qa_api *q = ctx;
	const char *id = sg_http_param(req, "id");
	pthread_mutex_lock(&q->mu);
	int rc = sg_qa_incident_close(q->s, id, req->user->name, err);
	pthread_mutex_unlock(&q->mu);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return sg_error_set(err, SG_ENOTFOUND, "no open incident '%.64s'", id);
	json_t *o = json_pack("{s:s, s:s, s:s}", "id", id, "state", "closed", "by",
			      req->user->name);
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

static int h_csat(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		  struct sg_error *err)
{
	struct sg_qa_api *q = ctx;
	json_t *body = NULL;
	const char *ticket = NULL;
	double score = 0;
	int rc = sg_http_json_body(&body, req, err);
	if (rc < 0)
		return rc;
	if ((rc = sg_json_str(body, "ticket_id", "ticket_id", 1, &ticket, err)) < 0 ||
	    (rc = sg_json_num(body, "score", "score", 1, &score, err)) < 0)
		goto cleanup;
	if (score != (int)score || score < 1 || score > 5) {
		rc = sg_error_set(err, SG_EINVALID, "field 'score': expected a whole number 1..5");
		goto cleanup;
	}
	pthread_mutex_lock(&q->mu);
	rc = sg_store_qa_csat_put(q->s, ticket, (int)score, 0, err);
	pthread_mutex_unlock(&q->mu);
	if (rc < 0)
		goto cleanup;
	json_t *o = json_pack("{s:s, s:i}", "ticket_id", ticket, "score", (int)score);
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
cleanup:
	json_decref(body);
	return rc;
}

size_t sg_qa_api_routes(struct sg_qa_api *q, struct sg_route *out)
{
	const struct sg_route r[SG_QA_API_NROUTES] = {
		{"GET", "/v1/scorecard", SG_ROLE_AGENT, 0, h_scorecard, q},
		{"GET", "/v1/qa/scorecard", SG_ROLE_AGENT, 0, h_scorecard, q},
		{"GET", "/v1/qa/charts/{name}", SG_ROLE_AGENT, 0, h_chart, q},
		{"GET", "/v1/qa/report", SG_ROLE_AGENT, 0, h_report, q},
		{"GET", "/v1/qa/samples", SG_ROLE_AGENT, 0, h_samples, q},
		{"POST", "/v1/qa/sample", SG_ROLE_LEAD, 0, h_sample, q},
		{"POST", "/v1/qa/samples/{id}/score", SG_ROLE_LEAD, 0, h_score, q},
		{"POST", "/v1/qa/apply", SG_ROLE_LEAD, 0, h_apply, q},
		{"GET", "/v1/qa/pauses", SG_ROLE_AGENT, 0, h_pauses, q},
		{"POST", "/v1/qa/pauses/{category}/lift", SG_ROLE_LEAD, 0, h_lift, q},
		{"GET", "/v1/qa/incidents", SG_ROLE_AGENT, 0, h_incidents, q},
		{"POST", "/v1/qa/incidents/{id}/close", SG_ROLE_LEAD, 0, h_close, q},
		{"POST", "/v1/qa/csat", SG_ROLE_AGENT, 0, h_csat, q},
	};
	memcpy(out, r, sizeof(r));
	return SG_QA_API_NROUTES;
}

int sg_qa_api_new(struct sg_qa_api **out, const struct sg_qa_api_options *o,
		  struct sg_error *err)
{
	*out = NULL;
	struct sg_qa_api *q = sg_calloc(1, sizeof(*q));
	if (!q)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	q->o = *o;
	pthread_mutex_init(&q->mu, NULL);
	int rc = sg_store_open(&q->s, o->store_url, o->writer ? o->writer : "serve-qa", err);
	if (rc < 0) {
		sg_qa_api_free(q);
		return rc;
	}
	*out = q;
	return 0;
}

void sg_qa_api_free(struct sg_qa_api *q)
{
	if (!q)
		return;
	sg_store_close(q->s);
	pthread_mutex_destroy(&q->mu);
	sg_free(q);
}

int sg_qa_api_tick(struct sg_qa_api *q, int64_t now_ms, struct sg_error *err)
{
	if (now_ms < q->next_auto_ms)
		return 0;
	q->next_auto_ms = now_ms + QA_AUTO_EVERY_MS;
	struct sg_qa_config c;
	struct sg_qa_sample_result r;
	char week[SG_QA_PERIOD_LEN];
	config(q, &c);
	pthread_mutex_lock(&q->mu);
	int rc = sg_qa_auto_sample(q->s, &c, now_ms, "qa-auto", week, &r, err);
	pthread_mutex_unlock(&q->mu);
	if (rc < 0)
		return rc;
	if (r.existed)
		return 0;
	fprintf(stderr, "sopgate serve: QA sample of %s drawn: %ld of %ld AI-handled, %ld of %ld "
		"human-reviewed tickets\n", week, r.ai_sampled, r.ai_population, r.human_sampled,
		r.human_population);
	return 1;
}

int sg_qa_api_pauses_to_engine(struct sg_qa_api *q, struct sg_engine *e, struct sg_error *err)
{
	pthread_mutex_lock(&q->mu);
	int rc = sg_qa_pauses_to_engine(q->s, e, err);
	pthread_mutex_unlock(&q->mu);
	return rc;
}
