/*
 * test_catalog_csv.c - the catalogue's spreadsheet form
 * (broker/lib/gx_catalog_csv.c): schemas/catalog.sample.csv says what
 * schemas/catalog.sample.json says; Chinese headers as staff write them
 * (marks, remarks, 类/项/目/细目 apart, a title row, merged cells) and
 * English ones; and every refusal names the file and the line at fault.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "gx.h"
#include "gx_catalog.h"
#include "gx_catalog_csv.h"
#include "gx_schema.h"

static gx_schemas_t *schemas;
static char err[1024];

static void setup(void)
{
	cr_assert_eq(gx_schemas_new(&schemas, err, sizeof(err)), GX_OK, "%s", err);
}

static void teardown(void)
{
	gx_schemas_destroy(schemas);
	schemas = NULL;
}

TestSuite(catalog_csv, .init = setup, .fini = teardown);

/* Read CSV text; the status, *items on success. */
static gx_err_t read_text(const char *text, json_t **items)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "rb");
	cr_assert(fp);
	err[0] = '\0';
	*items = NULL;
	gx_err_t e = gx_catalog_csv_read(fp, "cat.csv", schemas, items, err,
					 sizeof(err));
	fclose(fp);
	return e;
}

static json_t *read_ok(const char *text)
{
	json_t *items;
	cr_assert_eq(read_text(text, &items), GX_OK, "%s", err);
	return items;
}

/* Refused, with "cat.csv:LINE: " and the words `want` in the message. */
static void refused(const char *text, long line, const char *want)
{
	json_t *items;
	cr_assert_eq(read_text(text, &items), GX_ERR_INVALID, "accepted:\n%s", text);
	cr_assert_null(items);
	char at[32];
	snprintf(at, sizeof(at), "cat.csv:%ld: ", line);
	cr_expect(!strncmp(err, at, strlen(at)), "want %s..., got %s", at, err);
	cr_expect(strstr(err, want), "want '%s' in: %s", want, err);
}

static const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

Test(catalog_csv, sample_says_what_the_json_sample_says)
{
	FILE *fp = fopen("schemas/catalog.sample.csv", "rb");
	cr_assert(fp, "schemas/catalog.sample.csv (run from the repository root)");
	json_t *csv;
	cr_assert_eq(gx_catalog_csv_read(fp, "schemas/catalog.sample.csv", schemas,
					 &csv, err, sizeof(err)),
		     GX_OK, "%s", err);
	fclose(fp);
	json_error_t jerr;
	json_t *js = json_load_file("schemas/catalog.sample.json", 0, &jerr);
	cr_assert(js, "%s", jerr.text);
	cr_assert_eq(json_array_size(csv), json_array_size(js));
	int shares[3] = {0, 0, 0};
	for (size_t i = 0; i < json_array_size(js); i++) {
		json_t *a = json_array_get(csv, i), *b = json_array_get(js, i);
		static const char *const keys[] = {"item", "name", "library",
						   "provider", "provider_name",
						   "abstract", "format",
						   "update_period"};
		for (size_t k = 0; k < GX_ARRAY_SIZE(keys); k++)
			cr_expect_str_eq(str(a, keys[k]), str(b, keys[k]), "%s %s",
					 str(b, "item"), keys[k]);
		/* The guide's metadata the JSON sample lacks. */
		cr_expect(str(a, "classification") && str(a, "release_date") &&
			  str(a, "share_method"), "%s", str(b, "item"));
		json_t *fa = json_object_get(a, "fields"), *fb = json_object_get(b, "fields");
		cr_assert_eq(json_array_size(fa), json_array_size(fb), "%s", str(b, "item"));
		for (size_t f = 0; f < json_array_size(fb); f++) {
			json_t *x = json_array_get(fa, f), *y = json_array_get(fb, f);
			cr_expect_str_eq(str(x, "name"), str(y, "name"));
			cr_expect_str_eq(str(x, "share"), str(y, "share"), "%s", str(y, "name"));
			cr_expect_str_eq(str(x, "open"), str(y, "open"), "%s", str(y, "name"));
			cr_expect((str(x, "legal_basis") == NULL) == (str(y, "legal_basis") == NULL) &&
				  (!str(x, "legal_basis") ||
				   !strcmp(str(x, "legal_basis"), str(y, "legal_basis"))),
				  "%s.%s legal basis", str(b, "item"), str(y, "name"));
			cr_expect(str(x, "data_type") && str(x, "title"), "%s", str(y, "name"));
			gx_share_t sh;
			cr_assert_eq(gx_share_parse(str(x, "share"), &sh), GX_OK);
			shares[sh]++;
		}
		gx_cat_item_t *item;
		cr_assert_eq(gx_cat_item_from_json(a, schemas, &item, err, sizeof(err)),
			     GX_OK, "%s", err);
		gx_cat_item_destroy(item);
	}
	for (int s = 0; s < 3; s++)
		cr_expect(shares[s] > 0, "share class %d", s);
	json_decref(csv);
	json_decref(js);
}

