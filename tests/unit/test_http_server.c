/*
 * test_http_server.c -- http_serve end to end over raw TCP: a server on
 * port 0 in a thread with a small route table, app hooks and a web root;
 * the tests speak bytes to it and check what comes back (keep-alive,
 * pipelining order, limits, errors, HEAD, static files, timeouts, request
 * ids, metrics, the access log), then SIGTERM drains it.  A second server
 * checks max_connections and http_stop().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/internal.h"

/* ---- the application under test ---- */

static atomic_int after_calls, workers_freed;

static void *app_worker_init(void *arg, int index)
{
	(void)arg;
	char *ctx = xmalloc(16);
	snprintf(ctx, 16, "worker-%d", index);
	return ctx;
}

static void app_worker_free(void *wctx)
{
	free(wctx);
	atomic_fetch_add(&workers_freed, 1);
}

static int app_before(struct req *r)
{
	if (r->route->perm && strcmp(r->route->perm, "admin") == 0) {
		reply_error(r, 403, "forbidden", "admins only");
		return -1;
	}
	return 0;
}

static void app_after(struct req *r)
{
	(void)r;
	atomic_fetch_add(&after_calls, 1);
}

static void h_hello(struct req *r)
{
	reply_raw(r, 200, "text/plain", "hello", 5);
}

static void h_user(struct req *r)
{
	reply_json(r, 200, json_pack("{s:s}", "id", req_param(r, 0)));
}

static void h_echo(struct req *r)
{
	json_t *j = req_json(r);
	if (j)
		reply_json(r, 201, j);
}

static void h_slow(struct req *r)
{
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	reply_raw(r, 200, "text/plain", "slow", 4);
}

static void h_seq(struct req *r)
{
	/* earlier requests take longer: order must still hold */
	int n = atoi(req_param(r, 0));
	struct timespec ts = {0, (long)(6 - n) * 2 * 1000 * 1000};
	nanosleep(&ts, NULL);
	reply_raw(r, 200, "text/plain", req_param(r, 0), strlen(req_param(r, 0)));
}

static void h_close(struct req *r)
{
	r->close = 1;
	reply_raw(r, 200, "text/plain", "bye", 3);
}

static void h_metrics(struct req *r)
{
	struct buf b = BUF_INIT;
	http_metrics_render(&b);
	reply_raw(r, 200, "text/plain; version=0.0.4", b.data, b.len);
	buf_free(&b);
}

static void h_wctx(struct req *r)
{
	reply_raw(r, 200, "text/plain", r->wctx, strlen(r->wctx));
}

static void h_info(struct req *r)
{
	reply_json(r, 200, json_pack("{s:s,s:s,s:s,s:b}", "ip", r->remote_ip, "id", r->id,
				     "query", r->query, "https", req_is_https(r)));
}

static void h_silent(struct req *r)
{
	(void)r; /* forgets to reply */
}

static void h_len(struct req *r)
{
	reply_json(r, 200, json_pack("{s:I}", "len", (json_int_t)r->body_len));
}

static const struct route routes[] = {
	{HTTP_GET, "/hello", h_hello, NULL, ROUTE_PUBLIC},
	{HTTP_GET, "/users/{id}", h_user, NULL, 0},
	{HTTP_DELETE, "/users/{id}", h_hello, NULL, 0},
	{HTTP_POST, "/echo", h_echo, NULL, 0},
	{HTTP_GET, "/slow", h_slow, NULL, 0},
	{HTTP_GET, "/seq/{n}", h_seq, NULL, 0},
	{HTTP_GET, "/close", h_close, NULL, 0},
	{HTTP_GET, "/metrics", h_metrics, NULL, 0},
	{HTTP_GET, "/admin", h_hello, "admin", 0},
	{HTTP_GET, "/wctx", h_wctx, NULL, 0},
	{HTTP_GET, "/info", h_info, NULL, 0},
	{HTTP_GET, "/silent", h_silent, NULL, 0},
	{HTTP_GET, "/api/v1/thing", h_hello, NULL, 0},
	{HTTP_POST, "/upload", h_len, NULL, ROUTE_UPLOAD},
	{HTTP_PUT, "/files/{name}", h_len, NULL, ROUTE_UPLOAD},
	{HTTP_POST, "/files/{name}", h_len, NULL, 0},
};

/* ---- running a server in a thread ---- */

