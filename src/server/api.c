/*
 * api.c - the ticket API of `sopgate serve`: POST /v1/tickets (decide and
 * store in one transaction through the group committer), the review queue,
 * the ticket view, approve/edit/reject with the approval rules, the audit
 * trail of a ticket, policy reload, metrics and the SLA breach tick.
 */
#include "server/api.h"

#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "cli/engine_setup.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/json.h"
#include "core/limits.h"
#include "decide/engine.h"
#include "decide/engine_int.h"
#include "policy/policy.h"
#include "connectors/connector.h"
#include "scan/scan.h"
#include "server/metrics.h"
#include "server/qa_api.h"
#include "server/shadow.h"
#include "server/slack.h"
#include "server/webhook_map.h"
#include "server/webhook_sig.h"
#include "store/store.h"
#include "core/banned.h"

#define API_NROUTES 17
#define API_SECRET_MAX 256       /* bytes of a webhook signing secret */
#define API_QUEUE_MAX 500        /* rows a queue answer lists */
#define API_DEFAULT_SLA_MIN 60   /* escalation SLA when the decision has none */
#define API_BREACH_MAX_LEVEL 3   /* a breach escalates up to this level */
#define API_EDIT_MAX 20000       /* bytes of an edited draft */
#define API_NOTE_MAX 2000
#define API_MAX_SLOTS 16         /* decisions running at once, at most */
#define API_READERS 4            /* connections serving the read views */

struct sg_api {
	char policy_path[PATH_MAX], kb_db[PATH_MAX];
	char worker[48], worker_review[64]; /* audit chains and lease owner */
	char worker_peer[64];               /* the peer-review reader's name */
	int no_classifier;

	pthread_mutex_t mu_decide;   /* the engine, its run and scan ctx */
	struct sg_cli_engine ce;
	struct sg_scan_ctx *scan;

	/* POST /v1/tickets decides in parallel: the engine is read-only once
	 * built, and each slot holds a run (the per-thread state) of it under
	 * its own lock. A reload takes every slot (after mu_decide) to swap. */
	struct decide_slot {
		pthread_mutex_t mu;
		struct sg_decide_run *run;
	} slots[API_MAX_SLOTS];
	unsigned nslots;
	_Atomic unsigned next_slot;

	pthread_mutex_t mu_stats;    /* group-commit counters already reported */
	struct sg_store_batch_stats seen;
	struct sg_metric *m_commits, *m_bwrites;

	struct sg_store *wstore;     /* owned by the group committer */
	struct sg_store_batcher *batch;

	pthread_mutex_t mu_h;        /* hstore: human actions, auth, SLA */
	struct sg_store *hstore;

	struct sg_store_pool *rpool;  /* read views, one connection per reader */

	struct sg_route routes[API_NROUTES + SG_QA_API_NROUTES];
	size_t nroutes;
	struct sg_qa_api *qa;        /* the QA loop's routes (qa_api.c) */
	char worker_qa[64];
	struct sg_metric *m_decisions, *m_guard, *m_queue, *m_breach, *m_latency,
		*m_human, *m_reload;

	/* webhooks: secrets read from the environment at start and reload */
	pthread_mutex_t mu_wh;
	char zd_env_flag[128], ic_env_flag[128];  /* serve flags; "" = the policy's */
	char zd_env[128], ic_env[128];            /* the variables in use */
	char zd_secret[API_SECRET_MAX], ic_secret[API_SECRET_MAX];
	double zd_max_age_s;
	struct sg_metric *m_webhook;

	/* shadow policy: its own engine under mu_shadow (never taken with
	 * mu_decide held), and the diffs waiting for their write */
	pthread_mutex_t mu_shadow;
	int shadow_on;                 /* read on the hot path without the lock */
	struct sg_cli_engine shadow;   /* .policy NULL: none */
	char shadow_path[PATH_MAX], shadow_by[SG_USER_NAME_MAX];
	char shadow_version[65], shadow_last[65];
	int64_t shadow_since;
	struct shadow_batch *spend;
	struct sg_metric *m_shadow_eval, *m_shadow_diff, *m_shadow_fields, *m_shadow_drop;

	/* onboarding reviewers: peer reviews are read through their own
	 * connection, taken last (after mu_h and a read connection), never
	 * holding another */
	pthread_mutex_t mu_x;
	struct sg_store *xstore;
	struct sg_metric *m_peer;
};

static void qa_pauses_changed(void *ctx);
/* Shadow diffs evaluated but not yet written, all of one shadow version. */
struct shadow_row {
	struct sg_store_shadow_diff d;
	char buf[];
};
struct shadow_batch {
	char version[65];
	long evaluated, differing, dropped;
	size_t n;
	struct shadow_row *rows[SG_SHADOW_MAX_PENDING];
};

static void webhooks_configure(struct sg_api *api);
struct review;
static int peer_load(struct sg_api *api, struct review *rv, struct sg_error *err);
static json_t *peer_json(const struct review *rv);
static void shadow_eval(struct sg_api *api, const struct sg_ticket *t,
			const struct sg_shadow_view *live, const char *live_version);

/* ---- helpers ------------------------------------------------------------ */

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A JSON column: parsed, or as a string when it is not JSON. */
static json_t *col_json(const struct sg_store_row *r, int i)
{
	const char *s = r->text[i];
	if (!s)
		return json_null();
	json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(s);
}

static json_t *col_str(const struct sg_store_row *r, int i)
{
	return r->text[i] ? json_string(r->text[i]) : json_null();
}

static json_t *iso_json(int64_t ms)
{
	char iso[25];
	sg_time_iso(ms, iso);
	return json_string(iso);
}

static int role_at_least(const struct sg_user *u, enum sg_role r)
{
	return u && u->role >= r;
}

/* The review state of a ticket's latest decision, from its approvals. */
struct review {
	char decision_id[SG_ID_LEN];
	char gate[32];
	int approval_required;
	int a1, a2, rejects;
	char step1_user[SG_USER_NAME_MAX];
	json_t *decision;             /* owned */
	char *draft;                  /* latest draft text, heap or NULL */
	int peer;                     /* an onboarding reviewer's approval waits for a peer */
	struct sg_store_peer_review pr;
};

static const char *review_status(const struct review *rv)
{
	if (!rv->approval_required)
		return "not_required";
	if (rv->rejects >= 2)
		return "escalated";
	if (!strcmp(rv->gate, "two_step") || rv->peer)
		return rv->a2 ? "approved" : rv->a1 ? "awaiting_second" : "pending";
	return rv->a1 ? "approved" : "pending";
}

static void review_release(struct review *rv)
{
	json_decref(rv->decision);
	sg_free(rv->draft);
	memset(rv, 0, sizeof(*rv));
}

static int latest_row(const struct sg_store_row *r, void *ctx)
{
	struct review *rv = ctx;
	snprintf(rv->decision_id, sizeof(rv->decision_id), "%s", r->text[0] ? r->text[0] : "");
	snprintf(rv->gate, sizeof(rv->gate), "%s", r->text[1] ? r->text[1] : "");
	rv->decision = col_json(r, 2);
	rv->approval_required = json_is_true(json_object_get(rv->decision, "approval_required"));
	json_t *dr = json_object_get(rv->decision, "draft");
	const char *txt = json_string_value(json_object_get(dr, "text"));
	if (txt)
		rv->draft = sg_strdup(txt);
	return 1; /* one row */
}

static int approval_row(const struct sg_store_row *r, void *ctx)
{
	struct review *rv = ctx;
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
	struct review *rv = ctx;
	if (r->text[0]) {
		sg_free(rv->draft);
		rv->draft = sg_strdup(r->text[0]);
	}
	return 1;
}

/* Loads the review state from rs. 1 when the ticket is unknown. */
static int review_load(struct sg_api *api, struct sg_store *rs, const char *ticket,
		       struct review *rv, struct sg_error *err)
{
	int rc;
	memset(rv, 0, sizeof(*rv));
	if ((rc = sg_store_view(rs, SG_STORE_VIEW_LATEST, ticket, latest_row, rv,
				err)) < 0) {
		review_release(rv);
		return rc;
	}
	if (!rv->decision_id[0])
		return 1;
	if ((rc = sg_store_view(rs, SG_STORE_VIEW_DECISION_APPROVALS, rv->decision_id,
				approval_row, rv, err)) < 0 ||
	    (rc = sg_store_view(rs, SG_STORE_VIEW_LATEST_DRAFT, ticket, draft_row, rv,
				err)) < 0) {
		review_release(rv);
		return rc;
	}
	return peer_load(api, rv, err);
}

/* ---- engine ------------------------------------------------------------- */

static int engine_load(struct sg_api *api, struct sg_cli_engine *ce,
		       struct sg_scan_ctx **scan, struct sg_error *err)
{
	int rc = sg_cli_engine_open(ce, api->policy_path, api->no_classifier,
				    api->kb_db[0] ? api->kb_db : NULL, err);
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
static struct decide_slot *slot_take(struct sg_api *api)
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
	webhooks_configure(api);
	if (api->m_reload) {
		const char *v[] = {"ok"};
		sg_metric_inc(api->m_reload, v);
	}
	return 0;
}

/* ---- POST /v1/tickets ------------------------------------------------- */

/* The event as stored: identifiers and the masked text only, never the
 * raw body, subject, customer name, email or phone. */
