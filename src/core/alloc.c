/*
 * alloc.c - counting allocator with failure injection for tests.
 *
 * Each block carries a 16-byte header holding its size, which keeps user
 * memory 16-byte aligned and lets sg_free subtract what it releases.
 */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

#define HDR 16

static atomic_size_t live;
static atomic_ulong counter;     /* allocations since the last fail_at call */
static atomic_ulong fail_target; /* 0 = never fail */

static int should_fail(void)
{
	unsigned long n = atomic_fetch_add(&counter, 1) + 1;
	unsigned long t = atomic_load(&fail_target);
	return t && n == t;
}

void *sg_malloc(size_t size)
{
	if (size > SIZE_MAX - HDR || should_fail())
		return NULL;
	unsigned char *p = malloc(size + HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	atomic_fetch_add(&live, size);
	return p + HDR;
}

void *sg_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = sg_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *sg_realloc(void *ptr, size_t size)
{
	if (!ptr)
		return sg_malloc(size);
	if (size > SIZE_MAX - HDR || should_fail())
		return NULL;
	unsigned char *base = (unsigned char *)ptr - HDR;
	size_t old;
	memcpy(&old, base, sizeof(old));
	unsigned char *p = realloc(base, size + HDR);
	if (!p)
		return NULL;
	memcpy(p, &size, sizeof(size));
	atomic_fetch_sub(&live, old);
	atomic_fetch_add(&live, size);
	return p + HDR;
}

void sg_free(void *ptr)
{
	if (!ptr)
		return;
	unsigned char *base = (unsigned char *)ptr - HDR;
	size_t old;
	memcpy(&old, base, sizeof(old));
	atomic_fetch_sub(&live, old);
	free(base);
}

char *sg_strndup(const char *s, size_t n)
{
	char *p = sg_malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *sg_strdup(const char *s)
{
	return sg_strndup(s, strlen(s));
}

size_t sg_alloc_live_bytes(void)
{
	return atomic_load(&live);
}

unsigned long sg_alloc_fail_at(unsigned long n)
{
	unsigned long made = atomic_exchange(&counter, 0);
	atomic_store(&fail_target, n);
	return made;
}
