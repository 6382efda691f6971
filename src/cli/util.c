/*
 * util.c - helpers shared by the subcommands: errors, colour, progress,
 * input files, the data folder.
 */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/id.h"
#include "core/banned.h"

int sg_cli_usage_error(const struct sg_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "sopgate %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s", cmd->usage);
	return SG_EXIT_USAGE;
}

void sg_cli_print_error(const struct sg_error *err)
{
	char buf[800];
	fprintf(stderr, "sopgate: %s\n", sg_error_format(err, buf, sizeof(buf)));
}

int sg_cli_color(FILE *fp)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(fileno(fp)) && !(nc && *nc);
}

const char *sg_cli_sgr(FILE *fp, const char *code)
{
	return sg_cli_color(fp) ? code : "";
}

void sg_progress_start(struct sg_progress *p, const char *label, unsigned long total)
{
	p->label = label;
	p->done = 0;
	p->total = total;
	p->last_ns = 0;
	p->active = isatty(STDERR_FILENO);
}

static void draw(struct sg_progress *p)
{
	if (p->total) {
		int width = 30, fill = (int)((double)p->done / (double)p->total * width);
		if (fill > width)
			fill = width;
		fprintf(stderr, "\r%s [%.*s%*s] %lu/%lu", p->label, fill,
			"##############################", width - fill, "", p->done,
			p->total);
	} else {
		fprintf(stderr, "\r%s %lu", p->label, p->done);
	}
	fflush(stderr);
}

void sg_progress_tick(struct sg_progress *p, unsigned long done)
{
	p->done = done;
	if (!p->active)
		return;
	unsigned long long now = sg_mono_ns();
	if (now - p->last_ns < 100000000ull)
		return;
	p->last_ns = now;
	draw(p);
}

void sg_progress_end(struct sg_progress *p)
{
	if (!p->active)
		return;
	draw(p);
	fputc('\n', stderr);
}

FILE *sg_cli_open_input(const char *path, struct sg_error *err)
{
	if (!path || !strcmp(path, "-"))
		return stdin;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		sg_error_set(err, SG_EIO, "unable to open '%s': %s", path, strerror(errno));
	return fp;
}

const char *sg_cli_data_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("SOPGATE_DATA");
	if (env && *env)
		return env;
	if (dir[0])
		return dir;
	/* build/sopgate -> build/data ; /usr/local/bin/sopgate -> share */
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dir, sizeof(dir), "%.*s/data", (int)(sizeof(dir) - 6), self);
			if (access(dir, R_OK) == 0)
				return dir;
			snprintf(dir, sizeof(dir), "%.*s/../share/sopgate",
				 (int)(sizeof(dir) - 20), self);
			if (access(dir, R_OK) == 0)
				return dir;
		}
	}
	snprintf(dir, sizeof(dir), "/usr/local/share/sopgate");
	return dir;
}
