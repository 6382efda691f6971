/*
 * engine.c - building the decision engine from a loaded policy: the
 * guardrail rule sets become scanner actions, custom patterns become
 * scanner rules, approved sources become the link allowlist.
 */
#include "decide/engine.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "decide/engine_int.h"
#include "kb/kb.h"
#include "core/banned.h"

/* The policy's rule sets and the scanner types each one covers. */
static const struct {
	const char *set;
	enum sg_scan_type types[10];
	int n;
} rule_sets[] = {
	{"pii", {SG_T_EMAIL, SG_T_PHONE, SG_T_CREDIT_CARD, SG_T_SSN, SG_T_IBAN,
		 SG_T_IP_ADDRESS, SG_T_DATE_OF_BIRTH, SG_T_ADDRESS, SG_T_PERSON,
		 SG_T_SECRET}, 10},
	{"injection", {SG_T_PROMPT_INJECTION}, 1},
	{"threats", {SG_T_LEGAL_THREAT, SG_T_CHARGEBACK_THREAT}, 2},
	{"security", {SG_T_SECURITY_INCIDENT}, 1},
	{"self_harm", {SG_T_SELF_HARM}, 1},
	{"human_request", {SG_T_HUMAN_REQUEST}, 1},
	{"press", {SG_T_PRESS}, 1},
	{"regulatory", {SG_T_REGULATORY}, 1},
	{"refunds", {SG_T_REFUND_COMMITMENT}, 1},
	{"pricing", {SG_T_PRICING_COMMITMENT}, 1},
	{"legal", {SG_T_LEGAL_POSITION}, 1},
	{"security_statement", {SG_T_SECURITY_STATEMENT}, 1},
	{"outage", {SG_T_OUTAGE_APOLOGY}, 1},
	{"links", {SG_T_UNAPPROVED_LINK}, 1},
	{"pii_echo", {SG_T_PII_ECHO}, 1},
	{"tone", {SG_T_TONE}, 1},
};

/* Policy actions: `allow` lets the text through but still reports the hit
 * (a threat that is allowed still routes the ticket); a rule set that is
 * not enabled is not reported at all. */
static enum sg_scan_action policy_action(const char *a)
{
	if (!a)
		return SG_SCAN_DEFAULT;
	if (!strcmp(a, "mask"))
		return SG_SCAN_MASK;
	if (!strcmp(a, "block"))
		return SG_SCAN_BLOCK;
	return SG_SCAN_FLAG; /* allow, flag */
}

static int build_scanner(struct sg_engine *e, const char *data_dir, struct sg_error *err)
{
	const struct sg_pnode *g = sg_policy_section(e->policy, "guardrails");
	const struct sg_pnode *sets = sg_pnode_get(g, "rule_sets");
	const struct sg_pnode *custom = sg_pnode_get(g, "custom");
	struct sg_scan_options o = SG_SCAN_OPTIONS_INIT;
	struct sg_scan_rule *rules = NULL;
	char cache[PATH_MAX];
	int rc = 0;

	for (size_t i = 0; i < sizeof(rule_sets) / sizeof(rule_sets[0]); i++) {
		const struct sg_pnode *s = sg_pnode_get(sets, rule_sets[i].set);
		for (int k = 0; k < rule_sets[i].n; k++) {
			enum sg_scan_type t = rule_sets[i].types[k];
			e->set_of_type[t] = rule_sets[i].set;
			if (!s)
				continue; /* not named: the built-in default */
			o.actions[t] = sg_pnode_bool(s, "enabled", 1)
					       ? policy_action(sg_pnode_str(s, "action", NULL))
					       : SG_SCAN_ALLOW;
		}
	}
	if (custom && custom->kind == SG_PN_LIST && custom->n) {
		rules = sg_calloc(custom->n, sizeof(*rules));
		if (!rules)
			return sg_error_set(err, SG_ENOMEM, "out of memory");
		for (size_t i = 0; i < custom->n; i++) {
			const struct sg_pnode *c = custom->items[i];
			const char *applies = sg_pnode_str(c, "applies_to", "both");
			rules[i].id = sg_pnode_str(c, "name", "custom");
			rules[i].type = sg_pnode_str(c, "type", "CUSTOM");
			rules[i].pattern = sg_pnode_str(c, "pattern", "");
			rules[i].action = policy_action(sg_pnode_str(c, "action", NULL));
			rules[i].flags = SG_SCAN_RULE_CASELESS |
					 (!strcmp(applies, "input")    ? SG_SCAN_RULE_INPUT
					  : !strcmp(applies, "output") ? SG_SCAN_RULE_OUTPUT
								       : 0);
		}
		o.rules = rules;
		o.nrules = custom->n;
	}
	snprintf(cache, sizeof(cache), "%s/scan-policy.hsdb", data_dir);
	o.cache_path = cache;
	o.injection_model = e->injection;
	rc = sg_scanner_new(&e->scanner, &o, err);
	sg_free(rules);
	return rc;
}

