/*
 * json_flat.c - the flat-record JSON fast path (see json_flat.h). Every
 * check here is at least as strict as jansson's lexer and parser, so a
 * record accepted here is one jansson accepts with the same values; the
 * rare record this declines costs one extra scan before jansson runs.
 */
#include "core/json_flat.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/alloc.h"
#include "core/banned.h"

/* Bytes a string can copy without a second look: printable ASCII except
 * '"' and '\\'. Everything else (controls, quotes, escapes, UTF-8 lead and
 * continuation bytes) stops the fast copy. */
#define R0 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define R1 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char plain[256] = {
	R0, R0,
	1, 1, 0 /* " */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	R1, R1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* \\ */, 1, 1, 1,
	R1, R1,
	R0, R0, R0, R0, R0, R0, R0, R0,
};
#undef R0
#undef R1

/* The first byte at or after p that is not plain (or end); 16 bytes at a
 * time with SSE2: a signed compare below 0x20 also catches bytes >= 0x80. */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
		      space = _mm_set1_epi8(0x20);
	while (end - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
						      _mm_cmpeq_epi8(x, bslash)),
					 _mm_cmplt_epi8(x, space));
		int bits = _mm_movemask_epi8(m);
		if (bits)
			return p + __builtin_ctz((unsigned)bits);
		p += 16;
	}
#endif
	while (p < end && plain[*p])
		p++;
	return p;
}

void sg_json_flat_init(struct sg_json_flat *f)
{
	f->nfields = f->nitems = 0;
	f->strs = NULL;
	f->strs_cap = 0;
}

void sg_json_flat_release(struct sg_json_flat *f)
{
	sg_free(f->strs);
	sg_json_flat_init(f);
}

struct parser {
	const unsigned char *p, *end;
	char *out; /* next free byte in f->strs */
};

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/* Length of the well-formed UTF-8 sequence at p (2-4), or 0: no overlong
 * forms, no surrogates, nothing above U+10FFFF (jansson's rules). */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n = end - p;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static char *put_utf8(char *t, unsigned cp)
{
	if (cp < 0x80) {
		*t++ = (char)cp;
	} else if (cp < 0x800) {
		*t++ = (char)(0xc0 | cp >> 6);
		*t++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*t++ = (char)(0xe0 | cp >> 12);
		*t++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*t++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*t++ = (char)(0xf0 | cp >> 18);
		*t++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*t++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*t++ = (char)(0x80 | (cp & 0x3f));
	}
	return t;
}

/* ps->p is at the opening quote. Decodes into ps->out (NUL-terminated);
 * 0 or -1 to decline. */
static int string(struct parser *ps, struct sg_json_flat_val *v)
{
	const unsigned char *p = ps->p + 1, *end = ps->end;
	char *t = ps->out;
	v->type = JSON_STRING;
	v->str = t;
	for (;;) {
		const unsigned char *run = p;
		p = plain_run(p, end);
		memcpy(t, run, (size_t)(p - run));
		t += p - run;
		if (p == end)
			return -1;
		unsigned c = *p;
		if (c == '"')
			break;
		if (c >= 0x80) {
			size_t n = utf8_seq(p, end);
			if (!n)
				return -1;
			memcpy(t, p, n);
			t += n;
			p += n;
			continue;
		}
		if (c != '\\' || end - p < 2)
			return -1; /* a control character, or a cut escape */
		c = p[1];
		p += 2;
		switch (c) {
		case '"': case '\\': case '/': *t++ = (char)c; continue;
		case 'b': *t++ = '\b'; continue;
		case 'f': *t++ = '\f'; continue;
		case 'n': *t++ = '\n'; continue;
		case 'r': *t++ = '\r'; continue;
		case 't': *t++ = '\t'; continue;
		case 'u': break;
		default: return -1;
		}
		unsigned cp, lo;
		if (end - p < 4 || hex4(p, &cp))
			return -1;
		p += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return -1;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &lo) ||
			    lo < 0xdc00 || lo > 0xdfff)
				return -1;
			p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		t = put_utf8(t, cp);
	}
	v->len = (size_t)(t - v->str);
	*t++ = '\0';
	ps->out = t;
	ps->p = p + 1;
	return 0;
}

/* A number in JSON's grammar that jansson reads without overflow: integers
 * of at most 18 digits (within long long), reals of at most 32 characters
 * with an exponent of at most 2 digits (far below DBL_MAX). */
static int number(struct parser *ps, struct sg_json_flat_val *v)
{
	const unsigned char *p = ps->p, *end = ps->end, *start = p;
	int real = 0;
	if (p < end && *p == '-')
		p++;
	if (p == end)
		return -1;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return -1;
	}
	if (p - start > 18)
		return -1;
	if (p < end && *p == '.') {
		real = 1;
		p++;
		if (p == end || *p < '0' || *p > '9')
			return -1;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		real = 1;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		const unsigned char *digits = p;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		if (p == digits || p - digits > 2)
			return -1;
	}
	if (p - start > 32)
		return -1;
	v->type = real ? JSON_REAL : JSON_INTEGER;
	v->str = NULL;
	v->len = 0;
	ps->p = p;
	return 0;
}

