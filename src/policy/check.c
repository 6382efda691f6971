/*
 * check.c - static analysis behind `sopgate check`: problems a valid
 * policy can still have (intents without a tier, rules that can never
 * fire, overlapping escalations with different owners, auto-send intents
 * caught by a never rule, thresholds out of order).
 */
#include "policy/policy.h"
#include "scan/scan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

static void at(struct sg_diags *d, enum sg_diag_severity sev, const struct sg_pnode *n,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void at(struct sg_diags *d, enum sg_diag_severity sev, const struct sg_pnode *n,
	       const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sg_diags_add(d, sev, n ? n->file : "", n ? n->source : NULL, n ? n->line : 0,
		     n ? n->col : 0, "%s", msg);
}

static const struct sg_pnode *when_node(const struct sg_policy_rule *r)
{
	const struct sg_pnode *w = sg_pnode_get(r->node, "when");
	return w ? w : r->node;
}

/* A condition without field paths has one value for every ticket. */
static int constant_value(const struct sg_expr *e, int *truth)
{
	if (!e || !sg_expr_is_constant(e))
		return 0;
	struct sg_value v;
	if (sg_expr_eval(e, NULL, NULL, NULL, &v) < 0)
		return 0;
	*truth = sg_value_truthy(&v);
	return 1;
}

static void never_fires(struct sg_diags *d, const char *section,
			const struct sg_policy_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int t;
		if (constant_value(v[i].when, &t) && !t && !v[i].n_names)
			at(d, SG_DIAG_WARNING, when_node(&v[i]),
			   "%s rule '%s' can never fire: its condition is always false", section,
			   v[i].name);
	}
}

/* Interval of numbers a `path op number` comparison accepts. */
static int interval(const struct sg_expr *e, const char **path, double *lo, int *lo_open,
		    double *hi, int *hi_open)
{
	const char *op;
	double x;
	if (!e || !sg_expr_simple_compare(e, path, &op, &x))
		return 0;
	*lo = -1e308; *hi = 1e308; *lo_open = *hi_open = 0;
	if (!strcmp(op, ">")) { *lo = x; *lo_open = 1; }
	else if (!strcmp(op, ">=")) { *lo = x; }
	else if (!strcmp(op, "<")) { *hi = x; *hi_open = 1; }
	else if (!strcmp(op, "<=")) { *hi = x; }
	else if (!strcmp(op, "==")) { *lo = *hi = x; }
	else return 0;
	return 1;
}

/* First item both lists hold, or NULL. */
static const struct sg_value *common_item(const struct sg_value *a, const struct sg_value *b)
{
	for (size_t i = 0; i < a->len; i++)
		for (size_t j = 0; j < b->len; j++)
			if (a->items[i].type == SG_V_STR && b->items[j].type == SG_V_STR &&
			    a->items[i].len == b->items[j].len &&
			    !memcmp(a->items[i].str, b->items[j].str, a->items[i].len))
				return &a->items[i];
	return NULL;
}

static void check_escalations(const struct sg_policy *p, struct sg_diags *d)
{
	const struct sg_policy_rule *v = p->escalations;
	for (size_t i = 0; i < p->n_escalations; i++) {
		int t;
		/* shadowed by an earlier catch-all or by an identical condition */
		for (size_t j = 0; j < i; j++) {
			if (constant_value(v[j].when, &t) && t) {
				at(d, SG_DIAG_WARNING, when_node(&v[i]),
				   "escalation '%s' can never fire: '%s' (line %u) matches every ticket first",
				   v[i].name, v[j].name, v[j].line);
				break;
			}
			if (v[i].when && v[j].when &&
			    !strcmp(sg_expr_source(v[i].when), sg_expr_source(v[j].when))) {
				at(d, SG_DIAG_WARNING, when_node(&v[i]),
				   "escalation '%s' can never fire: '%s' (line %u) has the same condition%s",
				   v[i].name, v[j].name, v[j].line,
				   strcmp(v[i].owner, v[j].owner) ? " and a different owner" : "");
				break;
			}
			const char *pi, *pj;
			const struct sg_value *li, *lj, *both;
			if (sg_expr_any_list(v[i].when, &pi, &li) && sg_expr_any_list(v[j].when, &pj, &lj) &&
			    !strcmp(pi, pj) && strcmp(v[i].owner, v[j].owner) &&
			    (both = common_item(li, lj)))
				at(d, SG_DIAG_WARNING, when_node(&v[i]),
				   "escalation '%s' (owner %s) overlaps '%s' (line %u, owner %s): both match %s containing \"%.*s\"; the earlier row wins",
				   v[i].name, v[i].owner, v[j].name, v[j].line, v[j].owner, pi,
				   (int)both->len, both->str);
			double loi, hii, loj, hij;
			int a, b, c, e;
			if (interval(v[i].when, &pi, &loi, &a, &hii, &b) &&
			    interval(v[j].when, &pj, &loj, &c, &hij, &e) && !strcmp(pi, pj) &&
			    strcmp(v[i].owner, v[j].owner)) {
				double lo = loi > loj ? loi : loj, hi = hii < hij ? hii : hij;
				int open = (lo == loi && a) || (lo == loj && c) || (hi == hii && b) ||
					   (hi == hij && e);
				if (lo < hi || (lo == hi && !open))
					at(d, SG_DIAG_WARNING, when_node(&v[i]),
					   "escalation '%s' (owner %s) overlaps '%s' (line %u, owner %s) on %s: the earlier row wins where both match",
					   v[i].name, v[i].owner, v[j].name, v[j].line, v[j].owner, pi);
			}
		}
	}
	never_fires(d, "escalation", v, p->n_escalations);
}

