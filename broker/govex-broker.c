/*
 * govex-broker - the policy-enforcing broker.
 *
 * Materialises the catalogue and approvals from their topics, then consumes
 * every <prefix>.ingest.<library> topic in a consumer group and, for each
 * record and each consumer agency holding a live grant on its item, releases
 * the projected record (withheld fields null, provenance attached) to
 * <prefix>.deliver.<consumer>.<library>. Deliveries, refusals and consumed
 * offsets are written in one Kafka transaction, so a crash never leaves a
 * release half done. Default deny: anything that cannot be evaluated
 * (unknown schema, unknown item, undecodable record) is released to no one
 * and written to <prefix>.rejected with its reason.
 *
 *   govex-broker [-c FILE] [-b BROKERS] [-o key=value]...
 */
#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_avro.h"
#include "gx_catalog.h"
#include "gx_conf.h"
#include "gx_decision.h"
#include "gx_http.h"
#include "gx_kafka.h"
#include "gx_keyfile.h"
#include "gx_lag.h"
#include "gx_map.h"
#include "gx_metrics.h"
#include "gx_ops.h"
#include "gx_policy.h"
#include "gx_pool.h"
#include "gx_proof.h"
#include "gx_record.h"
#include "gx_schema.h"

struct broker_conf {
	char *brokers;
	char *prefix;
	char *log_level;
	char *group;
	char *txn_id;
	int64_t commit_interval_ms;
	int64_t commit_linger_ms;
	int64_t batch_max;
	int64_t state_timeout_ms;
	int64_t deliver_partitions;
	int64_t deliver_replication;
	char *subject_secret_file;
	char *checkpoint_key_file;
	int64_t checkpoint_interval_ms;
	char *http_address;
	int64_t http_port;
	int64_t lag_refresh_ms;
	int64_t lag_timeout_ms;
	int64_t newest_scan;
	int64_t threads;
	gx_seal_conf_t seal;
};

