/*
 * outbox_test.c - delivery end to end on a real SQLite file against fake
 * vendor servers on loopback: the exact request each connector sends
 * (method, path, headers, body), success, 4xx without retry, 429 with
 * Retry-After (seconds and HTTP-date), 5xx retried, timeouts, the dead
 * letter after max_attempts (audited), PagerDuty dedup on resend, Slack
 * application errors, SMTP reply codes, and the operator's retry / drop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "connectors/connector.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/json.h"
#include "outbox/fake_test.h"
#include "outbox/outbox.h"
#include "outbox/smtp_fake_test.h"
#include "policy/policy.h"
#include "store/store.h"

struct env {
	struct fake f;
	struct smtp_fake smtp;
	char db[512], url[600];
	struct sg_store *s;
	struct sg_policy *p;
	struct sg_connectors *cs;
	struct sg_outbox *ob;
	int n; /* tickets written */
};

static char tmpdir[256];

static const char *policy_fmt =
	"name: outbox-test\n"
	"queues: {q: {}}\n"
	"channels:\n"
	"  slack-refunds: {kind: slack, target: '#refunds'}\n"
	"  pd-oncall: {kind: pagerduty, target: support-oncall}\n"
	"  mail-legal: {kind: email, target: legal@acme.example}\n"
	"  hook: {kind: webhook, target: ops}\n"
	"classifier: {model: builtin, min_confidence: 0.7, triage_queue: q}\n"
	"intents: {other: {tier: low}}\n"
	"bands: {high: {intent: 0.8, sentiment: 0.7}, medium: {intent: 0.6}, summarize_only_below: 0.6}\n"
	"gates: {auto_send: {min_confidence: 0.85, plans: [free]}, default: agent_review}\n"
	"outbox: {max_attempts: %d, backoff: 1s, max_backoff: 1h}\n"
	"connectors:\n"
	"  hubspot: {type: hubspot, base_url: 'http://127.0.0.1:%u', token_env: SG_T_HUBSPOT,"
	" record: true, actions: [set_field], timeout: %s}\n"
	"  zendesk: {type: zendesk, base_url: 'http://127.0.0.1:%u', token_env: SG_T_ZD_TOKEN,"
	" user_env: SG_T_ZD_USER, record: true, author_id: 9100, tags: [vip-watch],"
	" custom_fields: {risk_tier: 360000000001}, timeout: %s}\n"
	"  intercom: {type: intercom, base_url: 'http://127.0.0.1:%u', token_env: SG_T_INTERCOM,"
	" admin_id: '3156780', actions: [reply], timeout: %s}\n"
	"  pagerduty: {type: pagerduty, base_url: 'http://127.0.0.1:%u', token_env: SG_T_PD,"
	" console_url: 'https://sopgate.example', timeout: %s}\n"
	"  slack: {type: slack, base_url: 'http://127.0.0.1:%u', token_env: SG_T_SLACK, timeout: %s}\n"
	"  mail: {type: smtp, base_url: 'smtp://127.0.0.1:%u', from: sopgate@acme.example, timeout: %s}\n"
	"  hook: {type: webhook, base_url: 'http://127.0.0.1:%u/hook', secret_env: SG_T_HOOK,"
	" timeout: %s}\n";

static void setup_env(struct env *e, int max_attempts, const char *timeout)
{
	static int seq;
	memset(e, 0, sizeof(*e));
	assert_int_equal(fake_start(&e->f, 200, "{}"), 0);
	assert_int_equal(smtp_fake_start(&e->smtp), 0);
	if (!tmpdir[0]) {
		const char *base = getenv("SG_TEST_TMP");
		snprintf(tmpdir, sizeof(tmpdir), "%s/outbox-test-XXXXXX", base ? base : "/tmp");
		assert_non_null(mkdtemp(tmpdir));
	}
	snprintf(e->db, sizeof(e->db), "%s/o%d.db", tmpdir, ++seq);
	snprintf(e->url, sizeof(e->url), "sqlite:%s", e->db);
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_open(&e->s, e->url, "test", &err), 0);
	char text[8192];
	unsigned p = e->f.port;
	snprintf(text, sizeof(text), policy_fmt, max_attempts, p, timeout, p, timeout, p, timeout,
		 p, timeout, p, timeout, e->smtp.port, timeout, p, timeout);
	struct sg_diags d;
	sg_diags_init(&d);
	if (sg_policy_load_mem(&e->p, "t.yaml", text, strlen(text), &d, &err) < 0) {
		struct sg_buf b = SG_BUF_INIT;
		sg_diags_format(&d, &b, 0);
		fail_msg("policy: %s\n%s", err.msg, b.data);
	}
	sg_diags_release(&d);
	setenv("SG_T_HUBSPOT", "hs-token", 1);
	setenv("SG_T_ZD_TOKEN", "zd-api-token", 1);
	setenv("SG_T_ZD_USER", "agent@example.com", 1);
	setenv("SG_T_INTERCOM", "ic-token", 1);
	setenv("SG_T_PD", "0123456789abcdef0123456789abcdef", 1);
	setenv("SG_T_SLACK", "xoxb-test", 1);
	setenv("SG_T_HOOK", "hook-secret", 1);
	if (sg_connectors_build(&e->cs, e->p, &err) < 0)
		fail_msg("connectors: %s", err.msg);
	struct sg_outbox_options o = {"test-worker", NULL, NULL};
	if (sg_outbox_new(&e->ob, e->url, e->cs, &o, &err) < 0)
		fail_msg("outbox: %s", err.msg);
}

