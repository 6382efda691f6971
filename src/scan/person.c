/*
 * person.c - the PERSON word pass. One walk over the words of the scanned
 * text finds the places a name may be, and hands them to the same
 * extractors the other rules use (extract.c):
 *   - after a cue ("my name is", "Dear", "Thanks,", "Mr.", "name:"), as
 *     pii.person_cue candidates ending at the cue;
 *   - a known given name with a capitalized word after it (pii.person_name);
 *   - two capitalized words before a verb ("Ana Ruiz lives", pii.person_verb);
 *   - a record that opens with a name ("Jamie Pratt  Clerk", "eva kleist
 *     lives at"), also pii.person_verb.
 * Words are looked up in one hash table built with the scanner. Only the
 * words next to a capital are looked up at all (every candidate that can
 * become a finding needs one): bitmaps of word bytes and capitals, built
 * sixteen bytes at a time, lead from one such word to the next.
 */
#include "scan/scan_int.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

enum {
	W_NAME = 1,   /* a given name (compare with its case) */
	W_VERB = 2,   /* a verb after a name (lower case as written) */
	W_CUE = 4,    /* the last word of a cue phrase */
	W_PLURAL = 8, /* a verb after "Name and Name" ("were", "are") */
	W_LIVES = 16, /* a verb after a lone name at a sentence start */
};

/* Cue phrases, lower case, words separated by one space. A name follows
 * right after (spaces and punctuation skipped). */
static const char *const cues[] = {
	"my name is", "my name's", "name is", "i am", "i'm", "i\xe2\x80\x99m", "this is",
	"called", "dear", "hi", "hello", "hey", "thanks", "thank you", "regards",
	"best", "cheers", "sincerely", "yours", "signed", "attn", "attention",
	"ask for", "spoke to", "spoke with", "talked to", "speak to", "speak with",
	"talk to", "starring", "directed by", "written by", "according to", "named",
	"named him", "named her", "contact person", "meet", "married", "son",
	"daughter", "wife", "husband", "brother", "sister", "mother", "father",
	"friend", "colleague", "manager", "assistant", "ceo", "founder", "to add",
	"greetings", "wishes", "respectfully", "mr", "mrs", "ms", "miss", "mx", "dr",
	"prof", "sir", "madam", "mme", "mlle", "herr", "frau", "sr", "sra",
	"mister", "monsieur", "madame", "signor", "signora", "senor", "señor",
	"señora",
	/* a role or a preposition before a full name ("songwriter Ana Ruiz",
	 * "assistant to Ana Ruiz", "under Ana Ruiz"): not strong, so the
	 * extractor wants two name words after them. ("by" and "with" are
	 * left out: "with Google Pay", "by Langer Research Associates".) */
	"contact", "under", "assistant to", "producer", "songwriter",
	"singer", "player", "commenter", "writer", "editor", "reporter",
	"journalist", "actor", "actress", "director", "lawyer", "doctor", "nurse",
	"teacher", "partner", "neighbour", "neighbor", "kid", "child",
};
#define NCUES (sizeof(cues) / sizeof(cues[0]))

/* Cue words that count only before ':' or '?' ("Name: Ana Ruiz"). */
static const char *const colon_cues[] = {
	"name", "last name", "first name", "full name", "surname", "user",
	"customer", "client", "contact", "directed by", "written by", "author",
	"signed", "from", "sender", "recipient", "customer name", "account holder",
	"cardholder", "card holder", "holder", "beneficiary", "patient", "employee",
};
#define NCOLON (sizeof(colon_cues) / sizeof(colon_cues[0]))

/* Verbs that make two capitalized words before them a name. */
static const char *const verbs[] = {
	"lives", "lived", "had", "has", "is", "was", "will", "said", "says", "from",
	"of", "works", "worked", "wrote", "joined", "asked", "told", "became",
	"began", "gave", "called", "emailed", "replied", "mentioned", "confirmed",
};

/* Verbs after two single names joined by "and" ("Park and Mann were"). */
static const char *const plural_verbs[] = {
	"were", "are", "have", "had", "met", "went", "live", "lived", "founded",
};

/* Verbs that make one capitalized word at a sentence start a name
 * ("Dexter lives on ..."). */
static const char *const lives_verbs[] = {"lives", "lived"};

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* Bytes of a word: ASCII letters, digits, '_' and any UTF-8 byte; the
 * value is the byte lower-cased (0: not a word byte). */
