/*
 * gx_lag.c - consumer agencies' and broker groups' lag from Kafka's admin
 * API (gx_lag.h).
 *
 * One read: the govex topics (metadata), every consumer group
 * (ListConsumerGroups), each group's committed offsets (one
 * ListConsumerGroupOffsets per group, librdkafka takes one at a time; a
 * window of them in flight), the partitions' ends (two ListOffsets rounds),
 * then the small gaps counted record by record in one concurrent read.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_lag.h"
#include "gx_map.h"

#define OFFSETS_IN_FLIGHT 32

static int is_code_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

static int is_library(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_')
			return 0;
	return 1;
}

gx_topic_kind_t gx_topic_parse(const char *prefix, const char *name,
			       const char **consumer, size_t *consumer_len,
			       const char **library, size_t *library_len)
{
	size_t pl = strlen(prefix);
	*consumer = *library = NULL;
	*consumer_len = *library_len = 0;
	if (strncmp(name, prefix, pl) || name[pl] != '.')
		return GX_TOPIC_OTHER;
	const char *rest = name + pl + 1;
	if (!strncmp(rest, "ingest.", 7)) {
		const char *lib = rest + 7;
		if (!is_library(lib, strlen(lib)))
			return GX_TOPIC_OTHER;
		*library = lib;
		*library_len = strlen(lib);
		return GX_TOPIC_INGEST;
	}
	if (strncmp(rest, "deliver.", 8))
		return GX_TOPIC_OTHER;
	const char *c = rest + 8, *p = c;
	while (is_code_char(*p))
		p++;
	if (p == c || p - c > 64 || *p != '.' || !is_library(p + 1, strlen(p + 1)))
		return GX_TOPIC_OTHER;
	*consumer = c;
	*consumer_len = (size_t)(p - c);
	*library = p + 1;
	*library_len = strlen(p + 1);
	return GX_TOPIC_DELIVER;
}

void gx_lag_span(int64_t committed, int64_t low, int64_t end, int64_t *start)
{
	/* No commit: an earliest-reading group starts at the first kept
	 * record; a commit below it means records expired unread, which are
	 * no longer there to read. */
	int64_t s = committed < 0 ? low : committed;
	if (s < low)
		s = low;
	if (s > end)
		s = end;
	*start = s;
}

/* ---- building blocks of one read ---- */

struct topic {
	const char *name;
	gx_topic_kind_t kind;
	char *consumer, *library;
	int partitions;
	size_t first;		/* its partitions in parts[first..] */
	int read;		/* some group committed offsets on it */
};

/* The exact count of one row on one partition. */
struct tally {
	size_t row;
	int64_t start;
	int64_t count;
};

struct part {
	struct tally *t;
	size_t n, cap;
};

/* A group's commits on one topic. */
struct commits {
	size_t group;
	size_t topic;
	int64_t *offset;	/* per partition; -1: none */
};

struct read {
	gx_scan_t *s;
	rd_kafka_t *rk;
	const char *prefix;
	int flags;
	int64_t deadline;
	struct topic *topics;
	size_t ntopics;
	gx_map_t *topic_ix;	/* name -> index + 1 */
	gx_scan_range_t *ranges;
	struct part *parts;
	size_t nparts;
	gx_strv_t groups;	/* every group in the cluster */
	unsigned char *group_flags; /* 1: ingest commits, 2: delivery commits */
	struct commits *commits;
	size_t ncommits, capcommits;
	gx_map_t *commit_ix;	/* "group\x1ftopic" -> index + 1 */
	int complete;
};

static int left_ms(const struct read *rd)
{
	int64_t l = rd->deadline - gx_mono_ms();
	return l > 1 ? (int)l : 1;
}

static rd_kafka_AdminOptions_t *admin_options(struct read *rd, rd_kafka_admin_op_t op,
					      void *opaque)
{
	char err[256];
	rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rd->rk, op);
	rd_kafka_AdminOptions_set_request_timeout(o, left_ms(rd), err, sizeof(err));
	rd_kafka_AdminOptions_set_opaque(o, opaque);
	return o;
}

