/*
 * slack_test.c - the Slack round trip against a fake Slack on loopback: a
 * two_step ticket is decided, its escalation message is posted with
 * chat.postMessage, a click comes back as a signed form POST to
 * /v1/webhooks/slack, the approval is recorded exactly as the console
 * records it (approvals row, audit record, two-step rules by user and
 * role), and the original message is updated with chat.update to show who
 * decided. Wrong signatures and stale timestamps are refused (401); an
 * unmapped Slack user and a second click by the same person are refused
 * and told through the response_url.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "connectors/fake_http.h"
#include "connectors/lookup.h"
#include "connectors/slack_message.h"
#include "core/alloc.h"
#include "core/id.h"
#include "core/json.h"
#include "policy/policy.h"
#include "server/api.h"
#include "server/server.h"
#include "server/slack.h"
#include "server/webhook_sig.h"
#include "store/store.h"

#define SECRET "slack-test-secret"

static int post_seq;

/* The fake Slack Web API: chat.postMessage and chat.update answer ok with
 * a message ts; response_url posts answer "ok" as Slack's hooks do. */
static void slack(struct fake_http *f, const struct fake_req *rq, struct fake_answer *a)
{
	(void)f;
	if (!strcmp(rq->path, "/api/chat.postMessage"))
		snprintf(a->body, sizeof(a->body),
			 "{\"ok\": true, \"channel\": \"C0123456789\", \"ts\": \"1714564800.00010%d\","
			 " \"message\": {}}", ++post_seq);
	else if (!strcmp(rq->path, "/api/chat.update"))
		snprintf(a->body, sizeof(a->body),
			 "{\"ok\": true, \"channel\": \"C0123456789\", \"ts\": \"1714564800.000101\","
			 " \"text\": \"updated\"}");
	else {
		snprintf(a->content_type, sizeof(a->content_type), "text/plain");
		snprintf(a->body, sizeof(a->body), "ok");
	}
}

static struct fake_http fk;
static char dir[64];
static struct sg_api *api;
static struct sg_server *srv;
static char admin_token[SG_TOKEN_LEN];

static const char policy_fmt[] =
	"name: slack-test\n"
	"queues: {triage: {description: t}, billing: {description: b}}\n"
	"channels: {slack-refunds: {kind: slack, target: \"#refunds\"}}\n"
	"classifier: {model: builtin, min_confidence: 0, triage_queue: triage}\n"
	"intents: {get_refund: {tier: high, queue: billing}}\n"
	"risk:\n"
	"  - {name: big-refund, when: facts.refund_amount > 500, tier: high}\n"
	"bands: {high: {intent: 0.8, sentiment: 0.7}, medium: {intent: 0}, summarize_only_below: 0}\n"
	"gates:\n"
	"  auto_send: {min_confidence: 0.85, plans: [free]}\n"
	"  default: agent_review\n"
	"  by_tier: {low: agent_review, medium: agent_edit, high: two_step}\n"
	"connectors:\n"
	"  slack:\n"
	"    type: slack\n"
	"    base_url: http://127.0.0.1:%u\n"
	"    token_env: SG_TEST_SLACK_TOKEN\n"
	"    secret_env: SG_TEST_SLACK_SECRET\n"
	"    users: {U0AAAAAAA: alice, U0BBBBBBB: bob, U0CCCCCCC: carol}\n";

static void quiet(void *ctx, const char *line)
{
	(void)ctx, (void)line;
}

