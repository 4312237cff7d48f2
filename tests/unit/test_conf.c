/*
 * test_conf.c - the typed configuration table (broker/lib/gx_conf.c):
 * defaults, each value type, every error message word for word, kafka.*
 * pass-through, quoted values, key suggestions, files and --help text.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx_conf.h"

struct tconf {
	char *name;
	char *nodef;
	int64_t port;
	int64_t level;
	int64_t unbounded;
	int verbose;
	char *mode;
	int64_t timeout;
	int64_t linger;
};

#define OFF(m) offsetof(struct tconf, m)

static const gx_confdef_t defs[] = {
    {"app.name", GX_CONF_STR, OFF(name), "govex", 0, 0, NULL, "program name"},
    {"app.nodef", GX_CONF_STR, OFF(nodef), NULL, 0, 0, NULL, NULL},
    {"broker.port", GX_CONF_INT, OFF(port), "9092", 1, 65535, NULL,
     "listen port"},
    {"app.level", GX_CONF_INT, OFF(level), NULL, -10, 10, NULL, "a level"},
    {"app.count", GX_CONF_INT, OFF(unbounded), "-3", 0, 0, NULL, "a count"},
    {"app.verbose", GX_CONF_BOOL, OFF(verbose), "off", 0, 0, NULL,
     "talk more"},
    {"app.mode", GX_CONF_ENUM, OFF(mode), "fast", 0, 0, "fast|safe|off",
     "how to run"},
    {"app.timeout", GX_CONF_DURATION_MS, OFF(timeout), "5s", 1000, 3600000,
     NULL, "how long to wait"},
    {"app.linger", GX_CONF_DURATION_MS, OFF(linger), "250", 0, 0, NULL,
     "linger"},
};

static struct tconf tc;
static gx_conf_t conf;
static char err[512];

static void setup(void)
{
	memset(&tc, 0xAB, sizeof(tc)); /* init must not trust the struct */
	err[0] = '\0';
	cr_assert_eq(gx_conf_init(&conf, defs, GX_ARRAY_SIZE(defs), &tc, err,
				  sizeof(err)),
		     GX_OK, "%s", err);
}

static void teardown(void)
{
	gx_conf_free(&conf);
}

TestSuite(conf, .init = setup, .fini = teardown);

/* Write `text` to a fresh file under /tmp; the caller unlinks and frees. */
static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/test_conf_XXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	size_t len = strlen(text);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Load `text` from a temp file; on error the expected message is built
 * with "%s" standing for the file name. */
static gx_err_t load_text(const char *text, char *path_out, size_t path_size)
{
	char *path = write_tmp(text);
	gx_err_t rc = gx_conf_load(&conf, path, err, sizeof(err));

	snprintf(path_out, path_size, "%s", path);
	unlink(path);
	free(path);
	return rc;
}

static void expect_set_err(const char *key, const char *value,
			   const char *want)
{
	cr_assert_eq(gx_conf_set(&conf, key, value, "-o", err, sizeof(err)),
		     GX_ERR_CONFIG, "%s=%s accepted", key, value);
	cr_assert_str_eq(err, want);
}

static void expect_load_err(const char *text, const char *want_fmt)
{
	char path[256], want[1024];

	cr_assert_neq(load_text(text, path, sizeof(path)), GX_OK);
	snprintf(want, sizeof(want), want_fmt, path);
	cr_assert_str_eq(err, want);
}

Test(conf, defaults_applied)
{
	cr_assert_str_eq(tc.name, "govex");
	cr_assert_null(tc.nodef);
	cr_assert_eq(tc.port, 9092);
	cr_assert_eq(tc.level, 0);
	cr_assert_eq(tc.unbounded, -3);
	cr_assert_eq(tc.verbose, 0);
	cr_assert_str_eq(tc.mode, "fast");
	cr_assert_eq(tc.timeout, 5000);
	cr_assert_eq(tc.linger, 250);
	cr_assert_eq(conf.nkafka, 0);
	cr_assert_null(conf.kafka);
}

Test(conf, bad_default_named)
{
	static const gx_confdef_t bad[] = {
	    {"a.ok", GX_CONF_STR, 0, "x", 0, 0, NULL, NULL},
	    {"a.port", GX_CONF_INT, sizeof(char *), "0", 1, 65535, NULL,
	     NULL},
	};
	struct {
		char *s;
		int64_t i;
	} b;
	gx_conf_t c;

	cr_assert_eq(gx_conf_init(&c, bad, 2, &b, err, sizeof(err)),
		     GX_ERR_CONFIG);
	cr_assert_str_eq(err, "default: a.port: must be between 1 and 65535");
	cr_assert_null(b.s); /* freed on failure */
	gx_conf_free(&c);    /* and harmless afterwards */
}

