// OBJS: space/elfsym base/prim
/* elfsym.c: the ELF symbol tables (src/space/elfsym.c), white-box.  Checks this
 * program's own .symtab against `nm -S`, its sections, libc's .dynsym
 * against dlsym, the vdso from its in-memory image, synthetic images with
 * random nested, overlapping and aliased symbols against a brute-force
 * answer, and truncated, random and mutated files (NULL or a table whose
 * lookups do not crash). */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "space/elfsym.h"

#define FAIL(...) do { printf("TESTFAIL: "); printf(__VA_ARGS__); printf("\n"); \
	fprintf(stderr, "FAIL %s:%d\n", __FILE__, __LINE__); exit(1); } while (0)
#define CHECK(c, ...) do { if (!(c)) FAIL(__VA_ARGS__); } while (0)

static int some_global[16];
static int data_global[16] = { 1, 2, 3 };
static const char *literal = "elfsym: a string literal";
static int in_section_agrees(const struct ml_symtab *t, const struct ml_sym *s);

int main(void);

__attribute__((noinline)) static int target_fn(int x)
{
	int s = 0;
	for (int i = 0; i < x; i++)
		s += some_global[i & 15] * i + data_global[i & 15];
	return s;
}

/* ---- the objects of this process ------------------------------------- */
struct obj { const char *want; char name[512]; uintptr_t bias; int found; };

static int find_obj(struct dl_phdr_info *info, size_t sz, void *arg)
{
	struct obj *o = arg;
	(void)sz;
	if (o->found)
		return 0;
	if ((!o->want && !info->dlpi_name[0]) || (o->want && strstr(info->dlpi_name, o->want))) {
		snprintf(o->name, sizeof o->name, "%s", info->dlpi_name);
		o->bias = info->dlpi_addr;
		o->found = 1;
	}
	return 0;
}

static struct obj object(const char *want)
{
	struct obj o = { want, "", 0, 0 };
	dl_iterate_phdr(find_obj, &o);
	return o;
}

/* ---- this program against nm ----------------------------------------- */
struct nmsym { uintptr_t base; size_t size; char name[256]; };

/* Another nm symbol of the same base and this size: an alias of another
 * size, or a symbol nested at the same base. */
static int nm_has(struct nmsym *v, int n, uintptr_t base, size_t size)
{
	for (int i = 0; i < n; i++)
		if (v[i].base == base && v[i].size == size)
			return 1;
	return 0;
}

/* memlens__symtab_scan_names (no table built) answers as lookup_name on t. */
static void scan_agrees(const char *path, uintptr_t bias, const void *image, const struct ml_symtab *t,
                        const char *const *names, int n, const char *what)
{
	struct ml_sym out[ML_SCAN_MAX], s;
	for (int at = 0; at < n; at += ML_SCAN_MAX) {
		int k, m = n - at < ML_SCAN_MAX ? n - at : ML_SCAN_MAX, found = 0;
		int got = memlens__symtab_scan_names(path, bias, image, names + at, m, out);
		for (k = 0; k < m; k++) {
			int want = memlens__symtab_lookup_name(t, names[at + k], &s);
			found += want;
			CHECK(want == (out[k].name != NULL) &&
			      (!want || (out[k].base == s.base && out[k].size == s.size && out[k].is_func == s.is_func &&
			                 !strcmp(out[k].name, names[at + k]))),
			      "%s: scan of %s: %d %#lx+%zu, lookup %d %#lx+%zu", what, names[at + k], out[k].name != NULL,
			      (unsigned long)out[k].base, out[k].size, want, (unsigned long)s.base, s.size);
		}
		CHECK(got == found, "%s: scan found %d, lookup %d", what, got, found);
	}
}

