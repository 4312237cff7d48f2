/*
 * gx_aclwire.c - Kafka's CreateAcls, DescribeAcls and DeleteAcls spoken
 * directly, for the one thing librdkafka 2.0.2's admin API cannot express:
 * ACLs on transactional ids (its rd_kafka_ResourceType_t stops at the
 * cluster, type 4, and rd_kafka_AclBinding_new refuses type 5). Every
 * govex producer is transactional, so without these ACLs no adapter and no
 * broker could start on a Kafka with an authorizer.
 *
 * One short-lived connection to the first bootstrap server per call, over
 * TLS with the client's kafka.ssl.* files when kafka.security.protocol is
 * ssl. Version 2 of the three requests (the first flexible one: compact
 * strings and arrays, tagged fields; Kafka 2.8 to 4.x accept it). A KRaft
 * broker forwards the changes to the controller; the StandardAuthorizer
 * applies them once the metadata log has them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "gx.h"
#include "gx_acl.h"
#include "gx_tls.h"

enum { API_DESCRIBE = 29, API_CREATE = 30, API_DELETE = 31, API_VERSION = 2 };

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int64_t deadline;
	int32_t corr;
};

static const char *kafka_get(const gx_conf_t *conf, const char *key)
{
	const char *v = NULL;
	for (size_t i = 0; conf && i < conf->nkafka; i++)
		if (!strcmp(conf->kafka[i].key, key))
			v = conf->kafka[i].value; /* the last one wins */
	return v;
}

static int left_ms(const struct conn *c)
{
	int64_t l = c->deadline - gx_mono_ms();
	return l > 0 ? (int)l : 0;
}

static void conn_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
}

/* Wait until fd is readable (want_read) or writable. */
static int wait_fd(struct conn *c, int want_read)
{
	struct pollfd p = {c->fd, (short)(want_read ? POLLIN : POLLOUT), 0};
	int ms = left_ms(c);
	return ms > 0 && poll(&p, 1, ms) == 1;
}

static gx_err_t tcp_connect(struct conn *c, const char *host, const char *port,
			    char *errstr, size_t errstr_size)
{
	struct addrinfo hints = {0}, *ai = NULL;
	hints.ai_socktype = SOCK_STREAM;
	int r = getaddrinfo(host, port, &hints, &ai);
	if (r)
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA, "%s:%s: %s",
				 host, port, gai_strerror(r));
	gx_err_t e = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
			       "%s:%s: cannot connect", host, port);
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
						  SOCK_CLOEXEC,
				a->ai_protocol);
		if (fd < 0)
			continue;
		c->fd = fd;
		int err = 0;
		socklen_t el = sizeof(err);
		if ((connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
		     (errno == EINPROGRESS && wait_fd(c, 0) &&
		      !getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) &&
		      !err))) {
			e = GX_OK;
			break;
		}
		close(fd);
		c->fd = -1;
	}
	freeaddrinfo(ai);
	return e;
}

static gx_err_t ssl_err(const char *what, char *errstr, size_t errstr_size)
{
	char buf[256] = "";
	unsigned long l = ERR_get_error();
	if (l)
		ERR_error_string_n(l, buf, sizeof(buf));
	ERR_clear_error();
	return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA, "TLS: %s%s%s",
			 what, *buf ? ": " : "", buf);
}

