/*
 * gx_sample.c - deterministic synthetic rows for the six base libraries
 * (see gx_sample.h for the contract).
 *
 * Each library has a generator that writes one row's field texts by field
 * name; the common part seeds a PRNG per row, chooses the defective rows,
 * applies the defect and keeps the last valid row for duplicates. Check
 * characters are computed with gx_validate.h, never hard-coded, so a row is
 * valid by construction; the unit tests run every row through
 * gx_field_set_text to prove it.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_sample.h"
#include "gx_validate.h"

/* ---- PRNG: xoshiro256** seeded through splitmix64 ----
 * Only integer arithmetic on uint64_t, so every machine gives the same
 * sequence. */

typedef struct {
	uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng_t *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in 0..n-1 (0 when n is 0), without modulo bias. */
static uint64_t below(rng_t *r, uint64_t n)
{
	if (n < 2)
		return 0;
	uint64_t threshold = (0 - n) % n; /* 2^64 mod n */
	for (;;) {
		uint64_t x = rng_next(r);
		if (x >= threshold)
			return x % n;
	}
}

/* Uniform in lo..hi (inclusive). */
static int64_t range(rng_t *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)below(r, (uint64_t)(hi - lo) + 1);
}

/* True with probability pm per mille. */
static int chance(rng_t *r, unsigned pm)
{
	return below(r, 1000) < pm;
}

#define PICK(r, a) ((a)[below((r), GX_ARRAY_SIZE(a))])

/* An index into weights[0..n-1], each chosen in proportion to its weight. */
static size_t weighted(rng_t *r, const unsigned *weights, size_t n)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += weights[i];
	uint64_t x = below(r, total);
	for (size_t i = 0; i < n; i++) {
		if (x < weights[i])
			return i;
		x -= weights[i];
	}
	return n - 1;
}

/* ---- calendar (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void fmt_day(char out[11], int64_t days)
{
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 11, "%04d-%02u-%02u", y, m, d);
}

static int year_of(int64_t days)
{
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	return y;
}

/* The day before the same date n years later (a term of n years). */
static int64_t term_end(int64_t days, int years)
{
	int y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (m == 2 && d == 29)
		d = 28;
	return days_from_civil(y + years, m, d) - 1;
}

/* Whole years from birth to day. */
static int age_at(int64_t birth, int64_t day)
{
	int by, dy;
	unsigned bm, bd, dm, dd;
	civil_from_days(birth, &by, &bm, &bd);
	civil_from_days(day, &dy, &dm, &dd);
	return dy - by - (dm < bm || (dm == bm && dd < bd));
}

#define DAY(y, m, d) days_from_civil((y), (m), (d))

/* ---- Shanxi: cities and county-level divisions (GB/T 2260) ---- */

struct city {
	const char *code;
	const char *name;
	const char *abbr;	/* in document numbers: 并市监罚〔2023〕12号 */
	int lon_e6, lat_e6;	/* near the city's centre */
	unsigned size;		/* weight for picking it */
};

static const struct city cities[] = {
    {"140100", "太原市", "并", 112549000, 37870000, 30},
    {"140200", "大同市", "同", 113300000, 40076000, 10},
    {"140300", "阳泉市", "阳", 113580000, 37857000, 4},
    {"140400", "长治市", "长", 113116000, 36195000, 10},
    {"140500", "晋城市", "晋城", 112851000, 35491000, 7},
    {"140600", "朔州市", "朔", 112433000, 39331000, 5},
    {"140700", "晋中市", "晋中", 112753000, 37687000, 10},
    {"140800", "运城市", "运", 111007000, 35026000, 13},
    {"140900", "忻州市", "忻", 112734000, 38417000, 8},
    {"141000", "临汾市", "临", 111518000, 36088000, 11},
    {"141100", "吕梁市", "吕", 111144000, 37519000, 9},
};

struct county {
	const char *code;
	unsigned city;		/* index into cities */
	const char *name;
};

static const struct county counties[] = {
    {"140105", 0, "小店区"},	{"140106", 0, "迎泽区"},
    {"140107", 0, "杏花岭区"},	{"140108", 0, "尖草坪区"},
    {"140109", 0, "万柏林区"},	{"140110", 0, "晋源区"},
    {"140121", 0, "清徐县"},	{"140122", 0, "阳曲县"},
    {"140181", 0, "古交市"},	{"140212", 1, "新荣区"},
    {"140213", 1, "平城区"},	{"140214", 1, "云冈区"},
    {"140215", 1, "云州区"},	{"140221", 1, "阳高县"},
    {"140225", 1, "浑源县"},	{"140302", 2, "城区"},
    {"140303", 2, "矿区"},	{"140311", 2, "郊区"},
    {"140321", 2, "平定县"},	{"140322", 2, "盂县"},
    {"140403", 3, "潞州区"},	{"140404", 3, "上党区"},
    {"140405", 3, "屯留区"},	{"140406", 3, "潞城区"},
    {"140423", 3, "襄垣县"},	{"140502", 4, "城区"},
    {"140521", 4, "沁水县"},	{"140525", 4, "泽州县"},
    {"140581", 4, "高平市"},	{"140602", 5, "朔城区"},
    {"140603", 5, "平鲁区"},	{"140681", 5, "怀仁市"},
    {"140702", 6, "榆次区"},	{"140703", 6, "太谷区"},
    {"140727", 6, "祁县"},	{"140728", 6, "平遥县"},
    {"140781", 6, "介休市"},	{"140802", 7, "盐湖区"},
    {"140823", 7, "闻喜县"},	{"140881", 7, "永济市"},
    {"140882", 7, "河津市"},	{"140902", 8, "忻府区"},
    {"140923", 8, "代县"},	{"140925", 8, "宁武县"},
    {"140981", 8, "原平市"},	{"141002", 9, "尧都区"},
    {"141023", 9, "襄汾县"},	{"141081", 9, "侯马市"},
    {"141082", 9, "霍州市"},	{"141102", 10, "离石区"},
    {"141124", 10, "临县"},	{"141181", 10, "孝义市"},
    {"141182", 10, "汾阳市"},
};

#define NCOUNTY GX_ARRAY_SIZE(counties)

static const struct county *pick_county(rng_t *r)
{
	/* A city by size, then one of its counties. */
	unsigned w[GX_ARRAY_SIZE(cities)];
	for (size_t i = 0; i < GX_ARRAY_SIZE(cities); i++)
		w[i] = cities[i].size;
	size_t c = weighted(r, w, GX_ARRAY_SIZE(cities));
	size_t n = 0, first = 0;
	for (size_t i = 0; i < NCOUNTY; i++)
		if (counties[i].city == c) {
			if (!n++)
				first = i;
		}
	return &counties[first + below(r, n)];
}

static const struct city *city_of(const struct county *k)
{
	return &cities[k->city];
}

/* Is the county a district of its city (an urban address)? */
static int is_district(const struct county *k)
{
	const char *n = k->name;
	size_t l = strlen(n);
	return l >= 3 && !strcmp(n + l - 3, "区");
}

/* ---- people ---- */

static const char *const surnames[] = {
    "王", "李", "张", "刘", "郭", "杨", "赵", "武", "贾", "高", "陈", "马",
    "田", "梁", "韩", "任", "孙", "胡", "史", "段", "程", "周", "吴", "徐",
    "冯", "董", "郝", "薛", "乔", "宋", "侯", "牛", "石", "白", "范", "常",
    "闫", "申", "温", "崔", "秦", "霍", "卫", "阎", "裴", "柴", "曹", "邢",
    "岳", "令狐", "司马", "上官"};
static const unsigned surname_w[] = {
    90, 85, 80, 70, 45, 40, 40, 30, 30, 30, 30, 28, 25, 22, 22, 20, 20, 20,
    18, 18, 18, 16, 16, 14, 14, 14, 14, 12, 12, 12, 12, 10, 10, 10, 10, 10,
    10, 8,  8,  8,  8,  6,  6,  6,  6,  5,  5,  5,  5,  1,  1,  1};

static const char *const given_m[] = {
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平",
    "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆",
    "旭", "宁", "龙", "林", "阳", "建", "国", "志", "文", "晓", "东", "海",
    "亮", "峰", "瑞", "晋", "锋", "宏", "振", "宝", "福", "生", "成", "毅"};
static const char *const given_f[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "桂", "英",
    "慧", "婷", "雪", "琳", "洁", "燕", "红", "梅", "莉", "萍", "颖", "倩",
    "丹", "璐", "佳", "欣", "悦", "怡", "蕾", "晶", "瑶", "妍", "楠", "月",
    "春", "兰", "凤", "翠", "瑾", "雅", "蓉", "晓", "文", "媛", "琪", "彤"};

static void person_name(rng_t *r, int male, char *out, size_t n)
{
	size_t s = weighted(r, surname_w, GX_ARRAY_SIZE(surnames));
	const char *a = male ? PICK(r, given_m) : PICK(r, given_f);
	if (chance(r, 300)) {
		snprintf(out, n, "%s%s", surnames[s], a);
	} else {
		const char *b = male ? PICK(r, given_m) : PICK(r, given_f);
		snprintf(out, n, "%s%s%s", surnames[s], a, b);
	}
}

