/*
 * engine.h - the decision engine: one ticket event in, one decision out.
 *
 * The pipeline (pipeline.c): normalize and scan the input -> classify the
 * masked text -> scan an existing draft -> risk tier -> confidence band ->
 * SOP workflows -> gate (auto-send conditions, gate rules, the never list,
 * the kill switch) -> escalation matrix -> the decision object, every step
 * citing the policy rule and the values it saw.
 *
 * An engine is built once per loaded policy and is read-only afterwards;
 * each thread decides through its own struct sg_decide_run.
 */
#ifndef SG_DECIDE_ENGINE_H
#define SG_DECIDE_ENGINE_H

#include <jansson.h>

#include "core/error.h"
#include "decide/decision.h"
#include "decide/ticket.h"

struct sg_policy;
struct sg_classifier;
struct sg_engine;
struct sg_decide_run;

#define SG_ENGINE_OPTIONS_VERSION 1

struct sg_engine_options {
	unsigned version;          /* SG_ENGINE_OPTIONS_VERSION */
	const char *data_dir;      /* models and caches; NULL: the CLI's data dir */
	const char *intent_model;  /* path; NULL: <data_dir>/intent.model */
	const char *records_dir;   /* file connector; NULL: <policy dir>/records */
	int no_classifier;         /* tests that pin `given` need no model */
	const char *kb_db;         /* knowledge base (sopgate kb index): when set,
				    * tickets in draft_reply mode get a grounded
				    * draft (the model the policy's draft prompt
				    * names, else the built-in drafter) */
	/* where lines about model fallbacks and budgets go; NULL: stderr */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

#define SG_ENGINE_OPTIONS_INIT {SG_ENGINE_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, NULL, NULL}

/* Builds the engine for a loaded policy (borrowed: it must outlive the
 * engine): compiles the guardrail rule sets and custom patterns into the
 * scanner and loads the intent model. Free with sg_engine_free. */
int sg_engine_new(struct sg_engine **out, const struct sg_policy *policy,
		  const struct sg_engine_options *opts, struct sg_error *err);
void sg_engine_free(struct sg_engine *e);
const struct sg_policy *sg_engine_policy(const struct sg_engine *e);

int sg_decide_run_new(struct sg_decide_run **out, struct sg_engine *e,
		      struct sg_error *err);
void sg_decide_run_free(struct sg_decide_run *r);

/* Decides one ticket. `given` (may be NULL) pins classifier outputs, as a
 * policy test does: {"intent","intent_confidence","sentiment",
 * "sentiment_confidence","frustration","urgency"}. The decision's strings
 * live in the run and stay valid until the next sg_decide on it. */
int sg_decide(struct sg_decision *out, struct sg_decide_run *r,
	      const struct sg_ticket *t, const json_t *given, struct sg_error *err);

/* The run's outbound actions of the last decision (SOP actions and
 * escalation notices) as a JSON array the caller owns; for the outbox. */
json_t *sg_decide_actions(const struct sg_decide_run *r);

/* The QA loop's pauses: tickets of these categories (intents) never
 * auto-send; they go to agent review with the reason "qa.pause". The list
 * replaces the previous one (copied; n 0 clears it); thread-safe while
 * other threads decide. */
int sg_engine_qa_pause(struct sg_engine *e, const char *const *categories, size_t n,
		       struct sg_error *err);
/* 1 when auto-send of the category is paused. */
int sg_engine_qa_paused(struct sg_engine *e, const char *category);

/* A readable explanation of a decision for a terminal (colour when asked). */
void sg_decision_explain(const struct sg_decision *d, struct sg_buf *b, int color);

#endif
