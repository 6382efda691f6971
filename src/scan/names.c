/*
 * names.c - the whole-text PERSON steps that run after the word pass: a
 * name found once is masked wherever it appears again, alone or word by
 * word, and single names in a list of capitalized words make the other
 * items names too.
 */
#include "scan/scan_int.h"

#include <stdint.h>
#include <string.h>

#include "core/banned.h"

static int name_byte(char ch)
{
	return ((ch | 32) >= 'a' && (ch | 32) <= 'z') || (ch >= '0' && ch <= '9') ||
	       (unsigned char)ch >= 0x80;
}

/* The start of the word ending at t[end). */
static size_t prev_word(const char *t, size_t end)
{
	while (end > 0 && name_byte(t[end - 1]))
		end--;
	return end;
}

static int cap_at(const char *t, size_t tlen, size_t i)
{
	return i < tlen && ((t[i] >= 'A' && t[i] <= 'Z') || (unsigned char)t[i] >= 0xc3);
}

/* A found name or one word of it, to look for elsewhere in the text. */
struct needle {
	size_t from, n;
	int part; /* one word of a longer name */
};

/* 1 when the needle stands at t[i] as a whole word or words, with its
 * case, and takes the place of no other finding. */
static int repeat_at(const struct sg_scan_ctx *c, const char *t, size_t tlen,
		     const struct needle *d, size_t i)
{
	size_t n = d->n;
	if (i == d->from || i + n > tlen || t[i] != t[d->from] ||
	    t[i + n - 1] != t[d->from + n - 1] || memcmp(t + i, t + d->from, n) != 0)
		return 0;
	if ((i && name_byte(t[i - 1])) || (i + n < tlen && name_byte(t[i + n])))
		return 0;
	/* a word of a name alone, not inside other capitalized words
	 * ("Mode" of "Developer Mode") */
	if (d->part && ((i >= 2 && t[i - 1] == ' ' && name_byte(t[i - 2]) &&
			 cap_at(t, tlen, prev_word(t, i - 1))) ||
			(i + n + 1 < tlen && t[i + n] == ' ' && cap_at(t, tlen, i + n + 1))))
		return 0;
	for (size_t k = 0; k < c->nhits; k++)
		if (c->hits[k].type != SG_T_PERSON && c->hits[k].from < i + n && i < c->hits[k].to)
			return 0;
	return 1;
}

/* Every other place of each needle becomes a PERSON hit: one walk over
 * the words the pass saw starting with a capital (needles in lower case,
 * "eva kleist", byte by byte). */
static int repeats(struct sg_scan_ctx *c, const char *t, size_t tlen, const struct needle *d,
		   size_t nd)
{
	for (size_t k = 0; k < nd; k++) {
		if (cap_at(t, tlen, d[k].from))
			continue;
		for (size_t i = 0; i + d[k].n <= tlen; i++) {
			const char *q = memchr(t + i, t[d[k].from], tlen - d[k].n + 1 - i);
			if (!q)
				break;
			i = (size_t)(q - t);
			if (repeat_at(c, t, tlen, &d[k], i) &&
			    sg_scan_add_hit(c, i, i + d[k].n, SG_T_PERSON, -1, "pii.person_repeat",
				    c->s->actions[SG_T_PERSON]))
				return -1;
		}
	}
	uint64_t first[4] = {0, 0, 0, 0}; /* the first bytes of the needles */
	for (size_t k = 0; k < nd; k++)
		first[(unsigned char)t[d[k].from] >> 6] |= 1ull << ((unsigned char)t[d[k].from] & 63);
	const uint64_t *caps = sg_scan_capital_map(c, tlen);
	size_t skip = 0; /* bytes up to here are inside a repeat already */
	for (size_t b = 0; b <= tlen / 64; b++) {
		for (uint64_t x = caps[b]; x; x &= x - 1) {
			size_t i = b * 64 + (size_t)__builtin_ctzll(x);
			unsigned char ch = (unsigned char)t[i];
			if (i < skip || !(first[ch >> 6] >> (ch & 63) & 1))
				continue;
			for (size_t k = 0; k < nd; k++) {
				if (!cap_at(t, tlen, d[k].from) || !repeat_at(c, t, tlen, &d[k], i))
					continue;
				if (sg_scan_add_hit(c, i, i + d[k].n, SG_T_PERSON, -1, "pii.person_repeat",
					    c->s->actions[SG_T_PERSON]))
					return -1;
				skip = i + d[k].n;
				break; /* whole names come before their words */
			}
		}
	}
	return 0;
}

/* A single name word at t[i] ending at a separator: its end, or 0. */
static size_t list_item(const char *t, size_t tlen, size_t i)
{
	unsigned nw;
	size_t e = sg_scan_name_run(t, tlen, i, &nw);
	return e && nw == 1 ? e : 0;
}

