/*
 * test_report.c - the compliance report (broker/lib/gx_report.c): working
 * days across weekends and time zones, the model's counts for a synthetic
 * set of catalogue, approvals, decisions and rejected messages (late
 * automatic grants, conditional answers late against 5 or 10 working
 * days, refusals without a reason, releases, grants near expiry, ingest
 * refusals, the chain's status), and HTML escaping in the page.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_approvals.h"
#include "gx_kafka.h"
#include "gx_report.h"
#include "gx_schema.h"

#define CST 480 /* UTC+08:00 */

static int64_t T(const char *rfc)
{
	int64_t ms;
	cr_assert_eq(gx_parse_time_ms(rfc, &ms), GX_OK, "%s", rfc);
	return ms;
}

/* ---- working days ---- */

Test(report, working_days_skip_weekends)
{
	/* 2024-03-04 is a Monday, 03-08 a Friday. */
	int64_t mon = T("2024-03-04T10:00:00+08:00");
	cr_expect_eq(gx_working_days(mon, T("2024-03-04T23:59:00+08:00"), CST), 0);
	cr_expect_eq(gx_working_days(mon, T("2024-03-05T00:00:00+08:00"), CST), 1);
	cr_expect_eq(gx_working_days(mon, T("2024-03-11T09:00:00+08:00"), CST), 5);
	cr_expect_eq(gx_working_days(mon, mon - 1000, CST), 0);
	int64_t fri = T("2024-03-08T10:00:00+08:00");
	cr_expect_eq(gx_working_days(fri, T("2024-03-09T12:00:00+08:00"), CST), 0, "Saturday");
	cr_expect_eq(gx_working_days(fri, T("2024-03-10T23:00:00+08:00"), CST), 0, "Sunday");
	cr_expect_eq(gx_working_days(fri, T("2024-03-11T08:00:00+08:00"), CST), 1, "Monday");
	cr_expect_eq(gx_working_days(fri, T("2024-03-22T08:00:00+08:00"), CST), 10);
	/* Filed on a Saturday: Monday is the first working day after it. */
	int64_t sat = T("2024-03-09T10:00:00+08:00");
	cr_expect_eq(gx_working_days(sat, T("2024-03-11T10:00:00+08:00"), CST), 1);
	/* Across the epoch: Monday 1969-12-29 to Friday 1970-01-02. */
	cr_expect_eq(gx_working_days(T("1969-12-29T12:00:00Z"), T("1970-01-02T12:00:00Z"), 0), 4);
	/* Four weeks. */
	cr_expect_eq(gx_working_days(mon, T("2024-04-01T10:00:00+08:00"), CST), 20);
}

Test(report, deadline_is_the_end_of_the_nth_working_day_after_filing)
{
	/* Monday + 5: the end of the next Monday. */
	cr_expect_eq(gx_working_deadline(T("2024-03-04T10:00:00+08:00"), 5, CST),
		     T("2024-03-12T00:00:00+08:00"));
	/* Friday + 5: the end of the next Friday. */
	cr_expect_eq(gx_working_deadline(T("2024-03-08T23:30:00+08:00"), 5, CST),
		     T("2024-03-16T00:00:00+08:00"));
	/* Wednesday + 10: two weeks on. */
	cr_expect_eq(gx_working_deadline(T("2024-03-06T08:00:00+08:00"), 10, CST),
		     T("2024-03-21T00:00:00+08:00"));
	/* Filed on a Sunday: the first working day is Monday. */
	cr_expect_eq(gx_working_deadline(T("2024-03-10T08:00:00+08:00"), 1, CST),
		     T("2024-03-12T00:00:00+08:00"));
	/* The zone decides the day: Friday 17:00 UTC is Saturday in Beijing,
	 * so one working day ends with Monday in either zone, but at
	 * different instants. */
	int64_t t = T("2024-03-08T17:00:00Z");
	cr_expect_eq(gx_working_deadline(t, 1, CST), T("2024-03-11T16:00:00Z"));
	cr_expect_eq(gx_working_deadline(t, 1, 0), T("2024-03-12T00:00:00Z"));
	/* Thursday 20:00 UTC to Friday 10:00 UTC: the next day in UTC, the
	 * same Friday in Beijing. */
	cr_expect_eq(gx_working_days(T("2024-03-07T20:00:00Z"), T("2024-03-08T10:00:00Z"), 0), 1);
	cr_expect_eq(gx_working_days(T("2024-03-07T20:00:00Z"), T("2024-03-08T10:00:00Z"), CST), 0);
	/* n = 0: the day of filing itself. */
	cr_expect_eq(gx_working_deadline(T("2024-03-04T10:00:00+08:00"), 0, CST),
		     T("2024-03-05T00:00:00+08:00"));
}

