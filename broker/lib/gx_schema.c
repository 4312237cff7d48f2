/*
 * gx_schema.c - built-in library schemas, the derived ingest and delivery
 * schemas, and conversion between source text, Avro values and JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_schema.h"
#include "gx_validate.h"

/* The payload schemas, pulled in by gx_schemas_blob.S. */
extern const char gx_schema_population_avsc[];

static const struct {
	const char *name;
	const char *avsc;
} builtin[] = {
    {"population", gx_schema_population_avsc},
};

struct gx_schemas {
	gx_library_t libs[GX_ARRAY_SIZE(builtin)];
	size_t n;
};

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
    "\"doc\":\"names of payload fields withheld from this consumer\"}]}";

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
	else if (!strcmp(tname, "bytes"))
		f->type = GX_FT_BYTES;
	else if (!strcmp(tname, "enum")) {
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
	case GX_FT_BYTES:
		if (avro_value_set_bytes(&v, (void *)text, strlen(text)))
			goto avro_fail;
		return GX_OK;
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
