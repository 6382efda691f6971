/*
 * normalize.c - NFKC (+ optional case fold) with an offset map back to the
 * original text.
 *
 * The text is cut into segments: a starter (combining class 0) and the
 * combining marks after it. Each code point is decomposed on its own
 * (utf8proc_decompose_char, compatibility + case fold), then each segment is
 * reordered and composed as a whole, and every output byte of a segment maps
 * to the segment's original byte range. ASCII followed by ASCII skips all of
 * this, which is almost every byte of a support ticket.
 */
#include "text/text.h"

#include <string.h>
#include <utf8proc.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

#define SEG_MAX 256 /* longer runs of marks are cut (zalgo text) */

void sg_text_norm_init(struct sg_text_norm *n)
{
	memset(n, 0, sizeof(*n));
}

void sg_text_norm_release(struct sg_text_norm *n)
{
	sg_free(n->text);
	sg_free(n->start);
	sg_free(n->end);
	sg_free(n->seg);
	sg_text_norm_init(n);
}

int sg_text_is_invisible(int32_t cp)
{
	if (cp < 0xAD)
		return 0;
	return cp == 0x00AD ||                    /* soft hyphen */
	       cp == 0x034F ||                    /* combining grapheme joiner */
	       cp == 0x061C ||                    /* arabic letter mark */
	       (cp >= 0x115F && cp <= 0x1160) ||  /* hangul fillers */
	       (cp >= 0x17B4 && cp <= 0x17B5) ||
	       (cp >= 0x180B && cp <= 0x180F) ||  /* mongolian selectors */
	       (cp >= 0x200B && cp <= 0x200F) ||  /* zero width, LRM, RLM */
	       (cp >= 0x202A && cp <= 0x202E) ||  /* bidi embeddings */
	       (cp >= 0x2060 && cp <= 0x206F) ||  /* word joiner, isolates */
	       cp == 0x3164 || cp == 0xFFA0 ||    /* hangul fillers */
	       (cp >= 0xFE00 && cp <= 0xFE0F) ||  /* variation selectors */
	       cp == 0xFEFF ||                    /* BOM / ZWNBSP */
	       (cp >= 0xFFF0 && cp <= 0xFFF8) ||
	       cp == 0xE0001 || cp == 0xE007F ||  /* tag begin/cancel */
	       (cp >= 0xE0100 && cp <= 0xE01EF);  /* variation selectors sup. */
}

static int reserve(struct sg_text_norm *n, size_t extra)
{
	if (n->len + extra + 1 <= n->cap)
		return 0;
	size_t cap = n->cap ? n->cap : 256;
	while (cap < n->len + extra + 1)
		cap *= 2;
	char *t = sg_realloc(n->text, cap);
	if (!t)
		return -SG_ENOMEM;
	n->text = t;
	uint32_t *a = sg_realloc(n->start, cap * sizeof(uint32_t));
	if (!a)
		return -SG_ENOMEM;
	n->start = a;
	uint32_t *b = sg_realloc(n->end, cap * sizeof(uint32_t));
	if (!b)
		return -SG_ENOMEM;
	n->end = b;
	n->cap = cap;
	return 0;
}

struct seg {
	size_t count;    /* code points in n->seg */
	uint32_t s, e;   /* original byte range */
};

static int flush(struct sg_text_norm *n, struct seg *g)
{
	if (!g->count)
		return 0;
	utf8proc_ssize_t m = (utf8proc_ssize_t)g->count;
	if (m > 1) {
		m = utf8proc_normalize_utf32(n->seg, m, UTF8PROC_COMPOSE | UTF8PROC_STABLE);
		if (m < 0)
			m = (utf8proc_ssize_t)g->count; /* keep decomposed */
	}
	if (reserve(n, (size_t)m * 4))
		return -SG_ENOMEM;
	for (utf8proc_ssize_t i = 0; i < m; i++) {
		utf8proc_uint8_t enc[4];
		utf8proc_ssize_t k = utf8proc_encode_char(n->seg[i], enc);
		for (utf8proc_ssize_t j = 0; j < k; j++) {
			n->text[n->len] = (char)enc[j];
			n->start[n->len] = g->s;
			n->end[n->len] = g->e;
			n->len++;
		}
	}
	g->count = 0;
	return 0;
}

