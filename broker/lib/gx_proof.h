/*
 * gx_proof.h - seals on the wire (DESIGN "Integrity", issue 5): what the
 * adapter, the broker and a consumer do with gx_seal.h's primitives on
 * Avro records.
 *
 * Ingest records (<prefix>.ingest.<library>) end with a field
 *   seal: govex.SealProof {
 *     secret:   bytes   32 random bytes; salt of field f = HMAC-H(secret, f)
 *     batch_id: string  the batch's UUID
 *     index:    long    the record's index in the batch
 *     path:     array<bytes>  its audit path (32-byte hashes, bottom up)
 *     seal:     string  the batch's seal, JSON exactly as on <prefix>.seals
 *   }
 * Delivery records (<prefix>.deliver.<consumer>.<library>) carry in their
 * provenance
 *   op:    govex.Operation (UPSERT | DELETE)
 *   proof: govex.Proof {
 *     fields:   array<FieldProof{name: string, salt: [null, bytes],
 *                                leaf: [null, bytes]}>
 *               every payload field in payload order; a released field has
 *               its salt, a withheld one its leaf
 *     batch_id, index, path, seal: as in the ingest record
 *   }
 * A field's value bytes are the Avro binary encoding of its value under
 * the *payload* schema's type: in a delivery, where every field is
 * ["null", T], a field that is T in the payload is the union's T branch
 * encoded as T (no branch index); a field already ["null", T] in the
 * payload is encoded as that union.
 *
 * The record digest binds record id, provider, item, collected at and op
 * (gx_seal.h); the seal's provider must be the record's provider, except
 * for a re-seal (reseal_of set), which a successor agency signs over the
 * same root.
 *
 * Thread safety: one gx_sealcheck_t and one gx_sealer_t per thread. A
 * checker is not locked: its seal cache, the Merkle nodes it proved per
 * cached batch and its scratch are its own, so threads that verify records
 * side by side each open their own checker from the same configuration
 * (each then verifies a batch's seal once for itself). What they share
 * underneath is only read: every function taking a const gx_suite_t * may
 * run on one suite from several threads at once (gx_seal.h).
 */
#ifndef GX_PROOF_H
#define GX_PROOF_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "gx.h"
#include "gx_conf.h"
#include "gx_pki.h"
#include "gx_record.h"
#include "gx_schema.h"
#include "gx_seal.h"

/* The Kafka header in which an adapter names the agency it writes as; the
 * broker refuses a record whose seal is another agency's. */
#define GX_AGENCY_HEADER "govex-agency"

/* ---- configuration shared by adapter, broker and govexctl ---- */

typedef struct gx_seal_conf {
	char *suite;		/* seal.suite */
	char *sm2_id;		/* seal.sm2.id */
	char *root;		/* seal.root: the exchange CA certificate */
	char *keyring;		/* seal.keyring: JSON Lines (gx_pki.h) */
	int64_t grace_ms;	/* seal.key.grace */
} gx_seal_conf_t;

/* The five configuration entries of a gx_seal_conf_t member m of the
 * program's configuration struct T (for its gx_confdef_t table). */
#define GX_SEAL_CONFDEFS(T, m)                                               \
	{"seal.suite", GX_CONF_ENUM, offsetof(T, m.suite), "sm2-sm3", 0, 0,  \
	 "sm2-sm3|ed25519-sha256",                                           \
	 "the exchange's algorithm suite for seals and certificates"},       \
	    {"seal.sm2.id", GX_CONF_STR, offsetof(T, m.sm2_id),              \
	     GX_SM2_DEFAULT_ID, 0, 0, NULL,                                  \
	     "SM2 distinguishing ID of every signer (sm2-sm3 only)"},        \
	    {"seal.root", GX_CONF_STR, offsetof(T, m.root), "keys/root.crt", \
	     0, 0, NULL, "the exchange's root certificate (govexctl ca init)"}, \
	    {"seal.keyring", GX_CONF_STR, offsetof(T, m.keyring),            \
	     "keys/keyring.jsonl", 0, 0, NULL,                               \
	     "agency certificates by key id (govexctl keys new); re-read "    \
	     "when it changes"},                                             \
	    {"seal.key.grace", GX_CONF_DURATION_MS, offsetof(T, m.grace_ms), \
	     "5m", 0, 86400000, NULL,                                        \
	     "how long an agency's previous key may still seal after its "   \
	     "next key took over"}

