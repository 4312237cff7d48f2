/*
 * gx_source_pg.c - a PostgreSQL table as a source, read incrementally by a
 * cursor column that grows with every insert and update:
 *
 *   SELECT <columns> FROM <table> WHERE <cursor> > $1
 *   ORDER BY <cursor> LIMIT <batch>
 *
 * again and again; $1 is the cursor value of the last row handed out, as
 * text, so the server compares it in the column's own type (a bigint
 * sequence, a timestamptz updated_at, ...). Identifiers are quoted with
 * PQescapeIdentifier; values only ever travel as bound parameters.
 *
 * Ties: several rows may share a cursor value (two updates in the same
 * millisecond). A full batch ends at the start of its last group of equal
 * values, which is then read whole by the next query; a batch that is one
 * group only is read with "WHERE <cursor> = $1" without a limit. The
 * position token names the last value whose group was handed out whole, so
 * resuming never skips half a group (rows of a group read twice are
 * recognised by the adapter's collect-once digests).
 *
 * What the cursor cannot see: a row whose cursor value is smaller than one
 * already read, i.e. committed after a later value was read (two writers
 * whose transactions commit out of order). The column must therefore grow
 * in commit order; see the README.
 *
 * Timestamps: the session runs with TimeZone UTC and DateStyle ISO, and a
 * timestamptz's "+00" is written "+00:00", so values read as RFC 3339.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_source_impl.h"

#define OID_TIMESTAMPTZ 1184

struct pg_src {
	PGconn *conn;
	char *conninfo;
	char *table, *column;	/* as configured */
	char *query_next;	/* WHERE c > $1 */
	char *query_first;	/* WHERE c IS NOT NULL */
	char *query_tie;	/* WHERE c = $1 */
	long batch;
	size_t cursor_col;	/* index of the cursor in the select list */
	int *tstz;		/* per column: timestamptz, needs "+00:00" */
	json_t *id;
	char *cursor;		/* last value whose group was handed out */
	PGresult *res;
	int nrows, next;	/* usable rows of res, next to hand out */
	const char **values;
	char (*fix)[64];	/* per column: a timestamptz restated */
	char where[400];
};

/* A libpq error message on one line (they end in newlines). */
static const char *pg_msg(const char *m, char *out, size_t out_size)
{
	snprintf(out, out_size, "%s", m ? m : "");
	for (char *p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	size_t n = strlen(out);
	while (n && out[n - 1] == ' ')
		out[--n] = '\0';
	return out;
}

static void pg_src_destroy(gx_source_t *src)
{
	struct pg_src *p = src->impl;
	if (!p)
		return;
	if (p->res)
		PQclear(p->res);
	if (p->conn)
		PQfinish(p->conn);
	json_decref(p->id);
	free(p->conninfo);
	free(p->table);
	free(p->column);
	free(p->query_next);
	free(p->query_first);
	free(p->query_tie);
	free(p->tstz);
	free(p->cursor);
	free(p->values);
	free(p->fix);
	free(p);
}

/* Session settings every connection needs (also after a reconnect). */
static gx_err_t pg_session(struct pg_src *p, char *errstr, size_t errstr_size)
{
	char m[512];
	if (PQstatus(p->conn) != CONNECTION_OK)
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "postgresql: %s",
				 pg_msg(PQerrorMessage(p->conn), m, sizeof(m)));
	if (PQsetClientEncoding(p->conn, "UTF8"))
		return gx_seterr(errstr, errstr_size, GX_ERR_IO,
				 "postgresql: client encoding: %s",
				 pg_msg(PQerrorMessage(p->conn), m, sizeof(m)));
	PGresult *r = PQexec(p->conn, "SET TimeZone = 'UTC'; "
				       "SET DateStyle = 'ISO, YMD'");
	gx_err_t ret = GX_OK;
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		ret = gx_seterr(errstr, errstr_size, GX_ERR_IO,
				"postgresql: session settings: %s",
				pg_msg(PQresultErrorMessage(r), m, sizeof(m)));
	PQclear(r);
	return ret;
}

