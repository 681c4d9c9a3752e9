/* init.c: start-up and exit.  Hooks initialise lazily on the first call
 * (memlens__resolve); the constructor then does what needs a working
 * process: options, wrapper ranges for allocation sites, fork handlers, and
 * the check that memlens's malloc is the one the program calls.  No thread
 * is started and no signal handler installed. */
#include "allocators/allocator.h"
#include "allocators/hierarchy.h"
#include "base/diag.h"
#include "base/options.h"
#include "base/owner.h"
#include "base/thread.h"
#include "heap/chunkcache.h"
#include "space/regions.h"
#include "ext/observe.h"
#include "profile/profile.h"
#include "base/run_state.h"
#include "base/runtime.h"
#include "base/thread.h"
#include "ext/observe.h"
#include "interpose/early.h"
#include "interpose/exit.h"
#include "interpose/fork.h"
#include "interpose/real_malloc.h"
#include "profile/profile.h"
#include "site/site.h"
#include "site/unwind.h"
#include "site/wrappers.h"
#include "space/objects.h"
#include "space/regions.h"
#include "space/dynsym.h"
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>

extern __typeof(malloc) memlens__malloc_self;

struct objects { int n; const char *name[64]; uintptr_t base[64]; };

static int collect(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct objects *o = arg;
	(void)size;
	if (o->n < 64 && info->dlpi_name && *info->dlpi_name) {
		o->name[o->n] = info->dlpi_name;
		o->base[o->n++] = info->dlpi_addr;
	}
	return 0;
}

/* The first shared object, in load order (the global lookup order for the
 * objects loaded at start-up), that defines name itself. */
static void *first_definition(const char *name)
{
	static struct objects o;
	o.n = 0;
	dl_iterate_phdr(collect, &o);
	for (int i = 0; i < o.n; i++) {
		void *h = dlopen(o.name[i], RTLD_LAZY | RTLD_NOLOAD), *s;
		struct ml_loaded l;
		if (!h)
			continue;
		s = dlsym(h, name);
		dlclose(h);
		if (s && memlens__loaded_object(s, &l) && l.bias == o.base[i])
			return s;
	}
	return NULL;
}

/* glibc passes ELF constructors the process's argc, argv and envp. */
__attribute__((constructor(101))) static void memlens_init(int argc, char **argv, char **envp)
{
	int g;
	struct ml_uframe f[3];
	void *m;
	memlens__options_init();
	if (memlens__opt.stats && !memlens__opt.stats_path)
		memlens__log_keep_stderr(); /* before the program can close it */
	memlens__owner_set();
	memlens__resolve();
	if (memlens__hdr_on)
		memlens__cache_limit = memlens__opt.cache;
	g = memlens__tls.guard;
	memlens__tls.guard = ML_GUARD_INTERNAL;
	memlens__site_init();
	memlens__fork_handlers_install();
	memlens__unwind(NULL, f, 3); /* first use may load and cache */
	memlens__early_index();
	memlens__auxv_init(argc, argv, envp);
	memlens__regions_init();
	memlens__wrappers_init();
	if (memlens__auto_wrappers)
		__atomic_or_fetch(&memlens__hook_gate, ML_GATE_SAMPLED, __ATOMIC_SEQ_CST);
	m = dlsym(RTLD_DEFAULT, "malloc");
	/* A non-PIE executable that takes malloc's address exports its PLT
	 * stub as malloc's canonical address (an undefined symbol): the malloc
	 * it calls is then the first definition in load order. */
	if (m && m != (void *)memlens__malloc_self) {
		Dl_info di;
		const ElfW(Sym) *sym = NULL;
		if ((memlens__dynsym_at(m, "malloc", &sym) || dladdr1(m, &di, (void **)&sym, RTLD_DL_SYMENT)) && sym &&
		    sym->st_shndx == SHN_UNDEF)
			m = first_definition("malloc");
	}
	memlens__tls.guard = g;
	if (m && m != (void *)memlens__malloc_self) {
		char where[512];
		struct mlbuf b = MLBUF(where);
		if (!memlens__symbolize(m, &b))
			memlens__bputs(&b, "(unknown)");
		memlens__bend(&b);
		memlens__warn("interposition inactive: malloc resolves to %s, not memlens; heap allocations are not tracked", where);
	}
	memlens__profile_init();
	memlens__run_state_init((memlens__opt.stats ? ML_RUN_OWES_STATS : 0) | (memlens__profiling ? ML_RUN_OWES_PROFILE : 0));
	memlens__plugins_load(&memlens__malloc_allocator.pub);
}

__attribute__((destructor)) static void memlens_fini(void)
{
	memlens__report_at_exit();
}
