/*
 * gx_catalog_csv.c - the catalogue's spreadsheet form: rows of information
 * items grouped into catalogue items (see gx_catalog_csv.h).
 *
 * The file is read with the streaming CSV reader; each item's rows are
 * kept until the item ends, then turned into the JSON gx_cat_item_from_json
 * reads, every refusal naming the line at fault.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_catalog.h"
#include "gx_catalog_csv.h"
#include "gx_csv.h"
#include "gx_kafka.h"
#include "gx_map.h"
#include "gx_validate.h"

/* ---- columns ---- */

enum col {
	/* item level */
	C_ITEM, C_NAME, C_CLASS, C_CLASS1, C_CLASS2, C_CLASS3, C_CLASS4,
	C_PROVIDER_NAME, C_PROVIDER, C_LIBRARY, C_ABSTRACT, C_FORMAT,
	C_SHARE_METHOD, C_UPDATE_PERIOD, C_RELEASE_DATE, C_RELATED,
	/* field level */
	C_FIELD, C_DATA_TYPE, C_LENGTH, C_SHARE, C_LEGAL_BASIS, C_REASON,
	C_OPEN, C_OPEN_CONDITION,
	NCOL,
	C_IGNORE = NCOL
};

#define FIRST_FIELD_COL C_FIELD

static const struct {
	enum col col;
	const char *names;	/* '|' between the names it goes by */
	const char *label;	/* in messages */
} columns[] = {
    {C_ITEM, "信息资源代码|资源代码|目录代码|item|item_id|resource_code", "信息资源代码"},
    {C_NAME, "信息资源名称|资源名称|目录名称|name", "信息资源名称"},
    {C_CLASS, "信息资源分类|资源分类|classification", "信息资源分类"},
    {C_CLASS1, "类|class", "类"},
    {C_CLASS2, "项|subclass", "项"},
    {C_CLASS3, "目|group", "目"},
    {C_CLASS4, "细目|subgroup", "细目"},
    {C_PROVIDER_NAME, "信息资源提供方|提供方|提供单位|provider_name", "信息资源提供方"},
    {C_PROVIDER, "提供方代码|信息资源提供方代码|提供单位代码|provider", "提供方代码"},
    {C_LIBRARY, "所属基础库|基础库|所属库|library", "所属基础库"},
    {C_ABSTRACT, "摘要|信息资源摘要|abstract", "摘要"},
    {C_FORMAT, "格式|信息资源格式|format", "格式"},
    {C_SHARE_METHOD, "共享方式|share_method", "共享方式"},
    {C_UPDATE_PERIOD, "更新周期|update_period", "更新周期"},
    {C_RELEASE_DATE, "发布日期|release_date", "发布日期"},
    {C_RELATED, "关联资源代码|related", "关联资源代码"},
    {C_FIELD, "信息项名称|信息项|字段名称|field", "信息项名称"},
    {C_DATA_TYPE, "数据类型|data_type", "数据类型"},
    {C_LENGTH, "数据长度|长度|length", "数据长度"},
    {C_SHARE, "共享类型|共享属性|share", "共享类型"},
    {C_LEGAL_BASIS, "共享条件|legal_basis", "共享条件"},
    {C_REASON, "不予共享理由|不予共享依据|refusal_reason", "不予共享理由"},
    {C_OPEN, "是否向社会开放|开放属性|是否开放|open", "是否向社会开放"},
    {C_OPEN_CONDITION, "开放条件|open_condition", "开放条件"},
    {C_IGNORE, "序号|备注|no|note|remarks", NULL},
};

static const char *label(enum col c)
{
	for (size_t i = 0; i < GX_ARRAY_SIZE(columns); i++)
		if (columns[i].col == c)
			return columns[i].label;
	return "?";
}

/* ---- text helpers ---- */

/* Length of a space at s (ASCII white space or U+3000), or 0. */
static size_t space_at(const char *s)
{
	if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		return 1;
	if (!strncmp(s, "\xE3\x80\x80", 3))
		return 3;
	return 0;
}

/* A copy of s without spaces at either end. */
static char *trim(const char *s)
{
	size_t n;
	while ((n = space_at(s)))
		s += n;
	size_t len = strlen(s);
	for (;;) {
		if (len && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
			    s[len - 1] == '\r' || s[len - 1] == '\n'))
			len--;
		else if (len >= 3 && !strncmp(s + len - 3, "\xE3\x80\x80", 3))
			len -= 3;
		else
			break;
	}
	return gx_strndup(s, len);
}

