/*
 * api.c - the ticket API of `sopgate serve`, its core: the shared helpers
 * (JSON columns, review state), the engine and its decision slots, policy
 * reload, the user and auth look-ups for the other handlers, metrics, the
 * QA loop's hooks and the life cycle (routes, new, free).
 */
#include "server/api_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "decide/engine.h"
#include "decide/engine_int.h"
#include "scan/scan.h"
#include "server/metrics.h"
#include "server/slack.h"
#include "core/banned.h"

/* ---- helpers ------------------------------------------------------------ */

int64_t api_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A JSON column: parsed, or as a string when it is not JSON. */
json_t *api_col_json(const struct sg_store_row *r, int i)
{
	const char *s = r->text[i];
	if (!s)
		return json_null();
	json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(s);
}

json_t *api_col_str(const struct sg_store_row *r, int i)
{
	return r->text[i] ? json_string(r->text[i]) : json_null();
}

json_t *api_iso_json(int64_t ms)
{
	char iso[25];
	sg_time_iso(ms, iso);
	return json_string(iso);
}

int api_role_at_least(const struct sg_user *u, enum sg_role r)
{
	return u && u->role >= r;
}

const char *api_review_status(const struct api_review *rv)
{
	if (!rv->approval_required)
		return "not_required";
	if (rv->rejects >= 2)
		return "escalated";
	if (!strcmp(rv->gate, "two_step") || rv->peer)
		return rv->a2 ? "approved" : rv->a1 ? "awaiting_second" : "pending";
	return rv->a1 ? "approved" : "pending";
}

void api_review_release(struct api_review *rv)
{
	json_decref(rv->decision);
	sg_free(rv->draft);
	memset(rv, 0, sizeof(*rv));
}

static int latest_row(const struct sg_store_row *r, void *ctx)
{
	struct api_review *rv = ctx;
	snprintf(rv->decision_id, sizeof(rv->decision_id), "%s", r->text[0] ? r->text[0] : "");
	snprintf(rv->gate, sizeof(rv->gate), "%s", r->text[1] ? r->text[1] : "");
	rv->decision = api_col_json(r, 2);
	rv->approval_required = json_is_true(json_object_get(rv->decision, "approval_required"));
	json_t *dr = json_object_get(rv->decision, "draft");
	const char *txt = json_string_value(json_object_get(dr, "text"));
	if (txt)
		rv->draft = sg_strdup(txt);
	return 1; /* one row */
}

static int approval_row(const struct sg_store_row *r, void *ctx)
{
	struct api_review *rv = ctx;
	const char *user = r->text[0] ? r->text[0] : "";
	const char *act = r->text[1] ? r->text[1] : "";
	if (!strcmp(act, "reject")) {
		rv->rejects++;
	} else if (r->num[2] == 2) {
		rv->a2++;
	} else {
		if (!rv->a1)
			snprintf(rv->step1_user, sizeof(rv->step1_user), "%s", user);
		rv->a1++;
	}
	return 0;
}

static int draft_row(const struct sg_store_row *r, void *ctx)
{
	struct api_review *rv = ctx;
	if (r->text[0]) {
		sg_free(rv->draft);
		rv->draft = sg_strdup(r->text[0]);
	}
	return 1;
}

/* Loads the review state from rs. 1 when the ticket is unknown. */
int api_review_load(struct sg_api *api, struct sg_store *rs, const char *ticket,
		    struct api_review *rv, struct sg_error *err)
{
	int rc;
	memset(rv, 0, sizeof(*rv));
	if ((rc = sg_store_view(rs, SG_STORE_VIEW_LATEST, ticket, latest_row, rv,
				err)) < 0) {
		api_review_release(rv);
		return rc;
	}
	if (!rv->decision_id[0])
		return 1;
	if ((rc = sg_store_view(rs, SG_STORE_VIEW_DECISION_APPROVALS, rv->decision_id,
				approval_row, rv, err)) < 0 ||
	    (rc = sg_store_view(rs, SG_STORE_VIEW_LATEST_DRAFT, ticket, draft_row, rv,
				err)) < 0) {
		api_review_release(rv);
		return rc;
	}
	return api_peer_load(api, rv, err);
}

