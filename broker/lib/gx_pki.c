/*
 * gx_pki.c - root CA, agency keys and certificates, signing keys, chain
 * checks and the keyring (OpenSSL 3 X.509). SM2 certificates are signed and
 * verified with the suite's distinguishing ID: OpenSSL 3.0 uses an empty ID
 * unless one is attached to each X509 (X509_set0_distinguishing_id) or to
 * the signing context, so every certificate loaded here gets one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gx.h"
#include "gx_pki.h"
#include "gx_seal.h"
#include "gx_seal_impl.h"

struct gx_cert {
	const gx_suite_t *suite;
	X509 *x;
	EVP_PKEY *pub;		/* owned by x */
	char key_id[GX_KEY_ID_LEN + 1];
	char agency[GX_AGENCY_MAX + 1];	/* "" when none */
	int64_t not_before, not_after;
};

struct gx_sealkey {
	const gx_suite_t *suite;
	EVP_PKEY *key;
	gx_cert_t *cert;
};

typedef struct kr_entry {
	char agency[GX_AGENCY_MAX + 1];
	int64_t valid_from;
	gx_cert_t *cert;
} kr_entry_t;

struct gx_keyring {
	const gx_suite_t *suite;
	const gx_cert_t *root;
	int64_t grace;
	kr_entry_t *e;
	size_t n, cap;
};

int gx_agency_valid(const char *code)
{
	size_t n = code ? strlen(code) : 0;
	return n >= 1 && n <= GX_AGENCY_MAX &&
	       strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-") == n;
}

/* ---- certificates ---- */

static int64_t asn1_ms(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

/* Attach the suite's SM2 ID so X509_verify and chain checks use it. */
static void set_dist_id(const gx_suite_t *s, X509 *x)
{
	if (gx_suite_id(s) != GX_SUITE_SM2_SM3)
		return;
	ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
	const char *v = gx_suite_sm2_id(s);
	if (!id || !ASN1_OCTET_STRING_set(id, (const unsigned char *)v,
					  (int)strlen(v)))
		abort();
	X509_set0_distinguishing_id(x, id);
}

static void key_id_of(const gx_suite_t *s, EVP_PKEY *k,
		      char out[GX_KEY_ID_LEN + 1])
{
	unsigned char *der = NULL, md[GX_HASH_LEN];
	int n = i2d_PUBKEY(k, &der);
	if (n <= 0)
		abort(); /* a key we hold always encodes */
	gx_hash(s, der, (size_t)n, md);
	OPENSSL_free(der);
	gx_hex(md, GX_KEY_ID_LEN / 2, out);
}

/* The agency in the SAN URI, checked against the CN; "" when none. */
static gx_err_t agency_of(X509 *x, char out[GX_AGENCY_MAX + 1], char *errstr,
			  size_t errstr_size)
{
	out[0] = '\0';
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
					       NULL);
	const size_t plen = strlen(GX_AGENCY_URI_PREFIX);
	int found = 0;
	gx_err_t err = GX_OK;
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_URI)
			continue;
		const char *u = (const char *)ASN1_STRING_get0_data(
		    g->d.uniformResourceIdentifier);
		int ulen = ASN1_STRING_length(g->d.uniformResourceIdentifier);
		if (ulen < 0 || (size_t)ulen <= plen ||
		    strncmp(u, GX_AGENCY_URI_PREFIX, plen))
			continue;
		char code[GX_AGENCY_MAX + 2];
		size_t clen = (size_t)ulen - plen;
		if (clen > GX_AGENCY_MAX || memchr(u + plen, 0, clen)) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"certificate names a malformed agency");
			break;
		}
		memcpy(code, u + plen, clen);
		code[clen] = '\0';
		if (!gx_agency_valid(code) || found++) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"certificate names a malformed agency "
					"or more than one");
			break;
		}
		memcpy(out, code, clen + 1);
	}
	GENERAL_NAMES_free(gens);
	if (err || !found)
		return err;
	char cn[GX_AGENCY_MAX + 2];
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
					  NID_commonName, cn, sizeof(cn));
	if (n < 0 || strcmp(cn, out)) {
		out[0] = '\0';
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "certificate's CN and agency URI disagree");
	}
	return GX_OK;
}

