/*
 * gx_conf.h - one typed configuration table per program.
 *
 * Each program declares a table of gx_confdef_t (name, type, offset into its
 * own config struct, default, bounds, help). Files are "key = value" lines,
 * '#' comments, blank lines ignored. Bad values are reported as
 * "FILE:LINE: key: why". Keys starting with "kafka." are not in the table:
 * they pass through to librdkafka (with the "kafka." prefix removed), as kcat
 * does with -X. --help text is generated from the table.
 */
#ifndef GX_CONF_H
#define GX_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gx.h"

typedef enum {
	GX_CONF_STR,	/* char * (owned by the struct, gx_strdup'd) */
	GX_CONF_INT,	/* int64_t, within [min, max] */
	GX_CONF_BOOL,	/* int: true/false/yes/no/on/off/1/0 */
	GX_CONF_ENUM,	/* char *, one of the '|'-separated words in .choices */
	GX_CONF_DURATION_MS /* int64_t ms: "250ms", "5s", "2m", "1h", "3d" or ms */
} gx_conftype_t;

typedef struct gx_confdef {
	const char *name;	/* "broker.consumer.group" */
	gx_conftype_t type;
	size_t offset;		/* offsetof(struct prog_conf, member) */
	const char *def;	/* default as text, parsed like a file value; NULL: none */
	int64_t min, max;	/* for INT and DURATION_MS; ignored when min == max == 0 */
	const char *choices;	/* for ENUM: "a|b|c" */
	const char *help;
} gx_confdef_t;

/* A key=value pair passed through to librdkafka. */
typedef struct gx_kv {
	char *key;
	char *value;
} gx_kv_t;

typedef struct gx_conf {
	const gx_confdef_t *defs;
	size_t ndefs;
	void *base;		/* the program's config struct */
	gx_kv_t *kafka;		/* pass-through kafka.* settings, in order */
	size_t nkafka;
} gx_conf_t;

/* Bind a table to a struct and apply every default. Fails only on a bad
 * default (a programming error), naming it. */
gx_err_t gx_conf_init(gx_conf_t *conf, const gx_confdef_t *defs, size_t ndefs,
		      void *base, char *errstr, size_t errstr_size);
/* Free strings owned by the struct and the pass-through list. */
void gx_conf_free(gx_conf_t *conf);

/* Set one key from text; `where` ("FILE:LINE" or "-o") prefixes errors:
 * "where: key: why". kafka.* keys are accepted without checking here. */
gx_err_t gx_conf_set(gx_conf_t *conf, const char *key, const char *value,
		     const char *where, char *errstr, size_t errstr_size);

/* Read a file of key = value lines. Stops at the first bad line, reporting
 * "FILE:LINE: key: why" (or "FILE:LINE: why" for a line with no key). */
gx_err_t gx_conf_load(gx_conf_t *conf, const char *path, char *errstr,
		      size_t errstr_size);

/*
 * The order every program applies settings in: the file (if any), then each
 * "key=value" of overrides (-o), then brokers (-b) as the "brokers" key, so
 * the command line wins over the file. Errors name where the setting came
 * from ("FILE:LINE: key: why", "-o: key: why", "-b: brokers: why").
 */
gx_err_t gx_conf_setup(gx_conf_t *conf, const char *file,
		       const gx_strv_t *overrides, const char *brokers,
		       char *errstr, size_t errstr_size);

/* Look up a pass-through kafka setting (without the prefix); NULL if unset. */
const char *gx_conf_kafka_get(const gx_conf_t *conf, const char *key);

/* Write --help lines for every key: name, type, default, bounds, help. */
void gx_conf_usage(const gx_conf_t *conf, FILE *out);

#endif /* GX_CONF_H */
