/*
 * test_source_state.c - what an adapter keeps beside its source: the
 * collect-once digests (broker/lib/gx_digest.c: the table against a
 * reference model, payload digests that ignore the envelope, the topic
 * encoding) and its position record with counts (gx_position.c).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_digest.h"
#include "gx_position.h"
#include "gx_record.h"
#include "gx_schema.h"

static void subj_of(unsigned i, unsigned char *s)
{
	char id[32];
	snprintf(id, sizeof(id), "subject-%u", i);
	gx_subject_hash("A", NULL, 0, id, strlen(id), s);
}

Test(digest, table_against_a_model)
{
	enum { N = 100000 };
	gx_digests_t *d = gx_digests_new();
	unsigned char *model = calloc(N, 1); /* 0 absent, else digest byte */
	unsigned char s[GX_DIGEST_LEN], dig[GX_DIGEST_LEN], got[GX_DIGEST_LEN];
	unsigned seed = 7;
	for (int step = 0; step < 400000; step++) {
		unsigned i = rand_r(&seed) % N;
		subj_of(i, s);
		int op = rand_r(&seed) % 4;
		if (op < 2) {
			unsigned char v = (unsigned char)(1 + rand_r(&seed) % 255);
			memset(dig, v, sizeof(dig));
			unsigned char old[GX_DIGEST_LEN];
			int had = gx_digests_put(d, s, dig, old);
			cr_assert_eq(had, model[i] != 0);
			if (had)
				cr_assert_eq(old[0], model[i]);
			model[i] = v;
		} else if (op == 2) {
			gx_digests_del(d, s);
			model[i] = 0;
		} else {
			int has = gx_digests_get(d, s, got);
			cr_assert_eq(has, model[i] != 0, "step %d subject %u", step, i);
			if (has)
				cr_assert_eq(got[15], model[i]);
		}
	}
	size_t live = 0;
	for (unsigned i = 0; i < N; i++) {
		live += model[i] != 0;
		subj_of(i, s);
		cr_assert_eq(gx_digests_get(d, s, got), model[i] != 0, "subject %u", i);
	}
	cr_expect_eq(gx_digests_count(d), live);
	/* The bound in gx_digest.h: at most 88 bytes per subject. */
	cr_expect_leq(gx_digests_memory(d), 88 * live + 33 * 1024);
	free(model);
	gx_digests_destroy(d);
	gx_digests_destroy(NULL);
}

Test(digest, subject_hash_depends_on_adapter_and_secret)
{
	unsigned char a[GX_DIGEST_LEN], b[GX_DIGEST_LEN], c[GX_DIGEST_LEN],
	    e[GX_DIGEST_LEN];
	gx_subject_hash("A", NULL, 0, "140105198001010011", 18, a);
	gx_subject_hash("B", NULL, 0, "140105198001010011", 18, b);
	const unsigned char key[32] = {1, 2, 3};
	gx_subject_hash("A", key, sizeof(key), "140105198001010011", 18, c);
	gx_subject_hash("A", NULL, 0, "140105198001010011", 18, e);
	cr_expect(memcmp(a, b, GX_DIGEST_LEN));
	cr_expect(memcmp(a, c, GX_DIGEST_LEN));
	cr_expect(!memcmp(a, e, GX_DIGEST_LEN));
}

Test(digest, payload_digest_ignores_the_envelope)
{
	char err[512];
	gx_schemas_t *schemas;
	cr_assert_eq(gx_schemas_new(&schemas, err, sizeof(err)), GX_OK, "%s", err);
	const gx_library_t *pop = gx_schemas_library(schemas, "population");
	avro_value_t ing, payload;
	cr_assert_eq(avro_generic_value_new(pop->ingest_iface, &ing), 0);
	cr_assert_eq(gx_record_payload(&ing, &payload, err, sizeof(err)), GX_OK);
	const char *vals[] = {"citizen_id", "11010519491231002X", "name", "王五",
			      "sex", "1", "ethnicity", "01", "birth_date", "1949-12-31",
			      "division_code", "110105", "address", "北京",
			      "marital_status", "", "education", "",
			      "status", "ALIVE", "updated_at", "2024-01-01T00:00:00Z"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(vals); i += 2) {
		const gx_field_t *f = gx_library_field(pop, vals[i]);
		avro_value_t fv;
		avro_value_get_by_index(&payload, f->index, &fv, NULL);
		cr_assert_eq(gx_field_set_text(f, &fv, vals[i + 1], INT64_C(1704164645678),
					       err, sizeof(err)), GX_OK, "%s", err);
	}
	gx_buf_t scratch;
	gx_buf_init(&scratch);
	unsigned char d1[GX_DIGEST_LEN], d2[GX_DIGEST_LEN], d3[GX_DIGEST_LEN];
	gx_envelope_t env = {"00000000-0000-0000-0000-000000000001", "SX-GA", "I",
			     "a.csv:2", 1, GX_OP_UPSERT};
	cr_assert_eq(gx_ingest_set(&ing, &env, err, sizeof(err)), GX_OK);
	cr_assert_eq(gx_payload_digest(&payload, &scratch, d1, err, sizeof(err)), GX_OK, "%s", err);
	env.record_id = "00000000-0000-0000-0000-000000000002";
	env.source = "b.jsonl:7";
	env.collected_at = 2;
	cr_assert_eq(gx_ingest_set(&ing, &env, err, sizeof(err)), GX_OK);
	cr_assert_eq(gx_payload_digest(&payload, &scratch, d2, err, sizeof(err)), GX_OK);
	cr_expect(!memcmp(d1, d2, GX_DIGEST_LEN), "the envelope changed the digest");
	const gx_field_t *f = gx_library_field(pop, "address");
	avro_value_t fv;
	avro_value_get_by_index(&payload, f->index, &fv, NULL);
	cr_assert_eq(gx_field_set_text(f, &fv, "北京市", 0, err, sizeof(err)), GX_OK);
	cr_assert_eq(gx_payload_digest(&payload, &scratch, d3, err, sizeof(err)), GX_OK);
	cr_expect(memcmp(d1, d3, GX_DIGEST_LEN), "a changed field kept the digest");
	gx_buf_free(&scratch);
	avro_value_decref(&ing);
	gx_schemas_destroy(schemas);
}

