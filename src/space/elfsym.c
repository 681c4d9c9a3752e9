/* elfsym.c: one ELF object's symbols and sections (elfsym.h), copied out of
 * its file into a single memlens__map'd block and sorted for lookups.  Only
 * raw syscalls and our own memory: this runs inside malloc hooks and signal
 * handlers.  Every offset read from the file is checked against its size, so
 * a truncated or corrupt file gives NULL or a partial table, never a crash. */
#include "space/elfsym.h"
#include "base/prim.h"
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define ML_EM EM_X86_64
#elif defined(__aarch64__)
#define ML_EM EM_AARCH64
#elif defined(__riscv)
#define ML_EM EM_RISCV
#else
#error "elfsym.c: no e_machine for this architecture"
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ML_ELFDATA ELFDATA2LSB
#else
#define ML_ELFDATA ELFDATA2MSB
#endif

struct ent { uint64_t base, size; uint32_t name; uint8_t rank, is_func, in_sec; /* in_sec: distinct slots' only */ };
struct sec { uint64_t base, size; uint32_t name; };

struct ml_symtab {
	size_t map_len;
	uint32_t nent, ndist, nsec;
	struct ent *ent;   /* every kept symbol (aliases too), file order */
	struct sec *sec;   /* by base */
	uintptr_t *base;   /* per addr[] slot: its base, densely, for the binary search */
	uint32_t *addr;    /* ent indices of the distinct symbols, by base, then size descending */
	int32_t *parent;   /* per addr[] slot: the nearest earlier slot containing its base, or -1 */
	uint32_t *byname;  /* ent indices by name, then alias rank */
	char *pool;        /* the kept names, NUL-terminated */
	/* Page directory over [page_lo, page_lo + npages * 4096): page k's
	 * slots start at page_first[k], so a lookup searches only its page. */
	uintptr_t page_lo;
	size_t npages, pages_len;
	uint32_t *page_first;
};

/* The parsed view of a mapped file or image. */
struct elf {
	const unsigned char *m;
	const Elf64_Shdr *sh;
	const Elf64_Sym *sym;
	const char *str, *shstr;
	size_t size, shnum, nsym, strsz, shstrsz;
};

static int in_file(uint64_t off, uint64_t len, size_t size) { return off <= size && len <= size - off; }

/* The regular file at path mapped read-only, or NULL.  O_NONBLOCK: a FIFO
 * must not hang us (fstat then rejects it). */
