/*
 * test_replay.c - compliance replay (broker/lib/gx_replay.c) over decision
 * logs built in memory the way the broker writes them (gx_policy_choose,
 * gx_decision_entries_text, gx_decision_write), with a catalogue and an
 * approvals log behind them: a clean log, then each kind of tampering or
 * mismatch replay must name - an altered, removed, duplicated or reordered
 * message, a broken prev, checkpoints valid, forged or naming a head the
 * chain never had, missing and extra decisions, wrong verdicts, fields and
 * grants, catalogue versions gone, messages that are not decisions - and
 * what-if and the filters.
 *
 * The expected text is what govexctl prints with --json (one finding per
 * line, members in the order replay sets them) and the totals. It was
 * recorded from the first implementation, which held every message as text
 * and as parsed JSON for the whole run; the compact one must give the same,
 * byte for byte and in the same order.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_catalog.h"
#include "gx_decision.h"
#include "gx_policy.h"
#include "gx_replay.h"
#include "gx_schema.h"

struct msg {
	int32_t part;
	int64_t off;
	char *v;	/* NULL: a tombstone */
};

struct topic {
	struct msg *m;
	size_t n, cap;
};

struct chain {
	const char *name;
	int32_t part;
	int64_t seq;
	char head[GX_HASH_HEX];
};

/* The exchange's topics as the broker and govexctl would have left them. */
struct world {
	gx_schemas_t *schemas;
	gx_catalog_t *cat;
	gx_approvals_t *ap;
	struct topic catalog, approvals, decisions;
	int64_t next_off[2];	/* per decisions partition */
	struct chain chains[2];
	char dir[64];
	gx_signer_t *signer;
	gx_verifier_t *verifier;
};

static void topic_push(struct topic *t, int32_t part, int64_t off,
		       const char *v)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 32;
		t->m = gx_realloc(t->m, t->cap * sizeof(*t->m));
	}
	t->m[t->n++] = (struct msg){part, off, v ? gx_strdup(v) : NULL};
}

static void w_catalog(struct world *w, const char *key, const char *text)
{
	char err[256];
	int64_t off = (int64_t)w->catalog.n;
	/* A version the catalogue refuses is on the topic all the same. */
	(void)gx_catalog_apply(w->cat, key, text, text ? strlen(text) : 0, off,
			       err, sizeof(err));
	topic_push(&w->catalog, 0, off, text);
}

static void w_approval(struct world *w, const char *ev)
{
	char err[256];
	int64_t off = (int64_t)w->approvals.n;
	cr_assert_eq(gx_approvals_apply(w->ap, ev, strlen(ev), off, err,
					sizeof(err)), GX_OK, "%s: %s", ev, err);
	topic_push(&w->approvals, 0, off, ev);
}

/* A raw message on a decisions partition, at its next offset. */
static void w_put(struct world *w, int32_t part, const char *v)
{
	topic_push(&w->decisions, part, w->next_off[part]++, v);
}

/* The decision message the broker writes for one record of item at time
 * at: one entry per consumer holding grants in play. */
static void w_decide(struct world *w, int c, const char *record_id,
		     const char *item_id, int64_t at)
{
	const gx_cat_item_t *item = gx_catalog_get(w->cat, item_id);
	cr_assert(item, "no item %s", item_id);
	size_t n;
	const gx_consumer_grants_t *const *cons =
	    gx_approvals_consumers_for_item(w->ap, item_id, &n);
	gx_decision_entry_t ents[8];
	const char *names[8][GX_MAX_FIELDS];
	size_t ne = 0;
	for (size_t i = 0; i < n; i++) {
		if (!cons[i]->n)
			continue;
		gx_decision_t d;
		gx_policy_choose(item, cons[i]->grants, cons[i]->n, at, &d);
		gx_decision_entry_t *e = &ents[ne];
		e->consumer = d.grant->consumer;
		e->verdict = gx_verdict_name(d.verdict);
		e->reason = d.reason;
		e->grant_id = d.grant->id;
		e->purpose = d.grant->purpose;
		e->released = names[ne];
		e->nreleased = 0;
		for (size_t f = 0; f < item->lib->nfields; f++)
			if ((d.released >> f) & 1)
				names[ne][e->nreleased++] = item->lib->fields[f].name;
		ne++;
	}
	gx_buf_t b;
	gx_buf_init(&b);
	cr_assert_eq(gx_decision_entries_text(&b, ents, ne), 0);
	struct chain *ch = &w->chains[c];
	char ingest[64];
	snprintf(ingest, sizeof(ingest), "population.ingest/%d/%lld", ch->part,
		 (long long)w->next_off[ch->part]);
	gx_decision_head_t h = {
	    .chain = ch->name, .prev = ch->head, .record_id = record_id,
	    .subject = "5d41402abc4b2a76b9719d911017c592"
		       "5d41402abc4b2a76b9719d911017c592",
	    .library = item->library, .item = item->id, .provider = item->provider,
	    .ingest = ingest, .seq = ch->seq + 1, .at = at,
	    .catalog_offset = item->offset,
	    .approvals_offset = gx_approvals_offset(w->ap)};
	char hash[GX_HASH_HEX];
	char *v = gx_decision_write(&h, b.data, b.len, hash);
	cr_assert(v);
	gx_buf_free(&b);
	ch->seq++;
	memcpy(ch->head, hash, GX_HASH_HEX);
	w_put(w, ch->part, v);
	free(v);
}

static void w_checkpoint(struct world *w, int32_t part, const char *chain,
			 int64_t seq, const char *head, int64_t at)
{
	json_t *cp = gx_checkpoint_new(w->signer, chain, seq, head, at);
	char *v = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
	w_put(w, part, v);
	free(v);
	json_decref(cp);
}

static const char hot_v1[] =
    "{\"item\":\"HOT\",\"library\":\"population\",\"provider\":\"SX-GA\",\"fields\":["
    "{\"name\":\"citizen_id\",\"share\":\"conditional\",\"legal_basis\":\"b\"},"
    "{\"name\":\"name\",\"share\":\"unconditional\"},"
    "{\"name\":\"sex\",\"share\":\"unconditional\"},"
    "{\"name\":\"address\",\"share\":\"conditional\",\"legal_basis\":\"b\"},"
    "{\"name\":\"status\",\"share\":\"unconditional\"}]}";
/* sex no longer shared */
static const char hot_v2[] =
    "{\"item\":\"HOT\",\"library\":\"population\",\"provider\":\"SX-GA\",\"fields\":["
    "{\"name\":\"citizen_id\",\"share\":\"conditional\",\"legal_basis\":\"b\"},"
    "{\"name\":\"name\",\"share\":\"unconditional\"},"
    "{\"name\":\"sex\",\"share\":\"none\",\"legal_basis\":\"privacy\"},"
    "{\"name\":\"address\",\"share\":\"conditional\",\"legal_basis\":\"b\"},"
    "{\"name\":\"status\",\"share\":\"unconditional\"}]}";
