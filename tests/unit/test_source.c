/*
 * test_source.c - adapter sources (broker/lib/gx_source_*.c): the mapping
 * file, the binder from source columns to schema fields, JSON Lines rows
 * (values, refusals naming their line without quoting the row, limits), the
 * CSV source, and continuing either file kind after a position token: the
 * next row, its line, and what happens when the file changed or its pass
 * was done.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx.h"
#include "gx_schema.h"
#include "gx_source.h"

static gx_schemas_t *schemas;
static const gx_library_t *pop;
static char err[1024];
static char dir[64];

static void setup(void)
{
	cr_assert_eq(gx_schemas_new(&schemas, err, sizeof(err)), GX_OK, "%s", err);
	pop = gx_schemas_library(schemas, "population");
	cr_assert_not_null(pop);
	snprintf(dir, sizeof(dir), "/tmp/gx-test-source.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	err[0] = '\0';
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	gx_schemas_destroy(schemas);
}

TestSuite(source, .init = setup, .fini = teardown);

/* Write a file under the test's directory; returns its path (static). */
static const char *put(const char *name, const char *text, size_t len)
{
	static char path[8][256];
	static int k;
	char *p = path[k++ % 8];
	snprintf(p, 256, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return p;
}

static gx_mapping_t *map_of(const char *text)
{
	gx_mapping_t *m = NULL;
	gx_err_t e = gx_mapping_parse(pop, text, strlen(text), "t.map", &m, err,
				      sizeof(err));
	cr_assert_eq(e, GX_OK, "%s", err);
	return m;
}

static const char *map_error(const char *text)
{
	gx_mapping_t *m = NULL;
	gx_err_t e = gx_mapping_parse(pop, text, strlen(text), "t.map", &m, err,
				      sizeof(err));
	cr_assert_eq(e, GX_ERR_CONFIG, "parsed: %s", text);
	cr_assert_null(m);
	return err;
}

static size_t field(const char *name)
{
	const gx_field_t *f = gx_library_field(pop, name);
	cr_assert_not_null(f, "%s", name);
	return f->index;
}

/* ---- mapping ---- */

Test(source, mapping_names_columns_trims_and_skips_comments)
{
	gx_mapping_t *m = map_of("\xEF\xBB\xBF# 人口库\r\n"
				 "citizen_id = 公民身份号码\r\n"
				 "\n"
				 "   name=姓 名  \n"
				 "\taddress\t=\tzz\t# not a comment: part of the name\n");
	cr_expect_str_eq(gx_mapping_column(m, pop, field("citizen_id")), "公民身份号码");
	cr_expect_str_eq(gx_mapping_column(m, pop, field("name")), "姓 名");
	cr_expect_str_eq(gx_mapping_column(m, pop, field("address")),
			 "zz\t# not a comment: part of the name");
	/* Not listed: its own name. */
	cr_expect_str_eq(gx_mapping_column(m, pop, field("sex")), "sex");
	cr_expect_null(gx_mapping_column(m, pop, 999));
	gx_mapping_destroy(m);
	/* No mapping: every field by its own name. */
	cr_expect_str_eq(gx_mapping_column(NULL, pop, field("birth_date")), "birth_date");
}

Test(source, mapping_a_field_to_another_fields_name_takes_that_column)
{
	/* address is read from column "name"; name, not listed, must not
	 * read that column too. */
	gx_mapping_t *m = map_of("address = name\n");
	cr_expect_str_eq(gx_mapping_column(m, pop, field("address")), "name");
	cr_expect_null(gx_mapping_column(m, pop, field("name")));
	gx_mapping_destroy(m);
}

Test(source, mapping_errors_name_file_and_line)
{
	cr_expect_str_eq(map_error("citizen_id = a\n\nfoo = b\n"),
			 "t.map:3: 'foo' is not a field of the population library");
	cr_expect_str_eq(map_error("name = a\nname = b\n"),
			 "t.map:2: field name is mapped twice");
	cr_expect_str_eq(map_error("name = a\naddress = a\n"),
			 "t.map:2: column 'a' already feeds field name");
	cr_expect_str_eq(map_error("name a\n"),
			 "t.map:1: want 'schema_field = source_column'");
	cr_expect_str_eq(map_error("name = \n"), "t.map:1: empty column name");
	cr_expect_str_eq(map_error(" = x\n"), "t.map:1: empty field name");
	gx_mapping_t *m = NULL;
	cr_expect_eq(gx_mapping_parse(pop, "name = a\0b\n", 11, "t.map", &m, err,
				      sizeof(err)), GX_ERR_CONFIG);
	cr_expect_str_eq(err, "t.map:1: NUL byte");
	cr_expect_eq(gx_mapping_load(pop, "/nonexistent/x.map", &m, err, sizeof(err)),
		     GX_ERR_CONFIG);
}

Test(source, mapping_load_reads_a_file)
{
	const char *p = put("m.map", "name = 姓名\n", strlen("name = 姓名\n"));
	gx_mapping_t *m = NULL;
	cr_assert_eq(gx_mapping_load(pop, p, &m, err, sizeof(err)), GX_OK, "%s", err);
	cr_expect_str_eq(gx_mapping_column(m, pop, field("name")), "姓名");
	gx_mapping_destroy(m);
}

/* ---- binder ---- */

Test(source, binder_checks_known_columns)
{
	gx_binder_t *b = gx_binder_new(pop, NULL, 1);
	const char *ok[] = {"citizen_id", "name", "sex", "ethnicity", "birth_date",
			    "division_code", "address", "status", "updated_at"};
	cr_expect_eq(gx_binder_check(b, ok, 9, "p.csv:1", err, sizeof(err)), GX_OK, "%s", err);
	const char *typo[] = {"citizen_id", "nmae"};
	cr_expect_eq(gx_binder_check(b, typo, 2, "p.csv:1", err, sizeof(err)), GX_ERR_CONFIG);
	cr_expect_str_eq(err, "p.csv:1: column 2 'nmae': not a field of the library");
	const char *twice[] = {"name", "citizen_id", "name"};
	cr_expect_eq(gx_binder_check(b, twice, 3, "p.csv:1", err, sizeof(err)), GX_ERR_CONFIG);
	cr_expect_str_eq(err, "p.csv:1: column 3 'name': named twice");
	cr_expect_eq(gx_binder_check(b, ok + 1, 8, "p.csv:1", err, sizeof(err)), GX_ERR_CONFIG);
	cr_expect_str_eq(err, "p.csv:1: required column 'citizen_id' is missing");
	gx_binder_destroy(b);

	/* With a mapping, unknown columns are ignored, and a missing column
	 * is named with its field. */
	gx_mapping_t *m = map_of("citizen_id = sfzh\n");
	b = gx_binder_new(pop, m, 0);
	const char *extra[] = {"sfzh", "name", "sex", "ethnicity", "birth_date",
			       "division_code", "address", "status", "updated_at", "seq"};
	cr_expect_eq(gx_binder_check(b, extra, 10, "people", err, sizeof(err)), GX_OK, "%s", err);
	cr_expect_eq(gx_binder_check(b, extra + 1, 9, "people", err, sizeof(err)), GX_ERR_CONFIG);
	cr_expect_str_eq(err, "people: required column 'sfzh' (for field citizen_id) is missing");
	gx_binder_destroy(b);
	gx_mapping_destroy(m);
}

Test(source, binder_puts_each_value_at_its_field)
{
	gx_mapping_t *m = map_of("citizen_id = 公民身份号码\nname = 姓名\n");
	gx_binder_t *b = gx_binder_new(pop, m, 0);
	const char **vals = calloc(pop->nfields, sizeof(char *));
	const char *names[] = {"姓名", "备注", "公民身份号码", "status"};
	const char *values[] = {"王五", "ignored", "140105198001010011", NULL};
	gx_source_row_t row = {4, names, values, 1, "x:1", 1, NULL, NULL};
	for (int pass = 0; pass < 2; pass++) { /* the second from the cache */
		cr_assert_eq(gx_binder_bind(b, &row, vals, err, sizeof(err)), GX_OK);
		cr_expect_str_eq(vals[field("name")], "王五");
		cr_expect_str_eq(vals[field("citizen_id")], "140105198001010011");
		cr_expect_null(vals[field("status")]);
		cr_expect_null(vals[field("address")]);
	}
	/* Rows whose names vary (JSON Lines) are looked up every time. */
	const char *names2[] = {"status", "姓名"};
	const char *values2[] = {"ALIVE", "赵六"};
	gx_source_row_t row2 = {2, names2, values2, 0, "x:2", 2, NULL, NULL};
	cr_assert_eq(gx_binder_bind(b, &row2, vals, err, sizeof(err)), GX_OK);
	cr_expect_str_eq(vals[field("status")], "ALIVE");
	cr_expect_str_eq(vals[field("name")], "赵六");
	cr_expect_null(vals[field("citizen_id")]);
	gx_binder_destroy(b);
	gx_mapping_destroy(m);

	/* Strict: a column that feeds nothing refuses the row. */
	b = gx_binder_new(pop, NULL, 1);
	cr_expect_eq(gx_binder_bind(b, &row2, vals, err, sizeof(err)), GX_ERR_INVALID);
	cr_expect_str_eq(err, "x:2: '姓名' is not a field of the library");
	gx_binder_destroy(b);
	free(vals);
}

/* ---- JSON Lines ---- */

static gx_source_t *open_src(gx_srctype_t type, const char *path, json_t *resume)
{
	gx_source_conf_t sc = {0};
	sc.type = type;
	sc.path = path;
	gx_source_t *src = NULL;
	gx_err_t e = gx_source_open(&sc, resume, &src, err, sizeof(err));
	cr_assert_eq(e, GX_OK, "%s", err);
	return src;
}

/*
 * Every row as "LINE{k=v,k=v}" (null as ~), an error as "LINE!reason:
 * message" (the message after the "file:" prefix), up to max rows.
 */
static char *render(gx_source_t *src, int max)
{
	gx_buf_t b;
	gx_buf_init(&b);
	for (int i = 0; i < max; i++) {
		gx_source_row_t row;
		gx_err_t e = gx_source_next(src, &row, err, sizeof(err));
		if (e == GX_ERR_EOF)
			break;
		if (e) {
			cr_assert_eq(e, GX_ERR_INVALID, "%s", err);
			const char *colon = strchr(err, ':');
			gx_buf_printf(&b, "%ld!%s:%s\n", row.line, row.reason,
				      colon ? colon + 1 : err);
			continue;
		}
		gx_buf_printf(&b, "%ld{", row.line);
		for (size_t k = 0; k < row.n; k++)
			gx_buf_printf(&b, "%s%s=%s", k ? "," : "", row.names[k],
				      row.values[k] ? row.values[k] : "~");
		gx_buf_printf(&b, "}\n");
	}
	char *s = strdup(b.data ? gx_buf_cstr(&b) : "");
	gx_buf_free(&b);
	return s;
}

Test(source, jsonl_values_become_text)
{
	const char *text =
	    "\xEF\xBB\xBF{\"a\": \"文本\", \"b\": 7, \"c\": -1.5, \"d\": true, \"e\": null}\n"
	    "\n"
	    "   \r\n"
	    "{\"n\": 0.1, \"m\": 1e300, \"k\": 12345678901234, \"f\": false}\r\n"
	    "{}\n"
	    "{\"last\": \"no newline\"}";
	gx_source_t *src = open_src(GX_SRC_JSONL, put("a.jsonl", text, strlen(text)), NULL);
	char *got = render(src, 100);
	cr_expect_str_eq(got,
			 "1{a=文本,b=7,c=-1.5,d=true,e=~}\n"
			 "4{n=0.1,m=1e+300,k=12345678901234,f=false}\n"
			 "5{}\n"
			 "6{last=no newline}\n");
	free(got);
	cr_expect_null(gx_source_columns(src, &(size_t){0}));
	cr_expect_eq(gx_source_follows(src), 0);
	gx_source_destroy(src);
}

Test(source, jsonl_bad_lines_are_refused_with_their_line_and_the_rest_flows)
{
	const char *text =
	    "{\"citizen_id\": \"140105198001010011\", \"name\": 王五}\n" /* 1 */
	    "[1, 2]\n"						     /* 2 */
	    "{\"a\": {\"b\": 1}}\n"					     /* 3 */
	    "{\"a\": [1]}\n"						     /* 4 */
	    "{\"a\": 1, \"a\": 2}\n"					     /* 5 */
	    "{\"a\": \"ok\"}\n"					     /* 6 */
	    "{\"a\": \"\\u0000\"}\n"					     /* 7 */
	    "{\"a\": \"\xff\"}\n"					     /* 8 */
	    "{\"a\": 1} {\"b\": 2}\n"					     /* 9 */
	    "\"just text\"\n"						     /* 10 */
	    "{\"a\": \"ok again\"}\n";					     /* 11 */
	gx_source_t *src = open_src(GX_SRC_JSONL, put("b.jsonl", text, strlen(text)), NULL);
	char *got = render(src, 100);
	/* jansson's own words, without the text it quotes ("near '...'"):
	 * that text may be personal data. */
	cr_expect_str_eq(got,
			 "1!malformed_json:1: column 46: invalid token\n"
			 "2!malformed_json:2: not a JSON object\n"
			 "3!invalid_value:3: 'a': objects and arrays are not accepted as values\n"
			 "4!invalid_value:4: 'a': objects and arrays are not accepted as values\n"
			 "5!malformed_json:5: column 12: duplicate object key\n"
			 "6{a=ok}\n"
			 "7!malformed_json:7: column 14: \\u0000 is not allowed without JSON_ALLOW_NUL\n"
			 "8!malformed_json:8: column 7: unable to decode byte 0xff\n"
			 "9!malformed_json:9: column 10: end of file expected\n"
			 "10!malformed_json:10: column 11: '[' or '{' expected\n"
			 "11{a=ok again}\n");
	cr_expect(!strstr(got, "王五"));
	free(got);
	gx_source_destroy(src);
}

Test(source, jsonl_overlong_line_is_refused_without_being_kept)
{
	size_t big = (1u << 20) + 100;
	char *text = malloc(big + 64);
	size_t n = 0;
	n += (size_t)sprintf(text, "{\"a\": \"");
	memset(text + n, 'x', big);
	n += big;
	n += (size_t)sprintf(text + n, "\"}\n{\"b\": 1}\n");
	gx_source_t *src = open_src(GX_SRC_JSONL, put("c.jsonl", text, n), NULL);
	char *got = render(src, 10);
	cr_expect_str_eq(got, "1!malformed_json:1: line longer than 1048576 bytes\n2{b=1}\n");
	free(got);
	free(text);
	gx_source_destroy(src);
}

/* Read k rows and return the position token after them. */
static json_t *after(gx_source_t *src, int k)
{
	for (int i = 0; i < k; i++) {
		gx_source_row_t row;
		gx_err_t e = gx_source_next(src, &row, err, sizeof(err));
		cr_assert(e == GX_OK || e == GX_ERR_INVALID, "%s", err);
	}
	return gx_source_position(src);
}

Test(source, jsonl_continues_after_a_position)
{
	const char *text = "{\"r\": 1}\n\n{\"r\": 2}\r\nbad\n{\"r\": 3}\n{\"r\": 4}\n";
	const char *p = put("d.jsonl", text, strlen(text));
	gx_source_t *src = open_src(GX_SRC_JSONL, p, NULL);
	cr_expect_eq(gx_source_resumed(src), GX_RESUME_FRESH);
	json_t *pos = after(src, 3); /* r1, r2, bad */
	gx_source_destroy(src);
	cr_expect_eq(json_integer_value(json_object_get(pos, "line")), 5);
	cr_expect_eq(json_integer_value(json_object_get(pos, "offset")), 24);
	cr_expect(json_is_false(json_object_get(pos, "done")));

	src = open_src(GX_SRC_JSONL, p, pos);
	cr_expect_eq(gx_source_resumed(src), GX_RESUME_CONTINUE);
	cr_expect_str_eq(gx_source_start(src), "line 5");
	char *got = render(src, 10);
	cr_expect_str_eq(got, "5{r=3}\n6{r=4}\n");
	free(got);
	json_t *end = gx_source_position(src);
	cr_expect(json_is_true(json_object_get(end, "done")));
	gx_source_destroy(src);

	/* A pass that was done: read again from the start. */
	src = open_src(GX_SRC_JSONL, p, end);
	cr_expect_eq(gx_source_resumed(src), GX_RESUME_AGAIN);
	got = render(src, 1);
	cr_expect_str_eq(got, "1{r=1}\n");
	free(got);
	gx_source_destroy(src);

	/* Another file under the same name: from the start. */
	const char *text2 = "{\"r\": 10}\n{\"r\": 20}\n{\"r\": 30}\n{\"r\": 40}\n{\"r\": 50}\n";
	put("d.jsonl", text2, strlen(text2));
	src = open_src(GX_SRC_JSONL, p, pos);
	cr_expect_eq(gx_source_resumed(src), GX_RESUME_CHANGED);
	got = render(src, 1);
	cr_expect_str_eq(got, "1{r=10}\n");
	free(got);
	gx_source_destroy(src);
	json_decref(pos);
	json_decref(end);
}

Test(source, a_missing_file_is_a_configuration_error)
{
	gx_source_conf_t sc = {0};
	sc.type = GX_SRC_JSONL;
	sc.path = "/nonexistent/x.jsonl";
	gx_source_t *src = NULL;
	cr_expect_eq(gx_source_open(&sc, NULL, &src, err, sizeof(err)), GX_ERR_CONFIG);
	cr_expect_str_eq(err, "/nonexistent/x.jsonl: No such file or directory");
	cr_expect_null(src);
	sc.type = GX_SRC_CSV;
	sc.path = dir;
	cr_expect_eq(gx_source_open(&sc, NULL, &src, err, sizeof(err)), GX_ERR_CONFIG);
}

/* ---- CSV ---- */

Test(source, csv_rows_with_the_header_as_names)
{
	const char *text = "\xEF\xBB\xBF" "a,b\r\n1,2\r\n\"x\ny\",3\r\n4\r\n\"bad\"x,5\r\n6,7";
	gx_source_t *src = open_src(GX_SRC_CSV, put("a.csv", text, strlen(text)), NULL);
	size_t n;
	const char *const *cols = gx_source_columns(src, &n);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(cols[0], "a");
	cr_expect_str_eq(gx_source_start(src), "line 2");
	char *got = render(src, 100);
	cr_expect_str_eq(got,
			 "2{a=1,b=2}\n"
			 "3{a=x\ny,b=3}\n"
			 "5!wrong_column_count:5: expected 2 columns, got 1\n"
			 "6!malformed_csv:6: field 1: unexpected character after a closing quote\n"
			 "7{a=6,b=7}\n");
	free(got);
	gx_source_destroy(src);

	gx_source_conf_t sc = {0};
	sc.type = GX_SRC_CSV;
	sc.path = put("empty.csv", "", 0);
	cr_expect_eq(gx_source_open(&sc, NULL, &src, err, sizeof(err)), GX_ERR_CONFIG);
	cr_expect_str_eq(err, "source is empty: no header row");
}

Test(source, csv_continues_after_a_position_with_the_files_own_lines)
{
	/* Line ends of every kind, and rows spanning lines, before and
	 * after the position. */
	const char *text = "a,b\n"		/* 1 */
			   "1,\"x\r\ny\"\r\n"	/* 2-3 */
			   "2,z\r"		/* 4 (lone CR) */
			   "\r\n"		/* 5 blank (CRLF) */
			   "3,\"p\nq\"\n"	/* 6-7 */
			   "4,w\n"		/* 8 */
			   "\"bad,5\n"		/* 9: unterminated, runs to the end */
			   "";
	const char *p = put("b.csv", text, strlen(text));
	gx_source_t *src = open_src(GX_SRC_CSV, p, NULL);
	json_t *pos = after(src, 2);
	gx_source_destroy(src);
	cr_expect_eq(json_integer_value(json_object_get(pos, "line")), 5);

	src = open_src(GX_SRC_CSV, p, pos);
	cr_expect_eq(gx_source_resumed(src), GX_RESUME_CONTINUE);
	char *got = render(src, 100);
	cr_expect_str_eq(got,
			 "6{a=3,b=p\nq}\n"
			 "8{a=4,b=w}\n"
			 "9!malformed_csv:9: unterminated quoted field\n");
	free(got);
	json_t *end = gx_source_position(src);
	cr_expect(json_is_true(json_object_get(end, "done")));
	cr_expect_eq(json_integer_value(json_object_get(end, "offset")), (json_int_t)strlen(text));
	cr_expect_eq(json_integer_value(json_object_get(end, "line")), 10);
	gx_source_destroy(src);

	/* A position at the end of a file read to its end: a new pass. */
	src = open_src(GX_SRC_CSV, p, end);
	cr_expect_eq(gx_source_resumed(src), GX_RESUME_AGAIN);
	cr_expect_str_eq(gx_source_start(src), "line 2");
	gx_source_destroy(src);

	/* A position past the end of the file (it was truncated): changed. */
	json_t *far = json_deep_copy(pos);
	json_object_set_new(far, "offset", json_integer(1 << 20));
	src = open_src(GX_SRC_CSV, p, far);
	cr_expect_eq(gx_source_resumed(src), GX_RESUME_CHANGED);
	gx_source_destroy(src);
	/* A position of a JSON Lines source over the same file: changed. */
	src = open_src(GX_SRC_JSONL, p, pos);
	cr_expect_eq(gx_source_resumed(src), GX_RESUME_CHANGED);
	gx_source_destroy(src);
	json_decref(far);
	json_decref(pos);
	json_decref(end);
}

Test(source, csv_position_is_exact_after_every_row_of_a_long_file)
{
	/* 5000 rows, every 7th spanning two lines, every 5th ending in CRLF:
	 * reopening after any row gives exactly the next one. */
	gx_buf_t b;
	gx_buf_init(&b);
	gx_buf_printf(&b, "n,t\n");
	for (int i = 0; i < 5000; i++)
		gx_buf_printf(&b, "%d,%s%s", i, i % 7 ? "v" : "\"v\nw\"",
			      i % 5 ? "\n" : "\r\n");
	const char *p = put("c.csv", b.data, b.len);
	gx_buf_free(&b);
	gx_source_t *src = open_src(GX_SRC_CSV, p, NULL);
	long line = 2;
	for (int i = 0; i < 5000; i++) {
		gx_source_row_t row;
		cr_assert_eq(gx_source_next(src, &row, err, sizeof(err)), GX_OK, "%s", err);
		cr_assert_eq(row.line, line, "row %d", i);
		line += 1 + (i % 7 == 0);
		if (i % 613 == 0) {
			json_t *pos = gx_source_position(src);
			cr_assert_eq(json_integer_value(json_object_get(pos, "line")), line);
			gx_source_t *again = open_src(GX_SRC_CSV, p, pos);
			gx_source_row_t r2;
			gx_err_t e = gx_source_next(again, &r2, err, sizeof(err));
			if (i < 4999) {
				cr_assert_eq(e, GX_OK, "%s", err);
				cr_assert_eq(r2.line, line);
				cr_assert_eq(atoi(r2.values[0]), i + 1);
			}
			gx_source_destroy(again);
			json_decref(pos);
		}
	}
	gx_source_destroy(src);
}

Test(source, type_names)
{
	gx_srctype_t t;
	cr_expect_eq(gx_srctype_parse("jsonl", &t), GX_OK);
	cr_expect_eq(t, GX_SRC_JSONL);
	cr_expect_eq(gx_srctype_parse("xml", &t), GX_ERR_INVALID);
	cr_expect_str_eq(gx_srctype_name(GX_SRC_PG), "pg");
	cr_expect_str_eq(gx_resume_name(GX_RESUME_AGAIN), "again");
}