static void check_exe(const struct ml_symtab *t, uintptr_t bias)
{
	struct ml_sym s;
	struct ml_section sec;
	char line[1024], type;
	unsigned long a, z;
	int n = 0, cap = 1 << 16;
	struct nmsym *v = calloc((size_t)cap, sizeof *v);

	CHECK(memlens__symtab_find(t, (uintptr_t)&some_global[5], &s), "some_global not found");
	CHECK(!strcmp(s.name, "some_global") && s.base == (uintptr_t)some_global && s.size == 64 && !s.is_func,
	      "some_global: got %s %#lx size %zu", s.name, (unsigned long)s.base, s.size);
	CHECK(memlens__symtab_find(t, (uintptr_t)target_fn + 3, &s) && !strcmp(s.name, "target_fn") &&
	      s.base == (uintptr_t)target_fn && s.is_func && s.size > 3, "target_fn+3: got %s", s.name);
	CHECK(memlens__symtab_lookup_name(t, "main", &s) && s.base == (uintptr_t)main, "lookup main");

	CHECK(memlens__symtab_section(t, (uintptr_t)some_global, &sec) && !strcmp(sec.name, ".bss"),
	      "some_global in %s", sec.name);
	CHECK(memlens__symtab_section(t, (uintptr_t)&data_global[3], &sec) && !strcmp(sec.name, ".data"),
	      "data_global in %s", sec.name);
	CHECK(memlens__symtab_section(t, (uintptr_t)literal + 2, &sec) && !strcmp(sec.name, ".rodata"),
	      "literal in %s", sec.name);
	CHECK(memlens__symtab_section(t, (uintptr_t)main, &sec) && !strcmp(sec.name, ".text"), "main in %s", sec.name);
	size_t bytes, cnt = memlens__symtab_count_in(t, sec.base, sec.base + sec.size, &bytes);
	CHECK(cnt > 5 && bytes > 0 && bytes <= sec.size * 2, ".text: %zu symbols, %zu bytes", cnt, bytes);
	CHECK(memlens__symtab_count_in(t, sec.base, sec.base, NULL) == 0, "empty range");

	/* nm's own /proc/self/exe would be nm: name this process's.  (sysv
	 * format: name|value|class|type|size|line|section, which tells TLS
	 * symbols, whose values are offsets in a thread's block, not addresses.) */
	snprintf(line, sizeof line, "nm -S --defined-only -f sysv /proc/%d/exe", (int)getpid());
	FILE *p = popen(line, "r");
	CHECK(p, "popen nm");
	while (fgets(line, sizeof line, p) && n < cap) {
		char kind[32];
		if (sscanf(line, "%255[^ |] |%lx| %c |%31[^|]|%lx|", v[n].name, &a, &type, kind, &z) != 5 || !z ||
		    !strchr("TtDdBbRr", type) || strstr(kind, "TLS"))
			continue;
		v[n].base = a + bias;
		v[n].size = z;
		n++;
	}
	CHECK(pclose(p) == 0 && n > 10, "nm -S gave %d sized symbols", n);
	int insec = 0;
	for (int i = 0; i < n; i++) {
		uintptr_t b = v[i].base, last = b + v[i].size - 1;
		CHECK(memlens__symtab_find(t, b, &s), "%s (%#lx) not found", v[i].name, (unsigned long)b);
		CHECK(in_section_agrees(t, &s), "%s: in_section %d", v[i].name, s.in_section);
		insec += s.in_section;
		CHECK(s.base == b && (s.size == v[i].size || nm_has(v, n, b, s.size)),
		      "%s: nm %#lx+%zu, got %s %#lx+%zu", v[i].name, (unsigned long)b, v[i].size, s.name,
		      (unsigned long)s.base, s.size);
		CHECK(memlens__symtab_find(t, last, &s), "%s end not found", v[i].name);
		/* The innermost: this one or one nested in it. */
		CHECK(s.base >= b && s.base + s.size - 1 <= last && nm_has(v, n, s.base, s.size),
		      "%s end: got %s %#lx+%zu", v[i].name, s.name, (unsigned long)s.base, s.size);
		CHECK(memlens__symtab_lookup_name(t, v[i].name, &s) && !strcmp(s.name, v[i].name),
		      "lookup %s", v[i].name);
	}
	CHECK(insec > n / 2, "only %d of %d symbols inside a section", insec, n);
	const char **names = malloc((size_t)n * sizeof *names + 2 * sizeof *names);
	CHECK(names, "malloc");
	for (int i = 0; i < n; i++)
		names[i] = v[i].name;
	names[n] = "no_such_symbol_here";
	names[n + 1] = "main";
	scan_agrees("/proc/self/exe", bias, NULL, t, names, n + 2, "exe");
	free(names);
	printf("exe: %d nm symbols agree; .text has %zu symbols\n", n, cnt);
	free(v);
}

