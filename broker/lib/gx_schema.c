/*
 * gx_schema.c - built-in library schemas, the derived ingest and delivery
 * schemas, and conversion between source text, Avro values and JSON.
 */
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_schema.h"
#include "gx_validate.h"

/* The payload schemas, pulled in by gx_schemas_blob.S. */
extern const char gx_schema_population_avsc[];
extern const char gx_schema_legal_entity_avsc[];
extern const char gx_schema_public_credit_avsc[];
extern const char gx_schema_macroeconomy_avsc[];
extern const char gx_schema_geospatial_avsc[];
extern const char gx_schema_e_licence_avsc[];

/* The six base libraries of art. 9, in its order. */
static const struct {
	const char *name;
	const char *avsc;
} builtin[] = {
    {"population", gx_schema_population_avsc},
    {"legal_entity", gx_schema_legal_entity_avsc},
    {"public_credit", gx_schema_public_credit_avsc},
    {"macroeconomy", gx_schema_macroeconomy_avsc},
    {"geospatial", gx_schema_geospatial_avsc},
    {"e_licence", gx_schema_e_licence_avsc},
};

struct gx_schemas {
	gx_library_t libs[GX_ARRAY_SIZE(builtin)];
	size_t n;
};

/* The seal fields an ingest record and a delivery's proof share. */
#define SEAL_PROOF_TAIL                                                      \
	"{\"name\":\"batch_id\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}}," \
	"{\"name\":\"index\",\"type\":\"long\","                            \
	"\"doc\":\"the record's index in its sealed batch\"},"                  \
	"{\"name\":\"path\",\"type\":{\"type\":\"array\",\"items\":\"bytes\"},"   \
	"\"doc\":\"audit path to the batch root, bottom up (RFC 6962)\"},"      \
	"{\"name\":\"seal\",\"type\":\"string\","                             \
	"\"doc\":\"the batch's signed seal, JSON as on govex.seals\"}"

/* The last field of an ingest record. */
static const char seal_proof_json[] =
    "{\"name\":\"seal\",\"type\":{\"type\":\"record\",\"name\":\"SealProof\","
    "\"namespace\":\"govex\",\"doc\":\"The provider's seal over this record "
    "(DESIGN Integrity)\",\"fields\":["
    "{\"name\":\"secret\",\"type\":\"bytes\",\"doc\":\"32 random bytes; a "
    "field's salt is HMAC(secret, field name)\"},"
    SEAL_PROOF_TAIL
    "]}}";


/* The provenance record every delivery carries (art. 18). */
static const char provenance_json[] =
    "{\"type\":\"record\",\"name\":\"Provenance\",\"namespace\":\"govex\","
    "\"doc\":\"Where a released record came from and under which grant "
    "(art. 18)\",\"fields\":["
    "{\"name\":\"record_id\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
    "{\"name\":\"provider\",\"type\":\"string\"},"
    "{\"name\":\"item\",\"type\":\"string\"},"
    "{\"name\":\"collected_at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"released_at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"grant_id\",\"type\":\"string\"},"
    "{\"name\":\"consumer\",\"type\":\"string\"},"
    "{\"name\":\"withheld\",\"type\":{\"type\":\"array\",\"items\":\"string\"},"
    "\"doc\":\"names of payload fields withheld from this consumer\"},"
    "{\"name\":\"op\",\"type\":{\"type\":\"enum\",\"name\":\"Operation\","
    "\"namespace\":\"govex\",\"symbols\":[\"UPSERT\",\"DELETE\"]},"
    "\"doc\":\"what the provider did: the record is new or changed, or deleted\"},"
    "{\"name\":\"proof\",\"type\":{\"type\":\"record\",\"name\":\"Proof\","
    "\"doc\":\"What proves each released value came from the provider unchanged "
    "(DESIGN Integrity; govexctl verify)\",\"fields\":["
    "{\"name\":\"fields\",\"type\":{\"type\":\"array\",\"items\":{"
    "\"type\":\"record\",\"name\":\"FieldProof\",\"fields\":["
    "{\"name\":\"name\",\"type\":\"string\"},"
    "{\"name\":\"salt\",\"type\":[\"null\",\"bytes\"],"
    "\"doc\":\"a released field's salt\"},"
    "{\"name\":\"leaf\",\"type\":[\"null\",\"bytes\"],"
    "\"doc\":\"a withheld field's leaf\"}]}},"
    "\"doc\":\"every payload field, in payload order\"},"
    SEAL_PROOF_TAIL
    "]}}]}";

