/*
 * gxbench - the helpers of the macro benchmark (bench/macro/run.sh, issue
 * 10): what a shell script cannot do against Kafka by itself. Every
 * subcommand prints one JSON object on stdout (figures only, never a
 * verdict) and exits 0, or 3 when the harness itself failed.
 *
 *   gxbench run OUT.json -- PROG ARGS...
 *       run a program; write its wall time, exit status and peak RSS
 *       (wait4's ru_maxrss) to OUT.json; exit with its status
 *   gxbench topic -b BS -t TOPIC -p PARTITIONS
 *       create a topic (an existing one is fine)
 *   gxbench copy -b BS -t TOPIC -n RECORDS -k OUTPUTS -o OUT_PREFIX -g GROUP
 *       the baseline: a plain librdkafka consume-and-produce copy of each
 *       record of TOPIC to OUTPUTS topics OUT_PREFIX.0 .. OUT_PREFIX.k-1,
 *       with no decoding, no policy and no transactions, but the producer
 *       settings govex-broker uses (acks=all, linger.ms=5, lz4)
 *   gxbench drain -b BS -t TOPIC -g GROUP -n RECORDS [--pid PID] [-T SECONDS]
 *       wait until GROUP's committed offsets reach the end of TOPIC; the
 *       rate counts only what was committed after the first commit seen,
 *       so start-up (state loading, group join) is not in it; with --pid
 *       the process' peak RSS (VmHWM) and CPU time are reported too
 *   gxbench grants -b BS --prefix P --items N --consumers C --item-prefix X
 *       write N*C request+approve events (one live grant per item and
 *       consumer) straight to P.approvals and create the C delivery topics
 *   gxbench keys DIR SUITE AGENCY
 *       until `govexctl ca init` and `keys new` exist: the same files with
 *       libgovex's gx_ca_init and gx_agency_key_new - DIR/root.crt and
 *       DIR/root.key, DIR/AGENCY/<key id>.key|.crt, DIR/keyring.jsonl
 *   gxbench latency -b BS --pg CONNINFO --table T --rate R --seconds S
 *                   --warmup W --drain D [--samples FILE] -t DELIVERY_TOPIC
 *       insert generated population rows into a PostgreSQL table at a
 *       steady R rows/s (a govex-adapter follows the table), read
 *       DELIVERY_TOPIC with isolation.level=read_committed, and report
 *       collected_at -> visible (p50, p99, max) for rows inserted after
 *       the warm-up, and the p50/p99 of its two parts: collected_at ->
 *       the broker's released_at (adapter, its commit, the broker's
 *       fetch) and released_at -> visible (the broker's commit, the fetch);
 *       rows not visible D s after the last insert count as slower than
 *       any seen. --samples: every measured row, one line each (visible
 *       at in wall ms, to the decision, to visible).
 */
#include <avro.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_avro.h"
#include "gx_kafka.h"
#include "gx_pki.h"
#include "gx_sample.h"
#include "gx_schema.h"

#define EXIT_HARNESS 3

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double wall_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("gxbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_HARNESS);
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6));
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(j);
}

/* A librdkafka configuration from NULL-terminated key/value pairs. */
static rd_kafka_conf_t *kconf(const char *brokers, const char *const *kv)
{
	char err[512];
	rd_kafka_conf_t *c = rd_kafka_conf_new();
	if (rd_kafka_conf_set(c, "bootstrap.servers", brokers, err, sizeof(err)) ||
	    rd_kafka_conf_set(c, "log_level", "3", err, sizeof(err)))
		die("%s", err);
	for (; kv && kv[0]; kv += 2)
		if (rd_kafka_conf_set(c, kv[0], kv[1], err, sizeof(err)))
			die("%s=%s: %s", kv[0], kv[1], err);
	return c;
}

static rd_kafka_t *knew(rd_kafka_type_t type, const char *brokers,
			const char *const *kv)
{
	char err[512];
	rd_kafka_conf_t *c = kconf(brokers, kv);
	rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));
	if (!rk)
		die("rd_kafka_new: %s", err);
	return rk;
}

