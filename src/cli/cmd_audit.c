/*
 * cmd_audit.c - `sopgate audit verify|export|anchor`: checks the hash
 * chains of the audit trail and says exactly where one was tampered with,
 * exports records as JSONL, and writes an anchor record on demand.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/id.h"
#include "store/store.h"
#include "core/banned.h"

extern const struct sg_cmd sg_cmd_audit;

struct opts {
	const char *sub, *store, *since, *chain, *out;
	char url[4200];
};

static int parse(struct opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (!strcmp(a, "--db") || !strcmp(a, "--store"))
			slot = &o->store;
		else if (!strcmp(a, "--since"))
			slot = &o->since;
		else if (!strcmp(a, "--chain"))
			slot = &o->chain;
		else if (!strcmp(a, "-o") || !strcmp(a, "--output"))
			slot = &o->out;
		if (slot) {
			if (i + 1 >= argc)
				return sg_cli_usage_error(&sg_cmd_audit, "%s needs a value", a);
			if (!strcmp(a, "--db")) {
				snprintf(o->url, sizeof(o->url), "sqlite:%s", argv[i + 1]);
				o->store = o->url;
				i++;
				continue;
			}
			*slot = argv[++i];
		} else if (a[0] == '-') {
			return sg_cli_usage_error(&sg_cmd_audit, "unknown option '%s'", a);
		} else if (!o->sub) {
			o->sub = a;
		} else {
			return sg_cli_usage_error(&sg_cmd_audit, "unexpected argument '%s'", a);
		}
	}
	if (!o->sub)
		return sg_cli_usage_error(&sg_cmd_audit, "missing subcommand");
	if (strcmp(o->sub, "verify") && strcmp(o->sub, "export") && strcmp(o->sub, "anchor"))
		return sg_cli_usage_error(&sg_cmd_audit, "unknown subcommand '%s'", o->sub);
	if (!o->store)
		return sg_cli_usage_error(&sg_cmd_audit, "missing --db FILE (or --store URL)");
	return 0;
}

static int report(const struct sg_audit_problem *p, void *ctx)
{
	(void)ctx;
	printf("chain %s seq %" PRId64 " record %s: %s\n", p->chain, p->seq,
	       p->id[0] ? p->id : "-", p->what);
	return 0;
}

static int verify(struct sg_store *s, struct sg_error *err)
{
	struct sg_audit_verifier v;
	sg_audit_verify_init(&v, report, NULL);
	int rc = sg_store_audit_verify(s, &v, err);
	if (rc >= 0) {
		if (v.problems)
			printf("audit verify: FAILED: %lu problem%s in %lu records, %lu chains "
			       "(%lu anchors)\n", v.problems, v.problems == 1 ? "" : "s",
			       v.records, v.chains, v.anchors);
		else
			printf("audit verify: ok: %lu records, %lu chains (%lu anchors)\n",
			       v.records, v.chains, v.anchors);
	}
	unsigned long problems = v.problems;
	sg_audit_verify_release(&v);
	if (rc < 0)
		return rc;
	return problems ? 1 : 0;
}

struct exporter {
	FILE *fp;
	struct sg_buf b;
	unsigned long n;
};

static int export_one(const struct sg_audit_record *r, void *ctx)
{
	struct exporter *x = ctx;
	sg_buf_reset(&x->b);
	sg_audit_jsonl(r, &x->b);
	if (x->b.oom)
		return -SG_ENOMEM;
	if (fwrite(x->b.data, 1, x->b.len, x->fp) != x->b.len)
		return -SG_EIO;
	x->n++;
	return 0;
}

static int run(int argc, char **argv)
{
	struct opts o;
	int rc = parse(&o, argc, argv);
	if (rc)
		return rc;
	int64_t since = 0;
	if (o.since && sg_time_parse_iso(o.since, &since) < 0)
		return sg_cli_usage_error(&sg_cmd_audit, "--since '%s': expected a time like "
					  "2026-11-22T18:04:05Z", o.since);
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	int status = SG_EXIT_OK;
	FILE *out = stdout;
	struct exporter x = {0};
	sg_buf_init(&x.b);
	if (!strcmp(o.sub, "anchor"))
		rc = sg_store_open(&s, o.store, "cli", &err);
	else
		rc = sg_store_open_existing(&s, o.store, "cli", &err);
	if (rc < 0)
		goto cleanup;
	if (!strcmp(o.sub, "verify")) {
		rc = verify(s, &err);
		if (rc == 1)
			status = SG_EXIT_FAIL;
	} else if (!strcmp(o.sub, "anchor")) {
		if ((rc = sg_store_audit_anchor(s, &err)) < 0)
			goto cleanup;
		printf("audit anchor: written\n");
	} else {
		if (o.out && strcmp(o.out, "-") && !(out = fopen(o.out, "w"))) {
			rc = sg_error_set(&err, SG_EIO, "unable to write '%s'", o.out);
			out = stdout;
			goto cleanup;
		}
		x.fp = out;
		rc = sg_store_audit_scan(s, o.chain, since, export_one, &x, &err);
		if (rc == -SG_EIO)
			sg_error_set(&err, SG_EIO, "writing the export failed");
		else if (rc == -SG_ENOMEM)
			sg_error_set(&err, SG_ENOMEM, "export: out of memory");
		if (fflush(out) != 0 && rc >= 0)
			rc = sg_error_set(&err, SG_EIO, "writing the export failed");
		if (rc >= 0)
			fprintf(stderr, "audit export: %lu records\n", x.n);
	}
cleanup:
	if (out != stdout)
		fclose(out);
	sg_buf_release(&x.b);
	sg_store_close(s);
	if (rc < 0) {
		sg_cli_print_error(&err);
		return SG_EXIT_USAGE;
	}
	return status;
}

const struct sg_cmd sg_cmd_audit = {
	.name = "audit",
	.summary = "verify, export or anchor the hash-chained audit trail",
	.usage = "sopgate audit verify --db FILE\n"
		 "       sopgate audit export --db FILE [--since TIME] [--chain C] [-o FILE]\n"
		 "       sopgate audit anchor --db FILE\n"
		 "\n"
		 "verify   walks every chain and the anchors; prints each problem as\n"
		 "         'chain C seq N record ID: what'; exit 1 when any is found\n"
		 "export   writes the records as JSONL (one per line) to stdout or -o\n"
		 "anchor   records the head of every chain in the global anchor chain\n"
		 "--db FILE    a SQLite database (same as --store sqlite:FILE)\n"
		 "--store URL  sqlite:FILE or postgres://USER@HOST/DB\n"
		 "--since TIME records created at or after TIME (ISO 8601, UTC)\n",
	.run = run,
};
