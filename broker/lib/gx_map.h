/*
 * gx_map.h - a string-keyed hash map (open addressing, linear probing).
 *
 * Used for every in-memory index the broker keeps (catalogue items by id,
 * grants by id, grants by item) so lookups cost the same with ten entries
 * or a hundred thousand. Keys are copied; values are the caller's.
 */
#ifndef GX_MAP_H
#define GX_MAP_H

#include <stddef.h>

typedef struct gx_map gx_map_t;

gx_map_t *gx_map_new(void);
/* Destroy the map; free_value (may be NULL) is called on every value. */
void gx_map_destroy(gx_map_t *m, void (*free_value)(void *));
/* The value for key, or NULL. */
void *gx_map_get(const gx_map_t *m, const char *key);
/* Insert or replace; returns the previous value (or NULL). */
void *gx_map_put(gx_map_t *m, const char *key, void *value);
/* Remove key; returns its value (or NULL). */
void *gx_map_del(gx_map_t *m, const char *key);
size_t gx_map_count(const gx_map_t *m);

/* Iterate: for (size_t it = 0; gx_map_next(m, &it, &k, &v);) ... */
int gx_map_next(const gx_map_t *m, size_t *it, const char **key, void **value);

#endif /* GX_MAP_H */
