/*
 * person_test.c - the PERSON word pass: the pass that visits only the words
 * next to a capital must keep every candidate that the walk over all words
 * keeps after its extractor, in the same order, on hand-written and on
 * generated texts (ASCII and UTF-8, with and without capitals).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "scan/scan_int.h"
#include "scan/scan_test_util.h"

#include "core/banned.h"

#define MAXC 8192

struct kept {
	size_t n;
	struct sg_scan_cand c[MAXC];
};

/* Runs one pass over t and keeps the candidates its extractor accepts. */
static void run(struct kept *out, const char *t, size_t tlen, int all)
{
	struct sg_scan_ctx *c = T_ctx;
	c->ncands = 0;
	c->overflow = 0;
	int rc = all ? sg_scan_person_pass_all(c, t, tlen) : sg_scan_person_pass(c, t, tlen);
	assert_int_equal(rc, 0);
	assert_int_equal(c->overflow, 0);
	out->n = 0;
	for (size_t i = 0; i < c->ncands; i++) {
		struct sg_scan_cand cd = c->cands[i];
		size_t from = cd.from, to = cd.to;
		if (!sg_scan_extract(c->s->rules[cd.rule].check, t, tlen, &from, &to))
			continue;
		assert_true(out->n < MAXC);
		out->c[out->n++] = (struct sg_scan_cand){cd.rule, (uint32_t)from, (uint32_t)to};
	}
}

static struct kept A, B;

static void same(const char *t, size_t tlen)
{
	run(&A, t, tlen, 0);
	run(&B, t, tlen, 1);
	if (A.n != B.n)
		fail_msg("%zu vs %zu candidates on \"%.*s\"", A.n, B.n, (int)tlen, t);
	for (size_t i = 0; i < A.n; i++)
		if (A.c[i].rule != B.c[i].rule || A.c[i].from != B.c[i].from ||
		    A.c[i].to != B.c[i].to)
			fail_msg("candidate %zu differs on \"%.*s\"", i, (int)tlen, t);
}

static void test_written(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"", "a", "A", "my name is Ana Ruiz", "My name is ana ruiz", "Dear Mr. O'Brien,",
		"Thanks,\nJean-Luc Picard", "name: Maria Lopez", "Name :\n Maria", "i'm Eva",
		"I\xe2\x80\x99m Eva Kleist and I live here", "eva kleist lives at 5 Main St",
		"Ana M Ruiz lives in Spain", "\"No,\" said Ana Ruiz.", "the end, says Becker.",
		"URGENT: my name is Ana", "I need help, Dear OK Ana", "ASAP said O'neil,",
		"Hi JP, said Mr. O-Ren", "Ded A. \xc3\x32z said,live",
		"Hello \xc3\x89mile Zola", "Se\xc3\xb1or G\xc3\xb3mez", "speak to Maria please",
		"Will Smith will call", "ANA RUIZ IS HERE", "to to to to to Ana", "x-Ana'Ruiz-",
		"'Ana' -Ruiz- Maria-'Lopez'", "customer name?  Ana", "\xce\x91\xce\xbd\xce\xb1 said",
		"Park and Mann were here", "x. Park and Mann were", "and Mann were", "Ann were",
		"Dexter lives on", "? Dexter lives", "the Dexter lives", "songwriter Ana Ruiz",
		"assistant to Ana Ruiz", "under Ana van de Ruiz", "my kid Ana Ruiz lived",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		same(texts[i], strlen(texts[i]));
	/* words across the 64-byte steps of the bitmaps */
	static const char *const across[] = {
		"dear O'neil", "said A-ha,", "name: Ana-Maria Ruiz", "I am Ana Ruiz", "x I\n",
		"Park and Mann were", "Dexter lives", "producer Ana Ruiz",
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(across) / sizeof(across[0]); i++)
		for (size_t pad = 0; pad < 140; pad++) {
			memset(buf, ' ', pad);
			size_t n = strlen(across[i]);
			memcpy(buf + pad, across[i], n);
			same(buf, pad + n);
			memset(buf, 'x', pad); /* now the first word is long */
			same(buf, pad + n);
		}
}

/* Texts made of pieces that the pass reacts to, from a fixed seed. */
static void test_generated(void **state)
{
	(void)state;
	static const char *const piece[] = {
		"to", "you", "is", "my", "name", "Name", ":", "?", " ", " ", " ", "  ", "\n",
		",", ".", "\"", "Ana", "Ruiz", "ana", "lives", "said", "says", "Dear", "Mr.",
		"Mr", "Thanks", "I'm", "I\xe2\x80\x99m", "\xc3\x89mile", "\xc3\x85sa", "-", "'",
		"Jean-Luc", "O'Brien", "M", "M.", "the", "The", "from", "called", "Maria",
		"Lopez", "se\xc3\xb1or", "\xc3\x96Z", "\xc3\xbc\x62\x65r", "x", "call", "me",
		"speak", "Will", "will", "customer", "hi", "Hi", "signed", "by", "written",
		"2024", "_", "\xce\x9f", "a", "A",
	};
	uint32_t seed = 12345;
	static char buf[24000];
	for (int n = 0; n < 20040; n++) {
		size_t len = 0;
		seed = seed * 1103515245u + 12345u;
		/* the last 40 are long: past the size where the pass jumps
		 * over words, it walks them all and counts the cue words */
		int words = n < 20000 ? 1 + (int)(seed >> 16) % 48 : 6000;
		for (int k = 0; k < words; k++) {
			seed = seed * 1103515245u + 12345u;
			const char *p = piece[(seed >> 8) % (sizeof(piece) / sizeof(piece[0]))];
			size_t pl = strlen(p);
			if (len + pl >= sizeof(buf))
				break;
			memcpy(buf + len, p, pl);
			len += pl;
		}
		same(buf, len);
	}
}

