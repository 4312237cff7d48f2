/*
 * 0070-mtls: identity and permission on the wire (issue 8), on a Kafka of
 * the test's own started with `kafka.sh start --ssl PKI`: every listener
 * TLS with client certificates, principals mapped from the certificate's
 * CN, the StandardAuthorizer with allow.everyone.if.no.acl.found=false,
 * and ACLs from `govexctl acl sync`.
 *
 * Every program runs with the certificate of the agency it acts for (a -c
 * file of kafka.ssl.* settings); the exchange's own admin principal (a
 * Kafka super user) sets up topics, the catalogue, the registry and the
 * approvals. Refusals are checked with librdkafka directly, so the test
 * sees Kafka's own error code: TOPIC_AUTHORIZATION_FAILED and nothing
 * received.
 */
#include <criterion/criterion.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

/* ---- the TLS Kafka of this test ---- */

static char kdir[600], pki[600], top[600];

/* govexctl without a certificate, for what needs no Kafka (certificates,
 * secrets). */
static itest_out_t ctl_plain(const char *P, const char *const *args)
{
	return it_run(P, "govexctl", args);
}

static const char *idconf(const char *code)
{
	static char bufs[8][700];
	static int k;
	char *p = bufs[k++ % 8];
	snprintf(p, 700, "%s/%s.conf", pki, code);
	if (access(p, F_OK)) {
		char body[3000];
		int n = snprintf(body, sizeof(body),
				 "kafka.security.protocol = ssl\n"
				 "kafka.ssl.ca.location = %s/ca.crt\n"
				 "kafka.ssl.certificate.location = %s/%s.crt\n"
				 "kafka.ssl.key.location = %s/%s.key\n",
				 pki, pki, code, pki, code);
		it_write(p, body, (size_t)n);
	}
	return p;
}

/* Run govexctl (prog NULL) or another program as agency id. */
static itest_out_t as(const char *P, const char *id, const char *prog,
		      const char *const *args)
{
	const char *v[40];
	size_t n = 0;
	v[n++] = "-c";
	v[n++] = idconf(id);
	for (size_t i = 0; args[i] && n < 39; i++)
		v[n++] = args[i];
	v[n] = NULL;
	return it_run(P, prog ? prog : "govexctl", v);
}

static void ok_as(const char *P, const char *id, const char *const *args)
{
	itest_out_t o = as(P, id, NULL, args);
	cr_assert_eq(o.status, 0, "govexctl %s %s as %s failed (%d): %s", args[0],
		     args[1] ? args[1] : "", id, o.status, o.err);
	it_out_free(&o);
}

static void kafka_stop(void)
{
	if (!kdir[0])
		return;
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "%.600s/deploy/local/kafka.sh stop --dir %s >/dev/null 2>&1",
		 top, kdir);
	if (system(cmd) != 0)
		fprintf(stderr, "0070: could not stop the Kafka in %s\n", kdir);
	kdir[0] = '\0';
}

/* The CA, the node's and the admin's certificates, then Kafka with --ssl;
 * every it_run from now on goes to it. */
