/*
 * jira_test.c - the Jira Cloud connector against a fake Jira on loopback:
 * the exact create-issue request (method, path, Basic auth from the
 * documented test vector, headers, the JSON body with priority, labels and
 * the ADF description carrying the case context), the 201 answer's issue
 * key, a 400 naming the rejected field (no retry), 429 with Retry-After,
 * 5xx and a timeout (retry), a dead letter through the outbox,
 * and a configuration without the account e-mail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "connectors/fake_http.h"
#include "connectors/lookup.h"
#include "core/json.h"
#include "outbox/outbox.h"
#include "store/store.h"
#include "policy/policy.h"

static int answer_status = 201;

static void jira(struct fake_http *f, const struct fake_req *rq, struct fake_answer *a)
{
	(void)f, (void)rq;
	if (answer_status < 0) {
		a->hang = 1;
		return;
	}
	a->status = answer_status;
	if (answer_status == 201)
		snprintf(a->body, sizeof(a->body),
			 "{\"id\": \"10000\", \"key\": \"CLAIMS-24\", \"self\": "
			 "\"https://your-domain.atlassian.net/rest/api/3/issue/10000\"}");
	else if (answer_status == 400)
		snprintf(a->body, sizeof(a->body),
			 "{\"errorMessages\": [], \"errors\": {\"priority\": \"Specify the Priority "
			 "(name) in the string format\"}}");
	else if (answer_status == 429) {
		snprintf(a->header, sizeof(a->header), "Retry-After");
		snprintf(a->header_value, sizeof(a->header_value), "7");
	}
}

static struct fake_http fk;
static struct sg_policy *policy;
static struct sg_connectors *conns;

static int load(struct sg_policy **out, const char *connectors)
{
	char dir[] = "/tmp/sg-jira-test.XXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp,
		"name: t\nqueues: {triage: {description: t}}\n"
		"channels: {jira-claims: {kind: jira, target: CLAIMS}}\n"
		"classifier: {model: builtin, min_confidence: 0.7, triage_queue: triage}\n"
		"intents: {track_order: {tier: low}}\n"
		"bands: {high: {intent: 0.8, sentiment: 0.7}, medium: {intent: 0.6}, summarize_only_below: 0.6}\n"
		"gates: {auto_send: {min_confidence: 0.85, plans: [free]}, default: agent_review}\n"
		"%s", connectors);
	fclose(fp);
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	sg_diags_init(&d);
	int rc = sg_policy_load(out, path, &d, &err);
	sg_diags_release(&d);
	unlink(path);
	rmdir(dir);
	return rc;
}

static int setup(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	char text[512];
	sg_json_init();
	assert_int_equal(fake_http_start(&fk, jira, NULL), 0);
	setenv("SG_TEST_JIRA_USER", "user@example.com", 1);
	setenv("SG_TEST_JIRA_TOKEN", "api-token-xyz", 1);
	snprintf(text, sizeof(text),
		 "connectors:\n  jira:\n    type: jira\n    base_url: http://127.0.0.1:%u\n"
		 "    user_env: SG_TEST_JIRA_USER\n    token_env: SG_TEST_JIRA_TOKEN\n"
		 "    timeout: 0.5s\n",
		 fk.port);
	assert_int_equal(load(&policy, text), 0);
	int rc = sg_connectors_build(&conns, policy, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sg_connectors_free(conns);
	sg_policy_free(policy);
	fake_http_stop(&fk);
	return 0;
}

/* A create_issue action as the SOP interpreter writes it. */
static const char action[] =
	"{\"kind\": \"create_issue\", \"sop\": \"freight_claim\", \"step\": \"open-claim-issue\","
	" \"channel\": \"jira-claims\", \"project\": \"CLAIMS\", \"summary\": \"Freight claim 7200 for"
	" Globex Freight, shipment SH-88231\", \"priority\": \"High\", \"issue_type\": \"Task\","
	" \"context\": {\"ticket_id\": \"T-77\", \"sop\": \"freight_claim\", \"step\": \"open-claim-issue\","
	" \"customer_id\": \"C-2001\", \"customer_tier\": \"enterprise\", \"intent\": \"track_order\","
	" \"urgency\": \"P2\", \"facts\": {\"claim_value\": 7200, \"shipment_id\": \"SH-88231\"},"
	" \"steps\": [{\"index\": 1, \"name\": \"load-account\", \"detail\": \"crm.account customer.id = C-2001"
	" (salesforce); account.tier = enterprise\", \"status\": \"ok\"}],"
	" \"text\": \"Pallets arrived crushed, contact [EMAIL_1]\"}}";

