/*
 * slack_message.h - the buttons of the Slack escalation message (posted
 * by the slack connector, connectors/slack.c) and the message as it reads
 * once someone decided: POST /v1/webhooks/slack (server/slack.h) records
 * the click and edits the message. The buttons carry the ticket id as
 * `value`; their action_ids are the SG_SLACK_ACT_* names below.
 */
#ifndef SG_CONNECTORS_SLACK_MESSAGE_H
#define SG_CONNECTORS_SLACK_MESSAGE_H

#include <jansson.h>

#define SG_SLACK_ACT_APPROVE "approve"
#define SG_SLACK_ACT_PARTIAL "partial"
#define SG_SLACK_ACT_DENY "deny"
#define SG_SLACK_ACT_REPLY "reply_manually"

/* The blocks of the message after a decision: the original blocks with
 * the actions block removed (or, when keep_buttons, given a new block_id,
 * as Slack requires on update) and a context line `line` (mrkdwn)
 * appended. New reference. */
json_t *sg_slack_decided_blocks(const json_t *blocks, const char *line, int keep_buttons,
				const char *suffix);

#endif
