/*
 * 0020-libraries: the six base libraries end to end, from generated source
 * rows to the ingest topics, with the catalogue imported from its
 * spreadsheet form (schemas/catalog.sample.csv).
 *
 *  - round trip: for each library, `govexctl sample LIB --rows 300 --seed 7`
 *    goes through govex-adapter; the records decoded from
 *    <prefix>.ingest.<lib> equal the generated rows field by field, each
 *    once, keyed by the row's subject (population also as JSON Lines);
 *  - defects: 2,000 population rows with 5% defects; every refused row
 *    (bad check character, missing field, malformed date) is in
 *    <prefix>.rejected once with reason invalid_value, its line and the
 *    field at fault; every duplicated row is skipped as unchanged; every
 *    valid row is in the ingest topic once.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gx.h"
#include "gx_csv.h"
#include "itest.h"

/* The sample catalogue's item and provider for each library. */
static const struct {
	const char *lib, *provider, *item, *subject;
} libs[] = {
    {"population", "SX-GA", "140000-GA-RK-0001", "citizen_id"},
    {"legal_entity", "SX-SCJG", "140000-SCJG-FR-0001", "uscc"},
    {"public_credit", "SX-FGW", "140000-FGW-XY-0001", "subject_code"},
    {"macroeconomy", "SX-TJJ", "140000-TJJ-HG-0001", "indicator_code"},
    {"geospatial", "SX-ZRZY", "140000-ZRZY-DL-0001", "feature_id"},
    {"e_licence", "SX-ZWFW", "140000-ZWFW-ZZ-0001", "holder_code"},
};

/* setup, and the catalogue from its spreadsheet form. */
static void setup_prefix(const char *P)
{
	const char *setup[] = {"setup", NULL};
	itest_out_t o = it_run(P, "govexctl", setup);
	cr_assert_eq(o.status, 0, "govexctl setup failed (%d)", o.status);
	it_out_free(&o);
	char cat[PATH_MAX];
	cr_assert(realpath("schemas/catalog.sample.csv", cat),
		  "schemas/catalog.sample.csv (run from the repository root)");
	const char *imp[] = {"catalog", "import", cat, NULL};
	o = it_run(P, "govexctl", imp);
	cr_assert_eq(o.status, 0, "catalog import of the CSV failed (%d): %s", o.status,
		     o.err);
	cr_expect(strstr(o.out, "published 6 items"), "%s", o.out);
	it_out_free(&o);
	/* the exchange's root, and a sealing key for every library's
	 * provider */
	it_seal_keys(P, "[]");
	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]); i++)
		it_agency_key(P, libs[i].provider);
}

/* ---- the generated rows, read back from the file ---- */

struct rows {
	char **hdr;		/* field names */
	size_t nf;
	json_t *by_line;	/* "LINE" -> array of texts */
};

static void rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->nf; i++)
		free(r->hdr[i]);
	free(r->hdr);
	json_decref(r->by_line);
}

/* Read a CSV file written by govexctl sample. */
static void rows_csv(const char *path, struct rows *r)
{
	FILE *fp = fopen(path, "rb");
	cr_assert(fp, "%s", path);
	gx_csv_t *csv = gx_csv_new(fp, path);
	gx_csv_row_t row;
	char err[512];
	memset(r, 0, sizeof(*r));
	r->by_line = json_object();
	gx_err_t e;
	while (!(e = gx_csv_next(csv, &row, err, sizeof(err)))) {
		if (!r->hdr) {
			r->nf = row.nfields;
			r->hdr = calloc(row.nfields, sizeof(char *));
			for (size_t i = 0; i < row.nfields; i++)
				r->hdr[i] = strdup(row.fields[i]);
			continue;
		}
		cr_assert_eq(row.nfields, r->nf, "%s:%ld", path, row.line);
		json_t *a = json_array();
		for (size_t i = 0; i < row.nfields; i++)
			json_array_append_new(a, json_string(row.fields[i]));
		char k[24];
		snprintf(k, sizeof(k), "%ld", row.line);
		json_object_set_new(r->by_line, k, a);
	}
	cr_assert_eq(e, GX_ERR_EOF, "%s", err);
	gx_csv_destroy(csv);
	fclose(fp);
}

