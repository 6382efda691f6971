/*
 * cmd_scan.c - `sopgate scan`: the guardrail scanner on a text or a JSONL
 * stream. The output never carries raw PII: findings are offsets and the
 * `masked` text has every MASK/BLOCK finding replaced by a placeholder.
 */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/limits.h"
#include "scan/scan.h"
#include "core/banned.h"

#define MAX_ALLOW 256

extern const struct sg_cmd sg_cmd_scan;

struct opts {
	enum sg_scan_mode mode;
	int json;
	const char *allow[MAX_ALLOW];
	size_t nallow;
	const char *path;
};

static void add_json(struct sg_buf *b, const struct sg_scan_result *r)
{
	sg_buf_adds(b, "{\"findings\":[");
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct sg_scan_finding *f = &r->findings[i];
		sg_buf_addf(b, "%s{\"type\":", i ? "," : "");
		sg_buf_add_json_str(b, f->type, strlen(f->type));
		sg_buf_addf(b, ",\"start\":%zu,\"end\":%zu,\"rule\":", f->start, f->end);
		sg_buf_add_json_str(b, f->rule, strlen(f->rule));
		sg_buf_addf(b, ",\"action\":\"%s\"}", sg_scan_action_name(f->action));
	}
	sg_buf_adds(b, "],\"masked\":");
	sg_buf_add_json_str(b, r->masked, r->masked_len);
	sg_buf_addf(b, ",\"blocked\":%s}\n", r->blocked ? "true" : "false");
}

static void report(FILE *fp, const struct sg_scan_result *r)
{
	const char *bold = sg_cli_sgr(fp, "1"), *red = sg_cli_sgr(fp, "31"),
		   *yel = sg_cli_sgr(fp, "33"), *off = sg_cli_sgr(fp, "0");
	fprintf(fp, "%s%zu finding%s%s", bold, r->nfindings, r->nfindings == 1 ? "" : "s", off);
	if (r->blocked)
		fprintf(fp, ", %sBLOCKED%s", red, off);
	fputc('\n', fp);
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct sg_scan_finding *f = &r->findings[i];
		fprintf(fp, "  %s%-18s%s %6zu-%-6zu %-6s %s\n", yel, f->type, off, f->start,
			f->end, sg_scan_action_name(f->action), f->rule);
	}
	fprintf(fp, "%smasked:%s\n%.*s", bold, off, (int)r->masked_len, r->masked);
	if (!r->masked_len || r->masked[r->masked_len - 1] != '\n')
		fputc('\n', fp);
}

/* Original text of each PII finding of an input scan, for PII_ECHO. */
static int input_pii(struct sg_scan_ctx *ctx, const char *text, char ***vals,
		     size_t *n, struct sg_error *err)
{
	struct sg_scan_result *r;
	*vals = NULL;
	*n = 0;
	int rc = sg_scan_run(ctx, SG_SCAN_INPUT, text, strlen(text), NULL, &r, err);
	if (rc)
		return rc;
	char **v = sg_calloc(r->nfindings + 1, sizeof(char *));
	if (!v)
		return sg_error_set(err, SG_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < r->nfindings; i++) {
		int t = sg_scan_type_from_name(r->findings[i].type);
		if (t < 0 || t > SG_T_SECRET)
			continue;
		v[k] = sg_strndup(text + r->findings[i].start,
				  r->findings[i].end - r->findings[i].start);
		if (!v[k])
			break;
		k++;
	}
	*vals = v;
	*n = k;
	return 0;
}

static void free_vals(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sg_free(v[i]);
	sg_free(v);
}

