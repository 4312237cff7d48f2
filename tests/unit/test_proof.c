/*
 * test_proof.c - seals on the wire (gx_proof.c), in both suites: records
 * sealed in a batch verify at the broker, a projection of two fields
 * verifies at the consumer, and no flipped byte anywhere in an ingest or
 * delivery record verifies unless it changed nothing the provider sealed.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_pki.h"
#include "gx_proof.h"
#include "gx_record.h"
#include "gx_schema.h"

static char err[1024];
static char dir[64];
static const char *const SUITES[] = {"sm2-sm3", "ed25519-sha256"};

static int rm_cb(const char *p, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gx-proof-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(proof, .init = setup, .fini = teardown);

/* An exchange: root, keys of SX-GA and SX-MZ, keyring; verifier. */
struct ex {
	gx_seal_conf_t conf;
	gx_sealcheck_t *check;
	gx_suite_t *suite;	/* the keys' suite, outlives them */
	gx_sealkey_t *ga, *mz;
	gx_schemas_t *schemas;
	const gx_library_t *pop;
};

static gx_sealkey_t *agency(struct ex *x, const gx_suite_t *s,
			    const char *code, FILE *ring)
{
	char kid[GX_KEY_ID_LEN + 1];
	char *k = gx_asprintf("%s/%s.key", dir, code);
	char *c = gx_asprintf("%s/%s.crt", dir, code);
	char *rk = gx_asprintf("%s/root.key", dir);
	cr_assert_eq(gx_agency_key_new(s, rk, x->conf.root, code, 30, k, c, kid,
				       err, sizeof(err)),
		     GX_OK, "%s", err);
	char *line = gx_keyring_line(code, kid, gx_now_ms() - 3600000, c);
	fprintf(ring, "%s\n", line);
	free(line);
	gx_cert_t *root = NULL;
	cr_assert_eq(gx_root_load(s, x->conf.root, &root, err, sizeof(err)),
		     GX_OK);
	gx_sealkey_t *key = NULL;
	cr_assert_eq(gx_sealkey_load(s, k, c, root, &key, err, sizeof(err)),
		     GX_OK, "%s", err);
	gx_cert_destroy(root);
	free(k);
	free(c);
	free(rk);
	return key;
}

