/* describe.c: readable descriptions of addresses.  Symbolization happens
 * here, lazily, never on the allocation path (dladdr; DWARF lines come with
 * the types work). */
#include "internal.h"
#include "thread.h"
#include <dlfcn.h>
#include <errno.h>

int memlens__symbolize(const void *addr, struct mlbuf *b)
{
	Dl_info di;
	int ok, g = memlens__tls.guard, saved = errno;
	memlens__tls.guard = ML_GUARD_INTERNAL;
	ok = addr && dladdr(addr, &di);
	memlens__tls.guard = g;
	errno = saved;
	if (!ok)
		return 0;
	if (di.dli_sname && di.dli_saddr)
		memlens__bfmt(b, "%s+0x%lx ", di.dli_sname, (unsigned long)((uintptr_t)addr - (uintptr_t)di.dli_saddr));
	memlens__bfmt(b, "(%s)", di.dli_fname && *di.dli_fname ? di.dli_fname : "?");
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
