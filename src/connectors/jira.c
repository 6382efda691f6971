/*
 * jira.c - the Jira Cloud connector: a `create_issue` action becomes
 * POST /rest/api/3/issue with the project, issue type, summary, priority,
 * labels (one carries the idempotency key, so a resend after a lost answer
 * can be found) and a description in Atlassian Document Format built from
 * the case context the SOP attached (ticket, customer, facts, the steps
 * cited). Basic auth with the account e-mail (user_env) and API token
 * (token_env). A 201 answer names the issue key.
 */
#include "connectors/connectors_int.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/banned.h"

static json_t *text(const char *s)
{
	return json_pack("{s:s, s:s}", "type", "text", "text", s && *s ? s : "-");
}

static json_t *strong(const char *s)
{
	return json_pack("{s:s, s:s, s:[{s:s}]}", "type", "text", "text", s, "marks", "type",
			 "strong");
}

static json_t *paragraph(json_t *inline1, json_t *inline2)
{
	json_t *c = json_array();
	json_array_append_new(c, inline1);
	if (inline2)
		json_array_append_new(c, inline2);
	return json_pack("{s:s, s:o}", "type", "paragraph", "content", c);
}

static json_t *heading(const char *s)
{
	return json_pack("{s:s, s:{s:i}, s:[o]}", "type", "heading", "attrs", "level", 3, "content",
			 text(s));
}

/* A bullet: "label: value" with the label in bold. */
static void bullet(json_t *list, const char *label, const char *value)
{
	struct sg_buf b = SG_BUF_INIT;
	sg_buf_addf(&b, "%s: ", label);
	json_t *p = paragraph(strong(b.data), text(value));
	sg_buf_release(&b);
	json_array_append_new(json_object_get(list, "content"),
			      json_pack("{s:s, s:[o]}", "type", "listItem", "content", p));
}

static json_t *bullet_list(void)
{
	return json_pack("{s:s, s:[]}", "type", "bulletList", "content");
}

/* The ADF document for the issue description. */
static json_t *describe(const struct sg_conn_item *it, const json_t *ctx)
{
	json_t *doc = json_pack("{s:s, s:i, s:[]}", "type", "doc", "version", 1, "content");
	json_t *content = json_object_get(doc, "content");
	struct sg_buf b = SG_BUF_INIT;
	const char *tid = sg_conn_str(ctx, "ticket_id", it->ticket_id ? it->ticket_id : "?");
	sg_buf_addf(&b, "Opened by sopgate for ticket %s (SOP %s, step %s).", tid,
		    sg_conn_str(ctx, "sop", sg_conn_str(it->payload, "sop", "?")),
		    sg_conn_str(ctx, "step", sg_conn_str(it->payload, "step", "?")));
	json_array_append_new(content, paragraph(text(b.data), NULL));

	json_array_append_new(content, heading("Case"));
	json_t *list = bullet_list();
	bullet(list, "Ticket", tid);
	sg_buf_reset(&b);
	sg_buf_addf(&b, "%s (%s)", sg_conn_str(ctx, "customer_id", "unknown"),
		    sg_conn_str(ctx, "customer_tier", "tier unknown"));
	bullet(list, "Customer", b.data);
	bullet(list, "Intent", sg_conn_str(ctx, "intent", "unknown"));
	bullet(list, "Urgency", sg_conn_str(ctx, "urgency", "unknown"));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(ctx, "facts"), k, v) {
		sg_buf_reset(&b);
		if (json_is_string(v))
			sg_buf_adds(&b, json_string_value(v));
		else if (json_is_integer(v))
			sg_buf_addf(&b, "%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			sg_buf_addf(&b, "%g", json_real_value(v));
		else
			sg_buf_adds(&b, json_is_true(v) ? "true" : "false");
		bullet(list, k, b.data);
	}
	json_array_append_new(content, list);

	json_t *steps = json_object_get(ctx, "steps");
	if (json_array_size(steps)) {
		json_array_append_new(content, heading("SOP steps"));
		list = bullet_list();
		size_t i;
		json_array_foreach(steps, i, v) {
			sg_buf_reset(&b);
			sg_buf_addf(&b, "%lld. %s", (long long)json_integer_value(json_object_get(v, "index")),
				    sg_conn_str(v, "name", "step"));
			bullet(list, b.data, sg_conn_str(v, "detail", ""));
		}
		json_array_append_new(content, list);
	}
	const char *t = sg_conn_str(ctx, "text", NULL);
	if (t && *t) {
		json_array_append_new(content, heading("Customer message (masked)"));
		json_array_append_new(content, json_pack("{s:s, s:[o]}", "type", "codeBlock",
							 "content", text(t)));
	}
	sg_buf_release(&b);
	return doc;
}

