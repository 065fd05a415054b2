/*
 * fixture.h -- reading the data-driven test fixtures (tests/fixtures/...):
 * the pieces every fixture runner needs, written once.
 */
#ifndef KEFU_TEST_FIXTURE_H
#define KEFU_TEST_FIXTURE_H

#include <stddef.h>

/* The whole file, NUL-terminated (it may hold NULs itself; *len, when len
 * is not NULL, is its size); NULL when it cannot be opened.  free() it. */
char *fixture_slurp(const char *path, size_t *len);
/* A hex digit's value, or -1. */
int fixture_hexval(int c);
/* s points at a backslash: decode one escape into *out and return its
 * length, or 0 when it is not an escape (the backslash is literal).
 * `escapes` lists the one-letter escapes the format knows, from "rntf0\\";
 * \xHH is always one. */
size_t fixture_unescape1(const char *s, const char *end, const char *escapes,
			 char *out);

/* Run `run(dir, name)` on every file of $KEFU_SOURCE_DIR/<subdir> whose name
 * ends in `ext`, in name order (a fixture folder: one case a file).
 * Returns the number of cases, or -1 when the folder cannot be read;
 * *failed counts the runs that returned 0. */
int fixture_run_dir(const char *subdir, const char *ext,
		    int (*run)(const char *dir, const char *name), int *failed);

#endif
