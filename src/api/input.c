/* input.c -- see input.h. */
#include "input.h"

#include <string.h>

int in_keys(const json_t *o, const char *const *allowed, struct err *e)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)o, key, v) {
		const char *const *a = allowed;
		while (*a && strcmp(*a, key) != 0)
			a++;
		if (!*a) {
			ERR_INVALID(e, "unknown field \"%.60s\"", key);
			return -1;
		}
	}
	return 0;
}

/* The field, or NULL when absent; an error when required and absent. */
static const json_t *field(const json_t *o, const char *key, int required,
			   struct err *e, int *bad)
{
	const json_t *v = json_object_get(o, key);
	*bad = 0;
	if (!v && required) {
		ERR_INVALID(e, "field \"%s\" is required", key);
		*bad = 1;
	}
	return v;
}

int in_str(const json_t *o, const char *key, int required, const char **out,
	   struct err *e)
{
	int bad;
	const json_t *v = field(o, key, required, e, &bad);
	*out = NULL;
	if (bad)
		return -1;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		ERR_INVALID(e, "field \"%s\" must be a string", key);
		return -1;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		ERR_INVALID(e, "field \"%s\" must not contain NUL characters", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int in_int(const json_t *o, const char *key, int required, int64_t *out,
	   struct err *e)
{
	int bad;
	const json_t *v = field(o, key, required, e, &bad);
	if (bad)
		return -1;
	if (!v)
		return 0;
	if (!json_is_integer(v)) {
		ERR_INVALID(e, "field \"%s\" must be an integer", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

int in_bool(const json_t *o, const char *key, int *out, struct err *e)
{
	int bad;
	const json_t *v = field(o, key, 0, e, &bad);
	*out = -1;
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		ERR_INVALID(e, "field \"%s\" must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int in_array(const json_t *o, const char *key, int required,
	     const json_t **out, struct err *e)
{
	int bad;
	const json_t *v = field(o, key, required, e, &bad);
	*out = NULL;
	if (bad)
		return -1;
	if (!v)
		return 0;
	if (!json_is_array(v)) {
		ERR_INVALID(e, "field \"%s\" must be an array", key);
		return -1;
	}
	*out = v;
	return 0;
}
