/*
 * train.c - labeled JSONL sets, training with liblinear (L2-regularized
 * logistic regression, one-vs-rest), temperature calibration on a dev set,
 * and evaluation (accuracy, macro-F1, ECE, coverage at 99 % precision).
 */
#include "classify/classify_int.h"

#include <linear.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/banned.h"

#define BG_MIN (-6.0) /* lowest out-of-scope logit tried */

/* ---- datasets ----------------------------------------------------------- */

void sg_dataset_init(struct sg_dataset *d)
{
	memset(d, 0, sizeof(*d));
}

void sg_dataset_release(struct sg_dataset *d)
{
	for (size_t i = 0; i < d->n; i++)
		sg_free(d->texts[i]);
	for (size_t i = 0; i < d->nlabels; i++)
		sg_free(d->label_names[i]);
	sg_free(d->texts);
	sg_free(d->labels);
	sg_free(d->label_names);
	sg_dataset_init(d);
}

static int intern(struct sg_dataset *d, const char *name)
{
	for (size_t i = 0; i < d->nlabels; i++) {
		if (strcmp(d->label_names[i], name) == 0)
			return (int)i;
	}
	if (d->nlabels >= SG_MAX_LABELS)
		return -SG_ELIMIT;
	char **ln = sg_realloc(d->label_names, (d->nlabels + 1) * sizeof(*ln));
	if (!ln)
		return -SG_ENOMEM;
	d->label_names = ln;
	if (!(ln[d->nlabels] = sg_strdup(name)))
		return -SG_ENOMEM;
	return (int)d->nlabels++;
}

int sg_dataset_read(struct sg_dataset *d, const char *path, struct sg_error *err)
{
	struct sg_lines r;
	json_t *obj = NULL;
	int rc = 0;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return sg_error_set(err, SG_EIO, "unable to open '%s'", path);
	sg_lines_init(&r, fp, SG_MAX_LINE_BYTES);
	for (;;) {
		struct sg_error lerr = SG_ERROR_INIT;
		rc = sg_lines_next(&r, &lerr);
		if (rc == 0)
			break;
		if (rc < 0) {
			rc = sg_error_setloc(err, -rc, path, (unsigned)r.lineno, 0, "%s", lerr.msg);
			goto cleanup;
		}
		if (r.len == 0)
			continue;
		if ((rc = sg_json_parse(&obj, r.line, r.len, &lerr)) < 0 ||
		    (!json_is_object(obj) && (rc = sg_error_set(&lerr, SG_EJSON, "expected an object")))) {
			rc = sg_error_setloc(err, SG_EJSON, path, (unsigned)r.lineno, 0, "%s", lerr.msg);
			goto cleanup;
		}
		const char *text;
		if ((rc = sg_json_str(obj, "text", "text", 1, &text, &lerr)) < 0) {
			rc = sg_error_setloc(err, -rc, path, (unsigned)r.lineno, 0, "%s", lerr.msg);
			goto cleanup;
		}
		json_t *lab = json_object_get(obj, "label");
		char num[32];
		const char *ls;
		if (json_is_string(lab)) {
			ls = json_string_value(lab);
		} else if (json_is_integer(lab)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(lab));
			ls = num;
		} else {
			rc = sg_error_setloc(err, SG_EINVALID, path, (unsigned)r.lineno, 0,
					     "field 'label': expected a string or an integer, got %s",
					     lab ? sg_json_type_name(lab) : "nothing");
			goto cleanup;
		}
		if (!*ls || strlen(ls) > SG_MAX_LABEL_BYTES || strchr(ls, '\n')) {
			rc = sg_error_setloc(err, SG_EINVALID, path, (unsigned)r.lineno, 0,
					     "field 'label': empty, longer than %d bytes or multi-line",
					     SG_MAX_LABEL_BYTES);
			goto cleanup;
		}
		if (d->n >= SG_MAX_EXAMPLES) {
			rc = sg_error_setloc(err, SG_ELIMIT, path, (unsigned)r.lineno, 0,
					     "more than %u examples", SG_MAX_EXAMPLES);
			goto cleanup;
		}
		if (d->n == d->cap) {
			size_t nc = d->cap ? 2 * d->cap : 256;
			char **t = sg_realloc(d->texts, nc * sizeof(*t));
			if (!t) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory reading '%s'", path);
				goto cleanup;
			}
			d->texts = t;
			int *l = sg_realloc(d->labels, nc * sizeof(*l));
			if (!l) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory reading '%s'", path);
				goto cleanup;
			}
			d->labels = l;
			d->cap = nc;
		}
		int li = intern(d, ls);
		if (li < 0) {
			rc = sg_error_setloc(err, -li, path, (unsigned)r.lineno, 0, "too many labels");
			goto cleanup;
		}
		if (!(d->texts[d->n] = sg_strdup(text))) {
			rc = sg_error_set(err, SG_ENOMEM, "out of memory reading '%s'", path);
			goto cleanup;
		}
		d->labels[d->n++] = li;
		json_decref(obj);
		obj = NULL;
	}
	rc = 0;
