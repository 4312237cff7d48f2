/*
 * govex-adapter - a provider agency's adapter: reads its source (a CSV or
 * JSON Lines file, or a PostgreSQL table it keeps following), validates
 * every row against the library schema and publishes each valid row as an
 * ingest record to <prefix>.ingest.<library>, exactly once:
 *
 *  - records, the govex.rejected entries of refused rows, the collect-once
 *    digests and the adapter's source position are written in one Kafka
 *    transaction per batch, so after a crash at any moment the adapter
 *    continues right after the last committed row: nothing lost, nothing
 *    twice (for read_committed consumers);
 *  - a record whose payload is the same as the last one published for its
 *    subject is recognised and not published again (art. 10, collect
 *    once), also across restarts (the digests are a compacted topic).
 *
 * Every refused row goes to govex.rejected with its line (or row key) and
 * reason, and the rows after it keep flowing; the end (or SIGTERM) prints a
 * summary: accepted, refused by reason, skipped as unchanged.
 *
 * While it runs it serves /metrics (rows by outcome, refusals by reason, as
 * committed), /healthz and /readyz on http.address:http.port.
 *
 *   govex-adapter [-c FILE] [-b BROKERS] [-o key=value]... --provider P
 *                 --item I (--csv FILE | --jsonl FILE | -o source.type=pg ...)
 *                 [--mapping FILE]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_catalog.h"
#include "gx_conf.h"
#include "gx_digest.h"
#include "gx_http.h"
#include "gx_kafka.h"
#include "gx_keyfile.h"
#include "gx_metrics.h"
#include "gx_position.h"
#include "gx_proof.h"
#include "gx_record.h"
#include "gx_schema.h"
#include "gx_source.h"

struct adapter_conf {
	char *brokers;
	char *prefix;
	char *log_level;
	char *provider;
	char *item;
	char *id;
	char *txn_id;
	char *digest_secret_file;
	int64_t batch_max;
	int64_t commit_interval_ms;
	int64_t commit_linger_ms;
	int64_t state_timeout_ms;
	char *source_type;
	char *source_path;
	char *mapping;
	char *pg_conninfo;
	char *pg_table;
	char *pg_column;
	int64_t pg_poll_ms;
	int64_t pg_batch;
	int64_t catalog_timeout_ms;
	int64_t flush_timeout_ms;
	char *http_address;
	int64_t http_port;
	gx_seal_conf_t seal;
	char *keys_dir;
	int64_t seal_batch_max;
	int64_t seal_interval_ms;
};

#define OFF(m) offsetof(struct adapter_conf, m)
static const gx_confdef_t adapter_defs[] = {
    {"brokers", GX_CONF_STR, OFF(brokers), "127.0.0.1:9092", 0, 0, NULL,
     "Kafka bootstrap servers (also -b)"},
    {"topic.prefix", GX_CONF_STR, OFF(prefix), "govex", 0, 0, NULL,
     "prefix of every govex topic"},
    {"log.level", GX_CONF_ENUM, OFF(log_level), "info", 0, 0,
     "debug|info|warn|error", "lowest level logged"},
    {"adapter.provider", GX_CONF_STR, OFF(provider), NULL, 0, 0, NULL,
     "this provider agency's code; must be the catalogue item's provider"},
    {"adapter.item", GX_CONF_STR, OFF(item), NULL, 0, 0, NULL,
     "catalogue item the source's records belong to"},
    {"adapter.id", GX_CONF_STR, OFF(id), NULL, 0, 0, NULL,
     "names this adapter's position and collect-once digests; default "
     "<provider>.<item>.<hash of the source>; give every export of one item "
     "the same id to recognise unchanged records across files; never two "
     "adapters with one id at a time"},
    {"adapter.transactional.id", GX_CONF_STR, OFF(txn_id), NULL, 0, 0, NULL,
     "Kafka transactional id; default <prefix>.adapter.<adapter.id>"},
    {"adapter.digest.secret.file", GX_CONF_STR, OFF(digest_secret_file),
     NULL, 0, 0, NULL,
     "optional secret (0600 file) keying the subject hashes of the digests "
     "topic; changing it forgets every digest"},
    {"adapter.batch.max", GX_CONF_INT, OFF(batch_max), "5000", 1, 1000000,
     NULL, "most source rows per Kafka transaction"},
    {"adapter.commit.interval", GX_CONF_DURATION_MS, OFF(commit_interval_ms),
     "1s", 10, 3600000, NULL, "longest a transaction stays open"},
    {"adapter.commit.linger", GX_CONF_DURATION_MS, OFF(commit_linger_ms),
     "30ms", 0, 10000, NULL,
     "a followed source (pg) caught up: the transaction still commits no "
     "sooner than this after its first row (as Kafka's linger.ms; never "
     "past adapter.commit.interval). Fewer, fuller transactions, a shorter "
     "latency tail under steady load; 0 commits at once"},
    {"adapter.state.timeout", GX_CONF_DURATION_MS, OFF(state_timeout_ms),
     "120s", 1000, 86400000, NULL,
     "how long reading the position and the digests at start may stall "
     "(nothing arriving) before the adapter gives up"},
    {"source.type", GX_CONF_ENUM, OFF(source_type), "csv", 0, 0,
     "csv|jsonl|pg", "kind of source"},
    {"source.path", GX_CONF_STR, OFF(source_path), NULL, 0, 0, NULL,
     "source file: CSV with a header row, or JSON Lines (--csv, --jsonl)"},
    {"source.mapping", GX_CONF_STR, OFF(mapping), NULL, 0, 0, NULL,
     "file of 'schema_field = source_column' lines (--mapping); without it "
     "source columns are named like the schema fields"},
    {"source.pg.conninfo", GX_CONF_STR, OFF(pg_conninfo), "", 0, 0, NULL,
     "libpq connection string (host=... dbname=... user=...)"},
    {"source.pg.table", GX_CONF_STR, OFF(pg_table), NULL, 0, 0, NULL,
     "table to read, 'name' or 'schema.name'"},
    {"source.pg.cursor.column", GX_CONF_STR, OFF(pg_column), NULL, 0, 0,
     NULL, "column that grows with every insert and update, in commit order "
     "(a sequence set by a trigger, updated_at)"},
    {"source.pg.poll.interval", GX_CONF_DURATION_MS, OFF(pg_poll_ms), "1s",
     10, 3600000, NULL, "pause between queries once the table is read"},
    {"source.pg.batch", GX_CONF_INT, OFF(pg_batch), "1000", 1, 1000000,
     NULL, "rows per query"},
    {"adapter.catalog.timeout", GX_CONF_DURATION_MS, OFF(catalog_timeout_ms),
     "30s", 1000, 3600000, NULL, "how long to wait for the catalogue"},
    {"adapter.flush.timeout", GX_CONF_DURATION_MS, OFF(flush_timeout_ms),
     "120s", 1000, 86400000, NULL,
     "how long a transaction may take to commit"},
    {"http.address", GX_CONF_STR, OFF(http_address), "127.0.0.1", 0, 0, NULL,
     "address of /metrics, /healthz and /readyz"},
    {"http.port", GX_CONF_INT, OFF(http_port), "9480", 0, 65535, NULL,
     "their port (0: any free port, logged as event=http_listening); if it "
     "is taken the adapter runs without them (event=http_failed)"},
    GX_SEAL_CONFDEFS(struct adapter_conf, seal),
    {"seal.keys.dir", GX_CONF_STR, OFF(keys_dir), "keys", 0, 0, NULL,
     "directory of the provider's sealing keys, DIR/<provider>/<key id>.key "
     "(mode 0600) with its .crt beside it (govexctl keys new); the key the "
     "keyring names current is used, and a newer one is picked up when it "
     "takes over"},
    {"seal.batch.max", GX_CONF_INT, OFF(seal_batch_max), "1000", 1, 1000000,
     NULL, "most records under one seal (e-licences: always 1, art. 16)"},
    {"seal.batch.interval", GX_CONF_DURATION_MS, OFF(seal_interval_ms), "1s",
     1, 3600000, NULL,
     "longest a record waits for its batch to be sealed (batches also close "
     "when a transaction commits)"},
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* A named option (--item I) as the override "key=value". */
static void opt_set(gx_strv_t *ov, const char *key, const char *value)
{
	char *kv = gx_asprintf("%s=%s", key, value);
	gx_strv_push(ov, kv);
	free(kv);
}