/* ---- engine ------------------------------------------------------------- */

/* The engine's session_take hook: the day's sessions in the store. */
static int session_take(void *ctx, const char *day, long limit, struct sg_error *err)
{
	struct sg_api *api = ctx;
	pthread_mutex_lock(&api->mu_b);
	int rc = api->bstore ? sg_store_budget_session_take(api->bstore, day, limit, err)
			     : sg_error_set(err, SG_ESTORE, "the store is not open");
	pthread_mutex_unlock(&api->mu_b);
	return rc;
}

static int engine_load(struct sg_api *api, struct sg_cli_engine *ce,
		       struct sg_scan_ctx **scan, struct sg_error *err)
{
	struct sg_engine_options o = SG_ENGINE_OPTIONS_INIT;
	o.session_take = session_take;
	o.session_ctx = api;
	o.log = api->log;
	o.log_ctx = api->log_ctx;
	int rc = sg_cli_engine_open_with(ce, api->policy_path, api->no_classifier,
					 api->kb_db[0] ? api->kb_db : NULL, &o, err);
	if (rc < 0) {
		if (!err->code)
			sg_error_set(err, SG_EPOLICY, "'%s' has errors; see 'sopgate check %s'",
				     api->policy_path, api->policy_path);
		return rc;
	}
	if ((rc = sg_scan_ctx_new(scan, ce->engine->scanner, err)) < 0) {
		sg_cli_engine_close(ce);
		return rc;
	}
	return 0;
}

/* One run per slot for engine e; on failure none is left. */
static int slot_runs_new(struct sg_api *api, struct sg_engine *e,
			 struct sg_decide_run *runs[API_MAX_SLOTS], struct sg_error *err)
{
	for (unsigned i = 0; i < api->nslots; i++) {
		int rc = sg_decide_run_new(&runs[i], e, err);
		if (rc < 0) {
			while (i--)
				sg_decide_run_free(runs[i]);
			return rc;
		}
	}
	return 0;
}

/* Takes a free slot, or waits for one (the one after the last taken). */
struct decide_slot *api_slot_take(struct sg_api *api)
{
	unsigned start = atomic_fetch_add(&api->next_slot, 1) % api->nslots;
	for (unsigned i = 0; i < api->nslots; i++) {
		struct decide_slot *sl = &api->slots[(start + i) % api->nslots];
		if (pthread_mutex_trylock(&sl->mu) == 0)
			return sl;
	}
	pthread_mutex_lock(&api->slots[start].mu);
	return &api->slots[start];
}

int sg_api_reload(struct sg_api *api, struct sg_error *err)
{
	struct sg_cli_engine ce, old;
	struct sg_scan_ctx *scan = NULL, *old_scan;
	struct sg_decide_run *runs[API_MAX_SLOTS];
	int rc = engine_load(api, &ce, &scan, err);
	if (rc < 0)
		return rc;
	/* the new engine keeps the QA loop's pauses */
	if ((api->qa && (rc = sg_qa_api_pauses_to_engine(api->qa, ce.engine, err)) < 0) ||
	    (rc = slot_runs_new(api, ce.engine, runs, err)) < 0) {
		sg_scan_ctx_free(scan);
		sg_cli_engine_close(&ce);
		return rc;
	}
	/* every slot first (no decision is running on the old engine), then
	 * mu_decide, in this order only */
	for (unsigned i = 0; i < api->nslots; i++)
		pthread_mutex_lock(&api->slots[i].mu);
	pthread_mutex_lock(&api->mu_decide);
	old = api->ce;
	old_scan = api->scan;
	api->ce = ce;
	api->scan = scan;
	pthread_mutex_unlock(&api->mu_decide);
	for (unsigned i = 0; i < api->nslots; i++) {
		struct sg_decide_run *r = api->slots[i].run;
		api->slots[i].run = runs[i];
		runs[i] = r;
		pthread_mutex_unlock(&api->slots[i].mu);
	}
	for (unsigned i = 0; i < api->nslots; i++)
		sg_decide_run_free(runs[i]);
	sg_scan_ctx_free(old_scan);
	sg_cli_engine_close(&old);
	api_webhooks_configure(api);
	if (api->m_reload) {
		const char *v[] = {"ok"};
		sg_metric_inc(api->m_reload, v);
	}
	return 0;
}