/* Every partition of topic, at offset `at`. */
static rd_kafka_topic_partition_list_t *all_partitions(rd_kafka_t *rk,
						       const char *topic,
						       int64_t at)
{
	int n = 0;
	char err[512];
	if (gx_kafka_partitions(rk, topic, 15000, &n, err, sizeof(err)))
		die("%s: %s", topic, err);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
	for (int p = 0; p < n; p++)
		rd_kafka_topic_partition_list_add(l, topic, p)->offset = at;
	return l;
}

/* ---- run ---- */

static int cmd_run(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[3], "--"))
		die("usage: gxbench run OUT.json -- PROG ARGS...");
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(argv[4], argv + 4);
		fprintf(stderr, "gxbench: %s: %s\n", argv[4], strerror(errno));
		_exit(127);
	}
	int st;
	struct rusage ru;
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	double secs = now_s() - t0;
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	json_t *j = json_pack("{s:f,s:i,s:I,s:f}", "seconds", secs, "exit", code,
			      "maxrss_kb", (json_int_t)ru.ru_maxrss, "cpu_seconds",
			      ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
				  ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	if (json_dump_file(j, argv[2], JSON_COMPACT))
		die("cannot write %s", argv[2]);
	json_decref(j);
	return code;
}

/* ---- keys: the seal keys, as govexctl ca init / keys new make them ---- */

static int cmd_keys(int argc, char **argv)
{
	char err[512], kid[GX_KEY_ID_LEN + 1];
	if (argc != 5)
		die("usage: gxbench keys DIR SUITE AGENCY");
	const char *dir = argv[2], *agency = argv[4];
	gx_suite_t *suite;
	if (gx_suite_new(argv[3], NULL, &suite, err, sizeof(err)))
		die("suite %s: %s", argv[3], err);
	char *rk = gx_asprintf("%s/root.key", dir), *rc = gx_asprintf("%s/root.crt", dir);
	char *adir = gx_asprintf("%s/%s", dir, agency);
	char *tk = gx_asprintf("%s/new.key", adir), *tc = gx_asprintf("%s/new.crt", adir);
	if (mkdir(adir, 0700) && errno != EEXIST)
		die("%s: %s", adir, strerror(errno));
	if (gx_ca_init(suite, rk, rc, "govex benchmark root", 30, err, sizeof(err)))
		die("ca init: %s", err);
	if (gx_agency_key_new(suite, rk, rc, agency, 30, tk, tc, kid, err, sizeof(err)))
		die("agency key: %s", err);
	char *fk = gx_asprintf("%s/%s.key", adir, kid), *fc = gx_asprintf("%s/%s.crt", adir, kid);
	if (rename(tk, fk) || rename(tc, fc))
		die("rename: %s", strerror(errno));
	char *kr = gx_asprintf("%s/keyring.jsonl", dir);
	FILE *f = fopen(kr, "w");
	if (!f)
		die("%s: %s", kr, strerror(errno));
	/* valid from a minute ago: the clock of the benchmark's own machine */
	fprintf(f, "{\"agency\":\"%s\",\"key_id\":\"%s\",\"valid_from\":%lld,"
		   "\"cert\":\"%s/%s.crt\"}\n",
		agency, kid, (long long)(gx_now_ms() - 60000), agency, kid);
	if (fclose(f))
		die("%s: %s", kr, strerror(errno));
	print_json(json_pack("{s:s,s:s,s:s}", "suite", argv[3], "agency", agency,
			     "key_id", kid));
	free(rk); free(rc); free(adir); free(tk); free(tc); free(fk); free(fc); free(kr);
	gx_suite_destroy(suite);
	return 0;
}

/* ---- common options ---- */

