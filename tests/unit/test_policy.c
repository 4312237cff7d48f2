/*
 * test_policy.c - the sharing policy (broker/lib/gx_policy.c, DESIGN
 * "Sharing policy"): which fields of a catalogue item a grant releases, the
 * default-deny verdicts, grant expiry at its exact boundary, catalogue
 * changes after a grant, and the classification of a consumer's request.
 *
 * Items come from gx_cat_item_from_json and grants from request/approve
 * events applied with gx_approvals_apply, as in the broker.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_catalog.h"
#include "gx_policy.h"
#include "gx_schema.h"

static gx_schemas_t *schemas;
static const gx_library_t *pop;
static gx_approvals_t *ap;
static char err[512];
static int64_t next_offset;

static void setup(void)
{
	cr_assert_eq(gx_schemas_new(&schemas, err, sizeof(err)), GX_OK, "%s",
		     err);
	pop = gx_schemas_library(schemas, "population");
	cr_assert_not_null(pop);
	cr_assert_eq(pop->nfields, 11, "the tables below assume 11 fields");
	ap = gx_approvals_new();
	next_offset = 0;
}

static void teardown(void)
{
	gx_approvals_destroy(ap);
	gx_schemas_destroy(schemas);
}

TestSuite(policy, .init = setup, .fini = teardown);

/*
 * An item JSON of the population library whose field i has the sharing
 * class spec[i]: 'u' unconditional, 'c' conditional, 'n' none (each with a
 * legal basis "basis-<field>"), '-' not listed. Field order:
 *   0 citizen_id  1 name  2 sex  3 ethnicity  4 birth_date  5 division_code
 *   6 address  7 marital_status  8 education  9 status  10 updated_at
 */
static json_t *item_json(const char *id, const char *spec)
{
	cr_assert_eq(strlen(spec), pop->nfields, "spec '%s'", spec);
	json_t *fields = json_array();
	for (size_t i = 0; i < pop->nfields; i++) {
		const char *share = spec[i] == 'u'   ? "unconditional"
				    : spec[i] == 'c' ? "conditional"
				    : spec[i] == 'n' ? "none"
						     : NULL;
		if (!share)
			continue;
		json_t *f = json_pack("{s:s, s:s}", "name", pop->fields[i].name,
				      "share", share);
		if (spec[i] != 'u') {
			char *basis = gx_asprintf("basis-%s", pop->fields[i].name);
			json_object_set_new(f, "legal_basis", json_string(basis));
			free(basis);
		}
		json_array_append_new(fields, f);
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:o}", "item", id, "name",
			 "人口基础信息", "library", "population", "provider",
			 "SX-GA", "fields", fields);
}

static gx_cat_item_t *make_item(const char *id, const char *spec)
{
	json_t *j = item_json(id, spec);
	gx_cat_item_t *it = NULL;
	cr_assert_eq(gx_cat_item_from_json(j, schemas, &it, err, sizeof(err)),
		     GX_OK, "%s", err);
	json_decref(j);
	return it;
}

/* Field names as a JSON array; "*" is every library field. */
static json_t *fields_array(const char *csv)
{
	json_t *a = json_array();
	if (!strcmp(csv, "*")) {
		for (size_t i = 0; i < pop->nfields; i++)
			json_array_append_new(a, json_string(pop->fields[i].name));
		return a;
	}
	gx_strv_t sv;
	gx_strv_init(&sv);
	gx_strv_split(&sv, csv);
	for (size_t i = 0; i < sv.n; i++)
		json_array_append_new(a, json_string(sv.v[i]));
	gx_strv_free(&sv);
	return a;
}

static void apply_event(json_t *e)
{
	char *s = json_dumps(e, JSON_COMPACT);
	json_decref(e);
	gx_err_t rc = gx_approvals_apply(ap, s, strlen(s), next_offset++, err,
					 sizeof(err));
	cr_assert_eq(rc, GX_OK, "%s: %s", s, err);
	free(s);
}

/*
 * Request then approve fields of item, approved at 1000 ms; until 0 is
 * open-ended. Returns the grant as the approvals state holds it.
 */
