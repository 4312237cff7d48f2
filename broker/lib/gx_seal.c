/*
 * gx_seal.c - suites, salted field leaves, record digests, batch Merkle
 * trees and signed seals (OpenSSL 3: SM2/SM3, Ed25519/SHA-256, HMAC).
 * The byte layouts are specified in gx_seal.h; change them only with a new
 * version tag, since consumers in other languages recompute them.
 */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "gx.h"
#include "gx_pki.h"
#include "gx_seal.h"
#include "gx_seal_impl.h"

#define SEAL_TAG "govex-seal-v1"

struct gx_suite {
	gx_suite_id_t id;
	const char *name;
	const char *keytype;	/* OpenSSL key type name */
	const char *mdname;	/* digest of the signature, NULL: none (EdDSA) */
	EVP_MD *md;		/* H */
	EVP_MAC_CTX *hmac;	/* HMAC-H, digest set, not keyed: dup'd per use */
	char sm2_id[256];
	size_t sm2_id_len;
};

/* ---- suites ---- */

gx_err_t gx_suite_new(const char *name, const char *sm2_id, gx_suite_t **out,
		      char *errstr, size_t errstr_size)
{
	gx_suite_t *s = gx_calloc(1, sizeof(*s));
	const char *hname;
	if (name && !strcmp(name, "sm2-sm3")) {
		s->id = GX_SUITE_SM2_SM3;
		s->name = "sm2-sm3";
		s->keytype = "SM2";
		s->mdname = "SM3";
		hname = "SM3";
		if (!sm2_id)
			sm2_id = GX_SM2_DEFAULT_ID;
		size_t n = strlen(sm2_id);
		if (n == 0 || n >= sizeof(s->sm2_id)) {
			free(s);
			return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					 "SM2 distinguishing ID must be 1 to "
					 "255 bytes");
		}
		memcpy(s->sm2_id, sm2_id, n + 1);
		s->sm2_id_len = n;
	} else if (name && !strcmp(name, "ed25519-sha256")) {
		s->id = GX_SUITE_ED25519_SHA256;
		s->name = "ed25519-sha256";
		s->keytype = "ED25519";
		s->mdname = NULL;
		hname = "SHA256";
	} else {
		free(s);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "unknown suite \"%s\" (sm2-sm3, ed25519-sha256)",
				 name ? name : "");
	}
	s->md = EVP_MD_fetch(NULL, hname, NULL);
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	s->hmac = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac); /* the context keeps its own reference */
	OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(
			      OSSL_MAC_PARAM_DIGEST, (char *)hname, 0),
			  OSSL_PARAM_construct_end()};
	if (!s->md || EVP_MD_get_size(s->md) != GX_HASH_LEN || !s->hmac ||
	    !EVP_MAC_CTX_set_params(s->hmac, p)) {
		gx_suite_destroy(s);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "this OpenSSL lacks %s or HMAC-%s", hname,
				 hname);
	}
	/* Fail at configuration time, not at the first seal. */
	EVP_PKEY *probe = gx_suite_keygen(s);
	if (!probe) {
		gx_suite_destroy(s);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "this OpenSSL cannot make %s keys",
				 name);
	}
	EVP_PKEY_free(probe);
	*out = s;
	return GX_OK;
}

void gx_suite_destroy(gx_suite_t *s)
{
	if (!s)
		return;
	EVP_MD_free(s->md);
	EVP_MAC_CTX_free(s->hmac);
	free(s);
}

gx_suite_id_t gx_suite_id(const gx_suite_t *s) { return s->id; }
const char *gx_suite_name(const gx_suite_t *s) { return s->name; }
const char *gx_suite_sm2_id(const gx_suite_t *s) { return s->sm2_id; }
const char *gx_suite_keytype(const gx_suite_t *s) { return s->keytype; }

