/*
 * zendesk.c - Zendesk Support: update the ticket with a public reply when
 * the decision auto-sends, otherwise an internal note with the summary and
 * reasons, plus custom fields; tags are added through the tags endpoint
 * (a second action), because `tags` on a ticket update replaces them all.
 * Auth: Basic base64("{email}/token:{api_token}").
 */
#include "connectors/connectors_int.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "policy/policy.h"
#include "core/banned.h"

static int auth(struct sg_conn_request *out, const struct sg_connector *c)
{
	struct sg_buf cred = SG_BUF_INIT, b64 = SG_BUF_INIT;
	sg_buf_addf(&cred, "%s/token:%s", c->user ? c->user : "", c->token);
	sg_conn_base64(&b64, cred.data, cred.len);
	int rc = cred.oom || b64.oom ? -SG_ENOMEM
				      : sg_conn_request_header(out, "Authorization: Basic %s", b64.data);
	sg_buf_release(&cred);
	sg_buf_release(&b64);
	return rc;
}

static json_t *tag_list(const struct sg_connector *c, const json_t *d)
{
	json_t *tags = json_array();
	json_array_append_new(tags, json_string("sopgate"));
	const char *intent = sg_conn_str(d, "intent", NULL);
	if (intent && *intent)
		json_array_append_new(tags, json_string(intent));
	const char *gate = sg_conn_str(d, "gate", NULL);
	if (gate) {
		char t[64];
		snprintf(t, sizeof(t), "sopgate_%s", gate);
		json_array_append_new(tags, json_string(t));
	}
	const struct sg_pnode *extra = sg_pnode_get(c->cfg.node, "tags");
	for (size_t i = 0; extra && extra->kind == SG_PN_LIST && i < extra->n; i++)
		json_array_append_new(tags, json_string(extra->items[i]->text));
	return tags;
}

static int build(struct sg_conn_request *out, const struct sg_connector *c,
		 const struct sg_conn_item *it, struct sg_error *err)
{
	const json_t *d = sg_conn_decision(it);
	const char *tid = sg_conn_str(it->payload, "helpdesk_ticket_id",
				      sg_conn_str(d, "helpdesk_ticket_id", it->ticket_id));
	int tags_only = !strcmp(sg_conn_str(it->payload, "part", ""), "tags");
	struct sg_buf path = SG_BUF_INIT;
	sg_conn_path_escape(&path, tid);
	out->method = "PUT";
	out->url = sg_conn_url(c, NULL, tags_only ? "/api/v2/tickets/%s/tags" : "/api/v2/tickets/%s",
			       path.data);
	sg_buf_release(&path);
	if (!out->url)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (auth(out, c) < 0 || sg_conn_request_header(out, "Accept: application/json") < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (tags_only)
		return sg_conn_request_json(out, json_pack("{s:o}", "tags", tag_list(c, d)), err);

	json_t *ticket = json_object(), *comment = json_object();
	struct sg_buf text = SG_BUF_INIT;
	if (it->kind && !strcmp(it->kind, "reply") && sg_conn_str(it->payload, "text", NULL)) {
		sg_buf_adds(&text, sg_conn_str(it->payload, "text", ""));
		json_object_set_new(comment, "public", json_true());
	} else if (sg_conn_public_reply(d)) {
		sg_buf_adds(&text, sg_conn_public_reply(d));
		json_object_set_new(comment, "public", json_true());
	} else {
		sg_conn_note_text(&text, d);
		json_object_set_new(comment, "public", json_false());
	}
	json_object_set_new(comment, "body", json_string(text.oom ? "" : text.data));
	sg_buf_release(&text);
	double author = sg_pnode_num(c->cfg.node, "author_id", 0);
	if (author > 0)
		json_object_set_new(comment, "author_id", json_integer((json_int_t)author));
	json_object_set_new(ticket, "comment", comment);
	const struct sg_pnode *cf = sg_pnode_get(c->cfg.node, "custom_fields");
	if (cf && cf->kind == SG_PN_MAP && cf->n) {
		json_t *arr = json_array();
		for (size_t i = 0; i < cf->n; i++) {
			const json_t *v = json_object_get(d, cf->keys[i]);
			json_array_append_new(arr, json_pack("{s:I, s:O}", "id",
							     (json_int_t)cf->items[i]->num, "value",
							     v ? v : json_null()));
		}
		json_object_set_new(ticket, "custom_fields", arr);
	}
	if (it->kind && !strcmp(it->kind, "set_field")) {
		/* a set_field action names the custom field id in `field` */
		json_t *arr = json_object_get(ticket, "custom_fields");
		if (!arr) {
			arr = json_array();
			json_object_set_new(ticket, "custom_fields", arr);
		}
		json_array_append_new(arr, json_pack("{s:s, s:s}", "id",
						     sg_conn_str(it->payload, "field", ""), "value",
						     sg_conn_str(it->payload, "value", "")));
	}
	return sg_conn_request_json(out, json_pack("{s:o}", "ticket", ticket), err);
}

static int init(struct sg_connector *c, struct sg_error *err)
{
	if (!c->user)
		return sg_error_set(err, SG_EPOLICY, "connector '%s' (zendesk): `user_env` (the "
				    "agent's e-mail) is required", c->cfg.name);
	return 0;
}

const struct sg_connector_ops sg_conn_zendesk_ops = {
	.type = "zendesk",
	.flags = SG_CONN_F_NEEDS_TOKEN | SG_CONN_F_NEEDS_URL,
	.init = init,
	.build = build,
};
