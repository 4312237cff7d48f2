/*
 * ctl_acl.c - govexctl agency and acl (issue 8): the exchange's TLS CA,
 * agency TLS certificates, the agency registry (<prefix>.agencies) and the
 * Kafka ACLs derived from it and the catalogue (broker/lib/gx_acl.h says
 * which role may do what; gx_tls.h how certificates look).
 *
 *   agency ca-init --pki DIR [--name N] [--days N]
 *   agency add CODE --role R[,R...] --pki DIR [--days N] [--host H,...]
 *              [--no-cert]
 *   agency revoke CODE --reason TEXT
 *   agency list [--json]
 *   acl sync [--dry-run] [--json] [--broker-group G] [--broker-txn T]
 *   acl list [--json]
 *
 * Roles "admin" and "kafka" are not in the registry: their principals are
 * Kafka super users by configuration (deploy/local/kafka-ssl.sh), so
 * `agency add` only issues their certificate, which is also how the first
 * certificates are made before Kafka runs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "govexctl.h"
#include "gx_acl.h"
#include "gx_catalog.h"
#include "gx_tls.h"

#define DEFAULT_DAYS 825

static char *pki_path(const char *dir, const char *name, const char *ext)
{
	return gx_asprintf("%s/%s.%s", dir, name, ext);
}

/* A client for admin requests and the registry (no idempotence, so it
 * asks Kafka for nothing at start). */