static const char cold[] =
    "{\"item\":\"COLD\",\"library\":\"population\",\"provider\":\"SX-MZ\",\"fields\":["
    "{\"name\":\"name\",\"share\":\"unconditional\"},"
    "{\"name\":\"address\",\"share\":\"conditional\",\"legal_basis\":\"c\"}]}";

/*
 * The standard log: items HOT (changed half-way) and COLD; consumers C0
 * (automatic grant), C1 (provider's grant, revoked half-way; a narrowed
 * one on COLD), C2 (a grant that ends); two chains on two partitions,
 * interleaved, several records sharing a time and an approvals offset; a
 * checkpoint per chain.
 */
static void w_init(struct world *w)
{
	char err[512];
	memset(w, 0, sizeof(*w));
	cr_assert_eq(gx_schemas_new(&w->schemas, err, sizeof(err)), GX_OK, "%s", err);
	w->cat = gx_catalog_new(w->schemas);
	w->ap = gx_approvals_new();
	w->chains[0] = (struct chain){"population/0", 0, 0, GX_CHAIN_GENESIS};
	w->chains[1] = (struct chain){"population/1", 1, 0, GX_CHAIN_GENESIS};
	snprintf(w->dir, sizeof(w->dir), "/tmp/test-replay.XXXXXX");
	cr_assert(mkdtemp(w->dir));
	char key[128], pub[140];
	snprintf(key, sizeof(key), "%s/cp.key", w->dir);
	snprintf(pub, sizeof(pub), "%s/cp.key.pub", w->dir);
	cr_assert_eq(gx_signer_create(key, NULL, err, sizeof(err)), GX_OK, "%s", err);
	cr_assert_eq(gx_signer_load(key, NULL, &w->signer, err, sizeof(err)), GX_OK,
		     "%s", err);
	cr_assert_eq(gx_verifier_load(pub, NULL, &w->verifier, err, sizeof(err)),
		     GX_OK, "%s", err);
	unlink(key);
	unlink(pub);
	rmdir(w->dir);
}

static void w_standard(struct world *w)
{
	w_init(w);
	w_catalog(w, "HOT", hot_v1);
	w_catalog(w, "COLD", cold);
	w_approval(w, "{\"type\":\"request\",\"request_id\":\"R0\",\"consumer\":\"C0\","
		   "\"item\":\"HOT\",\"fields\":[\"name\",\"sex\",\"citizen_id\"],"
		   "\"purpose\":\"p0\",\"actor\":\"C0\",\"at\":1000}");
	w_approval(w, "{\"type\":\"approve\",\"request_id\":\"R0\",\"grant_id\":\"G0\","
		   "\"fields\":[\"name\",\"sex\"],\"automatic\":true,\"actor\":\"SX-GA\","
		   "\"at\":1000}");
	w_approval(w, "{\"type\":\"request\",\"request_id\":\"R1\",\"consumer\":\"C1\","
		   "\"item\":\"HOT\",\"fields\":[\"name\",\"sex\",\"citizen_id\"],"
		   "\"purpose\":\"p1\",\"actor\":\"C1\",\"at\":1000}");
	w_approval(w, "{\"type\":\"approve\",\"request_id\":\"R1\",\"grant_id\":\"G1\","
		   "\"fields\":[\"name\",\"sex\",\"citizen_id\"],\"automatic\":false,"
		   "\"actor\":\"SX-GA\",\"at\":1000}");
	w_approval(w, "{\"type\":\"request\",\"request_id\":\"R2\",\"consumer\":\"C2\","
		   "\"item\":\"HOT\",\"fields\":[\"name\",\"status\"],\"purpose\":\"p2\","
		   "\"actor\":\"C2\",\"at\":1000}");
	w_approval(w, "{\"type\":\"approve\",\"request_id\":\"R2\",\"grant_id\":\"G2\","
		   "\"fields\":[\"name\",\"status\"],\"automatic\":true,\"until\":5000,"
		   "\"actor\":\"SX-GA\",\"at\":1000}");
	w_decide(w, 0, "r01", "HOT", 2000);
	w_decide(w, 1, "r02", "HOT", 2000);
	w_approval(w, "{\"type\":\"request\",\"request_id\":\"R3\",\"consumer\":\"C1\","
		   "\"item\":\"COLD\",\"fields\":[\"name\",\"address\"],\"purpose\":\"p3\","
		   "\"actor\":\"C1\",\"at\":2500}");
	w_approval(w, "{\"type\":\"approve\",\"request_id\":\"R3\",\"grant_id\":\"G3\","
		   "\"fields\":[\"address\"],\"automatic\":false,\"actor\":\"SX-MZ\","
		   "\"at\":2500}");
	/* Ties: the same time and approvals offset on both chains. */
	w_decide(w, 1, "r03", "HOT", 3000);
	w_decide(w, 0, "r04", "COLD", 3000);
	w_decide(w, 0, "r05", "HOT", 3000);
	w_decide(w, 1, "r06", "COLD", 3000);
	w_checkpoint(w, 0, "population/0", 3, w->chains[0].head, 3100);
	w_decide(w, 0, "r07", "HOT", 4000);
	w_decide(w, 1, "r08", "HOT", 5000);	/* G2 has ended */
	w_approval(w, "{\"type\":\"revoke\",\"request_id\":\"R1\",\"grant_id\":\"G1\","
		   "\"reason\":\"r\",\"actor\":\"SX-GA\",\"at\":5500}");
	w_catalog(w, "HOT", hot_v2);
	w_decide(w, 0, "r09", "HOT", 6000);
	w_decide(w, 1, "r10", "HOT", 6000);
	w_decide(w, 1, "r11", "COLD", 6500);
	w_decide(w, 0, "r12", "HOT", 7000);
	w_checkpoint(w, 1, "population/1", w->chains[1].seq, w->chains[1].head, 7100);
}

static void w_free(struct world *w)
{
	struct topic *ts[] = {&w->catalog, &w->approvals, &w->decisions};
	for (size_t i = 0; i < GX_ARRAY_SIZE(ts); i++) {
		for (size_t j = 0; j < ts[i]->n; j++)
			free(ts[i]->m[j].v);
		free(ts[i]->m);
	}
	gx_catalog_destroy(w->cat);
	gx_approvals_destroy(w->ap);
	gx_signer_destroy(w->signer);
	gx_verifier_destroy(w->verifier);
	gx_schemas_destroy(w->schemas);
}

