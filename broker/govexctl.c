/*
 * govexctl - the command-line tool: creates the exchange's topics, imports
 * and shows the catalogue, files requests (granting unconditional fields at
 * once, in one Kafka transaction with the request), lists requests and
 * grants, and reads what the exchange delivered or rejected.
 *
 *   govexctl [-c FILE] [-b BROKERS] [-o key=value]... COMMAND [ARGS]
 *
 * Every piece of logic lives in libgovex; this file is option parsing,
 * Kafka client plumbing and output. User-facing errors go to stderr as
 * plain "govexctl: ..." lines; events go through gx_log (key=value).
 * Exit status: 0 ok, 1 a check failed, 2 usage or configuration error,
 * 3 runtime failure (Kafka unreachable, a write not acknowledged).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_avro.h"
#include "gx_catalog.h"
#include "gx_catalog_csv.h"
#include "gx_conf.h"
#include "gx_kafka.h"
#include "gx_keyfile.h"
#include "gx_decision.h"
#include "gx_replay.h"
#include "govexctl.h"
#include "gx_policy.h"
#include "gx_record.h"
#include "gx_schema.h"



#define OFF(m) offsetof(struct ctl_conf, m)
static const gx_confdef_t ctl_defs[] = {
    {"brokers", GX_CONF_STR, OFF(brokers), "127.0.0.1:9092", 0, 0, NULL,
     "Kafka bootstrap servers (also -b)"},
    {"topic.prefix", GX_CONF_STR, OFF(prefix), "govex", 0, 0, NULL,
     "prefix of every govex topic"},
    {"log.level", GX_CONF_ENUM, OFF(log_level), "warn", 0, 0,
     "debug|info|warn|error", "lowest level logged (key=value lines on stderr)"},
    {"ctl.timeout", GX_CONF_DURATION_MS, OFF(timeout_ms), "30s", 1000,
     3600000, NULL,
     "how long to wait for Kafka in each step (connect, create topics, "
     "flush, commit); reading a topic fails when nothing arrives for this "
     "long, however long the whole read takes"},
    GX_SEAL_CONFDEFS(struct ctl_conf, seal),
};
#undef OFF


static volatile sig_atomic_t stop;
static long dr_failed;
static char dr_first_err[256];

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void usage(struct ctl *x, FILE *out)
{
	fprintf(out,
"usage: govexctl [-c FILE] [-b BROKERS] [-o key=value]... COMMAND [ARGS]\n"
"\n"
"Commands:\n"
"  setup [--partitions N] [--replication N]\n"
"      create every govex topic (idempotent; existing topics are checked)\n"
"      and publish the library schemas to <prefix>.schemas\n"
"  catalog import FILE\n"
"      publish catalogue items (one JSON object or an array; - is stdin;\n"
"      a FILE ending in .csv is the spreadsheet form, one row per field,\n"
"      Chinese or English headers); nothing is published if any item is bad\n"
"  catalog list [--json]\n"
"  catalog show ITEM [--json]\n"
"  request --consumer C --item I --fields a,b,... --purpose TEXT\n"
"          --basis TEXT [--until DATE|RFC3339] [--partitions N]\n"
"          [--replication N]\n"
"      file a consumer's request; unconditional fields are granted at once\n"
"      when no field needs the provider's approval. Prints the request id\n"
"      on stdout, the outcome on stderr\n"
"  approve REQ --by PROVIDER [--fields a,b] [--until DATE|RFC3339]\n"
"      the provider grants a pending request, possibly narrowed to fewer\n"
"      fields and an earlier end; prints the grant id\n"
"  deny REQ --by PROVIDER --reason TEXT\n"
"  revoke GRANT --by PROVIDER --reason TEXT\n"
"      only the item's provider may approve, deny or revoke\n"
"  requests [--pending] [--json]\n"
"  grants [--consumer C] [--json]\n"
"  consume --consumer C [--library L] [--group G] [--json] [--max N]\n"
"          [--idle-exit DURATION] [--no-from-beginning]\n"
"      print records delivered to consumer C (Ctrl-C stops)\n"
"  rejected [--json] [--max N] [--idle-exit DURATION]\n"
"      print what adapters and the broker refused, from the beginning\n"
"  schema [LIBRARY [--view payload|ingest|delivery]]\n"
"      the libraries and their fingerprints, or one library's schema\n"
"      (default: the delivery schema consumers read)\n"
"  replay [--from TIME] [--to TIME] [--consumer C] [--item I]\n"
"         [--pubkey FILE] [--json]\n"
"      check the decision chains and signed checkpoints, and recompute\n"
"      every decision from the catalogue and approvals as they stood;\n"
"      exit 1 on any mismatch\n"
"  why RECORD --consumer C [--json]\n"
"      the decision for that record and consumer, and the grant and\n"
"      approval events behind it\n"
"  subject ID --secret FILE [--from T] [--to T] [--json]\n"
"      every release of data about one citizen or company: when, to whom,\n"
"      which fields, under which grant and purpose (FILE: the broker's\n"
"      subject secret; the log holds only keyed hashes)\n"
"  what-if (--catalog FILE | --revoke GRANT --at TIME) [--from T] [--to T]\n"
"          [--json]\n"
"      replay a period under a proposed change; list the releases it\n"
"      would alter\n"
"  report [--from T] [--to T] [--format text|json|html] [--out FILE]\n"
"         [--pubkey FILE] [--conditional-days N] [--offline-days N]\n"
"         [--expiry-days N] [--utc-offset +HH:MM]\n"
"      the compliance report (art. 23): requests and response times, late\n"
"      answers and refusals without a reason, refusals, releases, grants\n"
"      near expiry, ingest refusals, decision chain status; html is one\n"
"      self-contained page\n"
"  key new FILE\n"
"      create the exchange's Ed25519 signing key (FILE, mode 0600) and its\n"
"      public key FILE.pub (broker.checkpoint.key.file; replay --pubkey)\n"
"  secret new FILE [--bytes N]\n"
"      create a random secret file with mode 0600 (e.g. the broker's\n"
"      broker.subject.secret.file); refuses to overwrite\n"
"  sample LIBRARY --rows N --seed S [--defects P] [--format csv|jsonl]\n"
"         [--out FILE] [--defects-out FILE]\n"
"      deterministic synthetic source rows for a library, valid unless\n"
"      --defects (a share 0..1) asks for bad check characters, missing\n"
"      fields, malformed dates and duplicated rows; a summary on stderr\n"
"  status [--json] [--pending-days N]\n"
"      one screen for operators: brokers up, lag by consumer agency,\n"
"      denials in the last hour by reason, late providers, requests\n"
"      pending for more than N days (default 5)\n"
"  top [--interval DURATION] [--pending-days N]\n"
"      the same, redrawn every 2s (or DURATION) until Ctrl-C\n"
"  ca init [--key FILE] [--name NAME] [--days N]\n"
"      create the exchange root of seal.suite: certificate seal.root, key\n"
"      FILE (default seal.root with .crt replaced by .key, mode 0600);\n"
"      never overwrites\n"
"  keys new --agency A [--from TIME] [--days N] [--ca-key FILE]\n"
"      a key pair for agency A certified by the root, as DIR/A/<key id>.key\n"
"      (0600) and .crt, DIR being seal.keyring's directory; A seals with it\n"
"      from TIME (default now) and its line is appended to seal.keyring.\n"
"      Prints the key id\n"
"  verify (--consumer C [--library L] | --topic T) [--group G] [--save FILE]\n"
"         [--seals] [--json]\n"
"  verify --file FILE [--seals] [--json]\n"
"      prove every record's seal: C's delivery topics (or topic T, delivery\n"
"      or ingest) from the start, or from group G's committed positions\n"
"      (nothing is committed), to their ends; or a FILE of JSON lines\n"
"      {\"value_b64\": base64 of the Kafka value} as --save writes them.\n"
"      --seals: a record whose own seal fails verifies through a re-seal of\n"
"      its batch on <prefix>.seals. Exit 1 naming each failing record\n"
"  reseal --from OLD --to NEW [--key-dir DIR] [--library L] [--dry-run]\n"
"      re-seal OLD's verified e-licences (library L) under NEW's current key\n"
"      (DIR/NEW/<key id>.key, DIR default seal.keyring's directory), one\n"
"      seal per batch on <prefix>.seals in one transaction; batches NEW\n"
"      re-sealed before are skipped\n"
"  agency ca-init --pki DIR [--name NAME] [--days N]\n"
"      the exchange's TLS CA (ECDSA P-256): DIR/ca.key (0600), DIR/ca.crt,\n"
"      which Kafka's listeners trust (not the sealing root)\n"
"  agency add CODE --role ROLES --pki DIR [--days N] [--host H,...]\n"
"             [--no-cert]\n"
"      issue CODE's TLS client certificate (DIR/CODE.key, DIR/CODE.crt,\n"
"      CN=CODE: Kafka principal User:CODE) and register it in\n"
"      <prefix>.agencies with ROLES (provider,consumer,operator,compliance,\n"
"      broker); --role admin or kafka (Kafka super users, --host names for\n"
"      a node) only issues the certificate, without Kafka\n"
"  agency revoke CODE --reason TEXT [--json]\n"
"      record the revocation and delete every ACL of User:CODE at once;\n"
"      a revoked code is never admitted again\n"
"  agency list [--json]\n"
"  acl sync [--dry-run] [--json] [--broker-group G] [--broker-txn T]\n"
"      derive the Kafka ACLs from the registry and the catalogue and apply\n"
"      them (idempotent); prints each ACL added (+) or removed (-)\n"
"  acl list [--json]\n"
"      every ACL Kafka holds\n"
"  help\n"
"\n"
"Options -c, -b and -o may also follow the command. A later -o wins over\n"
"the file; -b wins over both.\n"
"Exit status: 0 ok, 1 check failed, 2 usage or configuration error,\n"
"3 runtime failure.\n"
"\n"
"Configuration keys (kafka.* keys pass through to librdkafka):\n");
	gx_conf_usage(&x->conf, out);
}

/* ---- small helpers ---- */

