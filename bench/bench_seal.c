/*
 * bench-seal: what integrity costs per record in each suite (issue 5).
 * Prints, per suite, on one core:
 *   - the primitives: leaf hashes/s, signatures/s and verifications/s;
 *   - the adapter: records sealed/s in batches of 1,000 (salts, leaves and
 *     digest of an 8-field record, Merkle tree and paths, one signature per
 *     batch) and in batches of one (e-licences: one signature per record);
 *   - the broker: records verified/s (leaves, digest, audit path) with the
 *     batch's seal verified once and cached and the tree nodes its earlier
 *     records proved remembered (gx_merkle_memo_t, as gx_sealcheck keeps
 *     them), in batch order and, as one of six partitions would see them,
 *     a sixth of each batch picked by a hash of the index; and seals
 *     verified/s;
 *   - on the wire: whole population records (11 fields, Avro) sealed by
 *     gx_sealer as the adapter does, and decoded and verified by
 *     gx_ingest_verify as the broker does, with the seal cache.
 * Asserts nothing; exits 3 if a step fails.
 *
 *   bench-seal [--quick]
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_pki.h"
#include "gx_proof.h"
#include "gx_record.h"
#include "gx_schema.h"
#include "gx_seal.h"

#define NF 8
#define BATCH 1000

static char err[512];

static void die(const char *what)
{
	fprintf(stderr, "bench-seal: %s: %s\n", what, err);
	exit(3);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int rm_cb(const char *p, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	return remove(p);
}

/* A population-like record: eight fields of typical Avro sizes. */
static const char *const NAMES[NF] = {"citizen_id", "name",    "sex",
				      "birth_date", "address", "ethnicity",
				      "status",     "updated_at"};
static const size_t SIZES[NF] = {19, 10, 2, 3, 40, 2, 1, 6};

struct rec {
	char id[40];
	unsigned char vals[NF][48];
	gx_field_bytes_t f[NF];
	unsigned char secret[GX_SECRET_LEN];
	gx_seal_head_t head;
};

static void rec_make(struct rec *r, long i)
{
	snprintf(r->id, sizeof(r->id), "0b6c4b9e-6c1d-4c4b-9a55-%012ld", i);
	for (int k = 0; k < NF; k++) {
		memset(r->vals[k], 'a' + (int)((i + k) % 26), SIZES[k]);
		r->f[k] = (gx_field_bytes_t){NAMES[k], r->vals[k], SIZES[k]};
	}
	if (gx_record_secret_new(r->secret, err, sizeof(err)))
		die("secret");
	r->head = (gx_seal_head_t){r->id, "SX-GA", "SX-GA-RK-001",
				   1735689600000LL + i, 0};
}

/*
 * Records verified per second at the broker against their batch's cached
 * seal, with a Merkle memo per batch as the broker keeps: n records of the
 * batch in turn, or (share > 1) the 1/share of them one partition of share
 * would see, pseudo-randomly spread.
 */
static double verify_records(const gx_suite_t *s, const gx_seal_t *seal,
			     struct rec *recs,
			     unsigned char (*paths)[GX_MERKLE_PATH_MAX][GX_HASH_LEN],
			     const size_t *np, long n, int share)
{
	gx_merkle_memo_t *memo = NULL;
	long done = 0;
	double t = now_s();
	for (long k = 0; k < share * n; k++) {
		long i = k % BATCH;
		unsigned char d[GX_HASH_LEN];
		if (!i) { /* the next batch: a memo of its own */
			gx_merkle_memo_destroy(memo);
			memo = gx_merkle_memo_new(BATCH, seal->root, 1 << 20);
		}
		if (share > 1 && ((uint64_t)i * 0x9E3779B97F4A7C15ULL >> 32) % share)
			continue;
		done++;
		gx_record_seal_fields(s, recs[i].secret, &recs[i].head,
				      recs[i].f, NF, NULL, d);
		if (gx_seal_check_record_memo(
			s, seal, memo, "SX-GA", d, (uint64_t)i,
			(const unsigned char (*)[GX_HASH_LEN])paths[i], np[i],
			err, sizeof(err)))
			die("record verify");
	}
	gx_merkle_memo_destroy(memo);
	return done / (now_s() - t);
}

