/*
 * gx_tls.c - the exchange's TLS CA and the certificates it issues
 * (gx_tls.h): ECDSA P-256 keys and X.509 v3 certificates through OpenSSL 3's
 * EVP_PKEY and X509 API; and the 0600 check on TLS files named by kafka.*
 * settings.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "gx.h"
#include "gx_kafka.h"
#include "gx_tls.h"

/* Refuse anything but a regular file with no group/other permission. */
static gx_err_t private_file(const char *what, const char *path, char *errstr,
			     size_t errstr_size)
{
	struct stat st;
	if (stat(path, &st))
		return gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s %s: %s",
				 what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "%s %s: not a regular file", what, path);
	if (st.st_mode & 077)
		return gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
				 "%s %s: group or others may access it (mode "
				 "%04o); it must be 0600 (chmod 600)",
				 what, path, (unsigned)(st.st_mode & 07777));
	return GX_OK;
}

gx_err_t gx_tls_check_kafka_file(const char *key, const char *value,
				 char *errstr, size_t errstr_size)
{
	static const char *const secret[] = {"ssl.key.location",
					     "ssl.certificate.location",
					     "ssl.keystore.location"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(secret); i++)
		if (!strcmp(key, secret[i]))
			return private_file(key, value, errstr, errstr_size);
	return GX_OK;
}

/* Create path (must not exist) with mode 0600 and write a key or a cert. */
static gx_err_t write_pem(const char *path, EVP_PKEY *key, X509 *cert,
			  char *errstr, size_t errstr_size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot create: %s", path, strerror(errno));
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

static X509 *read_cert(const char *path, char *errstr, size_t errstr_size)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s", path,
			  strerror(errno));
		return NULL;
	}
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!x)
		gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
			  "%s: not a PEM certificate", path);
	return x;
}

static EVP_PKEY *read_key(const char *path, char *errstr, size_t errstr_size)
{
	if (private_file("key", path, errstr, errstr_size))
		return NULL;
	FILE *f = fopen(path, "r");
	if (!f) {
		gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s", path,
			  strerror(errno));
		return NULL;
	}
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	ERR_clear_error();
	if (!k || !EVP_PKEY_is_a(k, "EC")) {
		EVP_PKEY_free(k);
		gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
			  "%s: not an unencrypted ECDSA private key in PEM",
			  path);
		return NULL;
	}
	return k;
}

static EVP_PKEY *new_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v;
	X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &v, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

static X509_NAME *subject(const char *cn, const char *ou)
{
	X509_NAME *n = X509_NAME_new();
	/* Added O, OU, CN: printed in RFC 2253 order as CN=..,OU=..,O=.. */
	if (n && X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
					    (const unsigned char *)"govex", -1,
					    -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_UTF8,
				       (const unsigned char *)ou, -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
				       (const unsigned char *)cn, -1, -1, 0))
		return n;
	X509_NAME_free(n);
	return NULL;
}

/* A certificate for key, issued by issuer (NULL: self-signed). */
static X509 *issue(EVP_PKEY *key, X509_NAME *subj, X509 *issuer,
		   EVP_PKEY *issuer_key, int days, const int *nids,
		   const char *const *vals, size_t n)
{
	X509 *x = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok = x && RAND_bytes(serial, sizeof(serial)) == 1;
	if (ok) {
		serial[0] &= 0x7f;
		serial[0] |= 0x40;
		bn = BN_bin2bn(serial, sizeof(serial), NULL);
	}
	ok = ok && bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
	     X509_set_version(x, X509_VERSION_3) &&
	     X509_set_subject_name(x, subj) &&
	     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
					   : subj) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -300) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) &&
	     X509_set_pubkey(x, key);
	BN_free(bn);
	if (ok && issuer &&
	    ASN1_TIME_compare(X509_get0_notAfter(x),
			      X509_get0_notAfter(issuer)) > 0)
		ok = X509_set1_notAfter(x, X509_get0_notAfter(issuer));
	for (size_t i = 0; ok && i < n; i++)
		ok = add_ext(x, issuer ? issuer : x, nids[i], vals[i]);
	ok = ok && X509_sign(x, issuer_key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

gx_err_t gx_tls_ca_init(const char *key_path, const char *cert_path,
			const char *name, int days, char *errstr,
			size_t errstr_size)
{
	if (gx_check_code("CA name", name, errstr, errstr_size))
		return GX_ERR_INVALID;
	if (days < 1 || days > 36500)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "days must be 1 to 36500");
	static const int nids[] = {NID_basic_constraints, NID_key_usage,
				   NID_subject_key_identifier};
	static const char *const vals[] = {"critical,CA:TRUE,pathlen:0",
					   "critical,keyCertSign,cRLSign",
					   "hash"};
	EVP_PKEY *k = new_key();
	X509_NAME *subj = subject(name, "tls-ca");
	X509 *x = k && subj ? issue(k, subj, NULL, k, days, nids, vals, 3)
			    : NULL;
	X509_NAME_free(subj);
	gx_err_t e;
	if (!x)
		e = gx_seterr(errstr, errstr_size, GX_ERR_IO,
			      "cannot make the CA certificate");
	else if (!(e = write_pem(key_path, k, NULL, errstr, errstr_size)) &&
		 (e = write_pem(cert_path, NULL, x, errstr, errstr_size)))
		unlink(key_path);
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	return e;
}

static void fingerprint(X509 *x, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	X509_digest(x, EVP_sha256(), md, &n);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
}

