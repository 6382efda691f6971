/*
 * tables.c - the typed view of a loaded policy that the decision engine
 * reads (tiers, gates, rules, SOP steps, thresholds) built from the checked
 * tree, and the canonical JSON encoding the policy version is hashed from.
 */
#include "policy/policy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/limits.h"
#include "policy/policy_int.h"
#include "core/banned.h"

/* ---- typed tables --------------------------------------------------- */

static const char *const tier_names[] = {"low", "medium", "high"};
static const char *const gate_names[] = {"auto_send", "agent_review", "agent_edit",
					 "two_step", "senior_review", "human_only"};

const char *sg_tier_name(enum sg_tier t)
{
	return t >= SG_TIER_LOW && t <= SG_TIER_HIGH ? tier_names[t] : "none";
}

const char *sg_gate_name(enum sg_gate g)
{
	return g < SG_GATE__COUNT ? gate_names[g] : "none";
}

int sg_gate_parse(const char *s)
{
	for (int i = 0; s && i < SG_GATE__COUNT; i++)
		if (!strcmp(gate_names[i], s))
			return i;
	return -1;
}

static enum sg_tier tier_parse(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (!strcmp(tier_names[i], s))
			return (enum sg_tier)i;
	return SG_TIER_NONE;
}

static int build_rules(struct sg_policy *p, const struct sg_pnode *list,
		       struct sg_policy_rule **out, size_t *n_out, const char *names_key)
{
	*out = NULL;
	*n_out = 0;
	if (!list || list->kind != SG_PN_LIST || !list->n)
		return 0;
	struct sg_policy_rule *v = sg_arena_calloc(&p->arena, list->n, sizeof *v);
	if (!v)
		return -1;
	for (size_t i = 0; i < list->n; i++) {
		const struct sg_pnode *n = list->items[i];
		struct sg_policy_rule *r = &v[i];
		const struct sg_pnode *w = sg_pnode_get(n, "when");
		r->node = n;
		r->file = n->file;
		r->line = n->line;
		r->name = sg_pnode_str(n, "name", "");
		r->when = w ? w->expr : NULL;
		r->reason = sg_pnode_str(n, "reason", NULL);
		r->tier = tier_parse(sg_pnode_str(n, "tier", NULL));
		int g = sg_gate_parse(sg_pnode_str(n, "gate", NULL));
		r->gate = g < 0 ? SG_GATE_AUTO_SEND : (enum sg_gate)g;
		r->owner = sg_pnode_str(n, "owner", NULL);
		r->channel = sg_pnode_str(n, "channel", NULL);
		r->queue = sg_pnode_str(n, "queue", NULL);
		r->trigger_type = sg_pnode_str(n, "trigger_type", "rule");
		r->sla_seconds = sg_pnode_num(n, "sla", 0);
		const struct sg_pnode *names = sg_pnode_get(n, names_key);
		if (names && names->kind == SG_PN_LIST && names->n) {
			r->names = sg_arena_calloc(&p->arena, names->n, sizeof *r->names);
			if (!r->names)
				return -1;
			for (size_t k = 0; k < names->n; k++)
				r->names[k] = names->items[k]->text;
			r->n_names = names->n;
		}
	}
	*out = v;
	*n_out = list->n;
	return 0;
}

static int build_steps(struct sg_policy *p, const struct sg_pnode *list,
		       struct sg_policy_step **out, size_t *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (!list || list->kind != SG_PN_LIST || !list->n)
		return 0;
	struct sg_policy_step *v = sg_arena_calloc(&p->arena, list->n, sizeof *v);
	if (!v)
		return -1;
	for (size_t i = 0; i < list->n; i++) {
		const struct sg_pnode *n = list->items[i];
		struct sg_policy_step *st = &v[i];
		st->node = n;
		st->file = n->file;
		st->line = n->line;
		st->name = sg_pnode_str(n, "name", NULL);
		if (sg_pnode_get(n, "lookup")) {
			st->kind = SG_STEP_LOOKUP;
			st->lookup = sg_pnode_str(n, "lookup", NULL);
			st->as = sg_pnode_str(n, "as", NULL);
			st->key = sg_pnode_get(n, "key") ? sg_pnode_get(n, "key")->expr : NULL;
		} else if (sg_pnode_get(n, "if")) {
			st->kind = SG_STEP_IF;
			st->cond = sg_pnode_get(n, "if")->expr;
			if (build_steps(p, sg_pnode_get(n, "then"), &st->then_steps, &st->n_then) < 0 ||
			    build_steps(p, sg_pnode_get(n, "else"), &st->else_steps, &st->n_else) < 0)
				return -1;
		} else {
			st->kind = SG_STEP_ACTION;
			st->action = sg_pnode_str(n, "action", NULL);
			st->to = sg_pnode_str(n, "to", NULL);
			st->queue = sg_pnode_str(n, "queue", NULL);
			st->within_seconds = sg_pnode_num(n, "within", 0);
		}
	}
	*out = v;
	*n_out = list->n;
	return 0;
}