int fail_usage(struct ctl *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int fail_usage(struct ctl *x, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, PROG "%s%s: ", x->cmd ? " " : "", x->cmd ? x->cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return GX_EXIT_USAGE;
}

int fail_runtime(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int fail_runtime(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return GX_EXIT_RUNTIME;
}

/* Parse a whole decimal integer option within [min, max]. */
int opt_int(struct ctl *x, const char *opt, const char *s, long min,
		   long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max)
		return fail_usage(x, "%s: expected a whole number from %ld to "
				  "%ld, got '%s'", opt, min, max, s);
	*out = v;
	return GX_EXIT_OK;
}

/* A time option (--from, --to): a date or an RFC 3339 time. */
int opt_time(struct ctl *x, const char *opt, const char *s, int64_t *ms)
{
	if (gx_parse_time_ms(s, ms))
		return fail_usage(x, "%s: expected a date or RFC 3339 time", opt);
	return GX_EXIT_OK;
}

/*
 * The options of commands that create topics: 'P' --partitions and
 * 'R' --replication. Returns -1 if c was one of them and its value is good,
 * -2 if c is neither, else the usage exit status.
 */
int topic_opt(struct ctl *x, int c, long *partitions, long *replication)
{
	int rc;
	if (c == 'P')
		rc = opt_int(x, "--partitions", optarg, 1, 10000, partitions);
	else if (c == 'R')
		rc = opt_int(x, "--replication", optarg, 1, 32767, replication);
	else
		return -2;
	return rc ? rc : -1;
}

/* Parse a duration option with the configuration's own rules and words,
 * through a one-key table, so "5s" means the same everywhere. */
int opt_duration(struct ctl *x, const char *opt, const char *s,
			int64_t *ms)
{
	struct {
		int64_t v;
	} d;
	const gx_confdef_t def[] = {{opt, GX_CONF_DURATION_MS, 0, NULL, 0,
				     INT64_C(30) * 86400000, NULL, NULL}};
	gx_conf_t c;
	char err[512];
	if (gx_conf_init(&c, def, 1, &d, err, sizeof(err)) ||
	    gx_conf_set(&c, opt, s, NULL, err, sizeof(err))) {
		gx_conf_free(&c);
		return fail_usage(x, "%s", err);
	}
	gx_conf_free(&c);
	*ms = d.v;
	return GX_EXIT_OK;
}

/* Topic names come from the prefix: Kafka allows [A-Za-z0-9._-]. */
static int check_prefix(const char *p)
{
	size_t n = strlen(p);
	if (n < 1 || n > 100)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

void fmt_ms(int64_t ms, char *out, size_t n)
{
	if (ms)
		gx_fmt_time_ms(ms, out, n);
	else
		snprintf(out, n, "-");
}

json_t *json_time(int64_t ms)
{
	char b[40];
	if (!ms)
		return json_null();
	gx_fmt_time_ms(ms, b, sizeof(b));
	return json_string(b);
}

json_t *json_strv(const gx_strv_t *sv)
{
	json_t *a = json_array();
	for (size_t i = 0; i < sv->n; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

/* Print one JSON value on one line and flush, so a pipe sees each line
 * as soon as it is known. */
void print_json_line(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	fflush(stdout);
}

/* ---- tables: columns padded to display width (CJK counts two) ---- */

static int is_wide(uint32_t c)
{
	return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) ||
	       (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	       (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD);
}

static size_t disp_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	while (*p) {
		uint32_t cp;
		int n, i;
		if (*p < 0x80) {
			cp = *p;
			n = 1;
		} else if ((*p & 0xE0) == 0xC0) {
			cp = *p & 0x1F;
			n = 2;
		} else if ((*p & 0xF0) == 0xE0) {
			cp = *p & 0x0F;
			n = 3;
		} else if ((*p & 0xF8) == 0xF0) {
			cp = *p & 0x07;
			n = 4;
		} else {
			w++;
			p++;
			continue;
		}
		for (i = 1; i < n && (p[i] & 0xC0) == 0x80; i++)
			cp = (cp << 6) | (p[i] & 0x3F);
		p += i;
		w += (i == n && is_wide(cp)) ? 2 : 1;
	}
	return w;
}


void table_init(struct table *t, size_t ncols, const char *const *hdr)
{
	t->ncols = ncols;
	gx_strv_init(&t->cells);
	for (size_t i = 0; i < ncols; i++)
		gx_strv_push(&t->cells, hdr[i]);
}

void table_cell(struct table *t, const char *s)
{
	gx_strv_push(&t->cells, s && *s ? s : "-");
}

void table_print(struct table *t, FILE *out)
{
	size_t *w = gx_calloc(t->ncols, sizeof(size_t));
	for (size_t i = 0; i < t->cells.n; i++) {
		size_t dw = disp_width(t->cells.v[i]);
		if (dw > w[i % t->ncols])
			w[i % t->ncols] = dw;
	}
	for (size_t i = 0; i < t->cells.n; i++) {
		size_t col = i % t->ncols;
		fputs(t->cells.v[i], out);
		if (col + 1 == t->ncols) {
			fputc('\n', out);
		} else {
			size_t pad = w[col] - disp_width(t->cells.v[i]) + 2;
			fprintf(out, "%*s", (int)pad, "");
		}
	}
	free(w);
	fflush(out);
}

void table_free(struct table *t)
{
	gx_strv_free(&t->cells);
}

/* ---- configuration and option parsing ---- */

/* Apply the file, then -o, then -b; set up logging. */
int ctl_configure(struct ctl *x)
{
	char err[1024];
	if (gx_conf_setup(&x->conf, x->conf_file, &x->overrides, x->brokers, err,
			  sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return GX_EXIT_USAGE;
	}
	if (!x->cc.brokers || !*x->cc.brokers) {
		fprintf(stderr, PROG ": brokers: must not be empty\n");
		return GX_EXIT_USAGE;
	}
	if (!x->cc.prefix || !check_prefix(x->cc.prefix)) {
		fprintf(stderr, PROG ": topic.prefix: '%s': use 1 to 100 letters, "
				"digits, '.', '_' or '-'\n",
			x->cc.prefix ? x->cc.prefix : "");
		return GX_EXIT_USAGE;
	}
	gx_loglevel_t lvl = GX_LOG_WARN;
	gx_loglevel_parse(x->cc.log_level, &lvl);
	gx_log_init(PROG, lvl);
	return GX_EXIT_OK;
}

/* Options every command accepts: -c, -b, -o, -h. */

/*
 * Handle an option getopt_long returned that the command does not know
 * itself. Returns -1 when handled (keep parsing), else the exit status the
 * command should return (help printed, or a usage error).
 */
int common_opt(struct ctl *x, int c, char **argv)
{
	switch (c) {
	case 'c':
		x->conf_file = optarg;
		return -1;
	case 'b':
		x->brokers = optarg;
		return -1;
	case 'o':
		gx_strv_push(&x->overrides, optarg);
		return -1;
	case 'h':
		usage(x, stdout);
		return GX_EXIT_OK;
	case ':':
		return fail_usage(x, "option '%s' needs a value", argv[optind - 1]);
	default:
		if (optopt)
			return fail_usage(x, "unknown option '-%c' (see govexctl "
					  "help)", optopt);
		return fail_usage(x, "unknown option '%s' (see govexctl help)",
				  argv[optind - 1]);
	}
}

/*
 * The operand that usually comes first (approve REQ --by P): if argv[1] is
 * not an option, take it and shift it out, so options after it parse (the
 * '+' in COMMON_SHORT stops getopt at the first operand). NULL otherwise.
 */
const char *take_operand(int *argc, char ***argv)
{
	if (*argc < 2 || (*argv)[1][0] == '-')
		return NULL;
	const char *op = (*argv)[1];
	(*argv)[1] = (*argv)[0];
	(*argv)++;
	(*argc)--;
	return op;
}

/* Reset getopt for a command's own argument vector (argv[0] is the
 * command's name). */
void getopt_reset(void)
{
	optind = 0;
	opterr = 0;
}

/* ---- Kafka plumbing ---- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	(void)rk;
	(void)opaque;
	if (m->err) {
		if (!dr_failed++)
			snprintf(dr_first_err, sizeof(dr_first_err), "%s: %s",
				 rd_kafka_topic_name(m->rkt),
				 rd_kafka_err2str(m->err));
		gx_log(GX_LOG_ERROR, "delivery_failed", "topic=%s error=%s",
		       rd_kafka_topic_name(m->rkt), rd_kafka_err2name(m->err));
	}
}

/* A producer (idempotent, acks=all, plus extra); also the admin handle. */
int new_producer(struct ctl *x, const char *const *extra,
			rd_kafka_t **out)
{
	static const char *const base[] = {"enable.idempotence", "true",
					   "acks", "all", NULL};
	char err[1024];
	rd_kafka_conf_t *kc;
	/* gx_kafka_conf applies these after the kafka.* settings, so a file
	 * cannot weaken them. */
	const char *all[32];
	size_t n = 0;
	for (size_t i = 0; base[i]; i++)
		all[n++] = base[i];
	for (size_t i = 0; extra && extra[i] && n + 2 < GX_ARRAY_SIZE(all); i++)
		all[n++] = extra[i];
	all[n] = NULL;
	if (gx_kafka_conf(&x->conf, x->cc.brokers, all, &kc, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return GX_EXIT_USAGE;
	}
	rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
	if (!rk) {
		rd_kafka_conf_destroy(kc);
		return fail_runtime("cannot create a Kafka client: %s", err);
	}
	*out = rk;
	return GX_EXIT_OK;
}

/* Is Kafka there at all? A metadata request answers it, within
 * ctl.timeout. */
static int kafka_reachable(struct ctl *x, rd_kafka_t *rk)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md,
						  (int)x->cc.timeout_ms);
	if (md)
		rd_kafka_metadata_destroy(md);
	if (e) {
		gx_log(GX_LOG_ERROR, "kafka_unreachable", "brokers=%s error=%s",
		       x->cc.brokers, rd_kafka_err2name(e));
		return fail_runtime("cannot reach Kafka at %s: %s", x->cc.brokers,
				    rd_kafka_err2str(e));
	}
	return GX_EXIT_OK;
}

/* Does topic exist? GX_EXIT_OK with *exists set, or a runtime failure
 * (message printed) when Kafka does not answer. */
static int topic_exists(struct ctl *x, rd_kafka_t *rk, const char *topic,
			int *exists)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t e =
	    rd_kafka_metadata(rk, 0, rkt, &md, (int)x->cc.timeout_ms);
	rd_kafka_topic_destroy(rkt);
	if (e) {
		if (md)
			rd_kafka_metadata_destroy(md);
		return fail_runtime("cannot reach Kafka at %s: %s", x->cc.brokers,
				    rd_kafka_err2str(e));
	}
	*exists = md->topic_cnt == 1 && !md->topics[0].err &&
		  md->topics[0].partition_cnt > 0;
	rd_kafka_metadata_destroy(md);
	return GX_EXIT_OK;
}

/* The topic must exist before anything is written to it: the brokers do
 * not create topics on first use. */
int need_topic(struct ctl *x, rd_kafka_t *rk, const char *topic)
{
	int exists = 0, rc = topic_exists(x, rk, topic, &exists);
	if (rc)
		return rc;
	if (!exists)
		return fail_runtime("topic %s does not exist (run govexctl setup)",
				    topic);
	return GX_EXIT_OK;
}

/* Flush and check that every message was acknowledged. */
int flush_all(struct ctl *x, rd_kafka_t *rk, const char *what)
{
	rd_kafka_resp_err_t e = rd_kafka_flush(rk, (int)x->cc.timeout_ms);
	if (e)
		return fail_runtime("%s: %d messages not acknowledged within "
				    "ctl.timeout: %s",
				    what, rd_kafka_outq_len(rk), rd_kafka_err2str(e));
	if (dr_failed)
		return fail_runtime("%s: %ld messages failed (%s)", what, dr_failed,
				    dr_first_err);
	return GX_EXIT_OK;
}

int on_catalog(void *opaque, const rd_kafka_message_t *m)
{
	gx_catalog_t *cat = opaque;
	char err[512], q[600];
	char *key = gx_strndup(m->key ? m->key : "", m->key_len);
	if (gx_catalog_apply(cat, key, m->payload, m->len, m->offset, err,
			     sizeof(err)))
		gx_log(GX_LOG_WARN, "catalog_item_refused", "offset=%lld error=%s",
		       (long long)m->offset, gx_log_quote(err, q, sizeof(q)));
	free(key);
	return 0;
}

int on_approval(void *opaque, const rd_kafka_message_t *m)
{
	gx_approvals_t *ap = opaque;
	char err[512], q[600];
	if (gx_approvals_apply(ap, m->payload, m->len, m->offset, err,
			       sizeof(err)))
		gx_log(GX_LOG_WARN, "approvals_event_refused", "offset=%lld error=%s",
		       (long long)m->offset, gx_log_quote(err, q, sizeof(q)));
	return 0;
}

/* Read a whole state topic (catalog, approvals) to its current end. */
int load_state(struct ctl *x, const char *kind, gx_state_cb cb,
		      void *opaque)
{
	char err[1024];
	char *topic = gx_topic(x->cc.prefix, kind);
	gx_state_reader_t *sr = NULL;
	int rc = GX_EXIT_OK;
	if (gx_state_reader_new(&x->conf, x->cc.brokers, topic, &sr, err,
				sizeof(err)) ||
	    gx_state_reader_catch_up(sr, cb, opaque, (int)x->cc.timeout_ms, err,
				     sizeof(err))) {
		gx_log(GX_LOG_ERROR, "state_unavailable", "topic=%s", topic);
		rc = fail_runtime("cannot read %s at %s: %s", topic, x->cc.brokers,
				  err);
	}
	gx_state_reader_destroy(sr);
	free(topic);
	return rc;
}

int load_schemas(gx_schemas_t **out)
{
	char err[1024];
	if (gx_schemas_new(out, err, sizeof(err)))
		return fail_runtime("built-in schemas: %s", err);
	return GX_EXIT_OK;
}

/* ================= setup ================= */

static const char *const cfg_compact[] = {"cleanup.policy", "compact", NULL};
/* Append-only and kept forever: approvals are never compacted away. */
static const char *const cfg_append_only[] = {"cleanup.policy", "delete",
					      "retention.ms", "-1", NULL};
static const char *const cfg_forever[] = {"retention.ms", "-1", NULL};

/*
 * For topics that already existed, check the settings govex depends on
 * (compaction, retention). Returns the number of mismatches, or -1 when
 * the configuration could not be read (message printed).
 */
static int check_topic_configs(struct ctl *x, rd_kafka_t *rk,
			       const gx_topic_spec_t *specs,
			       const int *existed, size_t n)
{
	size_t nres = 0;
	rd_kafka_ConfigResource_t **res = gx_calloc(n, sizeof(*res));
	for (size_t i = 0; i < n; i++)
		if (existed[i] && specs[i].configs)
			res[nres++] = rd_kafka_ConfigResource_new(
			    RD_KAFKA_RESOURCE_TOPIC, specs[i].name);
	if (!nres) {
		free(res);
		return 0;
	}
	char err[512];
	int bad = 0;
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AdminOptions_t *opt =
	    rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
	rd_kafka_AdminOptions_set_request_timeout(opt, (int)x->cc.timeout_ms,
						  err, sizeof(err));
	rd_kafka_DescribeConfigs(rk, res, nres, opt, q);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)x->cc.timeout_ms + 5000);
	if (!ev || rd_kafka_event_error(ev)) {
		fail_runtime("describe topic configs: %s",
			     ev ? rd_kafka_event_error_string(ev) : "timed out");
		bad = -1;
		goto out;
	}
	size_t cnt;
	const rd_kafka_ConfigResource_t **rr =
	    rd_kafka_DescribeConfigs_result_resources(
		rd_kafka_event_DescribeConfigs_result(ev), &cnt);
	for (size_t r = 0; r < cnt; r++) {
		const char *name = rd_kafka_ConfigResource_name(rr[r]);
		const gx_topic_spec_t *spec = NULL;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(specs[i].name, name))
				spec = &specs[i];
		if (!spec)
			continue;
		if (rd_kafka_ConfigResource_error(rr[r])) {
			fail_runtime("describe %s: %s", name,
				     rd_kafka_ConfigResource_error_string(rr[r]));
			bad = -1;
			goto out;
		}
		size_t ne;
		const rd_kafka_ConfigEntry_t **ents =
		    rd_kafka_ConfigResource_configs(rr[r], &ne);
		for (size_t j = 0; spec->configs[j]; j += 2) {
			const char *want = spec->configs[j + 1], *have = NULL;
			for (size_t k = 0; k < ne; k++)
				if (!strcmp(rd_kafka_ConfigEntry_name(ents[k]),
					    spec->configs[j]))
					have = rd_kafka_ConfigEntry_value(ents[k]);
			if (!have || strcmp(have, want)) {
				fprintf(stderr,
					PROG ": topic %s exists with %s=%s; "
					     "govex needs %s=%s (change it with "
					     "kafka-configs.sh --alter)\n",
					name, spec->configs[j], have ? have : "?",
					spec->configs[j], want);
				gx_log(GX_LOG_ERROR, "topic_misconfigured",
				       "topic=%s key=%s have=%s want=%s", name,
				       spec->configs[j], have ? have : "?", want);
				bad++;
			}
		}
	}
