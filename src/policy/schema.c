/*
 * schema.c - the policy schema as one table, and the validator that walks
 * a policy tree against it. The same rows produce the checker's messages
 * ("expected one of ...") and the key reference in docs/policy.md, so the
 * language, its errors and its documentation cannot drift apart.
 */
#include "policy/policy_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/alloc.h"
#include "core/banned.h"

#define R SG_SK_REQUIRED
#define LOOKUP_KINDS "crm.account|crm.order|tms.shipment|billing.transaction"
#define CONNECTOR_TYPES "hubspot|zendesk|intercom|pagerduty|slack|smtp|webhook|salesforce|jira|http"
#define GATES "auto_send|agent_review|agent_edit|two_step|senior_review|human_only"

/* in, key, type, flags, sub (child schema | enum values | ref kind), doc */
const struct sg_schema_key sg_policy_schema[] = {
	/* top level */
	{"", "name", SG_T_STR, R, NULL, "Short name of the policy (shown in decisions and reports)."},
	{"", "description", SG_T_STR, 0, NULL, "Free text for humans."},
	{"", "owner", SG_T_STR, 0, NULL, "Who maintains the policy (a person or a role)."},
	{"", "include", SG_T_STRLIST, 0, NULL, "Other policy files merged into this one, relative to this file. A section may be defined in one file only."},
	{"", "queues", SG_T_DICT, 0, "queue", "Named work queues that intents, escalations and SOP steps route to."},
	{"", "channels", SG_T_DICT, 0, "channel", "Named notification channels (Slack channel, PagerDuty service, email list)."},
	{"", "owners", SG_T_DICT, 0, "owner", "Named owners (roles or teams) that escalations page."},
	{"", "classifier", SG_T_MAP, R, "classifier", "The intent classifier and its confidence floor."},
	{"", "intents", SG_T_DICT, R, "intent", "Every intent the classifier can produce: its risk tier, auto-send pre-approval and queue."},
	{"", "risk", SG_T_LIST, 0, "risk", "Rules that raise a ticket's risk tier (the highest matching tier wins)."},
	{"", "bands", SG_T_MAP, R, "bands", "Confidence bands (high, medium, low) and the summarize-only floor."},
	{"", "gates", SG_T_MAP, R, "gates", "When a reply may auto-send and which human review the other rules require."},
	{"", "escalations", SG_T_LIST, 0, "escalation", "The escalation matrix, in priority order: the first matching row sets owner, SLA and channel."},
	{"", "never", SG_T_LIST, 0, "never", "Things the AI must never do, enforced whatever the other rules say."},
	{"", "guardrails", SG_T_MAP, 0, "guardrails", "Scanner rule sets, custom patterns and approved link sources."},
	{"", "models", SG_T_DICT, 0, "model", "Approved models and what each is approved for; any other model is refused."},
	{"", "prompts", SG_T_DICT, 0, "prompt", "Versioned prompt templates."},
	{"", "sops", SG_T_DICT, 0, "sop", "SOP workflows: a trigger and the steps to run."},
	{"", "permissions", SG_T_LIST, 0, "permission", "What the AI agent may do on which resources, and what needs approval."},
	{"", "budgets", SG_T_MAP, 0, "budgets", "Usage caps for model calls."},
	{"", "qa", SG_T_MAP, 0, "qa", "The QA sampling loop and its accuracy thresholds."},
	{"", "kill_switch", SG_T_MAP, 0, "kill_switch", "Force summarize-only everywhere (classification and logging stay on)."},
	{"", "onboarding", SG_T_MAP, 0, "onboarding", "Peer review of reviewers in onboarding (`sopgate user add --onboarding`): every send for their first tickets, then a random share."},
	{"", "webhooks", SG_T_MAP, 0, "webhooks", "Inbound helpdesk webhooks (`POST /v1/webhooks/zendesk`, `/intercom`): where their signing secrets are."},
	{"", "tests", SG_T_LIST, 0, "test", "Example tickets with expected outcomes, run by `sopgate test`."},
	{"", "connectors", SG_T_DICT, 0, "connector", "Outbound connectors (CRM, helpdesk, Slack, PagerDuty, e-mail, webhooks): where outbox actions are delivered. Secrets come from environment variables named here, never from the file."},
	{"", "outbox", SG_T_MAP, 0, "outbox", "Delivery of outbox actions: attempts before the dead letter, backoff, leases, concurrency."},

	{"queue", "description", SG_T_STR, 0, NULL, "What the queue is for."},
	{"queue", "owner", SG_T_REF, 0, "owner", "Owner responsible for the queue."},

	{"channel", "kind", SG_T_ENUM, R, "slack|pagerduty|email|webhook|jira|log", "Transport used to notify."},
	{"channel", "target", SG_T_STR, R, NULL, "Where: `#refunds`, a PagerDuty service, an address or URL."},
	{"channel", "description", SG_T_STR, 0, NULL, "Free text."},
	{"channel", "connector", SG_T_REF, 0, "connector", "Connector that delivers to this channel (default: the only connector whose type fits `kind`)."},

	{"owner", "role", SG_T_STR, R, NULL, "The role paged (Support Lead, Security on-call...)."},
	{"owner", "channel", SG_T_REF, 0, "channel", "Default channel for this owner."},
	{"owner", "description", SG_T_STR, 0, NULL, "Free text."},

	{"classifier", "model", SG_T_STR, R, NULL, "Classifier model name (`builtin` is the shipped Bitext model)."},
	{"classifier", "min_confidence", SG_T_RATIO, R, NULL, "Below this intent confidence the ticket goes to human triage."},
	{"classifier", "triage_queue", SG_T_REF, R, "queue", "Queue for human triage (low confidence, unknown intent)."},
	{"classifier", "labels", SG_T_STRLIST, 0, NULL, "The labels the model can produce; `sopgate check` reports labels without an intent entry."},

	{"intent", "tier", SG_T_ENUM, 0, "low|medium|high", "Risk tier of the intent (required by `sopgate check`)."},
	{"intent", "auto_send", SG_T_BOOL, 0, NULL, "Pre-approved for auto-send (default false)."},
	{"intent", "queue", SG_T_REF, 0, "queue", "Queue the ticket is routed to (default: the triage queue)."},
	{"intent", "sop", SG_T_REF, 0, "sop", "SOP workflow run for this intent (besides SOP triggers)."},
	{"intent", "description", SG_T_STR, 0, NULL, "Free text."},

	{"risk", "name", SG_T_STR, R, NULL, "Rule name, cited in decisions."},
	{"risk", "when", SG_T_EXPR, R, NULL, "Condition (expression)."},
	{"risk", "tier", SG_T_ENUM, R, "low|medium|high", "Tier raised to when the condition holds."},
	{"risk", "reason", SG_T_STR, 0, NULL, "Text cited in the decision."},

	{"bands", "high", SG_T_MAP, R, "band_high", "High band: both confidences at or above these."},
	{"bands", "medium", SG_T_MAP, R, "band_medium", "Medium band."},
	{"bands", "summarize_only_below", SG_T_RATIO, R, NULL, "Intent confidence below this: the AI only summarizes."},
	{"band_high", "intent", SG_T_RATIO, R, NULL, "Minimum intent confidence."},
	{"band_high", "sentiment", SG_T_RATIO, R, NULL, "Minimum sentiment confidence."},
	{"band_medium", "intent", SG_T_RATIO, R, NULL, "Minimum intent confidence (below: low band)."},
	{"band_medium", "negative_sentiment", SG_T_RATIO, 0, NULL, "Negative sentiment at or above this confidence caps the band at medium."},

	{"gates", "auto_send", SG_T_MAP, R, "auto_send", "Conditions that must ALL hold for a reply to send without a human."},
	{"gates", "default", SG_T_ENUM, R, GATES, "Gate when no rule applies and auto-send does not hold."},
	{"gates", "by_tier", SG_T_MAP, 0, "by_tier", "Minimum gate per risk tier."},
	{"gates", "rules", SG_T_LIST, 0, "gate_rule", "Review rules; the strictest matching gate wins."},
	{"auto_send", "min_confidence", SG_T_RATIO, R, NULL, "Intent confidence must be above this."},
	{"auto_send", "plans", SG_T_ENUMLIST, R, "free|starter|paid|premium|enterprise", "Customer tiers (plans) allowed to receive auto-sent replies."},
	{"auto_send", "require_preapproved", SG_T_BOOL, 0, NULL, "The intent must have `auto_send: true` (default true)."},
	{"auto_send", "require_no_triggers", SG_T_BOOL, 0, NULL, "No guardrail, gate rule, never rule or escalation may have fired (default true)."},
	{"auto_send", "when", SG_T_EXPR, 0, NULL, "An extra condition that must hold."},
	{"by_tier", "low", SG_T_ENUM, 0, GATES, "Gate for low-risk tickets."},
	{"by_tier", "medium", SG_T_ENUM, 0, GATES, "Gate for medium-risk tickets."},
	{"by_tier", "high", SG_T_ENUM, 0, GATES, "Gate for high-risk tickets."},
	{"gate_rule", "name", SG_T_STR, R, NULL, "Rule name, cited in decisions."},
	{"gate_rule", "gate", SG_T_ENUM, R, GATES, "Gate required when the rule matches."},
	{"gate_rule", "when", SG_T_EXPR, 0, NULL, "Condition; a rule needs `when`, `rule_sets` or both (either matches)."},
	{"gate_rule", "rule_sets", SG_T_REFLIST, 0, "ruleset", "Guardrail rule sets whose hits trigger the rule."},
	{"gate_rule", "channel", SG_T_REF, 0, "channel", "Review channel (senior_review)."},
	{"gate_rule", "sla", SG_T_DURATION, 0, NULL, "Time for the human reply."},
	{"gate_rule", "approver_role", SG_T_ENUM, 0, "agent|lead|specialist", "Who approves."},
	{"gate_rule", "reason", SG_T_STR, 0, NULL, "Text cited in the decision."},

	{"escalation", "name", SG_T_STR, R, NULL, "Row name, cited in decisions."},
	{"escalation", "when", SG_T_EXPR, R, NULL, "Trigger condition."},
	{"escalation", "owner", SG_T_REF, R, "owner", "Who owns the escalation."},
	{"escalation", "sla", SG_T_DURATION, R, NULL, "Time to respond (15m, 1h...)."},
	{"escalation", "channel", SG_T_REF, R, "channel", "Where the owner is notified."},
	{"escalation", "queue", SG_T_REF, 0, "queue", "Queue the ticket is routed to."},
	{"escalation", "trigger_type", SG_T_ENUM, 0, "rule|guidance|manual", "CRM `escalation_trigger_type` (default rule)."},
	{"escalation", "reason", SG_T_STR, 0, NULL, "CRM `escalation_reason`."},

	{"never", "name", SG_T_STR, R, NULL, "Rule name, cited in decisions."},
	{"never", "when", SG_T_EXPR, 0, NULL, "Condition; a rule needs `when`, `intents` or both (either matches)."},
	{"never", "intents", SG_T_REFLIST, 0, "intent", "Intents always covered by the rule."},
	{"never", "gate", SG_T_ENUM, R, GATES, "The least strict gate allowed when the rule matches."},
	{"never", "block", SG_T_ENUMLIST, 0, "draft|send|refund|close|link|store_raw_pii", "Actions the AI must not take."},
	{"never", "reason", SG_T_STR, 0, NULL, "Text cited in the decision."},

	{"guardrails", "rule_sets", SG_T_DICT, 0, "ruleset", "Built-in scanner rule sets by name, switched on or off."},
	{"guardrails", "custom", SG_T_LIST, 0, "custom_pattern", "Extra patterns."},
	{"guardrails", "approved_sources", SG_T_STRLIST, 0, NULL, "Link and citation sources a reply may use (prefixes, `kb:` for the knowledge base)."},
	{"guardrails", "version", SG_T_STR, 0, NULL, "CRM `guardrail_policy_version` (default: the policy version)."},
	{"ruleset", "enabled", SG_T_BOOL, R, NULL, "On or off."},
	{"ruleset", "action", SG_T_ENUM, R, "allow|mask|block", "What a hit does."},
	{"ruleset", "applies_to", SG_T_ENUM, 0, "input|output|both", "Which text is scanned (default both)."},
	{"custom_pattern", "name", SG_T_STR, R, NULL, "Pattern name."},
	{"custom_pattern", "pattern", SG_T_REGEX, R, NULL, "PCRE2 regular expression (case-insensitive)."},
	{"custom_pattern", "type", SG_T_STR, R, NULL, "Finding type reported (`scan.input.types`)."},
	{"custom_pattern", "action", SG_T_ENUM, R, "allow|mask|block", "What a hit does."},
	{"custom_pattern", "applies_to", SG_T_ENUM, 0, "input|output|both", "Which text is scanned (default both)."},

	{"model", "backend", SG_T_ENUM, R, "builtin|openai|anthropic", "How the model is called: `builtin` (no model, offline), `openai` (chat completions: OpenAI, llama.cpp server, vLLM, Ollama, Azure OpenAI) or `anthropic` (Messages API)."},
	{"model", "tasks", SG_T_ENUMLIST, R, "draft|summarize|tag|knowledge_gap|translate", "Tasks it is approved for. A prompt may only name a model approved for the prompt's task, and a call for any other task is refused."},
	{"model", "endpoint", SG_T_STR, 0, NULL, "Base URL of an HTTP backend (`http://127.0.0.1:8080` for a llama.cpp server, a trailing `/v1` is accepted; `https://RESOURCE.openai.azure.com` for Azure). Required for `openai`; `anthropic` defaults to `https://api.anthropic.com`."},
	{"model", "model", SG_T_STR, 0, NULL, "Backend's model id, sent with each call and recorded as the decision's `model_name`. Required for `openai` (except Azure deployments) and `anthropic`."},
	{"model", "api_key_env", SG_T_STR, 0, NULL, "Name of the environment variable that holds the API key (`ACME_OPENAI_KEY`); the key itself never goes in the policy. Required for `anthropic` and Azure."},
	{"model", "azure_deployment", SG_T_STR, 0, NULL, "Azure OpenAI deployment name: calls `{endpoint}/openai/deployments/{deployment}/chat/completions` with an `api-key` header."},
	{"model", "azure_api_version", SG_T_STR, 0, NULL, "Azure OpenAI `api-version` (`2024-10-21`); required with `azure_deployment`."},
	{"model", "timeout", SG_T_DURATION, 0, NULL, "Time allowed per HTTP attempt (default 30s)."},
	{"model", "max_retries", SG_T_INT, 0, NULL, "Retries after a failed attempt (default 2): backoff with jitter, `Retry-After` honoured."},
	{"model", "max_tokens", SG_T_INT, 0, NULL, "Completion tokens asked for per call (default 512)."},
	{"model", "pii", SG_T_ENUM, 0, "masked_only", "Only masked text is ever sent (the only allowed value)."},

	{"prompt", "file", SG_T_FILE, R, NULL, "Template file, relative to the policy file."},
	{"prompt", "version", SG_T_STR, R, NULL, "Template version (CRM `prompt_template_version`)."},
	{"prompt", "task", SG_T_ENUM, R, "draft|summarize|tag|knowledge_gap|translate", "What the template is for."},
	{"prompt", "model", SG_T_REF, 0, "model", "Model that runs the task (default `builtin`); it must list the task in its `tasks`. The first prompt of each task is the one decisions use."},

	{"sop", "trigger", SG_T_EXPR, R, NULL, "When the workflow runs."},
	{"sop", "description", SG_T_STR, 0, NULL, "Free text."},
	{"sop", "sla", SG_T_DURATION, 0, NULL, "Time allowed for the whole workflow."},
	{"sop", "steps", SG_T_LIST, R, "step", "Steps, run in order."},
	{"step", "name", SG_T_STR, 0, NULL, "Step name, cited in `sop_steps`."},
	{"step", "lookup", SG_T_ENUM, 0, LOOKUP_KINDS, "Lookup step: the record kind read from the connector."},
	{"step", "key", SG_T_EXPR, 0, NULL, "Lookup key (expression, e.g. `customer.id`)."},
	{"step", "as", SG_T_STR, 0, NULL, "Name the looked-up record is bound to in later expressions."},
	{"step", "on_error", SG_T_ENUM, 0, "review|continue|stop", "Lookup step: when the record cannot be read. `review` (default): flag the ticket for manual review and continue; `continue`: cite the failure and continue; `stop`: flag for review and skip the workflow's remaining steps."},
	{"step", "if", SG_T_EXPR, 0, NULL, "Branch step: condition."},
	{"step", "then", SG_T_LIST, 0, "step", "Steps when the condition holds."},
	{"step", "else", SG_T_LIST, 0, "step", "Steps otherwise."},
	{"step", "action", SG_T_ENUM, 0, "create_issue|notify|assign|reply|set_field|escalate", "Action step."},
	{"step", "project", SG_T_STR, 0, NULL, "create_issue: tracker project key."},
	{"step", "summary", SG_T_STR, 0, NULL, "create_issue: issue title (may use {field.path})."},
	{"step", "priority", SG_T_STR, 0, NULL, "create_issue: tracker priority name (`Highest`, `High`, `Medium`, `Low`); default from the ticket's urgency (P0 Highest ... P3 Low)."},
	{"step", "issue_type", SG_T_STR, 0, NULL, "create_issue: issue type name (default `Task`)."},
	{"step", "to", SG_T_REF, 0, "owner", "notify/escalate: owner notified."},
	{"step", "channel", SG_T_REF, 0, "channel", "notify, create_issue: channel (or tracker) used."},
	{"step", "within", SG_T_DURATION, 0, NULL, "notify: deadline."},
	{"step", "message", SG_T_STR, 0, NULL, "notify: text (may use {field.path})."},
	{"step", "queue", SG_T_REF, 0, "queue", "assign: queue."},
	{"step", "template", SG_T_STR, 0, NULL, "reply: reply template id."},
	{"step", "field", SG_T_STR, 0, NULL, "set_field: CRM field name."},
	{"step", "value", SG_T_STR, 0, NULL, "set_field: value."},

	{"permission", "grant", SG_T_STR, R, NULL, "`resource:action on target`, e.g. `tickets:respond on queue/tier-1`."},
	{"permission", "requires_approval", SG_T_BOOL, 0, NULL, "A human must approve each use (default false)."},
	{"permission", "approval_channel", SG_T_REF, 0, "channel", "Where approvals are requested."},

	{"budgets", "max_tokens_per_session", SG_T_INT, 0, NULL, "Model tokens per ticket session."},
	{"budgets", "max_sessions_per_day", SG_T_INT, 0, NULL, "AI sessions per day."},
	{"budgets", "max_cost_per_day", SG_T_MONEY, 0, NULL, "Model spend per day."},
	{"budgets", "on_exceeded", SG_T_ENUM, 0, "summarize_only|human_only", "What happens when a budget is used up."},

	{"qa", "sample_size", SG_T_INT, R, NULL, "AI-handled (auto-sent) tickets sampled per week (`sopgate qa sample`)."},
	{"qa", "min_one_per", SG_T_INT, 0, NULL, "And at least one sample per this many AI-handled tickets (default 100)."},
	{"qa", "sample_rate", SG_T_RATIO, 0, NULL, "Share of human-reviewed (approved or edited) tickets also sampled (default 5%)."},
	{"qa", "min_per_category", SG_T_INT, 0, NULL, "Each category (intent) with tickets gets at least this many samples, so rare ones are seen (default 1)."},
	{"qa", "seed", SG_T_INT, 0, NULL, "Mixed with the week into the sampling seed; the same seed and tickets give the same sample (default 0)."},
	{"qa", "pause_below", SG_T_RATIO, R, NULL, "Weekly accuracy under which auto-send pauses for the category (review required) until a human lifts it."},
	{"qa", "expand_above", SG_T_RATIO, R, NULL, "Accuracy over which, for `expand_after_weeks` weeks in a row, the category is suggested for expansion."},
	{"qa", "expand_after_weeks", SG_T_INT, 0, NULL, "Consecutive weeks above `expand_above` (default 2)."},
	{"qa", "min_scored", SG_T_INT, 0, NULL, "Scores a category needs in a week before the pause or expansion rule looks at it (default 5)."},
	{"qa", "pass_score", SG_T_INT, 0, NULL, "A scored ticket is accurate when every dimension is at least this (1-5) and it has no defect tag (default 4)."},
	{"qa", "incident_hours", SG_T_INT, 0, NULL, "Deadline of the incident report opened when a hallucination reached a customer (default 24)."},
	{"qa", "dimensions", SG_T_STRLIST, 0, NULL, "Scoring dimensions (documentation; sopgate scores the five of the reference SOP)."},

	{"kill_switch", "enabled", SG_T_BOOL, R, NULL, "When true every ticket is summarize-only."},
	{"kill_switch", "mode", SG_T_ENUM, 0, "summarize_only", "The forced AI mode."},
	{"kill_switch", "reason", SG_T_STR, 0, NULL, "Why it was switched (audit)."},

	{"connector", "type", SG_T_ENUM, R, CONNECTOR_TYPES, "Which API the connector speaks."},
	{"connector", "base_url", SG_T_STR, 0, NULL, "Base URL of the API (`https://acme.zendesk.com`; `smtp://mail.example:587` for smtp). Defaults to the vendor's public endpoint where it has one."},
	{"connector", "token_env", SG_T_STR, 0, NULL, "Environment variable holding the API token (HubSpot/Intercom/Slack bearer token, Zendesk API token, PagerDuty routing key, SMTP password)."},
	{"connector", "user_env", SG_T_STR, 0, NULL, "Environment variable holding the user name (Zendesk agent e-mail, SMTP user)."},
	{"connector", "secret_env", SG_T_STR, 0, NULL, "Environment variable holding a signing secret (webhook HMAC-SHA256 key; slack: the app's signing secret, which verifies button clicks on POST /v1/webhooks/slack)."},
	{"connector", "timeout", SG_T_DURATION, 0, NULL, "Whole-request timeout (default 10s); a timeout is retried."},
	{"connector", "connect_timeout", SG_T_DURATION, 0, NULL, "Connection timeout (default 5s)."},
	{"connector", "max_attempts", SG_T_INT, 0, NULL, "Attempts before an action becomes a dead letter (default: `outbox.max_attempts`)."},
	{"connector", "record", SG_T_BOOL, 0, NULL, "Deliver every decision to this connector (HubSpot ticket patch, Zendesk update, Intercom reply or note); default false."},
	{"connector", "actions", SG_T_ENUMLIST, 0, "create_issue|notify|escalate|reply|set_field", "SOP and escalation actions that name no channel and go to this connector."},
	{"connector", "properties", SG_T_ANY, 0, NULL, "hubspot: map of decision field to ticket property (default: each logging field to `sopgate_<field>`)."},
	{"connector", "id_property", SG_T_STR, 0, NULL, "hubspot: unique ticket property holding the helpdesk ticket id (`?idProperty=`); default: the id is HubSpot's own."},
	{"connector", "custom_fields", SG_T_ANY, 0, NULL, "zendesk: map of decision field to custom field id."},
	{"connector", "tags", SG_T_STRLIST, 0, NULL, "zendesk: tags added to every update (besides `sopgate` and the intent)."},
	{"connector", "author_id", SG_T_INT, 0, NULL, "zendesk: comment author (user id); intercom uses `admin_id`."},
	{"connector", "admin_id", SG_T_STR, 0, NULL, "intercom: the admin the reply or note is written as."},
	{"connector", "api_version", SG_T_STR, 0, NULL, "intercom: `Intercom-Version` header (default 2.11); salesforce: REST API version (default v60.0)."},
	{"connector", "severity", SG_T_ENUM, 0, "critical|error|warning|info", "pagerduty: severity of triggered alerts (default error; critical for P0)."},
	{"connector", "console_url", SG_T_STR, 0, NULL, "Link to the sopgate console, used in Slack messages, PagerDuty `client_url` and e-mails."},
	{"connector", "from", SG_T_STR, 0, NULL, "smtp: sender address."},
	{"connector", "signature_header", SG_T_STR, 0, NULL, "webhook: header carrying `sha256=<hex HMAC>` (default X-Sopgate-Signature)."},
	{"connector", "users", SG_T_STRMAP, 0, NULL, "slack: Slack user id (`U0AAAAAAA`) to sopgate user name, for the buttons of escalation messages; the role is the sopgate user's. Clicks from users not listed are refused."},
	{"connector", "lookups", SG_T_DICT, 0, "conn_lookup", "salesforce, http: the record kinds this connector answers for SOP `lookup:` steps (`crm.account`, `crm.order`, `tms.shipment`, `billing.transaction`); kinds no connector lists read the file connector (`records/`)."},
	{"conn_lookup", "query", SG_T_STR, 0, NULL, "salesforce (required): SOQL, `{key}` replaced by the key as a quoted SOQL string literal."},
	{"conn_lookup", "path", SG_T_STR, 0, NULL, "http: path after `base_url`, `{key}` replaced by the URL-encoded key (default `/{key}`)."},
	{"conn_lookup", "record", SG_T_STR, 0, NULL, "http: JSON path of the record inside the answer (`$.data`; default the whole answer)."},
	{"conn_lookup", "fields", SG_T_STRMAP, 0, NULL, "Record fields by name, each a JSON path in the record (`Tier__c`, `Owner.Email`, `carrier.name`, `items[0].sku`); default every field."},

	{"outbox", "max_attempts", SG_T_INT, 0, NULL, "Delivery attempts before an action becomes a dead letter (default 8)."},
	{"outbox", "backoff", SG_T_DURATION, 0, NULL, "First retry delay; doubled each attempt, with jitter (default 2s)."},
	{"outbox", "max_backoff", SG_T_DURATION, 0, NULL, "Longest retry delay, also the cap on a vendor's Retry-After (default 15m)."},
	{"outbox", "lease", SG_T_DURATION, 0, NULL, "How long a worker holds a claimed action before another may take it (default 2m)."},
	{"outbox", "concurrency", SG_T_INT, 0, NULL, "Deliveries in flight at once per server (default 8)."},
	{"outbox", "poll", SG_T_DURATION, 0, NULL, "How often the worker looks for due actions when idle (default 1s)."},
	{"onboarding", "peer_review_first", SG_T_INT, 0, NULL, "Tickets an onboarding reviewer sends with a peer's approval on every one (default 20)."},
	{"onboarding", "random_review_share", SG_T_RATIO, 0, NULL, "After those, the share of their sends a peer must approve, drawn at random (default 0.20)."},

	{"webhooks", "zendesk", SG_T_MAP, 0, "webhook_zendesk", "Zendesk event-subscription webhooks."},
	{"webhooks", "intercom", SG_T_MAP, 0, "webhook_intercom", "Intercom notifications."},
	{"webhook_zendesk", "secret_env", SG_T_STR, R, NULL, "Environment variable holding the webhook's signing secret (never the secret itself)."},
	{"webhook_zendesk", "max_age", SG_T_DURATION, 0, NULL, "Signed timestamps further than this from the server's clock are refused (default 5m)."},
	{"webhook_intercom", "secret_env", SG_T_STR, R, NULL, "Environment variable holding the app's client secret (never the secret itself)."},

	{"test", "name", SG_T_STR, R, NULL, "Test name."},
	{"test", "ticket", SG_T_ANY, R, NULL, "The ticket event (input contract)."},
	{"test", "given", SG_T_MAP, 0, "given", "Classifier outputs to use instead of the model (tests stay stable when the model is retrained)."},
	{"test", "expect", SG_T_MAP, R, "expect", "Expected decision fields."},
	{"given", "intent", SG_T_REF, 0, "intent", "Intent."},
	{"given", "intent_confidence", SG_T_RATIO, 0, NULL, "Intent confidence."},
	{"given", "sentiment", SG_T_ENUM, 0, "negative|neutral|positive", "Sentiment."},
	{"given", "sentiment_confidence", SG_T_RATIO, 0, NULL, "Sentiment confidence."},
	{"given", "frustration", SG_T_NUM, 0, NULL, "Frustration 0-10."},
	{"given", "urgency", SG_T_ENUM, 0, "P0|P1|P2|P3", "Urgency."},
	{"given", "language", SG_T_STR, 0, NULL, "Language code."},
	{"given", "kill_switch", SG_T_BOOL, 0, NULL, "Run the test as if the kill switch were on."},
	{"expect", "gate", SG_T_ENUM, 0, GATES, "Expected gate."},
	{"expect", "risk_tier", SG_T_ENUM, 0, "low|medium|high", "Expected risk tier."},
	{"expect", "confidence_band", SG_T_ENUM, 0, "low|medium|high", "Expected band."},
	{"expect", "intent", SG_T_REF, 0, "intent", "Expected intent."},
	{"expect", "ai_mode", SG_T_ENUM, 0, "draft_reply|macro_suggest|summarize_only|none", "Expected AI mode."},
	{"expect", "escalated", SG_T_BOOL, 0, NULL, "Expected escalated flag."},
	{"expect", "escalation_owner", SG_T_REF, 0, "owner", "Expected escalation owner."},
	{"expect", "escalation_channel", SG_T_REF, 0, "channel", "Expected escalation channel."},
	{"expect", "escalation", SG_T_STR, 0, NULL, "Expected escalation row name."},
	{"expect", "escalation_reason", SG_T_STR, 0, NULL, "Expected CRM `escalation_reason` (the row's `reason`, else its name)."},
	{"expect", "routed_queue", SG_T_REF, 0, "queue", "Expected queue."},
	{"expect", "guardrail_action", SG_T_ENUM, 0, "allowed|masked|blocked", "Expected guardrail action."},
	{"expect", "guardrail_types", SG_T_STRLIST, 0, NULL, "Guardrail types that must be present."},
	{"expect", "approval_required", SG_T_BOOL, 0, NULL, "Expected approval flag."},
	{"expect", "reasons", SG_T_STRLIST, 0, NULL, "Rule names that must appear in `reasons`."},
	{"expect", "sop_steps", SG_T_STRLIST, 0, NULL, "Step names that must appear in `sop_steps`."},
};
const size_t sg_policy_schema_len = sizeof sg_policy_schema / sizeof sg_policy_schema[0];