static json_t *masked_event(const struct sg_ticket *t, const struct sg_decision *d)
{
	json_t *e = json_object();
	json_object_set_new(e, "id", json_string(t->id));
	json_object_set_new(e, "event_id", json_string(t->event_id));
	json_object_set_new(e, "channel", json_string(t->channel ? t->channel : "email"));
	if (t->priority)
		json_object_set_new(e, "priority", json_string(t->priority));
	if (t->created_at)
		json_object_set_new(e, "created_at", json_string(t->created_at));
	json_t *c = json_object();
	if (t->customer.id)
		json_object_set_new(c, "id", json_string(t->customer.id));
	if (t->customer.tier)
		json_object_set_new(c, "tier", json_string(t->customer.tier));
	json_object_set_new(e, "customer", c);
	json_object_set_new(e, "text", json_string(d->masked_text ? d->masked_text : ""));
	return e;
}

/* What a person notified about the ticket needs (Slack escalation format:
 * customer name, tier, tenure, LTV; the issue; the agent's finding; the
 * recommendation). Masked text only, besides the customer's name. */
static json_t *action_context(const struct sg_ticket *t, const struct sg_decision *d)
{
	json_t *c = json_object(), *cust = json_object();
	if (!c || !cust) {
		json_decref(c);
		json_decref(cust);
		return NULL;
	}
	json_object_set_new(c, "ticket_id", json_string(t->id));
	if (t->customer.id)
		json_object_set_new(cust, "id", json_string(t->customer.id));
	if (t->customer.name)
		json_object_set_new(cust, "name", json_string(t->customer.name));
	if (t->customer.tier)
		json_object_set_new(cust, "tier", json_string(t->customer.tier));
	if (t->customer.tenure_months > 0)
		json_object_set_new(cust, "tenure_months", json_real(t->customer.tenure_months));
	if (t->customer.ltv > 0)
		json_object_set_new(cust, "ltv", json_real(t->customer.ltv));
	json_object_set_new(c, "customer", cust);
	/* the issue: the summary's first line, else the start of the text */
	char issue[300] = "";
	const char *sum = d->summary;
	if (sum && !strncmp(sum, "Customer issue: ", 16))
		snprintf(issue, sizeof(issue), "%.*s", (int)strcspn(sum + 16, "\n"), sum + 16);
	else if (d->masked_text)
		snprintf(issue, sizeof(issue), "%.*s", (int)strcspn(d->masked_text, "\n"),
			 d->masked_text);
	json_object_set_new(c, "issue", json_string(issue));
	/* the agent's finding: the draft when there is one, else the reasons */
	struct sg_buf f = SG_BUF_INIT;
	if (d->draft_text) {
		sg_buf_adds(&f, d->draft_text);
	} else {
		for (size_t i = 0; i < d->nreasons && i < 3; i++)
			sg_buf_addf(&f, "%s%s", i ? "; " : "", d->reasons[i].detail ?
				    d->reasons[i].detail : d->reasons[i].rule);
	}
	json_object_set_new(c, "finding", json_string(f.oom ? "" : f.data));
	sg_buf_release(&f);
	char rec[300];
	double refund = json_number_value(json_object_get(t->facts, "refund_amount"));
	if (refund > 0)
		snprintf(rec, sizeof(rec), "Refund of $%.2f requested: a human decides (gate %s)",
			 refund, d->gate);
	else
		snprintf(rec, sizeof(rec), "%s (gate %s)", d->next_action ? d->next_action : "review",
			 d->gate);
	json_object_set_new(c, "recommendation", json_string(rec));
	json_object_set_new(c, "intent", json_string(d->intent ? d->intent : ""));
	json_object_set_new(c, "risk_tier", json_string(d->risk_tier ? d->risk_tier : ""));
	json_object_set_new(c, "gate", json_string(d->gate ? d->gate : ""));
	if (d->urgency)
		json_object_set_new(c, "urgency", json_string(d->urgency));
	return c;
}

static char *adup(struct sg_arena *a, const char *s)
{
	if (!s)
		s = "";
	size_t n = strlen(s) + 1;
	char *p = sg_arena_alloc(a, n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static int ticket_json(struct sg_api *api, json_t *event, int *status,
		       struct sg_buf *out, struct sg_error *err)
{
	struct sg_arena arena;
	struct sg_ticket t;
	struct sg_decision d;
	struct sg_ticket_write w;
	struct sg_outbox_action *acts = NULL;
	json_t *actions = NULL, *ev = NULL;
	char *ev_text = NULL, **payloads = NULL;
	struct sg_buf dj = SG_BUF_INIT;
	const char *types[SG_DECISION_MAX_TYPES];
	size_t ntypes = 0, nacts = 0;
	int rc, have_t = 0;
	int64_t t0 = mono_ns();
	struct sg_shadow_view *live = NULL; /* only while a shadow policy is set */
	char live_version[65] = "";

	memset(&w, 0, sizeof(w));
	sg_arena_init(&arena, 0);
	if ((rc = sg_ticket_from_json(&t, event, &arena, err)) < 0)
		goto cleanup;
	have_t = 1;

	struct decide_slot *slot = slot_take(api);
	rc = sg_decide(&d, slot->run, &t, NULL, err);
	if (rc == 0) {
		sg_decision_to_json(&d, &dj);
		actions = sg_decide_actions(slot->run);
		/* people notified get the context to act on */
		for (size_t i = 0; actions && i < json_array_size(actions); i++) {
			json_t *a = json_array_get(actions, i);
			const char *k = json_string_value(json_object_get(a, "kind"));
			if (k && (!strcmp(k, "notify") || !strcmp(k, "escalate")))
				json_object_set_new(a, "context", action_context(&t, &d));
		}
		/* connectors with `record: true` get the decision itself */
		if (!dj.oom && actions) {
			json_t *dec = json_loadb(dj.data, dj.len, 0, NULL);
			if (!dec || sg_connectors_record_actions(api->ce.policy, dec, actions, err) < 0)
				rc = sg_error_set(err, SG_ENOMEM, "out of memory queueing the decision "
						  "for the connectors");
			json_decref(dec);
		}
		ev = masked_event(&t, &d);
		w.gate = adup(&arena, d.gate);
		w.risk_tier = adup(&arena, d.risk_tier);
		w.intent = adup(&arena, d.intent);
		w.queue = adup(&arena, d.routed_queue ? d.routed_queue : "default");
		w.policy_version = adup(&arena, d.policy_version);
		w.state = d.approval_required ? "review" : "open";
		for (size_t i = 0; i < d.nguardrail_types && ntypes < SG_DECISION_MAX_TYPES; i++)
			types[ntypes++] = adup(&arena, d.guardrail_types[i]);
		if (__atomic_load_n(&api->shadow_on, __ATOMIC_ACQUIRE) &&
		    (live = sg_arena_alloc(&arena, sizeof(*live)))) {
			sg_shadow_view_of(live, &d);
			snprintf(live_version, sizeof(live_version), "%s", d.policy_version);
		}
	}
	pthread_mutex_unlock(&slot->mu);
	if (rc < 0)
		goto cleanup;
	if (dj.oom || !ev || !(ev_text = json_dumps(ev, JSON_COMPACT))) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory building the decision");
		goto cleanup;
	}
	nacts = json_array_size(actions);
	if (nacts) {
		acts = sg_calloc(nacts, sizeof(*acts));
		payloads = sg_calloc(nacts, sizeof(*payloads));
		if (!acts || !payloads) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t i = 0; i < nacts; i++) {
			json_t *a = json_array_get(actions, i);
			const char *kind = json_string_value(json_object_get(a, "kind"));
			payloads[i] = json_dumps(a, JSON_COMPACT);
			if (!payloads[i]) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory");
				goto cleanup;
			}
			acts[i].kind = kind && *kind ? kind : "action";
			acts[i].target = json_string_value(json_object_get(a, "channel"));
			acts[i].payload = payloads[i];
		}
	}
	w.ticket_id = t.id;
	w.event_id = t.event_id;
	w.event_json = ev_text;
	w.decision_json = dj.data;
	w.actions = acts;
	w.nactions = nacts;
	if ((rc = sg_store_batcher_write(api->batch, &w, err)) < 0)
		goto cleanup;
	sg_buf_reset(out);
	if (w.existed) {
		*status = 200;
		sg_buf_adds(out, w.stored_decision ? w.stored_decision : "{}");
	} else {
		*status = 201;
		sg_buf_add(out, dj.data, dj.len);
		if (live)
			shadow_eval(api, &t, live, live_version);
		if (api->m_decisions) {
			const char *v[] = {w.gate, w.risk_tier};
			sg_metric_inc(api->m_decisions, v);
			for (size_t i = 0; i < ntypes; i++) {
				const char *tv[] = {types[i]};
				sg_metric_inc(api->m_guard, tv);
			}
			sg_metric_observe(api->m_latency, NULL,
					  (double)(mono_ns() - t0) / 1e9);
		}
	}
	if (out->oom)
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
cleanup:
	for (size_t i = 0; payloads && i < nacts; i++)
		sg_free(payloads[i]);
	sg_free(payloads);
	sg_free(acts);
	sg_free(w.stored_decision);
	sg_free(ev_text);
	json_decref(ev);
	json_decref(actions);
	sg_buf_release(&dj);
	if (have_t)
		sg_ticket_release(&t);
	sg_arena_release(&arena);
	return rc;
}

int sg_api_ticket(struct sg_api *api, const char *json, size_t len, int *status,
		  struct sg_buf *out, struct sg_error *err)
{
	json_t *ev = NULL;
	int rc = sg_json_parse(&ev, json, len, err);
	if (rc < 0)
		return rc;
	if (!json_is_object(ev)) {
		json_decref(ev);
		return sg_error_set(err, SG_EJSON, "expected a JSON object");
	}
	rc = ticket_json(api, ev, status, out, err);
	json_decref(ev);
	return rc;
}

static int h_post_ticket(void *ctx, const struct sg_http_req *req,
			 struct sg_http_resp *resp, struct sg_error *err)
{
	struct sg_api *api = ctx;
	json_t *ev = NULL;
	int status = 0;
	int rc = sg_http_json_body(&ev, req, err);
	if (rc < 0)
		return rc;
	rc = ticket_json(api, ev, &status, &resp->body, err);
	json_decref(ev);
	if (rc < 0)
		return rc;
	resp->status = status;
	return 0;
}