static void kafka_start(const char *P)
{
	char cmd[4000];
	snprintf(top, sizeof(top), "%s/..", it_bin());
	snprintf(pki, sizeof(pki), "%s/%s.pki", it_tmp(), P);
	snprintf(kdir, sizeof(kdir), "%s/%s.kafka", it_tmp(), P);
	const char *ca[] = {"agency", "ca-init", "--pki", pki, NULL};
	itest_out_t o = ctl_plain(P, ca);
	cr_assert_eq(o.status, 0, "agency ca-init: %s", o.err);
	it_out_free(&o);
	const char *node[] = {"agency", "add", "govex-kafka", "--role", "kafka", "--pki", pki, NULL};
	o = ctl_plain(P, node);
	cr_assert_eq(o.status, 0, "node certificate: %s", o.err);
	it_out_free(&o);
	const char *adm[] = {"agency", "add", "govex-admin", "--role", "admin", "--pki", pki, NULL};
	o = ctl_plain(P, adm);
	cr_assert_eq(o.status, 0, "admin certificate: %s", o.err);
	it_out_free(&o);

	snprintf(cmd, sizeof(cmd),
		 "port=$(%s/deploy/local/kafka.sh free-port) && "
		 "%s/deploy/local/kafka.sh start --port $port --dir %s --ssl %s 2>>%s/%s.kafka.log",
		 top, top, kdir, pki, it_tmp(), P);
	FILE *f = popen(cmd, "r");
	cr_assert(f);
	char bs[128] = "";
	if (!fgets(bs, sizeof(bs), f))
		bs[0] = '\0';
	int st = pclose(f);
	bs[strcspn(bs, "\n")] = '\0';
	cr_assert(st == 0 && bs[0], "the TLS Kafka did not start; see %s/%s.kafka.log",
		  it_tmp(), P);
	setenv("GOVEX_TEST_BROKERS", bs, 1);
}

/* setup, the catalogue and the sealing keys, as the admin. */
static void mtls_setup(const char *P, const char *catalog_json)
{
	const char *s[] = {"setup", NULL};
	ok_as(P, "govex-admin", s);
	char path[700];
	snprintf(path, sizeof(path), "%s/%s.catalog.json", it_tmp(), P);
	it_write(path, catalog_json, strlen(catalog_json));
	const char *imp[] = {"catalog", "import", path, NULL};
	ok_as(P, "govex-admin", imp);
	it_seal_keys(P, catalog_json);
}

static void agency_add(const char *P, const char *code, const char *role)
{
	const char *a[] = {"agency", "add", code, "--role", role, "--pki", pki, NULL};
	ok_as(P, "govex-admin", a);
}

/* acl sync as the admin; its stdout. */
static char *acl_sync(const char *P)
{
	char grp[128];
	snprintf(grp, sizeof(grp), "%s-broker", P);
	const char *a[] = {"acl", "sync", "--broker-group", grp, "--broker-txn", grp, NULL};
	itest_out_t o = as(P, "govex-admin", NULL, a);
	cr_assert_eq(o.status, 0, "acl sync failed (%d): %s", o.status, o.err);
	char *out = strdup(o.out);
	it_out_free(&o);
	return out;
}

static pid_t mtls_broker(const char *P)
{
	static char group[128], txn[128], secret[700], key[700];
	char path[600], kpath[600];
	snprintf(path, sizeof(path), "%s/%s.secret", it_tmp(), P);
	snprintf(kpath, sizeof(kpath), "%s/%s.key", it_tmp(), P);
	const char *s[] = {"secret", "new", path, NULL};
	const char *k[] = {"key", "new", kpath, NULL};
	itest_out_t o = ctl_plain(P, s);
	cr_assert_eq(o.status, 0);
	it_out_free(&o);
	o = ctl_plain(P, k);
	cr_assert_eq(o.status, 0);
	it_out_free(&o);
	snprintf(group, sizeof(group), "broker.group=%s-broker", P);
	snprintf(txn, sizeof(txn), "broker.transactional.id=%s-broker-1", P);
	snprintf(secret, sizeof(secret), "broker.subject.secret.file=%s", path);
	snprintf(key, sizeof(key), "broker.checkpoint.key.file=%s", kpath);
	const char *args[] = {"-c", idconf("govex-broker"), "-o", group, "-o", txn,
			      "-o", secret, "-o", key, "-o", "http.port=0", NULL};
	return it_spawn(P, "govex-broker", args);
}

/* The adapter as provider over n generated population rows; exit status. */
static int adapter(const char *P, const char *provider, const char *item,
		   unsigned first, unsigned n)
{
	char name[64];
	snprintf(name, sizeof(name), "%s-%u.csv", P, first);
	char *csv = it_path(name);
	it_population_csv(csv, first, n);
	const char *args[] = {"-o", "http.port=0", "--provider", provider, "--item", item,
			      "--csv", csv, NULL};
	itest_out_t o = as(P, provider, "govex-adapter", args);
	int st = o.status;
	it_out_free(&o);
	return st;
}

