/*
 * explain.c - a decision in words, for `sopgate decide` and `replay` on a
 * terminal: the gate first, then tier, classification, guardrails, the
 * escalation, the reasons with their policy lines, and the SOP steps.
 */
#include <string.h>

#include "decide/engine.h"
#include "core/banned.h"

void sg_decision_explain(const struct sg_decision *d, struct sg_buf *b, int color)
{
	const char *bold = color ? "\033[1m" : "", *dim = color ? "\033[2m" : "";
	const char *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "";
	const char *off = color ? "\033[0m" : "";
	const char *gc = !strcmp(d->gate, "auto_send") ? green : red;

	sg_buf_addf(b, "%sticket %s%s  gate %s%s%s  tier %s  band %s  ai %s\n", bold,
		    d->helpdesk_ticket_id, off, gc, d->gate, off, d->risk_tier,
		    d->confidence_band, d->ai_mode);
	sg_buf_addf(b, "  intent %s (%.2f)  urgency %s  sentiment %s (%.2f)  frustration %d  "
		       "language %s (%.2f)\n",
		    d->intent, d->intent_confidence, d->urgency, d->sentiment,
		    d->sentiment_confidence, d->frustration, d->language, d->language_confidence);
	if (d->nguardrail_types) {
		sg_buf_addf(b, "  guardrails %s:", d->guardrail_action);
		for (size_t i = 0; i < d->nguardrail_types; i++)
			sg_buf_addf(b, " %s", d->guardrail_types[i]);
		sg_buf_addc(b, '\n');
	}
	if (d->escalated)
		sg_buf_addf(b, "  %sescalated%s %s -> %s within %d min via %s\n", red, off,
			    d->escalation_reason, d->escalation.owner ? d->escalation.owner : "-",
			    d->escalation.sla_minutes,
			    d->escalation.channel ? d->escalation.channel : "-");
	sg_buf_addf(b, "  queue %s  next %s\n", d->routed_queue ? d->routed_queue : "-",
		    d->next_action);
	for (size_t i = 0; i < d->nreasons; i++) {
		const struct sg_reason *r = &d->reasons[i];
		sg_buf_addf(b, "  because %s%s%s", bold, r->rule, off);
		if (r->where)
			sg_buf_addf(b, " %s(%s)%s", dim, r->where, off);
		if (r->detail)
			sg_buf_addf(b, ": %s", r->detail);
		sg_buf_addc(b, '\n');
	}
	for (size_t i = 0; i < d->nsteps; i++) {
		const struct sg_step *s = &d->steps[i];
		sg_buf_addf(b, "  step %d %s/%s [%s] %s%s\n", s->index, s->sop,
			    s->name ? s->name : s->kind, s->status, s->detail ? s->detail : "",
			    "");
	}
}