/* Wrap x (taking ownership on success). */
static gx_err_t cert_wrap(const gx_suite_t *s, X509 *x, gx_cert_t **out,
			  char *errstr, size_t errstr_size)
{
	EVP_PKEY *pub = X509_get0_pubkey(x);
	if (!gx_suite_key_ok(s, pub))
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "certificate key is not %s (suite %s)",
				 gx_suite_keytype(s), gx_suite_name(s));
	gx_cert_t *c = gx_calloc(1, sizeof(*c));
	gx_err_t err = agency_of(x, c->agency, errstr, errstr_size);
	if (err) {
		free(c);
		return err;
	}
	c->suite = s;
	c->x = x;
	c->pub = pub;
	key_id_of(s, pub, c->key_id);
	c->not_before = asn1_ms(X509_get0_notBefore(x));
	c->not_after = asn1_ms(X509_get0_notAfter(x));
	set_dist_id(s, x);
	*out = c;
	return GX_OK;
}

gx_err_t gx_cert_from_pem(const gx_suite_t *s, const char *pem, size_t len,
			  gx_cert_t **out, char *errstr, size_t errstr_size)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	if (!x)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "not a PEM certificate");
	gx_err_t err = cert_wrap(s, x, out, errstr, errstr_size);
	if (err)
		X509_free(x);
	return err;
}

gx_err_t gx_cert_load(const gx_suite_t *s, const char *path, gx_cert_t **out,
		      char *errstr, size_t errstr_size)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot open: %s", path, strerror(errno));
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!x)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: not a PEM certificate", path);
	char why[200];
	gx_err_t err = cert_wrap(s, x, out, why, sizeof(why));
	if (err) {
		X509_free(x);
		return gx_seterr(errstr, errstr_size, err, "%s: %s", path, why);
	}
	return GX_OK;
}

gx_err_t gx_root_load(const gx_suite_t *s, const char *path, gx_cert_t **out,
		      char *errstr, size_t errstr_size)
{
	gx_cert_t *c;
	gx_err_t err = gx_cert_load(s, path, &c, errstr, errstr_size);
	if (err)
		return err;
	const char *why = NULL;
	if (X509_check_ca(c->x) < 1)
		why = "not a CA certificate";
	else if (X509_check_issued(c->x, c->x) != X509_V_OK)
		why = "not self-issued";
	else if (X509_verify(c->x, c->pub) != 1)
		why = "its self-signature does not verify";
	ERR_clear_error();
	if (why) {
		gx_cert_destroy(c);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: not a root: %s", path, why);
	}
	*out = c;
	return GX_OK;
}

static gx_cert_t *cert_dup(const gx_cert_t *c)
{
	gx_cert_t *d = gx_malloc(sizeof(*d));
	*d = *c;
	if (!X509_up_ref(d->x))
		abort();
	return d;
}

void gx_cert_destroy(gx_cert_t *c)
{
	if (!c)
		return;
	X509_free(c->x);
	free(c);
}

const char *gx_cert_agency(const gx_cert_t *c)
{
	return c->agency[0] ? c->agency : NULL;
}
const char *gx_cert_key_id(const gx_cert_t *c) { return c->key_id; }
int64_t gx_cert_not_before(const gx_cert_t *c) { return c->not_before; }
int64_t gx_cert_not_after(const gx_cert_t *c) { return c->not_after; }

char *gx_cert_pem(const gx_cert_t *c)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	if (!b || !PEM_write_bio_X509(b, c->x))
		abort();
	long n = BIO_get_mem_data(b, &p);
	char *s = gx_strndup(p, (size_t)n);
	BIO_free(b);
	return s;
}