static json_t *consume_as(const char *P, const char *consumer, const char *group,
			  unsigned max, const char *idle)
{
	char m[16];
	snprintf(m, sizeof(m), "%u", max);
	const char *args[] = {"consume", "--consumer", consumer, "--json", "--group", group,
			      "--max", m, "--idle-exit", idle, NULL};
	itest_out_t o = as(P, consumer, NULL, args);
	cr_assert_eq(o.status, 0, "consume as %s failed: %s", consumer, o.err);
	json_t *a = it_json_lines(o.out, o.len);
	it_out_free(&o);
	return a;
}

/* ---- librdkafka directly: what Kafka itself answers ---- */

/* A client configuration as agency id, trusting our CA; id NULL: TLS
 * without a client certificate; certdir (NULL: ours) where id's key and
 * certificate are. */
static rd_kafka_conf_t *kconf(const char *id, const char *certdir)
{
	char err[512], v[700];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	rd_kafka_conf_set(c, "bootstrap.servers", it_brokers(), err, sizeof(err));
	rd_kafka_conf_set(c, "security.protocol", "ssl", err, sizeof(err));
	snprintf(v, sizeof(v), "%s/ca.crt", pki);
	rd_kafka_conf_set(c, "ssl.ca.location", v, err, sizeof(err));
	if (id) {
		snprintf(v, sizeof(v), "%s/%s.crt", certdir ? certdir : pki, id);
		cr_assert_eq(rd_kafka_conf_set(c, "ssl.certificate.location", v, err,
					       sizeof(err)), RD_KAFKA_CONF_OK, "%s", err);
		snprintf(v, sizeof(v), "%s/%s.key", certdir ? certdir : pki, id);
		cr_assert_eq(rd_kafka_conf_set(c, "ssl.key.location", v, err, sizeof(err)),
			     RD_KAFKA_CONF_OK, "%s", err);
	}
	rd_kafka_conf_set(c, "log_level", "0", err, sizeof(err));
	return c;
}

/* Can a client with this configuration get the cluster's metadata? */
/* Set by the client when a connection fails in TLS or authentication
 * (rather than, say, a slow metadata answer). */
static volatile int tls_refused;

