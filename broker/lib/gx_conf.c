/*
 * gx_conf.c - the typed configuration table shared by every program.
 *
 * A program describes its settings once, as an array of gx_confdef_t
 * (name, type, offset into its own struct, default, bounds, help), as
 * librdkafka does with rd_kafka_properties[] and Redis with standardConfig.
 * Defaults, "key = value" files, "-o key=value" options and --help all go
 * through that table, so a default is checked exactly like a file value.
 *
 * Keys starting with "kafka." are not in the table: they are kept, in order
 * and verbatim, for librdkafka (kcat's -X), with the prefix removed.
 *
 * Every failure is reported through errstr as "WHERE: KEY: why", where WHERE
 * is "FILE:LINE", "-o" or "default"; nothing here prints or exits except
 * gx_conf_usage, which writes to the stream it is given.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gx_conf.h"

#define KAFKA_PREFIX "kafka."
#define KAFKA_PREFIX_LEN (sizeof(KAFKA_PREFIX) - 1)

/* Unknown keys this close (in edits) to a known key get a suggestion. */
#define SUGGEST_MAX_DISTANCE 2

/* Report "where: key: why" (or "key: why" without a where). */
static gx_err_t conf_err(char *errstr, size_t errstr_size, const char *where,
			 const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static gx_err_t conf_err(char *errstr, size_t errstr_size, const char *where,
			 const char *key, const char *fmt, ...)
{
	char why[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (where && *where)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: %s: %s", where, key, why);
	return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG, "%s: %s", key,
			 why);
}

static void *member(const gx_conf_t *conf, const gx_confdef_t *def)
{
	return (char *)conf->base + def->offset;
}

static const gx_confdef_t *find_def(const gx_conf_t *conf, const char *key)
{
	for (size_t i = 0; i < conf->ndefs; i++)
		if (!strcmp(conf->defs[i].name, key))
			return &conf->defs[i];
	return NULL;
}

static int has_bounds(const gx_confdef_t *def)
{
	return def->min != 0 || def->max != 0;
}

/*
 * Edit distance with adjacent transpositions (optimal string alignment), so
 * "borker" is one edit from "broker". Gives up early: returns limit + 1 as
 * soon as the answer is known to exceed limit.
 */
static size_t edit_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b);

	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;

	size_t *prev2 = gx_malloc((lb + 1) * sizeof(size_t));
	size_t *prev = gx_malloc((lb + 1) * sizeof(size_t));
	size_t *cur = gx_malloc((lb + 1) * sizeof(size_t));
	size_t result;

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t rowmin;

		cur[0] = i;
		rowmin = cur[0];
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t d = prev[j] + 1;

			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
			if (d < rowmin)
				rowmin = d;
		}
		if (rowmin > limit) {
			free(prev2);
			free(prev);
			free(cur);
			return limit + 1;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	result = prev[lb];
	free(prev2);
	free(prev);
	free(cur);
	return result;
}

/* The known key nearest to `key` within SUGGEST_MAX_DISTANCE, or NULL;
 * on a tie the one listed first in the table wins. */
static const char *suggest_key(const gx_conf_t *conf, const char *key)
{
	const char *best = NULL;
	size_t best_d = SUGGEST_MAX_DISTANCE + 1;

	for (size_t i = 0; i < conf->ndefs; i++) {
		size_t d =
		    edit_distance(key, conf->defs[i].name, SUGGEST_MAX_DISTANCE);
		if (d < best_d) {
			best_d = d;
			best = conf->defs[i].name;
		}
	}
	return best;
}

/* Parse a whole string as a base-10 int64; -1 if not a number, -2 on
 * overflow. No leading space, no trailing junk. */
static int parse_int64(const char *s, int64_t *out, const char **end)
{
	char *e;
	long long v;

	if (!isdigit((unsigned char)s[0]) &&
	    !((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1])))
		return -1;
	errno = 0;
	v = strtoll(s, &e, 10);
	if (end)
		*end = e;
	else if (*e)
		return -1;
	if (errno == ERANGE)
		return -2;
	*out = (int64_t)v;
	return 0;
}

