/*
 * engine_test.c - the decision pipeline on a small policy: auto-send only
 * when every condition holds, triage below the classifier minimum, the
 * never list, the escalation matrix, SOP lookups and branches, the kill
 * switch, the loop trigger, and no raw PII in the decision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/json.h"
#include "decide/engine.h"
#include "kb/kb.h"
#include "policy/policy.h"

static const char policy_text[] =
	"name: mini\n"
	"queues:\n"
	"  tier-1: {description: first line}\n"
	"  triage: {description: triage}\n"
	"  billing: {description: billing}\n"
	"  claims: {description: claims}\n"
	"channels:\n"
	"  slack-refunds: {kind: slack, target: \"#refunds\"}\n"
	"  slack-csm: {kind: slack, target: \"#csm\"}\n"
	"owners:\n"
	"  support-lead: {role: Support Lead, channel: slack-refunds}\n"
	"  csm: {role: CSM, channel: slack-csm}\n"
	"classifier:\n"
	"  model: builtin\n"
	"  min_confidence: 0.70\n"
	"  triage_queue: triage\n"
	"intents:\n"
	"  track_order: {tier: low, auto_send: true, queue: tier-1}\n"
	"  get_refund: {tier: high, queue: billing}\n"
	"risk:\n"
	"  - name: threats\n"
	"    when: any(scan.input.types, [\"LEGAL_THREAT\"])\n"
	"    tier: high\n"
	"bands:\n"
	"  high: {intent: 0.80, sentiment: 0.70}\n"
	"  medium: {intent: 0.60, negative_sentiment: 0.70}\n"
	"  summarize_only_below: 0.60\n"
	"gates:\n"
	"  auto_send: {min_confidence: 0.85, plans: [free, starter], require_preapproved: true, require_no_triggers: true}\n"
	"  default: agent_review\n"
	"  by_tier: {low: agent_review, medium: agent_edit, high: two_step}\n"
	"never:\n"
	"  - name: refund-over-50\n"
	"    when: facts.refund_amount > $50\n"
	"    gate: agent_review\n"
	"    block: [send]\n"
	"escalations:\n"
	"  - name: refund-over-500\n"
	"    when: facts.refund_amount > $500\n"
	"    owner: support-lead\n"
	"    sla: 1h\n"
	"    channel: slack-refunds\n"
	"    queue: billing\n"
	"    reason: refund_policy_exception\n"
	"  - name: loop\n"
	"    when: history.same_intent_ai_turns >= 2 or history.rejected_drafts >= 2\n"
	"    owner: support-lead\n"
	"    sla: 1h\n"
	"    channel: slack-refunds\n"
	"    reason: loop_detected\n"
	"sops:\n"
	"  claim:\n"
	"    trigger: facts.claim_value > 0\n"
	"    steps:\n"
	"      - name: load-account\n"
	"        lookup: crm.account\n"
	"        key: customer.id\n"
	"        as: account\n"
	"      - name: big\n"
	"        if: account.tier == \"enterprise\" and facts.claim_value > $5,000\n"
	"        then:\n"
	"          - {name: to-claims, action: assign, queue: claims}\n"
	"        else:\n"
	"          - {name: ack, action: reply, template: ack}\n"
	"kill_switch: {enabled: false}\n";

struct fixture {
	char dir[256];
	struct sg_policy *policy;
	struct sg_engine *engine;
	struct sg_decide_run *run;
	struct sg_arena arena;
	struct sg_ticket t;
	struct sg_decision d;
	struct sg_buf json;
};

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup_with(void **state, const char *extra)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[512];
	struct sg_diags diags;
	struct sg_error err = SG_ERROR_INIT;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sg-engine-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/records", f->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/records/accounts", f->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/records/accounts/C-9.json", f->dir);
	write_file(path, "{\"id\":\"C-9\",\"tier\":\"enterprise\"}");
	snprintf(path, sizeof(path), "%s/policy.yaml", f->dir);
	struct sg_buf b = SG_BUF_INIT;
	sg_buf_adds(&b, policy_text);
	if (extra) {
		/* replace the kill switch line */
		char *ks = strstr(b.data, "kill_switch:");
		assert_non_null(ks);
		b.len = (size_t)(ks - b.data);
		b.data[b.len] = '\0';
		sg_buf_adds(&b, extra);
	}
	write_file(path, b.data);
	sg_buf_release(&b);
	sg_diags_init(&diags);
	assert_int_equal(sg_policy_load(&f->policy, path, &diags, &err), 0);
	sg_diags_release(&diags);
	struct sg_engine_options o = SG_ENGINE_OPTIONS_INIT;
	o.no_classifier = 1;
	o.data_dir = f->dir;
	assert_int_equal(sg_engine_new(&f->engine, f->policy, &o, &err), 0);
	assert_int_equal(sg_decide_run_new(&f->run, f->engine, &err), 0);
	sg_arena_init(&f->arena, 0);
	sg_buf_init(&f->json);
	*state = f;
	return 0;
}

