/*
 * lookup_test.c - SOP lookups over HTTP against fake Salesforce and TMS
 * servers on loopback: the exact request (method, path, SOQL, headers),
 * the documented answer shapes mapped to records, 4xx and empty answers,
 * a missing token, a hung server (timeout) and JSON paths.
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

#include "connectors/fake_http.h"
#include "connectors/lookup.h"
#include "core/alloc.h"
#include "policy/policy.h"

enum mode { OK, EMPTY, BAD_QUERY, NOT_FOUND, HANG, NOT_JSON, LIMITED };
static enum mode mode;

static void sf_handler(struct fake_http *f, const struct fake_req *rq, struct fake_answer *a)
{
	(void)f, (void)rq;
	switch (mode) {
	case OK:
		snprintf(a->body, sizeof(a->body),
			 "{\"totalSize\": 1, \"done\": true, \"records\": [{\"attributes\": "
			 "{\"type\": \"Account\", \"url\": \"/services/data/v60.0/sobjects/Account/001000000000001AAA\"},"
			 " \"Id\": \"001000000000001AAA\", \"Name\": \"Globex Freight\", \"Type\": \"Customer\","
			 " \"Tier__c\": \"enterprise\", \"AnnualRevenue\": 1200000,"
			 " \"Owner\": {\"attributes\": {\"type\": \"User\"}, \"Email\": \"csm@acme.example\"},"
			 " \"Cases\": {\"totalSize\": 2, \"done\": true, \"records\": [{\"attributes\": {\"type\": \"Case\"},"
			 " \"Id\": \"500A\"}, {\"attributes\": {\"type\": \"Case\"}, \"Id\": \"500B\"}]}}]}");
		break;
	case EMPTY:
		snprintf(a->body, sizeof(a->body), "{\"totalSize\": 0, \"done\": true, \"records\": []}");
		break;
	case BAD_QUERY:
		a->status = 400;
		snprintf(a->body, sizeof(a->body),
			 "[{\"message\": \"unexpected token: FORM\", \"errorCode\": \"MALFORMED_QUERY\", \"fields\": []}]");
		break;
	case NOT_FOUND:
		a->status = 404;
		snprintf(a->body, sizeof(a->body), "{\"error\": \"no such shipment\"}");
		break;
	case HANG:
		a->hang = 1;
		break;
	case LIMITED:
		a->status = 429;
		snprintf(a->header, sizeof(a->header), "Retry-After");
		snprintf(a->header_value, sizeof(a->header_value), "30");
		snprintf(a->body, sizeof(a->body), "{\"message\": \"rate limited\"}");
		break;
	case NOT_JSON:
		snprintf(a->content_type, sizeof(a->content_type), "text/html");
		snprintf(a->body, sizeof(a->body), "<html>maintenance</html>");
		break;
	}
}

static void tms_handler(struct fake_http *f, const struct fake_req *rq, struct fake_answer *a)
{
	if (mode == OK)
		snprintf(a->body, sizeof(a->body),
			 "{\"data\": {\"id\": \"SH 88/231\", \"status\": \"delivered_damaged\","
			 " \"carrier\": {\"name\": \"Northline LTL\"}, \"pieces\": [{\"sku\": \"PAL-1\"}],"
			 " \"declared_value\": 7200}}");
	else
		sf_handler(f, rq, a);
}

static struct fake_http fk;

static struct sg_policy *policy;

static void load_policy(struct sg_policy **out, const char *lookups)
{
	char dir[] = "/tmp/sg-lookup-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp,
		"name: t\nqueues: {triage: {description: t}}\n"
		"classifier: {model: builtin, min_confidence: 0.7, triage_queue: triage}\n"
		"intents: {track_order: {tier: low}}\n"
		"bands: {high: {intent: 0.8, sentiment: 0.7}, medium: {intent: 0.6}, summarize_only_below: 0.6}\n"
		"gates: {auto_send: {min_confidence: 0.85, plans: [free]}, default: agent_review}\n"
		"%s", lookups);
	fclose(fp);
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	sg_diags_init(&d);
	int rc = sg_policy_load(out, path, &d, &err);
	if (rc) {
		struct sg_buf b = SG_BUF_INIT;
		sg_diags_format(&d, &b, 0);
		fprintf(stderr, "%s%s\n", b.data, err.msg);
		sg_buf_release(&b);
	}
	assert_int_equal(rc, 0);
	sg_diags_release(&d);
	unlink(path);
	rmdir(dir);
}

static int setup(void **state)
{
	(void)state;
	assert_int_equal(fake_http_start(&fk, sf_handler, NULL), 0);
	char text[2048];
	snprintf(text, sizeof(text),
		 "connectors:\n"
		 "  salesforce:\n"
		 "    type: salesforce\n"
		 "    base_url: http://127.0.0.1:%u/\n"
		 "    token_env: SG_TEST_SF_TOKEN\n"
		 "    timeout: 0.5s\n"
		 "    lookups:\n"
		 "      crm.account:\n"
		 "        query: \"SELECT Id, Name, Tier__c, Owner.Email, (SELECT Id FROM Cases WHERE Type = 'Freight Claim')"
		 " FROM Account WHERE AccountNumber = {key}\"\n"
		 "        fields: {name: Name, tier: Tier__c, owner_email: Owner.Email, revenue: AnnualRevenue,"
		 " prior_claims: Cases.totalSize}\n"
		 "  tms:\n"
		 "    type: http\n"
		 "    base_url: http://127.0.0.1:%u\n"
		 "    timeout: 0.5s\n"
		 "    lookups:\n"
		 "      tms.shipment:\n"
		 "        path: \"/api/shipments/{key}?expand=carrier\"\n"
		 "        record: $.data\n"
		 "        fields: {id: $.id, status: status, carrier: carrier.name, first_sku: \"pieces[0].sku\","
		 " value: declared_value, missing: no.such.field}\n",
		 fk.port, fk.port);
	load_policy(&policy, text);
	setenv("SG_TEST_SF_TOKEN", "00Dxx!sf-test-token", 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_http_stop(&fk);
	sg_policy_free(policy);
	return 0;
}

static void reset(enum mode m, fake_handler h)
{
	fake_http_reset(&fk);
	mode = m;
	fk.handler = h;
}

static void salesforce_exact_request(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	char v[512];
	reset(OK, sf_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "crm.account", "C-2001", &err), 0);
	assert_int_equal(fk.nreq, 1);
	const struct fake_req *rq = &fk.reqs[0];
	assert_string_equal(rq->method, "GET");
	assert_string_equal(rq->path, "/services/data/v60.0/query");
	assert_non_null(fake_req_query(rq, "q", v, sizeof(v)));
	assert_string_equal(v, "SELECT Id, Name, Tier__c, Owner.Email, (SELECT Id FROM Cases WHERE Type = "
			       "'Freight Claim') FROM Account WHERE AccountNumber = 'C-2001'");
	assert_non_null(fake_req_header(rq, "Authorization", v, sizeof(v)));
	assert_string_equal(v, "Bearer 00Dxx!sf-test-token");
	assert_non_null(fake_req_header(rq, "Accept", v, sizeof(v)));
	assert_string_equal(v, "application/json");
	assert_int_equal(rq->body.len, 0);
	/* mapped in policy order; nested relationship fields by path */
	char *s = json_dumps(rec, JSON_COMPACT);
	assert_string_equal(s, "{\"name\":\"Globex Freight\",\"tier\":\"enterprise\","
			       "\"owner_email\":\"csm@acme.example\",\"revenue\":1200000,\"prior_claims\":2}");
	free(s);
	json_decref(rec);
}