static int word(struct parser *ps, const char *w, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n))
		return -1;
	ps->p += n;
	return 0;
}

/* A scalar: string, number, true, false or null. jansson reads a number or
 * a word up to the next non-alphanumeric byte, so what follows must be a
 * delimiter; the callers check that (only ws , ] } may follow). */
static int scalar(struct parser *ps, struct sg_json_flat_val *v)
{
	switch (*ps->p) {
	case '"': return string(ps, v);
	case 't': v->type = JSON_TRUE; return word(ps, "true", 4);
	case 'f': v->type = JSON_FALSE; return word(ps, "false", 5);
	case 'n': v->type = JSON_NULL; return word(ps, "null", 4);
	default: return number(ps, v);
	}
}

static int delim(const struct parser *ps)
{
	if (ps->p == ps->end)
		return 0;
	unsigned c = *ps->p;
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ']' ||
	       c == '}';
}

static int array(struct parser *ps, struct sg_json_flat *f, struct sg_json_flat_val *v)
{
	v->type = JSON_ARRAY;
	v->str = NULL;
	v->first = f->nitems;
	v->len = 0;
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return 0;
	}
	for (;;) {
		if (ps->p == ps->end || f->nitems == SG_JSON_FLAT_MAX_ITEMS ||
		    *ps->p == '[' || *ps->p == '{')
			return -1;
		if (scalar(ps, &f->items[f->nitems]) || !delim(ps))
			return -1;
		f->nitems++;
		v->len++;
		skip_ws(ps);
		if (ps->p == ps->end)
			return -1;
		if (*ps->p == ']') {
			ps->p++;
			return 0;
		}
		if (*ps->p != ',')
			return -1;
		ps->p++;
		skip_ws(ps);
	}
}

int sg_json_flat_parse(struct sg_json_flat *f, const char *s, size_t len)
{
	f->nfields = f->nitems = 0;
	/* decoded strings never outgrow their source: an escape of n bytes
	 * decodes to fewer, and the two quotes pay for the NUL */
	if (f->strs_cap < len + 1) {
		char *p = sg_realloc(f->strs, len + 1);
		if (!p)
			return 1;
		f->strs = p;
		f->strs_cap = len + 1;
	}
	struct parser ps = {(const unsigned char *)s, (const unsigned char *)s + len, f->strs};
	skip_ws(&ps);
	if (ps.p == ps.end || *ps.p != '{')
		return 1;
	ps.p++;
	skip_ws(&ps);
	if (ps.p < ps.end && *ps.p == '}') {
		ps.p++;
		goto tail;
	}
	for (;;) {
		if (ps.p == ps.end || *ps.p != '"' || f->nfields == SG_JSON_FLAT_MAX_FIELDS)
			return 1;
		/* keys: plain ASCII only (no escapes, so no NUL), compared raw */
		const unsigned char *k = ++ps.p;
		while (ps.p < ps.end && plain[*ps.p])
			ps.p++;
		if (ps.p == ps.end || *ps.p != '"')
			return 1;
		struct sg_json_flat_field *fd = &f->fields[f->nfields];
		fd->key = (const char *)k;
		fd->key_len = (size_t)(ps.p - k);
		for (size_t i = 0; i < f->nfields; i++)
			if (f->fields[i].key_len == fd->key_len &&
			    !memcmp(f->fields[i].key, fd->key, fd->key_len))
				return 1; /* jansson rejects duplicate keys */
		ps.p++;
		skip_ws(&ps);
		if (ps.p == ps.end || *ps.p != ':')
			return 1;
		ps.p++;
		skip_ws(&ps);
		if (ps.p == ps.end || *ps.p == '{')
			return 1;
		if (*ps.p == '[' ? array(&ps, f, &fd->val) : scalar(&ps, &fd->val))
			return 1;
		if (!delim(&ps))
			return 1;
		f->nfields++;
		skip_ws(&ps);
		if (ps.p == ps.end)
			return 1;
		if (*ps.p == '}') {
			ps.p++;
			break;
		}
		if (*ps.p != ',')
			return 1;
		ps.p++;
		skip_ws(&ps);
	}
tail:
	skip_ws(&ps);
	return ps.p == ps.end ? 0 : 1;
}

const struct sg_json_flat_val *sg_json_flat_get(const struct sg_json_flat *f,
						const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < f->nfields; i++)
		if (f->fields[i].key_len == n && !memcmp(f->fields[i].key, key, n))
			return &f->fields[i].val;
	return NULL;
}
