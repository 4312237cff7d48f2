/*
 * test_libraries.c - the six base libraries of art. 9 (the schemas/ directory,
 * broker/lib/gx_schema.c): every library loads with its subject and
 * bilingual docs; a valid row of source text per library goes through
 * gx_field_set_text, the ingest single-object encoding and gx_field_to_json
 * back to the same text; every gx.check rule refuses a bad value without
 * repeating it; decimals convert exactly; bytes are base64; and the sample
 * catalogue (schemas/catalog.sample.json) parses, covering every library
 * and every sharing class.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_catalog.h"
#include "gx_record.h"
#include "gx_schema.h"

static gx_schemas_t *schemas;
static char err[512];

/* 2024-06-30T00:00:00Z: "now" for the past-date rule. */
#define NOW_MS INT64_C(1719705600000)

static void setup(void)
{
	cr_assert_eq(gx_schemas_new(&schemas, err, sizeof(err)), GX_OK, "%s",
		     err);
	err[0] = '\0';
}

static void teardown(void)
{
	gx_schemas_destroy(schemas);
	schemas = NULL;
}

TestSuite(libraries, .init = setup, .fini = teardown);

static const char *const lib_names[] = {
    "population", "legal_entity", "public_credit",
    "macroeconomy", "geospatial",  "e_licence",
};

static const gx_library_t *library(const char *name)
{
	const gx_library_t *lib = gx_schemas_library(schemas, name);
	cr_assert_not_null(lib, "no library %s", name);
	return lib;
}

static const gx_field_t *lib_field(const gx_library_t *lib, const char *name)
{
	const gx_field_t *f = gx_library_field(lib, name);
	cr_assert_not_null(f, "%s has no field %s", lib->name, name);
	return f;
}

/* ---- loading ---- */

/* Does s hold a CJK character (U+4E00..U+9FFF, UTF-8 lead E4..E9)? */
static int has_chinese(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p >= 0xE4 && *p <= 0xE9)
			return 1;
	return 0;
}

