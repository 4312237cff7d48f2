/*
 * gx_replay.c - decision chain verification and verdict recomputation.
 * Holds the topics in memory (see the note in the README on scale).
 */
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_catalog.h"
#include "gx_map.h"
#include "gx_policy.h"
#include "gx_replay.h"

struct raw {
	int64_t offset;
	int32_t partition;
	char *value;
	size_t len;
};

struct rawv {
	struct raw *v;
	size_t n, cap;
};

struct gx_replay {
	const gx_schemas_t *schemas;
	struct rawv catalog, approvals, decisions;
};

static void push(struct rawv *rv, int32_t part, int64_t off, const void *v,
		 size_t len)
{
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? rv->cap * 2 : 256;
		rv->v = gx_realloc(rv->v, rv->cap * sizeof(*rv->v));
	}
	struct raw *r = &rv->v[rv->n++];
	r->offset = off;
	r->partition = part;
	r->value = v ? gx_strndup(v, len) : NULL;
	r->len = v ? len : 0;
}

static void rawv_free(struct rawv *rv)
{
	for (size_t i = 0; i < rv->n; i++)
		free(rv->v[i].value);
	free(rv->v);
}

gx_replay_t *gx_replay_new(const gx_schemas_t *schemas)
{
	gx_replay_t *r = gx_calloc(1, sizeof(*r));
	r->schemas = schemas;
	return r;
}

void gx_replay_destroy(gx_replay_t *r)
{
	if (!r)
		return;
	rawv_free(&r->catalog);
	rawv_free(&r->approvals);
	rawv_free(&r->decisions);
	free(r);
}

void gx_replay_add_catalog(gx_replay_t *r, int64_t offset, const void *value,
			   size_t len)
{
	push(&r->catalog, 0, offset, value, len);
}

void gx_replay_add_approval(gx_replay_t *r, int64_t offset, const void *value,
			    size_t len)
{
	push(&r->approvals, 0, offset, value, len);
}

void gx_replay_add_decision(gx_replay_t *r, int32_t partition, int64_t offset,
			    const void *value, size_t len)
{
	push(&r->decisions, partition, offset, value, len);
}

/* A catalogue item version, parsed on first use. */
struct cat_version {
	json_t *json;
	int parsed;
	gx_cat_item_t *item;
};

static void cat_version_free(void *p)
{
	struct cat_version *cv = p;
	json_decref(cv->json);
	gx_cat_item_destroy(cv->item);
	free(cv);
}

/* A parsed decision message. */
struct dmsg {
	json_t *j;
	const char *chain;
	int32_t partition;
	int64_t offset;	/* where the topic holds it */
	int64_t seq;
	int64_t approvals_offset;
	int64_t at;
};

struct ctx {
	gx_replay_t *r;
	const gx_replay_filter_t *f;
	void (*report)(void *, json_t *);
	void *opaque;
	gx_replay_totals_t *t;
};

