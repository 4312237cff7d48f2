/*
 * gx_validate.h - validation of source values before they are published
 * (art. 11: accurate data). Rules are named in the payload schema's
 * "gx.check" attribute:
 *   gb11643         18-character citizen ID: region, birth date, order code
 *                   and the ISO 7064 MOD 11-2 check character (GB 11643-1999)
 *   division        six-digit administrative division code shape (GB/T 2260)
 *   digits:N        exactly N decimal digits
 *   code:A,B,C      one of the listed codes
 *   text:MIN:MAX    UTF-8 text of MIN..MAX characters, no control characters
 *   past            a date not after today (for dates)
 *   gb32100         18-character unified social credit code: its check
 *                   character and that of the GB 11714 organisation code in
 *                   characters 9-17 (GB 32100-2015)
 *   licence_id      e-licence identifier (GB/T 36904-2018) with its ISO 7064
 *                   MOD 37,36 check character
 *   licence_type    21-character e-licence type code: the competent
 *                   department's unified social credit code and 3 digits
 *   period          statistical period: YYYY, YYYYHn, YYYYQn or YYYYMmm
 *   wkt             2D WKT geometry (POINT, LINESTRING, POLYGON and their
 *                   MULTI forms), longitude -180..180, latitude -90..90
 *   json            a JSON object
 *   token:MIN:MAX   MIN..MAX letters, digits, '.', '-' or '_'
 *   A|B             any of the text rules A, B (e.g. gb32100|gb11643)
 *   range:MIN:MAX   an integer in MIN..MAX (int and long fields)
 *   nonnegative     not below zero (int, long and decimal fields)
 * Messages name the rule that failed, never the value itself: values may be
 * personal data and messages end up in logs and on govex.rejected.
 */
#ifndef GX_VALIDATE_H
#define GX_VALIDATE_H

#include <stdint.h>

#include "gx.h"

/* The GB 11643 check character for the first 17 digits, or 0 if they are
 * not 17 digits. */
char gx_gb11643_check_char(const char *first17);
gx_err_t gx_check_gb11643(const char *id, char *errstr, size_t errstr_size);
gx_err_t gx_check_division(const char *code, char *errstr, size_t errstr_size);
/* Count UTF-8 characters; -1 if s is not valid UTF-8. */
long gx_utf8_len(const char *s);
/* Length of the valid UTF-8 sequence at s (at most n bytes, n >= 1), or 0
 * if it is not one: no overlong forms, no surrogates, nothing above
 * U+10FFFF, nothing cut short (what jansson and Prometheus accept). */
size_t gx_utf8_seq(const unsigned char *s, size_t n);

/* Apply a text rule (all but "past") to text. */
gx_err_t gx_check_text_rule(const char *rule, const char *text, char *errstr,
			    size_t errstr_size);
/* Apply "past" (and any future date rule) to a date in days since epoch. */
gx_err_t gx_check_date_rule(const char *rule, int32_t days, int64_t now_ms,
			    char *errstr, size_t errstr_size);

/* What kind of value a rule applies to (gx_rule_applies). */
enum {
	GX_RULE_TEXT = 1,	/* strings: gx_check_text_rule */
	GX_RULE_DATE = 2,	/* dates: gx_check_date_rule */
	GX_RULE_INT = 4,	/* int and long: gx_check_number_rule */
	GX_RULE_DECIMAL = 8	/* decimals: gx_check_number_rule on the sign */
};
/* A mask of GX_RULE_* a rule applies to; 0 if the rule is unknown or
 * malformed (so a schema can be refused when it is loaded). */
unsigned gx_rule_applies(const char *rule);
/* Apply "range" or "nonnegative" to an integer (for a decimal, pass -1 if
 * it is negative and 0 otherwise). */
gx_err_t gx_check_number_rule(const char *rule, int64_t n, char *errstr,
			      size_t errstr_size);

/* The GB 32100 check character for the first 17 characters, or 0 if they
 * are not 17 characters of the code's alphabet (0-9, A-Z without I O S V Z). */
char gx_gb32100_check_char(const char *first17);
/* The GB 11714 organisation code check character for the first 8
 * characters (digits and capital letters), or 0 if they are not. */
char gx_gb11714_check_char(const char *first8);
gx_err_t gx_check_gb32100(const char *code, char *errstr, size_t errstr_size);

/*
 * ISO 7064 (GB/T 17710) hybrid system MOD (M+1, M) over alphabet (M
 * characters, each worth its position): the check character for the n
 * characters at s, or 0 if one of them is not in the alphabet. With
 * GX_ISO7064_ALNUM it is MOD 37,36; with "0123456789" MOD 11,10.
 */
#define GX_ISO7064_ALNUM "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
char gx_iso7064_hybrid_check_char(const char *alphabet, const char *s,
				  size_t n);
gx_err_t gx_check_licence_type(const char *code, char *errstr,
			       size_t errstr_size);
gx_err_t gx_check_licence_id(const char *id, char *errstr, size_t errstr_size);

gx_err_t gx_check_period(const char *period, char *errstr, size_t errstr_size);
/* Longitude -180..180 and latitude -90..90 (degrees, CGCS2000 / WGS 84). */
gx_err_t gx_check_lonlat(double lon, double lat, char *errstr,
			 size_t errstr_size);
gx_err_t gx_check_wkt(const char *wkt, char *errstr, size_t errstr_size);
gx_err_t gx_check_json_object(const char *text, char *errstr,
			      size_t errstr_size);

#endif /* GX_VALIDATE_H */
