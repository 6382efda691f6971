/*
 * load.c - reads a policy: YAML (libyaml events) into a located tree,
 * includes merged (relative paths, depth limit, cycles refused), checked
 * against the schema, references resolved, typed tables built for the
 * decision engine, and the version hashed from the canonical JSON.
 */
#include "policy/policy.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/limits.h"
#include "policy/policy_int.h"
#include "core/banned.h"

void sg_pdiag(struct sg_loader *l, enum sg_diag_severity sev, const struct sg_pnode *n,
	      const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sg_diags_add(l->d, sev, n ? n->file : l->p->file, n ? n->source : NULL,
		     n ? n->line : 0, n ? n->col : 0, "%s", msg);
}

/* ---- YAML to tree --------------------------------------------------- */

struct reader {
	struct sg_loader *l;
	yaml_parser_t yp;
	const char *file, *source;
	int failed;
};

static int next_event(struct reader *r, yaml_event_t *ev)
{
	if (yaml_parser_parse(&r->yp, ev))
		return 0;
	struct sg_pnode at = {.file = r->file, .source = r->source,
			      .line = (unsigned)r->yp.problem_mark.line + 1,
			      .col = (unsigned)r->yp.problem_mark.column + 1};
	if (r->yp.context)
		sg_pdiag(r->l, SG_DIAG_ERROR, &at, "YAML syntax: %s %s started at line %u column %u",
			 r->yp.problem ? r->yp.problem : "parse error", r->yp.context,
			 (unsigned)r->yp.context_mark.line + 1, (unsigned)r->yp.context_mark.column + 1);
	else
		sg_pdiag(r->l, SG_DIAG_ERROR, &at, "YAML syntax: %s",
			 r->yp.problem ? r->yp.problem : "parse error");
	r->failed = 1;
	return -1;
}

static struct sg_pnode *new_pnode(struct reader *r, const yaml_event_t *ev, enum sg_pnode_kind k)
{
	if (++r->l->nodes > SG_MAX_POLICY_NODES) {
		struct sg_pnode at = {.file = r->file, .source = r->source,
				      .line = (unsigned)ev->start_mark.line + 1,
				      .col = (unsigned)ev->start_mark.column + 1};
		sg_pdiag(r->l, SG_DIAG_ERROR, &at, "policy too large (more than %u values)",
			 SG_MAX_POLICY_NODES);
		r->failed = 1;
		return NULL;
	}
	struct sg_pnode *n = sg_arena_calloc(r->l->a, 1, sizeof *n);
	if (!n) {
		r->failed = 1;
		return NULL;
	}
	n->kind = k;
	n->file = r->file;
	n->source = r->source;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->col = (unsigned)ev->start_mark.column + 1;
	return n;
}

static void scalar_kind(struct sg_pnode *n, const yaml_event_t *ev)
{
	const char *s = n->text;
	yaml_scalar_style_t st = ev->data.scalar.style;
	if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE || st == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
		n->quoted = 1;
		n->kind = SG_PN_STR;
		return;
	}
	if (st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE) {
		n->quoted = 2;
		n->kind = SG_PN_STR;
		return;
	}
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		n->kind = SG_PN_BOOL;
		n->b = 1;
	} else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
		n->kind = SG_PN_BOOL;
	} else if (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null")) {
		n->kind = SG_PN_NULL;
	} else {
		char *end;
		double v = strtod(s, &end);
		int numeric = (s[0] >= '0' && s[0] <= '9') ||
			      ((s[0] == '-' || s[0] == '+' || s[0] == '.') && s[1] >= '0' && s[1] <= '9');
		if (numeric && !*end && isfinite(v)) {
			n->kind = SG_PN_NUM;
			n->num = v;
		} else {
			n->kind = SG_PN_STR;
		}
	}
}

static struct sg_pnode *read_node(struct reader *r, yaml_event_t *ev, unsigned depth);

static int append(struct reader *r, struct sg_pnode *n, size_t *cap, struct sg_pnode *item,
		  const char *key, struct sg_pnode *key_node)
{
	if (n->n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		struct sg_pnode **items = sg_arena_alloc(r->l->a, c * sizeof *items);
		const char **keys = key ? sg_arena_alloc(r->l->a, c * sizeof *keys) : NULL;
		struct sg_pnode **kn = key ? sg_arena_alloc(r->l->a, c * sizeof *kn) : NULL;
		if (!items || (key && (!keys || !kn)))
			return -1;
		if (n->n) {
			memcpy(items, n->items, n->n * sizeof *items);
			if (key) {
				memcpy(keys, n->keys, n->n * sizeof *keys);
				memcpy(kn, n->key_nodes, n->n * sizeof *kn);
			}
		}
		n->items = items;
		n->keys = keys;
		n->key_nodes = kn;
		*cap = c;
	}
	n->items[n->n] = item;
	if (key) {
		n->keys[n->n] = key;
		n->key_nodes[n->n] = key_node;
	}
	n->n++;
	return 0;
}

