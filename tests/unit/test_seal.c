/*
 * test_seal.c - the integrity core (broker/lib/gx_seal.c): digests against
 * published answers (GB/T 32905 SM3, FIPS 180-2 SHA-256, RFC 4231 HMAC),
 * SM2 against the GM/T 0003.5 signature example and the distinguishing ID,
 * Ed25519 against RFC 8032, the Merkle tree against the RFC 6962 vectors of
 * Certificate Transparency and a recursive reference, the documented byte
 * layouts of leaves and digests, selective disclosure, and signed seals
 * under key rotation in both suites. Ends with a quick throughput figure.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <pthread.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gx.h"
#include "gx_pki.h"
#include "gx_seal.h"
#include "gx_seal_impl.h"

static char err[512];
static const char *const SUITES[] = {"sm2-sm3", "ed25519-sha256"};

static gx_suite_t *suite(const char *name)
{
	gx_suite_t *s = NULL;
	cr_assert_eq(gx_suite_new(name, NULL, &s, err, sizeof(err)), GX_OK,
		     "%s", err);
	return s;
}

static void unhex(const char *h, unsigned char *out, size_t n)
{
	char buf[512];
	size_t j = 0;
	for (; *h; h++)
		if (*h != ' ')
			buf[j++] = *h;
	cr_assert_eq(gx_unhex(buf, j, out, n), 0, "bad test hex");
}

static void assert_hex(const unsigned char *p, size_t n, const char *want)
{
	char got[2 * 64 + 1];
	gx_hex(p, n, got);
	cr_assert_str_eq(got, want);
}

/* ---- suites and digests ---- */

Test(seal, suite_names)
{
	gx_suite_t *s = NULL;
	cr_assert_eq(gx_suite_new("rsa-sha1", NULL, &s, err, sizeof(err)),
		     GX_ERR_CONFIG);
	cr_assert(strstr(err, "sm2-sm3"));
	cr_assert_eq(gx_suite_new(NULL, NULL, &s, err, sizeof(err)),
		     GX_ERR_CONFIG);
	cr_assert_eq(gx_suite_new("sm2-sm3", "", &s, err, sizeof(err)),
		     GX_ERR_CONFIG);
	s = suite("sm2-sm3");
	cr_assert_eq(gx_suite_id(s), GX_SUITE_SM2_SM3);
	cr_assert_str_eq(gx_suite_name(s), "sm2-sm3");
	cr_assert_str_eq(gx_suite_sm2_id(s), "1234567812345678");
	gx_suite_destroy(s);
	s = suite("ed25519-sha256");
	cr_assert_eq(gx_suite_id(s), GX_SUITE_ED25519_SHA256);
	cr_assert_str_eq(gx_suite_sm2_id(s), "");
	gx_suite_destroy(s);
	gx_suite_destroy(NULL);
}

Test(seal, sm3_gbt32905_examples)
{
	gx_suite_t *s = suite("sm2-sm3");
	unsigned char md[GX_HASH_LEN];
	gx_hash(s, "abc", 3, md);
	assert_hex(md, 32, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2"
			   "297da02b8f4ba8e0");
	char m[65];
	for (int i = 0; i < 16; i++)
		memcpy(m + 4 * i, "abcd", 4);
	gx_hash(s, m, 64, md);
	assert_hex(md, 32, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765"
			   "293dcba39c0c5732");
	/* gx_hashv is the same function of the concatenation */
	const void *parts[] = {"a", "", "bc"};
	size_t lens[] = {1, 0, 2};
	gx_hashv(s, parts, lens, 3, md);
	assert_hex(md, 32, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2"
			   "297da02b8f4ba8e0");
	gx_suite_destroy(s);
}

Test(seal, sha256_known_answers)
{
	gx_suite_t *s = suite("ed25519-sha256");
	unsigned char md[GX_HASH_LEN];
	gx_hash(s, "abc", 3, md);
	assert_hex(md, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
			   "b410ff61f20015ad");
	gx_hash(s, "", 0, md);
	assert_hex(md, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934c"
			   "a495991b7852b855");
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnop"
			"nopq";
	gx_hash(s, m, strlen(m), md);
	assert_hex(md, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167"
			   "f6ecedd419db06c1");
	/* RFC 4231 test case 2 */
	const char *d = "what do ya want for nothing?";
	gx_hmac(s, "Jefe", 4, d, strlen(d), md);
	assert_hex(md, 32, "5bdcc146bf60754e6a042426089575c75a003f089d273983"
			   "9dec58b964ec3843");
	gx_suite_destroy(s);
}

/* HMAC-H is RFC 2104 over H in both suites (SM3 has no HMAC vector in
 * GB/T 32905; this builds the construction from H itself). */
Test(seal, hmac_is_rfc2104_over_h)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		unsigned char key[GX_SECRET_LEN], ipad[64], opad[64];
		unsigned char inner[GX_HASH_LEN], want[GX_HASH_LEN],
		    got[GX_HASH_LEN];
		for (int i = 0; i < GX_SECRET_LEN; i++)
			key[i] = (unsigned char)(i * 7 + 1);
		memset(ipad, 0x36, 64);
		memset(opad, 0x5c, 64);
		for (int i = 0; i < GX_SECRET_LEN; i++) {
			ipad[i] ^= key[i];
			opad[i] ^= key[i];
		}
		const void *p1[] = {ipad, "citizen_id"};
		size_t l1[] = {64, 10};
		gx_hashv(s, p1, l1, 2, inner);
		const void *p2[] = {opad, inner};
		size_t l2[] = {64, GX_HASH_LEN};
		gx_hashv(s, p2, l2, 2, want);
		gx_field_salt(s, key, "citizen_id", got);
		cr_assert_arr_eq(got, want, GX_HASH_LEN, "%s", SUITES[k]);
		gx_suite_destroy(s);
	}
}

/* ---- signatures ---- */

static EVP_PKEY *sm2_pub(const char *hex)
{
	unsigned char pub[65];
	unhex(hex, pub, sizeof(pub));
	/* SubjectPublicKeyInfo: id-ecPublicKey, curve SM2 (1.2.156.10197.1.301) */
	static const unsigned char pre[] = {
	    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
	    0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55,
	    0x01, 0x82, 0x2d, 0x03, 0x42, 0x00};
	unsigned char der[sizeof(pre) + 65];
	memcpy(der, pre, sizeof(pre));
	memcpy(der + sizeof(pre), pub, 65);
	const unsigned char *p = der;
	EVP_PKEY *k = d2i_PUBKEY(NULL, &p, sizeof(der));
	cr_assert_not_null(k);
	return k;
}

