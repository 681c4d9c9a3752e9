/* prim.h: the thin OS layer.  Every system call memlens makes goes through
 * here, as a raw syscall that neither allocates nor touches errno, so the
 * rest of the runtime reads as pure logic and is safe inside malloc. */
#ifndef MEMLENS_PRIM_H
#define MEMLENS_PRIM_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

long memlens__syscall6(long n, long a, long b, long c, long d, long e, long f);
#define ML_SYS(n, a, b, c, d, e, f) memlens__syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* Anonymous private memory; NULL on failure. reserve_only maps NORESERVE. */
void *memlens__map(size_t len, int reserve_only);
void memlens__unmap(void *p, size_t len);
/* write(2) all of buf, retrying short writes and EINTR; -1 on error. */
long memlens__write_all(int fd, const void *buf, size_t len);
/* The first len - 1 bytes of the small file path (a /proc file),
 * NUL-terminated in buf: their count, or -1 when it cannot be read. */
long memlens__read_small(const char *path, char *buf, size_t len);
pid_t memlens__gettid(void);
pid_t memlens__getpid(void);
/* getenv that works before libc has initialised (reads the stack's envp);
 * NULL for every MEMLENS_* name in secure-execution mode. */
const char *memlens__getenv(const char *name);
/* Secure-execution mode (AT_SECURE: set-ID or file capabilities). */
int memlens__secure_mode(void);
/* A close-on-exec copy of fd where the program cannot collide with it
 * (at its RLIMIT_NOFILE; prim.c says how); -1 on failure. */
int memlens__dup_high(int fd);
void memlens__close(int fd);
void memlens__abort(void) __attribute__((noreturn));

static inline void memlens__pause(void) { __builtin_ia32_pause(); }

/* A test-and-test-and-set lock for memlens's rare, short critical sections
 * (never on the allocation path). */
static inline void memlens__spin_lock(int *w)
{
	while (__atomic_exchange_n(w, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(w, __ATOMIC_RELAXED))
			memlens__pause();
}
static inline void memlens__spin_unlock(int *w) { __atomic_store_n(w, 0, __ATOMIC_RELEASE); }
static inline int memlens__spin_trylock(int *w) { return !__atomic_exchange_n(w, 1, __ATOMIC_ACQUIRE); }

/* An owner-named lock: 0, or its holder, named by the address of the
 * holder thread's memlens__lock_id.  For the locks that fork's handlers
 * take: a signal handler that forks while its own thread holds one (the
 * handler interrupted memlens inside it) can tell, and must leave it as
 * it is instead of waiting for itself. */
extern __thread char memlens__lock_id __attribute__((tls_model("initial-exec")));
static inline uintptr_t memlens__olock_me(void) { return (uintptr_t)&memlens__lock_id; }
/* Does this thread hold it? */
static inline int memlens__olock_mine(uintptr_t *l)
{
	return __atomic_load_n(l, __ATOMIC_RELAXED) == memlens__olock_me();
}
/* 1: taken.  Fails on a lock this thread holds. */
static inline int memlens__olock_try(uintptr_t *l)
{
	uintptr_t free_ = 0;
	return __atomic_compare_exchange_n(l, &free_, memlens__olock_me(), 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
static inline void memlens__olock_lock(uintptr_t *l)
{
	while (!memlens__olock_try(l))
		while (__atomic_load_n(l, __ATOMIC_RELAXED))
			memlens__pause();
}
static inline void memlens__olock_unlock(uintptr_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }
/* fork's handlers: takes the lock unless this thread holds it already (a
 * signal handler that interrupted its holder forks: the lock stays the
 * interrupted code's, in parent and child).  1: taken, to be released. */
static inline int memlens__olock_lock_unless_mine(uintptr_t *l)
{
	if (memlens__olock_mine(l))
		return 0;
	memlens__olock_lock(l);
	return 1;
}

/* Is the process under a seccomp filter, which may forbid a system call
 * memlens would make (membarrier, kcmp), and kill it for trying?
 * /proc/self/status says; unreadable: assume so.  Async-signal-safe. */
int memlens__seccomp_filtered(void);

/* The running executable's path (NUL-terminated, "" if unknown). */
void memlens__exe_path(char *buf, size_t len);
#endif
