/*
 * test_pki.c - the exchange's CA, agency keys and keyring
 * (broker/lib/gx_pki.c) in both suites: what `ca init` and `keys new`
 * write (0600 private keys, never overwritten), certificate chains to the
 * root and refusals of another root's certificates, the agency read from a
 * certificate, the 0600 rule on loading, keyring files with their
 * FILE:LINE errors, and that `openssl verify` accepts the chain.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gx.h"
#include "gx_pki.h"
#include "gx_seal.h"

static char err[512];
static char dir[64];
static const char *const SUITES[] = {"sm2-sm3", "ed25519-sha256"};

static int rm_cb(const char *p, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	return remove(p);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gx-pki-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static char *P(const char *name)
{
	return gx_asprintf("%s/%s", dir, name);
}

static gx_suite_t *suite(const char *name)
{
	gx_suite_t *s = NULL;
	cr_assert_eq(gx_suite_new(name, NULL, &s, err, sizeof(err)), GX_OK,
		     "%s", err);
	return s;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	char *buf = gx_malloc(65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void ca(const gx_suite_t *s, const char *tag)
{
	char *k = gx_asprintf("%s/%s.key", dir, tag);
	char *c = gx_asprintf("%s/%s.crt", dir, tag);
	cr_assert_eq(gx_ca_init(s, k, c, "govex root", 3650, err, sizeof(err)),
		     GX_OK, "%s", err);
	free(k);
	free(c);
}

static void agency(const gx_suite_t *s, const char *roottag, const char *a,
		   const char *name, char kid[GX_KEY_ID_LEN + 1])
{
	char *ck = gx_asprintf("%s/%s.key", dir, roottag);
	char *cc = gx_asprintf("%s/%s.crt", dir, roottag);
	char *k = gx_asprintf("%s/%s.key", dir, name);
	char *c = gx_asprintf("%s/%s.crt", dir, name);
	cr_assert_eq(gx_agency_key_new(s, ck, cc, a, 365, k, c, kid, err,
				       sizeof(err)), GX_OK, "%s", err);
	free(ck);
	free(cc);
	free(k);
	free(c);
}

static gx_cert_t *load(const gx_suite_t *s, const char *name)
{
	char *c = P(name);
	gx_cert_t *cert = NULL;
	cr_assert_eq(gx_cert_load(s, c, &cert, err, sizeof(err)), GX_OK, "%s",
		     err);
	free(c);
	return cert;
}

static gx_cert_t *root(const gx_suite_t *s, const char *name)
{
	char *c = P(name);
	gx_cert_t *cert = NULL;
	cr_assert_eq(gx_root_load(s, c, &cert, err, sizeof(err)), GX_OK, "%s",
		     err);
	free(c);
	return cert;
}

static mode_t mode_of(const char *name)
{
	char *p = P(name);
	struct stat st;
	cr_assert_eq(stat(p, &st), 0);
	free(p);
	return st.st_mode & 07777;
}

Test(pki, agency_codes)
{
	cr_assert(gx_agency_valid("SX-GA"));
	cr_assert(gx_agency_valid("sx.ga_2"));
	cr_assert_not(gx_agency_valid(""));
	cr_assert_not(gx_agency_valid(NULL));
	cr_assert_not(gx_agency_valid("SX GA"));
	cr_assert_not(gx_agency_valid("SX/GA"));
	cr_assert_not(gx_agency_valid("公安厅"));
	char longc[66];
	memset(longc, 'A', 65);
	longc[65] = '\0';
	cr_assert_not(gx_agency_valid(longc));
	longc[64] = '\0';
	cr_assert(gx_agency_valid(longc));
}

/* `ca init` and `keys new`: files, modes, names, chain, key id, agency. */
static void issue_and_check(const char *sname)
{
	gx_suite_t *s = suite(sname);
	ca(s, "root");
	cr_assert_eq(mode_of("root.key"), 0600);
	char kid[GX_KEY_ID_LEN + 1];
	agency(s, "root", "SX-GA", "ga", kid);
	cr_assert_eq(mode_of("ga.key"), 0600);
	cr_assert_eq(strlen(kid), 32);
	cr_assert_eq(strspn(kid, "0123456789abcdef"), 32);

	gx_cert_t *r = root(s, "root.crt"), *c = load(s, "ga.crt");
	cr_assert_null(gx_cert_agency(r), "the root names no agency");
	cr_assert_str_eq(gx_cert_agency(c), "SX-GA");
	cr_assert_str_eq(gx_cert_key_id(c), kid);
	cr_assert_eq(gx_cert_verify(r, c, err, sizeof(err)), GX_OK, "%s", err);
	int64_t now = gx_now_ms();
	cr_assert(gx_cert_not_before(c) <= now &&
		  gx_cert_not_before(c) > now - 3600 * 1000);
	cr_assert(gx_cert_not_after(c) > now + 364LL * 86400 * 1000);
	cr_assert(gx_cert_not_after(c) <= gx_cert_not_after(r));

	/* the certificate as issued: subject, SAN, key usage, issuer */
	char *pem = gx_cert_pem(c);
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	cr_assert_not_null(x);
	char line[256];
	X509_NAME_oneline(X509_get_subject_name(x), line, sizeof(line));
	cr_assert_str_eq(line, "/O=govex/OU=SX-GA/CN=SX-GA");
	X509_NAME_oneline(X509_get_issuer_name(x), line, sizeof(line));
	cr_assert_str_eq(line, "/O=govex/CN=govex root");
	GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	cr_assert_eq(sk_GENERAL_NAME_num(g), 1);
	GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, 0);
	cr_assert_eq(gn->type, GEN_URI);
	cr_assert_str_eq(
	    (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
	    "urn:govex:agency:SX-GA");
	GENERAL_NAMES_free(g);
	cr_assert(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	cr_assert(X509_get_key_usage(x) & KU_NON_REPUDIATION);
	cr_assert_not(X509_get_key_usage(x) & KU_KEY_CERT_SIGN);
	cr_assert_eq(X509_check_ca(x), 0);
	X509_free(x);
	BIO_free(b);
	free(pem);

	/* the private key file holds a key and nothing leaks into errors */
	char *kp = P("ga.key");
	char *text = slurp(kp);
	cr_assert(strstr(text, "BEGIN PRIVATE KEY"));
	free(text);
	char *cp = P("ga.crt");
	gx_sealkey_t *sk = NULL;
	cr_assert_eq(gx_sealkey_load(s, kp, cp, r, &sk, err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_str_eq(gx_sealkey_agency(sk), "SX-GA");
	cr_assert_str_eq(gx_sealkey_key_id(sk), kid);
	unsigned char sig[GX_SIG_MAX];
	size_t n = 0;
	cr_assert_eq(gx_sealkey_sign(sk, "m", 1, sig, &n, err, sizeof(err)),
		     GX_OK);
	cr_assert_eq(gx_cert_verify_sig(c, "m", 1, sig, n, err, sizeof(err)),
		     GX_OK);
	cr_assert_eq(gx_cert_verify_sig(c, "n", 1, sig, n, err, sizeof(err)),
		     GX_ERR_DENIED);
	gx_sealkey_destroy(sk);

	/* never overwritten: a second ca init or keys new on the same paths
	 * fails and leaves the files as they were */
	char *before = slurp(kp);
	char *ck = P("root.key"), *cc = P("root.crt");
	cr_assert_eq(gx_agency_key_new(s, ck, cc, "SX-GA", 365, kp, cp, kid,
				       err, sizeof(err)), GX_ERR_IO);
	char *after = slurp(kp);
	cr_assert_str_eq(before, after);
	free(after);
	char *rbefore = slurp(ck);
	cr_assert_eq(gx_ca_init(s, ck, cc, "again", 10, err, sizeof(err)),
		     GX_ERR_IO);
	after = slurp(ck);
	cr_assert_str_eq(rbefore, after);
	free(after);
	free(rbefore);
	free(before);
	/* a key written but its certificate refused: no key left behind */
	char *k2 = P("gb.key");
	cr_assert_eq(gx_agency_key_new(s, ck, cc, "SX-GB", 365, k2, cp, kid,
				       err, sizeof(err)), GX_ERR_IO);
	cr_assert_neq(access(k2, F_OK), 0);
	/* bad agency codes and validity */
	cr_assert_eq(gx_agency_key_new(s, ck, cc, "SX GB", 365, k2, cp, kid,
				       err, sizeof(err)), GX_ERR_INVALID);
	cr_assert_eq(gx_agency_key_new(s, ck, cc, "SX-GB", 0, k2, cp, kid, err,
				       sizeof(err)), GX_ERR_INVALID);
	free(k2);
	free(ck);
	free(cc);
	free(kp);
	free(cp);
	gx_cert_destroy(c);
	gx_cert_destroy(r);
	gx_suite_destroy(s);
}

Test(pki, issue_sm2_sm3, .init = setup, .fini = teardown)
{
	issue_and_check("sm2-sm3");
}

Test(pki, issue_ed25519_sha256, .init = setup, .fini = teardown)
{
	issue_and_check("ed25519-sha256");
}

/* A certificate signed by another root is refused, by chain check and by
 * the keyring; a root's key cannot be used with another root's cert. */
Test(pki, other_root_refused, .init = setup, .fini = teardown)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		ca(s, "root");
		ca(s, "evil");
		char kid[GX_KEY_ID_LEN + 1];
		agency(s, "root", "SX-GA", "good", kid);
		agency(s, "evil", "SX-GA", "forged", kid);
		gx_cert_t *r = root(s, "root.crt"), *good = load(s, "good.crt"),
			  *forged = load(s, "forged.crt");
		cr_assert_eq(gx_cert_verify(r, good, err, sizeof(err)), GX_OK);
		cr_assert_eq(gx_cert_verify(r, forged, err, sizeof(err)),
			     GX_ERR_DENIED);
		cr_assert(strstr(err, "does not chain"), "%s", err);
		gx_keyring_t *kr = gx_keyring_new(s, r, 0);
		cr_assert_eq(gx_keyring_add(kr, "SX-GA", 0, forged, err,
					    sizeof(err)), GX_ERR_DENIED);
		cr_assert_eq(gx_keyring_count(kr), 0);
		/* the forged key cannot be loaded for sealing under root */
		char *fk = P("forged.key"), *fc = P("forged.crt");
		gx_sealkey_t *sk = NULL;
		cr_assert_eq(gx_sealkey_load(s, fk, fc, r, &sk, err,
					     sizeof(err)), GX_ERR_CONFIG);
		free(fk);
		free(fc);
		/* issuing with one root's key and another root's cert */
		char *ek = P("evil.key"), *rc = P("root.crt");
		char *nk = P("n.key"), *nc = P("n.crt");
		cr_assert_eq(gx_agency_key_new(s, ek, rc, "SX-GA", 30, nk, nc,
					       kid, err, sizeof(err)),
			     GX_ERR_CONFIG);
		cr_assert(strstr(err, "is not the key of"), "%s", err);
		free(ek);
		free(rc);
		free(nk);
		free(nc);
		/* an agency certificate is no root */
		char *gc = P("good.crt");
		gx_cert_t *nr = NULL;
		cr_assert_eq(gx_root_load(s, gc, &nr, err, sizeof(err)),
			     GX_ERR_CONFIG);
		free(gc);
		gx_keyring_destroy(kr);
		gx_cert_destroy(r);
		gx_cert_destroy(good);
		gx_cert_destroy(forged);
		gx_suite_destroy(s);
		teardown();
		setup();
	}
}

/* Keys of one suite are refused by the other. */
Test(pki, suite_of_keys_enforced, .init = setup, .fini = teardown)
{
	gx_suite_t *sm = suite("sm2-sm3"), *ed = suite("ed25519-sha256");
	ca(sm, "root");
	char kid[GX_KEY_ID_LEN + 1];
	agency(sm, "root", "SX-GA", "ga", kid);
	char *rc = P("root.crt"), *gc = P("ga.crt"), *gk = P("ga.key");
	gx_cert_t *c = NULL;
	cr_assert_eq(gx_cert_load(ed, gc, &c, err, sizeof(err)), GX_ERR_CONFIG);
	cr_assert(strstr(err, "not ED25519"), "%s", err);
	cr_assert_eq(gx_root_load(ed, rc, &c, err, sizeof(err)), GX_ERR_CONFIG);
	gx_sealkey_t *sk = NULL;
	cr_assert_eq(gx_sealkey_load(ed, gk, gc, NULL, &sk, err, sizeof(err)),
		     GX_ERR_CONFIG);
	free(rc);
	free(gc);
	free(gk);
	gx_suite_destroy(sm);
	gx_suite_destroy(ed);
}

/* Private keys readable by group or others are refused, at every use;
 * the error never shows the key. */
Test(pki, private_keys_0600, .init = setup, .fini = teardown)
{
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		ca(s, "root");
		char kid[GX_KEY_ID_LEN + 1];
		agency(s, "root", "SX-GA", "ga", kid);
		char *gk = P("ga.key"), *gc = P("ga.crt"), *rk = P("root.key"),
		     *rc = P("root.crt"), *nk = P("n.key"), *nc = P("n.crt");
		char *text = slurp(gk);
		/* a line of the base64 body */
		char body[40];
		memcpy(body, strchr(text, '\n') + 1, 32);
		body[32] = '\0';
		const mode_t bad[] = {0640, 0604, 0644, 0660, 0700 | 040};
		for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
			cr_assert_eq(chmod(gk, bad[i]), 0);
			gx_sealkey_t *sk = NULL;
			cr_assert_eq(gx_sealkey_load(s, gk, gc, NULL, &sk, err,
						     sizeof(err)),
				     GX_ERR_CONFIG, "mode %o", bad[i]);
			cr_assert(strstr(err, "chmod 600"), "%s", err);
			cr_assert_null(strstr(err, body));
			cr_assert_null(strstr(err, "BEGIN"));
		}
		cr_assert_eq(chmod(gk, 0400), 0);
		gx_sealkey_t *sk = NULL;
		cr_assert_eq(gx_sealkey_load(s, gk, gc, NULL, &sk, err,
					     sizeof(err)), GX_OK, "%s", err);
		gx_sealkey_destroy(sk);
		/* the CA key too */
		cr_assert_eq(chmod(rk, 0644), 0);
		cr_assert_eq(gx_agency_key_new(s, rk, rc, "SX-MZ", 30, nk, nc,
					       kid, err, sizeof(err)),
			     GX_ERR_CONFIG);
		cr_assert_neq(access(nk, F_OK), 0);
		cr_assert_eq(chmod(rk, 0600), 0);
		cr_assert_eq(gx_agency_key_new(s, rk, rc, "SX-MZ", 30, nk, nc,
					       kid, err, sizeof(err)),
			     GX_OK, "%s", err);
		/* a symlink to a key is not followed */
		char *ln = P("link.key");
		cr_assert_eq(symlink(gk, ln), 0);
		cr_assert_eq(gx_sealkey_load(s, ln, gc, NULL, &sk, err,
					     sizeof(err)), GX_ERR_IO);
		/* the key of another certificate */
		cr_assert_eq(gx_sealkey_load(s, nk, gc, NULL, &sk, err,
					     sizeof(err)), GX_ERR_CONFIG);
		cr_assert(strstr(err, "is not the key of"), "%s", err);
		/* a certificate where a key belongs */
		cr_assert_eq(chmod(nc, 0600), 0);
		cr_assert_eq(gx_sealkey_load(s, nc, gc, NULL, &sk, err,
					     sizeof(err)), GX_ERR_CONFIG);
		free(ln);
		free(text);
		free(gk);
		free(gc);
		free(rk);
		free(rc);
		free(nk);
		free(nc);
		gx_suite_destroy(s);
		teardown();
		setup();
	}
}

