/*
 * scan_test_util.h - helpers shared by the scanner's unit tests: one
 * scanner per test binary and "is there a finding of this type on exactly
 * this substring" checks.
 */
#ifndef SG_SCAN_TEST_UTIL_H
#define SG_SCAN_TEST_UTIL_H

#include <string.h>

#include "scan/scan.h"

static struct sg_scanner *T_scanner;
static struct sg_scan_ctx *T_ctx;

static inline int t_setup(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_scan_options o = SG_SCAN_OPTIONS_INIT;
	if (sg_scanner_new(&T_scanner, &o, &err) || sg_scan_ctx_new(&T_ctx, T_scanner, &err))
		return -1;
	return 0;
}

static inline int t_teardown(void **state)
{
	(void)state;
	sg_scan_ctx_free(T_ctx);
	sg_scanner_free(T_scanner);
	return 0;
}

static inline struct sg_scan_result *t_scan_in(enum sg_scan_mode mode, const char *text,
					const struct sg_scan_input *in)
{
	struct sg_error err = SG_ERROR_INIT;
	struct sg_scan_result *r = NULL;
	int rc = sg_scan_run(T_ctx, mode, text, strlen(text), in, &r, &err);
	if (rc)
		return NULL;
	return r;
}

static inline struct sg_scan_result *t_scan(const char *text)
{
	return t_scan_in(SG_SCAN_INPUT, text, NULL);
}

/* 1 when r has a finding of `type` covering exactly `what` in text (the
 * first occurrence of `what`); what == NULL: any finding of that type. */
static inline int t_has(const struct sg_scan_result *r, const char *text, const char *type,
		 const char *what)
{
	if (!r)
		return 0;
	size_t start = 0, end = 0;
	if (what) {
		const char *p = strstr(text, what);
		if (!p)
			return 0;
		start = (size_t)(p - text);
		end = start + strlen(what);
	}
	for (size_t i = 0; i < r->nfindings; i++)
		if (strcmp(r->findings[i].type, type) == 0 &&
		    (!what || (r->findings[i].start == start && r->findings[i].end == end)))
			return 1;
	return 0;
}

#define FOUND(type, text, what) assert_true(t_has(t_scan(text), text, type, what))
#define NOT_FOUND(type, text) assert_false(t_has(t_scan(text), text, type, NULL))

#endif
