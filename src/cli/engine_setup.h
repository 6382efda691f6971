/*
 * engine_setup.h - loading a policy and building its decision engine, as
 * `decide`, `test` and `replay` all do, with the policy's diagnostics
 * printed the way `sopgate check` prints them.
 */
#ifndef SG_CLI_ENGINE_SETUP_H
#define SG_CLI_ENGINE_SETUP_H

#include "core/error.h"

struct sg_policy;
struct sg_engine;
struct sg_engine_options;
struct sg_decide_run;

struct sg_cli_engine {
	struct sg_policy *policy;
	struct sg_engine *engine;
	struct sg_decide_run *run;
};

/* Loads `path` and builds the engine; errors are printed to stderr.
 * no_classifier: build without the intent model (tests pin `given`).
 * kb_db: a knowledge base to draft from (sopgate kb index), or NULL. */
int sg_cli_engine_open(struct sg_cli_engine *ce, const char *path, int no_classifier,
		       const char *kb_db, struct sg_error *err);
/* Same, starting from base's engine options (hooks, log; NULL: the
 * defaults); no_classifier and kb_db come from the arguments. */
int sg_cli_engine_open_with(struct sg_cli_engine *ce, const char *path, int no_classifier,
			    const char *kb_db, const struct sg_engine_options *base,
			    struct sg_error *err);
void sg_cli_engine_close(struct sg_cli_engine *ce);

#endif
