/*
 * gx_metrics.h - a small Prometheus registry: counters, gauges and
 * histograms with fixed label names, exposed in the text format 0.0.4.
 *
 * A family (gx_metric_t) has a name, a help text and fixed label names; a
 * child (gx_metric_child_t) is one tuple of label values. Resolve a child
 * once and keep the handle: updating it is one atomic operation, with no
 * lookup and no lock, from any thread. Families and children live until
 * gx_metrics_destroy() (or gx_metric_clear() on their family).
 *
 *	gx_metric_t *rel;
 *	if (gx_metrics_counter(reg, "govex_records_released_total",
 *			       "Records released to consumers.", "consumer,library",
 *			       &rel, errstr, sizeof(errstr)) != GX_OK) ...
 *	gx_metric_child_t *c = gx_metric_child(rel, "tax-bureau", "population");
 *	gx_counter_inc(c);                          // hot path
 *	gx_metric_inc(rel, "tax-bureau", "population");  // lookup each time
 *
 * Names are checked at registration against Prometheus' rules and the
 * conventions `promtool check metrics` enforces: lowercase snake_case, no
 * colons (reserved for recording rules), counters end in `_total` and
 * nothing else does, no family ends in `_bucket`, `_count` or `_sum`, no
 * name repeats its own type, label names do not start with `__` and are not
 * `le` or `quantile`. Help text is required.
 *
 * Label values may be any string; bytes that are not valid UTF-8 are
 * replaced with U+FFFD (Prometheus refuses a whole scrape over one invalid
 * byte). Each distinct tuple is a time series kept for the process's life:
 * use values from bounded sets (consumers, libraries, reason codes), never
 * record ids or personal data.
 */
#ifndef GX_METRICS_H
#define GX_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "gx.h"

typedef struct gx_metrics gx_metrics_t;		/* a registry */
typedef struct gx_metric gx_metric_t;		/* a family */
typedef struct gx_metric_child gx_metric_child_t; /* one label-value tuple */

typedef enum {
	GX_METRIC_COUNTER,
	GX_METRIC_GAUGE,
	GX_METRIC_HISTOGRAM
} gx_metric_type_t;

/* Release latency buckets, 5 ms to 60 s (govex_release_latency_seconds). */
extern const double gx_metrics_latency_buckets[];
extern const size_t gx_metrics_latency_nbuckets;

gx_metrics_t *gx_metrics_new(void);
/* Free the registry, its families and children; accepts NULL. */
void gx_metrics_destroy(gx_metrics_t *reg);

/*
 * Register a family. `labels` is a comma-separated list of label names
 * ("consumer,library"), or NULL / "" for none. On success *out is owned by
 * the registry. GX_ERR_INVALID with errstr filled on a bad name, label or
 * help text, or a name already registered.
 */
gx_err_t gx_metrics_counter(gx_metrics_t *reg, const char *name, const char *help,
			    const char *labels, gx_metric_t **out,
			    char *errstr, size_t errstr_size);
gx_err_t gx_metrics_gauge(gx_metrics_t *reg, const char *name, const char *help,
			  const char *labels, gx_metric_t **out,
			  char *errstr, size_t errstr_size);
/*
 * A histogram with upper bounds `bounds[0..nbounds)`, strictly increasing
 * and finite; the +Inf bucket is implicit (a trailing +Inf is accepted and
 * dropped). The bounds are copied.
 */
gx_err_t gx_metrics_histogram(gx_metrics_t *reg, const char *name, const char *help,
			      const char *labels, const double *bounds, size_t nbounds,
			      gx_metric_t **out, char *errstr, size_t errstr_size);

/*
 * A scrape hook: called by gx_metrics_expose() before it renders, one scrape
 * at a time, on the scraping thread (the HTTP server's). It may set gauges
 * (and resolve or clear children) to values computed now, e.g. consumer lag
 * read from Kafka; it must not call gx_metrics_expose(). Hooks run in
 * the order they were added.
 */
typedef void (*gx_metrics_hook_fn)(gx_metrics_t *reg, void *opaque);
void gx_metrics_on_scrape(gx_metrics_t *reg, gx_metrics_hook_fn fn, void *opaque);

/*
 * Run the scrape hooks, then append every family in registration order (its
 * children in creation order) to out in the Prometheus text format 0.0.4.
 * A family with labels and no children yet is left out; a family without
 * labels always has its one child, starting at zero.
 */
void gx_metrics_expose(gx_metrics_t *reg, gx_buf_t *out);

/* The family registered under name, or NULL. */
gx_metric_t *gx_metrics_find(gx_metrics_t *reg, const char *name);
gx_metric_type_t gx_metric_type(const gx_metric_t *m);
const char *gx_metric_name(const gx_metric_t *m);
size_t gx_metric_nlabels(const gx_metric_t *m);

/*
 * The child for label values values[0..n), created (at zero) on first use.
 * NULL if m is NULL, n is not the family's label count or a value is NULL;
 * every update below ignores a NULL handle, so a mistake loses updates but
 * never crashes. Takes the family's lock: resolve once, keep the handle.
 */
gx_metric_child_t *gx_metric_childv(gx_metric_t *m, size_t n, const char *const *values);

/*
 * gx_metric_child(m, "v1", "v2"): the same with the values as arguments;
 * the macro counts them, so a wrong count returns NULL instead of reading
 * past the arguments. gx_metric_child(m) for a family without labels.
 */
#define GX_METRIC_VALUES_(...)                                                  \
	(sizeof((const char *[]){NULL, __VA_ARGS__}) / sizeof(const char *) - 1), \
	    ((const char *const[]){NULL, __VA_ARGS__} + 1)
#define gx_metric_child(m, ...) gx_metric_childv((m), GX_METRIC_VALUES_(__VA_ARGS__))

/*
 * Drop every child of m. Handles to them become invalid: only for families
 * whose children a scrape hook rebuilds each time (lag per consumer that may
 * go away), never for handles kept elsewhere.
 */
void gx_metric_clear(gx_metric_t *m);

/* ---- updates on a handle: lock-free, any thread; wrong type or NULL: no-op ---- */
void gx_counter_inc(gx_metric_child_t *c);
void gx_counter_add(gx_metric_child_t *c, uint64_t n);
void gx_gauge_set(gx_metric_child_t *c, double v);
void gx_gauge_add(gx_metric_child_t *c, double v);
/* Count v in its bucket and add it to the sum; NaN is ignored. */
void gx_histogram_observe(gx_metric_child_t *c, double v);

/* ---- updates by label values (a lookup each time; off the hot path) ---- */
#define gx_metric_inc(m, ...) gx_counter_inc(gx_metric_child(m, __VA_ARGS__))
#define gx_metric_add(m, n, ...) gx_counter_add(gx_metric_child(m, __VA_ARGS__), (n))
#define gx_metric_set(m, v, ...) gx_gauge_set(gx_metric_child(m, __VA_ARGS__), (v))
#define gx_metric_observe(m, v, ...) \
	gx_histogram_observe(gx_metric_child(m, __VA_ARGS__), (v))

/* ---- reads, for status screens and tests (0 for NULL or a wrong type) ---- */
uint64_t gx_counter_value(const gx_metric_child_t *c);
double gx_gauge_value(const gx_metric_child_t *c);
uint64_t gx_histogram_count(const gx_metric_child_t *c);
double gx_histogram_sum(const gx_metric_child_t *c);
/* Observations <= the family's bounds[i] (cumulative); i == nbounds: all. */
uint64_t gx_histogram_bucket(const gx_metric_child_t *c, size_t i);

#endif /* GX_METRICS_H */