/* ---- GET /v1/queue ------------------------------------------------------ */

struct queue_filter {
	const char *queue, *gate, *tier;
	double due_within_min; /* < 0: no filter */
};

struct queue_ctx {
	const struct queue_filter *f;
	int64_t now;
	json_t *items;
	struct sg_api *api;
	struct sg_error *err;
};

static int queue_row(const struct sg_store_row *r, void *ctx)
{
	struct queue_ctx *qc = ctx;
	const struct queue_filter *f = qc->f;
	if (json_array_size(qc->items) >= API_QUEUE_MAX)
		return 1;
	struct review rv;
	memset(&rv, 0, sizeof(rv));
	rv.approval_required = 1;
	snprintf(rv.gate, sizeof(rv.gate), "%s", r->text[2] ? r->text[2] : "");
	rv.rejects = (int)r->num[9];
	rv.a1 = (int)r->num[10];
	rv.a2 = (int)r->num[11];
	snprintf(rv.decision_id, sizeof(rv.decision_id), "%s", r->text[1] ? r->text[1] : "");
	if (rv.a1 && peer_load(qc->api, &rv, qc->err) < 0)
		return -SG_ESTORE;
	const char *status = review_status(&rv);
	if (strcmp(status, "pending") && strcmp(status, "awaiting_second"))
		return 0;
	int64_t created = r->num[6];
	int64_t sla_min = r->text[7] ? r->num[7] : 0;
	int64_t due = sla_min > 0 ? created + sla_min * 60000 : 0;
	if (f->due_within_min >= 0 &&
	    (!due || (double)(due - qc->now) > f->due_within_min * 60000.0))
		return 0;
	json_t *it = json_object();
	json_object_set_new(it, "ticket_id", col_str(r, 0));
	json_object_set_new(it, "decision_id", col_str(r, 1));
	json_object_set_new(it, "gate", col_str(r, 2));
	json_object_set_new(it, "risk_tier", col_str(r, 3));
	json_object_set_new(it, "queue", col_str(r, 4));
	json_object_set_new(it, "intent", col_str(r, 5));
	json_object_set_new(it, "confidence_band", col_str(r, 12));
	json_object_set_new(it, "created_at", iso_json(created));
	json_object_set_new(it, "sla_due_at", due ? iso_json(due) : json_null());
	json_object_set_new(it, "sla_breached", json_boolean(due && due < qc->now));
	json_object_set_new(it, "guardrail_types", col_json(r, 8));
	json_object_set_new(it, "status", json_string(status));
	json_object_set_new(it, "rejections", json_integer(rv.rejects));
	json_array_append_new(qc->items, it);
	return 0;
}

/* Builds the review queue: latest decisions needing approval and not yet
 * approved or escalated. */
static int queue_list(struct sg_api *api, struct sg_store *rs, const struct queue_filter *f,
		      json_t *items, struct sg_error *err)
{
	struct queue_ctx qc = {f, sg_now_ms(), items, api, err};
	struct sg_store_queue_filter sf = {f->queue, f->gate, f->tier};
	return sg_store_queue_scan(rs, &sf, queue_row, &qc, err);
}

static int h_queue(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		   struct sg_error *err)
{
	struct sg_api *api = ctx;
	struct queue_filter f = {NULL, NULL, NULL, -1};
	const char *due = NULL;
	int rc;
	if ((rc = sg_http_query(&f.queue, req, "queue", err)) < 0 ||
	    (rc = sg_http_query(&f.gate, req, "gate", err)) < 0 ||
	    (rc = sg_http_query(&f.tier, req, "tier", err)) < 0 ||
	    (rc = sg_http_query(&due, req, "due_within", err)) < 0)
		return rc;
	if (f.queue && !*f.queue) f.queue = NULL;
	if (f.gate && !*f.gate) f.gate = NULL;
	if (f.tier && !*f.tier) f.tier = NULL;
	if (due && *due) {
		char *end;
		f.due_within_min = strtod(due, &end);
		if (*end || f.due_within_min < 0 || f.due_within_min > 1e7)
			return sg_error_set(err, SG_EINVALID, "query 'due_within': expected "
					    "minutes (a number from 0), got '%.40s'", due);
	}
	json_t *items = json_array();
	struct sg_store *rs = sg_store_pool_get(api->rpool);
	rc = queue_list(api, rs, &f, items, err);
	sg_store_pool_put(api->rpool, rs);
	if (rc == 0) {
		json_t *o = json_pack("{s:o, s:I}", "items", items,
				      "count", (json_int_t)json_array_size(items));
		rc = sg_http_resp_json(resp, 200, o);
		json_decref(o);
		return rc;
	}
	json_decref(items);
	return rc;
}

/* ---- GET /v1/tickets/{id}, GET /v1/audit ------------------------------- */

static int audit_row(const struct sg_store_row *r, void *ctx)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", col_str(r, 0));
	json_object_set_new(o, "chain", col_str(r, 1));
	json_object_set_new(o, "seq", json_integer(r->num[2]));
	json_object_set_new(o, "created_at", iso_json(r->num[3]));
	json_object_set_new(o, "actor", col_str(r, 4));
	json_object_set_new(o, "action", col_str(r, 5));
	json_object_set_new(o, "body", col_json(r, 6));
	json_object_set_new(o, "prev_hash", col_str(r, 7));
	json_object_set_new(o, "hash", col_str(r, 8));
	json_array_append_new(ctx, o);
	return 0;
}

static int audit_rows(struct sg_store *rs, const char *ticket, json_t *arr,
		      struct sg_error *err)
{
	return sg_store_view(rs, SG_STORE_VIEW_AUDIT, ticket, audit_row, arr, err);
}

struct rows_ctx {
	const char *const *names;
	json_t *arr;
};

static int named_row(const struct sg_store_row *r, void *ctx)
{
	struct rows_ctx *rc = ctx;
	json_t *o = json_object();
	for (int i = 0; rc->names[i] && i < r->ncol; i++) {
		const char *n = rc->names[i];
		json_t *v;
		if (n[0] == '@') { /* a time in ms */
			n++;
			v = r->text[i] ? iso_json(r->num[i]) : json_null();
		} else if (n[0] == '#') { /* JSON text */
			n++;
			v = col_json(r, i);
		} else if (n[0] == '=') { /* an integer */
			n++;
			v = json_integer(r->num[i]);
		} else {
			v = col_str(r, i);
		}
		json_object_set_new(o, n, v);
	}
	json_array_append_new(rc->arr, o);
	return 0;
}

static int rows_into(struct sg_store *rs, enum sg_store_view view, const char *ticket,
		     const char *const *names, json_t *arr, struct sg_error *err)
{
	struct rows_ctx rc = {names, arr};
	return sg_store_view(rs, view, ticket, named_row, &rc, err);
}

static int h_ticket(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		    struct sg_error *err)
{
	struct sg_api *api = ctx;
	const char *id = sg_http_param(req, "id");
	struct review rv;
	json_t *o = NULL;
	int rc;
	struct sg_store *rs = sg_store_pool_get(api->rpool);
	rc = review_load(api, rs, id, &rv, err);
	if (rc == 1) {
		sg_store_pool_put(api->rpool, rs);
		return sg_error_set(err, SG_ENOTFOUND, "ticket '%.128s' not found", id);
	}
	if (rc == 0) {
		json_t *events = json_array(), *decisions = json_array(), *drafts = json_array(),
		       *approvals = json_array(), *escal = json_array(), *audit = json_array();
		static const char *const ev_n[] = {"event_id", "@received_at", "decision_id",
						   "#event", NULL};
		static const char *const d_n[] = {"id", "event_id", "@created_at", "#decision",
						  NULL};
		static const char *const dr_n[] = {"=version", "author", "text", "diff",
						   "@created_at", NULL};
		static const char *const a_n[] = {"user", "role", "action", "=step", "note",
						  "@created_at", "decision_id", NULL};
		static const char *const e_n[] = {"id", "=level", "owner", "channel", "reason",
						  "@due_at", "state", "@created_at", NULL};
		if ((rc = rows_into(rs, SG_STORE_VIEW_EVENTS, id, ev_n, events, err)) < 0 ||
		    (rc = rows_into(rs, SG_STORE_VIEW_DECISIONS, id, d_n, decisions, err)) < 0 ||
		    (rc = rows_into(rs, SG_STORE_VIEW_DRAFTS, id, dr_n, drafts, err)) < 0 ||
		    (rc = rows_into(rs, SG_STORE_VIEW_APPROVALS, id, a_n, approvals, err)) < 0 ||
		    (rc = rows_into(rs, SG_STORE_VIEW_ESCALATIONS, id, e_n, escal, err)) < 0 ||
		    (rc = audit_rows(rs, id, audit, err)) < 0) {
			json_decref(events); json_decref(decisions); json_decref(drafts);
			json_decref(approvals); json_decref(escal); json_decref(audit);
		} else {
			o = json_pack("{s:s, s:s, s:s, s:O, s:s?, s:o, s:o, s:o, s:o, s:o, s:o}",
				      "id", id, "status", review_status(&rv), "decision_id",
				      rv.decision_id, "decision", rv.decision, "draft", rv.draft,
				      "events", events, "decisions", decisions, "drafts", drafts,
				      "approvals", approvals, "escalations", escal, "audit", audit);
			if (o)
				json_object_set_new(o, "peer_review", peer_json(&rv));
		}
		review_release(&rv);
	}
	sg_store_pool_put(api->rpool, rs);
	if (rc < 0)
		return rc;
	if (!o)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

static int h_audit(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		   struct sg_error *err)
{
	struct sg_api *api = ctx;
	const char *ticket = NULL;
	int rc = sg_http_query(&ticket, req, "ticket", err);
	if (rc < 0)
		return rc;
	if (!ticket || !*ticket)
		return sg_error_set(err, SG_EINVALID, "query 'ticket': required");
	json_t *arr = json_array();
	struct sg_store *rs = sg_store_pool_get(api->rpool);
	rc = audit_rows(rs, ticket, arr, err);
	sg_store_pool_put(api->rpool, rs);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	json_t *o = json_pack("{s:s, s:o}", "ticket", ticket, "records", arr);
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

/* ---- GET /v1/outbox ----------------------------------------------------- */

static int outbox_row(const struct sg_outbox_row *r, void *ctx)
{
	char next[25], created[25];
	sg_time_iso(r->next_attempt_ms, next);
	sg_time_iso(r->created_ms, created);
	json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:i, s:s, s:s, s:s?}", "id", r->id,
			      "state", r->state, "ticket_id", r->ticket_id, "kind", r->kind,
			      "target", r->target, "attempts", r->attempts, "next_attempt_at", next,
			      "created_at", created, "last_error", r->last_error);
	return o && json_array_append_new(ctx, o) == 0 ? 0 : 1;
}