static void exchange(struct ex *x, const char *suite)
{
	memset(x, 0, sizeof(*x));
	gx_suite_t *s = NULL;
	cr_assert_eq(gx_suite_new(suite, NULL, &s, err, sizeof(err)), GX_OK);
	x->conf.suite = (char *)suite;
	x->conf.sm2_id = (char *)GX_SM2_DEFAULT_ID;
	x->conf.root = gx_asprintf("%s/root.crt", dir);
	x->conf.keyring = gx_asprintf("%s/keyring.jsonl", dir);
	x->conf.grace_ms = 300000;
	char *rk = gx_asprintf("%s/root.key", dir);
	cr_assert_eq(gx_ca_init(s, rk, x->conf.root, "test root", 30, err,
				sizeof(err)),
		     GX_OK, "%s", err);
	free(rk);
	FILE *ring = fopen(x->conf.keyring, "w");
	cr_assert_not_null(ring);
	x->ga = agency(x, s, "SX-GA", ring);
	x->mz = agency(x, s, "SX-MZ", ring);
	fclose(ring);
	x->suite = s;
	cr_assert_eq(gx_sealcheck_open(&x->conf, &x->check, err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(gx_schemas_new(&x->schemas, err, sizeof(err)), GX_OK);
	x->pop = gx_schemas_library(x->schemas, "population");
}

static void exchange_free(struct ex *x)
{
	gx_sealcheck_destroy(x->check);
	gx_sealkey_destroy(x->ga);
	gx_sealkey_destroy(x->mz);
	gx_suite_destroy(x->suite);
	gx_schemas_destroy(x->schemas);
	free(x->conf.root);
	free(x->conf.keyring);
}

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

/* Sealed records and their seal, collected from gx_sealer_close. */
struct out {
	gx_buf_t rec[8];
	size_t n;
	char *seal;
};

static void on_rec(void *o, const void *key, size_t klen, const void *v,
		   size_t vlen)
{
	struct out *out = o;
	(void)key;
	(void)klen;
	gx_buf_init(&out->rec[out->n]);
	gx_buf_append(&out->rec[out->n++], v, vlen);
}

static void on_seal(void *o, const gx_seal_t *seal, const char *json)
{
	struct out *out = o;
	(void)seal;
	out->seal = gx_strdup(json);
}

static char ids[8][37];

/* Seal n people by provider (key) into out; records differ in name. */
static void seal_people(struct ex *x, const gx_sealkey_t *key,
			const char *provider, size_t n, struct out *out)
{
	const gx_library_t *lib = x->pop;
	avro_value_t ing, payload, fv;
	cr_assert_eq(avro_generic_value_new(lib->ingest_iface, &ing), 0);
	gx_sealer_t *s = gx_sealer_new(key);
	memset(out, 0, sizeof(*out));
	for (size_t r = 0; r < n; r++) {
		avro_value_reset(&ing);
		snprintf(ids[r], sizeof(ids[r]),
			 "0b5e2f8c-4d1a-4c3e-9f7a-2a6b8c1d3e%02zu", r);
		gx_envelope_t env = {ids[r], provider, "140000-GA-0001",
				     "people.csv:2", 1704164600000LL + (int64_t)r,
				     r == 1 ? GX_OP_DELETE : GX_OP_UPSERT};
		cr_assert_eq(gx_ingest_set(&ing, &env, err, sizeof(err)), GX_OK);
		cr_assert_eq(gx_record_payload(&ing, &payload, err, sizeof(err)),
			     GX_OK);
		for (size_t i = 0; i < GX_ARRAY_SIZE(person); i++) {
			const gx_field_t *f = gx_library_field(lib, person[i][0]);
			cr_assert_not_null(f, "%s", person[i][0]);
			avro_value_get_by_index(&payload, f->index, &fv, NULL);
			char name[64];
			const char *text = person[i][1];
			if (!strcmp(person[i][0], "name")) {
				snprintf(name, sizeof(name), "张三%zu", r);
				text = name;
			}
			cr_assert_eq(gx_field_set_text(f, &fv, text, 1704164700000LL,
						       err, sizeof(err)),
				     GX_OK, "%s: %s", person[i][0], err);
		}
		cr_assert_eq(gx_sealer_add(s, lib, &ing, &env, "k", 1, err,
					   sizeof(err)),
			     GX_OK, "%s", err);
	}
	cr_assert_eq(gx_sealer_pending(s), n);
	cr_assert_eq(gx_sealer_close(s, lib->ingest_fp, on_rec, on_seal, out,
				     err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(out->n, n);
	cr_assert_eq(gx_sealer_pending(s), 0);
	gx_sealer_destroy(s);
	avro_value_decref(&ing);
}

static void out_free(struct out *out)
{
	for (size_t i = 0; i < out->n; i++)
		gx_buf_free(&out->rec[i]);
	free(out->seal);
}

/* Decode and verify an ingest record: GX_OK, or the error; a record that
 * does not even decode counts as refused (GX_ERR_AVRO). */
static gx_err_t verify_ingest(struct ex *x, const void *p, size_t len,
			      avro_value_t *ing, gx_record_proof_t *proof,
			      const char **reason)
{
	gx_envelope_t env;
	avro_value_reset(ing);
	*reason = "undecodable";
	uint64_t fp;
	if (gx_avro_so_fingerprint(p, len, &fp, err, sizeof(err)) ||
	    fp != x->pop->ingest_fp ||
	    gx_avro_so_decode(p, len, ing, err, sizeof(err)) ||
	    gx_ingest_get(ing, &env, err, sizeof(err)))
		return GX_ERR_AVRO;
	return gx_ingest_verify(x->check, x->pop, ing, &env, proof, reason, err,
				sizeof(err));
}

/* What the provider sealed, as text: payload, record id, provider, item,
 * collected at, op. */
static char *sealed_part(avro_value_t *rec, int delivery)
{
	avro_value_t payload, meta;
	char *a = NULL, *b = NULL;
	avro_value_get_by_name(rec, "payload", &payload, NULL);
	if (delivery)
		avro_value_get_by_name(rec, "provenance", &meta, NULL);
	else
		meta = *rec;
	avro_value_to_json(&payload, 1, &a);
	gx_buf_t out;
	gx_buf_init(&out);
	gx_buf_printf(&out, "%s", a);
	free(a);
	const char *names[] = {"record_id", "provider", "item", "collected_at",
			       "op"};
	for (size_t i = 0; i < 5; i++) {
		avro_value_t f;
		avro_value_get_by_name(&meta, names[i], &f, NULL);
		avro_value_to_json(&f, 1, &b);
		gx_buf_printf(&out, "|%s", b);
		free(b);
	}
	/* and the proof itself (salts, leaves, path, seal): a flip there that
	 * still verifies means a part of the proof is not checked */
	avro_value_t pf;
	if (delivery)
		avro_value_get_by_name(&meta, "proof", &pf, NULL);
	else
		avro_value_get_by_name(rec, "seal", &pf, NULL);
	avro_value_to_json(&pf, 1, &b);
	gx_buf_printf(&out, "|%s", b);
	free(b);
	return gx_buf_cstr(&out);
}

static void check_suite(const char *suite)
{
	struct ex x;
	exchange(&x, suite);
	const gx_library_t *lib = x.pop;
	struct out out;
	seal_people(&x, x.ga, "SX-GA", 5, &out);

	avro_value_t ing, del, del2;
	cr_assert_eq(avro_generic_value_new(lib->ingest_iface, &ing), 0);
	cr_assert_eq(avro_generic_value_new(lib->delivery_iface, &del), 0);
	cr_assert_eq(avro_generic_value_new(lib->delivery_iface, &del2), 0);
	gx_record_proof_t proof;
	const char *reason;

	/* every record of the batch verifies; the seal is checked once */
	for (size_t r = 0; r < out.n; r++)
		cr_assert_eq(verify_ingest(&x, out.rec[r].data, out.rec[r].len,
					   &ing, &proof, &reason),
			     GX_OK, "%s record %zu: %s", suite, r, err);
	cr_assert_eq(gx_sealcheck_seals_checked(x.check), 1);
	cr_assert_eq(gx_sealcheck_seal_hits(x.check), out.n - 1);

	/* a projection of two fields verifies at the consumer */
	uint64_t released = (1ULL << gx_library_field(lib, "name")->index) |
			    (1ULL << gx_library_field(lib, "sex")->index);
	gx_grant_t g = {.id = (char *)"G-1", .consumer = (char *)"SX-MZ"};
	gx_buf_t dbuf;
	gx_buf_init(&dbuf);
	for (size_t r = 0; r < out.n; r++) {
		cr_assert_eq(verify_ingest(&x, out.rec[r].data, out.rec[r].len,
					   &ing, &proof, &reason),
			     GX_OK);
		avro_value_reset(&del);
		gx_buf_reset(&dbuf);
		cr_assert_eq(gx_project(lib, &ing, released, &g, 1704164800000LL,
					&proof, &del, err, sizeof(err)),
			     GX_OK, "%s", err);
		cr_assert_eq(gx_avro_so_encode(lib->delivery_fp, &del, &dbuf, err,
					       sizeof(err)),
			     GX_OK, "%s", err);
		avro_value_reset(&del2);
		cr_assert_eq(gx_avro_so_decode(dbuf.data, dbuf.len, &del2, err,
					       sizeof(err)),
			     GX_OK, "%s", err);
		cr_assert_eq(gx_delivery_verify(x.check, lib, &del2, &reason, err,
						sizeof(err)),
			     GX_OK, "%s delivery %zu: %s", suite, r, err);
		/* and so does a full projection */
		avro_value_reset(&del);
		cr_assert_eq(gx_project(lib, &ing, (1ULL << lib->nfields) - 1, &g,
					1, &proof, &del, err, sizeof(err)),
			     GX_OK);
		cr_assert_eq(gx_delivery_verify(x.check, lib, &del, &reason, err,
						sizeof(err)),
			     GX_OK, "%s full delivery %zu: %s", suite, r, err);
	}

	/* Any flipped byte of an ingest record is refused unless it changed
	 * nothing the provider sealed (the source position is not). */
	gx_buf_t t;
	gx_buf_init(&t);
	avro_value_t orig;
	cr_assert_eq(avro_generic_value_new(lib->ingest_iface, &orig), 0);
	cr_assert_eq(gx_avro_so_decode(out.rec[2].data, out.rec[2].len, &orig,
				       err, sizeof(err)),
		     GX_OK);
	char *want = sealed_part(&orig, 0);
	size_t refused = 0, harmless = 0;
	for (size_t i = 10; i < out.rec[2].len; i++) {
		gx_buf_reset(&t);
		gx_buf_append(&t, out.rec[2].data, out.rec[2].len);
		t.data[i] ^= 0x01;
		if (verify_ingest(&x, t.data, t.len, &ing, &proof, &reason)) {
			refused++;
			continue;
		}
		char *got = sealed_part(&ing, 0);
		cr_assert_str_eq(got, want,
				 "%s: flipping byte %zu changed a sealed value "
				 "and still verified", suite, i);
		free(got);
		harmless++;
	}
	cr_assert_gt(refused, out.rec[2].len - 40,
		     "%zu of %zu flips refused", refused, out.rec[2].len);
	cr_assert_lt(harmless, 20); /* the source position's bytes */

	/* The same for a delivered record: only what the exchange itself
	 * states (released at, grant, consumer) may change unnoticed. */
	char *dwant = sealed_part(&del2, 1);
	size_t drefused = 0;
	for (size_t i = 10; i < dbuf.len; i++) {
		gx_buf_reset(&t);
		gx_buf_append(&t, dbuf.data, dbuf.len);
		t.data[i] ^= 0x01;
		avro_value_reset(&del);
		if (gx_avro_so_decode(t.data, t.len, &del, err, sizeof(err)) ||
		    gx_delivery_verify(x.check, lib, &del, &reason, err,
				       sizeof(err))) {
			drefused++;
			continue;
		}
		char *got = sealed_part(&del, 1);
		cr_assert_str_eq(got, dwant,
				 "%s: flipping delivery byte %zu changed a "
				 "sealed value and still verified", suite, i);
		free(got);
	}
	cr_assert_gt(drefused, dbuf.len / 2);
	free(dwant);

	/* A re-seal of the batch by another agency in place of the seal:
	 * never accepted as the provider's own; accepted only when the caller
	 * asks for re-seals, and then it names who vouched. */
	{
		gx_seal_t orig_seal, rs;
		json_t *oj = json_loads(out.seal, 0, NULL), *rj = NULL;
		cr_assert_eq(gx_seal_parse(x.suite, oj, &orig_seal, err,
					   sizeof(err)),
			     GX_OK, "%s", err);
		cr_assert_eq(gx_seal_sign(x.mz, NULL, orig_seal.count,
					  orig_seal.root, gx_now_ms(),
					  orig_seal.batch_id, &rs, &rj, err,
					  sizeof(err)),
			     GX_OK, "%s", err);
		char *rjs = json_dumps(rj, JSON_COMPACT | JSON_PRESERVE_ORDER);
		avro_value_t prov, pf, sf;
		avro_value_get_by_name(&del2, "provenance", &prov, NULL);
		avro_value_get_by_name(&prov, "proof", &pf, NULL);
		avro_value_get_by_name(&pf, "seal", &sf, NULL);
		avro_value_set_string(&sf, rjs);
		cr_assert_eq(gx_delivery_verify(x.check, lib, &del2, &reason, err,
						sizeof(err)),
			     GX_ERR_DENIED);
		const char *by = NULL;
		cr_assert_eq(gx_delivery_verify_ex(x.check, lib, &del2, 1, &by,
						   &reason, err, sizeof(err)),
			     GX_OK, "%s", err);
		cr_assert_str_eq(by, "SX-MZ");
		free(rjs);
		json_decref(rj);
		json_decref(oj);
	}
	free(want);

	/* A record sealed by SX-MZ that claims to be SX-GA's */
	struct out mz;
	seal_people(&x, x.mz, "SX-MZ", 1, &mz);
	avro_value_reset(&ing);
	cr_assert_eq(gx_avro_so_decode(mz.rec[0].data, mz.rec[0].len, &ing, err,
				       sizeof(err)),
		     GX_OK);
	avro_value_t pv;
	avro_value_get_by_name(&ing, "provider", &pv, NULL);
	avro_value_set_string(&pv, "SX-GA");
	gx_buf_reset(&t);
	cr_assert_eq(gx_avro_so_encode(lib->ingest_fp, &ing, &t, err,
				       sizeof(err)),
		     GX_OK);
	cr_assert_eq(verify_ingest(&x, t.data, t.len, &ing, &proof, &reason),
		     GX_ERR_DENIED);
	cr_assert_str_eq(reason, "seal_provider_mismatch");
	cr_assert(strstr(err, "SX-MZ"), "%s", err);
	/* and a record of one batch carrying another batch's seal by the
	 * same provider */
	struct out ga2;
	seal_people(&x, x.ga, "SX-GA", 2, &ga2);
	avro_value_reset(&ing);
	cr_assert_eq(gx_avro_so_decode(out.rec[0].data, out.rec[0].len, &ing, err,
				       sizeof(err)),
		     GX_OK);
	avro_value_t sp, sv;
	avro_value_get_by_name(&ing, "seal", &sp, NULL);
	avro_value_get_by_name(&sp, "seal", &sv, NULL);
	avro_value_set_string(&sv, ga2.seal);
	gx_buf_reset(&t);
	cr_assert_eq(gx_avro_so_encode(lib->ingest_fp, &ing, &t, err, sizeof(err)),
		     GX_OK);
	cr_assert_eq(verify_ingest(&x, t.data, t.len, &ing, &proof, &reason),
		     GX_ERR_DENIED);
	cr_assert_str_eq(reason, "record_not_in_seal");
	out_free(&ga2);

	/* A key taken out of the keyring stops verifying new batches. */
	FILE *ring = fopen(x.conf.keyring, "w");
	fclose(ring);
	sleep(1); /* a new mtime even on coarse clocks */
	struct out later;
	seal_people(&x, x.ga, "SX-GA", 2, &later);
	gx_sealcheck_reload(x.check, err, sizeof(err));
	cr_assert_eq(verify_ingest(&x, later.rec[0].data, later.rec[0].len,
				   &ing, &proof, &reason),
		     GX_ERR_DENIED);
	cr_assert_str_eq(reason, "seal_invalid");

	out_free(&later);
	out_free(&mz);
	out_free(&out);
	gx_buf_free(&t);
	gx_buf_free(&dbuf);
	avro_value_decref(&orig);
	avro_value_decref(&ing);
	avro_value_decref(&del);
	avro_value_decref(&del2);
	exchange_free(&x);
}

Test(proof, sm2_sm3_end_to_end)
{
	check_suite(SUITES[0]);
}

Test(proof, ed25519_sha256_end_to_end)
{
	check_suite(SUITES[1]);
}

/* E-licence style batches of one: an empty path, root = H(0x00 ‖ digest). */
Test(proof, batch_of_one)
{
	struct ex x;
	exchange(&x, "ed25519-sha256");
	struct out out;
	seal_people(&x, x.ga, "SX-GA", 1, &out);
	avro_value_t ing;
	avro_generic_value_new(x.pop->ingest_iface, &ing);
	gx_record_proof_t proof;
	const char *reason;
	cr_assert_eq(verify_ingest(&x, out.rec[0].data, out.rec[0].len, &ing,
				   &proof, &reason),
		     GX_OK, "%s", err);
	cr_assert_eq(proof.npath, 0);
	cr_assert_eq(proof.index, 0);
	avro_value_decref(&ing);
	out_free(&out);
	exchange_free(&x);
}

/* A re-encoded copy of sealed record rec with one change made by edit. */
static void forge(struct ex *x, const gx_buf_t *rec, gx_buf_t *t,
		  void (*edit)(avro_value_t *ing, int arg), int arg)
{
	avro_value_t ing;
	cr_assert_eq(avro_generic_value_new(x->pop->ingest_iface, &ing), 0);
	cr_assert_eq(gx_avro_so_decode(rec->data, rec->len, &ing, err,
				       sizeof(err)),
		     GX_OK);
	edit(&ing, arg);
	gx_buf_reset(t);
	cr_assert_eq(gx_avro_so_encode(x->pop->ingest_fp, &ing, t, err,
				       sizeof(err)),
		     GX_OK, "%s", err);
	avro_value_decref(&ing);
}

/* one bit of path element k */
static void edit_sibling(avro_value_t *ing, int k)
{
	avro_value_t sp, path, e;
	const void *p;
	size_t len;
	unsigned char h[GX_HASH_LEN];
	cr_assert_eq(avro_value_get_by_name(ing, "seal", &sp, NULL), 0);
	cr_assert_eq(avro_value_get_by_name(&sp, "path", &path, NULL), 0);
	cr_assert_eq(avro_value_get_by_index(&path, (size_t)k, &e, NULL), 0);
	cr_assert_eq(avro_value_get_bytes(&e, &p, &len), 0);
	cr_assert_eq(len, GX_HASH_LEN);
	memcpy(h, p, GX_HASH_LEN);
	h[k] ^= 0x20;
	cr_assert_eq(avro_value_set_bytes(&e, h, GX_HASH_LEN), 0);
}

/* another name: the record's leaf, digest and Merkle leaf change */
static void edit_value(avro_value_t *ing, int arg)
{
	avro_value_t payload, f;
	(void)arg;
	cr_assert_eq(avro_value_get_by_name(ing, "payload", &payload, NULL), 0);
	cr_assert_eq(avro_value_get_by_name(&payload, "name", &f, NULL), 0);
	avro_value_t b;
	int d = 0;
	if (!avro_value_get_discriminant(&f, &d)) /* a nullable field */
		cr_assert_eq(avro_value_set_branch(&f, 1, &b), 0);
	else
		b = f;
	cr_assert_eq(avro_value_set_string(&b, "李四"), 0);
}

/* another record's place: its index (the path stays this record's) */
static void edit_index(avro_value_t *ing, int index)
{
	avro_value_t sp, f;
	cr_assert_eq(avro_value_get_by_name(ing, "seal", &sp, NULL), 0);
	cr_assert_eq(avro_value_get_by_name(&sp, "index", &f, NULL), 0);
	cr_assert_eq(avro_value_set_long(&f, index), 0);
}

/*
 * The broker's checker remembers the Merkle nodes its verified records
 * proved (gx_merkle_memo_t): a record of a batch whose other records were
 * all verified is still refused with a forged sibling at any level, a
 * forged leaf (a changed value) or another record's index, before and
 * after the true record itself verified.
 */
static void forged_after_proven(const char *suite)
{
	struct ex x;
	exchange(&x, suite);
	struct out out;
	seal_people(&x, x.ga, "SX-GA", 8, &out);
	avro_value_t ing;
	cr_assert_eq(avro_generic_value_new(x.pop->ingest_iface, &ing), 0);
	gx_record_proof_t proof;
	const char *reason;
	gx_buf_t t;
	gx_buf_init(&t);
	for (size_t r = 0; r < 7; r++)
		cr_assert_eq(verify_ingest(&x, out.rec[r].data, out.rec[r].len,
					   &ing, &proof, &reason),
			     GX_OK, "%s record %zu: %s", suite, r, err);
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < 3; k++) {
			forge(&x, &out.rec[7], &t, edit_sibling, k);
			cr_assert_eq(verify_ingest(&x, t.data, t.len, &ing,
						   &proof, &reason),
				     GX_ERR_DENIED,
				     "%s pass %d: forged sibling %d verified",
				     suite, pass, k);
			cr_assert_str_eq(reason, "record_not_in_seal");
		}
		forge(&x, &out.rec[7], &t, edit_value, 0);
		cr_assert_eq(verify_ingest(&x, t.data, t.len, &ing, &proof,
					   &reason),
			     GX_ERR_DENIED, "%s pass %d: forged leaf", suite,
			     pass);
		cr_assert_str_eq(reason, "record_not_in_seal");
		for (int j = 0; j < 7; j++) {
			forge(&x, &out.rec[7], &t, edit_index, j);
			cr_assert_eq(verify_ingest(&x, t.data, t.len, &ing,
						   &proof, &reason),
				     GX_ERR_DENIED, "%s as record %d", suite,
				     j);
			cr_assert_str_eq(reason, "record_not_in_seal");
		}
		/* the true record (in the second pass: again) */
		cr_assert_eq(verify_ingest(&x, out.rec[7].data, out.rec[7].len,
					   &ing, &proof, &reason),
			     GX_OK, "%s: %s", suite, err);
	}
	/* and every record once more after a keyring reload emptied the
	 * cache (the memo goes with it): the seal is checked again */
	cr_assert_eq(gx_sealcheck_seals_checked(x.check), 1);
	struct timespec ts[2] = {{0, UTIME_OMIT}, {1234567890, 0}};
	cr_assert_eq(utimensat(AT_FDCWD, x.conf.keyring, ts, 0), 0);
	cr_assert_eq(gx_sealcheck_reload(x.check, err, sizeof(err)), GX_OK,
		     "%s", err);
	for (size_t r = 0; r < out.n; r++) {
		forge(&x, &out.rec[r], &t, edit_sibling, (int)r % 3);
		cr_assert_eq(verify_ingest(&x, t.data, t.len, &ing, &proof,
					   &reason),
			     GX_ERR_DENIED);
		cr_assert_eq(verify_ingest(&x, out.rec[r].data, out.rec[r].len,
					   &ing, &proof, &reason),
			     GX_OK);
	}
	cr_assert_eq(gx_sealcheck_seals_checked(x.check), 2);
	gx_buf_free(&t);
	avro_value_decref(&ing);
	out_free(&out);
	exchange_free(&x);
}

Test(proof, sm2_sm3_forged_after_proven)
{
	forged_after_proven(SUITES[0]);
}

Test(proof, ed25519_sha256_forged_after_proven)
{
	forged_after_proven(SUITES[1]);
}

/* A record of a batch of 10,000 (all but its seal made up): the seal is
 * SX-GA's own, so the check gets as far as the audit path, which is
 * random. */
static char *big_seal;
static char big_batch[GX_UUID_STRLEN + 1];

static void edit_big(avro_value_t *ing, int index)
{
	avro_value_t sp, f, e;
	size_t n;
	cr_assert_eq(avro_value_get_by_name(ing, "seal", &sp, NULL), 0);
	cr_assert_eq(avro_value_get_by_name(&sp, "seal", &f, NULL), 0);
	cr_assert_eq(avro_value_set_string(&f, big_seal), 0);
	cr_assert_eq(avro_value_get_by_name(&sp, "batch_id", &f, NULL), 0);
	cr_assert_eq(avro_value_set_string(&f, big_batch), 0);
	edit_index(ing, index);
	cr_assert_eq(avro_value_get_by_name(&sp, "path", &f, NULL), 0);
	cr_assert_eq(avro_value_get_size(&f, &n), 0);
	for (; n < 14; n++) /* 10,000 records: 14 levels */
		cr_assert_eq(avro_value_append(&f, &e, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		unsigned char h[GX_HASH_LEN];
		memset(h, (int)(i + 1), sizeof(h));
		cr_assert_eq(avro_value_get_by_index(&f, i, &e, NULL), 0);
		cr_assert_eq(avro_value_set_bytes(&e, h, GX_HASH_LEN), 0);
	}
}

/* The proven nodes a checker keeps stay within its budget however many
 * large batches come by, the batches used longest ago given up first;
 * records of a batch still verify after their memo was given up. */
Test(proof, memo_budget)
{
	struct ex x;
	exchange(&x, "ed25519-sha256");
	struct out out;
	seal_people(&x, x.ga, "SX-GA", 4, &out);
	avro_value_t ing;
	cr_assert_eq(avro_generic_value_new(x.pop->ingest_iface, &ing), 0);
	gx_record_proof_t proof;
	const char *reason;
	gx_buf_t t;
	gx_buf_init(&t);
	cr_assert_eq(verify_ingest(&x, out.rec[0].data, out.rec[0].len, &ing,
				   &proof, &reason),
		     GX_OK, "%s", err);
	size_t small = gx_sealcheck_memo_bytes(x.check);
	cr_assert_gt(small, 0);
	size_t most = 0;
	for (int b = 0; b < 12; b++) {
		unsigned char root[GX_HASH_LEN];
		gx_seal_t seal;
		json_t *j = NULL;
		memset(root, b, sizeof(root));
		cr_assert_eq(gx_seal_sign(x.ga, NULL, 10000, root, gx_now_ms(),
					  NULL, &seal, &j, err, sizeof(err)),
			     GX_OK, "%s", err);
		big_seal = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		memcpy(big_batch, seal.batch_id, sizeof(big_batch));
		forge(&x, &out.rec[1], &t, edit_big, 77);
		cr_assert_eq(verify_ingest(&x, t.data, t.len, &ing, &proof,
					   &reason),
			     GX_ERR_DENIED);
		cr_assert_str_eq(reason, "record_not_in_seal", "%s", err);
		size_t now = gx_sealcheck_memo_bytes(x.check);
		cr_assert_leq(now, 4u << 20, "%zu bytes after %d", now, b);
		if (now > most)
			most = now;
		free(big_seal);
		json_decref(j);
	}
	/* several large memos were held at once, then given up */
	cr_assert_gt(most, 2u << 20);
	for (size_t r = 0; r < out.n; r++)
		cr_assert_eq(verify_ingest(&x, out.rec[r].data, out.rec[r].len,
					   &ing, &proof, &reason),
			     GX_OK, "%s", err);
	gx_buf_free(&t);
	avro_value_decref(&ing);
	out_free(&out);
	exchange_free(&x);
}
