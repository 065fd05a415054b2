/*
 * delivery.c -- see delivery.h.
 *
 * One thread runs a loop around curl_multi_poll: claim due items while
 * there is room for more transfers, start each as an easy handle, sleep
 * until a socket is ready, a transfer times out, the next item falls due or
 * delivery_kick calls curl_multi_wakeup, then record whatever finished.
 * The database is only touched from this thread, through its own
 * connection.
 */
#include "delivery.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../store/db.h"
#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/log.h"
#include "mail_send.h"
#include "outbox.h"

#define DEFAULT_POLL_MS 1000
#define DEFAULT_BACKOFF_MAX_MS (6 * 3600 * 1000LL)
#define RESP_KEEP 200 /* bytes of a failed response kept in the error */

struct xfer {
	struct outbox_item it;
	CURL *h;
	struct curl_slist *hdrs;
	struct mail_send *mail; /* an e-mail reply going out over SMTP */
	char errbuf[CURL_ERROR_SIZE];
	char resp[RESP_KEEP + 1];
	size_t resp_len;
	uint64_t start_us;
};

/* The one worker of this process.  mu guards running and multi against
 * delivery_kick racing delivery_stop; the thread itself reads cfg and multi
 * freely (set before it starts, torn down after it is joined). */
static struct {
	pthread_mutex_t mu;
	int running;
	pthread_t thread;
	CURLM *multi;
	struct delivery_config cfg;
	char *database, *blob_root;
	atomic_int stopping;
	atomic_int kicked;
} W = {.mu = PTHREAD_MUTEX_INITIALIZER};

int64_t delivery_backoff(const struct delivery_config *cfg, int64_t attempt)
{
	int64_t cap = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms
					      : DEFAULT_BACKOFF_MAX_MS;
	int64_t d = cfg->backoff_ms;
	for (int64_t i = 1; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	if (d < 2)
		return d;
	int64_t half = d / 2;
	if (half > UINT32_MAX - 1)
		half = UINT32_MAX - 1;
	return d - (int64_t)randombytes_uniform((uint32_t)half + 1);
}

void delivery_sign(const char *secret, int64_t ts, const char *body,
		   size_t len, char out[72])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char prefix[24];
	int n = snprintf(prefix, sizeof prefix, "%" PRId64 ".", ts);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, (size_t)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, 65, mac, sizeof mac);
	sodium_memzero(&st, sizeof st);
}

/* ---- one transfer ---- */

static size_t keep_response(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n, room = RESP_KEEP - x->resp_len;
	size_t take = len < room ? len : room;
	memcpy(x->resp + x->resp_len, data, take);
	x->resp_len += take;
	x->resp[x->resp_len] = '\0';
	return len; /* read (and drop) the rest */
}

static void xfer_free(struct xfer *x)
{
	if (x->h) {
		curl_multi_remove_handle(W.multi, x->h);
		curl_easy_cleanup(x->h);
	}
	curl_slist_free_all(x->hdrs);
	mail_send_free(x->mail);
	outbox_item_free(&x->it);
	free(x);
}

static struct curl_slist *header(struct curl_slist *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static struct curl_slist *header(struct curl_slist *l, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	struct curl_slist *r = curl_slist_append(l, b.data);
	buf_free(&b);
	return r;
}

static int is_mail(const struct outbox_item *it)
{
	return it->channel_type && strcmp(it->channel_type, "email") == 0;
}

/* An e-mail reply: SMTP with the mailbox's settings.  A set-up failure is
 * kept in errbuf (and x->h stays NULL). */
static void mail_start(struct xfer *x)
{
	struct err e = {0};
	CURL *c = curl_easy_init();
	if (!c)
		return;
	x->mail = mail_send_setup(c, x->it.channel_config, x->it.payload, W.cfg.blob_root, &e);
	if (!x->mail) {
		snprintf(x->errbuf, sizeof x->errbuf, "%s", e.msg);
		curl_easy_cleanup(c);
		return;
	}
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)W.cfg.timeout_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	x->start_us = clock_mono_us();
	if (curl_multi_add_handle(W.multi, c) != CURLM_OK) {
		curl_easy_cleanup(c);
		return;
	}
	x->h = c;
}

