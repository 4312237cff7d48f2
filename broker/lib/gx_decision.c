/*
 * gx_decision.c - decision hash chain, the decision message writer,
 * subject hashes and signed checkpoints (OpenSSL 3: SHA-256, HMAC-SHA-256,
 * Ed25519).
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gx.h"
#include "gx_decision.h"
#include "gx_keyfile.h"
#include "gx_seal.h"
#include "gx_seal_impl.h"
#include "gx_validate.h"

void gx_decision_hash(const char *prev, json_t *msg, char out[GX_HASH_HEX])
{
	json_t *copy = json_copy(msg);
	json_object_del(copy, "hash");
	char *canon = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(copy);
	if (!canon)
		abort(); /* allocation failure */
	gx_decision_hash_canon(prev, canon, strlen(canon), out);
	free(canon);
}

char *gx_decision_text(const char *prev, json_t *msg, char out[GX_HASH_HEX])
{
	json_object_del(msg, "hash"); /* hashed without it, as replay does */
	char *canon = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
	if (!canon)
		abort(); /* allocation failure */
	size_t clen = strlen(canon);
	gx_decision_hash_canon(prev, canon, clen, out);
	/* "hash" sorts between "decisions" and "ingest"; a string value cannot
	 * hold the text below unescaped, so its first match is the member. */
	static const char at_key[] = ",\"ingest\":";
	char *split = strstr(canon, at_key);
	if (!split) {
		free(canon);
		json_object_set_new(msg, "hash", json_string(out));
		char *v = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
		if (!v)
			abort();
		return v;
	}
	size_t pre = (size_t)(split - canon);
	char *v = gx_malloc(clen + 16 + GX_HASH_HEX);
	memcpy(v, canon, pre);
	int k = sprintf(v + pre, ",\"hash\":\"%s\"", out);
	memcpy(v + pre + (size_t)k, split, clen - pre + 1);
	free(canon);
	return v;
}

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* Fetched once for the process: EVP_sha256() would look the algorithm up
 * (under a lock) on every message. */
static void sha256_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* SHA-256 of prev and the canonical text, which may come in two pieces
 * (b may be empty): the one body of the chain hash. */
static void chain_hash(const char *prev, const char *a, size_t alen,
		       const char *b, size_t blen, char out[GX_HASH_HEX])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	pthread_once(&sha256_once, sha256_fetch);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx || !sha256 || !EVP_DigestInit_ex(ctx, sha256, NULL))
		abort(); /* allocation failure or OpenSSL without SHA-256 */
	EVP_DigestUpdate(ctx, prev, strlen(prev));
	EVP_DigestUpdate(ctx, a, alen);
	EVP_DigestUpdate(ctx, b, blen);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	gx_hex(md, 32, out);
}

void gx_decision_hash_canon(const char *prev, const char *canon, size_t len,
			    char out[GX_HASH_HEX])
{
	chain_hash(prev, canon, len, "", 0, out);
}

/* ---- the direct writer ---- */

/* A string literal appended without its NUL. */
#define PUT_LIT(b, lit) gx_buf_append((b), (lit), sizeof(lit) - 1)
/* A literal key (with its separators), then s as a JSON string: put_str's
 * result, -1 when s cannot be written. */
#define PUT_MEMBER(b, lit, s) (PUT_LIT(b, lit), put_str((b), (s)))

/*
 * Append s as a JSON string the way jansson 2.14 dumps it without
 * JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH. Returns -1 (out's length as it
 * was) when s is NULL or not valid UTF-8.
 */