out:
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(opt);
	rd_kafka_queue_destroy(q);
	for (size_t i = 0; i < nres; i++)
		rd_kafka_ConfigResource_destroy(res[i]);
	free(res);
	return bad;
}

static int cmd_setup(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"partitions", required_argument, NULL, 'P'},
	    {"replication", required_argument, NULL, 'R'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	long partitions = 3, replication = 1;
	int c, rc;
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		default:
			if ((rc = topic_opt(x, c, &partitions, &replication)) == -2)
				rc = common_opt(x, c, argv);
			if (rc >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_configure(x)))
		return rc;

	gx_schemas_t *schemas = NULL;
	rd_kafka_t *rk = NULL;
	gx_topic_spec_t *specs = NULL;
	char **names = NULL;
	int *existed = NULL;
	size_t n = 0;
	char err[1024];
	if ((rc = load_schemas(&schemas)))
		return rc;
	if ((rc = new_producer(x, NULL, &rk)) || (rc = kafka_reachable(x, rk)))
		goto out;

	size_t nlib = gx_schemas_count(schemas);
	const struct {
		const char *kind;
		int one;
		const char *const *cfg;
	} fixed[] = {
	    {"catalog", 1, cfg_compact},     {"schemas", 1, cfg_compact},
	    {"approvals", 1, cfg_append_only}, {"decisions", 0, cfg_forever},
	    {"seals", 0, cfg_forever},       {"rejected", 0, NULL},
	    /* Agencies and their roles (govexctl agency, issue 8). */
	    {"agencies", 1, cfg_append_only},
	    /* The adapters' exactly-once positions and collect-once digests. */
	    {"adapter.positions", 1, cfg_compact},
	    {"adapter.digests", 1, cfg_compact},
	};
	specs = gx_calloc(GX_ARRAY_SIZE(fixed) + nlib, sizeof(*specs));
	names = gx_calloc(GX_ARRAY_SIZE(fixed) + nlib, sizeof(*names));
	existed = gx_calloc(GX_ARRAY_SIZE(fixed) + nlib, sizeof(*existed));
	for (size_t i = 0; i < GX_ARRAY_SIZE(fixed); i++, n++) {
		names[n] = gx_topic(x->cc.prefix, fixed[i].kind);
		specs[n] = (gx_topic_spec_t){names[n],
					     fixed[i].one ? 1 : (int)partitions,
					     (int)replication, fixed[i].cfg};
	}
	for (size_t i = 0; i < nlib; i++, n++) {
		names[n] = gx_topic_ingest(x->cc.prefix, gx_schemas_at(schemas, i)->name);
		specs[n] = (gx_topic_spec_t){names[n], (int)partitions,
					     (int)replication, NULL};
	}
	/* One topic per call, so the output can say which ones are new. */
	int ncreated = 0;
	for (size_t i = 0; i < n; i++) {
		int created = 0;
		if (gx_kafka_create_topics(rk, &specs[i], 1, (int)x->cc.timeout_ms,
					   &created, err, sizeof(err))) {
			gx_log(GX_LOG_ERROR, "create_topic_failed", "topic=%s",
			       specs[i].name);
			rc = fail_runtime("%s", err);
			goto out;
		}
		existed[i] = !created;
		ncreated += created;
		if (created) {
			printf("created %s (%d partition%s, replication %d)\n",
			       specs[i].name, specs[i].partitions,
			       specs[i].partitions == 1 ? "" : "s",
			       specs[i].replication);
			gx_log(GX_LOG_INFO, "topic_created",
			       "topic=%s partitions=%d replication=%d",
			       specs[i].name, specs[i].partitions,
			       specs[i].replication);
		} else {
			printf("exists  %s\n", specs[i].name);
		}
	}
	fflush(stdout);
	int bad = check_topic_configs(x, rk, specs, existed, n);
	if (bad < 0) {
		rc = GX_EXIT_RUNTIME;
		goto out;
	}

	/* The schemas, keyed by fingerprint, so any Avro reader can resolve
	 * the single-object header without a registry. Republishing the same
	 * key and value is harmless on a compacted topic. */
	const char *schema_topic = names[1];
	size_t nschemas = 0;
	for (size_t i = 0; i < nlib; i++) {
		const gx_library_t *lib = gx_schemas_at(schemas, i);
		const struct {
			uint64_t fp;
			const char *json;
		} s[] = {{lib->ingest_fp, lib->ingest_json},
			 {lib->delivery_fp, lib->delivery_json}};
		for (size_t j = 0; j < GX_ARRAY_SIZE(s); j++) {
			unsigned char key[8];
			for (int b = 0; b < 8; b++)
				key[b] = (unsigned char)(s[j].fp >> (8 * b));
			rd_kafka_resp_err_t e = gx_kafka_produce(rk, schema_topic, key, 8,
							s[j].json, strlen(s[j].json));
			if (e) {
				rc = fail_runtime("produce to %s: %s", schema_topic,
						  rd_kafka_err2str(e));
				goto out;
			}
			nschemas++;
		}
	}
	if ((rc = flush_all(x, rk, schema_topic)))
		goto out;
	printf("published %zu schemas to %s\n", nschemas, schema_topic);
	printf("setup: %d topic%s created, %zu already existed\n", ncreated,
	       ncreated == 1 ? "" : "s", n - (size_t)ncreated);
	gx_log(GX_LOG_INFO, "setup_done", "created=%d existing=%zu schemas=%zu "
	       "misconfigured=%d", ncreated, n - (size_t)ncreated, nschemas, bad);
	rc = bad ? GX_EXIT_CHECK : GX_EXIT_OK;
out:
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	free(specs);
	free(existed);
	if (rk)
		rd_kafka_destroy(rk);
	gx_schemas_destroy(schemas);
	return rc;
}

/* ================= catalog ================= */

static int cmp_item(const void *a, const void *b)
{
	const gx_cat_item_t *const *x = a, *const *y = b;
	return strcmp((*x)->id, (*y)->id);
}

/* Catalogue items sorted by id; caller frees the array. */
static const gx_cat_item_t **sorted_items(const gx_catalog_t *cat, size_t *n)
{
	const gx_cat_item_t **v = gx_calloc(gx_catalog_count(cat) + 1, sizeof(*v));
	const gx_cat_item_t *it;
	*n = 0;
	for (size_t i = 0; (it = gx_catalog_next(cat, &i));)
		v[(*n)++] = it;
	qsort(v, *n, sizeof(*v), cmp_item);
	return v;
}

static int catalog_import(struct ctl *x, const char *path)
{
	json_error_t jerr;
	json_t *doc;
	int rc;
	FILE *fp = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!fp)
		return fail_usage(x, "%s: %s", path, strerror(errno));
	size_t plen = strlen(path);
	if (plen > 4 && !strcasecmp(path + plen - 4, ".csv")) {
		/* The spreadsheet form: one row per field (gx_catalog_csv.h). */
		char cerr[1024];
		gx_schemas_t *cs = NULL;
		if ((rc = load_schemas(&cs))) {
			fclose(fp);
			return rc;
		}
		gx_err_t ce = gx_catalog_csv_read(fp, path, cs, &doc, cerr,
						  sizeof(cerr));
		gx_schemas_destroy(cs);
		fclose(fp);
		if (ce)
			return ce == GX_ERR_IO ? fail_runtime("%s", cerr)
					       : fail_usage(x, "%s", cerr);
	} else {
		doc = json_loadf(fp, JSON_REJECT_DUPLICATES, &jerr);
		if (fp != stdin)
			fclose(fp);
	}
	if (!doc) {
		if (jerr.line > 0)
			return fail_usage(x, "%s:%d: %s", path, jerr.line, jerr.text);
		return fail_usage(x, "%s: %s", path, jerr.text);
	}
	if (json_is_object(doc)) {
		json_t *a = json_array();
		json_array_append_new(a, doc);
		doc = a;
	}
	if (!json_is_array(doc)) {
		json_decref(doc);
		return fail_usage(x, "%s: expected a catalogue item (object) or "
				  "an array of items", path);
	}
	size_t n = json_array_size(doc);
	if (!n) {
		json_decref(doc);
		return fail_usage(x, "%s: no items", path);
	}

	gx_schemas_t *schemas = NULL;
	gx_cat_item_t **items = gx_calloc(n, sizeof(*items));
	gx_strv_t ids;
	gx_strv_init(&ids);
	rd_kafka_t *rk = NULL;
	char *topic = NULL;
	char err[1024];
	if ((rc = load_schemas(&schemas)))
		goto out;
	/* Check everything first: a file is published whole or not at all. */
	for (size_t i = 0; i < n; i++) {
		if (gx_cat_item_from_json(json_array_get(doc, i), schemas, &items[i],
					  err, sizeof(err)) ||
		    gx_check_code("item id", items[i]->id, err, sizeof(err)) ||
		    gx_check_code("provider", items[i]->provider, err, sizeof(err))) {
			rc = fail_usage(x, "%s: item %zu: %s", path, i + 1, err);
			goto out;
		}
		if (gx_strv_contains(&ids, items[i]->id)) {
			rc = fail_usage(x, "%s: item %zu: item id %s appears twice "
					"in the file", path, i + 1, items[i]->id);
			goto out;
		}
		gx_strv_push(&ids, items[i]->id);
	}

	topic = gx_topic(x->cc.prefix, "catalog");
	if ((rc = new_producer(x, NULL, &rk)) || (rc = need_topic(x, rk, topic)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		char *v = json_dumps(items[i]->json, JSON_COMPACT | JSON_PRESERVE_ORDER);
		rd_kafka_resp_err_t e = gx_kafka_produce(rk, topic, items[i]->id,
						strlen(items[i]->id), v, strlen(v));
		free(v);
		if (e) {
			rc = fail_runtime("produce to %s: %s", topic,
					  rd_kafka_err2str(e));
			goto out;
		}
	}
	if ((rc = flush_all(x, rk, topic)))
		goto out;
	for (size_t i = 0; i < n; i++)
		gx_log(GX_LOG_INFO, "catalog_item_published", "item=%s library=%s "
		       "provider=%s", items[i]->id, items[i]->library,
		       items[i]->provider);
	printf("published %zu item%s\n", n, n == 1 ? "" : "s");
out:
	for (size_t i = 0; i < n; i++)
		gx_cat_item_destroy(items[i]);
	free(items);
	gx_strv_free(&ids);
	free(topic);
	if (rk)
		rd_kafka_destroy(rk);
	gx_schemas_destroy(schemas);
	json_decref(doc);
	return rc;
}

