/*
 * gx_pool.c - a fork-join pool (see gx_pool.h).
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "gx.h"
#include "gx_pool.h"

struct gx_pool {
	size_t nthreads;
	pthread_t *th;		/* nthreads - 1 helpers */
	pthread_mutex_t mu;
	pthread_cond_t start;	/* a new run (gen changed) or quit */
	pthread_cond_t done;	/* a helper finished its part of a run */
	unsigned long gen;	/* runs started */
	int quit;
	size_t busy;		/* helpers still in the current run */
	/* the current run */
	gx_pool_fn fn;
	void *ctx;
	size_t n;
	size_t next;		/* next item to hand out (under mu) */
	int started;		/* a run not yet waited for */
};

struct helper_arg {
	gx_pool_t *p;
	size_t thread;
};

/* Take items until none is left; mu is held on entry and on return. */
static void drain(gx_pool_t *p, size_t thread)
{
	while (p->next < p->n) {
		size_t i = p->next++;
		pthread_mutex_unlock(&p->mu);
		p->fn(p->ctx, thread, i);
		pthread_mutex_lock(&p->mu);
	}
}

static void *helper(void *arg)
{
	struct helper_arg a = *(struct helper_arg *)arg;
	gx_pool_t *p = a.p;
	free(arg);
	/* Runs are counted from the pool's creation (gen 0), not from when
	 * this thread got going: a run started before that is still ours. */
	unsigned long seen = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->quit && p->gen == seen)
			pthread_cond_wait(&p->start, &p->mu);
		if (p->quit)
			break;
		seen = p->gen;
		drain(p, a.thread);
		if (--p->busy == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

gx_pool_t *gx_pool_new(size_t nthreads)
{
	gx_pool_t *p = gx_calloc(1, sizeof(*p));
	p->nthreads = nthreads ? nthreads : 1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->start, NULL);
	pthread_cond_init(&p->done, NULL);
	p->th = gx_calloc(p->nthreads, sizeof(*p->th));
	for (size_t t = 1; t < p->nthreads; t++) {
		struct helper_arg *a = gx_malloc(sizeof(*a));
		a->p = p;
		a->thread = t;
		if (pthread_create(&p->th[t - 1], NULL, helper, a)) {
			/* Fewer threads than asked: the pool works with the
			 * ones it has (gx_pool_threads says how many). */
			free(a);
			p->nthreads = t;
			break;
		}
	}
	return p;
}

size_t gx_pool_threads(const gx_pool_t *p)
{
	return p->nthreads;
}

void gx_pool_start(gx_pool_t *p, size_t n, gx_pool_fn fn, void *ctx)
{
	pthread_mutex_lock(&p->mu);
	assert(!p->started); /* one run at a time */
	p->fn = fn;
	p->ctx = ctx;
	p->n = n;
	p->next = 0;
	p->started = 1;
	if (p->nthreads > 1 && n) {
		p->busy = p->nthreads - 1;
		p->gen++;
		pthread_cond_broadcast(&p->start);
	}
	pthread_mutex_unlock(&p->mu);
}

void gx_pool_wait(gx_pool_t *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->started) {
		drain(p, 0);
		while (p->busy)
			pthread_cond_wait(&p->done, &p->mu);
		p->fn = NULL;
		p->ctx = NULL;
		p->started = 0;
	}
	pthread_mutex_unlock(&p->mu);
}

int gx_pool_running(const gx_pool_t *p)
{
	return p->started;
}

void gx_pool_run(gx_pool_t *p, size_t n, gx_pool_fn fn, void *ctx)
{
	gx_pool_start(p, n, fn, ctx);
	gx_pool_wait(p);
}

void gx_pool_destroy(gx_pool_t *p)
{
	if (!p)
		return;
	gx_pool_wait(p); /* a run still going is finished first */
	pthread_mutex_lock(&p->mu);
	p->quit = 1;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->mu);
	for (size_t t = 1; t < p->nthreads; t++)
		pthread_join(p->th[t - 1], NULL);
	pthread_cond_destroy(&p->start);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p->th);
	free(p);
}

size_t gx_pool_default_threads(long n)
{
	if (n > 0)
		return (size_t)n;
	long c = sysconf(_SC_NPROCESSORS_ONLN);
	return c < 1 ? 1 : c > 64 ? 64 : (size_t)c;
}
