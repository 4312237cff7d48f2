/*
 * 0050-seals: record integrity end to end (issue 5, DESIGN "Integrity"),
 * for both suites (sm2-sm3, ed25519-sha256).
 *
 * The adapter seals, the broker verifies and releases a projected record
 * (two population fields under a conditional grant) that `govexctl verify`
 * and the Python reference consumer (tests/interop/verify_seals.py) both
 * prove, record for record. A flipped byte in a field value, a salt, a
 * leaf, a path element, the seal or its signature is caught: in a delivery
 * by `govexctl verify --file` (naming the record), in an ingest record by
 * the broker (to <prefix>.rejected with its reason, released to no one). A
 * record sealed by one agency but claiming another is refused. Re-sealing a
 * department's e-licences under its successor keeps them verifying after
 * the old department's key leaves the keyring.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <librdkafka/rdkafka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_pki.h"
#include "gx_proof.h"
#include "gx_record.h"
#include "gx_schema.h"
#include "itest.h"
#include "itest_population.h"

/* ---- messages ---- */

struct msg {
	char *key, *val;
	size_t klen, vlen;
};

struct msgs {
	struct msg *m;
	size_t n, cap;
};

static void collect(void *opaque, const rd_kafka_message_t *m)
{
	struct msgs *ms = opaque;
	if (ms->n == ms->cap) {
		ms->cap = ms->cap ? 2 * ms->cap : 64;
		ms->m = realloc(ms->m, ms->cap * sizeof(*ms->m));
	}
	struct msg *x = &ms->m[ms->n++];
	x->klen = m->key_len;
	x->vlen = m->len;
	x->key = malloc(m->key_len + 1);
	x->val = malloc(m->len + 1);
	memcpy(x->key, m->key ? m->key : "", m->key_len);
	memcpy(x->val, m->payload ? m->payload : "", m->len);
}

static struct msgs read_all(const char *P, const char *kind)
{
	char topic[256];
	snprintf(topic, sizeof(topic), "%s.%s", P, kind);
	struct msgs ms = {0};
	it_topic_read(topic, 30000, collect, &ms);
	return ms;
}

static void msgs_free(struct msgs *ms)
{
	for (size_t i = 0; i < ms->n; i++) {
		free(ms->m[i].key);
		free(ms->m[i].val);
	}
	free(ms->m);
}

static void produce(const char *P, const char *kind, const void *key,
		    size_t klen, const void *val, size_t vlen)
{
	char topic[256], err[512];
	snprintf(topic, sizeof(topic), "%s.%s", P, kind);
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	cr_assert_eq(rd_kafka_conf_set(c, "bootstrap.servers", it_brokers(), err,
				       sizeof(err)), RD_KAFKA_CONF_OK);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	cr_assert(rk, "producer: %s", err);
	cr_assert_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
				       RD_KAFKA_V_KEY((void *)key, klen),
				       RD_KAFKA_V_VALUE((void *)val, vlen),
				       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
				       RD_KAFKA_V_END), 0);
	cr_assert_eq(rd_kafka_flush(rk, 20000), 0, "flush to %s", topic);
	rd_kafka_destroy(rk);
}

/* ---- programs ---- */

static itest_out_t ctl(const char *P, const char *const *args)
{
	return it_run(P, "govexctl", args);
}

static void ctl_ok(const char *P, const char *const *args)
{
	itest_out_t o = ctl(P, args);
	cr_assert_eq(o.status, 0, "govexctl %s %s failed (%d): %s", args[0],
		     args[1] ? args[1] : "", o.status, o.err);
	it_out_free(&o);
}

/* The "summary" of verify --json output, and the record ids it verified
 * (a JSON object used as a set). */
static json_t *verify_lines(const char *out, size_t len, json_t **ok_ids)
{
	json_t *a = it_json_lines(out, len), *summary = NULL;
	*ok_ids = json_object();
	size_t i;
	json_t *l;
	json_array_foreach(a, i, l) {
		if (json_object_get(l, "summary"))
			summary = json_incref(json_object_get(l, "summary"));
		else if (json_is_true(json_object_get(l, "verified")))
			json_object_set_new(*ok_ids,
					    json_string_value(json_object_get(l, "record_id")),
					    json_true());
	}
	json_decref(a);
	cr_assert(summary, "no summary in: %.*s", (int)len, out);
	return summary;
}