/* Did the item list this field itself (rather than leave it implicitly
 * not shared)? */
static int item_lists_field(const gx_cat_item_t *item, const char *name)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(item->json, "fields"), i, f) {
		const char *s = json_string_value(json_object_get(f, "name"));
		if (s && !strcmp(s, name))
			return 1;
	}
	return 0;
}

static void catalog_list(const gx_catalog_t *cat, int json)
{
	size_t n;
	const gx_cat_item_t **v = sorted_items(cat, &n);
	if (json) {
		for (size_t i = 0; i < n; i++)
			print_json_line(v[i]->json);
		free(v);
		return;
	}
	static const char *const hdr[] = {"ITEM", "LIBRARY", "PROVIDER",
					  "UNCOND", "COND", "NONE", "NAME"};
	struct table t;
	table_init(&t, GX_ARRAY_SIZE(hdr), hdr);
	for (size_t i = 0; i < n; i++) {
		const gx_cat_item_t *it = v[i];
		int cnt[3] = {0, 0, 0};
		char b[3][24];
		for (size_t f = 0; f < it->lib->nfields; f++)
			if ((size_t)it->fields[f].share < 3)
				cnt[it->fields[f].share]++;
		for (int k = 0; k < 3; k++)
			snprintf(b[k], sizeof(b[k]), "%d", cnt[k]);
		table_cell(&t, it->id);
		table_cell(&t, it->library);
		table_cell(&t, it->provider);
		table_cell(&t, b[0]);
		table_cell(&t, b[1]);
		table_cell(&t, b[2]);
		table_cell(&t, it->name);
	}
	if (n)
		table_print(&t, stdout);
	else
		fprintf(stderr, "the catalogue is empty\n");
	table_free(&t);
	free(v);
}

static void catalog_show(const gx_cat_item_t *it, int json)
{
	if (json) {
		json_t *o = json_object();
		json_t *fa = json_array();
		json_object_set(o, "item", it->json);
		json_object_set_new(o, "offset", json_integer(it->offset));
		for (size_t i = 0; i < it->lib->nfields; i++) {
			const gx_cat_field_t *cf = &it->fields[i];
			json_t *f = json_object();
			json_object_set_new(f, "name", json_string(cf->name));
			json_object_set_new(f, "share", json_string(gx_share_name(cf->share)));
			json_object_set_new(f, "legal_basis", cf->legal_basis
				? json_string(cf->legal_basis) : json_null());
			json_object_set_new(f, "open", cf->open ? json_string(cf->open)
								: json_null());
			json_object_set_new(f, "listed",
					    json_boolean(item_lists_field(it, cf->name)));
			json_array_append_new(fa, f);
		}
		json_object_set_new(o, "fields", fa);
		print_json_line(o);
		json_decref(o);
		return;
	}
	static const char *const keys[] = {"name", "provider_name", "update_period",
					   "format", "classification",
					   "resource_code", "abstract",
					   "release_date"};
	char off[32];
	printf("item           %s\n", it->id);
	printf("library        %s\n", it->library);
	printf("provider       %s\n", it->provider);
	for (size_t i = 0; i < GX_ARRAY_SIZE(keys); i++) {
		const char *s = json_string_value(json_object_get(it->json, keys[i]));
		if (s)
			printf("%-14s %s\n", keys[i], s);
	}
	snprintf(off, sizeof(off), "%lld", (long long)it->offset);
	printf("%-14s %s\n\n", "offset", off);
	static const char *const hdr[] = {"FIELD", "SHARE", "OPEN", "LEGAL BASIS"};
	struct table t;
	table_init(&t, GX_ARRAY_SIZE(hdr), hdr);
	for (size_t i = 0; i < it->lib->nfields; i++) {
		const gx_cat_field_t *cf = &it->fields[i];
		int listed = item_lists_field(it, cf->name);
		table_cell(&t, cf->name);
		table_cell(&t, gx_share_name(cf->share));
		table_cell(&t, cf->open);
		table_cell(&t, listed ? cf->legal_basis
				      : "(not listed in the item: not shared)");
	}
	table_print(&t, stdout);
	table_free(&t);
}

static int cmd_catalog(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'}, COMMON_LONG, {NULL, 0, NULL, 0}};
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			usage(x, stdout);
			return GX_EXIT_OK;
		}
		return fail_usage(x, "expected import, list or show");
	}
	const char *sub = argv[1];
	if (strcmp(sub, "import") && strcmp(sub, "list") && strcmp(sub, "show"))
		return fail_usage(x, "unknown subcommand '%s' (expected import, "
				  "list or show)", sub);
	x->cmd = !strcmp(sub, "import") ? "catalog import"
		 : !strcmp(sub, "list") ? "catalog list" : "catalog show";
	argc--;
	argv++;
	int json = 0, c, rc;
	getopt_reset();
	/* Options may come before or after the positional argument: skip the
	 * '+' of COMMON_SHORT so getopt permutes. */
	while ((c = getopt_long(argc, argv, COMMON_SHORT + 1, opts, NULL)) != -1) {
		if (c == 'J' && strcmp(sub, "import")) {
			json = 1;
			continue;
		}
		if (c == 'J')
			return fail_usage(x, "--json does not apply to import");
		if ((rc = common_opt(x, c, argv)) >= 0)
			return rc;
	}
	size_t want = strcmp(sub, "list") ? 1 : 0;
	if ((size_t)(argc - optind) != want) {
		if ((size_t)(argc - optind) > want)
			return fail_usage(x, "unexpected argument '%s'",
					  argv[optind + want]);
		return fail_usage(x, "missing %s", strcmp(sub, "import") ? "ITEM"
									 : "FILE");
	}
	const char *arg = want ? argv[optind] : NULL;
	if ((rc = ctl_configure(x)))
		return rc;
	if (!strcmp(sub, "import"))
		return catalog_import(x, arg);

	gx_schemas_t *schemas = NULL;
	if ((rc = load_schemas(&schemas)))
		return rc;
	gx_catalog_t *cat = gx_catalog_new(schemas);
	if (!(rc = load_state(x, "catalog", on_catalog, cat))) {
		if (!strcmp(sub, "list")) {
			catalog_list(cat, json);
		} else {
			const gx_cat_item_t *it = gx_catalog_get(cat, arg);
			if (!it)
				rc = fail_usage(x, "no catalogue item %s", arg);
			else
				catalog_show(it, json);
		}
	}
	gx_catalog_destroy(cat);
	gx_schemas_destroy(schemas);
	return rc;
}

/* ================= request ================= */

/* Report a failed transactional call; aborts when Kafka asks for it. */
int txn_fail(rd_kafka_t *rk, const char *step, rd_kafka_error_t *e,
		    int timeout_ms)
{
	int abortable = rd_kafka_error_txn_requires_abort(e);
	gx_log(GX_LOG_ERROR, "transaction_failed", "step=%s error=%s", step,
	       rd_kafka_error_name(e));
	fail_runtime("transaction %s: %s; nothing was recorded", step,
		     rd_kafka_error_string(e));
	rd_kafka_error_destroy(e);
	if (abortable) {
		rd_kafka_error_t *ae = rd_kafka_abort_transaction(rk, timeout_ms);
		if (ae) {
			gx_log(GX_LOG_ERROR, "transaction_abort_failed", "error=%s",
			       rd_kafka_error_name(ae));
			rd_kafka_error_destroy(ae);
		}
	}
	return GX_EXIT_RUNTIME;
}

int txn_commit(rd_kafka_t *rk, int timeout_ms)
{
	/* Retry a commit that Kafka says may be retried, within the timeout. */
	int64_t deadline = gx_mono_ms() + timeout_ms;
	rd_kafka_error_t *e;
	while ((e = rd_kafka_commit_transaction(rk, timeout_ms))) {
		if (!rd_kafka_error_is_retriable(e) || gx_mono_ms() >= deadline)
			return txn_fail(rk, "commit", e, timeout_ms);
		rd_kafka_error_destroy(e);
	}
	return GX_EXIT_OK;
}

/*
 * An end date as agencies write it: a bare date (YYYY-MM-DD) means through
 * that day in China Standard Time, so the grant ends at the next midnight,
 * UTC+08:00; anything else is an RFC 3339 time taken as given.
 */
static int parse_until(const char *s, int64_t *ms)
{
	int32_t days;
	if (strlen(s) == 10 && !gx_parse_date(s, &days)) {
		*ms = ((int64_t)days + 1) * 86400000 - 8 * 3600000;
		return 0;
	}
	return gx_parse_time_ms(s, ms) == GX_OK ? 0 : -1;
}

/*
 * Write events to <prefix>.approvals, keyed by the request id, in one Kafka
 * transaction: all of them are recorded or none. If deliver_topic is given,
 * it is created first, so the broker never holds a grant it cannot deliver
 * under. Returns an exit status; on failure nothing was recorded.
 */
int write_events(struct ctl *x, const char *key, json_t *const *events,
			size_t n, const char *deliver_topic, long partitions,
			long replication)
{
	char err[1024], txu[37];
	rd_kafka_t *rk = NULL;
	rd_kafka_error_t *ke;
	int rc, in_txn = 0;
	gx_uuid(txu);
	char *txid = gx_asprintf("govexctl-%s", txu);
	char *ap_topic = gx_topic(x->cc.prefix, "approvals");
	const char *const extra[] = {"transactional.id", txid, NULL};
	int tmo = (int)x->cc.timeout_ms;
	if ((rc = new_producer(x, extra, &rk)) || (rc = need_topic(x, rk, ap_topic)))
		goto out;
	if ((ke = rd_kafka_init_transactions(rk, tmo))) {
		rc = txn_fail(rk, "init", ke, tmo);
		goto out;
	}
	if (deliver_topic) {
		gx_topic_spec_t spec = {deliver_topic, (int)partitions,
					(int)replication, NULL};
		int created = 0;
		if (gx_kafka_create_topics(rk, &spec, 1, tmo, &created, err,
					   sizeof(err))) {
			rc = fail_runtime("%s; nothing was recorded", err);
			goto out;
		}
		if (created)
			gx_log(GX_LOG_INFO, "topic_created", "topic=%s partitions=%ld "
			       "replication=%ld", deliver_topic, partitions,
			       replication);
	}
	if ((ke = rd_kafka_begin_transaction(rk))) {
		rc = txn_fail(rk, "begin", ke, tmo);
		goto out;
	}
	in_txn = 1;
	for (size_t i = 0; i < n; i++) {
		char *v = json_dumps(events[i], JSON_COMPACT | JSON_PRESERVE_ORDER);
		rd_kafka_resp_err_t e = gx_kafka_produce(rk, ap_topic, key,
							 strlen(key), v, strlen(v));
		free(v);
		if (e) {
			rc = fail_runtime("produce to %s: %s; nothing was recorded",
					  ap_topic, rd_kafka_err2str(e));
			goto out;
		}
	}
	rc = txn_commit(rk, tmo);
	in_txn = 0;
out:
	if (in_txn) {
		rd_kafka_error_t *ae = rd_kafka_abort_transaction(rk, tmo);
		if (ae)
			rd_kafka_error_destroy(ae);
	}
	if (rk)
		rd_kafka_destroy(rk);
	free(ap_topic);
	free(txid);
	return rc;
}

