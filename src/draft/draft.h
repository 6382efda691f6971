/*
 * draft.h - the writing half: masked text, the built-in grounded drafter,
 * the summarizer, the knowledge-gap check, prompt templates, approved
 * models and budgets. Model backends are in draft/backend.h.
 *
 * Text that may reach a model is a struct sg_masked_text: an opaque type
 * whose only constructor runs the scanner's masking, so unmasked text
 * cannot be handed to a backend by mistake.
 */
#ifndef SG_DRAFT_DRAFT_H
#define SG_DRAFT_DRAFT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "kb/kb.h"
#include "scan/scan.h"

/* The exact answer when the KB has nothing relevant. */
#define SG_DRAFT_ESCALATE "ESCALATE: insufficient context"

/* ---- masked text ---- */

struct sg_masked_text;

/* Masks text[0..len) with the scanner (PII replaced by typed placeholders
 * such as [EMAIL_1]) and wraps the result. in may be NULL. *out freed with
 * sg_masked_free. */
int sg_masked_new(struct sg_masked_text **out, struct sg_scan_ctx *ctx,
		  const char *text, size_t len, const struct sg_scan_input *in,
		  struct sg_error *err);
void sg_masked_free(struct sg_masked_text *m);
/* The masked text (NUL-terminated); lives as long as m. */
const char *sg_masked_str(const struct sg_masked_text *m, size_t *len);

/* ---- tone rules (filled from the policy) ---- */

struct sg_draft_style {
	unsigned max_words;      /* body limit (greeting..next step); 0: 120 */
	int technical;           /* 1: the limit is doubled */
	const char *const *banned_phrases; /* case-insensitive; never written */
	size_t nbanned;
	const char *signoff;     /* NULL: "Best regards,\nAcme Support" */
};

#define SG_DRAFT_STYLE_INIT {120, 0, NULL, 0, NULL}

/* ---- drafts ---- */

struct sg_draft {
	char *text;              /* the reply, or SG_DRAFT_ESCALATE */
	int escalate;            /* 1 when text is SG_DRAFT_ESCALATE */
	char **sources;          /* "kb:<id>" cited */
	size_t nsources;
	double top_score;        /* best retrieval score seen */
	char *model_name;        /* "builtin" or the model called */
	char *prompt_template_version; /* "builtin.v1" or "reply_drafter.v1" */
	unsigned input_tokens, output_tokens;
};

void sg_draft_release(struct sg_draft *d);

struct sg_draft_request {
	const struct sg_masked_text *ticket; /* subject + body, masked */
	const char *intent;      /* classifier intent, may be NULL */
	const char *first_name;  /* greeting; NULL: "Hi," (the name is added
				  * locally, it never goes to a model) */
	const struct sg_draft_style *style; /* NULL: SG_DRAFT_STYLE_INIT */
	double min_score;        /* retrieval threshold; 0: SG_DRAFT_MIN_SCORE */
	size_t k;                /* passages retrieved; 0: 5 */
	unsigned max_tokens;     /* model path: completion tokens; 0: 512 */
};

/* Default retrieval threshold (-bm25 of the best passage), tuned on the
 * example KB: on-topic tickets score 6 and more, chit-chat under 3. */
#define SG_DRAFT_MIN_SCORE 4.0

/* The built-in drafter: retrieves passages, composes greeting + best
 * grounded sentences + one next step + sign-off, cites the articles used.
 * Deterministic. Answers SG_DRAFT_ESCALATE when the best passage scores
 * below the threshold. out released with sg_draft_release. */
int sg_draft_builtin(struct sg_draft *out, struct sg_kb *kb,
		     const struct sg_draft_request *req, struct sg_error *err);

/* Composes a reply from hits already retrieved (the builtin backend and
 * sg_draft_builtin share it). query is the masked ticket text. */
int sg_draft_compose(struct sg_draft *out, const char *query,
		     const struct sg_kb_hits *hits, const char *first_name,
		     const struct sg_draft_style *style, struct sg_error *err);

/* Words in text (runs of non-space). */
size_t sg_draft_word_count(const char *text);

/* ---- summarizer ---- */

struct sg_summary_msg {
	const char *role;        /* "customer", "agent", "ai", "note" */
	const struct sg_masked_text *text;
};

/* Three sections: "Customer issue:" one sentence, "Actions taken:" and
 * "Outstanding questions:" bullet lists; every masked placeholder shows as
 * [PII]. *out freed with sg_free. */