/* Outbound actions for leads and admins: the counts by state and the
 * actions in one state (default dead: the dead letters to act on). */
static int h_outbox(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		    struct sg_error *err)
{
	struct sg_api *api = ctx;
	const char *state = NULL, *lim = NULL;
	unsigned long limit = 100;
	int rc;
	if ((rc = sg_http_query(&state, req, "state", err)) < 0 ||
	    (rc = sg_http_query(&lim, req, "limit", err)) < 0)
		return rc;
	if (!state || !*state)
		state = "dead";
	if (lim && *lim) {
		char *end;
		limit = strtoul(lim, &end, 10);
		if (*end || limit < 1 || limit > 1000)
			return sg_error_set(err, SG_EINVALID, "query 'limit': expected 1..1000, "
					    "got '%.40s'", lim);
	}
	json_t *items = json_array(), *counts = json_object();
	long n;
	struct sg_store *rs = sg_store_pool_get(api->rpool);
	rc = sg_store_outbox_list(rs, state, NULL, limit, outbox_row, items, err);
	static const char *const states[] = {"pending", "sent", "dead"};
	for (size_t i = 0; rc == 0 && i < 3; i++)
		if ((rc = sg_store_outbox_count(rs, states[i], &n, err)) == 0)
			json_object_set_new(counts, states[i], json_integer(n));
	sg_store_pool_put(api->rpool, rs);
	if (rc < 0) {
		json_decref(items);
		json_decref(counts);
		return rc;
	}
	json_t *o = json_pack("{s:s, s:o, s:o}", "state", state, "counts", counts, "items", items);
	rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

/* ---- onboarding reviewers --------------------------------------------------- */

/* The peer review a decision waits for, into rv (rv->decision_id set);
 * mu_x is taken here and nothing else while it is held. */
static int peer_load(struct sg_api *api, struct review *rv, struct sg_error *err)
{
	pthread_mutex_lock(&api->mu_x);
	int rc = sg_store_peer_review(api->xstore, rv->decision_id, &rv->pr, err);
	pthread_mutex_unlock(&api->mu_x);
	if (rc < 0)
		return rc;
	rv->peer = rc == 0;
	return 0;
}

static json_t *peer_json(const struct review *rv)
{
	if (!rv->peer)
		return json_null();
	return json_pack("{s:s, s:s, s:o}", "first_approval_by", rv->pr.user, "reason",
			 rv->pr.reason, "created_at", iso_json(rv->pr.created_ms));
}

struct onboarding_check {
	int onboarding, needs_peer;
	char reason[200];
	const char *why;              /* metric label: first_tickets | random */
};

/* A uniform draw in [0, 1) from the system's randomness. */
static double draw(void)
{
	uint32_t r = 0;
	if (sg_random_bytes(&r, sizeof(r)) < 0)
		return 0; /* no randomness: err on the side of review */
	return (double)r / 4294967296.0;
}

/* The onboarding rules of the approve/edit flow (docs/server.md): an
 * onboarding reviewer's send needs a peer's second approval for their
 * first N sends, then for a random share; a ticket waiting for a peer
 * takes its second approval at step 2 from a different reviewer who is
 * not onboarding. mu_h held. */
static int onboarding_rules(struct sg_api *api, const struct sg_user *u, struct review *rv,
			    const char *action, int *step, struct onboarding_check *out,
			    struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	struct sg_store_onboarding st;
	int rc = sg_store_user_onboarding(api->hstore, u->name, &st, err);
	if (rc == -SG_ENOTFOUND) { /* a user only the session knows: no rule */
		sg_error_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	int reject = !strcmp(action, "reject");
	if (rv->peer && rv->a1 && !reject) {
		*step = 2;
		if (!strcmp(rv->pr.user, u->name))
			return sg_error_set(err, SG_EFORBIDDEN, "onboarding: the peer approval must "
					    "come from a different user than '%s'", rv->pr.user);
	}
	if (!st.onboarding || reject)
		return 0;
	if (*step == 2)
		return sg_error_set(err, SG_EFORBIDDEN, "onboarding: '%s' is an onboarding "
				    "reviewer and cannot give a second approval", u->name);
	pthread_mutex_lock(&api->mu_decide);
	double first = api->ce.policy->onboarding.peer_review_first;
	double share = api->ce.policy->onboarding.random_review_share;
	pthread_mutex_unlock(&api->mu_decide);
	out->onboarding = 1;
	long n = st.tickets + 1; /* this send */
	if ((double)n <= first) {
		out->needs_peer = 1;
		out->why = "first_tickets";
		snprintf(out->reason, sizeof(out->reason), "onboarding: send %ld of the first "
			 "%.0f, each needs a peer's approval", n, first);
	} else if (draw() < share) {
		out->needs_peer = 1;
		out->why = "random";
		snprintf(out->reason, sizeof(out->reason), "onboarding: drawn for peer review "
			 "(%.0f%% of sends after the first %.0f)", share * 100, first);
	} else {
		snprintf(out->reason, sizeof(out->reason), "onboarding: not drawn for peer "
			 "review (%.0f%% of sends after the first %.0f)", share * 100, first);
	}
	return 0;
}

static int h_me(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		struct sg_error *err)
{
	struct sg_api *api = ctx;
	struct sg_store_onboarding st = {0, 0};
	pthread_mutex_lock(&api->mu_h);
	int rc = sg_store_user_onboarding(api->hstore, req->user->name, &st, err);
	pthread_mutex_unlock(&api->mu_h);
	if (rc == -SG_ENOTFOUND) {
		sg_error_clear(err);
		rc = 0;
	}
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&api->mu_decide);
	json_t *o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:f}", "user", req->user->name, "role",
			      sg_role_name(req->user->role), "onboarding", st.onboarding,
			      "onboarding_tickets", (json_int_t)st.tickets, "peer_review_first",
			      (json_int_t)api->ce.policy->onboarding.peer_review_first,
			      "random_review_share", api->ce.policy->onboarding.random_review_share);
	pthread_mutex_unlock(&api->mu_decide);
	rc = o ? sg_http_resp_json(resp, 200, o) : sg_error_set(err, SG_ENOMEM, "out of memory");
	json_decref(o);
	return rc;
}

/* POST /v1/users/{name}/onboarding {"onboarding": false} graduates a
 * reviewer (true starts onboarding again); role lead or above. */
static int h_onboarding(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
			struct sg_error *err)
{
	struct sg_api *api = ctx;
	const char *name = sg_http_param(req, "name");
	json_t *body = NULL;
	int on = 0;
	int rc = sg_http_json_body(&body, req, err);
	if (rc < 0)
		return rc;
	if ((rc = sg_json_bool(body, "onboarding", "onboarding", 1, &on, err)) == 0) {
		pthread_mutex_lock(&api->mu_h);
		rc = sg_store_user_onboarding_set(api->hstore, req->user->name, name, on, err);
		pthread_mutex_unlock(&api->mu_h);
	}
	json_decref(body);
	if (rc < 0)
		return rc;
	json_t *o = json_pack("{s:s, s:b}", "user", name, "onboarding", on);
	rc = o ? sg_http_resp_json(resp, 200, o) : sg_error_set(err, SG_ENOMEM, "out of memory");
	json_decref(o);
	return rc;
}

/* ---- approve / edit / reject ---------------------------------------------- */

/* A line diff: common leading and trailing lines kept out, the changed
 * middle as "-old" and "+new" lines under one "@@" header. */
