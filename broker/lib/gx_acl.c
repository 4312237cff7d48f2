/*
 * gx_acl.c - the agency registry, the ACLs derived from it and the
 * catalogue, and applying them to Kafka (gx_acl.h). Topic, group and
 * cluster ACLs go through librdkafka's admin API; transactional-id ACLs,
 * which librdkafka 2.0.2 cannot name, through gx_aclwire.c.
 */
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_acl.h"
#include "gx_kafka.h"

/* ---- roles ---- */

static const struct {
	const char *name;
	unsigned bit;
} role_names[] = {
    {"provider", GX_ROLE_PROVIDER},	{"consumer", GX_ROLE_CONSUMER},
    {"operator", GX_ROLE_OPERATOR},	{"compliance", GX_ROLE_COMPLIANCE},
    {"broker", GX_ROLE_BROKER},
};

gx_err_t gx_roles_parse(const char *csv, unsigned *roles, char *errstr,
			size_t errstr_size)
{
	gx_strv_t sv;
	gx_strv_init(&sv);
	gx_strv_split(&sv, csv ? csv : "");
	unsigned bits = 0;
	gx_err_t e = GX_OK;
	for (size_t i = 0; i < sv.n && !e; i++) {
		size_t k = 0;
		while (k < GX_ARRAY_SIZE(role_names) &&
		       strcmp(sv.v[i], role_names[k].name))
			k++;
		if (k == GX_ARRAY_SIZE(role_names))
			e = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				      "unknown role '%s' (provider, consumer, "
				      "operator, compliance, broker)",
				      sv.v[i]);
		else
			bits |= role_names[k].bit;
	}
	gx_strv_free(&sv);
	if (!e && !bits)
		e = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
			      "no role given");
	if (!e)
		*roles = bits;
	return e;
}

char *gx_roles_format(unsigned roles)
{
	gx_buf_t b;
	gx_buf_init(&b);
	for (size_t k = 0; k < GX_ARRAY_SIZE(role_names); k++)
		if (roles & role_names[k].bit)
			gx_buf_printf(&b, "%s%s", b.len ? "," : "",
				      role_names[k].name);
	return gx_buf_cstr(&b);
}

/* ---- registry ---- */

void gx_registry_init(gx_registry_t *r)
{
	memset(r, 0, sizeof(*r));
}

void gx_registry_free(gx_registry_t *r)
{
	for (size_t i = 0; r && i < r->n; i++) {
		free(r->v[i].code);
		free(r->v[i].cert_sha256);
		free(r->v[i].reason);
	}
	if (r)
		free(r->v);
}

const gx_agency_t *gx_registry_get(const gx_registry_t *r, const char *code)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].code, code))
			return &r->v[i];
	return NULL;
}

gx_err_t gx_registry_apply(gx_registry_t *r, const void *val, size_t len,
			   char *errstr, size_t errstr_size)
{
	json_error_t je;
	json_t *j = json_loadb(val, len, 0, &je);
	const char *ev = json_string_value(json_object_get(j, "event"));
	const char *code = json_string_value(json_object_get(j, "agency"));
	json_t *at = json_object_get(j, "at");
	gx_err_t e = GX_OK;
	if (!ev || !code || !json_is_integer(at) ||
	    gx_check_code("agency", code, NULL, 0) ||
	    (strcmp(ev, "add") && strcmp(ev, "revoke"))) {
		e = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
			      "not an agency event");
		goto out;
	}
	unsigned roles = 0;
	if (!strcmp(ev, "add")) {
		json_t *ra = json_object_get(j, "roles");
		size_t i;
		json_t *x;
		if (!json_is_array(ra))
			goto bad;
		json_array_foreach(ra, i, x) {
			unsigned b;
			if (gx_roles_parse(json_string_value(x), &b, NULL, 0))
				goto bad;
			roles |= b;
		}
		if (!roles)
			goto bad;
	}
	gx_agency_t *a = (gx_agency_t *)gx_registry_get(r, code);
	if (!strcmp(ev, "add")) {
		if (a) { /* a code is admitted once; see gx_acl.h */
			r->ignored++;
			goto out;
		}
		r->v = gx_realloc(r->v, (r->n + 1) * sizeof(*r->v));
		a = &r->v[r->n++];
		memset(a, 0, sizeof(*a));
		a->code = gx_strdup(code);
		a->roles = roles;
		a->added_at = json_integer_value(at);
		const char *fp =
		    json_string_value(json_object_get(j, "cert_sha256"));
		a->cert_sha256 = fp ? gx_strdup(fp) : NULL;
	} else {
		if (!a || a->revoked) {
			r->ignored++;
			goto out;
		}
		a->revoked = 1;
		a->revoked_at = json_integer_value(at);
		const char *why = json_string_value(json_object_get(j, "reason"));
		a->reason = why ? gx_strdup(why) : NULL;
	}
	goto out;
