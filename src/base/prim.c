/* prim.c: raw system calls (x86-64 Linux). */
#include "base/prim.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <string.h>
#include <errno.h>

__thread char memlens__lock_id __attribute__((tls_model("initial-exec")));

long memlens__syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return ret;
}

void *memlens__map(size_t len, int reserve_only)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | (reserve_only ? MAP_NORESERVE : 0);
	long r = ML_SYS(SYS_mmap, 0, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (r < 0 && r > -4096)
		return NULL;
	return (void *)r;
}

void memlens__unmap(void *p, size_t len)
{
	ML_SYS(SYS_munmap, p, len, 0, 0, 0, 0);
}

long memlens__read_small(const char *path, char *buf, size_t len)
{
	long fd = ML_SYS(SYS_open, path, O_RDONLY | O_CLOEXEC, 0, 0, 0, 0), n, got = 0;
	if (fd < 0 || len == 0)
		return -1;
	while ((size_t)got < len - 1 && (n = ML_SYS(SYS_read, fd, buf + got, len - 1 - (size_t)got, 0, 0, 0)) != 0) {
		if (n == -EINTR)
			continue;
		if (n < 0)
			break;
		got += n;
	}
	ML_SYS(SYS_close, fd, 0, 0, 0, 0, 0);
	buf[got] = 0;
	return got;
}

long memlens__write_all(int fd, const void *buf, size_t len)
{
	const char *c = buf;
	size_t done = 0;
	while (done < len) {
		long r = ML_SYS(SYS_write, fd, c + done, len - done, 0, 0, 0);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return (long)done;
}

pid_t memlens__gettid(void) { return (pid_t)ML_SYS(SYS_gettid, 0, 0, 0, 0, 0, 0); }
pid_t memlens__getpid(void) { return (pid_t)ML_SYS(SYS_getpid, 0, 0, 0, 0, 0, 0); }

extern char **environ;
extern char **__environ;

int memlens__secure_mode(void) { return getauxval(AT_SECURE) != 0; }

const char *memlens__getenv(const char *name)
{
	char **env = __environ;
	size_t n = strlen(name);
	/* A set-ID or file-capability program must not obey the invoking
	 * user's MEMLENS_* (files, plugins): ignored, as ld.so ignores
	 * LD_PRELOAD there; options.c says so once. */
	if (!strncmp(name, "MEMLENS_", 8) && memlens__secure_mode())
		return NULL;
	if (!env)
		return NULL;
	for (; *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* The program may open or dup2 onto any descriptor below its soft
 * RLIMIT_NOFILE, so the copy goes at the limit itself: the soft limit is
 * raised by one for the dup and put back (an open descriptor above the
 * limit stays usable; open, dup2 and F_DUPFD cannot reach it).  When the
 * soft limit is the hard one, the last descriptor under it, which only a
 * program that exhausts its table or names that number would meet (the
 * caller checks the copy is still its file before each use).  Limits past
 * ML_FD_CAP would cost the kernel a table of that many slots per process,
 * copied at every fork: there the copy sits at ML_FD_CAP - 1. */
#define ML_FD_CAP 65536
int memlens__dup_high(int fd)
{
	struct { uint64_t cur, max; } rl, up;
	long r = -1;
	if (ML_SYS(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &rl, 0, 0) != 0)
		return -1;
	if (rl.cur < rl.max && rl.cur <= ML_FD_CAP) {
		up = rl;
		up.cur = rl.cur + 1;
		if (ML_SYS(SYS_prlimit64, 0, RLIMIT_NOFILE, &up, 0, 0, 0) == 0) {
			r = ML_SYS(SYS_fcntl, fd, F_DUPFD_CLOEXEC, rl.cur, 0, 0, 0);
			ML_SYS(SYS_prlimit64, 0, RLIMIT_NOFILE, &rl, 0, 0, 0);
		}
	}
	if (r < 0 && rl.cur > 3)
		r = ML_SYS(SYS_fcntl, fd, F_DUPFD_CLOEXEC, (rl.cur < ML_FD_CAP ? rl.cur : ML_FD_CAP) - 1, 0, 0, 0);
	return r < 0 ? -1 : (int)r;
}

void memlens__close(int fd) { ML_SYS(SYS_close, fd, 0, 0, 0, 0, 0); }

void memlens__exe_path(char *buf, size_t len)
{
	long n = len ? ML_SYS(SYS_readlink, "/proc/self/exe", buf, len - 1, 0, 0, 0) : -1;
	if (len)
		buf[n > 0 ? n : 0] = '\0';
}

void memlens__abort(void)
{
	/* Like abort(3) but without touching stdio: unblock, raise, then die. */
	sigset_t set;
	memset(&set, 0, sizeof set);
	sigaddset(&set, SIGABRT);
	ML_SYS(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, 0, 8, 0, 0);
	ML_SYS(SYS_tgkill, memlens__getpid(), memlens__gettid(), SIGABRT, 0, 0, 0);
	struct { void *h; unsigned long fl; void *r; unsigned long m; } dfl = {0, 0, 0, 0};
	ML_SYS(SYS_rt_sigaction, SIGABRT, &dfl, 0, 8, 0, 0);
	ML_SYS(SYS_tgkill, memlens__getpid(), memlens__gettid(), SIGABRT, 0, 0, 0);
	for (;;)
		ML_SYS(SYS_exit_group, 127, 0, 0, 0, 0, 0);
}

int memlens__seccomp_filtered(void)
{
	char buf[4096];
	long got = memlens__read_small("/proc/self/status", buf, sizeof buf);
	if (got < 0)
		return 1;
	const char *s = strstr(buf, "\nSeccomp:");
	if (!s)
		return got <= 0; /* a kernel without seccomp says nothing */
	for (s += 9; *s == ' ' || *s == '\t'; s++)
		;
	return *s != '0';
}