static void usage(gx_conf_t *conf, FILE *out)
{
	fprintf(out,
		"usage: govex-adapter [-c FILE] [-b BROKERS] [-o key=value]...\n"
		"                     [--provider P] [--item I]\n"
		"                     [--csv FILE | --jsonl FILE] [--mapping FILE]\n"
		"Reads a provider's source (CSV, JSON Lines, or a PostgreSQL table\n"
		"with -o source.type=pg), validates each row and publishes it exactly\n"
		"once to <prefix>.ingest.<library>; unchanged records are not\n"
		"published again. Refused rows go to <prefix>.rejected.\n"
		"Configuration keys (kafka.* keys pass through to librdkafka):\n");
	gx_conf_usage(conf, out);
}

/* A digest changed in the open transaction, to undo if it aborts. */
struct undo {
	unsigned char subj[GX_DIGEST_LEN];
	unsigned char old[GX_DIGEST_LEN];
	int had;
};

struct adapter {
	const struct adapter_conf *ac;
	const gx_library_t *lib;
	rd_kafka_t *rk;
	char *topic, *rej_topic, *pos_topic, *dig_topic, *seal_topic;
	gx_sealcheck_t *sc_keys;	/* suite, root and keyring */
	gx_sealkey_t *key;		/* the provider's current sealing key */
	gx_sealer_t *sealer;
	size_t seal_max;
	char *id;
	unsigned char secret[GX_SECRET_MAX];
	size_t secretlen;
	gx_source_conf_t sc;
	gx_source_t *src;
	gx_binder_t *binder;
	gx_mapping_t *map;
	gx_digests_t *digests;
	json_t *committed;	/* position token of the last commit */
	gx_tally_t pass;	/* committed counts of this pass */
	gx_tally_t batch;	/* counts in the open transaction */
	struct undo *undo;
	size_t nundo, capundo;
	int in_txn;
	int txn_failed;		/* a produce or delivery failed */
	long txn_rows;
	int64_t txn_started;
	long commits, aborts, aborts_in_row;
	avro_value_t ingest;
	gx_buf_t buf, scratch;
	const char **vals;
	long digest_bad;
	/* metrics of committed rows (gx_metrics.h) */
	gx_metrics_t *reg;
	gx_metric_t *m_rows, *m_refused, *m_commit_time;
	gx_metric_child_t *c_accepted, *c_refused, *c_unchanged, *c_commit_time;
	volatile int running;	/* past start-up: /readyz says ready */
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct adapter *a = opaque;
	(void)rk;
	if (m->err) {
		/* The transaction cannot commit now; it is aborted and its
		 * rows read again. */
		a->txn_failed = 1;
		gx_log(GX_LOG_WARN, "delivery_failed", "topic=%s error=%s",
		       rd_kafka_topic_name(m->rkt), rd_kafka_err2name(m->err));
	}
}

static void produce(struct adapter *a, const char *topic, const void *key,
		    size_t klen, const void *val, size_t vlen)
{
	rd_kafka_resp_err_t e = gx_kafka_produce(a->rk, topic, key, klen, val,
						 vlen);
	if (e) {
		if (!a->txn_failed)
			gx_log(GX_LOG_ERROR, "produce_failed",
			       "topic=%s error=%s", topic, rd_kafka_err2str(e));
		a->txn_failed = 1;
	}
}

static void count_committed(struct adapter *a);
static void seal_batch(struct adapter *a);

/* Log a transaction error; returns 1 if it is fatal (the producer is
 * unusable: fenced by a newer instance with the same id, ...). */
static int txn_error(rd_kafka_error_t *e, const char *step)
{
	int fatal = rd_kafka_error_is_fatal(e);
	char q[600];
	gx_log(GX_LOG_ERROR, "transaction_failed", "step=%s error=%s fatal=%d",
	       step, gx_log_quote(rd_kafka_error_string(e), q, sizeof(q)),
	       fatal);
	rd_kafka_error_destroy(e);
	return fatal;
}

static int begin_txn(struct adapter *a)
{
	if (a->in_txn)
		return 0;
	rd_kafka_error_t *e = rd_kafka_begin_transaction(a->rk);
	if (e) {
		txn_error(e, "begin");
		return -1;
	}
	a->in_txn = 1;
	a->txn_failed = 0;
	a->txn_rows = 0;
	a->txn_started = gx_mono_ms();
	return 0;
}

/* Open the source after the last committed position. */
static gx_err_t open_source(struct adapter *a, char *err, size_t errsz)
{
	gx_source_destroy(a->src);
	a->src = NULL;
	return gx_source_open(&a->sc, a->committed, &a->src, err, errsz);
}

