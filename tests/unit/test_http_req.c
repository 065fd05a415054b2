/*
 * test_http_req.c -- the req_* and reply_* helpers on a bare struct req,
 * the way handler tests elsewhere in Kefu will use them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/internal.h"

struct fixture {
	struct req r;
	struct http_header h[8];
};

static void set_headers(struct fixture *f, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		f->h[i].name = va_arg(ap, char *);
		f->h[i].value = va_arg(ap, char *);
	}
	va_end(ap);
	f->r.headers = f->h;
	f->r.nheaders = n;
}

static void set_body(struct fixture *f, const char *body)
{
	f->r.body = (char *)body;
	f->r.body_len = strlen(body);
}

static void done(struct fixture *f)
{
	buf_free(&f->r.resp_body);
	buf_free(&f->r.resp_headers);
}

static void test_header_and_param(void **state)
{
	(void)state;
	struct fixture f = {0};
	set_headers(&f, 2, "content-type", "text/plain", "x-a", "1");
	assert_string_equal(req_header(&f.r, "x-a"), "1");
	assert_null(req_header(&f.r, "X-A")); /* names are stored lower-case */
	f.r.params[0] = "42";
	f.r.nparams = 1;
	assert_string_equal(req_param(&f.r, 0), "42");
	assert_null(req_param(&f.r, 1));
	assert_null(req_param(&f.r, -1));
}

