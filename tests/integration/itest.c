/*
 * itest.c - integration test helpers (see itest.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gx.h"
#include "gx_validate.h"
#include "itest.h"

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		cr_assert_fail("%s is not set: run the suite with `make test`", name);
	return v;
}

const char *it_brokers(void) { return env_or_die("GOVEX_TEST_BROKERS"); }
const char *it_bin(void) { return env_or_die("GOVEX_TEST_BIN"); }
const char *it_tmp(void) { return env_or_die("GOVEX_TEST_TMP"); }

char *it_path(const char *name)
{
	static char bufs[8][512];
	static int k;
	char *b = bufs[k++ % 8];
	snprintf(b, 512, "%s/%s", it_tmp(), name);
	return b;
}

/* ---- sealing keys per prefix ---- */

#define MAX_SUITES 64
static struct {
	char prefix[64];
	char suite[32];
} suites[MAX_SUITES];

void it_seal_suite(const char *prefix, const char *suite)
{
	for (size_t i = 0; i < MAX_SUITES; i++)
		if (!suites[i].prefix[0] || !strcmp(suites[i].prefix, prefix)) {
			snprintf(suites[i].prefix, sizeof(suites[i].prefix), "%s", prefix);
			snprintf(suites[i].suite, sizeof(suites[i].suite), "%s", suite);
			return;
		}
	cr_assert_fail("it_seal_suite: too many prefixes");
}

const char *it_suite(const char *prefix)
{
	for (size_t i = 0; i < MAX_SUITES && suites[i].prefix[0]; i++)
		if (!strcmp(suites[i].prefix, prefix))
			return suites[i].suite;
	return "sm2-sm3";
}

char *it_keys_dir(const char *prefix)
{
	static char dir[8][512];
	static int k;
	char *d = dir[k++ % 8];
	snprintf(d, 512, "%s/%s.keys", it_tmp(), prefix);
	return d;
}

/* The seal.* settings of prog for prefix (-o pairs) appended to argv. */
static size_t seal_args(const char *prefix, const char *prog, char **argv,
			size_t k)
{
	int adapter = !strcmp(prog, "govex-adapter");
	if (!adapter && strcmp(prog, "govex-broker") && strcmp(prog, "govexctl"))
		return k;
	const char *dir = it_keys_dir(prefix);
	char *v[4];
	if (asprintf(&v[0], "seal.suite=%s", it_suite(prefix)) < 0 ||
	    asprintf(&v[1], "seal.root=%s/root.crt", dir) < 0 ||
	    asprintf(&v[2], "seal.keyring=%s/keyring.jsonl", dir) < 0 ||
	    asprintf(&v[3], "seal.keys.dir=%s", dir) < 0)
		abort();
	for (int i = 0; i < (adapter ? 4 : 3); i++) {
		argv[k++] = "-o";
		argv[k++] = v[i]; /* the test process ends soon: not freed */
	}
	if (!adapter)
		free(v[3]);
	return k;
}

static char **build_argv(const char *prefix, const char *prog,
			 const char *const *args, char *progpath, size_t pp,
			 char *prefset, size_t ps)
{
	size_t n = 0;
	while (args && args[n])
		n++;
	char **argv = calloc(n + 16, sizeof(char *));
	snprintf(progpath, pp, "%s/%s", it_bin(), prog);
	snprintf(prefset, ps, "topic.prefix=%s", prefix);
	size_t k = 0;
	argv[k++] = progpath;
	argv[k++] = "-b";
	argv[k++] = (char *)it_brokers();
	argv[k++] = "-o";
	argv[k++] = prefset;
	k = seal_args(prefix, prog, argv, k);
	for (size_t i = 0; i < n; i++)
		argv[k++] = (char *)args[i];
	argv[k] = NULL;
	return argv;
}