static void teardown_env(struct env *e)
{
	sg_outbox_free(e->ob);
	sg_connectors_free(e->cs);
	sg_policy_free(e->p);
	sg_store_close(e->s);
	fake_stop(&e->f);
	smtp_fake_stop(&e->smtp);
}

static const char *decision_fmt =
	"{\"helpdesk_ticket_id\":\"%s\",\"intent\":\"get_refund\",\"intent_confidence\":0.91,"
	"\"urgency\":\"P2\",\"risk_tier\":\"%s\",\"gate\":\"%s\",\"ai_used\":true,"
	"\"guardrail_types\":[\"EMAIL\",\"REFUND\"],\"escalated\":false,\"escalation\":null,"
	"\"routed_queue\":\"refunds\",\"summary\":\"Customer issue: refund for March\\n\","
	"\"reasons\":[{\"rule\":\"refund-over-500\",\"where\":\"policy.yaml:12\","
	"\"detail\":\"facts.refund_amount = 700 > 500\"}],"
	"\"draft\":{\"text\":\"We have refunded [AMOUNT_1].\",\"sources\":[]},"
	"\"policy_version\":\"v1\"}";

/* Writes one ticket event with the given actions (payload JSON texts). */
static void enqueue(struct env *e, const char *ticket, const char *gate,
		    const struct sg_outbox_action *acts, size_t n)
{
	char dec[2048], ev[64];
	snprintf(dec, sizeof(dec), decision_fmt, ticket, "high", gate);
	snprintf(ev, sizeof(ev), "ev-%d", ++e->n);
	struct sg_ticket_write w;
	memset(&w, 0, sizeof(w));
	w.ticket_id = ticket;
	w.event_id = ev;
	w.event_json = "{}";
	w.decision_json = dec;
	w.gate = gate;
	w.risk_tier = "high";
	w.intent = "get_refund";
	w.queue = "refunds";
	w.policy_version = "v1";
	w.actions = acts;
	w.nactions = n;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_store_ticket_write(e->s, &w, &err) < 0)
		fail_msg("write: %s", err.msg);
}

