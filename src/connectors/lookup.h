/*
 * lookup.h - SOP lookups over HTTP through the connectors: a `lookup:`
 * step names a record kind (`crm.account`); the connector whose `lookups`
 * map lists that kind answers it (a Salesforce SOQL query through the REST
 * query endpoint, or a plain HTTP GET answered with JSON), and the answer
 * is mapped to a flat record by field paths. docs/connectors.md has the
 * policy keys; secrets come from the connector's environment variables.
 */
#ifndef SG_CONNECTORS_LOOKUP_H
#define SG_CONNECTORS_LOOKUP_H

#include <jansson.h>

#include "connectors/connector.h"
#include "core/buf.h"
#include "core/error.h"

struct sg_policy;
struct sg_pnode;

/* Salesforce REST API version used when the connector names none. */
#define SG_LOOKUP_SF_VERSION "v60.0"
/* Time allowed for one lookup when the connector gives no `timeout`. */
#define SG_LOOKUP_TIMEOUT_MS 5000

/* The connector of p whose `lookups` map lists record_kind: its policy
 * map, and its name in *name (may be NULL). NULL when none does (the
 * file connector answers then). */
const struct sg_pnode *sg_lookup_connector(const struct sg_policy *p, const char *record_kind,
					   const char **name);

/*
 * Runs the lookup of record_kind for key through the connector that lists
 * it. On success *out is a new JSON object the caller decrefs: the mapped
 * fields (`fields: {name: path}`) in the order the policy lists them, or,
 * without a mapping, the whole record (Salesforce: the first record, less
 * its `attributes`). Returns 0, or a negative SG_E... with err naming the
 * failure: -SG_ETIMEOUT (no answer in time), -SG_ENOTFOUND (404 or no
 * record matched), -SG_EBACKEND (connection failure, 5xx, an answer not in
 * the documented shape), -SG_EUNAUTHORIZED/-SG_EFORBIDDEN (401/403, or
 * the token's environment variable is unset), -SG_EINVALID (another 4xx,
 * a key that cannot be sent). One request, no retry: the SOP step's
 * on_error decides what a failure means.
 */
int sg_lookup_run(json_t **out, const struct sg_policy *p, const char *record_kind,
		  const char *key, struct sg_error *err);

/* One request and its answer, sent synchronously. */
struct sg_conn_exchange {
	struct sg_conn_response resp; /* strings point into this struct */
	struct sg_buf body;
	char msg[192];
	char retry_after[64];
};
/* Sends req (libcurl easy) with its timeouts and fills x->resp (status,
 * timed_out, transport_error and message, Retry-After); the body is capped
 * at SG_MAX_LOOKUP_RESPONSE_BYTES (over it: a transport error). 0, or
 * -SG_ENOMEM. Release x with sg_conn_exchange_release, also on failure. */
int sg_conn_perform(struct sg_conn_exchange *x, const struct sg_conn_request *req,
		    struct sg_error *err);
void sg_conn_exchange_release(struct sg_conn_exchange *x);

/* ---- for the lookup connectors (salesforce.c, http.c) ------------------- */

/* The `lookups.<record_kind>` map of connector c, or NULL. */
const struct sg_pnode *sg_lookup_conf(const struct sg_connector *c, const char *record_kind);
/* 0 for a 2xx answer; else the error of a failed exchange, named after
 * `what` ("salesforce: HTTP 400: MALFORMED_QUERY: ..."). */
int sg_lookup_check(const struct sg_conn_response *resp, const char *what,
		    struct sg_error *err);
/* The answer as a JSON object (new reference). */
int sg_lookup_parse_object(json_t **out, const struct sg_conn_response *resp, const char *what,
			   struct sg_error *err);
/* The mapped record: `fields` in policy order (absent paths skipped), or a
 * copy of rec without `attributes` when fields is NULL. */
int sg_lookup_map(json_t **out, json_t *rec, const struct sg_pnode *fields, struct sg_error *err);
/* Appends tmpl with every "{key}" replaced by val. */
void sg_lookup_fill(struct sg_buf *b, const char *tmpl, const char *val);

/* Reads a field path from a JSON value: `$.a.b[0].c`, `a.b` (the `$` and
 * the first dot are optional). NULL when absent or malformed. Borrowed. */
json_t *sg_lookup_json_path(json_t *root, const char *path);

/* SOQL string literal for a key: 'key' with ' and \ escaped. 0, or
 * -SG_EINVALID for control characters or a key over 255 bytes. */
#define SG_LOOKUP_SOQL_MAX (2 * 255 + 3)
int sg_lookup_soql_quote(char out[SG_LOOKUP_SOQL_MAX], const char *key,
			 struct sg_error *err);

#endif
