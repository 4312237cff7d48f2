/*
 * gx_report.c - the compliance report (art. 23): requests and their
 * response times, refusals, releases, grants near expiry, ingest refusals
 * and the decision chains' verification, as one JSON model; and that model
 * as a self-contained HTML page.
 *
 * Decisions and ingest refusals, the two large topics, are folded into
 * counters as they are fed (replay keeps its own copy of the decisions);
 * catalogue and approvals are kept whole, as every program keeps them.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_catalog.h"
#include "gx_map.h"
#include "gx_replay.h"
#include "gx_report.h"
#include "gx_validate.h"

#define DAY_MS 86400000LL
/* The exchange's own actor: its grants are automatic, its refusals are of
 * requests in which no field may be shared at all. */
#define EXCHANGE "govex"
/* Findings shown in full; the rest are counted by kind. */
#define MAX_FINDINGS 20

/* ---- working days ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t local_day(int64_t ms, int off_min)
{
	return floor_div(ms + (int64_t)off_min * 60000, DAY_MS);
}

/* Day 0 (1970-01-01) was a Thursday. */
static int is_weekday(int64_t day)
{
	int64_t dow = (day % 7 + 7 + 4) % 7; /* 0 Sunday */
	return dow >= 1 && dow <= 5;
}

/* Weekdays among days [0, d). */
static int64_t weekdays_before(int64_t d)
{
	/* Weekdays among the first k days of a week starting on Thursday. */
	static const int prefix[8] = {0, 1, 2, 2, 2, 3, 4, 5};
	int64_t q = floor_div(d, 7);
	return q * 5 + prefix[d - q * 7];
}

long gx_working_days(int64_t a_ms, int64_t b_ms, int utc_offset_min)
{
	int64_t da = local_day(a_ms, utc_offset_min);
	int64_t db = local_day(b_ms, utc_offset_min);
	if (db <= da)
		return 0;
	return (long)(weekdays_before(db + 1) - weekdays_before(da + 1));
}

int64_t gx_working_deadline(int64_t a_ms, int n, int utc_offset_min)
{
	int64_t d = local_day(a_ms, utc_offset_min);
	for (int k = 0; k < n;)
		if (is_weekday(++d))
			k++;
	return (d + 1) * DAY_MS - (int64_t)utc_offset_min * 60000;
}

/* ---- state ---- */

enum { REQ_PENDING, REQ_GRANTED, REQ_DENIED };

struct req {
	char *id, *consumer, *item;
	gx_strv_t fields, refused;
	int64_t at;
	int state;
	int64_t answered_at;
	char *answered_by;
	int automatic;
	char *grant_id;
	char *reason;		/* deny: as given (NULL: none) */
};

struct gx_report {
	const gx_schemas_t *schemas;
	gx_report_opts_t o;
	gx_replay_t *replay;
	gx_catalog_t *cat;
	json_t *providers;	/* item -> provider, kept across tombstones */
	gx_approvals_t *ap;
	struct req **reqs;	/* in offset order */
	size_t nreqs, capreqs;
	gx_map_t *req_by_id;
	json_t *first_seen;	/* item -> ms of its first decision */
	/* decisions in the period */
	long dec_messages, dec_entries;
	json_t *verdicts;	/* verdict -> n */
	json_t *by_consumer;	/* consumer -> {verdict: n} */
	json_t *by_item;	/* item -> {verdict: n} */
	json_t *by_pair;	/* consumer -> item -> {verdict: n} */
	json_t *not_released;	/* reason code -> n */
	/* ingest refusals in the period */
	long rejected;
	json_t *rej_reason, *rej_by, *rej_item;
	/* what did not parse */
	long bad_approvals, bad_decisions, bad_rejected;
};

static const char *js(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int64_t ji(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static void inc(json_t *obj, const char *key, json_int_t by)
{
	json_t *v = json_object_get(obj, key);
	if (v)
		json_integer_set(v, json_integer_value(v) + by);
	else
		json_object_set_new(obj, key, json_integer(by));
}

/* obj[key], created as an empty object when missing. */
static json_t *sub(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		v = json_object();
		json_object_set_new(obj, key, v);
	}
	return v;
}

static int in_period(const gx_report_opts_t *o, int64_t at)
{
	return (!o->from_ms || at >= o->from_ms) && (!o->to_ms || at <= o->to_ms);
}

gx_report_t *gx_report_new(const gx_schemas_t *schemas,
			   const gx_report_opts_t *opts)
{
	gx_report_t *r = gx_calloc(1, sizeof(*r));
	r->schemas = schemas;
	r->o = *opts;
	r->replay = gx_replay_new(schemas);
	r->cat = gx_catalog_new(schemas);
	r->providers = json_object();
	r->ap = gx_approvals_new();
	r->req_by_id = gx_map_new();
	r->first_seen = json_object();
	r->verdicts = json_object();
	r->by_consumer = json_object();
	r->by_item = json_object();
	r->by_pair = json_object();
	r->not_released = json_object();
	r->rej_reason = json_object();
	r->rej_by = json_object();
	r->rej_item = json_object();
	return r;
}

static void req_free(struct req *q)
{
	free(q->id);
	free(q->consumer);
	free(q->item);
	gx_strv_free(&q->fields);
	gx_strv_free(&q->refused);
	free(q->answered_by);
	free(q->grant_id);
	free(q->reason);
	free(q);
}

void gx_report_destroy(gx_report_t *r)
{
	if (!r)
		return;
	gx_replay_destroy(r->replay);
	gx_catalog_destroy(r->cat);
	gx_approvals_destroy(r->ap);
	for (size_t i = 0; i < r->nreqs; i++)
		req_free(r->reqs[i]);
	free(r->reqs);
	gx_map_destroy(r->req_by_id, NULL);
	json_t *objs[] = {r->providers, r->first_seen, r->verdicts,
			  r->by_consumer, r->by_item, r->by_pair,
			  r->not_released, r->rej_reason, r->rej_by,
			  r->rej_item};
	for (size_t i = 0; i < GX_ARRAY_SIZE(objs); i++)
		json_decref(objs[i]);
	free(r);
}

void gx_report_add_catalog(gx_report_t *r, int64_t offset, const char *key,
			   size_t keylen, const void *value, size_t len)
{
	char err[256];
	char *k = gx_strndup(key ? key : "", key ? keylen : 0);
	/* A bad item is the catalogue's business (it refuses it); the report
	 * only needs the items as the exchange saw them. */
	(void)gx_catalog_apply(r->cat, k, value, len, offset, err, sizeof(err));
	json_t *j = value ? json_loadb(value, len, 0, NULL) : NULL;
	if (js(j, "item") && js(j, "provider"))
		json_object_set_new(r->providers, js(j, "item"),
				    json_string(js(j, "provider")));
	json_decref(j);
	free(k);
	gx_replay_add_catalog(r->replay, offset, value, len);
}

static void strv_from(json_t *arr, const char *member, gx_strv_t *sv)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		if (member)
			e = json_object_get(e, member);
		if (json_is_string(e))
			gx_strv_push(sv, json_string_value(e));
	}
}

void gx_report_add_approval(gx_report_t *r, int64_t offset, const void *value,
			    size_t len)
{
	char err[256];
	gx_replay_add_approval(r->replay, offset, value, len);
	/* What the exchange's approvals state refuses, the report leaves out
	 * too (and counts), so both tell the same story. */
	if (gx_approvals_apply(r->ap, value, len, offset, err, sizeof(err))) {
		r->bad_approvals++;
		return;
	}
	json_t *e = json_loadb(value, len, 0, NULL);
	const char *type = js(e, "type"), *rid = js(e, "request_id");
	struct req *q = gx_map_get(r->req_by_id, rid);
	if (!strcmp(type, "request")) {
		q = gx_calloc(1, sizeof(*q));
		q->id = gx_strdup(rid);
		q->consumer = gx_strdup(js(e, "consumer"));
		q->item = gx_strdup(js(e, "item"));
		strv_from(json_object_get(e, "fields"), NULL, &q->fields);
		strv_from(json_object_get(e, "refused"), "field", &q->refused);
		q->at = ji(e, "at");
		if (r->nreqs == r->capreqs) {
			r->capreqs = r->capreqs ? r->capreqs * 2 : 64;
			r->reqs = gx_realloc(r->reqs, r->capreqs * sizeof(*r->reqs));
		}
		r->reqs[r->nreqs++] = q;
		gx_map_put(r->req_by_id, rid, q);
	} else if (q && (!strcmp(type, "approve") || !strcmp(type, "deny"))) {
		int deny = !strcmp(type, "deny");
		q->state = deny ? REQ_DENIED : REQ_GRANTED;
		q->answered_at = ji(e, "at");
		q->answered_by = gx_strdup(js(e, "actor"));
		if (deny) {
			const char *why = js(e, "reason");
			q->reason = why ? gx_strdup(why) : NULL;
		} else {
			q->automatic = json_is_true(json_object_get(e, "automatic"));
			q->grant_id = gx_strdup(js(e, "grant_id"));
		}
	}
	json_decref(e);
}