bad:
	e = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
		      "agency event for %s: bad roles", code);
out:
	if (e)
		r->bad++;
	json_decref(j);
	return e;
}

json_t *gx_agency_add_json(const char *code, unsigned roles,
			   const char *cert_sha256, int64_t not_after_ms,
			   int64_t at_ms)
{
	json_t *o = json_object(), *ra = json_array();
	json_object_set_new(o, "event", json_string("add"));
	json_object_set_new(o, "agency", json_string(code));
	for (size_t k = 0; k < GX_ARRAY_SIZE(role_names); k++)
		if (roles & role_names[k].bit)
			json_array_append_new(ra, json_string(role_names[k].name));
	json_object_set_new(o, "roles", ra);
	json_object_set_new(o, "at", json_integer(at_ms));
	if (cert_sha256)
		json_object_set_new(o, "cert_sha256", json_string(cert_sha256));
	if (not_after_ms)
		json_object_set_new(o, "not_after", json_integer(not_after_ms));
	return o;
}

json_t *gx_agency_revoke_json(const char *code, const char *reason,
			      int64_t at_ms)
{
	json_t *o = json_object();
	json_object_set_new(o, "event", json_string("revoke"));
	json_object_set_new(o, "agency", json_string(code));
	json_object_set_new(o, "at", json_integer(at_ms));
	if (reason)
		json_object_set_new(o, "reason", json_string(reason));
	return o;
}

/* ---- bindings ---- */

void gx_acl_set_init(gx_acl_set_t *s)
{
	memset(s, 0, sizeof(*s));
}

static void acl_free(gx_acl_t *a)
{
	free(a->name);
	free(a->principal);
	free(a->host);
}

void gx_acl_set_free(gx_acl_set_t *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		acl_free(&s->v[i]);
	if (s) {
		free(s->v);
		memset(s, 0, sizeof(*s));
	}
}

void gx_acl_add(gx_acl_set_t *s, int restype, const char *name, int pattern,
		const char *principal, const char *host, int op, int perm)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 32;
		s->v = gx_realloc(s->v, s->cap * sizeof(*s->v));
	}
	gx_acl_t *a = &s->v[s->n++];
	a->restype = restype;
	a->name = gx_strdup(name);
	a->pattern = pattern;
	a->principal = gx_strdup(principal);
	a->host = gx_strdup(host ? host : "*");
	a->op = op;
	a->perm = perm;
}

int gx_acl_cmp(const gx_acl_t *a, const gx_acl_t *b)
{
	int c;
	if ((c = strcmp(a->principal, b->principal)))
		return c;
	if (a->restype != b->restype)
		return a->restype - b->restype;
	if ((c = strcmp(a->name, b->name)))
		return c;
	if (a->pattern != b->pattern)
		return a->pattern - b->pattern;
	if (a->op != b->op)
		return a->op - b->op;
	if (a->perm != b->perm)
		return a->perm - b->perm;
	return strcmp(a->host, b->host);
}

static int cmp_qsort(const void *a, const void *b)
{
	return gx_acl_cmp(a, b);
}

void gx_acl_set_sort(gx_acl_set_t *s)
{
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_qsort);
	size_t k = 1;
	for (size_t i = 1; i < s->n; i++) {
		if (!gx_acl_cmp(&s->v[k - 1], &s->v[i]))
			acl_free(&s->v[i]);
		else
			s->v[k++] = s->v[i];
	}
	s->n = k;
}

static const char *res_name(int t)
{
	switch (t) {
	case GX_RES_TOPIC: return "topic";
	case GX_RES_GROUP: return "group";
	case GX_RES_CLUSTER: return "cluster";
	case GX_RES_TXN: return "transactional-id";
	default: return "unknown";
	}
}

