/*
 * gx_ops.c - timeliness and recent denials, read from the topics (gx_ops.h).
 */
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_avro.h"
#include "gx_kafka.h"
#include "gx_lag.h"
#include "gx_map.h"
#include "gx_ops.h"
#include "gx_record.h"

double gx_period_seconds(const char *p)
{
	static const struct {
		const char *en, *zh;
		double s;
	} t[] = {{"realtime", "实时", 60},
		 {"daily", "每日", 86400},
		 {"weekly", "每周", 7 * 86400},
		 {"monthly", "每月", 31 * 86400},
		 {"quarterly", "每季度", 92 * 86400},
		 {"half-yearly", "每半年", 183 * 86400},
		 {"yearly", "每年", 366 * 86400}};
	for (size_t i = 0; p && i < GX_ARRAY_SIZE(t); i++)
		if (!strcmp(p, t[i].en) || !strcmp(p, t[i].zh))
			return t[i].s;
	return 0;
}

/* ---- the newest record of each item ---- */

struct npart {
	const gx_library_t *lib;
	size_t li;		/* library index, for its Avro value */
	size_t want;		/* catalogue items of the library */
	gx_map_t *seen;		/* items seen in this partition */
	int64_t top;		/* offsets >= top were read */
	long scanned;
	int fin;
};

struct newest {
	const gx_schemas_t *schemas;
	const gx_catalog_t *cat;
	avro_value_t *vals;
	unsigned char *have;
	struct npart *parts;
	size_t *range_part;	/* this round's range -> partition */
	gx_map_t *found;	/* "provider\x1fitem" -> gx_newest_t */
};

static int newest_cb(void *opaque, size_t range, const rd_kafka_message_t *m)
{
	struct newest *nw = opaque;
	struct npart *p = &nw->parts[nw->range_part[range]];
	char err[256];
	uint64_t fp;
	if (!m->payload ||
	    gx_avro_so_fingerprint(m->payload, m->len, &fp, err, sizeof(err)) ||
	    fp != p->lib->ingest_fp)
		return 0;
	avro_value_t *v = &nw->vals[p->li];
	if (!nw->have[p->li]) {
		avro_generic_value_new(p->lib->ingest_iface, v);
		nw->have[p->li] = 1;
	}
	avro_value_reset(v);
	gx_envelope_t env;
	if (gx_avro_so_decode(m->payload, m->len, v, err, sizeof(err)) ||
	    gx_ingest_get(v, &env, err, sizeof(err)) || !env.item || !env.provider)
		return 0;
	if (nw->cat) {
		const gx_cat_item_t *it = gx_catalog_get(nw->cat, env.item);
		if (!it || it->lib != p->lib || strcmp(it->provider, env.provider))
			return 0;
		if (!gx_map_get(p->seen, env.item))
			gx_map_put(p->seen, env.item, (void *)1);
	}
	char k[300];
	snprintf(k, sizeof(k), "%s\x1f%s", env.provider, env.item);
	gx_newest_t *f = gx_map_get(nw->found, k);
	if (!f) {
		f = gx_calloc(1, sizeof(*f));
		f->provider = gx_strdup(env.provider);
		f->item = gx_strdup(env.item);
		f->collected_at = env.collected_at;
		gx_map_put(nw->found, k, f);
	} else if (env.collected_at > f->collected_at) {
		f->collected_at = env.collected_at;
	}
	return 0;
}

static int cmp_newest(const void *a, const void *b)
{
	const gx_newest_t *x = a, *y = b;
	int c = strcmp(x->item, y->item);
	return c ? c : strcmp(x->provider, y->provider);
}

