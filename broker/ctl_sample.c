/*
 * ctl_sample.c - govexctl sample: deterministic synthetic source data for a
 * base library (gx_sample.h), written as CSV (RFC 4180) or JSON Lines with
 * the schema's field names, streaming, so any number of rows needs the same
 * memory. A summary of the defects goes to stderr and, with --defects-out,
 * the line and kind of every defective row to a file, so a test can check
 * that an adapter refused exactly those rows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "govexctl.h"
#include "gx_sample.h"

/* Parse a whole decimal number into *out (0..max). */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || errno || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A share: a fraction 0..1 ("0.05") or a percentage ("5%"). */
static int parse_share(const char *s, double *out)
{
	char *end;
	if (!*s)
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno)
		return -1;
	if (*end == '%' && !end[1]) {
		v /= 100.0;
		end++;
	}
	if (*end || !(v >= 0.0 && v <= 1.0))
		return -1;
	*out = v;
	return 0;
}

/* One CSV field, quoted when it holds a comma, a quote or a line break
 * (RFC 4180); returns the line breaks it holds. */
static long csv_field(FILE *fp, const char *s)
{
	long nl = 0;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, fp);
		return 0;
	}
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		if (*s == '\n')
			nl++;
		fputc(*s, fp);
	}
	fputc('"', fp);
	return nl;
}

struct sample_out {
	FILE *fp;
	int jsonl;
	json_t *obj;		/* JSON Lines: the row, keys in schema order */
	long line;		/* the line the next row starts on */
};

