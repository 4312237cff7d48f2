/*
 * 0003-adapter-postgres: govex-adapter follows a PostgreSQL table.
 *
 * A real PostgreSQL (Debian's, started by the test in a temporary
 * directory) holds people under their own column names (a mapping file
 * names them for the schema) with a sequence column that a trigger bumps on
 * every update. While the adapter follows the table, rows are inserted and
 * updated, some rows are "touched" without any change, one invalid row is
 * inserted, and the adapter is killed with SIGKILL once and restarted.
 * Then every row has arrived in its latest version, each version at most
 * once and in order per key (read_committed), the touched rows were not
 * published again, and the invalid row is in govex.rejected with its row
 * key. The adapter warns that the cursor column has no index, until it has
 * one.
 *
 * Then a trickle of rows, one at a time: with a 500 ms commit linger on
 * the adapter, and then on the broker, each side commits a few full
 * transactions rather than one per row, and every row still arrives.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

static it_pg_t pg;
static pid_t adapter, broker;

static void reap(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = 0;
	}
}

/* Never leave the programs or PostgreSQL behind, even after a failure. */
static void cleanup(void)
{
	reap(&adapter);
	reap(&broker);
	it_pg_stop(&pg);
}

#define PG_FIRST 2000	/* rows before the adapter starts */
#define PG_ROUNDS 8	/* rounds of changes while it runs */
#define PG_INSERT 100	/* new rows per round */
#define PG_BAD 999999	/* index of the invalid row */

/* An INSERT of rows [first, first + n). */
static char *insert_sql(unsigned first, unsigned n)
{
	gx_buf_t b;
	gx_buf_init(&b);
	gx_buf_printf(&b, "INSERT INTO people (n, sfzh, xm, sex, ethnicity, birth_date, "
			  "division_code, zz, status, updated_at) VALUES\n");
	for (unsigned i = first; i < first + n; i++) {
		struct row r;
		make_row(i, &r);
		gx_buf_printf(&b, "%s(%u, '%s', '%s', '%s', '%s', '%s', '140105', "
			      "'山西省太原市小店区%u号 v1', '%s', now())\n",
			      i > first ? "," : "", i, r.id, r.name, r.sex, r.eth, r.birth, i,
			      r.status);
	}
	gx_buf_putc(&b, ';');
	char *s = strdup(gx_buf_cstr(&b));
	gx_buf_free(&b);
	return s;
}

static pid_t start_adapter(const char *P, const char *map)
{
	static char conninfo[600];
	snprintf(conninfo, sizeof(conninfo), "source.pg.conninfo=%s", pg.conninfo);
	const char *args[] = {"--provider", "SX-GA", "--item", "POP-PG", "--mapping", map,
			      "-o", "source.type=pg", "-o", conninfo,
			      "-o", "source.pg.table=public.people",
			      "-o", "source.pg.cursor.column=seq",
			      "-o", "source.pg.poll.interval=200ms",
			      "-o", "source.pg.batch=300",
			      "-o", "adapter.batch.max=500", NULL};
	return it_spawn(P, "govex-adapter", args);
}

struct pg_seen {
	json_t *versions;	/* citizen ID -> [version, ...] in topic order */
	long n, bad;
};

static void on_record(void *opaque, const rd_kafka_message_t *m)
{
	struct pg_seen *s = opaque;
	json_t *o = it_ingest_json(m);
	if (!o) {
		s->bad++;
		return;
	}
	s->n++;
	const char *id = json_string_value(json_object_get(o, "citizen_id"));
	const char *addr = json_string_value(json_object_get(o, "address"));
	const char *v = addr ? strstr(addr, " v") : NULL;
	if (!id || !v) {
		s->bad++;
	} else {
		json_t *a = json_object_get(s->versions, id);
		if (!a)
			json_object_set_new(s->versions, id, a = json_array());
		json_array_append_new(a, json_integer(atoi(v + 2)));
	}
	json_decref(o);
}