static const char *const type_names[] = {
	[SG_T_STR] = "string", [SG_T_NUM] = "number", [SG_T_INT] = "integer",
	[SG_T_RATIO] = "ratio (0..1 or 92%)", [SG_T_BOOL] = "boolean",
	[SG_T_DURATION] = "duration (15m, 2h, 1d)", [SG_T_MONEY] = "amount ($5,000 or 5000 USD)",
	[SG_T_EXPR] = "expression", [SG_T_REGEX] = "regular expression",
	[SG_T_ENUM] = "one of", [SG_T_REF] = "name of a", [SG_T_FILE] = "file path",
	[SG_T_STRLIST] = "list of strings", [SG_T_REFLIST] = "list of names of",
	[SG_T_ENUMLIST] = "list of", [SG_T_MAP] = "map", [SG_T_DICT] = "map of named entries",
	[SG_T_LIST] = "list of maps", [SG_T_ANY] = "any value",
	[SG_T_STRMAP] = "map of strings",
};

const char *sg_stype_name(enum sg_stype t) { return type_names[t]; }

static const char *kind_name(enum sg_pnode_kind k)
{
	static const char *const n[] = {"null", "a boolean", "a number", "a string", "a list", "a map"};
	return n[k];
}

static const char *an(enum sg_stype t)
{
	const char *n = type_names[t];
	return n[0] == 'a' || n[0] == 'e' || n[0] == 'i' || n[0] == 'o' ? "an" : "a";
}

