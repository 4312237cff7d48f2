/*
 * gx_pki.h - the exchange's keys and certificates (issue 5): a root
 * certificate authority (`govexctl ca init`), agency keys certified by it
 * (`govexctl keys new --agency A`), agency signing keys loaded for sealing,
 * certificate chains checked against the root, and the keyring that maps
 * (agency, key id) to a certificate and the time from which that key seals.
 *
 * Certificates are X.509 v3 in PEM, signed in the exchange's suite: SM2 with
 * SM3 and the suite's distinguishing ID (sm2-sm3; `openssl verify -vfyopt
 * distid:1234567812345678 -CAfile root.pem agency.pem` accepts them), or
 * Ed25519. An agency certificate names its agency three ways: subject
 * CN=<agency>, OU=<agency>, O=govex, and a subjectAltName URI
 * "urn:govex:agency:<agency>"; the URI is what govex reads, and it must
 * agree with the CN. Agency codes are 1..64 of [A-Za-z0-9._-].
 *
 * A key id is the first 16 bytes of H(the DER SubjectPublicKeyInfo) in hex
 * (32 characters): it is computed from the certificate, never trusted from
 * a file, so a new key is always a new key id.
 *
 * Private keys are PEM (PKCS#8, unencrypted) files created with O_EXCL and
 * mode 0600, and refused when group or others may read them. Their content
 * never reaches an error message.
 *
 * Keyring file: JSON Lines, one key per line ('#' lines and blank lines are
 * skipped), relative paths taken from the keyring file's directory:
 *   {"agency":"SX-GA","key_id":"<32 hex>","valid_from":"2025-01-01T00:00:00Z",
 *    "cert":"keys/SX-GA-1.crt"}
 * "valid_from" is RFC 3339 or integer ms since the epoch; "cert_pem" may hold
 * the certificate inline instead of "cert". Each certificate must chain to
 * the root, name the agency of its line, and have the key id of its line.
 *
 * Key rotation rule (gx_keyring_select): keys of one agency are ordered by
 * valid_from. A seal by key K created at time t is accepted when
 *   - K is in the keyring under the seal's provider,
 *   - t >= K.valid_from,
 *   - t <  N.valid_from + grace, where N is the agency's next key after K
 *     (no bound when K is the newest), and
 *   - t lies within the validity of K's certificate and of the root.
 * So a new key id takes over from its valid_from, seals made with the old key
 * before then verify for ever, and the old key may still seal for `grace`
 * after the switch (adapters that have not yet picked up the new key).
 * The signature's time is the signer's word: a stolen old key can backdate.
 * Against that, take the key out of the keyring (its seals stop verifying)
 * or compare created_at with the Kafka timestamp of the seal message.
 */
#ifndef GX_PKI_H
#define GX_PKI_H

#include <stddef.h>
#include <stdint.h>

#include "gx.h"
#include "gx_seal.h"

#define GX_KEY_GRACE_DEFAULT_MS (5 * 60 * 1000)	/* 5 minutes */
#define GX_AGENCY_URI_PREFIX "urn:govex:agency:"

/* 1 when code is a valid agency code. */
int gx_agency_valid(const char *code);

/* ---- certificates ---- */

typedef struct gx_cert gx_cert_t;

/* Load one PEM certificate from path / from memory. The key must be of the
 * suite's algorithm. */
gx_err_t gx_cert_load(const gx_suite_t *s, const char *path, gx_cert_t **out,
		      char *errstr, size_t errstr_size);
gx_err_t gx_cert_from_pem(const gx_suite_t *s, const char *pem, size_t len,
			  gx_cert_t **out, char *errstr, size_t errstr_size);
/* Load the exchange's root: as gx_cert_load, and it must be a CA whose
 * self-signature verifies. */
gx_err_t gx_root_load(const gx_suite_t *s, const char *path, gx_cert_t **out,
		      char *errstr, size_t errstr_size);
void gx_cert_destroy(gx_cert_t *c);

/* The agency named by the certificate's SAN URI (and CN), or NULL. */
const char *gx_cert_agency(const gx_cert_t *c);
const char *gx_cert_key_id(const gx_cert_t *c);
/* Validity in ms since the epoch. */
int64_t gx_cert_not_before(const gx_cert_t *c);
int64_t gx_cert_not_after(const gx_cert_t *c);
/* The certificate in PEM, a new string. */
char *gx_cert_pem(const gx_cert_t *c);

/*
 * Check that cert was issued by root (signature, issuer name, an end-entity
 * certificate with digitalSignature) and names an agency. Time is not
 * checked here: seals are checked against the validity at their own time.
 * GX_ERR_DENIED with the reason otherwise.
 */
