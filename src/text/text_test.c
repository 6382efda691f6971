/*
 * text_test.c - UTF-8 validation and normalization with offset maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>

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

/* The ASCII prefix is checked eight bytes at a time and the rest by the
 * validator: an invalid byte is named at its offset in the whole text,
 * wherever it falls against the eight-byte steps. */
static void test_ascii_prefix_errors(void **state)
{
	(void)state;
	struct sg_text_norm n;
	struct sg_error err = SG_ERROR_INIT;
	char buf[64], want[64];
	sg_text_norm_init(&n);
	for (size_t at = 0; at < 24; at++) {
		memset(buf, 'a', sizeof(buf));
		buf[at] = (char)0xff;
		snprintf(want, sizeof(want), "invalid UTF-8 at byte offset %zu", at);
		assert_int_equal(sg_text_normalize(&n, buf, 30, 0, &err), -SG_EUTF8);
		assert_string_equal(err.msg, want);
		sg_error_clear(&err);
		/* a truncated sequence after valid UTF-8 past the prefix */
		memcpy(buf + at, "\xc3\xa9", 2);
		buf[at + 5] = (char)0xe2;
		snprintf(want, sizeof(want), "invalid UTF-8 at byte offset %zu", at + 5);
		assert_int_equal(sg_text_normalize(&n, buf, at + 6, 0, &err), -SG_EUTF8);
		assert_string_equal(err.msg, want);
		sg_error_clear(&err);
	}
	/* empty text: nothing to do, no error */
	assert_int_equal(sg_text_normalize(&n, "", 0, 0, &err), 0);
	assert_int_equal(n.len, 0);
	assert_string_equal(n.text, "");
	assert_true(n.identity);
	/* ASCII and the same with one accented letter: same bytes around it */
	norm(&n, "Card 4111 1111 1111 1111, call Ana", 0);
	assert_true(n.identity);
	assert_string_equal(n.text, "Card 4111 1111 1111 1111, call Ana");
	norm(&n, "Card 4111 1111 1111 1111, call An\xc3\xa1", 0);
	assert_false(n.identity);
	assert_string_equal(n.text, "Card 4111 1111 1111 1111, call An\xc3\xa1");
	size_t os, oe;
	sg_text_norm_orig(&n, 5, 24, &os, &oe);
	assert_int_equal(os, 5);
	assert_int_equal(oe, 24);
	sg_text_norm_release(&n);
}

/* The tokenizer as it reads without its ASCII table: every code point
 * decoded and classed by its Unicode category. */
static int ref_word(int32_t cp)
{
	if (cp < 0)
		return 0;
	utf8proc_category_t c = utf8proc_category(cp);
	return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO;
}

static size_t ref_at(const char *s, size_t len, size_t i, int32_t *cp)
{
	utf8proc_int32_t c;
	utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
					      (utf8proc_ssize_t)(len - i), &c);
	if (k <= 0) {
		*cp = -1;
		return 1;
	}
	*cp = c == '_' ? 'a' : c; /* '_' counts as a word character */
	return (size_t)k;
}

static size_t ref_tokens(const char *s, size_t len, struct sg_token *out, size_t max)
{
	size_t n = 0, i = 0;
	while (i < len && n < max) {
		int32_t cp;
		size_t k = ref_at(s, len, i, &cp);
		if (!ref_word(cp)) {
			i += k;
			continue;
		}
		size_t start = i;
		i += k;
		while (i < len) {
			k = ref_at(s, len, i, &cp);
			if (ref_word(cp)) {
				i += k;
				continue;
			}
			int32_t next;
			if (cp == '\'' && i + 1 < len && (k = ref_at(s, len, i + 1, &next), ref_word(next))) {
				i += 1 + k;
				continue;
			}
			break;
		}
		out[n].off = (uint32_t)start;
		out[n].len = (uint32_t)(i - start);
		n++;
	}
	return n;
}

static void test_tokens_ascii_and_utf8(void **state)
{
	(void)state;
	static const char *const piece[] = {
		"don't", "'", "a", "Z", "_", "9", " ", "-", ".", "\xc3\xa9", "\xe2\x80\x99",
		"\xcc\x81", "\xd0\x96", "\xf0\x9f\x98\x80", "\xef\xbc\x91", "\xc2\xa0",
		"x'", "'y", "\xff", "\xc3",
	};
	struct sg_token a[128], b[128];
	char buf[256];
	uint32_t seed = 7;
	for (int t = 0; t < 20000; t++) {
		size_t len = 0;
		seed = seed * 1103515245u + 12345u;
		int parts = (int)(seed >> 16) % 40;
		for (int k = 0; k < parts; k++) {
			seed = seed * 1103515245u + 12345u;
			const char *p = piece[(seed >> 8) % (sizeof(piece) / sizeof(piece[0]))];
			size_t pl = strlen(p);
			if (len + pl > sizeof(buf))
				break;
			memcpy(buf + len, p, pl);
			len += pl;
		}
		size_t na = sg_text_tokens(buf, len, a, 128), nb = ref_tokens(buf, len, b, 128);
		assert_int_equal(na, nb);
		for (size_t i = 0; i < na; i++) {
			assert_int_equal(a[i].off, b[i].off);
			assert_int_equal(a[i].len, b[i].len);
		}
	}
	assert_int_equal(sg_text_tokens("", 0, a, 128), 0);
	/* pure ASCII takes another path: texts across its 64-byte steps */
	static const char *const ascii[] = {
		"don't", "'", "a", "Z", "_", "9", " ", "-", ".", "x'", "'y", "''", "ab'cd",
	};
	static char big[1200];
	for (int t = 0; t < 20000; t++) {
		size_t len = 0;
		seed = seed * 1103515245u + 12345u;
		int parts = (int)(seed >> 16) % (t < 19900 ? 90 : 600);
		for (int k = 0; k < parts; k++) {
			seed = seed * 1103515245u + 12345u;
			const char *p = ascii[(seed >> 8) % (sizeof(ascii) / sizeof(ascii[0]))];
			size_t pl = strlen(p);
			if (len + pl > sizeof(big))
				break;
			memcpy(big + len, p, pl);
			len += pl;
		}
		size_t lim = t % 7 == 0 ? (size_t)(seed >> 20) % 8 : 128;
		size_t na = sg_text_tokens(big, len, a, lim), nb = ref_tokens(big, len, b, lim);
		assert_int_equal(na, nb);
		for (size_t i = 0; i < na; i++) {
			assert_int_equal(a[i].off, b[i].off);
			assert_int_equal(a[i].len, b[i].len);
		}
	}
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
		cmocka_unit_test(test_ascii_prefix_errors),
		cmocka_unit_test(test_tokens_ascii_and_utf8),
	};
	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