/* ---- the model ---- */

static gx_schemas_t *schemas;
static gx_report_t *rep;
static int64_t off;

static const char CATALOG[] =
    "{\"item\": \"%s\", \"name\": \"人口基础信息\", \"library\": \"population\","
    " \"provider\": \"SX-GA\", \"fields\": ["
    " {\"name\": \"citizen_id\", \"share\": \"conditional\", \"legal_basis\": \"b1\"},"
    " {\"name\": \"name\", \"share\": \"unconditional\"},"
    " {\"name\": \"sex\", \"share\": \"unconditional\"},"
    " {\"name\": \"address\", \"share\": \"conditional\", \"legal_basis\": \"b2\"},"
    " {\"name\": \"marital_status\", \"share\": \"none\", \"legal_basis\": \"b3\"}]}";

static void catalog(const char *item)
{
	char *s = gx_asprintf(CATALOG, item);
	gx_report_add_catalog(rep, off++, item, strlen(item), s, strlen(s));
	free(s);
}

static void event(json_t *e)
{
	char *s = json_dumps(e, JSON_COMPACT);
	gx_report_add_approval(rep, off++, s, strlen(s));
	free(s);
	json_decref(e);
}

static void request(const char *rid, const char *consumer, const char *item,
		    const char *fields, const char *at)
{
	gx_strv_t f;
	gx_strv_init(&f);
	gx_strv_split(&f, fields);
	event(gx_event_request(rid, consumer, item, &f, "核验", "《办法》", 0, T(at)));
	gx_strv_free(&f);
}

static void approve(const char *rid, const char *gid, const char *fields,
		    int automatic, const char *at, const char *until)
{
	gx_strv_t f;
	gx_strv_init(&f);
	gx_strv_split(&f, fields);
	event(gx_event_approve(rid, gid, &f, until ? T(until) : 0, automatic,
			       automatic ? "govex" : "SX-GA", T(at)));
	gx_strv_free(&f);
}

static void deny(const char *rid, const char *reason, const char *by, const char *at)
{
	json_t *e = gx_event_deny(rid, reason ? reason : "", by, T(at));
	if (!reason)
		json_object_del(e, "reason");
	event(e);
}

static void decision(const char *item, const char *at, const char *decs)
{
	char *s = gx_asprintf("{\"chain\":\"population/0\",\"seq\":%lld,\"prev\":\"x\","
			      "\"record_id\":\"r%lld\",\"item\":\"%s\",\"provider\":\"SX-GA\","
			      "\"at\":%lld,\"catalog_offset\":0,\"approvals_offset\":0,"
			      "\"decisions\":[%s],\"hash\":\"y\"}",
			      (long long)off, (long long)off, item, (long long)T(at), decs);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	gx_report_add_decision(rep, 0, off++, s, strlen(s));
	free(s);
}

#define DEC(consumer, verdict, reason)                                       \
	"{'consumer':'" consumer "','verdict':'" verdict "','reason':'" reason \
	"','grant_id':'g','released':[]}"

static void rejected(const char *by, const char *reason, const char *at)
{
	json_t *j = gx_rejected_json(by, reason, "detail", "a.csv:2", "SX-GA", "POP-1",
				    NULL, T(at));
	char *s = json_dumps(j, JSON_COMPACT);
	gx_report_add_rejected(rep, 0, off++, s, strlen(s));
	free(s);
	json_decref(j);
}

/*
 * The period is March 2024 in Beijing; the report is made on Friday
 * 2024-03-22 at noon. POP-1 has data on the exchange from 03-03 on, POP-2
 * only from 03-14 on.
 */
