/*
 * gx_mem.c - the allocator wrapper, byte buffers, string lists, error names
 * and time helpers shared by all of libgovex.
 *
 * Out of memory is handled here and only here: the process cannot do its
 * job without memory, and half-built state is worse than stopping, so the
 * wrapper reports and aborts (as Postfix mymalloc and Redis zmalloc do).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gx.h"

static void gx_oom(size_t size)
{
	fprintf(stderr, "level=error event=out_of_memory size=%zu\n", size);
	abort();
}

void *gx_malloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		gx_oom(size);
	return p;
}

void *gx_calloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		gx_oom(nmemb * size);
	return p;
}

void *gx_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		gx_oom(size);
	return p;
}

char *gx_strdup(const char *s)
{
	return gx_strndup(s, strlen(s));
}

char *gx_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = gx_malloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *gx_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	va_start(ap, fmt);
	int n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		gx_oom(0);
	return p;
}

const char *gx_err_name(gx_err_t err)
{
	static const char *names[] = {
	    "ok",     "invalid", "not_found", "io",    "kafka",
	    "avro",   "config",  "denied",    "eof",
	};
	if ((size_t)err < GX_ARRAY_SIZE(names))
		return names[err];
	return "unknown";
}

gx_err_t gx_seterr(char *errstr, size_t errstr_size, gx_err_t err,
		   const char *fmt, ...)
{
	if (errstr && errstr_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errstr, errstr_size, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ---- buffers ---- */

void gx_buf_init(gx_buf_t *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void gx_buf_free(gx_buf_t *b)
{
	free(b->data);
	gx_buf_init(b);
}

void gx_buf_reset(gx_buf_t *b)
{
	b->len = 0;
}

void gx_buf_reserve(gx_buf_t *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = gx_realloc(b->data, cap);
	b->cap = cap;
}

void gx_buf_append(gx_buf_t *b, const void *p, size_t n)
{
	gx_buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void gx_buf_putc(gx_buf_t *b, char c)
{
	gx_buf_reserve(b, 1);
	b->data[b->len++] = c;
}

void gx_buf_printf(gx_buf_t *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		gx_buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
}

char *gx_buf_cstr(gx_buf_t *b)
{
	gx_buf_reserve(b, 0);
	b->data[b->len] = '\0';
	return b->data;
}

/* ---- string lists ---- */

void gx_strv_init(gx_strv_t *sv)
{
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

void gx_strv_free(gx_strv_t *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	gx_strv_init(sv);
}

void gx_strv_push(gx_strv_t *sv, const char *s)
{
	if (sv->n == sv->cap) {
		sv->cap = sv->cap ? sv->cap * 2 : 8;
		sv->v = gx_realloc(sv->v, sv->cap * sizeof(*sv->v));
	}
	sv->v[sv->n++] = gx_strdup(s);
}

int gx_strv_contains(const gx_strv_t *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

void gx_strv_split(gx_strv_t *sv, const char *csv)
{
	const char *p = csv;
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p, *e = p + n;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s) {
			char *item = gx_strndup(s, (size_t)(e - s));
			gx_strv_push(sv, item);
			free(item);
		}
		p = end ? end + 1 : NULL;
	}
}

char *gx_strv_join(const gx_strv_t *sv, const char *sep)
{
	gx_buf_t b;
	gx_buf_init(&b);
	for (size_t i = 0; i < sv->n; i++) {
		if (i)
			gx_buf_append(&b, sep, strlen(sep));
		gx_buf_append(&b, sv->v[i], strlen(sv->v[i]));
	}
	return gx_buf_cstr(&b);
}

/* ---- time ---- */

int64_t gx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gx_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

static int days_in_month(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Parse exactly n decimal digits at s. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static gx_err_t parse_ymd(const char *s, int *y, int *m, int *d)
{
	if (digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, m) ||
	    s[7] != '-' || digits(s + 8, 2, d))
		return GX_ERR_INVALID;
	if (*y < 1 || *m < 1 || *m > 12 || *d < 1 ||
	    *d > days_in_month(*y, *m))
		return GX_ERR_INVALID;
	return GX_OK;
}

gx_err_t gx_parse_date(const char *s, int32_t *days)
{
	int y, m, d;
	if (strlen(s) != 10 || parse_ymd(s, &y, &m, &d))
		return GX_ERR_INVALID;
	*days = (int32_t)days_from_civil(y, (unsigned)m, (unsigned)d);
	return GX_OK;
}

void gx_fmt_date(int32_t days, char *out, size_t out_size)
{
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, out_size, "%04d-%02u-%02u", y, m, d);
}

gx_err_t gx_parse_time_ms(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
	size_t len = strlen(s);
	if (len < 10 || parse_ymd(s, &y, &mo, &d))
		return GX_ERR_INVALID;
	const char *p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi))
			return GX_ERR_INVALID;
		p += 6;
		if (*p == ':') {
			if (digits(p + 1, 2, &sec))
				return GX_ERR_INVALID;
			p += 3;
			if (*p == '.' || *p == ',') {
				int nd = 0;
				p++;
				while (*p >= '0' && *p <= '9') {
					if (nd < 3)
						frac = frac * 10 + (*p - '0');
					nd++;
					p++;
				}
				if (nd == 0)
					return GX_ERR_INVALID;
				for (; nd < 3; nd++)
					frac *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return GX_ERR_INVALID;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		int sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return GX_ERR_INVALID;
		offset_min = sign * (oh * 60 + om);
		p += 6;
	}
	if (*p)
		return GX_ERR_INVALID;
	int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
	*ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - offset_min * 60) *
		  1000 +
	      frac;
	return GX_OK;
}

void gx_fmt_time_ms(int64_t ms, char *out, size_t out_size)
{
	int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int millis = (int)(ms - secs * 1000);
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400;
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, out_size, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d,
		 (int)(rem / 3600), (int)(rem % 3600 / 60), (int)(rem % 60),
		 millis);
}
