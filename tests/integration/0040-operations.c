/*
 * 0040-operations: what operators see, against the real programs.
 *
 * consumer_lag: a consumer agency reads K records and stops; N more are
 * delivered; the broker's govex_consumer_lag_records for it and `govexctl
 * status --json` both say N (records, not offsets: the transaction markers
 * between them do not count); an agency that never read shows every record
 * delivered to it; after it reads the rest its lag is 0. A restarted broker
 * knows each item's newest record before it processes anything.
 *
 * prometheus: a real Prometheus (Debian's) scrapes the broker and a
 * PostgreSQL-following adapter every second, with deploy/prometheus's alert
 * rules loaded. Its HTTP API answers the scenario's released, denied and
 * accepted counts exactly, and an item whose catalogue entry promises
 * "realtime" (one minute) updates and got nothing for longer is late on the
 * broker's /metrics, in `govexctl status`, and as a GovexProviderLate alert.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

static const char *const unconditional =
    "name,sex,ethnicity,birth_date,division_code,education,status,updated_at";

static void request(const char *P, const char *consumer, const char *item,
		    const char *until)
{
	const char *args[] = {"request", "--consumer", consumer, "--item", item,
			      "--fields", unconditional, "--purpose", "运行监测",
			      "--basis", "《政务数据管理与应用办法》第十三条",
			      until ? "--until" : NULL, until, NULL};
	itest_out_t o = it_run(P, "govexctl", args);
	cr_assert_eq(o.status, 0, "request by %s failed (%d)", consumer, o.status);
	it_out_free(&o);
}

static void adapter_csv(const char *P, const char *item, unsigned first, unsigned n)
{
	char name[64];
	snprintf(name, sizeof(name), "%s-%s-%u.csv", P, item, first);
	char *csv = it_path(name);
	it_population_csv(csv, first, n);
	const char *args[] = {"--provider", "SX-GA", "--item", item, "--csv", csv,
			      "-o", "http.port=0", NULL};
	itest_out_t o = it_run(P, "govex-adapter", args);
	cr_assert_eq(o.status, 0, "adapter failed: %d (see %s/%s.govex-adapter.log)",
		     o.status, it_tmp(), P);
	it_out_free(&o);
}

static long consume(const char *P, const char *consumer, long max)
{
	char m[24];
	snprintf(m, sizeof(m), "%ld", max);
	const char *args[] = {"consume", "--consumer", consumer, "--json", "--max", m,
			      "--idle-exit", "20s", NULL};
	itest_out_t o = it_run(P, "govexctl", args);
	cr_assert_eq(o.status, 0);
	json_t *recs = it_json_lines(o.out, o.len);
	long n = (long)json_array_size(recs);
	json_decref(recs);
	it_out_free(&o);
	return n;
}

/* The value of one sample on the program's /metrics, -1 if absent. */
static double scrape(int port, const char *sample)
{
	int st;
	char *body = it_http_get(port, "/metrics", &st);
	double v = body && st == 200 ? it_metric(body, sample) : -1;
	free(body);
	return v;
}

/* Scrape until sample equals want (or timeout_s passes); the last value. */
static double scrape_until(int port, const char *sample, double want, int timeout_s)
{
	double v = -1;
	for (int i = 0; i < timeout_s * 4; i++) {
		if ((v = scrape(port, sample)) == want)
			break;
		usleep(250000);
	}
	return v;
}

static json_t *status_json(const char *P)
{
	const char *args[] = {"status", "--json", NULL};
	itest_out_t o = it_run(P, "govexctl", args);
	cr_assert_eq(o.status, 0, "govexctl status failed (%d): %s", o.status, o.err);
	json_error_t e;
	json_t *j = json_loadb(o.out, o.len, 0, &e);
	cr_assert(j, "status --json is not JSON: %s", e.text);
	it_out_free(&o);
	return j;
}

/* The consumer_lag row of topic read by group (NULL: no group). */
static json_t *lag_row(json_t *st, const char *topic, const char *group)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(st, "consumer_lag"), i, r) {
		json_t *g = json_object_get(r, "group");
		if (strcmp(json_string_value(json_object_get(r, "topic")), topic))
			continue;
		if (group ? json_is_string(g) && !strcmp(json_string_value(g), group)
			  : json_is_null(g))
			return r;
	}
	return NULL;
}

