/*
 * salesforce.c - the Salesforce connector: SOP lookups as SOQL through the
 * REST query endpoint (GET /services/data/vXX.X/query?q=..., bearer
 * token), the first record of the answer mapped by field paths. It
 * delivers no outbox actions.
 */
#include "connectors/connectors_int.h"

#include <curl/curl.h>
#include <string.h>

#include "connectors/lookup.h"
#include "policy/policy.h"
#include "core/banned.h"

static int lookup_build(struct sg_conn_request *out, const struct sg_connector *c,
			const char *record_kind, const char *key, struct sg_error *err)
{
	const struct sg_pnode *conf = sg_lookup_conf(c, record_kind);
	const char *query = sg_pnode_str(conf, "query", NULL);
	const char *ver = sg_conn_cfg_str(c, "api_version", SG_LOOKUP_SF_VERSION);
	char lit[SG_LOOKUP_SOQL_MAX];
	struct sg_buf soql = SG_BUF_INIT;
	int rc;
	if (!query)
		return sg_error_set(err, SG_EINVALID, "salesforce: lookups.%s has no query", record_kind);
	if ((rc = sg_lookup_soql_quote(lit, key, err)) < 0)
		return rc;
	sg_lookup_fill(&soql, query, lit);
	char *esc = soql.oom ? NULL : curl_easy_escape(NULL, soql.data, (int)soql.len);
	sg_buf_release(&soql);
	if (!esc)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	out->method = "GET";
	out->url = sg_conn_url(c, NULL, "/services/data/%s/query?q=%s", ver, esc);
	curl_free(esc);
	if (!out->url)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (sg_conn_request_header(out, "Authorization: Bearer %s", c->token ? c->token : "") < 0 ||
	    sg_conn_request_header(out, "Accept: application/json") < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	return 0;
}

static int lookup_parse(json_t **out, const struct sg_connector *c, const char *record_kind,
			const struct sg_conn_response *resp, struct sg_error *err)
{
	json_t *ans = NULL;
	int rc;
	*out = NULL;
	if ((rc = sg_lookup_check(resp, "salesforce", err)) < 0 ||
	    (rc = sg_lookup_parse_object(&ans, resp, "salesforce", err)) < 0)
		return rc;
	json_t *records = json_object_get(ans, "records");
	json_t *rec = json_array_get(records, 0);
	if (!json_is_array(records))
		rc = sg_error_set(err, SG_EBACKEND, "salesforce: field 'records': expected an array");
	else if (!rec)
		rc = sg_error_set(err, SG_ENOTFOUND, "salesforce: no record matched");
	else if (!json_is_object(rec))
		rc = sg_error_set(err, SG_EBACKEND, "salesforce: field 'records[0]': expected an object");
	else
		rc = sg_lookup_map(out, rec, sg_pnode_get(sg_lookup_conf(c, record_kind), "fields"), err);
	json_decref(ans);
	return rc;
}

const struct sg_connector_ops sg_conn_salesforce_ops = {
	.type = "salesforce",
	.flags = SG_CONN_F_NEEDS_TOKEN | SG_CONN_F_NEEDS_URL,
	.lookup_build = lookup_build,
	.lookup_parse = lookup_parse,
};
