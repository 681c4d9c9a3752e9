/* site.c: the allocation site of a chunk.  The fast path is the hook's own
 * return address.  When that lies inside libc or libstdc++ (strdup,
 * asprintf, getline, fopen, operator new, std::string ...), the site is the
 * first caller outside them, found by walking those wrapper frames:
 *  - the slow path unwinds with libgcc's unwinder (it reads .eh_frame, so it
 *    needs no frame pointers) and learns, for each return address pc into a
 *    wrapper, how far that frame's CFA lies above its callee's (the frame
 *    size at that call, fixed for code that does not alloca);
 *  - once two unwinds agree on a pc's offset, the walk uses it: CFA += off,
 *    pc = *(CFA - 8), a few loads per frame instead of a full unwind;
 *  - two agreeing unwinds do not prove a fixed size (glibc's
 *    _nl_load_locale allocas on one path only), so a pc the walk reads is
 *    believed only if the unwinder has reached it before; anything else
 *    (a local, a stack canary) sends the call to the unwinder, which
 *    learns the true size and marks the frame as varying. */
#include "site/site.h"
#include "base/compiler.h"
#include "site/frames.h"
#include "site/unwind.h"
#include "site/wrappers.h"
#include "space/objects.h"
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

static uintptr_t wrap_lo[2], wrap_len[2];
static uintptr_t self_lo, self_hi;

/* The executable segment of the object holding addr. */
static int text_of(const void *addr, uintptr_t *lo, uintptr_t *hi)
{
	struct ml_loaded l;
	if (!memlens__loaded_object(addr, &l) || !l.text_hi)
		return 0;
	*lo = l.text_lo;
	*hi = l.text_hi;
	return 1;
}

ML_NO_SANITIZE int memlens__object_is(const void *addr, const char *prefix)
{
	struct ml_loaded l;
	const char *base, *c;
	if (!memlens__loaded_object(addr, &l) || !l.name)
		return 0;
	for (base = c = l.name; *c; c++)
		if (*c == '/')
			base = c + 1;
	return strncmp(base, prefix, strlen(prefix)) == 0;
}

/* The span of the operator new family where a program defines its own
 * (gcc's cc1 does): just those functions, never the whole program. */
static int new_family_span(uintptr_t *lo, uintptr_t *hi)
{
	static const char *const names[] = { "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
	                                     "_ZnwmSt11align_val_t", "_ZnamSt11align_val_t", NULL };
	uintptr_t l = UINTPTR_MAX, h = 0;
	for (int i = 0; names[i]; i++) {
		Dl_info di;
		const ElfW(Sym) *sym = NULL;
		void *f = dlsym(RTLD_DEFAULT, names[i]);
		if (!f || !dladdr1(f, &di, (void **)&sym, RTLD_DL_SYMENT) || !sym || sym->st_shndx == SHN_UNDEF)
			continue;
		if ((uintptr_t)f < l)
			l = (uintptr_t)f;
		if ((uintptr_t)f + (sym->st_size ? sym->st_size : 1) > h)
			h = (uintptr_t)f + (sym->st_size ? sym->st_size : 1);
	}
	if (!h || h - l > 64 * 1024) /* not one cluster: keep just operator new */
		return 0;
	*lo = l;
	*hi = h;
	return 1;
}

void memlens__site_init(void)
{
	uintptr_t lo, hi;
	void *strdup_fn = dlsym(RTLD_DEFAULT, "strdup"), *new_fn = dlsym(RTLD_DEFAULT, "_Znwm");
	int n = 0;
	/* Everything libc or libstdc++ allocates is on its caller's behalf. */
	if (memlens__object_is(strdup_fn, "libc.so") && text_of(strdup_fn, &lo, &hi)) {
		wrap_lo[n] = lo;
		wrap_len[n++] = hi - lo;
	}
	if (new_fn && memlens__object_is(new_fn, "libstdc++.so") && text_of(new_fn, &lo, &hi)) {
		wrap_lo[n] = lo;
		wrap_len[n++] = hi - lo;
	} else if (new_fn && new_family_span(&lo, &hi)) {
		wrap_lo[n] = lo;
		wrap_len[n++] = hi - lo;
	}
	/* Their pages share the wrappers' page bitmap, so that the hooks'
	 * fast test is that one bit; a program page hashed onto one of them
	 * only takes the exact test in memlens__site_slow. */
	for (int i = 0; i < n; i++)
		memlens__wrap_mark_pages(wrap_lo[i], wrap_lo[i] + wrap_len[i]);
	text_of((const void *)memlens__site_init, &self_lo, &self_hi);
	memlens__frames_changed(); /* what skip_frame skips is known now */
}

static int skip_frame(uintptr_t ip)
{
	if (ip - self_lo < self_hi - self_lo)
		return 1;
	for (int i = 0; i < 2; i++)
		if (ip - wrap_lo[i] < wrap_len[i])
			return 1;
	return memlens__is_wrapper(ip);
}

