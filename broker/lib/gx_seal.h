/*
 * gx_seal.h - the cryptographic core of record integrity (DESIGN
 * "Integrity", issue 5): algorithm suites, per-field salted leaves, record
 * digests, batch Merkle trees with audit paths, and signed batch seals.
 * No Kafka and no Avro here: callers hand in the bytes of each field value.
 *
 * Suites (one per exchange, from configuration):
 *   "sm2-sm3"         SM2 signatures (GB/T 32918) over SM3 (GB/T 32905),
 *                     the signer's distinguishing ID set explicitly on every
 *                     signature and verification (GB/T 35276 default
 *                     "1234567812345678"; OpenSSL 3.0 would otherwise use an
 *                     empty ID and interoperate with nobody);
 *   "ed25519-sha256"  Ed25519 (RFC 8032) signatures, SHA-256 digests.
 * H below is the suite's digest; both produce GX_HASH_LEN (32) bytes.
 *
 * Byte encodings (all integers big-endian; "str(x)" is a 4-byte length then
 * the bytes of x, with no NUL):
 *
 *   salt_i   = HMAC-H(secret, name_i)            secret: GX_SECRET_LEN random
 *                                                 bytes per record
 *   leaf_i   = H(salt_i ‖ str(name_i) ‖ str(value_i))
 *              value_i is the Avro binary encoding of the field's value under
 *              the *payload* schema's field type (a nullable field is encoded
 *              as its ["null", T] union, branch index included)
 *   digest   = H(str(record id) ‖ str(provider) ‖ str(item) ‖
 *                int64(collected at, ms since the epoch) ‖
 *                uint8(op: 0 upsert, 1 delete) ‖ uint32(n) ‖
 *                leaf_0 ‖ … ‖ leaf_n-1)        leaves in payload field order
 *   Merkle   leaf hash = H(0x00 ‖ digest), node = H(0x01 ‖ left ‖ right); a
 *            level with an odd number of nodes promotes its last node
 *            unchanged to the next level. This is exactly RFC 6962's Merkle
 *            Tree Hash (the left subtree is always the largest power of two),
 *            so RFC 6962 test vectors apply. A batch of one has root
 *            H(0x00 ‖ digest) and an empty path.
 *   seal     signed message = "govex-seal-v1" ‖ 0x00 ‖ str(suite name) ‖
 *                str(batch id) ‖ str(provider) ‖ str(key id) ‖
 *                str(reseal of, "" when none) ‖ uint32(count) ‖ root (32) ‖
 *                int64(created at, ms)
 *            signature: Ed25519 (RFC 8032, 64 bytes) over that message; or
 *            SM2 with SM3 over Z_A ‖ message (GB/T 32918.2, Z_A from the
 *            distinguishing ID and the public key), DER SEQUENCE {r, s} as
 *            in GB/T 35276; base64 (RFC 4648, padded) in the JSON.
 *   key id   first 16 bytes of H(DER SubjectPublicKeyInfo of the key), hex
 *
 * Thread safety: a gx_suite_t, a gx_sealkey_t and a loaded gx_keyring_t
 * are not changed by use and may be used from several threads at once:
 * every function taking a const gx_suite_t * keeps its scratch on the
 * caller's stack (or in an object the caller passes). A gx_merkle_t and a
 * gx_merkle_memo_t belong to one thread.
 *
 * H in the sm2-sm3 suite is an SM3 of our own (checked against GB/T 32905
 * and OpenSSL's by the unit tests), faster than OpenSSL's EVP on the short
 * inputs hashed per field; SM2 signatures and SHA-256 are OpenSSL's.
 */
#ifndef GX_SEAL_H
#define GX_SEAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gx.h"

#define GX_HASH_LEN 32		/* digest, salt and leaf size in both suites */
#define GX_SECRET_LEN 32	/* per-record salt secret */
#define GX_SIG_MAX 80		/* Ed25519: 64; SM2: DER (r, s), at most 72 */
#define GX_KEY_ID_LEN 32	/* hex characters of a key id */
#define GX_AGENCY_MAX 64	/* agency code: [A-Za-z0-9._-], 1..64 */
#define GX_UUID_STRLEN 36
#define GX_MERKLE_PATH_MAX 32	/* batches hold at most 2^32 - 1 records */
#define GX_SM2_DEFAULT_ID "1234567812345678"	/* GB/T 35276 */

