/*
 * pool.c -- the worker threads that run handlers.
 *
 * Owns: the threads (plain pthreads), their lifecycle around the
 * application's worker_init / worker_free, the queue of requests waiting
 * for a worker (mutex + condition variable, bounded) and the list of
 * finished requests waiting for the loop.  It knows nothing of HTTP: what a
 * worker does with a request is the run callback, how the loop learns of a
 * result is the notify callback (server.c uses uv_async_send, which
 * coalesces wake-ups).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct worker {
	struct pool *pool;
	int index;
	pthread_t thread;
};

struct pool {
	pthread_mutex_t mu; /* the request queue */
	pthread_cond_t cv;
	struct hreq *head, *tail;
	atomic_int depth; /* changed under mu; read without it by pool_depth */
	int idle, stop;

	pthread_mutex_t done_mu; /* the finished list */
	struct hreq *done_head, *done_tail;

	struct worker *workers;
	int n, started;
	const struct http_app *app;
	pool_run_fn run;
	pool_notify_fn notify;
	void *arg;
};

static struct hreq *next_job(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	while (!p->head && !p->stop) {
		p->idle++;
		pthread_cond_wait(&p->cv, &p->mu);
		p->idle--;
	}
	struct hreq *h = p->head;
	if (h) {
		p->head = h->next;
		if (!p->head)
			p->tail = NULL;
		atomic_fetch_sub_explicit(&p->depth, 1, memory_order_relaxed);
		metrics_queue(-1);
	}
	pthread_mutex_unlock(&p->mu);
	return h;
}

static void finish_job(struct pool *p, struct hreq *h)
{
	h->next = NULL;
	pthread_mutex_lock(&p->done_mu);
	if (p->done_tail)
		p->done_tail->next = h;
	else
		p->done_head = h;
	p->done_tail = h;
	pthread_mutex_unlock(&p->done_mu);
	p->notify(p->arg);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	void *wctx = p->app->worker_init ? p->app->worker_init(p->app->arg, w->index) : NULL;
	struct hreq *h;
	/* On stop the queue is still emptied: in-flight requests finish. */
	while ((h = next_job(p))) {
		p->run(p->arg, h, wctx);
		finish_job(p, h);
	}
	if (p->app->worker_free)
		p->app->worker_free(wctx);
	return NULL;
}

struct pool *pool_new(int n, const struct http_app *app, pool_run_fn run,
		      pool_notify_fn notify, void *arg, struct err *e)
{
	struct pool *p = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	pthread_mutex_init(&p->done_mu, NULL);
	p->app = app;
	p->run = run;
	p->notify = notify;
	p->arg = arg;
	p->n = n;
	p->workers = xcalloc((size_t)n, sizeof *p->workers);
	/* Workers block every signal: SIGTERM and friends belong to the loop. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < n; i++) {
		p->workers[i].pool = p;
		p->workers[i].index = i;
		if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i])) {
			ERR_INTERNAL(e, "cannot start worker thread %d", i);
			break;
		}
		p->started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->started < n) {
		pool_stop(p);
		pool_free(p);
		return NULL;
	}
	return p;
}

void pool_submit(struct pool *p, struct hreq *list, int n)
{
	struct hreq *last = list;
	while (last->next)
		last = last->next;
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = list;
	else
		p->head = list;
	p->tail = last;
	atomic_fetch_add_explicit(&p->depth, n, memory_order_relaxed);
	metrics_queue(n);
	/* wake only sleepers there is work for; busy workers find it anyway */
	for (int i = 0; i < n && i < p->idle; i++)
		pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int pool_depth(struct pool *p)
{
	return atomic_load_explicit(&p->depth, memory_order_relaxed);
}

struct hreq *pool_take_done(struct pool *p)
{
	pthread_mutex_lock(&p->done_mu);
	struct hreq *h = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->done_mu);
	return h;
}

void pool_stop(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->started; i++)
		pthread_join(p->workers[i].thread, NULL);
	p->started = 0;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->done_mu);
	free(p->workers);
	free(p);
}