/* Long texts of cue words: below the cap on candidates the skipped words
 * change nothing; past it the pass must end as the walk over every word
 * does (same candidates, same overflow). */
static void test_long(void **state)
{
	(void)state;
	struct sg_scan_ctx *c = T_ctx;
	static const size_t sizes[] = {6000, 40000};
	for (size_t z = 0; z < 2; z++) {
		size_t n = sizes[z];
		char *t = sg_malloc(n);
		assert_non_null(t);
		for (size_t i = 0; i < n; i += 4)
			memcpy(t + i, i % 4000 ? "hi  " : "Ana ", 4);
		c->ncands = 0;
		c->overflow = 0;
		assert_int_equal(sg_scan_person_pass(c, t, n), 0);
		int ov = c->overflow;
		size_t nc = c->ncands;
		struct sg_scan_cand first = nc ? c->cands[0] : (struct sg_scan_cand){0, 0, 0};
		c->ncands = 0;
		c->overflow = 0;
		assert_int_equal(sg_scan_person_pass_all(c, t, n), 0);
		assert_int_equal(ov, c->overflow);
		assert_int_equal(ov, z == 1);
		if (ov) {
			assert_int_equal(nc, c->ncands);
			assert_int_equal(first.from, c->cands[0].from);
		} else {
			assert_true(nc < c->ncands); /* the cues before lower case left out */
			same(t, n);
		}
		sg_free(t);
	}
}

struct seen {
	size_t n;
	struct sg_scan_finding f[16];
	char masked[512];
};

static void scan_into(struct seen *out, const char *text)
{
	struct sg_scan_result *r = t_scan(text);
	assert_non_null(r);
	assert_true(r->nfindings <= 16 && r->masked_len < sizeof(out->masked));
	out->n = r->nfindings;
	memcpy(out->f, r->findings, r->nfindings * sizeof(*r->findings));
	memcpy(out->masked, r->masked, r->masked_len + 1);
}

/* Pure ASCII skips normalization and look-alike folding: the same text
 * with non-ASCII after its findings finds the same, and look-alike
 * letters past the first eight bytes are still folded. */
static void test_ascii_and_utf8(void **state)
{
	(void)state;
	static struct seen a, b;
	const char *ascii = "Hello, please call Ana Ruiz at 555-010-0199 or ana.ruiz@example.com.";
	char utf8[256];
	snprintf(utf8, sizeof(utf8), "%s \xe2\x80\x94 caf\xc3\xa9", ascii);
	scan_into(&a, ascii);
	scan_into(&b, utf8);
	assert_true(a.n >= 2);
	assert_int_equal(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		assert_string_equal(a.f[i].type, b.f[i].type);
		assert_int_equal(a.f[i].start, b.f[i].start);
		assert_int_equal(a.f[i].end, b.f[i].end);
	}
	assert_memory_equal(a.masked, b.masked, strlen(a.masked));
	const char *lookalike = "Good morning \xe2\x80\x94 my n\xd0\xb0me is Ilse Vogt";
	FOUND("PERSON", lookalike, "Ilse Vogt");
	const char *late = "Good morning to the whole team, my n\xd0\xb0me is Ilse Vogt";
	FOUND("PERSON", late, "Ilse Vogt");
	/* empty text: no finding, empty mask */
	scan_into(&a, "");
	assert_int_equal(a.n, 0);
	assert_string_equal(a.masked, "");
}

/* The pass takes a word for a possible name only when it starts with a
 * capital followed by a lower-case letter, an apostrophe, a hyphen or a
 * byte >= 0x80: every given name of the table must have that shape. */
static void test_name_shape(void **state)
{
	(void)state;
	size_t names = 0;
	for (const char *p = sg_scan_first_names; *p;) {
		const char *e = strchr(p, '|');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		unsigned char a = (unsigned char)p[0], b = n > 1 ? (unsigned char)p[1] : 0;
		if (n < 2 || !((a >= 'A' && a <= 'Z') || a >= 0x80) ||
		    !((b >= 'a' && b <= 'z') || b == '\'' || b == '-' || b >= 0x80))
			fail_msg("given name \"%.*s\" does not start with a capital and a lower-case letter",
				 (int)n, p);
		names++;
		p += n + (e != NULL);
	}
	assert_true(names > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_name_shape),
		cmocka_unit_test(test_ascii_and_utf8),
	};
	return cmocka_run_group_tests(tests, t_setup, t_teardown);
}