static int admin_client(struct ctl *x, rd_kafka_t **out)
{
	char err[1024];
	rd_kafka_conf_t *kc;
	if (gx_kafka_conf(&x->conf, x->cc.brokers, NULL, &kc, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return GX_EXIT_USAGE;
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, err, sizeof(err));
	if (!rk) {
		rd_kafka_conf_destroy(kc);
		return fail_runtime("cannot create a Kafka client: %s", err);
	}
	*out = rk;
	return GX_EXIT_OK;
}

static int on_agency(void *opaque, const rd_kafka_message_t *m)
{
	char err[256];
	gx_registry_t *r = opaque;
	if (gx_registry_apply(r, m->payload, m->len, err, sizeof(err)))
		gx_log(GX_LOG_WARN, "agency_event_unreadable", "offset=%lld",
		       (long long)m->offset);
	return 0;
}

/* Read the registry; a registry topic not created yet is empty. */
static int load_registry(struct ctl *x, rd_kafka_t *rk, gx_registry_t *r)
{
	char err[1024];
	char *topic = gx_topic(x->cc.prefix, "agencies");
	int n = 0, rc = GX_EXIT_OK;
	gx_err_t e = gx_kafka_partitions(rk, topic, (int)x->cc.timeout_ms, &n,
					 err, sizeof(err));
	if (e == GX_ERR_NOTFOUND)
		goto out;
	if (e) {
		rc = fail_runtime("%s", err);
		goto out;
	}
	rc = load_state(x, "agencies", on_agency, r);
out:
	free(topic);
	return rc;
}

/* Append one event to <prefix>.agencies, creating the topic on first use:
 * one partition (one order), append-only and kept forever. */
static int write_agency_event(struct ctl *x, rd_kafka_t *rk, const char *code,
			      json_t *ev)
{
	char err[1024];
	static const char *const cfg[] = {"cleanup.policy", "delete",
					  "retention.ms", "-1", NULL};
	char *topic = gx_topic(x->cc.prefix, "agencies");
	gx_topic_spec_t spec = {topic, 1, -1, cfg};
	int rc = GX_EXIT_OK;
	if (gx_kafka_create_topics(rk, &spec, 1, (int)x->cc.timeout_ms, NULL,
				   err, sizeof(err))) {
		rc = fail_runtime("%s", err);
		goto out;
	}
	char *val = json_dumps(ev, JSON_COMPACT);
	rd_kafka_resp_err_t ke =
	    gx_kafka_produce(rk, topic, code, strlen(code), val, strlen(val));
	free(val);
	if (ke) {
		rc = fail_runtime("%s: %s", topic, rd_kafka_err2str(ke));
		goto out;
	}
	rc = flush_all(x, rk, topic);
out:
	free(topic);
	return rc;
}

/* Every binding of principal, deleted; printed as "- ..." lines. */
static int drop_principal(struct ctl *x, rd_kafka_t *rk, const char *principal,
			  int json, size_t *n)
{
	char err[1024], line[600];
	gx_acl_set_t cur;
	gx_acl_set_init(&cur);
	int rc = GX_EXIT_OK;
	if (gx_acl_kafka_list(rk, &x->conf, x->cc.brokers, principal,
			      (int)x->cc.timeout_ms, &cur, err, sizeof(err)) ||
	    gx_acl_kafka_delete(rk, &x->conf, x->cc.brokers, &cur,
				(int)x->cc.timeout_ms, err, sizeof(err)))
		rc = fail_runtime("%s", err);
	for (size_t i = 0; !rc && !json && i < cur.n; i++) {
		gx_acl_format(&cur.v[i], line, sizeof(line));
		printf("- %s\n", line);
	}
	*n = cur.n;
	gx_acl_set_free(&cur);
	return rc;
}

/* ================= agency ================= */

static int agency_ca_init(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"pki", required_argument, NULL, 'P'},
	    {"name", required_argument, NULL, 'N'},
	    {"days", required_argument, NULL, 'D'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *dir = NULL, *name = "govex-tls-ca";
	long days = 3650;
	int c, rc;
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'P': dir = optarg; break;
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
	if (!dir)
		return fail_usage(x, "--pki DIR is required");
	if (mkdir(dir, 0700) && errno != EEXIST)
		return fail_usage(x, "%s: %s", dir, strerror(errno));
	char *key = pki_path(dir, "ca", "key"), *crt = pki_path(dir, "ca", "crt");
	rc = GX_EXIT_OK;
	if (gx_tls_ca_init(key, crt, name, (int)days, err, sizeof(err)))
		rc = fail_usage(x, "%s", err);
	else
		printf("created %s (ECDSA P-256 key, mode 0600) and %s (the TLS "
		       "CA Kafka's listeners trust)\n", key, crt);
	free(key);
	free(crt);
	return rc;
}

static int agency_add(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'R'},
	    {"pki", required_argument, NULL, 'P'},
	    {"days", required_argument, NULL, 'D'},
	    {"host", required_argument, NULL, 'H'},
	    {"no-cert", no_argument, NULL, 'n'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *code = take_operand(&argc, &argv);
	const char *role = NULL, *dir = NULL, *hosts = "127.0.0.1,localhost";
	long days = DEFAULT_DAYS;
	int c, rc, no_cert = 0;
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'R': role = optarg; break;
		case 'P': dir = optarg; break;
		case 'H': hosts = optarg; break;
		case 'n': no_cert = 1; break;
		case 'D':
			if ((rc = opt_int(x, "--days", optarg, 1, 36500, &days)))
				return rc;
			break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (!code && optind < argc)
		code = argv[optind++];
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!code || !role)
		return fail_usage(x, "usage: govexctl agency add CODE --role "
				  "provider|consumer|operator|compliance|broker"
				  "|admin|kafka --pki DIR");
	if (gx_check_code("agency code", code, err, sizeof(err)))
		return fail_usage(x, "%s", err);
	if (!no_cert && !dir)
		return fail_usage(x, "--pki DIR (holding ca.key and ca.crt) is "
				  "required");
	/* admin and kafka: super users by configuration; certificate only. */
	int super = !strcmp(role, "admin") || !strcmp(role, "kafka");
	unsigned roles = 0;
	if (!super && gx_roles_parse(role, &roles, err, sizeof(err)))
		return fail_usage(x, "%s (admin and kafka stand alone)", err);
	if (super && no_cert)
		return fail_usage(x, "--no-cert: an %s principal has nothing "
				  "but its certificate", role);
	/* The super users' names: an agency must never hold one, or its
	 * certificate would be a Kafka super user's. */
	if (!super && (!strcmp(code, "govex-admin") || !strcmp(code, "govex-kafka")))
		return fail_usage(x, "%s is reserved for the exchange's Kafka "
				  "super users (--role admin or kafka)", code);
	if ((rc = ctl_configure(x)))
		return rc;

	rd_kafka_t *rk = NULL;
	gx_registry_t reg;
	gx_registry_init(&reg);
	char *key = NULL, *crt = NULL, *cak = NULL, *cac = NULL;
	if (!super) {
		if ((rc = admin_client(x, &rk)) || (rc = load_registry(x, rk, &reg)))
			goto out;
		const gx_agency_t *a = gx_registry_get(&reg, code);
		if (a) {
			rc = fail_usage(x, "%s is already registered%s; a code is "
					"admitted once (a revoked code stays "
					"revoked, as its certificates cannot be "
					"recalled)",
					code, a->revoked ? " and was revoked" : "");
			goto out;
		}
	}
	char fp[65] = "";
	if (!no_cert) {
		key = pki_path(dir, code, "key");
		crt = pki_path(dir, code, "crt");
		cak = pki_path(dir, "ca", "key");
		cac = pki_path(dir, "ca", "crt");
		gx_strv_t hv;
		gx_strv_init(&hv);
		gx_strv_split(&hv, hosts);
		const char **hl = gx_calloc(hv.n + 1, sizeof(*hl));
		for (size_t i = 0; i < hv.n; i++)
			hl[i] = hv.v[i];
		gx_err_t e = gx_tls_issue(cak, cac, code,
					  strcmp(role, "kafka") ? GX_TLS_CLIENT
								: GX_TLS_NODE,
					  hl, (int)days, key, crt, fp, err,
					  sizeof(err));
		free(hl);
		gx_strv_free(&hv);
		if (e) {
			rc = e == GX_ERR_IO || e == GX_ERR_DENIED
				 ? fail_runtime("%s", err)
				 : fail_usage(x, "%s", err);
			goto out;
		}
		printf("created %s (mode 0600) and %s: CN=%s,OU=tls,O=govex, "
		       "principal User:%s, sha256 %s\n",
		       key, crt, code, code, fp);
	}
	if (!super) {
		json_t *ev = gx_agency_add_json(code, roles, *fp ? fp : NULL, 0,
						gx_now_ms());
		rc = write_agency_event(x, rk, code, ev);
		json_decref(ev);
		if (rc && key) { /* no registry entry: no certificate either */
			unlink(key);
			unlink(crt);
		}
		if (!rc) {
			char *rs = gx_roles_format(roles);
			printf("registered %s as %s; `govexctl acl sync` grants "
			       "its ACLs\n", code, rs);
			free(rs);
		}
	}
out:
	free(key);
	free(crt);
	free(cak);
	free(cac);
	gx_registry_free(&reg);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}

