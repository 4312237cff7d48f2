/*
 * test_time.c - calendar dates and RFC 3339 timestamps (gx.h, gx_mem.c):
 * every date and timestamp on the wire goes through these.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "gx.h"

/* Days since 1970-01-01, computed independently (Python's datetime). */
static const struct {
	const char *date;
	int32_t days;
} anchors[] = {
    {"1970-01-01", 0},	     {"1969-12-31", -1},
    {"1990-03-07", 7370},    {"2000-03-01", 11017},
    {"2024-02-29", 19782},   {"1900-01-01", -25567},
    {"1850-01-01", -43829},  {"0001-01-01", -719162},
    {"9999-12-31", 2932896},
};

Test(time, parse_date_known_days)
{
	for (size_t i = 0; i < GX_ARRAY_SIZE(anchors); i++) {
		int32_t d = 12345;
		cr_assert_eq(gx_parse_date(anchors[i].date, &d), GX_OK, "%s",
			     anchors[i].date);
		cr_assert_eq(d, anchors[i].days, "%s: %d days, want %d",
			     anchors[i].date, d, anchors[i].days);
	}
}

Test(time, parse_date_leap_years)
{
	int32_t d;
	cr_assert_eq(gx_parse_date("2024-02-29", &d), GX_OK, "divisible by 4");
	cr_assert_eq(gx_parse_date("2000-02-29", &d), GX_OK, "divisible by 400");
	cr_assert_eq(gx_parse_date("2023-02-29", &d), GX_ERR_INVALID,
		     "2023 is not a leap year");
	cr_assert_eq(gx_parse_date("1900-02-29", &d), GX_ERR_INVALID,
		     "1900 is divisible by 100, not 400");
	cr_assert_eq(gx_parse_date("2023-02-28", &d), GX_OK);
	cr_assert_eq(gx_parse_date("2024-02-30", &d), GX_ERR_INVALID);
}

Test(time, parse_date_refuses_malformed)
{
	static const char *bad[] = {
	    "",		  "2024-1-01",	 "2024-01-1",	"24-01-01",
	    "2024/01/01", "2024-01-01 ", " 2024-01-01", "2024-01-01T00:00",
	    "2024-00-10", "2024-13-01",	 "2024-04-31",	"2024-01-00",
	    "2024-01-32", "0000-01-01",	 "20x4-01-01",	"2024-0a-01",
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		int32_t d = 777;
		cr_assert_eq(gx_parse_date(bad[i], &d), GX_ERR_INVALID,
			     "'%s' must be refused", bad[i]);
		cr_assert_eq(d, 777, "'%s': output untouched on error", bad[i]);
	}
}

Test(time, fmt_date_known_days)
{
	char buf[16];
	for (size_t i = 0; i < GX_ARRAY_SIZE(anchors); i++) {
		gx_fmt_date(anchors[i].days, buf, sizeof(buf));
		cr_assert_str_eq(buf, anchors[i].date);
	}
}

/*
 * Every day from 0001-01-01 to 9999-12-31 (so well before 1970 too):
 * formatting then parsing gives the day back, and consecutive days format
 * to strictly increasing strings (a fmt/parse pair that were wrong the
 * same way would still trip over the anchors above or over this).
 */
Test(time, fmt_parse_date_round_trip_all_days)
{
	char buf[16], prev[16] = "";
	for (int32_t day = -719162; day <= 2932896; day++) {
		int32_t back;
		gx_fmt_date(day, buf, sizeof(buf));
		if (gx_parse_date(buf, &back) || back != day)
			cr_assert_fail("day %d formats as '%s' which parses "
				       "back as %d", day, buf, back);
		if (strcmp(prev, buf) >= 0)
			cr_assert_fail("day %d: '%s' does not follow '%s'", day,
				       buf, prev);
		memcpy(prev, buf, sizeof(buf));
	}
}

Test(time, parse_time_utc)
{
	int64_t ms;
	cr_assert_eq(gx_parse_time_ms("1970-01-01T00:00:00Z", &ms), GX_OK);
	cr_assert_eq(ms, 0);
	cr_assert_eq(gx_parse_time_ms("2024-01-02T03:04:05.678Z", &ms), GX_OK);
	cr_assert_eq(ms, INT64_C(1704164645678));
	cr_assert_eq(gx_parse_time_ms("2024-01-02t03:04:05.678z", &ms), GX_OK,
		     "lower-case t and z");
	cr_assert_eq(ms, INT64_C(1704164645678));
	cr_assert_eq(gx_parse_time_ms("2024-01-02 03:04:05.678Z", &ms), GX_OK,
		     "a space may stand for T");
	cr_assert_eq(ms, INT64_C(1704164645678));
	cr_assert_eq(gx_parse_time_ms("2024-01-02T03:04:05.678", &ms), GX_OK,
		     "no zone means UTC");
	cr_assert_eq(ms, INT64_C(1704164645678));
	cr_assert_eq(gx_parse_time_ms("1969-12-31T23:59:59.999Z", &ms), GX_OK);
	cr_assert_eq(ms, -1);
}

