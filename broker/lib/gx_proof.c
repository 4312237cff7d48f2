/*
 * gx_proof.c - seals on the wire: sealing batches of ingest records,
 * verifying them at the broker, and verifying released records at the
 * consumer (see gx_proof.h for the format).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gx_avro.h"
#include "gx_proof.h"

#define AVRO_FAIL(what)                                                      \
	gx_seterr(errstr, errstr_size, GX_ERR_AVRO, "%s: %s", (what),        \
		  "malformed value")

/* ---- verifier ---- */

#define SEAL_CACHE 1024		/* direct-mapped by batch id hash */
/* Proven Merkle nodes (gx_merkle_memo_t) per cached seal: at most MEMO_MAX
 * bytes for one batch (about 96 bytes a record: all of a batch of 10,000,
 * the upper levels of a larger one), MEMO_BUDGET for all of a checker's,
 * the least recently used given up first. */
#define MEMO_MAX (1u << 20)
#define MEMO_BUDGET (4u << 20)

struct seal_slot {
	char *json;		/* the seal's bytes, NUL-terminated */
	size_t len;
	gx_seal_t seal;
	gx_merkle_memo_t *memo;	/* nodes proven under seal.root, or NULL */
	uint64_t used;		/* when memo last served (v->tick) */
};

struct gx_sealcheck {
	gx_suite_t *suite;
	gx_cert_t *root;
	gx_keyring_t *keyring;
	char *keyring_path;
	int64_t grace_ms;
	struct stat st;		/* of the keyring file when read */
	struct seal_slot cache[SEAL_CACHE];
	uint64_t checked, hits;
	size_t memo_bytes;	/* held by the slots' memos */
	uint64_t tick;
	gx_buf_t scratch;	/* field bytes of the record in hand */
};

static void memo_drop(gx_sealcheck_t *v, struct seal_slot *slot)
{
	v->memo_bytes -= gx_merkle_memo_bytes(slot->memo);
	gx_merkle_memo_destroy(slot->memo);
	slot->memo = NULL;
}

static void cache_clear(gx_sealcheck_t *v)
{
	for (size_t i = 0; i < SEAL_CACHE; i++) {
		memo_drop(v, &v->cache[i]);
		free(v->cache[i].json);
		v->cache[i].json = NULL;
	}
}

/* The memo of a cached, verified seal's tree, made on first use; NULL when
 * the batch has no path to share (one record) or nothing fits. */
static gx_merkle_memo_t *slot_memo(gx_sealcheck_t *v, struct seal_slot *slot)
{
	slot->used = ++v->tick;
	if (slot->memo || slot->seal.count < 2)
		return slot->memo;
	gx_merkle_memo_t *m = gx_merkle_memo_new(slot->seal.count,
						 slot->seal.root, MEMO_MAX);
	size_t need = gx_merkle_memo_bytes(m);
	/* Make room: the memos used longest ago go first. A scan of the
	 * cache, once per new batch (which costs a signature check anyway). */
	while (m && v->memo_bytes + need > MEMO_BUDGET) {
		struct seal_slot *old = NULL;
		for (size_t i = 0; i < SEAL_CACHE; i++)
			if (v->cache[i].memo &&
			    (!old || v->cache[i].used < old->used))
				old = &v->cache[i];
		if (!old)
			break;
		memo_drop(v, old);
	}
	if (m && v->memo_bytes + need > MEMO_BUDGET) {
		gx_merkle_memo_destroy(m);
		return NULL;
	}
	v->memo_bytes += need;
	slot->memo = m;
	return m;
}

static gx_err_t keyring_read(gx_sealcheck_t *v, gx_keyring_t **out,
			     struct stat *st, char *errstr, size_t errstr_size)
{
	if (stat(v->keyring_path, st))
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: %s (make keys with govexctl keys new)",
				 v->keyring_path, strerror(errno));
	gx_keyring_t *kr = gx_keyring_new(v->suite, v->root, v->grace_ms);
	gx_err_t err = gx_keyring_load(kr, v->keyring_path, errstr,
				       errstr_size);
	if (err) {
		gx_keyring_destroy(kr);
		return err;
	}
	*out = kr;
	return GX_OK;
}

