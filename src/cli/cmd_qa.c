/*
 * cmd_qa.c - `sopgate qa`: sample a week, list samples, score one, apply
 * the pause/expansion rules, lift a pause, list and close incidents,
 * record CSAT, and print the weekly scorecard (text, JSON or a
 * self-contained HTML file).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/id.h"
#include "policy/policy.h"
#include "qa/qa.h"
#include "store/store.h"
#include "core/banned.h"

extern const struct sg_cmd sg_cmd_qa;

struct opts {
	const char *sub, *arg1, *arg2;
	const char *store, *policy, *week, *html, *reviewer, *scores, *defects, *note;
	const char *seed;
	int json, all, not_reached, weeks;
	char url[4200];
};

static int parse(struct opts *o, int argc, char **argv)
{
	static const char *const with_value[] = {"--db", "--store", "--policy", "--week", "--html",
						 "--reviewer", "--user", "--scores", "--defects",
						 "--note", "--seed", "--weeks", NULL};
	memset(o, 0, sizeof(*o));
	o->weeks = 8;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int takes = 0;
		for (size_t k = 0; with_value[k]; k++)
			takes |= !strcmp(a, with_value[k]);
		if (takes) {
			if (i + 1 >= argc)
				return sg_cli_usage_error(&sg_cmd_qa, "%s needs a value", a);
			const char *v = argv[++i];
			if (!strcmp(a, "--db")) {
				snprintf(o->url, sizeof(o->url), "sqlite:%s", v);
				o->store = o->url;
			} else if (!strcmp(a, "--store")) {
				o->store = v;
			} else if (!strcmp(a, "--policy")) {
				o->policy = v;
			} else if (!strcmp(a, "--week")) {
				o->week = v;
			} else if (!strcmp(a, "--html")) {
				o->html = v;
			} else if (!strcmp(a, "--reviewer") || !strcmp(a, "--user")) {
				o->reviewer = v;
			} else if (!strcmp(a, "--scores")) {
				o->scores = v;
			} else if (!strcmp(a, "--defects")) {
				o->defects = v;
			} else if (!strcmp(a, "--note")) {
				o->note = v;
			} else if (!strcmp(a, "--seed")) {
				o->seed = v;
			} else {
				char *end;
				long n = strtol(v, &end, 10);
				if (*end || n < 2 || n > SG_QA_MAX_TREND)
					return sg_cli_usage_error(&sg_cmd_qa, "--weeks '%s': expected "
								  "2..%d", v, SG_QA_MAX_TREND);
				o->weeks = (int)n;
			}
		} else if (!strcmp(a, "--json")) {
			o->json = 1;
		} else if (!strcmp(a, "--all")) {
			o->all = 1;
		} else if (!strcmp(a, "--not-reached")) {
			o->not_reached = 1;
		} else if (a[0] == '-' && a[1]) {
			return sg_cli_usage_error(&sg_cmd_qa, "unknown option '%s'", a);
		} else if (!o->sub) {
			o->sub = a;
		} else if (!o->arg1) {
			o->arg1 = a;
		} else if (!o->arg2) {
			o->arg2 = a;
		} else {
			return sg_cli_usage_error(&sg_cmd_qa, "unexpected argument '%s'", a);
		}
	}
	if (!o->sub)
		return sg_cli_usage_error(&sg_cmd_qa, "missing subcommand (sample, samples, score, "
					  "scorecard, apply, pauses, lift, incidents, close, csat)");
	if (!o->store)
		return sg_cli_usage_error(&sg_cmd_qa, "missing --db FILE (or --store URL)");
	return 0;
}

static int load_config(struct sg_qa_config *cfg, const char *path, struct sg_error *err)
{
	sg_qa_config_default(cfg);
	if (!path)
		return 0;
	struct sg_policy *p = NULL;
	struct sg_diags diags;
	sg_diags_init(&diags);
	int rc = sg_policy_load(&p, path, &diags, err);
	if (rc < 0 && !err->code)
		rc = sg_error_set(err, SG_EPOLICY, "'%s' has errors; see 'sopgate check %s'", path,
				  path);
	sg_diags_release(&diags);
	if (rc == 0)
		sg_qa_config_from_policy(cfg, p);
	sg_policy_free(p);
	return rc;
}

/* --week, or the last complete week (default_previous) / this week. */
static int week_of(const struct opts *o, int default_previous, char name[SG_QA_PERIOD_LEN],
		   int64_t *from, struct sg_error *err)
{
	if (o->week)
		return sg_qa_week_parse(name, from, o->week, err);
	sg_qa_week_of(name, from, sg_now_ms() - (default_previous ? SG_QA_WEEK_MS : 0));
	return 0;
}