static void bench_suite(const char *name, int quick, const char *dir)
{
	gx_suite_t *s;
	if (gx_suite_new(name, NULL, &s, err, sizeof(err)))
		die("suite");
	char *rk = gx_asprintf("%s/%s-root.key", dir, name),
	     *rc = gx_asprintf("%s/%s-root.crt", dir, name),
	     *ak = gx_asprintf("%s/%s-ga.key", dir, name),
	     *ac = gx_asprintf("%s/%s-ga.crt", dir, name);
	char kid[GX_KEY_ID_LEN + 1];
	gx_cert_t *root;
	gx_sealkey_t *key;
	if (gx_ca_init(s, rk, rc, "bench root", 30, err, sizeof(err)) ||
	    gx_agency_key_new(s, rk, rc, "SX-GA", 30, ak, ac, kid, err,
			      sizeof(err)) ||
	    gx_root_load(s, rc, &root, err, sizeof(err)) ||
	    gx_sealkey_load(s, ak, ac, root, &key, err, sizeof(err)))
		die("keys");
	gx_keyring_t *kr = gx_keyring_new(s, root, 0);
	if (gx_keyring_add(kr, "SX-GA", 0, gx_sealkey_cert(key), err,
			   sizeof(err)))
		die("keyring");

	/* primitives */
	long nleaf = quick ? 50000 : 1000000, nsig = quick ? 200 : 5000;
	unsigned char salt[GX_HASH_LEN] = {1}, leaf[GX_HASH_LEN];
	double t = now_s();
	for (long i = 0; i < nleaf; i++)
		gx_field_leaf(s, salt, "citizen_id", "110101199003077777", 19,
			      leaf);
	double leaf_s = nleaf / (now_s() - t);
	unsigned char sig[GX_SIG_MAX];
	size_t siglen = 0;
	t = now_s();
	for (long i = 0; i < nsig; i++)
		if (gx_sealkey_sign(key, leaf, sizeof(leaf), sig, &siglen, err,
				    sizeof(err)))
			die("sign");
	double sign_s = nsig / (now_s() - t);
	const gx_cert_t *cert = gx_sealkey_cert(key);
	t = now_s();
	for (long i = 0; i < nsig; i++)
		if (gx_cert_verify_sig(cert, leaf, sizeof(leaf), sig, siglen,
				       err, sizeof(err)))
			die("verify");
	double verify_s = nsig / (now_s() - t);

	/* adapter, batches of BATCH */
	long nbatches = quick ? 2 : 50;
	struct rec *recs = gx_malloc(BATCH * sizeof(*recs));
	unsigned char (*dig)[GX_HASH_LEN] = gx_malloc(BATCH * GX_HASH_LEN);
	unsigned char path[GX_MERKLE_PATH_MAX][GX_HASH_LEN];
	size_t npath = 0;
	for (long i = 0; i < BATCH; i++)
		rec_make(&recs[i], i);
	gx_seal_t seal;
	json_t *sj = NULL;
	t = now_s();
	for (long b = 0; b < nbatches; b++) {
		for (long i = 0; i < BATCH; i++)
			gx_record_seal_fields(s, recs[i].secret, &recs[i].head,
					      recs[i].f, NF, NULL, dig[i]);
		gx_merkle_t *tr = gx_merkle_new(
		    s, (const unsigned char (*)[GX_HASH_LEN])dig, BATCH);
		for (long i = 0; i < BATCH; i++)
			npath = gx_merkle_path(tr, (size_t)i, path);
		json_decref(sj);
		if (gx_seal_sign(key, NULL, BATCH, gx_merkle_root(tr),
				 gx_now_ms(), NULL, &seal, &sj, err,
				 sizeof(err)))
			die("seal");
		gx_merkle_destroy(tr);
	}
	double adapter_batch = nbatches * BATCH / (now_s() - t);

	/* adapter, batches of one (e-licences) */
	long nsingle = quick ? 200 : 5000;
	t = now_s();
	for (long i = 0; i < nsingle; i++) {
		unsigned char d[1][GX_HASH_LEN];
		struct rec *r = &recs[i % BATCH];
		gx_record_seal_fields(s, r->secret, &r->head, r->f, NF, NULL,
				      d[0]);
		gx_merkle_t *tr = gx_merkle_new(
		    s, (const unsigned char (*)[GX_HASH_LEN])d, 1);
		gx_seal_t one;
		if (gx_seal_sign(key, NULL, 1, gx_merkle_root(tr), gx_now_ms(),
				 NULL, &one, NULL, err, sizeof(err)))
			die("seal");
		gx_merkle_destroy(tr);
	}
	double adapter_single = nsingle / (now_s() - t);

	/* broker: seals verified (parse + keyring + signature) */
	gx_seal_t back;
	t = now_s();
	for (long i = 0; i < nsig; i++)
		if (gx_seal_verify_json(s, kr, sj, &back, err, sizeof(err)))
			die("seal verify");
	double seal_verify_s = nsig / (now_s() - t);

	/* broker: records of the last batch verified against its cached seal */
	gx_merkle_t *tr =
	    gx_merkle_new(s, (const unsigned char (*)[GX_HASH_LEN])dig, BATCH);
	unsigned char (*paths)[GX_MERKLE_PATH_MAX][GX_HASH_LEN] =
	    gx_malloc(BATCH * sizeof(*paths));
	size_t *np = gx_malloc(BATCH * sizeof(*np));
	for (long i = 0; i < BATCH; i++)
		np[i] = gx_merkle_path(tr, (size_t)i, paths[i]);
	gx_merkle_destroy(tr);
	long nverify = quick ? 2 * BATCH : 50 * BATCH;
	double broker_s = verify_records(s, &back, recs, paths, np, nverify, 1);
	/* one partition of six: the same work per record, fewer shared nodes */
	double broker6_s = verify_records(s, &back, recs, paths, np, nverify, 6);

	printf("%-15s %12.0f %10.0f %10.0f %14.0f %12.0f %14.0f %12.0f %12.0f"
	       "\n", name, leaf_s, sign_s, verify_s, adapter_batch,
	       adapter_single, broker_s, broker6_s, seal_verify_s);
	(void)npath;
	free(np);
	free(paths);
	free(dig);
	free(recs);
	json_decref(sj);
	gx_keyring_destroy(kr);
	gx_sealkey_destroy(key);
	gx_cert_destroy(root);
	gx_suite_destroy(s);
	free(rk);
	free(rc);
	free(ak);
	free(ac);
}

