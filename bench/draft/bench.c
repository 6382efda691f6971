/*
 * bench.c - drafting benchmark: grows the example KB to at least N
 * passages with synthetic variants of the real articles, indexes it, then
 * measures retrieval latency (p50/p99 over the sample tickets) and built-in
 * drafts per second, on the example KB and on the grown one.
 *
 *   bench KB_DIR TMP_DIR [PASSAGES] [SECONDS]
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/id.h"
#include "core/json.h"
#include "draft/draft.h"
#include "kb/kb.h"
#include "scan/scan.h"

static const char *const tickets[] = {
	"I forgot my password and can't log in",
	"The password reset email never arrived",
	"Where is my order? It still says processing",
	"Tracking has not updated for a week",
	"How long does standard shipping take to arrive",
	"When will my international parcel arrive",
	"How do I change the shipping address on my order",
	"My card expired, how do I update my payment method",
	"Please unsubscribe me from the newsletter",
	"When will I get my refund",
	"I want to cancel my order",
	"Where can I download an invoice",
	"Please delete my account",
	"Our pallet arrived damaged, how do we file a freight claim",
	"I want to talk to a human",
	"What is the capital of France",
};
#define NT (sizeof(tickets) / sizeof(*tickets))

static const char *const swaps[][2] = {
	{"order", "purchase"}, {"parcel", "package"}, {"email", "message"},
	{"account", "profile"}, {"select", "choose"}, {"business days", "working days"},
};

static char *files[256];
static size_t nfiles;

static void walk(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			walk(p);
		else if (strstr(e->d_name, ".md") && nfiles < 256)
			files[nfiles++] = strdup(p);
	}
	if (d)
		closedir(d);
}

/* Copy k of an article: its id, url and title suffixed, a synonym swap
 * chosen by k, and a variant sentence per paragraph. */
static void variant(struct sg_buf *out, const char *text, unsigned k)
{
	const char *from = swaps[k % 6][0], *to = swaps[k % 6][1];
	size_t fl = strlen(from);
	int in_fm = 0, fm_done = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n == 3 && !strncmp(p, "---", 3)) {
			if (!in_fm && !fm_done)
				in_fm = 1;
			else if (in_fm)
				in_fm = 0, fm_done = 1;
			sg_buf_add(out, p, n);
		} else if (in_fm && !strncmp(p, "id: ", 4)) {
			sg_buf_addf(out, "%.*s-v%u", (int)n, p, k);
		} else if (in_fm && !strncmp(p, "url: ", 5)) {
			sg_buf_addf(out, "%.*s-v%u", (int)n, p, k);
		} else if (in_fm && !strncmp(p, "title: ", 7)) {
			sg_buf_addf(out, "%.*s (region %u)", (int)n, p, k);
		} else {
			for (size_t i = 0; i < n;) {
				if (!fm_done || i + fl > n || strncmp(p + i, from, fl))
					sg_buf_addc(out, p[i++]);
				else
					sg_buf_adds(out, to), i += fl;
			}
			if (fm_done && n && p[0] != '#')
				sg_buf_addf(out, " This applies to region %u.", k);
		}
		sg_buf_addc(out, '\n');
		p = nl ? nl + 1 : p + n;
	}
}

