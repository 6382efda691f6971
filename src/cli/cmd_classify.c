/*
 * cmd_classify.c - `sopgate classify`: JSONL tickets {"text", optional
 * "customer": {"tier", "vip"}, "priority", "history"} in, one
 * classification per line out (JSON with --json), in input order.
 */
#include <stdio.h>
#include <string.h>

#include "classify/classify.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/banned.h"

extern const struct sg_cmd sg_cmd_classify;

/* Reads the optional signals; 0 or -SG_EINVALID naming the field. */
static int read_input(json_t *obj, struct sg_classify_input *in, struct sg_error *err)
{
	const char *text;
	json_t *cust = NULL, *hist = NULL;
	int rc;
	memset(in, 0, sizeof(*in));
	if ((rc = sg_json_str(obj, "text", "text", 1, &text, err)) < 0)
		return rc;
	in->text = text;
	in->len = strlen(text);
	if ((rc = sg_json_str(obj, "priority", "priority", 0, &in->priority, err)) < 0)
		return rc;
	json_t *c = json_object_get(obj, "customer");
	if (c && !json_is_null(c)) {
		if ((rc = sg_json_obj(obj, "customer", "customer", 0, &cust, err)) < 0)
			return rc;
		if ((rc = sg_json_str(cust, "tier", "customer.tier", 0, &in->tier, err)) < 0 ||
		    (rc = sg_json_bool(cust, "vip", "customer.vip", 0, &in->vip, err)) < 0)
			return rc;
	}
	if ((rc = sg_json_arr(obj, "history", "history", 0, &hist, err)) < 0)
		return rc;
	if (rc == 0 && hist) {
		size_t i;
		json_t *turn;
		json_array_foreach(hist, i, turn) {
			in->history_turns++;
			const char *role = json_string_value(json_object_get(turn, "role"));
			if (role && !strcmp(role, "customer"))
				in->customer_turns++;
		}
	}
	return 0;
}

static void add_num(struct sg_buf *b, const char *key, double v)
{
	sg_buf_addf(b, ",\"%s\":%.4f", key, v);
}

static void emit_json(struct sg_buf *b, const struct sg_classification *r)
{
	sg_buf_adds(b, "{\"intent\":");
	sg_buf_add_json_str(b, r->intent, strlen(r->intent));
	add_num(b, "intent_confidence", r->intent_confidence);
	sg_buf_addf(b, ",\"urgency\":\"%s\",\"sentiment\":\"%s\"", sg_urgency_name(r->urgency),
		    sg_sentiment_name(r->sentiment));
	add_num(b, "sentiment_confidence", r->sentiment_confidence);
	sg_buf_addf(b, ",\"frustration\":%d,\"churn_risk\":%d,\"escalation_likelihood\":%d,"
		    "\"language\":\"%s\"", r->frustration, r->churn_risk,
		    r->escalation_likelihood, r->language);
	add_num(b, "language_confidence", r->language_confidence);
	sg_buf_adds(b, "}\n");
}

static void emit_text(struct sg_buf *b, const struct sg_classification *r)
{
	sg_buf_addf(b, "%s (%.2f)  %s  %s (%.2f)  frustration %d  churn %d  escalation %d  %s (%.2f)\n",
		    r->intent, r->intent_confidence, sg_urgency_name(r->urgency),
		    sg_sentiment_name(r->sentiment), r->sentiment_confidence, r->frustration,
		    r->churn_risk, r->escalation_likelihood, r->language, r->language_confidence);
}