/* Starts the transfer; on failure to set it up, x->h stays NULL. */
static void xfer_start(struct xfer *x)
{
	if (is_mail(&x->it)) {
		mail_start(x);
		return;
	}
	const struct outbox_item *it = &x->it;
	size_t len = strlen(it->payload);
	int64_t ts = clock_now_ms() / 1000;
	struct curl_slist *h = NULL;
	h = header(h, "Content-Type: application/json");
	h = header(h, "X-Kefu-Event: %s", it->event);
	h = header(h, "X-Kefu-Delivery: %" PRId64, it->id);
	h = header(h, "X-Kefu-Timestamp: %" PRId64, ts);
	if (it->secret) {
		char sig[72];
		delivery_sign(it->secret, ts, it->payload, len, sig);
		h = header(h, "X-Kefu-Signature: %s", sig);
	}
	h = header(h, "Expect:"); /* no 100-continue round trip */
	x->hdrs = h;
	CURL *c = curl_easy_init();
	if (!c || !h)
		goto fail;
	int64_t t = W.cfg.timeout_ms;
	curl_easy_setopt(c, CURLOPT_URL, it->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "Kefu/" KEFU_VERSION);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)t);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(t < 10000 ? t : 10000));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_response);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	x->start_us = clock_mono_us();
	if (curl_multi_add_handle(W.multi, c) != CURLM_OK)
		goto fail;
	x->h = c;
	return;
fail:
	if (c)
		curl_easy_cleanup(c);
	log_error("delivery %" PRId64 ": transfer could not be set up", it->id);
}

/* A short, printable, valid UTF-8 excerpt of what the receiver answered. */
static void response_excerpt(struct xfer *x)
{
	size_t n = x->resp_len;
	/* Do not cut a UTF-8 sequence in half at the end. */
	if (n == RESP_KEEP) {
		size_t k = n;
		while (k > 0 && ((unsigned char)x->resp[k - 1] & 0xC0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)x->resp[k - 1] & 0x80))
			n = k - 1;
	}
	x->resp[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)x->resp[i] < 0x20 || x->resp[i] == 0x7f)
			x->resp[i] = ' ';
	json_t *check = json_stringn(x->resp, n);
	if (!check)
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)x->resp[i] >= 0x80)
				x->resp[i] = '?';
	json_decref(check);
	while (n > 0 && x->resp[n - 1] == ' ')
		x->resp[--n] = '\0';
	x->resp_len = n;
}

