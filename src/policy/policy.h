/*
 * policy.h - the policy file: loading, the schema, expressions, checks.
 *
 * sg_policy_load reads a YAML policy (with its includes) into one arena,
 * validates it against the schema table (schema.c), compiles every
 * expression once (expr.c) and collects every problem as a diagnostic
 * (file:line:col + the source line), not only the first. sg_policy_check
 * adds the static analysis of `sopgate check` (check.c).
 */
#ifndef SG_POLICY_POLICY_H
#define SG_POLICY_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"

/* ---- diagnostics ---------------------------------------------------- */

enum sg_diag_severity { SG_DIAG_ERROR, SG_DIAG_WARNING };

struct sg_diag {
	enum sg_diag_severity severity;
	char *file;        /* path as given (include paths joined), owned */
	unsigned line, col; /* 1-based; 0 when unknown */
	char *msg;         /* owned */
	char *source_line; /* the offending line without newline, owned, may be NULL */
	size_t seq;        /* report order: ties in sg_diags_sort keep it */
};

struct sg_diags {
	struct sg_diag *v;
	size_t n, cap;
	size_t errors, warnings;
	int truncated; /* more than SG_MAX_POLICY_DIAGS were reported */
};

void sg_diags_init(struct sg_diags *d);
void sg_diags_release(struct sg_diags *d);
/* Adds one diagnostic; source is the whole file text (or NULL). */
void sg_diags_add(struct sg_diags *d, enum sg_diag_severity sev, const char *file,
		  const char *source, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
/* Sorts by file, line, col (stable for equal positions). */
void sg_diags_sort(struct sg_diags *d);
/* "file:line:col: error: msg\n  source\n  ^\n"; colour when color != 0. */
void sg_diags_format(const struct sg_diags *d, struct sg_buf *out, int color);

/* ---- values and expressions ----------------------------------------- */

enum sg_vtype { SG_V_NULL, SG_V_BOOL, SG_V_NUM, SG_V_STR, SG_V_LIST };

struct sg_value {
	enum sg_vtype type;
	int b;                       /* SG_V_BOOL */
	double num;                  /* SG_V_NUM (money and durations too) */
	const char *str;             /* SG_V_STR, not necessarily NUL-ended */
	size_t len;                  /* SG_V_STR bytes, SG_V_LIST items */
	const struct sg_value *items; /* SG_V_LIST */
};

struct sg_expr;

/* The engine answers field paths. path_id is the policy-wide id of the
 * interned path (sg_policy_path_name), so a resolver can dispatch on an
 * integer table built once. Unknown or absent fields: set SG_V_NULL.
 * Returned strings and lists must stay valid until the evaluation ends. */
typedef int (*sg_resolver_fn)(void *ctx, uint32_t path_id, const char *path,
			      struct sg_value *out);

#define SG_EXPR_TRACE_MAX 32
struct sg_trace_item {
	const struct sg_expr *expr;
	uint32_t node;             /* comparison, call or bare path node */
	struct sg_value lhs, rhs;  /* operands seen (rhs NULL-typed for unary) */
	int result;
};
struct sg_expr_trace {
	struct sg_trace_item items[SG_EXPR_TRACE_MAX];
	unsigned n;
	int truncated;
};

/* Parses src (len bytes). Errors go to diags at file:line:col + offset
 * inside the expression; returns NULL then. `known_root`, when non-NULL,
 * is asked whether the first segment of each field path exists. */
struct sg_expr_loc {
	const char *file, *source; /* for diagnostics */
	unsigned line, col;        /* where src starts */
};
struct sg_expr *sg_expr_parse(struct sg_arena *a, const char *src, size_t len,
			      const struct sg_expr_loc *loc,
			      int (*known_root)(void *ud, const char *root, size_t n),
			      void *ud, uint32_t (*intern)(void *ud, const char *path),
			      struct sg_diags *diags);

/* Evaluates e; *out is its value. trace (may be NULL) is appended to.
 * Never allocates. Returns 0, or the resolver's negative error. Safe to
 * call from several threads on one loaded policy (each regex's match block
 * is guarded by its own mutex; everything else is read-only). */
int sg_expr_eval(const struct sg_expr *e, sg_resolver_fn resolve, void *ctx,
		 struct sg_expr_trace *trace, struct sg_value *out);
/* Truthiness used by `and`, `or`, `not` and conditions. */
int sg_value_truthy(const struct sg_value *v);
/* Appends a value as text: 7200, "enterprise", ["A", "B"], true, null. */
void sg_value_format(struct sg_buf *b, const struct sg_value *v);
/* One citation per trace item: "claim.value = 7200 > 5000". */
void sg_trace_format_item(struct sg_buf *b, const struct sg_trace_item *it);
/* All items, joined by "; ". */
void sg_trace_format(struct sg_buf *b, const struct sg_expr_trace *t);

const char *sg_expr_source(const struct sg_expr *e); /* NUL-ended text */
int sg_expr_is_constant(const struct sg_expr *e);    /* no field paths */
unsigned sg_expr_nodes(const struct sg_expr *e);
/* For the checker: if e is `PATH OP NUMBER`, fills them and returns 1.
 * op is one of "<", "<=", ">", ">=", "==", "!=". */
int sg_expr_simple_compare(const struct sg_expr *e, const char **path,
			   const char **op, double *num);

/* 1 when e holds for every ticket whose `path` equals the string value:
 * e is `path == "value"`, `path in [..., "value"]`, or an `or` of those.
 * (The checker uses it to find never rules that always stop an intent.) */
int sg_expr_implied_by_value(const struct sg_expr *e, const char *path, const char *value);

/* If e is (or starts with the `or` term) `any(PATH, [constants])`, fills
 * them and returns 1: rows holding whenever PATH has one of the items. */
int sg_expr_any_list(const struct sg_expr *e, const char **path, const struct sg_value **list);
/* Calls fn for every `any(PATH, [list])` term of e (the checker uses it to
 * verify scanner type names). */
void sg_expr_each_any(const struct sg_expr *e,
		      void (*fn)(void *ud, const char *path, const struct sg_value *list),
		      void *ud);

/* Literal parsers shared with the loader: "15m" -> 900, "$5,000" -> 5000,
 * "5000 USD" -> 5000, "92%" -> 0.92. Return 0 or -1. */
int sg_parse_duration(const char *s, double *out);
int sg_parse_money(const char *s, double *out);

/* ---- the policy tree ------------------------------------------------ */

enum sg_pnode_kind { SG_PN_NULL, SG_PN_BOOL, SG_PN_NUM, SG_PN_STR, SG_PN_LIST, SG_PN_MAP };

struct sg_pnode {
	enum sg_pnode_kind kind;
	const char *file;   /* file the node was read from */
	const char *source; /* that file's text, for diagnostics */
	unsigned line, col; /* 1-based */
	const char *text;   /* scalar text as written (NULL for list/map) */
	int quoted;         /* scalar was quoted or a block scalar */
	int b;              /* SG_PN_BOOL */
	double num;         /* SG_PN_NUM, or converted money/duration/ratio */
	size_t n;           /* list items / map entries */
	struct sg_pnode **items;
	const char **keys;  /* SG_PN_MAP: keys[i] names items[i] */
	struct sg_pnode **key_nodes; /* SG_PN_MAP: the key scalars (locations) */
	struct sg_expr *expr; /* compiled when the schema type is expression */
};

/* Map lookup; NULL when absent or n is not a map. */
const struct sg_pnode *sg_pnode_get(const struct sg_pnode *n, const char *key);
/* Scalar helpers with defaults (also for absent nodes). */
const char *sg_pnode_str(const struct sg_pnode *n, const char *key, const char *def);
double sg_pnode_num(const struct sg_pnode *n, const char *key, double def);
int sg_pnode_bool(const struct sg_pnode *n, const char *key, int def);

/* ---- typed tables for the decision engine --------------------------- */

enum sg_tier { SG_TIER_NONE = -1, SG_TIER_LOW = 0, SG_TIER_MEDIUM, SG_TIER_HIGH };
enum sg_gate {
	SG_GATE_AUTO_SEND, SG_GATE_AGENT_REVIEW, SG_GATE_AGENT_EDIT,
	SG_GATE_TWO_STEP, SG_GATE_SENIOR_REVIEW, SG_GATE_HUMAN_ONLY, SG_GATE__COUNT
};
const char *sg_tier_name(enum sg_tier t);
const char *sg_gate_name(enum sg_gate g);
int sg_gate_parse(const char *s); /* -1 when unknown */

struct sg_policy_intent {
	const char *name;
	enum sg_tier tier;  /* SG_TIER_NONE when the policy omits it (check errors) */
	int auto_send;      /* pre-approved for auto-send */
	const char *queue;  /* may be NULL: the classifier's fallback queue */
	const struct sg_pnode *node;
};

/* A named condition with its location: risk, gate, escalation, never rules. */
struct sg_policy_rule {
	const char *name;
	const struct sg_expr *when; /* NULL: the rule only uses rule_sets/intents */
	const char *reason;
	const struct sg_pnode *node; /* the rule's map: other keys by name */
	const char *file;
	unsigned line;
	/* risk: tier raised to. gates: gate. never: gate forced (the minimum). */
	enum sg_tier tier;
	enum sg_gate gate;
	/* escalations */
	const char *owner, *channel, *queue, *trigger_type;
	double sla_seconds;
	/* gates: guardrail rule sets that trigger it; never: intents covered */
	const char **names;
	size_t n_names;
};

enum sg_step_kind { SG_STEP_LOOKUP, SG_STEP_IF, SG_STEP_ACTION };

/* One SOP step; `node` holds the action's other keys (project, summary,
 * message, template, field, value, channel...). */
struct sg_policy_step {
	enum sg_step_kind kind;
	const char *name;            /* may be NULL: cite "step N" */
	const char *lookup, *as;     /* LOOKUP: record kind ("crm.account"), bound name */
	const struct sg_expr *key;   /* LOOKUP */
	const struct sg_expr *cond;  /* IF */
	struct sg_policy_step *then_steps, *else_steps; /* IF */
	size_t n_then, n_else;
	const char *action;          /* ACTION: create_issue, notify, assign, reply, set_field, escalate */
	const char *to, *queue;      /* notify/escalate owner; assign queue */
	double within_seconds;       /* notify deadline, 0 when absent */
	const struct sg_pnode *node;
	const char *file;
	unsigned line;
};

struct sg_policy_sop {
	const char *name;
	const struct sg_expr *trigger;
	double sla_seconds;
	struct sg_policy_step *steps;
	size_t n_steps;
	const struct sg_pnode *node;
};

/* `grant: resource:action on target` split up. */
struct sg_policy_permission {
	const char *resource, *action, *target; /* "tickets", "respond", "queue/tier-1" */
	int requires_approval;
	const char *approval_channel;
	const struct sg_pnode *node;
};

struct sg_policy_thresholds {
	double classifier_min;   /* classifier.min_confidence */
	double band_high_intent, band_high_sentiment;
	double band_medium_intent, band_medium_negative_sentiment;
	double summarize_below;  /* bands.summarize_only_below */
	double auto_send_min;    /* gates.auto_send.min_confidence */
};

struct sg_policy {
	struct sg_arena arena;
	const struct sg_pnode *root;   /* merged tree (includes resolved) */
	const char *file;              /* the top file */
	char version[65];              /* SHA-256 hex of the canonical JSON */
	struct sg_policy_thresholds th;
	struct sg_policy_intent *intents;
	size_t n_intents;
	struct sg_policy_rule *risk, *gates, *escalations, *never;
	size_t n_risk, n_gates, n_escalations, n_never;
	const struct sg_pnode *tests;  /* list, may be NULL */
	const struct sg_pnode *sops;   /* map name -> sop, may be NULL */
	struct sg_policy_sop *sop_list;
	size_t n_sops;
	struct sg_policy_permission *permissions;
	size_t n_permissions;
	struct {
		double max_tokens_per_session, max_sessions_per_day, max_cost_per_day; /* 0: none */
		const char *on_exceeded;
	} budgets;
	struct {
		double sample_size, sample_rate, pause_below, expand_above, expand_after_weeks;
	} qa;
	int kill_switch;               /* kill_switch.enabled */
	struct {
		double peer_review_first;     /* default 20 (the reference SOP) */
		double random_review_share;   /* default 0.20 */
	} onboarding;
	struct {
		const char *zendesk_secret_env, *intercom_secret_env; /* NULL: unset */
		double zendesk_max_age_s;     /* default 300 */
	} webhooks;
	const char **paths;            /* interned field paths, by id */
	size_t n_paths, cap_paths;
};

/* Loads and validates `path`. On success returns 0 and *out (free with
 * sg_policy_free); diags may still hold warnings. On any error returns
 * -SG_EPOLICY with every problem in diags (or -SG_EIO/-SG_ENOMEM with err),
 * and *out is NULL. */
int sg_policy_load(struct sg_policy **out, const char *path, struct sg_diags *diags,
		   struct sg_error *err);
/* Same from a buffer (fuzzing, tests); includes resolve against base_dir. */
int sg_policy_load_mem(struct sg_policy **out, const char *name, const char *text,
		       size_t len, struct sg_diags *diags, struct sg_error *err);
void sg_policy_free(struct sg_policy *p);

/* Static analysis (warnings and errors) of a loaded policy. */
void sg_policy_check(const struct sg_policy *p, struct sg_diags *diags);

const struct sg_policy_intent *sg_policy_intent(const struct sg_policy *p, const char *name);
const struct sg_pnode *sg_policy_section(const struct sg_policy *p, const char *name);
const char *sg_policy_path_name(const struct sg_policy *p, uint32_t id);

/* A tree as JSON (new reference; NULL on allocation failure): test
 * tickets are free-form YAML that the engine reads as a ticket event. */
struct json_t;
struct json_t *sg_pnode_to_json(const struct sg_pnode *n);

/* Canonical JSON of a tree (sorted keys): what the version hashes. */
void sg_policy_canonical(struct sg_buf *out, const struct sg_pnode *n);

/* ---- the schema table ----------------------------------------------- */

enum sg_stype {
	SG_T_STR, SG_T_NUM, SG_T_INT, SG_T_RATIO, SG_T_BOOL, SG_T_DURATION,
	SG_T_MONEY, SG_T_EXPR, SG_T_REGEX, SG_T_ENUM, SG_T_REF, SG_T_FILE,
	SG_T_STRLIST, SG_T_REFLIST, SG_T_ENUMLIST,
	SG_T_MAP,   /* fixed keys: rows whose `in` is `sub` */
	SG_T_DICT,  /* user-chosen names, each value a map described by `sub` */
	SG_T_LIST,  /* items are maps described by `sub` */
	SG_T_ANY,   /* free-form (test tickets) */
	SG_T_STRMAP /* user-chosen names, each value a string */
};

#define SG_SK_REQUIRED 1u

struct sg_schema_key {
	const char *in;    /* schema id of the map holding the key: "", "gates", "step"... */
	const char *key;
	enum sg_stype type;
	unsigned flags;
	const char *sub;   /* MAP/DICT/LIST: child schema id; ENUM: "a|b|c"; REF: kind */
	const char *doc;
};

extern const struct sg_schema_key sg_policy_schema[];
extern const size_t sg_policy_schema_len;
const char *sg_stype_name(enum sg_stype t);
/* Markdown reference of every key, grouped by section (docs/policy.md). */
void sg_policy_schema_markdown(struct sg_buf *out);

#endif
