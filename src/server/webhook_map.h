/*
 * webhook_map.h - helpdesk webhook payloads (Zendesk event subscriptions,
 * Intercom notifications) mapped to ticket events of the input contract
 * (docs/contracts.md). Pure functions over parsed JSON: the caller has
 * already checked the signature over the raw body. docs/server.md lists
 * which vendor field becomes which ticket field.
 */
#ifndef SG_SERVER_WEBHOOK_MAP_H
#define SG_SERVER_WEBHOOK_MAP_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

#define SG_WEBHOOK_WHY_MAX 160
#define SG_WEBHOOK_ID_MAX 64  /* vendor ticket and event ids, in bytes */

/*
 * Each mapper returns:
 *   0  *out is a new ticket event (the caller decrefs it);
 *   1  the payload is valid but carries no customer message to decide (a
 *      status change, an agent's reply, an internal note): *out is NULL and
 *      why says what was skipped;
 *   <0 -SG_EINVALID (or -SG_ENOMEM) with err naming the payload field
 *      ("field 'detail.id': required"); *out is NULL.
 *
 * Zendesk: ticket.created (the description) and ticket.comment_added (a
 * public comment by a non-staff author). Ticket id "zendesk-<detail.id>",
 * event id the event's `id`.
 * Intercom: conversation.user.created (the source message) and
 * conversation.user.replied (the last comment by the contact). Ticket id
 * "intercom-<item.id>", event id the notification's `id`; HTML bodies are
 * turned into plain text.
 */
int sg_webhook_zendesk_event(json_t **out, const json_t *payload,
			     char why[SG_WEBHOOK_WHY_MAX], struct sg_error *err);
int sg_webhook_intercom_event(json_t **out, const json_t *payload,
			      char why[SG_WEBHOOK_WHY_MAX], struct sg_error *err);

/* Plain text of an HTML fragment: tags dropped, <br> and block ends as
 * newlines, the common named and numeric entities decoded (invalid ones
 * kept as written), surrounding whitespace trimmed. Never longer than the
 * input. Heap string (sg_free), NULL when out of memory. */
char *sg_html_to_text(const char *html, size_t len);

#endif
