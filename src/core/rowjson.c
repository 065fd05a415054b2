/* rowjson.c -- see rowjson.h. */
#include "rowjson.h"

#include "../util/clock.h"

json_t *rj_int(const struct db_res *res, int col)
{
	return db_res_isnull(res, col) ? json_null() : json_integer(db_res_int(res, col));
}

json_t *rj_text(const struct db_res *res, int col)
{
	return rj_str(db_res_text(res, col));
}

json_t *rj_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *rj_time(const struct db_res *res, int col)
{
	if (db_res_isnull(res, col) || db_res_int(res, col) == 0)
		return json_null();
	char ts[32];
	clock_iso8601(db_res_int(res, col), ts, sizeof ts);
	return json_string(ts);
}

json_t *rj_json(const struct db_res *res, int col)
{
	const char *t = db_res_text(res, col);
	json_t *v = t ? json_loads(t, 0, NULL) : NULL;
	return v ? v : json_null();
}
