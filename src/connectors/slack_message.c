/*
 * slack_message.c - Block Kit JSON for the escalation message (reference
 * format with the four decision buttons) and for its update once someone
 * decided. Pure functions over JSON: no I/O.
 */
#include "connectors/slack_message.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/banned.h"

static const char *str(const json_t *o, const char *k, const char *def)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && *s ? s : def;
}

/* "$4,200": thousands separated, no cents for whole amounts. */
static void money(struct sg_buf *b, double v)
{
	char digits[32];
	snprintf(digits, sizeof(digits), "%.0f", v < 0 ? -v : v);
	size_t n = strlen(digits);
	sg_buf_adds(b, v < 0 ? "-$" : "$");
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			sg_buf_addc(b, ',');
		sg_buf_addc(b, digits[i]);
	}
}

static json_t *button(const char *text, const char *action, const char *value, const char *style)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "type", "button", "action_id", action,
			      "value", value, "text", "type", "plain_text", "text", text);
	if (b && style)
		json_object_set_new(b, "style", json_string(style));
	return b;
}

static json_t *section(const char *mrkdwn)
{
	return json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text", "type", "mrkdwn", "text",
			 mrkdwn);
}

json_t *sg_slack_escalation_message(const char *channel, const json_t *esc)
{
	struct sg_buf b = SG_BUF_INIT, line = SG_BUF_INIT;
	const char *ticket = str(esc, "ticket_id", "?");
	const json_t *cu = json_object_get(esc, "customer");
	json_t *blocks = json_array();

	sg_buf_addf(&b, "*Support Escalation — Ticket #%s*", ticket);
	json_array_append_new(blocks, section(b.data));

	/* Customer: Jane Smith (Premium, 18mo, $4,200 LTV) */
	sg_buf_reset(&b);
	sg_buf_addf(&b, "*Customer:* %s", str(cu, "name", str(cu, "id", "unknown")));
	const char *tier = str(cu, "tier", NULL);
	json_t *tenure = json_object_get(cu, "tenure_months"), *ltv = json_object_get(cu, "ltv");
	if (tier || json_is_number(tenure) || json_is_number(ltv)) {
		const char *sep = "";
		sg_buf_adds(&b, " (");
		if (tier) {
			sg_buf_addc(&b, (char)(tier[0] >= 'a' && tier[0] <= 'z' ? tier[0] - 32 : tier[0]));
			sg_buf_adds(&b, tier + 1);
			sep = ", ";
		}
		if (json_is_number(tenure)) {
			sg_buf_addf(&b, "%s%.0fmo", sep, json_number_value(tenure));
			sep = ", ";
		}
		if (json_is_number(ltv)) {
			sg_buf_adds(&b, sep);
			money(&b, json_number_value(ltv));
			sg_buf_adds(&b, " LTV");
		}
		sg_buf_addc(&b, ')');
	}
	sg_buf_addf(&b, "\n*Issue:* %s", str(esc, "issue", "-"));
	sg_buf_addf(&b, "\n*Agent:* %s", str(esc, "finding", "-"));
	sg_buf_addf(&b, "\n*Recommendation:* %s", str(esc, "recommendation", "-"));
	json_array_append_new(blocks, section(b.data));

	sg_buf_addf(&line, SG_SLACK_BLOCK_PREFIX "%s", ticket);
	json_array_append_new(
		blocks, json_pack("{s:s, s:s, s:[o, o, o, o]}", "type", "actions", "block_id", line.data,
				  "elements",
				  button("Approve", SG_SLACK_ACT_APPROVE, ticket, "primary"),
				  button("Partial", SG_SLACK_ACT_PARTIAL, ticket, NULL),
				  button("Deny", SG_SLACK_ACT_DENY, ticket, "danger"),
				  button("Reply manually", SG_SLACK_ACT_REPLY, ticket, NULL)));
	sg_buf_reset(&b);
	sg_buf_addf(&b, "Support escalation for ticket %s: approval needed", ticket);
	json_t *msg = json_pack("{s:s, s:s, s:o}", "channel", channel ? channel : "", "text", b.data,
				"blocks", blocks);
	sg_buf_release(&b);
	sg_buf_release(&line);
	return msg;
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
			const char *old = str(blk, "block_id", SG_SLACK_BLOCK_PREFIX);
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