static int has_latin(const char *s)
{
	for (; *s; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			return 1;
	return 0;
}

Test(libraries, all_six_load_in_article_9_order)
{
	cr_assert_eq(gx_schemas_count(schemas), GX_ARRAY_SIZE(lib_names));
	for (size_t i = 0; i < GX_ARRAY_SIZE(lib_names); i++) {
		const gx_library_t *lib = gx_schemas_at(schemas, i);
		cr_assert_str_eq(lib->name, lib_names[i]);
		cr_assert_eq(library(lib_names[i]), lib);
		cr_assert_not_null(lib->ingest_schema);
		cr_assert_not_null(lib->delivery_schema);
		cr_assert_not_null(lib->ingest_iface);
		cr_assert_not_null(lib->delivery_iface);
		cr_assert_leq(lib->nfields, 64, "released is a 64-bit mask");

		/* The subject is a required string with a rule. */
		cr_assert_not_null(lib->subject, "%s", lib->name);
		cr_assert_eq(lib->subject->type, GX_FT_STRING, "%s", lib->name);
		cr_assert(!lib->subject->nullable, "%s", lib->name);
		cr_assert_not_null(lib->subject->check, "%s", lib->name);

		json_error_t jerr;
		json_t *j = json_loads(lib->payload_json, 0, &jerr);
		cr_assert_not_null(j, "%s: %s", lib->name, jerr.text);
		char *ns = gx_asprintf("govex.%s", lib->name);
		cr_assert_str_eq(json_string_value(json_object_get(j, "namespace")),
				 ns);
		free(ns);
		const char *doc = json_string_value(json_object_get(j, "doc"));
		cr_assert(doc && has_latin(doc) && has_chinese(doc), "%s doc",
			  lib->name);
		size_t k;
		json_t *jf;
		json_array_foreach(json_object_get(j, "fields"), k, jf) {
			const char *fd =
			    json_string_value(json_object_get(jf, "doc"));
			const char *fname =
			    json_string_value(json_object_get(jf, "name"));
			cr_assert(fd && has_latin(fd) && has_chinese(fd),
				  "%s.%s: English and Chinese doc", lib->name,
				  fname);
			json_t *type = json_object_get(jf, "type");
			if (json_is_array(type)) {
				cr_assert(json_is_null(json_object_get(jf, "default")) &&
					      json_object_get(jf, "default"),
					  "%s.%s: optional fields default to null",
					  lib->name, fname);
				cr_assert(lib->fields[k].nullable);
			}
		}
		json_decref(j);
	}
}

Test(libraries, fingerprints_are_distinct)
{
	size_t n = gx_schemas_count(schemas);
	for (size_t i = 0; i < n; i++) {
		const gx_library_t *a = gx_schemas_at(schemas, i);
		gx_view_t view;
		cr_assert_eq(gx_schemas_by_fp(schemas, a->ingest_fp, &view), a);
		cr_assert_eq(view, GX_VIEW_INGEST);
		cr_assert_eq(gx_schemas_by_fp(schemas, a->delivery_fp, &view), a);
		cr_assert_eq(view, GX_VIEW_DELIVERY);
		for (size_t k = 0; k < n; k++) {
			const gx_library_t *b = gx_schemas_at(schemas, k);
			if (k != i)
				cr_assert(a->ingest_fp != b->ingest_fp &&
					      a->delivery_fp != b->delivery_fp,
					  "%s, %s", a->name, b->name);
			cr_assert_neq(a->ingest_fp, b->delivery_fp);
		}
	}
}

Test(libraries, field_metadata)
{
	const gx_field_t *f;
	const gx_library_t *le = library("legal_entity");
	cr_assert_str_eq(le->subject->name, "uscc");
	cr_assert_str_eq(le->subject->check, "gb32100");
	f = lib_field(le, "registered_capital");
	cr_assert(f->type == GX_FT_BYTES && f->logical == GX_LT_DECIMAL &&
		  f->nullable);
	cr_assert_eq(f->precision, 18);
	cr_assert_eq(f->scale, 2);
	f = lib_field(le, "status");
	cr_assert_eq(f->type, GX_FT_ENUM);
	cr_assert_eq(f->nsymbols, 5);

	const gx_library_t *pc = library("public_credit");
	cr_assert_str_eq(pc->subject->name, "subject_code");
	cr_assert_str_eq(pc->subject->check, "gb32100|gb11643");
	f = lib_field(pc, "record_type");
	cr_assert_str_eq(f->symbols[0], "ADMIN_LICENCE");
	cr_assert_str_eq(f->symbols[3], "BLACK_LIST");

	const gx_library_t *me = library("macroeconomy");
	cr_assert_str_eq(me->subject->name, "indicator_code");
	f = lib_field(me, "value");
	cr_assert(f->logical == GX_LT_DECIMAL && !f->nullable);
	cr_assert_eq(f->precision, 20);
	cr_assert_eq(f->scale, 4);
	f = lib_field(me, "revision");
	cr_assert(f->type == GX_FT_INT && f->logical == GX_LT_NONE);
	cr_assert_str_eq(f->check, "range:0:99");

	const gx_library_t *geo = library("geospatial");
	cr_assert_str_eq(geo->subject->name, "feature_id");
	cr_assert_str_eq(lib_field(geo, "geometry")->check, "wkt");
	f = lib_field(geo, "crs");
	cr_assert_str_eq(f->symbols[0], "CGCS2000");
	cr_assert_str_eq(f->symbols[1], "WGS84");

	const gx_library_t *el = library("e_licence");
	cr_assert_str_eq(el->subject->name, "holder_code");
	cr_assert_str_eq(lib_field(el, "licence_id")->check, "licence_id");
	cr_assert_str_eq(lib_field(el, "holder_code_type")->check,
			 "code:111,001");
	f = lib_field(el, "document_body");
	cr_assert(f->type == GX_FT_BYTES && f->logical == GX_LT_NONE &&
		  f->nullable);

	/* The consumer view keeps the decimal's logical type. */
	cr_assert_not_null(strstr(le->delivery_json,
				  "{\"type\":\"bytes\",\"logicalType\":"
				  "\"decimal\",\"precision\":18,\"scale\":2}"));
}

/* ---- a valid row per library, through Avro and back ---- */

typedef struct {
	const char *field, *text;
} cell_t;

/* Fictitious rows; every code is valid by its rule (the USCCs were made
 * with the GB 32100 and GB 11714 check characters). An empty text is null. */
static const cell_t row_population[] = {
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
    {NULL, NULL},
};

static const cell_t row_legal_entity[] = {
    {"uscc", "91140105MA0GX001X0"},
    {"name", "山西汾河示例科技有限公司"},
    {"entity_type", "1130"},
    {"legal_representative", "王五"},
    {"registered_capital", "5000000.00"},
    {"established_on", "2016-05-18"},
    {"operating_until", ""},
    {"registration_authority", "太原市小店区市场监督管理局"},
    {"business_scope", "软件开发；信息系统集成服务；数据处理服务。（依法须经"
		       "批准的项目，经相关部门批准后方可开展经营活动）"},
    {"address", "山西省太原市小店区示例路1号"},
    {"division_code", "140105"},
    {"status", "OPERATING"},
    {"updated_at", "2023-12-31T16:00:00.000Z"},
    {NULL, NULL},
};

static const cell_t row_public_credit[] = {
    {"subject_code", "91140100MA0GX0028P"},
    {"subject_code_type", "USCC"},
    {"subject_name", "太原示例餐饮管理有限公司"},
    {"record_type", "ADMIN_PENALTY"},
    {"decision_no", "并市监罚〔2023〕101号"},
    {"issuing_authority", "太原市市场监督管理局"},
    {"issuing_authority_code", "11140100012345671X"},
    {"reason", "经营超过保质期的食品"},
    {"legal_basis", "《中华人民共和国食品安全法》第一百二十四条"},
    {"content", "没收违法所得，并处罚款"},
    {"fine_amount", "50000.00"},
    {"decided_on", "2023-11-20"},
    {"valid_until", "2026-11-19"},
    {"status", "IN_FORCE"},
    {"updated_at", "2023-11-21T02:00:00.000Z"},
    {NULL, NULL},
};

static const cell_t row_macroeconomy[] = {
    {"indicator_code", "A0201"},
    {"indicator_name", "地区生产总值"},
    {"division_code", "140000"},
    {"period", "2023Q4"},
    {"value", "-12345.6789"},
    {"unit", "亿元"},
    {"source_agency", "山西省统计局"},
    {"released_on", "2024-01-20"},
    {"revision", "1"},
    {"note", ""},
    {NULL, NULL},
};

static const cell_t row_geospatial[] = {
    {"feature_id", "SX-HYD-000123"},
    {"layer", "水系"},
    {"feature_class", "210101"},
    {"name", "汾河"},
    {"division_code", "140100"},
    {"geometry", "LINESTRING (112.55 37.95, 112.56 37.87, 112.58 37.8)"},
    {"crs", "CGCS2000"},
    {"attributes", "{\"level\":1}"},
    {"valid_from", "2020-01-01"},
    {"valid_until", ""},
    {NULL, NULL},
};

static const cell_t row_e_licence[] = {
    {"licence_id", "1.2.156.3005.2.11100000000013338W001.11140000MB0JW0010G."
		   "2024SX0000012345.001.B"},
    {"licence_no", "(晋)JZ安许证字[2024]000123"},
    {"licence_name", "建筑施工企业安全生产许可证"},
    {"licence_type_code", "11100000000013338W001"},
    {"holder_code", "91140105MA0GX001X0"},
    {"holder_code_type", "001"},
    {"holder_name", "山西汾河示例科技有限公司"},
    {"issuing_department", "山西省住房和城乡建设厅"},
    {"issuing_department_code", "11140000MB0JW0010G"},
    {"issued_on", "2024-01-02"},
    {"valid_from", "2024-01-02"},
    {"valid_until", "2027-01-01"},
    {"status", "VALID"},
    {"document_body", "UEsDBBQAAAAIAA=="},
    {NULL, NULL},
};

static const struct {
	const char *lib;
	const cell_t *row;
	const char *subject;
} rows[] = {
    {"population", row_population, "140105199003070119"},
    {"legal_entity", row_legal_entity, "91140105MA0GX001X0"},
    {"public_credit", row_public_credit, "91140100MA0GX0028P"},
    {"macroeconomy", row_macroeconomy, "A0201"},
    {"geospatial", row_geospatial, "SX-HYD-000123"},
    {"e_licence", row_e_licence, "91140105MA0GX001X0"},
};

/* An ingest value of lib with its payload in *payload. */
static void new_ingest(const gx_library_t *lib, avro_value_t *ingest,
		       avro_value_t *payload)
{
	cr_assert_eq(avro_generic_value_new(lib->ingest_iface, ingest), 0);
	cr_assert_eq(gx_record_payload(ingest, payload, err, sizeof(err)),
		     GX_OK, "%s", err);
}

static gx_err_t set_text(const gx_library_t *lib, avro_value_t *payload,
			 const char *name, const char *text)
{
	const gx_field_t *f = lib_field(lib, name);
	avro_value_t v;
	cr_assert_eq(avro_value_get_by_index(payload, f->index, &v, NULL), 0);
	err[0] = '\0';
	return gx_field_set_text(f, &v, text, NOW_MS, err, sizeof(err));
}

/* The field's JSON must be the source text again (an int as its number). */
static void expect_text(const gx_field_t *f, avro_value_t *payload,
			const char *text, const char *lib)
{
	avro_value_t v;
	cr_assert_eq(avro_value_get_by_index(payload, f->index, &v, NULL), 0);
	json_t *j = gx_field_to_json(f, &v);
	if (!*text) {
		cr_assert(json_is_null(j), "%s.%s: null", lib, f->name);
	} else if (f->type == GX_FT_INT && f->logical == GX_LT_NONE) {
		cr_assert(json_is_integer(j), "%s.%s", lib, f->name);
		char buf[32];
		snprintf(buf, sizeof(buf), "%lld",
			 (long long)json_integer_value(j));
		cr_assert_str_eq(buf, text, "%s.%s", lib, f->name);
	} else {
		cr_assert(json_is_string(j), "%s.%s", lib, f->name);
		cr_assert_str_eq(json_string_value(j), text, "%s.%s", lib,
				 f->name);
	}
	json_decref(j);
}

Test(libraries, valid_row_round_trips_through_ingest)
{
	cr_assert_eq(GX_ARRAY_SIZE(rows), gx_schemas_count(schemas));
	for (size_t r = 0; r < GX_ARRAY_SIZE(rows); r++) {
		const gx_library_t *lib = library(rows[r].lib);
		avro_value_t ingest, payload, back, bpayload;
		size_t n = 0;
		new_ingest(lib, &ingest, &payload);
		gx_envelope_t env = {
		    .record_id = "0b5e2f8c-4d1a-4c3e-9f7a-2a6b8c1d3e4f",
		    .provider = "SX-TEST",
		    .item = "140000-TEST-0001",
		    .source = "row.csv:2",
		    .collected_at = NOW_MS - 1000,
		    .op = GX_OP_UPSERT,
		};
		cr_assert_eq(gx_ingest_set(&ingest, &env, err, sizeof(err)),
			     GX_OK, "%s", err);
		for (const cell_t *c = rows[r].row; c->field; c++, n++)
			cr_assert_eq(set_text(lib, &payload, c->field, c->text),
				     GX_OK, "%s.%s: %s", lib->name, c->field,
				     err);
		cr_assert_eq(n, lib->nfields, "%s: a text for every field",
			     lib->name);

		const char *key;
		size_t klen;
		cr_assert_eq(gx_record_subject(lib, &payload, &key, &klen, err,
					       sizeof(err)),
			     GX_OK, "%s", err);
		cr_assert_eq(klen, strlen(rows[r].subject));
		cr_assert_eq(memcmp(key, rows[r].subject, klen), 0);

		gx_buf_t buf;
		uint64_t fp;
		gx_view_t view;
		gx_buf_init(&buf);
		cr_assert_eq(gx_avro_so_encode(lib->ingest_fp, &ingest, &buf,
					       err, sizeof(err)),
			     GX_OK, "%s: %s", lib->name, err);
		cr_assert_eq(gx_avro_so_fingerprint(buf.data, buf.len, &fp, err,
						    sizeof(err)),
			     GX_OK);
		cr_assert_eq(gx_schemas_by_fp(schemas, fp, &view), lib);
		cr_assert_eq(view, GX_VIEW_INGEST);
		new_ingest(lib, &back, &bpayload);
		cr_assert_eq(gx_avro_so_decode(buf.data, buf.len, &back, err,
					       sizeof(err)),
			     GX_OK, "%s: %s", lib->name, err);
		cr_assert(avro_value_equal(&ingest, &back), "%s: decoded differs",
			  lib->name);
		cr_assert_eq(gx_record_payload(&back, &bpayload, err,
					       sizeof(err)),
			     GX_OK);
		for (const cell_t *c = rows[r].row; c->field; c++)
			expect_text(lib_field(lib, c->field), &bpayload, c->text,
				    lib->name);
		gx_buf_free(&buf);
		avro_value_decref(&back);
		avro_value_decref(&ingest);
	}
}

/* A public credit record about a person and a licence held by one. */
Test(libraries, citizen_subjects)
{
	const gx_library_t *pc = library("public_credit");
	const gx_library_t *el = library("e_licence");
	avro_value_t a, ap, b, bp;
	new_ingest(pc, &a, &ap);
	new_ingest(el, &b, &bp);
	cr_assert_eq(set_text(pc, &ap, "subject_code", "11010519491231002X"),
		     GX_OK, "%s", err);
	cr_assert_eq(set_text(pc, &ap, "subject_code_type", "CITIZEN_ID"),
		     GX_OK, "%s", err);
	cr_assert_eq(set_text(el, &bp, "holder_code", "140105199003070119"),
		     GX_OK, "%s", err);
	cr_assert_eq(set_text(el, &bp, "holder_code_type", "111"), GX_OK, "%s",
		     err);
	avro_value_decref(&a);
	avro_value_decref(&b);
}

/* ---- every rule refuses a bad value, without repeating it ---- */

static const struct {
	const char *lib, *field, *value, *why;
} bad[] = {
    {"legal_entity", "uscc", "91140105MA0GX001X1", "check character"},
    {"legal_entity", "uscc", "9114010SMA0GX001X0", "capital letters"},
    {"legal_entity", "name", "山西\x01示例", "control character"},
    {"legal_entity", "entity_type", "113", "must be 4 digits"},
    {"legal_entity", "legal_representative", "王五\x7f", "control character"},
    {"legal_entity", "registered_capital", "-1000.00", "must not be negative"},
    {"legal_entity", "established_on", "2099-01-01", "in the future"},
    {"legal_entity", "registration_authority", "登记\x1b机关",
     "control character"},
    {"legal_entity", "business_scope", "经营\x02范围", "control character"},
    {"legal_entity", "address", "山西省\x1b太原市", "control character"},
    {"legal_entity", "division_code", "991234", "no province 99"},

    {"public_credit", "subject_code", "91140100MA0GX0028Q", "fits none of"},
    {"public_credit", "subject_code", "140105199003070118", "fits none of"},
    {"public_credit", "subject_name", "主体\x03名称", "control character"},
    {"public_credit", "decision_no", "文书\x04号", "control character"},
    {"public_credit", "issuing_authority", "机关\x05名称", "control character"},
    {"public_credit", "issuing_authority_code", "140105199003070119",
     "check character does not match (GB 32100)"},
    {"public_credit", "reason", "事由\x06", "control character"},
    {"public_credit", "legal_basis", "依据\x07", "control character"},
    {"public_credit", "content", "内容\x08", "control character"},
    {"public_credit", "fine_amount", "-50000.00", "must not be negative"},
    {"public_credit", "decided_on", "2024-07-01", "in the future"},

    {"macroeconomy", "indicator_code", "A 0201", "letters, digits"},
    {"macroeconomy", "indicator_name", "指标\x0e", "control character"},
    {"macroeconomy", "division_code", "000000", "no province 00"},
    {"macroeconomy", "period", "2023Q5", "quarter"},
    {"macroeconomy", "unit", "亿\x0f元", "control character"},
    {"macroeconomy", "source_agency", "统计\x10局", "control character"},
    {"macroeconomy", "released_on", "2030-01-20", "in the future"},
    {"macroeconomy", "revision", "100", "outside 0..99"},
    {"macroeconomy", "revision", "-1", "outside 0..99"},
    {"macroeconomy", "note", "备注\x11", "control character"},

    {"geospatial", "feature_id", "SX/HYD/000123", "letters, digits"},
    {"geospatial", "layer", "水\x12系", "control character"},
    {"geospatial", "feature_class", "21010", "must be 6 digits"},
    {"geospatial", "name", "汾\x13河", "control character"},
    {"geospatial", "division_code", "1401", "6 digits"},
    {"geospatial", "geometry", "POINT (212.55 37.95)", "longitude outside"},
    {"geospatial", "geometry", "POLYGON ((112.5 37, 113 37, 113 38))",
     "at least 4 points"},
    {"geospatial", "attributes", "[\"level\", 1]", "not a JSON object"},

    {"e_licence", "licence_id", "1.2.156.3005.2.11100000000013338W001."
				"11140000MB0JW0010G.2024SX0000012345.001.C",
     "check character does not match (ISO 7064 MOD 37,36)"},
    {"e_licence", "licence_no", "证照\x14编号", "control character"},
    {"e_licence", "licence_name", "许可\x15证", "control character"},
    {"e_licence", "licence_type_code", "11100000000013338W0A1",
     "licence type code"},
    {"e_licence", "holder_code", "91140105MA0GX001X9", "fits none of"},
    {"e_licence", "holder_code_type", "002", "not one of the codes 111,001"},
    {"e_licence", "holder_name", "持证\x16主体", "control character"},
    {"e_licence", "issuing_department", "住建\x17厅", "control character"},
    {"e_licence", "issuing_department_code", "11140000MB0JW0010H",
     "check character"},
    {"e_licence", "issued_on", "2024-07-01", "in the future"},
};

Test(libraries, every_rule_refuses_a_bad_value)
{
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		const gx_library_t *lib = library(bad[i].lib);
		avro_value_t ingest, payload;
		new_ingest(lib, &ingest, &payload);
		gx_err_t e = set_text(lib, &payload, bad[i].field, bad[i].value);
		cr_assert_eq(e, GX_ERR_INVALID, "%s.%s '%s' accepted (%s)",
			     bad[i].lib, bad[i].field, bad[i].value, err);
		cr_assert_eq(strncmp(err, bad[i].field, strlen(bad[i].field)),
			     0, "message names the field: %s", err);
		cr_assert_not_null(strstr(err, bad[i].why),
				   "%s.%s: '%s' lacks '%s'", bad[i].lib,
				   bad[i].field, err, bad[i].why);
		cr_assert_null(strstr(err, bad[i].value),
			       "message repeats the value: %s", err);
		avro_value_decref(&ingest);
	}
}

