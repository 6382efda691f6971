/*
 * tokens.c - word tokens of a normalized text: maximal runs of letters,
 * digits and marks (Unicode categories L*, N*, M*), with an apostrophe kept
 * when it joins two word characters ("don't"). Everything else separates.
 */
#include "text/text.h"

#include <string.h>
#include <utf8proc.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* Bit k: byte k of the 64 at q (n of them) is a word byte; *apos: an
 * apostrophe. */
static uint64_t ascii_bits(const unsigned char *q, size_t n, uint64_t *apos)
{
	uint64_t w = 0, a = 0;
	size_t k = 0;
#if defined(__SSE2__)
	for (; k + 16 <= n; k += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(q + k));
		__m128i lx = _mm_or_si128(x, _mm_set1_epi8(0x20));
		__m128i word = _mm_or_si128(
			_mm_and_si128(_mm_cmpgt_epi8(lx, _mm_set1_epi8('a' - 1)),
				      _mm_cmplt_epi8(lx, _mm_set1_epi8('z' + 1))),
			_mm_or_si128(_mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
						   _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1))),
				     _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))));
		w |= (uint64_t)(uint32_t)_mm_movemask_epi8(word) << k;
		a |= (uint64_t)(uint32_t)_mm_movemask_epi8(
			     _mm_cmpeq_epi8(x, _mm_set1_epi8('\''))) << k;
	}
#endif
	for (; k < n; k++) {
		w |= (uint64_t)ascii_word[q[k] & 0x7f] << k;
		a |= (uint64_t)(q[k] == '\'') << k;
	}
	*apos = a;
	return w;
}

/* Pure ASCII: the same tokens from bitmaps, 64 bytes at a time. A token
 * is a run of word bytes and of apostrophes that have a word byte on both
 * sides; its edges are where the run bit changes. */
static size_t tokens_ascii(const char *s, size_t len, struct sg_token *out, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0, nb = (len + 63) / 64, open = 0;
	int in = 0;
	uint64_t a, an, w = ascii_bits(p, len < 64 ? len : 64, &a), wprev = 0, mprev = 0;
	for (size_t b = 0; b < nb && n < max; b++) {
		size_t base = b * 64;
		uint64_t wn = 0;
		an = 0;
		if (b + 1 < nb) {
			size_t rest = len - base - 64;
			wn = ascii_bits(p + base + 64, rest < 64 ? rest : 64, &an);
		}
		uint64_t m = w | (a & (w << 1 | wprev >> 63) & (w >> 1 | wn << 63));
		uint64_t edges = m ^ (m << 1 | mprev >> 63);
		while (edges && n < max) {
			size_t at = base + (size_t)__builtin_ctzll(edges);
			edges &= edges - 1;
			if (!in) {
				open = at;
			} else {
				out[n].off = (uint32_t)open;
				out[n].len = (uint32_t)(at - open);
				n++;
			}
			in = !in;
		}
		wprev = w;
		mprev = m;
		w = wn;
		a = an;
	}
	if (in && n < max) {
		out[n].off = (uint32_t)open;
		out[n].len = (uint32_t)(len - open);
		n++;
	}
	return n;
}

size_t sg_text_tokens(const char *s, size_t len, struct sg_token *out, size_t max)
{
	size_t n = 0, i = 0, k;
	int32_t cp;
	while (i + 8 <= len) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		if (x & 0x8080808080808080ull)
			break;
		i += 8;
	}
	while (i < len && (unsigned char)s[i] < 0x80)
		i++;
	if (i == len)
		return tokens_ascii(s, len, out, max);
	i = 0;
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
