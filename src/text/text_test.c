/*
 * text_test.c - UTF-8 validation and normalization with offset maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/limits.h"
#include "text/text.h"

static void test_validate(void **state)
{
	(void)state;
	size_t off = 99;
	assert_int_equal(sg_text_validate("plain ascii", 11, &off), 0);
	assert_int_equal(sg_text_validate("caf\xc3\xa9", 5, &off), 0);
	assert_int_equal(sg_text_validate("ab\xc3", 3, &off), -SG_EUTF8); /* truncated */
	assert_int_equal(off, 2);
	assert_int_equal(sg_text_validate("abcdefghij\xc0\xafz", 13, &off), -SG_EUTF8); /* overlong */
	assert_int_equal(off, 10);
	assert_int_equal(sg_text_validate("\xed\xa0\x80", 3, &off), -SG_EUTF8); /* surrogate */
	assert_int_equal(sg_text_validate("\xf4\x90\x80\x80", 4, &off), -SG_EUTF8); /* > U+10FFFF */
	assert_int_equal(sg_text_validate("\xf0\x9f\x98\x80", 4, &off), 0); /* emoji */
	assert_int_equal(sg_text_validate("x\xff", 2, &off), -SG_EUTF8);
	assert_int_equal(off, 1);
}

static void norm(struct sg_text_norm *n, const char *s, unsigned flags)
{
	struct sg_error err = SG_ERROR_INIT;
	assert_int_equal(sg_text_normalize(n, s, strlen(s), flags, &err), 0);
}

static void test_ascii_and_fold(void **state)
{
	(void)state;
	struct sg_text_norm n;
	sg_text_norm_init(&n);
	norm(&n, "Hello WORLD", SG_NORM_CASEFOLD);
	assert_string_equal(n.text, "hello world");
	norm(&n, "Hello WORLD", 0);
	assert_string_equal(n.text, "Hello WORLD");
	/* pure ASCII is copied without offset maps: offsets are the same */
	size_t s, e;
	assert_true(n.identity);
	sg_text_norm_orig(&n, 6, 11, &s, &e);
	assert_int_equal(s, 6);
	assert_int_equal(e, 11);
	sg_text_norm_orig(&n, 3, 3, &s, &e); /* an empty range covers one byte */
	assert_int_equal(s, 3);
	assert_int_equal(e, 4);
	norm(&n, "Stra\xc3\x9f" "e", SG_NORM_CASEFOLD); /* Straße */
	assert_string_equal(n.text, "strasse");
	assert_false(n.identity);
	/* the two s from ß both map to the two bytes of ß */
	sg_text_norm_orig(&n, 4, 6, &s, &e);
	assert_int_equal(s, 4);
	assert_int_equal(e, 6);
	norm(&n, "", SG_NORM_CASEFOLD);
	assert_int_equal(n.len, 0);
	sg_text_norm_release(&n);
}

static void test_fullwidth_and_invisible(void **state)
{
	(void)state;
	struct sg_text_norm n;
	sg_text_norm_init(&n);
	/* full-width "４１１１" then a zero-width space, then "1111" */
	norm(&n, "card \xef\xbc\x94\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91\xe2\x80\x8b" "1111", 0);
	assert_string_equal(n.text, "card 41111111");
	assert_int_equal(n.removed, 1);
	size_t s, e;
	sg_text_norm_orig(&n, 5, 13, &s, &e); /* the digits */
	assert_int_equal(s, 5);
	assert_int_equal(e, strlen("card \xef\xbc\x94\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91\xe2\x80\x8b" "1111"));
	/* bidi override and BOM removed */
	norm(&n, "\xef\xbb\xbf" "a\xe2\x80\xae" "b", 0);
	assert_string_equal(n.text, "ab");
	assert_int_equal(n.removed, 2);
	/* ligature fi, superscript two */
	norm(&n, "\xef\xac\x81" "le x\xc2\xb2", 0);
	assert_string_equal(n.text, "file x2");
	sg_text_norm_release(&n);
}

static void test_compose_and_marks(void **state)
{
	(void)state;
	struct sg_text_norm n;
	sg_text_norm_init(&n);
	/* e + combining acute composes to é; maps back to both code points */
	norm(&n, "cafe\xcc\x81!", 0);
	assert_string_equal(n.text, "caf\xc3\xa9!");
	size_t s, e;
	sg_text_norm_orig(&n, 3, 5, &s, &e);
	assert_int_equal(s, 3);
	assert_int_equal(e, 6);
	sg_text_norm_orig(&n, 5, 6, &s, &e);
	assert_int_equal(s, 6);
	assert_int_equal(e, 7);
	/* text after a non-ASCII character maps one to one again */
	norm(&n, "\xc3\xa9t\xc3\xa9 ok", SG_NORM_CASEFOLD);
	assert_string_equal(n.text, "\xc3\xa9t\xc3\xa9 ok");
	sg_text_norm_orig(&n, 6, 8, &s, &e);
	assert_int_equal(s, 6);
	assert_int_equal(e, 8);
	sg_text_norm_release(&n);
}

static void test_tag_characters(void **state)
{
	(void)state;
	struct sg_text_norm n;
	sg_text_norm_init(&n);
	/* "hi" followed by tag characters spelling "IG" */
	norm(&n, "hi\xf3\xa0\x81\x89\xf3\xa0\x81\x87", SG_NORM_CASEFOLD);
	assert_string_equal(n.text, "hiig");
	assert_int_equal(n.tags, 2);
	sg_text_norm_release(&n);
}

static void test_errors(void **state)
{
	(void)state;
	struct sg_text_norm n;
	struct sg_error err = SG_ERROR_INIT;
	sg_text_norm_init(&n);
	assert_int_equal(sg_text_normalize(&n, "ok\xc3(", 4, 0, &err), -SG_EUTF8);
	assert_string_equal(err.msg, "invalid UTF-8 at byte offset 2");
	sg_error_clear(&err);
	static char big[SG_MAX_TEXT_BYTES + 1];
	memset(big, 'a', sizeof(big));
	assert_int_equal(sg_text_normalize(&n, big, sizeof(big), 0, &err), -SG_ELIMIT);
	/* a run of 1000 combining marks is cut into bounded segments */
	static char zalgo[1 + 2000];
	zalgo[0] = 'a';
	for (int i = 0; i < 1000; i++) {
		zalgo[1 + 2 * i] = (char)0xcc;
		zalgo[2 + 2 * i] = (char)0x81;
	}
	sg_error_clear(&err);
	assert_int_equal(sg_text_normalize(&n, zalgo, sizeof(zalgo), 0, &err), 0);
	assert_true(n.len >= 1000);
	sg_text_norm_release(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_ascii_and_fold),
		cmocka_unit_test(test_fullwidth_and_invisible),
		cmocka_unit_test(test_compose_and_marks),
		cmocka_unit_test(test_tag_characters),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
