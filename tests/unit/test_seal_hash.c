/*
 * test_seal_hash.c - the suites' H and HMAC-H as gx_seal.c computes them
 * (SM3 of its own, SHA-256 and HMAC through EVP contexts kept per record)
 * against OpenSSL's EVP_Digest and EVP_MAC on every length around the block
 * boundaries, whole records' salts, leaves and digests rebuilt from OpenSSL
 * alone (fixed ones and random ones), and the same computations from
 * several threads on one suite. The SM3 cases run at each level of SM3
 * code this CPU has (portable C, BMI2, AVX2 lanes: gx_suite_sm3_level).
 */
#include <criterion/criterion.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_seal.h"
#include "gx_seal_impl.h"

static char err[512];
static const char *const SUITES[] = {"sm2-sm3", "ed25519-sha256"};
static const char *const MD[] = {"SM3", "SHA256"};

static gx_suite_t *suite(const char *name)
{
	gx_suite_t *s = NULL;
	cr_assert_eq(gx_suite_new(name, NULL, &s, err, sizeof(err)), GX_OK,
		     "%s", err);
	return s;
}

/* The suites to check: ed25519-sha256, and sm2-sm3 at every SM3 level the
 * CPU has (NULL after the last). */
static gx_suite_t *suite_at(size_t i, const char **md, const char **name)
{
	gx_suite_t *s;
	if (i == 0) {
		*md = MD[1];
		*name = SUITES[1];
		return suite(SUITES[1]);
	}
	s = suite(SUITES[0]);
	*md = MD[0];
	*name = SUITES[0];
	if (gx_suite_sm3_level(s, (int)i - 1) == (int)i - 1)
		return s;
	gx_suite_destroy(s);
	return NULL;
}

/* OpenSSL's H(p). */
static void ref_hash(const char *md, const void *p, size_t n,
		     unsigned char out[GX_HASH_LEN])
{
	EVP_MD *m = EVP_MD_fetch(NULL, md, NULL);
	unsigned int len = 0;
	cr_assert_not_null(m);
	cr_assert_eq(EVP_Digest(p, n, out, &len, m, NULL), 1);
	cr_assert_eq(len, GX_HASH_LEN);
	EVP_MD_free(m);
}

/* OpenSSL's HMAC-H(key, p). */
static void ref_hmac(const char *md, const void *key, size_t keylen,
		     const void *p, size_t n, unsigned char out[GX_HASH_LEN])
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *c = EVP_MAC_CTX_new(mac);
	OSSL_PARAM prm[] = {OSSL_PARAM_construct_utf8_string(
				OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
			    OSSL_PARAM_construct_end()};
	size_t len = 0;
	/* OpenSSL refuses an empty HMAC key; RFC 2104 pads it with zeros,
	 * which is the key of one zero byte as well */
	static const unsigned char zero = 0;
	cr_assert_eq(EVP_MAC_init(c, keylen ? key : &zero, keylen ? keylen : 1,
				  prm),
		     1);
	cr_assert_eq(EVP_MAC_update(c, p, n), 1);
	cr_assert_eq(EVP_MAC_final(c, out, &len, GX_HASH_LEN), 1);
	cr_assert_eq(len, GX_HASH_LEN);
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(mac);
}

/* Every length from 0 to 300 (each block boundary and padding case several
 * times over) and a few long ones, whole and in uneven pieces. */
