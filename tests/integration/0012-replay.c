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
	char *value;	/* a decision message */
	char *key;
	int partition;
};

static void pick_decision(void *opaque, const rd_kafka_message_t *m)
{
	struct pick *p = opaque;
	if (!p->value && m->len && strstr((const char *)m->payload, "\"SX-RS\"") &&
	    !strstr((const char *)m->payload, "\"checkpoint\"")) {
		p->value = strndup(m->payload, m->len);
		p->key = strndup(m->key, m->key_len);
		p->partition = m->partition;
	}
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

	pid_t broker = it_broker(P);
	adapter(P, ITEM, 0, 200);
	drain(P, "SX-MZ", 200);
	drain(P, "SX-RS", 200);
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
	/* 300 records for SX-MZ and 200 for SX-RS, each decided once. */
	cr_expect_eq(json_integer_value(json_object_get(sum, "decisions")), 500,
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
