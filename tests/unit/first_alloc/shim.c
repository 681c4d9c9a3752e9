/* shim.c: a posix_memalign that comes after memlens's in the chain (a
 * library the program needs, loaded after the runtime): memlens's hook
 * calls it as "the real one".  When its thread asks (shim_raise), it
 * raises SIGUSR1 first, so that the handler runs inside memlens's hook on
 * a thread that has no memlens record yet (its first allocation). */
#include <errno.h>
#include <signal.h>
#include <stddef.h>

extern void *__libc_memalign(size_t, size_t);
__thread int shim_raise;

int posix_memalign(void **out, size_t align, size_t n)
{
	if (shim_raise) {
		shim_raise = 0;
		raise(SIGUSR1);
	}
	void *p = __libc_memalign(align, n);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}
