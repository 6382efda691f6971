/*
 * classify.h - ticket classification: intent (hashed n-gram features and an
 * L2-regularized logistic regression trained with liblinear, temperature-
 * calibrated), urgency, sentiment, frustration, churn risk, escalation
 * likelihood (documented signal scores) and language (libexttextcat).
 *
 * A loaded model (struct sg_classifier) is read-only and may be shared by
 * any number of threads; each thread brings its own struct sg_classify_scratch.
 * docs/classifier.md documents every score and the model file format.
 */
#ifndef SG_CLASSIFY_CLASSIFY_H
#define SG_CLASSIFY_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* ---- models ---------------------------------------------------------- */

struct sg_classifier; /* opaque, read-only once loaded */

/* Loads a model file written by sg_classifier_save (or `sopgate train`).
 * A missing, corrupt, truncated or mismatched (other format version, other
 * feature parameters) file is -SG_EMODEL with a message naming the file and
 * the problem; -SG_EIO when it cannot be read. *out is NULL on failure;
 * free with sg_classifier_free. */
int sg_classifier_load(struct sg_classifier **out, const char *path,
		       struct sg_error *err);
void sg_classifier_free(struct sg_classifier *c);

/* The task name stored in the model ("intent", "injection", ...). */
const char *sg_classifier_task(const struct sg_classifier *c);
size_t sg_classifier_nlabels(const struct sg_classifier *c);
/* Label i (0 <= i < nlabels); owned by the model. */
const char *sg_classifier_label(const struct sg_classifier *c, size_t i);
/* Index of a label, or -1. */
int sg_classifier_label_index(const struct sg_classifier *c, const char *label);

/* Per-thread working memory (normalization buffers, features, the
 * distribution, the language identifier). Never share one between threads. */
struct sg_classify_scratch;
int sg_classify_scratch_new(struct sg_classify_scratch **out, struct sg_error *err);
void sg_classify_scratch_free(struct sg_classify_scratch *s);

/* One prediction. `probs` points into the scratch (valid until the next
 * call with it) and holds the calibrated probability of every label; for a
 * model with an out-of-scope slot (multi-class models) they sum to 1 minus
 * the probability that the text is none of the labels. */
struct sg_prediction {
	int label;            /* index of the top label */
	double confidence;    /* calibrated probability of the top label, 0..1 */
	const double *probs;  /* nlabels calibrated probabilities, sum <= 1 */
	double known;         /* share of the text's features seen in training */
};

/* Predicts the label of a UTF-8 text. Invalid UTF-8 is -SG_EUTF8 naming the
 * byte offset; texts over SG_MAX_TEXT_BYTES are -SG_ELIMIT. An empty text
 * is valid and comes out with low confidence. */
int sg_classifier_predict(const struct sg_classifier *c,
			  struct sg_classify_scratch *s, const char *text,
			  size_t len, struct sg_prediction *out,
			  struct sg_error *err);

/* The calibrated probability of one label (index < nlabels), as
 * sg_classifier_predict computes it up to float rounding, but faster for a
 * two-label model without an out-of-scope slot (the injection model): no
 * per-label loop, one weight lookup per feature. Errors as for
 * sg_classifier_predict. */
int sg_classifier_prob(const struct sg_classifier *c, struct sg_classify_scratch *s,
		       const char *text, size_t len, size_t label, double *prob,
		       struct sg_error *err);

/* ---- whole-ticket classification -------------------------------------- */

/* Optional signals from the ticket event; zero/NULL means unknown. */
struct sg_classify_input {
	const char *text;        /* subject + body, UTF-8 (required) */
	size_t len;
	const char *tier;        /* customer.tier: free|starter|paid|premium|enterprise */
	const char *priority;    /* helpdesk priority: P0..P3, or urgent|high|normal|low */
	unsigned history_turns;  /* earlier turns in the conversation */
	unsigned customer_turns; /* of which written by the customer */
	int vip;                 /* customer.vip */
};