struct running {
	struct http_config cfg;
	pthread_t thread;
	int rc;
	int port;
	char line[128];
};

static void *serve_main(void *arg)
{
	struct running *s = arg;
	struct err e = {0};
	s->rc = http_serve(&s->cfg, &e);
	if (s->rc)
		fprintf(stderr, "http_serve: %s\n", e.msg);
	return NULL;
}

/* Start it and read the one line it prints on stdout. */
static void start_server(struct running *s)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	dup2(p[1], STDOUT_FILENO);
	assert_int_equal(pthread_create(&s->thread, NULL, serve_main, s), 0);
	struct pollfd pf = {p[0], POLLIN, 0};
	size_t n = 0;
	while (n < sizeof s->line - 1 && poll(&pf, 1, 5000) == 1) {
		if (read(p[0], s->line + n, 1) != 1 || s->line[n] == '\n')
			break;
		n++;
	}
	s->line[n] = '\0';
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(p[0]);
	close(p[1]);
	const char *colon = strrchr(s->line, ':');
	assert_non_null(colon);
	s->port = atoi(colon + 1);
	assert_true(s->port > 0);
}

static struct running srv;
static char web_root[64];
static char log_path[96];
static FILE *log_file;

/* ---- a raw client ---- */

struct client {
	int fd;
	struct buf in;
};

struct resp {
	int status;
	char head[4096];
	struct buf body;
};

