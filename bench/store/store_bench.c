/*
 * store_bench.c - durable ticket writes per second on a SQLite file: each
 * write is one ticket event + its decision (~1 KB JSON) + one audit record
 * + two outbox actions in one transaction (synchronous=FULL). Runs each
 * mode on a fresh database: 1 and N threads, each connection committing
 * its own transactions, versus one group committer shared by 1, N, 4N and
 * 16N threads (a server has many requests in flight at once).
 *
 *   store_bench [-n WRITES] [-t THREADS] [-d DIR]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/id.h"
#include "core/json.h"
#include "store/store.h"

static const struct sg_outbox_action actions[] = {
	{"crm.patch", "hubspot", "{\"gate\":\"agent_review\",\"risk_tier\":\"medium\"}", NULL},
	{"helpdesk.note", "zendesk", "{\"text\":\"Draft ready for review\"}", NULL},
};

static char decision[1200];

struct job {
	const char *url;
	int thread, count, group;
	struct sg_store_batcher *b;
	int failures;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	struct sg_store *s = NULL;
	struct sg_error err = SG_ERROR_INIT;
	char writer[32];
	snprintf(writer, sizeof(writer), "bench-%d", j->thread);
	if (!j->group && sg_store_open(&s, j->url, writer, &err) < 0) {
		fprintf(stderr, "open: %s\n", err.msg);
		j->failures = j->count;
		return NULL;
	}
	for (int i = 0; i < j->count; i++) {
		char ticket[48], event[48];
		snprintf(ticket, sizeof(ticket), "T-%d-%d", j->thread, i);
		snprintf(event, sizeof(event), "evt-%d", i);
		struct sg_ticket_write w = {
			.ticket_id = ticket, .event_id = event,
			.event_json = "{\"id\":\"T\",\"channel\":\"email\",\"body\":\"I want my "
				      "money back, my email is [EMAIL_1]\"}",
			.decision_json = decision, .gate = "agent_review",
			.risk_tier = "medium", .intent = "refund_request",
			.queue = "billing", .policy_version = "sha256:0123456789abcdef",
			.actions = actions, .nactions = 2,
		};
		sg_error_clear(&err);
		int rc = j->group ? sg_store_batcher_write(j->b, &w, &err)
				  : sg_store_ticket_write(s, &w, &err);
		if (rc < 0) {
			if (!j->failures)
				fprintf(stderr, "write: %s\n", err.msg);
			j->failures++;
		}
		sg_free(w.stored_decision);
	}
	sg_store_close(s);
	return NULL;
}

static void run(const char *dir, int threads, int group, int total)
{
	char path[512], url[600];
	snprintf(path, sizeof(path), "%s/store-bench-%d.db", dir, (int)getpid());
	const char *suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		char p[600];
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	snprintf(url, sizeof(url), "sqlite:%s", path);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	struct sg_store_batcher *b = NULL;
	if (sg_store_open(&s, url, "committer", &err) < 0) {
		fprintf(stderr, "open: %s\n", err.msg);
		exit(2);
	}
	if (group && sg_store_batcher_start(&b, s, 256, &err) < 0) {
		fprintf(stderr, "batcher: %s\n", err.msg);
		exit(2);
	}
	struct job jobs[64];
	pthread_t th[64];
	uint64_t t0 = sg_mono_ns();
	for (int t = 0; t < threads; t++) {
		jobs[t] = (struct job){url, t, total / threads, group, b, 0};
		pthread_create(&th[t], NULL, worker, &jobs[t]);
	}
	int failures = 0;
	for (int t = 0; t < threads; t++) {
		pthread_join(th[t], NULL);
		failures += jobs[t].failures;
	}
	double secs = (double)(sg_mono_ns() - t0) / 1e9;
	unsigned long commits = b ? sg_store_batcher_commits(b) : 0;
	sg_store_batcher_stop(b);
	sg_store_close(s);
	int done = (total / threads) * threads - failures;
	printf("%-14s threads=%-2d writes=%-6d failed=%-3d %8.0f writes/s",
	       group ? "group-commit" : "per-write-tx", threads, done, failures, done / secs);
	if (group)
		printf("  (%lu transactions, %.1f writes each)", commits,
		       commits ? (double)done / commits : 0.0);
	printf("\n");
	fflush(stdout);
	for (int i = 0; i < 3; i++) {
		char p[600];
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
}

int main(int argc, char **argv)
{
	int total = 2000, threads = 4;
	const char *dir = "/tmp";
	int opt;
	while ((opt = getopt(argc, argv, "n:t:d:")) != -1) {
		if (opt == 'n')
			total = atoi(optarg);
		else if (opt == 't')
			threads = atoi(optarg);
		else if (opt == 'd')
			dir = optarg;
		else {
			fprintf(stderr, "usage: store_bench [-n WRITES] [-t THREADS] [-d DIR]\n");
			return 2;
		}
	}
	if (total < 1 || threads < 1 || threads > 64) {
		fprintf(stderr, "store_bench: -n must be >= 1 and -t 1..64\n");
		return 2;
	}
	sg_json_init();
	/* a decision of realistic size, ~1 KB */
	snprintf(decision, sizeof(decision),
		 "{\"helpdesk_ticket_id\":\"T-1001\",\"customer_id\":\"C-77\",\"channel\":\"email\","
		 "\"intent\":\"refund_request\",\"intent_confidence\":0.91,\"urgency\":\"P2\","
		 "\"sentiment\":\"negative\",\"sentiment_confidence\":0.83,\"frustration\":6,"
		 "\"churn_risk\":5,\"escalation_likelihood\":4,\"language\":\"en\","
		 "\"language_confidence\":0.99,\"risk_tier\":\"medium\",\"confidence_band\":\"high\","
		 "\"ai_used\":true,\"ai_mode\":\"draft_reply\",\"ai_draft_sent\":false,"
		 "\"gate\":\"agent_review\",\"approval_required\":true,\"guardrail_triggered\":true,"
		 "\"guardrail_types\":[\"pii_email\"],\"guardrail_action\":\"masked\","
		 "\"escalated\":false,\"routed_queue\":\"billing\",\"next_action\":\"review_draft\","
		 "\"policy_version\":\"sha256:0123456789abcdef\",\"sop_steps\":[\"step 1: "
		 "refund_status = none\",\"step 2: refund_amount = 199 <= 500\"],\"reasons\":"
		 "[{\"rule\":\"gates.mandatory_review.refund\",\"where\":\"policy.yaml:88\","
		 "\"detail\":\"refund commitment needs a human\"},{\"rule\":\"bands.medium\","
		 "\"where\":\"policy.yaml:41\",\"detail\":\"negative sentiment >= 0.70\"}]}");
	printf("store_bench: %d durable ticket writes per run (event + decision + audit + "
	       "2 outbox actions, synchronous=FULL) in %s\n", total, dir);
	run(dir, 1, 0, total);
	run(dir, threads, 0, total);
	run(dir, 1, 1, total);
	run(dir, threads, 1, total);
	run(dir, 4 * threads, 1, total);
	run(dir, 16 * threads, 1, total);
	return 0;
}
