/*
 * itest_population.h - population test data shared by the integration
 * tests: a catalogue item with all three sharing classes and deterministic
 * CSV rows in the shapes providers send (BOM, CRLF, quoted fields with
 * commas, quotes and newlines, Chinese text).
 */
#ifndef ITEST_POPULATION_H
#define ITEST_POPULATION_H

#include <jansson.h>
#include <stddef.h>

struct row {
	char id[19];
	char name[64];
	char sex[2];
	char eth[3];
	char birth[11];
	char division[7];
	char address[160];
	char marital[3];
	char education[3];
	const char *status;
	char updated[32];
};

/* Catalogue JSON (an array of one item) for item id: citizen_id and
 * address conditional, marital_status not shared, the rest unconditional;
 * provider SX-GA. The result is a static buffer. */
const char *it_population_catalog(const char *item);
/* Row i; the name ends in the 5-digit index, so rows can be matched. */
void make_row(unsigned i, struct row *r);
/* Write rows first..first+n-1 as a CSV file with a header. */
void it_population_csv(const char *path, unsigned first, unsigned n);
/* The row index a delivered record's name encodes. */
unsigned it_row_index(const char *name);
/* Expect a delivered record (govexctl consume --json) to release exactly the
 * fields in want, name every other one in provenance.withheld, and carry the
 * source row's citizen ID when it releases it. */
void it_expect_fields(json_t *rec, const char *const *want, size_t nwant);

#endif
