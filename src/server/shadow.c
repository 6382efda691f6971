/*
 * shadow.c - what a shadow policy would have decided differently: views of
 * two decisions reduced to the compared fields, and their differences,
 * with rule lists compared as sets.
 */
#include "server/shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted unique names joined with ","; "..." marks a cut list. */
static void join_set(char *out, size_t cap, const char **names, size_t n)
{
	qsort(names, n, sizeof(*names), cmp_str);
	size_t w = 0;
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || !names[i][0] || (i && !strcmp(names[i], names[i - 1])))
			continue;
		size_t len = strlen(names[i]);
		if (w + len + 2 + 4 > cap) {
			snprintf(out + w, cap - w, "%s...", w ? "," : "");
			return;
		}
		w += (size_t)snprintf(out + w, cap - w, "%s%s", w ? "," : "", names[i]);
	}
}

void sg_shadow_view_of(struct sg_shadow_view *out, const struct sg_decision *d)
{
	const char *names[SG_DECISION_MAX_REASONS > SG_DECISION_MAX_TYPES
			  ? SG_DECISION_MAX_REASONS : SG_DECISION_MAX_TYPES];
	memset(out, 0, sizeof(*out));
	snprintf(out->gate, sizeof(out->gate), "%s", d->gate ? d->gate : "");
	snprintf(out->risk_tier, sizeof(out->risk_tier), "%s", d->risk_tier ? d->risk_tier : "");
	if (d->escalated || d->escalation.owner)
		snprintf(out->escalation, sizeof(out->escalation), "%s via %s (%s)",
			 d->escalation.owner ? d->escalation.owner : "?",
			 d->escalation.channel ? d->escalation.channel : "?",
			 d->escalation.rule ? d->escalation.rule : "?");
	size_t n = d->nguardrail_types < SG_DECISION_MAX_TYPES ? d->nguardrail_types
								 : SG_DECISION_MAX_TYPES;
	for (size_t i = 0; i < n; i++)
		names[i] = d->guardrail_types[i] ? d->guardrail_types[i] : "";
	join_set(out->guardrails, sizeof(out->guardrails), names, n);
	n = d->nreasons < SG_DECISION_MAX_REASONS ? d->nreasons : SG_DECISION_MAX_REASONS;
	for (size_t i = 0; i < n; i++)
		names[i] = d->reasons[i].rule ? d->reasons[i].rule : "";
	join_set(out->rules, sizeof(out->rules), names, n);
}

/* Items of a that are not in b (both sorted comma lists), joined. */
static void set_minus(char *out, size_t cap, const char *a, const char *b)
{
	size_t w = 0;
	out[0] = 0;
	for (const char *p = a; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		int found = 0;
		for (const char *q = b; *q && !found;) {
			const char *f = strchr(q, ',');
			size_t ql = f ? (size_t)(f - q) : strlen(q);
			found = ql == len && !memcmp(p, q, len);
			q = f ? f + 1 : q + ql;
		}
		if (!found && len) {
			if (w + len + 2 + 4 > cap) {
				snprintf(out + w, cap - w, "%s...", w ? "," : "");
				return;
			}
			w += (size_t)snprintf(out + w, cap - w, "%s%.*s", w ? "," : "", (int)len, p);
		}
		p = e ? e + 1 : p + len;
	}
}

static size_t add(struct sg_shadow_field *out, size_t n, const char *field, const char *l,
		  const char *s)
{
	out[n].field = field;
	snprintf(out[n].live, sizeof(out[n].live), "%s", l);
	snprintf(out[n].shadow, sizeof(out[n].shadow), "%s", s);
	return n + 1;
}

size_t sg_shadow_compare(struct sg_shadow_field out[SG_SHADOW_NFIELDS],
			 const struct sg_shadow_view *live,
			 const struct sg_shadow_view *shadow)
{
	size_t n = 0;
	if (strcmp(live->gate, shadow->gate))
		n = add(out, n, "gate", live->gate, shadow->gate);
	if (strcmp(live->risk_tier, shadow->risk_tier))
		n = add(out, n, "risk_tier", live->risk_tier, shadow->risk_tier);
	if (strcmp(live->escalation, shadow->escalation))
		n = add(out, n, "escalation", live->escalation, shadow->escalation);
	if (strcmp(live->guardrails, shadow->guardrails))
		n = add(out, n, "guardrail_types", live->guardrails, shadow->guardrails);
	if (strcmp(live->rules, shadow->rules)) {
		out[n].field = "rules";
		set_minus(out[n].live, sizeof(out[n].live), live->rules, shadow->rules);
		set_minus(out[n].shadow, sizeof(out[n].shadow), shadow->rules, live->rules);
		n++;
	}
	return n;
}