static void write_file(const char *name, const char *text)
{
	char *p = P(name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

/* Keyring files: relative paths, inline PEM, comments; and each error
 * reported with its file and line. */
Test(pki, keyring_file, .init = setup, .fini = teardown)
{
	gx_suite_t *s = suite("sm2-sm3");
	ca(s, "root");
	ca(s, "evil");
	char k1[GX_KEY_ID_LEN + 1], k2[GX_KEY_ID_LEN + 1],
	    mz[GX_KEY_ID_LEN + 1], ev[GX_KEY_ID_LEN + 1];
	char *sub = P("keys");
	cr_assert_eq(mkdir(sub, 0755), 0);
	free(sub);
	agency(s, "root", "SX-GA", "keys/ga1", k1);
	agency(s, "root", "SX-GA", "keys/ga2", k2);
	agency(s, "root", "SX-MZ", "keys/mz", mz);
	agency(s, "evil", "SX-MZ", "keys/evil", ev);
	gx_cert_t *r = root(s, "root.crt");
	char *l1 = gx_keyring_line("SX-GA", k1, 1735689600000LL,
				   "keys/ga1.crt");
	cr_assert(strstr(l1, "\"valid_from\":\"2025-01-01T00:00:00.000Z\""),
		  "%s", l1);
	gx_cert_t *mzc = load(s, "keys/mz.crt");
	char *pem = gx_cert_pem(mzc);
	json_t *inl = json_pack("{s:s,s:s,s:I,s:s}", "agency", "SX-MZ",
				"key_id", mz, "valid_from", (json_int_t)0,
				"cert_pem", pem);
	char *l3 = json_dumps(inl, JSON_COMPACT);
	char *text = gx_asprintf(
	    "# govex keyring\n\n%s\n"
	    "{\"agency\":\"SX-GA\",\"key_id\":\"%s\","
	    "\"valid_from\":\"2026-01-01T00:00:00+08:00\","
	    "\"cert\":\"keys/ga2.crt\"}\r\n%s\n",
	    l1, k2, l3);
	write_file("keyring.jsonl", text);
	char *kp = P("keyring.jsonl");
	gx_keyring_t *kr = gx_keyring_new(s, r, GX_KEY_GRACE_DEFAULT_MS);
	cr_assert_eq(gx_keyring_load(kr, kp, err, sizeof(err)), GX_OK, "%s",
		     err);
	cr_assert_eq(gx_keyring_count(kr), 3);
	int64_t t2026;
	cr_assert_eq(gx_parse_time_ms("2025-12-31T16:00:00Z", &t2026), GX_OK);
	cr_assert_str_eq(gx_keyring_current(kr, "SX-GA", t2026 - 1), k1);
	cr_assert_str_eq(gx_keyring_current(kr, "SX-GA", t2026), k2);
	cr_assert_str_eq(gx_keyring_current(kr, "SX-MZ", t2026), mz);
	gx_keyring_destroy(kr);

	/* errors, each on line 2 after a good line */
	struct {
		char *line;
		const char *why;
	} bad[] = {
	    {gx_strdup("not json"), "not a JSON object"},
	    {gx_asprintf("{\"agency\":\"SX-GA\",\"key_id\":\"%s\","
			 "\"valid_from\":0,\"cert\":\"keys/ga1.crt\"}", k2),
	     "is not the certificate's"},
	    {gx_asprintf("{\"agency\":\"SX-MZ\",\"key_id\":\"%s\","
			 "\"valid_from\":0,\"cert\":\"keys/ga2.crt\"}", k2),
	     "names agency \"SX-GA\""},
	    {gx_asprintf("{\"agency\":\"SX-MZ\",\"key_id\":\"%s\","
			 "\"valid_from\":0,\"cert\":\"keys/evil.crt\"}", ev),
	     "does not chain"},
	    {gx_asprintf("{\"agency\":\"SX-GA\",\"key_id\":\"%s\","
			 "\"valid_from\":\"yesterday\","
			 "\"cert\":\"keys/ga2.crt\"}", k2),
	     "valid_from"},
	    {gx_asprintf("{\"agency\":\"SX-GA\",\"key_id\":\"%s\","
			 "\"valid_from\":1,\"cert\":\"keys/ga2.crt\","
			 "\"note\":1}", k2),
	     "unknown member"},
	    {gx_asprintf("{\"agency\":\"SX-GA\",\"key_id\":\"%s\","
			 "\"valid_from\":1}", k2),
	     "needs agency"},
	    {gx_asprintf("{\"agency\":\"SX-GA\",\"key_id\":\"%s\","
			 "\"valid_from\":1,\"cert\":\"keys/none.crt\"}", k2),
	     "cannot open"},
	    {gx_strdup(l1), "already in the keyring"},
	    {gx_asprintf("{\"agency\":\"SX-GA\",\"key_id\":\"%s\","
			 "\"valid_from\":\"2025-01-01T00:00:00Z\","
			 "\"cert\":\"keys/ga2.crt\"}", k2),
	     "already has a key valid from that time"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		char *t = gx_asprintf("%s\n%s\n", l1, bad[i].line);
		write_file("bad.jsonl", t);
		char *bp = P("bad.jsonl");
		char *prefix = gx_asprintf("%s:2: ", bp);
		kr = gx_keyring_new(s, r, 0);
		cr_assert_neq(gx_keyring_load(kr, bp, err, sizeof(err)), GX_OK,
			      "case %zu", i);
		cr_assert_eq(strncmp(err, prefix, strlen(prefix)), 0,
			     "case %zu: %s", i, err);
		cr_assert(strstr(err, bad[i].why), "case %zu: %s", i, err);
		gx_keyring_destroy(kr);
		free(prefix);
		free(bp);
		free(t);
		free(bad[i].line);
	}
	kr = gx_keyring_new(s, r, 0);
	char *none = P("none.jsonl");
	cr_assert_eq(gx_keyring_load(kr, none, err, sizeof(err)), GX_ERR_IO);
	free(none);
	gx_keyring_destroy(kr);
	json_decref(inl);
	free(l3);
	free(pem);
	free(l1);
	free(text);
	free(kp);
	gx_cert_destroy(mzc);
	gx_cert_destroy(r);
	gx_suite_destroy(s);
}

/* The chain is standard X.509: the OpenSSL command line verifies it
 * (with the SM2 distinguishing ID for sm2-sm3) and refuses another root. */
Test(pki, openssl_verify_accepts_chain, .init = setup, .fini = teardown)
{
	if (system("command -v openssl >/dev/null 2>&1") != 0)
		cr_skip_test("no openssl command");
	for (size_t k = 0; k < 2; k++) {
		gx_suite_t *s = suite(SUITES[k]);
		ca(s, "root");
		ca(s, "other");
		char kid[GX_KEY_ID_LEN + 1];
		agency(s, "root", "SX-GA", "ga", kid);
		const char *opt = k == 0 ? "-vfyopt distid:1234567812345678" : "";
		char *cmd = gx_asprintf(
		    "cd %s && openssl verify %s -CAfile root.crt ga.crt "
		    ">/dev/null 2>&1", dir, opt);
		cr_assert_eq(system(cmd), 0, "%s", SUITES[k]);
		free(cmd);
		cmd = gx_asprintf("cd %s && openssl verify %s -CAfile other.crt "
				  "ga.crt >/dev/null 2>&1", dir, opt);
		cr_assert_neq(system(cmd), 0);
		free(cmd);
		if (k == 0) {
			/* OpenSSL 3.0's default (empty) ID does not verify
			 * what govex signs: the ID is really in use */
			cmd = gx_asprintf("cd %s && openssl verify -CAfile "
					  "root.crt ga.crt >/dev/null 2>&1",
					  dir);
			cr_assert_neq(system(cmd), 0);
			free(cmd);
		}
		gx_suite_destroy(s);
		teardown();
		setup();
	}
}
