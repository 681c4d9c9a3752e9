/* prog.c: the program whose stacks the `memlens report` tests put in their
 * generated profiles (tests/unit/report/rlib.py).  It prints its module map
 * as the runtime records it (src/profile/write.c: the PT_LOAD span, the load bias,
 * the build-id) and, at each "allocation site", the return addresses of its
 * stack, innermost first:
 *
 *   mod LO HI BIAS BUILDID PATH
 *   stack NAME PC...
 *
 * The tests find the expected source lines by the @ markers in the comments.
 * Built with -g -O1, -no-pie (bias 0) and -pie (bias != 0). */
#define _GNU_SOURCE
#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static NOINLINE void print_stack(const char *name)
{
	void *pcs[64];
	int n = backtrace(pcs, 64);
	printf("stack %s", name);
	for (int i = 1; i < n; i++) /* pcs[0] is in here */
		printf(" %lx", (unsigned long)pcs[i]);
	printf("\n");
}

NOINLINE void make_buffer(void)
{
	print_stack("A"); /* @A */
	__asm__ volatile("");
}

static inline __attribute__((always_inline)) void intern_string(void)
{
	print_stack("B"); /* @B */
}

NOINLINE void parse_input(void)
{
	intern_string(); /* @Bcall */
	__asm__ volatile("");
}

NOINLINE void temp_work(void)
{
	print_stack("C"); /* @C */
	__asm__ volatile("");
}

NOINLINE void leaky(void)
{
	print_stack("D"); /* @D */
	__asm__ volatile("");
}

static int mod_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	unsigned long lo = (unsigned long)-1, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD) {
			unsigned long a = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
			if (a < lo)
				lo = a;
			if (a + info->dlpi_phdr[i].p_memsz > hi)
				hi = a + info->dlpi_phdr[i].p_memsz;
		}
	if (hi <= lo)
		return 0;
	char exe[4096];
	const char *path = info->dlpi_name;
	if (!path || !*path) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = '\0';
		path = exe;
	}
	char id[200] = "-";
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof *nh, *desc = name + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4)
			    && nh->n_descsz <= 64) {
				for (unsigned k = 0; k < nh->n_descsz; k++)
					sprintf(id + 2 * k, "%02x", (unsigned char)desc[k]);
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	printf("mod %lx %lx %lx %s %s\n", lo, hi, (unsigned long)info->dlpi_addr, id, path);
	return 0;
}

int main(void)
{
	dl_iterate_phdr(mod_cb, NULL);
	make_buffer(); /* @mainA */
	parse_input(); /* @mainB */
	temp_work(); /* @mainC */
	leaky(); /* @mainD */
	return 0;
}
