/*
 * test_tls.c - the exchange's TLS CA and certificates (gx_tls.h), the 0600
 * refusal of TLS files named by kafka.* settings, the agency registry and
 * the ACLs derived from it (gx_acl.h).
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gx.h"
#include "gx_acl.h"
#include "gx_kafka.h"
#include "gx_tls.h"

static char err[512];
static char dir[64];

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/gx-tls-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	nftw(dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static char *p(const char *name)
{
	static char bufs[8][128];
	static int k;
	char *b = bufs[k++ % 8];
	snprintf(b, 128, "%s/%s", dir, name);
	return b;
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return st.st_mode & 07777;
}

static X509 *load(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert_not_null(x);
	return x;
}

static void make_ca(const char *name)
{
	char k[64], c[64];
	snprintf(k, sizeof(k), "%s.key", name);
	snprintf(c, sizeof(c), "%s.crt", name);
	cr_assert_eq(gx_tls_ca_init(p(k), p(c), name, 30, err, sizeof(err)), GX_OK, "%s",
		     err);
}

Test(tls, ca_and_client_certificate, .init = setup, .fini = teardown)
{
	make_ca("ca");
	cr_expect_eq(mode_of(p("ca.key")), 0600);
	char fp[65];
	cr_assert_eq(gx_tls_issue(p("ca.key"), p("ca.crt"), "SX-MZ", GX_TLS_CLIENT, NULL, 30,
				  p("SX-MZ.key"), p("SX-MZ.crt"), fp, err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_expect_eq(mode_of(p("SX-MZ.key")), 0600);
	cr_expect_eq(mode_of(p("SX-MZ.crt")), 0600);
	cr_expect_eq(strlen(fp), 64);
	char code[65];
	cr_expect_eq(gx_tls_verify(p("ca.crt"), p("SX-MZ.crt"), code, err, sizeof(err)), GX_OK,
		     "%s", err);
	cr_expect_str_eq(code, "SX-MZ");

	/* The subject Kafka prints (RFC 2253), which the mapping rule reads. */
	X509 *x = load(p("SX-MZ.crt"));
	char *s = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
	long n = BIO_get_mem_data(b, &s);
	cr_expect(n == (long)strlen("CN=SX-MZ,OU=tls,O=govex") &&
		      !strncmp(s, "CN=SX-MZ,OU=tls,O=govex", (size_t)n),
		  "subject %.*s", (int)n, s);
	BIO_free(b);
	/* ECDSA P-256, a client certificate only. */
	EVP_PKEY *k = X509_get0_pubkey(x);
	cr_expect(EVP_PKEY_is_a(k, "EC"));
	char curve[32] = "";
	size_t cl = 0;
	EVP_PKEY_get_utf8_string_param(k, "group", curve, sizeof(curve), &cl);
	cr_expect_str_eq(curve, "prime256v1");
	cr_expect(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	cr_expect(!(X509_get_extended_key_usage(x) & XKU_SSL_SERVER));
	cr_expect_eq(X509_check_ca(x), 0);
	X509_free(x);

	/* Never overwrites. */
	cr_expect_neq(gx_tls_issue(p("ca.key"), p("ca.crt"), "SX-MZ", GX_TLS_CLIENT, NULL, 30,
				   p("SX-MZ.key"), p("SX-MZ.crt"), NULL, err, sizeof(err)),
		      GX_OK);
	cr_expect_neq(gx_tls_ca_init(p("ca.key"), p("ca2.crt"), "x", 30, err, sizeof(err)),
		      GX_OK);
	cr_expect_neq(access(p("ca2.crt"), F_OK), 0, "a failed ca init left a file");
}