gx_err_t gx_ingest_newest(gx_scan_t *s, const char *prefix,
			  const gx_schemas_t *schemas, const gx_catalog_t *cat,
			  long max_per_partition, int timeout_ms,
			  gx_newest_t **out, size_t *n, int *complete,
			  char *errstr, size_t errstr_size)
{
	int64_t deadline = gx_mono_ms() + timeout_ms;
	*out = NULL;
	*n = 0;
	*complete = 1;
	char *tp = gx_asprintf("%s.ingest.", prefix);
	gx_scan_topic_t *topics = NULL;
	size_t ntopics = 0;
	gx_err_t e = gx_scan_topics(s, tp, timeout_ms, &topics, &ntopics, errstr,
				    errstr_size);
	free(tp);
	if (e)
		return e;
	size_t nlib = gx_schemas_count(schemas);
	struct newest nw = {schemas, cat, gx_calloc(nlib + 1, sizeof(avro_value_t)),
			    gx_calloc(nlib + 1, 1), NULL, NULL, gx_map_new()};
	size_t np = 0;
	for (size_t i = 0; i < ntopics; i++)
		np += (size_t)topics[i].partitions;
	nw.parts = gx_calloc(np + 1, sizeof(*nw.parts));
	nw.range_part = gx_calloc(np + 1, sizeof(size_t));
	gx_scan_range_t *all = gx_calloc(np + 1, sizeof(*all));
	gx_scan_range_t *r = gx_calloc(np + 1, sizeof(*r));
	size_t k = 0;
	for (size_t i = 0; i < ntopics; i++) {
		const char *c, *lib;
		size_t cl, ll;
		if (gx_topic_parse(prefix, topics[i].name, &c, &cl, &lib, &ll) !=
		    GX_TOPIC_INGEST)
			continue;
		const gx_library_t *L = gx_schemas_library(schemas, lib);
		if (!L)
			continue;
		size_t li = 0;
		while (gx_schemas_at(schemas, li) != L)
			li++;
		size_t want = 0;
		const gx_cat_item_t *it;
		for (size_t ci = 0; cat && (it = gx_catalog_next(cat, &ci));)
			want += it->lib == L;
		if (cat && !want)
			continue; /* no item promises anything here */
		for (int p = 0; p < topics[i].partitions; p++, k++) {
			all[k].topic = topics[i].name;
			all[k].partition = p;
			nw.parts[k] = (struct npart){L, li, want, gx_map_new(), 0, 0, 0};
		}
	}
	np = k;
	if ((e = gx_scan_ends(s, all, np, (int)(deadline - gx_mono_ms()), errstr,
			      errstr_size)) && np)
		goto out;
	e = GX_OK;
	for (size_t i = 0; i < np; i++) {
		nw.parts[i].top = all[i].end;
		if (!all[i].known) {
			nw.parts[i].fin = 1;
			*complete = 0;
		}
		if (all[i].end <= all[i].low)
			nw.parts[i].fin = 1; /* empty */
	}
	for (long chunk = 256;; chunk *= 4) {
		size_t nr = 0;
		for (size_t i = 0; i < np; i++) {
			struct npart *p = &nw.parts[i];
			if (p->fin)
				continue;
			long c = chunk;
			if (max_per_partition > 0 && c > max_per_partition - p->scanned)
				c = max_per_partition - p->scanned;
			r[nr] = all[i];
			r[nr].to = p->top;
			r[nr].from = p->top - c > all[i].low ? p->top - c : all[i].low;
			nw.range_part[nr] = i;
			nr++;
		}
		if (!nr)
			break;
		int64_t left = deadline - gx_mono_ms();
		if (left <= 0) {
			*complete = 0;
			break;
		}
		if ((e = gx_scan_read(s, r, nr, (int)left, newest_cb, &nw, errstr,
				      errstr_size)))
			goto out;
		for (size_t j = 0; j < nr; j++) {
			struct npart *p = &nw.parts[nw.range_part[j]];
			const gx_scan_range_t *a = &all[nw.range_part[j]];
			if (!r[j].done) {
				p->fin = 1;
				*complete = 0;
				continue;
			}
			p->scanned += (long)(r[j].to - r[j].from);
			p->top = r[j].from;
			if (!cat || p->top <= a->low || gx_map_count(p->seen) >= p->want) {
				p->fin = 1;
			} else if (max_per_partition > 0 && p->scanned >= max_per_partition) {
				p->fin = 1;
				*complete = 0;
			}
		}
	}
	size_t nf = gx_map_count(nw.found), it = 0;
	gx_newest_t *res = gx_calloc(nf + 1, sizeof(*res));
	void *v;
	for (k = 0; gx_map_next(nw.found, &it, NULL, &v); k++) {
		res[k] = *(gx_newest_t *)v;
		free(v);
	}
	gx_map_destroy(nw.found, NULL);
	nw.found = NULL;
	qsort(res, nf, sizeof(*res), cmp_newest);
	*out = res;
	*n = nf;
out:
	if (nw.found) {
		size_t i2 = 0;
		while (gx_map_next(nw.found, &i2, NULL, &v)) {
			gx_newest_t *f = v;
			free(f->provider);
			free(f->item);
			free(f);
		}
		gx_map_destroy(nw.found, NULL);
	}
	for (size_t i = 0; i < nlib; i++)
		if (nw.have[i])
			avro_value_decref(&nw.vals[i]);
	for (size_t i = 0; i < np; i++)
		gx_map_destroy(nw.parts[i].seen, NULL);
	free(nw.vals);
	free(nw.have);
	free(nw.parts);
	free(nw.range_part);
	free(all);
	free(r);
	gx_scan_topics_free(topics, ntopics);
	return e;
}

