/*
 * gx_approvals.c - the approvals state machine over govex.approvals events.
 */
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_map.h"

/* Grants on one item. */
struct grant_list {
	gx_grant_t **v;
	size_t n, cap;
};

/* Consumers in play on one item. */
struct consumer_list {
	gx_consumer_grants_t **v;
	size_t n, cap;
};

struct gx_approvals {
	gx_map_t *requests;	/* id -> gx_request_t */
	gx_map_t *grants;	/* id -> gx_grant_t */
	gx_map_t *by_item;	/* item -> struct grant_list (all grants) */
	gx_map_t *in_play;	/* item -> struct consumer_list */
	gx_map_t *slots;	/* "item\x1fconsumer" -> gx_consumer_grants_t */
	int64_t offset;
};

static void request_free(void *p)
{
	gx_request_t *r = p;
	free(r->id);
	free(r->consumer);
	free(r->item);
	gx_strv_free(&r->fields);
	free(r->purpose);
	free(r->basis);
	free(r->deny_reason);
	free(r);
}

static void grant_free(void *p)
{
	gx_grant_t *g = p;
	free(g->id);
	free(g->request_id);
	free(g->consumer);
	free(g->item);
	gx_strv_free(&g->fields);
	free(g->purpose);
	free(g->approved_by);
	free(g->revoked_by);
	free(g->revoke_reason);
	free(g);
}

static void list_free(void *p)
{
	struct grant_list *l = p;
	free(l->v);
	free(l);
}

static void consumer_list_free(void *p)
{
	struct consumer_list *l = p;
	free(l->v);
	free(l);
}

static void slot_free(void *p)
{
	gx_consumer_grants_t *cg = p;
	free(cg->consumer);
	free(cg->grants);
	free(cg);
}

static char *slot_key(const char *item, const char *consumer)
{
	return gx_asprintf("%s\x1f%s", item, consumer);
}

/* Put an approved grant in play. */
static void play(gx_approvals_t *ap, gx_grant_t *g)
{
	char *k = slot_key(g->item, g->consumer);
	gx_consumer_grants_t *cg = gx_map_get(ap->slots, k);
	if (!cg) {
		cg = gx_calloc(1, sizeof(*cg));
		cg->consumer = gx_strdup(g->consumer);
		gx_map_put(ap->slots, k, cg);
		struct consumer_list *l = gx_map_get(ap->in_play, g->item);
		if (!l) {
			l = gx_calloc(1, sizeof(*l));
			gx_map_put(ap->in_play, g->item, l);
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 4;
			l->v = gx_realloc(l->v, l->cap * sizeof(*l->v));
		}
		l->v[l->n++] = cg;
	}
	free(k);
	if (cg->n == cg->cap) {
		cg->cap = cg->cap ? cg->cap * 2 : 2;
		cg->grants = gx_realloc(cg->grants, cg->cap * sizeof(*cg->grants));
	}
	cg->grants[cg->n++] = g;
}

/* Take a revoked grant out of play (its consumer's slot stays, maybe
 * empty: slots are few, one per consumer and item ever granted). */
static void unplay(gx_approvals_t *ap, const gx_grant_t *g)
{
	char *k = slot_key(g->item, g->consumer);
	gx_consumer_grants_t *cg = gx_map_get(ap->slots, k);
	free(k);
	for (size_t i = 0; cg && i < cg->n; i++)
		if (cg->grants[i] == g) {
			cg->grants[i] = cg->grants[--cg->n];
			break;
		}
}

gx_approvals_t *gx_approvals_new(void)
{
	gx_approvals_t *ap = gx_calloc(1, sizeof(*ap));
	ap->requests = gx_map_new();
	ap->grants = gx_map_new();
	ap->by_item = gx_map_new();
	ap->in_play = gx_map_new();
	ap->slots = gx_map_new();
	ap->offset = -1;
	return ap;
}

void gx_approvals_destroy(gx_approvals_t *ap)
{
	if (!ap)
		return;
	gx_map_destroy(ap->by_item, list_free);
	gx_map_destroy(ap->in_play, consumer_list_free);
	gx_map_destroy(ap->slots, slot_free);
	gx_map_destroy(ap->grants, grant_free);
	gx_map_destroy(ap->requests, request_free);
	free(ap);
}

static const char *js(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int64_t jms(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* A time given but not as integer ms: refused, never read as "no end". */
static int bad_ms(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return v && !json_is_null(v) && !json_is_integer(v);
}

static void jfields(json_t *o, gx_strv_t *sv)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(o, "fields"), i, f) {
		if (json_is_string(f))
			gx_strv_push(sv, json_string_value(f));
	}
}