static int is_scalar(const struct sg_pnode *n)
{
	return n->kind != SG_PN_LIST && n->kind != SG_PN_MAP;
}

static int enum_has(const char *vals, const char *s)
{
	size_t n = strlen(s);
	for (const char *v = vals; *v;) {
		size_t k = strcspn(v, "|");
		if (k == n && !memcmp(v, s, n))
			return 1;
		v += k;
		if (*v == '|')
			v++;
	}
	return 0;
}

static void enum_list(char *out, size_t size, const char *vals)
{
	size_t o = 0;
	for (const char *v = vals; *v && o + 4 < size;) {
		size_t k = strcspn(v, "|");
		o += (size_t)snprintf(out + o, size - o, "%s%.*s", o ? ", " : "", (int)k, v);
		v += k;
		if (*v == '|')
			v++;
	}
}

static void add_ref(struct sg_loader *l, const char *kind, const struct sg_pnode *n)
{
	if (l->n_refs == l->cap_refs) {
		size_t cap = l->cap_refs ? l->cap_refs * 2 : 64;
		struct sg_pref *v = sg_realloc(l->refs, cap * sizeof *v);
		if (!v)
			return;
		l->refs = v;
		l->cap_refs = cap;
	}
	l->refs[l->n_refs].kind = kind;
	l->refs[l->n_refs].n = n;
	l->n_refs++;
}