/* ---- libc (.dynsym only) and the vdso (in memory) --------------------- */
static void check_libc(void)
{
	struct obj o = object("libc.so.6");
	struct ml_sym s;
	CHECK(o.found, "libc.so.6 not loaded");
	void *h = dlopen(o.name, RTLD_NOLOAD | RTLD_LAZY);
	uintptr_t m = (uintptr_t)(h ? dlsym(h, "malloc") : NULL); /* libc's, not an interposer's */
	CHECK(m, "dlsym malloc");
	struct ml_symtab *t = memlens__symtab_load(o.name, o.bias, NULL);
	CHECK(t, "load %s", o.name);
	CHECK(memlens__symtab_lookup_name(t, "malloc", &s) && s.base == m && s.is_func,
	      "lookup malloc: %#lx, dlsym %#lx", (unsigned long)s.base, (unsigned long)m);
	CHECK(memlens__symtab_find(t, m + 1, &s) && s.base == m, "find malloc+1: %s", s.name);
	/* malloc and __libc_malloc are both GLOBAL: no leading '_' wins. */
	CHECK(!strcmp(s.name, "malloc"), "malloc+1 named %s", s.name);
	CHECK(memlens__symtab_lookup_name(t, "__libc_malloc", &s) && s.base == m, "__libc_malloc");
	CHECK(!memlens__symtab_lookup_name(t, "no_such_symbol_here", &s), "bogus name found");
	static const char *const names[] = { "malloc", "__libc_malloc", "free", "memcpy", "strlen", "stdout",
	                                     "environ", "no_such_symbol_here", "_IO_2_1_stdout_", "qsort" };
	scan_agrees(o.name, o.bias, NULL, t, names, sizeof names / sizeof *names, "libc");
	printf("libc: malloc at %#lx\n", (unsigned long)m);
	memlens__symtab_free(t);
	dlclose(h);
}

static void check_vdso(void)
{
	struct obj o = object("linux-vdso");
	const void *image = (const void *)getauxval(AT_SYSINFO_EHDR);
	struct ml_sym s;
	struct ml_section sec;
	if (!image || !o.found) {
		printf("vdso: none\n");
		return;
	}
	struct ml_symtab *t = memlens__symtab_load("[vdso]", o.bias, image);
	CHECK(t, "load vdso");
	CHECK(memlens__symtab_lookup_name(t, "__vdso_clock_gettime", &s) ||
	      memlens__symtab_lookup_name(t, "clock_gettime", &s), "no clock_gettime in the vdso");
	CHECK(s.base - (uintptr_t)image < 65536 && s.is_func, "vdso clock_gettime at %#lx, image %p",
	      (unsigned long)s.base, image);
	void *h = dlopen("linux-vdso.so.1", RTLD_NOLOAD | RTLD_LAZY);
	void *d = h ? dlsym(h, "__vdso_clock_gettime") : NULL;
	CHECK(!d || (uintptr_t)d == s.base, "dlsym says %p, table %#lx", d, (unsigned long)s.base);
	uintptr_t base = s.base;
	CHECK(memlens__symtab_find(t, base + 1, &s) && s.base == base, "find in vdso clock_gettime");
	CHECK(memlens__symtab_section(t, base, &sec) && !strcmp(sec.name, ".text"), "vdso section %s", sec.name);
	CHECK(!memlens__symtab_load("[vdso]", 0, (const char *)image + 8), "a non-ELF image loaded");
	static const char *const names[] = { "__vdso_clock_gettime", "clock_gettime", "__vdso_time", "nothing" };
	scan_agrees("[vdso]", o.bias, image, t, names, 4, "vdso");
	printf("vdso: %s at %#lx\n", s.name, (unsigned long)base);
	memlens__symtab_free(t);
	if (h)
		dlclose(h);
}

/* in_section against the section lookup: the symbol's first and last
 * bytes lie in one allocated section. */