static gx_err_t list_groups(struct read *rd, char *errstr, size_t errstr_size)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(rd->rk);
	rd_kafka_AdminOptions_t *o =
	    admin_options(rd, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, NULL);
	rd_kafka_ListConsumerGroups(rd->rk, o, q);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, left_ms(rd) + 1000);
	gx_err_t ret = GX_OK;
	if (!ev) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				"list consumer groups: timed out");
	} else if (rd_kafka_event_error(ev)) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_KAFKA,
				"list consumer groups: %s",
				rd_kafka_event_error_string(ev));
	} else {
		const rd_kafka_ListConsumerGroups_result_t *res =
		    rd_kafka_event_ListConsumerGroups_result(ev);
		size_t n, nerr;
		const rd_kafka_ConsumerGroupListing_t **g =
		    rd_kafka_ListConsumerGroups_result_valid(res, &n);
		for (size_t i = 0; i < n; i++)
			gx_strv_push(&rd->groups,
				     rd_kafka_ConsumerGroupListing_group_id(g[i]));
		rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
		if (nerr)
			rd->complete = 0; /* some broker did not answer */
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	return ret;
}

static void ask_offsets(struct read *rd, rd_kafka_queue_t *q, size_t g)
{
	rd_kafka_ListConsumerGroupOffsets_t *req =
	    rd_kafka_ListConsumerGroupOffsets_new(rd->groups.v[g], NULL);
	rd_kafka_AdminOptions_t *o = admin_options(
	    rd, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, (void *)(uintptr_t)(g + 1));
	rd_kafka_ListConsumerGroupOffsets(rd->rk, &req, 1, o, q);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_ListConsumerGroupOffsets_destroy(req);
}

static void note_commit(struct read *rd, size_t g, const rd_kafka_topic_partition_t *p)
{
	uintptr_t ti = (uintptr_t)gx_map_get(rd->topic_ix, p->topic);
	if (!ti || p->err || p->offset < 0)
		return;
	struct topic *t = &rd->topics[ti - 1];
	if (p->partition < 0 || p->partition >= t->partitions)
		return;
	char k[600];
	snprintf(k, sizeof(k), "%s\x1f%s", rd->groups.v[g], p->topic);
	uintptr_t ci = (uintptr_t)gx_map_get(rd->commit_ix, k);
	if (!ci) {
		if (rd->ncommits == rd->capcommits) {
			rd->capcommits = rd->capcommits ? 2 * rd->capcommits : 16;
			rd->commits = gx_realloc(rd->commits,
						 rd->capcommits * sizeof(*rd->commits));
		}
		struct commits *c = &rd->commits[rd->ncommits++];
		c->group = g;
		c->topic = ti - 1;
		c->offset = gx_malloc((size_t)t->partitions * sizeof(int64_t));
		for (int i = 0; i < t->partitions; i++)
			c->offset[i] = -1;
		ci = rd->ncommits;
		gx_map_put(rd->commit_ix, k, (void *)ci);
	}
	rd->commits[ci - 1].offset[p->partition] = p->offset;
	t->read = 1;
	rd->group_flags[g] |= t->kind == GX_TOPIC_INGEST ? 1 : 2;
}

/* Every group's committed offsets on our topics, OFFSETS_IN_FLIGHT
 * requests at a time. */
static void list_offsets(struct read *rd)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(rd->rk);
	size_t next = 0, pending = 0, n = rd->groups.n;
	while (next < n || pending) {
		while (next < n && pending < OFFSETS_IN_FLIGHT) {
			ask_offsets(rd, q, next++);
			pending++;
		}
		if (gx_mono_ms() >= rd->deadline + 1000) {
			rd->complete = 0;
			break;
		}
		rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 100);
		if (!ev)
			continue;
		if (rd_kafka_event_type(ev) != RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT) {
			rd_kafka_event_destroy(ev);
			continue;
		}
		pending--;
		size_t g = (uintptr_t)rd_kafka_event_opaque(ev) - 1;
		const rd_kafka_ListConsumerGroupOffsets_result_t *res =
		    rd_kafka_event_ListConsumerGroupOffsets_result(ev);
		size_t ng = 0;
		const rd_kafka_group_result_t **gr =
		    res ? rd_kafka_ListConsumerGroupOffsets_result_groups(res, &ng) : NULL;
		if (rd_kafka_event_error(ev) || ng != 1 || rd_kafka_group_result_error(gr[0])) {
			/* A group deleted in between is no loss; anything
			 * else leaves the answer incomplete. */
			const rd_kafka_error_t *ge = ng == 1 ? rd_kafka_group_result_error(gr[0]) : NULL;
			if (!ge || rd_kafka_error_code(ge) != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND)
				rd->complete = 0;
		} else if (g < n) {
			const rd_kafka_topic_partition_list_t *pl =
			    rd_kafka_group_result_partitions(gr[0]);
			for (int i = 0; pl && i < pl->cnt; i++)
				note_commit(rd, g, &pl->elems[i]);
		}
		rd_kafka_event_destroy(ev);
	}
	/* Results still on their way are dropped with the queue. */
	rd_kafka_queue_destroy(q);
}

