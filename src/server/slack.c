/*
 * slack.c - POST /v1/webhooks/slack: a button click on an escalation
 * message. Verifies the signature on the raw form body and the 5-minute
 * timestamp window, decodes the `payload` field, maps the Slack user to a
 * sopgate user (the Slack connector's `users` map; the role comes from the
 * user store), records the decision with sg_api_human (the console's code
 * path: two_step, roles, audit), then edits the original message with
 * chat.update to show who decided. A refused decision (unknown user, the
 * two-step rules, nothing to approve) is told to the clicking user alone
 * through the click's response_url.
 */
#include "server/slack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connectors/lookup.h"
#include "connectors/slack_message.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/id.h"
#include "core/json.h"
#include "policy/policy.h"
#include "server/api.h"
#include "server/webhook_sig.h"
#include "core/banned.h"

#define SLACK_API_DEFAULT "https://slack.com"
#define SLACK_TIMEOUT_MS 2000 /* Slack wants our answer within 3 s */

/* ---- the form body ------------------------------------------------------ */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes s[0..n) ('+' is a space) into b. -1 on a bad escape. */
static int form_decode(struct sg_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			sg_buf_addc(b, ' ');
		} else if (s[i] == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			sg_buf_addc(b, (char)(hi * 16 + lo));
			i += 2;
		} else {
			sg_buf_addc(b, s[i]);
		}
	}
	return 0;
}

void sg_slack_click_release(struct sg_slack_click *c)
{
	json_decref(c->payload);
	memset(c, 0, sizeof(*c));
}

static const char *jstr(const json_t *o, const char *path)
{
	return json_string_value(sg_lookup_json_path((json_t *)o, path));
}

int sg_slack_click_parse(struct sg_slack_click *out, const char *body, size_t len,
			 struct sg_error *err)
{
	struct sg_buf raw = SG_BUF_INIT;
	int rc = 0, found = 0;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < len;) {
		size_t end = i;
		while (end < len && body[end] != '&')
			end++;
		size_t eq = i;
		while (eq < end && body[eq] != '=')
			eq++;
		if (eq - i == 7 && !memcmp(body + i, "payload", 7) && eq < end) {
			if (found) {
				rc = sg_error_set(err, SG_EINVALID, "form field 'payload': given twice");
				goto cleanup;
			}
			found = 1;
			if (end - eq - 1 > 3 * (size_t)SG_SLACK_MAX_PAYLOAD) {
				rc = sg_error_set(err, SG_ELIMIT, "form field 'payload': over %u bytes",
						  SG_SLACK_MAX_PAYLOAD);
				goto cleanup;
			}
			if (form_decode(&raw, body + eq + 1, end - eq - 1) < 0) {
				rc = sg_error_set(err, SG_EINVALID,
						  "form field 'payload': bad percent-encoding");
				goto cleanup;
			}
		}
		i = end + 1;
	}
	if (!found) {
		rc = sg_error_set(err, SG_EINVALID, "form field 'payload': missing");
		goto cleanup;
	}
	if (raw.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (raw.len > SG_SLACK_MAX_PAYLOAD) {
		rc = sg_error_set(err, SG_ELIMIT, "form field 'payload': over %u bytes",
				  SG_SLACK_MAX_PAYLOAD);
		goto cleanup;
	}
	if ((rc = sg_json_parse(&out->payload, raw.data, raw.len, err)) < 0)
		goto cleanup;
	json_t *p = out->payload;
	if (!json_is_object(p)) {
		rc = sg_error_set(err, SG_EJSON, "payload: expected a JSON object");
		goto cleanup;
	}
	out->type = jstr(p, "type");
	if (!out->type) {
		rc = sg_error_set(err, SG_EJSON, "payload: field 'type': expected a string");
		goto cleanup;
	}
	if (strcmp(out->type, "block_actions"))
		goto cleanup; /* the caller ignores other interactions */
	out->user_id = jstr(p, "user.id");
	out->user_name = jstr(p, "user.username");
	if (!out->user_name)
		out->user_name = jstr(p, "user.name");
	out->team_id = jstr(p, "team.id");
	out->channel_id = jstr(p, "container.channel_id");
	if (!out->channel_id)
		out->channel_id = jstr(p, "channel.id");
	out->message_ts = jstr(p, "container.message_ts");
	if (!out->message_ts)
		out->message_ts = jstr(p, "message.ts");
	out->response_url = jstr(p, "response_url");
	out->blocks = sg_lookup_json_path(p, "message.blocks");
	json_t *acts = json_object_get(p, "actions");
	if (!out->user_id)
		rc = sg_error_set(err, SG_EJSON, "payload: field 'user.id': expected a string");
	else if (!json_is_array(acts) || !json_array_size(acts))
		rc = sg_error_set(err, SG_EJSON, "payload: field 'actions': expected a non-empty array");
	else if (!(out->action_id = jstr(acts, "[0].action_id")))
		rc = sg_error_set(err, SG_EJSON,
				  "payload: field 'actions[0].action_id': expected a string");
	else if (!(out->value = jstr(acts, "[0].value")))
		rc = sg_error_set(err, SG_EJSON, "payload: field 'actions[0].value': expected a string");
	else if (!out->channel_id || !out->message_ts)
		rc = sg_error_set(err, SG_EJSON,
				  "payload: field 'container': expected channel_id and message_ts");
	out->block_id = jstr(acts, "[0].block_id");
cleanup:
	sg_buf_release(&raw);
	return rc;
}