void gx_report_add_decision(gx_report_t *r, int32_t partition, int64_t offset,
			    const void *value, size_t len)
{
	gx_replay_add_decision(r->replay, partition, offset, value, len);
	json_t *m = value ? json_loadb(value, len, 0, NULL) : NULL;
	if (m && json_object_get(m, "checkpoint")) {
		json_decref(m);
		return;
	}
	const char *item = js(m, "item");
	json_t *decs = json_object_get(m, "decisions");
	if (!item || !json_is_array(decs)) {
		r->bad_decisions++; /* replay names it as a finding */
		json_decref(m);
		return;
	}
	int64_t at = ji(m, "at");
	json_t *seen = json_object_get(r->first_seen, item);
	if (!seen || json_integer_value(seen) > at)
		json_object_set_new(r->first_seen, item, json_integer(at));
	if (!in_period(&r->o, at)) {
		json_decref(m);
		return;
	}
	r->dec_messages++;
	size_t i;
	json_t *d;
	json_array_foreach(decs, i, d) {
		const char *consumer = js(d, "consumer") ?: "?";
		const char *verdict = js(d, "verdict") ?: "?";
		r->dec_entries++;
		inc(r->verdicts, verdict, 1);
		inc(sub(r->by_consumer, consumer), verdict, 1);
		inc(sub(r->by_item, item), verdict, 1);
		inc(sub(sub(r->by_pair, consumer), item), verdict, 1);
		if (!strstr(verdict, "released"))
			inc(r->not_released, js(d, "reason") ?: "?", 1);
	}
	json_decref(m);
}

void gx_report_add_rejected(gx_report_t *r, int32_t partition, int64_t offset,
			    const void *value, size_t len)
{
	(void)partition;
	(void)offset;
	json_t *j = value ? json_loadb(value, len, 0, NULL) : NULL;
	if (!json_is_object(j)) {
		r->bad_rejected++;
		json_decref(j);
		return;
	}
	if (in_period(&r->o, ji(j, "at"))) {
		r->rejected++;
		inc(r->rej_reason, js(j, "reason") ?: "?", 1);
		inc(r->rej_by, js(j, "by") ?: "?", 1);
		char k[300];
		snprintf(k, sizeof(k), "%s\x1f%s", js(j, "provider") ?: "",
			 js(j, "item") ?: "");
		inc(r->rej_item, k, 1);
	}
	json_decref(j);
}

/* ---- building the model ---- */

static json_t *time_or_null(int64_t ms)
{
	char b[40];
	if (!ms)
		return json_null();
	gx_fmt_time_ms(ms, b, sizeof(b));
	return json_string(b);
}

static int blank(const char *s)
{
	if (!s)
		return 1;
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

/* Sort rows by "sort" (descending), then by the name member. */
static int cmp_rows(const void *a, const void *b, void *name)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int64_t nx = ji(x, "sort"), ny = ji(y, "sort");
	if (nx != ny)
		return nx > ny ? -1 : 1;
	return strcmp(js(x, name) ?: "", js(y, name) ?: "");
}

/* The rows (an array the caller allocated; freed here) as a JSON array. */
static json_t *sorted(json_t **rows, size_t n, const char *name)
{
	qsort_r(rows, n, sizeof(*rows), cmp_rows, (void *)name);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		json_object_del(rows[i], "sort");
		json_array_append_new(a, rows[i]);
	}
	free(rows);
	return a;
}

/* {key: n} as [{name: key, "count": n}], largest first. */
static json_t *count_rows(json_t *obj, const char *name)
{
	size_t n = json_object_size(obj), k = 0;
	json_t **rows = gx_calloc(n + 1, sizeof(*rows));
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		rows[k++] = json_pack("{s:s,s:I,s:I}", name, key, "count",
				      json_integer_value(v), "sort",
				      json_integer_value(v));
	}
	return sorted(rows, k, name);
}

static const char *const VERDICTS[] = {"released", "partly_released",
				       "withheld", "denied"};

/* Verdict counters as a row: each verdict, "releases" (released and
 * partly released) and "total"; sorted by releases. */
static json_t *verdict_row(json_t *counts)
{
	json_t *row = json_object();
	json_int_t total = 0;
	for (size_t i = 0; i < GX_ARRAY_SIZE(VERDICTS); i++) {
		json_int_t n = ji(counts, VERDICTS[i]);
		json_object_set_new(row, VERDICTS[i], json_integer(n));
		total += n;
	}
	json_int_t rel = ji(counts, "released") + ji(counts, "partly_released");
	json_object_set_new(row, "releases", json_integer(rel));
	json_object_set_new(row, "total", json_integer(total));
	json_object_set_new(row, "sort", json_integer(rel));
	return row;
}

static json_t *verdict_rows(json_t *obj, const char *name)
{
	size_t n = json_object_size(obj), k = 0;
	json_t **rows = gx_calloc(n + 1, sizeof(*rows));
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		json_t *row = verdict_row(v);
		json_object_set_new(row, name, json_string(key));
		rows[k++] = row;
	}
	return sorted(rows, k, name);
}

static const char *provider_of(gx_report_t *r, const char *item)
{
	const gx_cat_item_t *ci = gx_catalog_get(r->cat, item);
	if (ci)
		return ci->provider;
	return js(r->providers, item);
}

/*
 * What the provider had to decide: "unconditional" (the exchange grants it
 * at once), "conditional" (the provider answers within the limit) or
 * "not_shared" (nothing asked for may be shared; the exchange refuses it at
 * once). Answered requests say it by who answered; pending ones by the
 * catalogue as it stands.
 */
static const char *request_kind(gx_report_t *r, const struct req *q)
{
	if (q->state == REQ_GRANTED)
		return q->automatic ? "unconditional" : "conditional";
	if (q->state == REQ_DENIED)
		return strcmp(q->answered_by ?: "", EXCHANGE) ? "conditional"
							       : "not_shared";
	const gx_cat_item_t *ci = gx_catalog_get(r->cat, q->item);
	if (!ci)
		return "conditional";
	size_t asked = 0;
	for (size_t i = 0; i < q->fields.n; i++) {
		if (gx_strv_contains(&q->refused, q->fields.v[i]))
			continue;
		const gx_cat_field_t *f = gx_cat_item_field(ci, q->fields.v[i]);
		if (!f || f->share != GX_SHARE_UNCONDITIONAL)
			return "conditional";
		asked++;
	}
	return asked ? "unconditional" : "not_shared";
}

static const char *state_name(int s)
{
	return s == REQ_GRANTED ? "granted" : s == REQ_DENIED ? "denied" : "pending";
}