static int in_section_agrees(const struct ml_symtab *t, const struct ml_sym *s)
{
	struct ml_section a, b;
	uintptr_t last = s->base + (s->size ? s->size - 1 : 0);
	int want = memlens__symtab_section(t, s->base, &a) && memlens__symtab_section(t, last, &b) && a.base == b.base;
	return s->in_section == want;
}

/* ---- synthetic images against a brute-force model ---------------------- */
struct msym { uint64_t base, size; int bind, type, shndx; char name[16]; };

static unsigned rnd(unsigned *s) { *s = *s * 1103515245u + 12345u; return *s >> 8; }

static int is_func(const struct msym *m) { return m->type == STT_FUNC || m->type == STT_GNU_IFUNC; }

static int rank(int bind) { return bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2; }

/* The alias rule, for the model. */
static int better(const struct msym *a, const struct msym *b)
{
	if (rank(a->bind) != rank(b->bind))
		return rank(a->bind) < rank(b->bind);
	if ((a->name[0] == '_') != (b->name[0] == '_'))
		return b->name[0] == '_';
	if (strlen(a->name) != strlen(b->name))
		return strlen(a->name) < strlen(b->name);
	if (strcmp(a->name, b->name))
		return strcmp(a->name, b->name) < 0;
	return is_func(a) > is_func(b); /* then file order: the model keeps the first */
}

#define TEXT_LO 0x10000u
#define TEXT_SZ 0x40000u

/* Kept by the table (kept[i]): defined FUNC/OBJECT/IFUNC, sized NOTYPE,
 * ABS only in .text; at[i]: kept and, for addresses, not a size-0 symbol at
 * the base of a sized one. */
static void model_kept(const struct msym *m, int n, char *kept, char *at)
{
	for (int i = 0; i < n; i++) {
		const struct msym *s = &m[i];
		kept[i] = !(s->shndx == SHN_UNDEF || s->shndx == 2 || (s->type == STT_NOTYPE && !s->size) ||
		            (s->shndx == SHN_ABS && (s->base < TEXT_LO || s->base >= TEXT_LO + TEXT_SZ)));
	}
	for (int i = 0; i < n; i++) {
		at[i] = kept[i];
		for (int j = 0; j < n && at[i] && !m[i].size; j++)
			if (kept[j] && m[j].base == m[i].base && m[j].size)
				at[i] = 0;
	}
}

/* Latest-starting containing symbol, then the smallest, then the alias rule
 * (for nested symbols that is the innermost). */
static const struct msym *model_find(const struct msym *m, int n, const char *at, uint64_t a)
{
	const struct msym *best = NULL;
	for (int i = 0; i < n; i++) {
		const struct msym *s = &m[i];
		if (!at[i] || a - s->base >= (s->size ? s->size : 1))
			continue;
		if (!best || s->base > best->base || (s->base == best->base && s->size < best->size) ||
		    (s->base == best->base && s->size == best->size && better(s, best)))
			best = s;
	}
	return best;
}

/* Builds an ELF image: null, .text (alloc), .comment (not alloc), .symtab,
 * .strtab, .shstrtab; symbols m[0..n). */