static void on_client_error(rd_kafka_t *rk, int err, const char *reason,
			    void *opaque)
{
	(void)rk;
	(void)reason;
	(void)opaque;
	if (err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
	    err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	    err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
		tls_refused = 1;
}

/* Metadata within timeout_ms: 0 when connected, the error otherwise. */
static rd_kafka_resp_err_t try_connect_ms(rd_kafka_conf_t *c, int timeout_ms)
{
	char err[512];
	tls_refused = 0;
	rd_kafka_conf_set_error_cb(c, on_client_error);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	cr_assert(rk, "%s", err);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
	rd_kafka_poll(rk, 100); /* serves the queued error events */
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return e;
}

/* Refused: no metadata, and the client saw the connection fail. */
static rd_kafka_resp_err_t try_connect(rd_kafka_conf_t *c)
{
	rd_kafka_resp_err_t e = try_connect_ms(c, 5000);
	return e && tls_refused ? e : RD_KAFKA_RESP_ERR_NO_ERROR;
}

static int nparts(const char *topic)
{
	/* As the admin: the topic's partition count. */
	char err[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf("govex-admin", NULL), err,
				      sizeof(err));
	cr_assert(rk, "%s", err);
	rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
	const struct rd_kafka_metadata *md = NULL;
	int n = 0;
	if (!rd_kafka_metadata(rk, 0, t, &md, 8000) && md->topic_cnt == 1)
		n = md->topics[0].partition_cnt;
	if (md)
		rd_kafka_metadata_destroy(md);
	rd_kafka_topic_destroy(t);
	rd_kafka_destroy(rk);
	cr_assert_gt(n, 0, "topic %s has no partitions", topic);
	return n;
}

/*
 * Read every partition of topic from the start as agency id (assigned, in
 * the group govex-scan every agency may name, so the topic's own ACL is
 * what is tried), for up to ms or until every partition reached its end:
 * *n receives the number of messages received; returns the first error
 * Kafka reported (0 if none).
 */
static rd_kafka_resp_err_t try_read(const char *id, const char *topic, int ms, long *n)
{
	char err[512];
	int np = nparts(topic), eof = 0;
	rd_kafka_resp_err_t first = RD_KAFKA_RESP_ERR_NO_ERROR;
	/* What the topic's metadata says to this principal (no DESCRIBE:
	 * refused here already), then what fetching gives. */
	{
		rd_kafka_t *mk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf(id, NULL), err,
					      sizeof(err));
		cr_assert(mk, "%s", err);
		rd_kafka_topic_t *t = rd_kafka_topic_new(mk, topic, NULL);
		const struct rd_kafka_metadata *md = NULL;
		rd_kafka_resp_err_t e = rd_kafka_metadata(mk, 0, t, &md, 8000);
		first = e ? e : md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__FAIL;
		if (md)
			rd_kafka_metadata_destroy(md);
		rd_kafka_topic_destroy(t);
		rd_kafka_destroy(mk);
		if (first && ms > 2000)
			ms = 2000; /* still try to fetch: nothing may come */
	}
	rd_kafka_conf_t *c = kconf(id, NULL);
	rd_kafka_conf_set(c, "group.id", "govex-scan", err, sizeof(err));
	rd_kafka_conf_set(c, "enable.auto.commit", "false", err, sizeof(err));
	rd_kafka_conf_set(c, "enable.partition.eof", "true", err, sizeof(err));
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
	cr_assert(rk, "%s", err);
	rd_kafka_poll_set_consumer(rk);
	rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(np);
	for (int p = 0; p < np; p++)
		rd_kafka_topic_partition_list_add(tl, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, tl);
	rd_kafka_topic_partition_list_destroy(tl);
	*n = 0;
	int64_t end = gx_mono_ms() + ms;
	while (gx_mono_ms() < end && eof < np) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			eof++;
		else if (m->err && !first)
			first = m->err;
		else if (!m->err)
			(*n)++;
		rd_kafka_message_destroy(m);
		if (first && gx_mono_ms() + 1500 < end)
			end = gx_mono_ms() + 1500; /* a little longer: nothing comes */
		if (first && *n)
			break;
	}
	rd_kafka_destroy(rk);
	return first;
}

static rd_kafka_resp_err_t dr_err;
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *o)
{
	(void)rk;
	(void)o;
	if (m->err && !dr_err)
		dr_err = m->err;
}

/* Produce one message to topic as agency id; the delivery's error. */
static rd_kafka_resp_err_t try_write(const char *id, const char *topic)
{
	char err[512];
	rd_kafka_conf_t *c = kconf(id, NULL);
	rd_kafka_conf_set(c, "message.timeout.ms", "8000", err, sizeof(err));
	rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	cr_assert(rk, "%s", err);
	dr_err = RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_resp_err_t e = rd_kafka_producev(
	    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY("k", 1),
	    RD_KAFKA_V_VALUE("forged", 6), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
	    RD_KAFKA_V_END);
	if (!e)
		rd_kafka_flush(rk, 10000);
	rd_kafka_destroy(rk);
	return e ? e : dr_err;
}

static long topic_count(const char *topic)
{
	/* As the admin: how many messages the topic holds. */
	rd_kafka_conf_t *c = kconf("govex-admin", NULL);
	char err[512];
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof(err));
	long total = 0;
	for (int p = 0; p < 3; p++) {
		int64_t lo = 0, hi = 0;
		if (!rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 5000))
			total += (long)(hi - lo);
	}
	rd_kafka_destroy(rk);
	return total;
}

