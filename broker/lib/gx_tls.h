/*
 * gx_tls.h - the exchange's TLS certificate authority (issue 8): the CA that
 * Kafka's SSL listeners trust, the Kafka nodes' certificate, and each
 * agency's TLS client certificate; and the check that refuses a TLS key or
 * certificate file others may read.
 *
 * These are not the sealing keys of gx_pki.h: seals are SM2 or Ed25519,
 * which neither Kafka's JVM nor librdkafka's OpenSSL handshake can use for
 * TLS, and a transport key should not be able to sign records anyway. Every
 * key here is ECDSA P-256, every signature ECDSA with SHA-256.
 *
 * Subjects: the CA is "CN=<name>,OU=tls-ca,O=govex"; an issued certificate
 * is "CN=<code>,OU=tls,O=govex". Kafka prints a client's subject in RFC 2253
 * order, "CN=SX-MZ,OU=tls,O=govex", and GX_TLS_PRINCIPAL_RULE maps that to
 * the principal User:SX-MZ. Codes are 1..64 of [A-Za-z0-9_-] (no '.', so a
 * prefixed ACL on "<prefix>.deliver.<code>." never covers another code).
 *
 * Files: keys are PEM PKCS#8, unencrypted (Kafka reads them without a
 * password), created with O_EXCL and mode 0600; certificates are created
 * mode 0600 as well (issue 8: keys and certificates are 0600).
 */
#ifndef GX_TLS_H
#define GX_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "gx.h"

/* For server.properties: ssl.principal.mapping.rules. */
#define GX_TLS_PRINCIPAL_RULE \
	"RULE:^CN=([A-Za-z0-9_-]{1,64}),OU=tls,O=govex$/$1/,DEFAULT"

typedef enum {
	GX_TLS_CLIENT,	/* an agency or the exchange's own programs: clientAuth */
	GX_TLS_NODE	/* a Kafka node: serverAuth and clientAuth, with SANs */
} gx_tls_kind_t;

/*
 * A new CA: key_path (0600) and its self-signed certificate cert_path, both
 * must not exist. CA:TRUE, path length 0, keyCertSign and cRLSign, valid
 * for days (1..36500). Nothing is left behind on failure.
 */
gx_err_t gx_tls_ca_init(const char *key_path, const char *cert_path,
			const char *name, int days, char *errstr,
			size_t errstr_size);

/*
 * Issue a key (key_path, 0600) and a certificate (cert_path, 0600) for code
 * under the CA, valid for days (never past the CA's end). GX_TLS_NODE puts
 * every entry of hosts (NULL-terminated; IP addresses and DNS names) in the
 * subjectAltName, as clients check the node's name against it. sha256_hex
 * (may be NULL; 65 bytes) receives the certificate's SHA-256 fingerprint.
 * Refuses a CA key that others may read. Nothing is left behind on failure.
 */
gx_err_t gx_tls_issue(const char *ca_key_path, const char *ca_cert_path,
		      const char *code, gx_tls_kind_t kind,
		      const char *const *hosts, int days,
		      const char *key_path, const char *cert_path,
		      char *sha256_hex, char *errstr, size_t errstr_size);

/*
 * Check that cert_path was issued by the CA in ca_path (signature, and a
 * certificate of ours: O=govex, OU=tls) and is valid now; code (may be
 * NULL) receives its CN (65 bytes). GX_ERR_DENIED with the reason.
 */
gx_err_t gx_tls_verify(const char *ca_path, const char *cert_path,
		       char *code, char *errstr, size_t errstr_size);

/*
 * The refusal of issue 8: a TLS private key, client certificate or keystore
 * named by a librdkafka property must be a regular file no one but its
 * owner may read or write. key is the librdkafka property name; returns
 * GX_OK for properties that do not name such a file (ssl.ca.location is a
 * public certificate and is not checked).
 */
gx_err_t gx_tls_check_kafka_file(const char *key, const char *value,
				 char *errstr, size_t errstr_size);

#endif /* GX_TLS_H */
