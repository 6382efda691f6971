/*
 * extract.c - post checks that find the value a cue points at, or trim and
 * extend a match: the name after "my name is"/"Dear"/"Mr.", the address
 * after "lives at", the value after "password:", a private key block up to
 * its END line, a street address grown over its unit, city and postcode.
 */
#include "scan/scan_int.h"

#include <pthread.h>
#include <string.h>
#include <utf8proc.h>

#include "core/banned.h"

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* category of the code point at t[i]; *n gets its byte length */
static int cat_at(const char *t, size_t tlen, size_t i, size_t *n)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)t + i,
					      (utf8proc_ssize_t)(tlen - i), &cp);
	if (k <= 0) {
		*n = 1;
		return UTF8PROC_CATEGORY_CN;
	}
	*n = (size_t)k;
	return utf8proc_category(cp);
}

/* Words that start with a capital but are not names. */
static const char *const not_names[] = {
	"i", "the", "a", "an", "team", "support", "customer", "customers", "sir",
	"madam", "all", "there", "everyone", "everybody", "guys", "folks", "you",
	"we", "my", "our", "your", "this", "that", "it", "is", "am", "are", "so",
	"hope", "please", "thanks", "thank", "regards", "best", "kind", "dear",
	"hello", "hi", "hey", "good", "morning", "afternoon", "evening", "just",
	"writing", "having", "trying", "looking", "not", "also", "here", "again",
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
	"sunday", "january", "february", "march", "april", "june", "july",
	"august", "september", "october", "november", "december", "today",
	"tomorrow", "yesterday", "sorry", "ok", "okay", "yes", "no", "and", "or",
	"but", "if", "when", "what", "why", "how", "who", "where", "which",
	"mr", "mrs", "ms", "dr", "miss", "prof", "in", "on", "at", "for", "of",
	"to", "from", "with", "by", "as", "be", "new", "can", "will", "would",
	"could", "should", "do", "does", "did", "have", "has", "had", "was",
	"were", "been", "being", "still", "very", "really", "sincerely", "cheers",
	"warm", "yours", "faithfully", "truly", "inc", "ltd", "llc", "corp",
	"company", "bank", "order", "account", "ticket", "service", "services",
	"manager", "agent", "admin", "ceo", "user", "client", "he", "she", "they",
	"his", "her", "their", "ai", "bot", "assistant", "human", "people",
	"group", "states", "united", "city", "county", "university", "street",
	"investments", "systems", "markets", "capital", "insurance", "consulting",
	"partners", "holdings", "solutions", "technologies", "international",
	"foundation", "institute", "association", "club", "hotel", "airport",
	"station", "park", "river", "lake", "mount", "north", "south", "east",
	"west", "big", "old", "great", "saint", "san", "los", "las", "el", "le",
	"la", "de", "van", "von", "kingdom", "republic", "island", "islands",
	"corporation", "orchestra", "act", "agency", "band", "committee",
	"council", "ministry", "department", "office", "center", "centre",
	"church", "school", "college", "hospital", "museum", "library",
	"festival", "awards", "records", "media", "news", "times", "post",
	"journal", "airlines", "motors", "labs", "studio", "studios", "ip",
	/* unit words that follow a name in an address line */
	"apt", "apartment", "suite", "ste", "unit", "flat", "floor", "room", "bldg",
	"i'm", "i've", "i'll", "i'd",
	/* departments ("Sales and Marketing were") */
	"sales", "marketing", "billing", "finance", "legal", "engineering",
	"operations", "shipping", "returns", "accounting", "payments", "payroll",
	"design", "product", "products", "research", "development", "security",
	"delivery", "logistics", "procurement", "compliance", "hr",
	"southern", "northern", "eastern", "western", "central",
	NULL,
};

/* Given names that are also common words: alone they are not a name. */
static const char *const ambiguous_names[] = {
	"mark", "grace", "will", "bill", "joy", "may", "june", "rose", "ruby",
	"amber", "holly", "hope", "faith", "summer", "jan", "eve", "victor",
	"hugo", "li", "wei", "ali", "sem", "ida", "ring", "chloe", "ava", "mia",
	"hans", "frank", "ray", "jack", "paul", "louis", "eva", "ann", "sara",
	"luca", "finn", "felix", "leon", "lena", "lea", "poppy", "ellie",
	"marie", "jean", "pierre", "carmen", "amy", NULL,
};

static int in_list(const char *const *list, const char *t, size_t from, size_t to)
{
	char w[16];
	size_t n = to - from;
	if (n >= sizeof(w))
		return 0;
	for (size_t i = 0; i < n; i++)
		w[i] = lower(t[from + i]);
	w[n] = 0;
	for (const char *const *s = list; *s; s++)
		if ((*s)[0] == w[0] && strcmp(w, *s) == 0)
			return 1;
	return 0;
}

