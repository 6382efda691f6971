/*
 * slack_message.h - the Slack escalation message in the reference format,
 * as Block Kit JSON: the customer (name, tier, tenure, LTV), the issue, the
 * agent's finding, the recommendation, and the buttons [Approve]
 * [Partial] [Deny] [Reply manually] whose clicks POST /v1/webhooks/slack
 * records (server/slack.h). The buttons carry the ticket id as `value`;
 * their action_ids are the SG_SLACK_ACT_* names below.
 */
#ifndef SG_CONNECTORS_SLACK_MESSAGE_H
#define SG_CONNECTORS_SLACK_MESSAGE_H

#include <jansson.h>

#define SG_SLACK_ACT_APPROVE "approve"
#define SG_SLACK_ACT_PARTIAL "partial"
#define SG_SLACK_ACT_DENY "deny"
#define SG_SLACK_ACT_REPLY "reply_manually"
/* block_id prefix of the actions block: "sopgate:<ticket id>" */
#define SG_SLACK_BLOCK_PREFIX "sopgate:"

/*
 * The chat.postMessage body for an escalation: {"channel", "text",
 * "blocks"}. `esc` holds what the message shows, every field optional:
 * ticket_id, customer {name, tier, tenure_months, ltv}, issue, finding,
 * recommendation. Texts are shown as given: pass masked text only. New
 * reference, NULL when out of memory.
 */
json_t *sg_slack_escalation_message(const char *channel, const json_t *esc);

/* The blocks of the message after a decision: the original blocks with
 * the actions block removed (or, when keep_buttons, given a new block_id,
 * as Slack requires on update) and a context line `line` (mrkdwn)
 * appended. New reference. */
json_t *sg_slack_decided_blocks(const json_t *blocks, const char *line, int keep_buttons,
				const char *suffix);

#endif