gx_err_t gx_cert_verify(const gx_cert_t *root, const gx_cert_t *cert,
			char *errstr, size_t errstr_size)
{
	if (!cert->agency[0])
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "certificate names no agency");
	if (X509_check_ca(cert->x) != 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "an agency certificate must not be a CA");
	if (!(X509_get_key_usage(cert->x) & KU_DIGITAL_SIGNATURE))
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "certificate is not for digital signatures");
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	if (!st || !ctx || !X509_STORE_add_cert(st, root->x) ||
	    !X509_STORE_CTX_init(ctx, st, cert->x, NULL))
		abort();
	/* Time is checked per seal, at the seal's own time. */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME |
					  X509_V_FLAG_X509_STRICT);
	int ok = X509_verify_cert(ctx) == 1;
	int e = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	ERR_clear_error();
	if (!ok)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "certificate of %s does not chain to the "
				 "root: %s", cert->agency,
				 X509_verify_cert_error_string(e));
	return GX_OK;
}

gx_err_t gx_cert_verify_sig(const gx_cert_t *c, const void *msg, size_t len,
			    const unsigned char *sig, size_t siglen,
			    char *errstr, size_t errstr_size)
{
	int ok = gx_suite_verify(c->suite, c->pub, msg, len, sig, siglen);
	ERR_clear_error();
	if (!ok)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "signature does not verify");
	return GX_OK;
}

/* ---- key files ---- */

/* Read a private key of the suite's algorithm; refuse it when group or
 * others may read it. The file's content never reaches errstr. */
static gx_err_t read_privkey(const gx_suite_t *s, const char *path,
			     EVP_PKEY **out, char *errstr, size_t errstr_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: mode %04o lets group or others read a "
				 "private key; chmod 600 it (and consider it "
				 "exposed)", path,
				 (unsigned)(st.st_mode & 07777));
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s",
				 path, strerror(errno));
	}
	/* An empty passphrase callback: an encrypted key fails instead of
	 * prompting on the terminal. */
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, (void *)"");
	fclose(f);
	ERR_clear_error();
	if (!k || !gx_suite_key_ok(s, k)) {
		EVP_PKEY_free(k);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: not an unencrypted %s private key in PEM",
				 path, gx_suite_keytype(s));
	}
	*out = k;
	return GX_OK;
}

/* Create path (must not exist) with mode and write PEM into it. */
static gx_err_t write_pem(const char *path, mode_t mode, EVP_PKEY *key,
			  X509 *cert, char *errstr, size_t errstr_size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot create: %s", path,
				 strerror(errno));
	FILE *f = fdopen(fd, "w");
	int ok = f && (key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL,
						  NULL)
			   : PEM_write_X509(f, cert));
	ok = ok && fflush(f) == 0 && fsync(fd) == 0;
	if (f)
		ok = (fclose(f) == 0) && ok;
	else
		close(fd);
	ERR_clear_error();
	if (!ok) {
		unlink(path);
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot write", path);
	}
	return GX_OK;
}

/* ---- issuing ---- */

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v;
	X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &v, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

static int add_name(X509_NAME *n, const char *field, const char *value)
{
	return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
					  (const unsigned char *)value, -1, -1,
					  0);
}

/* A new certificate for key, issued by issuer (NULL: self-signed) with
 * issuer_key, valid from a few minutes ago (clock skew) for days. */
