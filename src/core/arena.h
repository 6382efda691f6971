/*
 * arena.h - bump allocation freed all at once.
 *
 * A loaded policy lives in one arena (freed by sg_policy_free); each ticket's
 * pipeline run gets its own, dropped once the decision is written. Built with
 * -DSG_DEBUG_ARENA (make asan) every item is a separate heap block, so the
 * sanitizer sees each one.
 */
#ifndef SG_CORE_ARENA_H
#define SG_CORE_ARENA_H

#include <stddef.h>

struct sg_arena_page;

struct sg_arena {
	struct sg_arena_page *pages; /* newest first */
	size_t page_size;            /* default size of a new page */
	size_t used;                 /* bytes handed out, for statistics */
};

#define SG_ARENA_INIT {NULL, 0, 0}

void sg_arena_init(struct sg_arena *a, size_t page_size); /* 0 = 16 KiB */
/* Returns 16-byte aligned, uninitialised memory owned by the arena, or NULL. */
void *sg_arena_alloc(struct sg_arena *a, size_t size);
void *sg_arena_calloc(struct sg_arena *a, size_t n, size_t size);
char *sg_arena_strndup(struct sg_arena *a, const char *s, size_t n);
char *sg_arena_strdup(struct sg_arena *a, const char *s);
/* printf into arena memory; NULL on failure. */
char *sg_arena_printf(struct sg_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Frees every page; the arena is empty and reusable afterwards. */
void sg_arena_release(struct sg_arena *a);
/* Keeps the first page for reuse, drops the rest: cheap per-ticket reset. */
void sg_arena_reset(struct sg_arena *a);

#endif