static void flag(json_t *flags, const char *kind, const struct req *q,
		 const char *provider, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void flag(json_t *flags, const char *kind, const struct req *q,
		 const char *provider, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_t *f = json_object();
	json_object_set_new(f, "kind", json_string(kind));
	json_object_set_new(f, "request_id", json_string(q->id));
	json_object_set_new(f, "consumer", json_string(q->consumer));
	json_object_set_new(f, "item", json_string(q->item));
	json_object_set_new(f, "provider", provider ? json_string(provider) : json_null());
	json_object_set_new(f, "at", time_or_null(q->at));
	json_object_set_new(f, "detail", json_string(detail));
	json_array_append_new(flags, f);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double median(int64_t *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i64);
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

/* A duration for people: "45 s", "12 min", "5 h", "3 days". */
static const char *span(int64_t ms, char *out, size_t n)
{
	int64_t s = ms / 1000;
	if (s < 120)
		snprintf(out, n, "%lld s", (long long)s);
	else if (s < 7200)
		snprintf(out, n, "%lld min", (long long)(s / 60));
	else if (s < 172800)
		snprintf(out, n, "%lld h", (long long)(s / 3600));
	else
		snprintf(out, n, "%lld days", (long long)(s / 86400));
	return out;
}

/* "2024-03-16 00:00 UTC+08:00": a time in the report's zone. */
static void local_stamp(int64_t ms, int off_min, char *out, size_t n)
{
	time_t t = (time_t)floor_div(ms, 1000) + (time_t)off_min * 60;
	struct tm tm;
	char day[24];
	int a = off_min < 0 ? -off_min : off_min;
	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M", &tm);
	snprintf(out, n, "%s UTC%c%02d:%02d", day, off_min < 0 ? '-' : '+', a / 60,
		 a % 60);
}

/* A request belongs to the period when filed in it, answered in it, or
 * filed before its end and still unanswered. */
static int req_in_period(const gx_report_opts_t *o, const struct req *q)
{
	if (in_period(o, q->at))
		return 1;
	if (q->state != REQ_PENDING)
		return in_period(o, q->answered_at);
	return !o->to_ms || q->at <= o->to_ms;
}

static void build_requests(gx_report_t *r, json_t *model)
{
	const gx_report_opts_t *o = &r->o;
	json_t *list = json_array(), *flags = json_array();
	json_t *by_reason = json_object(), *by_provider = json_object();
	long total = 0, uncond = 0, cond = 0, notsh = 0, automatic = 0,
	     approved = 0, denied = 0, pending = 0, late_u = 0, late_c = 0,
	     no_reason = 0, denials = 0;
	int64_t *auto_ms = gx_calloc(r->nreqs + 1, sizeof(int64_t));
	int64_t *cond_wd = gx_calloc(r->nreqs + 1, sizeof(int64_t));
	size_t nauto = 0, ncond = 0;
	int64_t auto_max = 0, cond_max = 0;
	for (size_t i = 0; i < r->nreqs; i++) {
		const struct req *q = r->reqs[i];
		if (!req_in_period(o, q))
			continue;
		total++;
		const char *provider = provider_of(r, q->item);
		const char *kind = request_kind(r, q);
		int answered = q->state != REQ_PENDING;
		int64_t end = answered ? q->answered_at : o->now_ms;
		int flagged = 0;
		json_t *e = json_object();
		json_object_set_new(e, "request_id", json_string(q->id));
		json_object_set_new(e, "consumer", json_string(q->consumer));
		json_object_set_new(e, "item", json_string(q->item));
		json_object_set_new(e, "provider", provider ? json_string(provider) : json_null());
		json_object_set_new(e, "kind", json_string(kind));
		json_object_set_new(e, "state", json_string(state_name(q->state)));
		json_object_set_new(e, "at", time_or_null(q->at));
		json_object_set_new(e, "answered_at", answered ? time_or_null(q->answered_at)
							       : json_null());
		json_object_set_new(e, "answered_by", q->answered_by
				    ? json_string(q->answered_by) : json_null());
		json_object_set_new(e, "response_seconds", answered
				    ? json_real((double)(q->answered_at - q->at) / 1000)
				    : json_null());
		if (q->state == REQ_GRANTED) {
			json_object_set_new(e, "grant_id", json_string(q->grant_id ?: ""));
			json_object_set_new(e, "automatic", json_boolean(q->automatic));
		}
		if (q->state == REQ_GRANTED && q->automatic)
			automatic++;
		else if (q->state == REQ_GRANTED)
			approved++;
		else if (q->state == REQ_DENIED)
			denied++;
		else
			pending++;

		if (!strcmp(kind, "unconditional")) {
			uncond++;
			int64_t took = end - q->at;
			char dur[32];
			if (answered && q->automatic) {
				auto_ms[nauto++] = took;
				if (took > auto_max)
					auto_max = took;
			}
			if (took > GX_REPORT_AT_ONCE_MS) {
				flagged = 1;
				late_u++;
				if (answered)
					flag(flags, "unconditional_late", q, provider,
					     "%s %s after the request; unconditional "
					     "requests are granted at once",
					     q->state == REQ_DENIED ? "refused" : "granted",
					     span(took, dur, sizeof(dur)));
				else
					flag(flags, "unconditional_late", q, provider,
					     "still not granted %s after the request; "
					     "unconditional requests are granted at once",
					     span(took, dur, sizeof(dur)));
			}
		} else if (!strcmp(kind, "conditional")) {
			cond++;
			json_t *seen = json_object_get(r->first_seen, q->item);
			int on_exchange = seen && json_integer_value(seen) <= q->at;
			int limit = on_exchange ? o->conditional_days : o->offline_days;
			int64_t deadline = gx_working_deadline(q->at, limit, o->utc_offset_min);
			long wd = gx_working_days(q->at, end, o->utc_offset_min);
			json_object_set_new(e, "data_on_exchange", json_boolean(on_exchange));
			json_object_set_new(e, "limit_working_days", json_integer(limit));
			json_object_set_new(e, "deadline", time_or_null(deadline));
			json_object_set_new(e, "working_days", json_integer(wd));
			if (answered) {
				cond_wd[ncond++] = wd;
				if (wd > cond_max)
					cond_max = wd;
			}
			if (end >= deadline) {
				flagged = 1;
				late_c++;
				char dl[48];
				local_stamp(deadline, o->utc_offset_min, dl, sizeof(dl));
				flag(flags, "conditional_late", q, provider,
				     "%s after %ld working days; the limit is %d (%s) and "
				     "ended %s",
				     answered ? (q->state == REQ_DENIED ? "refused"
									 : "approved")
					      : "still unanswered",
				     wd, limit, on_exchange ? "data on the exchange"
							    : "data not yet on the exchange",
				     dl);
			}
		} else {
			notsh++;
		}
		if (q->state == REQ_DENIED && in_period(o, q->answered_at)) {
			denials++;
			int none = blank(q->reason);
			char *why = none ? gx_strdup("") : gx_strdup(q->reason);
			/* Group refusals that differ only in surrounding space. */
			char *s = why;
			while (isspace((unsigned char)*s))
				s++;
			size_t n = strlen(s);
			while (n && isspace((unsigned char)s[n - 1]))
				s[--n] = '\0';
			inc(by_reason, s, 1);
			inc(by_provider, q->answered_by ?: "?", 1);
			free(why);
			if (none) {
				no_reason++;
				flag(flags, "refusal_without_reason", q, provider,
				     "refused by %s without a reason (art. 12: a "
				     "refusal states its reason and legal basis)",
				     q->answered_by ?: "?");
				flagged = 1;
			}
			json_object_set_new(e, "reason", json_string(none ? "" : q->reason));
		}
		json_object_set_new(e, "flagged", json_boolean(flagged));
		json_array_append_new(list, e);
	}
	json_t *rq = json_object();
	json_object_set_new(rq, "total", json_integer(total));
	json_object_set_new(rq, "unconditional", json_integer(uncond));
	json_object_set_new(rq, "conditional", json_integer(cond));
	json_object_set_new(rq, "not_shared", json_integer(notsh));
	json_object_set_new(rq, "automatic", json_integer(automatic));
	json_object_set_new(rq, "approved", json_integer(approved));
	json_object_set_new(rq, "denied", json_integer(denied));
	json_object_set_new(rq, "pending", json_integer(pending));
	json_object_set_new(rq, "answered", json_integer(automatic + approved + denied));
	json_object_set_new(rq, "automatic_max_seconds", json_real((double)auto_max / 1000));
	json_object_set_new(rq, "automatic_median_seconds",
			    json_real(median(auto_ms, nauto) / 1000));
	json_object_set_new(rq, "conditional_answered", json_integer((json_int_t)ncond));
	json_object_set_new(rq, "conditional_median_working_days",
			    json_real(median(cond_wd, ncond)));
	json_object_set_new(rq, "conditional_max_working_days", json_integer(cond_max));
	json_object_set_new(rq, "list", list);
	json_object_set_new(model, "requests", rq);
	free(auto_ms);
	free(cond_wd);

	json_t *fl = json_object();
	json_object_set_new(fl, "total", json_integer((json_int_t)json_array_size(flags)));
	json_object_set_new(fl, "unconditional_late", json_integer(late_u));
	json_object_set_new(fl, "conditional_late", json_integer(late_c));
	json_object_set_new(fl, "refusal_without_reason", json_integer(no_reason));
	json_object_set_new(fl, "list", flags);
	json_object_set_new(model, "flags", fl);

	json_t *dn = json_object();
	json_object_set_new(dn, "total", json_integer(denials));
	json_object_set_new(dn, "without_reason", json_integer(no_reason));
	json_object_set_new(dn, "by_reason", count_rows(by_reason, "reason"));
	json_object_set_new(dn, "by_provider", count_rows(by_provider, "provider"));
	json_object_set_new(model, "denials", dn);
	json_decref(by_reason);
	json_decref(by_provider);
}

static void build_releases(gx_report_t *r, json_t *model)
{
	json_t *rel = json_object();
	json_object_set_new(rel, "messages", json_integer(r->dec_messages));
	json_object_set_new(rel, "decisions", json_integer(r->dec_entries));
	for (size_t i = 0; i < GX_ARRAY_SIZE(VERDICTS); i++)
		json_object_set_new(rel, VERDICTS[i],
				    json_integer(ji(r->verdicts, VERDICTS[i])));
	json_object_set_new(rel, "releases",
			    json_integer(ji(r->verdicts, "released") +
					 ji(r->verdicts, "partly_released")));
	json_object_set_new(rel, "by_consumer", verdict_rows(r->by_consumer, "consumer"));
	json_t *items = verdict_rows(r->by_item, "item");
	size_t i;
	json_t *row;
	json_array_foreach(items, i, row) {
		const char *p = provider_of(r, js(row, "item"));
		json_object_set_new(row, "provider", p ? json_string(p) : json_null());
	}
	json_object_set_new(rel, "by_item", items);
	/* consumer x item, flattened */
	size_t n = 0, k = 0;
	const char *c, *it;
	json_t *v, *w;
	json_object_foreach(r->by_pair, c, v)
		n += json_object_size(v);
	json_t **rows = gx_calloc(n + 1, sizeof(*rows));
	json_object_foreach(r->by_pair, c, v) {
		json_object_foreach(v, it, w) {
			json_t *pr = verdict_row(w);
			json_object_set_new(pr, "consumer", json_string(c));
			json_object_set_new(pr, "item", json_string(it));
			rows[k++] = pr;
		}
	}
	json_object_set_new(rel, "by_consumer_item", sorted(rows, k, "consumer"));
	json_object_set_new(rel, "not_released_by_reason",
			    count_rows(r->not_released, "reason"));
	json_object_set_new(model, "releases", rel);
}

static int cmp_until(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int64_t ux = ji(x, "sort"), uy = ji(y, "sort");
	if (ux != uy)
		return ux < uy ? -1 : 1;
	return strcmp(js(x, "grant_id"), js(y, "grant_id"));
}

static void build_grants(gx_report_t *r, json_t *model)
{
	const gx_report_opts_t *o = &r->o;
	long total = 0, live = 0, revoked = 0, expired = 0;
	size_t n = gx_approvals_grant_count(r->ap), k = 0;
	json_t **rows = gx_calloc(n + 1, sizeof(*rows));
	const gx_grant_t *g;
	for (size_t it = 0; (g = gx_approvals_next_grant(r->ap, &it));) {
		total++;
		if (g->revoked) {
			revoked++;
			continue;
		}
		if (!gx_grant_live(g, o->now_ms)) {
			if (g->until_ms && g->until_ms <= o->now_ms)
				expired++;
			continue;
		}
		live++;
		if (!g->until_ms || g->until_ms - o->now_ms > (int64_t)o->expiry_days * DAY_MS)
			continue;
		json_t *e = json_object();
		json_object_set_new(e, "grant_id", json_string(g->id));
		json_object_set_new(e, "request_id", json_string(g->request_id));
		json_object_set_new(e, "consumer", json_string(g->consumer));
		json_object_set_new(e, "item", json_string(g->item));
		const char *p = provider_of(r, g->item);
		json_object_set_new(e, "provider", p ? json_string(p) : json_null());
		json_object_set_new(e, "until", time_or_null(g->until_ms));
		json_object_set_new(e, "days_left",
				    json_integer((g->until_ms - o->now_ms + DAY_MS - 1) / DAY_MS));
		json_object_set_new(e, "automatic", json_boolean(g->automatic));
		json_object_set_new(e, "sort", json_integer(g->until_ms));
		rows[k++] = e;
	}
	qsort(rows, k, sizeof(*rows), cmp_until);
	json_t *near = json_array();
	for (size_t i = 0; i < k; i++) {
		json_object_del(rows[i], "sort");
		json_array_append_new(near, rows[i]);
	}
	free(rows);
	json_t *gr = json_object();
	json_object_set_new(gr, "total", json_integer(total));
	json_object_set_new(gr, "live", json_integer(live));
	json_object_set_new(gr, "revoked", json_integer(revoked));
	json_object_set_new(gr, "expired", json_integer(expired));
	json_object_set_new(gr, "near_expiry", near);
	json_object_set_new(model, "grants", gr);
}

static void build_rejected(gx_report_t *r, json_t *model)
{
	json_t *rj = json_object();
	json_object_set_new(rj, "total", json_integer(r->rejected));
	json_object_set_new(rj, "by_reason", count_rows(r->rej_reason, "reason"));
	json_object_set_new(rj, "by_program", count_rows(r->rej_by, "by"));
	json_t *pi = count_rows(r->rej_item, "key");
	size_t i;
	json_t *row;
	json_array_foreach(pi, i, row) {
		const char *key = js(row, "key");
		const char *us = strchr(key, '\x1f');
		char *prov = gx_strndup(key, (size_t)(us - key));
		json_object_set_new(row, "provider", *prov ? json_string(prov) : json_null());
		json_object_set_new(row, "item", us[1] ? json_string(us + 1) : json_null());
		json_object_del(row, "key");
		free(prov);
	}
	json_object_set_new(rj, "by_provider_item", pi);
	json_object_set_new(model, "ingest_refusals", rj);
}

struct chain_acc {
	json_t *kinds;
	json_t *first;
};

static void on_finding(void *opaque, json_t *f)
{
	struct chain_acc *a = opaque;
	inc(a->kinds, js(f, "kind") ?: "?", 1);
	if (json_array_size(a->first) < MAX_FINDINGS) {
		json_t *c = json_deep_copy(f);
		json_object_del(c, "recorded");
		json_object_del(c, "recomputed");
		json_array_append_new(a->first, c);
	}
}

static void build_chain(gx_report_t *r, json_t *model)
{
	gx_replay_filter_t f = {0};
	f.from_ms = r->o.from_ms;
	f.to_ms = r->o.to_ms;
	f.verifier = r->o.verifier;
	gx_replay_totals_t t;
	struct chain_acc a = {json_object(), json_array()};
	gx_replay_run(r->replay, &f, on_finding, &a, &t);
	json_t *ch = json_object();
	json_object_set_new(ch, "status", json_string(t.findings ? "findings" : "ok"));
	json_object_set_new(ch, "messages", json_integer(t.messages));
	json_object_set_new(ch, "decisions", json_integer(t.decisions));
	json_object_set_new(ch, "agreed", json_integer(t.agreed));
	json_object_set_new(ch, "checkpoints", json_integer(t.checkpoints));
	json_object_set_new(ch, "checkpoints_verified", json_integer(t.checkpoints_verified));
	json_object_set_new(ch, "signatures_checked", json_boolean(r->o.verifier != NULL));
	json_object_set_new(ch, "findings", json_integer(t.findings));
	json_object_set_new(ch, "findings_by_kind", count_rows(a.kinds, "kind"));
	json_object_set_new(ch, "first_findings", a.first);
	json_object_set_new(model, "chain", ch);
	json_decref(a.kinds);
}

/*
 * The model:
 *   {"generated_at":T,"period":{"from":T|null,"to":T|null},
 *    "limits":{"unconditional_seconds","conditional_working_days",
 *      "offline_working_days","expiry_days","utc_offset_minutes","note"},
 *    "requests":{"total","unconditional","conditional","not_shared",
 *      "automatic","approved","denied","pending","answered",
 *      "automatic_max_seconds","automatic_median_seconds",
 *      "conditional_answered","conditional_median_working_days",
 *      "conditional_max_working_days","list":[{request_id,consumer,item,
 *      provider,kind,state,at,answered_at,answered_by,response_seconds,
 *      [data_on_exchange,limit_working_days,deadline,working_days],
 *      [grant_id,automatic],[reason],flagged}]},
 *    "flags":{"total","unconditional_late","conditional_late",
 *      "refusal_without_reason","list":[{kind,request_id,consumer,item,
 *      provider,at,detail}]},
 *    "denials":{"total","without_reason","by_reason":[{reason,count}],
 *      "by_provider":[{provider,count}]},
 *    "releases":{"messages","decisions","released","partly_released",
 *      "withheld","denied","releases","by_consumer":[{consumer,released,
 *      partly_released,withheld,denied,releases,total}],"by_item":[...,
 *      item,provider],"by_consumer_item":[...],
 *      "not_released_by_reason":[{reason,count}]},
 *    "grants":{"total","live","revoked","expired","near_expiry":[{grant_id,
 *      request_id,consumer,item,provider,until,days_left,automatic}]},
 *    "ingest_refusals":{"total","by_reason":[{reason,count}],
 *      "by_program":[{by,count}],"by_provider_item":[{provider,item,count}]},
 *    "chain":{"status":"ok|findings","messages","decisions","agreed",
 *      "checkpoints","checkpoints_verified","signatures_checked","findings",
 *      "findings_by_kind":[{kind,count}],"first_findings":[...]},
 *    "unreadable":{"approvals","decisions","rejected"}}
 * Times are RFC 3339 UTC strings. Requests are those filed in the period,
 * answered in it, or filed before its end and still pending; denials,
 * releases and ingest refusals are those in the period; grants and pending
 * requests are judged as of now.
 */
json_t *gx_report_build(gx_report_t *r)
{
	const gx_report_opts_t *o = &r->o;
	json_t *m = json_object();
	json_object_set_new(m, "generated_at", time_or_null(o->now_ms));
	json_t *p = json_object();
	json_object_set_new(p, "from", time_or_null(o->from_ms));
	json_object_set_new(p, "to", time_or_null(o->to_ms));
	json_object_set_new(m, "period", p);
	json_t *l = json_object();
	json_object_set_new(l, "unconditional_seconds",
			    json_integer(GX_REPORT_AT_ONCE_MS / 1000));
	json_object_set_new(l, "conditional_working_days", json_integer(o->conditional_days));
	json_object_set_new(l, "offline_working_days", json_integer(o->offline_days));
	json_object_set_new(l, "expiry_days", json_integer(o->expiry_days));
	json_object_set_new(l, "utc_offset_minutes", json_integer(o->utc_offset_min));
	json_object_set_new(l, "note", json_string(
	    "working days are Monday to Friday; public holidays are not known "
	    "to govex and count as working days; the day of filing is not "
	    "counted"));
	json_object_set_new(m, "limits", l);
	build_requests(r, m);
	build_releases(r, m);
	build_grants(r, m);
	build_rejected(r, m);
	build_chain(r, m);
	json_t *u = json_object();
	json_object_set_new(u, "approvals", json_integer(r->bad_approvals));
	json_object_set_new(u, "decisions", json_integer(r->bad_decisions));
	json_object_set_new(u, "rejected", json_integer(r->bad_rejected));
	json_object_set_new(m, "unreadable", u);
	return m;
}

/* ---- HTML ---- */

void gx_html_escape(gx_buf_t *out, const char *s)
{
	static const char repl[] = "\xEF\xBF\xBD"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	const unsigned char *end = p + strlen((const char *)p);
	while (*p) {
		switch (*p) {
		case '&': gx_buf_append(out, "&amp;", 5); p++; continue;
		case '<': gx_buf_append(out, "&lt;", 4); p++; continue;
		case '>': gx_buf_append(out, "&gt;", 4); p++; continue;
		case '"': gx_buf_append(out, "&quot;", 6); p++; continue;
		case '\'': gx_buf_append(out, "&#39;", 5); p++; continue;
		case '\t': case '\n': gx_buf_putc(out, (char)*p); p++; continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7F) {
			gx_buf_append(out, repl, 3);
			p++;
			continue;
		}
		size_t n = gx_utf8_seq(p, (size_t)(end - p));
		if (!n) {
			gx_buf_append(out, repl, 3);
			p++;
			continue;
		}
		gx_buf_append(out, p, n);
		p += n;
	}
}

static void h(gx_buf_t *b, const char *s)
{
	gx_buf_append(b, s, strlen(s));
}

static void esc(gx_buf_t *b, const char *s)
{
	gx_html_escape(b, s);
}

/* An RFC 3339 time from the model in the report's zone, "-" if none. */
static void local_time(const char *rfc, int off_min, char *out, size_t n)
{
	int64_t ms;
	if (!rfc || gx_parse_time_ms(rfc, &ms)) {
		snprintf(out, n, "-");
		return;
	}
	time_t t = (time_t)floor_div(ms, 1000) + (time_t)off_min * 60;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M", &tm);
}

static void zone_name(int off_min, char *out, size_t n)
{
	int a = off_min < 0 ? -off_min : off_min;
	snprintf(out, n, "UTC%c%02d:%02d", off_min < 0 ? '-' : '+', a / 60, a % 60);
}

static void td(gx_buf_t *b, const char *s)
{
	h(b, "<td>");
	if (s && *s)
		esc(b, s);
	else
		h(b, "<span class=\"dim\">-</span>");
	h(b, "</td>");
}

/* An id (UUID): its first 8 characters, the whole in the title and for
 * search in the page. */
static void td_id(gx_buf_t *b, const char *id)
{
	id = id ? id : "";
	h(b, "<td class=\"id\" title=\"");
	esc(b, id);
	h(b, "\">");
	if (strlen(id) > 12) {
		char *s = gx_strndup(id, 8);
		esc(b, s);
		free(s);
		h(b, "…");
	} else {
		esc(b, id);
	}
	h(b, "</td>");
}

static void td_time(gx_buf_t *b, json_t *o, const char *k, int off)
{
	char t[40];
	local_time(js(o, k), off, t, sizeof(t));
	h(b, "<td class=\"t\">");
	esc(b, t);
	h(b, "</td>");
}

/* A count cell; key (escaped) lets a reader or a test find it. */
static void td_num(gx_buf_t *b, const char *key, json_int_t n)
{
	h(b, "<td class=\"n\" data-k=\"");
	esc(b, key);
	gx_buf_printf(b, "\">%lld</td>", (long long)n);
}

static void td_numk(gx_buf_t *b, const char *prefix, const char *name,
		    const char *field, json_int_t n)
{
	char *k = gx_asprintf("%s.%s.%s", prefix, name ?: "", field);
	td_num(b, k, n);
	free(k);
}

static void td_bar(gx_buf_t *b, json_int_t n, json_int_t max, const char *cls)
{
	double pct = max > 0 ? 100.0 * (double)n / (double)max : 0;
	gx_buf_printf(b, "<td class=\"barcell\"><span class=\"bar %s\" "
			 "style=\"width:%.1f%%\"></span></td>", cls, pct);
}

static const char *const VERDICT_LABEL[] = {
    "Released 全部共享", "Partly released 部分共享",
    "Withheld 暂扣", "Denied 拒绝"};

static void td_stack(gx_buf_t *b, json_t *row, json_int_t max)
{
	h(b, "<td class=\"barcell\"><div class=\"stack\">");
	for (size_t i = 0; i < GX_ARRAY_SIZE(VERDICTS); i++) {
		json_int_t n = ji(row, VERDICTS[i]);
		if (!n || max <= 0)
			continue;
		gx_buf_printf(b, "<span class=\"s-%s\" style=\"width:%.1f%%\" "
				 "title=\"%s: %lld\"></span>", VERDICTS[i],
			      100.0 * (double)n / (double)max, VERDICT_LABEL[i],
			      (long long)n);
	}
	h(b, "</div></td>");
}

static json_int_t max_of(json_t *rows, const char *k)
{
	json_int_t m = 0;
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		if (ji(r, k) > m)
			m = ji(r, k);
	}
	return m;
}

static void section(gx_buf_t *b, const char *id, const char *title)
{
	gx_buf_printf(b, "<section id=\"%s\"><h2>%s</h2>\n", id, title);
}

static const char *kind_label(const char *k)
{
	if (!strcmp(k, "unconditional_late"))
		return "Unconditional, not granted at once 无条件共享未即时授权";
	if (!strcmp(k, "conditional_late"))
		return "Conditional, answered late 有条件共享超期未答复";
	if (!strcmp(k, "refusal_without_reason"))
		return "Refusal without a reason 拒绝未说明理由";
	return k;
}

static const char *req_kind_label(const char *k)
{
	if (!strcmp(k ?: "", "unconditional"))
		return "Unconditional 无条件";
	if (!strcmp(k ?: "", "conditional"))
		return "Conditional 有条件";
	return "Not shared 不予共享";
}

static const char *state_label(const char *s)
{
	if (!strcmp(s ?: "", "granted"))
		return "Granted 已授权";
	if (!strcmp(s ?: "", "denied"))
		return "Refused 已拒绝";
	return "Pending 待处理";
}

/* A table of {name, count} rows with a bar each. */
static void count_table(gx_buf_t *b, const char *caption, const char *col,
			json_t *rows, const char *name, const char *keyprefix,
			const char *empty_name, const char *cls)
{
	gx_buf_printf(b, "<table><caption>%s</caption><thead><tr><th>%s</th>"
			 "<th class=\"n\">Count 次数</th><th></th></tr></thead><tbody>",
		      caption, col);
	json_int_t max = max_of(rows, "count");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		const char *v = js(r, name);
		h(b, "<tr>");
		if (v && *v)
			td(b, v);
		else
			gx_buf_printf(b, "<td><span class=\"tag bad\">%s</span></td>",
				      empty_name);
		td_numk(b, keyprefix, v, "count", ji(r, "count"));
		td_bar(b, ji(r, "count"), max, cls);
		h(b, "</tr>");
	}
	if (!json_array_size(rows))
		h(b, "<tr><td colspan=\"3\" class=\"dim\">None 无</td></tr>");
	h(b, "</tbody></table>\n");
}

