/*
 * gx_report.h - the compliance report (art. 23), computed from the same
 * topics replay reads: <prefix>.catalog, <prefix>.approvals,
 * <prefix>.decisions and <prefix>.rejected.
 *
 * It answers, for a period: which requests were answered and how fast
 * (unconditional requests must be granted at once; a conditional request
 * must be answered within N working days, M where the item's data is not
 * yet on the exchange); which refusals gave no reason; denials by reason
 * and provider; releases by consumer and item; grants near their end date;
 * records refused at ingest by reason; and whether the decision chains
 * verify (gx_replay over the same messages).
 *
 * The result is a JSON model (shape in gx_report.c, above gx_report_build);
 * `govexctl report` prints it as text or JSON, or renders it with
 * gx_report_html as one self-contained HTML page.
 *
 * Working days are Monday to Friday in the zone utc_offset_min east of UTC
 * (480: China Standard Time); public holidays are not known to govex and
 * count as working days, so a limit is never stretched by one. As for any
 * legal period, the day of filing is not counted: a request filed on a
 * Monday with a 5-day limit must be answered by the end of the next Monday.
 */
#ifndef GX_REPORT_H
#define GX_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "gx.h"
#include "gx_decision.h"
#include "gx_schema.h"

/* An automatic grant later than this after its request is flagged. */
#define GX_REPORT_AT_ONCE_MS 60000

typedef struct gx_report_opts {
	int64_t from_ms, to_ms;	/* the period; 0: unbounded */
	int64_t now_ms;		/* generation time: pending requests and
				 * grant expiry are judged as of now */
	int conditional_days;	/* working days to answer (5) */
	int offline_days;	/* ... when the data is not yet on the
				 * exchange (10) */
	int expiry_days;	/* grants ending within this many days (30) */
	int utc_offset_min;	/* zone of the working days (480) */
	gx_verifier_t *verifier; /* checkpoints (NULL: not verified); borrowed */
} gx_report_opts_t;

typedef struct gx_report gx_report_t;

/* A report over the messages fed next; opts is copied. */
gx_report_t *gx_report_new(const gx_schemas_t *schemas,
			   const gx_report_opts_t *opts);
void gx_report_destroy(gx_report_t *r);

/* Feed each topic in offset order per partition (value NULL: tombstone).
 * Messages that do not parse are counted and otherwise left out. */
void gx_report_add_catalog(gx_report_t *r, int64_t offset, const char *key,
			   size_t keylen, const void *value, size_t len);
void gx_report_add_approval(gx_report_t *r, int64_t offset, const void *value,
			    size_t len);
void gx_report_add_decision(gx_report_t *r, int32_t partition, int64_t offset,
			    const void *value, size_t len);
void gx_report_add_rejected(gx_report_t *r, int32_t partition, int64_t offset,
			    const void *value, size_t len);

/* The report's model (caller json_decref's). Call once, after feeding. */
json_t *gx_report_build(gx_report_t *r);

/* The model as one self-contained HTML page (UTF-8, inline CSS, no script
 * and no external resource), appended to out. */
void gx_report_html(json_t *model, gx_buf_t *out);

/* Append s with & < > " ' escaped for HTML text and attribute values;
 * bytes that are not valid UTF-8 and control characters (but tab and
 * newline) become U+FFFD, so the page stays well-formed. */
void gx_html_escape(gx_buf_t *out, const char *s);

/*
 * Working days (Monday to Friday, in the zone utc_offset_min east of UTC)
 * after the day of a and up to and including the day of b: 0 when b falls on
 * the day of a or before, 1 on the next working day...
 */
long gx_working_days(int64_t a_ms, int64_t b_ms, int utc_offset_min);
/* The end (exclusive, ms) of the n-th working day after the day of a_ms. */
int64_t gx_working_deadline(int64_t a_ms, int n, int utc_offset_min);

#endif /* GX_REPORT_H */