/* Read a JSON Lines file written by govexctl sample --format jsonl. */
static void rows_jsonl(const char *path, struct rows *r)
{
	FILE *fp = fopen(path, "rb");
	cr_assert(fp, "%s", path);
	memset(r, 0, sizeof(*r));
	r->by_line = json_object();
	char *line = NULL;
	size_t cap = 0;
	long ln = 0;
	while (getline(&line, &cap, fp) > 0) {
		ln++;
		json_error_t je;
		json_t *o = json_loads(line, JSON_PRESERVE_ORDER, &je);
		cr_assert(o, "%s:%ld: %s", path, ln, je.text);
		if (!r->hdr) {
			r->nf = json_object_size(o);
			r->hdr = calloc(r->nf, sizeof(char *));
			size_t i = 0;
			const char *k;
			json_t *v;
			json_object_foreach(o, k, v) r->hdr[i++] = strdup(k);
		}
		json_t *a = json_array();
		for (size_t i = 0; i < r->nf; i++) {
			json_t *v = json_object_get(o, r->hdr[i]);
			json_array_append_new(a, json_string(json_is_string(v)
								 ? json_string_value(v)
								 : ""));
		}
		char k[24];
		snprintf(k, sizeof(k), "%ld", ln);
		json_object_set_new(r->by_line, k, a);
		json_decref(o);
	}
	free(line);
	fclose(fp);
}

/* Does a decoded field equal the row's text (empty text: null)? */
static int same_value(json_t *v, const char *text)
{
	char num[32];
	if (!*text)
		return json_is_null(v);
	if (json_is_string(v))
		return !strcmp(json_string_value(v), text);
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return !strcmp(num, text);
	}
	return 0;
}

/* ---- comparing the ingest topic with the rows ---- */

struct check {
	const char *path;
	const char *subject;
	struct rows *rows;
	json_t *seen;		/* "LINE" -> times published */
	long undecodable, wrong, foreign;
};

static void on_ingest(void *opaque, const rd_kafka_message_t *m)
{
	struct check *c = opaque;
	json_t *o = it_ingest_json(m);
	if (!o) {
		c->undecodable++;
		return;
	}
	const char *src = json_string_value(json_object_get(o, "_source"));
	size_t pl = strlen(c->path);
	if (!src || strncmp(src, c->path, pl) || src[pl] != ':') {
		c->foreign++; /* another file's record */
		json_decref(o);
		return;
	}
	const char *line = src + pl + 1;
	json_t *row = json_object_get(c->rows->by_line, line);
	if (!row) {
		if (c->wrong++ < 5)
			cr_log_error("%s: no such row", src);
		json_decref(o);
		return;
	}
	json_object_set_new(c->seen, line,
			    json_integer(json_integer_value(json_object_get(c->seen, line)) + 1));
	for (size_t i = 0; i < c->rows->nf; i++) {
		const char *want = json_string_value(json_array_get(row, i));
		json_t *got = json_object_get(o, c->rows->hdr[i]);
		if (!same_value(got, want)) {
			char *g = json_dumps(got, JSON_ENCODE_ANY);
			if (c->wrong++ < 5)
				cr_log_error("%s %s: got %s, want \"%s\"", src,
					     c->rows->hdr[i], g, want);
			free(g);
		}
		if (!strcmp(c->rows->hdr[i], c->subject)) {
			const char *key = json_string_value(json_object_get(o, "_key"));
			if (!key || strcmp(key, want)) {
				if (c->wrong++ < 5)
					cr_log_error("%s: key %s, subject %s", src,
						     key ? key : "(none)", want);
			}
		}
	}
	json_decref(o);
}

/*
 * Read topic with fn once it holds want records for a read_committed
 * reader. A transaction's commit returns before its markers reach every
 * partition, so for a moment after the adapter exits a partition may look
 * empty (seen in this test: 190 of 300 records, one partition missing).
 * Returns the records read.
 */
static long read_when(const char *topic, long want,
		      void (*fn)(void *opaque, const rd_kafka_message_t *m),
		      void *opaque)
{
	for (int t = 0; t < 150 && it_topic_read(topic, 30000, NULL, NULL) < want; t++)
		usleep(200000);
	return it_topic_read(topic, 60000, fn, opaque);
}

/* The count after "key: " in an adapter's summary, or -1. */
static long summary_count(const char *out, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\n%s: ", key);
	const char *p = strstr(out, pat);
	if (!p && !strncmp(out, pat + 1, strlen(pat + 1)))
		p = out - 1;
	return p ? atol(p + strlen(pat)) : -1;
}

static itest_out_t sample(const char *P, const char *lib, const char *rows,
			  const char *seed, const char *defects, const char *format,
			  const char *out, const char *dout)
{
	const char *args[16] = {"sample", lib, "--rows", rows, "--seed", seed,
				"--format", format, "--out", out};
	size_t n = 10;
	if (defects) {
		args[n++] = "--defects";
		args[n++] = defects;
		args[n++] = "--defects-out";
		args[n++] = dout;
	}
	args[n] = NULL;
	itest_out_t o = it_run(P, "govexctl", args);
	cr_assert_eq(o.status, 0, "govexctl sample %s failed (%d): %s", lib, o.status,
		     o.err);
	return o;
}