int sg_text_normalize(struct sg_text_norm *n, const char *s, size_t len,
		      unsigned flags, struct sg_error *err)
{
	size_t bad;
	n->len = 0;
	n->removed = n->tags = 0;
	n->orig_len = len;
	if (len > SG_MAX_TEXT_BYTES)
		return sg_error_set(err, SG_ELIMIT, "text is %zu bytes, over the %u-byte limit",
				    len, SG_MAX_TEXT_BYTES);
	/* Pure ASCII (most texts) is valid and its own normal form: copied,
	 * with no offset maps (sg_text_norm_orig knows the offsets are the
	 * same). Validation starts at the first byte past the ASCII prefix. */
	size_t k8 = 0;
	while (k8 + 32 <= len) {
		uint64_t w[4];
		memcpy(w, s + k8, 32);
		if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ULL)
			break;
		k8 += 32;
	}
	while (k8 + 8 <= len) {
		uint64_t w;
		memcpy(&w, s + k8, 8);
		if (w & 0x8080808080808080ULL)
			break;
		k8 += 8;
	}
	while (k8 < len && (unsigned char)s[k8] < 0x80)
		k8++;
	if (k8 < len && sg_text_validate(s + k8, len - k8, &bad))
		return sg_error_set(err, SG_EUTF8, "invalid UTF-8 at byte offset %zu", k8 + bad);
	if (!n->seg) {
		n->seg = sg_malloc(sizeof(int32_t) * (SEG_MAX + 32));
		if (!n->seg)
			return sg_error_set(err, SG_ENOMEM, "out of memory");
		n->segcap = SEG_MAX + 32;
	}
	if (reserve(n, len))
		return sg_error_set(err, SG_ENOMEM, "out of memory");

	const int fold = (flags & SG_NORM_CASEFOLD) != 0;
	n->identity = k8 == len;
	if (n->identity) {
		if (fold) {
			char *o = n->text; /* a local: the loop vectorizes */
			for (size_t i = 0; i < len; i++)
				o[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
		} else if (len)
			memcpy(n->text, s, len);
		n->len = len;
		n->text[len] = '\0';
		return 0;
	}
	const utf8proc_option_t opts = UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE |
				       UTF8PROC_IGNORE |
				       (fold ? UTF8PROC_CASEFOLD : 0);
	const unsigned char *p = (const unsigned char *)s;
	struct seg g = {0, 0, 0};
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];
		if (c < 0x80 && i + 1 < len && p[i + 1] < 0x80) {
			/* a run of ASCII, copied as a block; its last byte is
			 * left to the paths below, as a mark may follow it */
			size_t j = i + 1;
			while (j + 8 <= len) {
				uint64_t w;
				memcpy(&w, p + j, 8);
				if (w & 0x8080808080808080ULL)
					break;
				j += 8;
			}
			while (j < len && p[j] < 0x80)
				j++;
			if (j < len)
				j--;
			if (flush(n, &g) || reserve(n, j - i))
				goto oom;
			/* local pointers: the loops below need not reload n */
			size_t cnt = j - i;
			char *o = n->text + n->len;
			uint32_t *st = n->start + n->len, *en = n->end + n->len;
			if (fold)
				for (size_t k = 0; k < cnt; k++)
					o[k] = (char)(p[i + k] >= 'A' && p[i + k] <= 'Z' ?
						      p[i + k] + 32 : p[i + k]);
			else
				memcpy(o, p + i, cnt);
			for (size_t k = 0; k < cnt; k++) {
				st[k] = (uint32_t)(i + k);
				en[k] = (uint32_t)(i + k + 1);
			}
			n->len += cnt;
			i = j;
			continue;
		}
		if (c < 0x80 && (i + 1 == len || p[i + 1] < 0x80)) {
			/* the fast path: ASCII with no mark after it (ASCII is
			 * always a starter, so it closes the open segment) */
			if (flush(n, &g) || reserve(n, 1))
				goto oom;
			n->text[n->len] = (char)(fold && c >= 'A' && c <= 'Z' ? c + 32 : c);
			n->start[n->len] = (uint32_t)i;
			n->end[n->len] = (uint32_t)i + 1;
			n->len++;
			i++;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (k <= 0) /* cannot happen after validation */
			return sg_error_set(err, SG_EUTF8, "invalid UTF-8 at byte offset %zu", i);
		uint32_t os = (uint32_t)i, oe = (uint32_t)(i + (size_t)k);
		i += (size_t)k;

		if (cp >= 0xE0020 && cp <= 0xE007E) {
			cp -= 0xE0000; /* a tag character: the ASCII it hides */
			n->tags++;
		} else if (sg_text_is_invisible(cp)) {
			n->removed++;
			continue;
		}
		utf8proc_int32_t dec[32];
		utf8proc_ssize_t m = utf8proc_decompose_char(cp, dec, 32, opts, NULL);
		if (m < 0 || m > 32) {
			dec[0] = cp;
			m = 1;
		}
		if (m == 0) { /* default-ignorable: dropped */
			n->removed++;
			continue;
		}
		const utf8proc_property_t *prop = utf8proc_get_property(dec[0]);
		int starter = prop->combining_class == 0;
		if (starter || g.count + (size_t)m > SEG_MAX) {
			if (flush(n, &g))
				goto oom;
			g.s = os;
		}
		if (!g.count)
			g.s = os;
		memcpy(n->seg + g.count, dec, sizeof(int32_t) * (size_t)m);
		g.count += (size_t)m;
		g.e = oe;
	}
	if (flush(n, &g))
		goto oom;
	n->text[n->len] = '\0';
	return 0;
oom:
	return sg_error_set(err, SG_ENOMEM, "out of memory");
}

void sg_text_norm_orig(const struct sg_text_norm *n, size_t nstart, size_t nend,
		       size_t *ostart, size_t *oend)
{
	if (!n->len) {
		*ostart = *oend = 0;
		return;
	}
	if (nstart >= n->len)
		nstart = n->len - 1;
	if (nend > n->len)
		nend = n->len;
	if (nend <= nstart)
		nend = nstart + 1;
	if (n->identity) {
		*ostart = nstart;
		*oend = nend;
		return;
	}
	*ostart = n->start[nstart];
	*oend = n->end[nend - 1];
}
