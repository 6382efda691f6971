/*
 * cmd_test.c - `sopgate test POLICY`: runs the policy's own `tests:`, each
 * a ticket event with pinned classifier outputs (`given`) and the decision
 * fields it must produce (`expect`). Prints each failure with the expected
 * and actual value and the test's line, then "N passed, N failed".
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/engine_setup.h"
#include "core/json.h"
#include "decide/engine.h"
#include "policy/policy.h"
#include "core/banned.h"

static int run(int argc, char **argv);

const struct sg_cmd sg_cmd_test = {
	"test",
	"run a policy's tests (policy as code)",
	"sopgate test POLICY [--verbose]\n"
	"  Runs every entry of the policy's `tests:` section through the decision\n"
	"  engine and compares the fields under `expect`. Exit 0 when all pass.\n",
	run,
};

static json_t *to_json(const struct sg_pnode *n)
{
	if (!n)
		return json_null();
	switch (n->kind) {
	case SG_PN_BOOL: return json_boolean(n->b);
	case SG_PN_NUM: return json_real(n->num);
	case SG_PN_STR: return json_string(n->text ? n->text : "");
	case SG_PN_LIST: {
		json_t *a = json_array();
		for (size_t i = 0; i < n->n; i++)
			json_array_append_new(a, to_json(n->items[i]));
		return a;
	}
	case SG_PN_MAP: {
		json_t *o = json_object();
		for (size_t i = 0; i < n->n; i++)
			json_object_set_new(o, n->keys[i], to_json(n->items[i]));
		return o;
	}
	default: return json_null();
	}
}

/* The value of one decision field as text, for comparison and messages. */
static const char *field(const struct sg_decision *d, const char *k, char *buf, size_t n)
{
#define S(name) if (!strcmp(k, #name)) return d->name ? d->name : "null";
#define B(name) if (!strcmp(k, #name)) return d->name ? "true" : "false";
	S(gate) S(risk_tier) S(confidence_band) S(ai_mode) S(routed_queue) S(intent)
	S(urgency) S(sentiment) S(guardrail_action) S(escalation_reason) S(language)
	S(escalation_trigger_type) S(next_action) S(resolution_code)
	B(escalated) B(approval_required) B(ai_draft_sent) B(guardrail_triggered) B(ai_used)
	B(csat_requested)
#undef S
#undef B
	if (!strcmp(k, "escalation"))
		return d->escalation.rule ? d->escalation.rule : "null";
	if (!strcmp(k, "escalation_owner"))
		return d->escalation.owner ? d->escalation.owner : "null";
	if (!strcmp(k, "escalation_channel"))
		return d->escalation.channel ? d->escalation.channel : "null";
	if (!strcmp(k, "escalation_sla_minutes")) {
		snprintf(buf, n, "%d", d->escalation.sla_minutes);
		return buf;
	}
	return NULL;
}

static const char *scalar_text(const struct sg_pnode *n, char *buf, size_t size)
{
	if (n->kind == SG_PN_BOOL)
		return n->b ? "true" : "false";
	if (n->kind == SG_PN_NUM) {
		snprintf(buf, size, "%g", n->num);
		return buf;
	}
	return n->text ? n->text : "null";
}

static int has_reason(const struct sg_decision *d, const char *name)
{
	for (size_t i = 0; i < d->nreasons; i++)
		if (!strcmp(d->reasons[i].rule, name))
			return 1;
	return 0;
}

static int has_type(const struct sg_decision *d, const char *name)
{
	for (size_t i = 0; i < d->nguardrail_types; i++)
		if (!strcmp(d->guardrail_types[i], name))
			return 1;
	return 0;
}

