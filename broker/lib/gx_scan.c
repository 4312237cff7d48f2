/*
 * gx_scan.c - bounded reads of Kafka partitions for operations (gx_scan.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_kafka.h"
#include "gx_map.h"
#include "gx_scan.h"

struct gx_scan {
	rd_kafka_t *rk;
};

gx_err_t gx_scan_new(const gx_conf_t *conf, const char *brokers, gx_scan_t **out,
		     char *errstr, size_t errstr_size)
{
	static const char *const extra[] = {
	    "group.id", "govex-scan", /* required by librdkafka; never joined */
	    "enable.auto.commit", "false",
	    "enable.auto.offset.store", "false",
	    "isolation.level", "read_committed",
	    "enable.partition.eof", "true",
	    /* Offsets deleted by retention since they were asked for: read
	     * from what is left. */
	    "auto.offset.reset", "earliest",
	    "fetch.wait.max.ms", "100",
	    NULL};
	char err[512];
	rd_kafka_conf_t *kc;
	gx_err_t e = gx_kafka_conf(conf, brokers, extra, &kc, errstr, errstr_size);
	if (e)
		return e;
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, err, sizeof(err));
	if (!rk) {
		rd_kafka_conf_destroy(kc);
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA, "scanner: %s", err);
	}
	rd_kafka_poll_set_consumer(rk);
	gx_scan_t *s = gx_calloc(1, sizeof(*s));
	s->rk = rk;
	*out = s;
	return GX_OK;
}

void gx_scan_destroy(gx_scan_t *s)
{
	if (!s)
		return;
	rd_kafka_consumer_close(s->rk);
	rd_kafka_destroy(s->rk);
	free(s);
}

rd_kafka_t *gx_scan_handle(gx_scan_t *s)
{
	return s->rk;
}

static int cmp_topic(const void *a, const void *b)
{
	return strcmp(((const gx_scan_topic_t *)a)->name,
		      ((const gx_scan_topic_t *)b)->name);
}

gx_err_t gx_scan_topics(gx_scan_t *s, const char *name_prefix, int timeout_ms,
			gx_scan_topic_t **out, size_t *n, char *errstr,
			size_t errstr_size)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e = rd_kafka_metadata(s->rk, 1, NULL, &md,
						  timeout_ms > 0 ? timeout_ms : 1);
	*out = NULL;
	*n = 0;
	if (e)
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA, "metadata: %s",
				 rd_kafka_err2str(e));
	size_t plen = strlen(name_prefix);
	gx_scan_topic_t *t = gx_calloc((size_t)md->topic_cnt + 1, sizeof(*t));
	size_t k = 0;
	for (int i = 0; i < md->topic_cnt; i++) {
		const rd_kafka_metadata_topic_t *mt = &md->topics[i];
		if (mt->err || mt->partition_cnt < 1 ||
		    strncmp(mt->topic, name_prefix, plen))
			continue;
		t[k].name = gx_strdup(mt->topic);
		t[k].partitions = mt->partition_cnt;
		k++;
	}
	rd_kafka_metadata_destroy(md);
	qsort(t, k, sizeof(*t), cmp_topic);
	*out = t;
	*n = k;
	return GX_OK;
}

void gx_scan_topics_free(gx_scan_topic_t *t, size_t n)
{
	for (size_t i = 0; t && i < n; i++)
		free(t[i].name);
	free(t);
}

/* ListOffsets for every range with the "timestamp" ts (-2 earliest, -1
 * latest, else ms); calls set(range, offset) for each answered partition.
 * Returns how many were answered. */
static size_t list_offsets(gx_scan_t *s, gx_scan_range_t *r, size_t n, int only_known,
			   int64_t ts, int timeout_ms,
			   void (*set)(gx_scan_range_t *, int64_t),
			   rd_kafka_resp_err_t *err)
{
	rd_kafka_topic_partition_list_t *l =
	    rd_kafka_topic_partition_list_new(n > 0 ? (int)n : 1);
	for (size_t i = 0; i < n; i++)
		if (!only_known || r[i].known)
			rd_kafka_topic_partition_list_add(l, r[i].topic,
							  r[i].partition)->offset = ts;
	size_t answered = 0;
	*err = RD_KAFKA_RESP_ERR_NO_ERROR;
	if (l->cnt == 0) {
		rd_kafka_topic_partition_list_destroy(l);
		return 0;
	}
	*err = rd_kafka_offsets_for_times(s->rk, l, timeout_ms > 0 ? timeout_ms : 1);
	if (!*err || *err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
		for (size_t i = 0; i < n; i++) {
			if (only_known && !r[i].known)
				continue;
			rd_kafka_topic_partition_t *p =
			    rd_kafka_topic_partition_list_find(l, r[i].topic,
							       r[i].partition);
			if (!p || p->err)
				continue;
			set(&r[i], p->offset);
			answered++;
		}
	}
	rd_kafka_topic_partition_list_destroy(l);
	return answered;
}

