/*
 * kb.h - the knowledge base: Markdown help-center articles indexed in
 * SQLite FTS5 and searched with bm25.
 *
 * An article is a Markdown file that starts with a front matter block:
 *
 *   ---
 *   id: account/password-reset
 *   title: Reset your password
 *   url: https://help.acme.example/account/password-reset
 *   tags: account, password, login
 *   language: en
 *   approved: true
 *   ---
 *
 * The body is split into passages at headings and paragraphs (each at most
 * SG_MAX_KB_PASSAGE_BYTES). Indexing is incremental: each article's SHA-256
 * is stored, unchanged files are skipped and files that disappeared are
 * removed. Only approved articles are used for drafting and for the list of
 * approved link sources.
 */
#ifndef SG_KB_KB_H
#define SG_KB_KB_H

#include <stddef.h>

#include "core/error.h"

struct sg_kb;

/* A parsed article (sg_kb_article_parse). */
struct sg_kb_article {
	char *id, *title, *url, *tags, *language;
	int approved;
	char **passages;   /* passage text, markdown markers stripped */
	char **headings;   /* heading each passage sits under ("" if none) */
	size_t npassages;
};

struct sg_kb_hit {
	char *article_id, *title, *url, *heading, *text;
	double score;      /* -bm25: higher is better */
};

struct sg_kb_hits {
	struct sg_kb_hit *v;
	size_t n;
};

struct sg_kb_stats {
	unsigned added, updated, unchanged, removed, passages;
};

/* Search flags. */
#define SG_KB_INCLUDE_UNAPPROVED 1u

/* Opens (creating the schema if needed) the index at path. *out is freed
 * with sg_kb_close. */
int sg_kb_open(struct sg_kb **out, const char *path, struct sg_error *err);
void sg_kb_close(struct sg_kb *kb);

/* Indexes every *.md file under dir (recursively) in one transaction.
 * Errors in an article name the file and line and leave the index as it
 * was. stats may be NULL. */
int sg_kb_index(struct sg_kb *kb, const char *dir, struct sg_kb_stats *stats,
		struct sg_error *err);

/* Top-k passages for free text. The text never becomes FTS5 syntax: it is
 * cut into word tokens, each searched as a quoted string. A query with no
 * searchable word returns no hits. *out is released with sg_kb_hits_release. */
int sg_kb_search(struct sg_kb *kb, const char *text, size_t k, unsigned flags,
		 struct sg_kb_hits *out, struct sg_error *err);
void sg_kb_hits_release(struct sg_kb_hits *h);

/* Builds the FTS5 MATCH expression for text: `"tok1" OR "tok2" ...` of at
 * most SG_MAX_KB_QUERY_TOKENS distinct lower-cased words, stop words
 * dropped. *out is "" when nothing is searchable; freed with sg_free. */
int sg_kb_query_build(char **out, const char *text, struct sg_error *err);

/* The word tokens of text the way the query builder sees them (lower-cased,
 * stop words dropped, in order, duplicates kept). *out freed with
 * sg_kb_tokens_free. */
int sg_kb_tokens(char ***out, size_t *n, const char *text, struct sg_error *err);
void sg_kb_tokens_free(char **v, size_t n);
/* 1 when the lower-cased word is a stop word. */
int sg_kb_stopword(const char *w, size_t len);

/* The whole text (title + passages) of an approved article, or
 * -SG_ENOTFOUND. *out freed with sg_free. */
int sg_kb_article_text(struct sg_kb *kb, const char *id, char **out,
		       struct sg_error *err);

/* URLs of the approved articles. *out is an array of n strings freed with
 * sg_kb_tokens_free. */
int sg_kb_approved_urls(char ***out, size_t *n, struct sg_kb *kb,
			struct sg_error *err);

/* Parses one article (file names errors). *out released with
 * sg_kb_article_release. */
int sg_kb_article_parse(struct sg_kb_article *out, const char *file,
			const char *text, size_t len, struct sg_error *err);
void sg_kb_article_release(struct sg_kb_article *a);

#endif