static void check_thresholds(const struct sg_policy *p, struct sg_diags *d)
{
	const struct sg_pnode *r = p->root;
	const struct sg_pnode *bands = sg_pnode_get(r, "bands");
	const struct sg_pnode *med = sg_pnode_get(sg_pnode_get(bands, "medium"), "intent");
	const struct sg_pnode *sum = sg_pnode_get(bands, "summarize_only_below");
	const struct sg_pnode *cls = sg_pnode_get(sg_pnode_get(r, "classifier"), "min_confidence");
	const struct sg_pnode *auto_min =
		sg_pnode_get(sg_pnode_get(sg_pnode_get(r, "gates"), "auto_send"), "min_confidence");
	const struct sg_pnode *qa_pause = sg_pnode_get(sg_pnode_get(r, "qa"), "pause_below");
	const struct sg_pnode *qa_exp = sg_pnode_get(sg_pnode_get(r, "qa"), "expand_above");
	const struct sg_policy_thresholds *th = &p->th;
	if (med && th->band_medium_intent >= th->band_high_intent)
		at(d, SG_DIAG_ERROR, med,
		   "thresholds out of order: bands.medium.intent (%.2f) must be below bands.high.intent (%.2f)",
		   th->band_medium_intent, th->band_high_intent);
	if (sum && th->summarize_below > th->band_medium_intent)
		at(d, SG_DIAG_ERROR, sum,
		   "thresholds out of order: bands.summarize_only_below (%.2f) is above bands.medium.intent (%.2f)",
		   th->summarize_below, th->band_medium_intent);
	if (cls && auto_min && th->classifier_min > th->auto_send_min)
		at(d, SG_DIAG_ERROR, cls,
		   "thresholds out of order: classifier.min_confidence (%.2f) is above gates.auto_send.min_confidence (%.2f), so nothing can auto-send",
		   th->classifier_min, th->auto_send_min);
	if (auto_min && th->auto_send_min < th->band_high_intent)
		at(d, SG_DIAG_WARNING, auto_min,
		   "gates.auto_send.min_confidence (%.2f) is below the high band (%.2f): medium-band tickets could auto-send",
		   th->auto_send_min, th->band_high_intent);
	if (qa_pause && qa_exp && qa_pause->num > qa_exp->num)
		at(d, SG_DIAG_ERROR, qa_pause,
		   "thresholds out of order: qa.pause_below (%.2f) is above qa.expand_above (%.2f)",
		   qa_pause->num, qa_exp->num);
}

/* Does never rule r name intent `name` in its `intents` or its condition? */
static int never_covers(const struct sg_policy_rule *r, const char *name)
{
	for (size_t i = 0; i < r->n_names; i++)
		if (!strcmp(r->names[i], name))
			return 1;
	return r->when && (sg_expr_implied_by_value(r->when, "intent", name) ||
			   sg_expr_implied_by_value(r->when, "classification.intent", name));
}

static int step_named(const struct sg_policy_step *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i].name && !strcmp(v[i].name, name))
			return 1;
		if (step_named(v[i].then_steps, v[i].n_then, name) ||
		    step_named(v[i].else_steps, v[i].n_else, name))
			return 1;
	}
	return 0;
}

static int rule_named(const struct sg_policy_rule *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return 1;
	return 0;
}

/* Reasons the engine cites without a rule of the policy behind them. */
static const char *const builtin_reasons[] = {"classifier-min-confidence", "kill-switch", NULL};