/* The table above covers every field of the five new libraries that has
 * a rule (population's have theirs in test_schema.c). */
Test(libraries, every_rule_has_a_refusal_case)
{
	for (size_t l = 1; l < gx_schemas_count(schemas); l++) {
		const gx_library_t *lib = gx_schemas_at(schemas, l);
		for (size_t k = 0; k < lib->nfields; k++) {
			const gx_field_t *f = &lib->fields[k];
			int covered = 0;
			if (!f->check)
				continue;
			for (size_t i = 0; i < GX_ARRAY_SIZE(bad) && !covered; i++)
				covered = !strcmp(bad[i].lib, lib->name) &&
					  !strcmp(bad[i].field, f->name);
			cr_assert(covered, "%s.%s (%s) has no refusal case",
				  lib->name, f->name, f->check);
		}
	}
}

/* ---- decimals ---- */

/* Set a decimal field from text, then read its bytes and JSON. */
static gx_err_t dec(const char *lib_name, const char *field, const char *text,
		    unsigned char *bytes, size_t *nbytes, char **json_text)
{
	const gx_library_t *lib = library(lib_name);
	avro_value_t ingest, payload, v, b;
	new_ingest(lib, &ingest, &payload);
	const gx_field_t *f = lib_field(lib, field);
	gx_err_t e = set_text(lib, &payload, field, text);
	if (!e) {
		const void *p;
		size_t n;
		cr_assert_eq(avro_value_get_by_index(&payload, f->index, &v,
						     NULL),
			     0);
		b = v;
		if (avro_value_get_type(&v) == AVRO_UNION)
			cr_assert_eq(avro_value_get_current_branch(&v, &b), 0);
		cr_assert_eq(avro_value_get_bytes(&b, &p, &n), 0);
		if (bytes) {
			cr_assert_leq(n, 32);
			memcpy(bytes, p, n);
			*nbytes = n;
		}
		if (json_text) {
			json_t *j = gx_field_to_json(f, &v);
			cr_assert(json_is_string(j));
			*json_text = gx_strdup(json_string_value(j));
			json_decref(j);
		}
	}
	avro_value_decref(&ingest);
	return e;
}

