/*
 * 0012-replay: compliance staff replay every decision (issue 6).
 * After real traffic with an automatic grant, a provider-narrowed grant, a
 * denied request and a revocation, `govexctl replay` agrees with every
 * decision and verifies the signed checkpoints; `govexctl why` explains a
 * release; a decision altered on the topic afterwards, or checkpoints
 * checked against another key, make replay fail with exit 1.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"
#include "gx_decision.h"

static char *first_line(itest_out_t *o)
{
	char *nl = strchr(o->out, '\n');
	if (nl)
		*nl = '\0';
	return strdup(o->out);
}

static void adapter(const char *P, const char *item, unsigned first, unsigned n)
{
	char name[64];
	snprintf(name, sizeof(name), "%s-%u.csv", P, first);
	char *csv = it_path(name);
	it_population_csv(csv, first, n);
	const char *a[] = {"--provider", "SX-GA", "--item", item, "--csv", csv, NULL};
	itest_out_t o = it_run(P, "govex-adapter", a);
	cr_assert_eq(o.status, 0, "adapter: %s", o.err);
	it_out_free(&o);
}

/* Read n records from the start with a fresh consumer group. */
static void drain(const char *P, const char *consumer, unsigned n)
{
	static int k;
	char m[16], group[64];
	snprintf(m, sizeof(m), "%u", n);
	snprintf(group, sizeof(group), "%s-drain-%d", P, k++);
	const char *a[] = {"consume", "--consumer", consumer, "--json", "--max", m,
			   "--group", group, "--idle-exit", "30s", NULL};
	itest_out_t o = it_run(P, "govexctl", a);
	cr_assert_eq(o.status, 0);
	json_t *j = it_json_lines(o.out, o.len);
	cr_assert_eq(json_array_size(j), n, "%s got %zu of %u", consumer,
		     json_array_size(j), n);
	json_decref(j);
	it_out_free(&o);
}

struct pick {
	char *value;	/* a decision message with a decision for SX-RS */
	char *key;
	int partition;
	json_t *last;	/* the newest message of that message's chain */
	char *chain;
};

static void pick_decision(void *opaque, const rd_kafka_message_t *m)
{
	struct pick *p = opaque;
	if (!m->len || strstr((const char *)m->payload, "\"checkpoint\""))
		return;
	if (!p->value && strstr((const char *)m->payload, "\"SX-RS\"")) {
		p->value = strndup(m->payload, m->len);
		p->key = strndup(m->key, m->key_len);
		p->partition = m->partition;
		json_t *j = json_loadb(m->payload, m->len, 0, NULL);
		p->chain = strdup(json_string_value(json_object_get(j, "chain")));
		json_decref(j);
	}
	if (p->chain) {
		json_t *j = json_loadb(m->payload, m->len, 0, NULL);
		if (!strcmp(json_string_value(json_object_get(j, "chain")) ?: "", p->chain) &&
		    (!p->last || json_integer_value(json_object_get(j, "seq")) >
				     json_integer_value(json_object_get(p->last, "seq")))) {
			json_decref(p->last);
			p->last = j;
		} else {
			json_decref(j);
		}
	}
}

struct pick_denied {
	char *key;
};

static void pick_denied(void *opaque, const rd_kafka_message_t *m)
{
	struct pick_denied *p = opaque;
	if (p->key || !m->len)
		return;
	json_t *j = json_loadb(m->payload, m->len, 0, NULL);
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(j, "decisions"), i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "consumer")) ?: "", "SX-JY") &&
		    !strcmp(json_string_value(json_object_get(e, "verdict")) ?: "", "denied"))
			p->key = strndup(m->key, m->key_len);
	}
	json_decref(j);
}

/* Append a decision message to the decisions topic with kcat, as an
 * intruder with write access to the topic would. */
static void inject(const char *topic, int partition, const char *key, json_t *msg)
{
	char *v = json_dumps(msg, JSON_COMPACT | JSON_SORT_KEYS);
	char path[600], cmd[2048];
	snprintf(path, sizeof(path), "%s/inject.json", it_tmp());
	it_write(path, v, strlen(v));
	free(v);
	snprintf(cmd, sizeof(cmd), "kcat -P -b %s -t %s -p %d -k %s -l %s 2>/dev/null",
		 it_brokers(), topic, partition, key, path);
	cr_assert_eq(system(cmd), 0, "kcat could not write to %s", topic);
}

