/*
 * 0002-adapter-exactly-once: govex-adapter publishes every source row
 * exactly once, whatever happens to it, and never publishes an unchanged
 * record twice (art. 10, collect once).
 *
 *  - crash: 200,000 population rows (every 40th with a wrong check
 *    character, every 1000th with an impossible date, every 97th with a
 *    newline inside a quoted field, every 13th ending in CRLF); the adapter
 *    is killed with SIGKILL three times at random moments and restarted.
 *    Read with read_committed, the ingest topic holds each valid row exactly
 *    once and govex.rejected each invalid row exactly once, with its line;
 *    the last run's summary counts the whole pass.
 *  - collect once: the same file again publishes nothing and counts every
 *    row as skipped unchanged; one changed row publishes exactly that row;
 *    the same records as JSON Lines with other column names (a mapping
 *    file) under the same adapter id are recognised too, while a new person
 *    is published and bad lines are refused with their line numbers.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

/* ---- crash ---- */

#define XO_ROWS 200000u

/* Row i of the crash test's file; *bad says whether it is invalid. */
static void xo_row(unsigned i, char id[19], char *name, size_t nn, char *birth,
		   size_t bn, int *bad)
{
	it_citizen_id(i, id);
	snprintf(name, nn, "测试%06u", i);
	snprintf(birth, bn, "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
	*bad = 0;
	if (i % 40 == 7) {
		id[17] = id[17] == '0' ? '1' : '0';
		*bad = 1;
	}
	if (i % 1000 == 500) {
		snprintf(birth, bn, "2023-02-30");
		*bad = 1;
	}
}

/* Write the file; line[i] is the line row i starts on. */
static void xo_write(const char *path, long *line)
{
	FILE *f = fopen(path, "wb");
	cr_assert(f);
	fputs("citizen_id,name,sex,ethnicity,birth_date,division_code,address,"
	      "marital_status,education,status,updated_at\n", f);
	long ln = 2;
	for (unsigned i = 0; i < XO_ROWS; i++) {
		char id[19], name[32], birth[16];
		int bad;
		xo_row(i, id, name, sizeof(name), birth, sizeof(birth), &bad);
		line[i] = ln;
		fprintf(f, "%s,%s,%u,01,%s,140105,\"山西省太原市小店区\"\"坞城路\"\"%u号%s\","
			",,ALIVE,2024-01-01T00:00:00Z%s",
			id, name, 1 + i % 2, birth, i % 300,
			i % 97 == 0 ? "\n2单元" : "", i % 13 == 0 ? "\r\n" : "\n");
		ln += 1 + (i % 97 == 0);
	}
	cr_assert(fclose(f) == 0);
}

struct xo_check {
	const char *path;
	const long *line;
	unsigned char *seen;	/* per row: records, or rejections */
	long *row_at_line;	/* line -> row, -1 */
	long maxline;
	long undecodable, wrong;
};

static void xo_ingest(void *opaque, const rd_kafka_message_t *m)
{
	struct xo_check *c = opaque;
	json_t *o = it_ingest_json(m);
	if (!o) {
		c->undecodable++;
		return;
	}
	const char *name = json_string_value(json_object_get(o, "name"));
	unsigned i = name && strlen(name) == 12 ? (unsigned)atoi(name + 6) : XO_ROWS;
	if (i >= XO_ROWS) {
		c->wrong++;
	} else {
		char id[19], nm[32], birth[16], src[600];
		int bad;
		xo_row(i, id, nm, sizeof(nm), birth, sizeof(birth), &bad);
		snprintf(src, sizeof(src), "%s:%ld", c->path, c->line[i]);
		const char *cid = json_string_value(json_object_get(o, "citizen_id"));
		const char *s = json_string_value(json_object_get(o, "_source"));
		const char *k = json_string_value(json_object_get(o, "_key"));
		if (bad || !cid || strcmp(cid, id) || !k || strcmp(k, id) || !s ||
		    strcmp(s, src))
			c->wrong++;
		if (c->seen[i] < 255)
			c->seen[i]++;
	}
	json_decref(o);
}

static void xo_rejected(void *opaque, const rd_kafka_message_t *m)
{
	struct xo_check *c = opaque;
	json_t *o = json_loadb(m->payload, m->len, 0, NULL);
	long ln = json_integer_value(json_object_get(o, "line"));
	if (ln < 2 || ln > c->maxline || c->row_at_line[ln] < 0) {
		c->wrong++;
	} else {
		unsigned i = (unsigned)c->row_at_line[ln];
		const char *reason = json_string_value(json_object_get(o, "reason"));
		if (!reason || strcmp(reason, "invalid_value"))
			c->wrong++;
		if (c->seen[i] < 255)
			c->seen[i]++;
	}
	json_decref(o);
}

/* Wait until the adapter's log shows its n-th start; fails if it exits. */
static void wait_started(const char *P, pid_t pid, long n)
{
	for (int t = 0; it_log_count(P, "govex-adapter", "event=adapter_started") < n; t++) {
		int st;
		cr_assert(waitpid(pid, &st, WNOHANG) == 0,
			  "adapter exited before it started (run %ld)", n);
		cr_assert(t < 3000, "adapter did not start in 60 s (run %ld)", n);
		usleep(20000);
	}
}

/* The count after "key: " in an adapter's summary, or -1. */
static long summary_count(const char *out, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\n%s: ", key);
	const char *p = strstr(out, pat);
	if (!p && !strncmp(out, pat + 1, strlen(pat + 1)))
		p = out - 1;
	return p ? atol(p + strlen(pat)) : -1;
}

Test(adapter, sigkill_three_times_and_every_row_is_there_exactly_once, .timeout = 400)
{
	const char *P = "xo";
	it_setup(P, it_population_catalog("POP-XO"));
	char *csv = it_path("xo.csv");
	long *line = calloc(XO_ROWS, sizeof(long));
	xo_write(csv, line);
	long nbad = 0;
	for (unsigned i = 0; i < XO_ROWS; i++) {
		char id[19], nm[32], birth[16];
		int bad;
		xo_row(i, id, nm, sizeof(nm), birth, sizeof(birth), &bad);
		nbad += bad;
	}

	/* At debug level the adapter logs each commit, which lets the kills
	 * land at random points of its progress on any machine. */
	const char *args[] = {"--provider", "SX-GA", "--item", "POP-XO", "--csv", csv,
			      "-o", "adapter.batch.max=1000", "-o", "log.level=debug",
			      NULL};
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	cr_log_info("kill seed %u", seed);
	for (long k = 1; k <= 3; k++) {
		pid_t pid = it_spawn(P, "govex-adapter", args);
		wait_started(P, pid, k);
		/* After 0 to 49 more commits of 1000 rows (at most 147,000
		 * rows in all, fewer than the file's valid rows), then 0 to
		 * 99 ms more: inside a batch, or during a commit. */
		long target = it_log_count(P, "govex-adapter", "event=transaction_committed") +
			      (long)(rand_r(&seed) % 50);
		unsigned ms = rand_r(&seed) % 100;
		int st;
		for (int t = 0; it_log_count(P, "govex-adapter",
					     "event=transaction_committed") < target; t++) {
			cr_assert(waitpid(pid, &st, WNOHANG) == 0,
				  "adapter run %ld ended before it was killed", k);
			cr_assert(t < 6000, "adapter run %ld made no progress in 120 s", k);
			usleep(20000);
		}
		usleep(ms * 1000);
		cr_assert(waitpid(pid, &st, WNOHANG) == 0,
			  "adapter run %ld ended before it was killed", k);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		cr_log_info("run %ld killed at commit %ld + %u ms", k, target, ms);
	}
	itest_out_t o = it_run(P, "govex-adapter", args);
	cr_assert_eq(o.status, 0, "last run failed: %d", o.status);
	cr_expect_eq(it_log_count(P, "govex-adapter", "event=adapter_started"), 4);
	/* The summary counts the whole pass, across the kills. */
	cr_expect_eq(summary_count(o.out, "accepted"), (long)XO_ROWS - nbad, "%s", o.out);
	cr_expect_eq(summary_count(o.out, "refused"), nbad, "%s", o.out);
	cr_expect_eq(summary_count(o.out, "skipped_unchanged"), 0, "%s", o.out);
	it_out_free(&o);

	struct xo_check c = {csv, line, calloc(XO_ROWS, 1), NULL, 0, 0, 0};
	long n = it_topic_read("xo.ingest.population", 60000, xo_ingest, &c);
	cr_expect_eq(n, (long)XO_ROWS - nbad, "ingest holds %ld records, want %ld", n,
		     (long)XO_ROWS - nbad);
	cr_expect_eq(c.undecodable, 0);
	cr_expect_eq(c.wrong, 0, "%ld records differ from their rows", c.wrong);
	long missing = 0, twice = 0;
	for (unsigned i = 0; i < XO_ROWS; i++) {
		char id[19], nm[32], birth[16];
		int bad;
		xo_row(i, id, nm, sizeof(nm), birth, sizeof(birth), &bad);
		if (!bad && c.seen[i] == 0 && missing++ < 5)
			cr_log_error("row %u (line %ld) missing", i, line[i]);
		if (c.seen[i] > 1 && twice++ < 5)
			cr_log_error("row %u (line %ld) published %u times", i, line[i],
				     c.seen[i]);
	}
	cr_expect_eq(missing, 0, "%ld valid rows missing", missing);
	cr_expect_eq(twice, 0, "%ld rows published more than once", twice);

	/* Every invalid row refused exactly once, with its line. */
	c.maxline = line[XO_ROWS - 1];
	c.row_at_line = malloc((size_t)(c.maxline + 1) * sizeof(long));
	for (long l = 0; l <= c.maxline; l++)
		c.row_at_line[l] = -1;
	for (unsigned i = 0; i < XO_ROWS; i++)
		c.row_at_line[line[i]] = i;
	memset(c.seen, 0, XO_ROWS);
	c.wrong = 0;
	n = it_topic_read("xo.rejected", 60000, xo_rejected, &c);
	cr_expect_eq(n, nbad, "rejected holds %ld entries, want %ld", n, nbad);
	cr_expect_eq(c.wrong, 0, "%ld rejected entries name the wrong line or reason",
		     c.wrong);
	for (unsigned i = 0; i < XO_ROWS; i++) {
		char id[19], nm[32], birth[16];
		int bad;
		xo_row(i, id, nm, sizeof(nm), birth, sizeof(birth), &bad);
		if (bad)
			cr_expect_eq(c.seen[i], 1, "row %u (line %ld) refused %u times", i,
				     line[i], c.seen[i]);
	}
	free(c.seen);
	free(c.row_at_line);
	free(line);
}

/* ---- collect once ---- */

#define CO_ROWS 1000u

/* Rows 0..n-1 as CSV; row `changed` gets another address. */
static void co_csv(const char *path, unsigned n, unsigned changed)
{
	gx_buf_t b;
	gx_buf_init(&b);
	gx_buf_printf(&b, "citizen_id,name,sex,ethnicity,birth_date,division_code,"
			  "address,marital_status,education,status,updated_at\n");
	for (unsigned i = 0; i < n; i++) {
		struct row r;
		make_row(i, &r);
		gx_buf_printf(&b, "%s,%s,%s,%s,%s,%s,\"", r.id, r.name, r.sex, r.eth,
			      r.birth, r.division);
		for (const char *p = r.address; *p; p++)
			gx_buf_append(&b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
		gx_buf_printf(&b, "%s\",%s,%s,%s,%s\n", i == changed ? "（更正）" : "",
			      r.marital, r.education, r.status, r.updated);
	}
	it_write(path, b.data, b.len);
	gx_buf_free(&b);
}

/* The same rows as JSON Lines with other names for three columns, an
 * extra column, education as a number and empty values as null; then
 * `extra` new rows after them. */
static void co_jsonl(const char *path, unsigned n, unsigned changed, unsigned extra)
{
	gx_buf_t b;
	gx_buf_init(&b);
	for (unsigned i = 0; i < n + extra; i++) {
		struct row r;
		make_row(i, &r);
		json_t *o = json_object();
		json_object_set_new(o, "公民身份号码", json_string(r.id));
		json_object_set_new(o, "姓名", json_string(r.name));
		json_object_set_new(o, "sex", json_string(r.sex));
		json_object_set_new(o, "ethnicity", json_string(r.eth));
		json_object_set_new(o, "birth_date", json_string(r.birth));
		json_object_set_new(o, "division_code", json_string(r.division));
		char addr[200];
		snprintf(addr, sizeof(addr), "%s%s", r.address, i == changed ? "（更正）" : "");
		json_object_set_new(o, "住址", json_string(addr));
		json_object_set_new(o, "marital_status",
				    *r.marital ? json_string(r.marital) : json_null());
		json_object_set_new(o, "education",
				    *r.education ? json_integer(atoi(r.education)) : json_null());
		json_object_set_new(o, "status", json_string(r.status));
		json_object_set_new(o, "updated_at", json_string(r.updated));
		json_object_set_new(o, "备注", json_string("不属于人口库"));
		char *s = json_dumps(o, JSON_COMPACT);
		gx_buf_printf(&b, "%s\n", s);
		free(s);
		json_decref(o);
	}
	it_write(path, b.data, b.len);
	gx_buf_free(&b);
}

static itest_out_t co_run(const char *P, const char *flag, const char *path,
			  const char *mapping)
{
	const char *args[] = {"--provider", "SX-GA", "--item", "POP-CO", flag, path,
			      "-o", "adapter.id=SX-GA.POP-CO", mapping ? "--mapping" : NULL,
			      mapping, NULL};
	itest_out_t o = it_run(P, "govex-adapter", args);
	cr_assert_eq(o.status, 0, "adapter failed (%d): %s", o.status, o.err);
	return o;
}

static void co_expect(itest_out_t *o, long accepted, long refused, long skipped)
{
	cr_expect_eq(summary_count(o->out, "accepted"), accepted, "%s", o->out);
	cr_expect_eq(summary_count(o->out, "refused"), refused, "%s", o->out);
	cr_expect_eq(summary_count(o->out, "skipped_unchanged"), skipped, "%s", o->out);
	it_out_free(o);
}

struct co_last {
	long n;
	json_t *last;	/* per citizen ID: the last record */
};

static void co_collect(void *opaque, const rd_kafka_message_t *m)
{
	struct co_last *c = opaque;
	json_t *o = it_ingest_json(m);
	cr_assert(o);
	c->n++;
	json_object_set_new(c->last, json_string_value(json_object_get(o, "citizen_id")), o);
}

Test(adapter, unchanged_records_are_not_published_again, .timeout = 300)
{
	const char *P = "co";
	it_setup(P, it_population_catalog("POP-CO"));
	char *csv = it_path("co.csv");
	co_csv(csv, CO_ROWS, UINT32_MAX);
	itest_out_t o = co_run(P, "--csv", csv, NULL);
	co_expect(&o, CO_ROWS, 0, 0);

	/* The same file again: nothing new. */
	o = co_run(P, "--csv", csv, NULL);
	co_expect(&o, 0, 0, CO_ROWS);
	cr_expect_eq(it_topic_read("co.ingest.population", 30000, NULL, NULL), CO_ROWS);

	/* One row changed: exactly that row. */
	co_csv(csv, CO_ROWS, 500);
	o = co_run(P, "--csv", csv, NULL);
	co_expect(&o, 1, 0, CO_ROWS - 1);
	struct co_last c = {0, json_object()};
	it_topic_read("co.ingest.population", 30000, co_collect, &c);
	cr_expect_eq(c.n, CO_ROWS + 1);
	struct row r;
	make_row(500, &r);
	const char *addr = json_string_value(
	    json_object_get(json_object_get(c.last, r.id), "address"));
	cr_expect(addr && strstr(addr, "（更正）"), "row 500's new address: %s",
		  addr ? addr : "(none)");
	json_decref(c.last);

	/* The same records from JSON Lines, named through a mapping, are
	 * recognised; a new person is published; bad lines are refused. */
	char *map = it_path("co.map");
	const char *mtext = "# 人口库字段 = 源列\ncitizen_id = 公民身份号码\n"
			    "name = 姓名\n  address =  住址  \n";
	it_write(map, mtext, strlen(mtext));
	char *jl = it_path("co.jsonl");
	co_jsonl(jl, CO_ROWS, 500, 1);
	FILE *f = fopen(jl, "ab");
	cr_assert(f);
	fputs("{\"公民身份号码\": \"140105198001010011\", \"姓名\": 坏\n", f);	/* 1002 */
	fputs("\n", f);									/* 1003 */
	fputs("{\"公民身份号码\": [1, 2]}\n", f);					/* 1004 */
	fclose(f);
	o = co_run(P, "--jsonl", jl, map);
	co_expect(&o, 1, 2, CO_ROWS);
	c.n = 0;
	c.last = json_object();
	it_topic_read("co.ingest.population", 30000, co_collect, &c);
	cr_expect_eq(c.n, CO_ROWS + 2);
	json_decref(c.last);

	/* Its bad lines, in govex.rejected with line and reason. */
	const char *rej[] = {"rejected", "--json", "--max", "2", "--idle-exit", "10s", NULL};
	o = it_run(P, "govexctl", rej);
	cr_assert_eq(o.status, 0);
	json_t *rs = it_json_lines(o.out, o.len);
	it_out_free(&o);
	cr_assert_eq(json_array_size(rs), 2);
	size_t i;
	json_t *x;
	int got = 0;
	json_array_foreach(rs, i, x) {
		long ln = json_integer_value(json_object_get(x, "line"));
		const char *reason = json_string_value(json_object_get(x, "reason"));
		const char *src = json_string_value(json_object_get(x, "source"));
		const char *detail = json_string_value(json_object_get(x, "detail"));
		cr_expect(src && strstr(src, "co.jsonl:"), "source %s", src ? src : "");
		if (ln == 1002) {
			cr_expect_str_eq(reason, "malformed_json");
			cr_expect(detail && !strstr(detail, "坏"), "detail quotes the row: %s",
				  detail ? detail : "");
			got |= 1;
		} else if (ln == 1004) {
			cr_expect_str_eq(reason, "invalid_value");
			got |= 2;
		}
	}
	cr_expect_eq(got, 3, "rejections for lines 1002 and 1004");
	json_decref(rs);

	/* And once more: all of it known. */
	o = co_run(P, "--jsonl", jl, map);
	co_expect(&o, 0, 2, CO_ROWS + 1);
}