static int cmd_request(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"consumer", required_argument, NULL, 'C'},
	    {"item", required_argument, NULL, 'I'},
	    {"fields", required_argument, NULL, 'F'},
	    {"purpose", required_argument, NULL, 'U'},
	    {"basis", required_argument, NULL, 'B'},
	    {"until", required_argument, NULL, 'T'},
	    {"partitions", required_argument, NULL, 'P'},
	    {"replication", required_argument, NULL, 'R'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *consumer = NULL, *item_id = NULL, *fields_arg = NULL;
	const char *purpose = NULL, *basis = NULL, *until_arg = NULL;
	long partitions = 3, replication = 1;
	int c, rc;
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'C': consumer = optarg; break;
		case 'I': item_id = optarg; break;
		case 'F': fields_arg = optarg; break;
		case 'U': purpose = optarg; break;
		case 'B': basis = optarg; break;
		case 'T': until_arg = optarg; break;
		default:
			if ((rc = topic_opt(x, c, &partitions, &replication)) == -2)
				rc = common_opt(x, c, argv);
			if (rc >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	char err[1024];
	const struct {
		const char *opt, *val;
	} req[] = {{"--consumer", consumer}, {"--item", item_id},
		   {"--fields", fields_arg}, {"--purpose", purpose},
		   {"--basis", basis}};
	for (size_t i = 0; i < GX_ARRAY_SIZE(req); i++)
		if (!req[i].val || !*req[i].val)
			return fail_usage(x, "%s is required and must not be empty"
					  "%s", req[i].opt,
					  i >= 3 ? " (art. 13: state the purpose "
						   "and legal basis)" : "");
	if (gx_check_code("consumer", consumer, err, sizeof(err)) ||
	    gx_check_code("item", item_id, err, sizeof(err)))
		return fail_usage(x, "%s", err);
	int64_t now = gx_now_ms(), until = 0;
	if (until_arg) {
		if (parse_until(until_arg, &until))
			return fail_usage(x, "--until: expected YYYY-MM-DD or an RFC "
					  "3339 time, got '%s'", until_arg);
		if (until <= now)
			return fail_usage(x, "--until %s is not in the future",
					  until_arg);
	}
	gx_strv_t fields;
	gx_strv_init(&fields);
	gx_strv_split(&fields, fields_arg);
	if ((rc = ctl_configure(x))) {
		gx_strv_free(&fields);
		return rc;
	}

	gx_schemas_t *schemas = NULL;
	gx_catalog_t *cat = NULL;
	gx_request_eval_t re;
	memset(&re, 0, sizeof(re));
	json_t *ev_req = NULL, *ev_dec = NULL;
	char *del_topic = NULL;
	char rid[37], gid[37] = "";
	if ((rc = load_schemas(&schemas)))
		goto out;
	cat = gx_catalog_new(schemas);
	if ((rc = load_state(x, "catalog", on_catalog, cat)))
		goto out;
	const gx_cat_item_t *item = gx_catalog_get(cat, item_id);
	if (!item) {
		rc = fail_usage(x, "no catalogue item %s", item_id);
		goto out;
	}
	if (gx_policy_request(item, &fields, &re, err, sizeof(err))) {
		rc = fail_usage(x, "%s", err);
		goto out;
	}

	gx_uuid(rid);
	ev_req = gx_event_request(rid, consumer, item_id, &fields, purpose, basis,
				  until, now);
	if (re.refused.n) {
		json_t *a = json_array();
		for (size_t i = 0; i < re.refused.n; i++) {
			json_t *r = json_object();
			json_object_set_new(r, "field", json_string(re.refused.v[i]));
			/* A field the item does not list has no basis of its own. */
			json_object_set_new(r, "legal_basis",
					    *re.refused_basis.v[i]
						? json_string(re.refused_basis.v[i])
						: json_null());
			json_array_append_new(a, r);
		}
		json_object_set_new(ev_req, "refused", a);
	}
	/*
	 * Only unconditional fields asked for (besides refused ones): the
	 * exchange grants them at once (art. 13). Any conditional field leaves
	 * the whole request to the provider. Nothing left to grant: the
	 * request is decided now, as denied, so it does not wait forever.
	 */
	int grant = !re.conditional.n && re.automatic.n;
	if (grant) {
		gx_uuid(gid);
		ev_dec = gx_event_approve(rid, gid, &re.automatic, until, 1,
					  EXCHANGE_ACTOR, now);
	} else if (!re.conditional.n) {
		ev_dec = gx_event_deny(rid, "every requested field is not "
					    "shared (art. 12)", EXCHANGE_ACTOR, now);
	}

	if (grant)
		del_topic = gx_topic_deliver(x->cc.prefix, consumer, item->lib->name);
	json_t *events[] = {ev_req, ev_dec};
	if ((rc = write_events(x, rid, events, ev_dec ? 2 : 1, del_topic,
			       partitions, replication)))
		goto out;

	gx_log(GX_LOG_INFO, "request_filed",
	       "request_id=%s consumer=%s item=%s automatic=%zu conditional=%zu "
	       "refused=%zu grant_id=%s", rid, consumer, item_id, re.automatic.n,
	       re.conditional.n, re.refused.n, grant ? gid : "-");
	printf("%s\n", rid);
	fflush(stdout);
	char ubuf[40];
	if (until)
		gx_fmt_time_ms(until, ubuf, sizeof(ubuf));
	if (grant) {
		char *f = gx_strv_join(&re.automatic, ", ");
		fprintf(stderr, "granted at once: %s (grant %s, %s%s; delivered to "
				"%s)\n", f, gid, until ? "until " : "open-ended",
			until ? ubuf : "", del_topic);
		free(f);
	}
	if (re.conditional.n) {
		/* The provider decides the whole request, unconditional fields
		 * included: one request, one decision. */
		char *f = gx_strv_join(&re.conditional, ", ");
		char *a = re.automatic.n ? gx_strv_join(&re.automatic, ", ") : NULL;
		fprintf(stderr, "pending provider approval (%s): %s%s%s\n",
			item->provider, f, a ? "; with it the unconditional "
					       "fields " : "", a ? a : "");
		free(f);
		free(a);
	}
	for (size_t i = 0; i < re.refused.n; i++)
		fprintf(stderr, "refused: %s (%s)\n", re.refused.v[i],
			*re.refused_basis.v[i] ? re.refused_basis.v[i]
					       : "not listed in the catalogue item");
	if (!grant && !re.conditional.n)
		fprintf(stderr, "request denied: nothing requested may be shared\n");
	rc = GX_EXIT_OK;
out:
	json_decref(ev_req);
	json_decref(ev_dec);
	free(del_topic);
	gx_request_eval_free(&re);
	gx_catalog_destroy(cat);
	gx_schemas_destroy(schemas);
	gx_strv_free(&fields);
	return rc;
}

/* ================= requests, grants ================= */

const char *req_state_name(gx_req_state_t s)
{
	switch (s) {
	case GX_REQ_PENDING: return "pending";
	case GX_REQ_GRANTED: return "granted";
	case GX_REQ_DENIED: return "denied";
	}
	return "?";
}

const char *grant_status(const gx_grant_t *g, int64_t now)
{
	if (g->revoked)
		return "revoked";
	if (!gx_grant_live(g, now))
		return "expired";
	return "live";
}

static int cmp_req(const void *a, const void *b)
{
	const gx_request_t *const *x = a, *const *y = b;
	return (*x)->offset < (*y)->offset ? -1 : (*x)->offset > (*y)->offset;
}

static int cmp_grant(const void *a, const void *b)
{
	const gx_grant_t *const *x = a, *const *y = b;
	return (*x)->offset < (*y)->offset ? -1 : (*x)->offset > (*y)->offset;
}

/* The grant a request led to, if any. */
static const gx_grant_t *grant_of(const gx_approvals_t *ap,
				  const gx_request_t *r)
{
	size_t n;
	const gx_grant_t *const *g = gx_approvals_grants_for_item(ap, r->item, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(g[i]->request_id, r->id))
			return g[i];
	return NULL;
}

static int parse_listing(struct ctl *x, int argc, char **argv, int grants,
			 int *json, int *pending, const char **consumer)
{
	static const struct option ropts[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"pending", no_argument, NULL, 'N'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	static const struct option gopts[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"consumer", required_argument, NULL, 'C'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	int c, rc;
	char err[512];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, grants ? gopts : ropts,
				NULL)) != -1) {
		switch (c) {
		case 'J': *json = 1; break;
		case 'N': *pending = 1; break;
		case 'C':
			if (gx_check_code("consumer", optarg, err, sizeof(err)))
				return fail_usage(x, "%s", err);
			*consumer = optarg;
			break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	return -1;
}

static int cmd_requests(struct ctl *x, int argc, char **argv)
{
	int json = 0, pending = 0, rc;
	const char *consumer = NULL;
	if ((rc = parse_listing(x, argc, argv, 0, &json, &pending, &consumer)) >= 0)
		return rc;
	if ((rc = ctl_configure(x)))
		return rc;
	gx_approvals_t *ap = gx_approvals_new();
	if ((rc = load_state(x, "approvals", on_approval, ap))) {
		gx_approvals_destroy(ap);
		return rc;
	}
	size_t n = 0, cap = 16;
	const gx_request_t **v = gx_malloc(cap * sizeof(*v)), *r;
	for (size_t it = 0; (r = gx_approvals_next_request(ap, &it));) {
		if (pending && r->state != GX_REQ_PENDING)
			continue;
		if (n == cap)
			v = gx_realloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = r;
	}
	qsort(v, n, sizeof(*v), cmp_req);
	static const char *const hdr[] = {"REQUEST", "CONSUMER", "ITEM", "STATE",
					  "AT", "UNTIL", "FIELDS", "PURPOSE"};
	struct table t;
	table_init(&t, GX_ARRAY_SIZE(hdr), hdr);
	for (size_t i = 0; i < n; i++) {
		r = v[i];
		const gx_grant_t *g = grant_of(ap, r);
		if (json) {
			json_t *o = json_object();
			json_object_set_new(o, "request_id", json_string(r->id));
			json_object_set_new(o, "consumer", json_string(r->consumer));
			json_object_set_new(o, "item", json_string(r->item));
			json_object_set_new(o, "fields", json_strv(&r->fields));
			json_object_set_new(o, "purpose", json_string(r->purpose));
			json_object_set_new(o, "basis", json_string(r->basis));
			json_object_set_new(o, "at", json_time(r->at_ms));
			json_object_set_new(o, "until", json_time(r->until_ms));
			json_object_set_new(o, "state", json_string(req_state_name(r->state)));
			json_object_set_new(o, "deny_reason", r->deny_reason
				? json_string(r->deny_reason) : json_null());
			json_object_set_new(o, "grant_id", g ? json_string(g->id)
							     : json_null());
			json_object_set_new(o, "offset", json_integer(r->offset));
			print_json_line(o);
			json_decref(o);
			continue;
		}
		char at[40], until[40];
		fmt_ms(r->at_ms, at, sizeof(at));
		fmt_ms(r->until_ms, until, sizeof(until));
		char *f = gx_strv_join(&r->fields, ",");
		table_cell(&t, r->id);
		table_cell(&t, r->consumer);
		table_cell(&t, r->item);
		table_cell(&t, req_state_name(r->state));
		table_cell(&t, at);
		table_cell(&t, until);
		table_cell(&t, f);
		table_cell(&t, r->purpose);
		free(f);
	}
	if (!json) {
		if (n)
			table_print(&t, stdout);
		else
			fprintf(stderr, pending ? "no pending requests\n"
						: "no requests\n");
	}
	table_free(&t);
	free(v);
	gx_approvals_destroy(ap);
	return GX_EXIT_OK;
}

static int cmd_grants(struct ctl *x, int argc, char **argv)
{
	int json = 0, pending = 0, rc;
	const char *consumer = NULL;
	if ((rc = parse_listing(x, argc, argv, 1, &json, &pending, &consumer)) >= 0)
		return rc;
	if ((rc = ctl_configure(x)))
		return rc;
	gx_approvals_t *ap = gx_approvals_new();
	if ((rc = load_state(x, "approvals", on_approval, ap))) {
		gx_approvals_destroy(ap);
		return rc;
	}
	int64_t now = gx_now_ms();
	size_t n = 0;
	const gx_grant_t **v =
	    gx_calloc(gx_approvals_grant_count(ap) + 1, sizeof(*v)), *g;
	for (size_t it = 0; (g = gx_approvals_next_grant(ap, &it));)
		if (!consumer || !strcmp(g->consumer, consumer))
			v[n++] = g;
	qsort(v, n, sizeof(*v), cmp_grant);
	static const char *const hdr[] = {"GRANT", "CONSUMER", "ITEM", "STATUS",
					  "BY", "FROM", "UNTIL", "FIELDS"};
	struct table t;
	table_init(&t, GX_ARRAY_SIZE(hdr), hdr);
	for (size_t i = 0; i < n; i++) {
		g = v[i];
		if (json) {
			json_t *o = json_object();
			json_object_set_new(o, "grant_id", json_string(g->id));
			json_object_set_new(o, "request_id", json_string(g->request_id));
			json_object_set_new(o, "consumer", json_string(g->consumer));
			json_object_set_new(o, "item", json_string(g->item));
			json_object_set_new(o, "fields", json_strv(&g->fields));
			json_object_set_new(o, "purpose", json_string(g->purpose));
			json_object_set_new(o, "from", json_time(g->from_ms));
			json_object_set_new(o, "until", json_time(g->until_ms));
			json_object_set_new(o, "automatic", json_boolean(g->automatic));
			json_object_set_new(o, "approved_by", json_string(g->approved_by));
			json_object_set_new(o, "revoked", json_boolean(g->revoked));
			json_object_set_new(o, "revoked_at", json_time(g->revoked_at_ms));
			json_object_set_new(o, "status", json_string(grant_status(g, now)));
			json_object_set_new(o, "offset", json_integer(g->offset));
			print_json_line(o);
			json_decref(o);
			continue;
		}
		char from[40], until[40];
		fmt_ms(g->from_ms, from, sizeof(from));
		fmt_ms(g->until_ms, until, sizeof(until));
		char *f = gx_strv_join(&g->fields, ",");
		char *by = gx_asprintf("%s%s", g->approved_by,
				       g->automatic ? " (automatic)" : "");
		table_cell(&t, g->id);
		table_cell(&t, g->consumer);
		table_cell(&t, g->item);
		table_cell(&t, grant_status(g, now));
		table_cell(&t, by);
		table_cell(&t, from);
		table_cell(&t, until);
		table_cell(&t, f);
		free(f);
		free(by);
	}
	if (!json) {
		if (n)
			table_print(&t, stdout);
		else
			fprintf(stderr, "no grants\n");
	}
	table_free(&t);
	free(v);
	gx_approvals_destroy(ap);
	return GX_EXIT_OK;
}

/* ================= consume ================= */

/* Append s to b with the regex metacharacters escaped. */
static void regex_escape(gx_buf_t *b, const char *s)
{
	for (; *s; s++) {
		if (strchr(".^$|()[]{}*+?\\", *s))
			gx_buf_putc(b, '\\');
		gx_buf_putc(b, *s);
	}
}

static const char *prov_str(avro_value_t *prov, const char *name)
{
	avro_value_t f;
	const char *s = NULL;
	size_t n;
	if (avro_value_get_by_name(prov, name, &f, NULL) ||
	    avro_value_get_string(&f, &s, &n))
		return NULL;
	return s;
}

static int64_t prov_long(avro_value_t *prov, const char *name)
{
	avro_value_t f;
	int64_t v = 0;
	if (avro_value_get_by_name(prov, name, &f, NULL) ||
	    avro_value_get_long(&f, &v))
		return 0;
	return v;
}

/* A delivery value as the JSON object consume --json prints. */
static json_t *delivery_json(const gx_library_t *lib, avro_value_t *del,
			     const rd_kafka_message_t *m, int *unrepresentable)
{
	avro_value_t payload, prov, wh;
	json_t *o = json_object();
	*unrepresentable = 0;
	avro_value_get_by_name(del, "payload", &payload, NULL);
	for (size_t i = 0; i < lib->nfields; i++) {
		avro_value_t fv;
		json_t *j = NULL;
		if (!avro_value_get_by_index(&payload, i, &fv, NULL))
			j = gx_field_to_json(&lib->fields[i], &fv);
		if (!j) {
			/* e.g. a string that is not UTF-8: say so, not drop it */
			(*unrepresentable)++;
			j = json_null();
		}
		json_object_set_new(o, lib->fields[i].name, j);
	}
	json_t *p = json_object();
	avro_value_get_by_name(del, "provenance", &prov, NULL);
	static const char *const strs[] = {"record_id", "provider", "item"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(strs); i++) {
		const char *s = prov_str(&prov, strs[i]);
		json_object_set_new(p, strs[i], s ? json_string(s) : json_null());
	}
	json_object_set_new(p, "collected_at", json_time(prov_long(&prov, "collected_at")));
	json_object_set_new(p, "released_at", json_time(prov_long(&prov, "released_at")));
	static const char *const strs2[] = {"grant_id", "consumer"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(strs2); i++) {
		const char *s = prov_str(&prov, strs2[i]);
		json_object_set_new(p, strs2[i], s ? json_string(s) : json_null());
	}
	json_t *wa = json_array();
	size_t nw = 0;
	if (!avro_value_get_by_name(&prov, "withheld", &wh, NULL))
		avro_value_get_size(&wh, &nw);
	for (size_t i = 0; i < nw; i++) {
		avro_value_t e;
		const char *s;
		size_t sl;
		if (!avro_value_get_by_index(&wh, i, &e, NULL) &&
		    !avro_value_get_string(&e, &s, &sl))
			json_array_append_new(wa, json_string(s));
	}
	json_object_set_new(p, "withheld", wa);
	avro_value_t opv, proof;
	int op = 0;
	if (!avro_value_get_by_name(&prov, "op", &opv, NULL))
		avro_value_get_enum(&opv, &op);
	json_object_set_new(p, "op", json_string(op ? "DELETE" : "UPSERT"));
	if (!avro_value_get_by_name(&prov, "proof", &proof, NULL)) {
		const char *bid = prov_str(&proof, "batch_id");
		json_object_set_new(p, "batch_id", bid ? json_string(bid) : json_null());
	}
	json_object_set_new(o, "_provenance", p);
	json_object_set_new(o, "_topic", json_string(rd_kafka_topic_name(m->rkt)));
	json_object_set_new(o, "_partition", json_integer(m->partition));
	json_object_set_new(o, "_offset", json_integer(m->offset));
	json_t *k = m->key ? json_stringn(m->key, m->key_len) : json_null();
	json_object_set_new(o, "_key", k ? k : json_null());
	return o;
}

/* The compact human line for a delivery. */
static void print_delivery_line(const gx_library_t *lib, json_t *o)
{
	json_t *p = json_object_get(o, "_provenance");
	json_t *wh = json_object_get(p, "withheld");
	gx_buf_t b;
	gx_buf_init(&b);
	gx_buf_printf(&b, "%s[%lld]@%lld record=%s item=%s grant=%s",
		      json_string_value(json_object_get(o, "_topic")),
		      (long long)json_integer_value(json_object_get(o, "_partition")),
		      (long long)json_integer_value(json_object_get(o, "_offset")),
		      json_string_value(json_object_get(p, "record_id")) ?: "-",
		      json_string_value(json_object_get(p, "item")) ?: "-",
		      json_string_value(json_object_get(p, "grant_id")) ?: "-");
	for (size_t i = 0; i < lib->nfields; i++) {
		const char *name = lib->fields[i].name;
		int withheld = 0;
		size_t k;
		json_t *w;
		json_array_foreach(wh, k, w)
			if (!strcmp(json_string_value(w) ?: "", name))
				withheld = 1;
		if (withheld)
			continue;
		json_t *v = json_object_get(o, name);
		if (json_is_string(v)) {
			const char *s = json_string_value(v);
			size_t qn = strlen(s) * 2 + 3;
			char *q = gx_malloc(qn);
			gx_buf_printf(&b, " %s=%s", name, gx_log_quote(s, q, qn));
			free(q);
		} else {
			char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			gx_buf_printf(&b, " %s=%s", name, s ? s : "null");
			free(s);
		}
	}
	if (json_array_size(wh)) {
		gx_buf_append(&b, " withheld=", 10);
		size_t k;
		json_t *w;
		json_array_foreach(wh, k, w)
			gx_buf_printf(&b, "%s%s", k ? "," : "", json_string_value(w));
	}
	puts(gx_buf_cstr(&b));
	fflush(stdout);
	gx_buf_free(&b);
}

static int cmd_consume(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"consumer", required_argument, NULL, 'C'},
	    {"library", required_argument, NULL, 'L'},
	    {"group", required_argument, NULL, 'G'},
	    {"json", no_argument, NULL, 'J'},
	    {"max", required_argument, NULL, 'M'},
	    {"idle-exit", required_argument, NULL, 'E'},
	    {"from-beginning", no_argument, NULL, 'B'},
	    {"no-from-beginning", no_argument, NULL, 'Z'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *consumer = NULL, *library = NULL, *group = NULL;
	int json = 0, from_beginning = 1, c, rc;
	long max = 0;
	int64_t idle_ms = 0;
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'C': consumer = optarg; break;
		case 'L': library = optarg; break;
		case 'G': group = optarg; break;
		case 'J': json = 1; break;
		case 'B': from_beginning = 1; break;
		case 'Z': from_beginning = 0; break;
		case 'M':
			if ((rc = opt_int(x, "--max", optarg, 1, LONG_MAX, &max)))
				return rc;
			break;
		case 'E':
			if ((rc = opt_duration(x, "--idle-exit", optarg, &idle_ms)))
				return rc;
			break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!consumer)
		return fail_usage(x, "--consumer is required");
	if (gx_check_code("consumer", consumer, err, sizeof(err)))
		return fail_usage(x, "%s", err);
	if (group && !*group)
		return fail_usage(x, "--group must not be empty");
	if ((rc = ctl_configure(x)))
		return rc;

	gx_schemas_t *schemas = NULL;
	if ((rc = load_schemas(&schemas)))
		return rc;
	if (library && !gx_schemas_library(schemas, library)) {
		gx_schemas_destroy(schemas);
		return fail_usage(x, "--library: unknown library '%s'", library);
	}
	gx_buf_t pat;
	gx_buf_init(&pat);
	gx_buf_putc(&pat, '^');
	regex_escape(&pat, x->cc.prefix);
	gx_buf_printf(&pat, "\\.deliver\\.");
	regex_escape(&pat, consumer);
	gx_buf_printf(&pat, "\\.");
	if (library) {
		regex_escape(&pat, library);
		gx_buf_putc(&pat, '$');
	} else {
		gx_buf_printf(&pat, ".*");
	}
	char *gid = group ? gx_strdup(group) : gx_asprintf("govex-consume-%s", consumer);
	/* New topics matching the pattern are picked up within a second, so a
	 * consumer may start before its first grant. */
	const char *const extra[] = {
	    "group.id", gid,
	    "auto.offset.reset", from_beginning ? "earliest" : "latest",
	    "isolation.level", "read_committed",
	    "enable.auto.commit", "true",
	    "enable.partition.eof", "false",
	    "topic.metadata.refresh.interval.ms", "1000",
	    NULL};
	size_t nlib = gx_schemas_count(schemas);
	avro_value_t *vals = gx_calloc(nlib, sizeof(*vals));
	unsigned char *have = gx_calloc(nlib, 1);
	rd_kafka_t *rk = NULL;
	rd_kafka_conf_t *kc;
	long count = 0, printed = 0, skipped = 0;
	if (gx_kafka_conf(&x->conf, x->cc.brokers, extra, &kc, err, sizeof(err))) {
		rc = fail_usage(x, "%s", err);
		goto out;
	}
	if (!(rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err)))) {
		rd_kafka_conf_destroy(kc);
		rc = fail_runtime("cannot create a Kafka consumer: %s", err);
		goto out;
	}
	rd_kafka_poll_set_consumer(rk);
	if ((rc = kafka_reachable(x, rk)))
		goto out;
	rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, gx_buf_cstr(&pat),
					  RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t se = rd_kafka_subscribe(rk, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (se) {
		rc = fail_runtime("subscribe to %s: %s", gx_buf_cstr(&pat),
				  rd_kafka_err2str(se));
		goto out;
	}
	gx_log(GX_LOG_INFO, "consume_started", "pattern=%s group=%s",
	       gx_buf_cstr(&pat), gid);
	catch_signals();
	int64_t last = gx_mono_ms();
	while (!stop) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (!m) {
			if (idle_ms && gx_mono_ms() - last >= idle_ms)
				break;
			continue;
		}
		if (m->err) {
			char fe[512];
			if (rd_kafka_fatal_error(rk, fe, sizeof(fe))) {
				rd_kafka_message_destroy(m);
				rc = fail_runtime("consumer: %s", fe);
				goto out;
			}
			/* No topic matching the pattern yet is the normal state
			 * before a consumer's first grant. */
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				char q[600];
				gx_log(m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
					   ? GX_LOG_DEBUG : GX_LOG_WARN,
				       "consume_error", "error=%s detail=%s",
				       rd_kafka_err2name(m->err),
				       gx_log_quote(rd_kafka_message_errstr(m), q,
						    sizeof(q)));
			}
			rd_kafka_message_destroy(m);
			if (idle_ms && gx_mono_ms() - last >= idle_ms)
				break;
			continue;
		}
		last = gx_mono_ms();
		count++;
		const char *tname = rd_kafka_topic_name(m->rkt);
		uint64_t fp;
		gx_view_t view;
		const gx_library_t *lib = NULL;
		if (gx_avro_so_fingerprint(m->payload, m->len, &fp, err, sizeof(err))) {
			/* errstr set */
		} else if (!(lib = gx_schemas_by_fp(schemas, fp, &view)) ||
			   view != GX_VIEW_DELIVERY) {
			snprintf(err, sizeof(err), "schema fingerprint %016" PRIx64
				 " is not a delivery schema", fp);
			lib = NULL;
		}
		size_t li = 0;
		while (lib && gx_schemas_at(schemas, li) != lib)
			li++;
		if (lib && !have[li]) {
			avro_generic_value_new(lib->delivery_iface, &vals[li]);
			have[li] = 1;
		}
		if (lib) {
			avro_value_reset(&vals[li]);
			if (gx_avro_so_decode(m->payload, m->len, &vals[li], err,
					      sizeof(err)))
				lib = NULL;
		}
		if (!lib) {
			skipped++;
			fprintf(stderr, PROG ": %s [%d] offset %lld: skipped: %s\n",
				tname, (int)m->partition, (long long)m->offset, err);
		} else {
			int bad;
			json_t *o = delivery_json(lib, &vals[li], m, &bad);
			if (bad)
				fprintf(stderr, PROG ": %s [%d] offset %lld: %d field "
					"value(s) not representable in JSON, shown "
					"as null\n", tname, (int)m->partition,
					(long long)m->offset, bad);
			if (json)
				print_json_line(o);
			else
				print_delivery_line(lib, o);
			json_decref(o);
			printed++;
		}
		rd_kafka_message_destroy(m);
		if (max && count >= max)
			break;
	}
	gx_log(GX_LOG_INFO, "consume_done", "messages=%ld printed=%ld skipped=%ld",
	       count, printed, skipped);
	if (skipped)
		fprintf(stderr, PROG ": %ld message%s skipped\n", skipped,
			skipped == 1 ? "" : "s");
	rc = GX_EXIT_OK;
