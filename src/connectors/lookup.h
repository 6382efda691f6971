/*
 * lookup.h - SOP lookups over HTTP: a Salesforce SOQL query through the
 * REST query endpoint, or a generic HTTP GET answered with JSON, each
 * mapped to a flat record by field paths. Configured by one entry of the
 * policy's `lookups` section (docs/connectors.md); secrets come from
 * environment variables named there, never from the policy itself.
 */
#ifndef SG_CONNECTORS_LOOKUP_H
#define SG_CONNECTORS_LOOKUP_H

#include <jansson.h>

#include "core/error.h"
#include "policy/policy.h"

/* Salesforce REST API version used when the entry names none. */
#define SG_LOOKUP_SF_VERSION "v60.0"
/* Time allowed for one lookup when the entry gives no `timeout`. */
#define SG_LOOKUP_TIMEOUT_S 5.0

/*
 * Runs the lookup configured by `conf` (a `lookups.<kind>` map) for `key`.
 * On success *out is a new JSON object the caller decrefs: the mapped
 * fields (`fields: {name: path}`) in the order the policy lists them, or,
 * without a mapping, the whole record (Salesforce: the first record, less
 * its `attributes`). Returns 0, or a negative SG_E... with err naming the
 * failure: -SG_ETIMEOUT (no answer in time), -SG_ENOTFOUND (404 or no
 * record matched), -SG_EBACKEND (connection, 5xx, a body that is not the
 * documented shape), -SG_EUNAUTHORIZED/-SG_EFORBIDDEN (401/403, or the
 * token's environment variable is unset), -SG_EINVALID (other 4xx, a key
 * that cannot be sent). Never retries: the SOP step's on_error decides.
 */
int sg_lookup_http(json_t **out, const struct sg_pnode *conf, const char *key,
		   struct sg_error *err);

/* Reads a field path from a JSON value: `$.a.b[0].c`, `a.b` (the `$` and
 * the first dot are optional). NULL when absent or malformed. Borrowed. */
json_t *sg_lookup_json_path(json_t *root, const char *path);

/* SOQL string literal for a key: 'key' with ' and \ escaped. 0, or
 * -SG_EINVALID for control characters or a key over 255 bytes. out needs
 * 2 * 255 + 3 bytes. */
#define SG_LOOKUP_SOQL_MAX (2 * 255 + 3)
int sg_lookup_soql_quote(char out[SG_LOOKUP_SOQL_MAX], const char *key,
			 struct sg_error *err);

#endif