void gx_newest_free(gx_newest_t *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++) {
		free(a[i].provider);
		free(a[i].item);
	}
	free(a);
}

/* ---- recent denials ---- */

struct denial {
	int64_t at;
	uint32_t reason;	/* index into names */
	uint32_t consumer;
};

struct gx_denials {
	char *topic;
	gx_strv_t names;	/* reasons and consumers, interned */
	gx_map_t *name_ix;	/* name -> index + 1 */
	struct denial *ev;
	size_t nev, capev;
	int64_t *next;		/* per partition: next offset to read, -1: unset */
	int npart;
	int complete;
	long read;
	int64_t since;		/* this update's window start */
};

gx_denials_t *gx_denials_new(const char *prefix)
{
	gx_denials_t *d = gx_calloc(1, sizeof(*d));
	d->topic = gx_topic(prefix, "decisions");
	gx_strv_init(&d->names);
	d->name_ix = gx_map_new();
	return d;
}

void gx_denials_destroy(gx_denials_t *d)
{
	if (!d)
		return;
	free(d->topic);
	gx_strv_free(&d->names);
	gx_map_destroy(d->name_ix, NULL);
	free(d->ev);
	free(d->next);
	free(d);
}

static uint32_t intern(gx_denials_t *d, const char *s)
{
	uintptr_t i = (uintptr_t)gx_map_get(d->name_ix, s);
	if (!i) {
		gx_strv_push(&d->names, s);
		i = d->names.n;
		gx_map_put(d->name_ix, s, (void *)i);
	}
	return (uint32_t)(i - 1);
}

static int denials_cb(void *opaque, size_t range, const rd_kafka_message_t *m)
{
	gx_denials_t *d = opaque;
	d->next[range] = m->offset + 1;
	json_t *msg = m->payload ? json_loadb(m->payload, m->len, 0, NULL) : NULL;
	json_t *list = json_object_get(msg, "decisions");
	json_t *at = json_object_get(msg, "at");
	if (json_is_array(list) && json_is_integer(at)) {
		d->read++;
		if (json_integer_value(at) >= d->since) {
			size_t i;
			json_t *e;
			json_array_foreach(list, i, e) {
				const char *verdict =
				    json_string_value(json_object_get(e, "verdict"));
				if (!verdict || (strcmp(verdict, "denied") &&
						 strcmp(verdict, "withheld")))
					continue;
				const char *reason =
				    json_string_value(json_object_get(e, "reason"));
				const char *consumer =
				    json_string_value(json_object_get(e, "consumer"));
				if (d->nev == d->capev) {
					d->capev = d->capev ? 2 * d->capev : 256;
					d->ev = gx_realloc(d->ev, d->capev * sizeof(*d->ev));
				}
				d->ev[d->nev++] = (struct denial){
				    json_integer_value(at),
				    intern(d, reason ? reason : "unknown"),
				    intern(d, consumer ? consumer : "unknown")};
			}
		}
	}
	json_decref(msg);
	return 0;
}

