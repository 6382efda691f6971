/*
 * connectors_int.h - shared by the connector files only: the ops table of
 * each built-in type (one file each) and small helpers for payloads.
 */
#ifndef SG_CONNECTORS_CONNECTORS_INT_H
#define SG_CONNECTORS_CONNECTORS_INT_H

#include "connectors/connector.h"

extern const struct sg_connector_ops sg_conn_webhook_ops;
extern const struct sg_connector_ops sg_conn_salesforce_ops;
extern const struct sg_connector_ops sg_conn_http_ops;
extern const struct sg_connector_ops sg_conn_jira_ops;

/* payload["key"] as a string, or def. */
const char *sg_conn_str(const json_t *obj, const char *key, const char *def);
/* The connector's own policy key (connectors.<name>.<key>) as a string,
 * or def. */
const char *sg_conn_cfg_str(const struct sg_connector *c, const char *key, const char *def);
/* The decision a "record" action carries, or the payload itself. */
const json_t *sg_conn_decision(const struct sg_conn_item *it);

#endif
