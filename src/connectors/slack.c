/*
 * slack.c - Slack chat.postMessage in the reference escalation format:
 * the ticket, the customer (name, tier, tenure, LTV), the issue, the
 * agent's finding and the recommendation, with the buttons Approve /
 * Partial / Deny / Reply manually (action ids approve, partial, deny,
 * reply_manually; value = the ticket id; block_id "decision:<ticket>")
 * that the interactivity endpoint handles. Slack answers application
 * errors with HTTP 200 and {"ok":false}: those are classified here.
 */
#include "connectors/connectors_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/banned.h"

#define SLACK_BASE "https://slack.com"

/* "Jane Smith (Premium, 18mo, $4,200 LTV)" */
static void customer_line(struct sg_buf *b, const json_t *cust)
{
	const char *name = sg_conn_str(cust, "name", sg_conn_str(cust, "id", "unknown customer"));
	const char *tier = sg_conn_str(cust, "tier", NULL);
	double tenure = json_number_value(json_object_get(cust, "tenure_months"));
	double ltv = json_number_value(json_object_get(cust, "ltv"));
	sg_buf_adds(b, name);
	int open = 0;
	if (tier) {
		sg_buf_addf(b, " (%c%s", tier[0] >= 'a' && tier[0] <= 'z' ? tier[0] - 32 : tier[0],
			    tier + 1);
		open = 1;
	}
	if (tenure > 0) {
		sg_buf_addf(b, "%s%.0fmo", open ? ", " : " (", tenure);
		open = 1;
	}
	if (ltv > 0) {
		/* $4,200 */
		char digits[32], grouped[48];
		snprintf(digits, sizeof(digits), "%.0f", ltv);
		size_t n = strlen(digits), o = 0;
		for (size_t i = 0; i < n && o + 2 < sizeof(grouped); i++) {
			if (i && (n - i) % 3 == 0)
				grouped[o++] = ',';
			grouped[o++] = digits[i];
		}
		grouped[o] = 0;
		sg_buf_addf(b, "%s$%s LTV", open ? ", " : " (", grouped);
		open = 1;
	}
	if (open)
		sg_buf_addc(b, ')');
}

/* Slack mrkdwn: &, <, > must be escaped in text. */
static void esc(struct sg_buf *b, const char *s)
{
	for (const char *p = s ? s : ""; *p; p++) {
		if (*p == '&')
			sg_buf_adds(b, "&amp;");
		else if (*p == '<')
			sg_buf_adds(b, "&lt;");
		else if (*p == '>')
			sg_buf_adds(b, "&gt;");
		else
			sg_buf_addc(b, *p);
	}
}

static json_t *button(const char *id, const char *label, const char *style, const char *value)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "type", "button", "action_id", id,
			      "value", value, "text", "type", "plain_text", "text", label);
	if (b && style)
		json_object_set_new(b, "style", json_string(style));
	return b;
}

