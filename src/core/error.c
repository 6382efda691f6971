/*
 * error.c - error codes, messages and the first-error-wins rule.
 */
#include "core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

static const struct {
	int http;
	const char *name, *text;
} table[] = {
#define SG_X_ROW(name, http, code, text) {http, code, text},
	SG_ERROR_LIST(SG_X_ROW)
#undef SG_X_ROW
};

static int norm(int code)
{
	if (code < 0)
		code = -code;
	return code < SG_E__COUNT ? code : SG_EINTERNAL;
}

static int vset(struct sg_error *err, int code, const char *file, unsigned line,
		unsigned col, const char *fmt, va_list ap)
{
	code = norm(code);
	if (!err || err->code)
		return -code;
	err->code = code;
	err->line = line;
	err->col = col;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -code;
}

int sg_error_set(struct sg_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vset(err, code, NULL, 0, 0, fmt, ap);
	va_end(ap);
	return rc;
}

int sg_error_setloc(struct sg_error *err, int code, const char *file,
		    unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vset(err, code, file, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

void sg_error_clear(struct sg_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

const char *sg_error_name(int code) { return table[norm(code)].name; }
const char *sg_error_text(int code) { return table[norm(code)].text; }
int sg_error_http(int code) { return table[norm(code)].http; }

const char *sg_error_format(const struct sg_error *err, char *buf, unsigned size)
{
	const char *msg = err->msg[0] ? err->msg : sg_error_text(err->code);
	if (err->file[0] && err->line)
		snprintf(buf, size, "%s:%u:%u: %s", err->file, err->line,
			 err->col ? err->col : 1, msg);
	else if (err->file[0])
		snprintf(buf, size, "%s: %s", err->file, msg);
	else
		snprintf(buf, size, "%s", msg);
	return buf;
}

void sg_bug(const char *file, int line, const char *msg)
{
	fprintf(stderr, "sopgate: BUG at %s:%d: %s\n", file, line, msg);
	abort();
}
