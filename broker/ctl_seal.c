/*
 * ctl_seal.c - govexctl ca, keys, verify, reseal (issue 5; DESIGN
 * "Integrity"): the exchange's root, agency keys and the keyring, proof
 * checking at the consumer, and re-sealing the e-licences of a merged or
 * renamed department under its successor's key (art. 16 para. 3).
 *
 * Key layout, the contract with govex-adapter (seal.keys.dir): with DIR
 * the directory of seal.keyring, agency A's key K is DIR/A/K.key (mode
 * 0600, DIR/A mode 0700) with its certificate DIR/A/K.crt beside it, and
 * the keyring line names "A/K.crt" relative to DIR.
 *
 * Re-seals: `reseal --from OLD --to NEW` signs, with NEW's current key, a
 * seal over the same count and root as each of OLD's e-licence batches,
 * reseal_of naming the original batch, and writes it to <prefix>.seals
 * keyed by NEW. A record keeps its original seal; `verify --seals` reads
 * <prefix>.seals and accepts a record whose own seal no longer verifies
 * (OLD's key taken out of the keyring) when a re-seal of its batch does,
 * in place of the original (gx_delivery_verify takes a re-seal by another
 * agency over the same root), and says which agency re-sealed it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "govexctl.h"
#include "gx_avro.h"
#include "gx_lag.h"
#include "gx_map.h"
#include "gx_pki.h"
#include "gx_scan.h"

#define DEFAULT_ROOT_NAME "govex exchange root"
#define DEFAULT_ROOT_DAYS 3650
#define DEFAULT_KEY_DAYS 730

/* ================= shared helpers ================= */

static char *path_dir(const char *path)
{
	char *c = gx_strdup(path);
	char *d = gx_strdup(dirname(c));
	free(c);
	return d;
}

/* Create dir and its missing parents with mode (existing ones are left as
 * they are). 0, or -1 with err set. */
static int make_dirs(const char *dir, mode_t mode, char *err, size_t errsz)
{
	char *p = gx_strdup(dir);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s && *s != '/')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) && errno != EEXIST) {
			snprintf(err, errsz, "%s: cannot create the directory: %s",
				 p, strerror(errno));
			rc = -1;
		}
		*s = c;
		if (rc || !c)
			break;
	}
	struct stat st;
	if (!rc && (stat(p, &st) || !S_ISDIR(st.st_mode))) {
		snprintf(err, errsz, "%s: not a directory", p);
		rc = -1;
	}
	free(p);
	return rc;
}

/* The root's key beside it: root.crt -> root.key (else ROOT.key). */
static char *default_ca_key(const char *root)
{
	size_t n = strlen(root);
	if (n > 4 && !strcmp(root + n - 4, ".crt"))
		return gx_asprintf("%.*s.key", (int)(n - 4), root);
	return gx_asprintf("%s.key", root);
}

static int open_suite(struct ctl *x, gx_suite_t **s)
{
	char err[512];
	if (gx_suite_new(x->cc.seal.suite, x->cc.seal.sm2_id, s, err,
			 sizeof(err)))
		return fail_usage(x, "seal.suite: %s", err);
	return GX_EXIT_OK;
}

/* Handle "CMD" with no subcommand or -h; otherwise return -1. */
static int want_sub(struct ctl *x, int argc, char **argv, const char *subs)
{
	if (argc >= 2 && argv[1][0] != '-')
		return -1;
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return common_opt(x, 'h', argv);
	return fail_usage(x, "expected %s", subs);
}

/* ================= ca init ================= */

int cmd_ca(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'K'},
	    {"name", required_argument, NULL, 'N'},
	    {"days", required_argument, NULL, 'D'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	int rc = want_sub(x, argc, argv, "init");
	if (rc >= 0)
		return rc;
	if (strcmp(argv[1], "init"))
		return fail_usage(x, "unknown subcommand '%s' (expected init)",
				  argv[1]);
	x->cmd = "ca init";
	argc--;
	argv++;
	const char *key_opt = NULL, *name = DEFAULT_ROOT_NAME;
	long days = DEFAULT_ROOT_DAYS;
	int c;
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'K': key_opt = optarg; break;
		case 'N': name = optarg; break;
		case 'D':
			if ((rc = opt_int(x, "--days", optarg, 1, 36500, &days)))
				return rc;
			break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!*name || strlen(name) > 64)
		return fail_usage(x, "--name: 1 to 64 bytes");
	if ((rc = ctl_configure(x)))
		return rc;
	gx_suite_t *s = NULL;
	if ((rc = open_suite(x, &s)))
		return rc;
	const char *root = x->cc.seal.root;
	char *key = key_opt ? gx_strdup(key_opt) : default_ca_key(root);
	char err[1024];
	struct stat st;
	if (!strcmp(key, root)) {
		rc = fail_usage(x, "--key: the key cannot be seal.root itself "
				"(%s)", root);
	} else if (!lstat(root, &st) || !lstat(key, &st)) {
		rc = fail_usage(x, "%s exists: ca init never overwrites a root "
				"(every agency certificate depends on it)",
				!lstat(root, &st) ? root : key);
	} else {
		char *rd = path_dir(root), *kd = path_dir(key);
		if (make_dirs(rd, 0700, err, sizeof(err)) ||
		    make_dirs(kd, 0700, err, sizeof(err)))
			rc = fail_runtime("%s", err);
		else if (gx_ca_init(s, key, root, name, (int)days, err,
				    sizeof(err)))
			rc = fail_runtime("ca init: %s", err);
		free(rd);
		free(kd);
	}
	if (!rc) {
		gx_log(GX_LOG_INFO, "ca_created", "suite=%s cert=%s key=%s",
		       gx_suite_name(s), root, key);
		printf("created the exchange root (%s, %ld days): certificate "
		       "%s, key %s (mode 0600)\n",
		       gx_suite_name(s), days, root, key);
	}
	free(key);
	gx_suite_destroy(s);
	return rc;
}

/* ================= keys new ================= */

/* Remove the files of a key that did not make it into the keyring. */
static void unlink_pair(const char *a, const char *b)
{
	if (a)
		unlink(a);
	if (b)
		unlink(b);
}

