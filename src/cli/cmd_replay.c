/*
 * cmd_replay.c - `sopgate replay`: runs ticket history through a policy with
 * no side effects and summarizes the outcomes; with --compare, runs a second
 * policy beside it and lists every ticket whose outcome changes, and why.
 * This is how a team tries "lower the threshold from $5,000 to $2,500"
 * before it goes live.
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

const struct sg_cmd sg_cmd_replay = {
	"replay",
	"replay ticket history against a policy (and compare two policies)",
	"sopgate replay --policy POLICY [--compare OTHER_POLICY] [--kb KB.db] [--json] FILE.jsonl\n"
	"  Decides every ticket event in FILE with no side effects and prints the\n"
	"  share auto-sent, counts by gate, tier and escalation reason, and\n"
	"  guardrail hits. With --compare, also every ticket whose gate, tier,\n"
	"  escalation or queue differs under OTHER_POLICY, with the rules behind\n"
	"  the difference. --json prints the summary as one JSON object.\n",
	run,
};

#define MAX_KEYS 64

struct tally {
	const char *key[MAX_KEYS];
	unsigned long n[MAX_KEYS];
	size_t len;
};

static void count(struct tally *t, const char *key)
{
	if (!key)
		key = "none";
	for (size_t i = 0; i < t->len; i++)
		if (!strcmp(t->key[i], key)) {
			t->n[i]++;
			return;
		}
	if (t->len < MAX_KEYS) {
		t->key[t->len] = key; /* keys are policy strings or constants */
		t->n[t->len++] = 1;
	}
}

struct summary {
	unsigned long tickets, errors, auto_sent, escalated, changed;
	struct tally gate, tier, escalation, guardrail;
};

static void add(struct summary *s, const struct sg_decision *d)
{
	s->tickets++;
	s->auto_sent += !strcmp(d->gate, "auto_send");
	s->escalated += d->escalated;
	count(&s->gate, d->gate);
	count(&s->tier, d->risk_tier);
	if (d->escalated)
		count(&s->escalation, d->escalation_reason);
	for (size_t i = 0; i < d->nguardrail_types; i++)
		count(&s->guardrail, d->guardrail_types[i]);
}

static void print_tally(const char *title, const struct tally *t, unsigned long total)
{
	printf("  %s:\n", title);
	if (!t->len)
		printf("    (none)\n");
	for (size_t i = 0; i < t->len; i++)
		printf("    %-34s %6lu  %5.1f%%\n", t->key[i], t->n[i],
		       total ? 100.0 * (double)t->n[i] / (double)total : 0.0);
}

static void print_summary(const char *label, const struct summary *s)
{
	printf("%s: %lu tickets, %lu errors\n", label, s->tickets, s->errors);
	printf("  auto-sent: %lu (%.1f%%)  escalated: %lu (%.1f%%)\n", s->auto_sent,
	       s->tickets ? 100.0 * (double)s->auto_sent / (double)s->tickets : 0.0,
	       s->escalated,
	       s->tickets ? 100.0 * (double)s->escalated / (double)s->tickets : 0.0);
	print_tally("by gate", &s->gate, s->tickets);
	print_tally("by risk tier", &s->tier, s->tickets);
	print_tally("escalations by reason", &s->escalation, s->tickets);
	print_tally("guardrail hits by type", &s->guardrail, s->tickets);
}

static json_t *tally_json(const struct tally *t)
{
	json_t *o = json_object();
	for (size_t i = 0; i < t->len; i++)
		json_object_set_new(o, t->key[i], json_integer((json_int_t)t->n[i]));
	return o;
}

static json_t *summary_json(const struct summary *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "tickets",
			 (json_int_t)s->tickets, "errors", (json_int_t)s->errors, "auto_sent",
			 (json_int_t)s->auto_sent, "escalated", (json_int_t)s->escalated, "by_gate",
			 tally_json(&s->gate), "by_tier", tally_json(&s->tier), "escalations",
			 tally_json(&s->escalation), "guardrails", tally_json(&s->guardrail));
}

/* The rules that fired under one decision but not the other. */
static void rule_diff(const struct sg_decision *a, const struct sg_decision *b,
		      struct sg_buf *out, const char *sign)
{
	for (size_t i = 0; i < a->nreasons; i++) {
		int found = 0;
		for (size_t k = 0; k < b->nreasons && !found; k++)
			found = !strcmp(a->reasons[i].rule, b->reasons[k].rule);
		if (!found)
			sg_buf_addf(out, "      %s %s%s%s%s%s\n", sign, a->reasons[i].rule,
				    a->reasons[i].where ? " (" : "",
				    a->reasons[i].where ? a->reasons[i].where : "",
				    a->reasons[i].where ? ")" : "",
				    a->reasons[i].detail ? "" : "");
	}
}

static int steps_differ(const struct sg_decision *a, const struct sg_decision *b)
{
	if (a->nsteps != b->nsteps)
		return 1;
	for (size_t i = 0; i < a->nsteps; i++)
		if (strcmp(a->steps[i].name ? a->steps[i].name : "",
			   b->steps[i].name ? b->steps[i].name : ""))
			return 1;
	return 0;
}

