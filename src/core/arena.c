/*
 * arena.c - pages of bump-allocated memory.
 */
#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/banned.h"

struct sg_arena_page {
	struct sg_arena_page *next;
	size_t size, off;
	_Alignas(16) unsigned char data[];
};

void sg_arena_init(struct sg_arena *a, size_t page_size)
{
	a->pages = NULL;
	a->page_size = page_size ? page_size : 16384;
	a->used = 0;
}

static __attribute__((unused)) struct sg_arena_page *new_page(struct sg_arena *a, size_t need)
{
	size_t size = a->page_size ? a->page_size : 16384;
	if (need > size)
		size = need;
	struct sg_arena_page *p = sg_malloc(sizeof(*p) + size);
	if (!p)
		return NULL;
	p->size = size;
	p->off = 0;
	p->next = a->pages;
	a->pages = p;
	return p;
}

void *sg_arena_alloc(struct sg_arena *a, size_t size)
{
	if (size > SIZE_MAX - 64)
		return NULL;
	size_t need = (size + 15) & ~(size_t)15;
	if (!need)
		need = 16;
#ifdef SG_DEBUG_ARENA
	struct sg_arena_page *p = sg_malloc(sizeof(*p) + need);
	if (!p)
		return NULL;
	p->size = p->off = need;
	p->next = a->pages;
	a->pages = p;
	a->used += need;
	return p->data;
#else
	struct sg_arena_page *p = a->pages;
	if (!p || p->size - p->off < need) {
		p = new_page(a, need);
		if (!p)
			return NULL;
	}
	void *r = p->data + p->off;
	p->off += need;
	a->used += need;
	return r;
#endif
}

void *sg_arena_calloc(struct sg_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = sg_arena_alloc(a, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

char *sg_arena_strndup(struct sg_arena *a, const char *s, size_t n)
{
	char *p = sg_arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *sg_arena_strdup(struct sg_arena *a, const char *s)
{
	return sg_arena_strndup(a, s, strlen(s));
}

char *sg_arena_printf(struct sg_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = sg_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void sg_arena_release(struct sg_arena *a)
{
	struct sg_arena_page *p = a->pages;
	while (p) {
		struct sg_arena_page *next = p->next;
		sg_free(p);
		p = next;
	}
	a->pages = NULL;
	a->used = 0;
}

void sg_arena_reset(struct sg_arena *a)
{
#ifdef SG_DEBUG_ARENA
	sg_arena_release(a);
#else
	struct sg_arena_page *keep = NULL, *p = a->pages;
	while (p) {
		struct sg_arena_page *next = p->next;
		if (!next) {
			keep = p; /* the oldest page: the default size */
			break;
		}
		sg_free(p);
		p = next;
	}
	a->pages = keep;
	if (keep) {
		keep->off = 0;
		keep->next = NULL;
	}
	a->used = 0;
#endif
}