/*
 * Under an exclusive lock on the keyring file (created 0644 if missing):
 * check that the keyring with the new certificate still loads (no second
 * key of the agency from the same time, the certificate chains to the
 * root), then append its line. 0 or an exit status (message printed).
 */
static int keyring_append(struct ctl *x, const gx_suite_t *s,
			  const char *agency, int64_t from,
			  const char *cert_path, const char *rel_cert,
			  const char *kid, int64_t *not_after)
{
	const char *kr_path = x->cc.seal.keyring;
	char err[1024];
	int fd = open(kr_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail_runtime("%s: cannot open: %s", kr_path,
				    strerror(errno));
	int rc = GX_EXIT_OK;
	gx_cert_t *root = NULL, *cert = NULL;
	gx_keyring_t *kr = NULL;
	if (flock(fd, LOCK_EX)) {
		rc = fail_runtime("%s: cannot lock: %s", kr_path, strerror(errno));
		goto out;
	}
	if (gx_root_load(s, x->cc.seal.root, &root, err, sizeof(err))) {
		rc = fail_usage(x, "seal.root: %s", err);
		goto out;
	}
	kr = gx_keyring_new(s, root, x->cc.seal.grace_ms);
	if (gx_keyring_load(kr, kr_path, err, sizeof(err))) {
		rc = fail_usage(x, "the keyring does not load as it is, so "
				"nothing was added: %s", err);
		goto out;
	}
	if (gx_cert_load(s, cert_path, &cert, err, sizeof(err)) ||
	    gx_keyring_add(kr, agency, from, cert, err, sizeof(err))) {
		rc = fail_usage(x, "%s: %s", kr_path, err);
		goto out;
	}
	*not_after = gx_cert_not_after(cert);
	if (from >= gx_cert_not_after(cert)) {
		char t[40];
		gx_fmt_time_ms(gx_cert_not_after(cert), t, sizeof(t));
		rc = fail_usage(x, "--from: the key's certificate ends at %s, "
				"before the key would take over (more --days?)",
				t);
		goto out;
	}
	char *line = gx_keyring_line(agency, kid, from, rel_cert);
	gx_buf_t b;
	gx_buf_init(&b);
	/* A file whose last line lacks its newline gets one first. */
	off_t end = lseek(fd, 0, SEEK_END);
	char last = '\n';
	if (end > 0 && pread(fd, &last, 1, end - 1) != 1)
		last = '\n';
	if (last != '\n')
		gx_buf_putc(&b, '\n');
	gx_buf_printf(&b, "%s\n", line);
	free(line);
	ssize_t w = write(fd, b.data, b.len);
	if (w != (ssize_t)b.len || fsync(fd))
		rc = fail_runtime("%s: cannot append: %s", kr_path,
				  w < 0 ? strerror(errno) : "short write");
	gx_buf_free(&b);
out:
	gx_cert_destroy(cert);
	gx_keyring_destroy(kr);
	gx_cert_destroy(root);
	close(fd); /* releases the lock */
	return rc;
}

static int keys_new(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"agency", required_argument, NULL, 'A'},
	    {"from", required_argument, NULL, 'F'},
	    {"days", required_argument, NULL, 'D'},
	    {"ca-key", required_argument, NULL, 'K'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *agency = NULL, *ca_key_opt = NULL;
	int64_t from = 0;
	int have_from = 0, c, rc;
	long days = DEFAULT_KEY_DAYS;
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'A': agency = optarg; break;
		case 'K': ca_key_opt = optarg; break;
		case 'F':
			if ((rc = opt_time(x, "--from", optarg, &from)))
				return rc;
			have_from = 1;
			break;
		case 'D':
			if ((rc = opt_int(x, "--days", optarg, 1, 36500, &days)))
				return rc;
			break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!agency)
		return fail_usage(x, "--agency is required");
	if (!gx_agency_valid(agency))
		return fail_usage(x, "--agency: '%s' is not an agency code (1 to "
				  "%d of A-Z a-z 0-9 . _ -)", agency,
				  GX_AGENCY_MAX);
	if ((rc = ctl_configure(x)))
		return rc;
	if (!have_from)
		from = gx_now_ms();
	gx_suite_t *s = NULL;
	if ((rc = open_suite(x, &s)))
		return rc;
	char err[1024], u[37], kid[GX_KEY_ID_LEN + 1];
	char *dir = path_dir(x->cc.seal.keyring);
	char *adir = gx_asprintf("%s/%s", dir, agency);
	char *ca_key = ca_key_opt ? gx_strdup(ca_key_opt)
				  : default_ca_key(x->cc.seal.root);
	char *tk = NULL, *tc = NULL, *fk = NULL, *fc = NULL, *rel = NULL;
	if (make_dirs(adir, 0700, err, sizeof(err))) {
		rc = fail_runtime("%s", err);
		goto out;
	}
	/* The key id comes from the key, so the files get their names after
	 * it is made; link() never replaces an existing key. */
	gx_uuid(u);
	tk = gx_asprintf("%s/.new-%s.key", adir, u);
	tc = gx_asprintf("%s/.new-%s.crt", adir, u);
	if (gx_agency_key_new(s, ca_key, x->cc.seal.root, agency, (int)days,
			      tk, tc, kid, err, sizeof(err))) {
		rc = fail_usage(x, "%s", err);
		goto out;
	}
	fk = gx_asprintf("%s/%s.key", adir, kid);
	fc = gx_asprintf("%s/%s.crt", adir, kid);
	int linked = 0;
	if (!link(tk, fk))
		linked = 1;
	if (linked && !link(tc, fc))
		linked = 2;
	if (linked < 2) {
		rc = fail_runtime("%s: cannot create: %s", linked ? fc : fk,
				  strerror(errno));
		if (linked)
			unlink(fk);
	}
	unlink_pair(tk, tc);
	if (rc)
		goto out;
	rel = gx_asprintf("%s/%s.crt", agency, kid);
	int64_t until = 0;
	if ((rc = keyring_append(x, s, agency, from, fc, rel, kid, &until))) {
		unlink_pair(fk, fc);
		goto out;
	}
	char t[40], u2[40];
	gx_fmt_time_ms(from, t, sizeof(t));
	gx_fmt_time_ms(until, u2, sizeof(u2));
	gx_log(GX_LOG_INFO, "agency_key_created",
	       "agency=%s key_id=%s suite=%s valid_from=%s keyring=%s", agency,
	       kid, gx_suite_name(s), t, x->cc.seal.keyring);
	fprintf(stderr,
		"keys new: %s key %s for %s, sealing from %s: key %s (mode "
		"0600), certificate %s (valid until %s), added to %s\n",
		gx_suite_name(s), kid, agency, t, fk, fc, u2,
		x->cc.seal.keyring);
	printf("%s\n", kid);
out:
	free(tk);
	free(tc);
	free(fk);
	free(fc);
	free(rel);
	free(ca_key);
	free(adir);
	free(dir);
	gx_suite_destroy(s);
	return rc;
}