/* Text in, the same text (or the canonical form) back out. */
static void dec_ok(const char *lib, const char *field, const char *text,
		   const char *want)
{
	char *got = NULL;
	cr_assert_eq(dec(lib, field, text, NULL, NULL, &got), GX_OK,
		     "%s.%s '%s': %s", lib, field, text, err);
	cr_assert_str_eq(got, want, "%s.%s '%s'", lib, field, text);
	free(got);
}

static void dec_bad(const char *lib, const char *field, const char *text,
		    const char *why)
{
	cr_assert_eq(dec(lib, field, text, NULL, NULL, NULL), GX_ERR_INVALID,
		     "%s.%s '%s' accepted", lib, field, text);
	cr_assert_not_null(strstr(err, why), "'%s': %s", text, err);
	cr_assert_eq(strncmp(err, field, strlen(field)), 0, "%s", err);
	if (strlen(text) >= 3)
		cr_assert_null(strstr(err, text), "repeats the value: %s", err);
}

TestSuite(decimal, .init = setup, .fini = teardown);

Test(decimal, negative_zero_and_round_trip)
{
	dec_ok("macroeconomy", "value", "-12345.6789", "-12345.6789");
	dec_ok("macroeconomy", "value", "12345.6789", "12345.6789");
	dec_ok("macroeconomy", "value", "0", "0.0000");
	dec_ok("macroeconomy", "value", "0.0000", "0.0000");
	dec_ok("macroeconomy", "value", "-0", "0.0000");
	dec_ok("macroeconomy", "value", "-0.0000", "0.0000");
	dec_ok("macroeconomy", "value", "-0.0001", "-0.0001");
	dec_ok("macroeconomy", "value", "0.5", "0.5000");
	dec_ok("macroeconomy", "value", "-7", "-7.0000");
	dec_ok("macroeconomy", "value", "00012.5", "12.5000");
	dec_ok("legal_entity", "registered_capital", "5000000.00", "5000000.00");
	dec_ok("legal_entity", "registered_capital", "0.01", "0.01");
	dec_ok("legal_entity", "registered_capital", "-0.00", "0.00");
	dec_ok("public_credit", "fine_amount", "200", "200.00");
}

