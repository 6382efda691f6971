/*
 * decide_bench.c - decisions per second on one core and the latency of each
 * decision (p50/p99/max) over the example tickets, no persistence: the
 * pipeline alone (parse, scan, classify, tier, SOP lookups, gate, escalate,
 * serialize the decision to JSON).
 *
 *   bench/decide/run [POLICY] [TICKETS] [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/engine_setup.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/id.h"
#include "core/json.h"
#include "decide/engine.h"

#include <time.h>

/* CPU time of this thread: what one decision costs on a core, without the
 * time other processes on a shared machine took from it. */
static unsigned long long cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *policy = argc > 1 ? argv[1] : "examples/acme/policy.yaml";
	const char *tickets = argc > 2 ? argv[2] : "examples/acme/tickets.jsonl";
	double seconds = argc > 3 ? atof(argv[3]) : 5.0;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_cli_engine ce;
	sg_json_init();
	if (sg_cli_engine_open(&ce, policy, 0, getenv("BENCH_KB"), &err) < 0)
		return 2;
	/* the events, kept as text: parsing is part of each decision */
	FILE *fp = fopen(tickets, "r");
	if (!fp) {
		perror(tickets);
		return 2;
	}
	char **lines = NULL;
	size_t n = 0, cap = 0;
	char buf[1 << 16];
	while (fgets(buf, sizeof(buf), fp)) {
		if (buf[0] == '\n')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			lines = realloc(lines, cap * sizeof(char *));
		}
		lines[n++] = strdup(buf);
	}
	fclose(fp);
	size_t max = 2000000;
	unsigned long long *lat = malloc(max * sizeof(*lat));
	unsigned long long *cpu = malloc(max * sizeof(*cpu));
	struct sg_arena arena;
	struct sg_buf out = SG_BUF_INIT;
	sg_arena_init(&arena, 0);
	size_t done = 0;
	unsigned long long start = sg_mono_ns(), stop = start + (unsigned long long)(seconds * 1e9);
	while (done < max) {
		const char *line = lines[done % n];
		unsigned long long t0 = sg_mono_ns(), c0 = cpu_ns();
		struct sg_ticket t;
		struct sg_decision d;
		sg_arena_reset(&arena);
		sg_buf_reset(&out);
		if (sg_ticket_parse(&t, line, strlen(line), &arena, &err) < 0 ||
		    sg_decide(&d, ce.run, &t, NULL, &err) < 0) {
			fprintf(stderr, "decide_bench: %s\n", err.msg);
			return 1;
		}
		sg_decision_to_json(&d, &out);
		sg_ticket_release(&t);
		unsigned long long t1 = sg_mono_ns();
		cpu[done] = cpu_ns() - c0;
		lat[done++] = t1 - t0;
		if (t1 >= stop)
			break;
	}
	double wall = (double)(sg_mono_ns() - start) / 1e9;
	unsigned long long cpu_total = 0;
	for (size_t i = 0; i < done; i++)
		cpu_total += cpu[i];
	qsort(lat, done, sizeof(*lat), cmp);
	qsort(cpu, done, sizeof(*cpu), cmp);
	printf("decide: %zu decisions over %zu example tickets in %.2f s on one thread\n", done, n, wall);
	printf("  throughput  %.0f decisions/s\n", (double)done / wall);
	printf("  latency     p50 %.1f us  p99 %.1f us  max %.1f us\n", lat[done / 2] / 1e3,
	       lat[(size_t)(done * 0.99)] / 1e3, lat[done - 1] / 1e3);
	printf("  cpu time    %.0f decisions per CPU-second; per decision p50 %.1f us  p99 %.1f us  max %.1f us\n",
	       (double)done / ((double)cpu_total / 1e9), cpu[done / 2] / 1e3,
	       cpu[(size_t)(done * 0.99)] / 1e3, cpu[done - 1] / 1e3);
	printf("  targets     >= 10000 decisions/s, p99 < 200 us\n");
	sg_buf_release(&out);
	sg_arena_release(&arena);
	sg_cli_engine_close(&ce);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	free(lat);
	free(cpu);
	return 0;
}