Test(digest, topic_encoding)
{
	unsigned char s[GX_DIGEST_LEN], d[GX_DIGEST_LEN], s2[GX_DIGEST_LEN],
	    d2[GX_DIGEST_LEN];
	for (int i = 0; i < GX_DIGEST_LEN; i++) {
		s[i] = (unsigned char)i;
		d[i] = (unsigned char)(0xf0 + i);
	}
	char key[128], hex[33];
	size_t klen = gx_digest_key("SX-GA.P.1", s, key, sizeof(key));
	cr_expect_str_eq(key, "SX-GA.P.1/000102030405060708090a0b0c0d0e0f");
	cr_expect_eq(klen, strlen(key));
	gx_digest_hex(d, hex);
	cr_expect_str_eq(hex, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
	cr_expect_eq(gx_digest_parse("SX-GA.P.1", key, klen, hex, 32, s2, d2), 1);
	cr_expect(!memcmp(s, s2, GX_DIGEST_LEN) && !memcmp(d, d2, GX_DIGEST_LEN));
	/* Another adapter's (also one whose id starts like ours). */
	cr_expect_eq(gx_digest_parse("SX-GA.P", key, klen, hex, 32, s2, d2), 0);
	cr_expect_eq(gx_digest_parse("SX-GA.P.1.x", key, klen, hex, 32, s2, d2), 0);
	cr_expect_eq(gx_digest_parse("SX-GA.P.1", key, klen, NULL, 0, s2, d2), 2);
	cr_expect_eq(gx_digest_parse("SX-GA.P.1", key, klen, "zz", 2, s2, d2), -1);
	cr_expect_eq(gx_digest_parse("SX-GA.P.1", "SX-GA.P.1/0g", 12, hex, 32, s2, d2), -1);
	cr_expect_eq(gx_digest_parse("SX-GA.P.1", NULL, 0, hex, 32, s2, d2), 0);
}

Test(position, tally_and_record_round_trip)
{
	gx_tally_t a, b;
	gx_tally_init(&a);
	gx_tally_init(&b);
	a.accepted = 10;
	a.skipped = 3;
	gx_tally_refuse(&a, "invalid_value");
	gx_tally_refuse(&a, "invalid_value");
	gx_tally_refuse(&a, "malformed_csv");
	b.accepted = 1;
	gx_tally_refuse(&b, "invalid_value");
	gx_tally_add(&a, &b);
	cr_expect_eq(a.accepted, 11);
	cr_expect_eq(a.refused, 4);

	json_t *pos = json_pack("{s:{s:s,s:s},s:s}", "source", "type", "pg", "table",
				"t", "cursor", "42");
	char *v = gx_position_value("ID", pos, &a, 1234);
	json_t *p2, *counts;
	char err[256];
	cr_assert_eq(gx_position_parse(v, strlen(v), &p2, &counts, err, sizeof(err)), GX_OK);
	cr_expect(json_equal(p2, pos));
	gx_tally_from_json(&b, counts);
	cr_expect_eq(b.accepted, 11);
	cr_expect_eq(b.refused, 4);
	cr_expect_eq(b.skipped, 3);
	cr_expect_eq(json_integer_value(json_object_get(b.reasons, "invalid_value")), 3);
	cr_expect_eq(json_integer_value(json_object_get(b.reasons, "malformed_csv")), 1);
	json_t *j = json_loads(v, 0, NULL);
	cr_expect_str_eq(json_string_value(json_object_get(j, "adapter")), "ID");
	cr_expect_eq(json_integer_value(json_object_get(j, "at")), 1234);
	json_decref(j);
	free(v);
	json_decref(p2);
	json_decref(counts);
	json_decref(pos);

	cr_expect_eq(gx_position_parse("{}", 2, &p2, NULL, err, sizeof(err)), GX_ERR_INVALID);
	cr_expect_eq(gx_position_parse("not json", 8, &p2, NULL, err, sizeof(err)),
		     GX_ERR_INVALID);
	gx_tally_from_json(&b, NULL);
	cr_expect_eq(b.accepted, 0);
	gx_tally_reset(&a);
	cr_expect_eq(a.refused, 0);
	cr_expect_eq(json_object_size(a.reasons), 0);
	gx_tally_free(&a);
	gx_tally_free(&b);
}