int memlens__site_skips(uintptr_t ip) { return skip_frame(ip); }

static int is_site(uintptr_t ip) { return !skip_frame(ip); }

/* At frame k (return address ip_k into function F_k), the unwinder gives
 * G_k, the CFA of F_k's callee (F_k's stack pointer at the call); F_k's own
 * CFA is G_(k+1).  So the offset for ip_k is G_(k+1) - G_k, learnt one
 * frame later. */
static const void *site_unwind(const void *ra)
{
	/* Runs inside a hook (guard set): a signal handler that allocates
	 * meanwhile is handled like any nested call; the unwinder itself does
	 * not allocate.  Every frame before the last was skipped (until). */
	static const struct ml_unwind how = { .until = is_site };
	struct ml_uframe f[48];
	int n = memlens__unwind(&how, f, 48);
	for (int k = 1; k < n && f[k].ip; k++)
		if (!(f[k - 1].ip - self_lo < self_hi - self_lo))
			memlens__frame_learn(f[k - 1].ip, (intptr_t)(f[k].cfa - f[k - 1].cfa));
	if (!n || !f[n - 1].ip || skip_frame(f[n - 1].ip))
		return ra;
	memlens__frame_return(f[n - 1].ip); /* a real return address: fast walks may stop here */
	return (const void *)f[n - 1].ip;
}

/* A memo of the walk below, for the calls that come back through the same
 * wrappers (operator new, strdup) again and again: per pc, either a
 * wrapper's return address with its trusted frame size, or a pc found to
 * be a site (not a wrapper, reached by the unwinder before): pc << 16 | the
 * size, 0 for a site.  Each entry is one word, written whole, so a reader
 * on any thread sees an entry or none; the memo is emptied when what it
 * was learnt from changes (memlens__frames_epoch), and an entry written
 * from what was true before a change is taken back by its writer. */
uint64_t memlens__site_memo[ML_SITE_MEMO];
unsigned memlens__site_memo_epoch;

static __attribute__((noinline)) void memo_empty(unsigned epoch)
{
	for (unsigned i = 0; i < ML_SITE_MEMO; i++)
		__atomic_store_n(&memlens__site_memo[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&memlens__site_memo_epoch, epoch, __ATOMIC_RELEASE);
}

static void memo_put(uintptr_t pc, uint64_t off, unsigned epoch)
{
	uint64_t *m = memlens__site_memo_slot(pc);
	__atomic_store_n(m, (uint64_t)pc << 16 | off, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&memlens__frames_epoch, __ATOMIC_SEQ_CST) != epoch)
		__atomic_store_n(m, 0, __ATOMIC_RELAXED);
}

/* The walk from the hook's CFA, learning into the memo. */
static __attribute__((noinline)) const void *site_walk(const void *ra, uintptr_t cfa)
{
	uintptr_t pc = (uintptr_t)ra, top = cfa + 64 * 1024; /* wrapper frames are small */
	unsigned epoch = __atomic_load_n(&memlens__frames_epoch, __ATOMIC_ACQUIRE);
	if (!cfa)
		return site_unwind(ra);
	if (ML_UNLIKELY(epoch != __atomic_load_n(&memlens__site_memo_epoch, __ATOMIC_ACQUIRE)))
		memo_empty(epoch);
	for (int depth = 0; depth < 32; depth++) {
		struct ml_frame *e;
		uint64_t m = __atomic_load_n(memlens__site_memo_slot(pc), __ATOMIC_RELAXED);
		int32_t off;
		if (m >> 16 == pc && pc) {
			if (!(off = (int32_t)(m & 0xffff)))
				return (const void *)pc;
		} else {
			if (!skip_frame(pc)) {
				if (depth == 0)
					return (const void *)pc;
				if (!memlens__frame_known(pc))
					return site_unwind(ra);
				memo_put(pc, 0, epoch);
				return (const void *)pc;
			}
			e = memlens__frame(pc, 0);
			if (!e || __atomic_load_n(&e->state, __ATOMIC_ACQUIRE) != ML_FRAME_TRUSTED)
				return site_unwind(ra);
			off = e->off;
			if (off > 0 && off < 0x10000)
				memo_put(pc, (uint64_t)off, epoch);
		}
		cfa += (uintptr_t)off;
		if (cfa > top)
			return site_unwind(ra);
		pc = *(const uintptr_t *)(cfa - 8);
	}
	return site_unwind(ra);
}

/* The memo's part of the walk first, calling nothing (so saving no
 * registers); anything it does not know, the walk itself. */
const void *memlens__site_slow(const void *ra, uintptr_t cfa)
{
	const void *s = memlens__site_memo_walk(ra, cfa, 32);
	return s ? s : site_walk(ra, cfa);
}
