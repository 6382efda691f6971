/*
 * resolve.c - the field paths policy expressions can read, answered from
 * the decision being made: the ticket, its facts, the scan and the
 * classification, the tier and band computed so far, and the records SOP
 * lookups bound. Absent fields are null, which compares false.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "decide/engine_int.h"
#include "core/banned.h"

static void set_str(struct sg_value *v, const char *s)
{
	if (!s) {
		v->type = SG_V_NULL;
		return;
	}
	v->type = SG_V_STR;
	v->str = s;
	v->len = strlen(s);
}

static void set_num(struct sg_value *v, double n)
{
	v->type = SG_V_NUM;
	v->num = n;
}

static void set_bool(struct sg_value *v, int b)
{
	v->type = SG_V_BOOL;
	v->b = b != 0;
}

static int set_list(struct sg_decide_run *r, struct sg_value *v,
		    const char *const *items, size_t n)
{
	struct sg_value *xs = sg_arena_calloc(&r->arena, n ? n : 1, sizeof(*xs));
	if (!xs)
		return -SG_ENOMEM;
	for (size_t i = 0; i < n; i++)
		set_str(&xs[i], items[i]);
	v->type = SG_V_LIST;
	v->items = xs;
	v->len = n;
	return 0;
}

static int from_json(struct sg_decide_run *r, const json_t *j, struct sg_value *v)
{
	switch (j ? json_typeof(j) : JSON_NULL) {
	case JSON_STRING:
		v->type = SG_V_STR;
		v->str = json_string_value(j);
		v->len = json_string_length(j);
		return 0;
	case JSON_INTEGER:
	case JSON_REAL:
		set_num(v, json_number_value(j));
		return 0;
	case JSON_TRUE:
	case JSON_FALSE:
		set_bool(v, json_is_true(j));
		return 0;
	case JSON_ARRAY: {
		size_t n = json_array_size(j);
		struct sg_value *xs = sg_arena_calloc(&r->arena, n ? n : 1, sizeof(*xs));
		if (!xs)
			return -SG_ENOMEM;
		for (size_t i = 0; i < n; i++) {
			const json_t *it = json_array_get(j, i);
			if (json_is_array(it) || json_is_object(it))
				xs[i].type = SG_V_NULL; /* lists hold scalars */
			else if (from_json(r, it, &xs[i]) < 0)
				return -SG_ENOMEM;
		}
		v->type = SG_V_LIST;
		v->items = xs;
		v->len = n;
		return 0;
	}
	default:
		v->type = SG_V_NULL;
		return 0;
	}
}

static const json_t *json_path(const json_t *cur, const char *path)
{
	char key[128];
	while (cur && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key) || !json_is_object(cur))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		cur = json_object_get(cur, key);
		path += n + (dot ? 1 : 0);
	}
	return cur;
}

/* "customer.tier" with prefix "customer." -> "tier"; NULL when no match. */
static const char *under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) ? NULL : path + n;
}

static int classification(struct sg_decide_run *r, const char *f, struct sg_value *v)
{
	const struct sg_classification *c = &r->c;
	if (!strcmp(f, "intent"))
		set_str(v, c->intent);
	else if (!strcmp(f, "intent_confidence"))
		set_num(v, c->intent_confidence);
	else if (!strcmp(f, "urgency"))
		set_str(v, sg_urgency_name(c->urgency));
	else if (!strcmp(f, "sentiment"))
		set_str(v, sg_sentiment_name(c->sentiment));
	else if (!strcmp(f, "sentiment_confidence"))
		set_num(v, c->sentiment_confidence);
	else if (!strcmp(f, "frustration"))
		set_num(v, c->frustration);
	else if (!strcmp(f, "churn_risk"))
		set_num(v, c->churn_risk);
	else if (!strcmp(f, "escalation_likelihood"))
		set_num(v, c->escalation_likelihood);
	else if (!strcmp(f, "language"))
		set_str(v, c->language);
	else if (!strcmp(f, "language_confidence"))
		set_num(v, c->language_confidence);
	else
		v->type = SG_V_NULL;
	return 0;
}

static int customer(struct sg_decide_run *r, const char *f, struct sg_value *v)
{
	const struct sg_customer *c = &r->t->customer;
	/* name, email and phone are PII: policies match on tier and numbers */
	if (!strcmp(f, "id"))
		set_str(v, c->id);
	else if (!strcmp(f, "tier"))
		set_str(v, c->tier);
	else if (!strcmp(f, "vip"))
		set_bool(v, c->vip);
	else if (!strcmp(f, "ltv"))
		set_num(v, c->ltv);
	else if (!strcmp(f, "tenure_months"))
		set_num(v, c->tenure_months);
	else if (!strcmp(f, "contract_value"))
		set_num(v, c->contract_value);
	else
		return from_json(r, json_path(json_object_get(r->t->json, "customer"), f), v);
	return 0;
}