typedef enum {
	GX_SUITE_SM2_SM3 = 1,
	GX_SUITE_ED25519_SHA256 = 2
} gx_suite_id_t;

typedef struct gx_suite gx_suite_t;

/*
 * Make the suite called name ("sm2-sm3" or "ed25519-sha256"). sm2_id is the
 * signer's distinguishing ID for sm2-sm3 (NULL: GX_SM2_DEFAULT_ID; 1..255
 * bytes) and is ignored by ed25519-sha256. Fails with GX_ERR_CONFIG for an
 * unknown name or when OpenSSL lacks the algorithms.
 */
gx_err_t gx_suite_new(const char *name, const char *sm2_id, gx_suite_t **out,
		      char *errstr, size_t errstr_size);
void gx_suite_destroy(gx_suite_t *s);
gx_suite_id_t gx_suite_id(const gx_suite_t *s);
/* "sm2-sm3" or "ed25519-sha256". */
const char *gx_suite_name(const gx_suite_t *s);
/* The SM2 distinguishing ID (sm2-sm3), or "" (ed25519-sha256). */
const char *gx_suite_sm2_id(const gx_suite_t *s);

/* ---- digests ---- */

/* out = H(p). */
void gx_hash(const gx_suite_t *s, const void *p, size_t n,
	     unsigned char out[GX_HASH_LEN]);
/* out = H(parts[0] ‖ … ‖ parts[nparts-1]). */
void gx_hashv(const gx_suite_t *s, const void *const *parts,
	      const size_t *lens, size_t nparts, unsigned char out[GX_HASH_LEN]);
/* out = HMAC-H(key, p). */
void gx_hmac(const gx_suite_t *s, const void *key, size_t keylen,
	     const void *p, size_t n, unsigned char out[GX_HASH_LEN]);

/* ---- fields and records ---- */

/* A fresh random per-record secret; GX_ERR_IO when no randomness. */
gx_err_t gx_record_secret_new(unsigned char secret[GX_SECRET_LEN],
			      char *errstr, size_t errstr_size);

/* salt = HMAC-H(secret, name). */
void gx_field_salt(const gx_suite_t *s,
		   const unsigned char secret[GX_SECRET_LEN], const char *name,
		   unsigned char salt[GX_HASH_LEN]);
/* leaf = H(salt ‖ str(name) ‖ str(value)). */
void gx_field_leaf(const gx_suite_t *s, const unsigned char salt[GX_HASH_LEN],
		   const char *name, const void *value, size_t len,
		   unsigned char leaf[GX_HASH_LEN]);

/* What the record digest binds besides the leaves. */
typedef struct gx_seal_head {
	const char *record_id;
	const char *provider;
	const char *item;
	int64_t collected_at;	/* ms since the epoch */
	int op;			/* 0 upsert, 1 delete (gx_op_t) */
} gx_seal_head_t;

/* digest over head and n leaves (laid out as in the header comment). */
void gx_record_digest(const gx_suite_t *s, const gx_seal_head_t *head,
		      const unsigned char (*leaves)[GX_HASH_LEN], size_t n,
		      unsigned char digest[GX_HASH_LEN]);

/* One field value as Avro binary bytes, in payload field order. */
typedef struct gx_field_bytes {
	const char *name;
	const void *value;
	size_t len;
} gx_field_bytes_t;

/*
 * The sealing side (adapter) and the full check (broker, which holds the
 * secret): salts from secret, leaves of all n fields, then the digest.
 * leaves (n entries) receives each leaf when not NULL.
 */
void gx_record_seal_fields(const gx_suite_t *s,
			   const unsigned char secret[GX_SECRET_LEN],
			   const gx_seal_head_t *head,
			   const gx_field_bytes_t *fields, size_t n,
			   unsigned char (*leaves)[GX_HASH_LEN],
			   unsigned char digest[GX_HASH_LEN]);
/* The same, also giving each field's salt in salts (n entries; the broker
 * hands released fields' salts to consumers). */
void gx_record_fields_proof(const gx_suite_t *s,
			    const unsigned char secret[GX_SECRET_LEN],
			    const gx_seal_head_t *head,
			    const gx_field_bytes_t *fields, size_t n,
			    unsigned char (*salts)[GX_HASH_LEN],
			    unsigned char (*leaves)[GX_HASH_LEN],
			    unsigned char digest[GX_HASH_LEN]);