int cmd_keys(struct ctl *x, int argc, char **argv)
{
	int rc = want_sub(x, argc, argv, "new");
	if (rc >= 0)
		return rc;
	if (strcmp(argv[1], "new"))
		return fail_usage(x, "unknown subcommand '%s' (expected new; "
				  "the broker's checkpoint key is `govexctl "
				  "key new`)", argv[1]);
	x->cmd = "keys new";
	return keys_new(x, argc - 1, argv + 1);
}

/* ================= reading seals ================= */

/* Re-seals on <prefix>.seals by original batch id: a gx_strv_t of their
 * JSON texts. */
struct reseals {
	gx_map_t *by_batch;
	long seals, bad;
	const char *only_by;	/* reseal: keep only re-seals by this agency */
};

static void strv_free(void *p)
{
	gx_strv_free(p);
	free(p);
}

static int on_seal_msg(void *opaque, const rd_kafka_message_t *m)
{
	struct reseals *rs = opaque;
	rs->seals++;
	json_t *j = json_loadb(m->payload, m->len, JSON_REJECT_DUPLICATES, NULL);
	const char *of = json_string_value(json_object_get(j, "reseal_of"));
	const char *by = json_string_value(json_object_get(j, "provider"));
	if (!json_is_object(j)) {
		rs->bad++;
	} else if (of && by && (!rs->only_by || !strcmp(by, rs->only_by))) {
		gx_strv_t *v = gx_map_get(rs->by_batch, of);
		if (!v) {
			v = gx_calloc(1, sizeof(*v));
			gx_strv_init(v);
			gx_map_put(rs->by_batch, of, v);
		}
		char *s = gx_strndup(m->payload, m->len);
		if (!gx_strv_contains(v, s))
			gx_strv_push(v, s);
		free(s);
	}
	json_decref(j);
	return 0;
}

static int load_reseals(struct ctl *x, struct reseals *rs)
{
	rs->by_batch = gx_map_new();
	int rc = load_state(x, "seals", on_seal_msg, rs);
	if (rs->bad)
		fprintf(stderr, PROG " %s: %ld message(s) on %s.seals are not "
			"seals; ignored\n", x->cmd, rs->bad, x->cc.prefix);
	return rc;
}

/* ================= verify ================= */

struct verify_ctx {
	struct ctl *x;
	gx_sealcheck_t *v;
	gx_schemas_t *schemas;
	avro_value_t *vals;	/* 2 per library: ingest, delivery */
	unsigned char *have;
	struct reseals rs;
	int use_reseals, json;
	FILE *save;
	gx_record_proof_t proof;
	long records, verified, failed, resealed;
	gx_strv_t failed_ids;
};

/* A value of lib's ingest (view 0) or delivery (1) schema, reset. */
static avro_value_t *value_for(struct verify_ctx *vc, const gx_library_t *lib,
			       int delivery)
{
	size_t i = 0;
	while (gx_schemas_at(vc->schemas, i) != lib)
		i++;
	size_t k = 2 * i + (delivery ? 1 : 0);
	if (!vc->have[k]) {
		avro_generic_value_new(delivery ? lib->delivery_iface
						: lib->ingest_iface,
				       &vc->vals[k]);
		vc->have[k] = 1;
	}
	avro_value_reset(&vc->vals[k]);
	return &vc->vals[k];
}

static int get_str(avro_value_t *rec, const char *name, const char **out)
{
	avro_value_t f;
	size_t len;
	return avro_value_get_by_name(rec, name, &f, NULL) ||
	       avro_value_get_string(&f, out, &len);
}

/*
 * A delivery whose own seal did not verify: try each re-seal of its batch
 * in place of the seal. Returns the re-sealing agency (in *by) on success.
 */
static int try_reseals(struct verify_ctx *vc, const gx_library_t *lib,
		       avro_value_t *del, char *by, size_t bysz)
{
	avro_value_t prov, pf, sf;
	const char *batch;
	if (avro_value_get_by_name(del, "provenance", &prov, NULL) ||
	    avro_value_get_by_name(&prov, "proof", &pf, NULL) ||
	    get_str(&pf, "batch_id", &batch))
		return 0;
	gx_strv_t *v = gx_map_get(vc->rs.by_batch, batch);
	for (size_t i = 0; v && i < v->n; i++) {
		const char *reason;
		char err[512];
		if (avro_value_get_by_name(&pf, "seal", &sf, NULL) ||
		    avro_value_set_string(&sf, v->v[i]))
			return 0;
		const char *sealed_by = NULL;
		if (!gx_delivery_verify_ex(vc->v, lib, del, 1, &sealed_by,
					   &reason, err, sizeof(err))) {
			snprintf(by, bysz, "%s", sealed_by ? sealed_by : "?");
			return 1;
		}
	}
	return 0;
}