/* ---- verification (broker, govexctl verify) ---- */

typedef struct gx_sealcheck gx_sealcheck_t;

/* Suite, root and keyring from the configuration. Errors name the file. */
gx_err_t gx_sealcheck_open(const gx_seal_conf_t *c, gx_sealcheck_t **out,
			  char *errstr, size_t errstr_size);
void gx_sealcheck_destroy(gx_sealcheck_t *v);
const gx_suite_t *gx_sealcheck_suite(const gx_sealcheck_t *v);
const gx_cert_t *gx_sealcheck_root(const gx_sealcheck_t *v);
const gx_keyring_t *gx_sealcheck_keyring(const gx_sealcheck_t *v);
/* Read the keyring file again if it changed since it was read (a new key,
 * a removed one). A keyring that no longer loads keeps the previous one,
 * and the error is returned. */
gx_err_t gx_sealcheck_reload(gx_sealcheck_t *v, char *errstr,
			    size_t errstr_size);
/* Seals verified so far (signature checks done), and cache hits. */
uint64_t gx_sealcheck_seals_checked(const gx_sealcheck_t *v);
uint64_t gx_sealcheck_seal_hits(const gx_sealcheck_t *v);
/* Bytes held for the Merkle nodes proven per cached batch (bounded: a few
 * MiB per checker, the least recently used batches given up first). */
size_t gx_sealcheck_memo_bytes(const gx_sealcheck_t *v);

/*
 * Verify a seal given as its JSON text: parsed, its key chosen from the
 * keyring, its signature checked. A seal verified before (same batch id,
 * same bytes) is taken from a bounded cache without checking it again.
 * *seal points into the cache until the next call. GX_ERR_DENIED with the
 * reason otherwise (an unknown key makes one keyring reload first).
 */
gx_err_t gx_sealcheck_seal(gx_sealcheck_t *v, const char *json, size_t len,
			  const gx_seal_t **seal, char *errstr,
			  size_t errstr_size);

/* What a verified ingest record gives the projection. */
typedef struct gx_record_proof {
	size_t n;					/* payload fields */
	unsigned char salts[64][GX_HASH_LEN];
	unsigned char leaves[64][GX_HASH_LEN];
	const char *batch_id;				/* in the ingest value */
	int64_t index;
	size_t npath;
	unsigned char path[GX_MERKLE_PATH_MAX][GX_HASH_LEN];
	const char *seal;				/* in the ingest value */
	size_t seal_len;
	/* the payload's field bytes the leaves were computed from (view 0);
	 * they point into the checker's scratch, valid until its next use */
	gx_field_bytes_t fields[64];
} gx_record_proof_t;

/*
 * Verify an ingest record before release: its seal (gx_sealcheck_seal), the
 * seal's provider against the record's, each field's leaf from the
 * record's secret, the record digest, and its path to the seal's root
 * (with the nodes earlier records of the batch proved: gx_merkle_memo_t;
 * the verdict is the same, only hashes are saved).
 * Fills *proof for gx_project. On failure returns GX_ERR_DENIED (or
 * GX_ERR_AVRO for a malformed proof), *reason is a short code for
 * govex.rejected ("seal_missing", "seal_invalid", "seal_provider_mismatch",
 * "record_not_in_seal") and errstr says why.
 */
