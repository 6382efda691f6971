/*
 * answer.c - what the tasks' models answer, checked before a decision uses
 * it: the sentiment/risk tagger's strict JSON and the knowledge-gap
 * detector's "OK" or list of claims.
 */
#include "draft/draft.h"

#include <jansson.h>
#include <string.h>

#include "core/banned.h"

int sg_draft_parse_tags(int out[3], const char *text, struct sg_error *err)
{
	static const char *const keys[] = {"frustration", "churn_risk", "escalation_likelihood"};
	json_t *j = json_loads(text ? text : "", 0, NULL);
	int rc = 0;
	if (!json_is_object(j)) {
		rc = sg_error_set(err, SG_EBACKEND, "the answer is not a JSON object");
		goto cleanup;
	}
	for (int i = 0; i < 3; i++) {
		json_t *x = json_object_get(j, keys[i]);
		if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 10) {
			rc = sg_error_set(err, SG_EBACKEND, "field '%s': expected an integer from 0 to 10", keys[i]);
			goto cleanup;
		}
		out[i] = (int)json_integer_value(x);
	}
cleanup:
	json_decref(j);
	return rc;
}

static int is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int sg_draft_parse_gap(const char **first, size_t *len, const char *text, struct sg_error *err)
{
	const char *a = text ? text : "";
	*first = NULL;
	*len = 0;
	while (*a == ' ' || *a == '\n' || *a == '"' || *a == '\r' || *a == '\t')
		a++;
	if (!*a)
		return sg_error_set(err, SG_EBACKEND, "empty answer (expected OK or the unsupported claims)");
	if (!strncmp(a, "OK", 2) && !is_letter(a[2]))
		return 0;
	*first = a;
	*len = strcspn(a, "\r\n");
	return 1;
}
