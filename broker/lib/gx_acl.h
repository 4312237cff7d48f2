/*
 * gx_acl.h - who may do what on the exchange's Kafka (issue 8): the agency
 * registry, the Kafka ACLs derived from it and from the catalogue, and
 * applying them through the admin API.
 *
 * The registry is the topic <prefix>.agencies: append-only (never
 * compacted, kept forever), one partition, key the agency code, value one
 * JSON event written by `govexctl agency add/revoke`:
 *   {"event":"add","agency":"SX-MZ","roles":["consumer"],"at":MS,
 *    "cert_sha256":"<hex>","not_after":MS}
 *   {"event":"revoke","agency":"SX-MZ","at":MS,"reason":"..."}
 * Replayed in order it gives each agency's roles and whether it is revoked;
 * a revoked code stays revoked (a later "add" for it is ignored and
 * reported), because Kafka knows a client only by the CN of a certificate it
 * cannot recall: a re-admitted code would re-admit every certificate ever
 * issued to it.
 *
 * Roles, and what each may do (principal User:<code>; P the topic prefix):
 *   provider    WRITE P.ingest.<library> of each library its catalogue items
 *               belong to; WRITE P.seals, P.rejected; READ, WRITE and CREATE
 *               P.adapter.positions and P.adapter.digests; transactional
 *               ids starting "P.adapter.<code>." (the adapter's default).
 *   consumer    READ topics "P.deliver.<code>." (prefixed); groups
 *               "govex-consume-<code>" (govexctl consume's default) and
 *               "<code>." (prefixed); READ P.seals (to verify seals).
 *   broker      the exchange's govex-broker: READ P.ingest.* and the state
 *               topics; WRITE and CREATE P.deliver.*; WRITE P.decisions,
 *               P.rejected and P.approvals (expire events); its group and
 *               transactional ids (options); DESCRIBE every group and the
 *               cluster (consumer lag).
 *   operator    DESCRIBE every P. topic, every group and the cluster (lag,
 *               group members) and READ P.catalog; no data topic.
 *   compliance  READ P.decisions, P.approvals, P.rejected.
 * Every registered, unrevoked agency may READ P.catalog and P.schemas
 * (public metadata) and use the groups govex-state-reader and govex-scan
 * that libgovex's readers name but never join.
 * The exchange's admin principal and the Kafka nodes are super users in the
 * Kafka configuration, not in the registry: they write the registry, the
 * catalogue and the approvals and run `acl sync`.
 */
#ifndef GX_ACL_H
#define GX_ACL_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "gx.h"
#include "gx_conf.h"

/* ---- roles and the registry ---- */

enum {
	GX_ROLE_PROVIDER = 1,
	GX_ROLE_CONSUMER = 2,
	GX_ROLE_OPERATOR = 4,
	GX_ROLE_COMPLIANCE = 8,
	GX_ROLE_BROKER = 16,
	GX_ROLE_ALL = 31
};

/* "provider,consumer" -> bits; GX_ERR_INVALID naming an unknown role. */
gx_err_t gx_roles_parse(const char *csv, unsigned *roles, char *errstr,
			size_t errstr_size);
/* bits -> "provider,consumer" (a new string). */
char *gx_roles_format(unsigned roles);

typedef struct gx_agency {
	char *code;
	unsigned roles;
	int revoked;
	int64_t added_at, revoked_at;
	char *cert_sha256;	/* may be NULL */
	char *reason;		/* the revocation's, may be NULL */
} gx_agency_t;

typedef struct gx_registry {
	gx_agency_t *v;
	size_t n;
	long ignored;	/* events that changed nothing (re-add of a code) */
	long bad;	/* events that did not parse */
} gx_registry_t;

void gx_registry_init(gx_registry_t *r);
void gx_registry_free(gx_registry_t *r);
const gx_agency_t *gx_registry_get(const gx_registry_t *r, const char *code);
/* Apply one event (the rules above); GX_ERR_INVALID for a malformed one
 * (counted in bad; the registry is unchanged). */
gx_err_t gx_registry_apply(gx_registry_t *r, const void *val, size_t len,
			   char *errstr, size_t errstr_size);

/* The events (new JSON objects). */
json_t *gx_agency_add_json(const char *code, unsigned roles,
			   const char *cert_sha256, int64_t not_after_ms,
			   int64_t at_ms);
json_t *gx_agency_revoke_json(const char *code, const char *reason,
			      int64_t at_ms);

/* ---- ACL bindings ---- */

/* Kafka's own resource type numbers (librdkafka 2.0.2 knows 2..4 only;
 * it calls the cluster "broker"). */
