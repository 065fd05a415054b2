/*
 * mail_poll.c -- see mail_poll.h.
 *
 * One thread, one database connection, one libcurl easy handle per
 * mailbox poll (libcurl keeps the IMAP connection open between the
 * commands of that poll, so SELECT happens once).  Blocking transfers are
 * fine here: the thread does nothing else, and a transfer is aborted from
 * its progress callback as soon as the poller is asked to stop.
 */
#include "mail_poll.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../store/db.h"
#include "../text/imap_reply.h"
#include "../util/buf.h"
#include "../util/clock.h"
#include "../util/log.h"
#include "mail_in.h"
#include "mail_server.h"
#include "mailbox.h"

#define DEFAULT_TICK_MS 1000
#define MAX_DUE 16

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int running, kicked;
	atomic_int stopping;
	char *database, *blob_root;
	int64_t tick_ms;
} P = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* ---- one poll ---- */

struct poll {
	struct db *db;
	struct mailbox *box;
	CURL *c;
	char errbuf[CURL_ERROR_SIZE];
	struct mail_answer said; /* the server's last NO/BAD */
	struct buf out;   /* what the last command returned */
	int too_big;
	char folder[256]; /* as configured */
	char *path;       /* "/<folder, URL-encoded>" */
	struct buf error; /* why the poll failed; empty: it did not */
	int taken, skipped;
	int more; /* stopped at the batch size: poll again at once */
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct poll *p = arg;
	size_t len = size * n;
	if (p->out.len + len > MAIL_POLL_MAX_BYTES) {
		p->too_big = 1;
		return 0; /* libcurl ends the transfer with CURLE_WRITE_ERROR */
	}
	buf_append(&p->out, data, len);
	return len;
}

static int abort_when_stopping(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
			       curl_off_t d)
{
	(void)arg, (void)a, (void)b, (void)c, (void)d;
	return atomic_load(&P.stopping);
}

/* Run one command: the URL path (after the server's base) and, for a
 * command libcurl has no URL form for, its text.  0 or -1 (p->error). */
static int run(struct poll *p, const char *path, const char *command, const char *what)
{
	struct err e = {0};
	buf_reset(&p->out);
	p->too_big = 0;
	p->errbuf[0] = '\0';
	p->said.text[0] = '\0';
	if (mail_server_setup(p->c, p->box->config, MAIL_IMAP, path, &e) < 0) {
		buf_printf(&p->error, "%s", e.msg);
		return -1;
	}
	curl_easy_setopt(p->c, CURLOPT_CUSTOMREQUEST, command);
	uint64_t t0 = clock_mono_us();
	CURLcode rc = curl_easy_perform(p->c);
	log_debug("mailbox %" PRId64 ": %s %s: %d, %zu bytes, %.1f ms", p->box->channel_id,
		  what, command ? command : path, (int)rc, p->out.len,
		  (double)(clock_mono_us() - t0) / 1000.0);
	if (rc == CURLE_OK)
		return 0;
	if (rc == CURLE_WRITE_ERROR && p->too_big)
		return 1;
	buf_printf(&p->error, "IMAP %s: %s", what, curl_easy_strerror(rc));
	if (p->said.text[0])
		buf_printf(&p->error, " (server: %s)", p->said.text);
	else if (p->errbuf[0])
		buf_printf(&p->error, ": %s", p->errbuf);
	return -1;
}