/*
 * One field of a released record (selective disclosure): released fields
 * carry salt and value, withheld ones only their leaf. Exactly one of salt
 * and leaf is set.
 */
typedef struct gx_field_proof {
	const char *name;
	const unsigned char *salt;	/* released: HMAC-H(secret, name) */
	const void *value;		/* released: Avro bytes of the value */
	size_t len;
	const unsigned char *leaf;	/* withheld: the field's leaf */
} gx_field_proof_t;

/*
 * The consumer side: recompute the record digest from released values with
 * their salts and the leaves of withheld fields. GX_ERR_INVALID when a field
 * has both or neither of salt and leaf.
 */
gx_err_t gx_record_digest_disclosed(const gx_suite_t *s,
				    const gx_seal_head_t *head,
				    const gx_field_proof_t *fields, size_t n,
				    unsigned char digest[GX_HASH_LEN],
				    char *errstr, size_t errstr_size);

/* ---- batch Merkle trees ---- */

typedef struct gx_merkle gx_merkle_t;

/* The tree over n >= 1 record digests (NULL when n is 0 or > UINT32_MAX). */
gx_merkle_t *gx_merkle_new(const gx_suite_t *s,
			   const unsigned char (*digests)[GX_HASH_LEN],
			   size_t n);
/* The tree over n >= 1 leaves of any length (leaf hash H(0x00 ‖ data)); the
 * general form, for RFC 6962 vectors. */
gx_merkle_t *gx_merkle_new_data(const gx_suite_t *s, const void *const *data,
				const size_t *lens, size_t n);
void gx_merkle_destroy(gx_merkle_t *t);
size_t gx_merkle_count(const gx_merkle_t *t);
const unsigned char *gx_merkle_root(const gx_merkle_t *t);
/*
 * The audit path of leaf index: sibling hashes from the bottom up, levels
 * where the node was promoted contribute none. path must hold
 * GX_MERKLE_PATH_MAX entries; returns the number written, or (size_t)-1 when
 * index is out of range.
 */
size_t gx_merkle_path(const gx_merkle_t *t, size_t index,
		      unsigned char (*path)[GX_HASH_LEN]);
/*
 * Check that data (a record digest: 32 bytes) sits at index of a tree of
 * count leaves with that root, through path. GX_ERR_DENIED when it does
 * not, GX_ERR_INVALID for an impossible index, count or path length.
 */
gx_err_t gx_merkle_verify(const gx_suite_t *s, const void *data, size_t len,
			  uint64_t index, uint64_t count,
			  const unsigned char (*path)[GX_HASH_LEN],
			  size_t npath, const unsigned char root[GX_HASH_LEN],
			  char *errstr, size_t errstr_size);

/*
 * Proven nodes of one batch's tree, for a verifier that checks many records
 * of the batch (the broker): once a record's audit path reached the root,
 * the node pairs hashed on the way are kept, and a later path through the
 * same pair takes their parent from the memo instead of hashing it. Only
 * the hash is saved: the verdicts are exactly gx_merkle_verify's (a forged
 * leaf or sibling makes a pair the memo does not hold, and is hashed from
 * there up to a root that does not match). At most about max_bytes are
 * held, the levels nearest the root first; NULL when count < 2 (no path to
 * share) or not even the root level fits. One thread.
 */
typedef struct gx_merkle_memo gx_merkle_memo_t;

gx_merkle_memo_t *gx_merkle_memo_new(uint64_t count,
				     const unsigned char root[GX_HASH_LEN],
				     size_t max_bytes);
void gx_merkle_memo_destroy(gx_merkle_memo_t *m);
/* Bytes held by m (0 for NULL). */
size_t gx_merkle_memo_bytes(const gx_merkle_memo_t *m);
/*
 * gx_merkle_verify, remembering proven nodes in memo (may be NULL; used only
 * when made for this count and root). Same results in every case.
 */
gx_err_t gx_merkle_verify_memo(const gx_suite_t *s, gx_merkle_memo_t *memo,
			       const void *data, size_t len, uint64_t index,
			       uint64_t count,
			       const unsigned char (*path)[GX_HASH_LEN],
			       size_t npath,
			       const unsigned char root[GX_HASH_LEN],
			       char *errstr, size_t errstr_size);

/* ---- signing keys and seals ---- */

