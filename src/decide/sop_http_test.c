/*
 * sop_http_test.c - SOP lookup steps that read fake Salesforce and TMS
 * servers on loopback: the values read are cited in sop_steps and drive the
 * branches; a 4xx, a timeout or a missing record follow the step's on_error
 * (review: flagged and continued; continue: cited only; stop: the rest of
 * the workflow is skipped).
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

#include "connectors/fake_http.h"
#include "core/buf.h"
#include "core/json.h"
#include "decide/engine.h"
#include "policy/policy.h"

enum mode { OK, BAD_REQUEST, HANG };
static enum mode sf_mode, tms_mode;

static void sf(struct fake_http *f, const struct fake_req *rq, struct fake_answer *a)
{
	(void)f, (void)rq;
	if (sf_mode == HANG) {
		a->hang = 1;
	} else if (sf_mode == BAD_REQUEST) {
		a->status = 401;
		snprintf(a->body, sizeof(a->body),
			 "[{\"message\": \"Session expired or invalid\", \"errorCode\": \"INVALID_SESSION_ID\"}]");
	} else {
		snprintf(a->body, sizeof(a->body),
			 "{\"totalSize\": 1, \"done\": true, \"records\": [{\"attributes\": {\"type\": \"Account\","
			 " \"url\": \"/services/data/v60.0/sobjects/Account/001A\"}, \"Id\": \"001A\","
			 " \"Name\": \"Globex Freight\", \"Tier__c\": \"enterprise\"}]}");
	}
}

static void tms(struct fake_http *f, const struct fake_req *rq, struct fake_answer *a)
{
	(void)f, (void)rq;
	if (tms_mode == HANG)
		a->hang = 1;
	else if (tms_mode == BAD_REQUEST) {
		a->status = 404;
		snprintf(a->body, sizeof(a->body), "{\"message\": \"unknown shipment\"}");
	} else
		snprintf(a->body, sizeof(a->body),
			 "{\"shipment\": {\"id\": \"SH-88231\", \"status\": \"damaged\", \"carrier\": \"Northline\"}}");
}

static struct fake_http fsf, ftms;

static const char policy_fmt[] =
	"name: http-sop\n"
	"queues:\n"
	"  triage: {description: triage}\n"
	"  claims: {description: claims}\n"
	"  logistics: {description: logistics}\n"
	"channels:\n"
	"  jira-claims: {kind: jira, target: CLAIMS}\n"
	"classifier: {model: builtin, min_confidence: 0.70, triage_queue: triage}\n"
	"intents:\n"
	"  track_order: {tier: low, auto_send: true, queue: logistics}\n"
	"bands:\n"
	"  high: {intent: 0.80, sentiment: 0.70}\n"
	"  medium: {intent: 0.60, negative_sentiment: 0.70}\n"
	"  summarize_only_below: 0.60\n"
	"gates:\n"
	"  auto_send: {min_confidence: 0.85, plans: [free, starter, enterprise]}\n"
	"  default: auto_send\n"
	"connectors:\n"
	"  salesforce:\n"
	"    type: salesforce\n"
	"    base_url: http://127.0.0.1:%u\n"
	"    token_env: SG_TEST_SF_TOKEN\n"
	"    timeout: 0.3s\n"
	"    lookups:\n"
	"      crm.account:\n"
	"        query: \"SELECT Id, Name, Tier__c FROM Account WHERE AccountNumber = {key}\"\n"
	"        fields: {name: Name, tier: Tier__c}\n"
	"  tms:\n"
	"    type: http\n"
	"    base_url: http://127.0.0.1:%u\n"
	"    timeout: 0.3s\n"
	"    lookups:\n"
	"      tms.shipment:\n"
	"        path: /shipments/{key}\n"
	"        record: shipment\n"
	"        fields: {id: id, status: status, carrier: carrier}\n"
	"sops:\n"
	"  claim:\n"
	"    trigger: facts.claim_value > 0\n"
	"    steps:\n"
	"      - name: load-account\n"
	"        lookup: crm.account\n"
	"        key: customer.id\n"
	"        as: account\n"
	"%s"
	"      - name: load-shipment\n"
	"        lookup: tms.shipment\n"
	"        key: facts.shipment_id\n"
	"        as: shipment\n"
	"%s"
	"      - name: big\n"
	"        if: account.tier == \"enterprise\" and facts.claim_value > $5,000\n"
	"        then:\n"
	"          - {name: open-issue, action: create_issue, channel: jira-claims, project: CLAIMS,"
	" summary: \"Claim {facts.claim_value} for {account.name}, {shipment.id}\"}\n"
	"        else:\n"
	"          - {name: to-logistics, action: assign, queue: logistics}\n";

struct fixture {
	char dir[256];
	struct sg_policy *policy;
	struct sg_engine *engine;
	struct sg_decide_run *run;
	struct sg_arena arena;
	struct sg_ticket t;
	struct sg_decision d;
};

static struct fixture *fx;

static void build(const char *acct_extra, const char *ship_extra)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[512];
	struct sg_diags diags;
	struct sg_error err = SG_ERROR_INIT;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sg-sop-http-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/policy.yaml", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, policy_fmt, fsf.port, ftms.port, acct_extra, ship_extra);
	fclose(fp);
	sg_diags_init(&diags);
	int rc = sg_policy_load(&f->policy, path, &diags, &err);
	if (rc) {
		struct sg_buf b = SG_BUF_INIT;
		sg_diags_format(&diags, &b, 0);
		fprintf(stderr, "%s%s\n", b.data, err.msg);
		sg_buf_release(&b);
	}
	assert_int_equal(rc, 0);
	sg_diags_release(&diags);
	struct sg_engine_options o = SG_ENGINE_OPTIONS_INIT;
	o.no_classifier = 1;
	o.data_dir = f->dir;
	assert_int_equal(sg_engine_new(&f->engine, f->policy, &o, &err), 0);
	assert_int_equal(sg_decide_run_new(&f->run, f->engine, &err), 0);
	sg_arena_init(&f->arena, 0);
	fx = f;
}

static void destroy(void)
{
	struct fixture *f = fx;
	char cmd[300];
	sg_ticket_release(&f->t);
	sg_decide_run_free(f->run);
	sg_engine_free(f->engine);
	sg_policy_free(f->policy);
	sg_arena_release(&f->arena);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	fx = NULL;
}

static const char event[] =
	"{\"id\":\"T-77\",\"body\":\"Freight claim: pallets arrived crushed\","
	"\"customer\":{\"id\":\"C-2001\",\"tier\":\"enterprise\"},"
	"\"facts\":{\"claim_value\":7200,\"shipment_id\":\"SH-88231\"}}";
static const char given[] = "{\"intent\":\"track_order\",\"intent_confidence\":0.95,"
			    "\"sentiment\":\"neutral\",\"sentiment_confidence\":0.9}";

static struct sg_decision *decide(void)
{
	struct sg_error err = SG_ERROR_INIT;
	json_t *g = NULL;
	sg_ticket_release(&fx->t);
	sg_arena_reset(&fx->arena);
	assert_int_equal(sg_ticket_parse(&fx->t, event, strlen(event), &fx->arena, &err), 0);
	assert_int_equal(sg_json_parse(&g, given, strlen(given), &err), 0);
	assert_int_equal(sg_decide(&fx->d, fx->run, &fx->t, g, &err), 0);
	json_decref(g);
	return &fx->d;
}

static const struct sg_step *step_named(const struct sg_decision *d, const char *name)
{
	for (size_t i = 0; i < d->nsteps; i++)
		if (!strcmp(d->steps[i].name, name))
			return &d->steps[i];
	return NULL;
}

static int has_reason(const struct sg_decision *d, const char *rule)
{
	for (size_t i = 0; i < d->nreasons; i++)
		if (!strcmp(d->reasons[i].rule, rule))
			return 1;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(fake_http_start(&fsf, sf, NULL), 0);
	assert_int_equal(fake_http_start(&ftms, tms, NULL), 0);
	setenv("SG_TEST_SF_TOKEN", "sf-token", 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_http_stop(&fsf);
	fake_http_stop(&ftms);
	return 0;
}

static void values_are_cited(void **state)
{
	(void)state;
	sf_mode = tms_mode = OK;
	build("", "");
	struct sg_decision *d = decide();
	const struct sg_step *s = step_named(d, "load-account");
	assert_non_null(s);
	assert_string_equal(s->status, "ok");
	assert_string_equal(s->detail, "crm.account customer.id = C-2001 (salesforce); "
				       "account.name = Globex Freight; account.tier = enterprise");
	s = step_named(d, "load-shipment");
	assert_string_equal(s->detail, "tms.shipment facts.shipment_id = SH-88231 (tms); "
				       "shipment.id = SH-88231; shipment.status = damaged; "
				       "shipment.carrier = Northline");
	s = step_named(d, "big");
	assert_non_null(strstr(s->detail, "account.tier = \"enterprise\""));
	assert_non_null(strstr(s->detail, "-> then"));
	s = step_named(d, "open-issue");
	assert_non_null(s);
	assert_string_equal(s->detail, "create issue in CLAIMS (priority Low): Claim 7200 for Globex Freight, SH-88231");
	assert_false(has_reason(d, "sops.on_error"));
	assert_string_equal(d->gate, "auto_send");
	destroy();
}

static void salesforce_401_flags_review_and_continues(void **state)
{
	(void)state;
	sf_mode = BAD_REQUEST;
	tms_mode = OK;
	build("", "");
	struct sg_decision *d = decide();
	const struct sg_step *s = step_named(d, "load-account");
	assert_string_equal(s->status, "error");
	assert_string_equal(s->detail, "crm.account customer.id = C-2001: salesforce: HTTP 401: "
				       "INVALID_SESSION_ID: Session expired or invalid; flagged for manual review");
	/* the workflow went on: the shipment was read, the branch took else */
	assert_string_equal(step_named(d, "load-shipment")->status, "ok");
	assert_non_null(step_named(d, "to-logistics"));
	assert_true(has_reason(d, "sops.on_error"));
	assert_string_equal(d->gate, "agent_review");
	assert_true(d->approval_required);
	destroy();
}

