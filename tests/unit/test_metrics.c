/*
 * test_metrics.c - the Prometheus registry (broker/lib/gx_metrics.c): the
 * exact exposition text for each kind of family, escaping, UTF-8 repair,
 * histogram bucket arithmetic, registration errors, child handles, scrape
 * hooks, exact sums under concurrent updates, and the exposition of every
 * govex metric checked by Prometheus' own `promtool check metrics` (skipped
 * when promtool is not installed; `make deps` installs it).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx.h"
#include "gx_metrics.h"

static char errstr[256];

/* Expose reg into a new malloc'd string. */
static char *expose(gx_metrics_t *reg)
{
	gx_buf_t b;
	gx_buf_init(&b);
	gx_metrics_expose(reg, &b);
	return gx_buf_cstr(&b);
}

static gx_metric_t *counter(gx_metrics_t *reg, const char *name, const char *labels)
{
	gx_metric_t *m = NULL;
	gx_err_t err = gx_metrics_counter(reg, name, "help", labels, &m, errstr, sizeof(errstr));
	cr_assert_eq(err, GX_OK, "%s: %s", name, errstr);
	return m;
}

Test(metrics, golden_exposition)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *commits, *denied, *lag, *info, *lat, *perlib, *empty;
	static const double b3[] = {0.1, 1, 10};
	static const double b1[] = {1};

	cr_assert_eq(gx_metrics_counter(reg, "govex_txn_commits_total",
					"Kafka transactions committed.", NULL, &commits,
					errstr, sizeof(errstr)), GX_OK, "%s", errstr);
	cr_assert_eq(gx_metrics_counter(reg, "govex_records_denied_total",
					"Records denied, by reason.", "reason", &denied,
					errstr, sizeof(errstr)), GX_OK, "%s", errstr);
	cr_assert_eq(gx_metrics_counter(reg, "govex_ingest_refused_total",
					"Never used: left out.", "reason", &empty,
					errstr, sizeof(errstr)), GX_OK, "%s", errstr);
	cr_assert_eq(gx_metrics_gauge(reg, "govex_consumer_lag_records",
				      "Records delivered and not yet read.", "consumer, topic",
				      &lag, errstr, sizeof(errstr)), GX_OK, "%s", errstr);
	cr_assert_eq(gx_metrics_gauge(reg, "govex_build_info", "Build.", "version", &info,
				      errstr, sizeof(errstr)), GX_OK, "%s", errstr);
	cr_assert_eq(gx_metrics_histogram(reg, "govex_release_latency_seconds",
					  "Collected at to released at.", "", b3, 3, &lat,
					  errstr, sizeof(errstr)), GX_OK, "%s", errstr);
	cr_assert_eq(gx_metrics_histogram(reg, "govex_test_seconds", "Per library.",
					  "library", b1, 1, &perlib, errstr, sizeof(errstr)),
		     GX_OK, "%s", errstr);

	gx_counter_add(gx_metric_child(commits), 3);
	gx_metric_inc(denied, "no_grant");
	gx_metric_inc(denied, "expired");
	gx_metric_inc(denied, "no_grant");
	gx_metric_set(lag, 42, "tax", "govex.deliver.tax.population");
	gx_metric_set(lag, 0.5, "health", "govex.deliver.health.population");
	gx_metric_set(lag, -1e-300, "neg", "t");
	gx_metric_set(info, 1, "1.2.3");
	gx_metric_observe(lat, 0.25);
	gx_metric_observe(lat, 0.5);
	gx_metric_observe(lat, 0.5);
	gx_metric_observe(lat, 20);
	gx_metric_observe(perlib, 2, "population");
	gx_metric_observe(perlib, 0.1, "legal_entity");

	char *text = expose(reg);
	const char *want =
	    "# HELP govex_txn_commits_total Kafka transactions committed.\n"
	    "# TYPE govex_txn_commits_total counter\n"
	    "govex_txn_commits_total 3\n"
	    "# HELP govex_records_denied_total Records denied, by reason.\n"
	    "# TYPE govex_records_denied_total counter\n"
	    "govex_records_denied_total{reason=\"no_grant\"} 2\n"
	    "govex_records_denied_total{reason=\"expired\"} 1\n"
	    "# HELP govex_consumer_lag_records Records delivered and not yet read.\n"
	    "# TYPE govex_consumer_lag_records gauge\n"
	    "govex_consumer_lag_records{consumer=\"tax\",topic=\"govex.deliver.tax.population\"} 42\n"
	    "govex_consumer_lag_records{consumer=\"health\",topic=\"govex.deliver.health.population\"} 0.5\n"
	    "govex_consumer_lag_records{consumer=\"neg\",topic=\"t\"} -1e-300\n"
	    "# HELP govex_build_info Build.\n"
	    "# TYPE govex_build_info gauge\n"
	    "govex_build_info{version=\"1.2.3\"} 1\n"
	    "# HELP govex_release_latency_seconds Collected at to released at.\n"
	    "# TYPE govex_release_latency_seconds histogram\n"
	    "govex_release_latency_seconds_bucket{le=\"0.1\"} 0\n"
	    "govex_release_latency_seconds_bucket{le=\"1\"} 3\n"
	    "govex_release_latency_seconds_bucket{le=\"10\"} 3\n"
	    "govex_release_latency_seconds_bucket{le=\"+Inf\"} 4\n"
	    "govex_release_latency_seconds_sum 21.25\n"
	    "govex_release_latency_seconds_count 4\n"
	    "# HELP govex_test_seconds Per library.\n"
	    "# TYPE govex_test_seconds histogram\n"
	    "govex_test_seconds_bucket{library=\"population\",le=\"1\"} 0\n"
	    "govex_test_seconds_bucket{library=\"population\",le=\"+Inf\"} 1\n"
	    "govex_test_seconds_sum{library=\"population\"} 2\n"
	    "govex_test_seconds_count{library=\"population\"} 1\n"
	    "govex_test_seconds_bucket{library=\"legal_entity\",le=\"1\"} 1\n"
	    "govex_test_seconds_bucket{library=\"legal_entity\",le=\"+Inf\"} 1\n"
	    "govex_test_seconds_sum{library=\"legal_entity\"} 0.1\n"
	    "govex_test_seconds_count{library=\"legal_entity\"} 1\n";
	cr_assert_str_eq(text, want);
	free(text);
	gx_metrics_destroy(reg);
}