/* The separator of a list at t[i]: ", ", " and " or ", and "; returns
 * its length (and whether it holds "and"), or 0. */
static size_t list_sep(const char *t, size_t tlen, size_t i, int *and)
{
	static const char *const seps[] = {", and ", " and ", ", "};
	for (int k = 0; k < 3; k++) {
		size_t n = strlen(seps[k]);
		if (i + n <= tlen && memcmp(t + i, seps[k], n) == 0) {
			*and = k < 2;
			return n;
		}
	}
	return 0;
}

/* A found single name inside a list of three or more single capitalized
 * words ending in "and X" ("Hleb, Sheila, Donna and Shane"): the other
 * items are names too. */
static int name_list(struct sg_scan_ctx *c, const char *t, size_t tlen, size_t from, size_t to)
{
	size_t at[16][2];
	size_t n = 0;
	int and = 0, a;
	/* most names stand in no list: no ", " or " and " next to them */
	if (!((to < tlen && (t[to] == ',' || (t[to] == ' ' && to + 5 <= tlen &&
					       memcmp(t + to, " and ", 5) == 0))) ||
	      (from >= 2 && t[from - 2] == ',') ||
	      (from >= 5 && memcmp(t + from - 5, " and ", 5) == 0)))
		return 0;
	if (list_item(t, tlen, from) != to)
		return 0;
	/* back to the first item */
	size_t first = from;
	for (int k = 0; k < 16; k++) {
		size_t q = first;
		if (q < 3 || t[q - 1] != ' ')
			break;
		size_t sepb = q >= 6 && memcmp(t + q - 6, ", and ", 6) == 0 ? q - 6 :
			      q >= 5 && memcmp(t + q - 5, " and ", 5) == 0 ? q - 5 :
			      t[q - 2] == ',' ? q - 2 : SIZE_MAX;
		if (sepb == SIZE_MAX || !sepb)
			break;
		size_t b = sepb;
		while (b > 0 && name_byte(t[b - 1]))
			b--;
		if (list_item(t, tlen, b) != sepb)
			break;
		first = b;
	}
	for (size_t i = first; n < 16;) {
		size_t e = list_item(t, tlen, i);
		if (!e)
			break;
		at[n][0] = i;
		at[n++][1] = e;
		size_t sl = list_sep(t, tlen, e, &a);
		if (!sl || and)
			break; /* the item after "and" is the last */
		and = a;
		i = e + sl;
	}
	if (n < 3 || !and)
		return 0;
	/* two items or more found as names already ("Hleb, Sheila, Donna,
	 * Donald and Shane"), not one ("Australia, Tasmania and Victoria") */
	size_t found = 0;
	for (size_t k = 0; k < n; k++)
		for (size_t h = 0; h < c->nhits; h++)
			if (c->hits[h].type == SG_T_PERSON && c->hits[h].from == at[k][0]) {
				found++;
				break;
			}
	if (found < 2)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (at[k][0] != from &&
		    sg_scan_add_hit(c, at[k][0], at[k][1], SG_T_PERSON, -1, "pii.person_list",
			    c->s->actions[SG_T_PERSON]))
			return -1;
	return 0;
}

/* A name the PERSON rules found once is masked wherever it appears again
 * ("Gerth had given Gerth his address"), and so is each of its words
 * ("Kaczmarek" of "Bonifacy Kaczmarek"). At most 8 names per text. */
int sg_scan_person_repeats(struct sg_scan_ctx *c, const char *t, size_t tlen)
{
	struct needle d[32];
	size_t nhits = c->nhits, names = 0, nd = 0, nwhole = 0;
	for (size_t h = 0; h < nhits && names < 8; h++) {
		if (c->hits[h].type != SG_T_PERSON || c->hits[h].rule < 0 ||
		    c->s->rules[c->hits[h].rule].start != SG_START_PASS)
			continue;
		names++;
		size_t from = c->hits[h].from, to = c->hits[h].to;
		if (name_list(c, t, tlen, from, to))
			return -1;
		d[nd++] = (struct needle){from, to - from, 0};
	}
	nwhole = nd;
	for (size_t k = 0; k < nwhole; k++) {
		size_t from = d[k].from, to = from + d[k].n;
		for (size_t p = from; p < to && nd < 32;) {
			size_t e = p;
			while (e < to && t[e] != ' ')
				e++;
			if (e - p >= 3 && e - p < to - from && t[p] >= 'A' && t[p] <= 'Z' &&
			    t[e - 1] != '.' && !sg_scan_stopword(t, p, e))
				d[nd++] = (struct needle){p, e - p, 1};
			p = e + 1;
		}
	}
	return nd ? repeats(c, t, tlen, d, nd) : 0;
}