static void *make_image(const struct msym *m, int n, size_t *len)
{
	static const char shstr[] = "\0.text\0.comment\0.symtab\0.strtab\0.shstrtab";
	size_t symoff = 4096, nsy = (size_t)n + 1, stroff = symoff + nsy * sizeof(Elf64_Sym);
	size_t strsz = 1 + (size_t)n * 16, shstroff = stroff + strsz, shoff = (shstroff + sizeof shstr + 7) & ~7ul;
	*len = shoff + 6 * sizeof(Elf64_Shdr);
	unsigned char *p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED, "mmap");
	Elf64_Ehdr *eh = (void *)p;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_DYN;
	eh->e_machine = EM_X86_64;
	eh->e_shoff = shoff;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shnum = 6;
	eh->e_shstrndx = 5;
	Elf64_Sym *sy = (void *)(p + symoff);
	char *str = (char *)p + stroff;
	for (int i = 0; i < n; i++) {
		strcpy(str + 1 + i * 16, m[i].name);
		sy[i + 1] = (Elf64_Sym){ .st_name = (Elf64_Word)(1 + i * 16), .st_info = ELF64_ST_INFO(m[i].bind, m[i].type),
		                         .st_shndx = (Elf64_Section)m[i].shndx, .st_value = m[i].base, .st_size = m[i].size };
	}
	memcpy(p + shstroff, shstr, sizeof shstr);
	Elf64_Shdr *sh = (void *)(p + shoff);
	sh[1] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
	                      .sh_addr = TEXT_LO, .sh_size = TEXT_SZ };
	sh[2] = (Elf64_Shdr){ .sh_name = 7, .sh_type = SHT_PROGBITS, .sh_addr = 0, .sh_size = 0x100, .sh_offset = 64 };
	sh[3] = (Elf64_Shdr){ .sh_name = 16, .sh_type = SHT_SYMTAB, .sh_offset = symoff,
	                      .sh_size = nsy * sizeof(Elf64_Sym), .sh_link = 4, .sh_entsize = sizeof(Elf64_Sym) };
	sh[4] = (Elf64_Shdr){ .sh_name = 24, .sh_type = SHT_STRTAB, .sh_offset = stroff, .sh_size = strsz };
	sh[5] = (Elf64_Shdr){ .sh_name = 32, .sh_type = SHT_STRTAB, .sh_offset = shstroff, .sh_size = sizeof shstr };
	return p;
}

/* Random nested intervals inside [lo, lo+len): children are disjoint. */
static void nest(struct msym *m, int *n, int cap, unsigned *rs, uint64_t lo, uint64_t len, int depth)
{
	while (len > 4 && *n < cap && depth < 5 && (depth == 0 || rnd(rs) % 4)) {
		uint64_t off = rnd(rs) % (len / 2 < 0x400 ? len / 2 : 0x400);
		uint64_t most = 0x2000u >> depth, sz = rnd(rs) % (len - off < most ? len - off : most) + 1;
		struct msym *s = &m[(*n)++];
		*s = (struct msym){ lo + off, sz, STB_GLOBAL, STT_FUNC, 1, "" };
		nest(m, n, cap, rs, s->base, sz, depth + 1);
		len -= off + sz;
		lo += off + sz;
	}
}

