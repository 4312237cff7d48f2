/*
 * gx_source.h - where an adapter's rows come from: a CSV file, a JSON Lines
 * file or a PostgreSQL table read incrementally, behind one small interface,
 * and the mapping that names the source column of each schema field.
 *
 * A source hands out rows as (column name, text) pairs, each with the place
 * it came from ("pop.csv:12", "people:seq=42") for logs and govex.rejected,
 * and can say at any moment where it stands as a JSON position token. An
 * adapter stores that token in the same Kafka transaction as the records it
 * read up to there; given the token back, gx_source_open() continues right
 * after the last row it covers, so nothing is read twice or skipped.
 *
 *   CSV    header row names the columns (RFC 4180, see gx_csv.h).
 *   JSONL  one JSON object per line; values strings, numbers, booleans or
 *          null; a line that is not a JSON object is a refused row.
 *   PG     SELECT ... WHERE <cursor> > $1 ORDER BY <cursor> LIMIT <batch>,
 *          over and over: the cursor column must grow with every insert and
 *          update (a sequence bumped by a trigger, or updated_at), in commit
 *          order. Never at an end: it "follows" the table.
 *
 * Position tokens:
 *   files  {"source": {"type", "path", "size", "mtime_ns", "head_sha256"},
 *           "offset": bytes consumed, "line": next physical line,
 *           "done": end of file reached}
 *   pg     {"source": {"type": "pg", "table", "column"}, "cursor": text}
 * A file token is used only for the same file (same identity) and only if
 * that pass was not done: a finished file read again is a new pass (its
 * unchanged rows are then skipped by the adapter's collect-once digests), a
 * changed file is read from the beginning.
 */
#ifndef GX_SOURCE_H
#define GX_SOURCE_H

#include <jansson.h>
#include <stddef.h>

#include "gx.h"
#include "gx_schema.h"

typedef enum { GX_SRC_CSV, GX_SRC_JSONL, GX_SRC_PG } gx_srctype_t;

/* Parse "csv", "jsonl" or "pg". */
gx_err_t gx_srctype_parse(const char *s, gx_srctype_t *out);
const char *gx_srctype_name(gx_srctype_t t);

/* ---- mapping: schema field = source column ---- */

/*
 * A mapping file: "schema_field = source_column" lines, '#' comments and
 * blank lines ignored, spaces around both names trimmed (a column name may
 * hold inner spaces and any UTF-8). Without a mapping every source column
 * must be named like its field. With one, fields not listed take the column
 * of their own name (unless a listed field claims that column), and source
 * columns that feed no field are ignored.
 */
typedef struct gx_mapping gx_mapping_t;

/* Parse mapping text; name is used in errors ("NAME:LINE: why"): an unknown
 * schema field, a field listed twice, a column feeding two fields, an empty
 * name, a line without '='. */
gx_err_t gx_mapping_parse(const gx_library_t *lib, const char *text,
			  size_t len, const char *name, gx_mapping_t **out,
			  char *errstr, size_t errstr_size);
/* Read and parse a mapping file. */
gx_err_t gx_mapping_load(const gx_library_t *lib, const char *path,
			 gx_mapping_t **out, char *errstr, size_t errstr_size);
void gx_mapping_destroy(gx_mapping_t *m);
/* The source column of field index i: the mapped one, the field's own name,
 * or NULL when a mapped field has taken that name. m may be NULL. */
const char *gx_mapping_column(const gx_mapping_t *m, const gx_library_t *lib,
			      size_t i);

/* ---- sources ---- */

typedef struct gx_source_conf {
	gx_srctype_t type;
	const char *path;		/* csv, jsonl */
	const char *pg_conninfo;	/* libpq connection string */
	const char *pg_table;		/* "table" or "schema.table" */
	const char *pg_column;		/* the cursor column */
	long pg_batch;			/* rows per query */
	/* pg: the columns to select besides the cursor (the ones the mapping
	 * names); those the table lacks are left out. */
	const char *const *pg_columns;
	size_t pg_ncolumns;
} gx_source_conf_t;