static const gx_grant_t *grant(const char *gid, const char *item,
			       const char *fields, int automatic,
			       int64_t until)
{
	char rid[64];
	snprintf(rid, sizeof(rid), "req-%s", gid);
	apply_event(json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:n, s:s, "
			      "s:I}",
			      "type", "request", "request_id", rid, "consumer",
			      "SX-MZ", "item", item, "fields",
			      fields_array(fields), "purpose", "低保审核",
			      "basis", "《社会救助暂行办法》", "until", "actor",
			      "SX-MZ", "at", (json_int_t)900));
	json_t *approve = json_pack(
	    "{s:s, s:s, s:s, s:o, s:b, s:s, s:I}", "type", "approve",
	    "request_id", rid, "grant_id", gid, "fields", fields_array(fields),
	    "automatic", automatic, "actor",
	    automatic ? "govex" : "SX-GA-admin", "at", (json_int_t)1000);
	json_object_set_new(approve, "until",
			    until ? json_integer(until) : json_null());
	apply_event(approve);
	const gx_grant_t *g = gx_approvals_grant(ap, gid);
	cr_assert_not_null(g);
	return g;
}

/* Bit mask of the named fields ("*": all). */
static uint64_t mask(const char *csv)
{
	uint64_t m = 0;
	if (!strcmp(csv, "*"))
		return (UINT64_C(1) << pop->nfields) - 1;
	gx_strv_t sv;
	gx_strv_init(&sv);
	gx_strv_split(&sv, csv);
	for (size_t i = 0; i < sv.n; i++) {
		const gx_field_t *f = gx_library_field(pop, sv.v[i]);
		cr_assert_not_null(f, "no field %s", sv.v[i]);
		m |= UINT64_C(1) << f->index;
	}
	gx_strv_free(&sv);
	return m;
}

static void expect(const gx_decision_t *d, gx_verdict_t verdict,
		   const char *reason, uint64_t released, const char *what)
{
	cr_assert_eq(d->verdict, verdict, "%s: verdict %s, want %s", what,
		     gx_verdict_name(d->verdict), gx_verdict_name(verdict));
	cr_assert_str_eq(d->reason, reason, "%s", what);
	cr_assert_eq(d->released, released, "%s: released %#llx, want %#llx",
		     what, (unsigned long long)d->released,
		     (unsigned long long)released);
}

/*
 * Class x grant kind, for every field in turn: the field under test has
 * the class, all others are unconditional, and the grant names every field.
 */
Test(policy, class_by_grant_kind_for_every_field)
{
	static const struct {
		char cls;
		int automatic;
		int released;
	} matrix[] = {
	    {'u', 1, 1}, /* unconditional: automatic grant suffices */
	    {'u', 0, 1},
	    {'c', 1, 0}, /* conditional: only the provider can approve */
	    {'c', 0, 1},
	    {'n', 1, 0}, /* none: never */
	    {'n', 0, 0},
	};
	int n = 0;
	for (size_t m = 0; m < GX_ARRAY_SIZE(matrix); m++)
		for (size_t i = 0; i < pop->nfields; i++) {
			char spec[16], id[32], gid[32];
			memset(spec, 'u', pop->nfields);
			spec[pop->nfields] = '\0';
			spec[i] = matrix[m].cls;
			snprintf(id, sizeof(id), "I-%zu-%zu", m, i);
			snprintf(gid, sizeof(gid), "G-%zu-%zu", m, i);
			gx_cat_item_t *it = make_item(id, spec);
			const gx_grant_t *g =
			    grant(gid, id, "*", matrix[m].automatic, 0);
			gx_decision_t d;
			gx_policy_eval(it, g, 5000, &d);

			uint64_t want = mask("*");
			if (!matrix[m].released)
				want &= ~(UINT64_C(1) << i);
			char what[128];
			snprintf(what, sizeof(what), "%s %s under %s grant",
				 pop->fields[i].name, spec,
				 matrix[m].automatic ? "automatic"
						     : "approved");
			if (matrix[m].released)
				expect(&d, GX_VERDICT_RELEASED, "granted", want,
				       what);
			else
				expect(&d, GX_VERDICT_PARTIAL,
				       "granted_partial", want, what);
			cr_assert_eq(d.grant, g);
			gx_cat_item_destroy(it);
			n++;
		}
	cr_assert_eq(n, 66);
}

