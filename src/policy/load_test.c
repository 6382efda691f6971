/*
 * load_test.c - the loader and checker against the broken-policy corpus
 * (tests/policies/broken/NAME.yaml with NAME.expected holding the exact
 * diagnostics), the warnings policy, the example policy, includes and the
 * version hash (stable under reformatting, changed by any value).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "policy/policy.h"

/* Loads + checks like `sopgate check`; returns the diagnostics' first lines. */
static char *diagnose(const char *path, size_t *errors, size_t *warnings)
{
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	int rc = sg_policy_load(&p, path, &d, &err);
	assert_true(rc == 0 || rc == -SG_EPOLICY);
	assert_true((rc == 0) == (p != NULL));
	if (p)
		sg_policy_check(p, &d);
	sg_diags_sort(&d);
	struct sg_buf b = SG_BUF_INIT;
	for (size_t i = 0; i < d.n; i++)
		sg_buf_addf(&b, "%s:%u:%u: %s: %s\n", d.v[i].file, d.v[i].line, d.v[i].col,
			    d.v[i].severity == SG_DIAG_ERROR ? "error" : "warning", d.v[i].msg);
	*errors = d.errors;
	*warnings = d.warnings;
	sg_diags_release(&d);
	sg_policy_free(p);
	char *s = sg_buf_detach(&b, NULL);
	assert_non_null(s);
	return s;
}

static void run_corpus(const char *dir, int want_errors)
{
	DIR *dp = opendir(dir);
	assert_non_null(dp);
	struct dirent *de;
	int cases = 0;
	while ((de = readdir(dp))) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".yaml"))
			continue;
		char path[512], exp_path[512];
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		snprintf(exp_path, sizeof exp_path, "%s/%.*s.expected", dir, (int)(n - 5), de->d_name);
		char *want = NULL;
		size_t len;
		struct sg_error err = SG_ERROR_INIT;
		if (sg_read_file(exp_path, &want, &len, &err) < 0)
			fail_msg("%s: no .expected file", path);
		size_t errors, warnings;
		char *got = diagnose(path, &errors, &warnings);
		if (strcmp(got, want))
			fail_msg("%s:\n--- expected\n%s--- got\n%s", path, want, got);
		if (want_errors)
			assert_true(errors > 0);
		else
			assert_int_equal(errors, 0);
		sg_free(got);
		sg_free(want);
		cases++;
	}
	closedir(dp);
	if (want_errors)
		assert_true(cases >= 25);
	else
		assert_true(cases >= 1);
}

static void test_broken_corpus(void **state)
{
	(void)state;
	run_corpus("tests/policies/broken", 1);
}

static void test_warnings(void **state)
{
	(void)state;
	run_corpus("tests/policies/warn", 0);
}

