/*
 * json_flat_test.c - the flat-record JSON fast path: values decoded as
 * jansson decodes them, and every record outside its subset or invalid
 * declined (so jansson parses it and names the error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/json.h"
#include "core/json_flat.h"

static int parse(struct sg_json_flat *f, const char *s)
{
	return sg_json_flat_parse(f, s, strlen(s));
}

static void test_values(void **state)
{
	(void)state;
	struct sg_json_flat f;
	sg_json_flat_init(&f);
	const char *rec = " {\"id\":7, \"text\" : \"caf\xc3\xa9 \\u00e9\\ud83d\\ude00\\n\\t\\/\\\\\\\"\\b\\f\\u0000x\","
			  "\"input_text\":null,\"allow_urls\":[\"a.example\",1,-2.5e10,true,false,null],"
			  "\"n\":[],\"z\":-0,\"r\":0.25} ";
	assert_int_equal(parse(&f, rec), 0);
	assert_int_equal(f.nfields, 7);
	const struct sg_json_flat_val *v = sg_json_flat_get(&f, "text");
	static const char want[] = "caf\xc3\xa9 \xc3\xa9\xf0\x9f\x98\x80\n\t/\\\"\b\f\0x";
	assert_non_null(v);
	assert_int_equal(v->type, JSON_STRING);
	assert_int_equal(v->len, sizeof(want) - 1);
	assert_memory_equal(v->str, want, sizeof(want));
	assert_int_equal(sg_json_flat_get(&f, "id")->type, JSON_INTEGER);
	assert_int_equal(sg_json_flat_get(&f, "input_text")->type, JSON_NULL);
	assert_int_equal(sg_json_flat_get(&f, "z")->type, JSON_INTEGER);
	assert_int_equal(sg_json_flat_get(&f, "r")->type, JSON_REAL);
	assert_null(sg_json_flat_get(&f, "missing"));
	v = sg_json_flat_get(&f, "allow_urls");
	assert_int_equal(v->type, JSON_ARRAY);
	assert_int_equal(v->len, 6);
	assert_string_equal(f.items[v->first].str, "a.example");
	assert_int_equal(f.items[v->first + 1].type, JSON_INTEGER);
	assert_int_equal(f.items[v->first + 2].type, JSON_REAL);
	assert_int_equal(f.items[v->first + 3].type, JSON_TRUE);
	assert_int_equal(f.items[v->first + 4].type, JSON_FALSE);
	assert_int_equal(f.items[v->first + 5].type, JSON_NULL);
	assert_int_equal(sg_json_flat_get(&f, "n")->len, 0);
	assert_int_equal(parse(&f, "{}"), 0);
	assert_int_equal(f.nfields, 0);
	sg_json_flat_release(&f);
}

/* Declined: jansson must see these, either because they are errors (it
 * names them) or because they are outside the flat subset. */
static void test_declined(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "   ", "[1]", "\"s\"", "7", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
		"{\"a\":1 \"b\":2}", "{\"a\":1}x", "{\"a\":1}{}", "{a:1}", "{'a':1}",
		"{\"a\":{\"b\":1}}", "{\"a\":[[1]]}", "{\"a\":[{}]}", "{\"a\":[1,]}",
		"{\"a\":1,\"a\":2}", "{\"t\\u0065xt\":\"x\"}", "{\"k\xc3\xa9\":1}",
		"{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":-}",
		"{\"a\":1e}", "{\"a\":1e999}", "{\"a\":123456789012345678901}",
		"{\"a\":tru}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":NaN}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\\u0041\"}",
		"{\"a\":\"\\u12g4\"}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}",
		"{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}", "{\"a\":\"open}",
		"{\"a\":\"\xff\"}", "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xe0\x80\xaf\"}",
		"{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}", "{\"a\":\"\xc3\"}",
		"{\"a\":\"\x80\"}", "\xef\xbb\xbf{}",
	};
	struct sg_json_flat f;
	sg_json_flat_init(&f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&f, bad[i]) != 1)
			fail_msg("accepted: %s", bad[i]);
	}
	/* a raw NUL byte, inside and outside a string */
	assert_int_equal(sg_json_flat_parse(&f, "{\"a\":\"x\0\"}", 9), 1);
	assert_int_equal(sg_json_flat_parse(&f, "{\"a\":1}\0", 8), 1);
	/* the caps decline, they never truncate */
	char big[4096] = "{";
	for (int i = 0; i <= SG_JSON_FLAT_MAX_FIELDS; i++)
		snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s\"k%d\":1",
			 i ? "," : "", i);
	strcat(big, "}");
	assert_int_equal(parse(&f, big), 1);
	sg_json_flat_release(&f);
}

