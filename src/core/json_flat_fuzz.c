/*
 * json_flat_fuzz.c - libFuzzer target for the flat-record JSON fast path,
 * differential against jansson: whenever sg_json_flat_parse accepts bytes,
 * sg_json_parse must accept them too and yield an object with the same
 * fields, types, decoded strings and array items.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/json_flat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const json_t *j, const struct sg_json_flat *f,
		 const struct sg_json_flat_val *v)
{
	if (!j || json_typeof(j) != v->type)
		abort();
	if (v->type == JSON_STRING &&
	    (json_string_length(j) != v->len || memcmp(json_string_value(j), v->str, v->len) ||
	     v->str[v->len] != '\0'))
		abort();
	if (v->type == JSON_ARRAY) {
		if (json_array_size(j) != v->len)
			abort();
		for (size_t i = 0; i < v->len; i++)
			same(json_array_get(j, i), f, &f->items[v->first + i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sg_json_flat f;
	static int ready;
	if (!ready) {
		sg_json_flat_init(&f);
		ready = 1;
	}
	if (sg_json_flat_parse(&f, (const char *)data, size))
		return 0;
	json_t *o;
	struct sg_error err = SG_ERROR_INIT;
	if (sg_json_parse(&o, (const char *)data, size, &err))
		abort(); /* accepted here, rejected by jansson */
	if (!json_is_object(o) || json_object_size(o) != f.nfields)
		abort();
	for (size_t i = 0; i < f.nfields; i++) {
		char *key = malloc(f.fields[i].key_len + 1);
		if (!key)
			abort();
		memcpy(key, f.fields[i].key, f.fields[i].key_len);
		key[f.fields[i].key_len] = '\0';
		same(json_object_get(o, key), &f, &f.fields[i].val);
		if (sg_json_flat_get(&f, key) != &f.fields[i].val)
			abort();
		free(key);
	}
	json_decref(o);
	return 0;
}