/* Write one row; returns 0, or -1 if a value is not valid UTF-8. */
static int write_row(struct sample_out *o, const gx_library_t *lib,
		     const gx_sample_row_t *row)
{
	if (o->jsonl) {
		for (size_t i = 0; i < row->nvalues; i++) {
			json_t *v = row->values[i] ? json_string(row->values[i])
						   : json_null();
			if (!v)
				return -1;
			json_object_set_new(o->obj, lib->fields[i].name, v);
		}
		json_dumpf(o->obj, o->fp, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', o->fp);
		o->line++;
		return 0;
	}
	long nl = 0;
	for (size_t i = 0; i < row->nvalues; i++) {
		if (i)
			fputc(',', o->fp);
		if (row->values[i])
			nl += csv_field(o->fp, row->values[i]);
	}
	fputs("\r\n", o->fp);
	o->line += 1 + nl;
	return 0;
}

int cmd_sample(struct ctl *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"rows", required_argument, NULL, 'R'},
	    {"seed", required_argument, NULL, 'S'},
	    {"defects", required_argument, NULL, 'D'},
	    {"format", required_argument, NULL, 'F'},
	    {"out", required_argument, NULL, 'O'},
	    {"defects-out", required_argument, NULL, 'E'},
	    COMMON_LONG,
	    {NULL, 0, NULL, 0}};
	const char *rows_s = NULL, *seed_s = NULL, *format = "csv";
	const char *out_path = NULL, *defects_path = NULL;
	double share = 0.0;
	uint64_t rows = 0, seed = 0;
	int c, rc;
	getopt_reset();
	/* Options may come before or after LIBRARY (no '+': getopt permutes). */
	while ((c = getopt_long(argc, argv, COMMON_SHORT + 1, opts, NULL)) != -1) {
		switch (c) {
		case 'R': rows_s = optarg; break;
		case 'S': seed_s = optarg; break;
		case 'D':
			if (parse_share(optarg, &share))
				return fail_usage(x, "--defects: expected a share "
						  "from 0 to 1 (0.05) or a "
						  "percentage (5%%)");
			break;
		case 'F': format = optarg; break;
		case 'O': out_path = optarg; break;
		case 'E': defects_path = optarg; break;
		default:
			if ((rc = common_opt(x, c, argv)) >= 0)
				return rc;
		}
	}
	if (argc - optind != 1)
		return fail_usage(x, argc - optind ? "unexpected argument '%s'"
						   : "which library?%s (see govexctl "
						     "schema)",
				  argc - optind ? argv[optind + 1] : "");
	const char *name = argv[optind];
	if (!rows_s || parse_u64(rows_s, UINT64_C(1000000000000), &rows))
		return fail_usage(x, "--rows: expected a whole number of rows "
				  "(0 to 10^12)");
	if (!seed_s || parse_u64(seed_s, UINT64_MAX, &seed))
		return fail_usage(x, "--seed: expected a whole number (0 to "
				  "2^64-1)");
	int jsonl = !strcmp(format, "jsonl");
	if (!jsonl && strcmp(format, "csv"))
		return fail_usage(x, "--format must be csv or jsonl");
	if ((rc = ctl_configure(x)))
		return rc;

	gx_schemas_t *schemas = NULL;
	gx_sample_t *gen = NULL;
	FILE *fp = NULL, *dfp = NULL;
	json_t *obj = NULL;
	char err[512];
	if ((rc = load_schemas(&schemas)))
		return rc;
	const gx_library_t *lib = gx_schemas_library(schemas, name);
	if (!lib || !gx_sample_supported(name)) {
		rc = fail_usage(x, "no library '%s' (population, legal_entity, "
				"public_credit, macroeconomy, geospatial, "
				"e_licence)", name);
		goto out;
	}
	if (gx_sample_new(lib, seed, rows, share, &gen, err, sizeof(err))) {
		rc = fail_usage(x, "%s", err);
		goto out;
	}
	fp = out_path && strcmp(out_path, "-") ? fopen(out_path, "wb") : stdout;
	if (!fp) {
		rc = fail_usage(x, "%s: %s", out_path, strerror(errno));
		goto out;
	}
	if (defects_path && !(dfp = fopen(defects_path, "wb"))) {
		rc = fail_usage(x, "%s: %s", defects_path, strerror(errno));
		goto out;
	}
	setvbuf(fp, NULL, _IOFBF, 1 << 20);
	if (dfp)
		fputs("line,kind,field,repeats_line\n", dfp);

	struct sample_out o = {fp, jsonl, NULL, 1};
	if (jsonl) {
		obj = o.obj = json_object();
	} else {
		for (size_t i = 0; i < lib->nfields; i++) {
			if (i)
				fputc(',', fp);
			csv_field(fp, lib->fields[i].name);
		}
		fputs("\r\n", fp);
		o.line = 2;
	}
	uint64_t count[GX_DEFECT_KINDS] = {0};
	long last_valid_line = 0;
	gx_sample_row_t row;
	gx_err_t e;
	while (!(e = gx_sample_next(gen, &row, err, sizeof(err)))) {
		long line = o.line;
		if (write_row(&o, lib, &row)) {
			rc = fail_runtime("row %llu: a value is not UTF-8",
					  (unsigned long long)row.index + 1);
			goto out;
		}
		count[row.defect]++;
		if (row.defect == GX_DEFECT_NONE)
			last_valid_line = line;
		else if (dfp)
			fprintf(dfp, "%ld,%s,%s,%ld\n", line,
				gx_defect_name(row.defect),
				row.field ? row.field : "",
				row.defect == GX_DEFECT_DUPLICATE ? last_valid_line
								   : 0L);
		if (ferror(fp))
			break;
	}
	if (e != GX_ERR_EOF && e != GX_OK) {
		rc = fail_runtime("%s", err);
		goto out;
	}
	if (fflush(fp) || ferror(fp)) {
		rc = fail_runtime("writing %s: %s", out_path ? out_path : "stdout",
				  strerror(errno));
		goto out;
	}
	if (dfp && (fflush(dfp) || ferror(dfp))) {
		rc = fail_runtime("writing %s: %s", defects_path, strerror(errno));
		goto out;
	}
	fprintf(stderr,
		"sample %s: rows=%llu valid=%llu defective=%llu bad_check=%llu "
		"missing_field=%llu bad_date=%llu duplicate=%llu\n",
		name, (unsigned long long)rows,
		(unsigned long long)count[GX_DEFECT_NONE],
		(unsigned long long)(rows - count[GX_DEFECT_NONE]),
		(unsigned long long)count[GX_DEFECT_BAD_CHECK],
		(unsigned long long)count[GX_DEFECT_MISSING],
		(unsigned long long)count[GX_DEFECT_BAD_DATE],
		(unsigned long long)count[GX_DEFECT_DUPLICATE]);
	rc = GX_EXIT_OK;
out:
	if (fp && fp != stdout && fclose(fp) && !rc)
		rc = fail_runtime("closing %s: %s", out_path, strerror(errno));
	if (dfp && fclose(dfp) && !rc)
		rc = fail_runtime("closing %s: %s", defects_path, strerror(errno));
	json_decref(obj);
	gx_sample_destroy(gen);
	gx_schemas_destroy(schemas);
	return rc;
}
