/*
 * gx_avro.h - Avro schema fingerprints and single-object encoding.
 *
 * Values on govex topics use Avro's own single-object encoding:
 *   C3 01 | 8-byte little-endian CRC-64-AVRO fingerprint of the schema's
 *   Parsing Canonical Form | Avro binary body
 * so any Avro library can read them with the schema from schemas/ or the
 * govex.schemas topic; no registry service is needed.
 *
 * Avro C 1.11 has no Parsing Canonical Form, so it is computed here from the
 * schema JSON (jansson), following the specification's transformation rules
 * [PRIMITIVES] [FULLNAMES] [STRIP] [ORDER] [STRINGS] [INTEGERS] [WHITESPACE].
 */
#ifndef GX_AVRO_H
#define GX_AVRO_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "gx.h"

#define GX_AVRO_SO_MAGIC0 0xC3
#define GX_AVRO_SO_MAGIC1 0x01
#define GX_AVRO_SO_HEADER 10 /* magic (2) + fingerprint (8) */

/* CRC-64-AVRO (the Rabin fingerprint of the specification) of buf. */
uint64_t gx_avro_crc64(const void *buf, size_t len);

/*
 * Parsing Canonical Form of a schema given as JSON text.
 * On success *pcf is a new NUL-terminated string the caller frees.
 */
gx_err_t gx_avro_pcf(const char *schema_json, size_t len, char **pcf,
		     char *errstr, size_t errstr_size);

/* Fingerprint (CRC-64-AVRO of the Parsing Canonical Form) of schema JSON. */
gx_err_t gx_avro_fingerprint(const char *schema_json, size_t len,
			     uint64_t *fp, char *errstr, size_t errstr_size);

/*
 * Single-object encode: append header and the binary encoding of value
 * (which must be an instance of the schema whose fingerprint is fp) to out.
 */
gx_err_t gx_avro_so_encode(uint64_t fp, avro_value_t *value, gx_buf_t *out,
			   char *errstr, size_t errstr_size);

/*
 * Binary encoding written directly, for records whose layout the caller
 * knows (the sealer's ingest tail, gx_delivery_encode): the single-object
 * header for fingerprint fp; a long or int (zig-zag varint; also an enum's
 * index, a union's branch, an array block's count); bytes or a string
 * (its length, then the bytes).
 */
void gx_avro_put_header(gx_buf_t *out, uint64_t fp);
void gx_avro_put_long(gx_buf_t *out, int64_t v);
void gx_avro_put_bytes(gx_buf_t *out, const void *p, size_t n);

/* Read the fingerprint from a single-object header; GX_ERR_INVALID if the
 * message is too short or the magic is wrong. */
gx_err_t gx_avro_so_fingerprint(const void *msg, size_t len, uint64_t *fp,
				char *errstr, size_t errstr_size);

/*
 * Decode the body of a single-object message into value (an instance of the
 * writer schema; the caller has matched the fingerprint). Refuses, without
 * reading, bodies whose length prefixes run past the end of the message
 * (Avro C leaks on truncated strings), and trailing garbage.
 */
gx_err_t gx_avro_so_decode(const void *msg, size_t len, avro_value_t *value,
			   char *errstr, size_t errstr_size);

#endif /* GX_AVRO_H */
