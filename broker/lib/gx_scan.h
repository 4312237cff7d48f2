/*
 * gx_scan.h - bounded reads of Kafka partitions for operations: the ends of
 * many partitions at once, where a point in time falls in them, and ranges
 * of offsets read concurrently within a deadline. What gx_lag (records not
 * yet read by a group), gx_ops (the newest record of each item, recent
 * denials) and the programs' status screens are built on.
 *
 * A scanner owns one Kafka consumer handle that never joins a group and
 * never commits (its group.id only satisfies librdkafka), reads committed
 * records only (read_committed) and may also be used for admin requests
 * (gx_scan_handle). One thread at a time.
 */
#ifndef GX_SCAN_H
#define GX_SCAN_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "gx.h"
#include "gx_conf.h"

typedef struct gx_scan gx_scan_t;

/* A new scanner for the cluster at brokers (kafka.* keys of conf apply). */
gx_err_t gx_scan_new(const gx_conf_t *conf, const char *brokers, gx_scan_t **out,
		     char *errstr, size_t errstr_size);
/* Accepts NULL. */
void gx_scan_destroy(gx_scan_t *s);
/* The handle, for admin requests and metadata; stays the scanner's. */
rd_kafka_t *gx_scan_handle(gx_scan_t *s);

/* A topic and its partition count. */
typedef struct gx_scan_topic {
	char *name;
	int partitions;
} gx_scan_topic_t;

/*
 * The topics whose names begin with name_prefix ("govex."), sorted by name;
 * *out is the caller's (gx_scan_topics_free). GX_ERR_KAFKA when the cluster
 * does not answer within timeout_ms.
 */
gx_err_t gx_scan_topics(gx_scan_t *s, const char *name_prefix, int timeout_ms,
			gx_scan_topic_t **out, size_t *n, char *errstr,
			size_t errstr_size);
void gx_scan_topics_free(gx_scan_topic_t *t, size_t n);

/* One partition and what to read of it. */
typedef struct gx_scan_range {
	const char *topic;	/* the caller's */
	int32_t partition;
	int64_t low;		/* gx_scan_ends: first offset still kept */
	int64_t end;		/* gx_scan_ends: offset after the last (stable) record */
	int64_t from;		/* first offset to read */
	int64_t to;		/* offset to stop before */
	int known;		/* gx_scan_ends found low and end */
	int done;		/* gx_scan_read read [from, to) to its end */
} gx_scan_range_t;

/*
 * Fill low and end of each range (known = 1), in two requests per partition
 * leader however many ranges there are. A partition Kafka cannot answer for
 * keeps known = 0. GX_ERR_KAFKA only when no partition could be answered.
 * end is the high watermark as a read_committed reader sees it (the last
 * stable offset); transaction markers occupy offsets below it, so end - from
 * counts them too.
 */
gx_err_t gx_scan_ends(gx_scan_t *s, gx_scan_range_t *r, size_t n, int timeout_ms,
		      char *errstr, size_t errstr_size);

/*
 * Set each range's from to the first offset whose record timestamp is at or
 * after ts_ms (end when there is none; known ranges only).
 */
gx_err_t gx_scan_from_time(gx_scan_t *s, gx_scan_range_t *r, size_t n,
			   int64_t ts_ms, int timeout_ms, char *errstr,
			   size_t errstr_size);

/*
 * Called for each record read, with the index of its range. Return 0 to go
 * on, 1 when nothing more of this range is wanted (its done is set).
 */
typedef int (*gx_scan_cb)(void *opaque, size_t range, const rd_kafka_message_t *m);

/*
 * Read the committed records of [from, to) of every range, all ranges at
 * once (at most one range per partition), until each is read to its end, to
 * the end of what is stable now, or the deadline. Ranges read fully get
 * done = 1; ranges with from >= to are done at once. Returns GX_OK even when
 * the deadline cut some ranges short (their done stays 0); GX_ERR_KAFKA on
 * a client failure.
 */
gx_err_t gx_scan_read(gx_scan_t *s, gx_scan_range_t *r, size_t n, int timeout_ms,
		      gx_scan_cb cb, void *opaque, char *errstr,
		      size_t errstr_size);

#endif /* GX_SCAN_H */