/* ---- tampering ---- */

/* The decisions message of chain c with sequence number seq. */
static struct msg *w_find(struct world *w, int c, int64_t seq)
{
	for (size_t i = 0; i < w->decisions.n; i++) {
		struct msg *m = &w->decisions.m[i];
		json_t *j = m->v ? json_loads(m->v, 0, NULL) : NULL;
		int hit = j && !json_object_get(j, "checkpoint") &&
			  !strcmp(json_string_value(json_object_get(j, "chain")) ?: "",
				  w->chains[c].name) &&
			  json_integer_value(json_object_get(j, "seq")) == seq;
		json_decref(j);
		if (hit)
			return m;
	}
	cr_assert_fail("no message %s seq %lld", w->chains[c].name, (long long)seq);
	return NULL;
}

static void msg_set(struct msg *m, char *v)
{
	free(m->v);
	m->v = v;
}

/* Edit a message in jansson; with rehash, its hash is made again from its
 * (possibly edited) prev, as a forger would. */
static void msg_edit(struct msg *m, void (*fn)(json_t *, void *), void *arg,
		     int rehash)
{
	json_t *j = json_loads(m->v, 0, NULL);
	cr_assert(j);
	fn(j, arg);
	char h[GX_HASH_HEX];
	const char *prev = json_string_value(json_object_get(j, "prev"));
	char *prevc = gx_strdup(prev ?: "");
	msg_set(m, rehash ? gx_decision_text(prevc, j, h)
			  : json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS));
	free(prevc);
	json_decref(j);
}

/* Make every chain whole again after an edit, as a forger with the whole
 * topic would: each decision message's prev and hash made anew, in the
 * order the topic holds them. */
static void w_rechain(struct world *w)
{
	char heads[2][GX_HASH_HEX];
	memcpy(heads[0], GX_CHAIN_GENESIS, GX_HASH_HEX);
	memcpy(heads[1], GX_CHAIN_GENESIS, GX_HASH_HEX);
	for (size_t i = 0; i < w->decisions.n; i++) {
		struct msg *m = &w->decisions.m[i];
		json_t *j = m->v ? json_loads(m->v, 0, NULL) : NULL;
		const char *ch = json_string_value(json_object_get(j, "chain"));
		int c = ch ? !strcmp(ch, "population/1") : -1;
		if (!ch || json_object_get(j, "checkpoint")) {
			json_decref(j);
			continue;
		}
		json_object_set_new(j, "prev", json_string(heads[c]));
		msg_set(m, gx_decision_text(heads[c], j, heads[c]));
		json_decref(j);
	}
}

/* The members of a message's decision entry for consumer. */
static json_t *entry(json_t *msg, const char *consumer)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(msg, "decisions"), i, e)
		if (!strcmp(json_string_value(json_object_get(e, "consumer")) ?: "",
			    consumer))
			return e;
	cr_assert_fail("no entry for %s", consumer);
	return NULL;
}

static json_t *strs(const char *a, const char *b, const char *c)
{
	json_t *arr = json_array();
	const char *v[] = {a, b, c};
	for (size_t i = 0; i < 3; i++)
		if (v[i])
			json_array_append_new(arr, json_string(v[i]));
	return arr;
}

/* ---- running replay ---- */

static void collect(void *opaque, json_t *f)
{
	char *s = json_dumps(f, JSON_COMPACT | JSON_PRESERVE_ORDER);
	gx_buf_printf(opaque, "%s\n", s);
	free(s);
}

static void feed(struct world *w, gx_replay_t *r)
{
	for (size_t i = 0; i < w->catalog.n; i++) {
		struct msg *m = &w->catalog.m[i];
		gx_replay_add_catalog(r, m->off, m->v, m->v ? strlen(m->v) : 0);
	}
	for (size_t i = 0; i < w->approvals.n; i++) {
		struct msg *m = &w->approvals.m[i];
		gx_replay_add_approval(r, m->off, m->v, strlen(m->v));
	}
	for (size_t i = 0; i < w->decisions.n; i++) {
		struct msg *m = &w->decisions.m[i];
		gx_replay_add_decision(r, m->part, m->off, m->v,
				       m->v ? strlen(m->v) : 0);
	}
}

static char *run_on(gx_replay_t *r, const gx_replay_filter_t *f)
{
	gx_buf_t out;
	gx_buf_init(&out);
	gx_replay_totals_t t;
	gx_replay_run(r, f, collect, &out, &t);
	gx_buf_printf(&out, "totals messages=%ld decisions=%ld agreed=%ld "
		      "checkpoints=%ld verified=%ld findings=%ld\n",
		      t.messages, t.decisions, t.agreed, t.checkpoints,
		      t.checkpoints_verified, t.findings);
	return gx_buf_cstr(&out);
}

static char *run(struct world *w, const gx_replay_filter_t *f)
{
	gx_replay_t *r = gx_replay_new(w->schemas);
	feed(w, r);
	char *s = run_on(r, f);
	gx_replay_destroy(r);
	return s;
}

/* On a mismatch, the text as a C literal, to compare or to record. */
static void print_literal(const char *name, const char *s)
{
	fprintf(stderr, "---- %s:\n\t    \"", name);
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', stderr);
		if (*p == '\n')
			fputs(p[1] ? "\\n\"\n\t    \"" : "\\n\"", stderr);
		else if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fprintf(stderr, "\\%03o", (unsigned char)*p);
		else
			fputc(*p, stderr);
	}
	fputs(";\n", stderr);
}

static void expect_run(struct world *w, const gx_replay_filter_t *f,
		       const char *name, const char *want)
{
	char *got = run(w, f);
	if (strcmp(got, want))
		print_literal(name, got);
	cr_expect_str_eq(got, want, "%s", name);
	free(got);
}

static const gx_replay_filter_t none;

/* Insert a raw message into the decisions topic before position at (the
 * order replay is fed in), the partitions' offsets counted again. */
static void w_insert(struct world *w, size_t at, int32_t part, const char *v)
{
	topic_push(&w->decisions, part, 0, v);
	struct msg m = w->decisions.m[w->decisions.n - 1];
	memmove(&w->decisions.m[at + 1], &w->decisions.m[at],
		(w->decisions.n - 1 - at) * sizeof(m));
	w->decisions.m[at] = m;
	int64_t next[2] = {0, 0};
	for (size_t i = 0; i < w->decisions.n; i++)
		w->decisions.m[i].off = next[w->decisions.m[i].part]++;
}

static void w_remove(struct world *w, struct msg *m)
{
	free(m->v);
	size_t i = (size_t)(m - w->decisions.m);
	memmove(m, m + 1, (w->decisions.n - 1 - i) * sizeof(*m));
	w->decisions.n--;
}

