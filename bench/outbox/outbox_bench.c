/*
 * outbox_bench.c - outbox delivery throughput: N actions queued in a real
 * SQLite database (durable commits), delivered by the outbox worker
 * (libcurl multi, `concurrency` in flight) to a loopback webhook fake that
 * answers 200 at once. Prints wall time, actions per second and CPU time
 * per action (user + sys of the whole process, fake server included).
 * Usage: outbox_bench [-n ACTIONS] [-c CONCURRENCY]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connectors/connector.h"
#include "core/alloc.h"
#include "core/id.h"
#include "core/json.h"
#include "outbox/fake_test.h"
#include "outbox/outbox.h"
#include "policy/policy.h"
#include "store/store.h"

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	int n = 2000, conc = 8;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-n"))
			n = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "-c"))
			conc = atoi(argv[i + 1]);
	}
	sg_json_init();
	struct fake f;
	if (fake_start(&f, 200, "{}") < 0)
		return 2;
	char dir[] = "/tmp/outbox-bench-XXXXXX", url[128], text[2048];
	if (!mkdtemp(dir))
		return 2;
	snprintf(url, sizeof(url), "sqlite:%s/db", dir);
	snprintf(text, sizeof(text),
		 "name: bench\nqueues: {q: {}}\n"
		 "classifier: {model: builtin, min_confidence: 0.7, triage_queue: q}\n"
		 "intents: {other: {tier: low}}\n"
		 "bands: {high: {intent: 0.8, sentiment: 0.7}, medium: {intent: 0.6}, summarize_only_below: 0.6}\n"
		 "gates: {auto_send: {min_confidence: 0.85, plans: [free]}, default: agent_review}\n"
		 "connectors: {hook: {type: webhook, base_url: 'http://127.0.0.1:%u/h', secret_env: BENCH_SECRET}}\n"
		 "outbox: {concurrency: %d}\n", f.port, conc);
	setenv("BENCH_SECRET", "bench", 1);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_diags d;
	struct sg_policy *p = NULL;
	struct sg_connectors *cs = NULL;
	struct sg_store *s = NULL;
	struct sg_outbox *ob = NULL;
	sg_diags_init(&d);
	if (sg_policy_load_mem(&p, "bench.yaml", text, strlen(text), &d, &err) < 0 ||
	    sg_connectors_build(&cs, p, &err) < 0 || sg_store_open(&s, url, "bench", &err) < 0) {
		fprintf(stderr, "outbox_bench: %s\n", err.msg);
		return 2;
	}
	/* queue: 10 actions per ticket event, one transaction each */
	struct sg_outbox_action acts[10];
	for (int k = 0; k < 10; k++)
		acts[k] = (struct sg_outbox_action){"notify", NULL,
						    "{\"kind\":\"notify\",\"connector\":\"hook\"}", NULL};
	for (int i = 0; i < n / 10; i++) {
		char tid[32];
		snprintf(tid, sizeof(tid), "B-%d", i);
		struct sg_ticket_write w;
		memset(&w, 0, sizeof(w));
		w.ticket_id = tid;
		w.event_id = "e";
		w.event_json = "{}";
		w.decision_json = "{}";
		w.gate = w.risk_tier = w.intent = w.queue = w.policy_version = "x";
		w.actions = acts;
		w.nactions = 10;
		if (sg_store_ticket_write(s, &w, &err) < 0) {
			fprintf(stderr, "outbox_bench: %s\n", err.msg);
			return 2;
		}
	}
	n = n / 10 * 10;
	struct sg_outbox_options o = {"bench", NULL, NULL};
	if (sg_outbox_new(&ob, url, cs, &o, &err) < 0) {
		fprintf(stderr, "outbox_bench: %s\n", err.msg);
		return 2;
	}
	struct sg_outbox_stats st = {0};
	double c0 = cpu_s();
	uint64_t t0 = sg_mono_ns();
	if (sg_outbox_run(ob, 0, &st, &err) < 0) {
		fprintf(stderr, "outbox_bench: %s\n", err.msg);
		return 2;
	}
	double wall = (double)(sg_mono_ns() - t0) / 1e9, cpu = cpu_s() - c0;
	long sent = 0;
	sg_store_outbox_count(s, "sent", &sent, &err);
	printf("outbox delivery: %d actions, concurrency %d, loopback webhook fake\n", n, conc);
	printf("  sent %lu (store: %ld), retried %lu, dead %lu\n", st.sent, sent, st.retried, st.dead);
	printf("  wall %.2f s = %.0f actions/s; CPU (user+sys, whole process incl. the fake) "
	       "%.2f s = %.3f ms/action\n", wall, n / wall, cpu, cpu * 1000 / n);
	sg_outbox_free(ob);
	sg_store_close(s);
	sg_connectors_free(cs);
	sg_policy_free(p);
	sg_diags_release(&d);
	fake_stop(&f);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 && (long)st.sent == n ? 0 : 1;
}
