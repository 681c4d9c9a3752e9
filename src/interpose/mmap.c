/* interpose_mmap.c: the calls that change the process's mappings.  Each one
 * forwards to the next definition and records the change in the region
 * table, holding the regions lock across the call so that the table changes
 * in the same order as the kernel's mappings.  Mappings made behind memlens's
 * back (glibc's malloc and loader call the kernel directly) are learnt from
 * /proc/self/maps when a query meets them. */
#include "base/arena.h"
#include "base/compiler.h"
#include "base/prim.h"
#include "base/thread.h"
#include "interpose/tracking.h"
#include "profile/profile.h"
#include "site/site.h"
#include "space/objects.h"
#include "space/regions.h"
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#define PAGE 4096UL
#define PAGE_UP(n) (((uintptr_t)(n) + PAGE - 1) & ~(PAGE - 1))

static struct {
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int (*mprotect)(void *, size_t, int);
	int (*brk)(void *);
	void *(*sbrk)(intptr_t);
	void *(*shmat)(int, const void *, int);
	int (*shmdt)(const void *);
	int (*dlclose)(void *);
	int (*pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
} real;
static int resolved; /* 0: no, 1: in progress, 2: yes */

/* dlsym may map memory: while it runs, this thread's calls go straight to
 * the kernel. */
static int resolve(void)
{
	int want = 0;
	if (__atomic_load_n(&resolved, __ATOMIC_ACQUIRE) == 2)
		return 1;
	if (!__atomic_compare_exchange_n(&resolved, &want, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return want == 2;
	real.mmap = dlsym(RTLD_NEXT, "mmap");
	real.munmap = dlsym(RTLD_NEXT, "munmap");
	real.mremap = dlsym(RTLD_NEXT, "mremap");
	real.mprotect = dlsym(RTLD_NEXT, "mprotect");
	real.brk = dlsym(RTLD_NEXT, "brk");
	real.sbrk = dlsym(RTLD_NEXT, "sbrk");
	real.shmat = dlsym(RTLD_NEXT, "shmat");
	real.shmdt = dlsym(RTLD_NEXT, "shmdt");
	real.dlclose = dlsym(RTLD_NEXT, "dlclose");
	real.pthread_create = dlsym(RTLD_NEXT, "pthread_create");
	__atomic_store_n(&resolved, 2, __ATOMIC_RELEASE);
	return 1;
}

static long sys_result(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (resolve() && real.mmap)
		return real.mmap(addr, len, prot, flags, fd, off);
	return (void *)sys_result(ML_SYS(SYS_mmap, addr, len, prot, flags, fd, off));
}

static int do_munmap(void *addr, size_t len)
{
	if (resolve() && real.munmap)
		return real.munmap(addr, len);
	return (int)sys_result(ML_SYS(SYS_munmap, addr, len, 0, 0, 0, 0));
}

static void record_map(void *p, size_t len, int prot, int flags, int fd, off_t off, const void *site)
{
	struct ml_region r = {
		.kind = ML_RK_MMAP, .prot = (uint8_t)prot,
		.flags = (flags & MAP_ANONYMOUS) || fd < 0 ? 0 : ML_RF_FILE,
		.tid = memlens__tls.self ? memlens__tls.self->tid : memlens__gettid(),
		.start = (uintptr_t)p, .end = (uintptr_t)p + PAGE_UP(len), .site = site, .offset = (uint64_t)off,
	};
	memlens__region_add_locked(&r);
}

__attribute__((visibility("default"))) void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	int b = memlens__regions_begin();
	void *p = do_mmap(addr, len, prot, flags, fd, off);
	if (b && p != MAP_FAILED)
		record_map(p, len, prot, flags, fd, off, memlens__site(__builtin_return_address(0)));
	memlens__regions_end(b);
	return p;
}

/* The same function under its LFS name (off_t is 64 bits here). */
__attribute__((visibility("default"), alias("mmap"))) void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
                                                                   off_t off);

__attribute__((visibility("default"))) int munmap(void *addr, size_t len)
{
	int b = memlens__regions_begin();
	int r = do_munmap(addr, len);
	if (b && r == 0)
		memlens__region_remove_locked((uintptr_t)addr, (uintptr_t)addr + PAGE_UP(len));
	memlens__regions_end(b);
	return r;
}

__attribute__((visibility("default"))) void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *want = NULL, *p;
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	int b = memlens__regions_begin();
	if (resolve() && real.mremap)
		p = real.mremap(old, old_len, new_len, flags, want);
	else
		p = (void *)sys_result(ML_SYS(SYS_mremap, old, old_len, new_len, flags, want, 0));
	if (b && p != MAP_FAILED) {
		if (old_len == 0 || (flags & 4 /* MREMAP_DONTUNMAP */)) /* the old one stays */
			memlens__region_move_locked((uintptr_t)old, 0, (uintptr_t)p, PAGE_UP(new_len));
		else
			memlens__region_move_locked((uintptr_t)old, PAGE_UP(old_len), (uintptr_t)p, PAGE_UP(new_len));
	}
	memlens__regions_end(b);
	return p;
}

__attribute__((visibility("default"))) int mprotect(void *addr, size_t len, int prot)
{
	int b = memlens__regions_begin(), r;
	if (resolve() && real.mprotect)
		r = real.mprotect(addr, len, prot);
	else
		r = (int)sys_result(ML_SYS(SYS_mprotect, addr, len, prot, 0, 0, 0));
	if (b && r == 0)
		memlens__region_protect_locked((uintptr_t)addr, (uintptr_t)addr + PAGE_UP(len), prot);
	memlens__regions_end(b);
	return r;
}