/* ---- edits ---- */

struct set {
	const char *consumer;	/* NULL: the message itself */
	const char *key;
	json_t *value;		/* NULL: remove the member */
};

static void do_set(json_t *j, void *arg)
{
	struct set *s = arg;
	json_t *o = s->consumer ? entry(j, s->consumer) : j;
	if (s->value)
		json_object_set_new(o, s->key, s->value);
	else
		json_object_del(o, s->key);
}

/* Set (or remove) one member of a message or of one of its entries. */
static void w_set(struct world *w, int c, int64_t seq, const char *consumer,
		  const char *key, json_t *value, int rehash)
{
	struct set s = {consumer, key, value};
	msg_edit(w_find(w, c, seq), do_set, &s, rehash);
}

static void drop_entry(json_t *j, void *arg)
{
	json_t *decs = json_object_get(j, "decisions");
	size_t i;
	json_t *e;
	json_array_foreach(decs, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "consumer")) ?: "",
			    arg)) {
			json_array_remove(decs, i);
			return;
		}
}

/* Append a copy of consumer's entry, renamed to as (NULL: the same). */
struct copy {
	const char *consumer, *as;
};

static void copy_entry(json_t *j, void *arg)
{
	struct copy *c = arg;
	json_t *e = json_deep_copy(entry(j, c->consumer));
	if (c->as)
		json_object_set_new(e, "consumer", json_string(c->as));
	json_array_append_new(json_object_get(j, "decisions"), e);
}

static void add_entry(json_t *j, void *arg)
{
	json_array_append_new(json_object_get(j, "decisions"), arg);
}

/* ---- the cases ---- */

Test(replay, clean_log_agrees)
{
	struct world w;
	w_standard(&w);
	expect_run(&w, &none, "clean",
	    "totals messages=12 decisions=27 agreed=27 checkpoints=2 verified=0 findings=0\n");
	gx_replay_filter_t f = {.verifier = w.verifier};
	expect_run(&w, &f, "clean, checkpoints verified",
	    "totals messages=12 decisions=27 agreed=27 checkpoints=2 verified=2 findings=0\n");
	w_free(&w);
}

Test(replay, altered_message)
{
	struct world w;
	w_standard(&w);
	/* A release widened after the fact, the hash left as it was. */
	w_set(&w, 0, 1, "C0", "released", strs("name", "sex", "address"), 0);
	expect_run(&w, &none, "altered",
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\",\"address\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]}}\n"
	    "totals messages=12 decisions=27 agreed=26 checkpoints=2 verified=0 findings=2\n");
	w_free(&w);
}

Test(replay, removed_message)
{
	struct world w;
	w_standard(&w);
	/* The checkpoint signed seq 3, which is gone. */
	w_remove(&w, w_find(&w, 0, 3));
	gx_replay_filter_t f = {.verifier = w.verifier};
	expect_run(&w, &f, "removed",
	    "{\"kind\":\"seq_gap\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"detail\":\"messages 3..3 are missing\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"detail\":\"prev does not name the previous message's hash\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":3,\"detail\":\"the signed head is not the chain's message at that sequence number (message missing)\"}\n"
	    "totals messages=11 decisions=24 agreed=24 checkpoints=2 verified=2 findings=3\n");
	w_free(&w);
}

Test(replay, duplicated_seq)
{
	struct world w;
	w_standard(&w);
	w_put(&w, 1, w_find(&w, 1, 2)->v);
	w_put(&w, 0, w_find(&w, 0, 6)->v);
	expect_run(&w, &none, "duplicated",
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"detail\":\"sequence number 6 appears twice\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"detail\":\"prev does not name the previous message's hash\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"detail\":\"sequence number 2 appears twice\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"detail\":\"prev does not name the previous message's hash\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/1\",\"seq\":3,\"record_id\":\"r06\",\"item\":\"COLD\",\"detail\":\"stored out of order: offset 2 comes before its predecessor's 7\"}\n"
	    "totals messages=14 decisions=32 agreed=32 checkpoints=2 verified=0 findings=5\n");
	w_free(&w);
}

Test(replay, stored_out_of_order)
{
	struct world w;
	w_standard(&w);
	struct msg *a = w_find(&w, 1, 3), *b = w_find(&w, 1, 4);
	char *v = a->v;
	a->v = b->v;
	b->v = v;
	expect_run(&w, &none, "out of order",
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"detail\":\"stored out of order: offset 2 comes before its predecessor's 3\"}\n"
	    "totals messages=12 decisions=27 agreed=27 checkpoints=2 verified=0 findings=1\n");
	w_free(&w);
}

Test(replay, broken_prev)
{
	struct world w;
	w_standard(&w);
	/* The hash is right for the content, the link is not. */
	w_set(&w, 0, 4, NULL, "prev", json_string(GX_CHAIN_GENESIS), 1);
	/* A first message whose prev is not the genesis. */
	w_set(&w, 1, 1, NULL, "prev",
	      json_string("1111111111111111111111111111111111111111111111111111111111111111"),
	      1);
	expect_run(&w, &none, "broken prev",
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"detail\":\"prev does not name the previous message's hash\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/0\",\"seq\":5,\"record_id\":\"r09\",\"item\":\"HOT\",\"detail\":\"prev does not name the previous message's hash\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/1\",\"seq\":1,\"record_id\":\"r02\",\"item\":\"HOT\",\"detail\":\"prev does not name the previous message's hash\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"detail\":\"prev does not name the previous message's hash\"}\n"
	    "totals messages=12 decisions=27 agreed=27 checkpoints=2 verified=0 findings=4\n");
	w_free(&w);
}