/* Verdict counters per row, with a stacked bar; the row's key for data-k
 * is its members' values joined with '/'. */
static void verdict_table(gx_buf_t *b, const char *caption, json_t *rows,
			  const char *const *members, const char *const *labels,
			  size_t ncols, const char *keyprefix)
{
	gx_buf_printf(b, "<table><caption>%s</caption><thead><tr>", caption);
	for (size_t c = 0; c < ncols; c++)
		gx_buf_printf(b, "<th>%s</th>", labels[c]);
	for (size_t i = 0; i < GX_ARRAY_SIZE(VERDICT_LABEL); i++)
		gx_buf_printf(b, "<th class=\"n\">%s</th>", VERDICT_LABEL[i]);
	h(b, "<th class=\"n\">Releases 共享次数</th><th></th></tr></thead><tbody>");
	json_int_t max = max_of(rows, "total");
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		gx_buf_t key;
		gx_buf_init(&key);
		h(b, "<tr>");
		for (size_t c = 0; c < ncols; c++) {
			td(b, js(r, members[c]));
			gx_buf_printf(&key, "%s%s", c ? "/" : "", js(r, members[c]) ?: "");
		}
		gx_buf_cstr(&key);
		for (size_t v = 0; v < GX_ARRAY_SIZE(VERDICTS); v++)
			td_numk(b, keyprefix, key.data, VERDICTS[v], ji(r, VERDICTS[v]));
		td_numk(b, keyprefix, key.data, "releases", ji(r, "releases"));
		td_stack(b, r, max);
		h(b, "</tr>");
		gx_buf_free(&key);
	}
	if (!json_array_size(rows))
		gx_buf_printf(b, "<tr><td colspan=\"%zu\" class=\"dim\">None 无</td></tr>",
			      ncols + 6);
	h(b, "</tbody></table>\n");
}

