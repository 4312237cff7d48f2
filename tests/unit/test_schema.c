/*
 * test_schema.c - the population library, its derived ingest and delivery
 * schemas (broker/lib/gx_schema.c), source text into Avro values
 * (gx_field_set_text), and the projection of an ingest record into a
 * consumer's view (gx_project, broker/lib/gx_record.c) through the wire
 * encoding and back out as JSON.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_avro.h"
#include "gx_proof.h"
#include "gx_record.h"
#include "gx_schema.h"

static gx_schemas_t *schemas;
static const gx_library_t *pop;
static avro_value_t ingest, payload;
static char err[512];

/* 2024-01-02T03:04:05.678Z: "now" for the past-date rule. */
#define NOW_MS INT64_C(1704164645678)

static void setup(void)
{
	cr_assert_eq(gx_schemas_new(&schemas, err, sizeof(err)), GX_OK, "%s",
		     err);
	pop = gx_schemas_library(schemas, "population");
	cr_assert_not_null(pop);
	cr_assert_eq(avro_generic_value_new(pop->ingest_iface, &ingest), 0);
	cr_assert_eq(gx_record_payload(&ingest, &payload, err, sizeof(err)),
		     GX_OK, "%s", err);
	err[0] = '\0';
}

static void teardown(void)
{
	avro_value_decref(&ingest);
	gx_schemas_destroy(schemas);
}

TestSuite(schema, .init = setup, .fini = teardown);

static const gx_field_t *field(const char *name)
{
	const gx_field_t *f = gx_library_field(pop, name);
	cr_assert_not_null(f, "no field %s", name);
	return f;
}

/* The payload field's value in the test's ingest record. */
static avro_value_t fval(const char *name)
{
	avro_value_t v;
	cr_assert_eq(avro_value_get_by_index(&payload, field(name)->index, &v,
					     NULL),
		     0);
	return v;
}

static gx_err_t set(const char *name, const char *text)
{
	avro_value_t v = fval(name);
	err[0] = '\0';
	return gx_field_set_text(field(name), &v, text, NOW_MS, err,
				 sizeof(err));
}

/* The value behind a union (or the value itself). */
static avro_value_t current(avro_value_t v)
{
	avro_value_t b;
	if (avro_value_get_type(&v) != AVRO_UNION)
		return v;
	cr_assert_eq(avro_value_get_current_branch(&v, &b), 0);
	return b;
}

static const char *str_of(avro_value_t v)
{
	const char *s;
	size_t n;
	v = current(v);
	cr_assert_eq(avro_value_get_type(&v), AVRO_STRING);
	cr_assert_eq(avro_value_get_string(&v, &s, &n), 0);
	return s;
}

/* ---- the library and its schemas ---- */

static const char *const pop_fields[] = {
    "citizen_id", "name",	   "sex",	     "ethnicity",
    "birth_date", "division_code", "address",	     "marital_status",
    "education",  "status",	   "updated_at",
};

Test(schema, population_library_fields)
{
	cr_assert_geq(gx_schemas_count(schemas), 1);
	cr_assert_eq(gx_schemas_at(schemas, 0), pop);
	cr_assert_null(gx_schemas_at(schemas, gx_schemas_count(schemas)));
	cr_assert_null(gx_schemas_library(schemas, "cadastre"));
	cr_assert_str_eq(pop->name, "population");

	cr_assert_eq(pop->nfields, GX_ARRAY_SIZE(pop_fields));
	for (size_t i = 0; i < pop->nfields; i++) {
		cr_assert_str_eq(pop->fields[i].name, pop_fields[i]);
		cr_assert_eq(pop->fields[i].index, i);
		cr_assert_eq(gx_library_field(pop, pop_fields[i]),
			     &pop->fields[i]);
	}
	cr_assert_null(gx_library_field(pop, "shoe_size"));
	cr_assert_eq(pop->subject, field("citizen_id"));

	const gx_field_t *f = field("citizen_id");
	cr_assert(f->type == GX_FT_STRING && !f->nullable);
	cr_assert_str_eq(f->check, "gb11643");
	f = field("birth_date");
	cr_assert(f->type == GX_FT_INT && f->logical == GX_LT_DATE);
	cr_assert_str_eq(f->check, "past");
	f = field("updated_at");
	cr_assert(f->type == GX_FT_LONG && f->logical == GX_LT_TIMESTAMP_MS);
	cr_assert_null(f->check);
	f = field("marital_status");
	cr_assert(f->type == GX_FT_STRING && f->nullable);
	cr_assert_str_eq(f->check, "code:10,20,21,22,23,30,40,90");
	f = field("status");
	cr_assert_eq(f->type, GX_FT_ENUM);
	cr_assert_eq(f->nsymbols, 3);
	cr_assert_str_eq(f->symbols[0], "ALIVE");
	cr_assert_str_eq(f->symbols[1], "DECEASED");
	cr_assert_str_eq(f->symbols[2], "MOVED");
}

