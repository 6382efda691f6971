/*
 * connector_test.c - the shared connector layer without a network: the
 * generic classification, Retry-After parsing, building the set from a
 * policy (secrets from the environment, errors naming the variable) and
 * routing actions by connector, channel and action kind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connector.h"
#include "core/alloc.h"
#include "core/json.h"
#include "policy/policy.h"

static void test_classify_http(void **state)
{
	(void)state;
	struct sg_conn_result r;
	struct sg_conn_response resp = {.status = 200, .body = "", .now_ms = 1000};
	sg_conn_classify_http(&r, &resp);
	assert_int_equal(r.outcome, SG_CONN_DONE);

	resp.status = 400;
	resp.body = "{\"status\":\"invalid event\"}";
	resp.body_len = strlen(resp.body);
	sg_conn_classify_http(&r, &resp);
	assert_int_equal(r.outcome, SG_CONN_FAIL);
	assert_non_null(strstr(r.reason, "HTTP 400: {\"status\":\"invalid event\"}"));

	resp.status = 429;
	resp.retry_after = "7";
	sg_conn_classify_http(&r, &resp);
	assert_int_equal(r.outcome, SG_CONN_RETRY);
	assert_int_equal(r.retry_after_ms, 7000);

	resp.status = 503;
	resp.retry_after = NULL;
	sg_conn_classify_http(&r, &resp);
	assert_int_equal(r.outcome, SG_CONN_RETRY);
	assert_int_equal(r.retry_after_ms, -1);

	resp.status = 408;
	sg_conn_classify_http(&r, &resp);
	assert_int_equal(r.outcome, SG_CONN_RETRY);
	resp.status = 404;
	sg_conn_classify_http(&r, &resp);
	assert_int_equal(r.outcome, SG_CONN_FAIL);

	struct sg_conn_response to = {.timed_out = 1, .transport_msg = "Operation timed out"};
	sg_conn_classify_http(&r, &to);
	assert_int_equal(r.outcome, SG_CONN_RETRY);
	assert_non_null(strstr(r.reason, "timed out"));
	struct sg_conn_response refused = {.transport_error = 1, .transport_msg = "refused"};
	sg_conn_classify_http(&r, &refused);
	assert_int_equal(r.outcome, SG_CONN_RETRY);
}

static void test_retry_after(void **state)
{
	(void)state;
	/* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
	int64_t t = 784111777000LL;
	assert_int_equal(sg_conn_retry_after_ms("120", t), 120000);
	assert_int_equal(sg_conn_retry_after_ms(" 0 ", t), 0);
	assert_int_equal(sg_conn_retry_after_ms("Sun, 06 Nov 1994 08:49:47 GMT", t), 10000);
	assert_int_equal(sg_conn_retry_after_ms("Sun, 06 Nov 1994 08:49:30 GMT", t), 0);
	assert_int_equal(sg_conn_retry_after_ms("soon", t), -1);
	assert_int_equal(sg_conn_retry_after_ms("12abc", t), -1);
	assert_int_equal(sg_conn_retry_after_ms("Sun, 06 Nov 1994 08:49:47 PST", t), -1);
	assert_int_equal(sg_conn_retry_after_ms(NULL, t), -1);
	assert_int_equal(sg_conn_retry_after_ms("99999999999", t), 365LL * 86400 * 1000);
}

static const char *policy_head =
	"name: t\n"
	"queues: {q: {}}\n"
	"channels:\n"
	"  hook: {kind: webhook, target: ops}\n"
	"  quiet: {kind: log, target: x}\n"
	"  nowhere: {kind: slack, target: '#x'}\n"
	"classifier: {model: builtin, min_confidence: 0.7, triage_queue: q}\n"
	"intents: {other: {tier: low}}\n"
	"bands: {high: {intent: 0.8, sentiment: 0.7}, medium: {intent: 0.6}, summarize_only_below: 0.6}\n"
	"gates: {auto_send: {min_confidence: 0.85, plans: [free]}, default: agent_review}\n";

static struct sg_policy *load(const char *extra)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", policy_head, extra);
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	int rc = sg_policy_load_mem(&p, "t.yaml", text, strlen(text), &d, &err);
	if (rc < 0) {
		struct sg_buf b = SG_BUF_INIT;
		sg_diags_format(&d, &b, 0);
		fail_msg("policy: %s %s", err.msg, b.data);
	}
	sg_diags_release(&d);
	return p;
}

static void test_build_and_route(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_connectors *cs = NULL;
	struct sg_policy *p = load("connectors:\n"
				   "  ops-hook: {type: webhook, base_url: 'http://127.0.0.1:1/h',"
				   " secret_env: SG_TEST_HOOK_SECRET, actions: [set_field], timeout: 3s}\n"
				   "outbox: {max_attempts: 5, backoff: 1s}\n");
	unsetenv("SG_TEST_HOOK_SECRET");
	assert_true(sg_connectors_build(&cs, p, &err) < 0);
	assert_null(cs);
	assert_non_null(strstr(err.msg, "SG_TEST_HOOK_SECRET"));

	setenv("SG_TEST_HOOK_SECRET", "s3cret", 1);
	sg_error_clear(&err);
	assert_int_equal(sg_connectors_build(&cs, p, &err), 0);
	assert_int_equal(cs->n, 1);
	assert_int_equal(cs->max_attempts, 5);
	assert_int_equal(cs->backoff_ms, 1000);
	assert_int_equal(cs->v[0].cfg.timeout_ms, 3000);
	assert_string_equal(cs->v[0].secret, "s3cret");

	const char *why;
	json_t *pl = json_pack("{s:s, s:s}", "kind", "notify", "channel", "hook");
	struct sg_conn_item it = {.kind = "notify", .payload = pl, .idem_key = "k1"};
	assert_ptr_equal(sg_connectors_route(cs, &it, &why), &cs->v[0]);
	assert_string_equal(it.channel_target, "ops");
	json_decref(pl);

	pl = json_pack("{s:s, s:s}", "kind", "notify", "channel", "nowhere");
	it.payload = pl;
	assert_null(sg_connectors_route(cs, &it, &why));
	assert_non_null(why);
	assert_non_null(strstr(why, "no connector for channel 'nowhere' (kind slack)"));
	json_decref(pl);

	pl = json_pack("{s:s, s:s}", "kind", "notify", "channel", "quiet");
	it.payload = pl;
	assert_null(sg_connectors_route(cs, &it, &why));
	assert_null(why); /* log channel: nothing to deliver */
	json_decref(pl);

	pl = json_pack("{s:s}", "kind", "set_field");
	it.payload = pl;
	it.kind = "set_field";
	assert_ptr_equal(sg_connectors_route(cs, &it, &why), &cs->v[0]);
	json_decref(pl);

	pl = json_pack("{s:s}", "kind", "reply");
	it.payload = pl;
	it.kind = "reply";
	assert_null(sg_connectors_route(cs, &it, &why));
	assert_non_null(strstr(why, "no connector takes 'reply' actions"));
	json_decref(pl);

	pl = json_pack("{s:s}", "kind", "assign");
	it.payload = pl;
	it.kind = "assign";
	assert_null(sg_connectors_route(cs, &it, &why));
	assert_null(why);
	json_decref(pl);

	pl = json_pack("{s:s, s:s}", "kind", "record", "connector", "gone");
	it.payload = pl;
	it.kind = "record";
	assert_null(sg_connectors_route(cs, &it, &why));
	assert_non_null(strstr(why, "connector 'gone' is not defined"));
	json_decref(pl);

	sg_connectors_free(cs);
	sg_policy_free(p);
}

