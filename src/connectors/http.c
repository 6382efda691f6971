/*
 * http.c - the plain HTTP connector: SOP lookups as a GET of base_url +
 * the lookup's `path` (the key URL-encoded into it), answered with a JSON
 * object; `record` picks the record inside the answer and `fields` maps
 * it. A bearer token is sent when the connector names `token_env`. It
 * delivers no outbox actions (the signed webhook type does).
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
	const char *path = sg_pnode_str(sg_lookup_conf(c, record_kind), "path", "/{key}");
	struct sg_buf p = SG_BUF_INIT;
	if (strlen(key) > 255)
		return sg_error_set(err, SG_EINVALID, "http lookup: key over 255 bytes");
	char *esc = curl_easy_escape(NULL, key, 0);
	if (!esc)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	sg_lookup_fill(&p, path, esc);
	curl_free(esc);
	out->method = "GET";
	out->url = p.oom ? NULL : sg_conn_url(c, NULL, "%s", p.data);
	sg_buf_release(&p);
	if (!out->url)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	if (sg_conn_request_header(out, "Accept: application/json") < 0 ||
	    (c->token && sg_conn_request_header(out, "Authorization: Bearer %s", c->token) < 0))
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	return 0;
}

static int lookup_parse(json_t **out, const struct sg_connector *c, const char *record_kind,
			const struct sg_conn_response *resp, struct sg_error *err)
{
	const struct sg_pnode *conf = sg_lookup_conf(c, record_kind);
	json_t *ans = NULL;
	int rc;
	*out = NULL;
	if ((rc = sg_lookup_check(resp, "http lookup", err)) < 0 ||
	    (rc = sg_lookup_parse_object(&ans, resp, "http lookup", err)) < 0)
		return rc;
	const char *root = sg_pnode_str(conf, "record", NULL);
	json_t *rec = root ? sg_lookup_json_path(ans, root) : ans;
	if (!json_is_object(rec))
		rc = sg_error_set(err, rec ? SG_EBACKEND : SG_ENOTFOUND, "http lookup: '%s' is %s",
				  root ? root : "$", rec ? "not an object" : "absent");
	else
		rc = sg_lookup_map(out, rec, sg_pnode_get(conf, "fields"), err);
	json_decref(ans);
	return rc;
}

const struct sg_connector_ops sg_conn_http_ops = {
	.type = "http",
	.flags = SG_CONN_F_NEEDS_URL,
	.lookup_build = lookup_build,
	.lookup_parse = lookup_parse,
};
