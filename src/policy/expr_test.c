/*
 * expr_test.c - the expression language: literals and units, operators,
 * functions, evaluation against a resolver, traces (citations), parse
 * errors with columns, and the limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/json.h"
#include "core/limits.h"
#include "policy/policy.h"

/* A tiny ticket context. */
static const struct sg_value types_items[] = {
	{.type = SG_V_STR, .str = "EMAIL", .len = 5},
	{.type = SG_V_STR, .str = "LEGAL_THREAT", .len = 12},
};

static int resolve(void *ctx, uint32_t id, const char *path, struct sg_value *out)
{
	(void)id;
	int *calls = ctx;
	if (calls)
		(*calls)++;
	if (!strcmp(path, "customer.tier")) {
		out->type = SG_V_STR;
		out->str = "enterprise";
		out->len = 10;
	} else if (!strcmp(path, "claim.value")) {
		out->type = SG_V_NUM;
		out->num = 7200;
	} else if (!strcmp(path, "classification.intent_confidence")) {
		out->type = SG_V_NUM;
		out->num = 0.83;
	} else if (!strcmp(path, "customer.vip")) {
		out->type = SG_V_BOOL;
		out->b = 1;
	} else if (!strcmp(path, "scan.input.types")) {
		out->type = SG_V_LIST;
		out->items = types_items;
		out->len = 2;
	} else if (!strcmp(path, "body")) {
		out->type = SG_V_STR;
		out->str = "My lawyer says Freight Damage is on you";
		out->len = strlen(out->str);
	} else if (!strcmp(path, "fail.now")) {
		return -SG_EINTERNAL;
	} else {
		out->type = SG_V_NULL;
	}
	return 0;
}

static struct sg_arena arena;

static struct sg_expr *parse(const char *src, struct sg_diags *d)
{
	struct sg_expr_loc loc = {"t.yaml", NULL, 3, 11};
	return sg_expr_parse(&arena, src, strlen(src), &loc, NULL, NULL, NULL, d);
}

/* Evaluates src; returns truthiness; fills trace text when asked. */
static int truth(const char *src, char *trace, size_t size)
{
	struct sg_diags d;
	sg_diags_init(&d);
	struct sg_expr *e = parse(src, &d);
	if (!e)
		fail_msg("'%s': %s", src, d.n ? d.v[0].msg : "?");
	struct sg_expr_trace t = {.n = 0};
	struct sg_value v;
	assert_int_equal(sg_expr_eval(e, resolve, NULL, &t, &v), 0);
	if (trace) {
		struct sg_buf b = SG_BUF_INIT;
		sg_trace_format(&b, &t);
		snprintf(trace, size, "%s", b.data);
		sg_buf_release(&b);
	}
	sg_diags_release(&d);
	return sg_value_truthy(&v);
}

static double number(const char *src)
{
	struct sg_diags d;
	sg_diags_init(&d);
	struct sg_expr *e = parse(src, &d);
	assert_non_null(e);
	struct sg_value v;
	assert_int_equal(sg_expr_eval(e, resolve, NULL, NULL, &v), 0);
	assert_int_equal(v.type, SG_V_NUM);
	sg_diags_release(&d);
	return v.num;
}

static void test_literals(void **state)
{
	(void)state;
	assert_true(number("15m") == 900);
	assert_true(number("2h") == 7200);
	assert_true(number("1d") == 86400);
	assert_true(number("30s") == 30);
	assert_true(number("$5,000") == 5000);
	assert_true(number("5000 USD") == 5000);
	assert_true(number("$1,234.50") == 1234.5);
	assert_true(number("92%") == 0.92);
	assert_true(number("-3") == -3);
	assert_true(number("len(body)") == 39);
	double v;
	assert_int_equal(sg_parse_duration("15m", &v), 0);
	assert_true(v == 900);
	assert_int_equal(sg_parse_duration("soon", &v), -1);
	assert_int_equal(sg_parse_duration("5", &v), -1);
	assert_int_equal(sg_parse_money("$5,000", &v), 0);
	assert_true(v == 5000);
	assert_int_equal(sg_parse_money("5000 EUR", &v), 0);
	assert_int_equal(sg_parse_money("five", &v), -1);
	assert_int_equal(sg_parse_money("$5 USD", &v), -1);
}