int gx_suite_key_ok(const gx_suite_t *s, EVP_PKEY *k)
{
	/* In OpenSSL 3.0 a PEM key on the SM2 curve decodes as type "SM2"
	 * (EVP_PKEY_get_base_id is unreliable for provider keys). */
	return k && EVP_PKEY_is_a(k, s->keytype);
}

EVP_PKEY *gx_suite_keygen(const gx_suite_t *s)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, s->keytype);
}

int gx_suite_md_init(const gx_suite_t *s, EVP_MD_CTX *ctx, EVP_PKEY *k,
		     int verify)
{
	EVP_PKEY_CTX *pctx = NULL;
	int ok = verify ? EVP_DigestVerifyInit_ex(ctx, &pctx, s->mdname, NULL,
						  NULL, k, NULL)
			: EVP_DigestSignInit_ex(ctx, &pctx, s->mdname, NULL,
						NULL, k, NULL);
	if (ok != 1)
		return 0;
	/* SM2: Z_A = SM3(ENTL ‖ ID ‖ curve ‖ public key) is computed at the
	 * first update, so the ID set here takes effect. */
	if (s->id == GX_SUITE_SM2_SM3 &&
	    EVP_PKEY_CTX_set1_id(pctx, s->sm2_id, s->sm2_id_len) <= 0)
		return 0;
	return 1;
}

