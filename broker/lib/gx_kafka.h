/*
 * gx_kafka.h - what every govex program does with Kafka: client
 * configuration from the config table, topic names, topic creation through
 * the admin API, reading a state topic (catalogue, approvals) to its end,
 * and the govex.rejected record.
 */
#ifndef GX_KAFKA_H
#define GX_KAFKA_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>

#include "gx.h"
#include "gx_conf.h"

/* Topic name helpers: "<prefix>.<kind>" and "<prefix>.<kind>.<a>[.<b>]". */
char *gx_topic(const char *prefix, const char *kind);
char *gx_topic_ingest(const char *prefix, const char *library);
char *gx_topic_deliver(const char *prefix, const char *consumer,
		       const char *library);

/*
 * Agency codes and item ids go into topic names and keys, so they are
 * restricted to [A-Za-z0-9_-] (1..64 characters).
 */
gx_err_t gx_check_code(const char *what, const char *code, char *errstr,
		       size_t errstr_size);

/*
 * A new librdkafka configuration: bootstrap servers, then every kafka.*
 * pass-through setting of conf, in order (so a file can override anything),
 * then the extra pairs (NULL-terminated list of key, value) which the program
 * requires (e.g. isolation.level). Fails naming the bad property.
 */
gx_err_t gx_kafka_conf(const gx_conf_t *conf, const char *brokers,
		       const char *const *extra, rd_kafka_conf_t **out,
		       char *errstr, size_t errstr_size);

/*
 * Route librdkafka's own log lines (level per syslog, facility, message)
 * to fn for every client gx_kafka_conf makes from now on; programs pass a
 * function that writes key=value lines. NULL restores librdkafka's default.
 */
void gx_kafka_set_logger(void (*fn)(int level, const char *fac,
				    const char *msg));

/* Produce a copy of key and value to topic, waiting (serving delivery
 * reports) while librdkafka's queue is full. */
rd_kafka_resp_err_t gx_kafka_produce(rd_kafka_t *rk, const char *topic,
				     const void *key, size_t klen,
				     const void *val, size_t vlen);

/* How many partitions topic has (GX_ERR_NOTFOUND if it does not exist). */
gx_err_t gx_kafka_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
			     int *n, char *errstr, size_t errstr_size);

/* Topic to create: name, partitions, and a NULL-terminated key/value list
 * of topic configs (e.g. cleanup.policy=compact). */
typedef struct gx_topic_spec {
	const char *name;
	int partitions;
	int replication;
	const char *const *configs;
} gx_topic_spec_t;

/* Create topics (an existing topic is not an error). created (may be NULL)
 * is set to how many were new. */
gx_err_t gx_kafka_create_topics(rd_kafka_t *rk, const gx_topic_spec_t *specs,
				size_t n, int timeout_ms, int *created,
				char *errstr, size_t errstr_size);

/* Callback per message of a state topic; return non-zero to stop. */
typedef int (*gx_state_cb)(void *opaque, const rd_kafka_message_t *m);

/*
 * A reader of one whole topic (all partitions, from the start), for state
 * that is materialised in memory: catalogue, approvals. Reads committed data
 * only. It tracks the high watermarks seen when it was started or last
 * caught up, so a caller can tell whether it has everything written before.
 */
typedef struct gx_state_reader gx_state_reader_t;

gx_err_t gx_state_reader_new(const gx_conf_t *conf, const char *brokers,
			     const char *topic, gx_state_reader_t **out,
			     char *errstr, size_t errstr_size);
void gx_state_reader_destroy(gx_state_reader_t *sr);
/* Read until every partition is at the high watermark it had when this call
 * started, calling cb for each message. It fails when nothing can be read
 * for timeout_ms (a stall); a long topic may take longer in all. */
gx_err_t gx_state_reader_catch_up(gx_state_reader_t *sr, gx_state_cb cb,
				  void *opaque, int timeout_ms, char *errstr,
				  size_t errstr_size);
/* Read whatever has arrived, without waiting longer than timeout_ms. */
gx_err_t gx_state_reader_poll(gx_state_reader_t *sr, gx_state_cb cb,
			      void *opaque, int timeout_ms, char *errstr,
			      size_t errstr_size);

/*
 * The value written to govex.rejected for something refused:
 *   {"at":MS,"by":PROG,"reason":CODE,"detail":TEXT,"source":S,
 *    "provider":P,"item":I,"record_id":R, ...}
 * NULL arguments are left out. detail must not carry personal data.
 */
json_t *gx_rejected_json(const char *by, const char *reason,
			 const char *detail, const char *source,
			 const char *provider, const char *item,
			 const char *record_id, int64_t at_ms);

/* A new random UUID string (36 characters + NUL). */
void gx_uuid(char out[37]);

#endif /* GX_KAFKA_H */
