/*
 * shadow_test.c - comparing a shadow decision with the live one: equal
 * decisions give no difference; gate, tier, escalation and guardrail
 * changes are named with both values; rules are compared as sets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "server/shadow.h"

static void base(struct sg_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->gate = "agent_review";
	d->risk_tier = "low";
	sg_decision_add_reason(d, "intents.reset_password", "p.yaml:10", "x");
	sg_decision_add_reason(d, "permissions", "p.yaml:90", "y");
	sg_decision_add_reason(d, "permissions", "p.yaml:91", "z");
	sg_decision_add_type(d, "PII_EMAIL");
}

static void test_same(void **state)
{
	(void)state;
	struct sg_decision a, b;
	struct sg_shadow_view va, vb;
	struct sg_shadow_field f[SG_SHADOW_NFIELDS];
	base(&a);
	base(&b);
	/* order of reasons and repeated rules do not matter */
	b.nreasons = 0;
	sg_decision_add_reason(&b, "permissions", "q.yaml:1", "");
	sg_decision_add_reason(&b, "intents.reset_password", "q.yaml:2", "");
	sg_shadow_view_of(&va, &a);
	sg_shadow_view_of(&vb, &b);
	assert_string_equal(va.rules, "intents.reset_password,permissions");
	assert_int_equal(sg_shadow_compare(f, &va, &vb), 0);
}

static void test_differences(void **state)
{
	(void)state;
	struct sg_decision a, b;
	struct sg_shadow_view va, vb;
	struct sg_shadow_field f[SG_SHADOW_NFIELDS];
	base(&a);
	base(&b);
	b.gate = "two_step";
	b.risk_tier = "high";
	b.escalated = 1;
	b.escalation.owner = "support-lead";
	b.escalation.channel = "slack-refunds";
	b.escalation.rule = "refund-over-500";
	sg_decision_add_type(&b, "REFUND_COMMITMENT");
	sg_decision_add_reason(&b, "test-two-step", "q.yaml:5", "");
	a.nreasons = 1; /* live: only the intent rule */
	sg_decision_add_reason(&a, "live-only-rule", "p.yaml:3", "");
	sg_shadow_view_of(&va, &a);
	sg_shadow_view_of(&vb, &b);
	assert_int_equal(sg_shadow_compare(f, &va, &vb), 5);
	assert_string_equal(f[0].field, "gate");
	assert_string_equal(f[0].live, "agent_review");
	assert_string_equal(f[0].shadow, "two_step");
	assert_string_equal(f[1].field, "risk_tier");
	assert_string_equal(f[2].field, "escalation");
	assert_string_equal(f[2].live, "");
	assert_string_equal(f[2].shadow, "support-lead via slack-refunds (refund-over-500)");
	assert_string_equal(f[3].field, "guardrail_types");
	assert_string_equal(f[3].shadow, "PII_EMAIL,REFUND_COMMITMENT");
	assert_string_equal(f[4].field, "rules");
	assert_string_equal(f[4].live, "live-only-rule");
	assert_string_equal(f[4].shadow, "permissions,test-two-step");
}

static void test_long_lists(void **state)
{
	(void)state;
	struct sg_decision a, b;
	struct sg_shadow_view va, vb;
	struct sg_shadow_field f[SG_SHADOW_NFIELDS];
	static char names[SG_DECISION_MAX_REASONS][160];
	base(&a);
	base(&b);
	b.nreasons = 0;
	for (int i = 0; i < SG_DECISION_MAX_REASONS; i++) {
		snprintf(names[i], sizeof(names[i]), "a-rather-long-rule-name-number-%03d-%080d", i, 0);
		sg_decision_add_reason(&b, names[i], "q.yaml:1", "");
	}
	sg_shadow_view_of(&va, &a);
	sg_shadow_view_of(&vb, &b);
	assert_true(strlen(vb.rules) < sizeof(vb.rules));
	assert_non_null(strstr(vb.rules, "..."));
	assert_int_equal(sg_shadow_compare(f, &va, &vb), 1);
	assert_true(strlen(f[0].shadow) < SG_SHADOW_VALUE_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_differences),
		cmocka_unit_test(test_long_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
