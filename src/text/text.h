/*
 * text.h - UTF-8 validation and normalization for matching.
 *
 * Every guardrail and classifier looks at normalized text: valid UTF-8, NFKC
 * (full-width digits become ASCII digits, ligatures split), optionally
 * case-folded, with zero-width, bidi-control and other invisible characters
 * removed, and Unicode "tag" characters (U+E0020..U+E007E, used to smuggle
 * hidden ASCII) turned into the ASCII they encode. The normalized text keeps
 * a map from each of its bytes back to the original bytes, so a finding in
 * normalized text is reported, and masked, at its original offsets.
 */
#ifndef SG_TEXT_TEXT_H
#define SG_TEXT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* 0 when s[0..len) is valid UTF-8 (no overlongs, surrogates or code points
 * past U+10FFFF); otherwise -SG_EUTF8 with *bad_offset set to the byte
 * offset of the first invalid sequence. */
int sg_text_validate(const char *s, size_t len, size_t *bad_offset);

enum sg_norm_flags {
	SG_NORM_CASEFOLD = 1 << 0, /* Unicode case folding ("Straße" -> "strasse") */
};

/* Reusable normalization result: buffers grow as needed and are kept
 * between calls, so a loop over many texts allocates only at its start. */
struct sg_text_norm {
	char *text;       /* normalized UTF-8, NUL-terminated */
	size_t len;       /* bytes in text */
	uint32_t *start;  /* start[i]: original offset where output byte i came from */
	uint32_t *end;    /* end[i]: original end offset of that character */
	size_t orig_len;  /* length of the original text */
	unsigned removed; /* invisible characters removed */
	unsigned tags;    /* tag characters decoded to ASCII */
	size_t cap;       /* capacity of text/start/end, in bytes */
	int32_t *seg;     /* scratch: code points of the segment in progress */
	int identity;     /* 1: the text was pure ASCII, output byte i is input
			   * byte i (case-folded if asked) and start/end are NOT
			   * filled; sg_text_norm_orig handles both cases */
	size_t segcap;
};

void sg_text_norm_init(struct sg_text_norm *n);
void sg_text_norm_release(struct sg_text_norm *n);

/* Normalizes s[0..len) into n (flags from enum sg_norm_flags). Invalid UTF-8
 * is an error naming the byte offset; texts over SG_MAX_TEXT_BYTES are
 * refused. Returns 0, -SG_EUTF8, -SG_ELIMIT or -SG_ENOMEM. */
int sg_text_normalize(struct sg_text_norm *n, const char *s, size_t len,
		      unsigned flags, struct sg_error *err);

/* Maps a normalized byte range [nstart, nend) back to the original range it
 * came from; nend > nstart. */
void sg_text_norm_orig(const struct sg_text_norm *n, size_t nstart, size_t nend,
		       size_t *ostart, size_t *oend);

/* 1 for code points removed before matching (zero-width, bidi controls,
 * soft hyphen, variation selectors, BOM...). */
int sg_text_is_invisible(int32_t cp);

/* A word token: bytes [off, off + len) of the text it was cut from. */
struct sg_token {
	uint32_t off, len;
};

/* Cuts s[0..len) (normalized UTF-8) into word tokens: maximal runs of
 * letters, digits and marks, an apostrophe between two word characters
 * kept ("don't"). Writes at most `max` tokens to out and returns how many;
 * tokens past `max` are dropped. */
size_t sg_text_tokens(const char *s, size_t len, struct sg_token *out, size_t max);

#endif