/* Read the ingest topic; 1 if every row of want (ID -> version) has
 * arrived in that version last. */
static int caught_up(json_t *want, struct pg_seen *s)
{
	json_decref(s->versions);
	s->versions = json_object();
	s->n = s->bad = 0;
	it_topic_read("pg.ingest.population", 30000, on_record, s);
	const char *id;
	json_t *v;
	json_object_foreach(want, id, v) {
		json_t *a = json_object_get(s->versions, id);
		if (!a || json_integer_value(json_array_get(a, json_array_size(a) - 1)) !=
			      json_integer_value(v))
			return 0;
	}
	return 1;
}

Test(adapter, postgres_inserts_and_updates_arrive_once_in_order, .timeout = 300,
     .fini = cleanup)
{
	const char *P = "pg";
	it_setup(P, it_population_catalog("POP-PG"));
	it_pg_start(&pg);
	char *out = it_psql(&pg,
	    "CREATE SEQUENCE people_seq;\n"
	    "CREATE TABLE people (\n"
	    "  n int NOT NULL, sfzh text PRIMARY KEY, xm text NOT NULL, sex text,\n"
	    "  ethnicity text, birth_date date, division_code text, zz text,\n"
	    "  marital_status text, education text, status text,\n"
	    "  updated_at timestamptz NOT NULL,\n"
	    "  version int NOT NULL DEFAULT 1,\n"
	    "  seq bigint NOT NULL DEFAULT nextval('people_seq'),\n"
	    "  internal_note text);\n"
	    "CREATE FUNCTION people_bump() RETURNS trigger LANGUAGE plpgsql AS\n"
	    "  $$ BEGIN NEW.seq := nextval('people_seq'); RETURN NEW; END $$;\n"
	    "CREATE TRIGGER people_bump BEFORE UPDATE ON people\n"
	    "  FOR EACH ROW EXECUTE FUNCTION people_bump();\n");
	free(out);
	char *sql = insert_sql(0, PG_FIRST);
	free(it_psql(&pg, sql));
	free(sql);

	char *map = it_path("pg.map");
	const char *mtext = "citizen_id = sfzh\nname = xm\naddress = zz\n";
	it_write(map, mtext, strlen(mtext));
	adapter = start_adapter(P, map);

	/* First the table as it was: every row in version 1. */
	json_t *want = json_object();
	for (unsigned i = 0; i < PG_FIRST; i++) {
		struct row r;
		make_row(i, &r);
		json_object_set_new(want, r.id, json_integer(1));
	}
	struct pg_seen s = {NULL, 0, 0};
	int ok = 0;
	for (int t = 0; t < 120 && !(ok = caught_up(want, &s)); t++) {
		int st;
		cr_assert(waitpid(adapter, &st, WNOHANG) == 0, "the adapter exited");
		usleep(250000);
	}
	cr_assert(ok, "the table's first %d rows did not arrive within 30 s", PG_FIRST);
	json_decref(want);

	unsigned next = PG_FIRST;
	long unindexed = 0;
	for (unsigned r = 0; r < PG_ROUNDS; r++) {
		sql = insert_sql(next, PG_INSERT);
		free(it_psql(&pg, sql));
		free(sql);
		next += PG_INSERT;
		/* A tenth of the rows get a new version; some twice in a
		 * row, so the adapter may see only the later one. */
		char upd[600];
		snprintf(upd, sizeof(upd),
			 "UPDATE people SET version = version + 1, updated_at = now(),"
			 " zz = '山西省太原市小店区' || n || '号 v' || (version + 1)"
			 " WHERE n %% 10 = %u;\n"
			 "UPDATE people SET version = version + 1,"
			 " zz = '山西省太原市小店区' || n || '号 v' || (version + 1)"
			 " WHERE n %% 97 = %u;\n"
			 /* touched, not changed: a new seq, the same record */
			 "UPDATE people SET xm = xm WHERE n %% 50 = %u;\n",
			 r, r, 25 + r);
		free(it_psql(&pg, upd));
		if (r == 3) {
			struct row bad;
			make_row(PG_BAD, &bad);
			bad.id[17] = bad.id[17] == '0' ? '1' : '0';
			snprintf(upd, sizeof(upd),
				 "INSERT INTO people (n, sfzh, xm, zz, birth_date, sex,"
				 " ethnicity, division_code, status, updated_at) VALUES"
				 " (%u, '%s', '坏号码', 'x v1', '1980-01-01', '1', '01',"
				 " '140105', 'ALIVE', now());", PG_BAD, bad.id);
			free(it_psql(&pg, upd));
		}
		if (r == PG_ROUNDS / 2) {
			/* Killed at once after a round of changes, while it is
			 * reading them; the next instance goes on. */
			usleep(150000);
			reap(&adapter);
			/* No index starts with seq: the first instance said
			 * so; with one, the next instance says nothing. */
			unindexed = it_log_count(P, "govex-adapter",
						 "event=source_cursor_unindexed");
			cr_expect_gt(unindexed, 0, "no warning for the unindexed cursor column");
			free(it_psql(&pg, "CREATE INDEX people_seq_idx ON people (seq);"));
			adapter = start_adapter(P, map);
		}
		usleep(300000);
	}

	/* The table's last word on every valid row. */
	out = it_psql(&pg, "SELECT sfzh, version FROM people WHERE n <> 999999;");
	want = json_object();
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char *bar = strchr(line, '|');
		cr_assert(bar, "psql: %s", line);
		*bar = '\0';
		json_object_set_new(want, line, json_integer(atoi(bar + 1)));
	}
	free(out);
	cr_assert_eq(json_object_size(want), PG_FIRST + PG_ROUNDS * PG_INSERT);

	ok = 0;
	for (int t = 0; t < 60 && !(ok = caught_up(want, &s)); t++)
		usleep(500000);
	cr_assert(ok, "not every row arrived in its last version within 30 s "
		  "(%ld records read)", s.n);
	cr_expect_eq(it_stop(adapter), 0, "adapter did not stop cleanly");
	adapter = 0;

	/* Each version at most once, in order per key; nothing else. */
	cr_expect_eq(s.bad, 0);
	cr_expect_eq(json_object_size(s.versions), json_object_size(want));
	const char *id;
	json_t *a;
	long dup = 0;
	json_object_foreach(s.versions, id, a) {
		cr_expect(json_object_get(want, id), "a record for no row: %s", id);
		for (size_t i = 1; i < json_array_size(a); i++)
			if (json_integer_value(json_array_get(a, i)) <=
			    json_integer_value(json_array_get(a, i - 1)) && dup++ < 5)
				cr_log_error("%s: version %lld after %lld", id,
					     (long long)json_integer_value(json_array_get(a, i)),
					     (long long)json_integer_value(json_array_get(a, i - 1)));
	}
	cr_expect_eq(dup, 0, "%ld versions out of order or twice", dup);
	/* Rows present before the adapter started arrived from version 1. */
	for (unsigned i = 0; i < PG_FIRST; i++) {
		struct row r;
		make_row(i, &r);
		json_t *first = json_array_get(json_object_get(s.versions, r.id), 0);
		if (json_integer_value(first) != 1) {
			cr_expect_fail("row %u arrived first in version %lld", i,
				       (long long)json_integer_value(first));
			break;
		}
	}
	cr_log_info("%ld records for %zu rows", s.n, json_object_size(want));
	json_decref(s.versions);
	json_decref(want);

	cr_expect_eq(it_log_count(P, "govex-adapter", "event=source_cursor_unindexed"),
		     unindexed, "a warning although an index starts with the cursor column");
	/* Touched rows were recognised as unchanged, and counted. */
	cr_expect_gt(it_log_count(P, "govex-adapter", "event=adapter_done"), 0);
	cr_expect_eq(it_log_count(P, "govex-adapter", "skipped_unchanged=0 "), 0,
		     "touched rows were not counted as skipped unchanged");

	/* The invalid row, refused with its row key. */
	const char *rej[] = {"rejected", "--json", "--max", "1", "--idle-exit", "10s", NULL};
	itest_out_t o = it_run(P, "govexctl", rej);
	cr_assert_eq(o.status, 0);
	json_t *rs = it_json_lines(o.out, o.len);
	it_out_free(&o);
	cr_assert_eq(json_array_size(rs), 1);
	json_t *x = json_array_get(rs, 0);
	cr_expect_str_eq(json_string_value(json_object_get(x, "reason")), "invalid_value");
	const char *src = json_string_value(json_object_get(x, "source"));
	cr_expect(src && !strncmp(src, "public.people:seq=", 18), "source %s", src ? src : "");
	cr_expect(json_is_string(json_object_get(x, "row_key")));
	json_decref(rs);
}


