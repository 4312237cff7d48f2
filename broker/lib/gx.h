/*
 * gx.h - what every part of libgovex shares: error codes, the allocator
 * wrapper, a growable byte buffer, time helpers and the key=value logger.
 *
 * Conventions (see ../shared/DESIGN.md and STYLE.md):
 *  - library functions return a gx_err_t and, on failure, fill the caller's
 *    `char *errstr, size_t errstr_size`; they never print, exit or read the
 *    environment;
 *  - gx_malloc() and friends never return NULL: out of memory is handled in
 *    one place (it aborts with a message);
 *  - every _new has a _destroy, and every _destroy accepts NULL.
 */
#ifndef GX_H
#define GX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GX_VERSION "0.1.0"

/* Error codes returned by library functions. */
typedef enum {
	GX_OK = 0,
	GX_ERR_INVALID,	/* bad input: a record, a line, an argument */
	GX_ERR_NOTFOUND,	/* no such item, field, schema, grant */
	GX_ERR_IO,		/* file or system call failed */
	GX_ERR_KAFKA,		/* Kafka client or broker failure */
	GX_ERR_AVRO,		/* Avro schema or value failure */
	GX_ERR_CONFIG,		/* configuration problem */
	GX_ERR_DENIED,		/* refused by policy or permission */
	GX_ERR_EOF		/* end of input (not an error for streams) */
} gx_err_t;

/* Exit statuses shared by every program (DESIGN: "Exit status"). */
enum {
	GX_EXIT_OK = 0,		/* success */
	GX_EXIT_CHECK = 1,	/* the check failed (verify, replay) */
	GX_EXIT_USAGE = 2,	/* usage or configuration error */
	GX_EXIT_RUNTIME = 3	/* runtime failure */
};

const char *gx_err_name(gx_err_t err);

/* Fill errstr like snprintf and return err; for one-line error returns. */
gx_err_t gx_seterr(char *errstr, size_t errstr_size, gx_err_t err,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ---- memory: never returns NULL (aborts on exhaustion) ---- */
void *gx_malloc(size_t size);
void *gx_calloc(size_t nmemb, size_t size);
void *gx_realloc(void *ptr, size_t size);
char *gx_strdup(const char *s);
char *gx_strndup(const char *s, size_t n);
char *gx_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- growable byte buffer ---- */
typedef struct gx_buf {
	char *data;
	size_t len;
	size_t cap;
} gx_buf_t;

void gx_buf_init(gx_buf_t *b);
void gx_buf_free(gx_buf_t *b);
void gx_buf_reset(gx_buf_t *b);
void gx_buf_reserve(gx_buf_t *b, size_t extra);
void gx_buf_append(gx_buf_t *b, const void *p, size_t n);
void gx_buf_putc(gx_buf_t *b, char c);
void gx_buf_printf(gx_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* NUL-terminate without counting the NUL in len; returns data. */
char *gx_buf_cstr(gx_buf_t *b);

/* ---- string list (comma-separated parsing, field sets) ---- */
typedef struct gx_strv {
	char **v;
	size_t n;
	size_t cap;
} gx_strv_t;

void gx_strv_init(gx_strv_t *sv);
void gx_strv_free(gx_strv_t *sv);
void gx_strv_push(gx_strv_t *sv, const char *s);
int gx_strv_contains(const gx_strv_t *sv, const char *s);
/* Split "a,b,c" (spaces around names trimmed, empty names skipped). */
void gx_strv_split(gx_strv_t *sv, const char *csv);
/* Join with sep into a new string. */
char *gx_strv_join(const gx_strv_t *sv, const char *sep);

/* ---- time ---- */
/* Wall clock in milliseconds since the epoch. */
int64_t gx_now_ms(void);
/* Monotonic clock in milliseconds. */
int64_t gx_mono_ms(void);
/* Format ms-since-epoch as RFC 3339 UTC "2024-01-02T03:04:05.678Z". */
void gx_fmt_time_ms(int64_t ms, char *out, size_t out_size);
/* Parse "YYYY-MM-DD" strictly (real calendar date); days since epoch. */
gx_err_t gx_parse_date(const char *s, int32_t *days);
/* Format days since epoch as "YYYY-MM-DD". */
void gx_fmt_date(int32_t days, char *out, size_t out_size);
/*
 * Parse an RFC 3339 / ISO 8601 timestamp ("YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS",
 * optional fraction, "Z" or +HH:MM; a space may stand for 'T'; no zone means
 * UTC) into ms since the epoch.
 */
gx_err_t gx_parse_time_ms(const char *s, int64_t *ms);

/* ---- logging: one key=value line per event, to stderr ----
 * Used by the programs only; library functions report through errstr. */
typedef enum { GX_LOG_DEBUG, GX_LOG_INFO, GX_LOG_WARN, GX_LOG_ERROR } gx_loglevel_t;

void gx_log_init(const char *program, gx_loglevel_t min_level);
/*
 * gx_log(GX_LOG_INFO, "record_released", "consumer=%s count=%d", c, n)
 * prints: ts=... level=info prog=govex-broker event=record_released consumer=...
 * Values with spaces or quotes should be passed through gx_log_quote().
 */
void gx_log(gx_loglevel_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Quote a value for a key=value line into out; returns out. */
const char *gx_log_quote(const char *s, char *out, size_t out_size);
gx_err_t gx_loglevel_parse(const char *s, gx_loglevel_t *level);
/* Log a librdkafka log line (syslog level) as event=kafka_log; for
 * gx_kafka_set_logger(). */
void gx_log_kafka(int level, const char *fac, const char *msg);

#define GX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* GX_H */
