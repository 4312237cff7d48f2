/*
 * gx_schema.h - the base resource libraries and their Avro schemas.
 *
 * Each library (population, ...) has one payload schema in schemas/<lib>.avsc,
 * built into the library at compile time. From it two wire schemas are
 * derived, so the payload is defined once:
 *   ingest   govex.<lib>.Ingest:   envelope (record id, provider, item,
 *            collected at, operation, source position) + the payload;
 *   delivery govex.<lib>.Delivery: the consumer view of the payload (every
 *            field nullable: withheld fields are null) + provenance
 *            (art. 18: record id, provider, item, collected at, released at,
 *            grant id, consumer, withheld field names).
 * Field-level metadata (type, logical type, nullability, the gx.check
 * validation rule) is read from the payload schema into gx_field_t.
 *
 * Avro C in Debian is not built thread-safe: a gx_schemas_t and the values
 * made from it belong to one thread.
 */
#ifndef GX_SCHEMA_H
#define GX_SCHEMA_H

#include <avro.h>
#include <jansson.h>
#include <stdint.h>

#include "gx.h"

typedef enum {
	GX_FT_STRING,
	GX_FT_INT,
	GX_FT_LONG,
	GX_FT_DOUBLE,
	GX_FT_BOOLEAN,
	GX_FT_ENUM,
	GX_FT_BYTES
} gx_ftype_t;

typedef enum {
	GX_LT_NONE,
	GX_LT_DATE,		/* int: days since the epoch */
	GX_LT_TIMESTAMP_MS,	/* long: ms since the epoch, UTC */
	GX_LT_DECIMAL		/* bytes: big-endian two's-complement unscaled
				 * integer; precision and scale in gx_field_t */
} gx_ltype_t;

typedef struct gx_field {
	char *name;
	gx_ftype_t type;
	gx_ltype_t logical;
	int nullable;		/* ["null", T] in the payload schema */
	char **symbols;		/* GX_FT_ENUM */
	size_t nsymbols;
	char *check;		/* "gx.check" rule, or NULL */
	size_t index;		/* position in the payload record */
	int precision;		/* GX_LT_DECIMAL: digits in all (1..38) */
	int scale;		/* GX_LT_DECIMAL: digits after the point */
} gx_field_t;

/* Which of a library's wire schemas a fingerprint names. */
typedef enum { GX_VIEW_INGEST, GX_VIEW_DELIVERY } gx_view_t;

typedef struct gx_library {
	const char *name;		/* "population" */
	char *payload_json;		/* schemas/<lib>.avsc as text */
	char *ingest_json;		/* derived, canonical key order */
	char *delivery_json;
	avro_schema_t ingest_schema, delivery_schema;
	avro_value_iface_t *ingest_iface, *delivery_iface;
	uint64_t ingest_fp, delivery_fp;
	gx_field_t *fields;
	size_t nfields;
	const gx_field_t *subject;	/* "gx.subject": the record's key field */
} gx_library_t;

typedef struct gx_schemas gx_schemas_t;

/* Load every built-in library and derive its schemas. */
gx_err_t gx_schemas_new(gx_schemas_t **out, char *errstr, size_t errstr_size);
void gx_schemas_destroy(gx_schemas_t *s);

size_t gx_schemas_count(const gx_schemas_t *s);
const gx_library_t *gx_schemas_at(const gx_schemas_t *s, size_t i);
/* The library called name, or NULL. */
const gx_library_t *gx_schemas_library(const gx_schemas_t *s, const char *name);
/* The library with an ingest or delivery schema of fingerprint fp, or NULL. */
const gx_library_t *gx_schemas_by_fp(const gx_schemas_t *s, uint64_t fp,
				     gx_view_t *view);
/* The field called name in lib, or NULL. */
const gx_field_t *gx_library_field(const gx_library_t *lib, const char *name);

/*
 * Set a payload field (fv is the field's value in the payload record) from
 * source text: empty text is null for a nullable field and an error
 * otherwise; dates are YYYY-MM-DD, timestamps RFC 3339; enum text is a
 * symbol. The field's gx.check rule is applied (see gx_validate.h).
 * On failure errstr says why, without repeating the value when the field
 * may carry personal data.
 */
gx_err_t gx_field_set_text(const gx_field_t *f, avro_value_t *fv,
			   const char *text, int64_t now_ms, char *errstr,
			   size_t errstr_size);

/*
 * Convert a payload field's Avro value (a union branch is followed) to JSON:
 * dates as "YYYY-MM-DD", timestamps as RFC 3339 strings, null as null.
 */
json_t *gx_field_to_json(const gx_field_t *f, avro_value_t *fv);

/*
 * Text forms beyond those above: a decimal (bytes, logicalType decimal) is
 * written "-12345.67": an optional '-', digits, and at most scale digits
 * after a '.'; it is converted exactly (no floating point) and refused when
 * it has more fraction digits than the scale or more digits than the
 * precision; gx_field_to_json renders it as a string with exactly scale
 * fraction digits. Other bytes are base64 (RFC 4648, padded) both ways.
 */

/* Parse decimal text into Avro decimal bytes (minimal big-endian two's
 * complement of the unscaled value), appended to out; *negative tells the
 * sign (-0 is 0). Errors never repeat the text. */
gx_err_t gx_decimal_from_text(const char *text, int precision, int scale,
			      gx_buf_t *out, int *negative, char *errstr,
			      size_t errstr_size);
/* Render Avro decimal bytes with scale fraction digits ("-0.05"); a new
 * string the caller frees. Empty bytes read as 0. */
char *gx_decimal_to_text(const void *bytes, size_t len, int scale);

/* Convert a whole Avro value to JSON generically (records as objects,
 * unions as their branch, enums as symbols, bytes as hex). */
json_t *gx_avro_to_json(avro_value_t *v);

#endif /* GX_SCHEMA_H */