static json_t *load(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	cr_assert_not_null(j, "%s", jerr.text);
	return j;
}

static void expect_field_names(json_t *fields, const char *const *names,
			       size_t n, const char *what)
{
	cr_assert_eq(json_array_size(fields), n, "%s", what);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(json_string_value(json_object_get(
				     json_array_get(fields, i), "name")),
				 names[i], "%s field %zu", what, i);
}

Test(schema, ingest_schema_is_envelope_plus_payload)
{
	static const char *const env[] = {"record_id",	  "provider", "item",
					  "collected_at", "op",	      "source",
					  "payload",	  "seal"};
	json_t *j = load(pop->ingest_json);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "Ingest");
	cr_assert_str_eq(json_string_value(json_object_get(j, "namespace")),
			 "govex.population");
	json_t *fields = json_object_get(j, "fields");
	expect_field_names(fields, env, GX_ARRAY_SIZE(env), "ingest");
	json_t *p = json_object_get(json_array_get(fields, 6), "type");
	cr_assert_str_eq(json_string_value(json_object_get(p, "name")),
			 "Population");
	expect_field_names(json_object_get(p, "fields"), pop_fields,
			   GX_ARRAY_SIZE(pop_fields), "ingest payload");
	json_decref(j);

	cr_assert_not_null(pop->ingest_schema);
	cr_assert_str_eq(avro_schema_name(pop->ingest_schema), "Ingest");
}

Test(schema, delivery_schema_is_view_plus_provenance)
{
	static const char *const top[] = {"payload", "provenance"};
	static const char *const prov[] = {"record_id",	   "provider",
					   "item",	   "collected_at",
					   "released_at", "grant_id",
					   "consumer",	   "withheld",
					   "op",	   "proof"};
	json_t *j = load(pop->delivery_json);
	cr_assert_str_eq(json_string_value(json_object_get(j, "name")),
			 "Delivery");
	json_t *fields = json_object_get(j, "fields");
	expect_field_names(fields, top, 2, "delivery");
	json_t *view = json_object_get(json_array_get(fields, 0), "type");
	cr_assert_str_eq(json_string_value(json_object_get(view, "name")),
			 "PopulationView");
	cr_assert_null(json_object_get(view, "gx.subject"));
	expect_field_names(json_object_get(view, "fields"), pop_fields,
			   GX_ARRAY_SIZE(pop_fields), "view");
	size_t i;
	json_t *vf;
	json_array_foreach(json_object_get(view, "fields"), i, vf) {
		cr_assert_null(json_object_get(vf, "gx.check"),
			       "validation rules stay with the provider");
		cr_assert(json_is_null(json_object_get(vf, "default")),
			  "%zu: default null", i);
	}
	json_t *p = json_object_get(json_array_get(fields, 1), "type");
	expect_field_names(json_object_get(p, "fields"), prov,
			   GX_ARRAY_SIZE(prov), "provenance");
	json_decref(j);
}

