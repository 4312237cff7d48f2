/*
 * gx_validate.c - value checks named by the schemas' "gx.check" rules.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
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

size_t gx_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

long gx_utf8_len(const char *s)
{
	long count = 0;
	size_t n = strlen(s);
	for (size_t i = 0; i < n; count++) {
		size_t k = gx_utf8_seq((const unsigned char *)s + i, n - i);
		if (!k)
			return -1;
		i += k;
	}
	return count;
}

static gx_err_t check_alternatives(const char *rule, const char *text,
				   char *errstr, size_t errstr_size);
static gx_err_t check_token(const char *rule, const char *text, char *errstr,
			    size_t errstr_size);

gx_err_t gx_check_text_rule(const char *rule, const char *text, char *errstr,
			    size_t errstr_size)
{
	if (!rule)
		return GX_OK;
	if (strchr(rule, '|'))
		return check_alternatives(rule, text, errstr, errstr_size);
	if (!strcmp(rule, "gb32100"))
		return gx_check_gb32100(text, errstr, errstr_size);
	if (!strcmp(rule, "licence_id"))
		return gx_check_licence_id(text, errstr, errstr_size);
	if (!strcmp(rule, "licence_type"))
		return gx_check_licence_type(text, errstr, errstr_size);
	if (!strcmp(rule, "period"))
		return gx_check_period(text, errstr, errstr_size);
	if (!strcmp(rule, "wkt"))
		return gx_check_wkt(text, errstr, errstr_size);
	if (!strcmp(rule, "json"))
		return gx_check_json_object(text, errstr, errstr_size);
	if (!strncmp(rule, "token:", 6))
		return check_token(rule, text, errstr, errstr_size);
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

/* ---- rule parameters and kinds ---- */

/* Parse "MIN:MAX" (both decimal integers) strictly. */
static int parse_min_max(const char *p, long long *min, long long *max)
{
	char *end;
	errno = 0;
	*min = strtoll(p, &end, 10);
	if (end == p || *end != ':' || errno)
		return -1;
	p = end + 1;
	*max = strtoll(p, &end, 10);
	if (end == p || *end || errno)
		return -1;
	return 0;
}

unsigned gx_rule_applies(const char *rule)
{
	long long min, max;
	if (!rule || !*rule)
		return 0;
	if (strchr(rule, '|')) {
		/* Every alternative must be a text rule on its own. */
		if (*rule == '|' || rule[strlen(rule) - 1] == '|' ||
		    strstr(rule, "||"))
			return 0;
		char *copy = gx_strdup(rule), *save = NULL;
		unsigned all = GX_RULE_TEXT;
		for (char *a = strtok_r(copy, "|", &save); a;
		     a = strtok_r(NULL, "|", &save))
			all &= gx_rule_applies(a);
		free(copy);
		return all;
	}
	static const char *const text_rules[] = {
	    "gb11643", "gb32100", "division", "licence_id", "licence_type",
	    "period",  "wkt",	  "json"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(text_rules); i++)
		if (!strcmp(rule, text_rules[i]))
			return GX_RULE_TEXT;
	if (!strcmp(rule, "past"))
		return GX_RULE_DATE;
	if (!strcmp(rule, "nonnegative"))
		return GX_RULE_INT | GX_RULE_DECIMAL;
	if (!strncmp(rule, "digits:", 7)) {
		char *end;
		long n = strtol(rule + 7, &end, 10);
		return end != rule + 7 && !*end && n >= 1 && n <= 64
			   ? GX_RULE_TEXT
			   : 0;
	}
	if (!strncmp(rule, "code:", 5))
		return rule[5] ? GX_RULE_TEXT : 0;
	if (!strncmp(rule, "text:", 5))
		/* MAX 0: no upper bound */
		return !parse_min_max(rule + 5, &min, &max) && min >= 0 &&
			       max >= 0 && (!max || max >= min)
			   ? GX_RULE_TEXT
			   : 0;
	if (!strncmp(rule, "token:", 6))
		return !parse_min_max(rule + 6, &min, &max) && min >= 1 &&
			       max >= min
			   ? GX_RULE_TEXT
			   : 0;
	if (!strncmp(rule, "range:", 6))
		return !parse_min_max(rule + 6, &min, &max) && min <= max
			   ? GX_RULE_INT
			   : 0;
	return 0;
}

