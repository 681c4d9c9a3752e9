#!/bin/bash
# hier_dlopen: a library loaded with dlopen answers "static" (object ->
# segment -> section -> symbol) for its variables and functions, with the
# symbol's address and st_size (dladdr1) and its name in alloc_describe; the
# object level is its page span.  After dlclose (really unloaded: RTLD_NOLOAD
# finds nothing) its old addresses no longer answer the old symbol; a
# mapping made there answers "mmap".  dlopen again answers again; a second
# library with other symbols loaded where the first was answers its own
# symbols (no stale tables); 30 dlopen/dlclose rounds.
# TIMEOUT: 120
. "$ROOT/tests/lib.sh"
need_lib
linked_prog_env

# Two libraries of the same layout, with symbols of different sizes.
cat > liba.c <<'C'
int hierdl_table[50] = { 1, 2, 3 };
char hierdl_bss[1000];
const long hierdl_const[20] = { 7, 8, 9 };
__attribute__((noinline)) int hierdl_fn(int x)
{
	int s = 0;
	for (int i = 0; i < x; i++)
		s += hierdl_table[i % 50] + hierdl_bss[i % 1000] + (int)hierdl_const[i % 20];
	return s;
}
C
cat > libb.c <<'C'
int hierdl_other[30] = { 4, 5, 6 };
char hierdl_other_bss[3000];
const long hierdl_other_const[7] = { 1 };
__attribute__((noinline)) int hierdl_other_fn(int x)
{
	return hierdl_other[x % 30] + hierdl_other_bss[x % 3000] + (int)hierdl_other_const[x % 7] + 1;
}
C
cat > prog.c <<'C'
#include "hier_util.h"
#include <dlfcn.h>
#include <link.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

struct span { const char *want; uintptr_t lo, hi; int found; };

static int span_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	struct span *s = arg;
	(void)sz;
	if (!strstr(info->dlpi_name, s->want))
		return 0;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t l = info->dlpi_addr + ph->p_vaddr, h = l + ph->p_memsz;
		lo = l < lo ? l : lo;
		hi = h > hi ? h : hi;
	}
	s->lo = lo & ~4095ul;
	s->hi = (hi + 4095) & ~4095ul;
	s->found = 1;
	return 0;
}

/* The page span of the loaded object whose name contains want. */
static struct span span_of(const char *want)
{
	struct span s = { want, 0, 0, 0 };
	dl_iterate_phdr(span_cb, &s);
	CHECKF(s.found, "%s is not loaded", want);
	return s;
}

struct symq { const char *name; char *addr; size_t size; };

/* name in the library h: static, exact address and st_size, 4 levels, the
 * object level its span, alloc_describe naming it. */
static struct symq expect_symbol(void *h, const char *name, const struct span *sp)
{
	struct symq q = { name, dlsym(h, name), 0 };
	CHECKF(q.addr != NULL, "dlsym %s: %s", name, dlerror());
	Dl_info di;
	const ElfW(Sym) *sym = NULL;
	CHECKF(dladdr1(q.addr, &di, (void **)&sym, RTLD_DL_SYMENT) && sym && sym->st_size, "dladdr1 %s", name);
	q.size = sym->st_size;
	size_t offs[] = { 0, 1, q.size / 2, q.size - 1 };
	for (int k = 0; k < 4; k++) {
		const char *p = q.addr + offs[k];
		struct alloc_info c[HU_MAX];
		HU_EXPECT_CHAIN(p, c, "static", "static", "static", "static");
		CHECKF(c[3].base == q.addr && c[3].size == q.size, "%s+%zu: symbol level %p+%#zx, want %p+%#zx", name,
		       offs[k], c[3].base, c[3].size, (void *)q.addr, q.size);
		CHECKF(c[0].base == (void *)sp->lo && c[0].size == sp->hi - sp->lo,
		       "%s+%zu: object level %p+%#zx, want the library's span %#lx+%#lx", name, offs[k], c[0].base,
		       c[0].size, (unsigned long)sp->lo, (unsigned long)(sp->hi - sp->lo));
	}
	char buf[512];
	hu_describe(q.addr + q.size / 2, buf, sizeof buf);
	CHECKF(strstr(buf, name) && strstr(buf, "static"), "%s: \"%s\"", name, buf);
	return q;
}

/* After dlclose: q's address is not q's symbol any more.  strict: nothing
 * else was loaded since, so no static object may start where it did;
 * otherwise another library may be there, but not q's symbol. */
static void expect_gone(const struct symq *q, const struct span *sp, int strict)
{
	const char *ps[] = { q->addr, q->addr + q->size / 2, q->addr + q->size - 1 };
	for (int k = 0; k < 3; k++) {
		struct alloc_info c[HU_MAX];
		int n = hu_chain(ps[k], c);
		if (strict)
			CHECKF(n == 0 || strcmp(hu_name(&c[0]), "static") || c[0].base != (void *)sp->lo,
			       "%s (%p) after dlclose: %s", q->name, (const void *)ps[k], hu_chain_str(ps[k]));
		else
			CHECKF(n == 0 || strcmp(hu_name(&c[n - 1]), "static") || c[n - 1].base != q->addr ||
			       c[n - 1].size != q->size,
			       "%s (%p) after dlclose: %s", q->name, (const void *)ps[k], hu_chain_str(ps[k]));
		char buf[512];
		if (alloc_describe(ps[k], buf, sizeof buf) >= 0)
			CHECKF(!strstr(buf, q->name), "%s after dlclose: \"%s\"", q->name, buf);
	}
}

