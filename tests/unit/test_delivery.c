/*
 * test_delivery.c -- the outbox, webhook events and the delivery worker
 * against a tiny HTTP receiver on 127.0.0.1 (a thread with a listening
 * socket that records every request and answers with scripted statuses).
 *
 * Runs on SQLite, and again on PostgreSQL when KEFU_TEST_PG_ENV names the
 * env file of scripts/pg-test.sh (ctest sets it): signed deliveries, retries
 * with backoff, failure after the last attempt and a manual retry, channel
 * replies updating their message, leases left by a "crashed" node, two
 * nodes claiming at once, a clean stop with a request in flight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/account.h"
#include "core/delivery.h"
#include "core/outbox.h"
#include "core/webhook.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/token.h"

/* ---- the receiver ---- */

struct got {
	char delivery[32], event[64], ts[32], sig[96], ua[64], ctype[64];
	char body[8192];
	int64_t at_ms;
	int status;
};

#define MAXREQ 1024
static struct {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t mu;
	int script[16], nscript; /* statuses of the first requests */
	int status;              /* then this one */
	int delay_ms;            /* before answering */
	struct got *reqs;
	int nreq;
	atomic_int received; /* requests read (answered or not yet) */
	atomic_int stop;
} R = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void header_value(const char *head, const char *name, char *out, size_t n)
{
	out[0] = '\0';
	size_t len = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (strncasecmp(line, name, len) == 0 && line[len] == ':') {
			const char *v = line + len + 1;
			while (*v == ' ')
				v++;
			size_t vl = strcspn(v, "\r\n");
			snprintf(out, n, "%.*s", (int)vl, v);
			return;
		}
	}
}

static void serve_one(int c)
{
	char buf[16384];
	size_t len = 0;
	char *end = NULL;
	long clen = 0;
	for (;;) {
		ssize_t k = recv(c, buf + len, sizeof buf - 1 - len, 0);
		if (k <= 0)
			return;
		len += (size_t)k;
		buf[len] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			char cl[32];
			*end = '\0';
			header_value(buf, "content-length", cl, sizeof cl);
			*end = '\r';
			clen = atol(cl);
		}
		if (end && len >= (size_t)(end + 4 - buf) + (size_t)clen)
			break;
		if (len == sizeof buf - 1)
			return;
	}
	struct got g = {.at_ms = clock_now_ms()};
	*end = '\0';
	header_value(buf, "x-kefu-delivery", g.delivery, sizeof g.delivery);
	header_value(buf, "x-kefu-event", g.event, sizeof g.event);
	header_value(buf, "x-kefu-timestamp", g.ts, sizeof g.ts);
	header_value(buf, "x-kefu-signature", g.sig, sizeof g.sig);
	header_value(buf, "user-agent", g.ua, sizeof g.ua);
	header_value(buf, "content-type", g.ctype, sizeof g.ctype);
	snprintf(g.body, sizeof g.body, "%.*s", (int)clen, end + 4);
	atomic_fetch_add(&R.received, 1);
	pthread_mutex_lock(&R.mu);
	int i = R.nreq;
	g.status = i < R.nscript ? R.script[i] : R.status;
	int delay = R.delay_ms;
	pthread_mutex_unlock(&R.mu);
	if (delay)
		usleep((useconds_t)delay * 1000);
	char resp[256];
	const char *text = g.status < 300 ? "ok" : "receiver\tsays no\n\x01";
	int n = snprintf(resp, sizeof resp,
			 "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 g.status, strlen(text), text);
	send(c, resp, (size_t)n, MSG_NOSIGNAL);
	pthread_mutex_lock(&R.mu);
	if (R.nreq < MAXREQ)
		R.reqs[R.nreq++] = g;
	pthread_mutex_unlock(&R.mu);
}

static void *receiver(void *arg)
{
	(void)arg;
	while (!atomic_load(&R.stop)) {
		struct pollfd p = {.fd = R.fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int c = accept(R.fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(c);
		close(c);
	}
	return NULL;
}

static void receiver_start(void)
{
	R.reqs = calloc(MAXREQ, sizeof *R.reqs);
	R.nreq = 0;
	R.nscript = 0;
	R.status = 200;
	R.delay_ms = 0;
	atomic_store(&R.received, 0);
	atomic_store(&R.stop, 0);
	R.fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(R.fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(R.fd, 64), 0);
	socklen_t al = sizeof a;
	getsockname(R.fd, (struct sockaddr *)&a, &al);
	R.port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&R.thread, NULL, receiver, NULL), 0);
}

