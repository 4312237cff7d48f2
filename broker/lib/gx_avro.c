/*
 * gx_avro.c - Avro schema fingerprints and single-object encoding.
 *
 * Every value on a govex topic is an Avro single-object message: the two
 * magic bytes C3 01, the CRC-64-AVRO fingerprint of the writer schema's
 * Parsing Canonical Form (8 bytes, little-endian), then the Avro binary
 * body. This module computes the canonical form and the fingerprint from
 * schema JSON (Avro C 1.11 has neither), and frames and unframes bodies.
 *
 * Decoding never hands Avro C bytes it has not checked: Debian's Avro C
 * 1.11.1 leaks the buffer when a string runs past the end of its input and
 * trusts lengths, counts and indexes it reads. So the body is first walked
 * against the value's schema by a bounds-checking validator (varint sizes,
 * lengths, block counts and sizes, union and enum indexes, fixed sizes,
 * booleans, nesting depth) that also refuses trailing bytes; only a body
 * that passes is given to avro_value_read().
 *
 * References: Avro specification, "Parsing Canonical Form for Schemas",
 * "Schema Fingerprints", "Single-object encoding" and "Binary Encoding".
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gx_avro.h"

/* ------------------------------------------------------------------ */
/* CRC-64-AVRO                                                         */
/* ------------------------------------------------------------------ */

/* The spec's EMPTY: the fingerprint of no bytes, also the polynomial. */
#define GX_CRC64_EMPTY UINT64_C(0xc15d213aa4d7a795)

static uint64_t crc64_table[256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

/* Fill the byte table: each entry is eight one-bit steps of the CRC. */
static void crc64_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint64_t fp = i;
		for (int j = 0; j < 8; j++)
			fp = (fp >> 1) ^ (GX_CRC64_EMPTY & (0 - (fp & 1)));
		crc64_table[i] = fp;
	}
}

/* CRC-64-AVRO of buf; never fails (len 0 gives EMPTY). */
uint64_t gx_avro_crc64(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t fp = GX_CRC64_EMPTY;

	pthread_once(&crc64_once, crc64_init);
	for (size_t i = 0; i < len; i++)
		fp = (fp >> 8) ^ crc64_table[(fp ^ p[i]) & 0xff];
	return fp;
}

/* ------------------------------------------------------------------ */
/* Parsing Canonical Form                                              */
/* ------------------------------------------------------------------ */

static const char *const primitive_names[] = {
    "null", "boolean", "int", "long", "float", "double", "bytes", "string",
};

typedef struct pcf {
	gx_buf_t out;
	gx_strv_t names; /* fullnames of the named types defined so far */
	char *errstr;
	size_t errstr_size;
} pcf_t;

static gx_err_t pcf_schema(pcf_t *c, json_t *j, const char *ns);

/* 1 if s is one of the eight primitive type names. */
static int is_primitive(const char *s)
{
	for (size_t i = 0; i < GX_ARRAY_SIZE(primitive_names); i++)
		if (strcmp(s, primitive_names[i]) == 0)
			return 1;
	return 0;
}

/* 1 if s[0..n) is a valid Avro name: [A-Za-z_][A-Za-z0-9_]*. */
static int valid_name_n(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			    ch == '_';
		if (!alpha && (i == 0 || ch < '0' || ch > '9'))
			return 0;
	}
	return 1;
}

/* 1 if s is a valid simple name. */
static int valid_name(const char *s)
{
	return valid_name_n(s, strlen(s));
}

/* 1 if s is a dot-separated sequence of valid names. */
static int valid_fullname(const char *s)
{
	for (;;) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		if (!valid_name_n(s, n))
			return 0;
		if (!dot)
			return 1;
		s = dot + 1;
	}
}

/* Append s as a JSON string literal: UTF-8 kept as is ([STRINGS]), only
 * the quote, the backslash and control characters escaped. */
