/*
 * decision.c - building and serializing the decision object.
 *
 * Serialization writes the contract's fields in a fixed order straight into
 * a buffer: a decision is written on every ticket, so no intermediate tree.
 */
#include "decide/decision.h"

#include <math.h>
#include <string.h>

#include "core/banned.h"

void sg_decision_add_type(struct sg_decision *d, const char *type)
{
	for (size_t i = 0; i < d->nguardrail_types; i++)
		if (!strcmp(d->guardrail_types[i], type))
			return;
	if (d->nguardrail_types < SG_DECISION_MAX_TYPES)
		d->guardrail_types[d->nguardrail_types++] = type;
}

void sg_decision_add_reason(struct sg_decision *d, const char *rule,
			    const char *where, const char *detail)
{
	if (d->nreasons >= SG_DECISION_MAX_REASONS)
		return;
	struct sg_reason *r = &d->reasons[d->nreasons++];
	r->rule = rule;
	r->where = where;
	r->detail = detail;
}

void sg_decision_add_step(struct sg_decision *d, const struct sg_step *s)
{
	if (d->nsteps < SG_DECISION_MAX_STEPS)
		d->steps[d->nsteps++] = *s;
}

static void key(struct sg_buf *b, const char *k, int *first)
{
	if (!*first)
		sg_buf_addc(b, ',');
	*first = 0;
	sg_buf_addc(b, '"');
	sg_buf_adds(b, k);
	sg_buf_add(b, "\":", 2);
}

static void str(struct sg_buf *b, const char *k, const char *v, int *first)
{
	key(b, k, first);
	if (v)
		sg_buf_add_json_str(b, v, strlen(v));
	else
		sg_buf_add(b, "null", 4);
}

static void num(struct sg_buf *b, const char *k, double v, int *first)
{
	key(b, k, first);
	if (!isfinite(v))
		v = 0;
	/* four decimals: confidences and money read well, output is stable */
	sg_buf_addf(b, "%.4g", v);
}

static void integer(struct sg_buf *b, const char *k, long v, int *first)
{
	key(b, k, first);
	sg_buf_addf(b, "%ld", v);
}

static void boolean(struct sg_buf *b, const char *k, int v, int *first)
{
	key(b, k, first);
	sg_buf_adds(b, v ? "true" : "false");
}

void sg_decision_to_json(const struct sg_decision *d, struct sg_buf *b)
{
	int f = 1, g;
	sg_buf_addc(b, '{');
	str(b, "helpdesk_ticket_id", d->helpdesk_ticket_id, &f);
	str(b, "event_id", d->event_id, &f);
	str(b, "customer_id", d->customer_id, &f);
	str(b, "channel", d->channel, &f);
	str(b, "intent", d->intent, &f);
	num(b, "intent_confidence", d->intent_confidence, &f);
	str(b, "urgency", d->urgency, &f);
	str(b, "sentiment", d->sentiment, &f);
	num(b, "sentiment_confidence", d->sentiment_confidence, &f);
	integer(b, "frustration", d->frustration, &f);
	integer(b, "churn_risk", d->churn_risk, &f);
	integer(b, "escalation_likelihood", d->escalation_likelihood, &f);
	str(b, "language", d->language, &f);
	num(b, "language_confidence", d->language_confidence, &f);
	str(b, "risk_tier", d->risk_tier, &f);
	str(b, "confidence_band", d->confidence_band, &f);
	boolean(b, "ai_used", d->ai_used, &f);
	str(b, "ai_mode", d->ai_mode, &f);
	boolean(b, "ai_draft_sent", d->ai_draft_sent, &f);
	str(b, "gate", d->gate, &f);
	boolean(b, "approval_required", d->approval_required, &f);
	str(b, "approval_outcome", d->approval_outcome, &f);
	str(b, "approver_role", d->approver_role, &f);
	str(b, "approval_timestamp", d->approval_timestamp, &f);
	boolean(b, "guardrail_triggered", d->guardrail_triggered, &f);
	key(b, "guardrail_types", &f);
	sg_buf_addc(b, '[');
	for (size_t i = 0; i < d->nguardrail_types; i++) {
		if (i)
			sg_buf_addc(b, ',');
		sg_buf_add_json_str(b, d->guardrail_types[i], strlen(d->guardrail_types[i]));
	}
	sg_buf_addc(b, ']');
	str(b, "guardrail_action", d->guardrail_action, &f);
	boolean(b, "escalated", d->escalated, &f);
	str(b, "escalation_reason", d->escalation_reason, &f);
	str(b, "escalation_trigger_type", d->escalation_trigger_type, &f);
	key(b, "escalation", &f);
	if (d->escalated) {
		g = 1;
		sg_buf_addc(b, '{');
		str(b, "owner", d->escalation.owner, &g);
		integer(b, "sla_minutes", d->escalation.sla_minutes, &g);
		str(b, "channel", d->escalation.channel, &g);
		sg_buf_addc(b, '}');
	} else {
		sg_buf_add(b, "null", 4);
	}
	str(b, "routed_queue", d->routed_queue, &f);
	str(b, "resolution_code", d->resolution_code, &f);
	str(b, "next_action", d->next_action, &f);
	str(b, "follow_up_due_at", d->follow_up_due_at, &f);
	boolean(b, "csat_requested", d->csat_requested, &f);
	str(b, "ai_trace_id", d->ai_trace_id, &f);
	str(b, "model_name", d->model_name, &f);
	str(b, "prompt_template_version", d->prompt_template_version, &f);
	str(b, "guardrail_policy_version", d->guardrail_policy_version, &f);
	str(b, "policy_version", d->policy_version, &f);
	key(b, "draft", &f);
	if (d->draft_text) {
		g = 1;
		sg_buf_addc(b, '{');
		str(b, "text", d->draft_text, &g);
		key(b, "sources", &g);
		sg_buf_addc(b, '[');
		for (size_t i = 0; i < d->ndraft_sources; i++) {
			if (i)
				sg_buf_addc(b, ',');
			sg_buf_add_json_str(b, d->draft_sources[i], strlen(d->draft_sources[i]));
		}
		sg_buf_add(b, "]}", 2);
	} else {
		sg_buf_add(b, "null", 4);
	}
	str(b, "summary", d->summary, &f);
	key(b, "sop_steps", &f);
	sg_buf_addc(b, '[');
	for (size_t i = 0; i < d->nsteps; i++) {
		const struct sg_step *s = &d->steps[i];
		if (i)
			sg_buf_addc(b, ',');
		g = 1;
		sg_buf_addc(b, '{');
		str(b, "sop", s->sop, &g);
		integer(b, "step", s->index, &g);
		str(b, "name", s->name, &g);
		str(b, "kind", s->kind, &g);
		str(b, "detail", s->detail, &g);
		str(b, "status", s->status, &g);
		sg_buf_addc(b, '}');
	}
	sg_buf_addc(b, ']');
	key(b, "reasons", &f);
	sg_buf_addc(b, '[');
	for (size_t i = 0; i < d->nreasons; i++) {
		const struct sg_reason *r = &d->reasons[i];
		if (i)
			sg_buf_addc(b, ',');
		g = 1;
		sg_buf_addc(b, '{');
		str(b, "rule", r->rule, &g);
		str(b, "where", r->where, &g);
		str(b, "detail", r->detail, &g);
		sg_buf_addc(b, '}');
	}
	sg_buf_addc(b, ']');
	str(b, "created_at", d->created_at, &f);
	sg_buf_addc(b, '}');
}