Test(seal_hash, h_is_openssls_on_every_length)
{
	static unsigned char m[5000];
	cr_assert_eq(RAND_bytes(m, sizeof(m)), 1);
	size_t extra[] = {511, 512, 513, 1000, 4099, sizeof(m)};
	const char *md, *sn;
	gx_suite_t *s;
	for (size_t k = 0; (s = suite_at(k, &md, &sn)); k++) {
		for (size_t i = 0; i <= 300 + GX_ARRAY_SIZE(extra); i++) {
			size_t n = i <= 300 ? i : extra[i - 301];
			unsigned char want[GX_HASH_LEN], got[GX_HASH_LEN];
			ref_hash(md, m, n, want);
			gx_hash(s, m, n, got);
			cr_assert_arr_eq(got, want, GX_HASH_LEN, "%s/%zu len %zu",
					 sn, k, n);
			/* in pieces of 1, 7, 64, 13, ... bytes */
			static const size_t cut[] = {1, 7, 64, 13, 0, 55, 9};
			const void *parts[64];
			size_t lens[64], np = 0, off = 0;
			while (off < n && np < 63) {
				size_t c = cut[np % GX_ARRAY_SIZE(cut)];
				if (c > n - off)
					c = n - off;
				parts[np] = m + off;
				lens[np++] = c;
				off += c;
			}
			parts[np] = m + off;
			lens[np++] = n - off;
			memset(got, 0, sizeof(got));
			gx_hashv(s, parts, lens, np, got);
			cr_assert_arr_eq(got, want, GX_HASH_LEN,
					 "%s/%zu len %zu in %zu parts", sn, k,
					 n, np);
		}
		gx_suite_destroy(s);
	}
}

/* GB/T 32905 appendix A, once more through gx_hashv in odd pieces, and
 * a million 'a's (a common SM3 check value). */
Test(seal_hash, sm3_long_known_answer)
{
	gx_suite_t *s = suite("sm2-sm3");
	char *m = gx_malloc(1000000);
	memset(m, 'a', 1000000);
	unsigned char got[GX_HASH_LEN], want[GX_HASH_LEN];
	gx_hash(s, m, 1000000, got);
	ref_hash("SM3", m, 1000000, want);
	cr_assert_arr_eq(got, want, GX_HASH_LEN);
	const void *parts[] = {"abcdabcdabcdabcdabcdabcdabcdabcdabc",
			       "dabcdabcdabcdabcdabcdabcdabcd"};
	size_t lens[] = {35, 29};
	gx_hashv(s, parts, lens, 2, got);
	static const unsigned char v2[GX_HASH_LEN] = {
	    0xde, 0xbe, 0x9f, 0xf9, 0x22, 0x75, 0xb8, 0xa1, 0x38, 0x60, 0x48,
	    0x89, 0xc1, 0x8e, 0x5a, 0x4d, 0x6f, 0xdb, 0x70, 0xe5, 0x38, 0x7e,
	    0x57, 0x65, 0x29, 0x3d, 0xcb, 0xa3, 0x9c, 0x0c, 0x57, 0x32};
	cr_assert_arr_eq(got, v2, GX_HASH_LEN);
	free(m);
	gx_suite_destroy(s);
}

Test(seal_hash, hmac_is_openssls)
{
	unsigned char key[200], m[200];
	cr_assert_eq(RAND_bytes(key, sizeof(key)), 1);
	cr_assert_eq(RAND_bytes(m, sizeof(m)), 1);
	size_t klens[] = {0, 1, 16, 32, 63, 64, 65, 100, 200};
	const char *md, *sn;
	gx_suite_t *s;
	for (size_t k = 0; (s = suite_at(k, &md, &sn)); k++) {
		for (size_t a = 0; a < GX_ARRAY_SIZE(klens); a++)
			for (size_t n = 0; n <= 150; n += (n < 70 ? 1 : 17)) {
				unsigned char want[GX_HASH_LEN],
				    got[GX_HASH_LEN];
				ref_hmac(md, key, klens[a], m, n, want);
				gx_hmac(s, key, klens[a], m, n, got);
				cr_assert_arr_eq(got, want, GX_HASH_LEN,
						 "%s/%zu key %zu message %zu",
						 sn, k, klens[a], n);
			}
		gx_suite_destroy(s);
	}
}

/* A record's salts, leaves and digest from OpenSSL alone, as gx_seal.h
 * lays them out: usual fields, an absent one (no bytes), a name of 60
 * bytes (two blocks of HMAC input), and values long enough to leave the
 * one-piece path of the leaf hash. */
