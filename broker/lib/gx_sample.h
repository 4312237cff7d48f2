/*
 * gx_sample.h - deterministic synthetic rows for the six base libraries
 * (issue 3: `govexctl sample`), for tests, demonstrations and load.
 *
 * A generator yields rows of source text, one text per library field in
 * schema order (NULL for a null), valid by default: every value passes the
 * field's gx.check rule — GB 11643 citizen IDs whose birth date and sex
 * digit agree with the birth_date and sex fields, GB 32100 codes with the
 * GB 11714 organisation code check inside, GB/T 36904 licence identifiers
 * with their ISO 7064 MOD 37,36 check character (all computed with
 * gx_validate.h), Chinese names and Shanxi addresses under real Shanxi
 * (14xxxx) division codes, decimals within their precision and scale, WKT
 * inside Shanxi. Codes and people are fictitious.
 *
 * Determinism: the generator has its own PRNG (xoshiro256** seeded through
 * splitmix64); row i is a pure function of (library, seed, i), and the
 * choice of defective rows of (seed, rows, share). Nothing depends on the
 * clock or the machine: every date is on or before GX_SAMPLE_TODAY. The
 * same arguments give the same bytes everywhere.
 *
 * Memory is constant: one row's text and a copy of the last valid row (for
 * duplicates), whatever the number of rows.
 *
 * Defects: with a share P, exactly round(P * rows) rows (chosen by
 * selection sampling, so spread over the whole run) carry one defect each:
 *   bad_check      a check character changed (citizen ID, credit code,
 *                  licence identifier; only libraries that have one);
 *   missing_field  a required field left empty;
 *   bad_date       a date field malformed (impossible day, wrong
 *                  separators, wrong order);
 *   duplicate      an exact repeat of the last valid row before it, which
 *                  an adapter skips as unchanged (collect once), not refuses.
 * The first three are refused by gx_field_set_text for the named field.
 * Each row's valid content is the same with or without defects, so a row
 * that is not defective is identical in both runs.
 */
#ifndef GX_SAMPLE_H
#define GX_SAMPLE_H

#include <stdint.h>

#include "gx.h"
#include "gx_schema.h"

/* Every generated date is on or before this day (and every timestamp
 * before its midnight), so "past" holds whenever the data is checked. */
#define GX_SAMPLE_TODAY "2024-06-30"

typedef enum {
	GX_DEFECT_NONE = 0,
	GX_DEFECT_BAD_CHECK,
	GX_DEFECT_MISSING,
	GX_DEFECT_BAD_DATE,
	GX_DEFECT_DUPLICATE,
	GX_DEFECT_KINDS		/* the number of kinds, NONE included */
} gx_defect_t;

/* "none", "bad_check", "missing_field", "bad_date", "duplicate". */
const char *gx_defect_name(gx_defect_t d);

typedef struct gx_sample gx_sample_t;

typedef struct gx_sample_row {
	/* One text per library field, in schema order; NULL for a null.
	 * Valid until the next gx_sample_next or gx_sample_destroy. */
	const char *const *values;
	size_t nvalues;
	uint64_t index;		/* 0-based row number */
	gx_defect_t defect;
	/* The field the defect is in (bad_check, missing_field, bad_date). */
	const char *field;
	uint64_t repeats;	/* duplicate: the index of the row repeated */
} gx_sample_row_t;

/* Is there a generator for the library called name? */
int gx_sample_supported(const char *name);

/*
 * A generator of `rows` rows of lib (one of the six) from seed, with the
 * share `defects` (0..1) of defective rows. Fails with GX_ERR_NOTFOUND for
 * a library without a generator, GX_ERR_INVALID for a share outside 0..1,
 * GX_ERR_CONFIG if the schema has a required field the generator does not
 * fill (the schema changed and the generator did not).
 */
gx_err_t gx_sample_new(const gx_library_t *lib, uint64_t seed, uint64_t rows,
		       double defects, gx_sample_t **out, char *errstr,
		       size_t errstr_size);
void gx_sample_destroy(gx_sample_t *s);

/* How many rows will be defective: round(defects * rows). */
uint64_t gx_sample_defect_total(const gx_sample_t *s);

/*
 * The next row. Returns GX_OK, or GX_ERR_EOF after the last row, or
 * GX_ERR_CONFIG (errstr says why) if the generator names a field the
 * schema lacks.
 */
gx_err_t gx_sample_next(gx_sample_t *s, gx_sample_row_t *row, char *errstr,
			size_t errstr_size);

#endif /* GX_SAMPLE_H */
