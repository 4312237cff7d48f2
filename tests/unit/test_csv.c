/*
 * test_csv.c - the streaming CSV reader (broker/lib/gx_csv.c): quoting,
 * embedded newlines and the start line of every row, CRLF / lone CR, BOM,
 * UTF-8 byte for byte, blank lines, the exact error messages, recovery after
 * a bad row, the field size limit and a 100k-row stream.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gx_csv.h"

/* A reader over the len bytes of s (may hold NULs), named "t.csv". */
static gx_csv_t *csv_open_mem(const char *s, size_t len, FILE **fpp)
{
	FILE *fp;
	if (len == 0) {
		fp = tmpfile();	/* fmemopen refuses size 0 on some libcs */
	} else {
		fp = fmemopen((void *)s, len, "r");
	}
	cr_assert_not_null(fp);
	*fpp = fp;
	gx_csv_t *csv = gx_csv_new(fp, "t.csv");
	cr_assert_not_null(csv);
	return csv;
}

/*
 * Read the whole input and describe it, one line per call:
 *   "LINE:[f1|f2|...]" for a row, "!MESSAGE" for an error;
 * stops at EOF (or after 1000 calls, to catch a reader that never ends).
 */
static char *csv_render_n(const char *s, size_t len, size_t max_field)
{
	FILE *fp;
	gx_csv_t *csv = csv_open_mem(s, len, &fp);
	if (max_field)
		gx_csv_set_max_field(csv, max_field);
	gx_buf_t out;
	gx_buf_init(&out);
	for (int i = 0; i < 1000; i++) {
		gx_csv_row_t row;
		char err[256] = "";
		gx_err_t rc = gx_csv_next(csv, &row, err, sizeof(err));
		if (rc == GX_ERR_EOF)
			break;
		if (rc != GX_OK) {
			cr_assert_eq(rc, GX_ERR_INVALID, "rc=%d (%s)", rc, err);
			gx_buf_printf(&out, "!%s\n", err);
			continue;
		}
		gx_buf_printf(&out, "%ld:[", row.line);
		for (size_t f = 0; f < row.nfields; f++) {
			cr_assert_eq(strlen(row.fields[f]), row.lens[f]);
			gx_buf_printf(&out, "%s%s", f ? "|" : "", row.fields[f]);
		}
		gx_buf_printf(&out, "]\n");
	}
	/* EOF is sticky. */
	gx_csv_row_t row;
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_ERR_EOF);
	gx_csv_destroy(csv);
	fclose(fp);
	return gx_buf_cstr(&out);
}

static char *csv_render(const char *s)
{
	return csv_render_n(s, strlen(s), 0);
}

/* Assert that input s renders as want. */
#define CSV_EXPECT(s, want)                                                    \
	do {                                                                   \
		char *got_ = csv_render(s);                                    \
		cr_assert_str_eq(got_, want);                                  \
		free(got_);                                                    \
	} while (0)

Test(csv, header_and_rows)
{
	CSV_EXPECT("id,name,amount\n1,Alice,10.5\n2,Bob,-3\n",
		   "1:[id|name|amount]\n2:[1|Alice|10.5]\n3:[2|Bob|-3]\n");
}

Test(csv, quoted_embedded_newline_keeps_start_lines)
{
	CSV_EXPECT("a,b\n"
		   "\"multi\nline\n\nvalue\",2\n"
		   "c,d\n"
		   "e,\"x\ny\"\n"
		   "f,g\n",
		   "1:[a|b]\n"
		   "2:[multi\nline\n\nvalue|2]\n"
		   "6:[c|d]\n"
		   "7:[e|x\ny]\n"
		   "9:[f|g]\n");
}

Test(csv, quoted_commas_and_escaped_quotes)
{
	CSV_EXPECT("\"a,b\",\"he said \"\"hi\"\"\",\"\"\"\"\n",
		   "1:[a,b|he said \"hi\"|\"]\n");
}

