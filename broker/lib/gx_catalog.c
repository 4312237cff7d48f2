/*
 * gx_catalog.c - catalogue items: parsing, checking and the in-memory
 * catalogue the broker and govexctl materialise from govex.catalog.
 */
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_catalog.h"
#include "gx_kafka.h"
#include "gx_map.h"

struct gx_catalog {
	const gx_schemas_t *schemas;
	gx_map_t *items;
};

static const char *share_names[] = {"unconditional", "conditional", "none"};

const char *gx_share_name(gx_share_t s)
{
	return (size_t)s < GX_ARRAY_SIZE(share_names) ? share_names[s] : "?";
}

gx_err_t gx_share_parse(const char *s, gx_share_t *out)
{
	/* The catalogue guide's Chinese terms are accepted as staff write them. */
	static const char *zh[] = {"无条件共享", "有条件共享", "不予共享"};
	for (size_t i = 0; i < GX_ARRAY_SIZE(share_names); i++)
		if (!strcmp(s, share_names[i]) || !strcmp(s, zh[i])) {
			*out = (gx_share_t)i;
			return GX_OK;
		}
	return GX_ERR_INVALID;
}

static char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? gx_strdup(s) : NULL;
}

void gx_cat_item_destroy(gx_cat_item_t *item)
{
	if (!item)
		return;
	if (item->fields && item->lib)
		for (size_t i = 0; i < item->lib->nfields; i++) {
			free(item->fields[i].name);
			free(item->fields[i].legal_basis);
			free(item->fields[i].open);
		}
	free(item->fields);
	free(item->id);
	free(item->name);
	free(item->library);
	free(item->provider);
	free(item->update_period);
	json_decref(item->json);
	free(item);
}

gx_err_t gx_cat_item_from_json(json_t *j, const gx_schemas_t *schemas,
			       gx_cat_item_t **out, char *errstr,
			       size_t errstr_size)
{
	gx_err_t err = GX_OK;
	if (!json_is_object(j))
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "catalogue item must be a JSON object");
	gx_cat_item_t *it = gx_calloc(1, sizeof(*it));
	it->id = jstr(j, "item");
	it->name = jstr(j, "name");
	it->library = jstr(j, "library");
	it->provider = jstr(j, "provider");
	it->update_period = jstr(j, "update_period");
	const char *id = it->id ? it->id : "?";
	if (!it->id || !*it->id) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				"catalogue item: \"item\" (the item id) is required");
		goto out;
	}
	if ((err = gx_check_code("item id", it->id, errstr, errstr_size)))
		goto out;
	if (!it->provider || !*it->provider) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				"item %s: \"provider\" is required", id);
		goto out;
	}
	if ((err = gx_check_code("provider", it->provider, errstr, errstr_size)))
		goto out;
	if (!it->library || !(it->lib = gx_schemas_library(schemas, it->library))) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				"item %s: unknown library '%s'", id,
				it->library ? it->library : "");
		goto out;
	}
	it->fields = gx_calloc(it->lib->nfields, sizeof(gx_cat_field_t));
	for (size_t i = 0; i < it->lib->nfields; i++) {
		it->fields[i].share = GX_SHARE_NONE;
		it->fields[i].name = gx_strdup(it->lib->fields[i].name);
	}
	json_t *fields = json_object_get(j, "fields");
	if (!json_is_array(fields) || !json_array_size(fields)) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				"item %s: \"fields\" must be a non-empty array",
				id);
		goto out;
	}
	size_t i;
	json_t *jf;
	unsigned char *seen = gx_calloc(it->lib->nfields, 1);
	json_array_foreach(fields, i, jf) {
		const char *name = json_string_value(json_object_get(jf, "name"));
		const char *share = json_string_value(json_object_get(jf, "share"));
		const char *basis =
		    json_string_value(json_object_get(jf, "legal_basis"));
		const gx_field_t *lf = name ? gx_library_field(it->lib, name) : NULL;
		gx_share_t sh;
		if (!lf) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"item %s: field %zu: library %s has no "
					"field '%s'",
					id, i + 1, it->library, name ? name : "");
			break;
		}
		if (seen[lf->index]++) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"item %s: field %s listed twice", id, name);
			break;
		}
		if (!share || gx_share_parse(share, &sh)) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"item %s: field %s: share must be "
					"unconditional, conditional or none",
					id, name);
			break;
		}
		if (sh != GX_SHARE_UNCONDITIONAL && (!basis || !*basis)) {
			err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
					"item %s: field %s: a %s field needs a "
					"legal_basis (art. 12)",
					id, name, gx_share_name(sh));
			break;
		}
		gx_cat_field_t *cf = &it->fields[lf->index];
		cf->share = sh;
		cf->legal_basis = basis ? gx_strdup(basis) : NULL;
		cf->open = jstr(jf, "open");
	}
	free(seen);
out:
	if (err) {
		gx_cat_item_destroy(it);
		return err;
	}
	it->json = json_incref(j);
	*out = it;
	return GX_OK;
}

const gx_cat_field_t *gx_cat_item_field(const gx_cat_item_t *item,
					const char *name)
{
	const gx_field_t *lf = gx_library_field(item->lib, name);
	return lf ? &item->fields[lf->index] : NULL;
}

gx_catalog_t *gx_catalog_new(const gx_schemas_t *schemas)
{
	gx_catalog_t *cat = gx_calloc(1, sizeof(*cat));
	cat->schemas = schemas;
	cat->items = gx_map_new();
	return cat;
}

static void item_free(void *p)
{
	gx_cat_item_destroy(p);
}

void gx_catalog_destroy(gx_catalog_t *cat)
{
	if (!cat)
		return;
	gx_map_destroy(cat->items, item_free);
	free(cat);
}

gx_err_t gx_catalog_apply(gx_catalog_t *cat, const char *key,
			  const void *value, size_t len, int64_t offset,
			  char *errstr, size_t errstr_size)
{
	if (!value) {
		gx_cat_item_destroy(gx_map_del(cat->items, key));
		return GX_OK;
	}
	json_error_t jerr;
	json_t *j = json_loadb(value, len, 0, &jerr);
	if (!j) {
		gx_cat_item_destroy(gx_map_del(cat->items, key));
		return gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				 "catalogue item %s: not JSON: %s", key,
				 jerr.text);
	}
	gx_cat_item_t *it;
	gx_err_t err = gx_cat_item_from_json(j, cat->schemas, &it, errstr,
					     errstr_size);
	json_decref(j);
	if (!err && strcmp(it->id, key)) {
		err = gx_seterr(errstr, errstr_size, GX_ERR_INVALID,
				"catalogue message key %s names item %s", key,
				it->id);
		gx_cat_item_destroy(it);
	}
	if (err) {
		gx_cat_item_destroy(gx_map_del(cat->items, key));
		return err;
	}
	it->offset = offset;
	gx_cat_item_destroy(gx_map_put(cat->items, key, it));
	return GX_OK;
}

const gx_cat_item_t *gx_catalog_get(const gx_catalog_t *cat, const char *id)
{
	return gx_map_get(cat->items, id);
}

size_t gx_catalog_count(const gx_catalog_t *cat)
{
	return gx_map_count(cat->items);
}

const gx_cat_item_t *gx_catalog_next(const gx_catalog_t *cat, size_t *it)
{
	void *v;
	return gx_map_next(cat->items, it, NULL, &v) ? v : NULL;
}
