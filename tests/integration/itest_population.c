/*
 * itest_population.c - population test data (see itest_population.h).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "itest.h"
#include "itest_population.h"

/* citizen_id and address conditional, marital_status not shared. */
static const char catalog_fmt[] =
    "[{\"item\": \"%s\", \"name\": \"人口基础信息\", \"library\": \"population\","
    "  \"provider\": \"SX-GA\", \"provider_name\": \"山西省公安厅\","
    "  \"update_period\": \"daily\", \"format\": \"avro\", \"fields\": ["
    "  {\"name\": \"citizen_id\", \"share\": \"conditional\","
    "   \"legal_basis\": \"《中华人民共和国居民身份证法》第十九条\"},"
    "  {\"name\": \"name\", \"share\": \"unconditional\"},"
    "  {\"name\": \"sex\", \"share\": \"unconditional\"},"
    "  {\"name\": \"ethnicity\", \"share\": \"unconditional\"},"
    "  {\"name\": \"birth_date\", \"share\": \"unconditional\"},"
    "  {\"name\": \"division_code\", \"share\": \"unconditional\"},"
    "  {\"name\": \"address\", \"share\": \"conditional\","
    "   \"legal_basis\": \"《个人信息保护法》第十三条\"},"
    "  {\"name\": \"marital_status\", \"share\": \"none\","
    "   \"legal_basis\": \"《婚姻登记条例》第二条\"},"
    "  {\"name\": \"education\", \"share\": \"unconditional\"},"
    "  {\"name\": \"status\", \"share\": \"unconditional\"},"
    "  {\"name\": \"updated_at\", \"share\": \"unconditional\"}]}]";

static const char *surnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"};
static const char *statuses[] = {"ALIVE", "DECEASED", "MOVED"};

void make_row(unsigned i, struct row *r)
{
	it_citizen_id(i, r->id);
	snprintf(r->name, sizeof(r->name), "%s测试%05u", surnames[i % 10], i);
	snprintf(r->sex, sizeof(r->sex), "%u", 1 + i % 2);
	snprintf(r->eth, sizeof(r->eth), "%02u", 1 + i % 56);
	snprintf(r->birth, sizeof(r->birth), "%.4s-%.2s-%.2s", r->id + 6,
		 r->id + 10, r->id + 12);
	snprintf(r->division, sizeof(r->division), "140105");
	/* Commas, quotes and, every 97th row, a newline inside the address. */
	snprintf(r->address, sizeof(r->address),
		 "山西省太原市小店区\"平阳路\"%u号,%u单元%s%u室", i % 300, i % 9,
		 i % 97 == 0 ? "\r\n" : "", i % 40);
	if (i % 5)
		snprintf(r->marital, sizeof(r->marital), "%s", i % 2 ? "10" : "20");
	else
		r->marital[0] = '\0';
	if (i % 7)
		snprintf(r->education, sizeof(r->education), "%02u", 10 + i % 80);
	else
		r->education[0] = '\0';
	r->status = statuses[i % 3];
	snprintf(r->updated, sizeof(r->updated), "2024-%02u-%02uT%02u:%02u:%02u.000Z",
		 1 + i % 12, 1 + i % 28, i % 24, i % 60, (i / 60) % 60);
}

/* CSV field quoting per RFC 4180. */
static void put_field(gx_buf_t *b, const char *s, int last)
{
	gx_buf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			gx_buf_putc(b, '"');
		gx_buf_putc(b, *s);
	}
	gx_buf_putc(b, '"');
	gx_buf_append(b, last ? "\r\n" : ",", last ? 2 : 1);
}

void it_population_csv(const char *path, unsigned first, unsigned n)
{
	gx_buf_t b;
	gx_buf_init(&b);
	gx_buf_append(&b, "\xEF\xBB\xBF", 3);
	gx_buf_printf(&b, "citizen_id,name,sex,ethnicity,birth_date,division_code,"
			  "address,marital_status,education,status,updated_at\r\n");
	for (unsigned i = first; i < first + n; i++) {
		struct row r;
		make_row(i, &r);
		gx_buf_printf(&b, "%s,%s,%s,%s,%s,%s,", r.id, r.name, r.sex, r.eth,
			      r.birth, r.division);
		put_field(&b, r.address, 0);
		gx_buf_printf(&b, "%s,%s,%s,%s\r\n", r.marital, r.education,
			      r.status, r.updated);
	}
	it_write(path, b.data, b.len);
	gx_buf_free(&b);
}

const char *it_population_catalog(const char *item)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), catalog_fmt, item);
	return buf;
}

unsigned it_row_index(const char *name)
{
	size_t n = strlen(name);
	return n >= 5 ? (unsigned)atoi(name + n - 5) : 0;
}

/* (itest_population.h) */
void it_expect_fields(json_t *rec, const char *const *want, size_t nwant)
{
	static const char *all[] = {"citizen_id", "name", "sex", "ethnicity",
				    "birth_date", "division_code", "address",
				    "marital_status", "education", "status", "updated_at"};
	const char *name = json_string_value(json_object_get(rec, "name"));
	unsigned idx = name ? it_row_index(name) : 0;
	struct row r;
	make_row(idx, &r);
	json_t *withheld = json_object_get(json_object_get(rec, "_provenance"), "withheld");
	for (size_t i = 0; i < GX_ARRAY_SIZE(all); i++) {
		int granted = 0;
		for (size_t j = 0; j < nwant; j++)
			if (!strcmp(all[i], want[j]))
				granted = 1;
		json_t *v = json_object_get(rec, all[i]);
		int listed = 0;
		size_t k;
		json_t *w;
		json_array_foreach(withheld, k, w) {
			if (!strcmp(json_string_value(w), all[i]))
				listed = 1;
		}
		if (granted) {
			cr_expect(json_is_string(v), "%s should be released", all[i]);
			cr_expect(!listed, "%s released but named withheld", all[i]);
		} else {
			cr_expect(json_is_null(v), "%s should be withheld, got %s", all[i],
				  json_is_string(v) ? json_string_value(v) : "?");
			cr_expect(listed, "%s withheld but not named in provenance", all[i]);
		}
	}
	/* Released values are the source's. */
	if (json_is_string(json_object_get(rec, "citizen_id")))
		cr_expect_str_eq(json_string_value(json_object_get(rec, "citizen_id")), r.id);
}