/* ---- on the wire: gx_sealer and gx_ingest_verify on Avro records ---- */

struct sealed {
	gx_buf_t *recs;
	size_t n, cap;
};

static void on_rec(void *o, const void *key, size_t klen, const void *v,
		   size_t vlen)
{
	struct sealed *sd = o;
	(void)key;
	(void)klen;
	if (sd->n == sd->cap) {
		sd->cap = sd->cap ? 2 * sd->cap : 1024;
		sd->recs = gx_realloc(sd->recs, sd->cap * sizeof(*sd->recs));
	}
	gx_buf_init(&sd->recs[sd->n]);
	gx_buf_append(&sd->recs[sd->n++], v, vlen);
}

static void on_seal(void *o, const gx_seal_t *seal, const char *json)
{
	(void)o;
	(void)seal;
	(void)json;
}

static const char *const PERSON[][2] = {
    {"citizen_id", "140105199003070119"}, {"name", "张三"},
    {"sex", "1"}, {"ethnicity", "01"}, {"birth_date", "1990-03-07"},
    {"division_code", "140105"}, {"address", "山西省太原市小店区坞城路1号"},
    {"marital_status", "20"}, {"education", "20"}, {"status", "ALIVE"},
    {"updated_at", "2024-01-02T03:04:05.678Z"}};

