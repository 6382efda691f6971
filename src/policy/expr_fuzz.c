/*
 * expr_fuzz.c - libFuzzer target: the expression parser and evaluator.
 * Parses the input as an expression, evaluates it against a fixed context
 * with a trace, and formats the citations.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sg_value items[] = {
	{.type = SG_V_STR, .str = "LEGAL_THREAT", .len = 12},
	{.type = SG_V_NUM, .num = 3},
};

static int resolve(void *ctx, uint32_t id, const char *path, struct sg_value *out)
{
	(void)ctx;
	switch ((id + strlen(path)) % 5) {
	case 0: out->type = SG_V_NUM; out->num = 7200; break;
	case 1: out->type = SG_V_STR; out->str = "enterprise freight"; out->len = 18; break;
	case 2: out->type = SG_V_LIST; out->items = items; out->len = 2; break;
	case 3: out->type = SG_V_BOOL; out->b = 1; break;
	default: out->type = SG_V_NULL; break;
	}
	return 0;
}

static uint32_t intern(void *ud, const char *path)
{
	(void)ud;
	return (uint32_t)path[0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_arena a;
	struct sg_diags d;
	sg_arena_init(&a, 0);
	sg_diags_init(&d);
	struct sg_expr_loc loc = {"fuzz", NULL, 1, 1};
	struct sg_expr *e = sg_expr_parse(&a, (const char *)data, size, &loc, NULL, NULL, intern, &d);
	if (e) {
		struct sg_expr_trace t = {.n = 0};
		struct sg_value v;
		if (sg_expr_eval(e, resolve, NULL, &t, &v) == 0) {
			struct sg_buf b = SG_BUF_INIT;
			sg_value_format(&b, &v);
			sg_trace_format(&b, &t);
			sg_buf_release(&b);
		}
	}
	sg_diags_release(&d);
	sg_arena_release(&a);
	return 0;
}