gx_err_t gx_check_number_rule(const char *rule, int64_t n, char *errstr,
			      size_t errstr_size)
{
	long long min, max;
	if (!rule)
		return GX_OK;
	if (!strcmp(rule, "nonnegative")) {
		if (n < 0)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "must not be negative");
		return GX_OK;
	}
	if (!strncmp(rule, "range:", 6) &&
	    !parse_min_max(rule + 6, &min, &max)) {
		if (n < min || n > max)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "outside %lld..%lld", min, max);
		return GX_OK;
	}
	return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
			 "unknown gx.check rule '%s' for a number", rule);
}

static gx_err_t check_alternatives(const char *rule, const char *text,
				   char *errstr, size_t errstr_size)
{
	/* The value passes if one alternative accepts it; otherwise the
	 * message gives each alternative's reason (none repeats the value). */
	char *copy = gx_strdup(rule), *save = NULL;
	gx_buf_t why;
	gx_err_t err = GX_ERR_INVALID;
	char one[256];
	gx_buf_init(&why);
	gx_buf_printf(&why, "fits none of %s:", rule);
	for (char *a = strtok_r(copy, "|", &save); a;
	     a = strtok_r(NULL, "|", &save)) {
		gx_err_t e = gx_check_text_rule(a, text, one, sizeof(one));
		if (e == GX_OK || e == GX_ERR_CONFIG) {
			err = e;
			if (e == GX_ERR_CONFIG)
				gx_seterr(errstr, errstr_size, e, "%s", one);
			break;
		}
		gx_buf_printf(&why, " %s (%s);", a, one);
	}
	if (err == GX_ERR_INVALID) {
		why.len--; /* the last ';' */
		gx_seterr(errstr, errstr_size, err, "%s", gx_buf_cstr(&why));
	}
	gx_buf_free(&why);
	free(copy);
	return err;
}

static gx_err_t check_token(const char *rule, const char *text, char *errstr,
			    size_t errstr_size)
{
	long long min, max;
	if (parse_min_max(rule + 6, &min, &max))
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "unknown gx.check rule '%s'", rule);
	size_t n = strlen(text);
	int ok = (long long)n >= min && (long long)n <= max;
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)text[i]) || text[i] == '.' ||
		     text[i] == '-' || text[i] == '_';
	if (!ok)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "must be %lld to %lld letters, digits, '.', "
				 "'-' or '_'",
				 min, max);
	return GX_OK;
}

/* ---- GB 32100 unified social credit codes and GB 11714 organisation
 * codes ---- */

/* The 31 characters of GB 32100, each worth its position: the digits and
 * the capital letters without I, O, S, V and Z. */
static const char uscc_alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

static int uscc_value(char c)
{
	const char *p = c ? strchr(uscc_alphabet, c) : NULL;
	return p ? (int)(p - uscc_alphabet) : -1;
}

char gx_gb32100_check_char(const char *first17)
{
	/* GB 32100-2015 5.3 (after GB/T 17710): weights 3^(i-1) mod 31, check
	 * value 31 - (sum mod 31), 31 written as 0. */
	static const int w[17] = {1,  3,  9,  27, 19, 26, 16, 17, 20,
				  29, 25, 13, 8,  24, 10, 30, 28};
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		int v = uscc_value(first17[i]);
		if (v < 0)
			return 0;
		sum += v * w[i];
	}
	return uscc_alphabet[(31 - sum % 31) % 31];
}