/* GM/T 0003.5-2012 appendix A (the GB/T 32918 example on the recommended
 * curve): message "message digest", ID "1234567812345678", signature (r,s).
 * It verifies only with that ID: the ID really enters Z_A. */
Test(seal, sm2_gmt0003_signature_example)
{
	EVP_PKEY *k = sm2_pub(
	    "04 09F9DF31 1E5421A1 50DD7D16 1E4BC5C6 72179FAD 1833FC07 6BB08FF3"
	    " 56F35020 CCEA490C E26775A5 2DC6EA71 8CC1AA60 0AED05FB F35E084A"
	    " 6632F607 2DA9AD13");
	/* DER SEQUENCE { INTEGER r, INTEGER s } (both have the top bit set) */
	unsigned char sig[72] = {0x30, 0x46, 0x02, 0x21, 0x00};
	unhex("F5A03B06 48D2C463 0EEAC513 E1BB81A1 5944DA38 27D5B741 43AC7EAC"
	      " EEE720B3", sig + 5, 32);
	sig[37] = 0x02;
	sig[38] = 0x21;
	sig[39] = 0x00;
	unhex("B1B6AA29 DF212FD8 763182BC 0D421CA1 BB9038FD 1F7F42D4 840B69C4"
	      " 85BBC1AA", sig + 40, 32);
	gx_suite_t *s = suite("sm2-sm3"), *other = NULL, *ed = NULL;
	cr_assert(gx_suite_key_ok(s, k));
	cr_assert(gx_suite_verify(s, k, "message digest", 14, sig, 72));
	cr_assert_not(gx_suite_verify(s, k, "message digesT", 14, sig, 72));
	cr_assert_eq(gx_suite_new("sm2-sm3", "1234567812345679", &other, err,
				  sizeof(err)), GX_OK);
	cr_assert_not(gx_suite_verify(other, k, "message digest", 14, sig, 72));
	gx_suite_destroy(other);
	cr_assert_eq(gx_suite_new("sm2-sm3", "ALICE123@YAHOO.COM", &other, err,
				  sizeof(err)), GX_OK);
	cr_assert_not(gx_suite_verify(other, k, "message digest", 14, sig, 72));
	ed = suite("ed25519-sha256");
	cr_assert_not(gx_suite_key_ok(ed, k));
	gx_suite_destroy(ed);
	gx_suite_destroy(other);
	gx_suite_destroy(s);
	EVP_PKEY_free(k);
}

Test(seal, sm2_round_trip_with_explicit_id)
{
	gx_suite_t *a = NULL, *b = NULL, *dflt = suite("sm2-sm3");
	cr_assert_eq(gx_suite_new("sm2-sm3", "SX-GA@govex", &a, err,
				  sizeof(err)), GX_OK);
	cr_assert_eq(gx_suite_new("sm2-sm3", "SX-MZ@govex", &b, err,
				  sizeof(err)), GX_OK);
	EVP_PKEY *k = gx_suite_keygen(a);
	cr_assert(gx_suite_key_ok(a, k));
	unsigned char sig[GX_SIG_MAX];
	size_t n = 0;
	cr_assert(gx_suite_sign(a, k, "seal", 4, sig, &n));
	cr_assert(n >= 8 && n <= 72);
	cr_assert(gx_suite_verify(a, k, "seal", 4, sig, n));
	cr_assert_not(gx_suite_verify(b, k, "seal", 4, sig, n),
		      "a different distinguishing ID must not verify");
	cr_assert_not(gx_suite_verify(dflt, k, "seal", 4, sig, n));
	cr_assert_not(gx_suite_verify(a, k, "Seal", 4, sig, n));
	sig[n - 1] ^= 1;
	cr_assert_not(gx_suite_verify(a, k, "seal", 4, sig, n));
	EVP_PKEY_free(k);
	gx_suite_destroy(a);
	gx_suite_destroy(b);
	gx_suite_destroy(dflt);
}

/* RFC 8032 section 7.1, TEST 1: the given secret key signs the empty
 * message into the given signature (Ed25519 is deterministic). */
Test(seal, ed25519_rfc8032_test1)
{
	unsigned char sk[32], pk[32], want[64], sig[GX_SIG_MAX], raw[32];
	unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	      sk, 32);
	unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	      pk, 32);
	unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
	      "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
	      want, 64);
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, sk,
						   32);
	cr_assert_not_null(k);
	size_t rl = 32;
	cr_assert(EVP_PKEY_get_raw_public_key(k, raw, &rl));
	cr_assert_arr_eq(raw, pk, 32);
	gx_suite_t *s = suite("ed25519-sha256"), *sm = suite("sm2-sm3");
	cr_assert(gx_suite_key_ok(s, k));
	cr_assert_not(gx_suite_key_ok(sm, k));
	size_t n = 0;
	cr_assert(gx_suite_sign(s, k, "", 0, sig, &n));
	cr_assert_eq(n, 64);
	cr_assert_arr_eq(sig, want, 64);
	cr_assert(gx_suite_verify(s, k, "", 0, sig, 64));
	sig[0] ^= 1;
	cr_assert_not(gx_suite_verify(s, k, "", 0, sig, 64));
	EVP_PKEY_free(k);
	gx_suite_destroy(s);
	gx_suite_destroy(sm);
}

/* ---- Merkle trees ---- */

/* RFC 6962 MTH written from the RFC's recursive definition, independently
 * of gx_merkle: split at the largest power of two below n. */
static void ref_mth(const gx_suite_t *s, const unsigned char (*d)[GX_HASH_LEN],
		    size_t n, unsigned char out[GX_HASH_LEN])
{
	if (n == 1) {
		unsigned char b[1 + GX_HASH_LEN] = {0x00};
		memcpy(b + 1, d[0], GX_HASH_LEN);
		gx_hash(s, b, sizeof(b), out);
		return;
	}
	size_t k = 1;
	while (k * 2 < n)
		k *= 2;
	unsigned char b[1 + 2 * GX_HASH_LEN] = {0x01};
	ref_mth(s, d, k, b + 1);
	ref_mth(s, d + k, n - k, b + 1 + GX_HASH_LEN);
	gx_hash(s, b, sizeof(b), out);
}

static const char *const CT_LEAVES[] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"};
static const char *const CT_ROOTS[] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

/* The Certificate Transparency (RFC 6962) SHA-256 vectors: roots of the
 * first 1..8 test leaves, and two published audit paths of the 8-tree. */