static int setup(void **state) { return setup_with(state, NULL); }
static int setup_kill(void **state)
{
	return setup_with(state, "kill_switch: {enabled: true, reason: incident}\n");
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[300];
	sg_ticket_release(&f->t);
	sg_decide_run_free(f->run);
	sg_engine_free(f->engine);
	sg_policy_free(f->policy);
	sg_arena_release(&f->arena);
	sg_buf_release(&f->json);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Decides `event` with pinned classifier outputs `given`. */
static struct sg_decision *decide(struct fixture *f, const char *event, const char *given)
{
	struct sg_error err = SG_ERROR_INIT;
	json_t *g = NULL;
	sg_ticket_release(&f->t);
	sg_arena_reset(&f->arena);
	assert_int_equal(sg_ticket_parse(&f->t, event, strlen(event), &f->arena, &err), 0);
	if (given)
		assert_int_equal(sg_json_parse(&g, given, strlen(given), &err), 0);
	int rc = sg_decide(&f->d, f->run, &f->t, g, &err);
	if (rc)
		fprintf(stderr, "decide: %s\n", err.msg);
	assert_int_equal(rc, 0);
	if (g)
		json_decref(g);
	sg_buf_reset(&f->json);
	sg_decision_to_json(&f->d, &f->json);
	return &f->d;
}

static int has_reason(const struct sg_decision *d, const char *rule)
{
	for (size_t i = 0; i < d->nreasons; i++)
		if (!strcmp(d->reasons[i].rule, rule))
			return 1;
	return 0;
}

#define SURE "{\"intent\":\"track_order\",\"intent_confidence\":0.93,\"sentiment\":\"neutral\",\"sentiment_confidence\":0.9}"

static void test_auto_send_needs_every_condition(void **state)
{
	struct fixture *f = *state;
	struct sg_decision *d = decide(f, "{\"id\":\"T1\",\"body\":\"where is my order\","
				       "\"customer\":{\"id\":\"C-1\",\"tier\":\"free\"},"
				       "\"draft\":{\"text\":\"Your order ships today.\"}}", SURE);
	assert_string_equal(d->gate, "auto_send");
	assert_string_equal(d->confidence_band, "high");
	assert_false(d->approval_required);
	assert_true(d->ai_draft_sent);
	assert_true(has_reason(d, "gates.auto_send"));
	/* a paid plan is not on the auto-send list */
	d = decide(f, "{\"id\":\"T2\",\"body\":\"where is my order\",\"customer\":{\"tier\":\"paid\"}}", SURE);
	assert_string_equal(d->gate, "agent_review");
	/* confidence at the threshold is not above it */
	d = decide(f, "{\"id\":\"T3\",\"body\":\"where is my order\",\"customer\":{\"tier\":\"free\"}}",
		   "{\"intent\":\"track_order\",\"intent_confidence\":0.85,\"sentiment_confidence\":0.9}");
	assert_string_equal(d->gate, "agent_review");
	/* a risk finding blocks auto-send */
	d = decide(f, "{\"id\":\"T4\",\"body\":\"where is my order, or my lawyer will sue you\","
		   "\"customer\":{\"tier\":\"free\"}}", SURE);
	assert_string_equal(d->risk_tier, "high");
	assert_string_equal(d->gate, "two_step");
	assert_string_equal(d->ai_mode, "summarize_only");
	assert_true(has_reason(d, "threats"));
}

static void test_triage_below_minimum(void **state)
{
	struct fixture *f = *state;
	struct sg_decision *d = decide(f, "{\"id\":\"T5\",\"body\":\"hm\",\"customer\":{\"tier\":\"free\"}}",
				       "{\"intent\":\"track_order\",\"intent_confidence\":0.55,\"sentiment_confidence\":0.9}");
	assert_string_equal(d->gate, "human_only");
	assert_string_equal(d->routed_queue, "triage");
	assert_string_equal(d->ai_mode, "summarize_only");
	assert_true(has_reason(d, "classifier-min-confidence"));
	/* summarize-only: the human gets a summary, PII shown as [PII] */
	d = decide(f, "{\"id\":\"T5b\",\"body\":\"Please write to jane.doe@example.com about it?\"}",
		   "{\"intent\":\"track_order\",\"intent_confidence\":0.55,\"sentiment_confidence\":0.9}");
	assert_non_null(d->summary);
	assert_non_null(strstr(d->summary, "Customer issue:"));
	assert_non_null(strstr(d->summary, "[PII]"));
	assert_null(strstr(d->summary, "jane.doe"));
}

static void test_never_and_escalation(void **state)
{
	struct fixture *f = *state;
	const char *g = "{\"intent\":\"track_order\",\"intent_confidence\":0.95,\"sentiment_confidence\":0.9}";
	struct sg_decision *d = decide(f, "{\"id\":\"T6\",\"body\":\"order\",\"customer\":{\"tier\":\"free\"},"
				       "\"facts\":{\"refund_amount\":80}}", g);
	assert_string_equal(d->gate, "agent_review"); /* never: not auto-send */
	assert_true(has_reason(d, "refund-over-50"));
	assert_false(d->escalated);
	d = decide(f, "{\"id\":\"T7\",\"body\":\"order\",\"customer\":{\"tier\":\"free\"},"
		   "\"facts\":{\"refund_amount\":750}}", g);
	assert_true(d->escalated);
	assert_string_equal(d->escalation.owner, "support-lead");
	assert_string_equal(d->escalation.channel, "slack-refunds");
	assert_int_equal(d->escalation.sla_minutes, 60);
	assert_string_equal(d->escalation_reason, "refund_policy_exception");
	assert_string_equal(d->routed_queue, "billing");
	assert_non_null(d->follow_up_due_at);
	/* the reason cites the values it saw */
	int cited = 0;
	for (size_t i = 0; i < d->nreasons; i++)
		if (!strcmp(d->reasons[i].rule, "refund-over-500"))
			cited = strstr(d->reasons[i].detail, "750") != NULL;
	assert_true(cited);
}

static void test_sop_lookup_and_branch(void **state)
{
	struct fixture *f = *state;
	const char *g = "{\"intent\":\"track_order\",\"intent_confidence\":0.9,\"sentiment_confidence\":0.9}";
	struct sg_decision *d = decide(f, "{\"id\":\"T8\",\"body\":\"claim\",\"customer\":{\"id\":\"C-9\"},"
				       "\"facts\":{\"claim_value\":7200}}", g);
	assert_int_equal(d->nsteps, 3);
	assert_string_equal(d->steps[0].name, "load-account");
	assert_string_equal(d->steps[0].status, "ok");
	assert_string_equal(d->steps[1].kind, "if");
	assert_non_null(strstr(d->steps[1].detail, "7200"));
	assert_string_equal(d->steps[2].name, "to-claims");
	assert_string_equal(d->routed_queue, "claims");
	json_t *acts = sg_decide_actions(f->run);
	assert_int_equal(json_array_size(acts), 1);
	json_decref(acts);
	/* below the threshold: the else branch */
	d = decide(f, "{\"id\":\"T9\",\"body\":\"claim\",\"customer\":{\"id\":\"C-9\"},"
		   "\"facts\":{\"claim_value\":300}}", g);
	assert_string_equal(d->steps[2].name, "ack");
	/* an unknown account: the lookup fails, a human must look, the rest goes on */
	d = decide(f, "{\"id\":\"T10\",\"body\":\"claim\",\"customer\":{\"id\":\"C-404\",\"tier\":\"free\"},"
		   "\"facts\":{\"claim_value\":300}}", SURE);
	assert_string_equal(d->steps[0].status, "error");
	assert_string_not_equal(d->gate, "auto_send");
	assert_true(has_reason(d, "sops.on_error"));
	/* a key that is not a file name is refused */
	d = decide(f, "{\"id\":\"T11\",\"body\":\"claim\",\"customer\":{\"id\":\"../../etc/passwd\"},"
		   "\"facts\":{\"claim_value\":300}}", g);
	assert_string_equal(d->steps[0].status, "error");
}

static void test_loop_counts(void **state)
{
	struct fixture *f = *state;
	/* two AI turns on the same intent: a loop */
	struct sg_decision *d = decide(
		f, "{\"id\":\"T12\",\"body\":\"still nothing\",\"history\":["
		   "{\"role\":\"ai\",\"text\":\"a\",\"intent\":\"track_order\"},"
		   "{\"role\":\"customer\",\"text\":\"b\"},"
		   "{\"role\":\"ai\",\"text\":\"c\",\"intent\":\"track_order\"}]}", SURE);
	assert_true(d->escalated);
	assert_string_equal(d->escalation_reason, "loop_detected");
	/* one AI turn on another intent, one rejected draft: no loop */
	d = decide(f, "{\"id\":\"T12b\",\"body\":\"still nothing\",\"history\":["
		   "{\"role\":\"ai\",\"text\":\"a\",\"intent\":\"get_refund\",\"rejected\":true}]}", SURE);
	assert_false(d->escalated);
	/* drafts rejected twice in a row, whatever the intent: a loop */
	d = decide(f, "{\"id\":\"T12c\",\"body\":\"still nothing\",\"history\":["
		   "{\"role\":\"ai\",\"text\":\"a\",\"intent\":\"get_refund\",\"rejected\":true},"
		   "{\"role\":\"ai\",\"text\":\"b\",\"rejected\":true}]}", SURE);
	assert_true(d->escalated);
}

static void test_no_raw_pii_in_decision(void **state)
{
	struct fixture *f = *state;
	struct sg_decision *d = decide(
		f, "{\"id\":\"T13\",\"body\":\"My card 4111 1111 1111 1111 and SSN 536-22-1234 were charged, "
		   "email jane.doe@example.com\",\"customer\":{\"tier\":\"free\"},"
		   "\"draft\":{\"text\":\"We see card 4111 1111 1111 1111 on file.\"}}", SURE);
	assert_null(strstr(f->json.data, "4111 1111 1111 1111"));
	assert_null(strstr(f->json.data, "536-22-1234"));
	assert_null(strstr(f->json.data, "jane.doe@example.com"));
	assert_null(strstr(d->masked_text, "4111"));
	assert_true(d->guardrail_triggered);
	assert_string_not_equal(d->gate, "auto_send"); /* PII echo in the draft */
}

/* The QA loop's pause keeps a category out of auto-send until cleared. */
static void test_qa_pause(void **state)
{
	struct fixture *f = *state;
	struct sg_error err = SG_ERROR_INIT;
	const char *ev = "{\"id\":\"T1\",\"body\":\"where is my order\","
			 "\"customer\":{\"id\":\"C-1\",\"tier\":\"free\"},"
			 "\"draft\":{\"text\":\"Your order ships today.\"}}";
	const char *paused[] = {"track_order"};
	assert_int_equal(sg_engine_qa_pause(f->engine, paused, 1, &err), 0);
	assert_true(sg_engine_qa_paused(f->engine, "track_order"));
	assert_false(sg_engine_qa_paused(f->engine, "refund_request"));
	struct sg_decision *d = decide(f, ev, SURE);
	assert_string_equal(d->gate, "agent_review");
	assert_true(d->approval_required);
	assert_false(d->ai_draft_sent);
	assert_true(has_reason(d, "qa.pause"));
	assert_false(has_reason(d, "gates.auto_send"));
	assert_int_equal(sg_engine_qa_pause(f->engine, NULL, 0, &err), 0);
	d = decide(f, ev, SURE);
	assert_string_equal(d->gate, "auto_send");
	assert_false(has_reason(d, "qa.pause"));
}

static void test_kill_switch(void **state)
{
	struct fixture *f = *state;
	struct sg_decision *d = decide(f, "{\"id\":\"T14\",\"body\":\"where is my order\","
				       "\"customer\":{\"tier\":\"free\"}}", SURE);
	assert_string_equal(d->ai_mode, "summarize_only");
	assert_string_equal(d->gate, "agent_review");
	assert_true(has_reason(d, "kill-switch"));
}

/* With a knowledge base the engine drafts: grounded, cited, masked; and
 * ESCALATE when no approved article answers. */
static void test_drafting_from_the_kb(void **state)
{
	struct fixture *f = *state;
	struct sg_error err = SG_ERROR_INIT;
	char db[300];
	struct sg_kb *kb = NULL;
	struct sg_kb_stats ks;
	snprintf(db, sizeof(db), "%s/kb.db", f->dir);
	assert_int_equal(sg_kb_open(&kb, db, &err), 0);
	assert_int_equal(sg_kb_index(kb, "examples/acme/kb", &ks, &err), 0);
	sg_kb_close(kb);
	struct sg_engine *e;
	struct sg_decide_run *run;
	struct sg_engine_options o = SG_ENGINE_OPTIONS_INIT;
	o.no_classifier = 1;
	o.data_dir = f->dir;
	o.kb_db = db;
	assert_int_equal(sg_engine_new(&e, f->policy, &o, &err), 0);
	assert_int_equal(sg_decide_run_new(&run, e, &err), 0);
	struct sg_decide_run *keep = f->run;
	f->run = run;
	struct sg_decision *d = decide(
		f, "{\"id\":\"D1\",\"body\":\"How do I reset my password? The link expired.\","
		   "\"customer\":{\"name\":\"Jane Smith\",\"tier\":\"free\"}}", SURE);
	assert_non_null(d->draft_text);
	assert_true(d->ndraft_sources >= 1);
	assert_int_equal(strncmp(d->draft_sources[0], "kb:", 3), 0);
	assert_null(strstr(f->json.data, "Jane")); /* the greeting's name is masked */
	assert_null(strchr(d->draft_text, '!'));
	d = decide(f, "{\"id\":\"D2\",\"body\":\"What do you think about the weather on Jupiter?\","
		   "\"customer\":{\"tier\":\"free\"}}", SURE);
	assert_non_null(d->draft_text);
	assert_string_equal(d->draft_text, "ESCALATE: insufficient context");
	assert_string_not_equal(d->gate, "auto_send");
	assert_true(has_reason(d, "draft.escalate"));
	f->run = keep;
	sg_ticket_release(&f->t);
	sg_decide_run_free(run);
	sg_engine_free(e);
}

static int setup_perm(void **state)
{
	return setup_with(state, "kill_switch: {enabled: false}\n"
				 "permissions:\n"
				 "  - grant: tickets:respond on queue/billing\n"
				 "  - grant: billing:refund on customers/*\n"
				 "    requires_approval: true\n"
				 "budgets: {max_sessions_per_day: 2, on_exceeded: summarize_only}\n");
}

static void test_permissions_and_budget(void **state)
{
	struct fixture *f = *state;
	/* tier-1 has no respond grant: no auto-send, whatever else holds */
	struct sg_decision *d = decide(f, "{\"id\":\"P1\",\"body\":\"where is my order\","
				       "\"customer\":{\"tier\":\"free\"}}", SURE);
	assert_string_equal(d->gate, "agent_review");
	assert_true(has_reason(d, "permissions"));
	assert_string_equal(d->ai_mode, "draft_reply");
	/* a refund grant that requires approval */
	d = decide(f, "{\"id\":\"P2\",\"body\":\"refund\",\"customer\":{\"id\":\"C-1\"},"
		   "\"facts\":{\"refund_amount\":20}}", SURE);
	assert_true(has_reason(d, "permissions"));
	assert_true(d->approval_required);
	/* two AI sessions today were allowed; the third is over budget */
	d = decide(f, "{\"id\":\"P3\",\"body\":\"where is my order\"}", SURE);
	assert_string_equal(d->ai_mode, "summarize_only");
	assert_true(has_reason(d, "budgets.max_sessions_per_day"));
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auto_send_needs_every_condition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_triage_below_minimum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_and_escalation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sop_lookup_and_branch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_raw_pii_in_decision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_switch, setup_kill, teardown),
		cmocka_unit_test_setup_teardown(test_qa_pause, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions_and_budget, setup_perm, teardown),
		cmocka_unit_test_setup_teardown(test_drafting_from_the_kb, setup, teardown),
	};
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