/* Format a millisecond count in the largest unit that divides it exactly,
 * so bounds read back as they would be written ("5s", "1h", "250ms"). */
static void fmt_duration(int64_t ms, char *out, size_t out_size)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
	    {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000},
	};

	if (ms != 0) {
		for (size_t i = 0; i < GX_ARRAY_SIZE(units); i++) {
			if (ms % units[i].ms == 0) {
				snprintf(out, out_size, "%" PRId64 "%s",
					 ms / units[i].ms, units[i].unit);
				return;
			}
		}
	}
	snprintf(out, out_size, "%" PRId64 "ms", ms);
}

static gx_err_t set_int(const gx_confdef_t *def, int64_t *dst,
			const char *value, const char *where, char *errstr,
			size_t errstr_size)
{
	int64_t v = 0;
	int rc = parse_int64(value, &v, NULL);

	if (rc == -1)
		return conf_err(errstr, errstr_size, where, def->name,
				"expected an integer, got '%s'", value);
	if (rc == -2 && !has_bounds(def))
		return conf_err(errstr, errstr_size, where, def->name,
				"integer out of range: '%s'", value);
	if (rc == -2 || (has_bounds(def) && (v < def->min || v > def->max)))
		return conf_err(errstr, errstr_size, where, def->name,
				"must be between %" PRId64 " and %" PRId64,
				def->min, def->max);
	*dst = v;
	return GX_OK;
}

static gx_err_t set_duration(const gx_confdef_t *def, int64_t *dst,
			     const char *value, const char *where,
			     char *errstr, size_t errstr_size)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
	    {"", 1},	     {"ms", 1},	      {"s", 1000},
	    {"m", 60000},    {"h", 3600000}, {"d", 86400000},
	};
	const char *unit = NULL;
	int64_t n = 0, mult = 0;
	int rc = parse_int64(value, &n, &unit);
	int overflow = rc == -2;

	if (rc == -1)
		goto bad;
	for (size_t i = 0; i < GX_ARRAY_SIZE(units); i++)
		if (!strcmp(unit, units[i].unit))
			mult = units[i].ms;
	if (!mult)
		goto bad;
	if (!overflow && (n > INT64_MAX / mult || n < INT64_MIN / mult))
		overflow = 1;
	if (overflow && !has_bounds(def))
		return conf_err(errstr, errstr_size, where, def->name,
				"duration out of range: '%s'", value);
	if (overflow || (has_bounds(def) &&
			 (n * mult < def->min || n * mult > def->max))) {
		char lo[32], hi[32];

		fmt_duration(def->min, lo, sizeof(lo));
		fmt_duration(def->max, hi, sizeof(hi));
		return conf_err(errstr, errstr_size, where, def->name,
				"must be between %s and %s", lo, hi);
	}
	*dst = n * mult;
	return GX_OK;
bad:
	return conf_err(errstr, errstr_size, where, def->name,
			"expected a duration (250ms, 5s, 2m, 1h, 3d or a "
			"number of ms), got '%s'",
			value);
}

static gx_err_t set_bool(const gx_confdef_t *def, int *dst, const char *value,
			 const char *where, char *errstr, size_t errstr_size)
{
	static const char *yes[] = {"true", "yes", "on", "1"};
	static const char *no[] = {"false", "no", "off", "0"};

	for (size_t i = 0; i < GX_ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(value, yes[i])) {
			*dst = 1;
			return GX_OK;
		}
		if (!strcasecmp(value, no[i])) {
			*dst = 0;
			return GX_OK;
		}
	}
	return conf_err(errstr, errstr_size, where, def->name,
			"expected true/false, yes/no, on/off or 1/0, got '%s'",
			value);
}

