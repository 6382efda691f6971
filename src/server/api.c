/*
 * api.c - the ticket API of `sopgate serve`: POST /v1/tickets (decide and
 * store in one transaction through the group committer), the review queue,
 * the ticket view, approve/edit/reject with the approval rules, the audit
 * trail of a ticket, policy reload, metrics and the SLA breach tick.
 */
#include "server/api.h"

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
#include "core/id.h"
#include "core/json.h"
#include "core/limits.h"
#include "decide/engine.h"
#include "decide/engine_int.h"
#include "policy/policy.h"
#include "scan/scan.h"
#include "server/metrics.h"
#include "store/store.h"
#include "core/banned.h"

#define API_NROUTES 8
#define API_QUEUE_MAX 500        /* rows a queue answer lists */
#define API_DEFAULT_SLA_MIN 60   /* escalation SLA when the decision has none */
#define API_BREACH_MAX_LEVEL 3   /* a breach escalates up to this level */
#define API_EDIT_MAX 20000       /* bytes of an edited draft */
#define API_NOTE_MAX 2000
#define API_MAX_SLOTS 16         /* decisions running at once, at most */

struct sg_api {
	char policy_path[PATH_MAX], kb_db[PATH_MAX];
	char worker[48], worker_review[64]; /* audit chains and lease owner */
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

	pthread_mutex_t mu_r;        /* rstore: the read views */
	struct sg_store *rstore;

	struct sg_route routes[API_NROUTES];
	struct sg_metric *m_decisions, *m_guard, *m_queue, *m_breach, *m_latency,
		*m_human, *m_reload;
};

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
};