static const char envelope_fields_json[] =
    "["
    "{\"name\":\"record_id\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
    "{\"name\":\"provider\",\"type\":\"string\",\"doc\":\"provider agency code\"},"
    "{\"name\":\"item\",\"type\":\"string\",\"doc\":\"catalogue item id\"},"
    "{\"name\":\"collected_at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"op\",\"type\":{\"type\":\"enum\",\"name\":\"Operation\","
    "\"namespace\":\"govex\",\"symbols\":[\"UPSERT\",\"DELETE\"]}},"
    "{\"name\":\"source\",\"type\":\"string\","
    "\"doc\":\"position in the provider's source: file:line or table:key\"}"
    "]";

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		abort(); /* only on allocation failure */
	char *r = gx_strdup(s);
	free(s);
	return r;
}

/* Make a field type nullable for the consumer view. */
static json_t *nullable(json_t *type)
{
	if (json_is_array(type)) {
		json_t *first = json_array_get(type, 0);
		if (json_is_string(first) && !strcmp(json_string_value(first), "null"))
			return json_deep_copy(type);
		json_t *u = json_array();
		json_array_append_new(u, json_string("null"));
		size_t i;
		json_t *b;
		json_array_foreach(type, i, b) {
			if (!(json_is_string(b) && !strcmp(json_string_value(b), "null")))
				json_array_append_new(u, json_deep_copy(b));
		}
		return u;
	}
	json_t *u = json_array();
	json_array_append_new(u, json_string("null"));
	json_array_append_new(u, json_deep_copy(type));
	return u;
}

static gx_err_t parse_field(gx_field_t *f, json_t *jf, size_t index,
			    const char *lib, char *errstr, size_t errstr_size)
{
	const char *name = json_string_value(json_object_get(jf, "name"));
	json_t *type = json_object_get(jf, "type");
	if (!name || !type)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "%s.avsc: field %zu has no name or type", lib,
				 index);
	f->name = gx_strdup(name);
	f->index = index;
	const char *check = json_string_value(json_object_get(jf, "gx.check"));
	f->check = check ? gx_strdup(check) : NULL;
	if (json_is_array(type)) {
		/* Only ["null", T] unions are allowed in payloads. */
		if (json_array_size(type) != 2 ||
		    strcmp(json_string_value(json_array_get(type, 0)) ?: "", "null"))
			return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
					 "%s.avsc: field %s: only [\"null\", T] "
					 "unions are supported",
					 lib, name);
		f->nullable = 1;
		type = json_array_get(type, 1);
	}
	const char *logical = NULL;
	const char *tname = json_string_value(type);
	if (json_is_object(type)) {
		tname = json_string_value(json_object_get(type, "type"));
		logical = json_string_value(json_object_get(type, "logicalType"));
	}
	if (!tname)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "%s.avsc: field %s: unsupported type", lib,
				 name);
	if (!strcmp(tname, "string"))
		f->type = GX_FT_STRING;
	else if (!strcmp(tname, "int"))
		f->type = GX_FT_INT;
	else if (!strcmp(tname, "long"))
		f->type = GX_FT_LONG;
	else if (!strcmp(tname, "double"))
		f->type = GX_FT_DOUBLE;
	else if (!strcmp(tname, "boolean"))
		f->type = GX_FT_BOOLEAN;
	else if (!strcmp(tname, "bytes")) {
		f->type = GX_FT_BYTES;
		if (logical && !strcmp(logical, "decimal")) {
			/* Up to 38 digits: the unscaled value fits 16 bytes. */
			json_t *jp = json_object_get(type, "precision");
			json_t *js = json_object_get(type, "scale");
			f->logical = GX_LT_DECIMAL;
			f->precision = (int)json_integer_value(jp);
			f->scale = js ? (int)json_integer_value(js) : 0;
			if (!json_is_integer(jp) || (js && !json_is_integer(js)) ||
			    json_integer_value(jp) < 1 ||
			    json_integer_value(jp) > 38 ||
			    json_integer_value(js) < 0 ||
			    json_integer_value(js) > json_integer_value(jp))
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_AVRO,
						 "%s.avsc: field %s: a decimal "
						 "needs precision 1..38 and "
						 "scale 0..precision",
						 lib, name);
		}
	} else if (!strcmp(tname, "enum")) {
		json_t *syms = json_object_get(type, "symbols");
		f->type = GX_FT_ENUM;
		f->nsymbols = json_array_size(syms);
		f->symbols = gx_calloc(f->nsymbols, sizeof(char *));
		for (size_t i = 0; i < f->nsymbols; i++)
			f->symbols[i] = gx_strdup(
			    json_string_value(json_array_get(syms, i)) ?: "");
	} else
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "%s.avsc: field %s: unsupported type %s", lib,
				 name, tname);
	if (logical && !strcmp(logical, "date") && f->type == GX_FT_INT)
		f->logical = GX_LT_DATE;
	else if (logical && !strcmp(logical, "timestamp-millis") &&
		 f->type == GX_FT_LONG)
		f->logical = GX_LT_TIMESTAMP_MS;

	/* A rule that is unknown or cannot apply to the field's type would
	 * only show when the first value arrives: refuse the schema now. */
	if (f->check) {
		unsigned want = 0;
		if (f->type == GX_FT_STRING)
			want = GX_RULE_TEXT;
		else if (f->logical == GX_LT_DATE)
			want = GX_RULE_DATE;
		else if (f->logical == GX_LT_DECIMAL)
			want = GX_RULE_DECIMAL;
		else if ((f->type == GX_FT_INT || f->type == GX_FT_LONG) &&
			 f->logical == GX_LT_NONE)
			want = GX_RULE_INT;
		if (!(gx_rule_applies(f->check) & want))
			return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
					 "%s.avsc: field %s: gx.check rule '%s' "
					 "is unknown or does not apply to its "
					 "type",
					 lib, name, f->check);
	}
	return GX_OK;
}

