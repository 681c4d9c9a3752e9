/* describe.c: readable descriptions of addresses.  Symbolization happens
 * here, lazily, never on the allocation path (dladdr; DWARF lines come with
 * the types work). */
#include "internal.h"
#include "thread.h"
#include "prim.h"
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* The object file mapped read-only with raw syscalls (no allocation), or
 * NULL. */
static const unsigned char *map_file(const char *file, size_t *size)
{
	struct stat st;
	long fd = ML_SYS(SYS_open, file, O_RDONLY | O_CLOEXEC, 0, 0, 0, 0), m;
	if (fd < 0)
		return NULL;
	if (ML_SYS(SYS_fstat, fd, &st, 0, 0, 0, 0) != 0 || st.st_size < (off_t)sizeof(ElfW(Ehdr))) {
		memlens__close((int)fd);
		return NULL;
	}
	m = ML_SYS(SYS_mmap, 0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	memlens__close((int)fd);
	if ((uintptr_t)m > (uintptr_t)-4096)
		return NULL;
	*size = (size_t)st.st_size;
	return (const unsigned char *)m;
}

/* The function containing rel (an address less the load bias) in the full
 * symbol table (.symtab) of the mapped file m: "name+0xoff ".  1 if found. */
static int search_symtab(const unsigned char *m, size_t size, uintptr_t rel, struct mlbuf *b)
{
	const ElfW(Ehdr) *eh = (const void *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_shoff == 0 || eh->e_shentsize != sizeof(ElfW(Shdr)) ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(ElfW(Shdr)) > size)
		return 0;
	const ElfW(Shdr) *sh = (const void *)(m + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum)
			continue;
		const ElfW(Shdr) *strs = &sh[sh[i].sh_link];
		if (sh[i].sh_offset + sh[i].sh_size > size || strs->sh_offset + strs->sh_size > size)
			continue;
		const ElfW(Sym) *sym = (const void *)(m + sh[i].sh_offset);
		size_t n = sh[i].sh_size / sizeof(ElfW(Sym));
		for (size_t k = 0; k < n; k++) {
			if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || !sym[k].st_value)
				continue;
			if (rel - sym[k].st_value < (sym[k].st_size ? sym[k].st_size : 1) && sym[k].st_name < strs->sh_size) {
				const char *name = (const char *)m + strs->sh_offset + sym[k].st_name;
				if (memchr(name, 0, strs->sh_size - sym[k].st_name)) {
					memlens__bfmt(b, "%s+0x%lx ", name, (unsigned long)(rel - sym[k].st_value));
					return 1;
				}
			}
		}
	}
	return 0;
}

/* The last object file searched stays mapped: a report names several
 * sites, mostly in the same object, and a program may describe many
 * addresses. */
static struct {
	char path[512];
	const unsigned char *m;
	size_t size;
} cached;
static int cache_lock;

/* Names the function dladdr cannot (not exported: main, static functions)
 * from the object file's .symtab.  Returns 1 if found. */
static int symtab_lookup(const char *file, uintptr_t bias, uintptr_t addr, struct mlbuf *b)
{
	const unsigned char *m;
	size_t size = 0;
	int found;
	if (memlens__spin_trylock(&cache_lock)) {
		if (!cached.m || strcmp(cached.path, file) != 0) {
			if (cached.m)
				ML_SYS(SYS_munmap, cached.m, cached.size, 0, 0, 0, 0);
			cached.m = strlen(file) < sizeof cached.path ? map_file(file, &cached.size) : NULL;
			strcpy(cached.path, cached.m ? file : "");
		}
		found = cached.m && search_symtab(cached.m, cached.size, addr - bias, b);
		memlens__spin_unlock(&cache_lock);
		return found;
	}
	/* Busy (another thread, or this one interrupted in here): uncached. */
	m = map_file(file, &size);
	found = m && search_symtab(m, size, addr - bias, b);
	if (m)
		ML_SYS(SYS_munmap, m, size, 0, 0, 0, 0);
	return found;
}

int memlens__symbolize(const void *addr, struct mlbuf *b)
{
	Dl_info di;
	struct link_map *lm = NULL;
	int ok, g = memlens__tls.guard, saved = errno;
	const char *file;
	memlens__tls.guard = ML_GUARD_INTERNAL;
	ok = addr && dladdr1(addr, &di, (void **)&lm, RTLD_DL_LINKMAP);
	memlens__tls.guard = g;
	errno = saved;
	if (!ok)
		return 0;
	file = di.dli_fname && *di.dli_fname ? di.dli_fname : NULL;
	/* The main program's name may be empty or relative; /proc knows it. */
	char exe[512];
	if (lm && lm->l_name && !*lm->l_name) {
		memlens__exe_path(exe, sizeof exe);
		if (*exe)
			file = exe;
	}
	if (di.dli_sname && di.dli_saddr)
		memlens__bfmt(b, "%s+0x%lx ", di.dli_sname, (unsigned long)((uintptr_t)addr - (uintptr_t)di.dli_saddr));
	else if (file && lm)
		symtab_lookup(file, lm->l_addr, (uintptr_t)addr, b);
	memlens__bfmt(b, "(%s)", file ? file : "?");
	return 1;
}

ML_API_EXPORT int alloc_describe(const void *p, char *buf, size_t len)
{
	struct alloc_info ai;
	char dummy[1];
	struct mlbuf b = { len ? buf : dummy, len ? len : 1, 0 };
	if (alloc_get_info(p, &ai) < 0) {
		memlens__bfmt(&b, "%p is not in any allocation memlens knows", p);
		memlens__bend(&b);
		return -1;
	}
	if ((uintptr_t)p == (uintptr_t)ai.base)
		memlens__bfmt(&b, "%p is the start of a %zu-byte %s chunk", p, ai.size, ai.allocator->name);
	else
		memlens__bfmt(&b, "%p is %zu bytes into a %zu-byte %s chunk", p, (size_t)((uintptr_t)p - (uintptr_t)ai.base),
		              ai.size, ai.allocator->name);
	if (ai.site) {
		memlens__bfmt(&b, " allocated at %p ", ai.site);
		if (!memlens__symbolize(ai.site, &b))
			memlens__bputs(&b, "(unknown)");
	}
	if (ai.tid)
		memlens__bfmt(&b, " by thread %d", (int)ai.tid);
	return (int)memlens__bend(&b);
}
