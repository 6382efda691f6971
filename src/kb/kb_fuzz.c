/*
 * kb_fuzz.c - libFuzzer target for the KB's parsers: any bytes as an
 * article (front matter + Markdown body) and as a search text for the
 * FTS5 query builder and the drafter's sentence and gap checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "draft/draft.h"
#include "kb/kb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_kb_article a;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_kb_article_parse(&a, "fuzz.md", (const char *)data, size, &err) == 0) {
		if (!a.id || !a.title || !a.url)
			abort();
		for (size_t i = 0; i < a.npassages; i++)
			if (strlen(a.passages[i]) > 900 || !a.passages[i][0])
				abort();
		sg_kb_article_release(&a);
	}
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	char *q;
	if (sg_kb_query_build(&q, s, &err) == 0) {
		/* only quoted words joined by OR */
		for (const char *p = q; *p; p++)
			if (*p == '(' || *p == ')' || *p == '*' || *p == ':' || *p == '^' || *p == '-')
				abort();
		sg_free(q);
	}
	struct sg_gap_report g;
	if (sg_draft_gap_check_text(&g, s, "Refunds take 5 to 10 business days.", &err) == 0)
		sg_gap_report_release(&g);
	char *t;
	if (sg_draft_pii_tags(&t, s, &err) == 0)
		sg_free(t);
	free(s);
	return 0;
}