static const unsigned char *map_file(const char *path, size_t *size)
{
	struct stat st;
	long fd = ML_SYS(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0, 0, 0), m = -1;
	if (fd < 0)
		return NULL;
	if (ML_SYS(SYS_fstat, fd, &st, 0, 0, 0, 0) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size >= (off_t)sizeof(Elf64_Ehdr))
		m = ML_SYS(SYS_mmap, 0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	memlens__close((int)fd);
	if ((unsigned long)m >= -4096UL)
		return NULL;
	*size = (size_t)st.st_size;
	return (const unsigned char *)m;
}

/* An in-memory image (the vdso) has no file size: take the extent its
 * headers claim, and make sure with mincore that all of it is mapped, so a
 * bad pointer or header gives NULL rather than a fault. */
static const unsigned char *image_span(const void *image, size_t *size)
{
	const Elf64_Ehdr *eh = image;
	unsigned char vec[256];
	uint64_t end = sizeof *eh;
	uintptr_t lo = (uintptr_t)image & ~(uintptr_t)4095;
	if (!image || ((uintptr_t)image & 7) || ML_SYS(SYS_mincore, lo, (uintptr_t)image - lo + end, vec, 0, 0, 0) != 0 ||
	    memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_shoff > (1u << 20) || eh->e_phoff > (1u << 20))
		return NULL;
	if (eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize > end)
		end = eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize;
	if (eh->e_phoff + (uint64_t)eh->e_phnum * eh->e_phentsize > end)
		end = eh->e_phoff + (uint64_t)eh->e_phnum * eh->e_phentsize;
	if ((uintptr_t)image - lo + end > sizeof vec * 4096 ||
	    ML_SYS(SYS_mincore, lo, (uintptr_t)image - lo + end, vec, 0, 0, 0) != 0)
		return NULL;
	*size = (size_t)end;
	return image;
}

/* The NUL-terminated string at off of the table s (sz bytes), or NULL. */
static const char *str_at(const char *s, size_t sz, uint64_t off, size_t *len)
{
	const char *z;
	if (!s || off >= sz || !(z = memchr(s + off, 0, sz - off)))
		return NULL;
	*len = (size_t)(z - (s + off));
	return s + off;
}

/* A symbol table section and its string table, if both are sound. */
static int use_symtab(struct elf *e, const Elf64_Shdr *s)
{
	const Elf64_Shdr *st;
	if (s->sh_entsize != sizeof(Elf64_Sym) || (s->sh_offset & 7) || !in_file(s->sh_offset, s->sh_size, e->size) ||
	    s->sh_link >= e->shnum)
		return 0;
	st = &e->sh[s->sh_link];
	if (st->sh_type != SHT_STRTAB || !in_file(st->sh_offset, st->sh_size, e->size))
		return 0;
	e->sym = (const void *)(e->m + s->sh_offset);
	e->nsym = s->sh_size / sizeof(Elf64_Sym);
	e->str = (const char *)e->m + st->sh_offset;
	e->strsz = st->sh_size;
	return 1;
}

/* Checks the header is an ELF object of this build and finds its section
 * headers, section names and symbol table (.symtab, else .dynsym). */
static int elf_open(struct elf *e, const unsigned char *m, size_t size)
{
	const Elf64_Ehdr *eh = (const void *)m;
	size_t shstrndx, i;
	memset(e, 0, sizeof *e);
	e->m = m;
	e->size = size;
	if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ML_ELFDATA || eh->e_machine != ML_EM || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff == 0 || (eh->e_shoff & 7) || !in_file(eh->e_shoff, sizeof(Elf64_Shdr), size))
		return 0;
	e->sh = (const void *)(m + eh->e_shoff);
	/* More than 0xff00 sections: the counts live in section 0. */
	e->shnum = eh->e_shnum ? eh->e_shnum : e->sh[0].sh_size;
	shstrndx = eh->e_shstrndx == SHN_XINDEX ? e->sh[0].sh_link : eh->e_shstrndx;
	if (e->shnum > size || !in_file(eh->e_shoff, (uint64_t)e->shnum * sizeof(Elf64_Shdr), size))
		return 0;
	if (shstrndx < e->shnum && in_file(e->sh[shstrndx].sh_offset, e->sh[shstrndx].sh_size, size)) {
		e->shstr = (const char *)m + e->sh[shstrndx].sh_offset;
		e->shstrsz = e->sh[shstrndx].sh_size;
	}
	for (i = 0; i < e->shnum; i++)
		if (e->sh[i].sh_type == SHT_SYMTAB && use_symtab(e, &e->sh[i]))
			return 1;
	for (i = 0; i < e->shnum; i++)
		if (e->sh[i].sh_type == SHT_DYNSYM && use_symtab(e, &e->sh[i]))
			return 1;
	return 1; /* sections only */
}

/* Allocated sections with an extent at their address: .tbss (TLS and
 * NOBITS) overlaps what follows it and is left out; .tdata's init image is
 * really there and stays. */
static const char *sec_kept(const struct elf *e, size_t i, size_t *len)
{
	const Elf64_Shdr *s = &e->sh[i];
	const char *n;
	if (s->sh_type == SHT_NULL || !(s->sh_flags & SHF_ALLOC) || s->sh_size == 0 ||
	    ((s->sh_flags & SHF_TLS) && s->sh_type == SHT_NOBITS))
		return NULL;
	if (!(n = str_at(e->shstr, e->shstrsz, s->sh_name, len)))
		*len = 0, n = "";
	return n;
}

/* The symbol's name if its type and section make it worth keeping.  ABS
 * symbols pass here; the caller checks they lie in a section. */
static const char *sym_kept(const struct elf *e, const Elf64_Sym *s, size_t *len)
{
	int type = ELF64_ST_TYPE(s->st_info);
	if (!(type == STT_FUNC || type == STT_GNU_IFUNC || type == STT_OBJECT ||
	      ((type == STT_NOTYPE || type == STT_COMMON) && s->st_size)))
		return NULL;
	if (s->st_shndx == SHN_UNDEF || (s->st_shndx >= SHN_LORESERVE && s->st_shndx != SHN_ABS &&
	                                 s->st_shndx != SHN_XINDEX))
		return NULL;
	if (s->st_shndx < SHN_LORESERVE &&
	    (s->st_shndx >= e->shnum || !(e->sh[s->st_shndx].sh_flags & SHF_ALLOC)))
		return NULL;
	const char *n = str_at(e->str, e->strsz, s->st_name, len);
	return n && *len ? n : NULL;
}

