/*
 * cmd_check.c - `sopgate check POLICY`: loads the policy, runs the static
 * analysis and prints every diagnostic with its source line and a caret.
 * Exit 0 when there is no error (warnings allowed), 1 with errors.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "policy/policy.h"
#include "core/banned.h"

static int run(int argc, char **argv);

const struct sg_cmd sg_cmd_check = {
	"check",
	"validate a policy file and report every problem",
	"sopgate check POLICY\n\n"
	"Loads POLICY (and its includes), checks every key, type, expression and\n"
	"reference, then the static analysis (intents without a tier, rules that can\n"
	"never fire, overlapping escalations, thresholds out of order...).\n"
	"Prints each problem as file:line:col: error|warning: message.\n"
	"Exit status: 0 no errors (warnings allowed), 1 errors, 2 usage.\n",
	run,
};

static int run(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return sg_cli_usage_error(&sg_cmd_check, "expected one POLICY file");
	struct sg_diags d;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_policy *p = NULL;
	sg_diags_init(&d);
	int rc = sg_policy_load(&p, argv[1], &d, &err);
	if (rc < 0 && rc != -SG_EPOLICY) {
		sg_cli_print_error(&err);
		sg_diags_release(&d);
		return SG_EXIT_USAGE;
	}
	if (p)
		sg_policy_check(p, &d);
	sg_diags_sort(&d);
	struct sg_buf out = SG_BUF_INIT;
	sg_diags_format(&d, &out, sg_cli_color(stdout));
	fwrite(out.data, 1, out.len, stdout);
	sg_buf_release(&out);
	if (d.truncated)
		printf("(only the first %zu problems are shown)\n", d.n);
	printf("%s: %zu error%s, %zu warning%s", argv[1], d.errors, d.errors == 1 ? "" : "s",
	       d.warnings, d.warnings == 1 ? "" : "s");
	if (p)
		printf(", version %.12s", p->version);
	printf("\n");
	int status = d.errors ? SG_EXIT_FAIL : SG_EXIT_OK;
	sg_diags_release(&d);
	sg_policy_free(p);
	return status;
}
