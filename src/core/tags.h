/*
 * tags.h -- the rule for tag lists, on tickets and customers alike: an
 * array of at most 50 strings of 1-50 bytes, no NUL, no comma (commas
 * separate tags in filters and exports).
 */
#ifndef KEFU_CORE_TAGS_H
#define KEFU_CORE_TAGS_H

#include <jansson.h>

#include "../util/err.h"

#define TAGS_MAX 50
#define TAG_MAX_BYTES 50

/* 0, or -1 with a 400 error. */
int tags_check(const json_t *tags, struct err *e);

#endif
