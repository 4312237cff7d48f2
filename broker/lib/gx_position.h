/*
 * gx_position.h - an adapter's committed position: where in its source it
 * stands and what it has counted, as kept in the compacted topic
 * <prefix>.adapter.positions (key: the adapter id; one partition).
 *
 * The value is JSON, written in the same Kafka transaction as the records
 * and collect-once digests it follows:
 *   {"adapter": ID, "at": MS, "position": <source position token, see
 *    gx_source.h>, "counts": {"accepted": N, "refused": N,
 *    "skipped_unchanged": N, "refused_by_reason": {"invalid_value": N, ...}}}
 * Counts are those of the current pass over the source, so an adapter that
 * was killed and continues reports the whole pass at its end.
 */
#ifndef GX_POSITION_H
#define GX_POSITION_H

#include <jansson.h>
#include <stdint.h>

#include "gx.h"

typedef struct gx_tally {
	long accepted;
	long refused;
	long skipped;		/* unchanged: not published again (art. 10) */
	json_t *reasons;	/* reason -> count of refused rows */
} gx_tally_t;

void gx_tally_init(gx_tally_t *t);
void gx_tally_free(gx_tally_t *t);
void gx_tally_reset(gx_tally_t *t);
void gx_tally_refuse(gx_tally_t *t, const char *reason);
/* dst += src */
void gx_tally_add(gx_tally_t *dst, const gx_tally_t *src);
/* {"accepted", "refused", "skipped_unchanged", "refused_by_reason"} */
json_t *gx_tally_json(const gx_tally_t *t);
/* Read counts written by gx_tally_json into t (reset first); a missing or
 * malformed count is 0. */
void gx_tally_from_json(gx_tally_t *t, json_t *j);

/* The value for the positions topic (a new JSON text the caller frees);
 * position is borrowed. */
char *gx_position_value(const char *adapter_id, json_t *position,
			const gx_tally_t *t, int64_t at_ms);
/*
 * Read a positions-topic value: *position and *counts become new
 * references (counts may be NULL). GX_ERR_INVALID with errstr for a value
 * that is not such JSON.
 */
gx_err_t gx_position_parse(const void *val, size_t len, json_t **position,
			   json_t **counts, char *errstr, size_t errstr_size);

#endif /* GX_POSITION_H */