static gx_err_t make_schema(const char *json, avro_schema_t *schema,
			    avro_value_iface_t **iface, uint64_t *fp,
			    const char *what, char *errstr, size_t errstr_size)
{
	char err[256];
	if (avro_schema_from_json_length(json, strlen(json), schema))
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "%s schema: %s", what, avro_strerror());
	*iface = avro_generic_class_from_schema(*schema);
	if (!*iface)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "%s schema: %s", what, avro_strerror());
	if (gx_avro_fingerprint(json, strlen(json), fp, err, sizeof(err)))
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "%s schema: %s", what, err);
	return GX_OK;
}

static gx_err_t load_library(gx_library_t *lib, const char *name,
			     const char *avsc, char *errstr,
			     size_t errstr_size)
{
	json_error_t jerr;
	char what[64];
	gx_err_t err = GX_OK;
	lib->name = name;
	lib->payload_json = gx_strdup(avsc);
	json_t *payload = json_loads(avsc, 0, &jerr);
	if (!payload)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "%s.avsc:%d: %s", name, jerr.line, jerr.text);
	const char *ns = json_string_value(json_object_get(payload, "namespace"));
	const char *rname = json_string_value(json_object_get(payload, "name"));
	json_t *fields = json_object_get(payload, "fields");
	if (!ns || !rname || !json_is_array(fields)) {
		json_decref(payload);
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "%s.avsc: a record with name, namespace and "
				 "fields is required",
				 name);
	}

	lib->nfields = json_array_size(fields);
	lib->fields = gx_calloc(lib->nfields, sizeof(gx_field_t));
	for (size_t i = 0; i < lib->nfields && !err; i++)
		err = parse_field(&lib->fields[i], json_array_get(fields, i), i,
				  name, errstr, errstr_size);
	const char *subject =
	    json_string_value(json_object_get(payload, "gx.subject"));
	if (!err && (!subject || !(lib->subject = gx_library_field(lib, subject))))
		err = gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				"%s.avsc: gx.subject must name a field", name);

	if (!err) {
		/* ingest: envelope fields + payload */
		json_t *ing = json_object();
		json_object_set_new(ing, "type", json_string("record"));
		json_object_set_new(ing, "name", json_string("Ingest"));
		json_object_set_new(ing, "namespace", json_string(ns));
		json_object_set_new(ing, "doc",
				    json_string("A provider's record as published to govex.ingest"));
		json_t *ef = json_loads(envelope_fields_json, 0, &jerr);
		json_t *pf = json_object();
		json_object_set_new(pf, "name", json_string("payload"));
		json_object_set(pf, "type", payload);
		json_array_append_new(ef, pf);
		json_array_append_new(ef, json_loads(seal_proof_json, 0, &jerr));
		json_object_set_new(ing, "fields", ef);
		lib->ingest_json = dump(ing);
		json_decref(ing);

		/* delivery: consumer view (all nullable) + provenance */
		json_t *view = json_deep_copy(payload);
		char *vname = gx_asprintf("%sView", rname);
		json_object_set_new(view, "name", json_string(vname));
		free(vname);
		json_object_set_new(view, "doc",
				    json_string("Consumer view: withheld fields are null and named in provenance.withheld"));
		json_object_del(view, "gx.subject");
		size_t i;
		json_t *vf;
		json_array_foreach(json_object_get(view, "fields"), i, vf) {
			json_object_set_new(vf, "type",
					    nullable(json_object_get(vf, "type")));
			json_object_set_new(vf, "default", json_null());
			json_object_del(vf, "gx.check");
		}
		json_t *del = json_object();
		json_object_set_new(del, "type", json_string("record"));
		json_object_set_new(del, "name", json_string("Delivery"));
		json_object_set_new(del, "namespace", json_string(ns));
		json_object_set_new(del, "doc",
				    json_string("A record as released to a consumer agency on govex.deliver"));
		json_t *df = json_array();
		json_t *f1 = json_object();
		json_object_set_new(f1, "name", json_string("payload"));
		json_object_set_new(f1, "type", view);
		json_array_append_new(df, f1);
		json_t *f2 = json_object();
		json_object_set_new(f2, "name", json_string("provenance"));
		json_object_set_new(f2, "type", json_loads(provenance_json, 0, &jerr));
		json_array_append_new(df, f2);
		json_object_set_new(del, "fields", df);
		lib->delivery_json = dump(del);
		json_decref(del);
	}
	json_decref(payload);

	if (!err) {
		snprintf(what, sizeof(what), "%s ingest", name);
		err = make_schema(lib->ingest_json, &lib->ingest_schema,
				  &lib->ingest_iface, &lib->ingest_fp, what,
				  errstr, errstr_size);
	}
	if (!err) {
		snprintf(what, sizeof(what), "%s delivery", name);
		err = make_schema(lib->delivery_json, &lib->delivery_schema,
				  &lib->delivery_iface, &lib->delivery_fp, what,
				  errstr, errstr_size);
	}
	return err;
}