static const unsigned char word_tab[256] = {
#define R4(b) b, b + 1, b + 2, b + 3
#define R16(b) R4(b), R4(b + 4), R4(b + 8), R4(b + 12)
	['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3', ['4'] = '4',
	['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8', ['9'] = '9', ['_'] = '_',
	['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd', ['E'] = 'e', ['F'] = 'f',
	['G'] = 'g', ['H'] = 'h', ['I'] = 'i', ['J'] = 'j', ['K'] = 'k', ['L'] = 'l',
	['M'] = 'm', ['N'] = 'n', ['O'] = 'o', ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r',
	['S'] = 's', ['T'] = 't', ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
	['Y'] = 'y', ['Z'] = 'z',
	['a'] = 'a', ['b'] = 'b', ['c'] = 'c', ['d'] = 'd', ['e'] = 'e', ['f'] = 'f',
	['g'] = 'g', ['h'] = 'h', ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l',
	['m'] = 'm', ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q', ['r'] = 'r',
	['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v', ['w'] = 'w', ['x'] = 'x',
	['y'] = 'y', ['z'] = 'z',
	[0x80] = R16(0x80), R16(0x90), R16(0xa0), R16(0xb0), R16(0xc0), R16(0xd0), R16(0xe0),
	R16(0xf0),
#undef R16
#undef R4
};

static int word_byte(unsigned char c) { return word_tab[c] != 0; }

/* A hash of the length and the first and last two bytes, lower-cased:
 * no work per byte, and the table compares whole words anyway. */
static uint32_t hash_lower(const char *w, size_t n)
{
	uint32_t x = (uint32_t)(unsigned char)lower(w[0]) |
		     (uint32_t)(unsigned char)lower(w[n > 1]) << 8 |
		     (uint32_t)(unsigned char)lower(w[n > 2 ? n - 2 : 0]) << 16 |
		     (uint32_t)(unsigned char)lower(w[n - 1]) << 24;
	uint32_t h = (x ^ (uint32_t)n * 0x9e3779b1u) * 0x85ebca6bu;
	return h ^ (h >> 15);
}

static int same_lower(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

/* Hashes are never 0: 0 marks an empty slot of s->whash. */
static uint32_t nonzero(uint32_t h) { return h ? h : 1; }

static struct sg_scan_word *slot(struct sg_scanner *s, const char *w, size_t n)
{
	uint32_t hash = nonzero(hash_lower(w, n)), h = hash & (SG_SCAN_WORD_SLOTS - 1);
	while (s->whash[h] && !(s->words[h].len == n && same_lower(s->words[h].word, w, n)))
		h = (h + 1) & (SG_SCAN_WORD_SLOTS - 1);
	s->whash[h] = hash;
	return &s->words[h];
}

/* The probe reads only the 8 KB hash array; the entry on a hash match. */
static const struct sg_scan_word *lookup(const struct sg_scanner *s, const char *w,
					 size_t n, uint32_t hash)
{
	hash = nonzero(hash);
	uint32_t h = hash & (SG_SCAN_WORD_SLOTS - 1);
	while (s->whash[h]) {
		if (s->whash[h] == hash && s->words[h].len == n &&
		    same_lower(s->words[h].word, w, n))
			return &s->words[h];
		h = (h + 1) & (SG_SCAN_WORD_SLOTS - 1);
	}
	return NULL;
}

static void put(struct sg_scanner *s, const char *w, size_t n, unsigned flags, int cue)
{
	struct sg_scan_word *e = slot(s, w, n);
	s->wfirst[n][lower(w[0]) & 31] |= 1u << (lower(w[n - 1]) & 31);
	if (flags & W_CUE)
		s->cfirst[n] |= 1u << (lower(w[0]) & 31);
	if (!e->word) {
		e->word = w;
		e->len = (unsigned char)n;
	}
	if ((flags & W_NAME) && !(e->flags & W_NAME))
		e->word = w; /* names are compared with their case */
	e->flags |= (unsigned char)flags;
	if (cue >= 0 && e->ncue < sizeof(e->cue))
		e->cue[e->ncue++] = (unsigned char)cue;
}

/* The last word of a phrase. */
static const char *last_word(const char *p, size_t *n)
{
	const char *sp = strrchr(p, ' ');
	const char *w = sp ? sp + 1 : p;
	*n = strlen(w);
	return w;
}

int sg_scan_person_init(struct sg_scanner *s)
{
	for (int k = 0; k < 4; k++)
		s->person_rule[k] = -1;
	for (size_t i = 0; i < s->nrules; i++) {
		if (s->rules[i].start != SG_START_PASS)
			continue;
		int k = s->rules[i].check == CK_PERSON_CUE ? 0 :
			s->rules[i].check == CK_PERSON_NAME ? 1 :
			s->rules[i].check == CK_PERSON_PAIR ? 2 : 3;
		s->person_rule[k] = (int)i;
	}
	s->words = sg_calloc(SG_SCAN_WORD_SLOTS, sizeof(*s->words));
	s->whash = sg_calloc(SG_SCAN_WORD_SLOTS, sizeof(*s->whash));
	if (!s->words || !s->whash)
		return -1;
	for (const char *p = sg_scan_first_names; *p;) {
		const char *e = strchr(p, '|');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n <= 24)
			put(s, p, n, W_NAME, -1);
		p += n + (e != NULL);
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		put(s, verbs[i], strlen(verbs[i]), W_VERB, -1);
	for (size_t i = 0; i < sizeof(plural_verbs) / sizeof(plural_verbs[0]); i++)
		put(s, plural_verbs[i], strlen(plural_verbs[i]), W_PLURAL, -1);
	for (size_t i = 0; i < sizeof(lives_verbs) / sizeof(lives_verbs[0]); i++)
		put(s, lives_verbs[i], strlen(lives_verbs[i]), W_LIVES, -1);
	for (size_t i = 0; i < NCUES + NCOLON; i++) {
		size_t n;
		const char *w = last_word(i < NCUES ? cues[i] : colon_cues[i - NCUES], &n);
		put(s, w, n, W_CUE, (int)i);
	}
	return 0;
}

/* 1 when phrase p (lower case) ends exactly at t[end] with a word
 * boundary before it. */
static int phrase_ends(const char *t, size_t end, const char *p)
{
	size_t n = strlen(p);
	if (end < n || !same_lower(t + end - n, p, n))
		return 0;
	return end == n || !word_byte((unsigned char)t[end - n - 1]);
}

static int add(struct sg_scan_ctx *c, int rule, size_t from, size_t to)
{
	if (rule < 0)
		return 0;
	if (c->ncands >= SG_MAX_FINDINGS * 2) {
		c->overflow = 1;
		return 0;
	}
	if (c->ncands == c->candcap) {
		size_t cap = c->candcap ? c->candcap * 2 : 64;
		struct sg_scan_cand *p = sg_realloc(c->cands, cap * sizeof(*p));
		if (!p)
			return -1;
		c->cands = p;
		c->candcap = cap;
	}
	c->cands[c->ncands++] = (struct sg_scan_cand){(uint32_t)rule, (uint32_t)from, (uint32_t)to};
	return 0;
}

/* A capitalized word: an upper-case first letter (ASCII or Latin-1/Latin
 * Extended-A) and a lower-case second. */
static int capitalized(const char *t, size_t from, size_t to)
{
	unsigned char a = (unsigned char)t[from];
	if (a >= 'A' && a <= 'Z')
		return to - from >= 2 && ((t[from + 1] >= 'a' && t[from + 1] <= 'z') ||
					  (unsigned char)t[from + 1] >= 0x80);
	if (to - from >= 3 && ((a == 0xc3 && (unsigned char)t[from + 1] <= 0x9e) ||
			       (a == 0xc5 && (unsigned char)t[from + 1] >= 0x81)))
		return (t[from + 2] >= 'a' && t[from + 2] <= 'z') || (unsigned char)t[from + 2] >= 0x80;
	return 0;
}

static int initial(const char *t, size_t from, size_t to)
{
	return to - from == 1 && t[from] >= 'A' && t[from] <= 'Z';
}

struct word { size_t from, to; };

/* A record opening with a name: two or three words at the start of the
 * text followed by two spaces, a line break or " lives". Capitalized
 * words go through the name rules (stop words, initials); lower-case ones
 * ("eva kleist lives at") only count before "lives" or two spaces. */
static int record_start(struct sg_scan_ctx *c, const char *t, size_t tlen)
{
	size_t i = 0, words = 0;
	for (;;) {
		size_t b = i;
		while (i < tlen && (((t[i] | 32) >= 'a' && (t[i] | 32) <= 'z') ||
				    (unsigned char)t[i] >= 0x80 || (i > b && (t[i] == '-' || t[i] == '\''))))
			i++;
		if (i == b || (t[0] >= 'a' && t[0] <= 'z' && sg_scan_stopword(t, b, i)))
			return 0;
		if (i < tlen && t[i] == '.' && i - b == 1)
			i++;
		else if (i - b < 2 && !(words == 1 && t[b] >= 'A' && t[b] <= 'Z'))
			return 0; /* one letter: only a middle initial */
		words++;
		if (i >= tlen)
			return 0;
		int lives = i + 7 <= tlen && memcmp(t + i, " lives ", 7) == 0;
		int gap = i + 1 < tlen && t[i] == ' ' && t[i + 1] == ' ';
		if (words >= 2 && (lives || gap || t[i] == '\n')) {
			unsigned nw;
			size_t end = sg_scan_name_run(t, tlen, 0, &nw);
			if (end && nw >= 2)
				return add(c, c->s->person_rule[3], 0, end);
			int blank = i + 1 < tlen && t[i] == '\n' && t[i + 1] == '\n';
			if ((t[i] == '\n' && !blank) || !(t[0] >= 'a' && t[0] <= 'z'))
				return 0;
			return add(c, c->s->person_rule[3], 0, i);
		}
		if (words == 3 || t[i] != ' ')
			return 0;
		i++;
	}
}

/* t[a.to..b.from) is one space, or ". " after an initial. */
static int gap_ok(const char *t, struct word a, struct word b)
{
	if (a.to + 1 == b.from)
		return t[a.to] == ' ';
	return a.to + 2 == b.from && a.to - a.from == 1 && t[a.to] == '.' && t[a.to + 1] == ' ';
}

/* 1 when the word at `from` opens the text, a line or a sentence. */
static int sentence_start(const char *t, size_t from)
{
	while (from > 0 && t[from - 1] == ' ')
		from--;
	if (!from)
		return 1;
	char p = t[from - 1];
	return p == '.' || p == '?' || p == '!' || p == '\n' || p == ':' || p == '"' ||
	       p == '>';
}

/* 1 when word w is a name on its own (a capitalized word, no stop word). */
static int one_name(const char *t, size_t tlen, struct word w)
{
	unsigned n;
	return sg_scan_name_run(t, tlen, w.from, &n) == w.to && n == 1;
}

/* The checks on one word w[0] (w[1..3]: the words before it; nw: words so
 * far, w[0] included, only compared with 3 and 4). */
static int visit(struct sg_scan_ctx *c, const char *t, size_t tlen, const struct word *w,
		 size_t nw)
{
	const struct sg_scanner *s = c->s;
	size_t b = w[0].from, e = w[0].to;
	/* most words are no table word: their length and first and last
	 * bytes say so without hashing */
	if (e - b > 24 || !(s->wfirst[e - b][word_tab[(unsigned char)t[b]] & 31] >>
			    (word_tab[(unsigned char)t[e - 1]] & 31) & 1))
		return 0;
	const struct sg_scan_word *x = lookup(s, t + b, e - b, hash_lower(t + b, e - b));
	if (!x)
		return 0;
	if ((x->flags & W_NAME) && memcmp(t + b, x->word, e - b) == 0 &&
	    add(c, s->person_rule[1], b, e))
		return -1;
	if ((x->flags & W_VERB) && nw >= 3 && memcmp(t + b, x->word, e - b) == 0 &&
	    w[1].to + 1 == b && t[w[1].to] == ' ' && capitalized(t, w[1].from, w[1].to) &&
	    gap_ok(t, w[2], w[1])) {
		size_t from = SIZE_MAX;
		if (capitalized(t, w[2].from, w[2].to))
			from = w[2].from;
		else if (initial(t, w[2].from, w[2].to) && nw >= 4 &&
			 capitalized(t, w[3].from, w[3].to) && gap_ok(t, w[3], w[2]))
			from = w[3].from; /* "Ana M Ruiz lives" */
		if (from != SIZE_MAX && add(c, s->person_rule[2], from, w[1].to))
			return -1;
	}
	/* "..., says Becker." / "said Ana Ruiz," at the end of a quote */
	if ((x->flags & W_VERB) && e - b == 4 && (memcmp(t + b, "says", 4) == 0 ||
						  memcmp(t + b, "said", 4) == 0) &&
	    e + 1 < tlen && t[e] == ' ' && b >= 2 && (t[b - 2] == '"' || t[b - 2] == ',' ||
						       (unsigned char)t[b - 2] >= 0x80)) {
		unsigned n;
		size_t end = sg_scan_name_run(t, tlen, e + 1, &n);
		if (end && (end == tlen || t[end] == '.' || t[end] == ',') &&
		    add(c, s->person_rule[3], e + 1, end))
			return -1;
	}
	/* "Dexter lives on ...": one name word opening a sentence */
	if ((x->flags & W_LIVES) && nw >= 2 && memcmp(t + b, x->word, e - b) == 0 &&
	    w[1].to + 1 == b && t[w[1].to] == ' ' && capitalized(t, w[1].from, w[1].to) &&
	    sentence_start(t, w[1].from) && one_name(t, tlen, w[1]) &&
	    add(c, s->person_rule[3], w[1].from, w[1].to))
		return -1;
	/* "Park and Mann were ...": two single names joined by "and" */
	if ((x->flags & W_PLURAL) && nw >= 4 && memcmp(t + b, x->word, e - b) == 0 &&
	    w[2].to - w[2].from == 3 && memcmp(t + w[2].from, "and", 3) == 0 &&
	    w[1].to + 1 == b && t[w[1].to] == ' ' && w[2].to + 1 == w[1].from &&
	    t[w[2].to] == ' ' && w[3].to + 1 == w[2].from && t[w[3].to] == ' ' &&
	    capitalized(t, w[3].from, w[3].to) && capitalized(t, w[1].from, w[1].to) &&
	    sentence_start(t, w[3].from) && one_name(t, tlen, w[3]) && one_name(t, tlen, w[1]) &&
	    (add(c, s->person_rule[3], w[3].from, w[3].to) ||
	     add(c, s->person_rule[3], w[1].from, w[1].to)))
		return -1;
	if (!(x->flags & W_CUE))
		return 0;
	int emitted = 0;
	for (unsigned k = 0; k < x->ncue; k++) {
		unsigned ci = x->cue[k];
		if (ci < NCUES) {
			if (!emitted && phrase_ends(t, e, cues[ci])) {
				if (add(c, s->person_rule[0], e, e))
					return -1;
				emitted = 1;
			}
			continue;
		}
		if (!phrase_ends(t, e, colon_cues[ci - NCUES]))
			continue;
		size_t j = e;
		while (j < tlen && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r'))
			j++;
		if (j < tlen && (t[j] == ':' || t[j] == '?')) {
			if (add(c, s->person_rule[0], j + 1, j + 1))
				return -1;
			break;
		}
	}
	return 0;
}

/* Every word of the text in order. */
static int walk_all(struct sg_scan_ctx *c, const char *t, size_t tlen)
{
	struct word w[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}}; /* w[0]: the last word */
	size_t nw = 0;
	for (size_t i = 0; i < tlen;) {
		if (!word_byte((unsigned char)t[i])) {
			i++;
			continue;
		}
		size_t b = i;
		while (i < tlen && (word_tab[(unsigned char)t[i]] ||
				    ((t[i] == '\'' || t[i] == '-') && i + 1 < tlen &&
				     word_byte((unsigned char)t[i + 1]))))
			i++;
		w[3] = w[2];
		w[2] = w[1];
		w[1] = w[0];
		w[0] = (struct word){b, i};
		nw++;
		if (visit(c, t, tlen, w, nw))
			return -1;
	}
	return 0;
}

/* Per byte: 1 word byte, 2 apostrophe or hyphen (inside a word between
 * two word bytes), 4 'A'-'Z', 8 a byte that may follow an ASCII capital in
 * a name ('a'-'z', an apostrophe or hyphen, >= 0x80), 16 a byte >= 0x80
 * (it may start an upper-case letter outside ASCII). */
static const unsigned char cls_tab[256] = {
#define C8(b) b, b, b, b, b, b, b, b
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
	['7'] = 1, ['8'] = 1, ['9'] = 1, ['_'] = 1, ['\''] = 10, ['-'] = 10,
	['A'] = 5, ['B'] = 5, ['C'] = 5, ['D'] = 5, ['E'] = 5, ['F'] = 5, ['G'] = 5,
	['H'] = 5, ['I'] = 5, ['J'] = 5, ['K'] = 5, ['L'] = 5, ['M'] = 5, ['N'] = 5,
	['O'] = 5, ['P'] = 5, ['Q'] = 5, ['R'] = 5, ['S'] = 5, ['T'] = 5, ['U'] = 5,
	['V'] = 5, ['W'] = 5, ['X'] = 5, ['Y'] = 5, ['Z'] = 5,
	['a'] = 9, ['b'] = 9, ['c'] = 9, ['d'] = 9, ['e'] = 9, ['f'] = 9, ['g'] = 9,
	['h'] = 9, ['i'] = 9, ['j'] = 9, ['k'] = 9, ['l'] = 9, ['m'] = 9, ['n'] = 9,
	['o'] = 9, ['p'] = 9, ['q'] = 9, ['r'] = 9, ['s'] = 9, ['t'] = 9, ['u'] = 9,
	['v'] = 9, ['w'] = 9, ['x'] = 9, ['y'] = 9, ['z'] = 9,
	[0x80] = C8(25), C8(25), C8(25), C8(25), C8(25), C8(25), C8(25), C8(25), C8(25),
	C8(25), C8(25), C8(25), C8(25), C8(25), C8(25), C8(25),
#undef C8
};

#if defined(__SSE2__)
/* Sixteen bytes at a time: bit k of *w, *j, *u for byte k, as cls_tab
 * has them (signed compares: bytes >= 0x80 are negative and fall in no
 * ASCII range; their sign bits come from movemask). */
static void classify16(const unsigned char *q, uint32_t *w, uint32_t *j, uint32_t *u,
		       uint32_t *l, uint32_t *h)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
	__m128i lx = _mm_or_si128(x, _mm_set1_epi8(0x20));
	__m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lx, _mm_set1_epi8('a' - 1)),
				       _mm_cmplt_epi8(lx, _mm_set1_epi8('z' + 1)));
	__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
				      _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
	__m128i upper = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
				      _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
	__m128i word = _mm_or_si128(_mm_or_si128(letter, digit),
				    _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
	__m128i join = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\'')),
				    _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
	__m128i lower = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('a' - 1)),
				      _mm_cmplt_epi8(x, _mm_set1_epi8('z' + 1)));
	uint32_t high = (uint32_t)_mm_movemask_epi8(x);
	*w = (uint32_t)_mm_movemask_epi8(word) | high;
	*j = (uint32_t)_mm_movemask_epi8(join);
	*u = (uint32_t)_mm_movemask_epi8(upper);
	*l = (uint32_t)_mm_movemask_epi8(_mm_or_si128(lower, join)) | high;
	*h = high;
}
#endif

