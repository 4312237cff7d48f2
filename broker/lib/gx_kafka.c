/*
 * gx_kafka.c - Kafka plumbing shared by the programs.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <uuid/uuid.h>

#include "gx.h"
#include "gx_kafka.h"
#include "gx_tls.h"

char *gx_topic(const char *prefix, const char *kind)
{
	return gx_asprintf("%s.%s", prefix, kind);
}

char *gx_topic_ingest(const char *prefix, const char *library)
{
	return gx_asprintf("%s.ingest.%s", prefix, library);
}

char *gx_topic_deliver(const char *prefix, const char *consumer,
		       const char *library)
{
	return gx_asprintf("%s.deliver.%s.%s", prefix, consumer, library);
}

gx_err_t gx_check_code(const char *what, const char *code, char *errstr,
		       size_t errstr_size)
{
	size_t n = code ? strlen(code) : 0;
	if (n < 1 || n > 64)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "%s must be 1 to 64 characters", what);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)code[i]) && code[i] != '-' &&
		    code[i] != '_')
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s '%s': only letters, digits, '-' "
					 "and '_' are allowed",
					 what, code);
	return GX_OK;
}

static void (*kafka_logger)(int, const char *, const char *);

void gx_kafka_set_logger(void (*fn)(int level, const char *fac,
				    const char *msg))
{
	kafka_logger = fn;
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
			 const char *buf)
{
	(void)rk;
	if (kafka_logger)
		kafka_logger(level, fac, buf);
}

gx_err_t gx_kafka_conf(const gx_conf_t *conf, const char *brokers,
		       const char *const *extra, rd_kafka_conf_t **out,
		       char *errstr, size_t errstr_size)
{
	char err[512];
	rd_kafka_conf_t *kc = rd_kafka_conf_new();
	if (kafka_logger)
		rd_kafka_conf_set_log_cb(kc, kafka_log_cb);
	if (brokers && rd_kafka_conf_set(kc, "bootstrap.servers", brokers, err,
					 sizeof(err)) != RD_KAFKA_CONF_OK)
		goto fail;
	for (size_t i = 0; conf && i < conf->nkafka; i++) {
		/* Issue 8: a TLS key or client certificate others may read
		 * is refused before any connection is made (gx_tls.h). */
		if (gx_tls_check_kafka_file(conf->kafka[i].key,
					    conf->kafka[i].value, err,
					    sizeof(err))) {
			rd_kafka_conf_destroy(kc);
			return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					 "kafka.%s", err);
		}
		if (rd_kafka_conf_set(kc, conf->kafka[i].key,
				      conf->kafka[i].value, err,
				      sizeof(err)) != RD_KAFKA_CONF_OK)
			goto fail;
	}
	for (size_t i = 0; extra && extra[i]; i += 2)
		if (rd_kafka_conf_set(kc, extra[i], extra[i + 1], err,
				      sizeof(err)) != RD_KAFKA_CONF_OK)
			goto fail;
	*out = kc;
	return GX_OK;
fail:
	rd_kafka_conf_destroy(kc);
	return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG, "kafka: %s", err);
}

rd_kafka_resp_err_t gx_kafka_produce(rd_kafka_t *rk, const char *topic,
				     const void *key, size_t klen,
				     const void *val, size_t vlen)
{
	for (;;) {
		rd_kafka_resp_err_t e = rd_kafka_producev(
		    rk, RD_KAFKA_V_TOPIC(topic),
		    RD_KAFKA_V_KEY((void *)key, klen),
		    RD_KAFKA_V_VALUE((void *)val, vlen),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			return e;
		rd_kafka_poll(rk, 100);
	}
}

gx_err_t gx_kafka_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
			     int *n, char *errstr, size_t errstr_size)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
	rd_kafka_topic_destroy(rkt);
	gx_err_t ret = GX_OK;
	if (e)
		ret = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA, "topic %s: %s",
				topic, rd_kafka_err2str(e));
	else if (md->topic_cnt != 1 || md->topics[0].err ||
		 md->topics[0].partition_cnt < 1)
		ret = gx_seterr(errstr, errstr_size, GX_ERR_NOTFOUND,
				"topic %s does not exist (govexctl setup creates it)",
				topic);
	else
		*n = md->topics[0].partition_cnt;
	if (md)
		rd_kafka_metadata_destroy(md);
	return ret;
}