Test(seal, merkle_rfc6962_vectors)
{
	gx_suite_t *s = suite("ed25519-sha256");
	unsigned char bytes[8][16];
	const void *data[8];
	size_t lens[8];
	for (int i = 0; i < 8; i++) {
		lens[i] = strlen(CT_LEAVES[i]) / 2;
		if (lens[i])
			unhex(CT_LEAVES[i], bytes[i], lens[i]);
		data[i] = bytes[i];
	}
	for (size_t n = 1; n <= 8; n++) {
		gx_merkle_t *t = gx_merkle_new_data(s, data, lens, n);
		assert_hex(gx_merkle_root(t), 32, CT_ROOTS[n - 1]);
		gx_merkle_destroy(t);
	}
	gx_merkle_t *t = gx_merkle_new_data(s, data, lens, 8);
	unsigned char path[GX_MERKLE_PATH_MAX][GX_HASH_LEN];
	cr_assert_eq(gx_merkle_path(t, 0, path), 3);
	assert_hex(path[0], 32, "96a296d224f285c67bee93c30f8a309157f0daa35dc5"
				"b87e410b78630a09cfc7");
	assert_hex(path[1], 32, "5f083f0a1a33ca076a95279832580db3e0ef4584bdff"
				"1f54c8a360f50de3031e");
	assert_hex(path[2], 32, "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f162"
				"32dd6aab035ca39bf6e4");
	cr_assert_eq(gx_merkle_verify(s, data[0], 0, 0, 8,
				      (const unsigned char (*)[32])path, 3,
				      gx_merkle_root(t), err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(gx_merkle_path(t, 5, path), 3);
	assert_hex(path[0], 32, "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec"
				"5b5c283e1f4d88599e6b");
	assert_hex(path[1], 32, "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b"
				"5596ece6b9d5975a0ae0");
	assert_hex(path[2], 32, "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0"
				"fdfe8b30cd95209614b7");
	cr_assert_eq(gx_merkle_verify(s, data[5], lens[5], 5, 8,
				      (const unsigned char (*)[32])path, 3,
				      gx_merkle_root(t), err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(gx_merkle_path(t, 8, path), (size_t)-1);
	gx_merkle_destroy(t);
	cr_assert_null(gx_merkle_new_data(s, data, lens, 0));
	cr_assert_null(gx_merkle_new(s, NULL, 0));
	gx_suite_destroy(s);
}

/* Which side the node is on at each level where it has a sibling: 'L' it
 * is the left child, 'R' the right; promoted levels leave no mark. Two
 * (index, size) pairs with the same shape and the same root are the same
 * hash computation, so a changed size is caught by the signed count, not by
 * the path. */
static void shape(uint64_t i, uint64_t n, char *out)
{
	size_t k = 0;
	for (; n > 1; i /= 2, n = (n + 1) / 2)
		if (!(i % 2 == 0 && i + 1 == n))
			out[k++] = i % 2 ? 'R' : 'L';
	out[k] = '\0';
}

static gx_err_t mverify(const gx_suite_t *s, const unsigned char *d,
			uint64_t i, uint64_t n,
			unsigned char (*path)[GX_HASH_LEN], size_t np,
			const unsigned char *root)
{
	return gx_merkle_verify(s, d, GX_HASH_LEN, i, n,
				(const unsigned char (*)[GX_HASH_LEN])path, np,
				root, err, sizeof(err));
}

Test(seal, merkle_1_to_17_paths_and_tampering)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		unsigned char d[17][GX_HASH_LEN];
		cr_assert_eq(RAND_bytes((unsigned char *)d, sizeof(d)), 1);
		for (size_t n = 1; n <= 17; n++) {
			gx_merkle_t *t = gx_merkle_new(
			    s, (const unsigned char (*)[GX_HASH_LEN])d, n);
			cr_assert_eq(gx_merkle_count(t), n);
			const unsigned char *root = gx_merkle_root(t);
			unsigned char ref[GX_HASH_LEN];
			ref_mth(s, (const unsigned char (*)[GX_HASH_LEN])d, n,
				ref);
			cr_assert_arr_eq(root, ref, GX_HASH_LEN,
					 "%s n=%zu: not RFC 6962's MTH",
					 SUITES[k], n);
			for (size_t i = 0; i < n; i++) {
				unsigned char p[GX_MERKLE_PATH_MAX][GX_HASH_LEN];
				size_t np = gx_merkle_path(t, i, p);
				char sh[64];
				shape(i, n, sh);
				cr_assert_eq(np, strlen(sh));
				cr_assert_eq(mverify(s, d[i], i, n, p, np, root),
					     GX_OK, "n=%zu i=%zu: %s", n, i,
					     err);
				/* tampered record digest */
				unsigned char bad[GX_HASH_LEN];
				memcpy(bad, d[i], GX_HASH_LEN);
				bad[i % GX_HASH_LEN] ^= 0x80;
				cr_assert_eq(mverify(s, bad, i, n, p, np, root),
					     GX_ERR_DENIED);
				/* a byte of any path element */
				for (size_t e = 0; e < np; e++) {
					p[e][(e * 5) % GX_HASH_LEN] ^= 1;
					cr_assert_neq(mverify(s, d[i], i, n, p,
							      np, root),
						      GX_OK);
					p[e][(e * 5) % GX_HASH_LEN] ^= 1;
				}
				/* truncated or extended path */
				if (np)
					cr_assert_eq(mverify(s, d[i], i, n, p,
							     np - 1, root),
						     GX_ERR_INVALID);
				memcpy(p[np], root, GX_HASH_LEN);
				cr_assert_eq(mverify(s, d[i], i, n, p, np + 1,
						     root), GX_ERR_INVALID);
				/* every other index */
				for (size_t j = 0; j < n; j++)
					if (j != i)
						cr_assert_neq(
						    mverify(s, d[i], j, n, p, np,
							    root),
						    GX_OK, "n=%zu i=%zu as %zu",
						    n, i, j);
				/* other sizes: refused unless the shape is
				 * identical (then only the signed count
				 * tells them apart) */
				for (size_t m = i + 1; m <= 18; m++) {
					if (m == n)
						continue;
					char sm[64];
					shape(i, m, sm);
					gx_err_t e = mverify(s, d[i], i, m, p,
							     np, root);
					cr_assert_eq(e == GX_OK,
						     !strcmp(sh, sm),
						     "n=%zu i=%zu as size %zu",
						     n, i, m);
				}
				cr_assert_eq(mverify(s, d[i], n, n, p, np, root),
					     GX_ERR_INVALID);
				cr_assert_eq(mverify(s, d[i], 0, 0, p, np, root),
					     GX_ERR_INVALID);
			}
			gx_merkle_destroy(t);
		}
		gx_suite_destroy(s);
	}
}

Test(seal, merkle_batch_of_one)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		unsigned char d[1][GX_HASH_LEN], want[GX_HASH_LEN];
		unsigned char b[1 + GX_HASH_LEN] = {0x00};
		memset(d[0], 0xab, GX_HASH_LEN);
		memcpy(b + 1, d[0], GX_HASH_LEN);
		gx_hash(s, b, sizeof(b), want);
		gx_merkle_t *t = gx_merkle_new(
		    s, (const unsigned char (*)[GX_HASH_LEN])d, 1);
		cr_assert_arr_eq(gx_merkle_root(t), want, GX_HASH_LEN);
		unsigned char p[GX_MERKLE_PATH_MAX][GX_HASH_LEN];
		cr_assert_eq(gx_merkle_path(t, 0, p), 0);
		cr_assert_eq(mverify(s, d[0], 0, 1, p, 0, want), GX_OK);
		gx_merkle_destroy(t);
		gx_suite_destroy(s);
	}
}