static long jint(json_t *o, const char *k)
{
	return (long)json_integer_value(json_object_get(o, k));
}

/* Run the Python reference consumer with args; its stdout (malloc'd). */
static char *python(const char *P, const char *args, int *status)
{
	const char *cache = getenv("GOVEX_CACHE");
	char py[600], cmd[4096];
	if (cache && *cache)
		snprintf(py, sizeof(py), "%s/venv/bin/python", cache);
	else
		snprintf(py, sizeof(py), "%s/.cache/govex/venv/bin/python",
			 getenv("HOME") ? getenv("HOME") : "/root");
	cr_assert(!access(py, X_OK), "%s missing: run deploy/deps.sh (make deps)", py);
	const char *k = it_keys_dir(P);
	snprintf(cmd, sizeof(cmd),
		 "%s tests/interop/verify_seals.py --json --suite %s --root %s/root.crt "
		 "--keyring %s/keyring.jsonl %s 2>>%s/%s.python.log",
		 py, it_suite(P), k, k, args, it_tmp(), P);
	FILE *p = popen(cmd, "r");
	cr_assert(p, "cannot run %s", py);
	gx_buf_t out;
	gx_buf_init(&out);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		gx_buf_append(&out, chunk, n);
	int st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	return gx_buf_cstr(&out);
}

/* ---- Avro values ---- */

static gx_schemas_t *schemas(void)
{
	static gx_schemas_t *s;
	char err[512];
	if (!s)
		cr_assert_eq(gx_schemas_new(&s, err, sizeof(err)), GX_OK, "%s", err);
	return s;
}

static void decode(const gx_library_t *lib, int delivery, const struct msg *m,
		   avro_value_t *v)
{
	char err[512];
	avro_generic_value_new(delivery ? lib->delivery_iface : lib->ingest_iface, v);
	cr_assert_eq(gx_avro_so_decode(m->val, m->vlen, v, err, sizeof(err)), GX_OK,
		     "%s", err);
}

static void encode(uint64_t fp, avro_value_t *v, gx_buf_t *out)
{
	char err[512];
	gx_buf_reset(out);
	cr_assert_eq(gx_avro_so_encode(fp, v, out, err, sizeof(err)), GX_OK, "%s", err);
}

static void get(avro_value_t *rec, const char *path, avro_value_t *out)
{
	char *p = strdup(path), *save = NULL;
	avro_value_t cur = *rec;
	for (char *t = strtok_r(p, ".", &save); t; t = strtok_r(NULL, ".", &save)) {
		avro_value_t next;
		if (*t >= '0' && *t <= '9')
			cr_assert_eq(avro_value_get_by_index(&cur, (size_t)atoi(t), &next,
							     NULL), 0, "%s", path);
		else
			cr_assert_eq(avro_value_get_by_name(&cur, t, &next, NULL), 0, "%s",
				     path);
		cur = next;
	}
	/* a union: its branch */
	if (avro_value_get_type(&cur) == AVRO_UNION) {
		avro_value_t b;
		cr_assert_eq(avro_value_get_current_branch(&cur, &b), 0);
		cur = b;
	}
	*out = cur;
	free(p);
}

/* Flip the last byte of a string (ASCII digit at the end stays ASCII). */
static void flip_string(avro_value_t *rec, const char *path)
{
	avro_value_t f;
	const char *s;
	size_t n;
	get(rec, path, &f);
	cr_assert_eq(avro_value_get_string(&f, &s, &n), 0, "%s", path);
	char *c = strdup(s);
	c[strlen(c) - 1] ^= 0x01;
	avro_value_set_string(&f, c);
	free(c);
}

static void flip_bytes(avro_value_t *rec, const char *path)
{
	avro_value_t f;
	const void *p;
	size_t n;
	get(rec, path, &f);
	cr_assert_eq(avro_value_get_bytes(&f, &p, &n), 0, "%s", path);
	cr_assert(n > 0, "%s is empty", path);
	unsigned char *c = malloc(n);
	memcpy(c, p, n);
	c[n / 2] ^= 0x01;
	avro_value_set_bytes(&f, c, n);
	free(c);
}

