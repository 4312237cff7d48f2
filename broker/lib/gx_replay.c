/*
 * gx_replay.c - decision chain verification and verdict recomputation.
 *
 * A year's decision log does not fit in memory as text and as parsed JSON
 * (some 7.5 KB a message), so each decision message is parsed once, when
 * it is added: its hash is checked then, and only what the checks and the
 * findings read is kept, in a compact form (a struct dmsg of 160 bytes and
 * the record id):
 *  - strings that repeat from message to message (chain, item, consumer,
 *    verdict, grant id) are interned, one copy each;
 *  - a message's decisions (consumer, verdict, grant id and fields
 *    released, as recorded) are interned as a whole list: the records of
 *    an item decided under the same catalogue and approvals give the same
 *    list;
 *  - prev and hash are kept as 32 bytes when they are 64 lower-case hex
 *    digits, as the broker writes them; anything else (and a record id or
 *    item that is not a string) is kept as it was, in the message's "odd"
 *    object, so that findings show it as before;
 *  - record ids are copied into an arena.
 * Checkpoints are few and kept as JSON; the catalogue and approvals topics
 * are small and kept as text. A message that is not a decision is kept as
 * its partition and offset, and reported first, as before.
 *
 * The findings, their order and the totals are those of the first
 * implementation, which held every message as text and parsed them all in
 * gx_replay_run: chains (sorted by chain and sequence number, ties in the
 * order the messages were added) and checkpoints first, then verdicts in
 * approvals order (ties in chain order, or in the order added for what-if).
 */
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_catalog.h"
#include "gx_map.h"
#include "gx_policy.h"
#include "gx_replay.h"
#include "gx_seal.h"

struct raw {
	int64_t offset;
	char *value;
	size_t len;
};

struct rawv {
	struct raw *v;
	size_t n, cap;
};

/* Strings that live as long as the replay, in chunks freed at once. */
struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

/* One recorded decision of a message; strings interned (NULL: the member
 * is missing or not a string), released as recorded (NULL: missing). */
struct dentry {
	const char *consumer, *verdict, *grant_id;
	json_t *released;
};

/* A message's decisions, shared by every message that recorded the same. */
struct dlist {
	size_t n;
	struct dentry e[];
};

/* How prev or hash is held. */
enum { HV_NONE, HV_BIN, HV_ODD };

/* A decision message, as much as replay reads of it. */
struct dmsg {
	const char *chain;	/* interned */
	const char *item;	/* interned; NULL: not a string */
	const char *record_id;	/* in the arena; NULL: not a string */
	const struct dlist *decs;
	/* "record_id" and "item" when present but not strings, "prev" and
	 * "hash" when strings but not 64 lower-case hex digits; NULL: none */
	json_t *odd;
	int64_t seq, offset, at, approvals_offset, catalog_offset;
	size_t idx;		/* order added, among decision messages */
	int32_t partition;
	uint8_t prev_kind, hash_kind, hash_ok;
	unsigned char prev[32], hash[32];
};

/* Where a message that is not a decision was read. */
struct where {
	int32_t partition;
	int64_t offset;
};

struct gx_replay {
	const gx_schemas_t *schemas;
	struct rawv catalog, approvals;
	struct dmsg *d;
	size_t nd, capd;
	int d_sorted;		/* d is in chain order, not the order added */
	json_t **cps;		/* checkpoints, in the order added */
	size_t ncp, capcp;
	struct where *bad;	/* messages that are not decisions */
	size_t nbad, capbad;
	struct chunk *arena;
	gx_map_t *strs;		/* string -> its interned copy */
	gx_map_t *lists;	/* key of a decision list -> struct dlist */
	gx_buf_t key;		/* scratch for list keys */
};

#define GROW(p, n, cap)                                                       \
	do {                                                                  \
		if ((n) == (cap)) {                                           \
			(cap) = (cap) ? 2 * (cap) : 256;                      \
			(p) = gx_realloc((p), (cap) * sizeof(*(p)));          \
		}                                                             \
	} while (0)