static int agency_revoke(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, 'W'},
	    {"json", no_argument, NULL, 'J'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *code = take_operand(&argc, &argv), *reason = NULL;
	int c, rc, json = 0;
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'W': reason = optarg; break;
		case 'J': json = 1; break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (!code && optind < argc)
		code = argv[optind++];
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!code || !reason || !*reason)
		return fail_usage(x, "usage: govexctl agency revoke CODE --reason "
				  "TEXT");
	if (gx_check_code("agency code", code, err, sizeof(err)))
		return fail_usage(x, "%s", err);
	if ((rc = ctl_configure(x)))
		return rc;
	rd_kafka_t *rk = NULL;
	gx_registry_t reg;
	gx_registry_init(&reg);
	if ((rc = admin_client(x, &rk)) || (rc = load_registry(x, rk, &reg)))
		goto out;
	const gx_agency_t *a = gx_registry_get(&reg, code);
	if (!a) {
		rc = fail_usage(x, "%s is not a registered agency", code);
		goto out;
	}
	/* Recorded first, so a sync from now on never grants it again; then
	 * every ACL of its principal goes at once (a revoke that had to wait
	 * for the next sync would not be one). Repeating it is harmless. */
	if (!a->revoked) {
		json_t *ev = gx_agency_revoke_json(code, reason, gx_now_ms());
		rc = write_agency_event(x, rk, code, ev);
		json_decref(ev);
		if (rc)
			goto out;
	}
	char *principal = gx_asprintf("User:%s", code);
	size_t n = 0;
	rc = drop_principal(x, rk, principal, json, &n);
	free(principal);
	if (!rc) {
		if (json) {
			json_t *o = json_pack("{s:s, s:b, s:I}", "agency", code,
					      "revoked", 1, "acls_removed",
					      (json_int_t)n);
			print_json_line(o);
			json_decref(o);
		} else {
			printf("revoked %s: %zu ACL%s removed; Kafka refuses every "
			       "request of User:%s from now on\n",
			       code, n, n == 1 ? "" : "s", code);
		}
	}