static int setup(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	char path[128], url[160], token[SG_TOKEN_LEN];
	sg_json_init();
	assert_int_equal(fake_http_start(&fk, slack, NULL), 0);
	setenv("SG_TEST_SLACK_TOKEN", "xoxb-test-token", 1);
	setenv("SG_TEST_SLACK_SECRET", SECRET, 1);
	snprintf(dir, sizeof(dir), "/tmp/sg-slack-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, policy_fmt, fk.port);
	fclose(fp);
	snprintf(url, sizeof(url), "sqlite:%s/sg.db", dir);
	struct sg_store *st = NULL;
	assert_int_equal(sg_store_open(&st, url, "test", &err), 0);
	assert_int_equal(sg_store_user_add(st, "test", "admin", "admin", admin_token, &err), 0);
	assert_int_equal(sg_store_user_add(st, "test", "alice", "agent", token, &err), 0);
	assert_int_equal(sg_store_user_add(st, "test", "bob", "lead", token, &err), 0);
	sg_store_close(st);
	struct sg_api_options ao = {.policy_path = path, .store_url = url, .no_classifier = 1};
	int rc = sg_api_new(&api, &ao, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	struct sg_server_options o = SG_SERVER_OPTIONS_INIT;
	size_t n;
	o.routes = sg_api_routes(api, &n);
	o.nroutes = n;
	o.auth = sg_api_auth(api);
	o.log = quiet;
	assert_int_equal(sg_server_start(&srv, &o, &err), 0);
	/* a two_step ticket in the review queue */
	static const char ev[] = "{\"id\":\"T-4829\",\"body\":\"Refund for March invoice, you were "
				 "down three days\",\"customer\":{\"id\":\"C-77\",\"tier\":\"premium\"},"
				 "\"facts\":{\"refund_amount\":800}}";
	struct sg_buf out = SG_BUF_INIT;
	int status = 0;
	assert_int_equal(sg_api_ticket(api, ev, strlen(ev), &status, &out, &err), 0);
	assert_int_equal(status, 201);
	if (!strstr(out.data, "\"gate\":\"two_step\""))
		fprintf(stderr, "%s\n", out.data);
	assert_non_null(strstr(out.data, "\"gate\":\"two_step\""));
	sg_buf_release(&out);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	sg_server_stop(srv, 1000);
	sg_api_free(api);
	fake_http_stop(&fk);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* Sends a request and returns the status; the body lands in *body. */
static long http_send(const char *method, const char *url, const char *const *headers, size_t nh,
		 const char *body, char **out)
{
	struct sg_conn_request req;
	struct sg_conn_exchange x;
	struct sg_error err = SG_ERROR_INIT;
	sg_conn_request_init(&req);
	memset(&x, 0, sizeof(x));
	sg_buf_init(&x.body);
	req.method = method;
	req.url = sg_strdup(url);
	for (size_t i = 0; i < nh; i++)
		assert_int_equal(sg_conn_request_header(&req, "%s", headers[i]), 0);
	if (body) {
		req.body = sg_strdup(body);
		req.body_len = strlen(body);
	}
	req.timeout_ms = 10000;
	assert_int_equal(sg_conn_perform(&x, &req, &err), 0);
	long status = x.resp.status;
	if (out)
		*out = sg_strdup(x.resp.body ? x.resp.body : "");
	sg_conn_exchange_release(&x);
	sg_conn_request_release(&req);
	return status;
}

/* Posts the escalation message through the slack connector (what the
 * outbox delivers); returns the body it sent, and the ts Slack gave. */
static json_t *post_escalation(char ts[32])
{
	struct sg_policy *p = NULL;
	struct sg_connectors *cs = NULL;
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	char path[128];
	snprintf(path, sizeof(path), "%s/policy.yaml", dir);
	sg_diags_init(&d);
	assert_int_equal(sg_policy_load(&p, path, &d, &err), 0);
	sg_diags_release(&d);
	assert_int_equal(sg_connectors_build(&cs, p, &err), 0);
	json_t *payload = json_pack(
		"{s:s, s:s, s:s, s:i, s:{s:{s:s, s:s, s:i, s:i}, s:s, s:s, s:s}}", "kind", "escalate",
		"channel", "slack-refunds", "owner", "support-lead", "sla_minutes", 60, "context",
		"customer", "name", "Jane Smith", "tier", "premium", "tenure_months", 18, "ltv", 4200,
		"issue", "Refund for March invoice ($199) — claims 3-day outage", "finding",
		"Confirmed 47-hour outage. Refund appears justified per SLA Section 4.2.",
		"recommendation", "Full refund of $199");
	struct sg_conn_item it = {.id = "ob-1", .ticket_id = "T-4829", .kind = "escalate",
				  .payload = payload, .idem_key = "idem-1", .attempts = 1};
	const char *why = NULL;
	const struct sg_connector *c = sg_connectors_route(cs, &it, &why);
	assert_non_null(c);
	struct sg_conn_request req;
	struct sg_conn_exchange x;
	struct sg_conn_result res;
	sg_conn_request_init(&req);
	memset(&x, 0, sizeof(x));
	sg_buf_init(&x.body);
	assert_int_equal(sg_conn_build(&req, c, &it, &err), 0);
	assert_int_equal(sg_conn_perform(&x, &req, &err), 0);
	sg_conn_classify(&res, c, &it, &x.resp);
	assert_int_equal(res.outcome, SG_CONN_DONE);
	snprintf(ts, 32, "%.31s", res.external_id);
	json_t *msg = json_loadb(req.body, req.body_len, 0, NULL);
	assert_non_null(msg);
	sg_conn_exchange_release(&x);
	sg_conn_request_release(&req);
	json_decref(payload);
	sg_connectors_free(cs);
	sg_policy_free(p);
	return msg;
}

/* The form body Slack sends for a click on `action_id` by `user`. */
static char *click_body(const char *user, const char *action_id, const char *ts,
			const json_t *msg)
{
	char resp_url[128];
	snprintf(resp_url, sizeof(resp_url), "http://127.0.0.1:%u/actions/T0AAAAAAA/1234/abcd", fk.port);
	json_t *p = json_pack(
		"{s:s, s:{s:s, s:s, s:s, s:s}, s:s, s:s, s:{s:s, s:s, s:s, s:b}, s:s, s:{s:s, s:s},"
		" s:{s:s, s:s}, s:{s:s, s:s, s:s, s:O}, s:s, s:[{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s}]}",
		"type", "block_actions", "user", "id", user, "username", "agent", "name", "agent",
		"team_id", "T0AAAAAAA", "api_app_id", "A0AAAAAAA", "token", "deprecated",
		"container", "type", "message", "message_ts", ts, "channel_id", "C0123456789",
		"is_ephemeral", 0, "trigger_id", "1111.2222.abcd", "team", "id", "T0AAAAAAA",
		"domain", "example", "channel", "id", "C0123456789", "name", "support-approvals",
		"message", "type", "message", "ts", ts, "text",
		json_string_value(json_object_get(msg, "text")), "blocks",
		json_object_get(msg, "blocks"), "response_url", resp_url, "actions", "type", "button",
		"action_id", action_id, "block_id", "decision:T-4829", "value", "T-4829", "text",
		"type", "plain_text", "text", action_id, "action_ts", "1714564805.123456");
	char *js = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	char *esc = curl_easy_escape(NULL, js, 0);
	sg_free(js);
	struct sg_buf b = SG_BUF_INIT;
	sg_buf_addf(&b, "payload=%s", esc);
	curl_free(esc);
	return sg_buf_detach(&b, NULL);
}

/* POSTs a click signed at ts_s (with `secret`); returns the status. */
static long click(const char *body, int64_t ts_s, const char *secret, char **out)
{
	char ts[24], sig[SG_SIG_MAX], url[128], h1[160], h2[64];
	snprintf(ts, sizeof(ts), "%" PRId64, ts_s);
	assert_int_equal(sg_sig_slack_sign(sig, secret, ts, body, strlen(body)), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/webhooks/slack", sg_server_port(srv));
	snprintf(h1, sizeof(h1), "X-Slack-Signature: %s", sig);
	snprintf(h2, sizeof(h2), "X-Slack-Request-Timestamp: %s", ts);
	const char *h[] = {"Content-Type: application/x-www-form-urlencoded", h1, h2};
	return http_send("POST", url, h, 3, body, out);
}

/* GET /v1/tickets/T-4829 as the admin. */
static json_t *ticket_view(void)
{
	char url[128], auth[128], *ans = NULL;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/tickets/T-4829", sg_server_port(srv));
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", admin_token);
	const char *h[] = {auth};
	assert_int_equal(http_send("GET", url, h, 1, NULL, &ans), 200);
	json_t *j = json_loads(ans, 0, NULL);
	sg_free(ans);
	assert_non_null(j);
	return j;
}

static const struct fake_req *last_req(const char *path)
{
	for (int i = fk.nreq - 1; i >= 0; i--)
		if (!strncmp(fk.reqs[i].path, path, strlen(path)))
			return &fk.reqs[i];
	return NULL;
}

static void round_trip(void **state)
{
	(void)state;
	char ts[32], *ans = NULL, v[256];
	int64_t now = sg_now_ms() / 1000;
	json_t *msg = post_escalation(ts);
	/* the message in the reference format, with the four buttons */
	const struct fake_req *post = last_req("/api/chat.postMessage");
	assert_non_null(post);
	assert_non_null(strstr(post->body.data, "Customer:* Jane Smith (Premium, 18mo, $4,200 LTV)"));
	assert_non_null(strstr(post->body.data, "\"action_id\":\"reply_manually\""));

	/* a wrong signature, a stale timestamp: refused, nothing recorded */
	char *body = click_body("U0AAAAAAA", "approve", ts, msg);
	assert_int_equal(click(body, now, "not-the-secret", &ans), 401);
	assert_non_null(strstr(ans, "signature"));
	sg_free(ans);
	assert_int_equal(click(body, now - 301, SECRET, &ans), 401);
	assert_non_null(strstr(ans, "unauthorized"));
	sg_free(ans);
	json_t *view = ticket_view();
	assert_int_equal(json_array_size(json_object_get(view, "approvals")), 0);
	json_decref(view);

	/* alice (agent) approves: the first of two steps */
	int before = fk.nreq;
	assert_int_equal(click(body, now, SECRET, &ans), 200);
	json_t *a = json_loads(ans, 0, NULL);
	sg_free(ans);
	assert_true(json_is_true(json_object_get(a, "recorded")));
	assert_string_equal(json_string_value(json_object_get(a, "status")), "awaiting_second");
	assert_string_equal(json_string_value(json_object_get(a, "user")), "alice");
	assert_true(json_is_true(json_object_get(a, "message_updated")));
	json_decref(a);
	assert_int_equal(fake_http_wait(&fk, before + 1), before + 1);
	const struct fake_req *up = last_req("/api/chat.update");
	assert_non_null(up);
	assert_string_equal(fake_req_header(up, "Authorization", v, sizeof(v)), "Bearer xoxb-test-token");
	assert_string_equal(fake_req_header(up, "Content-Type", v, sizeof(v)),
			    "application/json; charset=utf-8");
	json_t *ub = json_loads(up->body.data, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(ub, "channel")), "C0123456789");
	assert_string_equal(json_string_value(json_object_get(ub, "ts")), ts);
	assert_non_null(strstr(up->body.data, "Approved by <@U0AAAAAAA> (alice, agent)"));
	assert_non_null(strstr(up->body.data, "a second approval"));
	/* the buttons stay for the second approver, under a new block_id */
	assert_non_null(strstr(up->body.data, "\"block_id\":\"decision:T-4829#"));
	json_decref(ub);
	sg_free(body);

	/* alice again: the two-step rule refuses the same person */
	body = click_body("U0AAAAAAA", "approve", ts, msg);
	before = fk.nreq;
	assert_int_equal(click(body, now, SECRET, &ans), 200);
	a = json_loads(ans, 0, NULL);
	assert_false(json_is_true(json_object_get(a, "recorded")));
	assert_string_equal(json_string_value(json_object_get(a, "error")
					      ? json_object_get(json_object_get(a, "error"), "code") : NULL),
			    "forbidden");
	assert_non_null(strstr(ans, "different user"));
	json_decref(a);
	sg_free(ans);
	/* told to her alone through the response_url */
	assert_int_equal(fake_http_wait(&fk, before + 1), before + 1);
	const struct fake_req *eph = last_req("/actions/T0AAAAAAA/1234/abcd");
	assert_non_null(eph);
	assert_non_null(strstr(eph->body.data, "\"response_type\":\"ephemeral\""));
	sg_free(body);

	/* carol is mapped but not a sopgate user; U0ZZZ is not mapped */
	body = click_body("U0CCCCCCC", "approve", ts, msg);
	assert_int_equal(click(body, now, SECRET, &ans), 200);
	assert_non_null(strstr(ans, "user 'carol' not found"));
	sg_free(ans);
	sg_free(body);
	body = click_body("U0ZZZZZZZ", "deny", ts, msg);
	assert_int_equal(click(body, now, SECRET, &ans), 200);
	assert_non_null(strstr(ans, "is not mapped to a sopgate user"));
	sg_free(ans);
	sg_free(body);

	/* bob (lead) gives the second approval: approved, buttons gone */
	body = click_body("U0BBBBBBB", "approve", ts, msg);
	before = fk.nreq;
	assert_int_equal(click(body, now, SECRET, &ans), 200);
	a = json_loads(ans, 0, NULL);
	sg_free(ans);
	assert_string_equal(json_string_value(json_object_get(a, "status")), "approved");
	assert_int_equal(json_integer_value(json_object_get(a, "step")), 2);
	json_decref(a);
	assert_int_equal(fake_http_wait(&fk, before + 1), before + 1);
	up = last_req("/api/chat.update");
	assert_non_null(strstr(up->body.data, "Approved by <@U0BBBBBBB> (bob, lead)"));
	assert_null(strstr(up->body.data, "\"type\":\"actions\""));
	sg_free(body);

	/* the console sees what the console would have recorded */
	view = ticket_view();
	assert_string_equal(json_string_value(json_object_get(view, "status")), "approved");
	json_t *ap = json_object_get(view, "approvals");
	assert_int_equal(json_array_size(ap), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ap, 0), "user")), "alice");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ap, 0), "role")), "agent");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ap, 1), "user")), "bob");
	assert_string_equal(json_string_value(json_object_get(json_array_get(ap, 1), "role")), "lead");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ap, 1), "step")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ap, 0), "note")),
			    "approved (Slack: approve by U0AAAAAAA)");
	char *audit = json_dumps(json_object_get(view, "audit"), JSON_COMPACT);
	assert_non_null(strstr(audit, "bob"));
	assert_non_null(strstr(audit, "alice"));
	sg_free(audit);
	json_decref(view);

	/* a late click: nothing left to approve */
	body = click_body("U0BBBBBBB", "deny", ts, msg);
	assert_int_equal(click(body, now, SECRET, &ans), 200);
	assert_non_null(strstr(ans, "\"code\":\"conflict\""));
	sg_free(ans);
	sg_free(body);
	json_decref(msg);
}