/* In the seal JSON at path: change the first hex digit of its root, or
 * flip a byte of its signature (decoded, flipped, encoded again). */
static void tamper_seal(avro_value_t *rec, const char *path, int sig)
{
	avro_value_t f;
	const char *s;
	size_t n;
	get(rec, path, &f);
	cr_assert_eq(avro_value_get_string(&f, &s, &n), 0);
	char *c = strdup(s);
	if (!sig) {
		char *r = strstr(c, "\"root\":\"");
		cr_assert(r, "no root in %s", c);
		r += 8;
		*r = *r == '0' ? '1' : '0';
	} else {
		char *b = strstr(c, "\"sig\":\"");
		cr_assert(b, "no sig in %s", c);
		b += 7;
		char *e = strchr(b, '"');
		unsigned char raw[128];
		int len = EVP_DecodeBlock(raw, (unsigned char *)b, (int)(e - b));
		cr_assert(len > 8);
		/* EVP_DecodeBlock counts '=' padding as zero bytes: take it
		 * off, so the signature keeps its length and only its content
		 * changes (a longer one would be refused for its length). */
		for (const char *q = e; q > b && q[-1] == '='; q--)
			len--;
		raw[5] ^= 0x01; /* well inside, never padding */
		unsigned char enc[200];
		int w = EVP_EncodeBlock(enc, raw, len);
		cr_assert_eq(w, (int)(e - b));
		/* exactly one 4-character group differs */
		int groups = 0;
		for (int g = 0; g < w; g += 4)
			groups += memcmp(enc + g, b + g, 4) != 0;
		cr_assert_eq(groups, 1, "the signature changed in %d groups", groups);
		memcpy(b, enc, (size_t)w);
	}
	avro_value_set_string(&f, c);
	free(c);
}

/* ---- the population scenario ---- */

static const char *const TAMPER[] = {"value", "salt", "leaf", "path", "seal",
				     "signature"};

/* A deliveries file (verify --save's format) of one record. */
static void write_record_file(const char *path, const void *val, size_t len)
{
	unsigned char *b = malloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock(b, val, (int)len);
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fprintf(f, "{\"value_b64\":\"%s\"}\n", b);
	fclose(f);
	free(b);
}

/* Index of a payload field. */
static size_t field_ix(const gx_library_t *lib, const char *name)
{
	const gx_field_t *f = gx_library_field(lib, name);
	cr_assert(f, "no field %s", name);
	return f->index;
}

static void tampered_deliveries(const char *P, const struct msgs *del)
{
	const gx_library_t *lib = gx_schemas_library(schemas(), "population");
	/* a record with an audit path (not alone in its batch) */
	size_t pick = del->n;
	avro_value_t v;
	for (size_t i = 0; i < del->n && pick == del->n; i++) {
		avro_value_t arr;
		size_t np = 0;
		decode(lib, 1, &del->m[i], &v);
		get(&v, "provenance.proof.path", &arr);
		avro_value_get_size(&arr, &np);
		if (np)
			pick = i;
		avro_value_decref(&v);
	}
	cr_assert(pick < del->n, "every record was sealed alone: no path to tamper");
	char salt_path[96], leaf_path[96];
	snprintf(salt_path, sizeof(salt_path), "provenance.proof.fields.%zu.salt",
		 field_ix(lib, "name"));
	snprintf(leaf_path, sizeof(leaf_path), "provenance.proof.fields.%zu.leaf",
		 field_ix(lib, "sex"));
	gx_buf_t b;
	gx_buf_init(&b);
	for (size_t k = 0; k < GX_ARRAY_SIZE(TAMPER); k++) {
		decode(lib, 1, &del->m[pick], &v);
		avro_value_t rid;
		const char *record_id;
		size_t n;
		get(&v, "provenance.record_id", &rid);
		avro_value_get_string(&rid, &record_id, &n);
		char *id = strdup(record_id);
		switch (k) {
		case 0: flip_string(&v, "payload.name"); break;
		case 1: flip_bytes(&v, salt_path); break;
		case 2: flip_bytes(&v, leaf_path); break;
		case 3: flip_bytes(&v, "provenance.proof.path.0"); break;
		case 4: tamper_seal(&v, "provenance.proof.seal", 0); break;
		case 5: tamper_seal(&v, "provenance.proof.seal", 1); break;
		}
		encode(lib->delivery_fp, &v, &b);
		avro_value_decref(&v);
		char name[128];
		snprintf(name, sizeof(name), "%s.tampered-%s.jsonl", P, TAMPER[k]);
		char *path = strdup(it_path(name));
		write_record_file(path, b.data, b.len);

		const char *va[] = {"verify", "--file", path, NULL};
		itest_out_t o = ctl(P, va);
		cr_expect_eq(o.status, 1, "verify passed a record with a flipped %s "
			     "(%d): %s %s", TAMPER[k], o.status, o.out, o.err);
		cr_expect(strstr(o.out, id), "verify did not name record %s (%s): %s", id,
			  TAMPER[k], o.out);
		cr_expect(strstr(o.out, "records=1 verified=0 failed=1"), "%s: %s",
			  TAMPER[k], o.out);
		it_out_free(&o);
		char args[1200];
		snprintf(args, sizeof(args), "--library population --file %s", path);
		int st;
		char *py = python(P, args, &st);
		cr_expect_eq(st, 1, "Python passed a flipped %s: %s", TAMPER[k], py);
		cr_expect(strstr(py, id), "Python did not name %s: %s", id, py);
		free(py);
		free(path);
		free(id);
	}
	gx_buf_free(&b);
}