/* The in-place heapsort (qsort may allocate); cmp gets the table. */
typedef int (*cmp_fn)(const struct ml_symtab *t, const void *a, const void *b);

static void swap(char *a, char *b, size_t sz)
{
	char tmp[32];
	memcpy(tmp, a, sz);
	memcpy(a, b, sz);
	memcpy(b, tmp, sz);
}

static void sift(char *a, size_t sz, size_t i, size_t n, cmp_fn cmp, const struct ml_symtab *t)
{
	for (size_t c; (c = 2 * i + 1) < n; i = c) {
		if (c + 1 < n && cmp(t, a + c * sz, a + (c + 1) * sz) < 0)
			c++;
		if (cmp(t, a + i * sz, a + c * sz) >= 0)
			return;
		swap(a + i * sz, a + c * sz, sz);
	}
}

static void sort(void *base, size_t n, size_t sz, cmp_fn cmp, const struct ml_symtab *t)
{
	char *a = base;
	for (size_t i = n / 2; i-- > 0;)
		sift(a, sz, i, n, cmp, t);
	for (size_t k = n; k-- > 1;) {
		swap(a, a + k * sz, sz);
		sift(a, sz, 0, k, cmp, t);
	}
}

/* The alias rule: GLOBAL < WEAK < LOCAL, no leading '_', shorter, alphabetical. */
static int alias_cmp(const struct ml_symtab *t, const struct ent *a, const struct ent *b)
{
	const char *na = t->pool + a->name, *nb = t->pool + b->name;
	size_t la, lb;
	int c;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if ((na[0] == '_') != (nb[0] == '_'))
		return na[0] == '_' ? 1 : -1;
	if ((la = strlen(na)) != (lb = strlen(nb)))
		return la < lb ? -1 : 1;
	if ((c = strcmp(na, nb)))
		return c;
	if (a->is_func != b->is_func) /* full ties: functions first, then file order */
		return a->is_func ? -1 : 1;
	return a == b ? 0 : a < b ? -1 : 1;
}

static int by_addr(const struct ml_symtab *t, const void *pa, const void *pb)
{
	const struct ent *a = &t->ent[*(const uint32_t *)pa], *b = &t->ent[*(const uint32_t *)pb];
	if (a->base != b->base)
		return a->base < b->base ? -1 : 1;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	return alias_cmp(t, a, b);
}

static int by_name(const struct ml_symtab *t, const void *pa, const void *pb)
{
	const struct ent *a = &t->ent[*(const uint32_t *)pa], *b = &t->ent[*(const uint32_t *)pb];
	int c = strcmp(t->pool + a->name, t->pool + b->name);
	if (c || a->rank != b->rank)
		return c ? c : a->rank < b->rank ? -1 : 1;
	if (a->base != b->base)
		return a->base < b->base ? -1 : 1;
	return a->size != b->size ? (a->size > b->size ? -1 : 1) : alias_cmp(t, a, b);
}

static int by_sec(const struct ml_symtab *t, const void *pa, const void *pb)
{
	const struct sec *a = pa, *b = pb;
	(void)t;
	if (a->base != b->base)
		return a->base < b->base ? -1 : 1;
	return a->size == b->size ? 0 : a->size > b->size ? -1 : 1;
}

static int contains(const struct ent *e, uintptr_t addr) { return addr - e->base < (e->size ? e->size : 1); }

/* The first slot in [lo, hi) whose base is not below addr (not at or below
 * it when incl).  Branch-free: lookups come in no predictable order. */
static size_t search(const struct ml_symtab *t, size_t lo, size_t hi, uintptr_t addr, int incl)
{
	const uintptr_t *b = t->base + lo;
	uintptr_t key = addr + (incl != 0); /* base < key */
	size_t n = hi - lo;
	if (!n)
		return lo;
	while (n > 1) {
		size_t half = n / 2;
		b = b[half - 1] < key ? b + half : b;
		n -= half;
	}
	return (size_t)(b - t->base) + (*b < key);
}