static const char CSS[] =
"*{box-sizing:border-box}"
"body{margin:0;background:#f4f6f9;color:#1f2933;font:14px/1.5 \"Noto Sans CJK SC\","
"\"Source Han Sans SC\",\"PingFang SC\",\"Microsoft YaHei\",\"WenQuanYi Micro Hei\","
"system-ui,sans-serif}"
"header{background:#1d3557;color:#fff;padding:20px 32px}"
"header h1{margin:0 0 4px;font-size:22px;font-weight:600}"
"header .sub{margin:0 0 12px;opacity:.8}"
"dl.meta{display:flex;flex-wrap:wrap;gap:8px 32px;margin:0}"
"dl.meta dt{font-size:12px;opacity:.75}dl.meta dd{margin:0;font-weight:600}"
"main{max-width:1180px;margin:0 auto;padding:16px 24px 32px}"
".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));"
"gap:12px;margin:4px 0 8px}"
".card{background:#fff;border-radius:6px;padding:12px 16px;border-top:4px solid #457b9d;"
"box-shadow:0 1px 2px rgba(0,0,0,.08)}"
".card .v{font-size:28px;font-weight:600;font-variant-numeric:tabular-nums}"
".card .l{font-size:12px;color:#52606d}.card.bad{border-top-color:#d62828}"
".card.bad .v{color:#d62828}.card.ok{border-top-color:#2a9d8f}"
"section{background:#fff;border-radius:6px;margin:16px 0;padding:14px 20px 18px;"
"box-shadow:0 1px 2px rgba(0,0,0,.08)}"
"h2{font-size:17px;margin:0 0 10px;color:#1d3557}"
".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:8px 24px;"
"align-items:start}"
".scroll{overflow-x:auto}table.wide{font-size:13px}"
".small{display:block;font-size:12px;color:#7b8794;white-space:normal}"
"p.note{font-size:12px;color:#7b8794;margin:2px 0 8px}"
"table{border-collapse:collapse;width:100%;margin:6px 0 14px}"
"caption{text-align:left;font-weight:600;padding:4px 0;color:#334e68}"
"th,td{padding:5px 8px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}"
"th{background:#f0f4f8;font-weight:600;font-size:13px;white-space:nowrap}"
"tbody tr:nth-child(even) td{background:#fafbfc}"
"th.n,td.n{text-align:right;font-variant-numeric:tabular-nums}"
"td.t{white-space:nowrap;font-variant-numeric:tabular-nums}"
"td.id{font-family:ui-monospace,monospace;font-size:12px;white-space:nowrap}"
"td.barcell{width:28%;min-width:120px}"
".bar{display:inline-block;height:12px;border-radius:2px;background:#457b9d;"
"vertical-align:middle;min-width:1px}"
".bar.bad{background:#e76f51}.bar.ok{background:#2a9d8f}.bar.warn{background:#e9c46a}"
".stack{display:flex;height:12px;border-radius:2px;overflow:hidden;margin-top:4px}"
".stack span{display:block;height:100%}"
".s-released{background:#2a9d8f}.s-partly_released{background:#8ecae6}"
".s-withheld{background:#e9c46a}.s-denied{background:#e76f51}"
".legend span{display:inline-block;margin-right:14px;font-size:12px}"
".legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}"
"tr.flagged td{background:#fff1ef!important}"
".tag{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;white-space:nowrap}"
".tag.bad{background:#fde2e0;color:#a4161a}.tag.ok{background:#dcf2ee;color:#1b6b5f}"
".tag.warn{background:#fff3cd;color:#7a5a00}"
".dim{color:#9aa5b1}p.ok{color:#1b6b5f}"
"details summary{cursor:pointer;font-weight:600;color:#334e68;margin:6px 0}"
"footer{color:#52606d;font-size:12px;max-width:1180px;margin:0 auto;padding:0 24px 32px}"
"@media print{body{background:#fff}section,.card{box-shadow:none;border:1px solid #ddd}"
"details{display:block}}";