static long row_lag(json_t *st, const char *topic, const char *group)
{
	json_t *r = lag_row(st, topic, group);
	return r ? (long)json_integer_value(json_object_get(r, "lag")) : -1;
}

Test(ops, consumer_lag_counts_records_delivered_since_it_stopped, .timeout = 300)
{
	const char *P = "lag";
	const long K = 40, N = 25;
	it_setup(P, it_population_catalog("POP-LAG"));
	request(P, "SX-RS", "POP-LAG", NULL);
	request(P, "SX-JY", "POP-LAG", NULL);
	pid_t broker = it_broker(P);

	adapter_csv(P, "POP-LAG", 0, (unsigned)K);
	cr_assert_eq(consume(P, "SX-RS", K), K, "SX-RS did not get its first %ld", K);
	/* In several transactions, so markers sit between the records. */
	adapter_csv(P, "POP-LAG", (unsigned)K, 10);
	adapter_csv(P, "POP-LAG", (unsigned)K + 10, (unsigned)N - 10);

	int port = it_http_port(P, "govex-broker");
	cr_assert_gt(port, 0);
	double rel = scrape_until(port, "govex_records_released_total{consumer=\"SX-RS\","
				  "library=\"population\"}", (double)(K + N), 60);
	cr_assert_eq(rel, K + N, "released to SX-RS: %g", rel);

	/* On /metrics (the broker re-reads lag at most every 5 s). */
	double lag = scrape_until(port, "govex_consumer_lag_records{consumer=\"SX-RS\","
				  "topic=\"lag.deliver.SX-RS.population\"}", (double)N, 30);
	cr_expect_eq(lag, N, "SX-RS lag on /metrics: %g, want %ld", lag, N);
	/* Never read: everything delivered to it. */
	lag = scrape_until(port, "govex_consumer_lag_records{consumer=\"SX-JY\","
			   "topic=\"lag.deliver.SX-JY.population\"}", (double)(K + N), 30);
	cr_expect_eq(lag, K + N, "SX-JY lag on /metrics: %g", lag);

	/* In govexctl status, per group. */
	json_t *st = status_json(P);
	cr_expect_eq(row_lag(st, "lag.deliver.SX-RS.population", "govex-consume-SX-RS"), N);
	json_t *r = lag_row(st, "lag.deliver.SX-RS.population", "govex-consume-SX-RS");
	cr_expect(r && json_is_true(json_object_get(r, "exact")));
	cr_expect(r && json_integer_value(json_object_get(r, "readers")) == 0,
		  "the stopped consumer still has readers");
	cr_expect_eq(row_lag(st, "lag.deliver.SX-JY.population", NULL), K + N);
	/* The broker instance is up, named by its transactional id. */
	json_t *br = json_object_get(st, "brokers");
	cr_expect_eq(json_integer_value(json_object_get(br, "up")), 1);
	json_t *g = json_array_get(json_object_get(br, "groups"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(g, "group")), "lag-broker");
	json_t *m = json_array_get(json_object_get(g, "members"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(m, "client_id")) ?: "",
			 "lag-broker-1");
	cr_expect_eq(json_integer_value(json_object_get(g, "lag")), 0);
	json_decref(st);

	/* The text screen says the same. */
	const char *sargs[] = {"status", NULL};
	itest_out_t o = it_run(P, "govexctl", sargs);
	cr_assert_eq(o.status, 0);
	cr_expect(strstr(o.out, "Brokers up: 1"), "%s", o.out);
	cr_expect(strstr(o.out, "govex-consume-SX-RS"), "%s", o.out);
	cr_expect(strstr(o.out, "(never read)"), "%s", o.out);
	it_out_free(&o);

	/* It reads the rest: no lag. */
	cr_assert_eq(consume(P, "SX-RS", N), N);
	st = status_json(P);
	cr_expect_eq(row_lag(st, "lag.deliver.SX-RS.population", "govex-consume-SX-RS"), 0);
	json_decref(st);
	lag = scrape_until(port, "govex_consumer_lag_records{consumer=\"SX-RS\","
			   "topic=\"lag.deliver.SX-RS.population\"}", 0, 30);
	cr_expect_eq(lag, 0, "SX-RS lag after reading everything: %g", lag);

	/* A restarted broker has nothing left to process, yet knows when
	 * the item's newest record was collected. */
	const char *last = "govex_provider_last_record_timestamp_seconds{provider=\"SX-GA\","
			   "item=\"POP-LAG\"}";
	double before = scrape(port, last);
	cr_assert_gt(before, 1.6e9);
	cr_expect_eq(it_stop(broker), 0);
	long listening = it_log_count(P, "govex-broker", "event=http_listening");
	broker = it_broker(P);
	for (int i = 0; it_log_count(P, "govex-broker", "event=http_listening") == listening; i++) {
		cr_assert(i < 200, "the restarted broker did not listen");
		usleep(100000);
	}
	int port2 = it_http_port(P, "govex-broker");
	double after = -1;
	for (int i = 0; i < 120 && after < 0; i++) {
		int rs;
		char *ready = it_http_get(port2, "/readyz", &rs);
		free(ready);
		if (rs == 200)
			after = scrape(port2, last);
		else
			usleep(250000);
	}
	cr_expect(fabs(after - before) < 0.002, "newest record after restart %f, before %f",
		  after, before);
	cr_expect_eq(scrape(port2, "govex_records_in_total{library=\"population\"}"), -1,
		     "the restarted broker processed records again");
	cr_expect_eq(it_stop(broker), 0);
}