Test(time, parse_time_offsets)
{
	int64_t ms;
	/* 11:04 in Beijing is 03:04 UTC. */
	cr_assert_eq(gx_parse_time_ms("2024-01-02T11:04:05.678+08:00", &ms),
		     GX_OK);
	cr_assert_eq(ms, INT64_C(1704164645678));
	/* 22:04 the day before at -05:00 is the same instant. */
	cr_assert_eq(gx_parse_time_ms("2024-01-01T22:04:05.678-05:00", &ms),
		     GX_OK);
	cr_assert_eq(ms, INT64_C(1704164645678));
	cr_assert_eq(gx_parse_time_ms("2024-01-02T08:34:05.678+05:30", &ms),
		     GX_OK);
	cr_assert_eq(ms, INT64_C(1704164645678));
	cr_assert_eq(gx_parse_time_ms("1970-01-01T08:00:00+08:00", &ms), GX_OK);
	cr_assert_eq(ms, 0);
	cr_assert_eq(gx_parse_time_ms("1970-01-01T00:00:00+00:00", &ms), GX_OK);
	cr_assert_eq(ms, 0);
}

Test(time, parse_time_fractions_and_short_forms)
{
	static const struct {
		const char *s;
		int64_t ms;
	} ok[] = {
	    {"1970-01-01T00:00:00.5Z", 500},
	    {"1970-01-01T00:00:00.05Z", 50},
	    {"1970-01-01T00:00:00.123456Z", 123}, /* truncated to ms */
	    {"1970-01-01T00:00:00,250Z", 250},	  /* ISO 8601 comma */
	    {"1970-01-01T00:01Z", 60000},	  /* no seconds */
	    {"1970-01-02", 86400000},		  /* date only: midnight UTC */
	    {"1970-01-02Z", 86400000},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(ok); i++) {
		int64_t ms = -42;
		cr_assert_eq(gx_parse_time_ms(ok[i].s, &ms), GX_OK, "%s",
			     ok[i].s);
		cr_assert_eq(ms, ok[i].ms, "%s: %lld, want %lld", ok[i].s,
			     (long long)ms, (long long)ok[i].ms);
	}
}

Test(time, parse_time_refuses_garbage)
{
	static const char *bad[] = {
	    "",
	    "now",
	    "2024-01-02T",
	    "2024-01-02T03",
	    "2024-01-02T3:04:05Z",
	    "2024-01-02T24:00:00Z",
	    "2024-01-02T03:60:00Z",
	    "2024-01-02T03:04:61Z",
	    "2024-01-02T03:04:05.Z",
	    "2024-01-02T03:04:05+0800",
	    "2024-01-02T03:04:05+08",
	    "2024-01-02T03:04:05+24:00",
	    "2024-01-02T03:04:05Zjunk",
	    "2024-01-02T03:04:05 ",
	    "2024-01-02X03:04:05Z",
	    "2024-13-02T03:04:05Z",
	    "2023-02-29T00:00:00Z",
	    "1704164645678",
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		int64_t ms = 99;
		cr_assert_eq(gx_parse_time_ms(bad[i], &ms), GX_ERR_INVALID,
			     "'%s' must be refused", bad[i]);
		cr_assert_eq(ms, 99, "'%s': output untouched", bad[i]);
	}
}

Test(time, fmt_time_ms)
{
	static const struct {
		int64_t ms;
		const char *s;
	} cases[] = {
	    {0, "1970-01-01T00:00:00.000Z"},
	    {1, "1970-01-01T00:00:00.001Z"},
	    {-1, "1969-12-31T23:59:59.999Z"},
	    {-1000, "1969-12-31T23:59:59.000Z"},
	    {-1001, "1969-12-31T23:59:58.999Z"},
	    {-86400000, "1969-12-31T00:00:00.000Z"},
	    {INT64_C(1704164645678), "2024-01-02T03:04:05.678Z"},
	    {INT64_C(951782400000), "2000-02-29T00:00:00.000Z"},
	    {INT64_C(253402300799999), "9999-12-31T23:59:59.999Z"},
	};
	char buf[40];
	for (size_t i = 0; i < GX_ARRAY_SIZE(cases); i++) {
		gx_fmt_time_ms(cases[i].ms, buf, sizeof(buf));
		cr_assert_str_eq(buf, cases[i].s, "%lld",
				 (long long)cases[i].ms);
		int64_t back;
		cr_assert_eq(gx_parse_time_ms(buf, &back), GX_OK, "%s", buf);
		cr_assert_eq(back, cases[i].ms, "%s parses back", buf);
	}
}

Test(time, fmt_parse_time_round_trip)
{
	char buf[40];
	/* Steps of a prime number of ms cover odd ms, seconds and days. */
	for (int64_t ms = INT64_C(-5000000000000); ms < INT64_C(5000000000000);
	     ms += INT64_C(9999991237)) {
		int64_t back;
		gx_fmt_time_ms(ms, buf, sizeof(buf));
		if (gx_parse_time_ms(buf, &back) || back != ms)
			cr_assert_fail("%lld -> '%s' -> %lld", (long long)ms,
				       buf, (long long)back);
	}
}
