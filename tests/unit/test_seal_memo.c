/*
 * test_seal_memo.c - proven Merkle nodes (gx_merkle_memo_t): with a memo
 * that earlier records of the batch filled, every audit path gets exactly
 * the verdict, error code and message gx_merkle_verify gives without one;
 * a forged leaf or a forged sibling of a record whose neighbours were
 * verified is still refused, and a refused path leaves nothing behind.
 */
#include <criterion/criterion.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_seal.h"

static const char *const SUITES[] = {"sm2-sm3", "ed25519-sha256"};

static gx_suite_t *suite(const char *name)
{
	gx_suite_t *s = NULL;
	char e[256];
	cr_assert_eq(gx_suite_new(name, NULL, &s, e, sizeof(e)), GX_OK, "%s",
		     e);
	return s;
}

typedef unsigned char hash_t[GX_HASH_LEN];

/* A batch: n random record digests, their tree and every audit path. */
struct batch {
	size_t n;
	hash_t *d;
	hash_t (*path)[GX_MERKLE_PATH_MAX];
	size_t *np;
	hash_t root;
};

static void batch_make(struct batch *b, const gx_suite_t *s, size_t n)
{
	b->n = n;
	b->d = gx_malloc(n * sizeof(*b->d));
	b->path = gx_malloc(n * sizeof(*b->path));
	b->np = gx_malloc(n * sizeof(*b->np));
	cr_assert_eq(RAND_bytes((unsigned char *)b->d, (int)(n * GX_HASH_LEN)),
		     1);
	gx_merkle_t *t =
	    gx_merkle_new(s, (const unsigned char (*)[GX_HASH_LEN])b->d, n);
	for (size_t i = 0; i < n; i++)
		b->np[i] = gx_merkle_path(t, i, b->path[i]);
	memcpy(b->root, gx_merkle_root(t), GX_HASH_LEN);
	gx_merkle_destroy(t);
}

static void batch_free(struct batch *b)
{
	free(b->d);
	free(b->path);
	free(b->np);
}

/* Verify with and without memo; both must agree in code and message.
 * Returns the code. */
static gx_err_t both(const gx_suite_t *s, gx_merkle_memo_t *memo,
		     const unsigned char *d, uint64_t i, uint64_t n,
		     const hash_t *path, size_t np, const unsigned char *root)
{
	char e1[256] = "", e2[256] = "";
	gx_err_t plain = gx_merkle_verify(
	    s, d, GX_HASH_LEN, i, n, (const unsigned char (*)[GX_HASH_LEN])path,
	    np, root, e1, sizeof(e1));
	gx_err_t memod = gx_merkle_verify_memo(
	    s, memo, d, GX_HASH_LEN, i, n,
	    (const unsigned char (*)[GX_HASH_LEN])path, np, root, e2,
	    sizeof(e2));
	cr_assert_eq(memod, plain, "i=%llu n=%llu: %d with memo, %d without",
		     (unsigned long long)i, (unsigned long long)n, memod,
		     plain);
	if (plain)
		cr_assert_str_eq(e2, e1);
	return memod;
}

