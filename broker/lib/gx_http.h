/*
 * gx_http.h - the operations endpoint every long-running program serves
 * (libmicrohttpd, its own threads):
 *
 *	GET /metrics	200, the registry in the Prometheus text format 0.0.4
 *	GET /healthz	200 "ok" while the process runs
 *	GET /readyz	200 "ready", or 503 and the reason the program gives
 *
 * HEAD is answered as GET without the body; any other method is 405 (with
 * Allow: GET, HEAD), any other path 404. No global state: a program may run
 * several servers (tests do).
 */
#ifndef GX_HTTP_H
#define GX_HTTP_H

#include <stddef.h>

#include "gx.h"
#include "gx_metrics.h"

typedef struct gx_http gx_http_t;

/*
 * Readiness: return nonzero when ready; otherwise return 0 and write a short
 * reason ("catalogue not loaded") into reason (reason_size > 0, already "").
 * Called on the server's threads, possibly several at once: read only state
 * that is safe to read there (an atomic flag).
 */
typedef int (*gx_http_ready_fn)(void *opaque, char *reason, size_t reason_size);

/*
 * Listen on addr (a numeric IPv4 or IPv6 address, "0.0.0.0" or "::" for
 * all; NULL, "" or "localhost" mean 127.0.0.1; no name lookup) and port (0: the system picks one, see gx_http_port())
 * and serve until gx_http_stop(). metrics (may be NULL: /metrics is then
 * 404) stays the caller's and must outlive the server. Until
 * gx_http_set_ready() is called /readyz answers 503 "starting".
 * GX_ERR_CONFIG for a bad address or port, GX_ERR_IO if it cannot listen.
 */
gx_err_t gx_http_start(const char *addr, int port, gx_metrics_t *metrics, gx_http_t **out,
		       char *errstr, size_t errstr_size);

/* Set (or replace) the readiness check; fn NULL means "always ready". */
void gx_http_set_ready(gx_http_t *h, gx_http_ready_fn fn, void *opaque);

/* The port actually listened on. */
int gx_http_port(const gx_http_t *h);

/* Stop serving (waits for requests in progress) and free; accepts NULL. */
void gx_http_stop(gx_http_t *h);

#endif /* GX_HTTP_H */
