/*
 * cmd_serve.c - `sopgate serve`: the HTTP service. Loads the policy, opens
 * the store, optionally replays example tickets into it, serves the API and
 * the review console until SIGINT/SIGTERM; SIGHUP reloads the policy.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "kb/kb.h"
#include "core/json.h"
#include "core/limits.h"
#include "server/api.h"
#include "server/server.h"
#include "store/store.h"
#include "connectors/connector.h"
#include "outbox/outbox.h"
#include "policy/policy.h"
#include "core/banned.h"

static int run(int argc, char **argv);

const struct sg_cmd sg_cmd_serve = {
	"serve",
	"run the HTTP API and the review console",
	"sopgate serve --policy POLICY [--store sqlite:FILE|postgres://...] [--db FILE]\n"
	"              [--listen HOST:PORT] [--console DIR|none] [--seed FILE.jsonl]\n"
	"              [--threads N] [--rate N] [--kb DIR|KB.db] [--worker NAME]\n"
	"              [--shadow POLICY] [--zendesk-secret-env VAR] [--intercom-secret-env VAR]\n"
	"  Serves the ticket API and the review console (docs/server.md).\n"
	"  --store    the database, default sqlite:sopgate.db; postgres://USER@HOST/DB\n"
	"             lets several serve processes share one PostgreSQL (docs/deploy.md)\n"
	"  --worker   this process's name in the audit chains and leases (letters,\n"
	"             digits, '-', '_'); default 'serve' on SQLite, serve-HOST-PID on\n"
	"             PostgreSQL; each of several processes needs its own\n"
	"  --listen   default 127.0.0.1:8080 (port 0: any free port, printed)\n"
	"  --console  the console's static files; default <data dir>/console, else\n"
	"             src/server/console of the source tree the binary was built in\n"
	"  --seed     replays ticket events (JSONL) into the store at start\n"
	"  --kb       help-center articles to draft replies from: a folder is indexed\n"
	"             (incrementally) into <database>.kb at start\n"
	"  --threads  HTTP worker threads, default 64, the most (a ticket POST waits for its\n"
	"             group commit, so more threads mean bigger commits)\n"
	"  --rate     requests per second per token (default 0: no limit)\n"
	"  --shadow   a candidate policy decided beside the live one on every ticket,\n"
	"             without effect; differences at GET /v1/shadow and in the console\n"
	"  --zendesk-secret-env, --intercom-secret-env  the environment variable holding\n"
	"             the webhook's signing secret (default: the policy's webhooks section)\n"
	"  SIGINT/SIGTERM stop gracefully; SIGHUP reloads the policy (a policy with\n"
	"  errors is refused and the old one stays).\n",
	run,
};

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int parse_listen(const char *s, char *host, size_t hostsz, unsigned *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -1;
	size_t hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostsz)
		return -1;
	memcpy(host, s, hl);
	host[hl] = 0;
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}

static int seed(struct sg_api *api, const char *path)
{
	struct sg_error err = SG_ERROR_INIT;
	FILE *fp = fopen(path, "r");
	if (!fp) {
		fprintf(stderr, "sopgate serve: --seed %s: %s\n", path, strerror(errno));
		return -1;
	}
	struct sg_lines lines;
	struct sg_buf out = SG_BUF_INIT;
	int n_new = 0, n_old = 0, bad = 0;
	sg_lines_init(&lines, fp, SG_MAX_LINE_BYTES);
	for (;;) {
		sg_error_clear(&err);
		int got = sg_lines_next(&lines, &err);
		if (got == 0)
			break;
		if (got == 1 && lines.len == 0)
			continue;
		int status = 0;
		if (got < 0 || sg_api_ticket(api, lines.line, lines.len, &status, &out, &err) < 0) {
			char msg[600];
			fprintf(stderr, "sopgate serve: --seed %s: line %lu: %s\n", path,
				lines.lineno, sg_error_format(&err, msg, sizeof(msg)));
			bad++;
			if (got == -SG_EIO)
				break;
			continue;
		}
		if (status == 201)
			n_new++;
		else
			n_old++;
	}
	sg_lines_release(&lines);
	sg_buf_release(&out);
	fclose(fp);
	fprintf(stderr, "sopgate serve: seeded %d new ticket events from %s (%d already "
		"stored, %d bad)\n", n_new, path, n_old, bad);
	return 0;
}

static int count_user(const struct sg_store_user *u, void *ctx)
{
	(void)u;
	(*(int *)ctx)++;
	return 0;
}

/* A database without users gets an admin, so a new install can log in:
 * the token is printed once, only its hash is stored. */
