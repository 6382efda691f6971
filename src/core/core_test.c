/*
 * core_test.c - errors, allocator, arena, buffer, hashes, ids, JSON helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/id.h"
#include "core/json.h"

static void test_error_first_wins(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_error_set(&err, SG_EJSON, "first %d", 1), -SG_EJSON);
	assert_int_equal(sg_error_set(&err, SG_EIO, "second"), -SG_EIO);
	assert_string_equal(err.msg, "first 1");
	assert_int_equal(err.code, SG_EJSON);
	assert_string_equal(sg_error_name(-SG_EJSON), "invalid_json");
	assert_int_equal(sg_error_http(SG_EPOLICY), 422);
	char buf[512];
	struct sg_error loc = SG_ERROR_INIT;
	sg_error_setloc(&loc, SG_EPOLICY, "p.yaml", 3, 7, "unknown key 'x'");
	assert_string_equal(sg_error_format(&loc, buf, sizeof(buf)), "p.yaml:3:7: unknown key 'x'");
}

static void test_alloc_counts_and_fails(void **state)
{
	(void)state;
	size_t before = sg_alloc_live_bytes();
	char *p = sg_malloc(1000);
	assert_non_null(p);
	assert_int_equal(sg_alloc_live_bytes(), before + 1000);
	p = sg_realloc(p, 10);
	assert_int_equal(sg_alloc_live_bytes(), before + 10);
	sg_free(p);
	assert_int_equal(sg_alloc_live_bytes(), before);
	sg_alloc_fail_at(2);
	void *a = sg_malloc(8), *b = sg_malloc(8), *c = sg_malloc(8);
	sg_alloc_fail_at(0);
	assert_non_null(a);
	assert_null(b);
	assert_non_null(c);
	sg_free(a);
	sg_free(c);
}

static void test_arena(void **state)
{
	(void)state;
	struct sg_arena a;
	sg_arena_init(&a, 64);
	char *s = sg_arena_strdup(&a, "hello");
	void *big = sg_arena_alloc(&a, 1000); /* larger than a page */
	char *f = sg_arena_printf(&a, "%s-%d", s, 42);
	assert_non_null(big);
	assert_string_equal(f, "hello-42");
	assert_int_equal(((uintptr_t)big) % 16, 0);
	sg_arena_reset(&a);
	assert_non_null(sg_arena_alloc(&a, 8));
	sg_arena_release(&a);
	assert_null(a.pages);
}

static void test_buf(void **state)
{
	(void)state;
	struct sg_buf b = SG_BUF_INIT;
	assert_string_equal(b.data, "");
	sg_buf_adds(&b, "a");
	sg_buf_addf(&b, "%05d", 42);
	sg_buf_add_json_str(&b, "q\"\\\n\x01", 5);
	assert_string_equal(b.data, "a00042\"q\\\"\\\\\\n\\u0001\"");
	size_t n;
	char *d = sg_buf_detach(&b, &n);
	assert_int_equal(n, strlen(d));
	assert_string_equal(b.data, "");
	sg_free(d);
	sg_alloc_fail_at(1);
	sg_buf_adds(&b, "x");
	sg_alloc_fail_at(0);
	assert_true(b.oom);
	assert_null(sg_buf_detach(&b, NULL));
}

/* The JSON string escaper on the strings that trip escapers up: every byte
 * below 0x20 (only \n, \r, \t by name, never \b or \f), quotes and
 * backslashes, '/' and DEL left alone, UTF-8 and even invalid bytes copied
 * as they are, an embedded NUL, and appends after earlier content. */
static void test_buf_json_str(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{"", 0, "\"\""},
		{"plain text", 10, "\"plain text\""},
		{"a/b</script>", 12, "\"a/b</script>\""},
		{"\b\f\v\x1f", 4, "\"\\u0008\\u000c\\u000b\\u001f\""},
		{"x\0y", 3, "\"x\\u0000y\""},
		{"\x7f", 1, "\"\x7f\""},
		{"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
		{"\xff\xc3", 2, "\"\xff\xc3\""},
		{"\"\\\"", 3, "\"\\\"\\\\\\\"\""},
		{"\r\n\t", 3, "\"\\r\\n\\t\""},
		{"\u2028\u2029", 6, "\"\u2028\u2029\""},
	};
	struct sg_buf b = SG_BUF_INIT;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sg_buf_reset(&b);
		sg_buf_adds(&b, "[");
		sg_buf_add_json_str(&b, cases[i].in, cases[i].len);
		assert_int_equal(b.len, strlen(cases[i].want) + 1);
		assert_memory_equal(b.data + 1, cases[i].want, b.len - 1);
		assert_int_equal(b.data[b.len], '\0');
	}
	/* all 256 bytes: each one alone, checked byte by byte */
	for (int c = 0; c < 256; c++) {
		char in = (char)c, want[16];
		size_t n;
		sg_buf_reset(&b);
		sg_buf_add_json_str(&b, &in, 1);
		if (c == '"' || c == '\\')
			n = (size_t)snprintf(want, sizeof(want), "\"\\%c\"", c);
		else if (c == '\n' || c == '\r' || c == '\t')
			n = (size_t)snprintf(want, sizeof(want), "\"\\%c\"",
					     c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		else if (c < 0x20)
			n = (size_t)snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		else
			n = (size_t)snprintf(want, sizeof(want), "\"%c\"", c);
		assert_int_equal(b.len, n);
		assert_memory_equal(b.data, want, n);
	}
	sg_buf_release(&b);
}

/* The same escaper on longer strings, where whole blocks of bytes are
 * checked at once: every byte value at every position of a 40-byte string
 * (blocks, block edges, the tail), against a byte-at-a-time reference. */
