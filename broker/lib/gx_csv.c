/*
 * gx_csv.c - streaming RFC 4180 CSV reader over libcsv.
 *
 * The input is read in chunks that end after a line terminator (LF, CRLF or
 * a lone CR, the same set libcsv ends rows on) or after CHUNK_MAX bytes, and
 * each chunk is handed to libcsv in strict mode. Because a row can only end
 * on a terminator, and a terminator always ends a chunk, a row ends at most
 * once per chunk and always at its last byte. That is what lets us give each
 * row the physical line on which it starts: the line of the first chunk fed
 * while no row was in progress that is not just a terminator (blank lines
 * are skipped, by libcsv and by us).
 *
 * Choices, and why:
 *  - CSV_STRICT: a stray quote ("ab"c", a"b) is an error naming the line and
 *    field, not silently folded into the value.
 *  - CSV_STRICT_FINI: a quoted field still open at end of file is reported
 *    ("unterminated quoted field") instead of being returned as a value that
 *    swallowed the rest of the file.
 *  - No space trimming: libcsv by default strips spaces and tabs around
 *    unquoted fields; RFC 4180 says spaces are part of the field, and we want
 *    values back byte for byte. (So ` "a"` or `"a" ,` is a strict error.)
 *  - Terminators inside quoted fields are kept as they are: a CRLF inside
 *    quotes comes back as "\r\n", a lone CR as "\r".
 *  - Line numbers count LF, CRLF and lone CR each as one line end.
 *  - libcsv grows its field buffer by a fixed block (128 bytes by default);
 *    we raise the block before each chunk so large fields cost O(n), and
 *    give it gx_realloc so out of memory is handled in the one usual place.
 *  - We read parser.entry_pos (a documented member of the public struct) to
 *    see how long the field in progress has grown.
 *
 * Memory is bounded by the largest row (fields are checked against the
 * field size limit while they are still being read, so a runaway field,
 * e.g. one opened by a stray quote, costs at most the limit plus a chunk).
 *
 * Bad rows: a field that is too large, holds a NUL byte or is not valid
 * UTF-8 makes its row fail with GX_ERR_INVALID; the rest of that row is read
 * and dropped (by quote parity, since the row is well formed) and the next
 * call goes on with the following row. A strict parse error drops the rest
 * of the physical line and starts afresh on the next one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "gx_csv.h"

/* Largest chunk handed to libcsv at once (plus room for a CRLF). */
#define CHUNK_MAX 65536
#define DEFAULT_MAX_FIELD ((size_t)1 << 20)
/* Smallest block libcsv allocates or grows its field buffer by. */
#define FIRST_BLK 256

/* What the reader does with the next chunks of the current row. */
enum csv_mode {
	MODE_PARSE,	/* feed them to libcsv */
	MODE_SKIP_ROW,	/* drop them until the row ends (quote parity) */
	MODE_SKIP_LINE	/* drop them until the physical line ends */
};

struct gx_csv {
	FILE *fp;		/* not owned */
	char *name;
	size_t max_field;
	struct csv_parser parser;
	int at_start;		/* nothing read yet: a BOM may follow */
	int at_eof;		/* input finished; next calls return EOF */
	long line;		/* physical line of the next byte read */

	char *chunk;		/* CHUNK_MAX + 2 bytes */

	/* The row being read: field bytes, each NUL-terminated, in data. */
	gx_buf_t data;
	size_t *offs;
	size_t *lens;
	char **ptrs;
	size_t nfields;
	size_t fields_cap;
	long row_line;		/* 0 while no row is in progress */
	int row_done;		/* libcsv ended the row */
	unsigned long quotes;	/* quote bytes seen in this row (parity) */
	enum csv_mode mode;

	/* First problem found in this row; reported when the row is over. */
	int bad;
	long bad_line;		/* physical line of a parse error, else 0 */
	char bad_msg[160];
};

/* Record a problem with the current row (line: where it was seen, 0 if
 * only the row's first line is known); only the first one is kept. */