int gx_suite_sign(const gx_suite_t *s, EVP_PKEY *k, const void *msg,
		  size_t len, unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = 0;
	int ok = ctx && gx_suite_md_init(s, ctx, k, 0) &&
		 EVP_DigestSign(ctx, NULL, &n, msg, len) == 1 &&
		 n <= GX_SIG_MAX &&
		 EVP_DigestSign(ctx, sig, &n, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (ok)
		*siglen = n;
	return ok;
}

int gx_suite_verify(const gx_suite_t *s, EVP_PKEY *k, const void *msg,
		    size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && gx_suite_md_init(s, ctx, k, 1) &&
		 EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* ---- digests ---- */

/* Digest contexts are reused across the hashes of one record or tree:
 * allocating one per hash costs about a third of a short hash. */
static EVP_MD_CTX *md_new(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		abort(); /* out of memory */
	return ctx;
}

static void md_init(EVP_MD_CTX *ctx, const gx_suite_t *s)
{
	if (!EVP_DigestInit_ex2(ctx, s->md, NULL))
		abort(); /* the suite's digest was fetched at gx_suite_new */
}

static void md_final(EVP_MD_CTX *ctx, unsigned char out[GX_HASH_LEN])
{
	unsigned int n = 0;
	EVP_DigestFinal_ex(ctx, out, &n);
}

static void md_u32(EVP_MD_CTX *ctx, uint32_t v)
{
	unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
	EVP_DigestUpdate(ctx, b, 4);
}

static void md_i64(EVP_MD_CTX *ctx, int64_t sv)
{
	uint64_t v = (uint64_t)sv;
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	EVP_DigestUpdate(ctx, b, 8);
}

/* str(x): 4-byte length, then the bytes. Lengths above 4 GiB cannot be
 * encoded; no govex field comes near (Kafka messages are capped far lower). */
static void md_str(EVP_MD_CTX *ctx, const void *p, size_t n)
{
	if (n > UINT32_MAX)
		abort();
	md_u32(ctx, (uint32_t)n);
	EVP_DigestUpdate(ctx, p, n);
}

void gx_hash(const gx_suite_t *s, const void *p, size_t n,
	     unsigned char out[GX_HASH_LEN])
{
	unsigned int len = 0;
	if (!EVP_Digest(p, n, out, &len, s->md, NULL))
		abort();
}

void gx_hashv(const gx_suite_t *s, const void *const *parts,
	      const size_t *lens, size_t nparts, unsigned char out[GX_HASH_LEN])
{
	EVP_MD_CTX *ctx = md_new();
	md_init(ctx, s);
	for (size_t i = 0; i < nparts; i++)
		EVP_DigestUpdate(ctx, parts[i], lens[i]);
	md_final(ctx, out);
	EVP_MD_CTX_free(ctx);
}

void gx_hmac(const gx_suite_t *s, const void *key, size_t keylen,
	     const void *p, size_t n, unsigned char out[GX_HASH_LEN])
{
	size_t len = 0;
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(s->hmac);
	if (!ctx || !EVP_MAC_init(ctx, key, keylen, NULL) ||
	    !EVP_MAC_update(ctx, p, n) ||
	    !EVP_MAC_final(ctx, out, &len, GX_HASH_LEN))
		abort(); /* out of memory: HMAC-H was checked at suite_new */
	EVP_MAC_CTX_free(ctx);
}

/* ---- fields and records ---- */

gx_err_t gx_record_secret_new(unsigned char secret[GX_SECRET_LEN],
			      char *errstr, size_t errstr_size)
{
	if (RAND_bytes(secret, GX_SECRET_LEN) != 1)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "no randomness available");
	return GX_OK;
}

void gx_field_salt(const gx_suite_t *s,
		   const unsigned char secret[GX_SECRET_LEN], const char *name,
		   unsigned char salt[GX_HASH_LEN])
{
	gx_hmac(s, secret, GX_SECRET_LEN, name, strlen(name), salt);
}

static void leaf_into(EVP_MD_CTX *ctx, const gx_suite_t *s,
		      const unsigned char salt[GX_HASH_LEN], const char *name,
		      const void *value, size_t len,
		      unsigned char leaf[GX_HASH_LEN])
{
	md_init(ctx, s);
	EVP_DigestUpdate(ctx, salt, GX_HASH_LEN);
	md_str(ctx, name, strlen(name));
	md_str(ctx, value, len);
	md_final(ctx, leaf);
}

void gx_field_leaf(const gx_suite_t *s, const unsigned char salt[GX_HASH_LEN],
		   const char *name, const void *value, size_t len,
		   unsigned char leaf[GX_HASH_LEN])
{
	EVP_MD_CTX *ctx = md_new();
	leaf_into(ctx, s, salt, name, value, len, leaf);
	EVP_MD_CTX_free(ctx);
}

static void digest_into(EVP_MD_CTX *ctx, const gx_suite_t *s,
			const gx_seal_head_t *head,
			const unsigned char (*leaves)[GX_HASH_LEN], size_t n,
			unsigned char digest[GX_HASH_LEN])
{
	md_init(ctx, s);
	md_str(ctx, head->record_id, strlen(head->record_id));
	md_str(ctx, head->provider, strlen(head->provider));
	md_str(ctx, head->item, strlen(head->item));
	md_i64(ctx, head->collected_at);
	unsigned char op = (unsigned char)head->op;
	EVP_DigestUpdate(ctx, &op, 1);
	if (n > UINT32_MAX)
		abort();
	md_u32(ctx, (uint32_t)n);
	if (n)
		EVP_DigestUpdate(ctx, leaves, n * GX_HASH_LEN);
	md_final(ctx, digest);
}

void gx_record_digest(const gx_suite_t *s, const gx_seal_head_t *head,
		      const unsigned char (*leaves)[GX_HASH_LEN], size_t n,
		      unsigned char digest[GX_HASH_LEN])
{
	EVP_MD_CTX *ctx = md_new();
	digest_into(ctx, s, head, leaves, n, digest);
	EVP_MD_CTX_free(ctx);
}

void gx_record_seal_fields(const gx_suite_t *s,
			   const unsigned char secret[GX_SECRET_LEN],
			   const gx_seal_head_t *head,
			   const gx_field_bytes_t *fields, size_t n,
			   unsigned char (*leaves)[GX_HASH_LEN],
			   unsigned char digest[GX_HASH_LEN])
{
	gx_record_fields_proof(s, secret, head, fields, n, NULL, leaves,
			       digest);
}

void gx_record_fields_proof(const gx_suite_t *s,
			    const unsigned char secret[GX_SECRET_LEN],
			    const gx_seal_head_t *head,
			    const gx_field_bytes_t *fields, size_t n,
			    unsigned char (*salts)[GX_HASH_LEN],
			    unsigned char (*leaves)[GX_HASH_LEN],
			    unsigned char digest[GX_HASH_LEN])
{
	unsigned char (*lv)[GX_HASH_LEN] =
	    leaves ? leaves : gx_malloc((n ? n : 1) * GX_HASH_LEN);
	/* HMAC keyed once per record, then re-initialised per field: the
	 * key schedule is half the cost of an HMAC of a short name. */
	EVP_MAC_CTX *keyed = EVP_MAC_CTX_dup(s->hmac);
	EVP_MD_CTX *ctx = md_new();
	if (!keyed || !EVP_MAC_init(keyed, secret, GX_SECRET_LEN, NULL))
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char salt[GX_HASH_LEN];
		size_t len = 0;
		const char *name = fields[i].name;
		/* After the first field, re-initialising with no key starts a
		 * new HMAC under the same key (OpenSSL's HMAC provider keeps
		 * the keyed state): no copy per field. */
		if ((i && !EVP_MAC_init(keyed, NULL, 0, NULL)) ||
		    !EVP_MAC_update(keyed, (const unsigned char *)name,
				    strlen(name)) ||
		    !EVP_MAC_final(keyed, salt, &len, sizeof(salt)))
			abort();
		leaf_into(ctx, s, salt, name, fields[i].value, fields[i].len,
			  lv[i]);
		if (salts)
			memcpy(salts[i], salt, GX_HASH_LEN);
		OPENSSL_cleanse(salt, sizeof(salt));
	}
	EVP_MAC_CTX_free(keyed);
	digest_into(ctx, s, head, (const unsigned char (*)[GX_HASH_LEN])lv, n,
		    digest);
	EVP_MD_CTX_free(ctx);
	if (!leaves)
		free(lv);
}