gx_err_t gx_sealcheck_open(const gx_seal_conf_t *c, gx_sealcheck_t **out,
			  char *errstr, size_t errstr_size)
{
	gx_sealcheck_t *v = gx_calloc(1, sizeof(*v));
	gx_err_t err;
	v->grace_ms = c->grace_ms;
	v->keyring_path = gx_strdup(c->keyring);
	if ((err = gx_suite_new(c->suite, c->sm2_id, &v->suite, errstr,
				errstr_size)) ||
	    (err = gx_root_load(v->suite, c->root, &v->root, errstr,
				errstr_size)) ||
	    (err = keyring_read(v, &v->keyring, &v->st, errstr,
				errstr_size))) {
		gx_sealcheck_destroy(v);
		return err;
	}
	*out = v;
	return GX_OK;
}

void gx_sealcheck_destroy(gx_sealcheck_t *v)
{
	if (!v)
		return;
	cache_clear(v);
	gx_buf_free(&v->scratch);
	gx_keyring_destroy(v->keyring);
	gx_cert_destroy(v->root);
	gx_suite_destroy(v->suite);
	free(v->keyring_path);
	free(v);
}

const gx_suite_t *gx_sealcheck_suite(const gx_sealcheck_t *v)
{
	return v->suite;
}

const gx_cert_t *gx_sealcheck_root(const gx_sealcheck_t *v)
{
	return v->root;
}

const gx_keyring_t *gx_sealcheck_keyring(const gx_sealcheck_t *v)
{
	return v->keyring;
}

uint64_t gx_sealcheck_seals_checked(const gx_sealcheck_t *v)
{
	return v->checked;
}

uint64_t gx_sealcheck_seal_hits(const gx_sealcheck_t *v)
{
	return v->hits;
}

size_t gx_sealcheck_memo_bytes(const gx_sealcheck_t *v)
{
	return v->memo_bytes;
}

gx_err_t gx_sealcheck_reload(gx_sealcheck_t *v, char *errstr,
			    size_t errstr_size)
{
	struct stat st;
	if (!stat(v->keyring_path, &st) && st.st_dev == v->st.st_dev &&
	    st.st_ino == v->st.st_ino && st.st_size == v->st.st_size &&
	    st.st_mtim.tv_sec == v->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == v->st.st_mtim.tv_nsec &&
	    st.st_ctim.tv_sec == v->st.st_ctim.tv_sec &&
	    st.st_ctim.tv_nsec == v->st.st_ctim.tv_nsec)
		return GX_OK;
	gx_keyring_t *kr;
	gx_err_t err = keyring_read(v, &kr, &st, errstr, errstr_size);
	if (err)
		return err;
	gx_keyring_destroy(v->keyring);
	v->keyring = kr;
	v->st = st;
	/* A key taken out must stop verifying: forget what it verified. */
	cache_clear(v);
	return GX_OK;
}

static size_t slot_of(const char *batch_id)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const char *p = batch_id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return (size_t)(h % SEAL_CACHE);
}

/* gx_sealcheck_seal, giving the cache slot that holds the seal. */
static gx_err_t seal_find(gx_sealcheck_t *v, const char *json, size_t len,
			  struct seal_slot **out, char *errstr,
			  size_t errstr_size)
{
	json_error_t jerr;
	json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "the seal is not a JSON object");
	}
	const char *bid = json_string_value(json_object_get(j, "batch_id"));
	struct seal_slot *slot = &v->cache[slot_of(bid ? bid : "")];
	if (slot->json && slot->len == len && !memcmp(slot->json, json, len)) {
		json_decref(j);
		v->hits++;
		*out = slot;
		return GX_OK;
	}
	/* A new batch: pick up keyring changes first (a key added or taken
	 * out); a keyring that no longer loads keeps the one we have. */
	char why[512];
	if (gx_sealcheck_reload(v, why, sizeof(why)))
		gx_log(GX_LOG_WARN, "keyring_reload_failed", "error=\"%s\"",
		       why);
	gx_seal_t s;
	v->checked++;
	gx_err_t err = gx_seal_verify_json(v->suite, v->keyring, j, &s, errstr,
					   errstr_size);
	json_decref(j);
	if (err)
		return err;
	/* the nodes proven under the seal this slot held go with it */
	memo_drop(v, slot);
	free(slot->json);
	slot->json = gx_malloc(len + 1);
	memcpy(slot->json, json, len);
	slot->json[len] = '\0';
	slot->len = len;
	slot->seal = s;
	*out = slot;
	return GX_OK;
}

