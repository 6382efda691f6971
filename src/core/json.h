/*
 * json.h - jansson helpers: parsing with errors that name the field, typed
 * getters, and a JSONL line reader with line numbers and a length cap.
 */
#ifndef SG_CORE_JSON_H
#define SG_CORE_JSON_H

#include <jansson.h>
#include <stdio.h>

#include "core/error.h"

/* Routes jansson's allocations through sg_malloc; call once at start. */
void sg_json_init(void);

/* Parses one JSON value; on failure sets err to "json: line L col C: why"
 * and returns -SG_EJSON. *out is a new reference the caller decrefs. */
int sg_json_parse(json_t **out, const char *s, size_t len, struct sg_error *err);

/* Typed field getters. Each returns 0 when the field is present with the
 * right type, 1 when absent and optional (out untouched), or -SG_EINVALID
 * with a message naming the field ("field 'customer.tier': expected a
 * string, got number"). `path` is only used in messages. */
int sg_json_str(const json_t *obj, const char *key, const char *path,
		int required, const char **out, struct sg_error *err);
int sg_json_num(const json_t *obj, const char *key, const char *path,
		int required, double *out, struct sg_error *err);
int sg_json_bool(const json_t *obj, const char *key, const char *path,
		 int required, int *out, struct sg_error *err);
int sg_json_obj(const json_t *obj, const char *key, const char *path,
		int required, json_t **out, struct sg_error *err);
int sg_json_arr(const json_t *obj, const char *key, const char *path,
		int required, json_t **out, struct sg_error *err);
const char *sg_json_type_name(const json_t *v);

/* Reads lines (JSONL or text) from a stream. */
struct sg_lines {
	FILE *fp;
	char *line;      /* current line without its newline; NUL-terminated */
	size_t len, cap;
	unsigned long lineno;
	size_t max;      /* longer lines are reported as too long */
};

void sg_lines_init(struct sg_lines *r, FILE *fp, size_t max);
/* 1 with a line, 0 at end of input, -SG_ELIMIT for a too-long line (the rest
 * of it is skipped and reading can go on), -SG_EIO on a read error. */
int sg_lines_next(struct sg_lines *r, struct sg_error *err);
void sg_lines_release(struct sg_lines *r);

/* Reads a whole file (or stdin for "-") into a NUL-terminated heap buffer. */
int sg_read_file(const char *path, char **out, size_t *len, struct sg_error *err);

#endif
