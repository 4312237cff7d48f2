/*
 * gx_validate.c - value checks named by the schemas' "gx.check" rules.
 */
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_validate.h"

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

char gx_gb11643_check_char(const char *first17)
{
	/* ISO 7064 MOD 11-2: weights 2^(17-i) mod 11, check = (12 - sum) mod 11,
	 * 10 written as 'X'. */
	static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6,
				  3, 7, 9, 10, 5, 8, 4, 2};
	static const char map[] = "10X98765432";
	int sum = 0;
	if (strnlen(first17, 17) < 17 || !all_digits(first17, 17))
		return 0;
	for (int i = 0; i < 17; i++)
		sum += (first17[i] - '0') * w[i];
	return map[sum % 11];
}

gx_err_t gx_check_gb11643(const char *id, char *errstr, size_t errstr_size)
{
	size_t len = strlen(id);
	if (len != 18)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "citizen ID must be 18 characters, got %zu",
				 len);
	if (!all_digits(id, 17))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "citizen ID: first 17 characters must be digits");
	char date[11];
	snprintf(date, sizeof(date), "%.4s-%.2s-%.2s", id + 6, id + 10, id + 12);
	int32_t days;
	if (gx_parse_date(date, &days))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "citizen ID: birth date part is not a date");
	char want = gx_gb11643_check_char(id);
	char got = id[17] == 'x' ? 'X' : id[17];
	if (got != want)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "citizen ID: check character does not match "
				 "(GB 11643 MOD 11-2)");
	return GX_OK;
}

gx_err_t gx_check_division(const char *code, char *errstr, size_t errstr_size)
{
	if (strlen(code) != 6 || !all_digits(code, 6))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "division code must be 6 digits (GB/T 2260)");
	/* Province codes run from 11 (Beijing) to 82 (Macao). */
	int prov = (code[0] - '0') * 10 + (code[1] - '0');
	if (prov < 11 || prov > 82)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "division code: no province %02d (GB/T 2260)",
				 prov);
	return GX_OK;
}

long gx_utf8_len(const char *s)
{
	long n = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int extra;
		unsigned cp;
		if (*p < 0x80) {
			extra = 0;
			cp = *p;
		} else if ((*p & 0xE0) == 0xC0) {
			extra = 1;
			cp = *p & 0x1F;
		} else if ((*p & 0xF0) == 0xE0) {
			extra = 2;
			cp = *p & 0x0F;
		} else if ((*p & 0xF8) == 0xF0) {
			extra = 3;
			cp = *p & 0x07;
		} else {
			return -1;
		}
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xC0) != 0x80)
				return -1;
			cp = (cp << 6) | (*p & 0x3F);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
		    (extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return -1;
		n++;
	}
	return n;
}

gx_err_t gx_check_text_rule(const char *rule, const char *text, char *errstr,
			    size_t errstr_size)
{
	if (!rule)
		return GX_OK;
	if (!strcmp(rule, "gb11643"))
		return gx_check_gb11643(text, errstr, errstr_size);
	if (!strcmp(rule, "division"))
		return gx_check_division(text, errstr, errstr_size);
	if (!strncmp(rule, "digits:", 7)) {
		size_t n = (size_t)atoi(rule + 7);
		if (strlen(text) != n || !all_digits(text, n))
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "must be %zu digits", n);
		return GX_OK;
	}
	if (!strncmp(rule, "code:", 5)) {
		const char *p = rule + 5;
		size_t tl = strlen(text);
		while (*p) {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			if (n == tl && !strncmp(p, text, n))
				return GX_OK;
			p += n + (e ? 1 : 0);
		}
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "not one of the codes %s", rule + 5);
	}
	if (!strncmp(rule, "text:", 5)) {
		long min = 0, max = 0;
		char *end;
		min = strtol(rule + 5, &end, 10);
		if (*end == ':')
			max = strtol(end + 1, NULL, 10);
		long n = gx_utf8_len(text);
		if (n < 0)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "not valid UTF-8");
		for (const unsigned char *p = (const unsigned char *)text; *p;
		     p++)
			/* C0 controls but line breaks and tabs, DEL, and the C1
			 * controls U+0080..U+009F (UTF-8 C2 80..C2 9F). */
			if ((*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t') ||
			    *p == 0x7F || (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
				return gx_seterr(errstr, errstr_size,
						 GX_ERR_INVALID,
						 "contains a control character");
		if (n < min || (max && n > max))
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "length %ld outside %ld..%ld characters",
					 n, min, max);
		return GX_OK;
	}
	if (!strcmp(rule, "past"))
		return GX_OK; /* applies to the parsed date */
	return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
			 "unknown gx.check rule '%s'", rule);
}

gx_err_t gx_check_date_rule(const char *rule, int32_t days, int64_t now_ms,
			    char *errstr, size_t errstr_size)
{
	if (rule && !strcmp(rule, "past")) {
		int64_t today = now_ms / 86400000;
		if (days > today)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "date is in the future");
		/* 1850 is earlier than any living person's registration. */
		if (days < -43829)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "date is before 1850");
	}
	return GX_OK;
}
