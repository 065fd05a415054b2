/* tags.c -- see tags.h. */
#include "tags.h"

#include <string.h>

int tags_check(const json_t *tags, struct err *e)
{
	size_t i;
	const json_t *t;
	if (!json_is_array(tags) || json_array_size(tags) > TAGS_MAX) {
		ERR_INVALID(e, "tags must be an array of at most %d strings", TAGS_MAX);
		return -1;
	}
	json_array_foreach(tags, i, t) {
		size_t n = json_is_string(t) ? json_string_length(t) : 0;
		if (n == 0 || n > TAG_MAX_BYTES || strlen(json_string_value(t)) != n ||
		    strchr(json_string_value(t), ',')) {
			ERR_INVALID(e, "each tag must be 1-%d bytes without commas", TAG_MAX_BYTES);
			return -1;
		}
	}
	return 0;
}