/* Does s end with suffix? */
static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* Is name one of the '|'-separated names? (ASCII letters without case) */
static int one_of(const char *names, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = names; *p;) {
		const char *e = strchr(p, '|');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && !strncasecmp(p, name, n))
			return 1;
		p += l + (e ? 1 : 0);
	}
	return 0;
}

/* A header as staff write it, reduced to its name: spaces, a required
 * mark and a parenthesised remark dropped; spaces inside English names
 * become '_'. */
static char *header_name(const char *cell)
{
	char *h = trim(cell);
	for (int again = 1; again;) {
		again = 0;
		size_t len = strlen(h);
		if (len && (h[len - 1] == '*')) {
			h[len - 1] = '\0';
			again = 1;
		} else if (ends_with(h, "＊")) {
			h[len - strlen("＊")] = '\0';
			again = 1;
		} else if (len && h[len - 1] == ')' && strrchr(h, '(')) {
			*strrchr(h, '(') = '\0';
			again = 1;
		} else if (ends_with(h, "）") && strstr(h, "（")) {
			char *p = h, *last = NULL;
			while ((p = strstr(p, "（")))
				last = p++;
			*last = '\0';
			again = 1;
		}
		if (again) {
			char *t = trim(h);
			free(h);
			h = t;
		}
	}
	for (char *p = h; *p; p++)
		if (*p == ' ' || *p == '-')
			*p = '_';
	return h;
}

/* ---- code lists ---- */

const char *gx_update_period_name(const char *s)
{
	static const struct {
		const char *name, *also;
	} t[] = {{"realtime", "real_time|real-time|实时"},
		 {"daily", "每日|每天|日"},
		 {"weekly", "每周|周"},
		 {"monthly", "每月|月"},
		 {"quarterly", "每季度|每季|季度"},
		 {"half-yearly", "half_yearly|semiannual|semi-annual|每半年|半年"},
		 {"yearly", "annual|annually|每年|年|年度"}};
	for (size_t i = 0; i < GX_ARRAY_SIZE(t); i++)
		if (!strcasecmp(t[i].name, s) || one_of(t[i].also, s))
			return t[i].name;
	return NULL;
}

/* The library a staff name denotes: the schema name, or a Chinese name
 * ("人口库", "法人单位基础信息库", "社会信用基础信息库", ...). */
static const gx_library_t *library_named(const gx_schemas_t *schemas,
					 const char *s)
{
	const gx_library_t *lib = gx_schemas_library(schemas, s);
	if (lib)
		return lib;
	static const struct {
		const char *lib, *stems;
	} t[] = {{"population", "人口|国家人口"},
		 {"legal_entity", "法人|法人单位"},
		 {"public_credit", "信用|公共信用|社会信用"},
		 {"macroeconomy", "宏观经济"},
		 {"geospatial", "空间地理|自然资源和空间地理|地理空间"},
		 {"e_licence", "电子证照|证照"}};
	static const char *const suffixes[] = {
	    "基础信息资源库", "基础信息资源", "基础信息库", "基础数据库",
	    "基础库", "信息资源库", "信息库", "数据库", "库"};
	char *stem = gx_strdup(s);
	for (size_t i = 0; i < GX_ARRAY_SIZE(suffixes); i++)
		if (ends_with(stem, suffixes[i]) && strlen(stem) > strlen(suffixes[i])) {
			stem[strlen(stem) - strlen(suffixes[i])] = '\0';
			break;
		}
	for (size_t i = 0; i < GX_ARRAY_SIZE(t); i++)
		if (one_of(t[i].stems, stem))
			lib = gx_schemas_library(schemas, t[i].lib);
	free(stem);
	return lib;
}

/* Does the field's Chinese name (the parenthesis closing its doc,
 * "(户籍地行政区划代码)", up to a '，'; '/' between alternatives) match s? */
