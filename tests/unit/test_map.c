/*
 * test_map.c - the string-keyed hash map every in-memory index uses
 * (broker/lib/gx_map.c): put/get/replace/del, backward-shift deletion on a
 * large map and against a reference model on a small, wrapping one, and
 * iteration.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_map.h"

/* Values are small integers stored in the pointer (never NULL: +1). */
#define VAL(i) ((void *)(uintptr_t)((i) + 1))
#define IDX(p) ((size_t)(uintptr_t)(p) - 1)

static void key_of(size_t i, char *buf, size_t n)
{
	snprintf(buf, n, "key-%zu", i);
}

Test(map, put_get_replace_del)
{
	gx_map_t *m = gx_map_new();
	int a = 1, b = 2, c = 3;

	cr_assert_eq(gx_map_count(m), 0);
	cr_assert_null(gx_map_get(m, "a"));
	cr_assert_null(gx_map_put(m, "a", &a), "new key returns no previous");
	cr_assert_null(gx_map_put(m, "b", &b));
	cr_assert_eq(gx_map_count(m), 2);
	cr_assert_eq(gx_map_get(m, "a"), &a);
	cr_assert_eq(gx_map_get(m, "b"), &b);
	cr_assert_null(gx_map_get(m, "c"));

	/* Replace returns the old value and keeps the count. */
	cr_assert_eq(gx_map_put(m, "a", &c), &a);
	cr_assert_eq(gx_map_count(m), 2);
	cr_assert_eq(gx_map_get(m, "a"), &c);

	cr_assert_eq(gx_map_del(m, "a"), &c);
	cr_assert_null(gx_map_get(m, "a"));
	cr_assert_eq(gx_map_count(m), 1);
	cr_assert_null(gx_map_del(m, "a"), "second delete finds nothing");
	cr_assert_null(gx_map_del(m, "never"));
	cr_assert_eq(gx_map_count(m), 1);
	cr_assert_eq(gx_map_get(m, "b"), &b);
	gx_map_destroy(m, NULL);
}

Test(map, keys_are_copied)
{
	gx_map_t *m = gx_map_new();
	char key[16] = "temporary";
	int v = 7;

	gx_map_put(m, key, &v);
	memset(key, 'x', sizeof(key) - 1);
	cr_assert_eq(gx_map_get(m, "temporary"), &v,
		     "the map must keep its own copy of the key");
	cr_assert_eq(gx_map_get(m, ""), NULL);
	gx_map_put(m, "", &v);
	cr_assert_eq(gx_map_get(m, ""), &v, "the empty string is a key");
	gx_map_destroy(m, NULL);
}

static int freed;
static void count_free(void *p)
{
	freed += *(int *)p;
}

Test(map, destroy_frees_every_value)
{
	gx_map_t *m = gx_map_new();
	static int ones[100];
	char k[32];

	for (size_t i = 0; i < 100; i++) {
		ones[i] = 1;
		key_of(i, k, sizeof(k));
		gx_map_put(m, k, &ones[i]);
	}
	freed = 0;
	gx_map_destroy(m, count_free);
	cr_assert_eq(freed, 100);
	gx_map_destroy(NULL, count_free); /* accepts NULL */
}

Test(map, hundred_thousand_keys_delete_half)
{
	enum { N = 100000 };
	gx_map_t *m = gx_map_new();
	char k[32];

	for (size_t i = 0; i < N; i++) {
		key_of(i, k, sizeof(k));
		if (gx_map_put(m, k, VAL(i)))
			cr_assert_fail("fresh key %s had a previous value", k);
	}
	cr_assert_eq(gx_map_count(m), N);

	/* Delete every odd key: each deletion shifts the probe run back. */
	for (size_t i = 1; i < N; i += 2) {
		key_of(i, k, sizeof(k));
		void *v = gx_map_del(m, k);
		if (v != VAL(i))
			cr_assert_fail("del %s returned %p", k, v);
	}
	cr_assert_eq(gx_map_count(m), N / 2);

	for (size_t i = 0; i < N; i++) {
		key_of(i, k, sizeof(k));
		void *v = gx_map_get(m, k);
		void *want = i % 2 ? NULL : VAL(i);
		if (v != want)
			cr_assert_fail("after deleting the odd keys, get %s "
				       "gave %p, want %p", k, v, want);
	}

	/* Put the deleted ones back and remove the even ones. */
	for (size_t i = 1; i < N; i += 2) {
		key_of(i, k, sizeof(k));
		gx_map_put(m, k, VAL(i));
	}
	for (size_t i = 0; i < N; i += 2) {
		key_of(i, k, sizeof(k));
		if (gx_map_del(m, k) != VAL(i))
			cr_assert_fail("del %s", k);
	}
	cr_assert_eq(gx_map_count(m), N / 2);
	for (size_t i = 0; i < N; i++) {
		key_of(i, k, sizeof(k));
		void *want = i % 2 ? VAL(i) : NULL;
		if (gx_map_get(m, k) != want)
			cr_assert_fail("second round: get %s wrong", k);
	}
	gx_map_destroy(m, NULL);
}