Test(csv, empty_fields)
{
	FILE *fp;
	const char *s = ",,\n\"\",a,\nx\n";
	gx_csv_t *csv = csv_open_mem(s, strlen(s), &fp);
	gx_csv_row_t row;
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_OK);
	cr_assert_eq(row.nfields, 3);
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(row.lens[i], 0);
		cr_assert_str_eq(row.fields[i], "");
	}
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_OK);
	cr_assert_eq(row.nfields, 3);
	cr_assert_str_eq(row.fields[0], "");
	cr_assert_str_eq(row.fields[1], "a");
	cr_assert_str_eq(row.fields[2], "");
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_OK);
	cr_assert_eq(row.nfields, 1);
	cr_assert_str_eq(row.fields[0], "x");
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_ERR_EOF);
	gx_csv_destroy(csv);
	fclose(fp);
}

Test(csv, spaces_are_kept)
{
	CSV_EXPECT(" a , b ,\t\n\"  q  \",x\n", "1:[ a | b |\t]\n2:[  q  |x]\n");
}

Test(csv, crlf)
{
	/* Row ends are CRLF; a CRLF inside quotes is kept as it is. */
	CSV_EXPECT("a,b\r\n"
		   "c,\"d\r\ne\"\r\n"
		   "\r\n"
		   "f,\"g\"\r\n",
		   "1:[a|b]\n2:[c|d\r\ne]\n5:[f|g]\n");
}

Test(csv, lone_cr_ends_lines)
{
	CSV_EXPECT("a,b\rc,d\r\re\r", "1:[a|b]\n2:[c|d]\n4:[e]\n");
}

Test(csv, blank_lines_skipped)
{
	CSV_EXPECT("\n\na\n\n\nb\n\n", "3:[a]\n6:[b]\n");
}

Test(csv, bom_skipped)
{
	CSV_EXPECT("\xEF\xBB\xBFid,name\n1,x\n", "1:[id|name]\n2:[1|x]\n");
	CSV_EXPECT("\xEF\xBB\xBF\"id\"\r\n", "1:[id]\n");
	CSV_EXPECT("\xEF\xBB\xBF\nx\n", "2:[x]\n");
	CSV_EXPECT("\xEF\xBB\xBF", "");
	/* Only at the start of the file. */
	CSV_EXPECT("a\n\xEF\xBB\xBF" "b\n", "1:[a]\n2:[\xEF\xBB\xBF" "b]\n");
}

Test(csv, empty_input)
{
	CSV_EXPECT("", "");
	CSV_EXPECT("\n\r\n\r", "");
}

Test(csv, chinese_round_trip)
{
	const char *f1 = "统一社会信用代码";
	const char *f2 = "北京市海淀区，中关村大街 1 号\n二层";
	const char *f3 = "“引号” 😀";
	char in[512];
	snprintf(in, sizeof(in), "%s,\"%s\",%s\n", f1, f2, f3);

	FILE *fp;
	gx_csv_t *csv = csv_open_mem(in, strlen(in), &fp);
	gx_csv_row_t row;
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_OK);
	cr_assert_eq(row.nfields, 3);
	cr_assert_eq(row.line, 1);
	const char *want[] = {f1, f2, f3};
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(row.lens[i], strlen(want[i]));
		cr_assert(memcmp(row.fields[i], want[i], row.lens[i]) == 0);
	}
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_ERR_EOF);
	gx_csv_destroy(csv);
	fclose(fp);
}

Test(csv, trailing_row_without_newline)
{
	CSV_EXPECT("a,b\nc,d", "1:[a|b]\n2:[c|d]\n");
	CSV_EXPECT("a,b\nc,\"d\"", "1:[a|b]\n2:[c|d]\n");
	CSV_EXPECT("a,b\nc,", "1:[a|b]\n2:[c|]\n");
	CSV_EXPECT("a,b\n\"x\ny\"", "1:[a|b]\n2:[x\ny]\n");
}

Test(csv, unterminated_quote_at_eof)
{
	CSV_EXPECT("a,b\nc,\"d\ne\nf\n",
		   "1:[a|b]\n!t.csv:2: unterminated quoted field\n");
	CSV_EXPECT("a,b\n\"c", "1:[a|b]\n!t.csv:2: unterminated quoted field\n");
	CSV_EXPECT("\"a\"\"", "!t.csv:1: unterminated quoted field\n");
}