static int differs(const struct sg_decision *a, const struct sg_decision *b)
{
	return steps_differ(a, b) || strcmp(a->gate, b->gate) || strcmp(a->risk_tier, b->risk_tier) ||
	       a->escalated != b->escalated ||
	       strcmp(a->routed_queue ? a->routed_queue : "", b->routed_queue ? b->routed_queue : "") ||
	       (a->escalated && b->escalated && strcmp(a->escalation_reason, b->escalation_reason));
}

static int run(int argc, char **argv)
{
	const char *policy = NULL, *other = NULL, *file = NULL, *kb = NULL;
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--policy") && i + 1 < argc)
			policy = argv[++i];
		else if (!strcmp(argv[i], "--compare") && i + 1 < argc)
			other = argv[++i];
		else if (!strcmp(argv[i], "--kb") && i + 1 < argc)
			kb = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1])
			return sg_cli_usage_error(&sg_cmd_replay, "unknown option '%s'", argv[i]);
		else if (!file)
			file = argv[i];
		else
			return sg_cli_usage_error(&sg_cmd_replay, "one input file at most");
	}
	if (!policy || !file)
		return sg_cli_usage_error(&sg_cmd_replay, "--policy and a history file are required");

	struct sg_cli_engine a, b;
	struct sg_error err = SG_ERROR_INIT;
	int rc = SG_EXIT_OK;
	memset(&b, 0, sizeof(b));
	if (sg_cli_engine_open(&a, policy, 0, kb, &err) < 0)
		return SG_EXIT_USAGE;
	if (other && sg_cli_engine_open(&b, other, 0, kb, &err) < 0) {
		sg_cli_engine_close(&a);
		return SG_EXIT_USAGE;
	}
	FILE *fp = sg_cli_open_input(file, &err);
	if (!fp) {
		sg_cli_print_error(&err);
		sg_cli_engine_close(&a);
		sg_cli_engine_close(&b);
		return SG_EXIT_USAGE;
	}
	/* count lines first so the progress bar knows the total */
	unsigned long total = 0;
	if (fp != stdin) {
		int c;
		while ((c = getc(fp)) != EOF)
			total += c == '\n';
		rewind(fp);
	}
	struct summary sa, sb;
	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	struct sg_lines lines;
	struct sg_arena arena;
	struct sg_buf changes = SG_BUF_INIT;
	struct sg_progress prog;
	sg_arena_init(&arena, 0);
	sg_lines_init(&lines, fp, SG_MAX_LINE_BYTES);
	sg_progress_start(&prog, "replay", total);
	for (;;) {
		sg_error_clear(&err);
		int got = sg_lines_next(&lines, &err);
		if (got == 0)
			break;
		if (got == 1 && lines.len == 0)
			continue;
		struct sg_ticket t;
		struct sg_decision da, db;
		sg_arena_reset(&arena);
		memset(&t, 0, sizeof(t));
		if (got < 0 || sg_ticket_parse(&t, lines.line, lines.len, &arena, &err) < 0 ||
		    sg_decide(&da, a.run, &t, NULL, &err) < 0 ||
		    (other && sg_decide(&db, b.run, &t, NULL, &err) < 0)) {
			char msg[800];
			fprintf(stderr, "sopgate replay: line %lu: %s\n", lines.lineno,
				sg_error_format(&err, msg, sizeof(msg)));
			sa.errors++;
			sg_ticket_release(&t);
			if (got == -SG_EIO)
				break;
			continue;
		}
		add(&sa, &da);
		if (other) {
			add(&sb, &db);
			if (differs(&da, &db)) {
				sb.changed++;
				sg_buf_addf(&changes, "  %s: gate %s -> %s, tier %s -> %s, escalation %s -> %s, queue %s -> %s\n",
					    da.helpdesk_ticket_id, da.gate, db.gate, da.risk_tier,
					    db.risk_tier, da.escalated ? da.escalation_reason : "none",
					    db.escalated ? db.escalation_reason : "none",
					    da.routed_queue ? da.routed_queue : "-",
					    db.routed_queue ? db.routed_queue : "-");
				rule_diff(&da, &db, &changes, "-");
				rule_diff(&db, &da, &changes, "+");
			}
		}
		sg_progress_tick(&prog, lines.lineno);
		sg_ticket_release(&t);
	}
	sg_progress_end(&prog);
	if (json) {
		json_t *o = json_pack("{s:o}", "policy", summary_json(&sa));
		if (other) {
			json_object_set_new(o, "compare", summary_json(&sb));
			json_object_set_new(o, "changed", json_integer((json_int_t)sb.changed));
		}
		char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		if (s)
			puts(s);
		json_free_t fr;
		json_get_alloc_funcs(NULL, &fr);
		fr(s);
		json_decref(o);
	} else {
		print_summary(policy, &sa);
		if (other) {
			printf("\n");
			print_summary(other, &sb);
			printf("\n%lu of %lu tickets change outcome (- only under %s, + only under %s):\n",
			       sb.changed, sa.tickets, policy, other);
			fputs(changes.data, stdout);
		}
	}
	if (sa.errors)
		rc = SG_EXIT_FAIL;
	sg_buf_release(&changes);
	sg_lines_release(&lines);
	sg_arena_release(&arena);
	if (fp != stdin)
		fclose(fp);
	sg_cli_engine_close(&a);
	sg_cli_engine_close(&b);
	return rc;
}