static void receiver_stop(void)
{
	atomic_store(&R.stop, 1);
	pthread_join(R.thread, NULL);
	close(R.fd);
	free(R.reqs);
	R.reqs = NULL;
}

static void script(int status, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	pthread_mutex_lock(&R.mu);
	for (int i = 0; i < n && i < 16; i++)
		R.script[i] = va_arg(ap, int);
	R.nscript = n;
	R.status = status;
	pthread_mutex_unlock(&R.mu);
	va_end(ap);
}

static int nreq(void)
{
	pthread_mutex_lock(&R.mu);
	int n = R.nreq;
	pthread_mutex_unlock(&R.mu);
	return n;
}

/* ---- engines and fixtures ---- */

static char url[600];      /* database of the current group */
static char pg_admin[1024]; /* PostgreSQL server, when configured */
static char pg_dbname[64];
static char sqlite_path[128];
static const struct audit_actor actor = {"system", 0, "test", "", ""};

struct fx {
	struct db *db;
	struct scope s;
	char target[64]; /* http://127.0.0.1:PORT/hook */
};

static struct db *open_or_die(const char *u)
{
	struct db *db = NULL;
	struct err e = {0};
	if (db_open(u, &db, &e) < 0)
		fail_msg("db_open %s: %s", u, e.msg);
	return db;
}

static int64_t q_int(struct db *db, const char *sql, int64_t a)
{
	int64_t v = -1;
	struct err e = {0};
	if (db_query_int(db, sql, DB_ARGS(DB_INT(a)), &v, &e) < 0)
		fail_msg("%s: %s", sql, e.msg);
	return v;
}

/* First column of the first row as text (caller frees), NULL for none. */
static char *q_text(struct db *db, const char *sql, int64_t a)
{
	struct db_res *res = NULL;
	struct err e = {0};
	if (db_query(db, sql, DB_ARGS(DB_INT(a)), &res, &e) < 0)
		fail_msg("%s: %s", sql, e.msg);
	char *s = NULL;
	if (db_res_next(res) && db_res_text(res, 0))
		s = strdup(db_res_text(res, 0));
	db_res_free(res);
	return s;
}

static int group_setup(void **state)
{
	(void)state;
	struct db *db = open_or_die(url);
	struct err e = {0};
	if (db_migrate(db, &e) < 0)
		fail_msg("migrate: %s", e.msg);
	db_close(db);
	return 0;
}

static int fx_setup(void **state)
{
	static int n;
	struct fx *f = calloc(1, sizeof *f);
	f->db = open_or_die(url);
	char slug[32];
	snprintf(slug, sizeof slug, "t%d", ++n);
	struct err e = {0};
	int64_t acc = 0;
	assert_int_equal(account_create(f->db, &actor, "Test", slug, &acc, &e), 0);
	f->s = (struct scope){f->db, acc};
	receiver_start();
	snprintf(f->target, sizeof f->target, "http://127.0.0.1:%d/hook", R.port);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	delivery_stop();
	receiver_stop();
	struct err e = {0};
	/* The worker claims every account's items: leave none behind. */
	db_exec(f->db, "DELETE FROM outbox_attempts", DB_NOARGS, &e);
	db_exec(f->db, "DELETE FROM outbox", DB_NOARGS, &e);
	db_exec(f->db, "DELETE FROM webhooks", DB_NOARGS, &e);
	db_close(f->db);
	free(f);
	return 0;
}

static struct delivery_config fast(void)
{
	return (struct delivery_config){
		.database = url, .timeout_ms = 2000, .lease_ms = 3000,
		.backoff_ms = 100, .max_attempts = 3, .poll_ms = 100,
	};
}

static void start(const struct delivery_config *c)
{
	struct err e = {0};
	if (delivery_start(c, &e) < 0)
		fail_msg("delivery_start: %s", e.msg);
}