char gx_gb11714_check_char(const char *first8)
{
	/* GB 11714-1997: digits worth 0-9, letters A-Z 10-35, weights
	 * 3 7 9 10 5 8 4 2, check 11 - (sum mod 11), 10 written X, 11 as 0. */
	static const int w[8] = {3, 7, 9, 10, 5, 8, 4, 2};
	int sum = 0;
	for (int i = 0; i < 8; i++) {
		char c = first8[i];
		int v;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'A' && c <= 'Z')
			v = c - 'A' + 10;
		else
			return 0;
		sum += v * w[i];
	}
	int c = 11 - sum % 11;
	return c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
}

gx_err_t gx_check_gb32100(const char *code, char *errstr, size_t errstr_size)
{
	size_t len = strlen(code);
	if (len != 18)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "unified social credit code must be 18 "
				 "characters, got %zu",
				 len);
	for (size_t i = 0; i < 18; i++)
		if (uscc_value(code[i]) < 0)
			return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					 "unified social credit code: only digits "
					 "and capital letters but I, O, S, V, Z "
					 "(GB 32100)");
	/* Characters 3-8 are the registering authority's division code; it
	 * may be a central one (100000), so only its shape is checked. */
	if (!all_digits(code + 2, 6))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "unified social credit code: characters 3 to 8 "
				 "must be a 6-digit division code");
	if (gx_gb32100_check_char(code) != code[17])
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "unified social credit code: check character "
				 "does not match (GB 32100)");
	if (gx_gb11714_check_char(code + 8) != code[16])
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "unified social credit code: organisation code "
				 "check character (character 17) does not match "
				 "(GB 11714)");
	return GX_OK;
}

/* ---- ISO 7064 and GB/T 36904 e-licence identifiers ---- */

char gx_iso7064_hybrid_check_char(const char *alphabet, const char *s,
				  size_t n)
{
	/* ISO 7064 hybrid system, M = the alphabet's size: P1 = M; for each
	 * character a, S = (P + a) mod M with 0 read as M, P = 2S mod (M+1).
	 * The check value c makes (P + c) mod M == 1. */
	long m = (long)strlen(alphabet);
	long p = m;
	for (size_t i = 0; i < n; i++) {
		const char *q = s[i] ? strchr(alphabet, s[i]) : NULL;
		if (!q)
			return 0;
		long sum = (p + (q - alphabet)) % m;
		p = (2 * (sum ? sum : m)) % (m + 1);
	}
	return alphabet[((1 - p) % m + m) % m];
}

static int upper_alnum(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			return 0;
	return 1;
}

/* The competent department's USCC and a 3-digit type number. */
static int licence_type_ok(const char *s, size_t n)
{
	char uscc[19];
	char why[8];
	if (n != 21 || !all_digits(s + 18, 3))
		return 0;
	memcpy(uscc, s, 18);
	uscc[18] = '\0';
	return gx_check_gb32100(uscc, why, sizeof(why)) == GX_OK;
}

gx_err_t gx_check_licence_type(const char *code, char *errstr,
			       size_t errstr_size)
{
	if (!licence_type_ok(code, strlen(code)))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence type code must be 21 characters: a "
				 "valid unified social credit code and 3 digits "
				 "(GB/T 36904)");
	return GX_OK;
}

#define LICENCE_ROOT "1.2.156.3005.2."

/*
 * GB/T 36904-2018 identifier: root.type.issuer.serial.version.check with
 *   root     1.2.156.3005.2, the e-licence OID arc;
 *   type     21 characters: the GB 32100 code of the department that
 *            defines the licence type and a 3-digit number;
 *   issuer   the issuing department's 18-character GB 32100 code;
 *   serial   the issuer's serial number, capital letters and digits
 *            (1 to 64 here);
 *   version  3 digits;
 *   check    one character of ISO 7064 MOD 37,36 (GB/T 17710-2008).
 * The check character covers type, issuer, serial and version written one
 * after the other without their dots; neither the root nor the dots count.
 * Source: the standard's text was not at hand; this is how issuing systems
 * compute it (they strip "1.2.156.3005.2" and every dot, then apply MOD
 * 37,36 per GB/T 17710-2008, the national adoption of ISO 7064), and the
 * published identifiers in tests/unit/test_checks.c agree, e.g. the format
 * example of the national construction safety certificate interface
 * 1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U
 * whose U comes out only with exactly those characters (with the root's
 * digits included it would be 7).
 */