/* Each distinct slot's in_sec: in one pass over the slots and the
 * sections, both by base (allocated sections do not overlap). */
static void mark_in_sections(struct ml_symtab *t)
{
	size_t j = 0;
	for (size_t i = 0; i < t->ndist; i++) {
		struct ent *e = &t->ent[t->addr[i]];
		while (j + 1 < t->nsec && t->sec[j + 1].base <= e->base)
			j++;
		const struct sec *c = t->nsec ? &t->sec[j] : NULL;
		uint64_t len = e->size ? e->size : 1;
		e->in_sec = c && e->base >= c->base && e->base - c->base < c->size && len <= c->size - (e->base - c->base);
	}
}

#define PAGES_MAX (1u << 20) /* spans up to 4 GiB get a directory */
static void build_pages(struct ml_symtab *t)
{
	if (!t->ndist)
		return;
	uintptr_t lo = t->base[0] & ~4095UL, hi = t->base[t->ndist - 1];
	size_t n = ((hi - lo) >> 12) + 1;
	if (n > PAGES_MAX)
		return;
	t->pages_len = (n + 1) * sizeof(uint32_t);
	if (!(t->page_first = memlens__map(t->pages_len, 0)))
		return;
	for (size_t k = 0, slot = 0; k <= n; k++) {
		uintptr_t start = lo + (k << 12);
		while (slot < t->ndist && t->base[slot] < start)
			slot++;
		t->page_first[k] = (uint32_t)slot;
	}
	t->page_lo = lo;
	t->npages = n;
}

/* Builds the table from a parsed object: count, map one block, copy, sort. */
static struct ml_symtab *build(const struct elf *e, uintptr_t bias)
{
	size_t nsym = 0, nsec = 0, bytes = 0, len, i, n, at = 0;
	const char *name;
	struct ml_symtab *t;
	struct ml_section hit;
	for (i = 0; i < e->shnum; i++)
		if (sec_kept(e, i, &len))
			nsec++, bytes += len + 1;
	for (i = 0; i < e->nsym; i++)
		if (sym_kept(e, &e->sym[i], &len))
			nsym++, bytes += len + 1;
	if (nsym >= INT32_MAX || bytes >= UINT32_MAX)
		return NULL;
	len = (sizeof *t + 7) / 8 * 8;
	len += nsym * sizeof(struct ent) + nsec * sizeof(struct sec) + nsym * sizeof(uintptr_t) +
	       nsym * 3 * sizeof(uint32_t) + bytes;
	if (!(t = memlens__map(len, 0)))
		return NULL;
	t->map_len = len;
	t->ent = (struct ent *)((char *)t + (sizeof *t + 7) / 8 * 8);
	t->sec = (struct sec *)(t->ent + nsym);
	t->base = (uintptr_t *)(t->sec + nsec);
	t->addr = (uint32_t *)(t->base + nsym);
	t->parent = (int32_t *)(t->addr + nsym);
	t->byname = (uint32_t *)(t->parent + nsym);
	t->pool = (char *)(t->byname + nsym);

	for (i = 0; i < e->shnum; i++) {
		if (!(name = sec_kept(e, i, &len)))
			continue;
		t->sec[t->nsec] = (struct sec){ e->sh[i].sh_addr + bias, e->sh[i].sh_size, (uint32_t)at };
		memcpy(t->pool + at, name, len + 1);
		at += len + 1;
		t->nsec++;
	}
	sort(t->sec, t->nsec, sizeof *t->sec, by_sec, t);

	for (i = 0; i < e->nsym; i++) {
		const Elf64_Sym *s = &e->sym[i];
		int bind = ELF64_ST_BIND(s->st_info), type = ELF64_ST_TYPE(s->st_info);
		if (!(name = sym_kept(e, s, &len)) ||
		    (s->st_shndx == SHN_ABS && !memlens__symtab_section(t, s->st_value + bias, &hit)))
			continue;
		t->ent[t->nent] = (struct ent){
			s->st_value + bias, s->st_size, (uint32_t)at,
			bind == STB_GLOBAL || bind == STB_GNU_UNIQUE ? 0 : bind == STB_WEAK ? 1 : bind == STB_LOCAL ? 2 : 3,
			type == STT_FUNC || type == STT_GNU_IFUNC, 0,
		};
		memcpy(t->pool + at, name, len + 1);
		at += len + 1;
		t->addr[t->nent] = t->byname[t->nent] = t->nent;
		t->nent++;
	}
	sort(t->addr, t->nent, sizeof *t->addr, by_addr, t);
	sort(t->byname, t->nent, sizeof *t->byname, by_name, t);