Test(catalog_csv, chinese_headers_as_staff_write_them)
{
	/* A title row, marks and remarks in headers, full-width spaces,
	 * 类/项/目/细目 apart, the item code and item columns only on the
	 * first row (merged cells), Chinese field and library names, a
	 * none field with 不予共享理由, ignored 序号 and 备注. */
	refused(
	    "山西省政务信息资源目录（人口库）,,,,,,,,,,,,,,,,\n"
	    "序号,类,项,目,细目,信息资源名称*,信息资源代码*,信息资源提供方,提供方代码*,"
	    "所属基础库,信息项名称（中文）*,数据类型,数据长度,共享类型*,共享条件,"
	    "不予共享理由,更新周期,发布日期,是否向社会开放,关联资源代码,备注\n"
	    "1,1,01,001,02,人口基础信息,140000-GA-RK-0002,山西省公安厅,SX-GA,人口库,"
	    "公民身份号码,C,18,有条件共享,《居民身份证法》第十九条,,每日,2024/3/5,否,"
	    "\"140000-SCJG-FR-0001，140000-FGW-XY-0001\",核对\n"
	    "2,,,,,,,,,,\u3000姓名\u3000,字符型,64,无条件共享,,,,,是,,\n"
	    "3,,,,,,,,,,婚姻状况代码,C,2,不予共享,,《婚姻登记条例》第二条,,,否,,\n"
	    "4,,,,,,,,,,注册资本,,,,,,,,,,\n",
	    6, "library population has no field '注册资本'");
	/* Without the legal entity's field: */
	json_t *items = read_ok(
	    "序号,类,项,目,细目,信息资源名称*,信息资源代码*,信息资源提供方,提供方代码*,"
	    "所属基础库,信息项名称（中文）*,数据类型,数据长度,共享类型*,共享条件,"
	    "不予共享理由,更新周期,发布日期,是否向社会开放,关联资源代码,备注\n"
	    "1,1,01,001,02,人口基础信息,140000-GA-RK-0002,山西省公安厅,SX-GA,人口库,"
	    "公民身份号码,C,18,有条件共享,《居民身份证法》第十九条,,每日,2024/3/5,否,"
	    "\"140000-SCJG-FR-0001，140000-FGW-XY-0001\",核对\n"
	    "2,,,,,,,,,,\u3000姓名\u3000,字符型,64,无条件共享,,,,,是,,\n"
	    "3,,,,,,,,,,婚姻状况代码,C,2,不予共享,,《婚姻登记条例》第二条,,,否,,\n");
	cr_assert_eq(json_array_size(items), 1);
	json_t *it = json_array_get(items, 0);
	cr_expect_str_eq(str(it, "item"), "140000-GA-RK-0002");
	cr_expect_str_eq(str(it, "library"), "population");
	cr_expect_str_eq(str(it, "classification"), "1-01-001-02");
	cr_expect_str_eq(str(it, "update_period"), "daily");
	cr_expect_str_eq(str(it, "release_date"), "2024-03-05");
	json_t *rel = json_object_get(it, "related");
	cr_assert_eq(json_array_size(rel), 2);
	cr_expect_str_eq(json_string_value(json_array_get(rel, 1)), "140000-FGW-XY-0001");
	json_t *f = json_object_get(it, "fields");
	cr_assert_eq(json_array_size(f), 3);
	cr_expect_str_eq(str(json_array_get(f, 0), "name"), "citizen_id");
	cr_expect_str_eq(str(json_array_get(f, 0), "share"), "conditional");
	cr_expect_str_eq(str(json_array_get(f, 0), "open"), "closed");
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(f, 0), "length")), 18);
	cr_expect_str_eq(str(json_array_get(f, 1), "name"), "name");
	cr_expect_str_eq(str(json_array_get(f, 1), "data_type"), "C");
	cr_expect_str_eq(str(json_array_get(f, 2), "name"), "marital_status");
	cr_expect_str_eq(str(json_array_get(f, 2), "share"), "none");
	cr_expect_str_eq(str(json_array_get(f, 2), "legal_basis"), "《婚姻登记条例》第二条");
	json_decref(items);
}