static void be32(unsigned char *b, size_t v)
{
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

#define RF 7
static const char *const RNAMES[RF] = {
    "citizen_id", "name", "photo", "absent",
    "a_field_name_of_sixty_bytes_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "note",
    "x"};
static const size_t RSIZES[RF] = {19, 10, 3000, 0, 5, 216 - 5, 217};

static void ref_record(const char *md, const unsigned char *secret,
		       const gx_seal_head_t *h, const gx_field_bytes_t *f,
		       size_t n, unsigned char (*salts)[GX_HASH_LEN],
		       unsigned char (*leaves)[GX_HASH_LEN],
		       unsigned char digest[GX_HASH_LEN])
{
	gx_buf_t b;
	gx_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		unsigned char l[4];
		size_t nl = strlen(f[i].name);
		ref_hmac(md, secret, GX_SECRET_LEN, f[i].name, nl, salts[i]);
		gx_buf_reset(&b);
		gx_buf_append(&b, salts[i], GX_HASH_LEN);
		be32(l, nl);
		gx_buf_append(&b, l, 4);
		gx_buf_append(&b, f[i].name, nl);
		be32(l, f[i].len);
		gx_buf_append(&b, l, 4);
		if (f[i].len)
			gx_buf_append(&b, f[i].value, f[i].len);
		ref_hash(md, b.data, b.len, leaves[i]);
	}
	gx_buf_reset(&b);
	const char *str[] = {h->record_id, h->provider, h->item};
	for (size_t i = 0; i < 3; i++) {
		unsigned char l[4];
		be32(l, strlen(str[i]));
		gx_buf_append(&b, l, 4);
		gx_buf_append(&b, str[i], strlen(str[i]));
	}
	unsigned char at[8], op = (unsigned char)h->op, cnt[4];
	for (int i = 0; i < 8; i++)
		at[i] = (unsigned char)((uint64_t)h->collected_at >> (56 - 8 * i));
	gx_buf_append(&b, at, 8);
	gx_buf_append(&b, &op, 1);
	be32(cnt, n);
	gx_buf_append(&b, cnt, 4);
	gx_buf_append(&b, leaves, n * GX_HASH_LEN);
	ref_hash(md, b.data, b.len, digest);
	gx_buf_free(&b);
}

