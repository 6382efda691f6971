/*
 * score_fuzz.c - libFuzzer target for the QA loop's outside input: a score
 * body (POST /v1/qa/samples/{id}/score) and a week (?week=, --week). Any
 * bytes give a parse or an error naming the field, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "qa/qa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_error err = SG_ERROR_INIT;
	json_t *j = NULL;
	if (sg_json_parse(&j, (const char *)data, size, &err) == 0) {
		struct sg_qa_score_input in;
		sg_error_clear(&err);
		int rc = sg_qa_score_from_json(&in, j, &err);
		if (rc < 0 && !err.msg[0])
			abort();
		for (size_t i = 0; rc == 0 && i < SG_QA_DIMENSIONS; i++)
			if (in.dims[i] < 1 || in.dims[i] > 5)
				abort();
		json_decref(j);
	}
	char text[64];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	memcpy(text, data, n);
	text[n] = 0;
	char week[SG_QA_PERIOD_LEN];
	int64_t from = 0;
	sg_error_clear(&err);
	int rc = sg_qa_week_parse(week, &from, text, &err);
	if (rc < 0 && !err.msg[0])
		abort();
	if (rc == 0 && (from % (24LL * 3600 * 1000) != 0 || strlen(week) != 8))
		abort();
	return 0;
}
