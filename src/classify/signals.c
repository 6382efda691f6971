/*
 * signals.c - the whole ticket classification: intent from the model, then
 * urgency, sentiment, frustration, churn risk and escalation likelihood
 * from lexicon cues (data/lexicons/signals_en.inc), shouting, exclamation,
 * repetition, customer tier, the helpdesk's priority and the conversation
 * length, and the language. docs/classifier.md gives every formula.
 */
#include "classify/classify_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/limits.h"
#include "core/banned.h"

enum kind { VALENCE, NEGATOR, INTENSIFIER, THREAT, CHURN, OUTAGE, URGENT,
	    SECURITY, HUMAN, REPEAT, SCOPE, IRREALIS, NKINDS };

struct entry {
	const char *w1, *w2;
	enum kind kind;
	int val;
};

static const struct entry lexicon[] = {
#define VAL(w, v) {w, NULL, VALENCE, v},
#define CUE(w, k) {w, NULL, k, 0},
#define PHRASE(a, b, k) {a, b, k, 0},
#include "../../data/lexicons/signals_en.inc"
#undef VAL
#undef CUE
#undef PHRASE
};
#define NLEX (sizeof(lexicon) / sizeof(lexicon[0]))
#define TABLE 2048 /* power of two, > 2 * NLEX */

static uint16_t table[TABLE]; /* entry index + 1 */
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static uint32_t word_hash(const char *s, size_t n)
{
	return (uint32_t)sg_fnv1a64(s, n, 0);
}

static void table_build(void)
{
	for (size_t i = 0; i < NLEX; i++) {
		uint32_t h = word_hash(lexicon[i].w1, strlen(lexicon[i].w1)) & (TABLE - 1);
		while (table[h])
			h = (h + 1) & (TABLE - 1);
		table[h] = (uint16_t)(i + 1);
	}
}

static int token_is(const char *t, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(t, w, n) == 0;
}

/* Cue counts and the sentiment valence of one text. */
struct cues {
	double valence;
	unsigned hits[NKINDS];
	unsigned words;
};

static void scan_tokens(const char *t, const struct sg_token *tok, size_t ntok, struct cues *c)
{
	unsigned neg_left = 0, irr_left = 0;
	double boost = 1.0;
	for (size_t i = 0; i < ntok; i++) {
		const char *w = t + tok[i].off;
		size_t n = tok[i].len;
		uint32_t h = word_hash(w, n) & (TABLE - 1);
		int negator = 0, intens = 0, irrealis = 0;
		double val = 0;
		for (; table[h]; h = (h + 1) & (TABLE - 1)) {
			const struct entry *e = &lexicon[table[h] - 1];
			if (!token_is(w, n, e->w1))
				continue;
			if (e->w2) {
				if (i + 1 < ntok && token_is(t + tok[i + 1].off, tok[i + 1].len, e->w2))
					c->hits[e->kind]++;
				continue;
			}
			if (e->kind == VALENCE)
				val = e->val;
			else if (e->kind == NEGATOR)
				negator = 1;
			else if (e->kind == INTENSIFIER)
				intens = 1;
			else if (e->kind == IRREALIS)
				irrealis = 1;
			else
				c->hits[e->kind]++;
		}
		if (val > 0 && irr_left)
			val = 0; /* "I need this fixed": wished for, not felt */
		if (val != 0) {
			val *= boost;
			if (neg_left)
				val *= -0.5; /* "not good" is mildly negative */
			c->valence += val;
		}
		if (negator) {
			neg_left = 3;
			c->hits[NEGATOR]++;
		} else if (neg_left) {
			neg_left--;
		}
		boost = intens ? 1.5 : 1.0;
		if (irrealis)
			irr_left = 3;
		else if (irr_left)
			irr_left--;
	}
	c->words = (unsigned)ntok;
}

/* Shouting: share of upper-case among ASCII letters (when >= 12 letters),
 * exclamation and question-mark runs, letters stretched ("sooo"). */
struct style {
	double caps;
	unsigned exclaim, runs, stretched;
};