static int ambiguous(const char *t, size_t from, size_t to)
{
	return in_list(ambiguous_names, t, from, to);
}

/* not_names in an open-addressing table keyed by a hash of the lower-cased
 * word, built once per process. */
#define STOP_SLOTS 1024
static const char *stop_tab[STOP_SLOTS];
static unsigned char stop_len[STOP_SLOTS];
static pthread_once_t stop_once = PTHREAD_ONCE_INIT;

static uint32_t stop_hash(const char *w, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return h;
}

static void stop_build(void)
{
	for (const char *const *s = not_names; *s; s++) {
		size_t n = strlen(*s);
		uint32_t h = stop_hash(*s, n) & (STOP_SLOTS - 1);
		while (stop_tab[h])
			h = (h + 1) & (STOP_SLOTS - 1);
		stop_tab[h] = *s;
		stop_len[h] = (unsigned char)n;
	}
}

int sg_scan_stopword(const char *t, size_t from, size_t to)
{
	char w[16];
	size_t n = to - from;
	if (n >= sizeof(w) || !n)
		return 0;
	pthread_once(&stop_once, stop_build);
	for (size_t i = 0; i < n; i++)
		w[i] = lower(t[from + i]);
	for (uint32_t h = stop_hash(w, n) & (STOP_SLOTS - 1); stop_tab[h];
	     h = (h + 1) & (STOP_SLOTS - 1))
		if (stop_len[h] == n && memcmp(stop_tab[h], w, n) == 0)
			return 1;
	return 0;
}

/* A capitalized word at t[i]: an upper-case letter then at least one
 * lower-case letter (apostrophes and hyphens allowed inside); returns its
 * end or 0. "H." (an initial) is accepted when `initial` is set. */
static size_t cap_word(const char *t, size_t tlen, size_t i, int initial)
{
	size_t n;
	if (i >= tlen || cat_at(t, tlen, i, &n) != UTF8PROC_CATEGORY_LU)
		return 0;
	size_t j = i + n, lowers = 0;
	while (j < tlen) {
		int c = cat_at(t, tlen, j, &n);
		if (c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_MN) {
			lowers++;
			j += n;
		} else if ((t[j] == '\'' || t[j] == '-') && j + 1 < tlen &&
			   cat_at(t, tlen, j + 1, &n) <= UTF8PROC_CATEGORY_LO &&
			   cat_at(t, tlen, j + 1, &n) >= UTF8PROC_CATEGORY_LU) {
			j++;
		} else {
			break;
		}
	}
	if (lowers)
		return j;
	if (initial && j < tlen && t[j] == '.')
		return j + 1;
	/* a middle initial without its dot: "Daniela C Capon" */
	if (initial && j == i + 1 && j + 1 < tlen && t[j] == ' ' &&
	    t[j + 1] >= 'A' && t[j + 1] <= 'Z')
		return j;
	return 0;
}

/* Lower-case particles inside a name ("Maika van de Noort"). */
static const char *const name_particles[] = {
	"van", "von", "de", "der", "den", "del", "della", "di", "da", "du", "dos",
	"das", "ten", "ter", "te", "la", "le", "bin", "ibn", "al", NULL,
};

/* After a name word, one or two particles then a capitalized word that is
 * no stop word: returns where that word starts, or 0. */
static size_t after_particles(const char *t, size_t tlen, size_t i)
{
	for (int k = 0; k < 2; k++) {
		size_t e = i;
		while (e < tlen && t[e] >= 'a' && t[e] <= 'z')
			e++;
		if (e == i || e >= tlen || t[e] != ' ' || !in_list(name_particles, t, i, e))
			return 0;
		i = e + 1;
		size_t w = cap_word(t, tlen, i, 0);
		if (w && !sg_scan_stopword(t, i, w))
			return i;
	}
	return 0;
}

/* Up to three name words starting at i (spaces between them, and lower-case
 * particles, which do not count); returns the end and the number of words
 * in *nw. */
static size_t name_run(const char *t, size_t tlen, size_t i, unsigned *nw, int particles)
{
	size_t end = 0;
	*nw = 0;
	while (*nw < 3) {
		size_t e = cap_word(t, tlen, i, *nw > 0);
		/* a middle initial may look like a stop word ("Juliusz A Kwiatkowski") */
		if (!e || (sg_scan_stopword(t, i, e) && !(*nw > 0 && e - i == 1)))
			break;
		(*nw)++;
		end = e;
		if (e < tlen && t[e] == ' ')
			i = e + 1;
		else
			break;
		size_t p = particles ? after_particles(t, tlen, i) : 0;
		if (p)
			i = p;
	}
	if (end && t[end - 1] == '.' && end >= 2 && t[end - 2] >= 'A' && t[end - 2] <= 'Z')
		end -= 1; /* a trailing initial keeps its letter only */
	return end;
}