int sg_draft_summarize(char **out, const struct sg_summary_msg *msgs, size_t n,
		       struct sg_error *err);

/* Copies text with every typed placeholder ([EMAIL_1], [PHONE_2]...)
 * replaced by [PII]. *out freed with sg_free. */
int sg_draft_pii_tags(char **out, const char *text, struct sg_error *err);

/* ---- knowledge-gap check ---- */

struct sg_gap_claim {
	char *sentence;          /* the claim as written */
	char *missing;           /* the fact tokens no cited passage supports */
};

struct sg_gap_report {
	struct sg_gap_claim *claims; /* unsupported claims */
	size_t n;
	size_t checked;          /* sentences that state facts */
};

void sg_gap_report_release(struct sg_gap_report *r);

/* Checks every fact-stating sentence of draft (numbers, dates, amounts,
 * durations, capitalised product names, promises such as "we will refund")
 * against the text of the cited articles ("kb:<id>"). A source that is not
 * an approved article supports nothing. out lists the unsupported claims
 * (guardrail type "unsupported_claim"). */
int sg_draft_gap_check(struct sg_gap_report *out, struct sg_kb *kb,
		       const char *draft, const char *const *sources,
		       size_t nsources, struct sg_error *err);

/* Same against source text given directly (for tests and the model path). */
int sg_draft_gap_check_text(struct sg_gap_report *out, const char *draft,
			    const char *sources_text, struct sg_error *err);

/* ---- model answers (answer.c) ---- */

/* The sentiment/risk tagger's answer: strict JSON {"frustration": N,
 * "churn_risk": N, "escalation_likelihood": N}, integers 0 to 10, into
 * out in that order. Otherwise -SG_EBACKEND naming the field. */
int sg_draft_parse_tags(int out[3], const char *text, struct sg_error *err);

/* The knowledge-gap detector's answer: 0 when it is "OK", 1 when it lists
 * claims (*first points into text at the first, *len up to its line end),
 * -SG_EBACKEND when it is empty. */
int sg_draft_parse_gap(const char **first, size_t *len, const char *text, struct sg_error *err);

/* ---- prompt templates ---- */

struct sg_prompt;

/* Loads dir/NAME.vVERSION.txt (NAME in [a-z0-9_]). *out freed with
 * sg_prompt_free. */
int sg_prompt_load(struct sg_prompt **out, const char *dir, const char *name,
		   unsigned version, struct sg_error *err);
/* Loads the template at path (a policy's `prompts` entry), recorded as
 * version (e.g. "reply_drafter@3"). *out freed with sg_prompt_free. */
int sg_prompt_load_file(struct sg_prompt **out, const char *path, const char *name,
			const char *version, struct sg_error *err);
void sg_prompt_free(struct sg_prompt *p);
const char *sg_prompt_text(const struct sg_prompt *p);
const char *sg_prompt_name(const struct sg_prompt *p);
/* "reply_drafter.v1": what prompt_template_version records. */
const char *sg_prompt_version(const struct sg_prompt *p);

/* ---- approved models ---- */

struct sg_model_approval {
	const char *task;        /* "draft", "summarize", "tag", "gap" */
	const char *model;       /* exact model name */
};

/* 0 when model is approved for task, else -SG_EFORBIDDEN naming both. */
int sg_draft_model_check(const struct sg_model_approval *list, size_t n,
			 const char *task, const char *model,
			 struct sg_error *err);

/* ---- budgets ---- */

struct sg_budget;

/* Limits: 0 means unlimited. *out freed with sg_budget_free. */
int sg_budget_new(struct sg_budget **out, uint64_t tokens_per_session,
		  unsigned sessions_per_day, struct sg_error *err);
void sg_budget_free(struct sg_budget *b);

/* Before a model call for session (a ticket id) at now_ms: counts a new
 * session against the day's quota (the day is the UTC date) and checks the
 * session's tokens. Over budget: -SG_ELIMIT with the reason ("token budget
 * exhausted: 2100 of 2000 tokens used in session T-1"), which the caller
 * turns into summarize-only. Thread-safe. */
int sg_budget_check(struct sg_budget *b, const char *session, int64_t now_ms,
		    struct sg_error *err);
/* After the call: adds the backend's usage figures to the session. */
void sg_budget_charge(struct sg_budget *b, const char *session, int64_t now_ms,
		      uint64_t tokens);
/* Tokens used by session today. */
uint64_t sg_budget_used(struct sg_budget *b, const char *session);

#endif