static gx_err_t tls_start(struct conn *c, const gx_conf_t *conf,
			  const char *host, char *errstr, size_t errstr_size)
{
	const char *ca = kafka_get(conf, "ssl.ca.location");
	const char *cert = kafka_get(conf, "ssl.certificate.location");
	const char *key = kafka_get(conf, "ssl.key.location");
	const char *eia = kafka_get(conf, "ssl.endpoint.identification.algorithm");
	gx_err_t e;
	if ((cert && (e = gx_tls_check_kafka_file("ssl.certificate.location",
						   cert, errstr, errstr_size))) ||
	    (key && (e = gx_tls_check_kafka_file("ssl.key.location", key,
						  errstr, errstr_size))))
		return GX_ERR_CONFIG;
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		return ssl_err("context", errstr, errstr_size);
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (ca ? SSL_CTX_load_verify_locations(c->ctx, ca, NULL) != 1
	       : SSL_CTX_set_default_verify_paths(c->ctx) != 1)
		return ssl_err("CA certificates", errstr, errstr_size);
	if (cert && SSL_CTX_use_certificate_chain_file(c->ctx, cert) != 1)
		return ssl_err("client certificate", errstr, errstr_size);
	if (key && (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(c->ctx) != 1))
		return ssl_err("client key", errstr, errstr_size);
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		return ssl_err("session", errstr, errstr_size);
	/* As librdkafka (ssl.endpoint.identification.algorithm=https, its
	 * default since 2.0): the server's certificate must name the host. */
	if (!eia || strcasecmp(eia, "none")) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
		unsigned char a[16];
		int ip = inet_pton(AF_INET, host, a) == 1 ||
			 inet_pton(AF_INET6, host, a) == 1;
		if (!(ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, host)
			 : X509_VERIFY_PARAM_set1_host(vp, host, 0)))
			return ssl_err("host name check", errstr, errstr_size);
		if (!ip)
			SSL_set_tlsext_host_name(c->ssl, host);
	}
	for (;;) {
		int r = SSL_connect(c->ssl);
		if (r == 1)
			return GX_OK;
		int why = SSL_get_error(c->ssl, r);
		if ((why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) &&
		    wait_fd(c, why == SSL_ERROR_WANT_READ))
			continue;
		long v = SSL_get_verify_result(c->ssl);
		if (v != X509_V_OK) {
			ERR_clear_error();
			return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
					 "TLS: server certificate: %s",
					 X509_verify_cert_error_string(v));
		}
		return ssl_err("handshake", errstr, errstr_size);
	}
}

static gx_err_t conn_open(struct conn *c, const gx_conf_t *conf,
			  const char *brokers, int timeout_ms, char *errstr,
			  size_t errstr_size)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->deadline = gx_mono_ms() + timeout_ms;
	const char *proto = kafka_get(conf, "security.protocol");
	if (proto && strcasecmp(proto, "ssl") && strcasecmp(proto, "plaintext"))
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "transactional-id ACLs: security.protocol %s "
				 "is not supported (ssl or plaintext)", proto);
	/* Each of "host:port,host:port" (a "proto://" dropped) in turn, until
	 * one answers: a cluster with a node down still takes ACLs. */
	gx_strv_t sv;
	gx_strv_init(&sv);
	gx_strv_split(&sv, brokers ? brokers : "");
	gx_err_t e = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
			       "no bootstrap server");
	for (size_t i = 0; i < sv.n && e != GX_OK; i++) {
		const char *b = sv.v[i], *s = strstr(b, "://");
		char hp[300];
		snprintf(hp, sizeof(hp), "%s", s ? s + 3 : b);
		char *host = hp, *port = strrchr(hp, ':');
		if (!port) {
			e = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				      "bootstrap server %s: no port", hp);
			continue;
		}
		*port++ = '\0';
		if (*host == '[' && strlen(host) > 1 &&
		    host[strlen(host) - 1] == ']') {
			host++;
			host[strlen(host) - 1] = '\0';
		}
		if (c->ssl) { /* from a server that failed before */
			SSL_free(c->ssl);
			c->ssl = NULL;
		}
		SSL_CTX_free(c->ctx);
		c->ctx = NULL;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		e = tcp_connect(c, host, port, errstr, errstr_size);
		if (!e && proto && !strcasecmp(proto, "ssl"))
			e = tls_start(c, conf, host, errstr, errstr_size);
		if (e == GX_ERR_CONFIG)
			break; /* the same for every server */
	}
	gx_strv_free(&sv);
	return e;
}