static void free_library(gx_library_t *lib)
{
	for (size_t i = 0; i < lib->nfields; i++) {
		gx_field_t *f = &lib->fields[i];
		free(f->name);
		free(f->check);
		for (size_t j = 0; j < f->nsymbols; j++)
			free(f->symbols[j]);
		free(f->symbols);
	}
	free(lib->fields);
	if (lib->ingest_iface)
		avro_value_iface_decref(lib->ingest_iface);
	if (lib->delivery_iface)
		avro_value_iface_decref(lib->delivery_iface);
	if (lib->ingest_schema)
		avro_schema_decref(lib->ingest_schema);
	if (lib->delivery_schema)
		avro_schema_decref(lib->delivery_schema);
	free(lib->payload_json);
	free(lib->ingest_json);
	free(lib->delivery_json);
}

gx_err_t gx_schemas_new(gx_schemas_t **out, char *errstr, size_t errstr_size)
{
	gx_schemas_t *s = gx_calloc(1, sizeof(*s));
	for (size_t i = 0; i < GX_ARRAY_SIZE(builtin); i++) {
		s->n++;
		gx_err_t err = load_library(&s->libs[i], builtin[i].name,
					    builtin[i].avsc, errstr,
					    errstr_size);
		if (err) {
			gx_schemas_destroy(s);
			return err;
		}
	}
	*out = s;
	return GX_OK;
}