/* A "record" action for connector `c` carrying the decision. */
static char *record_payload(const char *c, const char *ticket, const char *gate, const char *part)
{
	char dec[2048];
	snprintf(dec, sizeof(dec), decision_fmt, ticket, "high", gate);
	json_t *d = json_loads(dec, 0, NULL);
	json_t *a = json_pack("{s:s, s:s, s:o}", "kind", "record", "connector", c, "decision", d);
	if (part)
		json_object_set_new(a, "part", json_string(part));
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static const char *escalate_payload =
	"{\"kind\":\"escalate\",\"owner\":\"support-lead\",\"channel\":\"%s\",\"sla_minutes\":60,"
	"\"due_at\":\"2026-01-01T10:00:00.000Z\",\"context\":{\"ticket_id\":\"T-4829\","
	"\"customer\":{\"id\":\"C-77\",\"name\":\"Jane Smith\",\"tier\":\"premium\","
	"\"tenure_months\":18,\"ltv\":4200},\"issue\":\"Refund for March invoice ($199)\","
	"\"finding\":\"Confirmed 47-hour outage\",\"recommendation\":\"Full refund of $199\","
	"\"urgency\":\"P0\",\"intent\":\"get_refund\",\"gate\":\"two_step\"}}";

static void run(struct env *e, struct sg_outbox_stats *st)
{
	struct sg_error err = SG_ERROR_INIT;
	memset(st, 0, sizeof(*st));
	if (sg_outbox_run(e->ob, 0, st, &err) < 0)
		fail_msg("run: %s", err.msg);
}

struct rowcap {
	struct sg_outbox_row r;
	char last_error[300], state[16];
	int n;
};

static int cap_row(const struct sg_outbox_row *r, void *ctx)
{
	struct rowcap *c = ctx;
	c->r = *r;
	snprintf(c->last_error, sizeof(c->last_error), "%s", r->last_error ? r->last_error : "");
	snprintf(c->state, sizeof(c->state), "%s", r->state);
	c->n++;
	return 0;
}

/* The one row of the outbox (tests queue one action at a time). */
static struct rowcap only_row(struct env *e)
{
	struct rowcap c;
	memset(&c, 0, sizeof(c));
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_outbox_list(e->s, NULL, NULL, 0, cap_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	return c;
}

static json_t *req_json(const struct fake_req *r)
{
	json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
	if (!j)
		fail_msg("request body is not JSON: %.*s", (int)r->body_len, r->body);
	return j;
}

static void expect_header(const struct fake_req *r, const char *name, const char *want)
{
	char v[512];
	if (!fake_header(r, name, v, sizeof(v)))
		fail_msg("header %s missing in:\n%s", name, r->headers);
	if (want && strcmp(v, want))
		fail_msg("header %s: expected '%s', got '%s'", name, want, v);
}

static int audit_has(const struct sg_audit_record *r, void *ctx)
{
	const char **want = ctx;
	if (!strcmp(r->action, want[0]) && strstr(r->body, want[1]))
		want[2] = "found";
	return 0;
}

static void expect_audit(struct env *e, const char *action, const char *needle)
{
	const char *want[3] = {action, needle, NULL};
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_store_audit_scan(e->s, NULL, 0, audit_has, want, &err), 0);
	if (!want[2])
		fail_msg("no audit record %s containing %s", action, needle);
}

/* ---- exact requests ---------------------------------------------------- */

static void test_webhook_request(void **state)
{
	(void)state;
	struct env e;
	struct sg_outbox_stats st;
	setup_env(&e, 3, "5s");
	struct sg_outbox_action a = {"notify", "hook",
				     "{\"kind\":\"notify\",\"channel\":\"hook\",\"message\":\"hi\"}",
				     "key-1"};
	enqueue(&e, "T-1", "agent_review", &a, 1);
	run(&e, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(fake_nreqs(&e.f), 1);
	struct fake_req *r = &e.f.reqs[0];
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, "/hook");
	expect_header(r, "content-type", "application/json");
	expect_header(r, "idempotency-key", "key-1");
	expect_header(r, "user-agent", "sopgate");
	/* the signature verifies: HMAC-SHA256(secret, ts + "." + body) */
	char ts[32], sig[128], want[80], hex[SG_SHA256_HEX];
	uint8_t mac[SG_SHA256_LEN];
	assert_non_null(fake_header(r, "x-sopgate-timestamp", ts, sizeof(ts)));
	assert_non_null(fake_header(r, "x-sopgate-signature", sig, sizeof(sig)));
	struct sg_buf msg = SG_BUF_INIT;
	sg_buf_addf(&msg, "%s.", ts);
	sg_buf_add(&msg, r->body, r->body_len);
	sg_hmac_sha256("hook-secret", 11, msg.data, msg.len, mac);
	sg_buf_release(&msg);
	sg_hex(mac, sizeof(mac), hex);
	snprintf(want, sizeof(want), "sha256=%s", hex);
	assert_string_equal(sig, want);
	json_t *b = req_json(r);
	assert_string_equal(json_string_value(json_object_get(b, "id")), "key-1");
	assert_string_equal(json_string_value(json_object_get(b, "ticket_id")), "T-1");
	assert_string_equal(json_string_value(json_object_get(b, "target")), "ops");
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "action"), "message")), "hi");
	json_decref(b);
	struct rowcap c = only_row(&e);
	assert_string_equal(c.state, "sent");
	expect_audit(&e, "outbox.sent", "\"idem_key\":\"key-1\"");
	teardown_env(&e);
}

static void test_hubspot_request(void **state)
{
	(void)state;
	struct env e;
	struct sg_outbox_stats st;
	setup_env(&e, 3, "5s");
	char *pl = record_payload("hubspot", "512345", "two_step", NULL);
	struct sg_outbox_action a = {"record", NULL, pl, NULL};
	enqueue(&e, "512345", "two_step", &a, 1);
	sg_free(pl);
	fake_push(&e.f, 200, NULL,
		  "{\"id\":\"512345\",\"properties\":{},\"createdAt\":\"2024-04-30T09:00:00.000Z\","
		  "\"updatedAt\":\"2024-05-01T12:00:05.000Z\",\"archived\":false}", 0);
	run(&e, &st);
	assert_int_equal(st.sent, 1);
	struct fake_req *r = &e.f.reqs[0];
	assert_string_equal(r->method, "PATCH");
	assert_string_equal(r->url, "/crm/v3/objects/tickets/512345");
	expect_header(r, "authorization", "Bearer hs-token");
	expect_header(r, "content-type", "application/json");
	expect_header(r, "idempotency-key", NULL);
	json_t *b = req_json(r);
	json_t *props = json_object_get(b, "properties");
	assert_string_equal(json_string_value(json_object_get(props, "sopgate_risk_tier")), "high");
	assert_string_equal(json_string_value(json_object_get(props, "sopgate_gate")), "two_step");
	/* every value travels as a string */
	assert_string_equal(json_string_value(json_object_get(props, "sopgate_intent_confidence")), "0.91");
	assert_string_equal(json_string_value(json_object_get(props, "sopgate_ai_used")), "true");
	assert_string_equal(json_string_value(json_object_get(props, "sopgate_guardrail_types")), "EMAIL;REFUND");
	assert_string_equal(json_string_value(json_object_get(props, "sopgate_escalation_owner")), "");
	const char *k;
	json_t *v;
	json_object_foreach(props, k, v)
		if (!json_is_string(v))
			fail_msg("property %s is not a string", k);
	json_decref(b);
	teardown_env(&e);
}