struct opts {
	const char *brokers, *topic, *group, *out_prefix, *prefix, *item_prefix,
	    *pg, *table, *samples;
	long records, outputs, partitions, items, consumers, rate;
	double seconds, warmup, timeout, drain;
	pid_t pid;
};

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"brokers", 1, NULL, 'b'},    {"topic", 1, NULL, 't'},
	    {"group", 1, NULL, 'g'},      {"records", 1, NULL, 'n'},
	    {"outputs", 1, NULL, 'k'},    {"out-prefix", 1, NULL, 'o'},
	    {"partitions", 1, NULL, 'p'}, {"timeout", 1, NULL, 'T'},
	    {"pid", 1, NULL, 'P'},        {"prefix", 1, NULL, 'x'},
	    {"items", 1, NULL, 'i'},      {"consumers", 1, NULL, 'c'},
	    {"item-prefix", 1, NULL, 'I'}, {"pg", 1, NULL, 'G'},
	    {"table", 1, NULL, 'L'},      {"rate", 1, NULL, 'r'},
	    {"seconds", 1, NULL, 's'},    {"warmup", 1, NULL, 'w'},
	    {"drain", 1, NULL, 'D'},     {"samples", 1, NULL, 'S'},
	    {NULL, 0, NULL, 0}};
	memset(o, 0, sizeof(*o));
	o->outputs = 1;
	o->partitions = 1;
	o->timeout = 3600;
	o->rate = 5000;
	o->seconds = 30;
	o->warmup = 3;
	o->drain = 15;
	optind = 2;
	int c;
	while ((c = getopt_long(argc, argv, "b:t:g:n:k:o:p:T:", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o->brokers = optarg; break;
		case 't': o->topic = optarg; break;
		case 'g': o->group = optarg; break;
		case 'n': o->records = atol(optarg); break;
		case 'k': o->outputs = atol(optarg); break;
		case 'o': o->out_prefix = optarg; break;
		case 'p': o->partitions = atol(optarg); break;
		case 'T': o->timeout = atof(optarg); break;
		case 'P': o->pid = (pid_t)atol(optarg); break;
		case 'x': o->prefix = optarg; break;
		case 'i': o->items = atol(optarg); break;
		case 'c': o->consumers = atol(optarg); break;
		case 'I': o->item_prefix = optarg; break;
		case 'G': o->pg = optarg; break;
		case 'L': o->table = optarg; break;
		case 'r': o->rate = atol(optarg); break;
		case 's': o->seconds = atof(optarg); break;
		case 'w': o->warmup = atof(optarg); break;
		case 'D': o->drain = atof(optarg); break;
		case 'S': o->samples = optarg; break;
		default: die("%s: bad option", argv[1]);
		}
	}
	if (!o->brokers)
		die("%s: -b BROKERS is required", argv[1]);
}

/* ---- topic ---- */

static int cmd_topic(struct opts *o)
{
	char err[512];
	if (!o->topic)
		die("topic: -t TOPIC is required");
	rd_kafka_t *rk = knew(RD_KAFKA_PRODUCER, o->brokers, NULL);
	gx_topic_spec_t spec = {o->topic, (int)o->partitions, 1, NULL};
	int created = 0;
	if (gx_kafka_create_topics(rk, &spec, 1, 30000, &created, err, sizeof(err)))
		die("create %s: %s", o->topic, err);
	rd_kafka_destroy(rk);
	print_json(json_pack("{s:s,s:i,s:b}", "topic", o->topic, "partitions",
			     (int)o->partitions, "created", created));
	return 0;
}

/* ---- copy: the baseline ---- */

static long copy_failed;

static void copy_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	if (m->err)
		copy_failed++;
}