gx_err_t gx_check_licence_id(const char *id, char *errstr, size_t errstr_size)
{
	const char *part[5];
	size_t plen[5];
	size_t n = 0;
	if (strncmp(id, LICENCE_ROOT, strlen(LICENCE_ROOT)))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence ID must start with the e-licence root "
				 "1.2.156.3005.2 (GB/T 36904)");
	for (const char *p = id + strlen(LICENCE_ROOT);;) {
		const char *dot = strchr(p, '.');
		if (n == 5) {
			n++; /* a sixth part */
			break;
		}
		part[n] = p;
		plen[n++] = dot ? (size_t)(dot - p) : strlen(p);
		if (!dot)
			break;
		p = dot + 1;
	}
	if (n != 5)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence ID must have 5 parts after the root: "
				 "type.issuer.serial.version.check (GB/T 36904)");
	if (!licence_type_ok(part[0], plen[0]))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence ID: type code must be 21 characters, a "
				 "valid unified social credit code and 3 digits");
	char issuer[19];
	char why[128];
	if (plen[1] != 18)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence ID: issuer code must be an "
				 "18-character unified social credit code");
	memcpy(issuer, part[1], 18);
	issuer[18] = '\0';
	if (gx_check_gb32100(issuer, why, sizeof(why)))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence ID: issuer code: %s", why);
	if (plen[2] < 1 || plen[2] > 64 || !upper_alnum(part[2], plen[2]))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence ID: serial number must be 1 to 64 "
				 "digits or capital letters");
	if (plen[3] != 3 || !all_digits(part[3], 3))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence ID: version must be 3 digits");
	if (plen[4] != 1 || !upper_alnum(part[4], 1))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence ID: check must be one digit or capital "
				 "letter");
	/* type, issuer, serial and version without their dots */
	char body[21 + 18 + 64 + 3];
	size_t bl = 0;
	for (int i = 0; i < 4; i++) {
		memcpy(body + bl, part[i], plen[i]);
		bl += plen[i];
	}
	if (gx_iso7064_hybrid_check_char(GX_ISO7064_ALNUM, body, bl) !=
	    part[4][0])
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "licence ID: check character does not match "
				 "(ISO 7064 MOD 37,36)");
	return GX_OK;
}

/* ---- statistical periods ---- */

gx_err_t gx_check_period(const char *period, char *errstr, size_t errstr_size)
{
	size_t len = strlen(period);
	int ok = (len == 4 || len == 6 || len == 7) && all_digits(period, 4);
	if (ok && len == 6)
		ok = (period[4] == 'H' || period[4] == 'Q') &&
		     all_digits(period + 5, 1);
	if (ok && len == 7)
		ok = period[4] == 'M' && all_digits(period + 5, 2);
	if (!ok)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "period must be YYYY, YYYYHn, YYYYQn or YYYYMmm");
	int year = 0, n = 0;
	for (int i = 0; i < 4; i++)
		year = year * 10 + (period[i] - '0');
	for (size_t i = 5; i < len; i++)
		n = n * 10 + (period[i] - '0');
	if (year < 1900 || year > 2100)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "period: year outside 1900..2100");
	if (len == 6 && period[4] == 'H' && (n < 1 || n > 2))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "period: half-year must be 1 or 2");
	if (len == 6 && period[4] == 'Q' && (n < 1 || n > 4))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "period: quarter must be 1 to 4");
	if (len == 7 && (n < 1 || n > 12))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "period: month must be 01 to 12");
	return GX_OK;
}

