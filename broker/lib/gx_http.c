/*
 * gx_http.c - /metrics, /healthz and /readyz over libmicrohttpd.
 *
 * The server runs its own listening thread and a thread per connection
 * (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION): a
 * scrape whose hooks wait on Kafka must not hold up a liveness probe behind
 * it. Connections are capped and time out, so a stuck client costs one
 * thread for a while, not the process. libmicrohttpd is started without
 * MHD_USE_ERROR_LOG, so it never prints: the library reports through
 * errstr only.
 */
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gx.h"
#include "gx_http.h"
#include "gx_metrics.h"

#define GX_HTTP_MAX_CONNECTIONS 32
#define GX_HTTP_TIMEOUT_S 15
#define GX_HTTP_REASON_MAX 256

static const char CT_METRICS[] = "text/plain; version=0.0.4; charset=utf-8";
static const char CT_TEXT[] = "text/plain; charset=utf-8";

struct gx_http {
	struct MHD_Daemon *daemon;
	gx_metrics_t *metrics;
	int port;

	pthread_mutex_t ready_lock;
	int ready_set; /* gx_http_set_ready() called */
	gx_http_ready_fn ready_fn;
	void *ready_opaque;
};

/* Queue a response whose body is malloc'd memory that MHD frees. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     const char *content_type, char *body, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned status,
				  const char *text)
{
	char *body = gx_asprintf("%s\n", text);
	return reply(conn, status, CT_TEXT, body, strlen(body));
}

static enum MHD_Result serve_readyz(gx_http_t *h, struct MHD_Connection *conn)
{
	char reason[GX_HTTP_REASON_MAX] = "";
	int ready;

	pthread_mutex_lock(&h->ready_lock);
	if (!h->ready_set) {
		ready = 0;
		snprintf(reason, sizeof(reason), "starting");
	} else if (!h->ready_fn) {
		ready = 1;
	} else {
		ready = h->ready_fn(h->ready_opaque, reason, sizeof(reason));
		reason[sizeof(reason) - 1] = '\0';
	}
	pthread_mutex_unlock(&h->ready_lock);

	if (ready)
		return reply_text(conn, MHD_HTTP_OK, "ready");
	/* The reason is the program's text: keep it to one printable line. */
	for (char *p = reason; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return reply_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, *reason ? reason : "not ready");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version,
			      const char *upload_data, size_t *upload_data_size,
			      void **con_cls)
{
	gx_http_t *h = cls;

	/* Answered on the first call: no request here has a body worth
	 * reading, and MHD closes a connection whose body went unread. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");

	if (strcmp(url, "/metrics") == 0 && h->metrics) {
		gx_buf_t b;
		gx_buf_init(&b);
		gx_metrics_expose(h->metrics, &b);
		gx_buf_cstr(&b); /* allocates even when empty */
		return reply(conn, MHD_HTTP_OK, CT_METRICS, b.data, b.len);
	}
	if (strcmp(url, "/healthz") == 0)
		return reply_text(conn, MHD_HTTP_OK, "ok");
	if (strcmp(url, "/readyz") == 0)
		return serve_readyz(h, conn);
	return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found");
}

gx_err_t gx_http_start(const char *addr, int port, gx_metrics_t *metrics, gx_http_t **out,
		       char *errstr, size_t errstr_size)
{
	*out = NULL;
	/* Numeric only: no name lookup (and no DNS wait) at start. */
	if (!addr || !*addr || strcmp(addr, "localhost") == 0)
		addr = "127.0.0.1";
	if (port < 0 || port > 65535)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "http port %d: want 0 (any) to 65535", port);

	struct addrinfo hints = {0}, *ai = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
	int rc = getaddrinfo(addr, NULL, &hints, &ai);
	if (rc != 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "http address %s: want a numeric IPv4 or IPv6 address (%s)",
				 addr, gai_strerror(rc));

	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	if (ai->ai_family == AF_INET6) {
		memcpy(&ss, ai->ai_addr, sizeof(struct sockaddr_in6));
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else if (ai->ai_family == AF_INET) {
		memcpy(&ss, ai->ai_addr, sizeof(struct sockaddr_in));
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	} else {
		freeaddrinfo(ai);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "http address %s: not IPv4 or IPv6", addr);
	}
	freeaddrinfo(ai);

	gx_http_t *h = gx_calloc(1, sizeof(*h));
	h->metrics = metrics;
	pthread_mutex_init(&h->ready_lock, NULL);

	errno = 0;
	h->daemon = MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, handle, h, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned int)GX_HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned int)GX_HTTP_TIMEOUT_S, MHD_OPTION_END);
	if (!h->daemon) {
		int e = errno;
		pthread_mutex_destroy(&h->ready_lock);
		free(h);
		return gx_seterr(errstr, errstr_size, GX_ERR_IO, "http: cannot listen on %s port %d%s%s",
				 addr, port, e ? ": " : "", e ? strerror(e) : "");
	}
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	*out = h;
	return GX_OK;
}

void gx_http_set_ready(gx_http_t *h, gx_http_ready_fn fn, void *opaque)
{
	pthread_mutex_lock(&h->ready_lock);
	h->ready_set = 1;
	h->ready_fn = fn;
	h->ready_opaque = opaque;
	pthread_mutex_unlock(&h->ready_lock);
}

int gx_http_port(const gx_http_t *h)
{
	return h->port;
}

void gx_http_stop(gx_http_t *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	pthread_mutex_destroy(&h->ready_lock);
	free(h);
}