size_t sg_scan_name_run(const char *t, size_t tlen, size_t i, unsigned *nw)
{
	return name_run(t, tlen, i, nw, 1);
}

static int cue_is(const char *t, size_t from, size_t to, const char *w)
{
	size_t n = strlen(w);
	if (to - from < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(t[from + i]) != w[i])
			return 0;
	return 1;
}

/* 1 when the cue match ending at `end` ends with the word w. */
static int cue_ends(const char *t, size_t end, const char *w)
{
	size_t n = strlen(w);
	if (end < n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(t[end - n + i]) != w[i])
			return 0;
	char pre = end > n ? lower(t[end - n - 1]) : ' ';
	return !(pre >= 'a' && pre <= 'z');
}

static const char *const strong_cues[] = {
	"name is", "name's", "dear", "mr", "mrs", "ms", "dr", "miss", "prof",
	"mx", "sir", "madam", "mme", "mlle", "herr", "frau", "sr", "sra",
	"regards", "sincerely", "cheers", "thanks", "thank you", "best", "hi",
	"hello", "hey", "signed", "attn", "attention", "yours", "starring",
	"named him", "named her", "mister", "monsieur", "madame", "signor",
	"signora", "senor", "se\xc3\xb1or", "se\xc3\xb1ora", "greetings", "wishes",
	"respectfully", NULL,
};

/* The cue ends at *to (its start is not needed); the name follows. */
static int person_cue(const char *t, size_t tlen, size_t *from, size_t *to)
{
	size_t i = *to, e = *to;
	while (e > 0 && t[e - 1] == '.')
		e--;
	int strong = t[*to - 1] == ':' || t[*to - 1] == '?';
	for (const char *const *w = strong_cues; *w && !strong; w++)
		strong = cue_ends(t, e, *w);
	/* "I am" and the like need the cue itself in lower case after the
	 * first letter, to avoid headings ("THIS IS URGENT") */
	size_t skipped = 0;
	while (i < tlen && skipped < 8 &&
	       (t[i] == ' ' || t[i] == ',' || t[i] == ':' || t[i] == '\n' || t[i] == '?' ||
		t[i] == '\r' || t[i] == '-' || t[i] == '.' || t[i] == '!')) {
		i++;
		skipped++;
	}
	if (!skipped)
		return 0;
	unsigned nw;
	size_t end = sg_scan_name_run(t, tlen, i, &nw);
	if (!end || nw < (strong ? 1u : 2u))
		return 0;
	*from = i;
	*to = end;
	return 1;
}

static int address_cue(const char *t, size_t tlen, size_t *from, size_t *to)
{
	size_t i = *to;
	while (i < tlen && (t[i] == ' ' || t[i] == ':'))
		i++;
	if (i < tlen && (t[i] == 't' || t[i] == 'T') && i + 4 < tlen &&
	    (cue_is(t, i, tlen, "the ") || cue_is(t, i, tlen, "the corner of ")))
		return 0; /* "lives at the corner of ..." is left to street rules */
	size_t j = i, digits = 0, words = 0;
	while (j < tlen && j - i < 96) {
		char c = t[j];
		if (c == '\n' || c == ';' || c == '(' || c == '"' || c == '!' || c == '?')
			break;
		if (c == '.' && (j + 1 >= tlen || t[j + 1] == ' ' || t[j + 1] == '\n') &&
		    !(j >= 2 && (t[j - 2] == ' ' || t[j - 3] == ' ')))
			break;
		if (cue_is(t, j, tlen, " and ") || cue_is(t, j, tlen, " but ") ||
		    cue_is(t, j, tlen, " since ") || cue_is(t, j, tlen, " for "))
			break;
		digits += is_digit(c);
		words += c == ' ';
		j++;
	}
	while (j > i && (t[j - 1] == ' ' || t[j - 1] == ',' || t[j - 1] == '.'))
		j--;
	/* trailing lower-case words after a capitalized one are the sentence
	 * going on ("... Street, London please") */
	for (;;) {
		size_t w = j;
		while (w > i && t[w - 1] != ' ')
			w--;
		if (w <= i || !(t[w] >= 'a' && t[w] <= 'z'))
			break;
		size_t p = w - 1;
		while (p > i && (t[p - 1] == ',' || t[p - 1] == ' '))
			p--;
		size_t pw = p;
		while (pw > i && t[pw - 1] != ' ')
			pw--;
		if (!((t[pw] >= 'A' && t[pw] <= 'Z') || is_digit(t[pw])))
			break;
		j = p;
	}
	if (!digits || j <= i || words > 12)
		return 0;
	*from = i;
	*to = j;
	return 1;
}

