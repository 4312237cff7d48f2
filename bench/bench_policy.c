/*
 * bench-policy: what one record's policy evaluation costs in the broker
 * (index lookup of the grants in play on the record's item, evaluation of
 * each, choice of one grant per consumer) with 10 live grants in the
 * exchange and with 100,000. Issue 4: lookup cost must not grow with the
 * number of grants. Prints figures; asserts nothing.
 *
 *   bench-policy [--quick]
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_catalog.h"
#include "gx_policy.h"
#include "gx_schema.h"

static const char item_json[] =
    "{\"item\":\"%s\",\"library\":\"population\",\"provider\":\"SX-GA\",\"fields\":["
    "{\"name\":\"citizen_id\",\"share\":\"conditional\",\"legal_basis\":\"b\"},"
    "{\"name\":\"name\",\"share\":\"unconditional\"},"
    "{\"name\":\"sex\",\"share\":\"unconditional\"},"
    "{\"name\":\"address\",\"share\":\"conditional\",\"legal_basis\":\"b\"},"
    "{\"name\":\"status\",\"share\":\"unconditional\"}]}";

static void apply(gx_approvals_t *ap, int64_t off, const char *fmt, ...)
{
	char buf[512], err[256];
	va_list va;
	va_start(va, fmt);
	vsnprintf(buf, sizeof(buf), fmt, va);
	va_end(va);
	if (gx_approvals_apply(ap, buf, strlen(buf), off, err, sizeof(err))) {
		fprintf(stderr, "bench-policy: %s\n", err);
		exit(3);
	}
}

/* Grants: 3 consumers on the measured item, the rest on other items. */
static gx_approvals_t *make_grants(long total, long items)
{
	gx_approvals_t *ap = gx_approvals_new();
	int64_t off = 0;
	for (long i = 0; i < total; i++) {
		char item[32];
		if (i < 3)
			snprintf(item, sizeof(item), "HOT");
		else
			snprintf(item, sizeof(item), "I%ld", i % items);
		apply(ap, off++, "{\"type\":\"request\",\"request_id\":\"R%ld\","
				 "\"consumer\":\"C%ld\",\"item\":\"%s\","
				 "\"fields\":[\"name\",\"sex\",\"citizen_id\"],"
				 "\"actor\":\"C%ld\",\"at\":1}", i, i, item, i);
		apply(ap, off++, "{\"type\":\"approve\",\"request_id\":\"R%ld\","
				 "\"grant_id\":\"G%ld\",\"fields\":[\"name\",\"sex\"%s],"
				 "\"automatic\":%s,\"actor\":\"SX-GA\",\"at\":1}", i, i,
			      i % 2 ? ",\"citizen_id\"" : "", i % 2 ? "false" : "true");
	}
	return ap;
}

static long rss_kib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* ns per record for the broker's per-record policy work on item HOT. */
static double measure(const gx_approvals_t *ap, const gx_cat_item_t *item, long records,
		      long *released)
{
	int64_t t0 = gx_mono_ms();
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	long rel = 0;
	for (long r = 0; r < records; r++) {
		size_t n;
		const gx_consumer_grants_t *const *c =
		    gx_approvals_consumers_for_item(ap, item->id, &n);
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < c[i]->n; j++) {
				gx_decision_t d;
				gx_policy_eval(item, c[i]->grants[j], 1000 + r, &d);
				rel += d.released != 0;
			}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	(void)t0;
	*released = rel;
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / records;
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	long records = quick ? 200000 : 5000000;
	char err[512], buf[1024];
	gx_schemas_t *schemas;
	if (gx_schemas_new(&schemas, err, sizeof(err))) {
		fprintf(stderr, "bench-policy: %s\n", err);
		return 3;
	}
	snprintf(buf, sizeof(buf), item_json, "HOT");
	json_t *j = json_loads(buf, 0, NULL);
	gx_cat_item_t *item;
	if (gx_cat_item_from_json(j, schemas, &item, err, sizeof(err))) {
		fprintf(stderr, "bench-policy: %s\n", err);
		return 3;
	}
	json_decref(j);
	printf("policy evaluation per record (3 consumers hold grants on the record's item)\n");
	printf("%-14s %12s %14s %12s %10s\n", "live grants", "records", "ns/record",
	       "releases", "maxrss MiB");
	long sizes[] = {10, 100000};
	for (size_t k = 0; k < 2; k++) {
		gx_approvals_t *ap = make_grants(sizes[k], sizes[k] < 1000 ? 5 : 10000);
		long rel;
		measure(ap, item, records / 10, &rel); /* warm up */
		double ns = measure(ap, item, records, &rel);
		printf("%-14ld %12ld %14.1f %12ld %10.1f\n", sizes[k], records, ns, rel,
		       rss_kib() / 1024.0);
		gx_approvals_destroy(ap);
	}
	gx_cat_item_destroy(item);
	gx_schemas_destroy(schemas);
	return 0;
}
