/*
 * gx_source_jsonl.c - a JSON Lines file as a source: one JSON object per
 * line (LF or CRLF), its keys the column names. Values may be strings,
 * numbers, booleans or null (numbers and booleans are handed on as their
 * JSON text, null as null). A line that is not one JSON object, holds a
 * nested object or array, repeats a key, or is longer than the limit is a
 * refused row naming its line; the next line goes on. Blank lines and a
 * UTF-8 byte-order mark at the start are skipped.
 *
 * Lines are read byte by byte into a buffer of at most the line limit
 * (the rest of an overlong line is skipped, not stored), so memory is
 * bounded by the limit whatever the file holds.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_source_impl.h"

#define JSONL_MAX_LINE ((size_t)1 << 20)

struct jsonl_src {
	FILE *fp;
	char *path;
	json_t *id;
	int64_t off;	/* offset after the last line read */
	long line;	/* line number of the next line */
	int done;
	gx_buf_t buf;	/* the current line */
	json_t *obj;	/* the current row */
	const char **names, **values;
	char **texts;	/* numbers as text, freed per row */
	size_t cap, ntexts;
	char where[600];
};

static void jsonl_clear_row(struct jsonl_src *j)
{
	for (size_t i = 0; i < j->ntexts; i++)
		free(j->texts[i]);
	j->ntexts = 0;
	json_decref(j->obj);
	j->obj = NULL;
}

static void jsonl_src_destroy(gx_source_t *src)
{
	struct jsonl_src *j = src->impl;
	if (!j)
		return;
	jsonl_clear_row(j);
	if (j->fp)
		fclose(j->fp);
	json_decref(j->id);
	gx_buf_free(&j->buf);
	free(j->names);
	free(j->values);
	free(j->texts);
	free(j->path);
	free(j);
}

/*
 * Read one physical line (without its LF) into j->buf. Returns 1 for a
 * line, 0 at end of file, -1 on a read error; *overlong is set when the
 * line was longer than the limit (its start is in buf, the rest skipped).
 */
static int jsonl_read_line(struct jsonl_src *j, int *overlong)
{
	FILE *fp = j->fp;
	int c, any = 0;
	gx_buf_reset(&j->buf);
	*overlong = 0;
	flockfile(fp);
	while ((c = getc_unlocked(fp)) != EOF) {
		any = 1;
		j->off++;
		if (c == '\n')
			break;
		if (j->buf.len < JSONL_MAX_LINE)
			gx_buf_putc(&j->buf, (char)c);
		else
			*overlong = 1;
	}
	int err = ferror(fp);
	funlockfile(fp);
	if (err)
		return -1;
	if (!any)
		return 0;
	if (j->buf.len && j->buf.data[j->buf.len - 1] == '\r')
		j->buf.len--;
	gx_buf_cstr(&j->buf);
	return 1;
}

/* Only spaces, tabs and CRs. */
static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* jansson's messages quote the text around the error ("near 'xyz'"),
 * which may be personal data: keep what comes before. */
static void jsonl_error_text(const char *text, char *out, size_t out_size)
{
	const char *near = strstr(text, " near ");
	int n = near ? (int)(near - text) : (int)strlen(text);
	snprintf(out, out_size, "%.*s", n, text);
}

/* The shortest decimal text that reads back as d. */
static char *real_text(double d)
{
	char buf[64];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return gx_strdup(buf);
}

