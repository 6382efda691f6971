/*
 * scan_bench.c - the scanner's own throughput on one core: every text of a
 * JSONL file ({"text": ...} per line) goes through sg_scan_run, which is the
 * whole path a caller pays for (UTF-8 check, normalization, look-alike
 * folding, the vectorscan pass, validators, overlap resolution, offsets
 * mapped back, the masked copy). Reading and decoding the JSON happens once,
 * before the clock starts.
 *
 *   scan_bench FILE [--mode input|output] [--no-model] [--seconds S]
 *
 * Passes over the file repeat until S seconds of CPU time (default 3) have
 * been spent. Prints one JSON object: bytes and texts per pass, passes,
 * CPU seconds (user+system of this thread), wall seconds, MB per CPU
 * second, texts per CPU second, and the findings and masked bytes of the
 * last pass (so the work cannot be skipped).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "classify/classify.h"
#include "core/alloc.h"
#include "scan/scan.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct text {
	char *s;
	size_t n;
};

int main(int argc, char **argv)
{
	const char *path = NULL;
	enum sg_scan_mode mode = SG_SCAN_INPUT;
	int no_model = 0;
	double seconds = 3.0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			mode = !strcmp(argv[++i], "output") ? SG_SCAN_OUTPUT : SG_SCAN_INPUT;
		} else if (!strcmp(argv[i], "--no-model")) {
			no_model = 1;
		} else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
			seconds = atof(argv[++i]);
		} else if (!path) {
			path = argv[i];
		} else {
			fprintf(stderr, "usage: scan_bench FILE [--mode input|output] [--no-model] [--seconds S]\n");
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "usage: scan_bench FILE [--mode input|output] [--no-model] [--seconds S]\n");
		return 2;
	}
	FILE *fp = fopen(path, "r");
	if (!fp) {
		perror(path);
		return 2;
	}
	struct text *texts = NULL;
	size_t ntexts = 0, cap = 0, bytes = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t ll;
	while ((ll = getline(&line, &lcap, fp)) > 0) {
		json_error_t je;
		json_t *o = json_loadb(line, (size_t)ll, 0, &je);
		json_t *t = o ? json_object_get(o, "text") : NULL;
		if (!json_is_string(t)) {
			json_decref(o);
			continue;
		}
		if (ntexts == cap) {
			cap = cap ? cap * 2 : 1024;
			texts = realloc(texts, cap * sizeof(*texts));
			if (!texts)
				return 2;
		}
		size_t n = json_string_length(t);
		texts[ntexts].s = malloc(n + 1);
		if (!texts[ntexts].s)
			return 2;
		memcpy(texts[ntexts].s, json_string_value(t), n + 1);
		texts[ntexts++].n = n;
		bytes += n;
		json_decref(o);
	}
	free(line);
	fclose(fp);

	struct sg_error err = SG_ERROR_INIT;
	struct sg_scan_options so = SG_SCAN_OPTIONS_INIT;
	struct sg_classifier *inj = NULL;
	char model[4096];
	const char *data = getenv("SOPGATE_DATA") ? getenv("SOPGATE_DATA") : "build/data";
	snprintf(model, sizeof(model), "%s/injection.model", data);
	if (!no_model && mode == SG_SCAN_INPUT && access(model, R_OK) == 0) {
		if (sg_classifier_load(&inj, model, &err) < 0) {
			fprintf(stderr, "scan_bench: %s\n", err.msg);
			return 2;
		}
		so.injection_model = inj;
	}
	struct sg_scanner *sc = NULL;
	struct sg_scan_ctx *ctx = NULL;
	if (sg_scanner_new(&sc, &so, &err) || sg_scan_ctx_new(&ctx, sc, &err)) {
		fprintf(stderr, "scan_bench: %s\n", err.msg);
		return 2;
	}

	size_t passes = 0, findings = 0, masked = 0, failed = 0;
	double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC), c1;
	do {
		findings = masked = failed = 0;
		for (size_t i = 0; i < ntexts; i++) {
			struct sg_scan_result *r;
			if (sg_scan_run(ctx, mode, texts[i].s, texts[i].n, NULL, &r, &err)) {
				failed++;
				continue;
			}
			findings += r->nfindings;
			masked += r->masked_len;
		}
		passes++;
		c1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	} while (c1 - c0 < seconds);
	double wall = clock_s(CLOCK_MONOTONIC) - w0, cpu = c1 - c0;
	printf("{\"bytes\":%zu,\"docs\":%zu,\"passes\":%zu,\"cpu_seconds\":%.6f,"
	       "\"wall_seconds\":%.6f,\"mb_per_cpu_s\":%.3f,\"docs_per_cpu_s\":%.1f,"
	       "\"model\":%s,\"findings\":%zu,\"masked_bytes\":%zu,\"failed\":%zu}\n",
	       bytes, ntexts, passes, cpu, wall, (double)bytes * (double)passes / 1e6 / cpu,
	       (double)ntexts * (double)passes / cpu, inj ? "true" : "false", findings, masked,
	       failed);
	sg_scan_ctx_free(ctx);
	sg_scanner_free(sc);
	sg_classifier_free(inj);
	for (size_t i = 0; i < ntexts; i++)
		free(texts[i].s);
	free(texts);
	return failed ? 1 : 0;
}