static const char expected_body[] =
	"{\"fields\":{\"project\":{\"key\":\"CLAIMS\"},\"issuetype\":{\"name\":\"Task\"},"
	"\"summary\":\"Freight claim 7200 for Globex Freight, shipment SH-88231\","
	"\"labels\":[\"sopgate\",\"sopgate-idem-0001\"],"
	"\"description\":{\"type\":\"doc\",\"version\":1,\"content\":["
	"{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"Opened by sopgate for ticket T-77"
	" (SOP freight_claim, step open-claim-issue).\"}]},"
	"{\"type\":\"heading\",\"attrs\":{\"level\":3},\"content\":[{\"type\":\"text\",\"text\":\"Case\"}]},"
	"{\"type\":\"bulletList\",\"content\":["
	"{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"Ticket: \","
	"\"marks\":[{\"type\":\"strong\"}]},{\"type\":\"text\",\"text\":\"T-77\"}]}]},"
	"{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"Customer: \","
	"\"marks\":[{\"type\":\"strong\"}]},{\"type\":\"text\",\"text\":\"C-2001 (enterprise)\"}]}]},"
	"{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"Intent: \","
	"\"marks\":[{\"type\":\"strong\"}]},{\"type\":\"text\",\"text\":\"track_order\"}]}]},"
	"{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"Urgency: \","
	"\"marks\":[{\"type\":\"strong\"}]},{\"type\":\"text\",\"text\":\"P2\"}]}]},"
	"{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"claim_value: \","
	"\"marks\":[{\"type\":\"strong\"}]},{\"type\":\"text\",\"text\":\"7200\"}]}]},"
	"{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"shipment_id: \","
	"\"marks\":[{\"type\":\"strong\"}]},{\"type\":\"text\",\"text\":\"SH-88231\"}]}]}]},"
	"{\"type\":\"heading\",\"attrs\":{\"level\":3},\"content\":[{\"type\":\"text\",\"text\":\"SOP steps\"}]},"
	"{\"type\":\"bulletList\",\"content\":["
	"{\"type\":\"listItem\",\"content\":[{\"type\":\"paragraph\",\"content\":[{\"type\":\"text\",\"text\":\"1. load-account: \","
	"\"marks\":[{\"type\":\"strong\"}]},{\"type\":\"text\",\"text\":\"crm.account customer.id = C-2001 (salesforce);"
	" account.tier = enterprise\"}]}]}]},"
	"{\"type\":\"heading\",\"attrs\":{\"level\":3},\"content\":[{\"type\":\"text\",\"text\":\"Customer message (masked)\"}]},"
	"{\"type\":\"codeBlock\",\"content\":[{\"type\":\"text\",\"text\":\"Pallets arrived crushed, contact [EMAIL_1]\"}]}]},"
	"\"priority\":{\"name\":\"High\"}}}";

/* Builds the request for the action, sends it to the fake, classifies. */
static void deliver(struct sg_conn_result *res, const struct sg_connector **used)
{
	struct sg_error err = SG_ERROR_INIT;
	struct sg_conn_request req;
	struct sg_conn_exchange x;
	json_t *payload = json_loads(action, 0, NULL);
	assert_non_null(payload);
	struct sg_conn_item it = {.id = "ob-1", .ticket_id = "T-77", .kind = "create_issue",
				  .payload = payload, .idem_key = "idem-0001", .attempts = 1};
	const char *why = NULL;
	const struct sg_connector *c = sg_connectors_route(conns, &it, &why);
	assert_non_null(c);
	*used = c;
	sg_conn_request_init(&req);
	assert_int_equal(sg_conn_build(&req, c, &it, &err), 0);
	memset(&x, 0, sizeof(x));
	sg_buf_init(&x.body);
	assert_int_equal(sg_conn_perform(&x, &req, &err), 0);
	sg_conn_classify(res, c, &it, &x.resp);
	sg_conn_exchange_release(&x);
	sg_conn_request_release(&req);
	json_decref(payload);
}

static void exact_request_and_issue_key(void **state)
{
	(void)state;
	struct sg_conn_result res;
	const struct sg_connector *c;
	char v[256];
	fake_http_reset(&fk);
	answer_status = 201;
	deliver(&res, &c);
	assert_string_equal(c->cfg.type, "jira");
	assert_int_equal(fk.nreq, 1);
	const struct fake_req *rq = &fk.reqs[0];
	assert_string_equal(rq->method, "POST");
	assert_string_equal(rq->path, "/rest/api/3/issue");
	assert_string_equal(fake_req_header(rq, "Authorization", v, sizeof(v)),
			    "Basic dXNlckBleGFtcGxlLmNvbTphcGktdG9rZW4teHl6");
	assert_string_equal(fake_req_header(rq, "Content-Type", v, sizeof(v)), "application/json");
	assert_string_equal(fake_req_header(rq, "Accept", v, sizeof(v)), "application/json");
	assert_string_equal(fake_req_header(rq, "Idempotency-Key", v, sizeof(v)), "idem-0001");
	assert_string_equal(rq->body.data, expected_body);
	assert_int_equal(res.outcome, SG_CONN_DONE);
	assert_string_equal(res.external_id, "CLAIMS-24");
}