static X509 *issue(const gx_suite_t *s, EVP_PKEY *key, X509_NAME *subject,
		   X509 *issuer, EVP_PKEY *issuer_key, int days,
		   const char *const *exts, const int *nids, size_t nexts)
{
	X509 *x = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = x && RAND_bytes(serial, sizeof(serial)) == 1;
	if (ok) {
		serial[0] &= 0x7f; /* positive */
		serial[0] |= 0x40; /* and 16 bytes long */
		bn = BN_bin2bn(serial, sizeof(serial), NULL);
	}
	ok = ok && bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
	     X509_set_version(x, X509_VERSION_3) &&
	     X509_set_subject_name(x, subject) &&
	     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
					   : subject) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -300) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) &&
	     X509_set_pubkey(x, key);
	BN_free(bn);
	/* Never outlive the issuer: a chain is only as valid as its root. */
	if (ok && issuer &&
	    ASN1_TIME_compare(X509_get0_notAfter(x),
			      X509_get0_notAfter(issuer)) > 0)
		ok = X509_set1_notAfter(x, X509_get0_notAfter(issuer));
	for (size_t i = 0; ok && i < nexts; i++)
		ok = add_ext(x, issuer ? issuer : x, nids[i], exts[i]);
	EVP_MD_CTX *ctx = ok ? EVP_MD_CTX_new() : NULL;
	ok = ctx && gx_suite_md_init(s, ctx, issuer_key, 0) &&
	     X509_sign_ctx(x, ctx) > 0;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

gx_err_t gx_ca_init(const gx_suite_t *s, const char *key_path,
		    const char *cert_path, const char *name, int days,
		    char *errstr, size_t errstr_size)
{
	if (!name || !*name || strlen(name) > 64 || days < 1 || days > 36500)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "a root needs a name of 1 to 64 bytes and "
				 "1 to 36500 days");
	EVP_PKEY *k = gx_suite_keygen(s);
	X509_NAME *subj = X509_NAME_new();
	if (!k || !subj || !add_name(subj, "O", "govex") ||
	    !add_name(subj, "CN", name)) {
		EVP_PKEY_free(k);
		X509_NAME_free(subj);
		ERR_clear_error();
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "cannot make a %s key", gx_suite_keytype(s));
	}
	static const char *const exts[] = {"critical,CA:TRUE,pathlen:0",
					   "critical,keyCertSign,cRLSign",
					   "hash"};
	static const int nids[] = {NID_basic_constraints, NID_key_usage,
				   NID_subject_key_identifier};
	X509 *x = issue(s, k, subj, NULL, k, days, exts, nids, 3);
	X509_NAME_free(subj);
	ERR_clear_error();
	gx_err_t err = GX_OK;
	if (!x)
		err = gx_seterr(errstr, errstr_size, GX_ERR_IO,
				"cannot make the root certificate");
	if (!err)
		err = write_pem(key_path, 0600, k, NULL, errstr, errstr_size);
	if (!err) {
		err = write_pem(cert_path, 0644, NULL, x, errstr, errstr_size);
		if (err)
			unlink(key_path);
	}
	X509_free(x);
	EVP_PKEY_free(k);
	return err;
}

gx_err_t gx_agency_key_new(const gx_suite_t *s, const char *ca_key_path,
			   const char *ca_cert_path, const char *agency,
			   int days, const char *key_path,
			   const char *cert_path,
			   char key_id[GX_KEY_ID_LEN + 1], char *errstr,
			   size_t errstr_size)
{
	if (!gx_agency_valid(agency))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "agency code must be 1 to %d of "
				 "[A-Za-z0-9._-]", GX_AGENCY_MAX);
	if (days < 1 || days > 36500)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "validity must be 1 to 36500 days");
	gx_cert_t *root = NULL;
	EVP_PKEY *cak = NULL, *k = NULL;
	X509_NAME *subj = NULL;
	X509 *x = NULL;
	gx_err_t err = gx_root_load(s, ca_cert_path, &root, errstr,
				    errstr_size);
	if (!err)
		err = read_privkey(s, ca_key_path, &cak, errstr, errstr_size);
	if (!err && X509_check_private_key(root->x, cak) != 1)
		err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"%s is not the key of %s", ca_key_path,
				ca_cert_path);
	if (!err) {
		k = gx_suite_keygen(s);
		subj = X509_NAME_new();
		char *uri = gx_asprintf("URI:%s%s", GX_AGENCY_URI_PREFIX,
					agency);
		const char *exts[] = {"critical,CA:FALSE",
				      "critical,digitalSignature,"
				      "nonRepudiation",
				      "hash", "keyid:always", uri};
		static const int nids[] = {
		    NID_basic_constraints, NID_key_usage,
		    NID_subject_key_identifier, NID_authority_key_identifier,
		    NID_subject_alt_name};
		if (k && subj && add_name(subj, "O", "govex") &&
		    add_name(subj, "OU", agency) && add_name(subj, "CN", agency))
			x = issue(s, k, subj, root->x, cak, days, exts, nids,
				  5);
		free(uri);
		if (!x)
			err = gx_seterr(errstr, errstr_size, GX_ERR_IO,
					"cannot make the certificate of %s",
					agency);
	}
	ERR_clear_error();
	if (!err)
		err = write_pem(key_path, 0600, k, NULL, errstr, errstr_size);
	if (!err) {
		err = write_pem(cert_path, 0644, NULL, x, errstr, errstr_size);
		if (err)
			unlink(key_path);
	}
	if (!err)
		key_id_of(s, k, key_id);
	X509_free(x);
	X509_NAME_free(subj);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
	gx_cert_destroy(root);
	return err;
}

