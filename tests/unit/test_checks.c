/*
 * test_checks.c - the validators behind the newer "gx.check" rules
 * (broker/lib/gx_validate.c), against published test vectors: GB 32100
 * unified social credit codes with the GB 11714 organisation code inside
 * them, ISO 7064 hybrid MOD 37,36 and MOD 11,10, GB/T 36904 e-licence
 * identifiers, statistical periods, coordinates and WKT, JSON objects, and
 * the rule table (alternatives, token, range, nonnegative). Refusals never
 * repeat the value.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "gx.h"
#include "gx_validate.h"

static char err[512];

/* The refusal names no part of the value (long enough to matter). */
static void refused(gx_err_t e, const char *value, const char *why)
{
	cr_assert_eq(e, GX_ERR_INVALID, "'%s' must be refused (%s)", value,
		     err);
	cr_assert_not_null(strstr(err, why), "'%s': message '%s' lacks '%s'",
			   value, err, why);
	if (strlen(value) >= 4)
		cr_assert_null(strstr(err, value), "message repeats the value: %s",
			       err);
}

/* ---- GB 32100-2015 unified social credit codes ---- */

/*
 * Published codes, all from python-stdnum's tests/test_cn_uscc.doctest
 * (arthurdejong/python-stdnum, "found online"), each re-checked here by a
 * second computation (uscc_reference below) and the first by hand:
 *   91110000600037341L  python-stdnum's own example. By hand: 9*1 + 1*3 +
 *                       1*9 + 1*27 + 6*20 + 3*8 + 7*24 + 3*10 + 4*30 + 1*28
 *                       = 538, 538 mod 31 = 11, 31 - 11 = 20 = 'L'; its
 *                       organisation code 60003734: 6*3 + 3*5 + 7*8 + 3*4 +
 *                       4*2 = 109, 109 mod 11 = 10, 11 - 10 = 1 = char 17.
 *   121200004013590816  registered by an establishment authority (1),
 *                       a public institution (2)
 *   9144030071526726XG  organisation code check character X
 *   9115220107837941X1  the same, then a digit
 *   91620105L015101280  a letter inside the organisation code
 *   91340600MA2PBM9HXD  an "MA" organisation code of the 2015 reform
 *   92340602MA2PBMEM24  an individual business (9, 2)
 *   91310115MA1K3BTP2B  Shanghai, letters throughout
 */
static const char *published_uscc[] = {
    "91110000600037341L", "121200004013590816", "9144030071526726XG",
    "9115220107837941X1", "91620105L015101280", "91340600MA2PBM9HXD",
    "92340602MA2PBMEM24", "91310115MA1K3BTP2B",
};

