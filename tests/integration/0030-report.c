/*
 * 0030-report: the compliance report (issue 6, item 5) over real traffic.
 * An automatic grant ending in ten days, a conditional request the
 * provider approves, one refused without a reason (govexctl deny insists
 * on one, so that event is written by hand with kcat, as a faulty tool
 * would), a fresh pending request and one pending for a month (also
 * written by hand, to backdate it), and rows the adapter refuses. Then
 * `govexctl report --format json` holds exactly the scenario's counts, and
 * `--format html` renders in headless Chromium, whose DOM holds them in
 * its tables.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

/* Write one approvals event by hand, keyed by its request id. */
static void kcat_event(const char *P, const char *name, const char *rid,
		       const char *json)
{
	char *path = it_path(name);
	it_write(path, json, strlen(json));
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "kcat -P -b %s -t %s.approvals -k %s -l %s 2>/dev/null",
		 it_brokers(), P, rid, path);
	cr_assert_eq(system(cmd), 0, "kcat could not write %s", name);
}

static long long num(json_t *m, const char *sect, const char *key)
{
	json_t *v = json_object_get(json_object_get(m, sect), key);
	cr_assert(json_is_integer(v), "%s.%s missing", sect, key);
	return (long long)json_integer_value(v);
}

static json_t *row(json_t *m, const char *sect, const char *arr, const char *k,
		   const char *v)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(json_object_get(m, sect), arr), i, r) {
		if (!strcmp(json_string_value(json_object_get(r, k)) ?: "", v))
			return r;
	}
	cr_assert_fail("no %s.%s row with %s = %s", sect, arr, k, v);
	return NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	gx_buf_t b;
	gx_buf_init(&b);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		gx_buf_append(&b, chunk, n);
	fclose(f);
	return gx_buf_cstr(&b);
}

/* The DOM must hold the cell data-k="key" with value n. */
static void dom_has(const char *dom, const char *key, long long n)
{
	char want[300];
	snprintf(want, sizeof(want), "data-k=\"%s\">%lld<", key, n);
	cr_expect(strstr(dom, want), "the rendered page lacks %s", want);
}