static void emit_string(gx_buf_t *b, const char *s)
{
	gx_buf_putc(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '"': gx_buf_append(b, "\\\"", 2); break;
		case '\\': gx_buf_append(b, "\\\\", 2); break;
		case '\b': gx_buf_append(b, "\\b", 2); break;
		case '\f': gx_buf_append(b, "\\f", 2); break;
		case '\n': gx_buf_append(b, "\\n", 2); break;
		case '\r': gx_buf_append(b, "\\r", 2); break;
		case '\t': gx_buf_append(b, "\\t", 2); break;
		default:
			if (ch < 0x20)
				gx_buf_printf(b, "\\u%04x", ch);
			else
				gx_buf_putc(b, (char)ch);
		}
	}
	gx_buf_putc(b, '"');
}

/* Append a name reference: the fullname of a type defined earlier.
 * A short name is looked up in the namespace in effect, then in the null
 * namespace (as Avro Java does); GX_ERR_AVRO if neither defines it. */
static gx_err_t pcf_reference(pcf_t *c, const char *name, const char *ns)
{
	if (is_primitive(name)) {
		emit_string(&c->out, name);
		return GX_OK;
	}
	if (!valid_fullname(name))
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: \"%s\" is not a type name", name);
	if (!strchr(name, '.') && ns[0]) {
		char *full = gx_asprintf("%s.%s", ns, name);
		int found = gx_strv_contains(&c->names, full);
		if (found)
			emit_string(&c->out, full);
		free(full);
		if (found)
			return GX_OK;
	}
	if (!gx_strv_contains(&c->names, name))
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: unknown type \"%s\"%s%s%s", name,
				 ns[0] ? " (namespace \"" : "", ns,
				 ns[0] ? "\")" : "");
	emit_string(&c->out, name);
	return GX_OK;
}

/*
 * Work out and register the fullname of the named type j ([FULLNAMES]):
 * a name with a dot is already full; otherwise its "namespace" attribute,
 * if any, else the enclosing namespace ns, applies; "" is the null
 * namespace. *full and *space (the namespace for types nested inside) are
 * new strings the caller frees. GX_ERR_AVRO on a bad or duplicate name.
 */
static gx_err_t pcf_define(pcf_t *c, json_t *j, const char *ns, char **full,
			   char **space)
{
	json_t *jname = json_object_get(j, "name");
	json_t *jns = json_object_get(j, "namespace");
	const char *name, *dot;

	if (!json_is_string(jname))
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: named type without a string \"name\"");
	name = json_string_value(jname);
	if (!valid_fullname(name))
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: invalid type name \"%s\"", name);
	if (strchr(name, '.')) {
		*full = gx_strdup(name);
	} else {
		const char *use = ns;
		if (json_is_string(jns)) {
			use = json_string_value(jns);
			if (use[0] && !valid_fullname(use))
				return gx_seterr(c->errstr, c->errstr_size,
						 GX_ERR_AVRO,
						 "schema: invalid namespace "
						 "\"%s\" of \"%s\"", use, name);
		} else if (jns && !json_is_null(jns)) {
			return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
					 "schema: \"namespace\" of \"%s\" is "
					 "not a string", name);
		}
		*full = use[0] ? gx_asprintf("%s.%s", use, name)
			       : gx_strdup(name);
	}
	if (is_primitive(*full) || gx_strv_contains(&c->names, *full)) {
		gx_err_t err = gx_seterr(c->errstr, c->errstr_size,
					 GX_ERR_AVRO,
					 "schema: type \"%s\" is defined twice "
					 "or redefines a primitive", *full);
		free(*full);
		*full = NULL;
		return err;
	}
	gx_strv_push(&c->names, *full);
	dot = strrchr(*full, '.');
	*space = dot ? gx_strndup(*full, (size_t)(dot - *full)) : gx_strdup("");
	return GX_OK;
}

/* Append the "fields" of record `full` with nested types in namespace
 * space; GX_ERR_AVRO on a missing, malformed or repeated field. */
