/*
 * gx_record.c - envelope access and field-level projection.
 */
#include <string.h>

#include "gx.h"
#include "gx_keyfile.h"
#include "gx_record.h"

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
	avro_value_t op;
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

gx_err_t gx_project(const gx_library_t *lib, avro_value_t *ingest,
		    uint64_t released, const gx_grant_t *grant,
		    int64_t released_at, avro_value_t *delivery, char *errstr,
		    size_t errstr_size)
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
	return GX_OK;
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

void gx_delivery_key(const gx_library_t *lib, uint64_t released,
		     const char *consumer, const char *subject, size_t slen,
		     const unsigned char *secret, size_t secretlen, char *out,
		     size_t out_size, size_t *outlen)
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
	gx_hmac_hex(secret, secretlen, parts, lens, 3, hex);
	snprintf(out, out_size, "%s", hex);
	*outlen = strlen(out);
}