/*
 * A trickle: rows inserted one at a time, 25 ms or more apart, into a
 * table an adapter follows, and a broker reading what it publishes. With
 * a 500 ms linger on one side, that side commits few transactions, each
 * holding many rows, not one per row; and every row still arrives and is
 * read. Returns the trickle's span in ms.
 */
#define TRICKLE 60

static double adapter_commits_seen; /* its /metrics, before it stopped */

static int64_t trickle(const char *P, const char *adapter_linger,
		       const char *const *broker_opts)
{
	it_setup(P, it_population_catalog("POP-PG"));
	it_pg_start(&pg);
	free(it_psql(&pg,
	    "CREATE TABLE people (\n"
	    "  n int NOT NULL, sfzh text PRIMARY KEY, xm text NOT NULL, sex text,\n"
	    "  ethnicity text, birth_date date, division_code text, zz text,\n"
	    "  marital_status text, education text, status text,\n"
	    "  updated_at timestamptz NOT NULL, seq bigserial NOT NULL);\n"
	    "CREATE INDEX people_seq_idx ON people (seq);\n"));
	char *map = it_path("lg.map");
	const char *mtext = "citizen_id = sfzh\nname = xm\naddress = zz\n";
	it_write(map, mtext, strlen(mtext));
	broker = it_broker_opts(P, 1, broker_opts);
	static char conninfo[600], linger[100];
	snprintf(conninfo, sizeof(conninfo), "source.pg.conninfo=%s", pg.conninfo);
	snprintf(linger, sizeof(linger), "adapter.commit.linger=%s", adapter_linger);
	const char *args[] = {"--provider", "SX-GA", "--item", "POP-PG", "--mapping", map,
			      "-o", "source.type=pg", "-o", conninfo,
			      "-o", "source.pg.table=public.people",
			      "-o", "source.pg.cursor.column=seq",
			      "-o", "source.pg.poll.interval=10ms",
			      "-o", linger, "-o", "adapter.commit.interval=3s",
			      "-o", "http.port=0", NULL};
	adapter = it_spawn(P, "govex-adapter", args);
	for (int i = 0; !it_log_count(P, "govex-adapter", "event=adapter_started") ||
			!it_log_count(P, "govex-broker", "event=partitions_assigned");
	     i++) {
		cr_assert(i < 600, "the adapter or the broker did not start");
		usleep(100000);
	}
	cr_expect_eq(it_log_count(P, "govex-adapter", "event=source_cursor_unindexed"), 0,
		     "a warning although an index starts with the cursor column");
	int64_t t0 = gx_mono_ms();
	for (unsigned i = 0; i < TRICKLE; i++) {
		char *sql = insert_sql(i, 1);
		free(it_psql(&pg, sql));
		free(sql);
		usleep(25000);
	}
	int64_t span = gx_mono_ms() - t0;
	char topic[100];
	snprintf(topic, sizeof(topic), "%s.ingest.population", P);
	long in = 0;
	for (int i = 0; i < 600 && (in = it_topic_read(topic, 30000, NULL, NULL)) < TRICKLE;
	     i++)
		usleep(100000);
	cr_assert_eq(in, TRICKLE, "%ld of %d rows published", in, TRICKLE);
	/* ... and read by the broker (no consumer asked for it: withheld). */
	int port = it_http_port(P, "govex-broker");
	cr_assert(port > 0);
	double read = 0;
	for (int i = 0; i < 300; i++) {
		int st;
		char *m = it_http_get(port, "/metrics", &st);
		read = m ? it_metric(m, "govex_records_in_total{library=\"population\"}") : 0;
		free(m);
		if (read >= TRICKLE)
			break;
		usleep(100000);
	}
	cr_assert_eq(read, TRICKLE, "the broker read %.0f of %d records", read, TRICKLE);
	/* Every row is committed (read_committed saw them all): the adapter's
	 * commit-time histogram counts each of its transactions. */
	int aport = it_http_port(P, "govex-adapter"), st;
	char *am = aport > 0 ? it_http_get(aport, "/metrics", &st) : NULL;
	adapter_commits_seen = am ? it_metric(am, "govex_adapter_txn_commit_seconds_count") : -1;
	free(am);
	cr_expect(adapter_commits_seen >= 1, "no govex_adapter_txn_commit_seconds on /metrics");
	cr_expect_eq(it_stop(adapter), 0, "adapter did not stop cleanly");
	adapter = 0;
	cr_expect_eq(it_stop(broker), 0, "broker did not stop cleanly");
	broker = 0;
	cr_expect_eq(it_log_value(P, "govex-adapter", "event=adapter_done", "accepted"),
		     TRICKLE);
	return span;
}