static void child_stderr(const char *prefix, const char *prog)
{
	char log[512];
	snprintf(log, sizeof(log), "%s/%s.%s.log", it_tmp(), prefix, prog);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

static char *file_tail(const char *path, long from)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	long n = ftell(f) - from;
	if (n < 0)
		n = 0;
	char *s = malloc((size_t)n + 1);
	fseek(f, from, SEEK_SET);
	n = (long)fread(s, 1, (size_t)n, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

itest_out_t it_run(const char *prefix, const char *prog, const char *const *args)
{
	char pp[512], ps[256], log[512];
	snprintf(log, sizeof(log), "%s/%s.%s.log", it_tmp(), prefix, prog);
	long before = file_size(log);
	char **argv = build_argv(prefix, prog, args, pp, sizeof(pp), ps, sizeof(ps));
	int fds[2];
	cr_assert(pipe(fds) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		child_stderr(prefix, prog);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	itest_out_t o = {NULL, 0, NULL, 0};
	size_t cap = 0;
	for (;;) {
		if (o.len + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			o.out = realloc(o.out, cap);
		}
		ssize_t r = read(fds[0], o.out + o.len, cap - o.len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		o.len += (size_t)r;
	}
	o.out[o.len] = '\0';
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	o.err = file_tail(log, before);
	free(argv);
	return o;
}

char *it_ctl_id(const char *prefix, const char *const *args)
{
	itest_out_t o = it_run(prefix, "govexctl", args);
	cr_assert_eq(o.status, 0, "govexctl %s failed (%d): %s", args[0], o.status,
		     o.err);
	o.out[strcspn(o.out, "\n")] = '\0';
	cr_assert_eq(strlen(o.out), 36, "govexctl %s printed '%s', not an id",
		     args[0], o.out);
	char *id = strdup(o.out);
	it_out_free(&o);
	return id;
}

void it_out_free(itest_out_t *o)
{
	free(o->out);
	free(o->err);
	o->out = o->err = NULL;
}

pid_t it_spawn(const char *prefix, const char *prog, const char *const *args)
{
	char pp[512], ps[256];
	char **argv = build_argv(prefix, prog, args, pp, sizeof(pp), ps, sizeof(ps));
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		/* A failed assertion ends the test's process: take the
		 * background program with it, never leave it running. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		child_stderr(prefix, prog);
		execv(argv[0], argv);
		_exit(127);
	}
	free(argv);
	return pid;
}

int it_stop(pid_t pid)
{
	int st;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 128 + SIGKILL;
}

void it_write(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	cr_assert(f, "cannot write %s", path);
	cr_assert(fwrite(data, 1, len, f) == len);
	fclose(f);
}

json_t *it_json_lines(const char *text, size_t len)
{
	json_t *a = json_array();
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (n) {
			json_error_t e;
			json_t *j = json_loadb(p, n, 0, &e);
			cr_assert(j, "not a JSON line: %.*s (%s)", (int)n, p, e.text);
			json_array_append_new(a, j);
		}
		p += n + 1;
	}
	return a;
}

void it_citizen_id(unsigned i, char out[19])
{
	/* 140105 (太原市小店区), a birth date spread over 1950..2009, order code. */
	unsigned y = 1950 + i % 60, m = 1 + (i / 60) % 12, d = 1 + (i / 720) % 28;
	snprintf(out, 19, "140105%04u%02u%02u%03u", y, m, d, i % 1000);
	out[18] = '\0';
	out[17] = gx_gb11643_check_char(out);
}

void it_setup(const char *prefix, const char *catalog_json)
{
	const char *setup[] = {"setup", NULL};
	itest_out_t o = it_run(prefix, "govexctl", setup);
	cr_assert_eq(o.status, 0, "govexctl setup failed (%d); see %s/%s.govexctl.log",
		     o.status, it_tmp(), prefix);
	it_out_free(&o);
	char *cat = it_path("catalog.json");
	char path[512];
	snprintf(path, sizeof(path), "%s-%s", cat, prefix);
	it_write(path, catalog_json, strlen(catalog_json));
	const char *imp[] = {"catalog", "import", path, NULL};
	o = it_run(prefix, "govexctl", imp);
	cr_assert_eq(o.status, 0, "catalog import failed (%d); see %s/%s.govexctl.log",
		     o.status, it_tmp(), prefix);
	it_out_free(&o);
	it_seal_keys(prefix, catalog_json);
}

void it_seal_keys(const char *prefix, const char *catalog_json)
{
	char root[600];
	snprintf(root, sizeof(root), "%s/root.crt", it_keys_dir(prefix));
	if (access(root, F_OK)) {
		const char *ca[] = {"ca", "init", NULL};
		itest_out_t o = it_run(prefix, "govexctl", ca);
		cr_assert_eq(o.status, 0, "govexctl ca init failed (%d): %s",
			     o.status, o.err ? o.err : "");
		it_out_free(&o);
	}
	json_error_t jerr;
	json_t *j = json_loads(catalog_json, 0, &jerr);
	cr_assert(j, "catalogue JSON: %s", jerr.text);
	json_t *arr = json_is_array(j) ? j : json_pack("[O]", j);
	size_t i;
	json_t *item;
	json_t *done = json_object();
	json_array_foreach(arr, i, item) {
		const char *p = json_string_value(json_object_get(item, "provider"));
		if (!p || json_object_get(done, p))
			continue;
		json_object_set_new(done, p, json_true());
		it_agency_key(prefix, p);
	}
	json_decref(done);
	if (arr != j)
		json_decref(arr);
	json_decref(j);
}

void it_agency_key(const char *prefix, const char *agency)
{
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/%s", it_keys_dir(prefix), agency);
	if (!access(dir, F_OK))
		return; /* made by an earlier it_setup of this prefix */
	const char *kn[] = {"keys", "new", "--agency", agency, NULL};
	itest_out_t o = it_run(prefix, "govexctl", kn);
	cr_assert_eq(o.status, 0, "govexctl keys new --agency %s failed (%d): %s",
		     agency, o.status, o.err ? o.err : "");
	it_out_free(&o);
}

pid_t it_broker(const char *prefix)
{
	return it_broker_n(prefix, 1);
}

pid_t it_broker_n(const char *prefix, int instance)
{
	return it_broker_opts(prefix, instance, NULL);
}

pid_t it_broker_opts(const char *prefix, int instance, const char *const *extra)
{
	static char group[128], txn[128], secret[600];
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.secret", it_tmp(), prefix);
	if (access(path, F_OK)) {
		const char *args[] = {"secret", "new", path, NULL};
		itest_out_t o = it_run(prefix, "govexctl", args);
		cr_assert_eq(o.status, 0, "govexctl secret new failed");
		it_out_free(&o);
	}
	static char keyset[600];
	char keypath[512];
	snprintf(keypath, sizeof(keypath), "%s/%s.key", it_tmp(), prefix);
	if (access(keypath, F_OK)) {
		const char *args[] = {"key", "new", keypath, NULL};
		itest_out_t o = it_run(prefix, "govexctl", args);
		cr_assert_eq(o.status, 0, "govexctl key new failed");
		it_out_free(&o);
	}
	snprintf(keyset, sizeof(keyset), "broker.checkpoint.key.file=%s", keypath);
	snprintf(group, sizeof(group), "broker.group=%s-broker", prefix);
	snprintf(txn, sizeof(txn), "broker.transactional.id=%s-broker-%d", prefix, instance);
	snprintf(secret, sizeof(secret), "broker.subject.secret.file=%s", path);
	const char *args[32] = {"-o", group, "-o", txn, "-o", secret, "-o", keyset,
				"-o", "http.port=0"};
	size_t n = 10;
	for (size_t i = 0; extra && extra[i]; i++) {
		cr_assert(n + 2 < GX_ARRAY_SIZE(args), "too many broker settings");
		args[n++] = "-o";
		args[n++] = extra[i];
	}
	args[n] = NULL;
	return it_spawn(prefix, "govex-broker", args);
}

/* ---- reading topics ---- */

#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>

#include "gx_avro.h"
#include "gx_record.h"
#include "gx_schema.h"

long it_topic_read(const char *topic, int timeout_ms,
		   void (*fn)(void *opaque, const rd_kafka_message_t *m),
		   void *opaque)
{
	char err[512];
	rd_kafka_conf_t *kc = rd_kafka_conf_new();
	const char *kv[] = {"bootstrap.servers", it_brokers(),
			    "group.id", "itest-reader",
			    "enable.auto.commit", "false",
			    "isolation.level", "read_committed",
			    "enable.partition.eof", "true",
			    "log_level", "3", NULL};
	for (size_t i = 0; kv[i]; i += 2)
		cr_assert_eq(rd_kafka_conf_set(kc, kv[i], kv[i + 1], err, sizeof(err)),
			     RD_KAFKA_CONF_OK, "%s", err);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err));
	cr_assert(rk, "consumer: %s", err);
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	cr_assert_eq(rd_kafka_metadata(rk, 0, rkt, &md, 10000), 0);
	rd_kafka_topic_destroy(rkt);
	cr_assert(md->topic_cnt == 1 && !md->topics[0].err,
		  "topic %s: %s", topic, rd_kafka_err2str(md->topics[0].err));
	int np = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	int64_t *hi = calloc((size_t)np, sizeof(int64_t));
	int64_t *eof = calloc((size_t)np, sizeof(int64_t));
	rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(np);
	for (int p = 0; p < np; p++) {
		int64_t lo;
		cr_assert_eq(rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi[p],
							      10000), 0);
		eof[p] = -1;
		rd_kafka_topic_partition_list_add(tp, topic, p)->offset =
		    RD_KAFKA_OFFSET_BEGINNING;
	}
	cr_assert_eq(rd_kafka_assign(rk, tp), 0);
	rd_kafka_topic_partition_list_destroy(tp);
	long n = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int done = 1;
		for (int p = 0; p < np; p++)
			if (eof[p] < hi[p])
				done = 0;
		if (done)
			break;
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		cr_assert(ms < timeout_ms, "topic %s: not read to its end in %d ms",
			  topic, timeout_ms);
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
		if (!m)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			eof[m->partition] = m->offset;
		} else {
			cr_assert(!m->err, "topic %s: %s", topic, rd_kafka_message_errstr(m));
			n++;
			if (fn)
				fn(opaque, m);
		}
		rd_kafka_message_destroy(m);
	}
	free(hi);
	free(eof);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return n;
}