static const char *op_name(int op)
{
	static const char *const names[] = {
	    "UNKNOWN", "ANY", "ALL", "READ", "WRITE", "CREATE", "DELETE",
	    "ALTER", "DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS",
	    "ALTER_CONFIGS", "IDEMPOTENT_WRITE"};
	return op >= 0 && (size_t)op < GX_ARRAY_SIZE(names) ? names[op]
							     : "UNKNOWN";
}

void gx_acl_format(const gx_acl_t *a, char *out, size_t n)
{
	snprintf(out, n, "%s %s %s %s %s (%s)%s%s",
		 a->perm == GX_PERM_ALLOW  ? "ALLOW"
		 : a->perm == GX_PERM_DENY ? "DENY"
					   : "?",
		 a->principal, op_name(a->op), res_name(a->restype), a->name,
		 a->pattern == GX_PAT_PREFIXED ? "prefixed"
		 : a->pattern == GX_PAT_LITERAL ? "literal"
						: "other pattern",
		 strcmp(a->host, "*") ? " from " : "",
		 strcmp(a->host, "*") ? a->host : "");
}

json_t *gx_acl_json(const gx_acl_t *a)
{
	return json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "principal", a->principal,
	    "permission", a->perm == GX_PERM_ALLOW ? "allow" : "deny",
	    "operation", op_name(a->op), "resource", res_name(a->restype),
	    "name", a->name, "pattern",
	    a->pattern == GX_PAT_PREFIXED ? "prefixed" : "literal", "host",
	    a->host);
}

/* ---- derivation ---- */

struct deriv {
	gx_acl_set_t *out;
	const char *principal;
	const char *prefix;
};

static void allow(struct deriv *d, int restype, const char *name,
		  int pattern, int op)
{
	gx_acl_add(d->out, restype, name, pattern, d->principal, "*", op,
		   GX_PERM_ALLOW);
}

/* A topic "<prefix>.<kind>", literal. */
static void topic(struct deriv *d, const char *kind, int op)
{
	char *t = gx_topic(d->prefix, kind);
	allow(d, GX_RES_TOPIC, t, GX_PAT_LITERAL, op);
	free(t);
}