static void card(gx_buf_t *b, const char *cls, const char *value,
		 const char *label, const char *key, const char *note)
{
	gx_buf_printf(b, "<div class=\"card %s\"><div class=\"v\" data-k=\"%s\">", cls,
		      key);
	esc(b, value);
	gx_buf_printf(b, "</div><div class=\"l\">%s</div>", label);
	if (note) {
		h(b, "<div class=\"l\">");
		esc(b, note);
		h(b, "</div>");
	}
	h(b, "</div>\n");
}

static void html_flags(gx_buf_t *b, json_t *fl, int off)
{
	section(b, "flags", "Flags 需关注事项");
	json_t *list = json_object_get(fl, "list");
	if (!json_array_size(list)) {
		h(b, "<p class=\"ok\">Nothing to flag in this period. 本期未发现问题。</p>"
		     "</section>\n");
		return;
	}
	h(b, "<table><thead><tr><th>Kind 类型</th><th>Request 申请</th>"
	     "<th>Consumer 使用部门</th><th>Item 资源</th><th>Provider 提供部门</th>"
	     "<th>Filed 申请时间</th><th>Detail 说明</th></tr></thead><tbody>");
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f) {
		gx_buf_printf(b, "<tr class=\"flagged\"><td><span class=\"tag bad\">%s"
				 "</span></td>",
			      kind_label(js(f, "kind") ?: ""));
		td_id(b, js(f, "request_id"));
		td(b, js(f, "consumer"));
		td(b, js(f, "item"));
		td(b, js(f, "provider"));
		td_time(b, f, "at", off);
		td(b, js(f, "detail"));
		h(b, "</tr>");
	}
	h(b, "</tbody></table></section>\n");
}

