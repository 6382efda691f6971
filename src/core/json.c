/*
 * json.c - jansson glue and the line reader shared by every JSONL command.
 */
#include "core/json.h"

#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

void sg_json_init(void)
{
	json_set_alloc_funcs(sg_malloc, sg_free);
}

int sg_json_parse(json_t **out, const char *s, size_t len, struct sg_error *err)
{
	json_error_t je;
	*out = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY |
				      JSON_ALLOW_NUL, &je);
	if (!*out) {
		/* jansson quotes the text near the error; that text may be a
		 * customer's card number, so the message stops before it */
		char *near = strstr(je.text, " near '");
		if (near)
			*near = '\0';
		return sg_error_set(err, SG_EJSON, "invalid JSON at line %d column %d: %s",
				    je.line, je.column, je.text);
	}
	return 0;
}

const char *sg_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

static int get(const json_t *obj, const char *key, const char *path,
	       int required, const char *want, int ok_type, json_t **v,
	       struct sg_error *err)
{
	*v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
	if (!*v || json_is_null(*v)) {
		if (required)
			return sg_error_set(err, SG_EINVALID, "field '%s': required",
					    path ? path : key);
		return 1;
	}
	if (!ok_type)
		return 0;
	return sg_error_set(err, SG_EINVALID, "field '%s': expected %s, got %s",
			    path ? path : key, want, sg_json_type_name(*v));
}

int sg_json_str(const json_t *obj, const char *key, const char *path,
		int required, const char **out, struct sg_error *err)
{
	json_t *v;
	int rc = get(obj, key, path, required, "a string", 0, &v, err);
	if (rc)
		return rc;
	if (!json_is_string(v))
		return get(obj, key, path, required, "a string", 1, &v, err);
	*out = json_string_value(v);
	return 0;
}

int sg_json_num(const json_t *obj, const char *key, const char *path,
		int required, double *out, struct sg_error *err)
{
	json_t *v;
	int rc = get(obj, key, path, required, "a number", 0, &v, err);
	if (rc)
		return rc;
	if (!json_is_number(v))
		return get(obj, key, path, required, "a number", 1, &v, err);
	*out = json_number_value(v);
	return 0;
}

int sg_json_bool(const json_t *obj, const char *key, const char *path,
		 int required, int *out, struct sg_error *err)
{
	json_t *v;
	int rc = get(obj, key, path, required, "a boolean", 0, &v, err);
	if (rc)
		return rc;
	if (!json_is_boolean(v))
		return get(obj, key, path, required, "a boolean", 1, &v, err);
	*out = json_is_true(v);
	return 0;
}

int sg_json_obj(const json_t *obj, const char *key, const char *path,
		int required, json_t **out, struct sg_error *err)
{
	json_t *v;
	int rc = get(obj, key, path, required, "an object", 0, &v, err);
	if (rc)
		return rc;
	if (!json_is_object(v))
		return get(obj, key, path, required, "an object", 1, &v, err);
	*out = v;
	return 0;
}

int sg_json_arr(const json_t *obj, const char *key, const char *path,
		int required, json_t **out, struct sg_error *err)
{
	json_t *v;
	int rc = get(obj, key, path, required, "an array", 0, &v, err);
	if (rc)
		return rc;
	if (!json_is_array(v))
		return get(obj, key, path, required, "an array", 1, &v, err);
	*out = v;
	return 0;
}

void sg_lines_init(struct sg_lines *r, FILE *fp, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->max = max;
}

int sg_lines_next(struct sg_lines *r, struct sg_error *err)
{
	int c, too_long = 0;
	r->len = 0;
	while ((c = getc(r->fp)) != EOF) {
		if (c == '\n')
			break;
		if (too_long)
			continue;
		if (r->len + 2 > r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 4096;
			char *p = sg_realloc(r->line, cap);
			if (!p)
				return sg_error_set(err, SG_ENOMEM, "line %lu: out of memory",
						    r->lineno + 1);
			r->line = p;
			r->cap = cap;
		}
		r->line[r->len++] = (char)c;
		if (r->max && r->len > r->max)
			too_long = 1;
	}
	if (ferror(r->fp))
		return sg_error_set(err, SG_EIO, "read error: %s", strerror(errno));
	if (c == EOF && r->len == 0 && !too_long)
		return 0;
	r->lineno++;
	if (r->len && r->line[r->len - 1] == '\r')
		r->len--;
	if (!r->line) { /* an empty first line: give it a buffer */
		r->line = sg_malloc(4096);
		if (!r->line)
			return sg_error_set(err, SG_ENOMEM, "out of memory");
		r->cap = 4096;
	}
	r->line[r->len] = '\0';
	if (too_long)
		/* callers name the line (r->lineno) themselves */
		return sg_error_set(err, SG_ELIMIT, "longer than %zu bytes", r->max);
	return 1;
}

void sg_lines_release(struct sg_lines *r)
{
	sg_free(r->line);
	r->line = NULL;
	r->len = r->cap = 0;
}

int sg_read_file(const char *path, char **out, size_t *len, struct sg_error *err)
{
	*out = NULL;
	int is_stdin = !strcmp(path, "-");
	FILE *fp = is_stdin ? stdin : fopen(path, "rb");
	if (!fp)
		return sg_error_set(err, SG_EIO, "unable to open '%s': %s", path,
				    strerror(errno));
	size_t cap = 65536, n = 0;
	char *buf = sg_malloc(cap);
	int rc = 0;
	if (!buf) {
		rc = sg_error_set(err, SG_ENOMEM, "out of memory reading '%s'", path);
		goto cleanup;
	}
	for (;;) {
		if (n + 1 >= cap) {
			char *p = sg_realloc(buf, cap * 2);
			if (!p) {
				rc = sg_error_set(err, SG_ENOMEM, "out of memory reading '%s'",
						  path);
				goto cleanup;
			}
			buf = p;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		rc = sg_error_set(err, SG_EIO, "unable to read '%s': %s", path,
				  strerror(errno));
		goto cleanup;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	if (len)
		*len = n;
cleanup:
	sg_free(buf);
	if (!is_stdin)
		fclose(fp);
	return rc;
}