static void test_operators(void **state)
{
	(void)state;
	assert_true(truth("customer.tier == \"enterprise\"", NULL, 0));
	assert_true(truth("customer.tier != 'free'", NULL, 0));
	assert_true(truth("claim.value > $5,000", NULL, 0));
	assert_false(truth("claim.value < 5000", NULL, 0));
	assert_true(truth("claim.value >= 7200 and claim.value <= 7200", NULL, 0));
	assert_true(truth("customer.tier in [\"premium\", \"enterprise\"]", NULL, 0));
	assert_true(truth("customer.tier not in [\"free\"]", NULL, 0));
	assert_true(truth("not (claim.value < 10) or false", NULL, 0));
	assert_true(truth("\"LEGAL_THREAT\" in scan.input.types", NULL, 0));
	assert_true(truth("\"lawyer\" in body", NULL, 0));
	assert_false(truth("missing.field", NULL, 0));
	assert_true(truth("missing.field == null", NULL, 0));
	assert_false(truth("missing.field > 3", NULL, 0)); /* null orders as false */
	assert_false(truth("customer.tier > 3", NULL, 0)); /* across types: false */
	assert_true(truth("\"a\" < \"b\"", NULL, 0));
	assert_true(truth("true and not false", NULL, 0));
	/* precedence: and binds tighter than or */
	assert_true(truth("true or false and false", NULL, 0));
	assert_false(truth("(true or false) and false", NULL, 0));
}

static void test_functions(void **state)
{
	(void)state;
	assert_true(truth("contains(body, \"lawyer\")", NULL, 0));
	assert_false(truth("contains(body, \"LAWYER\")", NULL, 0));
	assert_true(truth("contains(scan.input.types, \"EMAIL\")", NULL, 0));
	assert_true(truth("matches(body, \"freight (claim|damage)\")", NULL, 0)); /* caseless */
	assert_false(truth("matches(body, \"^refund\")", NULL, 0));
	assert_true(truth("matches(scan.input.types, \"^LEGAL\")", NULL, 0));
	assert_true(truth("matches(body, \"freight\\s+damage\")", NULL, 0)); /* \s kept */
	assert_true(truth("\"it's\" == 'it\\'s'", NULL, 0));
	assert_true(truth("len(\"a\\\\b\") == 3", NULL, 0)); /* \\ is one backslash */
	assert_true(truth("any(scan.input.types, [\"SSN\", \"LEGAL_THREAT\"])", NULL, 0));
	assert_false(truth("any(scan.input.types, [\"SSN\", \"CARD_NUMBER\"])", NULL, 0));
	assert_true(truth("any(scan.input.types)", NULL, 0));
	assert_false(truth("any(missing.list)", NULL, 0));
	assert_true(truth("any(customer.tier, [\"enterprise\"])", NULL, 0));
	assert_true(truth("len(scan.input.types) == 2", NULL, 0));
}

static void test_trace(void **state)
{
	(void)state;
	char t[512];
	assert_true(truth("customer.tier == \"enterprise\" and claim.value > $5,000", t, sizeof t));
	assert_string_equal(t, "customer.tier = \"enterprise\" == \"enterprise\"; claim.value = 7200 > 5000");
	/* short-circuit: only what was evaluated is cited */
	assert_false(truth("claim.value < 5000 and customer.tier == \"enterprise\"", t, sizeof t));
	assert_string_equal(t, "claim.value = 7200 < 5000 [false]");
	assert_true(truth("customer.vip or claim.value > 1", t, sizeof t));
	assert_string_equal(t, "customer.vip = true");
	assert_true(truth("any(scan.input.types, [\"LEGAL_THREAT\"])", t, sizeof t));
	assert_string_equal(t, "any(scan.input.types = [\"EMAIL\", \"LEGAL_THREAT\"], [\"LEGAL_THREAT\"])");
	assert_true(truth("classification.intent_confidence >= 0.8", t, sizeof t));
	assert_string_equal(t, "classification.intent_confidence = 0.83 >= 0.8");
	/* the trace is bounded */
	struct sg_buf src = SG_BUF_INIT;
	for (int i = 0; i < SG_EXPR_TRACE_MAX + 5; i++)
		sg_buf_addf(&src, "%sclaim.value > %d", i ? " and " : "", i);
	struct sg_diags d;
	sg_diags_init(&d);
	struct sg_expr *e = parse(src.data, &d);
	assert_non_null(e);
	struct sg_expr_trace tr = {.n = 0};
	struct sg_value v;
	assert_int_equal(sg_expr_eval(e, resolve, NULL, &tr, &v), 0);
	assert_int_equal(tr.n, SG_EXPR_TRACE_MAX);
	assert_true(tr.truncated);
	sg_buf_release(&src);
	sg_diags_release(&d);
}