	/* The distinct symbols: the first (best-named) of each run with one base
	 * and size.  A size-0 symbol at the base of a sized one adds no address
	 * and goes too (it sorts after it). */
	for (i = n = 0; i < t->nent; i++) {
		const struct ent *c = &t->ent[t->addr[i]], *p = n ? &t->ent[t->addr[n - 1]] : NULL;
		if (!p || p->base != c->base || (p->size != c->size && c->size))
			t->addr[n++] = t->addr[i];
	}
	t->ndist = (uint32_t)n;
	for (i = 0; i < n; i++)
		t->base[i] = t->ent[t->addr[i]].base;
	mark_in_sections(t);

	/* parent[i] is the nearest slot j < i containing base(i).  Walking i-1,
	 * parent[i-1], ... finds it: every slot skipped when stepping from a
	 * rejected slot c to parent[c] ends (by induction) at or before base(c)
	 * <= base(i), and c itself ends at or before base(i), so none of them
	 * contains base(i), nor any later address.  find() relies on the same
	 * fact: from the last slot with base <= addr, the first slot on the chain
	 * that contains addr is the latest-starting one that does, which for
	 * nested symbols is the smallest (same base: sorted larger first).  A
	 * rejected slot is never on a later chain, so this loop is O(n). */
	for (i = 0; i < n; i++) {
		int32_t j = (int32_t)i - 1;
		while (j >= 0 && !contains(&t->ent[t->addr[j]], t->ent[t->addr[i]].base))
			j = t->parent[j];
		t->parent[i] = j;
	}
	build_pages(t);
	return t;
}

struct ml_symtab *memlens__symtab_load(const char *path, uintptr_t bias, const void *image)
{
	struct elf e;
	size_t size = 0;
	struct ml_symtab *t = NULL;
	const unsigned char *m = image ? image_span(image, &size) : path ? map_file(path, &size) : NULL;
	if (!m)
		return NULL;
	if (elf_open(&e, m, size))
		t = build(&e, bias);
	if (!image)
		memlens__unmap((void *)m, size);
	return t;
}

/* What memlens__symtab_section answers on the sorted sections, without
 * sorting: the section starting last at or before addr (the smallest of
 * those starting there) must contain it. */
static int in_last_section(const struct elf *e, uintptr_t bias, uintptr_t addr)
{
	uintptr_t base = 0;
	size_t size = 0, len;
	int any = 0;
	for (size_t i = 0; i < e->shnum; i++) {
		uintptr_t b = e->sh[i].sh_addr + bias;
		if (!sec_kept(e, i, &len) || b > addr)
			continue;
		if (!any || b > base || (b == base && e->sh[i].sh_size < size))
			base = b, size = e->sh[i].sh_size, any = 1;
	}
	return any && addr - base < size;
}

/* by_name's order among entries of one name: rank, base, larger size,
 * functions first (then file order: the earlier stays). */
static int scan_better(const struct ent *a, const struct ent *b)
{
	if (a->rank != b->rank)
		return a->rank < b->rank;
	if (a->base != b->base)
		return a->base < b->base;
	if (a->size != b->size)
		return a->size > b->size;
	return a->is_func && !b->is_func;
}