int main(void)
{
	const char *names_a[] = { "hierdl_table", "hierdl_bss", "hierdl_const", "hierdl_fn" };
	const char *names_b[] = { "hierdl_other", "hierdl_other_bss", "hierdl_other_const", "hierdl_other_fn" };
	struct symq qa[4], qb[4];

	void *h = dlopen("./liba.so", RTLD_NOW);
	CHECKF(h != NULL, "dlopen liba.so: %s", dlerror());
	struct span sa = span_of("liba.so");
	for (int i = 0; i < 4; i++)
		qa[i] = expect_symbol(h, names_a[i], &sa);
	int (*fn)(int) = (int (*)(int))(void *)qa[3].addr;
	CHECK(fn(10) > 0);

	CHECK_EQ(dlclose(h), 0);
	CHECKF(dlopen("./liba.so", RTLD_NOLOAD | RTLD_NOW) == NULL, "liba.so still loaded after dlclose");
	for (int i = 0; i < 4; i++)
		expect_gone(&qa[i], &sa, 1);
	for (uintptr_t a = sa.lo; a < sa.hi; a += 4096) {
		struct alloc_info c[HU_MAX];
		int n = hu_chain((void *)a, c);
		CHECKF(n == 0 || strcmp(hu_name(&c[0]), "static") || c[0].base != (void *)sa.lo,
		       "page %#lx of the unloaded liba.so: %s", (unsigned long)a, hu_chain_str((void *)a));
	}
	/* something else mapped where it was */
	char *m = mmap((void *)sa.lo, 2 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m == (void *)sa.lo) {
		struct alloc_info c[HU_MAX];
		HU_EXPECT_CHAIN(m + 100, c, "mmap");
		CHECKF(c[0].base == m && c[0].size == 2 * 4096, "mmap at the old library: %s", hu_chain_str(m));
		CHECK_EQ(munmap(m, 2 * 4096), 0);
	}

	/* again */
	h = dlopen("./liba.so", RTLD_NOW);
	CHECKF(h != NULL, "dlopen liba.so again: %s", dlerror());
	sa = span_of("liba.so");
	for (int i = 0; i < 4; i++)
		qa[i] = expect_symbol(h, names_a[i], &sa);
	CHECK_EQ(dlclose(h), 0);
	for (int i = 0; i < 4; i++)
		expect_gone(&qa[i], &sa, 1);

	/* another library, likely where the first one was */
	void *hb = dlopen("./libb.so", RTLD_NOW);
	CHECKF(hb != NULL, "dlopen libb.so: %s", dlerror());
	struct span sb = span_of("libb.so");
	if (sb.lo != sa.lo)
		printf("note: libb.so loaded at %#lx, liba.so was at %#lx\n", (unsigned long)sb.lo, (unsigned long)sa.lo);
	for (int i = 0; i < 4; i++)
		qb[i] = expect_symbol(hb, names_b[i], &sb);
	/* the old addresses of liba's symbols: libb's or nothing, not liba's */
	for (int i = 0; i < 4; i++)
		expect_gone(&qa[i], &sa, 0);
	CHECK_EQ(dlclose(hb), 0);
	for (int i = 0; i < 4; i++)
		expect_gone(&qb[i], &sb, 1);

	/* rounds: both libraries in and out */
	for (int r = 0; r < 30; r++) {
		void *ha = dlopen("./liba.so", RTLD_NOW);
		hb = dlopen("./libb.so", RTLD_NOW);
		CHECK(ha && hb);
		sa = span_of("liba.so");
		sb = span_of("libb.so");
		qa[r % 4] = expect_symbol(ha, names_a[r % 4], &sa);
		qb[r % 4] = expect_symbol(hb, names_b[r % 4], &sb);
		if (r & 1) {
			CHECK_EQ(dlclose(ha), 0);
			expect_gone(&qa[r % 4], &sa, 1);
			qb[(r + 1) % 4] = expect_symbol(hb, names_b[(r + 1) % 4], &sb);
			CHECK_EQ(dlclose(hb), 0);
		} else {
			CHECK_EQ(dlclose(hb), 0);
			expect_gone(&qb[r % 4], &sb, 1);
			qa[(r + 1) % 4] = expect_symbol(ha, names_a[(r + 1) % 4], &sa);
			CHECK_EQ(dlclose(ha), 0);
		}
		expect_gone(&qa[r % 4], &sa, 1);
		expect_gone(&qb[r % 4], &sb, 1);
	}
	return 0;
}
C

$cc -shared -fPIC -g -O1 -o liba.so liba.c || fail "liba.so does not build"
$cc -shared -fPIC -g -O1 -o libb.so libb.c || fail "libb.so does not build"
# shellcheck disable=SC2086
$cc $TCFLAGS $san -I"$ROOT/tests/unit" -o prog prog.c -L"$BUILD/lib" -Wl,-rpath,"$BUILD/lib" -lmemlens -ldl -rdynamic $san \
	|| fail "the program does not build"
run p env "${envv[@]}" ./prog
cat p.out
cat p.err >&2
expect_rc p 0 "hier_dlopen"
