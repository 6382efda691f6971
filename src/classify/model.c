/*
 * model.c - hashed n-gram features, prediction with a loaded linear model,
 * and the model file: a text header, a binary body and a SHA-256 trailer
 * (docs/classifier.md describes the format byte by byte).
 */
#include "classify/classify_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/banned.h"

/* ---- features ------------------------------------------------------- */

#define FNV_PRIME 16777619u

static inline uint32_t fmix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *q = sg_realloc(*p, n * elem);
	if (!q)
		return -SG_ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

int sg_feature_params_check(const struct sg_feature_params *p, struct sg_error *err)
{
	if (p->hash_bits < 16 || p->hash_bits > 24)
		return sg_error_set(err, SG_EINVALID, "hash_bits %u: expected 16..24", p->hash_bits);
	if (p->word_ngrams < 1 || p->word_ngrams > 2)
		return sg_error_set(err, SG_EINVALID, "word_ngrams %u: expected 1 or 2", p->word_ngrams);
	if (p->char_min > p->char_max || p->char_max > 8 || (p->char_min == 0 && p->char_max))
		return sg_error_set(err, SG_EINVALID, "char n-grams %u..%u: expected 1 <= min <= max <= 8, or 0..0",
				    p->char_min, p->char_max);
	return 0;
}

/* Raw features (hashes before merging), in emission order. At most
 * SG_MAX_FEATURES are kept: the first ones, whichever path made them. */
struct raw {
	uint32_t *h;
	size_t n, lim;
};

static inline void emit(struct raw *r, uint32_t h)
{
	if (r->n < r->lim)
		r->h[r->n++] = h;
}

/* The character n-grams of one word, padded as "<" word ">" in pb[0..plen). */
static inline void char_ngrams(struct raw *r, const struct sg_feature_params *p,
			       const unsigned char *pb, size_t plen)
{
	uint32_t h0 = p->seed ^ 0x7f4a7c15u;
	if (p->char_min == 3 && p->char_max == 4 && r->n + 2 * plen <= r->lim) {
		/* the injection model's 3-4-grams, unrolled: each 4-gram
		 * extends the 3-gram at the same start */
		uint32_t *o = r->h + r->n;
		size_t a = 0;
		for (; a + 4 <= plen; a++) {
			uint32_t h = (h0 ^ pb[a]) * FNV_PRIME;
			h = (h ^ pb[a + 1]) * FNV_PRIME;
			h = (h ^ pb[a + 2]) * FNV_PRIME;
			*o++ = fmix(h + 2u);
			h = (h ^ pb[a + 3]) * FNV_PRIME;
			/* written always (the room is there), kept unless it
			 * is the whole padded word: no branch */
			*o = fmix(h + 3u);
			o += a || plen != 4;
		}
		/* the last 3-gram, unless it is the whole padded word */
		if (plen != 3) {
			uint32_t h = (h0 ^ pb[a]) * FNV_PRIME;
			h = (h ^ pb[a + 1]) * FNV_PRIME;
			h = (h ^ pb[a + 2]) * FNV_PRIME;
			*o++ = fmix(h + 2u);
		}
		r->n = (size_t)(o - r->h);
		return;
	}
	size_t amax = plen >= p->char_min ? plen - p->char_min + 1 : 0;
	for (size_t a = 0; a < amax; a++) {
		uint32_t h = h0;
		size_t jend = a + p->char_max < plen ? a + p->char_max : plen;
		for (size_t j = a; j < jend; j++) {
			h = (h ^ pb[j]) * FNV_PRIME;
			if (j - a + 1 >= p->char_min && !(a == 0 && j == plen - 1))
				emit(r, fmix(h + (uint32_t)(j - a)));
		}
	}
}

/* One word's features before its character n-grams: the word and the word
 * bigram ending in it; hw is the word's hash, prev the previous one's. */
static inline void word_features(struct sg_classify_scratch *s, struct raw *r,
				 const struct sg_feature_params *p, uint32_t hw,
				 size_t i, uint32_t prev, int digit)
{
	emit(r, fmix(hw));
	/* the known-word share counts vocabulary only: order numbers,
	 * amounts and dates are new in every ticket, not out of scope */
	if (!digit)
		s->wb[s->nwb++] = fmix(hw) & ((1u << p->hash_bits) - 1);
	if (p->word_ngrams >= 2)
		emit(r, i ? fmix(prev * 31u + hw + 0x27d4eb2fu) : fmix(hw ^ 0x165667b1u)); /* "<s> w" */
}