static int scan_line(struct sg_scan_ctx *ctx, const struct opts *o, const char *line,
		     size_t len, struct sg_buf *outb, struct sg_error *err)
{
	json_t *obj = NULL;
	const char *text, *input_text = NULL;
	const char *allow[MAX_ALLOW];
	char **vals = NULL;
	size_t nvals = 0, nallow = 0;
	struct sg_scan_result *r;
	int rc = sg_json_parse(&obj, line, len, err);
	if (rc)
		goto cleanup;
	if (!json_is_object(obj)) {
		rc = sg_error_set(err, SG_EJSON, "expected a JSON object, got %s",
				  sg_json_type_name(obj));
		goto cleanup;
	}
	if ((rc = sg_json_str(obj, "text", "text", 1, &text, err)) < 0 ||
	    (rc = sg_json_str(obj, "input_text", "input_text", 0, &input_text, err)) < 0)
		goto cleanup;
	for (size_t i = 0; i < o->nallow; i++)
		allow[nallow++] = o->allow[i];
	json_t *arr = NULL;
	if ((rc = sg_json_arr(obj, "allow_urls", "allow_urls", 0, &arr, err)) < 0)
		goto cleanup;
	if (arr) {
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v) {
			if (!json_is_string(v)) {
				rc = sg_error_set(err, SG_EINVALID,
						  "field 'allow_urls[%zu]': expected a string, got %s",
						  i, sg_json_type_name(v));
				goto cleanup;
			}
			if (nallow < MAX_ALLOW)
				allow[nallow++] = json_string_value(v);
		}
	}
	if (o->mode == SG_SCAN_OUTPUT && input_text &&
	    (rc = input_pii(ctx, input_text, &vals, &nvals, err)) < 0)
		goto cleanup;
	struct sg_scan_input in = {0};
	in.allow_urls = allow;
	in.nallow_urls = nallow;
	in.pii_values = (const char *const *)vals;
	in.npii_values = nvals;
	rc = sg_scan_run(ctx, o->mode, text, json_string_length(json_object_get(obj, "text")),
			 &in, &r, err);
	if (rc)
		goto cleanup;
	add_json(outb, r);
cleanup:
	free_vals(vals, nvals);
	json_decref(obj);
	return rc < 0 ? rc : 0;
}

static int run_json(struct sg_scan_ctx *ctx, const struct opts *o, FILE *in)
{
	struct sg_lines lines;
	struct sg_buf outb = SG_BUF_INIT;
	int failed = 0;
	sg_lines_init(&lines, in, SG_MAX_LINE_BYTES);
	for (;;) {
		struct sg_error err = SG_ERROR_INIT;
		int rc = sg_lines_next(&lines, &err);
		if (rc == 0)
			break;
		sg_buf_reset(&outb);
		if (rc > 0) {
			size_t k = lines.len;
			while (k && (lines.line[k - 1] == ' ' || lines.line[k - 1] == '\t' ||
				     lines.line[k - 1] == '\r'))
				k--;
			if (k == 0)
				continue; /* blank lines are skipped */
			rc = scan_line(ctx, o, lines.line, lines.len, &outb, &err);
		} else if (rc == -SG_EIO) {
			sg_cli_print_error(&err);
			failed = 1;
			break;
		}
		if (rc < 0) {
			char msg[600];
			sg_error_format(&err, msg, sizeof(msg));
			fprintf(stderr, "sopgate scan: line %lu: %s\n", lines.lineno, msg);
			sg_buf_reset(&outb);
			sg_buf_adds(&outb, "{\"error\":");
			sg_buf_addf(&outb, "\"line %lu: ", lines.lineno);
			/* the message, JSON-escaped without its quotes */
			struct sg_buf m = SG_BUF_INIT;
			sg_buf_add_json_str(&m, msg, strlen(msg));
			sg_buf_add(&outb, m.data + 1, m.len - 1);
			sg_buf_release(&m);
			sg_buf_adds(&outb, "}\n");
			failed = 1;
		}
		fwrite(outb.data, 1, outb.len, stdout);
	}
	sg_buf_release(&outb);
	sg_lines_release(&lines);
	return failed;
}

