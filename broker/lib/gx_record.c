/*
 * gx_record.c - envelope access and field-level projection.
 */
#include <string.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_keyfile.h"
#include "gx_record.h"
#include "gx_proof.h"

#define AVRO_FAIL(what)                                                       \
	gx_seterr(errstr, errstr_size, GX_ERR_AVRO, "%s: %s", what,            \
		  avro_strerror())

static int set_str(avro_value_t *rec, const char *name, const char *s)
{
	avro_value_t f;
	return avro_value_get_by_name(rec, name, &f, NULL) ||
	       avro_value_set_string(&f, s);
}

static int get_str(avro_value_t *rec, const char *name, const char **s)
{
	avro_value_t f;
	size_t n;
	return avro_value_get_by_name(rec, name, &f, NULL) ||
	       avro_value_get_string(&f, s, &n);
}

static int set_long(avro_value_t *rec, const char *name, int64_t v)
{
	avro_value_t f;
	return avro_value_get_by_name(rec, name, &f, NULL) ||
	       avro_value_set_long(&f, v);
}

gx_err_t gx_ingest_set(avro_value_t *ingest, const gx_envelope_t *env,
		       char *errstr, size_t errstr_size)
{
	avro_value_t op, seal, secret;
	/* The seal proof is written by the sealer (gx_proof.h); until then
	 * it is empty, so the value always encodes. */
	if (avro_value_get_by_name(ingest, "seal", &seal, NULL) ||
	    set_str(&seal, "batch_id", "") || set_str(&seal, "seal", "") ||
	    avro_value_get_by_name(&seal, "secret", &secret, NULL) ||
	    avro_value_set_bytes(&secret, (void *)"", 0))
		return AVRO_FAIL("ingest seal");
	if (set_str(ingest, "record_id", env->record_id) ||
	    set_str(ingest, "provider", env->provider) ||
	    set_str(ingest, "item", env->item) ||
	    set_str(ingest, "source", env->source ? env->source : "") ||
	    set_long(ingest, "collected_at", env->collected_at) ||
	    avro_value_get_by_name(ingest, "op", &op, NULL) ||
	    avro_value_set_enum(&op, (int)env->op))
		return AVRO_FAIL("ingest envelope");
	return GX_OK;
}

gx_err_t gx_ingest_get(avro_value_t *ingest, gx_envelope_t *env,
		       char *errstr, size_t errstr_size)
{
	avro_value_t f;
	int op;
	if (get_str(ingest, "record_id", &env->record_id) ||
	    get_str(ingest, "provider", &env->provider) ||
	    get_str(ingest, "item", &env->item) ||
	    get_str(ingest, "source", &env->source) ||
	    avro_value_get_by_name(ingest, "collected_at", &f, NULL) ||
	    avro_value_get_long(&f, &env->collected_at) ||
	    avro_value_get_by_name(ingest, "op", &f, NULL) ||
	    avro_value_get_enum(&f, &op))
		return AVRO_FAIL("ingest envelope");
	env->op = op == 1 ? GX_OP_DELETE : GX_OP_UPSERT;
	return GX_OK;
}

gx_err_t gx_record_payload(avro_value_t *rec, avro_value_t *payload,
			   char *errstr, size_t errstr_size)
{
	if (avro_value_get_by_name(rec, "payload", payload, NULL))
		return AVRO_FAIL("payload");
	return GX_OK;
}

static int set_bytes(avro_value_t *v, const void *p, size_t n)
{
	return avro_value_set_bytes(v, (void *)p, n);
}

