/*
 * rowjson.h -- result columns as JSON values, for the representations core
 * modules build (one rule everywhere: SQL NULL is JSON null, times are
 * ISO-8601 UTC strings, JSON text columns are parsed).
 */
#ifndef KEFU_CORE_ROWJSON_H
#define KEFU_CORE_ROWJSON_H

#include <jansson.h>

#include "../store/db.h"

json_t *rj_int(const struct db_res *res, int col);  /* integer or null */
json_t *rj_text(const struct db_res *res, int col); /* string or null */
/* ISO-8601 or null; 0 counts as "never" (null) too. */
json_t *rj_time(const struct db_res *res, int col);
/* A JSON text column parsed (null when NULL or unparsable). */
json_t *rj_json(const struct db_res *res, int col);
/* A string or null from a C string. */
json_t *rj_str(const char *s);

#endif