Test(metrics, unlabelled_families_start_at_zero)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *c = counter(reg, "govex_seal_failures_total", NULL);
	gx_metric_t *g;
	cr_assert_eq(gx_metrics_gauge(reg, "govex_up_since_seconds", "Start.", NULL, &g,
				      errstr, sizeof(errstr)), GX_OK);
	char *text = expose(reg);
	cr_assert_str_eq(text, "# HELP govex_seal_failures_total help\n"
			       "# TYPE govex_seal_failures_total counter\n"
			       "govex_seal_failures_total 0\n"
			       "# HELP govex_up_since_seconds Start.\n"
			       "# TYPE govex_up_since_seconds gauge\n"
			       "govex_up_since_seconds 0\n");
	free(text);
	cr_assert_eq(gx_metrics_find(reg, "govex_seal_failures_total"), c);
	cr_assert_null(gx_metrics_find(reg, "nope"));
	cr_assert_eq(gx_metric_type(g), GX_METRIC_GAUGE);
	cr_assert_str_eq(gx_metric_name(c), "govex_seal_failures_total");
	gx_metrics_destroy(reg);
}

Test(metrics, escaping)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *m;
	cr_assert_eq(gx_metrics_counter(reg, "x_total", "back\\slash and\nnewline \"quoted\"",
					"reason", &m, errstr, sizeof(errstr)), GX_OK);
	gx_metric_inc(m, "a\\b");
	gx_metric_inc(m, "say \"no\"");
	gx_metric_inc(m, "two\nlines");
	gx_metric_inc(m, "tab\there, 中文 ok");
	char *text = expose(reg);
	cr_assert_str_eq(text,
			 "# HELP x_total back\\\\slash and\\nnewline \"quoted\"\n"
			 "# TYPE x_total counter\n"
			 "x_total{reason=\"a\\\\b\"} 1\n"
			 "x_total{reason=\"say \\\"no\\\"\"} 1\n"
			 "x_total{reason=\"two\\nlines\"} 1\n"
			 "x_total{reason=\"tab\there, 中文 ok\"} 1\n");
	free(text);
	gx_metrics_destroy(reg);
}

