/*
 * webhook.c - the generic signed webhook: POSTs the action as JSON to
 * base_url, signed with HMAC-SHA256 over "<timestamp>.<body>" using the
 * secret from `secret_env`, so the receiver can verify origin and age.
 */
#include "connectors/connectors_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/banned.h"

static int build(struct sg_conn_request *out, const struct sg_connector *c,
		 const struct sg_conn_item *it, struct sg_error *err)
{
	int rc;
	json_t *body = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:O}", "id", it->idem_key,
				 "ticket_id", it->ticket_id, "kind", it->kind, "channel",
				 it->channel, "target", it->channel_target, "action", it->payload);
	out->method = "POST";
	if (!(out->url = sg_conn_url(c, NULL, "%s", "")))
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if ((rc = sg_conn_request_json(out, body, err)) < 0)
		return rc;
	/* the timestamp is the send time: a receiver may reject old requests */
	char ts[24], mac_hex[SG_SHA256_HEX];
	uint8_t mac[SG_SHA256_LEN];
	snprintf(ts, sizeof(ts), "%" PRId64, sg_now_ms() / 1000);
	struct sg_buf msg = SG_BUF_INIT;
	sg_buf_addf(&msg, "%s.", ts);
	sg_buf_add(&msg, out->body, out->body_len);
	if (msg.oom) {
		sg_buf_release(&msg);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	sg_hmac_sha256(c->secret, strlen(c->secret), msg.data, msg.len, mac);
	sg_buf_release(&msg);
	sg_hex(mac, sizeof(mac), mac_hex);
	const char *hdr = sg_conn_cfg_str(c, "signature_header", "X-Sopgate-Signature");
	if (sg_conn_request_header(out, "X-Sopgate-Timestamp: %s", ts) < 0 ||
	    sg_conn_request_header(out, "%s: sha256=%s", hdr, mac_hex) < 0)
		return sg_error_set(err, SG_ELIMIT, "too many request headers");
	return 0;
}

const struct sg_connector_ops sg_conn_webhook_ops = {
	.type = "webhook",
	.flags = SG_CONN_F_NEEDS_SECRET | SG_CONN_F_NEEDS_URL,
	.build = build,
};
