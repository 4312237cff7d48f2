/*
 * test_http.c - the operations endpoint (broker/lib/gx_http.c) over real
 * loopback sockets: a server on port 0 answered by a plain HTTP/1.0 client
 * written here. Status codes, content types and bodies of /metrics,
 * /healthz and /readyz; readiness going from 503 to 200; 404 and 405; two
 * servers at once; bad addresses and a port in use.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "gx.h"
#include "gx_http.h"
#include "gx_metrics.h"

static char errstr[256];

struct resp {
	int status;
	char *headers; /* the header block, lines ending in \r\n */
	char *body;
	size_t body_len;
};

static void resp_free(struct resp *r)
{
	free(r->headers);
	free(r->body);
}

/* The value of header name in r (case-insensitive name), or NULL; static. */
static const char *header(const struct resp *r, const char *name)
{
	static char value[256];
	size_t n = strlen(name);
	for (const char *p = r->headers; p && *p;) {
		const char *eol = strstr(p, "\r\n");
		if (!eol)
			break;
		if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			snprintf(value, sizeof(value), "%.*s", (int)(eol - v), v);
			return value;
		}
		p = eol + 2;
	}
	return NULL;
}

/* One HTTP/1.0 request to family/addr:port; the whole response until EOF. */
static struct resp request_at(int family, const char *addr, int port, const char *method,
			      const char *path)
{
	int fd = socket(family, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	struct timeval tv = {5, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int rc;
	if (family == AF_INET6) {
		struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
		cr_assert_eq(inet_pton(AF_INET6, addr, &sa.sin6_addr), 1);
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
		cr_assert_eq(inet_pton(AF_INET, addr, &sa.sin_addr), 1);
		rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	cr_assert_eq(rc, 0, "connect %s port %d", addr, port);

	char *req = gx_asprintf("%s %s HTTP/1.0\r\nHost: localhost\r\n"
				"User-Agent: govex-test\r\n\r\n",
				method, path);
	cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	free(req);

	gx_buf_t b;
	gx_buf_init(&b);
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		gx_buf_append(&b, chunk, (size_t)n);
	cr_assert_eq(n, 0, "read until the server closed");
	close(fd);
	gx_buf_cstr(&b);

	struct resp r = {0};
	cr_assert_eq(sscanf(b.data, "HTTP/1.%*d %d", &r.status), 1, "status line: %s", b.data);
	char *end = strstr(b.data, "\r\n\r\n");
	cr_assert_not_null(end, "no end of headers");
	char *line_end = strstr(b.data, "\r\n");
	r.headers = gx_strndup(line_end + 2, (size_t)(end + 2 - (line_end + 2)));
	r.body_len = b.len - (size_t)(end + 4 - b.data);
	r.body = gx_strndup(end + 4, r.body_len);
	gx_buf_free(&b);
	return r;
}

static struct resp request(int port, const char *method, const char *path)
{
	return request_at(AF_INET, "127.0.0.1", port, method, path);
}

static gx_http_t *start(gx_metrics_t *reg)
{
	gx_http_t *h = NULL;
	gx_err_t err = gx_http_start(NULL, 0, reg, &h, errstr, sizeof(errstr));
	cr_assert_eq(err, GX_OK, "%s", errstr);
	cr_assert_gt(gx_http_port(h), 0);
	return h;
}

Test(http, healthz)
{
	gx_http_t *h = start(NULL);
	struct resp r = request(gx_http_port(h), "GET", "/healthz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
	cr_assert_str_eq(header(&r, "Content-Type"), "text/plain; charset=utf-8");
	resp_free(&r);

	/* HEAD: the same status and headers, no body. */
	r = request(gx_http_port(h), "HEAD", "/healthz");
	cr_assert_eq(r.status, 200);
	cr_assert_eq(r.body_len, 0);
	resp_free(&r);
	gx_http_stop(h);
}

static void count_scrapes(gx_metrics_t *reg, void *opaque)
{
	gx_metric_t *g = opaque;
	gx_gauge_add(gx_metric_child(g), 1);
}

Test(http, metrics)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_metric_t *denied, *scrapes;
	cr_assert_eq(gx_metrics_counter(reg, "govex_records_denied_total", "Denied.", "reason",
					&denied, errstr, sizeof(errstr)), GX_OK);
	cr_assert_eq(gx_metrics_gauge(reg, "govex_test_scrapes", "Scrapes so far.", NULL,
				      &scrapes, errstr, sizeof(errstr)), GX_OK);
	gx_metrics_on_scrape(reg, count_scrapes, scrapes);
	gx_metric_add(denied, 7, "no_grant");

	gx_http_t *h = start(reg);
	struct resp r = request(gx_http_port(h), "GET", "/metrics");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(header(&r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
	cr_assert_str_eq(r.body, "# HELP govex_records_denied_total Denied.\n"
				 "# TYPE govex_records_denied_total counter\n"
				 "govex_records_denied_total{reason=\"no_grant\"} 7\n"
				 "# HELP govex_test_scrapes Scrapes so far.\n"
				 "# TYPE govex_test_scrapes gauge\n"
				 "govex_test_scrapes 1\n");
	cr_assert_eq(strlen(r.body), r.body_len, "no NUL in the body");
	resp_free(&r);

	/* Each scrape runs the hooks afresh and sees new counts. */
	gx_metric_inc(denied, "no_grant");
	r = request(gx_http_port(h), "GET", "/metrics?x=1");
	cr_assert_eq(r.status, 200, "a query string is ignored");
	cr_assert(strstr(r.body, "govex_records_denied_total{reason=\"no_grant\"} 8\n"), "%s",
		  r.body);
	cr_assert(strstr(r.body, "govex_test_scrapes 2\n"), "%s", r.body);
	resp_free(&r);
	gx_http_stop(h);
	gx_metrics_destroy(reg);
}

Test(http, metrics_without_registry_is_404)
{
	gx_http_t *h = start(NULL);
	struct resp r = request(gx_http_port(h), "GET", "/metrics");
	cr_assert_eq(r.status, 404);
	resp_free(&r);
	gx_http_stop(h);
}

Test(http, not_found_and_not_allowed)
{
	gx_metrics_t *reg = gx_metrics_new();
	gx_http_t *h = start(reg);
	int port = gx_http_port(h);
	static const char *missing[] = {"/", "/metrics/", "/METRICS", "/healthz/x", "/ready",
					"/../metrics"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(missing); i++) {
		struct resp r = request(port, "GET", missing[i]);
		cr_assert_eq(r.status, 404, "%s: %d", missing[i], r.status);
		cr_assert_str_eq(r.body, "not found\n");
		resp_free(&r);
	}
	static const char *methods[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(methods); i++) {
		struct resp r = request(port, methods[i], "/metrics");
		cr_assert_eq(r.status, 405, "%s: %d", methods[i], r.status);
		cr_assert_str_eq(header(&r, "Allow"), "GET, HEAD");
		resp_free(&r);
	}
	/* After a refused method the server goes on serving. */
	struct resp r = request(port, "POST", "/readyz");
	cr_assert_eq(r.status, 405);
	resp_free(&r);
	r = request(port, "GET", "/healthz");
	cr_assert_eq(r.status, 200);
	resp_free(&r);
	gx_http_stop(h);
	gx_metrics_destroy(reg);
}

struct readiness {
	atomic_int ready;
	atomic_int calls;
};

static int check_ready(void *opaque, char *reason, size_t reason_size)
{
	struct readiness *st = opaque;
	atomic_fetch_add(&st->calls, 1);
	if (atomic_load(&st->ready))
		return 1;
	snprintf(reason, reason_size, "catalogue not loaded\n(offset 3 of 10)");
	return 0;
}

Test(http, readiness_goes_from_503_to_200)
{
	gx_http_t *h = start(NULL);
	int port = gx_http_port(h);

	struct resp r = request(port, "GET", "/readyz");
	cr_assert_eq(r.status, 503, "not ready before the program says how to tell");
	cr_assert_str_eq(r.body, "starting\n");
	resp_free(&r);

	struct readiness st = {0};
	gx_http_set_ready(h, check_ready, &st);
	r = request(port, "GET", "/readyz");
	cr_assert_eq(r.status, 503);
	cr_assert_str_eq(r.body, "catalogue not loaded (offset 3 of 10)\n",
			 "the reason, on one line");
	cr_assert_str_eq(header(&r, "Content-Type"), "text/plain; charset=utf-8");
	resp_free(&r);

	/* Liveness does not depend on readiness. */
	r = request(port, "GET", "/healthz");
	cr_assert_eq(r.status, 200);
	resp_free(&r);

	atomic_store(&st.ready, 1);
	r = request(port, "GET", "/readyz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ready\n");
	resp_free(&r);
	cr_assert_eq(atomic_load(&st.calls), 2);

	/* NULL: always ready. */
	gx_http_set_ready(h, NULL, NULL);
	r = request(port, "GET", "/readyz");
	cr_assert_eq(r.status, 200);
	resp_free(&r);
	gx_http_stop(h);
}

Test(http, two_servers_no_shared_state)
{
	gx_metrics_t *a = gx_metrics_new(), *b = gx_metrics_new();
	gx_metric_t *ma, *mb;
	cr_assert_eq(gx_metrics_gauge(a, "which", "a", NULL, &ma, errstr, sizeof(errstr)), GX_OK);
	cr_assert_eq(gx_metrics_gauge(b, "which", "b", NULL, &mb, errstr, sizeof(errstr)), GX_OK);
	gx_metric_set(ma, 1);
	gx_metric_set(mb, 2);
	gx_http_t *ha = start(a), *hb = start(b);
	cr_assert_neq(gx_http_port(ha), gx_http_port(hb));
	gx_http_set_ready(hb, NULL, NULL);

	struct resp r = request(gx_http_port(ha), "GET", "/metrics");
	cr_assert(strstr(r.body, "which 1\n"));
	resp_free(&r);
	r = request(gx_http_port(hb), "GET", "/metrics");
	cr_assert(strstr(r.body, "which 2\n"));
	resp_free(&r);
	r = request(gx_http_port(ha), "GET", "/readyz");
	cr_assert_eq(r.status, 503);
	resp_free(&r);
	r = request(gx_http_port(hb), "GET", "/readyz");
	cr_assert_eq(r.status, 200);
	resp_free(&r);

	gx_http_stop(ha);
	/* The other keeps serving. */
	r = request(gx_http_port(hb), "GET", "/healthz");
	cr_assert_eq(r.status, 200);
	resp_free(&r);
	gx_http_stop(hb);
	gx_metrics_destroy(a);
	gx_metrics_destroy(b);
}

Test(http, explicit_address_and_port)
{
	gx_http_t *h = start(NULL);
	int port = gx_http_port(h);
	gx_http_stop(h);

	/* The port just freed, asked for by number on an explicit address. */
	h = NULL;
	gx_err_t err = gx_http_start("127.0.0.1", port, NULL, &h, errstr, sizeof(errstr));
	cr_assert_eq(err, GX_OK, "%s", errstr);
	cr_assert_eq(gx_http_port(h), port);
	struct resp r = request(port, "GET", "/healthz");
	cr_assert_eq(r.status, 200);
	resp_free(&r);

	/* A second server on the same port cannot listen. */
	gx_http_t *again = (gx_http_t *)1;
	err = gx_http_start("127.0.0.1", port, NULL, &again, errstr, sizeof(errstr));
	cr_assert_eq(err, GX_ERR_IO);
	cr_assert_null(again);
	cr_assert(strstr(errstr, "cannot listen"), "%s", errstr);
	gx_http_stop(h);
}

Test(http, ipv6_loopback)
{
	gx_http_t *h = NULL;
	if (gx_http_start("::1", 0, NULL, &h, errstr, sizeof(errstr)) != GX_OK)
		cr_skip_test("no IPv6 loopback here: %s", errstr);
	struct resp r = request_at(AF_INET6, "::1", gx_http_port(h), "GET", "/healthz");
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body, "ok\n");
	resp_free(&r);
	gx_http_stop(h);
}

Test(http, bad_configuration)
{
	gx_http_t *h = (gx_http_t *)1;
	cr_assert_eq(gx_http_start("127.0.0.1", 65536, NULL, &h, errstr, sizeof(errstr)),
		     GX_ERR_CONFIG);
	cr_assert_null(h);
	cr_assert(strstr(errstr, "65536"), "%s", errstr);
	cr_assert_eq(gx_http_start("127.0.0.1", -1, NULL, &h, errstr, sizeof(errstr)),
		     GX_ERR_CONFIG);
	cr_assert_eq(gx_http_start("not an address", 0, NULL, &h, errstr, sizeof(errstr)),
		     GX_ERR_CONFIG);
	cr_assert(strstr(errstr, "not an address"), "%s", errstr);
	cr_assert_eq(gx_http_start("256.1.1.1", 0, NULL, &h, errstr, sizeof(errstr)),
		     GX_ERR_CONFIG);
	cr_assert_eq(gx_http_start("example.org", 0, NULL, &h, errstr, sizeof(errstr)),
		     GX_ERR_CONFIG, "no name lookup");

	/* "localhost" is the one name: loopback, without a lookup. */
	cr_assert_eq(gx_http_start("localhost", 0, NULL, &h, errstr, sizeof(errstr)), GX_OK,
		     "%s", errstr);
	struct resp r = request(gx_http_port(h), "GET", "/healthz");
	cr_assert_eq(r.status, 200);
	resp_free(&r);
	gx_http_stop(h);
	gx_http_stop(NULL);
}