/* Converts a scalar to a number for numeric types; 0 or -1. */
static int to_number(struct sg_pnode *n, enum sg_stype t)
{
	if (n->kind == SG_PN_NUM)
		return 0;
	if (n->kind != SG_PN_STR)
		return -1;
	double v;
	size_t len = strlen(n->text);
	if (t == SG_T_DURATION && !sg_parse_duration(n->text, &v)) {
		/* a duration */
	} else if ((t == SG_T_MONEY || t == SG_T_NUM) && !sg_parse_money(n->text, &v)) {
		/* an amount */
	} else if (t == SG_T_RATIO && len > 1 && n->text[len - 1] == '%') {
		char *end;
		v = strtod(n->text, &end) / 100;
		if (end != n->text + len - 1)
			return -1;
	} else {
		return -1;
	}
	n->kind = SG_PN_NUM;
	n->num = v;
	return 0;
}

static void check_scalar(struct sg_loader *l, struct sg_pnode *n,
			 const struct sg_schema_key *k, const char *where)
{
	char vals[400];
	switch (k->type) {
	case SG_T_STR:
		if (n->kind != SG_PN_STR && n->kind != SG_PN_NUM)
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': expected a string, found %s", where,
				 kind_name(n->kind));
		return;
	case SG_T_NUM: case SG_T_INT: case SG_T_RATIO: case SG_T_DURATION: case SG_T_MONEY:
		if (to_number(n, k->type) < 0) {
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': expected %s %s, found %s%s%s", where,
				 an(k->type), type_names[k->type], n->text ? "'" : "",
				 n->text ? n->text : kind_name(n->kind), n->text ? "'" : "");
			return;
		}
		if (k->type == SG_T_RATIO && (n->num < 0 || n->num > 1))
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': %g is out of range (a ratio is between 0 and 1)",
				 where, n->num);
		else if (k->type == SG_T_INT && (n->num < 0 || n->num != (double)(long long)n->num))
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': expected a non-negative integer, found %g",
				 where, n->num);
		else if (n->num < 0)
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': must not be negative", where);
		return;
	case SG_T_BOOL:
		if (n->kind != SG_PN_BOOL)
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': expected true or false, found %s%s%s", where,
				 n->text ? "'" : "", n->text ? n->text : kind_name(n->kind), n->text ? "'" : "");
		return;
	default:
		break;
	}
	if (n->kind != SG_PN_STR && !(n->kind == SG_PN_BOOL && k->type == SG_T_EXPR) &&
	    !(n->kind == SG_PN_NUM && k->type != SG_T_EXPR)) {
		sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': expected %s %s, found %s", where,
			 k->type == SG_T_ENUM || k->type == SG_T_REF ? "a" : an(k->type),
			 k->type == SG_T_ENUM || k->type == SG_T_REF ? "string" : type_names[k->type],
			 kind_name(n->kind));
		return;
	}
	switch (k->type) {
	case SG_T_EXPR: {
		struct sg_expr_loc loc = {n->file, n->source, n->line,
					  n->col + (n->quoted == 1 ? 1u : 0u)};
		if (n->quoted == 2) { /* block scalar: text starts on the next line */
			loc.line++;
			loc.col = n->col + 2;
		}
		n->expr = sg_expr_parse(l->a, n->text, strlen(n->text), &loc, sg_loader_known_root,
					l, sg_loader_intern, l->d);
		return;
	}
	case SG_T_REGEX: {
		int ec;
		PCRE2_SIZE eo;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)n->text, PCRE2_ZERO_TERMINATED,
					       PCRE2_UTF | PCRE2_CASELESS, &ec, &eo, NULL);
		if (!re) {
			char msg[200];
			pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof msg);
			struct sg_pnode at = *n;
			at.col += (unsigned)eo + (n->quoted == 1 ? 1u : 0u);
			sg_pdiag(l, SG_DIAG_ERROR, &at, "'%s': bad regular expression: %s", where, msg);
		}
		pcre2_code_free(re);
		return;
	}
	case SG_T_ENUM:
		if (!enum_has(k->sub, n->text)) {
			enum_list(vals, sizeof vals, k->sub);
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': unknown value '%s' (expected one of: %s)",
				 where, n->text, vals);
		}
		return;
	case SG_T_REF:
		add_ref(l, k->sub, n);
		return;
	case SG_T_FILE: {
		char path[4096];
		const char *slash = strrchr(n->file, '/');
		if (n->text[0] == '/' || !slash)
			snprintf(path, sizeof path, "%s", n->text);
		else
			snprintf(path, sizeof path, "%.*s/%s", (int)(slash - n->file), n->file, n->text);
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': file '%s' not found", where, path);
		return;
	}
	default:
		return;
	}
}