static int chinese_name_is(const char *doc, const char *s)
{
	size_t len = doc ? strlen(doc) : 0;
	if (!len || doc[len - 1] != ')')
		return 0;
	const char *open = NULL;
	for (const char *p = doc; p < doc + len - 1; p++)
		if (*p == '(')
			open = p;
	if (!open)
		return 0;
	char *in = gx_strndup(open + 1, (size_t)(doc + len - 1 - open - 1));
	char *comma = strstr(in, "，");
	int ok = !strcmp(in, s);
	if (comma)
		*comma = '\0';
	ok = ok || !strcmp(in, s);
	for (char *p = in, *e; !ok && *p; p = e + 1) {
		e = strchr(p, '/');
		if (!e) {
			ok = !strcmp(p, s);
			break;
		}
		ok = (size_t)(e - p) == strlen(s) && !strncmp(p, s, (size_t)(e - p));
	}
	free(in);
	return ok;
}

/* A library field named by its schema name or Chinese name. */
static const gx_field_t *field_named(const gx_library_t *lib, json_t *docs,
				     const char *s)
{
	const gx_field_t *f = gx_library_field(lib, s);
	if (f)
		return f;
	size_t i;
	json_t *jf;
	json_array_foreach(json_object_get(docs, "fields"), i, jf) {
		const char *doc = json_string_value(json_object_get(jf, "doc"));
		const char *name = json_string_value(json_object_get(jf, "name"));
		if (name && chinese_name_is(doc, s))
			return gx_library_field(lib, name);
	}
	return NULL;
}

/* The guide's data type letter for s (a letter or its Chinese name). */
static const char *data_type_code(const char *s)
{
	static const char *const t[][2] = {
	    {"C", "字符型"},	 {"N", "数值型"},    {"Y", "货币型"},
	    {"D", "日期型"},	 {"T", "日期时间型"}, {"L", "逻辑型"},
	    {"M", "备注型"},	 {"G", "通用型"},    {"B", "双精度型"},
	    {"I", "整型"},	 {"F", "浮点型"},    {"W", "二进制型"}};
	for (size_t i = 0; i < GX_ARRAY_SIZE(t); i++)
		if (!strcasecmp(s, t[i][0]) || !strcmp(s, t[i][1]))
			return t[i][0];
	return NULL;
}

/* The open rule for 是否向社会开放. */
static const char *open_rule(const char *s)
{
	if (one_of("open|是|开放|无条件开放", s))
		return "open";
	if (one_of("masked|脱敏|脱敏开放|是（脱敏）|有条件开放", s))
		return "masked";
	if (one_of("closed|否|不开放|不予开放", s))
		return "closed";
	return NULL;
}

/* Read up to max digits at *p into *v; the count read. */
static int read_digits(const char **p, int max, int *v)
{
	int n = 0;
	*v = 0;
	while (n < max && isdigit((unsigned char)**p)) {
		*v = *v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n;
}

/* YYYY-MM-DD, YYYY/M/D or YYYY年M月D日 into out (YYYY-MM-DD). */
static int release_date(const char *s, char out[11])
{
	int y, m, d;
	const char *p = s;
	if (read_digits(&p, 4, &y) != 4)
		return -1;
	const char *sep = *p == '-' ? "-" : *p == '/' ? "/" : "年";
	if (strncmp(p, sep, strlen(sep)))
		return -1;
	p += strlen(sep);
	if (read_digits(&p, 2, &m) < 1)
		return -1;
	const char *sep2 = !strcmp(sep, "年") ? "月" : sep;
	if (strncmp(p, sep2, strlen(sep2)))
		return -1;
	p += strlen(sep2);
	if (read_digits(&p, 2, &d) < 1)
		return -1;
	if (!strcmp(sep, "年") && !strncmp(p, "日", strlen("日")))
		p += strlen("日");
	if (*p)
		return -1;
	if (m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u,
		 (unsigned)m % 100u, (unsigned)d % 100u);
	int32_t days;
	return gx_parse_date(out, &days) ? -1 : 0;
}

gx_err_t gx_check_resource_code(const char *code, char *errstr,
				size_t errstr_size)
{
	const char *p = code;
	int ok = strlen(code) >= 6;
	for (int i = 0; ok && i < 6; i++)
		ok = isdigit((unsigned char)p[i]);
	char div[7] = "";
	if (ok) {
		memcpy(div, p, 6);
		char why[128];
		ok = !gx_check_division(div, why, sizeof(why)) && p[6] == '-';
		p += 7;
	}
	for (int part = 0; ok && part < 2; part++) {
		int n = 0;
		while (*p >= 'A' && *p <= 'Z') {
			p++;
			n++;
		}
		ok = n >= 2 && n <= 10 && *p == '-';
		p++;
	}
	if (ok) {
		int n = 0;
		while (isdigit((unsigned char)*p)) {
			p++;
			n++;
		}
		ok = n >= 4 && n <= 6 && !*p;
	}
	if (!ok)
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "信息资源代码 '%s' is malformed: want DIVISION-"
				 "DEPARTMENT-RESOURCE-SEQUENCE, e.g. 140000-GA-RK-0001 "
				 "(a GB/T 2260 division code, 2 to 10 capital letters "
				 "twice, 4 to 6 digits)",
				 code);
	return GX_OK;
}

