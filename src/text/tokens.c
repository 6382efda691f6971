/*
 * tokens.c - word tokens of a normalized text: maximal runs of letters,
 * digits and marks (Unicode categories L*, N*, M*), with an apostrophe kept
 * when it joins two word characters ("don't"). Everything else separates.
 */
#include "text/text.h"

#include <utf8proc.h>

#include "core/banned.h"

static int word_cp(int32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
		       (cp >= '0' && cp <= '9') || cp == '_';
	utf8proc_category_t c = utf8proc_category(cp);
	return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO;
}

/* Decodes the code point at s[i] (valid UTF-8 assumed; a bad byte counts as
 * one non-word byte). */
static size_t decode(const char *s, size_t len, size_t i, int32_t *cp)
{
	unsigned char b = (unsigned char)s[i];
	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	utf8proc_int32_t c;
	utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
					      (utf8proc_ssize_t)(len - i), &c);
	if (n <= 0) {
		*cp = -1;
		return 1;
	}
	*cp = c;
	return (size_t)n;
}

/* ASCII word bytes (letters, digits, '_'), as word_cp says. */
static const unsigned char ascii_word[128] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
	['7'] = 1, ['8'] = 1, ['9'] = 1, ['_'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
	['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* 1 when the code point at s[i] is a word character; *k: its bytes and
 * *cp the code point. ASCII needs no decoding. */
static inline int word_at(const char *s, size_t len, size_t i, size_t *k, int32_t *cp)
{
	unsigned char b = (unsigned char)s[i];
	if (b < 0x80) {
		*k = 1;
		*cp = b;
		return ascii_word[b];
	}
	*k = decode(s, len, i, cp);
	return word_cp(*cp);
}

size_t sg_text_tokens(const char *s, size_t len, struct sg_token *out, size_t max)
{
	size_t n = 0, i = 0, k;
	int32_t cp;
	while (i < len && n < max) {
		if (!word_at(s, len, i, &k, &cp)) {
			i += k;
			continue;
		}
		size_t start = i;
		i += k;
		while (i < len) {
			if (word_at(s, len, i, &k, &cp)) {
				i += k;
				continue;
			}
			if (cp == '\'' && i + 1 < len) {
				int32_t next;
				size_t k2;
				if (word_at(s, len, i + 1, &k2, &next)) {
					i += 1 + k2;
					continue;
				}
			}
			break;
		}
		out[n].off = (uint32_t)start;
		out[n].len = (uint32_t)(i - start);
		n++;
	}
	return n;
}
