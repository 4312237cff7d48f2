/*
 * gx_source_core.c - the source interface (dispatch to the kinds) and the
 * binder from source columns to schema fields.
 */
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_map.h"
#include "gx_source.h"
#include "gx_source_impl.h"

static const char *const srctype_names[] = {"csv", "jsonl", "pg"};

gx_err_t gx_srctype_parse(const char *s, gx_srctype_t *out)
{
	for (size_t i = 0; i < GX_ARRAY_SIZE(srctype_names); i++)
		if (s && !strcmp(s, srctype_names[i])) {
			*out = (gx_srctype_t)i;
			return GX_OK;
		}
	return GX_ERR_INVALID;
}

const char *gx_srctype_name(gx_srctype_t t)
{
	return (size_t)t < GX_ARRAY_SIZE(srctype_names) ? srctype_names[t] : "?";
}

const char *gx_resume_name(gx_resume_t r)
{
	switch (r) {
	case GX_RESUME_FRESH: return "fresh";
	case GX_RESUME_CONTINUE: return "continue";
	case GX_RESUME_AGAIN: return "again";
	case GX_RESUME_CHANGED: return "changed";
	}
	return "?";
}

gx_source_t *gx_source_alloc(const struct gx_source_ops *ops,
			     const char *name)
{
	gx_source_t *src = gx_calloc(1, sizeof(*src));
	src->ops = ops;
	src->name = gx_strdup(name ? name : "");
	return src;
}

gx_err_t gx_source_open(const gx_source_conf_t *conf, json_t *resume,
			gx_source_t **out, char *errstr, size_t errstr_size)
{
	*out = NULL;
	switch (conf->type) {
	case GX_SRC_CSV:
		return gx_source_csv_open(conf, resume, out, errstr, errstr_size);
	case GX_SRC_JSONL:
		return gx_source_jsonl_open(conf, resume, out, errstr,
					    errstr_size);
	case GX_SRC_PG:
		return gx_source_pg_open(conf, resume, out, errstr, errstr_size);
	}
	return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
			 "unknown source type");
}

void gx_source_destroy(gx_source_t *src)
{
	if (!src)
		return;
	src->ops->destroy(src);
	for (size_t i = 0; i < src->ncolumns; i++)
		free(src->columns[i]);
	free(src->columns);
	free(src->name);
	free(src);
}

gx_err_t gx_source_next(gx_source_t *src, gx_source_row_t *row, char *errstr,
			size_t errstr_size)
{
	memset(row, 0, sizeof(*row));
	return src->ops->next(src, row, errstr, errstr_size);
}

json_t *gx_source_position(gx_source_t *src)
{
	return src->ops->position(src);
}

gx_resume_t gx_source_resumed(const gx_source_t *src)
{
	return src->resumed;
}

int gx_source_follows(const gx_source_t *src)
{
	return src->follows;
}

int gx_source_unindexed(const gx_source_t *src)
{
	return src->unindexed;
}

const char *const *gx_source_columns(const gx_source_t *src, size_t *n)
{
	*n = src->ncolumns;
	return (const char *const *)src->columns;
}

const char *gx_source_name(const gx_source_t *src)
{
	return src->name;
}

const char *gx_source_start(const gx_source_t *src)
{
	return src->start;
}

/* ---- binder ---- */

struct gx_binder {
	const gx_library_t *lib;
	const gx_mapping_t *map;
	int strict;
	gx_map_t *colfield;	/* column name -> field index + 1 */
	/* The last row's names array and what each name fed (field index,
	 * -1 for none): CSV and table rows reuse one names array, so their
	 * columns are looked up once. */
	const char *const *last_names;
	size_t last_n;
	long *cache;
	size_t cache_cap;
};

gx_binder_t *gx_binder_new(const gx_library_t *lib, const gx_mapping_t *map,
			   int strict)
{
	gx_binder_t *b = gx_calloc(1, sizeof(*b));
	b->lib = lib;
	b->map = map;
	b->strict = strict;
	b->colfield = gx_map_new();
	for (size_t i = 0; i < lib->nfields; i++) {
		const char *col = gx_mapping_column(map, lib, i);
		if (col)
			gx_map_put(b->colfield, col, (void *)(uintptr_t)(i + 1));
	}
	return b;
}

void gx_binder_destroy(gx_binder_t *b)
{
	if (!b)
		return;
	gx_map_destroy(b->colfield, NULL);
	free(b->cache);
	free(b);
}

/* Field index a column feeds, or -1. */
static long binder_field(const gx_binder_t *b, const char *name)
{
	void *v = gx_map_get(b->colfield, name);
	return v ? (long)(uintptr_t)v - 1 : -1;
}

gx_err_t gx_binder_check(gx_binder_t *b, const char *const *names, size_t n,
			 const char *where, char *errstr, size_t errstr_size)
{
	const gx_library_t *lib = b->lib;
	unsigned char *present = gx_calloc(lib->nfields, 1);
	gx_err_t ret = GX_OK;
	for (size_t i = 0; i < n && !ret; i++) {
		long f = binder_field(b, names[i]);
		for (size_t j = 0; j < i && !ret; j++)
			if (!strcmp(names[i], names[j]))
				ret = gx_seterr(errstr, errstr_size,
						GX_ERR_CONFIG,
						"%s: column %zu '%s': named twice",
						where, i + 1, names[i]);
		if (ret)
			break;
		if (f < 0) {
			if (b->strict)
				ret = gx_seterr(errstr, errstr_size,
						GX_ERR_CONFIG,
						"%s: column %zu '%s': not a field "
						"of the library",
						where, i + 1, names[i]);
			continue;
		}
		present[f] = 1;
	}
	for (size_t i = 0; i < lib->nfields && !ret; i++)
		if (!present[i] && !lib->fields[i].nullable) {
			const char *col = gx_mapping_column(b->map, lib, i);
			if (col && strcmp(col, lib->fields[i].name))
				ret = gx_seterr(errstr, errstr_size,
						GX_ERR_CONFIG,
						"%s: required column '%s' (for "
						"field %s) is missing",
						where, col, lib->fields[i].name);
			else
				ret = gx_seterr(errstr, errstr_size,
						GX_ERR_CONFIG,
						"%s: required column '%s' is "
						"missing",
						where, lib->fields[i].name);
		}
	free(present);
	return ret;
}

gx_err_t gx_binder_bind(gx_binder_t *b, const gx_source_row_t *row,
			const char **vals, char *errstr, size_t errstr_size)
{
	for (size_t i = 0; i < b->lib->nfields; i++)
		vals[i] = NULL;
	if (!row->fixed_names || row->names != b->last_names ||
	    row->n != b->last_n) {
		if (row->n > b->cache_cap) {
			b->cache_cap = row->n;
			b->cache = gx_realloc(b->cache,
					      b->cache_cap * sizeof(*b->cache));
		}
		for (size_t i = 0; i < row->n; i++)
			b->cache[i] = binder_field(b, row->names[i]);
		b->last_names = row->fixed_names ? row->names : NULL;
		b->last_n = row->n;
	}
	for (size_t i = 0; i < row->n; i++) {
		long f = b->cache[i];
		if (f < 0) {
			if (b->strict)
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_INVALID,
						 "%s: '%s' is not a field of "
						 "the library",
						 row->where, row->names[i]);
			continue;
		}
		vals[f] = row->values[i];
	}
	return GX_OK;
}
