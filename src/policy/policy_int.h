/*
 * policy_int.h - shared by the policy module's own files only: the loader
 * state that the schema validator and the reference resolver work on.
 */
#ifndef SG_POLICY_POLICY_INT_H
#define SG_POLICY_POLICY_INT_H

#include "core/limits.h"
#include "policy/policy.h"

struct sg_pref {
	const char *kind;          /* queue, channel, owner, intent, ruleset, model, prompt, sop */
	const struct sg_pnode *n;  /* the string naming the target */
};

struct sg_loader {
	struct sg_policy *p;
	struct sg_arena *a;
	struct sg_diags *d;
	unsigned nodes;
	const char *stack[SG_MAX_INCLUDE_DEPTH + 2]; /* real paths being read */
	unsigned depth;
	struct sg_pref *refs;
	size_t n_refs, cap_refs;
	const char **lookups; /* names bound by SOP lookups (`as:`) */
	size_t n_lookups, cap_lookups;
};

/* Reports at a node's location. */
void sg_pdiag(struct sg_loader *l, enum sg_diag_severity sev, const struct sg_pnode *n,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Validates n against schema id `in` ("" is the top level); converts
 * money/durations/ratios in place, compiles expressions, records refs. */
void sg_schema_validate(struct sg_loader *l, struct sg_pnode *n, const char *in,
			const char *where, unsigned depth);

/* Expression hooks (load.c). */
int sg_loader_known_root(void *ud, const char *root, size_t n);
uint32_t sg_loader_intern(void *ud, const char *path);

/* Builds p's typed tables from its checked tree (tables.c). */
int sg_policy_build_tables(struct sg_policy *p);

#endif