Test(seal_hash, record_is_rebuilt_from_openssl)
{
	static unsigned char vals[RF][3000];
	unsigned char secret[GX_SECRET_LEN];
	cr_assert_eq(RAND_bytes((unsigned char *)vals, sizeof(vals)), 1);
	cr_assert_eq(RAND_bytes(secret, sizeof(secret)), 1);
	gx_field_bytes_t f[RF];
	for (size_t i = 0; i < RF; i++)
		f[i] = (gx_field_bytes_t){RNAMES[i],
					  RSIZES[i] ? vals[i] : NULL,
					  RSIZES[i]};
	gx_seal_head_t h = {"0b6c4b9e-6c1d-4c4b-9a55-000000000007", "SX-GA",
			    "140000-GA-RK-0001", -1735689600000LL, 1};
	const char *md, *sn;
	gx_suite_t *s;
	for (size_t k = 0; (s = suite_at(k, &md, &sn)); k++) {
		unsigned char ws[RF][GX_HASH_LEN], wl[RF][GX_HASH_LEN],
		    wd[GX_HASH_LEN], gs[RF][GX_HASH_LEN], gl[RF][GX_HASH_LEN],
		    gd[GX_HASH_LEN], d2[GX_HASH_LEN];
		ref_record(md, secret, &h, f, RF, ws, wl, wd);
		gx_record_fields_proof(s, secret, &h, f, RF, gs, gl, gd);
		cr_assert_arr_eq(gs, ws, sizeof(ws), "%s/%zu salts", sn, k);
		cr_assert_arr_eq(gl, wl, sizeof(wl), "%s/%zu leaves", sn, k);
		cr_assert_arr_eq(gd, wd, GX_HASH_LEN, "%s/%zu digest", sn, k);
		gx_record_seal_fields(s, secret, &h, f, RF, NULL, d2);
		cr_assert_arr_eq(d2, wd, GX_HASH_LEN);
		gx_record_digest(s, &h, (const unsigned char (*)[GX_HASH_LEN])wl,
				 RF, d2);
		cr_assert_arr_eq(d2, wd, GX_HASH_LEN);
		for (size_t i = 0; i < RF; i++) {
			unsigned char one[GX_HASH_LEN];
			gx_field_salt(s, secret, RNAMES[i], one);
			cr_assert_arr_eq(one, ws[i], GX_HASH_LEN);
			gx_field_leaf(s, ws[i], RNAMES[i], f[i].value, f[i].len,
				      one);
			cr_assert_arr_eq(one, wl[i], GX_HASH_LEN);
		}
		/* released fields by salt, withheld ones by leaf */
		gx_field_proof_t fp[RF];
		for (size_t i = 0; i < RF; i++)
			fp[i] = i % 2 ? (gx_field_proof_t){RNAMES[i], NULL, NULL,
							   0, wl[i]}
				      : (gx_field_proof_t){RNAMES[i], ws[i],
							   f[i].value, f[i].len,
							   NULL};
		cr_assert_eq(gx_record_digest_disclosed(s, &h, fp, RF, d2, err,
							sizeof(err)),
			     GX_OK, "%s", err);
		cr_assert_arr_eq(d2, wd, GX_HASH_LEN);
		/* no fields at all */
		ref_record(md, secret, &h, f, 0, ws, wl, wd);
		gx_record_fields_proof(s, secret, &h, f, 0, NULL, NULL, gd);
		cr_assert_arr_eq(gd, wd, GX_HASH_LEN);
		gx_suite_destroy(s);
	}
}

/* Random records: 0 to 70 fields (more than one chunk of the eight-lane
 * code), names of 1 to 130 bytes, values of 0 to 300 (some absent), every
 * other field released at the consumer. */
Test(seal_hash, random_records_are_rebuilt_from_openssl)
{
	enum { MAXF = 70 };
	static char names[MAXF][131];
	static unsigned char vals[MAXF][300];
	static unsigned char ws[MAXF][GX_HASH_LEN], wl[MAXF][GX_HASH_LEN],
	    gs[MAXF][GX_HASH_LEN], gl[MAXF][GX_HASH_LEN];
	gx_field_bytes_t f[MAXF];
	gx_field_proof_t fp[MAXF];
	unsigned char secret[GX_SECRET_LEN], wd[GX_HASH_LEN], gd[GX_HASH_LEN];
	gx_seal_head_t h = {"r", "SX-GA", "I", 5, 0};
	const char *md, *sn;
	gx_suite_t *s;
	srandom(20261127);
	for (size_t k = 0; (s = suite_at(k, &md, &sn)); k++) {
		for (int round = 0; round < 40; round++) {
			size_t n = round < 3 ? (size_t)round * 35
					     : (size_t)(random() % (MAXF + 1));
			cr_assert_eq(RAND_bytes(secret, sizeof(secret)), 1);
			cr_assert_eq(RAND_bytes((unsigned char *)vals,
						sizeof(vals)),
				     1);
			for (size_t i = 0; i < n; i++) {
				size_t nl = 1 + (size_t)(random() % 130);
				for (size_t c = 0; c < nl; c++)
					names[i][c] =
					    (char)('a' + random() % 26);
				names[i][nl] = '\0';
				size_t vl = (size_t)(random() % 301);
				int absent = random() % 9 == 0;
				f[i] = (gx_field_bytes_t){
				    names[i], absent ? NULL : vals[i],
				    absent ? 0 : vl};
			}
			ref_record(md, secret, &h, f, n, ws, wl, wd);
			gx_record_fields_proof(s, secret, &h, f, n, gs, gl, gd);
			cr_assert_arr_eq(gs, ws, n * GX_HASH_LEN,
					 "%s/%zu %zu fields", sn, k, n);
			cr_assert_arr_eq(gl, wl, n * GX_HASH_LEN);
			cr_assert_arr_eq(gd, wd, GX_HASH_LEN);
			gx_record_seal_fields(s, secret, &h, f, n, NULL, gd);
			cr_assert_arr_eq(gd, wd, GX_HASH_LEN);
			for (size_t i = 0; i < n; i++)
				fp[i] = (i + (size_t)round) % 2
					    ? (gx_field_proof_t){names[i], NULL,
								 NULL, 0, wl[i]}
					    : (gx_field_proof_t){names[i], ws[i],
								 f[i].value,
								 f[i].len, NULL};
			memset(gd, 0, sizeof(gd));
			cr_assert_eq(gx_record_digest_disclosed(s, &h, fp, n, gd,
								err,
								sizeof(err)),
				     GX_OK);
			cr_assert_arr_eq(gd, wd, GX_HASH_LEN, "%s/%zu disclosed",
					 sn, k);
		}
		gx_suite_destroy(s);
	}
}