static void pathf(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pathf(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

static const struct sg_schema_key *find_key(const char *in, const char *key)
{
	for (size_t i = 0; i < sg_policy_schema_len; i++)
		if (!strcmp(sg_policy_schema[i].in, in) && !strcmp(sg_policy_schema[i].key, key))
			return &sg_policy_schema[i];
	return NULL;
}

static void key_list(char *out, size_t size, const char *in)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < sg_policy_schema_len && o + 4 < size; i++)
		if (!strcmp(sg_policy_schema[i].in, in))
			o += (size_t)snprintf(out + o, size - o, "%s%s", o ? ", " : "",
					      sg_policy_schema[i].key);
}

static const struct sg_pnode *mget(const struct sg_pnode *n, const char *key);

static void validate_value(struct sg_loader *l, struct sg_pnode *v,
			   const struct sg_schema_key *k, const char *where, unsigned depth)
{
	char sub[300], vals[400];
	switch (k->type) {
	case SG_T_MAP:
		sg_schema_validate(l, v, k->sub, where, depth + 1);
		return;
	case SG_T_DICT:
		if (v->kind != SG_PN_MAP) {
			sg_pdiag(l, SG_DIAG_ERROR, v, "'%s': expected a map of named entries, found %s",
				 where, kind_name(v->kind));
			return;
		}
		for (size_t i = 0; i < v->n; i++) {
			pathf(sub, sizeof sub, "%s.%s", where, v->keys[i]);
			if (!strcmp(k->sub, "conn_lookup") && !enum_has(LOOKUP_KINDS, v->keys[i])) {
				enum_list(vals, sizeof vals, LOOKUP_KINDS);
				sg_pdiag(l, SG_DIAG_ERROR, v->key_nodes[i],
					 "'%s': unknown record kind '%s' (expected one of: %s)", where,
					 v->keys[i], vals);
			}
			sg_schema_validate(l, v->items[i], k->sub, sub, depth + 1);
		}
		return;
	case SG_T_LIST:
		if (v->kind != SG_PN_LIST) {
			sg_pdiag(l, SG_DIAG_ERROR, v, "'%s': expected a list, found %s", where,
				 kind_name(v->kind));
			return;
		}
		for (size_t i = 0; i < v->n; i++) {
			pathf(sub, sizeof sub, "%s[%zu]", where, i);
			sg_schema_validate(l, v->items[i], k->sub, sub, depth + 1);
			/* names are cited in decisions: one meaning each */
			const struct sg_pnode *name = mget(v->items[i], "name");
			for (size_t j = 0; name && name->text && j < i; j++) {
				const struct sg_pnode *other = mget(v->items[j], "name");
				if (other && other->text && !strcmp(other->text, name->text)) {
					sg_pdiag(l, SG_DIAG_ERROR, name, "'%s': duplicate name '%s' (first at line %u)",
						 where, name->text, other->line);
					break;
				}
			}
		}
		return;
	case SG_T_STRLIST: case SG_T_REFLIST: case SG_T_ENUMLIST:
		if (v->kind != SG_PN_LIST) {
			sg_pdiag(l, SG_DIAG_ERROR, v, "'%s': expected a list, found %s", where,
				 kind_name(v->kind));
			return;
		}
		for (size_t i = 0; i < v->n; i++) {
			struct sg_pnode *it = v->items[i];
			pathf(sub, sizeof sub, "%s[%zu]", where, i);
			if (it->kind != SG_PN_STR && it->kind != SG_PN_NUM) {
				sg_pdiag(l, SG_DIAG_ERROR, it, "'%s': expected a string, found %s", sub,
					 kind_name(it->kind));
			} else if (k->type == SG_T_REFLIST) {
				add_ref(l, k->sub, it);
			} else if (k->type == SG_T_ENUMLIST && !enum_has(k->sub, it->text)) {
				enum_list(vals, sizeof vals, k->sub);
				sg_pdiag(l, SG_DIAG_ERROR, it, "'%s': unknown value '%s' (expected one of: %s)",
					 sub, it->text, vals);
			}
		}
		return;
	case SG_T_STRMAP:
		if (v->kind != SG_PN_MAP) {
			sg_pdiag(l, SG_DIAG_ERROR, v, "'%s': expected a map of strings, found %s",
				 where, kind_name(v->kind));
			return;
		}
		for (size_t i = 0; i < v->n; i++)
			if (v->items[i]->kind != SG_PN_STR) {
				pathf(sub, sizeof sub, "%s.%s", where, v->keys[i]);
				sg_pdiag(l, SG_DIAG_ERROR, v->items[i], "'%s': expected a string, found %s",
					 sub, kind_name(v->items[i]->kind));
			}
		return;
	case SG_T_ANY:
		return;
	default:
		if (!is_scalar(v) || v->kind == SG_PN_NULL) {
			if (v->kind == SG_PN_NULL)
				sg_pdiag(l, SG_DIAG_ERROR, v, "'%s': missing value", where);
			else
				sg_pdiag(l, SG_DIAG_ERROR, v, "'%s': expected %s %s, found %s", where,
					 k->type == SG_T_ENUM || k->type == SG_T_REF ? "a" : an(k->type),
					 k->type == SG_T_ENUM || k->type == SG_T_REF ? "string" : type_names[k->type],
					 kind_name(v->kind));
			return;
		}
		check_scalar(l, v, k, where);
	}
}