/* How gx_source_open() used the position token it was given. */
typedef enum {
	GX_RESUME_FRESH,	/* no token: from the start */
	GX_RESUME_CONTINUE,	/* right after the token's last row */
	GX_RESUME_AGAIN,	/* the token's pass was done: a new pass */
	GX_RESUME_CHANGED	/* the token is for another source identity */
} gx_resume_t;

const char *gx_resume_name(gx_resume_t r);

/* One row. Everything points into the source and is valid until the next
 * call. values[i] NULL is JSON or SQL null. */
typedef struct gx_source_row {
	size_t n;
	const char *const *names;
	const char *const *values;
	int fixed_names;	/* names is the source's fixed column list */
	const char *where;	/* "pop.csv:12", "people:seq=42" */
	long line;		/* files: the row's first line; pg: 0 */
	const char *row_key;	/* pg: the cursor value; files: NULL */
	const char *reason;	/* GX_ERR_INVALID: why (malformed_csv, ...) */
} gx_source_row_t;

typedef struct gx_source gx_source_t;

/*
 * Open a source, continuing after position token resume (may be NULL; not
 * taken over). GX_ERR_CONFIG or GX_ERR_IO with errstr on failure: a missing
 * file, a CSV without header, a table without the cursor column, ...
 */
gx_err_t gx_source_open(const gx_source_conf_t *conf, json_t *resume,
			gx_source_t **out, char *errstr, size_t errstr_size);
void gx_source_destroy(gx_source_t *src);

/*
 * The next row: GX_OK; GX_ERR_INVALID for a row the source could not read
 * (row->where, line, reason set, errstr the detail without personal data;
 * the next call goes on); GX_ERR_EOF at the end (for a following source:
 * nothing new for now, ask again later); GX_ERR_IO when the source failed
 * (a following source reconnects on the next call).
 */
gx_err_t gx_source_next(gx_source_t *src, gx_source_row_t *row, char *errstr,
			size_t errstr_size);

/* Position token after the last row returned (a new reference). */
json_t *gx_source_position(gx_source_t *src);
gx_resume_t gx_source_resumed(const gx_source_t *src);
/* 1 for a source that never ends (pg): EOF means "nothing new yet". */
int gx_source_follows(const gx_source_t *src);
/* 1 for a table whose cursor column starts no usable index (a plain
 * btree, not partial): every poll then scans and sorts the whole table.
 * 0 otherwise, and where it cannot tell (a view, a foreign table). */
int gx_source_unindexed(const gx_source_t *src);
/* Column names known before the first row (CSV header, selected table
 * columns), or NULL (JSONL: every row names its own). */
const char *const *gx_source_columns(const gx_source_t *src, size_t *n);
/* The file path or table, for logs. */
const char *gx_source_name(const gx_source_t *src);
/* Where the source starts reading, for logs ("line 12", "seq > 40"). */
const char *gx_source_start(const gx_source_t *src);

/* ---- binding rows to schema fields ---- */

typedef struct gx_binder gx_binder_t;

/*
 * A binder from source columns to the fields of lib. strict: a source
 * column that feeds no field is an error (used without a mapping for files,
 * so a misspelt header is caught rather than silently dropped).
 */
gx_binder_t *gx_binder_new(const gx_library_t *lib, const gx_mapping_t *map,
			   int strict);
void gx_binder_destroy(gx_binder_t *b);

/* Check a source's known columns (where: "pop.csv:1"): a required field
 * without a column, a column named twice, (strict) a column feeding no
 * field. GX_ERR_CONFIG with errstr. */
gx_err_t gx_binder_check(gx_binder_t *b, const char *const *names, size_t n,
			 const char *where, char *errstr, size_t errstr_size);

/*
 * Give vals[i] (lib->nfields entries) the row's text for field i, or NULL
 * when the row has none (or it is null). GX_ERR_INVALID (reason
 * "unknown_field") for a strict binder and a column feeding no field.
 */
gx_err_t gx_binder_bind(gx_binder_t *b, const gx_source_row_t *row,
			const char **vals, char *errstr, size_t errstr_size);

#endif /* GX_SOURCE_H */