static void tms_timeout_on_error_stop(void **state)
{
	(void)state;
	sf_mode = OK;
	tms_mode = HANG;
	build("", "        on_error: stop\n");
	struct sg_decision *d = decide();
	const struct sg_step *s = step_named(d, "load-shipment");
	assert_string_equal(s->status, "error");
	assert_string_equal(s->detail, "tms.shipment facts.shipment_id = SH-88231: http lookup: no answer "
				       "within 300 ms; flagged for manual review, workflow stopped");
	assert_null(step_named(d, "big"));
	assert_null(step_named(d, "open-issue"));
	assert_true(has_reason(d, "sops.on_error"));
	assert_string_equal(d->gate, "agent_review");
	destroy();
}

static void timeout_on_error_continue(void **state)
{
	(void)state;
	sf_mode = HANG;
	tms_mode = BAD_REQUEST;
	build("        on_error: continue\n", "        on_error: continue\n");
	struct sg_decision *d = decide();
	assert_string_equal(step_named(d, "load-account")->detail,
			    "crm.account customer.id = C-2001: salesforce: no answer within 300 ms; "
			    "on_error continue");
	assert_string_equal(step_named(d, "load-shipment")->detail,
			    "tms.shipment facts.shipment_id = SH-88231: http lookup: HTTP 404: unknown "
			    "shipment; on_error continue");
	assert_non_null(step_named(d, "to-logistics"));
	assert_false(has_reason(d, "sops.on_error"));
	assert_string_equal(d->gate, "auto_send");
	destroy();
}

