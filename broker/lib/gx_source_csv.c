/*
 * gx_source_csv.c - a CSV file as a source: the header row names the
 * columns, every further row is a record (gx_csv.h reads RFC 4180).
 *
 * To continue after a position token, the header is read from the start of
 * the file and the reader then seeks to the token's byte offset and starts a
 * fresh gx_csv there. gx_csv reads the FILE byte by byte up to each row's
 * line end, so ftell() after a row is exactly where the next one starts;
 * its line numbers are relative to where it started, so they are shifted by
 * the line the token names. The line at an offset is counted (with pread,
 * beside the reader) only when a position token is asked for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_csv.h"
#include "gx_source_impl.h"

struct csv_src {
	FILE *fp;
	char *path;
	json_t *id;
	gx_csv_t *csv;
	long line_base;		/* added to gx_csv's line numbers */
	int64_t off;		/* offset after the last row returned */
	int64_t counted_off;	/* counted_line is the line at counted_off */
	long counted_line;
	int done;
	char where[600];
};

static void csv_src_destroy(gx_source_t *src)
{
	struct csv_src *c = src->impl;
	if (!c)
		return;
	gx_csv_destroy(c->csv);
	if (c->fp)
		fclose(c->fp);
	json_decref(c->id);
	free(c->path);
	free(c);
}

/*
 * gx_csv's messages read "NAME:LINE: what" or "NAME:LINE: what (on line
 * N)", with lines counted from where the reader started: restate them
 * with the file's own line numbers.
 */
static void csv_src_restate(const struct csv_src *c, const char *msg,
			    char *errstr, size_t errstr_size)
{
	size_t plen = strlen(c->path);
	const char *p = msg;
	char *end;
	if (strncmp(p, c->path, plen) || p[plen] != ':') {
		snprintf(errstr, errstr_size, "%s", msg);
		return;
	}
	long line = strtol(p + plen + 1, &end, 10);
	if (end[0] != ':') {
		snprintf(errstr, errstr_size, "%s", msg);
		return;
	}
	const char *rest = end + 1;
	const char *on = strstr(rest, " (on line ");
	if (on) {
		long other = strtol(on + 10, NULL, 10);
		snprintf(errstr, errstr_size, "%s:%ld:%.*s (on line %ld)",
			 c->path, line + c->line_base, (int)(on - rest), rest,
			 other + c->line_base);
	} else {
		snprintf(errstr, errstr_size, "%s:%ld:%s", c->path,
			 line + c->line_base, rest);
	}
}

static gx_err_t csv_src_next(gx_source_t *src, gx_source_row_t *row,
			     char *errstr, size_t errstr_size)
{
	struct csv_src *c = src->impl;
	gx_csv_row_t r;
	char msg[1024];
	if (c->done)
		return GX_ERR_EOF;
	gx_err_t e = gx_csv_next(c->csv, &r, msg, sizeof(msg));
	if (e == GX_ERR_EOF) {
		c->done = 1;
		long pos = ftell(c->fp);
		if (pos >= 0)
			c->off = pos;
		return GX_ERR_EOF;
	}
	if (e == GX_ERR_IO) {
		csv_src_restate(c, msg, errstr, errstr_size);
		return GX_ERR_IO;
	}
	long pos = ftell(c->fp);
	if (pos < 0)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s",
				 c->path, strerror(errno));
	c->off = pos;
	row->line = r.line + c->line_base;
	snprintf(c->where, sizeof(c->where), "%s:%ld", c->path, row->line);
	row->where = c->where;
	if (e) {
		row->reason = "malformed_csv";
		csv_src_restate(c, msg, errstr, errstr_size);
		return GX_ERR_INVALID;
	}
	if (r.nfields != src->ncolumns) {
		row->reason = "wrong_column_count";
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "%s: expected %zu columns, got %zu", c->where,
				 src->ncolumns, r.nfields);
	}
	row->n = r.nfields;
	row->names = (const char *const *)src->columns;
	row->values = (const char *const *)r.fields;
	row->fixed_names = 1;
	return GX_OK;
}

static json_t *csv_src_position(gx_source_t *src)
{
	struct csv_src *c = src->impl;
	long n = 0;
	char err[256];
	if (c->off > c->counted_off &&
	    gx_file_count_lines(fileno(c->fp), c->counted_off, c->off, 0, &n,
				err, sizeof(err)) == GX_OK) {
		c->counted_line += n;
		c->counted_off = c->off;
	}
	/* On a read error the token stays at the last offset counted: the
	 * rows after it are read again, never skipped. */
	return gx_file_position(c->id, c->counted_off, c->counted_line,
				c->done && c->counted_off == c->off);
}

static const struct gx_source_ops csv_ops = {csv_src_next, csv_src_position,
					     csv_src_destroy};

gx_err_t gx_source_csv_open(const gx_source_conf_t *conf, json_t *resume,
			    gx_source_t **out, char *errstr,
			    size_t errstr_size)
{
	gx_source_t *src = gx_source_alloc(&csv_ops, conf->path);
	struct csv_src *c = gx_calloc(1, sizeof(*c));
	src->impl = c;
	c->path = gx_strdup(conf->path);
	gx_err_t ret;
	char msg[1024];

	c->fp = fopen(conf->path, "rb");
	if (!c->fp) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG, "%s: %s",
				conf->path, strerror(errno));
		goto fail;
	}
	if ((ret = gx_file_identity("csv", conf->path, fileno(c->fp), &c->id,
				    errstr, errstr_size)))
		goto fail;

	/* The header row names the columns. */
	gx_csv_t *hdr = gx_csv_new(c->fp, conf->path);
	gx_csv_row_t r;
	gx_err_t e = gx_csv_next(hdr, &r, msg, sizeof(msg));
	if (e) {
		gx_csv_destroy(hdr);
		ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG, "%s",
				e == GX_ERR_EOF ? "source is empty: no header row"
						: msg);
		goto fail;
	}
	src->ncolumns = r.nfields;
	src->columns = gx_calloc(r.nfields, sizeof(char *));
	for (size_t i = 0; i < r.nfields; i++)
		src->columns[i] = gx_strdup(r.fields[i]);
	long hdr_end = ftell(c->fp);
	gx_csv_destroy(hdr);
	long hdr_lines = 0;
	if (hdr_end < 0 ||
	    (ret = gx_file_count_lines(fileno(c->fp), 0, hdr_end, 0,
				       &hdr_lines, errstr, errstr_size))) {
		if (!ret)
			ret = gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s",
					conf->path, strerror(errno));
		goto fail;
	}

	int64_t off;
	long line;
	src->resumed = gx_file_resume(c->id, resume, &off, &line);
	if (src->resumed != GX_RESUME_CONTINUE || off < hdr_end) {
		off = hdr_end;
		line = 1 + hdr_lines;
	}
	if (fseeko(c->fp, (off_t)off, SEEK_SET)) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_IO, "%s: %s",
				conf->path, strerror(errno));
		goto fail;
	}
	c->csv = gx_csv_new(c->fp, conf->path);
	c->line_base = line - 1;
	c->off = c->counted_off = off;
	c->counted_line = line;
	snprintf(src->start, sizeof(src->start), "line %ld", line);
	*out = src;
	return GX_OK;
fail:
	gx_source_destroy(src);
	return ret;
}