static itest_out_t adapter(const char *P, size_t l, const char *flag,
			   const char *path)
{
	const char *args[] = {"--provider", libs[l].provider, "--item", libs[l].item,
			      flag, path, NULL};
	itest_out_t o = it_run(P, "govex-adapter", args);
	cr_assert_eq(o.status, 0, "adapter for %s failed (%d): %s", libs[l].lib,
		     o.status, o.err);
	return o;
}

/* Every row of path published once and equal to its record. */
/* Records in the library's ingest topic before this round trip. */
static long before[GX_ARRAY_SIZE(libs)];

static void round_trip(const char *P, size_t l, const char *format)
{
	char name[64], topic[128];
	snprintf(name, sizeof(name), "%s.%s.%s", P, libs[l].lib, format);
	char *path = it_path(name);
	itest_out_t o = sample(P, libs[l].lib, "300", "7", NULL, format, path, NULL);
	it_out_free(&o);
	o = adapter(P, l, !strcmp(format, "csv") ? "--csv" : "--jsonl", path);
	cr_expect_eq(summary_count(o.out, "accepted"), 300, "%s: %s", libs[l].lib, o.out);
	cr_expect_eq(summary_count(o.out, "refused"), 0, "%s: %s", libs[l].lib, o.out);
	it_out_free(&o);

	struct rows rows;
	if (!strcmp(format, "csv"))
		rows_csv(path, &rows);
	else
		rows_jsonl(path, &rows);
	cr_assert_eq(json_object_size(rows.by_line), 300);
	struct check c = {path, libs[l].subject, &rows, json_object(), 0, 0, 0};
	snprintf(topic, sizeof(topic), "%s.ingest.%s", P, libs[l].lib);
	long c_want = before[l] + 300;
	before[l] = c_want;
	read_when(topic, c_want, on_ingest, &c);
	cr_expect_eq(c.undecodable, 0, "%s", libs[l].lib);
	cr_expect_eq(c.wrong, 0, "%s (%s): %ld fields differ", libs[l].lib, format,
		     c.wrong);
	cr_expect_eq(json_object_size(c.seen), 300, "%s (%s): %zu of 300 rows published",
		     libs[l].lib, format, json_object_size(c.seen));
	const char *k;
	json_t *v;
	json_object_foreach(c.seen, k, v)
		cr_expect_eq(json_integer_value(v), 1, "%s line %s published %lld times",
			     libs[l].lib, k, (long long)json_integer_value(v));
	json_decref(c.seen);
	rows_free(&rows);
}

Test(libraries, every_library_round_trips_from_sample_to_ingest, .timeout = 240)
{
	const char *P = "lib";
	setup_prefix(P);
	for (size_t l = 0; l < GX_ARRAY_SIZE(libs); l++)
		round_trip(P, l, "csv");
	round_trip(P, 0, "jsonl");
	/* The same arguments, the same bytes. */
	char *again = it_path("lib.e_licence.again");
	itest_out_t o = sample(P, "e_licence", "300", "7", NULL, "csv", again, NULL);
	it_out_free(&o);
	char cmp[1200];
	snprintf(cmp, sizeof(cmp), "cmp -s '%s' '%s'", it_path("lib.e_licence.csv"), again);
	cr_expect_eq(system(cmp), 0, "two runs of govexctl sample differ");
}

/* ---- defects ---- */

struct defect {
	long line;
	char kind[24];
	char field[64];
};

struct rejections {
	const char *path;
	struct defect *d;
	size_t nd;
	long *times;		/* per defect: refusals seen */
	long wrong;
};

static struct defect *defect_at(struct rejections *r, long line)
{
	for (size_t i = 0; i < r->nd; i++)
		if (r->d[i].line == line)
			return &r->d[i];
	return NULL;
}

static void on_rejected(void *opaque, const rd_kafka_message_t *m)
{
	struct rejections *r = opaque;
	json_t *o = json_loadb(m->payload, m->len, 0, NULL);
	long line = json_integer_value(json_object_get(o, "line"));
	const char *reason = json_string_value(json_object_get(o, "reason"));
	const char *detail = json_string_value(json_object_get(o, "detail"));
	const char *source = json_string_value(json_object_get(o, "source"));
	struct defect *d = defect_at(r, line);
	if (!d || !strcmp(d->kind, "duplicate")) {
		if (r->wrong++ < 5)
			cr_log_error("line %ld refused but not defective (%s)", line,
				     detail ? detail : "");
		json_decref(o);
		return;
	}
	r->times[d - r->d]++;
	/* The reason, the field at fault and what is wrong with it. */
	const char *what = !strcmp(d->kind, "bad_check") ? "check character"
			   : !strcmp(d->kind, "missing_field") ? "required value is empty"
							       : "invalid date";
	char field[80];
	snprintf(field, sizeof(field), ": %s: ", d->field);
	if (!reason || strcmp(reason, "invalid_value") || !detail ||
	    !strstr(detail, field) || !strstr(detail, what) || !source ||
	    strncmp(source, r->path, strlen(r->path))) {
		if (r->wrong++ < 5)
			cr_log_error("line %ld (%s %s) refused as %s: %s", line, d->kind,
				     d->field, reason ? reason : "?", detail ? detail : "?");
	}
	json_decref(o);
}

