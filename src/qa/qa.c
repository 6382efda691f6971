/*
 * qa.c - the QA loop's configuration (the policy's `qa` section), ISO
 * weeks, the scorecard facts extracted from stored decisions, and the
 * seeded, category-stratified sample of a week.
 */
#include "qa/qa.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/hash.h"
#include "core/id.h"
#include "policy/policy.h"
#include "core/banned.h"

#define DAY_MS (24LL * 3600 * 1000)
#define FACTS_BATCH 2000

/* ---- configuration ----------------------------------------------------- */

void sg_qa_config_default(struct sg_qa_config *c)
{
	c->sample_size = 100;
	c->per_ai_handled = 100;
	c->human_rate = 0.05;
	c->min_per_category = 1;
	c->pause_below = 0.92;
	c->expand_above = 0.95;
	c->expand_after = 2;
	c->min_scored = 5;
	c->pass_score = 4;
	c->incident_hours = 24;
	c->seed = 0;
}

static int clampi(double v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

void sg_qa_config_from_policy(struct sg_qa_config *c, const struct sg_policy *p)
{
	sg_qa_config_default(c);
	const struct sg_pnode *q = p ? sg_policy_section(p, "qa") : NULL;
	if (!q)
		return;
	c->sample_size = clampi(sg_pnode_num(q, "sample_size", c->sample_size), 0, 100000);
	c->per_ai_handled = clampi(sg_pnode_num(q, "min_one_per", c->per_ai_handled), 1, 1000000);
	c->human_rate = sg_pnode_num(q, "sample_rate", c->human_rate);
	c->min_per_category = clampi(sg_pnode_num(q, "min_per_category", c->min_per_category),
				     0, 1000);
	c->pause_below = sg_pnode_num(q, "pause_below", c->pause_below);
	c->expand_above = sg_pnode_num(q, "expand_above", c->expand_above);
	c->expand_after = clampi(sg_pnode_num(q, "expand_after_weeks", c->expand_after), 1,
				 SG_QA_MAX_TREND);
	c->min_scored = clampi(sg_pnode_num(q, "min_scored", c->min_scored), 1, 100000);
	c->pass_score = clampi(sg_pnode_num(q, "pass_score", c->pass_score), 1, 5);
	c->incident_hours = clampi(sg_pnode_num(q, "incident_hours", c->incident_hours), 1,
				   24 * 365);
	c->seed = (uint64_t)sg_pnode_num(q, "seed", 0);
}

/* ---- weeks ------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

/* Monday of ISO week 1 of year y, in days since the epoch. */
static int64_t iso_week1(int64_t y)
{
	int64_t jan4 = days_from_civil(y, 1, 4);
	int64_t wd = ((jan4 % 7) + 7 + 3) % 7; /* 1970-01-01 was a Thursday: 0 = Monday */
	return jan4 - wd;
}

void sg_qa_week_of(char out[SG_QA_PERIOD_LEN], int64_t *from_ms, int64_t at_ms)
{
	int64_t day = floor_div(at_ms, DAY_MS);
	int64_t monday = day - (((day % 7) + 7 + 3) % 7);
	int64_t thursday = monday + 3;
	time_t t = (time_t)(thursday * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	int64_t y = tm.tm_year + 1900;
	int week = (int)((monday - iso_week1(y)) / 7) + 1;
	snprintf(out, SG_QA_PERIOD_LEN, "%04u-W%02u", (unsigned)y % 10000u, (unsigned)week % 100u);
	*from_ms = monday * DAY_MS;
}

int sg_qa_week_parse(char out[SG_QA_PERIOD_LEN], int64_t *from_ms, const char *text,
		     struct sg_error *err)
{
	int y = 0, w = 0, m = 0, d = 0, n = 0;
	if (text && sscanf(text, "%4d-W%2d%n", &y, &w, &n) == 2 && !text[n] && n == 8 &&
	    y >= 1970 && y <= 9999 && w >= 1 && w <= 53) {
		int64_t monday = iso_week1(y) + (int64_t)(w - 1) * 7;
		sg_qa_week_of(out, from_ms, monday * DAY_MS);
		if (strcmp(out, text))
			return sg_error_set(err, SG_EINVALID, "week '%s': year %d has no week %d",
					    text, y, w);
		return 0;
	}
	if (text && sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && !text[n] && n == 10 &&
	    y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= 31) {
		sg_qa_week_of(out, from_ms, days_from_civil(y, m, d) * DAY_MS);
		return 0;
	}
	return sg_error_set(err, SG_EINVALID, "week '%s': expected YYYY-Www (2026-W49) or a "
			    "date YYYY-MM-DD", text ? text : "");
}

/* ---- facts ------------------------------------------------------------- */

struct facts_ctx {
	struct sg_store *s;
	struct sg_error *err;
	long n;
	int64_t last_ms;
};

static int fact_of(const struct sg_store_qa_pending *p, void *arg)
{
	struct facts_ctx *fc = arg;
	json_t *d = json_loads(p->body, 0, NULL);
	const char *types[SG_QA_NAME_MAX];
	size_t ntypes = 0;
	struct sg_store_qa_fact f = {
		.decision_id = p->decision_id, .ticket_id = p->ticket_id, .intent = p->intent,
		.risk_tier = p->risk_tier, .gate = p->gate, .ai_mode = "none",
		.guardrail_action = "allowed", .created_ms = p->created_ms,
		.ticket_created_ms = p->ticket_created_ms};
	if (d) {
		const char *v = json_string_value(json_object_get(d, "ai_mode"));
		if (v)
			f.ai_mode = v;
		if ((v = json_string_value(json_object_get(d, "guardrail_action"))))
			f.guardrail_action = v;
		f.ai_draft_sent = json_is_true(json_object_get(d, "ai_draft_sent"));
		f.escalated = json_is_true(json_object_get(d, "escalated"));
		if (f.escalated) {
			f.escalation_reason = json_string_value(json_object_get(d, "escalation_reason"));
			if (!f.escalation_reason)
				f.escalation_reason = "unspecified";
		}
		size_t i;
		json_t *t;
		json_array_foreach(json_object_get(d, "guardrail_types"), i, t) {
			const char *s = json_string_value(t);
			int dup = 0;
			for (size_t k = 0; s && k < ntypes; k++)
				dup |= !strcmp(types[k], s);
			if (s && !dup && ntypes < SG_QA_NAME_MAX)
				types[ntypes++] = s;
		}
	}
	f.guardrail_types = types;
	f.ntypes = ntypes;
	int rc = sg_store_qa_fact_put(fc->s, &f, fc->err);
	json_decref(d);
	if (rc < 0)
		return rc;
	fc->n++;
	fc->last_ms = p->created_ms;
	return 0;
}

int sg_qa_facts_sync(struct sg_store *s, int64_t since_ms, long *done, struct sg_error *err)
{
	struct facts_ctx fc = {s, err, 0, since_ms};
	*done = 0;
	for (;;) {
		long before = fc.n;
		int rc = sg_store_begin(s, err);
		if (rc < 0)
			return rc;
		rc = sg_store_qa_pending(s, fc.last_ms, FACTS_BATCH, fact_of, &fc, err);
		if (rc < 0 || (rc = sg_store_commit(s, err)) < 0) {
			sg_store_rollback(s, NULL);
			return rc;
		}
		*done = fc.n;
		if (fc.n - before < FACTS_BATCH)
			return 0;
	}
}

/* ---- sampling ---------------------------------------------------------- */

uint64_t sg_qa_week_seed(const struct sg_qa_config *cfg, const char *period)
{
	uint64_t h = sg_fnv1a64(period, strlen(period), 0x51a7e5eedULL);
	return h ^ (cfg->seed * 0x9e3779b97f4a7c15ULL);
}

struct item {
	size_t idx;
	uint64_t key;
	const char *category;
	int human;
};

static int by_stratum(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	if (x->human != y->human)
		return x->human - y->human;
	int c = strcmp(x->category, y->category);
	if (c)
		return c;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int by_ticket(const void *a, const void *b)
{
	const struct sg_qa_candidate *const *x = a, *const *y = b;
	int c = strcmp((*x)->ticket_id, (*y)->ticket_id);
	if (c)
		return c;
	return (*x)->human - (*y)->human; /* AI-handled first */
}

/* Allocates `target` picks over the strata [size_k]: minimums first, the
 * rest by largest remainder, capped at each stratum's size. */
static void allocate(const size_t *size, size_t *take, size_t k, size_t target, size_t min)
{
	size_t total = 0, given = 0;
	for (size_t i = 0; i < k; i++) {
		take[i] = size[i] < min ? size[i] : min;
		given += take[i];
		total += size[i];
	}
	if (target > total)
		target = total;
	while (given < target) {
		size_t room = 0;
		for (size_t i = 0; i < k; i++)
			room += size[i] - take[i];
		size_t left = target - given, added = 0;
		double best_rem = -1;
		size_t best = k;
		for (size_t i = 0; i < k; i++) {
			size_t free_i = size[i] - take[i];
			if (!free_i)
				continue;
			double share = (double)left * (double)free_i / (double)room;
			size_t whole = (size_t)share;
			if (whole > free_i)
				whole = free_i;
			take[i] += whole;
			added += whole;
			double rem = share - (double)whole;
			if (take[i] < size[i] && rem > best_rem) {
				best_rem = rem;
				best = i;
			}
		}
		given += added;
		if (given < target && !added && best < k) {
			take[best]++; /* the largest remainder gets the next one */
			given++;
		}
	}
}

long sg_qa_select(const struct sg_qa_candidate *c, size_t n, const struct sg_qa_config *cfg,
		  uint64_t seed, unsigned char *pick, long population[2])
{
	memset(pick, 0, n);
	population[0] = population[1] = 0;
	if (!n)
		return 0;
	long picked = 0;
	const struct sg_qa_candidate **order = sg_calloc(n, sizeof(*order));
	struct item *it = sg_calloc(n, sizeof(*it));
	size_t *size = sg_calloc(n, sizeof(*size)), *take = sg_calloc(n, sizeof(*take));
	if (!order || !it || !size || !take) {
		picked = -SG_ENOMEM;
		goto cleanup;
	}
	/* one entry per ticket: the AI-handled one when both exist */
	for (size_t i = 0; i < n; i++)
		order[i] = &c[i];
	qsort(order, n, sizeof(*order), by_ticket);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(order[i]->ticket_id, order[i - 1]->ticket_id))
			continue;
		const struct sg_qa_candidate *x = order[i];
		it[m].idx = (size_t)(x - c);
		it[m].category = x->category;
		it[m].human = x->human;
		it[m].key = sg_fnv1a64(x->ticket_id, strlen(x->ticket_id), seed);
		population[x->human]++;
		m++;
	}
	qsort(it, m, sizeof(*it), by_stratum);
	/* per kind: strata in category order, then the allocation */
	for (int kind = 0; kind < 2; kind++) {
		size_t lo = 0;
		while (lo < m && it[lo].human != kind)
			lo++;
		size_t hi = lo, k = 0, N = 0;
		while (hi < m && it[hi].human == kind)
			hi++;
		/* strata boundaries */
		size_t *first = take; /* reuse: first index of stratum k */
		for (size_t i = lo; i < hi; i++) {
			if (i == lo || strcmp(it[i].category, it[i - 1].category)) {
				first[k] = i;
				size[k] = 0;
				k++;
			}
			size[k - 1]++;
			N++;
		}
		if (!k)
			continue;
		size_t target;
		if (!kind) {
			size_t need = (N + (size_t)cfg->per_ai_handled - 1) / (size_t)cfg->per_ai_handled;
			target = (size_t)cfg->sample_size > need ? (size_t)cfg->sample_size : need;
		} else {
			target = (size_t)ceil((double)N * cfg->human_rate - 1e-9);
		}
		if (target > N)
			target = N;
		size_t *firsts = sg_calloc(k, sizeof(*firsts));
		size_t *takes = sg_calloc(k, sizeof(*takes));
		if (!firsts || !takes) {
			sg_free(firsts);
			sg_free(takes);
			picked = -SG_ENOMEM;
			goto cleanup;
		}
		memcpy(firsts, first, k * sizeof(*firsts));
		size_t min = target ? (size_t)cfg->min_per_category : 0;
		allocate(size, takes, k, target, min);
		for (size_t j = 0; j < k; j++)
			for (size_t q = 0; q < takes[j]; q++) {
				pick[it[firsts[j] + q].idx] = 1;
				picked++;
			}
		sg_free(firsts);
		sg_free(takes);
	}
cleanup:
	sg_free(order);
	sg_free(it);
	sg_free(size);
	sg_free(take);
	return picked;
}

/* The week's population, copied out of the store's callback. */
struct pop {
	struct sg_qa_candidate *c;
	size_t n, cap;
	struct sg_arena arena;
	int oom;
};

static int pop_add(const struct sg_store_qa_candidate *x, void *arg)
{
	struct pop *p = arg;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 256;
		struct sg_qa_candidate *c = sg_realloc(p->c, cap * sizeof(*c));
		if (!c) {
			p->oom = 1;
			return -SG_ENOMEM;
		}
		p->c = c;
		p->cap = cap;
	}
	struct sg_qa_candidate *c = &p->c[p->n];
	c->ticket_id = sg_arena_strdup(&p->arena, x->ticket_id);
	c->decision_id = sg_arena_strdup(&p->arena, x->decision_id);
	c->category = sg_arena_strdup(&p->arena, x->category);
	c->human = !strcmp(x->kind, "human");
	if (!c->ticket_id || !c->decision_id || !c->category) {
		p->oom = 1;
		return -SG_ENOMEM;
	}
	p->n++;
	return 0;
}

