/*
 * load_fuzz.c - libFuzzer target: the policy loader and checker on
 * arbitrary bytes. Any input must give a policy or diagnostics, never a
 * crash, a leak or a hang.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	if (sg_policy_load_mem(&p, "fuzz.yaml", (const char *)data, size, &d, &err) == 0) {
		sg_policy_check(p, &d);
		sg_policy_free(p);
	}
	struct sg_buf b = SG_BUF_INIT;
	sg_diags_format(&d, &b, 0);
	sg_buf_release(&b);
	sg_diags_release(&d);
	return 0;
}
