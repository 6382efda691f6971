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

#endif
