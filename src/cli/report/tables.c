/* tables.c: the exporters' hash tables (tables.h), open addressing with
 * linear probing, grown at half full. */
#include "tables.h"
#include "cli/xalloc.h"

#include <stdlib.h>
#include <string.h>

uint64_t hash_mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return hash_mix(h);
}

uint32_t st_index(struct strtab *t, const char *s)
{
	if (t->n * 2 >= t->nslots) {
		size_t ns = t->nslots ? t->nslots * 2 : 256;
		uint32_t *sl = xcalloc(ns, sizeof *sl);
		for (size_t i = 0; i < t->n; i++) {
			size_t j = hash_bytes(t->strs[i]) & (ns - 1);
			while (sl[j])
				j = (j + 1) & (ns - 1);
			sl[j] = (uint32_t)i + 1;
		}
		free(t->slots);
		t->slots = sl;
		t->nslots = ns;
	}
	size_t j = hash_bytes(s) & (t->nslots - 1);
	while (t->slots[j]) {
		if (!strcmp(t->strs[t->slots[j] - 1], s))
			return t->slots[j] - 1;
		j = (j + 1) & (t->nslots - 1);
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->strs = xrealloc(t->strs, t->cap * sizeof *t->strs);
	}
	size_t l = strlen(s) + 1;
	t->strs[t->n] = memcpy(xmalloc(l), s, l);
	t->slots[j] = (uint32_t)++t->n;
	return (uint32_t)t->n - 1;
}

void st_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->strs[i]);
	free(t->strs);
	free(t->slots);
}

struct kent *km_slot(struct kmap *m, uint64_t a, uint64_t b, uint64_t c, int *found)
{
	if (m->n * 2 >= m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 1024;
		struct kent *ne = xcalloc(nc, sizeof *ne);
		for (size_t i = 0; i < m->cap; i++)
			if (m->e[i].used) {
				size_t j = hash_mix(m->e[i].k[0] ^ hash_mix(m->e[i].k[1] ^ hash_mix(m->e[i].k[2]))) & (nc - 1);
				while (ne[j].used)
					j = (j + 1) & (nc - 1);
				ne[j] = m->e[i];
			}
		free(m->e);
		m->e = ne;
		m->cap = nc;
	}
	size_t j = hash_mix(a ^ hash_mix(b ^ hash_mix(c))) & (m->cap - 1);
	while (m->e[j].used) {
		if (m->e[j].k[0] == a && m->e[j].k[1] == b && m->e[j].k[2] == c) {
			*found = 1;
			return &m->e[j];
		}
		j = (j + 1) & (m->cap - 1);
	}
	*found = 0;
	m->e[j].used = 1;
	m->e[j].k[0] = a;
	m->e[j].k[1] = b;
	m->e[j].k[2] = c;
	m->n++;
	return &m->e[j];
}