/* A transaction lasts at least the linger after its first row, so over
 * the trickle's span there are at most span / 500 ms of them, plus the one
 * open when it ended (without the linger: about one per row). */
Test(adapter, commit_linger_gathers_a_trickle_into_few_transactions, .timeout = 300,
     .fini = cleanup)
{
	const char *P = "lga";
	int64_t span = trickle(P, "500ms", NULL);
	long most = span / 500 + 2;
	long ac = it_log_value(P, "govex-adapter", "event=adapter_done", "txn_commits");
	cr_log_info("%d rows over %lld ms: %ld adapter transactions", TRICKLE,
		    (long long)span, ac);
	/* ... and at least two: it did not wait for its 3 s interval. */
	cr_expect(ac >= 2 && ac <= most, "the adapter committed %ld transactions for %d rows "
		  "over %lld ms (at most %ld with a 500 ms linger)", ac, TRICKLE,
		  (long long)span, most);
	cr_expect_eq(adapter_commits_seen, ac, "/metrics counted %.0f commits, the log %ld",
		     adapter_commits_seen, ac);
}

/* The broker's side: the adapter commits at once (a transaction for
 * nearly every row), the broker lingers 500 ms (under an interval of 3 s).
 * Counted are its transactions that held records (its debug line), not
 * the checkpoint-only ones; records reach it for a little longer than the
 * trickle's span, hence two lingers more. At least two: it did not wait
 * for its 3 s interval. */
Test(broker, commit_linger_gathers_a_trickle_into_few_transactions, .timeout = 300,
     .fini = cleanup)
{
	const char *P = "lgb";
	const char *bopts[] = {"broker.commit.linger=500ms", "broker.commit.interval=3s",
			       "log.level=debug", NULL};
	int64_t span = trickle(P, "0ms", bopts);
	long most = span / 500 + 4;
	long bc = it_log_count(P, "govex-broker", "event=transaction_committed") -
		  it_log_count(P, "govex-broker", "event=transaction_committed records=0 ");
	long ac = it_log_value(P, "govex-adapter", "event=adapter_done", "txn_commits");
	cr_log_info("%d rows over %lld ms: %ld adapter and %ld broker transactions "
		    "with records", TRICKLE, (long long)span, ac, bc);
	cr_expect(bc >= 2 && bc <= most, "the broker committed %ld transactions with records "
		  "for %d rows over %lld ms (at most %ld with a 500 ms linger)", bc, TRICKLE,
		  (long long)span, most);
}