Test(metrics, invalid_utf8_label_values_are_repaired)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *m = counter(reg, "x_total", "v");
	/* a lone continuation byte, an overlong '/', a surrogate, a cut-off
	 * sequence at the end */
	gx_metric_child_t *c = gx_metric_child(m, "a\x80" "b\xc0\xaf" "c\xed\xa0\x80" "d\xe4\xb8");
	gx_counter_inc(c);
	/* The repaired text names the same child: no duplicate series. */
	cr_assert_eq(gx_metric_child(m, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
					"c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
					"d\xef\xbf\xbd\xef\xbf\xbd"), c);
	char *text = expose(reg);
	cr_assert_str_eq(text, "# HELP x_total help\n# TYPE x_total counter\n"
			       "x_total{v=\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd"
			       "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			       "d\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
	free(text);
	gx_metrics_destroy(reg);
}

Test(metrics, sample_values)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *g;
	cr_assert_eq(gx_metrics_gauge(reg, "g", "h", "k", &g, errstr, sizeof(errstr)), GX_OK);
	gx_metric_set(g, 0.1, "a");
	gx_metric_set(g, 1.0 / 3, "b");
	gx_metric_set(g, 1e21, "c");
	gx_metric_set(g, INFINITY, "d");
	gx_metric_set(g, -INFINITY, "e");
	gx_metric_set(g, NAN, "f");
	gx_metric_set(g, 1712345678.125, "g");
	gx_metric_set(g, 9007199254740993.0, "h"); /* rounds to 2^53 */
	char *text = expose(reg);
	cr_assert_str_eq(text, "# HELP g h\n# TYPE g gauge\n"
			       "g{k=\"a\"} 0.1\n"
			       "g{k=\"b\"} 0.33333333333333331\n"
			       "g{k=\"c\"} 1e+21\n"
			       "g{k=\"d\"} +Inf\n"
			       "g{k=\"e\"} -Inf\n"
			       "g{k=\"f\"} NaN\n"
			       "g{k=\"g\"} 1712345678.125\n"
			       "g{k=\"h\"} 9007199254740992\n");
	free(text);
	gx_metrics_destroy(reg);
}