static int print_sample(const struct sg_store_qa_sample *x, void *ctx)
{
	json_t *arr = ctx;
	if (arr) {
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "id",
						     x->id, "period", x->period, "ticket_id",
						     x->ticket_id, "category", x->category, "kind",
						     x->kind, "scored", x->scored, "accurate",
						     x->scored ? json_boolean(x->accurate)
							       : json_null()));
		return 0;
	}
	printf("%s  %-8s %-24s %-5s %-24s %s\n", x->id, x->period, x->ticket_id, x->kind,
	       x->category, x->scored ? (x->accurate ? "accurate" : "inaccurate") : "unscored");
	return 0;
}

static int print_pause(const struct sg_store_qa_pause *p, void *ctx)
{
	(void)ctx;
	char since[25], lifted[25] = "";
	sg_time_iso(p->opened_ms, since);
	if (p->lifted_ms)
		sg_time_iso(p->lifted_ms, lifted);
	printf("%-24s %-8s accuracy %5.1f %% (%d scored) since %s%s%s%s%s\n", p->category,
	       p->period, p->accuracy_bp / 100.0, p->scored, since,
	       p->lifted_ms ? ", lifted " : "", lifted, p->lifted_ms ? " by " : "",
	       p->lifted_ms ? p->lifted_by : "");
	return 0;
}

static int print_incident(const struct sg_store_qa_incident *x, void *ctx)
{
	(void)ctx;
	char opened[25], due[25];
	sg_time_iso(x->opened_ms, opened);
	sg_time_iso(x->due_ms, due);
	printf("%s  %-6s ticket %-20s %-20s opened %s, report due %s\n", x->id, x->state,
	       x->ticket_id, x->category, opened, due);
	return 0;
}

static void print_outcome(const struct sg_qa_outcome *oc)
{
	for (size_t i = 0; i < oc->npaused; i++)
		printf("auto-send paused for %s (review required until a human lifts it)\n",
		       oc->paused[i]);
	for (size_t i = 0; i < oc->nsuggested; i++)
		printf("%s suggested for expansion\n", oc->suggested[i]);
	if (oc->incident_id[0])
		printf("incident %s opened: hallucination reached the customer\n", oc->incident_id);
}

/* --scores "5,5,4,5,5" (dimension order) or "factual_accuracy=5,..." */
static int score_json(json_t **out, const struct opts *o, struct sg_error *err)
{
	json_t *j = json_object();
	char buf[512];
	*out = NULL;
	if (!o->scores || strlen(o->scores) >= sizeof(buf)) {
		json_decref(j);
		return sg_error_set(err, SG_EINVALID, "--scores: expected five scores 1..5 "
				    "(factual_accuracy,brand_tone,completeness,compliance,"
				    "customer_outcome)");
	}
	snprintf(buf, sizeof(buf), "%s", o->scores);
	int k = 0;
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		const char *name = NULL;
		if (eq) {
			*eq = 0;
			name = t;
			t = eq + 1;
		} else if (k < SG_QA_DIMENSIONS) {
			name = sg_qa_dimension_names[k];
		}
		char *end;
		long v = strtol(t, &end, 10);
		if (!name || *end || end == t) {
			json_decref(j);
			return sg_error_set(err, SG_EINVALID, "--scores: '%s' is not a score", t);
		}
		json_object_set_new(j, name, json_integer(v));
		k++;
	}
	json_t *defects = json_array();
	if (o->defects && o->defects[0]) {
		snprintf(buf, sizeof(buf), "%s", o->defects);
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			json_array_append_new(defects, json_string(t));
	}
	json_object_set_new(j, "defects", defects);
	if (o->not_reached)
		json_object_set_new(j, "reached_customer", json_false());
	if (o->note)
		json_object_set_new(j, "note", json_string(o->note));
	*out = j;
	return 0;
}

