// TIMEOUT: 120
/* hier_sweep: every mapped user address lies in a chain.  For each line of
 * /proc/self/maps, its first, second, middle and last bytes and random ones
 * answer a non-empty chain that passes the structural checks (levels
 * numbered from 0, each containing the address and within the one before,
 * the single queries and alloc_get_info agreeing with the innermost level,
 * the short-buffer chain giving the outermost), with an outermost allocator
 * that fits the line: a loaded object's file "static", [heap] "brk",
 * [stack] "stack"; and the outermost level lies within the mapped lines
 * around it (no region larger than what is mapped, except a stack's room to
 * grow).  Also every byte of 300 live malloc chunks, and unmapped addresses
 * between lines answer nothing. */
#include "hier_util.h"
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>

struct ml { uintptr_t lo, hi; char perm[5]; char path[512]; };
static struct ml lines[8192];
static int nlines;
static char mapsbuf[1 << 20];

static void read_lines(void)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	CHECK(fd >= 0);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, mapsbuf + n, sizeof mapsbuf - 1 - n)) > 0)
		n += (size_t)r;
	mapsbuf[n] = 0;
	close(fd);
	nlines = 0;
	for (char *l = mapsbuf; *l && nlines < 8192;) {
		char *e = strchr(l, '\n');
		if (e)
			*e = 0;
		struct ml *m = &lines[nlines];
		unsigned long lo, hi;
		int pos = 0;
		if (sscanf(l, "%lx-%lx %4s %*s %*s %*s %n", &lo, &hi, m->perm, &pos) >= 3) {
			m->lo = lo;
			m->hi = hi;
			snprintf(m->path, sizeof m->path, "%s", pos ? l + pos : "");
			nlines++;
		}
		if (!e)
			break;
		l = e + 1;
	}
	CHECK(nlines > 10);
}

struct objs { char names[64][512]; int n; };

static int obj_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	struct objs *o = arg;
	(void)sz;
	if (info->dlpi_name[0] && o->n < 64)
		snprintf(o->names[o->n++], 512, "%s", info->dlpi_name);
	return 0;
}

static struct objs objs;

static int is_object_file(const char *path)
{
	char a[4096], b[4096];
	if (path[0] != '/')
		return 0;
	if (!realpath(path, a))
		return 0;
	char exe[4096];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (el > 0) {
		exe[el] = 0;
		if (!strcmp(a, exe))
			return 1;
	}
	for (int i = 0; i < objs.n; i++)
		if (realpath(objs.names[i], b) && !strcmp(a, b))
			return 1;
	return 0;
}

/* Is a mapped now?  (memlens and the C library map memory lazily while
 * the sweep runs, e.g. for symbol tables.) */
