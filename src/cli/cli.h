/*
 * cli.h - what every `sopgate` subcommand shares.
 *
 * Each subcommand lives in its own file, cli/cmd_<name>.c, and defines
 * `const struct sg_cmd sg_cmd_<name>`. The build generates the dispatch
 * table from the file names, so adding a command is adding a file.
 *
 * Exit status: 0 success, 1 the command ran and found errors (bad lines,
 * failed tests, policy errors), 2 usage error or the command could not run.
 */
#ifndef SG_CLI_CLI_H
#define SG_CLI_CLI_H

#include <stdio.h>

#include "core/error.h"

struct sg_cmd {
	const char *name;
	const char *summary; /* one line for `sopgate --help` */
	const char *usage;   /* full usage text for `sopgate NAME --help` */
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
};

#define SG_EXIT_OK 0
#define SG_EXIT_FAIL 1
#define SG_EXIT_USAGE 2

/* Prints "sopgate NAME: message" to stderr; returns SG_EXIT_USAGE. */
int sg_cli_usage_error(const struct sg_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prints "sopgate: " + the formatted error to stderr. */
void sg_cli_print_error(const struct sg_error *err);

/* 1 when the stream is a terminal and NO_COLOR is unset. */
int sg_cli_color(FILE *fp);
/* ANSI sequences, or "" when colour is off for fp. */
const char *sg_cli_sgr(FILE *fp, const char *code);

/* A progress line on stderr, drawn only when stderr is a terminal and at
 * most ten times a second. total may be 0 when unknown. */
struct sg_progress {
	const char *label;
	unsigned long done, total;
	unsigned long long last_ns;
	int active;
};
void sg_progress_start(struct sg_progress *p, const char *label, unsigned long total);
void sg_progress_tick(struct sg_progress *p, unsigned long done);
void sg_progress_end(struct sg_progress *p);

/* Opens FILE or stdin for "-"/NULL; NULL with err set on failure. */
FILE *sg_cli_open_input(const char *path, struct sg_error *err);

/* The folder holding the shipped data (models, rules): $SOPGATE_DATA, else
 * the build's default next to the binary, else the install prefix. */
const char *sg_cli_data_dir(void);

#endif