/*
 * Small maps (at most 11 keys: the table stays at 16 slots) churned at
 * random against a plain array: probe runs wrap past the end of the table
 * all the time, which is where backward-shift deletion goes wrong if its
 * "home between hole and slot" test is off. Each round draws a new key set
 * so the keys' home slots vary.
 */
Test(map, random_churn_matches_model)
{
	enum { ROUNDS = 500, KEYS = 11, OPS = 400 };
	uint32_t x = 12345;
	char keys[KEYS][32];

	for (int round = 0; round < ROUNDS; round++) {
		gx_map_t *m = gx_map_new();
		void *model[KEYS] = {0};
		size_t count = 0;
		for (size_t i = 0; i < KEYS; i++)
			snprintf(keys[i], sizeof(keys[i]), "r%d-k%zu", round, i);
		for (size_t op = 0; op < OPS; op++) {
			x = x * 1103515245u + 12345u;
			size_t i = (x >> 8) % KEYS;
			if ((x >> 20) % 3) {
				void *prev = gx_map_put(m, keys[i], VAL(op));
				if (prev != model[i])
					cr_assert_fail("round %d op %zu put %s: "
						       "previous %p, model %p",
						       round, op, keys[i], prev,
						       model[i]);
				count += !model[i];
				model[i] = VAL(op);
			} else {
				void *prev = gx_map_del(m, keys[i]);
				if (prev != model[i])
					cr_assert_fail("round %d op %zu del %s: "
						       "got %p, model %p",
						       round, op, keys[i], prev,
						       model[i]);
				count -= !!model[i];
				model[i] = NULL;
			}
			for (size_t j = 0; j < KEYS; j++)
				if (gx_map_get(m, keys[j]) != model[j])
					cr_assert_fail("round %d op %zu: get %s "
						       "disagrees with the model",
						       round, op, keys[j]);
			if (gx_map_count(m) != count)
				cr_assert_fail("round %d op %zu: count %zu, "
					       "model %zu", round, op,
					       gx_map_count(m), count);
		}
		gx_map_destroy(m, NULL);
	}
}

Test(map, iteration_visits_each_entry_once)
{
	enum { N = 5000 };
	gx_map_t *m = gx_map_new();
	static unsigned char seen[N];
	char k[32];
	const char *key;
	void *v;

	for (size_t i = 0; i < N; i++) {
		key_of(i, k, sizeof(k));
		gx_map_put(m, k, VAL(i));
	}
	for (size_t i = 0; i < N; i += 3) { /* and some holes */
		key_of(i, k, sizeof(k));
		gx_map_del(m, k);
	}

	size_t visits = 0;
	memset(seen, 0, sizeof(seen));
	for (size_t it = 0; gx_map_next(m, &it, &key, &v);) {
		size_t i = IDX(v);
		cr_assert_lt(i, (size_t)N);
		key_of(i, k, sizeof(k));
		cr_assert_str_eq(key, k, "key and value belong together");
		cr_assert_neq(i % 3, 0, "deleted key %s visited", k);
		if (seen[i]++)
			cr_assert_fail("%s visited twice", k);
		visits++;
	}
	cr_assert_eq(visits, gx_map_count(m));
	cr_assert_eq(visits, (size_t)(N - (N + 2) / 3));

	/* An empty map yields nothing; NULL out-pointers are allowed. */
	gx_map_t *e = gx_map_new();
	size_t it = 0;
	cr_assert_eq(gx_map_next(e, &it, NULL, NULL), 0);
	gx_map_destroy(e, NULL);
	gx_map_destroy(m, NULL);
}