#define OFF(m) offsetof(struct broker_conf, m)
static const gx_confdef_t broker_defs[] = {
    {"brokers", GX_CONF_STR, OFF(brokers), "127.0.0.1:9092", 0, 0, NULL,
     "Kafka bootstrap servers (also -b)"},
    {"topic.prefix", GX_CONF_STR, OFF(prefix), "govex", 0, 0, NULL,
     "prefix of every govex topic"},
    {"log.level", GX_CONF_ENUM, OFF(log_level), "info", 0, 0,
     "debug|info|warn|error", "lowest level logged"},
    {"broker.group", GX_CONF_STR, OFF(group), "govex-broker", 0, 0, NULL,
     "consumer group shared by every broker instance"},
    {"broker.transactional.id", GX_CONF_STR, OFF(txn_id), "govex-broker-1",
     0, 0, NULL, "transactional id, unique per broker instance"},
    {"broker.commit.interval", GX_CONF_DURATION_MS, OFF(commit_interval_ms),
     "100ms", 1, 60000, NULL,
     "longest a transaction stays open before it is committed (it commits "
     "sooner when no more records are waiting)"},
    {"broker.commit.linger", GX_CONF_DURATION_MS, OFF(commit_linger_ms),
     "30ms", 0, 10000, NULL,
     "no more records waiting (caught up): the transaction still commits no "
     "sooner than this after its first record (as Kafka's linger.ms; never "
     "past broker.commit.interval). Fewer, fuller transactions, a shorter "
     "latency tail under steady load; 0 commits at once"},
    {"broker.batch.max", GX_CONF_INT, OFF(batch_max), "5000", 1, 1000000,
     NULL, "most ingest records per transaction"},
    {"broker.threads", GX_CONF_INT, OFF(threads), "0", 0, 64, NULL,
     "threads that verify, project and encode records, the main thread "
     "included (0: one per CPU); deliveries and decisions are written in "
     "the order records were read whatever the number"},
    {"broker.state.timeout", GX_CONF_DURATION_MS, OFF(state_timeout_ms),
     "60s", 1000, 3600000, NULL,
     "how long reading the catalogue and approvals at start may stall "
     "(nothing arriving) before the broker gives up"},
    {"broker.deliver.partitions", GX_CONF_INT, OFF(deliver_partitions), "3",
     1, 10000, NULL, "partitions of delivery topics the broker creates"},
    {"broker.deliver.replication", GX_CONF_INT, OFF(deliver_replication), "1",
     1, 16, NULL, "replication factor of delivery topics it creates"},
    {"broker.subject.secret.file", GX_CONF_STR, OFF(subject_secret_file),
     NULL, 0, 0, NULL,
     "secret (mode 0600; govexctl secret new FILE) keying the pseudonymous "
     "delivery keys used when a consumer may not see the subject; required"},
    {"broker.checkpoint.key.file", GX_CONF_STR, OFF(checkpoint_key_file), NULL,
     0, 0, NULL,
     "the exchange's Ed25519 private key (PEM, mode 0600; govexctl key new "
     "FILE) signing decision-chain checkpoints; required"},
    {"broker.checkpoint.interval", GX_CONF_DURATION_MS,
     OFF(checkpoint_interval_ms), "10s", 1000, 86400000, NULL,
     "how often each advanced decision chain's head is signed"},
    {"http.address", GX_CONF_STR, OFF(http_address), "127.0.0.1", 0, 0, NULL,
     "address of /metrics, /healthz and /readyz"},
    {"http.port", GX_CONF_INT, OFF(http_port), "9470", 0, 65535, NULL,
     "their port (0: any free port, logged as event=http_listening)"},
    {"metrics.lag.refresh", GX_CONF_DURATION_MS, OFF(lag_refresh_ms), "5s", 0,
     3600000, NULL,
     "consumer lag on /metrics is read from Kafka at most this often; "
     "scrapes in between get the last reading"},
    {"metrics.lag.timeout", GX_CONF_DURATION_MS, OFF(lag_timeout_ms), "5s", 100,
     60000, NULL,
     "longest a scrape waits for Kafka's answer on consumer lag (keep it "
     "under Prometheus' scrape_timeout)"},
    {"metrics.newest.scan", GX_CONF_INT, OFF(newest_scan), "10000", 0,
     100000000, NULL,
     "at start, most records read back from the end of each ingest "
     "partition to find each item's newest record (0: none)"},
    GX_SEAL_CONFDEFS(struct broker_conf, seal),
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct broker {
	struct broker_conf *bc;
	gx_conf_t *conf;
	gx_schemas_t *schemas;
	gx_catalog_t *cat;
	gx_approvals_t *ap;
	gx_state_reader_t *cat_reader, *ap_reader;
	rd_kafka_t *consumer, *producer;
	char *ingest_prefix;	/* "<prefix>.ingest." */
	char *rejected_topic;
	char *approvals_topic;
	gx_map_t *topics_ready;	/* delivery topics known to exist */
	gx_pool_t *pool;	/* threads preparing records (run_batch) */
	struct lane *lanes;	/* one per pool thread */
	size_t nlanes;
	struct job *jobs;	/* the batch: BATCH_MAX */
	size_t njobs;
	char *decisions_topic;
	int decisions_partitions;
	gx_map_t *chains;	/* "topic/partition" -> struct chain */
	gx_signer_t *signer;
	gx_sealcheck_t *verifier;	/* seals (gx_proof.h): lane 0's */
	gx_hmac_key_t *hkey;	/* keyed by the subject secret */
	/* metrics (gx_metrics.h): families, and handles for the hot path */
	gx_metrics_t *reg;
	gx_metric_t *m_in, *m_released, *m_withheld, *m_denied, *m_refused,
	    *m_commits, *m_aborts, *m_latency, *m_commit_time, *m_last, *m_period, *m_lag,
	    *m_conslag, *m_sealfail, *m_seals;
	/* consumer lag: the scrape hook's own scanner and last reading */
	gx_scan_t *lag_scan;
	int64_t lag_read_at;	/* monotonic ms, 0: never */
	int lag_failing;
	gx_metric_child_t *c_commits, *c_aborts, *c_latency, *c_commit_time;
	unsigned char secret[GX_SECRET_MAX];
	size_t secret_len;
	int running;		/* past start-up catch-up */
	int in_txn;
	int txn_failed;		/* a produce in this transaction failed */
	int topics_retry;	/* check delivery topics again (catalogue
				 * changed, a transaction was discarded) */
	long txn_records;
	int64_t txn_started;
	int64_t txn_first_record;	/* when its first record was released */
	/* counters */
	long records_in, released, withheld, refused, txn_commits, txn_aborts;
	int64_t commit_ms;	/* time spent committing (sending offsets and
				 * committing, Kafka's acknowledgements included) */
};

/* The decision chain of one ingest partition (see gx_decision.h). */
struct chain {
	char name[128];		/* "<library>/<partition>" */
	int partition;		/* decisions partition it is written to */
	int64_t seq;
	char head[GX_HASH_HEX];
	int64_t signed_seq;	/* last checkpointed seq */
};

static struct chain *chain_get(struct broker *b, const char *topic, int part)
{
	char k[300];
	snprintf(k, sizeof(k), "%s/%d", topic, part);
	struct chain *c = gx_map_get(b->chains, k);
	if (!c) {
		c = gx_calloc(1, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s/%d",
			 topic + strlen(b->ingest_prefix), part);
		c->partition = part % (b->decisions_partitions > 0
					   ? b->decisions_partitions : 1);
		memcpy(c->head, GX_CHAIN_GENESIS, GX_HASH_HEX);
		gx_map_put(b->chains, k, c);
	}
	return c;
}

/* Take chain heads from committed offset metadata: what was committed is
 * exactly what the decisions topic holds. */
static void chains_from_committed(struct broker *b,
				  const rd_kafka_topic_partition_list_t *parts)
{
	for (int i = 0; i < parts->cnt; i++) {
		const rd_kafka_topic_partition_t *p = &parts->elems[i];
		struct chain *c = chain_get(b, p->topic, p->partition);
		if (gx_chain_head_parse(p->metadata, p->metadata_size, &c->seq,
					c->head)) {
			if (p->offset >= 0) {
				/* Committed by something else (a reset, another
				 * tool): restarting at genesis would fork the
				 * chain unnoticed. */
				gx_log(GX_LOG_ERROR, "chain_head_missing",
				       "topic=%s partition=%d offset=%lld action=stop",
				       p->topic, p->partition, (long long)p->offset);
				stop = 2;
			}
			c->seq = 0;
			memcpy(c->head, GX_CHAIN_GENESIS, GX_HASH_HEX);
		}
		c->signed_seq = c->seq;
	}
}

/* Register the broker's metric families (names as in deploy/prometheus). */
static gx_err_t metrics_setup(struct broker *b, char *err, size_t errsz)
{
	gx_metrics_t *r = b->reg;
	gx_err_t e;
	gx_metric_t *build;
	if ((e = gx_metrics_counter(r, "govex_records_in_total",
				    "Ingest records read, by library", "library",
				    &b->m_in, err, errsz)) ||
	    (e = gx_metrics_counter(r, "govex_records_released_total",
				    "Records released, by consumer and library",
				    "consumer,library", &b->m_released, err, errsz)) ||
	    (e = gx_metrics_counter(r, "govex_records_withheld_total",
				    "Records released to no one, by library and reason",
				    "library,reason", &b->m_withheld, err, errsz)) ||
	    (e = gx_metrics_counter(r, "govex_records_denied_total",
				    "Per-consumer decisions that released nothing, by reason",
				    "reason", &b->m_denied, err, errsz)) ||
	    (e = gx_metrics_counter(r, "govex_ingest_refused_total",
				    "Ingest records refused by the broker, by reason",
				    "reason", &b->m_refused, err, errsz)) ||
	    (e = gx_metrics_counter(r, "govex_txn_commits_total",
				    "Transactions committed", NULL, &b->m_commits, err,
				    errsz)) ||
	    (e = gx_metrics_counter(r, "govex_txn_aborts_total",
				    "Transactions aborted", NULL, &b->m_aborts, err,
				    errsz)) ||
	    (e = gx_metrics_histogram(r, "govex_release_latency_seconds",
				      "From collected at to released at",
				      NULL, gx_metrics_latency_buckets,
				      gx_metrics_latency_nbuckets, &b->m_latency,
				      err, errsz)) ||
	    (e = gx_metrics_histogram(r, "govex_txn_commit_seconds",
				      "Time to commit a transaction (sending its offsets "
				      "and committing, Kafka's acknowledgements included)",
				      NULL, gx_metrics_latency_buckets,
				      gx_metrics_latency_nbuckets, &b->m_commit_time,
				      err, errsz)) ||
	    (e = gx_metrics_gauge(r, "govex_provider_last_record_timestamp_seconds",
				  "When the newest record of each item was collected",
				  "provider,item", &b->m_last, err, errsz)) ||
	    (e = gx_metrics_gauge(r, "govex_item_update_period_seconds",
				  "Each catalogue item's promised update period (art. 11)",
				  "item", &b->m_period, err, errsz)) ||
	    (e = gx_metrics_gauge(r, "govex_broker_lag_records",
				  "Ingest records not yet processed by this instance",
				  "topic,partition", &b->m_lag, err, errsz)) ||
	    (e = gx_metrics_gauge(r, "govex_consumer_lag_records",
				  "Records delivered to a consumer agency and not yet "
				  "read by its consumer group (the most behind group "
				  "when several read the topic)",
				  "consumer,topic", &b->m_conslag, err, errsz)) ||
	    (e = gx_metrics_counter(r, "govex_seal_failures_total",
				    "Ingest records whose seal did not verify, by "
				    "provider and reason (refused, released to no one)",
				    "provider,reason", &b->m_sealfail, err, errsz)) ||
	    (e = gx_metrics_counter(r, "govex_seals_verified_total",
				    "Seal signatures checked (each batch once per "
				    "broker thread; its other records hit that "
				    "thread's cache)", NULL, &b->m_seals,
				    err, errsz)) ||
	    (e = gx_metrics_gauge(r, "govex_build_info", "Build of this program",
				  "version", &build, err, errsz)))
		return e;
	gx_metric_set(build, 1, GX_VERSION);
	b->c_commits = gx_metric_child(b->m_commits);
	b->c_aborts = gx_metric_child(b->m_aborts);
	b->c_latency = gx_metric_child(b->m_latency);
	b->c_commit_time = gx_metric_child(b->m_commit_time);
	return GX_OK;
}

/* Scrape hook: this instance's lag per assigned ingest partition, from
 * positions and cached high watermarks (no broker round trip). */
static void lag_hook(gx_metrics_t *reg, void *opaque)
{
	struct broker *b = opaque;
	rd_kafka_topic_partition_list_t *parts;
	(void)reg;
	gx_metric_clear(b->m_lag);
	if (!b->consumer || rd_kafka_assignment(b->consumer, &parts))
		return;
	rd_kafka_position(b->consumer, parts);
	for (int i = 0; i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *p = &parts->elems[i];
		int64_t lo, hi;
		if (rd_kafka_get_watermark_offsets(b->consumer, p->topic, p->partition,
						   &lo, &hi))
			continue;
		char part[16];
		snprintf(part, sizeof(part), "%d", p->partition);
		double lag = p->offset >= 0 ? (double)(hi - p->offset) : (double)(hi - lo);
		gx_metric_set(b->m_lag, lag < 0 ? 0 : lag, p->topic, part);
	}
	rd_kafka_topic_partition_list_destroy(parts);
}

/*
 * Scrape hook: each consumer agency's lag per delivery topic, read through
 * the admin API (gx_lag.h) at most every metrics.lag.refresh and within
 * metrics.lag.timeout, so rapid scrapes do not hammer Kafka and a slow
 * Kafka does not outlast Prometheus' scrape timeout. A failed or partial
 * reading keeps the values it could not renew.
 */
static void consumer_lag_hook(gx_metrics_t *reg, void *opaque)
{
	struct broker *b = opaque;
	char err[512], q[600];
	(void)reg;
	if (b->lag_read_at && gx_mono_ms() - b->lag_read_at < b->bc->lag_refresh_ms)
		return;
	b->lag_read_at = gx_mono_ms();
	if (!b->lag_scan &&
	    gx_scan_new(b->conf, b->bc->brokers, &b->lag_scan, err, sizeof(err))) {
		gx_log(GX_LOG_WARN, "consumer_lag_unavailable", "error=%s",
		       gx_log_quote(err, q, sizeof(q)));
		return;
	}
	gx_lag_t *l = NULL;
	int64_t t0 = gx_mono_ms();
	if (gx_lag_read(b->lag_scan, b->bc->prefix, 0, (int)b->bc->lag_timeout_ms, &l,
			err, sizeof(err))) {
		if (!b->lag_failing)
			gx_log(GX_LOG_WARN, "consumer_lag_unavailable", "error=%s",
			       gx_log_quote(err, q, sizeof(q)));
		b->lag_failing = 1;
		return;
	}
	if (b->lag_failing || !l->complete)
		gx_log(l->complete ? GX_LOG_INFO : GX_LOG_WARN, "consumer_lag_read",
		       "complete=%d topics=%zu ms=%lld", l->complete, l->ndelivery,
		       (long long)(gx_mono_ms() - t0));
	b->lag_failing = 0;
	if (l->complete)
		gx_metric_clear(b->m_conslag);
	for (size_t i = 0; i < l->ndelivery; i++) {
		const gx_lag_row_t *r = &l->delivery[i];
		if (r->worst)
			gx_metric_set(b->m_conslag, (double)r->lag, r->consumer, r->topic);
	}
	gx_lag_destroy(l);
}

/*
 * Seed govex_provider_last_record_timestamp_seconds from the newest record
 * of each catalogue item on the ingest topics, so a provider that went
 * quiet before this instance started still shows as late.
 */
static void seed_last_records(struct broker *b)
{
	char err[512], q[600];
	gx_scan_t *s = NULL;
	gx_newest_t *nw = NULL;
	size_t n = 0;
	int complete = 0;
	int64_t t0 = gx_mono_ms();
	if (b->bc->newest_scan <= 0)
		return;
	if (gx_scan_new(b->conf, b->bc->brokers, &s, err, sizeof(err)) ||
	    gx_ingest_newest(s, b->bc->prefix, b->schemas, b->cat,
			     (long)b->bc->newest_scan, 15000, &nw, &n, &complete, err,
			     sizeof(err))) {
		gx_log(GX_LOG_WARN, "newest_records_unavailable", "error=%s",
		       gx_log_quote(err, q, sizeof(q)));
		gx_scan_destroy(s);
		return;
	}
	for (size_t i = 0; i < n; i++)
		gx_metric_set(b->m_last, nw[i].collected_at / 1000.0, nw[i].provider,
			      nw[i].item);
	gx_log(GX_LOG_INFO, "newest_records_read", "items=%zu complete=%d ms=%lld", n,
	       complete, (long long)(gx_mono_ms() - t0));
	gx_newest_free(nw, n);
	gx_scan_destroy(s);
}

static int ready(void *opaque, char *reason, size_t n)
{
	struct broker *b = opaque;
	if (!b->running) {
		snprintf(reason, n, "loading catalogue and approvals");
		return 0;
	}
	return 1;
}

static int on_catalog(void *opaque, const rd_kafka_message_t *m)
{
	struct broker *b = opaque;
	char err[512];
	char *key = gx_strndup(m->key ? m->key : "", m->key_len);
	if (gx_catalog_apply(b->cat, key, m->payload, m->len, m->offset, err,
			     sizeof(err)))
		gx_log(GX_LOG_WARN, "catalog_item_refused", "offset=%lld error=\"%s\"",
		       (long long)m->offset, err);
	else {
		const gx_cat_item_t *it = gx_catalog_get(b->cat, key);
		if (it && gx_period_seconds(it->update_period) > 0)
			gx_metric_set(b->m_period, gx_period_seconds(it->update_period), key);
		gx_log(GX_LOG_DEBUG, "catalog_item", "item=%s offset=%lld", key,
		       (long long)m->offset);
		b->topics_retry = 1; /* a grant's item may have arrived */
	}
	free(key);
	return 0;
}

static int on_approval(void *opaque, const rd_kafka_message_t *m)
{
	struct broker *b = opaque;
	char err[512];
	if (gx_approvals_apply(b->ap, m->payload, m->len, m->offset, err,
			       sizeof(err))) {
		gx_log(GX_LOG_WARN, "approval_event_refused", "offset=%lld error=\"%s\"",
		       (long long)m->offset, err);
		return 0;
	}
	/* How long a revocation took to take effect here: from the provider's
	 * command to the moment every later record is evaluated under it. */
	if (b->running && m->len > 10 && memmem(m->payload, m->len, "\"revoke\"", 8)) {
		json_t *e = json_loadb(m->payload, m->len, 0, NULL);
		json_t *at = json_object_get(e, "at");
		gx_log(GX_LOG_INFO, "revocation_applied", "grant_id=%s lag_ms=%lld",
		       json_string_value(json_object_get(e, "grant_id")) ?: "?",
		       (long long)(gx_now_ms() - json_integer_value(at)));
		json_decref(e);
	}
	return 0;
}

/* Make sure every grant's delivery topic exists (the exchange runs with
 * topic auto-creation off). */
static void ensure_delivery_topics(struct broker *b)
{
	char err[512];
	size_t it = 0;
	const gx_grant_t *g;
	while ((g = gx_approvals_next_grant(b->ap, &it))) {
		const gx_cat_item_t *item = gx_catalog_get(b->cat, g->item);
		if (!item)
			continue;
		char *t = gx_topic_deliver(b->bc->prefix, g->consumer,
					   item->library);
		if (!gx_map_get(b->topics_ready, t)) {
			gx_topic_spec_t spec = {t, (int)b->bc->deliver_partitions,
						(int)b->bc->deliver_replication,
						NULL};
			int created = 0;
			if (gx_kafka_create_topics(b->producer, &spec, 1, 15000,
						   &created, err, sizeof(err)))
				gx_log(GX_LOG_ERROR, "topic_create_failed",
				       "topic=%s error=\"%s\"", t, err);
			else {
				gx_map_put(b->topics_ready, t, (void *)1);
				if (created)
					gx_log(GX_LOG_INFO, "topic_created",
					       "topic=%s", t);
			}
		}
		free(t);
	}
}

static void produce(struct broker *b, const char *topic, const void *key,
		    size_t klen, const void *val, size_t vlen)
{
	rd_kafka_resp_err_t e =
	    gx_kafka_produce(b->producer, topic, key, klen, val, vlen);
	if (e) {
		/* Never commit a transaction with a hole in it: abort, rewind
		 * and process the records again. */
		gx_log(GX_LOG_ERROR, "produce_failed", "topic=%s error=%s", topic,
		       rd_kafka_err2str(e));
		b->txn_failed = 1;
	}
}

/* Refuse a record: released to no one, written to <prefix>.rejected. */
static void reject(struct broker *b, const rd_kafka_message_t *m,
		   const char *reason, const char *detail,
		   const gx_envelope_t *env)
{
	char src[300], q[700];
	snprintf(src, sizeof(src), "%s/%d/%lld", rd_kafka_topic_name(m->rkt),
		 m->partition, (long long)m->offset);
	b->refused++;
	gx_metric_inc(b->m_refused, reason);
	gx_log(GX_LOG_WARN, "record_refused", "source=%s reason=%s detail=%s",
	       src, reason, gx_log_quote(detail, q, sizeof(q)));
	json_t *j = gx_rejected_json("govex-broker", reason, detail, src,
				     env ? env->provider : NULL,
				     env ? env->item : NULL,
				     env ? env->record_id : NULL, gx_now_ms());
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	produce(b, b->rejected_topic, src, strlen(src), s, strlen(s));
	free(s);
}


/*
 * The release path, in two parts (gx_pool.h). prepare() does what depends
 * on the record alone - schema, envelope, seal, policy, projection and
 * encoding, the decision entries - on every thread of the pool at once,
 * each thread with its own Avro values and seal checker (Avro C here is not
 * thread-safe). release() then takes the records in the order they were
 * read, on the main thread: metrics, refusals, deliveries and the decision
 * chained to its partition's head. The catalogue and approvals change only
 * between batches (main loop), so every record of a batch is decided on
 * one state, the one its decision message names. (Avro C keeps its error
 * text in one static buffer: when two threads refuse malformed records at
 * once, a refusal's detail may be the other's; its reason code is exact.)
 */

/* What one thread works with. */
struct lane {
	avro_value_t *ingest_vals;	/* per library */
	gx_sealcheck_t *verifier;
	gx_record_proof_t proof;	/* the record being prepared */
	gx_buf_t buf;			/* encoding scratch */
	gx_decision_entry_t *ents;	/* decision entries scratch */
	const char **names;		/* their released field names */
	size_t ents_cap, names_cap;
};

/* One delivery of a prepared record; key and value in job->data. */
struct delivery {
	size_t d;		/* its decision, in job->best */
	size_t key_off, key_len, val_off, val_len;
};

/* One ingest record between prepare() and release(). */
struct job {
	rd_kafka_message_t *m;
	const char *reason;	/* refused: the reason code */
	char detail[512];	/* and why */
	int seal_failure;	/* the reason is a seal's */
	uint64_t seals_checked;	/* seals verified preparing it */
	const gx_library_t *lib;
	const gx_cat_item_t *item;
	char *record_id, *provider, *item_id;	/* copies, once decoded */
	int64_t collected_at, now;
	gx_decision_t *best;	/* one per consumer with grants in play */
	size_t best_cap, nbest, nreleased;
	char **failed;		/* per decision: why its projection failed,
				 * or NULL */
	struct delivery *dl;
	size_t ndl, dl_cap;
	gx_buf_t data;		/* delivery keys and values, then entries */
	size_t entries_off, entries_len;
	char subject[GX_HASH_HEX];
};

/* The largest batch the pool gets at once. */
#define BATCH_MAX 256
/* Bytes of deliveries a batch slot keeps between records. */
#define JOB_KEEP (256 * 1024)

static void job_clear(struct job *j)
{
	free(j->record_id);
	free(j->provider);
	free(j->item_id);
	j->record_id = j->provider = j->item_id = NULL;
	for (size_t k = 0; k < j->nbest; k++) {
		free(j->failed[k]);
		j->failed[k] = NULL;
	}
	j->reason = NULL;
	j->detail[0] = '\0';
	j->seal_failure = 0;
	j->seals_checked = 0;
	j->lib = NULL;
	j->item = NULL;
	j->nbest = j->nreleased = j->ndl = 0;
	j->entries_off = j->entries_len = 0;
	if (j->data.cap > JOB_KEEP)
		gx_buf_free(&j->data); /* one huge record does not pin memory */
	gx_buf_reset(&j->data);
}

/* Drop the collected, unreleased records: they are read again (a rewind,
 * an abort) or are no longer ours (revoked partitions). */
static void batch_discard(struct broker *b)
{
	gx_pool_wait(b->pool); /* a batch being prepared while committing */
	for (size_t i = 0; i < b->njobs; i++) {
		rd_kafka_message_destroy(b->jobs[i].m);
		b->jobs[i].m = NULL;
	}
	b->njobs = 0;
}

static void job_refuse(struct job *j, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void job_refuse(struct job *j, const char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
	va_end(ap);
	j->reason = reason;
}

/* prepare() for item i of the batch, on thread t (gx_pool_fn). */
static void prepare(void *ctx, size_t t, size_t i)
{
	struct broker *b = ctx;
	struct lane *ln = &b->lanes[t];
	struct job *j = &b->jobs[i];
	const rd_kafka_message_t *m = j->m;
	char err[512];
	job_clear(j);
	const char *topic = rd_kafka_topic_name(m->rkt);
	const gx_library_t *lib =
	    gx_schemas_library(b->schemas, topic + strlen(b->ingest_prefix));
	if (!lib) {
		job_refuse(j, "unknown_library", "no such base library");
		return;
	}
	size_t li = 0;
	while (gx_schemas_at(b->schemas, li) != lib)
		li++;
	j->lib = lib;
	uint64_t fp;
	if (!m->payload ||
	    gx_avro_so_fingerprint(m->payload, m->len, &fp, err, sizeof(err))) {
		job_refuse(j, "not_single_object", "%s",
			   m->payload ? err : "empty value");
		return;
	}
	if (fp != lib->ingest_fp) {
		job_refuse(j, "unknown_schema",
			   "schema fingerprint %016llx is not %s's ingest schema",
			   (unsigned long long)fp, lib->name);
		return;
	}
	avro_value_t *ing = &ln->ingest_vals[li];
	avro_value_reset(ing);
	gx_envelope_t env;
	if (gx_avro_so_decode(m->payload, m->len, ing, err, sizeof(err)) ||
	    gx_ingest_get(ing, &env, err, sizeof(err))) {
		job_refuse(j, "undecodable", "%s", err);
		return;
	}
	j->record_id = gx_strdup(env.record_id);
	j->provider = gx_strdup(env.provider);
	j->item_id = gx_strdup(env.item);
	j->collected_at = env.collected_at;
	const gx_cat_item_t *item = gx_catalog_get(b->cat, env.item);
	if (!item) {
		job_refuse(j, "unknown_item", "item is not in the catalogue");
		return;
	}
	if (strcmp(item->library, lib->name)) {
		job_refuse(j, "item_library_mismatch",
			   "the item belongs to another library");
		return;
	}
	if (strcmp(item->provider, env.provider)) {
		job_refuse(j, "provider_mismatch",
			   "the record's provider is not the item's provider");
		return;
	}
	j->item = item;
	/* The provider's seal (DESIGN Integrity): a record that does not
	 * verify is refused and released to no one. */
	const char *why;
	uint64_t checked = gx_sealcheck_seals_checked(ln->verifier);
	gx_err_t ve = gx_ingest_verify(ln->verifier, lib, ing, &env, &ln->proof,
				       &why, err, sizeof(err));
	j->seals_checked = gx_sealcheck_seals_checked(ln->verifier) - checked;
	if (ve) {
		j->seal_failure = 1;
		job_refuse(j, why, "%s", err);
		return;
	}
	/* The agency the producer says it writes as (its adapter's header;
	 * with mTLS its certificate's agency) must be the sealing agency. */
	rd_kafka_headers_t *hdrs = NULL;
	const void *hv;
	size_t hlen;
	if (!rd_kafka_message_headers(m, &hdrs) &&
	    !rd_kafka_header_get_last(hdrs, GX_AGENCY_HEADER, &hv, &hlen) &&
	    (!hv || hlen != strlen(env.provider) ||
	     memcmp(hv, env.provider, hlen))) {
		j->seal_failure = 1;
		job_refuse(j, "producer_mismatch", "written by agency %.*s but sealed by %s",
			   hv ? (int)(hlen < 64 ? hlen : 64) : 0,
			   hv ? (const char *)hv : "", env.provider);
		return;
	}

	/* One decision per consumer holding grants on the item (gx_policy_choose:
	 * the same choice replay makes). The index holds only grants in play,
	 * grouped by consumer, so the cost is the number of grants on this
	 * item, whatever the total. */
	int64_t now = j->now = gx_now_ms();
	size_t n;
	const gx_consumer_grants_t *const *cons =
	    gx_approvals_consumers_for_item(b->ap, item->id, &n);
	if (n > j->best_cap) {
		j->best_cap = n;
		j->best = gx_realloc(j->best, n * sizeof(*j->best));
		j->failed = gx_realloc(j->failed, n * sizeof(*j->failed));
	}
	for (size_t k = 0; k < n; k++) {
		if (!cons[k]->n)
			continue; /* every grant of this consumer was revoked */
		gx_policy_choose(item, cons[k]->grants, cons[k]->n, now,
				 &j->best[j->nbest]);
		j->failed[j->nbest] = NULL;
		j->nreleased += j->best[j->nbest].released != 0;
		j->nbest++;
	}
	avro_value_t payload;
	const char *key = NULL;
	size_t klen = 0;
	if (gx_record_payload(ing, &payload, err, sizeof(err)) ||
	    gx_record_subject(lib, &payload, &key, &klen, err, sizeof(err))) {
		job_refuse(j, "undecodable", "%s", err);
		return;
	}
	if (!j->nbest)
		return; /* no grant in play: nothing to decide, nothing to log */

	/* Deliveries are written directly from the payload's field bytes
	 * that verification hashed (gx_delivery_encode: the same bytes as
	 * projecting into an Avro value and encoding it, at a fraction of
	 * the cost). */
	for (size_t k = 0; k < j->nbest; k++) {
		gx_decision_t *d = &j->best[k];
		if (!d->released)
			continue;
		gx_buf_reset(&ln->buf);
		if (gx_delivery_encode(lib, &env, ln->proof.fields, d->released,
				       d->grant, now, &ln->proof, &ln->buf, err,
				       sizeof(err))) {
			/* Withhold on any error, and say so (release logs it). */
			j->failed[k] = gx_strdup(err);
			d->verdict = GX_VERDICT_WITHHELD;
			d->reason = "projection_failed";
			d->released = 0;
			j->nreleased--;
			continue;
		}
		if (j->ndl == j->dl_cap) {
			j->dl_cap = j->dl_cap ? 2 * j->dl_cap : 4;
			j->dl = gx_realloc(j->dl, j->dl_cap * sizeof(*j->dl));
		}
		struct delivery *o = &j->dl[j->ndl++];
		char dkey[300];
		size_t dklen;
		gx_delivery_key_k(lib, d->released, d->grant->consumer, key, klen,
				  b->hkey, dkey, sizeof(dkey), &dklen);
		o->d = k;
		o->key_off = j->data.len;
		o->key_len = dklen;
		gx_buf_append(&j->data, dkey, dklen);
		o->val_off = j->data.len;
		o->val_len = ln->buf.len;
		gx_buf_append(&j->data, ln->buf.data, ln->buf.len);
	}

	/* The decision entries, in the decision log's canonical text. */
	size_t nnames = 0;
	for (size_t k = 0; k < j->nbest; k++)
		nnames += (size_t)__builtin_popcountll(j->best[k].released);
	if (j->nbest > ln->ents_cap) {
		ln->ents_cap = j->nbest;
		ln->ents = gx_realloc(ln->ents, ln->ents_cap * sizeof(*ln->ents));
	}
	if (nnames > ln->names_cap || !ln->names) {
		ln->names_cap = nnames > 64 ? nnames : 64;
		ln->names = gx_realloc(ln->names, ln->names_cap * sizeof(*ln->names));
	}
	const char **nm = ln->names;
	for (size_t k = 0; k < j->nbest; k++) {
		const gx_decision_t *d = &j->best[k];
		gx_decision_entry_t *e = &ln->ents[k];
		e->consumer = d->grant->consumer;
		e->verdict = gx_verdict_name(d->verdict);
		e->reason = d->reason;
		e->grant_id = d->grant->id;
		e->purpose = d->grant->purpose;
		e->released = nm;
		e->nreleased = 0;
		for (size_t f = 0; f < lib->nfields; f++)
			if ((d->released >> f) & 1)
				nm[e->nreleased++] = lib->fields[f].name;
		nm += e->nreleased;
	}
	j->entries_off = j->data.len;
	if (gx_decision_entries_text(&j->data, ln->ents, j->nbest)) {
		job_refuse(j, "undecodable",
			   "a grant of the item holds text that is not UTF-8");
		return;
	}
	j->entries_len = j->data.len - j->entries_off;
	gx_decision_subject_k(b->hkey, key, klen, j->subject);
}

/* release() of one prepared record, in the order records were read. */
static void release(struct broker *b, struct job *j)
{
	const rd_kafka_message_t *m = j->m;
	const char *mtopic = rd_kafka_topic_name(m->rkt);
	b->records_in++;
	if (j->seals_checked)
		gx_counter_add(gx_metric_child(b->m_seals), j->seals_checked);
	gx_envelope_t env = {.record_id = j->record_id, .provider = j->provider,
			     .item = j->item_id};
	if (j->reason) {
		if (j->seal_failure)
			gx_metric_inc(b->m_sealfail, j->provider, j->reason);
		reject(b, m, j->reason, j->detail, j->record_id ? &env : NULL);
		return;
	}
	const gx_library_t *lib = j->lib;
	/* The decision message, chained to its ingest partition's head and
	 * written in the same transaction as the deliveries. Made first: a
	 * record whose decision cannot be written is refused, released to
	 * no one. */
	struct chain *c = NULL;
	char *v = NULL, hash[GX_HASH_HEX];
	if (j->nbest) {
		c = chain_get(b, mtopic, m->partition);
		char ingest[300];
		snprintf(ingest, sizeof(ingest), "%s/%d/%lld", mtopic, m->partition,
			 (long long)m->offset);
		gx_decision_head_t h = {
		    .chain = c->name, .prev = c->head, .record_id = j->record_id,
		    .subject = j->subject, .library = lib->name, .item = j->item->id,
		    .provider = j->provider, .ingest = ingest, .seq = c->seq + 1,
		    .at = j->now, .catalog_offset = j->item->offset,
		    .approvals_offset = gx_approvals_offset(b->ap)};
		v = gx_decision_write(&h, (const char *)j->data.data + j->entries_off,
				      j->entries_len, hash);
		if (!v) {
			reject(b, m, "undecodable", "the record id is not UTF-8", &env);
			return;
		}
	}
	gx_metric_inc(b->m_in, lib->name);
	/* The newest record: records read late (a rebalance, a rewind) must
	 * not move it back. */
	gx_metric_child_t *last = gx_metric_child(b->m_last, j->provider, j->item->id);
	if (j->collected_at / 1000.0 > gx_gauge_value(last))
		gx_gauge_set(last, j->collected_at / 1000.0);
	if (!j->nreleased) {
		b->withheld++;
		gx_metric_inc(b->m_withheld, lib->name, j->nbest ? "no_release" : "no_grant");
	}
	if (!j->nbest)
		return;
	for (size_t k = 0; k < j->nbest; k++)
		if (j->failed[k])
			gx_log(GX_LOG_ERROR, "projection_failed",
			       "record_id=%s consumer=%s error=\"%s\"", j->record_id,
			       j->best[k].grant->consumer, j->failed[k]);
	for (size_t k = 0; k < j->ndl; k++) {
		const struct delivery *o = &j->dl[k];
		const gx_decision_t *d = &j->best[o->d];
		char *t = gx_topic_deliver(b->bc->prefix, d->grant->consumer, lib->name);
		produce(b, t, (const char *)j->data.data + o->key_off, o->key_len,
			(const char *)j->data.data + o->val_off, o->val_len);
		free(t);
		b->released++;
		gx_metric_inc(b->m_released, d->grant->consumer, lib->name);
		gx_histogram_observe(b->c_latency, (j->now - j->collected_at) / 1000.0);
	}
	for (size_t k = 0; k < j->nbest; k++)
		if (!j->best[k].released)
			gx_metric_inc(b->m_denied, j->best[k].reason);

	rd_kafka_resp_err_t e;
	/* A full queue (Kafka slow or away) is waited out, as for the
	 * deliveries (gx_kafka_produce), not turned into an abort. */
	while ((e = rd_kafka_producev(
		    b->producer, RD_KAFKA_V_TOPIC(b->decisions_topic),
		    RD_KAFKA_V_PARTITION(c->partition),
		    RD_KAFKA_V_KEY((void *)j->record_id, strlen(j->record_id)),
		    RD_KAFKA_V_VALUE(v, strlen(v)),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END)) ==
	       RD_KAFKA_RESP_ERR__QUEUE_FULL)
		rd_kafka_poll(b->producer, 100);
	if (e) {
		free(v);
		gx_log(GX_LOG_ERROR, "produce_failed", "topic=%s error=%s",
		       b->decisions_topic, rd_kafka_err2str(e));
		b->txn_failed = 1;
		return;
	}
	c->seq++;
	memcpy(c->head, hash, GX_HASH_HEX);
}

static int begin_txn(struct broker *b);

/* Release the collected records: prepared on every thread, then released
 * in order in the open transaction (one is begun). Returns 0; 1 when the
 * records were dropped because the producer was rebuilt and the consumer
 * rewound (they are read again); -1 when stopping. */
static int run_batch(struct broker *b)
{
	if (!b->njobs)
		return 0;
	int bt = begin_txn(b);
	if (bt) {
		batch_discard(b);
		return bt;
	}
	if (gx_pool_running(b->pool))
		gx_pool_wait(b->pool); /* started while committing */
	else
		gx_pool_run(b->pool, b->njobs, prepare, b);
	if (b->njobs && !b->txn_records)
		b->txn_first_record = gx_mono_ms(); /* the linger counts from here */
	for (size_t i = 0; i < b->njobs; i++) {
		release(b, &b->jobs[i]);
		b->txn_records++;
	}
	batch_discard(b);
	return 0;
}

static int fatal_txn(rd_kafka_error_t *e, const char *what);
static int rebuild_producer(struct broker *b, const char *step);

/* The open transaction is gone (aborted, or its producer replaced): count
 * it, and let expire events written in it be written again (note_expiries)
 * unless the log has them already. */
static void txn_discarded(struct broker *b)
{
	b->txn_aborts++;
	gx_counter_inc(b->c_aborts);
	size_t it = 0;
	const gx_grant_t *g;
	while ((g = gx_approvals_next_grant(b->ap, &it)))
		if (g->expired_noted && !g->expire_read)
			((gx_grant_t *)g)->expired_noted = 0;
	b->topics_retry = 1; /* a missing delivery topic may be why */
}

/* Open a transaction if none is open. Returns 0 when one is open; 1 when
 * one is open but only after the producer was rebuilt and the consumer
 * rewound to its committed offsets (a message in hand must be dropped: it
 * is read again); -1 when the broker must stop. */
static int begin_txn(struct broker *b)
{
	if (b->in_txn)
		return 0;
	if (!b->producer || stop == 2)
		return -1; /* a failed rebuild: stopping */
	int rebuilt = 0;
	rd_kafka_error_t *e;
	while ((e = rd_kafka_begin_transaction(b->producer))) {
		/* It fails only on a fatal error or a state that is not ours to
		 * mend: both are treated as fatal, as librdkafka advises for
		 * errors neither retriable nor abortable. */
		fatal_txn(e, "begin");
		if (rebuilt || rebuild_producer(b, "begin")) {
			stop = 2;
			return -1;
		}
		rebuilt = 1;
	}
	b->in_txn = 1;
	b->txn_failed = 0;
	b->txn_records = 0;
	b->txn_started = gx_mono_ms();
	return rebuilt;
}

/*
 * Record, once, that grants reached their end dates (art. 13: grants end by
 * expiry). The end date itself already stopped releases; the event is the
 * audit trail. Written in the open transaction (one is begun if needed).
 */
static void note_expiries(struct broker *b)
{
	int64_t now = gx_now_ms();
	size_t it = 0;
	const gx_grant_t *g;
	while ((g = gx_approvals_next_grant(b->ap, &it))) {
		if (g->revoked || g->expired_noted || !g->until_ms || now < g->until_ms)
			continue;
		if (begin_txn(b))
			return;
		json_t *ev = gx_event_expire(g->request_id, g->id, now);
		char *v = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
		produce(b, b->approvals_topic, g->request_id, strlen(g->request_id),
			v, strlen(v));
		free(v);
		/* Not again from this instance, even before it reads the event. */
		((gx_grant_t *)g)->expired_noted = 1;
		gx_log(GX_LOG_INFO, "grant_expired", "grant_id=%s consumer=%s item=%s",
		       g->id, g->consumer, g->item);
	}
}

/* Sign the head of every chain that advanced since its last checkpoint,
 * in the open transaction. */
static void checkpoint_chains(struct broker *b)
{
	size_t it = 0;
	void *v;
	while (gx_map_next(b->chains, &it, NULL, &v)) {
		struct chain *c = v;
		if (c->seq == c->signed_seq)
			continue;
		if (begin_txn(b))
			return;
		json_t *cp = gx_checkpoint_new(b->signer, c->name, c->seq, c->head,
					       gx_now_ms());
		char *val = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(cp);
		char key[160];
		snprintf(key, sizeof(key), "checkpoint/%s", c->name);
		rd_kafka_resp_err_t e;
		while ((e = rd_kafka_producev(
			    b->producer, RD_KAFKA_V_TOPIC(b->decisions_topic),
			    RD_KAFKA_V_PARTITION(c->partition),
			    RD_KAFKA_V_KEY(key, strlen(key)),
			    RD_KAFKA_V_VALUE(val, strlen(val)),
			    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
			    RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(b->producer, 100);
		if (e) {
			free(val);
			b->txn_failed = 1;
			return;
		}
		c->signed_seq = c->seq;
	}
}

/*
 * Transactions and rebalances, by librdkafka's rules (rdkafka.h,
 * "Transactional producer API"): a retriable error is retried (the same
 * offsets and group metadata for send_offsets_to_transaction); an abortable
 * one aborts the transaction and rewinds the consumer to its committed
 * offsets, and the decision chains to the heads committed with them, so the
 * aborted records are decided again; a fatal one (or one that is none of the
 * three) rebuilds the producer, see rebuild_producer. Retriable errors are
 * retried for up to TXN_RETRY_MS, so a Kafka that is down for a while is
 * waited for; the transaction itself ends at Kafka's transaction.timeout.ms
 * (60 s) and is then aborted and done again.
 */
#define TXN_RETRY_MS 120000
#define MAX_REBUILDS 3		/* producer rebuilds in REBUILD_WINDOW_MS */
#define REBUILD_WINDOW_MS 600000

/* Set while every partition is being revoked (eager rebalance, rebalance
 * error): an abort then needs no rewind, the next assignment starts each
 * partition from what was committed anyway. */
static int revoking_all;

static int cooperative(rd_kafka_t *rk)
{
	const char *p = rd_kafka_rebalance_protocol(rk);
	return p && !strcmp(p, "COOPERATIVE");
}

/* Pause ms milliseconds, serving the producer's events meanwhile. */
static void txn_pause(struct broker *b, int ms)
{
	if (b->producer)
		rd_kafka_poll(b->producer, ms);
}

/* The committed offsets (and chain heads) of parts; the first error, a
 * partition's own included. */
static rd_kafka_resp_err_t committed_all(rd_kafka_t *rk,
					 rd_kafka_topic_partition_list_t *parts,
					 int timeout_ms)
{
	rd_kafka_resp_err_t ke = rd_kafka_committed(rk, parts, timeout_ms);
	for (int i = 0; !ke && i < parts->cnt; i++)
		ke = parts->elems[i].err;
	return ke;
}

/*
 * Rewind the consumer to its committed offsets after an aborted
 * transaction, and the decision chains to the heads committed with them.
 * Nothing may be decided before that is known, so while Kafka cannot say
 * what was committed this waits, asking again every few seconds. Returns 0,
 * or -1 when stopping (stop set, by a signal or here).
 */
static int rewind_to_committed(struct broker *b)
{
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_resp_err_t ke;
	if (revoking_all)
		return 0;
	if ((ke = rd_kafka_assignment(b->consumer, &parts))) {
		gx_log(GX_LOG_ERROR, "rewind_failed", "error=\"%s\" action=stop",
		       rd_kafka_err2str(ke));
		stop = 2;
		return -1;
	}
	int64_t t0 = gx_mono_ms();
	while (parts->cnt && (ke = committed_all(b->consumer, parts, 10000))) {
		gx_log(GX_LOG_WARN, "committed_offsets_unavailable",
		       "error=\"%s\" waited_ms=%lld action=retry", rd_kafka_err2str(ke),
		       (long long)(gx_mono_ms() - t0));
		if (stop) {
			/* Not rewound: the exit must not commit these
			 * positions and chain heads (main's stop == 2 path). */
			rd_kafka_topic_partition_list_destroy(parts);
			stop = 2;
			return -1;
		}
		txn_pause(b, 1000);
	}
	if (!parts->cnt) {
		rd_kafka_topic_partition_list_destroy(parts);
		return 0;
	}
	/* The aborted decisions never happened: chains go back too. */
	chains_from_committed(b, parts);
	for (int i = 0; i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *p = &parts->elems[i];
		if (p->offset < 0)
			p->offset = RD_KAFKA_OFFSET_BEGINNING;
	}
	/* With a timeout, seek waits until no message fetched from the old
	 * position can still be returned (rdkafka.h), and sets the position
	 * commit_txn sends to the offset sought. */
	rd_kafka_error_t *se = rd_kafka_seek_partitions(b->consumer, parts, 10000);
	const char *why = se ? rd_kafka_error_string(se) : NULL;
	for (int i = 0; !why && i < parts->cnt; i++)
		if (parts->elems[i].err)
			why = rd_kafka_err2str(parts->elems[i].err);
	int rc = 0;
	if (why && !cooperative(b->consumer) &&
	    !(ke = rd_kafka_assign(b->consumer, parts))) {
		/* Eager: assigning again starts every partition afresh at
		 * the offsets given. */
		gx_log(GX_LOG_WARN, "seek_failed", "error=\"%s\" action=reassign", why);
	} else if (why) {
		gx_log(GX_LOG_ERROR, "rewind_failed", "error=\"%s\" action=stop", why);
		stop = 2;
		rc = -1;
	} else {
		gx_log(GX_LOG_INFO, "rewound", "partitions=%d", parts->cnt);
	}
	if (se)
		rd_kafka_error_destroy(se);
	rd_kafka_topic_partition_list_destroy(parts);
	return rc;
}

/* Log a transaction error and destroy it; returns 1 if it is fatal. */
static int fatal_txn(rd_kafka_error_t *e, const char *what)
{
	int fatal = rd_kafka_error_is_fatal(e);
	gx_log(GX_LOG_ERROR, "transaction_failed",
	       "step=%s error=\"%s\" fatal=%d abortable=%d retriable=%d", what,
	       rd_kafka_error_string(e), fatal, rd_kafka_error_txn_requires_abort(e),
	       rd_kafka_error_is_retriable(e));
	rd_kafka_error_destroy(e);
	return fatal;
}

/* After a retriable error of step: 1 (error destroyed, after a pause) if it
 * may be tried again, 0 if not (e kept for the caller). */
static int txn_retry(struct broker *b, rd_kafka_error_t *e, const char *step,
		     int64_t t0)
{
	if (!rd_kafka_error_is_retriable(e) || stop == 2 ||
	    gx_mono_ms() - t0 >= TXN_RETRY_MS)
		return 0;
	gx_log(GX_LOG_WARN, "transaction_retry", "step=%s error=\"%s\" waited_ms=%lld",
	       step, rd_kafka_error_string(e), (long long)(gx_mono_ms() - t0));
	rd_kafka_error_destroy(e);
	txn_pause(b, 200);
	return 1;
}

/*
 * Abort the open transaction (abortable error, failed produce, lost
 * partitions) and rewind. A retriable failure to abort is retried; if
 * aborting fails otherwise, a new producer's init_transactions aborts it
 * instead. Returns 0, or -1 when the broker must stop.
 */
static int abort_txn(struct broker *b)
{
	int64_t t0 = gx_mono_ms();
	rd_kafka_error_t *e;
	b->in_txn = 0;
	b->txn_failed = 0;
	batch_discard(b); /* read again after the rewind */
	txn_discarded(b);
	/* -1: the transaction's remaining time, as librdkafka recommends. */
	while ((e = rd_kafka_abort_transaction(b->producer, -1)))
		if (!txn_retry(b, e, "abort", t0)) {
			fatal_txn(e, "abort");
			return rebuild_producer(b, "abort");
		}
	return rewind_to_committed(b);
}

/* Commit the open transaction with the consumer's positions. Returns 0 on
 * success; -1 when it was not committed: aborted and rewound, or the
 * producer rebuilt (which rewinds too), or stop set. */
static int commit_txn(struct broker *b)
{
	if (!b->in_txn)
		return 0;
	if (b->txn_failed) {
		abort_txn(b);
		return -1;
	}
	rd_kafka_topic_partition_list_t *pos;
	rd_kafka_resp_err_t ke = rd_kafka_assignment(b->consumer, &pos);
	if (ke) {
		gx_log(GX_LOG_ERROR, "commit_failed", "error=\"%s\"", rd_kafka_err2str(ke));
		abort_txn(b);
		return -1;
	}
	/* The consumer's positions (past any transaction markers), except
	 * where records read for the next transaction are still waiting
	 * (prepared while this one commits): there, the first of them. Each
	 * partition's decision-chain head goes with its offset, in the same
	 * transaction as the decisions themselves. */
	rd_kafka_position(b->consumer, pos);
	for (size_t i = 0; i < b->njobs; i++) {
		const rd_kafka_message_t *m = b->jobs[i].m;
		rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(
		    pos, rd_kafka_topic_name(m->rkt), m->partition);
		if (p && (p->offset < 0 || m->offset < p->offset))
			p->offset = m->offset;
	}
	for (int i = 0; i < pos->cnt; i++) {
		rd_kafka_topic_partition_t *p = &pos->elems[i];
		struct chain *c = chain_get(b, p->topic, p->partition);
		char *md = gx_asprintf("%lld %s", (long long)c->seq, c->head);
		free(p->metadata);
		p->metadata = md; /* freed with the list */
		p->metadata_size = strlen(md);
	}
	rd_kafka_consumer_group_metadata_t *cgmd =
	    rd_kafka_consumer_group_metadata(b->consumer);
	int64_t t0 = gx_mono_ms();
	const char *step = "send_offsets";
	rd_kafka_error_t *e;
	while ((e = rd_kafka_send_offsets_to_transaction(b->producer, pos, cgmd,
							  30000)) &&
	       txn_retry(b, e, step, t0))
		;
	int64_t t1 = gx_mono_ms();
	if (!e) {
		step = "commit";
		/* Resumable: called again after a timeout, it carries on. */
		while ((e = rd_kafka_commit_transaction(b->producer, -1)) &&
		       txn_retry(b, e, step, t0))
			;
	}
	rd_kafka_consumer_group_metadata_destroy(cgmd);
	rd_kafka_topic_partition_list_destroy(pos);
	if (!e) {
		int64_t took = gx_mono_ms() - t0;
		gx_log(GX_LOG_DEBUG, "transaction_committed",
		       "records=%ld offsets_ms=%lld commit_ms=%lld", (long)b->txn_records,
		       (long long)(t1 - t0), (long long)(took - (t1 - t0)));
		b->in_txn = 0;
		b->commit_ms += took;
		gx_histogram_observe(b->c_commit_time, took / 1000.0);
		b->txn_commits++;
		gx_counter_inc(b->c_commits);
		return 0;
	}
	/* Abortable, or retriable for too long: abort. Fatal or anything
	 * else: a new producer. */
	int abort = rd_kafka_error_txn_requires_abort(e) ||
		    (rd_kafka_error_is_retriable(e) && !rd_kafka_error_is_fatal(e));
	fatal_txn(e, step);
	if (abort)
		abort_txn(b);
	else
		rebuild_producer(b, step);
	return -1;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct broker *b = opaque;
	int coop = cooperative(rk);
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		gx_log(GX_LOG_INFO, "partitions_assigned", "count=%d protocol=%s",
		       parts->cnt, coop ? "cooperative" : "eager");
		/* Start each partition, and its decision chain, where the last
		 * committed transaction left them: offsets and heads from one
		 * reading. */
		rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
		rd_kafka_resp_err_t ke;
		for (int tries = 1; (ke = committed_all(rk, c, 30000)) && tries < 4 && !stop;
		     tries++)
			gx_log(GX_LOG_WARN, "committed_offsets_unavailable",
			       "error=\"%s\" action=retry", rd_kafka_err2str(ke));
		if (ke) {
			/* Not knowing the chain heads, nothing may be decided. */
			gx_log(GX_LOG_ERROR, "committed_offsets_unavailable",
			       "error=\"%s\" action=stop", rd_kafka_err2str(ke));
			stop = 2;
		} else {
			chains_from_committed(b, c);
		}
		for (int i = 0; i < c->cnt; i++)
			c->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
		if (coop) {
			rd_kafka_error_t *ae = rd_kafka_incremental_assign(rk, c);
			if (ae) {
				gx_log(GX_LOG_ERROR, "assign_failed", "error=\"%s\"",
				       rd_kafka_error_string(ae));
				rd_kafka_error_destroy(ae);
			}
		} else {
			rd_kafka_assign(rk, c);
		}
		rd_kafka_topic_partition_list_destroy(c);
	} else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
		/* Finish what was read from these partitions before they go:
		 * commit while we still own them; abort if they were lost (they
		 * may belong to another instance already). */
		int lost = rd_kafka_assignment_lost(rk);
		revoking_all = !coop;
		/* Records collected for the next batch are released first
		 * (read from partitions still ours), or dropped if lost. */
		int dropped = lost;
		if (lost)
			batch_discard(b);
		else if (run_batch(b))
			dropped = 1; /* not released (stopping, or a new
				      * producer): its positions must not
				      * be committed */
		if (b->in_txn) {
			if (dropped)
				abort_txn(b);
			else
				commit_txn(b);
		}
		revoking_all = 0;
		gx_log(GX_LOG_INFO, "partitions_revoked", "count=%d lost=%d", parts->cnt,
		       lost);
		if (coop) {
			rd_kafka_error_t *ue = rd_kafka_incremental_unassign(rk, parts);
			if (ue) {
				gx_log(GX_LOG_ERROR, "unassign_failed", "error=\"%s\"",
				       rd_kafka_error_string(ue));
				rd_kafka_error_destroy(ue);
			}
		} else {
			rd_kafka_assign(rk, NULL);
		}
	} else {
		/* A rebalance error: librdkafka asks for assign(NULL) to get
		 * back in step; what was read is not ours to commit. */
		gx_log(GX_LOG_WARN, "rebalance_failed", "error=\"%s\"", rd_kafka_err2str(err));
		revoking_all = 1;
		batch_discard(b);
		if (b->in_txn)
			abort_txn(b);
		revoking_all = 0;
		rd_kafka_assign(rk, NULL);
	}
}

/*
 * What bounds the broker's memory, whatever the consumer agencies do. It
 * writes deliveries to Kafka and never waits for their readers, so a slow
 * or absent agency costs it nothing. What it holds from Kafka is
 *   - the producer queue: at most queue.buffering.max.kbytes (32 MiB) or
 *     queue.buffering.max.messages (100,000) not yet acknowledged; when it
 *     is full the broker waits for Kafka, the queue does not grow;
 *   - the consumer's prefetch: queued.max.messages.kbytes (16 MiB; for the
 *     group consumer one queue for all partitions), overshot by at most one
 *     fetch response, fetch.max.bytes (8 MiB);
 * plus its state: catalogue, grants, a decision chain per ingest partition;
 * and per thread (broker.threads) a seal checker (at most 4 MiB of proven
 * Merkle nodes, gx_proof.h) and per batch slot (256) the encoded
 * deliveries of one record, kept for the next record up to JOB_KEEP.
 * kafka.* settings override these defaults (gx_conf_kafka_get).
 */
static const char *const producer_memory[] = {
    "queue.buffering.max.kbytes", "32768",
    "queue.buffering.max.messages", "100000", NULL};
static const char *const consumer_memory[] = {
    "queued.max.messages.kbytes", "16384",
    "fetch.max.bytes", "8388608",
    /* Not memory: the partitions of an instance that died move to the
     * others after 10 s, not librdkafka's 45 s. */
    "session.timeout.ms", "10000", NULL};

/* Apply the defaults of kv the operator did not set as kafka.*. */
static gx_err_t memory_defaults(const gx_conf_t *conf, rd_kafka_conf_t *kc,
				const char *const *kv, char *err, size_t errsz)
{
	char kerr[512];
	for (size_t i = 0; kv[i]; i += 2)
		if (!gx_conf_kafka_get(conf, kv[i]) &&
		    rd_kafka_conf_set(kc, kv[i], kv[i + 1], kerr, sizeof(kerr)) !=
			RD_KAFKA_CONF_OK)
			return gx_seterr(err, errsz, GX_ERR_CONFIG, "kafka: %s", kerr);
	return GX_OK;
}

/* Create the transactional producer and initialise its transactions, which
 * fences any earlier producer with this transactional id and aborts what it
 * left open. Retriable failures are retried for up to TXN_RETRY_MS. */
static gx_err_t producer_new(struct broker *b, char *err, size_t errsz)
{
	char kerr[512];
	rd_kafka_conf_t *kc;
	const char *const pextra[] = {"transactional.id", b->bc->txn_id,
				      "acks", "all",
				      "linger.ms", "5",
				      "compression.type", "lz4", NULL};
	if (gx_kafka_conf(b->conf, b->bc->brokers, pextra, &kc, err, errsz))
		return GX_ERR_CONFIG;
	if (memory_defaults(b->conf, kc, producer_memory, err, errsz)) {
		rd_kafka_conf_destroy(kc);
		return GX_ERR_CONFIG;
	}
	b->producer = rd_kafka_new(RD_KAFKA_PRODUCER, kc, kerr, sizeof(kerr));
	if (!b->producer) {
		rd_kafka_conf_destroy(kc);
		return gx_seterr(err, errsz, GX_ERR_KAFKA, "producer: %s", kerr);
	}
	int64_t t0 = gx_mono_ms();
	rd_kafka_error_t *e;
	while ((e = rd_kafka_init_transactions(b->producer, 30000))) {
		if (txn_retry(b, e, "init", t0))
			continue;
		gx_seterr(err, errsz, GX_ERR_KAFKA, "init transactions: %s",
			  rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
		rd_kafka_destroy(b->producer);
		b->producer = NULL;
		return GX_ERR_KAFKA;
	}
	return GX_OK;
}

/*
 * Replace the producer after a fatal error: librdkafka has no way back for
 * the instance, but a new one with the same transactional id can carry on -
 * its init_transactions bumps the epoch (the old producer can write nothing
 * more) and aborts what the old one left open - and the consumer is rewound
 * to what was committed. Not when the producer was fenced by another live
 * instance with the same broker.transactional.id, or refused by Kafka's
 * authorisation: a new producer would fence that instance in turn (two
 * brokers taking turns) or be refused again, so the broker stops with exit
 * status 3 for its supervisor and operator; nor more than MAX_REBUILDS times
 * in REBUILD_WINDOW_MS. Returns 0, or -1 with stop set.
 */
static int rebuild_producer(struct broker *b, const char *step)
{
	static int64_t window_start;
	static int rebuilds;
	char fe[512], err[1024];
	rd_kafka_resp_err_t code = rd_kafka_fatal_error(b->producer, fe, sizeof(fe));
	batch_discard(b); /* read again after the rewind, or stopping */
	if (b->in_txn)
		txn_discarded(b);
	b->in_txn = 0;
	b->txn_failed = 0;
	if (code == RD_KAFKA_RESP_ERR__FENCED ||
	    code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
	    code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH ||
	    code == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED ||
	    code == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
		gx_log(GX_LOG_ERROR, "producer_unusable",
		       "step=%s error=\"%s\" transactional_id=%s action=exit "
		       "note=\"another instance with this transactional id, or "
		       "no authorisation: not rebuilt\"",
		       step, fe, b->bc->txn_id);
		stop = 2;
		return -1;
	}
	int64_t now = gx_mono_ms();
	if (!window_start || now - window_start > REBUILD_WINDOW_MS) {
		window_start = now;
		rebuilds = 0;
	}
	if (++rebuilds > MAX_REBUILDS) {
		gx_log(GX_LOG_ERROR, "producer_unusable",
		       "step=%s error=\"%s\" rebuilds=%d action=exit", step,
		       code ? fe : "not fatal", rebuilds - 1);
		stop = 2;
		return -1;
	}
	gx_log(GX_LOG_WARN, "producer_rebuild", "step=%s error=\"%s\"", step,
	       code ? fe : "not fatal");
	rd_kafka_purge(b->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	rd_kafka_destroy(b->producer);
	b->producer = NULL;
	if (producer_new(b, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "producer_unusable", "step=%s error=\"%s\" action=exit",
		       step, err);
		stop = 2;
		return -1;
	}
	return rewind_to_committed(b);
}

static gx_err_t setup_kafka(struct broker *b, char *err, size_t errsz)
{
	char kerr[512];
	rd_kafka_conf_t *kc;
	gx_err_t ge = producer_new(b, err, errsz);
	if (ge)
		return ge;
	const char *const cextra[] = {"group.id", b->bc->group,
				      "enable.auto.commit", "false",
				      "isolation.level", "read_committed",
				      "auto.offset.reset", "earliest",
				      "topic.metadata.refresh.interval.ms", "5000",
				      /* names the instance among the group's
				       * members (govexctl status) */
				      "client.id", b->bc->txn_id,
				      NULL};
	if (gx_kafka_conf(b->conf, b->bc->brokers, cextra, &kc, err, errsz))
		return GX_ERR_CONFIG;
	if (memory_defaults(b->conf, kc, consumer_memory, err, errsz)) {
		rd_kafka_conf_destroy(kc);
		return GX_ERR_CONFIG;
	}
	rd_kafka_conf_set_opaque(kc, b);
	rd_kafka_conf_set_rebalance_cb(kc, rebalance_cb);
	b->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, kc, kerr, sizeof(kerr));
	if (!b->consumer) {
		rd_kafka_conf_destroy(kc);
		return gx_seterr(err, errsz, GX_ERR_KAFKA, "consumer: %s", kerr);
	}
	rd_kafka_poll_set_consumer(b->consumer);
	/* A regex subscription: new libraries' ingest topics join by themselves. */
	gx_buf_t re;
	gx_buf_init(&re);
	gx_buf_putc(&re, '^');
	for (const char *p = b->ingest_prefix; *p; p++) {
		if (strchr(".^$*+?()[]{}|\\", *p))
			gx_buf_putc(&re, '\\');
		gx_buf_putc(&re, *p);
	}
	gx_buf_printf(&re, "[a-z_]+$");
	rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, gx_buf_cstr(&re), RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t ke = rd_kafka_subscribe(b->consumer, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	gx_buf_free(&re);
	if (ke)
		return gx_seterr(err, errsz, GX_ERR_KAFKA, "subscribe: %s",
				 rd_kafka_err2str(ke));
	return GX_OK;
}

static void usage(gx_conf_t *conf, FILE *out)
{
	fprintf(out,
		"usage: govex-broker [-c FILE] [-b BROKERS] [-o key=value]...\n"
		"Releases ingest records to consumer agencies under their grants.\n"
		"Configuration keys (kafka.* keys pass through to librdkafka):\n");
	gx_conf_usage(conf, out);
}

int main(int argc, char **argv)
{
	struct broker_conf bc;
	gx_conf_t conf;
	char err[1024];
	const char *conf_file = NULL, *brokers = NULL;
	gx_strv_t overrides;
	gx_strv_init(&overrides);

	gx_log_init("govex-broker", GX_LOG_INFO);
	gx_kafka_set_logger(gx_log_kafka);
	if (gx_conf_init(&conf, broker_defs, GX_ARRAY_SIZE(broker_defs), &bc,
			 err, sizeof(err))) {
		fprintf(stderr, "govex-broker: %s\n", err);
		return GX_EXIT_USAGE;
	}
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"brokers", required_argument, NULL, 'b'},
	    {"set", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "c:b:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_file = optarg; break;
		case 'b': brokers = optarg; break;
		case 'o': gx_strv_push(&overrides, optarg); break;
		case 'h': usage(&conf, stdout); return GX_EXIT_OK;
		default: usage(&conf, stderr); return GX_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "govex-broker: unexpected argument '%s'\n", argv[optind]);
		return GX_EXIT_USAGE;
	}
	gx_err_t ce = gx_conf_setup(&conf, conf_file, &overrides, brokers, err,
				    sizeof(err));
	gx_strv_free(&overrides);
	if (ce) {
		fprintf(stderr, "govex-broker: %s\n", err);
		gx_conf_free(&conf);
		return GX_EXIT_USAGE;
	}
	gx_loglevel_t lvl;
	gx_loglevel_parse(bc.log_level, &lvl);
	gx_log_init("govex-broker", lvl);
	/* From here a stop signal ends the broker cleanly, during start-up
	 * too (the default action would kill it with status 143). */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct broker b;
	memset(&b, 0, sizeof(b));
	if (!bc.subject_secret_file) {
		fprintf(stderr, "govex-broker: broker.subject.secret.file is required "
				"(create one with: govexctl secret new FILE)\n");
		gx_conf_free(&conf);
		return GX_EXIT_USAGE;
	}
	if (gx_secret_read(bc.subject_secret_file, b.secret, &b.secret_len, err,
			   sizeof(err))) {
		fprintf(stderr, "govex-broker: broker.subject.secret.file: %s\n", err);
		gx_conf_free(&conf);
		return GX_EXIT_USAGE;
	}
	if (!bc.checkpoint_key_file) {
		fprintf(stderr, "govex-broker: broker.checkpoint.key.file is required "
				"(create one with: govexctl key new FILE)\n");
		gx_conf_free(&conf);
		return GX_EXIT_USAGE;
	}
	if (gx_signer_load(bc.checkpoint_key_file, bc.seal.sm2_id, &b.signer, err,
			   sizeof(err))) {
		fprintf(stderr, "govex-broker: broker.checkpoint.key.file: %s\n", err);
		gx_conf_free(&conf);
		return GX_EXIT_USAGE;
	}
	if (gx_sealcheck_open(&bc.seal, &b.verifier, err, sizeof(err))) {
		fprintf(stderr, "govex-broker: seals: %s\n", err);
		gx_signer_destroy(b.signer);
		gx_conf_free(&conf);
		return GX_EXIT_USAGE;
	}
	b.bc = &bc;
	b.conf = &conf;
	b.hkey = gx_hmac_key_new(b.secret, b.secret_len);
	b.topics_ready = gx_map_new();
	b.ingest_prefix = gx_asprintf("%s.ingest.", bc.prefix);
	b.rejected_topic = gx_topic(bc.prefix, "rejected");
	b.approvals_topic = gx_topic(bc.prefix, "approvals");
	b.decisions_topic = gx_topic(bc.prefix, "decisions");
	b.chains = gx_map_new();
	int rc = GX_EXIT_RUNTIME;
	gx_http_t *http = NULL;
	char *cat_topic = gx_topic(bc.prefix, "catalog");
	char *ap_topic = gx_topic(bc.prefix, "approvals");

	b.reg = gx_metrics_new();
	if (metrics_setup(&b, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "metrics_failed", "error=\"%s\"", err);
		goto out;
	}
	gx_metrics_on_scrape(b.reg, lag_hook, &b);
	gx_metrics_on_scrape(b.reg, consumer_lag_hook, &b);
	if (gx_http_start(bc.http_address, (int)bc.http_port, b.reg, &http, err,
			  sizeof(err))) {
		gx_log(GX_LOG_ERROR, "http_failed", "error=\"%s\"", err);
		goto out;
	}
	gx_http_set_ready(http, ready, &b);
	gx_log(GX_LOG_INFO, "http_listening", "address=%s port=%d", bc.http_address,
	       gx_http_port(http));
	if (gx_schemas_new(&b.schemas, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "schemas_failed", "error=\"%s\"", err);
		goto out;
	}
	/* Each thread its own Avro values and seal checker, all made here,
	 * on this thread (Avro C's reference counts are not atomic). */
	size_t nlib = gx_schemas_count(b.schemas);
	size_t nthreads = gx_pool_default_threads((long)bc.threads);
	b.lanes = gx_calloc(nthreads, sizeof(*b.lanes));
	for (size_t t = 0; t < nthreads; t++) {
		struct lane *ln = &b.lanes[t];
		ln->ingest_vals = gx_calloc(nlib, sizeof(avro_value_t));
		for (size_t i = 0; i < nlib; i++)
			avro_generic_value_new(gx_schemas_at(b.schemas, i)->ingest_iface,
					       &ln->ingest_vals[i]);
		gx_buf_init(&ln->buf);
		b.nlanes = t + 1; /* what was made is freed at out */
		if (t == 0) {
			ln->verifier = b.verifier;
		} else if (gx_sealcheck_open(&bc.seal, &ln->verifier, err, sizeof(err))) {
			gx_log(GX_LOG_ERROR, "seals_failed", "error=\"%s\"", err);
			goto out;
		}
	}
	b.jobs = gx_calloc(BATCH_MAX, sizeof(*b.jobs));
	for (size_t i = 0; i < BATCH_MAX; i++)
		gx_buf_init(&b.jobs[i].data);
	b.pool = gx_pool_new(nthreads);
	gx_log(GX_LOG_INFO, "threads", "count=%zu", nthreads);
	b.cat = gx_catalog_new(b.schemas);
	b.ap = gx_approvals_new();

	/* State first: nothing is evaluated before the catalogue and the
	 * approvals, as they stood when we started, are in memory. */
	if (gx_state_reader_new(&conf, bc.brokers, cat_topic, &b.cat_reader, err, sizeof(err)) ||
	    gx_state_reader_catch_up(b.cat_reader, on_catalog, &b, (int)bc.state_timeout_ms,
				     err, sizeof(err)) ||
	    gx_state_reader_new(&conf, bc.brokers, ap_topic, &b.ap_reader, err, sizeof(err)) ||
	    gx_state_reader_catch_up(b.ap_reader, on_approval, &b, (int)bc.state_timeout_ms,
				     err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "state_unavailable", "error=\"%s\"", err);
		goto out;
	}
	gx_log(GX_LOG_INFO, "state_loaded", "items=%zu grants=%zu approvals_offset=%lld",
	       gx_catalog_count(b.cat), gx_approvals_grant_count(b.ap),
	       (long long)gx_approvals_offset(b.ap));
	if (setup_kafka(&b, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "kafka_setup_failed", "error=\"%s\"", err);
		goto out;
	}
	if (gx_kafka_partitions(b.producer, b.decisions_topic, 15000,
				&b.decisions_partitions, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "decisions_topic_unavailable", "error=\"%s\"", err);
		goto out;
	}
	ensure_delivery_topics(&b);
	if (!stop)
		seed_last_records(&b);
	b.running = 1;

	gx_log(GX_LOG_INFO, "broker_started", "group=%s transactional_id=%s",
	       bc.group, bc.txn_id);
	int64_t last_report = gx_mono_ms(), last_expiry_scan = 0;
	int64_t last_checkpoint = gx_mono_ms();
	while (!stop) {
		/* Tail the state topics: a revoke read here applies to every
		 * record processed after it. */
		size_t grants_before = gx_approvals_grant_count(b.ap);
		if (gx_state_reader_poll(b.cat_reader, on_catalog, &b, 0, err, sizeof(err)) ||
		    gx_state_reader_poll(b.ap_reader, on_approval, &b, 0, err, sizeof(err)))
			gx_log(GX_LOG_WARN, "state_read_failed", "error=\"%s\"", err);
		if (gx_approvals_grant_count(b.ap) != grants_before || b.topics_retry) {
			/* Close the open transaction first: topic creation can take
			 * a while and must not hold the transaction open. */
			b.topics_retry = 0;
			commit_txn(&b);
			if (stop || !b.producer)
				break;
			ensure_delivery_topics(&b);
		}

		/* A batch: what has arrived, up to BATCH_MAX and the room
		 * left in the transaction; waiting only for the first. */
		int due = b.in_txn && (b.txn_records >= bc.batch_max ||
				       gx_mono_ms() - b.txn_started >= bc.commit_interval_ms);
		int64_t left = due ? bc.batch_max : bc.batch_max - b.txn_records;
		size_t room = left < 1 ? 1 : left > BATCH_MAX ? BATCH_MAX : (size_t)left;
		/* With records released in the open transaction, wait at
		 * most what is left of broker.commit.linger (counted from its
		 * first record): when nothing more has arrived by then
		 * (caught up), commit now rather than at the interval, so
		 * records are visible soon without a transaction for every
		 * trickle. The interval (due) ends any linger. */
		int pending = b.in_txn && b.txn_records;
		int64_t open_ms = pending ? gx_mono_ms() - b.txn_first_record : 0;
		int64_t wait_ms = !pending ? 50
				  : due || open_ms >= bc.commit_linger_ms ? 0
				  : bc.commit_linger_ms - open_ms;
		rd_kafka_message_t *m = rd_kafka_consumer_poll(b.consumer,
							       (int)(wait_ms > 50 ? 50 : wait_ms));
		if (!m && pending && gx_mono_ms() - b.txn_first_record >= bc.commit_linger_ms)
			due = 1;
		while (m) {
			if (m->err) {
				if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
					gx_log(GX_LOG_WARN, "consume_error", "error=\"%s\"",
					       rd_kafka_message_errstr(m));
				rd_kafka_message_destroy(m);
			} else {
				b.jobs[b.njobs++].m = m;
			}
			if (b.njobs >= room || stop)
				break;
			m = rd_kafka_consumer_poll(b.consumer, 0);
		}
		if (due) {
			/* The open transaction is due: the batch is prepared
			 * on the other threads while it commits, then
			 * released in the next one. */
			if (b.njobs)
				gx_pool_start(b.pool, b.njobs, prepare, &b);
			commit_txn(&b);
			if (stop == 2 || !b.producer) {
				batch_discard(&b);
				break;
			}
		}
		/* -1: stopping; 1: the producer was rebuilt and the consumer
		 * rewound, so the batch is read again. */
		if (run_batch(&b) < 0)
			break;
		if (stop == 2 || !b.producer)
			break; /* a producer that could not be rebuilt */
		rd_kafka_poll(b.producer, 0);
		if (gx_mono_ms() - last_checkpoint >= bc.checkpoint_interval_ms) {
			last_checkpoint = gx_mono_ms();
			checkpoint_chains(&b);
		}
		if (gx_mono_ms() - last_expiry_scan >= 1000) {
			last_expiry_scan = gx_mono_ms();
			note_expiries(&b);
		}
		if (gx_mono_ms() - last_report >= 10000) {
			last_report = gx_mono_ms();
			gx_log(GX_LOG_INFO, "stats",
			       "records_in=%ld released=%ld withheld=%ld refused=%ld "
			       "txn_commits=%ld txn_aborts=%ld commit_ms=%lld",
			       b.records_in, b.released, b.withheld, b.refused,
			       b.txn_commits, b.txn_aborts, (long long)b.commit_ms);
		}
	}
	if (stop == 1) {
		checkpoint_chains(&b);
		commit_txn(&b);
		rc = GX_EXIT_OK;
	} else if (b.in_txn) {
		abort_txn(&b);
	}
	gx_log(GX_LOG_INFO, "broker_stopped",
	       "records_in=%ld released=%ld withheld=%ld refused=%ld "
	       "txn_commits=%ld txn_aborts=%ld commit_ms=%lld",
	       b.records_in, b.released, b.withheld, b.refused, b.txn_commits,
	       b.txn_aborts, (long long)b.commit_ms);
out:
	gx_http_stop(http); /* before anything its scrape hook reads goes */
	gx_scan_destroy(b.lag_scan);
	if (b.jobs)
		batch_discard(&b); /* its messages belong to the consumer */
	if (b.consumer) {
		rd_kafka_consumer_close(b.consumer);
		rd_kafka_destroy(b.consumer);
	}
	if (b.producer)
		rd_kafka_destroy(b.producer);
	gx_state_reader_destroy(b.cat_reader);
	gx_state_reader_destroy(b.ap_reader);
	gx_pool_destroy(b.pool);
	if (b.jobs) {
		for (size_t i = 0; i < BATCH_MAX; i++) {
			job_clear(&b.jobs[i]);
			free(b.jobs[i].best);
			free(b.jobs[i].failed);
			free(b.jobs[i].dl);
			gx_buf_free(&b.jobs[i].data);
		}
		free(b.jobs);
	}
	for (size_t t = 0; t < b.nlanes; t++) {
		struct lane *ln = &b.lanes[t];
		for (size_t i = 0; i < gx_schemas_count(b.schemas); i++)
			if (ln->ingest_vals[i].self)
				avro_value_decref(&ln->ingest_vals[i]);
		free(ln->ingest_vals);
		gx_buf_free(&ln->buf);
		free(ln->ents);
		free(ln->names);
		if (t)
			gx_sealcheck_destroy(ln->verifier);
	}
	free(b.lanes);
	gx_catalog_destroy(b.cat);
	gx_approvals_destroy(b.ap);
	gx_schemas_destroy(b.schemas);
	gx_map_destroy(b.topics_ready, NULL);
	free(b.ingest_prefix);
	free(b.rejected_topic);
	free(b.approvals_topic);
	free(b.decisions_topic);
	gx_map_destroy(b.chains, free);
	gx_signer_destroy(b.signer);
	gx_sealcheck_destroy(b.verifier);
	gx_hmac_key_free(b.hkey);
	gx_metrics_destroy(b.reg);
	free(cat_topic);
	free(ap_topic);
	gx_conf_free(&conf);
	OPENSSL_cleanse(b.secret, sizeof(b.secret));
	return rc;
}