/* ---- leaves, digests, disclosure ---- */

static void be32(unsigned char *b, uint32_t v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

/* The byte layouts documented in gx_seal.h, rebuilt by hand. */
Test(seal, documented_layouts)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		unsigned char salt[GX_HASH_LEN], leaf[GX_HASH_LEN],
		    want[GX_HASH_LEN];
		memset(salt, 0x11, sizeof(salt));
		/* Avro long 42 zig-zags to one byte 0x54 */
		const unsigned char val[] = {0x54};
		unsigned char l1[4], l2[4];
		be32(l1, 3);
		be32(l2, 1);
		const void *parts[] = {salt, l1, "age", l2, val};
		size_t lens[] = {GX_HASH_LEN, 4, 3, 4, 1};
		gx_hashv(s, parts, lens, 5, want);
		gx_field_leaf(s, salt, "age", val, 1, leaf);
		cr_assert_arr_eq(leaf, want, GX_HASH_LEN);

		unsigned char leaves[2][GX_HASH_LEN], digest[GX_HASH_LEN];
		memset(leaves[0], 0xaa, GX_HASH_LEN);
		memset(leaves[1], 0xbb, GX_HASH_LEN);
		gx_seal_head_t h = {"r-1", "SX-GA", "I-9",
				    0x0102030405060708LL, 0};
		gx_record_digest(s, &h,
				 (const unsigned char (*)[GX_HASH_LEN])leaves,
				 2, digest);
		unsigned char a[4], b[4], c[4], n[4];
		unsigned char at[8] = {1, 2, 3, 4, 5, 6, 7, 8};
		be32(a, 3);
		be32(b, 5);
		be32(c, 3);
		be32(n, 2);
		unsigned char op = 0;
		const void *dp[] = {a, "r-1", b, "SX-GA", c, "I-9", at, &op, n,
				    leaves};
		size_t dl[] = {4, 3, 4, 5, 4, 3, 8, 1, 4, 2 * GX_HASH_LEN};
		gx_hashv(s, dp, dl, 10, want);
		cr_assert_arr_eq(digest, want, GX_HASH_LEN);
		gx_suite_destroy(s);
	}
}

Test(seal, head_parts_are_length_prefixed)
{
	gx_suite_t *s = suite("sm2-sm3");
	unsigned char lv[1][GX_HASH_LEN] = {{0}}, d1[32], d2[32];
	gx_seal_head_t a = {"ab", "c", "I", 1, 0}, b = {"a", "bc", "I", 1, 0};
	gx_record_digest(s, &a, (const unsigned char (*)[32])lv, 1, d1);
	gx_record_digest(s, &b, (const unsigned char (*)[32])lv, 1, d2);
	cr_assert_arr_neq(d1, d2, 32);
	/* the negative time and leaf count are bound too */
	gx_seal_head_t c = {"ab", "c", "I", -1, 0};
	gx_record_digest(s, &c, (const unsigned char (*)[32])lv, 1, d2);
	cr_assert_arr_neq(d1, d2, 32);
	gx_record_digest(s, &a, (const unsigned char (*)[32])lv, 0, d2);
	cr_assert_arr_neq(d1, d2, 32);
	/* a name and value boundary cannot move either */
	unsigned char salt[32] = {0}, l1[32], l2[32];
	gx_field_leaf(s, salt, "ab", "c", 1, l1);
	gx_field_leaf(s, salt, "a", "bc", 2, l2);
	cr_assert_arr_neq(l1, l2, 32);
	gx_suite_destroy(s);
}

#define NF 8
static const char *const NAMES[NF] = {"citizen_id", "name",    "sex",
				      "birth_date", "address", "ethnicity",
				      "status",     "updated_at"};

struct rec {
	char vals[NF][24];
	gx_field_bytes_t f[NF];
	unsigned char secret[GX_SECRET_LEN];
	gx_seal_head_t head;
};

static void rec_init(struct rec *r)
{
	for (int i = 0; i < NF; i++) {
		snprintf(r->vals[i], sizeof(r->vals[i]), "\x14value-%d", i);
		r->f[i] = (gx_field_bytes_t){NAMES[i], r->vals[i],
					     strlen(r->vals[i])};
	}
	cr_assert_eq(gx_record_secret_new(r->secret, err, sizeof(err)), GX_OK);
	r->head = (gx_seal_head_t){"0b6c4b9e-6c1d-4c4b-9a55-7f0e5d1c2a3b",
				   "SX-GA", "SX-GA-RK-001", 1735689600123LL, 0};
}

/* Two of eight fields released: the consumer recomputes the digest from
 * those two values with their salts and the six withheld leaves. */