/* CPU time of the process: with other work on the machine, wall-clock
 * latency includes waiting for a core; this does not. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU time of this thread: one search's own cost. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void measure(const char *label, struct sg_kb *kb, struct sg_masked_text **m, double secs)
{
	/* retrieval latency */
	size_t n = 0, cap = 1 << 16;
	uint64_t *lat = malloc(cap * sizeof(*lat));
	uint64_t *cpul = malloc(cap * sizeof(*cpul));
	uint64_t t0 = sg_mono_ns();
	double c0 = cpu_s();
	while (n < cap && (sg_mono_ns() - t0) < (uint64_t)(secs * 1e9)) {
		struct sg_kb_hits h;
		struct sg_error err = SG_ERROR_INIT;
		uint64_t s = sg_mono_ns(), cs = thread_cpu_ns();
		if (sg_kb_search(kb, tickets[n % NT], 5, 0, &h, &err)) {
			fprintf(stderr, "search: %s\n", err.msg);
			exit(1);
		}
		cpul[n] = thread_cpu_ns() - cs;
		lat[n++] = sg_mono_ns() - s;
		sg_kb_hits_release(&h);
	}
	double cpu = cpu_s() - c0;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	qsort(cpul, n, sizeof(*cpul), cmp_u64);
	printf("%-10s retrieval (top-5): %zu searches, CPU p50 %.3f ms, p99 %.3f ms, mean %.3f ms/search; wall p50 %.3f ms, p99 %.3f ms\n",
	       label, n, cpul[n / 2] / 1e6, cpul[(n * 99) / 100] / 1e6, cpu * 1e3 / n,
	       lat[n / 2] / 1e6, lat[(n * 99) / 100] / 1e6);
	free(lat);
	free(cpul);
	/* drafts per second */
	size_t drafts = 0, escalated = 0;
	t0 = sg_mono_ns();
	c0 = cpu_s();
	uint64_t el;
	while ((el = sg_mono_ns() - t0) < (uint64_t)(secs * 1e9)) {
		struct sg_draft_request req = {m[drafts % NT], NULL, "Jane", NULL, 0, 0, 0};
		struct sg_draft d;
		struct sg_error err = SG_ERROR_INIT;
		if (sg_draft_builtin(&d, kb, &req, &err)) {
			fprintf(stderr, "draft: %s\n", err.msg);
			exit(1);
		}
		escalated += d.escalate;
		sg_draft_release(&d);
		drafts++;
	}
	cpu = cpu_s() - c0;
	printf("%-10s built-in drafter: %zu drafts in %.2f s = %.0f drafts/s wall, %.0f drafts per CPU-second (%zu escalated)\n",
	       label, drafts, el / 1e9, drafts / (el / 1e9), drafts / cpu, escalated);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench KB_DIR TMP_DIR [PASSAGES] [SECONDS]\n");
		return 2;
	}
	const char *kbdir = argv[1], *tmp = argv[2];
	unsigned want = argc > 3 ? (unsigned)atoi(argv[3]) : 10000;
	double secs = argc > 4 ? atof(argv[4]) : 2.0;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_scan_options o = SG_SCAN_OPTIONS_INIT;
	struct sg_scanner *sc;
	struct sg_scan_ctx *ctx;
	if (sg_scanner_new(&sc, &o, &err) || sg_scan_ctx_new(&ctx, sc, &err)) {
		fprintf(stderr, "scanner: %s\n", err.msg);
		return 1;
	}
	struct sg_masked_text *m[NT];
	for (size_t i = 0; i < NT; i++)
		if (sg_masked_new(&m[i], ctx, tickets[i], strlen(tickets[i]), NULL, &err))
			return 1;

	char db[1024], grown[1024];
	snprintf(db, sizeof(db), "%s/example.db", tmp);
	struct sg_kb *kb;
	struct sg_kb_stats st;
	if (sg_kb_open(&kb, db, &err) || sg_kb_index(kb, kbdir, &st, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	printf("example KB: %u articles, %u passages\n", st.added, st.passages);
	measure("example", kb, m, secs);
	double per = (double)st.passages / (st.added ? st.added : 1);
	sg_kb_close(kb);

	/* grow: variants of every real article until the passage target */
	walk(kbdir);
	snprintf(grown, sizeof(grown), "%s/grown", tmp);
	mkdir(grown, 0700);
	double est = 0;
	unsigned k = 0;
	while (est < want * 1.05) {
		k++;
		for (size_t i = 0; i < nfiles; i++) {
			char *text;
			size_t len;
			if (sg_read_file(files[i], &text, &len, &err))
				return 1;
			struct sg_buf b = SG_BUF_INIT;
			variant(&b, text, k);
			char p[1200];
			snprintf(p, sizeof(p), "%s/v%u-%zu.md", grown, k, i);
			FILE *fp = fopen(p, "w");
			fwrite(b.data, 1, b.len, fp);
			fclose(fp);
			sg_buf_release(&b);
			sg_free(text);
			est += per;
		}
	}
	snprintf(db, sizeof(db), "%s/grown.db", tmp);
	uint64_t t0 = sg_mono_ns();
	if (sg_kb_open(&kb, db, &err) || sg_kb_index(kb, grown, &st, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	double ix = (sg_mono_ns() - t0) / 1e9;
	printf("grown KB: %u articles, %u passages, indexed in %.2f s\n", st.added, st.passages, ix);
	t0 = sg_mono_ns();
	sg_kb_index(kb, grown, &st, &err);
	printf("grown KB: re-index with nothing changed: %.3f s (%u unchanged)\n",
	       (sg_mono_ns() - t0) / 1e9, st.unchanged);
	measure("grown", kb, m, secs);
	sg_kb_close(kb);
	for (size_t i = 0; i < NT; i++)
		sg_masked_free(m[i]);
	sg_scan_ctx_free(ctx);
	sg_scanner_free(sc);
	return 0;
}