static gx_err_t pcf_fields(pcf_t *c, json_t *fields, const char *full,
			   const char *space)
{
	size_t i, k;
	json_t *f;

	if (!json_is_array(fields))
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: record \"%s\" has no \"fields\" array",
				 full);
	gx_buf_append(&c->out, "\"fields\":[", 10);
	json_array_foreach(fields, i, f) {
		json_t *fname = json_object_get(f, "name");
		json_t *ftype = json_object_get(f, "type");
		if (!json_is_string(fname) ||
		    !valid_name(json_string_value(fname)) || !ftype)
			return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
					 "schema: field %zu of record \"%s\" "
					 "needs a valid \"name\" and a \"type\"",
					 i, full);
		for (k = 0; k < i; k++)
			if (json_equal(json_object_get(
					   json_array_get(fields, k), "name"),
				       fname))
				return gx_seterr(c->errstr, c->errstr_size,
						 GX_ERR_AVRO,
						 "schema: record \"%s\" has two "
						 "fields named \"%s\"", full,
						 json_string_value(fname));
		if (i)
			gx_buf_putc(&c->out, ',');
		gx_buf_append(&c->out, "{\"name\":", 8);
		emit_string(&c->out, json_string_value(fname));
		gx_buf_append(&c->out, ",\"type\":", 8);
		gx_err_t err = pcf_schema(c, ftype, space);
		if (err)
			return err;
		gx_buf_putc(&c->out, '}');
	}
	gx_buf_putc(&c->out, ']');
	return GX_OK;
}

/* Append the "symbols" of enum `full`; GX_ERR_AVRO on a bad or repeated
 * symbol. */
static gx_err_t pcf_symbols(pcf_t *c, json_t *symbols, const char *full)
{
	size_t i, k;
	json_t *s;

	if (!json_is_array(symbols))
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: enum \"%s\" has no \"symbols\" array",
				 full);
	gx_buf_append(&c->out, "\"symbols\":[", 11);
	json_array_foreach(symbols, i, s) {
		if (!json_is_string(s) || !valid_name(json_string_value(s)))
			return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
					 "schema: symbol %zu of enum \"%s\" is "
					 "not a valid name", i, full);
		for (k = 0; k < i; k++)
			if (json_equal(json_array_get(symbols, k), s))
				return gx_seterr(c->errstr, c->errstr_size,
						 GX_ERR_AVRO,
						 "schema: enum \"%s\" repeats "
						 "symbol \"%s\"", full,
						 json_string_value(s));
		if (i)
			gx_buf_putc(&c->out, ',');
		emit_string(&c->out, json_string_value(s));
	}
	gx_buf_putc(&c->out, ']');
	return GX_OK;
}

/* Append the "size" of fixed `full` as a bare integer without leading
 * zeros ([INTEGERS]); a quoted decimal is accepted. GX_ERR_AVRO if it is
 * missing or negative. */
static gx_err_t pcf_size(pcf_t *c, json_t *size, const char *full)
{
	long long n = -1;

	if (json_is_integer(size)) {
		n = (long long)json_integer_value(size);
	} else if (json_is_string(size)) {
		const char *s = json_string_value(size);
		char *end;
		if (s[0] >= '0' && s[0] <= '9') {
			errno = 0;
			n = strtoll(s, &end, 10);
			if (errno || *end)
				n = -1;
		}
	}
	if (n < 0)
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: fixed \"%s\" needs a non-negative "
				 "integer \"size\"", full);
	gx_buf_printf(&c->out, "\"size\":%lld", n);
	return GX_OK;
}

/* Append the canonical form of record, error, enum or fixed j. */
static gx_err_t pcf_named(pcf_t *c, json_t *j, const char *type,
			  const char *ns)
{
	char *full = NULL, *space = NULL;
	gx_err_t err = pcf_define(c, j, ns, &full, &space);

	if (err)
		return err;
	/* [ORDER] name, type, then fields | symbols | size. */
	gx_buf_append(&c->out, "{\"name\":", 8);
	emit_string(&c->out, full);
	gx_buf_append(&c->out, ",\"type\":", 8);
	emit_string(&c->out, type);
	gx_buf_putc(&c->out, ',');
	if (strcmp(type, "enum") == 0)
		err = pcf_symbols(c, json_object_get(j, "symbols"), full);
	else if (strcmp(type, "fixed") == 0)
		err = pcf_size(c, json_object_get(j, "size"), full);
	else
		err = pcf_fields(c, json_object_get(j, "fields"), full, space);
	if (!err)
		gx_buf_putc(&c->out, '}');
	free(full);
	free(space);
	return err;
}