static int put_str(gx_buf_t *out, const char *s)
{
	static const char xd[] = "0123456789ABCDEF";
	static const char short_esc['\\' + 1] = {
	    ['"'] = '"', ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
	    ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
	if (!s)
		return -1;
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;
	/* Worst case: every byte a control character, "\u00XX". */
	gx_buf_reserve(out, 6 * len + 2);
	char *o = out->data + out->len;
	*o++ = '"';
	while (i < len) {
		/* A run written as it is: printable ASCII but '"' and '\\'. */
		size_t run = i;
		while (run < len && p[run] >= 0x20 && p[run] < 0x80 &&
		       p[run] != '"' && p[run] != '\\')
			run++;
		memcpy(o, p + i, run - i);
		o += run - i;
		i = run;
		if (i == len)
			break;
		unsigned char c = p[i];
		if (c >= 0x80) {
			size_t n = gx_utf8_seq(p + i, len - i);
			if (!n)
				return -1;
			memcpy(o, p + i, n);
			o += n;
			i += n;
			continue;
		}
		*o++ = '\\';
		if (c < sizeof(short_esc) && short_esc[c]) {
			*o++ = short_esc[c];
		} else {
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = xd[c >> 4];
			*o++ = xd[c & 15];
		}
		i++;
	}
	*o++ = '"';
	out->len = (size_t)(o - out->data);
	return 0;
}

/* Append v in decimal, as jansson's "%lld". */
static void put_int(gx_buf_t *out, int64_t v)
{
	char d[20];
	size_t n = 0;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do
		d[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	gx_buf_reserve(out, n + 1);
	if (v < 0)
		out->data[out->len++] = '-';
	while (n)
		out->data[out->len++] = d[--n];
}

int gx_decision_entries_text(gx_buf_t *out, const gx_decision_entry_t *e,
			     size_t n)
{
	size_t start = out->len;
	/* Members in strcmp order, as JSON_SORT_KEYS puts them. */
	gx_buf_putc(out, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			gx_buf_putc(out, ',');
		if (PUT_MEMBER(out, "{\"consumer\":", e[i].consumer) ||
		    PUT_MEMBER(out, ",\"grant_id\":", e[i].grant_id) ||
		    PUT_MEMBER(out, ",\"purpose\":", e[i].purpose) ||
		    PUT_MEMBER(out, ",\"reason\":", e[i].reason))
			goto bad;
		PUT_LIT(out, ",\"released\":[");
		for (size_t f = 0; f < e[i].nreleased; f++) {
			if (f)
				gx_buf_putc(out, ',');
			if (put_str(out, e[i].released[f]))
				goto bad;
		}
		if (PUT_MEMBER(out, "],\"verdict\":", e[i].verdict))
			goto bad;
		gx_buf_putc(out, '}');
	}
	gx_buf_putc(out, ']');
	return 0;
bad:
	out->len = start;
	return -1;
}

char *gx_decision_write(const gx_decision_head_t *h, const char *entries,
			size_t entries_len, char out[GX_HASH_HEX])
{
	/* The "hash" member, written with a placeholder and left out of the
	 * hash; it sorts between "decisions" and "ingest". */
	static const char hash_key[] = ",\"hash\":\"";
	enum { HASH_KEY = sizeof(hash_key) - 1, HASH_MEMBER = HASH_KEY + 64 + 1 };
	gx_buf_t b;
	gx_buf_init(&b);
	gx_buf_reserve(&b, entries_len + 512);
	PUT_LIT(&b, "{\"approvals_offset\":");
	put_int(&b, h->approvals_offset);
	PUT_LIT(&b, ",\"at\":");
	put_int(&b, h->at);
	PUT_LIT(&b, ",\"catalog_offset\":");
	put_int(&b, h->catalog_offset);
	if (PUT_MEMBER(&b, ",\"chain\":", h->chain))
		goto bad;
	PUT_LIT(&b, ",\"decisions\":");
	gx_buf_append(&b, entries, entries_len);
	size_t at_hash = b.len;
	gx_buf_reserve(&b, HASH_MEMBER);
	memcpy(b.data + b.len, hash_key, HASH_KEY);
	b.data[b.len + HASH_MEMBER - 1] = '"';
	b.len += HASH_MEMBER;
	if (PUT_MEMBER(&b, ",\"ingest\":", h->ingest) ||
	    PUT_MEMBER(&b, ",\"item\":", h->item) ||
	    PUT_MEMBER(&b, ",\"library\":", h->library) ||
	    PUT_MEMBER(&b, ",\"prev\":", h->prev) ||
	    PUT_MEMBER(&b, ",\"provider\":", h->provider) ||
	    PUT_MEMBER(&b, ",\"record_id\":", h->record_id))
		goto bad;
	PUT_LIT(&b, ",\"seq\":");
	put_int(&b, h->seq);
	if (PUT_MEMBER(&b, ",\"subject\":", h->subject))
		goto bad;
	gx_buf_putc(&b, '}');
	size_t rest = at_hash + HASH_MEMBER;
	chain_hash(h->prev, b.data, at_hash, b.data + rest, b.len - rest, out);
	memcpy(b.data + at_hash + HASH_KEY, out, 64);
	return gx_buf_cstr(&b);
bad:
	gx_buf_free(&b);
	return NULL;
}

#undef PUT_MEMBER
#undef PUT_LIT

gx_err_t gx_chain_head_parse(const char *s, size_t len, int64_t *seq,
			     char hash[GX_HASH_HEX])
{
	char buf[128];
	if (!s || len == 0 || len >= sizeof(buf))
		return GX_ERR_INVALID;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *sp = strchr(buf, ' ');
	if (!sp || strlen(sp + 1) != 64 ||
	    strspn(sp + 1, "0123456789abcdef") != 64)
		return GX_ERR_INVALID;
	*sp = '\0';
	char *end;
	long long n = strtoll(buf, &end, 10);
	if (*end || n < 0)
		return GX_ERR_INVALID;
	*seq = n;
	memcpy(hash, sp + 1, GX_HASH_HEX);
	return GX_OK;
}

void gx_decision_subject_k(const gx_hmac_key_t *k, const char *subject,
			   size_t len, char out[GX_HASH_HEX])
{
	const void *parts[] = {"subject", "", subject};
	size_t lens[] = {7, 1, len};
	gx_hmac_key_hex(k, parts, lens, 3, out);
}

void gx_decision_subject(const unsigned char *secret, size_t secretlen,
		     const char *subject, size_t len, char out[GX_HASH_HEX])
{
	gx_hmac_key_t *k = gx_hmac_key_new(secret, secretlen);
	gx_decision_subject_k(k, subject, len, out);
	gx_hmac_key_free(k);
}

struct gx_signer {
	EVP_PKEY *key;
	gx_suite_t *suite;	/* from the key's type */
	char key_id[33];
};

struct gx_verifier {
	EVP_PKEY *key;
	gx_suite_t *suite;
	char key_id[33];
};

/* First 16 bytes of SHA-256 of the raw public key (Ed25519) or of its DER
 * SubjectPublicKeyInfo (SM2), in hex. */
static void key_id(EVP_PKEY *k, char out[33])
{
	unsigned char raw[256], md[32], *p = raw;
	size_t n = sizeof(raw);
	unsigned int mdlen;
	if (!EVP_PKEY_get_raw_public_key(k, raw, &n)) {
		int len = i2d_PUBKEY(k, NULL);
		n = 0;
		if (len > 0 && len <= (int)sizeof(raw) && i2d_PUBKEY(k, &p) == len)
			n = (size_t)len;
	}
	EVP_Digest(raw, n, md, &mdlen, EVP_sha256(), NULL);
	gx_hex(md, 16, out);
}

/* The suite a checkpoint key belongs to: Ed25519 or SM2 (with sm2_id). */
static gx_err_t key_suite(EVP_PKEY *k, const char *sm2_id, const char *path,
			  gx_suite_t **out, char *errstr, size_t errstr_size)
{
	const char *name = EVP_PKEY_is_a(k, "ED25519") ? "ed25519-sha256"
			   : EVP_PKEY_is_a(k, "SM2")   ? "sm2-sm3"
						       : NULL;
	if (!name)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: not an Ed25519 or SM2 key", path);
	return gx_suite_new(name, sm2_id, out, errstr, errstr_size);
}

gx_err_t gx_signer_load(const char *path, const char *sm2_id,
			gx_signer_t **out, char *errstr, size_t errstr_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) || (st.st_mode & 077)) {
		close(fd);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: a private key must not be readable by group "
				 "or others (chmod 600)", path);
	}
	FILE *f = fdopen(fd, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	else
		close(fd);
	gx_suite_t *suite = NULL;
	if (!k)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: not a private key in PEM", path);
	gx_err_t err = key_suite(k, sm2_id, path, &suite, errstr, errstr_size);
	if (err) {
		EVP_PKEY_free(k);
		return err;
	}
	gx_signer_t *s = gx_calloc(1, sizeof(*s));
	s->key = k;
	s->suite = suite;
	key_id(k, s->key_id);
	*out = s;
	return GX_OK;
}

