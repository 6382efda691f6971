/*
 * decision.h - the decision object (output contract v1).
 *
 * One per ticket event; the same object is the audit record and the CRM
 * payload. Field names follow the CRM logging field list support teams use
 * (docs/contracts.md lists each with its meaning). Strings are borrowed:
 * they live in the arena of the pipeline run that made the decision, or in
 * the loaded policy.
 */
#ifndef SG_DECIDE_DECISION_H
#define SG_DECIDE_DECISION_H

#include <stddef.h>

#include "core/buf.h"

#define SG_DECISION_MAX_REASONS 48
#define SG_DECISION_MAX_STEPS 64
#define SG_DECISION_MAX_TYPES 32
#define SG_DECISION_MAX_SOURCES 16

struct sg_reason {
	const char *rule;   /* the policy rule's name: "gates.senior_review" */
	const char *where;  /* "policy.yaml:112" */
	const char *detail; /* "scan.input.types contains LEGAL_THREAT" */
};

struct sg_step {
	const char *sop;    /* workflow name */
	const char *name;   /* the step's name in the policy */
	int index;          /* 1-based step number */
	const char *kind;   /* lookup | if | create_issue | notify | assign | reply | set_field */
	const char *detail; /* what it saw and did: "account.tier = enterprise" */
	const char *status; /* ok | skipped | error */
};

struct sg_escalation {
	const char *owner, *channel; /* NULL when not escalated */
	int sla_minutes;
};

struct sg_decision {
	const char *helpdesk_ticket_id, *event_id, *customer_id, *channel;
	const char *intent;
	double intent_confidence;
	const char *urgency;
	const char *sentiment;
	double sentiment_confidence;
	int frustration, churn_risk, escalation_likelihood;
	const char *language;
	double language_confidence;
	const char *risk_tier;       /* low | medium | high */
	const char *confidence_band; /* high | medium | low */
	int ai_used;
	const char *ai_mode;         /* draft_reply | macro_suggest | summarize_only | none */
	int ai_draft_sent;
	const char *gate;            /* auto_send | agent_review | agent_edit | two_step | senior_review | human_only */
	int approval_required;
	const char *approval_outcome; /* pending | approved | edited | rejected | not_required */
	const char *approver_role;    /* NULL until a human acts */
	const char *approval_timestamp;
	int guardrail_triggered;
	const char *guardrail_types[SG_DECISION_MAX_TYPES];
	size_t nguardrail_types;
	const char *guardrail_action; /* allowed | masked | blocked */
	int escalated;
	const char *escalation_reason;
	const char *escalation_trigger_type; /* rule | guidance | manual */
	struct sg_escalation escalation;
	const char *routed_queue;
	const char *resolution_code, *next_action, *follow_up_due_at;
	int csat_requested;
	const char *ai_trace_id, *model_name, *prompt_template_version;
	const char *guardrail_policy_version, *policy_version;
	const char *draft_text;       /* masked draft, or NULL */
	const char *draft_sources[SG_DECISION_MAX_SOURCES];
	size_t ndraft_sources;
	const char *summary;          /* masked summary for the human, or NULL */
	const char *masked_text;      /* the ticket text as stored (masked) */
	struct sg_step steps[SG_DECISION_MAX_STEPS];
	size_t nsteps;
	struct sg_reason reasons[SG_DECISION_MAX_REASONS];
	size_t nreasons;
	const char *created_at;
};

/* Adds a guardrail type once (duplicates are ignored). */
void sg_decision_add_type(struct sg_decision *d, const char *type);
/* Appends a reason / step; silently drops past the caps (documented above). */
void sg_decision_add_reason(struct sg_decision *d, const char *rule,
			    const char *where, const char *detail);
void sg_decision_add_step(struct sg_decision *d, const struct sg_step *s);

/* Writes the decision as one compact JSON object (every contract field,
 * nulls included, in a fixed order) to b. */
void sg_decision_to_json(const struct sg_decision *d, struct sg_buf *b);

#endif