static gx_err_t io_all(struct conn *c, unsigned char *p, size_t n, int rd,
		       char *errstr, size_t errstr_size)
{
	while (n) {
		ssize_t r;
		int why = 0;
		if (c->ssl) {
			size_t done = 0;
			int ok = rd ? SSL_read_ex(c->ssl, p, n, &done)
				    : SSL_write_ex(c->ssl, p, n, &done);
			r = ok ? (ssize_t)done : -1;
			if (!ok)
				why = SSL_get_error(c->ssl, 0);
		} else {
			r = rd ? read(c->fd, p, n) : write(c->fd, p, n);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				why = rd ? SSL_ERROR_WANT_READ
					 : SSL_ERROR_WANT_WRITE;
		}
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if ((why == SSL_ERROR_WANT_READ || why == SSL_ERROR_WANT_WRITE) &&
		    wait_fd(c, why == SSL_ERROR_WANT_READ))
			continue;
		ERR_clear_error();
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "ACL request: connection %s",
				 left_ms(c) ? "closed (not authenticated?)"
					    : "timed out");
	}
	return GX_OK;
}

/* ---- encoding ---- */

static void put8(gx_buf_t *b, int v)
{
	gx_buf_putc(b, (char)(v & 0xff));
}

static void put16(gx_buf_t *b, int v)
{
	put8(b, v >> 8);
	put8(b, v);
}

static void put32(gx_buf_t *b, int32_t v)
{
	put16(b, (int)(v >> 16));
	put16(b, (int)v);
}

static void uvarint(gx_buf_t *b, uint32_t v)
{
	while (v >= 0x80) {
		put8(b, (int)((v & 0x7f) | 0x80));
		v >>= 7;
	}
	put8(b, (int)v);
}

/* COMPACT_NULLABLE_STRING: length + 1 as an unsigned varint (0: null). */
static void cstr(gx_buf_t *b, const char *s)
{
	if (!s) {
		uvarint(b, 0);
		return;
	}
	uvarint(b, (uint32_t)strlen(s) + 1);
	gx_buf_append(b, s, strlen(s));
}

static void header(gx_buf_t *b, int api, int32_t corr)
{
	put32(b, 0); /* size, filled in by send_recv */
	put16(b, api);
	put16(b, API_VERSION);
	put32(b, corr);
	static const char id[] = "govexctl";
	put16(b, (int)strlen(id)); /* header v2: client id stays a STRING */
	gx_buf_append(b, id, strlen(id));
	uvarint(b, 0); /* no tagged fields */
}

/* One ACL (binding or filter) in CreateAcls/DescribeAcls/DeleteAcls order. */
static void acl_fields(gx_buf_t *b, const gx_acl_t *a)
{
	put8(b, a->restype);
	cstr(b, a->name);
	put8(b, a->pattern);
	cstr(b, a->principal);
	cstr(b, a->host);
	put8(b, a->op);
	put8(b, a->perm);
}

/* ---- decoding ---- */

struct rd {
	const unsigned char *p, *end;
	int bad;
};

static int get8(struct rd *r)
{
	if (r->p >= r->end) {
		r->bad = 1;
		return 0;
	}
	return (signed char)*r->p++;
}

static int get16(struct rd *r)
{
	int hi = get8(r) & 0xff;
	return (int16_t)((hi << 8) | (get8(r) & 0xff));
}

static int32_t get32(struct rd *r)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = (v << 8) | (uint32_t)(get8(r) & 0xff);
	return (int32_t)v;
}