static void escape_ref(struct sg_buf *b, const unsigned char *s, size_t len)
{
	sg_buf_addc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned c = s[i];
		if (c == '"' || c == '\\')
			sg_buf_addf(b, "\\%c", c);
		else if (c == '\n')
			sg_buf_adds(b, "\\n");
		else if (c == '\r')
			sg_buf_adds(b, "\\r");
		else if (c == '\t')
			sg_buf_adds(b, "\\t");
		else if (c < 0x20)
			sg_buf_addf(b, "\\u%04x", c);
		else
			sg_buf_addc(b, (char)c);
	}
	sg_buf_addc(b, '"');
}

static void test_buf_json_str_blocks(void **state)
{
	(void)state;
	struct sg_buf got = SG_BUF_INIT, want = SG_BUF_INIT;
	unsigned char s[40];
	for (int c = 0; c < 256; c++) {
		for (size_t k = 0; k < sizeof(s); k++) {
			for (size_t i = 0; i < sizeof(s); i++)
				s[i] = (unsigned char)('a' + i % 26);
			s[k] = (unsigned char)c;
			if (k + 3 < sizeof(s))
				s[k + 3] = (unsigned char)(0xff - c); /* a second odd byte */
			sg_buf_reset(&got);
			sg_buf_reset(&want);
			sg_buf_add_json_str(&got, (const char *)s, sizeof(s));
			escape_ref(&want, s, sizeof(s));
			assert_int_equal(got.len, want.len);
			assert_memory_equal(got.data, want.data, want.len);
		}
	}
	sg_buf_release(&got);
	sg_buf_release(&want);
}

static void test_hash(void **state)
{
	(void)state;
	char hex[SG_SHA256_HEX];
	sg_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	uint8_t mac[32];
	/* RFC 4231 test case 2 */
	sg_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	sg_hex(mac, 32, hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	assert_true(sg_ct_equal("abc", "abc", 3));
	assert_false(sg_ct_equal("abc", "abd", 3));
}

static void test_ids_and_time(void **state)
{
	(void)state;
	char a[SG_ID_LEN], b[SG_ID_LEN];
	assert_int_equal(sg_id_new(a), 0);
	assert_int_equal(sg_id_new(b), 0);
	assert_int_equal(strlen(a), 26);
	assert_string_not_equal(a, b);
	char iso[25];
	sg_time_iso(1795000000123LL, iso);
	assert_string_equal(iso, "2026-11-18T11:06:40.123Z");
	int64_t back;
	assert_int_equal(sg_time_parse_iso(iso, &back), 0);
	assert_int_equal(back, 1795000000123LL);
	assert_int_equal(sg_time_parse_iso("2026-11-18T11:06:40Z", &back), 0);
	assert_int_equal(back, 1795000000000LL);
	assert_int_equal(sg_time_parse_iso("2026-13-18T09:46:40Z", &back), -SG_EINVALID);
	assert_int_equal(sg_time_parse_iso("yesterday", &back), -SG_EINVALID);
}

static void test_json_fields(void **state)
{
	(void)state;
	struct sg_error err = SG_ERROR_INIT;
	json_t *v;
	const char *src = "{\"id\":\"T-1\",\"customer\":{\"tier\":7}}";
	assert_int_equal(sg_json_parse(&v, src, strlen(src), &err), 0);
	const char *id;
	assert_int_equal(sg_json_str(v, "id", NULL, 1, &id, &err), 0);
	assert_string_equal(id, "T-1");
	const char *body = "unset";
	assert_int_equal(sg_json_str(v, "body", NULL, 0, &body, &err), 1);
	assert_string_equal(body, "unset");
	assert_int_equal(sg_json_str(v, "body", NULL, 1, &body, &err), -SG_EINVALID);
	assert_string_equal(err.msg, "field 'body': required");
	sg_error_clear(&err);
	json_t *cust;
	assert_int_equal(sg_json_obj(v, "customer", NULL, 1, &cust, &err), 0);
	const char *tier;
	assert_int_equal(sg_json_str(cust, "tier", "customer.tier", 1, &tier, &err), -SG_EINVALID);
	assert_string_equal(err.msg, "field 'customer.tier': expected a string, got number");
	json_decref(v);
	sg_error_clear(&err);
	assert_int_equal(sg_json_parse(&v, "{\"a\":1,\"a\":2}", 13, &err), -SG_EJSON);
	assert_non_null(strstr(err.msg, "duplicate"));
}

static void test_lines(void **state)
{
	(void)state;
	const char data[] = "one\r\n\nthree-is-long\nfour";
	FILE *fp = fmemopen((void *)data, sizeof(data) - 1, "r");
	struct sg_lines r;
	struct sg_error err = SG_ERROR_INIT;
	sg_lines_init(&r, fp, 8);
	assert_int_equal(sg_lines_next(&r, &err), 1);
	assert_string_equal(r.line, "one");
	assert_int_equal(sg_lines_next(&r, &err), 1);
	assert_string_equal(r.line, "");
	assert_int_equal(sg_lines_next(&r, &err), -SG_ELIMIT);
	assert_int_equal(r.lineno, 3);
	sg_error_clear(&err);
	assert_int_equal(sg_lines_next(&r, &err), 1);
	assert_string_equal(r.line, "four");
	assert_int_equal(r.lineno, 4);
	assert_int_equal(sg_lines_next(&r, &err), 0);
	sg_lines_release(&r);
	fclose(fp);
}

int main(void)
{
	sg_json_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_first_wins),
		cmocka_unit_test(test_alloc_counts_and_fails),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_buf_json_str),
		cmocka_unit_test(test_buf_json_str_blocks),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_ids_and_time),
		cmocka_unit_test(test_json_fields),
		cmocka_unit_test(test_lines),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