/* ---- configuration (the policy's Slack connector) --------------------- */

struct slack_cfg {
	const char *slack_user;  /* in: the clicking user */
	int found;               /* a slack connector exists */
	char secret_env[128], token_env[128], api[512];
	char user[SG_USER_NAME_MAX]; /* mapped sopgate user, "" if none */
};

static void copy(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

static int read_cfg(const struct sg_policy *p, void *ctx)
{
	struct slack_cfg *c = ctx;
	const struct sg_pnode *sec = sg_policy_section(p, "connectors");
	for (size_t i = 0; sec && sec->kind == SG_PN_MAP && i < sec->n; i++) {
		const struct sg_pnode *n = sec->items[i];
		if (strcmp(sg_pnode_str(n, "type", ""), "slack"))
			continue;
		c->found = 1;
		copy(c->secret_env, sizeof(c->secret_env), sg_pnode_str(n, "secret_env", NULL));
		copy(c->token_env, sizeof(c->token_env), sg_pnode_str(n, "token_env", NULL));
		copy(c->api, sizeof(c->api), sg_pnode_str(n, "base_url", SLACK_API_DEFAULT));
		if (c->slack_user)
			copy(c->user, sizeof(c->user),
			     sg_pnode_str(sg_pnode_get(n, "users"), c->slack_user, NULL));
		return 0;
	}
	return 0;
}

/* ---- calls to Slack ----------------------------------------------------- */

/* POSTs body (JSON) to url, with the bot token when given. Returns 0 when
 * Slack answered 2xx (and, for the Web API, "ok": true); else a message. */
static int slack_post(const char *url, const char *token, json_t *body, char *why, size_t n)
{
	struct sg_conn_request req;
	struct sg_conn_exchange x;
	struct sg_error err = SG_ERROR_INIT;
	int rc = -1;
	sg_conn_request_init(&req);
	memset(&x, 0, sizeof(x));
	sg_buf_init(&x.body);
	req.method = "POST";
	req.url = sg_strdup(url);
	req.timeout_ms = SLACK_TIMEOUT_MS;
	req.connect_timeout_ms = SLACK_TIMEOUT_MS;
	if (!req.url || sg_conn_request_json(&req, body, &err) < 0 ||
	    sg_conn_request_header(&req, "Content-Type: application/json; charset=utf-8") < 0 ||
	    (token && sg_conn_request_header(&req, "Authorization: Bearer %s", token) < 0)) {
		snprintf(why, n, "out of memory");
		goto cleanup;
	}
	/* one Content-Type: drop the plain one sg_conn_request_json added */
	for (size_t i = 0; i < req.nheaders; i++)
		if (!strcmp(req.headers[i], "Content-Type: application/json")) {
			sg_free(req.headers[i]);
			memmove(&req.headers[i], &req.headers[i + 1],
				(req.nheaders - i - 1) * sizeof(req.headers[0]));
			req.nheaders--;
			break;
		}
	if (sg_conn_perform(&x, &req, &err) < 0) {
		snprintf(why, n, "%.150s", err.msg);
		goto cleanup;
	}
	if (x.resp.timed_out || x.resp.transport_error) {
		snprintf(why, n, "%s", x.resp.transport_msg ? x.resp.transport_msg : "no answer");
		goto cleanup;
	}
	if (x.resp.status < 200 || x.resp.status > 299) {
		snprintf(why, n, "HTTP %ld", x.resp.status);
		goto cleanup;
	}
	json_t *j = token ? json_loadb(x.resp.body, x.resp.body_len, 0, NULL) : NULL;
	if (token && !json_is_true(json_object_get(j, "ok")))
		snprintf(why, n, "Slack answered ok:false (%s)",
			 json_string_value(json_object_get(j, "error"))
				 ? json_string_value(json_object_get(j, "error")) : "no error given");
	else
		rc = 0;
	json_decref(j);
cleanup:
	sg_conn_request_release(&req);
	sg_conn_exchange_release(&x);
	return rc;
}

/* Tells the clicking user alone why nothing was recorded. */
static void tell_user(const struct sg_slack_click *c, const char *text)
{
	char why[200];
	if (!c->response_url)
		return;
	json_t *b = json_pack("{s:s, s:b, s:s}", "response_type", "ephemeral", "replace_original", 0,
			      "text", text);
	(void)slack_post(c->response_url, NULL, b, why, sizeof(why));
}

/* ---- the handler ------------------------------------------------------- */

static const struct {
	const char *action_id, *action, *note, *done;
} buttons[] = {
	{SG_SLACK_ACT_APPROVE, "approve", "approved", "Approved"},
	{SG_SLACK_ACT_PARTIAL, "approve", "partial", "Approved in part"},
	{SG_SLACK_ACT_DENY, "reject", "denied", "Denied"},
	{SG_SLACK_ACT_REPLY, "reject", "reply manually", "Taken over to reply manually"},
};

/* The answer to Slack: 200 always once the request is authentic (Slack
 * shows an error icon otherwise), with what happened for the logs. */
static int answer(struct sg_http_resp *resp, json_t *o)
{
	int rc = sg_http_resp_json(resp, 200, o);
	json_decref(o);
	return rc;
}

static json_t *refused(const struct sg_slack_click *c, const char *code, const char *msg)
{
	char text[600];
	snprintf(text, sizeof(text), "sopgate did not record your click: %s", msg);
	tell_user(c, text);
	return json_pack("{s:b, s:{s:s, s:s}}", "recorded", 0, "error", "code", code, "message", msg);
}

int sg_slack_interact(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		      struct sg_error *err)
{
	struct sg_api *api = ctx;
	struct slack_cfg cfg;
	struct sg_slack_click c;
	struct sg_error e2 = SG_ERROR_INIT;
	json_t *o = NULL;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	memset(&c, 0, sizeof(c));
	sg_api_with_policy(api, read_cfg, &cfg);
	const char *secret = cfg.secret_env[0] ? getenv(cfg.secret_env) : NULL;
	if (!cfg.found || !secret || !*secret)
		return sg_error_set(err, SG_EUNAUTHORIZED,
				    "Slack requests cannot be verified: %s",
				    !cfg.found ? "the policy has no slack connector"
				    : !cfg.secret_env[0] ? "the slack connector names no secret_env"
							 : "its secret_env variable is not set");
	if ((rc = sg_sig_slack_verify(secret, sg_http_header(req, SG_SIG_SLACK_HEADER),
				      sg_http_header(req, SG_SIG_SLACK_TS_HEADER), req->body,
				      req->body_len, sg_now_ms() / 1000, SG_SIG_WINDOW_S, err)) < 0)
		return rc;
	if ((rc = sg_slack_click_parse(&c, req->body, req->body_len, err)) < 0)
		goto cleanup;
	if (strcmp(c.type, "block_actions")) {
		rc = answer(resp, json_pack("{s:b, s:s}", "recorded", 0, "ignored", c.type));
		goto cleanup;
	}
	size_t b = 0;
	while (b < sizeof(buttons) / sizeof(buttons[0]) && strcmp(buttons[b].action_id, c.action_id))
		b++;
	if (b == sizeof(buttons) / sizeof(buttons[0])) {
		rc = answer(resp, refused(&c, "invalid_argument", "unknown button"));
		goto cleanup;
	}
	/* who clicked: the Slack user, mapped to a sopgate user and role */
	cfg.slack_user = c.user_id;
	sg_api_with_policy(api, read_cfg, &cfg);
	struct sg_user u;
	char msg[500];
	if (!cfg.user[0]) {
		snprintf(msg, sizeof(msg), "Slack user %.32s is not mapped to a sopgate user "
			 "(the slack connector's `users`)", c.user_id);
		rc = answer(resp, refused(&c, "forbidden", msg));
		goto cleanup;
	}
	if (sg_api_user(api, cfg.user, &u, &e2) < 0) {
		rc = answer(resp, refused(&c, sg_error_name(e2.code), e2.msg));
		goto cleanup;
	}
	/* the same path as the console's approve/reject */
	/* the audit says where the click came from and who clicked in Slack */
	char note[160];
	snprintf(note, sizeof(note), "%s (Slack: %s by %.32s)", buttons[b].note, c.action_id,
		 c.user_id);
	if (sg_api_human(api, c.value, &u, buttons[b].action, note, NULL, &o, &e2) < 0) {
		rc = answer(resp, refused(&c, sg_error_name(e2.code), e2.msg));
		goto cleanup;
	}
	const char *status = json_string_value(json_object_get(o, "status"));
	int step = (int)json_integer_value(json_object_get(o, "step"));
	/* the message now says who decided */
	char line[600], iso[25], why[200] = "";
	sg_time_iso(sg_now_ms(), iso);
	snprintf(line, sizeof(line), "%s by <@%s> (%s, %s) at %s%s", buttons[b].done, c.user_id,
		 u.name, sg_role_name(u.role), iso,
		 status && !strcmp(status, "awaiting_second")
			 ? " — a second approval (lead or above, another person) is needed" : "");
	const char *token = cfg.token_env[0] ? getenv(cfg.token_env) : NULL;
	int updated = 0;
	if (!token || !*token) {
		snprintf(why, sizeof(why), "the slack connector's token_env is not set");
	} else {
		struct sg_buf url = SG_BUF_INIT, text = SG_BUF_INIT;
		size_t n = strlen(cfg.api);
		while (n && cfg.api[n - 1] == '/')
			n--;
		sg_buf_addf(&url, "%.*s/api/chat.update", (int)n, cfg.api);
		sg_buf_addf(&text, "Ticket %s: %s by %s", c.value, buttons[b].done, u.name);
		char suffix[40];
		snprintf(suffix, sizeof(suffix), "%s-%d", c.message_ts, step);
		json_t *body = json_pack(
			"{s:s, s:s, s:s, s:o}", "channel", c.channel_id, "ts", c.message_ts, "text",
			text.data, "blocks",
			sg_slack_decided_blocks(c.blocks, line,
						status && !strcmp(status, "awaiting_second"), suffix));
		updated = !url.oom && slack_post(url.data, token, body, why, sizeof(why)) == 0;
		sg_buf_release(&url);
		sg_buf_release(&text);
	}
	json_object_set_new(o, "recorded", json_true());
	json_object_set_new(o, "message_updated", json_boolean(updated));
	if (!updated)
		json_object_set_new(o, "update_error", json_string(why));
	rc = answer(resp, o);
	o = NULL;
cleanup:
	sg_slack_click_release(&c);
	return rc;
}