static int build(struct sg_conn_request *out, const struct sg_connector *c,
		 const struct sg_conn_item *it, struct sg_error *err)
{
	const json_t *p = it->payload;
	const char *project = sg_conn_str(p, "project", NULL);
	const char *summary = sg_conn_str(p, "summary", NULL);
	if (!project || !*project)
		return sg_error_set(err, SG_EINVALID, "jira: the action names no project");
	if (!summary || !*summary)
		return sg_error_set(err, SG_EINVALID, "jira: the action has no summary");
	if (strlen(summary) > 255) /* Jira's summary limit */
		return sg_error_set(err, SG_EINVALID, "jira: summary over 255 characters");
	/* our key as a label: labels hold no spaces */
	char label[96];
	snprintf(label, sizeof(label), "sopgate-%s", it->idem_key ? it->idem_key : it->id);
	for (char *q = label; *q; q++)
		if (*q == ' ')
			*q = '_';
	json_t *fields = json_pack("{s:{s:s}, s:{s:s}, s:s, s:[s, s], s:o}", "project", "key",
				   project, "issuetype", "name", sg_conn_str(p, "issue_type", "Task"),
				   "summary", summary, "labels", "sopgate", label, "description",
				   describe(it, json_object_get(p, "context")));
	const char *prio = sg_conn_str(p, "priority", NULL);
	if (fields && prio && *prio)
		json_object_set_new(fields, "priority", json_pack("{s:s}", "name", prio));
	out->method = "POST";
	if (!(out->url = sg_conn_url(c, NULL, "/rest/api/3/issue")))
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	int rc = sg_conn_request_json(out, fields ? json_pack("{s:o}", "fields", fields) : NULL, err);
	if (rc < 0)
		return rc;
	/* Basic base64("email:api_token") */
	struct sg_buf cred = SG_BUF_INIT;
	sg_buf_addf(&cred, "%s:%s", c->user ? c->user : "", c->token ? c->token : "");
	unsigned char *b64 = cred.oom ? NULL : sg_malloc(4 * (cred.len / 3 + 1) + 1);
	if (!b64) {
		sg_buf_release(&cred);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	EVP_EncodeBlock(b64, (const unsigned char *)cred.data, (int)cred.len);
	sg_buf_release(&cred);
	rc = sg_conn_request_header(out, "Authorization: Basic %s", (char *)b64);
	sg_free(b64);
	if (rc < 0 || sg_conn_request_header(out, "Accept: application/json") < 0)
		return sg_error_set(err, SG_ELIMIT, "too many request headers");
	return 0;
}

static void classify(struct sg_conn_result *out, const struct sg_connector *c,
		     const struct sg_conn_item *it, const struct sg_conn_response *resp)
{
	(void)c, (void)it;
	sg_conn_classify_http(out, resp);
	if (out->outcome != SG_CONN_DONE) {
		/* name the field Jira rejected: {"errors":{"summary":"..."}} */
		json_t *j = resp->body_len ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(j, "errors"), k, v) {
			snprintf(out->reason, sizeof(out->reason), "HTTP %ld: field '%s': %s",
				 resp->status, k, json_string_value(v) ? json_string_value(v) : "invalid");
			break;
		}
		json_decref(j);
		return;
	}
	json_t *j = json_loadb(resp->body, resp->body_len, 0, NULL);
	snprintf(out->external_id, sizeof(out->external_id), "%s",
		 sg_conn_str(j, "key", ""));
	json_decref(j);
}

static int init(struct sg_connector *c, struct sg_error *err)
{
	if (!c->user)
		return sg_error_set(err, SG_EPOLICY, "connector '%s' (jira): `user_env` (the "
				    "Atlassian account e-mail) is required", c->cfg.name);
	return 0;
}

const struct sg_connector_ops sg_conn_jira_ops = {
	.type = "jira",
	.flags = SG_CONN_F_NEEDS_URL | SG_CONN_F_NEEDS_TOKEN,
	.init = init,
	.build = build,
	.classify = classify,
};