Test(catalog_csv, english_headers)
{
	json_t *items = read_ok(
	    "item,name,classification,provider,provider_name,library,abstract,format,"
	    "share_method,update_period,release_date,related,field,data_type,length,"
	    "share,legal_basis,open,open_condition\r\n"
	    "140000-TJJ-HG-0002,Macro indicators,1-06-001,SX-TJJ,Shanxi statistics,"
	    "macroeconomy,\"Indicators, by region\",avro,api,Monthly,2024-01-31,,"
	    "indicator_code,C,32,unconditional,,open,\r\n"
	    "140000-TJJ-HG-0002,,,,,,,,,,,,value,N,\"20,4\",conditional,Statistics Law art. 9,"
	    "masked,rounded\r\n"
	    "140000-TJJ-HG-0003,Macro indicators (county),3-01-01,SX-TJJ,,macroeconomy,,,"
	    ",half-yearly,,140000-TJJ-HG-0002,value,,,none,Statistics Law art. 25,closed,\r\n");
	cr_assert_eq(json_array_size(items), 2);
	json_t *a = json_array_get(items, 0), *b = json_array_get(items, 1);
	cr_expect_str_eq(str(a, "update_period"), "monthly");
	cr_expect_str_eq(str(a, "abstract"), "Indicators, by region");
	cr_expect_str_eq(str(a, "classification"), "1-06-001");
	json_t *v = json_array_get(json_object_get(a, "fields"), 1);
	cr_expect_str_eq(str(v, "legal_basis"), "Statistics Law art. 9");
	cr_expect_eq(json_integer_value(json_object_get(v, "length")), 20);
	cr_expect_eq(json_integer_value(json_object_get(v, "decimals")), 4);
	cr_expect_str_eq(str(v, "open_condition"), "rounded");
	cr_expect_null(json_object_get(v, "title"));
	cr_expect_str_eq(str(b, "update_period"), "half-yearly");
	cr_expect_str_eq(str(b, "classification"), "3-01-01");
	json_decref(items);
}

/* The header of the refusal cases and one valid row to follow. */
#define H "信息资源代码,信息资源名称,提供方代码,所属基础库,信息项名称,共享类型,共享条件,更新周期\n"
#define OK1 "140000-GA-RK-0001,人口,SX-GA,population,name,无条件共享,,每日\n"

Test(catalog_csv, refusals_name_file_and_line)
{
	refused(H OK1 "140000-GA-RK-0001,,,,fishing_licence,无条件共享,,\n", 3,
		"library population has no field 'fishing_licence'");
	refused(H OK1 "140000-GA-RK-0002,人口,SX-GA,渔业库,name,无条件共享,,每日\n", 3,
		"unknown library '渔业库'");
	refused(H OK1 "140000-GA-RK-0001,,,,citizen_id,有条件共享,,\n", 3,
		"needs a legal basis");
	refused(H OK1 "140000-GA-RK-0001,,,,address,不予共享,,\n", 3,
		"不予共享 and needs a legal basis");
	refused(H OK1 "140000-GA-RK-0001,,,,sex,maybe,,\n", 3, "共享类型 must be");
	refused(H OK1 "SX-GA-0002,人口,SX-GA,population,name,无条件共享,,每日\n", 3,
		"信息资源代码 'SX-GA-0002' is malformed");
	refused(H "990000-GA-RK-0001,人口,SX-GA,population,name,无条件共享,,每日\n", 2,
		"malformed");
	refused(H "140000-ga-rk-0001,人口,SX-GA,population,name,无条件共享,,每日\n", 2,
		"malformed");
	refused(H OK1 "140000-GA-RK-0002,人口,SX-GA,population,name,无条件共享,,每日\n"
		      "140000-GA-RK-0001,,,,sex,无条件共享,,\n", 4,
		"item 140000-GA-RK-0001 again: it was listed from line 2 on");
	refused(H OK1 "140000-GA-RK-0001,,,,sex,无条件共享,,\n"
		      ",,,,姓名,无条件共享,,\n", 4,
		"field name listed twice (first on line 2)");
	refused(H OK1 "140000-GA-RK-0001,,,,sex,无条件共享,,每旬\n", 3,
		"item 140000-GA-RK-0001: 更新周期 '每旬' differs");
	refused(H "140000-GA-RK-0001,人口,SX-GA,population,name,无条件共享,,每旬\n", 2,
		"unknown 更新周期 '每旬'");
	refused(H OK1 "140000-GA-RK-0001,户籍人口,,,sex,无条件共享,,\n", 3,
		"信息资源名称 '户籍人口' differs from '人口' on line 2");
	refused(H ",人口,SX-GA,population,name,无条件共享,,每日\n", 2,
		"no item is above to continue");
	refused(H "140000-GA-RK-0001,人口,,population,name,无条件共享,,每日\n", 2,
		"提供方代码 is required");
	refused(H "140000-GA-RK-0001,人口,SX GA,population,name,无条件共享,,每日\n", 2,
		"提供方代码 'SX GA'");
	refused(H "140000-GA-RK-0001,人口,SX-GA,population,,,,每日\n", 2,
		"\"fields\" must be a non-empty array");
	refused("信息资源代码,信息项名称,共享类型,共享级别\n", 1, "unknown column '共享级别'");
	refused("信息资源代码,信息项名称,信息资源名称\n", 1, "no 共享类型 column");
	refused("信息资源代码,信息项名称,共享类型,field\n", 1, "column 信息项名称 given twice");
	refused("title only\n", 1, "no header row");
	refused("信息资源代码,信息项名称,共享类型\n", 1, "no catalogue items");
	refused(H "140000-GA-RK-0001,人口,SX-GA,population,name,无条件共享,,每日,extra\n", 2,
		"more cells than the header");
}