Test(metrics, histogram_buckets)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *h;
	static const double bounds[] = {1, 2, 5, INFINITY};
	cr_assert_eq(gx_metrics_histogram(reg, "h_seconds", "h", NULL, bounds, 4, &h, errstr,
					  sizeof(errstr)), GX_OK, "%s", errstr);
	gx_metric_child_t *c = gx_metric_child(h);
	/* A value on a bound counts in that bound's bucket (le = "<="). */
	static const double obs[] = {0.5, 1, 1.5, 2, 5, 5.0001, 100, -3, NAN, INFINITY};
	for (size_t i = 0; i < GX_ARRAY_SIZE(obs); i++)
		gx_histogram_observe(c, obs[i]);
	cr_assert_eq(gx_histogram_bucket(c, 0), 3, "-3, 0.5, 1 are <= 1");
	cr_assert_eq(gx_histogram_bucket(c, 1), 5, "+1.5, 2");
	cr_assert_eq(gx_histogram_bucket(c, 2), 6, "+5");
	cr_assert_eq(gx_histogram_bucket(c, 3), 9, "+Inf: all but NaN");
	cr_assert_eq(gx_histogram_bucket(c, 99), 9, "past the end is +Inf");
	cr_assert_eq(gx_histogram_count(c), 9, "NaN is ignored");
	cr_assert(isinf(gx_histogram_sum(c)), "+Inf observed: sum is +Inf");

	char *text = expose(reg);
	cr_assert_str_eq(text, "# HELP h_seconds h\n# TYPE h_seconds histogram\n"
			       "h_seconds_bucket{le=\"1\"} 3\n"
			       "h_seconds_bucket{le=\"2\"} 5\n"
			       "h_seconds_bucket{le=\"5\"} 6\n"
			       "h_seconds_bucket{le=\"+Inf\"} 9\n"
			       "h_seconds_sum +Inf\n"
			       "h_seconds_count 9\n");
	free(text);

	/* The latency buckets the lead asked for: 5 ms .. 60 s. */
	gx_metric_t *lat;
	cr_assert_eq(gx_metrics_histogram(reg, "govex_release_latency_seconds", "l", NULL,
					  gx_metrics_latency_buckets,
					  gx_metrics_latency_nbuckets, &lat, errstr,
					  sizeof(errstr)), GX_OK, "%s", errstr);
	cr_assert_eq(gx_metrics_latency_buckets[0], 0.005);
	cr_assert_eq(gx_metrics_latency_buckets[gx_metrics_latency_nbuckets - 1], 60);
	c = gx_metric_child(lat);
	gx_histogram_observe(c, 0.005);
	gx_histogram_observe(c, 0.0051);
	gx_histogram_observe(c, 61);
	cr_assert_eq(gx_histogram_bucket(c, 0), 1);
	cr_assert_eq(gx_histogram_bucket(c, 1), 2);
	cr_assert_eq(gx_histogram_bucket(c, gx_metrics_latency_nbuckets - 1), 2);
	cr_assert_eq(gx_histogram_count(c), 3);
	cr_assert_float_eq(gx_histogram_sum(c), 0.005 + 0.0051 + 61, 1e-12);

	/* No finite bounds: just +Inf. */
	gx_metric_t *only;
	cr_assert_eq(gx_metrics_histogram(reg, "only_inf_seconds", "o", NULL, NULL, 0, &only,
					  errstr, sizeof(errstr)), GX_OK, "%s", errstr);
	gx_metric_observe(only, 7);
	cr_assert_eq(gx_histogram_bucket(gx_metric_child(only), 0), 1);
	gx_metrics_destroy(reg);
}

/* Registration that must fail (leaving *m NULL), and what errstr must
 * mention. *m is read after the call, then set non-NULL for the next one. */
static void refused(gx_err_t err, gx_metric_t **m, const char *needle)
{
	cr_assert_eq(err, GX_ERR_INVALID, "accepted; wanted an error about \"%s\"", needle);
	cr_assert_null(*m, "about \"%s\": *out not cleared", needle);
	cr_assert(strstr(errstr, needle), "errstr \"%s\" lacks \"%s\"", errstr, needle);
	*m = (gx_metric_t *)1;
}

Test(metrics, registration_errors)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *m = (gx_metric_t *)1;
	static const double ok[] = {1, 2};
	static const double down[] = {2, 1};
	static const double same[] = {1, 1};
	static const double nan[] = {1, NAN};
	static const double ninf[] = {-INFINITY, 1};

