/*
 * cmd_outbox.c - `sopgate outbox list|retry|drop|deliver`: what operators
 * do with outbound actions: see what is waiting or dead and why, send dead
 * letters again once the cause is fixed, drop what must never go, or
 * deliver what is due now without a server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "connectors/connector.h"
#include "core/alloc.h"
#include "core/id.h"
#include "core/json.h"
#include "outbox/outbox.h"
#include "policy/policy.h"
#include "store/store.h"
#include "core/banned.h"

extern const struct sg_cmd sg_cmd_outbox;

struct list_ctx {
	int json;
	unsigned long n;
};

static int print_row(const struct sg_outbox_row *r, void *ctx)
{
	struct list_ctx *l = ctx;
	char next[25], created[25];
	sg_time_iso(r->next_attempt_ms, next);
	sg_time_iso(r->created_ms, created);
	l->n++;
	if (l->json) {
		json_t *j = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:i, s:s, s:s, s:s?}", "id",
				      r->id, "state", r->state, "ticket_id", r->ticket_id, "kind",
				      r->kind, "target", r->target, "idem_key", r->idem_key,
				      "attempts", r->attempts, "next_attempt_at", next, "created_at",
				      created, "last_error", r->last_error);
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (s)
			printf("%s\n", s);
		sg_free(s);
		json_decref(j);
		return 0;
	}
	printf("%-26s %-7s %3d  %-12s %-20s %-14s %s", r->id, r->state ? r->state : "",
	       r->attempts, r->kind ? r->kind : "", r->target && *r->target ? r->target : "-",
	       r->ticket_id ? r->ticket_id : "", strcmp(r->state ? r->state : "", "pending")
	       ? created : next);
	if (r->last_error && *r->last_error)
		printf("  %s", r->last_error);
	putchar('\n');
	return 0;
}

static int deliver(const char *policy, const char *store, struct sg_error *err)
{
	struct sg_diags d;
	struct sg_policy *p = NULL;
	struct sg_connectors *cs = NULL;
	struct sg_outbox *ob = NULL;
	struct sg_outbox_stats st = {0};
	int rc;
	sg_diags_init(&d);
	rc = sg_policy_load(&p, policy, &d, err);
	if (rc == -SG_EPOLICY) {
		struct sg_buf b = SG_BUF_INIT;
		sg_diags_format(&d, &b, 0);
		fputs(b.data, stderr);
		sg_buf_release(&b);
		sg_error_set(err, SG_EPOLICY, "policy '%s' has errors", policy);
	}
	sg_diags_release(&d);
	if (rc < 0)
		goto cleanup;
	if ((rc = sg_connectors_build(&cs, p, err)) < 0)
		goto cleanup;
	if (cs->n == 0) {
		rc = sg_error_set(err, SG_EINVALID, "policy '%s' defines no connectors", policy);
		goto cleanup;
	}
	char owner[64];
	snprintf(owner, sizeof(owner), "cli-%ld", (long)sg_now_ms());
	struct sg_outbox_options o = {owner, NULL, stderr};
	if ((rc = sg_outbox_new(&ob, store, cs, &o, err)) < 0 ||
	    (rc = sg_outbox_run(ob, 0, &st, err)) < 0)
		goto cleanup;
	printf("claimed %lu, sent %lu, retrying %lu, dead %lu, nothing to deliver %lu\n",
	       st.claimed, st.sent, st.retried, st.dead, st.skipped);
cleanup:
	sg_outbox_free(ob);
	sg_connectors_free(cs);
	sg_policy_free(p);
	return rc;
}

static int run(int argc, char **argv)
{
	const char *sub = NULL, *id = NULL, *store = NULL, *state = NULL, *policy = NULL;
	unsigned long limit = 0;
	int json = 0, all_dead = 0;
	char url[4200];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--db") || !strcmp(a, "--store") || !strcmp(a, "--state") ||
		    !strcmp(a, "--limit") || !strcmp(a, "--policy")) {
			if (i + 1 >= argc)
				return sg_cli_usage_error(&sg_cmd_outbox, "%s needs a value", a);
			const char *v = argv[++i];
			if (!strcmp(a, "--db")) {
				snprintf(url, sizeof(url), "sqlite:%s", v);
				store = url;
			} else if (!strcmp(a, "--store")) {
				store = v;
			} else if (!strcmp(a, "--state")) {
				if (strcmp(v, "pending") && strcmp(v, "sent") && strcmp(v, "dead"))
					return sg_cli_usage_error(&sg_cmd_outbox, "--state '%s': expected "
								  "pending, sent or dead", v);
				state = v;
			} else if (!strcmp(a, "--policy")) {
				policy = v;
			} else {
				char *end;
				limit = strtoul(v, &end, 10);
				if (*end || !*v || limit == 0)
					return sg_cli_usage_error(&sg_cmd_outbox, "--limit '%s': expected "
								  "a positive number", v);
			}
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--all-dead")) {
			all_dead = 1;
		} else if (a[0] == '-') {
			return sg_cli_usage_error(&sg_cmd_outbox, "unknown option '%s'", a);
		} else if (!sub) {
			sub = a;
		} else if (!id && (!strcmp(sub, "retry") || !strcmp(sub, "drop"))) {
			id = a;
		} else {
			return sg_cli_usage_error(&sg_cmd_outbox, "unexpected argument '%s'", a);
		}
	}
	if (!sub)
		return sg_cli_usage_error(&sg_cmd_outbox, "missing subcommand (list, retry, drop "
					  "or deliver)");
	if (strcmp(sub, "list") && strcmp(sub, "retry") && strcmp(sub, "drop") &&
	    strcmp(sub, "deliver"))
		return sg_cli_usage_error(&sg_cmd_outbox, "unknown subcommand '%s'", sub);
	if (!store)
		return sg_cli_usage_error(&sg_cmd_outbox, "missing --db FILE (or --store URL)");
	if (!strcmp(sub, "retry") && !id == !all_dead)
		return sg_cli_usage_error(&sg_cmd_outbox, "retry: give one action ID or --all-dead");
	if (!strcmp(sub, "drop") && !id)
		return sg_cli_usage_error(&sg_cmd_outbox, "drop: missing the action ID");
	if (!strcmp(sub, "deliver") && !policy)
		return sg_cli_usage_error(&sg_cmd_outbox, "deliver: missing --policy POLICY");
	if ((state || limit || json) && strcmp(sub, "list"))
		return sg_cli_usage_error(&sg_cmd_outbox, "--state, --limit and --json are for 'list'");

	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	int rc;
	if (!strcmp(sub, "deliver")) {
		rc = deliver(policy, store, &err);
		goto cleanup;
	}
	if ((rc = sg_store_open_existing(&s, store, "cli", &err)) < 0)
		goto cleanup;
	if (!strcmp(sub, "list")) {
		struct list_ctx l = {json, 0};
		if (!json)
			printf("%-26s %-7s %3s  %-12s %-20s %-14s %-24s  %s\n", "ID", "STATE", "TRY",
			       "KIND", "TARGET", "TICKET", "NEXT/CREATED", "LAST ERROR");
		rc = sg_store_outbox_list(s, state, NULL, limit, print_row, &l, &err);
		if (rc == 0 && !json)
			fprintf(stderr, "%lu action(s)\n", l.n);
	} else if (!strcmp(sub, "retry")) {
		long n = 0;
		if ((rc = sg_store_outbox_retry(s, id, "cli", &n, &err)) == 0)
			printf("%ld dead action(s) back to pending, due now\n", n);
	} else {
		if ((rc = sg_store_outbox_drop(s, id, "cli", &err)) == 0)
			printf("dropped %s: it will not be delivered\n", id);
	}
cleanup:
	sg_store_close(s);
	if (rc < 0) {
		sg_cli_print_error(&err);
		/* deliver that cannot start (a missing secret, a bad policy) did
		 * not run; a retry or drop of an unknown action ran and failed */
		if (!strcmp(sub, "deliver"))
			return SG_EXIT_USAGE;
		return rc == -SG_ENOTFOUND || rc == -SG_EINVALID ? SG_EXIT_FAIL : SG_EXIT_USAGE;
	}
	return SG_EXIT_OK;
}

const struct sg_cmd sg_cmd_outbox = {
	.name = "outbox",
	.summary = "list, retry, drop or deliver outbound actions (CRM, helpdesk, Slack, paging)",
	.usage = "sopgate outbox list [--state pending|sent|dead] [--limit N] [--json] --db FILE\n"
		 "       sopgate outbox retry ID|--all-dead --db FILE\n"
		 "       sopgate outbox drop ID --db FILE\n"
		 "       sopgate outbox deliver --policy POLICY --db FILE\n"
		 "\n"
		 "list     actions oldest first: id, state, attempts, kind, target channel,\n"
		 "         ticket, next attempt (pending) or creation time, last error\n"
		 "retry    puts a dead letter (or every one) back to pending, due now, with\n"
		 "         its attempts reset; audited\n"
		 "drop     deletes a pending or dead action so it is never delivered;\n"
		 "         audited with its kind, target and idempotency key\n"
		 "deliver  sends every due action through the policy's connectors and\n"
		 "         waits for the outcomes (what `sopgate serve` does in the\n"
		 "         background)\n"
		 "--db FILE    a SQLite database (same as --store sqlite:FILE)\n"
		 "--store URL  sqlite:FILE or postgres://...\n",
	.run = run,
};
