/* objects.c: ELF objects as regions.  The loader's list (dl_iterate_phdr) is
 * the truth; memlens does not wrap dlopen, because dlopen searches the
 * caller's RUNPATH and $ORIGIN and a wrapper would become the caller.  New
 * objects are picked up by the first query that meets an unknown address,
 * and by dlclose, which memlens wraps, for the objects that went away.
 * Their symbols also name code addresses in reports (memlens__symbolize). */
#include "space/objects.h"
#include "base/arena.h"
#include "base/compiler.h"
#include "base/diag.h"
#include "base/prim.h"
#include "base/thread.h"
#include "space/elfsym.h"
#include "space/regions.h"
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <elf.h>
#include <sched.h>

#define MAX_OBJECTS 4096
static struct ml_object *objs[MAX_OBJECTS];
static int n_objs;
static unsigned long long seen_adds = ~0ULL, seen_subs = ~0ULL;

/* Symbol tables of unloaded objects are freed late: a query that read the
 * table pointer just before the dlclose may still be searching it. */
#define RETIRED 32
static struct ml_symtab *retired[RETIRED];
static unsigned n_retired;

const char *memlens__object_basename(const struct ml_object *o)
{
	const char *s = strrchr(o->path, '/');
	return s ? s + 1 : o->path;
}

struct ml_symtab *memlens__object_symtab(struct ml_object *o)
{
	int st = __atomic_load_n(&o->sym_state, __ATOMIC_ACQUIRE);
	if (ML_LIKELY(st == 2))
		return o->symtab;
	pid_t self = memlens__gettid();
	for (unsigned spins = 0; st != 2 && st != 3; spins++) {
		if (st == 0 && __atomic_compare_exchange_n(&o->sym_state, &st, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&o->sym_loader, self, __ATOMIC_RELAXED);
			o->symtab = memlens__symtab_load(o->path, o->bias, o->is_vdso ? (const void *)o->lo : NULL);
			__atomic_store_n(&o->sym_state, o->symtab ? 2 : 3, __ATOMIC_RELEASE);
			return o->symtab;
		}
		if (st == 1) {
			/* another thread reads it: a wrong "no symbol" would be
			 * worse than the wait (a few milliseconds) */
			if (__atomic_load_n(&o->sym_loader, __ATOMIC_RELAXED) == self)
				return NULL; /* a signal handler inside the reading */
			if (spins < 64)
				memlens__pause();
			else
				sched_yield();
		}
		st = __atomic_load_n(&o->sym_state, __ATOMIC_ACQUIRE);
	}
	return st == 2 ? o->symtab : NULL;
}

void memlens__objects_postfork_child(void)
{
	for (int i = 0; i < n_objs; i++)
		if (objs[i]->sym_state == 1)
			objs[i]->sym_state = 0; /* its table, half built, is lost */
}

void memlens__object_lookup_names(struct ml_object *o, const char *const *names, int n, struct ml_sym *out)
{
	if (__atomic_load_n(&o->sym_state, __ATOMIC_ACQUIRE) == 2) {
		for (int k = 0; k < n; k++)
			if (!memlens__symtab_lookup_name(o->symtab, names[k], &out[k]))
				out[k] = (struct ml_sym){ 0 };
			else
				out[k].name = names[k];
		return;
	}
	memlens__symtab_scan_names(o->path, o->bias, o->is_vdso ? (const void *)o->lo : NULL, names, n, out);
}

int memlens__object_symbol(uintptr_t a, int fresh, struct ml_sym *sym, struct ml_object **obj)
{
	struct ml_region r;
	struct ml_symtab *t;
	if (obj)
		*obj = NULL;
	if (!(fresh ? memlens__region_find_fresh(a, &r) : memlens__region_find(a, &r)) || r.kind != ML_RK_OBJECT)
		return 0;
	if (obj)
		*obj = r.obj;
	return (t = memlens__object_symtab(r.obj)) && memlens__symtab_find(t, a, sym);
}

void memlens__objects_foreach(void (*fn)(const struct ml_object *, void *), void *ctx)
{
	int b = memlens__regions_begin();
	if (b)
		memlens__objects_sync_locked();
	for (int i = 0; i < n_objs; i++)
		fn(objs[i], ctx);
	memlens__regions_end(b);
}

/* The loader's object whose PT_LOAD segments hold q->addr: what dladdr
 * finds, without its walk over the object's whole symbol table. */
ML_NO_SANITIZE static int holder(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct ml_loaded *q = arg;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || q->addr - (info->dlpi_addr + ph->p_vaddr) >= ph->p_memsz)
			continue;
		q->name = info->dlpi_name;
		q->bias = info->dlpi_addr;
		for (int j = 0; j < info->dlpi_phnum; j++) {
			ph = &info->dlpi_phdr[j];
			if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
				q->text_lo = info->dlpi_addr + ph->p_vaddr;
				q->text_hi = q->text_lo + ph->p_memsz;
				break;
			}
		}
		return 1;
	}
	return 0;
}

ML_NO_SANITIZE int memlens__loaded_object(const void *addr, struct ml_loaded *out)
{
	*out = (struct ml_loaded){ (uintptr_t)addr, NULL, 0, 0, 0 };
	return addr && dl_iterate_phdr(holder, out) == 1;
}