Test(seal, selective_disclosure)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		struct rec r;
		rec_init(&r);
		unsigned char leaves[NF][GX_HASH_LEN], digest[GX_HASH_LEN];
		gx_record_seal_fields(s, r.secret, &r.head, r.f, NF, leaves,
				      digest);
		unsigned char d2[GX_HASH_LEN];
		gx_record_seal_fields(s, r.secret, &r.head, r.f, NF, NULL, d2);
		cr_assert_arr_eq(digest, d2, GX_HASH_LEN);

		const int released[NF] = {0, 1, 0, 0, 0, 0, 1, 0};
		unsigned char salts[NF][GX_HASH_LEN];
		gx_field_proof_t pf[NF];
		for (int i = 0; i < NF; i++) {
			gx_field_salt(s, r.secret, NAMES[i], salts[i]);
			unsigned char leaf[GX_HASH_LEN];
			gx_field_leaf(s, salts[i], NAMES[i], r.vals[i],
				      strlen(r.vals[i]), leaf);
			cr_assert_arr_eq(leaf, leaves[i], GX_HASH_LEN);
			pf[i] = released[i]
				    ? (gx_field_proof_t){NAMES[i], salts[i],
							 r.vals[i],
							 strlen(r.vals[i]), NULL}
				    : (gx_field_proof_t){NAMES[i], NULL, NULL,
							 0, leaves[i]};
		}
		cr_assert_eq(gx_record_digest_disclosed(s, &r.head, pf, NF, d2,
							err, sizeof(err)),
			     GX_OK, "%s", err);
		cr_assert_arr_eq(digest, d2, GX_HASH_LEN);

		/* any released value changed, by one byte */
		char forged[24];
		for (int i = 0; i < NF; i++) {
			if (!released[i])
				continue;
			memcpy(forged, r.vals[i], sizeof(forged));
			forged[3] ^= 1;
			pf[i].value = forged;
			gx_record_digest_disclosed(s, &r.head, pf, NF, d2, err,
						   sizeof(err));
			cr_assert_arr_neq(digest, d2, GX_HASH_LEN);
			pf[i].value = r.vals[i];
		}
		/* any withheld leaf or released salt changed */
		for (int i = 0; i < NF; i++) {
			unsigned char *p = released[i] ? salts[i] : leaves[i];
			p[i] ^= 0x40;
			gx_record_digest_disclosed(s, &r.head, pf, NF, d2, err,
						   sizeof(err));
			cr_assert_arr_neq(digest, d2, GX_HASH_LEN, "field %d",
					  i);
			p[i] ^= 0x40;
		}
		/* a salt moved to another field, a field renamed */
		pf[1].salt = salts[6];
		gx_record_digest_disclosed(s, &r.head, pf, NF, d2, err,
					   sizeof(err));
		cr_assert_arr_neq(digest, d2, GX_HASH_LEN);
		pf[1].salt = salts[1];
		pf[1].name = "surname";
		gx_record_digest_disclosed(s, &r.head, pf, NF, d2, err,
					   sizeof(err));
		cr_assert_arr_neq(digest, d2, GX_HASH_LEN);
		pf[1].name = NAMES[1];
		/* the head: each part */
		gx_seal_head_t h = r.head;
		h.provider = "SX-MZ";
		gx_record_digest_disclosed(s, &h, pf, NF, d2, err, sizeof(err));
		cr_assert_arr_neq(digest, d2, GX_HASH_LEN);
		h = r.head;
		h.collected_at++;
		gx_record_digest_disclosed(s, &h, pf, NF, d2, err, sizeof(err));
		cr_assert_arr_neq(digest, d2, GX_HASH_LEN);
		/* an upsert cannot be passed off as a delete */
		h = r.head;
		h.op = 1;
		gx_record_digest_disclosed(s, &h, pf, NF, d2, err, sizeof(err));
		cr_assert_arr_neq(digest, d2, GX_HASH_LEN);
		/* a field with both or neither of salt and leaf */
		pf[0].salt = salts[0];
		cr_assert_eq(gx_record_digest_disclosed(s, &r.head, pf, NF, d2,
							err, sizeof(err)),
			     GX_ERR_INVALID);
		pf[0].salt = NULL;
		pf[0].leaf = NULL;
		cr_assert_eq(gx_record_digest_disclosed(s, &r.head, pf, NF, d2,
							err, sizeof(err)),
			     GX_ERR_INVALID);
		/* salts differ per record: a fresh secret, other salts */
		unsigned char secret2[GX_SECRET_LEN], salt2[GX_HASH_LEN];
		gx_record_secret_new(secret2, err, sizeof(err));
		gx_field_salt(s, secret2, NAMES[1], salt2);
		cr_assert_arr_neq(salt2, salts[1], GX_HASH_LEN);
		gx_suite_destroy(s);
	}
}

/* ---- seals (keys from gx_pki in a temporary directory) ---- */

static char dir[64];