/* Report one record's outcome. */
static void report(struct verify_ctx *vc, const char *where,
		   const char *topic, int partition, int64_t offset,
		   const char *record_id, const char *reason, const char *err,
		   const char *resealed_by)
{
	vc->records++;
	if (!reason) {
		vc->verified++;
		if (resealed_by)
			vc->resealed++;
	} else {
		vc->failed++;
		gx_strv_push(&vc->failed_ids, record_id ? record_id : where);
	}
	if (vc->json) {
		json_t *o = json_object();
		json_object_set_new(o, "record_id",
				    record_id ? json_string(record_id) : json_null());
		json_object_set_new(o, "where", json_string(where));
		if (topic) {
			json_object_set_new(o, "topic", json_string(topic));
			json_object_set_new(o, "partition", json_integer(partition));
			json_object_set_new(o, "offset", json_integer(offset));
		}
		json_object_set_new(o, "verified", json_boolean(!reason));
		if (reason) {
			json_object_set_new(o, "reason", json_string(reason));
			json_t *e = json_string(err);
			json_object_set_new(o, "error", e ? e : json_string("?"));
		}
		if (resealed_by)
			json_object_set_new(o, "resealed_by",
					    json_string(resealed_by));
		print_json_line(o);
		json_decref(o);
	} else if (reason) {
		printf("FAILED %s at %s: %s: %s\n",
		       record_id ? record_id : "(no record id)", where, reason,
		       err);
	} else if (resealed_by) {
		printf("verified %s at %s through its re-seal by %s\n",
		       record_id, where, resealed_by);
	}
}

/* Decode and verify one record (a Kafka message value); topic NULL for a
 * record from a file that did not name its topic. */
static void verify_value(struct verify_ctx *vc, const void *val, size_t len,
			 const char *where, const char *topic, int partition,
			 int64_t offset)
{
	char err[1024];
	uint64_t fp;
	gx_view_t view;
	const gx_library_t *lib = NULL;
	const char *reason = NULL, *record_id = NULL;
	char by[GX_AGENCY_MAX + 2] = "";
	int resealed = 0;
	if (gx_avro_so_fingerprint(val, len, &fp, err, sizeof(err))) {
		reason = "not_avro";
		goto done;
	}
	if (!(lib = gx_schemas_by_fp(vc->schemas, fp, &view))) {
		reason = "schema_unknown";
		snprintf(err, sizeof(err), "schema fingerprint %016" PRIx64
			 " is none of the libraries' ingest or delivery "
			 "schemas", fp);
		goto done;
	}
	if (topic) {
		const char *c, *l;
		size_t cl, ll;
		gx_topic_kind_t k = gx_topic_parse(vc->x->cc.prefix, topic, &c,
						   &cl, &l, &ll);
		int want = k == GX_TOPIC_DELIVER ? GX_VIEW_DELIVERY
			   : k == GX_TOPIC_INGEST ? GX_VIEW_INGEST : -1;
		if (want >= 0 && ((int)view != want || strlen(lib->name) != ll ||
				  strncmp(lib->name, l, ll))) {
			reason = "schema_mismatch";
			snprintf(err, sizeof(err), "fingerprint %016" PRIx64 " is "
				 "the %s schema of %s, not the %s schema of "
				 "the topic's library", fp,
				 view == GX_VIEW_DELIVERY ? "delivery" : "ingest",
				 lib->name, want == GX_VIEW_DELIVERY ? "delivery"
								     : "ingest");
			goto done;
		}
	}
	avro_value_t *rec = value_for(vc, lib, view == GX_VIEW_DELIVERY);
	if (gx_avro_so_decode(val, len, rec, err, sizeof(err))) {
		reason = "avro_malformed";
		goto done;
	}
	gx_err_t e;
	if (view == GX_VIEW_DELIVERY) {
		avro_value_t prov;
		if (!avro_value_get_by_name(rec, "provenance", &prov, NULL))
			get_str(&prov, "record_id", &record_id);
		e = gx_delivery_verify(vc->v, lib, rec, &reason, err,
				       sizeof(err));
		if (e && vc->use_reseals &&
		    try_reseals(vc, lib, rec, by, sizeof(by)))
			e = GX_OK, resealed = 1;
	} else {
		gx_envelope_t env;
		if (gx_ingest_get(rec, &env, err, sizeof(err))) {
			reason = "avro_malformed";
			goto done;
		}
		record_id = env.record_id;
		e = gx_ingest_verify(vc->v, lib, rec, &env, &vc->proof, &reason,
				     err, sizeof(err));
	}
	if (!e)
		reason = NULL;
	else if (!reason)
		reason = "proof_malformed";
done:
	report(vc, where, topic, partition, offset, record_id, reason, err,
	       resealed ? by : NULL);
}

static void b64(gx_buf_t *b, const void *p, size_t n)
{
	size_t need = 4 * ((n + 2) / 3) + 1;
	gx_buf_reserve(b, need);
	int w = EVP_EncodeBlock((unsigned char *)b->data + b->len, p, (int)n);
	b->len += (size_t)w;
}

/* Decode base64 (RFC 4648, padded); -1 on bad input. */
static int unb64(const char *s, gx_buf_t *out)
{
	size_t n = strlen(s);
	if (n % 4 || n > INT32_MAX)
		return -1;
	gx_buf_reset(out);
	if (!n)
		return 0;
	gx_buf_reserve(out, n / 4 * 3 + 1);
	int w = EVP_DecodeBlock((unsigned char *)out->data,
				(const unsigned char *)s, (int)n);
	if (w < 0)
		return -1;
	if (s[n - 1] == '=')
		w--;
	if (s[n - 2] == '=')
		w--;
	out->len = (size_t)w;
	return 0;
}

/* The --save/--file line of one record. */
static void save_line(struct verify_ctx *vc, const rd_kafka_message_t *m)
{
	gx_buf_t b;
	gx_buf_init(&b);
	b64(&b, m->payload, m->len);
	json_t *o = json_object();
	json_object_set_new(o, "topic", json_string(rd_kafka_topic_name(m->rkt)));
	json_object_set_new(o, "partition", json_integer(m->partition));
	json_object_set_new(o, "offset", json_integer(m->offset));
	json_object_set_new(o, "value_b64", json_stringn(b.data, b.len));
	json_dumpf(o, vc->save, JSON_COMPACT | JSON_PRESERVE_ORDER);
	fputc('\n', vc->save);
	json_decref(o);
	gx_buf_free(&b);
}