/* ---- signing keys ---- */

gx_err_t gx_sealkey_load(const gx_suite_t *s, const char *key_path,
			 const char *cert_path, const gx_cert_t *root,
			 gx_sealkey_t **out, char *errstr, size_t errstr_size)
{
	EVP_PKEY *k = NULL;
	gx_cert_t *c = NULL;
	gx_err_t err = read_privkey(s, key_path, &k, errstr, errstr_size);
	if (!err)
		err = gx_cert_load(s, cert_path, &c, errstr, errstr_size);
	if (!err && !c->agency[0])
		err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"%s names no agency", cert_path);
	if (!err && X509_check_private_key(c->x, k) != 1)
		err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"%s is not the key of %s", key_path, cert_path);
	ERR_clear_error();
	if (!err && root) {
		char why[256];
		if (gx_cert_verify(root, c, why, sizeof(why)))
			err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"%s: %s", cert_path, why);
	}
	if (err) {
		EVP_PKEY_free(k);
		gx_cert_destroy(c);
		return err;
	}
	gx_sealkey_t *sk = gx_calloc(1, sizeof(*sk));
	sk->suite = s;
	sk->key = k;
	sk->cert = c;
	*out = sk;
	return GX_OK;
}

void gx_sealkey_destroy(gx_sealkey_t *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->key);
	gx_cert_destroy(k->cert);
	free(k);
}

const gx_suite_t *gx_sealkey_suite(const gx_sealkey_t *k) { return k->suite; }
const char *gx_sealkey_agency(const gx_sealkey_t *k) { return k->cert->agency; }
const char *gx_sealkey_key_id(const gx_sealkey_t *k) { return k->cert->key_id; }
const gx_cert_t *gx_sealkey_cert(const gx_sealkey_t *k) { return k->cert; }

gx_err_t gx_sealkey_sign(const gx_sealkey_t *k, const void *msg, size_t len,
			 unsigned char *sig, size_t *siglen, char *errstr,
			 size_t errstr_size)
{
	int ok = gx_suite_sign(k->suite, k->key, msg, len, sig, siglen);
	ERR_clear_error();
	if (!ok)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s signature failed", gx_suite_keytype(k->suite));
	return GX_OK;
}

/* ---- keyring ---- */

gx_keyring_t *gx_keyring_new(const gx_suite_t *s, const gx_cert_t *root,
			     int64_t grace_ms)
{
	gx_keyring_t *kr = gx_calloc(1, sizeof(*kr));
	kr->suite = s;
	kr->root = root;
	kr->grace = grace_ms < 0 ? 0 : grace_ms;
	return kr;
}

void gx_keyring_destroy(gx_keyring_t *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->n; i++)
		gx_cert_destroy(kr->e[i].cert);
	free(kr->e);
	free(kr);
}

size_t gx_keyring_count(const gx_keyring_t *kr) { return kr->n; }