static uint32_t get_uvarint(struct rd *r)
{
	uint32_t v = 0;
	for (int shift = 0; shift < 35; shift += 7) {
		int c = get8(r) & 0xff;
		if (shift == 28 && (c & 0x70)) /* more than 32 bits */
			break;
		v |= (uint32_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

/* A compact (nullable) string, a new string or NULL. */
static char *get_cstr(struct rd *r)
{
	uint32_t n = get_uvarint(r);
	if (!n || r->bad)
		return NULL;
	n--;
	if ((size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	char *s = gx_strndup((const char *)r->p, n);
	r->p += n;
	return s;
}

static void skip_tags(struct rd *r)
{
	uint32_t n = get_uvarint(r);
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		get_uvarint(r); /* tag */
		uint32_t len = get_uvarint(r);
		if ((size_t)(r->end - r->p) < len)
			r->bad = 1;
		else
			r->p += len;
	}
}

/* Send req (header included) and read the response body after its
 * header into *resp (the caller frees). */
static gx_err_t send_recv(struct conn *c, gx_buf_t *req, unsigned char **resp,
			  size_t *rlen, char *errstr, size_t errstr_size)
{
	uint32_t n = (uint32_t)(req->len - 4);
	unsigned char *p = (unsigned char *)req->data;
	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	gx_err_t e = io_all(c, p, req->len, 0, errstr, errstr_size);
	unsigned char sz[4];
	if (e || (e = io_all(c, sz, 4, 1, errstr, errstr_size)))
		return e;
	uint32_t len = (uint32_t)sz[0] << 24 | (uint32_t)sz[1] << 16 |
		       (uint32_t)sz[2] << 8 | sz[3];
	if (len < 5 || len > 64u << 20)
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "ACL request: response of %u bytes", len);
	unsigned char *body = gx_malloc(len);
	if ((e = io_all(c, body, len, 1, errstr, errstr_size))) {
		free(body);
		return e;
	}
	struct rd r = {body, body + len, 0};
	int32_t corr = get32(&r);
	skip_tags(&r);
	if (r.bad || corr != c->corr) {
		free(body);
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "ACL request: unexpected response");
	}
	size_t off = (size_t)(r.p - body);
	memmove(body, body + off, len - off);
	*resp = body;
	*rlen = len - off;
	return GX_OK;
}

/* Kafka error code -> text (the few an ACL request can meet). */
static const char *kerr(int code)
{
	switch (code) {
	case 31: return "CLUSTER_AUTHORIZATION_FAILED (not an admin principal)";
	case 35: return "UNSUPPORTED_VERSION";
	case 42: return "INVALID_REQUEST";
	case 54: return "SECURITY_DISABLED (no authorizer configured)";
	default: return "Kafka error";
	}
}

static gx_err_t resp_err(int code, char *msg, const char *what, char *errstr,
			 size_t errstr_size)
{
	gx_err_t e = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
			       "%s: error %d %s%s%s", what, code, kerr(code),
			       msg ? ": " : "", msg ? msg : "");
	free(msg);
	return e;
}

gx_err_t gx_aclwire_list(const gx_conf_t *conf, const char *brokers,
			 int restype, const char *principal, int timeout_ms,
			 gx_acl_set_t *out, char *errstr, size_t errstr_size)
{
	struct conn c;
	gx_err_t e = conn_open(&c, conf, brokers, timeout_ms, errstr, errstr_size);
	if (e) {
		conn_close(&c);
		return e;
	}
	gx_buf_t b;
	gx_buf_init(&b);
	header(&b, API_DESCRIBE, c.corr = 1);
	put8(&b, restype);
	cstr(&b, NULL);
	put8(&b, 1); /* pattern ANY */
	cstr(&b, principal);
	cstr(&b, NULL);
	put8(&b, 1); /* operation ANY */
	put8(&b, 1); /* permission ANY */
	uvarint(&b, 0);
	unsigned char *resp = NULL;
	size_t rlen = 0;
	e = send_recv(&c, &b, &resp, &rlen, errstr, errstr_size);
	gx_buf_free(&b);
	conn_close(&c);
	if (e)
		return e;
	struct rd r = {resp, resp + rlen, 0};
	get32(&r); /* throttle */
	int code = get16(&r);
	char *msg = get_cstr(&r);
	if (code) {
		free(resp);
		return resp_err(code, msg, "describe ACLs", errstr, errstr_size);
	}
	free(msg);
	uint32_t nres = get_uvarint(&r);
	for (uint32_t i = 0; i + 1 < nres && !r.bad; i++) {
		int rt = get8(&r);
		char *name = get_cstr(&r);
		int pt = get8(&r);
		uint32_t nacl = get_uvarint(&r);
		for (uint32_t k = 0; k + 1 < nacl && !r.bad; k++) {
			char *pr = get_cstr(&r), *host = get_cstr(&r);
			int op = get8(&r), perm = get8(&r);
			skip_tags(&r);
			if (!r.bad && name && pr && host)
				gx_acl_add(out, rt, name, pt, pr, host, op, perm);
			free(pr);
			free(host);
		}
		skip_tags(&r);
		free(name);
	}
	free(resp);
	if (r.bad)
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "describe ACLs: malformed response");
	return GX_OK;
}