/*
 * Abort the open transaction and go back to the last committed state:
 * digests changed since are restored, the batch's counts dropped, and the
 * source reopened right after the committed position, so the aborted rows
 * are read and published again. Returns -1 when that is impossible.
 */
static int abort_txn(struct adapter *a)
{
	char err[1024];
	rd_kafka_error_t *e = rd_kafka_abort_transaction(
	    a->rk, (int)a->ac->flush_timeout_ms);
	a->in_txn = 0;
	a->aborts++;
	gx_sealer_discard(a->sealer);
	if (e && txn_error(e, "abort"))
		return -1;
	while (a->nundo) {
		struct undo *u = &a->undo[--a->nundo];
		if (u->had)
			gx_digests_put(a->digests, u->subj, u->old, NULL);
		else
			gx_digests_del(a->digests, u->subj);
	}
	gx_tally_reset(&a->batch);
	if (++a->aborts_in_row > 5) {
		gx_log(GX_LOG_ERROR, "giving_up", "aborts_in_row=%ld",
		       a->aborts_in_row);
		return -1;
	}
	if (open_source(a, err, sizeof(err))) {
		char q[1100];
		gx_log(GX_LOG_ERROR, "source_failed", "error=%s",
		       gx_log_quote(err, q, sizeof(q)));
		return -1;
	}
	gx_log(GX_LOG_WARN, "transaction_aborted", "resume=%s start=\"%s\"",
	       gx_resume_name(gx_source_resumed(a->src)),
	       gx_source_start(a->src));
	return 0;
}

/*
 * Commit the open transaction with the source position after its last
 * row. Returns 0 when committed (or nothing was open), 1 when the
 * transaction was aborted and the source rewound, -1 on a fatal error.
 */
static int commit_txn(struct adapter *a)
{
	if (!a->in_txn)
		return 0;
	int64_t t0 = gx_mono_ms();
	seal_batch(a);	/* a batch never spans transactions */
	json_t *pos = gx_source_position(a->src);
	gx_tally_t total;
	gx_tally_init(&total);
	gx_tally_add(&total, &a->pass);
	gx_tally_add(&total, &a->batch);
	char *v = gx_position_value(a->id, pos, &total, gx_now_ms());
	gx_tally_free(&total);
	produce(a, a->pos_topic, a->id, strlen(a->id), v, strlen(v));
	free(v);
	if (a->txn_failed) {
		json_decref(pos);
		return abort_txn(a) ? -1 : 1;
	}
	rd_kafka_error_t *e = NULL;
	for (int tries = 0;; tries++) {
		e = rd_kafka_commit_transaction(a->rk,
						(int)a->ac->flush_timeout_ms);
		if (!e || !rd_kafka_error_is_retriable(e) || tries >= 5)
			break;
		rd_kafka_error_destroy(e);
	}
	if (!e && !a->txn_failed) {
		a->in_txn = 0;
		a->commits++;
		a->aborts_in_row = 0;
		count_committed(a);
		gx_tally_add(&a->pass, &a->batch);
		gx_tally_reset(&a->batch);
		a->nundo = 0;
		json_decref(a->committed);
		a->committed = pos;
		int64_t took = gx_mono_ms() - t0;
		gx_histogram_observe(a->c_commit_time, took / 1000.0);
		gx_log(GX_LOG_DEBUG, "transaction_committed",
		       "rows=%ld open_ms=%lld commit_ms=%lld", a->txn_rows,
		       (long long)(t0 - a->txn_started), (long long)took);
		return 0;
	}
	json_decref(pos);
	if (e) {
		if (!rd_kafka_error_txn_requires_abort(e) &&
		    rd_kafka_error_is_fatal(e)) {
			txn_error(e, "commit");
			return -1;
		}
		txn_error(e, "commit");
	}
	return abort_txn(a) ? -1 : 1;
}

/* Register the adapter's metric families (names as in deploy/prometheus). */
static gx_err_t metrics_setup(struct adapter *a, char *err, size_t errsz)
{
	gx_metric_t *build;
	gx_err_t e;
	if ((e = gx_metrics_counter(a->reg, "govex_adapter_rows_total",
				    "Source rows committed, by outcome: accepted "
				    "(published), refused, unchanged (not published "
				    "again, art. 10)",
				    "provider,item,outcome", &a->m_rows, err, errsz)) ||
	    (e = gx_metrics_counter(a->reg, "govex_adapter_refused_total",
				    "Source rows refused, by reason",
				    "provider,item,reason", &a->m_refused, err, errsz)) ||
	    (e = gx_metrics_histogram(a->reg, "govex_adapter_txn_commit_seconds",
				      "Time to commit a transaction (sealing its last "
				      "batch and committing, Kafka's acknowledgements "
				      "included)",
				      NULL, gx_metrics_latency_buckets,
				      gx_metrics_latency_nbuckets, &a->m_commit_time,
				      err, errsz)) ||
	    (e = gx_metrics_gauge(a->reg, "govex_build_info", "Build of this program",
				  "version", &build, err, errsz)))
		return e;
	gx_metric_set(build, 1, GX_VERSION);
	const char *p = a->ac->provider, *i = a->ac->item;
	a->c_commit_time = gx_metric_child(a->m_commit_time);
	a->c_accepted = gx_metric_child(a->m_rows, p, i, "accepted");
	a->c_refused = gx_metric_child(a->m_rows, p, i, "refused");
	a->c_unchanged = gx_metric_child(a->m_rows, p, i, "unchanged");
	return GX_OK;
}

/* Count a committed batch on /metrics: only what Kafka now holds. */
static void count_committed(struct adapter *a)
{
	gx_counter_add(a->c_accepted, (uint64_t)a->batch.accepted);
	gx_counter_add(a->c_refused, (uint64_t)a->batch.refused);
	gx_counter_add(a->c_unchanged, (uint64_t)a->batch.skipped);
	const char *k;
	json_t *v;
	json_object_foreach(a->batch.reasons, k, v)
	    gx_metric_add(a->m_refused, (uint64_t)json_integer_value(v),
			  a->ac->provider, a->ac->item, k);
}

static int ready(void *opaque, char *reason, size_t n)
{
	const struct adapter *a = opaque;
	if (!a->running) {
		snprintf(reason, n, "starting");
		return 0;
	}
	return 1;
}