static void test_resolver(void **state)
{
	(void)state;
	struct sg_diags d;
	sg_diags_init(&d);
	struct sg_expr *e = parse("claim.value > 1 and fail.now", &d);
	assert_non_null(e);
	int calls = 0;
	struct sg_value v;
	assert_int_equal(sg_expr_eval(e, resolve, &calls, NULL, &v), -SG_EINTERNAL);
	assert_int_equal(calls, 2);
	assert_false(sg_expr_is_constant(e));
	struct sg_expr *c = parse("1 > 2", &d);
	assert_true(sg_expr_is_constant(c));
	const char *path, *op;
	double num;
	struct sg_expr *s = parse("claim.value >= $500", &d);
	assert_true(sg_expr_simple_compare(s, &path, &op, &num));
	assert_string_equal(path, "claim.value");
	assert_string_equal(op, ">=");
	assert_true(num == 500);
	assert_false(sg_expr_simple_compare(c, &path, &op, &num));
	sg_diags_release(&d);
}

/* Each bad expression: the message and the column it points at
 * (the expression starts at column 11 of line 3). */
static void test_errors(void **state)
{
	(void)state;
	static const struct { const char *src, *msg; unsigned line, col; } cases[] = {
		{"customer.tier = \"x\"", "'=' is not an operator; use '==' to compare", 3, 25},
		{"a.b ==", "unexpected end of expression", 3, 17},
		{"(a.b == 1", "expected ')' to close the '(' at column 1", 3, 20},
		{"a.b == 'x", "unterminated string", 3, 18},
		{"frob(a.b)", "unknown function 'frob' (known: contains, matches, any, len)", 3, 11},
		{"matches(a.b, \"(\")", "bad regular expression: missing closing parenthesis", 3, 26},
		{"matches(a.b, c.d)", "matches() needs a constant string pattern", 3, 24},
		{"contains(a.b)", "contains() needs 2 arguments", 3, 11},
		{"len(a, b)", "len() takes at most 1 argument", 3, 17},
		{"a.b > 15q", "unknown unit 'q' (durations: s m h d w; money: $5,000 or 5000 USD)", 3, 19},
		{"a.b in [c.d]", "list items must be constants (numbers, strings, booleans)", 3, 19},
		{"1 < a.b < 3", "comparisons do not chain; join them with 'and'", 3, 19},
		{"a.b == 1 c", "unexpected 'c' after the end of the expression", 3, 20},
		{"a.b and or", "expected a value, found 'or'", 3, 19},
		{"   ", "empty expression", 3, 11},
		{"a.b @ 2", "unexpected '@ 2' after the end of the expression", 3, 15},
		{"a.b ==\n  #", "unexpected '#'", 4, 3},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sg_diags d;
		sg_diags_init(&d);
		assert_null(parse(cases[i].src, &d));
		assert_int_equal(d.n, 1);
		char want[300];
		snprintf(want, sizeof want, "expression: %s", cases[i].msg);
		if (strcmp(d.v[0].msg, want) || d.v[0].line != cases[i].line || d.v[0].col != cases[i].col)
			fail_msg("'%s': got %u:%u '%s', want %u:%u '%s'", cases[i].src, d.v[0].line,
				 d.v[0].col, d.v[0].msg, cases[i].line, cases[i].col, want);
		sg_diags_release(&d);
	}
}

