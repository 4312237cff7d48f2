/*
 * gx_metrics.c - the Prometheus registry behind /metrics.
 *
 * Hot path: a child's value is a C11 atomic; an update is one relaxed
 * atomic add or store (a compare-and-swap loop for a float add). Locks are
 * taken only to create or list children and families.
 *
 * Lock order: the registry's scrape lock, then its family-list lock, then a
 * family's lock. Scrape hooks run under the scrape lock alone, so they may
 * resolve and clear children (family locks) without deadlock.
 *
 * Consistency of a histogram under concurrent observations: _count and the
 * +Inf bucket are both computed from the same bucket snapshot, so they always
 * agree; _sum may include an observation whose bucket was read a moment
 * before it landed. Prometheus tolerates that; it never sees +Inf != _count.
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_map.h"
#include "gx_metrics.h"
#include "gx_validate.h"

const double gx_metrics_latency_buckets[] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};
const size_t gx_metrics_latency_nbuckets = GX_ARRAY_SIZE(gx_metrics_latency_buckets);

struct gx_metric_child {
	gx_metric_t *family;
	char **values;		/* nlabels label values, valid UTF-8 */
	_Atomic uint64_t value; /* counter: count; gauge: bits of a double */
	_Atomic uint64_t sum;	/* histogram: bits of a double */
	_Atomic uint64_t *buckets; /* histogram: nbounds + 1, not cumulative */
};

struct gx_metric {
	gx_metrics_t *reg;
	gx_metric_type_t type;
	char *name;
	char *help;
	gx_strv_t labels;
	double *bounds;
	size_t nbounds;

	pthread_mutex_t lock; /* children, index */
	gx_metric_child_t **children; /* creation order */
	size_t nchildren, cap;
	gx_map_t *index; /* joined label values -> child */
};

struct hook {
	gx_metrics_hook_fn fn;
	void *opaque;
};

struct gx_metrics {
	pthread_mutex_t scrape_lock; /* one scrape (hooks + render) at a time */
	pthread_mutex_t lock;	     /* families, hooks */
	gx_metric_t **families;
	size_t nfamilies, cap;
	struct hook *hooks;
	size_t nhooks;
};

/* ---- doubles in atomics ---- */

static uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof(u));
	return u;
}

static double bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, sizeof(d));
	return d;
}

static void atomic_add_double(_Atomic uint64_t *a, double v)
{
	uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(a, &old, dbits(bitsd(old) + v),
						      memory_order_relaxed,
						      memory_order_relaxed))
		;
}

/* ---- UTF-8 ---- */

/* Append s to b with each invalid byte replaced by U+FFFD. */
static void utf8_sanitize(gx_buf_t *b, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t k = gx_utf8_seq((const unsigned char *)s + i, n - i);
		if (k) {
			gx_buf_append(b, s + i, k);
			i += k;
		} else {
			gx_buf_append(b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
}

/* ---- registration checks ---- */

static int snake_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static const char *type_name(gx_metric_type_t t)
{
	switch (t) {
	case GX_METRIC_COUNTER:
		return "counter";
	case GX_METRIC_GAUGE:
		return "gauge";
	case GX_METRIC_HISTOGRAM:
		return "histogram";
	}
	return "untyped";
}

static gx_err_t check_name(gx_metric_type_t type, const char *name, char *errstr,
			   size_t errstr_size)
{
	if (!name || !snake_ok(name))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "metric name \"%s\": want lowercase snake_case "
				 "([a-z_][a-z0-9_]*; colons are for recording rules)",
				 name ? name : "(null)");
	if (type == GX_METRIC_COUNTER &&
	    (!ends_with(name, "_total") || strcmp(name, "_total") == 0))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "metric name \"%s\": a counter's name ends in _total", name);
	if (type != GX_METRIC_COUNTER && ends_with(name, "_total"))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "metric name \"%s\": only counters end in _total", name);
	static const char *reserved[] = {"_bucket", "_count", "_sum"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(reserved); i++)
		if (ends_with(name, reserved[i]))
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "metric name \"%s\": the suffix %s is reserved "
					 "for histogram series",
					 name, reserved[i]);
	/* promtool: "metric name should not include type" */
	char infix[16], suffix[16];
	snprintf(infix, sizeof(infix), "_%s_", type_name(type));
	snprintf(suffix, sizeof(suffix), "_%s", type_name(type));
	if (strstr(name, infix) || ends_with(name, suffix))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "metric name \"%s\": should not name its type (%s)", name,
				 type_name(type));
	return GX_OK;
}

