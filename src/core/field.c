/* field.c -- see field.h. */
#include "field.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "../util/clock.h"

static const char *const types[] = {"text", "number", "date", "select", "checkbox", NULL};

static int valid_key(const char *k)
{
	size_t n = k ? strlen(k) : 0;
	return n > 0 && n <= 40 && strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int field_create(const struct scope *s, const struct field_input *in,
		 int64_t *id, struct err *e)
{
	if (!valid_key(in->key)) {
		ERR_INVALID(e, "key must be 1-40 of a-z, 0-9, _");
		return -1;
	}
	if (!in->label || !in->label[0] || strlen(in->label) > 100) {
		ERR_INVALID(e, "label must be 1-100 characters");
		return -1;
	}
	const char *const *t = types;
	while (*t && (!in->type || strcmp(*t, in->type) != 0))
		t++;
	if (!*t) {
		ERR_INVALID(e, "type must be text, number, date, select or checkbox");
		return -1;
	}
	if (!strcmp(in->type, "select") && (!json_is_array(in->options) ||
					    json_array_size(in->options) == 0)) {
		ERR_INVALID(e, "a select field needs options");
		return -1;
	}
	regex_t re;
	if (in->pattern) {
		if (regcomp(&re, in->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
			ERR_INVALID(e, "pattern is not a valid regular expression");
			return -1;
		}
		regfree(&re);
	}
	char *opts = in->options ? json_dumps(in->options, JSON_COMPACT) : NULL;
	int rc = db_sq_int(s, "INSERT INTO ticket_fields (account_id, key, label, type, "
			      "options, required, pattern, created_at) VALUES ($1, $2, $3, $4, "
			      "$5, $6, $7, $8) RETURNING id",
			   DB_ARGS(DB_TEXT(in->key), DB_TEXT(in->label), DB_TEXT(in->type),
				   DB_TEXT(opts ? opts : "[]"), DB_INT(in->required == 1),
				   DB_TEXT(in->pattern), DB_INT(clock_now_ms())), id, e);
	free(opts);
	if (rc < 0 && e->status == 409)
		err_set(e, 409, "conflict", "a field with key \"%s\" exists", in->key);
	return rc < 0 ? -1 : 0;
}

int field_delete(const struct scope *s, int64_t id, struct err *e)
{
	int64_t n = db_sexec(s, "DELETE FROM ticket_fields WHERE account_id = $1 AND id = $2",
			     DB_ARGS(DB_INT(id)), e);
	if (n == 0)
		ERR_NOT_FOUND(e, "field not found");
	return n > 0 ? 0 : -1;
}

int field_list(const struct scope *s, json_t *items, struct err *e)
{
	struct db_res *res = NULL;
	if (db_sq(s, "SELECT id, key, label, type, options, required, pattern FROM "
		     "ticket_fields WHERE account_id = $1 ORDER BY position, id",
		  DB_NOARGS, &res, e) < 0)
		return -1;
	while (res && db_res_next(res)) {
		json_t *o = json_pack("{sI ss ss ss so sb}", "id", (json_int_t)db_res_int(res, 0),
			"key", db_res_text(res, 1), "label", db_res_text(res, 2),
			"type", db_res_text(res, 3),
			"options", json_loads(db_res_text(res, 4), 0, NULL),
			"required", (int)db_res_int(res, 5));
		const char *pat = db_res_text(res, 6);
		json_object_set_new(o, "pattern", pat ? json_string(pat) : json_null());
		json_array_append_new(items, o);
	}
	db_res_free(res);
	return 0;
}

static int matches(const char *pattern, const char *value)
{
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	int ok = regexec(&re, value, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

/* YYYY-MM-DD with plausible ranges. */
static int is_date(const char *v)
{
	int y, m, d;
	char tail;
	return strlen(v) == 10 && sscanf(v, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 &&
	       y >= 1900 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int in_options(const json_t *options, const char *v)
{
	size_t i;
	const json_t *o;
	json_array_foreach(options, i, o)
		if (json_is_string(o) && strcmp(json_string_value(o), v) == 0)
			return 1;
	return 0;
}

static int check_value(const json_t *def, const char *key, const json_t *v,
		       struct err *e)
{
	const char *type = json_string_value(json_object_get(def, "type"));
	const char *pattern = json_string_value(json_object_get(def, "pattern"));
	const char *sv = json_string_value(v);
	int ok;
	if (!strcmp(type, "number"))
		ok = json_is_number(v);
	else if (!strcmp(type, "checkbox"))
		ok = json_is_boolean(v);
	else if (!strcmp(type, "date"))
		ok = sv && is_date(sv);
	else if (!strcmp(type, "select"))
		ok = sv && in_options(json_object_get(def, "options"), sv);
	else
		ok = sv && strlen(sv) <= 2000 && (!pattern || matches(pattern, sv));
	if (!ok)
		ERR_INVALID(e, "field \"%s\" does not accept that value (%s)", key, type);
	return ok ? 0 : -1;
}

int field_apply(const struct scope *s, json_t *current, const json_t *values,
		int creating, struct err *e)
{
	if (values && !json_is_object(values)) {
		ERR_INVALID(e, "fields must be an object");
		return -1;
	}
	json_t *defs = json_array();
	if (field_list(s, defs, e) < 0) {
		json_decref(defs);
		return -1;
	}
	int rc = 0;
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)values, key, v) {
		const json_t *def = NULL;
		size_t i;
		json_t *d;
		json_array_foreach(defs, i, d)
			if (!strcmp(json_string_value(json_object_get(d, "key")), key))
				def = d;
		if (!def) {
			ERR_INVALID(e, "no custom field \"%.40s\"", key);
			rc = -1;
			break;
		}
		if (json_is_null(v)) {
			json_object_del(current, key);
			continue;
		}
		if ((rc = check_value(def, key, v, e)) < 0)
			break;
		json_object_set(current, key, v);
	}
	size_t i;
	json_t *d;
	json_array_foreach(defs, i, d) {
		const char *k = json_string_value(json_object_get(d, "key"));
		if (rc == 0 && creating && json_is_true(json_object_get(d, "required")) &&
		    !json_object_get(current, k)) {
			ERR_INVALID(e, "field \"%s\" is required", k);
			rc = -1;
		}
	}
	json_decref(defs);
	return rc;
}