/* Every kind of forgery of record i, with the memo as it stands. */
static void forgeries(const gx_suite_t *s, gx_merkle_memo_t *memo,
		      const struct batch *b, size_t i)
{
	size_t n = b->n, np = b->np[i];
	hash_t p[GX_MERKLE_PATH_MAX + 1], bad;
	memcpy(p, b->path[i], np * GX_HASH_LEN);
	/* a forged leaf: another record digest with the true path */
	memcpy(bad, b->d[i], GX_HASH_LEN);
	bad[i % GX_HASH_LEN] ^= 0x40;
	cr_assert_eq(both(s, memo, bad, i, n, p, np, b->root), GX_ERR_DENIED);
	/* a neighbour's digest in its place */
	if (n > 1)
		cr_assert_eq(both(s, memo, b->d[(i ^ 1) < n ? i ^ 1 : 0], i, n, p,
				  np, b->root),
			     GX_ERR_DENIED);
	/* a forged sibling at each level, the others true */
	for (size_t e = 0; e < np; e++) {
		p[e][(e * 7) % GX_HASH_LEN] ^= 0x01;
		cr_assert_eq(both(s, memo, b->d[i], i, n, p, np, b->root),
			     GX_ERR_DENIED, "n=%zu i=%zu level %zu", n, i, e);
		p[e][(e * 7) % GX_HASH_LEN] ^= 0x01;
	}
	/* two siblings swapped, when they differ */
	if (np >= 2) {
		hash_t q[GX_MERKLE_PATH_MAX];
		memcpy(q, p, np * GX_HASH_LEN);
		memcpy(q[0], p[1], GX_HASH_LEN);
		memcpy(q[1], p[0], GX_HASH_LEN);
		cr_assert_eq(both(s, memo, b->d[i], i, n, q, np, b->root),
			     GX_ERR_DENIED);
	}
	/* the true record under every other index, and other sizes */
	for (size_t j = 0; j < n; j++)
		if (j != i)
			cr_assert_neq(both(s, memo, b->d[i], j, n, p, np,
					   b->root),
				      GX_OK, "n=%zu %zu as %zu", n, i, j);
	for (size_t m = 1; m <= n + 2; m++)
		if (m != n)
			both(s, memo, b->d[i], i, m, p, np, b->root);
	/* truncated and extended paths, impossible indices */
	if (np)
		cr_assert_eq(both(s, memo, b->d[i], i, n, p, np - 1, b->root),
			     GX_ERR_INVALID);
	memcpy(p[np], b->root, GX_HASH_LEN);
	cr_assert_eq(both(s, memo, b->d[i], i, n, p, np + 1, b->root),
		     GX_ERR_INVALID);
	cr_assert_eq(both(s, memo, b->d[i], n, n, p, np, b->root),
		     GX_ERR_INVALID);
	/* another root */
	memcpy(bad, b->root, GX_HASH_LEN);
	bad[0] ^= 1;
	cr_assert_eq(both(s, memo, b->d[i], i, n, p, np, bad), GX_ERR_DENIED);
}

/* Batches of 2 to 40 and 1000: each record is forged every way after all
 * the others were verified into the memo, then verifies itself. */
Test(seal_memo, forged_records_of_a_proven_batch_are_refused)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		for (size_t n = 2; n <= 41; n++) {
			size_t size = n == 41 ? 1000 : n;
			struct batch b;
			batch_make(&b, s, size);
			/* the record forged: first, middle, last, and all of
			 * them for small batches */
			for (size_t i = 0; i < size;
			     i += size <= 17 ? 1 : size / 3 + 1) {
				gx_merkle_memo_t *memo =
				    gx_merkle_memo_new(size, b.root, 1 << 20);
				cr_assert_not_null(memo);
				for (size_t j = 0; j < size; j++)
					if (j != i)
						cr_assert_eq(
						    both(s, memo, b.d[j], j,
							 size, b.path[j],
							 b.np[j], b.root),
						    GX_OK);
				forgeries(s, memo, &b, i);
				cr_assert_eq(both(s, memo, b.d[i], i, size,
						  b.path[i], b.np[i], b.root),
					     GX_OK);
				/* and once more, now that it is proven too */
				forgeries(s, memo, &b, i);
				gx_merkle_memo_destroy(memo);
			}
			batch_free(&b);
		}
		gx_suite_destroy(s);
	}
}

/* Forgeries first, into an empty memo: nothing they hashed is kept, so
 * they stay refused and the true records still verify, in any order. */
Test(seal_memo, forgeries_before_the_true_records)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		struct batch b;
		batch_make(&b, s, 37);
		gx_merkle_memo_t *memo = gx_merkle_memo_new(37, b.root, 1 << 20);
		for (size_t i = 0; i < b.n; i++)
			forgeries(s, memo, &b, i);
		/* a shuffled order */
		size_t order[37];
		for (size_t i = 0; i < b.n; i++)
			order[i] = (i * 14 + 5) % b.n;
		for (size_t r = 0; r < b.n; r++) {
			size_t i = order[r];
			cr_assert_eq(both(s, memo, b.d[i], i, b.n, b.path[i],
					  b.np[i], b.root),
				     GX_OK);
			forgeries(s, memo, &b, (i + 1) % b.n);
		}
		gx_merkle_memo_destroy(memo);
		batch_free(&b);
		gx_suite_destroy(s);
	}
}

/* A memo for another tree (root or count) is not used; a small memo keeps
 * only the upper levels; batches of one have none. */