static int on_record(void *opaque, size_t range, const rd_kafka_message_t *m)
{
	(void)range;
	struct verify_ctx *vc = opaque;
	const char *t = rd_kafka_topic_name(m->rkt);
	char where[400];
	snprintf(where, sizeof(where), "%s[%d]@%lld", t, (int)m->partition,
		 (long long)m->offset);
	if (vc->save)
		save_line(vc, m);
	verify_value(vc, m->payload ? m->payload : "", m->len, where, t,
		     m->partition, m->offset);
	return 0;
}

/* Records from a file of JSON lines {"value_b64": ...} (topic, partition,
 * offset optional), as --save writes them. */
static int verify_file(struct verify_ctx *vc, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	if (!f)
		return fail_usage(vc->x, "--file: %s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	gx_buf_t val;
	gx_buf_init(&val);
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!line[strspn(line, " \t")])
			continue;
		char where[600];
		json_error_t je;
		json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &je);
		const char *vb = json_string_value(json_object_get(j, "value_b64"));
		const char *topic = json_string_value(json_object_get(j, "topic"));
		json_t *p = json_object_get(j, "partition"),
		       *o = json_object_get(j, "offset");
		if (topic && json_is_integer(p) && json_is_integer(o))
			snprintf(where, sizeof(where), "%s:%ld (%s[%d]@%lld)",
				 path, lineno, topic, (int)json_integer_value(p),
				 (long long)json_integer_value(o));
		else
			snprintf(where, sizeof(where), "%s:%ld", path, lineno);
		if (!vb || unb64(vb, &val)) {
			report(vc, where, NULL, 0, 0, NULL, "line_malformed",
			       j ? "no \"value_b64\" member holding base64"
				 : "not a JSON object", NULL);
		} else {
			verify_value(vc, val.data ? val.data : "", val.len, where,
				     topic, (int)json_integer_value(p),
				     json_integer_value(o));
		}
		json_decref(j);
	}
	int bad = ferror(f);
	free(line);
	gx_buf_free(&val);
	if (f != stdin)
		fclose(f);
	if (bad)
		return fail_runtime("reading %s: %s", path, strerror(errno));
	return GX_EXIT_OK;
}

/* Set each range's from to group's committed offset where it has one. */
static int group_positions(struct ctl *x, rd_kafka_t *rk, const char *group,
			   gx_scan_range_t *r, size_t n, size_t *uncommitted)
{
	char err[512];
	int tmo = (int)x->cc.timeout_ms, rc = GX_EXIT_OK;
	rd_kafka_topic_partition_list_t *pl =
	    rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0; i < n; i++)
		rd_kafka_topic_partition_list_add(pl, r[i].topic, r[i].partition);
	rd_kafka_ListConsumerGroupOffsets_t *req =
	    rd_kafka_ListConsumerGroupOffsets_new(group, pl);
	rd_kafka_topic_partition_list_destroy(pl);
	rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(
	    rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
	rd_kafka_AdminOptions_set_request_timeout(o, tmo, err, sizeof(err));
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, o, q);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_ListConsumerGroupOffsets_destroy(req);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, tmo + 2000);
	const rd_kafka_ListConsumerGroupOffsets_result_t *res =
	    ev ? rd_kafka_event_ListConsumerGroupOffsets_result(ev) : NULL;
	size_t ng = 0;
	const rd_kafka_group_result_t **gr =
	    res ? rd_kafka_ListConsumerGroupOffsets_result_groups(res, &ng) : NULL;
	const rd_kafka_error_t *ge = ng == 1 ? rd_kafka_group_result_error(gr[0])
					     : NULL;
	if (!ev || rd_kafka_event_error(ev) || ng != 1 || ge) {
		rc = fail_runtime("committed positions of group %s: %s", group,
				  !ev ? "no answer within ctl.timeout"
				  : rd_kafka_event_error(ev)
				      ? rd_kafka_event_error_string(ev)
				  : ge ? rd_kafka_error_string(ge)
				       : "unexpected answer");
	} else {
		const rd_kafka_topic_partition_list_t *got =
		    rd_kafka_group_result_partitions(gr[0]);
		*uncommitted = 0;
		for (size_t i = 0; i < n; i++) {
			int64_t off = -1;
			for (int k = 0; got && k < got->cnt; k++)
				if (!strcmp(got->elems[k].topic, r[i].topic) &&
				    got->elems[k].partition == r[i].partition &&
				    !got->elems[k].err)
					off = got->elems[k].offset;
			if (off < 0)
				(*uncommitted)++;
			else if (off > r[i].from)
				r[i].from = off < r[i].end ? off : r[i].end;
		}
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	return rc;
}

/* Read the chosen topics (all partitions, from the start or the group's
 * positions, to their ends as of now) and verify every record. */