int sg_decide_resolve(void *ctx, uint32_t path_id, const char *path,
		      struct sg_value *out)
{
	struct sg_decide_run *r = ctx;
	const struct sg_ticket *t = r->t;
	const char *f;
	(void)path_id;
	memset(out, 0, sizeof(*out));

	if ((f = under(path, "ticket.")))
		path = f; /* ticket.x is x */
	if ((f = under(path, "classification.")))
		return classification(r, f, out);
	if ((f = under(path, "customer.")))
		return customer(r, f, out);
	if ((f = under(path, "facts.")))
		return from_json(r, json_path(t->facts, f), out);
	if ((f = under(path, "scan.input.")) || (f = under(path, "scan.output."))) {
		int in = path[5] == 'i';
		const char **types = in ? r->in_types : r->out_types;
		size_t n = in ? r->n_in_types : r->n_out_types;
		if (!strcmp(f, "types"))
			return set_list(r, out, types, n);
		if (!strcmp(f, "count"))
			set_num(out, (double)n);
		return 0;
	}
	if ((f = under(path, "history."))) {
		if (!strcmp(f, "same_intent_ai_turns"))
			set_num(out, r->same_intent_ai_turns);
		else if (!strcmp(f, "rejected_drafts"))
			set_num(out, r->rejected_drafts);
		else if (!strcmp(f, "turns"))
			set_num(out, (double)t->nhistory);
		return 0;
	}
	if ((f = under(path, "draft."))) {
		if (!strcmp(f, "text"))
			set_str(out, r->draft_masked);
		else if (!strcmp(f, "present"))
			set_bool(out, r->draft_masked != NULL);
		return 0;
	}
	if (!strcmp(path, "id"))
		set_str(out, t->id);
	else if (!strcmp(path, "channel"))
		set_str(out, t->channel);
	else if (!strcmp(path, "priority"))
		set_str(out, t->priority);
	else if (!strcmp(path, "body") || !strcmp(path, "text") || !strcmp(path, "subject"))
		set_str(out, r->masked); /* masked: expressions never see raw PII */
	else if (!strcmp(path, "intent"))
		set_str(out, r->c.intent);
	else if (!strcmp(path, "tier"))
		set_str(out, t->customer.tier);
	else if (!strcmp(path, "risk_tier"))
		set_str(out, r->d->risk_tier);
	else if (!strcmp(path, "band") || !strcmp(path, "confidence_band"))
		set_str(out, r->d->confidence_band);
	else if (!strcmp(path, "kill_switch"))
		set_bool(out, r->e->policy->kill_switch);
	else if (!strcmp(path, "now"))
		set_num(out, (double)(r->now_ms / 1000));
	else {
		/* a record bound by an SOP lookup: account.tier */
		for (size_t i = 0; i < r->nbind; i++) {
			size_t n = strlen(r->bind[i].name);
			if (!strncmp(path, r->bind[i].name, n) &&
			    (path[n] == '.' || path[n] == '\0'))
				return from_json(r, path[n] ? json_path(r->bind[i].record,
									path + n + 1)
							    : r->bind[i].record,
						 out);
		}
	}
	return 0;
}

int sg_decide_eval(struct sg_decide_run *r, const struct sg_expr *e, const char **cite)
{
	struct sg_expr_trace trace;
	struct sg_value v;
	trace.n = 0;
	trace.truncated = 0;
	if (!e)
		return 0;
	if (sg_expr_eval(e, sg_decide_resolve, r, cite ? &trace : NULL, &v) < 0)
		return 0;
	int yes = sg_value_truthy(&v);
	if (yes && cite) {
		struct sg_buf b = SG_BUF_INIT;
		sg_trace_format(&b, &trace);
		*cite = b.len ? sg_arena_strndup(&r->arena, b.data, b.len)
			      : sg_arena_strdup(&r->arena, sg_expr_source(e));
		sg_buf_release(&b);
	}
	return yes;
}

const char *sg_decide_template(struct sg_decide_run *r, const char *tmpl)
{
	struct sg_buf b = SG_BUF_INIT;
	const char *p = tmpl;
	while (*p) {
		const char *open = strchr(p, '{');
		const char *close = open ? strchr(open, '}') : NULL;
		if (!open || !close || close - open > 120) {
			sg_buf_adds(&b, p);
			break;
		}
		sg_buf_add(&b, p, (size_t)(open - p));
		char path[128];
		snprintf(path, sizeof(path), "%.*s", (int)(close - open - 1), open + 1);
		struct sg_value v;
		sg_decide_resolve(r, 0, path, &v);
		if (v.type == SG_V_STR)
			sg_buf_add(&b, v.str, v.len);
		else
			sg_value_format(&b, &v);
		p = close + 1;
	}
	const char *s = b.oom ? tmpl : sg_arena_strndup(&r->arena, b.data, b.len);
	sg_buf_release(&b);
	return s ? s : tmpl;
}
