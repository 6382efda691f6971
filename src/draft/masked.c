/*
 * masked.c - struct sg_masked_text: text that went through the scanner's
 * masking. The struct is private to this file and sg_masked_new is its
 * only constructor, so holding one proves the masking ran.
 */
#include "draft/draft.h"

#include "core/alloc.h"
#include "core/banned.h"

struct sg_masked_text {
	char *text;
	size_t len;
};

int sg_masked_new(struct sg_masked_text **out, struct sg_scan_ctx *ctx,
		  const char *text, size_t len, const struct sg_scan_input *in,
		  struct sg_error *err)
{
	*out = NULL;
	struct sg_masked_text *m = sg_calloc(1, sizeof(*m));
	if (!m)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	int rc = sg_scan_mask(&m->text, &m->len, ctx, text, len, in, err);
	if (rc) {
		sg_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void sg_masked_free(struct sg_masked_text *m)
{
	if (!m)
		return;
	sg_free(m->text);
	sg_free(m);
}

const char *sg_masked_str(const struct sg_masked_text *m, size_t *len)
{
	if (len)
		*len = m->len;
	return m->text;
}