/* ev is the node's first event (already parsed; deleted here). */
static struct sg_pnode *read_node(struct reader *r, yaml_event_t *ev, unsigned depth)
{
	struct sg_pnode *n = NULL;
	yaml_event_t e;
	size_t cap = 0;
	if (depth > SG_MAX_POLICY_DEPTH) {
		struct sg_pnode at = {.file = r->file, .source = r->source,
				      .line = (unsigned)ev->start_mark.line + 1,
				      .col = (unsigned)ev->start_mark.column + 1};
		sg_pdiag(r->l, SG_DIAG_ERROR, &at, "nested too deeply (limit %d levels)",
			 SG_MAX_POLICY_DEPTH);
		r->failed = 1;
		yaml_event_delete(ev);
		return NULL;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT: {
		struct sg_pnode at = {.file = r->file, .source = r->source,
				      .line = (unsigned)ev->start_mark.line + 1,
				      .col = (unsigned)ev->start_mark.column + 1};
		sg_pdiag(r->l, SG_DIAG_ERROR, &at,
			 "YAML aliases (*name) are not supported in a policy: write the value out");
		r->failed = 1;
		break;
	}
	case YAML_SCALAR_EVENT:
		n = new_pnode(r, ev, SG_PN_STR);
		if (!n)
			break;
		n->text = sg_arena_strndup(r->l->a, (const char *)ev->data.scalar.value,
					   ev->data.scalar.length);
		if (!n->text) {
			r->failed = 1;
			n = NULL;
			break;
		}
		if (strlen(n->text) != ev->data.scalar.length) {
			sg_pdiag(r->l, SG_DIAG_ERROR, n, "NUL byte in a value");
			r->failed = 1;
			n = NULL;
			break;
		}
		scalar_kind(n, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		n = new_pnode(r, ev, SG_PN_LIST);
		if (!n)
			break;
		for (;;) {
			if (next_event(r, &e) < 0) {
				n = NULL;
				break;
			}
			if (e.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&e);
				break;
			}
			struct sg_pnode *it = read_node(r, &e, depth + 1);
			if (!it || append(r, n, &cap, it, NULL, NULL) < 0) {
				r->failed = 1;
				n = NULL;
				break;
			}
		}
		break;
	case YAML_MAPPING_START_EVENT:
		n = new_pnode(r, ev, SG_PN_MAP);
		if (!n)
			break;
		for (;;) {
			if (next_event(r, &e) < 0) {
				n = NULL;
				break;
			}
			if (e.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&e);
				break;
			}
			struct sg_pnode *k = read_node(r, &e, depth + 1);
			if (!k) {
				n = NULL;
				break;
			}
			if (k->kind == SG_PN_LIST || k->kind == SG_PN_MAP) {
				sg_pdiag(r->l, SG_DIAG_ERROR, k, "a key must be a plain string");
				r->failed = 1;
				n = NULL;
				break;
			}
			if (next_event(r, &e) < 0) {
				n = NULL;
				break;
			}
			struct sg_pnode *v = read_node(r, &e, depth + 1);
			if (!v) {
				n = NULL;
				break;
			}
			const struct sg_pnode *dup = sg_pnode_get(n, k->text);
			if (dup) {
				size_t i = 0;
				while (n->items[i] != dup)
					i++;
				sg_pdiag(r->l, SG_DIAG_ERROR, k, "duplicate key '%s' (first at line %u)",
					 k->text, n->key_nodes[i]->line);
				continue;
			}
			if (append(r, n, &cap, v, k->text, k) < 0) {
				r->failed = 1;
				n = NULL;
				break;
			}
		}
		break;
	default:
		r->failed = 1;
		break;
	}
	yaml_event_delete(ev);
	return n;
}