void gx_schemas_destroy(gx_schemas_t *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free_library(&s->libs[i]);
	free(s);
}

size_t gx_schemas_count(const gx_schemas_t *s)
{
	return s->n;
}

const gx_library_t *gx_schemas_at(const gx_schemas_t *s, size_t i)
{
	return i < s->n ? &s->libs[i] : NULL;
}

const gx_library_t *gx_schemas_library(const gx_schemas_t *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->libs[i].name, name))
			return &s->libs[i];
	return NULL;
}

const gx_library_t *gx_schemas_by_fp(const gx_schemas_t *s, uint64_t fp,
				     gx_view_t *view)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->libs[i].ingest_fp == fp) {
			if (view)
				*view = GX_VIEW_INGEST;
			return &s->libs[i];
		}
		if (s->libs[i].delivery_fp == fp) {
			if (view)
				*view = GX_VIEW_DELIVERY;
			return &s->libs[i];
		}
	}
	return NULL;
}

const gx_field_t *gx_library_field(const gx_library_t *lib, const char *name)
{
	for (size_t i = 0; i < lib->nfields; i++)
		if (!strcmp(lib->fields[i].name, name))
			return &lib->fields[i];
	return NULL;
}

/* For a nullable field, select the non-null branch (or null); returns the
 * value to set through *out. */
static int branch(const gx_field_t *f, avro_value_t *fv, int null,
		  avro_value_t *out)
{
	if (!f->nullable && avro_value_get_type(fv) != AVRO_UNION) {
		*out = *fv;
		return 0;
	}
	return avro_value_set_branch(fv, null ? 0 : 1, out);
}

/* ---- decimals: exact conversion between text and Avro decimal bytes ---- */

gx_err_t gx_decimal_from_text(const char *text, int precision, int scale,
			      gx_buf_t *out, int *negative, char *errstr,
			      size_t errstr_size)
{
	const char *p = text, *ip, *fp = "";
	size_t nint, nfrac = 0;
	int neg = 0;
	if (precision < 1 || precision > 38 || scale < 0 || scale > precision)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "decimal precision must be 1..38 and scale "
				 "0..precision");
	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (ip = p; *p >= '0' && *p <= '9'; p++)
		;
	nint = (size_t)(p - ip);
	if (*p == '.') {
		for (fp = ++p; *p >= '0' && *p <= '9'; p++)
			;
		nfrac = (size_t)(p - fp);
		if (!nfrac)
			nint = 0; /* "1." */
	}
	if (!nint || *p)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "not a decimal number (digits with an optional "
				 "'-' and '.')");
	if (nfrac > (size_t)scale)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "more than %d digits after the decimal point",
				 scale);
	while (nint > 1 && *ip == '0') {
		ip++;
		nint--;
	}
	if (nint == 1 && *ip == '0')
		nint = 0;
	if (nint > (size_t)(precision - scale))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "more than %d digits before the decimal point "
				 "(precision %d, scale %d)",
				 precision - scale, precision, scale);

	/* The unscaled magnitude, big-endian: at most 38 digits < 2^127. */
	unsigned char m[20] = {0};
	const size_t w = sizeof(m);
	int zero = 1;
	for (size_t i = 0; i < nint + (size_t)scale; i++) {
		unsigned d = i < nint		  ? (unsigned)(ip[i] - '0')
			     : i - nint < nfrac ? (unsigned)(fp[i - nint] - '0')
						  : 0;
		for (size_t k = w; k-- > 0;) {
			unsigned v = m[k] * 10u + d;
			m[k] = (unsigned char)(v & 0xFF);
			d = v >> 8;
		}
	}
	for (size_t k = 0; k < w; k++)
		zero &= !m[k];
	if (zero)
		neg = 0; /* -0 is 0 */
	if (neg) {
		unsigned carry = 1;
		for (size_t k = w; k-- > 0;) {
			unsigned v = (unsigned char)~m[k] + carry;
			m[k] = (unsigned char)v;
			carry = v >> 8;
		}
	}
	/* Minimal form: drop leading bytes that only repeat the sign. */
	size_t start = 0;
	while (start < w - 1 &&
	       ((m[start] == 0x00 && !(m[start + 1] & 0x80)) ||
		(m[start] == 0xFF && (m[start + 1] & 0x80))))
		start++;
	gx_buf_append(out, m + start, w - start);
	if (negative)
		*negative = neg;
	return GX_OK;
}