/* An agency's private key with its certificate (see gx_pki.h). */
typedef struct gx_sealkey gx_sealkey_t;
/* Certificates of agencies' keys by (agency, key id) (see gx_pki.h). */
typedef struct gx_keyring gx_keyring_t;

/* A seal's content. */
typedef struct gx_seal {
	gx_suite_id_t suite;
	char batch_id[GX_UUID_STRLEN + 1];
	char provider[GX_AGENCY_MAX + 1];
	char key_id[GX_KEY_ID_LEN + 1];
	char reseal_of[GX_UUID_STRLEN + 1];	/* "" unless a re-seal */
	uint32_t count;
	unsigned char root[GX_HASH_LEN];
	int64_t created_at;			/* ms since the epoch */
	unsigned char sig[GX_SIG_MAX];
	size_t siglen;
} gx_seal_t;

/* The bytes a seal's signature covers (see the header comment), appended
 * to out. */
void gx_seal_message(const gx_suite_t *s, const gx_seal_t *seal,
		     gx_buf_t *out);

/*
 * Sign a seal over a batch of count records with root, by key's agency:
 * batch_id NULL makes a new UUID, reseal_of NULL is none. Fills *seal and
 * returns its JSON
 *   {"suite":"sm2-sm3","batch_id":"…","provider":"SX-GA","key_id":"…",
 *    "count":3,"root":"<64 hex>","created_at":<ms>,"reseal_of":null,
 *    "sig":"<base64>"}
 * in *json (a new reference). GX_ERR_INVALID for count 0 or a malformed id.
 */
gx_err_t gx_seal_sign(const gx_sealkey_t *key, const char *batch_id,
		      uint32_t count, const unsigned char root[GX_HASH_LEN],
		      int64_t created_at, const char *reseal_of,
		      gx_seal_t *seal, json_t **json, char *errstr,
		      size_t errstr_size);

/* The JSON form of a seal (a new reference). */
json_t *gx_seal_to_json(const gx_suite_t *s, const gx_seal_t *seal);

/* Parse a seal's JSON strictly (every member present and well formed, no
 * others) without checking its signature. */
gx_err_t gx_seal_parse(const gx_suite_t *s, const json_t *json,
		       gx_seal_t *seal, char *errstr, size_t errstr_size);

/*
 * Verify a parsed seal: its suite is s; its key is chosen from keyring by
 * (provider, key id) under the rotation rule of gx_keyring_select (see
 * gx_pki.h); the signature verifies under that key. GX_ERR_DENIED when any
 * of that fails, with the reason in errstr.
 */
gx_err_t gx_seal_verify(const gx_suite_t *s, const gx_keyring_t *keyring,
			const gx_seal_t *seal, char *errstr,
			size_t errstr_size);

/* gx_seal_parse then gx_seal_verify; *seal is filled when it parses. */
gx_err_t gx_seal_verify_json(const gx_suite_t *s, const gx_keyring_t *keyring,
			     const json_t *json, gx_seal_t *seal, char *errstr,
			     size_t errstr_size);

/*
 * Check one record against a seal already verified: the record's provider
 * is the seal's, index < count, and digest with path leads to the seal's
 * root. GX_ERR_DENIED with the reason otherwise.
 */
gx_err_t gx_seal_check_record(const gx_suite_t *s, const gx_seal_t *seal,
			      const char *provider,
			      const unsigned char digest[GX_HASH_LEN],
			      uint64_t index,
			      const unsigned char (*path)[GX_HASH_LEN],
			      size_t npath, char *errstr, size_t errstr_size);

/* The same with a memo of the seal's tree (gx_merkle_verify_memo). */
gx_err_t gx_seal_check_record_memo(const gx_suite_t *s, const gx_seal_t *seal,
				   gx_merkle_memo_t *memo, const char *provider,
				   const unsigned char digest[GX_HASH_LEN],
				   uint64_t index,
				   const unsigned char (*path)[GX_HASH_LEN],
				   size_t npath, char *errstr,
				   size_t errstr_size);

/* ---- hex helpers (lower-case) ---- */
void gx_hex(const void *p, size_t n, char *out);	/* out: 2n + 1 */
/* Decode exactly n bytes from 2n hex characters; -1 on bad input. */
int gx_unhex(const char *hex, size_t hexlen, void *out, size_t n);

#endif /* GX_SEAL_H */
