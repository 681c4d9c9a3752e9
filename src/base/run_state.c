/* run_state.c: the runtime side of the page `memlens run` shares with the
 * process it starts (run_state.h): the outputs that process still owes. */
#include "base/run_state.h"
#include "base/options.h"
#include "base/prim.h"
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

static volatile uint32_t *run_owed; /* ML_RUN_OWES_* bits, in the parent's page */

void memlens__run_state_init(uint32_t owes)
{
	const char *v = memlens__opt.run_state;
	if (!v || !*v || memlens__opt.root_pid != memlens__getpid())
		return; /* only the process memlens run waits for */
	if (!run_owed) {
		long fd = ML_SYS(SYS_open, v, O_RDWR | O_CLOEXEC, 0, 0, 0, 0);
		if (fd < 0)
			return;
		long p = ML_SYS(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		memlens__close((int)fd); /* the mapping stays; no descriptor is kept */
		if (p < 0 && p > -4096)
			return;
		run_owed = (volatile uint32_t *)p;
	}
	*run_owed = owes;
}

void memlens__run_image(const char *path, char *was)
{
	if (!run_owed || memlens__getpid() != memlens__opt.root_pid)
		return;
	char *name = (char *)run_owed + ML_RUN_IMAGE;
	if (!path) {
		memcpy(name, was, ML_RUN_IMAGE_MAX);
		return;
	}
	memcpy(was, name, ML_RUN_IMAGE_MAX);
	size_t n = strnlen(path, ML_RUN_IMAGE_MAX - 1);
	memcpy(name, path, n);
	name[n] = 0;
}

uint32_t memlens__run_owes(uint32_t set, uint32_t clear)
{
	if (!run_owed || memlens__getpid() != memlens__opt.root_pid)
		return 0;
	uint32_t was = *run_owed;
	*run_owed = (was | set) & ~clear;
	return was;
}