static int first_user(const char *url)
{
	struct sg_error err = SG_ERROR_INIT;
	struct sg_store *s = NULL;
	char token[SG_TOKEN_LEN];
	int n = 0, rc;
	if ((rc = sg_store_open(&s, url, "serve-setup", &err)) == 0 &&
	    (rc = sg_store_user_list(s, count_user, &n, &err)) == 0 && n == 0 &&
	    (rc = sg_store_user_add(s, "serve", "admin", "admin", token, &err)) == -SG_ECONFLICT) {
		/* another worker starting at the same time created it */
		rc = 0;
		n = 1;
	}
	if (rc < 0) {
		sg_cli_print_error(&err);
		sg_store_close(s);
		return rc;
	}
	sg_store_close(s);
	if (n == 0) {
		printf("%s\n", token);
		fflush(stdout);
		fprintf(stderr, "sopgate serve: the database had no users: created 'admin' (role "
			"admin); its token, printed above, is shown only once: log in with it and "
			"add reviewers with 'sopgate user add'\n");
	}
	return 0;
}

/* The outbox delivery worker: its own copy of the policy's connectors and
 * its own store connection. Absent (NULL) when the policy defines no
 * connectors: actions then wait in the outbox. */
struct delivery {
	struct sg_policy *policy;
	struct sg_connectors *cs;
	struct sg_outbox *ob;
};

static void delivery_stop(struct delivery *d, int64_t wait_ms)
{
	if (d->ob)
		sg_outbox_stop(d->ob, wait_ms);
	sg_outbox_free(d->ob);
	sg_connectors_free(d->cs);
	sg_policy_free(d->policy);
	memset(d, 0, sizeof(*d));
}

static int delivery_start(struct delivery *d, const char *policy, const char *store,
			  const char *worker, struct sg_metrics *reg, struct sg_error *err)
{
	struct sg_diags diags;
	char owner[128], host[64] = "";
	int rc;
	memset(d, 0, sizeof(*d));
	sg_diags_init(&diags);
	rc = sg_policy_load(&d->policy, policy, &diags, err);
	if (rc == -SG_EPOLICY)
		sg_error_set(err, SG_EPOLICY, "policy '%s' does not load", policy);
	sg_diags_release(&diags);
	if (rc < 0 || (rc = sg_connectors_build(&d->cs, d->policy, err)) < 0)
		goto cleanup;
	if (d->cs->n == 0) {
		fprintf(stderr, "sopgate serve: the policy defines no connectors; outbox actions "
			"are kept, not delivered\n");
		return 0;
	}
	/* the lease owner: the worker's name, else unique to this process */
	gethostname(host, sizeof(host) - 1);
	if (worker)
		snprintf(owner, sizeof(owner), "%s", worker);
	else
		snprintf(owner, sizeof(owner), "serve-%s-%ld", host, (long)getpid());
	struct sg_outbox_options o = {owner, reg, stderr};
	if ((rc = sg_outbox_new(&d->ob, store, d->cs, &o, err)) < 0 ||
	    (rc = sg_outbox_start(d->ob, err)) < 0)
		goto cleanup;
	fprintf(stderr, "sopgate serve: delivering the outbox through %zu connector(s), %d at "
		"a time\n", d->cs->n, d->cs->concurrency);
	return 0;
cleanup:
	delivery_stop(d, 0);
	return rc;
}