static void test_zendesk_requests(void **state)
{
	(void)state;
	struct env e;
	struct sg_outbox_stats st;
	setup_env(&e, 3, "5s");
	char *p1 = record_payload("zendesk", "4321", "agent_review", NULL);
	char *p2 = record_payload("zendesk", "4321", "agent_review", "tags");
	struct sg_outbox_action a[2] = {{"record", NULL, p1, NULL}, {"record", NULL, p2, NULL}};
	enqueue(&e, "4321", "agent_review", a, 2);
	sg_free(p1);
	sg_free(p2);
	run(&e, &st);
	assert_int_equal(st.sent, 2);
	assert_int_equal(fake_nreqs(&e.f), 2);
	int seen_update = 0, seen_tags = 0;
	for (size_t i = 0; i < 2; i++) {
		struct fake_req *r = &e.f.reqs[i];
		assert_string_equal(r->method, "PUT");
		/* the documented test vector for agent@example.com/token:zd-api-token */
		expect_header(r, "authorization", "Basic YWdlbnRAZXhhbXBsZS5jb20vdG9rZW46emQtYXBpLXRva2Vu");
		json_t *b = req_json(r);
		if (!strcmp(r->url, "/api/v2/tickets/4321")) {
			seen_update = 1;
			json_t *t = json_object_get(b, "ticket");
			json_t *cm = json_object_get(t, "comment");
			assert_true(json_is_false(json_object_get(cm, "public")));
			assert_int_equal(json_integer_value(json_object_get(cm, "author_id")), 9100);
			const char *body = json_string_value(json_object_get(cm, "body"));
			assert_non_null(strstr(body, "gate agent_review"));
			assert_non_null(strstr(body, "Customer issue: refund for March"));
			assert_non_null(strstr(body, "refund-over-500: facts.refund_amount = 700 > 500"));
			json_t *cf = json_array_get(json_object_get(t, "custom_fields"), 0);
			assert_int_equal(json_integer_value(json_object_get(cf, "id")), 360000000001LL);
			assert_string_equal(json_string_value(json_object_get(cf, "value")), "high");
			/* tags never ride on the update: it would replace them all */
			assert_null(json_object_get(t, "tags"));
		} else {
			assert_string_equal(r->url, "/api/v2/tickets/4321/tags");
			seen_tags = 1;
			json_t *tags = json_object_get(b, "tags");
			assert_string_equal(json_string_value(json_array_get(tags, 0)), "sopgate");
			assert_string_equal(json_string_value(json_array_get(tags, 1)), "get_refund");
			assert_string_equal(json_string_value(json_array_get(tags, 3)), "vip-watch");
		}
		json_decref(b);
	}
	assert_true(seen_update && seen_tags);
	teardown_env(&e);

	/* auto-sent: the draft goes out as a public reply */
	setup_env(&e, 3, "5s");
	p1 = record_payload("zendesk", "4322", "auto_send", NULL);
	struct sg_outbox_action one = {"record", NULL, p1, NULL};
	enqueue(&e, "4322", "auto_send", &one, 1);
	sg_free(p1);
	run(&e, &st);
	json_t *b = req_json(&e.f.reqs[0]);
	json_t *cm = json_object_get(json_object_get(b, "ticket"), "comment");
	assert_true(json_is_true(json_object_get(cm, "public")));
	assert_string_equal(json_string_value(json_object_get(cm, "body")), "We have refunded [AMOUNT_1].");
	json_decref(b);
	teardown_env(&e);
}

static void test_intercom_request(void **state)
{
	(void)state;
	struct env e;
	struct sg_outbox_stats st;
	setup_env(&e, 3, "5s");
	struct sg_outbox_action a = {"reply", NULL,
				     "{\"kind\":\"reply\",\"conversation_id\":\"123456\",\"text\":\"Thanks <b>\"}",
				     NULL};
	enqueue(&e, "T-9", "auto_send", &a, 1);
	fake_push(&e.f, 200, NULL, "{\"type\":\"conversation\",\"id\":\"123456\"}", 0);
	run(&e, &st);
	assert_int_equal(st.sent, 1);
	struct fake_req *r = &e.f.reqs[0];
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, "/conversations/123456/reply");
	expect_header(r, "authorization", "Bearer ic-token");
	expect_header(r, "intercom-version", "2.11");
	expect_header(r, "accept", "application/json");
	json_t *b = req_json(r);
	assert_string_equal(json_string_value(json_object_get(b, "message_type")), "comment");
	assert_string_equal(json_string_value(json_object_get(b, "type")), "admin");
	assert_string_equal(json_string_value(json_object_get(b, "admin_id")), "3156780");
	assert_string_equal(json_string_value(json_object_get(b, "body")), "<p>Thanks &lt;b&gt;</p>");
	json_decref(b);
	teardown_env(&e);
}