static void expect_query(const char *query, const char *name, const char *want)
{
	struct req r = {0};
	r.query = (char *)query;
	char *v = req_query(&r, name);
	if (!want) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void test_query(void **state)
{
	(void)state;
	expect_query("a=1&b=two", "b", "two");
	expect_query("a=1&b=two", "c", NULL);
	expect_query("q=hello+world%21", "q", "hello world!");
	expect_query("flag&x=1", "flag", "");
	expect_query("a=1&a=2", "a", "1");
	expect_query("na%6De=v", "name", "v");
	expect_query("bad=%zz%4", "bad", "%zz%4");
	expect_query("", "a", NULL);
	expect_query("ab=1", "a", NULL);
}

static void test_cookie(void **state)
{
	(void)state;
	struct fixture f = {0};
	char out[16];
	set_headers(&f, 1, "cookie", "sidx=no; sid=abc123; theme=\"dark\"");
	assert_int_equal(req_cookie(&f.r, "sid", out, sizeof out), 0);
	assert_string_equal(out, "abc123");
	assert_int_equal(req_cookie(&f.r, "theme", out, sizeof out), 0);
	assert_string_equal(out, "dark");
	assert_int_equal(req_cookie(&f.r, "none", out, sizeof out), -1);
	assert_int_equal(req_cookie(&f.r, "sid", out, 4), -1); /* never truncated */
}

static void test_https_needs_trusted_proxy(void **state)
{
	(void)state;
	struct fixture f = {0};
	set_headers(&f, 1, "x-forwarded-proto", "https");
	req_set_active(32, 0);
	assert_false(req_is_https(&f.r));
	req_set_active(32, 1);
	assert_true(req_is_https(&f.r));
	set_headers(&f, 1, "x-forwarded-proto", "httpsx");
	assert_false(req_is_https(&f.r));
	req_set_active(32, 0);
}

static void expect_error(struct fixture *f, int status, const char *code)
{
	assert_int_equal(f->r.status, status);
	assert_string_equal(f->r.content_type, "application/json");
	json_t *j = json_loadb(f->r.resp_body.data, f->r.resp_body.len, 0, NULL);
	assert_non_null(j);
	const char *got = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
	assert_non_null(got);
	assert_string_equal(got, code);
	assert_true(json_is_string(json_object_get(json_object_get(j, "error"), "message")));
	json_decref(j);
}

static void test_json_content_type(void **state)
{
	(void)state;
	struct fixture f = {0};
	set_body(&f, "{}");
	assert_null(req_json(&f.r));
	expect_error(&f, 415, "unsupported_media_type");
	set_headers(&f, 1, "content-type", "application/jsonx");
	assert_null(req_json(&f.r));
	expect_error(&f, 415, "unsupported_media_type");
	set_headers(&f, 1, "content-type", "Application/JSON; charset=utf-8");
	json_t *j = req_json(&f.r);
	assert_non_null(j);
	json_decref(j);
	done(&f);
}

static void test_json_errors(void **state)
{
	(void)state;
	struct fixture f = {0};
	set_headers(&f, 1, "content-type", "application/json");
	req_set_active(2, 0); /* depth 3 is one too many */
	set_body(&f, "{\"a\":[[1]]}");
	assert_null(req_json(&f.r));
	expect_error(&f, 400, "json_too_deep");
	set_body(&f, "{\"a\":[1]}");
	json_t *j = req_json(&f.r);
	assert_non_null(j);
	json_decref(j);
	set_body(&f, "{\n\"a\": tru}");
	assert_null(req_json(&f.r));
	expect_error(&f, 400, "bad_json");
	assert_non_null(strstr(f.r.resp_body.data, "line 2"));
	set_body(&f, "[1,2]");
	assert_null(req_json(&f.r));
	expect_error(&f, 400, "invalid");
	set_body(&f, "{\"a\":1,\"a\":2}");
	assert_null(req_json(&f.r));
	expect_error(&f, 400, "bad_json");
	set_body(&f, "");
	assert_null(req_json(&f.r));
	expect_error(&f, 400, "bad_json");
	req_set_active(32, 0);
	done(&f);
}

static void test_replies(void **state)
{
	(void)state;
	struct fixture f = {0};
	reply_error(&f.r, 404, "not_found", "no ticket %d \"x\"", 7);
	expect_error(&f, 404, "not_found");
	assert_non_null(strstr(f.r.resp_body.data, "no ticket 7 \\\"x\\\""));
	struct err e = {0};
	err_set(&e, 409, "conflict", "taken");
	reply_err(&f.r, &e);
	expect_error(&f, 409, "conflict");
	struct err none = {0};
	reply_err(&f.r, &none);
	expect_error(&f, 500, "internal");
	reply_json(&f.r, 201, json_pack("{s:i}", "id", 5));
	assert_int_equal(f.r.status, 201);
	assert_string_equal(f.r.resp_body.data, "{\"id\":5}");
	reply_raw(&f.r, 200, "text/plain", "hi", 2);
	assert_string_equal(f.r.resp_body.data, "hi");
	reply_empty(&f.r, 204);
	assert_int_equal(f.r.resp_body.len, 0);
	assert_null(f.r.content_type);
	reply_header(&f.r, "X-Ok", "1");
	reply_header(&f.r, "X-Bad", "1\r\nSet-Cookie: evil=1"); /* dropped */
	reply_header(&f.r, "X-Bad\n", "1");
	assert_string_equal(f.r.resp_headers.data, "X-Ok: 1\r\n");
	done(&f);
}

/* The head every answer gets, on the wrapper the server uses. */
static void test_head(void **state)
{
	(void)state;
	struct hreq h;
	hreq_init(&h);
	strcpy(h.r.id, "abc");
	reply_raw(&h.r, 200, "text/plain", "hello", 5);
	reply_header(&h.r, "X-Extra", "yes");
	resp_build_head(&h, 1);
	const char *head = h.head.data;
	assert_true(strncmp(head, "HTTP/1.1 200 OK\r\nDate: ", 23) == 0);
	assert_non_null(strstr(head, " GMT\r\n"));
	assert_non_null(strstr(head, "\r\nContent-Type: text/plain\r\n"));
	assert_non_null(strstr(head, "\r\nContent-Length: 5\r\n"));
	assert_non_null(strstr(head, "\r\nX-Request-Id: abc\r\n"));
	assert_non_null(strstr(head, "\r\nX-Content-Type-Options: nosniff\r\n"));
	assert_non_null(strstr(head, "\r\nReferrer-Policy: same-origin\r\n"));
	assert_non_null(strstr(head, "\r\nX-Frame-Options: DENY\r\n"));
	assert_non_null(strstr(head, "\r\nX-Extra: yes\r\nConnection: keep-alive\r\n\r\n"));
	resp_force_close(&h);
	assert_non_null(strstr(h.head.data, "\r\nX-Extra: yes\r\nConnection: close\r\n\r\n"));
	assert_int_equal(resp_body_len(&h), 5);
	/* HEAD: the length of what GET would send, no body */
	h.head_only = 1;
	resp_build_head(&h, 0);
	assert_non_null(strstr(h.head.data, "\r\nContent-Length: 5\r\n"));
	assert_int_equal(resp_body_len(&h), 0);
	/* 304 and 204 carry neither length nor type */
	h.head_only = 0;
	reply_empty(&h.r, 304);
	h.r.content_type = "text/html";
	resp_build_head(&h, 1);
	assert_null(strstr(h.head.data, "\r\nContent-Length"));
	assert_null(strstr(h.head.data, "\r\nContent-Type"));
	assert_true(strncmp(h.head.data, "HTTP/1.1 304 Not Modified\r\n", 27) == 0);
	hreq_reset(&h);
	assert_int_equal(h.r.status, 0);
	assert_int_equal(h.r.resp_headers.len, 0);
	hreq_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_param),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_https_needs_trusted_proxy),
		cmocka_unit_test(test_json_content_type),
		cmocka_unit_test(test_json_errors),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