gx_err_t gx_record_digest_disclosed(const gx_suite_t *s,
				    const gx_seal_head_t *head,
				    const gx_field_proof_t *fields, size_t n,
				    unsigned char digest[GX_HASH_LEN],
				    char *errstr, size_t errstr_size)
{
	unsigned char (*lv)[GX_HASH_LEN] = gx_malloc((n ? n : 1) * GX_HASH_LEN);
	EVP_MD_CTX *ctx = md_new();
	for (size_t i = 0; i < n; i++) {
		const gx_field_proof_t *f = &fields[i];
		if (!f->name || !f->salt == !f->leaf) {
			EVP_MD_CTX_free(ctx);
			free(lv);
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "field %zu (%s) needs either a salt "
					 "or a leaf", i,
					 f->name ? f->name : "unnamed");
		}
		if (f->salt)
			leaf_into(ctx, s, f->salt, f->name, f->value, f->len,
				  lv[i]);
		else
			memcpy(lv[i], f->leaf, GX_HASH_LEN);
	}
	digest_into(ctx, s, head, (const unsigned char (*)[GX_HASH_LEN])lv, n,
		    digest);
	EVP_MD_CTX_free(ctx);
	free(lv);
	return GX_OK;
}

/* ---- Merkle trees ---- */

struct gx_merkle {
	const gx_suite_t *suite;
	size_t n;
	size_t nlevels;
	size_t *size;			/* nodes per level */
	unsigned char (**level)[GX_HASH_LEN];	/* level[0]: leaf hashes */
};

static void merkle_leaf(EVP_MD_CTX *ctx, const gx_suite_t *s,
			const void *data, size_t len,
			unsigned char out[GX_HASH_LEN])
{
	static const unsigned char zero = 0x00;
	md_init(ctx, s);
	EVP_DigestUpdate(ctx, &zero, 1);
	EVP_DigestUpdate(ctx, data, len);
	md_final(ctx, out);
}

