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

/* Apply a text rule (all but "past") to text. */
gx_err_t gx_check_text_rule(const char *rule, const char *text, char *errstr,
			    size_t errstr_size);
/* Apply "past" (and any future date rule) to a date in days since epoch. */
gx_err_t gx_check_date_rule(const char *rule, int32_t days, int64_t now_ms,
			    char *errstr, size_t errstr_size);

#endif /* GX_VALIDATE_H */