static void finding(struct ctx *c, const char *kind, json_t *msg,
		    const char *consumer, json_t *recorded, json_t *recomputed,
		    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void finding(struct ctx *c, const char *kind, json_t *msg,
		    const char *consumer, json_t *recorded, json_t *recomputed,
		    const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_t *f = json_object();
	json_object_set_new(f, "kind", json_string(kind));
	if (msg) {
		json_t *v;
		if ((v = json_object_get(msg, "chain")) ||
		    (v = json_object_get(msg, "checkpoint")))
			json_object_set(f, "chain", v);
		if ((v = json_object_get(msg, "seq")))
			json_object_set(f, "seq", v);
		if ((v = json_object_get(msg, "record_id")))
			json_object_set(f, "record_id", v);
		if ((v = json_object_get(msg, "item")))
			json_object_set(f, "item", v);
	}
	if (consumer)
		json_object_set_new(f, "consumer", json_string(consumer));
	json_object_set_new(f, "detail", json_string(detail));
	if (recorded)
		json_object_set_new(f, "recorded", recorded);
	if (recomputed)
		json_object_set_new(f, "recomputed", recomputed);
	c->t->findings++;
	c->report(c->opaque, f);
	json_decref(f);
}

static int cmp_chain_seq(const void *a, const void *b)
{
	const struct dmsg *x = a, *y = b;
	int c = strcmp(x->chain, y->chain);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_approvals(const void *a, const void *b)
{
	const struct dmsg *const *x = a, *const *y = b;
	if ((*x)->approvals_offset != (*y)->approvals_offset)
		return (*x)->approvals_offset < (*y)->approvals_offset ? -1 : 1;
	return (*x)->at < (*y)->at ? -1 : (*x)->at > (*y)->at;
}

static int in_filter(const gx_replay_filter_t *f, const struct dmsg *d)
{
	if (f->from_ms && d->at < f->from_ms)
		return 0;
	if (f->to_ms && d->at > f->to_ms)
		return 0;
	if (f->item && strcmp(json_string_value(json_object_get(d->j, "item")) ?: "",
			      f->item))
		return 0;
	return 1;
}

static json_t *decision_view(const char *verdict, const char *grant,
			     json_t *released)
{
	json_t *o = json_object();
	json_object_set_new(o, "verdict", json_string(verdict));
	json_object_set_new(o, "grant_id", grant ? json_string(grant) : json_null());
	json_object_set_new(o, "released", released ? json_incref(released)
						    : json_array());
	return o;
}

/* Check the chains; fills map chain -> (seq -> hash) for checkpoints. */
static void check_chains(struct ctx *c, struct dmsg *d, size_t n,
			 gx_map_t *heads)
{
	qsort(d, n, sizeof(*d), cmp_chain_seq);
	for (size_t i = 0; i < n; i++) {
		const char *prev = json_string_value(json_object_get(d[i].j, "prev"));
		const char *hash = json_string_value(json_object_get(d[i].j, "hash"));
		int first = i == 0 || strcmp(d[i - 1].chain, d[i].chain);
		int64_t want_seq = first ? 1 : d[i - 1].seq + 1;
		/* The topic must hold a chain in its own order: a later link
		 * stored before an earlier one was moved. */
		if (!first && d[i].partition == d[i - 1].partition &&
		    d[i].offset < d[i - 1].offset)
			finding(c, "chain_broken", d[i].j, NULL, NULL, NULL,
				"stored out of order: offset %lld comes before its "
				"predecessor's %lld", (long long)d[i].offset,
				(long long)d[i - 1].offset);
		if (d[i].seq != want_seq)
			finding(c, d[i].seq < want_seq ? "chain_broken" : "seq_gap",
				d[i].j, NULL, NULL, NULL,
				d[i].seq < want_seq ? "sequence number %lld appears twice"
						    : "messages %lld..%lld are missing",
				(long long)(d[i].seq < want_seq ? d[i].seq : want_seq),
				(long long)(d[i].seq - 1));
		const char *want_prev =
		    first ? (d[i].seq == 1 ? GX_CHAIN_GENESIS : NULL)
			  : json_string_value(json_object_get(d[i - 1].j, "hash"));
		if (want_prev && (!prev || strcmp(prev, want_prev)))
			finding(c, "chain_broken", d[i].j, NULL, NULL, NULL,
				"prev does not name the previous message's hash");
		char calc[GX_HASH_HEX];
		gx_decision_hash(prev ? prev : "", d[i].j, calc);
		if (!hash || strcmp(hash, calc))
			finding(c, "hash_mismatch", d[i].j, NULL, NULL, NULL,
				"the message's content does not give its hash: "
				"altered after it was written");
		char k[300];
		snprintf(k, sizeof(k), "%s\x1f%lld", d[i].chain, (long long)d[i].seq);
		if (hash)
			gx_map_put(heads, k, (void *)hash);
	}
}

static void check_checkpoint(struct ctx *c, json_t *cp, gx_map_t *heads)
{
	char err[256], k[300];
	c->t->checkpoints++;
	if (c->f->verifier) {
		if (gx_checkpoint_verify(c->f->verifier, cp, err, sizeof(err))) {
			finding(c, "checkpoint_invalid", cp, NULL, NULL, NULL, "%s", err);
			return;
		}
		c->t->checkpoints_verified++;
	}
	snprintf(k, sizeof(k), "%s\x1f%lld",
		 json_string_value(json_object_get(cp, "checkpoint")) ?: "",
		 (long long)json_integer_value(json_object_get(cp, "seq")));
	const char *h = gx_map_get(heads, k);
	const char *head = json_string_value(json_object_get(cp, "head"));
	if (!h || !head || strcmp(h, head))
		finding(c, "checkpoint_mismatch", cp, NULL, NULL, NULL,
			"the signed head is not the chain's message at that "
			"sequence number%s", h ? "" : " (message missing)");
}

/* Recompute the decisions of one message under the given state. */
static void check_verdicts(struct ctx *c, struct dmsg *d, gx_approvals_t *ap,
			   gx_map_t *catalog_at)
{
	char err[256], k[128];
	const char *item_id = json_string_value(json_object_get(d->j, "item"));
	json_t *decs = json_object_get(d->j, "decisions");
	snprintf(k, sizeof(k), "%lld",
		 (long long)json_integer_value(json_object_get(d->j, "catalog_offset")));
	json_t *proposed = c->f->proposed_items && item_id
			       ? json_object_get(c->f->proposed_items, item_id) : NULL;
	/* Each catalogue version is parsed once, then reused. */
	if (proposed)
		snprintf(k, sizeof(k), "proposed:%s", item_id);
	struct cat_version *cv = gx_map_get(catalog_at, k);
	gx_cat_item_t *item = NULL;
	if (cv && !cv->parsed) {
		cv->parsed = 1;
		if (gx_cat_item_from_json(proposed ? proposed : cv->json, c->r->schemas,
					  &cv->item, err, sizeof(err)))
			cv->item = NULL;
	} else if (!cv && proposed) {
		cv = gx_calloc(1, sizeof(*cv));
		cv->parsed = 1;
		if (gx_cat_item_from_json(proposed, c->r->schemas, &cv->item, err,
					  sizeof(err)))
			cv->item = NULL;
		gx_map_put(catalog_at, k, cv);
	}
	item = cv ? cv->item : NULL;
	if (!item || strcmp(item->id, item_id ?: "")) {
		finding(c, "unverifiable", d->j, NULL, NULL, NULL,
			"catalogue version %s %s", k,
			cv ? "does not parse as this item" : "is no longer retained");
		return;
	}
	size_t n;
	const gx_consumer_grants_t *const *cons =
	    gx_approvals_consumers_for_item(ap, item_id, &n);
	/* Every consumer in play must have a decision, equal to the one
	 * recomputed; every recorded decision must be for one in play. */
	size_t nd = json_array_size(decs);
	unsigned char *matched = gx_calloc(nd ? nd : 1, 1);
	for (size_t i = 0; i < n; i++) {
		if (!cons[i]->n)
			continue;
		if (c->f->consumer && strcmp(c->f->consumer, cons[i]->consumer))
			continue;
		gx_decision_t want;
		const gx_grant_t **gs = gx_calloc(cons[i]->n, sizeof(*gs));
		size_t ng = 0;
		for (size_t j = 0; j < cons[i]->n; j++)
			if (!(c->f->revoke_grant && d->at >= c->f->revoke_at &&
			      !strcmp(cons[i]->grants[j]->id, c->f->revoke_grant)))
				gs[ng++] = cons[i]->grants[j];
		if (!ng) {
			/* What-if revoked this consumer's only grant: no release. */
			free(gs);
			json_t *got = NULL;
			for (size_t j = 0; j < nd; j++) {
				json_t *e = json_array_get(decs, j);
				if (!strcmp(json_string_value(json_object_get(e, "consumer")) ?: "",
					    cons[i]->consumer)) {
					got = e;
					matched[j] = 1;
				}
			}
			c->t->decisions++;
			if (got && json_array_size(json_object_get(got, "released")))
				finding(c, "would_change", d->j, cons[i]->consumer,
					decision_view(json_string_value(json_object_get(got, "verdict")) ?: "?",
						      json_string_value(json_object_get(got, "grant_id")),
						      json_object_get(got, "released")),
					decision_view("denied", c->f->revoke_grant, NULL),
					"released under grant %s, which the proposed "
					"revocation ends", c->f->revoke_grant);
			else
				c->t->agreed++;
			continue;
		}
		gx_policy_choose(item, gs, ng, d->at, &want);
		free(gs);
		json_t *rel = json_array();
		for (size_t f = 0; f < item->lib->nfields; f++)
			if ((want.released >> f) & 1)
				json_array_append_new(rel, json_string(item->lib->fields[f].name));
		json_t *got = NULL;
		for (size_t j = 0; j < nd; j++) {
			json_t *e = json_array_get(decs, j);
			if (!strcmp(json_string_value(json_object_get(e, "consumer")) ?: "",
				    cons[i]->consumer)) {
				got = e;
				matched[j] = 1;
			}
		}
		c->t->decisions++;
		const char *wv = gx_verdict_name(want.verdict);
		if (c->f->what_if && got &&
		    (strcmp(json_string_value(json_object_get(got, "verdict")) ?: "",
			    gx_verdict_name(want.verdict)) ||
		     !json_equal(json_object_get(got, "released"), rel))) {
			const char *gv = json_string_value(json_object_get(got, "verdict")) ?: "?";
			finding(c, "would_change", d->j, cons[i]->consumer,
				decision_view(gv, json_string_value(json_object_get(got, "grant_id")),
					      json_object_get(got, "released")),
				decision_view(gx_verdict_name(want.verdict), want.grant->id, rel),
				"%s now, %s under the proposed change", gv,
				gx_verdict_name(want.verdict));
		} else if (c->f->what_if) {
			c->t->agreed++;
		} else if (!got) {
			finding(c, "missing_decision", d->j, cons[i]->consumer, NULL,
				decision_view(wv, want.grant->id, rel),
				"the consumer held a grant in play but no decision "
				"was recorded");
		} else if (strcmp(json_string_value(json_object_get(got, "verdict")) ?: "", wv) ||
			   !json_equal(json_object_get(got, "released"), rel) ||
			   strcmp(json_string_value(json_object_get(got, "grant_id")) ?: "",
				  want.grant->id)) {
			const char *gv = json_string_value(json_object_get(got, "verdict")) ?: "?";
			finding(c, "verdict_mismatch", d->j, cons[i]->consumer,
				decision_view(gv, json_string_value(json_object_get(got, "grant_id")),
					      json_object_get(got, "released")),
				decision_view(wv, want.grant->id, rel),
				"recorded %s, the catalogue and approvals at the time "
				"give %s%s", gv, wv,
				want.released && !strcmp(gv, wv) ? " with other fields or grant"
				: (!want.released && strstr(gv, "released"))
				    ? ": a release that should not have happened"
				    : (want.released && !strstr(gv, "released"))
					  ? ": a withhold that should have been a release"
					  : "");
		} else {
			c->t->agreed++;
		}
		json_decref(rel);
	}
	for (size_t j = 0; j < nd; j++) {
		json_t *e = json_array_get(decs, j);
		const char *who = json_string_value(json_object_get(e, "consumer")) ?: "?";
		if (matched[j] || (c->f->consumer && strcmp(c->f->consumer, who)))
			continue;
		c->t->decisions++;
		finding(c, "extra_decision", d->j, who,
			decision_view(json_string_value(json_object_get(e, "verdict")) ?: "?",
				      json_string_value(json_object_get(e, "grant_id")),
				      json_object_get(e, "released")),
			NULL, "a decision for a consumer that held no grant in play");
	}
	free(matched);
}

void gx_replay_run(gx_replay_t *r, const gx_replay_filter_t *filter,
		   void (*report)(void *opaque, json_t *finding), void *opaque,
		   gx_replay_totals_t *totals)
{
	struct ctx c = {r, filter, report, opaque, totals};
	memset(totals, 0, sizeof(*totals));
	struct dmsg *d = gx_calloc(r->decisions.n + 1, sizeof(*d));
	json_t **cps = gx_calloc(r->decisions.n + 1, sizeof(*cps));
	size_t nd = 0, ncp = 0;
	for (size_t i = 0; i < r->decisions.n; i++) {
		struct raw *m = &r->decisions.v[i];
		json_t *j = m->value ? json_loadb(m->value, m->len, 0, NULL) : NULL;
		if (j && json_object_get(j, "checkpoint")) {
			cps[ncp++] = j;
			continue;
		}
		const char *chain = j ? json_string_value(json_object_get(j, "chain")) : NULL;
		if (!chain || !json_is_integer(json_object_get(j, "seq"))) {
			json_t *where = json_object();
			json_object_set_new(where, "chain", json_sprintf("partition %d offset %lld",
						m->partition, (long long)m->offset));
			finding(&c, "unverifiable", where, NULL, NULL, NULL,
				"a decisions message that is not a decision");
			json_decref(where);
			json_decref(j);
			continue;
		}
		d[nd].j = j;
		d[nd].chain = chain;
		d[nd].partition = m->partition;
		d[nd].offset = m->offset;
		d[nd].seq = json_integer_value(json_object_get(j, "seq"));
		d[nd].approvals_offset =
		    json_integer_value(json_object_get(j, "approvals_offset"));
		d[nd].at = json_integer_value(json_object_get(j, "at"));
		nd++;
	}
	totals->messages = (long)nd;

	/* 1. Chains and checkpoints: always whole, whatever the filter. */
	if (!filter->what_if) {
		gx_map_t *heads = gx_map_new();
		check_chains(&c, d, nd, heads);
		for (size_t i = 0; i < ncp; i++)
			check_checkpoint(&c, cps[i], heads);
		gx_map_destroy(heads, NULL);
	}

	/* 2. Verdicts, in approvals order, the state rebuilt as it was. */
	struct dmsg **order = gx_calloc(nd + 1, sizeof(*order));
	size_t no = 0;
	for (size_t i = 0; i < nd; i++)
		if (in_filter(filter, &d[i]))
			order[no++] = &d[i];
	qsort(order, no, sizeof(*order), cmp_approvals);
	gx_map_t *catalog_at = gx_map_new(); /* offset -> item json */
	for (size_t i = 0; i < r->catalog.n; i++) {
		struct raw *m = &r->catalog.v[i];
		json_t *j = m->value ? json_loadb(m->value, m->len, 0, NULL) : NULL;
		if (j) {
			char k[32];
			snprintf(k, sizeof(k), "%lld", (long long)m->offset);
			struct cat_version *cv = gx_calloc(1, sizeof(*cv));
			cv->json = j;
			gx_map_put(catalog_at, k, cv);
		}
	}
	gx_approvals_t *ap = gx_approvals_new();
	size_t next = 0;
	char err[256];
	for (size_t i = 0; i < no; i++) {
		while (next < r->approvals.n &&
		       r->approvals.v[next].offset <= order[i]->approvals_offset) {
			struct raw *m = &r->approvals.v[next++];
			gx_approvals_apply(ap, m->value, m->len, m->offset, err, sizeof(err));
		}
		check_verdicts(&c, order[i], ap, catalog_at);
	}
	gx_approvals_destroy(ap);
	gx_map_destroy(catalog_at, cat_version_free);
	for (size_t i = 0; i < nd; i++)
		json_decref(d[i].j);
	for (size_t i = 0; i < ncp; i++)
		json_decref(cps[i]);
	free(order);
	free(d);
	free(cps);
}
