/*
 * 0001-population-e2e: one population record's whole journey, 10,000 times.
 *
 * A CSV in the shapes providers really send (UTF-8 BOM, CRLF, quoted fields
 * with commas, quotes and newlines, Chinese text) goes through govex-adapter
 * to <prefix>.ingest.population; govex-broker releases it to the consumer
 * holding a grant and to no one else; `govexctl consume --json` shows it.
 * Released fields must equal the CSV's, withheld ones must be null.
 */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

static void expect_str(json_t *rec, const char *field, const char *want)
{
	json_t *v = json_object_get(rec, field);
	if (!want || !*want) {
		cr_expect(json_is_null(v), "%s should be null", field);
		return;
	}
	cr_expect(json_is_string(v) && !strcmp(json_string_value(v), want),
		  "%s: got %s, want %s", field,
		  json_is_string(v) ? json_string_value(v) : "(not a string)", want);
}

Test(e2e, ten_thousand_rows_reach_only_the_granted_consumer, .timeout = 600)
{
	const char *P = "e2e";
	const unsigned N = 10000;
	it_setup(P, it_population_catalog("POP-E2E"));

	/* An unconditional request is granted at once. */
	const char *req[] = {"request", "--consumer", "SX-MZ", "--item", "POP-E2E",
			     "--fields", "name,sex,ethnicity,birth_date,division_code,education,status,updated_at",
			     "--purpose", "低保资格核验", "--basis", "《社会救助暂行办法》第十一条",
			     NULL};
	itest_out_t o = it_run(P, "govexctl", req);
	cr_assert_eq(o.status, 0, "request failed: %d", o.status);
	cr_assert(o.len >= 36, "request printed no request id");
	it_out_free(&o);

	pid_t broker = it_broker(P);

	char *csv = it_path("e2e.csv");
	it_population_csv(csv, 0, N);
	const char *aargs[] = {"--provider", "SX-GA", "--item", "POP-E2E", "--csv", csv, NULL};
	o = it_run(P, "govex-adapter", aargs);
	cr_assert_eq(o.status, 0, "adapter failed: %d (see %s/%s.govex-adapter.log)", o.status, it_tmp(), P);
	it_out_free(&o);

	char max[16];
	snprintf(max, sizeof(max), "%u", N);
	const char *cons[] = {"consume", "--consumer", "SX-MZ", "--json", "--max", max,
			      "--idle-exit", "30s", NULL};
	o = it_run(P, "govexctl", cons);
	cr_assert_eq(o.status, 0);
	json_t *recs = it_json_lines(o.out, o.len);
	it_out_free(&o);
	cr_assert_eq(json_array_size(recs), N, "delivered %zu records, want %u",
		     json_array_size(recs), N);

	/* Every row exactly once, released fields equal to the CSV. */
	unsigned char *seen = calloc(N, 1);
	size_t i;
	json_t *rec;
	json_array_foreach(recs, i, rec) {
		const char *name = json_string_value(json_object_get(rec, "name"));
		cr_assert(name, "record %zu has no name", i);
		unsigned idx = it_row_index(name);
		cr_assert(idx < N && !seen[idx], "row %u delivered twice or unknown", idx);
		seen[idx] = 1;
		struct row r;
		make_row(idx, &r);
		expect_str(rec, "name", r.name);
		expect_str(rec, "sex", r.sex);
		expect_str(rec, "ethnicity", r.eth);
		expect_str(rec, "birth_date", r.birth);
		expect_str(rec, "division_code", r.division);
		expect_str(rec, "education", r.education);
		expect_str(rec, "status", r.status);
		expect_str(rec, "updated_at", r.updated);
		/* Not asked for (conditional) or not shared at all: null. */
		expect_str(rec, "citizen_id", NULL);
		expect_str(rec, "address", NULL);
		expect_str(rec, "marital_status", NULL);
		json_t *prov = json_object_get(rec, "_provenance");
		cr_assert(json_is_object(prov));
		cr_expect_str_eq(json_string_value(json_object_get(prov, "consumer")), "SX-MZ");
		cr_expect_str_eq(json_string_value(json_object_get(prov, "provider")), "SX-GA");
		cr_expect_str_eq(json_string_value(json_object_get(prov, "item")), "POP-E2E");
		cr_expect_eq(json_array_size(json_object_get(prov, "withheld")), 3);
		cr_expect_eq(strlen(json_string_value(json_object_get(prov, "record_id")) ?: ""), 36);
		/* citizen_id is withheld, so the Kafka key must not disclose it:
		 * it is a 64-hex-digit per-consumer pseudonym. */
		const char *key = json_string_value(json_object_get(rec, "_key"));
		cr_expect(key && strlen(key) == 64 && strspn(key, "0123456789abcdef") == 64,
			  "delivery key is not a pseudonym: %s", key ? key : "(none)");
		if (i % 1000 == 0)
			cr_log_info("record %zu ok", i);
	}
	free(seen);
	json_decref(recs);

	/* Every row was valid: nothing refused by adapter or broker. */
	const char *rej[] = {"rejected", "--json", "--idle-exit", "3s", NULL};
	o = it_run(P, "govexctl", rej);
	cr_assert_eq(o.status, 0);
	cr_expect_eq(o.len, 0, "valid rows were refused: %.300s", o.out);
	it_out_free(&o);

	/* A consumer without a grant receives nothing. */
	const char *none[] = {"consume", "--consumer", "SX-JY", "--json",
			      "--idle-exit", "5s", NULL};
	o = it_run(P, "govexctl", none);
	cr_assert_eq(o.status, 0);
	cr_expect_eq(o.len, 0, "a consumer without a grant received: %.200s", o.out);
	it_out_free(&o);

	/* The broker's /metrics counts what happened, and it is ready. */
	int port = it_http_port(P, "govex-broker");
	cr_assert_gt(port, 0, "the broker logged no http_listening port");
	int st;
	char *ready = it_http_get(port, "/readyz", &st);
	cr_expect_eq(st, 200, "readyz: %d %s", st, ready ? ready : "");
	free(ready);
	char *metrics = it_http_get(port, "/metrics", &st);
	cr_assert_eq(st, 200);
	cr_expect_eq(it_metric(metrics, "govex_records_in_total{library=\"population\"}"), N);
	cr_expect_eq(it_metric(metrics, "govex_records_released_total{consumer=\"SX-MZ\","
					"library=\"population\"}"), N);
	cr_expect_eq(it_metric(metrics, "govex_release_latency_seconds_count"), N);
	cr_expect_geq(it_metric(metrics, "govex_txn_commits_total"), 1);
	cr_expect_geq(it_metric(metrics, "govex_txn_commit_seconds_count"), 1);
	cr_expect_eq(it_metric(metrics, "govex_item_update_period_seconds{item=\"POP-E2E\"}"),
		     86400);
	free(metrics);

	cr_expect_eq(it_stop(broker), 0, "broker did not stop cleanly");

	/* Every log line of the broker and the adapter is one key=value event
	 * naming its program, and none carries personal data from the source.
	 * (govexctl's stderr is its human output.) */
	regex_t re;
	cr_assert_eq(regcomp(&re, "^ts=[0-9TZ:.-]+ level=(debug|info|warn|error) "
			     "prog=(govex-broker|govex-adapter) "
			     "event=[a-z_]+( |$)", REG_EXTENDED | REG_NOSUB), 0);
	long nlines = 0;
	const char *progs[] = {"govex-broker", "govex-adapter"};
	for (size_t pi = 0; pi < 2; pi++) {
		char logpath[600];
		snprintf(logpath, sizeof(logpath), "%s/%s.%s.log", it_tmp(), P, progs[pi]);
		FILE *lf = fopen(logpath, "r");
		cr_assert(lf, "no log at %s", logpath);
		char *line = NULL;
		size_t cap = 0;
		while (getline(&line, &cap, lf) > 0) {
			nlines++;
			cr_expect(regexec(&re, line, 0, NULL, 0) == 0,
				  "not a key=value event: %s", line);
			for (unsigned k = 0; k < N; k += 37) {
				struct row r;
				make_row(k, &r);
				cr_expect(!strstr(line, r.id) && !strstr(line, r.name),
					  "personal data of row %u in a log line: %s", k, line);
			}
		}
		free(line);
		fclose(lf);
	}
	regfree(&re);
	cr_expect_gt(nlines, 3, "the programs logged nothing");
}