/* Whole items: the verdict follows from which fields end up released. */
Test(policy, verdict_table)
{
	static const struct {
		const char *what;
		const char *spec;	/* classes, see item_json */
		const char *fields;	/* granted ("*": all) */
		int automatic;
		gx_verdict_t verdict;
		const char *reason;
		const char *released;	/* "" none, "*" all */
	} cases[] = {
	    {"all unconditional, automatic", "uuuuuuuuuuu", "*", 1,
	     GX_VERDICT_RELEASED, "granted", "*"},
	    {"all unconditional, approved", "uuuuuuuuuuu", "*", 0,
	     GX_VERDICT_RELEASED, "granted", "*"},
	    {"all conditional, approved", "ccccccccccc", "*", 0,
	     GX_VERDICT_RELEASED, "granted", "*"},
	    {"all conditional, automatic", "ccccccccccc", "*", 1,
	     GX_VERDICT_WITHHELD, "no_field_allowed", ""},
	    {"all none, approved", "nnnnnnnnnnn", "*", 0, GX_VERDICT_WITHHELD,
	     "no_field_allowed", ""},
	    {"all none, automatic", "nnnnnnnnnnn", "*", 1, GX_VERDICT_WITHHELD,
	     "no_field_allowed", ""},
	    {"mixed, approved", "cuuuuuucunn", "*", 0, GX_VERDICT_PARTIAL,
	     "granted_partial",
	     "citizen_id,name,sex,ethnicity,birth_date,division_code,address,"
	     "marital_status,education"},
	    {"mixed, automatic", "cuuuuuucunn", "*", 1, GX_VERDICT_PARTIAL,
	     "granted_partial",
	     "name,sex,ethnicity,birth_date,division_code,address,education"},
	    {"fields not in the grant are withheld", "uuuuuuuuuuu",
	     "name,sex", 1, GX_VERDICT_PARTIAL, "granted_partial", "name,sex"},
	    {"ten of eleven is not all", "uuuuuuuuuuu",
	     "citizen_id,name,sex,ethnicity,birth_date,division_code,address,"
	     "marital_status,education,status",
	     0, GX_VERDICT_PARTIAL, "granted_partial",
	     "citizen_id,name,sex,ethnicity,birth_date,division_code,address,"
	     "marital_status,education,status"},
	    {"grant covers only none fields", "uuuuuuunnnn",
	     "marital_status,education,status,updated_at", 0,
	     GX_VERDICT_WITHHELD, "no_field_allowed", ""},
	    {"unlisted fields are none", "-u---------", "*", 0,
	     GX_VERDICT_PARTIAL, "granted_partial", "name"},
	    {"grant of unlisted fields only", "-u---------", "citizen_id,sex",
	     0, GX_VERDICT_WITHHELD, "no_field_allowed", ""},
	};
	for (size_t c = 0; c < GX_ARRAY_SIZE(cases); c++) {
		char id[32], gid[32];
		snprintf(id, sizeof(id), "item-%zu", c);
		snprintf(gid, sizeof(gid), "grant-%zu", c);
		gx_cat_item_t *it = make_item(id, cases[c].spec);
		const gx_grant_t *g = grant(gid, id, cases[c].fields,
					    cases[c].automatic, 0);
		gx_decision_t d;
		gx_policy_eval(it, g, 5000, &d);
		expect(&d, cases[c].verdict, cases[c].reason,
		       *cases[c].released ? mask(cases[c].released) : 0,
		       cases[c].what);
		gx_cat_item_destroy(it);
	}
}

Test(policy, default_deny)
{
	gx_cat_item_t *it = make_item("I1", "uuuuuuuuuuu");
	const gx_grant_t *g = grant("G1", "I1", "*", 1, 0);
	gx_decision_t d;

	gx_policy_eval(it, NULL, 5000, &d);
	expect(&d, GX_VERDICT_DENIED, "no_grant", 0, "no grant");

	gx_policy_eval(NULL, g, 5000, &d);
	expect(&d, GX_VERDICT_WITHHELD, "unknown_item", 0, "no item");

	gx_policy_eval(NULL, NULL, 5000, &d);
	expect(&d, GX_VERDICT_WITHHELD, "unknown_item", 0, "neither");

	/* A grant on another item releases nothing of this one. */
	gx_cat_item_t *other = make_item("I2", "uuuuuuuuuuu");
	gx_policy_eval(other, g, 5000, &d);
	expect(&d, GX_VERDICT_DENIED, "grant_other_item", 0, "other item");
	gx_cat_item_destroy(other);

	gx_policy_eval(it, g, 5000, &d);
	expect(&d, GX_VERDICT_RELEASED, "granted", mask("*"), "control");
	gx_cat_item_destroy(it);
}