static const char uscc_chars[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* GB 32100 in its GB/T 17710 form: weight of position i is 3^i mod 31
 * (computed, not tabled), check value (31 - sum mod 31) mod 31. */
static char uscc_reference(const char *first17)
{
	int sum = 0, w = 1;
	for (int i = 0; i < 17; i++) {
		sum += (int)(strchr(uscc_chars, first17[i]) - uscc_chars) * w;
		w = w * 3 % 31;
	}
	return uscc_chars[(31 - sum % 31) % 31];
}

Test(checks, gb32100_published_codes_accepted)
{
	for (size_t i = 0; i < GX_ARRAY_SIZE(published_uscc); i++) {
		const char *c = published_uscc[i];
		cr_assert_eq(gx_check_gb32100(c, err, sizeof(err)), GX_OK,
			     "%s: %s", c, err);
		cr_assert_eq(gx_gb32100_check_char(c), c[17], "%s", c);
		cr_assert_eq(uscc_reference(c), c[17], "%s (reference)", c);
		cr_assert_eq(gx_gb11714_check_char(c + 8), c[16], "%s", c);
		cr_assert_eq(gx_check_text_rule("gb32100", c, err, sizeof(err)),
			     GX_OK, "%s", err);
	}
}

Test(checks, gb32100_check_char_agrees_with_reference)
{
	char first17[18];
	uint32_t x = 32100;
	for (int n = 0; n < 20000; n++) {
		for (int i = 0; i < 17; i++) {
			x = x * 1664525u + 1013904223u;
			first17[i] = uscc_chars[(x >> 24) % 31];
		}
		first17[17] = '\0';
		char lib = gx_gb32100_check_char(first17);
		char ref = uscc_reference(first17);
		if (lib != ref)
			cr_assert_fail("%s: library %c, reference %c", first17,
				       lib, ref);
	}
	cr_assert_eq(gx_gb32100_check_char("9111000060003734I"), 0,
		     "I is not in the alphabet");
	cr_assert_eq(gx_gb32100_check_char("911100006000373"), 0, "short");
}

Test(checks, gb32100_every_wrong_check_char_refused)
{
	char code[19];
	for (size_t v = 0; v < GX_ARRAY_SIZE(published_uscc); v++) {
		int accepted = 0;
		memcpy(code, published_uscc[v], 19);
		for (size_t c = 0; c < 31; c++) {
			code[17] = uscc_chars[c];
			if (gx_check_gb32100(code, err, sizeof(err)) == GX_OK) {
				accepted++;
				cr_assert_eq(code[17], published_uscc[v][17]);
			} else {
				cr_assert_str_eq(err,
						 "unified social credit code: "
						 "check character does not match "
						 "(GB 32100)");
			}
		}
		cr_assert_eq(accepted, 1, "%s", published_uscc[v]);
	}
}

/*
 * GB 11714-1997 organisation codes: weights 3 7 9 10 5 8 4 2, check
 * 11 - (sum mod 11), 10 written X and 11 written 0. The vectors are
 * characters 9-17 of the published codes above; 4000000 + 1 is worked by
 * hand: 4*3 + 1*2 = 14, 14 mod 11 = 3, 11 - 3 = 8.
 */
Test(checks, gb11714_organisation_code_check_char)
{
	static const struct {
		const char *body;
		char check;
	} v[] = {
	    {"60003734", '1'}, {"40135908", '1'}, {"71526726", 'X'},
	    {"07837941", 'X'}, {"L0151012", '8'}, {"MA2PBM9H", 'X'},
	    {"MA2PBMEM", '2'}, {"MA1K3BTP", '2'}, {"40000001", '8'},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(v); i++)
		cr_assert_eq(gx_gb11714_check_char(v[i].body), v[i].check,
			     "%s", v[i].body);
	/* 11 - 0 = 11 is written 0: 00000000 has sum 0. */
	cr_assert_eq(gx_gb11714_check_char("00000000"), '0');
	cr_assert_eq(gx_gb11714_check_char("6000373"), 0, "7 characters");
	cr_assert_eq(gx_gb11714_check_char("6000373a"), 0, "lower case");
}

/*
 * The organisation code inside the USCC is checked on its own: here
 * character 17 of 91110000600037341L is changed to 2 and the GB 32100
 * check character recomputed (538 + 28 = 566, 566 mod 31 = 8, 31 - 8 = 23
 * = 'P'), so only GB 11714 can see the fault.
 */
Test(checks, gb32100_embedded_organisation_code_checked)
{
	const char *c = "91110000600037342P";
	cr_assert_eq(gx_gb32100_check_char(c), 'P');
	refused(gx_check_gb32100(c, err, sizeof(err)), c,
		"organisation code check character");
	cr_assert_not_null(strstr(err, "GB 11714"));
}

Test(checks, gb32100_refusals_name_the_rule_not_the_value)
{
	static const struct {
		const char *code, *why;
	} bad[] = {
	    {"91110000600037341N", "check character does not match"},
	    {"A1110000600037341L", "check character does not match"},
	    {"9111000060003IOZSV", "only digits and capital letters"},
	    {"91110000600037341l", "only digits and capital letters"},
	    {"9111000060003734 L", "only digits and capital letters"},
	    {"911100006000373411L", "18 characters, got 19"},
	    {"91110000600037341", "18 characters, got 17"},
	    {"", "18 characters, got 0"},
	    {"91A10000600037341L", "characters 3 to 8"},
	    {"91110000600037342P", "organisation code"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		refused(gx_check_gb32100(bad[i].code, err, sizeof(err)),
			bad[i].code, bad[i].why);
	}
	/* A central registering division (100000) is a real one. */
	cr_assert_eq(gx_check_gb32100("11100000000013338W", err, sizeof(err)),
		     GX_OK, "%s", err);
}

/* ---- ISO 7064 hybrid systems ---- */

/*
 * ISO 7064 in the form python-stdnum writes it (stdnum/iso7064/mod_37_36.py):
 * a number with its check character is valid when this checksum is 1.
 */
static int hybrid_checksum(const char *alphabet, const char *s)
{
	int m = (int)strlen(alphabet), c = m / 2;
	for (; *s; s++)
		c = (((c ? c : m) * 2) % (m + 1) +
		     (int)(strchr(alphabet, *s) - alphabet)) %
		    m;
	return c;
}

/*
 * Vectors: MOD 37,36 'A12425GABC1234002' -> 'M' from python-stdnum's
 * mod_37_36 module; MOD 11,10 (the same system over the digits) from its
 * tests/test_iso7064.doctest.
 */
Test(checks, iso7064_published_vectors)
{
	const char *s = "A12425GABC1234002";
	cr_assert_eq(gx_iso7064_hybrid_check_char(GX_ISO7064_ALNUM, s,
						  strlen(s)),
		     'M');
	cr_assert_eq(hybrid_checksum(GX_ISO7064_ALNUM, "A12425GABC1234002M"), 1);

	static const struct {
		const char *s;
		char check;
	} mod11_10[] = {
	    {"0794", '5'},	  {"00200667308", '5'}, {"00200667309", '3'},
	    {"00200667310", '8'}, {"00200667311", '6'}, {"00200667312", '4'},
	    {"1232", '3'},	  {"54679", '4'},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(mod11_10); i++)
		cr_assert_eq(gx_iso7064_hybrid_check_char("0123456789",
							  mod11_10[i].s,
							  strlen(mod11_10[i].s)),
			     mod11_10[i].check, "%s", mod11_10[i].s);

	cr_assert_eq(gx_iso7064_hybrid_check_char(GX_ISO7064_ALNUM, "A1b", 3),
		     0, "lower case is outside the alphabet");
	cr_assert_eq(gx_iso7064_hybrid_check_char(GX_ISO7064_ALNUM, "A.1", 3),
		     0);
}

Test(checks, iso7064_mod37_36_agrees_with_checksum_form)
{
	char s[40];
	uint32_t x = 3736;
	for (int n = 0; n < 20000; n++) {
		size_t len = 1 + n % 38;
		for (size_t i = 0; i < len; i++) {
			x = x * 1664525u + 1013904223u;
			s[i] = GX_ISO7064_ALNUM[(x >> 24) % 36];
		}
		s[len] = gx_iso7064_hybrid_check_char(GX_ISO7064_ALNUM, s, len);
		s[len + 1] = '\0';
		if (hybrid_checksum(GX_ISO7064_ALNUM, s) != 1)
			cr_assert_fail("%s: checksum %d", s,
				       hybrid_checksum(GX_ISO7064_ALNUM, s));
	}
}

/* ---- GB/T 36904-2018 e-licence identifiers ---- */

/*
 * Published identifiers. Their check characters come out right only when
 * the MOD 37,36 check covers type, issuer, serial and version without the
 * root 1.2.156.3005.2 and without the dots (with the root and dots removed
 * the first gives U; with the root's digits included it would give 7):
 *   ...W011.11430000006122244L.20230000403.001.U  the format example of
 *       the construction safety-production certificate interface (its
 *       type code is MOHURD's 11100000000013338W and 011), as quoted in a
 *       published client of that interface;
 *   ...W009.11330105002500287C.2025052201.002.0  an OFD file name on
 *       Zhejiang's investment project platform (tzxm.zjzwfw.gov.cn).
 * Both issuer codes also pass GB 32100.
 */
static const char *published_licences[] = {
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403."
    "001.U",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201."
    "002.0",
};

Test(checks, licence_id_published_accepted)
{
	for (size_t i = 0; i < GX_ARRAY_SIZE(published_licences); i++) {
		cr_assert_eq(gx_check_licence_id(published_licences[i], err,
						 sizeof(err)),
			     GX_OK, "%s: %s", published_licences[i], err);
		cr_assert_eq(gx_check_text_rule("licence_id",
						published_licences[i], err,
						sizeof(err)),
			     GX_OK);
	}
	const char *body = "11100000000013338W01111430000006122244L"
			   "20230000403001";
	cr_assert_eq(gx_iso7064_hybrid_check_char(GX_ISO7064_ALNUM, body,
						  strlen(body)),
		     'U');
	/* The same characters with the root's digits in front: not U. */
	const char *with_root = "12156300521110000000001333"
				"8W01111430000006122244L20230000403001";
	cr_assert_neq(gx_iso7064_hybrid_check_char(GX_ISO7064_ALNUM, with_root,
						   strlen(with_root)),
		      'U');
}

Test(checks, licence_id_every_wrong_check_char_refused)
{
	for (size_t v = 0; v < GX_ARRAY_SIZE(published_licences); v++) {
		char id[128];
		size_t n = strlen(published_licences[v]);
		int accepted = 0;
		memcpy(id, published_licences[v], n + 1);
		for (size_t c = 0; c < 36; c++) {
			id[n - 1] = GX_ISO7064_ALNUM[c];
			if (gx_check_licence_id(id, err, sizeof(err)) == GX_OK)
				accepted++;
			else
				cr_assert_str_eq(err,
						 "licence ID: check character "
						 "does not match (ISO 7064 MOD "
						 "37,36)");
		}
		cr_assert_eq(accepted, 1, "%s", published_licences[v]);
	}
}

Test(checks, licence_id_structure)
{
	static const struct {
		const char *id, *why;
	} bad[] = {
	    {"1.2.156.3005.1.11100000000013338W011.11430000006122244L."
	     "20230000403.001.U",
	     "root 1.2.156.3005.2"},
	    {"11100000000013338W011.11430000006122244L.20230000403.001.U",
	     "root"},
	    {"1.2.156.3005.2.11100000000013338W011.11430000006122244L."
	     "20230000403.001",
	     "5 parts"},
	    {"1.2.156.3005.2.11100000000013338W011.11430000006122244L."
	     "20230000403.001.U.1",
	     "5 parts"},
	    {"1.2.156.3005.2.11100000000013338W01.11430000006122244L."
	     "20230000403.001.U",
	     "type code"},
	    {"1.2.156.3005.2.11100000000013338X011.11430000006122244L."
	     "20230000403.001.U",
	     "type code"},
	    {"1.2.156.3005.2.11100000000013338W011.11430000006122244M."
	     "20230000403.001.U",
	     "issuer code: unified social credit code: check character"},
	    /* Real test data from a Hefei system: the check character is
	     * right but the issuer is a division code, not a USCC. */
	    {"1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9",
	     "issuer code"},
	    {"1.2.156.3005.2.11100000000013338W011.11430000006122244L."
	     "2023000040a.001.U",
	     "serial number"},
	    {"1.2.156.3005.2.11100000000013338W011.11430000006122244L.."
	     "001.U",
	     "serial number"},
	    {"1.2.156.3005.2.11100000000013338W011.11430000006122244L."
	     "20230000403.01.U",
	     "version"},
	    {"1.2.156.3005.2.11100000000013338W011.11430000006122244L."
	     "20230000403.001.u",
	     "check must be one digit or capital letter"},
	    {"1.2.156.3005.2.11100000000013338W011.11430000006122244L."
	     "20230000403.001.UU",
	     "check must be one"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		refused(gx_check_licence_id(bad[i].id, err, sizeof(err)),
			bad[i].id, bad[i].why);
	}
	const char *hefei_body = "11100000MB03271699022340100000000016001";
	cr_assert_eq(gx_iso7064_hybrid_check_char(GX_ISO7064_ALNUM, hefei_body,
						  strlen(hefei_body)),
		     '9', "its check character does follow the rule");
}

Test(checks, licence_type_code)
{
	cr_assert_eq(gx_check_licence_type("11100000000013338W011", err,
					   sizeof(err)),
		     GX_OK, "%s", err);
	static const char *bad[] = {"11100000000013338W01", "11100000000013338W0A1",
				    "11100000000013338X011", "",
				    "11100000000013338W0111"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++)
		refused(gx_check_licence_type(bad[i], err, sizeof(err)), bad[i],
			"licence type code must be 21 characters");
}

/* ---- statistical periods ---- */

Test(checks, period)
{
	static const char *ok[] = {"2024",   "1949",   "2024H1", "2024H2",
				   "2024Q1", "2024Q4", "2024M01", "2024M12",
				   "1900",   "2100"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(ok); i++)
		cr_assert_eq(gx_check_period(ok[i], err, sizeof(err)), GX_OK,
			     "%s: %s", ok[i], err);
	static const struct {
		const char *p, *why;
	} bad[] = {
	    {"24", "YYYY, YYYYHn"},	  {"2024Q", "YYYY, YYYYHn"},
	    {"2024q1", "YYYY, YYYYHn"},	  {"2024M3", "YYYY, YYYYHn"},
	    {"2024-03", "YYYY, YYYYHn"},  {"2024M003", "YYYY, YYYYHn"},
	    {"2024 ", "YYYY, YYYYHn"},	  {"", "YYYY, YYYYHn"},
	    {"2024Q0", "quarter"},	  {"2024Q5", "quarter"},
	    {"2024H3", "half-year"},	  {"2024H0", "half-year"},
	    {"2024M00", "month"},	  {"2024M13", "month"},
	    {"1899", "year outside"},	  {"2101Q1", "year outside"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		refused(gx_check_period(bad[i].p, err, sizeof(err)), bad[i].p,
			bad[i].why);
	}
}

/* ---- coordinates and WKT ---- */

Test(checks, lonlat_ranges)
{
	cr_assert_eq(gx_check_lonlat(112.549, 37.857, err, sizeof(err)), GX_OK,
		     "Taiyuan");
	cr_assert_eq(gx_check_lonlat(-180, -90, err, sizeof(err)), GX_OK);
	cr_assert_eq(gx_check_lonlat(180, 90, err, sizeof(err)), GX_OK);
	cr_assert_eq(gx_check_lonlat(180.0001, 0, err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_str_eq(err, "longitude outside -180..180");
	cr_assert_eq(gx_check_lonlat(0, -90.5, err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_str_eq(err, "latitude outside -90..90");
	cr_assert_eq(gx_check_lonlat(0.0 / 0.0, 0, err, sizeof(err)),
		     GX_ERR_INVALID, "NaN");
}

Test(checks, wkt_accepted)
{
	static const char *ok[] = {
	    "POINT (112.549 37.857)",
	    "POINT(112.549 37.857)",
	    "point ( -180 -90 )",
	    "POINT (1.5e2 3.7E+1)",
	    "LINESTRING (112.5 37.8, 112.6 37.9, 112.7 37.85)",
	    "POLYGON ((112 37, 113 37, 113 38, 112 38, 112 37))",
	    "POLYGON ((112 37, 113 37, 113 38, 112 38, 112 37), "
	    "(112.2 37.2, 112.4 37.2, 112.4 37.4, 112.2 37.2))",
	    "MULTIPOINT ((112 37), (113 38))",
	    "MULTIPOINT (112 37, 113 38)",
	    "MULTILINESTRING ((112 37, 113 38), (114 39, 115 40, 116 41))",
	    "MULTIPOLYGON (((112 37, 113 37, 113 38, 112 37)), "
	    "((114 37, 115 37, 115 38, 114 37)))",
	    "  POINT\t(112\n37)  ",
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(ok); i++)
		cr_assert_eq(gx_check_wkt(ok[i], err, sizeof(err)), GX_OK,
			     "%s: %s", ok[i], err);
	cr_assert_eq(gx_check_text_rule("wkt", ok[0], err, sizeof(err)), GX_OK);
}

Test(checks, wkt_refused)
{
	static const struct {
		const char *wkt, *why;
	} bad[] = {
	    {"", "expected POINT"},
	    {"CIRCLE (112 37, 1)", "expected POINT"},
	    {"GEOMETRYCOLLECTION (POINT (1 2))", "expected POINT"},
	    {"POINT EMPTY", "EMPTY, Z and M"},
	    {"POINT Z (112 37 800)", "EMPTY, Z and M"},
	    {"POINT (112 37 800)", "only 2D"},
	    {"POINT (112)", "expected a space"},
	    {"POINT (112,37)", "expected a space"},
	    {"POINT 112 37", "expected '('"},
	    {"POINT (112 37", "expected ')'"},
	    {"POINT ((112 37))", "expected a number"},
	    {"POINT (112 37))", "unexpected text after"},
	    {"POINT (112 37) POINT (1 2)", "unexpected text after"},
	    {"POINT (abc 37)", "expected a number"},
	    {"POINT (.5 37)", "expected a number"},
	    {"POINT (5. 37)", "expected a number"},
	    {"POINT (+5 37)", "expected a number"},
	    {"POINT (190 37)", "longitude outside"},
	    {"POINT (112 -91)", "latitude outside"},
	    {"POINT (-180.5 0)", "longitude outside"},
	    {"LINESTRING (112 37)", "at least 2 points"},
	    {"LINESTRING (112 37, 113 38", "expected ')'"},
	    {"LINESTRING (112 37,, 113 38)", "expected a number"},
	    {"POLYGON ((112 37, 113 37, 112 37))", "at least 4 points"},
	    {"POLYGON ((112 37, 113 37, 113 38, 112 38))", "end where it starts"},
	    {"POLYGON (112 37, 113 37, 113 38, 112 37)", "expected '('"},
	    {"MULTIPOLYGON ((112 37, 113 37, 113 38, 112 37))", "expected '('"},
	    {"MULTIPOINT ((112 37), (113 38)", "expected ')'"},
	    {"MULTILINESTRING ((112 37, 113 38), (114 39))", "at least 2"},
	    {"POLYGON ((112 37, 113 37, 113 38, 112 37)) trailing",
	     "unexpected text"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		refused(gx_check_wkt(bad[i].wkt, err, sizeof(err)), bad[i].wkt,
			bad[i].why);
		cr_assert_eq(strncmp(err, "WKT: ", 5), 0, "%s", err);
	}
	/* The offset says where, so the value need not be repeated. */
	cr_assert_eq(gx_check_wkt("POINT (112 37", err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_str_eq(err, "WKT: expected ')' at offset 13");
	cr_assert_eq(gx_check_wkt("POINT (190 37)", err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_str_eq(err, "WKT: longitude outside -180..180 at offset 7");
}

/* ---- JSON objects ---- */

Test(checks, json_object)
{
	static const char *ok[] = {"{}", "{\"lanes\":4}",
				   "{\"名称\":\"汾河\",\"级别\":[1,2],\"x\":null}"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(ok); i++)
		cr_assert_eq(gx_check_json_object(ok[i], err, sizeof(err)), GX_OK,
			     "%s: %s", ok[i], err);
	static const struct {
		const char *s, *why;
	} bad[] = {
	    {"[1,2]", "not a JSON object"},
	    {"\"secret-value\"", "not a JSON object"},
	    {"{\"secret-key\": }", "invalid JSON at line 1"},
	    {"{\"a\":1,\"a\":2}", "invalid JSON"},
	    {"{\"a\":1} {\"b\":2}", "invalid JSON"},
	    {"", "invalid JSON"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		refused(gx_check_json_object(bad[i].s, err, sizeof(err)),
			bad[i].s, bad[i].why);
		cr_assert_null(strstr(err, "secret"), "%s", err);
	}
}

/* ---- the rule table ---- */

Test(checks, alternatives_accept_either)
{
	const char *rule = "gb32100|gb11643";
	cr_assert_eq(gx_check_text_rule(rule, "91110000600037341L", err,
					sizeof(err)),
		     GX_OK, "%s", err);
	cr_assert_eq(gx_check_text_rule(rule, "11010519491231002X", err,
					sizeof(err)),
		     GX_OK, "%s", err);
	refused(gx_check_text_rule(rule, "11010519491231002Y", err,
				   sizeof(err)),
		"11010519491231002Y", "fits none of gb32100|gb11643:");
	cr_assert_str_eq(err,
			 "fits none of gb32100|gb11643: gb32100 (unified social "
			 "credit code: check character does not match (GB "
			 "32100)); gb11643 (citizen ID: check character does not "
			 "match (GB 11643 MOD 11-2))");
	refused(gx_check_text_rule(rule, "9111000060003734", err, sizeof(err)),
		"9111000060003734", "18 characters, got 16");
	cr_assert_eq(gx_check_text_rule("gb32100|soundex", "x", err,
					sizeof(err)),
		     GX_ERR_CONFIG);
}

Test(checks, token_rule)
{
	cr_assert_eq(gx_check_text_rule("token:1:8", "A01-b_.9", err,
					sizeof(err)),
		     GX_OK, "%s", err);
	static const char *bad[] = {"", "A01-b_.9x", "a b", "地区", "a/b"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		cr_assert_eq(gx_check_text_rule("token:1:8", bad[i], err,
						sizeof(err)),
			     GX_ERR_INVALID, "'%s'", bad[i]);
		cr_assert_str_eq(err, "must be 1 to 8 letters, digits, '.', "
				      "'-' or '_'");
	}
}

Test(checks, number_rules)
{
	cr_assert_eq(gx_check_number_rule("range:0:99", 0, err, sizeof(err)),
		     GX_OK);
	cr_assert_eq(gx_check_number_rule("range:0:99", 99, err, sizeof(err)),
		     GX_OK);
	cr_assert_eq(gx_check_number_rule("range:0:99", 100, err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_str_eq(err, "outside 0..99");
	cr_assert_eq(gx_check_number_rule("range:-5:5", -6, err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_str_eq(err, "outside -5..5");
	cr_assert_eq(gx_check_number_rule("nonnegative", 0, err, sizeof(err)),
		     GX_OK);
	cr_assert_eq(gx_check_number_rule("nonnegative", -1, err, sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_str_eq(err, "must not be negative");
	cr_assert_eq(gx_check_number_rule(NULL, -1, err, sizeof(err)), GX_OK);
	cr_assert_eq(gx_check_number_rule("digits:2", 1, err, sizeof(err)),
		     GX_ERR_CONFIG);
}

Test(checks, rule_kinds_for_schema_loading)
{
	static const struct {
		const char *rule;
		unsigned kinds;
	} v[] = {
	    {"gb11643", GX_RULE_TEXT},
	    {"gb32100", GX_RULE_TEXT},
	    {"division", GX_RULE_TEXT},
	    {"licence_id", GX_RULE_TEXT},
	    {"licence_type", GX_RULE_TEXT},
	    {"period", GX_RULE_TEXT},
	    {"wkt", GX_RULE_TEXT},
	    {"json", GX_RULE_TEXT},
	    {"digits:2", GX_RULE_TEXT},
	    {"code:111,001", GX_RULE_TEXT},
	    {"text:1:64", GX_RULE_TEXT},
	    {"text:2:0", GX_RULE_TEXT},
	    {"token:1:32", GX_RULE_TEXT},
	    {"gb32100|gb11643", GX_RULE_TEXT},
	    {"past", GX_RULE_DATE},
	    {"range:0:99", GX_RULE_INT},
	    {"nonnegative", GX_RULE_INT | GX_RULE_DECIMAL},
	    /* unknown or malformed */
	    {"soundex", 0},
	    {"", 0},
	    {NULL, 0},
	    {"digits:", 0},
	    {"digits:x", 0},
	    {"digits:0", 0},
	    {"code:", 0},
	    {"text:5:2", 0},
	    {"text:1", 0},
	    {"token:0:8", 0},
	    {"token:1:0", 0},
	    {"range:9:1", 0},
	    {"range:a:1", 0},
	    {"gb32100|", 0},
	    {"|gb32100", 0},
	    {"gb32100||gb11643", 0},
	    {"gb32100|past", 0},
	    {"gb32100|range:0:1", 0},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(v); i++)
		cr_assert_eq(gx_rule_applies(v[i].rule), v[i].kinds, "'%s'",
			     v[i].rule ? v[i].rule : "(null)");
}

/* Every newer text rule, given a bad value, keeps the value out of its
 * message: values may be personal data and messages reach logs. */
Test(checks, refusals_never_repeat_the_value)
{
	static const struct {
		const char *rule, *value;
	} bad[] = {
	    {"gb32100", "91110000600037341N"},
	    {"gb32100", "911100006000373411L"},
	    {"gb32100|gb11643", "140105199003070118"},
	    {"licence_id", "1.2.156.3005.2.11100000000013338W011."
			   "11430000006122244L.20230000403.001.V"},
	    {"licence_type", "11100000000013338W0A1"},
	    {"period", "2024Q7"},
	    {"wkt", "POINT (1234.5678 37)"},
	    {"wkt", "POLYGON ((112.5 37, 113 37, 113 38, 112.5 38))"},
	    {"json", "{\"name\": \"张三\", }"},
	    {"token:1:32", "张三-secret"},
	};
	for (size_t i = 0; i < GX_ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		cr_assert_eq(gx_check_text_rule(bad[i].rule, bad[i].value, err,
						sizeof(err)),
			     GX_ERR_INVALID, "%s '%s'", bad[i].rule,
			     bad[i].value);
		cr_assert_null(strstr(err, bad[i].value), "%s: %s", bad[i].rule,
			       err);
	}
	/* No fragment either: the numbers and names above stay out. */
	cr_assert_eq(gx_check_text_rule("wkt", "POINT (1234.5678 37)", err,
					sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_null(strstr(err, "1234"), "%s", err);
	cr_assert_eq(gx_check_text_rule("json", "{\"name\": \"张三\", }", err,
					sizeof(err)),
		     GX_ERR_INVALID);
	cr_assert_null(strstr(err, "张三"), "%s", err);
}
