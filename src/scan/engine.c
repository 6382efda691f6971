/*
 * engine.c - builds the one vectorscan database from every rule set (with
 * its cache file) and creates per-thread scanning contexts. The scan itself
 * is in run.c, masking in mask.c.
 */
#include "scan/scan_int.h"
#include "classify/classify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/limits.h"
#include "core/banned.h"

/* The cache file: this magic, the 64-hex-digit key, '\n', then for each
 * database (input mode's groups in enum sg_scan_gate order, then output
 * mode's) its byte count (16 hex digits, '\n') and its serialized bytes
 * (0 bytes: no rule in that mode and group). */
#define CACHE_MAGIC "sopgate-scan-db 3 "
#define NDB (2 * SG_GATE__COUNT)

static int add_type(struct sg_scanner *s, const char *name)
{
	for (size_t i = 0; i < s->ntypes; i++)
		if (strcmp(s->type_names[i], name) == 0)
			return (int)i;
	char *copy = sg_strdup(name);
	if (!copy)
		return -1;
	s->type_names[s->ntypes] = copy;
	return (int)s->ntypes++;
}

static int type_name_ok(const char *t)
{
	if (!(t[0] >= 'A' && t[0] <= 'Z') || strlen(t) > 64)
		return 0;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static int load_cache(struct sg_scanner *s, const char *path, const char *key)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	char head[128];
	int rc = -1;
	char *data = NULL;
	hs_database_t *db[NDB] = {NULL};
	size_t hl = strlen(CACHE_MAGIC) + 64 + 1;
	if (fread(head, 1, hl, fp) != hl || memcmp(head, CACHE_MAGIC, strlen(CACHE_MAGIC)) ||
	    memcmp(head + strlen(CACHE_MAGIC), key, 64) || head[hl - 1] != '\n')
		goto cleanup;
	for (int m = 0; m < NDB; m++) {
		char lenb[17];
		if (fread(lenb, 1, 17, fp) != 17 || lenb[16] != '\n')
			goto cleanup;
		lenb[16] = 0;
		char *end;
		unsigned long long n = strtoull(lenb, &end, 16);
		if (*end || n > (64ULL << 20))
			goto cleanup;
		if (!n)
			continue;
		data = sg_malloc((size_t)n);
		if (!data || fread(data, 1, (size_t)n, fp) != n ||
		    hs_deserialize_database(data, (size_t)n, &db[m]) != HS_SUCCESS)
			goto cleanup;
		sg_free(data);
		data = NULL;
	}
	for (int m = 0; m < NDB; m++) {
		s->db[m / SG_GATE__COUNT][m % SG_GATE__COUNT] = db[m];
		db[m] = NULL;
	}
	rc = 0;
cleanup:
	for (int m = 0; m < NDB; m++)
		if (db[m])
			hs_free_database(db[m]);
	sg_free(data);
	fclose(fp);
	return rc;
}

static void save_cache(const struct sg_scanner *s, const char *path, const char *key)
{
	char *bytes[NDB] = {NULL};
	size_t n[NDB] = {0};
	for (int m = 0; m < NDB; m++) {
		hs_database_t *db = s->db[m / SG_GATE__COUNT][m % SG_GATE__COUNT];
		if (db && hs_serialize_database(db, &bytes[m], &n[m]) != HS_SUCCESS)
			goto cleanup;
	}
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp))
		goto cleanup;
	FILE *fp = fopen(tmp, "wb");
	if (fp) {
		int ok = fputs(CACHE_MAGIC, fp) >= 0 && fwrite(key, 1, 64, fp) == 64 &&
			 fputc('\n', fp) != EOF;
		for (int m = 0; m < NDB && ok; m++)
			ok = fprintf(fp, "%016llx\n", (unsigned long long)n[m]) == 17 &&
			     (n[m] == 0 || fwrite(bytes[m], 1, n[m], fp) == n[m]);
		ok &= fclose(fp) == 0;
		if (!ok || rename(tmp, path) != 0)
			unlink(tmp);
	}
cleanup:
	for (int m = 0; m < NDB; m++)
		free(bytes[m]); /* allocated by vectorscan's malloc */
}