Test(replay, checkpoints)
{
	struct world w;
	w_standard(&w);
	/* A head the chain never had, at a sequence number it had. */
	w_checkpoint(&w, 0, "population/0", 2, GX_CHAIN_GENESIS, 8000);
	/* The real head, at a sequence number the chain never reached. */
	w_checkpoint(&w, 1, "population/1", 99, w.chains[1].head, 8000);
	/* A checkpoint for a chain that does not exist. */
	w_checkpoint(&w, 1, "population/7", 1, w.chains[1].head, 8000);
	/* Valid, then its time altered: the signature no longer verifies. */
	json_t *cp = gx_checkpoint_new(w.signer, "population/0", 5,
				       w.chains[0].head, 8000);
	char *v = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
	w_put(&w, 0, v);
	free(v);
	json_object_set_new(cp, "at", json_integer(8001));
	v = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
	w_put(&w, 0, v);
	free(v);
	/* Malformed: no signature. */
	json_object_del(cp, "sig");
	v = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
	w_put(&w, 1, v);
	free(v);
	json_decref(cp);
	/* A checkpoint that also names a "chain" (which findings show), over
	 * a head the chain never had. */
	cp = gx_checkpoint_new(w.signer, "population/1", 1, GX_CHAIN_GENESIS, 8000);
	json_object_set_new(cp, "chain", json_string("somewhere"));
	json_object_set_new(cp, "record_id", json_integer(7));
	v = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
	w_put(&w, 1, v);
	free(v);
	json_decref(cp);
	/* "checkpoint" present but not a string. */
	w_put(&w, 0, "{\"checkpoint\":null,\"seq\":1,\"head\":\"x\"}");
	expect_run(&w, &none, "checkpoints, unverified",
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":2,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/1\",\"seq\":99,\"detail\":\"the signed head is not the chain's message at that sequence number (message missing)\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/7\",\"seq\":1,\"detail\":\"the signed head is not the chain's message at that sequence number (message missing)\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":5,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":5,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":5,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"somewhere\",\"seq\":1,\"record_id\":7,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":null,\"seq\":1,\"detail\":\"the signed head is not the chain's message at that sequence number (message missing)\"}\n"
	    "totals messages=12 decisions=27 agreed=27 checkpoints=10 verified=0 findings=8\n");
	gx_replay_filter_t f = {.verifier = w.verifier};
	expect_run(&w, &f, "checkpoints, verified",
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":2,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/1\",\"seq\":99,\"detail\":\"the signed head is not the chain's message at that sequence number (message missing)\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/7\",\"seq\":1,\"detail\":\"the signed head is not the chain's message at that sequence number (message missing)\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":5,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_invalid\",\"chain\":\"population/0\",\"seq\":5,\"detail\":\"checkpoint signature does not verify\"}\n"
	    "{\"kind\":\"checkpoint_invalid\",\"chain\":\"population/0\",\"seq\":5,\"detail\":\"malformed checkpoint\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"somewhere\",\"seq\":1,\"record_id\":7,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_invalid\",\"chain\":null,\"seq\":1,\"detail\":\"malformed checkpoint\"}\n"
	    "totals messages=12 decisions=27 agreed=27 checkpoints=10 verified=7 findings=8\n");
	w_free(&w);
}

