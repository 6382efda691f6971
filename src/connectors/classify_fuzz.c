/*
 * classify_fuzz.c - libFuzzer target for what vendors send back: any
 * Retry-After / X-RateLimit-Reset value and any response body, under any
 * status, through every connector's classification, must give one of
 * done / retry / fail with a printable reason, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connector.h"
#include "core/alloc.h"

static const char *const types[] = {"hubspot", "zendesk", "intercom", "pagerduty",
				    "slack", "smtp", "webhook"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* layout: 2 bytes status, then "header\nbody" */
	if (size < 2)
		return 0;
	char *text = malloc(size - 1);
	if (!text)
		return 0;
	memcpy(text, data + 2, size - 2);
	text[size - 2] = 0;
	char *nl = memchr(text, '\n', size - 2);
	const char *hdr = text, *body = "";
	if (nl) {
		*nl = 0;
		body = nl + 1;
	}
	struct sg_conn_response resp = {0};
	resp.status = (long)(((unsigned)data[0] << 8 | data[1]) % 700);
	resp.body = body;
	resp.body_len = strlen(body);
	resp.retry_after = hdr;
	resp.ratelimit_reset = hdr;
	resp.now_ms = 1700000000000LL;
	resp.transport_error = data[0] == 0xff;
	int64_t ra = sg_conn_retry_after_ms(hdr, resp.now_ms);
	if (ra < -1)
		abort();
	struct sg_connector c;
	memset(&c, 0, sizeof(c));
	c.cfg.name = "fuzz";
	struct sg_conn_item it;
	memset(&it, 0, sizeof(it));
	it.kind = "notify";
	it.ticket_id = "T-1";
	it.idem_key = "k";
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		c.ops = sg_connector_ops_find(types[i]);
		if (!c.ops)
			abort();
		c.cfg.type = types[i];
		struct sg_conn_result r;
		sg_conn_classify(&r, &c, &it, &resp);
		if (r.outcome != SG_CONN_DONE && r.outcome != SG_CONN_RETRY && r.outcome != SG_CONN_FAIL)
			abort();
		if (!memchr(r.reason, 0, sizeof(r.reason)) || !memchr(r.external_id, 0, sizeof(r.external_id)))
			abort();
	}
	free(text);
	return 0;
}