/* Tracking the start of a match is what costs most in vectorscan: only
 * the number-like PII rules keep it (their validators need the digits at
 * every reported end); e-mail and given names walk back, cue rules only
 * need their end, and everything else (rare hits) asks PCRE2. */
static enum sg_scan_start start_kind(const struct sg_scan_ruledef *d)
{
	if (!d->pattern)
		return SG_START_PASS;
	if (d->type > SG_T_SECRET)
		return SG_START_RE;
	switch (d->check) {
	case CK_EMAIL: return SG_START_EMAIL;
	case CK_PERSON_NAME: return SG_START_WORD;
	case CK_PERSON_CUE: case CK_ADDRESS_CUE: case CK_SECRET_VALUE: return SG_START_CUE;
	case CK_ADDRESS: case CK_NONE: case CK_PRIVATE_KEY: return SG_START_RE;
	default: return SG_START_SOM;
	}
}

static void add_builtin(struct sg_scanner *s, const struct sg_scan_ruledef *defs,
			size_t n, const char **exprs, unsigned *flags)
{
	for (size_t i = 0; i < n; i++) {
		struct sg_scan_crule *r = &s->rules[s->nrules];
		r->id = (char *)defs[i].id;
		r->type = defs[i].type;
		r->check = defs[i].check;
		r->modes = defs[i].modes;
		r->action = SG_SCAN_DEFAULT;
		exprs[s->nrules] = defs[i].pattern;
		r->start = start_kind(&defs[i]);
		r->gate = defs[i].gate;
		flags[s->nrules] = (r->start == SG_START_SOM ? HS_FLAG_SOM_LEFTMOST : 0) |
				   (defs[i].caseless ? HS_FLAG_CASELESS : 0);
		s->nrules++;
	}
}