static int verify_topics(struct verify_ctx *vc, const char *topic,
			 const char *consumer, const char *library,
			 const char *group)
{
	struct ctl *x = vc->x;
	char err[1024];
	int tmo = (int)x->cc.timeout_ms, rc = GX_EXIT_OK;
	gx_scan_t *sc = NULL;
	gx_scan_topic_t *t = NULL;
	size_t nt = 0, nr = 0;
	gx_scan_range_t *r = NULL;
	unsigned char *use = NULL;
	char *want = topic ? gx_strdup(topic)
		     : library ? gx_topic_deliver(x->cc.prefix, consumer, library)
			       : gx_asprintf("%s.deliver.%s.", x->cc.prefix,
					     consumer);
	if (gx_scan_new(&x->conf, x->cc.brokers, &sc, err, sizeof(err))) {
		rc = fail_runtime("%s", err);
		goto out;
	}
	if (gx_scan_topics(sc, want, tmo, &t, &nt, err, sizeof(err))) {
		rc = fail_runtime("cannot list topics at %s: %s", x->cc.brokers,
				  err);
		goto out;
	}
	size_t total = 0;
	use = gx_calloc(nt ? nt : 1, 1);
	for (size_t i = 0; i < nt; i++) {
		/* --consumer without --library: every library, no deeper name */
		use[i] = !strcmp(t[i].name, want) ||
			 (!topic && !library &&
			  !strchr(t[i].name + strlen(want), '.'));
		if (use[i])
			total += (size_t)t[i].partitions;
	}
	if (!total) {
		rc = fail_usage(x, "no topic %s%s at %s", want,
				topic || library ? "" : "<library>",
				x->cc.brokers);
		goto out;
	}
	r = gx_calloc(total, sizeof(*r));
	for (size_t i = 0; i < nt; i++)
		for (int p = 0; use[i] && p < t[i].partitions; p++) {
			r[nr].topic = t[i].name;
			r[nr++].partition = p;
		}
	if (gx_scan_ends(sc, r, nr, tmo, err, sizeof(err))) {
		rc = fail_runtime("cannot read the ends of %s: %s", want, err);
		goto out;
	}
	for (size_t i = 0; i < nr; i++) {
		if (!r[i].known) {
			rc = fail_runtime("%s [%d]: Kafka did not say where it "
					  "ends within ctl.timeout",
					  r[i].topic, (int)r[i].partition);
			goto out;
		}
		r[i].from = r[i].low;
		r[i].to = r[i].end;
	}
	if (group) {
		size_t none = 0;
		if ((rc = group_positions(x, gx_scan_handle(sc), group, r, nr,
					  &none)))
			goto out;
		if (none)
			fprintf(stderr, PROG " verify: group %s has no committed "
				"position on %zu of %zu partitions: read from "
				"the start there\n", group, none, nr);
	}
	if (gx_scan_read(sc, r, nr, tmo, on_record, vc, err, sizeof(err))) {
		rc = fail_runtime("reading %s: %s", want, err);
		goto out;
	}
	for (size_t i = 0; i < nr; i++)
		if (!r[i].done) {
			rc = fail_runtime("%s [%d]: read to offset %lld of %lld "
					  "within ctl.timeout only; the records "
					  "counted below were checked",
					  r[i].topic, (int)r[i].partition,
					  (long long)r[i].from,
					  (long long)r[i].to);
			break;
		}
out:
	free(r);
	free(use);
	gx_scan_topics_free(t, nt);
	gx_scan_destroy(sc);
	free(want);
	return rc;
}

int cmd_verify(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"consumer", required_argument, NULL, 'C'},
	    {"library", required_argument, NULL, 'L'},
	    {"topic", required_argument, NULL, 'T'},
	    {"group", required_argument, NULL, 'G'},
	    {"file", required_argument, NULL, 'F'},
	    {"save", required_argument, NULL, 'S'},
	    {"seals", no_argument, NULL, 'R'},
	    {"json", no_argument, NULL, 'J'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *consumer = NULL, *library = NULL, *topic = NULL,
		   *group = NULL, *file = NULL, *save = NULL;
	int c, rc, use_reseals = 0, json = 0;
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'C': consumer = optarg; break;
		case 'L': library = optarg; break;
		case 'T': topic = optarg; break;
		case 'G': group = optarg; break;
		case 'F': file = optarg; break;
		case 'S': save = optarg; break;
		case 'R': use_reseals = 1; break;
		case 'J': json = 1; break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!!consumer + !!topic + !!file != 1)
		return fail_usage(x, "give one of --consumer C, --topic T and "
				  "--file F");
	if (library && !consumer)
		return fail_usage(x, "--library goes with --consumer");
	if (group && file)
		return fail_usage(x, "--group goes with --consumer or --topic");
	if (save && file)
		return fail_usage(x, "--save goes with --consumer or --topic");
	if (group && !*group)
		return fail_usage(x, "--group must not be empty");
	if (consumer && gx_check_code("consumer", consumer, err, sizeof(err)))
		return fail_usage(x, "%s", err);
	if ((rc = ctl_configure(x)))
		return rc;

	struct verify_ctx vc;
	size_t nlib = 0;
	memset(&vc, 0, sizeof(vc));
	vc.x = x;
	vc.json = json;
	vc.use_reseals = use_reseals;
	gx_strv_init(&vc.failed_ids);
	if ((rc = load_schemas(&vc.schemas)))
		return rc;
	if (library && !gx_schemas_library(vc.schemas, library)) {
		rc = fail_usage(x, "--library: unknown library '%s'", library);
		goto out;
	}
	if (gx_sealcheck_open(&x->cc.seal, &vc.v, err, sizeof(err))) {
		rc = fail_usage(x, "seal configuration: %s", err);
		goto out;
	}
	nlib = gx_schemas_count(vc.schemas);
	vc.vals = gx_calloc(2 * nlib, sizeof(*vc.vals));
	vc.have = gx_calloc(2 * nlib, 1);
	if (use_reseals && (rc = load_reseals(x, &vc.rs)))
		goto out;
	if (save && !(vc.save = fopen(save, "we"))) {
		rc = fail_usage(x, "--save: %s: %s", save, strerror(errno));
		goto out;
	}
	rc = file ? verify_file(&vc, file)
		  : verify_topics(&vc, topic, consumer, library, group);
	if (vc.save) {
		int bad = ferror(vc.save);
		if ((fclose(vc.save) || bad) && !rc)
			rc = fail_runtime("writing %s: %s", save,
					  bad ? "write error" : strerror(errno));
		vc.save = NULL;
	}
	if (rc)
		goto out;
	gx_log(GX_LOG_INFO, "verify_done",
	       "records=%ld verified=%ld failed=%ld resealed=%ld seals_checked="
	       "%" PRIu64, vc.records, vc.verified, vc.failed, vc.resealed,
	       gx_sealcheck_seals_checked(vc.v));
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "records", json_integer(vc.records));
		json_object_set_new(o, "verified", json_integer(vc.verified));
		json_object_set_new(o, "failed", json_integer(vc.failed));
		json_object_set_new(o, "resealed", json_integer(vc.resealed));
		json_object_set_new(o, "failed_ids", json_strv(&vc.failed_ids));
		json_t *s = json_object();
		json_object_set_new(s, "summary", o);
		print_json_line(s);
		json_decref(s);
	} else {
		printf("records=%ld verified=%ld failed=%ld", vc.records,
		       vc.verified, vc.failed);
		if (use_reseals)
			printf(" through_reseal=%ld", vc.resealed);
		printf("\n");
		if (!vc.records)
			fprintf(stderr, PROG " verify: no records\n");
	}
	rc = vc.failed ? GX_EXIT_CHECK : GX_EXIT_OK;