static void cl_open_port(struct client *c, int port)
{
	memset(c, 0, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
}

static void cl_open(struct client *c)
{
	cl_open_port(c, srv.port);
}

static void cl_close(struct client *c)
{
	close(c->fd);
	buf_free(&c->in);
}

static void cl_send(struct client *c, const char *s)
{
	size_t n = strlen(s);
	assert_int_equal(send(c->fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Read more into c->in; 0 on EOF, -1 on timeout. */
static int cl_fill(struct client *c, int ms)
{
	struct pollfd pf = {c->fd, POLLIN, 0};
	if (poll(&pf, 1, ms) != 1)
		return -1;
	char tmp[65536];
	ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
	if (n <= 0)
		return 0;
	buf_append(&c->in, tmp, (size_t)n);
	return 1;
}

static const char *head_value(const struct resp *r, const char *name)
{
	static char val[512];
	char key[128];
	snprintf(key, sizeof key, "\r\n%s: ", name);
	const char *p = strcasestr(r->head, key);
	if (!p)
		return NULL;
	p += strlen(key);
	size_t n = strcspn(p, "\r");
	snprintf(val, sizeof val, "%.*s", (int)n, p);
	return val;
}

/* One response; no_body for HEAD.  Returns 0, or -1 on EOF/timeout. */
static int cl_read(struct client *c, struct resp *r, int no_body)
{
	memset(r, 0, sizeof *r);
	char *end;
	while (!c->in.data || !(end = strstr(c->in.data, "\r\n\r\n")))
		if (cl_fill(c, 3000) <= 0)
			return -1;
	size_t hl = (size_t)(end - c->in.data) + 4;
	snprintf(r->head, sizeof r->head, "%.*s", (int)hl, c->in.data);
	r->status = atoi(r->head + 9);
	const char *cl = head_value(r, "Content-Length");
	size_t bl = cl && !no_body ? (size_t)atol(cl) : 0;
	while (c->in.len < hl + bl)
		if (cl_fill(c, 3000) <= 0)
			return -1;
	buf_append(&r->body, c->in.data + hl, bl);
	if (!r->body.data)
		buf_puts(&r->body, "");
	memmove(c->in.data, c->in.data + hl + bl, c->in.len - hl - bl);
	c->in.len -= hl + bl;
	c->in.data[c->in.len] = '\0';
	return 0;
}

/* True when the server closes within ms with nothing more to say. */
static int cl_eof(struct client *c, int ms)
{
	int r = cl_fill(c, ms);
	return r == 0 && c->in.len == 0;
}

static void resp_free(struct resp *r)
{
	buf_free(&r->body);
}

/* One request on a fresh connection. */
static void one(const char *request, struct resp *r, int no_body)
{
	struct client c;
	cl_open(&c);
	cl_send(&c, request);
	assert_int_equal(cl_read(&c, r, no_body), 0);
	cl_close(&c);
}

static const char *error_code(const struct resp *r)
{
	static char code[64];
	json_t *j = json_loadb(r->body.data, r->body.len, 0, NULL);
	assert_non_null(j);
	snprintf(code, sizeof code, "%s",
		 json_string_value(json_object_get(json_object_get(j, "error"), "code")));
	json_decref(j);
	return code;
}

/* ---- fixture ---- */

static void write_file(const char *rel, const char *content)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", web_root, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void make_web_root(void)
{
	char path[256];
	snprintf(web_root, sizeof web_root, "/tmp/kefu-http-test-XXXXXX");
	assert_non_null(mkdtemp(web_root));
	write_file("index.html", "<!doctype html>app");
	write_file("app.js", "console.log(1)");
	write_file("app.js.gz", "GZIPPED-BYTES");
	write_file(".env", "SECRET=1");
	snprintf(path, sizeof path, "%s/assets", web_root);
	mkdir(path, 0755);
	write_file("assets/app-3f2a.css", "body{}");
	snprintf(path, sizeof path, "%s/docs", web_root);
	mkdir(path, 0755);
	write_file("docs/index.html", "docs index");
	snprintf(path, sizeof path, "%s/leak.txt", web_root);
	assert_int_equal(symlink("/etc/hostname", path), 0);
}

static void remove_web_root(void)
{
	static const char *files[] = {"index.html", "app.js", "app.js.gz", ".env",
				      "assets/app-3f2a.css", "docs/index.html", "leak.txt",
				      "assets", "docs"};
	char path[256];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", web_root, files[i]);
		remove(path);
	}
	rmdir(web_root);
}

static int group_setup(void **state)
{
	(void)state;
	make_web_root();
	snprintf(log_path, sizeof log_path, "%s.log", web_root);
	log_file = fopen(log_path, "w+");
	struct http_config *c = &srv.cfg;
	c->host = "127.0.0.1";
	c->port = 0;
	c->workers = 2;
	c->max_connections = 100;
	c->max_header_bytes = 1024;
	c->max_body_bytes = 1000;
	c->max_upload_bytes = 4000;
	c->max_json_depth = 8;
	c->request_timeout_ms = 300;
	c->idle_timeout_ms = 500;
	c->drain_timeout_ms = 3000;
	c->web_root = web_root;
	c->access_log = log_file;
	c->trust_proxy = 1;
	c->routes = routes;
	c->nroutes = sizeof routes / sizeof routes[0];
	c->app = (struct http_app){app_worker_init, app_worker_free, app_before, app_after, NULL};
	start_server(&srv);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fclose(log_file);
	remove(log_path);
	remove_web_root();
	return 0;
}

/* ---- the tests ---- */

static void test_listening_line(void **state)
{
	(void)state;
	char want[64];
	snprintf(want, sizeof want, "kefu: listening on http://127.0.0.1:%d", srv.port);
	assert_string_equal(srv.line, want);
}

static void test_keep_alive(void **state)
{
	(void)state;
	struct client c;
	struct resp r;
	cl_open(&c);
	for (int i = 0; i < 3; i++) {
		cl_send(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
		assert_int_equal(cl_read(&c, &r, 0), 0);
		assert_int_equal(r.status, 200);
		assert_string_equal(r.body.data, "hello");
		assert_string_equal(head_value(&r, "Connection"), "keep-alive");
		assert_string_equal(head_value(&r, "Content-Type"), "text/plain");
		assert_string_equal(head_value(&r, "X-Content-Type-Options"), "nosniff");
		assert_string_equal(head_value(&r, "Referrer-Policy"), "same-origin");
		assert_string_equal(head_value(&r, "X-Frame-Options"), "DENY");
		assert_non_null(head_value(&r, "Date"));
		assert_int_equal(strlen(head_value(&r, "X-Request-Id")), 16);
		resp_free(&r);
	}
	cl_close(&c);
}

static void test_http10(void **state)
{
	(void)state;
	struct client c;
	struct resp r;
	cl_open(&c);
	cl_send(&c, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_string_equal(head_value(&r, "Connection"), "keep-alive");
	resp_free(&r);
	cl_send(&c, "GET /hello HTTP/1.0\r\n\r\n");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_string_equal(head_value(&r, "Connection"), "close");
	assert_true(cl_eof(&c, 3000));
	resp_free(&r);
	cl_close(&c);
}

static void test_pipelining_order(void **state)
{
	(void)state;
	struct client c;
	struct resp r;
	cl_open(&c);
	cl_send(&c, "GET /seq/1 HTTP/1.1\r\n\r\nGET /seq/2 HTTP/1.1\r\n\r\n"
		    "GET /seq/3 HTTP/1.1\r\n\r\nHEAD /seq/4 HTTP/1.1\r\n\r\n"
		    "GET /seq/5 HTTP/1.1\r\nConnection: close\r\n\r\n");
	for (int i = 1; i <= 5; i++) {
		char want[4];
		snprintf(want, sizeof want, "%d", i);
		assert_int_equal(cl_read(&c, &r, i == 4), 0);
		assert_int_equal(r.status, 200);
		if (i != 4)
			assert_string_equal(r.body.data, want);
		resp_free(&r);
	}
	assert_true(cl_eof(&c, 3000));
	cl_close(&c);
}

/* A request split into single bytes is still one request. */
static void test_trickled_request(void **state)
{
	(void)state;
	static const char req[] = "POST /echo HTTP/1.1\r\nContent-Type: application/json\r\n"
				  "Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
	struct client c;
	struct resp r;
	cl_open(&c);
	for (size_t i = 0; i < sizeof req - 1; i++)
		assert_int_equal(send(c.fd, req + i, 1, MSG_NOSIGNAL), 1);
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body.data, "{\"a\":1}");
	resp_free(&r);
	cl_close(&c);
}

static void test_payload_too_large(void **state)
{
	(void)state;
	struct client c;
	struct resp r;
	cl_open(&c);
	cl_send(&c, "POST /echo HTTP/1.1\r\nContent-Type: application/json\r\n"
		    "Content-Length: 5000\r\n\r\n{\"a\":");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 413);
	assert_string_equal(error_code(&r), "payload_too_large");
	assert_string_equal(head_value(&r, "Connection"), "close");
	resp_free(&r);
	/* the client may keep sending: the answer is not lost, then EOF */
	char junk[2000];
	memset(junk, 'x', sizeof junk);
	send(c.fd, junk, sizeof junk, MSG_NOSIGNAL);
	assert_true(cl_eof(&c, 3000));
	cl_close(&c);

	/* chunked: caught while reading */
	cl_open(&c);
	cl_send(&c, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	char chunk[700];
	snprintf(chunk, sizeof chunk, "200\r\n%0512d\r\n", 0);
	cl_send(&c, chunk);
	cl_send(&c, chunk);
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 413);
	resp_free(&r);
	cl_close(&c);
}

/* Upload routes get max_upload_bytes (4000) instead of max_body_bytes
 * (1000), chosen by method and path before any body byte is read. */
static void test_upload_limit(void **state)
{
	(void)state;
	char body[4100], req[4400];
	memset(body, 'u', sizeof body - 1);
	body[sizeof body - 1] = '\0';
	static const struct {
		const char *method, *path;
		size_t len;
		int status;
	} cases[] = {
		{"POST", "/upload", 3000, 200},     /* over the body limit, fine here */
		{"POST", "/upload", 4000, 200},     /* exactly the upload limit */
		{"POST", "/upload/", 3000, 200},    /* the route's trailing slash */
		{"PUT", "/files/a%20b", 3000, 200}, /* a pattern, decoded path */
		{"POST", "/files/x", 3000, 413},    /* same path, not an upload method */
		{"POST", "/echo", 3000, 413},       /* an ordinary route */
		{"POST", "/uploads", 3000, 413},    /* no prefix matching */
		{"POST", "/nowhere", 3000, 413},    /* no route at all */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct resp r;
		snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%.*s",
			 cases[i].method, cases[i].path, cases[i].len, (int)cases[i].len, body);
		one(req, &r, 0);
		printf("  %d for %s %s with %zu bytes\n", r.status, cases[i].method,
		       cases[i].path, cases[i].len);
		assert_int_equal(r.status, cases[i].status);
		if (r.status == 200) {
			char want[32];
			snprintf(want, sizeof want, "{\"len\":%zu}", cases[i].len);
			assert_string_equal(r.body.data, want);
		} else {
			assert_string_equal(error_code(&r), "payload_too_large");
		}
		resp_free(&r);
	}

	/* over the upload limit: refused from the head alone, no body sent
	 * and no 100 Continue asked for */
	struct client c;
	struct resp r;
	cl_open(&c);
	cl_send(&c, "POST /upload HTTP/1.1\r\nContent-Length: 4001\r\n"
		    "Expect: 100-continue\r\n\r\n");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 413);
	assert_string_equal(error_code(&r), "payload_too_large");
	assert_non_null(strstr(r.body.data, "4000 bytes"));
	assert_string_equal(head_value(&r, "Connection"), "close");
	resp_free(&r);
	assert_true(cl_eof(&c, 3000));
	cl_close(&c);

	/* chunked: counted against the upload limit while it arrives */
	char chunk[1100];
	snprintf(chunk, sizeof chunk, "3e8\r\n%01000d\r\n", 0); /* 1000 bytes */
	cl_open(&c);
	cl_send(&c, "POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 4; i++)
		cl_send(&c, chunk);
	cl_send(&c, "0\r\n\r\n");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"len\":4000}");
	resp_free(&r);
	/* the next request on the connection is back to the body limit */
	cl_send(&c, "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	cl_send(&c, chunk);
	cl_send(&c, chunk);
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 413);
	resp_free(&r);
	cl_close(&c);

	cl_open(&c);
	cl_send(&c, "POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 4; i++)
		cl_send(&c, chunk);
	cl_send(&c, "1\r\nx\r\n");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 413);
	assert_string_equal(error_code(&r), "payload_too_large");
	resp_free(&r);
	cl_close(&c);
}

static void test_header_too_large(void **state)
{
	(void)state;
	char req[2048];
	snprintf(req, sizeof req, "GET /hello HTTP/1.1\r\nX-Big: %01200d\r\n\r\n", 0);
	struct resp r;
	one(req, &r, 0);
	assert_int_equal(r.status, 431);
	assert_string_equal(error_code(&r), "header_too_large");
	assert_string_equal(head_value(&r, "Connection"), "close");
	resp_free(&r);
}

static void test_bad_requests(void **state)
{
	(void)state;
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{"GET /hello HTTP/1.1\r\nBad Header: x\r\n\r\n", 400},
		{"GET /hello HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400},
		{"GET /hello HTTP/1.1\nHost: x\n\n", 400},
		{"GET /a%00b HTTP/1.1\r\n\r\n", 400},
		{"GET /a%zz HTTP/1.1\r\n\r\n", 400},
		{"GET * HTTP/1.1\r\n\r\n", 400},
		{"GET /hello HTTP/2.0\r\n\r\n", 505},
		{"POST /echo HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"CONNECT example.com:443 HTTP/1.1\r\n\r\n", 405},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct client c;
		struct resp r;
		cl_open(&c);
		cl_send(&c, cases[i].req);
		assert_int_equal(cl_read(&c, &r, 0), 0);
		printf("  %d for %.*s\n", r.status, (int)strcspn(cases[i].req, "\r\n"),
		       cases[i].req);
		assert_int_equal(r.status, cases[i].status);
		assert_string_equal(head_value(&r, "Content-Type"), "application/json");
		assert_non_null(strstr(r.body.data, "{\"error\":{\"code\":"));
		assert_string_equal(head_value(&r, "Connection"), "close");
		assert_true(cl_eof(&c, 3000));
		resp_free(&r);
		cl_close(&c);
	}
}

static void test_not_found_and_method(void **state)
{
	(void)state;
	struct resp r;
	one("GET /api/v1/nothing HTTP/1.1\r\n\r\n", &r, 0);
	assert_int_equal(r.status, 404);
	assert_string_equal(error_code(&r), "not_found");
	resp_free(&r);
	one("POST /users/7 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r, 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(error_code(&r), "method_not_allowed");
	assert_string_equal(head_value(&r, "Allow"), "DELETE, GET, HEAD");
	resp_free(&r);
	one("GET /users/7/ HTTP/1.1\r\n\r\n", &r, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "{\"id\":\"7\"}");
	resp_free(&r);
	one("GET /users/caf%C3%A9 HTTP/1.1\r\n\r\n", &r, 0);
	assert_string_equal(r.body.data, "{\"id\":\"caf\xc3\xa9\"}");
	resp_free(&r);
	one("GET /silent HTTP/1.1\r\n\r\n", &r, 0);
	assert_int_equal(r.status, 500);
	resp_free(&r);
}

static void test_head(void **state)
{
	(void)state;
	struct client c;
	struct resp r;
	cl_open(&c);
	cl_send(&c, "HEAD /hello HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
	assert_int_equal(cl_read(&c, &r, 1), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(head_value(&r, "Content-Length"), "5");
	resp_free(&r);
	assert_int_equal(cl_read(&c, &r, 0), 0); /* no body bytes came between */
	assert_string_equal(r.body.data, "hello");
	resp_free(&r);
	cl_close(&c);
}

static void test_json_and_hooks(void **state)
{
	(void)state;
	struct resp r;
	one("POST /echo HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n"
	    "{\"x\":[1]}", &r, 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body.data, "{\"x\":[1]}");
	resp_free(&r);
	one("POST /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", &r, 0);
	assert_int_equal(r.status, 415);
	resp_free(&r);
	one("POST /echo HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n"
	    "[[[[[[[[[[]]]]]]]]]]]", &r, 0);
	assert_int_equal(r.status, 400);
	assert_string_equal(error_code(&r), "json_too_deep");
	resp_free(&r);
	int before = atomic_load(&after_calls);
	one("GET /admin HTTP/1.1\r\n\r\n", &r, 0);
	assert_int_equal(r.status, 403);
	assert_string_equal(error_code(&r), "forbidden");
	resp_free(&r);
	assert_int_equal(atomic_load(&after_calls), before + 1);
	one("GET /wctx HTTP/1.1\r\n\r\n", &r, 0);
	assert_true(strcmp(r.body.data, "worker-0") == 0 || strcmp(r.body.data, "worker-1") == 0);
	resp_free(&r);
}

static void test_expect_continue(void **state)
{
	(void)state;
	struct client c;
	struct resp r;
	cl_open(&c);
	cl_send(&c, "POST /echo HTTP/1.1\r\nContent-Type: application/json\r\n"
		    "Content-Length: 7\r\nExpect: 100-continue\r\n\r\n");
	assert_int_equal(cl_read(&c, &r, 1), 0);
	assert_int_equal(r.status, 100);
	resp_free(&r);
	cl_send(&c, "{\"a\":1}");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 201);
	resp_free(&r);
	cl_close(&c);
}

static void test_request_id_and_proxy(void **state)
{
	(void)state;
	struct resp r;
	one("GET /info?x=1 HTTP/1.1\r\nX-Request-Id: abc-123\r\n"
	    "X-Forwarded-For: 203.0.113.7, 10.0.0.1\r\nX-Forwarded-Proto: https\r\n\r\n", &r, 0);
	assert_string_equal(head_value(&r, "X-Request-Id"), "abc-123");
	json_t *j = json_loadb(r.body.data, r.body.len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "ip")), "203.0.113.7");
	assert_string_equal(json_string_value(json_object_get(j, "id")), "abc-123");
	assert_string_equal(json_string_value(json_object_get(j, "query")), "x=1");
	assert_true(json_is_true(json_object_get(j, "https")));
	json_decref(j);
	resp_free(&r);
	one("GET /info HTTP/1.1\r\nX-Request-Id: <script>\r\nX-Forwarded-For: nonsense\r\n\r\n",
	    &r, 0);
	assert_int_equal(strlen(head_value(&r, "X-Request-Id")), 16);
	assert_non_null(strstr(r.body.data, "\"ip\":\"127.0.0.1\""));
	resp_free(&r);
}

static void test_static_files(void **state)
{
	(void)state;
	struct resp r;
	one("GET /app.js HTTP/1.1\r\n\r\n", &r, 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "console.log(1)");
	assert_string_equal(head_value(&r, "Content-Type"), "text/javascript; charset=utf-8");
	assert_string_equal(head_value(&r, "Cache-Control"), "no-cache");
	assert_string_equal(head_value(&r, "Vary"), "Accept-Encoding");
	assert_null(head_value(&r, "X-Frame-Options"));
	assert_string_equal(head_value(&r, "X-Content-Type-Options"), "nosniff");
	char etag[512], req[1024];
	snprintf(etag, sizeof etag, "%s", head_value(&r, "ETag"));
	resp_free(&r);

	snprintf(req, sizeof req, "GET /app.js HTTP/1.1\r\nIf-None-Match: \"zz\", %s\r\n\r\n", etag);
	one(req, &r, 1);
	assert_int_equal(r.status, 304);
	assert_string_equal(head_value(&r, "ETag"), etag);
	resp_free(&r);

	one("GET /app.js HTTP/1.1\r\nAccept-Encoding: br, gzip\r\n\r\n", &r, 0);
	assert_string_equal(r.body.data, "GZIPPED-BYTES");
	assert_string_equal(head_value(&r, "Content-Encoding"), "gzip");
	assert_string_equal(head_value(&r, "Content-Type"), "text/javascript; charset=utf-8");
	assert_string_not_equal(head_value(&r, "ETag"), etag);
	resp_free(&r);
	one("GET /app.js HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n\r\n", &r, 0);
	assert_string_equal(r.body.data, "console.log(1)");
	resp_free(&r);

	one("GET /assets/app-3f2a.css HTTP/1.1\r\n\r\n", &r, 0);
	assert_string_equal(head_value(&r, "Cache-Control"), "public, max-age=31536000, immutable");
	assert_string_equal(head_value(&r, "Content-Type"), "text/css; charset=utf-8");
	resp_free(&r);

	one("HEAD /app.js HTTP/1.1\r\n\r\n", &r, 1);
	assert_int_equal(r.status, 200);
	assert_string_equal(head_value(&r, "Content-Length"), "14");
	resp_free(&r);

	one("GET /docs/ HTTP/1.1\r\n\r\n", &r, 0);
	assert_string_equal(r.body.data, "docs index");
	resp_free(&r);
	one("GET /tickets/42 HTTP/1.1\r\n\r\n", &r, 0); /* the app's own route */
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "<!doctype html>app");
	assert_string_equal(head_value(&r, "Content-Type"), "text/html; charset=utf-8");
	resp_free(&r);

	static const char *missing[] = {
		"GET /missing.png HTTP/1.1\r\n\r\n", "GET /.env HTTP/1.1\r\n\r\n",
		"GET /leak.txt HTTP/1.1\r\n\r\n", "GET /%2e%2e/etc/passwd HTTP/1.1\r\n\r\n",
		"GET /assets/../.env HTTP/1.1\r\n\r\n", "GET /api/v1/none HTTP/1.1\r\n\r\n",
		"POST /app.js HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
		one(missing[i], &r, 0);
		assert_int_equal(r.status, 404);
		assert_string_equal(error_code(&r), "not_found");
		resp_free(&r);
	}
}

static void test_request_timeout(void **state)
{
	(void)state;
	struct client c;
	struct resp r;
	cl_open(&c);
	cl_send(&c, "GET /hello HTTP/1.1\r\nHost:");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 408);
	assert_string_equal(error_code(&r), "request_timeout");
	assert_true(cl_eof(&c, 3000));
	resp_free(&r);
	cl_close(&c);
}