gx_err_t gx_sealcheck_seal(gx_sealcheck_t *v, const char *json, size_t len,
			  const gx_seal_t **seal, char *errstr,
			  size_t errstr_size)
{
	struct seal_slot *slot;
	gx_err_t err = seal_find(v, json, len, &slot, errstr, errstr_size);
	if (!err)
		*seal = &slot->seal;
	return err;
}

/* ---- field bytes ---- */

gx_err_t gx_payload_field_bytes(const gx_library_t *lib,
				avro_value_t *payload, int view,
				gx_buf_t *scratch, gx_field_bytes_t *fields,
				char *errstr, size_t errstr_size)
{
	size_t sizes[64], total = 0;
	avro_value_t vals[64];
	int present[64];
	if (lib->nfields > 64)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "%s has more than 64 fields", lib->name);
	for (size_t i = 0; i < lib->nfields; i++) {
		const gx_field_t *f = &lib->fields[i];
		avro_value_t fv;
		if (avro_value_get_by_index(payload, i, &fv, NULL))
			return AVRO_FAIL(f->name);
		present[i] = 1;
		if (view && !f->nullable) {
			/* ["null", T] in the view, T in the payload: the
			 * value is the T branch, encoded as T. */
			int disc;
			avro_value_t branch;
			if (avro_value_get_discriminant(&fv, &disc) ||
			    avro_value_get_current_branch(&fv, &branch))
				return AVRO_FAIL(f->name);
			fv = branch;
			if (disc == 0)
				present[i] = 0;	/* withheld */
		}
		vals[i] = fv;
		sizes[i] = 0;
		if (present[i] && avro_value_sizeof(&fv, &sizes[i]))
			return AVRO_FAIL(f->name);
		total += sizes[i];
	}
	gx_buf_reserve(scratch, total + 1);
	char *base = scratch->data + scratch->len;
	avro_writer_t w = avro_writer_memory(base, (int64_t)total + 1);
	if (!w)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "cannot create an Avro writer");
	size_t off = 0;
	for (size_t i = 0; i < lib->nfields; i++) {
		fields[i].name = lib->fields[i].name;
		fields[i].value = present[i] ? base + off : NULL;
		fields[i].len = sizes[i];
		if (present[i] && avro_value_write(w, &vals[i])) {
			avro_writer_free(w);
			return AVRO_FAIL(lib->fields[i].name);
		}
		off += sizes[i];
	}
	avro_writer_free(w);
	scratch->len += total;
	return GX_OK;
}

/* ---- reading proofs ---- */

struct wire_proof {
	const void *secret;
	size_t secret_len;
	const char *batch_id;
	int64_t index;
	size_t npath;
	unsigned char path[GX_MERKLE_PATH_MAX][GX_HASH_LEN];
	const char *seal;
	size_t seal_len;
};

/* The members every seal proof has (SEAL_PROOF_TAIL in gx_schema.c). */
static gx_err_t read_tail(avro_value_t *rec, struct wire_proof *w,
			  char *errstr, size_t errstr_size)
{
	avro_value_t f, e;
	size_t n, len;
	if (avro_value_get_by_name(rec, "batch_id", &f, NULL) ||
	    avro_value_get_string(&f, &w->batch_id, &len) ||
	    avro_value_get_by_name(rec, "index", &f, NULL) ||
	    avro_value_get_long(&f, &w->index) ||
	    avro_value_get_by_name(rec, "seal", &f, NULL) ||
	    avro_value_get_string(&f, &w->seal, &w->seal_len) ||
	    avro_value_get_by_name(rec, "path", &f, NULL) ||
	    avro_value_get_size(&f, &n))
		return AVRO_FAIL("seal proof");
	if (w->seal_len)
		w->seal_len--; /* Avro C counts the NUL */
	if (n > GX_MERKLE_PATH_MAX)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "audit path of %zu hashes (at most %d)", n,
				 GX_MERKLE_PATH_MAX);
	for (size_t i = 0; i < n; i++) {
		const void *p;
		size_t plen;
		if (avro_value_get_by_index(&f, i, &e, NULL) ||
		    avro_value_get_bytes(&e, &p, &plen))
			return AVRO_FAIL("seal path");
		if (plen != GX_HASH_LEN)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "audit path element %zu has %zu bytes, "
					 "not %d", i, plen, GX_HASH_LEN);
		memcpy(w->path[i], p, GX_HASH_LEN);
	}
	w->npath = n;
	if (w->index < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "negative index %lld in the batch",
				 (long long)w->index);
	return GX_OK;
}

