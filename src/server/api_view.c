/*
 * api_view.c - the read views of the ticket API: the review queue
 * (GET /v1/queue), the ticket view (GET /v1/tickets/{id}), the audit trail
 * (GET /v1/audit) and the outbox (GET /v1/outbox).
 */
#include "server/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

/* ---- GET /v1/queue ------------------------------------------------------ */

struct queue_ctx {
	const struct api_queue_filter *f;
	int64_t now;
	json_t *items;
	struct sg_api *api;
	struct sg_error *err;
};

static int queue_row(const struct sg_store_row *r, void *ctx)
{
	struct queue_ctx *qc = ctx;
	const struct api_queue_filter *f = qc->f;
	if (json_array_size(qc->items) >= API_QUEUE_MAX)
		return 1;
	struct api_review rv;
	memset(&rv, 0, sizeof(rv));
	rv.approval_required = 1;
	snprintf(rv.gate, sizeof(rv.gate), "%s", r->text[2] ? r->text[2] : "");
	rv.rejects = (int)r->num[9];
	rv.a1 = (int)r->num[10];
	rv.a2 = (int)r->num[11];
	snprintf(rv.decision_id, sizeof(rv.decision_id), "%s", r->text[1] ? r->text[1] : "");
	if (rv.a1 && api_peer_load(qc->api, &rv, qc->err) < 0)
		return -SG_ESTORE;
	const char *status = api_review_status(&rv);
	if (strcmp(status, "pending") && strcmp(status, "awaiting_second"))
		return 0;
	int64_t created = r->num[6];
	int64_t sla_min = r->text[7] ? r->num[7] : 0;
	int64_t due = sla_min > 0 ? created + sla_min * 60000 : 0;
	if (f->due_within_min >= 0 &&
	    (!due || (double)(due - qc->now) > f->due_within_min * 60000.0))
		return 0;
	json_t *it = json_object();
	json_object_set_new(it, "ticket_id", api_col_str(r, 0));
	json_object_set_new(it, "decision_id", api_col_str(r, 1));
	json_object_set_new(it, "gate", api_col_str(r, 2));
	json_object_set_new(it, "risk_tier", api_col_str(r, 3));
	json_object_set_new(it, "queue", api_col_str(r, 4));
	json_object_set_new(it, "intent", api_col_str(r, 5));
	json_object_set_new(it, "confidence_band", api_col_str(r, 12));
	json_object_set_new(it, "created_at", api_iso_json(created));
	json_object_set_new(it, "sla_due_at", due ? api_iso_json(due) : json_null());
	json_object_set_new(it, "sla_breached", json_boolean(due && due < qc->now));
	json_object_set_new(it, "guardrail_types", api_col_json(r, 8));
	json_object_set_new(it, "status", json_string(status));
	json_object_set_new(it, "rejections", json_integer(rv.rejects));
	json_array_append_new(qc->items, it);
	return 0;
}

/* Builds the review queue: latest decisions needing approval and not yet
 * approved or escalated. */
int api_queue_list(struct sg_api *api, struct sg_store *rs, const struct api_queue_filter *f,
		   json_t *items, struct sg_error *err)
{
	struct queue_ctx qc = {f, sg_now_ms(), items, api, err};
	struct sg_store_queue_filter sf = {f->queue, f->gate, f->tier};
	return sg_store_queue_scan(rs, &sf, queue_row, &qc, err);
}

int api_h_queue(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		struct sg_error *err)
{
	struct sg_api *api = ctx;
	struct api_queue_filter f = {NULL, NULL, NULL, -1};
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
	rc = api_queue_list(api, rs, &f, items, err);
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
	json_object_set_new(o, "id", api_col_str(r, 0));
	json_object_set_new(o, "chain", api_col_str(r, 1));
	json_object_set_new(o, "seq", json_integer(r->num[2]));
	json_object_set_new(o, "created_at", api_iso_json(r->num[3]));
	json_object_set_new(o, "actor", api_col_str(r, 4));
	json_object_set_new(o, "action", api_col_str(r, 5));
	json_object_set_new(o, "body", api_col_json(r, 6));
	json_object_set_new(o, "prev_hash", api_col_str(r, 7));
	json_object_set_new(o, "hash", api_col_str(r, 8));
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
			v = r->text[i] ? api_iso_json(r->num[i]) : json_null();
		} else if (n[0] == '#') { /* JSON text */
			n++;
			v = api_col_json(r, i);
		} else if (n[0] == '=') { /* an integer */
			n++;
			v = json_integer(r->num[i]);
		} else {
			v = api_col_str(r, i);
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

int api_h_ticket(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		 struct sg_error *err)
{
	struct sg_api *api = ctx;
	const char *id = sg_http_param(req, "id");
	struct api_review rv;
	json_t *o = NULL;
	int rc;
	struct sg_store *rs = sg_store_pool_get(api->rpool);
	rc = api_review_load(api, rs, id, &rv, err);
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
				      "id", id, "status", api_review_status(&rv), "decision_id",
				      rv.decision_id, "decision", rv.decision, "draft", rv.draft,
				      "events", events, "decisions", decisions, "drafts", drafts,
				      "approvals", approvals, "escalations", escal, "audit", audit);
			if (o)
				json_object_set_new(o, "peer_review", api_peer_json(&rv));
		}
		api_review_release(&rv);
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

int api_h_audit(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
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
int api_h_outbox(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
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