char *gx_decimal_to_text(const void *bytes, size_t len, int scale)
{
	size_t n = len ? len : 1;
	unsigned char *m = gx_calloc(n, 1);
	if (len)
		memcpy(m, bytes, len);
	int neg = (m[0] & 0x80) != 0;
	if (neg) {
		/* The magnitude, read as unsigned (-2^(8n-1) included). */
		unsigned carry = 1;
		for (size_t k = n; k-- > 0;) {
			unsigned v = (unsigned char)~m[k] + carry;
			m[k] = (unsigned char)v;
			carry = v >> 8;
		}
	}
	/* Decimal digits, least significant first, by long division. */
	char *dig = gx_malloc(n * 3 + (size_t)scale + 2);
	size_t nd = 0;
	int more;
	do {
		unsigned rem = 0;
		more = 0;
		for (size_t k = 0; k < n; k++) {
			unsigned v = rem * 256 + m[k];
			m[k] = (unsigned char)(v / 10);
			rem = v % 10;
			more |= m[k];
		}
		dig[nd++] = (char)('0' + rem);
	} while (more);
	while (nd <= (size_t)scale)
		dig[nd++] = '0';
	char *out = gx_malloc(nd + 3);
	char *o = out;
	if (neg)
		*o++ = '-';
	for (size_t i = nd; i-- > 0;) {
		*o++ = dig[i];
		if (i == (size_t)scale && scale)
			*o++ = '.';
	}
	*o = '\0';
	free(dig);
	free(m);
	return out;
}

/* ---- bytes as base64 (RFC 4648, padded), through OpenSSL ---- */

static gx_err_t base64_decode(const char *text, gx_buf_t *out, char *errstr,
			      size_t errstr_size)
{
	size_t n = strlen(text), pad = 0;
	int ok = n % 4 == 0 && n < INT_MAX;
	for (size_t i = 0; ok && i < n; i++) {
		char c = text[i];
		if (c == '=')
			ok = i >= n - 2 && ++pad;
		else
			ok = !pad && ((c >= 'A' && c <= 'Z') ||
				      (c >= 'a' && c <= 'z') ||
				      (c >= '0' && c <= '9') || c == '+' ||
				      c == '/');
	}
	if (!ok)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "not base64 (RFC 4648 with padding)");
	gx_buf_reserve(out, n / 4 * 3 + 1);
	int r = EVP_DecodeBlock((unsigned char *)out->data + out->len,
				(const unsigned char *)text, (int)n);
	if (r < 0 || (size_t)r < pad)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "not base64 (RFC 4648 with padding)");
	out->len += (size_t)r - pad;
	return GX_OK;
}

