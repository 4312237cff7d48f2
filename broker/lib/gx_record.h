/*
 * gx_record.h - ingest and delivery records: the envelope every ingest
 * record carries, and the projection of an ingest record into the consumer
 * view a grant allows (withheld fields null and named in provenance).
 */
#ifndef GX_RECORD_H
#define GX_RECORD_H

#include <avro.h>
#include <stdint.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_keyfile.h"
#include "gx_schema.h"
#include "gx_seal.h"

typedef enum { GX_OP_UPSERT = 0, GX_OP_DELETE = 1 } gx_op_t;

/* Envelope of an ingest record. Strings point into the Avro value they were
 * read from (gx_ingest_get) or are the caller's (gx_ingest_set). */
typedef struct gx_envelope {
	const char *record_id;
	const char *provider;
	const char *item;
	const char *source;
	int64_t collected_at;
	gx_op_t op;
} gx_envelope_t;

/* Set the envelope fields of an ingest value. */
gx_err_t gx_ingest_set(avro_value_t *ingest, const gx_envelope_t *env,
		       char *errstr, size_t errstr_size);
/* Read the envelope of an ingest value. */
gx_err_t gx_ingest_get(avro_value_t *ingest, gx_envelope_t *env,
		       char *errstr, size_t errstr_size);
/* The payload record inside an ingest or delivery value. */
gx_err_t gx_record_payload(avro_value_t *rec, avro_value_t *payload,
			   char *errstr, size_t errstr_size);

struct gx_record_proof; /* gx_proof.h */

/*
 * The reference form of a delivery, as Avro values (the broker writes the
 * same bytes directly with gx_delivery_encode; the unit tests hold the two
 * equal). Fill a delivery value (an instance of lib->delivery_schema, reset
 * by the caller) from an ingest value: fields whose bit is set in released are
 * copied, all others are null and listed in provenance.withheld; the
 * provenance's proof gets the salts of released fields and the leaves of
 * withheld ones from proof (gx_ingest_verify), and the seal.
 */
gx_err_t gx_project(const gx_library_t *lib, avro_value_t *ingest,
		    uint64_t released, const gx_grant_t *grant,
		    int64_t released_at, const struct gx_record_proof *proof,
		    avro_value_t *delivery, char *errstr, size_t errstr_size);

/*
 * The single-object encoding of the delivery gx_project and
 * gx_avro_so_encode(lib->delivery_fp) would give, written directly:
 * appended to out, byte for byte the same (tests/unit/test_delivery.c).
 * fields are the ingest payload's field bytes (gx_payload_field_bytes with
 * view 0, as gx_ingest_verify computed them), env the ingest envelope,
 * proof the verified proof. Thread-safe; no Avro value is touched.
 */
gx_err_t gx_delivery_encode(const gx_library_t *lib, const gx_envelope_t *env,
			    const gx_field_bytes_t *fields, uint64_t released,
			    const gx_grant_t *grant, int64_t released_at,
			    const struct gx_record_proof *proof, gx_buf_t *out,
			    char *errstr, size_t errstr_size);

/* The subject key (e.g. the citizen ID) of a payload, as a string view. */
gx_err_t gx_record_subject(const gx_library_t *lib, avro_value_t *payload,
			   const char **key, size_t *len, char *errstr,
			   size_t errstr_size);

/*
 * The Kafka key of a delivery. It is the subject itself (e.g. the citizen
 * ID) when the consumer may see the subject field, and otherwise a
 * pseudonym: HMAC-SHA-256(secret, consumer NUL subject) in hex. The pseudonym
 * is stable, so one subject's records stay on one partition and in order,
 * and differs per consumer, so consumers cannot join their keys; the key
 * never discloses a withheld field. out must hold 65 bytes or slen + 1.
 */
void gx_delivery_key(const gx_library_t *lib, uint64_t released,
		     const char *consumer, const char *subject, size_t slen,
		     const unsigned char *secret, size_t secretlen, char *out,
		     size_t out_size, size_t *outlen);
/* The same with the secret made ready once (gx_hmac_key_new); thread-safe. */
void gx_delivery_key_k(const gx_library_t *lib, uint64_t released,
		       const char *consumer, const char *subject, size_t slen,
		       const gx_hmac_key_t *k, char *out, size_t out_size,
		       size_t *outlen);

#endif /* GX_RECORD_H */