static int run(int argc, char **argv)
{
	struct opts o;
	int rc = parse(&o, argc, argv);
	if (rc)
		return rc;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	struct sg_qa_config cfg;
	char week[SG_QA_PERIOD_LEN];
	int64_t from = 0;
	json_t *j = NULL;
	struct sg_buf b = SG_BUF_INIT;
	const char *sub = o.sub;

	static const char *const subs[] = {"sample", "samples", "score", "scorecard", "apply",
					   "pauses", "lift", "incidents", "close", "csat", NULL};
	int known = 0;
	for (size_t i = 0; subs[i]; i++)
		known |= !strcmp(sub, subs[i]);
	if (!known)
		return sg_cli_usage_error(&sg_cmd_qa, "unknown subcommand '%s'", sub);
	if ((!strcmp(sub, "score") || !strcmp(sub, "lift") || !strcmp(sub, "close")) &&
	    !o.arg1)
		return sg_cli_usage_error(&sg_cmd_qa, "%s: missing the %s", sub,
					  !strcmp(sub, "score") ? "sample id"
					  : !strcmp(sub, "lift") ? "category"
								 : "incident id");
	if ((!strcmp(sub, "score") || !strcmp(sub, "lift") || !strcmp(sub, "close")) &&
	    !o.reviewer)
		return sg_cli_usage_error(&sg_cmd_qa, "%s: missing --%s NAME", sub,
					  !strcmp(sub, "score") ? "reviewer" : "user");
	if (!strcmp(sub, "csat") && !o.arg2)
		return sg_cli_usage_error(&sg_cmd_qa, "csat: expected TICKET SCORE");

	if ((rc = load_config(&cfg, o.policy, &err)) < 0)
		goto cleanup;
	if ((rc = sg_store_open_existing(&s, o.store, "qa", &err)) < 0)
		goto cleanup;

	if (!strcmp(sub, "sample")) {
		struct sg_qa_sample_result r;
		uint64_t seed = 0;
		if (o.seed) {
			char *end;
			seed = strtoull(o.seed, &end, 0);
			if (*end || !o.seed[0] || o.seed[0] == '-') {
				rc = sg_error_set(&err, SG_EINVALID, "--seed '%s': expected a "
						  "non-negative integer", o.seed);
				goto cleanup;
			}
		}
		if ((rc = week_of(&o, 1, week, &from, &err)) < 0 ||
		    (rc = sg_qa_sample(s, &cfg, week, from, seed, "cli", &r, &err)) < 0)
			goto cleanup;
		if (o.json) {
			j = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "period", week,
				      "existed", r.existed, "ai_population",
				      (json_int_t)r.ai_population, "human_population",
				      (json_int_t)r.human_population, "ai_sampled",
				      (json_int_t)r.ai_sampled, "human_sampled",
				      (json_int_t)r.human_sampled, "categories",
				      (json_int_t)r.categories);
		} else if (r.existed) {
			printf("%s was sampled before; list it with 'sopgate qa samples --week %s'\n",
			       week, week);
		} else {
			printf("%s: sampled %ld of %ld AI-handled and %ld of %ld human-reviewed "
			       "tickets over %ld categories (seed %016llx)\n", week, r.ai_sampled,
			       r.ai_population, r.human_sampled, r.human_population, r.categories,
			       (unsigned long long)r.seed);
		}
	} else if (!strcmp(sub, "samples")) {
		int any = o.week != NULL;
		if (any && (rc = week_of(&o, 1, week, &from, &err)) < 0)
			goto cleanup;
		if (o.json)
			j = json_array();
		rc = sg_store_qa_sample_list(s, any ? week : NULL, print_sample, j, &err);
	} else if (!strcmp(sub, "score")) {
		struct sg_qa_score_input in;
		struct sg_qa_outcome oc;
		if ((rc = score_json(&j, &o, &err)) < 0 ||
		    (rc = sg_qa_score_from_json(&in, j, &err)) < 0)
			goto cleanup;
		in.sample_id = o.arg1;
		in.reviewer = o.reviewer;
		if ((rc = sg_qa_score(s, &cfg, &in, &oc, &err)) < 0)
			goto cleanup;
		json_decref(j);
		j = NULL;
		printf("sample %s scored: %s\n", o.arg1, oc.accurate ? "accurate" : "not accurate");
		print_outcome(&oc);
	} else if (!strcmp(sub, "apply")) {
		struct sg_qa_outcome oc;
		memset(&oc, 0, sizeof(oc));
		if ((rc = week_of(&o, 1, week, &from, &err)) < 0 ||
		    (rc = sg_qa_rules_apply(s, &cfg, week, from, "cli", 0, &oc, &err)) < 0)
			goto cleanup;
		if (!oc.npaused && !oc.nsuggested)
			printf("%s: no rule changed anything\n", week);
		print_outcome(&oc);
	} else if (!strcmp(sub, "pauses")) {
		rc = sg_store_qa_pause_list(s, !o.all, print_pause, NULL, &err);
	} else if (!strcmp(sub, "lift")) {
		if ((rc = sg_qa_lift(s, o.arg1, o.reviewer, &err)) < 0)
			goto cleanup;
		if (rc == 1) {
			rc = sg_error_set(&err, SG_ENOTFOUND, "auto-send of '%s' is not paused",
					  o.arg1);
			goto cleanup;
		}
		printf("pause of %s lifted by %s\n", o.arg1, o.reviewer);
	} else if (!strcmp(sub, "incidents")) {
		rc = sg_store_qa_incident_list(s, !o.all, print_incident, NULL, &err);
	} else if (!strcmp(sub, "close")) {
		if ((rc = sg_qa_incident_close(s, o.arg1, o.reviewer, &err)) < 0)
			goto cleanup;
		if (rc == 1) {
			rc = sg_error_set(&err, SG_ENOTFOUND, "no open incident '%s'", o.arg1);
			goto cleanup;
		}
		printf("incident %s closed by %s\n", o.arg1, o.reviewer);
	} else if (!strcmp(sub, "csat")) {
		char *end;
		long v = strtol(o.arg2, &end, 10);
		if (*end || v < 1 || v > 5) {
			rc = sg_error_set(&err, SG_EINVALID, "csat score '%s': expected 1..5", o.arg2);
			goto cleanup;
		}
		rc = sg_store_qa_csat_put(s, o.arg1, (int)v, 0, &err);
	} else { /* scorecard */
		if ((rc = week_of(&o, 1, week, &from, &err)) < 0 ||
		    (rc = sg_qa_scorecard(&j, s, &cfg, week, from, o.weeks, &err)) < 0)
			goto cleanup;
		if (o.html) {
			sg_qa_scorecard_html(&b, j);
			FILE *fp = b.oom ? NULL : fopen(o.html, "w");
			if (!fp || fwrite(b.data, 1, b.len, fp) != b.len || fclose(fp) != 0) {
				rc = sg_error_set(&err, SG_EIO, "unable to write '%s'", o.html);
				goto cleanup;
			}
			fprintf(stderr, "wrote %s\n", o.html);
			sg_buf_reset(&b);
		}
		if (!o.json) {
			sg_qa_scorecard_text(&b, j);
			fputs(b.data ? b.data : "", stdout);
			json_decref(j);
			j = NULL;
		}
	}
	if (rc == 0 && j) {
		char *t = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
		if (t)
			puts(t);
		sg_free(t);
	}
