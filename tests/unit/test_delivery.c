/*
 * test_delivery.c - deliveries written directly (gx_delivery_encode in
 * gx_record.c) are byte for byte what the Avro value path gives
 * (gx_project, then gx_avro_so_encode with the delivery fingerprint), for
 * sample rows of all six libraries, nulls included, under every kind of
 * release: none, all, each field alone, and pseudo-random masks; op,
 * empty and long audit paths, and a seal of any length.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_proof.h"
#include "gx_record.h"
#include "gx_sample.h"
#include "gx_schema.h"

static char err[1024];

/* A proof as gx_ingest_verify leaves it; the bytes need not verify here,
 * only be carried over. */
static void fake_proof(gx_record_proof_t *p, size_t nfields, size_t npath,
		       const char *seal, uint64_t r)
{
	memset(p, 0, sizeof(*p));
	p->n = nfields;
	for (size_t i = 0; i < nfields; i++)
		for (size_t k = 0; k < GX_HASH_LEN; k++) {
			p->salts[i][k] = (unsigned char)(r + 3 * i + k);
			p->leaves[i][k] = (unsigned char)(r * 7 + i + 5 * k);
		}
	p->batch_id = "6f1c2a8e-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
	p->index = (int64_t)(r * 1000003 % 1000);
	p->npath = npath;
	for (size_t i = 0; i < npath; i++)
		memset(p->path[i], (int)(i + r), GX_HASH_LEN);
	p->seal = seal;
	p->seal_len = strlen(seal);
}