/* Append the canonical form of array or map j (attribute attr = "items"
 * or "values"). */
static gx_err_t pcf_container(pcf_t *c, json_t *j, const char *type,
			      const char *attr, const char *ns)
{
	json_t *inner = json_object_get(j, attr);

	if (!inner)
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: %s without \"%s\"", type, attr);
	gx_buf_append(&c->out, "{\"type\":", 8);
	emit_string(&c->out, type);
	gx_buf_putc(&c->out, ',');
	emit_string(&c->out, attr);
	gx_buf_putc(&c->out, ':');
	gx_err_t err = pcf_schema(c, inner, ns);
	if (!err)
		gx_buf_putc(&c->out, '}');
	return err;
}

/* Append the canonical form of any schema j, in enclosing namespace ns
 * ("" for the null namespace). Attributes not listed in [STRIP] (doc,
 * aliases, default, order, logicalType, ...) are dropped. */
static gx_err_t pcf_schema(pcf_t *c, json_t *j, const char *ns)
{
	if (json_is_string(j))
		return pcf_reference(c, json_string_value(j), ns);

	if (json_is_array(j)) { /* a union */
		size_t i;
		json_t *branch;
		gx_buf_putc(&c->out, '[');
		json_array_foreach(j, i, branch) {
			if (json_is_array(branch))
				return gx_seterr(c->errstr, c->errstr_size,
						 GX_ERR_AVRO,
						 "schema: union directly inside "
						 "a union");
			if (i)
				gx_buf_putc(&c->out, ',');
			gx_err_t err = pcf_schema(c, branch, ns);
			if (err)
				return err;
		}
		gx_buf_putc(&c->out, ']');
		return GX_OK;
	}

	if (!json_is_object(j))
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: a type must be a string, an object or "
				 "an array");

	json_t *jtype = json_object_get(j, "type");
	if (!json_is_string(jtype)) {
		/* {"type": {...}} or {"type": [...]}: the inner schema. */
		if (json_is_object(jtype) || json_is_array(jtype))
			return pcf_schema(c, jtype, ns);
		return gx_seterr(c->errstr, c->errstr_size, GX_ERR_AVRO,
				 "schema: object without a \"type\"");
	}
	const char *type = json_string_value(jtype);
	if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0 ||
	    strcmp(type, "enum") == 0 || strcmp(type, "fixed") == 0)
		return pcf_named(c, j, type, ns);
	if (strcmp(type, "array") == 0)
		return pcf_container(c, j, "array", "items", ns);
	if (strcmp(type, "map") == 0)
		return pcf_container(c, j, "map", "values", ns);
	/* [PRIMITIVES] {"type":"int",...} and {"type":"Name"} reduce to
	 * the bare name; logical types go with the other attributes. */
	return pcf_reference(c, type, ns);
}

/* Parsing Canonical Form of schema JSON; GX_ERR_INVALID on bad arguments,
 * GX_ERR_AVRO on JSON that is not a valid schema. */
gx_err_t gx_avro_pcf(const char *schema_json, size_t len, char **pcf,
		     char *errstr, size_t errstr_size)
{
	json_error_t jerr;
	json_t *root;
	pcf_t c;
	gx_err_t err;

	if (!schema_json || !pcf)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "gx_avro_pcf: NULL argument");
	*pcf = NULL;
	root = json_loadb(schema_json, len,
			  JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "schema: JSON error at line %d column %d: %s",
				 jerr.line, jerr.column, jerr.text);

	gx_buf_init(&c.out);
	gx_strv_init(&c.names);
	c.errstr = errstr;
	c.errstr_size = errstr_size;
	err = pcf_schema(&c, root, "");
	json_decref(root);
	gx_strv_free(&c.names);
	if (err) {
		gx_buf_free(&c.out);
		return err;
	}
	*pcf = gx_buf_cstr(&c.out);
	return GX_OK;
}

