/*
 * draft_int.h - shared only by the draft module's files.
 */
#ifndef SG_DRAFT_DRAFT_INT_H
#define SG_DRAFT_DRAFT_INT_H

#include <stddef.h>

struct sg_sent {
	const char *s; /* into the text; not NUL-terminated */
	size_t n;
};

/* Splits text into sentences (at ". ", "? ", "! " and line ends), trimmed.
 * *out freed with sg_free; -SG_ENOMEM on failure. */
int sg_draft_sentences(struct sg_sent **out, size_t *n, const char *text);

/* 1 when two lower-cased word tokens are the same word (equal, or one a
 * prefix of the other of at least 4 bytes: "track"/"tracking"). */
int sg_draft_same_word(const char *a, const char *b);

/* Share of the query's distinct words a passage must contain (title,
 * heading or text) besides clearing the bm25 threshold: one shared rare
 * word ("instructions") is not an answer. */
#define SG_DRAFT_MIN_COVERAGE 0.3

struct sg_kb_hits;
/* 1 when the best hit answers query: score >= min_score and it contains
 * at least SG_DRAFT_MIN_COVERAGE of the query's words (two or more, unless
 * the query has one word). */
int sg_draft_relevant(const struct sg_kb_hits *hits, const char *query,
		      double min_score);

#endif
