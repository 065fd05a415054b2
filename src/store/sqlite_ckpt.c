/* sqlite_ckpt.c -- see sqlite_ckpt.h. */
#include "sqlite_ckpt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/buf.h"
#include "../util/log.h"

#define CKPT_PAGES 8192  /* 32 MiB of log (SQLite's own default: 1000 pages) */
#define CKPT_IDLE_S 10   /* a log that stopped growing is copied back after this */
#define CKPT_PASSES 4    /* passes beside the writers ... */
#define CKPT_TAIL 256    /* ... until no more than this many pages are left */
#define CKPT_WAIT_MS 100 /* for readers still in the log, writers held out */

struct sq_ckpt {
	char *path;
	sqlite3 *h; /* the thread's own connection */
	int refs;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pages;  /* in the log at the last commit (0: nothing since the last checkpoint) */
	int wanted; /* past CKPT_PAGES: checkpoint now */
	int stop;
	struct sq_ckpt *next;
};

/* The files with a checkpointer, and how many connections use each. */
static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sq_ckpt *all;

/* Runs in the committing thread, right after its COMMIT: only a signal. */
static int on_commit(void *arg, sqlite3 *h, const char *db, int pages)
{
	struct sq_ckpt *c = arg;
	(void)h;
	(void)db;
	pthread_mutex_lock(&c->mu);
	c->pages = pages;
	if (pages >= CKPT_PAGES && !c->wanted) {
		c->wanted = 1;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return SQLITE_OK;
}

/* One pass in mode: frames of the log left after it, -1 when busy or on
 * error. */
static int pass(sqlite3 *h, int mode, const char *path)
{
	int log_pages = 0, done = 0;
	int rc = sqlite3_wal_checkpoint_v2(h, "main", mode, &log_pages, &done);
	if (rc == SQLITE_BUSY) /* readers stayed, or another process checkpoints */
		return -1;
	if (rc != SQLITE_OK) {
		log_warn("sqlite: checkpoint of %s: %s", path, sqlite3_errmsg(h));
		return -1;
	}
	return log_pages - done;
}

/* Copy the log back while writers go on, until little is left.  Then,
 * with this process's writers held out, the rest, and wait (a few ms at
 * most: readers are short) until no reader still uses the log, so that
 * the next writer starts it again from its beginning.  Passes that always
 * trail the writers, or readers always somewhere in the log, would let it
 * grow without end. */
static void checkpoint(sqlite3 *h, const char *path)
{
	for (int i = 0; i < CKPT_PASSES; i++)
		if (pass(h, SQLITE_CHECKPOINT_PASSIVE, path) <= CKPT_TAIL)
			break;
	sq_writers_pause();
	pass(h, SQLITE_CHECKPOINT_RESTART, path);
	sq_writers_resume();
}

/* Wait for "wanted", or for CKPT_IDLE_S after a commit; checkpoint;
 * again, until stopped. */
static void *run(void *arg)
{
	struct sq_ckpt *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += CKPT_IDLE_S;
		int timed_out = 0;
		while (!c->wanted && !c->stop && !timed_out)
			timed_out = pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0;
		if (c->stop || (!c->wanted && c->pages == 0))
			continue;
		c->wanted = 0;
		c->pages = 0;
		pthread_mutex_unlock(&c->mu);
		checkpoint(c->h, c->path);
		pthread_mutex_lock(&c->mu);
		/* commits meanwhile counted the log before it restarted; the
		 * next one tells whether it did */
		c->wanted = 0;
	}
	pthread_mutex_unlock(&c->mu);
	/* The last connection of the file: closing it copies back the rest. */
	sqlite3_close_v2(c->h);
	return NULL;
}

/* Readers leave the log within a few ms: look again every 0.2 ms (SQLite's
 * own handler sleeps 1, 2, 5, 10 ... ms, while writers wait), up to
 * CKPT_WAIT_MS. */
static int wait_readers(void *arg, int tries)
{
	(void)arg;
	if (tries * 200 >= CKPT_WAIT_MS * 1000)
		return 0;
	struct timespec t = {0, 200 * 1000};
	nanosleep(&t, NULL);
	return 1;
}

static struct sq_ckpt *start(const char *path)
{
	struct sq_ckpt *c = xcalloc(1, sizeof *c);
	/* A connection finds the log only once it has read the database. */
	if (sqlite3_open_v2(path, &c->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(c->h, "PRAGMA journal_mode", NULL, NULL, NULL) != SQLITE_OK) {
		log_warn("sqlite: checkpoints of %s stay in commits: %s", path,
			 c->h ? sqlite3_errmsg(c->h) : "cannot open");
		sqlite3_close_v2(c->h);
		free(c);
		return NULL;
	}
	sqlite3_busy_handler(c->h, wait_readers, NULL);
	c->path = xstrdup(path);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, run, c) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		sqlite3_close_v2(c->h);
		free(c->path);
		free(c);
		return NULL;
	}
	return c;
}

static int in_memory(const char *path)
{
	return !path[0] || !strcmp(path, ":memory:") || strstr(path, "mode=memory");
}

struct sq_ckpt *sq_ckpt_attach(sqlite3 *h, const char *path)
{
	if (in_memory(path))
		return NULL;
	pthread_mutex_lock(&all_mu);
	struct sq_ckpt *c = all;
	while (c && strcmp(c->path, path) != 0)
		c = c->next;
	if (!c && (c = start(path)) != NULL) {
		c->next = all;
		all = c;
	}
	if (c)
		c->refs++;
	pthread_mutex_unlock(&all_mu);
	if (c)
		sqlite3_wal_hook(h, on_commit, c); /* replaces SQLite's own checkpoints */
	return c;
}

void sq_ckpt_detach(struct sq_ckpt *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&all_mu);
	int last = --c->refs == 0;
	if (last) {
		struct sq_ckpt **p = &all;
		while (*p != c)
			p = &(*p)->next;
		*p = c->next;
	}
	pthread_mutex_unlock(&all_mu);
	if (!last)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->path);
	free(c);
}
