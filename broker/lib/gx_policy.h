/*
 * gx_policy.h - the sharing policy (art. 12-13) as pure functions.
 *
 * gx_policy_eval decides, for one record of a catalogue item and one grant,
 * which payload fields may be released. It reads nothing but its arguments,
 * so replay over the same catalogue and approvals state gives the same
 * verdict. Default deny: no item, no grant, or a grant that is revoked or
 * past its end date releases nothing; any doubt withholds.
 *
 * A field is released under a grant when the grant names it and the
 * catalogue, as it stands now, allows it:
 *   unconditional  always;
 *   conditional    only under a grant the provider approved (not an
 *                  automatic one) - so if a field becomes conditional after
 *                  an automatic grant, the stricter class wins from then on;
 *   none           never.
 */
#ifndef GX_POLICY_H
#define GX_POLICY_H

#include <stdint.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_catalog.h"

typedef enum {
	GX_VERDICT_RELEASED,	/* every payload field released */
	GX_VERDICT_PARTIAL,	/* some fields released, others withheld */
	GX_VERDICT_WITHHELD,	/* a grant is in play but nothing may go */
	GX_VERDICT_DENIED	/* no live grant */
} gx_verdict_t;

typedef struct gx_decision {
	gx_verdict_t verdict;
	const char *reason;	/* stable reason code, e.g. "grant_revoked" */
	uint64_t released;	/* bit i: library field i released */
	const gx_grant_t *grant;
} gx_decision_t;

const char *gx_verdict_name(gx_verdict_t v);

/* Libraries have at most this many payload fields (one bit each). */
#define GX_MAX_FIELDS 64

/* Evaluate one record of item under grant at now_ms (the processing time). */
void gx_policy_eval(const gx_cat_item_t *item, const gx_grant_t *grant,
		    int64_t now_ms, gx_decision_t *out);

/*
 * The decision for one consumer holding grants (in play) on item: the live
 * grant that releases the most fields wins, ties to the smallest grant id;
 * when none releases anything, the decision under the smallest grant id.
 * Deterministic, so replay recomputes the same choice. n must be > 0.
 */
void gx_policy_choose(const gx_cat_item_t *item, const gx_grant_t *const *grants,
		      size_t n, int64_t now_ms, gx_decision_t *out);

/* Outcome of a consumer's request against the catalogue. */
typedef struct gx_request_eval {
	gx_strv_t automatic;	/* unconditional fields: granted at once */
	gx_strv_t conditional;	/* need the provider's approval */
	gx_strv_t refused;	/* `none` fields, refused */
	gx_strv_t refused_basis; /* legal basis per refused field */
} gx_request_eval_t;

/*
 * Classify requested fields. Unknown fields or an empty list are errors
 * (GX_ERR_INVALID naming the field); nothing is classified then.
 */
gx_err_t gx_policy_request(const gx_cat_item_t *item, const gx_strv_t *fields,
			   gx_request_eval_t *out, char *errstr,
			   size_t errstr_size);
void gx_request_eval_free(gx_request_eval_t *re);

#endif /* GX_POLICY_H */