/* ---- rows ---- */

struct rowb {
	gx_lag_row_t row;
	size_t topic;
	int64_t *start;		/* per partition */
	int64_t *count;		/* exact count per partition, -1: not counted */
};

static int cmp_row(const void *a, const void *b)
{
	const gx_lag_row_t *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);
	if (c)
		return c;
	if (!x->group || !y->group)
		return !!x->group - !!y->group;
	return strcmp(x->group, y->group);
}

static int scan_count(void *opaque, size_t range, const rd_kafka_message_t *m)
{
	struct read *rd = opaque;
	struct part *p = &rd->parts[range];
	for (size_t i = 0; i < p->n; i++)
		if (m->offset >= p->t[i].start)
			p->t[i].count++;
	return 0;
}

/* Order partition indexes by the span to read (qsort_r: ctx = ranges). */
static int cmp_span(const void *a, const void *b, void *ctx)
{
	const gx_scan_range_t *r = ctx;
	const gx_scan_range_t *x = &r[*(const size_t *)a], *y = &r[*(const size_t *)b];
	int64_t sx = x->end - x->from, sy = y->end - y->from;
	return sx < sy ? -1 : sx > sy;
}

static void part_add(struct part *p, size_t row, int64_t start)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 4;
		p->t = gx_realloc(p->t, p->cap * sizeof(*p->t));
	}
	p->t[p->n++] = (struct tally){row, start, 0};
}

static void groups_describe(struct read *rd, gx_lag_t *l)
{
	if (!l->ngroups)
		return;
	const char **ids = gx_calloc(l->ngroups, sizeof(char *));
	for (size_t i = 0; i < l->ngroups; i++)
		ids[i] = l->groups[i].id;
	rd_kafka_queue_t *q = rd_kafka_queue_new(rd->rk);
	rd_kafka_AdminOptions_t *o =
	    admin_options(rd, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, NULL);
	rd_kafka_DescribeConsumerGroups(rd->rk, ids, l->ngroups, o, q);
	rd_kafka_AdminOptions_destroy(o);
	free(ids);
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, left_ms(rd) + 1000);
	if (!ev || rd_kafka_event_error(ev)) {
		l->complete = 0;
	} else {
		size_t n;
		const rd_kafka_ConsumerGroupDescription_t **d =
		    rd_kafka_DescribeConsumerGroups_result_groups(
			rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
		for (size_t i = 0; i < n; i++) {
			const char *id = rd_kafka_ConsumerGroupDescription_group_id(d[i]);
			gx_lag_group_t *g = NULL;
			for (size_t k = 0; k < l->ngroups && !g; k++)
				if (!strcmp(l->groups[k].id, id))
					g = &l->groups[k];
			if (!g)
				continue;
			if (rd_kafka_ConsumerGroupDescription_error(d[i])) {
				l->complete = 0;
				continue;
			}
			g->state = gx_strdup(rd_kafka_consumer_group_state_name(
			    rd_kafka_ConsumerGroupDescription_state(d[i])));
			size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d[i]);
			g->members = gx_calloc(nm + 1, sizeof(*g->members));
			g->nmembers = nm;
			for (size_t m = 0; m < nm; m++) {
				const rd_kafka_MemberDescription_t *md =
				    rd_kafka_ConsumerGroupDescription_member(d[i], m);
				const rd_kafka_MemberAssignment_t *as =
				    rd_kafka_MemberDescription_assignment(md);
				const rd_kafka_topic_partition_list_t *pl =
				    as ? rd_kafka_MemberAssignment_partitions(as) : NULL;
				const char *cid = rd_kafka_MemberDescription_client_id(md);
				const char *host = rd_kafka_MemberDescription_host(md);
				g->members[m].client_id = gx_strdup(cid ? cid : "");
				g->members[m].host = gx_strdup(host ? host : "");
				g->members[m].partitions = pl ? pl->cnt : 0;
			}
		}
	}
	if (ev)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const gx_lag_group_t *)a)->id, ((const gx_lag_group_t *)b)->id);
}

