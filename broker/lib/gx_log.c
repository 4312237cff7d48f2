/*
 * gx_log.c - one key=value line per event on stderr, for the programs.
 *
 * Library functions do not log; they return errors. Programs log events
 * with a stable event name so operators can grep and count them:
 *   ts=2024-05-01T10:00:00.000Z level=info prog=govex-broker event=started ...
 * Values that may hold spaces go through gx_log_quote(). No personal data
 * (names, citizen IDs, addresses) belongs in a log line.
 */
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "gx.h"

static const char *log_prog = "govex";
static gx_loglevel_t log_min = GX_LOG_INFO;

void gx_log_init(const char *program, gx_loglevel_t min_level)
{
	log_prog = program;
	log_min = min_level;
}

gx_err_t gx_loglevel_parse(const char *s, gx_loglevel_t *level)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(names); i++)
		if (!strcasecmp(s, names[i])) {
			*level = (gx_loglevel_t)i;
			return GX_OK;
		}
	return GX_ERR_INVALID;
}

void gx_log(gx_loglevel_t level, const char *event, const char *fmt, ...)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	char ts[40], line[4096];
	if (level < log_min)
		return;
	gx_fmt_time_ms(gx_now_ms(), ts, sizeof(ts));
	int n = snprintf(line, sizeof(line), "ts=%s level=%s prog=%s event=%s",
			 ts, names[level], log_prog, event);
	if (fmt && *fmt && n > 0 && (size_t)n < sizeof(line) - 2) {
		line[n++] = ' ';
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* One write per line so lines from several threads do not interleave. */
	fprintf(stderr, "%s\n", line);
}

const char *gx_log_quote(const char *s, char *out, size_t out_size)
{
	size_t o = 0;
	int needs = !*s;
	for (const char *p = s; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			needs = 1;
	if (!needs) {
		snprintf(out, out_size, "%s", s);
		return out;
	}
	if (out_size < 3) {
		if (out_size)
			out[0] = '\0';
		return out;
	}
	out[o++] = '"';
	for (const char *p = s; *p && o + 3 < out_size; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c < 0x20) {
			out[o++] = '?';
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void gx_log_kafka(int level, const char *fac, const char *msg)
{
	char q[1024];
	gx_loglevel_t l = level <= 3 ? GX_LOG_ERROR
			  : level == 4 ? GX_LOG_WARN
			  : level <= 6 ? GX_LOG_INFO
				       : GX_LOG_DEBUG;
	gx_log(l, "kafka_log", "facility=%s message=%s", fac,
	       gx_log_quote(msg, q, sizeof(q)));
}