/* provenance.op and provenance.proof (gx_proof.h). */
static gx_err_t set_proof(const gx_library_t *lib, uint64_t released,
			  gx_op_t op, const gx_record_proof_t *proof,
			  avro_value_t *prov, char *errstr, size_t errstr_size)
{
	avro_value_t f, pf, arr, e, u, b, path;
	if (!proof || proof->n != lib->nfields)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "no verified proof for the record");
	if (avro_value_get_by_name(prov, "op", &f, NULL) ||
	    avro_value_set_enum(&f, (int)op) ||
	    avro_value_get_by_name(prov, "proof", &pf, NULL) ||
	    avro_value_get_by_name(&pf, "fields", &arr, NULL))
		return AVRO_FAIL("proof");
	for (size_t i = 0; i < lib->nfields; i++) {
		int give = (released >> i) & 1;
		if (avro_value_append(&arr, &e, NULL) ||
		    set_str(&e, "name", lib->fields[i].name) ||
		    avro_value_get_by_name(&e, "salt", &u, NULL) ||
		    avro_value_set_branch(&u, give, &b) ||
		    (give ? set_bytes(&b, proof->salts[i], GX_HASH_LEN)
			  : avro_value_set_null(&b)) ||
		    avro_value_get_by_name(&e, "leaf", &u, NULL) ||
		    avro_value_set_branch(&u, !give, &b) ||
		    (give ? avro_value_set_null(&b)
			  : set_bytes(&b, proof->leaves[i], GX_HASH_LEN)))
			return AVRO_FAIL(lib->fields[i].name);
	}
	if (set_str(&pf, "batch_id", proof->batch_id) ||
	    set_long(&pf, "index", proof->index) ||
	    avro_value_get_by_name(&pf, "seal", &f, NULL) ||
	    avro_value_set_string_len(&f, proof->seal, proof->seal_len + 1) ||
	    avro_value_get_by_name(&pf, "path", &path, NULL))
		return AVRO_FAIL("proof");
	for (size_t i = 0; i < proof->npath; i++)
		if (avro_value_append(&path, &e, NULL) ||
		    set_bytes(&e, proof->path[i], GX_HASH_LEN))
			return AVRO_FAIL("proof path");
	return GX_OK;
}

gx_err_t gx_project(const gx_library_t *lib, avro_value_t *ingest,
		    uint64_t released, const gx_grant_t *grant,
		    int64_t released_at, const struct gx_record_proof *proof,
		    avro_value_t *delivery, char *errstr, size_t errstr_size)
{
	avro_value_t src, dst, prov, withheld;
	gx_envelope_t env;
	gx_err_t err;
	if ((err = gx_ingest_get(ingest, &env, errstr, errstr_size)))
		return err;
	if (avro_value_get_by_name(ingest, "payload", &src, NULL) ||
	    avro_value_get_by_name(delivery, "payload", &dst, NULL) ||
	    avro_value_get_by_name(delivery, "provenance", &prov, NULL) ||
	    avro_value_get_by_name(&prov, "withheld", &withheld, NULL))
		return AVRO_FAIL("delivery");
	for (size_t i = 0; i < lib->nfields; i++) {
		avro_value_t sf, df, branch;
		if (avro_value_get_by_index(&src, i, &sf, NULL) ||
		    avro_value_get_by_index(&dst, i, &df, NULL))
			return AVRO_FAIL(lib->fields[i].name);
		int give = (released >> i) & 1;
		if (give && avro_value_get_type(&sf) == AVRO_UNION) {
			/* nullable in the payload too: same branch layout */
			if (avro_value_copy_fast(&df, &sf))
				return AVRO_FAIL(lib->fields[i].name);
		} else if (give) {
			if (avro_value_set_branch(&df, 1, &branch) ||
			    avro_value_copy_fast(&branch, &sf))
				return AVRO_FAIL(lib->fields[i].name);
		} else {
			avro_value_t name;
			if (avro_value_set_branch(&df, 0, &branch) ||
			    avro_value_set_null(&branch) ||
			    avro_value_append(&withheld, &name, NULL) ||
			    avro_value_set_string(&name, lib->fields[i].name))
				return AVRO_FAIL(lib->fields[i].name);
		}
	}
	if (set_str(&prov, "record_id", env.record_id) ||
	    set_str(&prov, "provider", env.provider) ||
	    set_str(&prov, "item", env.item) ||
	    set_long(&prov, "collected_at", env.collected_at) ||
	    set_long(&prov, "released_at", released_at) ||
	    set_str(&prov, "grant_id", grant->id) ||
	    set_str(&prov, "consumer", grant->consumer))
		return AVRO_FAIL("provenance");
	return set_proof(lib, released, env.op, proof, &prov, errstr,
			 errstr_size);
}

gx_err_t gx_record_subject(const gx_library_t *lib, avro_value_t *payload,
			   const char **key, size_t *len, char *errstr,
			   size_t errstr_size)
{
	avro_value_t f;
	if (avro_value_get_by_index(payload, lib->subject->index, &f, NULL))
		return AVRO_FAIL("subject");
	if (avro_value_get_type(&f) == AVRO_UNION) {
		avro_value_t b;
		if (avro_value_get_current_branch(&f, &b))
			return AVRO_FAIL("subject");
		f = b;
	}
	if (avro_value_get_type(&f) != AVRO_STRING ||
	    avro_value_get_string(&f, key, len))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "subject field %s is not a string",
				 lib->subject->name);
	if (*len)
		(*len)--; /* Avro C counts the NUL */
	return GX_OK;
}