static void salesforce_quotes_the_key(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	char v[512];
	reset(OK, sf_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "crm.account", "x' OR Name != '", &err), 0);
	json_decref(rec);
	assert_non_null(fake_req_query(&fk.reqs[0], "q", v, sizeof(v)));
	assert_non_null(strstr(v, "AccountNumber = 'x\\' OR Name != \\''"));
	char lit[SG_LOOKUP_SOQL_MAX];
	assert_int_equal(sg_lookup_soql_quote(lit, "a\\b", &err), 0);
	assert_string_equal(lit, "'a\\\\b'");
	assert_int_equal(sg_lookup_soql_quote(lit, "a\nb", &err), -SG_EINVALID);
}

static void salesforce_4xx(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	reset(BAD_QUERY, sf_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "crm.account", "C-2001", &err), -SG_EINVALID);
	assert_null(rec);
	assert_string_equal(err.msg, "salesforce: HTTP 400: MALFORMED_QUERY: unexpected token: FORM");
	assert_int_equal(fk.nreq, 1); /* no retry */
}

static void salesforce_no_record(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	reset(EMPTY, sf_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "crm.account", "C-404", &err), -SG_ENOTFOUND);
	assert_string_equal(err.msg, "salesforce: no record matched");
}

static void salesforce_token_unset(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	reset(OK, sf_handler);
	unsetenv("SG_TEST_SF_TOKEN");
	assert_int_equal(sg_lookup_run(&rec, policy, "crm.account", "C-2001", &err), -SG_EUNAUTHORIZED);
	setenv("SG_TEST_SF_TOKEN", "00Dxx!sf-test-token", 1);
	assert_string_equal(err.msg, "salesforce: environment variable SG_TEST_SF_TOKEN (token_env) is not set");
	assert_int_equal(fk.nreq, 0); /* nothing sent without credentials */
}

static void salesforce_timeout(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	reset(HANG, sf_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "crm.account", "C-2001", &err), -SG_ETIMEOUT);
	assert_string_equal(err.msg, "salesforce: no answer within 500 ms");
}