static int build_allowlist(struct sg_engine *e, struct sg_error *err)
{
	const struct sg_pnode *g = sg_policy_section(e->policy, "guardrails");
	const struct sg_pnode *src = sg_pnode_get(g, "approved_sources");
	if (!src || src->kind != SG_PN_LIST || !src->n)
		return 0;
	e->allow_urls = sg_calloc(src->n, sizeof(char *));
	if (!e->allow_urls)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	for (size_t i = 0; i < src->n; i++)
		if (src->items[i]->text && strncmp(src->items[i]->text, "kb:", 3))
			e->allow_urls[e->nallow++] = src->items[i]->text;
	return 0;
}

int sg_engine_new(struct sg_engine **out, const struct sg_policy *policy,
		  const struct sg_engine_options *opts, struct sg_error *err)
{
	struct sg_engine_options defaults = SG_ENGINE_OPTIONS_INIT;
	struct sg_engine *e = NULL;
	char path[PATH_MAX];
	int rc;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != SG_ENGINE_OPTIONS_VERSION)
		return sg_error_set(err, SG_EINVALID, "engine options: version %u, expected %u",
				    opts->version, SG_ENGINE_OPTIONS_VERSION);
	e = sg_calloc(1, sizeof(*e));
	if (!e)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	e->policy = policy;
	pthread_mutex_init(&e->budget_lock, NULL);
	pthread_mutex_init(&e->records_lock, NULL);
	pthread_mutex_init(&e->qa_lock, NULL);
	const char *data_dir = opts->data_dir ? opts->data_dir : sg_cli_data_dir();

	if (opts->records_dir) {
		snprintf(e->records_dir, sizeof(e->records_dir), "%s", opts->records_dir);
	} else {
		const char *slash = strrchr(policy->file, '/');
		if (slash)
			snprintf(e->records_dir, sizeof(e->records_dir), "%.*s/records",
				 (int)(slash - policy->file), policy->file);
		else
			snprintf(e->records_dir, sizeof(e->records_dir), "records");
	}
	if (opts->kb_db)
		snprintf(e->kb_db, sizeof(e->kb_db), "%s", opts->kb_db);
	e->triage_queue = sg_pnode_str(sg_policy_section(policy, "classifier"),
				       "triage_queue", "triage");
	/* the injection model is optional: a build without it scans with
	 * patterns only */
	snprintf(path, sizeof(path), "%s/injection.model", data_dir);
	if (!opts->no_classifier && access(path, R_OK) == 0 &&
	    (rc = sg_classifier_load(&e->injection, path, err)) < 0)
		goto fail;
	if ((rc = build_scanner(e, data_dir, err)) < 0 || (rc = build_allowlist(e, err)) < 0)
		goto fail;
	e->log = opts->log;
	e->log_ctx = opts->log_ctx;
	if ((rc = sg_decide_models_init(e, err)) < 0)
		goto fail;
	if (!opts->no_classifier) {
		if (opts->intent_model)
			snprintf(path, sizeof(path), "%s", opts->intent_model);
		else
			snprintf(path, sizeof(path), "%s/intent.model", data_dir);
		if ((rc = sg_classifier_load(&e->intent, path, err)) < 0)
			goto fail;
	}
	/* The guardrail configuration's own version: what the scanner enforced. */
	{
		struct sg_buf b = SG_BUF_INIT;
		sg_policy_canonical(&b, sg_policy_section(policy, "guardrails")
						? sg_policy_section(policy, "guardrails")
						: policy->root);
		sg_sha256_hex(b.data, b.len, e->scan_version);
		sg_buf_release(&b);
	}
	*out = e;
	return 0;