void gx_acl_derive(const gx_acl_opts_t *o, const gx_registry_t *r,
		   const gx_acl_provides_t *prov, size_t nprov,
		   gx_acl_set_t *out)
{
	for (size_t i = 0; i < r->n; i++) {
		const gx_agency_t *a = &r->v[i];
		if (a->revoked)
			continue;
		char *principal = gx_asprintf("User:%s", a->code);
		struct deriv d = {out, principal, o->prefix};
		char *s;
		/* Everyone: the public metadata, and the groups libgovex's
		 * readers name (assign only: never joined, never committed). */
		topic(&d, "catalog", GX_OP_READ);
		topic(&d, "schemas", GX_OP_READ);
		allow(&d, GX_RES_GROUP, "govex-state-reader", GX_PAT_LITERAL,
		      GX_OP_READ);
		allow(&d, GX_RES_GROUP, "govex-scan", GX_PAT_LITERAL,
		      GX_OP_READ);

		if (a->roles & GX_ROLE_PROVIDER) {
			for (size_t k = 0; k < nprov; k++) {
				if (strcmp(prov[k].provider, a->code))
					continue;
				s = gx_topic_ingest(o->prefix, prov[k].library);
				allow(&d, GX_RES_TOPIC, s, GX_PAT_LITERAL,
				      GX_OP_WRITE);
				free(s);
			}
			topic(&d, "seals", GX_OP_WRITE);
			topic(&d, "rejected", GX_OP_WRITE);
			static const char *const state[] = {
			    "adapter.positions", "adapter.digests"};
			for (size_t k = 0; k < 2; k++) {
				topic(&d, state[k], GX_OP_READ);
				topic(&d, state[k], GX_OP_WRITE);
				topic(&d, state[k], GX_OP_CREATE);
			}
			s = gx_asprintf("%s.adapter.%s.", o->prefix, a->code);
			allow(&d, GX_RES_TXN, s, GX_PAT_PREFIXED, GX_OP_WRITE);
			free(s);
		}
		if (a->roles & GX_ROLE_CONSUMER) {
			s = gx_asprintf("%s.deliver.%s.", o->prefix, a->code);
			allow(&d, GX_RES_TOPIC, s, GX_PAT_PREFIXED, GX_OP_READ);
			free(s);
			s = gx_asprintf("govex-consume-%s", a->code);
			allow(&d, GX_RES_GROUP, s, GX_PAT_LITERAL, GX_OP_READ);
			free(s);
			s = gx_asprintf("%s.", a->code);
			allow(&d, GX_RES_GROUP, s, GX_PAT_PREFIXED, GX_OP_READ);
			free(s);
			topic(&d, "seals", GX_OP_READ);
		}
		if (a->roles & GX_ROLE_BROKER) {
			s = gx_asprintf("%s.ingest.", o->prefix);
			allow(&d, GX_RES_TOPIC, s, GX_PAT_PREFIXED, GX_OP_READ);
			free(s);
			s = gx_asprintf("%s.deliver.", o->prefix);
			allow(&d, GX_RES_TOPIC, s, GX_PAT_PREFIXED, GX_OP_WRITE);
			allow(&d, GX_RES_TOPIC, s, GX_PAT_PREFIXED, GX_OP_CREATE);
			free(s);
			topic(&d, "approvals", GX_OP_READ);
			topic(&d, "approvals", GX_OP_WRITE);
			topic(&d, "seals", GX_OP_READ);
			topic(&d, "decisions", GX_OP_WRITE);
			topic(&d, "rejected", GX_OP_WRITE);
			allow(&d, GX_RES_GROUP, o->broker_group, GX_PAT_LITERAL,
			      GX_OP_READ);
			allow(&d, GX_RES_TXN, o->broker_txn, GX_PAT_PREFIXED,
			      GX_OP_WRITE);
		}
		if (a->roles & (GX_ROLE_BROKER | GX_ROLE_OPERATOR)) {
			/* Consumer lag and group members: every group's
			 * offsets and the topics' ends, no records. */
			s = gx_asprintf("%s.", o->prefix);
			allow(&d, GX_RES_TOPIC, s, GX_PAT_PREFIXED,
			      GX_OP_DESCRIBE);
			free(s);
			allow(&d, GX_RES_GROUP, "*", GX_PAT_LITERAL,
			      GX_OP_DESCRIBE);
			allow(&d, GX_RES_CLUSTER, "kafka-cluster", GX_PAT_LITERAL,
			      GX_OP_DESCRIBE);
		}
		/* Requests pending too long are an operator's to chase
		 * (govexctl status); the approvals log holds requests and
		 * grants, no record of anyone. */
		if (a->roles & GX_ROLE_OPERATOR)
			topic(&d, "approvals", GX_OP_READ);
		if (a->roles & GX_ROLE_COMPLIANCE) {
			topic(&d, "decisions", GX_OP_READ);
			topic(&d, "approvals", GX_OP_READ);
			topic(&d, "rejected", GX_OP_READ);
		}
		free(principal);
	}
	gx_acl_set_sort(out);
}

void gx_acl_diff(const gx_acl_set_t *wanted, const gx_acl_set_t *current,
		 const char *const *managed, gx_acl_set_t *add,
		 gx_acl_set_t *del)
{
	for (size_t i = 0; i < current->n; i++) {
		const gx_acl_t *c = &current->v[i];
		int ours = 0, want = 0;
		for (size_t k = 0; managed && managed[k] && !ours; k++)
			ours = !strcmp(managed[k], c->principal);
		for (size_t k = 0; ours && k < wanted->n && !want; k++)
			want = !gx_acl_cmp(&wanted->v[k], c);
		if (ours && !want)
			gx_acl_add(del, c->restype, c->name, c->pattern,
				   c->principal, c->host, c->op, c->perm);
	}
	for (size_t i = 0; i < wanted->n; i++) {
		const gx_acl_t *w = &wanted->v[i];
		int have = 0;
		for (size_t k = 0; k < current->n && !have; k++)
			have = !gx_acl_cmp(&current->v[k], w);
		if (!have)
			gx_acl_add(add, w->restype, w->name, w->pattern,
				   w->principal, w->host, w->op, w->perm);
	}
	gx_acl_set_sort(add);
	gx_acl_set_sort(del);
}

/* ---- Kafka, through librdkafka ---- */