static int build(struct sg_conn_request *out, const struct sg_connector *c,
		 const struct sg_conn_item *it, struct sg_error *err)
{
	const json_t *p = it->payload;
	const json_t *ctx = json_object_get(p, "context");
	const char *channel = sg_conn_str(p, "slack_channel", it->channel_target);
	if (!channel || !*channel)
		return sg_error_set(err, SG_EINVALID, "no Slack channel: the action names no "
				    "channel with a target");
	struct sg_buf head = SG_BUF_INIT, body = SG_BUF_INIT, text = SG_BUF_INIT;
	const char *kind = sg_conn_str(p, "kind", "notify");
	sg_buf_addf(&head, "*Support Escalation — Ticket #");
	esc(&head, it->ticket_id);
	sg_buf_adds(&head, "*");
	const char *owner = sg_conn_str(p, "owner", sg_conn_str(p, "to", NULL));
	if (owner) {
		sg_buf_adds(&head, " → ");
		esc(&head, owner);
	}
	double sla = json_number_value(json_object_get(p, "sla_minutes"));
	if (sla > 0)
		sg_buf_addf(&head, " (SLA %.0f min)", sla);

	struct sg_buf cl = SG_BUF_INIT;
	customer_line(&cl, json_object_get(ctx, "customer"));
	sg_buf_adds(&body, "*Customer:* ");
	esc(&body, cl.data);
	sg_buf_adds(&body, "\n*Issue:* ");
	esc(&body, sg_conn_str(ctx, "issue", sg_conn_str(p, "message", "")));
	sg_buf_adds(&body, "\n*Agent:* ");
	esc(&body, sg_conn_str(ctx, "finding", ""));
	sg_buf_adds(&body, "\n*Recommendation:* ");
	esc(&body, sg_conn_str(ctx, "recommendation", ""));
	const char *msg = sg_conn_str(p, "message", NULL);
	if (msg && *msg && strcmp(kind, "escalate")) {
		sg_buf_adds(&body, "\n*Note:* ");
		esc(&body, msg);
	}
	sg_buf_addf(&text, "Support escalation for ticket %s: %s", it->ticket_id, cl.data);
	sg_buf_release(&cl);
	if (head.oom || body.oom || text.oom) {
		sg_buf_release(&head);
		sg_buf_release(&body);
		sg_buf_release(&text);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	char block_id[200];
	snprintf(block_id, sizeof(block_id), "decision:%s", it->ticket_id);
	json_t *buttons = json_pack("[o, o, o, o]",
				    button("approve", "Approve", "primary", it->ticket_id),
				    button("partial", "Partial", NULL, it->ticket_id),
				    button("deny", "Deny", "danger", it->ticket_id),
				    button("reply_manually", "Reply manually", NULL, it->ticket_id));
	json_t *blocks = json_pack("[{s:s, s:s, s:{s:s, s:s}}, {s:s, s:s, s:{s:s, s:s}}, {s:s, s:s, s:o}]",
				   "type", "section", "block_id", "summary", "text", "type", "mrkdwn",
				   "text", head.data, "type", "section", "block_id", "context", "text",
				   "type", "mrkdwn", "text", body.data, "type", "actions", "block_id",
				   block_id, "elements", buttons);
	json_t *j = json_pack("{s:s, s:s, s:o}", "channel", channel, "text", text.data, "blocks",
			      blocks);
	sg_buf_release(&head);
	sg_buf_release(&body);
	sg_buf_release(&text);
	out->method = "POST";
	if (!(out->url = sg_conn_url(c, SLACK_BASE, "/api/chat.postMessage"))) {
		json_decref(j);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	if (sg_conn_request_header(out, "Authorization: Bearer %s", c->token) < 0) {
		json_decref(j);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	int rc = sg_conn_request_json(out, j, err);
	/* Slack documents the charset on JSON posts */
	if (rc == 0 && out->nheaders) {
		for (size_t i = 0; i < out->nheaders; i++)
			if (!strcmp(out->headers[i], "Content-Type: application/json")) {
				char *h = sg_strdup("Content-Type: application/json; charset=utf-8");
				if (h) {
					sg_free(out->headers[i]);
					out->headers[i] = h;
				}
			}
	}
	return rc;
}

static void classify(struct sg_conn_result *out, const struct sg_connector *c,
		     const struct sg_conn_item *it, const struct sg_conn_response *resp)
{
	(void)c;
	(void)it;
	sg_conn_classify_http(out, resp);
	if (out->outcome != SG_CONN_DONE)
		return;
	json_t *b = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
	json_t *ok = json_object_get(b, "ok");
	if (json_is_true(ok)) {
		const char *ts = json_string_value(json_object_get(b, "ts"));
		if (ts)
			snprintf(out->external_id, sizeof(out->external_id), "%s", ts);
	} else {
		const char *e = json_string_value(json_object_get(b, "error"));
		e = e ? e : "response without \"ok\":true";
		/* transient Slack-side errors are retried; the rest (channel_not_found,
		 * not_in_channel, invalid_auth, missing_scope, invalid_blocks...) need
		 * a person */
		int transient = !strcmp(e, "ratelimited") || !strcmp(e, "internal_error") ||
				!strcmp(e, "fatal_error") || !strcmp(e, "service_unavailable") ||
				!strcmp(e, "request_timeout");
		out->outcome = transient ? SG_CONN_RETRY : SG_CONN_FAIL;
		snprintf(out->reason, sizeof(out->reason), "Slack error: %s", e);
	}
	json_decref(b);
}

const struct sg_connector_ops sg_conn_slack_ops = {
	.type = "slack",
	.flags = SG_CONN_F_NEEDS_TOKEN,
	.build = build,
	.classify = classify,
};