static void html_requests(gx_buf_t *b, json_t *rq, json_t *limits, int off)
{
	section(b, "requests", "Requests and response time 共享申请与响应时间");
	h(b, "<div class=\"grid\">");
	struct {
		const char *k, *label, *cls;
	} rows[] = {
	    {"automatic", "Granted at once 自动授权", "ok"},
	    {"approved", "Approved by the provider 提供部门批准", "ok"},
	    {"denied", "Refused 拒绝", "bad"},
	    {"pending", "Pending 待处理", "warn"},
	};
	json_int_t max = 0;
	for (size_t i = 0; i < GX_ARRAY_SIZE(rows); i++)
		if (ji(rq, rows[i].k) > max)
			max = ji(rq, rows[i].k);
	h(b, "<table><caption>Outcome 处理结果</caption><thead><tr><th></th>"
	     "<th class=\"n\">Requests 申请数</th><th></th></tr></thead><tbody>");
	for (size_t i = 0; i < GX_ARRAY_SIZE(rows); i++) {
		char k[64];
		snprintf(k, sizeof(k), "requests.%s", rows[i].k);
		gx_buf_printf(b, "<tr><td>%s</td>", rows[i].label);
		td_num(b, k, ji(rq, rows[i].k));
		td_bar(b, ji(rq, rows[i].k), max, rows[i].cls);
		h(b, "</tr>");
	}
	h(b, "<tr><th>Total 合计</th>");
	td_num(b, "requests.total", ji(rq, "total"));
	h(b, "<td></td></tr></tbody></table>");

	h(b, "<table><caption>Response time 响应时间</caption><tbody>");
	h(b, "<tr><td>Unconditional requests 无条件共享申请</td>");
	td_num(b, "requests.unconditional", ji(rq, "unconditional"));
	gx_buf_printf(b, "</tr><tr><td>Granted at once: median / longest "
			 "自动授权用时 中位数 / 最长</td><td class=\"n\">%.1f s / %.1f s</td></tr>",
		      json_real_value(json_object_get(rq, "automatic_median_seconds")),
		      json_real_value(json_object_get(rq, "automatic_max_seconds")));
	h(b, "<tr><td>Conditional requests 有条件共享申请</td>");
	td_num(b, "requests.conditional", ji(rq, "conditional"));
	h(b, "</tr><tr><td>… answered 已答复</td>");
	td_num(b, "requests.conditional_answered", ji(rq, "conditional_answered"));
	gx_buf_printf(b, "</tr><tr><td>Answered in: median / longest, working days "
			 "答复用时 中位数 / 最长（工作日）</td><td class=\"n\">%.1f / %lld</td></tr>",
		      json_real_value(json_object_get(rq, "conditional_median_working_days")),
		      (long long)ji(rq, "conditional_max_working_days"));
	h(b, "<tr><td>Nothing requested may be shared 申请字段均不予共享</td>");
	td_num(b, "requests.not_shared", ji(rq, "not_shared"));
	gx_buf_printf(b, "</tr><tr><td>Limits 时限</td><td class=\"n\">at once 即时 "
			 "(&le; %lld s); %lld working days 个工作日; %lld where the data "
			 "is not yet on the exchange 数据尚未接入时</td></tr>",
		      (long long)ji(limits, "unconditional_seconds"),
		      (long long)ji(limits, "conditional_working_days"),
		      (long long)ji(limits, "offline_working_days"));
	h(b, "</tbody></table></div>");

	json_t *list = json_object_get(rq, "list");
	gx_buf_printf(b, "<details%s><summary>Every request 全部申请 (%zu)</summary>",
		      json_array_size(list) <= 200 ? " open" : "", json_array_size(list));
	h(b, "<div class=\"scroll\"><table class=\"wide\"><thead><tr><th>Request 申请</th>"
	     "<th>Consumer 使用部门</th><th>Item 资源</th><th>Provider 提供部门</th>"
	     "<th>Kind 类别</th><th>State 状态</th><th>Filed 申请时间</th>"
	     "<th>Answered 答复时间</th><th class=\"n\">Took 用时</th>"
	     "<th>Deadline 答复期限</th></tr></thead><tbody>");
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) {
		int fl = json_is_true(json_object_get(e, "flagged"));
		gx_buf_printf(b, "<tr%s>", fl ? " class=\"flagged\"" : "");
		td_id(b, js(e, "request_id"));
		td(b, js(e, "consumer"));
		td(b, js(e, "item"));
		td(b, js(e, "provider"));
		gx_buf_printf(b, "<td>%s</td>", req_kind_label(js(e, "kind")));
		const char *st = js(e, "state") ?: "";
		gx_buf_printf(b, "<td><span class=\"tag %s\">%s</span></td>",
			      !strcmp(st, "granted") ? "ok" : !strcmp(st, "denied") ? "bad"
										: "warn",
			      state_label(st));
		td_time(b, e, "at", off);
		td_time(b, e, "answered_at", off);
		json_t *secs = json_object_get(e, "response_seconds");
		json_t *wd = json_object_get(e, "working_days");
		if (json_is_integer(wd))
			gx_buf_printf(b, "<td class=\"n t\">%lld wd</td>",
				      (long long)json_integer_value(wd));
		else if (json_is_number(secs))
			gx_buf_printf(b, "<td class=\"n t\">%.1f s</td>", json_number_value(secs));
		else
			h(b, "<td class=\"n dim\">-</td>");
		if (json_object_get(e, "deadline")) {
			char t[40];
			local_time(js(e, "deadline"), off, t, sizeof(t));
			gx_buf_printf(b, "<td class=\"t\">%s<span class=\"small\">limit %lld "
					 "working days%s</span></td>",
				      t, (long long)ji(e, "limit_working_days"),
				      json_is_true(json_object_get(e, "data_on_exchange"))
					  ? "" : " · data not yet on the exchange 数据未接入");
		} else {
			h(b, "<td class=\"dim\">-</td>");
		}
		h(b, "</tr>");
	}
	if (!json_array_size(list))
		h(b, "<tr><td colspan=\"10\" class=\"dim\">None 无</td></tr>");
	h(b, "</tbody></table></div><p class=\"note\">wd: working days after the day of "
	     "filing 工作日（申请当日不计）; s: seconds 秒.</p></details></section>\n");
}

static void html_denials(gx_buf_t *b, json_t *dn)
{
	section(b, "denials", "Refusals 拒绝共享申请");
	h(b, "<div class=\"grid\">");
	count_table(b, "By reason 按拒绝理由", "Reason 理由",
		    json_object_get(dn, "by_reason"), "reason", "denials.reason",
		    "No reason given 未说明理由", "bad");
	count_table(b, "By provider 按部门", "Refused by 拒绝部门",
		    json_object_get(dn, "by_provider"), "provider", "denials.provider",
		    "?", "bad");
	h(b, "</div></section>\n");
}

static void html_releases(gx_buf_t *b, json_t *rel)
{
	section(b, "releases", "Releases 共享次数");
	h(b, "<p>Decisions in the period 本期共享决策: ");
	gx_buf_printf(b, "<b data-k=\"releases.decisions\">%lld</b>, of which released "
			 "or partly released 其中共享: <b data-k=\"releases.releases\">%lld</b>"
			 "</p>",
		      (long long)ji(rel, "decisions"), (long long)ji(rel, "releases"));
	h(b, "<p class=\"legend\">");
	for (size_t i = 0; i < GX_ARRAY_SIZE(VERDICTS); i++)
		gx_buf_printf(b, "<span><i class=\"s-%s\"></i>%s</span>", VERDICTS[i],
			      VERDICT_LABEL[i]);
	h(b, "</p>");
	static const char *const cm[] = {"consumer"};
	static const char *const cl[] = {"Consumer 使用部门"};
	verdict_table(b, "By consumer agency 按使用部门", json_object_get(rel, "by_consumer"),
		      cm, cl, 1, "releases.consumer");
	static const char *const im[] = {"item", "provider"};
	static const char *const il[] = {"Item 资源目录", "Provider 提供部门"};
	verdict_table(b, "By catalogue item 按资源目录", json_object_get(rel, "by_item"),
		      im, il, 2, "releases.item");
	static const char *const pm[] = {"consumer", "item"};
	static const char *const pl[] = {"Consumer 使用部门", "Item 资源目录"};
	verdict_table(b, "By consumer and item 按使用部门和资源",
		      json_object_get(rel, "by_consumer_item"), pm, pl, 2, "releases.pair");
	count_table(b, "Not released, by reason 未共享原因", "Reason code 原因代码",
		    json_object_get(rel, "not_released_by_reason"), "reason",
		    "releases.not_released", "?", "warn");
	h(b, "</section>\n");
}

static void html_grants(gx_buf_t *b, json_t *gr, json_t *limits, int off)
{
	gx_buf_printf(b, "<section id=\"grants\"><h2>Grants near expiry 即将到期的授权 "
			 "(within %lld days %lld 天内)</h2>",
		      (long long)ji(limits, "expiry_days"), (long long)ji(limits, "expiry_days"));
	h(b, "<p>");
	gx_buf_printf(b, "Live 有效 <b data-k=\"grants.live\">%lld</b> · Revoked 已撤销 "
			 "<b data-k=\"grants.revoked\">%lld</b> · Expired 已到期 "
			 "<b data-k=\"grants.expired\">%lld</b></p>",
		      (long long)ji(gr, "live"), (long long)ji(gr, "revoked"),
		      (long long)ji(gr, "expired"));
	json_t *near = json_object_get(gr, "near_expiry");
	h(b, "<table><thead><tr><th>Grant 授权</th><th>Consumer 使用部门</th>"
	     "<th>Item 资源</th><th>Provider 提供部门</th><th>Ends 截止时间</th>"
	     "<th class=\"n\">Days left 剩余天数</th><th></th></tr></thead><tbody>");
	json_int_t max = ji(limits, "expiry_days");
	size_t i;
	json_t *g;
	json_array_foreach(near, i, g) {
		h(b, "<tr>");
		td_id(b, js(g, "grant_id"));
		td(b, js(g, "consumer"));
		td(b, js(g, "item"));
		td(b, js(g, "provider"));
		td_time(b, g, "until", off);
		td_numk(b, "grants.near", js(g, "grant_id"), "days_left", ji(g, "days_left"));
		td_bar(b, ji(g, "days_left"), max, ji(g, "days_left") <= 7 ? "bad" : "warn");
		h(b, "</tr>");
	}
	if (!json_array_size(near))
		h(b, "<tr><td colspan=\"7\" class=\"dim\">None 无</td></tr>");
	h(b, "</tbody></table></section>\n");
}