out:
	gx_registry_free(&reg);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}

static int agency_list(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'}, COMMON_LONG, {NULL, 0, NULL, 0}};
	int c, rc, json = 0;
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		if (c == 'J')
			json = 1;
		else if ((rc = common_opt(x, c, argv)) >= 0)
			return rc;
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_configure(x)))
		return rc;
	rd_kafka_t *rk = NULL;
	gx_registry_t reg;
	gx_registry_init(&reg);
	if ((rc = admin_client(x, &rk)) || (rc = load_registry(x, rk, &reg)))
		goto out;
	static const char *const hdr[] = {"AGENCY", "ROLES", "STATUS", "ADDED",
					  "REVOKED", "REASON"};
	struct table t;
	table_init(&t, GX_ARRAY_SIZE(hdr), hdr);
	for (size_t i = 0; i < reg.n; i++) {
		const gx_agency_t *a = &reg.v[i];
		char *rs = gx_roles_format(a->roles);
		if (json) {
			json_t *o = json_object();
			json_object_set_new(o, "agency", json_string(a->code));
			json_object_set_new(o, "roles", json_string(rs));
			json_object_set_new(o, "revoked", json_boolean(a->revoked));
			json_object_set_new(o, "added_at", json_time(a->added_at));
			json_object_set_new(o, "revoked_at",
					    a->revoked ? json_time(a->revoked_at)
						       : json_null());
			json_object_set_new(o, "reason", a->reason
							     ? json_string(a->reason)
							     : json_null());
			json_object_set_new(o, "cert_sha256",
					    a->cert_sha256
						? json_string(a->cert_sha256)
						: json_null());
			print_json_line(o);
			json_decref(o);
		} else {
			char at[40], rat[40] = "-";
			fmt_ms(a->added_at, at, sizeof(at));
			if (a->revoked)
				fmt_ms(a->revoked_at, rat, sizeof(rat));
			table_cell(&t, a->code);
			table_cell(&t, rs);
			table_cell(&t, a->revoked ? "revoked" : "active");
			table_cell(&t, at);
			table_cell(&t, rat);
			table_cell(&t, a->reason ? a->reason : "-");
		}
		free(rs);
	}
	if (!json)
		table_print(&t, stdout);
	table_free(&t);
out:
	gx_registry_free(&reg);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}