/* An ASCII byte as the tokenizer sees it: a word byte (letter, digit, '_')
 * case-folded, or 0 for a separator. */
static inline unsigned char ascii_word(unsigned char c)
{
	unsigned char l = c | 0x20;
	if ((unsigned)(l - 'a') < 26u)
		return l;
	if ((unsigned)(c - '0') < 10u || c == '_')
		return c;
	return 0;
}

/* 1 when s[0..n) is all ASCII. */
static int all_ascii(const char *s, size_t n)
{
	uint64_t any = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		any |= w;
	}
	for (; i < n; i++)
		any |= (unsigned char)s[i];
	return !(any & 0x8080808080808080ULL);
}

/* The character at t[i] of valid UTF-8 past ASCII: returns its length and
 * sets *word when sg_text_tokens counts it as a word character (letters,
 * digits, marks). */
static size_t utf8_word(const unsigned char *t, size_t len, size_t i, int *word)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n = utf8proc_iterate(t + i, (utf8proc_ssize_t)(len - i), &cp);
	if (n <= 0) { /* cannot happen after validation: one non-word byte */
		*word = 0;
		return 1;
	}
	utf8proc_category_t c = utf8proc_category(cp);
	*word = c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO;
	return (size_t)n;
}

/* Length of the character at t[i], and whether it is a word character. */
static inline size_t char_at(const unsigned char *t, size_t len, size_t i, int *word)
{
	if (t[i] < 0x80) {
		*word = ascii_word(t[i]) != 0;
		return 1;
	}
	return utf8_word(t, len, i, word);
}

/* Raw features in one pass over case-folded NFKC text, or over ASCII text
 * as it came (there NFKC changes nothing and case folding is ASCII lower
 * case, done here): words are cut as sg_text_tokens cuts them (at most
 * SG_MAX_TOKENS), folded and hashed together. Per word, in order: the
 * word (FNV-1a of its bytes, mixed), the word bigram ending in it (with
 * word_ngrams 2), its character n-grams over "<" word ">"; then the bigram
 * "w </s>". classify_test.c keeps the two-pass definition (normalize, cut,
 * hash) and checks both give the same hashes. */