cleanup:
	json_decref(obj);
	sg_lines_release(&r);
	fclose(fp);
	return rc;
}

/* ---- training ------------------------------------------------------------ */

void sg_train_options_init(struct sg_train_options *o)
{
	struct sg_feature_params fp = SG_FEATURE_PARAMS_INIT;
	memset(o, 0, sizeof(*o));
	o->task = "intent";
	o->feat = fp;
	o->C = 0;
}

static void quiet(const char *s)
{
	(void)s;
}

static int cmp_feat(const void *a, const void *b)
{
	uint32_t x = ((const struct sg_feat *)a)->bucket, y = ((const struct sg_feat *)b)->bucket;
	return x < y ? -1 : x > y;
}

/* Negative log-likelihood of the true labels at temperature t. */
static double nll(const double *dec, const double *kw, const int *gold, size_t n, size_t k,
		  double t, int background, double bg, double *probs)
{
	double s = 0;
	for (size_t i = 0; i < n; i++) {
		sg_classifier_calibrate(dec + i * k, k, t, background, bg, kw[i], probs);
		double p = gold[i] >= 0 ? probs[gold[i]] : 1e-12;
		s -= log(p > 1e-12 ? p : 1e-12);
	}
	return s;
}

/* Golden-section search of log T in [log 0.02, log 50]. */
static double fit_temperature(const double *dec, const double *kw, const int *gold, size_t n, size_t k,
			      int background, double bg, double *probs, double *best)
{
	double a = log(0.02), b = log(50.0), g = (sqrt(5.0) - 1) / 2;
	double x1 = b - g * (b - a), x2 = a + g * (b - a);
	double f1 = nll(dec, kw, gold, n, k, exp(x1), background, bg, probs);
	double f2 = nll(dec, kw, gold, n, k, exp(x2), background, bg, probs);
	for (int it = 0; it < 60; it++) {
		if (f1 < f2) {
			b = x2; x2 = x1; f2 = f1;
			x1 = b - g * (b - a);
			f1 = nll(dec, kw, gold, n, k, exp(x1), background, bg, probs);
		} else {
			a = x1; x1 = x2; f1 = f2;
			x2 = a + g * (b - a);
			f2 = nll(dec, kw, gold, n, k, exp(x2), background, bg, probs);
		}
	}
	*best = f1 < f2 ? f1 : f2;
	return exp((a + b) / 2);
}

/* Maps dataset label i to the model's label index, or -1. */
static int *map_labels(const struct sg_classifier *c, const struct sg_dataset *d)
{
	int *m = sg_malloc((d->nlabels ? d->nlabels : 1) * sizeof(*m));
	if (!m)
		return NULL;
	for (size_t i = 0; i < d->nlabels; i++)
		m[i] = sg_classifier_label_index(c, d->label_names[i]);
	return m;
}

