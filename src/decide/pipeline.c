/*
 * pipeline.c - one ticket event through the policy: scan, classify, tier,
 * band, SOP workflows, gate, escalation, and the decision object. Each rule
 * that fires adds a reason citing its policy line and the values it saw.
 * Drafting and summaries are in pipeline_draft.c, the gate in pipeline_gate.c.
 */
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/id.h"
#include "decide/engine_int.h"
#include "core/banned.h"

static const char *where(struct sg_decide_run *r, const char *file, unsigned line)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	return sg_arena_printf(&r->arena, "%s:%u", slash ? slash + 1 : (file ? file : "?"), line);
}

void sg_decide_reason(struct sg_decide_run *r, const char *rule, const char *file,
		      unsigned line, const char *detail)
{
	sg_decision_add_reason(r->d, rule, file ? where(r, file, line) : NULL, detail);
}

/* Scanner types hit, as a list the resolver hands to expressions, and the
 * guardrail fields of the decision. */
int sg_decide_collect_types(struct sg_decide_run *r, const struct sg_scan_result *res,
			    const char ***out, size_t *n)
{
	*n = 0;
	*out = sg_arena_calloc(&r->arena, res->ntypes + 1, sizeof(char *));
	if (!*out)
		return -SG_ENOMEM;
	for (size_t i = 0; i < res->ntypes; i++)
		(*out)[(*n)++] = res->types[i];
	for (size_t i = 0; i < res->nfindings; i++) {
		const struct sg_scan_finding *f = &res->findings[i];
		int t = sg_scan_type_from_name(f->type);
		const char *set = t >= 0 ? r->e->set_of_type[t] : "custom";
		/* a custom type that is only flagged (an order number, a privacy
		 * request) routes through conditions but is no guardrail hit */
		if (t < 0 && f->action == SG_SCAN_FLAG)
			continue;
		sg_decision_add_type(r->d, set ? set : "custom");
		r->d->guardrail_triggered = 1;
		if (f->action == SG_SCAN_BLOCK)
			r->d->guardrail_action = "blocked";
		else if (f->action == SG_SCAN_MASK && strcmp(r->d->guardrail_action, "blocked"))
			r->d->guardrail_action = "masked";
	}
	return 0;
}