static int64_t add_webhook(struct fx *f, const char *events_json, int active)
{
	json_t *ev = json_loads(events_json, 0, NULL);
	int64_t id = 0;
	struct err e = {0};
	assert_int_equal(webhook_create(&f->s, f->target, ev, active, &id, &e), 0);
	json_decref(ev);
	return id;
}

/* Emits event in its own transaction; returns the newest outbox id. */
static int64_t emit(struct fx *f, const char *event, const char *data_json)
{
	struct err e = {0};
	json_t *data = json_loads(data_json, 0, NULL);
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(webhook_emit(&f->s, event, data, &e), 0);
	assert_int_equal(db_commit(f->db, &e), 0);
	json_decref(data);
	delivery_kick();
	return q_int(f->db, "SELECT COALESCE(MAX(id), 0) FROM outbox WHERE account_id = $1",
		     f->s.account_id);
}

static char *status_of(struct fx *f, int64_t id)
{
	return q_text(f->db, "SELECT status FROM outbox WHERE id = $1", id);
}

/* Waits until the item has the status; fails after ms. */
static void wait_status(struct fx *f, int64_t id, const char *want, int ms)
{
	char *s = NULL;
	for (int i = 0; i < ms / 10; i++) {
		free(s);
		s = status_of(f, id);
		if (s && strcmp(s, want) == 0) {
			free(s);
			return;
		}
		usleep(10000);
	}
	fail_msg("delivery %" PRId64 " is %s, not %s, after %d ms", id, s ? s : "gone",
		 want, ms);
}

static int count_delivery(int64_t id, int ok_only)
{
	char want[32];
	snprintf(want, sizeof want, "%" PRId64, id);
	int n = 0;
	pthread_mutex_lock(&R.mu);
	for (int i = 0; i < R.nreq; i++)
		if (strcmp(R.reqs[i].delivery, want) == 0 &&
		    (!ok_only || R.reqs[i].status < 300))
			n++;
	pthread_mutex_unlock(&R.mu);
	return n;
}

/* Recomputes the signature independently of delivery_sign. */
static void check_signature(const struct got *g, const char *secret)
{
	char msg[9000];
	int n = snprintf(msg, sizeof msg, "%s.%s", g->ts, g->body);
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, (size_t)n);
	crypto_auth_hmacsha256_final(&st, mac);
	char hex[65], want[80];
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	snprintf(want, sizeof want, "sha256=%s", hex);
	assert_string_equal(g->sig, want);
	int64_t ts = atoll(g->ts);
	assert_true(llabs(ts - time(NULL)) < 60);
}

/* ---- tests ---- */

static void t_backoff_bounds(void **state)
{
	(void)state;
	struct delivery_config c = {.backoff_ms = 1000, .backoff_max_ms = 8000};
	for (int64_t n = 1; n <= 12; n++) {
		int64_t d = 1000;
		for (int64_t i = 1; i < n && d < 8000; i++)
			d *= 2;
		if (d > 8000)
			d = 8000;
		for (int k = 0; k < 50; k++) {
			int64_t b = delivery_backoff(&c, n);
			assert_true(b >= d / 2 && b <= d);
		}
	}
	c.backoff_max_ms = 0; /* default cap: 6 hours */
	assert_true(delivery_backoff(&c, 60) <= 6 * 3600 * 1000LL);
	assert_true(delivery_backoff(&c, 60) >= 3 * 3600 * 1000LL);
}