static const struct sg_pnode *mget(const struct sg_pnode *n, const char *key)
{
	return sg_pnode_get(n, key);
}

static const char *mtext(const struct sg_pnode *n, const char *key)
{
	const struct sg_pnode *v = mget(n, key);
	return v && v->text ? v->text : NULL;
}

/* A model entry: what each backend needs, and no key in the policy (only
 * the name of the environment variable holding it). */
static void model_checks(struct sg_loader *l, struct sg_pnode *n, const char *where)
{
	const char *backend = mtext(n, "backend"), *env = mtext(n, "api_key_env");
	const char *url = mtext(n, "endpoint"), *dep = mtext(n, "azure_deployment");
	if (!backend)
		return;
	const struct sg_pnode *envn = mget(n, "api_key_env");
	if (env && (!*env || strspn(env, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != strlen(env) ||
		    (*env >= '0' && *env <= '9') || strlen(env) > 128))
		sg_pdiag(l, SG_DIAG_ERROR, envn,
			 "'%s.api_key_env': expected the name of an environment variable (letters, digits, '_'), not a key: the key itself never goes in the policy",
			 where);
	if (!strcmp(backend, "builtin")) {
		static const char *const remote[] = {"endpoint", "api_key_env", "azure_deployment", "azure_api_version"};
		for (size_t i = 0; i < sizeof remote / sizeof remote[0]; i++)
			if (mget(n, remote[i]))
				sg_pdiag(l, SG_DIAG_ERROR, mget(n, remote[i]),
					 "'%s.%s': the builtin backend calls no server", where, remote[i]);
		return;
	}
	const struct sg_pnode *urln = mget(n, "endpoint");
	if (url && strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		sg_pdiag(l, SG_DIAG_ERROR, urln, "'%s.endpoint': expected an http:// or https:// URL, found '%s'",
			 where, url);
	if (!url && !strcmp(backend, "openai"))
		sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': an openai model needs 'endpoint'", where);
	if (!mget(n, "model") && !(dep && !strcmp(backend, "openai")))
		sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': an %s model needs 'model'%s", where, backend,
			 strcmp(backend, "openai") ? "" : " (or 'azure_deployment')");
	if (!env && (!strcmp(backend, "anthropic") || dep))
		sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': %s needs 'api_key_env' (the environment variable holding the key)",
			 where, dep ? "an Azure deployment" : "an anthropic model");
	if (dep && strcmp(backend, "openai"))
		sg_pdiag(l, SG_DIAG_ERROR, mget(n, "azure_deployment"),
			 "'%s.azure_deployment': only the openai backend has Azure deployments", where);
	if (dep && !mget(n, "azure_api_version"))
		sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': an Azure deployment needs 'azure_api_version'", where);
}

