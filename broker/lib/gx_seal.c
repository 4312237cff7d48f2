/*
 * gx_seal.c - suites, salted field leaves, record digests, batch Merkle
 * trees and signed seals (SM3 and its HMAC computed here; SM2, Ed25519,
 * SHA-256 and its HMAC's digests from OpenSSL 3).
 * The byte layouts are specified in gx_seal.h; change them only with a new
 * version tag, since consumers in other languages recompute them.
 */
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

/* x86-64 with GCC or Clang: SM3 also with BMI2 and AVX2, chosen at run
 * time (the functions carry their own target attribute). */
#if defined(__GNUC__) && defined(__x86_64__)
#define SM3_X86 1
#include <immintrin.h>
#endif

#include "gx.h"
#include "gx_pki.h"
#include "gx_seal.h"
#include "gx_seal_impl.h"

#define SEAL_TAG "govex-seal-v1"

/* SM3's compression function over n 64-byte blocks. */
typedef void sm3_blocks_fn(uint32_t v[8], const unsigned char *p, size_t n);
/* One block in each of eight lanes: word w of lane l's state is v[w][l],
 * word i of its block m[i][l] (already read big-endian). */
#define SM3_LANES 8
typedef void sm3_x8_fn(uint32_t v[8][SM3_LANES],
		       const uint32_t m[16][SM3_LANES]);

/* Read-only once made: every use takes its scratch on its own stack. */
struct gx_suite {
	gx_suite_id_t id;
	const char *name;
	const char *keytype;	/* OpenSSL key type name */
	const char *mdname;	/* digest of the signature, NULL: none (EdDSA) */
	EVP_MD *md;		/* H */
	sm3_blocks_fn *sm3;	/* sm2-sm3: H computed here (see SM3 below) */
	sm3_x8_fn *sm3_x8;	/* and eight at once, where the CPU can */
	char sm2_id[256];
	size_t sm2_id_len;
};

/* ---- suites ---- */

static int sm3_pick(gx_suite_t *s, int level);

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
	if (s->id == GX_SUITE_SM2_SM3)
		sm3_pick(s, 2);
	/* SM3 is computed here (below) but still fetched: SM2 needs it. */
	s->md = EVP_MD_fetch(NULL, hname, NULL);
	if (!s->md || EVP_MD_get_size(s->md) != GX_HASH_LEN) {
		gx_suite_destroy(s);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "this OpenSSL lacks %s", hname);
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

/* ---- SM3 (GB/T 32905) ----
 *
 * The sm2-sm3 suite's H is computed here, not through EVP: OpenSSL 3.0's
 * SM3 is portable C with an EVP dispatch around it, and on the one- and
 * two-block inputs hashed per field it takes about 1.4 times as long as
 * this code (with BMI2). The HMAC key is expanded once per record (the
 * states after K ^ ipad and K ^ opad), so a salt costs two compressions
 * and no allocation. SM2 signatures (and the SM3 inside them) stay with
 * OpenSSL. The unit tests check every level of this code (portable, BMI2,
 * AVX2 lanes) against GB/T 32905's examples and OpenSSL's SM3 and HMAC.
 */

#define SM3_BLOCK 64

static const uint32_t SM3_IV[8] = {0x7380166f, 0x4914b2b9, 0x172442d7,
				   0xda8a0600, 0xa96f30bc, 0x163138aa,
				   0xe38dee4d, 0xb0fb0e4e};

static inline __attribute__((always_inline)) uint32_t rol32(uint32_t x,
							    unsigned n)
{
	return (x << n) | (x >> ((32 - n) & 31));
}