static int h_reload(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		    struct sg_error *err)
{
	struct sg_api *api = ctx;
	(void)req;
	int rc = sg_api_reload(api, err);
	if (rc < 0) {
		if (api->m_reload) {
			const char *v[] = {"refused"};
			sg_metric_inc(api->m_reload, v);
		}
		/* the old policy stays: say so */
		char msg[600];
		sg_error_format(err, msg, sizeof(msg));
		sg_error_clear(err);
		return sg_error_set(err, SG_EPOLICY, "policy refused, the previous one stays: %s",
				    msg);
	}
	pthread_mutex_lock(&api->mu_decide);
	json_t *o = json_pack("{s:s, s:s}", "status", "reloaded", "policy_version",
			      api->ce.policy->version);
	pthread_mutex_unlock(&api->mu_decide);
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

/* ---- for other handlers (slack.c) ---------------------------------------- */

static int to_user(const struct sg_store_user *su, struct sg_user *out, struct sg_error *err);

struct find_user {
	const char *name;
	struct sg_store_user found;
	int hit;
};

static int find_user_cb(const struct sg_store_user *u, void *ctx)
{
	struct find_user *f = ctx;
	if (strcmp(u->name, f->name))
		return 0;
	f->found = *u;
	f->hit = 1;
	return 1;
}

int sg_api_user(struct sg_api *api, const char *name, struct sg_user *out, struct sg_error *err)
{
	struct find_user f = {name, {"", "", 0}, 0};
	pthread_mutex_lock(&api->mu_h);
	int rc = sg_store_user_list(api->hstore, find_user_cb, &f, err);
	pthread_mutex_unlock(&api->mu_h);
	if (rc < 0)
		return rc;
	if (!f.hit)
		return sg_error_set(err, SG_ENOTFOUND, "user '%.64s' not found", name);
	return to_user(&f.found, out, err);
}

int sg_api_with_policy(struct sg_api *api, int (*fn)(const struct sg_policy *p, void *ctx),
		       void *ctx)
{
	pthread_mutex_lock(&api->mu_decide);
	int rc = fn(api->ce.policy, ctx);
	pthread_mutex_unlock(&api->mu_decide);
	return rc;
}

/* ---- auth ops ------------------------------------------------------------- */

static int to_user(const struct sg_store_user *su, struct sg_user *out, struct sg_error *err)
{
	size_t n = strnlen(su->name, sizeof(su->name));
	if (n >= sizeof(out->name))
		return sg_error_set(err, SG_EUNAUTHORIZED, "user name too long");
	memcpy(out->name, su->name, n + 1);
	if (sg_role_parse(&out->role, su->role) < 0)
		return sg_error_set(err, SG_EUNAUTHORIZED, "unknown role");
	return 0;
}

static int a_verify(void *ctx, const char *token, struct sg_user *out, struct sg_error *err)
{
	struct sg_api *api = ctx;
	struct sg_store_user su;
	pthread_mutex_lock(&api->mu_h);
	int rc = sg_store_token_verify(api->hstore, token, &su, err);
	pthread_mutex_unlock(&api->mu_h);
	return rc < 0 ? rc : to_user(&su, out, err);
}

static int a_put(void *ctx, const char *sid, const struct sg_user *user, const char *csrf,
		 int64_t expires_ms, struct sg_error *err)
{
	struct sg_api *api = ctx;
	pthread_mutex_lock(&api->mu_h);
	int rc = sg_store_session_put(api->hstore, sid, user->name, csrf, expires_ms, err);
	pthread_mutex_unlock(&api->mu_h);
	return rc;
}

static int a_get(void *ctx, const char *sid, struct sg_user *out, char csrf[SG_CSRF_LEN],
		 int64_t *expires_ms, struct sg_error *err)
{
	struct sg_api *api = ctx;
	struct sg_store_user su;
	char c[SG_STORE_CSRF_LEN];
	pthread_mutex_lock(&api->mu_h);
	int rc = sg_store_session_get(api->hstore, sid, sg_now_ms(), &su, c, expires_ms, err);
	pthread_mutex_unlock(&api->mu_h);
	if (rc < 0)
		return rc;
	snprintf(csrf, SG_CSRF_LEN, "%s", c);
	return to_user(&su, out, err);
}

static int a_del(void *ctx, const char *sid, struct sg_error *err)
{
	struct sg_api *api = ctx;
	pthread_mutex_lock(&api->mu_h);
	int rc = sg_store_session_del(api->hstore, sid, err);
	pthread_mutex_unlock(&api->mu_h);
	return rc;
}

struct sg_auth_ops sg_api_auth(struct sg_api *api)
{
	struct sg_auth_ops o = {api, a_verify, a_put, a_get, a_del};
	return o;
}

/* ---- metrics ------------------------------------------------------------- */

/* The group committer's counters, added to /metrics as they grow; the
 * mean batch is batched writes / commits. */
static void collect_batches(void *ctx, struct sg_metrics *reg)
{
	(void)reg;
	struct sg_api *api = ctx;
	struct sg_store_batch_stats st;
	if (!api->batch)
		return;
	sg_store_batcher_stats(api->batch, &st);
	pthread_mutex_lock(&api->mu_stats);
	sg_metric_add(api->m_commits, NULL, (double)(st.commits - api->seen.commits));
	sg_metric_add(api->m_bwrites, NULL, (double)(st.writes - api->seen.writes));
	api->seen = st;
	pthread_mutex_unlock(&api->mu_stats);
}

static void collect_queue(void *ctx, struct sg_metrics *reg)
{
	struct sg_api *api = ctx;
	(void)reg;
	struct api_queue_filter f = {NULL, NULL, NULL, -1};
	struct sg_error err = SG_ERROR_INIT;
	json_t *items = json_array();
	struct sg_store *rs = sg_store_pool_get(api->rpool);
	int rc = api_queue_list(api, rs, &f, items, &err);
	sg_store_pool_put(api->rpool, rs);
	if (rc == 0) {
		json_t *counts = json_object();
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it) {
			const char *q = json_string_value(json_object_get(it, "queue"));
			json_t *c = json_object_get(counts, q ? q : "");
			json_object_set_new(counts, q ? q : "",
					    json_integer(json_integer_value(c) + 1));
		}
		const char *k;
		json_t *v;
		json_object_foreach(counts, k, v) {
			const char *lv[] = {k};
			sg_metric_set(api->m_queue, lv, (double)json_integer_value(v));
		}
		json_decref(counts);
	}
	json_decref(items);
}