/* Write a refused row to <prefix>.rejected, in the open transaction. */
static void refuse(struct adapter *a, const gx_source_row_t *row,
		   const char *reason, const char *why)
{
	char q[2200];
	const char *where = row->where ? row->where : gx_source_name(a->src);
	gx_tally_refuse(&a->batch, reason);
	gx_log(GX_LOG_WARN, "row_rejected", "source=%s reason=%s detail=%s",
	       gx_log_quote(where, q, sizeof(q)), reason,
	       gx_log_quote(why, q + 600, sizeof(q) - 600));
	json_t *rj = gx_rejected_json("govex-adapter", reason, why, where,
				      a->ac->provider, a->ac->item, NULL,
				      gx_now_ms());
	if (row->line)
		json_object_set_new(rj, "line", json_integer(row->line));
	if (row->row_key)
		json_object_set_new(rj, "row_key", json_string(row->row_key));
	char *s = json_dumps(rj, JSON_COMPACT);
	json_decref(rj);
	produce(a, a->rej_topic, where, strlen(where), s, strlen(s));
	free(s);
}

/* ---- seals (DESIGN Integrity; gx_proof.h) ---- */

/* The key the keyring names current for this provider, loaded from
 * seal.keys.dir; NULL (and err set) when there is none. */
static gx_sealkey_t *load_current_key(struct adapter *a, char *err,
				      size_t errsz)
{
	const struct adapter_conf *ac = a->ac;
	const char *kid = gx_keyring_current(gx_sealcheck_keyring(a->sc_keys),
					     ac->provider, gx_now_ms());
	if (!kid) {
		snprintf(err, errsz,
			 "%s has no key in %s valid now (make one with: "
			 "govexctl keys new --agency %s)",
			 ac->provider, ac->seal.keyring, ac->provider);
		return NULL;
	}
	char *kp = gx_asprintf("%s/%s/%s.key", ac->keys_dir, ac->provider, kid);
	char *cp = gx_asprintf("%s/%s/%s.crt", ac->keys_dir, ac->provider, kid);
	gx_sealkey_t *k = NULL;
	if (gx_sealkey_load(gx_sealcheck_suite(a->sc_keys), kp, cp,
			    gx_sealcheck_root(a->sc_keys), &k, err, errsz))
		k = NULL;
	free(kp);
	free(cp);
	return k;
}

/* A sealed record, with the agency this adapter writes as in the
 * govex-agency header (the broker checks it against the seal, issue 8). */
static void on_sealed_record(void *opaque, const void *key, size_t klen,
			     const void *value, size_t vlen)
{
	struct adapter *a = opaque;
	const char *agency = a->ac->provider;
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(
		    a->rk, RD_KAFKA_V_TOPIC(a->topic),
		    RD_KAFKA_V_KEY((void *)key, klen),
		    RD_KAFKA_V_VALUE((void *)value, vlen),
		    RD_KAFKA_V_HEADER(GX_AGENCY_HEADER, agency,
				      (ssize_t)strlen(agency)),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
		if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stop) {
			rd_kafka_poll(a->rk, 100);
			continue;
		}
		if (e) {
			if (!a->txn_failed)
				gx_log(GX_LOG_ERROR, "produce_failed",
				       "topic=%s error=%s", a->topic,
				       rd_kafka_err2str(e));
			a->txn_failed = 1;
		}
		return;
	}
}

static void on_seal(void *opaque, const gx_seal_t *seal, const char *json)
{
	struct adapter *a = opaque;
	produce(a, a->seal_topic, seal->provider, strlen(seal->provider), json,
		strlen(json));
	gx_log(GX_LOG_DEBUG, "batch_sealed", "batch=%s records=%u key_id=%s",
	       seal->batch_id, seal->count, seal->key_id);
}

/*
 * Seal the open batch and publish its records and seal in the open
 * transaction. A newer key that has taken over in the keyring is picked up
 * first. Any failure fails the transaction (it is aborted and read again).
 */
static void seal_batch(struct adapter *a)
{
	char err[1024], q[1100];
	if (!gx_sealer_pending(a->sealer))
		return;
	if (gx_sealcheck_reload(a->sc_keys, err, sizeof(err)))
		gx_log(GX_LOG_WARN, "keyring_reload_failed", "error=%s",
		       gx_log_quote(err, q, sizeof(q)));
	const char *kid = gx_keyring_current(gx_sealcheck_keyring(a->sc_keys),
					     a->ac->provider, gx_now_ms());
	if (kid && strcmp(kid, gx_sealkey_key_id(a->key))) {
		gx_sealkey_t *k = load_current_key(a, err, sizeof(err));
		if (k) {
			gx_log(GX_LOG_INFO, "seal_key_rotated",
			       "old_key_id=%s key_id=%s",
			       gx_sealkey_key_id(a->key), kid);
			gx_sealer_set_key(a->sealer, k);
			gx_sealkey_destroy(a->key);
			a->key = k;
		} else {
			gx_log(GX_LOG_ERROR, "seal_key_unavailable",
			       "key_id=%s error=%s", kid,
			       gx_log_quote(err, q, sizeof(q)));
		}
	}
	/* Never seal with a key the broker would refuse now (taken out of
	 * the keyring, past its grace, its certificate expired): the
	 * transaction fails and its rows are read again, rather than being
	 * committed, refused downstream and then skipped as unchanged. */
	const gx_cert_t *cert;
	if (gx_keyring_select(gx_sealcheck_keyring(a->sc_keys), a->ac->provider,
			      gx_sealkey_key_id(a->key), gx_now_ms(), &cert, err,
			      sizeof(err))) {
		gx_log(GX_LOG_ERROR, "seal_key_not_valid", "key_id=%s error=%s",
		       gx_sealkey_key_id(a->key), gx_log_quote(err, q, sizeof(q)));
		gx_sealer_discard(a->sealer);
		a->txn_failed = 1;
		return;
	}
	if (gx_sealer_close(a->sealer, a->lib->ingest_fp, on_sealed_record,
			    on_seal, a, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "seal_failed", "error=%s",
		       gx_log_quote(err, q, sizeof(q)));
		a->txn_failed = 1;
	}
}

/* Validate, encode and publish one row (or refuse it, or skip it as
 * unchanged), in the open transaction. */