int sg_scanner_new(struct sg_scanner **out, const struct sg_scan_options *opts,
		   struct sg_error *err)
{
	struct sg_scan_options defaults = SG_SCAN_OPTIONS_INIT;
	struct sg_scanner *s = NULL;
	const char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL;
	char **owned = NULL;
	int rc = 0;

	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != SG_SCAN_OPTIONS_VERSION)
		return sg_error_set(err, SG_EINVALID,
				    "scan options: version %u, expected %u",
				    opts->version, SG_SCAN_OPTIONS_VERSION);
	if (opts->nrules > SG_MAX_PATTERNS || (opts->nrules && !opts->rules))
		return sg_error_set(err, SG_ELIMIT, "scan options: %zu custom rules (at most %u)",
				    opts->nrules, (unsigned)SG_MAX_PATTERNS);
	size_t cap = sg_scan_rules_pii_count + sg_scan_rules_risk_count +
		     sg_scan_rules_output_count + opts->nrules;
	s = sg_calloc(1, sizeof(*s));
	if (s && opts->version >= SG_SCAN_OPTIONS_VERSION && opts->injection_model) {
		s->inj = opts->injection_model;
		s->inj_label = sg_classifier_label_index(s->inj, "injection");
		s->inj_threshold = opts->injection_threshold > 0 ? opts->injection_threshold : 0.8;
		if (s->inj_label < 0) {
			sg_free(s);
			return sg_error_set(err, SG_EMODEL, "injection model: it has no label 'injection'");
		}
	}
	if (!s)
		goto nomem;
	s->rules = sg_calloc(cap, sizeof(*s->rules));
	s->type_names = sg_calloc(SG_T__COUNT + opts->nrules, sizeof(char *));
	s->actions = sg_calloc(SG_T__COUNT + opts->nrules, sizeof(*s->actions));
	exprs = sg_calloc(cap, sizeof(*exprs));
	flags = sg_calloc(cap, sizeof(*flags));
	ids = sg_calloc(cap, sizeof(*ids));
	owned = sg_calloc(opts->nrules + 1, sizeof(*owned));
	if (!s->rules || !s->type_names || !s->actions || !exprs || !flags || !ids || !owned)
		goto nomem;
	size_t nt;
	const char *const *names = sg_scan_type_names(&nt);
	for (size_t i = 0; i < nt; i++)
		s->type_names[i] = names[i];
	s->ntypes = nt;

	if (opts->sets & SG_SCAN_SET_PII)
		add_builtin(s, sg_scan_rules_pii, sg_scan_rules_pii_count, exprs, flags);
	if (opts->sets & SG_SCAN_SET_INPUT_RISK)
		add_builtin(s, sg_scan_rules_risk, sg_scan_rules_risk_count, exprs, flags);
	if (opts->sets & SG_SCAN_SET_OUTPUT_RISK)
		add_builtin(s, sg_scan_rules_output, sg_scan_rules_output_count, exprs, flags);

	for (size_t i = 0; i < opts->nrules; i++) {
		const struct sg_scan_rule *cr = &opts->rules[i];
		if (!cr->id || !*cr->id || !cr->type || !cr->pattern || !*cr->pattern) {
			rc = sg_error_set(err, SG_EPOLICY,
					  "custom scan rule %zu: id, type and pattern are required", i + 1);
			goto cleanup;
		}
		if (!type_name_ok(cr->type)) {
			rc = sg_error_set(err, SG_EPOLICY,
					  "custom scan rule '%s': type '%s' must be upper case [A-Z][A-Z0-9_]*",
					  cr->id, cr->type);
			goto cleanup;
		}
		if ((unsigned)cr->action > SG_SCAN_BLOCK) {
			rc = sg_error_set(err, SG_EPOLICY, "custom scan rule '%s': unknown action", cr->id);
			goto cleanup;
		}
		struct sg_scan_crule *r = &s->rules[s->nrules];
		r->id = sg_strdup(cr->id);
		if (!r->id)
			goto nomem;
		int t = add_type(s, cr->type);
		if (t < 0)
			goto nomem;
		r->type = t;
		r->check = CK_NONE;
		r->modes = (unsigned char)((cr->flags & SG_SCAN_RULE_INPUT ? SG_SCAN_INPUT : 0) |
					   (cr->flags & SG_SCAN_RULE_OUTPUT ? SG_SCAN_OUTPUT : 0));
		if (!r->modes)
			r->modes = SG_SCAN_INPUT | SG_SCAN_OUTPUT;
		r->action = cr->action;
		if (cr->flags & SG_SCAN_RULE_WORD) {
			size_t pl = strlen(cr->pattern);
			owned[i] = sg_malloc(pl + 12);
			if (!owned[i])
				goto nomem;
			memcpy(owned[i], "\\b(?:", 5);
			memcpy(owned[i] + 5, cr->pattern, pl);
			memcpy(owned[i] + 5 + pl, ")\\b", 4);
			exprs[s->nrules] = owned[i];
		} else {
			exprs[s->nrules] = cr->pattern;
		}
		r->start = SG_START_SOM;
		r->gate = SG_GATE_ANY;
		flags[s->nrules] = HS_FLAG_SOM_LEFTMOST |
				   (cr->flags & SG_SCAN_RULE_CASELESS ? HS_FLAG_CASELESS : 0) |
				   (cr->flags & SG_SCAN_RULE_DOTALL ? HS_FLAG_DOTALL : 0);
		s->nrules++;
	}
	for (size_t t = 0; t < s->ntypes; t++) {
		enum sg_scan_action a = t < SG_T__COUNT ? opts->actions[t] : SG_SCAN_DEFAULT;
		if ((unsigned)a > SG_SCAN_BLOCK)
			a = SG_SCAN_DEFAULT;
		if (a == SG_SCAN_DEFAULT)
			a = t < SG_T__COUNT ? sg_scan_default_action((enum sg_scan_type)t) : SG_SCAN_FLAG;
		s->actions[t] = a;
	}
	for (size_t i = 0; i < s->nrules; i++) {
		ids[i] = (unsigned)i;
		if (s->rules[i].action == SG_SCAN_DEFAULT)
			s->rules[i].action = s->actions[s->rules[i].type];
	}
	for (size_t i = 0; i < s->nrules; i++) {
		struct sg_scan_crule *r = &s->rules[i];
		if (r->start != SG_START_RE)
			continue;
		int ec;
		PCRE2_SIZE eo;
		r->re = pcre2_compile((PCRE2_SPTR)exprs[i], PCRE2_ZERO_TERMINATED,
				      PCRE2_ENDANCHORED | (flags[i] & HS_FLAG_CASELESS ? PCRE2_CASELESS : 0),
				      &ec, &eo, NULL);
		if (!r->re) {
			rc = sg_error_set(err, SG_EPOLICY, "scan rule '%s': pcre2 error %d at %zu",
					  r->id, ec, (size_t)eo);
			goto cleanup;
		}
		pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
	}
	if (sg_scan_person_init(s))
		goto nomem;
	/* One database per mode and gate group: the rules of input mode and
	 * those of output mode (a rule of both modes is in both), so a scan
	 * runs no rule its mode would drop, and within a mode one per group
	 * (enum sg_scan_gate), so a text runs only the groups it can match;
	 * the word pass needs no pattern. */
	const char **hx[NDB] = {NULL};
	unsigned *hf[NDB] = {NULL}, *hi[NDB] = {NULL};
	size_t nhs[NDB] = {0}, nall = 0;
	for (int m = 0; m < NDB; m++) {
		hx[m] = sg_calloc(cap + 1, sizeof(*hx[m]));
		hf[m] = sg_calloc(cap + 1, sizeof(*hf[m]));
		hi[m] = sg_calloc(cap + 1, sizeof(*hi[m]));
		if (!hx[m] || !hf[m] || !hi[m])
			goto nomem_hs;
		unsigned mode = m / SG_GATE__COUNT ? SG_SCAN_OUTPUT : SG_SCAN_INPUT;
		for (size_t i = 0; i < s->nrules; i++)
			if (s->rules[i].start != SG_START_PASS && (s->rules[i].modes & mode) &&
			    s->rules[i].gate == m % SG_GATE__COUNT) {
				hx[m][nhs[m]] = exprs[i];
				hf[m][nhs[m]] = flags[i];
				hi[m][nhs[m]++] = (unsigned)i;
			}
		nall += nhs[m];
	}
	if (!nall)
		goto done_hs;

	/* the cache key: the engine version and every rule's id, type, flags,
	 * modes and pattern */
	char key[SG_SHA256_HEX];
	{
		struct sg_buf kb = SG_BUF_INIT;
		sg_buf_adds(&kb, hs_version());
		sg_buf_adds(&kb, "\ninput+output databases per gate group");
		for (size_t i = 0; i < s->nrules; i++)
			if (s->rules[i].start != SG_START_PASS)
				sg_buf_addf(&kb, "\n%s\t%s\t%u\t%u\t%u\t%s", s->rules[i].id,
					    s->type_names[s->rules[i].type], flags[i],
					    s->rules[i].modes, s->rules[i].gate, exprs[i]);
		if (kb.oom) {
			sg_buf_release(&kb);
			goto nomem_hs;
		}
		sg_sha256_hex(kb.data, kb.len, key);
		sg_buf_release(&kb);
	}
	if (opts->cache_path && load_cache(s, opts->cache_path, key) == 0) {
		s->from_cache = 1;
		goto done_hs;
	}
	for (int m = 0; m < NDB; m++) {
		if (!nhs[m])
			continue;
		hs_compile_error_t *cerr = NULL;
		hs_database_t **db = &s->db[m / SG_GATE__COUNT][m % SG_GATE__COUNT];
		if (hs_compile_multi(hx[m], hf[m], hi[m], (unsigned)nhs[m], HS_MODE_BLOCK,
				     NULL, db, &cerr) != HS_SUCCESS) {
			if (cerr && cerr->expression >= 0 && (size_t)cerr->expression < nhs[m])
				rc = sg_error_set(err, SG_EPOLICY, "scan rule '%s': %s",
						  s->rules[hi[m][cerr->expression]].id, cerr->message);
			else
				rc = sg_error_set(err, SG_EPOLICY, "scan rules: %s",
						  cerr ? cerr->message : "compile failed");
			hs_free_compile_error(cerr);
			*db = NULL;
			goto fail_hs;
		}
	}
	if (opts->cache_path)
		save_cache(s, opts->cache_path, key);