gx_err_t gx_tls_issue(const char *ca_key_path, const char *ca_cert_path,
		      const char *code, gx_tls_kind_t kind,
		      const char *const *hosts, int days,
		      const char *key_path, const char *cert_path,
		      char *sha256_hex, char *errstr, size_t errstr_size)
{
	if (gx_check_code("agency code", code, errstr, errstr_size))
		return GX_ERR_INVALID;
	if (days < 1 || days > 36500)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "days must be 1 to 36500");
	gx_buf_t san;
	gx_buf_init(&san);
	for (size_t i = 0; kind == GX_TLS_NODE && hosts && hosts[i]; i++) {
		const char *h = hosts[i];
		unsigned char a[16];
		int ip = inet_pton(AF_INET, h, a) == 1 ||
			 inet_pton(AF_INET6, h, a) == 1;
		for (const char *p = h; !ip && *p; p++)
			if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.')) {
				gx_buf_free(&san);
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_INVALID,
						 "host '%s' is neither an IP "
						 "address nor a DNS name", h);
			}
		gx_buf_printf(&san, "%s%s:%s", san.len ? "," : "",
			      ip ? "IP" : "DNS", h);
	}
	if (kind == GX_TLS_NODE && !san.len) {
		gx_buf_free(&san);
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "a Kafka node certificate needs at least one "
				 "host name or address");
	}
	gx_err_t e = GX_OK;
	X509 *ca = read_cert(ca_cert_path, errstr, errstr_size);
	EVP_PKEY *cak = ca ? read_key(ca_key_path, errstr, errstr_size) : NULL;
	if (!ca || !cak) {
		e = ca ? GX_ERR_DENIED : GX_ERR_IO;
		goto out;
	}
	if (X509_check_private_key(ca, cak) != 1) {
		e = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
			      "%s does not hold the key of %s", ca_key_path,
			      ca_cert_path);
		goto out;
	}
	int nids[6] = {NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
		       NID_subject_key_identifier,
		       NID_authority_key_identifier, NID_subject_alt_name};
	const char *vals[6] = {
	    "critical,CA:FALSE", "critical,digitalSignature",
	    kind == GX_TLS_NODE ? "serverAuth,clientAuth" : "clientAuth",
	    "hash", "keyid:always", gx_buf_cstr(&san)};
	EVP_PKEY *k = new_key();
	X509_NAME *subj = subject(code, "tls");
	X509 *x = k && subj ? issue(k, subj, ca, cak, days, nids, vals,
				    kind == GX_TLS_NODE ? 6 : 5)
			    : NULL;
	X509_NAME_free(subj);
	if (!x)
		e = gx_seterr(errstr, errstr_size, GX_ERR_IO,
			      "cannot issue the certificate of %s", code);
	else if (!(e = write_pem(key_path, k, NULL, errstr, errstr_size)) &&
		 (e = write_pem(cert_path, NULL, x, errstr, errstr_size)))
		unlink(key_path);
	if (!e && sha256_hex)
		fingerprint(x, sha256_hex);
	X509_free(x);
	EVP_PKEY_free(k);
out:
	ERR_clear_error();
	gx_buf_free(&san);
	X509_free(ca);
	EVP_PKEY_free(cak);
	return e;
}

/* The single entry nid of name as UTF-8 into out (size n); 0 if not one. */
static int name_entry(X509_NAME *name, int nid, char *out, size_t n)
{
	int i = X509_NAME_get_index_by_NID(name, nid, -1);
	if (i < 0 || X509_NAME_get_index_by_NID(name, nid, i) >= 0)
		return 0;
	unsigned char *u = NULL;
	int len = ASN1_STRING_to_UTF8(
	    &u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	int ok = len > 0 && (size_t)len < n && !memchr(u, '\0', (size_t)len);
	if (ok) {
		memcpy(out, u, (size_t)len);
		out[len] = '\0';
	}
	OPENSSL_free(u);
	return ok;
}

gx_err_t gx_tls_verify(const char *ca_path, const char *cert_path,
		       char *code, char *errstr, size_t errstr_size)
{
	gx_err_t e = GX_OK;
	X509 *ca = read_cert(ca_path, errstr, errstr_size);
	X509 *x = ca ? read_cert(cert_path, errstr, errstr_size) : NULL;
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	if (!ca || !x) {
		e = GX_ERR_IO;
		goto out;
	}
	st = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (!st || !ctx || !X509_STORE_add_cert(st, ca) ||
	    !X509_STORE_CTX_init(ctx, st, x, NULL)) {
		e = gx_seterr(errstr, errstr_size, GX_ERR_IO,
			      "cannot set up verification");
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		e = gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
			      "%s: not issued by %s: %s", cert_path, ca_path,
			      X509_verify_cert_error_string(
				  X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	char cn[65], o[16], ou[16];
	X509_NAME *n = X509_get_subject_name(x);
	if (!name_entry(n, NID_commonName, cn, sizeof(cn)) ||
	    !name_entry(n, NID_organizationName, o, sizeof(o)) ||
	    !name_entry(n, NID_organizationalUnitName, ou, sizeof(ou)) ||
	    strcmp(o, "govex") || strcmp(ou, "tls") ||
	    gx_check_code("CN", cn, NULL, 0)) {
		e = gx_seterr(errstr, errstr_size, GX_ERR_DENIED,
			      "%s: not a govex TLS certificate "
			      "(CN=<code>,OU=tls,O=govex)", cert_path);
		goto out;
	}
	if (code)
		memcpy(code, cn, strlen(cn) + 1);
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(x);
	X509_free(ca);
	return e;
}