/* brk and sbrk must stay glibc's own (it keeps the current break in a
 * variable its malloc shares); the region learns the new end afterwards. */
__attribute__((visibility("default"))) int brk(void *addr)
{
	int b = memlens__regions_begin(), r = -1;
	uintptr_t old = (uintptr_t)ML_SYS(SYS_brk, 0, 0, 0, 0, 0, 0);
	if (resolve() && real.brk)
		r = real.brk(addr);
	else
		errno = ENOSYS;
	if (b && r == 0)
		memlens__region_brk_locked(old, (uintptr_t)addr);
	memlens__regions_end(b);
	return r;
}

__attribute__((visibility("default"))) void *sbrk(intptr_t incr)
{
	int b = memlens__regions_begin();
	void *r = (void *)-1;
	if (resolve() && real.sbrk)
		r = real.sbrk(incr);
	else
		errno = ENOSYS;
	if (b && r != (void *)-1)
		memlens__region_brk_locked((uintptr_t)r, (uintptr_t)r + incr);
	memlens__regions_end(b);
	return r;
}

__attribute__((visibility("default"))) void *shmat(int id, const void *addr, int flags)
{
	int b = memlens__regions_begin();
	void *p = (void *)-1;
	if (resolve() && real.shmat)
		p = real.shmat(id, addr, flags);
	else
		errno = ENOSYS;
	if (b && p != (void *)-1) {
		struct shmid_ds ds;
		size_t len = PAGE;
		if (ML_SYS(SYS_shmctl, id, IPC_STAT, &ds, 0, 0, 0) == 0)
			len = ds.shm_segsz;
		struct ml_region r = {
			.kind = ML_RK_MMAP, .flags = ML_RF_SHM, .shmid = id,
			.prot = (uint8_t)(PROT_READ | (flags & SHM_RDONLY ? 0 : PROT_WRITE) | (flags & SHM_EXEC ? PROT_EXEC : 0)),
			.tid = memlens__gettid(), .start = (uintptr_t)p, .end = (uintptr_t)p + PAGE_UP(len),
			.site = memlens__site(__builtin_return_address(0)),
		};
		memlens__region_add_locked(&r);
	}
	memlens__regions_end(b);
	return p;
}

__attribute__((visibility("default"))) int shmdt(const void *addr)
{
	int b = memlens__regions_begin(), r = -1;
	struct ml_region reg;
	int known = memlens__region_find((uintptr_t)addr, &reg) && (reg.flags & ML_RF_SHM) && reg.start == (uintptr_t)addr;
	if (resolve() && real.shmdt)
		r = real.shmdt(addr);
	else
		errno = ENOSYS;
	if (b && r == 0 && known)
		memlens__region_remove_locked(reg.start, reg.end);
	memlens__regions_end(b);
	return r;
}

/* dlclose: objects the loader unloaded leave the model at once.  (dlopen is
 * not wrapped: see objects.c.) */
__attribute__((visibility("default"))) int dlclose(void *h)
{
	int r = -1;
	if (resolve() && real.dlclose)
		r = real.dlclose(h);
	if (r == 0) {
		int b = memlens__regions_begin();
		if (b)
			memlens__objects_sync_locked();
		memlens__regions_end(b);
	}
	return r;
}

/* ---- thread stacks ------------------------------------------------------- */

struct start { void *(*fn)(void *); void *arg; };
struct live_stack { uintptr_t lo; pid_t tid; };

static void stack_over(void *arg)
{
	struct live_stack *s = arg;
	memlens__thread_end_cache();
	memlens__profile_thread_end();
	if (s->lo)
		memlens__region_remove_stack(s->lo, s->tid);
}

/* The new thread records its own stack (pthread_getattr_np answers for the
 * calling thread without reading /proc), and removes it however it ends:
 * return, pthread_exit or cancellation all run the cleanup handler. */
/* Not instrumented in a sanitizer build: a cancellation unwinds through
 * the cleanup buffer that ASan would otherwise see as out of bounds. */
static ML_NO_SANITIZE void *thread_start(void *arg)
{
	struct start st = *(struct start *)arg;
	struct live_stack s = { 0, memlens__gettid() };
	pthread_attr_t at;
	void *ret;
	memlens__arena_free(arg, sizeof st);
	/* pthread_getattr_np allocates (a cpu set): memlens's own use, not the
	 * program's, so the hooks pass it through untracked. */
	int g = memlens__tls.guard;
	memlens__tls.guard = ML_GUARD_INTERNAL;
	if (pthread_getattr_np(pthread_self(), &at) == 0) {
		void *lo;
		size_t size;
		if (pthread_attr_getstack(&at, &lo, &size) == 0)
			s.lo = memlens__region_add_stack((uintptr_t)lo, (uintptr_t)lo + size, s.tid);
		pthread_attr_destroy(&at);
	}
	memlens__tls.guard = g;
	pthread_cleanup_push(stack_over, &s);
	ret = st.fn(st.arg);
	pthread_cleanup_pop(1);
	return ret;
}

__attribute__((visibility("default"))) int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                                                         void *(*fn)(void *), void *arg)
{
	if (!resolve() || !real.pthread_create)
		return EAGAIN;
	struct start *st = memlens__arena_alloc(sizeof *st);
	if (!st)
		return real.pthread_create(t, attr, fn, arg);
	st->fn = fn;
	st->arg = arg;
	memlens__seq_before_thread();
	int r = real.pthread_create(t, attr, thread_start, st);
	if (r != 0)
		memlens__arena_free(st, sizeof *st);
	return r;
}
