/*
 * metrics_parse_fuzz.c - libFuzzer target for the exposition-format reader:
 * any bytes must give a parse or an error naming the line, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>

#include "server/metrics_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_prom *p = NULL;
	struct sg_error err = SG_ERROR_INIT;
	int rc = sg_prom_parse(&p, (const char *)data, size, &err);
	if (rc == 0) {
		if (!p)
			abort();
		sg_prom_value(p, "a", "");
		sg_prom_free(p);
	} else if (p || !err.msg[0]) {
		abort();
	}
	return 0;
}