Test(decimal, max_precision)
{
	/* (20,4): 16 digits before the point; 10^20 - 1 needs 67 bits. */
	dec_ok("macroeconomy", "value", "9999999999999999.9999",
	       "9999999999999999.9999");
	dec_ok("macroeconomy", "value", "-9999999999999999.9999",
	       "-9999999999999999.9999");
	/* (18,2): 16 digits before the point. */
	dec_ok("legal_entity", "registered_capital", "9999999999999999.99",
	       "9999999999999999.99");
	dec_ok("legal_entity", "registered_capital", "0009999999999999999.99",
	       "9999999999999999.99");
	unsigned char b[32];
	size_t n;
	static const unsigned char max20[] = {0x05, 0x6B, 0xC7, 0x5E, 0x2D,
					      0x63, 0x0F, 0xFF, 0xFF};
	cr_assert_eq(dec("macroeconomy", "value", "9999999999999999.9999", b,
			 &n, NULL),
		     GX_OK);
	cr_assert_eq(n, sizeof(max20));
	cr_assert_eq(memcmp(b, max20, n), 0, "10^20 - 1 big-endian");
}

Test(decimal, overflow_refused)
{
	dec_bad("macroeconomy", "value", "10000000000000000",
		"more than 16 digits before the decimal point (precision 20, "
		"scale 4)");
	dec_bad("macroeconomy", "value", "-10000000000000000.0000",
		"more than 16 digits before");
	dec_bad("legal_entity", "registered_capital", "10000000000000000.00",
		"more than 16 digits before the decimal point (precision 18, "
		"scale 2)");
	dec_bad("legal_entity", "registered_capital",
		"123456789012345678901234567890123456789012", "more than 16");
}