static int run(int argc, char **argv)
{
	const char *policy = NULL, *store = "sqlite:sopgate.db", *listen = "127.0.0.1:8080";
	const char *console = NULL, *seedf = NULL, *kbdir = NULL, *worker = NULL;
	const char *zd_env = NULL, *ic_env = NULL, *shadow = NULL;
	char kbdb[PATH_MAX + 16] = "";
	char url[PATH_MAX + 8], host[128], cdir[PATH_MAX];
	unsigned port = 0, threads = 64;
	double rate = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--policy") || !strcmp(a, "--store") || !strcmp(a, "--db") ||
		    !strcmp(a, "--listen") || !strcmp(a, "--console") || !strcmp(a, "--seed") ||
		    !strcmp(a, "--threads") || !strcmp(a, "--rate") || !strcmp(a, "--kb") ||
		    !strcmp(a, "--worker") ||
		    !strcmp(a, "--zendesk-secret-env") || !strcmp(a, "--intercom-secret-env") ||
		    !strcmp(a, "--shadow")) {
			if (i + 1 >= argc)
				return sg_cli_usage_error(&sg_cmd_serve, "%s needs a value", a);
			const char *v = argv[++i];
			char *end;
			if (!strcmp(a, "--policy")) {
				policy = v;
			} else if (!strcmp(a, "--store")) {
				store = v;
			} else if (!strcmp(a, "--db")) {
				snprintf(url, sizeof(url), "sqlite:%s", v);
				store = url;
			} else if (!strcmp(a, "--listen")) {
				listen = v;
			} else if (!strcmp(a, "--console")) {
				console = v;
			} else if (!strcmp(a, "--seed")) {
				seedf = v;
			} else if (!strcmp(a, "--kb")) {
				kbdir = v;
			} else if (!strcmp(a, "--zendesk-secret-env")) {
				zd_env = v;
			} else if (!strcmp(a, "--intercom-secret-env")) {
				ic_env = v;
			} else if (!strcmp(a, "--shadow")) {
				shadow = v;
			} else if (!strcmp(a, "--worker")) {
				worker = v;
				size_t wl = strlen(v);
				if (wl == 0 || wl > 40 || strspn(v, "abcdefghijklmnopqrstuvwxyz"
						       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != wl)
					return sg_cli_usage_error(&sg_cmd_serve, "--worker '%s': expected "
								  "1 to 40 letters, digits, '-' or '_'", v);
			} else if (!strcmp(a, "--threads")) {
				unsigned long t = strtoul(v, &end, 10);
				if (*end || t < 1 || t > 64)
					return sg_cli_usage_error(&sg_cmd_serve, "--threads '%s': "
								  "expected 1..64", v);
				threads = (unsigned)t;
			} else {
				rate = strtod(v, &end);
				if (*end || !(rate >= 0) || rate > 1e6)
					return sg_cli_usage_error(&sg_cmd_serve, "--rate '%s': "
								  "expected a number >= 0", v);
			}
		} else {
			return sg_cli_usage_error(&sg_cmd_serve, "unknown argument '%s'", a);
		}
	}
	if (!policy)
		return sg_cli_usage_error(&sg_cmd_serve, "--policy is required");
	if (parse_listen(listen, host, sizeof(host), &port) < 0)
		return sg_cli_usage_error(&sg_cmd_serve, "--listen '%s': expected HOST:PORT",
					  listen);
	if (!console) {
		snprintf(cdir, sizeof(cdir), "%s/console", sg_cli_data_dir());
		if (!is_dir(cdir))
			snprintf(cdir, sizeof(cdir), "%s/../../src/server/console",
				 sg_cli_data_dir());
		console = is_dir(cdir) ? cdir : NULL;
		if (!console)
			fprintf(stderr, "sopgate serve: no console directory found; serving the "
				"API only (use --console DIR)\n");
	} else if (!strcmp(console, "none")) {
		console = NULL;
	} else if (!is_dir(console)) {
		return sg_cli_usage_error(&sg_cmd_serve, "--console '%s': not a directory",
					  console);
	}

	struct sg_error err = SG_ERROR_INIT;
	struct sg_api *api = NULL;
	struct sg_server *srv = NULL;
	/* --kb DIR: (re)index the help center next to the database, then draft
	 * from it; --kb FILE: an index made by `sopgate kb index` */
	if (kbdir) {
		struct stat kst;
		struct sg_error kerr = SG_ERROR_INIT;
		if (stat(kbdir, &kst) == 0 && S_ISDIR(kst.st_mode)) {
			const char *db = strncmp(store, "sqlite:", 7) ? "sopgate.db" : store + 7;
			snprintf(kbdb, sizeof(kbdb), "%s.kb", db);
			struct sg_kb *kb = NULL;
			struct sg_kb_stats ks;
			if (sg_kb_open(&kb, kbdb, &kerr) < 0 || sg_kb_index(kb, kbdir, &ks, &kerr) < 0) {
				sg_kb_close(kb);
				sg_cli_print_error(&kerr);
				return SG_EXIT_USAGE;
			}
			sg_kb_close(kb);
			fprintf(stderr, "sopgate serve: knowledge base %s indexed into %s\n", kbdir, kbdb);
		} else {
			snprintf(kbdb, sizeof(kbdb), "%s", kbdir);
		}
	}
	struct sg_api_options ao = {.policy_path = policy, .store_url = store,
				    .kb_db = kbdb[0] ? kbdb : NULL,
				    .zendesk_secret_env = zd_env, .intercom_secret_env = ic_env,
				    .shadow_path = shadow, .worker = worker};
	int rc = SG_EXIT_OK;
	if (first_user(store) < 0)
		return SG_EXIT_USAGE;
	if (sg_api_new(&api, &ao, &err) < 0) {
		sg_cli_print_error(&err);
		return SG_EXIT_USAGE;
	}
	if (seedf && seed(api, seedf) < 0) {
		sg_api_free(api);
		return SG_EXIT_USAGE;
	}
	sigset_t set;
	sg_server_signals_block(&set);
	struct sg_server_options o = SG_SERVER_OPTIONS_INIT;
	size_t nroutes;
	o.bind_addr = host;
	o.port = port;
	o.threads = threads;
	o.routes = sg_api_routes(api, &nroutes);
	o.nroutes = nroutes;
	o.auth = sg_api_auth(api);
	o.static_dir = console;
	o.rate_per_s = rate;
	o.version = "sopgate";
	if (sg_server_start(&srv, &o, &err) < 0 ||
	    sg_api_metrics(api, sg_server_metrics(srv), &err) < 0) {
		sg_cli_print_error(&err);
		sg_server_stop(srv, 0);
		sg_api_free(api);
		return SG_EXIT_USAGE;
	}
	struct delivery dl;
	if (delivery_start(&dl, policy, store, worker, sg_server_metrics(srv), &err) < 0) {
		sg_cli_print_error(&err);
		sg_server_stop(srv, 0);
		sg_api_free(api);
		return SG_EXIT_USAGE;
	}
	fprintf(stderr, "sopgate serve: listening on http://%s:%u/ (policy %s, store %s%s%s)\n",
		host, sg_server_port(srv), policy, store, console ? ", console " : "",
		console ? console : "");
	fflush(stderr);
	for (;;) {
		struct timespec ts = {1, 0};
		int sig = sigtimedwait(&set, NULL, &ts);
		if (sig < 0) {
			if (errno != EAGAIN && errno != EINTR)
				break;
			sg_error_clear(&err);
			int n = sg_api_sla_tick(api, &err);
			if (n < 0)
				sg_cli_print_error(&err);
			else if (n > 0)
				fprintf(stderr, "sopgate serve: %d escalation(s) breached their "
					"SLA and moved up a level\n", n);
			continue;
		}
		if (sig == SIGHUP) {
			sg_error_clear(&err);
			if (sg_api_reload(api, &err) < 0) {
				char msg[600];
				fprintf(stderr, "sopgate serve: reload refused, the previous policy "
					"stays: %s\n", sg_error_format(&err, msg, sizeof(msg)));
			} else {
				fprintf(stderr, "sopgate serve: policy reloaded from %s\n", policy);
				/* the connectors follow the policy; in-flight deliveries
				 * finish first (or are sent again after their lease) */
				delivery_stop(&dl, 5000);
				if (delivery_start(&dl, policy, store, worker, sg_server_metrics(srv), &err) < 0)
					sg_cli_print_error(&err);
			}
			continue;
		}
		fprintf(stderr, "sopgate serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
	delivery_stop(&dl, 5000);
	sg_server_stop(srv, 5000);
	sg_api_free(api);
	return rc;
}