fail:
	sg_engine_free(e);
	return rc;
}

void sg_engine_free(struct sg_engine *e)
{
	if (!e)
		return;
	sg_scanner_free(e->scanner);
	sg_classifier_free(e->intent);
	sg_classifier_free(e->injection);
	sg_free(e->allow_urls);
	sg_decide_models_release(e);
	pthread_mutex_destroy(&e->budget_lock);
	for (size_t i = 0; i < e->nrecords; i++) {
		sg_free(e->records[i].path);
		json_decref(e->records[i].record);
	}
	pthread_mutex_destroy(&e->records_lock);
	for (size_t i = 0; i < e->nqa_paused; i++)
		sg_free(e->qa_paused[i]);
	sg_free(e->qa_paused);
	pthread_mutex_destroy(&e->qa_lock);
	sg_free(e);
}

const struct sg_policy *sg_engine_policy(const struct sg_engine *e)
{
	return e->policy;
}

int sg_decide_run_new(struct sg_decide_run **out, struct sg_engine *e,
		      struct sg_error *err)
{
	int rc;
	struct sg_decide_run *r = sg_calloc(1, sizeof(*r));
	*out = NULL;
	if (!r)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	r->e = e;
	sg_arena_init(&r->arena, 65536);
	if ((rc = sg_scan_ctx_new(&r->scan, e->scanner, err)) < 0 ||
	    (rc = sg_classify_scratch_new(&r->cls, err)) < 0 ||
	    (e->kb_db[0] && (rc = sg_kb_open(&r->kb, e->kb_db, err)) < 0)) {
		sg_decide_run_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static void clear_bindings(struct sg_decide_run *r)
{
	for (size_t i = 0; i < r->nbind; i++)
		json_decref(r->bind[i].record);
	r->nbind = 0;
	if (r->actions)
		json_decref(r->actions);
	r->actions = NULL;
}

void sg_decide_run_free(struct sg_decide_run *r)
{
	if (!r)
		return;
	clear_bindings(r);
	sg_scan_ctx_free(r->scan);
	sg_classify_scratch_free(r->cls);
	sg_kb_close(r->kb);
	sg_arena_release(&r->arena);
	sg_free(r);
}

void sg_decide__reset(struct sg_decide_run *r)
{
	clear_bindings(r);
	sg_arena_reset(&r->arena);
}

json_t *sg_decide_actions(const struct sg_decide_run *r)
{
	return r->actions ? json_deep_copy(r->actions) : json_array();
}

int sg_engine_qa_pause(struct sg_engine *e, const char *const *categories, size_t n,
		       struct sg_error *err)
{
	char **list = n ? sg_calloc(n, sizeof(*list)) : NULL;
	if (n && !list)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!(list[i] = sg_strdup(categories[i]))) {
			while (i--)
				sg_free(list[i]);
			sg_free(list);
			return sg_error_set(err, SG_ENOMEM, "out of memory");
		}
	pthread_mutex_lock(&e->qa_lock);
	char **old = e->qa_paused;
	size_t nold = e->nqa_paused;
	e->qa_paused = list;
	e->nqa_paused = n;
	pthread_mutex_unlock(&e->qa_lock);
	for (size_t i = 0; i < nold; i++)
		sg_free(old[i]);
	sg_free(old);
	return 0;
}

int sg_engine_qa_paused(struct sg_engine *e, const char *category)
{
	int hit = 0;
	pthread_mutex_lock(&e->qa_lock);
	for (size_t i = 0; category && i < e->nqa_paused && !hit; i++)
		hit = !strcmp(e->qa_paused[i], category);
	pthread_mutex_unlock(&e->qa_lock);
	return hit;
}
