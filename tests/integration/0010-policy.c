/*
 * 0010-policy: sharing policy end to end (art. 12-13) on a real Kafka.
 *
 * Three consumer agencies on one item: an unconditional-only grant
 * (automatic), a conditional grant the provider narrowed, and a denied
 * request. Each receives exactly what its grant allows, field by field.
 * Then revocation mid-stream, expiry at the grant's end date, and
 * govexctl's refusals.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

static json_t *consume(const char *P, const char *consumer, const char *group,
		       unsigned max, const char *idle)
{
	char m[16];
	snprintf(m, sizeof(m), "%u", max);
	const char *args[] = {"consume", "--consumer", consumer, "--json", "--group", group,
			      "--max", m, "--idle-exit", idle, NULL};
	itest_out_t o = it_run(P, "govexctl", args);
	cr_assert_eq(o.status, 0, "consume failed: %s", o.err);
	json_t *a = it_json_lines(o.out, o.len);
	it_out_free(&o);
	return a;
}

static void run_adapter(const char *P, const char *item, unsigned first, unsigned n)
{
	char name[64];
	snprintf(name, sizeof(name), "%s-%u.csv", P, first);
	char *csv = it_path(name);
	it_population_csv(csv, first, n);
	const char *args[] = {"--provider", "SX-GA", "--item", item, "--csv", csv, NULL};
	itest_out_t o = it_run(P, "govex-adapter", args);
	cr_assert_eq(o.status, 0, "adapter failed: %s", o.err);
	it_out_free(&o);
}

Test(policy, three_consumers_each_get_exactly_their_grant, .timeout = 300)
{
	const char *P = "pol";
	const char *ITEM = "POP-POL";
	it_setup(P, it_population_catalog(ITEM));

	/* SX-MZ: unconditional fields only, granted at once. */
	const char *ra[] = {"request", "--consumer", "SX-MZ", "--item", ITEM,
			    "--fields", "name,sex,birth_date", "--purpose", "低保核验",
			    "--basis", "《社会救助暂行办法》第十一条", NULL};
	free(it_ctl_id(P, ra));
	/* SX-RS: conditional fields too; the provider narrows to two. */
	const char *rb[] = {"request", "--consumer", "SX-RS", "--item", ITEM,
			    "--fields", "citizen_id,name,address,sex", "--purpose", "社保参保登记",
			    "--basis", "《社会保险法》第五十八条", NULL};
	char *req_b = it_ctl_id(P, rb);
	/* SX-JY: conditional, denied by the provider. */
	const char *rc[] = {"request", "--consumer", "SX-JY", "--item", ITEM,
			    "--fields", "citizen_id,name", "--purpose", "学籍核验",
			    "--basis", "《教育法》", NULL};
	char *req_c = it_ctl_id(P, rc);

	/* Nobody but the provider may decide, and a refusal writes nothing. */
	const char *bad[] = {"approve", req_b, "--by", "SX-MZ", NULL};
	itest_out_t o = it_run(P, "govexctl", bad);
	cr_expect_eq(o.status, 2);
	cr_expect(strstr(o.err, "not the provider"), "message: %s", o.err);
	it_out_free(&o);
	const char *pend[] = {"requests", "--pending", "--json", NULL};
	o = it_run(P, "govexctl", pend);
	cr_assert_eq(o.status, 0);
	json_t *pj = it_json_lines(o.out, o.len);
	cr_expect_eq(json_array_size(pj), 2, "both conditional requests still pending");
	json_decref(pj);
	it_out_free(&o);

	const char *ab[] = {"approve", req_b, "--by", "SX-GA", "--fields", "citizen_id,name", NULL};
	free(it_ctl_id(P, ab));
	const char *dc[] = {"deny", req_c, "--by", "SX-GA", "--reason", "用途不符合法定职责", NULL};
	o = it_run(P, "govexctl", dc);
	cr_assert_eq(o.status, 0, "deny failed: %s", o.err);
	it_out_free(&o);

	pid_t broker = it_broker(P);
	run_adapter(P, ITEM, 0, 300);

	json_t *a = consume(P, "SX-MZ", "pol-a", 300, "30s");
	cr_assert_eq(json_array_size(a), 300, "SX-MZ got %zu", json_array_size(a));
	const char *fa[] = {"name", "sex", "birth_date"};
	size_t i;
	json_t *rec;
	json_array_foreach(a, i, rec) it_expect_fields(rec, fa, 3);
	json_decref(a);

	json_t *b = consume(P, "SX-RS", "pol-b", 300, "30s");
	cr_assert_eq(json_array_size(b), 300, "SX-RS got %zu", json_array_size(b));
	const char *fb[] = {"citizen_id", "name"};
	json_array_foreach(b, i, rec) {
		it_expect_fields(rec, fb, 2);
		/* The subject is released to SX-RS, so it keys its records. */
		cr_expect_str_eq(json_string_value(json_object_get(rec, "_key")),
				 json_string_value(json_object_get(rec, "citizen_id")));
	}
	json_decref(b);

	json_t *c = consume(P, "SX-JY", "pol-c", 1, "5s");
	cr_expect_eq(json_array_size(c), 0, "the denied consumer received records");
	json_decref(c);

	cr_expect_eq(it_stop(broker), 0);
	free(req_b);
	free(req_c);
}

