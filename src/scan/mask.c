/*
 * mask.c - typed placeholders: every MASK or BLOCK finding is replaced by
 * [TYPE_n] in a copy of the original text; the same value (compared in its
 * canonical form: digits only for numbers, lower case otherwise) gets the
 * same n within one text, so "call 555-0100 ... 5550100" reads
 * "call [PHONE_1] ... [PHONE_1]".
 */
#include "scan/scan_int.h"

#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

/* keys: records "TYPE\0canon\0" one after the other, numbered per type in
 * order of appearance; returns the number for (type, canon). */
static unsigned number_of(struct sg_buf *keys, const char *type,
			  const char *canon, size_t clen)
{
	unsigned n = 0;
	size_t tl = strlen(type);
	for (size_t i = 0; i < keys->len;) {
		const char *kt = keys->data + i;
		size_t ktl = strlen(kt);
		const char *kc = kt + ktl + 1;
		size_t kcl = strlen(kc);
		if (ktl == tl && memcmp(kt, type, tl) == 0) {
			n++;
			if (kcl == clen && memcmp(kc, canon, clen) == 0)
				return n;
		}
		i += ktl + kcl + 2;
	}
	sg_buf_add(keys, type, tl + 1);
	sg_buf_add(keys, canon, clen);
	sg_buf_addc(keys, 0);
	return n + 1;
}

int sg_scan_build_masked(struct sg_scan_ctx *c, const char *text, size_t len,
			 struct sg_error *err)
{
	struct sg_buf *m = &c->masked;
	sg_buf_reset(m);
	sg_buf_reset(&c->keys);
	size_t pos = 0;
	for (size_t i = 0; i < c->nfindings; i++) {
		const struct sg_scan_finding *f = &c->findings[i];
		int type = sg_scan_type_from_name(f->type);
		/* BLOCK masks PII values; a blocked injection stays readable */
		if (f->action != SG_SCAN_MASK &&
		    !(f->action == SG_SCAN_BLOCK && type >= 0 && type <= SG_T_SECRET))
			continue;
		if (f->start < pos || f->end > len)
			continue; /* overlaps a masked span: already covered */
		sg_buf_add(m, text + pos, f->start - pos);
		sg_scan_canon(&c->canon, type < 0 ? SG_T__COUNT : type,
			      text + f->start, f->end - f->start);
		/* the canonical value is kept only in memory, for numbering */
		unsigned n = number_of(&c->keys, f->type, c->canon.data, c->canon.len);
		sg_buf_addf(m, "[%s_%u]", f->type, n);
		pos = f->end;
	}
	sg_buf_add(m, text + pos, len - pos);
	if (m->oom || c->keys.oom || c->canon.oom) {
		sg_buf_reset(m);
		return sg_error_set(err, SG_ENOMEM, "out of memory masking a text of %zu bytes", len);
	}
	return 0;
}

int sg_scan_mask(char **out, size_t *out_len, struct sg_scan_ctx *ctx,
		 const char *text, size_t len, const struct sg_scan_input *in,
		 struct sg_error *err)
{
	struct sg_scan_result *r;
	*out = NULL;
	int rc = sg_scan_run(ctx, SG_SCAN_INPUT, text, len, in, &r, err);
	if (rc)
		return rc;
	char *copy = sg_malloc(r->masked_len + 1);
	if (!copy)
		return sg_error_set(err, SG_ENOMEM, "out of memory copying masked text");
	memcpy(copy, r->masked, r->masked_len + 1);
	*out = copy;
	if (out_len)
		*out_len = r->masked_len;
	return 0;
}
