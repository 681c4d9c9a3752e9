/* describe_levels: alloc_describe's exact sentence for the innermost level
 * of each allocator and kind of level (the other tests look for words in
 * it): a static variable in .bss and in .data, a static function, a
 * segment in no section (the executable's ELF header); this thread's
 * stack frame and its stack below the live frames; the start-up area, the
 * argv, envp and auxv arrays and one argument string; an anonymous, a file
 * and a shared memory mapping made here, a mapping memlens only learnt (a
 * raw mmap system call); the brk heap outside any chunk; a malloc chunk;
 * custom allocations inside a chunk, inside another custom allocation and
 * inside a static variable, and one of a custom allocator named "static"
 * (described as a custom allocation, not as a static object).  Sizes and
 * bases are the chain's, so only the wording is checked. */
#include "hier_util.h"
#include <link.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

static char bss_array[256];
int data_var = 7;
static char exe[256];
static int tid;

/* The innermost level of p's chain. */
static struct alloc_info inner(const void *p)
{
	struct alloc_info c[HU_MAX];
	int n = hu_chain(p, c);
	CHECKF(n > 0, "%p: no chain", p);
	return c[n - 1];
}

/* The level before the innermost. */
static struct alloc_info outer(const void *p)
{
	struct alloc_info c[HU_MAX];
	int n = hu_chain(p, c);
	CHECKF(n > 1, "%p: %s", p, hu_chain_str(p));
	return c[n - 2];
}

/* "P is the start of " / "P is N bytes into " */
static const char *where(const void *p, const void *base)
{
	static char b[64];
	size_t off = (size_t)((const char *)p - (const char *)base);
	if (off)
		snprintf(b, sizeof b, "%p is %zu bytes into ", p, off);
	else
		snprintf(b, sizeof b, "%p is the start of ", p);
	return b;
}

/* alloc_describe(p) starts with the text made from the format (and, with
 * tail, ends with tail). */
#define WANT_TAIL(p_, tail_, ...) do { \
	char w_[512], g_[1024]; const char *t_ = (tail_); \
	snprintf(w_, sizeof w_, __VA_ARGS__); \
	hu_describe((p_), g_, sizeof g_); \
	size_t gl_ = strlen(g_), tl_ = t_ ? strlen(t_) : 0; \
	CHECKF(!strncmp(g_, w_, strlen(w_)) && (t_ || gl_ == strlen(w_)) && \
	       (!t_ || (gl_ >= tl_ && !strcmp(g_ + gl_ - tl_, t_))), \
	       "\n  got  \"%s\"\n  want \"%s%s%s\"", g_, w_, t_ ? "..." : "", t_ ? t_ : ""); \
	} while (0)
#define WANT(p_, ...) WANT_TAIL(p_, NULL, __VA_ARGS__)

static int first_load(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (*info->dlpi_name)
		return 0; /* the executable comes first, with no name */
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD && info->dlpi_phdr[i].p_offset == 0) {
			*(uintptr_t *)arg = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
			return 1;
		}
	return 1;
}

static void statics(void)
{
	struct alloc_info in = inner(bss_array + 10);
	WANT(bss_array + 10, "%sstatic variable `bss_array' (%zu bytes) in %s .bss", where(bss_array + 10, in.base), in.size, exe);
	in = inner(&data_var);
	WANT(&data_var, "%sstatic variable `data_var' (%zu bytes) in %s .data", where(&data_var, in.base), in.size, exe);
	const char *m = (const char *)statics;
	in = inner(m + 3);
	WANT(m + 3, "%sstatic function `statics' (%zu bytes) in %s .text", where(m + 3, in.base), in.size, exe);
	uintptr_t hdr = 0;
	dl_iterate_phdr(first_load, &hdr);
	CHECK(hdr != 0);
	in = inner((void *)hdr);
	WANT((void *)hdr, "%sa r-- segment (%zu bytes) of %s, in no section", where((void *)hdr, in.base), in.size, exe);
}

static __attribute__((noinline)) void frames(void)
{
	volatile char local[64];
	local[0] = 1;
	const void *p = (const void *)&local[5];
	struct alloc_info in = inner(p);
	WANT(p, "%sthe stack frame of frames (%zu bytes) in thread %d", where(p, in.base), in.size, tid);
	const char *below = (const char *)__builtin_frame_address(0) - 16384;
	in = inner(below);
	WANT(below, "%p is in the stack of thread %d (%zu bytes at %p), below the live frames", (const void *)below, tid,
	     in.size, in.base);
}

static void start_up(char **argv, char **envp)
{
	struct alloc_info in = inner(argv);
	WANT(argv, "%sthe argv array (%zu bytes) in the process start-up area", where(argv, in.base), in.size);
	in = inner(envp + 1);
	WANT(envp + 1, "%sthe envp array (%zu bytes) in the process start-up area", where(envp + 1, in.base), in.size);
	char **e = envp;
	while (*e)
		e++;
	in = inner(e + 3);
	WANT(e + 3, "%sthe auxv array (%zu bytes) in the process start-up area", where(e + 3, in.base), in.size);
	in = inner(argv - 1);
	WANT(argv - 1, "%sthe process start-up area (%zu bytes), in no array or string", where(argv - 1, in.base), in.size);
	in = inner(argv[1] + 2);
	WANT(argv[1] + 2, "%sthe string \"short arg\" (%zu bytes) in the process start-up area", where(argv[1] + 2, in.base),
	     in.size);
}