/* Send a CreateAcls or DeleteAcls request for the n ACLs of v (as
 * creations or as exact filters: the same fields) and read the response
 * (*resp, malloc'd). */
static gx_err_t acl_request(const gx_conf_t *conf, const char *brokers,
			    int api, int32_t corr, const gx_acl_t *const *v,
			    size_t n, int timeout_ms, unsigned char **resp,
			    size_t *rlen, char *errstr, size_t errstr_size)
{
	struct conn c;
	gx_err_t e = conn_open(&c, conf, brokers, timeout_ms, errstr, errstr_size);
	if (e) {
		conn_close(&c);
		return e;
	}
	gx_buf_t b;
	gx_buf_init(&b);
	header(&b, api, c.corr = corr);
	uvarint(&b, (uint32_t)n + 1);
	for (size_t i = 0; i < n; i++) {
		acl_fields(&b, v[i]);
		uvarint(&b, 0);
	}
	uvarint(&b, 0);
	e = send_recv(&c, &b, resp, rlen, errstr, errstr_size);
	gx_buf_free(&b);
	conn_close(&c);
	return e;
}

gx_err_t gx_aclwire_create(const gx_conf_t *conf, const char *brokers,
			   const gx_acl_t *const *v, size_t n, int timeout_ms,
			   char *errstr, size_t errstr_size)
{
	if (!n)
		return GX_OK;
	unsigned char *resp = NULL;
	size_t rlen = 0;
	gx_err_t e = acl_request(conf, brokers, API_CREATE, 2, v, n, timeout_ms, &resp,
				 &rlen, errstr, errstr_size);
	if (e)
		return e;
	struct rd r = {resp, resp + rlen, 0};
	get32(&r);
	uint32_t nr = get_uvarint(&r);
	for (uint32_t i = 0; i + 1 < nr && !r.bad && !e; i++) {
		int code = get16(&r);
		char *msg = get_cstr(&r);
		skip_tags(&r);
		if (code)
			e = resp_err(code, msg, "create transactional-id ACL",
				     errstr, errstr_size);
		else
			free(msg);
	}
	free(resp);
	if (!e && (r.bad || nr != n + 1))
		e = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
			      "create ACLs: malformed response");
	return e;
}

gx_err_t gx_aclwire_delete(const gx_conf_t *conf, const char *brokers,
			   const gx_acl_t *const *v, size_t n, int timeout_ms,
			   char *errstr, size_t errstr_size)
{
	if (!n)
		return GX_OK;
	unsigned char *resp = NULL;
	size_t rlen = 0;
	gx_err_t e = acl_request(conf, brokers, API_DELETE, 3, v, n, timeout_ms, &resp,
				 &rlen, errstr, errstr_size);
	if (e)
		return e;
	struct rd r = {resp, resp + rlen, 0};
	get32(&r);
	uint32_t nr = get_uvarint(&r);
	for (uint32_t i = 0; i + 1 < nr && !r.bad && !e; i++) {
		int code = get16(&r);
		char *msg = get_cstr(&r);
		if (code) {
			e = resp_err(code, msg, "delete transactional-id ACL",
				     errstr, errstr_size);
			break;
		}
		free(msg);
		uint32_t nm = get_uvarint(&r);
		for (uint32_t k = 0; k + 1 < nm && !r.bad && !e; k++) {
			int mc = get16(&r);
			char *mm = get_cstr(&r);
			get8(&r);
			free(get_cstr(&r));
			get8(&r);
			free(get_cstr(&r));
			free(get_cstr(&r));
			get8(&r);
			get8(&r);
			skip_tags(&r);
			if (mc)
				e = resp_err(mc, mm, "delete transactional-id ACL",
					     errstr, errstr_size);
			else
				free(mm);
		}
		skip_tags(&r);
	}
	free(resp);
	if (!e && (r.bad || nr != (uint32_t)n + 1))
		e = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
			      "delete ACLs: malformed response (%u results for "
			      "%zu filters)", nr ? nr - 1 : 0, n);
	return e;
}