/* Test expectations must name things the policy defines. */
static void check_tests(const struct sg_policy *p, struct sg_diags *d)
{
	for (size_t i = 0; p->tests && i < p->tests->n; i++) {
		const struct sg_pnode *t = p->tests->items[i];
		const struct sg_pnode *exp = sg_pnode_get(t, "expect");
		const char *name = sg_pnode_str(t, "name", "?");
		const struct sg_pnode *er = sg_pnode_get(exp, "escalation");
		if (er && !rule_named(p->escalations, p->n_escalations, er->text))
			at(d, SG_DIAG_ERROR, er, "test '%s' expects escalation '%s', which is not a row of 'escalations'",
			   name, er->text);
		const struct sg_pnode *steps = sg_pnode_get(exp, "sop_steps");
		for (size_t k = 0; steps && k < steps->n; k++) {
			int found = 0;
			for (size_t j = 0; j < p->n_sops && !found; j++)
				found = step_named(p->sop_list[j].steps, p->sop_list[j].n_steps,
						   steps->items[k]->text);
			if (!found)
				at(d, SG_DIAG_ERROR, steps->items[k],
				   "test '%s' expects SOP step '%s', which no SOP defines", name,
				   steps->items[k]->text);
		}
		const struct sg_pnode *reasons = sg_pnode_get(exp, "reasons");
		for (size_t k = 0; reasons && k < reasons->n; k++) {
			const char *r = reasons->items[k]->text;
			int found = rule_named(p->risk, p->n_risk, r) || rule_named(p->gates, p->n_gates, r) ||
				    rule_named(p->escalations, p->n_escalations, r) ||
				    rule_named(p->never, p->n_never, r);
			for (int b = 0; !found && builtin_reasons[b]; b++)
				found = !strcmp(builtin_reasons[b], r);
			if (!found)
				at(d, SG_DIAG_ERROR, reasons->items[k],
				   "test '%s' expects reason '%s', which is neither a rule of the policy nor a built-in reason (classifier-min-confidence, kill-switch)",
				   name, r);
		}
	}
}

/* Scanner type names used in conditions must be types the scanner reports
 * (built-in or a custom pattern's type): a misspelt type never matches. */
struct type_ctx {
	const struct sg_policy *p;
	struct sg_diags *d;
	const struct sg_pnode *at;
};

static int custom_type(const struct sg_policy *p, const char *name, size_t len)
{
	const struct sg_pnode *c = sg_pnode_get(sg_pnode_get(p->root, "guardrails"), "custom");
	for (size_t i = 0; c && c->kind == SG_PN_LIST && i < c->n; i++) {
		const char *t = sg_pnode_str(c->items[i], "type", "");
		if (strlen(t) == len && !memcmp(t, name, len))
			return 1;
	}
	return 0;
}

static void check_type_list(void *ud, const char *path, const struct sg_value *list)
{
	struct type_ctx *c = ud;
	if (strcmp(path, "scan.input.types") && strcmp(path, "scan.output.types"))
		return;
	for (size_t i = 0; i < list->len; i++) {
		const struct sg_value *v = &list->items[i];
		char name[64];
		if (v->type != SG_V_STR || v->len >= sizeof(name))
			continue;
		memcpy(name, v->str, v->len);
		name[v->len] = '\0';
		if (sg_scan_type_from_name(name) >= 0 || custom_type(c->p, v->str, v->len))
			continue;
		at(c->d, SG_DIAG_ERROR, c->at,
		   "'%s' is not a scanner type (built-in types are listed in docs/policy.md; "
		   "a custom pattern can add it with `type: %s`)", name, name);
	}
}

static void check_scan_types(const struct sg_policy *p, struct sg_diags *d)
{
	const struct sg_policy_rule *sets[] = {p->risk, p->gates, p->escalations, p->never};
	const size_t ns[] = {p->n_risk, p->n_gates, p->n_escalations, p->n_never};
	for (size_t s = 0; s < 4; s++)
		for (size_t i = 0; i < ns[s]; i++) {
			struct type_ctx c = {p, d, sg_pnode_get(sets[s][i].node, "when")};
			if (c.at)
				sg_expr_each_any(sets[s][i].when, check_type_list, &c);
		}
}

/* With connectors defined, every channel must reach one, or what is sent
 * there ends in the dead letters. (The same fit as connectors/set.c.) */
