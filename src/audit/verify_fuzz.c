/*
 * verify_fuzz.c - feeds arbitrary records to the audit verifier: it must
 * report problems, never crash, whatever a tampered database holds
 * (malformed anchor bodies, odd sequences, overlong fields).
 *
 * Input: records separated by 0x1e; fields by '\n': chain, seq, prev_hash,
 * hash, body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/alloc.h"

static int report(const struct sg_audit_problem *p, void *ctx)
{
	(void)p;
	(*(unsigned long *)ctx)++;
	return 0;
}

static int lookup(const char *chain, int64_t seq, char hash[SG_SHA256_HEX], void *ctx,
		  struct sg_error *err)
{
	(void)ctx;
	(void)err;
	if (seq % 2)
		return 1;
	snprintf(hash, SG_SHA256_HEX, "%.64s", chain);
	return 0;
}

static void field(char *dst, size_t cap, const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl ? nl : end) - *p);
	snprintf(dst, cap, "%.*s", (int)(n < cap ? n : cap - 1), *p);
	*p = nl ? nl + 1 : end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long problems = 0;
	struct sg_audit_verifier v;
	struct sg_error err = SG_ERROR_INIT;
	sg_audit_verify_init(&v, report, &problems);
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *rs = memchr(p, 0x1e, (size_t)(end - p));
		const char *rend = rs ? rs : end;
		struct sg_audit_record r = {0};
		char seq[32], body[4096];
		field(r.chain, sizeof(r.chain), &p, rend);
		field(seq, sizeof(seq), &p, rend);
		r.seq = strtoll(seq, NULL, 10);
		field(r.prev_hash, sizeof(r.prev_hash), &p, rend);
		field(r.hash, sizeof(r.hash), &p, rend);
		field(body, sizeof(body), &p, rend);
		r.body = body;
		if (sg_audit_verify_feed(&v, &r, &err) < 0)
			break;
		p = rs ? rs + 1 : end;
	}
	sg_audit_verify_finish(&v, lookup, NULL, &err);
	sg_audit_verify_release(&v);
	return 0;
}