static void csv_bad(gx_csv_t *csv, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void csv_bad(gx_csv_t *csv, long line, const char *fmt, ...)
{
	if (csv->bad)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(csv->bad_msg, sizeof(csv->bad_msg), fmt, ap);
	va_end(ap);
	csv->bad = 1;
	csv->bad_line = line;
}

/* libcsv: no byte counts as a space, so nothing is trimmed. */
static int csv_no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* (Re)initialise the libcsv parser with our options; drops any state. */
static void csv_parser_start(gx_csv_t *csv)
{
	csv_init(&csv->parser, CSV_STRICT | CSV_STRICT_FINI);
	csv_set_space_func(&csv->parser, csv_no_space);
	csv_set_realloc_func(&csv->parser, gx_realloc);
	csv_set_blk_size(&csv->parser, FIRST_BLK);
}

/* Forget a half-parsed row inside libcsv (after an error). */
static void csv_parser_reset(gx_csv_t *csv)
{
	csv_free(&csv->parser);
	csv_parser_start(csv);
}

/* Offset of the first byte of s that is not part of valid UTF-8 (no
 * overlong forms, surrogates or code points past U+10FFFF), or len. */
static size_t csv_utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xBF;	/* second byte range */
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			if (c == 0xE0)
				lo = 0xA0;	/* overlong */
			else if (c == 0xED)
				hi = 0x9F;	/* surrogates */
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			if (c == 0xF0)
				lo = 0x90;	/* overlong */
			else if (c == 0xF4)
				hi = 0x8F;	/* past U+10FFFF */
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return i;
		i += n + 1;
	}
	return len;
}

/* libcsv field callback: check the field and append it to the row. */
static void csv_on_field(void *s, size_t len, void *data)
{
	gx_csv_t *csv = data;
	size_t fieldno = csv->nfields + 1;
	const unsigned char *p = s;

	if (csv->bad)
		return;		/* the row is lost anyway; keep the first error */
	if (len > csv->max_field) {
		csv_bad(csv, 0, "field %zu: longer than the limit of %zu bytes",
			fieldno, csv->max_field);
		return;
	}
	const unsigned char *nul = len ? memchr(p, '\0', len) : NULL;
	if (nul) {
		csv_bad(csv, 0, "field %zu: NUL byte at byte %zu", fieldno,
			(size_t)(nul - p) + 1);
		return;
	}
	size_t bad = csv_utf8_check(p, len);
	if (bad < len) {
		csv_bad(csv, 0, "field %zu: invalid UTF-8 at byte %zu (0x%02x)",
			fieldno, bad + 1, p[bad]);
		return;
	}

	if (csv->nfields == csv->fields_cap) {
		size_t cap = csv->fields_cap ? csv->fields_cap * 2 : 16;
		csv->offs = gx_realloc(csv->offs, cap * sizeof(*csv->offs));
		csv->lens = gx_realloc(csv->lens, cap * sizeof(*csv->lens));
		csv->ptrs = gx_realloc(csv->ptrs, cap * sizeof(*csv->ptrs));
		csv->fields_cap = cap;
	}
	csv->offs[csv->nfields] = csv->data.len;
	csv->lens[csv->nfields] = len;
	csv->nfields++;
	gx_buf_append(&csv->data, s, len);
	gx_buf_putc(&csv->data, '\0');
}

/* libcsv row callback: the row is complete. */
static void csv_on_row(int c, void *data)
{
	gx_csv_t *csv = data;
	(void)c;
	csv->row_done = 1;
}

/*
 * Read the next chunk into csv->chunk: bytes up to and including a line
 * terminator (LF, CRLF or lone CR), or CHUNK_MAX bytes, or what is left.
 * Sets *term when the chunk ends with a terminator. Returns the length;
 * 0 means end of input or a read error (check ferror).
 */