static void line_diff(struct sg_buf *b, const char *a, const char *n)
{
	const char *la[512], *lb[512];
	size_t na = 0, nb = 0;
	for (const char *p = a; na < 512;) {
		la[na++] = p;
		p = strchr(p, '\n');
		if (!p) break;
		p++;
	}
	for (const char *p = n; nb < 512;) {
		lb[nb++] = p;
		p = strchr(p, '\n');
		if (!p) break;
		p++;
	}
#define LINE_LEN(s) (strchr((s), '\n') ? (size_t)(strchr((s), '\n') - (s)) : strlen(s))
#define LINE_EQ(x, y) (LINE_LEN(x) == LINE_LEN(y) && !memcmp((x), (y), LINE_LEN(x)))
	size_t pre = 0, suf = 0;
	while (pre < na && pre < nb && LINE_EQ(la[pre], lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre &&
	       LINE_EQ(la[na - 1 - suf], lb[nb - 1 - suf]))
		suf++;
	sg_buf_addf(b, "@@ -%zu,%zu +%zu,%zu @@\n", pre + 1, na - pre - suf, pre + 1,
		    nb - pre - suf);
	for (size_t i = pre; i < na - suf; i++) {
		sg_buf_addc(b, '-');
		sg_buf_add(b, la[i], LINE_LEN(la[i]));
		sg_buf_addc(b, '\n');
	}
	for (size_t i = pre; i < nb - suf; i++) {
		sg_buf_addc(b, '+');
		sg_buf_add(b, lb[i], LINE_LEN(lb[i]));
		sg_buf_addc(b, '\n');
	}
#undef LINE_EQ
#undef LINE_LEN
}

/* Opens a level-n escalation with its audit record, in one transaction;
 * mu_h held. */
/* Opens an escalation and its audit record inside the open transaction. */
static int escalate_in_tx(struct sg_api *api, const char *ticket, int level, const char *owner,
			  const char *channel, const char *reason, int sla_min,
			  const char *actor, char id[SG_ID_LEN], struct sg_error *err)
{
	int rc;
	int64_t due = sg_now_ms() + (int64_t)sla_min * 60000;
	if ((rc = sg_store_escalation_open(api->hstore, ticket, level, owner, channel, reason,
					   due, id, err)) == 0) {
		struct sg_audit_record r;
		memset(&r, 0, sizeof(r));
		snprintf(r.actor, sizeof(r.actor), "%s", actor);
		snprintf(r.action, sizeof(r.action), "escalate");
		snprintf(r.ticket_id, sizeof(r.ticket_id), "%s", ticket);
		json_t *b = json_pack("{s:s, s:i, s:s, s:s?, s:s, s:I}", "escalation_id", id,
				      "level", level, "owner", owner, "channel", channel,
				      "reason", reason, "due_ms", (json_int_t)due);
		char *body = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(b);
		if (!body) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		} else {
			r.body = body;
			rc = sg_store_audit_append(api->hstore, &r, err);
			sg_free(body);
		}
	}
	return rc;
}

static int escalate(struct sg_api *api, const char *ticket, int level, const char *owner,
		    const char *channel, const char *reason, int sla_min, const char *actor,
		    char id[SG_ID_LEN], struct sg_error *err)
{
	int rc;
	if ((rc = sg_store_begin(api->hstore, err)) < 0)
		return rc;
	rc = escalate_in_tx(api, ticket, level, owner, channel, reason, sla_min, actor, id, err);
	if (rc == 0)
		return sg_store_commit(api->hstore, err);
	struct sg_error e2 = SG_ERROR_INIT;
	sg_store_rollback(api->hstore, &e2);
	return rc;
}

int sg_api_human(struct sg_api *api, const char *id, const struct sg_user *u,
		 const char *action, const char *note, const char *text, json_t **out,
		 struct sg_error *err)
{
	json_t *o = NULL;
	struct review rv;
	struct sg_buf diff = SG_BUF_INIT;
	char *masked = NULL;
	char esc_id[SG_ID_LEN] = "";
	int rc, have_rv = 0;
	memset(&rv, 0, sizeof(rv));
	*out = NULL;

	pthread_mutex_lock(&api->mu_h);
	{
		struct sg_store *rs = sg_store_pool_get(api->rpool);
		rc = review_load(api, rs, id, &rv, err);
		sg_store_pool_put(api->rpool, rs);
	}
	have_rv = rc == 0;
	if (rc == 1) {
		rc = sg_error_set(err, SG_ENOTFOUND, "ticket '%.128s' not found", id);
		goto unlock;
	}
	if (rc < 0)
		goto unlock;
	const char *status = review_status(&rv);
	if (strcmp(status, "pending") && strcmp(status, "awaiting_second")) {
		rc = sg_error_set(err, SG_ECONFLICT, "ticket '%.128s' is %s (gate %s): nothing "
				  "to %s", id, status, rv.gate, action);
		goto unlock;
	}
	int step = 1;
	if (!strcmp(rv.gate, "senior_review") && !role_at_least(u, SG_ROLE_SPECIALIST)) {
		rc = sg_error_set(err, SG_EFORBIDDEN, "gate senior_review needs role specialist "
				  "or above; '%s' is %s", u->name, sg_role_name(u->role));
		goto unlock;
	}
	if (!strcmp(rv.gate, "two_step") && rv.a1 && strcmp(action, "reject")) {
		step = 2;
		if (!strcmp(rv.step1_user, u->name)) {
			rc = sg_error_set(err, SG_EFORBIDDEN, "two_step: the second approval must "
					  "come from a different user than '%s'", rv.step1_user);
			goto unlock;
		}
		if (!role_at_least(u, SG_ROLE_LEAD)) {
			rc = sg_error_set(err, SG_EFORBIDDEN, "two_step: the second approval needs "
					  "role lead or above; '%s' is %s", u->name,
					  sg_role_name(u->role));
			goto unlock;
		}
	}
	struct onboarding_check ob;
	if ((rc = onboarding_rules(api, u, &rv, action, &step, &ob, err)) < 0)
		goto unlock;
	if (text) {
		size_t ml = 0;
		pthread_mutex_lock(&api->mu_decide);
		rc = sg_scan_mask(&masked, &ml, api->scan, text, strlen(text), NULL, err);
		pthread_mutex_unlock(&api->mu_decide);
		if (rc < 0)
			goto unlock;
		line_diff(&diff, rv.draft ? rv.draft : "", masked);
		if (diff.oom) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory");
			goto unlock;
		}
	}
	struct sg_human_action a;
	memset(&a, 0, sizeof(a));
	a.ticket_id = id;
	a.decision_id = rv.decision_id;
	a.user = u->name;
	a.role = sg_role_name(u->role);
	a.action = action;
	a.step = step;
	a.note = note;
	a.draft_text = masked;
	a.draft_diff = masked ? diff.data : NULL;
	a.onboarding = ob.onboarding;
	a.onboarding_reason = ob.reason[0] ? ob.reason : NULL;
	a.needs_peer = ob.needs_peer;
	if ((rc = sg_store_human_action(api->hstore, &a, err)) < 0)
		goto unlock;
	if (ob.needs_peer) {
		rv.peer = 1;
		snprintf(rv.pr.user, sizeof(rv.pr.user), "%s", u->name);
		snprintf(rv.pr.reason, sizeof(rv.pr.reason), "%s", ob.reason);
		rv.pr.created_ms = sg_now_ms();
		if (api->m_peer) {
			const char *v[] = {ob.why};
			sg_metric_inc(api->m_peer, v);
		}
	}
	if (!strcmp(action, "reject"))
		rv.rejects++;
	else if (step == 2)
		rv.a2++;
	else
		rv.a1++;
	if (!strcmp(action, "reject") && rv.rejects == 2) {
		json_t *e = json_object_get(rv.decision, "escalation");
		const char *owner = json_string_value(json_object_get(e, "owner"));
		const char *channel = json_string_value(json_object_get(e, "channel"));
		json_int_t sla = json_integer_value(json_object_get(e, "sla_minutes"));
		if ((rc = escalate(api, id, 1, owner ? owner : "lead", channel,
				   "draft rejected twice", sla > 0 ? (int)sla : API_DEFAULT_SLA_MIN,
				   u->name, esc_id, err)) < 0)
			goto unlock;
	}
	o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "ticket_id", id, "decision_id",
		      rv.decision_id, "action", action, "step", step, "user", u->name,
		      "status", review_status(&rv));
	if (o && masked) {
		json_object_set_new(o, "draft_version", json_integer(a.draft_version));
		json_object_set_new(o, "draft", json_string(masked));
		json_object_set_new(o, "diff", json_string(diff.data));
	}
	if (o && *esc_id)
		json_object_set_new(o, "escalation_id", json_string(esc_id));
	if (o && ob.reason[0])
		json_object_set_new(o, "onboarding", json_pack("{s:b, s:s}", "peer_review_required",
							       ob.needs_peer, "reason", ob.reason));
	if (api->m_human) {
		const char *v[] = {action};
		sg_metric_inc(api->m_human, v);
	}
unlock:
	pthread_mutex_unlock(&api->mu_h);
	if (rc == 0 && !o)
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
	if (rc == 0) {
		*out = o;
		o = NULL;
	}
	json_decref(o);
	if (have_rv)
		review_release(&rv);
	sg_buf_release(&diff);
	sg_free(masked);
	return rc;
}


static int human(struct sg_api *api, const struct sg_http_req *req,
		 struct sg_http_resp *resp, const char *action, struct sg_error *err)
{
	const char *id = sg_http_param(req, "id");
	const char *note = NULL, *text = NULL;
	json_t *body = NULL, *o = NULL;
	int rc;

	if (req->body_len) {
		if ((rc = sg_http_json_body(&body, req, err)) < 0)
			return rc;
		if ((rc = sg_json_str(body, "note", "note", 0, &note, err)) < 0 ||
		    (rc = sg_json_str(body, "text", "text", !strcmp(action, "edit"), &text,
				      err)) < 0)
			goto cleanup;
		if (note && strlen(note) > API_NOTE_MAX) {
			rc = sg_error_set(err, SG_ELIMIT, "field 'note': over %d bytes", API_NOTE_MAX);
			goto cleanup;
		}
		if (text && strlen(text) > API_EDIT_MAX) {
			rc = sg_error_set(err, SG_ELIMIT, "field 'text': over %d bytes", API_EDIT_MAX);
			goto cleanup;
		}
	} else if (!strcmp(action, "edit")) {
		return sg_error_set(err, SG_EINVALID, "field 'text': required");
	}
	if ((rc = sg_api_human(api, id, req->user, action, note, text, &o, err)) == 0)
		rc = sg_http_resp_json(resp, 200, o);
cleanup:
	json_decref(o);
	json_decref(body);
	return rc;
}