static const char *review_status(const struct review *rv)
{
	if (!rv->approval_required)
		return "not_required";
	if (rv->rejects >= 2)
		return "escalated";
	if (!strcmp(rv->gate, "two_step"))
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

/* Loads the review state; mu_r held. 1 when the ticket is unknown. */
static int review_load(struct sg_api *api, const char *ticket, struct review *rv,
		       struct sg_error *err)
{
	int rc;
	memset(rv, 0, sizeof(*rv));
	if ((rc = sg_store_view(api->rstore, SG_STORE_VIEW_LATEST, ticket, latest_row, rv,
				err)) < 0) {
		review_release(rv);
		return rc;
	}
	if (!rv->decision_id[0])
		return 1;
	if ((rc = sg_store_view(api->rstore, SG_STORE_VIEW_DECISION_APPROVALS, rv->decision_id,
				approval_row, rv, err)) < 0 ||
	    (rc = sg_store_view(api->rstore, SG_STORE_VIEW_LATEST_DRAFT, ticket, draft_row, rv,
				err)) < 0) {
		review_release(rv);
		return rc;
	}
	return 0;
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
	if ((rc = slot_runs_new(api, ce.engine, runs, err)) < 0) {
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
		ev = masked_event(&t, &d);
		w.gate = adup(&arena, d.gate);
		w.risk_tier = adup(&arena, d.risk_tier);
		w.intent = adup(&arena, d.intent);
		w.queue = adup(&arena, d.routed_queue ? d.routed_queue : "default");
		w.policy_version = adup(&arena, d.policy_version);
		w.state = d.approval_required ? "review" : "open";
		for (size_t i = 0; i < d.nguardrail_types && ntypes < SG_DECISION_MAX_TYPES; i++)
			types[ntypes++] = adup(&arena, d.guardrail_types[i]);
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
 * approved or escalated. mu_r held. */
static int queue_list(struct sg_api *api, const struct queue_filter *f, json_t *items,
		      struct sg_error *err)
{
	struct queue_ctx qc = {f, sg_now_ms(), items};
	struct sg_store_queue_filter sf = {f->queue, f->gate, f->tier};
	return sg_store_queue_scan(api->rstore, &sf, queue_row, &qc, err);
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
	pthread_mutex_lock(&api->mu_r);
	rc = queue_list(api, &f, items, err);
	pthread_mutex_unlock(&api->mu_r);
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

static int audit_rows(struct sg_api *api, const char *ticket, json_t *arr,
		      struct sg_error *err)
{
	return sg_store_view(api->rstore, SG_STORE_VIEW_AUDIT, ticket, audit_row, arr, err);
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

static int rows_into(struct sg_api *api, enum sg_store_view view, const char *ticket,
		     const char *const *names, json_t *arr, struct sg_error *err)
{
	struct rows_ctx rc = {names, arr};
	return sg_store_view(api->rstore, view, ticket, named_row, &rc, err);
}

static int h_ticket(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		    struct sg_error *err)
{
	struct sg_api *api = ctx;
	const char *id = sg_http_param(req, "id");
	struct review rv;
	json_t *o = NULL;
	int rc;
	pthread_mutex_lock(&api->mu_r);
	rc = review_load(api, id, &rv, err);
	if (rc == 1) {
		pthread_mutex_unlock(&api->mu_r);
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
		if ((rc = rows_into(api, SG_STORE_VIEW_EVENTS, id, ev_n, events, err)) < 0 ||
		    (rc = rows_into(api, SG_STORE_VIEW_DECISIONS, id, d_n, decisions, err)) < 0 ||
		    (rc = rows_into(api, SG_STORE_VIEW_DRAFTS, id, dr_n, drafts, err)) < 0 ||
		    (rc = rows_into(api, SG_STORE_VIEW_APPROVALS, id, a_n, approvals, err)) < 0 ||
		    (rc = rows_into(api, SG_STORE_VIEW_ESCALATIONS, id, e_n, escal, err)) < 0 ||
		    (rc = audit_rows(api, id, audit, err)) < 0) {
			json_decref(events); json_decref(decisions); json_decref(drafts);
			json_decref(approvals); json_decref(escal); json_decref(audit);
		} else {
			o = json_pack("{s:s, s:s, s:s, s:O, s:s?, s:o, s:o, s:o, s:o, s:o, s:o}",
				      "id", id, "status", review_status(&rv), "decision_id",
				      rv.decision_id, "decision", rv.decision, "draft", rv.draft,
				      "events", events, "decisions", decisions, "drafts", drafts,
				      "approvals", approvals, "escalations", escal, "audit", audit);
		}
		review_release(&rv);
	}
	pthread_mutex_unlock(&api->mu_r);
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
	pthread_mutex_lock(&api->mu_r);
	rc = audit_rows(api, ticket, arr, err);
	pthread_mutex_unlock(&api->mu_r);
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	json_t *o = json_pack("{s:s, s:o}", "ticket", ticket, "records", arr);
	rc = sg_http_resp_json(resp, 200, o);
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
static int escalate(struct sg_api *api, const char *ticket, int level, const char *owner,
		    const char *channel, const char *reason, int sla_min, const char *actor,
		    char id[SG_ID_LEN], struct sg_error *err)
{
	int rc;
	int64_t due = sg_now_ms() + (int64_t)sla_min * 60000;
	if ((rc = sg_store_begin(api->hstore, err)) < 0)
		return rc;
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
	if (rc == 0)
		return sg_store_commit(api->hstore, err);
	struct sg_error e2 = SG_ERROR_INIT;
	sg_store_rollback(api->hstore, &e2);
	return rc;
}

static int human(struct sg_api *api, const struct sg_http_req *req,
		 struct sg_http_resp *resp, const char *action, struct sg_error *err)
{
	const char *id = sg_http_param(req, "id");
	const char *note = NULL, *text = NULL;
	json_t *body = NULL, *o = NULL;
	struct review rv;
	struct sg_buf diff = SG_BUF_INIT;
	char *masked = NULL;
	char esc_id[SG_ID_LEN] = "";
	int rc, have_rv = 0;
	memset(&rv, 0, sizeof(rv));

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

	pthread_mutex_lock(&api->mu_h);
	pthread_mutex_lock(&api->mu_r);
	rc = review_load(api, id, &rv, err);
	pthread_mutex_unlock(&api->mu_r);
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
	const struct sg_user *u = req->user;
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
	if ((rc = sg_store_human_action(api->hstore, &a, err)) < 0)
		goto unlock;
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
	if (api->m_human) {
		const char *v[] = {action};
		sg_metric_inc(api->m_human, v);
	}
unlock:
	pthread_mutex_unlock(&api->mu_h);
	if (rc == 0)
		rc = o ? sg_http_resp_json(resp, 200, o)
		       : sg_error_set(err, SG_ENOMEM, "out of memory");
cleanup:
	json_decref(o);
	json_decref(body);
	if (have_rv)
		review_release(&rv);
	sg_buf_release(&diff);
	sg_free(masked);
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

/* ---- SLA --------------------------------------------------------------- */

int sg_api_sla_tick(struct sg_api *api, struct sg_error *err)
{
	struct sg_store_escalation *due = NULL;
	size_t n = 0;
	int rc, breached = 0;
	pthread_mutex_lock(&api->mu_h);
	rc = sg_store_escalation_claim_due(api->hstore, api->worker, sg_now_ms(), 60000, 32, &due,
					   &n, err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if ((rc = sg_store_escalation_close(api->hstore, due[i].id, api->worker, "breached",
						    err)) < 0)
			break;
		breached++;
		if (api->m_breach) {
			char lv[16];
			snprintf(lv, sizeof(lv), "%d", due[i].level);
			const char *v[] = {lv};
			sg_metric_inc(api->m_breach, v);
		}
		if (due[i].level < API_BREACH_MAX_LEVEL) {
			char id[SG_ID_LEN];
			char reason[96];
			snprintf(reason, sizeof(reason), "SLA breach at level %d", due[i].level);
			rc = escalate(api, due[i].ticket_id, due[i].level + 1, "lead",
				      due[i].channel[0] ? due[i].channel : NULL, reason,
				      API_DEFAULT_SLA_MIN, "sla", id, err);
		}
	}
	pthread_mutex_unlock(&api->mu_h);
	sg_free(due);
	return rc < 0 ? rc : breached;
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
	pthread_mutex_lock(&api->mu_r);
	int rc = queue_list(api, &f, items, &err);
	pthread_mutex_unlock(&api->mu_r);
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

/* ---- life cycle ------------------------------------------------------- */

const struct sg_route *sg_api_routes(struct sg_api *api, size_t *n)
{
	*n = API_NROUTES;
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
	pthread_mutex_init(&api->mu_r, NULL);
	const struct sg_route r[API_NROUTES] = {
		{"POST", "/v1/tickets", SG_ROLE_AGENT, 0, h_post_ticket, api},
		{"GET", "/v1/queue", SG_ROLE_AGENT, 0, h_queue, api},
		{"GET", "/v1/tickets/{id}", SG_ROLE_AGENT, 0, h_ticket, api},
		{"POST", "/v1/tickets/{id}/approve", SG_ROLE_AGENT, 0, h_approve, api},
		{"POST", "/v1/tickets/{id}/edit", SG_ROLE_AGENT, 0, h_edit, api},
		{"POST", "/v1/tickets/{id}/reject", SG_ROLE_AGENT, 0, h_reject, api},
		{"GET", "/v1/audit", SG_ROLE_AGENT, 0, h_audit, api},
		{"POST", "/v1/policy/reload", SG_ROLE_ADMIN, 0, h_reload, api},
	};
	memcpy(api->routes, r, sizeof(r));
	if ((rc = engine_load(api, &api->ce, &api->scan, err)) < 0)
		goto fail;
	struct sg_decide_run *runs[API_MAX_SLOTS];
	if ((rc = slot_runs_new(api, api->ce.engine, runs, err)) < 0)
		goto fail;
	for (unsigned i = 0; i < api->nslots; i++)
		api->slots[i].run = runs[i];
	if ((rc = sg_store_open(&api->wstore, url, api->worker, err)) < 0 ||
	    (rc = sg_store_open(&api->hstore, url, api->worker_review, err)) < 0 ||
	    (rc = sg_store_batcher_start(&api->batch, api->wstore, SG_STORE_MAX_BATCH, err)) < 0)
		goto fail;
	if ((rc = sg_store_open_existing(&api->rstore, url, "serve-read", err)) < 0)
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
	sg_store_close(api->wstore);
	sg_store_close(api->hstore);
	sg_store_close(api->rstore);
	for (unsigned i = 0; i < api->nslots; i++) {
		sg_decide_run_free(api->slots[i].run);
		pthread_mutex_destroy(&api->slots[i].mu);
	}
	pthread_mutex_destroy(&api->mu_stats);
	sg_scan_ctx_free(api->scan);
	sg_cli_engine_close(&api->ce);
	pthread_mutex_destroy(&api->mu_decide);
	pthread_mutex_destroy(&api->mu_h);
	pthread_mutex_destroy(&api->mu_r);
	sg_free(api);
}