/* "name" or "schema"."name", quoted; NULL (errstr set) on failure. */
static char *pg_quote_table(PGconn *conn, const char *table, char *errstr,
			    size_t errstr_size)
{
	const char *dot = strchr(table, '.');
	char *a = PQescapeIdentifier(conn, table,
				      dot ? (size_t)(dot - table) : strlen(table));
	char *b = dot ? PQescapeIdentifier(conn, dot + 1, strlen(dot + 1))
		      : NULL;
	char *out = NULL;
	if (!a || (dot && !b))
		gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
			  "source.pg.table: cannot quote '%s'", table);
	else
		out = b ? gx_asprintf("%s.%s", a, b) : gx_strdup(a);
	if (a)
		PQfreemem(a);
	if (b)
		PQfreemem(b);
	return out;
}

/* Hand out rows [0, n) of res; keep res. */
static void pg_take(struct pg_src *p, PGresult *res, int n)
{
	if (p->res)
		PQclear(p->res);
	p->res = res;
	p->nrows = n;
	p->next = 0;
}

/*
 * Every poll asks for the rows past the cursor in cursor order; without a
 * btree index whose first column is the cursor (and that covers every row:
 * not partial), PostgreSQL scans and sorts the whole table each time, and
 * the adapter falls further behind as the table grows. Only for what has
 * indexes of its own (tables, partitioned tables, materialised views): for
 * a view the column's "table" is the view itself, so nothing is said.
 */
static int cursor_unindexed(struct pg_src *p, Oid table, int column)
{
	if (table == InvalidOid || column <= 0)
		return 0;	/* not a column of a relation */
	char t[16], c[16];
	snprintf(t, sizeof(t), "%u", table);
	snprintf(c, sizeof(c), "%d", column);
	const char *params[2] = {t, c};
	PGresult *r = PQexecParams(
	    p->conn,
	    "SELECT c.relkind IN ('r', 'p', 'm') AND NOT EXISTS ("
	    " SELECT 1 FROM pg_catalog.pg_index i"
	    " JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
	    " JOIN pg_catalog.pg_am am ON am.oid = ic.relam"
	    " WHERE i.indrelid = c.oid AND i.indkey[0] = $2::int2"
	    " AND i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree')"
	    " FROM pg_catalog.pg_class c WHERE c.oid = $1::oid",
	    2, NULL, params, NULL, NULL, 0);
	int unindexed = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
			!strcmp(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	return unindexed;
}

/*
 * Run the next query. Returns GX_OK with rows to hand out, GX_ERR_EOF when
 * there are none, GX_ERR_IO when the query failed (the connection is reset
 * on the next call).
 */
static gx_err_t pg_fetch(struct pg_src *p, char *errstr, size_t errstr_size)
{
	char m[512];
	if (PQstatus(p->conn) != CONNECTION_OK) {
		PQreset(p->conn);
		gx_err_t e = pg_session(p, errstr, errstr_size);
		if (e)
			return e;
	}
	const char *params[1] = {p->cursor};
	PGresult *r = p->cursor
			  ? PQexecParams(p->conn, p->query_next, 1, NULL, params,
					  NULL, NULL, 0)
			  : PQexec(p->conn, p->query_first);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		gx_seterr(errstr, errstr_size, GX_ERR_IO, "postgresql: %s",
			  pg_msg(PQresultErrorMessage(r), m, sizeof(m)));
		PQclear(r);
		return GX_ERR_IO;
	}
	int n = PQntuples(r);
	if (n == 0) {
		PQclear(r);
		return GX_ERR_EOF;
	}
	if (n < p->batch) {
		pg_take(p, r, n);
		return GX_OK;
	}
	/* A full batch: leave out its last group of equal cursor values,
	 * which may go on past the limit. */
	int c = (int)p->cursor_col;
	const char *last = PQgetvalue(r, n - 1, c);
	int k = n - 1;
	while (k > 0 && !strcmp(PQgetvalue(r, k - 1, c), last))
		k--;
	if (k > 0) {
		pg_take(p, r, k);
		return GX_OK;
	}
	/* The whole batch is one group: read all of it. */
	char *tie = gx_strdup(last);
	PQclear(r);
	params[0] = tie;
	r = PQexecParams(p->conn, p->query_tie, 1, NULL, params, NULL, NULL, 0);
	free(tie);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		gx_seterr(errstr, errstr_size, GX_ERR_IO, "postgresql: %s",
			  pg_msg(PQresultErrorMessage(r), m, sizeof(m)));
		PQclear(r);
		return GX_ERR_IO;
	}
	n = PQntuples(r);
	if (n == 0) {	/* deleted meanwhile */
		PQclear(r);
		return GX_ERR_EOF;
	}
	pg_take(p, r, n);
	return GX_OK;
}

