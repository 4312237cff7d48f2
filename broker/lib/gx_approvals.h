/*
 * gx_approvals.h - requests and grants (art. 13), materialised from the
 * append-only govex.approvals topic.
 *
 * Each message is one JSON event, keyed by request id:
 *   {"type":"request","request_id":R,"consumer":C,"item":I,"fields":[...],
 *    "purpose":P,"basis":B,"until":MS|null,"actor":C,"at":MS,
 *    "refused":[{"field":F,"legal_basis":L}]}
 *   {"type":"approve","request_id":R,"grant_id":G,"fields":[...],
 *    "until":MS|null,"automatic":true|false,"actor":A,"at":MS}
 *   {"type":"deny","request_id":R,"reason":T,"actor":A,"at":MS}
 *   {"type":"revoke","request_id":R,"grant_id":G,"reason":T,"actor":A,"at":MS}
 *   {"type":"expire","request_id":R,"grant_id":G,"actor":"govex","at":MS}
 * Times are ms since the epoch. Grants are indexed by item so the broker's
 * per-record lookup does not grow with the number of grants elsewhere.
 */
#ifndef GX_APPROVALS_H
#define GX_APPROVALS_H

#include <jansson.h>
#include <stdint.h>

#include "gx.h"

typedef enum {
	GX_REQ_PENDING,
	GX_REQ_GRANTED,
	GX_REQ_DENIED
} gx_req_state_t;

typedef struct gx_request {
	char *id;
	char *consumer;
	char *item;
	gx_strv_t fields;
	char *purpose;
	char *basis;
	int64_t until_ms;	/* 0: no end date asked */
	int64_t at_ms;
	gx_req_state_t state;
	char *deny_reason;
	int64_t offset;
} gx_request_t;

typedef struct gx_grant {
	char *id;
	char *request_id;
	char *consumer;
	char *item;
	gx_strv_t fields;	/* fields granted (maybe narrowed) */
	char *purpose;		/* from the request */
	int64_t from_ms;	/* approval time */
	int64_t until_ms;	/* 0: open-ended; live while now < until */
	int automatic;		/* granted at once: unconditional fields only */
	char *approved_by;
	int revoked;
	int64_t revoked_at_ms;
	char *revoked_by;
	char *revoke_reason;
	int expired_noted;	/* an expire event was recorded (or is being
				 * written by this broker) */
	int expire_read;	/* an expire event was read from the log */
	int64_t offset;		/* approvals offset of the approve event */
} gx_grant_t;

typedef struct gx_approvals gx_approvals_t;

gx_approvals_t *gx_approvals_new(void);
void gx_approvals_destroy(gx_approvals_t *ap);

/* Apply one event at offset. A malformed event is refused with errstr and
 * changes nothing. */
gx_err_t gx_approvals_apply(gx_approvals_t *ap, const void *value, size_t len,
			    int64_t offset, char *errstr, size_t errstr_size);
/* Offset of the last event applied, -1 if none. */
int64_t gx_approvals_offset(const gx_approvals_t *ap);

const gx_request_t *gx_approvals_request(const gx_approvals_t *ap,
					 const char *id);
const gx_grant_t *gx_approvals_grant(const gx_approvals_t *ap, const char *id);
/* All grants (live or not) on item; *n set to their count. */
const gx_grant_t *const *gx_approvals_grants_for_item(const gx_approvals_t *ap,
						      const char *item,
						      size_t *n);
/* The unrevoked grants one consumer holds on one item. */
typedef struct gx_consumer_grants {
	char *consumer;
	const gx_grant_t **grants;	/* not revoked (possibly expired) */
	size_t n, cap;
} gx_consumer_grants_t;

/*
 * The consumers holding unrevoked grants on item, each with its grants: what
 * the broker evaluates for every record of the item. Revoked grants leave
 * this index at once, so its size is the number of grants in play on the
 * item, not the history.
 */
const gx_consumer_grants_t *const *
gx_approvals_consumers_for_item(const gx_approvals_t *ap, const char *item,
				size_t *n);

/* Live: not revoked, from <= now, and now < until (when set). */
int gx_grant_live(const gx_grant_t *g, int64_t now_ms);

/* Iterate requests / grants. */
const gx_request_t *gx_approvals_next_request(const gx_approvals_t *ap,
					      size_t *it);
const gx_grant_t *gx_approvals_next_grant(const gx_approvals_t *ap, size_t *it);
size_t gx_approvals_grant_count(const gx_approvals_t *ap);

/* JSON builders for the events govexctl writes (caller json_decref's). */
json_t *gx_event_request(const char *request_id, const char *consumer,
			 const char *item, const gx_strv_t *fields,
			 const char *purpose, const char *basis,
			 int64_t until_ms, int64_t at_ms);
json_t *gx_event_deny(const char *request_id, const char *reason,
		      const char *actor, int64_t at_ms);
json_t *gx_event_revoke(const char *request_id, const char *grant_id,
			const char *reason, const char *actor, int64_t at_ms);
/* The exchange's note that a grant reached its end date (audit trail;
 * the end date itself already stops releases). */
json_t *gx_event_expire(const char *request_id, const char *grant_id,
			int64_t at_ms);
json_t *gx_event_approve(const char *request_id, const char *grant_id,
			 const gx_strv_t *fields, int64_t until_ms,
			 int automatic, const char *actor, int64_t at_ms);

#endif /* GX_APPROVALS_H */