int sg_api_metrics(struct sg_api *api, struct sg_metrics *reg, struct sg_error *err)
{
	static const char *const gt[] = {"gate", "tier", NULL};
	static const char *const ty[] = {"type", NULL};
	static const char *const qu[] = {"queue", NULL};
	static const char *const lv[] = {"level", NULL};
	static const char *const ac[] = {"action", NULL};
	static const char *const rs[] = {"result", NULL};
	static const char *const vr[] = {"vendor", "result", NULL};
	static const char *const fl[] = {"field", NULL};
	static const char *const rsn[] = {"reason", NULL};
	static const double b[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25,
				   0.5, 1, 2.5};
	int rc;
	if ((rc = sg_metrics_counter(&api->m_decisions, reg, "sopgate_decisions_total",
				     "Decisions stored, by gate and risk tier.", gt, err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_guard, reg, "sopgate_guardrail_hits_total",
				     "Decisions in which a guardrail type fired, by type.", ty,
				     err)) < 0 ||
	    (rc = sg_metrics_gauge(&api->m_queue, reg, "sopgate_queue_depth",
				   "Tickets waiting for a human approval, by queue.", qu, err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_breach, reg, "sopgate_sla_breaches_total",
				     "Escalations whose SLA due time passed, by level.", lv,
				     err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_human, reg, "sopgate_human_actions_total",
				     "Reviewer actions, by action.", ac, err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_reload, reg, "sopgate_policy_reloads_total",
				     "Policy reloads, by result.", rs, err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_webhook, reg, "sopgate_webhook_events_total",
				     "Helpdesk webhook deliveries, by vendor and result.", vr,
				     err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_shadow_eval, reg, "sopgate_shadow_evaluated_total",
				     "Ticket events decided under the shadow policy.", NULL,
				     err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_shadow_diff, reg,
				     "sopgate_shadow_tickets_differing_total",
				     "Ticket events the shadow policy decided differently.", NULL,
				     err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_shadow_fields, reg,
				     "sopgate_shadow_differences_total",
				     "Shadow-policy differences, by decision field.", fl, err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_shadow_drop, reg, "sopgate_shadow_dropped_total",
				     "Shadow differences not recorded (pending list full).", NULL,
				     err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_peer, reg, "sopgate_peer_reviews_total",
				     "Sends of onboarding reviewers held for a peer's approval, by "
				     "reason (first_tickets, random).", rsn, err)) < 0 ||
	    (rc = sg_metrics_histogram(&api->m_latency, reg, "sopgate_ticket_seconds",
				       "Time to decide and durably store one ticket event.", NULL,
				       b, sizeof(b) / sizeof(b[0]), err)) < 0)
		return rc;
	if ((rc = sg_metrics_counter(&api->m_commits, reg, "sopgate_store_commits_total",
				     "Group-commit transactions (one WAL fsync each).", NULL,
				     err)) < 0 ||
	    (rc = sg_metrics_counter(&api->m_bwrites, reg, "sopgate_store_batched_writes_total",
				     "Ticket writes answered by the group committer.", NULL,
				     err)) < 0)
		return rc;
	if (sg_metrics_on_collect(reg, collect_queue, api) < 0 ||
	    sg_metrics_on_collect(reg, collect_batches, api) < 0)
		return sg_error_set(err, SG_ELIMIT, "too many metric collectors");
	return 0;
}