out:
	if (vc.save)
		fclose(vc.save);
	for (size_t i = 0; vc.have && i < 2 * nlib; i++)
		if (vc.have[i])
			avro_value_decref(&vc.vals[i]);
	free(vc.vals);
	free(vc.have);
	gx_map_destroy(vc.rs.by_batch, strv_free);
	gx_strv_free(&vc.failed_ids);
	gx_sealcheck_destroy(vc.v);
	gx_schemas_destroy(vc.schemas);
	return rc;
}

/* ================= reseal ================= */

struct batch {
	char id[GX_UUID_STRLEN + 1];
	uint32_t count;
	unsigned char root[GX_HASH_LEN];
	long records;
	char new_id[GX_UUID_STRLEN + 1];
};

struct reseal_ctx {
	struct ctl *x;
	const char *old;
	const gx_library_t *lib;
	gx_sealcheck_t *v;
	avro_value_t val;
	gx_record_proof_t proof;
	struct reseals done;	/* NEW's re-seals already on the topic */
	gx_map_t *seen;		/* batch id -> index + 1 in plan, or -1 */
	struct batch *plan;
	size_t nplan, cap;
	long records, others, already, refused, foreign;
	gx_strv_t refusals;
};

static int on_licence(void *opaque, const rd_kafka_message_t *m)
{
	struct reseal_ctx *rc = opaque;
	char err[1024];
	uint64_t fp;
	gx_envelope_t env;
	avro_value_t sp;
	const char *batch, *seal, *reason = NULL;
	if (gx_avro_so_fingerprint(m->payload, m->len, &fp, err, sizeof(err)) ||
	    fp != rc->lib->ingest_fp) {
		rc->foreign++;
		return 0;
	}
	avro_value_reset(&rc->val);
	if (gx_avro_so_decode(m->payload, m->len, &rc->val, err, sizeof(err)) ||
	    gx_ingest_get(&rc->val, &env, err, sizeof(err))) {
		rc->foreign++;
		return 0;
	}
	if (strcmp(env.provider, rc->old)) {
		rc->others++;
		return 0;
	}
	rc->records++;
	if (avro_value_get_by_name(&rc->val, "seal", &sp, NULL) ||
	    get_str(&sp, "batch_id", &batch) || get_str(&sp, "seal", &seal)) {
		rc->refused++;
		gx_strv_push(&rc->refusals, env.record_id);
		return 0;
	}
	intptr_t at = (intptr_t)gx_map_get(rc->seen, batch);
	if (at) {
		if (at > 0)
			rc->plan[at - 1].records++;
		return 0;
	}
	if (gx_map_get(rc->done.by_batch, batch)) {
		rc->already++;
		gx_map_put(rc->seen, batch, (void *)(intptr_t)-1);
		return 0;
	}
	/* Only what verifies is re-sealed: a re-seal vouches for content. */
	if (gx_ingest_verify(rc->v, rc->lib, &rc->val, &env, &rc->proof,
			     &reason, err, sizeof(err))) {
		rc->refused++;
		char *s = gx_asprintf("%s (batch %s): %s: %s", env.record_id,
				      batch, reason ? reason : "?", err);
		gx_strv_push(&rc->refusals, s);
		free(s);
		gx_map_put(rc->seen, batch, (void *)(intptr_t)-1);
		return 0;
	}
	gx_seal_t s;
	json_t *j = json_loads(seal, 0, NULL);
	gx_err_t e = gx_seal_parse(gx_sealcheck_suite(rc->v), j, &s, err,
				   sizeof(err));
	json_decref(j);
	if (e) { /* it verified a moment ago */
		rc->refused++;
		gx_strv_push(&rc->refusals, env.record_id);
		return 0;
	}
	if (rc->nplan == rc->cap) {
		rc->cap = rc->cap ? 2 * rc->cap : 64;
		rc->plan = gx_realloc(rc->plan, rc->cap * sizeof(*rc->plan));
	}
	struct batch *b = &rc->plan[rc->nplan++];
	memset(b, 0, sizeof(*b));
	memcpy(b->id, s.batch_id, sizeof(b->id));
	b->count = s.count;
	memcpy(b->root, s.root, GX_HASH_LEN);
	b->records = 1;
	gx_map_put(rc->seen, batch, (void *)(intptr_t)rc->nplan);
	return 0;
}

/* Sign and write the planned re-seals in one transaction. */
static int write_reseals(struct ctl *x, struct reseal_ctx *rc,
			 const gx_sealkey_t *key, const char *to)
{
	char err[1024];
	int tmo = (int)x->cc.timeout_ms, in_txn = 0, ret;
	rd_kafka_error_t *ke;
	rd_kafka_t *rk = NULL;
	/* One transactional id per successor: a second reseal run for the
	 * same agency fences off the first rather than interleaving. */
	char *txid = gx_asprintf("govexctl-reseal-%s-%s", x->cc.prefix, to);
	char *topic = gx_topic(x->cc.prefix, "seals");
	const char *const extra[] = {"transactional.id", txid, NULL};
	if ((ret = new_producer(x, extra, &rk)) ||
	    (ret = need_topic(x, rk, topic)))
		goto out;
	if ((ke = rd_kafka_init_transactions(rk, tmo))) {
		ret = txn_fail(rk, "init", ke, tmo);
		goto out;
	}
	if ((ke = rd_kafka_begin_transaction(rk))) {
		ret = txn_fail(rk, "begin", ke, tmo);
		goto out;
	}
	in_txn = 1;
	int64_t now = gx_now_ms();
	for (size_t i = 0; i < rc->nplan; i++) {
		struct batch *b = &rc->plan[i];
		gx_seal_t s;
		json_t *j;
		if (gx_seal_sign(key, NULL, b->count, b->root, now, b->id, &s, &j,
				 err, sizeof(err))) {
			ret = fail_runtime("re-sealing batch %s: %s; nothing was "
					   "written", b->id, err);
			goto out;
		}
		char *v = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
		if (!v)
			abort();
		memcpy(b->new_id, s.batch_id, sizeof(b->new_id));
		rd_kafka_resp_err_t e =
		    gx_kafka_produce(rk, topic, to, strlen(to), v, strlen(v));
		free(v);
		if (e) {
			ret = fail_runtime("produce to %s: %s; nothing was written",
					   topic, rd_kafka_err2str(e));
			goto out;
		}
	}
	ret = txn_commit(rk, tmo);
	in_txn = 0;
out:
	if (in_txn) {
		ke = rd_kafka_abort_transaction(rk, tmo);
		if (ke)
			rd_kafka_error_destroy(ke);
	}
	if (rk)
		rd_kafka_destroy(rk);
	free(topic);
	free(txid);
	return ret;
}