gx_err_t gx_kafka_create_topics(rd_kafka_t *rk, const gx_topic_spec_t *specs,
				size_t n, int timeout_ms, int *created,
				char *errstr, size_t errstr_size)
{
	char err[512];
	gx_err_t ret = GX_OK;
	rd_kafka_NewTopic_t **nt = gx_calloc(n, sizeof(*nt));
	if (created)
		*created = 0;
	for (size_t i = 0; i < n; i++) {
		nt[i] = rd_kafka_NewTopic_new(specs[i].name, specs[i].partitions,
					      specs[i].replication, err,
					      sizeof(err));
		if (!nt[i]) {
			ret = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
					"topic %s: %s", specs[i].name, err);
			goto out;
		}
		for (size_t j = 0; specs[i].configs && specs[i].configs[j];
		     j += 2)
			rd_kafka_NewTopic_set_config(nt[i], specs[i].configs[j],
						     specs[i].configs[j + 1]);
	}
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AdminOptions_t *opt =
	    rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	rd_kafka_AdminOptions_set_operation_timeout(opt, timeout_ms, err,
						    sizeof(err));
	rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, err,
						  sizeof(err));
	rd_kafka_CreateTopics(rk, nt, n, opt, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
	if (!ev) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				"create topics: timed out");
	} else if (rd_kafka_event_error(ev)) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				"create topics: %s",
				rd_kafka_event_error_string(ev));
	} else {
		const rd_kafka_CreateTopics_result_t *res =
		    rd_kafka_event_CreateTopics_result(ev);
		size_t cnt;
		const rd_kafka_topic_result_t **tr =
		    rd_kafka_CreateTopics_result_topics(res, &cnt);
		for (size_t i = 0; i < cnt; i++) {
			rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
			if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
				if (created)
					(*created)++;
			} else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS &&
				   !ret) {
				ret = gx_seterr(
				    errstr, errstr_size, GX_ERR_KAFKA,
				    "create topic %s: %s",
				    rd_kafka_topic_result_name(tr[i]),
				    rd_kafka_topic_result_error_string(tr[i]));
			}
		}
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_queue_destroy(q);
out:
	for (size_t i = 0; i < n; i++)
		if (nt[i])
			rd_kafka_NewTopic_destroy(nt[i]);
	free(nt);
	return ret;
}

struct gx_state_reader {
	rd_kafka_t *rk;
	char *topic;
	int npart;
	int64_t *target; /* high watermark to reach per partition */
	int64_t *eof;	 /* end offset last reported per partition, -1: none */
};