static json_t *scenario(int offline_days, const char *hostile)
{
	char err[256];
	cr_assert_eq(gx_schemas_new(&schemas, err, sizeof(err)), GX_OK, "%s", err);
	gx_report_opts_t o = {0};
	o.from_ms = T("2024-03-01T00:00:00+08:00") + 3 * 86400000LL; /* 03-04 */
	o.to_ms = T("2024-03-31T23:59:59+08:00");
	o.now_ms = T("2024-03-22T12:00:00+08:00");
	o.conditional_days = 5;
	o.offline_days = offline_days;
	o.expiry_days = 30;
	o.utc_offset_min = CST;
	rep = gx_report_new(schemas, &o);
	off = 0;
	catalog("POP-1");
	catalog("POP-2");

	/* Granted at once, and granted five minutes late. */
	request("R1", "SX-MZ", "POP-1", "name,sex", "2024-03-04T10:00:00+08:00");
	approve("R1", "G1", "name,sex", 1, "2024-03-04T10:00:01+08:00", NULL);
	request("R2", "SX-WJ", "POP-1", "name", "2024-03-04T10:00:00+08:00");
	approve("R2", "G2", "name", 1, "2024-03-04T10:05:00+08:00", "2024-04-01T12:00:00+08:00");
	/* Filed on a Friday: answered on the 5th working day (in time) and
	 * on the 6th (late). */
	request("R3", "SX-RS", "POP-1", "citizen_id,name", "2024-03-08T10:00:00+08:00");
	approve("R3", "G3", "citizen_id", 0, "2024-03-15T18:00:00+08:00", "2024-05-01T12:00:00+08:00");
	request("R4", "SX-JY", "POP-1", "citizen_id", "2024-03-08T10:00:00+08:00");
	deny("R4", "涉及国家秘密", "SX-GA", "2024-03-18T09:00:00+08:00");
	/* POP-2 had no data yet: 7 working days is within 10. */
	request("R5", hostile ? hostile : "SX-FG", "POP-2", "citizen_id", "2024-03-04T10:00:00+08:00");
	approve("R5", "G5", "citizen_id", 0, "2024-03-13T12:00:00+08:00", NULL);
	event(gx_event_revoke("R5", "G5", "到期", "SX-GA", T("2024-03-20T09:00:00+08:00")));
	/* Refused the next day without a reason; refused with blanks only. */
	request("R6", "SX-GT", "POP-1", "citizen_id", "2024-03-04T10:00:00+08:00");
	deny("R6", NULL, "SX-GA", "2024-03-05T10:00:00+08:00");
	request("R11", "SX-GT", "POP-1", "address", "2024-03-19T10:00:00+08:00");
	deny("R11", hostile ? hostile : "  \t", "SX-GA", "2024-03-19T15:00:00+08:00");
	/* Pending: 4 working days (in time); pending since before the period
	 * (late); an unconditional request never granted. */
	request("R7", "SX-ZJ", "POP-1", "address", "2024-03-18T10:00:00+08:00");
	request("R8", "SX-SW", "POP-1", "address,name", "2024-03-01T10:00:00+08:00");
	request("R12", "SX-TJ", "POP-1", "name", "2024-03-20T10:00:00+08:00");
	/* Nothing shareable: the exchange refuses at once. */
	json_t *rq = json_pack("{s:s,s:s,s:s,s:s,s:[s],s:s,s:s,s:n,s:s,s:I,s:[{s:s,s:s}]}",
			       "type", "request", "request_id", "R10", "consumer", "SX-MZ",
			       "item", "POP-1", "fields", "marital_status", "purpose", "p",
			       "basis", "b", "until", "actor", "SX-MZ", "at",
			       (json_int_t)T("2024-03-05T11:00:00+08:00"), "refused",
			       "field", "marital_status", "legal_basis", "b3");
	event(rq);
	deny("R10", "every requested field is not shared (art. 12)", "govex",
	     "2024-03-05T11:00:00+08:00");
	/* Before the period, answered before it: left out. */
	request("R9", "SX-OLD", "POP-1", "name", "2024-02-01T10:00:00+08:00");
	approve("R9", "G9", "name", 1, "2024-02-01T10:00:00+08:00", "2024-03-01T00:00:00+08:00");
	/* Not an event the exchange accepts: counted, left out. */
	gx_report_add_approval(rep, off++, "{\"type\":\"deny\"}", 15);

	decision("POP-1", "2024-03-03T10:00:00+08:00", DEC("SX-MZ", "released", "granted"));
	decision("POP-1", "2024-03-05T10:00:00+08:00",
		 DEC("SX-MZ", "released", "granted") "," DEC("SX-WJ", "partly_released", "granted_partial"));
	decision("POP-1", "2024-03-16T10:00:00+08:00",
		 DEC("SX-MZ", "released", "granted") "," DEC("SX-RS", "partly_released", "granted_partial")
		 "," DEC("SX-WJ", "withheld", "no_field_allowed"));
	decision("POP-2", "2024-03-14T10:00:00+08:00", DEC("SX-FG", "partly_released", "granted_partial"));
	const char *cp = "{\"checkpoint\":\"population/0\",\"seq\":1,\"head\":\"x\",\"at\":1}";
	gx_report_add_decision(rep, 0, off++, cp, strlen(cp));

	rejected("govex-adapter", "invalid_value", "2024-03-06T10:00:00+08:00");
	rejected("govex-adapter", "invalid_value", "2024-03-07T10:00:00+08:00");
	rejected("govex-broker", "unknown_item", "2024-03-07T11:00:00+08:00");
	rejected("govex-adapter", "wrong_column_count", "2024-02-07T11:00:00+08:00");
	gx_report_add_rejected(rep, 0, off++, "not json", 8);

	json_t *m = gx_report_build(rep);
	gx_report_destroy(rep);
	gx_schemas_destroy(schemas);
	return m;
}

