/*
 * qa_bench.c - scorecard computation time on a year of tickets. Generates
 * DAYS days of TICKETS tickets a day into a fresh SQLite file (the store's
 * own schema, opened and migrated by sg_store_open; rows written in large
 * transactions, the way the store writes them but without a commit per
 * ticket), then measures, with CPU time (getrusage user+sys) beside wall
 * time:
 *   1. the first scorecard of the last week with an 8-week trend, which
 *      extracts the facts of those 8 weeks' decisions (cold);
 *   2. the same scorecard again (warm: facts present);
 *   3. a 52-week trend scorecard (facts of the whole year extracted first);
 *   4. the same again (warm);
 *   5. drawing the last week's QA sample.
 *
 *   qa_bench [-d DAYS] [-t TICKETS_PER_DAY] [-o DIR] [-k]   (-k keeps the file)
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/id.h"
#include "core/json.h"
#include "qa/qa.h"
#include "store/store.h"

#define DAY_MS (24LL * 3600 * 1000)

static const struct {
	const char *intent, *tier;
	double weight;
} intents[] = {
	{"track_order", "low", 22},       {"recover_password", "low", 18},
	{"change_shipping_address", "low", 9}, {"get_invoice", "low", 8},
	{"cancel_order", "medium", 9},    {"get_refund", "medium", 10},
	{"payment_issue", "medium", 8},   {"delivery_period", "low", 7},
	{"complaint", "medium", 5},       {"delete_account", "high", 2.5},
	{"legal_threat", "high", 1.3},    {"security_incident", "high", 0.2},
};
#define NINTENTS (sizeof(intents) / sizeof(intents[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static double rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check(int rc, sqlite3 *db, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "qa_bench: %s: %s\n", what, sqlite3_errmsg(db));
		exit(1);
	}
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	check(sqlite3_prepare_v2(db, sql, -1, &st, NULL), db, sql);
	return st;
}

static void step(sqlite3 *db, sqlite3_stmt *st)
{
	check(sqlite3_step(st), db, "insert");
	sqlite3_reset(st);
}

static void generate(const char *path, int days, int per_day, int64_t start)
{
	sqlite3 *db;
	check(sqlite3_open(path, &db), db, "open");
	sqlite3_exec(db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	sqlite3_stmt *ev = prep(db, "INSERT INTO ticket_events (ticket_id, event_id, received_at, body,"
				    " decision_id) VALUES (?, ?, ?, ?, ?)");
	sqlite3_stmt *de = prep(db, "INSERT INTO decisions (id, ticket_id, event_id, gate, risk_tier,"
				    " intent, queue, policy_version, created_at, body)"
				    " VALUES (?, ?, ?, ?, ?, ?, ?, 'sha256:bench', ?, ?)");
	sqlite3_stmt *tk = prep(db, "INSERT INTO tickets (id, state, latest_decision_id, created_at,"
				    " updated_at) VALUES (?, 'open', ?, ?, ?) ON CONFLICT (id) DO UPDATE"
				    " SET latest_decision_id = excluded.latest_decision_id,"
				    " updated_at = excluded.updated_at");
	sqlite3_stmt *ap = prep(db, "INSERT INTO approvals (id, ticket_id, decision_id, user_name, role,"
				    " action, step, note, created_at) VALUES (?, ?, ?, 'agent', 'agent',"
				    " ?, 1, NULL, ?)");
	sqlite3_stmt *dr = prep(db, "INSERT INTO drafts (ticket_id, version, decision_id, author, text,"
				    " diff, created_at) VALUES (?, 1, ?, 'agent', ?, ?, ?)");
	sqlite3_stmt *es = prep(db, "INSERT INTO escalations (id, ticket_id, level, owner, channel,"
				    " reason, due_at, state, created_at, updated_at) VALUES (?, ?, 1,"
				    " 'lead', NULL, 'draft rejected twice', ?, ?, ?, ?)");
	sqlite3_stmt *cs = prep(db, "INSERT INTO qa_csat (ticket_id, score, received_at) VALUES (?, ?, ?)");
	double total_w = 0;
	for (size_t i = 0; i < NINTENTS; i++)
		total_w += intents[i].weight;
	char body[2048], dec[2048], tid[32], did[SG_ID_LEN], eid[8], aid[SG_ID_LEN];
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	long n = 0;
	for (int d = 0; d < days; d++) {
		for (int k = 0; k < per_day; k++, n++) {
			int64_t at = start + d * DAY_MS + (int64_t)(rnd() * (double)DAY_MS);
			double w = rnd() * total_w;
			size_t ii = 0;
			while (ii + 1 < NINTENTS && w > intents[ii].weight)
				w -= intents[ii++].weight;
			const char *tier = intents[ii].tier;
			double g = rnd();
			const char *gate = !strcmp(tier, "high") ? (g < 0.5 ? "senior_review" : "two_step")
					   : g < 0.45 && !strcmp(tier, "low") ? "auto_send"
					   : g < 0.92 ? "agent_review" : "human_only";
			int sent = !strcmp(gate, "auto_send");
			const char *mode = !strcmp(gate, "human_only") || !strcmp(tier, "high")
						   ? "summarize_only" : "draft_reply";
			int escalated = rnd() < 0.06;
			const char *reason = escalated ? (rnd() < 0.5 ? "customer_requested_human"
								      : "refund_over_500") : NULL;
			double gr = rnd();
			const char *types = gr < 0.12 ? "\"pii.email\"" : gr < 0.16 ? "\"refunds\""
					    : gr < 0.18 ? "\"injection\"" : "";
			const char *gaction = gr < 0.12 ? "masked" : gr < 0.18 ? "blocked" : "allowed";
			int events = rnd() < 0.15 ? 2 : 1;
			snprintf(tid, sizeof(tid), "T-%ld", n);
			for (int e = 0; e < events; e++) {
				int64_t eat = at + e * 3 * 3600 * 1000LL;
				snprintf(eid, sizeof(eid), "e%d", e + 1);
				sg_id_new(did);
				snprintf(dec, sizeof(dec),
					 "{\"helpdesk_ticket_id\":\"%s\",\"customer_id\":\"C-%ld\",\"channel\":"
					 "\"email\",\"intent\":\"%s\",\"intent_confidence\":0.91,\"urgency\":"
					 "\"P3\",\"sentiment\":\"neutral\",\"sentiment_confidence\":0.8,"
					 "\"risk_tier\":\"%s\",\"confidence_band\":\"high\",\"ai_used\":true,"
					 "\"ai_mode\":\"%s\",\"ai_draft_sent\":%s,\"gate\":\"%s\","
					 "\"approval_required\":%s,\"guardrail_triggered\":%s,"
					 "\"guardrail_types\":[%s],\"guardrail_action\":\"%s\",\"escalated\":%s,"
					 "\"escalation_reason\":%s%s%s,\"routed_queue\":\"tier-1\","
					 "\"policy_version\":\"sha256:bench\",\"reasons\":[{\"rule\":"
					 "\"intents.%s\",\"where\":\"policy.yaml:42\",\"detail\":\"intent %s "
					 "is tier %s\"},{\"rule\":\"bands.high\",\"where\":\"policy.yaml:88\","
					 "\"detail\":\"intent_confidence = 0.91 >= 0.80\"}]}",
					 tid, n % 50000, intents[ii].intent, tier, mode,
					 sent ? "true" : "false", gate, sent ? "false" : "true",
					 *types ? "true" : "false", types, gaction,
					 escalated ? "true" : "false", reason ? "\"" : "",
					 reason ? reason : "null", reason ? "\"" : "", intents[ii].intent,
					 intents[ii].intent, tier);
				snprintf(body, sizeof(body), "{\"id\":\"%s\",\"event_id\":\"%s\",\"channel\":"
					 "\"email\",\"customer\":{\"id\":\"C-%ld\",\"tier\":\"paid\"},"
					 "\"text\":\"Hello, where is my order [EMAIL_1]?\"}", tid, eid,
					 n % 50000);
				sqlite3_bind_text(ev, 1, tid, -1, SQLITE_STATIC);
				sqlite3_bind_text(ev, 2, eid, -1, SQLITE_STATIC);
				sqlite3_bind_int64(ev, 3, eat);
				sqlite3_bind_text(ev, 4, body, -1, SQLITE_STATIC);
				sqlite3_bind_text(ev, 5, did, -1, SQLITE_STATIC);
				step(db, ev);
				sqlite3_bind_text(de, 1, did, -1, SQLITE_STATIC);
				sqlite3_bind_text(de, 2, tid, -1, SQLITE_STATIC);
				sqlite3_bind_text(de, 3, eid, -1, SQLITE_STATIC);
				sqlite3_bind_text(de, 4, gate, -1, SQLITE_STATIC);
				sqlite3_bind_text(de, 5, tier, -1, SQLITE_STATIC);
				sqlite3_bind_text(de, 6, intents[ii].intent, -1, SQLITE_STATIC);
				sqlite3_bind_text(de, 7, "tier-1", -1, SQLITE_STATIC);
				sqlite3_bind_int64(de, 8, eat);
				sqlite3_bind_text(de, 9, dec, -1, SQLITE_STATIC);
				step(db, de);
				sqlite3_bind_text(tk, 1, tid, -1, SQLITE_STATIC);
				sqlite3_bind_text(tk, 2, did, -1, SQLITE_STATIC);
				sqlite3_bind_int64(tk, 3, eat);
				sqlite3_bind_int64(tk, 4, eat);
				step(db, tk);
				if (!sent && !strcmp(mode, "draft_reply")) {
					double a = rnd();
					const char *act = a < 0.80 ? "approve" : a < 0.92 ? "edit" : "reject";
					int64_t aat = eat + (int64_t)(rnd() * 4 * 3600 * 1000);
					sg_id_new(aid);
					sqlite3_bind_text(ap, 1, aid, -1, SQLITE_STATIC);
					sqlite3_bind_text(ap, 2, tid, -1, SQLITE_STATIC);
					sqlite3_bind_text(ap, 3, did, -1, SQLITE_STATIC);
					sqlite3_bind_text(ap, 4, act, -1, SQLITE_STATIC);
					sqlite3_bind_int64(ap, 5, aat);
					step(db, ap);
					if (!strcmp(act, "edit") && e == 0) {
						sqlite3_bind_text(dr, 1, tid, -1, SQLITE_STATIC);
						sqlite3_bind_text(dr, 2, did, -1, SQLITE_STATIC);
						sqlite3_bind_text(dr, 3, "Hello, your order ships on Monday "
							"with tracking by email.", -1, SQLITE_STATIC);
						sqlite3_bind_text(dr, 4, "@@ -1,1 +1,1 @@\n-Hello, your order "
							"ships today.\n+Hello, your order ships on Monday with "
							"tracking by email.\n", -1, SQLITE_STATIC);
						sqlite3_bind_int64(dr, 5, aat);
						step(db, dr);
					}
					if (!strcmp(act, "reject") && rnd() < 0.3) {
						sg_id_new(aid);
						sqlite3_bind_text(es, 1, aid, -1, SQLITE_STATIC);
						sqlite3_bind_text(es, 2, tid, -1, SQLITE_STATIC);
						sqlite3_bind_int64(es, 3, aat + 3600000);
						sqlite3_bind_text(es, 4, rnd() < 0.2 ? "breached" : "resolved", -1,
								  SQLITE_STATIC);
						sqlite3_bind_int64(es, 5, aat);
						sqlite3_bind_int64(es, 6, aat + 3600000);
						step(db, es);
					}
				}
			}
			if (rnd() < 0.3) {
				sqlite3_bind_text(cs, 1, tid, -1, SQLITE_STATIC);
				sqlite3_bind_int(cs, 2, 1 + (int)(rnd() * 5));
				sqlite3_bind_int64(cs, 3, at + DAY_MS);
				step(db, cs);
			}
			if (n % 200000 == 199999) {
				sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL);
				fprintf(stderr, "\r  %ld tickets", n + 1);
			}
		}
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	fprintf(stderr, "\r  %ld tickets written\n", n);
	sqlite3_stmt *all[] = {ev, de, tk, ap, dr, es, cs};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(db);
}

static void report(const char *what, double c0, double w0, const char *extra)
{
	printf("%-58s cpu %8.3f s  wall %8.3f s  %s\n", what, cpu_s() - c0, wall_s() - w0,
	       extra ? extra : "");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int days = 365, per_day = 5000, keep = 0;
	const char *dir = "/tmp";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc)
			days = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-t") && i + 1 < argc)
			per_day = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "-k"))
			keep = 1;
		else {
			fprintf(stderr, "usage: qa_bench [-d DAYS] [-t TICKETS_PER_DAY] [-o DIR] [-k]\n");
			return 2;
		}
	}
	sg_json_init();
	char path[512], url[600];
	snprintf(path, sizeof(path), "%s/qa-bench-%d.db", dir, (int)getpid());
	snprintf(url, sizeof(url), "sqlite:%s", path);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	/* a year ending with the last complete week */
	char last[SG_QA_PERIOD_LEN];
	int64_t last_from;
	sg_qa_week_of(last, &last_from, sg_now_ms() - SG_QA_WEEK_MS);
	int64_t start = last_from + SG_QA_WEEK_MS - (int64_t)days * DAY_MS;
	if (sg_store_open(&s, url, "bench", &err) < 0) {
		fprintf(stderr, "qa_bench: %s\n", err.msg);
		return 1;
	}
	sg_store_close(s);
	printf("qa_bench: %d days x %d tickets/day = %ld tickets, ending %s, file %s\n", days,
	       per_day, (long)days * per_day, last, path);
	double c0 = cpu_s(), w0 = wall_s();
	generate(path, days, per_day, start);
	struct stat sb;
	char extra[96];
	snprintf(extra, sizeof(extra), "(%.0f MB)", stat(path, &sb) ? 0 : (double)sb.st_size / 1e6);
	report("generate the data set", c0, w0, extra);

	if (sg_store_open(&s, url, "bench", &err) < 0) {
		fprintf(stderr, "qa_bench: %s\n", err.msg);
		return 1;
	}
	struct sg_qa_config cfg;
	sg_qa_config_default(&cfg);
	json_t *card = NULL;
	static const struct {
		int weeks;
		const char *what;
	} runs[] = {
		{8, "scorecard, last week + 8-week trend (cold: extracts facts)"},
		{8, "scorecard, last week + 8-week trend (warm)"},
		{52, "scorecard, 52-week trend (cold for the older weeks)"},
		{52, "scorecard, 52-week trend (warm)"},
	};
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		c0 = cpu_s();
		w0 = wall_s();
		if (sg_qa_scorecard(&card, s, &cfg, last, last_from, runs[r].weeks, &err) < 0) {
			fprintf(stderr, "qa_bench: %s\n", err.msg);
			return 1;
		}
		const json_t *w = json_object_get(card, "week");
		snprintf(extra, sizeof(extra), "(%lld tickets in %s, deflection %.3f)",
			 (long long)json_integer_value(json_object_get(w, "tickets")), last,
			 json_number_value(json_object_get(json_object_get(w, "deflection"), "rate")));
		report(runs[r].what, c0, w0, extra);
		json_decref(card);
	}
	struct sg_qa_sample_result sr;
	c0 = cpu_s();
	w0 = wall_s();
	if (sg_qa_sample(s, &cfg, last, last_from, 0, "bench", &sr, &err) < 0) {
		fprintf(stderr, "qa_bench: %s\n", err.msg);
		return 1;
	}
	snprintf(extra, sizeof(extra), "(%ld of %ld AI-handled, %ld of %ld reviewed, %ld categories)",
		 sr.ai_sampled, sr.ai_population, sr.human_sampled, sr.human_population,
		 sr.categories);
	report("draw the last week's QA sample", c0, w0, extra);
	sg_store_close(s);
	if (!keep) {
		unlink(path);
		char side[600];
		snprintf(side, sizeof(side), "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", path);
		unlink(side);
	}
	return 0;
}
