/*
 * api_ticket.c - POST /v1/tickets: a ticket decided under a decision slot,
 * its masked event, action context and decision stored in one transaction
 * through the group committer (also the path the webhooks take).
 */
#include "server/api_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/json.h"
#include "decide/engine.h"
#include "connectors/connector.h"
#include "server/metrics.h"
#include "core/banned.h"

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

int api_ticket_json(struct sg_api *api, json_t *event, int *status,
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
	int64_t t0 = api_mono_ns();
	struct sg_shadow_view *live = NULL; /* only while a shadow policy is set */
	char live_version[65] = "";

	memset(&w, 0, sizeof(w));
	sg_arena_init(&arena, 0);
	if ((rc = sg_ticket_from_json(&t, event, &arena, err)) < 0)
		goto cleanup;
	have_t = 1;

	struct decide_slot *slot = api_slot_take(api);
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
			api_shadow_eval(api, &t, live, live_version);
		if (api->m_decisions) {
			const char *v[] = {w.gate, w.risk_tier};
			sg_metric_inc(api->m_decisions, v);
			for (size_t i = 0; i < ntypes; i++) {
				const char *tv[] = {types[i]};
				sg_metric_inc(api->m_guard, tv);
			}
			sg_metric_observe(api->m_latency, NULL,
					  (double)(api_mono_ns() - t0) / 1e9);
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
	rc = api_ticket_json(api, ev, status, out, err);
	json_decref(ev);
	return rc;
}

int api_h_post_ticket(void *ctx, const struct sg_http_req *req,
		      struct sg_http_resp *resp, struct sg_error *err)
{
	struct sg_api *api = ctx;
	json_t *ev = NULL;
	int status = 0;
	int rc = sg_http_json_body(&ev, req, err);
	if (rc < 0)
		return rc;
	rc = api_ticket_json(api, ev, &status, &resp->body, err);
	json_decref(ev);
	if (rc < 0)
		return rc;
	resp->status = status;
	return 0;
}
