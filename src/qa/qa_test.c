/*
 * qa_test.c - the QA loop on real SQLite files: ISO weeks; the sample is
 * reproducible, stratified (a rare category is seen) and holds its
 * minimums; the pause, expansion and incident rules with their audit
 * records; and every scorecard figure on a small fixture whose expected
 * values are worked out by hand in the comments.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "audit/audit.h"
#include "core/alloc.h"
#include "core/id.h"
#include "core/json.h"
#include "qa/qa.h"
#include "store/store.h"

#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)

struct fx {
	char path[256], url[300];
	struct sg_store *s;
	char week[SG_QA_PERIOD_LEN], prev[SG_QA_PERIOD_LEN];
	int64_t from, prev_from;
};

/* A fresh database on the test's PostgreSQL server; its URL into out. */
static void pg_fresh(const char *base, char *out, size_t n)
{
	static int seq;
	char db[64], sql[160];
	snprintf(db, sizeof(db), "sgt_qa_%d_%d", (int)getpid(), ++seq);
	PGconn *c = PQconnectdb(base);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	PGresult *r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	const char *slash = strrchr(base, '/');
	snprintf(out, n, "%.*s/%s", (int)(slash - base), base, db);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sg_error err = SG_ERROR_INIT;
	const char *tmp = getenv("SG_TEST_TMP"), *pg = getenv("SOPGATE_TEST_STORE");
	snprintf(f->path, sizeof(f->path), "%s/qa-test-%d-%p.db", tmp ? tmp : "/tmp", (int)getpid(),
		 (void *)f);
	if (pg && *pg)
		pg_fresh(pg, f->url, sizeof(f->url));
	else
		snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
	int rc = sg_store_open(&f->s, f->url, "test", &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	/* the fixture lives in the current week (escalations are stamped now) */
	sg_qa_week_of(f->week, &f->from, sg_now_ms());
	sg_qa_week_of(f->prev, &f->prev_from, f->from - 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[300];
	sg_store_close(f->s);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

/* Writes one decided event. */
static void ticket(struct fx *f, const char *id, const char *event, int64_t at,
		   const char *intent, const char *gate, const char *tier, const char *mode,
		   int sent, const char *esc_reason, const char *types, const char *gaction,
		   char decision_id[SG_ID_LEN])
{
	struct sg_error err = SG_ERROR_INIT;
	char d[1024];
	snprintf(d, sizeof(d),
		 "{\"helpdesk_ticket_id\":\"%s\",\"intent\":\"%s\",\"gate\":\"%s\","
		 "\"risk_tier\":\"%s\",\"ai_mode\":\"%s\",\"ai_draft_sent\":%s,"
		 "\"escalated\":%s,\"escalation_reason\":%s%s%s,\"guardrail_types\":[%s],"
		 "\"guardrail_action\":\"%s\",\"approval_required\":%s}",
		 id, intent, gate, tier, mode, sent ? "true" : "false",
		 esc_reason ? "true" : "false", esc_reason ? "\"" : "",
		 esc_reason ? esc_reason : "null", esc_reason ? "\"" : "", types, gaction,
		 strcmp(gate, "auto_send") ? "true" : "false");
	struct sg_ticket_write w = {
		.ticket_id = id, .event_id = event, .event_json = "{\"text\":\"[masked]\"}",
		.decision_json = d, .gate = gate, .risk_tier = tier, .intent = intent,
		.queue = "q", .policy_version = "sha256:test", .now_ms = at};
	int rc = sg_store_ticket_write(f->s, &w, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	if (decision_id)
		memcpy(decision_id, w.decision_id, SG_ID_LEN);
	sg_free(w.stored_decision);
}

static void human(struct fx *f, const char *id, const char *decision, const char *action,
		  int64_t at, const char *text, const char *diff)
{
	struct sg_error err = SG_ERROR_INIT;
	struct sg_human_action a = {.ticket_id = id, .decision_id = decision, .user = "alice",
				    .role = "agent", .action = action, .step = 1,
				    .draft_text = text, .draft_diff = diff, .now_ms = at};
	assert_int_equal(sg_store_human_action(f->s, &a, &err), 0);
}

static const json_t *find(const json_t *arr, const char *key, const char *val)
{
	size_t i;
	json_t *o;
	json_array_foreach(arr, i, o) {
		const char *v = json_string_value(json_object_get(o, key));
		if (v && !strcmp(v, val))
			return o;
	}
	fail_msg("no item %s=%s", key, val);
	return NULL;
}

static double num(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_number(v))
		fail_msg("field %s is not a number", k);
	return json_number_value(v);
}

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* ---- weeks --------------------------------------------------------------- */

static void test_weeks(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	char w[SG_QA_PERIOD_LEN];
	int64_t from;
	/* 2026-12-07 is a Monday in ISO week 50 */
	assert_int_equal(sg_qa_week_parse(w, &from, "2026-12-09", &err), 0);
	assert_string_equal(w, "2026-W50");
	assert_int_equal(from, 1796601600000LL); /* 2026-12-07T00:00:00Z */
	assert_int_equal(sg_qa_week_parse(w, &from, "2026-W50", &err), 0);
	assert_int_equal(from, 1796601600000LL);
	/* 2021-01-03 (a Sunday) still belongs to 2020-W53 */
	assert_int_equal(sg_qa_week_parse(w, &from, "2021-01-03", &err), 0);
	assert_string_equal(w, "2020-W53");
	assert_int_equal(sg_qa_week_parse(w, &from, "2021-W53", &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "has no week 53"));
	sg_error_clear(&err);
	assert_int_equal(sg_qa_week_parse(w, &from, "last week", &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "expected YYYY-Www"));
}

/* ---- sampling ------------------------------------------------------------- */

static void make_candidates(struct sg_qa_candidate *c, char ids[][16], size_t n, size_t rare)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(ids[i], 16, "T-%zu", i);
		c[i].ticket_id = ids[i];
		c[i].decision_id = "d";
		/* `rare` tickets of billing_dispute, the rest split over two */
		c[i].category = i < rare ? "billing_dispute" : i % 2 ? "track_order" : "password";
		c[i].human = i % 10 == 9; /* one in ten human-reviewed */
	}
}

static void test_select_reproducible_stratified(void **state)
{
	(void)state;
	enum { N = 20000 };
	static struct sg_qa_candidate c[N], r[N];
	static char ids[N][16];
	static unsigned char a[N], b[N], x[N];
	struct sg_qa_config cfg;
	long pop[2];
	sg_qa_config_default(&cfg);
	make_candidates(c, ids, N, 3);
	/* 18000 AI-handled: max(100, ceil(18000/100)) = 180; 2000 human: 5 % = 100 */
	long n = sg_qa_select(c, N, &cfg, 42, a, pop);
	assert_int_equal(pop[0], 18000);
	assert_int_equal(pop[1], 2000);
	long ai = 0, hu = 0, rare = 0;
	for (size_t i = 0; i < N; i++) {
		if (!a[i])
			continue;
		c[i].human ? hu++ : ai++;
		rare += !strcmp(c[i].category, "billing_dispute");
	}
	assert_int_equal(ai, 180);
	assert_int_equal(hu, 100);
	assert_int_equal(n, 280);
	/* the rare category (3 of 20000) is seen at least once */
	assert_true(rare >= 1);
	/* the same seed picks the same tickets, whatever the input order */
	for (size_t i = 0; i < N; i++)
		r[i] = c[N - 1 - i];
	assert_int_equal(sg_qa_select(r, N, &cfg, 42, b, pop), n);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(a[i], b[N - 1 - i]);
	/* another seed picks other tickets (same sizes) */
	assert_int_equal(sg_qa_select(c, N, &cfg, 43, x, pop), n);
	assert_true(memcmp(a, x, N) != 0);
	/* small weeks: everything when fewer than sample_size */
	/* 45 AI-handled, all taken; 5 human-reviewed of one category: ceil(0.25) = 1 */
	assert_int_equal(sg_qa_select(c, 50, &cfg, 1, x, pop), 45 + 1);
	/* a ticket both auto-sent and reviewed is sampled once, as AI-handled */
	struct sg_qa_candidate dup[2] = {{"T-1", "d", "password", 1}, {"T-1", "d", "password", 0}};
	assert_int_equal(sg_qa_select(dup, 2, &cfg, 1, x, pop), 1);
	assert_int_equal(x[1], 1);
	assert_int_equal(pop[0], 1);
	assert_int_equal(pop[1], 0);
}

static void test_select_minimum_per_category(void **state)
{
	(void)state;
	struct sg_qa_config cfg;
	sg_qa_config_default(&cfg);
	cfg.sample_size = 4;
	cfg.min_per_category = 2;
	struct sg_qa_candidate c[40];
	char ids[40][16];
	unsigned char p[40];
	long pop[2];
	for (size_t i = 0; i < 40; i++) {
		snprintf(ids[i], 16, "X%zu", i);
		c[i] = (struct sg_qa_candidate){ids[i], "d",
						i < 30 ? "a" : i < 38 ? "b" : i < 39 ? "c" : "d", 0};
	}
	/* four categories, minimum two each (c and d have one): 2+2+1+1 = 6
	 * already over the target of 4, so the minimums win */
	assert_int_equal(sg_qa_select(c, 40, &cfg, 7, p, pop), 6);
	int per[4] = {0};
	for (size_t i = 0; i < 40; i++)
		if (p[i])
			per[c[i].category[0] - 'a']++;
	assert_int_equal(per[0], 2);
	assert_int_equal(per[1], 2);
	assert_int_equal(per[2], 1);
	assert_int_equal(per[3], 1);
	/* a larger target is shared in proportion: 20 = 2+2+1+1 minimums and
	 * 14 more over the free 28 in a and 6 in b (11.5 and 2.5) */
	cfg.sample_size = 20;
	assert_int_equal(sg_qa_select(c, 40, &cfg, 7, p, pop), 20);
	memset(per, 0, sizeof(per));
	for (size_t i = 0; i < 40; i++)
		if (p[i])
			per[c[i].category[0] - 'a']++;
	assert_int_equal(per[0] + per[1], 18);
	assert_true(per[0] >= 13 && per[0] <= 14);
}

/* ---- the fixture --------------------------------------------------------- */

struct ids {
	char t3[SG_ID_LEN], t4[SG_ID_LEN], t5[SG_ID_LEN], p2[SG_ID_LEN], p3[SG_ID_LEN];
};

/*
 * This week:
 *   T1 track_order auto-sent, CSAT 5            deflected, first contact
 *   T2 track_order auto-sent, CSAT 3            deflected, first contact
 *   T3 refund_request agent_review, pii.email masked, approved after 30 min
 *   T4 refund_request agent_review, edited after 60 min ("Hello" -> "Hello there")
 *   T5 legal_threat senior_review high, escalated "legal threat",
 *      threat.legal blocked, summarize_only, rejected; then escalated by a
 *      reviewer (level 1, breached) and by the SLA (level 2)
 *   T6 track_order auto-sent twice (at +3 h and +5 h): deflected, not first contact
 * The week before:
 *   P1 track_order auto-sent; P2 refund approved; P3 refund rejected
 */
static void fixture(struct fx *f, struct ids *d)
{
	struct sg_error err = SG_ERROR_INIT;
	int64_t w = f->from, p = f->prev_from;
	ticket(f, "T1", "e1", w + 1 * HOUR_MS, "track_order", "auto_send", "low", "draft_reply",
	       1, NULL, "", "allowed", NULL);
	ticket(f, "T2", "e1", w + 2 * HOUR_MS, "track_order", "auto_send", "low", "draft_reply",
	       1, NULL, "", "allowed", NULL);
	ticket(f, "T3", "e1", w + 2 * HOUR_MS, "refund_request", "agent_review", "medium",
	       "draft_reply", 0, NULL, "\"pii.email\"", "masked", d->t3);
	ticket(f, "T4", "e1", w + 3 * HOUR_MS, "refund_request", "agent_review", "medium",
	       "draft_reply", 0, NULL, "", "allowed", d->t4);
	ticket(f, "T5", "e1", w + 4 * HOUR_MS, "legal_threat", "senior_review", "high",
	       "summarize_only", 0, "legal threat", "\"threat.legal\",\"threat.legal\"", "blocked",
	       d->t5);
	ticket(f, "T6", "e1", w + 3 * HOUR_MS, "track_order", "auto_send", "low", "draft_reply",
	       1, NULL, "", "allowed", NULL);
	ticket(f, "T6", "e2", w + 5 * HOUR_MS, "track_order", "auto_send", "low", "draft_reply",
	       1, NULL, "", "allowed", NULL);
	human(f, "T3", d->t3, "approve", w + 2 * HOUR_MS + 30 * MIN_MS, NULL, NULL);
	human(f, "T4", d->t4, "edit", w + 4 * HOUR_MS, "Hello there",
	      "@@ -1,1 +1,1 @@\n-Hello\n+Hello there\n");
	human(f, "T5", d->t5, "reject", w + 5 * HOUR_MS, NULL, NULL);
	assert_int_equal(sg_store_qa_csat_put(f->s, "T1", 5, 0, &err), 0);
	assert_int_equal(sg_store_qa_csat_put(f->s, "T2", 3, 0, &err), 0);
	char esc[SG_ID_LEN], esc2[SG_ID_LEN];
	assert_int_equal(sg_store_escalation_open(f->s, "T5", 1, "lead", NULL,
						  "draft rejected twice", sg_now_ms() - 1, esc, &err), 0);
	assert_int_equal(sg_store_escalation_close(f->s, esc, NULL, "breached", &err), 0);
	assert_int_equal(sg_store_escalation_open(f->s, "T5", 2, "lead", NULL,
						  "SLA breach at level 1", sg_now_ms() + HOUR_MS,
						  esc2, &err), 0);
	ticket(f, "P1", "e1", p + HOUR_MS, "track_order", "auto_send", "low", "draft_reply", 1,
	       NULL, "", "allowed", NULL);
	ticket(f, "P2", "e1", p + HOUR_MS, "refund_request", "agent_review", "medium",
	       "draft_reply", 0, NULL, "", "allowed", d->p2);
	ticket(f, "P3", "e1", p + HOUR_MS, "refund_request", "agent_review", "medium",
	       "draft_reply", 0, NULL, "", "allowed", d->p3);
	human(f, "P2", d->p2, "approve", p + 2 * HOUR_MS, NULL, NULL);
	human(f, "P3", d->p3, "reject", p + 2 * HOUR_MS, NULL, NULL);
}

static void test_scorecard_figures(void **state)
{
	struct fx *f = *state;
	struct sg_error err = SG_ERROR_INIT;
	struct ids d;
	struct sg_qa_config cfg;
	json_t *card = NULL;
	sg_qa_config_default(&cfg);
	fixture(f, &d);
	int rc = sg_qa_scorecard(&card, f->s, &cfg, f->week, f->from, 4, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
	const json_t *w = json_object_get(card, "week");
	assert_string_equal(json_string_value(json_object_get(card, "previous_period")), f->prev);

	/* 6 tickets, 3 deflected (T1 T2 T6) = 0.5; before 1 of 3 */
	const json_t *defl = json_object_get(w, "deflection");
	assert_int_equal(num(w, "tickets"), 6);
	assert_int_equal(num(defl, "auto_resolved"), 3);
	NEAR(num(defl, "rate"), 0.5);
	NEAR(num(json_object_get(defl, "change"), "rate"), 0.5 - 1.0 / 3);

	/* approvals: medium approve + edit = 100 %, high 1 reject = 0 %, low none */
	const json_t *tiers = json_object_get(w, "approval_by_tier");
	const json_t *med = find(tiers, "tier", "medium");
	assert_int_equal(num(med, "approved"), 1);
	assert_int_equal(num(med, "edited"), 1);
	NEAR(num(med, "rate"), 1.0);
	NEAR(num(json_object_get(med, "change"), "rate"), 0.5); /* 50 % the week before */
	NEAR(num(find(tiers, "tier", "high"), "rate"), 0.0);
	assert_true(json_is_null(json_object_get(find(tiers, "tier", "low"), "rate")));
	NEAR(num(w, "approval_rate"), 2.0 / 3);

	/* overrides: 3 reviewed, 1 edit, 1 rejection, distance("Hello","Hello there") = 6 */
	const json_t *ov = json_object_get(w, "overrides");
	assert_int_equal(num(ov, "reviewed"), 3);
	assert_int_equal(num(ov, "edits"), 1);
	assert_int_equal(num(ov, "rejections"), 1);
	NEAR(num(ov, "edit_distance_mean"), 6);

	/* FCR: replied T1 T2 T3 T4 T6 = 5; one event, no escalation: T1-T4 = 4 */
	const json_t *fcr = json_object_get(w, "fcr");
	assert_int_equal(num(fcr, "replied"), 5);
	assert_int_equal(num(fcr, "first_contact"), 4);
	NEAR(num(fcr, "rate"), 0.8);

	/* CSAT: 5 and 3 -> mean 4, one of two satisfied */
	const json_t *cs = json_object_get(w, "csat");
	assert_int_equal(num(cs, "responses"), 2);
	NEAR(num(cs, "mean"), 4.0);
	NEAR(num(cs, "rate"), 0.5);

	/* draft_reply: first replies 0,0,30,60,0 min -> median 0, mean 18;
	 * handle 0,0,30,60,120 (T6: +3h..+5h) -> median 30, mean 42 */
	const json_t *rt = json_object_get(w, "reply_times");
	const json_t *dr = find(rt, "ai_mode", "draft_reply");
	assert_int_equal(num(dr, "tickets"), 5);
	NEAR(num(dr, "first_reply_median_min"), 0);
	NEAR(num(dr, "first_reply_mean_min"), 18);
	NEAR(num(dr, "handle_median_min"), 30);
	NEAR(num(dr, "handle_mean_min"), 42);
	const json_t *so = find(rt, "ai_mode", "summarize_only");
	assert_int_equal(num(so, "tickets"), 1);
	assert_true(json_is_null(json_object_get(so, "first_reply_median_min")));

	/* escalations: the decision's reason, the reviewer's and the SLA's */
	const json_t *er = json_object_get(w, "escalation_reasons");
	assert_int_equal(json_array_size(er), 3);
	assert_string_equal(json_string_value(json_object_get(find(er, "reason", "legal threat"),
							      "source")), "decision");
	assert_string_equal(json_string_value(json_object_get(
				    find(er, "reason", "draft rejected twice"), "source")),
			    "review");
	assert_string_equal(json_string_value(json_object_get(
				    find(er, "reason", "SLA breach at level 1"), "source")),
			    "sla");
	assert_int_equal(num(w, "escalations"), 3);

	/* guardrails: threat.legal blocked once (listed twice, counted once),
	 * pii.email masked */
	const json_t *gr = json_object_get(w, "guardrails");
	assert_int_equal(num(find(gr, "type", "threat.legal"), "blocked"), 1);
	assert_int_equal(num(find(gr, "type", "threat.legal"), "hits"), 1);
	assert_int_equal(num(find(gr, "type", "pii.email"), "blocked"), 0);
	assert_int_equal(num(w, "guardrail_blocks"), 1);

	/* SLA: the level-1 escalation breached */
	const json_t *br = json_object_get(w, "sla_breaches");
	assert_int_equal(num(br, "total"), 1);
	assert_int_equal(num(find(json_object_get(br, "by_level"), "level", "1"), "count"), 1);

	/* the trend ends with this week */
	const json_t *trend = json_object_get(card, "trend");
	assert_int_equal(json_array_size(trend), 4);
	NEAR(num(json_array_get(trend, 3), "deflection"), 0.5);
	NEAR(num(json_array_get(trend, 2), "deflection"), 1.0 / 3);

	/* the renderings carry the figures */
	struct sg_buf b = SG_BUF_INIT;
	sg_qa_scorecard_text(&b, card);
	assert_non_null(strstr(b.data, "Deflection (auto-resolved)"));
	assert_non_null(strstr(b.data, "50.0 %"));
	assert_non_null(strstr(b.data, "+16.7 pt"));
	sg_buf_reset(&b);
	sg_qa_scorecard_html(&b, card);
	assert_non_null(strstr(b.data, "<svg"));
	assert_null(strstr(b.data, "<script"));
	sg_buf_reset(&b);
	assert_int_equal(sg_qa_chart_svg(&b, card, "tiers", &err), 0);
	assert_non_null(strstr(b.data, "<polyline"));
	assert_int_equal(sg_qa_chart_svg(&b, card, "nope", &err), -SG_ENOTFOUND);
	sg_buf_release(&b);
	json_decref(card);
}

/* ---- rules ---------------------------------------------------------------- */

struct audit_seen {
	int pause, lift, expand, incident, score, sample;
	char last_body[512];
};

static int audit_count(const struct sg_audit_record *r, void *ctx)
{
	struct audit_seen *a = ctx;
	if (!strcmp(r->action, "qa.pause")) {
		a->pause++;
		snprintf(a->last_body, sizeof(a->last_body), "%s", r->body);
	}
	a->lift += !strcmp(r->action, "qa.pause_lifted");
	a->expand += !strcmp(r->action, "qa.expand_suggested");
	a->incident += !strcmp(r->action, "qa.incident");
	a->score += !strcmp(r->action, "qa.score");
	a->sample += !strcmp(r->action, "qa.sample");
	return 0;
}

struct sample_ids {
	char id[16][SG_ID_LEN];
	char cat[16][SG_QA_NAME_MAX];
	size_t n;
};

static int collect(const struct sg_store_qa_sample *x, void *ctx)
{
	struct sample_ids *s = ctx;
	if (s->n < 16) {
		snprintf(s->id[s->n], SG_ID_LEN, "%s", x->id);
		snprintf(s->cat[s->n], SG_QA_NAME_MAX, "%s", x->category);
		s->n++;
	}
	return 0;
}

static void score(struct fx *f, const struct sg_qa_config *cfg, const char *id, int good,
		  const char *defect, struct sg_qa_outcome *oc)
{
	struct sg_error err = SG_ERROR_INIT;
	struct sg_qa_score_input in;
	memset(&in, 0, sizeof(in));
	in.sample_id = id;
	in.reviewer = "olivia";
	in.reached_customer = -1;
	for (int i = 0; i < SG_QA_DIMENSIONS; i++)
		in.dims[i] = good ? 5 : 3;
	if (defect) {
		in.defects[0] = defect;
		in.ndefects = 1;
	}
	int rc = sg_qa_score(f->s, cfg, &in, oc, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, 0);
}

static void test_rules(void **state)
{
	struct fx *f = *state;
	struct sg_error err = SG_ERROR_INIT;
	struct ids d;
	struct sg_qa_config cfg;
	struct sg_qa_sample_result r;
	struct sg_qa_outcome oc;
	sg_qa_config_default(&cfg);
	cfg.min_scored = 2;
	fixture(f, &d);

	/* sample this week: AI-handled T1 T2 T6 (all: fewer than 100), and
	 * human-reviewed ceil(2 x 5 %) = 1 of T3 T4 */
	assert_int_equal(sg_qa_sample(f->s, &cfg, f->week, f->from, 0, "test", &r, &err), 0);
	assert_int_equal(r.ai_population, 3);
	assert_int_equal(r.human_population, 2);
	assert_int_equal(r.ai_sampled, 3);
	assert_int_equal(r.human_sampled, 1);
	assert_false(r.existed);
	/* a second run writes nothing */
	assert_int_equal(sg_qa_sample(f->s, &cfg, f->week, f->from, 0, "test", &r, &err), 0);
	assert_true(r.existed);

	struct sample_ids s = {0};
	assert_int_equal(sg_store_qa_sample_list(f->s, f->week, collect, &s, &err), 0);
	assert_int_equal(s.n, 4);
	/* track_order: 2 accurate of 3 = 66.7 % < 92 %: paused */
	int k = 0;
	for (size_t i = 0; i < s.n; i++) {
		if (strcmp(s.cat[i], "track_order"))
			continue;
		score(f, &cfg, s.id[i], k != 1, k == 1 ? "hallucination" : NULL, &oc);
		if (k == 1) {
			/* the hallucination reached the customer: an incident */
			assert_true(oc.incident_id[0] != 0);
			/* 1 accurate of 2 scored = 50 % < 92 %, with min_scored 2 */
			assert_int_equal(oc.npaused, 1);
			assert_string_equal(oc.paused[0], "track_order");
		} else {
			assert_int_equal(oc.npaused, 0);
			assert_true(oc.incident_id[0] == 0);
		}
		k++;
	}
	assert_int_equal(k, 3);
	/* the third score (2 of 3 = 66.7 %) paused nothing new: once per week */
	struct sg_qa_outcome again;
	memset(&again, 0, sizeof(again));
	assert_int_equal(sg_qa_rules_apply(f->s, &cfg, f->week, f->from, "test", 0, &again, &err),
			 0);
	assert_int_equal(again.npaused, 0); /* once per week */
	struct audit_seen a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(sg_store_audit_scan(f->s, NULL, 0, audit_count, &a, &err), 0);
	assert_int_equal(a.sample, 1);
	assert_int_equal(a.score, 3);
	assert_int_equal(a.pause, 1);
	assert_int_equal(a.incident, 1);
	assert_non_null(strstr(a.last_body, "\"category\":\"track_order\""));
	assert_non_null(strstr(a.last_body, "\"threshold_pct\":92"));

	/* the scorecard shows the week's accuracy, the pause and the incident */
	json_t *card = NULL;
	assert_int_equal(sg_qa_scorecard(&card, f->s, &cfg, f->week, f->from, 2, &err), 0);
	const json_t *w = json_object_get(card, "week");
	const json_t *acc = json_object_get(w, "qa_accuracy");
	assert_int_equal(num(acc, "scored"), 3);
	NEAR(num(find(json_object_get(acc, "by_category"), "category", "track_order"), "rate"),
	     2.0 / 3);
	assert_int_equal(json_array_size(json_object_get(card, "paused")), 1);
	assert_int_equal(json_array_size(json_object_get(card, "open_incidents")), 1);
	assert_int_equal(num(find(json_object_get(w, "defects"), "tag", "hallucination"), "count"),
			 1);
	json_decref(card);

	/* a human lifts the pause: audited, and the list is empty */
	assert_int_equal(sg_qa_lift(f->s, "track_order", "lead-lee", &err), 0);
	assert_int_equal(sg_qa_lift(f->s, "track_order", "lead-lee", &err), 1);
	memset(&a, 0, sizeof(a));
	assert_int_equal(sg_store_audit_scan(f->s, NULL, 0, audit_count, &a, &err), 0);
	assert_int_equal(a.lift, 1);
	/* the same week's figures do not pause it again */
	memset(&again, 0, sizeof(again));
	assert_int_equal(sg_qa_rules_apply(f->s, &cfg, f->week, f->from, "test", 0, &again, &err),
			 0);
	assert_int_equal(again.npaused, 0);
}

/* The server's hourly call samples the week that ended, once. */
static void test_auto_sample(void **state)
{
	struct fx *f = *state;
	struct sg_error err = SG_ERROR_INIT;
	struct ids d;
	struct sg_qa_config cfg;
	struct sg_qa_sample_result r;
	char period[SG_QA_PERIOD_LEN];
	sg_qa_config_default(&cfg);
	fixture(f, &d);
	/* "now" is in this week: the week before (P1 auto-sent, P2 approved) */
	assert_int_equal(sg_qa_auto_sample(f->s, &cfg, f->from + HOUR_MS, "qa-auto", period, &r,
					   &err), 0);
	assert_string_equal(period, f->prev);
	assert_false(r.existed);
	assert_int_equal(r.ai_sampled, 1);
	assert_int_equal(r.human_sampled, 1);
	assert_int_equal(sg_qa_auto_sample(f->s, &cfg, f->from + 2 * HOUR_MS, "qa-auto", period,
					   &r, &err), 0);
	assert_true(r.existed);
	struct audit_seen a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(sg_store_audit_scan(f->s, NULL, 0, audit_count, &a, &err), 0);
	assert_int_equal(a.sample, 1);
}

static void test_expand_two_weeks(void **state)
{
	struct fx *f = *state;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_qa_config cfg;
	struct sg_qa_outcome oc;
	sg_qa_config_default(&cfg);
	cfg.min_scored = 2;
	/* two weeks of password tickets, all auto-sent and all scored perfect */
	int64_t weeks[2] = {f->prev_from, f->from};
	const char *names[2] = {f->prev, f->week};
	for (int wk = 0; wk < 2; wk++) {
		for (int i = 0; i < 3; i++) {
			char id[32];
			snprintf(id, sizeof(id), "W%d-%d", wk, i);
			ticket(f, id, "e1", weeks[wk] + (i + 1) * HOUR_MS, "password", "auto_send",
			       "low", "draft_reply", 1, NULL, "", "allowed", NULL);
		}
		struct sg_qa_sample_result r;
		assert_int_equal(sg_qa_sample(f->s, &cfg, names[wk], weeks[wk], 0, "test", &r, &err),
				 0);
		assert_int_equal(r.ai_sampled, 3);
		struct sample_ids s = {0};
		assert_int_equal(sg_store_qa_sample_list(f->s, names[wk], collect, &s, &err), 0);
		size_t suggested = 0;
		for (size_t i = 0; i < s.n; i++) {
			score(f, &cfg, s.id[i], 1, NULL, &oc);
			if (oc.nsuggested)
				assert_string_equal(oc.suggested[0], "password");
			suggested += oc.nsuggested;
		}
		/* the first week alone suggests nothing; the second does, once */
		assert_int_equal(suggested, wk == 1);
	}
	struct audit_seen a;
	memset(&a, 0, sizeof(a));
	assert_int_equal(sg_store_audit_scan(f->s, NULL, 0, audit_count, &a, &err), 0);
	assert_int_equal(a.expand, 1);
	assert_int_equal(a.pause, 0);
}

static void test_score_input_errors(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_qa_score_input in;
	json_t *j = json_loads("{\"factual_accuracy\":5,\"brand_tone\":5,\"completeness\":5,"
			       "\"compliance\":6,\"customer_outcome\":5}", 0, NULL);
	assert_int_equal(sg_qa_score_from_json(&in, j, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "'compliance'"));
	json_decref(j);
	sg_error_clear(&err);
	j = json_loads("{\"factual_accuracy\":5,\"brand_tone\":5,\"completeness\":5,"
		       "\"compliance\":5,\"customer_outcome\":5,\"defects\":[\"typo\"]}", 0, NULL);
	assert_int_equal(sg_qa_score_from_json(&in, j, &err), -SG_EINVALID);
	assert_non_null(strstr(err.msg, "defects[0]"));
	json_decref(j);
	sg_error_clear(&err);
	j = json_loads("{\"factual_accuracy\":5}", 0, NULL);
	assert_true(sg_qa_score_from_json(&in, j, &err) < 0);
	assert_non_null(strstr(err.msg, "brand_tone"));
	json_decref(j);
}

static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(sg_qa_edit_distance("kitten", 6, "sitting", 7, 100), 3);
	assert_int_equal(sg_qa_edit_distance("", 0, "abc", 3, 100), 3);
	assert_int_equal(sg_qa_edit_distance("abc", 3, "abc", 3, 100), 0);
	assert_int_equal(sg_qa_edit_distance("abcdef", 6, "x", 1, 4), 6); /* over the cap */
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weeks),
		cmocka_unit_test(test_select_reproducible_stratified),
		cmocka_unit_test(test_select_minimum_per_category),
		cmocka_unit_test_setup_teardown(test_scorecard_figures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_two_weeks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_sample, setup, teardown),
		cmocka_unit_test(test_score_input_errors),
		cmocka_unit_test(test_edit_distance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
