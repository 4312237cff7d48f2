/*
 * bench-replay: how fast `govexctl replay` verifies decisions, and how much
 * memory it holds per decision message (issue 6: replay must be fast and
 * small enough to audit a year). Builds a valid decision log the way the
 * broker writes it (gx_decision_write: every member, a record id per
 * record) - one chain, three consumers per record - feeds it to a replay
 * and times gx_replay_add_decision (which may parse and hash) plus
 * gx_replay_run (chain hashes, recomputation of every verdict). Reading
 * the topics from Kafka is not included. Peak RSS per message is the growth
 * of the process's peak RSS over the whole run, divided by the messages.
 * Prints figures only.
 *
 *   bench-replay [--quick]
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

static double clock_secs(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double secs(void)
{
	return clock_secs(CLOCK_MONOTONIC);
}

/* CPU time: what the figures are worth on a machine busy with other work. */
static double cpu_secs(void)
{
	return clock_secs(CLOCK_PROCESS_CPUTIME_ID);
}

/* The process's peak resident set so far, in bytes. */
static long peak_rss(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss * 1024L;
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
	long rss0 = peak_rss();
	/* The log the broker would have written, fed as it is made. */
	double t0 = secs(), tadd = 0, cadd = 0;
	char head[GX_HASH_HEX];
	memcpy(head, GX_CHAIN_GENESIS, GX_HASH_HEX);
	size_t ncons;
	const gx_consumer_grants_t *const *cons = gx_approvals_consumers_for_item(ap, "HOT", &ncons);
	gx_buf_t ents;
	gx_buf_init(&ents);
	long bytes = 0;
	for (long i = 0; i < n; i++) {
		gx_decision_entry_t e[8];
		const char *names[8][GX_MAX_FIELDS];
		for (size_t c = 0; c < ncons; c++) {
			gx_decision_t d;
			gx_policy_choose(item, cons[c]->grants, cons[c]->n, 1000 + i, &d);
			e[c] = (gx_decision_entry_t){
			    .consumer = cons[c]->consumer, .verdict = gx_verdict_name(d.verdict),
			    .reason = d.reason, .grant_id = d.grant->id,
			    .purpose = d.grant->purpose, .released = names[c]};
			for (size_t f = 0; f < item->lib->nfields; f++)
				if ((d.released >> f) & 1)
					names[c][e[c].nreleased++] = item->lib->fields[f].name;
		}
		gx_buf_reset(&ents);
		gx_decision_entries_text(&ents, e, ncons);
		char rid[40], ingest[64];
		snprintf(rid, sizeof(rid), "%08lx-0000-4000-8000-%012lx", i, i * 2654435761UL);
		snprintf(ingest, sizeof(ingest), "population.ingest/0/%ld", i);
		gx_decision_head_t h = {
		    .chain = "population/0", .prev = head, .record_id = rid,
		    .subject = "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592",
		    .library = "population", .item = "HOT", .provider = "SX-GA",
		    .ingest = ingest, .seq = i + 1, .at = 1000 + i, .catalog_offset = 0,
		    .approvals_offset = off - 1};
		char hash[GX_HASH_HEX];
		char *v = gx_decision_write(&h, ents.data, ents.len, hash);
		memcpy(head, hash, GX_HASH_HEX);
		size_t len = strlen(v);
		bytes += (long)len;
		double ta = secs(), ca = cpu_secs();
		gx_replay_add_decision(r, 0, i, v, len);
		tadd += secs() - ta;
		cadd += cpu_secs() - ca;
		free(v);
	}
	gx_buf_free(&ents);
	double t1 = secs(), c1 = cpu_secs();
	gx_replay_filter_t f = {0};
	gx_replay_totals_t t;
	long findings = 0;
	gx_replay_run(r, &f, quiet, &findings, &t);
	double t2 = secs(), c2 = cpu_secs();
	long rss1 = peak_rss();
	double verify = tadd + (t2 - t1), cverify = cadd + (c2 - c1);
	printf("replay of a decision log held in memory (%ld messages of %ld bytes, "
	       "%ld decisions)\n", t.messages, bytes / (n ? n : 1), t.decisions);
	printf("%-32s %12.0f\n", "decisions verified/s", t.decisions / verify);
	printf("%-32s %12.0f\n", "messages verified/s", t.messages / verify);
	printf("%-32s %12.2f\n", "  of which adding, s", tadd);
	printf("%-32s %12.2f\n", "  of which gx_replay_run, s", t2 - t1);
	printf("%-32s %12.0f\n", "decisions verified/CPU s", t.decisions / cverify);
	printf("%-32s %12.0f\n", "peak RSS per message, bytes",
	       (double)(rss1 - rss0) / (double)(n ? n : 1));
	printf("%-32s %12.1f\n", "peak RSS growth, MB", (rss1 - rss0) / 1e6);
	printf("%-32s %12ld\n", "findings (want 0)", findings);
	printf("%-32s %12.2f\n", "log built and fed in s", t1 - t0);
	gx_replay_destroy(r);
	gx_approvals_destroy(ap);
	gx_cat_item_destroy(item);
	gx_schemas_destroy(schemas);
	return findings ? 1 : 0;
}