#define AUTHZ RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED

static void expect_read_refused(const char *id, const char *topic)
{
	long n = 0;
	rd_kafka_resp_err_t e = try_read(id, topic, 8000, &n);
	cr_expect_eq(e, AUTHZ, "%s reading %s: %s, not an authorization error", id, topic,
		     rd_kafka_err2name(e));
	cr_expect_eq(n, 0, "%s received %ld messages from %s", id, n, topic);
}

static char *ctl_id_as(const char *P, const char *id, const char *const *args)
{
	itest_out_t o = as(P, id, NULL, args);
	cr_assert_eq(o.status, 0, "govexctl %s failed (%d): %s", args[0], o.status, o.err);
	o.out[strcspn(o.out, "\n")] = '\0';
	cr_assert_eq(strlen(o.out), 36, "govexctl %s printed '%s', not an id", args[0], o.out);
	char *r = strdup(o.out);
	it_out_free(&o);
	return r;
}

/*
 * The scenario of 0010-policy (three consumer agencies, one automatic
 * grant, one narrowed conditional grant, one denial) with every program
 * holding its agency's certificate and only the ACLs sync derived.
 */
Test(mtls, policy_scenario_over_mutual_tls, .fini = kafka_stop, .timeout = 240)
{
	const char *P = "mtp";
	const char *ITEM = "POP-MTLS";
	kafka_start(P);
	mtls_setup(P, it_population_catalog(ITEM));
	agency_add(P, "SX-GA", "provider");
	agency_add(P, "SX-MZ", "consumer");
	agency_add(P, "SX-RS", "consumer");
	agency_add(P, "SX-JY", "consumer");
	agency_add(P, "govex-broker", "broker");
	char *s1 = acl_sync(P);
	cr_expect(strstr(s1, "+ ALLOW User:SX-GA WRITE topic mtp.ingest.population (literal)"),
		  "sync: %s", s1);
	cr_expect(strstr(s1, "+ ALLOW User:SX-GA WRITE transactional-id mtp.adapter.SX-GA. (prefixed)"),
		  "sync: %s", s1);
	free(s1);
	char *s2 = acl_sync(P);
	cr_expect(strstr(s2, " 0 added, 0 removed,"), "a second sync changed something: %s", s2);
	free(s2);

	/* Requests and approvals are written by the exchange's desk. */
	const char *ra[] = {"request", "--consumer", "SX-MZ", "--item", ITEM, "--fields",
			    "name,sex,birth_date", "--purpose", "低保核验", "--basis",
			    "《社会救助暂行办法》第十一条", NULL};
	free(ctl_id_as(P, "govex-admin", ra));
	const char *rb[] = {"request", "--consumer", "SX-RS", "--item", ITEM, "--fields",
			    "citizen_id,name,address,sex", "--purpose", "社保参保登记", "--basis",
			    "《社会保险法》第五十八条", NULL};
	char *req_b = ctl_id_as(P, "govex-admin", rb);
	const char *rc[] = {"request", "--consumer", "SX-JY", "--item", ITEM, "--fields",
			    "citizen_id,name", "--purpose", "学籍核验", "--basis", "《教育法》", NULL};
	char *req_c = ctl_id_as(P, "govex-admin", rc);
	const char *bad[] = {"approve", req_b, "--by", "SX-MZ", NULL};
	itest_out_t o = as(P, "govex-admin", NULL, bad);
	cr_expect_eq(o.status, 2);
	it_out_free(&o);
	const char *ab[] = {"approve", req_b, "--by", "SX-GA", "--fields", "citizen_id,name", NULL};
	free(ctl_id_as(P, "govex-admin", ab));
	const char *dc[] = {"deny", req_c, "--by", "SX-GA", "--reason", "用途不符合法定职责", NULL};
	ok_as(P, "govex-admin", dc);

	pid_t broker = mtls_broker(P);
	cr_assert_eq(adapter(P, "SX-GA", ITEM, 0, 300), 0,
		     "the adapter failed over mTLS; see %s/%s.govex-adapter.log", it_tmp(), P);

	json_t *a = consume_as(P, "SX-MZ", "SX-MZ.mtp-a", 300, "30s");
	cr_assert_eq(json_array_size(a), 300, "SX-MZ got %zu", json_array_size(a));
	const char *fa[] = {"name", "sex", "birth_date"};
	size_t i;
	json_t *rec;
	json_array_foreach(a, i, rec) it_expect_fields(rec, fa, 3);
	json_decref(a);

	json_t *b = consume_as(P, "SX-RS", "govex-consume-SX-RS", 300, "30s");
	cr_assert_eq(json_array_size(b), 300, "SX-RS got %zu", json_array_size(b));
	const char *fb[] = {"citizen_id", "name"};
	json_array_foreach(b, i, rec) {
		it_expect_fields(rec, fb, 2);
		cr_expect_str_eq(json_string_value(json_object_get(rec, "_key")),
				 json_string_value(json_object_get(rec, "citizen_id")));
	}
	json_decref(b);

	json_t *c = consume_as(P, "SX-JY", "SX-JY.mtp-c", 1, "5s");
	cr_expect_eq(json_array_size(c), 0, "the denied consumer received records");
	json_decref(c);

	cr_expect_eq(it_stop(broker), 0);
	free(req_b);
	free(req_c);
}