static int build_more(struct sg_policy *p)
{
	const struct sg_pnode *r = p->root;
	if (p->sops && p->sops->n) {
		p->sop_list = sg_arena_calloc(&p->arena, p->sops->n, sizeof *p->sop_list);
		if (!p->sop_list)
			return -1;
		for (size_t i = 0; i < p->sops->n; i++) {
			struct sg_policy_sop *s = &p->sop_list[i];
			s->name = p->sops->keys[i];
			s->node = p->sops->items[i];
			const struct sg_pnode *tr = sg_pnode_get(s->node, "trigger");
			s->trigger = tr ? tr->expr : NULL;
			s->sla_seconds = sg_pnode_num(s->node, "sla", 0);
			if (build_steps(p, sg_pnode_get(s->node, "steps"), &s->steps, &s->n_steps) < 0)
				return -1;
		}
		p->n_sops = p->sops->n;
	}
	const struct sg_pnode *perms = sg_pnode_get(r, "permissions");
	if (perms && perms->n) {
		p->permissions = sg_arena_calloc(&p->arena, perms->n, sizeof *p->permissions);
		if (!p->permissions)
			return -1;
		for (size_t i = 0; i < perms->n; i++) {
			struct sg_policy_permission *pm = &p->permissions[i];
			const char *g = sg_pnode_str(perms->items[i], "grant", "");
			const char *colon = strchr(g, ':'), *on = strstr(g, " on ");
			pm->node = perms->items[i];
			pm->resource = sg_arena_strndup(&p->arena, g, (size_t)(colon - g));
			pm->action = sg_arena_strndup(&p->arena, colon + 1, (size_t)(on - colon - 1));
			pm->target = on + 4;
			pm->requires_approval = sg_pnode_bool(pm->node, "requires_approval", 0);
			pm->approval_channel = sg_pnode_str(pm->node, "approval_channel", NULL);
			if (!pm->resource || !pm->action)
				return -1;
		}
		p->n_permissions = perms->n;
	}
	const struct sg_pnode *b = sg_pnode_get(r, "budgets"), *qa = sg_pnode_get(r, "qa");
	p->budgets.max_tokens_per_session = sg_pnode_num(b, "max_tokens_per_session", 0);
	p->budgets.max_sessions_per_day = sg_pnode_num(b, "max_sessions_per_day", 0);
	p->budgets.max_cost_per_day = sg_pnode_num(b, "max_cost_per_day", 0);
	p->budgets.on_exceeded = sg_pnode_str(b, "on_exceeded", "summarize_only");
	p->qa.sample_size = sg_pnode_num(qa, "sample_size", 0);
	p->qa.sample_rate = sg_pnode_num(qa, "sample_rate", 0);
	p->qa.pause_below = sg_pnode_num(qa, "pause_below", 0);
	p->qa.expand_above = sg_pnode_num(qa, "expand_above", 0);
	p->qa.expand_after_weeks = sg_pnode_num(qa, "expand_after_weeks", 0);
	/* the reference SOP's training plan: peer review on every reply for
	 * the first 20 tickets, then random review of 20 percent */
	const struct sg_pnode *ob = sg_pnode_get(r, "onboarding");
	p->onboarding.peer_review_first = sg_pnode_num(ob, "peer_review_first", 20);
	p->onboarding.random_review_share = sg_pnode_num(ob, "random_review_share", 0.20);
	const struct sg_pnode *wh = sg_pnode_get(r, "webhooks");
	const struct sg_pnode *zd = sg_pnode_get(wh, "zendesk"), *ic = sg_pnode_get(wh, "intercom");
	p->webhooks.zendesk_secret_env = sg_pnode_str(zd, "secret_env", NULL);
	p->webhooks.zendesk_max_age_s = sg_pnode_num(zd, "max_age", 300);
	p->webhooks.intercom_secret_env = sg_pnode_str(ic, "secret_env", NULL);
	return 0;
}

