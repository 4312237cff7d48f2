/*
 * gx_catalog_csv.h - the catalogue in the spreadsheet form catalogue staff
 * keep (issue 3, art. 8): one row per information item (信息项, a library
 * field), the columns of the national catalogue guide (2017
 * 《政务信息资源目录编制指南（试行）》), Chinese headers as staff write them
 * or English ones:
 *
 *   信息资源代码 item          the item id (resource code), see below
 *   信息资源名称 name          信息资源分类 classification ("1-01-001-01",
 *                              or the columns 类 项 目 细目 / class
 *                              subclass group subgroup)
 *   信息资源提供方 provider_name   提供方代码 provider
 *   所属基础库 library (population ... or 人口库, 法人单位基础信息库, ...)
 *   摘要 abstract   格式 format   共享方式 share_method
 *   更新周期 update_period (实时 每日 每周 每月 每季度 每半年 每年, or
 *                           realtime daily weekly monthly quarterly
 *                           half-yearly yearly)
 *   发布日期 release_date (YYYY-MM-DD, YYYY/M/D, YYYY年M月D日)
 *   关联资源代码 related (item ids separated by , ; 、 or spaces)
 *   -- per field --
 *   信息项名称 field (the schema name, or its Chinese name from the
 *                     schema's doc: 公民身份号码 for citizen_id)
 *   数据类型 data_type (C N Y D T L M G B I F W, the usual letters of
 *                       字符型 数值型 货币型 日期型 日期时间型 逻辑型 备注型
 *                       通用型 双精度型 整型 浮点型 二进制型, or the names)
 *   数据长度 length ("18" or "18,2")
 *   共享类型 share (无条件共享 有条件共享 不予共享, or unconditional
 *                   conditional none)
 *   共享条件 legal_basis, 不予共享理由 refusal_reason (the legal basis a
 *                   conditional or not-shared field needs)
 *   是否向社会开放 open (是 否 脱敏, or open closed masked)
 *   开放条件 open_condition
 * Columns 序号/no and 备注/note are ignored; any other unknown header is
 * refused. A trailing '*' and a parenthesised remark in a header are
 * dropped ("信息项名称（英文）*").
 *
 * Rows of one item are adjacent; an empty item code continues the item
 * above (as merged cells export). Item-level columns may be given on the
 * item's first row only or repeated; a repeated value must be the same.
 *
 * The item id (信息资源代码): the guide's code is a front part (前段码, the
 * classification) and a back part (后段码, a sequence number) joined by
 * '/'. An item id travels as a Kafka key and inside adapter ids, where '/'
 * has a meaning, so govex writes the code as
 *     DIVISION-DEPARTMENT-RESOURCE-SEQUENCE       e.g. 140000-GA-RK-0001
 * the front part naming where (a GB/T 2260 division code), who (2 to 10
 * capital letters, the department's abbreviation: GA 公安) and what (2 to
 * 10 capital letters, the resource's: RK 人口), the back part the sequence
 * (4 to 6 digits).
 */
#ifndef GX_CATALOG_CSV_H
#define GX_CATALOG_CSV_H

#include <jansson.h>
#include <stdio.h>

#include "gx.h"
#include "gx_schema.h"

/*
 * Read a catalogue CSV from fp (name is used in messages) into *items, a
 * new JSON array of catalogue items as gx_cat_item_from_json reads them
 * (plus the guide's metadata keys: classification, abstract, format,
 * share_method, release_date, related; per field data_type, length,
 * open_condition), each checked with gx_cat_item_from_json. On failure
 * nothing is returned and errstr is "NAME:LINE: why" (GX_ERR_INVALID), or
 * says what could not be read (GX_ERR_IO).
 */
gx_err_t gx_catalog_csv_read(FILE *fp, const char *name,
			     const gx_schemas_t *schemas, json_t **items,
			     char *errstr, size_t errstr_size);

/* Check an item id against the shape above. */
gx_err_t gx_check_resource_code(const char *code, char *errstr,
				size_t errstr_size);

/* The update period's English name for its Chinese or English name, or
 * NULL if it is none of them. */
const char *gx_update_period_name(const char *s);

#endif /* GX_CATALOG_CSV_H */