enum {
	GX_RES_TOPIC = 2,
	GX_RES_GROUP = 3,
	GX_RES_CLUSTER = 4,
	GX_RES_TXN = 5
};
enum { GX_PAT_LITERAL = 3, GX_PAT_PREFIXED = 4 };
/* Kafka's operation and permission numbers (as librdkafka's enums). */
enum {
	GX_OP_ALL = 2,
	GX_OP_READ = 3,
	GX_OP_WRITE = 4,
	GX_OP_CREATE = 5,
	GX_OP_DESCRIBE = 8
};
enum { GX_PERM_DENY = 2, GX_PERM_ALLOW = 3 };

typedef struct gx_acl {
	int restype;
	char *name;
	int pattern;
	char *principal;	/* "User:SX-MZ" */
	char *host;		/* "*" */
	int op;
	int perm;
} gx_acl_t;

typedef struct gx_acl_set {
	gx_acl_t *v;
	size_t n, cap;
} gx_acl_set_t;

void gx_acl_set_init(gx_acl_set_t *s);
void gx_acl_set_free(gx_acl_set_t *s);
/* Add a copy (host "*" when NULL). */
void gx_acl_add(gx_acl_set_t *s, int restype, const char *name, int pattern,
		const char *principal, const char *host, int op, int perm);
/* Sort and drop duplicates (the order gx_acl_cmp gives). */
void gx_acl_set_sort(gx_acl_set_t *s);
int gx_acl_cmp(const gx_acl_t *a, const gx_acl_t *b);
/* "ALLOW User:SX-MZ READ topic govex.deliver.SX-MZ. (prefixed)" into out. */
void gx_acl_format(const gx_acl_t *a, char *out, size_t n);
json_t *gx_acl_json(const gx_acl_t *a);

/* ---- derivation ---- */

typedef struct gx_acl_opts {
	const char *prefix;		/* topic prefix */
	const char *broker_group;	/* govex-broker's broker.group */
	const char *broker_txn;		/* prefix of its transactional ids */
} gx_acl_opts_t;

/* One (provider, library) pair of the catalogue. */
typedef struct gx_acl_provides {
	const char *provider;
	const char *library;
} gx_acl_provides_t;

/*
 * The ACLs the registry and the catalogue call for (sorted), as described
 * at the top; revoked agencies get none.
 */
void gx_acl_derive(const gx_acl_opts_t *o, const gx_registry_t *r,
		   const gx_acl_provides_t *prov, size_t nprov,
		   gx_acl_set_t *out);

/*
 * What sync changes: of current (what Kafka holds), the bindings of the
 * principals in managed (NULL-terminated "User:X" list) that are not
 * wanted go to del; every wanted binding Kafka lacks goes to add. Bindings
 * of other principals are left alone. Both outputs are sorted.
 */
void gx_acl_diff(const gx_acl_set_t *wanted, const gx_acl_set_t *current,
		 const char *const *managed, gx_acl_set_t *add,
		 gx_acl_set_t *del);

/* ---- Kafka ---- */

/*
 * Every ACL binding on the cluster (principal NULL) or of one principal,
 * all resource types including transactional ids. rk is an admin-capable
 * client made from conf; conf and brokers are needed again for the
 * transactional ids, which librdkafka 2.0.2 cannot express (gx_aclwire.c).
 */
gx_err_t gx_acl_kafka_list(rd_kafka_t *rk, const gx_conf_t *conf,
			   const char *brokers, const char *principal,
			   int timeout_ms, gx_acl_set_t *out, char *errstr,
			   size_t errstr_size);
/* Create every binding of s. */
gx_err_t gx_acl_kafka_create(rd_kafka_t *rk, const gx_conf_t *conf,
			     const char *brokers, const gx_acl_set_t *s,
			     int timeout_ms, char *errstr, size_t errstr_size);
/* Delete exactly the bindings of s. */
gx_err_t gx_acl_kafka_delete(rd_kafka_t *rk, const gx_conf_t *conf,
			     const char *brokers, const gx_acl_set_t *s,
			     int timeout_ms, char *errstr, size_t errstr_size);

/*
 * The ACL requests librdkafka 2.0.2 cannot make (transactional-id
 * resources): Kafka's CreateAcls, DescribeAcls and DeleteAcls (version 2)
 * spoken directly to the first bootstrap server, over TLS when
 * kafka.security.protocol is ssl (with kafka.ssl.ca.location,
 * .certificate.location and .key.location, the server's name checked).
 * list: bindings of restype (and principal when not NULL).
 */
gx_err_t gx_aclwire_list(const gx_conf_t *conf, const char *brokers,
			 int restype, const char *principal, int timeout_ms,
			 gx_acl_set_t *out, char *errstr, size_t errstr_size);
gx_err_t gx_aclwire_create(const gx_conf_t *conf, const char *brokers,
			   const gx_acl_t *const *v, size_t n, int timeout_ms,
			   char *errstr, size_t errstr_size);
gx_err_t gx_aclwire_delete(const gx_conf_t *conf, const char *brokers,
			   const gx_acl_t *const *v, size_t n, int timeout_ms,
			   char *errstr, size_t errstr_size);

#endif /* GX_ACL_H */
