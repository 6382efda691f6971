/*
 * prompt.c - versioned prompt templates (prompts/NAME.vN.txt) and the
 * per-task list of approved models.
 */
#include "draft/draft.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/banned.h"

struct sg_prompt {
	char *name, *version, *text;
};

int sg_prompt_load(struct sg_prompt **out, const char *dir, const char *name,
		   unsigned version, struct sg_error *err)
{
	struct sg_buf path = SG_BUF_INIT, ver = SG_BUF_INIT;
	struct sg_prompt *p = NULL;
	size_t len = 0;
	int rc = 0;
	*out = NULL;
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name) ||
	    strlen(name) > 64 || !version)
		return sg_error_set(err, SG_EINVALID,
				    "prompt '%.64s' v%u: name must be [a-z0-9_] and version at least 1",
				    name, version);
	sg_buf_addf(&path, "%s/%s.v%u.txt", dir, name, version);
	sg_buf_addf(&ver, "%s.v%u", name, version);
	p = sg_calloc(1, sizeof(*p));
	if (!p || path.oom || ver.oom) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	rc = sg_read_file(path.data, &p->text, &len, err);
	if (rc)
		goto cleanup;
	if (len > SG_MAX_PROMPT_BYTES || !len || strlen(p->text) != len) {
		rc = sg_error_set(err, SG_EINVALID, "prompt '%s': empty, over %u bytes or has a NUL byte",
				  path.data, SG_MAX_PROMPT_BYTES);
		goto cleanup;
	}
	p->name = sg_strdup(name);
	p->version = sg_buf_detach(&ver, NULL);
	if (!p->name || !p->version) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	*out = p;
	p = NULL;
cleanup:
	sg_prompt_free(p);
	sg_buf_release(&path);
	sg_buf_release(&ver);
	return rc;
}

int sg_prompt_load_file(struct sg_prompt **out, const char *path, const char *name,
			const char *version, struct sg_error *err)
{
	struct sg_prompt *p = NULL;
	size_t len = 0;
	int rc = 0;
	*out = NULL;
	p = sg_calloc(1, sizeof(*p));
	if (!p)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	rc = sg_read_file(path, &p->text, &len, err);
	if (rc)
		goto cleanup;
	if (len > SG_MAX_PROMPT_BYTES || !len || strlen(p->text) != len) {
		rc = sg_error_set(err, SG_EINVALID, "prompt '%s': empty, over %u bytes or has a NUL byte",
				  path, SG_MAX_PROMPT_BYTES);
		goto cleanup;
	}
	p->name = sg_strdup(name);
	p->version = sg_strdup(version);
	if (!p->name || !p->version) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	*out = p;
	p = NULL;
cleanup:
	sg_prompt_free(p);
	return rc;
}

void sg_prompt_free(struct sg_prompt *p)
{
	if (!p)
		return;
	sg_free(p->name);
	sg_free(p->version);
	sg_free(p->text);
	sg_free(p);
}

const char *sg_prompt_text(const struct sg_prompt *p) { return p->text; }
const char *sg_prompt_name(const struct sg_prompt *p) { return p->name; }
const char *sg_prompt_version(const struct sg_prompt *p) { return p->version; }

int sg_draft_model_check(const struct sg_model_approval *list, size_t n,
			 const char *task, const char *model,
			 struct sg_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i].task, task) && !strcmp(list[i].model, model))
			return 0;
	return sg_error_set(err, SG_EFORBIDDEN,
			    "model '%.80s' is not approved for task '%.40s'", model ? model : "", task);
}
