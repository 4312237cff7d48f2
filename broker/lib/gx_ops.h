/*
 * gx_ops.h - what operators watch besides lag (gx_lag.h), read from the
 * topics themselves: how timely each provider is against the update period
 * its catalogue item promises (art. 11), and what was denied recently.
 */
#ifndef GX_OPS_H
#define GX_OPS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gx.h"
#include "gx_catalog.h"
#include "gx_scan.h"
#include "gx_schema.h"

/*
 * Seconds of a catalogue update period, English or Chinese: realtime / 实时
 * (counted as one minute), daily / 每日, weekly / 每周, monthly / 每月 (31
 * days), quarterly / 每季度 (92), half-yearly / 每半年 (183), yearly / 每年
 * (366). 0 for anything else (no promise to check).
 */
double gx_period_seconds(const char *period);

/* The newest ingest record found for one provider's item. */
typedef struct gx_newest {
	char *provider;
	char *item;
	int64_t collected_at;	/* ms since the epoch, from the envelope */
} gx_newest_t;

/*
 * The newest record of each (provider, item) on <prefix>.ingest.*, found by
 * reading each partition backwards from its end in growing chunks until it
 * has shown every catalogue item of its library, max_per_partition offsets
 * were read, or the deadline. With cat, only records of catalogue items
 * from the item's own provider count (what the broker would accept);
 * without it, only the last chunk of each partition is read. *complete is
 * 0 when some partition was cut short (an item not found may then exist
 * further back). *out sorted by item, then provider; the caller's
 * (gx_newest_free).
 */
gx_err_t gx_ingest_newest(gx_scan_t *s, const char *prefix,
			  const gx_schemas_t *schemas, const gx_catalog_t *cat,
			  long max_per_partition, int timeout_ms,
			  gx_newest_t **out, size_t *n, int *complete,
			  char *errstr, size_t errstr_size);
void gx_newest_free(gx_newest_t *a, size_t n);

/*
 * Per-consumer decisions that released nothing (verdict denied or
 * withheld) on <prefix>.decisions, kept for a sliding window. The first
 * update reads each partition from the first record stamped at or after
 * since_ms (offsets for times); every later update reads only what was
 * written since (and what an update cut short by its deadline left), so a
 * live screen costs what is new, not the whole window.
 */
typedef struct gx_denials gx_denials_t;

gx_denials_t *gx_denials_new(const char *prefix);
void gx_denials_destroy(gx_denials_t *d);	/* accepts NULL */
/*
 * Read what is new (see above) and forget denials stamped before since_ms.
 * GX_ERR_NOTFOUND if the decisions topic does not exist, GX_ERR_KAFKA if
 * Kafka does not answer.
 */
gx_err_t gx_denials_update(gx_denials_t *d, gx_scan_t *s, int64_t since_ms,
			   int timeout_ms, char *errstr, size_t errstr_size);
/* Denials kept, stamped at or after since_ms: a new JSON object of counts
 * by reason (and by consumer, when by_consumer is not NULL); their total. */
json_t *gx_denials_counts(const gx_denials_t *d, int64_t since_ms,
			  json_t **by_consumer, long *total);
/* Every partition read to its end by the last update. */
int gx_denials_complete(const gx_denials_t *d);
/* Decision messages read so far. */
long gx_denials_read(const gx_denials_t *d);

#endif /* GX_OPS_H */