/* Seal checks shared by broker and consumer: the seal verifies, names the
 * record's batch, and digest sits at index under its root. A re-seal may be
 * by another agency when allow_reseal. */
static gx_err_t check_sealed(gx_sealcheck_t *v, const struct wire_proof *w,
			     const char *provider,
			     const unsigned char digest[GX_HASH_LEN],
			     int allow_reseal, const char **sealed_by,
			     const char **reason, char *errstr,
			     size_t errstr_size)
{
	char why[512];
	/* The record names its batch: a cached seal with the same bytes is
	 * found without parsing the JSON (a hit needs byte-identical JSON of
	 * a seal verified before, whatever slot it names). */
	struct seal_slot *slot = &v->cache[slot_of(w->batch_id)];
	if (slot->json && slot->len == w->seal_len &&
	    !memcmp(slot->json, w->seal, w->seal_len)) {
		v->hits++;
	} else if (seal_find(v, w->seal, w->seal_len, &slot, why,
			     sizeof(why))) {
		*reason = "seal_invalid";
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "seal of batch %.40s: %s", w->batch_id, why);
	}
	const gx_seal_t *seal = &slot->seal;
	int reseal = seal->reseal_of[0] != '\0';
	/* Another agency's seal counts only as a re-seal of this very batch,
	 * and only where the caller accepts re-seals. */
	if (strcmp(seal->provider, provider) &&
	    !(allow_reseal && reseal && !strcmp(seal->reseal_of, w->batch_id))) {
		*reason = "seal_provider_mismatch";
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "record claims provider %.64s but its batch "
				 "was sealed by %s", provider, seal->provider);
	}
	if (strcmp(seal->batch_id, w->batch_id) &&
	    !(reseal && !strcmp(seal->reseal_of, w->batch_id))) {
		*reason = "record_not_in_seal";
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "record names batch %.40s but carries the "
				 "seal of batch %s", w->batch_id,
				 seal->batch_id);
	}
	/* The slot's seal is verified: nodes proven under its root spare
	 * this record's path the hashes other records of the batch made. */
	if (gx_seal_check_record_memo(
		v->suite, seal, slot_memo(v, slot), seal->provider, digest,
		(uint64_t)w->index,
		(const unsigned char (*)[GX_HASH_LEN])w->path, w->npath, why,
		sizeof(why))) {
		*reason = "record_not_in_seal";
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "the record's digest does not lead to its "
				 "seal's root (a value, salt or path was "
				 "changed): %s", why);
	}
	if (sealed_by)
		*sealed_by = seal->provider; /* valid until the next seal */
	return GX_OK;
}

gx_err_t gx_ingest_verify(gx_sealcheck_t *v, const gx_library_t *lib,
			  avro_value_t *ingest, const gx_envelope_t *env,
			  gx_record_proof_t *proof, const char **reason,
			  char *errstr, size_t errstr_size)
{
	avro_value_t sp, f, payload;
	struct wire_proof w;
	gx_err_t err;
	*reason = "seal_malformed";
	if (avro_value_get_by_name(ingest, "seal", &sp, NULL) ||
	    avro_value_get_by_name(&sp, "secret", &f, NULL) ||
	    avro_value_get_bytes(&f, &w.secret, &w.secret_len) ||
	    avro_value_get_by_name(ingest, "payload", &payload, NULL))
		return AVRO_FAIL("seal");
	if ((err = read_tail(&sp, &w, errstr, errstr_size)))
		return err;
	if (!w.seal_len && !w.secret_len) {
		*reason = "seal_missing";
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "the record carries no seal");
	}
	if (w.secret_len != GX_SECRET_LEN)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "seal secret has %zu bytes, not %d",
				 w.secret_len, GX_SECRET_LEN);

	gx_field_bytes_t *fields = proof->fields;
	gx_buf_reset(&v->scratch);
	if ((err = gx_payload_field_bytes(lib, &payload, 0, &v->scratch, fields,
					  errstr, errstr_size)))
		return err;
	proof->n = lib->nfields;
	gx_seal_head_t head = {env->record_id, env->provider, env->item,
			       env->collected_at, (int)env->op};
	unsigned char digest[GX_HASH_LEN];
	gx_record_fields_proof(v->suite, w.secret, &head, fields, lib->nfields,
			       proof->salts, proof->leaves, digest);
	/* At the broker a record is the provider's own: no re-seals. */
	if ((err = check_sealed(v, &w, env->provider, digest, 0, NULL, reason,
				errstr, errstr_size)))
		return err;
	proof->batch_id = w.batch_id;
	proof->index = w.index;
	proof->npath = w.npath;
	memcpy(proof->path, w.path, w.npath * GX_HASH_LEN);
	proof->seal = w.seal;
	proof->seal_len = w.seal_len;
	return GX_OK;
}