static int cmd_copy(struct opts *o)
{
	if (!o->topic || !o->out_prefix || !o->group || o->records <= 0 ||
	    o->outputs < 1)
		die("copy: -t, -o, -g, -n and -k are required");
	const char *ckv[] = {"group.id", o->group, "auto.offset.reset", "earliest",
			     "enable.auto.commit", "true",
			     "isolation.level", "read_committed", NULL};
	rd_kafka_t *cons = knew(RD_KAFKA_CONSUMER, o->brokers, ckv);
	rd_kafka_conf_t *pc = kconf(o->brokers, (const char *const[]){
	    "acks", "all", "linger.ms", "5", "compression.type", "lz4",
	    "queue.buffering.max.messages", "1000000", NULL});
	rd_kafka_conf_set_dr_msg_cb(pc, copy_dr);
	char err[512];
	rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, sizeof(err));
	if (!prod)
		die("producer: %s", err);
	rd_kafka_topic_t **outs = gx_calloc((size_t)o->outputs, sizeof(*outs));
	for (long k = 0; k < o->outputs; k++) {
		char name[512];
		snprintf(name, sizeof(name), "%s.%ld", o->out_prefix, k);
		outs[k] = rd_kafka_topic_new(prod, name, NULL);
	}
	rd_kafka_poll_set_consumer(cons);
	rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, o->topic, RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(cons, sub))
		die("subscribe failed");
	rd_kafka_topic_partition_list_destroy(sub);

	long n = 0;
	double t0 = 0, start = now_s();
	while (n < o->records) {
		if (now_s() - start > o->timeout)
			die("copy: only %ld of %ld records in %.0f s", n, o->records,
			    o->timeout);
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 100);
		rd_kafka_poll(prod, 0);
		if (!m)
			continue;
		if (m->err) {
			rd_kafka_message_destroy(m);
			continue;
		}
		if (!n)
			t0 = now_s();
		for (long k = 0; k < o->outputs; k++) {
			while (rd_kafka_produce(outs[k], RD_KAFKA_PARTITION_UA,
						RD_KAFKA_MSG_F_COPY, m->payload, m->len,
						m->key, m->key_len, NULL) == -1) {
				if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
					die("produce: %s",
					    rd_kafka_err2str(rd_kafka_last_error()));
				rd_kafka_poll(prod, 10);
			}
		}
		n++;
		rd_kafka_message_destroy(m);
	}
	if (rd_kafka_flush(prod, 120000))
		die("copy: flush timed out");
	double secs = now_s() - t0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	rd_kafka_commit(cons, NULL, 0);
	for (long k = 0; k < o->outputs; k++)
		rd_kafka_topic_destroy(outs[k]);
	free(outs);
	rd_kafka_destroy(prod);
	rd_kafka_consumer_close(cons);
	rd_kafka_destroy(cons);
	if (copy_failed)
		die("copy: %ld deliveries failed", copy_failed);
	print_json(json_pack(
	    "{s:I,s:i,s:f,s:f,s:I,s:f}", "records", (json_int_t)n, "outputs",
	    (int)o->outputs, "seconds", secs, "rate", n / secs, "maxrss_kb",
	    (json_int_t)ru.ru_maxrss, "cpu_seconds",
	    ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		ru.ru_stime.tv_usec / 1e6));
	return 0;
}

/* ---- drain: how fast a consumer group gets through a topic ---- */

/* VmHWM / VmRSS of pid in kB, -1 if unknown. */
static long proc_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long v = -1;
	size_t fl = strlen(field);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, fl) && line[fl] == ':')
			v = atol(line + fl + 1);
	fclose(f);
	return v;
}

