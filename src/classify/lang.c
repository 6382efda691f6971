/*
 * lang.c - language identification with libexttextcat, restricted to the
 * languages sopgate supports, on the first SG_LANGID_BYTES of a text, with a
 * confidence from the candidates' score gap and the text length.
 */
#include "classify/classify_int.h"

#include <libexttextcat/textcat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/limits.h"
#include "core/banned.h"

#define LANGID_DIR "/usr/share/libexttextcat/"
#define MAX_CANDS 16

/* The candidate set, most frequent in support traffic first (libexttextcat
 * prunes faster when the likely languages come first). */
static const char *const langs[] = {"en", "es", "de", "fr", "pt", "it", "nl"};

/* English fast path. libexttextcat costs more than the rest of the
 * classification together, and most support traffic is English: an ASCII
 * text of at least 4 words where at least 30 % are English function words
 * and none is a function word of the other six languages is English. */
static const char *const en_words[] = {
	"the", "to", "my", "i", "you", "is", "it", "and", "for", "of", "a", "in",
	"on", "can", "how", "what", "please", "me", "do", "have", "with", "this",
	"that", "was", "not", "be", "are", "your", "an", "at", "where", "why",
	"when", "would", "could", "should", "will", "want", "need", "help", "get",
	"from", "but", "if", "about", "there", "some", "any", "i'm", "don't",
	"can't", "it's", "we", "our", "they", "been", "has", "had", "did", "does",
	"am", "or", "so", "just", "know", "like", "tell", "see", "check", "which",
};
static const char *const other_words[] = {
	"der", "und", "ich", "nicht", "ist", "das", "ein", "eine", "mein", "meine",
	"el", "la", "que", "y", "mi", "por", "los", "las", "es", "con", "para",
	"le", "les", "je", "et", "est", "pas", "une", "mon", "ma", "pour", "avec",
	"eu", "meu", "minha", "o", "os", "um", "uma", "com", "il", "che", "di",
	"non", "mio", "mia", "per", "het", "een", "ik", "niet", "mijn", "zijn",
	"de", "en", "te", "van", "voor", "und", "zu", "se", "del", "al", "du",
};

static int in_list(const char *w, size_t n, const char *const *list, size_t count)
{
	/* first letter before anything else: most list words differ there */
	for (size_t i = 0; i < count; i++) {
		const char *x = list[i];
		if (n && x[0] == w[0] && strncmp(x, w, n) == 0 && x[n] == '\0')
			return 1;
	}
	return 0;
}

static int fast_english(const char *text, size_t len)
{
	struct sg_token tok[64];
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)text[i] >= 0x80)
			return 0;
	}
	size_t n = sg_text_tokens(text, len, tok, 64), en = 0;
	if (n < 4)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *w = text + tok[i].off;
		size_t wl = tok[i].len;
		char low[16];
		if (wl >= sizeof(low))
			continue;
		for (size_t j = 0; j < wl; j++)
			low[j] = (char)(w[j] >= 'A' && w[j] <= 'Z' ? w[j] + 32 : w[j]);
		if (in_list(low, wl, other_words, sizeof(other_words) / sizeof(other_words[0])))
			return 0;
		en += (size_t)in_list(low, wl, en_words, sizeof(en_words) / sizeof(en_words[0]));
	}
	return en * 10 >= n * 3;
}

void sg_classify_langid_release(struct sg_classify_scratch *s)
{
	if (s->cands)
		textcat_ReleaseClassifyFullOutput(s->textcat, s->cands);
	if (s->textcat)
		textcat_Done(s->textcat);
	s->cands = NULL;
	s->textcat = NULL;
}

/* libexttextcat reads its list of fingerprints from a file: write the
 * restricted list to a private temporary file, load, remove it. */
static int langid_open(struct sg_classify_scratch *s, struct sg_error *err)
{
	const char *tmp = getenv("TMPDIR");
	char path[512];
	snprintf(path, sizeof(path), "%s/sopgate-langid.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0) {
		s->textcat_failed = 1;
		return sg_error_set(err, SG_EIO, "language id: unable to create '%s'", path);
	}
	FILE *fp = fdopen(fd, "w");
	if (!fp) {
		close(fd);
		unlink(path);
		s->textcat_failed = 1;
		return sg_error_set(err, SG_EIO, "language id: unable to write '%s'", path);
	}
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++)
		fprintf(fp, "%s.lm %s\n", langs[i], langs[i]);
	int bad = fclose(fp) != 0;
	if (!bad)
		s->textcat = special_textcat_Init(path, LANGID_DIR);
	unlink(path);
	if (bad || !s->textcat) {
		s->textcat_failed = 1;
		return sg_error_set(err, SG_EIO, "language id: unable to load the language models in '%s'",
				    LANGID_DIR);
	}
	textcat_SetProperty(s->textcat, TCPROP_UTF8AWARE, TC_TRUE);
	textcat_SetProperty(s->textcat, TCPROP_MINIMUM_DOCUMENT_SIZE, 8);
	s->cands = textcat_GetClassifyFullOutput(s->textcat);
	if (!s->cands) {
		sg_classify_langid_release(s);
		s->textcat_failed = 1;
		return sg_error_set(err, SG_ENOMEM, "language id: out of memory");
	}
	return 0;
}

int sg_classify_language(struct sg_classify_scratch *s, const char *text,
			 size_t len, char lang[8], double *confidence,
			 struct sg_error *err)
{
	snprintf(lang, 8, "und");
	*confidence = 0;
	/* cut at a character boundary */
	size_t n = len < SG_LANGID_BYTES ? len : SG_LANGID_BYTES;
	while (n < len && n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;
	/* letters only decide: count them for the length factor */
	size_t letters = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		letters += (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0xc0;
	}
	if (letters < 3)
		return 0;
	/* Short texts give thin n-gram profiles: scale by letters up to 60. */
	double lf = letters >= 60 ? 1.0 : 0.4 + 0.6 * (double)letters / 60.0;
	if (fast_english(text, n)) {
		snprintf(lang, 8, "en");
		*confidence = 0.95 * lf;
		return 0;
	}
	if (!s->textcat) {
		if (s->textcat_failed)
			return sg_error_set(err, SG_EIO, "language id: models unavailable in '%s'", LANGID_DIR);
		int rc = langid_open(s, err);
		if (rc < 0)
			return rc;
	}
	candidate_t *cand = s->cands;
	int k = textcat_ClassifyFull(s->textcat, text, n, cand);
	if (k <= 0)
		return 0;
	snprintf(lang, 8, "%s", cand[0].name);
	/* One candidate: the others fell outside libexttextcat's window. Several: the
	 * gap to the runner-up, scaled so that a 5 % gap counts as clear. */
	double base;
	if (k == 1) {
		base = 0.95;
	} else {
		double s1 = cand[0].score, s2 = cand[1].score;
		double gap = s1 > 0 ? (s2 - s1) / (0.05 * s1) : 0;
		if (gap > 1)
			gap = 1;
		base = 0.45 + 0.45 * gap;
	}
	*confidence = base * lf;
	return 0;
}