void gx_signer_destroy(gx_signer_t *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	gx_suite_destroy(s->suite);
	free(s);
}

gx_err_t gx_signer_create(const char *path, const char *suite,
			  char *errstr, size_t errstr_size)
{
	int sm2 = suite && !strcmp(suite, "sm2-sm3");
	if (suite && !sm2 && strcmp(suite, "ed25519-sha256"))
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "unknown suite %s", suite);
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, sm2 ? "SM2" : "ED25519");
	if (!k)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "cannot generate an %s key",
				 sm2 ? "SM2" : "Ed25519");
	gx_err_t err = GX_OK;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s", path,
				fd < 0 ? strerror(errno) : "cannot write");
		if (f)
			fclose(f);
		else if (fd >= 0)
			close(fd);
		if (fd >= 0)
			unlink(path);
		EVP_PKEY_free(k);
		return err;
	}
	fclose(f);
	char *pub = gx_asprintf("%s.pub", path);
	f = fopen(pub, "wx");
	if (!f || !PEM_write_PUBKEY(f, k))
		err = gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s", pub,
				f ? "cannot write" : strerror(errno));
	if (f)
		fclose(f);
	free(pub);
	EVP_PKEY_free(k);
	return err;
}

static void cp_message(const char *chain, int64_t seq, const char *head,
		       int64_t at, gx_buf_t *b)
{
	gx_buf_printf(b, "%s", chain);
	gx_buf_putc(b, '\0');
	gx_buf_printf(b, "%lld", (long long)seq);
	gx_buf_putc(b, '\0');
	gx_buf_printf(b, "%s", head);
	gx_buf_putc(b, '\0');
	gx_buf_printf(b, "%lld", (long long)at);
}