/* Bitmaps over the text, one bit per byte, in blocks of 64: */
struct wmaps {
	const uint64_t *m; /* bytes of a word */
	const uint64_t *s; /* the first byte of each word */
	const uint64_t *c; /* the first byte of each word that may be a capital */
	size_t n;          /* bits (bytes of the text); bits past it are 0 */
};

/* The words of the pass: maximal runs of word bytes, an apostrophe or
 * hyphen joining two word bytes ("don't", "Jean-Luc"). Whether a byte
 * belongs to a word depends only on its neighbours, so all of this is
 * computed without a branch per byte. */
static int build_maps(struct sg_scan_ctx *c, const char *t, size_t tlen, struct wmaps *out)
{
	size_t nb = tlen / 64 + 1;
	if (c->wbitcap < nb * 7) {
		uint64_t *p = sg_realloc(c->wbits, nb * 7 * sizeof(uint64_t));
		if (!p)
			return -1;
		c->wbits = p;
		c->wbitcap = nb * 7;
	}
	uint64_t *W = c->wbits, *J = W + nb, *M = J + nb, *S = M + nb, *C = S + nb, *L = C + nb;
	uint64_t *H = L + nb;
	for (size_t b = 0; b < nb; b++) {
		const unsigned char *q = (const unsigned char *)t + b * 64;
		size_t n = tlen - b * 64 < 64 ? tlen - b * 64 : 64;
		uint64_t w = 0, j = 0, u = 0, l = 0, h = 0;
		size_t k = 0;
#if defined(__SSE2__)
		unsigned char pad[16];
		for (; k < n; k += 16) {
			const unsigned char *x = q + k;
			if (k + 16 > n) { /* the last bytes, padded with NULs (in no class) */
				memset(pad, 0, sizeof(pad));
				memcpy(pad, q + k, n - k);
				x = pad;
			}
			uint32_t w16, j16, u16, l16, h16;
			classify16(x, &w16, &j16, &u16, &l16, &h16);
			w |= (uint64_t)w16 << k;
			j |= (uint64_t)j16 << k;
			u |= (uint64_t)u16 << k;
			l |= (uint64_t)l16 << k;
			h |= (uint64_t)h16 << k;
		}
#endif
		for (; k < n; k++) {
			unsigned v = cls_tab[q[k]];
			w |= (uint64_t)(v & 1) << k;
			j |= (uint64_t)(v >> 1 & 1) << k;
			u |= (uint64_t)(v >> 2 & 1) << k;
			l |= (uint64_t)(v >> 3 & 1) << k;
			h |= (uint64_t)(v >> 4) << k;
		}
		W[b] = w;
		J[b] = j;
		C[b] = u;
		L[b] = l;
		H[b] = h;
	}
	for (size_t b = 0; b < nb; b++) {
		uint64_t before = W[b] << 1 | (b ? W[b - 1] >> 63 : 0);
		uint64_t after = W[b] >> 1 | (b + 1 < nb ? W[b + 1] << 63 : 0);
		M[b] = W[b] | (J[b] & before & after);
	}
	uint64_t anyc = 0;
	for (size_t b = 0; b < nb; b++) {
		S[b] = M[b] & ~(M[b] << 1 | (b ? M[b - 1] >> 63 : 0));
		/* A word of two bytes or more that starts with a byte >= 0x80,
		 * or with 'A'-'Z' then a lower-case letter, an apostrophe or
		 * hyphen or a byte >= 0x80: one-byte words ("I", "A") and
		 * words in capitals ("URGENT") are no given name (all have
		 * that shape), no capitalized word and start no run of names. */
		uint64_t nextm = M[b] >> 1 | (b + 1 < nb ? M[b + 1] << 63 : 0);
		uint64_t nextl = L[b] >> 1 | (b + 1 < nb ? L[b + 1] << 63 : 0);
		C[b] = S[b] & nextm & ((C[b] & nextl) | H[b]);
		anyc |= C[b];
	}
	*out = (struct wmaps){M, S, C, tlen};
	return anyc != 0;
}