/* The one key of agency in the prefix's key directory. */
static gx_sealkey_t *agency_key(const char *P, const gx_suite_t *s, const char *agency)
{
	char dir[700], kp[1000], cp[1000], err[512];
	snprintf(dir, sizeof(dir), "%s/%s", it_keys_dir(P), agency);
	DIR *d = opendir(dir);
	cr_assert(d, "no %s", dir);
	struct dirent *e;
	kp[0] = '\0';
	while ((e = readdir(d)))
		if (strlen(e->d_name) == 36 && !strcmp(e->d_name + 32, ".key")) {
			snprintf(kp, sizeof(kp), "%s/%s", dir, e->d_name);
			snprintf(cp, sizeof(cp), "%s/%.32s.crt", dir, e->d_name);
		}
	closedir(d);
	cr_assert(kp[0], "no key in %s", dir);
	gx_sealkey_t *k;
	cr_assert_eq(gx_sealkey_load(s, kp, cp, NULL, &k, err, sizeof(err)), GX_OK, "%s",
		     err);
	return k;
}

/*
 * The record of ingest value v re-sealed, correctly, by another agency's
 * key while it still claims its own provider.
 */
static void forge_other_agency(const char *P, avro_value_t *v)
{
	const gx_library_t *lib = gx_schemas_library(schemas(), "population");
	char err[512];
	gx_suite_t *s;
	cr_assert_eq(gx_suite_new(it_suite(P), NULL, &s, err, sizeof(err)), GX_OK);
	gx_sealkey_t *key = agency_key(P, s, "SX-MZ");
	gx_envelope_t env;
	cr_assert_eq(gx_ingest_get(v, &env, err, sizeof(err)), GX_OK);
	cr_assert_str_eq(env.provider, "SX-GA");
	avro_value_t payload;
	get(v, "payload", &payload);
	gx_field_bytes_t fields[64];
	gx_buf_t scratch;
	gx_buf_init(&scratch);
	cr_assert_eq(gx_payload_field_bytes(lib, &payload, 0, &scratch, fields, err,
					    sizeof(err)), GX_OK, "%s", err);
	unsigned char secret[GX_SECRET_LEN], digest[GX_HASH_LEN];
	cr_assert_eq(gx_record_secret_new(secret, err, sizeof(err)), GX_OK);
	gx_seal_head_t head = {env.record_id, env.provider, env.item, env.collected_at,
			       (int)env.op};
	gx_record_seal_fields(s, secret, &head, fields, lib->nfields, NULL, digest);
	gx_buf_free(&scratch);
	gx_merkle_t *t = gx_merkle_new(s, (const unsigned char (*)[GX_HASH_LEN])digest, 1);
	gx_seal_t seal;
	json_t *j;
	cr_assert_eq(gx_seal_sign(key, NULL, 1, gx_merkle_root(t), gx_now_ms(), NULL, &seal,
				  &j, err, sizeof(err)), GX_OK, "%s", err);
	char *sj = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	avro_value_t f;
	get(v, "seal.secret", &f);
	avro_value_set_bytes(&f, secret, GX_SECRET_LEN);
	get(v, "seal.batch_id", &f);
	avro_value_set_string(&f, seal.batch_id);
	get(v, "seal.index", &f);
	avro_value_set_long(&f, 0);
	get(v, "seal.path", &f);
	avro_value_reset(&f);
	get(v, "seal.seal", &f);
	avro_value_set_string(&f, sj);
	free(sj);
	json_decref(j);
	gx_merkle_destroy(t);
	gx_sealkey_destroy(key);
	gx_suite_destroy(s);
}