/* ---- coordinates and WKT ---- */

gx_err_t gx_check_lonlat(double lon, double lat, char *errstr,
			 size_t errstr_size)
{
	/* Written so that NaN fails too. */
	if (!(lon >= -180.0 && lon <= 180.0))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "longitude outside -180..180");
	if (!(lat >= -90.0 && lat <= 90.0))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "latitude outside -90..90");
	return GX_OK;
}

/* A WKT reader: the text, where it is, and the first error. */
typedef struct {
	const char *s;
	size_t pos;
	char *errstr;
	size_t errstr_size;
} wkt_t;

static void wkt_space(wkt_t *w)
{
	while (w->s[w->pos] == ' ' || w->s[w->pos] == '\t' ||
	       w->s[w->pos] == '\n' || w->s[w->pos] == '\r')
		w->pos++;
}

static gx_err_t wkt_fail(wkt_t *w, const char *what)
{
	return gx_seterr(w->errstr, w->errstr_size, GX_ERR_INVALID,
			 "WKT: %s at offset %zu", what, w->pos);
}

static gx_err_t wkt_expect(wkt_t *w, char c)
{
	wkt_space(w);
	if (w->s[w->pos] != c)
		return wkt_fail(w, c == '(' ? "expected '('"
				   : c == ')' ? "expected ')'"
					      : "expected ','");
	w->pos++;
	return GX_OK;
}

/* Is the next non-space character c? (not consumed) */
static int wkt_peek(wkt_t *w, char c)
{
	wkt_space(w);
	return w->s[w->pos] == c;
}

/* Consume a ',' if one comes next; returns whether it did. */
static int wkt_comma(wkt_t *w)
{
	if (!wkt_peek(w, ','))
		return 0;
	w->pos++;
	return 1;
}

/* A number: -?digits(.digits)?([eE][+-]?digits)? */
static gx_err_t wkt_number(wkt_t *w, double *v)
{
	const char *p = w->s + w->pos, *start = p;
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return wkt_fail(w, "expected a number");
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return wkt_fail(w, "expected a number");
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return wkt_fail(w, "expected a number");
		while (isdigit((unsigned char)*p))
			p++;
	}
	char *copy = gx_strndup(start, (size_t)(p - start));
	*v = strtod(copy, NULL);
	free(copy);
	w->pos += (size_t)(p - start);
	return GX_OK;
}

/* "lon lat": exactly two numbers, in range; *xy gets them. */
static gx_err_t wkt_coord(wkt_t *w, double xy[2])
{
	char why[64];
	gx_err_t err;
	size_t at;
	wkt_space(w);
	at = w->pos;
	if ((err = wkt_number(w, &xy[0])))
		return err;
	size_t end = w->pos;
	wkt_space(w);
	if (w->pos == end)
		return wkt_fail(w, "expected a space between coordinates");
	if ((err = wkt_number(w, &xy[1])))
		return err;
	wkt_space(w);
	if (w->s[w->pos] == '-' || isdigit((unsigned char)w->s[w->pos]))
		return wkt_fail(w, "only 2D coordinates (x y) are supported");
	if (gx_check_lonlat(xy[0], xy[1], why, sizeof(why))) {
		w->pos = at;
		return wkt_fail(w, why);
	}
	return GX_OK;
}

/* "(x y, x y, ...)" with at least min points; closed: first == last. */
static gx_err_t wkt_points(wkt_t *w, size_t min, int closed)
{
	double first[2], xy[2];
	size_t n = 0;
	gx_err_t err;
	if ((err = wkt_expect(w, '(')))
		return err;
	do {
		if ((err = wkt_coord(w, xy)))
			return err;
		if (!n++)
			memcpy(first, xy, sizeof(first));
	} while (wkt_comma(w));
	if ((err = wkt_expect(w, ')')))
		return err;
	if (n < min)
		return wkt_fail(w, closed ? "a ring needs at least 4 points"
					  : "a line needs at least 2 points");
	if (closed && (first[0] != xy[0] || first[1] != xy[1]))
		return wkt_fail(w, "a ring must end where it starts");
	return GX_OK;
}