static long long at(json_t *m, const char *path)
{
	char *p = gx_strdup(path), *save = NULL;
	json_t *v = m;
	for (char *k = strtok_r(p, ".", &save); k; k = strtok_r(NULL, ".", &save))
		v = json_object_get(v, k);
	cr_assert(json_is_integer(v), "%s is not an integer", path);
	free(p);
	return (long long)json_integer_value(v);
}

/* The row of array path whose member k is v. */
static json_t *row(json_t *m, const char *sect, const char *arr, const char *k,
		   const char *v)
{
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(json_object_get(m, sect), arr), i, r) {
		if (!strcmp(json_string_value(json_object_get(r, k)) ?: "", v))
			return r;
	}
	cr_assert_fail("no %s.%s row with %s = '%s'", sect, arr, k, v);
	return NULL;
}

static int flagged(json_t *m, const char *kind, const char *rid)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(json_object_get(m, "flags"), "list"), i, f) {
		if (!strcmp(json_string_value(json_object_get(f, "kind")), kind) &&
		    !strcmp(json_string_value(json_object_get(f, "request_id")), rid))
			return 1;
	}
	return 0;
}

Test(report, model_counts)
{
	json_t *m = scenario(10, NULL);
	cr_expect_eq(at(m, "requests.total"), 11);
	cr_expect_eq(at(m, "requests.automatic"), 2);
	cr_expect_eq(at(m, "requests.approved"), 2);
	cr_expect_eq(at(m, "requests.denied"), 4);
	cr_expect_eq(at(m, "requests.pending"), 3);
	cr_expect_eq(at(m, "requests.answered"), 8);
	cr_expect_eq(at(m, "requests.unconditional"), 3);
	cr_expect_eq(at(m, "requests.conditional"), 7);
	cr_expect_eq(at(m, "requests.not_shared"), 1);
	cr_expect_eq(at(m, "requests.conditional_answered"), 5);
	cr_expect_eq(at(m, "requests.conditional_max_working_days"), 7);
	json_t *rq = json_object_get(m, "requests");
	cr_expect_float_eq(json_real_value(json_object_get(rq, "conditional_median_working_days")),
			   5.0, 1e-9);
	cr_expect_float_eq(json_real_value(json_object_get(rq, "automatic_max_seconds")),
			   300.0, 1e-9);
	cr_expect_float_eq(json_real_value(json_object_get(rq, "automatic_median_seconds")),
			   150.5, 1e-9);

	cr_expect_eq(at(m, "flags.total"), 6);
	cr_expect_eq(at(m, "flags.unconditional_late"), 2);
	cr_expect_eq(at(m, "flags.conditional_late"), 2);
	cr_expect_eq(at(m, "flags.refusal_without_reason"), 2);
	cr_expect(flagged(m, "unconditional_late", "R2"));
	cr_expect(flagged(m, "unconditional_late", "R12"));
	cr_expect(flagged(m, "conditional_late", "R4"), "6 working days after a Friday");
	cr_expect(flagged(m, "conditional_late", "R8"), "pending since before the period");
	cr_expect(!flagged(m, "conditional_late", "R3"), "the 5th working day is in time");
	cr_expect(!flagged(m, "conditional_late", "R5"), "10 days: data not yet on the exchange");
	cr_expect(!flagged(m, "conditional_late", "R7"));
	cr_expect(flagged(m, "refusal_without_reason", "R6"));
	cr_expect(flagged(m, "refusal_without_reason", "R11"));

	json_t *r3 = row(m, "requests", "list", "request_id", "R3");
	cr_expect_eq(json_integer_value(json_object_get(r3, "working_days")), 5);
	cr_expect_eq(json_integer_value(json_object_get(r3, "limit_working_days")), 5);
	cr_expect(json_is_true(json_object_get(r3, "data_on_exchange")));
	cr_expect_str_eq(json_string_value(json_object_get(r3, "deadline")),
			 "2024-03-15T16:00:00.000Z");
	json_t *r5 = row(m, "requests", "list", "request_id", "R5");
	cr_expect_eq(json_integer_value(json_object_get(r5, "working_days")), 7);
	cr_expect_eq(json_integer_value(json_object_get(r5, "limit_working_days")), 10);
	cr_expect(json_is_false(json_object_get(r5, "data_on_exchange")));
	json_t *r4 = row(m, "requests", "list", "request_id", "R4");
	cr_expect_eq(json_integer_value(json_object_get(r4, "working_days")), 6);
	cr_expect_str_eq(json_string_value(json_object_get(
			     row(m, "requests", "list", "request_id", "R10"), "kind")),
			 "not_shared");

	cr_expect_eq(at(m, "denials.total"), 4);
	cr_expect_eq(at(m, "denials.without_reason"), 2);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "denials", "by_reason", "reason", ""), "count")), 2);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "denials", "by_reason", "reason", "涉及国家秘密"), "count")), 1);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "denials", "by_provider", "provider", "SX-GA"), "count")), 3);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "denials", "by_provider", "provider", "govex"), "count")), 1);

	cr_expect_eq(at(m, "releases.messages"), 3, "one decision was before the period");
	cr_expect_eq(at(m, "releases.decisions"), 6);
	cr_expect_eq(at(m, "releases.released"), 2);
	cr_expect_eq(at(m, "releases.partly_released"), 3);
	cr_expect_eq(at(m, "releases.withheld"), 1);
	cr_expect_eq(at(m, "releases.releases"), 5);
	json_t *mz = row(m, "releases", "by_consumer", "consumer", "SX-MZ");
	cr_expect_eq(json_integer_value(json_object_get(mz, "released")), 2);
	json_t *wj = row(m, "releases", "by_consumer", "consumer", "SX-WJ");
	cr_expect_eq(json_integer_value(json_object_get(wj, "partly_released")), 1);
	cr_expect_eq(json_integer_value(json_object_get(wj, "withheld")), 1);
	cr_expect_eq(json_integer_value(json_object_get(wj, "releases")), 1);
	json_t *p1 = row(m, "releases", "by_item", "item", "POP-1");
	cr_expect_eq(json_integer_value(json_object_get(p1, "releases")), 4);
	cr_expect_str_eq(json_string_value(json_object_get(p1, "provider")), "SX-GA");
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "releases", "not_released_by_reason", "reason", "no_field_allowed"),
			 "count")), 1);
	cr_expect_eq(json_array_size(json_object_get(json_object_get(m, "releases"),
						     "by_consumer_item")), 4);
	/* Largest first. */
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(
			     json_object_get(m, "releases"), "by_consumer"), 0), "consumer")),
			 "SX-MZ");

	cr_expect_eq(at(m, "grants.total"), 5);
	cr_expect_eq(at(m, "grants.live"), 3);
	cr_expect_eq(at(m, "grants.revoked"), 1);
	cr_expect_eq(at(m, "grants.expired"), 1);
	json_t *near = json_object_get(json_object_get(m, "grants"), "near_expiry");
	cr_assert_eq(json_array_size(near), 1);
	cr_expect_str_eq(json_string_value(json_object_get(json_array_get(near, 0), "grant_id")), "G2");
	cr_expect_eq(json_integer_value(json_object_get(json_array_get(near, 0), "days_left")), 10);

	cr_expect_eq(at(m, "ingest_refusals.total"), 3);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "ingest_refusals", "by_reason", "reason", "invalid_value"), "count")), 2);
	cr_expect_eq(json_integer_value(json_object_get(
			 row(m, "ingest_refusals", "by_program", "by", "govex-broker"), "count")), 1);
	cr_expect_eq(at(m, "unreadable.rejected"), 1);
	cr_expect_eq(at(m, "unreadable.approvals"), 1);

	/* The chain: four decision messages and a checkpoint, replayed; these
	 * hand-made ones are not really chained, which replay says. */
	cr_expect_eq(at(m, "chain.messages"), 4);
	cr_expect_eq(at(m, "chain.checkpoints"), 1);
	cr_expect_gt(at(m, "chain.findings"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(m, "chain"), "status")),
			 "findings");
	cr_expect(json_is_false(json_object_get(json_object_get(m, "chain"), "signatures_checked")));
	json_decref(m);
}