Test(policy, revocation_stops_release_mid_stream, .timeout = 300)
{
	const char *P = "rev";
	const char *ITEM = "POP-REV";
	it_setup(P, it_population_catalog(ITEM));
	const char *ra[] = {"request", "--consumer", "SX-MZ", "--item", ITEM,
			    "--fields", "name,status", "--purpose", "低保核验",
			    "--basis", "《社会救助暂行办法》", NULL};
	free(it_ctl_id(P, ra));
	const char *gj[] = {"grants", "--json", NULL};
	itest_out_t o = it_run(P, "govexctl", gj);
	json_t *g = it_json_lines(o.out, o.len);
	it_out_free(&o);
	cr_assert_eq(json_array_size(g), 1);
	const char *gid = json_string_value(json_object_get(json_array_get(g, 0), "grant_id"));
	cr_assert(gid);

	pid_t broker = it_broker(P);
	run_adapter(P, ITEM, 0, 100);
	json_t *before = consume(P, "SX-MZ", "rev-1", 100, "30s");
	cr_assert_eq(json_array_size(before), 100, "before revocation: %zu",
		     json_array_size(before));
	json_decref(before);

	const char *rv[] = {"revoke", gid, "--by", "SX-GA", "--reason", "协议到期", NULL};
	o = it_run(P, "govexctl", rv);
	cr_assert_eq(o.status, 0, "revoke failed: %s", o.err);
	it_out_free(&o);
	/* Wait until the broker says it has applied the revocation. */
	char logpath[600];
	snprintf(logpath, sizeof(logpath), "%s/%s.govex-broker.log", it_tmp(), P);
	char *line = NULL;
	size_t cap = 0;
	long lag = -1;
	for (int tries = 0; tries < 300 && lag < 0; tries++) {
		FILE *f = fopen(logpath, "r");
		while (f && getline(&line, &cap, f) > 0) {
			char *p = strstr(line, "event=revocation_applied");
			if (p && strstr(p, gid) && strstr(p, "lag_ms="))
				lag = atol(strstr(p, "lag_ms=") + 7);
		}
		if (f)
			fclose(f);
		if (lag < 0)
			usleep(100000);
	}
	free(line);
	cr_assert_geq(lag, 0, "the broker never applied the revocation");
	fprintf(stderr, "[info] revocation took effect %ld ms after the provider's command\n", lag);

	/* Records processed after the revoke: released to no one. */
	run_adapter(P, ITEM, 100, 100);
	json_t *all = consume(P, "SX-MZ", "rev-2", 200, "8s");
	cr_expect_eq(json_array_size(all), 100, "after revocation the consumer has %zu records",
		     json_array_size(all));
	size_t i;
	json_t *rec;
	json_array_foreach(all, i, rec) {
		unsigned idx = it_row_index(json_string_value(json_object_get(rec, "name")));
		cr_expect_lt(idx, 100, "row %u was released after the revocation", idx);
	}
	json_decref(all);
	json_decref(g);
	cr_expect_eq(it_stop(broker), 0);
}

Test(policy, expiry_stops_release_at_the_end_date, .timeout = 300)
{
	const char *P = "exp";
	const char *ITEM = "POP-EXP";
	it_setup(P, it_population_catalog(ITEM));
	char until[40];
	gx_fmt_time_ms(gx_now_ms() + 12000, until, sizeof(until));
	const char *ra[] = {"request", "--consumer", "SX-MZ", "--item", ITEM,
			    "--fields", "name,status", "--purpose", "低保核验",
			    "--basis", "《社会救助暂行办法》", "--until", until, NULL};
	free(it_ctl_id(P, ra));
	pid_t broker = it_broker(P);
	run_adapter(P, ITEM, 0, 50);
	json_t *before = consume(P, "SX-MZ", "exp-1", 50, "30s");
	cr_assert_eq(json_array_size(before), 50);
	json_decref(before);

	int64_t end;
	cr_assert_eq(gx_parse_time_ms(until, &end), GX_OK);
	while (gx_now_ms() < end + 1500)
		usleep(200000);
	run_adapter(P, ITEM, 50, 50);
	json_t *all = consume(P, "SX-MZ", "exp-2", 100, "8s");
	cr_expect_eq(json_array_size(all), 50, "after expiry the consumer has %zu records",
		     json_array_size(all));
	json_decref(all);

	/* The exchange recorded the expiry, and lists the grant as expired. */
	const char *gj[] = {"grants", "--json", NULL};
	itest_out_t o = it_run(P, "govexctl", gj);
	json_t *g = it_json_lines(o.out, o.len);
	it_out_free(&o);
	cr_assert_eq(json_array_size(g), 1);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(g, 0), "status")),
			 "expired");
	json_decref(g);
	cr_expect_eq(it_stop(broker), 0);
}

