/*
 * scan_fuzz.c - libFuzzer target for the scanner: any bytes, both modes,
 * with and without per-text input (allowlist, PII values, tone limits).
 * Checks that findings stay inside the text and are sorted, and that the
 * gate pre-check (gate.c) loses nothing: the same text scanned with every
 * rule group forced on gives the same findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/scan_int.h"

static struct sg_scanner *scanner;
static struct sg_scan_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Compiling the database takes seconds under the sanitizers: do it once,
 * before the per-input timeout starts. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_error err = SG_ERROR_INIT;
	if (size == 0)
		return 0;
	unsigned sel = data[0];
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	enum sg_scan_mode mode = sel & 1 ? SG_SCAN_OUTPUT : SG_SCAN_INPUT;
	struct sg_scan_input in = {0};
	const char *allow[] = {"https://help.acme.com/", "acme.com"};
	const char *pii[] = {"4111 1111 1111 1111", "a@b.co", ""};
	const char *banned[] = {"sorry", "!"};
	if (sel & 2) {
		in.customer_name = "Ann Lee";
		in.customer_email = "ann@lee.io";
		in.customer_phone = "555 0100";
		in.allow_urls = allow;
		in.nallow_urls = 2;
		in.pii_values = pii;
		in.npii_values = 3;
		in.max_words = sel & 4 ? 3 : 0;
		in.max_exclamations = sel & 8 ? 2 : 0;
		in.banned_phrases = banned;
		in.nbanned_phrases = 2;
	}
	struct sg_scan_result *r = NULL;
	if (sg_scan_run(ctx, mode, text, len, sel & 2 ? &in : NULL, &r, &err) != 0)
		return 0;
	size_t prev = 0;
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct sg_scan_finding *f = &r->findings[i];
		if (f->start >= f->end || f->end > len || f->start < prev || !f->type || !f->rule)
			abort();
		prev = f->start;
	}
	if (!r->masked || strlen(r->masked) != r->masked_len)
		if (memchr(text, 0, len) == NULL)
			abort();
	enum { MAXF = 64 };
	struct { size_t start, end; const char *type, *rule; } f[MAXF];
	size_t n = r->nfindings;
	if (n > MAXF)
		return 0;
	for (size_t i = 0; i < n; i++) { /* type and rule names outlive the scan */
		f[i].start = r->findings[i].start;
		f[i].end = r->findings[i].end;
		f[i].type = r->findings[i].type;
		f[i].rule = r->findings[i].rule;
	}
	ctx->nogate = 1;
	int rc = sg_scan_run(ctx, mode, text, len, sel & 2 ? &in : NULL, &r, &err);
	ctx->nogate = 0;
	if (rc != 0 || r->nfindings != n)
		abort();
	for (size_t i = 0; i < n; i++)
		if (r->findings[i].start != f[i].start || r->findings[i].end != f[i].end ||
		    strcmp(r->findings[i].type, f[i].type) || strcmp(r->findings[i].rule, f[i].rule))
			abort();
	return 0;
}