/* ---- the QA loop (qa_api.c) ------------------------------------------ */

static void qa_config(void *ctx, struct sg_qa_config *out)
{
	struct sg_api *api = ctx;
	pthread_mutex_lock(&api->mu_decide);
	sg_qa_config_from_policy(out, api->ce.policy);
	pthread_mutex_unlock(&api->mu_decide);
}

/* The engine learns the categories the QA loop paused now. */
void api_qa_pauses_changed(void *ctx)
{
	struct sg_api *api = ctx;
	struct sg_error err = SG_ERROR_INIT;
	if (!api->qa)
		return;
	pthread_mutex_lock(&api->mu_decide);
	if (sg_qa_api_pauses_to_engine(api->qa, api->ce.engine, &err) < 0)
		fprintf(stderr, "sopgate: qa pauses: %s\n", err.msg);
	pthread_mutex_unlock(&api->mu_decide);
}

/* ---- life cycle ------------------------------------------------------- */

const struct sg_route *sg_api_routes(struct sg_api *api, size_t *n)
{
	*n = api->nroutes;
	return api->routes;
}

int sg_api_new(struct sg_api **out, const struct sg_api_options *o, struct sg_error *err)
{
	*out = NULL;
	if (!o->policy_path)
		return sg_error_set(err, SG_EINVALID, "a policy is required");
	const char *url = o->store_url ? o->store_url : "sqlite:sopgate.db";
	struct sg_api *api = sg_calloc(1, sizeof(*api));
	if (!api)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	int rc;
	if (snprintf(api->policy_path, sizeof(api->policy_path), "%s", o->policy_path) >=
	    (int)sizeof(api->policy_path)) {
		sg_free(api);
		return sg_error_set(err, SG_EINVALID, "path too long");
	}
	if (o->worker) {
		snprintf(api->worker, sizeof(api->worker), "%s", o->worker);
	} else if (!strncmp(url, "sqlite:", 7)) {
		snprintf(api->worker, sizeof(api->worker), "serve");
	} else {
		char host[32] = "";
		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = 0;
		for (char *h = host; *h; h++)
			if (*h == '.') { *h = 0; break; }
		snprintf(api->worker, sizeof(api->worker), "serve-%.24s-%ld", host, (long)getpid());
	}
	snprintf(api->worker_review, sizeof(api->worker_review), "%s-review", api->worker);
	snprintf(api->worker_peer, sizeof(api->worker_peer), "%s-peer", api->worker);
	snprintf(api->worker_qa, sizeof(api->worker_qa), "%s-qa", api->worker);
	api->no_classifier = o->no_classifier;
	api->log = o->log;
	api->log_ctx = o->log_ctx;
	if (o->kb_db)
		snprintf(api->kb_db, sizeof(api->kb_db), "%s", o->kb_db);
	pthread_mutex_init(&api->mu_decide, NULL);
	pthread_mutex_init(&api->mu_b, NULL);
	pthread_mutex_init(&api->mu_stats, NULL);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	api->nslots = ncpu < 2 ? 2 : ncpu > API_MAX_SLOTS ? API_MAX_SLOTS : (unsigned)ncpu;
	for (unsigned i = 0; i < api->nslots; i++)
		pthread_mutex_init(&api->slots[i].mu, NULL);
	pthread_mutex_init(&api->mu_h, NULL);
	pthread_mutex_init(&api->mu_wh, NULL);
	pthread_mutex_init(&api->mu_shadow, NULL);
	pthread_mutex_init(&api->mu_x, NULL);
	snprintf(api->zd_env_flag, sizeof(api->zd_env_flag), "%s",
		 o->zendesk_secret_env ? o->zendesk_secret_env : "");
	snprintf(api->ic_env_flag, sizeof(api->ic_env_flag), "%s",
		 o->intercom_secret_env ? o->intercom_secret_env : "");
	const struct sg_route r[API_NROUTES] = {
		{"POST", "/v1/tickets", SG_ROLE_AGENT, 0, api_h_post_ticket, api},
		{"GET", "/v1/queue", SG_ROLE_AGENT, 0, api_h_queue, api},
		{"GET", "/v1/tickets/{id}", SG_ROLE_AGENT, 0, api_h_ticket, api},
		{"POST", "/v1/tickets/{id}/approve", SG_ROLE_AGENT, 0, api_h_approve, api},
		{"POST", "/v1/tickets/{id}/edit", SG_ROLE_AGENT, 0, api_h_edit, api},
		{"POST", "/v1/tickets/{id}/reject", SG_ROLE_AGENT, 0, api_h_reject, api},
		{"GET", "/v1/audit", SG_ROLE_AGENT, 0, api_h_audit, api},
		{"POST", "/v1/policy/reload", SG_ROLE_ADMIN, 0, h_reload, api},
		{"GET", "/v1/outbox", SG_ROLE_LEAD, 0, api_h_outbox, api},
		{"POST", "/v1/webhooks/slack", SG_ROLE_NONE, SG_ROUTE_PUBLIC, sg_slack_interact, api},
		{"POST", "/v1/webhooks/zendesk", SG_ROLE_NONE, SG_ROUTE_PUBLIC, api_h_zendesk, api},
		{"POST", "/v1/webhooks/intercom", SG_ROLE_NONE, SG_ROUTE_PUBLIC, api_h_intercom, api},
		{"GET", "/v1/shadow", SG_ROLE_AGENT, 0, api_h_shadow_get, api},
		{"POST", "/v1/shadow", SG_ROLE_ADMIN, 0, api_h_shadow_set, api},
		{"DELETE", "/v1/shadow", SG_ROLE_ADMIN, 0, api_h_shadow_clear, api},
		{"GET", "/v1/me", SG_ROLE_AGENT, 0, api_h_me, api},
		{"POST", "/v1/users/{name}/onboarding", SG_ROLE_LEAD, 0, api_h_onboarding, api},
	};
	memcpy(api->routes, r, sizeof(r));
	api->nroutes = API_NROUTES;
	char worker_budget[64];
	snprintf(worker_budget, sizeof(worker_budget), "%s-budget", api->worker);
	if ((rc = engine_load(api, &api->ce, &api->scan, err)) < 0)
		goto fail;
	struct sg_decide_run *runs[API_MAX_SLOTS];
	if ((rc = slot_runs_new(api, api->ce.engine, runs, err)) < 0)
		goto fail;
	for (unsigned i = 0; i < api->nslots; i++)
		api->slots[i].run = runs[i];
	api_webhooks_configure(api);
	if ((rc = sg_store_open(&api->wstore, url, api->worker, err)) < 0 ||
	    (rc = sg_store_open(&api->hstore, url, api->worker_review, err)) < 0 ||
	    (rc = sg_store_open(&api->xstore, url, api->worker_peer, err)) < 0 ||
	    (rc = sg_store_open(&api->bstore, url, worker_budget, err)) < 0 ||
	    (rc = sg_store_batcher_start(&api->batch, api->wstore, SG_STORE_MAX_BATCH, err)) < 0)
		goto fail;
	if ((rc = sg_store_pool_open(&api->rpool, url, "serve-read", API_READERS, err)) < 0)
		goto fail;
	struct sg_qa_api_options qo = {url, api->worker_qa, qa_config, api_qa_pauses_changed, api};
	if ((rc = sg_qa_api_new(&api->qa, &qo, err)) < 0 ||
	    (rc = sg_qa_api_pauses_to_engine(api->qa, api->ce.engine, err)) < 0)
		goto fail;
	api->nroutes += sg_qa_api_routes(api->qa, api->routes + api->nroutes);
	if (o->shadow_path && (rc = api_shadow_set(api, o->shadow_path, "serve", err)) < 0)
		goto fail;
	*out = api;
	return 0;
fail:
	sg_api_free(api);
	return rc;
}

