/*
 * gx_replay.h - compliance replay of the decision log (art. 23).
 *
 * Given everything on <prefix>.catalog, <prefix>.approvals and
 * <prefix>.decisions, checks that:
 *   - every decision chain is whole: sequence numbers run 1, 2, 3... with no
 *     gap, each message's "prev" is its predecessor's hash, and each hash is
 *     what the content gives (nothing altered, removed or reordered);
 *   - every checkpoint's signature verifies with the exchange's public key
 *     and names a head the chain really had;
 *   - every decision is what the policy engine gives again for the
 *     catalogue item version and the approvals as they stood at the
 *     recorded offsets, at the recorded time: the same consumers decided
 *     (none missing, none extra), the same verdict, grant and fields.
 * Each mismatch is reported as a JSON finding:
 *   {"kind":K,"chain":C,"seq":N,"record_id":R,"consumer":X,"detail":T,
 *    "recorded":{...},"recomputed":{...}}
 * with kind one of seq_gap, chain_broken, hash_mismatch, checkpoint_invalid,
 * checkpoint_mismatch, missing_decision, extra_decision, verdict_mismatch,
 * unverifiable (the catalogue version was compacted away, or the message
 * does not parse).
 */
#ifndef GX_REPLAY_H
#define GX_REPLAY_H

#include <jansson.h>
#include <stdint.h>

#include "gx.h"
#include "gx_decision.h"
#include "gx_schema.h"

typedef struct gx_replay gx_replay_t;

typedef struct gx_replay_filter {
	int64_t from_ms, to_ms;	/* 0: unbounded */
	const char *consumer;	/* NULL: all */
	const char *item;	/* NULL: all */
	gx_verifier_t *verifier; /* NULL: checkpoints are not verified */
	/* What-if: recompute under a proposed change instead of checking the
	 * record. Chains are not checked then, and each decision that would
	 * differ is reported with kind "would_change". */
	int what_if;
	json_t *proposed_items;	/* item id -> proposed catalogue item JSON */
	const char *revoke_grant; /* treat this grant as revoked ... */
	int64_t revoke_at;	/* ... from this time on */
} gx_replay_filter_t;

typedef struct gx_replay_totals {
	long messages;		/* decision messages read */
	long decisions;		/* (record, consumer) decisions checked */
	long agreed;
	long checkpoints, checkpoints_verified;
	long findings;
} gx_replay_totals_t;

gx_replay_t *gx_replay_new(const gx_schemas_t *schemas);
void gx_replay_destroy(gx_replay_t *r);
/*
 * Feed the topics, in offset order per partition (value NULL: tombstone).
 * Catalogue and approvals are kept as text. A decision message is parsed
 * at once, its hash checked, and kept compact (some 160 bytes and its
 * record id; strings and decision lists that repeat are held once), so
 * that memory grows by about 200 bytes a message, not by its text and
 * parsed JSON; checkpoints are kept as JSON.
 */
void gx_replay_add_catalog(gx_replay_t *r, int64_t offset, const void *value,
			   size_t len);
void gx_replay_add_approval(gx_replay_t *r, int64_t offset, const void *value,
			    size_t len);
void gx_replay_add_decision(gx_replay_t *r, int32_t partition, int64_t offset,
			    const void *value, size_t len);

/* Run every check; report is called once per finding (it must not keep
 * the json_t). */
void gx_replay_run(gx_replay_t *r, const gx_replay_filter_t *filter,
		   void (*report)(void *opaque, json_t *finding), void *opaque,
		   gx_replay_totals_t *totals);

#endif /* GX_REPLAY_H */