/* Grows a street match over ", Apt 4", ", Springfield, IL 62704". */
static int address(const char *t, size_t tlen, size_t *from, size_t *to)
{
	size_t j = *to;
	/* a house number written before the street ("228 Ringvej 144") */
	size_t b = *from;
	if (b >= 2 && t[b - 1] == ' ' && is_digit(t[b - 2])) {
		b -= 2;
		while (b > 0 && is_digit(t[b - 1]) && *from - b < 8)
			b--;
		if (b == 0 || !((t[b - 1] | 32) >= 'a' && (t[b - 1] | 32) <= 'z'))
			*from = b;
	}
	for (int step = 0; step < 4; step++) {
		size_t k = j;
		while (k < tlen && (t[k] == ',' || t[k] == ' ' || t[k] == '\n'))
			k++;
		if (k == j || k >= tlen)
			break;
		size_t e = k;
		if (is_digit(t[k])) { /* postcode */
			while (e < tlen && (is_digit(t[e]) || t[e] == '-') && e - k < 10)
				e++;
			if (e - k < 4 || (e < tlen && (t[e] >= 'a' && t[e] <= 'z')))
				break;
		} else if (cue_is(t, k, tlen, "apt") || cue_is(t, k, tlen, "suite") ||
			   cue_is(t, k, tlen, "unit")) {
			e = k;
			while (e < tlen && t[e] != ',' && t[e] != '\n' && e - k < 16)
				e++;
		} else if (t[k] >= 'A' && t[k] <= 'Z' && k + 1 < tlen &&
			   t[k + 1] >= 'A' && t[k + 1] <= 'Z' &&
			   (k + 2 >= tlen || t[k + 2] == ' ' || t[k + 2] == ',')) {
			e = k + 2; /* a state code */
		} else {
			unsigned nw; /* a city: no name particles ("Mora de Rubielos") */
			e = name_run(t, tlen, k, &nw, 0);
			if (!e)
				break;
		}
		j = e;
	}
	*to = j;
	return 1;
}

static int secret_value(const char *t, size_t tlen, size_t *from, size_t *to)
{
	size_t i = *to;
	while (i < tlen && (t[i] == ' ' || t[i] == '"' || t[i] == '\''))
		i++;
	size_t j = i;
	while (j < tlen && t[j] != ' ' && t[j] != '\n' && t[j] != '\t' &&
	       t[j] != '"' && t[j] != '\'' && j - i < 256)
		j++;
	while (j > i && (t[j - 1] == '.' || t[j - 1] == ',' || t[j - 1] == ';'))
		j--;
	if (j - i < 4)
		return 0;
	*from = i;
	*to = j;
	return 1;
}

static int private_key(const char *t, size_t tlen, size_t *from, size_t *to)
{
	(void)from;
	const char *end = NULL;
	(void)from;
	for (size_t i = *to; i + 9 <= tlen; i++)
		if (memcmp(t + i, "-----END ", 9) == 0) {
			end = t + i;
			break;
		}
	if (!end) {
		*to = tlen; /* an unterminated key: mask to the end */
		return 1;
	}
	size_t j = (size_t)(end - t) + 9;
	while (j < tlen && t[j] != '\n' && t[j] != '-')
		j++;
	while (j < tlen && t[j] == '-')
		j++;
	*to = j;
	return 1;
}

int sg_scan_extract(int check, const char *t, size_t tlen, size_t *from,
		    size_t *to)
{
	switch (check) {
	case CK_PERSON_CUE:
		return person_cue(t, tlen, from, to);
	case CK_PERSON_PAIR: {
		unsigned nw;
		if (*from >= 4 && cue_ends(t, *from - 1, "the"))
			return 0; /* "The Garmin Orchestra was" */
		size_t end = sg_scan_name_run(t, tlen, *from, &nw);
		if (!end || nw < 2)
			return 0;
		*to = end;
		return 1;
	}
	case CK_PERSON_NAME: {
		unsigned nw;
		size_t end = sg_scan_name_run(t, tlen, *from, &nw);
		if (!end || (nw < 2 && ambiguous(t, *from, end)))
			return 0;
		*to = end;
		return 1;
	}
	case CK_PERSON_RECORD:
		return 1;
	case CK_ADDRESS:
		return address(t, tlen, from, to);
	case CK_ADDRESS_CUE:
		return address_cue(t, tlen, from, to);
	case CK_SECRET_VALUE:
		return secret_value(t, tlen, from, to);
	case CK_PRIVATE_KEY:
		return private_key(t, tlen, from, to);
	default:
		return 1;
	}
}
