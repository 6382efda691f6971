/*
 * hubspot.c - HubSpot CRM tickets v3: PATCH the ticket with the decision's
 * logging fields mapped to ticket properties (all values as strings), or
 * one property for a `set_field` action. Rate limits: a 429 without
 * Retry-After waits the 10 s burst interval; the DAILY policy waits for
 * the next UTC midnight.
 */
#include "connectors/connectors_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "policy/policy.h"
#include "core/banned.h"

#define HUBSPOT_BASE "https://api.hubapi.com"

/* The CRM logging fields sent when the policy gives no `properties` map. */
static const char *const default_fields[] = {
	"intent", "intent_confidence", "urgency", "sentiment", "frustration", "churn_risk",
	"language", "risk_tier", "confidence_band", "ai_used", "ai_mode", "ai_draft_sent",
	"gate", "approval_required", "approval_outcome", "guardrail_triggered",
	"guardrail_types", "guardrail_action", "escalated", "escalation_reason",
	"escalation_trigger_type", "escalation.owner", "escalation.sla_minutes",
	"routed_queue", "resolution_code", "next_action", "follow_up_due_at", "ai_trace_id",
	"model_name", "prompt_template_version", "guardrail_policy_version", "policy_version",
};

/* decision field (dotted path) -> value */
static const json_t *field(const json_t *d, const char *path)
{
	char part[128];
	while (d && *path) {
		size_t n = strcspn(path, ".");
		snprintf(part, sizeof(part), "%.*s", (int)n, path);
		d = json_object_get(d, part);
		path += n;
		if (*path == '.')
			path++;
	}
	return d;
}

/* HubSpot takes every value as a string; lists as "a;b" (multi-select). */
static json_t *as_string(const json_t *v)
{
	char num[64];
	if (!v || json_is_null(v))
		return json_string("");
	if (json_is_string(v))
		return json_string(json_string_value(v));
	if (json_is_true(v) || json_is_false(v))
		return json_string(json_is_true(v) ? "true" : "false");
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return json_string(num);
	}
	if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.4g", json_real_value(v));
		return json_string(num);
	}
	if (json_is_array(v)) {
		struct sg_buf b = SG_BUF_INIT;
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			if (json_is_string(x))
				sg_buf_addf(&b, "%s%s", b.len ? ";" : "", json_string_value(x));
		json_t *s = b.oom ? NULL : json_string(b.data);
		sg_buf_release(&b);
		return s;
	}
	return NULL; /* objects are not a property value */
}

static int build(struct sg_conn_request *out, const struct sg_connector *c,
		 const struct sg_conn_item *it, struct sg_error *err)
{
	const json_t *d = sg_conn_decision(it);
	const char *tid = sg_conn_str(it->payload, "crm_ticket_id",
				      sg_conn_str(d, "helpdesk_ticket_id", it->ticket_id));
	json_t *props = json_object();
	if (!props)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (it->kind && !strcmp(it->kind, "set_field")) {
		const char *f = sg_conn_str(it->payload, "field", "");
		if (!*f) {
			json_decref(props);
			return sg_error_set(err, SG_EINVALID, "set_field action without a field");
		}
		json_object_set_new(props, f, json_string(sg_conn_str(it->payload, "value", "")));
	} else {
		const struct sg_pnode *map = sg_pnode_get(c->cfg.node, "properties");
		if (map && map->kind == SG_PN_MAP) {
			for (size_t i = 0; i < map->n; i++) {
				const char *prop = map->items[i]->text;
				json_t *v = as_string(field(d, map->keys[i]));
				if (prop && v)
					json_object_set_new(props, prop, v);
				else
					json_decref(v);
			}
		} else {
			for (size_t i = 0; i < sizeof(default_fields) / sizeof(default_fields[0]); i++) {
				char prop[96];
				snprintf(prop, sizeof(prop), "sopgate_%s", default_fields[i]);
				for (char *p = prop; *p; p++)
					if (*p == '.')
						*p = '_';
				json_t *v = as_string(field(d, default_fields[i]));
				if (v)
					json_object_set_new(props, prop, v);
			}
		}
	}
	out->method = "PATCH";
	const char *idp = sg_conn_cfg_str(c, "id_property", NULL);
	struct sg_buf path = SG_BUF_INIT;
	sg_conn_path_escape(&path, tid);
	out->url = idp ? sg_conn_url(c, HUBSPOT_BASE, "/crm/v3/objects/tickets/%s?idProperty=%s",
				     path.data, idp)
		       : sg_conn_url(c, HUBSPOT_BASE, "/crm/v3/objects/tickets/%s", path.data);
	sg_buf_release(&path);
	if (!out->url) {
		json_decref(props);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	if (sg_conn_request_header(out, "Authorization: Bearer %s", c->token) < 0) {
		json_decref(props);
		return sg_error_set(err, SG_ELIMIT, "too many headers");
	}
	return sg_conn_request_json(out, json_pack("{s:o}", "properties", props), err);
}

static void classify(struct sg_conn_result *out, const struct sg_connector *c,
		     const struct sg_conn_item *it, const struct sg_conn_response *resp)
{
	(void)c;
	(void)it;
	sg_conn_classify_http(out, resp);
	if (resp->status != 429 || out->retry_after_ms >= 0)
		return;
	json_t *b = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
	const char *pol = json_string_value(json_object_get(b, "policyName"));
	if (pol && !strcmp(pol, "DAILY")) {
		int64_t day = 86400000;
		out->retry_after_ms = day - resp->now_ms % day; /* until the next UTC midnight */
	} else {
		out->retry_after_ms = 10000; /* the burst interval */
	}
	json_decref(b);
}

const struct sg_connector_ops sg_conn_hubspot_ops = {
	.type = "hubspot",
	.flags = SG_CONN_F_NEEDS_TOKEN,
	.build = build,
	.classify = classify,
};
