/* hier_static: addresses in loaded ELF objects answer "static", with the
 * chain object -> PT_LOAD segment -> section -> symbol.  Globals in .data,
 * .bss (also a big one, past the file's pages) and .rodata, a static
 * function and main against `nm -S` (base, size, at base, interior and last
 * byte), the segment against dl_iterate_phdr, the section against the
 * executable's section headers; every non-overlapping sized symbol of the
 * executable; a gap between symbols (3 levels, the section innermost); the
 * ELF header (object -> segment); a byte after a segment's end (the object
 * only); libc's getpid, printf and _IO_2_1_stdout_ and the vdso's
 * clock_gettime against dladdr1's symbol; alloc_describe naming the symbol and "static". */
#include "hier_util.h"
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>

int hs_data[40] = { 1, 2, 3, 4, 5, 6, 7, 8 };                 /* .data */
int hs_bss[300];                                               /* .bss */
const int hs_rodata[64] = { 11, 12, 13, 14, 15, 16, 17, 18 }; /* .rodata */
static double hs_local_data[5] = { 1.5, 2.5 };                 /* .data, local symbol */
char hs_big_bss[200000];                                       /* .bss past the file's pages */

__attribute__((noinline)) static int hs_static_fn(int x)
{
	int s = 0;
	for (int i = 0; i < x; i++)
		s += hs_data[i % 40] * i + hs_rodata[i % 64] + hs_bss[i % 300] + (int)hs_local_data[i % 5] +
		     hs_big_bss[i * 7919 % 200000];
	return s;
}

/* ---- oracles: nm, the program headers, the section headers ------------ */

struct nmsym { uintptr_t base; size_t size; char type; char name[128]; };
static struct nmsym *syms;
static int nsyms;

static void load_nm(uintptr_t bias)
{
	char cmd[256], line[1024], name[128], type;
	unsigned long a, z;
	int cap = 1 << 15;
	syms = calloc(cap, sizeof *syms);
	CHECK(syms != NULL);
	snprintf(cmd, sizeof cmd, "nm -S --defined-only /proc/%d/exe", (int)getpid());
	FILE *f = popen(cmd, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof line, f) && nsyms < cap) {
		struct nmsym *s = &syms[nsyms];
		if (sscanf(line, "%lx %lx %c %127s", &a, &z, &type, name) == 4) {
			s->size = z;
		} else if (sscanf(line, "%lx %c %127s", &a, &type, name) == 3) {
			s->size = 0;
		} else
			continue;
		if (!strchr("TtDdBbRrWwVv", type))
			continue;
		s->base = a + bias;
		s->type = type;
		snprintf(s->name, sizeof s->name, "%s", name);
		nsyms++;
	}
	CHECKF(pclose(f) == 0 && nsyms > 10, "nm -S gave %d symbols (is binutils installed?)", nsyms);
}

static const struct nmsym *nm_find(const char *name)
{
	for (int i = 0; i < nsyms; i++)
		if (!strcmp(syms[i].name, name))
			return &syms[i];
	CHECKF(0, "nm does not list %s", name);
	return NULL;
}

struct phdrs { uintptr_t bias; const ElfW(Phdr) *ph; int n; const char *name; int found; const char *want; };

static int first_obj(struct dl_phdr_info *info, size_t sz, void *arg)
{
	struct phdrs *o = arg;
	(void)sz;
	if (o->found)
		return 0;
	if (o->want ? !!strstr(info->dlpi_name, o->want) : 1) {
		o->bias = info->dlpi_addr;
		o->ph = info->dlpi_phdr;
		o->n = info->dlpi_phnum;
		o->name = info->dlpi_name;
		o->found = 1;
	}
	return 0;
}

static struct phdrs object_phdrs(const char *want)
{
	struct phdrs o;
	memset(&o, 0, sizeof o);
	o.want = want;
	dl_iterate_phdr(first_obj, &o);
	CHECKF(o.found, "no loaded object %s", want ? want : "(first)");
	return o;
}