static gx_err_t check_labels(const gx_strv_t *labels, char *errstr, size_t errstr_size)
{
	for (size_t i = 0; i < labels->n; i++) {
		const char *l = labels->v[i];
		if (!snake_ok(l))
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "label name \"%s\": want lowercase snake_case "
					 "([a-z_][a-z0-9_]*)",
					 l);
		if (strncmp(l, "__", 2) == 0)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "label name \"%s\": names starting with __ are "
					 "reserved",
					 l);
		if (strcmp(l, "le") == 0 || strcmp(l, "quantile") == 0)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "label name \"%s\": reserved for histograms and "
					 "summaries",
					 l);
		for (size_t j = 0; j < i; j++)
			if (strcmp(l, labels->v[j]) == 0)
				return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
						 "label name \"%s\" given twice", l);
	}
	return GX_OK;
}

/* ---- children ---- */

static gx_metric_child_t *child_new(gx_metric_t *m, char **values)
{
	gx_metric_child_t *c = gx_calloc(1, sizeof(*c));
	c->family = m;
	c->values = values;
	atomic_init(&c->value, m->type == GX_METRIC_GAUGE ? dbits(0.0) : 0);
	atomic_init(&c->sum, dbits(0.0));
	if (m->type == GX_METRIC_HISTOGRAM) {
		c->buckets = gx_malloc((m->nbounds + 1) * sizeof(*c->buckets));
		for (size_t i = 0; i <= m->nbounds; i++)
			atomic_init(&c->buckets[i], 0);
	}
	return c;
}

static void child_free(gx_metric_child_t *c, size_t nlabels)
{
	if (!c)
		return;
	for (size_t i = 0; i < nlabels; i++)
		free(c->values[i]);
	free(c->values);
	free(c->buckets);
	free(c);
}

/* The index key: the values, made valid UTF-8, joined by 0xff (which valid
 * UTF-8 never contains, so distinct tuples never share a key). */
static void index_key(gx_buf_t *key, size_t n, const char *const *values)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			gx_buf_putc(key, '\xff');
		if (gx_utf8_len(values[i]) >= 0)
			gx_buf_append(key, values[i], strlen(values[i]));
		else
			utf8_sanitize(key, values[i]);
	}
	gx_buf_cstr(key);
}

gx_metric_child_t *gx_metric_childv(gx_metric_t *m, size_t n, const char *const *values)
{
	if (!m || n != m->labels.n)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!values[i])
			return NULL;

	gx_buf_t key;
	gx_buf_init(&key);
	index_key(&key, n, values);

	pthread_mutex_lock(&m->lock);
	gx_metric_child_t *c = gx_map_get(m->index, key.data);
	if (!c) {
		char **copy = gx_calloc(n ? n : 1, sizeof(*copy));
		const char *p = key.data;
		for (size_t i = 0; i < n; i++) {
			const char *end = strchr(p, '\xff');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			copy[i] = gx_strndup(p, len);
			p += len + 1;
		}
		c = child_new(m, copy);
		gx_map_put(m->index, key.data, c);
		if (m->nchildren == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 8;
			m->children = gx_realloc(m->children, m->cap * sizeof(*m->children));
		}
		m->children[m->nchildren++] = c;
	}
	pthread_mutex_unlock(&m->lock);
	gx_buf_free(&key);
	return c;
}

void gx_metric_clear(gx_metric_t *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nchildren; i++)
		child_free(m->children[i], m->labels.n);
	m->nchildren = 0;
	gx_map_destroy(m->index, NULL);
	m->index = gx_map_new();
	pthread_mutex_unlock(&m->lock);
	if (m->labels.n == 0)
		gx_metric_childv(m, 0, NULL); /* the unlabelled child always exists */
}

/* ---- families ---- */

static void family_free(gx_metric_t *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nchildren; i++)
		child_free(m->children[i], m->labels.n);
	free(m->children);
	gx_map_destroy(m->index, NULL);
	pthread_mutex_destroy(&m->lock);
	gx_strv_free(&m->labels);
	free(m->bounds);
	free(m->name);
	free(m->help);
	free(m);
}