static const char *const INGEST_TAMPER[] = {"value", "secret", "path", "seal",
					    "signature", "other_agency"};
static const char *const INGEST_REASON[] = {"record_not_in_seal", "record_not_in_seal",
					    "record_not_in_seal", "seal_invalid",
					    "seal_invalid", "seal_provider_mismatch"};

static long broker_rejections(const char *P, json_t **reasons)
{
	struct msgs r = read_all(P, "rejected");
	long n = 0;
	*reasons = json_object();
	for (size_t i = 0; i < r.n; i++) {
		json_t *j = json_loadb(r.m[i].val, r.m[i].vlen, 0, NULL);
		if (j && !strcmp(json_string_value(json_object_get(j, "by")) ?: "",
				 "govex-broker")) {
			const char *why = json_string_value(json_object_get(j, "reason"));
			const char *rid = json_string_value(json_object_get(j, "record_id"));
			cr_expect(json_string_value(json_object_get(j, "detail")),
				  "a rejection without its detail");
			json_object_set_new(*reasons, rid ? rid : "?",
					    json_string(why ? why : "?"));
			n++;
		}
		json_decref(j);
	}
	msgs_free(&r);
	return n;
}

static void tampered_ingest(const char *P, const char *consumer_topic, size_t released)
{
	const gx_library_t *lib = gx_schemas_library(schemas(), "population");
	struct msgs in = read_all(P, "ingest.population");
	cr_assert(in.n >= GX_ARRAY_SIZE(INGEST_TAMPER));
	/* a record with an audit path, then the next ones */
	size_t first = in.n;
	for (size_t i = 0; i < in.n && first == in.n; i++) {
		avro_value_t v, arr;
		size_t np = 0;
		decode(lib, 0, &in.m[i], &v);
		get(&v, "seal.path", &arr);
		avro_value_get_size(&arr, &np);
		if (np && i + GX_ARRAY_SIZE(INGEST_TAMPER) <= in.n)
			first = i;
		avro_value_decref(&v);
	}
	cr_assert(first < in.n);
	json_t *want = json_object();
	gx_buf_t b;
	gx_buf_init(&b);
	for (size_t k = 0; k < GX_ARRAY_SIZE(INGEST_TAMPER); k++) {
		const struct msg *m = &in.m[first + k];
		avro_value_t v, rid;
		decode(lib, 0, m, &v);
		switch (k) {
		case 0: flip_string(&v, "payload.name"); break;
		case 1: flip_bytes(&v, "seal.secret"); break;
		case 2: {
			avro_value_t arr;
			size_t np = 0;
			get(&v, "seal.path", &arr);
			avro_value_get_size(&arr, &np);
			cr_assert_gt(np, 0, "the record's batch has no audit path");
			char p[64];
			snprintf(p, sizeof(p), "seal.path.%zu", np - 1);
			flip_bytes(&v, p);
			break;
		}
		case 3: tamper_seal(&v, "seal.seal", 0); break;
		case 4: tamper_seal(&v, "seal.seal", 1); break;
		case 5: forge_other_agency(P, &v); break;
		}
		const char *id;
		size_t n;
		get(&v, "record_id", &rid);
		avro_value_get_string(&rid, &id, &n);
		json_object_set_new(want, id, json_string(INGEST_REASON[k]));
		encode(lib->ingest_fp, &v, &b);
		avro_value_decref(&v);
		produce(P, "ingest.population", m->key, m->klen, b.data, b.len);
	}
	gx_buf_free(&b);
	msgs_free(&in);

	json_t *got = NULL;
	for (int t = 0; t < 60; t++) {
		json_decref(got);
		if (broker_rejections(P, &got) >= (long)GX_ARRAY_SIZE(INGEST_TAMPER))
			break;
		usleep(500000);
	}
	const char *id;
	json_t *why;
	json_object_foreach(want, id, why) {
		const char *g = json_string_value(json_object_get(got, id));
		cr_expect(g, "the broker did not refuse the record with a flipped %s",
			  json_string_value(why));
		if (g)
			cr_expect_str_eq(g, json_string_value(why), "record %s", id);
	}
	cr_expect_eq(json_object_size(got), GX_ARRAY_SIZE(INGEST_TAMPER),
		     "the broker refused %zu records", json_object_size(got));
	json_decref(got);
	json_decref(want);
	/* Nothing tampered was released. */
	long n = it_topic_read(consumer_topic, 30000, NULL, NULL);
	cr_expect_eq(n, (long)released, "%ld deliveries after tampering, want %zu", n,
		     released);
}