static int rm_cb(const char *p, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	return remove(p);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gx-seal-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static char *path(const char *fmt, const char *a)
{
	return gx_asprintf("%s/%s%s", dir, a, fmt);
}

/* A root and one key for each agency given; keys named <agency><tag>. */
static gx_cert_t *make_root(const gx_suite_t *s, const char *tag)
{
	char *k = path(".key", tag), *c = path(".crt", tag);
	cr_assert_eq(gx_ca_init(s, k, c, "govex test root", 30, err,
				sizeof(err)), GX_OK, "%s", err);
	gx_cert_t *root = NULL;
	cr_assert_eq(gx_root_load(s, c, &root, err, sizeof(err)), GX_OK, "%s",
		     err);
	free(k);
	free(c);
	return root;
}

static gx_sealkey_t *make_key(const gx_suite_t *s, const char *roottag,
			      const char *agency, const char *name,
			      const gx_cert_t *root)
{
	char *ck = path(".key", roottag), *cc = path(".crt", roottag);
	char *k = path(".key", name), *c = path(".crt", name);
	char kid[GX_KEY_ID_LEN + 1];
	cr_assert_eq(gx_agency_key_new(s, ck, cc, agency, 30, k, c, kid, err,
				       sizeof(err)), GX_OK, "%s", err);
	gx_sealkey_t *sk = NULL;
	cr_assert_eq(gx_sealkey_load(s, k, c, root, &sk, err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_str_eq(gx_sealkey_key_id(sk), kid);
	cr_assert_str_eq(gx_sealkey_agency(sk), agency);
	free(ck);
	free(cc);
	free(k);
	free(c);
	return sk;
}

static gx_err_t verify_json(const gx_suite_t *s, const gx_keyring_t *kr,
			    json_t *j)
{
	gx_seal_t seal;
	err[0] = '\0';
	return gx_seal_verify_json(s, kr, j, &seal, err, sizeof(err));
}

static void seal_round_trip(const char *name)
{
	gx_suite_t *s = suite(name);
	gx_cert_t *root = make_root(s, "root");
	gx_sealkey_t *ga = make_key(s, "root", "SX-GA", "ga", root);
	gx_sealkey_t *mz = make_key(s, "root", "SX-MZ", "mz", root);
	gx_keyring_t *kr = gx_keyring_new(s, root, 0);
	int64_t now = gx_now_ms();
	cr_assert_eq(gx_keyring_add(kr, "SX-GA", now - 1000,
				    gx_sealkey_cert(ga), err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(gx_keyring_add(kr, "SX-MZ", now - 1000,
				    gx_sealkey_cert(mz), err, sizeof(err)),
		     GX_OK, "%s", err);

	unsigned char d[5][GX_HASH_LEN];
	RAND_bytes((unsigned char *)d, sizeof(d));
	gx_merkle_t *t = gx_merkle_new(s, (const unsigned char (*)[32])d, 5);
	gx_seal_t seal, back;
	json_t *j = NULL;
	cr_assert_eq(gx_seal_sign(ga, NULL, 5, gx_merkle_root(t), now, NULL,
				  &seal, &j, err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_str_eq(json_string_value(json_object_get(j, "suite")), name);
	cr_assert_str_eq(seal.provider, "SX-GA");
	cr_assert_eq(strlen(seal.batch_id), 36);
	cr_assert(json_is_null(json_object_get(j, "reseal_of")));
	cr_assert_eq(verify_json(s, kr, j), GX_OK, "%s", err);

	/* through text and back, as on govex.seals */
	char *text = json_dumps(j, JSON_COMPACT);
	json_t *j2 = json_loads(text, 0, NULL);
	cr_assert_eq(gx_seal_verify_json(s, kr, j2, &back, err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(back.count, 5);
	cr_assert_arr_eq(back.root, gx_merkle_root(t), GX_HASH_LEN);
	cr_assert_str_eq(back.batch_id, seal.batch_id);
	free(text);
	json_decref(j2);

	/* The signature's text is canonical: changing the unused low bits of
	 * its last character before padding leaves the decoded bytes alone
	 * but must still be refused (one text per seal). */
	{
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
					  "ghijklmnopqrstuvwxyz0123456789+/";
		char *sig = gx_strdup(json_string_value(json_object_get(j, "sig")));
		size_t len = strlen(sig), pad = 0;
		while (pad < 2 && sig[len - 1 - pad] == '=')
			pad++;
		if (pad) {
			char *c = &sig[len - 1 - pad];
			*c = b64[(strchr(b64, *c) - b64) ^ 1]; /* an unused bit */
			json_t *j3 = json_deep_copy(j);
			json_object_set_new(j3, "sig", json_string(sig));
			cr_assert_neq(verify_json(s, kr, j3), GX_OK,
				      "%s: a non-canonical signature text verified", name);
			cr_assert(strstr(err, "canonical"), "%s", err);
			json_decref(j3);
		}
		free(sig);
	}

	/* every record of the batch checks against the verified seal */
	for (size_t i = 0; i < 5; i++) {
		unsigned char p[GX_MERKLE_PATH_MAX][GX_HASH_LEN];
		size_t np = gx_merkle_path(t, i, p);
		cr_assert_eq(gx_seal_check_record(
				 s, &back, "SX-GA", d[i], i,
				 (const unsigned char (*)[32])p, np, err,
				 sizeof(err)),
			     GX_OK, "%s", err);
		/* sealed by SX-GA but claiming SX-MZ */
		cr_assert_eq(gx_seal_check_record(
				 s, &back, "SX-MZ", d[i], i,
				 (const unsigned char (*)[32])p, np, err,
				 sizeof(err)),
			     GX_ERR_DENIED);
		cr_assert(strstr(err, "claims provider SX-MZ"), "%s", err);
		cr_assert_eq(gx_seal_check_record(
				 s, &back, "SX-GA", d[(i + 1) % 5], i,
				 (const unsigned char (*)[32])p, np, err,
				 sizeof(err)),
			     GX_ERR_DENIED);
	}

	/* each member tampered */
	static const char *const members[] = {"batch_id", "provider", "key_id",
					      "root", "sig"};
	for (size_t m = 0; m < GX_ARRAY_SIZE(members); m++) {
		json_t *c = json_deep_copy(j);
		char *v = gx_strdup(json_string_value(
		    json_object_get(c, members[m])));
		/* change one character, keeping the form valid */
		size_t at = strlen(v) / 2;
		v[at] = v[at] == '0' ? '1' : '0';
		if (!strcmp(members[m], "provider"))
			strcpy(v, "SX-MZ");
		json_object_set_new(c, members[m], json_string(v));
		cr_assert_neq(verify_json(s, kr, c), GX_OK, "%s", members[m]);
		free(v);
		json_decref(c);
	}
	json_t *c = json_deep_copy(j);
	json_object_set_new(c, "count", json_integer(6));
	cr_assert_eq(verify_json(s, kr, c), GX_ERR_DENIED);
	json_object_set_new(c, "count", json_integer(0));
	cr_assert_eq(verify_json(s, kr, c), GX_ERR_INVALID);
	json_decref(c);
	c = json_deep_copy(j);
	json_object_set_new(c, "created_at", json_integer(now + 1));
	cr_assert_eq(verify_json(s, kr, c), GX_ERR_DENIED);
	json_object_set_new(c, "created_at", json_integer(now));
	json_object_set_new(c, "reseal_of",
			    json_string("00000000-0000-4000-8000-000000000000"));
	cr_assert_eq(verify_json(s, kr, c), GX_ERR_DENIED);
	json_object_set_new(c, "reseal_of", json_null());
	json_object_set_new(c, "extra", json_true());
	cr_assert_eq(verify_json(s, kr, c), GX_ERR_INVALID);
	json_object_del(c, "extra");
	json_object_del(c, "sig");
	cr_assert_eq(verify_json(s, kr, c), GX_ERR_INVALID);
	json_decref(c);

	/* a seal re-signed by SX-MZ over SX-GA's root still names SX-MZ; a
	 * seal naming SX-GA with SX-MZ's key id is refused */
	c = json_deep_copy(j);
	json_object_set_new(c, "key_id", json_string(gx_sealkey_key_id(mz)));
	cr_assert_eq(verify_json(s, kr, c), GX_ERR_DENIED);
	cr_assert(strstr(err, "belongs to SX-MZ"), "%s", err);
	json_decref(c);

	/* a re-seal links the original */
	json_t *rj = NULL;
	cr_assert_eq(gx_seal_sign(mz, NULL, 5, gx_merkle_root(t), now,
				  seal.batch_id, &back, &rj, err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_str_eq(json_string_value(json_object_get(rj, "reseal_of")),
			 seal.batch_id);
	cr_assert_eq(verify_json(s, kr, rj), GX_OK, "%s", err);
	cr_assert_eq(verify_json(s, kr, j), GX_OK, "%s", err);
	json_decref(rj);

	/* a keyring of another root knows neither key */
	gx_cert_t *root2 = make_root(s, "root2");
	gx_keyring_t *kr2 = gx_keyring_new(s, root2, 0);
	cr_assert_eq(verify_json(s, kr2, j), GX_ERR_DENIED);
	cr_assert(strstr(err, "not in the keyring"), "%s", err);
	gx_keyring_destroy(kr2);
	gx_cert_destroy(root2);

	cr_assert_eq(gx_seal_sign(ga, NULL, 0, gx_merkle_root(t), now, NULL,
				  &seal, NULL, err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_eq(gx_seal_sign(ga, "not-a-uuid", 1, gx_merkle_root(t), now,
				  NULL, &seal, NULL, err, sizeof(err)),
		     GX_ERR_INVALID);
	json_decref(j);
	gx_merkle_destroy(t);
	gx_keyring_destroy(kr);
	gx_sealkey_destroy(ga);
	gx_sealkey_destroy(mz);
	gx_cert_destroy(root);
	gx_suite_destroy(s);
}

Test(seal, sign_verify_sm2_sm3, .init = setup, .fini = teardown)
{
	seal_round_trip("sm2-sm3");
}

Test(seal, sign_verify_ed25519_sha256, .init = setup, .fini = teardown)
{
	seal_round_trip("ed25519-sha256");
}

/* One exchange, one suite: a seal of the other suite is refused, and so is
 * an SM2 seal checked with another distinguishing ID. */
Test(seal, cross_suite_refused, .init = setup, .fini = teardown)
{
	gx_suite_t *sm = suite("sm2-sm3"), *ed = suite("ed25519-sha256");
	gx_cert_t *root = make_root(sm, "root");
	gx_sealkey_t *ga = make_key(sm, "root", "SX-GA", "ga", root);
	gx_keyring_t *kr = gx_keyring_new(sm, root, 0);
	cr_assert_eq(gx_keyring_add(kr, "SX-GA", 0, gx_sealkey_cert(ga), err,
				    sizeof(err)), GX_OK, "%s", err);
	unsigned char rootd[GX_HASH_LEN] = {1};
	gx_seal_t seal;
	json_t *j = NULL;
	int64_t now = gx_now_ms();
	cr_assert_eq(gx_seal_sign(ga, NULL, 1, rootd, now, NULL, &seal, &j,
				  err, sizeof(err)), GX_OK, "%s", err);
	cr_assert_eq(verify_json(sm, kr, j), GX_OK, "%s", err);
	gx_cert_t *eroot = make_root(ed, "eroot");
	gx_keyring_t *ekr = gx_keyring_new(ed, eroot, 0);
	cr_assert_eq(verify_json(ed, ekr, j), GX_ERR_DENIED);
	cr_assert(strstr(err, "suite"), "%s", err);

	/* the same keys and certificates under another SM2 ID: the root's
	 * self-signature no longer verifies, nor does the seal */
	gx_suite_t *other = NULL;
	cr_assert_eq(gx_suite_new("sm2-sm3", "another-id", &other, err,
				  sizeof(err)), GX_OK);
	char *rc = path(".crt", "root");
	gx_cert_t *r2 = NULL;
	cr_assert_eq(gx_root_load(other, rc, &r2, err, sizeof(err)),
		     GX_ERR_CONFIG);
	free(rc);
	gx_cert_t *leaf = NULL;
	char *pem = gx_cert_pem(gx_sealkey_cert(ga));
	cr_assert_eq(gx_cert_from_pem(other, pem, strlen(pem), &leaf, err,
				      sizeof(err)), GX_OK, "%s", err);
	gx_buf_t m;
	gx_buf_init(&m);
	gx_seal_message(sm, &seal, &m);
	cr_assert_eq(gx_cert_verify_sig(gx_sealkey_cert(ga), m.data, m.len,
					seal.sig, seal.siglen, err,
					sizeof(err)), GX_OK);
	cr_assert_eq(gx_cert_verify_sig(leaf, m.data, m.len, seal.sig,
					seal.siglen, err, sizeof(err)),
		     GX_ERR_DENIED);
	gx_buf_free(&m);
	free(pem);
	gx_cert_destroy(leaf);
	gx_suite_destroy(other);
	json_decref(j);
	gx_keyring_destroy(ekr);
	gx_keyring_destroy(kr);
	gx_cert_destroy(eroot);
	gx_cert_destroy(root);
	gx_sealkey_destroy(ga);
	gx_suite_destroy(sm);
	gx_suite_destroy(ed);
}

/* Key rotation: k1 from T0 = now, k2 from T1 = T0 + 1 h (a planned
 * switch), grace 5 min; then the refusals of the keyring itself. */
static void rotation(const char *name)
{
	gx_suite_t *s = suite(name);
	gx_cert_t *root = make_root(s, "root");
	gx_sealkey_t *k1 = make_key(s, "root", "SX-GA", "k1", root);
	gx_sealkey_t *k2 = make_key(s, "root", "SX-GA", "k2", root);
	const int64_t H = 3600 * 1000, G = GX_KEY_GRACE_DEFAULT_MS;
	int64_t t0 = gx_now_ms(), t1 = t0 + H;
	gx_keyring_t *kr = gx_keyring_new(s, root, G);
	cr_assert_eq(gx_keyring_add(kr, "SX-GA", t0, gx_sealkey_cert(k1), err,
				    sizeof(err)), GX_OK, "%s", err);
	cr_assert_eq(gx_keyring_add(kr, "SX-GA", t1, gx_sealkey_cert(k2), err,
				    sizeof(err)), GX_OK, "%s", err);
	struct {
		gx_sealkey_t *k;
		int64_t at;
		gx_err_t want;
	} cases[] = {
	    {k1, t0 - 1, GX_ERR_DENIED}, {k1, t0, GX_OK},
	    {k1, t1 - 1, GX_OK},	 {k1, t1 + G - 1, GX_OK},
	    {k1, t1 + G, GX_ERR_DENIED}, {k2, t1 - 1, GX_ERR_DENIED},
	    {k2, t1, GX_OK},		 {k2, t1 + 24 * H, GX_OK},
	};
	unsigned char r[GX_HASH_LEN] = {7};
	json_t *old = NULL;
	for (size_t i = 0; i < GX_ARRAY_SIZE(cases); i++) {
		gx_seal_t seal;
		json_t *j = NULL;
		cr_assert_eq(gx_seal_sign(cases[i].k, NULL, 1, r, cases[i].at,
					  NULL, &seal, &j, err, sizeof(err)),
			     GX_OK);
		cr_assert_eq(verify_json(s, kr, j), cases[i].want,
			     "%s case %zu: %s", name, i, err);
		if (i == 1)
			old = json_incref(j);
		json_decref(j);
	}
	/* after the rotation the old key's old seals still verify */
	cr_assert_eq(verify_json(s, kr, old), GX_OK, "%s", err);
	json_decref(old);
	cr_assert_str_eq(gx_keyring_current(kr, "SX-GA", t1 - 1),
			 gx_sealkey_key_id(k1));
	cr_assert_str_eq(gx_keyring_current(kr, "SX-GA", t1),
			 gx_sealkey_key_id(k2));
	cr_assert_null(gx_keyring_current(kr, "SX-GA", t0 - 1));
	cr_assert_null(gx_keyring_current(kr, "SX-MZ", t1));
	/* a seal dated outside its certificate's validity: before it was
	 * issued, or after it ends, though within the keyring's period */
	gx_keyring_t *early = gx_keyring_new(s, root, G);
	cr_assert_eq(gx_keyring_add(early, "SX-GA", 0, gx_sealkey_cert(k1),
				    err, sizeof(err)), GX_OK, "%s", err);
	int64_t nb = gx_cert_not_before(gx_sealkey_cert(k1)),
		na = gx_cert_not_after(gx_sealkey_cert(k1));
	int64_t ats[] = {nb - 1, nb, na, na + 1};
	gx_err_t wants[] = {GX_ERR_DENIED, GX_OK, GX_OK, GX_ERR_DENIED};
	for (size_t i = 0; i < 4; i++) {
		gx_seal_t seal;
		json_t *j = NULL;
		cr_assert_eq(gx_seal_sign(k1, NULL, 1, r, ats[i], NULL, &seal,
					  &j, err, sizeof(err)), GX_OK);
		cr_assert_eq(verify_json(s, early, j), wants[i],
			     "validity case %zu: %s", i, err);
		json_decref(j);
	}
	gx_keyring_destroy(early);
	/* the same key twice, or two keys from the same time, are refused */
	cr_assert_eq(gx_keyring_add(kr, "SX-GA", t1 + H, gx_sealkey_cert(k1),
				    err, sizeof(err)), GX_ERR_INVALID);
	gx_sealkey_t *k3 = make_key(s, "root", "SX-GA", "k3", root);
	cr_assert_eq(gx_keyring_add(kr, "SX-GA", t1, gx_sealkey_cert(k3), err,
				    sizeof(err)), GX_ERR_INVALID);
	/* a key under another agency's name is refused */
	cr_assert_eq(gx_keyring_add(kr, "SX-MZ", t1 + H, gx_sealkey_cert(k3),
				    err, sizeof(err)), GX_ERR_DENIED);
	gx_sealkey_destroy(k3);
	gx_keyring_destroy(kr);
	gx_sealkey_destroy(k1);
	gx_sealkey_destroy(k2);
	gx_cert_destroy(root);
	gx_suite_destroy(s);
}

Test(seal, rotation_sm2_sm3, .init = setup, .fini = teardown)
{
	rotation("sm2-sm3");
}

Test(seal, rotation_ed25519_sha256, .init = setup, .fini = teardown)
{
	rotation("ed25519-sha256");
}

/* Shared suite, key and keyring used from four threads at once, as the
 * broker's workers would. */
struct shared {
	const gx_suite_t *s;
	const gx_sealkey_t *key;
	const gx_keyring_t *kr;
	int ok;
};

static void *worker(void *arg)
{
	struct shared *sh = arg;
	char e[256];
	for (int i = 0; i < 25; i++) {
		unsigned char d[3][GX_HASH_LEN];
		memset(d, i, sizeof(d));
		gx_merkle_t *t = gx_merkle_new(
		    sh->s, (const unsigned char (*)[GX_HASH_LEN])d, 3);
		gx_seal_t seal, back;
		json_t *j = NULL;
		if (gx_seal_sign(sh->key, NULL, 3, gx_merkle_root(t),
				 gx_now_ms(), NULL, &seal, &j, e, sizeof(e)) ||
		    gx_seal_verify_json(sh->s, sh->kr, j, &back, e, sizeof(e)))
			sh->ok = 0;
		json_decref(j);
		gx_merkle_destroy(t);
	}
	return NULL;
}

Test(seal, shared_between_threads, .init = setup, .fini = teardown)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		gx_cert_t *root = make_root(s, "root");
		gx_sealkey_t *ga = make_key(s, "root", "SX-GA", SUITES[k], root);
		gx_keyring_t *kr = gx_keyring_new(s, root, 0);
		cr_assert_eq(gx_keyring_add(kr, "SX-GA", 0, gx_sealkey_cert(ga),
					    err, sizeof(err)), GX_OK);
		struct shared sh[4];
		pthread_t th[4];
		for (int i = 0; i < 4; i++) {
			sh[i] = (struct shared){s, ga, kr, 1};
			cr_assert_eq(pthread_create(&th[i], NULL, worker,
						    &sh[i]), 0);
		}
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			cr_assert(sh[i].ok, "%s thread %d", SUITES[k], i);
		}
		gx_keyring_destroy(kr);
		gx_sealkey_destroy(ga);
		gx_cert_destroy(root);
		gx_suite_destroy(s);
		teardown();
		setup();
	}
}

/* ---- a quick throughput figure (bench/bench_seal.c has the full one) ---- */

static double secs(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

Test(seal, quick_figures, .init = setup, .fini = teardown)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		gx_cert_t *root = make_root(s, "root");
		gx_sealkey_t *ga = make_key(s, "root", "SX-GA", SUITES[k], root);
		unsigned char salt[GX_HASH_LEN] = {0}, leaf[GX_HASH_LEN];
		int n = 20000;
		double t = secs();
		for (int i = 0; i < n; i++)
			gx_field_leaf(s, salt, "citizen_id",
				      "\x24" "110101199003077777", 19, leaf);
		double leaves = n / (secs() - t);
		n = 200;
		gx_seal_t seal;
		t = secs();
		for (int i = 0; i < n; i++)
			cr_assert_eq(gx_seal_sign(ga, NULL, 1, leaf, 1, NULL,
						  &seal, NULL, err,
						  sizeof(err)), GX_OK);
		double seals = n / (secs() - t);
		cr_log_info("seal %s: %.0f leaf hashes/s, %.0f seals/s "
			    "(one signature each)", SUITES[k], leaves, seals);
		gx_sealkey_destroy(ga);
		gx_cert_destroy(root);
		gx_suite_destroy(s);
		teardown();
		setup();
	}
}