static void xfer_finish(struct db *db, struct xfer *x, CURLcode res)
{
	struct outbox_item *it = &x->it;
	long code = 0;
	if (x->h)
		curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	struct outbox_result r = {
		.now = clock_now_ms(),
		.http_status = (int)code,
		.duration_ms = x->start_us ? (int64_t)((clock_mono_us() - x->start_us) / 1000) : 0,
	};
	struct buf err = BUF_INIT;
	int permanent = 0;
	if (it->gone) {
		buf_puts(&err, strcmp(it->kind, OUTBOX_WEBHOOK) == 0 ? "the webhook no longer exists"
				: "the mailbox no longer exists or is inactive");
		r.outcome = OUTBOX_FAILED;
	} else if (it->already_read) {
		r.outcome = OUTBOX_DELIVERED; /* nothing to send: see the note */
	} else if (!x->h) {
		buf_puts(&err, x->errbuf[0] ? x->errbuf : "the request could not be set up");
	} else if (x->mail) {
		if (res != CURLE_OK) {
			const char *said = mail_send_answer(x->mail);
			buf_printf(&err, "%s%s%s", curl_easy_strerror(res), said[0] ? ": " : "",
				   said[0] ? said : x->errbuf);
			permanent = mail_send_permanent(res, code);
		}
	} else if (res != CURLE_OK) {
		buf_printf(&err, "%s%s%s", curl_easy_strerror(res),
			   x->errbuf[0] ? ": " : "", x->errbuf);
	} else if (code < 200 || code > 299) {
		response_excerpt(x);
		buf_printf(&err, "HTTP %ld%s%s", code, x->resp_len ? ": " : "", x->resp);
	}
	if (it->already_read) {
		buf_puts(&err, "not e-mailed: read in the chat");
	} else if (!err.data) {
		r.outcome = OUTBOX_DELIVERED;
	} else if (!it->gone) {
		if (it->attempt >= W.cfg.max_attempts || permanent) {
			r.outcome = OUTBOX_FAILED;
		} else {
			r.outcome = OUTBOX_RETRY;
			r.next_attempt_at = r.now + delivery_backoff(&W.cfg, it->attempt);
		}
	}
	r.error = err.data;
	struct err e = {0};
	int rc = outbox_complete(db, it, &r, &e);
	if (rc < 0)
		log_error("delivery %" PRId64 ": outcome not recorded (it will be "
			  "retried when its lease expires): %s", it->id, e.msg);
	else if (rc == 0)
		log_warn("delivery %" PRId64 ": lease lost before the outcome was "
			 "recorded", it->id);
	else if (r.outcome == OUTBOX_FAILED)
		log_warn("delivery %" PRId64 " to %s failed after %" PRId64
			 " attempts: %s", it->id, it->url, it->attempt, r.error);
	else
		log_debug("delivery %" PRId64 " attempt %" PRId64 ": %s", it->id,
			  it->attempt, r.error ? r.error : "delivered");
	buf_free(&err);
	xfer_free(x);
}

/* ---- the loop ---- */

/* Claims up to want items and starts them; returns how many were claimed
 * (-1 on error) and adds those now in flight to *inflight. */
static int claim_and_start(struct db *db, int want, int *inflight)
{
	struct outbox_item *items = NULL;
	int n = 0;
	struct err e = {0};
	if (outbox_claim(db, clock_now_ms(), W.cfg.lease_ms, want, &items, &n, &e) < 0) {
		log_error("delivery: claiming due items: %s", e.msg);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct xfer *x = xcalloc(1, sizeof *x);
		x->it = items[i]; /* takes over the strings */
		if (!x->it.gone && !x->it.already_read)
			xfer_start(x);
		if (x->h)
			(*inflight)++;
		else
			xfer_finish(db, x, CURLE_OK); /* gone, read, or set-up failed */
	}
	free(items);
	return n;
}