Test(decimal, too_many_fraction_digits_refused)
{
	dec_bad("macroeconomy", "value", "1.23456",
		"more than 4 digits after the decimal point");
	dec_bad("legal_entity", "registered_capital", "1.234",
		"more than 2 digits after the decimal point");
	dec_bad("legal_entity", "registered_capital", "1.230",
		"more than 2 digits after");
	dec_bad("public_credit", "fine_amount", "0.001", "more than 2");
}

Test(decimal, malformed_refused)
{
	static const char *bad_text[] = {
	    "1e5", ".5", "1.", "+1", " 1", "1 ", "1,000", "--1", "-", "1.2.3",
	    "0x10", "NaN", "inf", "１２", "-.5", "1_000",
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad_text); i++)
		dec_bad("macroeconomy", "value", bad_text[i],
			"not a decimal number");
	dec_bad("legal_entity", "registered_capital", "-0.01",
		"must not be negative");
}

/* The bytes are Avro's: minimal big-endian two's complement, unscaled. */
Test(decimal, wire_bytes)
{
	static const struct {
		const char *text;
		unsigned char b[3];
		size_t n;
	} v[] = {
	    {"0.00", {0x00}, 1},	{"1.00", {0x64}, 1},
	    {"-1.00", {0x9C}, 1},	{"1.27", {0x7F}, 1},
	    {"1.28", {0x00, 0x80}, 2}, {"-1.28", {0x80}, 1},
	    {"-1.29", {0xFF, 0x7F}, 2}, {"327.67", {0x7F, 0xFF}, 2},
	    {"327.68", {0x00, 0x80, 0x00}, 3}, {"-327.68", {0x80, 0x00}, 2},
	};
	unsigned char b[32];
	size_t n;
	for (size_t i = 0; i < GX_ARRAY_SIZE(v); i++) {
		cr_assert_eq(dec("public_credit", "fine_amount", v[i].text, b,
				 &n, NULL),
			     v[i].text[0] == '-' ? GX_ERR_INVALID : GX_OK,
			     "%s: %s", v[i].text, err);
		/* fine_amount refuses negatives: check those directly. */
		gx_buf_t out;
		int neg = -1;
		gx_buf_init(&out);
		cr_assert_eq(gx_decimal_from_text(v[i].text, 18, 2, &out, &neg,
						  err, sizeof(err)),
			     GX_OK, "%s", err);
		cr_assert_eq(out.len, v[i].n, "%s: %zu bytes", v[i].text,
			     out.len);
		cr_assert_eq(memcmp(out.data, v[i].b, v[i].n), 0, "%s",
			     v[i].text);
		cr_assert_eq(neg, v[i].text[0] == '-');
		if (v[i].text[0] != '-') {
			cr_assert_eq(n, v[i].n);
			cr_assert_eq(memcmp(b, v[i].b, n), 0);
		}
		char *t = gx_decimal_to_text(out.data, out.len, 2);
		cr_assert_str_eq(t, v[i].text);
		free(t);
		gx_buf_free(&out);
	}
}

