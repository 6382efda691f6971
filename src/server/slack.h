/*
 * slack.h - Slack interactivity for sopgate serve: POST /v1/webhooks/slack
 * takes the button clicks of an escalation message (Approve / Partial /
 * Deny / Reply manually), verifies Slack's signature and timestamp window,
 * maps the Slack user to a sopgate user, records the decision through the
 * same code path as the console (sg_api_human) and updates the original
 * message with chat.update to show who decided. docs/connectors.md has the
 * setup.
 */
#ifndef SG_SERVER_SLACK_H
#define SG_SERVER_SLACK_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"
#include "server/server.h"

/* One block_actions click, from the form-encoded `payload` field. Strings
 * point into `payload` (owned). */
struct sg_slack_click {
	json_t *payload;          /* the decoded JSON (owned reference) */
	const char *type;         /* "block_actions", ... */
	const char *user_id, *user_name, *team_id;
	const char *channel_id, *message_ts;
	const char *response_url; /* may be NULL */
	const char *action_id, *value, *block_id; /* the first action */
	const json_t *blocks;     /* the original message's blocks, may be NULL */
};

#define SG_SLACK_MAX_PAYLOAD (256u << 10) /* decoded payload bytes */

/* Decodes an application/x-www-form-urlencoded body and parses its
 * `payload` field. 0, or -SG_EINVALID / -SG_EJSON naming the problem
 * ("form field 'payload': missing", "payload: field 'actions': expected an
 * array"). Release with sg_slack_click_release (also after a failure). */
int sg_slack_click_parse(struct sg_slack_click *out, const char *body, size_t len,
			 struct sg_error *err);
void sg_slack_click_release(struct sg_slack_click *c);

/* The route handler (ctx is the struct sg_api). */
int sg_slack_interact(void *ctx, const struct sg_http_req *req, struct sg_http_resp *resp,
		      struct sg_error *err);

#endif
