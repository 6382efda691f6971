/*
 * qa.h - the QA loop: a weekly, seeded, category-stratified sample of
 * AI-handled and human-reviewed tickets; five-dimension scores with defect
 * tags; the policy's rules applied after every score (a category under the
 * pause threshold has auto-send paused until a human lifts it, one above the
 * expansion threshold for consecutive weeks is suggested for expansion, a
 * hallucination that reached a customer opens an incident with a deadline),
 * each change with its audit record; and the weekly scorecard as JSON, text
 * and a self-contained HTML page with SVG charts. docs/qa.md is the guide.
 *
 * Periods are ISO weeks ("2026-W49", Monday 00:00 UTC to the next Monday).
 * A category is the ticket's intent.
 */
#ifndef SG_QA_QA_H
#define SG_QA_QA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "store/store.h"

struct sg_policy;
struct sg_engine;

#define SG_QA_WEEK_MS (7LL * 24 * 3600 * 1000)
#define SG_QA_MAX_TREND 52      /* weeks a trend may span */
#define SG_QA_MAX_DEFECTS 4

/* The `qa` section of the policy, with its defaults. */
struct sg_qa_config {
	int sample_size;        /* AI-handled tickets sampled per week: 100 */
	int per_ai_handled;     /* and at least 1 per this many of them: 100 */
	double human_rate;      /* share of human-reviewed tickets sampled: 0.05 */
	int min_per_category;   /* each category seen at least this often: 1 */
	double pause_below;     /* 0.92 */
	double expand_above;    /* 0.95 */
	int expand_after;       /* consecutive weeks above: 2 */
	int min_scored;         /* scores a category needs before a rule fires: 5 */
	int pass_score;         /* every dimension at least this (1..5): 4 */
	int incident_hours;     /* deadline of an incident report: 24 */
	uint64_t seed;          /* mixed with the week into the sampling seed */
};
void sg_qa_config_default(struct sg_qa_config *c);
/* The defaults overridden by the policy's `qa` keys (p may be NULL). */
void sg_qa_config_from_policy(struct sg_qa_config *c, const struct sg_policy *p);

/* ---- weeks ------------------------------------------------------------ */

/* "2026-W49" or a date "2026-12-07" (its week); -SG_EINVALID otherwise. */
int sg_qa_week_parse(char out[SG_QA_PERIOD_LEN], int64_t *from_ms, const char *text,
		     struct sg_error *err);
/* The week holding at_ms. */
void sg_qa_week_of(char out[SG_QA_PERIOD_LEN], int64_t *from_ms, int64_t at_ms);

/* ---- facts ------------------------------------------------------------ */

/* Extracts the scorecard's facts from decisions stored at or after
 * since_ms that have none yet (their JSON parsed once); *done counts
 * them. Runs in transactions of a few thousand. */
int sg_qa_facts_sync(struct sg_store *s, int64_t since_ms, long *done, struct sg_error *err);

/* ---- sampling --------------------------------------------------------- */

struct sg_qa_candidate {
	const char *ticket_id, *decision_id, *category;
	int human;              /* 0: AI-handled, 1: human-reviewed */
};
/* The pure selection: marks pick[i] = 1 for the chosen candidates (each
 * ticket id at most once; an AI-handled entry wins over a human-reviewed
 * one). Per kind the target is max(sample_size, ceil(N / per_ai_handled))
 * for AI-handled and ceil(N * human_rate) for human-reviewed, capped at N;
 * every category first gets min(min_per_category, its size), the rest is
 * shared in proportion to category size (largest remainder); inside a
 * category the tickets with the smallest keyed hash of (seed, ticket id)
 * are taken, so the result depends only on the set and the seed.
 * population[0|1] receives the distinct AI-handled and human-reviewed
 * tickets. Returns the number picked, or -SG_ENOMEM. */
long sg_qa_select(const struct sg_qa_candidate *c, size_t n, const struct sg_qa_config *cfg,
		  uint64_t seed, unsigned char *pick, long population[2]);
/* The seed of a week: cfg->seed mixed with the week's name. */
uint64_t sg_qa_week_seed(const struct sg_qa_config *cfg, const char *period);

struct sg_qa_sample_result {
	long ai_population, human_population; /* tickets in the week */
	long ai_sampled, human_sampled;
	long categories;
	int existed;            /* the week was sampled before: nothing written */
	uint64_t seed;
};
/* Samples week `period` (starting at from_ms) and stores the sample with
 * one audit record, in one transaction. seed 0: sg_qa_week_seed. */
