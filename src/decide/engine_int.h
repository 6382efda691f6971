/*
 * engine_int.h - what the decision engine's own files share: the engine,
 * the per-thread run, and the state of the decision being made (which the
 * expression resolver reads), and the pipeline steps that pipeline.c,
 * pipeline_draft.c and pipeline_gate.c call across files.
 */
#ifndef SG_DECIDE_ENGINE_INT_H
#define SG_DECIDE_ENGINE_INT_H

#include <limits.h>
#include <pthread.h>

#include "classify/classify.h"
#include "core/arena.h"
#include "decide/engine.h"
#include "policy/policy.h"
#include "scan/scan.h"

struct sg_kb;
struct sg_backend;
struct sg_prompt;
struct sg_budget;
struct sg_model_approval;

/* The tasks a decision may give a model (policy `prompts` task names). */
enum sg_task_id { SG_TASK_DRAFT, SG_TASK_SUMMARIZE, SG_TASK_TAG, SG_TASK_GAP, SG_TASK__COUNT };

/* The model that runs one task (models.c). */
struct sg_task_model {
	const char *model_name;     /* "builtin" or the model id: decision model_name */
	const char *prompt_version; /* "builtin.v1" or "reply_drafter@3" */
	struct sg_backend *backend; /* NULL: the built-in code runs the task */
	struct sg_prompt *prompt;   /* the policy's template, with a backend */
	unsigned max_tokens;
};

#define SG_MAX_BINDINGS 16 /* records bound by SOP lookups in one decision */
#define SG_RECORD_CACHE 1024 /* lookup records kept in memory per engine */

struct sg_engine {
	const struct sg_policy *policy;
	struct sg_scanner *scanner;
	struct sg_classifier *intent;
	struct sg_classifier *injection; /* optional: the scanner's model */
	char records_dir[PATH_MAX];
	const char **allow_urls; /* approved link sources */
	size_t nallow;
	/* the policy's rule-set name for each built-in scanner type */
	const char *set_of_type[SG_T__COUNT];
	const char *triage_queue;
	char scan_version[65];   /* guardrail_policy_version */
	char kb_db[PATH_MAX];    /* empty: no drafting */
	/* file connector: records read once and kept while the file's
	 * modification time stays the same (a lookup costs a stat, not a parse) */
	pthread_mutex_t records_lock;
	struct sg_record_cache {
		char *path;
		json_t *record;
		long long mtime_ns;
	} records[SG_RECORD_CACHE];
	size_t nrecords, next_evict;
	/* budgets: AI sessions started today (UTC day number), shared by runs */
	pthread_mutex_t budget_lock;
	long budget_day;
	double sessions_today;
	/* categories (intents) whose auto-send the QA loop paused */
	pthread_mutex_t qa_lock;
	char **qa_paused;
	size_t nqa_paused;
	/* models (models.c): per task, the approvals, tokens per session */
	struct sg_task_model tasks[SG_TASK__COUNT];
	struct sg_model_approval *approvals;
	size_t napprovals;
	struct sg_budget *budget;
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	int (*session_take)(void *ctx, const char *day, long limit, struct sg_error *err);
	void *session_ctx;
	int64_t (*clock)(void *ctx);
	void *clock_ctx;
};

struct sg_binding {
	const char *name; /* `as:` of the lookup step */
	json_t *record;   /* owned */
};

struct sg_decide_run {
	struct sg_engine *e;
	struct sg_scan_ctx *scan;
	struct sg_classify_scratch *cls;
	struct sg_kb *kb;            /* this run's connection to the KB, or NULL */
	struct sg_arena arena;

	/* the decision being made: read by the resolver */
	const struct sg_ticket *t;
	struct sg_decision *d;
	const char *masked;          /* masked ticket text */
	const char *draft_masked;    /* masked draft, or NULL */
	const char **in_types, **out_types; /* scanner types hit */
	size_t n_in_types, n_out_types;
	struct sg_classification c;
	int same_intent_ai_turns, rejected_drafts;
	struct sg_binding bind[SG_MAX_BINDINGS];
	size_t nbind;
	json_t *actions;             /* outbound actions of this decision */
	const char *sop_queue;       /* set by an SOP assign step */
	int sop_review;              /* an SOP step failed: a human must look */
	int sop_step_no;             /* steps executed so far */
	int generated;               /* the draft was written by the drafter */
	int unsupported;             /* the knowledge-gap check found claims */
	int draft_failed;            /* drafting failed: summarize only */
	int session;                 /* AI session today: 0 not asked, 1 ok, -1 over budget */
	int budget_exceeded;         /* a model budget was used up */
	int64_t now_ms;
};

