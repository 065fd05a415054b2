/* imap_reply.c -- see imap_reply.h. */
#include "imap_reply.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

#define UID_MAX 4294967295ULL

/* The next line of text[*pos..len) into [*s, *e) (line end excluded). */
static int next_line(const char *text, size_t len, size_t *pos, const char **s,
		     const char **e)
{
	if (*pos >= len)
		return 0;
	const char *p = text + *pos, *end = text + len;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*s = p;
	*e = nl ? nl : end;
	*pos = (size_t)((nl ? nl + 1 : end) - text);
	if (*e > *s && (*e)[-1] == '\r')
		(*e)--;
	return 1;
}

/* A decimal number at *p (no sign, at most 10 digits, <= UID_MAX). */
static int number(const char **p, const char *e, uint64_t *out)
{
	const char *q = *p;
	uint64_t v = 0;
	int digits = 0;
	while (q < e && *q >= '0' && *q <= '9' && digits < 11) {
		v = v * 10 + (uint64_t)(*q - '0');
		q++;
		digits++;
	}
	if (digits == 0 || digits > 10 || v > UID_MAX)
		return 0;
	*p = q;
	*out = v;
	return 1;
}

/* "name n" inside the parenthesised STATUS list. */
static int status_item(const char *s, const char *e, const char *name, uint64_t *out)
{
	size_t n = strlen(name);
	for (const char *p = s; p + n < e; p++) {
		if ((p == s || p[-1] == '(' || p[-1] == ' ') && strncasecmp(p, name, n) == 0 &&
		    p[n] == ' ') {
			const char *q = p + n + 1;
			if (number(&q, e, out))
				return 1;
		}
	}
	return 0;
}

int imap_parse_status(const char *text, size_t len, uint64_t *uidvalidity,
		      uint64_t *uidnext)
{
	*uidvalidity = *uidnext = 0;
	size_t pos = 0;
	const char *s, *e;
	while (next_line(text, len, &pos, &s, &e)) {
		if (e - s < 9 || strncasecmp(s, "* STATUS ", 9) != 0)
			continue;
		const char *paren = memchr(s, '(', (size_t)(e - s));
		if (!paren)
			continue;
		status_item(paren, e, "UIDVALIDITY", uidvalidity);
		status_item(paren, e, "UIDNEXT", uidnext);
	}
	return *uidvalidity && *uidnext;
}

static int cmp_uid(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int imap_parse_search(const char *text, size_t len, uint64_t after, int max,
		      uint64_t **uids)
{
	*uids = NULL;
	size_t n = 0, cap = 0, pos = 0;
	uint64_t *v = NULL;
	const char *s, *e;
	while (next_line(text, len, &pos, &s, &e)) {
		if (e - s < 8 || strncasecmp(s, "* SEARCH", 8) != 0)
			continue;
		for (const char *p = s + 8; p < e;) {
			uint64_t u;
			if (*p == ' ') {
				p++;
			} else if (number(&p, e, &u) && (p == e || *p == ' ')) {
				if (u > after) {
					if (n == cap) {
						cap = cap ? cap * 2 : 64;
						v = xrealloc(v, cap * sizeof *v);
					}
					v[n++] = u;
				}
			} else {
				while (p < e && *p != ' ')
					p++; /* a word we do not know, e.g. (MODSEQ ...) */
			}
		}
	}
	if (n == 0) {
		free(v);
		return 0;
	}
	qsort(v, n, sizeof *v, cmp_uid);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[k - 1])
			v[k++] = v[i];
	if (max > 0 && k > (size_t)max)
		k = (size_t)max;
	*uids = v;
	return (int)k;
}