static void test_example_policy(void **state)
{
	(void)state;
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	assert_int_equal(sg_policy_load(&p, "examples/acme/policy.yaml", &d, &err), 0);
	sg_policy_check(p, &d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, 0);
	assert_int_equal(strlen(p->version), 64);
	/* thresholds of the reference SOP */
	assert_true(p->th.classifier_min == 0.70);
	assert_true(p->th.band_high_intent == 0.80);
	assert_true(p->th.auto_send_min == 0.85);
	assert_true(p->th.summarize_below == 0.60);
	assert_int_equal(p->n_intents, 27);
	const struct sg_policy_intent *it = sg_policy_intent(p, "track_order");
	assert_non_null(it);
	assert_int_equal(it->tier, SG_TIER_LOW);
	assert_true(it->auto_send);
	assert_string_equal(it->queue, "tier-1");
	assert_int_equal(sg_policy_intent(p, "get_refund")->tier, SG_TIER_HIGH);
	/* the escalation matrix came from the included file, in order */
	assert_true(p->n_escalations >= 11);
	int found = 0;
	for (size_t i = 0; i < p->n_escalations; i++) {
		const struct sg_policy_rule *r = &p->escalations[i];
		if (!strcmp(r->name, "refund-over-500")) {
			assert_string_equal(r->owner, "support-lead");
			assert_string_equal(r->channel, "slack-refunds");
			assert_true(r->sla_seconds == 3600);
			assert_non_null(strstr(r->file, "escalations.yaml"));
			found = 1;
		}
	}
	assert_true(found);
	/* never rules: the $50 refund rule compiled, with its gate */
	assert_string_equal(p->never[0].name, "no-autonomous-refund-over-50");
	assert_int_equal(p->never[0].gate, SG_GATE_AGENT_REVIEW);
	assert_non_null(p->never[0].when);
	assert_non_null(p->tests);
	assert_true(p->tests->n >= 20);
	assert_non_null(sg_pnode_get(p->sops, "freight_claim"));
	assert_false(p->kill_switch);
	/* the freight-claim SOP as typed steps */
	assert_int_equal(p->n_sops, 1);
	const struct sg_policy_sop *sop = &p->sop_list[0];
	assert_string_equal(sop->name, "freight_claim");
	assert_non_null(sop->trigger);
	assert_true(sop->sla_seconds == 4 * 3600);
	assert_int_equal(sop->n_steps, 3);
	assert_int_equal(sop->steps[0].kind, SG_STEP_LOOKUP);
	assert_string_equal(sop->steps[0].lookup, "crm.account");
	assert_string_equal(sop->steps[0].as, "account");
	assert_non_null(sop->steps[0].key);
	const struct sg_policy_step *br = &sop->steps[2];
	assert_int_equal(br->kind, SG_STEP_IF);
	assert_non_null(strstr(sg_expr_source(br->cond), "$5,000"));
	assert_int_equal(br->n_then, 4);
	assert_int_equal(br->n_else, 3);
	assert_string_equal(br->then_steps[1].action, "notify");
	assert_string_equal(br->then_steps[1].to, "account-owner");
	assert_true(br->then_steps[1].within_seconds == 900);
	assert_string_equal(br->then_steps[2].queue, "enterprise-claims");
	/* permissions split into resource, action, target */
	assert_true(p->n_permissions >= 2);
	assert_string_equal(p->permissions[1].resource, "tickets");
	assert_string_equal(p->permissions[1].action, "respond");
	assert_string_equal(p->permissions[1].target, "queue/tier-1");
	int approval = 0;
	for (size_t i = 0; i < p->n_permissions; i++)
		if (!strcmp(p->permissions[i].action, "refund")) {
			approval = p->permissions[i].requires_approval;
			assert_string_equal(p->permissions[i].approval_channel, "slack-support-escalations");
		}
	assert_true(approval);
	assert_true(p->budgets.max_tokens_per_session == 50000);
	assert_true(p->qa.sample_size == 100);
	assert_true(p->qa.expand_above == 0.95);
	/* a test ticket as JSON, as the engine reads it */
	json_t *t = sg_pnode_to_json(sg_pnode_get(p->tests->items[0], "ticket"));
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(t, "id")), "T-AS-1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(t, "customer"), "tier")), "free");
	json_decref(t);
	/* money and durations were converted in place */
	const struct sg_pnode *b = sg_policy_section(p, "budgets");
	assert_true(sg_pnode_num(b, "max_cost_per_day", 0) == 200);
	assert_true(sg_pnode_num(sg_policy_section(p, "qa"), "pause_below", 0) == 0.92);
	sg_diags_release(&d);
	sg_policy_free(p);
}

