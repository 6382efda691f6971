/*
 * models.c - the policy's `models` and `prompts` as the engine's model per
 * task: for each task (draft, summarize) the prompt that names it, the
 * model that prompt names and a backend built for it (draft, summarize,
 * tag, knowledge_gap); the list of
 * (task, model) approvals checked before every call; the token budget.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "decide/engine_int.h"
#include "draft/backend.h"
#include "core/banned.h"

static const char *const task_names[SG_TASK__COUNT] = {"draft", "summarize", "tag", "knowledge_gap"};

/* What decisions record as model_name: the backend's model id, else the
 * Azure deployment, else the entry's name ("builtin"). */
static const char *model_id(const struct sg_pnode *m, const char *key)
{
	const char *id = sg_pnode_str(m, "model", NULL);
	if (!id)
		id = sg_pnode_str(m, "azure_deployment", NULL);
	return id ? id : key;
}

static int build_approvals(struct sg_engine *e, const struct sg_pnode *models,
			   struct sg_error *err)
{
	size_t n = 0;
	for (size_t i = 0; models && models->kind == SG_PN_MAP && i < models->n; i++) {
		const struct sg_pnode *t = sg_pnode_get(models->items[i], "tasks");
		n += t && t->kind == SG_PN_LIST ? t->n : 0;
	}
	if (!n)
		return 0;
	e->approvals = sg_calloc(n, sizeof(*e->approvals));
	if (!e->approvals)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	for (size_t i = 0; i < models->n; i++) {
		const struct sg_pnode *m = models->items[i], *t = sg_pnode_get(m, "tasks");
		for (size_t k = 0; t && t->kind == SG_PN_LIST && k < t->n; k++)
			if (t->items[k]->text) {
				e->approvals[e->napprovals].task = t->items[k]->text;
				e->approvals[e->napprovals].model = model_id(m, models->keys[i]);
				e->napprovals++;
			}
	}
	return 0;
}

/* The template file of a prompts entry, relative to the file it was
 * written in (as the schema checked it). */
static void prompt_path(char *out, size_t size, const struct sg_pnode *file)
{
	const char *slash = file->file ? strrchr(file->file, '/') : NULL;
	if (file->text[0] == '/' || !slash)
		snprintf(out, size, "%s", file->text);
	else
		snprintf(out, size, "%.*s/%s", (int)(slash - file->file), file->file, file->text);
}

static int build_task(struct sg_engine *e, enum sg_task_id id, const struct sg_pnode *prompts,
		      const struct sg_pnode *models, struct sg_error *err)
{
	struct sg_task_model *tm = &e->tasks[id];
	const char *key = NULL;
	const struct sg_pnode *pr = NULL;
	tm->model_name = "builtin";
	tm->prompt_version = "builtin.v1";
	for (size_t i = 0; prompts && prompts->kind == SG_PN_MAP && i < prompts->n; i++)
		if (!strcmp(sg_pnode_str(prompts->items[i], "task", ""), task_names[id])) {
			pr = prompts->items[i];
			key = prompts->keys[i];
			break; /* the loader allows one prompt per task */
		}
	const char *mkey = pr ? sg_pnode_str(pr, "model", NULL) : NULL;
	const struct sg_pnode *m = mkey ? sg_pnode_get(models, mkey) : NULL;
	const char *backend = m ? sg_pnode_str(m, "backend", "builtin") : "builtin";
	if (!strcmp(backend, "builtin"))
		return 0; /* the built-in drafter and summarizer: no template */
	struct sg_backend_config c = SG_BACKEND_CONFIG_INIT;
	c.backend = backend;
	c.base_url = sg_pnode_str(m, "endpoint", !strcmp(backend, "anthropic") ? "https://api.anthropic.com" : NULL);
	c.api_key_env = sg_pnode_str(m, "api_key_env", NULL);
	c.azure_deployment = sg_pnode_str(m, "azure_deployment", NULL);
	c.azure_api_version = sg_pnode_str(m, "azure_api_version", NULL);
	c.timeout_ms = (long)(sg_pnode_num(m, "timeout", 30) * 1000);
	c.max_retries = (unsigned)sg_pnode_num(m, "max_retries", 2);
	tm->max_tokens = (unsigned)sg_pnode_num(m, "max_tokens", 512);
	tm->model_name = model_id(m, mkey);
	struct sg_error be = SG_ERROR_INIT;
	int rc = sg_backend_new(&tm->backend, &c, &be);
	if (rc < 0)
		return sg_error_set(err, -rc, "model '%s' for task '%s': %s", mkey, task_names[id], be.msg);
	char path[4096], version[160];
	prompt_path(path, sizeof(path), sg_pnode_get(pr, "file"));
	snprintf(version, sizeof(version), "%s@%s", key, sg_pnode_str(pr, "version", "0"));
	if ((rc = sg_prompt_load_file(&tm->prompt, path, key, version, err)) < 0)
		return rc;
	tm->prompt_version = sg_prompt_version(tm->prompt);
	return 0;
}

int sg_decide_models_init(struct sg_engine *e, struct sg_error *err)
{
	const struct sg_pnode *prompts = sg_policy_section(e->policy, "prompts");
	const struct sg_pnode *models = sg_policy_section(e->policy, "models");
	const struct sg_policy *p = e->policy;
	int rc;
	if ((rc = build_approvals(e, models, err)) < 0)
		return rc;
	for (int i = 0; i < SG_TASK__COUNT; i++)
		if ((rc = build_task(e, (enum sg_task_id)i, prompts, models, err)) < 0)
			return rc;
	/* tokens per session are counted here; sessions per day by the
	 * pipeline, once per decision that uses the AI */
	double tokens = p->budgets.max_tokens_per_session;
	return sg_budget_new(&e->budget, tokens > 0 ? (uint64_t)tokens : 0, 0, err);
}

void sg_decide_models_release(struct sg_engine *e)
{
	for (int i = 0; i < SG_TASK__COUNT; i++) {
		sg_backend_free(e->tasks[i].backend);
		sg_prompt_free(e->tasks[i].prompt);
		memset(&e->tasks[i], 0, sizeof(e->tasks[i]));
	}
	sg_free(e->approvals);
	e->approvals = NULL;
	e->napprovals = 0;
	sg_budget_free(e->budget);
	e->budget = NULL;
}

void sg_decide_log(struct sg_decide_run *r, const char *fmt, ...)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "ticket %s: ", r->t && r->t->id ? r->t->id : "-");
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (r->e->log)
		r->e->log(r->e->log_ctx, line);
	else
		fprintf(stderr, "sopgate: %s\n", line);
}