#define C(name, labels) gx_metrics_counter(reg, name, "h", labels, &m, errstr, sizeof(errstr))
#define G(name, labels) gx_metrics_gauge(reg, name, "h", labels, &m, errstr, sizeof(errstr))
#define H(name, b, n) gx_metrics_histogram(reg, name, "h", NULL, b, n, &m, errstr, sizeof(errstr))
	refused(C("", NULL), &m, "snake_case");
	refused(C("Govex_x_total", NULL), &m, "snake_case");
	refused(C("govex:x_total", NULL), &m, "recording rules");
	refused(C("1x_total", NULL), &m, "snake_case");
	refused(C("govex-x_total", NULL), &m, "snake_case");
	refused(gx_metrics_counter(reg, NULL, "h", NULL, &m, errstr, sizeof(errstr)), &m,
		"(null)");
	refused(C("govex_records", NULL), &m, "ends in _total");
	refused(C("_total", NULL), &m, "ends in _total");
	refused(G("govex_lag_total", NULL), &m, "only counters");
	refused(G("govex_lag_bucket", NULL), &m, "_bucket");
	refused(G("govex_lag_count", NULL), &m, "_count");
	refused(G("govex_lag_sum", NULL), &m, "_sum");
	refused(G("govex_lag_gauge", NULL), &m, "type");
	refused(C("govex_counter_x_total", NULL), &m, "type");
	refused(H("govex_histogram", ok, 2), &m, "type");
	refused(C("x_total", "Reason"), &m, "label name \"Reason\"");
	refused(C("x_total", "a-b"), &m, "label name \"a-b\"");
	refused(C("x_total", "__name__"), &m, "reserved");
	refused(C("x_total", "le"), &m, "reserved");
	refused(C("x_total", "quantile"), &m, "reserved");
	refused(C("x_total", "a,b,a"), &m, "given twice");
	refused(gx_metrics_counter(reg, "x_total", "", NULL, &m, errstr, sizeof(errstr)), &m,
		"help");
	refused(gx_metrics_counter(reg, "x_total", NULL, NULL, &m, errstr, sizeof(errstr)), &m,
		"help");
	refused(gx_metrics_counter(reg, "x_total", "bad \xff", NULL, &m, errstr,
				   sizeof(errstr)), &m, "help");
	refused(H("h_seconds", down, 2), &m, "strictly increase");
	refused(H("h_seconds", same, 2), &m, "strictly increase");
	refused(H("h_seconds", nan, 2), &m, "not finite");
	refused(H("h_seconds", ninf, 2), &m, "not finite");
	refused(H("h_seconds", NULL, 2), &m, "no bucket bounds");

	cr_assert_eq(C("x_total", "a, b"), GX_OK, "%s", errstr);
	cr_assert_eq(gx_metric_nlabels(m), 2);
	refused(C("x_total", NULL), &m, "already registered");
	refused(G("x_total", NULL), &m, "only counters");
	cr_assert_eq(G("x", NULL), GX_OK, "%s", errstr);
	refused(H("x", ok, 2), &m, "already registered");
#undef C
#undef G
#undef H
	/* Nothing refused reached the exposition. */
	char *text = expose(reg);
	cr_assert_str_eq(text, "# HELP x h\n# TYPE x gauge\nx 0\n");
	free(text);
	gx_metrics_destroy(reg);
}

Test(metrics, children)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *m = counter(reg, "x_total", "consumer,library");
	gx_metric_child_t *a = gx_metric_child(m, "tax", "population");
	cr_assert_not_null(a);
	cr_assert_eq(gx_metric_child(m, "tax", "population"), a, "resolved once");
	cr_assert_neq(gx_metric_child(m, "tax", "credit"), a);
	/* Distinct tuples whose concatenations agree stay distinct. */
	cr_assert_neq(gx_metric_child(m, "ab", "c"), gx_metric_child(m, "a", "bc"));

	/* Wrong arity or a NULL value: NULL, and updates on NULL are no-ops. */
	cr_assert_null(gx_metric_child(m, "tax"));
	cr_assert_null(gx_metric_child(m, "tax", "population", "extra"));
	cr_assert_null(gx_metric_child(m));
	cr_assert_null(gx_metric_child(m, "tax", NULL));
	cr_assert_null(gx_metric_child(NULL, "tax", "population"));
	gx_counter_inc(NULL);
	gx_gauge_set(NULL, 1);
	gx_histogram_observe(NULL, 1);
	gx_metric_inc(m, "too few");

	/* An update of the wrong kind is ignored. */
	gx_gauge_set(a, 99);
	gx_histogram_observe(a, 99);
	cr_assert_eq(gx_counter_value(a), 0);
	gx_counter_add(a, 5);
	gx_metric_add(m, 2, "tax", "population");
	cr_assert_eq(gx_counter_value(a), 7);
	cr_assert_eq(gx_gauge_value(a), 0);

	const char *vals[] = {"tax", "population"};
	cr_assert_eq(gx_metric_childv(m, 2, vals), a);

	gx_metric_t *g;
	cr_assert_eq(gx_metrics_gauge(reg, "g", "h", NULL, &g, errstr, sizeof(errstr)), GX_OK);
	gx_metric_child_t *gc = gx_metric_child(g);
	gx_gauge_set(gc, 2.5);
	gx_gauge_add(gc, -1);
	gx_metric_set(g, gx_gauge_value(gc) * 2);
	cr_assert_eq(gx_gauge_value(gc), 3.0);
	gx_metrics_destroy(reg);
}