/* Decision values of every example of d (n * nlabels) and gold indexes. */
static int decide_all(const struct sg_classifier *c, const struct sg_dataset *d,
		      double **dec_out, double **kw_out, int **gold_out, struct sg_error *err)
{
	struct sg_classify_scratch *s = NULL;
	size_t k = c->nlabels;
	double *dec = sg_malloc((d->n ? d->n : 1) * k * sizeof(*dec));
	int *gold = sg_malloc((d->n ? d->n : 1) * sizeof(*gold));
	double *kw = sg_malloc((d->n ? d->n : 1) * sizeof(*kw));
	int *lm = map_labels(c, d);
	int rc = 0;
	if (!dec || !gold || !kw || !lm) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory evaluating");
		goto cleanup;
	}
	if ((rc = sg_classify_scratch_new(&s, err)) < 0)
		goto cleanup;
	if (sg_classify_scratch_reserve(s, k) < 0) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory evaluating");
		goto cleanup;
	}
	for (size_t i = 0; i < d->n; i++) {
		const char *t = d->texts[i];
		if ((rc = sg_features_extract(s, &c->feat, t, strlen(t), err)) < 0)
			goto cleanup;
		kw[i] = sg_classifier_decide(c, s);
		memcpy(dec + i * k, s->dec, k * sizeof(*dec));
		gold[i] = lm[d->labels[i]];
	}
	*dec_out = dec;
	*gold_out = gold;
	*kw_out = kw;
	dec = NULL;
	gold = NULL;
	kw = NULL;
cleanup:
	sg_classify_scratch_free(s);
	sg_free(kw);
	sg_free(dec);
	sg_free(gold);
	sg_free(lm);
	return rc;
}

int sg_classifier_train(struct sg_classifier **out, const struct sg_dataset *trn,
			const struct sg_dataset *dev, const struct sg_train_options *o,
			struct sg_error *err)
{
	struct sg_classify_scratch *s = NULL;
	struct sg_classifier *c = NULL;
	struct feature_node **x = NULL;
	double *y = NULL, *dec = NULL, *probs = NULL, *kw = NULL;
	int *gold = NULL;
	uint8_t *seen = NULL;
	struct model *m = NULL;
	int rc;
	*out = NULL;
	if ((rc = sg_feature_params_check(&o->feat, err)) < 0)
		return rc;
	if (trn->nlabels < 2)
		return sg_error_set(err, SG_EINVALID, "training needs at least two labels, got %zu",
				    trn->nlabels);
	size_t n = trn->n, k = trn->nlabels, nb = (size_t)1 << o->feat.hash_bits;
	unsigned long total = (unsigned long)n + 2;

	c = sg_calloc(1, sizeof(*c));
	x = sg_calloc(n, sizeof(*x));
	y = sg_malloc(n * sizeof(*y));
	seen = sg_calloc(nb, 1);
	if (!c || !x || !y || !seen)
		goto nomem;
	c->feat = o->feat;
	c->nlabels = k;
	c->temperature = 1;
	c->background = k > 2;
	if (!(c->task = sg_strdup(o->task && *o->task ? o->task : "intent")) ||
	    !(c->labels = sg_calloc(k, sizeof(*c->labels))))
		goto nomem;
	for (size_t j = 0; j < k; j++) {
		if (!(c->labels[j] = sg_strdup(trn->label_names[j])))
			goto nomem;
	}
	if ((rc = sg_classify_scratch_new(&s, err)) < 0)
		goto cleanup;