static int get_str(avro_value_t *rec, const char *name, const char **out)
{
	avro_value_t f;
	size_t len;
	return avro_value_get_by_name(rec, name, &f, NULL) ||
	       avro_value_get_string(&f, out, &len);
}

gx_err_t gx_delivery_verify(gx_sealcheck_t *v, const gx_library_t *lib,
			    avro_value_t *delivery, const char **reason,
			    char *errstr, size_t errstr_size)
{
	return gx_delivery_verify_ex(v, lib, delivery, 0, NULL, reason, errstr,
				     errstr_size);
}

gx_err_t gx_delivery_verify_ex(gx_sealcheck_t *v, const gx_library_t *lib,
			       avro_value_t *delivery, int allow_reseal,
			       const char **sealed_by, const char **reason,
			       char *errstr, size_t errstr_size)
{
	avro_value_t prov, pf, view, f, arr;
	struct wire_proof w;
	gx_seal_head_t head;
	int op;
	size_t n;
	gx_err_t err;
	*reason = "proof_malformed";
	if (avro_value_get_by_name(delivery, "provenance", &prov, NULL) ||
	    avro_value_get_by_name(delivery, "payload", &view, NULL) ||
	    get_str(&prov, "record_id", &head.record_id) ||
	    get_str(&prov, "provider", &head.provider) ||
	    get_str(&prov, "item", &head.item) ||
	    avro_value_get_by_name(&prov, "collected_at", &f, NULL) ||
	    avro_value_get_long(&f, &head.collected_at) ||
	    avro_value_get_by_name(&prov, "op", &f, NULL) ||
	    avro_value_get_enum(&f, &op) ||
	    avro_value_get_by_name(&prov, "proof", &pf, NULL) ||
	    avro_value_get_by_name(&pf, "fields", &arr, NULL) ||
	    avro_value_get_size(&arr, &n))
		return AVRO_FAIL("provenance");
	head.op = op;
	if ((err = read_tail(&pf, &w, errstr, errstr_size)))
		return err;
	if (n != lib->nfields)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "proof has %zu fields, %s has %zu", n,
				 lib->name, lib->nfields);
	gx_field_bytes_t vals[64];
	gx_field_proof_t fp[64];
	gx_buf_t scratch;
	gx_buf_init(&scratch);
	err = gx_payload_field_bytes(lib, &view, 1, &scratch, vals, errstr,
				     errstr_size);
	for (size_t i = 0; !err && i < n; i++) {
		avro_value_t e, u, b;
		const char *name;
		int disc_s, disc_l;
		const void *salt = NULL, *leaf = NULL;
		size_t slen = 0, llen = 0;
		if (avro_value_get_by_index(&arr, i, &e, NULL) ||
		    get_str(&e, "name", &name) ||
		    avro_value_get_by_name(&e, "salt", &u, NULL) ||
		    avro_value_get_discriminant(&u, &disc_s) ||
		    avro_value_get_current_branch(&u, &b) ||
		    (disc_s == 1 && avro_value_get_bytes(&b, &salt, &slen)) ||
		    avro_value_get_by_name(&e, "leaf", &u, NULL) ||
		    avro_value_get_discriminant(&u, &disc_l) ||
		    avro_value_get_current_branch(&u, &b) ||
		    (disc_l == 1 && avro_value_get_bytes(&b, &leaf, &llen))) {
			err = AVRO_FAIL("proof field");
			break;
		}
		const gx_field_t *lf = &lib->fields[i];
		if (strcmp(name, lf->name)) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"proof field %zu is %.64s, not %s", i,
					name, lf->name);
			break;
		}
		if ((salt && slen != GX_HASH_LEN) ||
		    (leaf && llen != GX_HASH_LEN) || !salt == !leaf) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"field %s: a proof needs either a "
					"32-byte salt or a 32-byte leaf",
					lf->name);
			break;
		}
		if (salt && !vals[i].value) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"field %s has a salt but no value",
					lf->name);
			break;
		}
		int shown = vals[i].value != NULL;
		if (lf->nullable) {
			avro_value_t fv;
			int d = 0;
			if (avro_value_get_by_index(&view, i, &fv, NULL) ||
			    avro_value_get_discriminant(&fv, &d)) {
				err = AVRO_FAIL(lf->name);
				break;
			}
			shown = d != 0;
		}
		if (leaf && shown) {
			/* a value the proof does not cover */
			*reason = "record_not_in_seal";
			err = gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
					"field %s has a value but only a leaf "
					"in the proof", lf->name);
			break;
		}
		fp[i] = (gx_field_proof_t){lf->name, salt, vals[i].value,
					   vals[i].len, leaf};
	}
	unsigned char digest[GX_HASH_LEN];
	if (!err)
		err = gx_record_digest_disclosed(v->suite, &head, fp, n,
						 digest, errstr, errstr_size);
	gx_buf_free(&scratch);
	if (err)
		return err;
	return check_sealed(v, &w, head.provider, digest, allow_reseal,
			    sealed_by, reason, errstr, errstr_size);
}