static void push(struct rawv *rv, int64_t off, const void *v, size_t len)
{
	GROW(rv->v, rv->n, rv->cap);
	struct raw *r = &rv->v[rv->n++];
	r->offset = off;
	r->value = v ? gx_strndup(v, len) : NULL;
	r->len = v ? len : 0;
}

static void rawv_free(struct rawv *rv)
{
	for (size_t i = 0; i < rv->n; i++)
		free(rv->v[i].value);
	free(rv->v);
}

/* A copy of s (len bytes and a NUL) in the arena. */
static const char *arena_dup(gx_replay_t *r, const char *s, size_t len)
{
	struct chunk *c = r->arena;
	if (!c || c->cap - c->used < len + 1) {
		size_t cap = len + 1 > 65536 - sizeof(*c) ? len + 1
							  : 65536 - sizeof(*c);
		c = gx_malloc(sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		c->next = r->arena;
		r->arena = c;
	}
	char *p = c->data + c->used;
	memcpy(p, s, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

/* The one copy of s (NULL for NULL). */
static const char *intern(gx_replay_t *r, const char *s)
{
	if (!s)
		return NULL;
	const char *v = gx_map_get(r->strs, s);
	if (!v) {
		v = arena_dup(r, s, strlen(s));
		gx_map_put(r->strs, s, (void *)v);
	}
	return v;
}

static void dlist_free(void *p)
{
	struct dlist *l = p;
	for (size_t i = 0; i < l->n; i++)
		json_decref(l->e[i].released);
	free(l);
}

gx_replay_t *gx_replay_new(const gx_schemas_t *schemas)
{
	gx_replay_t *r = gx_calloc(1, sizeof(*r));
	r->schemas = schemas;
	r->strs = gx_map_new();
	r->lists = gx_map_new();
	gx_buf_init(&r->key);
	return r;
}

void gx_replay_destroy(gx_replay_t *r)
{
	if (!r)
		return;
	rawv_free(&r->catalog);
	rawv_free(&r->approvals);
	for (size_t i = 0; i < r->nd; i++)
		json_decref(r->d[i].odd);
	free(r->d);
	for (size_t i = 0; i < r->ncp; i++)
		json_decref(r->cps[i]);
	free(r->cps);
	free(r->bad);
	gx_map_destroy(r->strs, NULL);
	gx_map_destroy(r->lists, dlist_free);
	while (r->arena) {
		struct chunk *c = r->arena;
		r->arena = c->next;
		free(c);
	}
	gx_buf_free(&r->key);
	free(r);
}

void gx_replay_add_catalog(gx_replay_t *r, int64_t offset, const void *value,
			   size_t len)
{
	push(&r->catalog, offset, value, len);
}

void gx_replay_add_approval(gx_replay_t *r, int64_t offset, const void *value,
			    size_t len)
{
	push(&r->approvals, offset, value, len);
}

/* Append n in decimal and a comma to the list key. */
static void key_num(gx_buf_t *k, size_t n)
{
	char d[24];
	size_t i = sizeof(d);
	d[--i] = ',';
	do
		d[--i] = (char)('0' + n % 10);
	while ((n /= 10));
	gx_buf_append(k, d + i, sizeof(d) - i);
}

/* Append s to the list key, its length first, so that no two lists share
 * a key ('-': not a string). */
static void key_str(gx_buf_t *k, const char *s)
{
	if (!s) {
		gx_buf_putc(k, '-');
		return;
	}
	size_t len = strlen(s);
	key_num(k, len);
	gx_buf_append(k, s, len);
}

/* The interned list of the decisions recorded in a message's "decisions"
 * (none when it is not an array). */
static const struct dlist *intern_list(gx_replay_t *r, json_t *decs)
{
	size_t n = json_array_size(decs);
	gx_buf_t *k = &r->key;
	gx_buf_reset(k);
	key_num(k, n);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(decs, i);
		key_str(k, json_string_value(json_object_get(e, "consumer")));
		key_str(k, json_string_value(json_object_get(e, "verdict")));
		key_str(k, json_string_value(json_object_get(e, "grant_id")));
		json_t *rel = json_object_get(e, "released");
		size_t nrel = json_array_size(rel), j;
		for (j = 0; j < nrel && json_is_string(json_array_get(rel, j)); j++)
			;
		if (!rel) {
			gx_buf_putc(k, '-');
		} else if (json_is_array(rel) && j == nrel) {
			gx_buf_putc(k, 'a');
			key_num(k, nrel);
			for (j = 0; j < nrel; j++)
				key_str(k, json_string_value(json_array_get(rel, j)));
		} else {
			/* Anything else as its text: equal text, equal value
			 * and equal output. */
			char *t = json_dumps(rel, JSON_COMPACT | JSON_ENCODE_ANY);
			if (!t)
				abort(); /* allocation failure */
			gx_buf_putc(k, 'j');
			key_str(k, t);
			free(t);
		}
	}
	const char *key = gx_buf_cstr(k);
	struct dlist *l = gx_map_get(r->lists, key);
	if (l)
		return l;
	l = gx_malloc(sizeof(*l) + n * sizeof(l->e[0]));
	l->n = n;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(decs, i);
		struct dentry *de = &l->e[i];
		de->consumer = intern(r, json_string_value(json_object_get(e, "consumer")));
		de->verdict = intern(r, json_string_value(json_object_get(e, "verdict")));
		de->grant_id = intern(r, json_string_value(json_object_get(e, "grant_id")));
		de->released = json_incref(json_object_get(e, "released"));
	}
	gx_map_put(r->lists, key, l);
	return l;
}

/* Hold a prev or hash string: 32 bytes, or as it is in d->odd. */
static uint8_t hold_hash(struct dmsg *d, const char *name, const char *s,
			 unsigned char bin[32])
{
	if (!s)
		return HV_NONE;
	/* Lower-case only: gx_hex must give the very same text back. */
	if (strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64 &&
	    !gx_unhex(s, 64, bin, 32))
		return HV_BIN;
	if (!d->odd)
		d->odd = json_object();
	json_object_set_new(d->odd, name, json_string(s));
	return HV_ODD;
}

/* A string member, interned (or copied into the arena); one present but
 * not a string is kept as it is in d->odd, and NULL returned. */
static const char *hold_str(gx_replay_t *r, struct dmsg *d, json_t *j,
			    const char *name, int arena)
{
	json_t *v = json_object_get(j, name);
	const char *s = json_string_value(v);
	if (s)
		return arena ? arena_dup(r, s, strlen(s)) : intern(r, s);
	if (v) {
		if (!d->odd)
			d->odd = json_object();
		json_object_set(d->odd, name, v);
	}
	return NULL;
}

void gx_replay_add_decision(gx_replay_t *r, int32_t partition, int64_t offset,
			    const void *value, size_t len)
{
	json_t *j = value ? json_loadb(value, len, 0, NULL) : NULL;
	if (j && json_object_get(j, "checkpoint")) {
		GROW(r->cps, r->ncp, r->capcp);
		r->cps[r->ncp++] = j;
		return;
	}
	const char *chain = j ? json_string_value(json_object_get(j, "chain")) : NULL;
	if (!chain || !json_is_integer(json_object_get(j, "seq"))) {
		GROW(r->bad, r->nbad, r->capbad);
		r->bad[r->nbad++] = (struct where){partition, offset};
		json_decref(j);
		return;
	}
	GROW(r->d, r->nd, r->capd);
	struct dmsg *d = &r->d[r->nd];
	memset(d, 0, sizeof(*d));
	d->idx = r->nd++;
	d->chain = intern(r, chain);
	d->partition = partition;
	d->offset = offset;
	d->seq = json_integer_value(json_object_get(j, "seq"));
	d->approvals_offset = json_integer_value(json_object_get(j, "approvals_offset"));
	d->catalog_offset = json_integer_value(json_object_get(j, "catalog_offset"));
	d->at = json_integer_value(json_object_get(j, "at"));
	d->record_id = hold_str(r, d, j, "record_id", 1);
	d->item = hold_str(r, d, j, "item", 0);
	d->decs = intern_list(r, json_object_get(j, "decisions"));
	const char *prev = json_string_value(json_object_get(j, "prev"));
	const char *hash = json_string_value(json_object_get(j, "hash"));
	d->prev_kind = hold_hash(d, "prev", prev, d->prev);
	d->hash_kind = hold_hash(d, "hash", hash, d->hash);
	/* The hash over the message without "hash" (gx_decision_hash, without
	 * its copy: j is ours). A hash that is not 64 hex digits never
	 * matches. */
	json_object_del(j, "hash");
	char *canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!canon)
		abort(); /* allocation failure */
	char calc[GX_HASH_HEX];
	unsigned char cbin[32];
	gx_decision_hash_canon(prev ? prev : "", canon, strlen(canon), calc);
	free(canon);
	d->hash_ok = d->hash_kind == HV_BIN && !gx_unhex(calc, 64, cbin, 32) &&
		     !memcmp(cbin, d->hash, 32);
	json_decref(j);
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

struct ctx {
	gx_replay_t *r;
	const gx_replay_filter_t *f;
	void (*report)(void *, json_t *);
	void *opaque;
	gx_replay_totals_t *t;
};

/* The members a finding takes from its message: a decision message held
 * compact (d), or JSON (msg: a checkpoint, or where a message that is not
 * a decision was read). */
static void msg_members(json_t *f, const struct dmsg *d, json_t *msg)
{
	json_t *v;
	if (msg) {
		if ((v = json_object_get(msg, "chain")) ||
		    (v = json_object_get(msg, "checkpoint")))
			json_object_set(f, "chain", v);
		if ((v = json_object_get(msg, "seq")))
			json_object_set(f, "seq", v);
		if ((v = json_object_get(msg, "record_id")))
			json_object_set(f, "record_id", v);
		if ((v = json_object_get(msg, "item")))
			json_object_set(f, "item", v);
		return;
	}
	if (!d)
		return;
	json_object_set_new(f, "chain", json_string(d->chain));
	json_object_set_new(f, "seq", json_integer(d->seq));
	if (d->record_id)
		json_object_set_new(f, "record_id", json_string(d->record_id));
	else if ((v = json_object_get(d->odd, "record_id")))
		json_object_set(f, "record_id", v);
	if (d->item)
		json_object_set_new(f, "item", json_string(d->item));
	else if ((v = json_object_get(d->odd, "item")))
		json_object_set(f, "item", v);
}

static void finding(struct ctx *c, const char *kind, const struct dmsg *d,
		    json_t *msg, const char *consumer, json_t *recorded,
		    json_t *recomputed, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
static void finding(struct ctx *c, const char *kind, const struct dmsg *d,
		    json_t *msg, const char *consumer, json_t *recorded,
		    json_t *recomputed, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_t *f = json_object();
	json_object_set_new(f, "kind", json_string(kind));
	msg_members(f, d, msg);
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

/* Chain order; messages with the same sequence number in the order added. */
static int cmp_chain_seq(const void *a, const void *b)
{
	const struct dmsg *x = a, *y = b;
	if (x->chain != y->chain) {
		int c = strcmp(x->chain, y->chain);
		if (c)
			return c;
	}
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_added(const void *a, const void *b)
{
	const struct dmsg *x = a, *y = b;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Approvals order; ties in the order of d. */
static int cmp_approvals(const void *a, const void *b)
{
	const struct dmsg *const *x = a, *const *y = b;
	if ((*x)->approvals_offset != (*y)->approvals_offset)
		return (*x)->approvals_offset < (*y)->approvals_offset ? -1 : 1;
	if ((*x)->at != (*y)->at)
		return (*x)->at < (*y)->at ? -1 : 1;
	return *x < *y ? -1 : *x > *y;
}

static int in_filter(const gx_replay_filter_t *f, const struct dmsg *d)
{
	if (f->from_ms && d->at < f->from_ms)
		return 0;
	if (f->to_ms && d->at > f->to_ms)
		return 0;
	if (f->item && strcmp(d->item ?: "", f->item))
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

/* prev of b names hash of a (or the genesis, a NULL)? */
static int links(const struct dmsg *a, const struct dmsg *b)
{
	static const unsigned char genesis[32];
	if (!a)
		return b->prev_kind == HV_BIN && !memcmp(b->prev, genesis, 32);
	if (a->hash_kind != b->prev_kind)
		return 0; /* a 64-hex string is always held as HV_BIN */
	if (a->hash_kind == HV_BIN)
		return !memcmp(a->hash, b->prev, 32);
	return !strcmp(json_string_value(json_object_get(a->odd, "hash")),
		       json_string_value(json_object_get(b->odd, "prev")));
}

/* Sort d into chain order and check the chains; heads (chain NUL seq ->
 * the message whose hash a checkpoint names) gets the last message with a
 * hash for each of its keys. */
static void check_chains(struct ctx *c, gx_map_t *heads)
{
	struct dmsg *d = c->r->d;
	size_t n = c->r->nd;
	qsort(d, n, sizeof(*d), cmp_chain_seq);
	c->r->d_sorted = 1;
	for (size_t i = 0; i < n; i++) {
		int first = i == 0 || d[i - 1].chain != d[i].chain;
		int64_t want_seq = first ? 1 : d[i - 1].seq + 1;
		/* The topic must hold a chain in its own order: a later link
		 * stored before an earlier one was moved. */
		if (!first && d[i].partition == d[i - 1].partition &&
		    d[i].offset < d[i - 1].offset)
			finding(c, "chain_broken", &d[i], NULL, NULL, NULL, NULL,
				"stored out of order: offset %lld comes before its "
				"predecessor's %lld", (long long)d[i].offset,
				(long long)d[i - 1].offset);
		if (d[i].seq != want_seq)
			finding(c, d[i].seq < want_seq ? "chain_broken" : "seq_gap",
				&d[i], NULL, NULL, NULL, NULL,
				d[i].seq < want_seq ? "sequence number %lld appears twice"
						    : "messages %lld..%lld are missing",
				(long long)(d[i].seq < want_seq ? d[i].seq : want_seq),
				(long long)(d[i].seq - 1));
		/* Whether there is a prev to check: the genesis for a chain
		 * that starts at 1, else the predecessor's hash if it has one. */
		int want_prev = first ? d[i].seq == 1 : d[i - 1].hash_kind != HV_NONE;
		if (want_prev && !links(first ? NULL : &d[i - 1], &d[i]))
			finding(c, "chain_broken", &d[i], NULL, NULL, NULL, NULL,
				"prev does not name the previous message's hash");
		if (!d[i].hash_ok)
			finding(c, "hash_mismatch", &d[i], NULL, NULL, NULL, NULL,
				"the message's content does not give its hash: "
				"altered after it was written");
		if (heads && d[i].hash_kind != HV_NONE) {
			char k[300];
			snprintf(k, sizeof(k), "%s\x1f%lld", d[i].chain,
				 (long long)d[i].seq);
			if (gx_map_get(heads, k))
				gx_map_put(heads, k, &d[i]);
		}
	}
}

/* A checkpoint's key in heads. */
static void checkpoint_key(json_t *cp, char k[300])
{
	snprintf(k, 300, "%s\x1f%lld",
		 json_string_value(json_object_get(cp, "checkpoint")) ?: "",
		 (long long)json_integer_value(json_object_get(cp, "seq")));
}

/* In heads, a key no message has yet. */
static char no_message;

static void check_checkpoint(struct ctx *c, json_t *cp, gx_map_t *heads)
{
	char err[256], k[300], hex[GX_HASH_HEX];
	c->t->checkpoints++;
	if (c->f->verifier) {
		if (gx_checkpoint_verify(c->f->verifier, cp, err, sizeof(err))) {
			finding(c, "checkpoint_invalid", NULL, cp, NULL, NULL, NULL,
				"%s", err);
			return;
		}
		c->t->checkpoints_verified++;
	}
	checkpoint_key(cp, k);
	const struct dmsg *m = gx_map_get(heads, k);
	const char *h = NULL;
	if (m && m != (const void *)&no_message) {
		if (m->hash_kind == HV_BIN) {
			gx_hex(m->hash, 32, hex);
			h = hex;
		} else {
			h = json_string_value(json_object_get(m->odd, "hash"));
		}
	}
	const char *head = json_string_value(json_object_get(cp, "head"));
	if (!h || !head || strcmp(h, head))
		finding(c, "checkpoint_mismatch", NULL, cp, NULL, NULL, NULL,
			"the signed head is not the chain's message at that "
			"sequence number%s", h ? "" : " (message missing)");
}

/* The recorded decision of cons in decs (the last if several), every one
 * for cons marked matched; NULL if none. */
static const struct dentry *recorded(const struct dlist *decs,
				     const char *cons, unsigned char *matched)
{
	const struct dentry *got = NULL;
	for (size_t j = 0; j < decs->n; j++)
		if (!strcmp(decs->e[j].consumer ?: "", cons)) {
			got = &decs->e[j];
			matched[j] = 1;
		}
	return got;
}

/* Recompute the decisions of one message under the given state. */
static void check_verdicts(struct ctx *c, const struct dmsg *d,
			   gx_approvals_t *ap, gx_map_t *catalog_at)
{
	char err[256], k[128];
	const char *item_id = d->item;
	const struct dlist *decs = d->decs;
	snprintf(k, sizeof(k), "%lld", (long long)d->catalog_offset);
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
		finding(c, "unverifiable", d, NULL, NULL, NULL, NULL,
			"catalogue version %s %s", k,
			cv ? "does not parse as this item" : "is no longer retained");
		return;
	}
	size_t n;
	const gx_consumer_grants_t *const *cons =
	    gx_approvals_consumers_for_item(ap, item_id, &n);
	/* Every consumer in play must have a decision, equal to the one
	 * recomputed; every recorded decision must be for one in play. */
	size_t nd = decs->n;
	unsigned char stack[64];
	unsigned char *matched = nd <= sizeof(stack) ? stack : gx_malloc(nd);
	memset(matched, 0, nd <= sizeof(stack) ? sizeof(stack) : nd);
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
			const struct dentry *got = recorded(decs, cons[i]->consumer, matched);
			c->t->decisions++;
			if (got && json_array_size(got->released))
				finding(c, "would_change", d, NULL, cons[i]->consumer,
					decision_view(got->verdict ?: "?", got->grant_id,
						      got->released),
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
		const struct dentry *got = recorded(decs, cons[i]->consumer, matched);
		c->t->decisions++;
		const char *wv = gx_verdict_name(want.verdict);
		if (c->f->what_if && got &&
		    (strcmp(got->verdict ?: "", wv) || !json_equal(got->released, rel))) {
			const char *gv = got->verdict ?: "?";
			finding(c, "would_change", d, NULL, cons[i]->consumer,
				decision_view(gv, got->grant_id, got->released),
				decision_view(wv, want.grant->id, rel),
				"%s now, %s under the proposed change", gv, wv);
		} else if (c->f->what_if) {
			c->t->agreed++;
		} else if (!got) {
			finding(c, "missing_decision", d, NULL, cons[i]->consumer, NULL,
				decision_view(wv, want.grant->id, rel),
				"the consumer held a grant in play but no decision "
				"was recorded");
		} else if (strcmp(got->verdict ?: "", wv) ||
			   !json_equal(got->released, rel) ||
			   strcmp(got->grant_id ?: "", want.grant->id)) {
			const char *gv = got->verdict ?: "?";
			finding(c, "verdict_mismatch", d, NULL, cons[i]->consumer,
				decision_view(gv, got->grant_id, got->released),
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
		const struct dentry *e = &decs->e[j];
		const char *who = e->consumer ?: "?";
		if (matched[j] || (c->f->consumer && strcmp(c->f->consumer, who)))
			continue;
		c->t->decisions++;
		finding(c, "extra_decision", d, NULL, who,
			decision_view(e->verdict ?: "?", e->grant_id, e->released),
			NULL, "a decision for a consumer that held no grant in play");
	}
	if (matched != stack)
		free(matched);
}

void gx_replay_run(gx_replay_t *r, const gx_replay_filter_t *filter,
		   void (*report)(void *opaque, json_t *finding), void *opaque,
		   gx_replay_totals_t *totals)
{
	struct ctx c = {r, filter, report, opaque, totals};
	memset(totals, 0, sizeof(*totals));
	/* 0. What is not a decision, where it was read. */
	for (size_t i = 0; i < r->nbad; i++) {
		json_t *where = json_object();
		json_object_set_new(where, "chain", json_sprintf("partition %d offset %lld",
					r->bad[i].partition, (long long)r->bad[i].offset));
		finding(&c, "unverifiable", NULL, where, NULL, NULL, NULL,
			"a decisions message that is not a decision");
		json_decref(where);
	}
	totals->messages = (long)r->nd;

	/* 1. Chains and checkpoints: always whole, whatever the filter. */
	if (!filter->what_if) {
		gx_map_t *heads = NULL;
		char k[300];
		if (r->ncp) {
			heads = gx_map_new();
			for (size_t i = 0; i < r->ncp; i++) {
				checkpoint_key(r->cps[i], k);
				gx_map_put(heads, k, &no_message);
			}
		}
		check_chains(&c, heads);
		for (size_t i = 0; i < r->ncp; i++)
			check_checkpoint(&c, r->cps[i], heads);
		gx_map_destroy(heads, NULL);
	} else if (r->d_sorted) {
		/* What-if takes ties in the order added, as it always did. */
		qsort(r->d, r->nd, sizeof(*r->d), cmp_added);
		r->d_sorted = 0;
	}

	/* 2. Verdicts, in approvals order, the state rebuilt as it was. */
	struct dmsg **order = gx_calloc(r->nd + 1, sizeof(*order));
	size_t no = 0;
	for (size_t i = 0; i < r->nd; i++)
		if (in_filter(filter, &r->d[i]))
			order[no++] = &r->d[i];
	qsort(order, no, sizeof(*order), cmp_approvals);
	gx_map_t *catalog_at = gx_map_new(); /* offset -> item json */
	for (size_t i = 0; i < r->catalog.n; i++) {
		struct raw *m = &r->catalog.v[i];
		json_t *j = m->value ? json_loadb(m->value, m->len, 0, NULL) : NULL;
		if (j) {
			char ko[32];
			snprintf(ko, sizeof(ko), "%lld", (long long)m->offset);
			struct cat_version *cv = gx_calloc(1, sizeof(*cv));
			cv->json = j;
			struct cat_version *was = gx_map_put(catalog_at, ko, cv);
			if (was)
				cat_version_free(was);
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
	free(order);
}