static char *version_of(const char *text)
{
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	int rc = sg_policy_load_mem(&p, "mem.yaml", text, strlen(text), &d, &err);
	if (rc < 0) {
		for (size_t i = 0; i < d.n; i++)
			print_message("%u:%u: %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
	}
	assert_int_equal(rc, 0);
	char *v = sg_strdup(p->version);
	sg_diags_release(&d);
	sg_policy_free(p);
	return v;
}

#define POLICY_A                                                                  \
	"name: v\n"                                                               \
	"queues: {triage: {description: humans}}\n"                               \
	"classifier: {model: builtin, min_confidence: 0.70, triage_queue: triage}\n" \
	"intents: {track_order: {tier: low, auto_send: true}}\n"                  \
	"bands: {high: {intent: 0.80, sentiment: 0.70}, medium: {intent: 0.60}, summarize_only_below: 0.60}\n" \
	"gates: {auto_send: {min_confidence: 0.85, plans: [free]}, default: agent_review}\n" \
	"budgets: {max_cost_per_day: \"$5,000\"}\n"

static void test_version_hash(void **state)
{
	(void)state;
	char *a = version_of(POLICY_A);
	/* same content: block style, comments, key order, 0.7 vs 0.70, money spelled differently */
	char *b = version_of(
		"# reformatted\n"
		"gates:\n  default: agent_review\n  auto_send:\n    plans:\n      - free\n    min_confidence: 0.850\n"
		"name: \"v\"\n"
		"budgets:\n  max_cost_per_day: 5000   # dollars\n"
		"intents:\n  track_order:\n    auto_send: true\n    tier: low\n"
		"classifier:\n  triage_queue: triage\n  model: builtin\n  min_confidence: 0.7\n"
		"bands:\n  summarize_only_below: 0.6\n  medium: {intent: 0.6}\n  high: {sentiment: 0.7, intent: 0.8}\n"
		"queues:\n  triage:\n    description: humans\n");
	assert_string_equal(a, b);
	/* any value change changes it */
	char *c = version_of(POLICY_A "kill_switch: {enabled: false}\n");
	assert_string_not_equal(a, c);
	char *text = sg_strdup(POLICY_A);
	char *at = strstr(text, "$5,000");
	at[1] = '4';
	char *e = version_of(text);
	assert_string_not_equal(a, e);
	sg_free(a);
	sg_free(b);
	sg_free(c);
	sg_free(e);
	sg_free(text);
}

static void test_all_errors_collected(void **state)
{
	(void)state;
	const char *text =
		"name: x\nbogus: 1\nclassifier: {model: m, min_confidence: 2, triage_queue: nowhere}\n"
		"intents: {a: {tier: extreme}}\nbands: {}\ngates: {default: maybe}\n";
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	assert_int_equal(sg_policy_load_mem(&p, "mem.yaml", text, strlen(text), &d, &err),
			 -SG_EPOLICY);
	assert_null(p);
	/* bogus key, ratio range, unknown enum x2, missing band keys x3,
	 * missing auto_send, unknown queue */
	assert_true(d.errors >= 9);
	int saw_queue = 0;
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(d.v[i].file, "mem.yaml");
		assert_true(d.v[i].line >= 1);
		if (strstr(d.v[i].msg, "unknown queue 'nowhere'")) {
			saw_queue = 1;
			assert_int_equal(d.v[i].line, 3);
			assert_non_null(d.v[i].source_line);
		}
	}
	assert_true(saw_queue);
	sg_diags_release(&d);
}

static void test_hostile_input(void **state)
{
	(void)state;
	static const char *const inputs[] = {
		"", "---\n", "[", "{a: [1, {b: }", "x: !!binary aGVsbG8=\n", "- a\n- b\n",
		"a: &x [1]\nb: *x\n", "\"unterminated", "name: x\n---\nname: y\n",
		"\t- tab\n", "name: \"\\x00\"\n",
	};
	for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
		struct sg_diags d;
		struct sg_error err = SG_ERROR_INIT;
		struct sg_policy *p = NULL;
		sg_diags_init(&d);
		int rc = sg_policy_load_mem(&p, "h.yaml", inputs[i], strlen(inputs[i]), &d, &err);
		assert_int_equal(rc, -SG_EPOLICY);
		assert_null(p);
		assert_true(d.errors >= 1);
		sg_diags_release(&d);
	}
	/* deep nesting is refused, not recursed into */
	struct sg_buf b = SG_BUF_INIT;
	for (int i = 0; i < 5000; i++)
		sg_buf_addc(&b, '[');
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	assert_int_equal(sg_policy_load_mem(&p, "deep.yaml", b.data, b.len, &d, &err), -SG_EPOLICY);
	assert_true(d.errors >= 1);
	sg_diags_release(&d);
	sg_buf_release(&b);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	assert_int_equal(sg_policy_load(&p, "/nonexistent/p.yaml", &d, &err), -SG_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/p.yaml"));
	assert_null(p);
	sg_diags_release(&d);
}