/* utime + stime of pid in seconds, -1 if unknown. */
static double proc_cpu(pid_t pid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	unsigned long ut = 0, st = 0;
	/* fields after the name: state(3) ... utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static int64_t sum_committed(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l,
			     const int64_t *end, int *done)
{
	for (int i = 0; i < l->cnt; i++)
		l->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
	if (rd_kafka_committed(rk, l, 10000))
		return -1;
	int64_t s = 0;
	*done = 1;
	for (int i = 0; i < l->cnt; i++) {
		int64_t off = l->elems[i].offset < 0 ? 0 : l->elems[i].offset;
		s += off;
		if (off < end[i])
			*done = 0;
	}
	return s;
}

static int cmd_drain(struct opts *o)
{
	if (!o->topic || !o->group || o->records <= 0)
		die("drain: -t, -g and -n are required");
	/* A consumer that never subscribes: it only asks the group
	 * coordinator for the group's committed offsets. */
	rd_kafka_t *rk = knew(RD_KAFKA_CONSUMER, o->brokers,
			      (const char *const[]){"group.id", o->group,
						    "enable.auto.commit", "false",
						    NULL});
	rd_kafka_topic_partition_list_t *l = all_partitions(rk, o->topic, 0);
	int64_t *end = gx_calloc((size_t)l->cnt, sizeof(int64_t));
	int64_t endsum = 0;
	for (int i = 0; i < l->cnt; i++) {
		int64_t lo, hi;
		if (rd_kafka_query_watermark_offsets(rk, o->topic, l->elems[i].partition,
						     &lo, &hi, 10000))
			die("watermarks of %s", o->topic);
		end[i] = hi;
		endsum += hi;
	}
	double start = now_s(), t0 = 0, t1 = 0, cpu0 = -1, cpu1 = -1;
	int64_t c0 = -1, last = -1;
	long rss_max = -1;
	int done = 0;
	while (!done) {
		if (now_s() - start > o->timeout)
			die("drain: group %s committed %lld of %lld offsets in %.0f s",
			    o->group, (long long)last, (long long)endsum, o->timeout);
		int64_t s = sum_committed(rk, l, end, &done);
		double t = now_s();
		if (o->pid) {
			long r = proc_kb(o->pid, "VmRSS");
			if (r > rss_max)
				rss_max = r;
			if (kill(o->pid, 0))
				die("drain: process %d is gone", (int)o->pid);
		}
		if (s >= 0) {
			if (c0 < 0)
				c0 = s; /* what was committed before we looked */
			else if (!t0 && s > c0) {
				/* The first commit seen: count from here. */
				t0 = t;
				c0 = s;
				cpu0 = o->pid ? proc_cpu(o->pid) : -1;
			}
			last = s;
		}
		if (done) {
			t1 = t;
			cpu1 = o->pid ? proc_cpu(o->pid) : -1;
			break;
		}
		usleep(50000);
	}
	double secs = t1 - t0;
	/* Offsets count the transactions' commit markers too; scale to
	 * records. */
	double frac = endsum > 0 && t0 ? (double)(endsum - c0) / endsum : 1;
	double recs = o->records * frac;
	json_t *j = json_pack("{s:I,s:f,s:f,s:f,s:I}", "records", (json_int_t)o->records,
			      "counted_records", recs, "seconds", secs, "rate",
			      t0 && secs > 0 ? recs / secs : 0.0, "end_offsets",
			      (json_int_t)endsum);
	if (o->pid) {
		json_object_set_new(j, "peak_rss_kb", json_integer(proc_kb(o->pid, "VmHWM")));
		json_object_set_new(j, "rss_max_sampled_kb", json_integer(rss_max));
		if (cpu0 >= 0 && cpu1 >= 0)
			json_object_set_new(j, "cpu_seconds", json_real(cpu1 - cpu0));
	}
	print_json(j);
	free(end);
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_destroy(rk);
	return 0;
}

/* ---- grants: many live grants, written straight to the approvals topic ---- */

