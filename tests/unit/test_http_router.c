/*
 * test_http_router.c -- http_route_match and http_json_depth, the two pure
 * helpers the router and req_json rely on.  Cases are tables: one line per
 * case, reported by name when it fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

struct match_case {
	const char *name, *pattern, *path;
	int match;
	int nparams;
	const char *params[REQ_MAX_PARAMS];
};

static const struct match_case match_cases[] = {
	{"literal", "/healthz", "/healthz", 1, 0, {NULL}},
	{"root", "/", "/", 1, 0, {NULL}},
	{"root is not empty", "/", "", 0, 0, {NULL}},
	{"literal mismatch", "/healthz", "/health", 0, 0, {NULL}},
	{"literal longer path", "/healthz", "/healthzz", 0, 0, {NULL}},
	{"prefix is not a match", "/api/v1/users", "/api/v1/users/7", 0, 0, {NULL}},
	{"one param", "/api/v1/users/{id}", "/api/v1/users/42", 1, 1, {"42"}},
	{"param then literal", "/api/v1/tickets/{id}/messages", "/api/v1/tickets/9/messages",
	 1, 1, {"9"}},
	{"two params", "/a/{x}/b/{y}", "/a/1/b/two", 1, 2, {"1", "two"}},
	{"param keeps percent-decoded bytes", "/kb/{slug}", "/kb/caf\xc3\xa9 au lait", 1, 1,
	 {"caf\xc3\xa9 au lait"}},
	{"empty param segment", "/api/v1/users/{id}", "/api/v1/users/", 0, 0, {NULL}},
	{"param does not cross '/'", "/api/v1/users/{id}", "/api/v1/users/1/2", 0, 0, {NULL}},
	{"trailing slash forgiven", "/api/v1/users", "/api/v1/users/", 1, 0, {NULL}},
	{"trailing slash after param", "/api/v1/users/{id}", "/api/v1/users/5/", 1, 1, {"5"}},
	{"only one trailing slash", "/api/v1/users", "/api/v1/users//", 0, 0, {NULL}},
	{"pattern slash needs path slash", "/api/", "/api", 0, 0, {NULL}},
	{"literal after param differs", "/t/{id}/messages", "/t/9/message", 0, 0, {NULL}},
	{"eight params (the limit)", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", "/1/2/3/4/5/6/7/8", 1, 8,
	 {"1", "2", "3", "4", "5", "6", "7", "8"}},
	{"nine params: too many", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "/1/2/3/4/5/6/7/8/9",
	 0, 0, {NULL}},
	{"unclosed brace never matches", "/a/{id", "/a/1", 0, 0, {NULL}},
	{"case matters", "/Healthz", "/healthz", 0, 0, {NULL}},
};

static void test_route_match(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
		const struct match_case *mc = &match_cases[i];
		char scratch[256];
		const char *params[REQ_MAX_PARAMS] = {NULL};
		int np = -1;
		snprintf(scratch, sizeof scratch, "%s", mc->path);
		int m = http_route_match(mc->pattern, scratch, params, &np);
		int ok = m == mc->match && np == mc->nparams;
		for (int k = 0; ok && k < np; k++)
			ok = strcmp(params[k], mc->params[k]) == 0;
		printf("  %-4s %s\n", ok ? "ok" : "FAIL", mc->name);
		failed += !ok;
	}
	assert_int_equal(failed, 0);
}

/* A failed match leaves the scratch copy alone, so the router copies the
 * path once and tries every route on it. */
static void test_route_scratch_untouched_on_miss(void **state)
{
	(void)state;
	char scratch[] = "/a/1/b/2";
	const char *params[REQ_MAX_PARAMS];
	int np;
	assert_false(http_route_match("/a/{x}/c/{y}", scratch, params, &np));
	assert_string_equal(scratch, "/a/1/b/2");
	assert_true(http_route_match("/a/{x}/b/{y}", scratch, params, &np));
	assert_int_equal(np, 2);
	assert_string_equal(params[0], "1");
	assert_string_equal(params[1], "2");
}

struct depth_case {
	const char *name, *json;
	int depth;
};

static const struct depth_case depth_cases[] = {
	{"empty", "", 0},
	{"scalar", "42", 0},
	{"flat object", "{\"a\":1}", 1},
	{"nested", "{\"a\":[{\"b\":[1]}]}", 4},
	{"siblings do not add", "[[1],[2],[3]]", 2},
	{"brackets inside a string", "{\"a\":\"[[[[{{{{\"}", 1},
	{"escaped quote inside a string", "{\"a\":\"\\\"[[[\"}", 1},
	{"escaped backslash ends the string", "{\"a\":\"\\\\\",\"b\":[[1]]}", 3},
	{"unicode escape", "[\"\\u005b\\u005b\"]", 1},
	{"closing more than opened", "]]]}[", 1},
	{"unterminated string hides the rest", "[\"abc[[[[", 1},
	{"deep", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 40},
};

static void test_json_depth(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof depth_cases / sizeof depth_cases[0]; i++) {
		const struct depth_case *dc = &depth_cases[i];
		int d = http_json_depth(dc->json, strlen(dc->json));
		int ok = d == dc->depth;
		printf("  %-4s %s (%d)\n", ok ? "ok" : "FAIL", dc->name, d);
		failed += !ok;
	}
	assert_int_equal(failed, 0);
}

/* Bytes after an embedded NUL still count: the length rules, not strlen. */
static void test_json_depth_embedded_nul(void **state)
{
	(void)state;
	static const char s[] = "[\0[[]]]";
	assert_int_equal(http_json_depth(s, sizeof s - 1), 3);
	assert_int_equal(http_json_depth(s, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_match),
		cmocka_unit_test(test_route_scratch_untouched_on_miss),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_json_depth_embedded_nul),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