static void t_emit_rules(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	json_t *data = json_pack("{si}", "id", 1);
	/* Outside a transaction: refused, for events and raw items alike. */
	assert_int_equal(webhook_emit(&f->s, "ticket.created", data, &e), -1);
	int64_t id;
	assert_int_equal(outbox_enqueue(&f->s, "webhook", 1, f->target, "{}", &id, &e), -1);
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(webhook_emit(&f->s, "ticket.exploded", data, &e), -1);
	db_rollback(f->db);

	int64_t only_created = add_webhook(f, "[\"ticket.created\"]", 1);
	int64_t all = add_webhook(f, "[\"*\"]", 1);
	add_webhook(f, "[\"*\"]", 0); /* inactive */
	(void)only_created;
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(webhook_emit(&f->s, "ticket.updated", data, &e), 0);
	assert_int_equal(db_commit(f->db, &e), 0);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox WHERE account_id = $1",
			       f->s.account_id), 1);
	assert_int_equal(q_int(f->db, "SELECT ref_id FROM outbox WHERE account_id = $1",
			       f->s.account_id), all);
	/* A rolled-back event leaves nothing to send. */
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(webhook_emit(&f->s, "ticket.created", data, &e), 0);
	db_rollback(f->db);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox WHERE account_id = $1",
			       f->s.account_id), 1);
	/* Bad subscriptions. */
	json_t *bad = json_pack("[s]", "ticket.exploded");
	assert_int_equal(webhook_create(&f->s, f->target, bad, 1, &id, &e), -1);
	assert_int_equal(e.status, 400);
	json_decref(bad);
	json_t *ev = json_pack("[s]", "*");
	const char *bad_urls[] = {"ftp://x.example/", "http://", "not a url",
				  "javascript:alert(1)", "http://exa mple.com/", ""};
	for (size_t i = 0; i < sizeof bad_urls / sizeof *bad_urls; i++) {
		assert_int_equal(webhook_create(&f->s, bad_urls[i], ev, 1, &id, &e), -1);
		assert_int_equal(e.status, 400);
	}
	json_decref(ev);
	json_decref(data);
}

static void t_signed_delivery(void **state)
{
	struct fx *f = *state;
	int64_t wid = add_webhook(f, "[\"ticket.created\", \"ticket.updated\"]", 1);
	struct delivery_config c = fast();
	start(&c);
	int64_t id = emit(f, "ticket.created", "{\"id\": 7, \"subject\": \"打印机坏了\"}");
	wait_status(f, id, "delivered", 5000);
	assert_int_equal(nreq(), 1);
	const struct got *g = &R.reqs[0];
	char want[32];
	snprintf(want, sizeof want, "%" PRId64, id);
	assert_string_equal(g->delivery, want);
	assert_string_equal(g->event, "ticket.created");
	assert_string_equal(g->ctype, "application/json");
	assert_string_equal(g->ua, "Kefu/" KEFU_VERSION);
	char *secret = q_text(f->db, "SELECT secret FROM webhooks WHERE id = $1", wid);
	assert_true(strncmp(secret, "whsec_", 6) == 0);
	check_signature(g, secret);
	free(secret);
	/* The body is the envelope, byte for byte what is stored. */
	char *stored = q_text(f->db, "SELECT payload FROM outbox WHERE id = $1", id);
	assert_string_equal(g->body, stored);
	free(stored);
	json_t *body = json_loads(g->body, 0, NULL);
	assert_non_null(body);
	assert_string_equal(json_string_value(json_object_get(body, "event")), "ticket.created");
	assert_int_equal(json_integer_value(json_object_get(body, "delivery_id")), id);
	assert_int_equal(json_integer_value(json_object_get(body, "account_id")), f->s.account_id);
	assert_int_equal(strlen(json_string_value(json_object_get(body, "created_at"))), 24);
	assert_string_equal(json_string_value(json_object_get(json_object_get(body, "data"),
							     "subject")), "打印机坏了");
	json_decref(body);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox_attempts WHERE outbox_id = $1", id), 1);
	assert_int_equal(q_int(f->db, "SELECT http_status FROM outbox_attempts WHERE outbox_id = $1", id), 200);
	assert_true(q_int(f->db, "SELECT delivered_at FROM outbox WHERE id = $1", id) > 0);
	/* The log as the API shows it. */
	struct err e = {0};
	json_t *d = outbox_get(&f->s, OUTBOX_WEBHOOK, wid, id, &e);
	assert_non_null(d);
	assert_string_equal(json_string_value(json_object_get(d, "status")), "delivered");
	assert_string_equal(json_string_value(json_object_get(d, "event")), "ticket.created");
	assert_int_equal(json_array_size(json_object_get(d, "attempts")), 1);
	json_decref(d);
	assert_null(outbox_get(&f->s, OUTBOX_WEBHOOK, wid + 1, id, &e));
	assert_int_equal(e.status, 404);
}

