/*
 * cmd_eval.c - `sopgate eval`: accuracy, macro-F1, per-label precision and
 * recall, expected calibration error and coverage at 99 % precision of a
 * model on a labeled JSONL set.
 */
#include <stdio.h>
#include <string.h>

#include "classify/classify.h"
#include "cli/cli.h"
#include "core/banned.h"

extern const struct sg_cmd sg_cmd_eval;

static int run(int argc, char **argv)
{
	const char *model = NULL, *file = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--model") && i + 1 < argc)
			model = argv[++i];
		else if (argv[i][0] == '-' && argv[i][1])
			return sg_cli_usage_error(&sg_cmd_eval, "unknown option '%s'", argv[i]);
		else if (!file)
			file = argv[i];
		else
			return sg_cli_usage_error(&sg_cmd_eval, "unexpected argument '%s'", argv[i]);
	}
	if (!model || !file)
		return sg_cli_usage_error(&sg_cmd_eval, "--model MODEL and FILE.jsonl are required");
	struct sg_error err = SG_ERROR_INIT;
	struct sg_classifier *c = NULL;
	struct sg_dataset d;
	struct sg_eval ev = {0};
	int rc = SG_EXIT_USAGE;
	sg_dataset_init(&d);
	if (sg_classifier_load(&c, model, &err) < 0 || sg_dataset_read(&d, file, &err) < 0 ||
	    sg_classifier_eval(&ev, c, &d, &err) < 0)
		goto cleanup;
	printf("examples      %zu\n", ev.n);
	printf("accuracy      %.4f\n", ev.accuracy);
	printf("macro_f1      %.4f\n", ev.macro_f1);
	printf("ece           %.4f\n", ev.ece);
	printf("coverage@99%%  %.4f (confidence >= %.4f)\n", ev.coverage99, ev.threshold99);
	printf("\n%-32s %9s %9s %7s\n", "label", "precision", "recall", "support");
	for (size_t j = 0; j < ev.nlabels; j++)
		printf("%-32s %9.4f %9.4f %7zu\n", sg_classifier_label(c, j), ev.precision[j],
		       ev.recall[j], ev.support[j]);
	for (size_t j = 0; j < d.nlabels; j++) {
		if (sg_classifier_label_index(c, d.label_names[j]) < 0)
			printf("note: label '%s' is not in the model (counted as errors)\n", d.label_names[j]);
	}
	rc = SG_EXIT_OK;
cleanup:
	if (rc != SG_EXIT_OK)
		sg_cli_print_error(&err);
	sg_eval_release(&ev);
	sg_classifier_free(c);
	sg_dataset_release(&d);
	return rc;
}

const struct sg_cmd sg_cmd_eval = {
	.name = "eval",
	.summary = "evaluate a classifier model on labeled JSONL",
	.usage =
	"usage: sopgate eval --model MODEL FILE.jsonl\n"
	"\n"
	"Prints accuracy, macro-F1, expected calibration error (15 bins), the\n"
	"coverage at 99 % precision (share of examples whose confidence is at or\n"
	"above the lowest threshold that keeps precision at 99 %) and per-label\n"
	"precision and recall.\n",
	.run = run,
};