/* ---- reading ---- */

/* One information item row of the current catalogue item. */
struct frow {
	long line;
	char *v[NCOL];		/* only the field-level columns are set */
};

struct reader {
	const char *name;
	const gx_schemas_t *schemas;
	char *errstr;
	size_t errstr_size;
	int col_of[256];	/* CSV column -> enum col, or -1 */
	size_t ncols;
	int have[NCOL + 1];
	json_t *out;		/* finished items */
	gx_map_t *seen;		/* item id -> its first line */
	/* the item being read */
	char *code;
	long first_line;
	char *iv[FIRST_FIELD_COL];	/* item-level values */
	long iv_line[FIRST_FIELD_COL];
	struct frow *rows;
	size_t nrows, caprows;
};

static gx_err_t fail(struct reader *r, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static gx_err_t fail(struct reader *r, long line, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return gx_seterr(r->errstr, r->errstr_size, GX_ERR_INVALID, "%s:%ld: %s",
			 r->name, line, msg);
}

static void item_reset(struct reader *r)
{
	free(r->code);
	r->code = NULL;
	for (size_t i = 0; i < FIRST_FIELD_COL; i++) {
		free(r->iv[i]);
		r->iv[i] = NULL;
		r->iv_line[i] = 0;
	}
	for (size_t i = 0; i < r->nrows; i++)
		for (size_t c = 0; c < NCOL; c++)
			free(r->rows[i].v[c]);
	r->nrows = 0;
}

/* The classification, from 信息资源分类 or 类/项/目/细目: 类 1 基础,
 * 2 主题, 3 部门; 项 two digits; 目 two or three (the guide: three);
 * 细目 up to four, optional. Into out as "1-01-001-01". */
static gx_err_t classification(struct reader *r, char *out, size_t n)
{
	char *part[4] = {NULL, NULL, NULL, NULL};
	long line = r->iv_line[C_CLASS] ? r->iv_line[C_CLASS] : r->first_line;
	gx_err_t err = GX_OK;
	char *whole = NULL;
	if (r->iv[C_CLASS]) {
		whole = gx_strdup(r->iv[C_CLASS]);
		/* "1-01-001-01", "1.01.001.01" or "1 01 001 01" */
		char *save = NULL;
		int k = 0;
		for (char *t = strtok_r(whole, "-. ", &save); t;
		     t = strtok_r(NULL, "-. ", &save)) {
			if (k == 4) {
				k = 5;
				break;
			}
			part[k++] = t;
		}
		if (k < 3 || k > 4) {
			err = fail(r, line, "信息资源分类 '%s': want 类-项-目 or "
				   "类-项-目-细目, e.g. 1-01-001-01",
				   r->iv[C_CLASS]);
			goto out;
		}
	} else {
		for (int k = 0; k < 4; k++)
			part[k] = r->iv[C_CLASS1 + k];
		if (!part[0]) {
			*out = '\0';
			goto out; /* none given */
		}
		if (r->iv_line[C_CLASS1])
			line = r->iv_line[C_CLASS1];
		if (!part[1] || !part[2]) {
			err = fail(r, line, "信息资源分类: 类 needs 项 and 目");
			goto out;
		}
	}
	/* 类 may be written as its name. */
	static const char *const cls[] = {"1|基础|基础信息资源|基础类",
					  "2|主题|主题信息资源|主题类",
					  "3|部门|部门信息资源|部门类"};
	int c = 0;
	for (int i = 0; i < 3; i++)
		if (one_of(cls[i], part[0]))
			c = i + 1;
	static const int minw[] = {0, 2, 2, 1}, maxw[] = {0, 2, 3, 4};
	int ok = c != 0;
	for (int k = 1; ok && k < 4; k++) {
		if (!part[k])
			continue;
		size_t l = strlen(part[k]);
		ok = l >= (size_t)minw[k] && l <= (size_t)maxw[k];
		for (size_t i = 0; ok && i < l; i++)
			ok = isdigit((unsigned char)part[k][i]);
	}
	if (!ok) {
		err = fail(r, line, "信息资源分类: 类 must be 1 (基础), 2 (主题) or "
			   "3 (部门), 项 2 digits, 目 2 or 3 digits, 细目 up to 4 "
			   "digits");
		goto out;
	}
	snprintf(out, n, "%d-%s-%s%s%s", c, part[1], part[2], part[3] ? "-" : "",
		 part[3] ? part[3] : "");
out:
	free(whole);
	return err;
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v && *v)
		json_object_set_new(o, key, json_string(v));
}