/* Rules across keys that a row cannot say. */
static void cross_checks(struct sg_loader *l, struct sg_pnode *n, const char *in,
			 const char *where)
{
	if (!strcmp(in, "step")) {
		int kinds = !!mget(n, "lookup") + !!mget(n, "if") + !!mget(n, "action");
		if (kinds != 1) {
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': a step needs exactly one of 'lookup', 'if' or 'action'",
				 where);
			return;
		}
		if (mget(n, "on_error") && !mget(n, "lookup"))
			sg_pdiag(l, SG_DIAG_ERROR, mget(n, "on_error"),
				 "'%s.on_error': only lookup steps take on_error", where);
		static const struct { const char *kind, *val, *need; } needs[] = {
			{"lookup", NULL, "key"}, {"lookup", NULL, "as"}, {"if", NULL, "then"},
			{"action", "create_issue", "project"}, {"action", "create_issue", "summary"},
			{"action", "notify", "to"}, {"action", "notify", "within"},
			{"action", "assign", "queue"}, {"action", "reply", "template"},
			{"action", "set_field", "field"}, {"action", "set_field", "value"},
			{"action", "escalate", "to"},
		};
		for (size_t i = 0; i < sizeof needs / sizeof needs[0]; i++) {
			const struct sg_pnode *k = mget(n, needs[i].kind);
			if (!k || (needs[i].val && (!k->text || strcmp(k->text, needs[i].val))))
				continue;
			if (!mget(n, needs[i].need))
				sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': %s step%s%s needs '%s'", where,
					 needs[i].kind, needs[i].val ? " " : "",
					 needs[i].val ? needs[i].val : "", needs[i].need);
		}
	} else if (!strcmp(in, "connector") && mget(n, "lookups")) {
		const struct sg_pnode *type = mget(n, "type"), *lk = mget(n, "lookups");
		const char *t = type && type->text ? type->text : "";
		int sf = !strcmp(t, "salesforce");
		if (!sf && strcmp(t, "http"))
			sg_pdiag(l, SG_DIAG_ERROR, lk, "'%s.lookups': only salesforce and http connectors answer lookups", where);
		for (size_t i = 0; lk->kind == SG_PN_MAP && i < lk->n; i++) {
			const struct sg_pnode *e = lk->items[i];
			if (sf && !mget(e, "query"))
				sg_pdiag(l, SG_DIAG_ERROR, e, "'%s.lookups.%s': a salesforce lookup needs 'query'", where, lk->keys[i]);
			if (!sf && mget(e, "query"))
				sg_pdiag(l, SG_DIAG_ERROR, mget(e, "query"), "'%s.lookups.%s.query': only salesforce lookups take a query", where, lk->keys[i]);
			if (sf && (mget(e, "path") || mget(e, "record")))
				sg_pdiag(l, SG_DIAG_ERROR, e, "'%s.lookups.%s': 'path' and 'record' are for http lookups", where, lk->keys[i]);
		}
	} else if (!strcmp(in, "model")) {
		model_checks(l, n, where);
	} else if (!strcmp(in, "gate_rule") && !mget(n, "when") && !mget(n, "rule_sets")) {
		sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': a gate rule needs 'when' or 'rule_sets'", where);
	} else if (!strcmp(in, "never") && !mget(n, "when") && !mget(n, "intents")) {
		sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': a never rule needs 'when' or 'intents'", where);
	} else if (!strcmp(in, "gate_rule")) {
		const struct sg_pnode *g = mget(n, "gate");
		if (g && g->text && !strcmp(g->text, "senior_review") && !mget(n, "channel"))
			sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': a senior_review rule needs a 'channel'", where);
	} else if (!strcmp(in, "permission")) {
		const struct sg_pnode *g = mget(n, "grant");
		if (g && g->text) {
			const char *on = strstr(g->text, " on ");
			const char *colon = strchr(g->text, ':');
			if (!colon || !on || colon > on || colon == g->text || !on[4] ||
			    strchr(on + 4, ' ')) {
				sg_pdiag(l, SG_DIAG_ERROR, g,
					 "'%s.grant': expected 'resource:action on target' (e.g. 'tickets:respond on queue/tier-1'), found '%s'",
					 where, g->text);
			} else if (!strncmp(on + 4, "queue/", 6) && strcmp(on + 10, "*")) {
				/* a queue target must name a known queue */
				struct sg_pnode *q = sg_arena_calloc(l->a, 1, sizeof *q);
				if (q) {
					*q = *g;
					q->text = sg_arena_strdup(l->a, on + 10);
					q->col = g->col + (unsigned)(on + 10 - g->text) + (g->quoted == 1);
					if (q->text)
						add_ref(l, "queue", q);
				}
			}
		}
	}
}