json_t *it_ingest_json(const rd_kafka_message_t *m)
{
	/* One set of schemas and one value per library for the whole run. */
	static gx_schemas_t *schemas;
	static avro_value_t values[16];
	static const gx_library_t *libs[16];
	char err[512];
	if (!schemas)
		cr_assert_eq(gx_schemas_new(&schemas, err, sizeof(err)), GX_OK, "%s", err);
	uint64_t fp;
	gx_view_t view;
	if (gx_avro_so_fingerprint(m->payload, m->len, &fp, err, sizeof(err)))
		return NULL;
	const gx_library_t *lib = gx_schemas_by_fp(schemas, fp, &view);
	if (!lib || view != GX_VIEW_INGEST)
		return NULL;
	size_t k = 0;
	while (k < 16 && libs[k] && libs[k] != lib)
		k++;
	cr_assert(k < 16);
	if (!libs[k]) {
		libs[k] = lib;
		avro_generic_value_new(lib->ingest_iface, &values[k]);
	}
	avro_value_t *v = &values[k], payload;
	avro_value_reset(v);
	if (gx_avro_so_decode(m->payload, m->len, v, err, sizeof(err)) ||
	    gx_record_payload(v, &payload, err, sizeof(err)))
		return NULL;
	json_t *o = json_object();
	for (size_t i = 0; i < lib->nfields; i++) {
		avro_value_t fv;
		avro_value_get_by_index(&payload, i, &fv, NULL);
		json_object_set_new(o, lib->fields[i].name,
				    gx_field_to_json(&lib->fields[i], &fv));
	}
	gx_envelope_t env;
	if (!gx_ingest_get(v, &env, err, sizeof(err)))
		json_object_set_new(o, "_source", json_string(env.source));
	json_object_set_new(o, "_key", json_stringn(m->key ? m->key : "", m->key_len));
	return o;
}