out:
	if (rk) {
		rd_kafka_consumer_close(rk); /* commits what was printed */
		rd_kafka_destroy(rk);
	}
	for (size_t i = 0; i < nlib; i++)
		if (have[i])
			avro_value_decref(&vals[i]);
	free(vals);
	free(have);
	free(gid);
	gx_buf_free(&pat);
	gx_schemas_destroy(schemas);
	return rc;
}

/* ================= rejected ================= */

struct rejected_state {
	int json;
	long max, count, bad;
	int64_t last;
};

static int on_rejected(void *opaque, const rd_kafka_message_t *m)
{
	struct rejected_state *st = opaque;
	json_error_t jerr;
	st->last = gx_mono_ms();
	st->count++;
	json_t *j = m->payload ? json_loadb(m->payload, m->len, 0, &jerr) : NULL;
	if (!json_is_object(j)) {
		st->bad++;
		fprintf(stderr, PROG ": %s [%d] offset %lld: not a JSON object\n",
			rd_kafka_topic_name(m->rkt), (int)m->partition,
			(long long)m->offset);
	} else if (st->json) {
		print_json_line(j);
	} else {
		char at[40];
		json_t *a = json_object_get(j, "at");
		fmt_ms(json_is_integer(a) ? json_integer_value(a) : 0, at, sizeof(at));
		printf("%s %s %s %s\n", at,
		       json_string_value(json_object_get(j, "reason")) ?: "-",
		       json_string_value(json_object_get(j, "source")) ?: "-",
		       json_string_value(json_object_get(j, "detail")) ?: "-");
		fflush(stdout);
	}
	json_decref(j);
	return stop || (st->max && st->count >= st->max);
}

