/*
 * features_fuzz.c - libFuzzer target for the feature extractor: the first
 * input byte picks the feature parameters, the rest is the text. Checks the
 * result's invariants (buckets in range, at most one feature per raw hash,
 * unit L2 norm) and that a second extraction of the same text agrees.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify_int.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sg_classify_scratch *scratch;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (!scratch && sg_classify_scratch_new(&scratch, NULL) < 0)
		abort();
	static const unsigned bits[4] = {16, 18, 20, 24};
	struct sg_feature_params p = SG_FEATURE_PARAMS_INIT;
	p.hash_bits = bits[data[0] & 3];
	p.word_ngrams = 1 + (data[0] >> 2 & 1);
	p.char_min = 1 + (data[0] >> 3 & 3);
	p.char_max = p.char_min + (data[0] >> 5 & 3);
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_features_extract(scratch, &p, text, len, &err) < 0)
		return 0; /* invalid UTF-8 or too long: an error, not a crash */
	size_t nfv = scratch->nfv;
	double norm = 0;
	if (nfv > scratch->nraw)
		abort();
	for (size_t i = 0; i < nfv; i++) {
		if (scratch->fv[i].bucket >> p.hash_bits)
			abort();
		norm += (double)scratch->fv[i].value * scratch->fv[i].value;
	}
	if (nfv && fabs(norm - 1.0) > 1e-3)
		abort();
	struct sg_feat *first = malloc((nfv + 1) * sizeof(*first));
	if (!first)
		return 0;
	memcpy(first, scratch->fv, nfv * sizeof(*first));
	if (sg_features_extract(scratch, &p, text, len, &err) < 0 || scratch->nfv != nfv ||
	    memcmp(first, scratch->fv, nfv * sizeof(*first)) != 0)
		abort();
	free(first);
	return 0;
}
