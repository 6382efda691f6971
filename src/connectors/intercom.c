/*
 * intercom.c - Intercom conversations: reply as an admin, a customer-
 * visible comment when the decision auto-sends, otherwise an internal note
 * with the summary and reasons. Pins Intercom-Version (2.11 by default).
 * A 429 waits until X-RateLimit-Reset (Unix seconds).
 */
#include "connectors/connectors_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/banned.h"

#define INTERCOM_BASE "https://api.intercom.io"

static int init(struct sg_connector *c, struct sg_error *err)
{
	if (!sg_conn_cfg_str(c, "admin_id", NULL))
		return sg_error_set(err, SG_EPOLICY, "connector '%s' (intercom): `admin_id` is "
				    "required (the admin replies and notes are written as)",
				    c->cfg.name);
	return 0;
}

static int build(struct sg_conn_request *out, const struct sg_connector *c,
		 const struct sg_conn_item *it, struct sg_error *err)
{
	const json_t *d = sg_conn_decision(it);
	const char *conv = sg_conn_str(it->payload, "conversation_id",
				       sg_conn_str(d, "helpdesk_ticket_id", it->ticket_id));
	struct sg_buf path = SG_BUF_INIT, body = SG_BUF_INIT;
	const char *type = "note";
	sg_conn_path_escape(&path, conv);
	out->method = "POST";
	out->url = sg_conn_url(c, INTERCOM_BASE, "/conversations/%s/reply", path.data);
	sg_buf_release(&path);
	if (!out->url)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	const char *reply = it->kind && !strcmp(it->kind, "reply")
			    ? sg_conn_str(it->payload, "text", NULL) : sg_conn_public_reply(d);
	sg_buf_adds(&body, "<p>");
	if (reply) {
		type = "comment";
		sg_conn_html_escape(&body, reply);
	} else {
		struct sg_buf note = SG_BUF_INIT;
		sg_conn_note_text(&note, d);
		sg_conn_html_escape(&body, note.data);
		sg_buf_release(&note);
	}
	sg_buf_adds(&body, "</p>");
	if (sg_conn_request_header(out, "Authorization: Bearer %s", c->token) < 0 ||
	    sg_conn_request_header(out, "Accept: application/json") < 0 ||
	    sg_conn_request_header(out, "Intercom-Version: %s",
				   sg_conn_cfg_str(c, "api_version", "2.11")) < 0 || body.oom) {
		sg_buf_release(&body);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "message_type", type, "type", "admin",
			      "admin_id", sg_conn_cfg_str(c, "admin_id", ""), "body", body.data);
	sg_buf_release(&body);
	return sg_conn_request_json(out, j, err);
}

static void classify(struct sg_conn_result *out, const struct sg_connector *c,
		     const struct sg_conn_item *it, const struct sg_conn_response *resp)
{
	(void)c;
	(void)it;
	sg_conn_classify_http(out, resp);
	if (resp->status == 429 && out->retry_after_ms < 0 && resp->ratelimit_reset) {
		char *end;
		long long reset = strtoll(resp->ratelimit_reset, &end, 10);
		if (!*end && reset > 0) {
			int64_t at = (int64_t)reset * 1000;
			out->retry_after_ms = at > resp->now_ms ? at - resp->now_ms : 0;
		}
	}
}

const struct sg_connector_ops sg_conn_intercom_ops = {
	.type = "intercom",
	.flags = SG_CONN_F_NEEDS_TOKEN,
	.init = init,
	.build = build,
	.classify = classify,
};