/* out may alias l or r. */
static void merkle_node(EVP_MD_CTX *ctx, const gx_suite_t *s,
			const unsigned char *l, const unsigned char *r,
			unsigned char out[GX_HASH_LEN])
{
	static const unsigned char one = 0x01;
	md_init(ctx, s);
	EVP_DigestUpdate(ctx, &one, 1);
	EVP_DigestUpdate(ctx, l, GX_HASH_LEN);
	EVP_DigestUpdate(ctx, r, GX_HASH_LEN);
	md_final(ctx, out);
}

static gx_merkle_t *merkle_build(const gx_suite_t *s, size_t n,
				 const void *const *data, const size_t *lens,
				 const unsigned char (*digests)[GX_HASH_LEN])
{
	if (n == 0 || n > UINT32_MAX)
		return NULL;
	gx_merkle_t *t = gx_calloc(1, sizeof(*t));
	t->suite = s;
	t->n = n;
	size_t levels = 1;
	for (size_t m = n; m > 1; m = (m + 1) / 2)
		levels++;
	t->nlevels = levels;
	t->size = gx_calloc(levels, sizeof(*t->size));
	t->level = gx_calloc(levels, sizeof(*t->level));
	t->size[0] = n;
	t->level[0] = gx_malloc(n * GX_HASH_LEN);
	EVP_MD_CTX *ctx = md_new();
	for (size_t i = 0; i < n; i++) {
		if (digests)
			merkle_leaf(ctx, s, digests[i], GX_HASH_LEN,
				    t->level[0][i]);
		else
			merkle_leaf(ctx, s, data[i], lens[i], t->level[0][i]);
	}
	for (size_t l = 1; l < levels; l++) {
		size_t below = t->size[l - 1], m = (below + 1) / 2;
		t->size[l] = m;
		t->level[l] = gx_malloc(m * GX_HASH_LEN);
		for (size_t i = 0; i < m; i++) {
			if (2 * i + 1 < below)
				merkle_node(ctx, s, t->level[l - 1][2 * i],
					    t->level[l - 1][2 * i + 1],
					    t->level[l][i]);
			else /* odd node out: promoted unchanged */
				memcpy(t->level[l][i], t->level[l - 1][2 * i],
				       GX_HASH_LEN);
		}
	}
	EVP_MD_CTX_free(ctx);
	return t;
}

gx_merkle_t *gx_merkle_new(const gx_suite_t *s,
			   const unsigned char (*digests)[GX_HASH_LEN],
			   size_t n)
{
	return merkle_build(s, n, NULL, NULL, digests);
}

gx_merkle_t *gx_merkle_new_data(const gx_suite_t *s, const void *const *data,
				const size_t *lens, size_t n)
{
	return merkle_build(s, n, data, lens, NULL);
}

void gx_merkle_destroy(gx_merkle_t *t)
{
	if (!t)
		return;
	for (size_t l = 0; l < t->nlevels; l++)
		free(t->level[l]);
	free(t->level);
	free(t->size);
	free(t);
}

size_t gx_merkle_count(const gx_merkle_t *t) { return t->n; }

const unsigned char *gx_merkle_root(const gx_merkle_t *t)
{
	return t->level[t->nlevels - 1][0];
}

size_t gx_merkle_path(const gx_merkle_t *t, size_t index,
		      unsigned char (*path)[GX_HASH_LEN])
{
	if (index >= t->n)
		return (size_t)-1;
	size_t np = 0;
	for (size_t l = 0; l + 1 < t->nlevels; l++, index /= 2) {
		size_t sib = index ^ 1;
		if (sib < t->size[l])
			memcpy(path[np++], t->level[l][sib], GX_HASH_LEN);
	}
	return np;
}