enum sg_sentiment { SG_SENTIMENT_NEGATIVE, SG_SENTIMENT_NEUTRAL, SG_SENTIMENT_POSITIVE };

struct sg_classification {
	const char *intent;         /* label owned by the model */
	double intent_confidence;   /* calibrated, 0..1 */
	int urgency;                /* 0..3 for P0 (most urgent) .. P3 */
	enum sg_sentiment sentiment;
	double sentiment_confidence;/* 0..1 */
	int frustration;            /* 0..10 */
	int churn_risk;             /* 0..10 */
	int escalation_likelihood;  /* 0..10 */
	char language[8];           /* ISO 639-1 ("en") or "und" */
	double language_confidence; /* 0..1 */
};

/* Classifies one ticket. `intent_model` may be NULL (intent "unknown",
 * confidence 0). Errors as for sg_classifier_predict. */
int sg_classify_ticket(struct sg_classification *out,
		       const struct sg_classifier *intent_model,
		       struct sg_classify_scratch *s,
		       const struct sg_classify_input *in, struct sg_error *err);

const char *sg_sentiment_name(enum sg_sentiment s);   /* "negative" ... */
const char *sg_urgency_name(int urgency);             /* "P0" ... "P3" */

/* Language only: ISO 639-1 code of the most likely of the configured
 * languages (en es de fr pt it nl), or "und" when the text is too short or
 * unlike all of them; confidence falls with shorter texts. */
int sg_classify_language(struct sg_classify_scratch *s, const char *text,
			 size_t len, char lang[8], double *confidence,
			 struct sg_error *err);

/* ---- training (used by `sopgate train`, `eval` and tests) -------------- */

/* Feature extraction parameters, stored in the model header. */
struct sg_feature_params {
	unsigned hash_bits;   /* hashed space is 2^hash_bits (16..24) */
	unsigned word_ngrams; /* 1 or 2: word unigrams (+ bigrams) */
	unsigned char_min;    /* char n-gram range inside words, 0 = none */
	unsigned char_max;
	uint32_t seed;
};
#define SG_FEATURE_PARAMS_INIT {18, 2, 2, 5, 0x5f3759dfu}

/* A labeled example set, texts and labels copied. */
struct sg_dataset {
	char **texts;
	int *labels;       /* index into label names */
	size_t n, cap;
	char **label_names;
	size_t nlabels;
};
void sg_dataset_init(struct sg_dataset *d);
void sg_dataset_release(struct sg_dataset *d);
/* Reads JSONL {"text": string, "label": string|number}; a bad line is an
 * error naming the file and line. Labels are interned in first-seen order;
 * numbers become their decimal text. */
int sg_dataset_read(struct sg_dataset *d, const char *path, struct sg_error *err);

struct sg_train_options {
	const char *task;               /* stored in the model */
	struct sg_feature_params feat;
	double C;                       /* liblinear cost; 0 = default */
	/* Called after each stage when non-NULL (progress). */
	void (*progress)(void *arg, unsigned long done, unsigned long total);
	void *progress_arg;
};
void sg_train_options_init(struct sg_train_options *o);

/* Trains on `train`, then fits the temperature on `dev` when non-NULL (else
 * on the training set). *out is freed with sg_classifier_free. */
int sg_classifier_train(struct sg_classifier **out, const struct sg_dataset *train,
			const struct sg_dataset *dev, const struct sg_train_options *o,
			struct sg_error *err);
int sg_classifier_save(const struct sg_classifier *c, const char *path,
		       struct sg_error *err);

/* Evaluation of a model on a labeled set. Dev labels unknown to the model
 * count as errors. */
struct sg_eval {
	size_t n, correct;
	double accuracy, macro_f1, ece;  /* ECE over 15 equal-width bins */
	double coverage99, threshold99;  /* coverage at 99 % precision */
	size_t nlabels;
	double *precision, *recall;      /* per model label */
	size_t *support;
};
int sg_classifier_eval(struct sg_eval *out, const struct sg_classifier *c,
		       const struct sg_dataset *d, struct sg_error *err);
void sg_eval_release(struct sg_eval *e);

#endif
