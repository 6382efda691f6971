/*
 * gate.c - which rule groups can match a text at all. The rules are split
 * into databases by a byte the text must contain (scan_int.h, enum
 * sg_scan_gate): most support messages hold no digit, no '@', no IPv6-like
 * colons and no URL, so those databases are skipped for them. The byte
 * pass also tells the look-alike fold whether there is anything to fold.
 */
#include "scan/scan_int.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/banned.h"

static int hex(unsigned char b)
{
	return (b >= '0' && b <= '9') || ((b | 32) >= 'a' && (b | 32) <= 'f');
}

/* Two colons with at most four hex digits between them (an IPv6 address
 * needs "::" or ":h:"). */
static int colon_pair(const char *t, size_t n)
{
	const char *p = memchr(t, ':', n), *end = t + n;
	while (p) {
		const char *q = p + 1;
		while (q < end && q - p <= 5 && hex((unsigned char)*q))
			q++;
		if (q < end && *q == ':' && q - p <= 5)
			return 1;
		p = memchr(p + 1, ':', (size_t)(end - p - 1));
	}
	return 0;
}

/* "://" or "www." (any case) */
static int url_mark(const char *t, size_t n)
{
	for (size_t i = 0; i + 3 <= n; i++) {
		if (t[i] == ':' && t[i + 1] == '/' && t[i + 2] == '/')
			return 1;
		if (i + 4 <= n && t[i + 3] == '.' && (t[i] | 32) == 'w' &&
		    (t[i + 1] | 32) == 'w' && (t[i + 2] | 32) == 'w')
			return 1;
	}
	return 0;
}

static unsigned byte_bits(unsigned char b)
{
	return ((unsigned char)(b - '0') < 10 ? SG_BYTE_DIGIT : 0) |
	       (b == '@' ? SG_BYTE_AT : 0) | (b == ':' ? SG_BYTE_COLON : 0) |
	       (b == '.' ? SG_BYTE_DOT : 0) |
	       ((unsigned char)(b - 0xc4) <= 0xd5 - 0xc4 ? SG_BYTE_LEAD : 0);
}

unsigned sg_scan_bytes(const char *t, size_t n)
{
	unsigned bits = 0;
	size_t i = 0;
#ifdef __SSE2__
	/* 16 bytes a step: a byte is in [lo, lo + k] when min(b - lo, k) is b - lo */
	__m128i digit = _mm_setzero_si128(), at = digit, colon = digit, dot = digit,
		lead = digit;
	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + i));
		__m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
		__m128i l = _mm_sub_epi8(v, _mm_set1_epi8((char)0xc4));
		digit = _mm_or_si128(digit, _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
		lead = _mm_or_si128(lead, _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(0xd5 - 0xc4)), l));
		at = _mm_or_si128(at, _mm_cmpeq_epi8(v, _mm_set1_epi8('@')));
		colon = _mm_or_si128(colon, _mm_cmpeq_epi8(v, _mm_set1_epi8(':')));
		dot = _mm_or_si128(dot, _mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
	}
	bits = (_mm_movemask_epi8(digit) ? SG_BYTE_DIGIT : 0) |
	       (_mm_movemask_epi8(at) ? SG_BYTE_AT : 0) |
	       (_mm_movemask_epi8(colon) ? SG_BYTE_COLON : 0) |
	       (_mm_movemask_epi8(dot) ? SG_BYTE_DOT : 0) |
	       (_mm_movemask_epi8(lead) ? SG_BYTE_LEAD : 0);
#endif
	for (; i < n; i++)
		bits |= byte_bits((unsigned char)t[i]);
	return bits;
}

unsigned sg_scan_gates(unsigned bytes, const char *t, size_t n, unsigned mode)
{
	unsigned g = 1u << SG_GATE_ANY;
	if (bytes & SG_BYTE_DIGIT)
		g |= 1u << SG_GATE_NUM;
	if (bytes & SG_BYTE_AT)
		g |= 1u << SG_GATE_AT;
	if ((bytes & SG_BYTE_COLON) && colon_pair(t, n))
		g |= 1u << SG_GATE_V6;
	if ((mode & SG_SCAN_OUTPUT) && (bytes & (SG_BYTE_COLON | SG_BYTE_DOT)) && url_mark(t, n))
		g |= 1u << SG_GATE_URL;
	return g;
}