static gx_err_t pg_src_next(gx_source_t *src, gx_source_row_t *row,
			    char *errstr, size_t errstr_size)
{
	struct pg_src *p = src->impl;
	if (p->next >= p->nrows) {
		gx_err_t e = pg_fetch(p, errstr, errstr_size);
		if (e)
			return e;
	}
	int i = p->next++;
	for (size_t j = 0; j < src->ncolumns; j++) {
		if (PQgetisnull(p->res, i, (int)j)) {
			p->values[j] = NULL;
			continue;
		}
		const char *v = PQgetvalue(p->res, i, (int)j);
		size_t n = strlen(v);
		/* "...+00" -> "...+00:00" */
		if (p->tstz[j] && n >= 3 && n + 4 < sizeof(p->fix[j]) &&
		    (v[n - 3] == '+' || v[n - 3] == '-') && v[n - 4] != ':') {
			snprintf(p->fix[j], sizeof(p->fix[j]), "%s:00", v);
			v = p->fix[j];
		}
		p->values[j] = v;
	}
	const char *cur = PQgetvalue(p->res, i, (int)p->cursor_col);
	/* The group of this value is handed out whole after its last row. */
	if (i + 1 >= p->nrows ||
	    strcmp(PQgetvalue(p->res, i + 1, (int)p->cursor_col), cur)) {
		free(p->cursor);
		p->cursor = gx_strdup(cur);
	}
	snprintf(p->where, sizeof(p->where), "%s:%s=%.200s", p->table,
		 p->column, cur);
	row->n = src->ncolumns;
	row->names = (const char *const *)src->columns;
	row->values = p->values;
	row->fixed_names = 1;
	row->where = p->where;
	row->row_key = cur;
	return GX_OK;
}

static json_t *pg_src_position(gx_source_t *src)
{
	struct pg_src *p = src->impl;
	json_t *pos = json_object();
	json_object_set(pos, "source", p->id);
	json_object_set_new(pos, "cursor",
			    p->cursor ? json_string(p->cursor) : json_null());
	return pos;
}

static const struct gx_source_ops pg_ops = {pg_src_next, pg_src_position,
					    pg_src_destroy};

