/*
 * bench/policy-expr - evaluations per second of the example policy's
 * conditions: every risk, gate, escalation, never and SOP condition, with
 * a trace, against a resolver that answers from a table indexed by path
 * id (as the decision engine does). One core, no allocation in the loop.
 *
 *   bench/policy-expr/run [POLICY] [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "policy/policy.h"

struct ctx {
	struct sg_value *by_id;
	size_t n;
};

static int resolve(void *c, uint32_t id, const char *path, struct sg_value *out)
{
	(void)path;
	struct ctx *x = c;
	if (id < x->n)
		*out = x->by_id[id];
	else
		out->type = SG_V_NULL;
	return 0;
}

static const struct sg_value types[] = {
	{.type = SG_V_STR, .str = "EMAIL", .len = 5},
	{.type = SG_V_STR, .str = "LEGAL_THREAT", .len = 12},
};

static void value_for(const char *path, struct sg_value *v)
{
	memset(v, 0, sizeof *v);
	if (!strcmp(path, "customer.tier")) { v->type = SG_V_STR; v->str = "enterprise"; v->len = 10; }
	else if (!strcmp(path, "priority")) { v->type = SG_V_STR; v->str = "P2"; v->len = 2; }
	else if (!strcmp(path, "scan.input.types")) { v->type = SG_V_LIST; v->items = types; v->len = 2; }
	else if (!strcmp(path, "facts.refund_amount")) { v->type = SG_V_NUM; v->num = 199; }
	else if (!strcmp(path, "facts.claim_value")) { v->type = SG_V_NUM; v->num = 7200; }
	else if (!strcmp(path, "classification.frustration")) { v->type = SG_V_NUM; v->num = 6; }
	else if (!strcmp(path, "classification.sentiment")) { v->type = SG_V_STR; v->str = "negative"; v->len = 8; }
	else if (!strcmp(path, "classification.sentiment_confidence")) { v->type = SG_V_NUM; v->num = 0.74; }
	else if (!strcmp(path, "body")) {
		v->type = SG_V_STR;
		v->str = "Hi, the freight damage on shipment SH-88231 is serious; two pallets crushed and we want the claim handled today.";
		v->len = strlen(v->str);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t collect(const struct sg_pnode *n, const struct sg_expr **out, size_t max, size_t k)
{
	if (!n)
		return k;
	if (n->expr && k < max)
		out[k++] = n->expr;
	if (n->kind == SG_PN_MAP || n->kind == SG_PN_LIST)
		for (size_t i = 0; i < n->n; i++)
			k = collect(n->items[i], out, max, k);
	return k;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "examples/acme/policy.yaml";
	double secs = argc > 2 ? atof(argv[2]) : 2.0;
	sg_json_init();
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	if (sg_policy_load(&p, path, &d, &err) < 0) {
		fprintf(stderr, "cannot load %s\n", path);
		return 2;
	}
	/* all conditions except the tests section */
	static const struct sg_expr *ex[1024];
	size_t n = 0;
	static const char *const sections[] = {"risk", "gates", "escalations", "never", "sops"};
	for (size_t i = 0; i < 5; i++)
		n = collect(sg_policy_section(p, sections[i]), ex, 1024, n);
	struct ctx c = {calloc(p->n_paths, sizeof(struct sg_value)), p->n_paths};
	for (size_t i = 0; i < p->n_paths; i++)
		value_for(p->paths[i], &c.by_id[i]);
	struct sg_expr_trace t;
	struct sg_value v;
	unsigned long long evals = 0, passes = 0, fired = 0;
	double t0 = now(), t1;
	do {
		for (int rep = 0; rep < 100; rep++) {
			for (size_t i = 0; i < n; i++) {
				t.n = 0;
				t.truncated = 0;
				sg_expr_eval(ex[i], resolve, &c, &t, &v);
				fired += sg_value_truthy(&v);
			}
			passes++;
		}
		evals = passes * n;
		t1 = now();
	} while (t1 - t0 < secs);
	double el = t1 - t0;
	printf("policy %s: %zu conditions, %zu field paths\n", path, n, p->n_paths);
	printf("%.0f evaluations/s (%.1f ns each, with trace), %.0f whole-policy passes/s (%.2f us each)\n",
	       evals / el, el * 1e9 / evals, passes / el, el * 1e6 / passes);
	printf("(%llu of %llu evaluations true)\n", fired, evals);
	free(c.by_id);
	sg_diags_release(&d);
	sg_policy_free(p);
	return 0;
}
