/* prim.c: raw system calls (x86-64 Linux). */
#include "prim.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <string.h>
#include <errno.h>

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

int memlens__open_out(const char *path, int append)
{
	long fd = ML_SYS(SYS_open, path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644, 0, 0, 0);
	if (fd < 0)
		return -1;
	long hi = ML_SYS(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 100, 0, 0, 0);
	if (hi >= 0) {
		ML_SYS(SYS_close, fd, 0, 0, 0, 0, 0);
		fd = hi;
	}
	return (int)fd;
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