/* The expression resolver (resolve.c): field paths of the decision. */
int sg_decide_resolve(void *ctx, uint32_t path_id, const char *path,
		      struct sg_value *out);
/* Evaluates e; on a true result and when cite != NULL, *cite is the trace
 * as text in the run's arena. Resolver errors count as false. */
int sg_decide_eval(struct sg_decide_run *r, const struct sg_expr *e,
		   const char **cite);
/* "{facts.claim_value}" placeholders replaced by their values. */
const char *sg_decide_template(struct sg_decide_run *r, const char *tmpl);

/* Forgets the previous decision's state (engine.c). */
void sg_decide__reset(struct sg_decide_run *r);

/* Models per task from the policy (models.c); release frees them. */
int sg_decide_models_init(struct sg_engine *e, struct sg_error *err);
void sg_decide_models_release(struct sg_engine *e);
/* One line to the engine's log (stderr by default), prefixed with the ticket. */
void sg_decide_log(struct sg_decide_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* SOP workflows (sop.c). */
void sg_decide_sops(struct sg_decide_run *r);

/* The decision pipeline (pipeline.c, pipeline_draft.c, pipeline_gate.c). */

/* Adds a reason to the decision, citing file:line when file is given. */
void sg_decide_reason(struct sg_decide_run *r, const char *rule, const char *file,
		      unsigned line, const char *detail);
/* Scanner types hit, as a list the resolver hands to expressions, and the
 * guardrail fields of the decision. */
int sg_decide_collect_types(struct sg_decide_run *r, const struct sg_scan_result *res,
			    const char ***out, size_t *n);

/* pipeline_draft.c. AI sessions per UTC day, counted once per decision:
 * 1 within the budget, 0 used up (said in the reasons and the log). */
int sg_decide_budget_ok(struct sg_decide_run *r);
/* The tagger model's frustration, churn risk and escalation likelihood in
 * place of the classifier's, when the policy names one. */
void sg_decide_model_tags(struct sg_decide_run *r, const json_t *given, const char *text,
			  size_t len, const struct sg_scan_input *in);
/* The draft on the knowledge base; a drafting failure leaves the ticket
 * summarize-only (0); negative only for a failed output scan. */
int sg_decide_generate_draft(struct sg_decide_run *r, struct sg_scan_input *in,
			     const char *text, size_t len, struct sg_error *err);
/* The summary for the human (summarize-only tickets), PII as [PII]. */
void sg_decide_summarize(struct sg_decide_run *r, const char *text, size_t len, int no_model);

/* pipeline_gate.c. The gate of one decision as its rules raise it. */
struct sg_decide_gate_state {
	enum sg_gate gate;
	int fired;                /* gate/never rules that fired */
	int send_blocked;
	const char *channel;      /* senior review channel */
	double sla_seconds;
	const char *queue;
	int no_respond;           /* no grant to reply on the queue */
};

/* Worth drafting: confident enough, not a high-risk intent, AI not off. */
int sg_decide_may_draft(const struct sg_decide_run *r, const json_t *given);
/* The classification of the masked text into r->c, with pinned values. */
int sg_decide_classify(struct sg_decide_run *r, const json_t *given, struct sg_error *err);
/* The risk tier: the intent's, raised by the risk rules. */
enum sg_tier sg_decide_tier_of(struct sg_decide_run *r);
/* The confidence band: "high", "medium" or "low". */
const char *sg_decide_band_of(const struct sg_decide_run *r);
void sg_decide_raise_gate(struct sg_decide_gate_state *g, enum sg_gate to);
/* Gate rules and the never list. */
void sg_decide_gate_rules(struct sg_decide_run *r, struct sg_decide_gate_state *g);
/* The first escalation row that matches, or NULL. */
const struct sg_policy_rule *sg_decide_escalate(struct sg_decide_run *r, const char **cite);
/* 1 when every auto-send condition holds (*why says so), else 0. */
int sg_decide_auto_send_ok(struct sg_decide_run *r, const struct sg_decide_gate_state *g,
			   enum sg_tier tier, const char **why);
/* What the AI agent may do on queue (policy `permissions`). */
void sg_decide_permissions(struct sg_decide_run *r, struct sg_decide_gate_state *g,
			   const char *queue);

#endif