static void scan_style(const char *s, size_t len, struct style *st)
{
	unsigned up = 0, letters = 0, same = 0;
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch >= 'A' && ch <= 'Z')
			up++, letters++;
		else if (ch >= 'a' && ch <= 'z')
			letters++;
		if (ch == '!')
			st->exclaim++;
		if ((ch == '!' || ch == '?') && i + 1 < len && (s[i + 1] == '!' || s[i + 1] == '?') &&
		    (i == 0 || (s[i - 1] != '!' && s[i - 1] != '?')))
			st->runs++;
		if (i && ch == (unsigned char)s[i - 1] && ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z')) {
			if (++same == 2)
				st->stretched++;
		} else {
			same = 0;
		}
	}
	st->caps = letters >= 12 ? (double)up / letters : 0;
}

static int parse_priority(const char *p)
{
	if (!p)
		return -1;
	if ((p[0] == 'P' || p[0] == 'p') && p[1] >= '0' && p[1] <= '3' && !p[2])
		return p[1] - '0';
	if (!strcmp(p, "urgent") || !strcmp(p, "critical"))
		return 0;
	if (!strcmp(p, "high"))
		return 1;
	if (!strcmp(p, "normal") || !strcmp(p, "medium"))
		return 2;
	if (!strcmp(p, "low"))
		return 3;
	return -1;
}

static double tier_weight(const char *tier)
{
	if (!tier)
		return 0;
	if (!strcmp(tier, "enterprise"))
		return 2;
	if (!strcmp(tier, "premium"))
		return 1;
	if (!strcmp(tier, "paid"))
		return 0.5;
	return 0;
}

static int clamp10(double x)
{
	long v = lround(x);
	return v < 0 ? 0 : v > 10 ? 10 : (int)v;
}

static double min1(double x) { return x < 1 ? x : 1; }

const char *sg_sentiment_name(enum sg_sentiment s)
{
	static const char *const names[] = {"negative", "neutral", "positive"};
	return (unsigned)s < 3 ? names[s] : "neutral";
}

const char *sg_urgency_name(int u)
{
	static const char *const names[] = {"P0", "P1", "P2", "P3"};
	return u >= 0 && u < 4 ? names[u] : "P3";
}

