/*
 * cmd_decide.c - `sopgate decide`: ticket events in (one JSON object or
 * JSONL), decisions out; JSON with --json, an explanation otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/engine_setup.h"
#include "core/json.h"
#include "core/limits.h"
#include "decide/engine.h"
#include "core/banned.h"

static int run(int argc, char **argv);

const struct sg_cmd sg_cmd_decide = {
	"decide",
	"decide tickets against a policy and explain why",
	"sopgate decide --policy POLICY [--kb KB.db] [--json] [FILE|-]\n"
	"  Reads ticket events (one JSON object per line) and prints one decision\n"
	"  per event, in order: JSON with --json, a readable explanation otherwise.\n"
	"  A bad line prints an error naming the line and the field; the rest go on\n"
	"  and the exit status is 1. With --kb (a database made by `sopgate kb\n"
	"  index`), tickets the AI may answer get a draft grounded in it.\n",
	run,
};

static int run(int argc, char **argv)
{
	const char *policy = NULL, *file = NULL, *kb = NULL;
	int json = 0, failed = 0, rc = SG_EXIT_OK;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--policy") && i + 1 < argc)
			policy = argv[++i];
		else if (!strcmp(argv[i], "--kb") && i + 1 < argc)
			kb = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return sg_cli_usage_error(&sg_cmd_decide, "unknown option '%s'", argv[i]);
		else if (!file)
			file = argv[i];
		else
			return sg_cli_usage_error(&sg_cmd_decide, "one input file at most");
	}
	if (!policy)
		return sg_cli_usage_error(&sg_cmd_decide, "--policy is required");

	struct sg_cli_engine ce;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_cli_engine_open(&ce, policy, 0, kb, &err) < 0)
		return SG_EXIT_USAGE;
	FILE *fp = sg_cli_open_input(file, &err);
	if (!fp) {
		sg_cli_print_error(&err);
		sg_cli_engine_close(&ce);
		return SG_EXIT_USAGE;
	}
	struct sg_lines lines;
	struct sg_buf out = SG_BUF_INIT;
	struct sg_arena arena;
	sg_arena_init(&arena, 0);
	sg_lines_init(&lines, fp, SG_MAX_LINE_BYTES);
	int color = !json && sg_cli_color(stdout);
	for (;;) {
		sg_error_clear(&err);
		int got = sg_lines_next(&lines, &err);
		if (got == 0)
			break;
		if (got == 1 && lines.len == 0)
			continue;
		struct sg_ticket t;
		struct sg_decision d;
		sg_arena_reset(&arena);
		sg_buf_reset(&out);
		if (got < 0 || sg_ticket_parse(&t, lines.line, lines.len, &arena, &err) < 0 ||
		    sg_decide(&d, ce.run, &t, NULL, &err) < 0) {
			char msg[800];
			fprintf(stderr, "sopgate decide: line %lu: %s\n", lines.lineno,
				sg_error_format(&err, msg, sizeof(msg)));
			if (json) {
				sg_buf_adds(&out, "{\"error\":");
				sg_buf_add_json_str(&out, msg, strlen(msg));
				sg_buf_adds(&out, "}\n");
				fwrite(out.data, 1, out.len, stdout);
			}
			failed++;
			if (got >= 0 && t.json)
				sg_ticket_release(&t);
			if (got == -SG_EIO)
				break;
			continue;
		}
		if (json) {
			sg_decision_to_json(&d, &out);
			sg_buf_addc(&out, '\n');
		} else {
			sg_decision_explain(&d, &out, color);
			sg_buf_addc(&out, '\n');
		}
		fwrite(out.data, 1, out.len, stdout);
		sg_ticket_release(&t);
	}
	if (failed)
		rc = SG_EXIT_FAIL;
	sg_lines_release(&lines);
	sg_buf_release(&out);
	sg_arena_release(&arena);
	if (fp != stdin)
		fclose(fp);
	sg_cli_engine_close(&ce);
	return rc;
}