/* Call fn on every line of TMP/<prefix>.<prog>.log containing needle;
 * 0 when there is no such log. */
static int log_scan(const char *prefix, const char *prog, const char *needle,
		    void (*fn)(const char *line, void *opaque), void *opaque)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.%s.log", it_tmp(), prefix, prog);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0)
		if (strstr(line, needle))
			fn(line, opaque);
	free(line);
	fclose(f);
	return 1;
}

static void count_line(const char *line, void *opaque)
{
	(void)line;
	(*(long *)opaque)++;
}

struct log_key {
	char pat[128];
	long v;
};

static void key_value(const char *line, void *opaque)
{
	struct log_key *k = opaque;
	const char *at = strstr(line, k->pat);
	if (at)
		k->v = strtol(at + strlen(k->pat), NULL, 10);
}

long it_log_value(const char *prefix, const char *prog, const char *needle,
		  const char *key)
{
	struct log_key k = {.v = -1};
	snprintf(k.pat, sizeof(k.pat), " %s=", key);
	log_scan(prefix, prog, needle, key_value, &k);
	return k.v;
}

long it_log_count(const char *prefix, const char *prog, const char *needle)
{
	long n = 0;
	log_scan(prefix, prog, needle, count_line, &n);
	return n;
}

/* ---- a private PostgreSQL ---- */