/* CRC-64-AVRO of the Parsing Canonical Form; errors as gx_avro_pcf. */
gx_err_t gx_avro_fingerprint(const char *schema_json, size_t len,
			     uint64_t *fp, char *errstr, size_t errstr_size)
{
	char *pcf;
	gx_err_t err;

	if (!fp)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "gx_avro_fingerprint: NULL argument");
	err = gx_avro_pcf(schema_json, len, &pcf, errstr, errstr_size);
	if (err)
		return err;
	*fp = gx_avro_crc64(pcf, strlen(pcf));
	free(pcf);
	return GX_OK;
}

/* ------------------------------------------------------------------ */
/* Single-object encoding                                              */
/* ------------------------------------------------------------------ */

/* Copy Avro C's last error now: Debian's build keeps it in a static. */
static gx_err_t avro_fail(char *errstr, size_t errstr_size, const char *what,
			  int rval)
{
	const char *msg = avro_strerror();
	return gx_seterr(errstr, errstr_size, GX_ERR_AVRO, "%s: %s", what,
			 msg && msg[0] ? msg : strerror(rval));
}

static void so_header(unsigned char hdr[GX_AVRO_SO_HEADER], uint64_t fp)
{
	hdr[0] = GX_AVRO_SO_MAGIC0;
	hdr[1] = GX_AVRO_SO_MAGIC1;
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (unsigned char)(fp >> (8 * i));
}

void gx_avro_put_header(gx_buf_t *out, uint64_t fp)
{
	unsigned char hdr[GX_AVRO_SO_HEADER];
	so_header(hdr, fp);
	gx_buf_append(out, hdr, sizeof(hdr));
}

void gx_avro_put_long(gx_buf_t *out, int64_t v)
{
	uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	unsigned char tmp[10];
	size_t n = 0;
	do {
		unsigned char c = z & 0x7f;
		z >>= 7;
		tmp[n++] = c | (z ? 0x80 : 0);
	} while (z);
	gx_buf_append(out, tmp, n);
}

void gx_avro_put_bytes(gx_buf_t *out, const void *p, size_t n)
{
	gx_avro_put_long(out, (int64_t)n);
	gx_buf_append(out, p, n);
}

/* Append header and binary body of value to out; out is unchanged on
 * failure (GX_ERR_INVALID for bad arguments, GX_ERR_AVRO from Avro C). */
gx_err_t gx_avro_so_encode(uint64_t fp, avro_value_t *value, gx_buf_t *out,
			   char *errstr, size_t errstr_size)
{
	size_t size = 0;
	int rval;
	unsigned char *hdr;
	avro_writer_t w;

	if (!value || !out)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "gx_avro_so_encode: NULL argument");
	rval = avro_value_sizeof(value, &size);
	if (rval)
		return avro_fail(errstr, errstr_size,
				 "cannot size the Avro value", rval);
	if (size > (size_t)INT64_MAX - GX_AVRO_SO_HEADER)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "Avro value too large (%zu bytes)", size);

	gx_buf_reserve(out, GX_AVRO_SO_HEADER + size);
	hdr = (unsigned char *)out->data + out->len;
	so_header(hdr, fp);

	w = avro_writer_memory((char *)hdr + GX_AVRO_SO_HEADER,
			       (int64_t)size);
	if (!w)
		return avro_fail(errstr, errstr_size,
				 "cannot create an Avro writer", ENOMEM);
	rval = avro_value_write(w, value);
	if (!rval && avro_writer_tell(w) != (int64_t)size) {
		avro_writer_free(w);
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "Avro value wrote a different size than "
				 "avro_value_sizeof said (%zu)", size);
	}
	if (rval) {
		gx_err_t err = avro_fail(errstr, errstr_size,
					 "cannot encode the Avro value", rval);
		avro_writer_free(w);
		return err;
	}
	avro_writer_free(w);
	out->len += GX_AVRO_SO_HEADER + size;
	return GX_OK;
}

/* Check magic and length; read the little-endian fingerprint into *fp.
 * GX_ERR_INVALID on a short message or wrong magic. */