static int run(int argc, char **argv)
{
	struct opts o = {SG_SCAN_INPUT, 0, {0}, 0, NULL};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			o.json = 1;
		} else if (!strcmp(a, "--mode") || !strncmp(a, "--mode=", 7)) {
			const char *v = a[6] == '=' ? a + 7 : (i + 1 < argc ? argv[++i] : NULL);
			if (v && !strcmp(v, "input"))
				o.mode = SG_SCAN_INPUT;
			else if (v && !strcmp(v, "output"))
				o.mode = SG_SCAN_OUTPUT;
			else
				return sg_cli_usage_error(&sg_cmd_scan,
							  "--mode: expected 'input' or 'output'");
		} else if (!strcmp(a, "--allow-url") || !strncmp(a, "--allow-url=", 12)) {
			const char *v = a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
			if (!v || !*v)
				return sg_cli_usage_error(&sg_cmd_scan, "--allow-url: expected a URL");
			if (o.nallow == MAX_ALLOW)
				return sg_cli_usage_error(&sg_cmd_scan, "--allow-url: at most %d",
							  MAX_ALLOW);
			o.allow[o.nallow++] = v;
		} else if (a[0] == '-' && a[1]) {
			return sg_cli_usage_error(&sg_cmd_scan, "unknown option '%s'", a);
		} else if (o.path) {
			return sg_cli_usage_error(&sg_cmd_scan, "more than one input file");
		} else {
			o.path = a;
		}
	}

	struct sg_error err = SG_ERROR_INIT;
	struct sg_scanner *sc = NULL;
	struct sg_scan_ctx *ctx = NULL;
	FILE *in = NULL;
	char *text = NULL;
	int status = SG_EXIT_USAGE;
	char cache[4096];
	struct sg_scan_options so = SG_SCAN_OPTIONS_INIT;
	const char *env = getenv("SOPGATE_SCAN_CACHE");
	if (env) {
		so.cache_path = *env ? env : NULL;
	} else if (snprintf(cache, sizeof(cache), "%s/scan-rules.hsdb", sg_cli_data_dir()) <
		   (int)sizeof(cache)) {
		so.cache_path = cache;
	}
	sg_json_init();
	if (sg_scanner_new(&sc, &so, &err) || sg_scan_ctx_new(&ctx, sc, &err))
		goto fail;
	if (o.json) {
		in = sg_cli_open_input(o.path, &err);
		if (!in)
			goto fail;
		status = run_json(ctx, &o, in) ? SG_EXIT_FAIL : SG_EXIT_OK;
		goto cleanup;
	}
	size_t len;
	if (sg_read_file(o.path ? o.path : "-", &text, &len, &err))
		goto fail;
	if (len > SG_MAX_TEXT_BYTES) {
		sg_error_set(&err, SG_ELIMIT, "input is %zu bytes, at most %u are scanned as one text",
			     len, (unsigned)SG_MAX_TEXT_BYTES);
		status = SG_EXIT_FAIL;
		goto fail;
	}
	struct sg_scan_input si = {0};
	si.allow_urls = o.allow;
	si.nallow_urls = o.nallow;
	struct sg_scan_result *r;
	if (sg_scan_run(ctx, o.mode, text, len, &si, &r, &err)) {
		status = SG_EXIT_FAIL;
		goto fail;
	}
	report(stdout, r);
	status = SG_EXIT_OK;
	goto cleanup;
fail:
	sg_cli_print_error(&err);
cleanup:
	if (in && in != stdin)
		fclose(in);
	sg_free(text);
	sg_scan_ctx_free(ctx);
	sg_scanner_free(sc);
	return status;
}

const struct sg_cmd sg_cmd_scan = {
	"scan",
	"find PII and risky language in a text or a JSONL stream, and mask it",
	"sopgate scan [--mode input|output] [--json] [--allow-url URL]... [FILE|-]\n"
	"\n"
	"  --mode input    PII + input risk (default): injection, threats, ...\n"
	"  --mode output   PII + output risk, for drafts: commitments, links, ...\n"
	"  --json          JSONL in (a \"text\" field per line; optional\n"
	"                  \"allow_urls\" and, in output mode, \"input_text\"),\n"
	"                  one JSON object out per line:\n"
	"                  {\"findings\":[...],\"masked\":\"...\",\"blocked\":false}\n"
	"  --allow-url URL a link a draft may contain (repeatable)\n"
	"\n"
	"Offsets are UTF-8 byte offsets into the original text. The output never\n"
	"contains raw PII: only offsets and the masked text.\n"
	"Environment: SOPGATE_SCAN_CACHE (database cache file; empty: none).\n",
	run,
};