static void population_end_to_end(const char *P, const char *suite)
{
	const char *ITEM = "POP-SEAL";
	const unsigned N = 24;
	it_seal_suite(P, suite);
	it_setup(P, it_population_catalog(ITEM));
	it_agency_key(P, "SX-MZ"); /* for the forged seal */

	/* A conditional grant narrowed to two fields. */
	const char *rq[] = {"request", "--consumer", "SX-RS", "--item", ITEM,
			    "--fields", "citizen_id,name,address", "--purpose", "社保参保登记",
			    "--basis", "《社会保险法》第五十八条", NULL};
	char *req = it_ctl_id(P, rq);
	const char *ap[] = {"approve", req, "--by", "SX-GA", "--fields", "citizen_id,name",
			    NULL};
	free(it_ctl_id(P, ap));
	free(req);

	pid_t broker = it_broker(P);
	char name[64];
	snprintf(name, sizeof(name), "%s.csv", P);
	char *csv = strdup(it_path(name));
	it_population_csv(csv, 0, N);
	const char *aa[] = {"--provider", "SX-GA", "--item", ITEM, "--csv", csv, NULL};
	itest_out_t o = it_run(P, "govex-adapter", aa);
	cr_assert_eq(o.status, 0, "adapter: %s", o.err);
	it_out_free(&o);
	free(csv);

	char topic[200];
	snprintf(topic, sizeof(topic), "%s.deliver.SX-RS.population", P);
	for (int t = 0; t < 60 && it_topic_read(topic, 5000, NULL, NULL) < N; t++)
		usleep(500000);
	struct msgs seals = read_all(P, "seals");
	cr_expect(seals.n >= 1, "no seal on %s.seals", P);
	msgs_free(&seals);

	/* govexctl verify: every record, and save them. */
	snprintf(name, sizeof(name), "%s.deliveries.jsonl", P);
	char *saved = strdup(it_path(name));
	const char *va[] = {"verify", "--consumer", "SX-RS", "--json", "--save", saved, NULL};
	o = ctl(P, va);
	cr_assert_eq(o.status, 0, "verify failed (%d): %s %s", o.status, o.out, o.err);
	json_t *c_ids, *sum = verify_lines(o.out, o.len, &c_ids);
	cr_expect_eq(jint(sum, "records"), N);
	cr_expect_eq(jint(sum, "verified"), N);
	it_out_free(&o);
	json_decref(sum);

	/* The released records are the projection: two fields of eleven. */
	struct msgs del = read_all(P, "deliver.SX-RS.population");
	cr_assert_eq(del.n, N);
	const gx_library_t *lib = gx_schemas_library(schemas(), "population");
	avro_value_t v, f;
	decode(lib, 1, &del.m[0], &v);
	get(&v, "provenance.withheld", &f);
	size_t nw = 0;
	avro_value_get_size(&f, &nw);
	cr_expect_eq(nw, lib->nfields - 2, "withheld %zu of %zu", nw, lib->nfields);
	avro_value_decref(&v);

	/* The Python consumer verifies the same records. */
	char args[1200];
	snprintf(args, sizeof(args), "--brokers %s --prefix %s --consumer SX-RS "
		 "--library population", it_brokers(), P);
	int st;
	char *py = python(P, args, &st);
	cr_expect_eq(st, 0, "Python verify failed: %s", py);
	json_t *p_ids, *psum = verify_lines(py, strlen(py), &p_ids);
	cr_expect_eq(jint(psum, "verified"), N);
	cr_expect(json_equal(c_ids, p_ids), "C and Python verified different records");
	json_decref(psum);
	json_decref(c_ids);
	json_decref(p_ids);
	free(py);
	/* and the file govexctl saved, both ways */
	snprintf(args, sizeof(args), "--library population --file %s", saved);
	py = python(P, args, &st);
	cr_expect_eq(st, 0, "Python verify of the saved file failed: %s", py);
	free(py);
	const char *vf[] = {"verify", "--file", saved, NULL};
	o = ctl(P, vf);
	cr_expect_eq(o.status, 0, "verify --file failed (%d): %s", o.status, o.out);
	it_out_free(&o);
	free(saved);

	tampered_deliveries(P, &del);
	tampered_ingest(P, topic, N);
	msgs_free(&del);
	cr_expect_eq(it_stop(broker), 0);
}