/* Turn the current item's rows into its JSON and check it. */
static gx_err_t item_end(struct reader *r)
{
	if (!r->code)
		return GX_OK;
	gx_err_t err = GX_OK;
	json_t *j = json_object();
	json_t *fields = json_array();
	json_t *docs = NULL;
	unsigned char *listed = NULL;
	long fl = r->first_line;
#define ILINE(c) (r->iv_line[c] ? r->iv_line[c] : fl)

	/* The item id is checked where it was first seen; now the rest. */
	static const enum col required[] = {C_NAME, C_PROVIDER, C_LIBRARY};
	for (size_t i = 0; i < GX_ARRAY_SIZE(required); i++)
		if (!r->iv[required[i]]) {
			err = fail(r, fl, "item %s: %s is required", r->code,
				   label(required[i]));
			goto out;
		}
	char why[512];
	if (gx_check_code("提供方代码", r->iv[C_PROVIDER], why, sizeof(why))) {
		err = fail(r, ILINE(C_PROVIDER), "item %s: %s", r->code, why);
		goto out;
	}
	const gx_library_t *lib = library_named(r->schemas, r->iv[C_LIBRARY]);
	if (!lib) {
		err = fail(r, ILINE(C_LIBRARY),
			   "item %s: unknown library '%s' (population, "
			   "legal_entity, public_credit, macroeconomy, "
			   "geospatial, e_licence, or 人口库, 法人库, 信用库, "
			   "宏观经济库, 空间地理库, 电子证照库)",
			   r->code, r->iv[C_LIBRARY]);
		goto out;
	}
	char cls[64];
	if ((err = classification(r, cls, sizeof(cls))))
		goto out;
	const char *period = NULL;
	if (r->iv[C_UPDATE_PERIOD] &&
	    !(period = gx_update_period_name(r->iv[C_UPDATE_PERIOD]))) {
		err = fail(r, ILINE(C_UPDATE_PERIOD),
			   "item %s: unknown 更新周期 '%s' (实时, 每日, 每周, "
			   "每月, 每季度, 每半年, 每年)",
			   r->code, r->iv[C_UPDATE_PERIOD]);
		goto out;
	}
	char date[11] = "";
	if (r->iv[C_RELEASE_DATE] && release_date(r->iv[C_RELEASE_DATE], date)) {
		err = fail(r, ILINE(C_RELEASE_DATE),
			   "item %s: 发布日期 '%s' is not a date (YYYY-MM-DD)",
			   r->code, r->iv[C_RELEASE_DATE]);
		goto out;
	}
	json_t *related = NULL;
	if (r->iv[C_RELATED]) {
		related = json_array();
		json_object_set_new(j, "related", related);
		char *copy = gx_strdup(r->iv[C_RELATED]), *save = NULL;
		/* , ; and spaces, full-width too, and 、 */
		for (char *p = copy; *p; p++)
			if (*p == ',' || *p == ';')
				*p = ' ';
		static const char *const wide[] = {"，", "；", "、", "\xE3\x80\x80"};
		for (size_t w = 0; w < GX_ARRAY_SIZE(wide); w++)
			for (char *p; (p = strstr(copy, wide[w]));)
				memset(p, ' ', strlen(wide[w]));
		for (char *t = strtok_r(copy, " \t", &save); t;
		     t = strtok_r(NULL, " \t", &save)) {
			if (gx_check_resource_code(t, why, sizeof(why))) {
				err = fail(r, ILINE(C_RELATED), "item %s: 关联资源代码: %s",
					   r->code, why);
				free(copy);
				goto out;
			}
			json_array_append_new(related, json_string(t));
		}
		free(copy);
	}

	json_object_set_new(j, "item", json_string(r->code));
	set_str(j, "name", r->iv[C_NAME]);
	json_object_set_new(j, "library", json_string(lib->name));
	set_str(j, "provider", r->iv[C_PROVIDER]);
	set_str(j, "provider_name", r->iv[C_PROVIDER_NAME]);
	set_str(j, "classification", cls);
	set_str(j, "abstract", r->iv[C_ABSTRACT]);
	set_str(j, "format", r->iv[C_FORMAT]);
	set_str(j, "update_period", period);
	set_str(j, "share_method", r->iv[C_SHARE_METHOD]);
	set_str(j, "release_date", date);
	/* Keys in the order the JSON sample has them; related last. */
	if (related) {
		json_incref(related);
		json_object_del(j, "related");
		json_object_set_new(j, "related", related);
	}

	docs = json_loads(lib->payload_json, 0, NULL);
	listed = gx_calloc(lib->nfields, sizeof(*listed));
	long *listed_at = gx_calloc(lib->nfields, sizeof(long));
	for (size_t i = 0; i < r->nrows && !err; i++) {
		struct frow *fr = &r->rows[i];
		const char *fname = fr->v[C_FIELD];
		if (!fname) {
			err = fail(r, fr->line, "item %s: 信息项名称 is required",
				   r->code);
			break;
		}
		const gx_field_t *f = field_named(lib, docs, fname);
		if (!f) {
			err = fail(r, fr->line, "item %s: library %s has no field "
				   "'%s'", r->code, lib->name, fname);
			break;
		}
		if (listed[f->index]) {
			err = fail(r, fr->line, "item %s: field %s listed twice "
				   "(first on line %ld)", r->code, f->name,
				   listed_at[f->index]);
			break;
		}
		listed[f->index] = 1;
		listed_at[f->index] = fr->line;
		gx_share_t sh;
		if (!fr->v[C_SHARE] || gx_share_parse(fr->v[C_SHARE], &sh)) {
			err = fail(r, fr->line, "item %s: field %s: 共享类型 must be "
				   "无条件共享, 有条件共享 or 不予共享 "
				   "(unconditional, conditional, none)",
				   r->code, f->name);
			break;
		}
		const char *basis = sh == GX_SHARE_NONE && fr->v[C_REASON]
					? fr->v[C_REASON]
					: fr->v[C_LEGAL_BASIS] ? fr->v[C_LEGAL_BASIS]
							       : fr->v[C_REASON];
		if (sh != GX_SHARE_UNCONDITIONAL && !basis) {
			err = fail(r, fr->line, "item %s: field %s is %s and needs "
				   "a legal basis (%s, art. 12)",
				   r->code, f->name,
				   sh == GX_SHARE_NONE ? "不予共享" : "有条件共享",
				   sh == GX_SHARE_NONE ? "不予共享理由 or 共享条件"
						       : "共享条件");
			break;
		}
		const char *dt = NULL, *open = NULL;
		if (fr->v[C_DATA_TYPE] && !(dt = data_type_code(fr->v[C_DATA_TYPE]))) {
			err = fail(r, fr->line, "item %s: field %s: unknown 数据类型 "
				   "'%s' (C 字符型, N 数值型, Y 货币型, D 日期型, "
				   "T 日期时间型, L 逻辑型, M 备注型, G 通用型, "
				   "B 双精度型, I 整型, F 浮点型, W 二进制型)",
				   r->code, f->name, fr->v[C_DATA_TYPE]);
			break;
		}
		if (fr->v[C_OPEN] && !(open = open_rule(fr->v[C_OPEN]))) {
			err = fail(r, fr->line, "item %s: field %s: 是否向社会开放 "
				   "must be 是, 否 or 脱敏 (open, closed, masked)",
				   r->code, f->name);
			break;
		}
		json_t *jf = json_object();
		json_object_set_new(jf, "name", json_string(f->name));
		if (strcmp(fname, f->name))
			json_object_set_new(jf, "title", json_string(fname));
		json_object_set_new(jf, "share", json_string(gx_share_name(sh)));
		set_str(jf, "legal_basis", basis);
		set_str(jf, "open", open);
		set_str(jf, "open_condition", fr->v[C_OPEN_CONDITION]);
		set_str(jf, "data_type", dt);
		if (fr->v[C_LENGTH]) {
			/* "18" or "18,2" (digits after the point) */
			const char *p = fr->v[C_LENGTH];
			int len = 0, dec = -1;
			int ok = read_digits(&p, 6, &len) > 0 && len > 0;
			if (ok && (*p == ',' || *p == '.' || !strncmp(p, "，", 3))) {
				p += *p == ',' || *p == '.' ? 1 : 3;
				ok = read_digits(&p, 2, &dec) > 0 && dec <= len;
			}
			if (!ok || *p) {
				json_decref(jf);
				err = fail(r, fr->line, "item %s: field %s: 数据长度 "
					   "'%s' must be a length (18) or a "
					   "length and decimals (18,2)",
					   r->code, f->name, fr->v[C_LENGTH]);
				break;
			}
			json_object_set_new(jf, "length", json_integer(len));
			if (dec >= 0)
				json_object_set_new(jf, "decimals", json_integer(dec));
		}
		json_array_append_new(fields, jf);
	}
	free(listed_at);
	if (err)
		goto out;
	json_object_set(j, "fields", fields);

	/* The catalogue's own check, as every reader of govex.catalog does. */
	gx_cat_item_t *item = NULL;
	if (gx_cat_item_from_json(j, r->schemas, &item, why, sizeof(why))) {
		err = fail(r, fl, "%s", why);
		goto out;
	}
	gx_cat_item_destroy(item);
	json_array_append(r->out, j);
out:
#undef ILINE
	free(listed);
	json_decref(docs);
	json_decref(fields);
	json_decref(j);
	item_reset(r);
	return err;
}

