/*
 * gx_policy.c - sharing policy evaluation. Pure: no I/O, no clock, no
 * globals; everything it needs is passed in.
 */
#include <string.h>

#include "gx.h"
#include "gx_policy.h"

const char *gx_verdict_name(gx_verdict_t v)
{
	static const char *names[] = {"released", "partly_released",
				      "withheld", "denied"};
	return (size_t)v < GX_ARRAY_SIZE(names) ? names[v] : "withheld";
}

void gx_policy_eval(const gx_cat_item_t *item, const gx_grant_t *grant,
		    int64_t now_ms, gx_decision_t *out)
{
	out->released = 0;
	out->grant = grant;
	if (!item || !item->lib || item->lib->nfields > GX_MAX_FIELDS) {
		out->verdict = GX_VERDICT_WITHHELD;
		out->reason = "unknown_item";
		return;
	}
	if (!grant) {
		out->verdict = GX_VERDICT_DENIED;
		out->reason = "no_grant";
		return;
	}
	if (strcmp(grant->item, item->id)) {
		out->verdict = GX_VERDICT_DENIED;
		out->reason = "grant_other_item";
		return;
	}
	if (grant->revoked) {
		out->verdict = GX_VERDICT_DENIED;
		out->reason = "grant_revoked";
		return;
	}
	if (grant->until_ms && now_ms >= grant->until_ms) {
		out->verdict = GX_VERDICT_DENIED;
		out->reason = "grant_expired";
		return;
	}
	if (now_ms < grant->from_ms) {
		out->verdict = GX_VERDICT_DENIED;
		out->reason = "grant_not_started";
		return;
	}
	size_t n = item->lib->nfields;
	for (size_t i = 0; i < n; i++) {
		const gx_cat_field_t *cf = &item->fields[i];
		if (!gx_strv_contains(&grant->fields, cf->name))
			continue;
		if (cf->share == GX_SHARE_UNCONDITIONAL ||
		    (cf->share == GX_SHARE_CONDITIONAL && !grant->automatic))
			out->released |= UINT64_C(1) << i;
	}
	uint64_t all = n == 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
	if (!out->released) {
		out->verdict = GX_VERDICT_WITHHELD;
		out->reason = "no_field_allowed";
	} else if (out->released == all) {
		out->verdict = GX_VERDICT_RELEASED;
		out->reason = "granted";
	} else {
		out->verdict = GX_VERDICT_PARTIAL;
		out->reason = "granted_partial";
	}
}

void gx_policy_choose(const gx_cat_item_t *item, const gx_grant_t *const *grants,
		      size_t n, int64_t now_ms, gx_decision_t *out)
{
	int have = 0;
	for (size_t j = 0; j < n; j++) {
		gx_decision_t d;
		gx_policy_eval(item, grants[j], now_ms, &d);
		if (!have) {
			*out = d;
			have = 1;
			continue;
		}
		int a = __builtin_popcountll(d.released),
		    c = __builtin_popcountll(out->released);
		if (a > c || (a == c && strcmp(d.grant->id, out->grant->id) < 0))
			*out = d;
	}
}

gx_err_t gx_policy_request(const gx_cat_item_t *item, const gx_strv_t *fields,
			   gx_request_eval_t *out, char *errstr,
			   size_t errstr_size)
{
	memset(out, 0, sizeof(*out));
	if (!fields->n)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "no fields requested");
	for (size_t i = 0; i < fields->n; i++) {
		if (!gx_cat_item_field(item, fields->v[i]))
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "item %s (library %s) has no field '%s'",
					 item->id, item->library, fields->v[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(fields->v[i], fields->v[j]))
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_INVALID,
						 "field '%s' requested twice",
						 fields->v[i]);
	}
	for (size_t i = 0; i < fields->n; i++) {
		const gx_cat_field_t *cf = gx_cat_item_field(item, fields->v[i]);
		switch (cf->share) {
		case GX_SHARE_UNCONDITIONAL:
			gx_strv_push(&out->automatic, cf->name);
			break;
		case GX_SHARE_CONDITIONAL:
			gx_strv_push(&out->conditional, cf->name);
			break;
		case GX_SHARE_NONE:
			gx_strv_push(&out->refused, cf->name);
			gx_strv_push(&out->refused_basis,
				     cf->legal_basis ? cf->legal_basis : "");
			break;
		}
	}
	return GX_OK;
}

void gx_request_eval_free(gx_request_eval_t *re)
{
	gx_strv_free(&re->automatic);
	gx_strv_free(&re->conditional);
	gx_strv_free(&re->refused);
	gx_strv_free(&re->refused_basis);
}