gx_err_t gx_avro_so_fingerprint(const void *msg, size_t len, uint64_t *fp,
				char *errstr, size_t errstr_size)
{
	const unsigned char *p = msg;
	uint64_t v = 0;

	if (!fp || (!msg && len))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "gx_avro_so_fingerprint: NULL argument");
	if (len < GX_AVRO_SO_HEADER)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "message too short for an Avro single-object "
				 "header: %zu bytes, need %d",
				 len, GX_AVRO_SO_HEADER);
	if (p[0] != GX_AVRO_SO_MAGIC0 || p[1] != GX_AVRO_SO_MAGIC1)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "not an Avro single-object message: magic "
				 "%02x %02x at byte 0, want c3 01", p[0], p[1]);
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[2 + i];
	*fp = v;
	return GX_OK;
}

/* ---- bounds-checking walk over a binary body ---- */

/* Deepest nesting of records, arrays, maps and unions accepted (Avro C
 * reads recursively, so recursive schemas must not reach its stack). */
#define GX_AVRO_MAX_DEPTH 128
/* Array items that take no bytes (null, empty records) cost no input, so
 * a small message could claim billions of them: cap their number. */
#define GX_AVRO_MAX_EMPTY_ITEMS 65536

typedef struct walk {
	const unsigned char *p; /* the whole message */
	size_t len;		/* its length */
	size_t pos;		/* next byte to read */
	size_t empty_items;
	char *errstr;
	size_t errstr_size;
} walk_t;

/* Read a zig-zag varint of at most maxbytes bytes whose decoded unsigned
 * value fits in bits bits; what names it in errors. */
static gx_err_t walk_varint(walk_t *w, int maxbytes, int bits,
			    const char *what, int64_t *out)
{
	size_t at = w->pos;
	uint64_t u = 0;

	for (int i = 0;; i++) {
		if (i == maxbytes)
			return gx_seterr(w->errstr, w->errstr_size,
					 GX_ERR_INVALID,
					 "%s at byte %zu: varint longer than "
					 "%d bytes", what, at, maxbytes);
		if (w->pos >= w->len)
			return gx_seterr(w->errstr, w->errstr_size,
					 GX_ERR_INVALID,
					 "%s at byte %zu: message ends inside "
					 "the varint", what, at);
		unsigned b = w->p[w->pos++];
		uint64_t chunk = b & 0x7f;
		int shift = 7 * i;
		/* bits above `bits` would be lost (or overflow Avro C). */
		if (shift + 7 > bits && (chunk >> (bits - shift)) != 0)
			return gx_seterr(w->errstr, w->errstr_size,
					 GX_ERR_INVALID,
					 "%s at byte %zu: varint overflows %d "
					 "bits", what, at, bits);
		u |= chunk << shift;
		if (!(b & 0x80))
			break;
	}
	*out = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return GX_OK;
}

/* Read an Avro long (at most 10 bytes). */
static gx_err_t walk_long(walk_t *w, const char *what, int64_t *out)
{
	return walk_varint(w, 10, 64, what, out);
}

/* Skip n bytes that must be present. */
static gx_err_t walk_skip(walk_t *w, size_t n, const char *what)
{
	if (n > w->len - w->pos)
		return gx_seterr(w->errstr, w->errstr_size, GX_ERR_INVALID,
				 "%s at byte %zu: needs %zu bytes, %zu left",
				 what, w->pos, n, w->len - w->pos);
	w->pos += n;
	return GX_OK;
}

/* Read a length prefix and skip that many bytes (string, bytes, key). */
static gx_err_t walk_lenbytes(walk_t *w, const char *what)
{
	size_t at = w->pos;
	int64_t n;
	gx_err_t err = walk_long(w, what, &n);

	if (err)
		return err;
	if (n < 0)
		return gx_seterr(w->errstr, w->errstr_size, GX_ERR_INVALID,
				 "%s at byte %zu: negative length %" PRId64,
				 what, at, n);
	if ((uint64_t)n > w->len - w->pos)
		return gx_seterr(w->errstr, w->errstr_size, GX_ERR_INVALID,
				 "%s at byte %zu: length %" PRId64
				 " runs past the end (%zu bytes left)",
				 what, at, n, w->len - w->pos);
	w->pos += (size_t)n;
	return GX_OK;
}

