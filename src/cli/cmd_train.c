/*
 * cmd_train.c - `sopgate train`: trains a classifier model from labeled
 * JSONL ({"text", "label"}), calibrates it on --dev and reports dev
 * accuracy and expected calibration error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"
#include "cli/cli.h"
#include "core/banned.h"

extern const struct sg_cmd sg_cmd_train;

static void progress(void *arg, unsigned long done, unsigned long total)
{
	struct sg_progress *p = arg;
	p->total = total;
	sg_progress_tick(p, done);
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *e;
	double v = strtod(s, &e);
	if (e == s || *e || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static int run(int argc, char **argv)
{
	const char *task = NULL, *data = NULL, *outp = NULL, *devp = NULL;
	struct sg_train_options o;
	sg_train_options_init(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		double d;
		if (!strcmp(a, "--task") && v) {
			task = v;
		} else if (!strcmp(a, "--data") && v) {
			data = v;
		} else if (!strcmp(a, "--out") && v) {
			outp = v;
		} else if (!strcmp(a, "--dev") && v) {
			devp = v;
		} else if (!strcmp(a, "--C") && v) {
			if (parse_double(v, 1e-4, 1e6, &o.C) < 0)
				return sg_cli_usage_error(&sg_cmd_train, "--C '%s': expected a number in 1e-4..1e6", v);
		} else if (!strcmp(a, "--hash-bits") && v) {
			if (parse_double(v, 16, 24, &d) < 0)
				return sg_cli_usage_error(&sg_cmd_train, "--hash-bits '%s': expected 16..24", v);
			o.feat.hash_bits = (unsigned)d;
		} else if (!strcmp(a, "--word-ngrams") && v) {
			if (parse_double(v, 1, 2, &d) < 0)
				return sg_cli_usage_error(&sg_cmd_train, "--word-ngrams '%s': expected 1 or 2", v);
			o.feat.word_ngrams = (unsigned)d;
		} else if (!strcmp(a, "--char-ngrams") && v) {
			unsigned lo, hi;
			char extra;
			if (sscanf(v, "%u-%u%c", &lo, &hi, &extra) != 2 || lo > hi || hi > 8)
				return sg_cli_usage_error(&sg_cmd_train, "--char-ngrams '%s': expected MIN-MAX, 0-0 for none", v);
			o.feat.char_min = lo;
			o.feat.char_max = hi;
		} else {
			return sg_cli_usage_error(&sg_cmd_train, "unexpected argument '%s' (see --help)", a);
		}
		i++;
	}
	if (!task || !data || !outp)
		return sg_cli_usage_error(&sg_cmd_train, "--task, --data and --out are required");
	o.task = task;

	struct sg_error err = SG_ERROR_INIT;
	struct sg_dataset tr, dev;
	struct sg_classifier *c = NULL;
	struct sg_eval ev = {0};
	struct sg_progress prog;
	int rc = SG_EXIT_USAGE;
	sg_dataset_init(&tr);
	sg_dataset_init(&dev);
	if (sg_dataset_read(&tr, data, &err) < 0 ||
	    (devp && sg_dataset_read(&dev, devp, &err) < 0))
		goto cleanup;
	sg_progress_start(&prog, "training", 0);
	o.progress = progress;
	o.progress_arg = &prog;
	int trc = sg_classifier_train(&c, &tr, devp ? &dev : NULL, &o, &err);
	sg_progress_end(&prog);
	if (trc < 0 || sg_classifier_save(c, outp, &err) < 0)
		goto cleanup;
	printf("trained %s model on %zu examples, %zu labels -> %s\n", task, tr.n, tr.nlabels, outp);
	if (devp) {
		if (sg_classifier_eval(&ev, c, &dev, &err) < 0)
			goto cleanup;
		printf("dev: %zu examples, accuracy %.4f, ECE %.4f\n", ev.n, ev.accuracy, ev.ece);
	}
	rc = SG_EXIT_OK;
cleanup:
	if (rc != SG_EXIT_OK)
		sg_cli_print_error(&err);
	sg_eval_release(&ev);
	sg_classifier_free(c);
	sg_dataset_release(&tr);
	sg_dataset_release(&dev);
	return rc;
}

const struct sg_cmd sg_cmd_train = {
	.name = "train",
	.summary = "train a text classifier model from labeled JSONL",
	.usage =
	"usage: sopgate train --task intent|injection|NAME --data FILE.jsonl --out MODEL\n"
	"                     [--dev FILE.jsonl] [--C COST] [--hash-bits 16..24]\n"
	"                     [--word-ngrams 1|2] [--char-ngrams MIN-MAX]\n"
	"\n"
	"Lines are {\"text\": ..., \"label\": ...} (label a string or an integer).\n"
	"With --dev, the confidence calibration is fitted on the dev set and its\n"
	"accuracy and expected calibration error (ECE) are printed.\n"
	"Defaults: --C 10 --hash-bits 18 --word-ngrams 2 --char-ngrams 2-5.\n",
	.run = run,
};
