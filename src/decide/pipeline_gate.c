/*
 * pipeline_gate.c - what a decision concludes from the classification:
 * the classifier (with pinned test values), whether to draft, tier and
 * confidence band, gate rules and the never list, the escalation matrix,
 * the auto-send conditions and the AI agent's permissions.
 */
#include <string.h>

#include "decide/engine_int.h"
#include "core/banned.h"

/* A guardrail hit other than masked personal data. */
static int risk_hit(const struct sg_decision *d)
{
	for (size_t i = 0; i < d->nguardrail_types; i++)
		if (strcmp(d->guardrail_types[i], "pii"))
			return 1;
	return 0;
}

/* Worth drafting: confident enough, not a high-risk intent, AI not off. */
int sg_decide_may_draft(const struct sg_decide_run *r, const json_t *given)
{
	const struct sg_policy *p = r->e->policy;
	const struct sg_policy_intent *it = sg_policy_intent(p, r->c.intent);
	const json_t *gk = given ? json_object_get(given, "kill_switch") : NULL;
	return r->c.intent_confidence >= p->th.classifier_min &&
	       r->c.intent_confidence >= p->th.summarize_below && !p->kill_switch &&
	       !json_is_true(gk) && !(it && it->tier == SG_TIER_HIGH);
}

static void apply_given(struct sg_classification *c, const json_t *given,
			const struct sg_policy *p)
{
	const json_t *v;
	if (!given)
		return;
	if ((v = json_object_get(given, "intent")) && json_is_string(v)) {
		const struct sg_policy_intent *it = sg_policy_intent(p, json_string_value(v));
		c->intent = it ? it->name : "unknown";
	}
	if ((v = json_object_get(given, "intent_confidence")) && json_is_number(v))
		c->intent_confidence = json_number_value(v);
	if ((v = json_object_get(given, "sentiment")) && json_is_string(v)) {
		const char *s = json_string_value(v);
		c->sentiment = !strcmp(s, "negative")   ? SG_SENTIMENT_NEGATIVE
			       : !strcmp(s, "positive") ? SG_SENTIMENT_POSITIVE
							: SG_SENTIMENT_NEUTRAL;
	}
	if ((v = json_object_get(given, "sentiment_confidence")) && json_is_number(v))
		c->sentiment_confidence = json_number_value(v);
	if ((v = json_object_get(given, "frustration")) && json_is_number(v))
		c->frustration = (int)json_number_value(v);
	if ((v = json_object_get(given, "churn_risk")) && json_is_number(v))
		c->churn_risk = (int)json_number_value(v);
	if ((v = json_object_get(given, "escalation_likelihood")) && json_is_number(v))
		c->escalation_likelihood = (int)json_number_value(v);
	if ((v = json_object_get(given, "urgency")) && json_is_string(v)) {
		const char *u = json_string_value(v);
		if (u[0] == 'P' && u[1] >= '0' && u[1] <= '3' && !u[2])
			c->urgency = u[1] - '0';
	}
	if ((v = json_object_get(given, "language")) && json_is_string(v))
		snprintf(c->language, sizeof(c->language), "%s", json_string_value(v));
}

int sg_decide_classify(struct sg_decide_run *r, const json_t *given, struct sg_error *err)
{
	struct sg_classification *c = &r->c;
	const struct sg_ticket *t = r->t;
	memset(c, 0, sizeof(*c));
	c->intent = "unknown";
	c->urgency = 3;
	c->sentiment = SG_SENTIMENT_NEUTRAL;
	snprintf(c->language, sizeof(c->language), "und");
	if (r->e->intent) {
		struct sg_classify_input in = {0};
		in.text = r->masked; /* the classifier sees masked text only */
		in.len = strlen(r->masked);
		in.tier = t->customer.tier;
		in.priority = t->priority;
		in.history_turns = (unsigned)t->nhistory;
		for (size_t i = 0; i < t->nhistory; i++)
			in.customer_turns += !strcmp(t->history[i].role, "customer");
		in.vip = t->customer.vip;
		int rc = sg_classify_ticket(c, r->e->intent, r->cls, &in, err);
		if (rc < 0)
			return rc;
	}
	apply_given(c, given, r->e->policy);
	/* the loop trigger: the same intent answered by the AI, drafts rejected
	 * in a row (counted from the most recent turn back) */
	int rejected_run = 1;
	for (size_t i = t->nhistory; i-- > 0;) {
		const struct sg_turn *h = &t->history[i];
		if (strcmp(h->role, "ai"))
			continue;
		if (h->intent && c->intent && !strcmp(h->intent, c->intent))
			r->same_intent_ai_turns++;
		if (rejected_run && h->rejected)
			r->rejected_drafts++;
		else
			rejected_run = 0;
	}
	return 0;
}

