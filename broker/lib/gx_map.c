/*
 * gx_map.c - string-keyed hash map with open addressing and backward-shift
 * deletion (no tombstones), FNV-1a hashing. The table stays at most 70% full.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gx.h"
#include "gx_map.h"

struct slot {
	char *key; /* NULL: empty */
	void *value;
	uint64_t hash;
};

struct gx_map {
	struct slot *slots;
	size_t cap; /* power of two */
	size_t count;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

gx_map_t *gx_map_new(void)
{
	gx_map_t *m = gx_calloc(1, sizeof(*m));
	m->cap = 16;
	m->slots = gx_calloc(m->cap, sizeof(*m->slots));
	return m;
}

void gx_map_destroy(gx_map_t *m, void (*free_value)(void *))
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key) {
			free(m->slots[i].key);
			if (free_value)
				free_value(m->slots[i].value);
		}
	free(m->slots);
	free(m);
}

static size_t find(const gx_map_t *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1, i = h & mask;
	while (m->slots[i].key) {
		if (m->slots[i].hash == h && !strcmp(m->slots[i].key, key))
			return i;
		i = (i + 1) & mask;
	}
	return i; /* the empty slot where key would go */
}

static void grow(gx_map_t *m)
{
	struct slot *old = m->slots;
	size_t oldcap = m->cap;
	m->cap *= 2;
	m->slots = gx_calloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key) {
			size_t j = old[i].hash & (m->cap - 1);
			while (m->slots[j].key)
				j = (j + 1) & (m->cap - 1);
			m->slots[j] = old[i];
		}
	free(old);
}

void *gx_map_get(const gx_map_t *m, const char *key)
{
	size_t i = find(m, key, fnv1a(key));
	return m->slots[i].key ? m->slots[i].value : NULL;
}

void *gx_map_put(gx_map_t *m, const char *key, void *value)
{
	uint64_t h = fnv1a(key);
	size_t i = find(m, key, h);
	if (m->slots[i].key) {
		void *prev = m->slots[i].value;
		m->slots[i].value = value;
		return prev;
	}
	if ((m->count + 1) * 10 > m->cap * 7) {
		grow(m);
		i = find(m, key, h);
	}
	m->slots[i].key = gx_strdup(key);
	m->slots[i].value = value;
	m->slots[i].hash = h;
	m->count++;
	return NULL;
}

void *gx_map_del(gx_map_t *m, const char *key)
{
	size_t mask = m->cap - 1, i = find(m, key, fnv1a(key));
	if (!m->slots[i].key)
		return NULL;
	void *value = m->slots[i].value;
	free(m->slots[i].key);
	m->slots[i].key = NULL;
	m->count--;
	/* Backward-shift: move later members of the probe run into the hole
	 * when their home slot is not between the hole and where they sit. */
	size_t hole = i, j = (i + 1) & mask;
	while (m->slots[j].key) {
		size_t home = m->slots[j].hash & mask;
		int move = hole <= j ? (home <= hole || home > j)
				     : (home <= hole && home > j);
		if (move) {
			m->slots[hole] = m->slots[j];
			m->slots[j].key = NULL;
			hole = j;
		}
		j = (j + 1) & mask;
	}
	return value;
}

size_t gx_map_count(const gx_map_t *m)
{
	return m->count;
}

int gx_map_next(const gx_map_t *m, size_t *it, const char **key, void **value)
{
	while (*it < m->cap) {
		struct slot *s = &m->slots[(*it)++];
		if (s->key) {
			if (key)
				*key = s->key;
			if (value)
				*value = s->value;
			return 1;
		}
	}
	return 0;
}