/* Is `value` one of the '|'-separated words in `choices`? */
static int enum_has(const char *choices, const char *value)
{
	size_t len = strlen(value);
	const char *p = choices;

	while (p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == len && !strncmp(p, value, n))
			return 1;
		p = bar ? bar + 1 : NULL;
	}
	return 0;
}

static gx_err_t set_enum(const gx_confdef_t *def, char **dst,
			 const char *value, const char *where, char *errstr,
			 size_t errstr_size)
{
	if (!def->choices || !enum_has(def->choices, value)) {
		gx_buf_t b;
		gx_err_t err;

		gx_buf_init(&b);
		for (const char *p = def->choices ? def->choices : ""; *p; p++) {
			if (*p == '|')
				gx_buf_append(&b, ", ", 2);
			else
				gx_buf_putc(&b, *p);
		}
		err = conf_err(errstr, errstr_size, where, def->name,
			       "must be one of %s", gx_buf_cstr(&b));
		gx_buf_free(&b);
		return err;
	}
	free(*dst);
	*dst = gx_strdup(value);
	return GX_OK;
}

/* Add or replace a pass-through setting; `key` has no "kafka." prefix. */
static void kafka_set(gx_conf_t *conf, const char *key, const char *value)
{
	for (size_t i = 0; i < conf->nkafka; i++) {
		if (!strcmp(conf->kafka[i].key, key)) {
			free(conf->kafka[i].value);
			conf->kafka[i].value = gx_strdup(value);
			return;
		}
	}
	conf->kafka = gx_realloc(conf->kafka,
				 (conf->nkafka + 1) * sizeof(*conf->kafka));
	conf->kafka[conf->nkafka].key = gx_strdup(key);
	conf->kafka[conf->nkafka].value = gx_strdup(value);
	conf->nkafka++;
}

gx_err_t gx_conf_set(gx_conf_t *conf, const char *key, const char *value,
		     const char *where, char *errstr, size_t errstr_size)
{
	const gx_confdef_t *def;

	if (!strncmp(key, KAFKA_PREFIX, KAFKA_PREFIX_LEN)) {
		if (!key[KAFKA_PREFIX_LEN])
			return conf_err(errstr, errstr_size, where, key,
					"missing librdkafka property name "
					"after '" KAFKA_PREFIX "'");
		kafka_set(conf, key + KAFKA_PREFIX_LEN, value);
		return GX_OK;
	}

	def = find_def(conf, key);
	if (!def) {
		const char *near = suggest_key(conf, key);

		if (near)
			return conf_err(errstr, errstr_size, where, key,
					"unknown key; did you mean %s?", near);
		return conf_err(errstr, errstr_size, where, key,
				"unknown key");
	}

	void *dst = member(conf, def);
	switch (def->type) {
	case GX_CONF_STR: {
		char **s = dst;
		free(*s);
		*s = gx_strdup(value);
		return GX_OK;
	}
	case GX_CONF_INT:
		return set_int(def, dst, value, where, errstr, errstr_size);
	case GX_CONF_BOOL:
		return set_bool(def, dst, value, where, errstr, errstr_size);
	case GX_CONF_ENUM:
		return set_enum(def, dst, value, where, errstr, errstr_size);
	case GX_CONF_DURATION_MS:
		return set_duration(def, dst, value, where, errstr,
				    errstr_size);
	}
	return conf_err(errstr, errstr_size, where, key,
			"unsupported type %d in the config table",
			(int)def->type);
}

gx_err_t gx_conf_init(gx_conf_t *conf, const gx_confdef_t *defs, size_t ndefs,
		      void *base, char *errstr, size_t errstr_size)
{
	conf->defs = defs;
	conf->ndefs = ndefs;
	conf->base = base;
	conf->kafka = NULL;
	conf->nkafka = 0;

	/* Start every member from a known empty state, so a missing default
	 * means NULL / 0 and a later set never frees caller garbage. */
	for (size_t i = 0; i < ndefs; i++) {
		void *dst = member(conf, &defs[i]);

		switch (defs[i].type) {
		case GX_CONF_STR:
		case GX_CONF_ENUM:
			*(char **)dst = NULL;
			break;
		case GX_CONF_INT:
		case GX_CONF_DURATION_MS:
			*(int64_t *)dst = 0;
			break;
		case GX_CONF_BOOL:
			*(int *)dst = 0;
			break;
		}
	}

	for (size_t i = 0; i < ndefs; i++) {
		gx_err_t err;

		if (!defs[i].def)
			continue;
		err = gx_conf_set(conf, defs[i].name, defs[i].def, "default",
				  errstr, errstr_size);
		if (err) {
			gx_conf_free(conf);
			return err;
		}
	}
	return GX_OK;
}