/* Rows of one kind: per (topic, group with commits there), and one row with
 * no group per topic nobody read. */
static void build_rows(struct read *rd, gx_topic_kind_t kind, struct rowb **rb,
		       size_t *nrb)
{
	for (size_t c = 0; c <= rd->ncommits; c++) {
		/* c < ncommits: a group's commits; then the unread topics. */
		size_t t0 = 0, t1 = 0;
		if (c < rd->ncommits) {
			if (rd->topics[rd->commits[c].topic].kind != kind)
				continue;
			t0 = rd->commits[c].topic;
			t1 = t0 + 1;
		} else {
			t0 = 0;
			t1 = rd->ntopics;
		}
		for (size_t ti = t0; ti < t1; ti++) {
			struct topic *t = &rd->topics[ti];
			if (t->kind != kind || (c == rd->ncommits && t->read))
				continue;
			*rb = gx_realloc(*rb, (*nrb + 1) * sizeof(**rb));
			struct rowb *r = &(*rb)[(*nrb)++];
			memset(r, 0, sizeof(*r));
			r->topic = ti;
			r->row.topic = gx_strdup(t->name);
			r->row.consumer = t->consumer ? gx_strdup(t->consumer) : NULL;
			r->row.library = gx_strdup(t->library);
			r->row.group = c < rd->ncommits
					   ? gx_strdup(rd->groups.v[rd->commits[c].group])
					   : NULL;
			r->row.partitions = t->partitions;
			r->start = gx_calloc((size_t)t->partitions, sizeof(int64_t));
			r->count = gx_calloc((size_t)t->partitions, sizeof(int64_t));
			for (int p = 0; p < t->partitions; p++) {
				gx_scan_range_t *g = &rd->ranges[t->first + (size_t)p];
				int64_t committed =
				    c < rd->ncommits ? rd->commits[c].offset[p] : -1;
				r->count[p] = -1;
				if (!g->known)
					continue;
				gx_lag_span(committed, g->low, g->end, &r->start[p]);
			}
		}
	}
}

/* Sum each row's partitions: exact counts where they were made, offset
 * gaps elsewhere. */
static void finish_rows(struct read *rd, struct rowb *rb, size_t nrb,
			gx_lag_row_t **out, size_t *nout)
{
	for (size_t i = 0; i < nrb; i++) {
		struct rowb *r = &rb[i];
		struct topic *t = &rd->topics[r->topic];
		r->row.exact = 1;
		for (int p = 0; p < t->partitions; p++) {
			gx_scan_range_t *g = &rd->ranges[t->first + (size_t)p];
			if (!g->known) {
				r->row.exact = 0;
				continue;
			}
			int64_t gap = g->end - r->start[p];
			if (gap <= 0)
				continue;
			if (r->count[p] >= 0) {
				r->row.lag += r->count[p];
			} else {
				r->row.lag += gap;
				r->row.exact = 0;
			}
		}
		free(r->start);
		free(r->count);
	}
	gx_lag_row_t *rows = gx_calloc(nrb + 1, sizeof(*rows));
	for (size_t i = 0; i < nrb; i++)
		rows[i] = rb[i].row;
	qsort(rows, nrb, sizeof(*rows), cmp_row);
	for (size_t i = 0; i < nrb;) {
		size_t j = i, w = i;
		for (; j < nrb && !strcmp(rows[j].topic, rows[i].topic); j++)
			if (rows[j].lag > rows[w].lag)
				w = j;
		rows[w].worst = 1;
		i = j;
	}
	*out = rows;
	*nout = nrb;
}