static void html_rejected(gx_buf_t *b, json_t *rj)
{
	section(b, "ingest", "Records refused at ingest 入库拒收记录");
	gx_buf_printf(b, "<p>Refused in the period 本期拒收: <b data-k=\"ingest.total\">"
			 "%lld</b></p><div class=\"grid\">",
		      (long long)ji(rj, "total"));
	count_table(b, "By reason 按原因", "Reason 原因", json_object_get(rj, "by_reason"),
		    "reason", "ingest.reason", "?", "bad");
	count_table(b, "By program 按程序", "Refused by 拒收程序",
		    json_object_get(rj, "by_program"), "by", "ingest.by", "?", "bad");
	h(b, "</div>");
	json_t *pi = json_object_get(rj, "by_provider_item");
	h(b, "<table><caption>By provider and item 按提供部门和资源</caption><thead><tr>"
	     "<th>Provider 提供部门</th><th>Item 资源</th><th class=\"n\">Count 次数</th>"
	     "<th></th></tr></thead><tbody>");
	json_int_t max = max_of(pi, "count");
	size_t i;
	json_t *r;
	json_array_foreach(pi, i, r) {
		h(b, "<tr>");
		td(b, js(r, "provider"));
		td(b, js(r, "item"));
		char *k = gx_asprintf("%s/%s", js(r, "provider") ?: "", js(r, "item") ?: "");
		td_numk(b, "ingest.item", k, "count", ji(r, "count"));
		free(k);
		td_bar(b, ji(r, "count"), max, "bad");
		h(b, "</tr>");
	}
	if (!json_array_size(pi))
		h(b, "<tr><td colspan=\"4\" class=\"dim\">None 无</td></tr>");
	h(b, "</tbody></table></section>\n");
}

static void html_chain(gx_buf_t *b, json_t *ch)
{
	section(b, "chain", "Decision chain verification 决策链校验");
	int ok = !ji(ch, "findings");
	int sig = json_is_true(json_object_get(ch, "signatures_checked"));
	h(b, "<div class=\"grid\"><table><tbody>");
	gx_buf_printf(b, "<tr><td>Status 状态</td><td class=\"n\" data-k=\"chain.status\">"
			 "<span class=\"tag %s\">%s</span></td></tr>",
		      ok ? "ok" : "bad",
		      ok ? "OK: every chain whole, every decision agrees 全部一致"
			 : "Findings 发现问题");
	struct {
		const char *k, *label;
	} rows[] = {
	    {"messages", "Decision messages 决策消息"},
	    {"decisions", "Decisions recomputed 复核决策"},
	    {"agreed", "Agreed 一致"},
	    {"checkpoints", "Signed checkpoints 签名检查点"},
	    {"checkpoints_verified", "Signatures verified 已验签"},
	    {"findings", "Findings 问题"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(rows); i++) {
		char k[64];
		snprintf(k, sizeof(k), "chain.%s", rows[i].k);
		gx_buf_printf(b, "<tr><td>%s</td>", rows[i].label);
		td_num(b, k, ji(ch, rows[i].k));
		h(b, "</tr>");
	}
	if (!sig)
		h(b, "<tr><td colspan=\"2\"><span class=\"tag warn\">Signatures not checked: "
		     "no public key given (--pubkey) 未提供公钥，未验签</span></td></tr>");
	h(b, "</tbody></table>");
	count_table(b, "Findings by kind 按类型", "Kind 类型",
		    json_object_get(ch, "findings_by_kind"), "kind", "chain.kind", "?", "bad");
	h(b, "</div>");
	json_t *first = json_object_get(ch, "first_findings");
	if (json_array_size(first)) {
		h(b, "<table><caption>First findings 问题明细</caption><thead><tr>"
		     "<th>Kind 类型</th><th>Chain 链</th><th class=\"n\">Seq 序号</th>"
		     "<th>Record 记录</th><th>Consumer 使用部门</th><th>Detail 说明</th>"
		     "</tr></thead><tbody>");
		size_t i;
		json_t *f;
		json_array_foreach(first, i, f) {
			h(b, "<tr class=\"flagged\">");
			td(b, js(f, "kind"));
			td(b, js(f, "chain"));
			json_t *seq = json_object_get(f, "seq");
			if (json_is_integer(seq))
				gx_buf_printf(b, "<td class=\"n\">%lld</td>",
					      (long long)json_integer_value(seq));
			else
				h(b, "<td class=\"n dim\">-</td>");
			td_id(b, js(f, "record_id") ?: "-");
			td(b, js(f, "consumer"));
			td(b, js(f, "detail"));
			h(b, "</tr>");
		}
		h(b, "</tbody></table>");
	}
	h(b, "</section>\n");
}

void gx_report_html(json_t *m, gx_buf_t *b)
{
	json_t *limits = json_object_get(m, "limits");
	json_t *period = json_object_get(m, "period");
	json_t *rq = json_object_get(m, "requests"), *fl = json_object_get(m, "flags");
	json_t *dn = json_object_get(m, "denials"), *rel = json_object_get(m, "releases");
	json_t *gr = json_object_get(m, "grants"), *rj = json_object_get(m, "ingest_refusals");
	json_t *ch = json_object_get(m, "chain");
	int off = (int)ji(limits, "utc_offset_minutes");
	char from[40], to[40], gen[40], zone[16];
	local_time(js(period, "from"), off, from, sizeof(from));
	local_time(js(period, "to"), off, to, sizeof(to));
	local_time(js(m, "generated_at"), off, gen, sizeof(gen));
	zone_name(off, zone, sizeof(zone));
	const char *pf = js(period, "from") ? from : "the beginning 最早记录";
	const char *pt = js(period, "to") ? to : "now 当前";

	h(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
	     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	     "<title>Compliance report 合规报告 · ");
	esc(b, pf);
	h(b, " – ");
	esc(b, pt);
	h(b, "</title>\n<style>");
	h(b, CSS);
	h(b, "</style>\n</head>\n<body>\n<header>\n"
	     "<h1>Compliance report 政务数据共享合规报告</h1>\n"
	     "<p class=\"sub\">govex · art. 23 of the Shanxi measures on government data "
	     "《山西省政务数据管理与应用办法》第二十三条</p>\n<dl class=\"meta\">");
	h(b, "<div><dt>Period 统计期间</dt><dd>");
	esc(b, pf);
	h(b, " – ");
	esc(b, pt);
	h(b, "</dd></div><div><dt>Generated 生成时间</dt><dd>");
	esc(b, gen);
	h(b, "</dd></div><div><dt>Time zone 时区</dt><dd>");
	esc(b, zone);
	h(b, "</dd></div></dl>\n</header>\n<main>\n<div class=\"cards\">\n");

	char v[64], note[128];
	snprintf(v, sizeof(v), "%lld", (long long)ji(rq, "total"));
	snprintf(note, sizeof(note), "answered %lld · pending %lld",
		 (long long)ji(rq, "answered"), (long long)ji(rq, "pending"));
	card(b, "", v, "Requests 共享申请", "card.requests", note);
	snprintf(v, sizeof(v), "%lld", (long long)ji(fl, "total"));
	card(b, ji(fl, "total") ? "bad" : "ok", v, "Flags 需关注事项", "card.flags", NULL);
	snprintf(v, sizeof(v), "%lld", (long long)ji(rel, "releases"));
	card(b, "", v, "Releases 共享次数", "card.releases", NULL);
	snprintf(v, sizeof(v), "%lld", (long long)ji(dn, "total"));
	snprintf(note, sizeof(note), "without a reason %lld", (long long)ji(dn, "without_reason"));
	card(b, ji(dn, "without_reason") ? "bad" : "", v, "Refusals 拒绝申请", "card.denials",
	     note);
	snprintf(v, sizeof(v), "%lld", (long long)ji(gr, "live"));
	snprintf(note, sizeof(note), "%zu ending soon",
		 json_array_size(json_object_get(gr, "near_expiry")));
	card(b, "", v, "Live grants 有效授权", "card.grants", note);
	snprintf(v, sizeof(v), "%lld", (long long)ji(rj, "total"));
	card(b, "", v, "Refused at ingest 入库拒收", "card.ingest", NULL);
	int ok = !ji(ch, "findings");
	snprintf(v, sizeof(v), ok ? "OK" : "%lld", (long long)ji(ch, "findings"));
	card(b, ok ? "ok" : "bad", v, ok ? "Decision chain verified 决策链校验通过"
					 : "Chain findings 决策链问题",
	     "card.chain", NULL);
	h(b, "</div>\n");

	html_flags(b, fl, off);
	html_requests(b, rq, limits, off);
	html_denials(b, dn);
	html_releases(b, rel);
	html_grants(b, gr, limits, off);
	html_rejected(b, rj);
	html_chain(b, ch);

	json_t *u = json_object_get(m, "unreadable");
	h(b, "</main>\n<footer><p>");
	esc(b, js(limits, "note"));
	h(b, ". 工作日为周一至周五；govex 不掌握法定节假日，节假日按工作日计算；申请当日不计入期限。");
	gx_buf_printf(b, " Times in %s.", zone);
	if (ji(u, "approvals") || ji(u, "decisions") || ji(u, "rejected"))
		gx_buf_printf(b, " Unreadable messages left out 无法解析的消息: approvals %lld, "
				 "decisions %lld, rejected %lld.",
			      (long long)ji(u, "approvals"), (long long)ji(u, "decisions"),
			      (long long)ji(u, "rejected"));
	h(b, "</p><p>Generated by govex " GX_VERSION " from the exchange's topics; "
	     "this page is self-contained (no scripts, no external resources). "
	     "本页面由 govex 根据交换平台的主题数据生成，不含脚本或外部资源。</p></footer>\n"
	     "</body>\n</html>\n");
}