/* ---- a real Prometheus ---- */

static pid_t prom_pid;
static char prom_dir[512];
static it_pg_t pg;
static pid_t pg_adapter;

static void prom_cleanup(void)
{
	if (pg_adapter > 0) {
		kill(pg_adapter, SIGKILL);
		waitpid(pg_adapter, NULL, 0);
		pg_adapter = 0;
	}
	if (prom_pid > 0) {
		int st;
		kill(prom_pid, SIGTERM);
		for (int i = 0; i < 100 && waitpid(prom_pid, &st, WNOHANG) != prom_pid; i++)
			usleep(100000);
		kill(prom_pid, SIGKILL);
		waitpid(prom_pid, NULL, 0);
		prom_pid = 0;
	}
	if (prom_dir[0]) {
		pid_t c = fork();
		if (c == 0) {
			execl("/bin/rm", "rm", "-rf", "--", prom_dir, (char *)NULL);
			_exit(127);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
		prom_dir[0] = '\0';
	}
	it_pg_stop(&pg);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	cr_assert(fd >= 0 && !bind(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
		  !getsockname(fd, (struct sockaddr *)&sa, &len));
	close(fd);
	return ntohs(sa.sin_port);
}

/* Start Prometheus on a free loopback port scraping the targets every
 * second, with the exchange's alert rules; wait until it is ready. */
static int prom_start(int broker_port, int adapter_port)
{
	int port = free_port();
	snprintf(prom_dir, sizeof(prom_dir), "%s/prometheus", it_tmp());
	cr_assert(mkdir(prom_dir, 0700) == 0 || errno == EEXIST);
	char rules[600], top[512], cfg[600], data[600], listen[64], cfgarg[700],
	    dataarg[700];
	snprintf(top, sizeof(top), "%s", it_bin());
	char *slash = strrchr(top, '/');
	cr_assert(slash);
	*slash = '\0'; /* the build directory's parent: the source tree */
	snprintf(rules, sizeof(rules), "%s/deploy/prometheus/govex-alerts.yml", top);
	cr_assert(access(rules, R_OK) == 0, "no %s", rules);
	snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", prom_dir);
	snprintf(data, sizeof(data), "%s/data", prom_dir);
	char text[2048];
	int n = snprintf(text, sizeof(text),
			 "global:\n"
			 "  scrape_interval: 1s\n"
			 "  scrape_timeout: 1s\n"
			 "  evaluation_interval: 1s\n"
			 "rule_files:\n"
			 "  - %s\n"
			 "scrape_configs:\n"
			 "  - job_name: govex-broker\n"
			 "    static_configs:\n"
			 "      - targets: ['127.0.0.1:%d']\n"
			 "  - job_name: govex-adapter\n"
			 "    static_configs:\n"
			 "      - targets: ['127.0.0.1:%d']\n",
			 rules, broker_port, adapter_port);
	it_write(cfg, text, (size_t)n);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	snprintf(cfgarg, sizeof(cfgarg), "--config.file=%s", cfg);
	snprintf(dataarg, sizeof(dataarg), "--storage.tsdb.path=%s", data);
	char log[600];
	snprintf(log, sizeof(log), "%s/prometheus.log", it_tmp());
	pid_t parent = getpid();
	prom_pid = fork();
	cr_assert(prom_pid >= 0);
	if (prom_pid == 0) {
		/* Never outlive the test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execl("/usr/bin/prometheus", "prometheus", cfgarg, dataarg, listen,
		      "--log.level=warn", "--storage.tsdb.retention.time=1h",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0;; i++) {
		int st, hs;
		cr_assert(waitpid(prom_pid, &st, WNOHANG) == 0, "prometheus exited; see %s", log);
		char *b = it_http_get(port, "/-/ready", &hs);
		free(b);
		if (hs == 200)
			break;
		cr_assert(i < 300, "prometheus not ready within 30 s; see %s", log);
		usleep(100000);
	}
	return port;
}

static void url_encode(const char *s, char *out, size_t n)
{
	size_t k = 0;
	for (; *s && k + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-_.~", c))
			out[k++] = (char)c;
		else
			k += (size_t)snprintf(out + k, n - k, "%%%02X", c);
	}
	out[k] = '\0';
}

/* The instant vector of a PromQL query (a new reference), or NULL. */
static json_t *prom_query(int port, const char *expr)
{
	char enc[2048], path[2200];
	url_encode(expr, enc, sizeof(enc));
	snprintf(path, sizeof(path), "/api/v1/query?query=%s", enc);
	int st;
	char *body = it_http_get(port, path, &st);
	json_t *j = body && st == 200 ? json_loads(body, 0, NULL) : NULL;
	free(body);
	json_t *res = json_object_get(json_object_get(j, "data"), "result");
	if (res)
		json_incref(res);
	json_decref(j);
	return res;
}

/* A query's single value, NAN when it has no (or more than one) result. */
static double prom_value(int port, const char *expr)
{
	json_t *res = prom_query(port, expr);
	double v = NAN;
	if (json_array_size(res) == 1) {
		const char *s = json_string_value(
		    json_array_get(json_object_get(json_array_get(res, 0), "value"), 1));
		if (s)
			v = strtod(s, NULL);
	}
	json_decref(res);
	return v;
}

static double prom_until(int port, const char *expr, double want, int timeout_s)
{
	double v = NAN;
	for (int i = 0; i < timeout_s * 2; i++) {
		if ((v = prom_value(port, expr)) == want)
			break;
		usleep(500000);
	}
	return v;
}

#define PROM_ROWS 200

Test(ops, prometheus_counts_the_scenario_and_alerts_on_a_late_provider,
     .timeout = 300, .fini = prom_cleanup)
{
	const char *P = "prom";
	int64_t t0 = gx_mono_ms();
	/* Two items of one provider: one promises daily updates, the other
	 * "realtime" ones, i.e. within a minute. */
	char daily[4096], rt[4096], cat[8300];
	snprintf(daily, sizeof(daily), "%s", it_population_catalog("POP-PROM"));
	snprintf(rt, sizeof(rt), "%s", it_population_catalog("POP-RT"));
	char *p = strstr(rt, "\"daily\"");
	cr_assert(p);
	memmove(p + 10, p + 7, strlen(p + 7) + 1);
	memcpy(p, "\"realtime\"", 10);
	daily[strlen(daily) - 1] = '\0'; /* "[{...}" + "," + "{...}]" */
	snprintf(cat, sizeof(cat), "%s,%s", daily, rt + 1);
	it_setup(P, cat);

	/* The realtime item's provider sends five records, then nothing. */
	int64_t rt_sent = gx_now_ms(); /* no later than they were collected */
	adapter_csv(P, "POP-RT", 90000, 5);

	request(P, "SX-MZ", "POP-PROM", NULL);
	char until[40];
	int64_t until_ms = gx_now_ms() + 4000;
	gx_fmt_time_ms(until_ms, until, sizeof(until));
	request(P, "SX-JY", "POP-PROM", until); /* expired before any record */
	pid_t broker = it_broker(P);

	/* A provider following a PostgreSQL table: a long-running adapter. */
	it_pg_start(&pg);
	gx_buf_t sql;
	gx_buf_init(&sql);
	gx_buf_printf(&sql, "CREATE TABLE people (sfzh text PRIMARY KEY, xm text, sex text,"
			    " ethnicity text, birth_date date, division_code text, zz text,"
			    " marital_status text, education text, status text, updated_at timestamptz NOT NULL,"
			    " seq bigserial NOT NULL);\n"
			    "INSERT INTO people (sfzh, xm, sex, ethnicity, birth_date,"
			    " division_code, zz, status, updated_at) VALUES\n");
	for (unsigned i = 0; i < PROM_ROWS; i++) {
		struct row r;
		make_row(i, &r);
		gx_buf_printf(&sql, "%s('%s', '%s', '%s', '%s', '%s', '140105', '太原%u号',"
			      " '%s', now())\n", i ? "," : "", r.id, r.name, r.sex, r.eth,
			      r.birth, i, r.status);
	}
	gx_buf_putc(&sql, ';');
	free(it_psql(&pg, gx_buf_cstr(&sql)));
	gx_buf_free(&sql);
	char *map = it_path("prom.map");
	const char *mtext = "citizen_id = sfzh\nname = xm\naddress = zz\n";
	it_write(map, mtext, strlen(mtext));
	while (gx_now_ms() < until_ms + 500)
		usleep(100000);
	static char conninfo[600];
	snprintf(conninfo, sizeof(conninfo), "source.pg.conninfo=%s", pg.conninfo);
	const char *aargs[] = {"--provider", "SX-GA", "--item", "POP-PROM", "--mapping", map,
			       "-o", "source.type=pg", "-o", conninfo,
			       "-o", "source.pg.table=public.people",
			       "-o", "source.pg.cursor.column=seq",
			       "-o", "source.pg.poll.interval=200ms",
			       "-o", "http.port=0", NULL};
	long before = it_log_count(P, "govex-adapter", "event=http_listening");
	pg_adapter = it_spawn(P, "govex-adapter", aargs);
	for (int i = 0; it_log_count(P, "govex-adapter", "event=http_listening") == before; i++) {
		cr_assert(i < 200, "the PostgreSQL adapter did not listen");
		usleep(100000);
	}
	int aport = it_http_port(P, "govex-adapter");
	int bport = it_http_port(P, "govex-broker");
	cr_assert(aport > 0 && bport > 0);

	int port = prom_start(bport, aport);
	cr_log_info("prometheus on %d scraping broker %d and adapter %d, %lld ms in", port,
		    bport, aport, (long long)(gx_mono_ms() - t0));

	/* Both targets up; the scenario's counts, as Prometheus has them. */
	cr_expect_eq(prom_until(port, "sum(up{job=~\"govex-.*\"})", 2, 30), 2,
		     "not both targets up");
	cr_expect_eq(prom_until(port, "sum(govex_adapter_rows_total{job=\"govex-adapter\","
				"outcome=\"accepted\",item=\"POP-PROM\"})", PROM_ROWS, 60),
		     PROM_ROWS, "rows the adapter accepted");
	cr_expect_eq(prom_until(port, "sum(govex_records_released_total{job=\"govex-broker\"})",
				PROM_ROWS, 60), PROM_ROWS, "records released");
	cr_expect(isnan(prom_value(port, "sum(govex_records_released_total"
					 "{consumer=\"SX-JY\"})")), "SX-JY got records");
	cr_expect_eq(prom_until(port, "sum by (reason) (govex_records_denied_total"
				"{job=\"govex-broker\"})", PROM_ROWS, 30),
		     PROM_ROWS, "records denied (all for one reason: grant_expired)");
	cr_expect_eq(prom_value(port, "govex_records_denied_total{reason=\"grant_expired\"}"),
		     PROM_ROWS);
	cr_expect_eq(prom_until(port, "govex_consumer_lag_records{consumer=\"SX-MZ\"}",
				PROM_ROWS, 30), PROM_ROWS, "SX-MZ has read nothing");
	cr_expect_eq(prom_value(port, "count(govex_build_info)"), 2);

	/* The decisions say the same as the metrics. */
	json_t *st = status_json(P);
	json_t *dn = json_object_get(st, "denials_last_hour");
	cr_expect_eq(json_integer_value(json_object_get(dn, "total")), PROM_ROWS);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(dn, "by_reason"),
							"grant_expired")), PROM_ROWS);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(dn, "by_consumer"),
							"SX-JY")), PROM_ROWS);
	json_decref(st);

	/* The realtime item: late once a minute has passed since its last
	 * record, on /metrics, in status and as an alert (pending: the rule
	 * wants 5 minutes before it fires). */
	const char *alert = "ALERTS{alertname=\"GovexProviderLate\",item=\"POP-RT\"}";
	json_t *res = NULL;
	for (int i = 0; i < 240; i++) {
		json_decref(res);
		res = prom_query(port, alert);
		if (json_array_size(res))
			break;
		usleep(500000);
	}
	cr_assert_eq(json_array_size(res), 1, "no GovexProviderLate alert for POP-RT");
	json_t *labels = json_object_get(json_array_get(res, 0), "metric");
	const char *state = json_string_value(json_object_get(labels, "alertstate"));
	cr_expect(state && (!strcmp(state, "pending") || !strcmp(state, "firing")),
		  "alertstate %s", state ? state : "(none)");
	cr_expect_str_eq(json_string_value(json_object_get(labels, "provider")) ?: "", "SX-GA");
	json_decref(res);
	int64_t late_after = gx_now_ms() - rt_sent;
	cr_expect_geq(late_after, 60000, "alert after %lld ms, before the minute was up",
		      (long long)late_after);
	/* The daily item is not late. */
	res = prom_query(port, "ALERTS{alertname=\"GovexProviderLate\",item=\"POP-PROM\"}");
	cr_expect_eq(json_array_size(res), 0, "POP-PROM reported late");
	json_decref(res);

	int st_code;
	char *metrics = it_http_get(bport, "/metrics", &st_code);
	cr_assert_eq(st_code, 200);
	double last = it_metric(metrics, "govex_provider_last_record_timestamp_seconds"
				"{provider=\"SX-GA\",item=\"POP-RT\"}");
	cr_expect_eq(it_metric(metrics, "govex_item_update_period_seconds{item=\"POP-RT\"}"), 60);
	cr_expect_gt(gx_now_ms() / 1000.0 - last, 60, "POP-RT's last record is %f", last);
	free(metrics);

	st = status_json(P);
	json_t *late = json_object_get(st, "late_providers");
	cr_expect_eq(json_array_size(late), 1, "late providers: %zu", json_array_size(late));
	json_t *l0 = json_array_get(late, 0);
	cr_expect_str_eq(json_string_value(json_object_get(l0, "item")) ?: "", "POP-RT");
	cr_expect_str_eq(json_string_value(json_object_get(l0, "provider")) ?: "", "SX-GA");
	cr_expect_gt(json_integer_value(json_object_get(l0, "late_seconds")), 0);
	json_decref(st);
	const char *sargs[] = {"status", NULL};
	itest_out_t o = it_run(P, "govexctl", sargs);
	cr_expect(strstr(o.out, "Late providers") && strstr(o.out, "POP-RT"), "%s", o.out);
	it_out_free(&o);

	cr_expect_eq(it_stop(pg_adapter), 0, "the adapter did not stop cleanly");
	pg_adapter = 0;
	cr_expect_eq(it_stop(broker), 0);
	cr_log_info("prometheus test took %lld ms", (long long)(gx_mono_ms() - t0));
}