Test(policy, revoked_grant_denied)
{
	gx_cat_item_t *it = make_item("I1", "uuuuuuuuuuu");
	const gx_grant_t *g = grant("G1", "I1", "*", 0, 0);
	gx_decision_t d;
	gx_policy_eval(it, g, 5000, &d);
	cr_assert_eq(d.verdict, GX_VERDICT_RELEASED);

	apply_event(json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "type",
			      "revoke", "request_id", "req-G1", "grant_id",
			      "G1", "reason", "项目结束", "actor", "SX-GA-admin",
			      "at", (json_int_t)6000));
	gx_policy_eval(it, g, 5000, &d);
	expect(&d, GX_VERDICT_DENIED, "grant_revoked", 0,
	       "revocation stops release at once, whatever the time");
	gx_policy_eval(it, g, 7000, &d);
	expect(&d, GX_VERDICT_DENIED, "grant_revoked", 0, "after revocation");
	gx_cat_item_destroy(it);
}

Test(policy, expiry_at_the_boundary)
{
	gx_cat_item_t *it = make_item("I1", "uuuuuuuuuuu");
	const gx_grant_t *g = grant("G1", "I1", "*", 0, 10000);
	gx_decision_t d;

	gx_policy_eval(it, g, 9999, &d);
	expect(&d, GX_VERDICT_RELEASED, "granted", mask("*"), "until - 1");
	gx_policy_eval(it, g, 10000, &d);
	expect(&d, GX_VERDICT_DENIED, "grant_expired", 0, "now == until");
	gx_policy_eval(it, g, 10001, &d);
	expect(&d, GX_VERDICT_DENIED, "grant_expired", 0, "after until");

	/* Nor before the approval itself (at 1000). */
	gx_policy_eval(it, g, 999, &d);
	expect(&d, GX_VERDICT_DENIED, "grant_not_started", 0, "before from");
	gx_policy_eval(it, g, 1000, &d);
	expect(&d, GX_VERDICT_RELEASED, "granted", mask("*"), "at from");
	gx_cat_item_destroy(it);
}

static gx_err_t publish(gx_catalog_t *cat, const char *id, const char *spec,
			int64_t offset)
{
	json_t *j = item_json(id, spec);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	gx_err_t e = gx_catalog_apply(cat, id, s, strlen(s), offset, err,
				      sizeof(err));
	free(s);
	return e;
}

/* The catalogue as it stands now decides: a stricter class wins. */
Test(policy, catalogue_change_after_grant)
{
	gx_catalog_t *cat = gx_catalog_new(schemas);
	gx_decision_t d;

	/* name unconditional; an automatic grant of name and sex. */
	cr_assert_eq(publish(cat, "I1", "uuuuuuuuuuu", 1), GX_OK, "%s", err);
	const gx_grant_t *g = grant("G1", "I1", "name,sex", 1, 0);
	gx_policy_eval(gx_catalog_get(cat, "I1"), g, 5000, &d);
	expect(&d, GX_VERDICT_PARTIAL, "granted_partial", mask("name,sex"),
	       "version 1");

	/* Version 2: name becomes conditional - the automatic grant no
	 * longer covers it. */
	cr_assert_eq(publish(cat, "I1", "ucuuuuuuuuu", 2), GX_OK, "%s", err);
	gx_policy_eval(gx_catalog_get(cat, "I1"), g, 5000, &d);
	expect(&d, GX_VERDICT_PARTIAL, "granted_partial", mask("sex"),
	       "name became conditional under an automatic grant");

	/* Version 3: sex too - nothing left to release. */
	cr_assert_eq(publish(cat, "I1", "uccuuuuuuuu", 3), GX_OK, "%s", err);
	gx_policy_eval(gx_catalog_get(cat, "I1"), g, 5000, &d);
	expect(&d, GX_VERDICT_WITHHELD, "no_field_allowed", 0,
	       "all granted fields now conditional");

	/* A provider-approved grant of conditional fields... */
	const gx_grant_t *g2 = grant("G2", "I1", "name,sex", 0, 0);
	gx_policy_eval(gx_catalog_get(cat, "I1"), g2, 5000, &d);
	expect(&d, GX_VERDICT_PARTIAL, "granted_partial", mask("name,sex"),
	       "approved grant releases conditional fields");

	/* ...loses a field that becomes none. */
	cr_assert_eq(publish(cat, "I1", "uncuuuuuuuu", 4), GX_OK, "%s", err);
	gx_policy_eval(gx_catalog_get(cat, "I1"), g2, 5000, &d);
	expect(&d, GX_VERDICT_PARTIAL, "granted_partial", mask("sex"),
	       "name became none under an approved grant");

	/* And once the item is gone nothing is released at all. */
	cr_assert_eq(gx_catalog_apply(cat, "I1", NULL, 0, 5, err, sizeof(err)),
		     GX_OK);
	gx_policy_eval(gx_catalog_get(cat, "I1"), g2, 5000, &d);
	expect(&d, GX_VERDICT_WITHHELD, "unknown_item", 0, "item deleted");
	gx_catalog_destroy(cat);
}

