/* preinit_free: a calloc in .preinit_array (before any library's
 * constructor, memlens's included), a chunk another preload's constructor
 * made (libother.so, built by preinit.sh), and a chunk from glibc's own
 * __libc_malloc (memlens never saw it); main frees all three and carries on.
 * None may be reported as an error or crash (RELIABILITY #12, #31). */
#include "mlweak.h"
#include <dlfcn.h>

static void *early;
static void early_init(void) { early = calloc(3, 100); }
__attribute__((section(".preinit_array"), used)) static void (*preinit)(void) = early_init;

extern void *__libc_malloc(size_t);

int main(void)
{
	CHECK(early != NULL);
	memset(early, 1, 300);
	void *(*get_other)(void) = (void *(*)(void))dlsym(RTLD_DEFAULT, "other_chunk");
	void *other = get_other ? get_other() : NULL;
	if (other)
		memset(other, 2, 50);
	free(early);
	free(other);
	void *foreign = __libc_malloc(48);
	CHECK(foreign != NULL);
	free(foreign);
	/* the heap still works */
	for (int i = 0; i < 1000; i++)
		free(malloc(i));
	say("done other=%d\n", other != NULL);
	return 0;
}