struct hook_state {
	gx_metric_t *lag;
	int calls;
	int second_saw; /* st.calls as the second hook saw it */
};

/* A scrape hook as the broker's lag reader would be: rebuild from scratch. */
static void lag_hook(gx_metrics_t *reg, void *opaque)
{
	struct hook_state *st = opaque;
	st->calls++;
	gx_metric_clear(st->lag);
	gx_metric_set(st->lag, st->calls * 10, "tax", "t1");
	if (st->calls == 1)
		gx_metric_set(st->lag, 5, "gone-next-time", "t1");
}

/* Hooks run in the order they were added: this one sees the first's call. */
static void second_hook(gx_metrics_t *reg, void *opaque)
{
	struct hook_state *st = opaque;
	st->second_saw = st->calls;
}

Test(metrics, scrape_hooks)
{
	gx_metrics_t *reg = gx_metrics_new();
	struct hook_state st = {0};
	cr_assert_eq(gx_metrics_gauge(reg, "govex_consumer_lag_records", "lag", "consumer,topic",
				      &st.lag, errstr, sizeof(errstr)), GX_OK);
	gx_metrics_on_scrape(reg, lag_hook, &st);
	gx_metrics_on_scrape(reg, second_hook, &st);

	char *text = expose(reg);
	cr_assert_eq(st.calls, 1);
	cr_assert_eq(st.second_saw, 1);
	cr_assert_str_eq(text, "# HELP govex_consumer_lag_records lag\n"
			       "# TYPE govex_consumer_lag_records gauge\n"
			       "govex_consumer_lag_records{consumer=\"tax\",topic=\"t1\"} 10\n"
			       "govex_consumer_lag_records{consumer=\"gone-next-time\",topic=\"t1\"} 5\n");
	free(text);
	text = expose(reg);
	cr_assert_eq(st.calls, 2);
	cr_assert_str_eq(text, "# HELP govex_consumer_lag_records lag\n"
			       "# TYPE govex_consumer_lag_records gauge\n"
			       "govex_consumer_lag_records{consumer=\"tax\",topic=\"t1\"} 20\n");
	free(text);

	/* Clearing an unlabelled family brings back its zero child. */
	gx_metric_t *g;
	cr_assert_eq(gx_metrics_gauge(reg, "g", "h", NULL, &g, errstr, sizeof(errstr)), GX_OK);
	gx_metric_set(g, 4);
	gx_metric_clear(g);
	cr_assert_not_null(gx_metric_child(g));
	cr_assert_eq(gx_gauge_value(gx_metric_child(g)), 0);
	gx_metrics_destroy(reg);
}

/* ---- concurrency ---- */

#define THREADS 4
#define PER_THREAD 200000

struct worker {
	gx_metric_child_t *hot;	 /* a pre-resolved counter */
	gx_metric_t *byname;	 /* counter resolved by label every time */
	gx_metric_child_t *gauge;
	gx_metric_child_t *hist;
	int id;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char own[16];
	snprintf(own, sizeof(own), "t%d", w->id);
	for (int i = 0; i < PER_THREAD; i++) {
		gx_counter_inc(w->hot);
		gx_gauge_add(w->gauge, 1);
		gx_histogram_observe(w->hist, (i % 4) * 0.5); /* 0, .5, 1, 1.5 */
		if (i % 100 == 0) {
			gx_metric_inc(w->byname, "shared");
			gx_metric_inc(w->byname, own);
		}
	}
	return NULL;
}

static void *scrape(void *arg)
{
	gx_metrics_t *reg = arg;
	for (int i = 0; i < 50; i++) {
		char *t = expose(reg);
		free(t);
	}
	return NULL;
}