static int mapped_now(uintptr_t a)
{
	static char buf[1 << 20];
	int fd = open("/proc/self/maps", O_RDONLY);
	CHECK(fd >= 0);
	size_t n = 0;
	ssize_t r;
	while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	close(fd);
	for (char *l = buf; *l;) {
		unsigned long lo, hi;
		if (sscanf(l, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi)
			return 1;
		char *e = strchr(l, '\n');
		if (!e)
			break;
		l = e + 1;
	}
	return 0;
}

static uintptr_t my_sp;

/* Addresses that are memlens's own frames while it answers, or may be:
 * below this function's frame on the calling thread's stack. */
static int volatile_stack(uintptr_t a)
{
	return a < my_sp && a + (1u << 20) > my_sp;
}

static void sweep_line(const struct ml *m, uint64_t *seed)
{
	if (m->lo >= 0x800000000000ul)
		return; /* [vsyscall]: not a user address */
	int obj = is_object_file(m->path);
	uintptr_t probes[40];
	int np = 0;
	size_t len = m->hi - m->lo;
	probes[np++] = m->lo;
	probes[np++] = m->lo + 1;
	probes[np++] = m->lo + len / 2;
	probes[np++] = m->hi - 8;
	probes[np++] = m->hi - 1;
	while (np < 40)
		probes[np++] = m->lo + ut_rand(seed) % len;
	for (int k = 0; k < np; k++) {
		uintptr_t a = probes[k];
		if (volatile_stack(a))
			continue;
		struct alloc_info c[HU_MAX];
		int n = hu_chain((void *)a, c);
		CHECKF(n >= 1, "mapped %#lx (%lx-%lx %s %s) answers nothing", (unsigned long)a, (unsigned long)m->lo,
		       (unsigned long)m->hi, m->perm, m->path);
		const char *outer = hu_name(&c[0]);
		CHECKF(!strcmp(outer, "static") || !strcmp(outer, "mmap") || !strcmp(outer, "brk") ||
		       !strcmp(outer, "stack"), "%#lx (%s): outermost allocator %s", (unsigned long)a, m->path, outer);
		if (obj)
			CHECKF(!strcmp(outer, "static"), "%#lx in %s answers %s", (unsigned long)a, m->path,
			       hu_chain_str((void *)a));
		if (!strcmp(m->path, "[heap]"))
			CHECKF(!strcmp(outer, "brk"), "%#lx in [heap] answers %s", (unsigned long)a, hu_chain_str((void *)a));
		if (!strcmp(m->path, "[stack]"))
			CHECKF(!strcmp(outer, "stack"), "%#lx in [stack] answers %s", (unsigned long)a,
			       hu_chain_str((void *)a));
		/* the outermost level is mapped all through: from the line
		 * holding its base to the one holding its last byte, no hole
		 * (a stack may extend below its lowest page: room to grow) */
		uintptr_t b = (uintptr_t)c[0].base, e = b + c[0].size;
		if (!strcmp(outer, "stack"))
			b = a;
		uintptr_t cur = b;
		for (int i = 0; i < nlines && cur < e; i++)
			if (lines[i].lo <= cur && cur < lines[i].hi)
				cur = lines[i].hi;
		CHECKF(cur >= e || mapped_now(cur), "%#lx (%s): the outermost level %s %p+%#zx has an unmapped hole at %#lx",
		       (unsigned long)a, m->path, outer, c[0].base, c[0].size, (unsigned long)cur);
	}
}

int main(void)
{
	uint64_t seed = 0x1234567;
	char *chunks[300];
	for (int i = 0; i < 300; i++) {
		chunks[i] = malloc(1 + ut_rand(&seed) % 3000);
		CHECK(chunks[i] != NULL);
	}
	char *big = malloc(5u << 20);
	void *m = mmap(NULL, 64 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	my_sp = (uintptr_t)__builtin_frame_address(0);
	dl_iterate_phdr(obj_cb, &objs);
	read_lines();
	for (int i = 0; i < nlines; i++)
		sweep_line(&lines[i], &seed);
	/* unmapped addresses: just below and above each line, when no line
	 * is there */
	for (int i = 0; i < nlines; i++) {
		uintptr_t probes[] = { lines[i].lo - 1, lines[i].hi };
		for (int k = 0; k < 2; k++) {
			uintptr_t a = probes[k];
			int mapped = 0;
			for (int j = 0; j < nlines; j++)
				mapped |= lines[j].lo <= a && a < lines[j].hi;
			if (mapped || volatile_stack(a) || a >= 0x800000000000ul || a < 4096)
				continue;
			struct alloc_info c[HU_MAX];
			int n = hu_chain((void *)a, c);
			/* a stack's room to grow and the brk heap's last page may
			 * answer; nothing else */
			CHECKF(n == 0 || !strcmp(hu_name(&c[0]), "stack") || !strcmp(hu_name(&c[0]), "brk") || mapped_now(a),
			       "unmapped %#lx (next to %lx-%lx %s) answers %s", (unsigned long)a, (unsigned long)lines[i].lo,
			       (unsigned long)lines[i].hi, lines[i].path, hu_chain_str((void *)a));
		}
	}
	/* every byte of the chunks */
	for (int i = 0; i < 300; i++) {
		size_t sz = alloc_get_size(chunks[i]);
		CHECK(sz >= 1);
		for (size_t o = 0; o < sz; o++) {
			struct alloc_info c[HU_MAX];
			int n = alloc_get_chain(chunks[i] + o, c, HU_MAX);
			CHECKF(n == 2 && c[1].base == chunks[i] && c[1].size == sz && alloc_get_base(chunks[i] + o) == chunks[i],
			       "chunk %p+%zu of %zu: %s", (void *)chunks[i], o, sz, hu_chain_str(chunks[i] + o));
		}
		hu_chain(chunks[i] + sz - 1, (struct alloc_info[HU_MAX]){ 0 });
	}
	for (int i = 0; i < 300; i++)
		free(chunks[i]);
	free(big);
	munmap(m, 64 * 4096);
	return 0;
}