enum sg_tier sg_decide_tier_of(struct sg_decide_run *r)
{
	const struct sg_policy *p = r->e->policy;
	const struct sg_policy_intent *it = sg_policy_intent(p, r->c.intent);
	enum sg_tier tier = it && it->tier != SG_TIER_NONE ? it->tier : SG_TIER_MEDIUM;
	if (it)
		sg_decide_reason(r, sg_arena_printf(&r->arena, "intents.%s", it->name), it->node->file,
		       it->node->line,
		       sg_arena_printf(&r->arena, "intent = %s (%.2f) is tier %s", it->name,
				       r->c.intent_confidence, sg_tier_name(tier)));
	r->d->risk_tier = sg_tier_name(tier);
	for (size_t i = 0; i < p->n_risk; i++) {
		const struct sg_policy_rule *rule = &p->risk[i];
		const char *cite;
		if (!sg_decide_eval(r, rule->when, &cite))
			continue;
		sg_decide_reason(r, rule->name, rule->file, rule->line,
		       rule->reason ? sg_arena_printf(&r->arena, "%s: %s", rule->reason, cite) : cite);
		if (rule->tier > tier) {
			tier = rule->tier;
			r->d->risk_tier = sg_tier_name(tier);
		}
	}
	return tier;
}

const char *sg_decide_band_of(const struct sg_decide_run *r)
{
	const struct sg_policy_thresholds *th = &r->e->policy->th;
	const struct sg_classification *c = &r->c;
	if (c->intent_confidence >= th->band_high_intent &&
	    c->sentiment_confidence >= th->band_high_sentiment)
		return "high";
	if (c->intent_confidence >= th->band_medium_intent ||
	    (c->sentiment == SG_SENTIMENT_NEGATIVE &&
	     c->sentiment_confidence >= th->band_medium_negative_sentiment))
		return "medium";
	return "low";
}

static int name_in(const char *name, const char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && name && !strcmp(names[i], name))
			return 1;
	return 0;
}

static int rule_sets_hit(const struct sg_decision *d, const struct sg_policy_rule *rule)
{
	for (size_t i = 0; i < d->nguardrail_types; i++)
		if (name_in(d->guardrail_types[i], rule->names, rule->n_names))
			return 1;
	return 0;
}

void sg_decide_raise_gate(struct sg_decide_gate_state *g, enum sg_gate to)
{
	if (to > g->gate)
		g->gate = to;
}

void sg_decide_gate_rules(struct sg_decide_run *r, struct sg_decide_gate_state *g)
{
	const struct sg_policy *p = r->e->policy;
	for (size_t i = 0; i < p->n_gates; i++) {
		const struct sg_policy_rule *rule = &p->gates[i];
		const char *cite = NULL;
		int by_set = rule->n_names && rule_sets_hit(r->d, rule);
		if (!by_set && !sg_decide_eval(r, rule->when, &cite))
			continue;
		if (by_set && !cite)
			cite = sg_arena_printf(&r->arena, "guardrail rule set hit (%s)",
					       rule->names[0]);
		sg_decide_reason(r, rule->name, rule->file, rule->line,
		       rule->reason ? sg_arena_printf(&r->arena, "%s: %s", rule->reason, cite) : cite);
		g->fired++;
		if (rule->gate >= g->gate && rule->channel) {
			g->channel = rule->channel;
			g->sla_seconds = rule->sla_seconds;
		}
		if (rule->queue)
			g->queue = rule->queue;
		sg_decide_raise_gate(g, rule->gate);
	}
	for (size_t i = 0; i < p->n_never; i++) {
		const struct sg_policy_rule *rule = &p->never[i];
		const char *cite = NULL;
		int by_intent = rule->n_names && name_in(r->c.intent, rule->names, rule->n_names);
		if (by_intent)
			cite = sg_arena_printf(&r->arena, "intent = %s", r->c.intent);
		else if (!sg_decide_eval(r, rule->when, &cite))
			continue;
		sg_decide_reason(r, rule->name, rule->file, rule->line,
		       rule->reason ? sg_arena_printf(&r->arena, "%s: %s", rule->reason, cite) : cite);
		g->fired++;
		sg_decide_raise_gate(g, rule->gate);
		const struct sg_pnode *block = sg_pnode_get(rule->node, "block");
		for (size_t k = 0; block && k < block->n; k++)
			if (block->items[k]->text && !strcmp(block->items[k]->text, "send"))
				g->send_blocked = 1;
	}
}

const struct sg_policy_rule *sg_decide_escalate(struct sg_decide_run *r, const char **cite)
{
	const struct sg_policy *p = r->e->policy;
	for (size_t i = 0; i < p->n_escalations; i++) {
		const struct sg_policy_rule *rule = &p->escalations[i];
		if (sg_decide_eval(r, rule->when, cite))
			return rule;
	}
	return NULL;
}

