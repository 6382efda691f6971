/*
 * pagerduty.c - PagerDuty Events API v2: trigger (escalations and
 * notifications), acknowledge and resolve, each with a deterministic
 * dedup_key per escalation ("sopgate-<ticket>-<owner>"), so a resend after
 * a crash updates the same alert instead of paging twice. The routing key
 * travels in the body (token_env); there is no auth header.
 */
#include "connectors/connectors_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/banned.h"

#define PAGERDUTY_BASE "https://events.pagerduty.com"

static int build(struct sg_conn_request *out, const struct sg_connector *c,
		 const struct sg_conn_item *it, struct sg_error *err)
{
	const json_t *p = it->payload;
	const json_t *ctx = json_object_get(p, "context");
	const char *action = sg_conn_str(p, "event_action", "trigger");
	if (strcmp(action, "trigger") && strcmp(action, "acknowledge") && strcmp(action, "resolve"))
		return sg_error_set(err, SG_EINVALID, "event_action '%s': expected trigger, "
				    "acknowledge or resolve", action);
	const char *owner = sg_conn_str(p, "owner", sg_conn_str(p, "to", it->channel ? it->channel : "owner"));
	char dedup[256];
	const char *given = sg_conn_str(p, "dedup_key", NULL);
	if (given)
		snprintf(dedup, sizeof(dedup), "%s", given);
	else
		snprintf(dedup, sizeof(dedup), "sopgate-%s-%s", it->ticket_id, owner);
	out->method = "POST";
	if (!(out->url = sg_conn_url(c, PAGERDUTY_BASE, "/v2/enqueue")))
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	json_t *body = json_pack("{s:s, s:s, s:s}", "routing_key", c->token, "event_action",
				 action, "dedup_key", dedup);
	if (!body)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (!strcmp(action, "trigger")) {
		char summary[1024];
		const char *msg = sg_conn_str(p, "message", NULL);
		const char *issue = sg_conn_str(ctx, "issue", "");
		if (msg && *msg)
			snprintf(summary, sizeof(summary), "%s", msg);
		else
			snprintf(summary, sizeof(summary), "Escalation for ticket %s to %s%s%s",
				 it->ticket_id, owner, *issue ? ": " : "", issue);
		const char *sev = sg_conn_cfg_str(c, "severity", NULL);
		if (!sev) {
			const char *urg = sg_conn_str(ctx, "urgency", "");
			sev = !strcmp(urg, "P0") ? "critical" : "error";
		}
		json_t *details = json_pack("{s:s, s:s}", "ticket_id", it->ticket_id, "owner", owner);
		const char *keys[] = {"sla_minutes", "due_at", "channel"};
		for (size_t i = 0; i < 3; i++) {
			json_t *v = json_object_get(p, keys[i]);
			if (v)
				json_object_set(details, keys[i], v);
		}
		const char *ckeys[] = {"intent", "risk_tier", "gate", "recommendation"};
		for (size_t i = 0; i < 4; i++) {
			json_t *v = json_object_get(ctx, ckeys[i]);
			if (v)
				json_object_set(details, ckeys[i], v);
		}
		json_object_set_new(body, "payload",
				    json_pack("{s:s, s:s, s:s, s:s, s:o}", "summary", summary, "source",
					      "sopgate", "severity", sev, "component", "escalation",
					      "custom_details", details));
		json_object_set_new(body, "client", json_string("sopgate"));
		const char *console = sg_conn_cfg_str(c, "console_url", NULL);
		if (console) {
			struct sg_buf u = SG_BUF_INIT;
			sg_buf_addf(&u, "%s/#/tickets/", console);
			sg_conn_path_escape(&u, it->ticket_id);
			json_object_set_new(body, "client_url", json_string(u.data));
			sg_buf_release(&u);
		}
	}
	return sg_conn_request_json(out, body, err);
}

static void classify(struct sg_conn_result *out, const struct sg_connector *c,
		     const struct sg_conn_item *it, const struct sg_conn_response *resp)
{
	(void)c;
	(void)it;
	sg_conn_classify_http(out, resp);
	/* 429: the event was not ingested; PagerDuty suggests backing off for
	 * tens of seconds, so never retry sooner than 30 s */
	if (resp->status == 429 && out->retry_after_ms < 30000)
		out->retry_after_ms = 30000;
	if (out->outcome == SG_CONN_DONE) {
		json_t *b = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
		const char *k = json_string_value(json_object_get(b, "dedup_key"));
		if (k)
			snprintf(out->external_id, sizeof(out->external_id), "%s", k);
		json_decref(b);
	}
}

const struct sg_connector_ops sg_conn_pagerduty_ops = {
	.type = "pagerduty",
	.flags = SG_CONN_F_NEEDS_TOKEN | SG_CONN_F_VENDOR_DEDUP,
	.build = build,
	.classify = classify,
};