gx_err_t gx_lag_read(gx_scan_t *s, const char *prefix, int flags, int timeout_ms,
		     gx_lag_t **out, char *errstr, size_t errstr_size)
{
	struct read rd;
	memset(&rd, 0, sizeof(rd));
	rd.s = s;
	rd.rk = gx_scan_handle(s);
	rd.prefix = prefix;
	rd.flags = flags;
	rd.deadline = gx_mono_ms() + timeout_ms;
	rd.complete = 1;
	rd.topic_ix = gx_map_new();
	rd.commit_ix = gx_map_new();
	gx_strv_init(&rd.groups);
	*out = NULL;

	gx_scan_topic_t *all = NULL;
	size_t nall = 0;
	char *tp = gx_asprintf("%s.", prefix);
	gx_err_t e = gx_scan_topics(s, tp, left_ms(&rd), &all, &nall, errstr, errstr_size);
	free(tp);
	gx_lag_t *l = gx_calloc(1, sizeof(*l));
	l->at_ms = gx_now_ms();
	struct rowb *drows = NULL, *irows = NULL;
	size_t ndrows = 0, nirows = 0;
	if (e)
		goto fail;
	rd.topics = gx_calloc(nall + 1, sizeof(*rd.topics));
	for (size_t i = 0; i < nall; i++) {
		const char *c, *lib;
		size_t cl, ll;
		gx_topic_kind_t k = gx_topic_parse(prefix, all[i].name, &c, &cl, &lib, &ll);
		if (k == GX_TOPIC_OTHER || (k == GX_TOPIC_INGEST && !(flags & GX_LAG_INGEST)))
			continue;
		struct topic *t = &rd.topics[rd.ntopics++];
		t->name = all[i].name;
		t->kind = k;
		t->consumer = c ? gx_strndup(c, cl) : NULL;
		t->library = gx_strndup(lib, ll);
		t->partitions = all[i].partitions;
		t->first = rd.nparts;
		rd.nparts += (size_t)t->partitions;
		gx_map_put(rd.topic_ix, t->name, (void *)(uintptr_t)rd.ntopics);
	}
	if (!rd.ntopics)
		goto done;
	if ((e = list_groups(&rd, errstr, errstr_size)))
		goto fail;
	rd.group_flags = gx_calloc(rd.groups.n + 1, 1);
	list_offsets(&rd);

	rd.ranges = gx_calloc(rd.nparts, sizeof(*rd.ranges));
	rd.parts = gx_calloc(rd.nparts, sizeof(*rd.parts));
	for (size_t i = 0; i < rd.ntopics; i++)
		for (int p = 0; p < rd.topics[i].partitions; p++) {
			gx_scan_range_t *g = &rd.ranges[rd.topics[i].first + (size_t)p];
			g->topic = rd.topics[i].name;
			g->partition = p;
		}
	if ((e = gx_scan_ends(s, rd.ranges, rd.nparts, left_ms(&rd), errstr, errstr_size)))
		goto fail;

	build_rows(&rd, GX_TOPIC_DELIVER, &drows, &ndrows);
	build_rows(&rd, GX_TOPIC_INGEST, &irows, &nirows);

	/* Count the small gaps: each partition read once, from the lowest
	 * start any row needs, each row counting from its own start. The
	 * tallies point back into the row arrays: drows by index, irows by
	 * index + ndrows. */
	for (size_t i = 0; i < ndrows + nirows; i++) {
		struct rowb *r = i < ndrows ? &drows[i] : &irows[i - ndrows];
		struct topic *t = &rd.topics[r->topic];
		for (int p = 0; p < t->partitions; p++) {
			size_t pi = t->first + (size_t)p;
			gx_scan_range_t *g = &rd.ranges[pi];
			int64_t gap = g->end - r->start[p];
			if (!g->known || gap <= 0 || gap > GX_LAG_EXACT_MAX)
				continue;
			part_add(&rd.parts[pi], i, r->start[p]);
		}
	}
	/* Within the budget, the smallest spans first: the most partitions
	 * counted exactly for the records read. */
	size_t *order = gx_calloc(rd.nparts + 1, sizeof(size_t));
	for (size_t pi = 0; pi < rd.nparts; pi++) {
		gx_scan_range_t *g = &rd.ranges[pi];
		g->from = g->to = g->end;
		for (size_t k = 0; k < rd.parts[pi].n; k++)
			if (rd.parts[pi].t[k].start < g->from)
				g->from = rd.parts[pi].t[k].start;
		order[pi] = pi;
	}
	qsort_r(order, rd.nparts, sizeof(size_t), cmp_span, rd.ranges);
	int64_t budget = GX_LAG_EXACT_BUDGET;
	for (size_t k = 0; k < rd.nparts; k++) {
		gx_scan_range_t *g = &rd.ranges[order[k]];
		int64_t span = g->end - g->from;
		if (span <= budget) {
			g->to = g->end;
			budget -= span;
		} else {
			g->from = g->to; /* not counted: offsets it is */
			rd.parts[order[k]].n = 0;
		}
	}
	free(order);
	if ((e = gx_scan_read(s, rd.ranges, rd.nparts, left_ms(&rd), scan_count, &rd,
			      errstr, errstr_size)))
		goto fail;
	for (size_t pi = 0; pi < rd.nparts; pi++) {
		if (!rd.ranges[pi].done)
			continue; /* cut short: the offset difference stands */
		for (size_t k = 0; k < rd.parts[pi].n; k++) {
			struct tally *ta = &rd.parts[pi].t[k];
			struct rowb *r = ta->row < ndrows ? &drows[ta->row]
							  : &irows[ta->row - ndrows];
			int p = (int)(pi - rd.topics[r->topic].first);
			r->count[p] = ta->count;
		}
	}
	finish_rows(&rd, drows, ndrows, &l->delivery, &l->ndelivery);
	finish_rows(&rd, irows, nirows, &l->ingest, &l->ningest);
	free(drows);
	free(irows);
	drows = irows = NULL;
	ndrows = nirows = 0;

	for (size_t g = 0; g < rd.groups.n; g++) {
		if (!rd.group_flags[g])
			continue;
		l->groups = gx_realloc(l->groups, (l->ngroups + 1) * sizeof(*l->groups));
		gx_lag_group_t *lg = &l->groups[l->ngroups++];
		memset(lg, 0, sizeof(*lg));
		lg->id = gx_strdup(rd.groups.v[g]);
		lg->broker = rd.group_flags[g] & 1;
		lg->consumer = (rd.group_flags[g] & 2) != 0;
	}
	if (l->ngroups)
		qsort(l->groups, l->ngroups, sizeof(*l->groups), cmp_group);
	l->complete = rd.complete;
	if (flags & GX_LAG_MEMBERS)
		groups_describe(&rd, l);
done:
	e = GX_OK;
	*out = l;
	l = NULL;
fail:
	for (size_t i = 0; i < ndrows; i++) {
		free(drows[i].start);
		free(drows[i].count);
	}
	for (size_t i = 0; i < nirows; i++) {
		free(irows[i].start);
		free(irows[i].count);
	}
	free(drows);
	free(irows);
	gx_lag_destroy(l);
	for (size_t i = 0; i < rd.ntopics; i++) {
		free(rd.topics[i].consumer);
		free(rd.topics[i].library);
	}
	free(rd.topics);
	for (size_t i = 0; i < rd.ncommits; i++)
		free(rd.commits[i].offset);
	free(rd.commits);
	for (size_t i = 0; rd.parts && i < rd.nparts; i++)
		free(rd.parts[i].t);
	free(rd.parts);
	free(rd.ranges);
	free(rd.group_flags);
	gx_strv_free(&rd.groups);
	gx_map_destroy(rd.topic_ix, NULL);
	gx_map_destroy(rd.commit_ix, NULL);
	gx_scan_topics_free(all, nall);
	return e;
}

static void rows_free(gx_lag_row_t *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].topic);
		free(r[i].consumer);
		free(r[i].library);
		free(r[i].group);
	}
	free(r);
}

void gx_lag_destroy(gx_lag_t *l)
{
	if (!l)
		return;
	rows_free(l->delivery, l->ndelivery);
	rows_free(l->ingest, l->ningest);
	for (size_t i = 0; i < l->ngroups; i++) {
		gx_lag_group_t *g = &l->groups[i];
		free(g->id);
		free(g->state);
		for (size_t m = 0; m < g->nmembers; m++) {
			free(g->members[m].client_id);
			free(g->members[m].host);
		}
		free(g->members);
	}
	free(l->groups);
	free(l);
}