gx_err_t gx_cert_verify(const gx_cert_t *root, const gx_cert_t *cert,
			char *errstr, size_t errstr_size);

/* Check sig over msg with the certificate's key in its suite. */
gx_err_t gx_cert_verify_sig(const gx_cert_t *c, const void *msg, size_t len,
			    const unsigned char *sig, size_t siglen,
			    char *errstr, size_t errstr_size);

/* ---- the certificate authority and agency keys ---- */

/*
 * `ca init`: a new root key (key_path, 0600, must not exist) and its
 * self-signed certificate (cert_path, must not exist): CN=name, O=govex,
 * CA:TRUE with path length 0, keyCertSign and cRLSign, valid for days.
 */
gx_err_t gx_ca_init(const gx_suite_t *s, const char *key_path,
		    const char *cert_path, const char *name, int days,
		    char *errstr, size_t errstr_size);

/*
 * `keys new --agency A`: a new key pair for agency (key_path, 0600, must
 * not exist) and its certificate signed by the root (cert_path, must not
 * exist), valid for days from now. key_id receives the new key's id.
 * Nothing is left behind on failure.
 */
gx_err_t gx_agency_key_new(const gx_suite_t *s, const char *ca_key_path,
			   const char *ca_cert_path, const char *agency,
			   int days, const char *key_path,
			   const char *cert_path,
			   char key_id[GX_KEY_ID_LEN + 1], char *errstr,
			   size_t errstr_size);

/* ---- signing keys ---- */

/*
 * Load an agency's private key (refused when group/other-readable or not of
 * the suite's algorithm) with its certificate (which must hold the matching
 * public key and name an agency). When root is not NULL the certificate
 * must chain to it.
 */
gx_err_t gx_sealkey_load(const gx_suite_t *s, const char *key_path,
			 const char *cert_path, const gx_cert_t *root,
			 gx_sealkey_t **out, char *errstr, size_t errstr_size);
void gx_sealkey_destroy(gx_sealkey_t *k);
const gx_suite_t *gx_sealkey_suite(const gx_sealkey_t *k);
const char *gx_sealkey_agency(const gx_sealkey_t *k);
const char *gx_sealkey_key_id(const gx_sealkey_t *k);
const gx_cert_t *gx_sealkey_cert(const gx_sealkey_t *k);
/* Sign msg in the key's suite; sig holds GX_SIG_MAX bytes. */
gx_err_t gx_sealkey_sign(const gx_sealkey_t *k, const void *msg, size_t len,
			 unsigned char *sig, size_t *siglen, char *errstr,
			 size_t errstr_size);

/* ---- keyring ---- */

/* An empty keyring whose certificates must chain to root; root and s must
 * outlive it. grace_ms: see the rotation rule above. */
gx_keyring_t *gx_keyring_new(const gx_suite_t *s, const gx_cert_t *root,
			     int64_t grace_ms);
void gx_keyring_destroy(gx_keyring_t *kr);
size_t gx_keyring_count(const gx_keyring_t *kr);

/*
 * Add agency's certificate (copied) from valid_from. Refused: a certificate
 * not chaining to the root or naming another agency, a key id already in
 * the keyring, a second key of the agency with the same valid_from.
 */
gx_err_t gx_keyring_add(gx_keyring_t *kr, const char *agency,
			int64_t valid_from, const gx_cert_t *cert,
			char *errstr, size_t errstr_size);

/* Add every line of a keyring file; errors read "FILE:LINE: why". */
gx_err_t gx_keyring_load(gx_keyring_t *kr, const char *path, char *errstr,
			 size_t errstr_size);

/*
 * The certificate that may verify a seal by agency with key_id created at
 * at_ms, under the rotation rule above. GX_ERR_NOTFOUND for an unknown key
 * (or a key of another agency), GX_ERR_DENIED when the time is outside the
 * key's period.
 */
gx_err_t gx_keyring_select(const gx_keyring_t *kr, const char *agency,
			   const char *key_id, int64_t at_ms,
			   const gx_cert_t **cert, char *errstr,
			   size_t errstr_size);

/* The key id agency should seal with at at_ms, or NULL when none. */
const char *gx_keyring_current(const gx_keyring_t *kr, const char *agency,
			       int64_t at_ms);

/* One keyring file line (no newline) for a certificate file; a new string. */
char *gx_keyring_line(const char *agency, const char *key_id,
		      int64_t valid_from, const char *cert_path);

#endif /* GX_PKI_H */