json_t *gx_checkpoint_new(gx_signer_t *s, const char *chain, int64_t seq,
			  const char *head, int64_t at_ms)
{
	gx_buf_t m;
	gx_buf_init(&m);
	cp_message(chain, seq, head, at_ms, &m);
	unsigned char sig[GX_SIG_MAX];
	size_t siglen = 0;
	if (!gx_suite_sign(s->suite, s->key, m.data, m.len, sig, &siglen))
		abort(); /* a loaded key always signs */
	gx_buf_free(&m);
	char b64[128];
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
	json_t *cp = json_object();
	json_object_set_new(cp, "checkpoint", json_string(chain));
	json_object_set_new(cp, "seq", json_integer(seq));
	json_object_set_new(cp, "head", json_string(head));
	json_object_set_new(cp, "at", json_integer(at_ms));
	json_object_set_new(cp, "key_id", json_string(s->key_id));
	json_object_set_new(cp, "alg", json_string(gx_suite_name(s->suite)));
	json_object_set_new(cp, "sig", json_string(b64));
	return cp;
}

gx_err_t gx_verifier_load(const char *pubpath, const char *sm2_id,
			  gx_verifier_t **out, char *errstr,
			  size_t errstr_size)
{
	FILE *f = fopen(pubpath, "r");
	if (!f)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot open: %s", pubpath, strerror(errno));
	EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	gx_suite_t *suite = NULL;
	if (!k)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: not a public key in PEM", pubpath);
	gx_err_t err = key_suite(k, sm2_id, pubpath, &suite, errstr,
				 errstr_size);
	if (err) {
		EVP_PKEY_free(k);
		return err;
	}
	gx_verifier_t *v = gx_calloc(1, sizeof(*v));
	v->key = k;
	v->suite = suite;
	key_id(k, v->key_id);
	*out = v;
	return GX_OK;
}

void gx_verifier_destroy(gx_verifier_t *v)
{
	if (!v)
		return;
	EVP_PKEY_free(v->key);
	gx_suite_destroy(v->suite);
	free(v);
}

gx_err_t gx_checkpoint_verify(gx_verifier_t *v, json_t *cp, char *errstr,
			      size_t errstr_size)
{
	const char *chain = json_string_value(json_object_get(cp, "checkpoint"));
	const char *head = json_string_value(json_object_get(cp, "head"));
	const char *sig64 = json_string_value(json_object_get(cp, "sig"));
	const char *kid = json_string_value(json_object_get(cp, "key_id"));
	json_t *seq = json_object_get(cp, "seq"), *at = json_object_get(cp, "at");
	if (!chain || !head || !sig64 || !kid || !json_is_integer(seq) ||
	    !json_is_integer(at) || strlen(sig64) > 4 * ((GX_SIG_MAX + 2) / 3) ||
	    strlen(sig64) % 4)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "malformed checkpoint");
	if (strcmp(kid, v->key_id))
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "checkpoint signed with key %s, not %s", kid,
				 v->key_id);
	/* The key decides the algorithm, whatever "alg" says. */
	unsigned char sig[GX_SIG_MAX + 3];
	size_t b64len = strlen(sig64);
	int n = EVP_DecodeBlock(sig, (const unsigned char *)sig64, (int)b64len);
	if (n < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "checkpoint signature is not base64");
	size_t siglen = (size_t)n;
	for (size_t i = b64len; i > 0 && sig64[i - 1] == '='; i--)
		siglen--; /* EVP_DecodeBlock counts the padding */
	gx_buf_t m;
	gx_buf_init(&m);
	cp_message(chain, json_integer_value(seq), head,
		   json_integer_value(at), &m);
	int ok = gx_suite_verify(v->suite, v->key, m.data, m.len, sig, siglen);
	gx_buf_free(&m);
	if (!ok)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "checkpoint signature does not verify");
	return GX_OK;
}