static void check_model(unsigned seed, int laminar)
{
	enum { CAP = 1500 };
	static struct msym m[CAP];
	static const int binds[] = { STB_GLOBAL, STB_WEAK, STB_LOCAL };
	unsigned rs = seed;
	int n = 0;
	struct ml_sym s;
	size_t len;
	if (laminar)
		nest(m, &n, CAP / 2, &rs, TEXT_LO, TEXT_SZ, 0);
	else
		for (; n < CAP / 2; n++)
			m[n] = (struct msym){ TEXT_LO + rnd(&rs) % TEXT_SZ, rnd(&rs) % 0x2000, STB_GLOBAL, STT_OBJECT, 1, "" };
	while (n < CAP) { /* aliases, size-0 points, odd types and sections */
		struct msym *s2 = &m[n++];
		*s2 = m[rnd(&rs) % (unsigned)(n - 1)];
		switch (rnd(&rs) % 6) {
		case 0: s2->size = 0; break;
		case 1: s2->base = TEXT_LO + rnd(&rs) % TEXT_SZ; s2->size = 0; break;
		case 2: s2->shndx = rnd(&rs) % 2 ? SHN_ABS : rnd(&rs) % 2 ? SHN_UNDEF : 2;
			if (s2->shndx == SHN_ABS && rnd(&rs) % 2)
				s2->base += TEXT_SZ;
			break;
		case 3: s2->type = rnd(&rs) % 2 ? STT_NOTYPE : STT_GNU_IFUNC; break;
		default: break;
		}
	}
	for (int i = 0; i < n; i++) { /* names: some shared, some with '_' */
		m[i].bind = binds[rnd(&rs) % 3];
		snprintf(m[i].name, sizeof m[i].name, "%s%x", rnd(&rs) % 3 ? "" : "_", rnd(&rs) % (i % 7 ? 0x100000 : 0x40));
	}
	uintptr_t bias = 0x7f0000000000ul + (rnd(&rs) % 64) * 4096;
	static char kept[CAP], at[CAP];
	model_kept(m, n, kept, at);
	void *img = make_image(m, n, &len);
	struct ml_symtab *t = memlens__symtab_load("synthetic", bias, img);
	CHECK(t, "load synthetic");
	for (int k = 0; k < 10000; k++) {
		uint64_t a = k < n ? m[k].base + (k & 1 ? m[k].size - (m[k].size > 0) : 0) : TEXT_LO + rnd(&rs) % (TEXT_SZ + 64) - 32;
		const struct msym *w = model_find(m, n, at, a);
		int got = memlens__symtab_find(t, a + bias, &s);
		CHECK(got == !!w, "seed %u %#lx: found %d, model %d", seed, (unsigned long)a, got, !!w);
		CHECK(!got || in_section_agrees(t, &s), "seed %u %#lx: in_section %d", seed, (unsigned long)a, s.in_section);
		CHECK(!w || (s.base == w->base + bias && s.size == w->size && !strcmp(s.name, w->name) &&
		             s.is_func == is_func(w)),
		      "seed %u %#lx: got %s %#lx+%zu, model %s %#lx+%lu", seed, (unsigned long)a, s.name,
		      (unsigned long)(s.base - bias), s.size, w->name, (unsigned long)w->base, (unsigned long)w->size);
	}
	for (int i = 0; i < n; i++) { /* by name: best bind, then lowest base, then largest */
		const struct msym *w = NULL;
		for (int j = 0; j < n; j++)
			if (kept[j] && !strcmp(m[j].name, m[i].name) &&
			    (!w || rank(m[j].bind) < rank(w->bind) ||
			     (rank(m[j].bind) == rank(w->bind) && (m[j].base < w->base || (m[j].base == w->base && m[j].size > w->size)))))
				w = &m[j];
		int got = memlens__symtab_lookup_name(t, m[i].name, &s);
		CHECK(got == !!w && (!w || (s.base == w->base + bias && s.size == w->size)), "lookup %s", m[i].name);
	}
	static const char *names[CAP];
	for (int i = 0; i < n; i++)
		names[i] = m[i].name;
	scan_agrees("synthetic", bias, img, t, names, n, "model");
	for (int k = 0; k < 200; k++) { /* count_in: distinct (base, size) */
		uint64_t lo = TEXT_LO + rnd(&rs) % TEXT_SZ, hi = lo + rnd(&rs) % 0x8000;
		size_t cnt = 0, bytes = 0, got_bytes;
		for (int i = 0; i < n; i++) {
			int dup = 0;
			if (!at[i] || m[i].base < lo || m[i].base >= hi)
				continue;
			for (int j = 0; j < i && !dup; j++)
				dup = at[j] && m[j].base == m[i].base && m[j].size == m[i].size;
			cnt += !dup;
			bytes += dup ? 0 : m[i].size;
		}
		CHECK(memlens__symtab_count_in(t, lo + bias, hi + bias, &got_bytes) == cnt && got_bytes == bytes,
		      "count_in seed %u", seed);
	}
	memlens__symtab_free(t);
	munmap(img, len);
}

/* ---- corrupt files --------------------------------------------------- */
static void poke(const struct ml_symtab *t, uintptr_t bias, const char *path)
{
	static const char *const names[] = { "main", "some_global", "target_fn", "_start", "poke" };
	scan_agrees(path, bias, NULL, t, names, 5, path);
	struct ml_sym s;
	struct ml_section sec;
	for (uintptr_t a = 0; a < 0x20000; a += 0x7f1)
		memlens__symtab_find(t, bias + a, &s), memlens__symtab_section(t, bias + a, &sec);
	memlens__symtab_find(t, (uintptr_t)main, &s);
	memlens__symtab_find(t, 0, &s);
	memlens__symtab_find(t, UINTPTR_MAX, &s);
	memlens__symtab_lookup_name(t, "main", &s);
	memlens__symtab_count_in(t, 0, UINTPTR_MAX, NULL);
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	CHECK(f && fwrite(p, 1, n, f) == n && fclose(f) == 0, "write %s", path);
}

static int mapped(const char *path)
{
	char line[1024];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof line, f))
		found |= strstr(line, path) != NULL;
	if (f)
		fclose(f);
	return found;
}

