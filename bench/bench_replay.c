/*
 * bench-replay: how fast `govexctl replay` verifies decisions (issue 6:
 * replay must be fast enough to audit a year). Builds a valid decision log
 * in memory - one chain, three consumers per record - and times
 * gx_replay_run over it: chain hashes plus recomputation of every verdict.
 * Reading the topics from Kafka is not included. Prints figures only.
 *
 *   bench-replay [--quick]
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_catalog.h"
#include "gx_decision.h"
#include "gx_policy.h"
#include "gx_replay.h"
#include "gx_schema.h"

static const char item_json[] =
    "{\"item\":\"HOT\",\"library\":\"population\",\"provider\":\"SX-GA\",\"fields\":["
    "{\"name\":\"citizen_id\",\"share\":\"conditional\",\"legal_basis\":\"b\"},"
    "{\"name\":\"name\",\"share\":\"unconditional\"},"
    "{\"name\":\"sex\",\"share\":\"unconditional\"},"
    "{\"name\":\"status\",\"share\":\"unconditional\"}]}";

static double secs(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void quiet(void *opaque, json_t *f)
{
	(*(long *)opaque)++;
	(void)f;
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	long n = quick ? 20000 : 500000;
	char err[256];
	gx_schemas_t *schemas;
	if (gx_schemas_new(&schemas, err, sizeof(err)))
		return 3;
	gx_replay_t *r = gx_replay_new(schemas);
	gx_replay_add_catalog(r, 0, item_json, strlen(item_json));
	json_t *ij = json_loads(item_json, 0, NULL);
	gx_cat_item_t *item;
	gx_cat_item_from_json(ij, schemas, &item, err, sizeof(err));
	item->offset = 0;
	json_decref(ij);

	gx_approvals_t *ap = gx_approvals_new();
	char ev[512];
	int64_t off = 0;
	for (int c = 0; c < 3; c++) {
		snprintf(ev, sizeof(ev), "{\"type\":\"request\",\"request_id\":\"R%d\","
			 "\"consumer\":\"C%d\",\"item\":\"HOT\",\"fields\":[\"name\",\"sex\","
			 "\"citizen_id\"],\"purpose\":\"p\",\"actor\":\"C%d\",\"at\":1}", c, c, c);
		gx_approvals_apply(ap, ev, strlen(ev), off, err, sizeof(err));
		gx_replay_add_approval(r, off++, ev, strlen(ev));
		snprintf(ev, sizeof(ev), "{\"type\":\"approve\",\"request_id\":\"R%d\","
			 "\"grant_id\":\"G%d\",\"fields\":[\"name\",\"sex\"%s],\"automatic\":%s,"
			 "\"actor\":\"SX-GA\",\"at\":1}", c, c, c ? ",\"citizen_id\"" : "",
			 c ? "false" : "true");
		gx_approvals_apply(ap, ev, strlen(ev), off, err, sizeof(err));
		gx_replay_add_approval(r, off++, ev, strlen(ev));
	}
	/* The log the broker would have written. */
	double t0 = secs();
	char head[GX_HASH_HEX];
	memcpy(head, GX_CHAIN_GENESIS, GX_HASH_HEX);
	size_t ncons;
	const gx_consumer_grants_t *const *cons = gx_approvals_consumers_for_item(ap, "HOT", &ncons);
	for (long i = 0; i < n; i++) {
		json_t *decs = json_array();
		for (size_t c = 0; c < ncons; c++) {
			gx_decision_t d;
			gx_policy_choose(item, cons[c]->grants, cons[c]->n, 1000 + i, &d);
			json_t *rel = json_array();
			for (size_t f = 0; f < item->lib->nfields; f++)
				if ((d.released >> f) & 1)
					json_array_append_new(rel, json_string(item->lib->fields[f].name));
			json_array_append_new(decs, json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}",
				"consumer", cons[c]->consumer, "verdict", gx_verdict_name(d.verdict),
				"reason", d.reason, "grant_id", d.grant->id, "purpose", "p",
				"released", rel));
		}
		json_t *m = json_pack("{s:s,s:I,s:s,s:s,s:s,s:I,s:I,s:I,s:o}", "chain",
				      "population/0", "seq", (json_int_t)(i + 1), "prev", head,
				      "record_id", "r", "item", "HOT", "at", (json_int_t)(1000 + i),
				      "catalog_offset", (json_int_t)0, "approvals_offset",
				      (json_int_t)(off - 1), "decisions", decs);
		gx_decision_hash(head, m, head);
		json_object_set_new(m, "hash", json_string(head));
		char *v = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
		gx_replay_add_decision(r, 0, i, v, strlen(v));
		free(v);
		json_decref(m);
	}
	double t1 = secs();
	gx_replay_filter_t f = {0};
	gx_replay_totals_t t;
	long findings = 0;
	gx_replay_run(r, &f, quiet, &findings, &t);
	double t2 = secs();
	printf("replay of a decision log held in memory (%ld messages, %ld decisions)\n",
	       t.messages, t.decisions);
	printf("%-28s %12.0f\n", "decisions verified/s", t.decisions / (t2 - t1));
	printf("%-28s %12.0f\n", "messages verified/s", t.messages / (t2 - t1));
	printf("%-28s %12ld\n", "findings (want 0)", findings);
	printf("%-28s %12.2f\n", "log built in s", t1 - t0);
	gx_replay_destroy(r);
	gx_approvals_destroy(ap);
	gx_cat_item_destroy(item);
	gx_schemas_destroy(schemas);
	return findings ? 1 : 0;
}