Test(csv, unterminated_quote_over_size_limit)
{
	/* A stray quote swallows the rest of a big file: the limit stops the
	 * buffering and the error names the cause. */
	size_t n = 300000;
	char *s = malloc(n + 16);
	strcpy(s, "a\n\"b\n");
	size_t len = strlen(s);
	while (len < n) {
		memcpy(s + len, "xxxxxxxxx\n", 10);
		len += 10;
	}
	char *got = csv_render_n(s, len, 1000);
	cr_assert_str_eq(got, "1:[a]\n!t.csv:2: unterminated quoted field\n");
	free(got);
	free(s);
}

Test(csv, invalid_utf8_names_line_and_field)
{
	CSV_EXPECT("a,b\nc,d\xff,e\n",
		   "1:[a|b]\n!t.csv:2: field 2: invalid UTF-8 at byte 2 (0xff)\n");
	/* overlong '/', a UTF-16 surrogate, past U+10FFFF, truncated */
	CSV_EXPECT("\xC0\xAF\n", "!t.csv:1: field 1: invalid UTF-8 at byte 1 (0xc0)\n");
	CSV_EXPECT("x,\xED\xA0\x80\n",
		   "!t.csv:1: field 2: invalid UTF-8 at byte 1 (0xed)\n");
	CSV_EXPECT("\xF4\x90\x80\x80\n",
		   "!t.csv:1: field 1: invalid UTF-8 at byte 1 (0xf4)\n");
	CSV_EXPECT("\"ab\xE4\xB8\"\n",
		   "!t.csv:1: field 1: invalid UTF-8 at byte 3 (0xe4)\n");
}

Test(csv, nul_byte_refused)
{
	static const char s[] = "a,b\nc,d\0e\nf,g\n";
	char *got = csv_render_n(s, sizeof(s) - 1, 0);
	cr_assert_str_eq(got, "1:[a|b]\n!t.csv:2: field 2: NUL byte at byte 2\n"
			      "3:[f|g]\n");
	free(got);
}

Test(csv, strict_quote_errors)
{
	CSV_EXPECT("a,b\"c,d\nok\n",
		   "!t.csv:1: field 2: quote inside an unquoted field (quote "
		   "the whole field and double the quote)\n2:[ok]\n");
	CSV_EXPECT("\"a\"b,c\nok\n",
		   "!t.csv:1: field 1: unexpected character after a closing "
		   "quote\n2:[ok]\n");
	/* The problem is on a later line than the row's start. */
	CSV_EXPECT("x,\"a\nb\"c\nok\n",
		   "!t.csv:1: field 2: unexpected character after a closing "
		   "quote (on line 2)\n3:[ok]\n");
}

Test(csv, bad_rows_do_not_stop_the_stream)
{
	CSV_EXPECT("h1,h2\n"
		   "1,\xff\n"			/* 2: bad UTF-8 */
		   "2,ok\n"			/* 3 */
		   "\xfe,\"multi\nline\"\n"	/* 4-5: bad, spans two lines */
		   "3,ok\n"			/* 6 */
		   "4,b\"ad\n"			/* 7: stray quote */
		   "5,ok\n"			/* 8 */
		   "6,\"x\"y\n"			/* 9: junk after quote */
		   "7,\"ok\"\n",		/* 10 */
		   "1:[h1|h2]\n"
		   "!t.csv:2: field 2: invalid UTF-8 at byte 1 (0xff)\n"
		   "3:[2|ok]\n"
		   "!t.csv:4: field 1: invalid UTF-8 at byte 1 (0xfe)\n"
		   "6:[3|ok]\n"
		   "!t.csv:7: field 2: quote inside an unquoted field (quote "
		   "the whole field and double the quote)\n"
		   "8:[5|ok]\n"
		   "!t.csv:9: field 2: unexpected character after a closing "
		   "quote\n"
		   "10:[7|ok]\n");
}

Test(csv, field_size_limit)
{
	const char *s = "ab,123456789\n1234567890,x\n\"1234\n5678\"\n"
			"\"12345\n6789\",y\nz\n";
	char *got = csv_render_n(s, strlen(s), 9);
	cr_assert_str_eq(got, "1:[ab|123456789]\n"
			      "!t.csv:2: field 1: longer than the limit of 9 bytes\n"
			      "3:[1234\n5678]\n"
			      "!t.csv:5: field 1: longer than the limit of 9 bytes\n"
			      "7:[z]\n");
	free(got);
}