static gx_err_t family_register(gx_metrics_t *reg, gx_metric_type_t type, const char *name,
				const char *help, const char *labels, const double *bounds,
				size_t nbounds, gx_metric_t **out, char *errstr,
				size_t errstr_size)
{
	gx_err_t err;
	*out = NULL;
	if ((err = check_name(type, name, errstr, errstr_size)) != GX_OK)
		return err;
	if (!help || !*help || gx_utf8_len(help) < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "metric %s: help text is required (valid UTF-8)", name);

	gx_metric_t *m = gx_calloc(1, sizeof(*m));
	gx_strv_init(&m->labels);
	if (labels)
		gx_strv_split(&m->labels, labels);
	if ((err = check_labels(&m->labels, errstr, errstr_size)) != GX_OK)
		goto fail;
	if (type == GX_METRIC_HISTOGRAM) {
		if (nbounds && isinf(bounds[nbounds - 1]) && bounds[nbounds - 1] > 0)
			nbounds--; /* +Inf is implicit */
		for (size_t i = 0; i < nbounds; i++) {
			if (!isfinite(bounds[i])) {
				err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
						"histogram %s: bucket bound %zu is not finite",
						name, i);
				goto fail;
			}
			if (i && !(bounds[i] > bounds[i - 1])) {
				err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
						"histogram %s: bucket bounds must strictly "
						"increase (bound %zu is %g after %g)",
						name, i, bounds[i], bounds[i - 1]);
				goto fail;
			}
		}
		m->nbounds = nbounds;
		m->bounds = gx_malloc((nbounds ? nbounds : 1) * sizeof(double));
		if (nbounds)
			memcpy(m->bounds, bounds, nbounds * sizeof(double));
	}
	m->reg = reg;
	m->type = type;
	m->name = gx_strdup(name);
	m->help = gx_strdup(help);
	m->index = gx_map_new();
	pthread_mutex_init(&m->lock, NULL);

	pthread_mutex_lock(&reg->lock);
	for (size_t i = 0; i < reg->nfamilies; i++) {
		if (strcmp(reg->families[i]->name, name) == 0) {
			pthread_mutex_unlock(&reg->lock);
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"metric %s is already registered", name);
			goto fail;
		}
	}
	if (reg->nfamilies == reg->cap) {
		reg->cap = reg->cap ? reg->cap * 2 : 16;
		reg->families = gx_realloc(reg->families, reg->cap * sizeof(*reg->families));
	}
	reg->families[reg->nfamilies++] = m;
	pthread_mutex_unlock(&reg->lock);

	if (m->labels.n == 0)
		gx_metric_childv(m, 0, NULL);
	*out = m;
	return GX_OK;
fail:
	family_free(m);
	return err;
}

gx_err_t gx_metrics_counter(gx_metrics_t *reg, const char *name, const char *help,
			    const char *labels, gx_metric_t **out, char *errstr,
			    size_t errstr_size)
{
	return family_register(reg, GX_METRIC_COUNTER, name, help, labels, NULL, 0, out,
			       errstr, errstr_size);
}

gx_err_t gx_metrics_gauge(gx_metrics_t *reg, const char *name, const char *help,
			  const char *labels, gx_metric_t **out, char *errstr,
			  size_t errstr_size)
{
	return family_register(reg, GX_METRIC_GAUGE, name, help, labels, NULL, 0, out,
			       errstr, errstr_size);
}

gx_err_t gx_metrics_histogram(gx_metrics_t *reg, const char *name, const char *help,
			      const char *labels, const double *bounds, size_t nbounds,
			      gx_metric_t **out, char *errstr, size_t errstr_size)
{
	if (nbounds && !bounds) {
		*out = NULL;
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "histogram %s: no bucket bounds", name ? name : "(null)");
	}
	return family_register(reg, GX_METRIC_HISTOGRAM, name, help, labels, bounds, nbounds,
			       out, errstr, errstr_size);
}

gx_metric_t *gx_metrics_find(gx_metrics_t *reg, const char *name)
{
	gx_metric_t *found = NULL;
	pthread_mutex_lock(&reg->lock);
	for (size_t i = 0; i < reg->nfamilies && !found; i++)
		if (strcmp(reg->families[i]->name, name) == 0)
			found = reg->families[i];
	pthread_mutex_unlock(&reg->lock);
	return found;
}

gx_metric_type_t gx_metric_type(const gx_metric_t *m)
{
	return m->type;
}

const char *gx_metric_name(const gx_metric_t *m)
{
	return m->name;
}