static size_t csv_read_chunk(gx_csv_t *csv, int *term)
{
	FILE *fp = csv->fp;
	size_t n = 0;
	int c;

	*term = 0;
	flockfile(fp);
	while (n < CHUNK_MAX && (c = getc_unlocked(fp)) != EOF) {
		csv->chunk[n++] = (char)c;
		if (c == '\n') {
			*term = 1;
			break;
		}
		if (c == '\r') {
			*term = 1;
			c = getc_unlocked(fp);
			if (c == '\n')
				csv->chunk[n++] = '\n';
			else if (c != EOF)
				ungetc(c, fp);
			break;
		}
	}
	funlockfile(fp);
	return n;
}

/* Number of '"' bytes in s. */
static unsigned long csv_count_quotes(const char *s, size_t len)
{
	unsigned long q = 0;
	for (size_t i = 0; i < len; i++)
		q += s[i] == '"';
	return q;
}

/* Fill errstr with "NAME:LINE: msg" for the current bad row; the line is
 * the row's first line, plus the line of the problem when it differs. */
static gx_err_t csv_row_error(gx_csv_t *csv, gx_csv_row_t *row, char *errstr,
			      size_t errstr_size)
{
	row->line = csv->row_line;
	if (csv->bad_line && csv->bad_line != csv->row_line)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "%s:%ld: %s (on line %ld)", csv->name,
				 csv->row_line, csv->bad_msg, csv->bad_line);
	return gx_seterr(errstr, errstr_size, GX_ERR_INVALID, "%s:%ld: %s",
			 csv->name, csv->row_line, csv->bad_msg);
}

/* Make a reader over fp (not owned); NULL when fp is NULL. */
gx_csv_t *gx_csv_new(FILE *fp, const char *name)
{
	if (!fp)
		return NULL;
	gx_csv_t *csv = gx_calloc(1, sizeof(*csv));
	csv->fp = fp;
	csv->name = gx_strdup(name ? name : "<input>");
	csv->max_field = DEFAULT_MAX_FIELD;
	csv->at_start = 1;
	csv->line = 1;
	csv->chunk = gx_malloc(CHUNK_MAX + 2);
	gx_buf_init(&csv->data);
	csv_parser_start(csv);
	return csv;
}

/* Free the reader and its rows (fp is left open); accepts NULL. */
void gx_csv_destroy(gx_csv_t *csv)
{
	if (!csv)
		return;
	csv_free(&csv->parser);
	gx_buf_free(&csv->data);
	free(csv->offs);
	free(csv->lens);
	free(csv->ptrs);
	free(csv->chunk);
	free(csv->name);
	free(csv);
}

/* A limit of 0 restores the default (1 MiB). */
void gx_csv_set_max_field(gx_csv_t *csv, size_t max)
{
	if (csv)
		csv->max_field = max ? max : DEFAULT_MAX_FIELD;
}

/* Feed one chunk to libcsv; on a strict parse error record it, reset the
 * parser and switch to skipping the rest of the line. */
static void csv_feed(gx_csv_t *csv, const char *p, size_t n, long line)
{
	size_t used = csv_parse(&csv->parser, p, n, csv_on_field, csv_on_row,
				csv);
	if (used == n)
		return;

	size_t fieldno = csv->nfields + 1;
	if (csv_error(&csv->parser) != CSV_EPARSE)
		csv_bad(csv, line, "field %zu: %s", fieldno,
			csv_strerror(csv_error(&csv->parser)));
	else if (p[used] == '"')
		csv_bad(csv, line, "field %zu: quote inside an unquoted field"
			" (quote the whole field and double the quote)",
			fieldno);
	else
		csv_bad(csv, line, "field %zu: unexpected character after a"
			" closing quote", fieldno);
	csv_parser_reset(csv);
	csv->mode = MODE_SKIP_LINE;
}

/* Next row into *row: GX_OK, GX_ERR_EOF (sticky), GX_ERR_INVALID for a bad
 * row (row->line set, no fields; the next call goes on) or GX_ERR_IO. */