/* The first set bit at or after i in a (n bits), or n. */
static inline size_t next_set(const uint64_t *a, size_t n, size_t i)
{
	if (i >= n)
		return n;
	size_t b = i / 64;
	uint64_t x = a[b] & (~0ull << (i % 64));
	while (!x) {
		if (++b * 64 >= n)
			return n;
		x = a[b];
	}
	return b * 64 + (size_t)__builtin_ctzll(x);
}

/* The first clear bit at or after i (bits past the text are clear). */
static inline size_t next_clear(const uint64_t *a, size_t i)
{
	size_t b = i / 64;
	uint64_t x = ~a[b] & (~0ull << (i % 64));
	while (!x)
		x = ~a[++b];
	return b * 64 + (size_t)__builtin_ctzll(x);
}

/* The last set bit before i, or SIZE_MAX. */
static size_t prev_set(const uint64_t *a, size_t i)
{
	if (!i)
		return SIZE_MAX;
	size_t b = (i - 1) / 64;
	unsigned sh = (unsigned)(63 - (i - 1) % 64);
	uint64_t x = a[b] << sh >> sh;
	while (!x) {
		if (!b)
			return SIZE_MAX;
		x = a[--b];
	}
	return b * 64 + 63 - (size_t)__builtin_clzll(x);
}