static void process_row(struct adapter *a, const gx_source_row_t *row)
{
	const gx_library_t *lib = a->lib;
	char err[1024], why[2048];
	avro_value_t payload;

	if (gx_binder_bind(a->binder, row, a->vals, err, sizeof(err))) {
		refuse(a, row, "unknown_field", err);
		return;
	}
	avro_value_reset(&a->ingest);
	gx_record_payload(&a->ingest, &payload, err, sizeof(err));
	int64_t now = gx_now_ms();
	for (size_t i = 0; i < lib->nfields; i++) {
		avro_value_t fv;
		avro_value_get_by_index(&payload, i, &fv, NULL);
		if (gx_field_set_text(&lib->fields[i], &fv,
				      a->vals[i] ? a->vals[i] : "", now, err,
				      sizeof(err))) {
			snprintf(why, sizeof(why), "%s: %s", row->where, err);
			refuse(a, row, "invalid_value", why);
			return;
		}
	}
	const char *key;
	size_t klen;
	unsigned char subj[GX_DIGEST_LEN], dig[GX_DIGEST_LEN],
	    old[GX_DIGEST_LEN];
	if (gx_record_subject(lib, &payload, &key, &klen, err, sizeof(err)) ||
	    gx_payload_digest(&payload, &a->scratch, dig, err, sizeof(err))) {
		snprintf(why, sizeof(why), "%s: %s", row->where, err);
		refuse(a, row, "encode_failed", why);
		return;
	}
	gx_subject_hash(a->id, a->secret, a->secretlen, key, klen, subj);
	if (gx_digests_get(a->digests, subj, old) &&
	    !memcmp(old, dig, GX_DIGEST_LEN)) {
		a->batch.skipped++;
		return;
	}
	char rid[37];
	gx_uuid(rid);
	gx_envelope_t env = {rid, a->ac->provider, a->ac->item, row->where,
			     now, GX_OP_UPSERT};
	if (gx_ingest_set(&a->ingest, &env, err, sizeof(err))) {
		snprintf(why, sizeof(why), "%s: %s", row->where, err);
		refuse(a, row, "encode_failed", why);
		return;
	}
	if (gx_sealer_add(a->sealer, lib, &a->ingest, &env, key, klen, err,
			  sizeof(err))) {
		/* Not the row's fault: the transaction cannot be sealed. */
		gx_log(GX_LOG_ERROR, "seal_failed", "error=%s",
		       gx_log_quote(err, why, sizeof(why)));
		a->txn_failed = 1;
		return;
	}
	if (gx_sealer_pending(a->sealer) >= a->seal_max)
		seal_batch(a);
	char dkey[512], dhex[2 * GX_DIGEST_LEN + 1];
	size_t dklen = gx_digest_key(a->id, subj, dkey, sizeof(dkey));
	gx_digest_hex(dig, dhex);
	produce(a, a->dig_topic, dkey, dklen, dhex, strlen(dhex));

	if (a->nundo == a->capundo) {
		a->capundo = a->capundo ? a->capundo * 2 : 1024;
		a->undo = gx_realloc(a->undo, a->capundo * sizeof(*a->undo));
	}
	struct undo *u = &a->undo[a->nundo++];
	memcpy(u->subj, subj, GX_DIGEST_LEN);
	u->had = gx_digests_put(a->digests, subj, dig, u->old);
	a->batch.accepted++;
}

/* ---- start-up: the committed position and digests ---- */

struct pos_load {
	const char *id;
	json_t *position;
	json_t *counts;
	long bad;
};

static int on_position(void *opaque, const rd_kafka_message_t *m)
{
	struct pos_load *pl = opaque;
	if (m->key_len != strlen(pl->id) || memcmp(m->key, pl->id, m->key_len))
		return 0;
	json_decref(pl->position);
	json_decref(pl->counts);
	pl->position = pl->counts = NULL;
	if (!m->payload) /* a tombstone: start afresh */
		return 0;
	char err[256];
	if (gx_position_parse(m->payload, m->len, &pl->position, &pl->counts,
			      err, sizeof(err)))
		pl->bad++;
	return 0;
}

static int on_digest(void *opaque, const rd_kafka_message_t *m)
{
	struct adapter *a = opaque;
	unsigned char subj[GX_DIGEST_LEN], dig[GX_DIGEST_LEN];
	switch (gx_digest_parse(a->id, m->key, m->key_len, m->payload, m->len,
				subj, dig)) {
	case 1: gx_digests_put(a->digests, subj, dig, NULL); break;
	case 2: gx_digests_del(a->digests, subj); break;
	case -1: a->digest_bad++; break;
	default: break;
	}
	return 0;
}

/* Read a whole state topic; a topic created a moment ago may take a while
 * to show up in the metadata, hence the retries. */