/* The header row: which column is which. */
static gx_err_t read_header(struct reader *r, const gx_csv_row_t *row)
{
	if (row->nfields > GX_ARRAY_SIZE(r->col_of))
		return fail(r, row->line, "more than %zu columns",
			    GX_ARRAY_SIZE(r->col_of));
	r->ncols = row->nfields;
	for (size_t i = 0; i < row->nfields; i++) {
		char *h = header_name(row->fields[i]);
		int c = -1;
		for (size_t k = 0; k < GX_ARRAY_SIZE(columns) && c < 0; k++)
			if (one_of(columns[k].names, h))
				c = (int)columns[k].col;
		if (c < 0 && *h) {
			gx_err_t e = fail(r, row->line, "unknown column '%s'", h);
			free(h);
			return e;
		}
		free(h);
		if (c >= 0 && c < NCOL && r->have[c])
			return fail(r, row->line, "column %s given twice",
				    label((enum col)c));
		if (c >= 0)
			r->have[c] = 1;
		r->col_of[i] = c < 0 ? C_IGNORE : c;
	}
	static const enum col needed[] = {C_ITEM, C_FIELD, C_SHARE};
	for (size_t i = 0; i < GX_ARRAY_SIZE(needed); i++)
		if (!r->have[needed[i]])
			return fail(r, row->line, "no %s column (the header needs "
				    "at least 信息资源代码, 信息项名称 and 共享类型; "
				    "item, field and share in English)",
				    label(needed[i]));
	if (r->have[C_CLASS] && (r->have[C_CLASS1] || r->have[C_CLASS2] ||
				 r->have[C_CLASS3] || r->have[C_CLASS4]))
		return fail(r, row->line, "信息资源分类 given both whole and as "
			    "类/项/目/细目");
	return GX_OK;
}