/* Every malformed or unauthorised command: exit 2, a message naming the
 * problem, nothing written. */
Test(policy, govexctl_refuses_with_exit_2_and_a_reason, .timeout = 120)
{
	const char *P = "ref";
	const char *ITEM = "POP-REF";
	it_setup(P, it_population_catalog(ITEM));
	const char *rb[] = {"request", "--consumer", "SX-RS", "--item", ITEM,
			    "--fields", "citizen_id,name", "--purpose", "社保",
			    "--basis", "《社会保险法》", NULL};
	char *req = it_ctl_id(P, rb);
	struct {
		const char *args[16];
		const char *says;
	} cases[] = {
	    {{"approve", req, "--by", "SX-MZ", NULL}, "not the provider"},
	    {{"approve", req, "--by", "SX-GA", "--fields", "citizen_id,address", NULL},
	     "not requested"},
	    {{"approve", "00000000-0000-0000-0000-000000000000", "--by", "SX-GA", NULL},
	     "no request"},
	    {{"approve", req, NULL}, "--by"},
	    {{"approve", req, "--by", "SX-GA", "--until", "2001-01-01", NULL}, "not in the future"},
	    {{"deny", req, "--by", "SX-GA", NULL}, "--reason"},
	    {{"revoke", "nope", "--by", "SX-GA", "--reason", "x", NULL}, "no grant"},
	    {{"request", "--consumer", "SX-MZ", "--item", ITEM, "--fields", "name,shoe_size",
	      "--purpose", "p", "--basis", "b", NULL}, "shoe_size"},
	    {{"request", "--consumer", "SX-MZ", "--item", "NO-SUCH", "--fields", "name",
	      "--purpose", "p", "--basis", "b", NULL}, "NO-SUCH"},
	    {{"request", "--consumer", "SX-MZ", "--item", ITEM, "--fields", "name",
	      "--basis", "b", NULL}, "--purpose"},
	    {{"request", "--consumer", "SX MZ", "--item", ITEM, "--fields", "name",
	      "--purpose", "p", "--basis", "b", NULL}, "consumer"},
	    {{"frobnicate", NULL}, "unknown command"},
	    {{"grants", "--bogus", NULL}, "unknown option"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(cases); i++) {
		itest_out_t o = it_run(P, "govexctl", cases[i].args);
		cr_expect_eq(o.status, 2, "govexctl %s ... exit %d, want 2", cases[i].args[0],
			     o.status);
		cr_expect(strstr(o.err, cases[i].says), "case %zu: message '%s' does not name '%s'",
			  i, o.err, cases[i].says);
		it_out_free(&o);
	}
	/* Still exactly one request, pending, and no grant. */
	const char *rq[] = {"requests", "--json", NULL};
	itest_out_t o = it_run(P, "govexctl", rq);
	json_t *r = it_json_lines(o.out, o.len);
	it_out_free(&o);
	cr_expect_eq(json_array_size(r), 1);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "state")),
			 "pending");
	json_decref(r);
	free(req);
}

/* A supervisor's SIGTERM may come while the broker is still starting (state
 * loading, Kafka set-up): it must still end cleanly, status 0, not die by
 * the signal's default action. */
Test(policy, a_stop_during_start_up_ends_cleanly, .timeout = 120)
{
	const char *P = "pst";
	it_setup(P, it_population_catalog("140000-GA-0009"));
	pid_t broker = it_broker(P);
	/* http_listening is logged before the state is read */
	for (int i = 0; i < 300 && !it_log_count(P, "govex-broker", "event=http_listening");
	     i++)
		usleep(10000);
	cr_assert_eq(it_stop(broker), 0, "SIGTERM in start-up: not a clean exit");
	cr_assert_eq(it_log_count(P, "govex-broker", "event=broker_stopped"), 1);
}