int sg_decide_auto_send_ok(struct sg_decide_run *r, const struct sg_decide_gate_state *g,
			   enum sg_tier tier, const char **why)
{
	const struct sg_policy *p = r->e->policy;
	const struct sg_pnode *as = sg_pnode_get(sg_policy_section(p, "gates"), "auto_send");
	const struct sg_policy_intent *it = sg_policy_intent(p, r->c.intent);
	const struct sg_pnode *plans = sg_pnode_get(as, "plans");
	const char *tierc = r->t->customer.tier;
	int plan_ok = !plans;
	for (size_t i = 0; plans && i < plans->n; i++)
		if (tierc && plans->items[i]->text && !strcmp(plans->items[i]->text, tierc))
			plan_ok = 1;
	if (!as)
		return 0;
	if (r->c.intent_confidence <= p->th.auto_send_min)
		return 0;
	if (!plan_ok || tier != SG_TIER_LOW || strcmp(r->d->confidence_band, "high"))
		return 0;
	if (sg_pnode_bool(as, "require_preapproved", 1) && !(it && it->auto_send))
		return 0;
	if (sg_pnode_bool(as, "require_no_triggers", 1) &&
	    (g->fired || r->d->escalated || risk_hit(r->d) ||
	     !strcmp(r->d->guardrail_action, "blocked")))
		return 0;
	*why = sg_arena_printf(&r->arena,
			       "intent_confidence = %.2f > %.2f; customer.tier = %s; intent %s "
			       "pre-approved; nothing triggered",
			       r->c.intent_confidence, p->th.auto_send_min, tierc, r->c.intent);
	return 1;
}

/* A grant target ending in a star matches any rest ("queue/tier-1"). */
static int target_matches(const char *pattern, const char *target)
{
	size_t n = strlen(pattern);
	if (n && pattern[n - 1] == '*')
		return !strncmp(pattern, target, n - 1);
	return !strcmp(pattern, target);
}

static const struct sg_policy_permission *grant_for(const struct sg_policy *p,
						     const char *resource, const char *action,
						     const char *target)
{
	for (size_t i = 0; i < p->n_permissions; i++) {
		const struct sg_policy_permission *g = &p->permissions[i];
		if (g->resource && g->action && g->target && !strcmp(g->resource, resource) &&
		    !strcmp(g->action, action) && target_matches(g->target, target))
			return g;
	}
	return NULL;
}

/* What the AI agent may do (policy `permissions`): replying on the routed
 * queue needs `tickets:respond on queue/<queue>`; refunds need
 * `billing:refund`, account deletion `crm:delete`. An action without a
 * grant is left to a human; a grant with requires_approval needs one.
 * Without a permissions section nothing is restricted here. */
void sg_decide_permissions(struct sg_decide_run *r, struct sg_decide_gate_state *g, const char *queue)
{
	const struct sg_policy *p = r->e->policy;
	if (!p->n_permissions)
		return;
	const char *target = sg_arena_printf(&r->arena, "queue/%s", queue ? queue : "");
	if (target && !grant_for(p, "tickets", "respond", target)) {
		sg_decide_reason(r, "permissions", NULL, 0,
		       sg_arena_printf(&r->arena, "no grant tickets:respond on %s: the AI may not reply there", target));
		sg_decide_raise_gate(g, SG_GATE_AGENT_REVIEW);
		g->no_respond = 1;
		g->fired++;
	}
	const char *cust = sg_arena_printf(&r->arena, "customers/%s",
					   r->t->customer.id ? r->t->customer.id : "unknown");
	const json_t *amt = sg_ticket_fact(r->t, "refund_amount");
	static const struct {
		const char *intent, *resource, *action;
	} needs[] = {{"get_refund", "billing", "refund"}, {"delete_account", "crm", "delete"}};
	for (size_t i = 0; cust && i < sizeof(needs) / sizeof(needs[0]); i++) {
		int wanted = !strcmp(r->c.intent, needs[i].intent) ||
			     (!strcmp(needs[i].action, "refund") && json_is_number(amt) &&
			      json_number_value(amt) > 0);
		if (!wanted)
			continue;
		const struct sg_policy_permission *gr =
			grant_for(p, needs[i].resource, needs[i].action, cust);
		if (!gr) {
			sg_decide_reason(r, "permissions", NULL, 0,
			       sg_arena_printf(&r->arena, "no grant %s:%s on %s: a human acts",
					       needs[i].resource, needs[i].action, cust));
			sg_decide_raise_gate(g, SG_GATE_AGENT_REVIEW);
			g->fired++;
		} else if (gr->requires_approval) {
			sg_decide_reason(r, "permissions", gr->node ? gr->node->file : NULL,
			       gr->node ? gr->node->line : 0,
			       sg_arena_printf(&r->arena, "%s:%s on %s requires approval%s%s",
					       needs[i].resource, needs[i].action, gr->target,
					       gr->approval_channel ? " in " : "",
					       gr->approval_channel ? gr->approval_channel : ""));
			sg_decide_raise_gate(g, SG_GATE_AGENT_REVIEW);
			g->fired++;
		}
	}
}