static uint64_t next_mask(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_library(const gx_library_t *lib)
{
	avro_value_t ing, del, payload;
	cr_assert_eq(avro_generic_value_new(lib->ingest_iface, &ing), 0);
	cr_assert_eq(avro_generic_value_new(lib->delivery_iface, &del), 0);
	gx_sample_t *smp = NULL;
	cr_assert_eq(gx_sample_new(lib, 7, 12, 0, &smp, err, sizeof(err)), GX_OK,
		     "%s: %s", lib->name, err);
	gx_sample_row_t row;
	gx_buf_t want, got, scratch;
	gx_buf_init(&want);
	gx_buf_init(&got);
	gx_buf_init(&scratch);
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	uint64_t all = lib->nfields >= 64 ? ~0ULL : (1ULL << lib->nfields) - 1;
	static char long_seal[5000];
	memset(long_seal, 's', sizeof(long_seal) - 1);
	size_t compared = 0;
	for (uint64_t r = 0; gx_sample_next(smp, &row, err, sizeof(err)) == GX_OK; r++) {
		avro_value_reset(&ing);
		char rid[40];
		snprintf(rid, sizeof(rid), "0b5e2f8c-4d1a-4c3e-9f7a-2a6b8c1d3e%02llu",
			 (unsigned long long)r);
		gx_envelope_t env = {rid, "SX-GA", "140000-GA-0001", "src:1",
				     1704164600000LL + (int64_t)r * 977,
				     r % 3 == 1 ? GX_OP_DELETE : GX_OP_UPSERT};
		cr_assert_eq(gx_ingest_set(&ing, &env, err, sizeof(err)), GX_OK);
		cr_assert_eq(gx_record_payload(&ing, &payload, err, sizeof(err)), GX_OK);
		for (size_t i = 0; i < lib->nfields; i++) {
			avro_value_t fv;
			avro_value_get_by_index(&payload, lib->fields[i].index, &fv, NULL);
			/* every third row: optional fields null */
			const char *text = row.values[i] ? row.values[i] : "";
			if (r % 3 == 2 && lib->fields[i].nullable)
				text = ""; /* null */
			cr_assert_eq(gx_field_set_text(&lib->fields[i], &fv, text,
						       gx_now_ms(), err, sizeof(err)),
				     GX_OK, "%s.%s: %s", lib->name, lib->fields[i].name, err);
		}
		gx_envelope_t got_env;
		cr_assert_eq(gx_ingest_get(&ing, &got_env, err, sizeof(err)), GX_OK);
		gx_field_bytes_t fields[64];
		gx_buf_reset(&scratch);
		cr_assert_eq(gx_payload_field_bytes(lib, &payload, 0, &scratch, fields,
						    err, sizeof(err)),
			     GX_OK, "%s", err);
		gx_record_proof_t proof;
		size_t npath = r % 4 == 0 ? 0 : (size_t)(r % 12);
		fake_proof(&proof, lib->nfields, npath,
			   r % 5 == 4 ? long_seal : "{\"seal\":\"封\"}", r);
		gx_grant_t g = {.id = (char *)"G-00042", .consumer = (char *)"SX-MZ"};
		/* none, all, each field alone, then pseudo-random masks */
		for (size_t k = 0; k < lib->nfields + 10; k++) {
			uint64_t mask = k == 0 ? 0 : k == 1 ? all
				      : k < lib->nfields + 2 ? 1ULL << (k - 2)
				      : next_mask(&rng) & all;
			avro_value_reset(&del);
			gx_buf_reset(&want);
			cr_assert_eq(gx_project(lib, &ing, mask, &g, 1704164800123LL, &proof,
						&del, err, sizeof(err)),
				     GX_OK, "%s: %s", lib->name, err);
			cr_assert_eq(gx_avro_so_encode(lib->delivery_fp, &del, &want, err,
						       sizeof(err)),
				     GX_OK, "%s", err);
			gx_buf_reset(&got);
			cr_assert_eq(gx_delivery_encode(lib, &got_env, fields, mask, &g,
							1704164800123LL, &proof, &got,
							err, sizeof(err)),
				     GX_OK, "%s: %s", lib->name, err);
			cr_assert_eq(got.len, want.len,
				     "%s row %llu mask %llx: %zu bytes, want %zu", lib->name,
				     (unsigned long long)r, (unsigned long long)mask,
				     got.len, want.len);
			cr_assert(!memcmp(got.data, want.data, want.len),
				  "%s row %llu mask %llx: bytes differ", lib->name,
				  (unsigned long long)r, (unsigned long long)mask);
			/* and it decodes as a delivery */
			avro_value_reset(&del);
			cr_assert_eq(gx_avro_so_decode(got.data, got.len, &del, err,
						       sizeof(err)),
				     GX_OK, "%s", err);
			compared++;
		}
	}
	cr_assert_eq(compared, 12 * (lib->nfields + 10));
	/* a proof for another number of fields is refused, nothing written */
	gx_record_proof_t bad;
	fake_proof(&bad, lib->nfields + 1, 1, "{}", 0);
	gx_envelope_t e2 = {"x", "SX-GA", "I", "s", 0, GX_OP_UPSERT};
	gx_field_bytes_t none[64] = {{0}};
	gx_grant_t g = {.id = (char *)"G", .consumer = (char *)"C"};
	gx_buf_reset(&got);
	cr_assert_neq(gx_delivery_encode(lib, &e2, none, 0, &g, 0, &bad, &got, err,
					 sizeof(err)),
		      GX_OK);
	cr_assert_eq(got.len, 0);
	gx_sample_destroy(smp);
	gx_buf_free(&want);
	gx_buf_free(&got);
	gx_buf_free(&scratch);
	avro_value_decref(&ing);
	avro_value_decref(&del);
}

Test(delivery, direct_encoding_equals_the_avro_value_path)
{
	gx_schemas_t *s = NULL;
	cr_assert_eq(gx_schemas_new(&s, err, sizeof(err)), GX_OK, "%s", err);
	cr_assert_eq(gx_schemas_count(s), 6);
	for (size_t i = 0; i < gx_schemas_count(s); i++)
		check_library(gx_schemas_at(s, i));
	gx_schemas_destroy(s);
}