static inline int bit(const uint64_t *a, size_t i)
{
	return (int)(a[i / 64] >> (i % 64) & 1);
}

/* The word starts before bit i, counted from where the last call left. */
struct counter {
	size_t blk, n;
};

static size_t starts_before(struct counter *k, const uint64_t *s, size_t i)
{
	while (k->blk < i / 64)
		k->n += (size_t)__builtin_popcountll(s[k->blk++]);
	uint64_t part = i % 64 ? s[i / 64] << (64 - i % 64) : 0;
	return k->n + (size_t)__builtin_popcountll(part);
}

/* The words of the text in order, visiting only those that start with a
 * capital and the words right before and after them. A word none of whose
 * neighbours nor itself starts with a capital adds no candidate that can
 * survive its extractor: a given name is compared with its case, a verb
 * needs a capitalized word before it, and every cue and "says" needs a
 * name (a capital) as the next word. Such a word can add only cue
 * candidates the extractor drops; the caller checks that leaving them out
 * cannot change whether the array overflows. */
static int walk_caps(struct sg_scan_ctx *c, const char *t, size_t tlen, const struct wmaps *m,
		     size_t *dropped)
{
	const struct sg_scanner *s = c->s;
	struct word w[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
	size_t nw = 0;
	int capprev = 0;
	/* Short texts jump from the last word near a capital to the word
	 * before the next capital; their words left out add at most two
	 * candidates each, tlen + 1 in all. Long ones are walked word by
	 * word, counting the cue words left out. */
	int jump = c->ncands + tlen + 1 <= SG_MAX_FINDINGS * 2;
	struct counter cnt = {0, 0};
	size_t i = next_set(m->s, m->n, 0);
	*dropped = jump ? tlen + 1 : 0;
	while (i < m->n) {
		size_t e = next_clear(m->m, i);
		size_t nx = next_set(m->s, m->n, e);
		w[3] = w[2];
		w[2] = w[1];
		w[1] = w[0];
		w[0] = (struct word){i, e};
		nw++;
		int capcur = bit(m->c, i), capnext = nx < m->n && bit(m->c, nx);
		if (capprev | capcur | capnext) {
			if (visit(c, t, tlen, w, nw))
				return -1;
		} else if (!jump && e - i <= 24 &&
			   (s->cfirst[e - i] >> (word_tab[(unsigned char)t[i]] & 31) & 1)) {
			*dropped += 2; /* a cue and a "cue:" candidate at most */
		}
		if (jump && !capcur && !capnext) {
			/* nx is no capital and follows none: go on from the
			 * word before the next capital, with the history and
			 * word count a walk over every word would have */
			size_t q = next_set(m->c, m->n, nx + 1);
			if (q >= m->n)
				break;
			size_t p = prev_set(m->s, q);
			if (p > nx) {
				size_t at = p;
				for (int k = 0; k < 3; k++) {
					size_t ps = at ? prev_set(m->s, at) : SIZE_MAX;
					w[k] = ps == SIZE_MAX ? (struct word){0, 0} :
						(struct word){ps, next_clear(m->m, ps)};
					at = ps == SIZE_MAX ? 0 : ps;
				}
				nw = starts_before(&cnt, m->s, p);
				capprev = 0;
				i = p;
				continue;
			}
		}
		/* no capital from here on: no word left to visit, and the
		 * words left add fewer than one candidate per byte */
		if (!jump && !capcur && next_set(m->c, m->n, e) == m->n &&
		    c->ncands + *dropped + (tlen - e) + 1 <= SG_MAX_FINDINGS * 2) {
			*dropped += tlen - e + 1;
			break;
		}
		capprev = capcur;
		i = nx;
	}
	return 0;
}

/* The pass runs when the scanner has the word table and a PERSON rule. */
static int pass_enabled(const struct sg_scanner *s)
{
	return s->words && (s->person_rule[0] >= 0 || s->person_rule[1] >= 0 ||
			    s->person_rule[2] >= 0 || s->person_rule[3] >= 0);
}

int sg_scan_person_pass(struct sg_scan_ctx *c, const char *t, size_t tlen)
{
	if (!pass_enabled(c->s))
		return 0;
	if (record_start(c, t, tlen))
		return -1;
	size_t n0 = c->ncands;
	int ov0 = c->overflow;
	struct wmaps m;
	size_t dropped = tlen + 1; /* no capital: at most one per byte */
	int caps = build_maps(c, t, tlen, &m);
	if (caps < 0)
		return -1;
	if (caps && walk_caps(c, t, tlen, &m, &dropped))
		return -1;
	/* Below the cap, the candidates the words left out would have added
	 * are all dropped by their extractor: the outcome is the same. */
	if (c->ncands + dropped <= SG_MAX_FINDINGS * 2)
		return 0;
	c->ncands = n0;
	c->overflow = ov0;
	return walk_all(c, t, tlen);
}

int sg_scan_person_pass_all(struct sg_scan_ctx *c, const char *t, size_t tlen)
{
	if (!pass_enabled(c->s))
		return 0;
	if (record_start(c, t, tlen))
		return -1;
	return walk_all(c, t, tlen);
}

const uint64_t *sg_scan_capital_map(const struct sg_scan_ctx *c, size_t tlen)
{
	return c->wbits + 4 * (tlen / 64 + 1);
}
