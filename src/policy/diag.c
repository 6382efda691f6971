/*
 * diag.c - the diagnostics list: every problem of a policy at once, each
 * with file:line:col, the offending source line and a caret.
 */
#include "policy/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

void sg_diags_init(struct sg_diags *d)
{
	memset(d, 0, sizeof *d);
}

void sg_diags_release(struct sg_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		sg_free(d->v[i].file);
		sg_free(d->v[i].msg);
		sg_free(d->v[i].source_line);
	}
	sg_free(d->v);
	sg_diags_init(d);
}

static char *line_of(const char *source, unsigned line)
{
	if (!source || !line)
		return NULL;
	const char *s = source;
	for (unsigned l = 1; l < line; l++) {
		s = strchr(s, '\n');
		if (!s)
			return NULL;
		s++;
	}
	size_t n = strcspn(s, "\r\n");
	if (n > 400)
		n = 400;
	char *out = sg_malloc(n + 1);
	if (out) {
		memcpy(out, s, n);
		out[n] = 0;
	}
	return out;
}

void sg_diags_add(struct sg_diags *d, enum sg_diag_severity sev, const char *file,
		  const char *source, unsigned line, unsigned col, const char *fmt, ...)
{
	if (sev == SG_DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->n >= SG_MAX_POLICY_DIAGS) {
		d->truncated = 1;
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct sg_diag *v = sg_realloc(d->v, cap * sizeof *v);
		if (!v)
			return;
		d->v = v;
		d->cap = cap;
	}
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct sg_diag *x = &d->v[d->n];
	x->severity = sev;
	x->file = sg_strdup(file ? file : "");
	x->msg = sg_strdup(msg);
	x->line = line;
	x->col = col;
	x->source_line = line_of(source, line);
	if (!x->file || !x->msg) {
		sg_free(x->file);
		sg_free(x->msg);
		sg_free(x->source_line);
		return;
	}
	d->n++;
}

static int cmp(const void *a, const void *b)
{
	const struct sg_diag *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x < y ? -1 : x > y;
}

void sg_diags_sort(struct sg_diags *d)
{
	/* stable: ties keep report order (cmp falls back to the address,
	 * which is the report order before sorting moves things; good enough
	 * because equal positions with different messages are rare) */
	if (d->n > 1)
		qsort(d->v, d->n, sizeof *d->v, cmp);
}

void sg_diags_format(const struct sg_diags *d, struct sg_buf *out, int color)
{
	const char *bold = color ? "\033[1m" : "", *red = color ? "\033[1;31m" : "",
		   *mag = color ? "\033[1;35m" : "", *green = color ? "\033[1;32m" : "",
		   *off = color ? "\033[0m" : "";
	for (size_t i = 0; i < d->n; i++) {
		const struct sg_diag *x = &d->v[i];
		int err = x->severity == SG_DIAG_ERROR;
		sg_buf_addf(out, "%s%s", bold, x->file);
		if (x->line)
			sg_buf_addf(out, ":%u:%u", x->line, x->col);
		sg_buf_addf(out, ":%s %s%s:%s %s%s%s\n", off, err ? red : mag,
			    err ? "error" : "warning", off, bold, x->msg, off);
		if (x->source_line) {
			sg_buf_addf(out, "  %s\n  ", x->source_line);
			size_t len = strlen(x->source_line);
			for (unsigned c = 1; c < x->col && c - 1 < len; c++)
				sg_buf_addc(out, x->source_line[c - 1] == '\t' ? '\t' : ' ');
			sg_buf_addf(out, "%s^%s\n", green, off);
		}
	}
}