static int cmd_grants(struct opts *o)
{
	char err[512];
	if (!o->prefix || !o->item_prefix || o->items < 1 || o->consumers < 1)
		die("grants: --prefix, --item-prefix, --items, --consumers are required");
	rd_kafka_t *rk = knew(RD_KAFKA_PRODUCER, o->brokers,
			      (const char *const[]){"linger.ms", "20",
						    "queue.buffering.max.messages",
						    "1000000", NULL});
	char *topic = gx_topic(o->prefix, "approvals");
	/* The delivery topics first, as govexctl request/approve would. */
	gx_topic_spec_t *specs = gx_calloc((size_t)o->consumers, sizeof(*specs));
	char **names = gx_calloc((size_t)o->consumers, sizeof(char *));
	for (long c = 0; c < o->consumers; c++) {
		char cons[32];
		snprintf(cons, sizeof(cons), "BENCH-C%05ld", c);
		names[c] = gx_topic_deliver(o->prefix, cons, "population");
		specs[c] = (gx_topic_spec_t){names[c], 1, 1, NULL};
	}
	int created = 0;
	if (gx_kafka_create_topics(rk, specs, (size_t)o->consumers, 120000, &created,
				   err, sizeof(err)))
		die("delivery topics: %s", err);
	gx_strv_t fields;
	gx_strv_init(&fields);
	gx_strv_push(&fields, "name");
	gx_strv_push(&fields, "sex");
	gx_strv_push(&fields, "birth_date");
	int64_t now = gx_now_ms();
	long n = 0;
	for (long i = 0; i < o->items; i++) {
		char item[64];
		snprintf(item, sizeof(item), "%s%05ld", o->item_prefix, i);
		for (long c = 0; c < o->consumers; c++) {
			char cons[32], rid[37], gid[37];
			snprintf(cons, sizeof(cons), "BENCH-C%05ld", c);
			gx_uuid(rid);
			gx_uuid(gid);
			json_t *ev[2] = {
			    gx_event_request(rid, cons, item, &fields, "benchmark",
					     "benchmark", 0, now),
			    gx_event_approve(rid, gid, &fields, 0, 1, "govex", now)};
			for (int e = 0; e < 2; e++) {
				char *v = json_dumps(ev[e], JSON_COMPACT);
				json_decref(ev[e]);
				if (gx_kafka_produce(rk, topic, rid, strlen(rid), v, strlen(v)))
					die("produce to %s failed", topic);
				free(v);
			}
			n++;
		}
	}
	if (rd_kafka_flush(rk, 120000))
		die("grants: flush timed out");
	gx_strv_free(&fields);
	for (long c = 0; c < o->consumers; c++)
		free(names[c]);
	free(names);
	free(specs);
	free(topic);
	rd_kafka_destroy(rk);
	print_json(json_pack("{s:I,s:I,s:I,s:i}", "grants", (json_int_t)n, "items",
			     (json_int_t)o->items, "consumers", (json_int_t)o->consumers,
			     "topics_created", created));
	return 0;
}

/* ---- latency: steady rows into PostgreSQL, timed to the consumer ---- */

struct lat {
	struct opts *o;
	const gx_library_t *lib;
	volatile int inserting;	/* 0 before, 1 during, 2 after */
	volatile long inserted;	/* after the warm-up */
	volatile double warm_until_ms; /* wall clock: rows collected before are warm-up */
	volatile double done_at;	/* monotonic: when the last row went in */
	char err[512];
};

static void *inserter(void *arg)
{
	struct lat *L = arg;
	struct opts *o = L->o;
	PGconn *pg = PQconnectdb(o->pg);
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(L->err, sizeof(L->err), "postgres: %s", PQerrorMessage(pg));
		L->inserting = 2;
		return NULL;
	}
	gx_sample_t *s;
	uint64_t total = (uint64_t)(o->rate * (o->seconds + o->warmup)) + 1000;
	if (gx_sample_new(L->lib, 20261126, total, 0, &s, L->err, sizeof(L->err))) {
		L->inserting = 2;
		PQfinish(pg);
		return NULL;
	}
	gx_buf_t sql;
	gx_buf_init(&sql);
	const double tick = 0.01; /* one INSERT every 10 ms */
	double t0 = now_s();
	L->warm_until_ms = wall_ms() + o->warmup * 1000;
	long sent = 0;
	L->inserting = 1;
	for (long k = 1;; k++) {
		double due = t0 + k * tick;
		if (due - t0 > o->warmup + o->seconds)
			break;
		double w = due - now_s();
		if (w > 0)
			usleep((useconds_t)(w * 1e6));
		long want = (long)((now_s() - t0) * o->rate) - sent;
		if (want <= 0)
			continue;
		gx_buf_reset(&sql);
		gx_buf_printf(&sql, "INSERT INTO %s (", o->table);
		for (size_t f = 0; f < L->lib->nfields; f++)
			gx_buf_printf(&sql, "%s%s", f ? "," : "", L->lib->fields[f].name);
		gx_buf_printf(&sql, ") VALUES ");
		for (long r = 0; r < want; r++) {
			gx_sample_row_t row;
			if (gx_sample_next(s, &row, L->err, sizeof(L->err)))
				goto out;
			gx_buf_printf(&sql, "%s(", r ? "," : "");
			for (size_t f = 0; f < row.nvalues; f++) {
				if (!row.values[f]) {
					gx_buf_printf(&sql, "%sNULL", f ? "," : "");
					continue;
				}
				char *lit = PQescapeLiteral(pg, row.values[f],
							    strlen(row.values[f]));
				gx_buf_printf(&sql, "%s%s", f ? "," : "", lit);
				PQfreemem(lit);
			}
			gx_buf_putc(&sql, ')');
		}
		PGresult *res = PQexec(pg, gx_buf_cstr(&sql));
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			snprintf(L->err, sizeof(L->err), "insert: %s", PQerrorMessage(pg));
			PQclear(res);
			goto out;
		}
		PQclear(res);
		sent += want;
		if (wall_ms() >= L->warm_until_ms)
			L->inserted += want;
	}