size_t gx_metric_nlabels(const gx_metric_t *m)
{
	return m->labels.n;
}

/* ---- registry ---- */

gx_metrics_t *gx_metrics_new(void)
{
	gx_metrics_t *reg = gx_calloc(1, sizeof(*reg));
	pthread_mutex_init(&reg->scrape_lock, NULL);
	pthread_mutex_init(&reg->lock, NULL);
	return reg;
}

void gx_metrics_destroy(gx_metrics_t *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->nfamilies; i++)
		family_free(reg->families[i]);
	free(reg->families);
	free(reg->hooks);
	pthread_mutex_destroy(&reg->lock);
	pthread_mutex_destroy(&reg->scrape_lock);
	free(reg);
}

void gx_metrics_on_scrape(gx_metrics_t *reg, gx_metrics_hook_fn fn, void *opaque)
{
	pthread_mutex_lock(&reg->lock);
	reg->hooks = gx_realloc(reg->hooks, (reg->nhooks + 1) * sizeof(*reg->hooks));
	reg->hooks[reg->nhooks].fn = fn;
	reg->hooks[reg->nhooks].opaque = opaque;
	reg->nhooks++;
	pthread_mutex_unlock(&reg->lock);
}

/* ---- updates ---- */

void gx_counter_inc(gx_metric_child_t *c)
{
	if (c && c->family->type == GX_METRIC_COUNTER)
		atomic_fetch_add_explicit(&c->value, 1, memory_order_relaxed);
}

void gx_counter_add(gx_metric_child_t *c, uint64_t n)
{
	if (c && c->family->type == GX_METRIC_COUNTER)
		atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

void gx_gauge_set(gx_metric_child_t *c, double v)
{
	if (c && c->family->type == GX_METRIC_GAUGE)
		atomic_store_explicit(&c->value, dbits(v), memory_order_relaxed);
}

void gx_gauge_add(gx_metric_child_t *c, double v)
{
	if (c && c->family->type == GX_METRIC_GAUGE)
		atomic_add_double(&c->value, v);
}

void gx_histogram_observe(gx_metric_child_t *c, double v)
{
	if (!c || c->family->type != GX_METRIC_HISTOGRAM || isnan(v))
		return;
	const gx_metric_t *m = c->family;
	/* First bucket whose bound is >= v (binary search); nbounds: +Inf. */
	size_t lo = 0, hi = m->nbounds;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v <= m->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	atomic_fetch_add_explicit(&c->buckets[lo], 1, memory_order_relaxed);
	atomic_add_double(&c->sum, v);
}

/* ---- reads ---- */

uint64_t gx_counter_value(const gx_metric_child_t *c)
{
	if (!c || c->family->type != GX_METRIC_COUNTER)
		return 0;
	return atomic_load_explicit(&((gx_metric_child_t *)c)->value, memory_order_relaxed);
}

double gx_gauge_value(const gx_metric_child_t *c)
{
	if (!c || c->family->type != GX_METRIC_GAUGE)
		return 0;
	return bitsd(atomic_load_explicit(&((gx_metric_child_t *)c)->value,
					  memory_order_relaxed));
}

uint64_t gx_histogram_bucket(const gx_metric_child_t *c, size_t i)
{
	if (!c || c->family->type != GX_METRIC_HISTOGRAM)
		return 0;
	size_t last = i < c->family->nbounds ? i : c->family->nbounds;
	uint64_t n = 0;
	for (size_t k = 0; k <= last; k++)
		n += atomic_load_explicit(&c->buckets[k], memory_order_relaxed);
	return n;
}

uint64_t gx_histogram_count(const gx_metric_child_t *c)
{
	return c ? gx_histogram_bucket(c, c->family->nbounds) : 0;
}

double gx_histogram_sum(const gx_metric_child_t *c)
{
	if (!c || c->family->type != GX_METRIC_HISTOGRAM)
		return 0;
	return bitsd(atomic_load_explicit(&((gx_metric_child_t *)c)->sum,
					  memory_order_relaxed));
}

/* ---- exposition ---- */

/* A sample value: the shortest of %.15g / %.17g that reads back exactly. */
static void put_double(gx_buf_t *b, double v)
{
	if (isnan(v)) {
		gx_buf_append(b, "NaN", 3);
		return;
	}
	if (isinf(v)) {
		gx_buf_append(b, v > 0 ? "+Inf" : "-Inf", 4);
		return;
	}
	char s[40];
	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	gx_buf_append(b, s, strlen(s));
}

/* HELP escapes backslash and newline; label values also the double quote. */
static void put_escaped(gx_buf_t *b, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			gx_buf_append(b, "\\\\", 2);
		else if (*s == '\n')
			gx_buf_append(b, "\\n", 2);
		else if (quote && *s == '"')
			gx_buf_append(b, "\\\"", 2);
		else
			gx_buf_putc(b, *s);
	}
}

