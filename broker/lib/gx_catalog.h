/*
 * gx_catalog.h - the data catalogue (art. 8, 12): items, their fields'
 * sharing classes and legal bases, materialised from govex.catalog.
 *
 * An item is JSON on the compacted govex.catalog topic, keyed by item id:
 *   {"item": "140000-GA-0001", "name": "人口基础信息", "library": "population",
 *    "provider": "SX-GA", "provider_name": "省公安厅", "update_period": "daily",
 *    "format": "avro", "fields": [
 *      {"name": "citizen_id", "share": "conditional",
 *       "legal_basis": "《居民身份证法》第十九条", "open": "closed"}, ...]}
 * A `conditional` or `none` field needs a legal basis; the catalogue refuses
 * it without one. A library field the item does not list is `none`.
 */
#ifndef GX_CATALOG_H
#define GX_CATALOG_H

#include <jansson.h>
#include <stdint.h>

#include "gx.h"
#include "gx_schema.h"

typedef enum {
	GX_SHARE_UNCONDITIONAL,	/* 无条件共享 */
	GX_SHARE_CONDITIONAL,	/* 有条件共享 */
	GX_SHARE_NONE		/* 不予共享 */
} gx_share_t;

typedef struct gx_cat_field {
	char *name;
	gx_share_t share;
	char *legal_basis;	/* required unless unconditional */
	char *open;		/* open rule: open / masked / closed */
} gx_cat_field_t;

typedef struct gx_cat_item {
	char *id;
	char *name;
	char *library;
	char *provider;
	char *update_period;
	const gx_library_t *lib;	/* resolved library */
	gx_cat_field_t *fields;		/* parallel to lib->fields, by index */
	json_t *json;			/* the item as published */
	int64_t offset;			/* govex.catalog offset it came from */
} gx_cat_item_t;

typedef struct gx_catalog gx_catalog_t;

const char *gx_share_name(gx_share_t s);
gx_err_t gx_share_parse(const char *s, gx_share_t *out);

/* Parse and check one item. Errors name the item and field at fault. */
gx_err_t gx_cat_item_from_json(json_t *j, const gx_schemas_t *schemas,
			       gx_cat_item_t **out, char *errstr,
			       size_t errstr_size);
void gx_cat_item_destroy(gx_cat_item_t *item);
/* The catalogue field for a library field index. */
const gx_cat_field_t *gx_cat_item_field(const gx_cat_item_t *item,
					const char *name);

gx_catalog_t *gx_catalog_new(const gx_schemas_t *schemas);
void gx_catalog_destroy(gx_catalog_t *cat);
/*
 * Apply one govex.catalog message: value NULL (a tombstone) removes the
 * item; otherwise the item replaces any earlier version. A malformed item
 * is refused with errstr, and the earlier version (if any) is removed, so
 * that nothing is released under a catalogue entry nobody can read.
 */
gx_err_t gx_catalog_apply(gx_catalog_t *cat, const char *key,
			  const void *value, size_t len, int64_t offset,
			  char *errstr, size_t errstr_size);
const gx_cat_item_t *gx_catalog_get(const gx_catalog_t *cat, const char *id);
size_t gx_catalog_count(const gx_catalog_t *cat);
/* Iterate items: for (size_t it = 0; (item = gx_catalog_next(cat, &it));) */
const gx_cat_item_t *gx_catalog_next(const gx_catalog_t *cat, size_t *it);

#endif /* GX_CATALOG_H */