gx_err_t gx_state_reader_new(const gx_conf_t *conf, const char *brokers,
			     const char *topic, gx_state_reader_t **out,
			     char *errstr, size_t errstr_size)
{
	static const char *const extra[] = {
	    "group.id", "govex-state-reader", /* required, never committed */
	    "enable.auto.commit", "false",
	    "enable.auto.offset.store", "false",
	    "isolation.level", "read_committed",
	    "enable.partition.eof", "true",
	    /* A revoke must reach the broker promptly: do not let the
	     * fetcher sit on an idle state topic for the default 500 ms. */
	    "fetch.wait.max.ms", "50",
	    NULL};
	char err[512];
	rd_kafka_conf_t *kc;
	gx_err_t ret = gx_kafka_conf(conf, brokers, extra, &kc, errstr,
				     errstr_size);
	if (ret)
		return ret;
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err));
	if (!rk) {
		rd_kafka_conf_destroy(kc);
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "state reader: %s", err);
	}
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
	rd_kafka_topic_destroy(rkt);
	if (e || md->topic_cnt != 1 || md->topics[0].err ||
	    md->topics[0].partition_cnt < 1) {
		const char *why =
		    e ? rd_kafka_err2str(e)
		      : (md->topic_cnt == 1 && md->topics[0].err
			     ? rd_kafka_err2str(md->topics[0].err)
			     : "no partitions");
		if (md)
			rd_kafka_metadata_destroy(md);
		rd_kafka_destroy(rk);
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "topic %s: %s (were the topics created? "
				 "govexctl setup)",
				 topic, why);
	}
	gx_state_reader_t *sr = gx_calloc(1, sizeof(*sr));
	sr->rk = rk;
	sr->topic = gx_strdup(topic);
	sr->npart = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	sr->target = gx_calloc((size_t)sr->npart, sizeof(int64_t));
	sr->eof = gx_calloc((size_t)sr->npart, sizeof(int64_t));
	for (int p = 0; p < sr->npart; p++)
		sr->eof[p] = -1;
	rd_kafka_topic_partition_list_t *tp =
	    rd_kafka_topic_partition_list_new(sr->npart);
	for (int p = 0; p < sr->npart; p++)
		rd_kafka_topic_partition_list_add(tp, topic, p)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	e = rd_kafka_assign(rk, tp);
	rd_kafka_topic_partition_list_destroy(tp);
	if (e) {
		gx_state_reader_destroy(sr);
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "topic %s: assign: %s", topic,
				 rd_kafka_err2str(e));
	}
	*out = sr;
	return GX_OK;
}

void gx_state_reader_destroy(gx_state_reader_t *sr)
{
	if (!sr)
		return;
	rd_kafka_consumer_close(sr->rk);
	rd_kafka_destroy(sr->rk);
	free(sr->topic);
	free(sr->target);
	free(sr->eof);
	free(sr);
}

/* Consume one message if any; 1 if a message was handled, 0 if none,
 * -1 on error (errstr set), -2 if the callback asked to stop. */
static int state_one(gx_state_reader_t *sr, gx_state_cb cb, void *opaque,
		     int timeout_ms, char *errstr, size_t errstr_size)
{
	rd_kafka_message_t *m = rd_kafka_consumer_poll(sr->rk, timeout_ms);
	if (!m)
		return 0;
	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if (m->partition >= 0 && m->partition < sr->npart)
			sr->eof[m->partition] = m->offset;
		rd_kafka_message_destroy(m);
		return 0;
	}
	if (m->err) {
		gx_seterr(errstr, errstr_size, GX_ERR_KAFKA, "topic %s: %s",
			  sr->topic, rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
		return -1;
	}
	int stop = cb(opaque, m);
	rd_kafka_message_destroy(m);
	return stop ? -2 : 1;
}

