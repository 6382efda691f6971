/*
 * cmd_kb.c - `sopgate kb`: index a folder of Markdown help articles into a
 * SQLite FTS5 knowledge base, search it, list its approved URLs.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/limits.h"
#include "kb/kb.h"
#include "core/banned.h"

extern const struct sg_cmd sg_cmd_kb;

static int cmd_index(int argc, char **argv)
{
	const char *dir = NULL, *db = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			db = argv[++i];
		else if (argv[i][0] == '-')
			return sg_cli_usage_error(&sg_cmd_kb, "unknown option '%s'", argv[i]);
		else if (!dir)
			dir = argv[i];
		else
			return sg_cli_usage_error(&sg_cmd_kb, "unexpected argument '%s'", argv[i]);
	}
	if (!dir || !db)
		return sg_cli_usage_error(&sg_cmd_kb, "index needs DIR and --db FILE");
	struct sg_error err = SG_ERROR_INIT;
	struct sg_kb *kb = NULL;
	struct sg_kb_stats st;
	int rc = sg_kb_open(&kb, db, &err);
	if (!rc)
		rc = sg_kb_index(kb, dir, &st, &err);
	sg_kb_close(kb);
	if (rc) {
		sg_cli_print_error(&err);
		return SG_EXIT_FAIL;
	}
	printf("indexed %s: %u added, %u updated, %u unchanged, %u removed, %u passages written\n",
	       dir, st.added, st.updated, st.unchanged, st.removed, st.passages);
	return SG_EXIT_OK;
}

static void one_line(const char *s, int max)
{
	int n = 0;
	for (; *s && n < max; s++, n++)
		putchar(*s == '\n' ? ' ' : *s);
	if (*s)
		fputs("...", stdout);
}

static int cmd_search(int argc, char **argv)
{
	const char *db = NULL, *query = NULL;
	long k = 5;
	int json = 0;
	unsigned flags = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			db = argv[++i];
		else if (!strcmp(argv[i], "--k") && i + 1 < argc) {
			char *end;
			k = strtol(argv[++i], &end, 10);
			if (*end || k < 1 || k > SG_MAX_KB_HITS)
				return sg_cli_usage_error(&sg_cmd_kb, "--k: expected 1..%d, got '%s'",
							  SG_MAX_KB_HITS, argv[i]);
		} else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--all"))
			flags |= SG_KB_INCLUDE_UNAPPROVED;
		else if (!strcmp(argv[i], "--"))
			query = i + 1 < argc ? argv[++i] : NULL;
		else if (argv[i][0] == '-' && argv[i][1])
			return sg_cli_usage_error(&sg_cmd_kb, "unknown option '%s'", argv[i]);
		else if (!query)
			query = argv[i];
		else
			return sg_cli_usage_error(&sg_cmd_kb, "unexpected argument '%s' (quote the query)", argv[i]);
	}
	if (!db || !query)
		return sg_cli_usage_error(&sg_cmd_kb, "search needs --db FILE and a query");
	struct sg_error err = SG_ERROR_INIT;
	struct sg_kb *kb = NULL;
	struct sg_kb_hits hits = {0};
	int rc = sg_kb_open(&kb, db, &err);
	if (!rc)
		rc = sg_kb_search(kb, query, (size_t)k, flags, &hits, &err);
	if (rc) {
		sg_kb_close(kb);
		sg_cli_print_error(&err);
		return SG_EXIT_FAIL;
	}
	if (json) {
		struct sg_buf b = SG_BUF_INIT;
		for (size_t i = 0; i < hits.n; i++) {
			const struct sg_kb_hit *h = &hits.v[i];
			sg_buf_addf(&b, "{\"rank\":%zu,\"id\":", i + 1);
			sg_buf_add_json_str(&b, h->article_id, strlen(h->article_id));
			sg_buf_adds(&b, ",\"title\":");
			sg_buf_add_json_str(&b, h->title, strlen(h->title));
			sg_buf_adds(&b, ",\"url\":");
			sg_buf_add_json_str(&b, h->url, strlen(h->url));
			sg_buf_adds(&b, ",\"heading\":");
			sg_buf_add_json_str(&b, h->heading, strlen(h->heading));
			sg_buf_addf(&b, ",\"score\":%.3f,\"text\":", h->score);
			sg_buf_add_json_str(&b, h->text, strlen(h->text));
			sg_buf_adds(&b, "}\n");
		}
		fwrite(b.data, 1, b.len, stdout);
		sg_buf_release(&b);
	} else {
		const char *bold = sg_cli_sgr(stdout, "1"), *off = sg_cli_sgr(stdout, "0");
		if (!hits.n)
			printf("no passages match\n");
		for (size_t i = 0; i < hits.n; i++) {
			const struct sg_kb_hit *h = &hits.v[i];
			printf("%zu. %s%s%s  score %.2f  kb:%s\n   %s\n   ", i + 1, bold, h->title, off,
			       h->score, h->article_id, h->url);
			if (*h->heading)
				printf("[%s] ", h->heading);
			one_line(h->text, 160);
			putchar('\n');
		}
	}
	sg_kb_hits_release(&hits);
	sg_kb_close(kb);
	return SG_EXIT_OK;
}

static int cmd_urls(int argc, char **argv)
{
	const char *db = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--db") && i + 1 < argc)
			db = argv[++i];
		else
			return sg_cli_usage_error(&sg_cmd_kb, "unexpected argument '%s'", argv[i]);
	}
	if (!db)
		return sg_cli_usage_error(&sg_cmd_kb, "urls needs --db FILE");
	struct sg_error err = SG_ERROR_INIT;
	struct sg_kb *kb = NULL;
	char **urls = NULL;
	size_t n = 0;
	int rc = sg_kb_open(&kb, db, &err);
	if (!rc)
		rc = sg_kb_approved_urls(&urls, &n, kb, &err);
	sg_kb_close(kb);
	if (rc) {
		sg_cli_print_error(&err);
		return SG_EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		puts(urls[i]);
	sg_kb_tokens_free(urls, n);
	return SG_EXIT_OK;
}

static int run(int argc, char **argv)
{
	if (argc < 2)
		return sg_cli_usage_error(&sg_cmd_kb, "missing subcommand (index, search or urls)");
	if (!strcmp(argv[1], "index"))
		return cmd_index(argc, argv);
	if (!strcmp(argv[1], "search"))
		return cmd_search(argc, argv);
	if (!strcmp(argv[1], "urls"))
		return cmd_urls(argc, argv);
	return sg_cli_usage_error(&sg_cmd_kb, "unknown subcommand '%s' (index, search or urls)", argv[1]);
}

const struct sg_cmd sg_cmd_kb = {
	"kb",
	"index and search the knowledge base (Markdown help articles)",
	"sopgate kb index DIR --db FILE\n"
	"sopgate kb search --db FILE [--k N] [--json] [--all] QUERY\n"
	"sopgate kb urls --db FILE\n"
	"\n"
	"  index    index every *.md article under DIR (front matter: id, title,\n"
	"           url, tags, language, approved); unchanged files are skipped,\n"
	"           removed files are dropped\n"
	"  search   top passages for QUERY ranked by bm25 (default --k 5); the\n"
	"           query is plain words, never search syntax; --all includes\n"
	"           articles not approved\n"
	"  urls     the URLs of the approved articles (approved link sources)\n",
	run,
};