/* GB 11643: division, birth date, order code (odd: male), check. */
static void make_citizen_id(char out[19], const char *division,
			    int64_t birth, unsigned order)
{
	int y;
	unsigned m, d;
	civil_from_days(birth, &y, &m, &d);
	snprintf(out, 19, "%.6s%04d%02u%02u%03u", division, y, m, d,
		 order % 1000);
	out[17] = gx_gb11643_check_char(out);
	out[18] = '\0';
}

/* An adult (18 to 80 on the reference day) somewhere in Shanxi. */
static const struct county *random_adult(rng_t *r, int64_t today,
					 char id[19], char *name, size_t n)
{
	char why[160];
	unsigned order;
	const struct county *k;
	/* Never one that reads as a credit code too (1 in 341 do), so the
	 * code's type is never in doubt. */
	do {
		k = pick_county(r);
		int64_t birth = today - range(r, 18 * 366, 80 * 365);
		order = (unsigned)range(r, 1, 999);
		make_citizen_id(id, k->code, birth, order);
	} while (!gx_check_gb32100(id, why, sizeof(why)));
	person_name(r, order % 2, name, n);
	return k;
}

/* ---- places ---- */

static const char *const streets[] = {
    "迎泽大街", "府西街",   "解放路",   "建设路",	"和平路",   "新华街",
    "文化路",   "人民路",   "长治路",   "学府街",	"平阳路",   "胜利街",
    "滨河东路", "五一路",   "中山路",   "南内环街", "北大街",   "东风路",
    "英雄路",   "太行路",   "晋祠路",   "并州路",	"体育路",   "朝阳街",
    "青年路",   "桃园路",   "双塔西街", "龙城大街", "长风街",   "康宁街"};
static const char *const estates[] = {
    "阳光", "锦绣", "丽华", "和平", "滨河", "幸福", "翠苑", "康乐",
    "华府", "金域", "书香", "怡园", "富力", "星河", "泰和", "御景"};
static const char *const towns[] = {
    "城关镇", "东关镇", "西街街道", "北城街道", "南关镇", "新城镇",
    "龙泉镇", "杜家庄乡", "河底镇", "王家庄乡", "古城镇", "庙前乡"};
static const char *const villages[] = {
    "东关村", "西关村", "南庄村", "北堡村", "王家庄村", "李家沟村",
    "张家湾村", "赵家岭村", "大营村", "小河村", "上庄村", "下社村",
    "前进村", "红星村", "柳林村", "枣园村"};

/* A Shanxi address in county k: a street in a district, often a village
 * in a county. */
static void address(rng_t *r, const struct county *k, char *out, size_t n)
{
	const struct city *c = city_of(k);
	if (is_district(k) || chance(r, 400))
		snprintf(out, n, "山西省%s%s%s%u号%s小区%u号楼%u单元%u%02u室",
			 c->name, k->name, PICK(r, streets),
			 (unsigned)range(r, 1, 399), PICK(r, estates),
			 (unsigned)range(r, 1, 30), (unsigned)range(r, 1, 6),
			 (unsigned)range(r, 1, 28), (unsigned)range(r, 1, 4));
	else
		snprintf(out, n, "山西省%s%s%s%s%u号", c->name, k->name,
			 PICK(r, towns), PICK(r, villages),
			 (unsigned)range(r, 1, 260));
}

/* "太原市小店区" */
static void county_full(const struct county *k, char *out, size_t n)
{
	snprintf(out, n, "%s%s", city_of(k)->name, k->name);
}

/* ---- codes ---- */