static void test_idle_timeout(void **state)
{
	(void)state;
	struct client c;
	struct resp r;
	cl_open(&c);
	cl_send(&c, "GET /hello HTTP/1.1\r\n\r\n");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	resp_free(&r);
	assert_true(cl_eof(&c, 3000)); /* closed silently after 500 ms */
	cl_close(&c);
}

static void test_close_from_handler(void **state)
{
	(void)state;
	struct client c;
	struct resp r;
	cl_open(&c);
	cl_send(&c, "GET /close HTTP/1.1\r\n\r\n");
	assert_int_equal(cl_read(&c, &r, 0), 0);
	assert_string_equal(head_value(&r, "Connection"), "close");
	assert_true(cl_eof(&c, 3000));
	resp_free(&r);
	cl_close(&c);
}

static void test_metrics(void **state)
{
	(void)state;
	struct resp r;
	one("GET /metrics HTTP/1.1\r\n\r\n", &r, 0);
	const char *b = r.body.data;
	assert_non_null(strstr(b, "kefu_http_requests_total{route=\"/hello\",method=\"GET\",status=\"200\"} "));
	assert_non_null(strstr(b, "kefu_http_requests_total{route=\"static\",method=\"GET\",status=\"304\"} 1\n"));
	assert_non_null(strstr(b, "kefu_http_requests_total{route=\"none\",method=\"GET\",status=\"404\"} "));
	assert_non_null(strstr(b, "kefu_http_request_duration_seconds_bucket{route=\"/hello\",le=\"+Inf\"} "));
	assert_non_null(strstr(b, "kefu_http_request_duration_seconds_count{route=\"/hello\"} "));
	assert_non_null(strstr(b, "\nkefu_http_connections_open "));
	assert_non_null(strstr(b, "\nkefu_http_pool_queue_depth 0\n"));
	assert_non_null(strstr(b, "\nkefu_http_pool_workers 2\n"));
	resp_free(&r);
}

