/*
 * model_fuzz.c - libFuzzer target for the model file parser. The input gets
 * a valid checksum trailer appended, so that mutations reach the header and
 * body checks instead of all stopping at the checksum.
 */
#include <stdint.h>
#include <string.h>

#include "classify/classify_int.h"
#include "core/alloc.h"
#include "core/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	char *buf = sg_malloc(size + 80);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	char hex[SG_SHA256_HEX];
	sg_sha256_hex(buf, size, hex);
	memcpy(buf + size, "sha256 ", 7);
	memcpy(buf + size + 7, hex, SG_SHA256_HEX - 1);
	buf[size + 7 + SG_SHA256_HEX - 1] = '\n';
	struct sg_error err = SG_ERROR_INIT;
	struct sg_classifier *c = NULL;
	if (sg_classifier_parse(&c, buf, size + 7 + SG_SHA256_HEX, "fuzz", &err) == 0)
		sg_classifier_free(c);
	sg_free(buf);
	return 0;
}