static void t_retry_then_success(void **state)
{
	struct fx *f = *state;
	add_webhook(f, "[\"*\"]", 1);
	script(200, 2, 500, 503);
	struct delivery_config c = fast();
	c.max_attempts = 5;
	start(&c);
	int64_t id = emit(f, "customer.created", "{\"id\": 1}");
	wait_status(f, id, "delivered", 8000);
	assert_int_equal(nreq(), 3);
	assert_int_equal(count_delivery(id, 0), 3);
	assert_int_equal(count_delivery(id, 1), 1);
	/* Backoff: [50, 100] ms after the first failure, [100, 200] after the
	 * second (some slack for scheduling). */
	int64_t gap1 = R.reqs[1].at_ms - R.reqs[0].at_ms, gap2 = R.reqs[2].at_ms - R.reqs[1].at_ms;
	assert_true(gap1 >= 45);
	assert_true(gap2 >= 95);
	assert_true(gap1 < 1500 && gap2 < 1500);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox_attempts WHERE outbox_id = $1", id), 3);
	char *err = q_text(f->db, "SELECT error FROM outbox_attempts WHERE outbox_id = $1 "
			   "AND attempt = 1", id);
	assert_non_null(err);
	assert_string_equal(err, "HTTP 500: receiver says no"); /* controls blanked, trimmed */
	free(err);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox_attempts WHERE outbox_id = $1 "
			       "AND http_status = 200 AND error IS NULL AND attempt = 3", id), 1);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox WHERE id = $1 AND "
			       "last_error IS NULL AND last_status = 200", id), 1);
}

static void t_fail_after_max_then_retry(void **state)
{
	struct fx *f = *state;
	int64_t wid = add_webhook(f, "[\"*\"]", 1);
	script(500, 0);
	struct delivery_config c = fast();
	start(&c);
	int64_t id = emit(f, "ticket.updated", "{}");
	wait_status(f, id, "failed", 8000);
	usleep(300000); /* nothing more is sent */
	assert_int_equal(count_delivery(id, 0), 3);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox_attempts WHERE outbox_id = $1", id), 3);
	assert_int_equal(q_int(f->db, "SELECT last_status FROM outbox WHERE id = $1", id), 500);
	struct err e = {0};
	/* Only a failed item can be retried; then it gets a new round. */
	script(200, 0);
	assert_int_equal(outbox_retry(&f->s, OUTBOX_WEBHOOK, wid, id + 1000, &e), -1);
	assert_int_equal(e.status, 404);
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(outbox_retry(&f->s, OUTBOX_WEBHOOK, wid, id, &e), 0);
	assert_int_equal(outbox_take_wakeup(), 1);
	assert_int_equal(db_commit(f->db, &e), 0);
	delivery_kick();
	wait_status(f, id, "delivered", 5000);
	assert_int_equal(outbox_retry(&f->s, OUTBOX_WEBHOOK, wid, id, &e), -1);
	assert_int_equal(e.status, 409);
	assert_int_equal(count_delivery(id, 1), 1);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox_attempts WHERE outbox_id = $1", id), 4);
}

/* A ticket with one outbound message on a channel with a secret. */
static int64_t make_reply(struct fx *f, const char *secret)
{
	struct err e = {0};
	int64_t now = clock_now_ms(), cust, chan, ticket, msg;
	assert_int_equal(db_sq_int(&f->s,
		"INSERT INTO customers (account_id, name, created_at, updated_at) "
		"VALUES ($1, 'C', $2, $2) RETURNING id", DB_ARGS(DB_INT(now)), &cust, &e), 1);
	assert_int_equal(db_sq_int(&f->s,
		"INSERT INTO channels (account_id, type, name, secret, created_at, "
		"updated_at) VALUES ($1, 'api', 'API', $2, $3, $3) RETURNING id",
		DB_ARGS(DB_TEXT(secret), DB_INT(now)), &chan, &e), 1);
	assert_int_equal(db_sq_int(&f->s,
		"INSERT INTO tickets (account_id, number, subject, status, "
		"status_category, customer_id, channel_id, origin, created_at, "
		"updated_at) VALUES ($1, $2, 'S', 'open', 'open', $3, $4, 'api', $5, "
		"$5) RETURNING id",
		DB_ARGS(DB_INT(now % 100000000), DB_INT(cust), DB_INT(chan), DB_INT(now)),
		&ticket, &e), 1);
	assert_int_equal(db_sq_int(&f->s,
		"INSERT INTO messages (account_id, ticket_id, author_kind, direction, "
		"channel_id, text, delivery_status, created_at) VALUES ($1, $2, "
		"'agent', 'out', $3, 'hi', 'pending', $4) RETURNING id",
		DB_ARGS(DB_INT(ticket), DB_INT(chan), DB_INT(now)), &msg, &e), 1);
	return msg;
}