/* ---- sealing ---- */

struct pending {
	size_t off, len;	/* bytes up to the proof, in s->bytes */
	size_t koff, klen;	/* the Kafka key, in s->bytes */
	unsigned char secret[GX_SECRET_LEN];
};

struct gx_sealer {
	const gx_sealkey_t *key;
	gx_buf_t bytes, scratch, out;
	struct pending *p;
	unsigned char (*digests)[GX_HASH_LEN];
	size_t n, cap;
	int64_t opened;
};

gx_sealer_t *gx_sealer_new(const gx_sealkey_t *key)
{
	gx_sealer_t *s = gx_calloc(1, sizeof(*s));
	s->key = key;
	gx_buf_init(&s->bytes);
	gx_buf_init(&s->scratch);
	gx_buf_init(&s->out);
	return s;
}

void gx_sealer_destroy(gx_sealer_t *s)
{
	if (!s)
		return;
	gx_buf_free(&s->bytes);
	gx_buf_free(&s->scratch);
	gx_buf_free(&s->out);
	free(s->p);
	free(s->digests);
	free(s);
}

void gx_sealer_set_key(gx_sealer_t *s, const gx_sealkey_t *key)
{
	s->key = key;
}

size_t gx_sealer_pending(const gx_sealer_t *s)
{
	return s->n;
}

int64_t gx_sealer_opened(const gx_sealer_t *s)
{
	return s->n ? s->opened : 0;
}

void gx_sealer_discard(gx_sealer_t *s)
{
	s->n = 0;
	gx_buf_reset(&s->bytes);
}