/* The newest installed PostgreSQL's program prog. */
static void pg_bin(const char *prog, char *out, size_t n)
{
	glob_t g;
	char pat[256];
	snprintf(pat, sizeof(pat), "/usr/lib/postgresql/*/bin/%s", prog);
	cr_assert(glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0,
		  "no %s: install PostgreSQL (make deps)", pat);
	snprintf(out, n, "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
}

/* In a child: become the postgres user when running as root. */
static void pg_drop_root(void)
{
	if (geteuid() != 0)
		return;
	struct passwd *pw = getpwnam("postgres");
	if (!pw || setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
		_exit(126);
}

static int wait_status(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void it_pg_start(it_pg_t *pg)
{
	char initdb[256], postgres[256], data[300], log[300];
	memset(pg, 0, sizeof(*pg));
	pg_bin("initdb", initdb, sizeof(initdb));
	pg_bin("postgres", postgres, sizeof(postgres));
	snprintf(pg->dir, sizeof(pg->dir), "/tmp/govex-pg.XXXXXX");
	cr_assert(mkdtemp(pg->dir), "mkdtemp: %s", strerror(errno));
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("postgres");
		cr_assert(pw, "running as root needs the postgres user (make deps)");
		cr_assert(chown(pg->dir, pw->pw_uid, pw->pw_gid) == 0);
	}
	/* The socket lives in our own directory, so any port number is free. */
	pg->port = 5432;
	snprintf(data, sizeof(data), "%s/data", pg->dir);
	snprintf(log, sizeof(log), "%s/server.log", pg->dir);

	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		pg_drop_root();
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(initdb, "initdb", "-D", data, "-A", "trust", "-U", "govex",
		      "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(wait_status(pid), 0, "initdb failed");

	pid_t parent = getpid();
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		pg_drop_root();
		/* After dropping root, which would clear it: the server (and
		 * with it its backends) goes when the test's process does. */
		prctl(PR_SET_PDEATHSIG, SIGQUIT);
		if (getppid() != parent)
			_exit(1);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		char port[16];
		snprintf(port, sizeof(port), "%d", pg->port);
		execl(postgres, "postgres", "-D", data, "-k", pg->dir, "-p", port,
		      "-c", "listen_addresses=", "-c", "fsync=off",
		      "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		      (char *)NULL);
		_exit(127);
	}
	pg->pid = pid;
	snprintf(pg->conninfo, sizeof(pg->conninfo),
		 "host=%s port=%d user=govex dbname=postgres", pg->dir, pg->port);
	char isready[256], sock[300];
	pg_bin("pg_isready", isready, sizeof(isready));
	snprintf(sock, sizeof(sock), "%d", pg->port);
	for (int i = 0;; i++) {
		int st;
		cr_assert(waitpid(pg->pid, &st, WNOHANG) == 0,
			  "postgres exited; see %s", log);
		pid_t c = fork();
		if (c == 0) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
			execl(isready, "pg_isready", "-q", "-h", pg->dir, "-p", sock,
			      "-U", "govex", "-d", "postgres", (char *)NULL);
			_exit(127);
		}
		if (wait_status(c) == 0)
			break;
		cr_assert(i < 300, "postgres did not start in 30 s; see %s", log);
		usleep(100000);
	}
}

void it_pg_stop(it_pg_t *pg)
{
	if (pg->pid > 0) {
		int st;
		kill(pg->pid, SIGINT); /* fast shutdown */
		for (int i = 0; i < 300; i++) {
			if (waitpid(pg->pid, &st, WNOHANG) == pg->pid) {
				pg->pid = 0;
				break;
			}
			usleep(100000);
		}
		if (pg->pid > 0) {
			kill(pg->pid, SIGKILL);
			waitpid(pg->pid, &st, 0);
			pg->pid = 0;
		}
	}
	if (pg->dir[0]) {
		pid_t c = fork();
		if (c == 0) {
			execl("/bin/rm", "rm", "-rf", "--", pg->dir, (char *)NULL);
			_exit(127);
		}
		if (c > 0)
			wait_status(c);
		pg->dir[0] = '\0';
	}
}

char *it_psql(const it_pg_t *pg, const char *sql)
{
	static int seq;
	char psql[256], file[400], port[16];
	pg_bin("psql", psql, sizeof(psql));
	snprintf(file, sizeof(file), "%s/q%d-%d.sql", it_tmp(), (int)getpid(), seq++);
	it_write(file, sql, strlen(sql));
	snprintf(port, sizeof(port), "%d", pg->port);
	int fds[2];
	cr_assert(pipe(fds) == 0);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(psql, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		      "-h", pg->dir, "-p", port, "-U", "govex", "-d", "postgres",
		      "-f", file, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	gx_buf_t b;
	gx_buf_init(&b);
	char chunk[4096];
	for (;;) {
		ssize_t r = read(fds[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		gx_buf_append(&b, chunk, (size_t)r);
	}
	close(fds[0]);
	int st = wait_status(pid);
	unlink(file);
	cr_assert_eq(st, 0, "psql failed (%d) on: %.300s", st, sql);
	char *out = strdup(b.data ? gx_buf_cstr(&b) : "");
	gx_buf_free(&b);
	return out;
}

char *it_http_get(int port, const char *path, int *status)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {0};
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*status = 0;
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char req[512];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return NULL;
	}
	gx_buf_t b;
	gx_buf_init(&b);
	char chunk[8192];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		gx_buf_append(&b, chunk, (size_t)r);
	close(fd);
	char *all = gx_buf_cstr(&b);
	sscanf(all, "HTTP/1.%*d %d", status);
	char *body = strstr(all, "\r\n\r\n");
	char *out = strdup(body ? body + 4 : "");
	gx_buf_free(&b);
	return out;
}

int it_http_port(const char *prefix, const char *prog)
{
	char path[600];
	snprintf(path, sizeof(path), "%s/%s.%s.log", it_tmp(), prefix, prog);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int port = 0;
	while (f && getline(&line, &cap, f) > 0) {
		char *p = strstr(line, "event=http_listening");
		if (p && (p = strstr(p, "port=")))
			port = atoi(p + 5);
	}
	free(line);
	if (f)
		fclose(f);
	return port;
}

double it_metric(const char *exposition, const char *sample)
{
	size_t n = strlen(sample);
	for (const char *p = exposition; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, sample, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	}
	return -1;
}