static void tms_success(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	char v[256];
	reset(OK, tms_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "tms.shipment", "SH 88/231", &err), 0);
	assert_int_equal(fk.nreq, 1);
	assert_string_equal(fk.reqs[0].method, "GET");
	/* the key is URL-encoded into the path; MHD hands the path decoded */
	assert_string_equal(fk.reqs[0].path, "/api/shipments/SH 88/231");
	assert_non_null(fake_req_query(&fk.reqs[0], "expand", v, sizeof(v)));
	assert_string_equal(v, "carrier");
	assert_null(fake_req_header(&fk.reqs[0], "Authorization", v, sizeof(v)));
	char *s = json_dumps(rec, JSON_COMPACT);
	assert_string_equal(s, "{\"id\":\"SH 88/231\",\"status\":\"delivered_damaged\","
			       "\"carrier\":\"Northline LTL\",\"first_sku\":\"PAL-1\",\"value\":7200}");
	free(s);
	json_decref(rec);
}

static void tms_4xx_and_garbage(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	reset(NOT_FOUND, tms_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "tms.shipment", "SH-1", &err), -SG_ENOTFOUND);
	assert_string_equal(err.msg, "http lookup: HTTP 404: no such shipment");
	sg_error_clear(&err);
	reset(NOT_JSON, tms_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "tms.shipment", "SH-1", &err), -SG_EBACKEND);
	assert_non_null(strstr(err.msg, "answer is not JSON"));
	sg_error_clear(&err);
	reset(EMPTY, tms_handler); /* a JSON object without $.data */
	assert_int_equal(sg_lookup_run(&rec, policy, "tms.shipment", "SH-1", &err), -SG_ENOTFOUND);
	assert_string_equal(err.msg, "http lookup: '$.data' is absent");
}

static void rate_limited_lookup_fails_at_once(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	reset(LIMITED, tms_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "tms.shipment", "SH-1", &err), -SG_ERATE);
	assert_string_equal(err.msg, "http lookup: HTTP 429: rate limited");
	assert_int_equal(fk.nreq, 1); /* a decision does not wait 30 s: on_error decides */
}

static void tms_timeout(void **state)
{
	(void)state;
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	reset(HANG, tms_handler);
	assert_int_equal(sg_lookup_run(&rec, policy, "tms.shipment", "SH-1", &err), -SG_ETIMEOUT);
	assert_null(rec);
}

static void connection_refused(void **state)
{
	(void)state;
	struct fake_http other;
	struct sg_policy *p = NULL;
	char text[512];
	assert_int_equal(fake_http_start(&other, sf_handler, NULL), 0);
	snprintf(text, sizeof(text),
		 "connectors:\n  tms: {type: http, base_url: \"http://127.0.0.1:%u\", "
		 "lookups: {tms.shipment: {path: \"/s/{key}\"}}}\n", other.port);
	fake_http_stop(&other); /* nothing listens there now */
	load_policy(&p, text);
	json_t *rec = NULL;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_lookup_run(&rec, p, "tms.shipment", "k", &err), -SG_EBACKEND);
	assert_non_null(strstr(err.msg, "http lookup: "));
	sg_error_clear(&err);
	assert_int_equal(sg_lookup_run(&rec, p, "crm.account", "k", &err), -SG_ENOTFOUND);
	assert_string_equal(err.msg, "no connector lists lookups of 'crm.account'");
	sg_policy_free(p);
}

static void json_paths(void **state)
{
	(void)state;
	json_t *j = json_loads("{\"a\":{\"b\":[{\"c\":1},{\"c\":2}]},\"x\":\"y\"}", 0, NULL);
	assert_int_equal(json_integer_value(sg_lookup_json_path(j, "$.a.b[1].c")), 2);
	assert_int_equal(json_integer_value(sg_lookup_json_path(j, "a.b[0].c")), 1);
	assert_string_equal(json_string_value(sg_lookup_json_path(j, ".x")), "y");
	assert_ptr_equal(sg_lookup_json_path(j, "$"), j);
	assert_null(sg_lookup_json_path(j, "a.b[2].c"));
	assert_null(sg_lookup_json_path(j, "a.b[x]"));
	assert_null(sg_lookup_json_path(j, "a."));
	assert_null(sg_lookup_json_path(j, "x.y"));
	assert_null(sg_lookup_json_path(j, "a[0]"));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(salesforce_exact_request),
		cmocka_unit_test(salesforce_quotes_the_key),
		cmocka_unit_test(salesforce_4xx),
		cmocka_unit_test(salesforce_no_record),
		cmocka_unit_test(salesforce_token_unset),
		cmocka_unit_test(salesforce_timeout),
		cmocka_unit_test(tms_success),
		cmocka_unit_test(tms_4xx_and_garbage),
		cmocka_unit_test(rate_limited_lookup_fails_at_once),
		cmocka_unit_test(tms_timeout),
		cmocka_unit_test(connection_refused),
		cmocka_unit_test(json_paths),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