static const char uscc_alpha[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/* GB 32100: registering department, kind, division, an 8-character
 * organisation code body, its GB 11714 check, then the GB 32100 check. */
static void make_uscc(char out[19], char dept, char kind,
		      const char *division, const char *body8)
{
	out[0] = dept;
	out[1] = kind;
	memcpy(out + 2, division, 6);
	memcpy(out + 8, body8, 8);
	out[16] = gx_gb11714_check_char(out + 8);
	out[17] = gx_gb32100_check_char(out);
	out[18] = '\0';
}

/* An organisation code body: newer ones "MA" and six characters of the
 * credit code alphabet, older ones eight digits. */
static void random_body(rng_t *r, char body[9])
{
	if (chance(r, 600)) {
		body[0] = 'M';
		body[1] = 'A';
		for (int i = 2; i < 8; i++)
			body[i] = uscc_alpha[below(r, 31)];
	} else {
		for (int i = 0; i < 8; i++)
			body[i] = (char)('0' + below(r, 10));
	}
	body[8] = '\0';
}

/* A body that depends only on the text (for government departments, which
 * keep one code). */
static void fixed_body(const char *text, char body[9])
{
	uint64_t h = UINT64_C(1469598103934665603);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		h = (h ^ *p) * UINT64_C(1099511628211);
	h = splitmix64(&h);
	for (int i = 0; i < 8; i++) {
		body[i] = (char)('0' + h % 10);
		h /= 10;
	}
	body[8] = '\0';
}

/* A government department's code: "11" (机构编制, 机关), its division,
 * a body fixed by its name. */
static void agency_uscc(char out[19], const char *division, const char *name)
{
	char body[9];
	fixed_body(name, body);
	make_uscc(out, '1', '1', division, body);
}

/* ---- the generator state ---- */

#define UNSET ((size_t)-1)
#define NULLED ((size_t)-2)

typedef struct gen gen_t;
typedef void (*gen_fn)(gen_t *g, rng_t *r, uint64_t index);

struct gx_sample {
	const gx_library_t *lib;
	gen_fn gen;
	uint64_t seed, salt, rows, next;
	uint64_t defects_total, defects_left;
	rng_t drng;		/* which rows are defective and how */
	int64_t today;		/* GX_SAMPLE_TODAY in days */
	uint64_t perm_b;	/* population: offset of the ID permutation */

	gx_buf_t text;		/* this row: NUL-terminated texts */
	size_t *off;		/* per field: offset in text, UNSET, NULLED */
	const char **vals;
	size_t cursor;		/* where the next field name is looked for */
	const char *bad_name;	/* a name the schema lacks */

	gx_buf_t last;		/* the last valid row */
	size_t *last_off;
	int have_last;
	uint64_t last_index;

	size_t *checks, nchecks;	/* fields with a check character */
	size_t *required, nrequired;	/* non-nullable fields */
	size_t *dates, ndates;		/* date fields */
};

struct gen {
	gx_sample_t *s;
};

const char *gx_defect_name(gx_defect_t d)
{
	static const char *const names[] = {"none", "bad_check",
					    "missing_field", "bad_date",
					    "duplicate"};
	return (size_t)d < GX_ARRAY_SIZE(names) ? names[d] : "?";
}

static size_t field_index(gx_sample_t *s, const char *name)
{
	size_t n = s->lib->nfields;
	for (size_t k = 0; k < n; k++) {
		size_t i = (s->cursor + k) % n;
		if (!strcmp(s->lib->fields[i].name, name)) {
			s->cursor = (i + 1) % n;
			return i;
		}
	}
	if (!s->bad_name)
		s->bad_name = name;
	return UNSET;
}

static void put(gen_t *g, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put(gen_t *g, const char *name, const char *fmt, ...)
{
	gx_sample_t *s = g->s;
	size_t i = field_index(s, name);
	if (i == UNSET)
		return;
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	gx_buf_reserve(&s->text, (size_t)n + 1);
	vsnprintf(s->text.data + s->text.len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	s->off[i] = s->text.len;
	s->text.len += (size_t)n + 1;
}

static void put_null(gen_t *g, const char *name)
{
	size_t i = field_index(g->s, name);
	if (i != UNSET)
		g->s->off[i] = NULLED;
}

static void put_date(gen_t *g, const char *name, int64_t days)
{
	char d[11];
	fmt_day(d, days);
	put(g, name, "%s", d);
}

static void put_date_or_null(gen_t *g, const char *name, int64_t days,
			     int is_null)
{
	if (is_null)
		put_null(g, name);
	else
		put_date(g, name, days);
}

/* A timestamp in [from, today) days, to the millisecond. */
static void put_time(gen_t *g, rng_t *r, const char *name, int64_t from)
{
	int64_t to = g->s->today;
	if (from >= to)
		from = to - 1;
	int64_t ms = range(r, from * 86400000, to * 86400000 - 1);
	char t[40];
	gx_fmt_time_ms(ms, t, sizeof(t));
	put(g, name, "%s", t);
}

/* A decimal with `scale` fraction digits from an unscaled integer. */
static void put_decimal(gen_t *g, const char *name, int64_t unscaled,
			int scale)
{
	int64_t p = 1;
	for (int i = 0; i < scale; i++)
		p *= 10;
	uint64_t a = unscaled < 0 ? (uint64_t)0 - (uint64_t)unscaled
				  : (uint64_t)unscaled;
	put(g, name, "%s%llu.%0*llu", unscaled < 0 ? "-" : "",
	    (unsigned long long)(a / (uint64_t)p), scale,
	    (unsigned long long)(a % (uint64_t)p));
}

/* ================= population ================= */

/*
 * Citizen IDs are unique within a run: row i's (division, birth date,
 * order code) is the i-th element of a fixed permutation of all
 * NCOUNTY x POP_DAYS x 999 combinations (an affine map modulo their number
 * by a prime larger than it), offset by the seed.
 */
#define POP_FIRST_YEAR 1935
#define POP_LAST_DAY DAY(2023, 12, 31)
#define PERM_A UINT64_C(4294967291) /* the largest prime below 2^32 */

static uint64_t pop_days(void)
{
	return (uint64_t)(POP_LAST_DAY - DAY(POP_FIRST_YEAR, 1, 1) + 1);
}

static uint64_t pop_space(void)
{
	return (uint64_t)NCOUNTY * pop_days() * 999;
}

static const char *const eth_codes[] = {"01", "03", "02", "11", "08",
					"06", "10", "04"};
static const unsigned eth_w[] = {9700, 120, 50, 50, 20, 20, 20, 20};

static void gen_population(gen_t *g, rng_t *r, uint64_t index)
{
	gx_sample_t *s = g->s;
	uint64_t m = pop_space();
	uint64_t p = (PERM_A * (index % m) + s->perm_b) % m;
	unsigned order = (unsigned)(p % 999) + 1;
	p /= 999;
	int64_t birth = DAY(POP_FIRST_YEAR, 1, 1) + (int64_t)(p % pop_days());
	p /= pop_days();
	const struct county *born = &counties[p];
	int male = order % 2;
	int age = age_at(birth, s->today);
	char id[19], name[64], addr[256];

	make_citizen_id(id, born->code, birth, order);
	put(g, "citizen_id", "%s", id);
	person_name(r, male, name, sizeof(name));
	put(g, "name", "%s", name);
	put(g, "sex", "%s", male ? "1" : "2");
	put(g, "ethnicity", "%s", eth_codes[weighted(r, eth_w, GX_ARRAY_SIZE(eth_w))]);
	put_date(g, "birth_date", birth);
	/* Most live where they were registered at birth. */
	const struct county *home = chance(r, 850) ? born : pick_county(r);
	put(g, "division_code", "%s", home->code);
	address(r, home, addr, sizeof(addr));
	put(g, "address", "%s", addr);

	/* GB/T 2261.2: 10 unmarried, 20 married, 21 first marriage,
	 * 22 remarried, 23 remarried after divorce, 30 widowed, 40 divorced. */
	if (chance(r, 50) || age < 16) {
		put_null(g, "marital_status");
	} else if (age < 22) {
		put(g, "marital_status", "%s", chance(r, 900) ? "10" : "20");
	} else {
		static const char *const ms[] = {"10", "20", "21", "22", "23",
						 "30", "40"};
		unsigned w[] = {120, 520, 150, 30, 20, age > 60 ? 150 : 10, 60};
		put(g, "marital_status", "%s", ms[weighted(r, w, GX_ARRAY_SIZE(w))]);
	}
	/* GB/T 4658: 10 postgraduate, 20 bachelor, 30 college, 40 secondary
	 * vocational, 60 senior high, 70 junior high, 80 primary, 90 other. */
	if (age < 7 || chance(r, 80)) {
		put_null(g, "education");
	} else if (age < 13) {
		put(g, "education", "80");
	} else if (age < 19) {
		put(g, "education", "%s", chance(r, 500) ? "70" : "60");
	} else {
		static const char *const ed[] = {"10", "20", "30", "40",
						 "60", "70", "80", "90"};
		unsigned w[] = {age < 60 ? 40 : 5, age < 60 ? 170 : 40, 130, 80,
				170, 280, age < 60 ? 80 : 300, 30};
		put(g, "education", "%s", ed[weighted(r, w, GX_ARRAY_SIZE(w))]);
	}
	unsigned dead = age > 85 ? 400 : age > 70 ? 120 : 8;
	if (chance(r, dead))
		put(g, "status", "DECEASED");
	else
		put(g, "status", "%s", chance(r, 40) ? "MOVED" : "ALIVE");
	int64_t since = DAY(2019, 1, 1);
	put_time(g, r, "updated_at", birth > since ? birth : since);
}

/* ================= legal entities ================= */

static const char *const brands[] = {
    "晋鑫", "汾河", "龙城", "并州", "华泰", "恒达", "鼎盛", "瑞丰", "宏远",
    "晋阳", "三晋", "太行", "晋商", "华晋", "昌盛", "博达", "中泰", "金鼎",
    "天和", "安泰", "新源", "广源", "晋丰", "汇通", "永利", "德隆", "聚源",
    "兴达", "润泽", "晋韵", "吕梁山", "五台", "云冈", "平遥", "黄河"};

struct trade {
	const char *name;	/* in the entity's name */
	const char *scope;	/* business scope */
};

static const struct trade trades[] = {
    {"煤业", "煤炭开采；煤炭洗选；煤炭及制品销售；矿山机械销售"},
    {"科技", "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；"
	     "软件开发；信息系统集成服务"},
    {"商贸", "日用百货销售；五金产品零售；电子产品销售；食品销售（仅销售预包装食品）"},
    {"建筑工程", "建设工程施工；住宅室内装饰装修；建筑材料销售；园林绿化工程施工"},
    {"农业开发", "谷物种植；蔬菜种植；水果种植；农产品的生产、销售、加工、运输、贮藏"},
    {"物流", "道路货物运输（不含危险货物）；普通货物仓储服务；国内货物运输代理"},
    {"餐饮管理", "餐饮服务；餐饮管理；食品经营；外卖递送服务"},
    {"医药", "药品零售；第二类医疗器械销售；保健食品（预包装）销售"},
    {"化工", "化工产品销售（不含许可类化工产品）；煤制活性炭及其他煤炭加工"},
    {"能源", "发电业务、输电业务、供（配）电业务；太阳能发电技术服务；热力生产和供应"},
    {"文化传媒", "组织文化艺术交流活动；广告设计、代理；会议及展览服务；电影摄制服务"},
    {"房地产开发", "房地产开发经营；物业管理；住房租赁；非居住房地产租赁"},
    {"机械制造", "通用设备制造（不含特种设备制造）；机械零件、零部件加工；金属切削加工服务"},
    {"食品", "食品生产；食品销售；粮食加工食品生产；醋的生产（老陈醋）"},
};

/* Individual businesses: the shop and its business scope. */
static const struct trade shops[] = {
    {"便利店", "日用百货销售；食品销售（仅销售预包装食品）；烟草制品零售"},
    {"小吃店", "小餐饮；食品小摊贩"},
    {"理发店", "理发服务；生活美容服务"},
    {"五金店", "五金产品零售；建筑材料销售；电线、电缆经营"},
    {"烟酒商行", "烟草制品零售；酒类经营；食品销售（仅销售预包装食品）"},
    {"汽车修理部", "机动车修理和维护；汽车零配件零售"},
    {"面食馆", "餐饮服务；小餐饮"},
    {"服装店", "服装服饰零售；鞋帽零售"},
    {"家电维修部", "日用电器修理；家用电器销售"},
};

/* GB 32100 kinds: 91 enterprise, 92 individual business, 93 farmers'
 * cooperative. */
enum { ENT_COMPANY, ENT_SOLE, ENT_INDIVIDUAL, ENT_COOP };

struct entity {
	int kind;
	char uscc[19];
	char name[200];
	const struct county *k;
	const struct trade *trade;
};

static void make_entity(rng_t *r, struct entity *e)
{
	static const unsigned w[] = {640, 50, 260, 50};
	char body[9], where[64];
	e->kind = (int)weighted(r, w, GX_ARRAY_SIZE(w));
	e->k = pick_county(r);
	e->trade = &trades[below(r, GX_ARRAY_SIZE(trades))];
	char kind = e->kind == ENT_INDIVIDUAL ? '2' : e->kind == ENT_COOP ? '3' : '1';
	char why[160];
	/* Never one that reads as a citizen ID too (an all-digit code can),
	 * so the code's type is never in doubt. */
	do {
		random_body(r, body);
		make_uscc(e->uscc, '9', kind, e->k->code, body);
	} while (!gx_check_gb11643(e->uscc, why, sizeof(why)));
	county_full(e->k, where, sizeof(where));
	const char *brand = PICK(r, brands);
	switch (e->kind) {
	case ENT_COMPANY:
		if (chance(r, 300))
			snprintf(e->name, sizeof(e->name), "山西%s%s%s", brand,
				 e->trade->name,
				 chance(r, 200) ? "股份有限公司" : "有限公司");
		else
			snprintf(e->name, sizeof(e->name), "%s%s%s有限公司",
				 city_of(e->k)->name, brand, e->trade->name);
		break;
	case ENT_SOLE:
		snprintf(e->name, sizeof(e->name), "%s%s%s部", where, brand,
			 e->trade->name);
		break;
	case ENT_INDIVIDUAL:
		e->trade = &shops[below(r, GX_ARRAY_SIZE(shops))];
		snprintf(e->name, sizeof(e->name), "%s%s%s", where, brand,
			 e->trade->name);
		break;
	default: {
		static const struct trade coops[] = {
		    {"蔬菜种植", "组织收购、销售成员种植的蔬菜；引进新技术、新品种，开展技术培训"},
		    {"养殖", "组织成员开展畜禽养殖；收购、销售成员养殖的畜禽产品"}};
		e->trade = &coops[below(r, GX_ARRAY_SIZE(coops))];
		snprintf(e->name, sizeof(e->name), "%s%s%s专业合作社", where,
			 PICK(r, villages), e->trade->name);
	}
	}
}

static void gen_legal_entity(gen_t *g, rng_t *r, uint64_t index)
{
	(void)index;
	gx_sample_t *s = g->s;
	struct entity e;
	char rep[64], addr[256], where[64];
	make_entity(r, &e);
	put(g, "uscc", "%s", e.uscc);
	put(g, "name", "%s", e.name);
	/* 市场主体类型代码 */
	static const char *const company_types[] = {"1100", "1130", "1140",
						    "1150", "1151", "1200",
						    "1212"};
	switch (e.kind) {
	case ENT_COMPANY:
		put(g, "entity_type", "%s", PICK(r, company_types));
		break;
	case ENT_SOLE:
		put(g, "entity_type", "4540");
		break;
	case ENT_INDIVIDUAL:
		if (chance(r, 500))
			put(g, "entity_type", "9600");
		else
			put_null(g, "entity_type");
		break;
	default:
		put(g, "entity_type", "9100");
	}
	person_name(r, chance(r, 700), rep, sizeof(rep));
	put(g, "legal_representative", "%s", rep);
	static const int64_t capitals[] = {100000,   500000,   1000000,
					   2000000,  3000000,  5000000,
					   10000000, 20000000, 50000000,
					   100000000};
	if (e.kind == ENT_COMPANY)
		put_decimal(g, "registered_capital",
			    PICK(r, capitals) * 100 *
				(chance(r, 100) ? range(r, 2, 30) : 1),
			    2);
	else if (e.kind == ENT_INDIVIDUAL || chance(r, 300))
		put_null(g, "registered_capital");
	else
		put_decimal(g, "registered_capital",
			    range(r, 10, 2000) * 100000 + range(r, 0, 99), 2);
	/* More entities were registered recently. */
	int64_t est = chance(r, 600) ? range(r, DAY(2015, 1, 1), s->today - 1)
				     : range(r, DAY(1992, 1, 1), s->today - 1);
	put_date(g, "established_on", est);
	if (e.kind == ENT_COMPANY && chance(r, 600)) {
		static const int terms[] = {20, 30, 50};
		put_date(g, "operating_until", term_end(est, PICK(r, terms)));
	} else {
		put_null(g, "operating_until");
	}
	county_full(e.k, where, sizeof(where));
	if (e.kind == ENT_COMPANY && chance(r, 100))
		put(g, "registration_authority", "山西省市场监督管理局");
	else if (e.kind == ENT_COMPANY && chance(r, 300))
		put(g, "registration_authority", "%s市场监督管理局",
		    city_of(e.k)->name);
	else
		put(g, "registration_authority", "%s市场监督管理局", where);
	put(g, "business_scope", "%s（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
	    e.trade->scope);
	address(r, e.k, addr, sizeof(addr));
	put(g, "address", "%s", addr);
	put(g, "division_code", "%s", e.k->code);
	static const char *const st[] = {"OPERATING", "SUSPENDED", "REVOKED",
					 "DEREGISTERED", "MOVED_OUT"};
	static const unsigned stw[] = {850, 10, 40, 80, 20};
	put(g, "status", "%s", st[weighted(r, stw, GX_ARRAY_SIZE(stw))]);
	put_time(g, r, "updated_at", est);
}

/* ================= public credit ================= */

enum { DOM_MARKET, DOM_ENV, DOM_SAFETY, DOM_TAX, DOM_TRANSPORT,
       DOM_HOUSING, DOM_COURT };

struct agency {
	const char *name;	/* with {city} for a city's own department */
	const char *abbr;	/* in document numbers, after the city's */
	int domain;
	int city_level;		/* a city's department (name after city) */
};

static const struct agency agencies[] = {
    {"山西省市场监督管理局", "晋市监", DOM_MARKET, 0},
    {"市场监督管理局", "市监", DOM_MARKET, 1},
    {"山西省生态环境厅", "晋环", DOM_ENV, 0},
    {"生态环境局", "环", DOM_ENV, 1},
    {"山西省应急管理厅", "晋应急", DOM_SAFETY, 0},
    {"应急管理局", "应急", DOM_SAFETY, 1},
    {"国家税务总局山西省税务局", "晋税", DOM_TAX, 0},
    {"山西省交通运输厅", "晋交", DOM_TRANSPORT, 0},
    {"交通运输局", "交", DOM_TRANSPORT, 1},
    {"山西省住房和城乡建设厅", "晋建", DOM_HOUSING, 0},
    {"中级人民法院", "法", DOM_COURT, 1},
};

struct offence {
	const char *reason;
	const char *basis;
	int person;		/* a citizen can commit it too */
};

static const struct offence offences[][3] = {
    [DOM_MARKET] = {{"销售不符合食品安全标准的食品",
		     "《中华人民共和国食品安全法》第一百二十四条第一款", 1},
		    {"未按规定报送年度报告，被列入经营异常名录后逾期未改正",
		     "《企业信息公示暂行条例》第十八条", 0},
		    {"发布虚假广告，对商品的性能、功能作虚假宣传",
		     "《中华人民共和国广告法》第五十五条第一款", 0}},
    [DOM_ENV] = {{"超过大气污染物排放标准排放大气污染物",
		  "《中华人民共和国大气污染防治法》第九十九条第二项", 0},
		 {"未依法取得排污许可证排放污染物",
		  "《排污许可管理条例》第三十三条第一项", 0},
		 {"露天焚烧产生有毒有害烟尘的物质",
		  "《中华人民共和国大气污染防治法》第一百一十九条第二款", 1}},
    [DOM_SAFETY] = {{"未按规定对从业人员进行安全生产教育和培训",
		     "《中华人民共和国安全生产法》第九十七条第三项", 0},
		    {"未建立事故隐患排查治理制度",
		     "《中华人民共和国安全生产法》第一百零一条第五项", 0},
		    {"煤矿未按规定进行瓦斯检查",
		     "《煤矿安全生产条例》第六十一条", 0}},
    [DOM_TAX] = {{"未按照规定期限办理纳税申报和报送纳税资料",
		  "《中华人民共和国税收征收管理法》第六十二条", 1},
		 {"未按照规定保管发票",
		  "《中华人民共和国发票管理办法》第三十五条", 0},
		 {"未按规定办理税务登记变更",
		  "《中华人民共和国税收征收管理法》第六十条第一款", 0}},
    [DOM_TRANSPORT] = {{"道路运输车辆超限运输",
			"《公路安全保护条例》第六十四条", 1},
		       {"未取得道路运输经营许可擅自从事道路运输经营",
			"《中华人民共和国道路运输条例》第六十三条", 1},
		       {"客运车辆不按批准的线路运营",
			"《中华人民共和国道路运输条例》第六十八条", 1}},
    [DOM_HOUSING] = {{"未取得施工许可证擅自施工",
		      "《建设工程质量管理条例》第五十七条", 0},
		     {"施工单位未按规定设置安全防护设施",
		      "《建设工程安全生产管理条例》第六十五条", 0},
		     {"拖欠农民工工资",
		      "《保障农民工工资支付条例》第五十五条", 1}},
    [DOM_COURT] = {{"有履行能力而拒不履行生效法律文书确定的义务",
		    "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第一项", 1},
		   {"以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
		    "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第三项", 1},
		   {"违反财产报告制度",
		    "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第五项", 1}},
};

/* What each kind of department licenses (none for taxes and courts). */
static const char *const licences_granted[][2] = {
    [DOM_MARKET] = {"食品经营许可", "药品经营许可"},
    [DOM_ENV] = {"排污许可", "危险废物经营许可"},
    [DOM_SAFETY] = {"危险化学品经营许可", "烟花爆竹经营（零售）许可"},
    [DOM_TRANSPORT] = {"道路运输经营许可", "道路运输从业人员从业资格"},
    [DOM_HOUSING] = {"建筑施工企业安全生产许可", "建筑业企业资质"},
};

enum { CR_LICENCE, CR_PENALTY, CR_RED, CR_BLACK, CR_WATCH };

static void gen_public_credit(gen_t *g, rng_t *r, uint64_t index)
{
	(void)index;
	gx_sample_t *s = g->s;
	int person = chance(r, 250);
	const struct county *home;
	static const char *const types[] = {"ADMIN_LICENCE", "ADMIN_PENALTY",
					    "RED_LIST", "BLACK_LIST",
					    "WATCH_LIST"};
	unsigned tw[] = {person ? 150 : 350, 500, person ? 0 : 70, 80,
			 person ? 0 : 50};
	int type = (int)weighted(r, tw, GX_ARRAY_SIZE(tw));
	if (person) {
		char id[19], name[64];
		home = random_adult(r, s->today, id, name, sizeof(name));
		put(g, "subject_code", "%s", id);
		put(g, "subject_code_type", "CITIZEN_ID");
		put(g, "subject_name", "%s", name);
	} else {
		struct entity e;
		make_entity(r, &e);
		home = e.k;
		put(g, "subject_code", "%s", e.uscc);
		put(g, "subject_code_type", "USCC");
		put(g, "subject_name", "%s", e.name);
	}
	put(g, "record_type", "%s", types[type]);

	/* Who decided: courts for dishonest judgment debtors, the tax bureau
	 * for the red list, a licensing department for a licence, for a
	 * citizen one that deals with citizens; then what for. */
	const struct agency *a;
	const struct offence *o;
	for (;;) {
		a = &agencies[below(r, GX_ARRAY_SIZE(agencies))];
		o = &offences[a->domain][below(r, 3)];
		if ((type == CR_BLACK) != (a->domain == DOM_COURT) ||
		    (type == CR_RED && a->domain != DOM_TAX) ||
		    (type == CR_LICENCE && !licences_granted[a->domain][0]) ||
		    (person && type != CR_LICENCE && !o->person) ||
		    (person && type == CR_LICENCE && a->domain != DOM_MARKET &&
		     a->domain != DOM_TRANSPORT))
			continue;
		break;
	}
	/* A city's department is the subject's city's. */
	const struct city *c = city_of(home);
	char aname[128], acode[19];
	if (a->city_level)
		snprintf(aname, sizeof(aname), "%s%s", c->name, a->name);
	else
		snprintf(aname, sizeof(aname), "%s", a->name);
	agency_uscc(acode, a->city_level ? c->code : "140000", aname);

	int64_t decided = range(r, DAY(2016, 1, 1), s->today - 1);
	int year = year_of(decided);
	char abbr[32];
	snprintf(abbr, sizeof(abbr), "%s%s", a->city_level ? c->abbr : "",
		 a->abbr);
	unsigned seq = (unsigned)range(r, 1, 2999);
	switch (type) {
	case CR_LICENCE:
		put(g, "decision_no", "%s许〔%d〕%u号", abbr, year, seq);
		break;
	case CR_PENALTY:
		put(g, "decision_no", "%s罚〔%d〕%u号", abbr, year, seq);
		break;
	case CR_BLACK:
		put(g, "decision_no", "（%d）晋%02u执%u号", year,
		    (unsigned)range(r, 1, 11), seq);
		break;
	default:
		put(g, "decision_no", "%s信〔%d〕%u号", abbr, year, seq);
	}
	put(g, "issuing_authority", "%s", aname);
	put(g, "issuing_authority_code", "%s", acode);

	int64_t fine = 0;
	switch (type) {
	case CR_LICENCE: {
		const char *what = licences_granted[a->domain][below(r, 2)];
		put(g, "reason", "申请%s", what);
		put(g, "legal_basis", "《中华人民共和国行政许可法》第三十八条第一款");
		put(g, "content", "准予%s", what);
		break;
	}
	case CR_PENALTY:
		put(g, "reason", "%s", o->reason);
		put(g, "legal_basis", "%s", o->basis);
		if (chance(r, 750)) {
			fine = range(r, 5, 2000) * 100;
			put(g, "content", "罚款人民币%lld元", (long long)fine);
		} else {
			put(g, "content", "警告");
		}
		break;
	case CR_RED:
		put(g, "reason", "连续三年纳税信用评价为A级");
		put(g, "legal_basis", "《纳税信用管理办法（试行）》第三十条");
		put(g, "content", "列入守信激励对象名单");
		break;
	case CR_BLACK:
		put(g, "reason", "%s", o->reason);
		put(g, "legal_basis", "%s", o->basis);
		put(g, "content", "纳入失信被执行人名单");
		break;
	default:
		put(g, "reason", "一年内因同一违法行为受到三次以上行政处罚");
		put(g, "legal_basis", "%s", o->basis);
		if (chance(r, 500))
			put_null(g, "content");
		else
			put(g, "content", "列入重点关注对象名单");
	}
	if (fine)
		put_decimal(g, "fine_amount", fine * 100, 2);
	else
		put_null(g, "fine_amount");
	put_date(g, "decided_on", decided);
	static const int years[] = {5, 3, 2, 3, 1};
	int64_t until = term_end(decided, years[type]);
	int no_end = type == CR_BLACK && chance(r, 300);
	put_date_or_null(g, "valid_until", until, no_end);
	const char *status = "IN_FORCE";
	if (chance(r, 20))
		status = "REVOKED";
	else if (!no_end && until < s->today)
		status = (type == CR_PENALTY || type == CR_BLACK) && chance(r, 250)
			     ? "REPAIRED"
			     : "EXPIRED";
	put(g, "status", "%s", status);
	put_time(g, r, "updated_at", decided);
}

/* ================= macroeconomy ================= */

enum { FLOW, STOCK, RATE, PER_HEAD };

struct indicator {
	const char *code, *name, *unit;
	char freq;		/* Y, Q or M */
	int kind;
	int64_t lo, hi;		/* Shanxi, a year (flows) or a level; in
				 * units of 0.0001 */
	int decimals;		/* shown; the rest of the 4 are zeros */
	int survey;		/* from the NBS survey office */
};

#define U(x) ((int64_t)((x) * 10000))
static const struct indicator indicators[] = {
    {"A020101", "地区生产总值", "亿元", 'Q', FLOW, U(17000), U(26000), 2, 0},
    {"A020102", "第一产业增加值", "亿元", 'Y', FLOW, U(800), U(1500), 2, 0},
    {"A020103", "第二产业增加值", "亿元", 'Y', FLOW, U(7000), U(14000), 2, 0},
    {"A020104", "第三产业增加值", "亿元", 'Y', FLOW, U(8000), U(12000), 2, 0},
    {"A030101", "规模以上工业增加值增长速度", "%", 'M', RATE, U(-6), U(12), 1, 0},
    {"A040101", "固定资产投资（不含农户）增长速度", "%", 'M', RATE, U(-12), U(15), 1, 0},
    {"A050101", "社会消费品零售总额", "亿元", 'M', FLOW, U(6000), U(8200), 2, 0},
    {"A060101", "居民消费价格指数", "上年同月=100", 'M', RATE, U(98.5), U(103.5), 1, 1},
    {"A070101", "城镇居民人均可支配收入", "元", 'Y', PER_HEAD, U(28000), U(43000), 0, 1},
    {"A070102", "农村居民人均可支配收入", "元", 'Y', PER_HEAD, U(9000), U(18000), 0, 1},
    {"A080101", "一般公共预算收入", "亿元", 'M', FLOW, U(1800), U(3500), 2, 0},
    {"A090101", "原煤产量", "万吨", 'M', FLOW, U(90000), U(136000), 1, 0},
    {"A100101", "年末常住人口", "万人", 'Y', STOCK, U(3460), U(3500), 2, 0},
    {"A110101", "城镇登记失业率", "%", 'Q', RATE, U(2.4), U(3.8), 1, 0},
    {"A120101", "进出口总额", "亿元", 'M', FLOW, U(1100), U(1800), 2, 0},
};
#undef U

static void gen_macroeconomy(gen_t *g, rng_t *r, uint64_t index)
{
	(void)index;
	const struct indicator *in = &indicators[below(r, GX_ARRAY_SIZE(indicators))];
	put(g, "indicator_code", "%s", in->code);
	put(g, "indicator_name", "%s", in->name);

	/* The province, a city or a county; a region's share of a flow or a
	 * stock is roughly its size. */
	static const unsigned lw[] = {200, 500, 300};
	int level = (int)weighted(r, lw, GX_ARRAY_SIZE(lw));
	const struct county *k = pick_county(r);
	const struct city *c = city_of(k);
	char code[7], agency[128];
	int64_t share_pm = 1000; /* per mille of the province */
	if (level == 0) {
		snprintf(code, sizeof(code), "140000");
	} else if (level == 1) {
		snprintf(code, sizeof(code), "%s", c->code);
		share_pm = (int64_t)c->size * 1000 / 117;
	} else {
		snprintf(code, sizeof(code), "%s", k->code);
		share_pm = (int64_t)c->size * 1000 / 117 / 6 + 1;
	}
	put(g, "division_code", "%s", code);

	/* The period and when its figures came out (on or before today). */
	int year, sub = 0;
	int64_t released;
	char period[32];
	int64_t per_year = 1;
	if (in->freq == 'Y') {
		year = (int)range(r, 2015, 2023);
		snprintf(period, sizeof(period), "%d", year);
		released = DAY(year + 1, (unsigned)range(r, 1, 3),
			       (unsigned)range(r, 10, 28));
	} else if (in->freq == 'Q') {
		int q = (int)range(r, 2015 * 4, 2024 * 4); /* up to 2024Q1 */
		year = q / 4;
		sub = q % 4 + 1;
		snprintf(period, sizeof(period), "%dQ%d", year, sub);
		per_year = 4;
		int m = sub * 3 + 1, y = year;
		if (m > 12) {
			m -= 12;
			y++;
		}
		released = DAY(y, (unsigned)m, (unsigned)range(r, 15, 25));
	} else {
		int mo = (int)range(r, 2015 * 12, 2024 * 12 + 4); /* to 2024M05 */
		year = mo / 12;
		sub = mo % 12 + 1;
		snprintf(period, sizeof(period), "%dM%02d", year, sub);
		per_year = 12;
		int m = sub + 1, y = year;
		if (m > 12) {
			m = 1;
			y++;
		}
		released = DAY(y, (unsigned)m, (unsigned)range(r, 10, 20));
	}
	put(g, "period", "%s", period);

	int64_t v = range(r, in->lo, in->hi);
	if (in->kind == FLOW)
		v = v / per_year * share_pm / 1000;
	else if (in->kind == STOCK)
		v = v * share_pm / 1000;
	else if (in->kind == PER_HEAD && level)
		v = v * range(r, 85, 115) / 100;
	/* Shown to `decimals` places: the other places are zeros. */
	int64_t unit = 1;
	for (int i = in->decimals; i < 4; i++)
		unit *= 10;
	v = v / unit * unit;
	put_decimal(g, "value", v, 4);
	put(g, "unit", "%s", in->unit);

	if (in->survey)
		snprintf(agency, sizeof(agency), "国家统计局山西调查总队");
	else if (level == 0)
		snprintf(agency, sizeof(agency), "山西省统计局");
	else if (level == 1)
		snprintf(agency, sizeof(agency), "%s统计局", c->name);
	else
		snprintf(agency, sizeof(agency), "%s%s统计局", c->name, k->name);
	put(g, "source_agency", "%s", agency);
	static const unsigned rw[] = {700, 250, 50};
	int rev = (int)weighted(r, rw, GX_ARRAY_SIZE(rw));
	put_date(g, "released_on", released + rev * 90 > g->s->today - 1
				       ? released
				       : released + rev * 90);
	put(g, "revision", "%d", rev);
	if (rev)
		put(g, "note", "第%d次修订", rev);
	else if (in->kind == FLOW && in->freq != 'M' && chance(r, 500))
		put(g, "note", "初步核算数");
	else if (in->kind == RATE && chance(r, 300))
		put(g, "note", "按可比价格计算");
	else
		put_null(g, "note");
}

/* ================= geospatial ================= */

struct layer {
	const char *name;	/* 图层 */
	const char *abbr;	/* in feature ids */
	const char *cls;	/* GB/T 13923 feature class */
	char geom;		/* P point, L line, A area */
};

static const struct layer layers[] = {
    {"行政区划", "XZQ", "630200", 'A'}, {"水系", "HYD", "210101", 'L'},
    {"水系", "HYD", "230101", 'A'},	{"交通", "LRD", "420101", 'L'},
    {"交通", "LRD", "420201", 'L'},	{"居民地及设施", "RES", "310500", 'P'},
    {"地貌", "TER", "720100", 'P'},
};

static const char *const rivers[] = {"汾河", "桑干河", "沁河", "浊漳河",
				     "清漳河", "涑水河", "滹沱河", "文峪河",
				     "昌源河", "潇河", "三川河", "昕水河"};
static const char *const reservoirs[] = {"汾河水库", "漳泽水库", "关河水库",
					 "册田水库", "文峪河水库", "晋阳湖",
					 "后湾水库", "张峰水库"};
static const char *const roads[] = {"G208", "G108", "G307", "G209", "G207",
				    "G309", "G241", "G337"};
static const char *const provroads[] = {"S226", "S315", "S223", "S317",
					"S331", "S210", "S303", "S227"};
static const char *const peaks[] = {"五台山北台顶", "恒山天峰岭", "太岳山",
				    "管涔山芦芽山", "中条山雪花山", "关帝山孝文山",
				    "云中山", "绵山", "方山", "系舟山"};
static const int peak_m[] = {3061, 2017, 2566, 2772, 1994, 2831,
			     2427, 2566, 1928, 2172};

/* A coordinate in micro-degrees, written with six decimals. */
static void coord(gx_buf_t *b, int64_t lon, int64_t lat)
{
	gx_buf_printf(b, "%lld.%06lld %lld.%06lld", (long long)(lon / 1000000),
		      (long long)(lon % 1000000), (long long)(lat / 1000000),
		      (long long)(lat % 1000000));
}

static void gen_geospatial(gen_t *g, rng_t *r, uint64_t index)
{
	gx_sample_t *s = g->s;
	const struct layer *ly = &layers[below(r, GX_ARRAY_SIZE(layers))];
	const struct county *k = pick_county(r);
	const struct city *c = city_of(k);
	put(g, "feature_id", "%s-%s-%010llu", k->code, ly->abbr,
	    (unsigned long long)index);
	put(g, "layer", "%s", ly->name);
	if (chance(r, 30))
		put_null(g, "feature_class"); /* not yet classified */
	else
		put(g, "feature_class", "%s", ly->cls);

	char name[128], attrs[256];
	int unnamed = 0;
	attrs[0] = '\0';
	if (!strcmp(ly->cls, "630200")) {
		county_full(k, name, sizeof(name));
		snprintf(attrs, sizeof(attrs),
			 "{\"行政级别\":\"县级\",\"面积_km2\":%lld.%lld}",
			 (long long)range(r, 200, 3000), (long long)range(r, 0, 9));
	} else if (!strcmp(ly->cls, "210101")) {
		snprintf(name, sizeof(name), "%s", PICK(r, rivers));
		snprintf(attrs, sizeof(attrs),
			 "{\"河流等级\":\"%s\",\"长度_km\":%lld}",
			 chance(r, 300) ? "干流" : "一级支流",
			 (long long)range(r, 20, 700));
	} else if (!strcmp(ly->cls, "230101")) {
		snprintf(name, sizeof(name), "%s", PICK(r, reservoirs));
		snprintf(attrs, sizeof(attrs), "{\"库容_万m3\":%lld}",
			 (long long)range(r, 500, 80000));
	} else if (!strcmp(ly->cls, "420101")) {
		const char *rd = PICK(r, roads);
		snprintf(name, sizeof(name), "%s国道%s段", rd, k->name);
		snprintf(attrs, sizeof(attrs),
			 "{\"道路等级\":\"国道\",\"编号\":\"%s\",\"车道数\":%d}",
			 rd, chance(r, 500) ? 4 : 2);
	} else if (!strcmp(ly->cls, "420201")) {
		const char *rd = PICK(r, provroads);
		snprintf(name, sizeof(name), "%s省道%s段", rd, k->name);
		snprintf(attrs, sizeof(attrs),
			 "{\"道路等级\":\"省道\",\"编号\":\"%s\",\"车道数\":2}",
			 rd);
	} else if (!strcmp(ly->cls, "310500")) {
		snprintf(name, sizeof(name), "%s", PICK(r, villages));
		unnamed = chance(r, 50);
		snprintf(attrs, sizeof(attrs), "{\"户数\":%lld,\"人口\":%lld}",
			 (long long)range(r, 40, 900), (long long)range(r, 120, 3200));
	} else {
		size_t p = below(r, GX_ARRAY_SIZE(peaks));
		snprintf(name, sizeof(name), "%s", peaks[p]);
		snprintf(attrs, sizeof(attrs), "{\"高程_m\":%d}", peak_m[p]);
	}
	if (unnamed)
		put_null(g, "name");
	else
		put(g, "name", "%s", name);
	put(g, "division_code", "%s", k->code);

	/* Geometry near the city's centre, inside Shanxi. */
	gx_buf_t w;
	gx_buf_init(&w);
	int64_t lon = c->lon_e6 + range(r, -250000, 250000);
	int64_t lat = c->lat_e6 + range(r, -250000, 250000);
	if (ly->geom == 'P') {
		gx_buf_printf(&w, "POINT (");
		coord(&w, lon, lat);
		gx_buf_putc(&w, ')');
	} else if (ly->geom == 'L') {
		int n = (int)range(r, 3, 8);
		gx_buf_printf(&w, "LINESTRING (");
		for (int i = 0; i < n; i++) {
			if (i)
				gx_buf_printf(&w, ", ");
			coord(&w, lon, lat);
			lon += range(r, -30000, 30000);
			lat += range(r, -30000, 30000);
		}
		gx_buf_putc(&w, ')');
	} else {
		/* Eight vertices around the centre, a radius each: star-shaped,
		 * so the ring never crosses itself. */
		static const int dir[8][2] = {{1000, 0},   {707, 707},
					      {0, 1000},   {-707, 707},
					      {-1000, 0},  {-707, -707},
					      {0, -1000},  {707, -707}};
		int64_t x0 = 0, y0 = 0;
		gx_buf_printf(&w, "POLYGON ((");
		for (int i = 0; i < 8; i++) {
			int64_t rad = range(r, 5000, 60000);
			int64_t x = lon + rad * dir[i][0] / 1000;
			int64_t y = lat + rad * dir[i][1] / 1000;
			if (!i) {
				x0 = x;
				y0 = y;
			}
			coord(&w, x, y);
			gx_buf_printf(&w, ", ");
		}
		coord(&w, x0, y0);
		gx_buf_printf(&w, "))");
	}
	put(g, "geometry", "%s", gx_buf_cstr(&w));
	gx_buf_free(&w);
	put(g, "crs", "%s", chance(r, 900) ? "CGCS2000" : "WGS84");
	if (chance(r, 150))
		put_null(g, "attributes");
	else
		put(g, "attributes", "%s", attrs);
	int64_t from = range(r, DAY(2012, 1, 1), s->today - 1);
	put_date(g, "valid_from", from);
	put_date_or_null(g, "valid_until",
			 term_end(from, (int)range(r, 1, 5)), !chance(r, 150));
}

/* ================= e-licences ================= */

struct licence_type {
	const char *name;
	const char *definer;	/* the department that defines the type */
	char definer_kind;	/* GB 32100 kind: '1' organ, '3' people's body */
	const char *num;	/* the 3 digits after its code */
	int person;		/* held by a citizen (else by an entity) */
	int years;		/* validity; 0: no end */
	const char *issuer;	/* issuing department, after the place */
	int issuer_city;	/* issued by the city (else the county) */
};

static const struct licence_type ltypes[] = {
    {"营业执照", "国家市场监督管理总局", '1', "001", 0, 0, "市场监督管理局", 0},
    {"食品经营许可证", "国家市场监督管理总局", '1', "012", 0, 5, "行政审批服务管理局", 0},
    {"排污许可证", "生态环境部", '1', "003", 0, 5, "生态环境局", 1},
    {"道路运输经营许可证", "交通运输部", '1', "007", 0, 4, "行政审批服务管理局", 1},
    {"建筑施工企业安全生产许可证", "住房和城乡建设部", '1', "005", 0, 3, NULL, 0},
    {"医师执业证书", "国家卫生健康委员会", '1', "021", 1, 0, "卫生健康委员会", 1},
    {"教师资格证书", "教育部", '1', "002", 1, 0, "教育局", 0},
    {"结婚证", "民政部", '1', "004", 1, 0, "民政局", 0},
    {"残疾人证", "中国残疾人联合会", '3', "001", 1, 10, "残疾人联合会", 0},
    {"机动车驾驶证", "公安部", '1', "009", 1, 6, "公安局交通警察支队", 1},
};

static void gen_e_licence(gen_t *g, rng_t *r, uint64_t index)
{
	gx_sample_t *s = g->s;
	const struct licence_type *t = &ltypes[below(r, GX_ARRAY_SIZE(ltypes))];
	char definer[19], type_code[22], issuer[128], issuer_code[19];
	char holder[19], holder_name[200];
	const struct county *k;

	/* The defining department's code, and the type code after it. */
	char body[9];
	fixed_body(t->definer, body);
	make_uscc(definer, '1', t->definer_kind, "100000", body);
	snprintf(type_code, sizeof(type_code), "%s%s", definer, t->num);

	if (t->person) {
		random_adult(r, s->today, holder, holder_name, sizeof(holder_name));
		k = pick_county(r);
	} else {
		struct entity e;
		make_entity(r, &e);
		memcpy(holder, e.uscc, sizeof(holder));
		snprintf(holder_name, sizeof(holder_name), "%s", e.name);
		k = e.k;
	}
	const struct city *c = city_of(k);
	if (!t->issuer)
		snprintf(issuer, sizeof(issuer), "山西省住房和城乡建设厅");
	else if (t->issuer_city)
		snprintf(issuer, sizeof(issuer), "%s%s", c->name, t->issuer);
	else
		snprintf(issuer, sizeof(issuer), "%s%s%s", c->name, k->name,
			 t->issuer);
	agency_uscc(issuer_code, !t->issuer ? "140000"
				 : t->issuer_city ? c->code : k->code,
		    issuer);

	int64_t issued = range(r, DAY(2015, 1, 1), s->today - 1);
	int year = year_of(issued);
	static const char *const versions[] = {"001", "002", "003"};
	static const unsigned vw[] = {900, 80, 20};
	const char *version = versions[weighted(r, vw, GX_ARRAY_SIZE(vw))];

	/* GB/T 36904: root.type.issuer.serial.version.check; the check
	 * covers type, issuer, serial and version without the dots. */
	char serial[32], body_chars[21 + 18 + 32 + 3 + 1];
	snprintf(serial, sizeof(serial), "%d%010llu", year,
		 (unsigned long long)(index % UINT64_C(10000000000)));
	snprintf(body_chars, sizeof(body_chars), "%s%s%s%s", type_code,
		 issuer_code, serial, version);
	char check = gx_iso7064_hybrid_check_char(GX_ISO7064_ALNUM, body_chars,
						  strlen(body_chars));
	put(g, "licence_id", "1.2.156.3005.2.%s.%s.%s.%s.%c", type_code,
	    issuer_code, serial, version, check);

	unsigned seq = (unsigned)range(r, 1, 999999);
	switch (t - ltypes) {
	case 0:
		put(g, "licence_no", "%s", holder);
		break;
	case 1:
		put(g, "licence_no", "JY1%s%06u%u", k->code, seq,
		    (unsigned)range(r, 0, 9));
		break;
	case 2:
		put(g, "licence_no", "%s001%c", holder, chance(r, 500) ? 'V' : 'P');
		break;
	case 3:
		put(g, "licence_no", "晋交运管许可%s字%s%06u号", c->abbr, k->code, seq);
		break;
	case 4:
		put(g, "licence_no", "（晋）JZ安许证字〔%d〕%06u", year, seq);
		break;
	case 5:
		put(g, "licence_no", "1101%s%06u", k->code, seq);
		break;
	case 6:
		put(g, "licence_no", "%d14%s%06u", year, k->code + 2, seq);
		break;
	case 7:
		put(g, "licence_no", "J%s-%d-%06u", k->code, year, seq);
		break;
	case 8:
		put(g, "licence_no", "%s%u%u", holder, (unsigned)range(r, 1, 7),
		    (unsigned)range(r, 1, 4));
		break;
	default:
		put(g, "licence_no", "%s", holder);
	}
	put(g, "licence_name", "%s", t->name);
	put(g, "licence_type_code", "%s", type_code);
	put(g, "holder_code", "%s", holder);
	put(g, "holder_code_type", "%s", t->person ? "111" : "001");
	put(g, "holder_name", "%s", holder_name);
	put(g, "issuing_department", "%s", issuer);
	put(g, "issuing_department_code", "%s", issuer_code);
	put_date(g, "issued_on", issued);
	put_date(g, "valid_from", issued);
	int64_t until = t->years ? term_end(issued, t->years) : 0;
	put_date_or_null(g, "valid_until", until, !t->years);
	const char *status = "VALID";
	if (t->years && until < s->today)
		status = "EXPIRED";
	else if (chance(r, 50)) {
		static const char *const ended[] = {"CANCELLED", "CANCELLED",
						    "REVOKED", "RESCINDED"};
		status = PICK(r, ended);
	}
	put(g, "status", "%s", status);
	if (chance(r, 250)) {
		/* A token document: an OFD file is a ZIP archive. */
		unsigned char doc[64];
		size_t n = (size_t)range(r, 24, 60);
		memcpy(doc, "PK\003\004", 4);
		for (size_t i = 4; i < n; i++)
			doc[i] = (unsigned char)below(r, 256);
		char b64[4 * sizeof(doc) / 3 + 8];
		EVP_EncodeBlock((unsigned char *)b64, doc, (int)n);
		put(g, "document_body", "%s", b64);
	} else {
		put_null(g, "document_body");
	}
}

/* ================= the common part ================= */

static const struct {
	const char *name;
	gen_fn fn;
} generators[] = {
    {"population", gen_population},	{"legal_entity", gen_legal_entity},
    {"public_credit", gen_public_credit}, {"macroeconomy", gen_macroeconomy},
    {"geospatial", gen_geospatial},	{"e_licence", gen_e_licence},
};

int gx_sample_supported(const char *name)
{
	for (size_t i = 0; i < GX_ARRAY_SIZE(generators); i++)
		if (!strcmp(generators[i].name, name))
			return 1;
	return 0;
}

uint64_t gx_sample_defect_total(const gx_sample_t *s)
{
	return s->defects_total;
}

void gx_sample_destroy(gx_sample_t *s)
{
	if (!s)
		return;
	gx_buf_free(&s->text);
	gx_buf_free(&s->last);
	free(s->off);
	free(s->last_off);
	free(s->vals);
	free(s->checks);
	free(s->required);
	free(s->dates);
	free(s);
}

/* Does the rule involve a check character we can spoil? */
static int has_check_char(const char *rule)
{
	return rule && (strstr(rule, "gb11643") || strstr(rule, "gb32100") ||
			!strcmp(rule, "licence_id"));
}

/* Generate row index's valid content into s->text / s->off. */
static gx_err_t generate(gx_sample_t *s, uint64_t index, char *errstr,
			 size_t errstr_size)
{
	const gx_library_t *lib = s->lib;
	uint64_t x = index ^ s->salt;
	rng_t r;
	rng_seed(&r, s->seed ^ splitmix64(&x));
	gx_buf_reset(&s->text);
	for (size_t i = 0; i < lib->nfields; i++)
		s->off[i] = UNSET;
	s->cursor = 0;
	s->bad_name = NULL;
	gen_t g = {s};
	s->gen(&g, &r, index);
	if (s->bad_name)
		return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
				 "sample %s: the schema has no field '%s'",
				 lib->name, s->bad_name);
	for (size_t i = 0; i < lib->nfields; i++)
		if (s->off[i] == UNSET && !lib->fields[i].nullable)
			return gx_seterr(errstr, errstr_size, GX_ERR_CONFIG,
					 "sample %s: no generator for the "
					 "required field '%s'",
					 lib->name, lib->fields[i].name);
	return GX_OK;
}

gx_err_t gx_sample_new(const gx_library_t *lib, uint64_t seed, uint64_t rows,
		       double defects, gx_sample_t **out, char *errstr,
		       size_t errstr_size)
{
	gen_fn fn = NULL;
	for (size_t i = 0; i < GX_ARRAY_SIZE(generators); i++)
		if (!strcmp(generators[i].name, lib->name))
			fn = generators[i].fn;
	if (!fn)
		return gx_seterr(errstr, errstr_size, GX_ERR_NOTFOUND,
				 "no sample generator for library '%s'",
				 lib->name);
	if (!(defects >= 0.0 && defects <= 1.0))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "defect share must be from 0 to 1");
	gx_sample_t *s = gx_calloc(1, sizeof(*s));
	s->lib = lib;
	s->gen = fn;
	s->seed = seed;
	s->rows = rows;
	/* Libraries differ for one seed: the salt is a hash of the name. */
	uint64_t h = UINT64_C(1469598103934665603);
	for (const unsigned char *p = (const unsigned char *)lib->name; *p; p++)
		h = (h ^ *p) * UINT64_C(1099511628211);
	s->salt = h;
	uint64_t ds = seed ^ UINT64_C(0x6A09E667F3BCC909);
	rng_seed(&s->drng, splitmix64(&ds));
	uint64_t pb = seed;
	s->perm_b = splitmix64(&pb) % pop_space();
	int32_t today;
	gx_parse_date(GX_SAMPLE_TODAY, &today);
	s->today = today;
	/* double, not long double: IEEE binary64 is the same everywhere. */
	double want = defects * (double)rows + 0.5;
	s->defects_total = want >= (double)rows ? rows : (uint64_t)want;
	s->defects_left = s->defects_total;

	size_t n = lib->nfields;
	gx_buf_init(&s->text);
	gx_buf_init(&s->last);
	s->off = gx_calloc(n, sizeof(size_t));
	s->last_off = gx_calloc(n, sizeof(size_t));
	s->vals = gx_calloc(n + 1, sizeof(char *));
	s->checks = gx_calloc(n, sizeof(size_t));
	s->required = gx_calloc(n, sizeof(size_t));
	s->dates = gx_calloc(n, sizeof(size_t));
	for (size_t i = 0; i < n; i++) {
		const gx_field_t *f = &lib->fields[i];
		if (!f->nullable)
			s->required[s->nrequired++] = i;
		if (f->type == GX_FT_STRING && has_check_char(f->check))
			s->checks[s->nchecks++] = i;
		if (f->logical == GX_LT_DATE)
			s->dates[s->ndates++] = i;
	}
	/* A first row proves the generator and the schema agree. */
	gx_err_t err = generate(s, 0, errstr, errstr_size);
	if (err) {
		gx_sample_destroy(s);
		return err;
	}
	*out = s;
	return GX_OK;
}

/* Replace field i's text with text. */
static void set_text(gx_sample_t *s, size_t i, const char *text)
{
	size_t n = strlen(text);
	gx_buf_reserve(&s->text, n + 1);
	memcpy(s->text.data + s->text.len, text, n + 1);
	s->off[i] = s->text.len;
	s->text.len += n + 1;
}

/* Change the check character (the last) so that the rule fails; the
 * replacement comes from the alphabet the check character is written in,
 * so it is the check, not the shape, that fails. */
static int spoil_check(gx_sample_t *s, size_t i)
{
	const gx_field_t *f = &s->lib->fields[i];
	char v[128], why[256];
	snprintf(v, sizeof(v), "%s", s->text.data + s->off[i]);
	size_t n = strlen(v);
	if (!n)
		return -1;
	const char *alpha;
	if (!gx_check_gb11643(v, why, sizeof(why)))
		alpha = "0123456789X";
	else if (!gx_check_gb32100(v, why, sizeof(why)))
		alpha = uscc_alpha;
	else
		alpha = GX_ISO7064_ALNUM;
	size_t na = strlen(alpha), start = below(&s->drng, na);
	for (size_t k = 0; k < na; k++) {
		char c = alpha[(start + k) % na];
		if (c == v[n - 1])
			continue;
		v[n - 1] = c;
		if (gx_check_text_rule(f->check, v, why, sizeof(why)) ==
		    GX_ERR_INVALID) {
			set_text(s, i, v);
			return 0;
		}
	}
	return -1;
}

/* A malformed form of a YYYY-MM-DD date. */
static void spoil_date(gx_sample_t *s, size_t i)
{
	const char *d = s->text.data + s->off[i];
	char bad[32];
	switch (below(&s->drng, 5)) {
	case 0: /* slashes */
		snprintf(bad, sizeof(bad), "%.4s/%.2s/%.2s", d, d + 5, d + 8);
		break;
	case 1: /* no separators */
		snprintf(bad, sizeof(bad), "%.4s%.2s%.2s", d, d + 5, d + 8);
		break;
	case 2: /* day first */
		snprintf(bad, sizeof(bad), "%.2s.%.2s.%.4s", d + 8, d + 5, d);
		break;
	case 3: /* no such day */
		snprintf(bad, sizeof(bad), "%.4s-02-30", d);
		break;
	default: /* no such month */
		snprintf(bad, sizeof(bad), "%.4s-13-%.2s", d, d + 8);
	}
	set_text(s, i, bad);
}

static void save_last(gx_sample_t *s, uint64_t index)
{
	gx_buf_reset(&s->last);
	gx_buf_append(&s->last, s->text.data, s->text.len);
	memcpy(s->last_off, s->off, s->lib->nfields * sizeof(size_t));
	s->have_last = 1;
	s->last_index = index;
}

/* Choose and apply a defect; returns the kind, *field the field. */
static gx_defect_t apply_defect(gx_sample_t *s, size_t *field)
{
	gx_defect_t avail[GX_DEFECT_KINDS];
	size_t na = 0, ndates = 0;
	size_t dates[64];
	for (size_t k = 0; k < s->ndates && ndates < 64; k++)
		if (s->off[s->dates[k]] != UNSET && s->off[s->dates[k]] != NULLED)
			dates[ndates++] = s->dates[k];
	if (s->nchecks)
		avail[na++] = GX_DEFECT_BAD_CHECK;
	if (s->nrequired)
		avail[na++] = GX_DEFECT_MISSING;
	if (ndates)
		avail[na++] = GX_DEFECT_BAD_DATE;
	if (s->have_last)
		avail[na++] = GX_DEFECT_DUPLICATE;
	if (!na)
		return GX_DEFECT_NONE;
	gx_defect_t d = avail[below(&s->drng, na)];
	switch (d) {
	case GX_DEFECT_BAD_CHECK:
		*field = s->checks[below(&s->drng, s->nchecks)];
		if (!spoil_check(s, *field))
			return d;
		/* No spoilable value (cannot happen for a valid row). */
		__attribute__((fallthrough));
	case GX_DEFECT_MISSING:
		*field = s->required[below(&s->drng, s->nrequired)];
		s->off[*field] = NULLED;
		return GX_DEFECT_MISSING;
	case GX_DEFECT_BAD_DATE:
		*field = dates[below(&s->drng, ndates)];
		spoil_date(s, *field);
		return d;
	default: /* duplicate: the last valid row, byte for byte */
		gx_buf_reset(&s->text);
		gx_buf_append(&s->text, s->last.data, s->last.len);
		memcpy(s->off, s->last_off, s->lib->nfields * sizeof(size_t));
		return d;
	}
}

gx_err_t gx_sample_next(gx_sample_t *s, gx_sample_row_t *row, char *errstr,
			size_t errstr_size)
{
	if (s->next >= s->rows)
		return GX_ERR_EOF;
	uint64_t index = s->next++;
	gx_err_t err = generate(s, index, errstr, errstr_size);
	if (err)
		return err;
	memset(row, 0, sizeof(*row));
	row->index = index;
	/* Selection sampling (Knuth's algorithm S): exactly defects_total of
	 * the rows, each subset equally likely. */
	if (s->defects_left &&
	    below(&s->drng, s->rows - index) < s->defects_left) {
		size_t field = 0;
		s->defects_left--;
		row->defect = apply_defect(s, &field);
		if (row->defect == GX_DEFECT_DUPLICATE)
			row->repeats = s->last_index;
		else if (row->defect != GX_DEFECT_NONE)
			row->field = s->lib->fields[field].name;
	}
	if (row->defect == GX_DEFECT_NONE)
		save_last(s, index);
	for (size_t i = 0; i < s->lib->nfields; i++)
		s->vals[i] = s->off[i] == UNSET || s->off[i] == NULLED
				 ? NULL
				 : s->text.data + s->off[i];
	row->values = s->vals;
	row->nvalues = s->lib->nfields;
	return GX_OK;
}
