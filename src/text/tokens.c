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

size_t sg_text_tokens(const char *s, size_t len, struct sg_token *out, size_t max)
{
	size_t n = 0, i = 0;
	while (i < len && n < max) {
		int32_t cp;
		size_t k = decode(s, len, i, &cp);
		if (!word_cp(cp)) {
			i += k;
			continue;
		}
		size_t start = i;
		i += k;
		while (i < len) {
			k = decode(s, len, i, &cp);
			if (word_cp(cp)) {
				i += k;
				continue;
			}
			if (cp == '\'' && i + 1 < len) {
				int32_t next;
				size_t k2 = decode(s, len, i + 1, &next);
				if (word_cp(next)) {
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