static void set_low(gx_scan_range_t *r, int64_t o) { r->low = o; }
static void set_end(gx_scan_range_t *r, int64_t o)
{
	r->end = o;
	r->known = r->low >= 0 && o >= r->low;
}
static void set_from(gx_scan_range_t *r, int64_t o)
{
	/* -1: no record that late. */
	r->from = o < 0 ? r->end : o;
}

gx_err_t gx_scan_ends(gx_scan_t *s, gx_scan_range_t *r, size_t n, int timeout_ms,
		      char *errstr, size_t errstr_size)
{
	int64_t deadline = gx_mono_ms() + timeout_ms;
	rd_kafka_resp_err_t e;
	for (size_t i = 0; i < n; i++) {
		r[i].known = 0;
		r[i].low = r[i].end = -1;
	}
	if (!n)
		return GX_OK;
	size_t a = list_offsets(s, r, n, 0, RD_KAFKA_OFFSET_BEGINNING, timeout_ms,
				set_low, &e);
	if (a)
		a = list_offsets(s, r, n, 0, RD_KAFKA_OFFSET_END,
				 (int)(deadline - gx_mono_ms()), set_end, &e);
	if (!a)
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "partition offsets: %s",
				 e ? rd_kafka_err2str(e) : "no partition answered");
	return GX_OK;
}

gx_err_t gx_scan_from_time(gx_scan_t *s, gx_scan_range_t *r, size_t n,
			   int64_t ts_ms, int timeout_ms, char *errstr,
			   size_t errstr_size)
{
	rd_kafka_resp_err_t e;
	for (size_t i = 0; i < n; i++)
		if (r[i].known)
			r[i].from = r[i].end; /* unless answered below */
	if (!list_offsets(s, r, n, 1, ts_ms, timeout_ms, set_from, &e) && e)
		return gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				 "offsets for time: %s", rd_kafka_err2str(e));
	return GX_OK;
}

static void range_key(char *k, size_t n, const char *topic, int32_t part)
{
	snprintf(k, n, "%s\x1f%d", topic, (int)part);
}

static void pause_one(rd_kafka_t *rk, const gx_scan_range_t *r)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, r->topic, r->partition);
	rd_kafka_pause_partitions(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
}

gx_err_t gx_scan_read(gx_scan_t *s, gx_scan_range_t *r, size_t n, int timeout_ms,
		      gx_scan_cb cb, void *opaque, char *errstr,
		      size_t errstr_size)
{
	int64_t deadline = gx_mono_ms() + timeout_ms;
	gx_map_t *idx = gx_map_new();
	rd_kafka_topic_partition_list_t *a =
	    rd_kafka_topic_partition_list_new(n > 0 ? (int)n : 1);
	unsigned char *active = gx_calloc(n + 1, 1);
	size_t left = 0;
	char k[400];
	for (size_t i = 0; i < n; i++) {
		r[i].done = r[i].from >= r[i].to;
		if (r[i].done)
			continue;
		range_key(k, sizeof(k), r[i].topic, r[i].partition);
		gx_map_put(idx, k, (void *)(uintptr_t)(i + 1));
		rd_kafka_topic_partition_list_add(a, r[i].topic, r[i].partition)->offset =
		    r[i].from;
		active[i] = 1;
		left++;
	}
	gx_err_t ret = GX_OK;
	if (left) {
		/* Partitions paused by an earlier read stay paused across
		 * assignments: resume them. */
		rd_kafka_resp_err_t e = rd_kafka_assign(s->rk, a);
		if (!e)
			e = rd_kafka_resume_partitions(s->rk, a);
		if (e) {
			ret = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA, "assign: %s",
					rd_kafka_err2str(e));
			left = 0;
		}
	}
	while (left) {
		int64_t rest = deadline - gx_mono_ms();
		if (rest <= 0)
			break;
		rd_kafka_message_t *m =
		    rd_kafka_consumer_poll(s->rk, rest > 100 ? 100 : (int)rest);
		if (!m)
			continue;
		size_t i = SIZE_MAX;
		if (m->rkt && m->partition >= 0) {
			range_key(k, sizeof(k), rd_kafka_topic_name(m->rkt), m->partition);
			uintptr_t v = (uintptr_t)gx_map_get(idx, k);
			if (v)
				i = v - 1;
		}
		if (i == SIZE_MAX || !active[i]) {
			char fe[256];
			if (m->err && rd_kafka_fatal_error(s->rk, fe, sizeof(fe))) {
				ret = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
						"consumer: %s", fe);
				rd_kafka_message_destroy(m);
				break;
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		int finish = 0, ok = 1;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			finish = 1; /* all that is stable now was read */
		} else if (m->err) {
			finish = 1; /* this partition cannot be read now */
			ok = 0;
		} else if (m->offset >= r[i].to) {
			finish = 1;
		} else {
			finish = cb(opaque, i, m) || m->offset >= r[i].to - 1;
		}
		rd_kafka_message_destroy(m);
		if (finish) {
			active[i] = 0;
			r[i].done = ok;
			left--;
			pause_one(s->rk, &r[i]);
		}
	}
	rd_kafka_assign(s->rk, NULL);
	rd_kafka_topic_partition_list_destroy(a);
	free(active);
	gx_map_destroy(idx, NULL);
	return ret;
}
