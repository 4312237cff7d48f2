/*
 * gx_pool.h - a fork-join pool: one function over the items of a batch, on
 * several threads at once.
 *
 * The broker's release path is verification, projection and encoding of
 * each record (independent of the others) followed by producing and
 * chaining in offset order (not). gx_pool_run runs the first part over a
 * batch on every thread of the pool - the caller's thread is one of them -
 * and returns when every item is done; the caller then does the second
 * part alone. Items are handed out one at a time, so a slow record holds up
 * one thread, not a fixed share of the batch.
 */
#ifndef GX_POOL_H
#define GX_POOL_H

#include <stddef.h>

typedef struct gx_pool gx_pool_t;

/* fn(ctx, thread, item): thread is 0 (the caller) .. gx_pool_threads()-1,
 * so per-thread scratch can be indexed by it. */
typedef void (*gx_pool_fn)(void *ctx, size_t thread, size_t item);

/* A pool of nthreads threads in all, the caller's included (1: no threads
 * are started and gx_pool_run is a plain loop). When a thread cannot be
 * started the pool has fewer (gx_pool_threads says how many). */
gx_pool_t *gx_pool_new(size_t nthreads);
size_t gx_pool_threads(const gx_pool_t *p);
/* Run fn over items 0..n-1; returns when all are done. Not reentrant: one
 * run at a time, from one thread. */
void gx_pool_run(gx_pool_t *p, size_t n, gx_pool_fn fn, void *ctx);
/* The same in two steps: start hands the items to the other threads and
 * returns at once (the caller may do something else meanwhile, e.g. wait
 * for Kafka); wait joins in with the caller's thread and returns when all
 * are done (at once when no run was started). With one thread, wait does
 * all the work. */
void gx_pool_start(gx_pool_t *p, size_t n, gx_pool_fn fn, void *ctx);
void gx_pool_wait(gx_pool_t *p);
/* A run was started and not yet waited for. */
int gx_pool_running(const gx_pool_t *p);
/* Finish a run still going, then stop and join the threads. */
void gx_pool_destroy(gx_pool_t *p);

/* Threads to use for a setting of n: n itself when positive, else one per
 * online CPU (at least 1, at most 64). */
size_t gx_pool_default_threads(long n);

#endif /* GX_POOL_H */