done_hs:
	for (int m = 0; m < NDB; m++) {
		sg_free(hx[m]);
		sg_free(hf[m]);
		sg_free(hi[m]);
	}
	*out = s;
	s = NULL;
cleanup:
	if (owned)
		for (size_t i = 0; i < opts->nrules; i++)
			sg_free(owned[i]);
	sg_free(owned);
	sg_free(exprs);
	sg_free(flags);
	sg_free(ids);
	sg_scanner_free(s);
	return rc;
nomem:
	rc = sg_error_set(err, SG_ENOMEM, "out of memory building the scanner");
	goto cleanup;
nomem_hs:
	rc = sg_error_set(err, SG_ENOMEM, "out of memory building the scanner");
fail_hs:
	for (int m = 0; m < NDB; m++) {
		sg_free(hx[m]);
		sg_free(hf[m]);
		sg_free(hi[m]);
	}
	goto cleanup;
}

void sg_scanner_free(struct sg_scanner *s)
{
	if (!s)
		return;
	for (int m = 0; m < 2; m++)
		for (int g = 0; g < SG_GATE__COUNT; g++)
			if (s->db[m][g])
				hs_free_database(s->db[m][g]);
	if (s->rules)
		for (size_t i = 0; i < s->nrules; i++) {
			pcre2_code_free(s->rules[i].re);
			/* custom rule ids are heap copies; built-in ones point
			 * into the rule tables */
			int custom = 1;
			const struct sg_scan_ruledef *tabs[3] = {sg_scan_rules_pii,
				sg_scan_rules_risk, sg_scan_rules_output};
			size_t counts[3] = {sg_scan_rules_pii_count,
				sg_scan_rules_risk_count, sg_scan_rules_output_count};
			for (int k = 0; k < 3 && custom; k++)
				for (size_t j = 0; j < counts[k]; j++)
					if (s->rules[i].id == tabs[k][j].id) {
						custom = 0;
						break;
					}
			if (custom)
				sg_free(s->rules[i].id);
		}
	if (s->type_names)
		for (size_t i = SG_T__COUNT; i < s->ntypes; i++)
			sg_free((char *)s->type_names[i]);
	sg_free(s->type_names);
	sg_free(s->actions);
	sg_free(s->rules);
	sg_free(s->words);
	sg_free(s->whash);
	sg_free(s);
}