Test(tls, node_certificate_names_its_hosts, .init = setup, .fini = teardown)
{
	make_ca("ca");
	const char *hosts[] = {"127.0.0.1", "localhost", "::1", NULL};
	cr_assert_eq(gx_tls_issue(p("ca.key"), p("ca.crt"), "govex-kafka", GX_TLS_NODE, hosts,
				  30, p("n.key"), p("n.crt"), NULL, err, sizeof(err)),
		     GX_OK, "%s", err);
	X509 *x = load(p("n.crt"));
	cr_expect_eq(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	cr_expect_eq(X509_check_ip_asc(x, "::1", 0), 1);
	cr_expect_eq(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	cr_expect_neq(X509_check_ip_asc(x, "10.0.0.1", 0), 1);
	cr_expect(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	cr_expect(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	X509_free(x);
	const char *bad[] = {"a host;rm", NULL};
	cr_expect_eq(gx_tls_issue(p("ca.key"), p("ca.crt"), "n2", GX_TLS_NODE, bad, 30,
				  p("n2.key"), p("n2.crt"), NULL, err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_expect_eq(gx_tls_issue(p("ca.key"), p("ca.crt"), "n3", GX_TLS_NODE, NULL, 30,
				  p("n3.key"), p("n3.crt"), NULL, err, sizeof(err)),
		     GX_ERR_INVALID);
}

Test(tls, other_ca_and_bad_codes_refused, .init = setup, .fini = teardown)
{
	make_ca("ca");
	make_ca("other");
	cr_assert_eq(gx_tls_issue(p("other.key"), p("other.crt"), "SX-MZ", GX_TLS_CLIENT, NULL,
				  30, p("o.key"), p("o.crt"), NULL, err, sizeof(err)),
		     GX_OK, "%s", err);
	cr_expect_eq(gx_tls_verify(p("ca.crt"), p("o.crt"), NULL, err, sizeof(err)),
		     GX_ERR_DENIED);
	/* A dot would let "<prefix>.deliver.A." cover another agency. */
	cr_expect_eq(gx_tls_issue(p("ca.key"), p("ca.crt"), "SX.MZ", GX_TLS_CLIENT, NULL, 30,
				  p("d.key"), p("d.crt"), NULL, err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_expect_eq(gx_tls_issue(p("ca.key"), p("ca.crt"), "CN=x,O=y", GX_TLS_CLIENT, NULL, 30,
				  p("d.key"), p("d.crt"), NULL, err, sizeof(err)),
		     GX_ERR_INVALID);
	/* A CA key others may read issues nothing. */
	chmod(p("ca.key"), 0644);
	cr_expect_neq(gx_tls_issue(p("ca.key"), p("ca.crt"), "SX-RS", GX_TLS_CLIENT, NULL, 30,
				   p("r.key"), p("r.crt"), NULL, err, sizeof(err)),
		      GX_OK);
	cr_expect(strstr(err, "group or others"), "%s", err);
	cr_expect_neq(access(p("r.key"), F_OK), 0);
	/* A key that is not the CA's. */
	chmod(p("ca.key"), 0600);
	cr_expect_eq(gx_tls_issue(p("other.key"), p("ca.crt"), "SX-RS", GX_TLS_CLIENT, NULL, 30,
				  p("r.key"), p("r.crt"), NULL, err, sizeof(err)),
		     GX_ERR_INVALID);
}

Test(tls, kafka_files_must_be_private, .init = setup, .fini = teardown)
{
	make_ca("ca");
	cr_expect_eq(gx_tls_check_kafka_file("ssl.key.location", p("ca.key"), err, sizeof(err)),
		     GX_OK);
	chmod(p("ca.key"), 0640);
	cr_expect_eq(gx_tls_check_kafka_file("ssl.key.location", p("ca.key"), err, sizeof(err)),
		     GX_ERR_DENIED);
	cr_expect(strstr(err, "0640"), "%s", err);
	chmod(p("ca.crt"), 0604);
	cr_expect_eq(gx_tls_check_kafka_file("ssl.certificate.location", p("ca.crt"), err,
					     sizeof(err)),
		     GX_ERR_DENIED);
	cr_expect_eq(gx_tls_check_kafka_file("ssl.keystore.location", p("ca.crt"), err,
					     sizeof(err)),
		     GX_ERR_DENIED);
	/* The CA is public; other settings name no file. */
	cr_expect_eq(gx_tls_check_kafka_file("ssl.ca.location", p("ca.crt"), err, sizeof(err)),
		     GX_OK);
	cr_expect_eq(gx_tls_check_kafka_file("security.protocol", "ssl", err, sizeof(err)),
		     GX_OK);
	cr_expect_eq(gx_tls_check_kafka_file("ssl.key.location", p("none"), err, sizeof(err)),
		     GX_ERR_IO);
	cr_expect_eq(gx_tls_check_kafka_file("ssl.key.location", dir, err, sizeof(err)),
		     GX_ERR_DENIED);

	/* Every program's client configuration applies it. */
	gx_kv_t kv[] = {{"security.protocol", "ssl"}, {"ssl.key.location", p("ca.key")}};
	gx_conf_t conf = {0};
	conf.kafka = kv;
	conf.nkafka = 2;
	rd_kafka_conf_t *kc = NULL;
	cr_expect_eq(gx_kafka_conf(&conf, "127.0.0.1:9", NULL, &kc, err, sizeof(err)),
		     GX_ERR_CONFIG);
	cr_expect(strstr(err, "kafka.ssl.key.location") && strstr(err, "chmod 600"), "%s", err);
	chmod(p("ca.key"), 0600);
	cr_expect_eq(gx_kafka_conf(&conf, "127.0.0.1:9", NULL, &kc, err, sizeof(err)), GX_OK,
		     "%s", err);
	rd_kafka_conf_destroy(kc);
}

/* ---- registry ---- */

static void apply(gx_registry_t *r, json_t *ev)
{
	char *s = json_dumps(ev, JSON_COMPACT);
	cr_assert_eq(gx_registry_apply(r, s, strlen(s), err, sizeof(err)), GX_OK, "%s", err);
	free(s);
	json_decref(ev);
}

Test(acl, roles_and_registry)
{
	unsigned roles;
	cr_assert_eq(gx_roles_parse("consumer, provider", &roles, err, sizeof(err)), GX_OK);
	cr_expect_eq(roles, GX_ROLE_CONSUMER | GX_ROLE_PROVIDER);
	char *f = gx_roles_format(roles);
	cr_expect_str_eq(f, "provider,consumer");
	free(f);
	cr_expect_eq(gx_roles_parse("admin", &roles, err, sizeof(err)), GX_ERR_INVALID);
	cr_expect_eq(gx_roles_parse("", &roles, err, sizeof(err)), GX_ERR_INVALID);

	gx_registry_t r;
	gx_registry_init(&r);
	apply(&r, gx_agency_add_json("SX-MZ", GX_ROLE_CONSUMER, "ab", 0, 1000));
	apply(&r, gx_agency_add_json("SX-GA", GX_ROLE_PROVIDER, NULL, 0, 1001));
	apply(&r, gx_agency_revoke_json("SX-MZ", "left", 2000));
	/* A revoked code stays revoked; a repeated revoke changes nothing. */
	apply(&r, gx_agency_add_json("SX-MZ", GX_ROLE_CONSUMER, "cd", 0, 3000));
	apply(&r, gx_agency_revoke_json("SX-MZ", "again", 4000));
	cr_expect_eq(r.n, 2);
	cr_expect_eq(r.ignored, 2);
	const gx_agency_t *a = gx_registry_get(&r, "SX-MZ");
	cr_assert_not_null(a);
	cr_expect(a->revoked);
	cr_expect_eq(a->revoked_at, 2000);
	cr_expect_str_eq(a->reason, "left");
	cr_expect_str_eq(a->cert_sha256, "ab");
	cr_expect(!gx_registry_get(&r, "SX-GA")->revoked);
	static const char *const bad[] = {
	    "nonsense", "{\"event\":\"add\",\"agency\":\"SX-X\",\"at\":1}",
	    "{\"event\":\"add\",\"agency\":\"SX-X\",\"at\":1,\"roles\":[\"root\"]}",
	    "{\"event\":\"add\",\"agency\":\"SX.X\",\"at\":1,\"roles\":[\"consumer\"]}",
	    "{\"event\":\"drop\",\"agency\":\"SX-X\",\"at\":1}"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++)
		cr_expect_eq(gx_registry_apply(&r, bad[i], strlen(bad[i]), err, sizeof(err)),
			     GX_ERR_INVALID, "%s", bad[i]);
	cr_expect_eq(r.bad, (long)GX_ARRAY_SIZE(bad));
	cr_expect_eq(r.n, 2);
	gx_registry_free(&r);
}

/* ---- derivation ---- */

static int has(const gx_acl_set_t *s, const char *line)
{
	char b[600];
	for (size_t i = 0; i < s->n; i++) {
		gx_acl_format(&s->v[i], b, sizeof(b));
		if (!strcmp(b, line))
			return 1;
	}
	return 0;
}

static size_t count_of(const gx_acl_set_t *s, const char *principal)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += !strcmp(s->v[i].principal, principal);
	return n;
}

static void registry(gx_registry_t *r)
{
	gx_registry_init(r);
	apply(r, gx_agency_add_json("SX-GA", GX_ROLE_PROVIDER, NULL, 0, 1));
	apply(r, gx_agency_add_json("SX-MZ", GX_ROLE_CONSUMER, NULL, 0, 1));
	apply(r, gx_agency_add_json("SX", GX_ROLE_CONSUMER, NULL, 0, 1));
	apply(r, gx_agency_add_json("SX-OPS", GX_ROLE_OPERATOR, NULL, 0, 1));
	apply(r, gx_agency_add_json("SX-AUD", GX_ROLE_COMPLIANCE, NULL, 0, 1));
	apply(r, gx_agency_add_json("govex-broker", GX_ROLE_BROKER, NULL, 0, 1));
	apply(r, gx_agency_add_json("SX-OLD", GX_ROLE_PROVIDER | GX_ROLE_CONSUMER, NULL, 0, 1));
	apply(r, gx_agency_revoke_json("SX-OLD", "x", 2));
}

static const gx_acl_provides_t prov[] = {
    {"SX-GA", "population"}, {"SX-GA", "e_licence"}, {"SX-ZWFW", "e_licence"},
    {"SX-OLD", "geospatial"}};
static const gx_acl_opts_t opts = {"gx", "gx-broker", "gx-broker"};

Test(acl, derived_from_roles_and_catalogue)
{
	gx_registry_t r;
	registry(&r);
	gx_acl_set_t s;
	gx_acl_set_init(&s);
	gx_acl_derive(&opts, &r, prov, GX_ARRAY_SIZE(prov), &s);

	/* Provider: its own libraries' ingest topics, seals, its state, its
	 * transactional ids; nothing to read but metadata and its state. */
	cr_expect(has(&s, "ALLOW User:SX-GA WRITE topic gx.ingest.population (literal)"));
	cr_expect(has(&s, "ALLOW User:SX-GA WRITE topic gx.ingest.e_licence (literal)"));
	cr_expect(!has(&s, "ALLOW User:SX-GA WRITE topic gx.ingest.geospatial (literal)"));
	cr_expect(has(&s, "ALLOW User:SX-GA WRITE topic gx.seals (literal)"));
	cr_expect(has(&s, "ALLOW User:SX-GA WRITE topic gx.rejected (literal)"));
	cr_expect(has(&s, "ALLOW User:SX-GA WRITE transactional-id gx.adapter.SX-GA. (prefixed)"));
	cr_expect(has(&s, "ALLOW User:SX-GA READ topic gx.adapter.positions (literal)"));
	cr_expect(!has(&s, "ALLOW User:SX-GA READ topic gx.ingest.population (literal)"));
	/* Consumer: its own deliveries, its own groups; the dot ends the code,
	 * so SX's prefix never covers SX-MZ's topics or groups. */
	cr_expect(has(&s, "ALLOW User:SX-MZ READ topic gx.deliver.SX-MZ. (prefixed)"));
	cr_expect(has(&s, "ALLOW User:SX-MZ READ group SX-MZ. (prefixed)"));
	cr_expect(has(&s, "ALLOW User:SX-MZ READ group govex-consume-SX-MZ (literal)"));
	cr_expect(has(&s, "ALLOW User:SX READ topic gx.deliver.SX. (prefixed)"));
	cr_expect(strncmp("gx.deliver.SX-MZ.population", "gx.deliver.SX.", 14));
	for (size_t i = 0; i < s.n; i++) {
		const gx_acl_t *a = &s.v[i];
		if (!strcmp(a->principal, "User:SX-MZ") || !strcmp(a->principal, "User:SX")) {
			cr_expect(a->op == GX_OP_READ, "a consumer may only read");
			cr_expect(a->restype != GX_RES_TOPIC || strncmp(a->name, "gx.ingest.", 10));
			cr_expect(a->restype != GX_RES_TOPIC ||
				  (strcmp(a->name, "gx.approvals") && strcmp(a->name, "gx.decisions")));
		}
		if (!strcmp(a->principal, "User:SX-OPS") && a->restype == GX_RES_TOPIC)
			cr_expect(a->op == GX_OP_DESCRIBE || !strcmp(a->name, "gx.catalog") ||
				      !strcmp(a->name, "gx.schemas") ||
				      !strcmp(a->name, "gx.approvals"),
				  "the operator reads %s", a->name);
		/* Only the broker reads ingest and writes deliveries/decisions. */
		if (a->restype == GX_RES_TOPIC && strcmp(a->principal, "User:govex-broker")) {
			cr_expect(!(a->op == GX_OP_READ && !strncmp(a->name, "gx.ingest.", 10)));
			cr_expect(!(a->op == GX_OP_WRITE && (!strncmp(a->name, "gx.deliver.", 11) ||
							     !strcmp(a->name, "gx.decisions"))));
		}
		cr_expect_eq(a->perm, GX_PERM_ALLOW);
		cr_expect_str_eq(a->host, "*");
	}
	/* Broker, operator, compliance. */
	cr_expect(has(&s, "ALLOW User:govex-broker READ topic gx.ingest. (prefixed)"));
	cr_expect(has(&s, "ALLOW User:govex-broker WRITE topic gx.deliver. (prefixed)"));
	cr_expect(has(&s, "ALLOW User:govex-broker WRITE topic gx.decisions (literal)"));
	cr_expect(has(&s, "ALLOW User:govex-broker READ group gx-broker (literal)"));
	cr_expect(has(&s, "ALLOW User:govex-broker WRITE transactional-id gx-broker (prefixed)"));
	cr_expect(has(&s, "ALLOW User:SX-OPS DESCRIBE group * (literal)"));
	cr_expect(has(&s, "ALLOW User:SX-OPS DESCRIBE cluster kafka-cluster (literal)"));
	cr_expect(has(&s, "ALLOW User:SX-AUD READ topic gx.decisions (literal)"));
	cr_expect(has(&s, "ALLOW User:SX-AUD READ topic gx.approvals (literal)"));
	/* Revoked: nothing. */
	cr_expect_eq(count_of(&s, "User:SX-OLD"), 0);
	/* Sorted, no duplicates (seals is granted once per reason). */
	for (size_t i = 1; i < s.n; i++)
		cr_expect_lt(gx_acl_cmp(&s.v[i - 1], &s.v[i]), 0);
	gx_acl_set_free(&s);
	gx_registry_free(&r);
}

Test(acl, diff_touches_only_managed_principals)
{
	gx_registry_t r;
	registry(&r);
	gx_acl_set_t want, cur, add, del;
	gx_acl_set_init(&want);
	gx_acl_set_init(&cur);
	gx_acl_set_init(&add);
	gx_acl_set_init(&del);
	gx_acl_derive(&opts, &r, prov, GX_ARRAY_SIZE(prov), &want);
	const char *managed[] = {"User:SX-GA",	"User:SX-MZ",	"User:SX",
				 "User:SX-OPS", "User:SX-AUD", "User:govex-broker",
				 "User:SX-OLD", NULL};
	/* Kafka holds all but the first wanted binding, one left over from
	 * the revoked agency and one of somebody sync does not manage. */
	for (size_t i = 1; i < want.n; i++)
		gx_acl_add(&cur, want.v[i].restype, want.v[i].name, want.v[i].pattern,
			   want.v[i].principal, want.v[i].host, want.v[i].op, want.v[i].perm);
	gx_acl_add(&cur, GX_RES_TOPIC, "gx.ingest.geospatial", GX_PAT_LITERAL, "User:SX-OLD",
		   "*", GX_OP_WRITE, GX_PERM_ALLOW);
	gx_acl_add(&cur, GX_RES_TOPIC, "other", GX_PAT_LITERAL, "User:someone", "*",
		   GX_OP_READ, GX_PERM_ALLOW);
	gx_acl_set_sort(&cur);
	gx_acl_diff(&want, &cur, managed, &add, &del);
	cr_expect_eq(add.n, 1);
	cr_expect_eq(gx_acl_cmp(&add.v[0], &want.v[0]), 0);
	cr_expect_eq(del.n, 1);
	cr_expect_str_eq(del.v[0].principal, "User:SX-OLD");
	/* Applied, a second diff is empty. */
	gx_acl_set_t add2, del2;
	gx_acl_set_init(&add2);
	gx_acl_set_init(&del2);
	gx_acl_diff(&want, &want, managed, &add2, &del2);
	cr_expect_eq(add2.n + del2.n, 0);
	gx_acl_set_free(&add2);
	gx_acl_set_free(&del2);
	gx_acl_set_free(&want);
	gx_acl_set_free(&cur);
	gx_acl_set_free(&add);
	gx_acl_set_free(&del);
	gx_registry_free(&r);
}
