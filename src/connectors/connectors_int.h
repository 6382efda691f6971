/*
 * connectors_int.h - shared by the connector files only: the ops table of
 * each built-in type (one file each) and small helpers for payloads.
 */
#ifndef SG_CONNECTORS_CONNECTORS_INT_H
#define SG_CONNECTORS_CONNECTORS_INT_H

#include "connectors/connector.h"

extern const struct sg_connector_ops sg_conn_webhook_ops;
extern const struct sg_connector_ops sg_conn_hubspot_ops;
extern const struct sg_connector_ops sg_conn_zendesk_ops;
extern const struct sg_connector_ops sg_conn_intercom_ops;
extern const struct sg_connector_ops sg_conn_pagerduty_ops;
extern const struct sg_connector_ops sg_conn_slack_ops;
extern const struct sg_connector_ops sg_conn_smtp_ops;
extern const struct sg_connector_ops sg_conn_salesforce_ops;
extern const struct sg_connector_ops sg_conn_http_ops;
extern const struct sg_connector_ops sg_conn_jira_ops;

/* payload["key"] as a string, or def. */
const char *sg_conn_str(const json_t *obj, const char *key, const char *def);
/* The connector's own policy key (connectors.<name>.<key>) as a string,
 * or def. */
const char *sg_conn_cfg_str(const struct sg_connector *c, const char *key, const char *def);
/* Appends s percent-encoded for one URL path segment (or query value). */
struct sg_buf;
void sg_conn_path_escape(struct sg_buf *b, const char *s);
/* Appends base64 of data (standard alphabet, padded). */
void sg_conn_base64(struct sg_buf *b, const void *data, size_t len);
/* Appends s with &, <, > escaped (HTML bodies of Intercom notes). */
void sg_conn_html_escape(struct sg_buf *b, const char *s);
/* The reply to send publicly: the draft when the decision's gate is
 * auto_send, else NULL (a human must look: write an internal note). */
const char *sg_conn_public_reply(const json_t *decision);
/* The internal note for a human: gate, tier, intent, summary, reasons
 * and the unsent draft (all masked text). */
void sg_conn_note_text(struct sg_buf *b, const json_t *decision);
/* The decision a "record" action carries, or the payload itself. */
const json_t *sg_conn_decision(const struct sg_conn_item *it);

#endif
