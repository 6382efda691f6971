/*
 * buf.h - a growable byte buffer (heap, through sg_malloc).
 *
 * Invariants: once initialised `data` is never NULL and always NUL-terminated
 * (SG_BUF_INIT points at a shared empty string until the first append). A
 * failed append sets `oom` and leaves the contents as they were; check it
 * once at the end instead of after every call. sg_buf_detach is the only way
 * to take the bytes.
 */
#ifndef SG_CORE_BUF_H
#define SG_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

extern char sg_buf_empty[];

struct sg_buf {
	char *data;
	size_t len, cap; /* cap 0: data is sg_buf_empty, not owned */
	int oom;         /* set when an append could not allocate */
};

#define SG_BUF_INIT {sg_buf_empty, 0, 0, 0}

void sg_buf_init(struct sg_buf *b);
int sg_buf_grow(struct sg_buf *b, size_t extra); /* 0 or -SG_ENOMEM */
void sg_buf_add(struct sg_buf *b, const void *data, size_t len);
void sg_buf_adds(struct sg_buf *b, const char *s);
void sg_buf_addc(struct sg_buf *b, char c);
void sg_buf_addf(struct sg_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sg_buf_vaddf(struct sg_buf *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included. */
void sg_buf_add_json_str(struct sg_buf *b, const char *s, size_t len);
void sg_buf_reset(struct sg_buf *b);   /* len = 0, keeps memory */
void sg_buf_release(struct sg_buf *b); /* frees, back to SG_BUF_INIT */
/* Returns the heap string (caller frees with sg_free) and resets b; an
 * empty buffer still yields an allocated "" (NULL only on failure). */
char *sg_buf_detach(struct sg_buf *b, size_t *len_out);

#endif
