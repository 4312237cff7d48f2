/*
 * govexctl.h - what govexctl's commands share (govexctl.c holds main and
 * the shared helpers; a command may live in a file of its own, ctl_*.c).
 */
#ifndef GOVEXCTL_H
#define GOVEXCTL_H

#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_conf.h"
#include "gx_kafka.h"
#include "gx_proof.h"
#include "gx_schema.h"

#define PROG "govexctl"
/* The actor that grants unconditional fields on the exchange's behalf. */
#define EXCHANGE_ACTOR "govex"

struct ctl_conf {
	char *brokers;
	char *prefix;
	char *log_level;
	int64_t timeout_ms;
	gx_seal_conf_t seal;	/* seal.* (gx_proof.h) */
};

/* What every command shares: the configuration and where it comes from. */
struct ctl {
	gx_conf_t conf;
	struct ctl_conf cc;
	const char *conf_file;
	const char *brokers;	/* -b, applied last */
	gx_strv_t overrides;	/* -o key=value, in order */
	const char *cmd;	/* for messages: "catalog import" */
};

struct table {
	size_t ncols;
	gx_strv_t cells; /* row-major, the header first */
};

#define COMMON_SHORT "+:c:b:o:h"
#define COMMON_LONG                                                          \
	{"config", required_argument, NULL, 'c'},                            \
	    {"brokers", required_argument, NULL, 'b'},                       \
	    {"set", required_argument, NULL, 'o'},                           \
	    {"help", no_argument, NULL, 'h'}

/* Print "govexctl CMD: message" and return the usage exit status (2). */
int fail_usage(struct ctl *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Print "govexctl: message" and return the runtime exit status (3). */
int fail_runtime(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int opt_int(struct ctl *x, const char *opt, const char *s, long min,
		   long max, long *out);
int opt_duration(struct ctl *x, const char *opt, const char *s,
			int64_t *ms);
int opt_time(struct ctl *x, const char *opt, const char *s, int64_t *ms);
int topic_opt(struct ctl *x, int c, long *partitions, long *replication);
void fmt_ms(int64_t ms, char *out, size_t n);
json_t *json_time(int64_t ms);
json_t *json_strv(const gx_strv_t *sv);
void print_json_line(json_t *j);
void table_init(struct table *t, size_t ncols, const char *const *hdr);
void table_cell(struct table *t, const char *s);
void table_print(struct table *t, FILE *out);
void table_free(struct table *t);
int ctl_configure(struct ctl *x);
int common_opt(struct ctl *x, int c, char **argv);
void getopt_reset(void);
const char *take_operand(int *argc, char ***argv);
int new_producer(struct ctl *x, const char *const *extra,
			rd_kafka_t **out);
int need_topic(struct ctl *x, rd_kafka_t *rk, const char *topic);
int flush_all(struct ctl *x, rd_kafka_t *rk, const char *what);
int on_catalog(void *opaque, const rd_kafka_message_t *m);
int on_approval(void *opaque, const rd_kafka_message_t *m);
int load_state(struct ctl *x, const char *kind, gx_state_cb cb,
		      void *opaque);
int load_schemas(gx_schemas_t **out);
int write_events(struct ctl *x, const char *key, json_t *const *events,
			size_t n, const char *deliver_topic, long partitions,
			long replication);
const char *req_state_name(gx_req_state_t s);
const char *grant_status(const gx_grant_t *g, int64_t now);
int txn_fail(rd_kafka_t *rk, const char *step, rd_kafka_error_t *e,
		    int timeout_ms);
/* Commit the open transaction, retrying what Kafka says may be retried
 * within timeout_ms; GX_EXIT_OK, or txn_fail's status. */
int txn_commit(rd_kafka_t *rk, int timeout_ms);

/* Commands in files of their own. */
int cmd_replay(struct ctl *x, int argc, char **argv);	/* ctl_audit.c */
int cmd_why(struct ctl *x, int argc, char **argv);
int cmd_subject(struct ctl *x, int argc, char **argv);
int cmd_what_if(struct ctl *x, int argc, char **argv);
int cmd_report(struct ctl *x, int argc, char **argv);	/* ctl_report.c */
int cmd_sample(struct ctl *x, int argc, char **argv);	/* ctl_sample.c */
int cmd_status(struct ctl *x, int argc, char **argv);	/* ctl_status.c */
int cmd_top(struct ctl *x, int argc, char **argv);
int cmd_ca(struct ctl *x, int argc, char **argv);	/* ctl_seal.c */
int cmd_keys(struct ctl *x, int argc, char **argv);
int cmd_verify(struct ctl *x, int argc, char **argv);
int cmd_reseal(struct ctl *x, int argc, char **argv);
int cmd_agency(struct ctl *x, int argc, char **argv);	/* ctl_acl.c */
int cmd_acl(struct ctl *x, int argc, char **argv);

#endif /* GOVEXCTL_H */