Test(report, counts_in_json_and_in_the_rendered_page, .timeout = 180)
{
	const char *P = "rpt";
	const char *ITEM = "POP-RPT";
	it_setup(P, it_population_catalog(ITEM));
	char until[16];
	time_t t10 = time(NULL) + 10 * 86400;
	strftime(until, sizeof(until), "%Y-%m-%d", gmtime(&t10));

	/* Granted at once, ending in ten days. */
	const char *ra[] = {"request", "--consumer", "SX-MZ", "--item", ITEM, "--fields",
			    "name,sex", "--purpose", "低保核验", "--basis", "《社会救助暂行办法》",
			    "--until", until, NULL};
	free(it_ctl_id(P, ra));
	/* Conditional, approved by the provider. */
	const char *rb[] = {"request", "--consumer", "SX-RS", "--item", ITEM, "--fields",
			    "citizen_id,name", "--purpose", "社保登记", "--basis", "《社会保险法》",
			    NULL};
	char *req_b = it_ctl_id(P, rb);
	const char *ab[] = {"approve", req_b, "--by", "SX-GA", NULL};
	free(it_ctl_id(P, ab));
	/* Conditional, refused without a reason. */
	const char *rc[] = {"request", "--consumer", "SX-JY", "--item", ITEM, "--fields",
			    "citizen_id", "--purpose", "学籍核验", "--basis", "《教育法》", NULL};
	char *req_c = it_ctl_id(P, rc);
	char ev[1024];
	long long now = (long long)time(NULL) * 1000;
	snprintf(ev, sizeof(ev), "{\"type\":\"deny\",\"request_id\":\"%s\",\"actor\":\"SX-GA\","
				 "\"at\":%lld}", req_c, now);
	kcat_event(P, "rpt-deny.json", req_c, ev);
	/* Pending, filed just now. */
	const char *rd[] = {"request", "--consumer", "SX-ZJ", "--item", ITEM, "--fields",
			    "address", "--purpose", "住址核验", "--basis", "《住房公积金管理条例》",
			    NULL};
	char *req_d = it_ctl_id(P, rd);
	/* Pending for thirty days: far beyond 5 (or 10) working days. */
	const char *old = "00000000-0000-4000-8000-0000000000aa";
	snprintf(ev, sizeof(ev), "{\"type\":\"request\",\"request_id\":\"%s\",\"consumer\":"
				 "\"SX-SW\",\"item\":\"%s\",\"fields\":[\"address\"],\"purpose\":"
				 "\"税务核验\",\"basis\":\"《税收征收管理法》\",\"until\":null,"
				 "\"actor\":\"SX-SW\",\"at\":%lld}",
		 old, ITEM, now - 30LL * 86400000);
	kcat_event(P, "rpt-old.json", old, ev);

	/* 20 good rows and 2 the adapter refuses. */
	pid_t broker = it_broker(P);
	char *csv = it_path("rpt.csv");
	it_population_csv(csv, 0, 20);
	struct row r;
	make_row(900, &r);
	r.id[17] = r.id[17] == '0' ? '1' : '0'; /* wrong check character */
	FILE *f = fopen(csv, "ab");
	cr_assert(f);
	fprintf(f, "%s,%s,%s,%s,%s,%s,地址,%s,%s,%s,%s\r\n", r.id, r.name, r.sex, r.eth,
		r.birth, r.division, r.marital, r.education, r.status, r.updated);
	make_row(901, &r);
	fprintf(f, "%s,%s,%s\r\n", r.id, r.name, r.sex); /* too few columns */
	fclose(f);
	const char *aa[] = {"--provider", "SX-GA", "--item", ITEM, "--csv", csv, NULL};
	itest_out_t o = it_run(P, "govex-adapter", aa);
	cr_assert_eq(o.status, 0, "adapter: %s", o.err);
	it_out_free(&o);
	/* Every record decided: both consumers have all 20. */
	const char *cm[] = {"consume", "--consumer", "SX-RS", "--json", "--max", "20",
			    "--group", "rpt-drain", "--idle-exit", "30s", NULL};
	o = it_run(P, "govexctl", cm);
	cr_assert_eq(o.status, 0);
	json_t *got = it_json_lines(o.out, o.len);
	cr_assert_eq(json_array_size(got), 20, "SX-RS got %zu of 20", json_array_size(got));
	json_decref(got);
	it_out_free(&o);
	cr_assert_eq(it_stop(broker), 0); /* a clean stop signs the chain heads */

	char pub[600];
	snprintf(pub, sizeof(pub), "%s/%s.key.pub", it_tmp(), P);
	const char *rj[] = {"report", "--format", "json", "--pubkey", pub, NULL};
	o = it_run(P, "govexctl", rj);
	cr_assert_eq(o.status, 0, "report: %s", o.err);
	json_t *m = json_loads(o.out, 0, NULL);
	cr_assert(m, "report --format json printed no JSON: %.300s", o.out);
	it_out_free(&o);

	cr_expect_eq(num(m, "requests", "total"), 5);
	cr_expect_eq(num(m, "requests", "automatic"), 1);
	cr_expect_eq(num(m, "requests", "approved"), 1);
	cr_expect_eq(num(m, "requests", "denied"), 1);
	cr_expect_eq(num(m, "requests", "pending"), 2);
	cr_expect_eq(num(m, "requests", "unconditional"), 1);
	cr_expect_eq(num(m, "requests", "conditional"), 4);
	cr_expect_eq(num(m, "flags", "total"), 2);
	cr_expect_eq(num(m, "flags", "unconditional_late"), 0, "the automatic grant was at once");
	cr_expect_eq(num(m, "flags", "conditional_late"), 1);
	cr_expect_eq(num(m, "flags", "refusal_without_reason"), 1);
	json_t *fl = json_object_get(json_object_get(m, "flags"), "list");
	int seen_old = 0, seen_deny = 0;
	size_t i;
	json_t *x;
	json_array_foreach(fl, i, x) {
		const char *rid = json_string_value(json_object_get(x, "request_id"));
		const char *kind = json_string_value(json_object_get(x, "kind"));
		seen_old |= !strcmp(rid, old) && !strcmp(kind, "conditional_late");
		seen_deny |= !strcmp(rid, req_c) && !strcmp(kind, "refusal_without_reason");
	}
	cr_expect(seen_old && seen_deny, "flags: %s", json_dumps(fl, JSON_COMPACT));
	cr_expect_eq(num(m, "denials", "total"), 1);
	cr_expect_eq(num(m, "denials", "without_reason"), 1);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "denials", "by_provider", "provider", "SX-GA"), "count")), 1);

	/* name,sex and citizen_id,name of eleven fields: partly released. */
	cr_expect_eq(num(m, "releases", "messages"), 20);
	cr_expect_eq(num(m, "releases", "decisions"), 40);
	cr_expect_eq(num(m, "releases", "releases"), 40);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "releases", "by_consumer", "consumer", "SX-MZ"), "partly_released")), 20);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "releases", "by_consumer", "consumer", "SX-RS"), "partly_released")), 20);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "releases", "by_item", "item", ITEM), "releases")), 40);

	cr_expect_eq(num(m, "grants", "live"), 2);
	json_t *near = json_object_get(json_object_get(m, "grants"), "near_expiry");
	cr_expect_eq(json_array_size(near), 1);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(near, 0), "consumer")),
			 "SX-MZ");

	cr_expect_eq(num(m, "ingest_refusals", "total"), 2);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "ingest_refusals", "by_reason", "reason", "invalid_value"), "count")), 1);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "ingest_refusals", "by_reason", "reason", "wrong_column_count"),
			 "count")), 1);

	json_t *ch = json_object_get(m, "chain");
	cr_expect_str_eq(json_string_value(json_object_get(ch, "status")), "ok");
	cr_expect_eq(num(m, "chain", "findings"), 0);
	cr_expect_eq(num(m, "chain", "messages"), 20);
	cr_expect_eq(num(m, "chain", "decisions"), 40);
	cr_expect_geq(num(m, "chain", "checkpoints_verified"), 1);
	cr_expect(json_is_true(json_object_get(ch, "signatures_checked")));

	/* The page, rendered by a real browser. */
	char *html = it_path("rpt-report.html");
	const char *rh[] = {"report", "--format", "html", "--out", html, "--pubkey", pub, NULL};
	o = it_run(P, "govexctl", rh);
	cr_assert_eq(o.status, 0, "report --format html: %s", o.err);
	cr_expect_eq(o.len, 0, "--out writes nothing to stdout");
	it_out_free(&o);
	cr_assert_eq(system("command -v chromium >/dev/null"), 0,
		     "chromium is not installed (make deps installs it)");
	char *dom = it_path("rpt-dom.html");
	char *log = it_path("rpt-chromium.log");
	char profile[600];
	snprintf(profile, sizeof(profile), "%s/rpt-chromium-profile", it_tmp());
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic "
		 "--no-first-run --disable-background-networking --disable-component-update "
		 "--disable-sync --user-data-dir=%s --enable-logging=stderr --v=0 "
		 "--dump-dom file://%s >%s 2>%s",
		 profile, html, dom, log);
	int st = system(cmd);
	char *errs = slurp(log);
	cr_assert_eq(st, 0, "chromium failed (%d): %.2000s", st, errs);
	/* Nothing on the console (Chromium logs it as CONSOLE lines). */
	cr_expect(!strstr(errs, "CONSOLE"), "chromium reported: %.2000s", errs);
	free(errs);
	/* One self-contained file: nothing to run, nothing to fetch. */
	char *page = slurp(html);
	cr_expect(!strstr(page, "<script") && !strstr(page, "src=") &&
		  !strstr(page, "href=") && !strstr(page, "url(") &&
		  !strstr(page, "@import"), "the page refers to something outside it");
	free(page);
	char *d = slurp(dom);
	cr_assert(strstr(d, "<html lang=\"zh-CN\">") && strstr(d, "</html>"),
		  "no page in the DOM: %.300s", d);
	cr_expect(strstr(d, "Releases 共享次数"), "the page lost its UTF-8");
	dom_has(d, "requests.total", 5);
	dom_has(d, "requests.automatic", 1);
	dom_has(d, "requests.approved", 1);
	dom_has(d, "requests.denied", 1);
	dom_has(d, "requests.pending", 2);
	dom_has(d, "card.flags", 2);
	dom_has(d, "denials.reason..count", 1); /* the blank reason */
	dom_has(d, "releases.consumer.SX-MZ.partly_released", 20);
	dom_has(d, "releases.consumer.SX-RS.partly_released", 20);
	dom_has(d, "releases.releases", 40);
	dom_has(d, "ingest.total", 2);
	dom_has(d, "ingest.reason.invalid_value.count", 1);
	dom_has(d, "ingest.reason.wrong_column_count.count", 1);
	dom_has(d, "chain.findings", 0);
	dom_has(d, "chain.decisions", 40);
	cr_expect(strstr(d, old), "the late request is listed");
	free(d);

	json_decref(m);
	free(req_b);
	free(req_c);
	free(req_d);
}