gx_err_t gx_approvals_apply(gx_approvals_t *ap, const void *value, size_t len,
			    int64_t offset, char *errstr, size_t errstr_size)
{
	json_error_t jerr;
	gx_err_t err = GX_OK;
	json_t *e = value ? json_loadb(value, len, 0, &jerr) : NULL;
	if (!e)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "approvals offset %lld: not a JSON event",
				 (long long)offset);
	const char *type = js(e, "type"), *rid = js(e, "request_id");
	const char *actor = js(e, "actor");
	if (!type || !rid || !actor) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				"approvals offset %lld: type, request_id and "
				"actor are required",
				(long long)offset);
		goto out;
	}
	if (bad_ms(e, "until") || bad_ms(e, "at")) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				"approvals offset %lld: \"until\" and \"at\" "
				"must be integers (ms since the epoch) or null",
				(long long)offset);
		goto out;
	}
	gx_request_t *req = gx_map_get(ap->requests, rid);
	if (!strcmp(type, "request")) {
		const char *consumer = js(e, "consumer"), *item = js(e, "item");
		if (req || !consumer || !item) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"approvals offset %lld: request %s is a "
					"duplicate or lacks consumer/item",
					(long long)offset, rid);
			goto out;
		}
		req = gx_calloc(1, sizeof(*req));
		req->id = gx_strdup(rid);
		req->consumer = gx_strdup(consumer);
		req->item = gx_strdup(item);
		jfields(e, &req->fields);
		req->purpose = gx_strdup(js(e, "purpose") ?: "");
		req->basis = gx_strdup(js(e, "basis") ?: "");
		req->until_ms = jms(e, "until");
		req->at_ms = jms(e, "at");
		req->offset = offset;
		gx_map_put(ap->requests, rid, req);
	} else if (!strcmp(type, "approve")) {
		const char *gid = js(e, "grant_id");
		if (!req || !gid || gx_map_get(ap->grants, gid)) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"approvals offset %lld: approve of unknown "
					"request %s or duplicate grant",
					(long long)offset, rid);
			goto out;
		}
		if (req->state != GX_REQ_PENDING) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"approvals offset %lld: request %s is "
					"already decided",
					(long long)offset, rid);
			goto out;
		}
		/* The provider may narrow a request, never widen it. */
		gx_strv_t granted;
		gx_strv_init(&granted);
		jfields(e, &granted);
		for (size_t i = 0; i < granted.n; i++)
			if (!gx_strv_contains(&req->fields, granted.v[i])) {
				err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
						"approvals offset %lld: approve of "
						"request %s grants field %s, which "
						"was not requested",
						(long long)offset, rid, granted.v[i]);
				gx_strv_free(&granted);
				goto out;
			}
		if (!granted.n) {
			gx_strv_free(&granted);
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"approvals offset %lld: approve of request "
					"%s grants no field",
					(long long)offset, rid);
			goto out;
		}
		gx_grant_t *g = gx_calloc(1, sizeof(*g));
		g->id = gx_strdup(gid);
		g->request_id = gx_strdup(rid);
		g->consumer = gx_strdup(req->consumer);
		g->item = gx_strdup(req->item);
		g->fields = granted;
		g->purpose = gx_strdup(req->purpose);
		g->from_ms = jms(e, "at");
		g->until_ms = jms(e, "until");
		g->automatic = json_is_true(json_object_get(e, "automatic"));
		g->approved_by = gx_strdup(actor);
		g->offset = offset;
		gx_map_put(ap->grants, gid, g);
		struct grant_list *l = gx_map_get(ap->by_item, g->item);
		if (!l) {
			l = gx_calloc(1, sizeof(*l));
			gx_map_put(ap->by_item, g->item, l);
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 4;
			l->v = gx_realloc(l->v, l->cap * sizeof(*l->v));
		}
		l->v[l->n++] = g;
		play(ap, g);
		req->state = GX_REQ_GRANTED;
	} else if (!strcmp(type, "deny")) {
		if (!req || req->state != GX_REQ_PENDING) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"approvals offset %lld: deny of unknown "
					"or decided request %s",
					(long long)offset, rid);
			goto out;
		}
		req->state = GX_REQ_DENIED;
		free(req->deny_reason);
		req->deny_reason = gx_strdup(js(e, "reason") ?: "");
	} else if (!strcmp(type, "revoke")) {
		const char *gid = js(e, "grant_id");
		gx_grant_t *g = gid ? gx_map_get(ap->grants, gid) : NULL;
		if (!g || strcmp(g->request_id, rid)) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"approvals offset %lld: revoke of unknown "
					"grant, or of a grant of another request",
					(long long)offset);
			goto out;
		}
		if (!g->revoked) {
			g->revoked = 1;
			g->revoked_at_ms = jms(e, "at");
			g->revoked_by = gx_strdup(actor);
			g->revoke_reason = gx_strdup(js(e, "reason") ?: "");
			unplay(ap, g);
		}
	} else if (!strcmp(type, "expire")) {
		const char *gid = js(e, "grant_id");
		gx_grant_t *g = gid ? gx_map_get(ap->grants, gid) : NULL;
		if (!g || strcmp(g->request_id, rid) || !g->until_ms ||
		    jms(e, "at") < g->until_ms) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"approvals offset %lld: expire of unknown "
					"grant or before its end date",
					(long long)offset);
			goto out;
		}
		g->expired_noted = 1;
		g->expire_read = 1;
	} else {
		err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				"approvals offset %lld: unknown event type '%s'",
				(long long)offset, type);
		goto out;
	}
	ap->offset = offset;