gx_err_t gx_csv_next(gx_csv_t *csv, gx_csv_row_t *row, char *errstr,
		     size_t errstr_size)
{
	memset(row, 0, sizeof(*row));
	if (!csv)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "no CSV reader");
	if (csv->at_eof)
		return GX_ERR_EOF;

	gx_buf_reset(&csv->data);
	csv->nfields = 0;
	csv->row_line = 0;
	csv->row_done = 0;
	csv->quotes = 0;
	csv->mode = MODE_PARSE;
	csv->bad = 0;
	csv->bad_line = 0;

	for (;;) {
		int term;
		size_t n = csv_read_chunk(csv, &term);
		const char *p = csv->chunk;
		long line = csv->line;

		if (n == 0) {
			if (ferror(csv->fp)) {
				csv->at_eof = 1;
				return gx_seterr(errstr, errstr_size, GX_ERR_IO,
						 "%s:%ld: read error: %s",
						 csv->name, line,
						 strerror(errno));
			}
			csv->at_eof = 1;
			if (csv->mode == MODE_SKIP_ROW && (csv->quotes & 1)) {
				csv->bad = 0;
				csv_bad(csv, 0, "unterminated quoted field");
			}
			if (csv->mode != MODE_PARSE)
				return csv_row_error(csv, row, errstr,
						     errstr_size);
			if (csv_fini(&csv->parser, csv_on_field, csv_on_row,
				     csv) != 0) {
				csv_parser_reset(csv);
				csv->bad = 0;
				csv_bad(csv, 0, "unterminated quoted field");
				return csv_row_error(csv, row, errstr,
						     errstr_size);
			}
			if (!csv->row_done)
				return GX_ERR_EOF;
			break;
		}
		if (term)
			csv->line++;

		if (csv->at_start) {
			csv->at_start = 0;
			if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
				p += 3;
				n -= 3;
				if (n == 0)
					continue;
			}
		}

		int blank = (n == 1 && term) || (n == 2 && p[0] == '\r' &&
						   p[1] == '\n');
		if (csv->row_line == 0) {
			if (blank)
				continue;
			csv->row_line = line;
		}
		csv->quotes += csv_count_quotes(p, n);

		if (csv->mode == MODE_SKIP_LINE) {
			if (term)
				return csv_row_error(csv, row, errstr,
						     errstr_size);
			continue;
		}
		if (csv->mode == MODE_SKIP_ROW) {
			if (term && !(csv->quotes & 1))
				return csv_row_error(csv, row, errstr,
						     errstr_size);
			continue;
		}

		/* libcsv grows its buffer by blk_size whenever it is full: make
		 * that step at least the chunk and at least the buffer, so a
		 * chunk costs at most one realloc and growth is geometric. */
		size_t step = csv_get_buffer_size(&csv->parser);
		if (step < n)
			step = n;
		csv_set_blk_size(&csv->parser, step < FIRST_BLK ? FIRST_BLK
								: step);
		csv_feed(csv, p, n, line);
		if (csv->mode == MODE_SKIP_LINE) {
			if (term)
				return csv_row_error(csv, row, errstr,
						     errstr_size);
			continue;
		}
		if (csv->row_done)
			break;

		/* Still inside the row: stop a runaway field early. entry_pos
		 * may still hold a closing quote (hence + 1); the exact check is
		 * in csv_on_field. */
		if (csv->parser.entry_pos > csv->max_field + 1)
			csv_bad(csv, 0, "field %zu: longer than the limit of"
				" %zu bytes", csv->nfields + 1,
				csv->max_field);
		if (csv->bad) {
			/* Drop the rest of this row without buffering it. */
			csv_parser_reset(csv);
			csv->mode = MODE_SKIP_ROW;
			continue;
		}
	}

	if (csv->bad)
		return csv_row_error(csv, row, errstr, errstr_size);
	for (size_t i = 0; i < csv->nfields; i++)
		csv->ptrs[i] = csv->data.data + csv->offs[i];
	row->fields = csv->ptrs;
	row->lens = csv->lens;
	row->nfields = csv->nfields;
	row->line = csv->row_line;
	return GX_OK;
}