static int h_approve(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		     struct sg_error *err)
{
	return human(ctx, req, resp, "approve", err);
}

static int h_edit(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		  struct sg_error *err)
{
	return human(ctx, req, resp, "edit", err);
}

static int h_reject(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		    struct sg_error *err)
{
	return human(ctx, req, resp, "reject", err);
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

/* ---- POST /v1/webhooks/zendesk | intercom ---------------------------------- */

/* Reads the webhook secrets from the environment variables the serve flags
 * or the policy name (flags win); called at start and after a reload. */
static void webhooks_configure(struct sg_api *api)
{
	pthread_mutex_lock(&api->mu_decide); /* the policy stays while we read it */
	const struct sg_policy *p = api->ce.policy;
	pthread_mutex_lock(&api->mu_wh);
	const char *zd = api->zd_env_flag[0] ? api->zd_env_flag
			 : p ? p->webhooks.zendesk_secret_env : NULL;
	const char *ic = api->ic_env_flag[0] ? api->ic_env_flag
			 : p ? p->webhooks.intercom_secret_env : NULL;
	const char *zv = zd ? getenv(zd) : NULL, *iv = ic ? getenv(ic) : NULL;
	snprintf(api->zd_env, sizeof(api->zd_env), "%s", zd ? zd : "");
	snprintf(api->ic_env, sizeof(api->ic_env), "%s", ic ? ic : "");
	snprintf(api->zd_secret, sizeof(api->zd_secret), "%s", zv ? zv : "");
	snprintf(api->ic_secret, sizeof(api->ic_secret), "%s", iv ? iv : "");
	api->zd_max_age_s = p && p->webhooks.zendesk_max_age_s > 0
				    ? p->webhooks.zendesk_max_age_s : SG_SIG_WINDOW_S;
	pthread_mutex_unlock(&api->mu_wh);
	pthread_mutex_unlock(&api->mu_decide);
}

static void webhook_count(struct sg_api *api, const char *vendor, const char *result)
{
	if (api->m_webhook) {
		const char *v[] = {vendor, result};
		sg_metric_inc(api->m_webhook, v);
	}
}

/* Verifies the signature over the raw body, maps the payload to a ticket
 * event and decides it as POST /v1/tickets does (idempotent on the vendor's
 * event id). 202 for events without a customer message. */
static int webhook(struct sg_api *api, const struct sg_http_req *req,
		   struct sg_http_resp *resp, int intercom, struct sg_error *err)
{
	const char *vendor = intercom ? "intercom" : "zendesk";
	char secret[API_SECRET_MAX], env[128], why[SG_WEBHOOK_WHY_MAX];
	double max_age;
	json_t *payload = NULL, *ev = NULL;
	int rc, status = 0;
	pthread_mutex_lock(&api->mu_wh);
	memcpy(secret, intercom ? api->ic_secret : api->zd_secret, sizeof(secret));
	memcpy(env, intercom ? api->ic_env : api->zd_env, sizeof(env));
	max_age = api->zd_max_age_s;
	pthread_mutex_unlock(&api->mu_wh);
	if (!secret[0]) {
		webhook_count(api, vendor, "not_configured");
		if (env[0])
			return sg_error_set(err, SG_ENOTFOUND, "webhook '%s' is not configured: "
					    "the environment variable %s is not set", vendor, env);
		return sg_error_set(err, SG_ENOTFOUND, "webhook '%s' is not configured: set "
				    "webhooks.%s.secret_env in the policy or --%s-secret-env",
				    vendor, vendor, vendor);
	}
	if (intercom)
		rc = sg_sig_intercom_verify(secret, sg_http_header(req, SG_SIG_INTERCOM_HEADER),
					    req->body, req->body_len, err);
	else
		rc = sg_sig_zendesk_verify(secret, sg_http_header(req, SG_SIG_ZENDESK_HEADER),
					   sg_http_header(req, SG_SIG_ZENDESK_TS_HEADER), req->body,
					   req->body_len, sg_now_ms() / 1000, (int64_t)max_age, err);
	memset(secret, 0, sizeof(secret));
	if (rc < 0) {
		webhook_count(api, vendor, "refused");
		return rc;
	}
	if ((rc = sg_http_json_body(&payload, req, err)) < 0) {
		webhook_count(api, vendor, "invalid");
		return rc;
	}
	rc = intercom ? sg_webhook_intercom_event(&ev, payload, why, err)
		      : sg_webhook_zendesk_event(&ev, payload, why, err);
	if (rc < 0) {
		webhook_count(api, vendor, "invalid");
	} else if (rc == 1) {
		webhook_count(api, vendor, "ignored");
		json_t *o = json_pack("{s:s, s:s}", "status", "ignored", "reason", why);
		rc = o ? sg_http_resp_json(resp, 202, o)
		       : sg_error_set(err, SG_ENOMEM, "out of memory");
		json_decref(o);
	} else if ((rc = ticket_json(api, ev, &status, &resp->body, err)) == 0) {
		resp->status = status;
		webhook_count(api, vendor, status == 201 ? "accepted" : "duplicate");
	} else {
		webhook_count(api, vendor, "invalid");
	}
	json_decref(ev);
	json_decref(payload);
	return rc;
}

static int h_zendesk(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		     struct sg_error *err)
{
	return webhook(ctx, req, resp, 0, err);
}

static int h_intercom(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		      struct sg_error *err)
{
	return webhook(ctx, req, resp, 1, err);
}

/* ---- shadow policy ----------------------------------------------------------- */

static struct shadow_row *shadow_row_new(const char *ticket, const char *event,
					 const char *live_v, const char *shadow_v,
					 const char *field, const char *lval, const char *sval,
					 int64_t now)
{
	const char *src[] = {ticket, event, live_v, shadow_v, field, lval, sval};
	size_t len[7], total = 0;
	for (int i = 0; i < 7; i++)
		total += (len[i] = strlen(src[i])) + 1;
	struct shadow_row *r = sg_malloc(sizeof(*r) + total);
	if (!r)
		return NULL;
	const char *dst[7];
	char *p = r->buf;
	for (int i = 0; i < 7; i++) {
		memcpy(p, src[i], len[i] + 1);
		dst[i] = p;
		p += len[i] + 1;
	}
	struct sg_store_shadow_diff d = {dst[0], dst[1], dst[2], dst[3], dst[4], dst[5],
					 dst[6], now};
	r->d = d;
	return r;
}

static void shadow_batch_free(struct shadow_batch *b)
{
	for (size_t i = 0; b && i < b->n; i++)
		sg_free(b->rows[i]);
	sg_free(b);
}

/* Decides the ticket again under the shadow policy and queues what
 * differs; the live decision, its write and the outbox are done already
 * and never see this. */
static void shadow_eval(struct sg_api *api, const struct sg_ticket *t,
			const struct sg_shadow_view *live, const char *live_version)
{
	struct sg_decision sd;
	struct sg_shadow_view sv;
	struct sg_shadow_field f[SG_SHADOW_NFIELDS];
	struct sg_error e = SG_ERROR_INIT;
	size_t n = 0;
	long dropped = 0;
	pthread_mutex_lock(&api->mu_shadow);
	struct shadow_batch *b = api->spend;
	if (!api->shadow.policy || !b) {
		pthread_mutex_unlock(&api->mu_shadow);
		return;
	}
	if (sg_decide(&sd, api->shadow.run, t, NULL, &e) < 0) {
		/* the shadow cannot decide this ticket: recorded as a difference */
		n = 1;
		f[0].field = "error";
		snprintf(f[0].live, sizeof(f[0].live), "%s", "");
		snprintf(f[0].shadow, sizeof(f[0].shadow), "%.200s", e.msg);
	} else {
		sg_shadow_view_of(&sv, &sd);
		n = sg_shadow_compare(f, live, &sv);
	}
	b->evaluated++;
	if (n)
		b->differing++;
	int64_t now = sg_now_ms();
	for (size_t i = 0; i < n; i++) {
		struct shadow_row *r = b->n < SG_SHADOW_MAX_PENDING
			? shadow_row_new(t->id, t->event_id, live_version, b->version,
					 f[i].field, f[i].live, f[i].shadow, now)
			: NULL;
		if (r)
			b->rows[b->n++] = r;
		else
			dropped++;
	}
	b->dropped += dropped;
	pthread_mutex_unlock(&api->mu_shadow);
	if (api->m_shadow_eval) {
		sg_metric_inc(api->m_shadow_eval, NULL);
		if (n)
			sg_metric_inc(api->m_shadow_diff, NULL);
		for (size_t i = 0; i < n; i++) {
			const char *v[] = {f[i].field};
			sg_metric_inc(api->m_shadow_fields, v);
		}
		for (long i = 0; i < dropped; i++)
			sg_metric_inc(api->m_shadow_drop, NULL);
	}
}

/* Puts an empty batch for `version` (none when NULL) in place of the
 * pending one, which *old receives (may be NULL); mu_shadow held. -1 when
 * out of memory, nothing changed. */
static int shadow_take(struct sg_api *api, const char *version, struct shadow_batch **old)
{
	struct shadow_batch *nb = NULL;
	if (version) {
		nb = sg_calloc(1, sizeof(*nb));
		if (!nb)
			return -1;
		snprintf(nb->version, sizeof(nb->version), "%s", version);
	}
	*old = api->spend;
	api->spend = nb;
	return 0;
}

/* Writes a taken batch (and frees it). */
static int shadow_write(struct sg_api *api, struct shadow_batch *b, struct sg_error *err)
{
	int rc = 0;
	if (!b)
		return 0;
	if (b->version[0] && (b->evaluated || b->n)) {
		struct sg_store_shadow_diff *d = b->n ? sg_calloc(b->n, sizeof(*d)) : NULL;
		if (b->n && !d) {
			rc = sg_error_set(err, SG_ENOMEM, "shadow diffs: out of memory");
		} else {
			for (size_t i = 0; i < b->n; i++)
				d[i] = b->rows[i]->d;
			pthread_mutex_lock(&api->mu_h);
			rc = sg_store_shadow_record(api->hstore, b->version, b->evaluated,
						    b->differing, d, b->n, err);
			pthread_mutex_unlock(&api->mu_h);
			sg_free(d);
		}
	}
	shadow_batch_free(b);
	return rc;
}

/* Writes the diffs evaluated so far (once a second, and before a read). */
static int shadow_flush(struct sg_api *api, struct sg_error *err)
{
	pthread_mutex_lock(&api->mu_shadow);
	struct shadow_batch *b = NULL;
	int oom = api->spend && (api->spend->evaluated || api->spend->n) &&
		  shadow_take(api, api->spend->version, &b) < 0;
	pthread_mutex_unlock(&api->mu_shadow);
	if (oom)
		return sg_error_set(err, SG_ENOMEM, "shadow diffs: out of memory");
	return shadow_write(api, b, err);
}

static int audit_plain(struct sg_api *api, const char *actor, const char *action,
		       json_t *body, struct sg_error *err)
{
	struct sg_audit_record r;
	memset(&r, 0, sizeof(r));
	snprintf(r.actor, sizeof(r.actor), "%s", actor);
	snprintf(r.action, sizeof(r.action), "%s", action);
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!text)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	r.body = text;
	pthread_mutex_lock(&api->mu_h);
	int rc = sg_store_begin(api->hstore, err);
	if (rc == 0) {
		if ((rc = sg_store_audit_append(api->hstore, &r, err)) == 0)
			rc = sg_store_commit(api->hstore, err);
		if (rc < 0) {
			struct sg_error e2 = SG_ERROR_INIT;
			sg_store_rollback(api->hstore, &e2);
		}
	}
	pthread_mutex_unlock(&api->mu_h);
	sg_free(text);
	return rc;
}