/* Last on the main server: SIGTERM while a request is in flight. */
static void test_drain(void **state)
{
	(void)state;
	struct client busy, idle;
	struct resp r;
	cl_open(&idle);
	cl_send(&idle, "GET /hello HTTP/1.1\r\n\r\n");
	assert_int_equal(cl_read(&idle, &r, 0), 0);
	resp_free(&r);
	cl_open(&busy);
	cl_send(&busy, "GET /slow HTTP/1.1\r\n\r\n");
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	kill(getpid(), SIGTERM);
	assert_true(cl_eof(&idle, 2000)); /* idle keep-alive: closed at once */
	assert_int_equal(cl_read(&busy, &r, 0), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "slow");
	assert_string_equal(head_value(&r, "Connection"), "close");
	resp_free(&r);
	assert_true(cl_eof(&busy, 2000));
	cl_close(&busy);
	cl_close(&idle);
	assert_int_equal(pthread_join(srv.thread, NULL), 0);
	assert_int_equal(srv.rc, 0);
	assert_int_equal(atomic_load(&workers_freed), 2);

	/* the access log: one JSON line per answer, flushed at exit */
	fflush(log_file);
	rewind(log_file);
	char line[4096];
	int lines = 0, seen_slow = 0;
	while (fgets(line, sizeof line, log_file)) {
		json_t *j = json_loads(line, 0, NULL);
		assert_non_null(j);
		static const char *keys[] = {"ts", "id", "ip", "method", "path", "route",
					     "status", "bytes", "dur_ms", "ua"};
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			assert_non_null(json_object_get(j, keys[k]));
		if (strcmp(json_string_value(json_object_get(j, "path")), "/slow") == 0) {
			seen_slow = 1;
			assert_true(json_real_value(json_object_get(j, "dur_ms")) >= 290.0);
			assert_string_equal(json_string_value(json_object_get(j, "route")), "/slow");
		}
		json_decref(j);
		lines++;
	}
	assert_true(seen_slow);
	assert_true(lines > 40);
}