int cmd_agency(struct ctl *x, int argc, char **argv)
{
	if (argc < 2)
		return fail_usage(x, "usage: govexctl agency ca-init|add|revoke|"
				  "list ...");
	const char *sub = argv[1];
	argc--;
	argv++;
	if (!strcmp(sub, "ca-init")) {
		x->cmd = "agency ca-init";
		return agency_ca_init(x, argc, argv);
	}
	if (!strcmp(sub, "add")) {
		x->cmd = "agency add";
		return agency_add(x, argc, argv);
	}
	if (!strcmp(sub, "revoke")) {
		x->cmd = "agency revoke";
		return agency_revoke(x, argc, argv);
	}
	if (!strcmp(sub, "list")) {
		x->cmd = "agency list";
		return agency_list(x, argc, argv);
	}
	return fail_usage(x, "unknown subcommand '%s' (ca-init, add, revoke, "
			  "list)", sub);
}

/* ================= acl ================= */

/* The (provider, library) pairs of the catalogue. */
static int load_provides(struct ctl *x, gx_schemas_t **schemas,
			 gx_catalog_t **cat, gx_acl_provides_t **out, size_t *n)
{
	int rc;
	if ((rc = load_schemas(schemas)))
		return rc;
	*cat = gx_catalog_new(*schemas);
	if ((rc = load_state(x, "catalog", on_catalog, *cat)))
		return rc;
	*out = gx_calloc(gx_catalog_count(*cat) + 1, sizeof(**out));
	*n = 0;
	const gx_cat_item_t *it;
	for (size_t i = 0; (it = gx_catalog_next(*cat, &i));) {
		(*out)[*n].provider = it->provider;
		(*out)[(*n)++].library = it->library;
	}
	return GX_EXIT_OK;
}

static void print_set(const char *sign, const gx_acl_set_t *s, json_t *arr)
{
	char line[600];
	for (size_t i = 0; i < s->n; i++) {
		if (arr) {
			json_array_append_new(arr, gx_acl_json(&s->v[i]));
		} else {
			gx_acl_format(&s->v[i], line, sizeof(line));
			printf("%s %s\n", sign, line);
		}
	}
}

static int acl_sync(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'J'},
	    {"broker-group", required_argument, NULL, 'G'},
	    {"broker-txn", required_argument, NULL, 'T'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	int c, rc, dry = 0, json = 0;
	const char *bgroup = "govex-broker", *btxn = "govex-broker";
	char err[1024];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'n': dry = 1; break;
		case 'J': json = 1; break;
		case 'G': bgroup = optarg; break;
		case 'T': btxn = optarg; break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if (!*bgroup || !*btxn)
		return fail_usage(x, "--broker-group and --broker-txn must not be "
				  "empty");
	if ((rc = ctl_configure(x)))
		return rc;
	rd_kafka_t *rk = NULL;
	gx_registry_t reg;
	gx_schemas_t *schemas = NULL;
	gx_catalog_t *cat = NULL;
	gx_acl_provides_t *prov = NULL;
	size_t nprov = 0;
	gx_acl_set_t want, cur, add, del;
	gx_registry_init(&reg);
	gx_acl_set_init(&want);
	gx_acl_set_init(&cur);
	gx_acl_set_init(&add);
	gx_acl_set_init(&del);
	const char **managed = NULL;
	if ((rc = admin_client(x, &rk)) || (rc = load_registry(x, rk, &reg)) ||
	    (rc = load_provides(x, &schemas, &cat, &prov, &nprov)))
		goto out;
	gx_acl_opts_t o = {x->cc.prefix, bgroup, btxn};
	gx_acl_derive(&o, &reg, prov, nprov, &want);
	if (gx_acl_kafka_list(rk, &x->conf, x->cc.brokers, NULL,
			      (int)x->cc.timeout_ms, &cur, err, sizeof(err))) {
		rc = fail_runtime("%s", err);
		goto out;
	}
	/* Sync owns every binding of a registered principal, revoked ones
	 * included (so a revoke whose deletions were cut short is finished
	 * here), and leaves everyone else's alone. */
	managed = gx_calloc(reg.n + 1, sizeof(*managed));
	for (size_t i = 0; i < reg.n; i++)
		managed[i] = gx_asprintf("User:%s", reg.v[i].code);
	gx_acl_diff(&want, &cur, managed, &add, &del);
	if (!dry && ((del.n && gx_acl_kafka_delete(rk, &x->conf, x->cc.brokers,
						   &del, (int)x->cc.timeout_ms,
						   err, sizeof(err))) ||
		     (add.n && gx_acl_kafka_create(rk, &x->conf, x->cc.brokers,
						   &add, (int)x->cc.timeout_ms,
						   err, sizeof(err))))) {
		rc = fail_runtime("%s", err);
		goto out;
	}
	size_t same = want.n - add.n, nrev = 0;
	for (size_t i = 0; i < reg.n; i++)
		nrev += reg.v[i].revoked != 0;
	if (json) {
		json_t *j = json_object(), *ja = json_array(), *jd = json_array();
		print_set("+", &add, ja);
		print_set("-", &del, jd);
		json_object_set_new(j, "added", ja);
		json_object_set_new(j, "removed", jd);
		json_object_set_new(j, "unchanged", json_integer((json_int_t)same));
		json_object_set_new(j, "dry_run", json_boolean(dry));
		print_json_line(j);
		json_decref(j);
	} else {
		print_set("+", &add, NULL);
		print_set("-", &del, NULL);
		printf("acl sync%s: %zu added, %zu removed, %zu unchanged "
		       "(%zu agencies, %zu revoked)\n",
		       dry ? " (dry run, nothing changed)" : "", add.n, del.n,
		       same, reg.n, nrev);
	}
out:
	for (size_t i = 0; managed && managed[i]; i++)
		free((char *)managed[i]);
	free(managed);
	free(prov);
	gx_catalog_destroy(cat);
	gx_schemas_destroy(schemas);
	gx_acl_set_free(&want);
	gx_acl_set_free(&cur);
	gx_acl_set_free(&add);
	gx_acl_set_free(&del);
	gx_registry_free(&reg);
	if (rk)
		rd_kafka_destroy(rk);
	return rc;
}