static int64_t enqueue_reply(struct fx *f, int64_t msg)
{
	struct err e = {0};
	int64_t id = 0;
	char payload[128];
	snprintf(payload, sizeof payload,
		 "{\"event\":\"message.created\",\"message_id\":%" PRId64 "}", msg);
	assert_int_equal(db_begin(f->db, &e), 0);
	assert_int_equal(outbox_enqueue(&f->s, OUTBOX_CHANNEL_REPLY, msg, f->target,
					payload, &id, &e), 0);
	assert_int_equal(db_commit(f->db, &e), 0);
	delivery_kick();
	return id;
}

static void t_channel_reply(void **state)
{
	struct fx *f = *state;
	struct delivery_config c = fast();
	c.max_attempts = 2;
	start(&c);
	int64_t msg = make_reply(f, "chan-secret-1");
	int64_t id = enqueue_reply(f, msg);
	wait_status(f, id, "delivered", 5000);
	char *ds = q_text(f->db, "SELECT delivery_status FROM messages WHERE id = $1", msg);
	assert_string_equal(ds, "sent");
	free(ds);
	assert_string_equal(R.reqs[0].event, "message.created");
	check_signature(&R.reqs[0], "chan-secret-1");

	script(502, 0);
	int64_t msg2 = make_reply(f, "chan-secret-2");
	int64_t id2 = enqueue_reply(f, msg2);
	wait_status(f, id2, "failed", 5000);
	ds = q_text(f->db, "SELECT delivery_status FROM messages WHERE id = $1", msg2);
	assert_string_equal(ds, "failed");
	free(ds);
	char *de = q_text(f->db, "SELECT delivery_error FROM messages WHERE id = $1", msg2);
	assert_non_null(de);
	assert_true(strncmp(de, "HTTP 502", 8) == 0);
	free(de);

	/* A channel without a secret: sent unsigned. */
	script(200, 0);
	int64_t msg3 = make_reply(f, NULL);
	int64_t id3 = enqueue_reply(f, msg3);
	wait_status(f, id3, "delivered", 5000);
	assert_string_equal(R.reqs[nreq() - 1].sig, "");
}

static void t_many_exactly_once(void **state)
{
	struct fx *f = *state;
	add_webhook(f, "[\"*\"]", 1);
	add_webhook(f, "[\"message.created\"]", 1);
	struct delivery_config c = fast();
	start(&c);
	/* Every third request fails once: retried, still delivered once. */
	script(200, 6, 500, 200, 200, 500, 200, 200);
	int64_t last = 0;
	for (int i = 0; i < 40; i++)
		last = emit(f, "message.created", "{\"n\": 1}");
	wait_status(f, last, "delivered", 10000);
	for (int i = 0; i < 200; i++) {
		if (q_int(f->db, "SELECT COUNT(*) FROM outbox WHERE account_id = $1 AND "
			  "status <> 'delivered'", f->s.account_id) == 0)
			break;
		usleep(20000);
	}
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox WHERE account_id = $1 "
			       "AND status = 'delivered'", f->s.account_id), 80);
	int64_t first = q_int(f->db, "SELECT MIN(id) FROM outbox WHERE account_id = $1",
			      f->s.account_id);
	for (int64_t id = first; id < first + 80; id++)
		assert_int_equal(count_delivery(id, 1), 1);
	assert_int_equal(nreq(), 82);
}

/* A node claimed an item and died: the worker sends it once the lease has
 * expired, and the dead node's late outcome is fenced off. */