gx_err_t gx_keyring_add(gx_keyring_t *kr, const char *agency,
			int64_t valid_from, const gx_cert_t *cert,
			char *errstr, size_t errstr_size)
{
	if (!gx_agency_valid(agency))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "malformed agency code");
	if (cert->suite != kr->suite)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "certificate loaded for another suite");
	if (strcmp(cert->agency, agency))
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "certificate of key %s names agency \"%s\", "
				 "not %s", cert->key_id, cert->agency, agency);
	gx_err_t err = gx_cert_verify(kr->root, cert, errstr, errstr_size);
	if (err)
		return err;
	for (size_t i = 0; i < kr->n; i++) {
		if (!strcmp(kr->e[i].cert->key_id, cert->key_id))
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "key %s is already in the keyring",
					 cert->key_id);
		if (!strcmp(kr->e[i].agency, agency) &&
		    kr->e[i].valid_from == valid_from)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s already has a key valid from that "
					 "time (key %s)", agency,
					 kr->e[i].cert->key_id);
	}
	if (kr->n == kr->cap) {
		kr->cap = kr->cap ? 2 * kr->cap : 8;
		kr->e = gx_realloc(kr->e, kr->cap * sizeof(*kr->e));
	}
	kr_entry_t *e = &kr->e[kr->n++];
	memcpy(e->agency, agency, strlen(agency) + 1);
	e->valid_from = valid_from;
	e->cert = cert_dup(cert);
	return GX_OK;
}

gx_err_t gx_keyring_select(const gx_keyring_t *kr, const char *agency,
			   const char *key_id, int64_t at_ms,
			   const gx_cert_t **cert, char *errstr,
			   size_t errstr_size)
{
	const kr_entry_t *k = NULL;
	for (size_t i = 0; i < kr->n && !k; i++)
		if (!strcmp(kr->e[i].cert->key_id, key_id))
			k = &kr->e[i];
	if (!k)
		return gx_seterr(errstr, errstr_size, GX_ERR_NOTFOUND,
				 "key %.40s is not in the keyring", key_id);
	if (strcmp(k->agency, agency))
		return gx_seterr(errstr, errstr_size, GX_ERR_NOTFOUND,
				 "key %s belongs to %s, not %.64s", key_id,
				 k->agency, agency);
	char t1[40], t2[40];
	if (at_ms < k->valid_from) {
		gx_fmt_time_ms(k->valid_from, t1, sizeof(t1));
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "key %s of %s is valid from %s only", key_id,
				 agency, t1);
	}
	const kr_entry_t *next = NULL;
	for (size_t i = 0; i < kr->n; i++) {
		const kr_entry_t *e = &kr->e[i];
		if (!strcmp(e->agency, agency) && e->valid_from > k->valid_from &&
		    (!next || e->valid_from < next->valid_from))
			next = e;
	}
	if (next && at_ms >= next->valid_from + kr->grace) {
		gx_fmt_time_ms(next->valid_from, t1, sizeof(t1));
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "key %s of %s was superseded by key %s from "
				 "%s", key_id, agency, next->cert->key_id, t1);
	}
	const gx_cert_t *c = k->cert;
	if (at_ms < c->not_before || at_ms > c->not_after ||
	    at_ms < kr->root->not_before || at_ms > kr->root->not_after) {
		gx_fmt_time_ms(at_ms, t1, sizeof(t1));
		gx_fmt_time_ms(c->not_after, t2, sizeof(t2));
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "%s is outside the validity of the "
				 "certificate of key %s (or of the root; "
				 "certificate ends %s)", t1, key_id, t2);
	}
	*cert = c;
	return GX_OK;
}

const char *gx_keyring_current(const gx_keyring_t *kr, const char *agency,
			       int64_t at_ms)
{
	const kr_entry_t *best = NULL;
	for (size_t i = 0; i < kr->n; i++) {
		const kr_entry_t *e = &kr->e[i];
		if (!strcmp(e->agency, agency) && e->valid_from <= at_ms &&
		    (!best || e->valid_from > best->valid_from))
			best = e;
	}
	return best ? best->cert->key_id : NULL;
}

