/*
 * gx_digest.c - collect-once digests: the table, the hashes and the
 * digests-topic encoding (see gx_digest.h for the memory bound).
 *
 * The table uses the subject hash itself as the hash (it is SHA-256
 * output), linear probing and backward-shift deletion, so no tombstones
 * accumulate however many subjects are deleted.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "gx_digest.h"
#include "gx_seal.h"

struct slot {
	unsigned char subj[GX_DIGEST_LEN];
	unsigned char dig[GX_DIGEST_LEN];
	unsigned char used;
};

struct gx_digests {
	struct slot *slots;
	size_t cap;	/* power of two */
	size_t count;
};

gx_digests_t *gx_digests_new(void)
{
	gx_digests_t *d = gx_calloc(1, sizeof(*d));
	d->cap = 1024;
	d->slots = gx_calloc(d->cap, sizeof(*d->slots));
	return d;
}

void gx_digests_destroy(gx_digests_t *d)
{
	if (!d)
		return;
	free(d->slots);
	free(d);
}

size_t gx_digests_count(const gx_digests_t *d)
{
	return d->count;
}

size_t gx_digests_memory(const gx_digests_t *d)
{
	return d->cap * sizeof(struct slot);
}

static size_t home(const unsigned char *subj, size_t cap)
{
	uint64_t h;
	memcpy(&h, subj, sizeof(h));
	return (size_t)h & (cap - 1);
}

/* The slot holding subj, or the empty slot where it would go. */
static size_t find(const gx_digests_t *d, const unsigned char *subj)
{
	size_t mask = d->cap - 1, i = home(subj, d->cap);
	while (d->slots[i].used) {
		if (!memcmp(d->slots[i].subj, subj, GX_DIGEST_LEN))
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

static void grow(gx_digests_t *d)
{
	struct slot *old = d->slots;
	size_t oldcap = d->cap;
	d->cap *= 2;
	d->slots = gx_calloc(d->cap, sizeof(*d->slots));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].used) {
			size_t j = home(old[i].subj, d->cap);
			while (d->slots[j].used)
				j = (j + 1) & (d->cap - 1);
			d->slots[j] = old[i];
		}
	free(old);
}

int gx_digests_get(const gx_digests_t *d, const unsigned char *subj,
		   unsigned char *dig)
{
	size_t i = find(d, subj);
	if (!d->slots[i].used)
		return 0;
	memcpy(dig, d->slots[i].dig, GX_DIGEST_LEN);
	return 1;
}

int gx_digests_put(gx_digests_t *d, const unsigned char *subj,
		   const unsigned char *dig, unsigned char *old)
{
	if ((d->count + 1) * 4 > d->cap * 3)
		grow(d);
	size_t i = find(d, subj);
	if (d->slots[i].used) {
		if (old)
			memcpy(old, d->slots[i].dig, GX_DIGEST_LEN);
		memcpy(d->slots[i].dig, dig, GX_DIGEST_LEN);
		return 1;
	}
	memcpy(d->slots[i].subj, subj, GX_DIGEST_LEN);
	memcpy(d->slots[i].dig, dig, GX_DIGEST_LEN);
	d->slots[i].used = 1;
	d->count++;
	return 0;
}

void gx_digests_del(gx_digests_t *d, const unsigned char *subj)
{
	size_t mask = d->cap - 1, i = find(d, subj);
	if (!d->slots[i].used)
		return;
	d->slots[i].used = 0;
	d->count--;
	/* Backward shift: move later members of the run into the hole when
	 * their home is not between the hole and them. */
	size_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!d->slots[j].used)
			break;
		size_t h = home(d->slots[j].subj, d->cap);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			d->slots[i] = d->slots[j];
			d->slots[j].used = 0;
			i = j;
		}
	}
}

void gx_subject_hash(const char *adapter_id, const unsigned char *secret,
		     size_t secretlen, const char *subject, size_t len,
		     unsigned char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (secret && secretlen) {
		HMAC(EVP_sha256(), secret, (int)secretlen,
		     (const unsigned char *)subject, len, md, &mdlen);
	} else {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		if (!ctx)
			abort();
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		EVP_DigestUpdate(ctx, adapter_id, strlen(adapter_id) + 1);
		EVP_DigestUpdate(ctx, subject, len);
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		EVP_MD_CTX_free(ctx);
	}
	memcpy(out, md, GX_DIGEST_LEN);
}

gx_err_t gx_payload_digest(avro_value_t *payload, gx_buf_t *scratch,
			   unsigned char *out, char *errstr,
			   size_t errstr_size)
{
	size_t size = 0;
	if (avro_value_sizeof(payload, &size))
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "payload digest: %s", avro_strerror());
	gx_buf_reset(scratch);
	gx_buf_reserve(scratch, size + 1);
	avro_writer_t w = avro_writer_memory(scratch->data, (int64_t)size + 1);
	if (!w)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "payload digest: no writer");
	int rc = avro_value_write(w, payload);
	int64_t n = avro_writer_tell(w);
	avro_writer_free(w);
	if (rc || n != (int64_t)size)
		return gx_seterr(errstr, errstr_size, GX_ERR_AVRO,
				 "payload digest: %s",
				 rc ? avro_strerror() : "size mismatch");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(scratch->data, size, md, &mdlen, EVP_sha256(), NULL);
	memcpy(out, md, GX_DIGEST_LEN);
	return GX_OK;
}

void gx_digest_hex(const unsigned char *dig, char out[2 * GX_DIGEST_LEN + 1])
{
	gx_hex(dig, GX_DIGEST_LEN, out);
}

size_t gx_digest_key(const char *adapter_id, const unsigned char *subj,
		     char *out, size_t out_size)
{
	char hex[2 * GX_DIGEST_LEN + 1];
	gx_digest_hex(subj, hex);
	int n = snprintf(out, out_size, "%s/%s", adapter_id, hex);
	return n < 0 ? 0 : (size_t)n < out_size ? (size_t)n : out_size - 1;
}

static int unhex(const char *s, size_t n, unsigned char *out)
{
	if (n != 2 * GX_DIGEST_LEN)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i], v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return -1;
		if (i & 1)
			out[i / 2] = (unsigned char)(out[i / 2] | v);
		else
			out[i / 2] = (unsigned char)(v << 4);
	}
	return 0;
}

int gx_digest_parse(const char *adapter_id, const void *key, size_t klen,
		    const void *val, size_t vlen, unsigned char *subj,
		    unsigned char *dig)
{
	size_t idlen = strlen(adapter_id);
	const char *k = key;
	if (!k || klen <= idlen + 1 || memcmp(k, adapter_id, idlen) ||
	    k[idlen] != '/')
		return 0;
	if (unhex(k + idlen + 1, klen - idlen - 1, subj))
		return -1;
	if (!val)
		return 2;
	if (unhex(val, vlen, dig))
		return -1;
	return 1;
}