Test(seals, sm2_sm3_end_to_end, .timeout = 240)
{
	population_end_to_end("seal-sm2", "sm2-sm3");
}

Test(seals, ed25519_sha256_end_to_end, .timeout = 240)
{
	population_end_to_end("seal-ed", "ed25519-sha256");
}

/* ---- re-seal ---- */

static const char licence_catalog[] =
    "[{\"item\": \"LIC-SEAL\", \"name\": \"建筑施工企业安全生产许可证\","
    "  \"library\": \"e_licence\", \"provider\": \"SX-OLD\","
    "  \"provider_name\": \"山西省原住房和城乡建设厅\", \"update_period\": \"daily\","
    "  \"format\": \"avro\", \"fields\": ["
    "  {\"name\": \"licence_id\", \"share\": \"unconditional\"},"
    "  {\"name\": \"licence_no\", \"share\": \"unconditional\"},"
    "  {\"name\": \"licence_name\", \"share\": \"unconditional\"},"
    "  {\"name\": \"licence_type_code\", \"share\": \"unconditional\"},"
    "  {\"name\": \"holder_code\", \"share\": \"unconditional\"},"
    "  {\"name\": \"holder_code_type\", \"share\": \"unconditional\"},"
    "  {\"name\": \"holder_name\", \"share\": \"unconditional\"},"
    "  {\"name\": \"issuing_department\", \"share\": \"unconditional\"},"
    "  {\"name\": \"issuing_department_code\", \"share\": \"unconditional\"},"
    "  {\"name\": \"issued_on\", \"share\": \"unconditional\"},"
    "  {\"name\": \"valid_from\", \"share\": \"unconditional\"},"
    "  {\"name\": \"valid_until\", \"share\": \"unconditional\"},"
    "  {\"name\": \"status\", \"share\": \"unconditional\"},"
    "  {\"name\": \"document_body\", \"share\": \"unconditional\"}]}]";

static json_t *verify_summary(const char *P, int seals, int want_status)
{
	const char *a[] = {"verify", "--consumer", "SX-RS", "--library", "e_licence",
			   "--json", seals ? "--seals" : NULL, NULL};
	itest_out_t o = ctl(P, a);
	cr_expect_eq(o.status, want_status, "verify%s: %d, want %d: %s %s",
		     seals ? " --seals" : "", o.status, want_status, o.out, o.err);
	json_t *ids, *sum = verify_lines(o.out, o.len, &ids);
	json_decref(ids);
	it_out_free(&o);
	return sum;
}