Test(e2e, bad_rows_are_rejected_with_their_line_and_the_rest_flows, .timeout = 300)
{
	const char *P = "bad";
	it_setup(P, it_population_catalog("POP-BAD"));
	const char *req[] = {"request", "--consumer", "SX-MZ", "--item", "POP-BAD",
			     "--fields", "name,birth_date", "--purpose", "核验",
			     "--basis", "《社会救助暂行办法》", NULL};
	itest_out_t o = it_run(P, "govexctl", req);
	cr_assert_eq(o.status, 0);
	it_out_free(&o);
	pid_t broker = it_broker(P);

	char id[6][19];
	for (unsigned i = 0; i < 6; i++)
		it_citizen_id(100 + i, id[i]);
	id[4][17] = id[4][17] == '0' ? '1' : '0'; /* wrong check character */
	char text[4096];
	snprintf(text, sizeof(text),
		 "citizen_id,name,sex,ethnicity,birth_date,division_code,address,status,updated_at\n"
		 "%s,好人一,1,01,1980-01-02,140105,\"多行\n地址\",ALIVE,2024-01-01T00:00:00Z\n" /* line 2-3 */
		 "%s,缺列,1,01,1980-01-02,140105,地址,ALIVE\n"                              /* 4: columns */
		 "%s,坏日期,1,01,2023-02-30,140105,地址,ALIVE,2024-01-01T00:00:00Z\n"        /* 5: date */
		 "%s,好人二,2,01,1990-05-06,140105,地址,MOVED,2024-01-01T00:00:00Z\n"        /* 6 */
		 "%s,坏号码,1,01,1980-01-02,140105,地址,ALIVE,2024-01-01T00:00:00Z\n"        /* 7: check */
		 "%s,好人三,1,01,1970-12-31,140105,地址,DECEASED,2024-01-01T00:00:00Z\n",    /* 8 */
		 id[0], id[1], id[2], id[3], id[4], id[5]);
	char *csv = it_path("bad.csv");
	it_write(csv, text, strlen(text));
	const char *aargs[] = {"--provider", "SX-GA", "--item", "POP-BAD", "--csv", csv, NULL};
	o = it_run(P, "govex-adapter", aargs);
	cr_assert_eq(o.status, 0);
	it_out_free(&o);

	const char *rej[] = {"rejected", "--json", "--max", "3", "--idle-exit", "15s", NULL};
	o = it_run(P, "govexctl", rej);
	cr_assert_eq(o.status, 0);
	json_t *rs = it_json_lines(o.out, o.len);
	it_out_free(&o);
	cr_assert_eq(json_array_size(rs), 3, "want 3 rejected rows, got %zu",
		     json_array_size(rs));
	struct { long line; const char *reason; const char *detail; } want[] = {
	    {4, "wrong_column_count", "expected 9 columns, got 8"},
	    {5, "invalid_value", "birth_date"},
	    {7, "invalid_value", "check character"},
	};
	for (size_t k = 0; k < 3; k++) {
		json_t *r = NULL;
		size_t j;
		json_t *x;
		json_array_foreach(rs, j, x) {
			if (json_integer_value(json_object_get(x, "line")) == want[k].line)
				r = x;
		}
		cr_assert(r, "no rejection for line %ld", want[k].line);
		cr_expect_str_eq(json_string_value(json_object_get(r, "reason")), want[k].reason);
		const char *detail = json_string_value(json_object_get(r, "detail"));
		cr_expect(detail && strstr(detail, want[k].detail), "line %ld detail: %s",
			  want[k].line, detail ? detail : "(none)");
		char src[64];
		snprintf(src, sizeof(src), "bad.csv:%ld", want[k].line);
		const char *source = json_string_value(json_object_get(r, "source"));
		cr_expect(source && strstr(source, src), "source %s", source ? source : "");
		/* The refused value itself is personal data: never in the reason. */
		cr_expect(!strstr(detail ? detail : "", id[k == 2 ? 4 : k + 1]));
	}
	json_decref(rs);

	const char *cons[] = {"consume", "--consumer", "SX-MZ", "--json", "--max", "3",
			      "--idle-exit", "20s", NULL};
	o = it_run(P, "govexctl", cons);
	cr_assert_eq(o.status, 0);
	json_t *recs = it_json_lines(o.out, o.len);
	it_out_free(&o);
	cr_assert_eq(json_array_size(recs), 3, "want the 3 good rows, got %zu",
		     json_array_size(recs));
	const char *names[] = {"好人一", "好人二", "好人三"};
	for (size_t k = 0; k < 3; k++) {
		int found = 0;
		size_t j;
		json_t *x;
		json_array_foreach(recs, j, x) {
			const char *nm = json_string_value(json_object_get(x, "name"));
			if (nm && !strcmp(nm, names[k]))
				found = 1;
		}
		cr_expect(found, "row %s not delivered", names[k]);
	}
	json_decref(recs);
	cr_expect_eq(it_stop(broker), 0);
}