static int run(int argc, char **argv)
{
	const char *model = NULL, *file = NULL;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--model") && i + 1 < argc)
			model = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return sg_cli_usage_error(&sg_cmd_classify, "unknown option '%s'", argv[i]);
		else if (!file)
			file = argv[i];
		else
			return sg_cli_usage_error(&sg_cmd_classify, "unexpected argument '%s'", argv[i]);
	}
	char defpath[4096];
	if (!model) {
		snprintf(defpath, sizeof(defpath), "%s/intent.model", sg_cli_data_dir());
		model = defpath;
	}
	struct sg_error err = SG_ERROR_INIT;
	struct sg_classifier *c = NULL;
	struct sg_classify_scratch *s = NULL;
	struct sg_lines lines;
	struct sg_buf out = SG_BUF_INIT, msg = SG_BUF_INIT;
	FILE *fp = NULL;
	int rc = SG_EXIT_USAGE, bad = 0, lines_open = 0;
	if (sg_classifier_load(&c, model, &err) < 0 || sg_classify_scratch_new(&s, &err) < 0 ||
	    !(fp = sg_cli_open_input(file, &err)))
		goto cleanup;
	sg_lines_init(&lines, fp, SG_MAX_LINE_BYTES);
	lines_open = 1;
	for (;;) {
		struct sg_error lerr = SG_ERROR_INIT;
		json_t *obj = NULL;
		struct sg_classify_input in;
		struct sg_classification r;
		int lr = sg_lines_next(&lines, &lerr);
		if (lr == 0)
			break;
		if (lr == -SG_EIO) {
			err = lerr;
			goto cleanup;
		}
		if (lr > 0 && lines.len == 0)
			continue;
		if (lr > 0 && sg_json_parse(&obj, lines.line, lines.len, &lerr) == 0 &&
		    !json_is_object(obj))
			sg_error_set(&lerr, SG_EJSON, "expected a JSON object, got %s", sg_json_type_name(obj));
		if (!lerr.code && read_input(obj, &in, &lerr) == 0)
			sg_classify_ticket(&r, c, s, &in, &lerr);
		if (lerr.code) {
			bad = 1;
			sg_buf_reset(&msg);
			sg_buf_addf(&msg, "line %lu: %s", lines.lineno, lerr.msg);
			fprintf(stderr, "sopgate classify: %s: %s\n", file ? file : "-", msg.data);
			if (json) {
				sg_buf_adds(&out, "{\"error\":");
				sg_buf_add_json_str(&out, msg.data, msg.len);
				sg_buf_adds(&out, "}\n");
			} else {
				sg_buf_addf(&out, "error: %s\n", msg.data);
			}
		} else if (json) {
			emit_json(&out, &r);
		} else {
			emit_text(&out, &r);
		}
		json_decref(obj);
		if (out.len >= 1 << 16) {
			fwrite(out.data, 1, out.len, stdout);
			sg_buf_reset(&out);
		}
	}
	fwrite(out.data, 1, out.len, stdout);
	rc = bad ? SG_EXIT_FAIL : SG_EXIT_OK;
cleanup:
	if (rc == SG_EXIT_USAGE)
		sg_cli_print_error(&err);
	if (lines_open)
		sg_lines_release(&lines);
	if (fp && fp != stdin)
		fclose(fp);
	sg_buf_release(&out);
	sg_buf_release(&msg);
	sg_classify_scratch_free(s);
	sg_classifier_free(c);
	return rc;
}

const struct sg_cmd sg_cmd_classify = {
	.name = "classify",
	.summary = "classify tickets: intent, urgency, sentiment, language",
	.usage =
	"usage: sopgate classify [--model MODEL] [--json] [FILE|-]\n"
	"\n"
	"Reads JSONL tickets {\"text\": ..., \"customer\": {\"tier\": ..., \"vip\": ...},\n"
	"\"priority\": \"P0\"..\"P3\", \"history\": [{\"role\": ...}]} (all but text optional)\n"
	"and writes one line per ticket, in order; with --json one object:\n"
	"{\"intent\",\"intent_confidence\",\"urgency\",\"sentiment\",\"sentiment_confidence\",\n"
	"\"frustration\",\"churn_risk\",\"escalation_likelihood\",\"language\",\n"
	"\"language_confidence\"}. A bad line is reported on stderr with its number and\n"
	"replaced by {\"error\": ...}; the exit status is then 1.\n"
	"Without --model, the default intent model in the data folder.\n",
	.run = run,
};