static void test_diag_format(void **state)
{
	(void)state;
	struct sg_diags d;
	sg_diags_init(&d);
	sg_diags_add(&d, SG_DIAG_WARNING, "f.yaml", "a: 1\n  bad: x\n", 2, 3, "second %d", 2);
	sg_diags_add(&d, SG_DIAG_ERROR, "f.yaml", "a: 1\n  bad: x\n", 1, 1, "first");
	sg_diags_sort(&d);
	struct sg_buf b = SG_BUF_INIT;
	sg_diags_format(&d, &b, 0);
	assert_string_equal(b.data, "f.yaml:1:1: error: first\n  a: 1\n  ^\n"
				    "f.yaml:2:3: warning: second 2\n    bad: x\n    ^\n");
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.warnings, 1);
	sg_buf_release(&b);
	sg_diags_release(&d);
}

/* docs/policy.md documents every schema key (the reference is generated
 * from the table; this fails when someone adds a key without docs). */
static void test_docs_cover_schema(void **state)
{
	(void)state;
	char *doc = NULL;
	size_t len;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_read_file("docs/policy.md", &doc, &len, &err), 0);
	struct sg_buf gen = SG_BUF_INIT;
	sg_policy_schema_markdown(&gen);
	if (!strstr(doc, gen.data))
		fail_msg("docs/policy.md does not contain the generated key reference; "
			 "regenerate it with `sopgate check --schema`");
	for (size_t i = 0; i < sg_policy_schema_len; i++) {
		char needle[200];
		snprintf(needle, sizeof needle, "| `%s` |", sg_policy_schema[i].key);
		assert_non_null(strstr(doc, needle));
	}
	sg_buf_release(&gen);
	sg_free(doc);
}

static int load_once(const char *path)
{
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	int rc = sg_policy_load(&p, path, &d, &err);
	assert_true((rc == 0) == (p != NULL));
	if (p)
		sg_policy_check(p, &d);
	sg_diags_release(&d);
	sg_policy_free(p);
	return rc;
}

/* Every allocation failure gives an error or a policy, never a crash or a
 * leak (the sanitizer build checks the leaks). */
static void test_out_of_memory(void **state)
{
	(void)state;
	static const char *const paths[] = {"tests/policies/base.yaml",
					    "tests/policies/warn/warnings.yaml",
					    "examples/acme/policy.yaml"};
	for (size_t k = 0; k < 3; k++) {
		sg_alloc_fail_at(0);
		assert_int_equal(load_once(paths[k]), 0);
		unsigned long count = sg_alloc_fail_at(0);
		unsigned long step = count > 400 ? count / 400 : 1;
		for (unsigned long n = 1; n <= count; n += step) {
			sg_alloc_fail_at(n);
			int rc = load_once(paths[k]);
			sg_alloc_fail_at(0);
			assert_true(rc == 0 || rc == -SG_ENOMEM || rc == -SG_EPOLICY || rc == -SG_EIO);
		}
	}
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broken_corpus),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_example_policy),
		cmocka_unit_test(test_version_hash),
		cmocka_unit_test(test_all_errors_collected),
		cmocka_unit_test(test_hostile_input),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_docs_cover_schema),
		cmocka_unit_test(test_out_of_memory),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
