/*
 * test_views: the wire schemas published in schemas/views/ (what consumer
 * agencies and providers build their readers from) are exactly the ones
 * govex derives from schemas/<library>.avsc and publishes on
 * <prefix>.schemas. After changing a library schema, regenerate them with
 * `make schemas` and review the diff: it is a change of the published
 * contract.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_schema.h"

static void check_view(const gx_library_t *lib, const char *view, const char *derived,
		       uint64_t fp)
{
	char path[256], err[256];
	snprintf(path, sizeof(path), "schemas/views/%s.%s.avsc", lib->name, view);
	json_error_t je;
	json_t *file = json_load_file(path, 0, &je);
	cr_assert(file, "%s: %s (run `make schemas`)", path, je.text);
	json_t *want = json_loads(derived, 0, NULL);
	cr_expect(json_equal(file, want),
		  "%s differs from the schema govex derives: run `make schemas` and "
		  "review the change", path);
	/* And the file's fingerprint is the one on the wire. */
	char *text = json_dumps(file, JSON_COMPACT);
	uint64_t got;
	cr_assert_eq(gx_avro_fingerprint(text, strlen(text), &got, err, sizeof(err)), GX_OK,
		     "%s", err);
	cr_expect_eq(got, fp, "%s: fingerprint %016llx, wire %016llx", path,
		     (unsigned long long)got, (unsigned long long)fp);
	free(text);
	json_decref(file);
	json_decref(want);
}

Test(views, published_view_schemas_match_the_derived_ones)
{
	gx_schemas_t *s;
	char err[256];
	cr_assert_eq(gx_schemas_new(&s, err, sizeof(err)), GX_OK, "%s", err);
	for (size_t i = 0; i < gx_schemas_count(s); i++) {
		const gx_library_t *lib = gx_schemas_at(s, i);
		check_view(lib, "delivery", lib->delivery_json, lib->delivery_fp);
		check_view(lib, "ingest", lib->ingest_json, lib->ingest_fp);
	}
	gx_schemas_destroy(s);
}