void sg_api_free(struct sg_api *api)
{
	if (!api)
		return;
	if (api->batch)
		sg_store_batcher_stop(api->batch);
	sg_qa_api_free(api->qa);
	if (api->hstore) {
		struct sg_error e = SG_ERROR_INIT;
		api_shadow_flush(api, &e);
	}
	api_shadow_batch_free(api->spend);
	sg_cli_engine_close(&api->shadow);
	sg_store_close(api->wstore);
	sg_store_close(api->hstore);
	sg_store_pool_close(api->rpool);
	sg_store_close(api->xstore);
	sg_store_close(api->bstore);
	for (unsigned i = 0; i < api->nslots; i++) {
		sg_decide_run_free(api->slots[i].run);
		pthread_mutex_destroy(&api->slots[i].mu);
	}
	pthread_mutex_destroy(&api->mu_stats);
	sg_scan_ctx_free(api->scan);
	sg_cli_engine_close(&api->ce);
	pthread_mutex_destroy(&api->mu_decide);
	pthread_mutex_destroy(&api->mu_b);
	pthread_mutex_destroy(&api->mu_h);
	pthread_mutex_destroy(&api->mu_wh);
	pthread_mutex_destroy(&api->mu_shadow);
	pthread_mutex_destroy(&api->mu_x);
	memset(api->zd_secret, 0, sizeof(api->zd_secret));
	memset(api->ic_secret, 0, sizeof(api->ic_secret));
	sg_free(api);
}