void gx_delivery_key_k(const gx_library_t *lib, uint64_t released,
		       const char *consumer, const char *subject, size_t slen,
		       const gx_hmac_key_t *k, char *out, size_t out_size,
		       size_t *outlen)
{
	if (((released >> lib->subject->index) & 1) && slen < out_size) {
		memcpy(out, subject, slen);
		out[slen] = '\0';
		*outlen = slen;
		return;
	}
	const void *parts[] = {consumer, "", subject};
	size_t lens[] = {strlen(consumer), 1, slen};
	char hex[65];
	gx_hmac_key_hex(k, parts, lens, 3, hex);
	snprintf(out, out_size, "%s", hex);
	*outlen = strlen(out);
}

void gx_delivery_key(const gx_library_t *lib, uint64_t released,
		     const char *consumer, const char *subject, size_t slen,
		     const unsigned char *secret, size_t secretlen, char *out,
		     size_t out_size, size_t *outlen)
{
	gx_hmac_key_t *k = gx_hmac_key_new(secret, secretlen);
	gx_delivery_key_k(lib, released, consumer, subject, slen, k, out,
			  out_size, outlen);
	gx_hmac_key_free(k);
}

/* ---- deliveries written directly (gx_delivery_encode) ---- */

/* A string, as Avro binary. */
static void put_str(gx_buf_t *b, const char *s)
{
	gx_avro_put_bytes(b, s, strlen(s));
}

gx_err_t gx_delivery_encode(const gx_library_t *lib, const gx_envelope_t *env,
			    const gx_field_bytes_t *fields, uint64_t released,
			    const gx_grant_t *grant, int64_t released_at,
			    const struct gx_record_proof *proof, gx_buf_t *out,
			    char *errstr, size_t errstr_size)
{
	if (!proof || proof->n != lib->nfields)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "no verified proof for the record");
	size_t start = out->len;
	gx_avro_put_header(out, lib->delivery_fp);
	/* payload: every field ["null", T] in the view */
	size_t nwithheld = 0;
	for (size_t i = 0; i < lib->nfields; i++) {
		const gx_field_bytes_t *f = &fields[i];
		if (!((released >> i) & 1)) {
			gx_avro_put_long(out, 0); /* the null branch */
			nwithheld++;
			continue;
		}
		if (!f->value) {
			out->len = start;
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s: no value bytes", lib->fields[i].name);
		}
		if (!lib->fields[i].nullable)
			gx_avro_put_long(out, 1); /* T in the payload: the T branch */
		/* a nullable payload field is the same union already */
		gx_buf_append(out, f->value, f->len);
	}
	/* provenance */
	put_str(out, env->record_id);
	put_str(out, env->provider);
	put_str(out, env->item);
	gx_avro_put_long(out, env->collected_at);
	gx_avro_put_long(out, released_at);
	put_str(out, grant->id);
	put_str(out, grant->consumer);
	if (nwithheld) {
		gx_avro_put_long(out, (int64_t)nwithheld);
		for (size_t i = 0; i < lib->nfields; i++)
			if (!((released >> i) & 1))
				put_str(out, lib->fields[i].name);
	}
	gx_avro_put_long(out, 0); /* end of withheld */
	gx_avro_put_long(out, (int64_t)env->op);
	/* provenance.proof */
	if (lib->nfields) {
		gx_avro_put_long(out, (int64_t)lib->nfields);
		for (size_t i = 0; i < lib->nfields; i++) {
			int give = (released >> i) & 1;
			put_str(out, lib->fields[i].name);
			if (give) {
				gx_avro_put_long(out, 1);
				gx_avro_put_bytes(out, proof->salts[i], GX_HASH_LEN);
				gx_avro_put_long(out, 0);
			} else {
				gx_avro_put_long(out, 0);
				gx_avro_put_long(out, 1);
				gx_avro_put_bytes(out, proof->leaves[i], GX_HASH_LEN);
			}
		}
	}
	gx_avro_put_long(out, 0); /* end of fields */
	put_str(out, proof->batch_id);
	gx_avro_put_long(out, proof->index);
	if (proof->npath) {
		gx_avro_put_long(out, (int64_t)proof->npath);
		for (size_t i = 0; i < proof->npath; i++)
			gx_avro_put_bytes(out, proof->path[i], GX_HASH_LEN);
	}
	gx_avro_put_long(out, 0); /* end of path */
	gx_avro_put_bytes(out, proof->seal, proof->seal_len);
	return GX_OK;
}