gx_err_t gx_merkle_verify(const gx_suite_t *s, const void *data, size_t len,
			  uint64_t index, uint64_t count,
			  const unsigned char (*path)[GX_HASH_LEN],
			  size_t npath, const unsigned char root[GX_HASH_LEN],
			  char *errstr, size_t errstr_size)
{
	if (count == 0 || count > UINT32_MAX || index >= count)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "index %llu outside a batch of %llu",
				 (unsigned long long)index,
				 (unsigned long long)count);
	unsigned char h[GX_HASH_LEN];
	EVP_MD_CTX *ctx = md_new();
	merkle_leaf(ctx, s, data, len, h);
	size_t used = 0;
	gx_err_t err = GX_OK;
	for (uint64_t i = index, m = count; m > 1 && !err;
	     i /= 2, m = (m + 1) / 2) {
		if (i % 2 == 0 && i + 1 == m)
			continue; /* promoted: no sibling at this level */
		if (used == npath)
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"audit path too short for index %llu "
					"of %llu", (unsigned long long)index,
					(unsigned long long)count);
		else if (i % 2)
			merkle_node(ctx, s, path[used++], h, h);
		else
			merkle_node(ctx, s, h, path[used++], h);
	}
	EVP_MD_CTX_free(ctx);
	if (err)
		return err;
	if (used != npath)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "audit path too long for index %llu of %llu",
				 (unsigned long long)index,
				 (unsigned long long)count);
	if (CRYPTO_memcmp(h, root, GX_HASH_LEN))
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "audit path does not lead to the batch root");
	return GX_OK;
}

/* ---- hex ---- */