static long count_lines(const char *s, const char *needle)
{
	long n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(seals, reseal_keeps_licences_verifying, .timeout = 240)
{
	const char *P = "reseal";
	const long N = 6;
	it_setup(P, licence_catalog);
	it_agency_key(P, "SX-NEW");
	const char *rq[] = {"request", "--consumer", "SX-RS", "--item", "LIC-SEAL",
			    "--fields", "licence_id,licence_name,holder_name,valid_until",
			    "--purpose", "资质核验", "--basis", "《行政许可法》", NULL};
	free(it_ctl_id(P, rq));
	pid_t broker = it_broker(P);
	char *csv = strdup(it_path("reseal.csv"));
	const char *sa[] = {"sample", "e_licence", "--rows", "6", "--seed", "50",
			    "--out", csv, NULL};
	ctl_ok(P, sa);
	const char *aa[] = {"--provider", "SX-OLD", "--item", "LIC-SEAL", "--csv", csv, NULL};
	itest_out_t o = it_run(P, "govex-adapter", aa);
	cr_assert_eq(o.status, 0, "adapter: %s", o.err);
	it_out_free(&o);
	free(csv);
	for (int t = 0; t < 60 &&
	     it_topic_read("reseal.deliver.SX-RS.e_licence", 5000, NULL, NULL) < N; t++)
		usleep(500000);

	json_t *s = verify_summary(P, 0, 0);
	cr_expect_eq(jint(s, "verified"), N);
	json_decref(s);

	/* Re-seal: one seal per licence, and nothing more the second time. */
	const char *rs[] = {"reseal", "--from", "SX-OLD", "--to", "SX-NEW", NULL};
	o = ctl(P, rs);
	cr_assert_eq(o.status, 0, "reseal (%d): %s %s", o.status, o.out, o.err);
	cr_expect_eq(count_lines(o.out, "re-sealed batch "), N, "%s", o.out);
	it_out_free(&o);
	o = ctl(P, rs);
	cr_assert_eq(o.status, 0, "reseal again (%d): %s %s", o.status, o.out, o.err);
	cr_expect_eq(count_lines(o.out, "re-sealed batch "), 0, "%s", o.out);
	cr_expect(strstr(o.out, "6 already re-sealed by SX-NEW"), "%s", o.out);
	it_out_free(&o);
	struct msgs seals = read_all(P, "seals");
	long by_new = 0;
	for (size_t i = 0; i < seals.n; i++)
		if (seals.m[i].klen == 6 && !memcmp(seals.m[i].key, "SX-NEW", 6))
			by_new++;
	cr_expect_eq(by_new, N);
	msgs_free(&seals);

	/* Both seals verify: the original while SX-OLD is in the keyring... */
	s = verify_summary(P, 1, 0);
	cr_expect_eq(jint(s, "verified"), N);
	cr_expect_eq(jint(s, "resealed"), 0);
	json_decref(s);

	/* ...and the re-seal once SX-OLD's key has been taken out. */
	char kr[700], tmp[720];
	snprintf(kr, sizeof(kr), "%s/keyring.jsonl", it_keys_dir(P));
	snprintf(tmp, sizeof(tmp), "%s.new", kr);
	FILE *in = fopen(kr, "r"), *out = fopen(tmp, "w");
	cr_assert(in && out);
	char line[4096];
	while (fgets(line, sizeof(line), in))
		if (!strstr(line, "\"SX-OLD\""))
			fputs(line, out);
	fclose(in);
	fclose(out);
	cr_assert_eq(rename(tmp, kr), 0);

	s = verify_summary(P, 0, 1);
	cr_expect_eq(jint(s, "failed"), N, "without re-seals, SX-OLD's seals no longer verify");
	json_decref(s);
	s = verify_summary(P, 1, 0);
	cr_expect_eq(jint(s, "verified"), N);
	cr_expect_eq(jint(s, "resealed"), N);
	json_decref(s);

	char args[1200];
	snprintf(args, sizeof(args), "--brokers %s --prefix %s --consumer SX-RS "
		 "--library e_licence --seals", it_brokers(), P);
	int st;
	char *py = python(P, args, &st);
	cr_expect_eq(st, 0, "Python verify --seals failed: %s", py);
	cr_expect_eq(count_lines(py, "\"resealed_by\": \"SX-NEW\""), N, "%s", py);
	free(py);
	cr_expect_eq(it_stop(broker), 0);
}