/* One data row. */
static gx_err_t read_row(struct reader *r, const gx_csv_row_t *row)
{
	char *v[NCOL + 1] = {NULL};
	gx_err_t err = GX_OK;
	int any = 0;
	for (size_t i = 0; i < row->nfields; i++) {
		char *t = trim(row->fields[i]);
		if (i >= r->ncols) {
			if (*t) {
				free(t);
				err = fail(r, row->line, "more cells than the "
					   "header has columns");
				goto out;
			}
			free(t);
			continue;
		}
		int c = r->col_of[i];
		if (!*t || c == C_IGNORE) {
			free(t);
			continue;
		}
		any = 1;
		v[c] = t;
	}
	if (!any)
		goto out; /* an empty row: a spreadsheet's padding */

	/* A new item, or the one above continued? */
	if (v[C_ITEM] && (!r->code || strcmp(v[C_ITEM], r->code))) {
		if ((err = item_end(r)))
			goto out;
		char why[512];
		if (gx_check_resource_code(v[C_ITEM], why, sizeof(why))) {
			err = fail(r, row->line, "%s", why);
			goto out;
		}
		void *at = gx_map_get(r->seen, v[C_ITEM]);
		if (at) {
			err = fail(r, row->line, "item %s again: it was listed "
				   "from line %ld on, and an item's rows must be "
				   "adjacent", v[C_ITEM], (long)(intptr_t)at);
			goto out;
		}
		gx_map_put(r->seen, v[C_ITEM], (void *)(intptr_t)row->line);
		r->code = gx_strdup(v[C_ITEM]);
		r->first_line = row->line;
	} else if (!r->code) {
		err = fail(r, row->line, "信息资源代码 is empty and no item is "
			   "above to continue");
		goto out;
	}
	for (int c = 0; c < FIRST_FIELD_COL; c++) {
		if (!v[c] || c == C_ITEM)
			continue;
		if (r->iv[c] && strcmp(r->iv[c], v[c])) {
			err = fail(r, row->line, "item %s: %s '%s' differs from "
				   "'%s' on line %ld (an item has one)",
				   r->code, label((enum col)c), v[c], r->iv[c],
				   r->iv_line[c]);
			goto out;
		}
		if (!r->iv[c]) {
			r->iv[c] = v[c];
			r->iv_line[c] = row->line;
			v[c] = NULL;
		}
	}
	int has_field = 0;
	for (int c = FIRST_FIELD_COL; c < NCOL; c++)
		has_field |= v[c] != NULL;
	if (has_field) {
		if (r->nrows == r->caprows) {
			r->caprows = r->caprows ? r->caprows * 2 : 32;
			r->rows = gx_realloc(r->rows, r->caprows * sizeof(*r->rows));
		}
		struct frow *fr = &r->rows[r->nrows++];
		memset(fr, 0, sizeof(*fr));
		fr->line = row->line;
		for (int c = FIRST_FIELD_COL; c < NCOL; c++) {
			fr->v[c] = v[c];
			v[c] = NULL;
		}
	}
out:
	for (int c = 0; c <= NCOL; c++)
		free(v[c]);
	return err;
}