static void on_error_only_on_lookups(void **state)
{
	(void)state;
	char dir[] = "/tmp/sg-sop-http-check.XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	FILE *fp = fopen(path, "w");
	fprintf(fp, policy_fmt, 1u, 2u, "", "");
	fprintf(fp, "          - {name: x, action: assign, queue: claims, on_error: stop}\n"
		    "  other:\n    trigger: facts.x > 0\n    steps:\n"
		    "      - {name: y, lookup: crm.order, key: facts.o, as: order, on_error: later}\n");
	fclose(fp);
	struct sg_policy *p = NULL;
	struct sg_diags diags;
	struct sg_error err = SG_ERROR_INIT;
	sg_diags_init(&diags);
	assert_int_not_equal(sg_policy_load(&p, path, &diags, &err), 0);
	struct sg_buf b = SG_BUF_INIT;
	sg_diags_format(&diags, &b, 0);
	assert_non_null(strstr(b.data, "only lookup steps take on_error"));
	assert_non_null(strstr(b.data, "unknown value 'later' (expected one of: review, continue, stop)"));
	sg_buf_release(&b);
	sg_diags_release(&diags);
	sg_policy_free(p);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values_are_cited),
		cmocka_unit_test(salesforce_401_flags_review_and_continues),
		cmocka_unit_test(tms_timeout_on_error_stop),
		cmocka_unit_test(timeout_on_error_continue),
		cmocka_unit_test(on_error_only_on_lookups),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