/* Compares one expectation; prints and returns 1 on a mismatch. */
static int check(const char *test, const struct sg_pnode *want, const char *key,
		 const struct sg_decision *d)
{
	char a[64], b[64];
	struct sg_buf got = SG_BUF_INIT;
	int bad = 0;
	if (!strcmp(key, "reasons") || !strcmp(key, "guardrail_types")) {
		int reasons = key[0] == 'r';
		for (size_t i = 0; i < want->n; i++) {
			const char *w = want->items[i]->text;
			if (w && !(reasons ? has_reason(d, w) : has_type(d, w))) {
				bad = 1;
				printf("FAIL %s (%s:%u): %s: expected to contain '%s', got [", test,
				       want->file, want->line, key, w);
				if (reasons)
					for (size_t k = 0; k < d->nreasons; k++)
						printf("%s%s", k ? ", " : "", d->reasons[k].rule);
				else
					for (size_t k = 0; k < d->nguardrail_types; k++)
						printf("%s%s", k ? ", " : "", d->guardrail_types[k]);
				printf("]\n");
			}
		}
		return bad;
	}
	if (!strcmp(key, "sop_steps")) {
		for (size_t i = 0; i < d->nsteps; i++)
			sg_buf_addf(&got, "%s%s", i ? ", " : "", d->steps[i].name ? d->steps[i].name : "?");
		struct sg_buf exp = SG_BUF_INIT;
		for (size_t i = 0; i < want->n; i++)
			sg_buf_addf(&exp, "%s%s", i ? ", " : "", want->items[i]->text ? want->items[i]->text : "?");
		if (strcmp(got.data, exp.data)) {
			bad = 1;
			printf("FAIL %s (%s:%u): sop_steps: expected [%s], got [%s]\n", test, want->file,
			       want->line, exp.data, got.data);
		}
		sg_buf_release(&exp);
		sg_buf_release(&got);
		return bad;
	}
	const char *have = field(d, key, a, sizeof(a));
	const char *exp = scalar_text(want, b, sizeof(b));
	if (!have) {
		printf("FAIL %s (%s:%u): unknown expectation '%s'\n", test, want->file, want->line, key);
		return 1;
	}
	if (strcmp(have, exp)) {
		printf("FAIL %s (%s:%u): %s: expected %s, got %s\n", test, want->file, want->line,
		       key, exp, have);
		return 1;
	}
	return 0;
}

static int run(int argc, char **argv)
{
	const char *path = NULL;
	int verbose = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
			verbose = 1;
		else if (argv[i][0] == '-')
			return sg_cli_usage_error(&sg_cmd_test, "unknown option '%s'", argv[i]);
		else if (!path)
			path = argv[i];
		else
			return sg_cli_usage_error(&sg_cmd_test, "one policy at a time");
	}
	if (!path)
		return sg_cli_usage_error(&sg_cmd_test, "a policy file is required");

	struct sg_cli_engine ce;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_cli_engine_open(&ce, path, 1, NULL, &err) < 0)
		return SG_EXIT_USAGE;
	const struct sg_pnode *tests = ce.policy->tests;
	unsigned passed = 0, failed = 0;
	struct sg_arena arena;
	sg_arena_init(&arena, 0);
	for (size_t i = 0; tests && i < tests->n; i++) {
		const struct sg_pnode *tc = tests->items[i];
		const char *name = sg_pnode_str(tc, "name", "?");
		json_t *ev = to_json(sg_pnode_get(tc, "ticket"));
		json_t *given = sg_pnode_get(tc, "given") ? to_json(sg_pnode_get(tc, "given")) : NULL;
		const struct sg_pnode *expect = sg_pnode_get(tc, "expect");
		struct sg_ticket t;
		struct sg_decision d;
		int bad = 0;
		sg_arena_reset(&arena);
		sg_error_clear(&err);
		if (sg_ticket_from_json(&t, ev, &arena, &err) < 0 ||
		    sg_decide(&d, ce.run, &t, given, &err) < 0) {
			char msg[800];
			printf("FAIL %s (%s:%u): %s\n", name, tc->file, tc->line,
			       sg_error_format(&err, msg, sizeof(msg)));
			bad = 1;
		} else {
			for (size_t k = 0; expect && k < expect->n; k++)
				bad |= check(name, expect->items[k], expect->keys[k], &d);
			sg_ticket_release(&t);
		}
		if (bad) {
			failed++;
		} else {
			passed++;
			if (verbose)
				printf("ok   %s\n", name);
		}
		json_decref(ev);
		if (given)
			json_decref(given);
	}
	sg_arena_release(&arena);
	sg_cli_engine_close(&ce);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? SG_EXIT_FAIL : SG_EXIT_OK;
}
