/* site.c: the allocation site of a chunk.  The fast path is the hook's own
 * return address.  When that lies inside libc or libstdc++ (strdup,
 * asprintf, getline, fopen, operator new ...), the slow path unwinds with
 * libgcc's unwinder (it reads .eh_frame, so it needs no frame pointers) to
 * the first frame outside them and outside memlens. */
#include "internal.h"
#include "thread.h"
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <unwind.h>

uintptr_t memlens__wrap_lo[2], memlens__wrap_len[2];
static uintptr_t self_lo, self_hi;

struct seg_query { uintptr_t base; uintptr_t lo, hi; };

/* The executable PT_LOAD segment of the object loaded at q->base. */
static int find_text(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct seg_query *q = arg;
	(void)size;
	if (info->dlpi_addr != q->base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			q->lo = info->dlpi_addr + ph->p_vaddr;
			q->hi = q->lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

static int text_of(const void *addr, uintptr_t *lo, uintptr_t *hi)
{
	Dl_info di;
	struct seg_query q = { 0, 0, 0 };
	if (!addr || !dladdr(addr, &di) || !di.dli_fbase)
		return 0;
	/* dlpi_addr is the load bias; for a PIC object it equals dli_fbase. */
	q.base = (uintptr_t)di.dli_fbase;
	dl_iterate_phdr(find_text, &q);
	if (!q.hi) {
		struct link_map *lm;
		Dl_info di2;
		if (dladdr1(addr, &di2, (void **)&lm, RTLD_DL_LINKMAP) && lm) {
			q.base = lm->l_addr;
			dl_iterate_phdr(find_text, &q);
		}
	}
	*lo = q.lo;
	*hi = q.hi;
	return q.hi != 0;
}

void memlens__site_init(void)
{
	static const char *const probes[] = { "strdup", "_Znwm", NULL };
	int n = 0;
	for (int i = 0; probes[i] && n < 2; i++) {
		uintptr_t lo, hi;
		if (text_of(dlsym(RTLD_DEFAULT, probes[i]), &lo, &hi)) {
			memlens__wrap_lo[n] = lo;
			memlens__wrap_len[n] = hi - lo;
			n++;
		}
	}
	text_of((const void *)memlens__site_init, &self_lo, &self_hi);
}

static int skip_frame(uintptr_t ip)
{
	if (ip - self_lo < self_hi - self_lo)
		return 1;
	for (int i = 0; i < 2; i++)
		if (ip - memlens__wrap_lo[i] < memlens__wrap_len[i])
			return 1;
	return 0;
}

struct walk { uintptr_t found; int depth; };

static _Unwind_Reason_Code walk_cb(struct _Unwind_Context *ctx, void *arg)
{
	struct walk *w = arg;
	uintptr_t ip = _Unwind_GetIP(ctx);
	if (++w->depth > 48 || !ip)
		return _URC_END_OF_STACK;
	if (skip_frame(ip))
		return _URC_NO_REASON;
	w->found = ip;
	return _URC_END_OF_STACK;
}

const void *memlens__site_slow(const void *ra)
{
	/* Runs inside a hook (guard set): a signal handler that allocates
	 * meanwhile is deferred like any nested call; the unwinder itself does
	 * not allocate. */
	struct walk w = { 0, 0 };
	_Unwind_Backtrace(walk_cb, &w);
	return w.found ? (const void *)w.found : ra;
}