/* Every payload field of the delivery is ["null", T], T the payload's. */
Test(schema, delivery_payload_fields_all_nullable)
{
	avro_schema_t view =
	    avro_schema_record_field_get(pop->delivery_schema, "payload");
	avro_schema_t src =
	    avro_schema_record_field_get(pop->ingest_schema, "payload");
	cr_assert_not_null(view);
	cr_assert_not_null(src);
	cr_assert_eq(avro_schema_record_size(view), pop->nfields);
	for (size_t i = 0; i < pop->nfields; i++) {
		avro_schema_t u =
		    avro_schema_record_field_get_by_index(view, (int)i);
		avro_schema_t s =
		    avro_schema_record_field_get_by_index(src, (int)i);
		const char *name = pop->fields[i].name;
		cr_assert_str_eq(avro_schema_record_field_name(view, (int)i),
				 name);
		cr_assert_eq(avro_typeof(u), AVRO_UNION, "%s", name);
		cr_assert_eq(avro_schema_union_size(u), 2, "%s", name);
		cr_assert_eq(avro_typeof(avro_schema_union_branch(u, 0)),
			     AVRO_NULL, "%s: null first", name);
		if (avro_typeof(s) == AVRO_UNION)
			s = avro_schema_union_branch(s, 1);
		cr_assert_eq(avro_typeof(avro_schema_union_branch(u, 1)),
			     avro_typeof(s), "%s: same type as the payload",
			     name);
	}
}

