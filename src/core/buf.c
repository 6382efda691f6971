/*
 * buf.c - growable byte buffer.
 */
#include "core/buf.h"

#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/alloc.h"
#include "core/error.h"
#include "core/banned.h"

char sg_buf_empty[1];

void sg_buf_init(struct sg_buf *b)
{
	b->data = sg_buf_empty;
	b->len = b->cap = 0;
	b->oom = 0;
}

int sg_buf_grow(struct sg_buf *b, size_t extra)
{
	if (b->oom)
		return -SG_ENOMEM;
	if (b->cap && b->len + extra + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > ((size_t)-1) / 2) {
			b->oom = 1;
			return -SG_ENOMEM;
		}
		cap *= 2;
	}
	char *p = b->cap ? sg_realloc(b->data, cap) : sg_malloc(cap);
	if (!p) {
		b->oom = 1;
		return -SG_ENOMEM;
	}
	if (!b->cap)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

void sg_buf_add(struct sg_buf *b, const void *data, size_t len)
{
	if (sg_buf_grow(b, len))
		return;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void sg_buf_adds(struct sg_buf *b, const char *s)
{
	sg_buf_add(b, s, strlen(s));
}

void sg_buf_addc(struct sg_buf *b, char c)
{
	sg_buf_add(b, &c, 1);
}

void sg_buf_vaddf(struct sg_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || sg_buf_grow(b, (size_t)n))
		return;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void sg_buf_addf(struct sg_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sg_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

/* What escaping adds to each byte: 5 for \u00xx, 1 for a named escape. */
static const unsigned char json_extra[256] = {
	5, 5, 5, 5, 5, 5, 5, 5, 5, 1 /* \t */, 1 /* \n */, 5, 5, 1 /* \r */, 5, 5,
	5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
	['"'] = 1, ['\\'] = 1,
};

/* Bytes before the first one that needs escaping; 16 at a time with SSE2
 * (texts are mostly plain, so this is most of the work). */
static size_t plain_prefix(const unsigned char *s, size_t len)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
		      ctl = _mm_set1_epi8(0x1f);
	for (; i + 16 <= len; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
						      _mm_cmpeq_epi8(x, bslash)),
					 _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));
		int bits = _mm_movemask_epi8(m);
		if (bits)
			return i + (size_t)__builtin_ctz((unsigned)bits);
	}
#endif
	while (i < len && !json_extra[s[i]])
		i++;
	return i;
}

/* Escapes '"', '\\' and the bytes below 0x20 (\n, \r and \t by name, the
 * others as \u00xx); every other byte, UTF-8 included, is copied as is.
 * The buffer grows once: by the exact size, counted from the first byte
 * that needs escaping. */
void sg_buf_add_json_str(struct sg_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t plain = plain_prefix(u, len), extra = 0;
	for (size_t i = plain; i < len; i++)
		extra += json_extra[u[i]];
	if (len > ((size_t)-1) / 8) {
		b->oom = 1;
		return;
	}
	if (sg_buf_grow(b, len + extra + 2))
		return;
	char *p = b->data + b->len;
	*p++ = '"';
	if (plain)
		memcpy(p, s, plain);
	p += plain;
	for (size_t i = plain; i < len; i++) {
		unsigned char c = u[i];
		if (!json_extra[c]) {
			*p++ = (char)c;
			continue;
		}
		*p++ = '\\';
		switch (c) {
		case '"': *p++ = '"'; break;
		case '\\': *p++ = '\\'; break;
		case '\n': *p++ = 'n'; break;
		case '\r': *p++ = 'r'; break;
		case '\t': *p++ = 't'; break;
		default:
			*p++ = 'u';
			*p++ = '0';
			*p++ = '0';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	*p++ = '"';
	*p = '\0';
	b->len = (size_t)(p - b->data);
}

void sg_buf_reset(struct sg_buf *b)
{
	b->len = 0;
	if (b->cap)
		b->data[0] = '\0';
	b->oom = 0;
}

void sg_buf_release(struct sg_buf *b)
{
	if (b->cap)
		sg_free(b->data);
	sg_buf_init(b);
}

char *sg_buf_detach(struct sg_buf *b, size_t *len_out)
{
	char *p;
	if (b->oom) {
		sg_buf_release(b);
		return NULL;
	}
	if (b->cap) {
		p = b->data;
	} else if (!(p = sg_strdup(""))) {
		return NULL;
	}
	if (len_out)
		*len_out = b->len;
	sg_buf_init(b);
	return p;
}