static void t_expired_lease(void **state)
{
	struct fx *f = *state;
	add_webhook(f, "[\"*\"]", 1);
	int64_t id = emit(f, "ticket.created", "{}");
	struct outbox_item *items = NULL;
	int n = 0;
	struct err e = {0};
	int64_t t0 = clock_now_ms();
	assert_int_equal(outbox_claim(f->db, t0, 600, 5, &items, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(items[0].id, id);
	assert_int_equal(items[0].attempt, 1);
	assert_non_null(items[0].secret);
	struct delivery_config c = fast();
	start(&c);
	usleep(300000);
	assert_int_equal(nreq(), 0); /* still leased */
	wait_status(f, id, "delivered", 5000);
	assert_true(R.reqs[0].at_ms >= t0 + 600);
	assert_int_equal(count_delivery(id, 0), 1);
	assert_int_equal(q_int(f->db, "SELECT attempt FROM outbox_attempts WHERE outbox_id = $1", id), 2);
	struct outbox_result r = {.outcome = OUTBOX_RETRY, .error = "late",
				  .next_attempt_at = t0, .now = clock_now_ms()};
	assert_int_equal(outbox_complete(f->db, &items[0], &r, &e), 0);
	char *s = status_of(f, id);
	assert_string_equal(s, "delivered");
	free(s);
	outbox_item_free(&items[0]);
	free(items);
}

struct racer {
	int64_t *ids;
	int n;
};

static void *race(void *arg)
{
	struct racer *rc = arg;
	struct db *db = open_or_die(url);
	int idle = 0;
	while (idle < 3) {
		struct outbox_item *items = NULL;
		int n = 0;
		struct err e = {0};
		if (outbox_claim(db, clock_now_ms(), 60000, 7, &items, &n, &e) < 0)
			fail_msg("claim: %s", e.msg);
		idle = n ? 0 : idle + 1;
		for (int i = 0; i < n; i++) {
			rc->ids[rc->n++] = items[i].id;
			outbox_item_free(&items[i]);
		}
		free(items);
	}
	db_close(db);
	return NULL;
}

/* Two nodes claiming at once never get the same item. */
static void t_claim_race(void **state)
{
	struct fx *f = *state;
	struct err e = {0};
	enum { N = 300 };
	assert_int_equal(db_begin(f->db, &e), 0);
	for (int i = 0; i < N; i++) {
		int64_t id;
		assert_int_equal(outbox_enqueue(&f->s, "test", i, f->target, "{}", &id, &e), 0);
	}
	assert_int_equal(db_commit(f->db, &e), 0);
	struct racer a = {calloc(N, sizeof(int64_t)), 0}, b = {calloc(N, sizeof(int64_t)), 0};
	pthread_t ta, tb;
	pthread_create(&ta, NULL, race, &a);
	pthread_create(&tb, NULL, race, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.n + b.n, N);
	char *seen = calloc(N + 1, 1);
	int64_t first = q_int(f->db, "SELECT MIN(id) FROM outbox WHERE account_id = $1",
			      f->s.account_id);
	for (int i = 0; i < a.n + b.n; i++) {
		int64_t id = i < a.n ? a.ids[i] : b.ids[i - a.n];
		assert_true(id >= first && id < first + N);
		assert_int_equal(seen[id - first], 0);
		seen[id - first] = 1;
	}
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox WHERE account_id = $1 "
			       "AND claims = 1 AND attempts = 1", f->s.account_id), N);
	free(seen);
	free(a.ids);
	free(b.ids);
}

/* Stopping waits for the request in flight and records it. */
static void t_stop_finishes_inflight(void **state)
{
	struct fx *f = *state;
	add_webhook(f, "[\"*\"]", 1);
	R.delay_ms = 400;
	struct delivery_config c = fast();
	start(&c);
	int64_t id = emit(f, "ticket.created", "{}");
	for (int i = 0; i < 300 && atomic_load(&R.received) == 0; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&R.received), 1);
	delivery_stop();
	char *s = status_of(f, id);
	assert_string_equal(s, "delivered");
	free(s);
	delivery_kick(); /* harmless when stopped */
}

static void t_timeout(void **state)
{
	struct fx *f = *state;
	add_webhook(f, "[\"*\"]", 1);
	R.delay_ms = 700;
	struct delivery_config c = fast();
	c.timeout_ms = 200;
	c.lease_ms = 1000;
	c.max_attempts = 1;
	start(&c);
	int64_t id = emit(f, "ticket.created", "{}");
	wait_status(f, id, "failed", 5000);
	char *err = q_text(f->db, "SELECT last_error FROM outbox WHERE id = $1", id);
	assert_non_null(strcasestr(err, "timeout"));
	free(err);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox WHERE id = $1 AND "
			       "last_status IS NULL", id), 1);
}

