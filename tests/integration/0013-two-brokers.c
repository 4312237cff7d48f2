/*
 * 0013-two-brokers: two broker instances in one consumer group share the
 * ingest partitions; one is stopped for good halfway. Every record reaches
 * the consumer exactly once (read_committed), and the decision chains -
 * continued across the rebalance from the heads committed with the
 * offsets - replay with no finding.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

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

static json_t *consume_all(const char *P, const char *group, unsigned max)
{
	char m[16];
	snprintf(m, sizeof(m), "%u", max);
	const char *a[] = {"consume", "--consumer", "SX-MZ", "--json", "--group", group,
			   "--max", m, "--idle-exit", "15s", NULL};
	itest_out_t o = it_run(P, "govexctl", a);
	cr_assert_eq(o.status, 0);
	json_t *j = it_json_lines(o.out, o.len);
	it_out_free(&o);
	return j;
}

Test(scale, two_brokers_one_stopped_halfway, .timeout = 400)
{
	const char *P = "two";
	const char *ITEM = "POP-TWO";
	const unsigned HALF = 3000;
	it_setup(P, it_population_catalog(ITEM));
	const char *ra[] = {"request", "--consumer", "SX-MZ", "--item", ITEM, "--fields",
			    "name,sex,status", "--purpose", "低保核验", "--basis", "《社会救助暂行办法》",
			    NULL};
	itest_out_t o = it_run(P, "govexctl", ra);
	cr_assert_eq(o.status, 0);
	it_out_free(&o);

	pid_t a = it_broker_n(P, 1);
	pid_t b = it_broker_n(P, 2);
	adapter(P, ITEM, 0, HALF);
	json_t *first = consume_all(P, "two-1", HALF);
	cr_assert_eq(json_array_size(first), HALF, "before the stop: %zu", json_array_size(first));
	json_decref(first);
	cr_expect_eq(it_stop(b), 0, "instance 2 did not stop cleanly");
	adapter(P, ITEM, HALF, HALF);
	json_t *all = consume_all(P, "two-2", 2 * HALF + 10);
	cr_expect_eq(json_array_size(all), 2 * HALF, "delivered %zu, want %u",
		     json_array_size(all), 2 * HALF);
	unsigned char *seen = calloc(2 * HALF, 1);
	size_t i;
	json_t *rec;
	json_array_foreach(all, i, rec) {
		unsigned idx = it_row_index(json_string_value(json_object_get(rec, "name")) ?: "");
		cr_assert_lt(idx, 2 * HALF);
		cr_expect(!seen[idx], "row %u delivered twice", idx);
		seen[idx] = 1;
	}
	free(seen);
	json_decref(all);
	cr_expect_eq(it_stop(a), 0);

	/* Both instances' decisions, one chain per partition, replay whole. */
	char pub[600];
	snprintf(pub, sizeof(pub), "%s/%s.key.pub", it_tmp(), P);
	const char *rp[] = {"replay", "--pubkey", pub, "--json", NULL};
	o = it_run(P, "govexctl", rp);
	cr_expect_eq(o.status, 0, "replay after a rebalance: %.2000s", o.out);
	json_t *res = it_json_lines(o.out, o.len);
	json_t *sum = json_array_get(res, json_array_size(res) - 1);
	cr_expect_eq(json_integer_value(json_object_get(sum, "decisions")), 2 * HALF);
	json_decref(res);
	it_out_free(&o);
}