static void test_pagerduty_request_and_dedup(void **state)
{
	(void)state;
	struct env e;
	struct sg_outbox_stats st;
	setup_env(&e, 3, "5s");
	e.f.dedup_field = "dedup_key";
	char pl[2048];
	snprintf(pl, sizeof(pl), escalate_payload, "pd-oncall");
	struct sg_outbox_action a = {"escalate", "pd-oncall", pl, NULL};
	enqueue(&e, "T-4829", "two_step", &a, 1);
	/* first answer lost (503, come back now), then accepted: the resend
	 * carries the same dedup_key, so PagerDuty sees one alert */
	fake_push(&e.f, 503, "Retry-After: 0\n", "", 0);
	fake_push(&e.f, 202, NULL, "{\"status\":\"success\",\"message\":\"Event processed\","
		  "\"dedup_key\":\"sopgate-T-4829-support-lead\"}", 0);
	fake_push(&e.f, 202, NULL, "{\"status\":\"success\",\"message\":\"Event processed\","
		  "\"dedup_key\":\"sopgate-T-4829-support-lead\"}", 0);
	run(&e, &st);
	assert_int_equal(st.retried, 1);
	assert_int_equal(st.sent, 1);
	assert_int_equal(fake_nreqs(&e.f), 2);
	struct fake_req *r = &e.f.reqs[1];
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, "/v2/enqueue");
	expect_header(r, "content-type", "application/json");
	char v[64];
	assert_null(fake_header(r, "idempotency-key", v, sizeof(v)));
	assert_null(fake_header(r, "authorization", v, sizeof(v)));
	json_t *b = req_json(r);
	assert_string_equal(json_string_value(json_object_get(b, "routing_key")), "0123456789abcdef0123456789abcdef");
	assert_string_equal(json_string_value(json_object_get(b, "event_action")), "trigger");
	assert_string_equal(json_string_value(json_object_get(b, "dedup_key")), "sopgate-T-4829-support-lead");
	json_t *p = json_object_get(b, "payload");
	assert_string_equal(json_string_value(json_object_get(p, "source")), "sopgate");
	assert_string_equal(json_string_value(json_object_get(p, "severity")), "critical");
	assert_non_null(strstr(json_string_value(json_object_get(p, "summary")), "T-4829"));
	assert_string_equal(json_string_value(json_object_get(b, "client_url")),
			    "https://sopgate.example/#/tickets/T-4829");
	json_decref(b);
	json_t *b0 = req_json(&e.f.reqs[0]);
	assert_string_equal(json_string_value(json_object_get(b0, "dedup_key")), "sopgate-T-4829-support-lead");
	json_decref(b0);
	int max_hits;
	assert_int_equal(fake_effects(&e.f, &max_hits), 1);

	/* the same escalation delivered again (a crash before marking it
	 * sent): the fake's dedup keeps one alert */
	enqueue(&e, "T-4829", "two_step", &a, 1);
	run(&e, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(fake_effects(&e.f, &max_hits), 1);
	assert_int_equal(max_hits, 2);
	teardown_env(&e);
}

static void test_slack_request(void **state)
{
	(void)state;
	struct env e;
	struct sg_outbox_stats st;
	setup_env(&e, 3, "5s");
	char pl[2048];
	snprintf(pl, sizeof(pl), escalate_payload, "slack-refunds");
	struct sg_outbox_action a = {"escalate", "slack-refunds", pl, NULL};
	enqueue(&e, "T-4829", "two_step", &a, 1);
	fake_push(&e.f, 200, NULL, "{\"ok\":true,\"channel\":\"C0123456789\",\"ts\":\"1714564800.000100\"}", 0);
	run(&e, &st);
	assert_int_equal(st.sent, 1);
	struct fake_req *r = &e.f.reqs[0];
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, "/api/chat.postMessage");
	expect_header(r, "authorization", "Bearer xoxb-test");
	expect_header(r, "content-type", "application/json; charset=utf-8");
	json_t *b = req_json(r);
	assert_string_equal(json_string_value(json_object_get(b, "channel")), "#refunds");
	assert_non_null(strstr(json_string_value(json_object_get(b, "text")), "T-4829"));
	json_t *blocks = json_object_get(b, "blocks");
	assert_int_equal(json_array_size(blocks), 3);
	const char *head = json_string_value(json_object_get(json_object_get(json_array_get(blocks, 0), "text"), "text"));
	assert_string_equal(head, "*Support Escalation — Ticket #T-4829* → support-lead (SLA 60 min)");
	const char *ctx = json_string_value(json_object_get(json_object_get(json_array_get(blocks, 1), "text"), "text"));
	assert_string_equal(ctx, "*Customer:* Jane Smith (Premium, 18mo, $4,200 LTV)\n"
			    "*Issue:* Refund for March invoice ($199)\n"
			    "*Agent:* Confirmed 47-hour outage\n"
			    "*Recommendation:* Full refund of $199");
	json_t *acts = json_array_get(blocks, 2);
	assert_string_equal(json_string_value(json_object_get(acts, "type")), "actions");
	assert_string_equal(json_string_value(json_object_get(acts, "block_id")), "decision:T-4829");
	const char *ids[] = {"approve", "partial", "deny", "reply_manually"};
	const char *labels[] = {"Approve", "Partial", "Deny", "Reply manually"};
	json_t *els = json_object_get(acts, "elements");
	assert_int_equal(json_array_size(els), 4);
	for (size_t i = 0; i < 4; i++) {
		json_t *btn = json_array_get(els, i);
		assert_string_equal(json_string_value(json_object_get(btn, "action_id")), ids[i]);
		assert_string_equal(json_string_value(json_object_get(json_object_get(btn, "text"), "text")), labels[i]);
		assert_string_equal(json_string_value(json_object_get(btn, "value")), "T-4829");
	}
	assert_string_equal(json_string_value(json_object_get(json_array_get(els, 0), "style")), "primary");
	assert_string_equal(json_string_value(json_object_get(json_array_get(els, 2), "style")), "danger");
	json_decref(b);
	expect_audit(&e, "outbox.sent", "\"external_id\":\"1714564800.000100\"");

	/* an application error comes back as 200 + ok:false: no retry */
	enqueue(&e, "T-4830", "two_step", &a, 1);
	fake_push(&e.f, 200, NULL, "{\"ok\":false,\"error\":\"channel_not_found\"}", 0);
	run(&e, &st);
	assert_int_equal(st.dead, 1);
	/* and "ratelimited" is retried */
	enqueue(&e, "T-4831", "two_step", &a, 1);
	fake_push(&e.f, 200, NULL, "{\"ok\":false,\"error\":\"ratelimited\"}", 0);
	run(&e, &st);
	assert_int_equal(st.retried, 1);
	teardown_env(&e);
}