static void test_bad_policy_keys(void **state)
{
	(void)state;
	const char *text = "connectors: {x: {type: carrier-pigeon}}\n";
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s%s", policy_head, text);
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	assert_true(sg_policy_load_mem(&p, "t.yaml", buf, strlen(buf), &d, &err) < 0);
	struct sg_buf b = SG_BUF_INIT;
	sg_diags_format(&d, &b, 0);
	assert_non_null(strstr(b.data, "t.yaml:11:"));
	assert_non_null(strstr(b.data, "carrier-pigeon"));
	sg_buf_release(&b);
	sg_diags_release(&d);

	/* a channel naming an unknown connector */
	snprintf(buf, sizeof(buf), "%s", policy_head);
	char *at = strstr(buf, "target: ops}");
	assert_non_null(at);
	memmove(at + 13, at + 12, strlen(at + 12) + 1);
	memcpy(at, "target: ops,", 12);
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%.*s connector: nope}%s", (int)(at + 12 - buf), buf, at + 13);
	sg_diags_init(&d);
	assert_true(sg_policy_load_mem(&p, "t.yaml", tmp, strlen(tmp), &d, &err) < 0);
	b = (struct sg_buf)SG_BUF_INIT;
	sg_diags_format(&d, &b, 0);
	assert_non_null(strstr(b.data, "unknown connector 'nope'"));
	sg_buf_release(&b);
	sg_diags_release(&d);
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_http),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_build_and_route),
		cmocka_unit_test(test_bad_policy_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
