/*
 * model_test.c - decisions whose draft and summary come from a model the
 * policy names, against the fake model server (draft/fake_model_test.h):
 * openai-, Azure- and anthropic-shaped drafts reach the output scan, the
 * knowledge-gap check and the gate; a backend that is down or hangs gives
 * summarize-only with the reason; no original PII value of the ticket ever
 * reaches the server; token and session budgets run out; a model the
 * policy does not approve for a task is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "decide/engine.h"
#include "kb/kb.h"
#include "policy/policy.h"
#include "draft/fake_model_test.h"

static char tmpdir[256], kbdb[400], prompts[PATH_MAX];
static int more_prompts; /* the tagger and gap detector on the model too */

/* Lines the engine logged (budgets, fallbacks). */
static struct sg_buf logged;
static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	sg_buf_addf(&logged, "%s\n", line);
}

struct fx {
	struct sg_policy *policy;
	struct sg_engine *engine;
	struct sg_decide_run *run;
	struct sg_ticket t;
	struct sg_arena arena;
	struct sg_decision d;
	struct sg_buf json;
};

static const char policy_head[] =
	"name: models\n"
	"queues:\n"
	"  tier-1: {description: first line}\n"
	"  triage: {description: triage}\n"
	"classifier: {model: builtin, min_confidence: 0.70, triage_queue: triage}\n"
	"intents:\n"
	"  track_order: {tier: low, auto_send: true, queue: tier-1}\n"
	"  password_reset: {tier: low, auto_send: true, queue: tier-1}\n"
	"bands:\n"
	"  high: {intent: 0.80, sentiment: 0.70}\n"
	"  medium: {intent: 0.60, negative_sentiment: 0.70}\n"
	"  summarize_only_below: 0.60\n"
	"gates:\n"
	"  auto_send: {min_confidence: 0.85, plans: [free, starter], require_preapproved: true, require_no_triggers: true}\n"
	"  default: agent_review\n"
	"  by_tier: {low: agent_review, medium: agent_edit, high: two_step}\n";