static void test_smtp_message(void **state)
{
	(void)state;
	struct env e;
	struct sg_outbox_stats st;
	setup_env(&e, 3, "5s");
	char pl[2048];
	snprintf(pl, sizeof(pl), escalate_payload, "mail-legal");
	struct sg_outbox_action a = {"escalate", "mail-legal", pl, "idem-mail-1"};
	enqueue(&e, "T-4829", "two_step", &a, 1);
	run(&e, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(e.smtp.messages, 1);
	assert_string_equal(e.smtp.mail_from, "<sopgate@acme.example>");
	assert_string_equal(e.smtp.rcpt_to, "<legal@acme.example>");
	assert_non_null(strstr(e.smtp.message, "To: legal@acme.example\r\n"));
	assert_non_null(strstr(e.smtp.message, "Subject: [sopgate] Escalation: ticket T-4829 for support-lead\r\n"));
	assert_non_null(strstr(e.smtp.message, "Customer: Jane Smith (premium, 18mo, $4200 LTV)\r\n"));
	assert_non_null(strstr(e.smtp.message, "Recommendation: Full refund of $199\r\n"));
	char mid[SG_SHA256_HEX], want[100];
	sg_sha256_hex("idem-mail-1", 11, mid);
	snprintf(want, sizeof(want), "Message-ID: <%.32s@sopgate>\r\n", mid);
	assert_non_null(strstr(e.smtp.message, want));

	/* 451 at the end of DATA: retried; 550 on RCPT: dead at once */
	e.smtp.data_code = 451;
	struct sg_outbox_action b = {"escalate", "mail-legal", pl, "idem-mail-2"};
	enqueue(&e, "T-2", "two_step", &b, 1);
	run(&e, &st);
	assert_int_equal(st.retried, 1);
	e.smtp.rcpt_code = 550;
	struct sg_outbox_action c = {"escalate", "mail-legal", pl, "idem-mail-3"};
	enqueue(&e, "T-3", "two_step", &c, 1);
	run(&e, &st);
	assert_int_equal(st.dead, 1);
	teardown_env(&e);

	/* a server that never greets: the timeout is retried, and after
	 * max_attempts (2) the message is a dead letter */
	setup_env(&e, 2, "1s");
	e.smtp.stall_ms = 2500;
	struct sg_outbox_action t = {"escalate", "mail-legal", pl, "idem-mail-4"};
	enqueue(&e, "T-4", "two_step", &t, 1);
	run(&e, &st);
	struct rowcap r = only_row(&e);
	assert_string_equal(r.state, "pending");
	assert_non_null(strstr(r.last_error, "timed out"));
	struct timespec ts = {1, 100 * 1000 * 1000};
	nanosleep(&ts, NULL); /* the backoff (1 s base: at most 1 s) */
	run(&e, &st);
	r = only_row(&e);
	assert_string_equal(r.state, "dead");
	assert_int_equal(r.r.attempts, 2);
	assert_int_equal(e.smtp.messages, 0);
	teardown_env(&e);
}

/* ---- behaviours, for every HTTP connector -------------------------------- */

struct kind_case {
	const char *name;    /* connector */
	const char *kind, *target, *payload;
	int min_retry_ms;    /* the connector's floor on a 429 delay */
};

static char esc_slack[2048], esc_pd[2048];
static char *rec_hubspot, *rec_zendesk;

static const struct kind_case *cases(size_t *n)
{
	static struct kind_case c[6];
	snprintf(esc_slack, sizeof(esc_slack), escalate_payload, "slack-refunds");
	snprintf(esc_pd, sizeof(esc_pd), escalate_payload, "pd-oncall");
	if (!rec_hubspot) {
		rec_hubspot = record_payload("hubspot", "T-7", "two_step", NULL);
		rec_zendesk = record_payload("zendesk", "T-7", "two_step", NULL);
	}
	c[0] = (struct kind_case){"hubspot", "record", NULL, rec_hubspot, 0};
	c[1] = (struct kind_case){"zendesk", "record", NULL, rec_zendesk, 0};
	c[2] = (struct kind_case){"intercom", "reply", NULL,
				  "{\"kind\":\"reply\",\"conversation_id\":\"9\",\"text\":\"x\"}", 0};
	c[3] = (struct kind_case){"pagerduty", "escalate", "pd-oncall", esc_pd, 30000};
	c[4] = (struct kind_case){"slack", "escalate", "slack-refunds", esc_slack, 0};
	c[5] = (struct kind_case){"webhook", "notify", "hook",
				  "{\"kind\":\"notify\",\"channel\":\"hook\"}", 0};
	*n = 6;
	return c;
}

static void one(struct env *e, const struct kind_case *k)
{
	struct sg_outbox_action a = {k->kind, k->target, k->payload, NULL};
	enqueue(e, "T-7", "two_step", &a, 1);
}

static void test_4xx_no_retry(void **state)
{
	(void)state;
	size_t n;
	const struct kind_case *c = cases(&n);
	for (size_t i = 0; i < n; i++) {
		struct env e;
		struct sg_outbox_stats st;
		setup_env(&e, 5, "5s");
		one(&e, &c[i]);
		fake_push(&e.f, 400, NULL, "{\"message\":\"bad request\"}", 0);
		run(&e, &st);
		if (st.dead != 1 || fake_nreqs(&e.f) != 1)
			fail_msg("%s: 400 should be dead after one request (dead %lu, requests %zu)",
				 c[i].name, st.dead, fake_nreqs(&e.f));
		struct rowcap r = only_row(&e);
		assert_string_equal(r.state, "dead");
		assert_int_equal(r.r.attempts, 1);
		assert_non_null(strstr(r.last_error, "HTTP 400"));
		expect_audit(&e, "outbox.dead", "HTTP 400");
		teardown_env(&e);
	}
}

static void test_429_retry_after(void **state)
{
	(void)state;
	size_t n;
	const struct kind_case *c = cases(&n);
	for (size_t i = 0; i < n; i++) {
		for (int form = 0; form < 2; form++) {
			struct env e;
			struct sg_outbox_stats st;
			setup_env(&e, 5, "5s");
			one(&e, &c[i]);
			char hdr[128];
			int64_t before = sg_now_ms();
			if (form == 0) {
				snprintf(hdr, sizeof(hdr), "Retry-After: 7\n");
			} else {
				/* an HTTP-date 20 s ahead */
				time_t t = (time_t)(before / 1000) + 20;
				struct tm tm;
				gmtime_r(&t, &tm);
				char date[64];
				strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
				snprintf(hdr, sizeof(hdr), "Retry-After: %s\n", date);
			}
			fake_push(&e.f, 429, hdr, "{\"message\":\"slow down\"}", 0);
			run(&e, &st);
			int64_t after = sg_now_ms();
			struct rowcap r = only_row(&e);
			if (strcmp(r.state, "pending") || st.retried != 1)
				fail_msg("%s: 429 should be retried", c[i].name);
			int64_t want = form == 0 ? 7000 : 20000;
			if (want < c[i].min_retry_ms)
				want = c[i].min_retry_ms;
			/* the HTTP-date has one-second resolution */
			int64_t slack = form == 0 ? 0 : 1000;
			if (r.r.next_attempt_ms < before + want - slack ||
			    r.r.next_attempt_ms > after + want + slack)
				fail_msg("%s: next attempt %lld ms after the 429, expected %lld",
					 c[i].name, (long long)(r.r.next_attempt_ms - before),
					 (long long)want);
			assert_int_equal(fake_nreqs(&e.f), 1);
			teardown_env(&e);
		}
	}
}

static void test_5xx_retry_then_dead(void **state)
{
	(void)state;
	size_t n;
	const struct kind_case *c = cases(&n);
	for (size_t i = 0; i < n; i++) {
		struct env e;
		struct sg_outbox_stats st;
		setup_env(&e, 3, "5s");
		one(&e, &c[i]);
		/* a 503 is retried with backoff (1 s base: half to all of it) */
		fake_push(&e.f, 503, NULL, "unavailable", 0);
		int64_t before = sg_now_ms();
		run(&e, &st);
		int64_t after = sg_now_ms();
		struct rowcap r = only_row(&e);
		if (strcmp(r.state, "pending"))
			fail_msg("%s: 503 should stay pending", c[i].name);
		assert_int_equal(r.r.attempts, 1);
		assert_non_null(strstr(r.last_error, "HTTP 503"));
		assert_true(r.r.next_attempt_ms >= before + 500 && r.r.next_attempt_ms <= after + 1000);
		/* then every answer fails and says "now": dead at max_attempts (3) */
		fake_push(&e.f, 502, "Retry-After: 0\n", "", 0);
		fake_push(&e.f, 500, "Retry-After: 0\n", "", 0);
		fake_push(&e.f, 200, NULL, "{\"ok\":true}", 0); /* never reached */
		struct timespec ts = {1, 100 * 1000 * 1000};
		nanosleep(&ts, NULL); /* the backoff of the first failure */
		run(&e, &st);
		r = only_row(&e);
		if (strcmp(r.state, "dead"))
			fail_msg("%s: expected a dead letter after 3 attempts, state %s", c[i].name,
				 r.state);
		assert_int_equal(r.r.attempts, 3);
		assert_int_equal(fake_nreqs(&e.f), 3);
		assert_int_equal(st.dead, 1);
		expect_audit(&e, "outbox.dead", "\"attempts\":3");
		teardown_env(&e);
	}
}

static void test_timeout_retried(void **state)
{
	(void)state;
	size_t n;
	const struct kind_case *c = cases(&n);
	for (size_t i = 0; i < n; i++) {
		struct env e;
		struct sg_outbox_stats st;
		setup_env(&e, 3, "1s");
		one(&e, &c[i]);
		fake_push(&e.f, 200, NULL, "{\"ok\":true}", 2500);
		run(&e, &st);
		struct rowcap r = only_row(&e);
		if (strcmp(r.state, "pending") || !strstr(r.last_error, "timed out"))
			fail_msg("%s: a timeout should be retried (state %s, %s)", c[i].name, r.state,
				 r.last_error);
		teardown_env(&e);
	}
}

/* ---- routing failures and operators ------------------------------------ */

static int count_state(const struct sg_outbox_row *r, void *ctx)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static void test_unroutable_and_operator(void **state)
{
	(void)state;
	struct env e;
	struct sg_outbox_stats st;
	struct sg_error err = SG_ERROR_INIT;
	setup_env(&e, 3, "5s");
	struct sg_outbox_action a[3] = {
		{"notify", "nowhere", "{\"kind\":\"notify\",\"channel\":\"nowhere\"}", "k-a"},
		{"assign", NULL, "{\"kind\":\"assign\",\"queue\":\"q\"}", "k-b"},
		{"notify", "hook", "{\"kind\":\"notify\",\"channel\":\"hook\"}", "k-c"},
	};
	enqueue(&e, "T-1", "agent_review", a, 3);
	fake_push(&e.f, 404, NULL, "not here", 0);
	run(&e, &st);
	assert_int_equal(st.dead, 2); /* unknown channel, and the 404 */
	assert_int_equal(st.skipped, 1); /* assign: nothing to deliver */
	int dead = 0;
	assert_int_equal(sg_store_outbox_list(e.s, "dead", NULL, 0, count_state, &dead, &err), 0);
	assert_int_equal(dead, 2);

	/* retry every dead letter: back to pending, attempts reset, audited */
	long moved = 0;
	assert_int_equal(sg_store_outbox_retry(e.s, NULL, "ops-alice", &moved, &err), 0);
	assert_int_equal(moved, 2);
	expect_audit(&e, "outbox.retry", "\"count\":2");
	run(&e, &st); /* the hook answers 200 now; the channel is still unknown */
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.dead, 1);

	/* drop the one that can never go; a sent one cannot be dropped */
	struct rowcap c;
	memset(&c, 0, sizeof(c));
	assert_int_equal(sg_store_outbox_list(e.s, "dead", NULL, 0, cap_row, &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(sg_store_outbox_drop(e.s, c.r.id, "ops-alice", &err), 0);
	expect_audit(&e, "outbox.drop", "\"idem_key\":\"k-a\"");
	memset(&c, 0, sizeof(c));
	assert_int_equal(sg_store_outbox_list(e.s, "sent", NULL, 0, cap_row, &c, &err), 0);
	assert_true(c.n >= 1);
	sg_error_clear(&err);
	assert_int_equal(sg_store_outbox_drop(e.s, c.r.id, "ops-alice", &err), -SG_ENOTFOUND);
	sg_error_clear(&err);
	assert_int_equal(sg_store_outbox_retry(e.s, "nope", "ops", &moved, &err), -SG_ENOTFOUND);
	teardown_env(&e);
}

static void test_backoff(void **state)
{
	(void)state;
	for (int a = 1; a <= 12; a++) {
		int64_t cap = 1000LL << (a - 1);
		if (cap > 60000)
			cap = 60000;
		for (int k = 0; k < 50; k++) {
			int64_t d = sg_outbox_backoff_ms(a, 1000, 60000);
			assert_true(d >= cap / 2 && d <= cap);
		}
	}
}

int main(void)
{
	sg_json_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_webhook_request),
		cmocka_unit_test(test_hubspot_request),
		cmocka_unit_test(test_zendesk_requests),
		cmocka_unit_test(test_intercom_request),
		cmocka_unit_test(test_pagerduty_request_and_dedup),
		cmocka_unit_test(test_slack_request),
		cmocka_unit_test(test_smtp_message),
		cmocka_unit_test(test_4xx_no_retry),
		cmocka_unit_test(test_429_retry_after),
		cmocka_unit_test(test_5xx_retry_then_dead),
		cmocka_unit_test(test_timeout_retried),
		cmocka_unit_test(test_unroutable_and_operator),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	sg_free(rec_hubspot);
	sg_free(rec_zendesk);
	return rc;
}
