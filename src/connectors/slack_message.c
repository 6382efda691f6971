/*
 * slack_message.c - Block Kit JSON for the escalation message once someone
 * decided (what chat.update sends). A pure function over JSON: no I/O.
 */
#include "connectors/slack_message.h"

#include <string.h>

#include "core/buf.h"
#include "core/banned.h"

static const char *str(const json_t *o, const char *k, const char *def)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && *s ? s : def;
}

json_t *sg_slack_decided_blocks(const json_t *blocks, const char *line, int keep_buttons,
				const char *suffix)
{
	json_t *out = json_array();
	size_t i;
	json_t *blk;
	json_array_foreach(blocks, i, blk) {
		const char *type = str(blk, "type", "");
		if (!strcmp(type, "context") && !strncmp(str(blk, "block_id", ""), "sopgate-decided", 15))
			continue; /* an earlier decision line: the new one replaces it */
		if (!strcmp(type, "actions")) {
			if (!keep_buttons)
				continue;
			json_t *copy = json_deep_copy(blk);
			struct sg_buf id = SG_BUF_INIT;
			const char *old = str(blk, "block_id", "decision");
			size_t n = strcspn(old, "#");
			sg_buf_addf(&id, "%.*s#%s", (int)n, old, suffix);
			json_object_set_new(copy, "block_id", json_string(id.data));
			sg_buf_release(&id);
			json_array_append_new(out, copy);
			continue;
		}
		json_array_append(out, blk);
	}
	struct sg_buf id = SG_BUF_INIT;
	sg_buf_addf(&id, "sopgate-decided-%s", suffix);
	json_array_append_new(out, json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "type", "context",
					     "block_id", id.data, "elements", "type", "mrkdwn",
					     "text", line));
	sg_buf_release(&id);
	return out;
}