gx_err_t gx_state_reader_catch_up(gx_state_reader_t *sr, gx_state_cb cb,
				  void *opaque, int timeout_ms, char *errstr,
				  size_t errstr_size)
{
	int64_t deadline = gx_mono_ms() + timeout_ms;
	for (int p = 0; p < sr->npart; p++) {
		int64_t lo, hi;
		rd_kafka_resp_err_t e;
		/* A topic created a moment ago may not have its leader yet. */
		while ((e = rd_kafka_query_watermark_offsets(
			    sr->rk, sr->topic, p, &lo, &hi,
			    (int)(deadline - gx_mono_ms()) > 0
				? (int)(deadline - gx_mono_ms())
				: 1)) &&
		       (e == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
			e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
			e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) &&
		       gx_mono_ms() < deadline) {
			struct timespec pause = {0, 100 * 1000 * 1000};
			nanosleep(&pause, NULL);
		}
		if (e)
			return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
					 "topic %s [%d]: watermarks: %s",
					 sr->topic, p, rd_kafka_err2str(e));
		sr->target[p] = hi;
	}
	for (;;) {
		/* Done when every partition has reported its end at or past
		 * the target. End-of-partition is reported at the last stable
		 * offset (read_committed), which also covers the transaction
		 * markers that occupy offsets but are never delivered. */
		int done = 1;
		for (int p = 0; p < sr->npart; p++)
			if (sr->eof[p] < sr->target[p])
				done = 0;
		if (done)
			return GX_OK;
		int64_t left = deadline - gx_mono_ms();
		if (left <= 0)
			return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
					 "topic %s: not caught up (nothing read for %d ms)",
					 sr->topic, timeout_ms);
		int r = state_one(sr, cb, opaque, left > 100 ? 100 : (int)left,
				  errstr, errstr_size);
		if (r == -1)
			return GX_ERR_KAFKA;
		if (r == -2)
			return GX_OK;
		/* A long topic may take longer than timeout_ms to read: the
		 * limit is on a stall, not on the whole read. */
		if (r == 1)
			deadline = gx_mono_ms() + timeout_ms;
	}
}

gx_err_t gx_state_reader_poll(gx_state_reader_t *sr, gx_state_cb cb,
			      void *opaque, int timeout_ms, char *errstr,
			      size_t errstr_size)
{
	int r;
	while ((r = state_one(sr, cb, opaque, timeout_ms, errstr,
			      errstr_size)) == 1)
		timeout_ms = 0;
	return r == -1 ? GX_ERR_KAFKA : GX_OK;
}

json_t *gx_rejected_json(const char *by, const char *reason,
			 const char *detail, const char *source,
			 const char *provider, const char *item,
			 const char *record_id, int64_t at_ms)
{
	json_t *o = json_object();
	json_object_set_new(o, "at", json_integer(at_ms));
	json_object_set_new(o, "by", json_string(by));
	json_object_set_new(o, "reason", json_string(reason));
	if (detail)
		json_object_set_new(o, "detail", json_string(detail));
	if (source)
		json_object_set_new(o, "source", json_string(source));
	if (provider)
		json_object_set_new(o, "provider", json_string(provider));
	if (item)
		json_object_set_new(o, "item", json_string(item));
	if (record_id)
		json_object_set_new(o, "record_id", json_string(record_id));
	return o;
}

/*
 * A random (version 4) UUID. libuuid's uuid_generate_random asks the kernel
 * for 16 bytes, reseeds random(3) and reads the clock on every call, about
 * 5% of the adapter's time per row; these come from a per-thread pool
 * filled 4 KiB at a time from OpenSSL's CSPRNG (which reseeds itself after
 * a fork). A fork bumps the generation in the child, so a child never
 * hands out what is left of its parent's pool.
 */
static atomic_uint uuid_generation;
static pthread_once_t uuid_once = PTHREAD_ONCE_INIT;

static void uuid_forked(void)
{
	atomic_fetch_add(&uuid_generation, 1);
}

static void uuid_atfork(void)
{
	pthread_atfork(NULL, NULL, uuid_forked);
}

void gx_uuid(char out[37])
{
	static __thread unsigned char pool[4096];
	static __thread size_t used = sizeof(pool);
	static __thread unsigned generation;
	pthread_once(&uuid_once, uuid_atfork);
	unsigned g = atomic_load(&uuid_generation);
	if (used + 16 > sizeof(pool) || generation != g) {
		if (RAND_bytes(pool, sizeof(pool)) != 1) {
			uuid_t u;	/* no CSPRNG: libuuid's own */
			uuid_generate_random(u);
			uuid_unparse_lower(u, out);
			return;
		}
		used = 0;
		generation = g;
	}
	unsigned char *b = pool + used;
	used += 16;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	uuid_unparse_lower(b, out);
	OPENSSL_cleanse(b, 16);
}
