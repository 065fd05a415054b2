/*
 * err.h -- errors as values.
 *
 * Owns: struct err, filled by any function that can fail and returns a
 * status.  `code` is the machine-readable error code that ends up in the
 * JSON error body ("not_found", "conflict", ...), `status` the HTTP status
 * that code maps to, `msg` a human-readable sentence.  Layers below the API
 * set them; the API layer turns them into a reply without re-deciding.
 */
#ifndef KEFU_UTIL_ERR_H
#define KEFU_UTIL_ERR_H

struct err {
	int status;    /* HTTP status this error maps to (0: none set) */
	char code[40]; /* e.g. "not_found" */
	char msg[256];
};

void err_set(struct err *e, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void err_clear(struct err *e);

/* Convenience for the common kinds. */
#define ERR_INTERNAL(e, ...) err_set((e), 500, "internal", __VA_ARGS__)
#define ERR_INVALID(e, ...) err_set((e), 400, "invalid", __VA_ARGS__)
#define ERR_NOT_FOUND(e, ...) err_set((e), 404, "not_found", __VA_ARGS__)
#define ERR_CONFLICT(e, ...) err_set((e), 409, "conflict", __VA_ARGS__)
#define ERR_UNPROCESSABLE(e, ...) err_set((e), 422, "unprocessable", __VA_ARGS__)

#endif
