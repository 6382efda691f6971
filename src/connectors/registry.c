/*
 * registry.c - the connector types built into sopgate, found by the
 * policy's `type:`. Adding a type is one ops table in its own file and one
 * line here.
 */
#include "connectors/connector.h"

#include <string.h>

#include "connectors/connectors_int.h"
#include "core/banned.h"

static const struct sg_connector_ops *const types[] = {
	&sg_conn_webhook_ops,
	&sg_conn_hubspot_ops,
	&sg_conn_zendesk_ops,
	&sg_conn_intercom_ops,
	&sg_conn_pagerduty_ops,
	&sg_conn_slack_ops,
	&sg_conn_smtp_ops,
	&sg_conn_salesforce_ops,
	&sg_conn_http_ops,
	&sg_conn_jira_ops,
};

const struct sg_connector_ops *sg_connector_ops_find(const char *type)
{
	for (size_t i = 0; type && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(types[i]->type, type))
			return types[i];
	return NULL;
}