/* The PT_LOAD segment of o holding p: [lo, hi) unaligned. */
static int segment_of(const struct phdrs *o, uintptr_t p, uintptr_t *lo, uintptr_t *hi)
{
	for (int i = 0; i < o->n; i++) {
		const ElfW(Phdr) *ph = &o->ph[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t l = o->bias + ph->p_vaddr, h = l + ph->p_memsz;
		if (p >= l && p < h) {
			*lo = l;
			*hi = h;
			return 1;
		}
	}
	return 0;
}

/* The page span of all PT_LOAD segments of o. */
static void object_span(const struct phdrs *o, uintptr_t *lo, uintptr_t *hi)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	*lo = UINTPTR_MAX;
	*hi = 0;
	for (int i = 0; i < o->n; i++) {
		const ElfW(Phdr) *ph = &o->ph[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t l = o->bias + ph->p_vaddr, h = l + ph->p_memsz;
		if (l < *lo)
			*lo = l;
		if (h > *hi)
			*hi = h;
	}
	*lo &= ~(pg - 1);
	*hi = (*hi + pg - 1) & ~(pg - 1);
}

struct sect { uintptr_t base; size_t size; char name[64]; };
static struct sect sects[128];
static int nsects;

/* The allocated sections of /proc/self/exe, at run-time addresses. */
static void load_sections(uintptr_t bias)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	CHECK(fd >= 0);
	ElfW(Ehdr) eh;
	CHECK(pread(fd, &eh, sizeof eh, 0) == sizeof eh);
	CHECK(eh.e_shnum > 0 && eh.e_shnum < 1000 && eh.e_shentsize == sizeof(ElfW(Shdr)));
	ElfW(Shdr) *sh = calloc(eh.e_shnum, sizeof *sh);
	CHECK(pread(fd, sh, eh.e_shnum * sizeof *sh, eh.e_shoff) == (ssize_t)(eh.e_shnum * sizeof *sh));
	ElfW(Shdr) *ss = &sh[eh.e_shstrndx];
	char *str = malloc(ss->sh_size);
	CHECK(pread(fd, str, ss->sh_size, ss->sh_offset) == (ssize_t)ss->sh_size);
	for (int i = 0; i < eh.e_shnum && nsects < 128; i++) {
		if (!(sh[i].sh_flags & SHF_ALLOC) || !sh[i].sh_size)
			continue;
		if ((sh[i].sh_flags & SHF_TLS) && sh[i].sh_type == SHT_NOBITS)
			continue;
		sects[nsects].base = bias + sh[i].sh_addr;
		sects[nsects].size = sh[i].sh_size;
		snprintf(sects[nsects].name, sizeof sects[nsects].name, "%s", str + sh[i].sh_name);
		nsects++;
	}
	free(str);
	free(sh);
	close(fd);
	CHECK(nsects > 5);
}

static const struct sect *section_of(uintptr_t p)
{
	for (int i = 0; i < nsects; i++)
		if (p - sects[i].base < sects[i].size)
			return &sects[i];
	return NULL;
}

/* ---- the checks ----------------------------------------------------------- */

static struct phdrs exe;
static uintptr_t exe_lo, exe_hi;

/* p lies in the executable's symbol `name` (nm): the full 4-level chain
 * with exact bases and sizes, and the section named `secname`. */
static void check_exe_symbol(const char *name, const char *secname)
{
	const struct nmsym *s = nm_find(name);
	CHECKF(s->size > 0, "%s has no size in nm", name);
	const struct sect *sec = section_of(s->base);
	CHECKF(sec != NULL, "%s: no section", name);
	CHECKF(!strcmp(sec->name, secname), "%s is in %s, the test expects %s", name, sec->name, secname);
	uintptr_t seglo, seghi;
	CHECKF(segment_of(&exe, s->base, &seglo, &seghi), "%s: no PT_LOAD", name);
	size_t offs[] = { 0, 1, s->size / 2, s->size - 1 };
	for (unsigned k = 0; k < sizeof offs / sizeof *offs; k++) {
		if (offs[k] >= s->size)
			continue;
		const char *p = (const char *)s->base + offs[k];
		struct alloc_info c[HU_MAX];
		HU_EXPECT_CHAIN(p, c, "static", "static", "static", "static");
		CHECKF(c[0].base == (void *)exe_lo && c[0].size == exe_hi - exe_lo,
		       "%s+%zu: object level %p+%#zx, want the executable's span %#lx+%#lx", name, offs[k], c[0].base,
		       c[0].size, (unsigned long)exe_lo, (unsigned long)(exe_hi - exe_lo));
		CHECKF(c[1].base == (void *)seglo && c[1].size == seghi - seglo,
		       "%s+%zu: segment level %p+%#zx, want PT_LOAD %#lx+%#lx", name, offs[k], c[1].base, c[1].size,
		       (unsigned long)seglo, (unsigned long)(seghi - seglo));
		CHECKF(c[2].base == (void *)sec->base && c[2].size == sec->size,
		       "%s+%zu: section level %p+%#zx, want %s %#lx+%#zx", name, offs[k], c[2].base, c[2].size,
		       sec->name, (unsigned long)sec->base, sec->size);
		CHECKF(c[3].base == (void *)s->base && c[3].size == s->size,
		       "%s+%zu: symbol level %p+%#zx, want nm's %#lx+%#zx", name, offs[k], c[3].base, c[3].size,
		       (unsigned long)s->base, s->size);
		CHECKF(alloc_get_base(p) == (void *)s->base, "%s+%zu: base %p", name, offs[k], alloc_get_base(p));
		CHECKF(alloc_get_size(p) == s->size, "%s+%zu: size %zu, nm %zu", name, offs[k], alloc_get_size(p),
		       s->size);
		CHECKF(hu_is(p, "static"), "%s+%zu: allocator %s", name, offs[k], hu_alloc(p));
		for (int l = 0; l < 4; l++)
			CHECKF(c[l].allocator == c[0].allocator, "%s: level %d is another allocator object", name, l);
		CHECK(c[3].seq == 0);
	}
	/* one past the end is not this symbol */
	const char *end = (const char *)s->base + s->size;
	CHECKF(alloc_get_base(end) != (void *)s->base || alloc_get_size(end) != s->size,
	       "%s: one past the end answers the symbol itself", name);
}

