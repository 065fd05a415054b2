/* fixture.c -- see fixture.h. */
#include "fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/hex.h"

char *fixture_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t k;
	while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, k);
	fclose(f);
	if (!b.data)
		buf_append(&b, "", 0);
	if (len)
		*len = b.len;
	return buf_steal(&b);
}

int fixture_hexval(int c)
{
	return hex_value(c);
}

size_t fixture_unescape1(const char *s, const char *end, const char *escapes,
			 char *out)
{
	static const char from[] = "rntf0\\", to[] = "\r\n\t\f\0\\";
	if (s + 1 >= end)
		return 0;
	if (s[1] == 'x') {
		if (s + 3 < end && fixture_hexval(s[2]) >= 0 && fixture_hexval(s[3]) >= 0) {
			*out = (char)(fixture_hexval(s[2]) * 16 + fixture_hexval(s[3]));
			return 4;
		}
		return 0;
	}
	const char *k = s[1] ? strchr(from, s[1]) : NULL;
	if (!k || !strchr(escapes, s[1]))
		return 0;
	*out = to[k - from];
	return 2;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fixture_run_dir(const char *subdir, const char *ext,
		    int (*run)(const char *dir, const char *name), int *failed)
{
	const char *src = getenv("KEFU_SOURCE_DIR");
	char dir[1024];
	snprintf(dir, sizeof dir, "%s/%s", src ? src : ".", subdir);
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	char **names = NULL;
	size_t nn = 0, cap = 0, el = strlen(ext);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l <= el || strcmp(de->d_name + l - el, ext) != 0)
			continue;
		if (nn == cap)
			names = xrealloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
		names[nn++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof *names, cmp_names);
	*failed = 0;
	for (size_t i = 0; i < nn; i++) {
		*failed += !run(dir, names[i]);
		free(names[i]);
	}
	free(names);
	return (int)nn;
}
