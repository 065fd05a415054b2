/*
 * field.h -- custom ticket fields an admin defines.
 *
 * Owns: ticket_fields (key, label, type text/number/date/select/checkbox,
 * options for select, required, a pattern for text) and the validation of a
 * ticket's field values against them.  Values live on the ticket as one JSON
 * object keyed by field key.
 */
#ifndef KEFU_CORE_FIELD_H
#define KEFU_CORE_FIELD_H

#include <jansson.h>

#include "../store/db.h"

struct field_input {
	const char *key, *label, *type, *pattern;
	const json_t *options; /* array of strings, for select */
	int required;          /* -1 unchanged */
};

int field_create(const struct scope *s, const struct field_input *in,
		 int64_t *id, struct err *e);
int field_delete(const struct scope *s, int64_t id, struct err *e);
int field_list(const struct scope *s, json_t *items, struct err *e);
/* Check `values` (an object) against the definitions and merge it into
 * `current` (the ticket's object, modified in place); a null value clears a
 * field.  With `creating`, required fields must end up set.  400 naming the
 * field otherwise. */
int field_apply(const struct scope *s, json_t *current, const json_t *values,
		int creating, struct err *e);

#endif