static int cmd_rejected(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"max", required_argument, NULL, 'M'},
	    {"idle-exit", required_argument, NULL, 'E'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	struct rejected_state st = {0, 0, 0, 0, 0};
	int64_t idle_ms = 0;
	int c, rc;
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'J': st.json = 1; break;
		case 'M':
			if ((rc = opt_int(x, "--max", optarg, 1, LONG_MAX, &st.max)))
				return rc;
			break;
		case 'E':
			if ((rc = opt_duration(x, "--idle-exit", optarg, &idle_ms)))
				return rc;
			break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_configure(x)))
		return rc;
	/* A state reader reads every partition from the start and commits
	 * nothing: the right tool for an audit listing. */
	char *topic = gx_topic(x->cc.prefix, "rejected");
	gx_state_reader_t *sr = NULL;
	if (gx_state_reader_new(&x->conf, x->cc.brokers, topic, &sr, err,
				sizeof(err))) {
		rc = fail_runtime("cannot read %s at %s: %s", topic, x->cc.brokers,
				  err);
		free(topic);
		return rc;
	}
	catch_signals();
	st.last = gx_mono_ms();
	rc = GX_EXIT_OK;
	while (!stop && !(st.max && st.count >= st.max)) {
		if (gx_state_reader_poll(sr, on_rejected, &st, 200, err, sizeof(err))) {
			rc = fail_runtime("%s", err);
			break;
		}
		if (idle_ms && gx_mono_ms() - st.last >= idle_ms)
			break;
	}
	gx_state_reader_destroy(sr);
	free(topic);
	if (st.bad)
		fprintf(stderr, PROG ": %ld message%s skipped\n", st.bad,
			st.bad == 1 ? "" : "s");
	return rc;
}

/* ================= approve, deny, revoke ================= */

/* Catalogue and approvals as they stand, for a provider's decision. */
struct decision_state {
	gx_schemas_t *schemas;
	gx_catalog_t *cat;
	gx_approvals_t *ap;
};

static void decision_state_free(struct decision_state *d)
{
	gx_approvals_destroy(d->ap);
	gx_catalog_destroy(d->cat);
	gx_schemas_destroy(d->schemas);
}

static int decision_state_load(struct ctl *x, struct decision_state *d)
{
	int rc;
	memset(d, 0, sizeof(*d));
	if ((rc = ctl_configure(x)) || (rc = load_schemas(&d->schemas)))
		return rc;
	d->cat = gx_catalog_new(d->schemas);
	d->ap = gx_approvals_new();
	if ((rc = load_state(x, "catalog", on_catalog, d->cat)) ||
	    (rc = load_state(x, "approvals", on_approval, d->ap)))
		return rc;
	return GX_EXIT_OK;
}

/*
 * Only the item's provider decides on requests for it and revokes its
 * grants (art. 13). Refused with exit 2; nothing is written.
 */
static int check_provider(struct ctl *x, const struct decision_state *d,
			  const char *item_id, const char *by,
			  const gx_cat_item_t **item)
{
	*item = gx_catalog_get(d->cat, item_id);
	if (!*item)
		return fail_usage(x, "item %s is no longer in the catalogue; "
				  "nothing was recorded", item_id);
	if (strcmp((*item)->provider, by))
		return fail_usage(x, "%s is not the provider of item %s (%s is); "
				  "only the provider may decide; nothing was "
				  "recorded", by, item_id, (*item)->provider);
	return GX_EXIT_OK;
}

/* Parse the options shared by approve, deny and revoke. */
struct decision_opts {
	const char *target;	/* REQ or GRANT */
	const char *by, *fields, *until, *reason;
	long partitions, replication;
};

static int parse_decision(struct ctl *x, int argc, char **argv,
			  struct decision_opts *o, int want_reason)
{
	static const struct option opts[] = {
	    {"by", required_argument, NULL, 'Y'},
	    {"fields", required_argument, NULL, 'F'},
	    {"until", required_argument, NULL, 'T'},
	    {"reason", required_argument, NULL, 'W'},
	    {"partitions", required_argument, NULL, 'P'},
	    {"replication", required_argument, NULL, 'R'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	char err[512];
	int c, rc;
	memset(o, 0, sizeof(*o));
	o->partitions = 3;
	o->replication = 1;
	/* The request or grant usually comes first: approve REQ --by P. */
	o->target = take_operand(&argc, &argv);
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'Y': o->by = optarg; break;
		case 'F': o->fields = optarg; break;
		case 'T': o->until = optarg; break;
		case 'W': o->reason = optarg; break;
		default:
			if ((rc = topic_opt(x, c, &o->partitions, &o->replication)) == -2)
				rc = common_opt(x, c, argv);
			if (rc >= 0)
				return rc;
		}
	}
	if (!o->target && optind < argc)
		o->target = argv[optind++];
	if (!o->target)
		return fail_usage(x, "which %s? (see govexctl help)",
				  strcmp(x->cmd, "revoke") ? "request" : "grant");
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!o->by || !*o->by)
		return fail_usage(x, "--by AGENCY is required: the provider deciding");
	if (gx_check_code("--by", o->by, err, sizeof(err)))
		return fail_usage(x, "%s", err);
	if (want_reason && (!o->reason || !*o->reason))
		return fail_usage(x, "--reason is required and must not be empty");
	if (!want_reason && o->reason)
		return fail_usage(x, "--reason is not an option of %s", x->cmd);
	if (want_reason && (o->fields || o->until))
		return fail_usage(x, "--fields and --until are options of approve");
	return -1;
}

/* The pending request o->target, its item, with the deciding agency checked
 * as the item's provider; loads d. Returns an exit status (0: go on). */
static int pending_request(struct ctl *x, const struct decision_opts *o,
			   struct decision_state *d, const gx_request_t **req,
			   const gx_cat_item_t **item)
{
	int rc;
	if ((rc = decision_state_load(x, d)))
		return rc;
	*req = gx_approvals_request(d->ap, o->target);
	if (!*req)
		return fail_usage(x, "no request %s", o->target);
	if ((rc = check_provider(x, d, (*req)->item, o->by, item)))
		return rc;
	if ((*req)->state != GX_REQ_PENDING)
		return fail_usage(x, "request %s is already %s", o->target,
				  req_state_name((*req)->state));
	return GX_EXIT_OK;
}