static int scan_input(struct sg_decide_run *r, const char *text, size_t len,
		      struct sg_scan_input *in, struct sg_error *err)
{
	struct sg_scan_result *res;
	const struct sg_customer *c = &r->t->customer;
	in->customer_name = c->name;
	in->customer_email = c->email;
	in->customer_phone = c->phone;
	int rc = sg_scan_run(r->scan, SG_SCAN_INPUT, text, len, in, &res, err);
	if (rc < 0)
		return rc;
	r->masked = sg_arena_strndup(&r->arena, res->masked, res->masked_len);
	if (!r->masked || sg_decide_collect_types(r, res, &r->in_types, &r->n_in_types) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	/* the input's PII values, for the PII_ECHO check of the draft */
	const char **vals = sg_arena_calloc(&r->arena, res->nfindings + 1, sizeof(char *));
	if (!vals)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	size_t nv = 0;
	for (size_t i = 0; i < res->nfindings; i++) {
		const struct sg_scan_finding *f = &res->findings[i];
		int t = sg_scan_type_from_name(f->type);
		if (t >= 0 && t <= SG_T_SECRET && f->end > f->start)
			vals[nv++] = sg_arena_strndup(&r->arena, text + f->start, f->end - f->start);
	}
	in->pii_values = vals;
	in->npii_values = nv;
	if (res->blocked)
		sg_decide_reason(r, "guardrails.input", NULL, 0,
		       sg_arena_printf(&r->arena, "input blocked by the scanner (%s)",
				       res->ntypes ? res->types[0] : "limit"));
	return 0;
}

static int scan_draft(struct sg_decide_run *r, struct sg_scan_input *in,
		      struct sg_error *err)
{
	struct sg_scan_result *res;
	const char *draft = r->t->draft_text;
	in->allow_urls = r->e->allow_urls;
	in->nallow_urls = r->e->nallow;
	int rc = sg_scan_run(r->scan, SG_SCAN_OUTPUT, draft, strlen(draft), in, &res, err);
	if (rc < 0)
		return rc;
	r->draft_masked = sg_arena_strndup(&r->arena, res->masked, res->masked_len);
	if (!r->draft_masked || sg_decide_collect_types(r, res, &r->out_types, &r->n_out_types) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (res->blocked)
		sg_decide_reason(r, "guardrails.output", NULL, 0,
		       sg_arena_printf(&r->arena, "draft blocked by the scanner (%s)",
				       res->ntypes ? res->types[0] : "limit"));
	return 0;
}

static const char *next_action(enum sg_gate g)
{
	static const char *const names[] = {
		"send_reply", "agent_review_draft", "agent_edit_with_checklist",
		"two_step_approval", "senior_review", "human_handles",
	};
	return g < SG_GATE__COUNT ? names[g] : "human_handles";
}

/* model_name and prompt_template_version of every decision: what wrote
 * the draft or the summary, else the model the policy names for the task
 * of the AI mode (an agent's own draft, no knowledge base). */
static void prompt_fields(struct sg_decide_run *r)
{
	if (r->d->model_name && r->d->prompt_template_version)
		return;
	enum sg_task_id t = !strcmp(r->d->ai_mode, "draft_reply") ? SG_TASK_DRAFT : SG_TASK_SUMMARIZE;
	r->d->model_name = r->e->tasks[t].model_name;
	r->d->prompt_template_version = r->e->tasks[t].prompt_version;
}

int sg_decide(struct sg_decision *out, struct sg_decide_run *r,
	      const struct sg_ticket *t, const json_t *given, struct sg_error *err)
{
	const struct sg_policy *p = r->e->policy;
	struct sg_scan_input in;
	struct sg_decide_gate_state g = {SG_GATE_AUTO_SEND, 0, 0, NULL, 0, NULL, 0};
	const char *cite = NULL;
	size_t len;
	int rc;

	sg_decide__reset(r);
	memset(out, 0, sizeof(*out));
	memset(&in, 0, sizeof(in));
	r->t = t;
	r->d = out;
	r->masked = r->draft_masked = NULL;
	r->in_types = r->out_types = NULL;
	r->n_in_types = r->n_out_types = 0;
	r->same_intent_ai_turns = r->rejected_drafts = 0;
	r->sop_queue = NULL;
	r->sop_review = 0;
	r->generated = r->unsupported = r->draft_failed = 0;
	r->session = r->budget_exceeded = 0;
	r->sop_step_no = 0;
	r->now_ms = r->e->clock ? r->e->clock(r->e->clock_ctx) : sg_now_ms();
	r->actions = json_array();
	if (!r->actions)
		return sg_error_set(err, SG_ENOMEM, "out of memory");

	char *trace = sg_arena_alloc(&r->arena, SG_ID_LEN);
	char *now = sg_arena_alloc(&r->arena, 25);
	if (!trace || !now || sg_id_new(trace) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	sg_time_iso(r->now_ms, now);
	out->helpdesk_ticket_id = t->id;
	out->event_id = t->event_id;
	out->customer_id = t->customer.id;
	out->channel = t->channel;
	out->ai_trace_id = trace;
	out->created_at = now;
	out->policy_version = p->version;
	out->guardrail_policy_version = r->e->scan_version;
	out->guardrail_action = "allowed";
	out->risk_tier = "low";
	out->confidence_band = "low";

	/* 1. scan the input; everything after sees masked text only */
	const char *text = sg_ticket_text(t, &r->arena, &len);
	if (!text)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if ((rc = scan_input(r, text, len, &in, err)) < 0)
		return rc;
	out->masked_text = r->masked;
	/* 2. classify (and the tagger model, when the policy names one) */
	if ((rc = sg_decide_classify(r, given, err)) < 0)
		return rc;
	sg_decide_model_tags(r, given, text, len, &in);
	out->intent = r->c.intent;
	out->intent_confidence = r->c.intent_confidence;
	out->urgency = sg_urgency_name(r->c.urgency);
	out->sentiment = sg_sentiment_name(r->c.sentiment);
	out->sentiment_confidence = r->c.sentiment_confidence;
	out->frustration = r->c.frustration;
	out->churn_risk = r->c.churn_risk;
	out->escalation_likelihood = r->c.escalation_likelihood;
	out->language = sg_arena_strdup(&r->arena, r->c.language);
	out->language_confidence = r->c.language_confidence;
	/* 3. an existing draft goes through the output scan; without one, and
	 * when the AI may draft at all, the built-in drafter writes one */
	if (t->draft_text && (rc = scan_draft(r, &in, err)) < 0)
		return rc;
	if (!t->draft_text && r->kb && sg_decide_may_draft(r, given) &&
	    (rc = sg_decide_generate_draft(r, &in, text, len, err)) < 0)
		return rc;
	if (r->draft_masked) {
		out->draft_text = r->draft_masked;
		for (size_t i = 0; i < t->ndraft_sources && i < SG_DECISION_MAX_SOURCES; i++)
			out->draft_sources[out->ndraft_sources++] = t->draft_sources[i];
	}
	/* 4. tier and band */
	enum sg_tier tier = sg_decide_tier_of(r);
	out->confidence_band = sg_decide_band_of(r);
	/* 5. SOP workflows */
	sg_decide_sops(r);
	if (r->sop_review) {
		sg_decide_reason(r, "sops.on_error", NULL, 0, "an SOP step failed: flagged for manual review");
		g.fired++;
	}
	/* 6. the gate: the tier's default, raised by gate rules and the never list */
	const struct sg_pnode *gates = sg_policy_section(p, "gates");
	int base = sg_gate_parse(sg_pnode_str(sg_pnode_get(gates, "by_tier"), sg_tier_name(tier),
					      sg_pnode_str(gates, "default", "agent_review")));
	g.gate = base < 0 ? SG_GATE_AGENT_REVIEW : (enum sg_gate)base;
	sg_decide_gate_rules(r, &g);
	if (r->sop_review)
		sg_decide_raise_gate(&g, SG_GATE_AGENT_REVIEW);
	/* 7. escalation matrix: the first row that matches */
	const struct sg_policy_rule *esc = sg_decide_escalate(r, &cite);
	if (esc) {
		out->escalated = 1;
		out->escalation_reason = esc->reason ? esc->reason : esc->name;
		out->escalation_trigger_type = esc->trigger_type ? esc->trigger_type : "rule";
		out->escalation.owner = esc->owner;
		out->escalation.channel = esc->channel;
		out->escalation.sla_minutes = (int)(esc->sla_seconds / 60);
		out->escalation.rule = esc->name;
		sg_decide_reason(r, esc->name, esc->file, esc->line, cite);
		sg_decide_raise_gate(&g, SG_GATE_AGENT_REVIEW);
		char *due = sg_arena_alloc(&r->arena, 25);
		if (due) {
			sg_time_iso(r->now_ms + (int64_t)(esc->sla_seconds * 1000), due);
			out->follow_up_due_at = due;
		}
		json_t *a = json_pack("{s:s, s:s?, s:s?, s:i, s:s?}", "kind", "escalate", "owner",
				      esc->owner, "channel", esc->channel, "sla_minutes",
				      out->escalation.sla_minutes, "due_at", out->follow_up_due_at);
		if (a)
			json_array_append_new(r->actions, a);
	}
	/* 8. below the classifier's minimum a human triages */
	int triage = r->c.intent_confidence < p->th.classifier_min;
	if (triage) {
		sg_decide_reason(r, "classifier-min-confidence", NULL, 0,
		       sg_arena_printf(&r->arena, "intent_confidence = %.2f < %.2f",
				       r->c.intent_confidence, p->th.classifier_min));
		sg_decide_raise_gate(&g, SG_GATE_HUMAN_ONLY);
	}
	/* 9. where it goes, and whether the AI may act there */
	const struct sg_policy_intent *it = sg_policy_intent(p, r->c.intent);
	if (triage)
		out->routed_queue = r->e->triage_queue;
	else if (esc && esc->queue)
		out->routed_queue = esc->queue;
	else if (r->sop_queue)
		out->routed_queue = r->sop_queue;
	else if (g.queue)
		out->routed_queue = g.queue;
	else if (it && it->queue)
		out->routed_queue = it->queue;
	else
		out->routed_queue = r->e->triage_queue;
	sg_decide_permissions(r, &g, out->routed_queue);
	if (r->unsupported || (r->generated && !strncmp(r->draft_masked, "ESCALATE", 8)))
		sg_decide_raise_gate(&g, SG_GATE_AGENT_REVIEW), g.fired++;
	/* 10. auto-send only when every condition holds */
	const char *why = NULL;
	if (g.gate <= SG_GATE_AGENT_REVIEW && !triage && sg_decide_auto_send_ok(r, &g, tier, &why)) {
		if (sg_engine_qa_paused(r->e, r->c.intent)) {
			sg_decide_raise_gate(&g, SG_GATE_AGENT_REVIEW);
			sg_decide_reason(r, "qa.pause", NULL, 0,
			       sg_arena_printf(&r->arena, "auto-send for intent %s is paused by "
					       "the QA loop until a human lifts it", r->c.intent));
		} else {
			g.gate = SG_GATE_AUTO_SEND;
			sg_decide_reason(r, "gates.auto_send", NULL, 0, why);
		}
	}
	/* 11. what the AI may do */
	out->ai_mode = "draft_reply";
	if (tier == SG_TIER_HIGH || g.gate == SG_GATE_HUMAN_ONLY || triage ||
	    r->c.intent_confidence < p->th.summarize_below || !strcmp(out->confidence_band, "low"))
		out->ai_mode = "summarize_only";
	const json_t *gk = given ? json_object_get(given, "kill_switch") : NULL;
	if (!strcmp(out->ai_mode, "draft_reply") && !sg_decide_budget_ok(r)) {
		const char *m = p->budgets.on_exceeded ? p->budgets.on_exceeded : "summarize_only";
		out->ai_mode = "summarize_only";
		if (!strcmp(m, "human_only"))
			sg_decide_raise_gate(&g, SG_GATE_HUMAN_ONLY);
		if (g.gate == SG_GATE_AUTO_SEND)
			g.gate = SG_GATE_AGENT_REVIEW;
	}
	if (p->kill_switch || json_is_true(gk)) {
		out->ai_mode = "summarize_only";
		sg_decide_reason(r, "kill-switch", NULL, 0, "the kill switch forces summarize-only");
		if (g.gate == SG_GATE_AUTO_SEND)
			g.gate = SG_GATE_AGENT_REVIEW;
	}
	if (r->draft_failed && !strcmp(out->ai_mode, "draft_reply"))
		out->ai_mode = "summarize_only";
	if (g.gate == SG_GATE_AUTO_SEND && !strcmp(out->ai_mode, "summarize_only"))
		g.gate = SG_GATE_AGENT_REVIEW;
	if (r->generated && strcmp(out->ai_mode, "draft_reply")) {
		r->draft_masked = NULL; /* drafted, but the AI may only summarize */
		out->draft_text = NULL;
		out->ndraft_sources = 0;
		out->model_name = out->prompt_template_version = NULL;
	}
	if (r->budget_exceeded && p->budgets.on_exceeded && !strcmp(p->budgets.on_exceeded, "human_only"))
		sg_decide_raise_gate(&g, SG_GATE_HUMAN_ONLY);
	out->ai_used = 1;
	if (!strcmp(out->ai_mode, "summarize_only"))
		sg_decide_summarize(r, text, len, p->kill_switch || json_is_true(gk));
	out->gate = sg_gate_name(g.gate);
	out->approval_required = g.gate != SG_GATE_AUTO_SEND;
	out->approval_outcome = out->approval_required ? "pending" : "not_required";
	out->ai_draft_sent = g.gate == SG_GATE_AUTO_SEND && r->draft_masked && !g.send_blocked &&
			     strcmp(out->guardrail_action, "blocked");
	if (g.send_blocked && strcmp(out->guardrail_action, "blocked"))
		out->guardrail_action = "blocked";
	if (g.fired)
		out->guardrail_triggered = out->guardrail_triggered || g.send_blocked;
	if (!out->escalated && g.gate == SG_GATE_SENIOR_REVIEW && g.channel) {
		out->escalation.channel = g.channel;
		out->escalation.sla_minutes = (int)(g.sla_seconds / 60);
	}
	out->next_action = next_action(g.gate);
	out->resolution_code = out->escalated ? "escalated"
			       : g.gate == SG_GATE_AUTO_SEND ? "ai_reply"
							     : "pending_human";
	out->csat_requested = out->ai_draft_sent;
	prompt_fields(r);
	return 0;
}