json_t *sg_pnode_to_json(const struct sg_pnode *n)
{
	json_t *j = NULL;
	switch (n->kind) {
	case SG_PN_NULL: return json_null();
	case SG_PN_BOOL: return json_boolean(n->b);
	case SG_PN_NUM:
		if (n->num == (double)(json_int_t)n->num && n->num > -9e15 && n->num < 9e15)
			return json_integer((json_int_t)n->num);
		return json_real(n->num);
	case SG_PN_STR: return json_string(n->text);
	case SG_PN_LIST:
		j = json_array();
		for (size_t i = 0; j && i < n->n; i++) {
			json_t *x = sg_pnode_to_json(n->items[i]);
			if (!x || json_array_append_new(j, x) < 0) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	case SG_PN_MAP:
		j = json_object();
		for (size_t i = 0; j && i < n->n; i++) {
			json_t *x = sg_pnode_to_json(n->items[i]);
			if (!x || json_object_set_new(j, n->keys[i], x) < 0) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	}
	return NULL;
}

int sg_policy_build_tables(struct sg_policy *p)
{
	const struct sg_pnode *r = p->root;
	const struct sg_pnode *cls = sg_pnode_get(r, "classifier");
	const struct sg_pnode *bands = sg_pnode_get(r, "bands");
	const struct sg_pnode *gates = sg_pnode_get(r, "gates");
	p->th.classifier_min = sg_pnode_num(cls, "min_confidence", 0);
	p->th.band_high_intent = sg_pnode_num(sg_pnode_get(bands, "high"), "intent", 0);
	p->th.band_high_sentiment = sg_pnode_num(sg_pnode_get(bands, "high"), "sentiment", 0);
	p->th.band_medium_intent = sg_pnode_num(sg_pnode_get(bands, "medium"), "intent", 0);
	p->th.band_medium_negative_sentiment =
		sg_pnode_num(sg_pnode_get(bands, "medium"), "negative_sentiment", 1);
	p->th.summarize_below = sg_pnode_num(bands, "summarize_only_below", 0);
	p->th.auto_send_min = sg_pnode_num(sg_pnode_get(gates, "auto_send"), "min_confidence", 1);

	const struct sg_pnode *in = sg_pnode_get(r, "intents");
	if (in && in->n) {
		p->intents = sg_arena_calloc(&p->arena, in->n, sizeof *p->intents);
		if (!p->intents)
			return -1;
		for (size_t i = 0; i < in->n; i++) {
			struct sg_policy_intent *it = &p->intents[i];
			it->name = in->keys[i];
			it->node = in->items[i];
			it->tier = tier_parse(sg_pnode_str(it->node, "tier", NULL));
			it->auto_send = sg_pnode_bool(it->node, "auto_send", 0);
			it->queue = sg_pnode_str(it->node, "queue", NULL);
		}
		p->n_intents = in->n;
	}
	if (build_rules(p, sg_pnode_get(r, "risk"), &p->risk, &p->n_risk, "") < 0 ||
	    build_rules(p, sg_pnode_get(gates, "rules"), &p->gates, &p->n_gates, "rule_sets") < 0 ||
	    build_rules(p, sg_pnode_get(r, "escalations"), &p->escalations, &p->n_escalations, "") < 0 ||
	    build_rules(p, sg_pnode_get(r, "never"), &p->never, &p->n_never, "intents") < 0)
		return -1;
	p->tests = sg_pnode_get(r, "tests");
	p->sops = sg_pnode_get(r, "sops");
	p->kill_switch = sg_pnode_bool(sg_pnode_get(r, "kill_switch"), "enabled", 0);
	return build_more(p);
}

/* ---- canonical form and version ------------------------------------- */

static const struct sg_pnode *sort_map;
static int key_cmp(const void *a, const void *b)
{
	return strcmp(sort_map->keys[*(const size_t *)a], sort_map->keys[*(const size_t *)b]);
}

static void canonical(struct sg_buf *out, const struct sg_pnode *n, unsigned depth)
{
	switch (n->kind) {
	case SG_PN_NULL: sg_buf_adds(out, "null"); break;
	case SG_PN_BOOL: sg_buf_adds(out, n->b ? "true" : "false"); break;
	case SG_PN_NUM: sg_buf_addf(out, "%.17g", n->num); break;
	case SG_PN_STR: sg_buf_add_json_str(out, n->text, strlen(n->text)); break;
	case SG_PN_LIST:
		sg_buf_addc(out, '[');
		for (size_t i = 0; i < n->n; i++) {
			if (i)
				sg_buf_addc(out, ',');
			canonical(out, n->items[i], depth + 1);
		}
		sg_buf_addc(out, ']');
		break;
	case SG_PN_MAP: {
		size_t *idx = n->n ? sg_malloc(n->n * sizeof *idx) : NULL;
		if (n->n && !idx) {
			out->oom = 1;
			return;
		}
		for (size_t i = 0; i < n->n; i++)
			idx[i] = i;
		sort_map = n;
		if (n->n > 1)
			qsort(idx, n->n, sizeof *idx, key_cmp);
		sg_buf_addc(out, '{');
		int first = 1;
		for (size_t i = 0; i < n->n; i++) {
			const char *k = n->keys[idx[i]];
			if (depth == 0 && !strcmp(k, "include"))
				continue;
			if (!first)
				sg_buf_addc(out, ',');
			first = 0;
			sg_buf_add_json_str(out, k, strlen(k));
			sg_buf_addc(out, ':');
			canonical(out, n->items[idx[i]], depth + 1);
		}
		sg_buf_addc(out, '}');
		sg_free(idx);
		break;
	}
	}
}

void sg_policy_canonical(struct sg_buf *out, const struct sg_pnode *n)
{
	canonical(out, n, 0);
}