static gx_err_t walk_value(walk_t *w, avro_schema_t s, int depth);

/* Walk the blocks of an array or map (is_map: each item has a string key);
 * a block is a count, when negative followed by its byte size, then count
 * items; a zero count ends the value. */
static gx_err_t walk_blocks(walk_t *w, avro_schema_t items, int is_map,
			    int depth)
{
	const char *what = is_map ? "map block count" : "array block count";

	for (;;) {
		size_t at = w->pos;
		int64_t count, bsize = -1;
		gx_err_t err = walk_long(w, what, &count);
		if (err)
			return err;
		if (count == 0)
			return GX_OK;
		if (count < 0) {
			if (count == INT64_MIN)
				return gx_seterr(w->errstr, w->errstr_size,
						 GX_ERR_INVALID,
						 "%s at byte %zu: out of range",
						 what, at);
			count = -count;
			size_t sat = w->pos;
			err = walk_long(w, "block byte size", &bsize);
			if (err)
				return err;
			if (bsize < 0 || (uint64_t)bsize > w->len - w->pos)
				return gx_seterr(w->errstr, w->errstr_size,
						 GX_ERR_INVALID,
						 "block byte size at byte %zu: "
						 "%" PRId64 " is negative or "
						 "runs past the end", sat,
						 bsize);
		}
		size_t start = w->pos;
		for (int64_t i = 0; i < count; i++) {
			size_t before = w->pos;
			if (is_map && (err = walk_lenbytes(w, "map key")))
				return err;
			if ((err = walk_value(w, items, depth + 1)))
				return err;
			if (w->pos == before &&
			    ++w->empty_items > GX_AVRO_MAX_EMPTY_ITEMS)
				return gx_seterr(w->errstr, w->errstr_size,
						 GX_ERR_INVALID,
						 "%s at byte %zu: more than %d "
						 "empty items", what, at,
						 GX_AVRO_MAX_EMPTY_ITEMS);
		}
		if (bsize >= 0 && w->pos - start != (uint64_t)bsize)
			return gx_seterr(w->errstr, w->errstr_size,
					 GX_ERR_INVALID,
					 "%s at byte %zu: block byte size %"
					 PRId64 " but its items take %zu",
					 what, at, bsize, w->pos - start);
	}
}

/* Walk one value of schema s starting at w->pos; GX_ERR_INVALID with the
 * byte offset on anything Avro C must not be given. */