gx_err_t gx_ingest_verify(gx_sealcheck_t *v, const gx_library_t *lib,
			  avro_value_t *ingest, const gx_envelope_t *env,
			  gx_record_proof_t *proof, const char **reason,
			  char *errstr, size_t errstr_size);

/*
 * Verify a delivery at the consumer: the released values with their salts
 * and the withheld fields' leaves give the record digest, which must reach
 * the root of a seal that verifies under the keyring, by the record's own
 * provider. Same returns as gx_ingest_verify; reasons also
 * "proof_malformed".
 */
gx_err_t gx_delivery_verify(gx_sealcheck_t *v, const gx_library_t *lib,
			    avro_value_t *delivery, const char **reason,
			    char *errstr, size_t errstr_size);
/*
 * The same; with allow_reseal, a re-seal (reseal_of naming the record's
 * batch) by another agency is accepted in place of the provider's seal.
 * Any agency in the keyring can make one, so the caller must decide whom it
 * accepts as a successor: *sealed_by (may be NULL) names the agency whose
 * seal verified, valid until the next verification.
 */
gx_err_t gx_delivery_verify_ex(gx_sealcheck_t *v, const gx_library_t *lib,
			       avro_value_t *delivery, int allow_reseal,
			       const char **sealed_by, const char **reason,
			       char *errstr, size_t errstr_size);

/*
 * The Avro bytes of every payload field under the payload schema (see the
 * header comment), appended to scratch; fields[i] points into scratch
 * (valid until scratch changes). payload may be a payload record or a
 * delivery's view record (view = 1).
 */
gx_err_t gx_payload_field_bytes(const gx_library_t *lib,
				avro_value_t *payload, int view,
				gx_buf_t *scratch, gx_field_bytes_t *fields,
				char *errstr, size_t errstr_size);

/* ---- sealing (adapter) ---- */

typedef struct gx_sealer gx_sealer_t;

/* Called for each sealed record, in the order added, then once for the
 * seal (topic chosen by the caller). */
typedef void (*gx_sealer_record_cb)(void *opaque, const void *key,
				    size_t klen, const void *value,
				    size_t vlen);
typedef void (*gx_sealer_seal_cb)(void *opaque, const gx_seal_t *seal,
				  const char *json);

/* A sealer signing with key (not owned). */
gx_sealer_t *gx_sealer_new(const gx_sealkey_t *key);
void gx_sealer_destroy(gx_sealer_t *s);
/* Sign the next batches with key (same agency and suite; not owned). */
void gx_sealer_set_key(gx_sealer_t *s, const gx_sealkey_t *key);

/*
 * Add one record: ingest holds envelope (env) and payload; a new secret
 * is drawn, the leaves and digest computed, and the record's bytes up to
 * its seal kept with its Kafka key until the batch closes.
 */
gx_err_t gx_sealer_add(gx_sealer_t *s, const gx_library_t *lib,
		       avro_value_t *ingest, const gx_envelope_t *env,
		       const void *key, size_t klen, char *errstr,
		       size_t errstr_size);
/* Records waiting in the open batch, and when the first was added
 * (gx_mono_ms; 0 when none). */
size_t gx_sealer_pending(const gx_sealer_t *s);
int64_t gx_sealer_opened(const gx_sealer_t *s);
/*
 * Close the batch: Merkle root, seal signed at now, then record_cb per
 * record (its full single-object encoding, proof included) and seal_cb
 * once. Nothing happens when no record is pending. The batch is empty
 * afterwards, whatever the result.
 */
gx_err_t gx_sealer_close(gx_sealer_t *s, uint64_t ingest_fp,
			 gx_sealer_record_cb record_cb,
			 gx_sealer_seal_cb seal_cb, void *opaque,
			 char *errstr, size_t errstr_size);
/* Drop the open batch (the transaction was aborted). */
void gx_sealer_discard(gx_sealer_t *s);

#endif /* GX_PROOF_H */