static void bad_field_fails_without_retry(void **state)
{
	(void)state;
	struct sg_conn_result res;
	const struct sg_connector *c;
	fake_http_reset(&fk);
	answer_status = 400;
	deliver(&res, &c);
	assert_int_equal(res.outcome, SG_CONN_FAIL);
	assert_string_equal(res.reason, "HTTP 400: field 'priority': Specify the Priority (name) in "
					"the string format");
}

static void rate_limit_5xx_and_timeout_retry(void **state)
{
	(void)state;
	struct sg_conn_result res;
	const struct sg_connector *c;
	fake_http_reset(&fk);
	answer_status = 429;
	deliver(&res, &c);
	assert_int_equal(res.outcome, SG_CONN_RETRY);
	assert_int_equal(res.retry_after_ms, 7000);
	answer_status = 503;
	deliver(&res, &c);
	assert_int_equal(res.outcome, SG_CONN_RETRY);
	answer_status = -1; /* no answer: the connector's timeout, then a retry */
	deliver(&res, &c);
	assert_int_equal(res.outcome, SG_CONN_RETRY);
	assert_int_equal(res.retry_after_ms, -1); /* the outbox's backoff decides */
}

/* Through the outbox: an issue Jira refuses (400) is a dead letter after
 * one attempt; an accepted one is sent. */
static void outbox_sends_and_dead_letters(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	char dir[] = "/tmp/sg-jira-outbox.XXXXXX", url[128], cmd[128];
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "sqlite:%s/sg.db", dir);
	struct sg_store *st = NULL;
	assert_int_equal(sg_store_open(&st, url, "test", &err), 0);
	for (int i = 0; i < 2; i++) {
		struct sg_outbox_action a = {"create_issue", "jira-claims", action, NULL};
		struct sg_ticket_write w;
		char tid[16], ev[16];
		snprintf(tid, sizeof(tid), "T-%d", 77 + i);
		snprintf(ev, sizeof(ev), "ev-%d", i);
		memset(&w, 0, sizeof(w));
		w.ticket_id = tid;
		w.event_id = ev;
		w.event_json = "{}";
		w.decision_json = "{}";
		w.gate = "agent_review";
		w.risk_tier = "medium";
		w.intent = "track_order";
		w.queue = "claims";
		w.policy_version = "v1";
		w.actions = &a;
		w.nactions = 1;
		assert_int_equal(sg_store_ticket_write(st, &w, &err), 0);
		/* one at a time: the first is refused, the second accepted */
		fake_http_reset(&fk);
		answer_status = i == 0 ? 400 : 201;
		struct sg_outbox *ob = NULL;
		struct sg_outbox_options oo = {.owner = "jira-test", .metrics = NULL, .log = NULL};
		struct sg_outbox_stats stats = {0, 0, 0, 0, 0};
		assert_int_equal(sg_outbox_new(&ob, url, conns, &oo, &err), 0);
		assert_int_equal(sg_outbox_run(ob, 0, &stats, &err), 0);
		sg_outbox_free(ob);
		assert_int_equal(fk.nreq, 1); /* a 400 is not retried */
		assert_int_equal(stats.dead, i == 0 ? 1 : 0);
		assert_int_equal(stats.sent, i == 0 ? 0 : 1);
	}
	long dead = -1, sent = -1;
	assert_int_equal(sg_store_outbox_count(st, "dead", &dead, &err), 0);
	assert_int_equal(sg_store_outbox_count(st, "sent", &sent, &err), 0);
	assert_int_equal(dead, 1);
	assert_int_equal(sent, 1);
	sg_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void needs_the_account_email(void **state)
{
	(void)state;
	struct sg_policy *p = NULL;
	struct sg_connectors *cs = NULL;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(load(&p, "connectors:\n  jira: {type: jira, base_url: \"https://x.atlassian.net\","
				  " token_env: SG_TEST_JIRA_TOKEN}\n"), 0);
	assert_int_equal(sg_connectors_build(&cs, p, &err), -SG_EPOLICY);
	assert_null(cs);
	assert_string_equal(err.msg, "connector 'jira' (jira): `user_env` (the Atlassian account "
				     "e-mail) is required");
	sg_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_request_and_issue_key),
		cmocka_unit_test(bad_field_fails_without_retry),
		cmocka_unit_test(rate_limit_5xx_and_timeout_retry),
		cmocka_unit_test(outbox_sends_and_dead_letters),
		cmocka_unit_test(needs_the_account_email),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