Test(libraries, defective_rows_are_refused_and_no_valid_row_is_lost, .timeout = 180)
{
	const char *P = "libdef";
	setup_prefix(P);
	char *csv = it_path("libdef.population.csv");
	char *dout = it_path("libdef.defects.csv");
	itest_out_t o = sample(P, "population", "2000", "11", "0.05", "csv", csv, dout);
	/* 5% of 2,000: exactly 100, each kind some. */
	cr_expect(strstr(o.err, "rows=2000 valid=1900 defective=100"), "%s", o.err);
	it_out_free(&o);

	/* The defects file: line,kind,field,repeats_line */
	struct rejections r = {csv, calloc(2000, sizeof(struct defect)), 0, NULL, 0};
	FILE *f = fopen(dout, "rb");
	cr_assert(f);
	char buf[256];
	long kinds[4] = {0};
	cr_assert(fgets(buf, sizeof(buf), f));
	while (fgets(buf, sizeof(buf), f)) {
		struct defect *d = &r.d[r.nd++];
		char *save = NULL;
		d->line = atol(strtok_r(buf, ",", &save));
		snprintf(d->kind, sizeof(d->kind), "%s", strtok_r(NULL, ",", &save));
		char *fld = strtok_r(NULL, ",", &save);
		snprintf(d->field, sizeof(d->field), "%s",
			 !strcmp(d->kind, "duplicate") ? "" : fld);
		kinds[!strcmp(d->kind, "bad_check") ? 0
		      : !strcmp(d->kind, "missing_field") ? 1
		      : !strcmp(d->kind, "bad_date") ? 2 : 3]++;
	}
	fclose(f);
	cr_assert_eq(r.nd, 100);
	for (int k = 0; k < 4; k++)
		cr_expect(kinds[k] > 0, "defect kind %d never generated", k);
	long refusable = kinds[0] + kinds[1] + kinds[2];

	o = adapter(P, 0, "--csv", csv);
	cr_expect_eq(summary_count(o.out, "accepted"), 1900, "%s", o.out);
	cr_expect_eq(summary_count(o.out, "refused"), refusable, "%s", o.out);
	cr_expect_eq(summary_count(o.out, "skipped_unchanged"), kinds[3], "%s", o.out);
	it_out_free(&o);

	/* Every refusable row refused once, with the right reason. */
	r.times = calloc(r.nd, sizeof(long));
	long n = read_when("libdef.rejected", refusable, on_rejected, &r);
	cr_expect_eq(n, refusable, "rejected holds %ld, want %ld", n, refusable);
	cr_expect_eq(r.wrong, 0, "%ld refusals wrong", r.wrong);
	for (size_t i = 0; i < r.nd; i++)
		if (strcmp(r.d[i].kind, "duplicate"))
			cr_expect_eq(r.times[i], 1, "line %ld (%s) refused %ld times",
				     r.d[i].line, r.d[i].kind, r.times[i]);

	/* Every valid row in the ingest topic once, equal to its row; no
	 * defective row there. */
	struct rows rows;
	rows_csv(csv, &rows);
	struct check c = {csv, "citizen_id", &rows, json_object(), 0, 0, 0};
	read_when("libdef.ingest.population", 1900, on_ingest, &c);
	cr_expect_eq(c.undecodable, 0);
	cr_expect_eq(c.wrong, 0, "%ld fields differ", c.wrong);
	long lost = 0;
	for (long line = 2; line < 2002; line++) {
		char k[24];
		snprintf(k, sizeof(k), "%ld", line);
		long times = json_integer_value(json_object_get(c.seen, k));
		if (defect_at(&r, line))
			cr_expect_eq(times, 0, "defective line %ld (%s) published", line,
				     defect_at(&r, line)->kind);
		else if (times != 1 && lost++ < 5)
			cr_log_error("valid line %ld published %ld times", line, times);
	}
	cr_expect_eq(lost, 0, "%ld valid rows lost or repeated", lost);
	json_decref(c.seen);
	rows_free(&rows);
	free(r.d);
	free(r.times);
}