/* The folder as an IMAP quoted string. */
static void quoted(const char *s, struct buf *b)
{
	buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

static int status(struct poll *p, uint64_t *validity, uint64_t *uidnext)
{
	struct buf cmd = BUF_INIT;
	buf_puts(&cmd, "STATUS ");
	quoted(p->folder, &cmd);
	buf_puts(&cmd, " (UIDVALIDITY UIDNEXT)");
	int rc = run(p, "/", cmd.data, "STATUS");
	buf_free(&cmd);
	if (rc == 0 && !imap_parse_status(p->out.data, p->out.len, validity, uidnext)) {
		buf_printf(&p->error, "IMAP STATUS: the server did not say UIDVALIDITY and "
				      "UIDNEXT of folder \"%s\"", p->folder);
		rc = -1;
	}
	return rc == 0 ? 0 : -1;
}

/* One message: fetch, store, mark.  0 go on, -1 stop (p->error). */
static int take(struct poll *p, uint64_t validity, uint64_t uid)
{
	char path[600];
	snprintf(path, sizeof path, "%s;UIDVALIDITY=%" PRIu64 ";UID=%" PRIu64, p->path,
		 validity, uid);
	int rc = run(p, path, NULL, "FETCH");
	if (rc < 0)
		return -1;
	struct err e = {0};
	struct mail_in_result r;
	if (rc == 1) {
		log_warn("mailbox %" PRId64 ": UID %" PRIu64 " is larger than %u bytes; "
			 "skipped (it stays on the server)", p->box->channel_id, uid,
			 MAIL_POLL_MAX_BYTES);
		p->skipped++;
	} else if (mail_ingest(p->db, p->box->account_id, p->box->channel_id, P.blob_root,
			       p->out.data ? p->out.data : "", p->out.len, &r, &e) < 0) {
		if (e.status != 400) {
			buf_printf(&p->error, "storing UID %" PRIu64 ": %s", uid, e.msg);
			return -1;
		}
		log_warn("mailbox %" PRId64 ": UID %" PRIu64 " is not mail (%s); skipped",
			 p->box->channel_id, uid, e.msg);
		p->skipped++;
	} else {
		p->taken += !r.in.duplicate;
	}
	if (mailbox_progress(p->db, p->box, validity, uid, &e) < 0) {
		buf_printf(&p->error, "recording progress: %s", e.msg);
		return -1;
	}
	char cmd[96];
	snprintf(cmd, sizeof cmd, "UID STORE %" PRIu64 " +FLAGS.SILENT (\\Seen)", uid);
	if (run(p, p->path, cmd, "STORE") < 0)
		buf_reset(&p->error); /* a courtesy only: the mark is what counts */
	return 0;
}

static void poll_box(struct poll *p)
{
	const char *f = json_string_value(json_object_get(json_object_get(p->box->config, "imap"),
							  "folder"));
	snprintf(p->folder, sizeof p->folder, "%s", f && f[0] ? f : "INBOX");
	if (strpbrk(p->folder, "\r\n")) {
		buf_puts(&p->error, "the folder name has a line break");
		return;
	}
	char *enc = curl_easy_escape(p->c, p->folder, 0);
	struct buf path = BUF_INIT;
	buf_printf(&path, "/%s", enc ? enc : "INBOX");
	curl_free(enc);
	p->path = buf_steal(&path);
	uint64_t validity, uidnext, last = p->box->last_uid;
	if (status(p, &validity, &uidnext) < 0)
		return;
	if (validity != p->box->uidvalidity)
		last = 0; /* a new folder generation: read it all again */
	if (uidnext <= last + 1)
		return;
	char cmd[64];
	snprintf(cmd, sizeof cmd, "UID SEARCH UID %" PRIu64 ":*", last + 1);
	if (run(p, p->path, cmd, "SEARCH") < 0)
		return;
	uint64_t *uids;
	int n = imap_parse_search(p->out.data, p->out.len, last, MAIL_POLL_BATCH, &uids);
	for (int i = 0; i < n && !atomic_load(&P.stopping); i++)
		if (take(p, validity, uids[i]) < 0)
			break;
	free(uids);
	p->more = n == MAIL_POLL_BATCH;
}

static void poll_one(struct db *db, struct mailbox *box)
{
	struct poll p = {.db = db, .box = box};
	p.c = curl_easy_init();
	if (!p.c) {
		buf_puts(&p.error, "libcurl could not start");
	} else {
		curl_easy_setopt(p.c, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(p.c, CURLOPT_WRITEDATA, &p);
		curl_easy_setopt(p.c, CURLOPT_ERRORBUFFER, p.errbuf);
		curl_easy_setopt(p.c, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(p.c, CURLOPT_XFERINFOFUNCTION, abort_when_stopping);
		p.said.proto = MAIL_IMAP;
		mail_server_watch(p.c, &p.said);
		poll_box(&p);
		curl_easy_cleanup(p.c);
	}
	const char *error = p.error.len ? p.error.data : NULL;
	if (atomic_load(&P.stopping)) {
		/* Cut short by shutdown, not failed: the progress is recorded;
		 * the lease names this process, so the next start on this host
		 * takes the mailbox over at once. */
		log_info("mailbox %" PRId64 ": poll interrupted by shutdown after %d message(s)",
			 box->channel_id, p.taken);
		goto out;
	}
	if (error)
		log_warn("mailbox %" PRId64 ": %s", box->channel_id, error);
	else if (p.taken || p.skipped)
		log_info("mailbox %" PRId64 ": %d new message(s), %d skipped", box->channel_id,
			 p.taken, p.skipped);
	struct err e = {0};
	if (mailbox_done(db, box, error, p.more, &e) < 0)
		log_error("mailbox %" PRId64 ": recording the poll: %s", box->channel_id, e.msg);
	else if (p.more)
		mail_poll_kick(); /* more to read: do not wait for the next tick */
out:
	buf_free(&p.out);
	buf_free(&p.error);
	free(p.path);
}

/* ---- the thread ---- */

static void wait_tick(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ns = ts.tv_nsec + (P.tick_ms % 1000) * 1000000;
	ts.tv_sec += P.tick_ms / 1000 + ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	pthread_mutex_lock(&P.mu);
	while (!P.kicked && !atomic_load(&P.stopping))
		if (pthread_cond_timedwait(&P.cv, &P.mu, &ts) != 0)
			break;
	P.kicked = 0;
	pthread_mutex_unlock(&P.mu);
}

static void *poller(void *arg)
{
	(void)arg;
	struct db *db = NULL;
	int warned = 0;
	while (!atomic_load(&P.stopping)) {
		struct err e = {0};
		if (!db && db_open(P.database, &db, &e) < 0) {
			db = NULL;
			if (!warned++)
				log_warn("mail poller: database: %s (retrying)", e.msg);
		}
		struct mailbox *boxes = NULL;
		int n = 0;
		if (db && mailbox_due(db, clock_now_ms(), MAX_DUE, &boxes, &n, &e) < 0) {
			log_error("mail poller: %s", e.msg);
			db_close(db); /* a broken connection: open a new one */
			db = NULL;
		}
		for (int i = 0; i < n && !atomic_load(&P.stopping); i++)
			poll_one(db, &boxes[i]);
		mailbox_free_all(boxes, n);
		wait_tick();
	}
	db_close(db);
	return NULL;
}

int mail_poll_start(const struct mail_poll_config *cfg, struct err *e)
{
	pthread_mutex_lock(&P.mu);
	if (P.running) {
		pthread_mutex_unlock(&P.mu);
		ERR_INTERNAL(e, "mail poller already running");
		return -1;
	}
	P.database = xstrdup(cfg->database);
	P.blob_root = xstrdup(cfg->blob_root);
	P.tick_ms = cfg->tick_ms > 0 ? cfg->tick_ms : DEFAULT_TICK_MS;
	P.kicked = 0;
	atomic_store(&P.stopping, 0);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int rc = pthread_create(&P.thread, NULL, poller, NULL);
	if (rc != 0) {
		free(P.database);
		free(P.blob_root);
		P.database = P.blob_root = NULL;
		curl_global_cleanup();
		pthread_mutex_unlock(&P.mu);
		ERR_INTERNAL(e, "mail poller thread: %s", strerror(rc));
		return -1;
	}
	P.running = 1;
	pthread_mutex_unlock(&P.mu);
	return 0;
}

void mail_poll_stop(void)
{
	pthread_mutex_lock(&P.mu);
	if (!P.running) {
		pthread_mutex_unlock(&P.mu);
		return;
	}
	atomic_store(&P.stopping, 1);
	pthread_cond_broadcast(&P.cv);
	pthread_mutex_unlock(&P.mu);
	pthread_join(P.thread, NULL);
	pthread_mutex_lock(&P.mu);
	free(P.database);
	free(P.blob_root);
	P.database = P.blob_root = NULL;
	P.running = 0;
	curl_global_cleanup();
	pthread_mutex_unlock(&P.mu);
}

void mail_poll_kick(void)
{
	pthread_mutex_lock(&P.mu);
	P.kicked = 1;
	pthread_cond_broadcast(&P.cv);
	pthread_mutex_unlock(&P.mu);
}