static gx_err_t jsonl_src_next(gx_source_t *src, gx_source_row_t *row,
			       char *errstr, size_t errstr_size)
{
	struct jsonl_src *j = src->impl;
	int overlong;
	jsonl_clear_row(j);
	if (j->done)
		return GX_ERR_EOF;
	for (;;) {
		int r = jsonl_read_line(j, &overlong);
		if (r < 0)
			return gx_seterr(errstr, errstr_size, GX_ERR_IO,
					 "%s:%ld: read error: %s", j->path,
					 j->line, strerror(errno));
		if (r == 0) {
			j->done = 1;
			return GX_ERR_EOF;
		}
		row->line = j->line++;
		const char *p = j->buf.data;
		size_t n = j->buf.len;
		if (row->line == 1 && n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
			p += 3;
			n -= 3;
		}
		if (!overlong && blank(p, n))
			continue;
		snprintf(j->where, sizeof(j->where), "%s:%ld", j->path,
			 row->line);
		row->where = j->where;
		if (overlong) {
			row->reason = "malformed_json";
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s: line longer than %zu bytes",
					 j->where, JSONL_MAX_LINE);
		}
		json_error_t je;
		json_t *obj = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
		if (!obj) {
			char why[160];
			jsonl_error_text(je.text, why, sizeof(why));
			row->reason = "malformed_json";
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s: column %d: %s", j->where,
					 je.column, why);
		}
		if (!json_is_object(obj)) {
			json_decref(obj);
			row->reason = "malformed_json";
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s: not a JSON object", j->where);
		}
		j->obj = obj;
		break;
	}
	size_t cnt = json_object_size(j->obj);
	if (cnt > j->cap) {
		j->cap = cnt;
		j->names = gx_realloc(j->names, cnt * sizeof(char *));
		j->values = gx_realloc(j->values, cnt * sizeof(char *));
		j->texts = gx_realloc(j->texts, cnt * sizeof(char *));
	}
	const char *key;
	json_t *v;
	size_t k = 0;
	json_object_foreach(j->obj, key, v) {
		const char *text = NULL;
		switch (json_typeof(v)) {
		case JSON_STRING:
			if (strlen(json_string_value(v)) !=
			    json_string_length(v)) {
				row->reason = "invalid_value";
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_INVALID,
						 "%s: '%s': NUL character",
						 j->where, key);
			}
			text = json_string_value(v);
			break;
		case JSON_INTEGER:
			text = j->texts[j->ntexts++] = gx_asprintf(
			    "%" JSON_INTEGER_FORMAT, json_integer_value(v));
			break;
		case JSON_REAL:
			text = j->texts[j->ntexts++] =
			    real_text(json_real_value(v));
			break;
		case JSON_TRUE:
			text = "true";
			break;
		case JSON_FALSE:
			text = "false";
			break;
		case JSON_NULL:
			text = NULL;
			break;
		default:
			row->reason = "invalid_value";
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "%s: '%s': objects and arrays are "
					 "not accepted as values",
					 j->where, key);
		}
		j->names[k] = key;
		j->values[k] = text;
		k++;
	}
	row->n = k;
	row->names = j->names;
	row->values = j->values;
	return GX_OK;
}

static json_t *jsonl_src_position(gx_source_t *src)
{
	struct jsonl_src *j = src->impl;
	return gx_file_position(j->id, j->off, j->line, j->done);
}

static const struct gx_source_ops jsonl_ops = {
    jsonl_src_next, jsonl_src_position, jsonl_src_destroy};

gx_err_t gx_source_jsonl_open(const gx_source_conf_t *conf, json_t *resume,
			      gx_source_t **out, char *errstr,
			      size_t errstr_size)
{
	gx_source_t *src = gx_source_alloc(&jsonl_ops, conf->path);
	struct jsonl_src *j = gx_calloc(1, sizeof(*j));
	src->impl = j;
	j->path = gx_strdup(conf->path);
	gx_buf_init(&j->buf);
	gx_err_t ret;

	j->fp = fopen(conf->path, "rb");
	if (!j->fp) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG, "%s: %s",
				conf->path, strerror(errno));
		goto fail;
	}
	if ((ret = gx_file_identity("jsonl", conf->path, fileno(j->fp), &j->id,
				    errstr, errstr_size)))
		goto fail;
	int64_t off;
	long line;
	src->resumed = gx_file_resume(j->id, resume, &off, &line);
	if (off && fseeko(j->fp, (off_t)off, SEEK_SET)) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s",
				conf->path, strerror(errno));
		goto fail;
	}
	j->off = off;
	j->line = line;
	snprintf(src->start, sizeof(src->start), "line %ld", line);
	*out = src;
	return GX_OK;
fail:
	gx_source_destroy(src);
	return ret;
}
