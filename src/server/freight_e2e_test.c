/*
 * freight_e2e_test.c - the example freight claim SOP end to end, through
 * the server's ticket path and the outbox: an enterprise account's claim
 * over $5,000 reads the account from a fake Salesforce and the shipment
 * from a fake TMS, the decision and its outbox actions are stored in one
 * transaction, and the outbox delivers the Jira issue, the Slack notice to
 * the account owner and the HubSpot ticket patch to their fakes. The audit
 * record of the decision cites every step with the values it saw.
 * The policy is examples/acme with a connectors section pointing at the
 * fakes (one loopback server answers every vendor's paths).
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
#include "core/alloc.h"
#include "core/json.h"
#include "outbox/outbox.h"
#include "policy/policy.h"
#include "server/api.h"
#include "server/server.h"
#include "store/store.h"

static void vendors(struct fake_http *f, const struct fake_req *rq, struct fake_answer *a)
{
	(void)f;
	const char *p = rq->path;
	if (!strncmp(p, "/services/data/v60.0/query", 26))
		snprintf(a->body, sizeof(a->body),
			 "{\"totalSize\": 1, \"done\": true, \"records\": [{\"attributes\": {\"type\": \"Account\","
			 " \"url\": \"/services/data/v60.0/sobjects/Account/001000000000001AAA\"},"
			 " \"Id\": \"001000000000001AAA\", \"Name\": \"Northwind Freight GmbH\","
			 " \"Tier__c\": \"enterprise\", \"Open_Contract_Value__c\": 240000,"
			 " \"Owner\": {\"attributes\": {\"type\": \"User\"}, \"Name\": \"Dana Example\"}}]}");
	else if (!strcmp(p, "/tms/shipments/SH-88231"))
		snprintf(a->body, sizeof(a->body),
			 "{\"shipment\": {\"id\": \"SH-88231\", \"status\": \"delivered_damaged\","
			 " \"carrier\": {\"name\": \"Example Freight Lines\"}, \"declared_value\": 18500}}");
	else if (!strcmp(p, "/rest/api/3/issue")) {
		a->status = 201;
		snprintf(a->body, sizeof(a->body),
			 "{\"id\": \"10042\", \"key\": \"CLAIMS-42\", \"self\": \"https://acme.atlassian.net/rest/api/3/issue/10042\"}");
	} else if (!strcmp(p, "/api/chat.postMessage"))
		snprintf(a->body, sizeof(a->body),
			 "{\"ok\": true, \"channel\": \"C0CSM\", \"ts\": \"1714564800.000200\", \"message\": {}}");
	else if (!strncmp(p, "/crm/v3/objects/tickets/", 24))
		snprintf(a->body, sizeof(a->body),
			 "{\"id\": \"512345\", \"properties\": {}, \"createdAt\": \"2024-04-30T09:00:00.000Z\","
			 " \"updatedAt\": \"2024-05-01T12:00:05.000Z\", \"archived\": false}");
	else {
		a->status = 404;
		snprintf(a->body, sizeof(a->body), "{\"message\": \"no such path in the fake\"}");
	}
}

static struct fake_http fk;

static void quiet(void *ctx, const char *line)
{
	(void)ctx, (void)line;
}
static char dir[64];

static const char connectors_fmt[] =
	"\nconnectors:\n"
	"  salesforce:\n"
	"    type: salesforce\n"
	"    base_url: http://127.0.0.1:%u\n"
	"    token_env: SG_E2E_SF_TOKEN\n"
	"    timeout: 5s\n"
	"    lookups:\n"
	"      crm.account:\n"
	"        query: \"SELECT Id, Name, Tier__c, Open_Contract_Value__c, Owner.Name FROM Account"
	" WHERE AccountNumber = {key}\"\n"
	"        fields: {name: Name, tier: Tier__c, contract_value: Open_Contract_Value__c,"
	" owner: Owner.Name}\n"
	"  tms:\n"
	"    type: http\n"
	"    base_url: http://127.0.0.1:%u/tms\n"
	"    timeout: 5s\n"
	"    lookups:\n"
	"      tms.shipment:\n"
	"        path: /shipments/{key}\n"
	"        record: $.shipment\n"
	"        fields: {id: id, status: status, carrier: carrier.name, declared_value: declared_value}\n"
	"  jira:\n"
	"    type: jira\n"
	"    base_url: http://127.0.0.1:%u\n"
	"    user_env: SG_E2E_JIRA_USER\n"
	"    token_env: SG_E2E_JIRA_TOKEN\n"
	"  slack:\n"
	"    type: slack\n"
	"    base_url: http://127.0.0.1:%u\n"
	"    token_env: SG_E2E_SLACK_TOKEN\n"
	"  hubspot:\n"
	"    type: hubspot\n"
	"    base_url: http://127.0.0.1:%u\n"
	"    token_env: SG_E2E_HUBSPOT_TOKEN\n"
	"    record: true\n"
	"    actions: [set_field]\n";

static int setup(void **state)
{
	(void)state;
	char cmd[600], path[128];
	sg_json_init();
	assert_int_equal(fake_http_start(&fk, vendors, NULL), 0);
	setenv("SG_E2E_SF_TOKEN", "00D-e2e-token", 1);
	setenv("SG_E2E_JIRA_USER", "claims-bot@acme.example", 1);
	setenv("SG_E2E_JIRA_TOKEN", "jira-e2e-token", 1);
	setenv("SG_E2E_SLACK_TOKEN", "xoxb-e2e", 1);
	setenv("SG_E2E_HUBSPOT_TOKEN", "pat-e2e", 1);
	snprintf(dir, sizeof(dir), "/tmp/sg-freight-e2e.XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* the example policy, without its file records: every lookup must go
	 * through the connectors */
	snprintf(cmd, sizeof(cmd), "cp -r examples/acme/policy.yaml examples/acme/escalations.yaml "
		 "examples/acme/tests.yaml examples/acme/prompts '%s'/", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	FILE *fp = fopen(path, "a");
	assert_non_null(fp);
	fprintf(fp, connectors_fmt, fk.port, fk.port, fk.port, fk.port, fk.port);
	fclose(fp);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	fake_http_stop(&fk);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static const struct fake_req *find(const char *method, const char *path)
{
	for (int i = 0; i < fk.nreq; i++)
		if (!strcmp(fk.reqs[i].method, method) && !strncmp(fk.reqs[i].path, path, strlen(path)))
			return &fk.reqs[i];
	return NULL;
}

/* The sop_steps entry of the decision named `name`, or NULL. */
static json_t *step(json_t *decision, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(decision, "sop_steps"), i, s)
		if (!strcmp(json_string_value(json_object_get(s, "name")), name))
			return s;
	return NULL;
}