static void t_config_checked(void **state)
{
	(void)state;
	struct err e = {0};
	struct delivery_config c = fast();
	c.lease_ms = c.timeout_ms;
	assert_int_equal(delivery_start(&c, &e), -1);
	assert_int_equal(e.status, 400);
	c = fast();
	c.max_attempts = 0;
	assert_int_equal(delivery_start(&c, &e), -1);
	c = fast();
	start(&c);
	assert_int_equal(delivery_start(&c, &e), -1); /* one per process */
	delivery_stop();
}

static void t_webhook_delete_forgets(void **state)
{
	struct fx *f = *state;
	int64_t wid = add_webhook(f, "[\"*\"]", 1);
	emit(f, "ticket.created", "{}");
	struct err e = {0};
	assert_int_equal(webhook_delete(&f->s, wid, &e), 0);
	assert_int_equal(q_int(f->db, "SELECT COUNT(*) FROM outbox WHERE ref_id = $1 AND "
			       "kind = 'webhook'", wid), 0);
	assert_int_equal(webhook_delete(&f->s, wid, &e), -1);
	assert_int_equal(e.status, 404);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
static const struct CMUnitTest tests[] = {
	cmocka_unit_test(t_backoff_bounds),
	T(t_emit_rules),
	T(t_signed_delivery),
	T(t_retry_then_success),
	T(t_fail_after_max_then_retry),
	T(t_channel_reply),
	T(t_many_exactly_once),
	T(t_expired_lease),
	T(t_claim_race),
	T(t_stop_finishes_inflight),
	T(t_timeout),
	T(t_config_checked),
	T(t_webhook_delete_forgets),
};

/* KEFU_TEST_PG_URL from the file named by KEFU_TEST_PG_ENV; 0 when found. */
static int pg_configured(void)
{
	const char *envfile = getenv("KEFU_TEST_PG_ENV");
	FILE *fp = envfile ? fopen(envfile, "r") : NULL;
	if (!fp)
		return -1;
	char line[700];
	int rc = -1;
	while (fgets(line, sizeof line, fp)) {
		if (strncmp(line, "KEFU_TEST_PG_URL=", 17) == 0) {
			line[strcspn(line, "\r\n")] = '\0';
			snprintf(pg_admin, sizeof pg_admin, "%s", line + 17);
			rc = 0;
		}
	}
	fclose(fp);
	return rc;
}

static void pg_admin_exec(const char *sql)
{
	struct db *db = open_or_die(pg_admin);
	struct err e = {0};
	if (db_exec(db, sql, DB_NOARGS, &e) < 0)
		fail_msg("%s: %s", sql, e.msg);
	db_close(db);
}

int main(void)
{
	log_set_level(LOG_ERROR);
	if (token_init() < 0)
		return 1;
	snprintf(sqlite_path, sizeof sqlite_path, "/tmp/kefu-delivery-%d.db", (int)getpid());
	snprintf(url, sizeof url, "sqlite://%s", sqlite_path);
	int failed = cmocka_run_group_tests_name("delivery on SQLite", tests, group_setup, NULL);
	char p[160];
	const char *suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s%s", sqlite_path, suffix[i]);
		unlink(p);
	}
	if (pg_configured() == 0) {
		char sql[160];
		snprintf(pg_dbname, sizeof pg_dbname, "kefu_delivery_test_%d", (int)getpid());
		snprintf(sql, sizeof sql, "CREATE DATABASE %s", pg_dbname);
		pg_admin_exec(sql);
		const char *host = strstr(pg_admin, "://");
		const char *slash = host ? strchr(host + 3, '/') : NULL;
		size_t head = slash ? (size_t)(slash - pg_admin) : strcspn(pg_admin, "?");
		snprintf(url, sizeof url, "%.*s/%s", (int)head, pg_admin, pg_dbname);
		failed += cmocka_run_group_tests_name("delivery on PostgreSQL", tests,
						      group_setup, NULL);
		snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", pg_dbname);
		pg_admin_exec(sql);
	} else {
		fprintf(stderr, "test_delivery: PostgreSQL not configured "
				"(KEFU_TEST_PG_ENV); ran on SQLite only\n");
	}
	return failed ? 1 : 0;
}