/* Symbols that overlap another symbol (other than an exact alias) or have a
 * symbol starting inside them are left out of the sweep. */
static int overlaps_other(int i)
{
	const struct nmsym *s = &syms[i];
	for (int j = 0; j < nsyms; j++) {
		const struct nmsym *t = &syms[j];
		if (j == i || (t->base == s->base && t->size == s->size))
			continue;
		uintptr_t te = t->base + (t->size ? t->size : 1);
		if (t->base < s->base + s->size && te > s->base)
			return 1;
	}
	return 0;
}

static void sweep_exe_symbols(void)
{
	int checked = 0;
	for (int i = 0; i < nsyms; i++) {
		const struct nmsym *s = &syms[i];
		if (!s->size || s->base < exe_lo || s->base >= exe_hi || !section_of(s->base) || overlaps_other(i))
			continue;
		const char *ps[] = { (const char *)s->base, (const char *)s->base + s->size - 1 };
		for (int k = 0; k < 2; k++) {
			struct alloc_info c[HU_MAX];
			int n = hu_chain(ps[k], c);
			CHECKF(n == 4, "%s (%c %#lx+%#zx) byte %d: %s", s->name, s->type, (unsigned long)s->base, s->size,
			       k, hu_chain_str(ps[k]));
			CHECKF(c[3].base == (void *)s->base && c[3].size == s->size && !strcmp(hu_name(&c[3]), "static"),
			       "%s (%#lx+%#zx): innermost %s %p+%#zx", s->name, (unsigned long)s->base, s->size,
			       hu_name(&c[3]), c[3].base, c[3].size);
			const struct sect *sec = section_of((uintptr_t)ps[k]);
			CHECKF(c[2].base == (void *)sec->base && c[2].size == sec->size,
			       "%s: section level %p+%#zx, want %s %#lx+%#zx", s->name, c[2].base, c[2].size, sec->name,
			       (unsigned long)sec->base, sec->size);
		}
		checked++;
	}
	CHECKF(checked >= 10, "only %d symbols of the executable could be checked", checked);
}

/* A byte of .text that no symbol covers (padding between functions): the
 * chain stops at the section. */
static void check_gap(void)
{
	const struct sect *text = NULL;
	for (int i = 0; i < nsects; i++)
		if (!strcmp(sects[i].name, ".text"))
			text = &sects[i];
	CHECK(text != NULL);
	for (uintptr_t a = text->base; a < text->base + text->size; a++) {
		int covered = 0;
		for (int j = 0; j < nsyms && !covered; j++)
			if (a - syms[j].base < (syms[j].size ? syms[j].size : 1))
				covered = 1;
		if (covered)
			continue;
		struct alloc_info c[HU_MAX];
		int n = hu_chain((void *)a, c);
		CHECKF(n == 3, "gap byte %#lx in .text: %s", (unsigned long)a, hu_chain_str((void *)a));
		CHECKF(c[2].base == (void *)text->base && c[2].size == text->size,
		       "gap byte %#lx: innermost %p+%#zx, .text is %#lx+%#zx", (unsigned long)a, c[2].base, c[2].size,
		       (unsigned long)text->base, text->size);
		return;
	}
	printf("note: no gap between symbols in .text\n");
}