static void *run(void *arg)
{
	(void)arg;
	struct db *db = NULL;
	int inflight = 0, warned = 0;
	int64_t poll = W.cfg.poll_ms > 0 ? W.cfg.poll_ms : DEFAULT_POLL_MS;
	int64_t next_check = 0, next_connect = 0;
	for (;;) {
		int stopping = atomic_load(&W.stopping);
		if (stopping && inflight == 0)
			break;
		int64_t now = clock_now_ms();
		if (!stopping && !db && now >= next_connect) {
			struct err e = {0};
			if (db_open(W.database, &db, &e) < 0) {
				db = NULL;
				if (!warned++)
					log_warn("delivery: database: %s (retrying)", e.msg);
				next_connect = now + poll;
			}
		}
		int kicked = atomic_exchange(&W.kicked, 0);
		if (!stopping && db && inflight < DELIVERY_MAX_INFLIGHT &&
		    (kicked || now >= next_check)) {
			int want = DELIVERY_MAX_INFLIGHT - inflight;
			int got = claim_and_start(db, want, &inflight);
			now = clock_now_ms();
			if (got == want) {
				next_check = now; /* more may be due */
			} else {
				int64_t due = 0;
				struct err e = {0};
				if (got < 0 || outbox_next_due(db, now, &due, &e) < 0) {
					if (got >= 0)
						log_error("delivery: %s", e.msg);
					due = 0;
				}
				next_check = due ? due : now + poll;
				if (next_check > now + poll)
					next_check = now + poll;
				if (got <= 0 && next_check < now + 10)
					next_check = now + 10; /* never spin */
			}
		}
		int64_t wait = poll;
		if (!stopping && db && inflight < DELIVERY_MAX_INFLIGHT) {
			wait = next_check - now;
			wait = wait < 0 ? 0 : wait > poll ? poll : wait;
		}
		curl_multi_poll(W.multi, NULL, 0, (int)wait, NULL);
		int running = 0;
		curl_multi_perform(W.multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(W.multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct xfer *x = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			CURLcode res = msg->data.result;
			xfer_finish(db, x, res);
			inflight--;
			next_check = 0; /* a retry may be due soon: look again */
		}
	}
	db_close(db);
	return NULL;
}

int delivery_start(const struct delivery_config *cfg, struct err *e)
{
	if (!cfg->database || !cfg->database[0]) {
		ERR_INVALID(e, "delivery: no database");
		return -1;
	}
	if (cfg->timeout_ms < 1 || cfg->max_attempts < 1 || cfg->backoff_ms < 0 ||
	    cfg->timeout_ms > 24 * 3600 * 1000LL) {
		ERR_INVALID(e, "delivery-timeout must be 1 s to 1 day and "
			       "delivery-max-attempts at least 1");
		return -1;
	}
	if (cfg->lease_ms <= cfg->timeout_ms) {
		ERR_INVALID(e, "delivery-lease must be longer than delivery-timeout "
			       "(a lease that ends mid-request would send twice)");
		return -1;
	}
	pthread_mutex_lock(&W.mu);
	if (W.running) {
		pthread_mutex_unlock(&W.mu);
		ERR_INTERNAL(e, "delivery worker already running");
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    !(W.multi = curl_multi_init())) {
		pthread_mutex_unlock(&W.mu);
		ERR_INTERNAL(e, "libcurl could not start");
		return -1;
	}
	W.cfg = *cfg;
	W.database = xstrdup(cfg->database);
	W.cfg.database = W.database;
	W.blob_root = xstrdup(cfg->blob_root ? cfg->blob_root : "blobs");
	W.cfg.blob_root = W.blob_root;
	atomic_store(&W.stopping, 0);
	atomic_store(&W.kicked, 0);
	int rc = pthread_create(&W.thread, NULL, run, NULL);
	if (rc != 0) {
		curl_multi_cleanup(W.multi);
		W.multi = NULL;
		free(W.database);
		free(W.blob_root);
		W.database = W.blob_root = NULL;
		curl_global_cleanup();
		pthread_mutex_unlock(&W.mu);
		ERR_INTERNAL(e, "delivery thread: %s", strerror(rc));
		return -1;
	}
	W.running = 1;
	pthread_mutex_unlock(&W.mu);
	return 0;
}

void delivery_stop(void)
{
	pthread_mutex_lock(&W.mu);
	if (!W.running) {
		pthread_mutex_unlock(&W.mu);
		return;
	}
	atomic_store(&W.stopping, 1);
	curl_multi_wakeup(W.multi);
	pthread_mutex_unlock(&W.mu);
	pthread_join(W.thread, NULL);
	pthread_mutex_lock(&W.mu);
	curl_multi_cleanup(W.multi);
	W.multi = NULL;
	free(W.database);
	free(W.blob_root);
	W.database = W.blob_root = NULL;
	W.running = 0;
	curl_global_cleanup();
	pthread_mutex_unlock(&W.mu);
}

void delivery_kick(void)
{
	pthread_mutex_lock(&W.mu);
	if (W.running) {
		atomic_store(&W.kicked, 1);
		curl_multi_wakeup(W.multi);
	}
	pthread_mutex_unlock(&W.mu);
}