/* "(ring, ring, ...)" */
static gx_err_t wkt_polygon(wkt_t *w)
{
	gx_err_t err;
	if ((err = wkt_expect(w, '(')))
		return err;
	do {
		if ((err = wkt_points(w, 4, 1)))
			return err;
	} while (wkt_comma(w));
	return wkt_expect(w, ')');
}

gx_err_t gx_check_wkt(const char *wkt, char *errstr, size_t errstr_size)
{
	static const char *const types[] = {
	    "POINT",	  "LINESTRING",	     "POLYGON",
	    "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON"};
	wkt_t w = {wkt, 0, errstr, errstr_size};
	char kw[20];
	size_t k = 0;
	gx_err_t err;
	double xy[2];

	wkt_space(&w);
	while (isalpha((unsigned char)wkt[w.pos]) && k < sizeof(kw) - 1)
		kw[k++] = (char)toupper((unsigned char)wkt[w.pos++]);
	kw[k] = '\0';
	size_t t = 0;
	while (t < GX_ARRAY_SIZE(types) && strcmp(kw, types[t]))
		t++;
	if (t == GX_ARRAY_SIZE(types)) {
		w.pos = 0;
		return wkt_fail(&w, "expected POINT, LINESTRING, POLYGON, "
				    "MULTIPOINT, MULTILINESTRING or "
				    "MULTIPOLYGON");
	}
	wkt_space(&w);
	if (isalpha((unsigned char)wkt[w.pos]))
		return wkt_fail(&w, "EMPTY, Z and M geometries are not "
				    "supported");
	switch (t) {
	case 0: /* POINT (x y) */
		if ((err = wkt_expect(&w, '(')) || (err = wkt_coord(&w, xy)) ||
		    (err = wkt_expect(&w, ')')))
			return err;
		break;
	case 1: /* LINESTRING (x y, ...) */
		if ((err = wkt_points(&w, 2, 0)))
			return err;
		break;
	case 2: /* POLYGON ((...), ...) */
		if ((err = wkt_polygon(&w)))
			return err;
		break;
	case 3: /* MULTIPOINT ((x y), ...) or (x y, ...) */
		if ((err = wkt_expect(&w, '(')))
			return err;
		do {
			int paren = wkt_peek(&w, '(');
			if ((paren && (err = wkt_expect(&w, '('))) ||
			    (err = wkt_coord(&w, xy)) ||
			    (paren && (err = wkt_expect(&w, ')'))))
				return err;
		} while (wkt_comma(&w));
		if ((err = wkt_expect(&w, ')')))
			return err;
		break;
	case 4: /* MULTILINESTRING ((...), ...) */
	case 5: /* MULTIPOLYGON (((...)), ...) */
		if ((err = wkt_expect(&w, '(')))
			return err;
		do {
			if ((err = t == 4 ? wkt_points(&w, 2, 0)
					  : wkt_polygon(&w)))
				return err;
		} while (wkt_comma(&w));
		if ((err = wkt_expect(&w, ')')))
			return err;
		break;
	}
	wkt_space(&w);
	if (wkt[w.pos])
		return wkt_fail(&w, "unexpected text after the geometry");
	return GX_OK;
}

/* ---- JSON ---- */

gx_err_t gx_check_json_object(const char *text, char *errstr,
			      size_t errstr_size)
{
	json_error_t jerr;
	/* jansson's message may quote the text; only the position is told. */
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			       &jerr);
	if (!j)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "invalid JSON at line %d column %d",
				 jerr.line, jerr.column);
	int obj = json_is_object(j);
	json_decref(j);
	if (!obj)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "not a JSON object");
	return GX_OK;
}