Test(report, offline_limit_is_configurable)
{
	json_t *m = scenario(5, NULL);
	cr_expect_eq(at(m, "flags.conditional_late"), 3);
	cr_expect(flagged(m, "conditional_late", "R5"), "7 working days > 5");
	json_decref(m);
}

/* ---- HTML ---- */

static char *esc(const char *s)
{
	gx_buf_t b;
	gx_buf_init(&b);
	gx_html_escape(&b, s);
	char *r = gx_strdup(gx_buf_cstr(&b));
	gx_buf_free(&b);
	return r;
}

Test(report, html_escape)
{
	struct {
		const char *in, *out;
	} v[] = {
	    {"plain", "plain"},
	    {"<script>alert(\"x\")</script>", "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"},
	    {"a&b 'c'", "a&amp;b &#39;c&#39;"},
	    {"人口基础信息 SX-GA", "人口基础信息 SX-GA"},
	    {"tab\tnl\n", "tab\tnl\n"},
	    {"\x01\x7f", "\xEF\xBF\xBD\xEF\xBF\xBD"},
	    {"bad\xff", "bad\xEF\xBF\xBD"},
	    {"cut\xe4\xb8", "cut\xEF\xBF\xBD\xEF\xBF\xBD"},
	    {"over\xc0\xaf", "over\xEF\xBF\xBD\xEF\xBF\xBD"},
	    {"sur\xed\xa0\x80", "sur\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},
	    {"emoji \xf0\x9f\x98\x80", "emoji \xf0\x9f\x98\x80"},
	    {"", ""},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(v); i++) {
		char *got = esc(v[i].in);
		cr_expect_str_eq(got, v[i].out, "case %zu", i);
		free(got);
	}
	char *n = esc(NULL);
	cr_expect_str_eq(n, "");
	free(n);
}

Test(report, html_page_escapes_every_value_and_is_self_contained)
{
	const char *evil = "<img src=x onerror=alert(1)>\"'&";
	json_t *m = scenario(10, evil);
	gx_buf_t b;
	gx_buf_init(&b);
	gx_report_html(m, &b);
	const char *h = gx_buf_cstr(&b);
	cr_expect(!strncmp(h, "<!DOCTYPE html>", 15));
	cr_expect(strstr(h, "<html lang=\"zh-CN\">"));
	cr_expect(strstr(h, "<meta charset=\"utf-8\">"));
	cr_expect(strstr(h, "Releases 共享次数"));
	cr_expect(!strstr(h, "<img"), "a value reached the page unescaped");
	cr_expect(!strstr(h, "<script"), "no scripts");
	cr_expect(!strstr(h, "http://") && !strstr(h, "https://") && !strstr(h, "url("),
		  "no external resources");
	cr_expect(strstr(h, "&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;"));
	/* Counts sit in cells a reader (or a test) can find. */
	cr_expect(strstr(h, "data-k=\"requests.total\">11</td>"));
	cr_expect(strstr(h, "data-k=\"requests.pending\">3</td>"));
	cr_expect(strstr(h, "data-k=\"releases.consumer.SX-MZ.released\">2</td>"));
	cr_expect(strstr(h, "data-k=\"ingest.reason.invalid_value.count\">2</td>"));
	cr_expect(strstr(h, "data-k=\"denials.reason..count\">1</td>"),
		  "the blank refusal and the hostile one are grouped apart");
	/* The period in Beijing time. */
	cr_expect(strstr(h, "2024-03-04 00:00 – 2024-03-31 23:59"));
	/* Every tag that opens a table closes it. */
	size_t open = 0, close = 0;
	for (const char *p = h; (p = strstr(p, "<table")); p++)
		open++;
	for (const char *p = h; (p = strstr(p, "</table>")); p++)
		close++;
	cr_expect_eq(open, close);
	cr_expect_gt(open, 8);
	gx_buf_free(&b);
	json_decref(m);
}
