/*
 * json_flat.h - a fast path for the usual shape of a JSONL record: one
 * object whose values are strings, numbers, booleans, null or arrays of
 * those. It accepts only what sg_json_parse (jansson) accepts and decodes
 * strings to the same bytes; anything else (nested objects, escapes in
 * keys, duplicate keys, big numbers, any error) is declined, and the caller
 * parses the line with sg_json_parse, which also gives the error message.
 * src/core/json_flat_fuzz.c checks the "same as jansson" promise.
 */
#ifndef SG_CORE_JSON_FLAT_H
#define SG_CORE_JSON_FLAT_H

#include <jansson.h>
#include <stddef.h>

/* Beyond these a record is declined (left to jansson), never truncated. */
#define SG_JSON_FLAT_MAX_FIELDS 32
#define SG_JSON_FLAT_MAX_ITEMS 256

struct sg_json_flat_val {
	json_type type;  /* JSON_STRING, _INTEGER, _REAL, _TRUE, _FALSE, _NULL, _ARRAY */
	const char *str; /* JSON_STRING: decoded bytes, NUL-terminated */
	size_t len;      /* JSON_STRING: bytes (may hold NULs); JSON_ARRAY: items */
	size_t first;    /* JSON_ARRAY: index of its first item in items[] */
};

struct sg_json_flat_field {
	const char *key; /* raw key bytes in the parsed text (no escapes) */
	size_t key_len;
	struct sg_json_flat_val val;
};

struct sg_json_flat {
	struct sg_json_flat_field fields[SG_JSON_FLAT_MAX_FIELDS];
	size_t nfields;
	struct sg_json_flat_val items[SG_JSON_FLAT_MAX_ITEMS];
	size_t nitems;
	char *strs; /* decoded strings, owned; reused from parse to parse */
	size_t strs_cap;
};

void sg_json_flat_init(struct sg_json_flat *f);
void sg_json_flat_release(struct sg_json_flat *f);

/* Parses s[0..len). 0: f holds the record (keys point into s, strings
 * into f; both valid until the next parse or while s lives); 1: declined,
 * parse s with sg_json_parse instead. Never fails otherwise. */
int sg_json_flat_parse(struct sg_json_flat *f, const char *s, size_t len);

/* The value of key, or NULL when the record has no such field. */
const struct sg_json_flat_val *sg_json_flat_get(const struct sg_json_flat *f,
						const char *key);

#endif