static int raw_fast(struct sg_classify_scratch *s, struct raw *r,
		    const struct sg_feature_params *p, const char *text, size_t len,
		    struct sg_error *err)
{
	const unsigned char *t = (const unsigned char *)text;
	/* at most (len + 1) / 2 words: of the tokenizer's limits (len / 2 + 2,
	 * SG_MAX_TOKENS) only SG_MAX_TOKENS can cut */
	size_t maxtok = (len + 1) / 2;
	if (maxtok > SG_MAX_TOKENS)
		maxtok = SG_MAX_TOKENS;
	size_t span = p->char_max ? p->char_max - p->char_min + 1 : 0;
	size_t need = 2 * maxtok + 2 + (len + 2 * maxtok) * span;
	if (need > SG_MAX_FEATURES)
		need = SG_MAX_FEATURES;
	if (grow((void **)&s->raw, &s->rawcap, need, sizeof(*s->raw)) < 0 ||
	    grow((void **)&s->wb, &s->wbcap, maxtok + 1, sizeof(*s->wb)) < 0 ||
	    grow((void **)&s->pad, &s->padcap, len + 2, 1) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory extracting features");
	r->h = s->raw;
	r->lim = need;

	unsigned char *pb = s->pad;
	uint32_t prev = 0;
	size_t ntok = 0, i = 0;
	pb[0] = '<';
	while (i < len) {
		int word;
		size_t k = char_at(t, len, i, &word);
		if (!word) {
			i += k;
			continue;
		}
		if (ntok == maxtok)
			break;
		size_t wl = 0;
		int digit = 0;
		uint32_t hw = p->seed ^ 0x9e3779b9u;
		for (;;) {
			if (k == 1) {
				unsigned char c = ascii_word(t[i]);
				pb[++wl] = c;
				hw = (hw ^ c) * FNV_PRIME;
				digit |= (unsigned)(c - '0') < 10u;
			} else {
				for (size_t j = 0; j < k; j++) {
					pb[++wl] = t[i + j];
					hw = (hw ^ t[i + j]) * FNV_PRIME;
				}
			}
			i += k;
			if (i == len)
				break;
			k = char_at(t, len, i, &word);
			if (word)
				continue;
			/* an apostrophe between two word characters ("don't") */
			if (t[i] == '\'' && i + 1 < len) {
				k = char_at(t, len, i + 1, &word);
				if (word) {
					pb[++wl] = '\'';
					hw = (hw ^ '\'') * FNV_PRIME;
					i++;
					continue;
				}
			}
			break;
		}
		word_features(s, r, p, hw, ntok, prev, digit);
		prev = hw;
		ntok++;
		if (!p->char_max)
			continue;
		pb[wl + 1] = '>';
		char_ngrams(r, p, pb, wl + 2);
	}
	if (p->word_ngrams >= 2 && ntok)
		emit(r, fmix(prev * 31u + 0x61c88647u)); /* "w </s>" */
	return 0;
}

#define COUNT_MASK ((1u << SG_SLOT_COUNT_BITS) - 1)
#define AHEAD 8 /* raw features between a prefetch and its use */

/* Sublinear count 1 + log c; counts below SG_SUBLIN_TABLE (nearly all)
 * come from the table without a branch on the count (sublin[1] is 1 + logf(1),
 * exactly 1). */
static inline float sublinear(const struct sg_classify_scratch *s, uint32_t c)
{
	return c < SG_SUBLIN_TABLE ? s->sublin[c] : 1.0f + logf((float)c);
}

/* Merges the raw features with one 16-bit counter per bucket: no probing,
 * the next counters prefetched, no branch on whether a bucket is new; the
 * counters read back are zeroed again, so the table is clear between texts.
 * Returns the number of distinct buckets; fv[].value gets their sublinear
 * counts, *sumsq the sum of their squares (in fv order). */
static uint32_t merge_direct(struct sg_classify_scratch *s, size_t nraw, uint32_t mask,
			     const float *diff, double *sumsq)
{
	const uint32_t *raw = s->raw;
	uint16_t *dt = s->direct;
	struct sg_feat *fv = s->fv;
	uint32_t nfv = 0;
	for (size_t i = 0; i < nraw; i++) {
		uint32_t b = raw[i] & mask;
		if (i + AHEAD < nraw)
			__builtin_prefetch(&dt[raw[i + AHEAD] & mask]);
		uint16_t c = dt[b];
		dt[b] = (uint16_t)(c + 1);
		fv[nfv].bucket = b; /* kept only when new */
		nfv += c == 0;
		if (diff)
			__builtin_prefetch(diff + b);
	}
	double norm = 0;
	for (size_t i = 0; i < nfv; i++) {
		float v = sublinear(s, dt[fv[i].bucket]);
		dt[fv[i].bucket] = 0;
		fv[i].value = v;
		norm += (double)v * v;
	}
	*sumsq = norm;
	return nfv;
}

/* The same with open addressing, for bucket spaces too large for a counter
 * each; slot is the probe's start: the format's (from the raw hash) or one
 * from the bucket. */
static uint32_t merge_probe(struct sg_classify_scratch *s, size_t nraw, uint32_t mask,
			    size_t tcap, int format, const float *diff, double *sumsq)
{
	const uint32_t live = s->stamp << SG_SLOT_COUNT_BITS;
	const uint32_t *raw = s->raw;
	struct sg_slot *table = s->table;
	struct sg_feat *fv = s->fv;
	uint32_t *fslot = s->fslot, nfv = 0;
	for (size_t i = 0; i < nraw; i++) {
		uint32_t b = raw[i] & mask;
		size_t slot = ((format ? raw[i] : b) * 2654435761u) & (tcap - 1);
		for (;;) {
			struct sg_slot *e = &table[slot];
			if ((e->sc & ~COUNT_MASK) != live) {
				e->bucket = b;
				e->sc = live | 1;
				fv[nfv].bucket = b;
				fslot[nfv++] = (uint32_t)slot;
				if (diff)
					__builtin_prefetch(diff + b);
				break;
			}
			if (e->bucket == b) {
				e->sc++;
				break;
			}
			slot = (slot + 1) & (tcap - 1);
		}
	}
	double norm = 0;
	for (size_t i = 0; i < nfv; i++) {
		float v = sublinear(s, table[fslot[i]].sc & COUNT_MASK);
		fv[i].value = v;
		norm += (double)v * v;
	}
	*sumsq = norm;
	return nfv;
}

/* Merges equal buckets of the raw features into s->fv in order of first
 * appearance, then applies sublinear counts (1 + log c) and the L2 norm.
 * When diff is set, also adds the dot product of the result with diff to
 * *dot, in s->fv order (diff's entries are prefetched while merging).
 *
 * The feature format defines the merge as linear probing in a table of
 * 2 * nraw slots (a power of two, at least 64) from a slot taken from the
 * raw hash; two raw hashes of one bucket can then start at different slots
 * and stay apart, which trained models depend on. That needs a table larger
 * than the bucket space (2^hash_bits), so only texts with more than
 * 2^(hash_bits - 1) raw features take that way. Below it a raw hash's first
 * slot depends on its bucket alone, equal buckets always meet, and any exact
 * merge keeping first appearances in order gives the same features: a
 * counter per bucket up to SG_DIRECT_BITS (and 2^16 raw features), else
 * probing from the bucket in a sparser table whose slots are live only while
 * they carry the current text's stamp, so it is not cleared per text. */
static int merge(struct sg_classify_scratch *s, const struct sg_feature_params *p,
		 size_t nraw, const float *diff, double *dot, struct sg_error *err)
{
	const uint32_t mask = (1u << p->hash_bits) - 1;
	size_t tcap = 64;
	while (tcap < 2 * nraw)
		tcap *= 2;
	const int format = tcap > (size_t)mask + 1;
	const int direct = !format && p->hash_bits <= SG_DIRECT_BITS && nraw <= UINT16_MAX;
	if (!format) {
		while (tcap < 8 * nraw && tcap < ((size_t)1 << 18))
			tcap *= 2;
	}
	/* new tables are zeroed: all counters 0, stamp 0 never live */
	if (direct && !s->direct &&
	    !(s->direct = sg_calloc((size_t)1 << SG_DIRECT_BITS, sizeof(*s->direct))))
		return sg_error_set(err, SG_ENOMEM, "out of memory extracting features");
	if (!direct && tcap > s->tablecap) {
		if (grow((void **)&s->table, &s->tablecap, tcap, sizeof(*s->table)) < 0)
			return sg_error_set(err, SG_ENOMEM, "out of memory extracting features");
		memset(s->table, 0, s->tablecap * sizeof(*s->table));
	}
	if (grow((void **)&s->fv, &s->fvcap, nraw + 1, sizeof(*s->fv)) < 0 ||
	    grow((void **)&s->fslot, &s->fslotcap, nraw + 1, sizeof(*s->fslot)) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory extracting features");
	if (!direct && ++s->stamp >= 1u << (32 - SG_SLOT_COUNT_BITS)) {
		memset(s->table, 0, s->tablecap * sizeof(*s->table));
		s->stamp = 1;
	}
	struct sg_feat *fv = s->fv;
	double norm;
	uint32_t nfv = direct ? merge_direct(s, nraw, mask, diff, &norm)
			      : merge_probe(s, nraw, mask, tcap, format, diff, &norm);
	s->nfv = nfv;
	if (norm > 0) {
		float inv = (float)(1.0 / sqrt(norm));
		if (diff) {
			double d = *dot;
			for (size_t i = 0; i < nfv; i++) {
				float v = fv[i].value * inv;
				fv[i].value = v;
				d += v * diff[fv[i].bucket];
			}
			*dot = d;
		} else {
			for (size_t i = 0; i < nfv; i++)
				fv[i].value *= inv;
		}
	}
	return 0;
}

/* Features of text into s->fv (see merge for diff and dot). */
static int extract(struct sg_classify_scratch *s, const struct sg_feature_params *p,
		   const char *text, size_t len, const float *diff, double *dot,
		   struct sg_error *err)
{
	struct raw r = {NULL, 0, 0};
	s->nwb = 0;
	int rc;
	/* texts over the size limit go to sg_text_normalize, which refuses them */
	s->folded = 0;
	if (len <= SG_MAX_TEXT_BYTES && all_ascii(text, len)) {
		rc = raw_fast(s, &r, p, text, len, err);
	} else if ((rc = sg_text_normalize(&s->norm, text, len, SG_NORM_CASEFOLD, err)) == 0) {
		s->folded = 1;
		rc = raw_fast(s, &r, p, s->norm.text, s->norm.len, err);
	}
	if (rc < 0)
		return rc;
	s->nraw = r.n;
	return merge(s, p, r.n, diff, dot, err);
}

int sg_features_extract(struct sg_classify_scratch *s,
			const struct sg_feature_params *p, const char *text,
			size_t len, struct sg_error *err)
{
	return extract(s, p, text, len, NULL, NULL, err);
}

/* ---- scratch ---------------------------------------------------------- */

int sg_classify_scratch_new(struct sg_classify_scratch **out, struct sg_error *err)
{
	*out = sg_calloc(1, sizeof(**out));
	if (!*out)
		return sg_error_set(err, SG_ENOMEM, "out of memory allocating classifier scratch");
	sg_text_norm_init(&(*out)->norm);
	for (size_t c = 1; c < SG_SUBLIN_TABLE; c++)
		(*out)->sublin[c] = 1.0f + logf((float)c);
	return 0;
}

void sg_classify_scratch_free(struct sg_classify_scratch *s)
{
	if (!s)
		return;
	sg_classify_langid_release(s);
	sg_text_norm_release(&s->norm);
	sg_free(s->tok);
	sg_free(s->raw);
	sg_free(s->fv);
	sg_free(s->wb);
	sg_free(s->table);
	sg_free(s->fslot);
	sg_free(s->direct);
	sg_free(s->pad);
	sg_free(s->dec);
	sg_free(s->probs);
	sg_free(s);
}

int sg_classify_scratch_reserve(struct sg_classify_scratch *s, size_t k)
{
	if (k <= s->deccap)
		return 0;
	double *d = sg_realloc(s->dec, k * sizeof(*d));
	if (!d)
		return -SG_ENOMEM;
	s->dec = d;
	double *p = sg_realloc(s->probs, k * sizeof(*p));
	if (!p)
		return -SG_ENOMEM;
	s->probs = p;
	s->deccap = k;
	return 0;
}

/* ---- prediction --------------------------------------------------------- */

double sg_classifier_decide(const struct sg_classifier *c, struct sg_classify_scratch *s)
{
	size_t k = c->nlabels;
	for (size_t j = 0; j < k; j++)
		s->dec[j] = c->bias[j];
	for (size_t i = 0; i < s->nfv; i++) {
		uint32_t r = c->map[s->fv[i].bucket];
		if (!r)
			continue;
		float v = s->fv[i].value;
		const float *w = c->w + (size_t)(r - 1) * k;
		for (size_t j = 0; j < k; j++)
			s->dec[j] += v * w[j];
	}
	if (!s->nwb)
		return 1.0;
	size_t known = 0;
	for (size_t i = 0; i < s->nwb; i++)
		known += c->map[s->wb[i]] != 0;
	return (double)known / (double)s->nwb;
}

int sg_classifier_calibrate(const double *dec, size_t k, double t, int background,
			    double bg, double known, double *probs)
{
	int top = 0;
	double m = background ? bg / t : -HUGE_VAL;
	for (size_t j = 0; j < k; j++) {
		if (dec[j] > dec[top])
			top = (int)j;
	}
	if (dec[top] / t > m)
		m = dec[top] / t;
	double sum = background ? exp(bg / t - m) : 0;
	for (size_t j = 0; j < k; j++) {
		probs[j] = exp(dec[j] / t - m);
		sum += probs[j];
	}
	/* Out-of-scope penalty: words never seen in training move mass to
	 * the out-of-scope slot (multi-class models only). */
	double keep = background ? known : 1.0;
	for (size_t j = 0; j < k; j++)
		probs[j] = probs[j] / sum * keep;
	return top;
}

int sg_classifier_predict(const struct sg_classifier *c,
			  struct sg_classify_scratch *s, const char *text,
			  size_t len, struct sg_prediction *out,
			  struct sg_error *err)
{
	memset(out, 0, sizeof(*out));
	if (sg_classify_scratch_reserve(s, c->nlabels) < 0)
		return sg_error_set(err, SG_ENOMEM, "out of memory predicting");
	int rc = sg_features_extract(s, &c->feat, text, len, err);
	if (rc < 0)
		return rc;
	out->known = sg_classifier_decide(c, s);
	out->label = sg_classifier_calibrate(s->dec, c->nlabels, c->temperature,
					     c->background, c->bg_logit, out->known, s->probs);
	out->confidence = s->probs[out->label];
	out->probs = s->probs;
	return 0;
}

int sg_classifier_prob(const struct sg_classifier *c, struct sg_classify_scratch *s,
		       const char *text, size_t len, size_t label, double *prob,
		       struct sg_error *err)
{
	*prob = 0;
	if (label >= c->nlabels)
		return sg_error_set(err, SG_EINVALID, "label %zu: the model has %zu labels",
				    label, c->nlabels);
	if (!c->diff) {
		struct sg_prediction p;
		int rc = sg_classifier_predict(c, s, text, len, &p, err);
		if (rc == 0)
			*prob = p.probs[label];
		return rc;
	}
	/* softmax of two logits d0/T, d1/T = logistic of (d0 - d1)/T */
	double d = (double)c->bias[0] - (double)c->bias[1];
	int rc = extract(s, &c->feat, text, len, c->diff, &d, err);
	if (rc < 0)
		return rc;
	double z = d / c->temperature;
	*prob = 1.0 / (1.0 + exp(label == 0 ? -z : z));
	return 0;
}

/* ---- accessors ------------------------------------------------------------ */

const char *sg_classifier_task(const struct sg_classifier *c) { return c->task; }
size_t sg_classifier_nlabels(const struct sg_classifier *c) { return c->nlabels; }

const char *sg_classifier_label(const struct sg_classifier *c, size_t i)
{
	return i < c->nlabels ? c->labels[i] : NULL;
}

int sg_classifier_label_index(const struct sg_classifier *c, const char *label)
{
	for (size_t i = 0; i < c->nlabels; i++) {
		if (strcmp(c->labels[i], label) == 0)
			return (int)i;
	}
	return -1;
}

void sg_classifier_free(struct sg_classifier *c)
{
	if (!c)
		return;
	sg_free(c->task);
	for (size_t i = 0; c->labels && i < c->nlabels; i++)
		sg_free(c->labels[i]);
	sg_free(c->labels);
	sg_free(c->buckets);
	sg_free(c->map);
	sg_free(c->w);
	sg_free(c->bias);
	sg_free(c->diff);
	sg_free(c);
}

/* ---- file format ---------------------------------------------------------- */

static void put_u32(struct sg_buf *b, uint32_t v)
{
	unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8),
			      (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
	sg_buf_add(b, x, 4);
}

static void put_f32(struct sg_buf *b, float f)
{
	uint32_t v;
	memcpy(&v, &f, 4);
	put_u32(b, v);
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float get_f32(const unsigned char *p)
{
	uint32_t v = get_u32(p);
	float f;
	memcpy(&f, &v, 4);
	return f;
}

#define TRAILER_LEN (7 + SG_SHA256_HEX - 1 + 1) /* "sha256 " hex "\n" */

int sg_classifier_save(const struct sg_classifier *c, const char *path,
		       struct sg_error *err)
{
	struct sg_buf b = SG_BUF_INIT;
	int rc = 0;
	FILE *fp = NULL;
	sg_buf_addf(&b, "%s\nformat %d\ntask %s\nhash_bits %u\nword_ngrams %u\n"
		    "char_ngrams %u %u\nseed %u\ntemperature %.17g\nbackground %d %.17g\nlabels %zu\n",
		    SG_MODEL_MAGIC, SG_MODEL_FORMAT, c->task, c->feat.hash_bits,
		    c->feat.word_ngrams, c->feat.char_min, c->feat.char_max,
		    (unsigned)c->feat.seed, c->temperature, c->background, c->bg_logit, c->nlabels);
	for (size_t i = 0; i < c->nlabels; i++)
		sg_buf_addf(&b, "%s\n", c->labels[i]);
	sg_buf_addf(&b, "rows %u\nbody\n", (unsigned)c->nrows);
	for (uint32_t r = 0; r < c->nrows; r++)
		put_u32(&b, c->buckets[r]);
	for (size_t i = 0; i < (size_t)c->nrows * c->nlabels; i++)
		put_f32(&b, c->w[i]);
	for (size_t j = 0; j < c->nlabels; j++)
		put_f32(&b, c->bias[j]);
	if (sg_buf_grow(&b, TRAILER_LEN + 1) < 0) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory writing model '%s'", path);
		goto cleanup;
	}
	char hex[SG_SHA256_HEX];
	sg_sha256_hex(b.data, b.len, hex);
	sg_buf_addf(&b, "sha256 %s\n", hex);

	fp = fopen(path, "wb");
	if (!fp) {
		rc = sg_error_set(err, SG_EIO, "unable to write model '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	if (fwrite(b.data, 1, b.len, fp) != b.len || fclose(fp) != 0) {
		fp = NULL;
		rc = sg_error_set(err, SG_EIO, "unable to write model '%s': %s", path, strerror(errno));
		goto cleanup;
	}
	fp = NULL;
cleanup:
	if (fp)
		fclose(fp);
	sg_buf_release(&b);
	return rc;
}

/* Reads one header line "key value" from [*p, end); NULL at a bad line. */
static char *next_line(char **p, char *end)
{
	char *s = *p;
	char *nl = memchr(s, '\n', (size_t)(end - s));
	if (!nl)
		return NULL;
	*nl = '\0';
	*p = nl + 1;
	return s;
}

static int parse_uint(const char *line, const char *key, unsigned long max, unsigned long *out)
{
	size_t kl = strlen(key);
	if (strncmp(line, key, kl) != 0 || line[kl] != ' ')
		return -1;
	char *e;
	errno = 0;
	unsigned long v = strtoul(line + kl + 1, &e, 10);
	if (errno || *e || e == line + kl + 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

#define BAD(...) do { rc = sg_error_set(err, SG_EMODEL, __VA_ARGS__); goto cleanup; } while (0)

int sg_classifier_load(struct sg_classifier **out, const char *path, struct sg_error *err)
{
	char *data = NULL;
	size_t size = 0;
	int rc;
	*out = NULL;
	if ((rc = sg_read_file(path, &data, &size, err)) < 0)
		return rc;
	rc = sg_classifier_parse(out, data, size, path, err);
	sg_free(data);
	return rc;
}

int sg_classifier_parse(struct sg_classifier **out, char *data, size_t size,
			const char *path, struct sg_error *err)
{
	struct sg_classifier *c = NULL;
	int rc;
	*out = NULL;
	if (size < strlen(SG_MODEL_MAGIC) + 1 || memcmp(data, SG_MODEL_MAGIC "\n", strlen(SG_MODEL_MAGIC) + 1) != 0)
		BAD("model '%s': not a sopgate classifier model (bad magic)", path);
	if (size < TRAILER_LEN || memcmp(data + size - TRAILER_LEN, "sha256 ", 7) != 0 ||
	    data[size - 1] != '\n')
		BAD("model '%s': truncated (no checksum trailer)", path);
	char hex[SG_SHA256_HEX];
	sg_sha256_hex(data, size - TRAILER_LEN, hex);
	if (memcmp(hex, data + size - TRAILER_LEN + 7, SG_SHA256_HEX - 1) != 0)
		BAD("model '%s': checksum mismatch (corrupt or truncated file)", path);

	char *p = data + strlen(SG_MODEL_MAGIC) + 1, *end = data + size - TRAILER_LEN, *line;
	unsigned long v, v2;
	c = sg_calloc(1, sizeof(*c));
	if (!c)
		BAD("model '%s': out of memory", path);
	if (!(line = next_line(&p, end)) || parse_uint(line, "format", 1000000, &v) < 0)
		BAD("model '%s': missing format version", path);
	if (v != SG_MODEL_FORMAT)
		BAD("model '%s': format version %lu not supported (this sopgate reads version %d)",
		    path, v, SG_MODEL_FORMAT);
	if (!(line = next_line(&p, end)) || strncmp(line, "task ", 5) != 0 || !line[5] ||
	    !(c->task = sg_strdup(line + 5)))
		BAD("model '%s': missing task", path);
	if (!(line = next_line(&p, end)) || parse_uint(line, "hash_bits", 64, &v) < 0)
		BAD("model '%s': missing hash_bits", path);
	c->feat.hash_bits = (unsigned)v;
	if (!(line = next_line(&p, end)) || parse_uint(line, "word_ngrams", 64, &v) < 0)
		BAD("model '%s': missing word_ngrams", path);
	c->feat.word_ngrams = (unsigned)v;
	if (!(line = next_line(&p, end)) || sscanf(line, "char_ngrams %lu %lu", &v, &v2) != 2 ||
	    v > 64 || v2 > 64)
		BAD("model '%s': missing char_ngrams", path);
	c->feat.char_min = (unsigned)v;
	c->feat.char_max = (unsigned)v2;
	if (!(line = next_line(&p, end)) || parse_uint(line, "seed", 0xffffffffu, &v) < 0)
		BAD("model '%s': missing seed", path);
	c->feat.seed = (uint32_t)v;
	struct sg_error perr = SG_ERROR_INIT;
	if (sg_feature_params_check(&c->feat, &perr) < 0)
		BAD("model '%s': feature parameters not supported: %s", path, perr.msg);
	char *e;
	if (!(line = next_line(&p, end)) || strncmp(line, "temperature ", 12) != 0)
		BAD("model '%s': missing temperature", path);
	c->temperature = strtod(line + 12, &e);
	if (*e || !isfinite(c->temperature) || c->temperature <= 0)
		BAD("model '%s': bad temperature '%s'", path, line + 12);
	int bgf = -1;
	if (!(line = next_line(&p, end)) || sscanf(line, "background %d %lf", &bgf, &c->bg_logit) != 2 ||
	    (bgf != 0 && bgf != 1) || !isfinite(c->bg_logit))
		BAD("model '%s': missing or bad background", path);
	c->background = bgf;
	if (!(line = next_line(&p, end)) || parse_uint(line, "labels", SG_MAX_LABELS, &v) < 0 || v < 2)
		BAD("model '%s': missing or bad label count", path);
	c->nlabels = v;
	if (!(c->labels = sg_calloc(c->nlabels, sizeof(*c->labels))))
		BAD("model '%s': out of memory", path);
	for (size_t i = 0; i < c->nlabels; i++) {
		if (!(line = next_line(&p, end)) || !*line || strlen(line) > SG_MAX_LABEL_BYTES)
			BAD("model '%s': label %zu missing or bad", path, i + 1);
		if (!(c->labels[i] = sg_strdup(line)))
			BAD("model '%s': out of memory", path);
	}
	if (!(line = next_line(&p, end)) || parse_uint(line, "rows", 1ul << 24, &v) < 0)
		BAD("model '%s': missing rows", path);
	c->nrows = (uint32_t)v;
	if (!(line = next_line(&p, end)) || strcmp(line, "body") != 0)
		BAD("model '%s': missing body", path);
	size_t k = c->nlabels;
	size_t want = 4 * ((size_t)c->nrows + (size_t)c->nrows * k + k);
	if ((size_t)(end - p) != want)
		BAD("model '%s': body is %zu bytes, header says %zu (truncated or mismatched)",
		    path, (size_t)(end - p), want);
	size_t nb = (size_t)1 << c->feat.hash_bits;
	c->buckets = sg_malloc((c->nrows ? c->nrows : 1) * sizeof(*c->buckets));
	c->map = sg_calloc(nb, sizeof(*c->map));
	c->w = sg_malloc((c->nrows ? (size_t)c->nrows * k : 1) * sizeof(*c->w));
	c->bias = sg_malloc(k * sizeof(*c->bias));
	if (!c->buckets || !c->map || !c->w || !c->bias)
		BAD("model '%s': out of memory", path);
	const unsigned char *u = (const unsigned char *)p;
	for (uint32_t r = 0; r < c->nrows; r++, u += 4) {
		uint32_t b = get_u32(u);
		if (b >= nb || (r && b <= c->buckets[r - 1]))
			BAD("model '%s': feature table out of order at row %u", path, (unsigned)r);
		c->buckets[r] = b;
		c->map[b] = r + 1;
	}
	for (size_t i = 0; i < (size_t)c->nrows * k; i++, u += 4) {
		c->w[i] = get_f32(u);
		if (!isfinite(c->w[i]))
			BAD("model '%s': weight %zu is not a finite number", path, i);
	}
	for (size_t j = 0; j < k; j++, u += 4) {
		c->bias[j] = get_f32(u);
		if (!isfinite(c->bias[j]))
			BAD("model '%s': bias %zu is not a finite number", path, j);
	}
	if (k == 2 && !c->background) {
		if (!(c->diff = sg_calloc(nb, sizeof(*c->diff))))
			BAD("model '%s': out of memory", path);
		for (uint32_t r = 0; r < c->nrows; r++)
			c->diff[c->buckets[r]] = c->w[2 * (size_t)r] - c->w[2 * (size_t)r + 1];
	}
	*out = c;
	c = NULL;
	rc = 0;
cleanup:
	sg_classifier_free(c);
	return rc;
}