static int only_customer(void *ud, const char *root, size_t n)
{
	(void)ud;
	return n == 8 && !memcmp(root, "customer", 8);
}

static void test_known_roots(void **state)
{
	(void)state;
	struct sg_diags d;
	sg_diags_init(&d);
	struct sg_expr_loc loc = {"t.yaml", NULL, 1, 1};
	const char *ok = "customer.tier == 'x'", *bad = "custmer.tier == 'x'";
	assert_non_null(sg_expr_parse(&arena, ok, strlen(ok), &loc, only_customer, NULL, NULL, &d));
	assert_null(sg_expr_parse(&arena, bad, strlen(bad), &loc, only_customer, NULL, NULL, &d));
	assert_string_equal(d.v[0].msg, "expression: unknown field 'custmer.tier'");
	sg_diags_release(&d);
}

static void test_limits(void **state)
{
	(void)state;
	struct sg_diags d;
	sg_diags_init(&d);
	struct sg_buf b = SG_BUF_INIT;
	/* nesting: parentheses */
	for (int i = 0; i < SG_MAX_EXPR_DEPTH + 10; i++)
		sg_buf_addc(&b, '(');
	sg_buf_adds(&b, "true");
	for (int i = 0; i < SG_MAX_EXPR_DEPTH + 10; i++)
		sg_buf_addc(&b, ')');
	assert_null(parse(b.data, &d));
	assert_non_null(strstr(d.v[0].msg, "nested too deeply"));
	/* nesting: not not not ... */
	sg_buf_reset(&b);
	for (int i = 0; i < SG_MAX_EXPR_DEPTH + 10; i++)
		sg_buf_adds(&b, "not ");
	sg_buf_adds(&b, "true");
	assert_null(parse(b.data, &d));
	assert_non_null(strstr(d.v[1].msg, "nested too deeply"));
	/* size */
	sg_buf_reset(&b);
	while (b.len <= SG_MAX_EXPR_BYTES)
		sg_buf_adds(&b, "true or ");
	sg_buf_adds(&b, "true");
	assert_null(parse(b.data, &d));
	assert_non_null(strstr(d.v[2].msg, "longer than"));
	/* many terms within the byte limit */
	sg_buf_reset(&b);
	for (int i = 0; i < 700; i++)
		sg_buf_adds(&b, i ? " or 1" : "1");
	assert_null(parse(b.data, &d));
	assert_non_null(strstr(d.v[3].msg, "too many terms"));
	/* a NUL byte */
	struct sg_expr_loc loc = {"t.yaml", NULL, 1, 1};
	assert_null(sg_expr_parse(&arena, "a.b\0== 1", 8, &loc, NULL, NULL, NULL, &d));
	assert_non_null(strstr(d.v[4].msg, "NUL"));
	sg_buf_release(&b);
	sg_diags_release(&d);
}

static void *worker(void *arg)
{
	const struct sg_expr *e = arg;
	long ok = 0;
	for (int i = 0; i < 2000; i++) {
		struct sg_value v;
		struct sg_expr_trace t = {.n = 0};
		if (sg_expr_eval(e, resolve, NULL, &t, &v) == 0 && sg_value_truthy(&v) && t.n == 2)
			ok++;
	}
	return (void *)ok;
}

/* One loaded expression evaluated from several threads at once. */
static void test_threads(void **state)
{
	(void)state;
	struct sg_diags d;
	sg_diags_init(&d);
	struct sg_expr *e = parse("matches(body, \"freight\\s+damage\") and claim.value > 5000", &d);
	assert_non_null(e);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, e), 0);
	for (int i = 0; i < 4; i++) {
		void *ok;
		pthread_join(th[i], &ok);
		assert_int_equal((long)ok, 2000);
	}
	sg_diags_release(&d);
}

static int setup(void **state)
{
	(void)state;
	sg_arena_init(&arena, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sg_arena_release(&arena);
	return 0;
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_trace),
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_known_roots),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