/* name{l1="v1",...[,le="bound"]} (no braces when there is nothing inside) */
static void put_series(gx_buf_t *b, const gx_metric_t *m, const char *suffix,
		       const gx_metric_child_t *c, const char *le)
{
	gx_buf_printf(b, "%s%s", m->name, suffix);
	if (m->labels.n == 0 && !le)
		return;
	gx_buf_putc(b, '{');
	for (size_t i = 0; i < m->labels.n; i++) {
		if (i)
			gx_buf_putc(b, ',');
		gx_buf_printf(b, "%s=\"", m->labels.v[i]);
		put_escaped(b, c->values[i], 1);
		gx_buf_putc(b, '"');
	}
	if (le)
		gx_buf_printf(b, "%sle=\"%s\"", m->labels.n ? "," : "", le);
	gx_buf_putc(b, '}');
}

static void expose_child(gx_buf_t *b, const gx_metric_t *m, gx_metric_child_t *c)
{
	switch (m->type) {
	case GX_METRIC_COUNTER:
		put_series(b, m, "", c, NULL);
		gx_buf_printf(b, " %" PRIu64 "\n", gx_counter_value(c));
		break;
	case GX_METRIC_GAUGE:
		put_series(b, m, "", c, NULL);
		gx_buf_putc(b, ' ');
		put_double(b, gx_gauge_value(c));
		gx_buf_putc(b, '\n');
		break;
	case GX_METRIC_HISTOGRAM: {
		/* One snapshot of the buckets makes the cumulative counts, the
		 * +Inf bucket and _count agree with each other. */
		uint64_t cum = 0;
		gx_buf_t le;
		gx_buf_init(&le);
		for (size_t i = 0; i <= m->nbounds; i++) {
			cum += atomic_load_explicit(&c->buckets[i], memory_order_relaxed);
			gx_buf_reset(&le);
			if (i < m->nbounds)
				put_double(&le, m->bounds[i]);
			else
				gx_buf_append(&le, "+Inf", 4);
			put_series(b, m, "_bucket", c, gx_buf_cstr(&le));
			gx_buf_printf(b, " %" PRIu64 "\n", cum);
		}
		gx_buf_free(&le);
		put_series(b, m, "_sum", c, NULL);
		gx_buf_putc(b, ' ');
		put_double(b, gx_histogram_sum(c));
		gx_buf_putc(b, '\n');
		put_series(b, m, "_count", c, NULL);
		gx_buf_printf(b, " %" PRIu64 "\n", cum);
		break;
	}
	}
}

void gx_metrics_expose(gx_metrics_t *reg, gx_buf_t *out)
{
	pthread_mutex_lock(&reg->scrape_lock);

	/* Hooks are only appended, so a copy of the count is enough. */
	pthread_mutex_lock(&reg->lock);
	size_t nhooks = reg->nhooks;
	struct hook *hooks = gx_malloc((nhooks ? nhooks : 1) * sizeof(*hooks));
	if (nhooks)
		memcpy(hooks, reg->hooks, nhooks * sizeof(*hooks));
	pthread_mutex_unlock(&reg->lock);
	for (size_t i = 0; i < nhooks; i++)
		hooks[i].fn(reg, hooks[i].opaque);
	free(hooks);

	pthread_mutex_lock(&reg->lock);
	for (size_t f = 0; f < reg->nfamilies; f++) {
		gx_metric_t *m = reg->families[f];
		pthread_mutex_lock(&m->lock);
		if (m->nchildren) {
			gx_buf_printf(out, "# HELP %s ", m->name);
			put_escaped(out, m->help, 0);
			gx_buf_printf(out, "\n# TYPE %s %s\n", m->name, type_name(m->type));
			for (size_t i = 0; i < m->nchildren; i++)
				expose_child(out, m, m->children[i]);
		}
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_unlock(&reg->lock);

	pthread_mutex_unlock(&reg->scrape_lock);
}