void gx_hex(const void *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gx_unhex(const char *hex, size_t hexlen, void *out, size_t n)
{
	unsigned char *b = out;
	if (hexlen != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* ---- seals ---- */

static void buf_u32(gx_buf_t *b, uint32_t v)
{
	unsigned char x[4] = {v >> 24, v >> 16, v >> 8, v};
	gx_buf_append(b, x, 4);
}

static void buf_str(gx_buf_t *b, const char *s)
{
	size_t n = strlen(s);
	buf_u32(b, (uint32_t)n);
	gx_buf_append(b, s, n);
}

void gx_seal_message(const gx_suite_t *s, const gx_seal_t *seal,
		     gx_buf_t *out)
{
	gx_buf_append(out, SEAL_TAG, sizeof(SEAL_TAG)); /* with its NUL */
	buf_str(out, s->name);
	buf_str(out, seal->batch_id);
	buf_str(out, seal->provider);
	buf_str(out, seal->key_id);
	buf_str(out, seal->reseal_of);
	buf_u32(out, seal->count);
	gx_buf_append(out, seal->root, GX_HASH_LEN);
	uint64_t v = (uint64_t)seal->created_at;
	unsigned char x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (unsigned char)(v >> (56 - 8 * i));
	gx_buf_append(out, x, 8);
}

static int uuid_ok(const char *s)
{
	if (strlen(s) != GX_UUID_STRLEN)
		return 0;
	for (int i = 0; i < GX_UUID_STRLEN; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-'
			 : !((s[i] >= '0' && s[i] <= '9') ||
			     (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

static int key_id_ok(const char *s)
{
	return strlen(s) == GX_KEY_ID_LEN &&
	       strspn(s, "0123456789abcdef") == GX_KEY_ID_LEN;
}

gx_err_t gx_seal_sign(const gx_sealkey_t *key, const char *batch_id,
		      uint32_t count, const unsigned char root[GX_HASH_LEN],
		      int64_t created_at, const char *reseal_of,
		      gx_seal_t *seal, json_t **json, char *errstr,
		      size_t errstr_size)
{
	const gx_suite_t *s = gx_sealkey_suite(key);
	if (count == 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "a seal covers at least one record");
	if ((batch_id && !uuid_ok(batch_id)) ||
	    (reseal_of && !uuid_ok(reseal_of)))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "batch ids are lower-case UUIDs");
	memset(seal, 0, sizeof(*seal));
	seal->suite = s->id;
	if (batch_id) {
		memcpy(seal->batch_id, batch_id, GX_UUID_STRLEN + 1);
	} else {
		uuid_t u;
		uuid_generate_random(u);
		uuid_unparse_lower(u, seal->batch_id);
	}
	snprintf(seal->provider, sizeof(seal->provider), "%s",
		 gx_sealkey_agency(key));
	snprintf(seal->key_id, sizeof(seal->key_id), "%s",
		 gx_sealkey_key_id(key));
	if (reseal_of)
		memcpy(seal->reseal_of, reseal_of, GX_UUID_STRLEN + 1);
	seal->count = count;
	memcpy(seal->root, root, GX_HASH_LEN);
	seal->created_at = created_at;
	gx_buf_t m;
	gx_buf_init(&m);
	gx_seal_message(s, seal, &m);
	gx_err_t err = gx_sealkey_sign(key, m.data, m.len, seal->sig,
				       &seal->siglen, errstr, errstr_size);
	gx_buf_free(&m);
	if (err)
		return err;
	if (json)
		*json = gx_seal_to_json(s, seal);
	return GX_OK;
}

json_t *gx_seal_to_json(const gx_suite_t *s, const gx_seal_t *seal)
{
	char root[2 * GX_HASH_LEN + 1];
	char b64[4 * ((GX_SIG_MAX + 2) / 3) + 1];
	gx_hex(seal->root, GX_HASH_LEN, root);
	EVP_EncodeBlock((unsigned char *)b64, seal->sig, (int)seal->siglen);
	json_t *j = json_object();
	json_object_set_new(j, "suite", json_string(s->name));
	json_object_set_new(j, "batch_id", json_string(seal->batch_id));
	json_object_set_new(j, "provider", json_string(seal->provider));
	json_object_set_new(j, "key_id", json_string(seal->key_id));
	json_object_set_new(j, "count", json_integer(seal->count));
	json_object_set_new(j, "root", json_string(root));
	json_object_set_new(j, "created_at", json_integer(seal->created_at));
	json_object_set_new(j, "reseal_of",
			    seal->reseal_of[0] ? json_string(seal->reseal_of)
					       : json_null());
	json_object_set_new(j, "sig", json_string(b64));
	return j;
}

static const char *jstr(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

gx_err_t gx_seal_parse(const gx_suite_t *s, const json_t *j, gx_seal_t *seal,
		       char *errstr, size_t errstr_size)
{
	static const char *const keys[] = {"suite", "batch_id", "provider",
					   "key_id", "count", "root",
					   "created_at", "reseal_of", "sig"};
	memset(seal, 0, sizeof(*seal));
	if (!json_is_object(j))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "a seal is a JSON object");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)j, k, v) {
		size_t i = 0;
		while (i < GX_ARRAY_SIZE(keys) && strcmp(keys[i], k))
			i++;
		if (i == GX_ARRAY_SIZE(keys))
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "seal: unknown member \"%.40s\"", k);
	}
	const char *suite = jstr(j, "suite"), *batch = jstr(j, "batch_id"),
		   *prov = jstr(j, "provider"), *kid = jstr(j, "key_id"),
		   *root = jstr(j, "root"), *sig = jstr(j, "sig");
	json_t *count = json_object_get(j, "count"),
	       *at = json_object_get(j, "created_at"),
	       *reseal = json_object_get(j, "reseal_of");
	if (!suite || !batch || !prov || !kid || !root || !sig ||
	    !json_is_integer(count) || !json_is_integer(at) ||
	    !(json_is_null(reseal) || json_is_string(reseal)))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: a member is missing or of the wrong "
				 "type");
	if (strcmp(suite, s->name))
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "seal in suite \"%.20s\", this exchange uses "
				 "%s", suite, s->name);
	if (!uuid_ok(batch) ||
	    (json_is_string(reseal) && !uuid_ok(json_string_value(reseal))))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: batch ids are lower-case UUIDs");
	if (!gx_agency_valid(prov))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: malformed provider");
	if (!key_id_ok(kid))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: malformed key id");
	json_int_t c = json_integer_value(count);
	if (c < 1 || c > (json_int_t)UINT32_MAX)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: count out of range");
	if (strlen(root) != 2 * GX_HASH_LEN ||
	    strspn(root, "0123456789abcdef") != 2 * GX_HASH_LEN)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: root is not %d lower-case hex digits",
				 2 * GX_HASH_LEN);
	size_t slen = strlen(sig);
	unsigned char raw[4 * ((GX_SIG_MAX + 2) / 3)];
	if (slen == 0 || slen % 4 || slen > sizeof(raw))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: signature is not base64");
	int n = EVP_DecodeBlock(raw, (const unsigned char *)sig, (int)slen);
	if (n < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: signature is not base64");
	/* EVP_DecodeBlock counts padding as zero bytes. */
	if (sig[slen - 1] == '=')
		n--;
	if (sig[slen - 2] == '=')
		n--;
	if (n < 1 || n > GX_SIG_MAX)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: signature length %d", n);
	seal->suite = s->id;
	memcpy(seal->batch_id, batch, GX_UUID_STRLEN + 1);
	snprintf(seal->provider, sizeof(seal->provider), "%s", prov);
	memcpy(seal->key_id, kid, GX_KEY_ID_LEN + 1);
	if (json_is_string(reseal))
		memcpy(seal->reseal_of, json_string_value(reseal),
		       GX_UUID_STRLEN + 1);
	seal->count = (uint32_t)c;
	gx_unhex(root, 2 * GX_HASH_LEN, seal->root, GX_HASH_LEN);
	seal->created_at = json_integer_value(at);
	memcpy(seal->sig, raw, (size_t)n);
	seal->siglen = (size_t)n;
	return GX_OK;
}

gx_err_t gx_seal_verify(const gx_suite_t *s, const gx_keyring_t *keyring,
			const gx_seal_t *seal, char *errstr,
			size_t errstr_size)
{
	if (seal->suite != s->id)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "seal %s is not in suite %s", seal->batch_id,
				 s->name);
	const gx_cert_t *cert = NULL;
	char why[256];
	gx_err_t err = gx_keyring_select(keyring, seal->provider, seal->key_id,
					 seal->created_at, &cert, why,
					 sizeof(why));
	if (err)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "seal %s: %s", seal->batch_id, why);
	gx_buf_t m;
	gx_buf_init(&m);
	gx_seal_message(s, seal, &m);
	err = gx_cert_verify_sig(cert, m.data, m.len, seal->sig, seal->siglen,
				 why, sizeof(why));
	gx_buf_free(&m);
	if (err)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "seal %s: signature by %s key %s does not "
				 "verify", seal->batch_id, seal->provider,
				 seal->key_id);
	return GX_OK;
}

gx_err_t gx_seal_verify_json(const gx_suite_t *s, const gx_keyring_t *keyring,
			     const json_t *json, gx_seal_t *seal, char *errstr,
			     size_t errstr_size)
{
	gx_err_t err = gx_seal_parse(s, json, seal, errstr, errstr_size);
	return err ? err : gx_seal_verify(s, keyring, seal, errstr, errstr_size);
}

gx_err_t gx_seal_check_record(const gx_suite_t *s, const gx_seal_t *seal,
			      const char *provider,
			      const unsigned char digest[GX_HASH_LEN],
			      uint64_t index,
			      const unsigned char (*path)[GX_HASH_LEN],
			      size_t npath, char *errstr, size_t errstr_size)
{
	if (strcmp(provider, seal->provider))
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "record claims provider %.64s but batch %s "
				 "was sealed by %s", provider, seal->batch_id,
				 seal->provider);
	char why[200];
	gx_err_t err = gx_merkle_verify(s, digest, GX_HASH_LEN, index,
					seal->count, path, npath, seal->root,
					why, sizeof(why));
	if (err)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "record %llu of batch %s: %s",
				 (unsigned long long)index, seal->batch_id,
				 why);
	return GX_OK;
}