static void parse_errors(void **state)
{
	(void)state;
	struct sg_slack_click c;
	struct sg_error err = SG_ERROR_INIT;
	static const struct {
		const char *body, *msg;
	} bad[] = {
		{"", "form field 'payload': missing"},
		{"x=1&y=2", "form field 'payload': missing"},
		{"payload=%7", "form field 'payload': bad percent-encoding"},
		{"payload=%7B%7D&payload=%7B%7D", "form field 'payload': given twice"},
		{"payload=%5B%5D", "payload: expected a JSON object"},
		{"payload=%7B%22type%22%3A1%7D", "payload: field 'type': expected a string"},
		{"payload=%7B%22type%22%3A%22block_actions%22%7D", "payload: field 'user.id': expected a string"},
		{"payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id%22%3A%22U1%22%7D%2C"
		 "%22actions%22%3A%5B%5D%7D", "payload: field 'actions': expected a non-empty array"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sg_error_clear(&err);
		assert_true(sg_slack_click_parse(&c, bad[i].body, strlen(bad[i].body), &err) < 0);
		assert_string_equal(err.msg, bad[i].msg);
		sg_slack_click_release(&c);
	}
	/* another interaction type parses and is left to the caller */
	const char *vs = "payload=%7B%22type%22%3A%22view_submission%22%7D";
	assert_int_equal(sg_slack_click_parse(&c, vs, strlen(vs), &err), 0);
	assert_string_equal(c.type, "view_submission");
	sg_slack_click_release(&c);
	/* the documented test vector of the signature scheme */
	char sig[SG_SIG_MAX];
	const char *b = "payload=%7B%22type%22%3A%22block_actions%22%7D";
	assert_int_equal(sg_sig_slack_sign(sig, SECRET, "1714564800", b, strlen(b)), 0);
	assert_string_equal(sig, "v0=0cb4af6cc6509f623f74f7f69a20b2e791a3ef0314e79c9537ca2236225b16a4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_errors),
		cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