struct sync { int seen[MAX_OBJECTS]; unsigned long long adds, subs; };

/* The object's NT_GNU_BUILD_ID note, from its loaded image. */
static int build_id_of(struct dl_phdr_info *info, const uint8_t **id)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof *nh, *desc = name + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) && nh->n_descsz <= 64) {
				*id = (const uint8_t *)desc;
				return (int)nh->n_descsz;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	return 0;
}

static int same(const struct ml_object *o, const struct dl_phdr_info *info)
{
	return o->bias == info->dlpi_addr && (o->is_main ? !*info->dlpi_name : !strcmp(o->path, info->dlpi_name));
}

static int sync_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct sync *s = arg;
	(void)size;
	s->adds = info->dlpi_adds;
	s->subs = info->dlpi_subs;
	for (int i = 0; i < n_objs; i++)
		if (same(objs[i], info)) {
			s->seen[i] = 1;
			return 0;
		}
	if (n_objs >= MAX_OBJECTS)
		return 0;
	struct ml_object *o = memlens__arena_alloc(sizeof *o);
	if (!o)
		return 0;
	memset(o, 0, sizeof *o);
	o->bias = info->dlpi_addr;
	o->lo = UINTPTR_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		uintptr_t lo = o->bias + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (o->nseg < ML_OBJ_SEGS) {
			o->seg[o->nseg].lo = lo;
			o->seg[o->nseg].hi = hi;
			o->seg[o->nseg].prot = (ph->p_flags & PF_R ? PROT_READ : 0) | (ph->p_flags & PF_W ? PROT_WRITE : 0) |
			                       (ph->p_flags & PF_X ? PROT_EXEC : 0);
			o->nseg++;
		}
		if ((lo & ~4095UL) < o->lo)
			o->lo = lo & ~4095UL;
		if (((hi + 4095) & ~4095UL) > o->hi)
			o->hi = (hi + 4095) & ~4095UL;
	}
	uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);
	o->is_vdso = vdso && vdso == o->lo;
	o->is_main = !*info->dlpi_name && !o->is_vdso;
	if (o->is_main)
		memlens__exe_path(o->path, sizeof o->path);
	else if (o->is_vdso)
		strcpy(o->path, "[vdso]");
	else
		strncpy(o->path, info->dlpi_name, sizeof o->path - 1);
	if (o->hi <= o->lo) {
		memlens__arena_free(o, sizeof *o);
		return 0;
	}
	const uint8_t *id = NULL;
	o->build_id_len = build_id_of(info, &id);
	memcpy(o->build_id, id, (size_t)o->build_id_len);
	struct ml_region r = { .kind = ML_RK_OBJECT, .prot = PROT_READ, .start = o->lo, .end = o->hi, .obj = o };
	memlens__region_add_locked(&r);
	s->seen[n_objs] = 1;
	objs[n_objs++] = o;
	return 0;
}

static int counters(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct sync *s = arg;
	(void)size;
	s->adds = info->dlpi_adds;
	s->subs = info->dlpi_subs;
	return 1;
}

void memlens__objects_sync_locked(void)
{
	static struct sync s; /* under the regions lock */
	dl_iterate_phdr(counters, &s);
	if (s.adds == seen_adds && s.subs == seen_subs)
		return;
	memset(s.seen, 0, (size_t)n_objs * sizeof *s.seen); /* sync_one sets those of new objects */
	dl_iterate_phdr(sync_one, &s);
	seen_adds = s.adds;
	seen_subs = s.subs;
	/* Objects the loader no longer lists were unloaded: their pages answer
	 * their new owner (or nothing) from now on. */
	int k = 0;
	for (int i = 0; i < n_objs; i++) {
		struct ml_object *o = objs[i];
		if (s.seen[i]) {
			objs[k++] = o;
			continue;
		}
		struct ml_region r;
		if (memlens__region_find(o->lo, &r) && r.obj == o)
			memlens__region_remove_locked(o->lo, o->hi);
		if (__atomic_load_n(&o->sym_state, __ATOMIC_ACQUIRE) == 2) {
			struct ml_symtab **slot = &retired[n_retired++ % RETIRED];
			if (*slot)
				memlens__symtab_free(*slot);
			*slot = o->symtab;
		}
		/* The record itself stays (type-stable); a reader that still holds
		 * it sees a region whose sequence number has moved. */
	}
	n_objs = k;
}

/* From memlens's own symbol tables when the address is in an object it
 * knows (every symbol, exported or not); else what the loader says. */
int memlens__symbolize(const void *addr, struct mlbuf *b)
{
	struct ml_sym sym;
	struct ml_object *o;
	if (memlens__object_symbol((uintptr_t)addr, 1, &sym, &o))
		memlens__bfmt(b, "%s+0x%lx ", sym.name, (unsigned long)((uintptr_t)addr - sym.base));
	if (o) {
		memlens__bfmt(b, "(%s)", o->path);
		return 1;
	}
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
	memlens__bfmt(b, "(%s)", file ? file : "?");
	return 1;
}