static char *base64_encode(const void *p, size_t n)
{
	char *out = gx_malloc((n + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

gx_err_t gx_field_set_text(const gx_field_t *f, avro_value_t *fv,
			   const char *text, int64_t now_ms, char *errstr,
			   size_t errstr_size)
{
	avro_value_t v;
	gx_err_t err;
	if (!*text) {
		if (!f->nullable)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s: required value is empty", f->name);
		if (branch(f, fv, 1, &v) || avro_value_set_null(&v))
			goto avro_fail;
		return GX_OK;
	}
	if (branch(f, fv, 0, &v))
		goto avro_fail;
	char why[200];
	switch (f->type) {
	case GX_FT_STRING:
		if (gx_utf8_len(text) < 0)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s: not valid UTF-8", f->name);
		if ((err = gx_check_text_rule(f->check, text, why, sizeof(why))))
			return gx_seterr(errstr, errstr_size, err, "%s: %s",
					 f->name, why);
		if (avro_value_set_string(&v, text))
			goto avro_fail;
		return GX_OK;
	case GX_FT_INT:
		if (f->logical == GX_LT_DATE) {
			int32_t days;
			if (gx_parse_date(text, &days))
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_INVALID,
						 "%s: invalid date, want YYYY-MM-DD",
						 f->name);
			if ((err = gx_check_date_rule(f->check, days, now_ms,
						      why, sizeof(why))))
				return gx_seterr(errstr, errstr_size, err,
						 "%s: %s", f->name, why);
			if (avro_value_set_int(&v, days))
				goto avro_fail;
			return GX_OK;
		} else {
			char *end;
			long long n = strtoll(text, &end, 10);
			if (*end || n < INT32_MIN || n > INT32_MAX)
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_INVALID,
						 "%s: not a 32-bit integer",
						 f->name);
			if ((err = gx_check_number_rule(f->check, n, why,
							sizeof(why))))
				return gx_seterr(errstr, errstr_size, err,
						 "%s: %s", f->name, why);
			if (avro_value_set_int(&v, (int32_t)n))
				goto avro_fail;
			return GX_OK;
		}
	case GX_FT_LONG:
		if (f->logical == GX_LT_TIMESTAMP_MS) {
			int64_t ms;
			if (gx_parse_time_ms(text, &ms))
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_INVALID,
						 "%s: invalid timestamp, want RFC 3339 "
						 "(YYYY-MM-DDTHH:MM:SSZ)",
						 f->name);
			if (avro_value_set_long(&v, ms))
				goto avro_fail;
			return GX_OK;
		} else {
			char *end;
			long long n = strtoll(text, &end, 10);
			if (*end)
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_INVALID,
						 "%s: not an integer", f->name);
			if ((err = gx_check_number_rule(f->check, n, why,
							sizeof(why))))
				return gx_seterr(errstr, errstr_size, err,
						 "%s: %s", f->name, why);
			if (avro_value_set_long(&v, n))
				goto avro_fail;
			return GX_OK;
		}
	case GX_FT_DOUBLE: {
		char *end;
		double d = strtod(text, &end);
		if (*end)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s: not a number", f->name);
		if (avro_value_set_double(&v, d))
			goto avro_fail;
		return GX_OK;
	}
	case GX_FT_BOOLEAN: {
		int b;
		if (!strcmp(text, "true") || !strcmp(text, "1"))
			b = 1;
		else if (!strcmp(text, "false") || !strcmp(text, "0"))
			b = 0;
		else
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s: not true or false", f->name);
		if (avro_value_set_boolean(&v, b))
			goto avro_fail;
		return GX_OK;
	}
	case GX_FT_ENUM:
		for (size_t i = 0; i < f->nsymbols; i++)
			if (!strcmp(f->symbols[i], text)) {
				if (avro_value_set_enum(&v, (int)i))
					goto avro_fail;
				return GX_OK;
			}
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "%s: not one of the allowed values", f->name);
	case GX_FT_BYTES: {
		gx_buf_t b;
		int neg = 0;
		gx_buf_init(&b);
		if (f->logical == GX_LT_DECIMAL) {
			err = gx_decimal_from_text(text, f->precision, f->scale,
						   &b, &neg, why, sizeof(why));
			if (!err)
				err = gx_check_number_rule(f->check, neg ? -1 : 0,
							   why, sizeof(why));
		} else {
			err = base64_decode(text, &b, why, sizeof(why));
		}
		if (err) {
			gx_buf_free(&b);
			return gx_seterr(errstr, errstr_size, err, "%s: %s",
					 f->name, why);
		}
		int rc = avro_value_set_bytes(&v, b.len ? b.data : (void *)"",
					      b.len);
		gx_buf_free(&b);
		if (rc)
			goto avro_fail;
		return GX_OK;
	}
	}
avro_fail:
	return gx_seterr(errstr, errstr_size, GX_ERR_AVRO, "%s: %s", f->name,
			 avro_strerror());
}