gx_err_t gx_sealer_add(gx_sealer_t *s, const gx_library_t *lib,
		       avro_value_t *ingest, const gx_envelope_t *env,
		       const void *key, size_t klen, char *errstr,
		       size_t errstr_size)
{
	const gx_suite_t *suite = gx_sealkey_suite(s->key);
	avro_value_t payload;
	gx_err_t err;
	if (strcmp(env->provider, gx_sealkey_agency(s->key)))
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "the sealing key is %s's, the record is %s's",
				 gx_sealkey_agency(s->key), env->provider);
	if (avro_value_get_by_name(ingest, "payload", &payload, NULL))
		return AVRO_FAIL("payload");
	gx_field_bytes_t fields[64];
	gx_buf_reset(&s->scratch);
	if ((err = gx_payload_field_bytes(lib, &payload, 0, &s->scratch,
					  fields, errstr, errstr_size)))
		return err;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->p = gx_realloc(s->p, s->cap * sizeof(*s->p));
		s->digests = gx_realloc(s->digests,
					s->cap * sizeof(*s->digests));
	}
	struct pending *p = &s->p[s->n];
	if ((err = gx_record_secret_new(p->secret, errstr, errstr_size)))
		return err;
	gx_seal_head_t head = {env->record_id, env->provider, env->item,
			       env->collected_at, (int)env->op};
	gx_record_seal_fields(suite, p->secret, &head, fields, lib->nfields,
			      NULL, s->digests[s->n]);

	/* The record's bytes up to its proof: every top-level field but the
	 * last (the proof) in order, which is how Avro lays out a record. The
	 * payload, last before the proof, is its fields' bytes in order: those
	 * just computed, not encoded again. */
	size_t nf, total = 0, sz;
	avro_value_t f;
	const char *fname = NULL;
	if (avro_value_get_size(ingest, &nf) || nf < 3 ||
	    avro_value_get_by_index(ingest, nf - 2, &f, &fname) ||
	    !fname || strcmp(fname, "payload"))
		return AVRO_FAIL("ingest");
	for (size_t i = 0; i + 2 < nf; i++) {
		if (avro_value_get_by_index(ingest, i, &f, NULL) ||
		    avro_value_sizeof(&f, &sz))
			return AVRO_FAIL("ingest");
		total += sz;
	}
	gx_buf_reserve(&s->bytes, total + s->scratch.len + klen + 1);
	avro_writer_t w = avro_writer_memory(s->bytes.data + s->bytes.len,
					     (int64_t)total + 1);
	if (!w)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "cannot create an Avro writer");
	for (size_t i = 0; i + 2 < nf; i++)
		if (avro_value_get_by_index(ingest, i, &f, NULL) ||
		    avro_value_write(w, &f)) {
			avro_writer_free(w);
			return AVRO_FAIL("ingest");
		}
	avro_writer_free(w);
	p->off = s->bytes.len;
	s->bytes.len += total;
	gx_buf_append(&s->bytes, s->scratch.data, s->scratch.len);
	p->len = total + s->scratch.len;
	p->koff = s->bytes.len;
	p->klen = klen;
	gx_buf_append(&s->bytes, key, klen);
	if (!s->n)
		s->opened = gx_mono_ms();
	s->n++;
	return GX_OK;
}

gx_err_t gx_sealer_close(gx_sealer_t *s, uint64_t ingest_fp,
			 gx_sealer_record_cb record_cb,
			 gx_sealer_seal_cb seal_cb, void *opaque,
			 char *errstr, size_t errstr_size)
{
	if (!s->n)
		return GX_OK;
	const gx_suite_t *suite = gx_sealkey_suite(s->key);
	gx_merkle_t *t = gx_merkle_new(
	    suite, (const unsigned char (*)[GX_HASH_LEN])s->digests, s->n);
	if (!t) {
		gx_sealer_discard(s);
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "cannot build the batch tree of %zu records",
				 s->n);
	}
	gx_seal_t seal;
	json_t *j;
	gx_err_t err = gx_seal_sign(s->key, NULL, (uint32_t)s->n,
				    gx_merkle_root(t), gx_now_ms(), NULL, &seal,
				    &j, errstr, errstr_size);
	if (err) {
		gx_merkle_destroy(t);
		gx_sealer_discard(s);
		return err;
	}
	char *sj = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!sj)
		abort(); /* only on allocation failure */
	size_t sjlen = strlen(sj), blen = strlen(seal.batch_id);
	unsigned char path[GX_MERKLE_PATH_MAX][GX_HASH_LEN];
	for (size_t i = 0; i < s->n; i++) {
		const struct pending *p = &s->p[i];
		size_t np = gx_merkle_path(t, i, path);
		gx_buf_t *o = &s->out;
		gx_buf_reset(o);
gx_avro_put_header(o, ingest_fp);
		gx_buf_append(o, s->bytes.data + p->off, p->len);
		gx_avro_put_bytes(o, p->secret, GX_SECRET_LEN);
		gx_avro_put_bytes(o, seal.batch_id, blen);
		gx_avro_put_long(o, (int64_t)i);
		if (np) {
			gx_avro_put_long(o, (int64_t)np);
			for (size_t k = 0; k < np; k++)
				gx_avro_put_bytes(o, path[k], GX_HASH_LEN);
		}
		gx_avro_put_long(o, 0);
		gx_avro_put_bytes(o, sj, sjlen);
		record_cb(opaque, s->bytes.data + p->koff, p->klen, o->data,
			  o->len);
	}
	seal_cb(opaque, &seal, sj);
	free(sj);
	gx_merkle_destroy(t);
	gx_sealer_discard(s);
	return GX_OK;
}