/* Bytes from other writers: not minimal, empty, wider than 16 bytes. */
Test(decimal, render_any_width)
{
	static const unsigned char padded[] = {0x00, 0x00, 0x64};
	static const unsigned char neg_padded[] = {0xFF, 0xFF, 0x9C};
	static const unsigned char min128[16] = {0x80};
	unsigned char wide[20];
	char *t;
	t = gx_decimal_to_text(padded, sizeof(padded), 2);
	cr_assert_str_eq(t, "1.00");
	free(t);
	t = gx_decimal_to_text(neg_padded, sizeof(neg_padded), 2);
	cr_assert_str_eq(t, "-1.00");
	free(t);
	t = gx_decimal_to_text("", 0, 2);
	cr_assert_str_eq(t, "0.00");
	free(t);
	t = gx_decimal_to_text(min128, sizeof(min128), 0);
	cr_assert_str_eq(t, "-170141183460469231731687303715884105728",
			 "-2^127");
	free(t);
	t = gx_decimal_to_text(min128, sizeof(min128), 40);
	cr_assert_str_eq(t, "-0.0170141183460469231731687303715884105728");
	free(t);
	memset(wide, 0xFF, sizeof(wide));
	t = gx_decimal_to_text(wide, sizeof(wide), 4);
	cr_assert_str_eq(t, "-0.0001", "sign extension of -1");
	free(t);
}