static rd_kafka_AdminOptions_t *admin_opts(rd_kafka_t *rk,
					   rd_kafka_admin_op_t op,
					   int timeout_ms)
{
	char err[256];
	rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
	rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, err,
						  sizeof(err));
	return o;
}

/* Wait for the one result event of an admin call on q. */
static rd_kafka_event_t *admin_wait(rd_kafka_queue_t *q, int timeout_ms,
				    const char *what, gx_err_t *e,
				    char *errstr, size_t errstr_size)
{
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
	if (!ev)
		*e = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
			       "%s: timed out", what);
	else if (rd_kafka_event_error(ev))
		*e = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA, "%s: %s",
			       what, rd_kafka_event_error_string(ev));
	return ev;
}

static gx_err_t describe_type(rd_kafka_t *rk, int restype,
			      const char *principal, int timeout_ms,
			      gx_acl_set_t *out, char *errstr,
			      size_t errstr_size)
{
	char err[256];
	rd_kafka_AclBindingFilter_t *f = rd_kafka_AclBindingFilter_new(
	    (rd_kafka_ResourceType_t)restype, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY,
	    principal, NULL, RD_KAFKA_ACL_OPERATION_ANY,
	    RD_KAFKA_ACL_PERMISSION_TYPE_ANY, err, sizeof(err));
	if (!f)
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "describe ACLs: %s", err);
	rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
	rd_kafka_AdminOptions_t *o =
	    admin_opts(rk, RD_KAFKA_ADMIN_OP_DESCRIBEACLS, timeout_ms);
	rd_kafka_DescribeAcls(rk, f, o, q);
	gx_err_t e = GX_OK;
	rd_kafka_event_t *ev =
	    admin_wait(q, timeout_ms, "describe ACLs", &e, errstr, errstr_size);
	if (!e) {
		size_t n;
		const rd_kafka_AclBinding_t **b =
		    rd_kafka_DescribeAcls_result_acls(
			rd_kafka_event_DescribeAcls_result(ev), &n);
		for (size_t i = 0; i < n; i++)
			gx_acl_add(out, (int)rd_kafka_AclBinding_restype(b[i]),
				   rd_kafka_AclBinding_name(b[i]),
				   (int)rd_kafka_AclBinding_resource_pattern_type(b[i]),
				   rd_kafka_AclBinding_principal(b[i]),
				   rd_kafka_AclBinding_host(b[i]),
				   (int)rd_kafka_AclBinding_operation(b[i]),
				   (int)rd_kafka_AclBinding_permission_type(b[i]));
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_queue_destroy(q);
	rd_kafka_AclBinding_destroy(f);
	return e;
}

gx_err_t gx_acl_kafka_list(rd_kafka_t *rk, const gx_conf_t *conf,
			   const char *brokers, const char *principal,
			   int timeout_ms, gx_acl_set_t *out, char *errstr,
			   size_t errstr_size)
{
	static const int types[] = {GX_RES_TOPIC, GX_RES_GROUP, GX_RES_CLUSTER};
	gx_err_t e = GX_OK;
	for (size_t i = 0; i < GX_ARRAY_SIZE(types) && !e; i++)
		e = describe_type(rk, types[i], principal, timeout_ms, out,
				  errstr, errstr_size);
	if (!e)
		e = gx_aclwire_list(conf, brokers, GX_RES_TXN, principal,
				    timeout_ms, out, errstr, errstr_size);
	gx_acl_set_sort(out);
	return e;
}

/* Split s into what librdkafka can express and the transactional ids. */
static void split(const gx_acl_set_t *s, const gx_acl_t ***lib, size_t *nlib,
		  const gx_acl_t ***txn, size_t *ntxn)
{
	*lib = gx_calloc(s->n + 1, sizeof(**lib));
	*txn = gx_calloc(s->n + 1, sizeof(**txn));
	*nlib = *ntxn = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].restype == GX_RES_TXN)
			(*txn)[(*ntxn)++] = &s->v[i];
		else
			(*lib)[(*nlib)++] = &s->v[i];
	}
}

static rd_kafka_AclBinding_t *binding(const gx_acl_t *a, int filter,
				      char *err, size_t errsz)
{
	return (filter ? rd_kafka_AclBindingFilter_new : rd_kafka_AclBinding_new)(
	    (rd_kafka_ResourceType_t)a->restype, a->name,
	    (rd_kafka_ResourcePatternType_t)a->pattern, a->principal, a->host,
	    (rd_kafka_AclOperation_t)a->op,
	    (rd_kafka_AclPermissionType_t)a->perm, err, errsz);
}