/* Parses one YAML document; NULL on a syntax error (reported). */
static struct sg_pnode *read_yaml(struct sg_loader *l, const char *file, const char *text,
				  size_t len)
{
	struct reader r = {.l = l, .file = file, .source = text};
	struct sg_pnode *root = NULL;
	yaml_event_t ev;
	if (!yaml_parser_initialize(&r.yp))
		return NULL;
	yaml_parser_set_input_string(&r.yp, (const unsigned char *)text, len);
	for (;;) {
		if (next_event(&r, &ev) < 0)
			break;
		yaml_event_type_t t = ev.type;
		if (t == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (t == YAML_DOCUMENT_START_EVENT && root) {
			struct sg_pnode at = {.file = file, .source = text,
					      .line = (unsigned)ev.start_mark.line + 1,
					      .col = (unsigned)ev.start_mark.column + 1};
			sg_pdiag(l, SG_DIAG_ERROR, &at, "a policy file holds one YAML document");
			yaml_event_delete(&ev);
			root = NULL;
			r.failed = 1;
			break;
		}
		if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT ||
		    t == YAML_MAPPING_START_EVENT || t == YAML_ALIAS_EVENT) {
			root = read_node(&r, &ev, 0);
			if (!root)
				break;
			continue;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&r.yp);
	if (r.failed)
		return NULL;
	if (!root) {
		struct sg_pnode at = {.file = file, .source = text, .line = 1, .col = 1};
		sg_pdiag(l, SG_DIAG_ERROR, &at, "empty policy");
	}
	return root;
}

/* ---- files and includes --------------------------------------------- */

static struct sg_pnode *load_file(struct sg_loader *l, const char *path,
				  const struct sg_pnode *from, struct sg_error *err);

static struct sg_pnode *load_text(struct sg_loader *l, const char *file, const char *text,
				  size_t len, struct sg_error *err)
{
	struct sg_pnode *root = read_yaml(l, file, text, len);
	if (!root)
		return NULL;
	if (root->kind != SG_PN_MAP) {
		sg_pdiag(l, SG_DIAG_ERROR, root, "a policy must be a map of sections, found a %s",
			 root->kind == SG_PN_LIST ? "list" : "single value");
		return NULL;
	}
	const struct sg_pnode *inc = sg_pnode_get(root, "include");
	if (!inc)
		return root;
	if (inc->kind != SG_PN_LIST && inc->kind != SG_PN_STR) {
		sg_pdiag(l, SG_DIAG_ERROR, inc, "'include': expected a list of file names");
		return root;
	}
	size_t count = inc->kind == SG_PN_LIST ? inc->n : 1;
	for (size_t i = 0; i < count; i++) {
		const struct sg_pnode *f = inc->kind == SG_PN_LIST ? inc->items[i] : inc;
		if (f->kind != SG_PN_STR) {
			sg_pdiag(l, SG_DIAG_ERROR, f, "'include[%zu]': expected a file name", i);
			continue;
		}
		char path[PATH_MAX];
		const char *slash = strrchr(file, '/');
		if (f->text[0] == '/' || !slash)
			snprintf(path, sizeof path, "%s", f->text);
		else
			snprintf(path, sizeof path, "%.*s/%s", (int)(slash - file), file, f->text);
		struct sg_pnode *sub = load_file(l, path, f, err);
		if (!sub)
			continue;
		/* merge the included sections; a section lives in one file only */
		size_t cap = root->n;
		for (size_t k = 0; k < sub->n; k++) {
			if (!strcmp(sub->keys[k], "include"))
				continue;
			const struct sg_pnode *have = sg_pnode_get(root, sub->keys[k]);
			if (have) {
				size_t j = 0;
				while (root->items[j] != have)
					j++;
				sg_pdiag(l, SG_DIAG_ERROR, sub->key_nodes[k],
					 "section '%s' is already defined in %s:%u", sub->keys[k],
					 root->key_nodes[j]->file, root->key_nodes[j]->line);
				continue;
			}
			struct reader r = {.l = l};
			if (append(&r, root, &cap, sub->items[k], sub->keys[k], sub->key_nodes[k]) < 0)
				return NULL;
		}
	}
	return root;
}

static struct sg_pnode *load_file(struct sg_loader *l, const char *path,
				  const struct sg_pnode *from, struct sg_error *err)
{
	char real[PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	struct sg_pnode *root = NULL;
	if (!realpath(path, real)) {
		if (from) {
			sg_pdiag(l, SG_DIAG_ERROR, from, "cannot include '%s': file not found", path);
		} else {
			sg_error_set(err, SG_EIO, "unable to open '%s'", path);
		}
		return NULL;
	}
	for (unsigned i = 0; i < l->depth; i++)
		if (!strcmp(l->stack[i], real)) {
			sg_pdiag(l, SG_DIAG_ERROR, from, "include cycle: '%s' includes itself", path);
			return NULL;
		}
	if (l->depth > SG_MAX_INCLUDE_DEPTH) {
		sg_pdiag(l, SG_DIAG_ERROR, from, "includes nested more than %d deep",
			 SG_MAX_INCLUDE_DEPTH);
		return NULL;
	}
	struct sg_error rerr = SG_ERROR_INIT;
	if (sg_read_file(path, &text, &len, &rerr) < 0) {
		if (from)
			sg_pdiag(l, SG_DIAG_ERROR, from, "cannot include '%s': %s", path, rerr.msg);
		else
			sg_error_set(err, SG_EIO, "%s", rerr.msg);
		return NULL;
	}
	if (len > SG_MAX_POLICY_BYTES) {
		struct sg_pnode at = {.file = path, .line = 0};
		sg_pdiag(l, SG_DIAG_ERROR, from ? from : &at, "'%s' is larger than %u bytes", path,
			 SG_MAX_POLICY_BYTES);
		goto cleanup;
	}
	char *keep = sg_arena_strndup(l->a, text, len);
	const char *name = sg_arena_strdup(l->a, path);
	const char *rp = sg_arena_strdup(l->a, real);
	if (!keep || !name || !rp) {
		sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	l->stack[l->depth++] = rp;
	root = load_text(l, name, keep, len, err);
	l->depth--;
cleanup:
	sg_free(text);
	return root;
}

/* ---- expression hooks ----------------------------------------------- */

static const char *const roots[] = {
	"id", "channel", "subject", "body", "text", "priority", "customer", "facts",
	"history", "draft", "scan", "classification", "intent", "tier", "risk_tier",
	"band", "confidence_band", "ticket", "sop", "now", "kill_switch", NULL
};

int sg_loader_known_root(void *ud, const char *root, size_t n)
{
	struct sg_loader *l = ud;
	for (int i = 0; roots[i]; i++)
		if (strlen(roots[i]) == n && !memcmp(roots[i], root, n))
			return 1;
	for (size_t i = 0; i < l->n_lookups; i++)
		if (strlen(l->lookups[i]) == n && !memcmp(l->lookups[i], root, n))
			return 1;
	return 0;
}

uint32_t sg_loader_intern(void *ud, const char *path)
{
	struct sg_loader *l = ud;
	struct sg_policy *p = l->p;
	for (size_t i = 0; i < p->n_paths; i++)
		if (!strcmp(p->paths[i], path))
			return (uint32_t)i;
	if (p->n_paths == p->cap_paths) {
		size_t cap = p->cap_paths ? p->cap_paths * 2 : 32;
		const char **v = sg_realloc(p->paths, cap * sizeof *v);
		if (!v)
			return UINT32_MAX;
		p->paths = v;
		p->cap_paths = cap;
	}
	p->paths[p->n_paths] = path;
	return (uint32_t)p->n_paths++;
}

static void collect_lookups(struct sg_loader *l, const struct sg_pnode *n, unsigned depth)
{
	if (!n || depth > SG_MAX_POLICY_DEPTH)
		return;
	if (n->kind == SG_PN_MAP) {
		const struct sg_pnode *as = sg_pnode_get(n, "as");
		if (as && as->kind == SG_PN_STR && sg_pnode_get(n, "lookup")) {
			if (l->n_lookups == l->cap_lookups) {
				size_t cap = l->cap_lookups ? l->cap_lookups * 2 : 8;
				const char **v = sg_realloc(l->lookups, cap * sizeof *v);
				if (!v)
					return;
				l->lookups = v;
				l->cap_lookups = cap;
			}
			l->lookups[l->n_lookups++] = as->text;
		}
	}
	if (n->kind == SG_PN_MAP || n->kind == SG_PN_LIST)
		for (size_t i = 0; i < n->n; i++)
			collect_lookups(l, n->items[i], depth + 1);
}

/* ---- references ----------------------------------------------------- */

static const struct { const char *kind, *section, *sub, *singular; } ref_kinds[] = {
	{"queue", "queues", NULL, "queue"},
	{"channel", "channels", NULL, "channel"},
	{"owner", "owners", NULL, "owner"},
	{"intent", "intents", NULL, "intent"},
	{"ruleset", "guardrails", "rule_sets", "guardrail rule set"},
	{"model", "models", NULL, "model"},
	{"prompt", "prompts", NULL, "prompt"},
	{"sop", "sops", NULL, "sop"},
	{"connector", "connectors", NULL, "connector"},
};

static void resolve_refs(struct sg_loader *l, const struct sg_pnode *root)
{
	for (size_t i = 0; i < l->n_refs; i++) {
		const struct sg_pref *r = &l->refs[i];
		const char *name = r->n->text;
		for (size_t k = 0; k < sizeof ref_kinds / sizeof ref_kinds[0]; k++) {
			if (strcmp(ref_kinds[k].kind, r->kind))
				continue;
			const struct sg_pnode *sec = sg_pnode_get(root, ref_kinds[k].section);
			if (ref_kinds[k].sub)
				sec = sg_pnode_get(sec, ref_kinds[k].sub);
			if (sg_pnode_get(sec, name))
				break;
			char known[300];
			size_t o = 0;
			known[0] = 0;
			for (size_t j = 0; sec && sec->kind == SG_PN_MAP && j < sec->n && o + 40 < sizeof known; j++)
				o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", j ? ", " : "", sec->keys[j]);
			if (sec && sec->kind == SG_PN_MAP && o + 40 >= sizeof known)
				snprintf(known + o, sizeof known - o, ", ...");
			sg_pdiag(l, SG_DIAG_ERROR, r->n, "unknown %s '%s' (%s%s)", ref_kinds[k].singular, name,
				 o ? "defined: " : "", o ? known : "none defined");
			break;
		}
	}
}

/* The model a prompt names must be approved for the prompt's task, and a
 * task has one prompt: decisions record which template and model ran. */
static void approved_models(struct sg_loader *l, const struct sg_pnode *root)
{
	const struct sg_pnode *prompts = sg_pnode_get(root, "prompts");
	const struct sg_pnode *models = sg_pnode_get(root, "models");
	for (size_t i = 0; prompts && prompts->kind == SG_PN_MAP && i < prompts->n; i++) {
		const struct sg_pnode *pr = prompts->items[i];
		const struct sg_pnode *task = sg_pnode_get(pr, "task"), *model = sg_pnode_get(pr, "model");
		if (!task || !task->text)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct sg_pnode *t2 = sg_pnode_get(prompts->items[j], "task");
			if (t2 && t2->text && !strcmp(t2->text, task->text)) {
				sg_pdiag(l, SG_DIAG_ERROR, task,
					 "'prompts.%s.task': task '%s' already has prompt '%s' (line %u); one prompt per task",
					 prompts->keys[i], task->text, prompts->keys[j], t2->line);
				break;
			}
		}
		const struct sg_pnode *m = model && model->text ? sg_pnode_get(models, model->text) : NULL;
		const struct sg_pnode *tasks = sg_pnode_get(m, "tasks");
		if (!m || !tasks || tasks->kind != SG_PN_LIST)
			continue; /* unknown models are reported by resolve_refs */
		int ok = 0;
		for (size_t k = 0; k < tasks->n && !ok; k++)
			ok = tasks->items[k]->text && !strcmp(tasks->items[k]->text, task->text);
		if (!ok)
			sg_pdiag(l, SG_DIAG_ERROR, model,
				 "'prompts.%s.model': model '%s' is not approved for task '%s' (its tasks, line %u, do not list it)",
				 prompts->keys[i], model->text, task->text, tasks->line);
	}
}

/* Declared names nothing refers to are usually a typo on the other side. */
static void unused_names(struct sg_loader *l, const struct sg_pnode *root)
{
	static const char *const kinds[][2] = {{"queue", "queues"}, {"channel", "channels"},
					       {"owner", "owners"}};
	for (size_t k = 0; k < 3; k++) {
		const struct sg_pnode *sec = sg_pnode_get(root, kinds[k][1]);
		for (size_t i = 0; sec && sec->kind == SG_PN_MAP && i < sec->n; i++) {
			int used = 0;
			for (size_t r = 0; r < l->n_refs && !used; r++)
				used = !strcmp(l->refs[r].kind, kinds[k][0]) &&
				       !strcmp(l->refs[r].n->text, sec->keys[i]);
			if (!used)
				sg_pdiag(l, SG_DIAG_WARNING, sec->key_nodes[i],
					 "%s '%s' is defined but nothing refers to it", kinds[k][0],
					 sec->keys[i]);
		}
	}
}

/* ---- entry points --------------------------------------------------- */

static int finish_load(struct sg_loader *l, struct sg_pnode *root, struct sg_error *err)
{
	struct sg_policy *p = l->p;
	collect_lookups(l, sg_pnode_get(root, "sops"), 0);
	sg_schema_validate(l, root, "", "", 0);
	resolve_refs(l, root);
	approved_models(l, root);
	unused_names(l, root);
	p->root = root;
	if (l->d->errors)
		return -SG_EPOLICY;
	if (sg_policy_build_tables(p) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	struct sg_buf b = SG_BUF_INIT;
	sg_policy_canonical(&b, root);
	if (b.oom) {
		sg_buf_release(&b);
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	sg_sha256_hex(b.data, b.len, p->version);
	sg_buf_release(&b);
	return 0;
}

static int load(struct sg_policy **out, const char *path, const char *name, const char *text,
		size_t len, struct sg_diags *diags, struct sg_error *err)
{
	*out = NULL;
	struct sg_policy *p = sg_calloc(1, sizeof *p);
	if (!p)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	sg_arena_init(&p->arena, 0);
	struct sg_loader l = {.p = p, .a = &p->arena, .d = diags};
	size_t errors_before = diags->errors;
	int rc;
	struct sg_pnode *root;
	p->file = sg_arena_strdup(&p->arena, path ? path : name);
	if (!p->file) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (path) {
		root = load_file(&l, path, NULL, err);
	} else {
		char *keep = sg_arena_strndup(&p->arena, text, len);
		root = keep ? load_text(&l, p->file, keep, len, err) : NULL;
		if (!keep)
			sg_error_set(err, SG_ENOMEM, "out of memory");
	}
	if (!root) {
		rc = err && err->code ? -err->code : -SG_EPOLICY;
		goto cleanup;
	}
	rc = finish_load(&l, root, err);
cleanup:
	if (rc == 0 && diags->errors > errors_before)
		rc = -SG_EPOLICY;
	if (rc == -SG_EPOLICY && diags->errors == errors_before)
		sg_diags_add(diags, SG_DIAG_ERROR, p->file, NULL, 0, 0, "policy could not be read");
	sg_free(l.refs);
	sg_free(l.lookups);
	if (rc < 0) {
		sg_policy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int sg_policy_load(struct sg_policy **out, const char *path, struct sg_diags *diags,
		   struct sg_error *err)
{
	return load(out, path, NULL, NULL, 0, diags, err);
}

int sg_policy_load_mem(struct sg_policy **out, const char *name, const char *text,
		       size_t len, struct sg_diags *diags, struct sg_error *err)
{
	return load(out, NULL, name, text, len, diags, err);
}

void sg_policy_free(struct sg_policy *p)
{
	if (!p)
		return;
	sg_free(p->paths);
	sg_arena_release(&p->arena);
	sg_free(p);
}

/* ---- accessors ------------------------------------------------------ */

const struct sg_pnode *sg_pnode_get(const struct sg_pnode *n, const char *key)
{
	if (!n || n->kind != SG_PN_MAP)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (!strcmp(n->keys[i], key))
			return n->items[i];
	return NULL;
}

const char *sg_pnode_str(const struct sg_pnode *n, const char *key, const char *def)
{
	const struct sg_pnode *v = sg_pnode_get(n, key);
	return v && v->text && (v->kind == SG_PN_STR || v->kind == SG_PN_NUM) ? v->text : def;
}

double sg_pnode_num(const struct sg_pnode *n, const char *key, double def)
{
	const struct sg_pnode *v = sg_pnode_get(n, key);
	return v && v->kind == SG_PN_NUM ? v->num : def;
}

int sg_pnode_bool(const struct sg_pnode *n, const char *key, int def)
{
	const struct sg_pnode *v = sg_pnode_get(n, key);
	return v && v->kind == SG_PN_BOOL ? v->b : def;
}

const struct sg_policy_intent *sg_policy_intent(const struct sg_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_intents; i++)
		if (!strcmp(p->intents[i].name, name))
			return &p->intents[i];
	return NULL;
}

const struct sg_pnode *sg_policy_section(const struct sg_policy *p, const char *name)
{
	return sg_pnode_get(p->root, name);
}

const char *sg_policy_path_name(const struct sg_policy *p, uint32_t id)
{
	return id < p->n_paths ? p->paths[id] : NULL;
}
