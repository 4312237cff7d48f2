/*
 * test_pool.c - the fork-join pool the broker verifies and projects records
 * on (broker/lib/gx_pool.c): every item of every run is done exactly once,
 * on a thread index within the pool, all before gx_pool_run returns; more
 * than one thread does work when items are slow; runs follow each other.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "gx.h"
#include "gx_pool.h"

struct visits {
	size_t nthreads;
	atomic_int *count;	/* per item */
	atomic_int *by_thread;	/* items done per thread index */
	atomic_int bad_thread;
	int slow;		/* sleep per item (microseconds) */
};

static void visit(void *ctx, size_t thread, size_t item)
{
	struct visits *v = ctx;
	if (thread >= v->nthreads) {
		atomic_fetch_add(&v->bad_thread, 1);
		return;
	}
	if (v->slow) {
		struct timespec ts = {0, v->slow * 1000L};
		nanosleep(&ts, NULL);
	}
	atomic_fetch_add(&v->count[item], 1);
	atomic_fetch_add(&v->by_thread[thread], 1);
}

static void check_runs(size_t nthreads, size_t n, int runs, int slow)
{
	gx_pool_t *p = gx_pool_new(nthreads);
	cr_assert_eq(gx_pool_threads(p), nthreads);
	struct visits v = {.nthreads = nthreads, .slow = slow};
	v.count = calloc(n ? n : 1, sizeof(*v.count));
	v.by_thread = calloc(nthreads, sizeof(*v.by_thread));
	for (int r = 1; r <= runs; r++) {
		gx_pool_run(p, n, visit, &v);
		/* Everything of this run is done when it returns. */
		for (size_t i = 0; i < n; i++)
			cr_assert_eq(atomic_load(&v.count[i]), r,
				     "item %zu of %zu done %d times after run %d "
				     "(%zu threads)", i, n, atomic_load(&v.count[i]),
				     r, nthreads);
	}
	cr_assert_eq(atomic_load(&v.bad_thread), 0);
	gx_pool_destroy(p);
	if (slow && nthreads > 1 && n >= 8 * nthreads) {
		size_t workers = 0;
		for (size_t t = 0; t < nthreads; t++)
			workers += atomic_load(&v.by_thread[t]) > 0;
		cr_assert_gt(workers, 1, "slow items all done by one thread");
	}
	free(v.count);
	free(v.by_thread);
}

Test(pool, one_thread_is_a_loop) { check_runs(1, 100, 3, 0); }
Test(pool, every_item_once_two_threads) { check_runs(2, 1000, 50, 0); }
Test(pool, every_item_once_four_threads) { check_runs(4, 257, 200, 0); }
Test(pool, empty_and_single_runs)
{
	check_runs(3, 0, 5, 0);
	check_runs(3, 1, 5, 0);
}
Test(pool, slow_items_are_shared) { check_runs(2, 64, 2, 500); }

/* A run started at once after the pool was made is not missed by a helper
 * thread that had not yet started waiting. */
Test(pool, run_straight_after_new)
{
	for (int k = 0; k < 200; k++)
		check_runs(2, 4, 1, 0);
}

Test(pool, default_threads)
{
	cr_assert_eq(gx_pool_default_threads(3), 3);
	size_t d = gx_pool_default_threads(0);
	cr_assert(d >= 1 && d <= 64);
}

/* start returns at once, the other threads work meanwhile, wait finishes
 * the rest; with one thread, wait does everything. */
static void check_start_wait(size_t nthreads)
{
	gx_pool_t *p = gx_pool_new(nthreads);
	struct visits v = {.nthreads = nthreads, .slow = 200};
	v.count = calloc(64, sizeof(*v.count));
	v.by_thread = calloc(nthreads, sizeof(*v.by_thread));
	cr_assert(!gx_pool_running(p));
	gx_pool_wait(p); /* nothing started: returns at once */
	for (int r = 1; r <= 3; r++) {
		gx_pool_start(p, 64, visit, &v);
		cr_assert(gx_pool_running(p));
		/* the caller busy elsewhere (the broker: committing) */
		struct timespec ts = {0, 30 * 1000000L};
		nanosleep(&ts, NULL);
		gx_pool_wait(p);
		cr_assert(!gx_pool_running(p));
		for (size_t i = 0; i < 64; i++)
			cr_assert_eq(atomic_load(&v.count[i]), r, "item %zu", i);
	}
	if (nthreads > 1)
		cr_assert_gt(atomic_load(&v.by_thread[1]), 0,
			     "the other thread did nothing");
	gx_pool_destroy(p);
	free(v.count);
	free(v.by_thread);
}

Test(pool, start_then_wait) { check_start_wait(2); check_start_wait(1); }

/* Destroying a pool with a run started and not waited for finishes the
 * run first: no item is skipped. */
Test(pool, destroy_finishes_a_started_run)
{
	for (size_t nthreads = 1; nthreads <= 3; nthreads++) {
		gx_pool_t *p = gx_pool_new(nthreads);
		struct visits v = {.nthreads = nthreads, .slow = 100};
		v.count = calloc(40, sizeof(*v.count));
		v.by_thread = calloc(nthreads, sizeof(*v.by_thread));
		gx_pool_start(p, 40, visit, &v);
		gx_pool_destroy(p);
		for (size_t i = 0; i < 40; i++)
			cr_assert_eq(atomic_load(&v.count[i]), 1, "item %zu (%zu threads)",
				     i, nthreads);
		free(v.count);
		free(v.by_thread);
	}
}
