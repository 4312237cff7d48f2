/*
 * itest.h - helpers for the integration tests: they drive the real programs
 * (govexctl, govex-broker, govex-adapter) against the private Kafka that
 * tests/run-tests.sh started (GOVEX_TEST_BROKERS), each test under its own
 * topic prefix so tests never see each other's records.
 */
#ifndef ITEST_H
#define ITEST_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct itest_out {
	char *out;	/* stdout */
	size_t len;
	char *err;	/* what the program wrote to stderr in this run */
	int status;	/* exit status, or 128+signal */
} itest_out_t;

const char *it_brokers(void);
const char *it_bin(void);
const char *it_tmp(void);
/* A path under the test's temporary directory (static buffer rotation). */
char *it_path(const char *name);

/* Run BIN/prog with args (NULL-terminated), with -b and -o topic.prefix set;
 * stdout captured, stderr appended to TMP/<prefix>.<prog>.log. */
itest_out_t it_run(const char *prefix, const char *prog, const char *const *args);
void it_out_free(itest_out_t *o);
/* Run govexctl (request, approve, ...), assert success, and return the id
 * (a UUID) on the first line of its output, a new string. */
char *it_ctl_id(const char *prefix, const char *const *args);

/* Start BIN/prog in the background the same way; returns its pid. */
pid_t it_spawn(const char *prefix, const char *prog, const char *const *args);
/* SIGTERM then wait (SIGKILL after 20 s); returns the exit status. */
int it_stop(pid_t pid);

/* Write a file. */
void it_write(const char *path, const char *data, size_t len);

/* Parse JSON lines into an array (one element per non-empty line). */
json_t *it_json_lines(const char *text, size_t len);

/* Make a valid 18-character citizen ID for index i (GB 11643). */
void it_citizen_id(unsigned i, char out[19]);

/* Set up a prefix: setup topics, import the catalogue JSON text, and make
 * the prefix's sealing keys (it_seal_keys). */
void it_setup(const char *prefix, const char *catalog_json);

/*
 * Sealing keys (issue 5). Every prefix has its own exchange root and
 * keyring in it_keys_dir(prefix): root.crt/root.key, keyring.jsonl and
 * <agency>/<key id>.key|.crt. it_run and it_spawn pass seal.suite,
 * seal.root, seal.keyring (and, to govex-adapter, seal.keys.dir) for the
 * prefix to govexctl, govex-broker and govex-adapter; a test's own -o
 * settings come later and win.
 */
/* Choose the prefix's suite before it_setup (default "sm2-sm3"). */
void it_seal_suite(const char *prefix, const char *suite);
const char *it_suite(const char *prefix);
/* TMP/<prefix>.keys (static buffer rotation). */
char *it_keys_dir(const char *prefix);
/* `govexctl ca init` unless done, then a key for every provider of the
 * catalogue JSON text that has none yet. */
void it_seal_keys(const char *prefix, const char *catalog_json);
/* `govexctl keys new --agency A` unless A has a key directory already. */
void it_agency_key(const char *prefix, const char *agency);

/* GET http://127.0.0.1:port/path; the body (malloc'd) or NULL; *status
 * set to the HTTP status. */
char *it_http_get(int port, const char *path, int *status);
/* The port a program logged in event=http_listening (0 if none yet). */
int it_http_port(const char *prefix, const char *prog);
/* The value of the sample `name{labels}` in a Prometheus exposition, or -1. */
double it_metric(const char *exposition, const char *sample);

/* Start govex-broker for prefix with its own group, transactional id and
 * subject secret (made on first use). */
pid_t it_broker(const char *prefix);
/* The same for instance n of several in one group (own transactional id). */
pid_t it_broker_n(const char *prefix, int instance);
/* The same with extra settings (key=value strings, NULL-terminated), each
 * passed as -o after the usual ones. */
pid_t it_broker_opts(const char *prefix, int instance, const char *const *extra);


/* ---- reading topics (librdkafka directly, not through libgovex) ---- */

#include <librdkafka/rdkafka.h>

/*
 * Read every message of topic, all partitions from the start, with
 * isolation.level=read_committed, up to each partition's end as it was when
 * called (waiting at most timeout_ms for an open transaction to end); fn
 * (may be NULL) is called per message in partition order. Returns how many
 * messages there were.
 */
long it_topic_read(const char *topic, int timeout_ms,
		   void (*fn)(void *opaque, const rd_kafka_message_t *m),
		   void *opaque);

/*
 * Decode an ingest record (Avro single-object encoding, with
 * gx_avro_so_decode) into a JSON object of its payload fields, plus
 * "_source" (the envelope's source position) and "_key" (the Kafka key).
 * NULL if it does not decode.
 */
json_t *it_ingest_json(const rd_kafka_message_t *m);

/* How many lines of the log TMP/<prefix>.<prog>.log contain needle. */
long it_log_count(const char *prefix, const char *prog, const char *needle);
/* The integer after " key=" on the last line of that log containing
 * needle, or -1. */
long it_log_value(const char *prefix, const char *prog, const char *needle,
		  const char *key);

/* ---- a private PostgreSQL ---- */

typedef struct it_pg {
	pid_t pid;		/* the postmaster, 0 when not running */
	char dir[256];		/* data in dir/data, the socket in dir */
	int port;
	char conninfo[400];	/* for libpq: host=DIR port=PORT ... */
} it_pg_t;

/*
 * Start a PostgreSQL from Debian's packages: initdb into a new temporary
 * directory (trust authentication, user govex, UTF-8), the server on a unix
 * socket in that directory only (no TCP port). Run as root, initdb and the
 * server run as the postgres user. The server dies with the test's process.
 */
void it_pg_start(it_pg_t *pg);
/* Stop it (fast shutdown), wait for it, remove its directory; idempotent. */
void it_pg_stop(it_pg_t *pg);
/* Run SQL with psql (ON_ERROR_STOP); asserts success; returns the output
 * (tuples only, unaligned, '|' between columns), which the caller frees. */
char *it_psql(const it_pg_t *pg, const char *sql);

#endif
