/*
 * engine_setup.c - policy + engine + one decision run for the CLI.
 */
#include "cli/engine_setup.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "decide/engine.h"
#include "policy/policy.h"
#include "core/banned.h"

int sg_cli_engine_open(struct sg_cli_engine *ce, const char *path, int no_classifier,
		       const char *kb_db, struct sg_error *err)
{
	return sg_cli_engine_open_with(ce, path, no_classifier, kb_db, NULL, err);
}

int sg_cli_engine_open_with(struct sg_cli_engine *ce, const char *path, int no_classifier,
			    const char *kb_db, const struct sg_engine_options *base,
			    struct sg_error *err)
{
	struct sg_diags diags;
	struct sg_engine_options o = SG_ENGINE_OPTIONS_INIT;
	int rc;
	if (base)
		o = *base;
	memset(ce, 0, sizeof(*ce));
	sg_diags_init(&diags);
	rc = sg_policy_load(&ce->policy, path, &diags, err);
	if (diags.n) {
		struct sg_buf b = SG_BUF_INIT;
		sg_diags_format(&diags, &b, sg_cli_color(stderr));
		fputs(b.data, stderr);
		sg_buf_release(&b);
	}
	sg_diags_release(&diags);
	if (rc < 0) {
		if (err->code)
			sg_cli_print_error(err);
		else
			fprintf(stderr, "sopgate: '%s' has errors; see 'sopgate check %s'\n", path, path);
		return rc;
	}
	o.no_classifier = no_classifier;
	o.kb_db = kb_db;
	if ((rc = sg_engine_new(&ce->engine, ce->policy, &o, err)) < 0 ||
	    (rc = sg_decide_run_new(&ce->run, ce->engine, err)) < 0) {
		sg_cli_print_error(err);
		sg_cli_engine_close(ce);
		return rc;
	}
	return 0;
}

void sg_cli_engine_close(struct sg_cli_engine *ce)
{
	sg_decide_run_free(ce->run);
	sg_engine_free(ce->engine);
	sg_policy_free(ce->policy);
	memset(ce, 0, sizeof(*ce));
}
