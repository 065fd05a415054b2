/*
 * input.h -- reading fields of a JSON request body with type checks.
 *
 * Owns: the rules for request bodies: unknown fields are refused (a typo
 * must not be silently ignored), each field has one JSON type, and a bad
 * field yields 400 "invalid" naming the field.
 */
#ifndef KEFU_API_INPUT_H
#define KEFU_API_INPUT_H

#include <jansson.h>
#include <stdint.h>

#include "../util/err.h"

/* Refuse any key of o not in the NULL-terminated list. */
int in_keys(const json_t *o, const char *const *allowed, struct err *e);
/* String field; *out NULL when absent.  required: absent is an error. */
int in_str(const json_t *o, const char *key, int required, const char **out,
	   struct err *e);
/* Integer field; *out unchanged when absent. */
int in_int(const json_t *o, const char *key, int required, int64_t *out,
	   struct err *e);
/* Boolean field; *out = -1 when absent, else 0/1. */
int in_bool(const json_t *o, const char *key, int *out, struct err *e);
/* Array field; *out NULL when absent. */
int in_array(const json_t *o, const char *key, int required,
	     const json_t **out, struct err *e);

#endif