Test(csv, huge_field_is_dropped_then_stream_continues)
{
	/* 5 MB unquoted field on one line, then 3 MB quoted over many lines,
	 * with a 1 MiB limit: both fail, and the rows after them are read. */
	size_t cap = 9u << 20;
	char *s = malloc(cap);
	size_t len = 0;
	len += (size_t)sprintf(s + len, "1,");
	memset(s + len, 'x', 5u << 20);
	len += 5u << 20;
	len += (size_t)sprintf(s + len, "\n2,ok\n3,\"");
	for (int i = 0; i < 300000; i++) {
		memcpy(s + len, "q\"\"\"\"lin\n", 9);
		len += 9;
	}
	len += (size_t)sprintf(s + len, "\",tail\n4,ok");

	char *got = csv_render_n(s, len, 0);
	cr_assert_str_eq(got, "!t.csv:1: field 2: longer than the limit of "
			      "1048576 bytes\n"
			      "2:[2|ok]\n"
			      "!t.csv:3: field 2: longer than the limit of "
			      "1048576 bytes\n"
			      "300004:[4|ok]\n");
	free(got);
	free(s);
}

Test(csv, large_field_within_limit)
{
	/* A quoted 600 KB field spanning many chunks comes back whole. */
	size_t n = 600000;
	char *s = malloc(n + 16);
	size_t len = 0;
	s[len++] = '"';
	for (size_t i = 0; i < n; i++)
		s[len++] = (i % 1000 == 999) ? '\n' : (char)('a' + i % 26);
	memcpy(s + len, "\",z\nnext\n", 9);
	len += 9;

	FILE *fp;
	gx_csv_t *csv = csv_open_mem(s, len, &fp);
	gx_csv_row_t row;
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_OK);
	cr_assert_eq(row.nfields, 2);
	cr_assert_eq(row.lens[0], n);
	cr_assert(memcmp(row.fields[0], s + 1, n) == 0);
	cr_assert_str_eq(row.fields[1], "z");
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_OK);
	cr_assert_eq(row.line, (long)(n / 1000) + 2);
	cr_assert_str_eq(row.fields[0], "next");
	gx_csv_destroy(csv);
	fclose(fp);
	free(s);
}

Test(csv, errstr_optional_and_row_line_on_error)
{
	FILE *fp;
	const char *s = "a\n\n\"b\xff\"\nc\n";
	gx_csv_t *csv = csv_open_mem(s, strlen(s), &fp);
	gx_csv_row_t row;
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_OK);
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_ERR_INVALID);
	cr_assert_eq(row.line, 3);
	cr_assert_eq(row.nfields, 0);
	cr_assert_eq(gx_csv_next(csv, &row, NULL, 0), GX_OK);
	cr_assert_eq(row.line, 4);
	gx_csv_destroy(csv);
	fclose(fp);
	gx_csv_destroy(NULL);
	cr_assert_null(gx_csv_new(NULL, "x"));
}

Test(csv, stream_100k_rows)
{
	FILE *fp = tmpfile();
	cr_assert_not_null(fp);
	long sum = 0;
	for (int i = 1; i <= 100000; i++) {
		if (i % 10 == 0)
			fprintf(fp, "%d,\"name %d\nsecond line, \"\"quoted\"\"\",城市\r\n",
				i, i);
		else
			fprintf(fp, "%d,name %d,城市\n", i, i);
		sum += i;
	}
	rewind(fp);

	gx_csv_t *csv = gx_csv_new(fp, "big.csv");
	gx_csv_row_t row;
	char err[256];
	long rows = 0, got_sum = 0, want_line = 1;
	gx_err_t rc;
	while ((rc = gx_csv_next(csv, &row, err, sizeof(err))) == GX_OK) {
		rows++;
		cr_assert_eq(row.nfields, 3, "row %ld", rows);
		cr_assert_eq(row.line, want_line, "row %ld", rows);
		cr_assert_str_eq(row.fields[2], "城市");
		got_sum += strtol(row.fields[0], NULL, 10);
		want_line += (rows % 10 == 0) ? 2 : 1;
	}
	cr_assert_eq(rc, GX_ERR_EOF, "%s", err);
	cr_assert_eq(rows, 100000);
	cr_assert_eq(got_sum, sum);
	gx_csv_destroy(csv);
	fclose(fp);
}