static int count_one(const struct sg_store_qa_sample *x, void *ctx)
{
	(void)x;
	(*(long *)ctx)++;
	return 0;
}

int sg_qa_sample(struct sg_store *s, const struct sg_qa_config *cfg, const char *period,
		 int64_t from_ms, uint64_t seed, const char *actor,
		 struct sg_qa_sample_result *out, struct sg_error *err)
{
	struct pop p = {0};
	unsigned char *pick = NULL;
	json_t *body = NULL, *cats = NULL;
	char *text = NULL;
	long done = 0, have = 0;
	int rc, in_tx = 0;
	memset(out, 0, sizeof(*out));
	sg_arena_init(&p.arena, 0);
	out->seed = seed ? seed : sg_qa_week_seed(cfg, period);
	if ((rc = sg_qa_facts_sync(s, from_ms, &done, err)) < 0)
		goto cleanup;
	if ((rc = sg_store_qa_sample_list(s, period, count_one, &have, err)) < 0)
		goto cleanup;
	if (have) {
		out->existed = 1;
		goto cleanup;
	}
	rc = sg_store_qa_candidates(s, from_ms, from_ms + SG_QA_WEEK_MS, pop_add, &p, err);
	if (p.oom)
		rc = sg_error_set(err, SG_ENOMEM, "qa sample: out of memory");
	if (rc < 0)
		goto cleanup;
	if (!p.n)
		goto cleanup; /* nothing handled that week: nothing to write */
	pick = sg_malloc(p.n);
	long population[2] = {0, 0};
	long np = pick ? sg_qa_select(p.c, p.n, cfg, out->seed, pick, population) : -SG_ENOMEM;
	if (np < 0) {
		rc = sg_error_set(err, SG_ENOMEM, "qa sample: out of memory");
		goto cleanup;
	}
	cats = json_object();
	if ((rc = sg_store_begin(s, err)) < 0)
		goto cleanup;
	in_tx = 1;
	/* again inside the transaction: another process may have sampled the
	 * week meanwhile (on SQLite the write lock serializes the two) */
	have = 0;
	if ((rc = sg_store_qa_sample_list(s, period, count_one, &have, err)) < 0)
		goto cleanup;
	if (have) {
		out->existed = 1;
		out->ai_sampled = out->human_sampled = 0;
		goto cleanup;
	}
	int64_t now = sg_now_ms();
	for (size_t i = 0; i < p.n; i++) {
		const struct sg_qa_candidate *c = &p.c[i];
		if (!pick[i])
			continue;
		struct sg_store_qa_sample x;
		memset(&x, 0, sizeof(x));
		if (sg_id_new(x.id) < 0) {
			rc = sg_error_set(err, SG_EINTERNAL, "no randomness for an id");
			goto cleanup;
		}
		snprintf(x.period, sizeof(x.period), "%s", period);
		snprintf(x.ticket_id, sizeof(x.ticket_id), "%s", c->ticket_id);
		snprintf(x.decision_id, sizeof(x.decision_id), "%s", c->decision_id);
		snprintf(x.category, sizeof(x.category), "%s", c->category);
		snprintf(x.kind, sizeof(x.kind), "%s", c->human ? "human" : "ai");
		x.reached_customer = 1; /* auto-sent, or approved and sent */
		x.seed = (int64_t)out->seed;
		x.created_ms = now;
		if ((rc = sg_store_qa_sample_put(s, &x, err)) < 0)
			goto cleanup;
		if (c->human)
			out->human_sampled++;
		else
			out->ai_sampled++;
		json_t *v = json_object_get(cats, c->category);
		json_object_set_new(cats, c->category, json_integer(json_integer_value(v) + 1));
	}
	out->ai_population = population[0];
	out->human_population = population[1];
	out->categories = (long)json_object_size(cats);
	body = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:O}", "period", period, "seed_hex",
			 "", "ai_population", (json_int_t)out->ai_population, "human_population",
			 (json_int_t)out->human_population, "ai_sampled",
			 (json_int_t)out->ai_sampled, "human_sampled",
			 (json_int_t)out->human_sampled, "by_category", cats);
	char hex[20];
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)out->seed);
	if (body)
		json_object_set_new(body, "seed_hex", json_string(hex));
	text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!text) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory");
		goto cleanup;
	}
	struct sg_audit_record r;
	memset(&r, 0, sizeof(r));
	snprintf(r.actor, sizeof(r.actor), "%s", actor ? actor : "qa");
	snprintf(r.action, sizeof(r.action), "qa.sample");
	r.body = text;
	if ((rc = sg_store_audit_append(s, &r, err)) < 0)
		goto cleanup;
	rc = sg_store_commit(s, err);
	in_tx = 0;
cleanup:
	if (in_tx)
		sg_store_rollback(s, NULL);
	sg_free(text);
	json_decref(body);
	json_decref(cats);
	sg_free(pick);
	sg_free(p.c);
	sg_arena_release(&p.arena);
	return rc < 0 ? rc : 0;
}

int sg_qa_auto_sample(struct sg_store *s, const struct sg_qa_config *cfg, int64_t now_ms,
		      const char *actor, char period[SG_QA_PERIOD_LEN],
		      struct sg_qa_sample_result *out, struct sg_error *err)
{
	int64_t from;
	sg_qa_week_of(period, &from, now_ms - SG_QA_WEEK_MS);
	return sg_qa_sample(s, cfg, period, from, 0, actor, out, err);
}