static void bench_wire(const char *name, int quick, const char *dir)
{
	gx_seal_conf_t c = {(char *)name, (char *)GX_SM2_DEFAULT_ID,
			    gx_asprintf("%s/%s-root.crt", dir, name),
			    gx_asprintf("%s/%s-keyring.jsonl", dir, name), 0};
	char *ac = gx_asprintf("%s/%s-ga.crt", dir, name),
	     *ak = gx_asprintf("%s/%s-ga.key", dir, name);
	gx_suite_t *s;
	gx_cert_t *root;
	gx_sealkey_t *key;
	if (gx_suite_new(name, NULL, &s, err, sizeof(err)) ||
	    gx_root_load(s, c.root, &root, err, sizeof(err)) ||
	    gx_sealkey_load(s, ak, ac, root, &key, err, sizeof(err)))
		die("wire keys");
	char *line = gx_keyring_line("SX-GA", gx_sealkey_key_id(key), 0, ac);
	FILE *f = fopen(c.keyring, "w");
	if (!f)
		die("keyring file");
	fprintf(f, "%s\n", line);
	fclose(f);
	free(line);
	gx_sealcheck_t *chk;
	gx_schemas_t *schemas;
	if (gx_sealcheck_open(&c, &chk, err, sizeof(err)) ||
	    gx_schemas_new(&schemas, err, sizeof(err)))
		die("wire setup");
	const gx_library_t *lib = gx_schemas_library(schemas, "population");
	avro_value_t ing, payload, fv;
	avro_generic_value_new(lib->ingest_iface, &ing);

	long n = quick ? 2000 : 100000;
	struct sealed sd = {0};
	gx_sealer_t *sealer = gx_sealer_new(key);
	char rid[40];
	double t = now_s();
	for (long i = 0; i < n; i++) {
		avro_value_reset(&ing);
		snprintf(rid, sizeof(rid), "0b6c4b9e-6c1d-4c4b-9a55-%012ld", i);
		gx_envelope_t env = {rid, "SX-GA", "140000-GA-RK-0001",
				     "people.csv:2", 1735689600000LL + i,
				     GX_OP_UPSERT};
		if (gx_ingest_set(&ing, &env, err, sizeof(err)) ||
		    gx_record_payload(&ing, &payload, err, sizeof(err)))
			die("wire record");
		for (size_t k = 0; k < sizeof(PERSON) / sizeof(PERSON[0]); k++) {
			const gx_field_t *fd = gx_library_field(lib, PERSON[k][0]);
			avro_value_get_by_index(&payload, fd->index, &fv, NULL);
			if (gx_field_set_text(fd, &fv, PERSON[k][1],
					      1735689600000LL, err, sizeof(err)))
				die(PERSON[k][0]);
		}
		if (gx_sealer_add(sealer, lib, &ing, &env, rid, 36, err,
				  sizeof(err)))
			die("sealer add");
		if (gx_sealer_pending(sealer) == BATCH &&
		    gx_sealer_close(sealer, lib->ingest_fp, on_rec, on_seal, &sd,
				    err, sizeof(err)))
			die("sealer close");
	}
	if (gx_sealer_close(sealer, lib->ingest_fp, on_rec, on_seal, &sd, err,
			    sizeof(err)))
		die("sealer close");
	double sealed_s = n / (now_s() - t);

	gx_record_proof_t proof;
	const char *reason;
	t = now_s();
	for (size_t i = 0; i < sd.n; i++) {
		gx_envelope_t env;
		avro_value_reset(&ing);
		if (gx_avro_so_decode(sd.recs[i].data, sd.recs[i].len, &ing, err,
				      sizeof(err)) ||
		    gx_ingest_get(&ing, &env, err, sizeof(err)) ||
		    gx_ingest_verify(chk, lib, &ing, &env, &proof, &reason, err,
				     sizeof(err)))
			die("wire verify");
	}
	double verified_s = sd.n / (now_s() - t);
	t = now_s();
	for (size_t i = 0; i < sd.n; i++) {
		avro_value_reset(&ing);
		if (gx_avro_so_decode(sd.recs[i].data, sd.recs[i].len, &ing, err,
				      sizeof(err)))
			die("wire decode");
	}
	double decode_s = sd.n / (now_s() - t);
	printf("%-15s %16.0f %18.0f %14.0f %10zu\n", name, sealed_s,
	       verified_s, decode_s, sd.recs[0].len);
	for (size_t i = 0; i < sd.n; i++)
		gx_buf_free(&sd.recs[i]);
	free(sd.recs);
	gx_sealer_destroy(sealer);
	avro_value_decref(&ing);
	gx_schemas_destroy(schemas);
	gx_sealcheck_destroy(chk);
	gx_sealkey_destroy(key);
	gx_cert_destroy(root);
	gx_suite_destroy(s);
	free(c.root);
	free(c.keyring);
	free(ac);
	free(ak);
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	char dir[] = "/tmp/bench-seal-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("bench-seal: mkdtemp");
		return 3;
	}
	printf("integrity per core, per second (records: 8 fields; batches of "
	       "%d; broker: seal verified once, cached)\n", BATCH);
	printf("%-15s %12s %10s %10s %14s %12s %14s %12s %12s\n", "suite",
	       "leaf hashes", "signs", "verifies", "sealed/batch",
	       "sealed/one", "rec verified", "rec, 1 of 6", "seals verif");
	bench_suite("sm2-sm3", quick, dir);
	bench_suite("ed25519-sha256", quick, dir);
	printf("\non the wire, per core, per second (population records, 11 "
	       "fields, Avro single-object; batches of %d)\n", BATCH);
	printf("%-15s %16s %18s %14s %10s\n", "suite", "adapter sealed",
	       "broker verified", "decode only", "bytes/rec");
	bench_wire("sm2-sm3", quick, dir);
	bench_wire("ed25519-sha256", quick, dir);
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