int sg_scanner_from_cache(const struct sg_scanner *s)
{
	return s->from_cache;
}

int sg_scan_ctx_new(struct sg_scan_ctx **out, const struct sg_scanner *s,
		    struct sg_error *err)
{
	*out = NULL;
	struct sg_scan_ctx *c = sg_calloc(1, sizeof(*c));
	if (!c)
		return sg_error_set(err, SG_ENOMEM, "out of memory creating a scan context");
	c->s = s;
	sg_text_norm_init(&c->norm);
	sg_buf_init(&c->masked);
	sg_buf_init(&c->canon);
	sg_buf_init(&c->canon2);
	sg_buf_init(&c->keys);
	c->last = sg_calloc(s->nrules + 1, sizeof(uint32_t));
	c->laststamp = sg_calloc(s->nrules + 1, sizeof(uint32_t));
	c->types = sg_calloc(s->ntypes + 1, sizeof(char *));
	if (!c->last || !c->laststamp || !c->types)
		goto nomem;
	for (int m = 0; m < 2; m++)
		for (int g = 0; g < SG_GATE__COUNT; g++)
			if (s->db[m][g] && hs_alloc_scratch(s->db[m][g], &c->scratch) != HS_SUCCESS)
				goto nomem;
	c->md = pcre2_match_data_create(1, NULL);
	if (!c->md)
		goto nomem;
	if (s->inj && sg_classify_scratch_new(&c->cls, err) < 0) {
		sg_scan_ctx_free(c);
		return -SG_ENOMEM;
	}
	*out = c;
	return 0;
nomem:
	sg_scan_ctx_free(c);
	return sg_error_set(err, SG_ENOMEM, "out of memory creating a scan context");
}

void sg_scan_ctx_free(struct sg_scan_ctx *c)
{
	if (!c)
		return;
	if (c->scratch)
		hs_free_scratch(c->scratch);
	pcre2_match_data_free(c->md);
	sg_classify_scratch_free(c->cls);
	sg_text_norm_release(&c->norm);
	sg_free(c->fold);
	sg_free(c->fmap);
	sg_free(c->cands);
	sg_free(c->last);
	sg_free(c->laststamp);
	sg_free(c->findings);
	sg_free(c->hits);
	sg_free(c->wbits);
	sg_buf_release(&c->keys);
	sg_free(c->types);
	sg_buf_release(&c->masked);
	sg_buf_release(&c->canon);
	sg_buf_release(&c->canon2);
	sg_free(c);
}