/* Everything the fast path accepts, jansson accepts with the same values. */
static void test_same_as_jansson(void **state)
{
	(void)state;
	static const char *const good[] = {
		"{\"text\":\"a\"}", "{\"text\":\"\\u00e9\\u20ac\\ud83d\\ude00\\u0000\"}",
		"{\"x\":[\"\\\"\",\"\\/\"],\"text\":\"\xf0\x9f\x98\x80\xe2\x82\xac\"}",
		"\t{\"a\" :\r\n1.5E+10 , \"b\":-0.0e-5,\"c\":999999999999999999}\r\n",
	};
	struct sg_json_flat f;
	sg_json_flat_init(&f);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *o;
		struct sg_error err = SG_ERROR_INIT;
		assert_int_equal(parse(&f, good[i]), 0);
		assert_int_equal(sg_json_parse(&o, good[i], strlen(good[i]), &err), 0);
		assert_int_equal(json_object_size(o), f.nfields);
		for (size_t k = 0; k < f.nfields; k++) {
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)f.fields[k].key_len, f.fields[k].key);
			json_t *j = json_object_get(o, key);
			assert_non_null(j);
			assert_int_equal(json_typeof(j), f.fields[k].val.type);
			if (json_is_string(j)) {
				assert_int_equal(json_string_length(j), f.fields[k].val.len);
				assert_memory_equal(json_string_value(j), f.fields[k].val.str,
						    f.fields[k].val.len);
			}
		}
		json_decref(o);
	}
	sg_json_flat_release(&f);
}

/* Every byte value at every position of a 40-byte string value (whole
 * blocks, block edges, the tail): printable ASCII other than '"' and '\\'
 * is accepted; a lone byte >= 0x80 (invalid UTF-8) and a raw control byte
 * are declined; whatever is accepted, jansson accepts with the same value
 * (a '\\' may start a valid escape with the letter after it). */
static void test_every_byte_everywhere(void **state)
{
	(void)state;
	struct sg_json_flat f;
	sg_json_flat_init(&f);
	char rec[64];
	for (int c = 0; c < 256; c++) {
		for (size_t k = 0; k < 40; k++) {
			memcpy(rec, "{\"text\":\"", 9);
			for (size_t i = 0; i < 40; i++)
				rec[9 + i] = (char)('a' + i % 26);
			rec[9 + k] = (char)c;
			memcpy(rec + 49, "\"}", 2);
			int plain = c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
			int rc = sg_json_flat_parse(&f, rec, 51);
			if ((plain && rc) || ((c < 0x20 || c >= 0x80) && !rc))
				fail_msg("byte 0x%02x at %zu: got %d", c, k, rc);
			json_t *o;
			struct sg_error err = SG_ERROR_INIT;
			if (rc == 0) {
				assert_int_equal(sg_json_parse(&o, rec, 51, &err), 0);
				const char *t = json_string_value(json_object_get(o, "text"));
				size_t n = json_string_length(json_object_get(o, "text"));
				assert_int_equal(sg_json_flat_get(&f, "text")->len, n);
				assert_memory_equal(sg_json_flat_get(&f, "text")->str, t, n + 1);
				json_decref(o);
			}
		}
	}
	sg_json_flat_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_declined),
		cmocka_unit_test(test_same_as_jansson),
		cmocka_unit_test(test_every_byte_everywhere),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