char *gx_keyring_line(const char *agency, const char *key_id,
		      int64_t valid_from, const char *cert_path)
{
	char t[40];
	gx_fmt_time_ms(valid_from, t, sizeof(t));
	json_t *j = json_object();
	json_object_set_new(j, "agency", json_string(agency));
	json_object_set_new(j, "key_id", json_string(key_id));
	json_object_set_new(j, "valid_from", json_string(t));
	json_object_set_new(j, "cert", json_string(cert_path));
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (!s)
		abort();
	char *r = gx_strdup(s);
	free(s);
	return r;
}

/* One keyring line; errors without the FILE:LINE prefix. */
static gx_err_t keyring_line(gx_keyring_t *kr, const char *dir,
			     const char *line, char *errstr,
			     size_t errstr_size)
{
	json_error_t je;
	json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "not a JSON object");
	}
	const char *agency = json_string_value(json_object_get(j, "agency"));
	const char *kid = json_string_value(json_object_get(j, "key_id"));
	const char *path = json_string_value(json_object_get(j, "cert"));
	const char *pem = json_string_value(json_object_get(j, "cert_pem"));
	json_t *vf = json_object_get(j, "valid_from");
	int64_t valid_from = 0;
	gx_err_t err = GX_OK;
	const char *k;
	json_t *v;
	json_object_foreach(j, k, v) {
		if (strcmp(k, "agency") && strcmp(k, "key_id") &&
		    strcmp(k, "cert") && strcmp(k, "cert_pem") &&
		    strcmp(k, "valid_from")) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"unknown member \"%.40s\"", k);
			break;
		}
	}
	if (!err && (!agency || !kid || !vf || !path == !pem))
		err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"needs agency, key_id, valid_from and one of "
				"cert and cert_pem");
	if (!err) {
		if (json_is_integer(vf))
			valid_from = json_integer_value(vf);
		else if (!json_is_string(vf) ||
			 gx_parse_time_ms(json_string_value(vf), &valid_from))
			err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"valid_from: not a time (RFC 3339 or "
					"ms since the epoch)");
	}
	gx_cert_t *c = NULL;
	if (!err && pem) {
		err = gx_cert_from_pem(kr->suite, pem, strlen(pem), &c, errstr,
				       errstr_size);
	} else if (!err) {
		char *full = path[0] == '/' ? gx_strdup(path)
					    : gx_asprintf("%s/%s", dir, path);
		err = gx_cert_load(kr->suite, full, &c, errstr, errstr_size);
		free(full);
	}
	if (!err && strcmp(c->key_id, kid))
		err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"key_id %.40s is not the certificate's (%s)",
				kid, c->key_id);
	if (!err)
		err = gx_keyring_add(kr, agency, valid_from, c, errstr,
				     errstr_size);
	if (err == GX_ERR_DENIED || err == GX_ERR_INVALID)
		err = GX_ERR_CONFIG;
	gx_cert_destroy(c);
	json_decref(j);
	return err;
}

gx_err_t gx_keyring_load(gx_keyring_t *kr, const char *path, char *errstr,
			 size_t errstr_size)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot open: %s", path, strerror(errno));
	char *copy = gx_strdup(path);
	char *dir = gx_strdup(dirname(copy));
	free(copy);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	gx_err_t err = GX_OK;
	while (!err && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		const char *p = line + strspn(line, " \t");
		if (!*p || *p == '#')
			continue;
		char why[400];
		err = keyring_line(kr, dir, p, why, sizeof(why));
		if (err)
			gx_seterr(errstr, errstr_size, err, "%s:%ld: %s", path,
				  lineno, why);
	}
	if (!err && ferror(f))
		err = gx_seterr(errstr, errstr_size, GX_ERR_IO,
				"%s: read error", path);
	free(line);
	free(dir);
	fclose(f);
	return err;
}
