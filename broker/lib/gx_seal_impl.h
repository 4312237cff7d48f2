/*
 * gx_seal_impl.h - what gx_seal.c and gx_pki.c share about a suite's
 * OpenSSL side; not for programs.
 */
#ifndef GX_SEAL_IMPL_H
#define GX_SEAL_IMPL_H

#include <openssl/evp.h>

#include "gx_seal.h"

/* OpenSSL key type name of the suite's signatures: "SM2" or "ED25519". */
const char *gx_suite_keytype(const gx_suite_t *s);
/* 1 when k is a key of the suite's signature algorithm. */
int gx_suite_key_ok(const gx_suite_t *s, EVP_PKEY *k);
/* A new key pair of the suite's algorithm, or NULL. */
EVP_PKEY *gx_suite_keygen(const gx_suite_t *s);
/*
 * Initialise ctx to sign (verify = 0) or verify (1) with k: SM3 and the
 * suite's distinguishing ID for sm2-sm3, pure Ed25519 otherwise. Returns 1
 * on success. Used for seals and for certificates (X509_sign_ctx).
 */
int gx_suite_md_init(const gx_suite_t *s, EVP_MD_CTX *ctx, EVP_PKEY *k,
		     int verify);
/* One-shot signature of msg; 1 on success, *siglen <= GX_SIG_MAX. */
int gx_suite_sign(const gx_suite_t *s, EVP_PKEY *k, const void *msg,
		  size_t len, unsigned char *sig, size_t *siglen);
/* 1 when sig is k's signature of msg under the suite. */
int gx_suite_verify(const gx_suite_t *s, EVP_PKEY *k, const void *msg,
		    size_t len, const unsigned char *sig, size_t siglen);

/*
 * The SM3 code an sm2-sm3 suite runs: 0 portable C, 1 with BMI2 rotates,
 * 2 also eight salts and leaves at once with AVX2; at most what the CPU
 * has (gx_suite_new takes the most). Returns the level now in use; 0 for
 * ed25519-sha256. For tests of each level, before the suite is shared.
 */
int gx_suite_sm3_level(gx_suite_t *s, int level);

#endif /* GX_SEAL_IMPL_H */
