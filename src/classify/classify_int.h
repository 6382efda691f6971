/*
 * classify_int.h - shared by the classify module's files only: the model
 * and scratch layouts and the feature extractor.
 */
#ifndef SG_CLASSIFY_CLASSIFY_INT_H
#define SG_CLASSIFY_CLASSIFY_INT_H

#include "classify/classify.h"
#include "text/text.h"

#define SG_MODEL_MAGIC "sopgate-classifier"
#define SG_MODEL_FORMAT 1

struct sg_classifier {
	char *task;
	struct sg_feature_params feat;
	size_t nlabels;
	char **labels;
	double temperature; /* calibrated logits are decision values / T */
	int background;     /* 1: an out-of-scope slot with logit bg_logit */
	double bg_logit;    /* out-of-scope logit (before / T), fitted on dev */
	uint32_t nrows;     /* features seen in training */
	uint32_t *buckets;  /* nrows hashed buckets, increasing */
	uint32_t *map;      /* 2^hash_bits: row + 1, or 0 for unseen buckets */
	float *w;           /* nrows * nlabels weights, row-major */
	float *bias;        /* nlabels */
	/* Two labels and no out-of-scope slot (set at load): one array over
	 * all 2^hash_bits buckets of w[0] - w[1] (0 for unseen buckets), so
	 * scoring costs one lookup per feature in 4 bytes per bucket instead
	 * of map + weight row. NULL for other models. */
	float *diff;
};

/* One hashed feature of a text after extraction. */
struct sg_feat {
	uint32_t bucket;
	float value;
};

/* A slot of the table that merges equal buckets: the bucket, and the
 * text's stamp (high bits) with the bucket's count (low SG_SLOT_COUNT_BITS).
 * A slot is live only while it carries the current text's stamp, so the
 * table is not cleared between texts. */
struct sg_slot {
	uint32_t bucket, sc;
};
#define SG_SLOT_COUNT_BITS 18 /* counts up to SG_MAX_FEATURES */
/* Bucket spaces up to 2^SG_DIRECT_BITS are merged with a counter per
 * bucket (2 bytes each: 512 KB at 18 bits, the default). */
#define SG_DIRECT_BITS 18

/* Sublinear counts 1 + log c for c below this come from a table. */
#define SG_SUBLIN_TABLE 64

struct sg_classify_scratch {
	struct sg_text_norm norm;
	int folded;             /* 1: norm holds the last extracted text, case-folded
				 * (ASCII texts skip it: sg_features_extract sets 0) */
	struct sg_token *tok;
	size_t tokcap;
	uint32_t *raw;          /* hashed features before merging */
	size_t nraw, rawcap;
	uint32_t *wb;           /* bucket of each word unigram (ntok) */
	size_t nwb, wbcap;
	struct sg_feat *fv;     /* merged, L2-normalized */
	size_t nfv, fvcap;
	struct sg_slot *table;  /* open addressing for merging */
	size_t tablecap;
	uint32_t stamp;         /* the current text's slot stamp */
	uint16_t *direct;       /* 2^SG_DIRECT_BITS counters, one per bucket (or NULL),
				 * all 0 between texts */
	uint32_t *fslot;        /* the table slot of each fv entry while merging */
	size_t fslotcap;
	unsigned char *pad;     /* one word padded as "<" word ">" */
	size_t padcap;
	float sublin[SG_SUBLIN_TABLE]; /* 1 + logf(c) */
	double *dec, *probs;
	size_t deccap;
	void *textcat;          /* libexttextcat handle, created on first use */
	int textcat_failed;
	void *cands;            /* candidate_t array for textcat */
};

/* Extracts the features of text into s->fv (unsorted; merged; L2-norm 1). */
int sg_features_extract(struct sg_classify_scratch *s,
			const struct sg_feature_params *p, const char *text,
			size_t len, struct sg_error *err);

/* Decision values (uncalibrated) of the current s->fv into s->dec; returns
 * the share of the text's words seen in training (1 for no words). */
double sg_classifier_decide(const struct sg_classifier *c,
			    struct sg_classify_scratch *s);

/* Calibrated probabilities from decision values at temperature T; returns
 * the index of the top label. */
int sg_classifier_calibrate(const double *dec, size_t k, double t,
			    int background, double bg, double known, double *probs);

/* Parses a model file image (modified in place; `path` names it in
 * errors). What sg_classifier_load does after reading the file. */
int sg_classifier_parse(struct sg_classifier **out, char *data, size_t size,
			const char *path, struct sg_error *err);

/* Frees the scratch's language identifier (lang.c). */
void sg_classify_langid_release(struct sg_classify_scratch *s);

int sg_classify_scratch_reserve(struct sg_classify_scratch *s, size_t k);

/* Checks the feature parameters; -SG_EINVALID naming the bad one. */
int sg_feature_params_check(const struct sg_feature_params *p, struct sg_error *err);

#endif
