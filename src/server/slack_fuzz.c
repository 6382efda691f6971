/*
 * slack_fuzz.c - libFuzzer target for the Slack interactivity parser: the
 * input is a form-encoded request body. Decoding, the JSON parse and the
 * field extraction must never crash, hang or leak, whatever the bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "server/slack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		sg_json_init();
		ready = 1;
	}
	struct sg_slack_click c;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_slack_click_parse(&c, (const char *)data, size, &err) == 0 && c.type &&
	    !strcmp(c.type, "block_actions")) {
		/* a successful parse names every field the handler reads */
		if (!c.user_id || !c.action_id || !c.value || !c.channel_id || !c.message_ts)
			abort();
	}
	sg_slack_click_release(&c);
	return 0;
}