/* Lines of `govexctl ARGS --json` output whose kind is kind. */
static long count_kind(const char *out, const char *kind)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "\"kind\":\"%s\"", kind);
	long n = 0;
	for (const char *p = out; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(replay, every_decision_replays_and_tampering_is_found, .timeout = 400)
{
	const char *P = "rpl";
	const char *ITEM = "POP-RPL";
	it_setup(P, it_population_catalog(ITEM));
	const char *ra[] = {"request", "--consumer", "SX-MZ", "--item", ITEM, "--fields",
			    "name,sex", "--purpose", "低保核验", "--basis", "《社会救助暂行办法》", NULL};
	itest_out_t o = it_run(P, "govexctl", ra);
	cr_assert_eq(o.status, 0);
	it_out_free(&o);
	const char *rb[] = {"request", "--consumer", "SX-RS", "--item", ITEM, "--fields",
			    "citizen_id,name,address", "--purpose", "社保登记", "--basis",
			    "《社会保险法》", NULL};
	o = it_run(P, "govexctl", rb);
	char *req_b = first_line(&o);
	it_out_free(&o);
	const char *ab[] = {"approve", req_b, "--by", "SX-GA", "--fields", "citizen_id,name", NULL};
	o = it_run(P, "govexctl", ab);
	cr_assert_eq(o.status, 0, "approve: %s", o.err);
	char *grant_b = first_line(&o);
	it_out_free(&o);

	/* SX-JY: a grant that ends during the run. */
	char until[40];
	int64_t end = gx_now_ms() + 20000;
	gx_fmt_time_ms(end, until, sizeof(until));
	const char *rc[] = {"request", "--consumer", "SX-JY", "--item", ITEM, "--fields",
			    "name,status", "--purpose", "学籍核验", "--basis", "《教育法》",
			    "--until", until, NULL};
	o = it_run(P, "govexctl", rc);
	cr_assert_eq(o.status, 0, "request with --until: %s", o.err);
	it_out_free(&o);

	pid_t broker = it_broker(P);
	adapter(P, ITEM, 0, 200);
	drain(P, "SX-MZ", 200);
	drain(P, "SX-RS", 200);
	drain(P, "SX-JY", 200);
	while (gx_now_ms() < end + 1500)
		usleep(200000);
	const char *rv[] = {"revoke", grant_b, "--by", "SX-GA", "--reason", "到期", NULL};
	o = it_run(P, "govexctl", rv);
	cr_assert_eq(o.status, 0);
	it_out_free(&o);
	sleep(2);
	adapter(P, ITEM, 200, 100);
	drain(P, "SX-MZ", 300);
	cr_assert_eq(it_stop(broker), 0);

	char pub[600];
	snprintf(pub, sizeof(pub), "%s/%s.key.pub", it_tmp(), P);
	const char *rp[] = {"replay", "--pubkey", pub, "--json", NULL};
	o = it_run(P, "govexctl", rp);
	json_t *res = it_json_lines(o.out, o.len);
	cr_assert_eq(o.status, 0, "replay found mismatches: %.2000s", o.out);
	json_t *sum = json_array_get(res, json_array_size(res) - 1);
	cr_expect_eq(json_integer_value(json_object_get(sum, "findings")), 0);
	/* 300 records for SX-MZ, 200 for SX-RS (then revoked: no grant in
	 * play), 300 for SX-JY (200 released, 100 denied after expiry). */
	cr_expect_eq(json_integer_value(json_object_get(sum, "decisions")), 800,
		     "decisions checked: %lld",
		     (long long)json_integer_value(json_object_get(sum, "decisions")));
	cr_expect_geq(json_integer_value(json_object_get(sum, "checkpoints_verified")), 1);
	json_decref(res);
	it_out_free(&o);

	/* why: a record SX-RS received, under the provider's narrowed grant. */
	struct pick pk = {0};
	char topic[128];
	snprintf(topic, sizeof(topic), "%s.decisions", P);
	it_topic_read(topic, 10000, pick_decision, &pk);
	cr_assert(pk.value, "no decision for SX-RS on %s", topic);
	const char *wy[] = {"why", pk.key, "--consumer", "SX-RS", "--json", NULL};
	o = it_run(P, "govexctl", wy);
	cr_assert_eq(o.status, 0, "why: %s", o.err);
	json_t *why = json_loads(o.out, 0, NULL);
	it_out_free(&o);
	cr_assert(why);
	json_t *dec = json_object_get(why, "decision");
	cr_expect_str_eq(json_string_value(json_object_get(dec, "verdict")), "partly_released");
	json_t *g = json_object_get(why, "grant");
	cr_expect_str_eq(json_string_value(json_object_get(g, "approved_by")), "SX-GA");
	cr_expect(json_is_true(json_object_get(g, "revoked")));
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(why, "request"),
							   "purpose")), "社保登记");
	json_decref(why);

	/* subject: every release about one citizen, from the log alone. */
	char secret[600];
	snprintf(secret, sizeof(secret), "%s/%s.secret", it_tmp(), P);
	struct {
		unsigned row;
		size_t releases;
	} subj[] = {{10, 3}, {250, 1}, {9999, 0}};
	for (size_t k = 0; k < 3; k++) {
		struct row r;
		make_row(subj[k].row, &r);
		const char *sa[] = {"subject", r.id, "--secret", secret, "--json", NULL};
		o = it_run(P, "govexctl", sa);
		cr_assert_eq(o.status, 0, "subject: %s", o.err);
		json_t *hits = it_json_lines(o.out, o.len);
		cr_expect_eq(json_array_size(hits), subj[k].releases,
			     "row %u: %zu releases listed, want %zu", subj[k].row,
			     json_array_size(hits), subj[k].releases);
		size_t h;
		json_t *hit;
		json_array_foreach(hits, h, hit) {
			const char *who = json_string_value(json_object_get(hit, "consumer"));
			cr_expect(who && (!strcmp(who, "SX-MZ") || !strcmp(who, "SX-RS") ||
					  !strcmp(who, "SX-JY")));
			cr_expect(json_string_value(json_object_get(hit, "purpose")));
		}
		json_decref(hits);
		it_out_free(&o);
	}

	/* what-if: revoking SX-RS's grant from the start would have withheld
	 * its 200 releases; making `name` not shared would change all 700
	 * releases (the 100 denials after expiry stay as they are). */
	const char *wi[] = {"what-if", "--revoke", grant_b, "--at", "2000-01-01", "--json", NULL};
	o = it_run(P, "govexctl", wi);
	cr_assert_eq(o.status, 0, "what-if: %s", o.err);
	cr_expect_eq(count_kind(o.out, "would_change"), 200, "%.500s", o.out);
	it_out_free(&o);
	char cat2[600];
	snprintf(cat2, sizeof(cat2), "%s/proposed.json", it_tmp());
	char *proposed = strdup(it_population_catalog(ITEM));
	char *nm = strstr(proposed, "{\"name\": \"name\", \"share\": \"unconditional\"}");
	cr_assert(nm, "catalogue text changed: update this test");
	const char *repl = "{\"name\": \"name\", \"share\": \"none\", \"legal_basis\": \"x\"}";
	char *cat = NULL;
	cr_assert(asprintf(&cat, "%.*s%s%s", (int)(nm - proposed), proposed, repl,
			   nm + strlen("{\"name\": \"name\", \"share\": \"unconditional\"}")) > 0);
	it_write(cat2, cat, strlen(cat));
	free(cat);
	free(proposed);
	const char *wc[] = {"what-if", "--catalog", cat2, "--json", NULL};
	o = it_run(P, "govexctl", wc);
	cr_assert_eq(o.status, 0, "what-if --catalog: %s", o.err);
	cr_expect_eq(count_kind(o.out, "would_change"), 700, "%.500s", o.out);
	it_out_free(&o);

	/* why on a record withheld from SX-JY after its grant ended. */
	struct pick_denied pd = {0};
	it_topic_read(topic, 10000, pick_denied, &pd);
	cr_assert(pd.key, "no denial for SX-JY on %s", topic);
	const char *wd[] = {"why", pd.key, "--consumer", "SX-JY", "--json", NULL};
	o = it_run(P, "govexctl", wd);
	cr_assert_eq(o.status, 0, "why (denied): %s", o.err);
	json_t *wdj = json_loads(o.out, 0, NULL);
	it_out_free(&o);
	cr_assert(wdj);
	json_t *dd = json_object_get(wdj, "decision");
	cr_expect_str_eq(json_string_value(json_object_get(dd, "verdict")), "denied");
	cr_expect_str_eq(json_string_value(json_object_get(dd, "reason")), "grant_expired");
	json_t *gg = json_object_get(wdj, "grant");
	cr_expect(json_is_string(json_object_get(gg, "until")), "the grant's end date is shown");
	cr_expect(json_is_true(json_object_get(gg, "automatic")));
	json_decref(wdj);
	free(pd.key);

	/* Checkpoints checked against another key: refused. */
	char other[600];
	snprintf(other, sizeof(other), "%s/other.key", it_tmp());
	const char *kn[] = {"key", "new", other, NULL};
	o = it_run(P, "govexctl", kn);
	cr_assert_eq(o.status, 0);
	it_out_free(&o);
	char otherpub[640];
	snprintf(otherpub, sizeof(otherpub), "%s.pub", other);
	const char *rp2[] = {"replay", "--pubkey", otherpub, NULL};
	o = it_run(P, "govexctl", rp2);
	cr_expect_eq(o.status, 1);
	cr_expect(strstr(o.out, "checkpoint_invalid"), "%s", o.out);
	it_out_free(&o);

	/* A forged decision with a valid hash, chained onto the real head: the
	 * chain holds, recomputation catches the wrong verdict. */
	cr_assert(pk.last, "no chain head found");
	json_t *fake = json_deep_copy(pk.last);
	json_int_t seq = json_integer_value(json_object_get(pk.last, "seq"));
	json_object_set_new(fake, "seq", json_integer(seq + 1));
	json_object_set(fake, "prev", json_object_get(pk.last, "hash"));
	json_object_set_new(fake, "record_id",
			    json_string("00000000-0000-4000-8000-000000000001"));
	json_t *decs = json_object_get(fake, "decisions");
	size_t di;
	json_t *de;
	json_array_foreach(decs, di, de) {
		json_t *rel = json_array();
		json_array_append_new(rel, json_string("citizen_id"));
		json_array_append_new(rel, json_string("name"));
		json_array_append_new(rel, json_string("address"));
		json_object_set_new(de, "released", rel);
	}
	char h[GX_HASH_HEX];
	gx_decision_hash(json_string_value(json_object_get(fake, "prev")), fake, h);
	json_object_set_new(fake, "hash", json_string(h));
	inject(topic, pk.partition, "00000000-0000-4000-8000-000000000001", fake);
	o = it_run(P, "govexctl", rp);
	cr_expect_eq(o.status, 1);
	cr_expect_geq(count_kind(o.out, "verdict_mismatch"), 1, "%.1500s", o.out);
	cr_expect_eq(count_kind(o.out, "hash_mismatch"), 0, "the forged hash is valid");
	it_out_free(&o);

	/* A deleted decision: the next one arrives with a gap in the chain. */
	json_t *after = json_deep_copy(fake);
	json_object_set_new(after, "seq", json_integer(seq + 3));
	gx_decision_hash(json_string_value(json_object_get(after, "prev")), after, h);
	json_object_set_new(after, "hash", json_string(h));
	inject(topic, pk.partition, "00000000-0000-4000-8000-000000000002", after);
	o = it_run(P, "govexctl", rp);
	cr_expect_eq(o.status, 1);
	cr_expect_geq(count_kind(o.out, "seq_gap"), 1, "%.1500s", o.out);
	it_out_free(&o);
	/* Two decisions stored in the wrong order: links intact, order not. */
	json_t *x1 = json_deep_copy(after), *x2 = json_deep_copy(after);
	json_object_set_new(x1, "seq", json_integer(seq + 4));
	json_object_set(x1, "prev", json_object_get(after, "hash"));
	gx_decision_hash(json_string_value(json_object_get(x1, "prev")), x1, h);
	json_object_set_new(x1, "hash", json_string(h));
	json_object_set_new(x2, "seq", json_integer(seq + 5));
	json_object_set(x2, "prev", json_object_get(x1, "hash"));
	gx_decision_hash(json_string_value(json_object_get(x2, "prev")), x2, h);
	json_object_set_new(x2, "hash", json_string(h));
	inject(topic, pk.partition, "00000000-0000-4000-8000-000000000004", x2);
	inject(topic, pk.partition, "00000000-0000-4000-8000-000000000003", x1);
	o = it_run(P, "govexctl", rp);
	cr_expect_eq(o.status, 1);
	cr_expect(strstr(o.out, "stored out of order"), "reordering not named: %.1500s", o.out);
	it_out_free(&o);
	json_decref(x1);
	json_decref(x2);
	json_decref(after);
	json_decref(fake);
	json_decref(pk.last);
	free(pk.chain);

	/* A decision altered afterwards: a release widened to every field. */
	char *p = strstr(pk.value, "\"released\":[");
	cr_assert(p);
	char *forged = NULL;
	cr_assert(asprintf(&forged, "%.*s\"released\":[\"address\",%s", (int)(p - pk.value),
			   pk.value, p + strlen("\"released\":[")) > 0);
	char path[600];
	snprintf(path, sizeof(path), "%s/forged.json", it_tmp());
	it_write(path, forged, strlen(forged));
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "kcat -P -b %s -t %s -p %d -k %s -l %s 2>/dev/null",
		 it_brokers(), topic, pk.partition, pk.key, path);
	cr_assert_eq(system(cmd), 0, "kcat could not write the forged decision");
	o = it_run(P, "govexctl", rp);
	cr_expect_eq(o.status, 1, "replay did not notice a forged decision");
	cr_expect(strstr(o.out, "hash_mismatch") && strstr(o.out, "chain_broken"),
		  "findings: %.1500s", o.out);
	it_out_free(&o);
	free(forged);
	free(pk.value);
	free(pk.key);
	free(req_b);
	free(grant_b);
}
