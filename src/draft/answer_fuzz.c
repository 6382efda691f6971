/*
 * answer_fuzz.c - libFuzzer target for what a model server sends back: any
 * bytes as an OpenAI or Anthropic response body, as the tagger's JSON and
 * as the knowledge-gap detector's answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "draft/backend.h"
#include "draft/draft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const backends[] = {"openai", "anthropic"};
	for (int i = 0; i < 2; i++) {
		struct sg_backend_response r;
		struct sg_error err = SG_ERROR_INIT;
		int rc = sg_backend_parse(&r, backends[i], (const char *)data, size, i, &err);
		if (rc == 0 && !r.text)
			abort();
		if (rc != 0 && (r.text || !err.msg[0]))
			abort();
		sg_backend_response_release(&r);
	}
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	int v[3];
	struct sg_error e1 = SG_ERROR_INIT, e2 = SG_ERROR_INIT;
	if (sg_draft_parse_tags(v, s, &e1) == 0)
		for (int i = 0; i < 3; i++)
			if (v[i] < 0 || v[i] > 10)
				abort();
	const char *claim;
	size_t len;
	if (sg_draft_parse_gap(&claim, &len, s, &e2) == 1 &&
	    (claim < s || claim + len > s + strlen(s)))
		abort();
	free(s);
	return 0;
}