Test(replay, missing_and_extra_decisions)
{
	struct world w;
	w_standard(&w);
	msg_edit(w_find(&w, 1, 1), drop_entry, "C2", 0);
	msg_edit(w_find(&w, 0, 5), drop_entry, "C0", 0);
	struct copy c9 = {"C1", "C9"}, twice = {"C0", NULL};
	msg_edit(w_find(&w, 0, 2), copy_entry, &c9, 0);
	msg_edit(w_find(&w, 1, 2), copy_entry, &twice, 0);
	/* An entry for nobody, and one that is not an object. */
	msg_edit(w_find(&w, 1, 4), add_entry,
		 json_pack("{s:s,s:[]}", "verdict", "released", "released"), 0);
	msg_edit(w_find(&w, 0, 6), add_entry, json_integer(3), 0);
	w_rechain(&w);
	expect_run(&w, &none, "missing and extra",
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":3,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"missing_decision\",\"chain\":\"population/1\",\"seq\":1,\"record_id\":\"r02\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"the consumer held a grant in play but no decision was recorded\",\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]}}\n"
	    "{\"kind\":\"extra_decision\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"consumer\":\"C9\",\"detail\":\"a decision for a consumer that held no grant in play\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "{\"kind\":\"extra_decision\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"?\",\"detail\":\"a decision for a consumer that held no grant in play\",\"recorded\":{\"verdict\":\"released\",\"grant_id\":null,\"released\":[]}}\n"
	    "{\"kind\":\"missing_decision\",\"chain\":\"population/0\",\"seq\":5,\"record_id\":\"r09\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"the consumer held a grant in play but no decision was recorded\",\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]}}\n"
	    "{\"kind\":\"extra_decision\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"consumer\":\"?\",\"detail\":\"a decision for a consumer that held no grant in play\",\"recorded\":{\"verdict\":\"?\",\"grant_id\":null,\"released\":[]}}\n"
	    "totals messages=12 decisions=30 agreed=25 checkpoints=2 verified=0 findings=7\n");
	gx_replay_filter_t f = {.consumer = "C9"};
	expect_run(&w, &f, "missing and extra, --consumer C9",
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":3,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"extra_decision\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"consumer\":\"C9\",\"detail\":\"a decision for a consumer that held no grant in play\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "totals messages=12 decisions=1 agreed=0 checkpoints=2 verified=0 findings=3\n");
	w_free(&w);
}

Test(replay, verdict_mismatch)
{
	struct world w;
	w_standard(&w);
	/* Wrong fields. */
	w_set(&w, 0, 1, "C1", "released", strs("citizen_id", "name", "address"), 0);
	/* Wrong grant. */
	w_set(&w, 1, 2, "C0", "grant_id", json_string("G1"), 0);
	/* Wrong verdict, the same fields. */
	w_set(&w, 0, 4, "C2", "verdict", json_string("withheld"), 0);
	/* A release after the grant ended. */
	w_set(&w, 1, 4, "C2", "verdict", json_string("released"), 0);
	w_set(&w, 1, 4, "C2", "released", strs("name", "status", NULL), 0);
	/* The right fields in another order; no "released" at all. */
	w_set(&w, 0, 3, "C1", "released", strs("sex", "name", "citizen_id"), 0);
	w_set(&w, 0, 5, "C0", "released", NULL, 0);
	/* A withhold that should have been a release; no grant id. */
	w_set(&w, 1, 5, "C0", "verdict", json_string("denied"), 0);
	w_set(&w, 1, 5, "C0", "released", json_array(), 0);
	w_set(&w, 1, 5, "C2", "grant_id", NULL, 0);
	/* Released as something other than a list of names. */
	w_set(&w, 0, 6, "C0", "released", json_string("name"), 0);
	w_set(&w, 0, 6, "C2", "released", json_pack("[s,i]", "name", 1), 0);
	w_set(&w, 1, 6, "C1", "released", json_pack("{s:s}", "address", "x"), 0);
	w_rechain(&w);
	expect_run(&w, &none, "verdict mismatch",
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":3,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"address\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"sex\",\"name\",\"citizen_id\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"recorded withheld, the catalogue and approvals at the time give partly_released: a withhold that should have been a release\",\"recorded\":{\"verdict\":\"withheld\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"recorded released, the catalogue and approvals at the time give denied: a release that should not have happened\",\"recorded\":{\"verdict\":\"released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G2\",\"released\":[]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":5,\"record_id\":\"r09\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":5,\"record_id\":\"r10\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded denied, the catalogue and approvals at the time give partly_released: a withhold that should have been a release\",\"recorded\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":5,\"record_id\":\"r10\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"recorded denied, the catalogue and approvals at the time give denied\",\"recorded\":{\"verdict\":\"denied\",\"grant_id\":null,\"released\":[]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G2\",\"released\":[]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"consumer\":\"C1\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":{\"address\":\"x\"}},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":\"name\"},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"recorded denied, the catalogue and approvals at the time give denied\",\"recorded\":{\"verdict\":\"denied\",\"grant_id\":\"G2\",\"released\":[\"name\",1]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G2\",\"released\":[]}}\n"
	    "totals messages=12 decisions=27 agreed=16 checkpoints=2 verified=0 findings=13\n");
	w_free(&w);
}

Test(replay, unverifiable_catalogue_version)
{
	struct world w;
	w_standard(&w);
	w_catalog(&w, "BAD", "{\"item\":\"HOT\",\"library\":\"nosuch\",\"fields\":[]}");
	w_catalog(&w, "ODD", "not json");
	w_catalog(&w, "HOT2", NULL);
	w_set(&w, 0, 2, NULL, "catalog_offset", json_integer(99), 0);
	w_set(&w, 1, 2, NULL, "catalog_offset", json_integer(1), 0);
	w_set(&w, 0, 3, NULL, "catalog_offset", json_integer(3), 0);
	w_set(&w, 0, 4, NULL, "catalog_offset", json_integer(4), 0);
	w_set(&w, 1, 4, NULL, "catalog_offset", json_integer(5), 0);
	w_set(&w, 1, 5, NULL, "catalog_offset", json_string("1"), 0);
	w_set(&w, 0, 6, NULL, "catalog_offset", NULL, 0);
	w_rechain(&w);
	expect_run(&w, &none, "unverifiable",
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":3,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"detail\":\"catalogue version 99 is no longer retained\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"detail\":\"catalogue version 3 does not parse as this item\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"detail\":\"catalogue version 1 does not parse as this item\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"detail\":\"catalogue version 4 is no longer retained\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"detail\":\"catalogue version 5 is no longer retained\"}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":5,\"record_id\":\"r10\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]}}\n"
	    "totals messages=12 decisions=14 agreed=12 checkpoints=2 verified=0 findings=9\n");
	w_free(&w);
}

Test(replay, messages_that_are_not_decisions)
{
	struct world w;
	w_standard(&w);
	w_insert(&w, 0, 1, "not json");
	w_insert(&w, 3, 0, NULL);
	w_insert(&w, 5, 0, "[1,2]");
	w_insert(&w, 7, 1, "{\"seq\":1}");
	w_insert(&w, 9, 0, "{\"chain\":\"population/0\",\"seq\":\"7\"}");
	w_insert(&w, 11, 1, "{\"chain\":5,\"seq\":7}");
	w_insert(&w, 11, 0, "{\"chain\":\"population/0\",\"seq\":2.0}");
	w_put(&w, 1, "{\"chain\":\"population/1\"}");
	w_put(&w, 0, "");
	w_put(&w, 0, "{\"chain\":\"population/0\",\"seq\":7} trailing");
	expect_run(&w, &none, "not decisions",
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 1 offset 0\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 0 offset 1\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 0 offset 2\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 1 offset 3\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 0 offset 5\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 0 offset 6\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 1 offset 5\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 1 offset 7\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 0 offset 7\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"partition 0 offset 8\",\"detail\":\"a decisions message that is not a decision\"}\n"
	    "totals messages=12 decisions=27 agreed=27 checkpoints=2 verified=0 findings=10\n");
	w_free(&w);
}

Test(replay, odd_members)
{
	struct world w;
	w_standard(&w);
	/* Non-string record id and item, odd text in strings. */
	w_set(&w, 0, 1, NULL, "record_id", json_integer(12), 0);
	w_set(&w, 1, 1, NULL, "record_id", json_string("r\"\\/\n记录\x7f"), 0);
	w_set(&w, 0, 2, NULL, "item", NULL, 0);
	w_set(&w, 1, 2, NULL, "item", json_pack("[s]", "HOT"), 0);
	w_set(&w, 0, 3, NULL, "record_id", json_null(), 0);
	w_set(&w, 0, 4, NULL, "at", json_string("4000"), 0);
	w_set(&w, 1, 3, NULL, "approvals_offset", json_real(2.0), 0);
	w_set(&w, 1, 4, NULL, "decisions", json_string("none"), 0);
	w_set(&w, 1, 6, "C1", "consumer", NULL, 0);
	/* ... and findings on those messages, to show them. */
	w_set(&w, 0, 1, "C0", "verdict", json_string("withheld"), 0);
	w_set(&w, 1, 1, "C1", "grant_id", json_string("G9"), 0);
	w_set(&w, 0, 3, "C2", "released", json_array(), 0);
	w_rechain(&w);
	/* A hash that is not there; a prev and a hash that are not hex. */
	w_set(&w, 0, 5, NULL, "hash", NULL, 0);
	w_set(&w, 1, 6, NULL, "prev", json_string("XYZ"), 1);
	w_set(&w, 0, 6, NULL, "prev", json_integer(1), 0);
	w_set(&w, 1, 3, NULL, "hash", json_string("ABCDEF"), 0);
	/* A chain of one whose first message says it is number 0, and one
	 * with a sequence number far out. */
	w_put(&w, 0, "{\"chain\":\"population/9\",\"seq\":0,\"prev\":\"0\"}");
	w_put(&w, 0, "{\"chain\":\"population/9\",\"seq\":-3}");
	w_put(&w, 1, "{\"chain\":\"population/8\",\"seq\":9223372036854775807,"
	      "\"record_id\":{\"a\":[1,2.5,null,true]},\"item\":\"COLD\","
	      "\"catalog_offset\":1,\"approvals_offset\":7,\"at\":1,"
	      "\"decisions\":[{\"consumer\":\"C1\",\"verdict\":\"released\","
	      "\"grant_id\":\"G3\",\"released\":[\"address\"]}],"
	      "\"hash\":\"0000000000000000000000000000000000000000000000000000000000000000\"}");
	gx_replay_filter_t f = {.verifier = w.verifier};
	expect_run(&w, &f, "odd members",
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":5,\"record_id\":\"r09\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/1\",\"seq\":3,\"record_id\":\"r06\",\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"detail\":\"prev does not name the previous message's hash\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"detail\":\"prev does not name the previous message's hash\"}\n"
	    "{\"kind\":\"seq_gap\",\"chain\":\"population/8\",\"seq\":9223372036854775807,\"record_id\":{\"a\":[1,2.5,null,true]},\"item\":\"COLD\",\"detail\":\"messages 1..9223372036854775806 are missing\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/8\",\"seq\":9223372036854775807,\"record_id\":{\"a\":[1,2.5,null,true]},\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/9\",\"seq\":-3,\"detail\":\"sequence number -3 appears twice\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/9\",\"seq\":-3,\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"chain_broken\",\"chain\":\"population/9\",\"seq\":0,\"detail\":\"stored out of order: offset 7 comes before its predecessor's 8\"}\n"
	    "{\"kind\":\"seq_gap\",\"chain\":\"population/9\",\"seq\":0,\"detail\":\"messages -2..-1 are missing\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/9\",\"seq\":0,\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/0\",\"seq\":3,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"checkpoint_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"detail\":\"the signed head is not the chain's message at that sequence number\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/9\",\"seq\":-3,\"detail\":\"catalogue version 0 does not parse as this item\"}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/9\",\"seq\":0,\"detail\":\"catalogue version 0 does not parse as this item\"}\n"
	    "{\"kind\":\"extra_decision\",\"chain\":\"population/1\",\"seq\":3,\"record_id\":\"r06\",\"item\":\"COLD\",\"consumer\":\"C1\",\"detail\":\"a decision for a consumer that held no grant in play\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":12,\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded withheld, the catalogue and approvals at the time give partly_released: a withhold that should have been a release\",\"recorded\":{\"verdict\":\"withheld\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":1,\"record_id\":\"r\\\"\\\\/\\n记录\177\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G9\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give denied: a release that should not have happened\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give denied: a release that should not have happened\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G1\",\"released\":[]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give denied: a release that should not have happened\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G2\",\"released\":[]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/8\",\"seq\":9223372036854775807,\"record_id\":{\"a\":[1,2.5,null,true]},\"item\":\"COLD\",\"consumer\":\"C1\",\"detail\":\"recorded released, the catalogue and approvals at the time give denied: a release that should not have happened\",\"recorded\":{\"verdict\":\"released\",\"grant_id\":\"G3\",\"released\":[\"address\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G3\",\"released\":[]}}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"detail\":\"catalogue version 1 does not parse as this item\"}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":null,\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]}}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":[\"HOT\"],\"detail\":\"catalogue version 0 does not parse as this item\"}\n"
	    "{\"kind\":\"missing_decision\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"the consumer held a grant in play but no decision was recorded\",\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]}}\n"
	    "{\"kind\":\"missing_decision\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"the consumer held a grant in play but no decision was recorded\",\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]}}\n"
	    "{\"kind\":\"missing_decision\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"the consumer held a grant in play but no decision was recorded\",\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G2\",\"released\":[]}}\n"
	    "{\"kind\":\"missing_decision\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"consumer\":\"C1\",\"detail\":\"the consumer held a grant in play but no decision was recorded\",\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "{\"kind\":\"extra_decision\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"consumer\":\"?\",\"detail\":\"a decision for a consumer that held no grant in play\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "totals messages=15 decisions=25 agreed=12 checkpoints=2 verified=2 findings=31\n");
	w_free(&w);
}

Test(replay, what_if)
{
	struct world w;
	w_standard(&w);
	/* Tampering is not what-if's business. */
	w_set(&w, 0, 2, NULL, "seq", json_integer(20), 0);
	gx_replay_filter_t f = {.what_if = 1, .revoke_grant = "G1", .revoke_at = 3000};
	expect_run(&w, &f, "what-if revoke G1",
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"released under grant G1, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G1\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"released under grant G1, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G1\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"released under grant G1, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G1\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"released under grant G1, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G1\",\"released\":[]}}\n"
	    "totals messages=12 decisions=27 agreed=23 checkpoints=0 verified=0 findings=4\n");
	f.revoke_grant = "G0";
	f.revoke_at = 0;
	expect_run(&w, &f, "what-if revoke G0",
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"released under grant G0, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":1,\"record_id\":\"r02\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"released under grant G0, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"released under grant G0, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"released under grant G0, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"released under grant G0, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"released under grant G0, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":5,\"record_id\":\"r09\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"released under grant G0, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":5,\"record_id\":\"r10\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"released under grant G0, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"released under grant G0, which the proposed revocation ends\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G0\",\"released\":[]}}\n"
	    "totals messages=12 decisions=27 agreed=18 checkpoints=0 verified=0 findings=9\n");
	json_t *items = json_object();
	json_t *hot = json_loads(hot_v1, 0, NULL);
	json_object_set_new(json_array_get(json_object_get(hot, "fields"), 1), "share",
			    json_string("none"));
	json_object_set_new(json_array_get(json_object_get(hot, "fields"), 1),
			    "legal_basis", json_string("x"));
	json_object_set_new(items, "HOT", hot);
	json_object_set_new(items, "COLD", json_pack("{s:s,s:s}", "item", "COLD",
						     "library", "nosuch"));
	gx_replay_filter_t p = {.what_if = 1, .proposed_items = items};
	expect_run(&w, &p, "what-if proposed",
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"status\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":1,\"record_id\":\"r02\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":1,\"record_id\":\"r02\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":1,\"record_id\":\"r02\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"status\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"status\"]}}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/0\",\"seq\":20,\"record_id\":\"r04\",\"item\":\"COLD\",\"detail\":\"catalogue version proposed:COLD does not parse as this item\"}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"status\"]}}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/1\",\"seq\":3,\"record_id\":\"r06\",\"item\":\"COLD\",\"detail\":\"catalogue version proposed:COLD does not parse as this item\"}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"status\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":5,\"record_id\":\"r09\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":5,\"record_id\":\"r10\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"detail\":\"catalogue version proposed:COLD does not parse as this item\"}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "totals messages=12 decisions=24 agreed=4 checkpoints=0 verified=0 findings=23\n");
	p.from_ms = 3000;
	p.to_ms = 6000;
	expect_run(&w, &p, "what-if proposed, --from --to",
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"status\"]}}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/0\",\"seq\":20,\"record_id\":\"r04\",\"item\":\"COLD\",\"detail\":\"catalogue version proposed:COLD does not parse as this item\"}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":3,\"record_id\":\"r05\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"status\"]}}\n"
	    "{\"kind\":\"unverifiable\",\"chain\":\"population/1\",\"seq\":3,\"record_id\":\"r06\",\"item\":\"COLD\",\"detail\":\"catalogue version proposed:COLD does not parse as this item\"}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":4,\"record_id\":\"r07\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"name\",\"status\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G2\",\"released\":[\"status\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":4,\"record_id\":\"r08\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/0\",\"seq\":5,\"record_id\":\"r09\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "{\"kind\":\"would_change\",\"chain\":\"population/1\",\"seq\":5,\"record_id\":\"r10\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"partly_released now, partly_released under the proposed change\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"sex\"]}}\n"
	    "totals messages=12 decisions=16 agreed=3 checkpoints=0 verified=0 findings=15\n");
	json_decref(items);
	w_free(&w);
}

Test(replay, filters)
{
	struct world w;
	w_standard(&w);
	/* Chains are checked whole whatever the filter; verdicts only in it. */
	w_set(&w, 0, 1, "C1", "released", strs("citizen_id", "name", "address"), 0);
	w_set(&w, 1, 2, "C0", "grant_id", json_string("G1"), 0);
	w_set(&w, 0, 2, "C1", "verdict", json_string("denied"), 0);
	w_set(&w, 1, 6, "C1", "verdict", json_string("denied"), 0);
	w_set(&w, 0, 6, "C2", "verdict", json_string("released"), 0);
	w_set(&w, 1, 1, NULL, "seq", json_integer(1), 0);
	gx_replay_filter_t f = {.consumer = "C1"};
	expect_run(&w, &f, "--consumer C1",
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"consumer\":\"C1\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"address\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"citizen_id\",\"name\",\"sex\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"consumer\":\"C1\",\"detail\":\"recorded denied, the catalogue and approvals at the time give partly_released: a withhold that should have been a release\",\"recorded\":{\"verdict\":\"denied\",\"grant_id\":\"G3\",\"released\":[\"address\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"consumer\":\"C1\",\"detail\":\"recorded denied, the catalogue and approvals at the time give partly_released: a withhold that should have been a release\",\"recorded\":{\"verdict\":\"denied\",\"grant_id\":\"G3\",\"released\":[\"address\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "totals messages=12 decisions=9 agreed=6 checkpoints=2 verified=0 findings=8\n");
	f = (gx_replay_filter_t){.item = "COLD"};
	expect_run(&w, &f, "--item COLD",
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"consumer\":\"C1\",\"detail\":\"recorded denied, the catalogue and approvals at the time give partly_released: a withhold that should have been a release\",\"recorded\":{\"verdict\":\"denied\",\"grant_id\":\"G3\",\"released\":[\"address\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"consumer\":\"C1\",\"detail\":\"recorded denied, the catalogue and approvals at the time give partly_released: a withhold that should have been a release\",\"recorded\":{\"verdict\":\"denied\",\"grant_id\":\"G3\",\"released\":[\"address\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "totals messages=12 decisions=3 agreed=1 checkpoints=2 verified=0 findings=7\n");
	f = (gx_replay_filter_t){.from_ms = 3000, .to_ms = 6000};
	expect_run(&w, &f, "--from 3000 --to 6000",
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"consumer\":\"C1\",\"detail\":\"recorded denied, the catalogue and approvals at the time give partly_released: a withhold that should have been a release\",\"recorded\":{\"verdict\":\"denied\",\"grant_id\":\"G3\",\"released\":[\"address\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G3\",\"released\":[\"address\"]}}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"consumer\":\"C0\",\"detail\":\"recorded partly_released, the catalogue and approvals at the time give partly_released with other fields or grant\",\"recorded\":{\"verdict\":\"partly_released\",\"grant_id\":\"G1\",\"released\":[\"name\",\"sex\"]},\"recomputed\":{\"verdict\":\"partly_released\",\"grant_id\":\"G0\",\"released\":[\"name\",\"sex\"]}}\n"
	    "totals messages=12 decisions=18 agreed=16 checkpoints=2 verified=0 findings=7\n");
	f = (gx_replay_filter_t){.from_ms = 6001, .item = "HOT", .consumer = "C2"};
	expect_run(&w, &f, "--from 6001 --item HOT --consumer C2",
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":1,\"record_id\":\"r01\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":2,\"record_id\":\"r04\",\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/1\",\"seq\":2,\"record_id\":\"r03\",\"item\":\"HOT\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"hash_mismatch\",\"chain\":\"population/1\",\"seq\":6,\"record_id\":\"r11\",\"item\":\"COLD\",\"detail\":\"the message's content does not give its hash: altered after it was written\"}\n"
	    "{\"kind\":\"verdict_mismatch\",\"chain\":\"population/0\",\"seq\":6,\"record_id\":\"r12\",\"item\":\"HOT\",\"consumer\":\"C2\",\"detail\":\"recorded released, the catalogue and approvals at the time give denied: a release that should not have happened\",\"recorded\":{\"verdict\":\"released\",\"grant_id\":\"G2\",\"released\":[]},\"recomputed\":{\"verdict\":\"denied\",\"grant_id\":\"G2\",\"released\":[]}}\n"
	    "totals messages=12 decisions=1 agreed=0 checkpoints=2 verified=0 findings=6\n");
	w_free(&w);
}

/* The same replay run again, and fed in another order, says the same. */
Test(replay, runs_again_the_same)
{
	struct world w;
	w_standard(&w);
	w_set(&w, 0, 1, "C1", "released", strs("citizen_id", "name", "address"), 0);
	w_put(&w, 1, w_find(&w, 1, 2)->v);
	w_insert(&w, 4, 0, "junk");
	gx_replay_filter_t wi = {.what_if = 1, .revoke_grant = "G0", .revoke_at = 0};
	char *check = run(&w, &none), *whatif = run(&w, &wi);
	gx_replay_t *r = gx_replay_new(w.schemas);
	/* Decisions first, then the rest. */
	for (size_t i = 0; i < w.decisions.n; i++) {
		struct msg *m = &w.decisions.m[i];
		gx_replay_add_decision(r, m->part, m->off, m->v, m->v ? strlen(m->v) : 0);
	}
	for (size_t i = 0; i < w.approvals.n; i++) {
		struct msg *m = &w.approvals.m[i];
		gx_replay_add_approval(r, m->off, m->v, strlen(m->v));
	}
	for (size_t i = 0; i < w.catalog.n; i++) {
		struct msg *m = &w.catalog.m[i];
		gx_replay_add_catalog(r, m->off, m->v, m->v ? strlen(m->v) : 0);
	}
	for (int k = 0; k < 2; k++) {
		char *s = run_on(r, &none);
		cr_expect_str_eq(s, check, "check, run %d", k);
		free(s);
		s = run_on(r, &wi);
		cr_expect_str_eq(s, whatif, "what-if, run %d", k);
		free(s);
	}
	gx_replay_destroy(r);
	free(check);
	free(whatif);
	w_free(&w);
}

/* Nothing fed: no findings, nothing counted. */
Test(replay, empty)
{
	struct world w;
	w_init(&w);
	expect_run(&w, &none, "empty", "totals messages=0 decisions=0 agreed=0 "
		   "checkpoints=0 verified=0 findings=0\n");
	w_free(&w);
}