	/* 1. features; remember which buckets occur */
	for (size_t i = 0; i < n; i++) {
		const char *t = trn->texts[i];
		if ((rc = sg_features_extract(s, &c->feat, t, strlen(t), err)) < 0) {
			sg_error_setloc(err, -rc, "train", (unsigned)i + 1, 0, "example %zu", i + 1);
			goto cleanup;
		}
		qsort(s->fv, s->nfv, sizeof(*s->fv), cmp_feat);
		x[i] = sg_malloc((s->nfv + 2) * sizeof(**x));
		if (!x[i])
			goto nomem;
		for (size_t f = 0; f < s->nfv; f++) {
			x[i][f].index = (int)s->fv[f].bucket; /* remapped below */
			x[i][f].value = s->fv[f].value;
			seen[s->fv[f].bucket] = 1;
		}
		x[i][s->nfv].index = -2; /* bias slot, set below */
		x[i][s->nfv + 1].index = -1;
		y[i] = trn->labels[i];
		if (o->progress && (i % 256 == 0))
			o->progress(o->progress_arg, (unsigned long)i, total);
	}
	/* 2. compact the seen buckets into rows, in bucket order */
	if (!(c->map = sg_calloc(nb, sizeof(*c->map))))
		goto nomem;
	uint32_t rows = 0;
	for (size_t b = 0; b < nb; b++)
		rows += seen[b];
	c->nrows = rows;
	if (!(c->buckets = sg_malloc((rows ? rows : 1) * sizeof(*c->buckets))))
		goto nomem;
	rows = 0;
	for (size_t b = 0; b < nb; b++) {
		if (seen[b]) {
			c->buckets[rows] = (uint32_t)b;
			c->map[b] = ++rows;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct feature_node *f = x[i];
		for (; f->index >= 0; f++)
			f->index = (int)c->map[f->index];
		f->index = (int)rows + 1;
		f->value = 1.0;
	}

	/* 3. liblinear */
	struct problem prob = {.l = (int)n, .n = (int)rows + 1, .y = y, .x = x, .bias = 1.0};
	struct parameter par;
	memset(&par, 0, sizeof(par));
	par.solver_type = L2R_LR;
	par.C = o->C > 0 ? o->C : 10.0;
	par.eps = 0.01;
	const char *why = check_parameter(&prob, &par);
	if (why) {
		rc = sg_error_set(err, SG_EINVALID, "liblinear: %s", why);
		goto cleanup;
	}
	set_print_string_function(quiet);
	if (o->progress)
		o->progress(o->progress_arg, (unsigned long)n, total);
	if (!(m = train(&prob, &par)))
		goto nomem;
	int nr = get_nr_class(m);
	int *lab = sg_malloc((size_t)nr * sizeof(*lab));
	if (!lab)
		goto nomem;
	get_labels(m, lab);
	if (!(c->w = sg_calloc((rows ? (size_t)rows * k : 1), sizeof(*c->w))) ||
	    !(c->bias = sg_calloc(k, sizeof(*c->bias)))) {
		sg_free(lab);
		goto nomem;
	}
	for (int j = 0; j < nr; j++) {
		size_t col = (size_t)lab[j];
		for (uint32_t r = 0; r < rows; r++)
			c->w[(size_t)r * k + col] = (float)get_decfun_coef(m, (int)r + 1, j);
		c->bias[col] = (float)get_decfun_bias(m, j);
	}
	sg_free(lab);

	/* 4. temperature on dev (or train) */
	const struct sg_dataset *cal = dev && dev->n ? dev : trn;
	if ((rc = decide_all(c, cal, &dec, &kw, &gold, err)) < 0)
		goto cleanup;
	if (!(probs = sg_malloc(k * sizeof(*probs))))
		goto nomem;
	/* T for each out-of-scope logit on a grid; keep the best fit. The
	 * grid stops at BG_MIN so that text with no known feature (all
	 * decision values near the class biases) still loses to the slot. */
	double bestf = HUGE_VAL;
	for (double bg = c->background ? 0 : BG_MIN; bg >= BG_MIN - 1e-9; bg -= 0.5) {
		double f, t = fit_temperature(dec, kw, gold, cal->n, k, c->background, bg, probs, &f);
		if (f < bestf) {
			bestf = f;
			c->temperature = t;
			c->bg_logit = bg;
		}
	}
	if (!c->background)
		c->bg_logit = 0;
	if (o->progress)
		o->progress(o->progress_arg, total, total);
	*out = c;
	c = NULL;
	rc = 0;
	goto cleanup;
nomem:
	rc = sg_error_set(err, SG_ENOMEM, "out of memory training");
cleanup:
	if (m)
		free_and_destroy_model(&m);
	for (size_t i = 0; x && i < n; i++)
		sg_free(x[i]);
	sg_free(x);
	sg_free(y);
	sg_free(seen);
	sg_free(dec);
	sg_free(kw);
	sg_free(gold);
	sg_free(probs);
	sg_classify_scratch_free(s);
	sg_classifier_free(c);
	return rc;
}

/* ---- evaluation ------------------------------------------------------------ */

struct scored {
	double conf;
	int ok;
};

static int cmp_scored(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->conf, y = ((const struct scored *)b)->conf;
	return x > y ? -1 : x < y;
}

void sg_eval_release(struct sg_eval *e)
{
	sg_free(e->precision);
	sg_free(e->recall);
	sg_free(e->support);
	memset(e, 0, sizeof(*e));
}

int sg_classifier_eval(struct sg_eval *out, const struct sg_classifier *c,
		       const struct sg_dataset *d, struct sg_error *err)
{
	double *dec = NULL, *probs = NULL, *kw = NULL;
	int *gold = NULL;
	size_t *tp = NULL, *pred = NULL;
	struct scored *sc = NULL;
	size_t k = c->nlabels, n = d->n;
	int rc;
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return sg_error_set(err, SG_EINVALID, "evaluation set is empty");
	if ((rc = decide_all(c, d, &dec, &kw, &gold, err)) < 0)
		return rc;
	probs = sg_malloc(k * sizeof(*probs));
	tp = sg_calloc(k, sizeof(*tp));
	pred = sg_calloc(k, sizeof(*pred));
	sc = sg_malloc(n * sizeof(*sc));
	out->precision = sg_calloc(k, sizeof(double));
	out->recall = sg_calloc(k, sizeof(double));
	out->support = sg_calloc(k, sizeof(size_t));
	if (!probs || !tp || !pred || !sc || !out->precision || !out->recall || !out->support) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory evaluating");
		goto cleanup;
	}
	out->n = n;
	out->nlabels = k;
	enum { BINS = 15 };
	double bconf[BINS] = {0}, bacc[BINS] = {0};
	size_t bn[BINS] = {0};
	for (size_t i = 0; i < n; i++) {
		int top = sg_classifier_calibrate(dec + i * k, k, c->temperature, c->background, c->bg_logit, kw[i], probs);
		int ok = top == gold[i];
		sc[i].conf = probs[top];
		sc[i].ok = ok;
		out->correct += (size_t)ok;
		pred[top]++;
		if (gold[i] >= 0)
			out->support[gold[i]]++;
		if (ok)
			tp[top]++;
		int b = (int)(probs[top] * BINS);
		if (b >= BINS)
			b = BINS - 1;
		bconf[b] += probs[top];
		bacc[b] += ok;
		bn[b]++;
	}
	out->accuracy = (double)out->correct / (double)n;
	for (int b = 0; b < BINS; b++) {
		if (bn[b])
			out->ece += fabs(bacc[b] - bconf[b]) / (double)n;
	}
	double f1sum = 0;
	size_t f1n = 0;
	for (size_t j = 0; j < k; j++) {
		out->precision[j] = pred[j] ? (double)tp[j] / (double)pred[j] : 0;
		out->recall[j] = out->support[j] ? (double)tp[j] / (double)out->support[j] : 0;
		if (!out->support[j] && !pred[j])
			continue; /* label absent from this set */
		double p = out->precision[j], r = out->recall[j];
		f1sum += p + r > 0 ? 2 * p * r / (p + r) : 0;
		f1n++;
	}
	out->macro_f1 = f1n ? f1sum / (double)f1n : 0;
	/* coverage at 99 % precision: the longest prefix by confidence, cut
	 * only between distinct confidences, whose precision is >= 0.99 */
	qsort(sc, n, sizeof(*sc), cmp_scored);
	size_t okc = 0;
	out->threshold99 = 1.0;
	for (size_t i = 0; i < n; i++) {
		okc += (size_t)sc[i].ok;
		if (i + 1 < n && sc[i + 1].conf == sc[i].conf)
			continue;
		if ((double)okc >= 0.99 * (double)(i + 1)) {
			out->coverage99 = (double)(i + 1) / (double)n;
			out->threshold99 = sc[i].conf;
		}
	}
	rc = 0;
cleanup:
	if (rc < 0)
		sg_eval_release(out);
	sg_free(dec);
	sg_free(kw);
	sg_free(gold);
	sg_free(probs);
	sg_free(tp);
	sg_free(pred);
	sg_free(sc);
	return rc;
}