static gx_err_t read_state(gx_conf_t *conf, const struct adapter_conf *ac,
			   const char *topic, gx_state_cb cb, void *opaque,
			   char *err, size_t errsz)
{
	gx_state_reader_t *sr = NULL;
	gx_err_t e;
	for (int tries = 0;; tries++) {
		e = gx_state_reader_new(conf, ac->brokers, topic, &sr, err, errsz);
		if (!e || tries >= 20)
			break;
		struct timespec ts = {0, 500 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (e)
		return e;
	e = gx_state_reader_catch_up(sr, cb, opaque, (int)ac->state_timeout_ms,
				     err, errsz);
	gx_state_reader_destroy(sr);
	return e;
}

/* The default adapter id: provider.item.<12 hex digits naming the source>. */
static char *default_id(const struct adapter_conf *ac)
{
	char *what;
	if (!strcmp(ac->source_type, "pg")) {
		what = gx_asprintf("pg:%s:%s", ac->pg_table, ac->pg_column);
	} else {
		char real[PATH_MAX];
		const char *p = realpath(ac->source_path, real) ? real
							       : ac->source_path;
		what = gx_asprintf("%s:%s", ac->source_type, p);
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(what, strlen(what), md, &mdlen, EVP_sha256(), NULL);
	free(what);
	return gx_asprintf("%s.%s.%02x%02x%02x%02x%02x%02x", ac->provider,
			   ac->item, md[0], md[1], md[2], md[3], md[4], md[5]);
}

/* Adapter ids go into keys "<id>/...": letters, digits, '.', '_', '-'. */
static int id_ok(const char *id)
{
	size_t n = strlen(id);
	if (n < 1 || n > 200)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-", id[i]))
			return 0;
	return 1;
}

struct catalog_load {
	gx_catalog_t *cat;
};

static int on_catalog(void *opaque, const rd_kafka_message_t *m)
{
	struct catalog_load *cl = opaque;
	char err[512];
	char *key = gx_strndup(m->key ? m->key : "", m->key_len);
	if (gx_catalog_apply(cl->cat, key, m->payload, m->len, m->offset, err,
			     sizeof(err)))
		gx_log(GX_LOG_WARN, "catalog_item_refused", "offset=%lld error=%s",
		       (long long)m->offset, err);
	free(key);
	return 0;
}

/* Sleep up to ms, waking early on a stop signal. */
static void nap(int64_t ms)
{
	int64_t until = gx_mono_ms() + ms, left;
	/* In steps of at most 20 ms, so a stop signal is seen soon; never
	 * past `until` (a 10 ms poll interval is 10 ms, not 20). */
	while (!stop && (left = until - gx_mono_ms()) > 0) {
		struct timespec ts = {0, (left < 20 ? left : 20) * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* The summary: the adapter_done log line and, on stdout, one count a line. */
static void summary(struct adapter *a, const char *how)
{
	gx_buf_t r;
	gx_buf_init(&r);
	const char *k;
	json_t *v;
	json_object_foreach(a->pass.reasons, k, v)
	    gx_buf_printf(&r, " refused.%s=%lld", k,
			  (long long)json_integer_value(v));
	char q[1100];
	gx_log(GX_LOG_INFO, "adapter_done",
	       "source=%s end=%s accepted=%ld refused=%ld skipped_unchanged=%ld%s "
	       "txn_commits=%ld txn_aborts=%ld digests=%zu",
	       gx_log_quote(gx_source_name(a->src), q, sizeof(q)), how,
	       a->pass.accepted, a->pass.refused, a->pass.skipped,
	       r.data ? gx_buf_cstr(&r) : "", a->commits, a->aborts,
	       gx_digests_count(a->digests));
	gx_buf_free(&r);
	printf("source: %s\n", gx_source_name(a->src));
	printf("accepted: %ld\n", a->pass.accepted);
	printf("refused: %ld\n", a->pass.refused);
	json_object_foreach(a->pass.reasons, k, v)
	    printf("  %s: %lld\n", k, (long long)json_integer_value(v));
	printf("skipped_unchanged: %ld\n", a->pass.skipped);
	fflush(stdout);
}

/* Read, publish and commit until the source ends (files) or a stop signal
 * (all). Returns an exit status. */
static int run(struct adapter *a)
{
	char err[1024], q[1100];
	const struct adapter_conf *ac = a->ac;
	int follows = gx_source_follows(a->src);
	int io_failed = 0;

	while (!stop) {
		gx_source_row_t row;
		gx_err_t e = gx_source_next(a->src, &row, err, sizeof(err));
		if (e == GX_ERR_EOF) {
			/* Caught up with a followed source: the open
			 * transaction lingers for more rows first, until
			 * the linger (or the interval) after its first. */
			int64_t open_ms = gx_mono_ms() - a->txn_started;
			int64_t linger = ac->commit_linger_ms < ac->commit_interval_ms
					     ? ac->commit_linger_ms
					     : ac->commit_interval_ms;
			if (follows && a->in_txn && open_ms < linger) {
				int64_t w = linger - open_ms;
				nap(w < ac->pg_poll_ms ? w : ac->pg_poll_ms);
				continue;
			}
			/* A file's end is recorded ("done") even when every
			 * row was committed already. */
			if (!follows && begin_txn(a))
				return GX_EXIT_RUNTIME;
			int cr = commit_txn(a);
			if (cr < 0)
				return GX_EXIT_RUNTIME;
			if (cr > 0)
				continue; /* aborted: read again */
			if (!follows)
				break;
			nap(ac->pg_poll_ms);
			continue;
		}
		if (e == GX_ERR_IO) {
			gx_log(GX_LOG_ERROR, "source_failed", "source=%s error=%s",
			       gx_log_quote(gx_source_name(a->src), q, 300),
			       gx_log_quote(err, q + 300, sizeof(q) - 300));
			int cr = commit_txn(a);
			if (cr < 0)
				return GX_EXIT_RUNTIME;
			if (!follows && cr == 0) {
				io_failed = 1;
				break;
			}
			nap(ac->pg_poll_ms);
			continue;
		}
		if (begin_txn(a))
			return GX_EXIT_RUNTIME;
		if (e == GX_ERR_INVALID)
			refuse(a, &row, row.reason ? row.reason : "invalid_row",
			       err);
		else
			process_row(a, &row);
		a->txn_rows++;
		if (gx_sealer_pending(a->sealer) &&
		    gx_mono_ms() - gx_sealer_opened(a->sealer) >=
			ac->seal_interval_ms)
			seal_batch(a);
		rd_kafka_poll(a->rk, 0);
		if ((a->txn_rows >= ac->batch_max ||
		     gx_mono_ms() - a->txn_started >= ac->commit_interval_ms) &&
		    commit_txn(a) < 0)
			return GX_EXIT_RUNTIME;
	}
	/* Stopped: what was read so far is committed; an abort here leaves
	 * those rows to the next run. */
	if (commit_txn(a) < 0)
		return GX_EXIT_RUNTIME;
	summary(a, io_failed ? "source_failed" : stop ? "stopped" : "end");
	return io_failed ? GX_EXIT_RUNTIME : GX_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct adapter_conf ac;
	gx_conf_t conf;
	char err[1024], q[1100];
	const char *conf_file = NULL, *brokers = NULL;
	gx_strv_t overrides;
	gx_strv_init(&overrides);

	gx_log_init("govex-adapter", GX_LOG_INFO);
	gx_kafka_set_logger(gx_log_kafka);
	if (gx_conf_init(&conf, adapter_defs, GX_ARRAY_SIZE(adapter_defs), &ac,
			 err, sizeof(err))) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		return GX_EXIT_USAGE;
	}
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"brokers", required_argument, NULL, 'b'},
	    {"set", required_argument, NULL, 'o'},
	    {"provider", required_argument, NULL, 'P'},
	    {"item", required_argument, NULL, 'I'},
	    {"csv", required_argument, NULL, 'C'},
	    {"jsonl", required_argument, NULL, 'J'},
	    {"mapping", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	int c;
	while ((c = getopt_long(argc, argv, "c:b:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf_file = optarg; break;
		case 'b': brokers = optarg; break;
		case 'o': gx_strv_push(&overrides, optarg); break;
		case 'P': opt_set(&overrides, "adapter.provider", optarg); break;
		case 'I': opt_set(&overrides, "adapter.item", optarg); break;
		case 'C':
			opt_set(&overrides, "source.type", "csv");
			opt_set(&overrides, "source.path", optarg);
			break;
		case 'J':
			opt_set(&overrides, "source.type", "jsonl");
			opt_set(&overrides, "source.path", optarg);
			break;
		case 'M': opt_set(&overrides, "source.mapping", optarg); break;
		case 'h': usage(&conf, stdout); return GX_EXIT_OK;
		default: usage(&conf, stderr); return GX_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "govex-adapter: unexpected argument '%s'\n",
			argv[optind]);
		return GX_EXIT_USAGE;
	}
	/* Command-line settings come after the file so they win. */
	gx_err_t ce = gx_conf_setup(&conf, conf_file, &overrides, brokers, err,
				    sizeof(err));
	gx_strv_free(&overrides);
	if (ce) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		gx_conf_free(&conf);
		return GX_EXIT_USAGE;
	}
	gx_loglevel_t lvl;
	gx_loglevel_parse(ac.log_level, &lvl);
	gx_log_init("govex-adapter", lvl);
	/* From here a stop signal ends the adapter cleanly, during start-up
	 * too (the default action would kill it with status 143). */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	struct adapter a;
	memset(&a, 0, sizeof(a));
	a.ac = &ac;
	gx_tally_init(&a.pass);
	gx_tally_init(&a.batch);
	gx_buf_init(&a.buf);
	gx_buf_init(&a.scratch);
	int rc = GX_EXIT_USAGE;
	gx_schemas_t *schemas = NULL;
	gx_catalog_t *cat = NULL;
	char *cat_topic = NULL, *txn_id = NULL;
	int have_value = 0;
	struct pos_load pl = {NULL, NULL, NULL, 0};
	const char **pgcols = NULL;
	gx_http_t *http = NULL;

	if (gx_srctype_parse(ac.source_type, &a.sc.type)) {
		fprintf(stderr, "govex-adapter: source.type: unknown\n");
		goto out;
	}
	int is_pg = a.sc.type == GX_SRC_PG;
	if (!ac.provider || !ac.item ||
	    (!is_pg && !ac.source_path) ||
	    (is_pg && (!ac.pg_table || !ac.pg_column))) {
		fprintf(stderr, "govex-adapter: adapter.provider (--provider), "
				"adapter.item (--item) and a source are required: "
				"source.path (--csv, --jsonl), or source.pg.table and "
				"source.pg.cursor.column with source.type=pg\n");
		goto out;
	}
	if (gx_check_code("provider", ac.provider, err, sizeof(err)) ||
	    gx_check_code("item", ac.item, err, sizeof(err))) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		goto out;
	}
	a.sc.path = ac.source_path;
	a.sc.pg_conninfo = ac.pg_conninfo;
	a.sc.pg_table = ac.pg_table;
	a.sc.pg_column = ac.pg_column;
	a.sc.pg_batch = (long)ac.pg_batch;
	a.id = ac.id ? gx_strdup(ac.id) : default_id(&ac);
	if (!id_ok(a.id)) {
		fprintf(stderr, "govex-adapter: adapter.id '%s': 1 to 200 letters, "
				"digits, '.', '_' or '-'\n", a.id);
		goto out;
	}
	txn_id = ac.txn_id ? gx_strdup(ac.txn_id)
			   : gx_asprintf("%s.adapter.%s", ac.prefix, a.id);
	if (ac.digest_secret_file &&
	    gx_secret_read(ac.digest_secret_file, a.secret, &a.secretlen, err,
			   sizeof(err))) {
		fprintf(stderr, "govex-adapter: adapter.digest.secret.file: %s\n",
			err);
		goto out;
	}

	rc = GX_EXIT_RUNTIME;
	a.reg = gx_metrics_new();
	if (metrics_setup(&a, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "metrics_failed", "error=\"%s\"", err);
		goto out;
	}
	/* The endpoint serves the adapter's metrics, not its data: an adapter
	 * whose port is taken still does its work (and shows as down to
	 * Prometheus). */
	if (gx_http_start(ac.http_address, (int)ac.http_port, a.reg, &http, err,
			  sizeof(err))) {
		gx_log(GX_LOG_WARN, "http_failed", "address=%s port=%d error=%s",
		       ac.http_address, (int)ac.http_port,
		       gx_log_quote(err, q, sizeof(q)));
	} else {
		gx_http_set_ready(http, ready, &a);
		gx_log(GX_LOG_INFO, "http_listening", "address=%s port=%d",
		       ac.http_address, gx_http_port(http));
	}
	if (gx_schemas_new(&schemas, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "schemas_failed", "error=\"%s\"", err);
		goto out;
	}
	/* The catalogue says which library the item belongs to and who
	 * provides it; an adapter may publish only its own agency's items. */
	cat = gx_catalog_new(schemas);
	cat_topic = gx_topic(ac.prefix, "catalog");
	struct catalog_load cl = {cat};
	gx_state_reader_t *sr = NULL;
	if (gx_state_reader_new(&conf, ac.brokers, cat_topic, &sr, err, sizeof(err)) ||
	    gx_state_reader_catch_up(sr, on_catalog, &cl, (int)ac.catalog_timeout_ms,
				     err, sizeof(err))) {
		gx_state_reader_destroy(sr);
		gx_log(GX_LOG_ERROR, "catalog_unavailable", "error=\"%s\"", err);
		goto out;
	}
	gx_state_reader_destroy(sr);
	const gx_cat_item_t *item = gx_catalog_get(cat, ac.item);
	if (!item) {
		gx_log(GX_LOG_ERROR, "unknown_item", "item=%s", ac.item);
		fprintf(stderr, "govex-adapter: item %s is not in the catalogue\n", ac.item);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	if (strcmp(item->provider, ac.provider)) {
		fprintf(stderr, "govex-adapter: item %s is provided by %s, not %s\n",
			ac.item, item->provider, ac.provider);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	a.lib = item->lib;
	if (ac.mapping && gx_mapping_load(a.lib, ac.mapping, &a.map, err, sizeof(err))) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	/* A table is asked for the mapped columns only. */
	pgcols = gx_calloc(a.lib->nfields, sizeof(char *));
	size_t npgcols = 0;
	for (size_t i = 0; i < a.lib->nfields; i++)
		if (gx_mapping_column(a.map, a.lib, i))
			pgcols[npgcols++] = gx_mapping_column(a.map, a.lib, i);
	a.sc.pg_columns = pgcols;
	a.sc.pg_ncolumns = npgcols;
	a.topic = gx_topic_ingest(ac.prefix, a.lib->name);
	a.rej_topic = gx_topic(ac.prefix, "rejected");
	a.pos_topic = gx_topic(ac.prefix, "adapter.positions");
	a.dig_topic = gx_topic(ac.prefix, "adapter.digests");
	a.seal_topic = gx_topic(ac.prefix, "seals");
	/* Sealing: suite, root, keyring and this provider's current key. */
	if (gx_sealcheck_open(&ac.seal, &a.sc_keys, err, sizeof(err)) ||
	    !(a.key = load_current_key(&a, err, sizeof(err)))) {
		fprintf(stderr, "govex-adapter: seals: %s\n", err);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	a.sealer = gx_sealer_new(a.key);
	/* E-licences are sealed one by one (art. 16): each carries a seal
	 * of its own, as a paper licence does. */
	a.seal_max = strcmp(a.lib->name, "e_licence") ? (size_t)ac.seal_batch_max : 1;

	const char *const extra[] = {"transactional.id", txn_id,
				     "enable.idempotence", "true",
				     "acks", "all",
				     "linger.ms", "20",
				     "compression.type", "lz4", NULL};
	rd_kafka_conf_t *kc;
	if (gx_kafka_conf(&conf, ac.brokers, extra, &kc, err, sizeof(err))) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
	rd_kafka_conf_set_opaque(kc, &a);
	a.rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
	if (!a.rk) {
		rd_kafka_conf_destroy(kc);
		gx_log(GX_LOG_ERROR, "producer_failed", "error=\"%s\"", err);
		goto out;
	}
	/* Until `govexctl setup` creates them: the adapter's own state
	 * topics, compacted, one partition each. */
	static const char *const compact[] = {"cleanup.policy", "compact", NULL};
	gx_topic_spec_t specs[] = {{a.pos_topic, 1, -1, compact},
				   {a.dig_topic, 1, -1, compact}};
	int created = 0;
	if (gx_kafka_create_topics(a.rk, specs, 2, 30000, &created, err,
				   sizeof(err))) {
		gx_log(GX_LOG_ERROR, "topics_failed", "error=%s",
		       gx_log_quote(err, q, sizeof(q)));
		goto out;
	}
	if (created)
		gx_log(GX_LOG_INFO, "topics_created", "count=%d positions=%s digests=%s",
		       created, a.pos_topic, a.dig_topic);
	/* Fences any earlier instance with this id and aborts the transaction
	 * it left open, so what is read next is all that was committed. */
	rd_kafka_error_t *ke = rd_kafka_init_transactions(a.rk, 60000);
	if (ke) {
		txn_error(ke, "init");
		goto out;
	}

	pl.id = a.id;
	if (read_state(&conf, &ac, a.pos_topic, on_position, &pl, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "positions_unavailable", "error=%s",
		       gx_log_quote(err, q, sizeof(q)));
		goto out;
	}
	if (pl.bad)
		gx_log(GX_LOG_WARN, "position_unreadable", "adapter=%s", a.id);
	a.digests = gx_digests_new();
	int64_t t0 = gx_mono_ms();
	if (read_state(&conf, &ac, a.dig_topic, on_digest, &a, err, sizeof(err))) {
		gx_log(GX_LOG_ERROR, "digests_unavailable", "error=%s",
		       gx_log_quote(err, q, sizeof(q)));
		goto out;
	}
	if (a.digest_bad)
		gx_log(GX_LOG_WARN, "digests_unreadable", "count=%ld", a.digest_bad);

	a.committed = pl.position ? json_incref(pl.position) : NULL;
	if (open_source(&a, err, sizeof(err))) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	gx_resume_t resumed = gx_source_resumed(a.src);
	if (resumed == GX_RESUME_CONTINUE)
		gx_tally_from_json(&a.pass, pl.counts);
	else if (resumed == GX_RESUME_CHANGED)
		gx_log(GX_LOG_WARN, "source_changed",
		       "adapter=%s note=\"source identity differs from the "
		       "committed position; reading it from the beginning\"",
		       a.id);
	if (gx_source_unindexed(a.src))
		gx_log(GX_LOG_WARN, "source_cursor_unindexed",
		       "table=%s column=%s note=\"no btree index starts with the "
		       "cursor column: every poll scans and sorts the whole table\"",
		       gx_log_quote(ac.pg_table, q, 500),
		       gx_log_quote(ac.pg_column, q + 500, sizeof(q) - 500));
	/* Files without a mapping must name every column like a field. */
	a.binder = gx_binder_new(a.lib, a.map, !a.map && !is_pg);
	size_t ncols;
	const char *const *cols = gx_source_columns(a.src, &ncols);
	char where[600];
	snprintf(where, sizeof(where), "%s%s", gx_source_name(a.src),
		 is_pg ? "" : ":1");
	if (cols && gx_binder_check(a.binder, cols, ncols, where, err, sizeof(err))) {
		fprintf(stderr, "govex-adapter: %s\n", err);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	a.vals = gx_calloc(a.lib->nfields, sizeof(char *));
	avro_generic_value_new(a.lib->ingest_iface, &a.ingest);
	have_value = 1;

	gx_log(GX_LOG_INFO, "adapter_started",
	       "source=%s type=%s item=%s library=%s topic=%s adapter=%s "
	       "resume=%s start=%s digests=%zu digests_ms=%lld suite=%s "
	       "key_id=%s seal_batch=%zu",
	       gx_log_quote(gx_source_name(a.src), q, 500), ac.source_type,
	       ac.item, a.lib->name, a.topic, a.id, gx_resume_name(resumed),
	       gx_log_quote(gx_source_start(a.src), q + 500, sizeof(q) - 500),
	       gx_digests_count(a.digests), (long long)(gx_mono_ms() - t0),
	       ac.seal.suite, gx_sealkey_key_id(a.key), a.seal_max);
	a.running = 1;
	rc = run(&a);
out:
	gx_http_stop(http); /* before the registry it serves goes */
	gx_metrics_destroy(a.reg);
	free(pgcols);
	if (have_value)
		avro_value_decref(&a.ingest);
	gx_source_destroy(a.src);
	gx_binder_destroy(a.binder);
	gx_mapping_destroy(a.map);
	gx_digests_destroy(a.digests);
	json_decref(a.committed);
	json_decref(pl.position);
	json_decref(pl.counts);
	gx_tally_free(&a.pass);
	gx_tally_free(&a.batch);
	gx_buf_free(&a.buf);
	gx_buf_free(&a.scratch);
	free(a.undo);
	free(a.vals);
	if (a.rk)
		rd_kafka_destroy(a.rk);
	gx_catalog_destroy(cat);
	gx_schemas_destroy(schemas);
	free(a.topic);
	free(a.rej_topic);
	free(a.pos_topic);
	free(a.dig_topic);
	free(a.seal_topic);
	gx_sealer_destroy(a.sealer);
	gx_sealkey_destroy(a.key);
	gx_sealcheck_destroy(a.sc_keys);
	free(a.id);
	free(txn_id);
	free(cat_topic);
	gx_conf_free(&conf);
	return rc;
}