json_t *gx_field_to_json(const gx_field_t *f, avro_value_t *fv)
{
	avro_value_t v = *fv;
	char buf[40];
	if (avro_value_get_type(fv) == AVRO_UNION) {
		if (avro_value_get_current_branch(fv, &v))
			return json_null();
	}
	if (avro_value_get_type(&v) == AVRO_NULL)
		return json_null();
	if (f->logical == GX_LT_DATE) {
		int32_t d;
		avro_value_get_int(&v, &d);
		gx_fmt_date(d, buf, sizeof(buf));
		return json_string(buf);
	}
	if (f->logical == GX_LT_TIMESTAMP_MS) {
		int64_t ms;
		avro_value_get_long(&v, &ms);
		gx_fmt_time_ms(ms, buf, sizeof(buf));
		return json_string(buf);
	}
	if (f->type == GX_FT_BYTES && avro_value_get_type(&v) == AVRO_BYTES) {
		const void *p;
		size_t n;
		char *text;
		avro_value_get_bytes(&v, &p, &n);
		text = f->logical == GX_LT_DECIMAL
			   ? gx_decimal_to_text(p, n, f->scale)
			   : base64_encode(p, n);
		json_t *j = json_string(text);
		free(text);
		return j;
	}
	return gx_avro_to_json(&v);
}

json_t *gx_avro_to_json(avro_value_t *v)
{
	switch (avro_value_get_type(v)) {
	case AVRO_STRING: {
		const char *s;
		size_t n;
		avro_value_get_string(v, &s, &n);
		return json_stringn(s, n ? n - 1 : 0);
	}
	case AVRO_BYTES: {
		const void *p;
		size_t n;
		avro_value_get_bytes(v, &p, &n);
		char *hex = gx_malloc(n * 2 + 1);
		for (size_t i = 0; i < n; i++)
			sprintf(hex + 2 * i, "%02x", ((const unsigned char *)p)[i]);
		hex[2 * n] = '\0';
		json_t *j = json_string(hex);
		free(hex);
		return j;
	}
	case AVRO_INT32: {
		int32_t i;
		avro_value_get_int(v, &i);
		return json_integer(i);
	}
	case AVRO_INT64: {
		int64_t l;
		avro_value_get_long(v, &l);
		return json_integer(l);
	}
	case AVRO_FLOAT: {
		float fl;
		avro_value_get_float(v, &fl);
		return json_real(fl);
	}
	case AVRO_DOUBLE: {
		double d;
		avro_value_get_double(v, &d);
		return json_real(d);
	}
	case AVRO_BOOLEAN: {
		int b;
		avro_value_get_boolean(v, &b);
		return json_boolean(b);
	}
	case AVRO_NULL:
		return json_null();
	case AVRO_ENUM: {
		int e;
		avro_value_get_enum(v, &e);
		avro_schema_t sch = avro_value_get_schema(v);
		const char *sym = avro_schema_enum_get(sch, e);
		return sym ? json_string(sym) : json_integer(e);
	}
	case AVRO_UNION: {
		avro_value_t b;
		if (avro_value_get_current_branch(v, &b))
			return json_null();
		return gx_avro_to_json(&b);
	}
	case AVRO_RECORD: {
		json_t *o = json_object();
		size_t n = 0;
		avro_value_get_size(v, &n);
		for (size_t i = 0; i < n; i++) {
			avro_value_t fv;
			const char *name;
			if (avro_value_get_by_index(v, i, &fv, &name))
				continue;
			json_object_set_new(o, name, gx_avro_to_json(&fv));
		}
		return o;
	}
	case AVRO_ARRAY: {
		json_t *a = json_array();
		size_t n = 0;
		avro_value_get_size(v, &n);
		for (size_t i = 0; i < n; i++) {
			avro_value_t ev;
			if (!avro_value_get_by_index(v, i, &ev, NULL))
				json_array_append_new(a, gx_avro_to_json(&ev));
		}
		return a;
	}
	case AVRO_MAP: {
		json_t *o = json_object();
		size_t n = 0;
		avro_value_get_size(v, &n);
		for (size_t i = 0; i < n; i++) {
			avro_value_t ev;
			const char *k;
			if (!avro_value_get_by_index(v, i, &ev, &k))
				json_object_set_new(o, k, gx_avro_to_json(&ev));
		}
		return o;
	}
	case AVRO_FIXED: {
		const void *p;
		size_t n;
		avro_value_get_fixed(v, &p, &n);
		char *hex = gx_malloc(n * 2 + 1);
		for (size_t i = 0; i < n; i++)
			sprintf(hex + 2 * i, "%02x", ((const unsigned char *)p)[i]);
		hex[2 * n] = '\0';
		json_t *j = json_string(hex);
		free(hex);
		return j;
	}
	default:
		return json_null();
	}
}
