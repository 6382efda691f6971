/*
 * person_fuzz.c - libFuzzer target for the PERSON word pass: on any bytes,
 * the pass that visits only the words next to a capital must keep the same
 * candidates, after their extractor, as the visit of every word.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "scan/scan_int.h"

static struct sg_scanner *scanner;
static struct sg_scan_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_scan_options o = SG_SCAN_OPTIONS_INIT;
	if (sg_scanner_new(&scanner, &o, &err) || sg_scan_ctx_new(&ctx, scanner, &err))
		abort();
	return 0;
}

#define MAXC (SG_MAX_FINDINGS * 2)
static struct sg_scan_cand kept[2][MAXC];

/* The candidates of one pass that their extractor keeps. */
static size_t run(int all, const char *t, size_t len, int *overflow)
{
	ctx->ncands = 0;
	ctx->overflow = 0;
	int rc = all ? sg_scan_person_pass_all(ctx, t, len) : sg_scan_person_pass(ctx, t, len);
	if (rc)
		abort();
	*overflow = ctx->overflow;
	size_t n = 0;
	for (size_t i = 0; i < ctx->ncands; i++) {
		struct sg_scan_cand cd = ctx->cands[i];
		size_t from = cd.from, to = cd.to;
		if (sg_scan_extract(scanner->rules[cd.rule].check, t, len, &from, &to))
			kept[all][n++] = (struct sg_scan_cand){cd.rule, (uint32_t)from, (uint32_t)to};
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	int ov0, ov1;
	size_t n0 = run(0, t, size, &ov0), n1 = run(1, t, size, &ov1);
	if (n0 != n1 || ov0 != ov1 || memcmp(kept[0], kept[1], n0 * sizeof(kept[0][0])) != 0)
		abort();
	return 0;
}
