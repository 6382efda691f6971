/*
 * alloc.h - the one allocator family all of sopgate uses.
 *
 * Every heap byte goes through sg_malloc/sg_calloc/sg_realloc/sg_free so that
 * /metrics can report live bytes, and so tests can make the Nth allocation
 * fail (sg_alloc_fail_at) to walk every out-of-memory path. These return NULL
 * on failure, like malloc; callers report -SG_ENOMEM.
 */
#ifndef SG_CORE_ALLOC_H
#define SG_CORE_ALLOC_H

#include <stddef.h>

void *sg_malloc(size_t size);
void *sg_calloc(size_t n, size_t size);
/* May move the block: the old pointer is invalid after a successful call and
 * still valid (and still owned by the caller) after a failed one. */
void *sg_realloc(void *ptr, size_t size);
void sg_free(void *ptr);
/* A copy of s (or of its first n bytes, NUL-terminated); the caller frees it. */
char *sg_strdup(const char *s);
char *sg_strndup(const char *s, size_t n);

/* Live bytes allocated through this family (approximate under threads). */
size_t sg_alloc_live_bytes(void);

/* Test hook: the nth allocation from now fails (1 = the next one); 0 turns
 * failure injection off. Returns how many allocations were made since the
 * last call, so a test can loop n = 1..count. */
unsigned long sg_alloc_fail_at(unsigned long n);

#endif