void sg_schema_validate(struct sg_loader *l, struct sg_pnode *n, const char *in,
			const char *where, unsigned depth)
{
	char sub[300], keys[600];
	const char *label = *where ? where : "the top level";
	if (depth > SG_MAX_POLICY_DEPTH) {
		sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': nested too deeply", where);
		return;
	}
	if (n->kind != SG_PN_MAP) {
		sg_pdiag(l, SG_DIAG_ERROR, n, "'%s': expected a map, found %s", label,
			 kind_name(n->kind));
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct sg_schema_key *k = find_key(in, n->keys[i]);
		if (!k) {
			key_list(keys, sizeof keys, in);
			sg_pdiag(l, SG_DIAG_ERROR, n->key_nodes[i], "unknown key '%s' in %s%s%s (expected one of: %s)",
				 n->keys[i], *where ? "'" : "", label, *where ? "'" : "", keys);
			continue;
		}
		pathf(sub, sizeof sub, "%s%s%s", where, *where ? "." : "", n->keys[i]);
		validate_value(l, n->items[i], k, sub, depth);
	}
	for (size_t i = 0; i < sg_policy_schema_len; i++) {
		const struct sg_schema_key *k = &sg_policy_schema[i];
		if (strcmp(k->in, in) || !(k->flags & SG_SK_REQUIRED) || mget(n, k->key))
			continue;
		sg_pdiag(l, SG_DIAG_ERROR, n, "missing required key '%s' in %s%s%s", k->key,
			 *where ? "'" : "", label, *where ? "'" : "");
	}
	cross_checks(l, n, in, where);
}

void sg_policy_schema_markdown(struct sg_buf *out)
{
	const char *last = NULL;
	char vals[400];
	for (size_t i = 0; i < sg_policy_schema_len; i++) {
		const struct sg_schema_key *k = &sg_policy_schema[i];
		if (!last || strcmp(last, k->in)) {
			sg_buf_addf(out, "\n#### `%s`\n\n| key | type | required | meaning |\n|---|---|---|---|\n",
				    *k->in ? k->in : "(top level)");
			last = k->in;
		}
		sg_buf_addf(out, "| `%s` | ", k->key);
		switch (k->type) {
		case SG_T_ENUM: case SG_T_ENUMLIST:
			enum_list(vals, sizeof vals, k->sub);
			sg_buf_addf(out, "%s %s", type_names[k->type], vals);
			break;
		case SG_T_REF: case SG_T_REFLIST:
			sg_buf_addf(out, "%s %s", type_names[k->type], k->sub);
			break;
		case SG_T_MAP: case SG_T_DICT: case SG_T_LIST:
			sg_buf_addf(out, "%s (`%s`)", type_names[k->type], k->sub);
			break;
		default:
			sg_buf_adds(out, type_names[k->type]);
		}
		sg_buf_addf(out, " | %s | %s |\n", k->flags & SG_SK_REQUIRED ? "yes" : "no", k->doc);
	}
}