/*
 * What Kafka refuses: reading what is not one's own, writing another
 * provider's ingest topic, connecting without a certificate of the
 * exchange's CA, anything at all after revocation; the operator reads lag
 * and no data; a key file others may read is refused before connecting.
 */
Test(mtls, kafka_refuses_what_the_acls_do_not_grant, .fini = kafka_stop, .timeout = 240)
{
	const char *P = "mta";
	const char *ITEM = "140000-GA-RK-0001";
	char path[700];
	snprintf(path, sizeof(path), "%s/../schemas/catalog.sample.json", it_bin());
	FILE *f = fopen(path, "r");
	cr_assert(f, "%s", path);
	static char cat[200000];
	size_t cl = fread(cat, 1, sizeof(cat) - 1, f);
	fclose(f);
	cat[cl] = '\0';

	kafka_start(P);
	mtls_setup(P, cat);
	agency_add(P, "SX-GA", "provider");
	agency_add(P, "SX-ZWFW", "provider");
	agency_add(P, "SX-MZ", "consumer");
	agency_add(P, "SX-RS", "consumer");
	agency_add(P, "SX-OPS", "operator");
	agency_add(P, "SX-AUD", "compliance");
	agency_add(P, "govex-broker", "broker");
	free(acl_sync(P));

	const char *ra[] = {"request", "--consumer", "SX-MZ", "--item", ITEM, "--fields",
			    "name,sex", "--purpose", "p", "--basis", "b", NULL};
	free(ctl_id_as(P, "govex-admin", ra));
	const char *rb[] = {"request", "--consumer", "SX-RS", "--item", ITEM, "--fields",
			    "name,sex", "--purpose", "p", "--basis", "b", NULL};
	free(ctl_id_as(P, "govex-admin", rb));
	pid_t broker = mtls_broker(P);
	cr_assert_eq(adapter(P, "SX-GA", ITEM, 0, 20), 0,
		     "the adapter failed over mTLS; see %s/%s.govex-adapter.log", it_tmp(), P);
	json_t *mine = consume_as(P, "SX-MZ", "SX-MZ.own", 20, "30s");
	cr_assert_eq(json_array_size(mine), 20, "SX-MZ got %zu of its own", json_array_size(mine));
	json_decref(mine);
	json_t *theirs = consume_as(P, "SX-RS", "SX-RS.own", 20, "30s");
	cr_assert_eq(json_array_size(theirs), 20);
	json_decref(theirs);
	cr_assert_gt(topic_count("mta.ingest.population"), 0);
	cr_assert_gt(topic_count("mta.approvals"), 0);

	/* A consumer reads only its own deliveries. */
	expect_read_refused("SX-MZ", "mta.ingest.population");
	expect_read_refused("SX-MZ", "mta.deliver.SX-RS.population");
	expect_read_refused("SX-MZ", "mta.approvals");
	expect_read_refused("SX-MZ", "mta.decisions");
	/* govexctl consume says so too, and receives nothing. */
	const char *steal[] = {"consume", "--consumer", "SX-RS", "--json", "--group", "SX-MZ.x",
			       "--max", "1", "--idle-exit", "5s", NULL};
	itest_out_t o = as(P, "SX-MZ", NULL, steal);
	cr_expect_eq(o.len, 0, "SX-MZ printed another agency's records: %.200s", o.out);
	it_out_free(&o);
	/* A group id not its own is refused even on its own topic. */
	long n = 0;
	{
		char err[512];
		rd_kafka_conf_t *c = kconf("SX-MZ", NULL);
		rd_kafka_conf_set(c, "group.id", "SX-RS.own", err, sizeof(err));
		rd_kafka_conf_set(c, "auto.offset.reset", "earliest", err, sizeof(err));
		rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof(err));
		rd_kafka_poll_set_consumer(rk);
		rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(tl, "mta.deliver.SX-MZ.population", -1);
		rd_kafka_subscribe(rk, tl);
		rd_kafka_topic_partition_list_destroy(tl);
		rd_kafka_resp_err_t first = 0;
		for (int64_t end = gx_mono_ms() + 8000; gx_mono_ms() < end && !first;) {
			rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
			if (m && m->err)
				first = m->err;
			else if (m)
				n++;
			if (m)
				rd_kafka_message_destroy(m);
		}
		rd_kafka_consumer_close(rk);
		rd_kafka_destroy(rk);
		cr_expect_eq(first, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
			     "another agency's group: %s", rd_kafka_err2name(first));
		cr_expect_eq(n, 0);
	}

	/* A provider writes only its own libraries' ingest topics; a consumer
	 * none; nobody but the broker writes deliveries or decisions. */
	cr_expect_eq(try_write("SX-GA", "mta.ingest.e_licence"), AUTHZ);
	cr_expect_eq(try_write("SX-MZ", "mta.ingest.population"), AUTHZ);
	cr_expect_eq(try_write("SX-GA", "mta.deliver.SX-MZ.population"), AUTHZ);
	cr_expect_eq(try_write("SX-GA", "mta.decisions"), AUTHZ);
	cr_expect_eq(try_write("SX-GA", "mta.approvals"), AUTHZ);
	cr_expect_eq(try_write("SX-ZWFW", "mta.ingest.population"), AUTHZ);

	/* Compliance reads the decisions and approvals, no records. */
	long nd = 0;
	cr_expect_eq(try_read("SX-AUD", "mta.approvals", 6000, &nd), 0);
	cr_expect_gt(nd, 0, "compliance read no approvals");
	expect_read_refused("SX-AUD", "mta.ingest.population");

	/* The operator: lag, and no data. */
	const char *st[] = {"status", "--json", NULL};
	o = as(P, "SX-OPS", NULL, st);
	cr_expect_eq(o.status, 0, "status as operator (%d): %s", o.status, o.err);
	cr_expect(strstr(o.out, "\"mta.deliver.SX-MZ.population\""),
		  "no lag for SX-MZ in: %.300s", o.out);
	it_out_free(&o);
	expect_read_refused("SX-OPS", "mta.deliver.SX-MZ.population");
	expect_read_refused("SX-OPS", "mta.ingest.population");
	expect_read_refused("SX-OPS", "mta.decisions");

	/* No certificate, or one from another CA: no connection at all. */
	cr_expect_neq(try_connect(kconf(NULL, NULL)), 0, "connected without a certificate (or failed other than in TLS)");
	char other[700];
	snprintf(other, sizeof(other), "%s/%s.other-pki", it_tmp(), P);
	const char *oca[] = {"agency", "ca-init", "--pki", other, NULL};
	o = ctl_plain(P, oca);
	cr_assert_eq(o.status, 0, "%s", o.err);
	it_out_free(&o);
	const char *oadd[] = {"agency", "add", "govex-admin", "--role", "admin", "--pki", other, NULL};
	o = ctl_plain(P, oadd);
	cr_assert_eq(o.status, 0, "%s", o.err);
	it_out_free(&o);
	cr_expect_neq(try_connect(kconf("govex-admin", other)), 0,
		      "connected with a certificate of another CA (named like the admin)");
	cr_expect_eq(try_connect_ms(kconf("govex-admin", NULL), 20000), 0,
		     "the admin's own certificate does not connect");

	/* A key file others may read is refused before any connection. */
	snprintf(path, sizeof(path), "%s/SX-MZ.key", pki);
	chmod(path, 0640);
	const char *cs[] = {"consume", "--consumer", "SX-MZ", "--max", "1", "--idle-exit", "2s",
			    NULL};
	o = as(P, "SX-MZ", NULL, cs);
	cr_expect_eq(o.status, 2, "a 0640 key: status %d", o.status);
	cr_expect(strstr(o.err, "group or others"), "message: %s", o.err);
	it_out_free(&o);
	chmod(path, 0600);

	/* Revocation: the provider and a consumer lose every ACL at once. */
	const char *rv1[] = {"agency", "revoke", "SX-GA", "--reason", "key compromised", NULL};
	ok_as(P, "govex-admin", rv1);
	const char *rv2[] = {"agency", "revoke", "SX-RS", "--reason", "left the exchange", NULL};
	ok_as(P, "govex-admin", rv2);
	const char *al[] = {"acl", "list", NULL};
	o = as(P, "govex-admin", NULL, al);
	cr_assert_eq(o.status, 0);
	cr_expect(!strstr(o.out, "User:SX-GA ") && !strstr(o.out, "User:SX-RS "),
		  "ACLs left after revocation: %s", o.out);
	cr_expect(strstr(o.out, "User:SX-MZ "), "SX-MZ lost its ACLs: %s", o.out);
	it_out_free(&o);
	char *s = acl_sync(P);
	cr_expect(strstr(s, " 0 added, 0 removed,"), "sync after revoke: %s", s);
	free(s);
	cr_expect_eq(try_write("SX-GA", "mta.ingest.population"), AUTHZ);
	cr_expect_neq(adapter(P, "SX-GA", ITEM, 100, 5), 0, "a revoked provider's adapter ran");
	/* Refused at the group (FindCoordinator) or at the topic: either way
	 * by Kafka, and nothing arrives. */
	static const char *const gone[][2] = {{"SX-RS", "mta.deliver.SX-RS.population"},
					      {"SX-GA", "mta.catalog"}};
	for (size_t i = 0; i < 2; i++) {
		rd_kafka_resp_err_t e = try_read(gone[i][0], gone[i][1], 8000, &n);
		cr_expect(e == AUTHZ || e == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
			  "revoked %s reading %s: %s", gone[i][0], gone[i][1],
			  rd_kafka_err2name(e));
		cr_expect_eq(n, 0, "revoked %s received %ld messages", gone[i][0], n);
	}
	/* A revoked code is not admitted again. */
	const char *again[] = {"agency", "add", "SX-RS", "--role", "consumer", "--pki", pki,
			       NULL};
	o = as(P, "govex-admin", NULL, again);
	cr_expect_eq(o.status, 2, "re-adding a revoked agency: %d", o.status);
	it_out_free(&o);

	cr_expect_eq(it_stop(broker), 0);
}
