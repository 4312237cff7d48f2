/*
 * gx_position.c - the adapter's position record and its counts.
 */
#include <stdlib.h>
#include <string.h>

#include "gx_position.h"

void gx_tally_init(gx_tally_t *t)
{
	memset(t, 0, sizeof(*t));
	t->reasons = json_object();
}

void gx_tally_free(gx_tally_t *t)
{
	json_decref(t->reasons);
	t->reasons = NULL;
}

void gx_tally_reset(gx_tally_t *t)
{
	t->accepted = t->refused = t->skipped = 0;
	json_object_clear(t->reasons);
}

static void reason_add(json_t *reasons, const char *reason, json_int_t n)
{
	json_t *c = json_object_get(reasons, reason);
	if (c)
		json_integer_set(c, json_integer_value(c) + n);
	else
		json_object_set_new(reasons, reason, json_integer(n));
}

void gx_tally_refuse(gx_tally_t *t, const char *reason)
{
	t->refused++;
	reason_add(t->reasons, reason, 1);
}

void gx_tally_add(gx_tally_t *dst, const gx_tally_t *src)
{
	dst->accepted += src->accepted;
	dst->refused += src->refused;
	dst->skipped += src->skipped;
	const char *k;
	json_t *v;
	json_object_foreach(src->reasons, k, v)
	    reason_add(dst->reasons, k, json_integer_value(v));
}

json_t *gx_tally_json(const gx_tally_t *t)
{
	json_t *j = json_object();
	json_object_set_new(j, "accepted", json_integer(t->accepted));
	json_object_set_new(j, "refused", json_integer(t->refused));
	json_object_set_new(j, "skipped_unchanged", json_integer(t->skipped));
	json_object_set_new(j, "refused_by_reason", json_deep_copy(t->reasons));
	return j;
}

static long count_of(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);
	return json_is_integer(v) && json_integer_value(v) >= 0
		   ? (long)json_integer_value(v)
		   : 0;
}

void gx_tally_from_json(gx_tally_t *t, json_t *j)
{
	gx_tally_reset(t);
	if (!json_is_object(j))
		return;
	t->accepted = count_of(j, "accepted");
	t->refused = count_of(j, "refused");
	t->skipped = count_of(j, "skipped_unchanged");
	json_t *r = json_object_get(j, "refused_by_reason");
	const char *k;
	json_t *v;
	if (json_is_object(r))
		json_object_foreach(r, k, v) if (json_is_integer(v) &&
						 json_integer_value(v) > 0)
		    reason_add(t->reasons, k, json_integer_value(v));
}

char *gx_position_value(const char *adapter_id, json_t *position,
			const gx_tally_t *t, int64_t at_ms)
{
	json_t *j = json_object();
	json_object_set_new(j, "adapter", json_string(adapter_id));
	json_object_set_new(j, "at", json_integer(at_ms));
	json_object_set(j, "position", position);
	json_object_set_new(j, "counts", gx_tally_json(t));
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

gx_err_t gx_position_parse(const void *val, size_t len, json_t **position,
			   json_t **counts, char *errstr, size_t errstr_size)
{
	json_error_t je;
	*position = NULL;
	if (counts)
		*counts = NULL;
	json_t *j = val ? json_loadb(val, len, 0, &je) : NULL;
	json_t *p = json_object_get(j, "position");
	if (!json_is_object(p)) {
		json_decref(j);
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "not an adapter position record");
	}
	*position = json_incref(p);
	if (counts)
		*counts = json_incref(json_object_get(j, "counts"));
	json_decref(j);
	return GX_OK;
}