Test(metrics, concurrent_updates_sum_exactly)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *hot = counter(reg, "hot_total", NULL);
	gx_metric_t *byname = counter(reg, "byname_total", "thread");
	gx_metric_t *g, *h;
	static const double b[] = {0.5, 1};
	cr_assert_eq(gx_metrics_gauge(reg, "g", "h", NULL, &g, errstr, sizeof(errstr)), GX_OK);
	cr_assert_eq(gx_metrics_histogram(reg, "h_seconds", "h", NULL, b, 2, &h, errstr,
					  sizeof(errstr)), GX_OK);

	pthread_t t[THREADS], s;
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){gx_metric_child(hot), byname, gx_metric_child(g),
				       gx_metric_child(h), i};
		cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	cr_assert_eq(pthread_create(&s, NULL, scrape, reg), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_join(s, NULL);

	uint64_t n = (uint64_t)THREADS * PER_THREAD;
	cr_assert_eq(gx_counter_value(gx_metric_child(hot)), n);
	cr_assert_eq(gx_gauge_value(gx_metric_child(g)), (double)n);
	gx_metric_child_t *hc = gx_metric_child(h);
	cr_assert_eq(gx_histogram_count(hc), n);
	cr_assert_eq(gx_histogram_bucket(hc, 0), n / 2, "0 and 0.5");
	cr_assert_eq(gx_histogram_bucket(hc, 1), n / 4 * 3, "and 1");
	cr_assert_eq(gx_histogram_sum(hc), (double)(n / 4) * 3.0, "0+.5+1+1.5 per 4");
	cr_assert_eq(gx_counter_value(gx_metric_child(byname, "shared")),
		     (uint64_t)THREADS * (PER_THREAD / 100));
	for (int i = 0; i < THREADS; i++) {
		char own[16];
		snprintf(own, sizeof(own), "t%d", i);
		cr_assert_eq(gx_counter_value(gx_metric_child(byname, own)), PER_THREAD / 100);
	}
	gx_metrics_destroy(reg);
}

/* ---- Prometheus' own checker ---- */

static int have_promtool(void)
{
	return system("command -v promtool >/dev/null 2>&1") == 0;
}