int memlens__symtab_scan_names(const char *path, uintptr_t bias, const void *image, const char *const *names, int n,
                               struct ml_sym *out)
{
	struct elf e;
	struct ent best[ML_SCAN_MAX];
	uint64_t first[4] = { 0 }; /* the names' first bytes: most symbols fail this test */
	size_t size = 0, len, nlen[ML_SCAN_MAX];
	int found = 0;
	if (n > ML_SCAN_MAX)
		n = ML_SCAN_MAX;
	for (int k = 0; k < n; k++) {
		unsigned char c = (unsigned char)names[k][0];
		out[k] = (struct ml_sym){ 0 };
		nlen[k] = strlen(names[k]);
		first[c >> 6] |= 1ull << (c & 63);
	}
	const unsigned char *m = image ? image_span(image, &size) : path ? map_file(path, &size) : NULL;
	if (!m)
		return 0;
	if (elf_open(&e, m, size))
		for (size_t i = 0; i < e.nsym; i++) {
			const Elf64_Sym *s = &e.sym[i];
			const char *name;
			if (s->st_name >= e.strsz)
				continue;
			unsigned char c = (unsigned char)e.str[s->st_name];
			if (!((first[c >> 6] >> (c & 63)) & 1) || !(name = sym_kept(&e, s, &len)))
				continue;
			for (int k = 0; k < n; k++) {
				if (len != nlen[k] || memcmp(name, names[k], len))
					continue;
				if (s->st_shndx == SHN_ABS && !in_last_section(&e, bias, s->st_value + bias))
					continue;
				int bind = ELF64_ST_BIND(s->st_info), type = ELF64_ST_TYPE(s->st_info);
				struct ent cand = {
					s->st_value + bias, s->st_size, 0,
					bind == STB_GLOBAL || bind == STB_GNU_UNIQUE ? 0 : bind == STB_WEAK ? 1 : bind == STB_LOCAL ? 2 : 3,
					type == STT_FUNC || type == STT_GNU_IFUNC, 0,
				};
				if (!out[k].name || scan_better(&cand, &best[k])) {
					found += !out[k].name;
					best[k] = cand;
					out[k] = (struct ml_sym){ cand.base, cand.size, names[k], cand.is_func, 0 };
				}
			}
		}
	if (!image)
		memlens__unmap((void *)m, size);
	return found;
}

static void fill(const struct ml_symtab *t, const struct ent *e, struct ml_sym *out)
{
	*out = (struct ml_sym){ e->base, e->size, t->pool + e->name, e->is_func, e->in_sec };
}

/* The number of distinct slots with base < addr (base <= addr when incl):
 * only the slots of addr's page need searching when the table has a page
 * directory (those below it all start before addr, those above after). */
static size_t slots_below(const struct ml_symtab *t, uintptr_t addr, int incl)
{
	size_t k = (addr - t->page_lo) >> 12;
	if (t->page_first && addr >= t->page_lo && k < t->npages)
		return search(t, t->page_first[k], t->page_first[k + 1], addr, incl);
	return search(t, 0, t->ndist, addr, incl);
}

int memlens__symtab_find(const struct ml_symtab *t, uintptr_t addr, struct ml_sym *out)
{
	if (!t)
		return 0;
	for (int32_t i = (int32_t)slots_below(t, addr, 1) - 1; i >= 0; i = t->parent[i])
		if (contains(&t->ent[t->addr[i]], addr)) {
			fill(t, &t->ent[t->addr[i]], out);
			return 1;
		}
	return 0;
}

int memlens__symtab_section(const struct ml_symtab *t, uintptr_t addr, struct ml_section *out)
{
	size_t lo = 0, hi = t ? t->nsec : 0;
	while (lo < hi) { /* the first section starting after addr */
		size_t mid = lo + (hi - lo) / 2;
		if (t->sec[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || addr - t->sec[lo - 1].base >= t->sec[lo - 1].size)
		return 0;
	*out = (struct ml_section){ t->sec[lo - 1].base, t->sec[lo - 1].size, t->pool + t->sec[lo - 1].name };
	return 1;
}

int memlens__symtab_lookup_name(const struct ml_symtab *t, const char *name, struct ml_sym *out)
{
	size_t lo = 0, hi;
	if (!t)
		return 0;
	for (hi = t->nent; lo < hi;) { /* the first entry not below name; by_name puts the best alias first */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->pool + t->ent[t->byname[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->nent || strcmp(t->pool + t->ent[t->byname[lo]].name, name) != 0)
		return 0;
	fill(t, &t->ent[t->byname[lo]], out);
	return 1;
}

size_t memlens__symtab_count_in(const struct ml_symtab *t, uintptr_t lo, uintptr_t hi, size_t *bytes)
{
	size_t a = t && lo < hi ? slots_below(t, lo, 0) : 0, b = t && lo < hi ? slots_below(t, hi, 0) : 0, sum = 0;
	for (size_t i = a; i < b; i++)
		sum += t->ent[t->addr[i]].size;
	if (bytes)
		*bytes = sum;
	return b - a;
}

void memlens__symtab_free(struct ml_symtab *t)
{
	if (t && t->page_first)
		memlens__unmap(t->page_first, t->pages_len);
	if (t)
		memlens__unmap(t, t->map_len);
}