static const char *detail(json_t *decision, const char *name)
{
	json_t *s = step(decision, name);
	assert_non_null(s);
	return json_string_value(json_object_get(s, "detail"));
}

static void freight_claim_end_to_end(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	char path[128], url[160], token[SG_TOKEN_LEN], v[512];
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	snprintf(url, sizeof(url), "sqlite:%s/sg.db", dir);

	struct sg_store *st = NULL;
	assert_int_equal(sg_store_open(&st, url, "test", &err), 0);
	assert_int_equal(sg_store_user_add(st, "test", "auditor", "admin", token, &err), 0);
	sg_store_close(st);

	struct sg_api *api = NULL;
	struct sg_api_options ao = {.policy_path = path, .store_url = url, .no_classifier = 1};
	int rc = sg_api_new(&api, &ao, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);

	/* 1. the ticket: decided and stored with its outbox actions */
	static const char ev[] =
		"{\"id\": \"T-1022\", \"channel\": \"email\", \"subject\": \"Freight claim SH-88231\","
		" \"body\": \"Freight damage on shipment SH-88231, two pallets crushed. Claim attached.\","
		" \"customer\": {\"id\": \"C-2001\", \"name\": \"Example Customer 2001\","
		" \"email\": \"c-2001@example.com\", \"tier\": \"enterprise\"},"
		" \"facts\": {\"claim_type\": \"freight_damage\", \"claim_value\": 7200,"
		" \"shipment_id\": \"SH-88231\"}}";
	struct sg_buf out = SG_BUF_INIT;
	int status = 0;
	assert_int_equal(sg_api_ticket(api, ev, strlen(ev), &status, &out, &err), 0);
	assert_int_equal(status, 201);
	json_t *d = json_loads(out.data, 0, NULL);
	sg_buf_release(&out);
	assert_non_null(d);

	/* the lookups went to Salesforce and the TMS, with their exact shapes */
	const struct fake_req *sf = find("GET", "/services/data/v60.0/query");
	assert_non_null(sf);
	assert_string_equal(fake_req_query(sf, "q", v, sizeof(v)),
			    "SELECT Id, Name, Tier__c, Open_Contract_Value__c, Owner.Name FROM Account "
			    "WHERE AccountNumber = 'C-2001'");
	assert_string_equal(fake_req_header(sf, "Authorization", v, sizeof(v)), "Bearer 00D-e2e-token");
	assert_non_null(find("GET", "/tms/shipments/SH-88231"));

	/* the decision cites each step with its values */
	assert_string_equal(detail(d, "load-account"),
			    "crm.account customer.id = C-2001 (salesforce); account.name = Northwind "
			    "Freight GmbH; account.tier = enterprise; account.contract_value = 240000; "
			    "account.owner = Dana Example");
	assert_string_equal(detail(d, "load-shipment"),
			    "tms.shipment facts.shipment_id = SH-88231 (tms); shipment.id = SH-88231; "
			    "shipment.status = delivered_damaged; shipment.carrier = Example Freight Lines; "
			    "shipment.declared_value = 18500");
	const char *th = detail(d, "enterprise-threshold");
	assert_non_null(strstr(th, "account.tier = \"enterprise\""));
	assert_non_null(strstr(th, "facts.claim_value = 7200 > 5000"));
	assert_non_null(strstr(th, "-> then"));
	assert_string_equal(detail(d, "open-claim-issue"),
			    "create issue in CLAIMS (priority High): Freight claim 7200 for Northwind "
			    "Freight GmbH, shipment SH-88231");
	assert_non_null(strstr(detail(d, "notify-account-owner"),
			       "notify account-owner via slack-csm within 15 min"));
	assert_string_equal(detail(d, "assign-enterprise-claims"), "assign to queue enterprise-claims");
	assert_null(step(d, "assign-logistics"));

	/* 2. the outbox delivers: Jira, Slack, HubSpot */
	struct sg_policy *p = NULL;
	struct sg_diags diags;
	struct sg_connectors *cs = NULL;
	struct sg_outbox *ob = NULL;
	struct sg_outbox_stats stats = {0, 0, 0, 0, 0};
	sg_diags_init(&diags);
	assert_int_equal(sg_policy_load(&p, path, &diags, &err), 0);
	sg_diags_release(&diags);
	rc = sg_connectors_build(&cs, p, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	struct sg_outbox_options oo = {.owner = "e2e", .metrics = NULL, .log = NULL};
	assert_int_equal(sg_outbox_new(&ob, url, cs, &oo, &err), 0);
	rc = sg_outbox_run(ob, 0, &stats, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(stats.dead, 0);
	assert_true(stats.sent >= 3);

	const struct fake_req *jira = find("POST", "/rest/api/3/issue");
	assert_non_null(jira);
	json_t *jb = json_loads(jira->body.data, 0, NULL);
	assert_string_equal(json_string_value(sg_lookup_json_path(jb, "fields.project.key")), "CLAIMS");
	assert_string_equal(json_string_value(sg_lookup_json_path(jb, "fields.summary")),
			    "Freight claim 7200 for Northwind Freight GmbH, shipment SH-88231");
	assert_string_equal(json_string_value(sg_lookup_json_path(jb, "fields.priority.name")), "High");
	assert_string_equal(json_string_value(sg_lookup_json_path(jb, "fields.description.type")), "doc");
	/* the issue carries the case: the account and shipment values read */
	assert_non_null(strstr(jira->body.data, "account.tier = enterprise"));
	assert_non_null(strstr(jira->body.data, "shipment.status = delivered_damaged"));
	assert_null(strstr(jira->body.data, "c-2001@example.com"));
	json_decref(jb);

	const struct fake_req *slack = find("POST", "/api/chat.postMessage");
	assert_non_null(slack);
	json_t *sb = json_loads(slack->body.data, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(sb, "channel")), "#csm-alerts");
	json_decref(sb);
	assert_non_null(strstr(slack->body.data, "T-1022"));

	const struct fake_req *hs = find("PATCH", "/crm/v3/objects/tickets/");
	assert_non_null(hs);
	assert_string_equal(fake_req_header(hs, "Authorization", v, sizeof(v)), "Bearer pat-e2e");
	assert_non_null(strstr(hs->body.data, "\"properties\""));
	/* the SOP's set_field and the decision's logging fields */
	int field = 0, record = 0;
	for (int i = 0; i < fk.nreq; i++) {
		if (strcmp(fk.reqs[i].method, "PATCH"))
			continue;
		assert_string_equal(fk.reqs[i].path, "/crm/v3/objects/tickets/T-1022");
		field += !!strstr(fk.reqs[i].body.data, "{\"properties\":{\"claim_priority\":\"high\"}}");
		record += !!strstr(fk.reqs[i].body.data, "\"sopgate_policy_version\":");
	}
	assert_int_equal(field, 1);
	assert_int_equal(record, 1);

	/* 3. the audit record of the decision cites each step with its values */
	struct sg_server *srv = NULL;
	struct sg_server_options so = SG_SERVER_OPTIONS_INIT;
	size_t n;
	so.routes = sg_api_routes(api, &n);
	so.nroutes = n;
	so.auth = sg_api_auth(api);
	so.log = quiet;
	assert_int_equal(sg_server_start(&srv, &so, &err), 0);
	struct sg_conn_request req;
	struct sg_conn_exchange x;
	sg_conn_request_init(&req);
	memset(&x, 0, sizeof(x));
	sg_buf_init(&x.body);
	req.method = "GET";
	snprintf(v, sizeof(v), "http://127.0.0.1:%u/v1/audit?ticket=T-1022", sg_server_port(srv));
	req.url = sg_strdup(v);
	assert_int_equal(sg_conn_request_header(&req, "Authorization: Bearer %s", token), 0);
	assert_int_equal(sg_conn_perform(&x, &req, &err), 0);
	assert_int_equal(x.resp.status, 200);
	static const char *const cited[] = {
		("crm.account customer.id = C-2001 (salesforce); account.name = Northwind Freight GmbH; "
		 "account.tier = enterprise"),
		"shipment.status = delivered_damaged",
		"facts.claim_value = 7200 > 5000",
		"create issue in CLAIMS (priority High)",
		"notify account-owner via slack-csm within 15 min",
		"assign to queue enterprise-claims",
	};
	for (size_t i = 0; i < sizeof(cited) / sizeof(cited[0]); i++) {
		if (!strstr(x.resp.body, cited[i]))
			fprintf(stderr, "audit lacks: %s\n", cited[i]);
		assert_non_null(strstr(x.resp.body, cited[i]));
	}
	sg_conn_exchange_release(&x);
	sg_conn_request_release(&req);
	sg_server_stop(srv, 1000);

	json_decref(d);
	sg_outbox_free(ob);
	sg_connectors_free(cs);
	sg_policy_free(p);
	sg_api_free(api);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(freight_claim_end_to_end),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