int sg_qa_sample(struct sg_store *s, const struct sg_qa_config *cfg, const char *period,
		 int64_t from_ms, uint64_t seed, const char *actor,
		 struct sg_qa_sample_result *out, struct sg_error *err);

/* Samples the last complete week before now_ms unless it was sampled
 * already (out->existed); period receives its name. `sopgate serve` calls
 * it every hour, so each week is sampled once it ends. */
int sg_qa_auto_sample(struct sg_store *s, const struct sg_qa_config *cfg, int64_t now_ms,
		      const char *actor, char period[SG_QA_PERIOD_LEN],
		      struct sg_qa_sample_result *out, struct sg_error *err);

/* ---- scoring and rules ---------------------------------------------- */

extern const char *const sg_qa_dimension_names[SG_QA_DIMENSIONS];
extern const char *const sg_qa_defect_names[SG_QA_MAX_DEFECTS];

struct sg_qa_score_input {
	const char *sample_id, *reviewer;
	int dims[SG_QA_DIMENSIONS];          /* 1..5, in sg_qa_dimension_names order */
	const char *defects[SG_QA_MAX_DEFECTS];
	size_t ndefects;
	int reached_customer;                /* -1: as the sample says */
	const char *note;                    /* may be NULL */
	int64_t now_ms;                      /* 0: now */
};
/* Parses {"factual_accuracy":5,...,"defects":["tone_mismatch"],
 * "reached_customer":true,"note":"..."} into in (strings point into o). */
int sg_qa_score_from_json(struct sg_qa_score_input *in, const json_t *o, struct sg_error *err);

/* What one score or rule run changed. */
struct sg_qa_outcome {
	int accurate;
	char incident_id[SG_ID_LEN];         /* "" when none opened */
	char paused[8][SG_QA_NAME_MAX];      /* categories paused now */
	size_t npaused;
	char suggested[8][SG_QA_NAME_MAX];   /* categories suggested for expansion */
	size_t nsuggested;
};

/* Stores a score (with its audit record; an incident when a hallucination
 * reached the customer), then applies the rules to the sample's week.
 * -SG_ENOTFOUND for an unknown sample. */
int sg_qa_score(struct sg_store *s, const struct sg_qa_config *cfg,
		const struct sg_qa_score_input *in, struct sg_qa_outcome *out,
		struct sg_error *err);
/* Applies the pause and expansion rules to a week (idempotent: a category
 * is paused or suggested at most once per week). */
int sg_qa_rules_apply(struct sg_store *s, const struct sg_qa_config *cfg, const char *period,
		      int64_t from_ms, const char *actor, int64_t now_ms,
		      struct sg_qa_outcome *out, struct sg_error *err);
/* A human lifts the pause of a category (audited); 1 when none was open. */
int sg_qa_lift(struct sg_store *s, const char *category, const char *user,
	       struct sg_error *err);
/* Closes an incident (audited); 1 when no open incident has that id. */
int sg_qa_incident_close(struct sg_store *s, const char *id, const char *user,
			 struct sg_error *err);
/* Hands the categories paused now to the engine, which then keeps their
 * tickets out of auto-send (sg_engine_qa_pause). */
int sg_qa_pauses_to_engine(struct sg_store *s, struct sg_engine *e, struct sg_error *err);

/* ---- scorecard -------------------------------------------------------- */

/* The scorecard of week `period` (starting at from_ms) with its change
 * against the week before, and a trend of `weeks` weeks ending with it
 * (1..SG_QA_MAX_TREND). Syncs the facts first. *out is a new reference. */
int sg_qa_scorecard(json_t **out, struct sg_store *s, const struct sg_qa_config *cfg,
		    const char *period, int64_t from_ms, int weeks, struct sg_error *err);
/* Readable text for a terminal. */
void sg_qa_scorecard_text(struct sg_buf *b, const json_t *card);
/* The charts of a scorecard as standalone SVG documents; name is one of
 * "trend", "accuracy", "tiers", "guardrails", "reply". -SG_ENOTFOUND for
 * another name. */
int sg_qa_chart_svg(struct sg_buf *b, const json_t *card, const char *name,
		    struct sg_error *err);
extern const char *const sg_qa_chart_names[];
/* A self-contained HTML report (inline CSS, inline SVG, no script). */
void sg_qa_scorecard_html(struct sg_buf *b, const json_t *card);

/* Character-level edit distance between a and b (each capped at max
 * bytes; beyond, the longer length counts). */
size_t sg_qa_edit_distance(const char *a, size_t na, const char *b, size_t nb, size_t max);

#endif
