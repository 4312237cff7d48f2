/*
 * gx_csv.h - streaming RFC 4180 CSV reader over libcsv.
 *
 * Reads rows one at a time from a FILE with bounded memory: quoted fields,
 * embedded newlines and quotes, CRLF or LF, a UTF-8 byte-order mark at the
 * start (skipped), any UTF-8 text. Every row reports the physical line number
 * (1-based) on which it starts, so errors can name it.
 */
#ifndef GX_CSV_H
#define GX_CSV_H

#include <stdio.h>

#include "gx.h"

typedef struct gx_csv gx_csv_t;

typedef struct gx_csv_row {
	char **fields;	/* NUL-terminated field values, valid until next call */
	size_t *lens;	/* byte lengths (fields may contain NUL? no: refused) */
	size_t nfields;
	long line;	/* physical line where the row starts (1-based) */
} gx_csv_row_t;

/* Make a reader over fp (not owned; not closed by _destroy). name is used in
 * error messages ("FILE:LINE: ..."). */
gx_csv_t *gx_csv_new(FILE *fp, const char *name);
void gx_csv_destroy(gx_csv_t *csv);

/*
 * Read the next row into *row. Returns GX_OK, GX_ERR_EOF at end of input, or
 * GX_ERR_INVALID / GX_ERR_IO with errstr naming file and line (e.g. an
 * unterminated quoted field at end of file, a field over the size limit,
 * a NUL byte or invalid UTF-8 in a field). After GX_ERR_INVALID for one row
 * the reader continues with the next row where the format allows.
 * Blank lines are skipped.
 */
gx_err_t gx_csv_next(gx_csv_t *csv, gx_csv_row_t *row, char *errstr,
		     size_t errstr_size);

/* Upper bound on one field's size (default 1 MiB). */
void gx_csv_set_max_field(gx_csv_t *csv, size_t max);

#endif /* GX_CSV_H */