int sg_classify_ticket(struct sg_classification *out,
		       const struct sg_classifier *intent_model,
		       struct sg_classify_scratch *s,
		       const struct sg_classify_input *in, struct sg_error *err)
{
	int rc;
	memset(out, 0, sizeof(*out));
	out->intent = "unknown";
	snprintf(out->language, sizeof(out->language), "und");
	pthread_once(&table_once, table_build);
	const char *text = in->text ? in->text : "";
	size_t len = in->text ? in->len : 0;

	if (intent_model) {
		struct sg_prediction p;
		if ((rc = sg_classifier_predict(intent_model, s, text, len, &p, err)) < 0)
			return rc;
		out->intent = sg_classifier_label(intent_model, (size_t)p.label);
		out->intent_confidence = p.confidence;
	}
	/* the model's features leave the case-folded text in s->norm, except
	 * for ASCII texts, which they read as they are */
	if (!intent_model || !s->folded) {
		if ((rc = sg_text_normalize(&s->norm, text, len, SG_NORM_CASEFOLD, err)) < 0)
			return rc;
	}
	size_t maxtok = s->norm.len / 2 + 2;
	if (maxtok > SG_MAX_TOKENS)
		maxtok = SG_MAX_TOKENS;
	if (maxtok > s->tokcap) {
		struct sg_token *t = sg_realloc(s->tok, maxtok * sizeof(*t));
		if (!t)
			return sg_error_set(err, SG_ENOMEM, "out of memory classifying");
		s->tok = t;
		s->tokcap = maxtok;
	}
	size_t ntok = sg_text_tokens(s->norm.text, s->norm.len, s->tok, maxtok);
	struct cues c;
	struct style st;
	memset(&c, 0, sizeof(c));
	scan_tokens(s->norm.text, s->tok, ntok, &c);
	scan_style(text, len, &st);

	/* sentiment: compound score in -1..1 */
	double v = c.valence;
	int shouting = st.caps >= 0.6;
	if (v < 0 || c.hits[THREAT] || c.hits[OUTAGE]) {
		v -= shouting ? 1.5 : 0;
		v -= 0.5 * (st.runs < 4 ? st.runs : 4);
	}
	v -= 1.0 * c.hits[THREAT] + 1.5 * (c.hits[OUTAGE] ? 1 : 0) + 1.5 * (c.hits[SECURITY] ? 1 : 0);
	double comp = v / sqrt(v * v + 15.0);
	if (comp <= -0.2) {
		out->sentiment = SG_SENTIMENT_NEGATIVE;
		out->sentiment_confidence = 0.55 + 0.4 * min1((-comp - 0.2) / 0.5);
	} else if (comp >= 0.2) {
		out->sentiment = SG_SENTIMENT_POSITIVE;
		out->sentiment_confidence = 0.55 + 0.4 * min1((comp - 0.2) / 0.5);
	} else {
		out->sentiment = SG_SENTIMENT_NEUTRAL;
		out->sentiment_confidence = 0.9 - 2.0 * fabs(comp);
		if (c.words < 3)
			out->sentiment_confidence -= 0.2; /* too little text to judge */
	}

	/* frustration 0..10 */
	double neg = comp < 0 ? -comp : 0;
	double f = 4.0 * neg + (shouting ? 2 : 0) + min1(st.exclaim / 4.0) * 1.5 +
		   (st.runs ? 0.5 : 0) + (st.stretched ? 0.5 : 0) +
		   (c.hits[REPEAT] < 3 ? c.hits[REPEAT] : 3) * 0.7 +
		   (c.hits[THREAT] ? 2 : 0) + (c.hits[HUMAN] ? 1 : 0) +
		   (in->customer_turns >= 4 ? 2 : in->customer_turns >= 2 ? 1 : 0);
	out->frustration = clamp10(f);

	/* urgency: signal score, then never below the helpdesk's own priority */
	double u = (c.hits[OUTAGE] ? 2 : 0) + (c.hits[OUTAGE] && c.hits[SCOPE] ? 2 : 0) +
		   (c.hits[SECURITY] ? 3 : 0) + (c.hits[URGENT] ? 2 : 0) +
		   (c.hits[THREAT] ? 3 : 0) + (out->frustration >= 7 ? 1 : 0) +
		   (c.hits[OUTAGE] || c.hits[SECURITY] || c.hits[URGENT] ? tier_weight(in->tier) / 2 : 0);
	int urg = u >= 5 ? 0 : u >= 3 ? 1 : u >= 1.5 ? 2 : 3;
	int hp = parse_priority(in->priority);
	if (hp >= 0 && hp < urg)
		urg = hp;
	out->urgency = urg;

	/* churn risk 0..10 */
	int churn_intent = out->intent && (strstr(out->intent, "cancel") || strstr(out->intent, "delete_account"));
	double ch = (c.hits[CHURN] ? 4 + (c.hits[CHURN] > 1 ? 1 : 0) : 0) +
		    (churn_intent && out->intent_confidence >= 0.5 ? 2 : 0) +
		    (c.hits[THREAT] ? 2 : 0) + out->frustration * 0.25 +
		    (comp <= -0.5 ? 1 : 0) + (in->customer_turns >= 3 ? 1 : 0);
	out->churn_risk = clamp10(ch);

	/* escalation likelihood 0..10 */
	double e = (c.hits[THREAT] ? 3 : 0) + (c.hits[HUMAN] ? 3 : 0) + (c.hits[SECURITY] ? 3 : 0) +
		   out->frustration * 0.3 + (urg == 0 ? 2 : urg == 1 ? 1 : 0) +
		   tier_weight(in->tier) + (in->vip ? 1 : 0) + (in->customer_turns >= 3 ? 1 : 0) +
		   (intent_model && out->intent_confidence < 0.5 ? 1 : 0);
	out->escalation_likelihood = clamp10(e);

	/* language (never fails the ticket: without models it is "und") */
	struct sg_error lerr = SG_ERROR_INIT;
	if (sg_classify_language(s, s->norm.text, s->norm.len, out->language,
				 &out->language_confidence, &lerr) < 0) {
		snprintf(out->language, sizeof(out->language), "und");
		out->language_confidence = 0;
	}
	return 0;
}