/* Writes the policy for the fake server of flavor f; extra is appended. */
static void write_policy(char *path, size_t size, enum flavor f, unsigned retries, const char *extra)
{
	struct sg_buf b = SG_BUF_INIT;
	sg_buf_adds(&b, policy_head);
	sg_buf_addf(&b,
		    "models:\n"
		    "  builtin: {backend: builtin, tasks: [draft, summarize, tag, knowledge_gap]}\n"
		    "  remote:\n"
		    "    backend: %s\n"
		    "    endpoint: http://127.0.0.1:%u%s\n"
		    "    api_key_env: SG_TEST_MODEL_KEY\n"
		    "    timeout: 0.3s\n"
		    "    max_retries: %u\n"
		    "    tasks: [draft, summarize, tag, knowledge_gap]\n"
		    "    pii: masked_only\n",
		    f == ANTHROPIC ? "anthropic" : "openai", fk.port, f == OPENAI ? "/v1" : "", retries);
	if (f == AZURE)
		sg_buf_adds(&b, "    azure_deployment: support-gpt\n    azure_api_version: \"2024-10-21\"\n");
	else
		sg_buf_adds(&b, "    model: local-model\n");
	sg_buf_addf(&b,
		    "prompts:\n"
		    "  reply_drafter: {file: %s/reply_drafter.v1.txt, version: \"1\", task: draft, model: remote}\n"
		    "  summarizer: {file: %s/summarizer.v1.txt, version: \"1\", task: summarize, model: remote}\n",
		    prompts, prompts);
	if (more_prompts)
		sg_buf_addf(&b,
			    "  tagger: {file: %s/sentiment_risk_tagger.v1.txt, version: \"1\", task: tag, model: remote}\n"
			    "  gap: {file: %s/knowledge_gap_detector.v1.txt, version: \"1\", task: knowledge_gap, model: remote}\n",
			    prompts, prompts);
	if (extra)
		sg_buf_adds(&b, extra);
	snprintf(path, size, "%s/policy.yaml", tmpdir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fwrite(b.data, 1, b.len, fp);
	fclose(fp);
	sg_buf_release(&b);
}

static int group_setup(void **state)
{
	(void)state;
	const char *base = getenv("SG_TEST_TMP");
	snprintf(tmpdir, sizeof(tmpdir), "%s/modeltest.XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(tmpdir) || !realpath("prompts", prompts))
		return -1;
	snprintf(kbdb, sizeof(kbdb), "%s/kb.db", tmpdir);
	struct sg_kb *kb;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_kb_open(&kb, kbdb, &err) || sg_kb_index(kb, "examples/acme/kb", NULL, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	sg_kb_close(kb);
	setenv("SG_TEST_MODEL_KEY", "test-key", 1);
	sg_buf_init(&logged);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sg_buf_release(&logged);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Starts the fake and an engine on a policy naming it. */
static struct fx *open_fx(enum flavor f, enum mode m, unsigned retries, const char *extra)
{
	struct fx *x = calloc(1, sizeof(*x));
	char path[512];
	struct sg_diags diags;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(fake_start(f, m), 0);
	write_policy(path, sizeof(path), f, retries, extra);
	sg_diags_init(&diags);
	if (sg_policy_load(&x->policy, path, &diags, &err) < 0) {
		struct sg_buf b = SG_BUF_INIT;
		sg_diags_format(&diags, &b, 0);
		fail_msg("policy: %s %s", b.data ? b.data : "", err.msg);
	}
	sg_diags_release(&diags);
	struct sg_engine_options o = SG_ENGINE_OPTIONS_INIT;
	o.no_classifier = 1;
	o.kb_db = kbdb;
	o.log = log_line;
	if (sg_engine_new(&x->engine, x->policy, &o, &err) < 0 ||
	    sg_decide_run_new(&x->run, x->engine, &err) < 0)
		fail_msg("engine: %s", err.msg);
	sg_buf_init(&x->json);
	sg_arena_init(&x->arena, 0);
	logged.len = 0;
	if (logged.data)
		logged.data[0] = 0;
	return x;
}

static void close_fx(struct fx *x)
{
	sg_ticket_release(&x->t);
	sg_arena_release(&x->arena);
	sg_buf_release(&x->json);
	sg_decide_run_free(x->run);
	sg_engine_free(x->engine);
	sg_policy_free(x->policy);
	free(x);
	fake_stop();
}

#define SURE "{\"intent\":\"track_order\",\"intent_confidence\":0.95,\"sentiment\":\"neutral\",\"sentiment_confidence\":0.9}"
#define UNSURE "{\"intent\":\"track_order\",\"intent_confidence\":0.65,\"sentiment\":\"neutral\",\"sentiment_confidence\":0.5}"

static struct sg_decision *decide(struct fx *x, const char *ticket, const char *given)
{
	struct sg_error err = SG_ERROR_INIT;
	json_t *g = NULL;
	sg_ticket_release(&x->t);
	sg_arena_reset(&x->arena);
	if (sg_ticket_parse(&x->t, ticket, strlen(ticket), &x->arena, &err) < 0)
		fail_msg("ticket: %s", err.msg);
	if (given)
		assert_int_equal(sg_json_parse(&g, given, strlen(given), &err), 0);
	if (sg_decide(&x->d, x->run, &x->t, g, &err) < 0)
		fail_msg("decide: %s", err.msg);
	if (g)
		json_decref(g);
	sg_buf_reset(&x->json);
	sg_decision_to_json(&x->d, &x->json);
	return &x->d;
}

static int has_reason(const struct sg_decision *d, const char *rule, const char *needle)
{
	for (size_t i = 0; i < d->nreasons; i++)
		if (!strcmp(d->reasons[i].rule, rule) &&
		    (!needle || (d->reasons[i].detail && strstr(d->reasons[i].detail, needle))))
			return 1;
	return 0;
}

static int has_type(const struct sg_decision *d, const char *type)
{
	for (size_t i = 0; i < d->nguardrail_types; i++)
		if (!strcmp(d->guardrail_types[i], type))
			return 1;
	return 0;
}

static const char grounded[] =
	"Hi {{first_name}},\n\nTo see where your order is, open Orders in your account and select the order. "
	"Most orders ship within 1 business day.\n\nNext step: reply to this message if anything is still unclear.\n\n"
	"Best regards,\nAcme Support";

static const char invented[] =
	"Hi {{first_name}},\n\nYour parcel will arrive on Friday and we will refund $40 for the delay.\n\n"
	"Next step: reply to this message if anything is still unclear.\n\nBest regards,\nAcme Support";

#define ORDER_TICKET "{\"id\":\"%s\",\"body\":\"Where is my order? It still says processing.\"," \
		     "\"customer\":{\"name\":\"Jane Smith\",\"tier\":\"free\"}}"

static void test_openai_draft_reaches_gate(void **state)
{
	(void)state;
	struct fx *x = open_fx(OPENAI, OK, 0, NULL);
	fk.reply = grounded;
	char t[300];
	snprintf(t, sizeof(t), ORDER_TICKET, "M-1");
	struct sg_decision *d = decide(x, t, SURE);
	assert_int_equal(fk.requests, 1);
	if (fk.shape_errors)
		fail_msg("request shape: %s", fk.shape_msg);
	assert_string_equal(d->ai_mode, "draft_reply");
	assert_string_equal(d->model_name, "local-model");
	assert_string_equal(d->prompt_template_version, "reply_drafter@1");
	assert_non_null(d->draft_text);
	assert_non_null(strstr(d->draft_text, "open Orders in your account"));
	assert_true(d->ndraft_sources >= 1);
	assert_string_equal(d->draft_sources[0], "kb:orders/order-status");
	/* grounded, nothing triggered, pre-approved, free plan: the gate lets it go */
	assert_false(has_type(d, "unsupported_claim"));
	assert_string_equal(d->gate, "auto_send");
	/* the SOURCES block and the reply-drafter prompt went out */
	assert_non_null(strstr(fk.received.data, "kb:orders/order-status"));
	assert_non_null(strstr(fk.received.data, "Use only facts from the SOURCES block"));
	close_fx(x);
}

static void test_anthropic_invented_facts_gated(void **state)
{
	(void)state;
	struct fx *x = open_fx(ANTHROPIC, OK, 0, NULL);
	fk.reply = invented;
	char t[300];
	snprintf(t, sizeof(t), ORDER_TICKET, "M-2");
	struct sg_decision *d = decide(x, t, SURE);
	assert_int_equal(fk.requests, 1);
	if (fk.shape_errors)
		fail_msg("request shape: %s", fk.shape_msg);
	assert_string_equal(d->ai_mode, "draft_reply");
	assert_string_equal(d->model_name, "local-model");
	/* the output scan and the knowledge-gap check saw the model's draft */
	assert_true(has_type(d, "unsupported_claim"));
	assert_true(has_reason(d, "draft.knowledge_gap", NULL));
	assert_string_not_equal(d->gate, "auto_send");
	assert_false(d->ai_draft_sent);
	close_fx(x);
}

static void test_azure_escalate_answer(void **state)
{
	(void)state;
	struct fx *x = open_fx(AZURE, OK, 0, NULL);
	fk.reply = "ESCALATE: insufficient context";
	char t[300];
	snprintf(t, sizeof(t), ORDER_TICKET, "M-3");
	struct sg_decision *d = decide(x, t, SURE);
	if (fk.shape_errors)
		fail_msg("request shape: %s", fk.shape_msg);
	assert_int_equal(fk.requests, 1);
	/* Azure: no model id, the deployment is the model name */
	assert_string_equal(d->model_name, "support-gpt");
	assert_string_equal(d->draft_text, "ESCALATE: insufficient context");
	assert_true(has_reason(d, "draft.escalate", NULL));
	assert_string_not_equal(d->gate, "auto_send");
	close_fx(x);
}

static void test_backend_down_summarize_only(void **state)
{
	(void)state;
	struct {
		enum flavor f;
		enum mode m;
		unsigned retries;
		int requests; /* draft attempts + summary attempts */
		const char *needle;
	} cases[] = {
		{OPENAI, SERVER_ERROR, 1, 4, "HTTP 503: Loading model (after 2 attempts)"},
		{ANTHROPIC, SERVER_ERROR, 0, 2, "HTTP 529: Overloaded"},
		{OPENAI, HANG, 0, 2, "no answer within 300 ms"},
		{ANTHROPIC, MALFORMED, 0, 2, "malformed response"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct fx *x = open_fx(cases[i].f, cases[i].m, cases[i].retries, NULL);
		char t[300];
		snprintf(t, sizeof(t), ORDER_TICKET, "M-4");
		struct sg_decision *d = decide(x, t, SURE);
		assert_string_equal(d->ai_mode, "summarize_only");
		assert_null(d->draft_text);
		if (!has_reason(d, "draft.backend", cases[i].needle))
			fail_msg("case %zu: no draft.backend reason with '%s' in %s", i, cases[i].needle,
				 x->json.data);
		assert_true(has_reason(d, "draft.backend", "summarize only"));
		/* the summarizer model is down too: the built-in summary is used */
		assert_true(has_reason(d, "summarize.backend", "built-in summary instead"));
		assert_non_null(d->summary);
		assert_non_null(strstr(d->summary, "Customer issue:"));
		assert_string_equal(d->model_name, "builtin");
		assert_string_equal(d->prompt_template_version, "builtin.v1");
		assert_string_not_equal(d->gate, "auto_send");
		assert_non_null(strstr(logged.data, "summarize only"));
		close_fx(x);
		assert_int_equal(fk.requests, cases[i].requests);
	}
}

static void test_model_summary(void **state)
{
	(void)state;
	struct fx *x = open_fx(OPENAI, OK, 0, NULL);
	fk.summary_reply = "Customer issue: The customer at [EMAIL_1] asks where the order is.\n\n"
			   "Actions taken:\n- none\n\nOutstanding questions:\n- When will it ship?";
	struct sg_decision *d = decide(x, "{\"id\":\"M-5\",\"body\":\"Where is my order? Write to jane@example.com\","
				       "\"customer\":{\"name\":\"Jane Smith\"}}", UNSURE);
	assert_string_equal(d->ai_mode, "summarize_only");
	assert_int_equal(fk.requests, 1);
	assert_non_null(d->summary);
	assert_non_null(strstr(d->summary, "The customer at [PII] asks"));
	assert_string_equal(d->model_name, "local-model");
	assert_string_equal(d->prompt_template_version, "summarizer@1");
	assert_non_null(strstr(fk.received.data, "Summarize this ticket thread"));
	assert_null(strstr(fk.received.data, "jane@example.com"));
	/* an answer without the three sections is not used */
	fk.summary_reply = "Sure, here is a summary.";
	d = decide(x, "{\"id\":\"M-6\",\"body\":\"Where is my order?\"}", UNSURE);
	assert_true(has_reason(d, "summarize.backend", "lacks the three sections"));
	assert_non_null(strstr(d->summary, "Customer issue:"));
	assert_string_equal(d->model_name, "builtin");
	close_fx(x);
}

static void test_pii_never_reaches_model(void **state)
{
	(void)state;
	const char *pii[] = {
		"jane.smith@example.com", "+1 415 555 0199", "415 555 0199", "4111 1111 1111 1111",
		"4111111111111111", "1111 1111", "512-48-3391", "512483391", "Jane Smith", "Smith",
		"Jane", "DE89 3704 0044 0532 0130 00", "192.168.14.77", "MRN-88231",
	};
	const char *ticket =
		"{\"id\":\"M-7\",\"subject\":\"Order for Jane Smith\","
		"\"body\":\"Hi, I'm Jane Smith. Where is my order? It still says processing. My email is "
		"jane.smith@example.com and my phone +1 415 555 0199. Card 4111 1111 1111 1111, "
		"SSN 512-48-3391, IBAN DE89 3704 0044 0532 0130 00, from IP 192.168.14.77.\","
		"\"history\":[{\"role\":\"customer\",\"text\":\"I am Jane Smith, card 4111111111111111, call +1 415 555 0199\"},"
		"{\"role\":\"agent\",\"text\":\"Thanks Jane, we are checking.\"}],"
		"\"customer\":{\"id\":\"C-9\",\"name\":\"Jane Smith\",\"email\":\"jane.smith@example.com\","
		"\"phone\":\"+1 415 555 0199\",\"tier\":\"free\"}}";
	enum flavor fl[] = {OPENAI, AZURE, ANTHROPIC};
	more_prompts = 1; /* every task calls the model */
	for (size_t i = 0; i < 3; i++) {
		struct fx *x = open_fx(fl[i], OK, 0, NULL);
		fk.reply = grounded;
		fk.summary_reply = "Customer issue: order status.\n\nActions taken:\n- none\n\nOutstanding questions:\n- none";
		fk.tag_reply = "{\"frustration\": 2, \"churn_risk\": 1, \"escalation_likelihood\": 1}";
		fk.gap_reply = "OK";
		/* one drafted ticket and one summarize-only ticket: both tasks call the model */
		struct sg_decision *d = decide(x, ticket, SURE);
		assert_string_equal(d->ai_mode, "draft_reply");
		d = decide(x, ticket, UNSURE);
		assert_string_equal(d->ai_mode, "summarize_only");
		assert_string_equal(d->model_name, fl[i] == AZURE ? "support-gpt" : "local-model");
		/* tagger + draft + gap check, then tagger + summary */
		assert_int_equal(fk.requests, 5);
		assert_int_equal(fk.shape_errors, 0);
		assert_true(has_reason(d, "tag.model", "from model"));
		/* the server's record holds the requests; none carries a PII value */
		assert_non_null(strstr(fk.received.data, "CUSTOMER MESSAGE"));
		for (size_t k = 0; k < sizeof(pii) / sizeof(*pii); k++)
			if (strstr(fk.received.data, pii[k]))
				fail_msg("flavor %zu: PII value '%s' reached the model server", i, pii[k]);
		/* and the masked placeholders did */
		assert_non_null(strstr(fk.received.data, "[EMAIL_1]"));
		assert_non_null(strstr(fk.received.data, "Compare the agent's reply"));
		close_fx(x);
	}
	more_prompts = 0;
}

static void test_tagger_and_gap_models(void **state)
{
	(void)state;
	more_prompts = 1;
	struct fx *x = open_fx(OPENAI, OK, 0, NULL);
	more_prompts = 0;
	fk.reply = grounded;
	fk.tag_reply = "{\"frustration\": 9, \"churn_risk\": 4, \"escalation_likelihood\": 7}";
	fk.gap_reply = "OK";
	char t[300];
	snprintf(t, sizeof(t), ORDER_TICKET, "M-20");
	struct sg_decision *d = decide(x, t, SURE);
	assert_int_equal(fk.requests, 3); /* tagger, drafter, gap detector */
	assert_int_equal(d->frustration, 9);
	assert_int_equal(d->churn_risk, 4);
	assert_int_equal(d->escalation_likelihood, 7);
	assert_true(has_reason(d, "tag.model", "frustration 9, churn_risk 4, escalation_likelihood 7 from model 'local-model' (tagger@1)"));
	assert_false(has_type(d, "unsupported_claim"));
	assert_string_equal(d->gate, "auto_send");
	/* the gap detector asks for JSON-free text; the tagger for a JSON object */
	assert_non_null(strstr(fk.received.data, "\"response_format\":{\"type\":\"json_object\"}"));
	assert_non_null(strstr(fk.received.data, "REPLY:"));
	/* the detector lists a claim: review */
	fk.gap_reply = "\"Most orders ship within 1 business day\" is not in the sources";
	snprintf(t, sizeof(t), ORDER_TICKET, "M-21");
	d = decide(x, t, SURE);
	assert_true(has_type(d, "unsupported_claim"));
	assert_true(has_reason(d, "draft.knowledge_gap", "model 'local-model' lists claims no cited article supports"));
	assert_string_not_equal(d->gate, "auto_send");
	/* a tagger answer that is not the strict JSON keeps the classifier's signals */
	fk.tag_reply = "{\"frustration\": \"high\"}";
	fk.gap_reply = "OK";
	snprintf(t, sizeof(t), ORDER_TICKET, "M-22");
	d = decide(x, t, SURE);
	assert_true(has_reason(d, "tag.backend", "classifier signals kept: field 'frustration': expected an integer from 0 to 10"));
	assert_int_equal(d->frustration, 0);
	close_fx(x);
}

static void test_token_budget_exhausted(void **state)
{
	(void)state;
	/* 44 + 8 = 52 tokens per call (the fake's usage), 50 per session */
	struct fx *x = open_fx(OPENAI, OK, 0, "budgets: {max_tokens_per_session: 50, on_exceeded: summarize_only}\n");
	fk.reply = grounded;
	char t[300];
	snprintf(t, sizeof(t), ORDER_TICKET, "M-8");
	struct sg_decision *d = decide(x, t, SURE);
	assert_string_equal(d->ai_mode, "draft_reply");
	assert_int_equal(fk.requests, 1);
	/* the same ticket again: its session has used 52 of 50 tokens */
	d = decide(x, t, SURE);
	assert_int_equal(fk.requests, 1);
	assert_string_equal(d->ai_mode, "summarize_only");
	assert_null(d->draft_text);
	if (!has_reason(d, "budgets.max_tokens_per_session", "token budget exhausted (52 of 50 tokens used in session 'M-8')"))
		fail_msg("no budget reason: %s", x->json.data);
	assert_string_not_equal(d->gate, "auto_send");
	assert_non_null(strstr(logged.data, "ticket M-8: budgets.max_tokens_per_session: budget: token budget exhausted"));
	/* no more model calls for that session, not even the summary */
	assert_string_equal(d->model_name, "builtin");
	assert_non_null(d->summary);
	/* another ticket is another session */
	snprintf(t, sizeof(t), ORDER_TICKET, "M-9");
	d = decide(x, t, SURE);
	assert_string_equal(d->ai_mode, "draft_reply");
	assert_int_equal(fk.requests, 2);
	close_fx(x);
}

static void test_session_budget_exhausted(void **state)
{
	(void)state;
	struct fx *x = open_fx(ANTHROPIC, OK, 0, "budgets: {max_sessions_per_day: 1, on_exceeded: human_only}\n");
	fk.reply = grounded;
	char t[300];
	snprintf(t, sizeof(t), ORDER_TICKET, "M-10");
	struct sg_decision *d = decide(x, t, SURE);
	assert_string_equal(d->ai_mode, "draft_reply");
	assert_int_equal(fk.requests, 1);
	snprintf(t, sizeof(t), ORDER_TICKET, "M-11");
	d = decide(x, t, SURE);
	assert_int_equal(fk.requests, 1); /* no call once the day's sessions are used */
	assert_string_equal(d->ai_mode, "summarize_only");
	assert_string_equal(d->gate, "human_only");
	assert_true(has_reason(d, "budgets.max_sessions_per_day", "the budget is used up, human_only"));
	assert_non_null(strstr(logged.data, "ticket M-11: budgets.max_sessions_per_day"));
	close_fx(x);
}

static void test_unapproved_model_refused(void **state)
{
	(void)state;
	assert_int_equal(fake_start(OPENAI, OK), 0);
	char path[512];
	/* the draft prompt names a model approved for summarize only */
	write_policy(path, sizeof(path), OPENAI, 0, NULL);
	char *text;
	size_t len;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_read_file(path, &text, &len, &err), 0);
	char *at = strstr(text, "tasks: [draft, summarize, tag, knowledge_gap]\n    pii");
	assert_non_null(at);
	memcpy(at, "tasks: [summarize, tag, knowledge_gap]       ", 45);
	FILE *fp = fopen(path, "w");
	fwrite(text, 1, len, fp);
	fclose(fp);
	const char *line = strstr(text, "  reply_drafter:");
	assert_non_null(line);
	int col = (int)(strstr(line, "model: remote") - line) + 8;
	sg_free(text);
	struct sg_diags diags;
	struct sg_policy *p = NULL;
	sg_diags_init(&diags);
	assert_int_equal(sg_policy_load(&p, path, &diags, &err), -SG_EPOLICY);
	assert_null(p);
	struct sg_buf b = SG_BUF_INIT;
	sg_diags_format(&diags, &b, 0);
	/* file:line:col of the prompt's model (its column depends on where
	 * the checkout lives: the prompt paths precede it), and what is wrong */
	char where[64];
	snprintf(where, sizeof(where), "policy.yaml:29:%d: error: ", col);
	if (!strstr(b.data, where) ||
	    !strstr(b.data, "'prompts.reply_drafter.model': model 'remote' is not approved for task 'draft'"))
		fail_msg("diagnostics: %s", b.data);
	sg_buf_release(&b);
	sg_diags_release(&diags);
	/* at call time: the engine refuses a model missing its key rather
	 * than calling without one */
	write_policy(path, sizeof(path), ANTHROPIC, 0, NULL);
	sg_diags_init(&diags);
	assert_int_equal(sg_policy_load(&p, path, &diags, &err), 0);
	sg_diags_release(&diags);
	unsetenv("SG_TEST_MODEL_KEY");
	struct sg_engine *e = NULL;
	struct sg_engine_options o = SG_ENGINE_OPTIONS_INIT;
	o.no_classifier = 1;
	struct sg_error e2 = SG_ERROR_INIT;
	assert_int_equal(sg_engine_new(&e, p, &o, &e2), -SG_EINVALID);
	assert_non_null(strstr(e2.msg, "model 'remote' for task 'draft'"));
	assert_non_null(strstr(e2.msg, "'SG_TEST_MODEL_KEY'"));
	setenv("SG_TEST_MODEL_KEY", "test-key", 1);
	sg_policy_free(p);
	assert_int_equal(fk.requests, 0);
	fake_stop();
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openai_draft_reaches_gate),
		cmocka_unit_test(test_anthropic_invented_facts_gated),
		cmocka_unit_test(test_azure_escalate_answer),
		cmocka_unit_test(test_backend_down_summarize_only),
		cmocka_unit_test(test_model_summary),
		cmocka_unit_test(test_pii_never_reaches_model),
		cmocka_unit_test(test_tagger_and_gap_models),
		cmocka_unit_test(test_token_budget_exhausted),
		cmocka_unit_test(test_session_budget_exhausted),
		cmocka_unit_test(test_unapproved_model_refused),
	};
	return cmocka_run_group_tests_name("models", tests, group_setup, group_teardown);
}