static int cmd_approve(struct ctl *x, int argc, char **argv)
{
	struct decision_opts o;
	struct decision_state d;
	int rc = parse_decision(x, argc, argv, &o, 0);
	if (rc >= 0)
		return rc;
	int64_t now = gx_now_ms(), until = 0;
	if (o.until) {
		if (parse_until(o.until, &until))
			return fail_usage(x, "--until: expected YYYY-MM-DD or an RFC "
					  "3339 time, got '%s'", o.until);
		if (until <= now)
			return fail_usage(x, "--until %s is not in the future", o.until);
	}
	gx_strv_t fields;
	gx_strv_init(&fields);
	json_t *ev = NULL;
	char *del_topic = NULL;
	const gx_request_t *req;
	const gx_cat_item_t *item;
	if ((rc = pending_request(x, &o, &d, &req, &item)))
		goto out;
	/* Narrow, never widen; never a field the catalogue does not share. */
	if (o.fields)
		gx_strv_split(&fields, o.fields);
	const gx_strv_t *asked = o.fields ? &fields : &req->fields;
	gx_strv_t granted;
	gx_strv_init(&granted);
	for (size_t i = 0; i < asked->n; i++) {
		const gx_cat_field_t *cf = gx_cat_item_field(item, asked->v[i]);
		if (!gx_strv_contains(&req->fields, asked->v[i])) {
			rc = fail_usage(x, "field %s was not requested; an approval "
					"may narrow a request, not widen it", asked->v[i]);
			gx_strv_free(&granted);
			goto out;
		}
		if (!cf || cf->share == GX_SHARE_NONE) {
			if (o.fields) {
				rc = fail_usage(x, "field %s is not shared (%s)",
						asked->v[i], cf && cf->legal_basis
						? cf->legal_basis : "not in the catalogue item");
				gx_strv_free(&granted);
				goto out;
			}
			continue; /* refused at request time already */
		}
		if (!gx_strv_contains(&granted, asked->v[i]))
			gx_strv_push(&granted, asked->v[i]);
	}
	if (!granted.n) {
		gx_strv_free(&granted);
		rc = fail_usage(x, "nothing left to grant; use deny");
		goto out;
	}
	if (req->until_ms && (!until || until > req->until_ms))
		until = req->until_ms; /* never longer than asked for */
	char gid[37];
	gx_uuid(gid);
	ev = gx_event_approve(req->id, gid, &granted, until, 0, o.by, now);
	del_topic = gx_topic_deliver(x->cc.prefix, req->consumer, item->lib->name);
	rc = write_events(x, req->id, &ev, 1, del_topic, o.partitions, o.replication);
	if (!rc) {
		char *f = gx_strv_join(&granted, ", ");
		char ubuf[40] = "open-ended";
		if (until)
			gx_fmt_time_ms(until, ubuf, sizeof(ubuf));
		printf("%s\n", gid);
		fflush(stdout);
		fprintf(stderr, "granted to %s: %s (until %s)\n", req->consumer, f, ubuf);
		gx_log(GX_LOG_INFO, "request_approved", "request_id=%s grant_id=%s by=%s",
		       req->id, gid, o.by);
		free(f);
	}
	gx_strv_free(&granted);
out:
	json_decref(ev);
	free(del_topic);
	gx_strv_free(&fields);
	decision_state_free(&d);
	return rc;
}

static int cmd_deny(struct ctl *x, int argc, char **argv)
{
	struct decision_opts o;
	struct decision_state d;
	const gx_cat_item_t *item;
	int rc = parse_decision(x, argc, argv, &o, 1);
	if (rc >= 0)
		return rc;
	json_t *ev = NULL;
	const gx_request_t *req;
	if ((rc = pending_request(x, &o, &d, &req, &item)))
		goto out;
	ev = gx_event_deny(req->id, o.reason, o.by, gx_now_ms());
	rc = write_events(x, req->id, &ev, 1, NULL, 0, 0);
	if (!rc) {
		fprintf(stderr, "request %s of %s denied\n", req->id, req->consumer);
		gx_log(GX_LOG_INFO, "request_denied", "request_id=%s by=%s", req->id,
		       o.by);
	}
out:
	json_decref(ev);
	decision_state_free(&d);
	return rc;
}

static int cmd_revoke(struct ctl *x, int argc, char **argv)
{
	struct decision_opts o;
	struct decision_state d;
	const gx_cat_item_t *item;
	int rc = parse_decision(x, argc, argv, &o, 1);
	if (rc >= 0)
		return rc;
	json_t *ev = NULL;
	if ((rc = decision_state_load(x, &d)))
		goto out;
	const gx_grant_t *g = gx_approvals_grant(d.ap, o.target);
	if (!g) {
		rc = fail_usage(x, "no grant %s", o.target);
		goto out;
	}
	if ((rc = check_provider(x, &d, g->item, o.by, &item)))
		goto out;
	if (g->revoked) {
		rc = fail_usage(x, "grant %s is already revoked", o.target);
		goto out;
	}
	ev = gx_event_revoke(g->request_id, g->id, o.reason, o.by, gx_now_ms());
	rc = write_events(x, g->request_id, &ev, 1, NULL, 0, 0);
	if (!rc) {
		fprintf(stderr, "grant %s of %s revoked; the broker stops releasing "
				"under it once it has read this\n", g->id, g->consumer);
		gx_log(GX_LOG_INFO, "grant_revoked", "grant_id=%s by=%s", g->id, o.by);
	}
out:
	json_decref(ev);
	decision_state_free(&d);
	return rc;
}

/* ================= schema ================= */

/* Print a library's payload, ingest or delivery (consumer view) schema as
 * indented JSON; `schema` alone lists the libraries and fingerprints. */
static int cmd_schema(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"view", required_argument, NULL, 'V'}, COMMON_LONG, {NULL, 0, NULL, 0}};
	const char *view = "delivery", *name = NULL;
	int c, rc;
	name = take_operand(&argc, &argv);
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		if (c == 'V')
			view = optarg;
		else if ((rc = common_opt(x, c, argv)) >= 0)
			return rc;
	}
	if (strcmp(view, "payload") && strcmp(view, "ingest") && strcmp(view, "delivery"))
		return fail_usage(x, "--view must be payload, ingest or delivery");
	gx_schemas_t *schemas;
	if ((rc = load_schemas(&schemas)))
		return rc;
	if (!name && optind < argc)
		name = argv[optind++];
	if (!name) {
		for (size_t i = 0; i < gx_schemas_count(schemas); i++) {
			const gx_library_t *lib = gx_schemas_at(schemas, i);
			printf("%-14s ingest %016llx  delivery %016llx\n", lib->name,
			       (unsigned long long)lib->ingest_fp,
			       (unsigned long long)lib->delivery_fp);
		}
		gx_schemas_destroy(schemas);
		return GX_EXIT_OK;
	}
	const gx_library_t *lib = gx_schemas_library(schemas, name);
	if (!lib || optind < argc) {
		rc = fail_usage(x, lib ? "unexpected argument '%s'" : "no library '%s'",
				lib ? argv[optind] : name);
		gx_schemas_destroy(schemas);
		return rc;
	}
	const char *text = !strcmp(view, "payload") ? lib->payload_json
			   : !strcmp(view, "ingest") ? lib->ingest_json
						     : lib->delivery_json;
	json_t *j = json_loads(text, 0, NULL);
	char *out = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("%s\n", out);
	free(out);
	json_decref(j);
	gx_schemas_destroy(schemas);
	return GX_EXIT_OK;
}

/* ================= secret ================= */

static int cmd_secret(struct ctl *x, int argc, char **argv)
{
	char err[512];
	long bytes = 32;
	if (argc < 3 || strcmp(argv[1], "new"))
		return fail_usage(x, "usage: govexctl secret new FILE [--bytes N]");
	if (argc == 5 && !strcmp(argv[3], "--bytes")) {
		char *end;
		bytes = strtol(argv[4], &end, 10);
		if (*end || bytes < GX_SECRET_MIN || bytes > GX_SECRET_MAX)
			return fail_usage(x, "--bytes: expected %d to %d", GX_SECRET_MIN,
					  GX_SECRET_MAX);
	} else if (argc != 3) {
		return fail_usage(x, "usage: govexctl secret new FILE [--bytes N]");
	}
	if (gx_secret_create(argv[2], (size_t)bytes, err, sizeof(err)))
		return fail_usage(x, "%s", err);
	printf("created %s (%ld random bytes, mode 0600)\n", argv[2], bytes);
	return GX_EXIT_OK;
}

/* ================= key ================= */

static int cmd_key(struct ctl *x, int argc, char **argv)
{
	char err[512];
	int rc;
	if (argc != 3 || strcmp(argv[1], "new"))
		return fail_usage(x, "usage: govexctl key new FILE");
	if ((rc = ctl_configure(x)))
		return rc;
	/* The exchange's checkpoint key is of its suite (seal.suite). */
	if (gx_signer_create(argv[2], x->cc.seal.suite, err, sizeof(err)))
		return fail_usage(x, "%s", err);
	printf("created %s (%s private key, mode 0600) and %s.pub\n", argv[2],
	       strcmp(x->cc.seal.suite, "sm2-sm3") ? "Ed25519" : "SM2", argv[2]);
	return GX_EXIT_OK;
}

/* ================= main ================= */

static int cmd_help(struct ctl *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	usage(x, stdout);
	return GX_EXIT_OK;
}

static const struct {
	const char *name;
	int (*fn)(struct ctl *, int, char **);
} cmds[] = {
    {"setup", cmd_setup},	{"catalog", cmd_catalog},
    {"request", cmd_request},	{"requests", cmd_requests},
    {"grants", cmd_grants},	{"consume", cmd_consume},
    {"rejected", cmd_rejected}, {"secret", cmd_secret},
    {"approve", cmd_approve},	{"deny", cmd_deny},
    {"revoke", cmd_revoke},	{"schema", cmd_schema},
    {"key", cmd_key},		{"replay", cmd_replay},
    {"why", cmd_why},		{"subject", cmd_subject},
    {"what-if", cmd_what_if},	{"report", cmd_report},
    {"sample", cmd_sample},
    {"status", cmd_status},	{"top", cmd_top},
    {"ca", cmd_ca},		{"keys", cmd_keys},
    {"verify", cmd_verify},	{"reseal", cmd_reseal},
    {"agency", cmd_agency},	{"acl", cmd_acl},
    {"help", cmd_help},
};

int main(int argc, char **argv)
{
	struct ctl x;
	char err[1024];
	int c, rc;
	memset(&x, 0, sizeof(x));
	gx_strv_init(&x.overrides);
	gx_log_init(PROG, GX_LOG_WARN);
	gx_kafka_set_logger(gx_log_kafka);
	if (gx_conf_init(&x.conf, ctl_defs, GX_ARRAY_SIZE(ctl_defs), &x.cc, err,
			 sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return GX_EXIT_USAGE;
	}
	static const struct option opts[] = {COMMON_LONG, {NULL, 0, NULL, 0}};
	opterr = 0;
	/* '+': stop at the command; its options are its own. */
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1)
		if ((rc = common_opt(&x, c, argv)) >= 0)
			goto out;
	if (optind >= argc) {
		fprintf(stderr, PROG ": no command given\n\n");
		usage(&x, stderr);
		rc = GX_EXIT_USAGE;
		goto out;
	}
	const char *name = argv[optind];
	rc = -1;
	for (size_t i = 0; i < GX_ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, name)) {
			x.cmd = cmds[i].name;
			rc = cmds[i].fn(&x, argc - optind, argv + optind);
		}
	if (rc < 0)
		rc = fail_usage(&x, "unknown command '%s' (see govexctl help)", name);
out:
	fflush(stdout);
	gx_strv_free(&x.overrides);
	gx_conf_free(&x.conf);
	return rc;
}
