/*
 * gx_lag.h - how far behind the readers of the exchange are, from Kafka's
 * own bookkeeping (admin API: ListConsumerGroups, ListConsumerGroupOffsets,
 * DescribeConsumerGroups; no state of ours):
 *
 *  - consumer agencies: for each delivery topic <prefix>.deliver.<C>.<L>
 *    and each consumer group with committed offsets on it (`govexctl
 *    consume` uses govex-consume-<C>), the records delivered and not yet
 *    read; the agency is the <C> of the topic name, whatever the group is
 *    called;
 *  - broker instances: the same for each group with committed offsets on
 *    <prefix>.ingest.* (a govex-broker group), and, on request, the group's
 *    members: the broker instances up now.
 *
 * Lag is counted in records: a partition's lag is the number of committed
 * records between the group's committed offset (the partition's first kept
 * offset when the group committed none there, as auto.offset.reset=earliest
 * reads) and the partition's end. Offsets alone overstate it, since every
 * transaction leaves a marker that occupies an offset and is never
 * delivered, so gaps of up to GX_LAG_EXACT_MAX offsets are counted record by
 * record (GX_LAG_EXACT_BUDGET offsets a read at most, the smallest gaps
 * first); a larger gap, or one past the budget or the deadline, is given as
 * the offset difference and the row is marked inexact.
 *
 * A topic no group has read shows one row with group NULL and every kept
 * record as its lag.
 */
#ifndef GX_LAG_H
#define GX_LAG_H

#include <stddef.h>
#include <stdint.h>

#include "gx.h"
#include "gx_scan.h"

/* Largest per-partition gap counted record by record, and most offsets
 * read for exact counts in one gx_lag_read (smallest gaps first). */
#define GX_LAG_EXACT_MAX 20000
#define GX_LAG_EXACT_BUDGET 500000

typedef enum {
	GX_TOPIC_OTHER = 0,
	GX_TOPIC_INGEST,	/* <prefix>.ingest.<library> */
	GX_TOPIC_DELIVER	/* <prefix>.deliver.<consumer>.<library> */
} gx_topic_kind_t;

/*
 * What kind of govex topic name is under prefix; for ingest and delivery
 * topics, consumer (delivery only) and library point into name and are
 * *consumer_len / *library_len long. A consumer is an agency code
 * ([A-Za-z0-9_-], 1..64), a library [a-z0-9_]+.
 */
gx_topic_kind_t gx_topic_parse(const char *prefix, const char *name,
			       const char **consumer, size_t *consumer_len,
			       const char **library, size_t *library_len);

typedef struct gx_lag_row {
	char *topic;
	char *consumer;		/* delivery topics: the agency; ingest: NULL */
	char *library;
	char *group;		/* NULL: no group has committed offsets here */
	int64_t lag;		/* records not yet read, all partitions */
	int partitions;
	int exact;		/* every partition counted record by record */
	int worst;		/* the row of its topic with the largest lag */
} gx_lag_row_t;

typedef struct gx_lag_member {
	char *client_id;
	char *host;
	int partitions;		/* assigned to it */
} gx_lag_member_t;

typedef struct gx_lag_group {
	char *id;
	int broker;		/* has committed offsets on ingest topics */
	int consumer;		/* has committed offsets on delivery topics */
	char *state;		/* GX_LAG_MEMBERS: "Stable", "Empty", ...; else NULL */
	gx_lag_member_t *members;
	size_t nmembers;
} gx_lag_group_t;

typedef struct gx_lag {
	gx_lag_row_t *delivery;	/* sorted by topic, then group */
	size_t ndelivery;
	gx_lag_row_t *ingest;	/* GX_LAG_INGEST; sorted by topic, then group */
	size_t ningest;
	gx_lag_group_t *groups;	/* groups with offsets on govex topics, by id */
	size_t ngroups;
	int64_t at_ms;		/* when it was read */
	int complete;		/* every group and partition answered in time */
} gx_lag_t;

#define GX_LAG_INGEST 1		/* also the broker groups on ingest topics */
#define GX_LAG_MEMBERS 2	/* also describe the groups (members, state) */

/*
 * Read the lag of every reader of prefix's delivery (and with GX_LAG_INGEST
 * ingest) topics within timeout_ms. What does not answer in time is left
 * out or estimated and complete is 0; GX_ERR_KAFKA only when the cluster
 * cannot be read at all. *out is the caller's (gx_lag_destroy).
 */
gx_err_t gx_lag_read(gx_scan_t *s, const char *prefix, int flags, int timeout_ms,
		     gx_lag_t **out, char *errstr, size_t errstr_size);
void gx_lag_destroy(gx_lag_t *l);

/*
 * The pure part, for tests: a partition's [start, end) from the group's
 * committed offset (negative: none) and the partition's kept range.
 */
void gx_lag_span(int64_t committed, int64_t low, int64_t end, int64_t *start);

#endif /* GX_LAG_H */