/* ---- one suite, several threads (the broker's verifying workers) ---- */

struct job {
	const gx_suite_t *s;
	const gx_field_bytes_t *f;
	const unsigned char *secret;
	const unsigned char *digest;	/* expected */
	const unsigned char (*path)[GX_HASH_LEN];
	size_t npath;
	const unsigned char *root;
	int ok;
};

static void *hash_worker(void *arg)
{
	struct job *j = arg;
	gx_seal_head_t h = {"r-1", "SX-GA", "I-1", 1, 0};
	char e[256];
	/* each thread its own memo (as each has its own gx_sealcheck_t) */
	gx_merkle_memo_t *memo = gx_merkle_memo_new(5, j->root, 1 << 20);
	for (int i = 0; i < 400; i++) {
		unsigned char s[RF][GX_HASH_LEN], l[RF][GX_HASH_LEN],
		    d[GX_HASH_LEN];
		gx_record_fields_proof(j->s, j->secret, &h, j->f, 3, s, l, d);
		if (memcmp(d, j->digest, GX_HASH_LEN) ||
		    gx_merkle_verify_memo(j->s, i % 2 ? memo : NULL, d,
					  GX_HASH_LEN, 3, 5, j->path, j->npath,
					  j->root, e, sizeof(e)))
			j->ok = 0;
	}
	gx_merkle_memo_destroy(memo);
	return NULL;
}

Test(seal_hash, one_suite_many_threads)
{
	unsigned char secret[GX_SECRET_LEN] = {9};
	gx_field_bytes_t f[3] = {{"citizen_id", "110101199003077777", 18},
				 {"name", "\x0c\xe5\xbc\xa0\xe4\xb8\x89", 7},
				 {"sex", "\x02" "1", 2}};
	gx_seal_head_t h = {"r-1", "SX-GA", "I-1", 1, 0};
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		unsigned char d[5][GX_HASH_LEN],
		    path[GX_MERKLE_PATH_MAX][GX_HASH_LEN];
		cr_assert_eq(RAND_bytes((unsigned char *)d, sizeof(d)), 1);
		gx_record_fields_proof(s, secret, &h, f, 3, NULL, NULL, d[3]);
		gx_merkle_t *t = gx_merkle_new(
		    s, (const unsigned char (*)[GX_HASH_LEN])d, 5);
		size_t np = gx_merkle_path(t, 3, path);
		struct job jobs[4];
		pthread_t th[4];
		for (int i = 0; i < 4; i++) {
			jobs[i] = (struct job){
			    s, f, secret, d[3],
			    (const unsigned char (*)[GX_HASH_LEN])path, np,
			    gx_merkle_root(t), 1};
			cr_assert_eq(pthread_create(&th[i], NULL, hash_worker,
						    &jobs[i]),
				     0);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			cr_assert(jobs[i].ok, "%s thread %d", SUITES[k], i);
		}
		gx_merkle_destroy(t);
		gx_suite_destroy(s);
	}
}
