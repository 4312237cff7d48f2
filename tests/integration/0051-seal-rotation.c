/*
 * 0051-seal-rotation: an agency's new sealing key takes over at the time
 * the keyring gives it (issue 5, item 2). `govexctl keys new --from T`
 * adds SX-GA's second key a few seconds ahead; records published before T
 * are sealed with the first key, records published after it with the
 * second, the broker releases both, and the consumer verifies every one of
 * them, old seals included.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "itest_population.h"

static void adapter(const char *P, const char *item, unsigned first,
		    unsigned n)
{
	char name[64];
	snprintf(name, sizeof(name), "%s-%u.csv", P, first);
	char *csv = strdup(it_path(name));
	it_population_csv(csv, first, n);
	const char *aa[] = {"--provider", "SX-GA", "--item", item, "--csv", csv, NULL};
	itest_out_t o = it_run(P, "govex-adapter", aa);
	cr_assert_eq(o.status, 0, "adapter: %s", o.err ? o.err : "");
	it_out_free(&o);
	free(csv);
}

/* Every distinct key_id on <P>.seals, as a JSON object key -> count. */
static void on_seal(void *opaque, const rd_kafka_message_t *m)
{
	json_t *ids = opaque;
	json_t *j = json_loadb(m->payload, m->len, 0, NULL);
	const char *kid = json_string_value(json_object_get(j, "key_id"));
	if (kid) {
		json_t *c = json_object_get(ids, kid);
		json_object_set_new(ids, kid,
				    json_integer(c ? json_integer_value(c) + 1 : 1));
	}
	json_decref(j);
}

Test(rotation, a_new_key_takes_over_at_its_time_and_old_seals_verify,
     .timeout = 180)
{
	const char *P = "rot", *ITEM = "POP-ROT";
	it_seal_suite(P, "ed25519-sha256");
	it_setup(P, it_population_catalog(ITEM));
	const char *rq[] = {"request", "--consumer", "SX-MZ", "--item", ITEM,
			    "--fields", "name,status", "--purpose", "低保核验",
			    "--basis", "《社会救助暂行办法》", NULL};
	itest_out_t o = it_run(P, "govexctl", rq);
	cr_assert_eq(o.status, 0, "request: %s", o.err);
	it_out_free(&o);
	pid_t broker = it_broker(P);

	/* SX-GA's second key, sealing from 15 s from now (room for the first
	 * run on a loaded machine; checked below). */
	time_t from = time(NULL) + 15;
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&from));
	const char *kn[] = {"keys", "new", "--agency", "SX-GA", "--from", when, NULL};
	o = it_run(P, "govexctl", kn);
	cr_assert_eq(o.status, 0, "keys new --from: %s", o.err);
	char k2[40] = "";
	sscanf(o.out, "%39s", k2);
	it_out_free(&o);
	cr_assert_eq(strlen(k2), 32, "key id: '%s'", k2);

	adapter(P, ITEM, 0, 20); /* before: the first key */
	cr_assert_lt(time(NULL), from,
		     "the first run ended after the new key's time: the test "
		     "needs a longer lead on this machine");
	cr_expect_eq(it_log_count(P, "govex-adapter", k2), 0,
		     "the new key sealed before its time");
	while (time(NULL) <= from + 1)
		usleep(200000);
	adapter(P, ITEM, 20, 20); /* after: the second */
	cr_expect_eq(it_log_count(P, "govex-adapter", "event=adapter_started"), 2);
	cr_expect_eq(it_log_count(P, "govex-adapter", k2), 1,
		     "the new key was not used after its time");

	char topic[128];
	snprintf(topic, sizeof(topic), "%s.seals", P);
	json_t *ids = json_object();
	it_topic_read(topic, 30000, on_seal, ids);
	cr_expect_eq(json_object_size(ids), 2, "seals by %zu keys",
		     json_object_size(ids));
	cr_expect(json_object_get(ids, k2), "no seal by the new key");
	json_decref(ids);

	snprintf(topic, sizeof(topic), "%s.deliver.SX-MZ.population", P);
	long n = 0;
	for (int t = 0; t < 60 && (n = it_topic_read(topic, 5000, NULL, NULL)) < 40; t++)
		usleep(500000);
	cr_expect_eq(n, 40, "released %ld of 40", n);
	const char *va[] = {"verify", "--consumer", "SX-MZ", NULL};
	o = it_run(P, "govexctl", va);
	cr_expect_eq(o.status, 0, "verify: %s %s", o.out, o.err);
	cr_expect(strstr(o.out, "records=40 verified=40 failed=0"), "%s", o.out);
	it_out_free(&o);
	cr_expect_eq(it_stop(broker), 0);
}