static gx_err_t walk_value(walk_t *w, avro_schema_t s, int depth)
{
	size_t at = w->pos;
	int64_t v;
	gx_err_t err;

	if (depth > GX_AVRO_MAX_DEPTH)
		return gx_seterr(w->errstr, w->errstr_size, GX_ERR_INVALID,
				 "value at byte %zu nests deeper than %d", at,
				 GX_AVRO_MAX_DEPTH);
	if (is_avro_link(s))
		s = avro_schema_link_target(s);
	if (!s)
		return gx_seterr(w->errstr, w->errstr_size, GX_ERR_AVRO,
				 "schema without a type at byte %zu", at);

	switch (avro_typeof(s)) {
	case AVRO_NULL:
		return GX_OK;
	case AVRO_BOOLEAN:
		if ((err = walk_skip(w, 1, "boolean")))
			return err;
		if (w->p[at] > 1)
			return gx_seterr(w->errstr, w->errstr_size,
					 GX_ERR_INVALID,
					 "boolean at byte %zu: 0x%02x is not "
					 "0 or 1", at, w->p[at]);
		return GX_OK;
	case AVRO_INT32:
		return walk_varint(w, 5, 32, "int", &v);
	case AVRO_INT64:
		return walk_long(w, "long", &v);
	case AVRO_FLOAT:
		return walk_skip(w, 4, "float");
	case AVRO_DOUBLE:
		return walk_skip(w, 8, "double");
	case AVRO_STRING:
		return walk_lenbytes(w, "string");
	case AVRO_BYTES:
		return walk_lenbytes(w, "bytes");
	case AVRO_FIXED: {
		int64_t size = avro_schema_fixed_size(s);
		if (size < 0)
			return gx_seterr(w->errstr, w->errstr_size,
					 GX_ERR_AVRO,
					 "fixed at byte %zu: bad schema size",
					 at);
		if ((uint64_t)size > w->len - w->pos)
			return gx_seterr(w->errstr, w->errstr_size,
					 GX_ERR_INVALID,
					 "fixed at byte %zu: needs %" PRId64
					 " bytes, %zu left",
					 at, size, w->len - w->pos);
		w->pos += (size_t)size;
		return GX_OK;
	}
	case AVRO_ENUM: {
		int n = avro_schema_enum_number_of_symbols(s);
		if ((err = walk_long(w, "enum index", &v)))
			return err;
		if (v < 0 || v >= n)
			return gx_seterr(w->errstr, w->errstr_size,
					 GX_ERR_INVALID,
					 "enum index at byte %zu: %" PRId64
					 " is not in 0..%d", at, v, n - 1);
		return GX_OK;
	}
	case AVRO_UNION: {
		size_t n = avro_schema_union_size(s);
		if ((err = walk_long(w, "union branch", &v)))
			return err;
		if (v < 0 || (uint64_t)v >= n || v > INT_MAX)
			return gx_seterr(w->errstr, w->errstr_size,
					 GX_ERR_INVALID,
					 "union branch at byte %zu: %" PRId64
					 " is not in 0..%zu", at, v,
					 n ? n - 1 : 0);
		return walk_value(w, avro_schema_union_branch(s, (int)v),
				  depth + 1);
	}
	case AVRO_RECORD: {
		size_t n = avro_schema_record_size(s);
		for (size_t i = 0; i < n && i <= INT_MAX; i++) {
			avro_schema_t f =
			    avro_schema_record_field_get_by_index(s, (int)i);
			if ((err = walk_value(w, f, depth + 1)))
				return err;
		}
		return GX_OK;
	}
	case AVRO_ARRAY:
		return walk_blocks(w, avro_schema_array_items(s), 0, depth);
	case AVRO_MAP:
		return walk_blocks(w, avro_schema_map_values(s), 1, depth);
	default:
		return gx_seterr(w->errstr, w->errstr_size, GX_ERR_AVRO,
				 "value at byte %zu: unsupported schema type %d",
				 at, (int)avro_typeof(s));
	}
}

/* Validate the body against value's schema, then read it into value.
 * GX_ERR_INVALID (with the byte offset) on a bad header or body,
 * GX_ERR_AVRO if Avro C still fails. value is untouched unless the body
 * passed validation. */
gx_err_t gx_avro_so_decode(const void *msg, size_t len, avro_value_t *value,
			   char *errstr, size_t errstr_size)
{
	uint64_t fp;
	gx_err_t err;
	avro_schema_t schema;
	avro_reader_t r;
	int rval;

	if (!value)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "gx_avro_so_decode: NULL argument");
	err = gx_avro_so_fingerprint(msg, len, &fp, errstr, errstr_size);
	if (err)
		return err;
	if (len - GX_AVRO_SO_HEADER > (size_t)INT64_MAX)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "message too large (%zu bytes)", len);
	schema = avro_value_get_schema(value);
	if (!schema)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "Avro value has no schema");

	walk_t w = {
	    .p = msg,
	    .len = len,
	    .pos = GX_AVRO_SO_HEADER,
	    .errstr = errstr,
	    .errstr_size = errstr_size,
	};
	err = walk_value(&w, schema, 0);
	if (err)
		return err;
	if (w.pos != len)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "%zu trailing bytes after the Avro value, "
				 "from byte %zu", len - w.pos, w.pos);

	r = avro_reader_memory((const char *)msg + GX_AVRO_SO_HEADER,
			       (int64_t)(len - GX_AVRO_SO_HEADER));
	if (!r)
		return avro_fail(errstr, errstr_size,
				 "cannot create an Avro reader", ENOMEM);
	rval = avro_value_read(r, value);
	if (rval) {
		err = avro_fail(errstr, errstr_size,
				"cannot decode the Avro body", rval);
		avro_reader_free(r);
		return err;
	}
	avro_reader_free(r);
	return GX_OK;
}
