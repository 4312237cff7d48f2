/*
 * gx_source_impl.h - what the source kinds (gx_source_csv.c,
 * gx_source_jsonl.c, gx_source_pg.c) share; not for programs.
 */
#ifndef GX_SOURCE_IMPL_H
#define GX_SOURCE_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "gx_source.h"

struct gx_source_ops {
	gx_err_t (*next)(gx_source_t *src, gx_source_row_t *row, char *errstr,
			 size_t errstr_size);
	json_t *(*position)(gx_source_t *src);
	void (*destroy)(gx_source_t *src);
};

struct gx_source {
	const struct gx_source_ops *ops;
	void *impl;
	gx_resume_t resumed;
	int follows;
	int unindexed;		/* pg: no btree index starts with the cursor */
	char *name;
	char start[160];
	char **columns;		/* NULL until known */
	size_t ncolumns;
};

/* A new source shell; the kind fills impl and columns. */
gx_source_t *gx_source_alloc(const struct gx_source_ops *ops,
			     const char *name);

gx_err_t gx_source_csv_open(const gx_source_conf_t *conf, json_t *resume,
			    gx_source_t **out, char *errstr,
			    size_t errstr_size);
gx_err_t gx_source_jsonl_open(const gx_source_conf_t *conf, json_t *resume,
			      gx_source_t **out, char *errstr,
			      size_t errstr_size);
gx_err_t gx_source_pg_open(const gx_source_conf_t *conf, json_t *resume,
			   gx_source_t **out, char *errstr,
			   size_t errstr_size);

/* ---- files (gx_source_file.c) ---- */

/* Bytes of a file hashed for its identity. */
#define GX_FILE_HEAD 65536

/*
 * The identity of an open file: {"type", "path", "size", "mtime_ns",
 * "head_sha256"} (the SHA-256 of its first GX_FILE_HEAD bytes). A file
 * rewritten, truncated, touched or replaced gets another identity.
 */
gx_err_t gx_file_identity(const char *type, const char *path, int fd,
			  json_t **out, char *errstr, size_t errstr_size);

/*
 * Where to start reading a file of identity id, given a position token
 * (may be NULL): *offset and *line are set for GX_RESUME_CONTINUE only.
 */
gx_resume_t gx_file_resume(json_t *id, json_t *resume, int64_t *offset,
			   long *line);

/* A file position token (takes a reference to id). */
json_t *gx_file_position(json_t *id, int64_t offset, long line, int done);

/*
 * Count line ends (LF, CRLF or a lone CR, each one line, as gx_csv counts
 * them) in bytes [from, to) of fd, read with pread so the caller's FILE
 * position is untouched. lf_only: count LF only (JSON Lines).
 */
gx_err_t gx_file_count_lines(int fd, int64_t from, int64_t to, int lf_only,
			     long *lines, char *errstr, size_t errstr_size);

#endif /* GX_SOURCE_IMPL_H */
