/*
 * test_lag.c - the pure parts of gx_lag and gx_ops: which topics are whose
 * (delivery topic -> consumer agency), where a group's unread span starts,
 * and the seconds each catalogue update period promises. What needs Kafka
 * is in tests/integration/0040-operations.c.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "gx_lag.h"
#include "gx_ops.h"

static gx_topic_kind_t parse(const char *prefix, const char *name, char *consumer,
			     char *library)
{
	const char *c, *l;
	size_t cl, ll;
	gx_topic_kind_t k = gx_topic_parse(prefix, name, &c, &cl, &l, &ll);
	consumer[0] = library[0] = '\0';
	if (c)
		snprintf(consumer, 80, "%.*s", (int)cl, c);
	if (l)
		snprintf(library, 80, "%.*s", (int)ll, l);
	return k;
}

Test(lag, delivery_topics_name_their_consumer_and_library)
{
	char c[80], l[80];
	cr_assert_eq(parse("govex", "govex.deliver.SX-MZ.population", c, l), GX_TOPIC_DELIVER);
	cr_expect_str_eq(c, "SX-MZ");
	cr_expect_str_eq(l, "population");
	cr_assert_eq(parse("govex", "govex.deliver.tax_2.e_licence", c, l), GX_TOPIC_DELIVER);
	cr_expect_str_eq(c, "tax_2");
	cr_expect_str_eq(l, "e_licence");
	/* A prefix with dots of its own. */
	cr_assert_eq(parse("prod.sx", "prod.sx.deliver.SX-JY.legal_entity", c, l),
		     GX_TOPIC_DELIVER);
	cr_expect_str_eq(c, "SX-JY");
	cr_expect_str_eq(l, "legal_entity");
}

Test(lag, ingest_topics_name_their_library)
{
	char c[80], l[80];
	cr_assert_eq(parse("govex", "govex.ingest.population", c, l), GX_TOPIC_INGEST);
	cr_expect_str_eq(l, "population");
	cr_expect_str_eq(c, "");
}

Test(lag, other_topics_are_nobodys)
{
	char c[80], l[80];
	const char *other[] = {
	    "govex.decisions", "govex.catalog", "govex.adapter.positions",
	    "govex.deliver.SX-MZ",		/* no library */
	    "govex.deliver..population",	/* no consumer */
	    "govex.deliver.SX MZ.population",	/* not an agency code */
	    "govex.deliver.SX-MZ.Population",	/* not a library name */
	    "govex.deliver.SX-MZ.population.x",	/* one part too many */
	    "govex.ingest.",			/* no library */
	    "govex2.deliver.SX-MZ.population",	/* another prefix */
	    "gov.deliver.SX-MZ.population",
	    "govexdeliver.SX-MZ.population",
	    "other.govex.deliver.SX-MZ.population",
	};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		cr_expect_eq(parse("govex", other[i], c, l), GX_TOPIC_OTHER, "%s", other[i]);
	/* Agency codes are at most 64 characters. */
	char name[200];
	snprintf(name, sizeof(name), "govex.deliver.%065d.population", 0);
	cr_expect_eq(parse("govex", name, c, l), GX_TOPIC_OTHER);
	snprintf(name, sizeof(name), "govex.deliver.%064d.population", 0);
	cr_expect_eq(parse("govex", name, c, l), GX_TOPIC_DELIVER);
}

Test(lag, unread_span_starts_at_the_commit_within_what_is_kept)
{
	int64_t s;
	gx_lag_span(40, 0, 65, &s);
	cr_expect_eq(s, 40, "a commit: from there");
	gx_lag_span(-1, 0, 65, &s);
	cr_expect_eq(s, 0, "no commit: from the first kept record (earliest)");
	gx_lag_span(-1, 30, 65, &s);
	cr_expect_eq(s, 30);
	gx_lag_span(10, 30, 65, &s);
	cr_expect_eq(s, 30, "records expired unread are not there to read");
	gx_lag_span(65, 0, 65, &s);
	cr_expect_eq(s, 65, "caught up");
	gx_lag_span(70, 0, 65, &s);
	cr_expect_eq(s, 65, "a commit past the end reads nothing");
}

Test(lag, update_periods_in_seconds_in_english_and_chinese)
{
	cr_expect_eq(gx_period_seconds("realtime"), 60);
	cr_expect_eq(gx_period_seconds("实时"), 60);
	cr_expect_eq(gx_period_seconds("daily"), 86400);
	cr_expect_eq(gx_period_seconds("每日"), 86400);
	cr_expect_eq(gx_period_seconds("weekly"), 7 * 86400);
	cr_expect_eq(gx_period_seconds("monthly"), 31 * 86400);
	cr_expect_eq(gx_period_seconds("每季度"), 92 * 86400);
	cr_expect_eq(gx_period_seconds("half-yearly"), 183 * 86400);
	cr_expect_eq(gx_period_seconds("每年"), 366 * 86400);
	cr_expect_eq(gx_period_seconds("fortnightly"), 0, "no promise to check");
	cr_expect_eq(gx_period_seconds(""), 0);
	cr_expect_eq(gx_period_seconds(NULL), 0);
}
