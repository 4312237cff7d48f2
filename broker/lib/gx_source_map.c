/*
 * gx_source_map.c - the mapping file: "schema_field = source_column" lines
 * naming, per schema field, the source column it is read from.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_source.h"

struct gx_mapping {
	size_t nfields;
	char **column;		/* per field index: mapped column or NULL */
	unsigned char *blocked;	/* own name taken by another field's mapping */
};

void gx_mapping_destroy(gx_mapping_t *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfields; i++)
		free(m->column[i]);
	free(m->column);
	free(m->blocked);
	free(m);
}

/* Trim spaces and tabs (and a CR) off both ends, in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

gx_err_t gx_mapping_parse(const gx_library_t *lib, const char *text,
			  size_t len, const char *name, gx_mapping_t **out,
			  char *errstr, size_t errstr_size)
{
	gx_mapping_t *m = gx_calloc(1, sizeof(*m));
	m->nfields = lib->nfields;
	m->column = gx_calloc(lib->nfields, sizeof(char *));
	m->blocked = gx_calloc(lib->nfields, 1);
	gx_err_t ret = GX_OK;
	long lineno = 0;
	const char *p = text, *end = text + len;

	*out = NULL;
	if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
		p += 3;
	while (p < end && !ret) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = gx_strndup(p, n);
		p += n + 1;
		lineno++;
		if (strlen(line) != n) {
			ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"%s:%ld: NUL byte", name, lineno);
			free(line);
			break;
		}
		char *s = trim(line);
		if (!*s || *s == '#') {
			free(line);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) {
			ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"%s:%ld: want 'schema_field = "
					"source_column'", name, lineno);
			free(line);
			break;
		}
		*eq = '\0';
		char *field = trim(s), *col = trim(eq + 1);
		const gx_field_t *f = gx_library_field(lib, field);
		if (!*field || !*col)
			ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"%s:%ld: empty %s name", name, lineno,
					*field ? "column" : "field");
		else if (!f)
			ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"%s:%ld: '%s' is not a field of the %s "
					"library", name, lineno, field,
					lib->name);
		else if (m->column[f->index])
			ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"%s:%ld: field %s is mapped twice",
					name, lineno, field);
		else {
			for (size_t i = 0; i < lib->nfields && !ret; i++)
				if (m->column[i] && !strcmp(m->column[i], col))
					ret = gx_seterr(
					    errstr, errstr_size, GX_ERR_CONFIG,
					    "%s:%ld: column '%s' already feeds "
					    "field %s", name, lineno, col,
					    lib->fields[i].name);
			if (!ret)
				m->column[f->index] = gx_strdup(col);
		}
		free(line);
	}
	if (ret) {
		gx_mapping_destroy(m);
		return ret;
	}
	/* A field left out keeps its own name as column, unless a mapped
	 * field reads a column of that name. */
	for (size_t i = 0; i < lib->nfields; i++) {
		if (m->column[i])
			continue;
		for (size_t j = 0; j < lib->nfields; j++)
			if (m->column[j] &&
			    !strcmp(m->column[j], lib->fields[i].name))
				m->blocked[i] = 1;
	}
	*out = m;
	return GX_OK;
}

gx_err_t gx_mapping_load(const gx_library_t *lib, const char *path,
			 gx_mapping_t **out, char *errstr, size_t errstr_size)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG, "%s: %s",
				 path, strerror(errno));
	gx_buf_t b;
	gx_buf_init(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		gx_buf_append(&b, chunk, n);
		if (b.len > (1u << 20)) {
			fclose(fp);
			gx_buf_free(&b);
			return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					 "%s: larger than 1 MiB", path);
		}
	}
	int bad = ferror(fp);
	fclose(fp);
	if (bad) {
		gx_buf_free(&b);
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "%s: read error", path);
	}
	gx_err_t ret = gx_mapping_parse(lib, b.data ? b.data : "", b.len, path,
					out, errstr, errstr_size);
	gx_buf_free(&b);
	return ret;
}

const char *gx_mapping_column(const gx_mapping_t *m, const gx_library_t *lib,
			      size_t i)
{
	if (i >= lib->nfields)
		return NULL;
	if (!m)
		return lib->fields[i].name;
	if (m->column[i])
		return m->column[i];
	return m->blocked[i] ? NULL : lib->fields[i].name;
}