Test(catalog_csv, refusals_of_the_guide_metadata)
{
	const char *h = "信息资源代码,信息资源名称,提供方代码,所属基础库,信息项名称,共享类型,"
			"信息资源分类,发布日期,关联资源代码,数据类型,数据长度,是否向社会开放\n";
	char text[2048];
	static const struct {
		const char *cells;
		const char *want;
	} cases[] = {
	    {"4-01-001,,,,,", "类 must be 1 (基础), 2 (主题) or 3 (部门)"},
	    {"1-1-001,,,,,", "项 2 digits"},
	    {"1-01,,,,,", "want 类-项-目"},
	    {",2024-02-30,,,,", "发布日期 '2024-02-30' is not a date"},
	    {",,140000-GA-RK-1,,,", "关联资源代码: 信息资源代码 '140000-GA-RK-1'"},
	    {",,,X,,", "unknown 数据类型 'X'"},
	    {",,,C,0,", "数据长度 '0'"},
	    {",,,N,\"18,20\",", "数据长度 '18,20'"},
	    {",,,,,也许", "是否向社会开放 must be 是, 否 or 脱敏"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(cases); i++) {
		snprintf(text, sizeof(text),
			 "%s140000-GA-RK-0001,人口,SX-GA,population,name,无条件共享,%s\n", h,
			 cases[i].cells);
		refused(text, 2, cases[i].want);
	}
	/* 类 as a word, 目 in two digits, dates written by a spreadsheet. */
	snprintf(text, sizeof(text),
		 "%s140000-GA-RK-0001,人口,SX-GA,population,name,无条件共享,"
		 "基础-01-01,2024年3月5日,,数值型,\"18,2\",脱敏\n", h);
	json_t *items = read_ok(text);
	json_t *it = json_array_get(items, 0);
	cr_expect_str_eq(str(it, "classification"), "1-01-01");
	cr_expect_str_eq(str(it, "release_date"), "2024-03-05");
	json_t *f = json_array_get(json_object_get(it, "fields"), 0);
	cr_expect_str_eq(str(f, "data_type"), "N");
	cr_expect_str_eq(str(f, "open"), "masked");
	json_decref(items);
}

Test(catalog_csv, resource_codes_and_update_periods)
{
	static const char *const good[] = {"140000-GA-RK-0001", "140105-SCJG-FR-000123",
					   "110000-ABCDEFGHIJ-XY-9999"};
	static const char *const bad[] = {"", "140000-GA-RK-001", "140000-GA-RK-0000001",
					  "140000-G-RK-0001", "140000-GA-RK0001",
					  "14000-GA-RK-0001", "000000-GA-RK-0001",
					  "140000-GA-RK-0001-", "140000/GA/RK/0001",
					  "140000-GA-RK-0001/000001", "140000-ABCDEFGHIJK-RK-0001"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(good); i++)
		cr_expect_eq(gx_check_resource_code(good[i], err, sizeof(err)), GX_OK,
			     "%s: %s", good[i], err);
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++)
		cr_expect_eq(gx_check_resource_code(bad[i], err, sizeof(err)),
			     GX_ERR_INVALID, "%s", bad[i]);
	static const char *const periods[][2] = {
	    {"实时", "realtime"}, {"每日", "daily"},	{"每周", "weekly"},
	    {"每月", "monthly"},  {"每季度", "quarterly"}, {"每半年", "half-yearly"},
	    {"每年", "yearly"},	  {"Daily", "daily"},	   {"half-yearly", "half-yearly"}};
	for (size_t i = 0; i < GX_ARRAY_SIZE(periods); i++) {
		const char *p = gx_update_period_name(periods[i][0]);
		cr_expect(p && !strcmp(p, periods[i][1]), "%s", periods[i][0]);
	}
	cr_expect_null(gx_update_period_name("每旬"));
	cr_expect_null(gx_update_period_name(""));
}