/* Sets (path) or clears (NULL) the shadow policy, audited as actor. A
 * policy with errors is refused and the previous shadow stays. */
static int shadow_set(struct sg_api *api, const char *path, const char *actor,
		      struct sg_error *err)
{
	struct sg_cli_engine ce, old;
	memset(&ce, 0, sizeof(ce));
	int rc;
	if (path) {
		if ((rc = sg_cli_engine_open(&ce, path, api->no_classifier,
					     api->kb_db[0] ? api->kb_db : NULL, err)) < 0) {
			char msg[600];
			if (!err->code)
				sg_error_set(err, SG_EPOLICY, "'%s' has errors; see 'sopgate check "
					     "%s'", path, path);
			sg_error_format(err, msg, sizeof(msg));
			sg_error_clear(err);
			return sg_error_set(err, SG_EPOLICY, "shadow policy refused, the "
					    "previous one stays: %s", msg);
		}
	}
	pthread_mutex_lock(&api->mu_shadow);
	if (!path && !api->shadow.policy) {
		pthread_mutex_unlock(&api->mu_shadow);
		return sg_error_set(err, SG_ECONFLICT, "no shadow policy is set");
	}
	struct shadow_batch *b = NULL;
	if (shadow_take(api, path ? ce.policy->version : NULL, &b) < 0) {
		pthread_mutex_unlock(&api->mu_shadow);
		sg_cli_engine_close(&ce);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	old = api->shadow;
	api->shadow = ce;
	char prev[65];
	snprintf(prev, sizeof(prev), "%s", api->shadow_version);
	if (prev[0])
		snprintf(api->shadow_last, sizeof(api->shadow_last), "%s", prev);
	snprintf(api->shadow_version, sizeof(api->shadow_version), "%s",
		 path ? ce.policy->version : "");
	char newv[65];
	snprintf(newv, sizeof(newv), "%s", api->shadow_version);
	snprintf(api->shadow_path, sizeof(api->shadow_path), "%s", path ? path : "");
	snprintf(api->shadow_by, sizeof(api->shadow_by), "%s", actor);
	api->shadow_since = sg_now_ms();
	__atomic_store_n(&api->shadow_on, path ? 1 : 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&api->mu_shadow);
	sg_cli_engine_close(&old);
	struct sg_error werr = SG_ERROR_INIT;
	shadow_write(api, b, &werr); /* the previous shadow's last diffs */
	pthread_mutex_lock(&api->mu_decide);
	json_t *body = json_pack("{s:s?, s:s?, s:s?, s:s}", "path", path,
				 "shadow_version", path ? newv : NULL,
				 "previous_version", prev[0] ? prev : NULL,
				 "live_version", api->ce.policy ? api->ce.policy->version : "");
	pthread_mutex_unlock(&api->mu_decide);
	rc = audit_plain(api, actor, path ? "shadow.set" : "shadow.clear", body, err);
	json_decref(body);
	return rc;
}

/* The shadow's state as JSON (null when none); mu_shadow held. */
static json_t *shadow_state(struct sg_api *api)
{
	if (!api->shadow.policy)
		return json_null();
	return json_pack("{s:s, s:s, s:o, s:s}", "path", api->shadow_path, "version",
			 api->shadow_version, "since", iso_json(api->shadow_since), "set_by",
			 api->shadow_by);
}

struct shadow_list {
	json_t *diffs, *cur;
	char key[2 * SG_MAX_ID_BYTES + 4];
};

static int shadow_list_row(const struct sg_store_shadow_diff *d, void *ctx)
{
	struct shadow_list *l = ctx;
	char key[sizeof(l->key)];
	snprintf(key, sizeof(key), "%s\n%s", d->ticket_id, d->event_id);
	if (!l->cur || strcmp(key, l->key)) {
		l->cur = json_pack("{s:s, s:s, s:o, s:s, s:{}}", "ticket_id", d->ticket_id,
				   "event_id", d->event_id, "created_at", iso_json(d->created_ms),
				   "live_version", d->live_version, "fields");
		if (!l->cur || json_array_append_new(l->diffs, l->cur))
			return -SG_ENOMEM;
		snprintf(l->key, sizeof(l->key), "%s", key);
	}
	json_t *f = !strcmp(d->field, "rules")
		? json_pack("{s:s, s:s}", "live_only", d->live_value, "shadow_only", d->shadow_value)
		: json_pack("{s:s, s:s}", "live", d->live_value, "shadow", d->shadow_value);
	if (!f || json_object_set_new(json_object_get(l->cur, "fields"), d->field, f))
		return -SG_ENOMEM;
	return 0;
}

static int shadow_field_count(const char *field, long n, void *ctx)
{
	return json_object_set_new(ctx, field, json_integer(n)) ? -SG_ENOMEM : 0;
}

static int h_shadow_get(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
			struct sg_error *err)
{
	struct sg_api *api = ctx;
	const char *version = NULL, *lim = NULL;
	unsigned limit = 500;
	int rc;
	if ((rc = sg_http_query(&version, req, "version", err)) < 0 ||
	    (rc = sg_http_query(&lim, req, "limit", err)) < 0)
		return rc;
	if (lim && *lim) {
		char *end;
		unsigned long l = strtoul(lim, &end, 10);
		if (*end || l < 1 || l > SG_STORE_MAX_SHADOW_ROWS)
			return sg_error_set(err, SG_EINVALID, "query 'limit': expected 1..%d, got "
					    "'%.20s'", SG_STORE_MAX_SHADOW_ROWS, lim);
		limit = (unsigned)l;
	}
	if ((rc = shadow_flush(api, err)) < 0)
		return rc;
	char ver[65] = "", last[65];
	pthread_mutex_lock(&api->mu_shadow);
	json_t *state = shadow_state(api);
	snprintf(ver, sizeof(ver), "%s", api->shadow_version);
	snprintf(last, sizeof(last), "%s", api->shadow_last);
	pthread_mutex_unlock(&api->mu_shadow);
	if (version && *version)
		snprintf(ver, sizeof(ver), "%.64s", version);
	else if (!ver[0])
		snprintf(ver, sizeof(ver), "%s", last);
	pthread_mutex_lock(&api->mu_decide);
	json_t *o = json_pack("{s:o, s:s, s:s?}", "shadow", state, "live_version",
			      api->ce.policy->version, "last_version", last[0] ? last : NULL);
	pthread_mutex_unlock(&api->mu_decide);
	if (!o)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	json_t *summary = json_null(), *diffs = json_array();
	if (ver[0]) {
		struct sg_store_shadow_counts c;
		json_t *by = json_object();
		struct shadow_list l = {diffs, NULL, ""};
		pthread_mutex_lock(&api->mu_h);
		rc = sg_store_shadow_summary(api->hstore, ver, &c, shadow_field_count, by, err);
		if (rc == 0)
			rc = sg_store_shadow_scan(api->hstore, ver, limit, shadow_list_row, &l, err);
		pthread_mutex_unlock(&api->mu_h);
		if (rc == -SG_ENOMEM && !err->code)
			sg_error_set(err, SG_ENOMEM, "out of memory");
		summary = json_pack("{s:s, s:I, s:I, s:f, s:o}", "version", ver, "evaluated",
				    (json_int_t)c.evaluated, "differing", (json_int_t)c.differing,
				    "differing_share", c.evaluated ? (double)c.differing / (double)c.evaluated : 0.0,
				    "by_field", by);
	}
	json_object_set_new(o, "summary", summary ? summary : json_null());
	json_object_set_new(o, "diffs", diffs);
	if (rc == 0)
		rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

/* A shadow policy set over HTTP must lie under the live policy's folder
 * (relative paths are taken from there), so the API cannot be used to
 * read other files. out gets the real path. */
static int shadow_path_check(struct sg_api *api, const char *given, char out[PATH_MAX],
			     struct sg_error *err)
{
	char dir[PATH_MAX], joined[PATH_MAX * 2], root[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", api->policy_path);
	const char *d = dirname(dir);
	if (!realpath(d, root))
		return sg_error_set(err, SG_EINTERNAL, "cannot resolve the policy folder");
	if (given[0] == '/')
		snprintf(joined, sizeof(joined), "%s", given);
	else
		snprintf(joined, sizeof(joined), "%s/%s", root, given);
	if (!realpath(joined, out))
		return sg_error_set(err, SG_ENOTFOUND, "field 'policy': '%.200s' not found", given);
	size_t n = strlen(root);
	if (strncmp(out, root, n) || out[n] != '/')
		return sg_error_set(err, SG_EFORBIDDEN, "field 'policy': a shadow policy must lie "
				    "in the live policy's folder (%.200s)", root);
	return 0;
}

static int h_shadow_set(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
			struct sg_error *err)
{
	struct sg_api *api = ctx;
	json_t *body = NULL;
	const char *given = NULL;
	char real[PATH_MAX];
	int rc = sg_http_json_body(&body, req, err);
	if (rc < 0)
		return rc;
	if ((rc = sg_json_str(body, "policy", "policy", 1, &given, err)) == 0 &&
	    (rc = shadow_path_check(api, given, real, err)) == 0 &&
	    (rc = shadow_set(api, real, req->user->name, err)) == 0) {
		pthread_mutex_lock(&api->mu_shadow);
		json_t *o = json_pack("{s:s, s:o}", "status", "shadowing", "shadow",
				      shadow_state(api));
		pthread_mutex_unlock(&api->mu_shadow);
		rc = o ? sg_http_resp_json(resp, 200, o)
		       : sg_error_set(err, SG_ENOMEM, "out of memory");
		json_decref(o);
	}
	json_decref(body);
	return rc;
}

static int h_shadow_clear(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
			  struct sg_error *err)
{
	struct sg_api *api = ctx;
	int rc = shadow_set(api, NULL, req->user->name, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&api->mu_shadow);
	json_t *o = json_pack("{s:s, s:s}", "status", "cleared", "last_version", api->shadow_last);
	pthread_mutex_unlock(&api->mu_shadow);
	rc = o ? sg_http_resp_json(resp, 200, o) : sg_error_set(err, SG_ENOMEM, "out of memory");
	json_decref(o);
	return rc;
}

/* ---- SLA --------------------------------------------------------------- */

int sg_api_sla_tick(struct sg_api *api, struct sg_error *err)
{
	struct sg_store_escalation *due = NULL;
	size_t n = 0;
	int rc, breached = 0;
	if ((rc = shadow_flush(api, err)) < 0)
		return rc;
	pthread_mutex_lock(&api->mu_h);
	rc = sg_store_escalation_claim_due(api->hstore, api->worker, sg_now_ms(), 60000, 32, &due,
					   &n, err);
	/* The breach and the next level's escalation commit together: a
	 * worker killed in between leaves neither, and the lease expires so
	 * another worker fires the timer (once). */
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if ((rc = sg_store_begin(api->hstore, err)) < 0)
			break;
		rc = sg_store_escalation_close(api->hstore, due[i].id, api->worker, "breached", err);
		if (rc == 0 && due[i].level < API_BREACH_MAX_LEVEL) {
			char id[SG_ID_LEN];
			char reason[96];
			snprintf(reason, sizeof(reason), "SLA breach at level %d", due[i].level);
			rc = escalate_in_tx(api, due[i].ticket_id, due[i].level + 1, "lead",
					    due[i].channel[0] ? due[i].channel : NULL, reason,
					    API_DEFAULT_SLA_MIN, "sla", id, err);
		}
		if (rc == 0)
			rc = sg_store_commit(api->hstore, err);
		if (rc < 0) {
			sg_store_rollback(api->hstore, NULL);
			break;
		}
		breached++;
		if (api->m_breach) {
			char lv[16];
			snprintf(lv, sizeof(lv), "%d", due[i].level);
			const char *v[] = {lv};
			sg_metric_inc(api->m_breach, v);
		}
	}
	pthread_mutex_unlock(&api->mu_h);
	sg_free(due);
	/* pauses opened or lifted by another process sharing the store, and
	 * the week that ended sampled once */
	qa_pauses_changed(api);
	if (api->qa) {
		struct sg_error qerr = SG_ERROR_INIT;
		if (sg_qa_api_tick(api->qa, sg_now_ms(), &qerr) < 0)
			fprintf(stderr, "sopgate serve: QA sample: %s\n", qerr.msg);
	}
	return rc < 0 ? rc : breached;
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
	struct queue_filter f = {NULL, NULL, NULL, -1};
	struct sg_error err = SG_ERROR_INIT;
	json_t *items = json_array();
	struct sg_store *rs = sg_store_pool_get(api->rpool);
	int rc = queue_list(api, rs, &f, items, &err);
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
static void qa_pauses_changed(void *ctx)
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
	if (o->kb_db)
		snprintf(api->kb_db, sizeof(api->kb_db), "%s", o->kb_db);
	pthread_mutex_init(&api->mu_decide, NULL);
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
		{"POST", "/v1/tickets", SG_ROLE_AGENT, 0, h_post_ticket, api},
		{"GET", "/v1/queue", SG_ROLE_AGENT, 0, h_queue, api},
		{"GET", "/v1/tickets/{id}", SG_ROLE_AGENT, 0, h_ticket, api},
		{"POST", "/v1/tickets/{id}/approve", SG_ROLE_AGENT, 0, h_approve, api},
		{"POST", "/v1/tickets/{id}/edit", SG_ROLE_AGENT, 0, h_edit, api},
		{"POST", "/v1/tickets/{id}/reject", SG_ROLE_AGENT, 0, h_reject, api},
		{"GET", "/v1/audit", SG_ROLE_AGENT, 0, h_audit, api},
		{"POST", "/v1/policy/reload", SG_ROLE_ADMIN, 0, h_reload, api},
		{"GET", "/v1/outbox", SG_ROLE_LEAD, 0, h_outbox, api},
		{"POST", "/v1/webhooks/slack", SG_ROLE_NONE, SG_ROUTE_PUBLIC, sg_slack_interact, api},
		{"POST", "/v1/webhooks/zendesk", SG_ROLE_NONE, SG_ROUTE_PUBLIC, h_zendesk, api},
		{"POST", "/v1/webhooks/intercom", SG_ROLE_NONE, SG_ROUTE_PUBLIC, h_intercom, api},
		{"GET", "/v1/shadow", SG_ROLE_AGENT, 0, h_shadow_get, api},
		{"POST", "/v1/shadow", SG_ROLE_ADMIN, 0, h_shadow_set, api},
		{"DELETE", "/v1/shadow", SG_ROLE_ADMIN, 0, h_shadow_clear, api},
		{"GET", "/v1/me", SG_ROLE_AGENT, 0, h_me, api},
		{"POST", "/v1/users/{name}/onboarding", SG_ROLE_LEAD, 0, h_onboarding, api},
	};
	memcpy(api->routes, r, sizeof(r));
	api->nroutes = API_NROUTES;
	if ((rc = engine_load(api, &api->ce, &api->scan, err)) < 0)
		goto fail;
	struct sg_decide_run *runs[API_MAX_SLOTS];
	if ((rc = slot_runs_new(api, api->ce.engine, runs, err)) < 0)
		goto fail;
	for (unsigned i = 0; i < api->nslots; i++)
		api->slots[i].run = runs[i];
	webhooks_configure(api);
	if ((rc = sg_store_open(&api->wstore, url, api->worker, err)) < 0 ||
	    (rc = sg_store_open(&api->hstore, url, api->worker_review, err)) < 0 ||
	    (rc = sg_store_open(&api->xstore, url, api->worker_peer, err)) < 0 ||
	    (rc = sg_store_batcher_start(&api->batch, api->wstore, SG_STORE_MAX_BATCH, err)) < 0)
		goto fail;
	if ((rc = sg_store_pool_open(&api->rpool, url, "serve-read", API_READERS, err)) < 0)
		goto fail;
	struct sg_qa_api_options qo = {url, api->worker_qa, qa_config, qa_pauses_changed, api};
	if ((rc = sg_qa_api_new(&api->qa, &qo, err)) < 0 ||
	    (rc = sg_qa_api_pauses_to_engine(api->qa, api->ce.engine, err)) < 0)
		goto fail;
	api->nroutes += sg_qa_api_routes(api->qa, api->routes + api->nroutes);
	if (o->shadow_path && (rc = shadow_set(api, o->shadow_path, "serve", err)) < 0)
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
		shadow_flush(api, &e);
	}
	shadow_batch_free(api->spend);
	sg_cli_engine_close(&api->shadow);
	sg_store_close(api->wstore);
	sg_store_close(api->hstore);
	sg_store_pool_close(api->rpool);
	sg_store_close(api->xstore);
	for (unsigned i = 0; i < api->nslots; i++) {
		sg_decide_run_free(api->slots[i].run);
		pthread_mutex_destroy(&api->slots[i].mu);
	}
	pthread_mutex_destroy(&api->mu_stats);
	sg_scan_ctx_free(api->scan);
	sg_cli_engine_close(&api->ce);
	pthread_mutex_destroy(&api->mu_decide);
	pthread_mutex_destroy(&api->mu_h);
	pthread_mutex_destroy(&api->mu_wh);
	pthread_mutex_destroy(&api->mu_shadow);
	pthread_mutex_destroy(&api->mu_x);
	memset(api->zd_secret, 0, sizeof(api->zd_secret));
	memset(api->ic_secret, 0, sizeof(api->ic_secret));
	sg_free(api);
}