/* Run `promtool check metrics` on text; its exit status, its output in out. */
static int promtool_check(const char *text, char *out, size_t out_size)
{
	char in[] = "/tmp/govex-metrics-XXXXXX";
	int fd = mkstemp(in);
	cr_assert_geq(fd, 0);
	size_t len = strlen(text);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	char *cmd = gx_asprintf("promtool check metrics < %s 2>&1", in);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(out, 1, out_size - 1, p);
	out[n] = '\0';
	int status = pclose(p);
	free(cmd);
	unlink(in);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Every family the broker and adapter export (issue 9), with samples. */
static void register_govex(gx_metrics_t *reg)
{
	static const struct {
		gx_metric_type_t type;
		const char *name, *labels, *help;
	} fams[] = {
	    {GX_METRIC_COUNTER, "govex_records_in_total", "library",
	     "Ingest records read by the broker."},
	    {GX_METRIC_COUNTER, "govex_records_released_total", "consumer,library",
	     "Records released to a consumer agency."},
	    {GX_METRIC_COUNTER, "govex_records_withheld_total", "library,reason",
	     "Records withheld, by reason."},
	    {GX_METRIC_COUNTER, "govex_records_denied_total", "reason",
	     "Records denied to a consumer, by reason."},
	    {GX_METRIC_COUNTER, "govex_ingest_refused_total", "reason",
	     "Ingest records the broker refused, by reason."},
	    {GX_METRIC_COUNTER, "govex_adapter_rows_total", "provider,item,outcome",
	     "Source rows read by the adapter, by outcome."},
	    {GX_METRIC_COUNTER, "govex_adapter_refused_total", "provider,item,reason",
	     "Source rows the adapter refused, by reason."},
	    {GX_METRIC_COUNTER, "govex_seal_failures_total", NULL,
	     "Records whose seal did not verify."},
	    {GX_METRIC_GAUGE, "govex_broker_lag_records", "topic,partition",
	     "Ingest records not yet processed, per partition."},
	    {GX_METRIC_GAUGE, "govex_consumer_lag_records", "consumer,topic",
	     "Delivered records a consumer agency has not yet read."},
	    {GX_METRIC_COUNTER, "govex_txn_commits_total", NULL, "Kafka transactions committed."},
	    {GX_METRIC_COUNTER, "govex_txn_aborts_total", NULL, "Kafka transactions aborted."},
	    {GX_METRIC_HISTOGRAM, "govex_release_latency_seconds", NULL,
	     "Seconds from collected at to released at."},
	    {GX_METRIC_GAUGE, "govex_provider_last_record_timestamp_seconds", "provider,item",
	     "Unix time of the last record from a provider for an item."},
	    {GX_METRIC_GAUGE, "govex_item_update_period_seconds", "item",
	     "Update period the catalogue item promises."},
	    {GX_METRIC_GAUGE, "govex_build_info", "version", "Build information; always 1."},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(fams); i++) {
		gx_metric_t *m;
		gx_err_t err;
		if (fams[i].type == GX_METRIC_COUNTER)
			err = gx_metrics_counter(reg, fams[i].name, fams[i].help, fams[i].labels, &m,
						 errstr, sizeof(errstr));
		else if (fams[i].type == GX_METRIC_GAUGE)
			err = gx_metrics_gauge(reg, fams[i].name, fams[i].help, fams[i].labels, &m,
					       errstr, sizeof(errstr));
		else
			err = gx_metrics_histogram(reg, fams[i].name, fams[i].help, fams[i].labels,
						   gx_metrics_latency_buckets,
						   gx_metrics_latency_nbuckets, &m, errstr,
						   sizeof(errstr));
		cr_assert_eq(err, GX_OK, "%s: %s", fams[i].name, errstr);
		/* One sample per family, odd label values included. */
		const char *vals[3] = {"tax \"bureau\"", "population\\x", "no\ngrant"};
		gx_metric_child_t *c = gx_metric_childv(m, gx_metric_nlabels(m), vals);
		cr_assert_not_null(c);
		gx_counter_add(c, 3);
		gx_gauge_set(c, 1712345678.5);
		gx_histogram_observe(c, 0.2);
		gx_histogram_observe(c, 75);
	}
}

Test(metrics, promtool_accepts_govex_exposition)
{
	if (!have_promtool())
		cr_skip_test("promtool not installed (make deps installs prometheus)");
	gx_metrics_t *reg = gx_metrics_new();
	register_govex(reg);
	/* Special values and a repaired label value parse too. */
	gx_metric_t *g;
	cr_assert_eq(gx_metrics_gauge(reg, "govex_test_values", "Odd values.", "k", &g, errstr,
				      sizeof(errstr)), GX_OK);
	gx_metric_set(g, NAN, "nan");
	gx_metric_set(g, INFINITY, "inf");
	gx_metric_set(g, -INFINITY, "-inf");
	gx_metric_set(g, 1e21, "big");
	gx_metric_set(g, 1.0 / 3, "third");
	gx_metric_set(g, 1, "bad \xc0\xaf utf-8");
	char *text = expose(reg);
	char out[4096];
	int rc = promtool_check(text, out, sizeof(out));
	cr_assert_eq(rc, 0, "promtool check metrics: exit %d\n%s\n--- exposition:\n%s", rc, out,
		     text);
	free(text);
	gx_metrics_destroy(reg);
}

/* The check above is only worth something if promtool does refuse. */
Test(metrics, promtool_refuses_what_we_never_emit)
{
	if (!have_promtool())
		cr_skip_test("promtool not installed (make deps installs prometheus)");
	char out[4096];
	cr_assert_neq(promtool_check("# TYPE x_total counter\nx_total{a=\"b} 1\n", out,
				     sizeof(out)), 0, "unterminated label value accepted");
	cr_assert_neq(promtool_check("# HELP x h\n# TYPE x counter\nx 1\n", out, sizeof(out)), 0,
		      "counter without _total accepted");
}