Test(seal_memo, bounds_and_other_trees)
{
	gx_suite_t *s = suite("sm2-sm3");
	struct batch a, b;
	batch_make(&a, s, 300);
	batch_make(&b, s, 300);
	hash_t r1;
	memset(r1, 7, sizeof(r1));
	cr_assert_null(gx_merkle_memo_new(1, r1, 1 << 20));
	cr_assert_null(gx_merkle_memo_new(0, r1, 1 << 20));
	cr_assert_null(gx_merkle_memo_new(300, r1, 10));
	cr_assert_eq(gx_merkle_memo_bytes(NULL), 0);
	/* a's memo, filled by a's records, offered to b's */
	gx_merkle_memo_t *ma = gx_merkle_memo_new(300, a.root, 1 << 20);
	for (size_t i = 0; i < a.n; i++)
		cr_assert_eq(both(s, ma, a.d[i], i, a.n, a.path[i], a.np[i],
				  a.root),
			     GX_OK);
	for (size_t i = 0; i < b.n; i += 7) {
		cr_assert_eq(both(s, ma, b.d[i], i, b.n, b.path[i], b.np[i],
				  b.root),
			     GX_OK);
		/* a's path for b's record, a's records under b's root */
		cr_assert_eq(both(s, ma, b.d[i], i, b.n, a.path[i], a.np[i],
				  a.root),
			     GX_ERR_DENIED);
		cr_assert_eq(both(s, ma, a.d[i], i, a.n, a.path[i], a.np[i],
				  b.root),
			     GX_ERR_DENIED);
		forgeries(s, ma, &b, i);
	}
	/* a's memo for a tree of another size with the same root: not used
	 * (record 0's path has the same shape in 299, so it verifies, as it
	 * does without a memo: the signed count tells the sizes apart) */
	both(s, ma, a.d[0], 0, 299, a.path[0], a.np[0], a.root);
	both(s, ma, a.d[299], 299, 299, a.path[299], a.np[299], a.root);
	/* room for the top levels only: everything still as without */
	size_t small = 4000;
	gx_merkle_memo_t *mb = gx_merkle_memo_new(300, b.root, small);
	cr_assert_not_null(mb);
	cr_assert_leq(gx_merkle_memo_bytes(mb), small + 512);
	cr_assert_lt(gx_merkle_memo_bytes(mb), gx_merkle_memo_bytes(ma));
	for (size_t i = 0; i < b.n; i++) {
		cr_assert_eq(both(s, mb, b.d[i], i, b.n, b.path[i], b.np[i],
				  b.root),
			     GX_OK);
		if (i % 11 == 0)
			forgeries(s, mb, &b, i);
	}
	gx_merkle_memo_destroy(ma);
	gx_merkle_memo_destroy(mb);
	gx_merkle_memo_destroy(NULL);
	batch_free(&a);
	batch_free(&b);
	gx_suite_destroy(s);
}

/* A path that agrees with proven pairs low down but names a wrong sibling
 * near the root (where a memo that stopped at the first proven node would
 * stop looking), and the reverse. */
Test(seal_memo, a_proven_start_does_not_vouch_for_the_rest)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		struct batch b;
		batch_make(&b, s, 64);
		gx_merkle_memo_t *memo = gx_merkle_memo_new(64, b.root, 1 << 20);
		for (size_t i = 0; i < 64; i++)
			cr_assert_eq(both(s, memo, b.d[i], i, 64, b.path[i],
					  b.np[i], b.root),
				     GX_OK);
		hash_t p[GX_MERKLE_PATH_MAX];
		for (size_t i = 0; i < 64; i += 5) {
			size_t np = b.np[i];
			cr_assert_eq(np, 6);
			/* top sibling: the other half's root replaced by a
			 * node that is proven, but at another position */
			memcpy(p, b.path[i], np * GX_HASH_LEN);
			memcpy(p[np - 1], b.path[i][np - 2], GX_HASH_LEN);
			cr_assert_eq(both(s, memo, b.d[i], i, 64, p, np,
					  b.root),
				     GX_ERR_DENIED);
			/* bottom sibling from another pair, rest true */
			memcpy(p, b.path[i], np * GX_HASH_LEN);
			memcpy(p[0], b.d[(i + 2) % 64], GX_HASH_LEN);
			cr_assert_eq(both(s, memo, b.d[i], i, 64, p, np,
					  b.root),
				     GX_ERR_DENIED);
		}
		gx_merkle_memo_destroy(memo);
		batch_free(&b);
		gx_suite_destroy(s);
	}
}