Test(schema, fingerprints_find_the_view)
{
	uint64_t fp;
	gx_view_t view;

	cr_assert_neq(pop->ingest_fp, pop->delivery_fp);
	cr_assert_eq(gx_avro_fingerprint(pop->ingest_json,
					 strlen(pop->ingest_json), &fp, err,
					 sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(fp, pop->ingest_fp);
	cr_assert_eq(gx_avro_fingerprint(pop->delivery_json,
					 strlen(pop->delivery_json), &fp, err,
					 sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(fp, pop->delivery_fp);

	view = GX_VIEW_DELIVERY;
	cr_assert_eq(gx_schemas_by_fp(schemas, pop->ingest_fp, &view), pop);
	cr_assert_eq(view, GX_VIEW_INGEST);
	view = GX_VIEW_INGEST;
	cr_assert_eq(gx_schemas_by_fp(schemas, pop->delivery_fp, &view), pop);
	cr_assert_eq(view, GX_VIEW_DELIVERY);
	cr_assert_eq(gx_schemas_by_fp(schemas, pop->delivery_fp, NULL), pop);

	/* Neither, nor the payload schema on its own. */
	cr_assert_null(gx_schemas_by_fp(schemas, pop->ingest_fp ^ 1, &view));
	cr_assert_eq(gx_avro_fingerprint(pop->payload_json,
					 strlen(pop->payload_json), &fp, err,
					 sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_null(gx_schemas_by_fp(schemas, fp, &view));
}

/* ---- gx_field_set_text ---- */

Test(schema, set_date)
{
	int32_t d;
	cr_assert_eq(set("birth_date", "1990-03-07"), GX_OK, "%s", err);
	avro_value_t v = fval("birth_date");
	cr_assert_eq(avro_value_get_int(&v, &d), 0);
	cr_assert_eq(d, 7370, "days since 1970-01-01");

	cr_assert_eq(set("birth_date", "2023-02-30"), GX_ERR_INVALID);
	cr_assert_str_eq(err, "birth_date: invalid date, want YYYY-MM-DD");
	cr_assert_eq(set("birth_date", "1990/03/07"), GX_ERR_INVALID);
	cr_assert_eq(set("birth_date", "2024-01-03"), GX_ERR_INVALID,
		     "the past rule: tomorrow is not a birth date");
	cr_assert_str_eq(err, "birth_date: date is in the future");
	cr_assert_eq(set("birth_date", "2024-01-02"), GX_OK, "today is fine");
	cr_assert_eq(set("birth_date", ""), GX_ERR_INVALID);
	cr_assert_str_eq(err, "birth_date: required value is empty");
}

Test(schema, set_timestamp)
{
	int64_t ms;
	cr_assert_eq(set("updated_at", "2024-01-02T11:04:05.678+08:00"), GX_OK,
		     "%s", err);
	avro_value_t v = fval("updated_at");
	cr_assert_eq(avro_value_get_long(&v, &ms), 0);
	cr_assert_eq(ms, NOW_MS);
	cr_assert_eq(set("updated_at", "yesterday"), GX_ERR_INVALID);
	cr_assert_str_eq(err, "updated_at: invalid timestamp, want RFC 3339 "
			      "(YYYY-MM-DDTHH:MM:SSZ)");
}

Test(schema, set_enum)
{
	int e;
	cr_assert_eq(set("status", "DECEASED"), GX_OK, "%s", err);
	avro_value_t v = fval("status");
	cr_assert_eq(avro_value_get_enum(&v, &e), 0);
	cr_assert_eq(e, 1);
	cr_assert_eq(set("status", "MOVED"), GX_OK);
	cr_assert_eq(avro_value_get_enum(&v, &e), 0);
	cr_assert_eq(e, 2);
	static const char *bad[] = {"DEAD", "alive", "ALIVE ", "0"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		cr_assert_eq(set("status", bad[i]), GX_ERR_INVALID, "%s", bad[i]);
		cr_assert_str_eq(err, "status: not one of the allowed values");
	}
	cr_assert_eq(avro_value_get_enum(&v, &e), 0);
	cr_assert_eq(e, 2, "a refused symbol leaves the value alone");
}

Test(schema, set_empty_is_null_only_when_nullable)
{
	avro_value_t v;
	cr_assert_eq(set("marital_status", "20"), GX_OK, "%s", err);
	cr_assert_str_eq(str_of(fval("marital_status")), "20");

	cr_assert_eq(set("marital_status", ""), GX_OK, "%s", err);
	v = current(fval("marital_status"));
	cr_assert_eq(avro_value_get_type(&v), AVRO_NULL);

	cr_assert_eq(set("marital_status", "99"), GX_ERR_INVALID,
		     "the rule applies to nullable fields too");
	cr_assert_str_eq(err, "marital_status: not one of the codes "
			      "10,20,21,22,23,30,40,90");

	cr_assert_eq(set("name", ""), GX_ERR_INVALID);
	cr_assert_str_eq(err, "name: required value is empty");
	cr_assert_eq(set("citizen_id", ""), GX_ERR_INVALID);
	cr_assert_str_eq(err, "citizen_id: required value is empty");
}

Test(schema, set_string_rules)
{
	cr_assert_eq(set("citizen_id", "140105199003070119"), GX_OK, "%s", err);
	cr_assert_str_eq(str_of(fval("citizen_id")), "140105199003070119");
	cr_assert_eq(set("name", "张三"), GX_OK, "%s", err);
	cr_assert_str_eq(str_of(fval("name")), "张三");
	cr_assert_eq(set("sex", "3"), GX_ERR_INVALID);
	cr_assert_str_eq(err, "sex: not one of the codes 0,1,2,9");
	cr_assert_eq(set("division_code", "140105"), GX_OK, "%s", err);
	cr_assert_eq(set("ethnicity", "1"), GX_ERR_INVALID);
	cr_assert_str_eq(err, "ethnicity: must be 2 digits");
	cr_assert_eq(set("name", "\xed\xa0\x80"), GX_ERR_INVALID);
	cr_assert_str_eq(err, "name: not valid UTF-8");
}

/* Values may be personal data: refusals name the field and rule only. */
Test(schema, refusals_never_repeat_the_value)
{
	static const struct {
		const char *field, *value;
	} bad[] = {
	    {"citizen_id", "140105199003070118"},	/* check character */
	    {"citizen_id", "14010519900307011"},	/* 17 characters */
	    {"citizen_id", "1401051990030701XX"},
	    {"citizen_id", "140105199013070119"},	/* month 13 */
	    {"name", "张三\x01李四"},
	    {"address", "山西省太原市\x1b小店区"},
	    {"division_code", "991234"},
	    {"ethnicity", "汉族"},
	    {"birth_date", "1990-02-30"},
	    {"birth_date", "2099-01-01"},
	    {"updated_at", "2024-01-02T25:00:00Z"},
	    {"status", "SECRET-STATUS"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		cr_assert_eq(set(bad[i].field, bad[i].value), GX_ERR_INVALID,
			     "%s '%s' accepted", bad[i].field, bad[i].value);
		cr_assert_eq(strncmp(err, bad[i].field, strlen(bad[i].field)),
			     0, "message names the field: %s", err);
		cr_assert_null(strstr(err, bad[i].value),
			       "message repeats the value: %s", err);
	}
}

/* ---- gx_project and the delivery on the wire ---- */

static const char *const person[][2] = {
    {"citizen_id", "140105199003070119"},
    {"name", "张三"},
    {"sex", "1"},
    {"ethnicity", "01"},
    {"birth_date", "1990-03-07"},
    {"division_code", "140105"},
    {"address", "山西省太原市小店区坞城路1号"},
    {"marital_status", "20"},
    {"education", ""},
    {"status", "ALIVE"},
    {"updated_at", "2024-01-02T03:04:05.678Z"},
};

static const gx_envelope_t envelope = {
    .record_id = "0b5e2f8c-4d1a-4c3e-9f7a-2a6b8c1d3e4f",
    .provider = "SX-GA",
    .item = "140000-GA-0001",
    .source = "population.csv:2",
    .collected_at = INT64_C(1704164600000),
    .op = GX_OP_UPSERT,
};

#define RELEASED_AT INT64_C(1704164700000)

static void fill_person(void)
{
	cr_assert_eq(gx_ingest_set(&ingest, &envelope, err, sizeof(err)), GX_OK,
		     "%s", err);
	for (size_t i = 0; i < GX_ARRAY_SIZE(person); i++)
		cr_assert_eq(set(person[i][0], person[i][1]), GX_OK, "%s: %s",
			     person[i][0], err);
}

static gx_grant_t test_grant(void)
{
	gx_grant_t g = {.id = (char *)"G-0001", .consumer = (char *)"SX-MZ"};
	return g;
}

/* A proof as gx_ingest_verify would fill it (values do not matter here;
 * test_proof.c checks real ones): salt i is all i, leaf i all 0x80 | i. */
static gx_record_proof_t proof;

/* Project the person with released; *del is a new delivery value. */
static void project(uint64_t released, avro_value_t *del)
{
	gx_grant_t g = test_grant();
	proof.n = pop->nfields;
	for (size_t i = 0; i < proof.n; i++) {
		memset(proof.salts[i], (int)i, GX_HASH_LEN);
		memset(proof.leaves[i], 0x80 | (int)i, GX_HASH_LEN);
	}
	proof.batch_id = "7d1f6a52-3c2b-4e0a-8f43-1b2c3d4e5f60";
	proof.index = 2;
	proof.npath = 1;
	memset(proof.path[0], 0x55, GX_HASH_LEN);
	proof.seal = "{}";
	proof.seal_len = 2;
	cr_assert_eq(avro_generic_value_new(pop->delivery_iface, del), 0);
	cr_assert_eq(gx_project(pop, &ingest, released, &g, RELEASED_AT, &proof,
				del, err, sizeof(err)),
		     GX_OK, "%s", err);
}

static const char *prov_str(avro_value_t *del, const char *name)
{
	avro_value_t prov, f;
	cr_assert_eq(avro_value_get_by_name(del, "provenance", &prov, NULL), 0);
	cr_assert_eq(avro_value_get_by_name(&prov, name, &f, NULL), 0);
	return str_of(f);
}

static int64_t prov_long(avro_value_t *del, const char *name)
{
	avro_value_t prov, f;
	int64_t v;
	cr_assert_eq(avro_value_get_by_name(del, "provenance", &prov, NULL), 0);
	cr_assert_eq(avro_value_get_by_name(&prov, name, &f, NULL), 0);
	cr_assert_eq(avro_value_get_long(&f, &v), 0);
	return v;
}

/* provenance.withheld joined with commas. */
static char *withheld(avro_value_t *del)
{
	avro_value_t prov, w, e;
	size_t n;
	gx_strv_t sv;
	gx_strv_init(&sv);
	cr_assert_eq(avro_value_get_by_name(del, "provenance", &prov, NULL), 0);
	cr_assert_eq(avro_value_get_by_name(&prov, "withheld", &w, NULL), 0);
	cr_assert_eq(avro_value_get_size(&w, &n), 0);
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(avro_value_get_by_index(&w, i, &e, NULL), 0);
		gx_strv_push(&sv, str_of(e));
	}
	char *s = gx_strv_join(&sv, ",");
	gx_strv_free(&sv);
	return s;
}

/* Released fields equal the source, all others are null. */
static void expect_view(avro_value_t *del, uint64_t released)
{
	avro_value_t dp;
	cr_assert_eq(gx_record_payload(del, &dp, err, sizeof(err)), GX_OK);
	for (size_t i = 0; i < pop->nfields; i++) {
		const gx_field_t *f = &pop->fields[i];
		avro_value_t sv, dv;
		cr_assert_eq(avro_value_get_by_index(&payload, i, &sv, NULL), 0);
		cr_assert_eq(avro_value_get_by_index(&dp, i, &dv, NULL), 0);
		json_t *want = (released >> i) & 1 ? gx_field_to_json(f, &sv)
						   : json_null();
		json_t *got = gx_field_to_json(f, &dv);
		char *ws = json_dumps(want, JSON_ENCODE_ANY);
		char *gs = json_dumps(got, JSON_ENCODE_ANY);
		cr_assert(json_equal(want, got), "%s: got %s, want %s", f->name,
			  gs, ws);
		free(ws);
		free(gs);
		json_decref(want);
		json_decref(got);
		if (!((released >> i) & 1)) {
			avro_value_t b = current(dv);
			cr_assert_eq(avro_value_get_type(&b), AVRO_NULL,
				     "%s withheld must be null", f->name);
		}
	}
}

Test(schema, project_releases_three_fields)
{
	avro_value_t del;
	uint64_t released = UINT64_C(1) << field("name")->index |
			    UINT64_C(1) << field("birth_date")->index |
			    UINT64_C(1) << field("updated_at")->index;
	fill_person();
	project(released, &del);

	expect_view(&del, released);
	char *w = withheld(&del);
	cr_assert_str_eq(w, "citizen_id,sex,ethnicity,division_code,address,"
			    "marital_status,education,status",
			 "exactly the others, in schema order");
	free(w);
	cr_assert_str_eq(prov_str(&del, "record_id"), envelope.record_id);
	cr_assert_str_eq(prov_str(&del, "provider"), "SX-GA");
	cr_assert_str_eq(prov_str(&del, "item"), "140000-GA-0001");
	cr_assert_str_eq(prov_str(&del, "grant_id"), "G-0001");
	cr_assert_str_eq(prov_str(&del, "consumer"), "SX-MZ");
	cr_assert_eq(prov_long(&del, "collected_at"), envelope.collected_at);
	cr_assert_eq(prov_long(&del, "released_at"), RELEASED_AT);
	avro_value_decref(&del);
}

Test(schema, project_all_and_nothing)
{
	avro_value_t del;
	fill_person();

	project((UINT64_C(1) << pop->nfields) - 1, &del);
	expect_view(&del, (UINT64_C(1) << pop->nfields) - 1);
	char *w = withheld(&del);
	cr_assert_str_eq(w, "", "nothing withheld");
	free(w);
	/* A nullable field that is null at the source stays null. */
	avro_value_t dp, dv;
	cr_assert_eq(gx_record_payload(&del, &dp, err, sizeof(err)), GX_OK);
	cr_assert_eq(avro_value_get_by_index(&dp, field("education")->index,
					     &dv, NULL),
		     0);
	dv = current(dv);
	cr_assert_eq(avro_value_get_type(&dv), AVRO_NULL);
	avro_value_decref(&del);

	project(0, &del);
	expect_view(&del, 0);
	w = withheld(&del);
	cr_assert_str_eq(w, "citizen_id,name,sex,ethnicity,birth_date,"
			    "division_code,address,marital_status,education,"
			    "status,updated_at");
	free(w);
	avro_value_decref(&del);
}

Test(schema, ingest_envelope_and_subject)
{
	gx_envelope_t env;
	const char *key;
	size_t len;
	fill_person();
	cr_assert_eq(gx_ingest_get(&ingest, &env, err, sizeof(err)), GX_OK);
	cr_assert_str_eq(env.record_id, envelope.record_id);
	cr_assert_str_eq(env.provider, envelope.provider);
	cr_assert_str_eq(env.item, envelope.item);
	cr_assert_str_eq(env.source, envelope.source);
	cr_assert_eq(env.collected_at, envelope.collected_at);
	cr_assert_eq(env.op, GX_OP_UPSERT);

	cr_assert_eq(gx_record_subject(pop, &payload, &key, &len, err,
				       sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(len, 18, "the length without Avro's NUL");
	cr_assert_eq(memcmp(key, "140105199003070119", 18), 0);
}

Test(schema, delivery_wire_round_trip_and_json)
{
	avro_value_t del, back;
	gx_buf_t buf;
	uint64_t fp;
	gx_view_t view;
	uint64_t released = UINT64_C(1) << field("name")->index |
			    UINT64_C(1) << field("birth_date")->index |
			    UINT64_C(1) << field("updated_at")->index;

	fill_person();
	project(released, &del);
	gx_buf_init(&buf);
	cr_assert_eq(gx_avro_so_encode(pop->delivery_fp, &del, &buf, err,
				       sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(gx_avro_so_fingerprint(buf.data, buf.len, &fp, err,
					    sizeof(err)),
		     GX_OK);
	cr_assert_eq(gx_schemas_by_fp(schemas, fp, &view), pop);
	cr_assert_eq(view, GX_VIEW_DELIVERY);

	cr_assert_eq(avro_generic_value_new(pop->delivery_iface, &back), 0);
	cr_assert_eq(gx_avro_so_decode(buf.data, buf.len, &back, err,
				       sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert(avro_value_equal(&del, &back), "decoded differs");

	/* Generic JSON: records as objects, unions as their branch. */
	json_t *j = gx_avro_to_json(&back);
	json_t *p = json_object_get(j, "payload");
	json_t *prov = json_object_get(j, "provenance");
	cr_assert_str_eq(json_string_value(json_object_get(p, "name")), "张三");
	cr_assert_eq(json_integer_value(json_object_get(p, "birth_date")), 7370);
	cr_assert_eq(json_integer_value(json_object_get(p, "updated_at")),
		     NOW_MS);
	cr_assert(json_is_null(json_object_get(p, "citizen_id")));
	cr_assert(json_is_null(json_object_get(p, "status")));
	cr_assert_eq(json_object_size(p), pop->nfields);
	cr_assert_str_eq(json_string_value(json_object_get(prov, "grant_id")),
			 "G-0001");
	cr_assert_str_eq(json_string_value(json_object_get(prov, "consumer")),
			 "SX-MZ");
	cr_assert_eq(json_array_size(json_object_get(prov, "withheld")), 8);
	cr_assert_str_eq(json_string_value(json_array_get(
			     json_object_get(prov, "withheld"), 0)),
			 "citizen_id");
	json_decref(j);

	/* Field JSON: dates and timestamps as text. */
	avro_value_t bp, v;
	cr_assert_eq(gx_record_payload(&back, &bp, err, sizeof(err)), GX_OK);
	static const struct {
		const char *field, *json;
	} want[] = {
	    {"birth_date", "\"1990-03-07\""},
	    {"updated_at", "\"2024-01-02T03:04:05.678Z\""},
	    {"name", "\"张三\""},
	    {"citizen_id", "null"},
	    {"education", "null"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(want); i++) {
		const gx_field_t *f = field(want[i].field);
		cr_assert_eq(avro_value_get_by_index(&bp, f->index, &v, NULL), 0);
		json_t *fj = gx_field_to_json(f, &v);
		char *s = json_dumps(fj, JSON_ENCODE_ANY);
		cr_assert_str_eq(s, want[i].json, "%s", want[i].field);
		free(s);
		json_decref(fj);
	}

	/* The ingest side renders the same way (an enum as its symbol). */
	v = fval("status");
	json_t *fj = gx_field_to_json(field("status"), &v);
	cr_assert_str_eq(json_string_value(fj), "ALIVE");
	json_decref(fj);
	v = fval("birth_date");
	fj = gx_field_to_json(field("birth_date"), &v);
	cr_assert_str_eq(json_string_value(fj), "1990-03-07");
	json_decref(fj);

	gx_buf_free(&buf);
	avro_value_decref(&back);
	avro_value_decref(&del);
}
