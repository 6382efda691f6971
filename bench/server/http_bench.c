/*
 * http_bench.c - starts the HTTP server alone (built-in routes only) for
 * load tests: prints "port N" once listening, serves until SIGINT/SIGTERM,
 * then stops gracefully. Not part of the sopgate binary; bench/server/run
 * builds it against build/libsopgate.a.
 *
 *   http_bench [threads] [port]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/json.h"
#include "server/server.h"

static void quiet(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

int main(int argc, char **argv)
{
	sigset_t set;
	struct sg_server *srv = NULL;
	struct sg_error err = SG_ERROR_INIT;
	struct sg_server_options o = SG_SERVER_OPTIONS_INIT;
	o.threads = argc > 1 ? (unsigned)atoi(argv[1]) : 2;
	o.port = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
	o.version = "bench";
	if (getenv("HTTP_BENCH_QUIET"))
		o.log = quiet;
	sg_json_init();
	if (sg_server_signals_block(&set) != 0 ||
	    sg_server_start(&srv, &o, &err) != 0) {
		fprintf(stderr, "http_bench: %s\n", err.msg);
		return 1;
	}
	printf("port %u\n", sg_server_port(srv));
	fflush(stdout);
	int sig;
	while ((sig = sg_server_signals_wait(&set)) == SIGHUP)
		;
	sg_server_stop(srv, 2000);
	return 0;
}
