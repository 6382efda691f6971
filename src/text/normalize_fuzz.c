/*
 * normalize_fuzz.c - libFuzzer target for UTF-8 validation and
 * normalization: any bytes, with and without case folding. Checks that the
 * offset maps stay inside the original text and never go backwards.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sg_text_norm n;
	struct sg_error err = SG_ERROR_INIT;
	size_t bad = 0;
	int valid = sg_text_validate((const char *)data, size, &bad) == 0;
	for (unsigned flags = 0; flags <= SG_NORM_CASEFOLD; flags += SG_NORM_CASEFOLD) {
		int rc = sg_text_normalize(&n, (const char *)data, size, flags, &err);
		if (valid != (rc == 0) && rc != -SG_ELIMIT)
			abort();
		if (rc)
			continue;
		if (sg_text_validate(n.text, n.len, &bad) != 0)
			abort(); /* the output is valid UTF-8 too */
		uint32_t last = 0;
		if (n.identity && (n.len != size || memcmp(n.text, data, size) != 0) && !flags)
			abort(); /* pure ASCII is copied as is */
		for (size_t i = 0; i < n.len && !n.identity; i++) {
			if (n.start[i] > n.end[i] || n.end[i] > size || n.start[i] < last)
				abort();
			last = n.start[i];
		}
		if (n.len) {
			size_t os, oe;
			sg_text_norm_orig(&n, 0, n.len, &os, &oe);
			if (os > oe || oe > size)
				abort();
		}
	}
	return 0;
}