/* Create (del 0) or delete (del 1) the ACLs of s: topics, groups and the
 * cluster through librdkafka's admin API, transactional ids over Kafka's
 * own protocol (gx_aclwire.c). */
static gx_err_t kafka_apply(rd_kafka_t *rk, const gx_conf_t *conf,
			    const char *brokers, const gx_acl_set_t *s, int del,
			    int timeout_ms, char *errstr, size_t errstr_size)
{
	const char *verb = del ? "delete" : "create";
	const gx_acl_t **lib, **txn;
	size_t nlib, ntxn;
	split(s, &lib, &nlib, &txn, &ntxn);
	gx_err_t e = GX_OK;
	char err[256], f[512], what[32];
	snprintf(what, sizeof(what), "%s ACLs", verb);
	/* a filter is a binding in librdkafka (rd_kafka_AclBindingFilter_t) */
	rd_kafka_AclBinding_t **b = gx_calloc(nlib + 1, sizeof(*b));
	for (size_t i = 0; i < nlib && !e; i++)
		if (!(b[i] = binding(lib[i], del, err, sizeof(err)))) {
			gx_acl_format(lib[i], f, sizeof(f));
			e = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				      "%s: %s", f, err);
		}
	if (!e && nlib) {
		rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
		rd_kafka_AdminOptions_t *o = admin_opts(
		    rk, del ? RD_KAFKA_ADMIN_OP_DELETEACLS
			    : RD_KAFKA_ADMIN_OP_CREATEACLS,
		    timeout_ms);
		if (del)
			rd_kafka_DeleteAcls(rk, b, nlib, o, q);
		else
			rd_kafka_CreateAcls(rk, b, nlib, o, q);
		rd_kafka_event_t *ev = admin_wait(q, timeout_ms, what, &e,
						  errstr, errstr_size);
		if (!e) {
			size_t n;
			const rd_kafka_acl_result_t **cr = NULL;
			const rd_kafka_DeleteAcls_result_response_t **dr = NULL;
			if (del)
				dr = rd_kafka_DeleteAcls_result_responses(
				    rd_kafka_event_DeleteAcls_result(ev), &n);
			else
				cr = rd_kafka_CreateAcls_result_acls(
				    rd_kafka_event_CreateAcls_result(ev), &n);
			for (size_t i = 0; i < n && !e; i++) {
				const rd_kafka_error_t *re =
				    del ? rd_kafka_DeleteAcls_result_response_error(dr[i])
					: rd_kafka_acl_result_error(cr[i]);
				if (re) {
					gx_acl_format(lib[i], f, sizeof(f));
					e = gx_seterr(errstr, errstr_size,
						      GX_ERR_KAFKA,
						      "%s ACL %s: %s", verb, f,
						      rd_kafka_error_string(re));
				}
			}
		}
		if (ev)
			rd_kafka_event_destroy(ev);
		rd_kafka_AdminOptions_destroy(o);
		rd_kafka_queue_destroy(q);
	}
	for (size_t i = 0; i < nlib; i++)
		if (b[i])
			rd_kafka_AclBinding_destroy(b[i]);
	free(b);
	if (!e && ntxn)
		e = (del ? gx_aclwire_delete : gx_aclwire_create)(
		    conf, brokers, txn, ntxn, timeout_ms, errstr, errstr_size);
	free(lib);
	free(txn);
	return e;
}

gx_err_t gx_acl_kafka_create(rd_kafka_t *rk, const gx_conf_t *conf,
			     const char *brokers, const gx_acl_set_t *s,
			     int timeout_ms, char *errstr, size_t errstr_size)
{
	return kafka_apply(rk, conf, brokers, s, 0, timeout_ms, errstr,
			   errstr_size);
}

gx_err_t gx_acl_kafka_delete(rd_kafka_t *rk, const gx_conf_t *conf,
			     const char *brokers, const gx_acl_set_t *s,
			     int timeout_ms, char *errstr, size_t errstr_size)
{
	return kafka_apply(rk, conf, brokers, s, 1, timeout_ms, errstr,
			   errstr_size);
}