out:
	json_decref(e);
	return err;
}

int64_t gx_approvals_offset(const gx_approvals_t *ap)
{
	return ap->offset;
}

const gx_request_t *gx_approvals_request(const gx_approvals_t *ap,
					 const char *id)
{
	return gx_map_get(ap->requests, id);
}

const gx_grant_t *gx_approvals_grant(const gx_approvals_t *ap, const char *id)
{
	return gx_map_get(ap->grants, id);
}

const gx_grant_t *const *gx_approvals_grants_for_item(const gx_approvals_t *ap,
						      const char *item,
						      size_t *n)
{
	struct grant_list *l = gx_map_get(ap->by_item, item);
	*n = l ? l->n : 0;
	return l ? (const gx_grant_t *const *)l->v : NULL;
}

const gx_consumer_grants_t *const *
gx_approvals_consumers_for_item(const gx_approvals_t *ap, const char *item,
				size_t *n)
{
	struct consumer_list *l = gx_map_get(ap->in_play, item);
	*n = l ? l->n : 0;
	return l ? (const gx_consumer_grants_t *const *)l->v : NULL;
}

int gx_grant_live(const gx_grant_t *g, int64_t now_ms)
{
	return !g->revoked && now_ms >= g->from_ms &&
	       (!g->until_ms || now_ms < g->until_ms);
}

const gx_request_t *gx_approvals_next_request(const gx_approvals_t *ap,
					      size_t *it)
{
	void *v;
	return gx_map_next(ap->requests, it, NULL, &v) ? v : NULL;
}

const gx_grant_t *gx_approvals_next_grant(const gx_approvals_t *ap, size_t *it)
{
	void *v;
	return gx_map_next(ap->grants, it, NULL, &v) ? v : NULL;
}

size_t gx_approvals_grant_count(const gx_approvals_t *ap)
{
	return gx_map_count(ap->grants);
}

static json_t *fields_json(const gx_strv_t *fields)
{
	json_t *a = json_array();
	for (size_t i = 0; i < fields->n; i++)
		json_array_append_new(a, json_string(fields->v[i]));
	return a;
}

json_t *gx_event_request(const char *request_id, const char *consumer,
			 const char *item, const gx_strv_t *fields,
			 const char *purpose, const char *basis,
			 int64_t until_ms, int64_t at_ms)
{
	json_t *e = json_object();
	json_object_set_new(e, "type", json_string("request"));
	json_object_set_new(e, "request_id", json_string(request_id));
	json_object_set_new(e, "consumer", json_string(consumer));
	json_object_set_new(e, "item", json_string(item));
	json_object_set_new(e, "fields", fields_json(fields));
	json_object_set_new(e, "purpose", json_string(purpose));
	json_object_set_new(e, "basis", json_string(basis));
	json_object_set_new(e, "until",
			    until_ms ? json_integer(until_ms) : json_null());
	json_object_set_new(e, "actor", json_string(consumer));
	json_object_set_new(e, "at", json_integer(at_ms));
	return e;
}

json_t *gx_event_approve(const char *request_id, const char *grant_id,
			 const gx_strv_t *fields, int64_t until_ms,
			 int automatic, const char *actor, int64_t at_ms)
{
	json_t *e = json_object();
	json_object_set_new(e, "type", json_string("approve"));
	json_object_set_new(e, "request_id", json_string(request_id));
	json_object_set_new(e, "grant_id", json_string(grant_id));
	json_object_set_new(e, "fields", fields_json(fields));
	json_object_set_new(e, "until",
			    until_ms ? json_integer(until_ms) : json_null());
	json_object_set_new(e, "automatic", json_boolean(automatic));
	json_object_set_new(e, "actor", json_string(actor));
	json_object_set_new(e, "at", json_integer(at_ms));
	return e;
}

static json_t *event(const char *type, const char *request_id,
		     const char *actor, int64_t at_ms)
{
	json_t *e = json_object();
	json_object_set_new(e, "type", json_string(type));
	json_object_set_new(e, "request_id", json_string(request_id));
	json_object_set_new(e, "actor", json_string(actor));
	json_object_set_new(e, "at", json_integer(at_ms));
	return e;
}

json_t *gx_event_deny(const char *request_id, const char *reason,
		      const char *actor, int64_t at_ms)
{
	json_t *e = event("deny", request_id, actor, at_ms);
	json_object_set_new(e, "reason", json_string(reason));
	return e;
}

json_t *gx_event_revoke(const char *request_id, const char *grant_id,
			const char *reason, const char *actor, int64_t at_ms)
{
	json_t *e = event("revoke", request_id, actor, at_ms);
	json_object_set_new(e, "grant_id", json_string(grant_id));
	json_object_set_new(e, "reason", json_string(reason));
	return e;
}

json_t *gx_event_expire(const char *request_id, const char *grant_id,
			int64_t at_ms)
{
	json_t *e = event("expire", request_id, "govex", at_ms);
	json_object_set_new(e, "grant_id", json_string(grant_id));
	return e;
}