gx_err_t gx_catalog_csv_read(FILE *fp, const char *name,
			     const gx_schemas_t *schemas, json_t **items,
			     char *errstr, size_t errstr_size)
{
	struct reader r;
	memset(&r, 0, sizeof(r));
	r.name = name;
	r.schemas = schemas;
	r.errstr = errstr;
	r.errstr_size = errstr_size;
	r.out = json_array();
	r.seen = gx_map_new();
	gx_csv_t *csv = gx_csv_new(fp, name);
	gx_csv_row_t row;
	gx_err_t err;
	int header = 0;
	long last_line = 0;
	while (!(err = gx_csv_next(csv, &row, errstr, errstr_size))) {
		last_line = row.line;
		if (!header) {
			/* A title above the header (one cell) is skipped. */
			size_t cells = 0;
			for (size_t i = 0; i < row.nfields; i++) {
				char *t = trim(row.fields[i]);
				cells += *t != '\0';
				free(t);
			}
			if (cells <= 1)
				continue;
			if ((err = read_header(&r, &row)))
				break;
			header = 1;
			continue;
		}
		if ((err = read_row(&r, &row)))
			break;
	}
	if (err == GX_ERR_EOF) {
		err = GX_OK;
		if (!header)
			err = fail(&r, last_line ? last_line : 1,
				   "no header row (信息资源代码, 信息资源名称, ...)");
		else if (!(err = item_end(&r)) && !json_array_size(r.out))
			err = fail(&r, last_line, "no catalogue items");
	}
	item_reset(&r);
	free(r.rows);
	gx_csv_destroy(csv);
	gx_map_destroy(r.seen, NULL);
	if (err) {
		json_decref(r.out);
		return err;
	}
	*items = r.out;
	return GX_OK;
}
