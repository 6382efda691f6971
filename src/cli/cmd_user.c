/*
 * cmd_user.c - `sopgate user add|list`: reviewer accounts. `add` prints a
 * new token once; the database keeps only its SHA-256.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/id.h"
#include "store/store.h"
#include "core/banned.h"

extern const struct sg_cmd sg_cmd_user;

static int print_user(const struct sg_store_user *u, void *ctx)
{
	struct sg_store *s = ctx;
	char iso[25];
	struct sg_store_onboarding ob = {0, 0};
	struct sg_error err = SG_ERROR_INIT;
	sg_time_iso(u->created_ms, iso);
	if (sg_store_user_onboarding(s, u->name, &ob, &err) < 0) {
		sg_cli_print_error(&err);
		return -SG_ESTORE;
	}
	if (ob.onboarding)
		printf("%-24s %-10s %s onboarding (%ld sends)\n", u->name, u->role, iso,
		       ob.tickets);
	else
		printf("%-24s %-10s %s\n", u->name, u->role, iso);
	return 0;
}

static int run(int argc, char **argv)
{
	const char *sub = NULL, *name = NULL, *role = NULL, *store = NULL;
	char url[4200];
	int onboarding = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--db") || !strcmp(a, "--store") || !strcmp(a, "--role")) {
			if (i + 1 >= argc)
				return sg_cli_usage_error(&sg_cmd_user, "%s needs a value", a);
			const char *v = argv[++i];
			if (!strcmp(a, "--role")) {
				role = v;
			} else if (!strcmp(a, "--db")) {
				snprintf(url, sizeof(url), "sqlite:%s", v);
				store = url;
			} else {
				store = v;
			}
		} else if (!strcmp(a, "--onboarding")) {
			onboarding = 1;
		} else if (a[0] == '-') {
			return sg_cli_usage_error(&sg_cmd_user, "unknown option '%s'", a);
		} else if (!sub) {
			sub = a;
		} else if (!name && (!strcmp(sub, "add") || !strcmp(sub, "graduate") ||
				     !strcmp(sub, "onboard"))) {
			name = a;
		} else {
			return sg_cli_usage_error(&sg_cmd_user, "unexpected argument '%s'", a);
		}
	}
	if (!sub)
		return sg_cli_usage_error(&sg_cmd_user, "missing subcommand (add, list, "
					  "graduate or onboard)");
	int set_ob = !strcmp(sub, "graduate") || !strcmp(sub, "onboard");
	if (strcmp(sub, "add") && strcmp(sub, "list") && !set_ob)
		return sg_cli_usage_error(&sg_cmd_user, "unknown subcommand '%s'", sub);
	if (onboarding && strcmp(sub, "add"))
		return sg_cli_usage_error(&sg_cmd_user, "--onboarding is only for 'add'");
	if (!store)
		return sg_cli_usage_error(&sg_cmd_user, "missing --db FILE (or --store URL)");
	if (!strcmp(sub, "add")) {
		if (!name)
			return sg_cli_usage_error(&sg_cmd_user, "missing the user name");
		if (!role)
			return sg_cli_usage_error(&sg_cmd_user, "missing --role "
						  "(agent, lead, specialist or admin)");
		if (!sg_store_role_valid(role))
			return sg_cli_usage_error(&sg_cmd_user, "--role '%s': expected agent, "
						  "lead, specialist or admin", role);
	} else if (role) {
		return sg_cli_usage_error(&sg_cmd_user, "--role is only for 'add'");
	} else if (set_ob && !name) {
		return sg_cli_usage_error(&sg_cmd_user, "missing the user name");
	}

	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	int rc;
	if (!strcmp(sub, "add")) {
		char token[SG_TOKEN_LEN];
		if ((rc = sg_store_open(&s, store, "cli", &err)) < 0 ||
		    (rc = sg_store_user_add_opts(s, "cli", name, role,
						 onboarding ? SG_STORE_USER_ONBOARDING : 0, token,
						 &err)) < 0)
			goto cleanup;
		printf("%s\n", token);
		fprintf(stderr, "user '%s' (%s%s) added; the token above is shown only "
			"once: store it now\n", name, role, onboarding ? ", onboarding" : "");
	} else if (set_ob) {
		int on = !strcmp(sub, "onboard");
		if ((rc = sg_store_open_existing(&s, store, "cli", &err)) < 0)
			goto cleanup;
		if ((rc = sg_store_user_onboarding_set(s, "cli", name, on, &err)) < 0) {
			if (rc == -SG_ENOTFOUND)
				rc = -SG_EINVALID; /* an unknown user: exit 1, like a bad role */
			goto cleanup;
		}
		fprintf(stderr, on ? "user '%s' is onboarding: the policy's peer-review plan "
			"applies from their next send\n" : "user '%s' graduated: no more peer "
			"review for onboarding\n", name);
	} else {
		if ((rc = sg_store_open_existing(&s, store, "cli", &err)) < 0)
			goto cleanup;
		rc = sg_store_user_list(s, print_user, s, &err);
	}
cleanup:
	sg_store_close(s);
	if (rc < 0) {
		sg_cli_print_error(&err);
		return rc == -SG_ECONFLICT || rc == -SG_EINVALID ? SG_EXIT_FAIL : SG_EXIT_USAGE;
	}
	return SG_EXIT_OK;
}

const struct sg_cmd sg_cmd_user = {
	.name = "user",
	.summary = "add reviewers (prints a token once), list them, graduate onboarding ones",
	.usage = "sopgate user add NAME --role agent|lead|specialist|admin [--onboarding] --db FILE\n"
		 "       sopgate user list --db FILE\n"
		 "       sopgate user graduate|onboard NAME --db FILE\n"
		 "\n"
		 "add    creates the user and prints a new token on stdout, once; only\n"
		 "       its SHA-256 is stored. --onboarding: a new reviewer whose sends\n"
		 "       need a peer's approval (the policy's onboarding section)\n"
		 "list   name, role and creation time of every user (and onboarding state)\n"
		 "graduate  ends a reviewer's onboarding; onboard starts it again\n"
		 "--db FILE    a SQLite database (same as --store sqlite:FILE)\n"
		 "--store URL  sqlite:FILE or postgres://USER@HOST/DB\n",
	.run = run,
};