out:
	gx_buf_free(&sql);
	gx_sample_destroy(s);
	PQfinish(pg);
	L->done_at = now_s();
	L->inserting = 2;
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int cmd_latency(struct opts *o)
{
	char err[512];
	if (!o->pg || !o->table || !o->topic)
		die("latency: --pg, --table and -t are required");
	gx_schemas_t *schemas;
	if (gx_schemas_new(&schemas, err, sizeof(err)))
		die("schemas: %s", err);
	struct lat L;
	memset(&L, 0, sizeof(L));
	L.o = o;
	L.lib = gx_schemas_library(schemas, "population");
	avro_value_t dv;
	avro_generic_value_new(L.lib->delivery_iface, &dv);

	rd_kafka_t *cons = knew(RD_KAFKA_CONSUMER, o->brokers,
				(const char *const[]){"group.id", "gxbench-latency",
						      "enable.auto.commit", "false",
						      "isolation.level", "read_committed",
						      "fetch.wait.max.ms", "10",
						      "fetch.error.backoff.ms", "10",
						      NULL});
	rd_kafka_topic_partition_list_t *l =
	    all_partitions(cons, o->topic, RD_KAFKA_OFFSET_END);
	if (rd_kafka_assign(cons, l))
		die("assign %s", o->topic);
	rd_kafka_topic_partition_list_destroy(l);
	/* Let the assignment settle so the end offsets are fixed before the
	 * first row goes in. */
	for (int i = 0; i < 20; i++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 100);
		if (m)
			rd_kafka_message_destroy(m);
	}

	pthread_t th;
	if (pthread_create(&th, NULL, inserter, &L))
		die("pthread_create");
	size_t cap = (size_t)(o->rate * (o->seconds + 10)), n = 0;
	double *lat = gx_malloc(cap * sizeof(double));
	double *part[2] = {gx_malloc(cap * sizeof(double)), gx_malloc(cap * sizeof(double))};
	double *seen_at = gx_malloc(cap * sizeof(double));
	long seen = 0, bad = 0;
	double idle_since = 0;
	for (;;) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(cons, 20);
		double t = wall_ms();
		if (!m || m->err) {
			if (m)
				rd_kafka_message_destroy(m);
			if (L.inserting == 2) {
				if ((long)n >= L.inserted)
					break;
				if (!idle_since)
					idle_since = now_s();
				if (now_s() - idle_since > 20)
					break; /* what never came is reported as lost */
			}
			if (L.inserting == 2 && now_s() - L.done_at > o->drain)
				break; /* not visible in time: counted as slower */
			continue;
		}
		if (L.inserting == 2 && now_s() - L.done_at > o->drain) {
			rd_kafka_message_destroy(m);
			break;
		}
		idle_since = 0;
		seen++;
		avro_value_reset(&dv);
		avro_value_t prov, ca, ra;
		int64_t collected, released;
		if (gx_avro_so_decode(m->payload, m->len, &dv, err, sizeof(err)) ||
		    avro_value_get_by_name(&dv, "provenance", &prov, NULL) ||
		    avro_value_get_by_name(&prov, "collected_at", &ca, NULL) ||
		    avro_value_get_long(&ca, &collected) ||
		    avro_value_get_by_name(&prov, "released_at", &ra, NULL) ||
		    avro_value_get_long(&ra, &released)) {
			bad++;
		} else if ((double)collected >= L.warm_until_ms && n < cap) {
			/* and its two halves: to the broker's decision
			 * (adapter, its commit, the broker's fetch), then
			 * to visible (the broker's commit, our fetch) */
			part[0][n] = (double)(released - collected);
			part[1][n] = t - (double)released;
			seen_at[n] = t;
			lat[n++] = t - (double)collected;
		}
		rd_kafka_message_destroy(m);
	}
	pthread_join(th, NULL);
	if (L.err[0])
		die("latency: %s", L.err);
	if (o->samples) {
		/* Every measured row in arrival order, for a look at the
		 * tail: visible (wall ms), to the decision, to visible. */
		FILE *f = fopen(o->samples, "w");
		if (!f)
			die("%s: %s", o->samples, strerror(errno));
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%.1f %.1f %.1f\n", seen_at[i], part[0][i],
				part[1][i]);
		if (ferror(f) | fclose(f))
			die("%s: cannot write", o->samples);
	}
	qsort(lat, n, sizeof(double), cmp_double);
	/* Percentiles over every row inserted after the warm-up: a row not
	 * visible by the end is slower than anything seen (reported as null
	 * with "unseen" > 0 when a percentile falls among them). */
	long total = L.inserted > (long)n ? L.inserted : (long)n;
	json_t *j = json_pack("{s:I,s:f,s:I,s:I,s:I,s:I,s:f}", "rate", (json_int_t)o->rate,
			      "seconds", o->seconds, "inserted", (json_int_t)L.inserted,
			      "measured", (json_int_t)n, "unseen",
			      (json_int_t)(total - (long)n), "undecodable", (json_int_t)bad,
			      "drain_seconds", o->drain);
	const struct { const char *k; double q; } pc[] = {
	    {"p50_ms", 0.5}, {"p99_ms", 0.99}, {"max_ms", 1.0}};
	for (size_t i = 0; i < 3 && total > 0; i++) {
		size_t at = (size_t)(pc[i].q * (double)(total - 1));
		json_object_set_new(j, pc[i].k, at < n ? json_real(lat[at]) : json_null());
	}
	if (n)
		json_object_set_new(j, "max_seen_ms", json_real(lat[n - 1]));
	const char *pname[2] = {"to_decision", "decision_to_visible"};
	for (int k = 0; k < 2 && n; k++) {
		qsort(part[k], n, sizeof(double), cmp_double);
		char key[64];
		snprintf(key, sizeof(key), "%s_p50_ms", pname[k]);
		json_object_set_new(j, key, json_real(part[k][n / 2]));
		snprintf(key, sizeof(key), "%s_p99_ms", pname[k]);
		json_object_set_new(j, key, json_real(part[k][(size_t)(0.99 * (double)(n - 1))]));
	}
	free(part[0]);
	free(part[1]);
	free(seen_at);
	print_json(j);
	free(lat);
	avro_value_decref(&dv);
	rd_kafka_consumer_close(cons);
	rd_kafka_destroy(cons);
	gx_schemas_destroy(schemas);
	(void)seen;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: gxbench run|topic|copy|drain|grants|latency ...");
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	if (!strcmp(argv[1], "keys"))
		return cmd_keys(argc, argv);
	struct opts o;
	parse(argc, argv, &o);
	if (!strcmp(argv[1], "topic"))
		return cmd_topic(&o);
	if (!strcmp(argv[1], "copy"))
		return cmd_copy(&o);
	if (!strcmp(argv[1], "drain"))
		return cmd_drain(&o);
	if (!strcmp(argv[1], "grants"))
		return cmd_grants(&o);
	if (!strcmp(argv[1], "latency"))
		return cmd_latency(&o);
	die("unknown subcommand %s", argv[1]);
}