static int acl_list(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'J'}, COMMON_LONG, {NULL, 0, NULL, 0}};
	int c, rc, json = 0;
	char err[1024], line[600];
	getopt_reset();
	while ((c = getopt_long(argc, argv, COMMON_SHORT, opts, NULL)) != -1) {
		if (c == 'J')
			json = 1;
		else if ((rc = common_opt(x, c, argv)) >= 0)
			return rc;
	}
	if (optind < argc)
		return fail_usage(x, "unexpected argument '%s'", argv[optind]);
	if ((rc = ctl_configure(x)))
		return rc;
	rd_kafka_t *rk = NULL;
	gx_acl_set_t cur;
	gx_acl_set_init(&cur);
	if ((rc = admin_client(x, &rk)))
		return rc;
	if (gx_acl_kafka_list(rk, &x->conf, x->cc.brokers, NULL,
			      (int)x->cc.timeout_ms, &cur, err, sizeof(err)))
		rc = fail_runtime("%s", err);
	for (size_t i = 0; !rc && i < cur.n; i++) {
		if (json) {
			json_t *j = gx_acl_json(&cur.v[i]);
			print_json_line(j);
			json_decref(j);
		} else {
			gx_acl_format(&cur.v[i], line, sizeof(line));
			printf("%s\n", line);
		}
	}
	gx_acl_set_free(&cur);
	rd_kafka_destroy(rk);
	return rc;
}

int cmd_acl(struct ctl *x, int argc, char **argv)
{
	if (argc < 2)
		return fail_usage(x, "usage: govexctl acl sync|list ...");
	const char *sub = argv[1];
	argc--;
	argv++;
	if (!strcmp(sub, "sync")) {
		x->cmd = "acl sync";
		return acl_sync(x, argc, argv);
	}
	if (!strcmp(sub, "list")) {
		x->cmd = "acl list";
		return acl_list(x, argc, argv);
	}
	return fail_usage(x, "unknown subcommand '%s' (sync, list)", sub);
}