static void mappings(void)
{
	char tail[64];
	snprintf(tail, sizeof tail, " by thread %d", tid);
	char *an = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(an != MAP_FAILED);
	struct alloc_info in = inner(an + 10);
	WANT_TAIL(an + 10, tail, "%sa 65536-byte anonymous mapping (rw-) made at %p ", where(an + 10, in.base), in.site);

	char path[] = "/tmp/describe_levels.XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(write(fd, "0123456789", 10) == 10);
	char *fm = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(fm != MAP_FAILED);
	in = inner(fm + 5);
	WANT_TAIL(fm + 5, tail, "%sa 4096-byte file mapping (r--) of %s made at %p ", where(fm + 5, in.base), path, in.site);
	munmap(fm, 4096);
	close(fd);
	unlink(path);

	/* 8192 bytes rw- between two PROT_NONE pages of its own: the kernel
	 * would merge a lone anonymous mapping with a neighbour of the same
	 * protection, and /proc/self/maps would show them as one */
	char *res = (char *)syscall(SYS_mmap, NULL, 4 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(res != MAP_FAILED);
	char *raw = res + 4096;
	CHECK(syscall(SYS_mprotect, raw, 8192, PROT_READ | PROT_WRITE) == 0);
	WANT(raw + 5, "%sa 8192-byte anonymous mapping (rw-), made by the C library or the loader", where(raw + 5, raw));

	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id >= 0) {
		char *sh = shmat(id, NULL, 0);
		shmctl(id, IPC_RMID, NULL);
		CHECK(sh != (void *)-1);
		in = inner(sh + 1);
		WANT_TAIL(sh + 1, tail, "%sa 4096-byte shared memory segment (rw-) made at %p ", where(sh + 1, in.base), in.site);
		shmdt(sh);
	}
	munmap(an, 1 << 16);
}

/* Whether the kernel shows a [heap] mapping (a brk heap in use). */
static int has_brk_heap(void)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, "[heap]") != NULL;
	fclose(f);
	return found;
}

static void heap(void)
{
	char tail[64];
	snprintf(tail, sizeof tail, " by thread %d", tid);
	char *p = malloc(168);
	CHECK(p != NULL);
	WANT_TAIL(p + 12, tail, "%p is 12 bytes into a 168-byte malloc chunk allocated at %p ", (void *)(p + 12),
	          alloc_get_site(p));
	WANT_TAIL(p, tail, "%p is the start of a 168-byte malloc chunk allocated at %p ", (void *)p, alloc_get_site(p));
	/* the brk heap's last byte, when malloc uses the brk heap (ASan's
	 * allocator does not: then the kernel shows no [heap] mapping) */
	if (has_brk_heap()) {
		char *top = (char *)sbrk(0) - 1;
		struct alloc_info in = inner(top);
		if (!strcmp(hu_name(&in), "brk"))
			WANT(top, "%sthe brk heap (%zu bytes), in no live malloc chunk", where(top, in.base), in.size);
	}
	free(p);
}

static void custom(void)
{
	char tail[64];
	snprintf(tail, sizeof tail, " by thread %d", tid);
	char *arena = malloc(4096);
	CHECK(arena != NULL);
	struct allocator *pool = memlens_allocator_create("pool"), *sub = memlens_allocator_create("sub");
	CHECK(pool && sub);
	CHECK_EQ(memlens_note_alloc(pool, arena + 64, 128, NULL), 0);
	WANT_TAIL(arena + 70, tail, "%p is 6 bytes into a 128-byte allocation of custom allocator \"pool\" (inside a malloc chunk) made at %p ",
	          (void *)(arena + 70), alloc_get_site(arena + 70));
	CHECK_EQ(memlens_note_alloc(sub, arena + 64, 32, NULL), 0);
	WANT_TAIL(arena + 70, tail, "%p is 6 bytes into a 32-byte allocation of custom allocator \"sub\" (inside a pool custom) made at %p ",
	          (void *)(arena + 70), alloc_get_site(arena + 70));
	CHECK_EQ(memlens_note_alloc(pool, bss_array, 16, NULL), 0);
	WANT_TAIL(bss_array + 4, tail, "%p is 4 bytes into a 16-byte allocation of custom allocator \"pool\" (inside a static variable) made at %p ",
	          (void *)(bss_array + 4), alloc_get_site(bss_array + 4));
	struct allocator *st = memlens_allocator_create("static");
	CHECK(st != NULL);
	CHECK_EQ(memlens_note_alloc(st, arena + 2000, 64, NULL), 0);
	struct alloc_info o = outer(arena + 2010);
	CHECK_STREQ(hu_name(&o), "malloc");
	WANT_TAIL(arena + 2010, tail, "%p is 10 bytes into a 64-byte allocation of custom allocator \"static\" (inside a malloc chunk) made at %p ",
	          (void *)(arena + 2010), alloc_get_site(arena + 2010));
	memlens_allocator_destroy(st);
	memlens_allocator_destroy(sub);
	memlens_allocator_destroy(pool);
	free(arena);
}

int main(int argc, char **argv, char **envp)
{
	if (argc < 2) { /* again, with a known argument */
		char *args[] = { argv[0], "short arg", NULL };
		execve("/proc/self/exe", args, envp);
		CHECKF(0, "execve: %s", strerror(errno));
	}
	char link[512];
	ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
	CHECK(n > 0);
	link[n] = 0;
	snprintf(exe, sizeof exe, "%s", strrchr(link, '/') + 1);
	tid = (int)syscall(SYS_gettid);
	statics();
	frames();
	start_up(argv, envp);
	mappings();
	heap();
	custom();
	return 0;
}