int cmd_reseal(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},
	    {"key-dir", required_argument, NULL, 'K'},
	    {"library", required_argument, NULL, 'L'},
	    {"dry-run", no_argument, NULL, 'N'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *from = NULL, *to = NULL, *key_dir = NULL,
		   *library = "e_licence";
	int c, rc, dry = 0;
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'F': from = optarg; break;
		case 'T': to = optarg; break;
		case 'K': key_dir = optarg; break;
		case 'L': library = optarg; break;
		case 'N': dry = 1; break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!from || !to)
		return fail_usage(x, "--from OLD and --to NEW are required");
	if (!gx_agency_valid(from) || !gx_agency_valid(to))
		return fail_usage(x, "'%s' is not an agency code",
				  gx_agency_valid(from) ? to : from);
	if (!strcmp(from, to))
		return fail_usage(x, "--from and --to name the same agency");
	if ((rc = ctl_configure(x)))
		return rc;

	struct reseal_ctx r;
	memset(&r, 0, sizeof(r));
	r.x = x;
	r.old = from;
	gx_strv_init(&r.refusals);
	gx_schemas_t *schemas = NULL;
	gx_sealkey_t *key = NULL;
	gx_state_reader_t *sr = NULL;
	char *kdir = key_dir ? gx_strdup(key_dir) : path_dir(x->cc.seal.keyring);
	char *kp = NULL, *cp = NULL, *topic = NULL;
	int have_val = 0;
	if ((rc = load_schemas(&schemas)))
		goto out;
	if (!(r.lib = gx_schemas_library(schemas, library))) {
		rc = fail_usage(x, "--library: unknown library '%s'", library);
		goto out;
	}
	if (gx_sealcheck_open(&x->cc.seal, &r.v, err, sizeof(err))) {
		rc = fail_usage(x, "seal configuration: %s", err);
		goto out;
	}
	const gx_suite_t *s = gx_sealcheck_suite(r.v);
	const char *kid = gx_keyring_current(gx_sealcheck_keyring(r.v), to,
					     gx_now_ms());
	if (!kid) {
		rc = fail_usage(x, "%s has no key in %s valid now (make one with "
				"govexctl keys new --agency %s)", to,
				x->cc.seal.keyring, to);
		goto out;
	}
	kp = gx_asprintf("%s/%s/%s.key", kdir, to, kid);
	cp = gx_asprintf("%s/%s/%s.crt", kdir, to, kid);
	if (gx_sealkey_load(s, kp, cp, gx_sealcheck_root(r.v), &key, err,
			    sizeof(err))) {
		rc = fail_usage(x, "the key of %s: %s", to, err);
		goto out;
	}
	r.done.only_by = to;
	if ((rc = load_reseals(x, &r.done)))
		goto out;
	r.seen = gx_map_new();
	avro_generic_value_new(r.lib->ingest_iface, &r.val);
	have_val = 1;
	topic = gx_topic_ingest(x->cc.prefix, library);
	if (gx_state_reader_new(&x->conf, x->cc.brokers, topic, &sr, err,
				sizeof(err)) ||
	    gx_state_reader_catch_up(sr, on_licence, &r, (int)x->cc.timeout_ms,
				     err, sizeof(err))) {
		rc = fail_runtime("cannot read %s at %s: %s", topic,
				  x->cc.brokers, err);
		goto out;
	}
	if (r.nplan && !dry &&
	    (rc = write_reseals(x, &r, key, to)))
		goto out;
	for (size_t i = 0; i < r.nplan; i++) {
		if (dry)
			printf("would re-seal batch %s (%u record%s)\n",
			       r.plan[i].id, r.plan[i].count,
			       r.plan[i].count == 1 ? "" : "s");
		else
			printf("re-sealed batch %s as %s (%u record%s)\n",
			       r.plan[i].id, r.plan[i].new_id, r.plan[i].count,
			       r.plan[i].count == 1 ? "" : "s");
	}
	for (size_t i = 0; i < r.refusals.n; i++)
		printf("NOT re-sealed: %s\n", r.refusals.v[i]);
	gx_log(GX_LOG_INFO, "reseal_done",
	       "from=%s to=%s key_id=%s records=%ld batches=%zu already=%ld "
	       "refused=%ld dry_run=%d", from, to, kid, r.records, r.nplan,
	       r.already, r.refused, dry);
	printf("reseal %s -> %s (key %s) on %s: %ld record%s of %s, %zu "
	       "batch%s %sre-sealed, %ld already re-sealed by %s, %ld not "
	       "re-sealed (do not verify)\n",
	       from, to, kid, topic, r.records, r.records == 1 ? "" : "s", from,
	       r.nplan, r.nplan == 1 ? "" : "es", dry ? "to be " : "",
	       r.already, to, r.refused);
	if (r.foreign)
		fprintf(stderr, PROG " reseal: %ld message(s) on %s are not %s "
			"ingest records; skipped\n", r.foreign, topic, library);
	rc = r.refused ? GX_EXIT_CHECK : GX_EXIT_OK;
out:
	gx_state_reader_destroy(sr);
	if (have_val)
		avro_value_decref(&r.val);
	gx_map_destroy(r.seen, NULL);
	gx_map_destroy(r.done.by_batch, strv_free);
	free(r.plan);
	gx_strv_free(&r.refusals);
	gx_sealkey_destroy(key);
	gx_sealcheck_destroy(r.v);
	gx_schemas_destroy(schemas);
	free(kp);
	free(cp);
	free(kdir);
	free(topic);
	return rc;
}
