/*
 * buf.h -- a growable byte buffer.
 *
 * Owns: struct buf, the one string builder used everywhere (response bodies,
 * SQL building, hashes).  The buffer is always NUL-terminated so its data can
 * be used as a C string.  Allocation failure aborts: Kefu treats out-of-memory
 * as fatal, like Redis, because every caller would otherwise need a path that
 * is never tested.
 */
#ifndef KEFU_UTIL_BUF_H
#define KEFU_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Append s as a JSON string literal, quotes included. */
void buf_json_str(struct buf *b, const char *s);
void buf_reset(struct buf *b); /* len = 0, memory kept */
void buf_free(struct buf *b);
/* Hand the memory to the caller (free() it); b becomes empty. */
char *buf_steal(struct buf *b);

/* Allocation helpers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