gx_err_t gx_denials_update(gx_denials_t *d, gx_scan_t *s, int64_t since_ms,
			   int timeout_ms, char *errstr, size_t errstr_size)
{
	int64_t deadline = gx_mono_ms() + timeout_ms;
	gx_scan_topic_t *t = NULL;
	size_t nt = 0;
	gx_scan_range_t *r = NULL;
	int np = 0;
	d->since = since_ms;
	/* Forget what left the window. */
	size_t k = 0;
	for (size_t i = 0; i < d->nev; i++)
		if (d->ev[i].at >= since_ms)
			d->ev[k++] = d->ev[i];
	d->nev = k;
	gx_err_t e = gx_scan_topics(s, d->topic, timeout_ms, &t, &nt, errstr, errstr_size);
	if (e)
		goto out;
	for (size_t i = 0; i < nt; i++)
		if (!strcmp(t[i].name, d->topic))
			np = t[i].partitions;
	if (!np) {
		e = gx_seterr(errstr, errstr_size, GX_ERR_NOTFOUND,
			      "topic %s does not exist (govexctl setup)", d->topic);
		goto out;
	}
	if (np > d->npart) {
		d->next = gx_realloc(d->next, (size_t)np * sizeof(int64_t));
		for (int p = d->npart; p < np; p++)
			d->next[p] = -1;
		d->npart = np;
	}
	r = gx_calloc((size_t)np, sizeof(*r));
	for (int p = 0; p < np; p++) {
		r[p].topic = d->topic;
		r[p].partition = p;
	}
	if ((e = gx_scan_ends(s, r, (size_t)np, (int)(deadline - gx_mono_ms()), errstr,
			      errstr_size)) ||
	    (e = gx_scan_from_time(s, r, (size_t)np, since_ms,
				   (int)(deadline - gx_mono_ms()), errstr, errstr_size)))
		goto out;
	d->complete = 1;
	for (int p = 0; p < np; p++) {
		if (!r[p].known) {
			r[p].from = r[p].to = 0;
			d->complete = 0;
			continue;
		}
		/* Continue where the last update stopped, unless the window
		 * has moved past it. */
		if (d->next[p] >= 0 && d->next[p] > r[p].from)
			r[p].from = d->next[p];
		r[p].to = r[p].end;
		d->next[p] = r[p].from;
	}
	int64_t left = deadline - gx_mono_ms();
	if ((e = gx_scan_read(s, r, (size_t)np, left > 1 ? (int)left : 1, denials_cb, d,
			      errstr, errstr_size)))
		goto out;
	for (int p = 0; p < np; p++) {
		if (r[p].done)
			d->next[p] = r[p].to > d->next[p] ? r[p].to : d->next[p];
		else if (r[p].known)
			d->complete = 0;
	}
out:
	if (e)
		d->complete = 0;
	free(r);
	gx_scan_topics_free(t, nt);
	return e;
}

json_t *gx_denials_counts(const gx_denials_t *d, int64_t since_ms,
			  json_t **by_consumer, long *total)
{
	json_t *by_reason = json_object();
	if (by_consumer)
		*by_consumer = json_object();
	*total = 0;
	for (size_t i = 0; i < d->nev; i++) {
		if (d->ev[i].at < since_ms)
			continue;
		(*total)++;
		const char *rs = d->names.v[d->ev[i].reason];
		json_object_set_new(by_reason, rs,
				    json_integer(json_integer_value(
						     json_object_get(by_reason, rs)) + 1));
		if (by_consumer) {
			const char *c = d->names.v[d->ev[i].consumer];
			json_object_set_new(*by_consumer, c,
					    json_integer(json_integer_value(json_object_get(
							     *by_consumer, c)) + 1));
		}
	}
	return by_reason;
}

int gx_denials_complete(const gx_denials_t *d)
{
	return d->complete;
}

long gx_denials_read(const gx_denials_t *d)
{
	return d->read;
}