/* A second server: max_connections and http_stop(). */
static void test_max_connections_and_stop(void **state)
{
	(void)state;
	struct running s2;
	memset(&s2, 0, sizeof s2);
	s2.cfg = srv.cfg;
	s2.cfg.max_connections = 3;
	s2.cfg.web_root = NULL;
	s2.cfg.access_log = NULL;
	s2.cfg.workers = 1;
	s2.cfg.idle_timeout_ms = 5000;
	start_server(&s2);
	struct client c[4];
	struct resp r;
	for (int i = 0; i < 3; i++) {
		cl_open_port(&c[i], s2.port);
		cl_send(&c[i], "GET /hello HTTP/1.1\r\n\r\n");
		assert_int_equal(cl_read(&c[i], &r, 0), 0);
		resp_free(&r);
	}
	cl_open_port(&c[3], s2.port); /* one too many: closed without a word */
	send(c[3].fd, "GET /hello HTTP/1.1\r\n\r\n", 23, MSG_NOSIGNAL);
	assert_int_equal(cl_read(&c[3], &r, 0), -1);
	resp_free(&r);
	cl_close(&c[3]);
	http_stop();
	for (int i = 0; i < 3; i++) {
		assert_true(cl_eof(&c[i], 2000));
		cl_close(&c[i]);
	}
	assert_int_equal(pthread_join(s2.thread, NULL), 0);
	assert_int_equal(s2.rc, 0);
}

static void test_listen_error(void **state)
{
	(void)state;
	struct http_config c = srv.cfg;
	c.host = "256.0.0.1";
	c.web_root = NULL;
	struct err e = {0};
	assert_int_equal(http_serve(&c, &e), -1);
	assert_non_null(strstr(e.msg, "cannot listen"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listening_line),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_http10),
		cmocka_unit_test(test_pipelining_order),
		cmocka_unit_test(test_trickled_request),
		cmocka_unit_test(test_payload_too_large),
		cmocka_unit_test(test_upload_limit),
		cmocka_unit_test(test_header_too_large),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_not_found_and_method),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_json_and_hooks),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_request_id_and_proxy),
		cmocka_unit_test(test_static_files),
		cmocka_unit_test(test_request_timeout),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_close_from_handler),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_max_connections_and_stop),
		cmocka_unit_test(test_listen_error),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