Test(decimal, library_parameters_checked)
{
	gx_buf_t out;
	gx_buf_init(&out);
	cr_assert_eq(gx_decimal_from_text("1", 39, 0, &out, NULL, err,
					  sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_eq(gx_decimal_from_text("1", 4, 5, &out, NULL, err,
					  sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_eq(gx_decimal_from_text(
			 "99999999999999999999999999999999999999", 38, 0, &out,
			 NULL, err, sizeof(err)),
		     GX_OK, "38 nines: %s", err);
	char *t = gx_decimal_to_text(out.data, out.len, 0);
	cr_assert_str_eq(t, "99999999999999999999999999999999999999");
	free(t);
	cr_assert_eq(out.len, 16, "10^38 - 1: 127 bits and a sign bit");
	gx_buf_free(&out);
}

/* ---- bytes as base64 ---- */

Test(libraries, bytes_are_base64)
{
	const gx_library_t *el = library("e_licence");
	const gx_field_t *f = lib_field(el, "document_body");
	avro_value_t ingest, payload, v, b;
	const void *p;
	size_t n;
	new_ingest(el, &ingest, &payload);
	cr_assert_eq(set_text(el, &payload, "document_body", "UEsDBBQAAAAIAA=="),
		     GX_OK, "%s", err);
	cr_assert_eq(avro_value_get_by_index(&payload, f->index, &v, NULL), 0);
	cr_assert_eq(avro_value_get_current_branch(&v, &b), 0);
	cr_assert_eq(avro_value_get_bytes(&b, &p, &n), 0);
	cr_assert_eq(n, 10);
	cr_assert_eq(memcmp(p, "PK\x03\x04\x14\x00\x00\x00\x08\x00", 10), 0);
	cr_assert_eq(set_text(el, &payload, "document_body", "QQ=="), GX_OK);
	json_t *j = gx_field_to_json(f, &v);
	cr_assert_str_eq(json_string_value(j), "QQ==");
	json_decref(j);
	cr_assert_eq(set_text(el, &payload, "document_body", "QUJD"), GX_OK);
	j = gx_field_to_json(f, &v);
	cr_assert_str_eq(json_string_value(j), "QUJD");
	json_decref(j);

	static const char *bad_b64[] = {"QUJ",	"QU JD", "Q===", "QQ=A",
					"QUJD\n", "Q!==", "=QQQ", "QUJD===="};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad_b64); i++) {
		cr_assert_eq(set_text(el, &payload, "document_body", bad_b64[i]),
			     GX_ERR_INVALID, "'%s'", bad_b64[i]);
		cr_assert_str_eq(err, "document_body: not base64 (RFC 4648 with "
				      "padding)");
	}
	cr_assert_eq(set_text(el, &payload, "document_body", ""), GX_OK);
	j = gx_field_to_json(f, &v);
	cr_assert(json_is_null(j));
	json_decref(j);
	avro_value_decref(&ingest);
}

/* ---- the sample catalogue ---- */

Test(libraries, sample_catalogue_covers_every_library_and_share_class)
{
	json_error_t jerr;
	json_t *items = json_load_file("schemas/catalog.sample.json", 0, &jerr);
	cr_assert_not_null(items,
			   "schemas/catalog.sample.json (run from the "
			   "repository root): %s",
			   jerr.text);
	cr_assert(json_is_array(items));
	int lib_seen[GX_ARRAY_SIZE(lib_names)] = {0};
	int share_seen[3] = {0};
	gx_strv_t ids;
	gx_strv_init(&ids);
	size_t i;
	json_t *j;
	json_array_foreach(items, i, j) {
		gx_cat_item_t *item = NULL;
		cr_assert_eq(gx_cat_item_from_json(j, schemas, &item, err,
						   sizeof(err)),
			     GX_OK, "item %zu: %s", i, err);
		cr_assert(!gx_strv_contains(&ids, item->id), "duplicate %s",
			  item->id);
		gx_strv_push(&ids, item->id);
		for (size_t l = 0; l < GX_ARRAY_SIZE(lib_names); l++)
			if (!strcmp(item->library, lib_names[l]))
				lib_seen[l]++;
		/* Every field is listed, with an open rule. */
		cr_assert_eq(json_array_size(json_object_get(j, "fields")),
			     item->lib->nfields, "%s lists every field",
			     item->id);
		for (size_t k = 0; k < item->lib->nfields; k++) {
			share_seen[item->fields[k].share]++;
			cr_assert_not_null(item->fields[k].open, "%s.%s",
					   item->id, item->fields[k].name);
		}
		cr_assert_not_null(json_string_value(json_object_get(j,
								     "provider_name")));
		cr_assert_not_null(item->update_period);
		gx_cat_item_destroy(item);
	}
	for (size_t l = 0; l < GX_ARRAY_SIZE(lib_names); l++)
		cr_assert_eq(lib_seen[l], 1, "one item for %s", lib_names[l]);
	for (size_t s = 0; s < 3; s++)
		cr_assert_gt(share_seen[s], 0, "share class %s appears",
			     gx_share_name((gx_share_t)s));
	gx_strv_free(&ids);
	json_decref(items);
}