cleanup:
	json_decref(j);
	sg_buf_release(&b);
	sg_store_close(s);
	if (rc < 0) {
		sg_cli_print_error(&err);
		return rc == -SG_EINVALID || rc == -SG_ENOTFOUND ? SG_EXIT_FAIL : SG_EXIT_USAGE;
	}
	return SG_EXIT_OK;
}

const struct sg_cmd sg_cmd_qa = {
	.name = "qa",
	.summary = "the QA loop: weekly samples, scores, pauses, incidents, the scorecard",
	.usage =
		"sopgate qa sample    --db FILE [--policy P] [--week W] [--seed N] [--json]\n"
		"       sopgate qa samples   --db FILE [--week W] [--json]\n"
		"       sopgate qa score ID  --db FILE [--policy P] --reviewer NAME\n"
		"                            --scores 5,5,4,5,5 [--defects TAG,...] [--not-reached]\n"
		"                            [--note TEXT]\n"
		"       sopgate qa scorecard --db FILE [--policy P] [--week W] [--weeks N]\n"
		"                            [--json] [--html FILE]\n"
		"       sopgate qa apply     --db FILE [--policy P] [--week W]\n"
		"       sopgate qa pauses    --db FILE [--all]\n"
		"       sopgate qa lift CATEGORY --db FILE --user NAME\n"
		"       sopgate qa incidents --db FILE [--all]\n"
		"       sopgate qa close ID  --db FILE --user NAME\n"
		"       sopgate qa csat TICKET SCORE --db FILE\n"
		"\n"
		"sample     draws the week's seeded, category-stratified sample of AI-handled\n"
		"           and human-reviewed tickets (once per week)\n"
		"score      scores a sample on factual_accuracy, brand_tone, completeness,\n"
		"           compliance, customer_outcome (1..5 each) with defect tags\n"
		"           hallucination, tone_mismatch, policy_misapplication,\n"
		"           incomplete_resolution; then applies the policy's rules\n"
		"scorecard  the weekly scorecard with the change against the week before\n"
		"apply      applies the pause and expansion rules to a week again\n"
		"lift       a human lifts the auto-send pause of a category\n"
		"--week W   2026-W49 or a date; default: the last complete week\n"
		"--policy P the policy whose 'qa' section sets sizes and thresholds\n"
		"--db FILE  a SQLite database (same as --store sqlite:FILE)\n",
	.run = run,
};