static void check_corrupt(uintptr_t bias)
{
	char dir[] = "/tmp/elfsym.XXXXXX", path[256];
	struct ml_sym s;
	unsigned rs = 7;
	FILE *f = fopen("/proc/self/exe", "rb");
	CHECK(f, "open exe");
	size_t cap = 64 << 20, n;
	unsigned char *exe = malloc(cap), *buf = malloc(cap);
	n = fread(exe, 1, cap, f);
	fclose(f);
	CHECK(n > 5000 && n < cap, "read exe: %zu", n);
	CHECK(mkdtemp(dir), "mkdtemp");

	/* A full copy works, and the table keeps no mapping of it. */
	snprintf(path, sizeof path, "%s/copy", dir);
	write_file(path, exe, n);
	struct ml_symtab *t = memlens__symtab_load(path, bias, NULL);
	CHECK(t && memlens__symtab_find(t, (uintptr_t)some_global, &s) && !strcmp(s.name, "some_global"), "copy");
	CHECK(!mapped(path), "the table keeps %s mapped", path);
	memlens__symtab_free(t);

	size_t cuts[] = { 0, 63, 64, 100, 5000, n / 2, n - 1 };
	int nulls = 0, tables = 0;
	for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
		snprintf(path, sizeof path, "%s/cut%zu", dir, i);
		write_file(path, exe, cuts[i]);
		t = memlens__symtab_load(path, bias, NULL);
		poke(t, bias, path);
		nulls += !t, tables += !!t;
		memlens__symtab_free(t);
	}
	for (int round = 0; round < 300; round++) {
		/* random bytes, an ELF header then random bytes, or the program
		 * with some bytes changed (mostly in its headers and tables) */
		size_t len = round < 20 ? 1 + rnd(&rs) % 100000 : n;
		if (round < 20) {
			for (size_t i = 0; i < len; i++)
				buf[i] = (unsigned char)rnd(&rs);
			if (round & 1)
				memcpy(buf, exe, len < 64 ? len : 64);
		} else {
			const Elf64_Ehdr *eh = (const void *)exe;
			memcpy(buf, exe, n);
			for (int k = 0, nk = 1 + rnd(&rs) % 8; k < nk; k++) {
				size_t at = rnd(&rs) % 3 == 0 ? rnd(&rs) % 64 :
				            rnd(&rs) % 2 ? eh->e_shoff + rnd(&rs) % (eh->e_shnum * sizeof(Elf64_Shdr)) :
				            rnd(&rs) % n;
				buf[at < n ? at : n - 1] = (unsigned char)rnd(&rs);
			}
		}
		snprintf(path, sizeof path, "%s/fuzz", dir);
		write_file(path, buf, len);
		t = memlens__symtab_load(path, bias, NULL);
		poke(t, bias, path);
		nulls += !t, tables += !!t;
		memlens__symtab_free(t);
	}
	snprintf(path, sizeof path, "%s/sub", dir);
	CHECK(mkdir(path, 0700) == 0, "mkdir");
	CHECK(!memlens__symtab_load(path, bias, NULL), "a directory loaded");
	CHECK(rmdir(path) == 0, "rmdir");
	snprintf(path, sizeof path, "%s/none", dir);
	CHECK(!memlens__symtab_load(path, bias, NULL), "a missing file loaded");
	CHECK(!memlens__symtab_load(NULL, bias, NULL), "NULL path loaded");

	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	CHECK(rmdir(dir) == 0, "rmdir %s", dir);
	printf("corrupt: %d NULL, %d partial tables, no crash\n", nulls, tables);
	free(exe);
	free(buf);
}

int main(void)
{
	struct obj self = object(NULL);
	CHECK(self.found, "no main object");
	struct ml_symtab *t = memlens__symtab_load("/proc/self/exe", self.bias, NULL);
	CHECK(t, "load /proc/self/exe");
	CHECK(target_fn(20) != 12345678, "target_fn");
	check_exe(t, self.bias);
	memlens__symtab_free(t);
	check_libc();
	check_vdso();
	for (unsigned seed = 1; seed <= 6; seed++)
		check_model(seed, seed & 1);
	check_corrupt(self.bias);
	printf("elfsym: ok\n");
	return 0;
}