Test(conf, str_replaces)
{
	cr_assert_eq(gx_conf_set(&conf, "app.name", "one", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(gx_conf_set(&conf, "app.name", "", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_str_eq(tc.name, "");
	cr_assert_eq(gx_conf_set(&conf, "app.nodef", "two words", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_str_eq(tc.nodef, "two words");
}

Test(conf, int_values)
{
	cr_assert_eq(gx_conf_set(&conf, "broker.port", "1", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(tc.port, 1);
	cr_assert_eq(gx_conf_set(&conf, "broker.port", "65535", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(tc.port, 65535);
	cr_assert_eq(gx_conf_set(&conf, "app.level", "-10", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(tc.level, -10);
	cr_assert_eq(gx_conf_set(&conf, "app.level", "+7", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(tc.level, 7);
	cr_assert_eq(gx_conf_set(&conf, "app.count", "-9223372036854775808",
				 "-o", err, sizeof(err)),
		     GX_OK);
	cr_assert_eq(tc.unbounded, INT64_MIN);
	/* Decimal only: a leading zero is not octal. */
	cr_assert_eq(gx_conf_set(&conf, "app.count", "010", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(tc.unbounded, 10);
}

Test(conf, int_errors)
{
	expect_set_err("broker.port", "abc",
		       "-o: broker.port: expected an integer, got 'abc'");
	expect_set_err("broker.port", "12x",
		       "-o: broker.port: expected an integer, got '12x'");
	expect_set_err("broker.port", "",
		       "-o: broker.port: expected an integer, got ''");
	expect_set_err("broker.port", " 12",
		       "-o: broker.port: expected an integer, got ' 12'");
	expect_set_err("broker.port", "0x10",
		       "-o: broker.port: expected an integer, got '0x10'");
	expect_set_err("broker.port", "0",
		       "-o: broker.port: must be between 1 and 65535");
	expect_set_err("broker.port", "65536",
		       "-o: broker.port: must be between 1 and 65535");
	expect_set_err("broker.port", "99999999999999999999",
		       "-o: broker.port: must be between 1 and 65535");
	expect_set_err("app.count", "99999999999999999999",
		       "-o: app.count: integer out of range: "
		       "'99999999999999999999'");
	cr_assert_eq(tc.port, 9092, "a bad value must not change the setting");
}

Test(conf, bool_values)
{
	static const struct {
		const char *word;
		int v;
	} words[] = {
	    {"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0},  {"on", 1},
	    {"off", 0},	 {"1", 1},     {"0", 0},   {"TRUE", 1}, {"No", 0},
	};

	for (size_t i = 0; i < GX_ARRAY_SIZE(words); i++) {
		tc.verbose = -1;
		cr_assert_eq(gx_conf_set(&conf, "app.verbose", words[i].word,
					 "-o", err, sizeof(err)),
			     GX_OK, "%s", words[i].word);
		cr_assert_eq(tc.verbose, words[i].v, "%s", words[i].word);
	}
	expect_set_err("app.verbose", "maybe",
		       "-o: app.verbose: expected true/false, yes/no, on/off "
		       "or 1/0, got 'maybe'");
	expect_set_err("app.verbose", "2",
		       "-o: app.verbose: expected true/false, yes/no, on/off "
		       "or 1/0, got '2'");
}

Test(conf, enum_values)
{
	cr_assert_eq(gx_conf_set(&conf, "app.mode", "safe", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_str_eq(tc.mode, "safe");
	cr_assert_eq(gx_conf_set(&conf, "app.mode", "off", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_str_eq(tc.mode, "off");
	expect_set_err("app.mode", "sa",
		       "-o: app.mode: must be one of fast, safe, off");
	expect_set_err("app.mode", "Safe",
		       "-o: app.mode: must be one of fast, safe, off");
	expect_set_err("app.mode", "fast|safe",
		       "-o: app.mode: must be one of fast, safe, off");
	expect_set_err("app.mode", "",
		       "-o: app.mode: must be one of fast, safe, off");
	cr_assert_str_eq(tc.mode, "off");
}

Test(conf, duration_values)
{
	static const struct {
		const char *text;
		int64_t ms;
	} ok[] = {
	    {"250ms", 250},     {"1500", 1500},	   {"5s", 5000},
	    {"2m", 120000},	{"1h", 3600000},   {"0d", 0},
	    {"3d", 259200000},	{"-5s", -5000},
	};

	for (size_t i = 0; i < GX_ARRAY_SIZE(ok); i++) {
		cr_assert_eq(gx_conf_set(&conf, "app.linger", ok[i].text, "-o",
					 err, sizeof(err)),
			     GX_OK, "%s: %s", ok[i].text, err);
		cr_assert_eq(tc.linger, ok[i].ms, "%s", ok[i].text);
	}
	cr_assert_eq(gx_conf_set(&conf, "app.timeout", "1h", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(tc.timeout, 3600000);
	cr_assert_eq(gx_conf_set(&conf, "app.timeout", "1000", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(tc.timeout, 1000);
}

Test(conf, duration_errors)
{
#define DUR_WHY "expected a duration (250ms, 5s, 2m, 1h, 3d or a number of ms)"
	expect_set_err("app.timeout", "5x",
		       "-o: app.timeout: " DUR_WHY ", got '5x'");
	expect_set_err("app.timeout", "s",
		       "-o: app.timeout: " DUR_WHY ", got 's'");
	expect_set_err("app.timeout", "1.5s",
		       "-o: app.timeout: " DUR_WHY ", got '1.5s'");
	expect_set_err("app.timeout", "5 s",
		       "-o: app.timeout: " DUR_WHY ", got '5 s'");
	expect_set_err("app.timeout", "",
		       "-o: app.timeout: " DUR_WHY ", got ''");
	expect_set_err("app.timeout", "999ms",
		       "-o: app.timeout: must be between 1s and 1h");
	expect_set_err("app.timeout", "61m",
		       "-o: app.timeout: must be between 1s and 1h");
	expect_set_err("app.timeout", "9999999999999999d",
		       "-o: app.timeout: must be between 1s and 1h");
	expect_set_err("app.linger", "9999999999999999d",
		       "-o: app.linger: duration out of range: "
		       "'9999999999999999d'");
	cr_assert_eq(tc.timeout, 5000);
#undef DUR_WHY
}

Test(conf, kafka_passthrough)
{
	cr_assert_null(gx_conf_kafka_get(&conf, "linger.ms"));
	cr_assert_eq(gx_conf_set(&conf, "kafka.linger.ms", "5", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(gx_conf_set(&conf, "kafka.sasl.password", " a b# ",
				 "-o", err, sizeof(err)),
		     GX_OK);
	cr_assert_eq(gx_conf_set(&conf, "kafka.linger.ms", "10", "-o", err,
				 sizeof(err)),
		     GX_OK);
	cr_assert_eq(conf.nkafka, 2, "override must replace, not append");
	cr_assert_str_eq(conf.kafka[0].key, "linger.ms");
	cr_assert_str_eq(conf.kafka[0].value, "10");
	cr_assert_str_eq(conf.kafka[1].key, "sasl.password");
	cr_assert_str_eq(gx_conf_kafka_get(&conf, "sasl.password"), " a b# ");
	cr_assert_str_eq(gx_conf_kafka_get(&conf, "linger.ms"), "10");
	cr_assert_null(gx_conf_kafka_get(&conf, "kafka.linger.ms"));
	expect_set_err("kafka.", "x",
		       "-o: kafka.: missing librdkafka property name after "
		       "'kafka.'");
	cr_assert_eq(conf.nkafka, 2);
}

Test(conf, unknown_key)
{
	expect_set_err("nothing.like.it", "1",
		       "-o: nothing.like.it: unknown key");
	expect_set_err("broker.prot", "1",
		       "-o: broker.prot: unknown key; did you mean "
		       "broker.port?");
	expect_set_err("borker.port", "1",
		       "-o: borker.port: unknown key; did you mean "
		       "broker.port?");
	expect_set_err("app.timeouts", "1",
		       "-o: app.timeouts: unknown key; did you mean "
		       "app.timeout?");
	expect_set_err("app.tmeot", "1",
		       "-o: app.tmeot: unknown key; did you mean "
		       "app.timeout?");
	/* Three edits away: no suggestion. */
	expect_set_err("app.tmo", "1", "-o: app.tmo: unknown key");
	expect_set_err("kafka", "1",
		       "-o: kafka: unknown key");
}

Test(conf, no_where)
{
	cr_assert_eq(gx_conf_set(&conf, "bogus", "1", NULL, err, sizeof(err)),
		     GX_ERR_CONFIG);
	cr_assert_str_eq(err, "bogus: unknown key");
	/* A small errstr is truncated, never overrun. */
	char small[8];
	cr_assert_eq(gx_conf_set(&conf, "bogus", "1", "-o", small,
				 sizeof(small)),
		     GX_ERR_CONFIG);
	cr_assert_str_eq(small, "-o: bog");
}

Test(conf, load_file)
{
	char path[256];
	const char *text =
	    "# a comment\n"
	    "\n"
	    "   # indented comment\n"
	    "app.name = exchange\n"
	    "broker.port=9093\n"
	    "\tapp.verbose\t=  yes  \r\n"
	    "app.mode = safe\r\n"
	    "   \r\n"
	    "app.timeout = 30s\n"
	    "app.nodef = \"  padded # not a comment  \"\n"
	    "kafka.bootstrap.servers = k1:9092,k2:9092\n"
	    "kafka.client.id = \"\"\n"
	    "app.count = 1\n"
	    "app.count = 2\n"
	    "app.level = -1"; /* no final newline */

	cr_assert_eq(load_text(text, path, sizeof(path)), GX_OK, "%s", err);
	cr_assert_str_eq(tc.name, "exchange");
	cr_assert_eq(tc.port, 9093);
	cr_assert_eq(tc.verbose, 1);
	cr_assert_str_eq(tc.mode, "safe");
	cr_assert_eq(tc.timeout, 30000);
	cr_assert_str_eq(tc.nodef, "  padded # not a comment  ");
	cr_assert_str_eq(gx_conf_kafka_get(&conf, "bootstrap.servers"),
			 "k1:9092,k2:9092");
	cr_assert_str_eq(gx_conf_kafka_get(&conf, "client.id"), "");
	cr_assert_eq(tc.unbounded, 2, "later line wins");
	cr_assert_eq(tc.level, -1);
}

Test(conf, load_quoting)
{
	char path[256];
	const char *text =
	    "app.name = \"say \\\"hi\\\" \\\\ C:\\dir\"\n"
	    "app.nodef = \"=\"\n"
	    "kafka.x = a \"b\" c\n"
	    "kafka.y = # leading hash kept\n";

	cr_assert_eq(load_text(text, path, sizeof(path)), GX_OK, "%s", err);
	cr_assert_str_eq(tc.name, "say \"hi\" \\ C:\\dir");
	cr_assert_str_eq(tc.nodef, "=");
	cr_assert_str_eq(gx_conf_kafka_get(&conf, "x"), "a \"b\" c");
	cr_assert_str_eq(gx_conf_kafka_get(&conf, "y"), "# leading hash kept");
}

Test(conf, load_errors)
{
	expect_load_err("app.name = x\n\njust words\n",
			"%s:3: expected 'key = value'");
	expect_load_err("# c\n= value\n", "%s:2: expected 'key = value'");
	expect_load_err("broker.port = 80\nbroker.port = 70000\n",
			"%s:2: broker.port: must be between 1 and 65535");
	expect_load_err("app.mode = slow\r\n",
			"%s:1: app.mode: must be one of fast, safe, off");
	expect_load_err("app.verbose = \"yes\"x\n",
			"%s:1: app.verbose: unexpected text after closing "
			"quote");
	expect_load_err("app.name = \"open\n",
			"%s:1: app.name: unterminated quoted value");
	expect_load_err("\n\n\n\nbrokr.port = 1\n",
			"%s:5: brokr.port: unknown key; did you mean "
			"broker.port?");
	expect_load_err("kafka. = 1\n",
			"%s:1: kafka.: missing librdkafka property name after "
			"'kafka.'");
	expect_load_err("app.timeout = 2\n",
			"%s:1: app.timeout: must be between 1s and 1h");
	expect_load_err("app.level = ten\n",
			"%s:1: app.level: expected an integer, got 'ten'");
}

Test(conf, load_stops_at_first_error)
{
	char path[256];

	cr_assert_eq(load_text("app.name = first\nbad line\napp.name = last\n",
			       path, sizeof(path)),
		     GX_ERR_CONFIG);
	cr_assert_str_eq(tc.name, "first");
}

Test(conf, load_cannot_open)
{
	cr_assert_eq(gx_conf_load(&conf, "/tmp/test_conf_no/such.conf", err,
				  sizeof(err)),
		     GX_ERR_IO);
	cr_assert_str_eq(err, "/tmp/test_conf_no/such.conf: cannot open: "
			      "No such file or directory");
}

Test(conf, usage_columns)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	cr_assert_not_null(out);
	gx_conf_usage(&conf, out);
	fclose(out);
	cr_assert_str_eq(
	    text,
	    "  app.name     string    govex  "
	    "               program name\n"
	    "  app.nodef    string    -\n"
	    "  broker.port  int       9092   1..65535       listen port\n"
	    "  app.level    int       -      -10..10        a level\n"
	    "  app.count    int       -3                    a count\n"
	    "  app.verbose  bool      off                   talk more\n"
	    "  app.mode     enum      fast   fast|safe|off  how to run\n"
	    "  app.timeout  duration  5s     1s..1h         how long to wait\n"
	    "  app.linger   duration  250                   linger\n");
	free(text);
}

Test(conf, free_resets)
{
	cr_assert_eq(gx_conf_set(&conf, "kafka.acks", "all", "-o", err,
				 sizeof(err)),
		     GX_OK);
	gx_conf_free(&conf);
	cr_assert_null(tc.name);
	cr_assert_null(tc.nodef);
	cr_assert_null(tc.mode);
	cr_assert_null(conf.kafka);
	cr_assert_eq(conf.nkafka, 0);
	gx_conf_free(&conf); /* again, from teardown too: harmless */
	gx_conf_free(NULL);
}