void gx_conf_free(gx_conf_t *conf)
{
	if (!conf)
		return;
	for (size_t i = 0; conf->base && i < conf->ndefs; i++) {
		const gx_confdef_t *def = &conf->defs[i];

		if (def->type == GX_CONF_STR || def->type == GX_CONF_ENUM) {
			char **s = member(conf, def);
			free(*s);
			*s = NULL;
		}
	}
	for (size_t i = 0; i < conf->nkafka; i++) {
		free(conf->kafka[i].key);
		free(conf->kafka[i].value);
	}
	free(conf->kafka);
	conf->kafka = NULL;
	conf->nkafka = 0;
}

const char *gx_conf_kafka_get(const gx_conf_t *conf, const char *key)
{
	for (size_t i = 0; i < conf->nkafka; i++)
		if (!strcmp(conf->kafka[i].key, key))
			return conf->kafka[i].value;
	return NULL;
}

/* ---- files ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Trim in place; returns the first non-space character. */
static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	*e = '\0';
	return s;
}

/*
 * Remove the double quotes around a value in place. Inside quotes, \" and
 * \\ stand for " and \; any other backslash is kept as is. Returns NULL if
 * the quote is not closed or text follows the closing quote.
 */
static const char *unquote(char *v, const char **why)
{
	char *r = v + 1, *w = v;

	for (;;) {
		if (!*r) {
			*why = "unterminated quoted value";
			return NULL;
		}
		if (*r == '"')
			break;
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r++;
	}
	if (r[1]) {
		*why = "unexpected text after closing quote";
		return NULL;
	}
	*w = '\0';
	return v;
}

gx_err_t gx_conf_load(gx_conf_t *conf, const char *path, char *errstr,
		      size_t errstr_size)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	gx_err_t err = GX_OK;

	if (!fp)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "%s: cannot open: %s", path, strerror(errno));

	while (getline(&line, &cap, fp) != -1) {
		char where[4096];
		char *s = line, *eq, *key, *val;
		const char *value, *why = NULL;

		lineno++;
		snprintf(where, sizeof(where), "%s:%lu", path, lineno);
		/* A UTF-8 byte-order mark is an editor artefact, not text. */
		if (lineno == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
			s += 3;
		s = trim(s);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"%s: expected 'key = value'", where);
			break;
		}
		*eq = '\0';
		key = trim(s);
		if (!*key) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"%s: expected 'key = value'", where);
			break;
		}
		value = val = trim(eq + 1);
		if (*val == '"' && !(value = unquote(val, &why))) {
			err = conf_err(errstr, errstr_size, where, key, "%s",
				       why);
			break;
		}
		err = gx_conf_set(conf, key, value, where, errstr, errstr_size);
		if (err)
			break;
	}
	if (!err && ferror(fp))
		err = gx_seterr(errstr, errstr_size, GX_ERR_IO,
				"%s: read error: %s", path, strerror(errno));
	free(line);
	fclose(fp);
	return err;
}

/* ---- --help ---- */

static const char *type_name(gx_conftype_t type)
{
	switch (type) {
	case GX_CONF_STR:
		return "string";
	case GX_CONF_INT:
		return "int";
	case GX_CONF_BOOL:
		return "bool";
	case GX_CONF_ENUM:
		return "enum";
	case GX_CONF_DURATION_MS:
		return "duration";
	}
	return "?";
}

