/* interpose_exec.c: the exec family, while the profiler records.  An exec
 * ends the program image without exit: its profile is written first (then,
 * should the exec fail, the image goes on and writes again at its end).
 * The new image is told to write FILE.execN instead of FILE, so that the
 * profile of the image before it survives.  Without the profiler these are
 * plain calls to the next definition. */
#include "base/prim.h"
#include "base/run_state.h"
#include "interpose/exit.h"
#include "profile/profile.h"
#include "profile/profile_format.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);

/* Found at load time: an exec in a vfork child must not call dlsym. */
__attribute__((constructor)) static void resolve(void)
{
	if (!real_execve)
		real_execve = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execve");
	if (!real_execvpe)
		real_execvpe = (int (*)(const char *, char *const[], char *const[]))dlsym(RTLD_NEXT, "execvpe");
}

/* Calls fn with envp, where MEMLENS_PROFILE names the next image's file.
 * The new array (and the value) go in memory of memlens's own, mapped for
 * this call: an exec must not call malloc (a vfork child calls it), and the
 * environment is the program's to size, while the stack may be a thread's
 * 64 KiB.  A failed exec unmaps it and returns the kernel's errno (E2BIG
 * where plain gets E2BIG: the array holds no more than envp did).  Not in a
 * vfork child (with_env). */
static __attribute__((noinline)) int with_env_noted(const char *path, char *const argv[], char *const envp[],
                                                    int (*fn)(const char *, char *const[], char *const[]))
{
	enum { VALUE_MAX = 4200 };
	/* The image ends here: what it owed memlens run, the next one owes
	 * (if it is tracked); should the exec fail, this one still does. */
	uint32_t owed = memlens__run_owes(0, ML_RUN_OWES_STATS | ML_RUN_OWES_PROFILE);
	char image[ML_RUN_IMAGE_MAX];
	memlens__run_image(path, image);
	char **env = NULL;
	size_t len = 0;
	if (memlens__profiling) {
		size_t n = 0;
		memlens__profile_write(ML_PROF_END_EXEC);
		while (envp[n])
			n++;
		len = (n + 2) * sizeof(char *) + VALUE_MAX;
		/* Out of memory for it: the exec goes on as the program asked
		 * (the next image then writes the program's own profile name). */
		env = memlens__map(len, 0);
		if (env) {
			char *value = (char *)(env + n + 2);
			memlens__profile_next_name(value, VALUE_MAX);
			size_t k = 0;
			for (size_t i = 0; i < n; i++)
				if (strncmp(envp[i], "MEMLENS_PROFILE=", 16) != 0)
					env[k++] = envp[i];
			env[k++] = value;
			env[k] = NULL;
		}
	}
	int r = fn(path, argv, env ? env : envp);
	memlens__run_owes(owed, 0);
	memlens__run_image(NULL, image);
	if (env)
		memlens__unmap(env, len); /* a raw syscall: errno stays the exec's */
	return r;
}

/* A vfork child shares its parent's memory: the profile is the parent's,
 * and the exec'd program is a new process anyway.  Its exec goes on with
 * no frame of with_env_noted's on the stack they share (a sanitizer build
 * marks a frame's arrays on entry, and an exec that succeeds never takes
 * the marks off: the parent's later frames there would seem overrun). */
static int with_env(const char *path, char *const argv[], char *const envp[],
                    int (*fn)(const char *, char *const[], char *const[]))
{
	if (!envp || memlens__in_vfork_child())
		return fn(path, argv, envp);
	return with_env_noted(path, argv, envp, fn);
}

__attribute__((visibility("default"))) int execve(const char *path, char *const argv[], char *const envp[])
{
	resolve();
	if (!real_execve) {
		errno = ENOSYS;
		return -1;
	}
	return with_env(path, argv, envp, real_execve);
}

__attribute__((visibility("default"))) int execvpe(const char *file, char *const argv[], char *const envp[])
{
	resolve();
	if (!real_execvpe) {
		errno = ENOSYS;
		return -1;
	}
	return with_env(file, argv, envp, real_execvpe);
}

__attribute__((visibility("default"))) int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

__attribute__((visibility("default"))) int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* execl, execlp, execle: the arguments (arg and those after it, up to the
 * NULL) into an array on the stack; for execle, then the envp after it. */
#define GATHER(first, ap, out)                                               \
	do {                                                                 \
		va_list c_;                                                  \
		size_t n_ = 1;                                               \
		va_copy(c_, ap);                                             \
		while (va_arg(c_, char *))                                   \
			n_++;                                                \
		va_end(c_);                                                  \
		out = __builtin_alloca((n_ + 1) * sizeof(char *));           \
		out[0] = (char *)(first);                                    \
		for (size_t i_ = 1; i_ < n_; i_++)                           \
			out[i_] = va_arg(ap, char *);                        \
		out[n_] = va_arg(ap, char *); /* the terminating NULL */     \
	} while (0)

__attribute__((visibility("default"))) int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	char **argv;
	va_start(ap, arg);
	GATHER(arg, ap, argv);
	va_end(ap);
	return execve(path, argv, environ);
}

__attribute__((visibility("default"))) int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	char **argv;
	va_start(ap, arg);
	GATHER(arg, ap, argv);
	va_end(ap);
	return execvpe(file, argv, environ);
}

__attribute__((visibility("default"))) int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **argv, **envp;
	va_start(ap, arg);
	GATHER(arg, ap, argv);
	envp = va_arg(ap, char **);
	va_end(ap);
	return execve(path, argv, envp);
}
