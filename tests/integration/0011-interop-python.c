/*
 * 0011-interop-python: what govex produces is read by an outside client
 * that shares no code with it - Apache Avro's Python library and
 * confluent-kafka (Debian's python3-avro, python3-confluent-kafka):
 * schema fingerprints on <prefix>.schemas agree with Apache Avro's Parsing
 * Canonical Form, and every delivery decodes (read_committed) to the same
 * values govexctl shows.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

Test(interop, python_avro_reads_deliveries, .timeout = 300)
{
	const char *P = "py";
	const char *ITEM = "POP-PY";
	const unsigned N = 60;
	it_setup(P, it_population_catalog(ITEM));
	const char *ra[] = {"request", "--consumer", "SX-MZ", "--item", ITEM,
			    "--fields", "name,sex,birth_date,updated_at,status,marital_status",
			    "--purpose", "低保核验", "--basis", "《社会救助暂行办法》", NULL};
	itest_out_t o = it_run(P, "govexctl", ra);
	cr_assert_eq(o.status, 0, "request: %s", o.err);
	it_out_free(&o);
	pid_t broker = it_broker(P);
	char *csv = it_path("py.csv");
	it_population_csv(csv, 0, N);
	const char *aa[] = {"--provider", "SX-GA", "--item", ITEM, "--csv", csv, NULL};
	o = it_run(P, "govex-adapter", aa);
	cr_assert_eq(o.status, 0, "adapter: %s", o.err);
	it_out_free(&o);

	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 tests/interop/read_deliveries.py %s %s SX-MZ population %u "
		 "2>>%s/py.python.log", it_brokers(), P, N, it_tmp());
	FILE *p = popen(cmd, "r");
	cr_assert(p, "cannot run python3");
	gx_buf_t out;
	gx_buf_init(&out);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		gx_buf_append(&out, chunk, n);
	int st = pclose(p);
	cr_assert_eq(st, 0, "the Python reader failed (see %s/py.python.log)", it_tmp());
	json_t *recs = it_json_lines(out.data ? out.data : "", out.len);
	gx_buf_free(&out);
	cr_assert_eq(json_array_size(recs), N);

	size_t i;
	json_t *rec;
	json_array_foreach(recs, i, rec) {
		json_t *pl = json_object_get(rec, "payload");
		json_t *prov = json_object_get(rec, "provenance");
		const char *name = json_string_value(json_object_get(pl, "name"));
		cr_assert(name);
		struct row r;
		make_row(it_row_index(name), &r);
		cr_expect_str_eq(name, r.name);
		cr_expect_str_eq(json_string_value(json_object_get(pl, "sex")), r.sex);
		cr_expect_str_eq(json_string_value(json_object_get(pl, "status")), r.status);
		/* Avro date: days since the epoch, as Apache Avro gives it. */
		int32_t days;
		cr_assert_eq(gx_parse_date(r.birth, &days), GX_OK);
		json_t *bd = json_object_get(pl, "birth_date");
		cr_expect(json_is_string(bd) || json_is_integer(bd));
		if (json_is_string(bd))
			cr_expect_str_eq(json_string_value(bd), r.birth);
		else
			cr_expect_eq(json_integer_value(bd), days);
		/* Not requested: null, and named. */
		cr_expect(json_is_null(json_object_get(pl, "citizen_id")));
		cr_expect_str_eq(json_string_value(json_object_get(prov, "consumer")), "SX-MZ");
		cr_expect_str_eq(json_string_value(json_object_get(prov, "item")), ITEM);
	}
	json_decref(recs);
	cr_expect_eq(it_stop(broker), 0);
}
