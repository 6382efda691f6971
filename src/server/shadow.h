/*
 * shadow.h - comparing the decision of a shadow (candidate) policy with the
 * live one's for the same ticket event: gate, risk tier, escalation,
 * guardrail types and the rules that fired under only one of them. Pure
 * functions; the server records what differs (docs/server.md, "Shadow
 * policy").
 */
#ifndef SG_SERVER_SHADOW_H
#define SG_SERVER_SHADOW_H

#include <stddef.h>

#include "decide/decision.h"

#define SG_SHADOW_VALUE_MAX 512  /* a compared value; longer lists end in "..." */
#define SG_SHADOW_NFIELDS 5

/* What is compared, copied out of a decision (whose strings only live until
 * the next decision on the same run). Lists are sorted, unique and
 * comma-separated. */
struct sg_shadow_view {
	char gate[32], risk_tier[16];
	char escalation[SG_SHADOW_VALUE_MAX];  /* "owner via channel (rule)", "" when none */
	char guardrails[SG_SHADOW_VALUE_MAX];
	char rules[2048];                      /* reasons[].rule */
};

void sg_shadow_view_of(struct sg_shadow_view *out, const struct sg_decision *d);

/* One differing field: "gate", "risk_tier", "escalation", "guardrail_types"
 * with both values, or "rules" with the rules only the live decision cited
 * (live) and only the shadow cited (shadow). */
struct sg_shadow_field {
	const char *field;
	char live[SG_SHADOW_VALUE_MAX], shadow[SG_SHADOW_VALUE_MAX];
};

/* Fills out with the fields that differ, in the order above; returns how
 * many (0: the shadow decided the same). */
size_t sg_shadow_compare(struct sg_shadow_field out[SG_SHADOW_NFIELDS],
			 const struct sg_shadow_view *live,
			 const struct sg_shadow_view *shadow);

#endif