static void check_connectors(const struct sg_policy *p, struct sg_diags *d)
{
	static const struct {
		const char *kind, *type;
	} fits[] = {
		{"slack", "slack"},     {"pagerduty", "pagerduty"}, {"email", "smtp"},
		{"webhook", "webhook"}, {"jira", "jira"},
	};
	const struct sg_pnode *conns = sg_pnode_get(p->root, "connectors");
	const struct sg_pnode *chans = sg_pnode_get(p->root, "channels");
	if (!conns || conns->kind != SG_PN_MAP)
		return;
	for (size_t i = 0; i < conns->n; i++) {
		const char *type = sg_pnode_str(conns->items[i], "type", "");
		if (!sg_pnode_get(conns->items[i], "base_url") &&
		    (!strcmp(type, "zendesk") || !strcmp(type, "smtp") || !strcmp(type, "webhook") ||
		     !strcmp(type, "salesforce") || !strcmp(type, "jira") || !strcmp(type, "http")))
			at(d, SG_DIAG_ERROR, conns->key_nodes[i], "connector '%s' (%s) needs `base_url`",
			   conns->keys[i], type);
	}
	for (size_t i = 0; chans && chans->kind == SG_PN_MAP && i < chans->n; i++) {
		const struct sg_pnode *ch = chans->items[i];
		const char *kind = sg_pnode_str(ch, "kind", "");
		if (!strcmp(kind, "log") || sg_pnode_get(ch, "connector"))
			continue;
		const char *want = NULL;
		size_t nfit = 0;
		for (size_t k = 0; k < sizeof(fits) / sizeof(fits[0]); k++)
			if (!strcmp(fits[k].kind, kind))
				want = fits[k].type;
		for (size_t k = 0; want && k < conns->n; k++)
			if (!strcmp(sg_pnode_str(conns->items[k], "type", ""), want))
				nfit++;
		if (nfit == 0)
			at(d, SG_DIAG_WARNING, chans->key_nodes[i],
			   "channel '%s' (kind %s) has no %s connector: actions sent there become dead letters",
			   chans->keys[i], kind, want ? want : kind);
		else if (nfit > 1)
			at(d, SG_DIAG_ERROR, chans->key_nodes[i],
			   "channel '%s' (kind %s): %zu %s connectors fit; name one with `connector:`",
			   chans->keys[i], kind, nfit, want);
	}
}

void sg_policy_check(const struct sg_policy *p, struct sg_diags *d)
{
	check_scan_types(p, d);
	check_connectors(p, d);
	const struct sg_pnode *intents = sg_pnode_get(p->root, "intents");
	for (size_t i = 0; i < p->n_intents; i++) {
		const struct sg_policy_intent *it = &p->intents[i];
		if (it->tier == SG_TIER_NONE)
			at(d, SG_DIAG_ERROR, intents->key_nodes[i], "intent '%s' has no risk tier",
			   it->name);
		if (it->auto_send && it->tier == SG_TIER_HIGH)
			at(d, SG_DIAG_WARNING, sg_pnode_get(it->node, "auto_send"),
			   "intent '%s' is high risk but pre-approved for auto-send", it->name);
		for (size_t k = 0; it->auto_send && k < p->n_never; k++)
			if (never_covers(&p->never[k], it->name) &&
			    p->never[k].gate != SG_GATE_AUTO_SEND)
				at(d, SG_DIAG_WARNING, sg_pnode_get(it->node, "auto_send"),
				   "intent '%s' is pre-approved for auto-send but never rule '%s' (line %u) always stops it",
				   it->name, p->never[k].name, p->never[k].line);
	}
	const struct sg_pnode *labels =
		sg_pnode_get(sg_pnode_get(p->root, "classifier"), "labels");
	for (size_t i = 0; labels && labels->kind == SG_PN_LIST && i < labels->n; i++)
		if (!sg_policy_intent(p, labels->items[i]->text))
			at(d, SG_DIAG_ERROR, labels->items[i],
			   "classifier label '%s' has no entry in 'intents' (so no risk tier)",
			   labels->items[i]->text);
	check_thresholds(p, d);
	never_fires(d, "risk", p->risk, p->n_risk);
	never_fires(d, "gate", p->gates, p->n_gates);
	never_fires(d, "never", p->never, p->n_never);
	check_escalations(p, d);
	for (size_t i = 0; i < p->n_gates; i++) {
		int t;
		if (constant_value(p->gates[i].when, &t) && t)
			at(d, SG_DIAG_WARNING, when_node(&p->gates[i]),
			   "gate rule '%s' matches every ticket: nothing can get a weaker gate than %s",
			   p->gates[i].name, sg_gate_name(p->gates[i].gate));
	}
	/* SOP triggers that are constant */
	for (size_t i = 0; p->sops && i < p->sops->n; i++) {
		const struct sg_pnode *tr = sg_pnode_get(p->sops->items[i], "trigger");
		int t;
		if (tr && constant_value(tr->expr, &t) && !t)
			at(d, SG_DIAG_WARNING, tr, "sop '%s' can never run: its trigger is always false",
			   p->sops->keys[i]);
	}
	check_tests(p, d);
	/* queues nobody routes to are fine; an empty intents table is not */
	if (!p->n_intents)
		at(d, SG_DIAG_ERROR, intents, "no intents: every ticket would go to triage");
}