static inline __attribute__((always_inline)) uint32_t get32(
    const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

#define SM3_P0(x) ((x) ^ rol32((x), 9) ^ rol32((x), 17))
#define SM3_P1(x) ((x) ^ rol32((x), 15) ^ rol32((x), 23))
/* T_j <<< (j mod 32), a constant for a literal j */
#define SM3_K(j) rol32((j) < 16 ? 0x79cc4519u : 0x7a879d8au, (j) % 32)
#define SM3_FF1(x, y, z) (((x) & (y)) | (((x) | (y)) & (z)))
#define SM3_GG1(x, y, z) ((((y) ^ (z)) & (x)) ^ (z))

/* W[j+4] in w[(j+4) % 16] (where W[j-12] was), for rounds j >= 12: only
 * sixteen words are live at once. */
#define SM3_EXPAND(j)                                                        \
	do {                                                                 \
		if ((j) >= 12) {                                             \
			uint32_t x_ = w[((j) + 4) & 15] ^                    \
				      w[((j) + 11) & 15] ^                   \
				      rol32(w[((j) + 1) & 15], 15);          \
			w[((j) + 4) & 15] = SM3_P1(x_) ^                     \
					    rol32(w[((j) + 7) & 15], 7) ^    \
					    w[((j) + 14) & 15];              \
		}                                                            \
	} while (0)

/* Round j; the registers rotate by renaming: after it, d is the new A and
 * h the new E (b and f are the new C and G). */
#define SM3_ROUND(j, a, b, c, d, e, f, g, h)                                 \
	do {                                                                 \
		SM3_EXPAND(j);                                               \
		uint32_t a12_ = rol32(a, 12);                                \
		uint32_t ss1_ = rol32(a12_ + e + SM3_K(j), 7);               \
		uint32_t w_ = w[(j) & 15];                                   \
		if ((j) < 16) {                                              \
			d += (a ^ b ^ c) + (ss1_ ^ a12_) +                   \
			     (w_ ^ w[((j) + 4) & 15]);                       \
			h += (e ^ f ^ g) + ss1_ + w_;                        \
		} else {                                                     \
			d += SM3_FF1(a, b, c) + (ss1_ ^ a12_) +              \
			     (w_ ^ w[((j) + 4) & 15]);                       \
			h += SM3_GG1(e, f, g) + ss1_ + w_;                   \
		}                                                            \
		b = rol32(b, 9);                                             \
		f = rol32(f, 19);                                            \
		h = SM3_P0(h);                                               \
	} while (0)

#define SM3_ROUND4(j)                                                        \
	SM3_ROUND(j, A, B, C, D, E, F, G, H);                                \
	SM3_ROUND(j + 1, D, A, B, C, H, E, F, G);                            \
	SM3_ROUND(j + 2, C, D, A, B, G, H, E, F);                            \
	SM3_ROUND(j + 3, B, C, D, A, F, G, H, E)

/* The compression function over n blocks, fully unrolled. */
static inline __attribute__((always_inline)) void sm3_compress(
    uint32_t v[8], const unsigned char *p, size_t n)
{
	for (; n; n--, p += SM3_BLOCK) {
		uint32_t w[16];
		for (int i = 0; i < 16; i++)
			w[i] = get32(p + 4 * i);
		uint32_t A = v[0], B = v[1], C = v[2], D = v[3], E = v[4],
			 F = v[5], G = v[6], H = v[7];
		SM3_ROUND4(0);
		SM3_ROUND4(4);
		SM3_ROUND4(8);
		SM3_ROUND4(12);
		SM3_ROUND4(16);
		SM3_ROUND4(20);
		SM3_ROUND4(24);
		SM3_ROUND4(28);
		SM3_ROUND4(32);
		SM3_ROUND4(36);
		SM3_ROUND4(40);
		SM3_ROUND4(44);
		SM3_ROUND4(48);
		SM3_ROUND4(52);
		SM3_ROUND4(56);
		SM3_ROUND4(60);
		v[0] ^= A;
		v[1] ^= B;
		v[2] ^= C;
		v[3] ^= D;
		v[4] ^= E;
		v[5] ^= F;
		v[6] ^= G;
		v[7] ^= H;
	}
}

static void sm3_blocks_c(uint32_t v[8], const unsigned char *p, size_t n)
{
	sm3_compress(v, p, n);
}

#ifdef SM3_X86
/* The same code with BMI2's rorx (a rotate into another register): about
 * 15% faster where the CPU has it, chosen when the suite is made. */
__attribute__((target("bmi2"))) static void
sm3_blocks_bmi2(uint32_t v[8], const unsigned char *p, size_t n)
{
	sm3_compress(v, p, n);
}
#endif

/* An SM3 computation in progress (on the stack: no allocation). */
struct sm3 {
	sm3_blocks_fn *blocks;
	uint32_t v[8];
	uint64_t nblocks;		/* compressed so far */
	size_t num;			/* bytes waiting in buf */
	unsigned char buf[SM3_BLOCK];
};

static void sm3_init(struct sm3 *c, sm3_blocks_fn *blocks)
{
	c->blocks = blocks;
	memcpy(c->v, SM3_IV, sizeof(c->v));
	c->nblocks = 0;
	c->num = 0;
}

static void sm3_update(struct sm3 *c, const void *data, size_t n)
{
	const unsigned char *p = data;
	if (!n)
		return;
	if (c->num) {
		size_t k = SM3_BLOCK - c->num;
		if (n < k) {
			memcpy(c->buf + c->num, p, n);
			c->num += n;
			return;
		}
		memcpy(c->buf + c->num, p, k);
		c->blocks(c->v, c->buf, 1);
		c->nblocks++;
		p += k;
		n -= k;
	}
	size_t b = n / SM3_BLOCK;
	if (b) {
		c->blocks(c->v, p, b);
		c->nblocks += b;
		p += b * SM3_BLOCK;
		n -= b * SM3_BLOCK;
	}
	if (n)
		memcpy(c->buf, p, n);
	c->num = n;
}

static void sm3_final(struct sm3 *c, unsigned char out[GX_HASH_LEN])
{
	uint64_t bits = (c->nblocks * SM3_BLOCK + c->num) * 8;
	c->buf[c->num++] = 0x80;
	if (c->num > SM3_BLOCK - 8) {
		memset(c->buf + c->num, 0, SM3_BLOCK - c->num);
		c->blocks(c->v, c->buf, 1);
		c->num = 0;
	}
	memset(c->buf + c->num, 0, SM3_BLOCK - 8 - c->num);
	for (int i = 0; i < 8; i++)
		c->buf[SM3_BLOCK - 1 - i] = (unsigned char)(bits >> (8 * i));
	c->blocks(c->v, c->buf, 1);
	for (int i = 0; i < 8; i++)
		put32(out + 4 * i, c->v[i]);
}

/* HMAC-SM3 (RFC 2104) with its key expanded once. */
struct sm3_hmac {
	sm3_blocks_fn *blocks;
	uint32_t in[8], out[8];	/* after K ^ ipad, after K ^ opad */
};

static void sm3_hmac_key(struct sm3_hmac *k, sm3_blocks_fn *blocks,
			 const void *key, size_t keylen)
{
	unsigned char kb[SM3_BLOCK] = {0}, pad[SM3_BLOCK];
	if (keylen > SM3_BLOCK) {
		struct sm3 c;
		sm3_init(&c, blocks);
		sm3_update(&c, key, keylen);
		sm3_final(&c, kb);
		OPENSSL_cleanse(&c, sizeof(c));
	} else if (keylen) {
		memcpy(kb, key, keylen);
	}
	k->blocks = blocks;
	for (int i = 0; i < SM3_BLOCK; i++)
		pad[i] = kb[i] ^ 0x36;
	memcpy(k->in, SM3_IV, sizeof(k->in));
	blocks(k->in, pad, 1);
	for (int i = 0; i < SM3_BLOCK; i++)
		pad[i] = kb[i] ^ 0x5c;
	memcpy(k->out, SM3_IV, sizeof(k->out));
	blocks(k->out, pad, 1);
	OPENSSL_cleanse(kb, sizeof(kb));
	OPENSSL_cleanse(pad, sizeof(pad));
}

static void sm3_hmac(const struct sm3_hmac *k, const void *p, size_t n,
		     unsigned char out[GX_HASH_LEN])
{
	struct sm3 c;
	unsigned char inner[GX_HASH_LEN];
	c.blocks = k->blocks;
	memcpy(c.v, k->in, sizeof(c.v));
	c.nblocks = 1;
	c.num = 0;
	sm3_update(&c, p, n);
	sm3_final(&c, inner);
	memcpy(c.v, k->out, sizeof(c.v));
	c.nblocks = 1;
	c.num = 0;
	sm3_update(&c, inner, GX_HASH_LEN);
	sm3_final(&c, out);
	OPENSSL_cleanse(inner, sizeof(inner));
	OPENSSL_cleanse(c.buf, sizeof(c.buf));
}

/* ---- SM3 eight at a time ----
 *
 * A record's salts and leaves are independent hashes of one or two blocks
 * each: with AVX2, eight of them are compressed at once, each lane a
 * 32-bit word of eight states, in about the time of two compressions one
 * at a time. Each step hands the eight lanes the blocks of the fields with
 * the most hashing left, so a record's fields finish together.
 */

#ifdef SM3_X86
#define X8_ROL(x, n)                                                         \
	_mm256_or_si256(_mm256_slli_epi32((x), (n)),                         \
			_mm256_srli_epi32((x), 32 - (n)))
#define X8_XOR _mm256_xor_si256
#define X8_ADD _mm256_add_epi32
#define X8_AND _mm256_and_si256
#define X8_OR _mm256_or_si256
#define X8_P0(x) X8_XOR(X8_XOR((x), X8_ROL((x), 9)), X8_ROL((x), 17))
#define X8_P1(x) X8_XOR(X8_XOR((x), X8_ROL((x), 15)), X8_ROL((x), 23))
/* SM3_K(j) with rotations the compiler folds: no call into rol32 here. */
#define X8_T(j) ((j) < 16 ? 0x79cc4519u : 0x7a879d8au)
#define X8_K(j)                                                              \
	((int)((X8_T(j) << ((j) % 32)) |                                     \
	       (X8_T(j) >> ((32 - (j) % 32) & 31))))

#define X8_EXPAND(j)                                                         \
	do {                                                                 \
		if ((j) >= 12) {                                             \
			__m256i x_ = X8_XOR(                                 \
			    X8_XOR(w[((j) + 4) & 15], w[((j) + 11) & 15]),   \
			    X8_ROL(w[((j) + 1) & 15], 15));                  \
			w[((j) + 4) & 15] =                                  \
			    X8_XOR(X8_XOR(X8_P1(x_),                         \
					  X8_ROL(w[((j) + 7) & 15], 7)),     \
				   w[((j) + 14) & 15]);                      \
		}                                                            \
	} while (0)

/* SM3_ROUND on vectors. */
#define X8_ROUND(j, a, b, c, d, e, f, g, h)                                  \
	do {                                                                 \
		X8_EXPAND(j);                                                \
		__m256i a12_ = X8_ROL(a, 12);                                \
		__m256i ss1_ = X8_ROL(                                       \
		    X8_ADD(X8_ADD(a12_, e), _mm256_set1_epi32(X8_K(j))), 7); \
		__m256i w_ = w[(j) & 15];                                    \
		__m256i ff_, gg_;                                            \
		if ((j) < 16) {                                              \
			ff_ = X8_XOR(X8_XOR(a, b), c);                       \
			gg_ = X8_XOR(X8_XOR(e, f), g);                       \
		} else {                                                     \
			ff_ = X8_OR(X8_AND(a, b), X8_AND(X8_OR(a, b), c));   \
			gg_ = X8_XOR(X8_AND(X8_XOR(f, g), e), g);            \
		}                                                            \
		d = X8_ADD(X8_ADD(d, ff_),                                   \
			   X8_ADD(X8_XOR(ss1_, a12_),                        \
				  X8_XOR(w_, w[((j) + 4) & 15])));           \
		h = X8_ADD(X8_ADD(h, gg_), X8_ADD(ss1_, w_));                \
		b = X8_ROL(b, 9);                                            \
		f = X8_ROL(f, 19);                                           \
		h = X8_P0(h);                                                \
	} while (0)

#define X8_ROUND4(j)                                                         \
	X8_ROUND(j, A, B, C, D, E, F, G, H);                                 \
	X8_ROUND(j + 1, D, A, B, C, H, E, F, G);                             \
	X8_ROUND(j + 2, C, D, A, B, G, H, E, F);                             \
	X8_ROUND(j + 3, B, C, D, A, F, G, H, E)

__attribute__((target("avx2"))) static void
sm3_x8_avx2(uint32_t v[8][SM3_LANES], const uint32_t m[16][SM3_LANES])
{
	__m256i w[16], s[8];
	for (int i = 0; i < 16; i++)
		w[i] = _mm256_loadu_si256((const __m256i *)m[i]);
	for (int i = 0; i < 8; i++)
		s[i] = _mm256_loadu_si256((const __m256i *)v[i]);
	__m256i A = s[0], B = s[1], C = s[2], D = s[3], E = s[4], F = s[5],
		G = s[6], H = s[7];
	X8_ROUND4(0);
	X8_ROUND4(4);
	X8_ROUND4(8);
	X8_ROUND4(12);
	X8_ROUND4(16);
	X8_ROUND4(20);
	X8_ROUND4(24);
	X8_ROUND4(28);
	X8_ROUND4(32);
	X8_ROUND4(36);
	X8_ROUND4(40);
	X8_ROUND4(44);
	X8_ROUND4(48);
	X8_ROUND4(52);
	X8_ROUND4(56);
	X8_ROUND4(60);
	__m256i out[8] = {A, B, C, D, E, F, G, H};
	for (int i = 0; i < 8; i++)
		_mm256_storeu_si256((__m256i *)v[i], X8_XOR(out[i], s[i]));
}
#endif

/* Choose the SM3 code for s: level 0 portable C, 1 BMI2 rotates, 2 also
 * AVX2 lanes; at most what the CPU has. Returns the level chosen. */
static int sm3_pick(gx_suite_t *s, int level)
{
	s->sm3 = sm3_blocks_c;
	s->sm3_x8 = NULL;
#ifdef SM3_X86
	/* reads what libgcc's constructor found: safe from any thread */
	if (level < 1 || !__builtin_cpu_supports("bmi2"))
		return 0;
	s->sm3 = sm3_blocks_bmi2;
	if (level < 2 || !__builtin_cpu_supports("avx2"))
		return 1;
	s->sm3_x8 = sm3_x8_avx2;
	return 2;
#else
	(void)level;
	return 0;
#endif
}

int gx_suite_sm3_level(gx_suite_t *s, int level)
{
	return s->id == GX_SUITE_SM2_SM3 ? sm3_pick(s, level) : 0;
}

/* Blocks of an SM3 message of len bytes after whole blocks, padded. */
static unsigned sm3_nblocks(size_t len)
{
	return (unsigned)((len + 8) / SM3_BLOCK + 1);
}

/* One field's way through HMAC's inner and outer hash (its salt) and its
 * leaf hash; or the leaf alone, for a field whose salt is given. */
enum { FJ_INNER, FJ_OUTER, FJ_LEAF, FJ_DONE };

struct fjob {
	uint32_t v[8];			/* the state of the hash in hand */
	unsigned stage;
	unsigned at, nblocks;		/* its next block, its blocks */
	unsigned left;			/* blocks to go, all stages */
	size_t len;			/* its message bytes (after prior) */
	uint64_t prior;			/* bytes before them: a key block */
	const void *piece[5];		/* the message, in pieces */
	size_t plen[5];
	unsigned npiece;
	const char *name;
	size_t nlen;
	const void *value;
	size_t vlen;
	const unsigned char *salt;	/* the leaf's salt */
	unsigned char *salt_out, *leaf_out;
	unsigned char lens[8];		/* str() lengths of name and value */
	unsigned char inner[GX_HASH_LEN];
};

/* Set j up for the hash of stage. */
static void fjob_stage(struct fjob *j, const struct sm3_hmac *k,
		       unsigned stage)
{
	j->stage = stage;
	j->at = 0;
	switch (stage) {
	case FJ_INNER:
		memcpy(j->v, k->in, sizeof(j->v));
		j->prior = SM3_BLOCK;
		j->piece[0] = j->name;
		j->plen[0] = j->nlen;
		j->npiece = 1;
		j->len = j->nlen;
		break;
	case FJ_OUTER:
		memcpy(j->v, k->out, sizeof(j->v));
		j->prior = SM3_BLOCK;
		j->piece[0] = j->inner;
		j->plen[0] = GX_HASH_LEN;
		j->npiece = 1;
		j->len = GX_HASH_LEN;
		break;
	case FJ_LEAF:
		if (j->nlen > UINT32_MAX || j->vlen > UINT32_MAX)
			abort(); /* as hx_str */
		memcpy(j->v, SM3_IV, sizeof(j->v));
		j->prior = 0;
		put32(j->lens, (uint32_t)j->nlen);
		put32(j->lens + 4, (uint32_t)j->vlen);
		j->piece[0] = j->salt;
		j->plen[0] = GX_HASH_LEN;
		j->piece[1] = j->lens;
		j->plen[1] = 4;
		j->piece[2] = j->name;
		j->plen[2] = j->nlen;
		j->piece[3] = j->lens + 4;
		j->plen[3] = 4;
		j->piece[4] = j->value;
		j->plen[4] = j->vlen;
		j->npiece = 5;
		j->len = GX_HASH_LEN + 8 + j->nlen + j->vlen;
		break;
	}
	j->nblocks = sm3_nblocks(j->len);
}

/* Start j at stage FJ_INNER (salt from k) or FJ_LEAF (salt given). */
static void fjob_start(struct fjob *j, const struct sm3_hmac *k,
		       unsigned stage)
{
	unsigned leaf = sm3_nblocks(GX_HASH_LEN + 8 + j->nlen + j->vlen);
	fjob_stage(j, k, stage);
	j->left = stage == FJ_LEAF ? leaf : j->nblocks + 1 + leaf;
}

/* The block j->at of j's message, padded, into lane l of m (through b,
 * which the caller cleanses). */
static void fjob_block(const struct fjob *j, uint32_t m[16][SM3_LANES],
		       unsigned l, unsigned char b[SM3_BLOCK])
{
	size_t off = (size_t)j->at * SM3_BLOCK, k = 0, pos = 0;
	for (unsigned i = 0; i < j->npiece && k < SM3_BLOCK; i++) {
		size_t end = pos + j->plen[i];
		if (end > off + k) {
			size_t from = off + k - pos, c = end - (off + k);
			if (c > SM3_BLOCK - k)
				c = SM3_BLOCK - k;
			memcpy(b + k, (const unsigned char *)j->piece[i] + from,
			       c);
			k += c;
		}
		pos = end;
	}
	if (k < SM3_BLOCK) {
		memset(b + k, 0, SM3_BLOCK - k);
		if (off + k == j->len)
			b[k] = 0x80;
		if (j->at + 1 == j->nblocks) {
			uint64_t bits = (j->prior + j->len) * 8;
			for (int i = 0; i < 8; i++)
				b[SM3_BLOCK - 1 - i] =
				    (unsigned char)(bits >> (8 * i));
		}
	}
	for (int i = 0; i < 16; i++)
		m[i][l] = get32(b + 4 * i);
}

/* j's hash of this stage is done: its result, then the next stage. */
static void fjob_next(struct fjob *j, const struct sm3_hmac *k)
{
	unsigned char *out = j->stage == FJ_INNER   ? j->inner
			     : j->stage == FJ_OUTER ? j->salt_out
						    : j->leaf_out;
	for (int i = 0; i < 8; i++)
		put32(out + 4 * i, j->v[i]);
	if (j->stage == FJ_OUTER)
		j->salt = j->salt_out;
	if (j->stage == FJ_LEAF)
		j->stage = FJ_DONE;
	else
		fjob_stage(j, k, j->stage + 1);
}

/* Run n jobs to the end, eight lanes at a time. */
static void fjobs_run(sm3_x8_fn *x8, const struct sm3_hmac *k,
		      struct fjob *jobs, size_t n)
{
	uint32_t v[8][SM3_LANES] = {{0}}, m[16][SM3_LANES] = {{0}};
	unsigned char b[SM3_BLOCK];
	for (;;) {
		/* the jobs with the most blocks left, most first */
		struct fjob *lane[SM3_LANES];
		unsigned nl = 0;
		for (size_t i = 0; i < n; i++) {
			struct fjob *j = &jobs[i];
			if (j->stage == FJ_DONE ||
			    (nl == SM3_LANES &&
			     lane[SM3_LANES - 1]->left >= j->left))
				continue;
			unsigned p = nl < SM3_LANES ? nl++ : SM3_LANES - 1;
			for (; p && lane[p - 1]->left < j->left; p--)
				lane[p] = lane[p - 1];
			lane[p] = j;
		}
		if (!nl)
			break;
		/* lanes beyond nl hash what they held before, unread */
		for (unsigned l = 0; l < nl; l++) {
			fjob_block(lane[l], m, l, b);
			for (int w = 0; w < 8; w++)
				v[w][l] = lane[l]->v[w];
		}
		x8(v, (const uint32_t (*)[SM3_LANES])m);
		for (unsigned l = 0; l < nl; l++) {
			struct fjob *j = lane[l];
			for (int w = 0; w < 8; w++)
				j->v[w] = v[w][l];
			j->left--;
			if (++j->at == j->nblocks)
				fjob_next(j, k);
		}
	}
	OPENSSL_cleanse(v, sizeof(v));
	OPENSSL_cleanse(m, sizeof(m));
	OPENSSL_cleanse(b, sizeof(b));
}

/* ---- digests ----
 *
 * struct hx is one computation of the suite's H at a time, reused across
 * the hashes of a record or a tree: SM3 above, or OpenSSL's SHA-256 (its
 * SHA-NI code) through one EVP context. It lives on the caller's stack
 * and is never shared, so a suite is only read. */

struct hx {
	EVP_MD_CTX *md;		/* ed25519-sha256; NULL for sm2-sm3 */
	const EVP_MD *type;
	struct sm3 sm3;		/* sm2-sm3 */
};

static EVP_MD_CTX *md_new(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		abort(); /* out of memory */
	return ctx;
}

static void hx_open(struct hx *h, const gx_suite_t *s)
{
	h->type = s->md;
	h->md = s->sm3 ? NULL : md_new();
	h->sm3.blocks = s->sm3;
}

static void hx_close(struct hx *h)
{
	EVP_MD_CTX_free(h->md);
}

static void hx_init(struct hx *h)
{
	if (!h->md)
		sm3_init(&h->sm3, h->sm3.blocks);
	else if (!EVP_DigestInit_ex2(h->md, h->type, NULL))
		abort(); /* the suite's digest was fetched at gx_suite_new */
}

static void hx_update(struct hx *h, const void *p, size_t n)
{
	if (!h->md)
		sm3_update(&h->sm3, p, n);
	else
		EVP_DigestUpdate(h->md, p, n);
}

static void hx_final(struct hx *h, unsigned char out[GX_HASH_LEN])
{
	unsigned int n = 0;
	if (!h->md)
		sm3_final(&h->sm3, out);
	else
		EVP_DigestFinal_ex(h->md, out, &n);
}

static void hx_u32(struct hx *h, uint32_t v)
{
	unsigned char b[4];
	put32(b, v);
	hx_update(h, b, 4);
}

static void hx_i64(struct hx *h, int64_t sv)
{
	uint64_t v = (uint64_t)sv;
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	hx_update(h, b, 8);
}

/* str(x): 4-byte length, then the bytes. Lengths above 4 GiB cannot be
 * encoded; no govex field comes near (Kafka messages are capped far lower). */
static void hx_str(struct hx *h, const void *p, size_t n)
{
	if (n > UINT32_MAX)
		abort();
	hx_u32(h, (uint32_t)n);
	hx_update(h, p, n);
}

void gx_hash(const gx_suite_t *s, const void *p, size_t n,
	     unsigned char out[GX_HASH_LEN])
{
	unsigned int len = 0;
	if (s->sm3) {
		struct sm3 c;
		sm3_init(&c, s->sm3);
		sm3_update(&c, p, n);
		sm3_final(&c, out);
	} else if (!EVP_Digest(p, n, out, &len, s->md, NULL)) {
		abort();
	}
}

void gx_hashv(const gx_suite_t *s, const void *const *parts,
	      const size_t *lens, size_t nparts, unsigned char out[GX_HASH_LEN])
{
	struct hx h;
	hx_open(&h, s);
	hx_init(&h);
	for (size_t i = 0; i < nparts; i++)
		hx_update(&h, parts[i], lens[i]);
	hx_final(&h, out);
	hx_close(&h);
}

/*
 * HMAC-H (RFC 2104) under one key for several messages (the salts of a
 * record), the key expanded once: SM3 from the states kept above; SHA-256
 * from EVP contexts holding the states after K ^ ipad and K ^ opad, copied
 * per message (cheaper than re-initialising an EVP_MAC).
 */
struct hk {
	struct sm3_hmac sm3;
	EVP_MD_CTX *in, *out, *work;	/* ed25519-sha256 */
};

static void hk_open(struct hk *k, const gx_suite_t *s, const void *key,
		    size_t keylen)
{
	k->in = k->out = k->work = NULL;
	if (s->sm3) {
		sm3_hmac_key(&k->sm3, s->sm3, key, keylen);
		return;
	}
	unsigned char kb[SM3_BLOCK] = {0}, pad[SM3_BLOCK];
	k->in = md_new();
	k->out = md_new();
	k->work = md_new();
	if (keylen > SM3_BLOCK) /* SHA-256's block is 64 bytes too */
		gx_hash(s, key, keylen, kb);
	else if (keylen)
		memcpy(kb, key, keylen);
	for (int i = 0; i < SM3_BLOCK; i++)
		pad[i] = kb[i] ^ 0x36;
	if (!EVP_DigestInit_ex2(k->in, s->md, NULL) ||
	    !EVP_DigestUpdate(k->in, pad, sizeof(pad)))
		abort();
	for (int i = 0; i < SM3_BLOCK; i++)
		pad[i] = kb[i] ^ 0x5c;
	if (!EVP_DigestInit_ex2(k->out, s->md, NULL) ||
	    !EVP_DigestUpdate(k->out, pad, sizeof(pad)))
		abort();
	OPENSSL_cleanse(kb, sizeof(kb));
	OPENSSL_cleanse(pad, sizeof(pad));
}

static void hk_mac(struct hk *k, const void *p, size_t n,
		   unsigned char out[GX_HASH_LEN])
{
	unsigned char inner[GX_HASH_LEN];
	unsigned int len = 0;
	if (!k->in) {
		sm3_hmac(&k->sm3, p, n, out);
		return;
	}
	if (!EVP_MD_CTX_copy_ex(k->work, k->in) ||
	    !EVP_DigestUpdate(k->work, p, n) ||
	    !EVP_DigestFinal_ex(k->work, inner, &len) ||
	    !EVP_MD_CTX_copy_ex(k->work, k->out) ||
	    !EVP_DigestUpdate(k->work, inner, sizeof(inner)) ||
	    !EVP_DigestFinal_ex(k->work, out, &len))
		abort(); /* out of memory */
	OPENSSL_cleanse(inner, sizeof(inner));
}

static void hk_close(struct hk *k)
{
	EVP_MD_CTX_free(k->in);
	EVP_MD_CTX_free(k->out);
	EVP_MD_CTX_free(k->work);
	OPENSSL_cleanse(&k->sm3, sizeof(k->sm3));
}

void gx_hmac(const gx_suite_t *s, const void *key, size_t keylen,
	     const void *p, size_t n, unsigned char out[GX_HASH_LEN])
{
	struct hk k;
	hk_open(&k, s, key, keylen);
	hk_mac(&k, p, n, out);
	hk_close(&k);
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

static void leaf_into(struct hx *h, const unsigned char salt[GX_HASH_LEN],
		      const char *name, size_t namelen, const void *value,
		      size_t len, unsigned char leaf[GX_HASH_LEN])
{
	/* A usual field goes in as one piece: one EVP update, not five. */
	unsigned char b[4 * SM3_BLOCK];
	hx_init(h);
	if (namelen + len <= sizeof(b) - GX_HASH_LEN - 8) {
		size_t k = GX_HASH_LEN;
		memcpy(b, salt, GX_HASH_LEN);
		put32(b + k, (uint32_t)namelen);
		memcpy(b + k + 4, name, namelen);
		k += 4 + namelen;
		put32(b + k, (uint32_t)len);
		if (len)
			memcpy(b + k + 4, value, len);
		hx_update(h, b, k + 4 + len);
		OPENSSL_cleanse(b, GX_HASH_LEN);
	} else {
		hx_update(h, salt, GX_HASH_LEN);
		hx_str(h, name, namelen);
		hx_str(h, value, len);
	}
	hx_final(h, leaf);
}

void gx_field_leaf(const gx_suite_t *s, const unsigned char salt[GX_HASH_LEN],
		   const char *name, const void *value, size_t len,
		   unsigned char leaf[GX_HASH_LEN])
{
	struct hx h;
	hx_open(&h, s);
	leaf_into(&h, salt, name, strlen(name), value, len, leaf);
	hx_close(&h);
}

/* Start the record digest: everything before the leaves, which the caller
 * feeds in order with hx_update, then hx_final. */
static void digest_head(struct hx *h, const gx_seal_head_t *head, size_t n)
{
	hx_init(h);
	hx_str(h, head->record_id, strlen(head->record_id));
	hx_str(h, head->provider, strlen(head->provider));
	hx_str(h, head->item, strlen(head->item));
	hx_i64(h, head->collected_at);
	unsigned char op = (unsigned char)head->op;
	hx_update(h, &op, 1);
	if (n > UINT32_MAX)
		abort();
	hx_u32(h, (uint32_t)n);
}

void gx_record_digest(const gx_suite_t *s, const gx_seal_head_t *head,
		      const unsigned char (*leaves)[GX_HASH_LEN], size_t n,
		      unsigned char digest[GX_HASH_LEN])
{
	struct hx h;
	hx_open(&h, s);
	digest_head(&h, head, n);
	if (n)
		hx_update(&h, leaves, n * GX_HASH_LEN);
	hx_final(&h, digest);
	hx_close(&h);
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

/* Fields hashed eight at a time go in chunks of this many (on the stack). */
#define FJ_CHUNK 32

void gx_record_fields_proof(const gx_suite_t *s,
			    const unsigned char secret[GX_SECRET_LEN],
			    const gx_seal_head_t *head,
			    const gx_field_bytes_t *fields, size_t n,
			    unsigned char (*salts)[GX_HASH_LEN],
			    unsigned char (*leaves)[GX_HASH_LEN],
			    unsigned char digest[GX_HASH_LEN])
{
	/* The digest is computed alongside the leaves, each fed in as it is
	 * made: two hashes in progress, no array of leaves to allocate. */
	struct hx d, h;
	struct hk k;
	hx_open(&d, s);
	hx_open(&h, s);
	hk_open(&k, s, secret, GX_SECRET_LEN);
	digest_head(&d, head, n);
	for (size_t base = 0; s->sm3_x8 && base < n; base += FJ_CHUNK) {
		struct fjob jobs[FJ_CHUNK];
		unsigned char st[FJ_CHUNK][GX_HASH_LEN],
		    lt[FJ_CHUNK][GX_HASH_LEN];
		size_t c = n - base < FJ_CHUNK ? n - base : FJ_CHUNK;
		for (size_t i = 0; i < c; i++) {
			struct fjob *j = &jobs[i];
			const gx_field_bytes_t *f = &fields[base + i];
			j->name = f->name;
			j->nlen = strlen(f->name);
			j->value = f->value;
			j->vlen = f->len;
			j->salt_out = salts ? salts[base + i] : st[i];
			j->leaf_out = leaves ? leaves[base + i] : lt[i];
			fjob_start(j, &k.sm3, FJ_INNER);
		}
		fjobs_run(s->sm3_x8, &k.sm3, jobs, c);
		for (size_t i = 0; i < c; i++)
			hx_update(&d, jobs[i].leaf_out, GX_HASH_LEN);
		OPENSSL_cleanse(jobs, c * sizeof(jobs[0]));
		OPENSSL_cleanse(st, c * GX_HASH_LEN);
	}
	for (size_t i = 0; !s->sm3_x8 && i < n; i++) {
		unsigned char salt[GX_HASH_LEN], leaf[GX_HASH_LEN];
		const char *name = fields[i].name;
		size_t nlen = strlen(name);
		hk_mac(&k, name, nlen, salt);
		leaf_into(&h, salt, name, nlen, fields[i].value, fields[i].len,
			  leaf);
		hx_update(&d, leaf, GX_HASH_LEN);
		if (salts)
			memcpy(salts[i], salt, GX_HASH_LEN);
		if (leaves)
			memcpy(leaves[i], leaf, GX_HASH_LEN);
		OPENSSL_cleanse(salt, sizeof(salt));
	}
	hk_close(&k);
	hx_final(&d, digest);
	hx_close(&d);
	hx_close(&h);
}

gx_err_t gx_record_digest_disclosed(const gx_suite_t *s,
				    const gx_seal_head_t *head,
				    const gx_field_proof_t *fields, size_t n,
				    unsigned char digest[GX_HASH_LEN],
				    char *errstr, size_t errstr_size)
{
	for (size_t i = 0; i < n; i++) {
		const gx_field_proof_t *f = &fields[i];
		if (!f->name || !f->salt == !f->leaf)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "field %zu (%s) needs either a salt "
					 "or a leaf", i,
					 f->name ? f->name : "unnamed");
	}
	struct hx d, h;
	hx_open(&d, s);
	hx_open(&h, s);
	digest_head(&d, head, n);
	for (size_t base = 0; s->sm3_x8 && base < n; base += FJ_CHUNK) {
		/* the released fields' leaves, eight at a time */
		struct fjob jobs[FJ_CHUNK];
		unsigned char lt[FJ_CHUNK][GX_HASH_LEN];
		size_t c = n - base < FJ_CHUNK ? n - base : FJ_CHUNK, nj = 0;
		for (size_t i = 0; i < c; i++) {
			const gx_field_proof_t *f = &fields[base + i];
			if (!f->salt)
				continue;
			struct fjob *j = &jobs[nj++];
			j->name = f->name;
			j->nlen = strlen(f->name);
			j->value = f->value;
			j->vlen = f->len;
			j->salt = f->salt;
			j->leaf_out = lt[i];
			fjob_start(j, NULL, FJ_LEAF);
		}
		fjobs_run(s->sm3_x8, NULL, jobs, nj);
		for (size_t i = 0; i < c; i++) {
			const gx_field_proof_t *f = &fields[base + i];
			hx_update(&d, f->salt ? lt[i] : f->leaf, GX_HASH_LEN);
		}
	}
	for (size_t i = 0; !s->sm3_x8 && i < n; i++) {
		const gx_field_proof_t *f = &fields[i];
		unsigned char leaf[GX_HASH_LEN];
		if (f->salt) {
			leaf_into(&h, f->salt, f->name, strlen(f->name),
				  f->value, f->len, leaf);
			hx_update(&d, leaf, GX_HASH_LEN);
		} else {
			hx_update(&d, f->leaf, GX_HASH_LEN);
		}
	}
	hx_final(&d, digest);
	hx_close(&d);
	hx_close(&h);
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

static void merkle_leaf(struct hx *h, const void *data, size_t len,
			unsigned char out[GX_HASH_LEN])
{
	static const unsigned char zero = 0x00;
	hx_init(h);
	hx_update(h, &zero, 1);
	hx_update(h, data, len);
	hx_final(h, out);
}

/* out may alias l or r. */
static void merkle_node(struct hx *h, const unsigned char *l,
			const unsigned char *r, unsigned char out[GX_HASH_LEN])
{
	static const unsigned char one = 0x01;
	hx_init(h);
	hx_update(h, &one, 1);
	hx_update(h, l, GX_HASH_LEN);
	hx_update(h, r, GX_HASH_LEN);
	hx_final(h, out);
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
	struct hx h;
	hx_open(&h, s);
	for (size_t i = 0; i < n; i++) {
		if (digests)
			merkle_leaf(&h, digests[i], GX_HASH_LEN,
				    t->level[0][i]);
		else
			merkle_leaf(&h, data[i], lens[i], t->level[0][i]);
	}
	for (size_t l = 1; l < levels; l++) {
		size_t below = t->size[l - 1], m = (below + 1) / 2;
		t->size[l] = m;
		t->level[l] = gx_malloc(m * GX_HASH_LEN);
		for (size_t i = 0; i < m; i++) {
			if (2 * i + 1 < below)
				merkle_node(&h, t->level[l - 1][2 * i],
					    t->level[l - 1][2 * i + 1],
					    t->level[l][i]);
			else /* odd node out: promoted unchanged */
				memcpy(t->level[l][i], t->level[l - 1][2 * i],
				       GX_HASH_LEN);
		}
	}
	hx_close(&h);
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

/* ---- proven nodes ----
 *
 * An entry at parent position (level, k) holds the two children and the
 * node H(0x01 ‖ l ‖ r) that this verifier hashed from them on an audit path
 * that then reached the signed root. A later path through the same pair
 * takes the node from the entry instead of hashing it: the value is the one
 * the hash gives, so every verdict is the one gx_merkle_verify gives, and
 * a path differing from the pair at any level (a forged leaf or sibling)
 * is hashed from there up as before. Entries are written only into free
 * positions and marked set only once their path proved out.
 */

struct memo_node {
	unsigned char l[GX_HASH_LEN], r[GX_HASH_LEN], p[GX_HASH_LEN];
};

struct gx_merkle_memo {
	uint64_t count;
	unsigned char root[GX_HASH_LEN];
	unsigned lo;			/* parent levels lo..nlevels-1 kept */
	unsigned nlevels;		/* levels of the tree, leaves included */
	size_t off[GX_MERKLE_PATH_MAX + 2];	/* first entry of a level */
	size_t bytes;
	unsigned char *set;		/* 1: node[i] is proven */
	struct memo_node *node;
};

gx_merkle_memo_t *gx_merkle_memo_new(uint64_t count,
				     const unsigned char root[GX_HASH_LEN],
				     size_t max_bytes)
{
	if (count < 2 || count > UINT32_MAX)
		return NULL;
	uint64_t size[GX_MERKLE_PATH_MAX + 2];
	unsigned levels = 0;
	for (uint64_t m = count;; m = (m + 1) / 2) {
		size[levels++] = m;
		if (m == 1)
			break;
	}
	/* The levels nearest the root, as many as fit: they are on the most
	 * paths. Below them a path is hashed as without a memo. */
	const size_t per = sizeof(struct memo_node) + 1;
	size_t n = 0;
	unsigned lo = levels;
	while (lo > 1 && (n + size[lo - 1]) * per <= max_bytes)
		n += size[--lo];
	if (lo == levels)
		return NULL;
	gx_merkle_memo_t *m = gx_calloc(1, sizeof(*m));
	m->count = count;
	memcpy(m->root, root, GX_HASH_LEN);
	m->lo = lo;
	m->nlevels = levels;
	size_t at = 0;
	for (unsigned l = lo; l < levels; l++) {
		m->off[l] = at;
		at += (size_t)size[l];
	}
	m->set = gx_calloc(n, 1);
	m->node = gx_malloc(n * sizeof(*m->node));
	m->bytes = sizeof(*m) + n * per;
	return m;
}

void gx_merkle_memo_destroy(gx_merkle_memo_t *m)
{
	if (!m)
		return;
	free(m->set);
	free(m->node);
	free(m);
}

size_t gx_merkle_memo_bytes(const gx_merkle_memo_t *m)
{
	return m ? m->bytes : 0;
}

gx_err_t gx_merkle_verify(const gx_suite_t *s, const void *data, size_t len,
			  uint64_t index, uint64_t count,
			  const unsigned char (*path)[GX_HASH_LEN],
			  size_t npath, const unsigned char root[GX_HASH_LEN],
			  char *errstr, size_t errstr_size)
{
	return gx_merkle_verify_memo(s, NULL, data, len, index, count, path,
				     npath, root, errstr, errstr_size);
}

gx_err_t gx_merkle_verify_memo(const gx_suite_t *s, gx_merkle_memo_t *memo,
			       const void *data, size_t len, uint64_t index,
			       uint64_t count,
			       const unsigned char (*path)[GX_HASH_LEN],
			       size_t npath,
			       const unsigned char root[GX_HASH_LEN],
			       char *errstr, size_t errstr_size)
{
	if (count == 0 || count > UINT32_MAX || index >= count)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "index %llu outside a batch of %llu",
				 (unsigned long long)index,
				 (unsigned long long)count);
	/* The path's length follows from index and count alone. */
	size_t need = 0;
	for (uint64_t i = index, m = count; m > 1; i /= 2, m = (m + 1) / 2)
		if (!(i % 2 == 0 && i + 1 == m))
			need++;
	if (npath < need)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "audit path too short for index %llu of %llu",
				 (unsigned long long)index,
				 (unsigned long long)count);
	if (npath > need)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "audit path too long for index %llu of %llu",
				 (unsigned long long)index,
				 (unsigned long long)count);
	/* A memo proves nodes of one tree only. */
	if (memo && (memo->count != count ||
		     memcmp(memo->root, root, GX_HASH_LEN)))
		memo = NULL;
	unsigned char h[GX_HASH_LEN];
	size_t fresh[GX_MERKLE_PATH_MAX], nfresh = 0, used = 0;
	struct hx x;
	hx_open(&x, s);
	merkle_leaf(&x, data, len, h);
	unsigned level = 0;
	for (uint64_t i = index, m = count; m > 1;
	     i /= 2, m = (m + 1) / 2, level++) {
		if (i % 2 == 0 && i + 1 == m)
			continue; /* promoted: no sibling at this level */
		const unsigned char *sib = path[used++];
		const unsigned char *l = i % 2 ? sib : h, *r = i % 2 ? h : sib;
		struct memo_node *e = NULL;
		if (memo && level + 1 >= memo->lo) {
			size_t at = memo->off[level + 1] + (size_t)(i / 2);
			e = &memo->node[at];
			if (memo->set[at]) {
				if (!memcmp(e->l, l, GX_HASH_LEN) &&
				    !memcmp(e->r, r, GX_HASH_LEN)) {
					memcpy(h, e->p, GX_HASH_LEN);
					continue;
				}
				e = NULL; /* another pair: hash, keep none */
			} else {
				fresh[nfresh++] = at;
			}
		}
		if (e) {
			memcpy(e->l, l, GX_HASH_LEN);
			memcpy(e->r, r, GX_HASH_LEN);
			merkle_node(&x, e->l, e->r, e->p);
			memcpy(h, e->p, GX_HASH_LEN);
		} else {
			merkle_node(&x, l, r, h);
		}
	}
	hx_close(&x);
	if (CRYPTO_memcmp(h, root, GX_HASH_LEN))
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "audit path does not lead to the batch root");
	for (size_t k = 0; k < nfresh; k++)
		memo->set[fresh[k]] = 1;
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
	/* One text per signature: the decoder ignores the unused low bits
	 * of the last character before padding, so a seal whose text was
	 * altered there would still verify. Only the canonical form is. */
	char canon[sizeof(raw) + 1];
	EVP_EncodeBlock((unsigned char *)canon, raw, n);
	if (strcmp(canon, sig))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal: signature is not canonical base64");
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
	return gx_seal_check_record_memo(s, seal, NULL, provider, digest, index,
					 path, npath, errstr, errstr_size);
}

gx_err_t gx_seal_check_record_memo(const gx_suite_t *s, const gx_seal_t *seal,
				   gx_merkle_memo_t *memo, const char *provider,
				   const unsigned char digest[GX_HASH_LEN],
				   uint64_t index,
				   const unsigned char (*path)[GX_HASH_LEN],
				   size_t npath, char *errstr,
				   size_t errstr_size)
{
	if (strcmp(provider, seal->provider))
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "record claims provider %.64s but batch %s "
				 "was sealed by %s", provider, seal->batch_id,
				 seal->provider);
	char why[200];
	gx_err_t err = gx_merkle_verify_memo(s, memo, digest, GX_HASH_LEN,
					     index, seal->count, path, npath,
					     seal->root, why, sizeof(why));
	if (err)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "record %llu of batch %s: %s",
				 (unsigned long long)index, seal->batch_id,
				 why);
	return GX_OK;
}
