/*
 * webhook_map_fuzz.c - libFuzzer target for the webhook payload mappers
 * and the HTML-to-text step: any bytes give a ticket event, a skip with a
 * reason, or an error naming a field, never a crash; text never grows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "server/webhook_map.h"

static void check(int rc, json_t *ev, const char *why, const struct sg_error *err)
{
	if ((rc == 0) != (ev != NULL) || (rc == 1 && !why[0]) || (rc < 0 && !err->msg[0]))
		abort();
	json_decref(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = sg_html_to_text((const char *)data, size);
	if (t && strlen(t) > size)
		abort();
	sg_free(t);
	json_t *p = NULL;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_json_parse(&p, (const char *)data, size, &err) < 0)
		return 0;
	char why[SG_WEBHOOK_WHY_MAX];
	json_t *ev = NULL;
	sg_error_clear(&err);
	int rc = sg_webhook_zendesk_event(&ev, p, why, &err);
	check(rc, ev, why, &err);
	sg_error_clear(&err);
	ev = NULL;
	rc = sg_webhook_intercom_event(&ev, p, why, &err);
	check(rc, ev, why, &err);
	json_decref(p);
	return 0;
}