gx_err_t gx_source_pg_open(const gx_source_conf_t *conf, json_t *resume,
			   gx_source_t **out, char *errstr, size_t errstr_size)
{
	gx_err_t ret;
	if (!conf->pg_table || !*conf->pg_table || !conf->pg_column ||
	    !*conf->pg_column)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "source.pg.table and source.pg.cursor.column "
				 "are required");
	gx_source_t *src = gx_source_alloc(&pg_ops, conf->pg_table);
	struct pg_src *p = gx_calloc(1, sizeof(*p));
	src->impl = p;
	src->follows = 1;
	p->table = gx_strdup(conf->pg_table);
	p->column = gx_strdup(conf->pg_column);
	p->batch = conf->pg_batch > 0 ? conf->pg_batch : 1000;
	char *tq = NULL, *cq = NULL;
	PGresult *r = NULL;
	gx_buf_t sel;
	gx_buf_init(&sel);
	char m[512];

	p->conn = PQconnectdb(conf->pg_conninfo ? conf->pg_conninfo : "");
	if (!p->conn) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_IO,
				"postgresql: out of memory");
		goto fail;
	}
	if ((ret = pg_session(p, errstr, errstr_size)))
		goto fail;
	if (!(tq = pg_quote_table(p->conn, p->table, errstr, errstr_size))) {
		ret = GX_ERR_CONFIG;
		goto fail;
	}
	char *c = PQescapeIdentifier(p->conn, p->column, strlen(p->column));
	if (!c) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"source.pg.cursor.column: cannot quote it");
		goto fail;
	}
	cq = gx_strdup(c);
	PQfreemem(c);

	/* Which of the wanted columns the table has. */
	char *probe = gx_asprintf("SELECT * FROM %s LIMIT 0", tq);
	r = PQexec(p->conn, probe);
	free(probe);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"postgresql: table %s: %s", p->table,
				pg_msg(PQresultErrorMessage(r), m, sizeof(m)));
		goto fail;
	}
	int nf = PQnfields(r), cursor_at = -1;
	for (int i = 0; i < nf; i++)
		if (!strcmp(PQfname(r, i), p->column))
			cursor_at = i;
	if (cursor_at < 0) {
		ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				"postgresql: table %s has no column %s",
				p->table, p->column);
		goto fail;
	}
	src->unindexed = cursor_unindexed(p, PQftable(r, cursor_at),
					  PQftablecol(r, cursor_at));
	size_t cap = conf->pg_ncolumns + 1;
	src->columns = gx_calloc(cap, sizeof(char *));
	p->tstz = gx_calloc(cap, sizeof(int));
	int have_cursor = 0;
	for (size_t w = 0; w < conf->pg_ncolumns; w++) {
		int at = -1;
		for (int i = 0; i < nf; i++)
			if (!strcmp(PQfname(r, i), conf->pg_columns[w]))
				at = i;
		int dup = 0;
		for (size_t k = 0; k < src->ncolumns; k++)
			dup |= !strcmp(src->columns[k], conf->pg_columns[w]);
		if (at < 0 || dup)
			continue;
		if (at == cursor_at) {
			have_cursor = 1;
			p->cursor_col = src->ncolumns;
		}
		p->tstz[src->ncolumns] = PQftype(r, at) == OID_TIMESTAMPTZ;
		src->columns[src->ncolumns++] = gx_strdup(conf->pg_columns[w]);
	}
	if (!have_cursor) {
		p->cursor_col = src->ncolumns;
		p->tstz[src->ncolumns] = PQftype(r, cursor_at) == OID_TIMESTAMPTZ;
		src->columns[src->ncolumns++] = gx_strdup(p->column);
	}
	PQclear(r);
	r = NULL;
	for (size_t k = 0; k < src->ncolumns; k++) {
		char *q = PQescapeIdentifier(p->conn, src->columns[k],
					      strlen(src->columns[k]));
		if (!q) {
			ret = gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					"column '%s': cannot quote it",
					src->columns[k]);
			goto fail;
		}
		gx_buf_printf(&sel, "%s%s", k ? ", " : "", q);
		PQfreemem(q);
	}
	gx_buf_cstr(&sel);
	p->query_first = gx_asprintf("SELECT %s FROM %s WHERE %s IS NOT NULL "
				     "ORDER BY %s LIMIT %ld",
				     sel.data, tq, cq, cq, p->batch);
	p->query_next = gx_asprintf("SELECT %s FROM %s WHERE %s > $1 "
				    "ORDER BY %s LIMIT %ld",
				    sel.data, tq, cq, cq, p->batch);
	p->query_tie = gx_asprintf("SELECT %s FROM %s WHERE %s = $1",
				   sel.data, tq, cq);
	p->values = gx_calloc(src->ncolumns, sizeof(char *));
	p->fix = gx_calloc(src->ncolumns, sizeof(*p->fix));

	p->id = json_object();
	json_object_set_new(p->id, "type", json_string("pg"));
	json_object_set_new(p->id, "table", json_string(p->table));
	json_object_set_new(p->id, "column", json_string(p->column));
	src->resumed = GX_RESUME_FRESH;
	if (json_is_object(resume)) {
		json_t *cur = json_object_get(resume, "cursor");
		if (!json_equal(json_object_get(resume, "source"), p->id) ||
		    !(json_is_string(cur) || json_is_null(cur))) {
			src->resumed = GX_RESUME_CHANGED;
		} else {
			src->resumed = GX_RESUME_CONTINUE;
			if (json_is_string(cur))
				p->cursor = gx_strdup(json_string_value(cur));
		}
	}
	if (p->cursor)
		snprintf(src->start, sizeof(src->start), "%s > %.120s",
			 p->column, p->cursor);
	else
		snprintf(src->start, sizeof(src->start), "first row");
	free(tq);
	free(cq);
	gx_buf_free(&sel);
	*out = src;
	return GX_OK;
fail:
	if (r)
		PQclear(r);
	free(tq);
	free(cq);
	gx_buf_free(&sel);
	gx_source_destroy(src);
	return ret;
}
