/* dynsym.c: name lookups in the loaded objects' dynamic symbol tables
 * (dynsym.h), through each object's GNU hash table as the loader mapped it.
 * Everything runs inside dl_iterate_phdr, which keeps the objects loaded
 * while we read them.  An object without a GNU hash table, or whose dynamic
 * section does not point into its own segments, makes the answer "ask the
 * loader" instead. */
#include "space/dynsym.h"
#include <stdint.h>
#include <string.h>

struct table {
	uintptr_t bias;
	const uint32_t *gnu;
	const ElfW(Sym) *sym;
	const char *str;
	size_t strsz;
};

static int in_load(const struct dl_phdr_info *info, uintptr_t a)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && a - (info->dlpi_addr + ph->p_vaddr) < ph->p_memsz)
			return 1;
	}
	return 0;
}

/* An address from the dynamic section: the loader relocates it in place on
 * most targets, but not in the vdso nor where .dynamic is read-only, so the
 * reading that lies in the object's own segments is the right one. */
static uintptr_t dyn_addr(const struct dl_phdr_info *info, uintptr_t v)
{
	if (in_load(info, v))
		return v;
	return in_load(info, v + info->dlpi_addr) ? v + info->dlpi_addr : 0;
}

static int table_of(const struct dl_phdr_info *info, struct table *t)
{
	const ElfW(Dyn) *d = NULL;
	memset(t, 0, sizeof *t);
	t->bias = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			d = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	for (; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_GNU_HASH)
			t->gnu = (const uint32_t *)dyn_addr(info, d->d_un.d_ptr);
		else if (d->d_tag == DT_SYMTAB)
			t->sym = (const ElfW(Sym) *)dyn_addr(info, d->d_un.d_ptr);
		else if (d->d_tag == DT_STRTAB)
			t->str = (const char *)dyn_addr(info, d->d_un.d_ptr);
		else if (d->d_tag == DT_STRSZ)
			t->strsz = d->d_un.d_val;
	}
	/* The bloom filter's size must be a power of two (its index is masked). */
	return t->gnu && t->sym && t->str && t->strsz && t->gnu[0] && t->gnu[2] && !(t->gnu[2] & (t->gnu[2] - 1));
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

/* The first hashed symbol named name (of hash h, length len) that
 * satisfies ok, or NULL.  The bloom filter rules most names out at once. */
static const ElfW(Sym) *find(const struct table *t, const char *name, size_t len, uint32_t h,
                             int (*ok)(const struct table *, const ElfW(Sym) *, uintptr_t), uintptr_t arg)
{
	const unsigned bits = sizeof(ElfW(Addr)) * 8;
	uint32_t nbuckets = t->gnu[0], symoffset = t->gnu[1], nbloom = t->gnu[2], shift = t->gnu[3];
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(t->gnu + 4);
	const uint32_t *buckets = (const uint32_t *)(bloom + nbloom), *chain = buckets + nbuckets;
	ElfW(Addr) word = bloom[(h / bits) & (nbloom - 1)];
	if (!((word >> (h % bits)) & (word >> ((h >> shift) % bits)) & 1))
		return NULL;
	for (uint32_t i = buckets[h % nbuckets]; i >= symoffset; i++) {
		uint32_t ch = chain[i - symoffset];
		const ElfW(Sym) *s = &t->sym[i];
		if ((ch | 1) == (h | 1) && s->st_name < t->strsz && len < t->strsz - s->st_name &&
		    !memcmp(t->str + s->st_name, name, len + 1) && ok(t, s, arg))
			return s;
		if (ch & 1)
			break;
	}
	return NULL;
}

static int any(const struct table *t, const ElfW(Sym) *s, uintptr_t arg)
{
	(void)t, (void)s, (void)arg;
	return 1;
}

struct absent { const char *const *names; int n; int unknown; uint32_t hash[64]; size_t len[64]; unsigned char *absent; };

static int absent_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct absent *a = arg;
	struct table t;
	(void)size;
	if (!table_of(info, &t)) {
		a->unknown = 1;
		return 1;
	}
	for (int k = 0; k < a->n; k++)
		if (a->absent[k] && find(&t, a->names[k], a->len[k], a->hash[k], any, 0))
			a->absent[k] = 0;
	return 0;
}

void memlens__dynsym_absent(const char *const *names, int n, unsigned char *absent)
{
	struct absent a = { names, n < 64 ? n : 64, 0, { 0 }, { 0 }, absent };
	for (int k = 0; k < n; k++)
		absent[k] = k < a.n;
	for (int k = 0; k < a.n; k++) {
		a.hash[k] = gnu_hash(names[k]);
		a.len[k] = strlen(names[k]);
	}
	dl_iterate_phdr(absent_cb, &a);
	if (a.unknown)
		memset(absent, 0, (size_t)n);
}

/* dladdr's own test: a symbol it would report at this address (not TLS,
 * not absolute, the address its value). */
static int at_addr(const struct table *t, const ElfW(Sym) *s, uintptr_t addr)
{
	return ELF64_ST_TYPE(s->st_info) != STT_TLS && s->st_shndx != SHN_ABS && s->st_value &&
	       s->st_value + t->bias == addr;
}

struct at { uintptr_t addr; const char *name; const ElfW(Sym) *sym; };

static int at_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct at *q = arg;
	struct table t;
	(void)size;
	if (!in_load(info, q->addr))
		return 0;
	if (table_of(info, &t))
		q->sym = find(&t, q->name, strlen(q->name), gnu_hash(q->name), at_addr, q->addr);
	return 1;
}

int memlens__dynsym_at(const void *addr, const char *name, const ElfW(Sym) **sym)
{
	struct at q = { (uintptr_t)addr, name, NULL };
	if (!addr)
		return 0;
	dl_iterate_phdr(at_cb, &q);
	*sym = q.sym;
	return q.sym != NULL;
}