Test(policy, verdict_names)
{
	cr_assert_str_eq(gx_verdict_name(GX_VERDICT_RELEASED), "released");
	cr_assert_str_eq(gx_verdict_name(GX_VERDICT_PARTIAL), "partly_released");
	cr_assert_str_eq(gx_verdict_name(GX_VERDICT_WITHHELD), "withheld");
	cr_assert_str_eq(gx_verdict_name(GX_VERDICT_DENIED), "denied");
}

/* ---- gx_policy_request ---- */

static gx_err_t classify(const gx_cat_item_t *it, const char *csv,
			 gx_request_eval_t *re)
{
	gx_strv_t sv;
	gx_strv_init(&sv);
	gx_strv_split(&sv, csv);
	err[0] = '\0';
	gx_err_t e = gx_policy_request(it, &sv, re, err, sizeof(err));
	gx_strv_free(&sv);
	return e;
}

static void expect_list(const gx_strv_t *sv, const char *want,
			const char *what)
{
	char *got = gx_strv_join(sv, ",");
	cr_assert_str_eq(got, want, "%s", what);
	free(got);
}

Test(policy, request_classification)
{
	/* citizen_id c, name u, sex u, address n, education unlisted,
	 * status c. */
	gx_cat_item_t *it = make_item("I1", "cuuuuunn-cu");
	gx_request_eval_t re;

	cr_assert_eq(classify(it, "citizen_id,name,address,education,status,"
				  "sex",
			      &re),
		     GX_OK, "%s", err);
	expect_list(&re.automatic, "name,sex", "automatic");
	expect_list(&re.conditional, "citizen_id,status", "conditional");
	expect_list(&re.refused, "address,education", "refused");
	/* The refusal carries the catalogue's legal basis per field; an
	 * unlisted field has none to give. */
	cr_assert_eq(re.refused_basis.n, 2);
	cr_assert_str_eq(re.refused_basis.v[0], "basis-address");
	cr_assert_str_eq(re.refused_basis.v[1], "");
	gx_request_eval_free(&re);

	cr_assert_eq(classify(it, "name,sex", &re), GX_OK);
	expect_list(&re.automatic, "name,sex", "all unconditional");
	cr_assert_eq(re.conditional.n, 0);
	cr_assert_eq(re.refused.n, 0);
	gx_request_eval_free(&re);
	gx_cat_item_destroy(it);
}

Test(policy, request_errors_classify_nothing)
{
	gx_cat_item_t *it = make_item("I1", "cuuuuunn-cu");
	gx_request_eval_t re;

	cr_assert_eq(classify(it, "name,shoe_size", &re), GX_ERR_INVALID);
	cr_assert_str_eq(err, "item I1 (library population) has no field "
			      "'shoe_size'");
	cr_assert_eq(re.automatic.n + re.conditional.n + re.refused.n, 0,
		     "name must not be classified when the request is bad");
	gx_request_eval_free(&re);

	cr_assert_eq(classify(it, "name,sex,name", &re), GX_ERR_INVALID);
	cr_assert_str_eq(err, "field 'name' requested twice");
	cr_assert_eq(re.automatic.n, 0);
	gx_request_eval_free(&re);

	cr_assert_eq(classify(it, "", &re), GX_ERR_INVALID);
	cr_assert_str_eq(err, "no fields requested");
	gx_request_eval_free(&re);
	gx_cat_item_destroy(it);
}
