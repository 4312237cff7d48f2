/*
 * gx_digest.h - collect once (art. 10): what an adapter remembers of every
 * record it published, so that a record sent again unchanged is recognised
 * and not published a second time.
 *
 * Per subject (the library's key field, e.g. the citizen ID) an adapter
 * keeps a 16-byte digest of the payload: the first 16 bytes of SHA-256 over
 * the Avro binary encoding of the payload record alone, so the envelope
 * (record id, collected at, source position) never makes a record look new.
 * Subjects are kept as a 16-byte hash, never in clear. The digests live in
 * the compacted topic <prefix>.adapter.digests, written in the same Kafka
 * transaction as the records, keyed "<adapter id>/<32 hex digits of the
 * subject hash>" with 32 hex digits of the payload digest as value, and are
 * read back when an adapter starts.
 *
 * Memory: an open-addressing table of 33-byte slots (subject hash, payload
 * digest, a used byte), a power of two in size and at most 3/4 full, so
 * between 44 and 88 bytes per subject: one million subjects take at most
 * 88 MB, ten million at most 880 MB. There is no other per-subject state.
 */
#ifndef GX_DIGEST_H
#define GX_DIGEST_H

#include <avro.h>
#include <stddef.h>

#include "gx.h"

#define GX_DIGEST_LEN 16

typedef struct gx_digests gx_digests_t;

gx_digests_t *gx_digests_new(void);
void gx_digests_destroy(gx_digests_t *d);
size_t gx_digests_count(const gx_digests_t *d);
/* Bytes the table holds now. */
size_t gx_digests_memory(const gx_digests_t *d);

/* 1 and *dig set if subject hash subj has a digest, else 0. */
int gx_digests_get(const gx_digests_t *d, const unsigned char *subj,
		   unsigned char *dig);
/* Set subj's digest; returns 1 and the digest it replaces in old (may be
 * NULL) if it had one, else 0 (for undoing an aborted transaction). */
int gx_digests_put(gx_digests_t *d, const unsigned char *subj,
		   const unsigned char *dig, unsigned char *old);
/* Forget subj (a tombstone on the topic). */
void gx_digests_del(gx_digests_t *d, const unsigned char *subj);

/*
 * The subject hash: SHA-256 over (adapter id, NUL, subject), or, when a
 * secret is given, HMAC-SHA-256 with it, so the digests topic cannot be
 * searched for a known citizen ID; first 16 bytes.
 */
void gx_subject_hash(const char *adapter_id, const unsigned char *secret,
		     size_t secretlen, const char *subject, size_t len,
		     unsigned char *out);

/* The payload digest of an Avro record value; scratch is reused. */
gx_err_t gx_payload_digest(avro_value_t *payload, gx_buf_t *scratch,
			   unsigned char *out, char *errstr,
			   size_t errstr_size);

/* The digests topic key: "<adapter id>/<32 hex>"; returns its length. */
size_t gx_digest_key(const char *adapter_id, const unsigned char *subj,
		     char *out, size_t out_size);
/* 32 lowercase hex digits and a NUL. */
void gx_digest_hex(const unsigned char *dig, char out[2 * GX_DIGEST_LEN + 1]);

/*
 * Read one digests-topic message: returns 0 if it is not adapter_id's,
 * 1 for a digest (subj, dig set), 2 for a tombstone (subj set), -1 for a
 * malformed message of this adapter.
 */
int gx_digest_parse(const char *adapter_id, const void *key, size_t klen,
		    const void *val, size_t vlen, unsigned char *subj,
		    unsigned char *dig);

#endif /* GX_DIGEST_H */
