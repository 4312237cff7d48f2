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

/* Set up a prefix: setup topics and import the catalogue JSON text. */
void it_setup(const char *prefix, const char *catalog_json);

/* Start govex-broker for prefix with its own group, transactional id and
 * subject secret (made on first use). */
pid_t it_broker(const char *prefix);

#endif