/* The default as shown in --help: "-" for none, quoted if it would not
 * read back unquoted. */
static void fmt_default(const gx_confdef_t *def, gx_buf_t *b)
{
	const char *d = def->def;

	if (!d) {
		gx_buf_putc(b, '-');
	} else if (!*d || is_space(d[0]) || is_space(d[strlen(d) - 1])) {
		gx_buf_printf(b, "\"%s\"", d);
	} else {
		gx_buf_append(b, d, strlen(d));
	}
}

static void fmt_bounds(const gx_confdef_t *def, gx_buf_t *b)
{
	switch (def->type) {
	case GX_CONF_INT:
		if (has_bounds(def))
			gx_buf_printf(b, "%" PRId64 "..%" PRId64, def->min,
				      def->max);
		break;
	case GX_CONF_DURATION_MS:
		if (has_bounds(def)) {
			char lo[32], hi[32];

			fmt_duration(def->min, lo, sizeof(lo));
			fmt_duration(def->max, hi, sizeof(hi));
			gx_buf_printf(b, "%s..%s", lo, hi);
		}
		break;
	case GX_CONF_ENUM:
		if (def->choices)
			gx_buf_append(b, def->choices, strlen(def->choices));
		break;
	default:
		break;
	}
}

void gx_conf_usage(const gx_conf_t *conf, FILE *out)
{
	size_t wname = 0, wtype = 0, wdef = 0, wbounds = 0;
	gx_buf_t b;

	gx_buf_init(&b);
	for (size_t i = 0; i < conf->ndefs; i++) {
		const gx_confdef_t *def = &conf->defs[i];
		size_t n;

		if ((n = strlen(def->name)) > wname)
			wname = n;
		if ((n = strlen(type_name(def->type))) > wtype)
			wtype = n;
		gx_buf_reset(&b);
		fmt_default(def, &b);
		if (b.len > wdef)
			wdef = b.len;
		gx_buf_reset(&b);
		fmt_bounds(def, &b);
		if (b.len > wbounds)
			wbounds = b.len;
	}

	for (size_t i = 0; i < conf->ndefs; i++) {
		const gx_confdef_t *def = &conf->defs[i];
		const char *help = def->help ? def->help : "";

		gx_buf_reset(&b);
		gx_buf_printf(&b, "  %-*s  %-*s  ", (int)wname, def->name,
			      (int)wtype, type_name(def->type));
		size_t mark = b.len;
		fmt_default(def, &b);
		gx_buf_printf(&b, "%*s  ", (int)(wdef - (b.len - mark)), "");
		mark = b.len;
		fmt_bounds(def, &b);
		gx_buf_printf(&b, "%*s  ", (int)(wbounds - (b.len - mark)), "");
		gx_buf_append(&b, help, strlen(help));
		/* No trailing blanks when the last columns are empty. */
		while (b.len && b.data[b.len - 1] == ' ')
			b.len--;
		fprintf(out, "%s\n", gx_buf_cstr(&b));
	}
	gx_buf_free(&b);
}

gx_err_t gx_conf_setup(gx_conf_t *conf, const char *file,
		       const gx_strv_t *overrides, const char *brokers,
		       char *errstr, size_t errstr_size)
{
	gx_err_t err;
	if (file && (err = gx_conf_load(conf, file, errstr, errstr_size)))
		return err;
	for (size_t i = 0; overrides && i < overrides->n; i++) {
		const char *kv = overrides->v[i], *eq = strchr(kv, '=');
		if (!eq || eq == kv)
			return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					 "-o %s: expected key=value", kv);
		char *k = gx_strndup(kv, (size_t)(eq - kv));
		err = gx_conf_set(conf, k, eq + 1, "-o", errstr, errstr_size);
		free(k);
		if (err)
			return err;
	}
	if (brokers && (err = gx_conf_set(conf, "brokers", brokers, "-b",
					  errstr, errstr_size)))
		return err;
	return GX_OK;
}
