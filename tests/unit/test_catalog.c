/*
 * test_catalog.c - catalogue items (broker/lib/gx_catalog.c): what the
 * catalogue refuses and why, the Chinese share terms, the `none` default
 * for unlisted fields, and the materialised catalogue over govex.catalog
 * messages (replace, tombstone, malformed, key mismatch).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_catalog.h"
#include "gx_schema.h"

static gx_schemas_t *schemas;
static char err[512];

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

TestSuite(catalog, .init = setup, .fini = teardown);

/* JSON text with ' for " so the test items stay readable. */
static char *dq(const char *s)
{
	char *t = gx_strdup(s);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static json_t *J(const char *s)
{
	char *t = dq(s);
	json_error_t jerr;
	json_t *j = json_loads(t, 0, &jerr);
	cr_assert_not_null(j, "test JSON: %s: %s", jerr.text, t);
	free(t);
	return j;
}

/* Parse item text; returns the error code, item in *out on success. */
static gx_err_t parse(const char *text, gx_cat_item_t **out)
{
	json_t *j = J(text);
	*out = NULL;
	err[0] = '\0';
	gx_err_t e = gx_cat_item_from_json(j, schemas, out, err, sizeof(err));
	json_decref(j);
	if (e)
		cr_assert_null(*out, "no item on error");
	return e;
}

static void expect_refused(const char *text, const char *msg)
{
	gx_cat_item_t *it;
	cr_assert_eq(parse(text, &it), GX_ERR_INVALID, "accepted: %s", text);
	cr_assert_str_eq(err, msg);
}

#define HEAD "{'item':'140000-GA-0001','provider':'SX-GA','library':'population',"

Test(catalog, parses_a_full_item)
{
	gx_cat_item_t *it;
	cr_assert_eq(parse(HEAD "'name':'人口基础信息','update_period':'daily',"
			   "'fields':["
			   "{'name':'name','share':'unconditional','open':'masked'},"
			   "{'name':'citizen_id','share':'conditional',"
			   "'legal_basis':'《居民身份证法》第十九条','open':'closed'},"
			   "{'name':'address','share':'none','legal_basis':'L2'}]}",
			   &it),
		     GX_OK, "%s", err);
	cr_assert_str_eq(it->id, "140000-GA-0001");
	cr_assert_str_eq(it->provider, "SX-GA");
	cr_assert_str_eq(it->library, "population");
	cr_assert_str_eq(it->name, "人口基础信息");
	cr_assert_str_eq(it->update_period, "daily");
	cr_assert_eq(it->lib, gx_schemas_library(schemas, "population"));
	cr_assert_not_null(it->json);

	const gx_cat_field_t *f = gx_cat_item_field(it, "citizen_id");
	cr_assert_not_null(f);
	cr_assert_eq(f->share, GX_SHARE_CONDITIONAL);
	cr_assert_str_eq(f->legal_basis, "《居民身份证法》第十九条");
	cr_assert_str_eq(f->open, "closed");

	f = gx_cat_item_field(it, "name");
	cr_assert_eq(f->share, GX_SHARE_UNCONDITIONAL);
	cr_assert_null(f->legal_basis);
	cr_assert_str_eq(f->open, "masked");

	f = gx_cat_item_field(it, "address");
	cr_assert_eq(f->share, GX_SHARE_NONE);
	cr_assert_str_eq(f->legal_basis, "L2");

	/* fields[] is parallel to the library's fields. */
	for (size_t i = 0; i < it->lib->nfields; i++)
		cr_assert_str_eq(it->fields[i].name, it->lib->fields[i].name);
	cr_assert_null(gx_cat_item_field(it, "no_such_field"));
	gx_cat_item_destroy(it);
}

Test(catalog, unlisted_fields_default_to_none)
{
	gx_cat_item_t *it;
	cr_assert_eq(parse(HEAD "'fields':[{'name':'sex','share':'unconditional'}]}",
			   &it),
		     GX_OK, "%s", err);
	size_t unconditional = 0;
	for (size_t i = 0; i < it->lib->nfields; i++) {
		const gx_cat_field_t *f = &it->fields[i];
		if (!strcmp(f->name, "sex")) {
			cr_assert_eq(f->share, GX_SHARE_UNCONDITIONAL);
			unconditional++;
		} else {
			cr_assert_eq(f->share, GX_SHARE_NONE,
				     "unlisted %s must be none", f->name);
			cr_assert_null(f->legal_basis);
		}
	}
	cr_assert_eq(unconditional, 1);
	gx_cat_item_destroy(it);
}

Test(catalog, chinese_share_terms)
{
	gx_cat_item_t *it;
	cr_assert_eq(parse(HEAD "'fields':["
			   "{'name':'name','share':'无条件共享'},"
			   "{'name':'citizen_id','share':'有条件共享','legal_basis':'L1'},"
			   "{'name':'address','share':'不予共享','legal_basis':'L2'}]}",
			   &it),
		     GX_OK, "%s", err);
	cr_assert_eq(gx_cat_item_field(it, "name")->share, GX_SHARE_UNCONDITIONAL);
	cr_assert_eq(gx_cat_item_field(it, "citizen_id")->share,
		     GX_SHARE_CONDITIONAL);
	cr_assert_eq(gx_cat_item_field(it, "address")->share, GX_SHARE_NONE);
	gx_cat_item_destroy(it);

	/* A Chinese conditional term still needs a legal basis. */
	expect_refused(HEAD "'fields':[{'name':'citizen_id','share':'有条件共享'}]}",
		       "item 140000-GA-0001: field citizen_id: a conditional "
		       "field needs a legal_basis (art. 12)");
}

Test(catalog, share_names_parse_and_print)
{
	gx_share_t s;
	static const struct {
		const char *word;
		gx_share_t share;
	} ok[] = {
	    {"unconditional", GX_SHARE_UNCONDITIONAL},
	    {"conditional", GX_SHARE_CONDITIONAL},
	    {"none", GX_SHARE_NONE},
	    {"无条件共享", GX_SHARE_UNCONDITIONAL},
	    {"有条件共享", GX_SHARE_CONDITIONAL},
	    {"不予共享", GX_SHARE_NONE},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(ok); i++) {
		cr_assert_eq(gx_share_parse(ok[i].word, &s), GX_OK, "%s",
			     ok[i].word);
		cr_assert_eq(s, ok[i].share, "%s", ok[i].word);
	}
	static const char *bad[] = {"", "Unconditional", "open", "yes",
				    "conditional ", "共享"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++)
		cr_assert_eq(gx_share_parse(bad[i], &s), GX_ERR_INVALID, "'%s'",
			     bad[i]);
	cr_assert_str_eq(gx_share_name(GX_SHARE_UNCONDITIONAL), "unconditional");
	cr_assert_str_eq(gx_share_name(GX_SHARE_CONDITIONAL), "conditional");
	cr_assert_str_eq(gx_share_name(GX_SHARE_NONE), "none");
}

Test(catalog, refusals_name_item_and_field)
{
	static const struct {
		const char *json, *msg;
	} cases[] = {
	    {"{'item':'I1','provider':'P','library':'cadastre',"
	     "'fields':[{'name':'name','share':'none','legal_basis':'L'}]}",
	     "item I1: unknown library 'cadastre'"},
	    {"{'item':'I1','provider':'P',"
	     "'fields':[{'name':'name','share':'none','legal_basis':'L'}]}",
	     "item I1: unknown library ''"},
	    {"{'item':'I1','provider':'P','library':'population',"
	     "'fields':[{'name':'name','share':'unconditional'},"
	     "{'name':'shoe_size','share':'unconditional'}]}",
	     "item I1: field 2: library population has no field 'shoe_size'"},
	    {"{'item':'I1','provider':'P','library':'population',"
	     "'fields':[{'share':'unconditional'}]}",
	     "item I1: field 1: library population has no field ''"},
	    {"{'item':'I1','provider':'P','library':'population',"
	     "'fields':[{'name':'citizen_id','share':'conditional'}]}",
	     "item I1: field citizen_id: a conditional field needs a "
	     "legal_basis (art. 12)"},
	    {"{'item':'I1','provider':'P','library':'population',"
	     "'fields':[{'name':'citizen_id','share':'conditional','legal_basis':''}]}",
	     "item I1: field citizen_id: a conditional field needs a "
	     "legal_basis (art. 12)"},
	    {"{'item':'I1','provider':'P','library':'population',"
	     "'fields':[{'name':'address','share':'none'}]}",
	     "item I1: field address: a none field needs a legal_basis "
	     "(art. 12)"},
	    {"{'item':'I1','provider':'P','library':'population',"
	     "'fields':[{'name':'address','share':'secret','legal_basis':'L'}]}",
	     "item I1: field address: share must be unconditional, "
	     "conditional or none"},
	    {"{'item':'I1','provider':'P','library':'population',"
	     "'fields':[{'name':'address','legal_basis':'L'}]}",
	     "item I1: field address: share must be unconditional, "
	     "conditional or none"},
	    {"{'item':'I1','provider':'P','library':'population',"
	     "'fields':[{'name':'sex','share':'unconditional'},"
	     "{'name':'sex','share':'none','legal_basis':'L'}]}",
	     "item I1: field sex listed twice"},
	    {"{'provider':'P','library':'population',"
	     "'fields':[{'name':'sex','share':'unconditional'}]}",
	     "catalogue item: \"item\" (the item id) is required"},
	    {"{'item':'','provider':'P','library':'population',"
	     "'fields':[{'name':'sex','share':'unconditional'}]}",
	     "catalogue item: \"item\" (the item id) is required"},
	    {"{'item':'I1','library':'population',"
	     "'fields':[{'name':'sex','share':'unconditional'}]}",
	     "item I1: \"provider\" is required"},
	    {"{'item':'I1','provider':'','library':'population',"
	     "'fields':[{'name':'sex','share':'unconditional'}]}",
	     "item I1: \"provider\" is required"},
	    {"{'item':'I1','provider':'P','library':'population','fields':[]}",
	     "item I1: \"fields\" must be a non-empty array"},
	    {"{'item':'I1','provider':'P','library':'population'}",
	     "item I1: \"fields\" must be a non-empty array"},
	    {"{'item':'I1','provider':'P','library':'population','fields':{}}",
	     "item I1: \"fields\" must be a non-empty array"},
	    {"{'item':'I 1','provider':'P','library':'population',"
	     "'fields':[{'name':'sex','share':'unconditional'}]}",
	     "item id 'I 1': only letters, digits, '-' and '_' are allowed"},
	    {"{'item':'I1','provider':'SX/GA','library':'population',"
	     "'fields':[{'name':'sex','share':'unconditional'}]}",
	     "provider 'SX/GA': only letters, digits, '-' and '_' are allowed"},
	    {"{'item':'I1234567890123456789012345678901234567890123456789012345678901234',"
	     "'provider':'P','library':'population',"
	     "'fields':[{'name':'sex','share':'unconditional'}]}",
	     "item id must be 1 to 64 characters"},
	    {"[1,2]", "catalogue item must be a JSON object"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(cases); i++)
		expect_refused(cases[i].json, cases[i].msg);
}

/* ---- the materialised catalogue ---- */

static gx_err_t apply(gx_catalog_t *cat, const char *key, const char *text,
		      int64_t offset)
{
	char *t = text ? dq(text) : NULL;
	err[0] = '\0';
	gx_err_t e = gx_catalog_apply(cat, key, t, t ? strlen(t) : 0, offset,
				      err, sizeof(err));
	free(t);
	return e;
}

#define ITEM(id, share, basis)                                               \
	"{'item':'" id "','provider':'P','library':'population','fields':["   \
	"{'name':'name','share':'" share "'" basis "}]}"

Test(catalog, apply_adds_and_replaces)
{
	gx_catalog_t *cat = gx_catalog_new(schemas);
	cr_assert_eq(gx_catalog_count(cat), 0);
	cr_assert_null(gx_catalog_get(cat, "A"));

	cr_assert_eq(apply(cat, "A", ITEM("A", "unconditional", ""), 10), GX_OK,
		     "%s", err);
	cr_assert_eq(apply(cat, "B", ITEM("B", "unconditional", ""), 11), GX_OK);
	cr_assert_eq(gx_catalog_count(cat), 2);
	const gx_cat_item_t *a = gx_catalog_get(cat, "A");
	cr_assert_not_null(a);
	cr_assert_eq(a->offset, 10);
	cr_assert_eq(gx_cat_item_field(a, "name")->share, GX_SHARE_UNCONDITIONAL);

	/* A new version replaces the old one. */
	cr_assert_eq(apply(cat, "A",
			   ITEM("A", "conditional", ",'legal_basis':'L'"), 12),
		     GX_OK, "%s", err);
	cr_assert_eq(gx_catalog_count(cat), 2);
	a = gx_catalog_get(cat, "A");
	cr_assert_eq(a->offset, 12);
	cr_assert_eq(gx_cat_item_field(a, "name")->share, GX_SHARE_CONDITIONAL);
	cr_assert_eq(gx_catalog_get(cat, "B")->offset, 11, "B untouched");

	/* Iteration visits each item once. */
	int seen_a = 0, seen_b = 0;
	const gx_cat_item_t *it;
	for (size_t i = 0; (it = gx_catalog_next(cat, &i));) {
		seen_a += !strcmp(it->id, "A");
		seen_b += !strcmp(it->id, "B");
	}
	cr_assert(seen_a == 1 && seen_b == 1);
	gx_catalog_destroy(cat);
}

Test(catalog, apply_tombstone_removes)
{
	gx_catalog_t *cat = gx_catalog_new(schemas);
	cr_assert_eq(apply(cat, "A", ITEM("A", "unconditional", ""), 1), GX_OK);
	cr_assert_eq(apply(cat, "B", ITEM("B", "unconditional", ""), 2), GX_OK);
	cr_assert_eq(apply(cat, "A", NULL, 3), GX_OK);
	cr_assert_null(gx_catalog_get(cat, "A"));
	cr_assert_not_null(gx_catalog_get(cat, "B"));
	cr_assert_eq(gx_catalog_count(cat), 1);
	/* A tombstone for an item never seen is not an error. */
	cr_assert_eq(apply(cat, "never", NULL, 4), GX_OK);
	cr_assert_eq(gx_catalog_count(cat), 1);
	gx_catalog_destroy(cat);
}

Test(catalog, apply_malformed_removes_earlier_version)
{
	gx_catalog_t *cat = gx_catalog_new(schemas);
	cr_assert_eq(apply(cat, "A", ITEM("A", "unconditional", ""), 1), GX_OK);
	cr_assert_eq(apply(cat, "B", ITEM("B", "unconditional", ""), 2), GX_OK);

	cr_assert_eq(apply(cat, "A", "{'item':'A',", 3), GX_ERR_INVALID);
	cr_assert_not_null(strstr(err, "catalogue item A: not JSON"), "%s", err);
	cr_assert_null(gx_catalog_get(cat, "A"),
		       "nothing may be released under an unreadable entry");
	cr_assert_not_null(gx_catalog_get(cat, "B"));

	/* Valid JSON but an invalid item does the same. */
	cr_assert_eq(apply(cat, "B", ITEM("B", "none", ""), 4), GX_ERR_INVALID);
	cr_assert_str_eq(err, "item B: field name: a none field needs a "
			      "legal_basis (art. 12)");
	cr_assert_null(gx_catalog_get(cat, "B"));
	cr_assert_eq(gx_catalog_count(cat), 0);
	gx_catalog_destroy(cat);
}

Test(catalog, apply_refuses_key_item_mismatch)
{
	gx_catalog_t *cat = gx_catalog_new(schemas);
	cr_assert_eq(apply(cat, "A", ITEM("A", "unconditional", ""), 1), GX_OK);
	cr_assert_eq(apply(cat, "A", ITEM("B", "unconditional", ""), 2),
		     GX_ERR_INVALID);
	cr_assert_str_eq(err, "catalogue message key A names item B");
	cr_assert_null(gx_catalog_get(cat, "B"), "not stored under either id");
	cr_assert_null(gx_catalog_get(cat, "A"),
		       "a refused message removes the key's earlier version");
	cr_assert_eq(gx_catalog_count(cat), 0);
	gx_catalog_destroy(cat);
}