/* Bytes of the executable outside sections and segments: its ELF header
 * (in the first PT_LOAD, in no section) answers object -> segment; a byte
 * after a PT_LOAD's end on its last page (in no segment) the object only. */
static void check_outside_sections(void)
{
	const char *eh = (const char *)exe.bias;
	uintptr_t seglo, seghi;
	CHECK(segment_of(&exe, (uintptr_t)eh, &seglo, &seghi));
	CHECK(!section_of((uintptr_t)eh));
	struct alloc_info c[HU_MAX];
	HU_EXPECT_CHAIN(eh + 1, c, "static", "static");
	CHECKF(c[1].base == (void *)seglo && c[1].size == seghi - seglo, "ELF header: segment %p+%#zx, want %#lx+%#lx",
	       c[1].base, c[1].size, (unsigned long)seglo, (unsigned long)(seghi - seglo));
	int checked = 0;
	for (int i = 0; i < exe.n; i++) {
		const ElfW(Phdr) *ph = &exe.ph[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t end = exe.bias + ph->p_vaddr + ph->p_memsz;
		uintptr_t lo, hi;
		if (!(end & 4095) || end >= exe_hi || segment_of(&exe, end, &lo, &hi) || section_of(end))
			continue;
		HU_EXPECT_CHAIN((void *)end, c, "static");
		CHECKF(c[0].base == (void *)exe_lo && c[0].size == exe_hi - exe_lo, "%#lx after a segment: %s",
		       (unsigned long)end, hu_chain_str((void *)end));
		checked++;
	}
	if (!checked)
		printf("note: no byte after a segment on its last page\n");
}

/* addr is the start of a libc symbol: "static", base addr, size = its
 * st_size (dladdr1), the chain's object level holds libc's segments. */
static void check_libc_symbol(const void *addr, const char *what)
{
	Dl_info di;
	const ElfW(Sym) *sym = NULL;
	CHECKF(dladdr1(addr, &di, (void **)&sym, RTLD_DL_SYMENT) && sym, "dladdr1(%s) failed", what);
	CHECKF(di.dli_saddr == addr, "%s: dladdr says symbol %s at %p, not %p", what, di.dli_sname, di.dli_saddr,
	       addr);
	CHECKF(sym->st_size > 0, "%s: st_size 0", what);
	struct phdrs lib = object_phdrs(di.dli_fname);
	CHECKF(lib.bias == (uintptr_t)di.dli_fbase, "%s: two objects named %s", what, di.dli_fname);
	uintptr_t lo, hi, seglo, seghi;
	object_span(&lib, &lo, &hi);
	CHECK(segment_of(&lib, (uintptr_t)addr, &seglo, &seghi));
	const char *p[] = { addr, (const char *)addr + 1, (const char *)addr + sym->st_size - 1 };
	for (int k = 0; k < 3; k++) {
		struct alloc_info c[HU_MAX];
		int n = hu_chain(p[k], c);
		CHECKF(hu_is(p[k], "static"), "%s+%ld: allocator %s", what, (long)(p[k] - (const char *)addr),
		       hu_alloc(p[k]));
		CHECKF(alloc_get_base(p[k]) == addr, "%s+%ld: base %p, want %p (%s)", what,
		       (long)(p[k] - (const char *)addr), alloc_get_base(p[k]), addr, hu_chain_str(p[k]));
		CHECKF(alloc_get_size(p[k]) == sym->st_size, "%s+%ld: size %zu, st_size %zu", what,
		       (long)(p[k] - (const char *)addr), alloc_get_size(p[k]), (size_t)sym->st_size);
		CHECKF(n >= 3, "%s: %s", what, hu_chain_str(p[k]));
		CHECKF(c[0].base == (void *)lo && c[0].size == hi - lo, "%s: object level %p+%#zx, want %#lx+%#lx",
		       what, c[0].base, c[0].size, (unsigned long)lo, (unsigned long)(hi - lo));
		CHECKF(c[1].base == (void *)seglo && c[1].size == seghi - seglo,
		       "%s: segment level %p+%#zx, want %#lx+%#lx", what, c[1].base, c[1].size, (unsigned long)seglo,
		       (unsigned long)(seghi - seglo));
		for (int l = 0; l < n; l++)
			CHECKF(!strcmp(hu_name(&c[l]), "static"), "%s: level %d is %s", what, l, hu_name(&c[l]));
	}
}

static void check_describe(const void *p, const char *name)
{
	char buf[512];
	hu_describe(p, buf, sizeof buf);
	CHECKF(strstr(buf, name), "%p: \"%s\" does not name %s", p, buf, name);
	CHECKF(strstr(buf, "static"), "%p: \"%s\" does not say static", p, buf);
}

int main(void)
{
	exe = object_phdrs(NULL);
	object_span(&exe, &exe_lo, &exe_hi);
	CHECKF((uintptr_t)main >= exe_lo && (uintptr_t)main < exe_hi, "the first object is not the executable");
	load_nm(exe.bias);
	load_sections(exe.bias);
	CHECK(hs_static_fn(3) != 0);

	/* the test's own globals and functions, by nm */
	CHECK((uintptr_t)nm_find("hs_data")->base == (uintptr_t)hs_data);
	CHECK((uintptr_t)nm_find("hs_bss")->base == (uintptr_t)hs_bss);
	CHECK((uintptr_t)nm_find("hs_rodata")->base == (uintptr_t)hs_rodata);
	CHECK((uintptr_t)nm_find("hs_local_data")->base == (uintptr_t)hs_local_data);
	CHECK((uintptr_t)nm_find("hs_static_fn")->base == (uintptr_t)hs_static_fn);
	CHECK((uintptr_t)nm_find("main")->base == (uintptr_t)main);
	CHECK((uintptr_t)nm_find("hs_big_bss")->base == (uintptr_t)hs_big_bss);
	check_exe_symbol("hs_data", ".data");
	check_exe_symbol("hs_bss", ".bss");
	check_exe_symbol("hs_rodata", ".rodata");
	check_exe_symbol("hs_local_data", ".data");
	check_exe_symbol("hs_big_bss", ".bss");
	check_exe_symbol("hs_static_fn", ".text");
	check_exe_symbol("main", ".text");

	/* the same through the single queries, from the C side */
	CHECK(alloc_get_base(&hs_bss[150]) == hs_bss && alloc_get_size(&hs_bss[299]) == sizeof hs_bss);
	CHECK(alloc_get_base(&hs_data[39]) == hs_data && alloc_get_size(hs_data) == sizeof hs_data);
	CHECK(alloc_get_base(&hs_rodata[10]) == hs_rodata && alloc_get_size(&hs_rodata[63]) == sizeof hs_rodata);
	CHECK(alloc_get_site(hs_data) == NULL || alloc_get_site(hs_data) != NULL); /* any; must not crash */
	CHECK_STREQ(UNIQTYPE_NAME(alloc_get_type(hs_data)), "__ARR40_int$32"); /* from DWARF (-g) */
	struct alloc_info in;
	CHECK_EQ(alloc_get_info(&hs_data[3], &in), 0);
	CHECK_EQ(in.level, 3);
	CHECK_PTR(in.base, hs_data);
	CHECK_EQ(in.size, sizeof hs_data);
	CHECK_EQ(in.seq, 0);

	sweep_exe_symbols();
	check_gap();
	check_outside_sections();

	/* libc: a function and a variable */
	void *gp = dlsym(RTLD_DEFAULT, "getpid");
	CHECK(gp != NULL);
	check_libc_symbol(gp, "getpid");
	void *pr = dlsym(RTLD_DEFAULT, "printf");
	CHECK(pr != NULL);
	check_libc_symbol(pr, "printf");
	void *so = dlsym(RTLD_DEFAULT, "_IO_2_1_stdout_");
	CHECK(so != NULL);
	CHECKF(so == (void *)stdout, "_IO_2_1_stdout_ %p, stdout %p", so, (void *)stdout);
	check_libc_symbol(so, "_IO_2_1_stdout_");
	check_libc_symbol(stdout, "stdout's FILE");

	/* the vdso, read from memory */
	void *vh = dlopen("linux-vdso.so.1", RTLD_NOLOAD | RTLD_LAZY);
	void *vf = vh ? dlsym(vh, "__vdso_clock_gettime") : NULL;
	if (vf)
		check_libc_symbol(vf, "__vdso_clock_gettime");
	else
		printf("note: no vdso clock_gettime\n");

	/* alloc_describe names the symbol and says static */
	check_describe(hs_data, "hs_data");
	check_describe(&hs_data[7], "hs_data");
	check_describe(&hs_bss[299], "hs_bss");
	check_describe(&hs_rodata[1], "hs_rodata");
	check_describe((const char *)hs_static_fn + 1, "hs_static_fn");
	check_describe((const void *)main, "main");
	check_describe(gp, "getpid");

	/* static addresses are not malloc chunks */
	UT_CHECK_NOT_CHUNK(hs_data);
	UT_CHECK_NOT_CHUNK(&hs_bss[10]);
	free(syms);
	return 0;
}
